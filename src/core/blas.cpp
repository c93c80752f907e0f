// The one translation unit that includes KokkosBlas: gemm for float and double.
#include "eqflow/core/blas.hpp"

#include <fmt/core.h>
#include <KokkosBlas3_gemm.hpp>

#include "eqflow/core/error.hpp"

namespace eqflow {

template <class Scalar>
void gemm(const char* trans_a, const char* trans_b, Scalar alpha,
          const Kokkos::View<const Scalar**, Layout, MemSpace>& a,
          const Kokkos::View<const Scalar**, Layout, MemSpace>& b, Scalar beta,
          const Kokkos::View<Scalar**, Layout, MemSpace>& c) {
  const bool ta = trans_a[0] == 'T' || trans_a[0] == 't';
  const bool tb = trans_b[0] == 'T' || trans_b[0] == 't';
  const std::size_t m = ta ? a.extent(1) : a.extent(0);
  const std::size_t k = ta ? a.extent(0) : a.extent(1);
  const std::size_t kb = tb ? b.extent(1) : b.extent(0);
  const std::size_t n = tb ? b.extent(0) : b.extent(1);
  if (k != kb || c.extent(0) != m || c.extent(1) != n) {
    throw ShapeError(fmt::format("gemm: op(A) is {}x{}, op(B) is {}x{}, C is {}x{}", m, k, kb, n,
                                 c.extent(0), c.extent(1)));
  }
  if (m == 0 || n == 0) return;
  if (k == 0) {
    Kokkos::parallel_for(
        "eqflow::gemm_scale", RangePolicy(0, c.span()), KOKKOS_LAMBDA(const std::size_t i) {
          c.data()[i] = beta == Scalar(0) ? Scalar(0) : beta * c.data()[i];
        });
    return;
  }
  KokkosBlas::gemm(trans_a, trans_b, alpha, a, b, beta, c);
}

template void gemm<float>(const char*, const char*, float,
                          const Kokkos::View<const float**, Layout, MemSpace>&,
                          const Kokkos::View<const float**, Layout, MemSpace>&, float,
                          const Kokkos::View<float**, Layout, MemSpace>&);
template void gemm<double>(const char*, const char*, double,
                           const Kokkos::View<const double**, Layout, MemSpace>&,
                           const Kokkos::View<const double**, Layout, MemSpace>&, double,
                           const Kokkos::View<double**, Layout, MemSpace>&);

}  // namespace eqflow
