// Counter-based random numbers (Philox-4x32-10, Salmon et al. 2011). Every number is a pure
// function of (seed, stream, index): no state advances, so results are identical however a
// range of indices is split across ranks, threads, kernels or devices.
#pragma once

#include <cstdint>

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/core/math.hpp"

namespace eqflow {

//! Philox-4x32-10 keyed by (seed, stream); `bits(i)` is the block for counter i.
class CounterRng {
 public:
  KOKKOS_INLINE_FUNCTION CounterRng() = default;
  KOKKOS_INLINE_FUNCTION CounterRng(std::uint64_t seed, std::uint64_t stream)
      : seed_(seed), stream_(stream) {}

  KOKKOS_INLINE_FUNCTION std::uint64_t seed() const { return seed_; }
  KOKKOS_INLINE_FUNCTION std::uint64_t stream() const { return stream_; }
  //! The same seed on another stream (e.g. one stream per training step or per layer).
  KOKKOS_INLINE_FUNCTION CounterRng substream(std::uint64_t stream) const {
    return CounterRng(seed_, stream);
  }

  struct Block {
    std::uint32_t v[4];
  };

  KOKKOS_INLINE_FUNCTION Block bits(std::uint64_t index) const {
    std::uint32_t c0 = static_cast<std::uint32_t>(index);
    std::uint32_t c1 = static_cast<std::uint32_t>(index >> 32);
    std::uint32_t c2 = static_cast<std::uint32_t>(stream_);
    std::uint32_t c3 = static_cast<std::uint32_t>(stream_ >> 32);
    std::uint32_t k0 = static_cast<std::uint32_t>(seed_);
    std::uint32_t k1 = static_cast<std::uint32_t>(seed_ >> 32);
    for (int round = 0; round < 10; ++round) {
      const std::uint64_t p0 = std::uint64_t(0xD2511F53u) * c0;
      const std::uint64_t p1 = std::uint64_t(0xCD9E8D57u) * c2;
      const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1 ^ k0;
      const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3 ^ k1;
      c1 = static_cast<std::uint32_t>(p1);
      c3 = static_cast<std::uint32_t>(p0);
      c0 = n0;
      c2 = n2;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    return Block{{c0, c1, c2, c3}};
  }

  //! Uniform double in the open interval (0, 1), 53 random bits.
  KOKKOS_INLINE_FUNCTION double uniform(std::uint64_t index) const {
    const Block b = bits(index);
    return to_open_unit(b.v[0], b.v[1]);
  }

  //! Standard normal. Box-Muller turns the two 53-bit uniforms of block i / 2 into two
  //! independent normals (cosine and sine branch); index i takes the branch i % 2.
  KOKKOS_INLINE_FUNCTION double normal(std::uint64_t index) const {
    const Block b = bits(index >> 1);
    const double u1 = to_open_unit(b.v[0], b.v[1]);
    const double u2 = to_open_unit(b.v[2], b.v[3]);
    const double radius = math::sqrt(-2.0 * math::log(u1));
    const double angle = 2.0 * math::pi<double> * u2;
    return radius * ((index & 1) ? math::sin(angle) : math::cos(angle));
  }

  //! Both normals of block `pair`: indices 2 pair (first) and 2 pair + 1 (second), as
  //! normal() returns them, for half the cost.
  KOKKOS_INLINE_FUNCTION void normal_pair(std::uint64_t pair, double& first, double& second) const {
    const Block b = bits(pair);
    const double radius = math::sqrt(-2.0 * math::log(to_open_unit(b.v[0], b.v[1])));
    const double angle = 2.0 * math::pi<double> * to_open_unit(b.v[2], b.v[3]);
    first = radius * math::cos(angle);
    second = radius * math::sin(angle);
  }

 private:
  KOKKOS_INLINE_FUNCTION static double to_open_unit(std::uint32_t lo, std::uint32_t hi) {
    const std::uint64_t x = ((std::uint64_t(hi) << 32) | lo) >> 11;  // 53 bits
    return (double(x) + 0.5) * (1.0 / 9007199254740992.0);
  }

  std::uint64_t seed_ = 0;
  std::uint64_t stream_ = 0;
};

//! Fills `out` (n values, any rank flattened in memory order) with uniforms in (lo, hi);
//! element i gets counter `first_index + i`.
template <class View>
void fill_uniform(const View& out, const CounterRng& rng, std::uint64_t first_index,
                  typename View::value_type lo, typename View::value_type hi) {
  using T = typename View::value_type;
  auto* data = out.data();
  Kokkos::parallel_for(
      "eqflow::fill_uniform", RangePolicy(0, out.span()), KOKKOS_LAMBDA(const std::size_t i) {
        data[i] = lo + (hi - lo) * static_cast<T>(rng.uniform(first_index + i));
      });
}

//! Fills `out` with standard normals; element i gets counter `first_index + i`.
template <class View>
void fill_normal(const View& out, const CounterRng& rng, std::uint64_t first_index) {
  using T = typename View::value_type;
  auto* data = out.data();
  const std::uint64_t n = out.span();
  if (n == 0) return;
  // One Philox block per pair of consecutive global indices.
  const std::uint64_t first_pair = first_index >> 1, last_pair = (first_index + n - 1) >> 1;
  Kokkos::parallel_for(
      "eqflow::fill_normal", RangePolicy(0, last_pair - first_pair + 1),
      KOKKOS_LAMBDA(const std::size_t p) {
        double a, b;
        const std::uint64_t pair = first_pair + p;
        rng.normal_pair(pair, a, b);
        const std::uint64_t g = 2 * pair;
        if (g >= first_index) data[g - first_index] = static_cast<T>(a);
        if (g + 1 < first_index + n) data[g + 1 - first_index] = static_cast<T>(b);
      });
}

//! A 64-bit mix (splitmix64 finaliser) for deriving stream ids from names and numbers.
KOKKOS_INLINE_FUNCTION std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace eqflow

namespace eqflow {

//! A child stream of `base` for (purpose, index), e.g. (epoch, step): a pure function of its
//! arguments, so any rank or a resumed run derives the same stream.
KOKKOS_INLINE_FUNCTION CounterRng derive_stream(const CounterRng& base, std::uint64_t purpose,
                                                std::uint64_t index) {
  return base.substream(mix64(base.stream() ^ mix64(purpose * 0x9E3779B97F4A7C15ull + index)));
}

}  // namespace eqflow
