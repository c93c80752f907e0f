// Lyapunov analysis of a vector field, in double precision:
//  - lyapunov_reference: the reference implementation's largest-exponent procedure
//    (DESIGN.md section 2), used to decide whether a learned Lorenz flow is chaotic;
//  - lyapunov_spectrum: the full spectrum by the standard (Benettin) method, RK4 on the
//    variational equation with repeated QR re-orthonormalisation.
// A float-trained flow is analysed by copying its parameters into a double model
// (nn::copy_parameters) and wrapping that in a ModelField<double>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/dynamics/vector_field.hpp"

namespace eqflow::dynamics {

//! Settings of the reference procedure; the defaults are the reference's.
struct LyapunovSettings {
  std::size_t trajectories = 64;    //!< stable reference trajectories wanted
  std::size_t steps = 5000;         //!< RK4 steps per reference trajectory
  double dt = 0.1;                  //!< RK4 step
  double bound = 4.0;               //!< stable: max |x_i| < bound over the whole run
  std::size_t starts_per_try = 32;  //!< standard-normal starts per try
  std::size_t max_tries = 10;       //!< tries before giving up
  double perturbation = 1e-5;       //!< sigma: size of the offset of the perturbed copy
  std::size_t segment = 2500;       //!< tau: steps between renormalisations
  std::uint64_t seed = 0;           //!< starts and perturbation directions (CounterRng)
  bool keep_starts = false;         //!< return the stable trajectories' starts
};

//! Result of the reference procedure. With no stable trajectory (stable_count == 0, a valid
//! outcome for an unstable flow) both exponents and the mean speed are NaN and the curve is
//! empty.
struct LyapunovResult {
  //! lambda = (log d(tau) - log d(0)) / (tau dt), per unit time.
  double exponent = 0.0;
  //! (log d(tau) - log d(0)) / mean_speed, where
  //!   mean_speed = 1/(M S) sum_{i < M} sum_{k < S} |v(x_i(k dt))|,
  //! the mean Euclidean norm of the velocity over the states x_i(0) .. x_i((S-1) dt) of
  //! the M stable reference trajectories, S = (steps / tau) tau (= steps by default).
  //! As in the reference it is not divided by the segment duration:
  //! exponent_speed_normalised / (tau dt) is the exponent per unit length travelled.
  double exponent_speed_normalised = 0.0;
  double mean_speed = 0.0;
  //! d(j), j = 0 .. tau: the distance between the perturbed copy and the reference j steps
  //! into a segment, averaged over segments and stable trajectories (d(0) = sigma).
  std::vector<double> distance_curve;
  std::size_t stable_count = 0;  //!< stable trajectories used (<= settings.trajectories)
  std::size_t stable_found = 0;  //!< stable trajectories found over all tries
  std::size_t tries = 0;         //!< tries used
  //! (trajectory, segment) pairs left out of the average because the perturbed copy
  //! diverged (non-finite) although its reference stayed bounded; the copy then restarts
  //! along its first direction. NaN exponents if every segment diverged.
  std::size_t diverged_segments = 0;
  //! Starts of the stable trajectories used, (stable_count, d) row-major; only with
  //! settings.keep_starts.
  std::vector<double> starts;
};

//! The reference procedure (DESIGN.md section 2):
//!  1. Try batches of `starts_per_try` standard-normal starts (at most `max_tries`),
//!     integrating each `steps` RK4 steps of size dt; keep those with max |x_i| < bound
//!     over the whole run, in order, until `trajectories` are found.
//!  2. For each kept start, a perturbed copy starts at x0 + sigma u, u a random unit vector.
//!     Every tau = `segment` steps the copy restarts from the reference point with its offset
//!     renormalised to sigma; the distance is recorded at every step of each segment.
//!     steps / tau complete segments are used.
//!  3. The distance curves are averaged over segments and trajectories and
//!     lambda = (log d_end - log d_start) / (tau dt).
//! The field must evaluate every point independently of the rest of its batch (a ModelField
//! in Eval mode); references and perturbed copies are integrated as one batch.
LyapunovResult lyapunov_reference(VectorField<double>& field, const LyapunovSettings& settings);

//! Settings of the Benettin spectrum.
struct SpectrumSettings {
  std::size_t trajectories = 8;        //!< N trajectories integrated in parallel
  double dt = 0.01;                    //!< RK4 step
  std::size_t transient_steps = 2000;  //!< steps discarded (x and frame still evolve)
  std::size_t steps = 50000;           //!< steps averaged over
  std::size_t qr_every = 10;           //!< steps between re-orthonormalisations
  std::uint64_t seed = 0;              //!< standard-normal starts (when none are given)
};

struct SpectrumResult {
  //! The d exponents per unit time, averaged over trajectories, in descending order.
  std::vector<double> exponents;
  //! Per trajectory (N, d) row-major, in Gram-Schmidt order (descending for a long run).
  std::vector<double> per_trajectory;
  double time = 0.0;  //!< averaging time per trajectory, steps * dt
};

//! Lyapunov spectrum by the Benettin method from the starts x0 (N, d): RK4 on x and a
//! d x d tangent frame Q with dQ/dt = J(x) Q (the field's jvp with K = d tangents), Q
//! re-orthonormalised by modified Gram-Schmidt every `qr_every` steps (and after the last
//! step); after the transient, log|R_ii| is accumulated and divided by steps * dt.
SpectrumResult lyapunov_spectrum(VectorField<double>& field,
                                 const Kokkos::View<const double**, Layout, MemSpace>& x0,
                                 const SpectrumSettings& settings);

//! The same from `settings.trajectories` standard-normal starts (CounterRng(seed)).
SpectrumResult lyapunov_spectrum(VectorField<double>& field, const SpectrumSettings& settings);

}  // namespace eqflow::dynamics
