// Classical fourth-order Runge-Kutta for batches of points under a VectorField, alone (Rk4)
// or together with tangent vectors on the variational equation dT/dt = J(x) T (TangentRk4,
// for Lyapunov spectra), and the Langevin correction of the simulation SDE (LangevinHeun). A
// stepper owns its scratch Views, allocated once for a batch shape, so a long integration allocates
// nothing per step.
#pragma once

#include <cstddef>

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/dynamics/vector_field.hpp"

namespace eqflow::dynamics {

//! RK4 stepper with scratch for a batch of N points in d dimensions (core/rk4.hpp):
//!   k1 = v(x), k2 = v(x + dt/2 k1), k3 = v(x + dt/2 k2), k4 = v(x + dt k3),
//!   x <- x + dt/6 (((k1 + 2 k2) + 2 k3) + k4).
template <class Scalar>
class Rk4 {
 public:
  Rk4(std::size_t n, std::size_t d);
  //! One step in place; x (N, d). Throws ShapeError on a batch of another shape or a field
  //! of another dimension.
  void step(VectorField<Scalar>& field, const View2<Scalar>& x, Scalar dt);
  //! k1 of the last step: the velocity at the state the step started from. (N, d)
  View2<Scalar> first_velocity() const { return k1_; }

 private:
  View2<Scalar> k1_, k_, stage_, sum_;  // (N, d) each
};

//! RK4 on the pair (x, T) with dx/dt = v(x), dT/dt = J(x) T: K tangents per point, tangent
//! row k*N + n belongs to point n. Both use the same stages, so T stays the exact RK4
//! linearisation of the state update.
template <class Scalar>
class TangentRk4 {
 public:
  TangentRk4(std::size_t n, std::size_t d, std::size_t tangents);
  //! One step in place; x (N, d), t (K*N, d).
  void step(VectorField<Scalar>& field, const View2<Scalar>& x, const View2<Scalar>& t, Scalar dt);

 private:
  View2<Scalar> kx_, sx_, ax_;  // (N, d) stage derivative, stage point, slope sum
  View2<Scalar> kt_, st_, at_;  // (K*N, d) the same for the tangents
};

//! Stochastic Heun step (additive noise) of the Langevin SDE dx = eta s(x) dt + sqrt(2 eta) dW,
//! which keeps the density whose score is s stationary:
//!   w = sqrt(2 eta dt) xi,  x~ = x + eta dt s(x) + w,  x <- x + eta dt (s(x) + s(x~)) / 2 + w,
//! xi standard normal. The simulation SDE of DESIGN.md 1.4, dx = (v + eta s) dt + sqrt(2 eta) dW,
//! is integrated by splitting: an RK4 step of the flow v, then this step (see `integrate`);
//! both parts keep the data density, and eta = 0 is the plain RK4 flow.
template <class Scalar>
class LangevinHeun {
 public:
  LangevinHeun(std::size_t n, std::size_t d);
  //! One step in place; x (N, d). The noise of step `index` is `noise` at counters
  //! index N d + i (a pure function of the stream and the step). eta >= 0.
  void step(VectorField<Scalar>& score, const View2<Scalar>& x, Scalar eta, Scalar dt,
            const CounterRng& noise, std::uint64_t index);

 private:
  View2<Scalar> s1_, s2_, noise_, stage_;  // (N, d) each
};

//! The Langevin correction applied after every RK4 step by `integrate`: none when `score` is
//! null or eta is 0.
template <class Scalar>
struct LangevinCorrection {
  VectorField<Scalar>* score = nullptr;  //!< the score of the density to keep, s = grad log p
  Scalar eta = 0;
  CounterRng noise;
};

//! One RK4 step in place (allocates its scratch: for loops use Rk4). x (N, d).
template <class Scalar>
void rk4_step(VectorField<Scalar>& field, const View2<Scalar>& x, Scalar dt);

//! Integrates `steps` RK4 steps of size dt from x0 (N, d) and returns the recorded
//! trajectory (frames, N, d): frame f is the state after f * record_every steps, for
//! f = 0 .. steps / record_every (integer division; frame 0 is x0). record_every >= 1. With a
//! Langevin correction every RK4 step is followed by a LangevinHeun step of the same dt.
template <class Scalar>
View3<Scalar> integrate(VectorField<Scalar>& field,
                        const Kokkos::View<const Scalar**, Layout, MemSpace>& x0, Scalar dt,
                        std::size_t steps, std::size_t record_every = 1,
                        const LangevinCorrection<Scalar>& correction = {});

//! Integrates `steps` RK4 steps of size dt from x0 (N, d); returns only the end state (N, d).
template <class Scalar>
View2<Scalar> integrate_end(VectorField<Scalar>& field,
                            const Kokkos::View<const Scalar**, Layout, MemSpace>& x0, Scalar dt,
                            std::size_t steps);

}  // namespace eqflow::dynamics
