// The low-dimensional data sources of DESIGN.md section 2 (two_peaks, ring, two_moons: d = 2;
// lorenz: d = 3), generated on the host in double precision. Each dataset is a pure function
// of (settings, seed): every random number comes from CounterRng on a stream of its own, so
// the same call gives the same bits on any machine, rank count or execution space.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eqflow/systems/dataset.hpp"

namespace eqflow::systems {

//! Two isotropic Gaussians at (-centre, -centre) and (centre, centre).
struct TwoPeaksSettings {
  std::size_t n = 10000;  //!< points; >= 2
  double stddev = 0.5;    //!< per-axis standard deviation of each peak; > 0
  double centre = 1.0;    //!< peak offset on each axis; finite
};

//! Uniform in the annulus r_inner <= r <= r_outer (r^2 uniform, angle uniform).
struct RingSettings {
  std::size_t n = 10000;  //!< points; >= 2
  double r_inner = 1.0;   //!< >= 0
  double r_outer = 2.0;   //!< > r_inner
};

//! Moon A = (cos a, sin a), moon B = (1 - cos a, -sin a), a on a uniform grid on [0, pi], plus
//! Gaussian noise on every coordinate; normalised per axis by default.
struct TwoMoonsSettings {
  std::size_t n = 5000;   //!< points; >= 4 (moon A gets n/2, moon B the remaining n - n/2)
  double noise = 0.1;     //!< noise standard deviation; >= 0
  bool normalise = true;  //!< normalise per axis (the reference does)
};

//! Lorenz-63 trajectories integrated by RK4 from standard-normal starts.
struct LorenzSettings {
  std::size_t trajectories = 10;  //!< >= 1
  std::size_t steps = 5000;       //!< RK4 steps (= recorded points) per trajectory; >= 1
  double dt = 0.01;               //!< > 0
  double sigma = 10.0;            //!< finite
  double rho = 28.0;              //!< finite
  double beta = 8.0 / 3.0;        //!< finite
  bool normalise = true;          //!< normalise per axis (the reference does)
};

//! Each throws Error naming the offending setting (e.g. "two_peaks.n") and what is expected.
void validate(const TwoPeaksSettings& settings);
void validate(const RingSettings& settings);
void validate(const TwoMoonsSettings& settings);
void validate(const LorenzSettings& settings);

//! (n, 2): rows [0, n/2) from the peak at (-centre, -centre), rows [n/2, n) from the one at
//! (centre, centre), so exactly half each for even n. Not normalised.
Dataset make_two_peaks(const TwoPeaksSettings& settings, std::uint64_t seed);

//! (n, 2): r = sqrt(r_inner^2 + u (r_outer^2 - r_inner^2)), angle 2 pi v, u and v uniform on
//! (0, 1). Not normalised.
Dataset make_ring(const RingSettings& settings, std::uint64_t seed);

//! (n, 2): rows [0, n/2) moon A on linspace(0, pi, n/2), rows [n/2, n) moon B on
//! linspace(0, pi, n - n/2), in grid order (not shuffled); noise added to every coordinate;
//! then normalised per axis when settings.normalise (mean/scale kept).
Dataset make_two_moons(const TwoMoonsSettings& settings, std::uint64_t seed);

//! (trajectories * steps, 3): trajectory j starts at lorenz_initial_state(seed, j) and row
//! j * steps + s holds its state after s + 1 RK4 steps (the start itself is not recorded; the
//! transient is). Trajectories are concatenated in order, then normalised per axis when
//! settings.normalise (mean/scale kept). Trajectory j does not depend on the number of
//! trajectories, so a run with fewer trajectories is a prefix of the raw data.
Dataset make_lorenz(const LorenzSettings& settings, std::uint64_t seed);

//! The standard-normal start of Lorenz trajectory `trajectory` for `seed`.
std::array<double, 3> lorenz_initial_state(std::uint64_t seed, std::size_t trajectory);

//! Lorenz-63 velocity (sigma (y - x), x (rho - z) - y, x y - beta z) at raw point x.
std::array<double, 3> lorenz_field(const LorenzSettings& settings, const std::array<double, 3>& x);

//! One classical RK4 step of size settings.dt from raw point x (the step make_lorenz takes).
std::array<double, 3> lorenz_rk4_step(const LorenzSettings& settings,
                                      const std::array<double, 3>& x);

//! The Lorenz velocity in the normalised frame of `frame` (a dataset from make_lorenz) at the
//! normalised point y: dy/dt = lorenz_field(y scale + mean) / scale.
std::array<double, 3> lorenz_field_normalised(const LorenzSettings& settings, const Dataset& frame,
                                              const std::array<double, 3>& y);

//! The names of the low-dimensional systems: {"two_peaks", "ring", "two_moons", "lorenz"}.
std::vector<std::string> low_dimensional_systems();

//! The dimension d of a named system (2 or 3). Throws Error for an unknown name.
int system_dimension(const std::string& name);

//! The named system with its reference default settings. Throws Error for an unknown name.
Dataset make_system(const std::string& name, std::uint64_t seed);

}  // namespace eqflow::systems
