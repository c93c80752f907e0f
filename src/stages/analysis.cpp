// Analyses of a trained flow (float64) and the run's baselines: example trajectories, the
// 2-D velocity field, Lyapunov exponent (reference procedure) and spectrum, distribution
// preservation (MMD^2 curves) and, for lorenz, the similarity to the true field.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "eqflow/app/impl/stages.hpp"
#include "eqflow/core/batching.hpp"
#include "eqflow/core/log.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/diffusion/diffuse.hpp"
#include "eqflow/dynamics/integrators.hpp"
#include "eqflow/dynamics/lyapunov.hpp"
#include "eqflow/dynamics/mmd.hpp"
#include "eqflow/dynamics/score_field.hpp"
#include "eqflow/dynamics/similarity.hpp"
#include "eqflow/dynamics/vector_field.hpp"
#include "eqflow/flow/equilibrium_loss.hpp"

namespace eqflow::app::impl {
namespace {

// Random streams of the analyses: the same points for every seed, so curves compare.
enum Purpose : std::uint64_t {
  kTrajectory = 11,
  kMmd = 12,
  kNoiseFloor = 13,
  kSimilarity = 14,
  kResidual = 15,
  kNormStatistics = 16,
  kLangevin = 17
};

// `count` distinct random rows of the data (float64 on the device), skipping the first
// `skip` rows of the permutation (disjoint subsets from the same stream).
View2<double> subset(const systems::Dataset& data, std::size_t count, std::uint64_t seed,
                     Purpose purpose, std::size_t skip = 0) {
  count = std::min(count, data.n - std::min(skip, data.n));
  const auto perm = random_permutation(data.n, CounterRng(seed, purpose));
  View2<double> out("eqflow::analysis::subset", count, data.d);
  auto h = Kokkos::create_mirror_view(out);
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t j = 0; j < data.d; ++j) h(i, j) = data.at(perm[skip + i], j);
  }
  Kokkos::deep_copy(out, h);
  return out;
}

template <class T>
std::vector<double> to_vector(const T& view) {
  auto h = Kokkos::create_mirror_view_and_copy(HostSpace(), view);
  return std::vector<double>(h.data(), h.data() + h.size());
}

bool is_lorenz_frame(const RunConfig& c, const systems::Dataset& data) {
  return c.system == "lorenz" && data.d == 3;
}

dynamics::LorenzField<double> true_lorenz(const systems::Dataset& data) {
  return dynamics::LorenzField<double>({}, {data.mean[0], data.mean[1], data.mean[2]},
                                       {data.scale[0], data.scale[1], data.scale[2]});
}

// In place x <- sqrt(a) x + noise_scale sqrt(1 - a) eps (in double) with a = a_t of the score
// model's schedule at the flow's training time t: the forward diffusion (noise_scale 1) or the
// plain scaling (noise_scale 0).
template <class Scalar>
void diffuse_to_training_time(const RunConfig& c, const diffusion::NoiseSchedule& schedule,
                              const View2<Scalar>& x, double noise_scale, const CounterRng& noise) {
  diffusion::diffuse<double, Scalar>(x, schedule.alpha_bar_at(c.flow.t), noise, x, noise_scale);
}

// Points at which fields are compared: data scaled by sqrt(a_t) (the reference's "Uniqueness").
View2<double> similarity_points(const RunConfig& c, const diffusion::NoiseSchedule& schedule,
                                const systems::Dataset& data) {
  auto x =
      subset(data, static_cast<std::size_t>(c.analysis.similarity.points), c.seed, kSimilarity);
  diffuse_to_training_time(c, schedule, x, 0.0, CounterRng());
  return x;
}

// The points transported in the preservation analysis: a data sample, or that sample diffused
// to the training time t (analysis.mmd.start).
View2<double> transport_start(const RunConfig& c, const diffusion::NoiseSchedule& schedule,
                              const systems::Dataset& data) {
  auto x = subset(data, static_cast<std::size_t>(c.analysis.mmd.points), c.seed, kMmd);
  if (c.analysis.mmd.start == "diffused")
    diffuse_to_training_time(c, schedule, x, 1.0, CounterRng(c.seed, kMmd));
  return x;
}

