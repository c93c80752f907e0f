// Shuffled mini-batches: a permutation drawn from the counter-based RNG (a pure function of
// the stream, so every rank can draw the same one) and a kernel gathering rows by index.
#pragma once

#include <cstdint>
#include <vector>

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/core/rng.hpp"

namespace eqflow {

//! A uniformly random permutation of 0..n-1 (sort by Philox keys), computed on the host.
std::vector<std::int64_t> random_permutation(std::size_t n, const CounterRng& rng);

//! dst(r, :) = src(index(offset + r), :) for r < dst.extent(0).
//! src (N, d), index (M), dst (B, d).
template <class Scalar>
void gather_rows(const Kokkos::View<const Scalar**, Layout, MemSpace>& src,
                 const View1<const std::int64_t>& index, std::size_t offset,
                 const View2<Scalar>& dst);

//! A host vector of indices on the device.
View1<std::int64_t> to_device(const std::vector<std::int64_t>& values, const char* label);

}  // namespace eqflow
