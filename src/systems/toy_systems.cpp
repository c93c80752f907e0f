// Generators of the low-dimensional systems, the Lorenz velocity and RK4 step on the host (from
// systems/lorenz.hpp and core/rk4.hpp), and the registry.
// Every random number is CounterRng(seed, stream).uniform/normal(index) with one stream per
// purpose (named below) and the index derived from the row and axis, so a dataset is a pure
// function of (settings, seed).
#include "eqflow/systems/toy_systems.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "eqflow/core/error.hpp"
#include "eqflow/core/hash.hpp"
#include "eqflow/core/math.hpp"
#include "eqflow/core/rk4.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/systems/lorenz.hpp"

namespace eqflow::systems {

namespace {

constexpr double kPi = math::pi<double>;

constexpr std::uint64_t kTwoPeaksNoise = stream_id("eqflow.systems.two_peaks.noise");
constexpr std::uint64_t kRingRadius = stream_id("eqflow.systems.ring.radius");
constexpr std::uint64_t kRingAngle = stream_id("eqflow.systems.ring.angle");
constexpr std::uint64_t kTwoMoonsNoise = stream_id("eqflow.systems.two_moons.noise");
constexpr std::uint64_t kLorenzStart = stream_id("eqflow.systems.lorenz.start");

[[noreturn]] void bad_setting(const std::string& key, const std::string& expected,
                              const std::string& got) {
  throw Error("invalid setting " + key + " = " + got + ": expected " + expected);
}

std::string str(double x) {
  return std::to_string(x);
}
std::string str(std::size_t x) {
  return std::to_string(x);
}

void require_finite(const std::string& key, double x) {
  if (!std::isfinite(x)) bad_setting(key, "a finite number", str(x));
}

//! numpy.linspace(0, pi, m)[j]; m == 1 gives 0 like numpy.
double grid_angle(std::size_t j, std::size_t m) {
  return m < 2 ? 0.0 : kPi * static_cast<double>(j) / static_cast<double>(m - 1);
}

}  // namespace

void validate(const TwoPeaksSettings& s) {
  if (s.n < 2) bad_setting("two_peaks.n", ">= 2", str(s.n));
  if (!(s.stddev > 0.0) || !std::isfinite(s.stddev)) {
    bad_setting("two_peaks.stddev", "a finite number > 0", str(s.stddev));
  }
  require_finite("two_peaks.centre", s.centre);
}

void validate(const RingSettings& s) {
  if (s.n < 2) bad_setting("ring.n", ">= 2", str(s.n));
  if (!(s.r_inner >= 0.0) || !std::isfinite(s.r_inner)) {
    bad_setting("ring.r_inner", "a finite number >= 0", str(s.r_inner));
  }
  if (!(s.r_outer > s.r_inner) || !std::isfinite(s.r_outer)) {
    bad_setting("ring.r_outer", "a finite number > ring.r_inner = " + str(s.r_inner),
                str(s.r_outer));
  }
}

void validate(const TwoMoonsSettings& s) {
  if (s.n < 4) bad_setting("two_moons.n", ">= 4 (at least 2 grid points per moon)", str(s.n));
  if (!(s.noise >= 0.0) || !std::isfinite(s.noise)) {
    bad_setting("two_moons.noise", "a finite number >= 0", str(s.noise));
  }
}

void validate(const LorenzSettings& s) {
  if (s.trajectories < 1) bad_setting("lorenz.trajectories", ">= 1", str(s.trajectories));
  if (s.steps < 1) bad_setting("lorenz.steps", ">= 1", str(s.steps));
  if (s.normalise && s.trajectories * s.steps < 2) {
    bad_setting("lorenz.steps", ">= 2 points in all to normalise", str(s.steps));
  }
  if (!(s.dt > 0.0) || !std::isfinite(s.dt)) {
    bad_setting("lorenz.dt", "a finite number > 0", str(s.dt));
  }
  require_finite("lorenz.sigma", s.sigma);
  require_finite("lorenz.rho", s.rho);
  require_finite("lorenz.beta", s.beta);
}

Dataset make_two_peaks(const TwoPeaksSettings& s, std::uint64_t seed) {
  validate(s);
  const CounterRng noise(seed, kTwoPeaksNoise);
  Dataset data = make_dataset("two_peaks", s.n, 2);
  const std::size_t first_half = s.n / 2;
  for (std::size_t i = 0; i < s.n; ++i) {
    const double centre = i < first_half ? -s.centre : s.centre;
    for (std::size_t k = 0; k < 2; ++k) {
      data.values[2 * i + k] = centre + s.stddev * noise.normal(2 * i + k);
    }
  }
  return data;
}

Dataset make_ring(const RingSettings& s, std::uint64_t seed) {
  validate(s);
  const CounterRng radius(seed, kRingRadius);
  const CounterRng angle(seed, kRingAngle);
  const double r2_lo = s.r_inner * s.r_inner, r2_hi = s.r_outer * s.r_outer;
  Dataset data = make_dataset("ring", s.n, 2);
  for (std::size_t i = 0; i < s.n; ++i) {
    // Clamp guards the last ulp of rounding: every radius stays in [r_inner, r_outer].
    const double r =
        std::clamp(std::sqrt(r2_lo + radius.uniform(i) * (r2_hi - r2_lo)), s.r_inner, s.r_outer);
    const double phi = 2.0 * kPi * angle.uniform(i);
    data.values[2 * i + 0] = r * std::cos(phi);
    data.values[2 * i + 1] = r * std::sin(phi);
  }
  return data;
}

Dataset make_two_moons(const TwoMoonsSettings& s, std::uint64_t seed) {
  validate(s);
  const CounterRng noise(seed, kTwoMoonsNoise);
  const std::size_t n_a = s.n / 2, n_b = s.n - n_a;
  Dataset data = make_dataset("two_moons", s.n, 2);
  for (std::size_t i = 0; i < s.n; ++i) {
    double x, y;
    if (i < n_a) {
      const double a = grid_angle(i, n_a);
      x = std::cos(a);
      y = std::sin(a);
    } else {
      const double a = grid_angle(i - n_a, n_b);
      x = 1.0 - std::cos(a);
      y = -std::sin(a);
    }
    data.values[2 * i + 0] = x + s.noise * noise.normal(2 * i + 0);
    data.values[2 * i + 1] = y + s.noise * noise.normal(2 * i + 1);
  }
  if (s.normalise) normalise_per_axis(data);
  return data;
}

std::array<double, 3> lorenz_initial_state(std::uint64_t seed, std::size_t trajectory) {
  const CounterRng start(seed, kLorenzStart);
  const std::uint64_t base = 3 * static_cast<std::uint64_t>(trajectory);
  return {start.normal(base + 0), start.normal(base + 1), start.normal(base + 2)};
}

std::array<double, 3> lorenz_field(const LorenzSettings& s, const std::array<double, 3>& x) {
  const LorenzEquations<double> lorenz{s.sigma, s.rho, s.beta};
  const auto v = lorenz.velocity(x[0], x[1], x[2]);
  return {v[0], v[1], v[2]};
}

std::array<double, 3> lorenz_rk4_step(const LorenzSettings& s, const std::array<double, 3>& x) {
  return rk4::step([&s](const std::array<double, 3>& p) { return lorenz_field(s, p); }, x, s.dt);
}

Dataset make_lorenz(const LorenzSettings& s, std::uint64_t seed) {
  validate(s);
  Dataset data = make_dataset("lorenz", s.trajectories * s.steps, 3);
  // The step is inlined here, as before: with GCC contracting multiply-adds per inlining
  // context, this keeps the datasets bit-identical to earlier runs.
  const auto velocity = [&s](const std::array<double, 3>& p) { return lorenz_field(s, p); };
  for (std::size_t j = 0; j < s.trajectories; ++j) {
    std::array<double, 3> x = lorenz_initial_state(seed, j);
    for (std::size_t step = 0; step < s.steps; ++step) {
      x = rk4::step(velocity, x, s.dt);
      double* row = data.values.data() + 3 * (j * s.steps + step);
      for (std::size_t k = 0; k < 3; ++k) row[k] = x[k];
    }
  }
  for (double v : data.values) {
    if (!std::isfinite(v)) {
      throw Error("make_lorenz: a trajectory diverged (non-finite state); reduce lorenz.dt = " +
                  str(s.dt));
    }
  }
  if (s.normalise) normalise_per_axis(data);
  return data;
}

std::array<double, 3> lorenz_field_normalised(const LorenzSettings& s, const Dataset& frame,
                                              const std::array<double, 3>& y) {
  check_consistent(frame);
  require_shape(frame.d == 3, "lorenz_field_normalised: frame '" + frame.name +
                                  "' has d = " + std::to_string(frame.d) + ", expected 3");
  std::array<double, 3> x;
  for (std::size_t k = 0; k < 3; ++k) x[k] = y[k] * frame.scale[k] + frame.mean[k];
  std::array<double, 3> v = lorenz_field(s, x);
  for (std::size_t k = 0; k < 3; ++k) v[k] /= frame.scale[k];
  return v;
}

std::vector<std::string> low_dimensional_systems() {
  return {"two_peaks", "ring", "two_moons", "lorenz"};
}

namespace {
[[noreturn]] void unknown_system(const std::string& name) {
  std::string known;
  for (const auto& s : low_dimensional_systems()) known += (known.empty() ? "" : ", ") + s;
  throw Error("unknown low-dimensional system '" + name + "': expected one of " + known);
}
}  // namespace

int system_dimension(const std::string& name) {
  if (name == "two_peaks" || name == "ring" || name == "two_moons") return 2;
  if (name == "lorenz") return 3;
  unknown_system(name);
}

Dataset make_system(const std::string& name, std::uint64_t seed) {
  if (name == "two_peaks") return make_two_peaks(TwoPeaksSettings{}, seed);
  if (name == "ring") return make_ring(RingSettings{}, seed);
  if (name == "two_moons") return make_two_moons(TwoMoonsSettings{}, seed);
  if (name == "lorenz") return make_lorenz(LorenzSettings{}, seed);
  unknown_system(name);
}

}  // namespace eqflow::systems