// The Langevin correction of the transport (analysis.langevin): the run's score model in
// float64 at diffusion time tau, with the noise stream `stream`. Inactive when eta = 0.
class Corrector {
 public:
  Corrector(const RunConfig& c, diffusion::ScoreModel<float>& score, std::uint64_t stream)
      : eta_(c.analysis.langevin.eta), noise_(stream, kLangevin) {
    if (eta_ == 0) return;
    model_ = std::make_unique<diffusion::ScoreModel<double>>(
        score.dim(), static_cast<std::size_t>(c.score.hidden), score.schedule(), 0);
    nn::copy_parameters(score.model(), model_->model());
    field_ = std::make_unique<dynamics::ScoreField<double>>(*model_, c.analysis.langevin.tau);
  }
  dynamics::LangevinCorrection<double> correction() const { return {field_.get(), eta_, noise_}; }

 private:
  double eta_;
  CounterRng noise_;
  std::unique_ptr<diffusion::ScoreModel<double>> model_;
  std::unique_ptr<dynamics::ScoreField<double>> field_;
};

// The data sample x transported by RK4 under `field` (Langevin-corrected when eta > 0), measured
// every `every` steps: MMD^2 against the start, the fraction of points still bounded (finite, max
// |x_i| below ten times the data's largest coordinate) and, for the ring, the fraction inside the
// annulus 1 <= r <= 2 and the mean radius.
struct TransportCurves {
  std::vector<double> times, mmd2, bounded, annulus, mean_radius;
};

TransportCurves transport_curves(dynamics::VectorField<double>& field, const View2<double>& x,
                                 const RunConfig& c, const systems::Dataset& data,
                                 const Corrector& corrector) {
  const auto& m = c.analysis.mmd;
  const auto steps = static_cast<std::size_t>(m.steps), every = static_cast<std::size_t>(m.every);
  const auto traj =
      dynamics::integrate<double>(field, x, m.dt, steps, every, corrector.correction());
  double largest = 0;
  for (double v : data.values) largest = std::max(largest, std::abs(v));
  const double bound = 10 * largest;
  const bool ring = c.system == "ring" && data.d == 2;
  const std::size_t n = x.extent(0), d = x.extent(1);
  TransportCurves out;
  for (std::size_t f = 0; f < traj.extent(0); ++f) {
    const View2<double> frame = Kokkos::subview(traj, f, Kokkos::ALL, Kokkos::ALL);
    out.times.push_back(static_cast<double>(f * every) * m.dt);
    out.mmd2.push_back(dynamics::mmd2_rbf<double>(x, frame, m.bandwidth));
    double inside = 0, in_annulus = 0, radius = 0;
    Kokkos::parallel_reduce(
        "eqflow::analysis::support", RangePolicy(0, n),
        KOKKOS_LAMBDA(const std::size_t i, double& ok, double& ann, double& rad) {
          double largest_coordinate = 0, r2 = 0;
          for (std::size_t j = 0; j < d; ++j) {
            largest_coordinate = math::max(largest_coordinate, math::abs(frame(i, j)));
            r2 += frame(i, j) * frame(i, j);
          }
          const bool finite = largest_coordinate < bound;  // false for NaN and inf too
          ok += finite ? 1.0 : 0.0;
          const double r = math::sqrt(r2);
          ann += finite && r >= 1.0 && r <= 2.0 ? 1.0 : 0.0;
          rad += finite ? r : 0.0;
        },
        inside, in_annulus, radius);
    out.bounded.push_back(inside / n);
    if (ring) {
      out.annulus.push_back(in_annulus / n);
      out.mean_radius.push_back(inside > 0 ? radius / inside : 0.0);
    }
  }
  return out;
}

