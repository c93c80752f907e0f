// The forward diffusion x_t = sqrt(a) x0 + sqrt(1 - a) eps (DESIGN.md 1.1), written once: the
// per-value formula (ForwardDiffusion) for kernels that diffuse each sample to its own time
// (the denoising loss), and `diffuse` for a batch at one time with counter-based noise (flow
// training, the analyses). The arithmetic type Real is the caller's: the same formula in float
// or in double.
#pragma once

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/core/math.hpp"
#include "eqflow/core/rng.hpp"

namespace eqflow::diffusion {

//! The coefficients sqrt(a) and noise_scale sqrt(1 - a) at signal fraction a (alpha-bar), and
//! x_t of one coordinate, in arithmetic type Real.
template <class Real>
struct ForwardDiffusion {
  Real signal, noise;

  KOKKOS_INLINE_FUNCTION explicit ForwardDiffusion(double alpha_bar, double noise_scale = 1.0)
      : signal(static_cast<Real>(math::sqrt(alpha_bar))),
        noise(static_cast<Real>(noise_scale * math::sqrt(1.0 - alpha_bar))) {}

  //! sqrt(a) x0 + noise_scale sqrt(1 - a) eps.
  KOKKOS_INLINE_FUNCTION Real operator()(Real x0, Real eps) const {
    return signal * x0 + noise * eps;
  }

  //! The same with eps = draw(), called after the signal term is formed (the order the
  //! kernels have always used, which fixes how a compiler may fuse the multiply-adds).
  template <class Draw>
  KOKKOS_INLINE_FUNCTION Real with_draw(Real x0, const Draw& draw) const {
    const Real kept = signal * x0;
    return kept + noise * static_cast<Real>(draw());
  }
};

//! out = sqrt(a) x0 + noise_scale sqrt(1 - a) eps for every element, evaluated in Real, with
//! eps_i = noise.normal(i) for the flat (row-major) index i; x0 and out (N, d), out may be x0
//! itself. noise_scale 0 is the plain scaling sqrt(a) x0 and draws nothing.
template <class Real, class Scalar>
void diffuse(const typename View2<Scalar>::const_type& x0, double alpha_bar,
             const CounterRng& noise, const View2<Scalar>& out, double noise_scale = 1.0);

}  // namespace eqflow::diffusion
