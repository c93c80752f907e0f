// Lyapunov analysis in double precision: the reference implementation's largest-exponent
// procedure (stable-start search, perturbed copies renormalised every tau steps) and the
// Benettin spectrum (RK4 on the variational equation, modified Gram-Schmidt QR). All
// per-step work stays on the device; the host only reads back a few counters.
#include "eqflow/dynamics/lyapunov.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "eqflow/core/error.hpp"
#include "eqflow/core/math.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/dynamics/integrators.hpp"

namespace eqflow::dynamics {
namespace {

using ConstView2 = Kokkos::View<const double**, Layout, MemSpace>;

// Random streams of CounterRng(settings.seed, stream).
constexpr std::uint64_t kStartStream = 0x4c5941505f535441ull;      // reference starts
constexpr std::uint64_t kDirectionStream = 0x4c5941505f444952ull;  // perturbation directions
constexpr std::uint64_t kSpectrumStream = 0x4c5941505f535045ull;   // spectrum starts

//! Steps between host checks of whether every trajectory of a try has already left the box.
constexpr std::size_t kEscapeCheckEvery = 100;

View2<double> zeros2(const std::string& label, std::size_t rows, std::size_t cols) {
  return View2<double>(label, rows, cols);
}

//! unstable(i) = 1 if some |x(i, c)| is not < bound (NaN and inf included).
void mark_unstable(const View2<double>& x, const View1<int>& unstable, double bound) {
  const std::size_t d = x.extent(1);
  Kokkos::parallel_for(
      "eqflow::lyapunov::mark_unstable", RangePolicy(0, x.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i) {
        for (std::size_t c = 0; c < d; ++c) {
          if (!(math::abs(x(i, c)) < bound)) unstable(i) = 1;
        }
      });
}

int count_unstable(const View1<int>& unstable) {
  int count = 0;
  Kokkos::parallel_reduce(
      "eqflow::lyapunov::count_unstable", RangePolicy(0, unstable.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i, int& sum) { sum += unstable(i); }, count);
  return count;
}

//! |x(m + i) - x(i)|^2: squared offset of perturbed copy i from its reference, x (2m, d).
KOKKOS_INLINE_FUNCTION double offset2(const View2<double>& x, std::size_t m, std::size_t i) {
  double sum = 0;
  for (std::size_t c = 0; c < x.extent(1); ++c) {
    const double diff = x(m + i, c) - x(i, c);
    sum += diff * diff;
  }
  return sum;
}

//! distance(j, i) = |x(m + i) - x(i)|: perturbed copy against reference, x (2m, d).
void record_distance(const View2<double>& x, const View2<double>& distance, std::size_t j) {
  const std::size_t m = distance.extent(1);
  Kokkos::parallel_for(
      "eqflow::lyapunov::distance", RangePolicy(0, m),
      KOKKOS_LAMBDA(const std::size_t i) { distance(j, i) = math::sqrt(offset2(x, m, i)); });
}

struct StableStarts {
  std::vector<double> starts;  // (used, d) row-major
  std::size_t found = 0;
  std::size_t tries = 0;
};

//! Step 1 of the reference procedure: batches of standard-normal starts, kept when the
//! whole trajectory stays in the box |x_i| < bound.
StableStarts find_stable_starts(VectorField<double>& field, const LyapunovSettings& s) {
  ScopedRegion region("eqflow::lyapunov::find_stable_starts");
  const std::size_t d = field.dim(), batch = s.starts_per_try;
  StableStarts out;
  if (batch == 0 || s.trajectories == 0) return out;
  const CounterRng rng(s.seed, kStartStream);
  View2<double> x(std::string("eqflow::lyapunov::search_state"), batch, d);
  View1<int> unstable(std::string("eqflow::lyapunov::unstable"), batch);
  Rk4<double> stepper(batch, d);
  for (std::size_t attempt = 0; attempt < s.max_tries && out.found < s.trajectories; ++attempt) {
    ++out.tries;
    fill_normal(x, rng, attempt * batch * d);
    const auto x0 = Kokkos::create_mirror_view(x);
    Kokkos::deep_copy(x0, x);
    Kokkos::deep_copy(unstable, 0);
    mark_unstable(x, unstable, s.bound);
    for (std::size_t step = 1; step <= s.steps; ++step) {
      stepper.step(field, x, s.dt);
      mark_unstable(x, unstable, s.bound);
      if (step % kEscapeCheckEvery == 0 && count_unstable(unstable) == int(batch)) break;
    }
    const auto flags = Kokkos::create_mirror_view(unstable);
    Kokkos::deep_copy(flags, unstable);
    for (std::size_t i = 0; i < batch; ++i) {
      if (flags(i) != 0) continue;
      ++out.found;
      if (out.starts.size() < s.trajectories * d) {
        for (std::size_t c = 0; c < d; ++c) out.starts.push_back(x0(i, c));
      }
    }
  }
  return out;
}

}  // namespace

LyapunovResult lyapunov_reference(VectorField<double>& field, const LyapunovSettings& s) {
  ScopedRegion region("eqflow::lyapunov_reference");
  if (s.segment == 0 || s.segment > s.steps) {
    throw Error(fmt::format("lyapunov_reference: segment (tau) = {} must be in 1 .. steps = {}",
                            s.segment, s.steps));
  }
  if (!(s.perturbation > 0.0) || !(s.dt > 0.0)) {
    throw Error(fmt::format("lyapunov_reference: perturbation {} and dt {} must be > 0",
                            s.perturbation, s.dt));
  }
  const std::size_t d = field.dim();
  LyapunovResult result;
  const StableStarts stable = find_stable_starts(field, s);
  result.stable_found = stable.found;
  result.tries = stable.tries;
  const std::size_t m = stable.starts.size() / d;
  result.stable_count = m;
  if (s.keep_starts) result.starts = stable.starts;
  if (m == 0) {
    result.exponent = result.exponent_speed_normalised = result.mean_speed =
        std::numeric_limits<double>::quiet_NaN();
    return result;
  }

  // Rows 0 .. m-1 are the reference trajectories, rows m .. 2m-1 their perturbed copies.
  View2<double> x(std::string("eqflow::lyapunov::state"), 2 * m, d);
  {
    const auto host = Kokkos::create_mirror_view(x);
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t c = 0; c < d; ++c) host(i, c) = host(m + i, c) = stable.starts[i * d + c];
    }
    Kokkos::deep_copy(x, host);
  }
  const double sigma = s.perturbation;
  View2<double> direction(std::string("eqflow::lyapunov::direction"), m, d);  // (m, d) unit
  {
    // x_pert = x_ref + sigma u, u = z / |z| with z standard normal (counter i*d + c).
    const CounterRng rng(s.seed, kDirectionStream);
    Kokkos::parallel_for(
        "eqflow::lyapunov::perturb", RangePolicy(0, m), KOKKOS_LAMBDA(const std::size_t i) {
          double norm2 = 0;
          for (std::size_t c = 0; c < d; ++c) {
            const double z = rng.normal(i * d + c);
            norm2 += z * z;
          }
          for (std::size_t c = 0; c < d; ++c) {
            direction(i, c) = rng.normal(i * d + c) / math::sqrt(norm2);
            x(m + i, c) = x(i, c) + sigma * direction(i, c);
          }
        });
  }

  const std::size_t tau = s.segment, segments = s.steps / s.segment;
  View2<double> distance = zeros2("eqflow::lyapunov::distance", tau + 1, m);  // (tau+1, m)
  View1<double> curve(std::string("eqflow::lyapunov::curve"), tau + 1);       // summed distances
  View1<double> valid(std::string("eqflow::lyapunov::valid"), m);  // finite segments per copy
  View1<double> speed(std::string("eqflow::lyapunov::speed"), m);  // summed |v|
  Rk4<double> stepper(2 * m, d);
  for (std::size_t seg = 0; seg < segments; ++seg) {
    if (seg > 0) {
      // Restart the copy from the reference point, offset renormalised to sigma.
      Kokkos::parallel_for(
          "eqflow::lyapunov::renormalise", RangePolicy(0, m), KOKKOS_LAMBDA(const std::size_t i) {
            const double sum = offset2(x, m, i);
            // A copy that diverged (non-finite) or merged restarts along its first direction.
            const bool usable = sum > 0 && sum < 1e300;
            const double scale = sigma / math::sqrt(sum);
            for (std::size_t c = 0; c < d; ++c) {
              x(m + i, c) = usable ? x(i, c) + scale * (x(m + i, c) - x(i, c))
                                   : x(i, c) + sigma * direction(i, c);
            }
          });
    }
    record_distance(x, distance, 0);
    for (std::size_t j = 1; j <= tau; ++j) {
      stepper.step(field, x, s.dt);
      // |v| at the state the step started from, reference rows only.
      const auto v = stepper.first_velocity();
      Kokkos::parallel_for(
          "eqflow::lyapunov::speed", RangePolicy(0, m), KOKKOS_LAMBDA(const std::size_t i) {
            double sum = 0;
            for (std::size_t c = 0; c < d; ++c) sum += v(i, c) * v(i, c);
            speed(i) += math::sqrt(sum);
          });
      record_distance(x, distance, j);
    }
    // A segment in which the perturbed copy diverged (non-finite distance) is left out of
    // the average (the reference trajectory itself is stable by selection).
    // One team per copy, its tau + 1 distances spread over the team.
    using TeamPolicy = Kokkos::TeamPolicy<ExecSpace>;
    Kokkos::parallel_for(
        "eqflow::lyapunov::finite_segments", TeamPolicy(static_cast<int>(m), Kokkos::AUTO),
        KOKKOS_LAMBDA(const TeamPolicy::member_type& team) {
          const std::size_t i = team.league_rank();
          int infinite = 0;
          Kokkos::parallel_reduce(
              Kokkos::TeamThreadRange(team, tau + 1),
              [&](const std::size_t j, int& count) { count += distance(j, i) < 1e300 ? 0 : 1; },
              infinite);
          Kokkos::single(Kokkos::PerTeam(team), [&]() {
            if (infinite > 0) {
              distance(0, i) = -1.0;  // marker read below
            } else {
              valid(i) += 1.0;
            }
          });
        });
    Kokkos::parallel_for(
        "eqflow::lyapunov::accumulate_curve", RangePolicy(0, tau + 1),
        KOKKOS_LAMBDA(const std::size_t j) {
          double sum = 0;
          for (std::size_t i = 0; i < m; ++i) {
            if (distance(0, i) >= 0.0) sum += distance(j, i);
          }
          curve(j) += sum;
        });
  }

  const auto host_curve = Kokkos::create_mirror_view(curve);
  Kokkos::deep_copy(host_curve, curve);
  double used = 0;
  Kokkos::parallel_reduce(
      "eqflow::lyapunov::valid_sum", RangePolicy(0, m),
      KOKKOS_LAMBDA(const std::size_t i, double& sum) { sum += valid(i); }, used);
  result.diverged_segments = segments * m - static_cast<std::size_t>(used);
  result.distance_curve.resize(tau + 1);
  for (std::size_t j = 0; j <= tau; ++j) {
    result.distance_curve[j] =
        used > 0 ? host_curve(j) / used : std::numeric_limits<double>::quiet_NaN();
  }
  double speed_sum = 0;
  Kokkos::parallel_reduce(
      "eqflow::lyapunov::speed_sum", RangePolicy(0, m),
      KOKKOS_LAMBDA(const std::size_t i, double& sum) { sum += speed(i); }, speed_sum);
  // mean |v| over the states x(0) .. x(segments * tau - 1) of the m reference trajectories
  result.mean_speed = speed_sum / double(m * segments * tau);
  // lambda = (log d(tau) - log d(0)) / (tau dt); speed-normalised: (...) / mean |v|.
  const double growth = std::log(result.distance_curve[tau]) - std::log(result.distance_curve[0]);
  result.exponent = growth / (double(tau) * s.dt);
  result.exponent_speed_normalised = growth / result.mean_speed;
  return result;
}