void write_field_grid(dynamics::VectorField<double>& field, const systems::Dataset& data,
                      io::H5File& out) {
  const std::size_t g = 41;
  std::vector<double> lo(2), hi(2);
  for (std::size_t j = 0; j < 2; ++j) {
    lo[j] = hi[j] = data.at(0, j);
    for (std::size_t i = 0; i < data.n; ++i) {
      lo[j] = std::min(lo[j], data.at(i, j));
      hi[j] = std::max(hi[j], data.at(i, j));
    }
    const double pad = 0.1 * (hi[j] - lo[j]);
    lo[j] -= pad, hi[j] += pad;
  }
  std::vector<double> xs(g), ys(g);
  for (std::size_t i = 0; i < g; ++i) {
    xs[i] = lo[0] + (hi[0] - lo[0]) * i / (g - 1);
    ys[i] = lo[1] + (hi[1] - lo[1]) * i / (g - 1);
  }
  View2<double> p("eqflow::analysis::grid", g * g, 2), v("eqflow::analysis::grid_v", g * g, 2);
  auto h = Kokkos::create_mirror_view(p);
  for (std::size_t r = 0; r < g; ++r) {
    for (std::size_t q = 0; q < g; ++q) h(r * g + q, 0) = xs[q], h(r * g + q, 1) = ys[r];
  }
  Kokkos::deep_copy(p, h);
  field.velocity(p, v);
  const auto hv = to_vector(v);
  std::vector<double> u(g * g), w(g * g);
  for (std::size_t i = 0; i < g * g; ++i) u[i] = hv[2 * i], w[i] = hv[2 * i + 1];
  out.write("/analysis/field/x", xs);
  out.write("/analysis/field/y", ys);
  out.write("/analysis/field/u", u, {g, g});
  out.write("/analysis/field/v", w, {g, g});
  out.set_attribute("/analysis/field", "description",
                    "velocity (u, v)[iy, ix] of the flow (evaluation mode) on the grid x, y");
}

}  // namespace

