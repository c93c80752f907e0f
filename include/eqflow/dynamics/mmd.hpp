// Distribution preservation: the unbiased maximum mean discrepancy (MMD^2) with one RBF
// kernel between two point clouds, and its curve over time while a field transports a cloud
// (DESIGN.md "Distribution preservation").
#pragma once

#include <cstddef>
#include <vector>

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/dynamics/vector_field.hpp"

namespace eqflow::dynamics {

//! Unbiased MMD^2 with k(x, y) = exp(-|x - y|^2 / (2 sigma^2)), X (n, d), Y (m, d):
//!   1/(n(n-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j)
//!   - 2/(n m) sum_{i, j} k(x_i, y_j).
//! Accumulated in double. Throws ShapeError unless n, m >= 2 and the widths agree.
template <class Scalar>
double mmd2_rbf(const Kokkos::View<const Scalar**, Layout, MemSpace>& x,
                const Kokkos::View<const Scalar**, Layout, MemSpace>& y, double sigma);

//! MMD^2 between a cloud and its image under the flow, over time.
struct MmdCurve {
  std::vector<double> times;  //!< step * dt
  std::vector<double> mmd2;   //!< MMD^2(X, x(step))
};

//! Integrates X (n, d) under `field` with RK4 (dt, steps) and records MMD^2(X, x(t)) every
//! `every` steps (every >= 1), step 0 included: steps / every + 1 points. At step 0 the
//! unbiased estimate of MMD^2(X, X) is 2/n (mean_{i != j} k(x_i, x_j) - 1) <= 0, not 0.
template <class Scalar>
MmdCurve mmd2_curve(VectorField<Scalar>& field,
                    const Kokkos::View<const Scalar**, Layout, MemSpace>& x, Scalar dt,
                    std::size_t steps, std::size_t every, double sigma);

}  // namespace eqflow::dynamics
