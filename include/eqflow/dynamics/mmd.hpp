// Distribution preservation: unbiased RBF MMD^2 estimators (paired, for a cloud against its own
// images, and two-sample, for independent clouds), the median-distance bandwidth, and the one
// transport curve: MMD^2 while a field (optionally Langevin-corrected) transports a cloud
// (DESIGN.md "Distribution preservation").
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <vector>

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/dynamics/integrators.hpp"
#include "eqflow/dynamics/vector_field.hpp"

namespace eqflow::dynamics {

//! Unbiased two-sample MMD^2 of independent clouds X (n, d), Y (m, d) with the RBF kernel
//! k(x, y) = exp(-|x - y|^2 / (2 sigma^2)):
//!   1/(n(n-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j)
//!   - 2/(n m) sum_{i, j} k(x_i, y_j).
//! Accumulated in double. Throws ShapeError unless n, m >= 2 and the widths agree, Error unless
//! sigma > 0.
template <class Scalar>
double mmd2_rbf_two_sample(const Kokkos::View<const Scalar**, Layout, MemSpace>& x,
                           const Kokkos::View<const Scalar**, Layout, MemSpace>& y, double sigma);

//! Unbiased MMD^2 of paired samples z_i = (x_i, y_i), X and Y (n, d), e.g. points and their
//! images under a transport: the U-statistic
//!   1/(n(n-1)) sum_{i != j} h(z_i, z_j),
//!   h = k(x_i, x_j) + k(y_i, y_j) - k(x_i, y_j) - k(x_j, y_i).
//! Every term of Y = X is exactly 0, so the estimate is exactly 0 there. Accumulated in double.
//! Throws ShapeError unless both are (n, d) with n >= 2, Error unless sigma > 0.
template <class Scalar>
double mmd2_rbf_paired(const Kokkos::View<const Scalar**, Layout, MemSpace>& x,
                       const Kokkos::View<const Scalar**, Layout, MemSpace>& y, double sigma);

//! The median of the pairwise distances |x_i - x_j|, i < j, of the first min(n, max_points)
//! rows of X (n, d) (exact, deterministic; the mean of the two middle values for an even
//! count): the median heuristic for the RBF bandwidth. Throws ShapeError unless n >= 2, Error
//! when the median is 0 (most points coincide).
template <class Scalar>
double median_pairwise_distance(const Kokkos::View<const Scalar**, Layout, MemSpace>& x,
                                std::size_t max_points = 2048);

//! The settings of a transport curve.
struct TransportSettings {
  double dt = 0.1;
  std::size_t steps = 100;
  std::size_t every = 10;  //!< record every `every` steps (>= 1), step 0 included
  double sigma = 0.5;      //!< RBF bandwidth of MMD^2
  //! A point is bounded while finite with every |coordinate| < bound.
  double bound = std::numeric_limits<double>::infinity();
};

//! A cloud transported over time, recorded every `every` steps.
struct TransportCurve {
  std::vector<double> times;    //!< step * dt
  std::vector<double> mmd2;     //!< paired MMD^2(X, x(t)): exactly 0 at t = 0
  std::vector<double> bounded;  //!< fraction of the points of x(t) that are bounded
};

//! Called with the frame index and x(t) (N, d) at every recorded time.
template <class Scalar>
using FrameObserver = std::function<void(std::size_t, const View2<Scalar>&)>;

//! Transports X (n, d) under `field` by RK4 (dt, steps), each step followed by a LangevinHeun
//! step when `correction` is active (as `integrate`), and records mmd2_rbf_paired(X, x(t)) and
//! the bounded fraction every `every` steps, step 0 included: steps / every + 1 points.
//! `observe`, when set, sees every recorded frame.
template <class Scalar>
TransportCurve transport_curve(VectorField<Scalar>& field,
                               const Kokkos::View<const Scalar**, Layout, MemSpace>& x,
                               const TransportSettings& settings,
                               const LangevinCorrection<Scalar>& correction = {},
                               const FrameObserver<Scalar>& observe = {});

}  // namespace eqflow::dynamics