void analyse_flow(const RunConfig& c, nn::Model<float>& flow, diffusion::ScoreModel<float>& score,
                  const systems::Dataset& data, std::int64_t seed, io::H5File& out) {
  ScopedRegion region("eqflow::analyse_flow");
  const std::size_t d = data.d;
  nn::Model<double> model(make_flow_network<double>(c, d), 0);
  nn::copy_parameters(flow, model);
  nn::Mode mode = nn::Mode::Eval;
  if (c.analysis.norm_statistics == "data") {
    // Statistics of one batch of clean data points, then held fixed (Frozen).
    const auto x = subset(data, std::min<std::size_t>(data.n, 4096), c.seed, kNormStatistics);
    View2<double> v("eqflow::analysis::norm_batch", x.extent(0), d);
    model.forward(x, v, nn::Mode::Train);
    mode = nn::Mode::Frozen;
  }
  dynamics::ModelField<double> field(model, mode);
  const auto& a = c.analysis;
  const std::uint64_t key = flow_seed(c, seed);

  {  // Example trajectories from data points.
    const auto x0 = subset(data, 8, c.seed, kTrajectory);
    const auto steps = static_cast<std::size_t>(a.trajectory_steps);
    const std::size_t every = std::max<std::size_t>(1, steps / 500);
    const auto traj = dynamics::integrate<double>(field, x0, a.trajectory_dt, steps, every);
    out.write("/analysis/trajectory", to_vector(traj),
              {traj.extent(0), traj.extent(1), traj.extent(2)});
    out.set_attribute("/analysis/trajectory", "dt", a.trajectory_dt * static_cast<double>(every));
    out.set_attribute("/analysis/trajectory", "description",
                      "(frames, trajectories, d) RK4 trajectories of the flow from data points");
  }
  if (d == 2) write_field_grid(field, data, out);

  if (a.lyapunov.enabled) {
    dynamics::LyapunovSettings s;
    s.trajectories = static_cast<std::size_t>(a.lyapunov.trajectories);
    s.steps = static_cast<std::size_t>(a.lyapunov.steps);
    s.dt = a.lyapunov.dt;
    s.bound = a.lyapunov.max_abs;
    s.starts_per_try = static_cast<std::size_t>(a.lyapunov.batch);
    s.max_tries = static_cast<std::size_t>(a.lyapunov.tries);
    s.perturbation = a.lyapunov.sigma;
    s.segment = static_cast<std::size_t>(a.lyapunov.tau);
    s.seed = mix64(key ^ 0x4c79ull);
    const auto r = dynamics::lyapunov_reference(field, s);
    out.write("/analysis/lyapunov/exponent", r.exponent);
    out.write("/analysis/lyapunov/exponent_speed", r.exponent_speed_normalised);
    out.write("/analysis/lyapunov/mean_speed", r.mean_speed);
    out.write("/analysis/lyapunov/stable", static_cast<double>(r.stable_count));
    out.write("/analysis/lyapunov/tries", static_cast<std::int64_t>(r.tries));
    out.write("/analysis/lyapunov/diverged_segments",
              static_cast<std::int64_t>(r.diverged_segments));
    out.write("/analysis/lyapunov/distance_curve", r.distance_curve);
    out.set_attribute("/analysis/lyapunov/exponent", "units", "1 / time");
    out.set_attribute("/analysis/lyapunov", "dt", s.dt);
    out.set_attribute("/analysis/lyapunov", "tau", static_cast<std::int64_t>(s.segment));
    out.set_attribute("/analysis/lyapunov", "description",
                      "reference procedure: lambda = (log d_end - log d_start) / (tau dt); "
                      "exponent_speed = (log d_end - log d_start) / mean speed");
    if (r.stable_count == 0) {
      log::info("seed {}: no stable trajectory in {} tries: no Lyapunov exponent", seed, r.tries);
    } else {
      log::info("seed {}: Lyapunov exponent {:+.4f} from {} stable trajectories{}", seed,
                r.exponent, r.stable_count,
                r.diverged_segments > 0
                    ? fmt::format(" ({} segments left out: the perturbed copy diverged)",
                                  r.diverged_segments)
                    : std::string());
    }
  }
  if (a.spectrum.enabled) {
    dynamics::SpectrumSettings s;
    s.trajectories = static_cast<std::size_t>(a.spectrum.trajectories);
    s.dt = a.spectrum.dt;
    s.transient_steps = static_cast<std::size_t>(a.spectrum.transient);
    s.steps = static_cast<std::size_t>(a.spectrum.steps);
    s.qr_every = static_cast<std::size_t>(a.spectrum.qr_every);
    // Start on the data, where the flow is trained (standard-normal starts may leave it).
    const auto x0 = subset(data, s.trajectories, c.seed, kTrajectory);
    const auto r = dynamics::lyapunov_spectrum(field, x0, s);
    out.write("/analysis/spectrum/exponents", r.exponents);
    out.write("/analysis/spectrum/per_trajectory", r.per_trajectory,
              {r.per_trajectory.size() / d, d});
    out.set_attribute("/analysis/spectrum", "time", r.time);
    out.set_attribute("/analysis/spectrum", "description",
                      "Benettin spectrum: tangent dynamics through exact JVPs, QR every "
                      "qr_every steps, per unit time, descending");
  }
  if (a.mmd.enabled) {
    const auto x = transport_start(c, score.schedule(), data);
    const auto curves = transport_curves(field, x, c, data, Corrector(c, score, key));
    out.write("/analysis/mmd/time", curves.times);
    out.write("/analysis/mmd/learned", curves.mmd2);
    out.write("/analysis/mmd/bounded", curves.bounded);
    out.set_attribute("/analysis/mmd", "bandwidth", a.mmd.bandwidth);
    out.set_attribute("/analysis/mmd", "langevin_eta", a.langevin.eta);
    out.set_attribute("/analysis/mmd", "langevin_tau", a.langevin.tau);
    out.set_attribute("/analysis/mmd", "description",
                      "unbiased RBF MMD^2 between data points and their RK4 images (each RK4 "
                      "step followed by a Langevin step of eta s(x, tau) when langevin_eta > 0); "
                      "bounded: fraction of images finite and within 10x the data's largest "
                      "coordinate");
    if (!curves.annulus.empty()) {
      out.write("/analysis/mmd/annulus", curves.annulus);
      out.write("/analysis/mmd/mean_radius", curves.mean_radius);
      out.set_attribute("/analysis/mmd/annulus", "description",
                        "fraction of the transported points with 1 <= r <= 2");
    }
  }
  if (a.similarity.enabled && is_lorenz_frame(c, data)) {
    auto truth = true_lorenz(data);
    const auto x = similarity_points(c, score.schedule(), data);
    out.write("/analysis/similarity", dynamics::field_similarity<double>(field, truth, x));
    out.set_attribute("/analysis/similarity", "description",
                      "|cosine| between the flattened learned and true Lorenz velocities at "
                      "data points scaled by sqrt(a_t)");
  }

  // Held-out equilibrium residual, exact divergence: a fresh draw of the system diffused to
  // the training time t, scores from the score model, batch statistics of that batch.
  const auto held_out = held_out_dataset(c, data);
  if (held_out.n > 1) {
    const auto points = std::min<std::size_t>(held_out.n, 2048);
    const auto x64 = subset(held_out, points, c.seed, kResidual);
    View2<float> xt("eqflow::analysis::held_out", points, d),
        s("eqflow::analysis::score", points, d);
    Kokkos::deep_copy(xt, Kokkos::create_mirror_view_and_copy(MemSpace(), x64));
    diffuse_to_training_time(c, score.schedule(), xt, 1.0, CounterRng(c.seed, kResidual));
    score.score(xt, c.flow.t, s);
    flow::EquilibriumLoss<float> exact(flow::DivergenceEstimator::Exact);
    const double residual = exact.evaluate(flow, xt, s, CounterRng(), 0, nn::Mode::Train, false);
    out.write("/analysis/residual_heldout", residual);
    out.set_attribute("/analysis/residual_heldout", "description",
                      "mean (div v + v . s)^2, exact divergence, on a fresh draw of the system "
                      "diffused to the training time t (batch statistics of that batch)");
  }
}

