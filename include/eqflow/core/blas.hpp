// Dense matrix products through KokkosKernels (OpenBLAS on the host, cuBLAS on CUDA). One
// wrapper so that only src/core/blas.cpp includes KokkosBlas, and so that the Kokkos 3.4
// signature (no execution-space argument) is written once.
#pragma once

#include "eqflow/core/kokkos_types.hpp"

namespace eqflow {

//! C = alpha op(A) op(B) + beta C, with op = "N" or "T". Throws ShapeError on a mismatch.
//! A (m, k) or (k, m); B (k, n) or (n, k); C (m, n). Zero-sized products only scale C.
template <class Scalar>
void gemm(const char* trans_a, const char* trans_b, Scalar alpha,
          const Kokkos::View<const Scalar**, Layout, MemSpace>& a,
          const Kokkos::View<const Scalar**, Layout, MemSpace>& b, Scalar beta,
          const Kokkos::View<Scalar**, Layout, MemSpace>& c);

//! Number of floating point operations of one gemm (2 m n k).
inline double gemm_flops(double m, double n, double k) {
  return 2.0 * m * n * k;
}

}  // namespace eqflow