// ---------------------------------------------------------------------------- spectrum

namespace {

//! Modified Gram-Schmidt on each point's frame: tangent k of point n is row k*N + n of q
//! (d*N, d). With `accumulate`, sums(n, k) += log R_kk.
void orthonormalise(const View2<double>& q, const View2<double>& sums, bool accumulate) {
  const std::size_t n = sums.extent(0), d = sums.extent(1);
  Kokkos::parallel_for(
      "eqflow::lyapunov::gram_schmidt", RangePolicy(0, n), KOKKOS_LAMBDA(const std::size_t p) {
        for (std::size_t k = 0; k < d; ++k) {
          const std::size_t rk = k * n + p;
          for (std::size_t j = 0; j < k; ++j) {
            const std::size_t rj = j * n + p;
            double r = 0;
            for (std::size_t c = 0; c < d; ++c) r += q(rj, c) * q(rk, c);
            for (std::size_t c = 0; c < d; ++c) q(rk, c) -= r * q(rj, c);
          }
          double norm2 = 0;
          for (std::size_t c = 0; c < d; ++c) norm2 += q(rk, c) * q(rk, c);
          const double norm = math::sqrt(norm2);
          for (std::size_t c = 0; c < d; ++c) q(rk, c) /= norm;
          if (accumulate) sums(p, k) += math::log(norm);
        }
      });
}

}  // namespace

