// The score interface: what flow training, the Langevin term of the simulation and the
// analyses need from a diffusion model. That is the batch score s(x, t) = grad log p_t(x) at a
// diffusion time t, its Jacobian-vector products in x, and the noise schedule that defines
// the times. The MLP score model of the low-dimensional systems implements it; an image model
// (UNet) takes each flattened image as one row of dim() = C H W features.
#pragma once

#include <cstddef>

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/diffusion/noise_schedule.hpp"

namespace eqflow::diffusion {

//! A learned score s(x, t) on batches of points (rows). Implementations may keep internal
//! scratch, so the evaluations are not const.
template <class Scalar>
class Score {
 public:
  using ConstView = Kokkos::View<const Scalar**, Layout, MemSpace>;

  virtual ~Score() = default;
  //! Features per point.
  virtual std::size_t dim() const = 0;
  //! The model's noise schedule: time t in [0, 1] is step schedule().index(t).
  virtual const NoiseSchedule& schedule() const = 0;

  //! s = s(x, t); x (N, dim), s (N, dim).
  virtual void score(const ConstView& x, double t, const View2<Scalar>& s) = 0;
  //! The score and its Jacobian-vector products in x at fixed t: s (N, dim) as score(), and
  //! js = d s(x_n, t) / d x_n  t_r for every tangent row r = k N + n; tangents and js
  //! (K N, dim).
  virtual void score_and_jvp(const ConstView& x, double t, const View2<Scalar>& s,
                             const ConstView& tangents, const View2<Scalar>& js) = 0;
};

}  // namespace eqflow::diffusion
