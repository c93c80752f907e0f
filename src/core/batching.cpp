// Random permutations and row gathers for shuffled mini-batches.
#include "eqflow/core/batching.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "eqflow/core/error.hpp"

namespace eqflow {

std::vector<std::int64_t> random_permutation(std::size_t n, const CounterRng& rng) {
  std::vector<std::uint64_t> keys(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = rng.bits(i);
    keys[i] = (std::uint64_t(b.v[0]) << 32) | b.v[1];
  }
  std::vector<std::int64_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  std::sort(perm.begin(), perm.end(), [&](std::int64_t a, std::int64_t b) {
    return keys[a] != keys[b] ? keys[a] < keys[b] : a < b;
  });
  return perm;
}

template <class Scalar>
void gather_rows(const Kokkos::View<const Scalar**, Layout, MemSpace>& src,
                 const View1<const std::int64_t>& index, std::size_t offset,
                 const View2<Scalar>& dst) {
  require_shape(src.extent(1) == dst.extent(1), "gather_rows: column counts differ");
  require_shape(offset + dst.extent(0) <= index.extent(0), "gather_rows: index range too short");
  const std::size_t d = dst.extent(1);
  Kokkos::parallel_for(
      "eqflow::gather_rows", RangePolicy(0, dst.size()), KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t r = i / d, j = i % d;
        dst(r, j) = src(index(offset + r), j);
      });
}

View1<std::int64_t> to_device(const std::vector<std::int64_t>& values, const char* label) {
  View1<std::int64_t> out(std::string(label), values.size());
  auto host = Kokkos::create_mirror_view(out);
  for (std::size_t i = 0; i < values.size(); ++i) host(i) = values[i];
  Kokkos::deep_copy(out, host);
  return out;
}

template void gather_rows<float>(const Kokkos::View<const float**, Layout, MemSpace>&,
                                 const View1<const std::int64_t>&, std::size_t,
                                 const View2<float>&);
template void gather_rows<double>(const Kokkos::View<const double**, Layout, MemSpace>&,
                                  const View1<const std::int64_t>&, std::size_t,
                                  const View2<double>&);

}  // namespace eqflow