void write_baselines(const RunConfig& c, diffusion::ScoreModel<float>& score,
                     const systems::Dataset& data, io::H5File& out) {
  ScopedRegion region("eqflow::write_baselines");
  const auto& a = c.analysis;
  const std::size_t d = data.d;
  const auto random_flows = static_cast<std::size_t>(a.mmd.random_flows);
  std::vector<double> random_mmd, random_similarity, times;
  for (std::size_t r = 0; r < random_flows; ++r) {
    const std::uint64_t key = mix64(c.seed ^ (0xBA5E0000ull + r));
    nn::Model<double> model(make_flow_network<double>(c, d), key);
    dynamics::ModelField<double> field(model, nn::Mode::Eval);
    if (a.mmd.enabled) {
      const auto x = transport_start(c, score.schedule(), data);
      const auto curves = transport_curves(field, x, c, data, Corrector(c, score, key));
      times = curves.times;
      random_mmd.insert(random_mmd.end(), curves.mmd2.begin(), curves.mmd2.end());
    }
    if (a.similarity.enabled && is_lorenz_frame(c, data)) {
      auto truth = true_lorenz(data);
      random_similarity.push_back(dynamics::field_similarity<double>(
          field, truth, similarity_points(c, score.schedule(), data)));
    }
  }
  if (a.mmd.enabled) {
    const auto points = static_cast<std::size_t>(a.mmd.points);
    if (data.n >= 2 * points) {
      const auto x = subset(data, points, c.seed, kNoiseFloor);
      const auto y = subset(data, points, c.seed, kNoiseFloor, points);
      out.write("/summary/mmd/noise_floor", dynamics::mmd2_rbf<double>(x, y, a.mmd.bandwidth));
      out.set_attribute("/summary/mmd/noise_floor", "description",
                        "MMD^2 between two disjoint random data samples of the same size");
    }
    if (!random_mmd.empty()) {
      if (!out.exists("/summary/mmd/time")) out.write("/summary/mmd/time", times);
      out.write("/summary/mmd/random", random_mmd, {random_flows, times.size()});
      out.set_attribute("/summary/mmd/random", "description", "untrained random flows");
    }
    if (a.langevin.eta > 0) {
      // The Langevin correction alone (v = 0): how much of the preservation is the flow's.
      dynamics::LinearField<double> zero(d, std::vector<double>(d * d, 0.0));
      const auto curves =
          transport_curves(zero, transport_start(c, score.schedule(), data), c, data,
                           Corrector(c, score, mix64(c.seed ^ 0x1A6E0000ull)));
      if (!out.exists("/summary/mmd/time")) out.write("/summary/mmd/time", curves.times);
      out.write("/summary/mmd/langevin_only", curves.mmd2);
      out.set_attribute("/summary/mmd/langevin_only", "description",
                        "the Langevin correction alone (v = 0), same eta, tau and noise level");
      if (!curves.annulus.empty()) {
        out.write("/summary/mmd/langevin_only_annulus", curves.annulus);
        out.write("/summary/mmd/langevin_only_mean_radius", curves.mean_radius);
      }
    }
  }
  if (!random_similarity.empty()) {
    out.write("/summary/similarity_random", random_similarity);
  }
}

}  // namespace eqflow::app::impl