SpectrumResult lyapunov_spectrum(VectorField<double>& field, const ConstView2& x0,
                                 const SpectrumSettings& s) {
  ScopedRegion region("eqflow::lyapunov_spectrum");
  const std::size_t n = x0.extent(0), d = field.dim();
  if (x0.extent(1) != d) {
    throw ShapeError(
        fmt::format("lyapunov_spectrum: starts have {} columns, the field {}", x0.extent(1), d));
  }
  if (n == 0 || s.steps == 0 || s.qr_every == 0 || !(s.dt > 0.0)) {
    throw Error(
        fmt::format("lyapunov_spectrum: need trajectories ({}), steps ({}), qr_every "
                    "({}) >= 1 and dt ({}) > 0",
                    n, s.steps, s.qr_every, s.dt));
  }
  View2<double> x(std::string("eqflow::lyapunov::spectrum_state"), n, d);
  Kokkos::deep_copy(x, x0);
  View2<double> q(std::string("eqflow::lyapunov::frame"), d * n, d);  // (d*N, d)
  Kokkos::parallel_for(
      "eqflow::lyapunov::identity_frame", Policy2D({0, 0}, {d * n, d}),
      KOKKOS_LAMBDA(const std::size_t r, const std::size_t c) {
        q(r, c) = (r / n == c) ? 1.0 : 0.0;
      });
  View2<double> sums = zeros2("eqflow::lyapunov::log_r", n, d);  // (N, d)
  TangentRk4<double> stepper(n, d, d);
  const std::size_t total = s.transient_steps + s.steps;
  for (std::size_t step = 1; step <= total; ++step) {
    stepper.step(field, x, q, s.dt);
    // A QR at the end of the transient starts the averaging from an orthonormal frame.
    if (step % s.qr_every == 0 || step == s.transient_steps || step == total) {
      orthonormalise(q, sums, step > s.transient_steps);
    }
  }

  SpectrumResult result;
  result.time = double(s.steps) * s.dt;
  const auto host = Kokkos::create_mirror_view(sums);
  Kokkos::deep_copy(host, sums);
  result.per_trajectory.resize(n * d);
  result.exponents.assign(d, 0.0);
  for (std::size_t p = 0; p < n; ++p) {
    for (std::size_t k = 0; k < d; ++k) {
      result.per_trajectory[p * d + k] = host(p, k) / result.time;
      result.exponents[k] += host(p, k) / result.time / double(n);
    }
  }
  std::sort(result.exponents.begin(), result.exponents.end(), std::greater<double>());
  return result;
}

SpectrumResult lyapunov_spectrum(VectorField<double>& field, const SpectrumSettings& s) {
  View2<double> x0(std::string("eqflow::lyapunov::spectrum_starts"), s.trajectories, field.dim());
  fill_normal(x0, CounterRng(s.seed, kSpectrumStream), 0);
  return lyapunov_spectrum(field, x0, s);
}

}  // namespace eqflow::dynamics
