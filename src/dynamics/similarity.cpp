// |cosine| between two fields' velocities at the same points (DESIGN.md "Uniqueness"),
// instantiated for float and double.
#include "eqflow/dynamics/similarity.hpp"

#include <fmt/core.h>

#include <cmath>
#include <limits>
#include <string>

#include "eqflow/core/error.hpp"

namespace eqflow::dynamics {
namespace {

//! sum_i u_i w_i over the flattened Views, in double.
template <class Scalar>
double dot(const Kokkos::View<const Scalar**, Layout, MemSpace>& u,
           const Kokkos::View<const Scalar**, Layout, MemSpace>& w) {
  double total = 0;
  Kokkos::parallel_reduce(
      "eqflow::dynamics::abs_cosine_dot", RangePolicy(0, u.size()),
      KOKKOS_LAMBDA(const std::size_t i, double& sum) {
        sum += double(u.data()[i]) * double(w.data()[i]);
      },
      total);
  return total;
}

}  // namespace

template <class Scalar>
double abs_cosine(const Kokkos::View<const Scalar**, Layout, MemSpace>& a,
                  const Kokkos::View<const Scalar**, Layout, MemSpace>& b) {
  if (a.extent(0) != b.extent(0) || a.extent(1) != b.extent(1)) {
    throw ShapeError(fmt::format("abs_cosine: shapes ({}, {}) and ({}, {}) differ", a.extent(0),
                                 a.extent(1), b.extent(0), b.extent(1)));
  }
  const double ab = dot<Scalar>(a, b), aa = dot<Scalar>(a, a), bb = dot<Scalar>(b, b);
  if (aa == 0.0 || bb == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return std::abs(ab) / std::sqrt(aa * bb);
}

template <class Scalar>
double field_similarity(VectorField<Scalar>& a, VectorField<Scalar>& b,
                        const Kokkos::View<const Scalar**, Layout, MemSpace>& x) {
  View2<Scalar> va(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string("eqflow::similarity::va")),
      x.extent(0), x.extent(1));
  View2<Scalar> vb(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string("eqflow::similarity::vb")),
      x.extent(0), x.extent(1));
  a.velocity(x, va);
  b.velocity(x, vb);
  return abs_cosine<Scalar>(va, vb);
}

template double abs_cosine<float>(const Kokkos::View<const float**, Layout, MemSpace>&,
                                  const Kokkos::View<const float**, Layout, MemSpace>&);
template double abs_cosine<double>(const Kokkos::View<const double**, Layout, MemSpace>&,
                                   const Kokkos::View<const double**, Layout, MemSpace>&);
template double field_similarity<float>(VectorField<float>&, VectorField<float>&,
                                        const Kokkos::View<const float**, Layout, MemSpace>&);
template double field_similarity<double>(VectorField<double>&, VectorField<double>&,
                                         const Kokkos::View<const double**, Layout, MemSpace>&);

}  // namespace eqflow::dynamics
