// Unbiased RBF MMD^2 as Kokkos reductions (double accumulation) and its curve along an RK4
// transport, instantiated for float and double.
#include "eqflow/dynamics/mmd.hpp"

#include <fmt/core.h>

#include <string>

#include "eqflow/core/error.hpp"
#include "eqflow/core/math.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/dynamics/integrators.hpp"

namespace eqflow::dynamics {
namespace {

//! sum_{i, j} k(a_i, b_j), without the terms i == j when `skip_diagonal`. a (n, d), b (m, d).
template <class Scalar>
double kernel_sum(const Kokkos::View<const Scalar**, Layout, MemSpace>& a,
                  const Kokkos::View<const Scalar**, Layout, MemSpace>& b, double inv_two_s2,
                  bool skip_diagonal) {
  const std::size_t m = b.extent(0), d = a.extent(1);
  double total = 0;
  Kokkos::parallel_reduce(
      "eqflow::dynamics::rbf_kernel_sum", RangePolicy(0, a.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i, double& sum) {
        for (std::size_t j = 0; j < m; ++j) {
          if (skip_diagonal && i == j) continue;
          double dist2 = 0;
          for (std::size_t c = 0; c < d; ++c) {
            const double diff = double(a(i, c)) - double(b(j, c));
            dist2 += diff * diff;
          }
          sum += math::exp(-dist2 * inv_two_s2);
        }
      },
      total);
  return total;
}

}  // namespace

template <class Scalar>
double mmd2_rbf(const Kokkos::View<const Scalar**, Layout, MemSpace>& x,
                const Kokkos::View<const Scalar**, Layout, MemSpace>& y, double sigma) {
  ScopedRegion region("eqflow::dynamics::mmd2_rbf");
  const std::size_t n = x.extent(0), m = y.extent(0);
  if (n < 2 || m < 2 || x.extent(1) != y.extent(1)) {
    throw ShapeError(
        fmt::format("mmd2_rbf: clouds ({}, {}) and ({}, {}); need >= 2 points each "
                    "and equal widths",
                    n, x.extent(1), m, y.extent(1)));
  }
  if (!(sigma > 0.0)) throw Error(fmt::format("mmd2_rbf: sigma = {}, expected > 0", sigma));
  const double inv = 1.0 / (2.0 * sigma * sigma);
  const double xx = kernel_sum<Scalar>(x, x, inv, true);
  const double yy = kernel_sum<Scalar>(y, y, inv, true);
  const double xy = kernel_sum<Scalar>(x, y, inv, false);
  const double dn = double(n), dm = double(m);
  return xx / (dn * (dn - 1)) + yy / (dm * (dm - 1)) - 2.0 * xy / (dn * dm);
}

template <class Scalar>
MmdCurve mmd2_curve(VectorField<Scalar>& field,
                    const Kokkos::View<const Scalar**, Layout, MemSpace>& x, Scalar dt,
                    std::size_t steps, std::size_t every, double sigma) {
  ScopedRegion region("eqflow::dynamics::mmd2_curve");
  if (every == 0) throw Error("mmd2_curve: every must be >= 1");
  View2<Scalar> state(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string("eqflow::mmd::state")),
      x.extent(0), x.extent(1));
  Kokkos::deep_copy(state, x);
  Rk4<Scalar> stepper(x.extent(0), x.extent(1));
  MmdCurve curve;
  for (std::size_t s = 0;; ++s) {
    if (s % every == 0) {
      curve.times.push_back(double(s) * double(dt));
      curve.mmd2.push_back(mmd2_rbf<Scalar>(x, state, sigma));
    }
    if (s == steps) break;
    stepper.step(field, state, dt);
  }
  return curve;
}

template double mmd2_rbf<float>(const Kokkos::View<const float**, Layout, MemSpace>&,
                                const Kokkos::View<const float**, Layout, MemSpace>&, double);
template double mmd2_rbf<double>(const Kokkos::View<const double**, Layout, MemSpace>&,
                                 const Kokkos::View<const double**, Layout, MemSpace>&, double);
template MmdCurve mmd2_curve<float>(VectorField<float>&,
                                    const Kokkos::View<const float**, Layout, MemSpace>&, float,
                                    std::size_t, std::size_t, double);
template MmdCurve mmd2_curve<double>(VectorField<double>&,
                                     const Kokkos::View<const double**, Layout, MemSpace>&, double,
                                     std::size_t, std::size_t, double);

}  // namespace eqflow::dynamics
