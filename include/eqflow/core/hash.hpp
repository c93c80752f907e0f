// FNV-1a hashes: fixed, self-documenting random stream ids from purpose names, and checksums.
// Header-only and Kokkos-free (host and device code alike can use the constants).
#pragma once

#include <cstddef>
#include <cstdint>

namespace eqflow {

//! FNV-1a (64-bit) of `size` bytes: checksums, and with stream_id fixed, self-documenting
//! stream ids.
constexpr std::uint64_t fnv1a(const unsigned char* data, std::size_t size) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 0x100000001B3ull;
  }
  return h;
}

//! FNV-1a of a purpose's name (e.g. "eqflow.systems.ring.radius"): its random stream.
constexpr std::uint64_t stream_id(const char* name) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (; *name != '\0'; ++name) {
    h ^= static_cast<unsigned char>(*name);
    h *= 0x100000001B3ull;
  }
  return h;
}

}  // namespace eqflow
