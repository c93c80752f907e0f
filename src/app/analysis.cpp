// Analyses of a trained flow (float64) and the run's baselines: example trajectories, the
// 2-D velocity field, Lyapunov exponent (reference procedure) and spectrum, distribution
// preservation (MMD^2 curves) and, for lorenz, the similarity to the true field.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "eqflow/app/impl/analysis.hpp"
#include "eqflow/app/impl/setup.hpp"
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
  kLangevin = 17,
  kDiffusionFloor = 18
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
// float64 at diffusion time tau, with the noise stream `stream`. Inactive when eta = 0; `pure`
// makes it inactive whatever the deck's eta (the pure flow of a Langevin-corrected run).
class Corrector {
 public:
  Corrector(const RunConfig& c, diffusion::ScoreModel<float>& score, std::uint64_t stream,
            bool pure = false)
      : eta_(pure ? 0.0 : c.analysis.langevin.eta), noise_(stream, kLangevin) {
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

// The RBF bandwidth of every MMD^2 of the run (analysis.mmd.bandwidth): the fixed number, or
// the median pairwise distance of the transport start, which is the same cloud for every seed.
double mmd_bandwidth(const RunConfig& c, const diffusion::NoiseSchedule& schedule,
                     const systems::Dataset& data) {
  return start_bandwidth(c, transport_start(c, schedule, data));
}

// The data sample x transported by RK4 under `field` (Langevin-corrected when eta > 0), measured
// every `every` steps: paired MMD^2 against the start, the fraction of points still bounded
// (finite, max |x_i| below ten times the data's largest coordinate) and, for the ring, the
// fraction inside the annulus 1 <= r <= 2 and the mean radius of the bounded points.
struct TransportCurves {
  dynamics::TransportCurve curve;
  std::vector<double> annulus, mean_radius;
};

// Appends the fraction of the points of `frame` (N, 2) in the annulus 1 <= r <= 2 and the mean
// radius of its bounded points (finite, |coordinates| < bound).
void add_ring_statistics(const View2<double>& frame, double bound, TransportCurves& out) {
  double inside = 0, in_annulus = 0, radius = 0;
  Kokkos::parallel_reduce(
      "eqflow::analysis::annulus", RangePolicy(0, frame.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i, double& ok, double& ann, double& rad) {
        const double r = math::sqrt(frame(i, 0) * frame(i, 0) + frame(i, 1) * frame(i, 1));
        const bool finite =  // false for NaN and inf too
            math::abs(frame(i, 0)) < bound && math::abs(frame(i, 1)) < bound;
        ok += finite ? 1.0 : 0.0;
        ann += finite && r >= 1.0 && r <= 2.0 ? 1.0 : 0.0;
        rad += finite ? r : 0.0;
      },
      inside, in_annulus, radius);
  out.annulus.push_back(in_annulus / static_cast<double>(frame.extent(0)));
  out.mean_radius.push_back(inside > 0 ? radius / inside : 0.0);
}

TransportCurves transport_curves(dynamics::VectorField<double>& field, const View2<double>& x,
                                 const RunConfig& c, const systems::Dataset& data, double sigma,
                                 const Corrector& corrector) {
  const auto& m = c.analysis.mmd;
  double largest = 0;
  for (double v : data.values) largest = std::max(largest, std::abs(v));
  dynamics::TransportSettings settings;
  settings.dt = m.dt;
  settings.steps = static_cast<std::size_t>(m.steps);
  settings.every = static_cast<std::size_t>(m.every);
  settings.sigma = sigma;
  settings.bound = 10 * largest;
  TransportCurves out;
  dynamics::FrameObserver<double> ring;
  if (c.system == "ring" && data.d == 2) {
    ring = [&out, bound = settings.bound](std::size_t, const View2<double>& frame) {
      add_ring_statistics(frame, bound, out);
    };
  }
  out.curve = dynamics::transport_curve<double>(field, x, settings, corrector.correction(), ring);
  return out;
}

}  // namespace

double mmd_to_diffused(const RunConfig& c, const diffusion::NoiseSchedule& schedule,
                       const View2<double>& x, const View2<double>& y, double sigma) {
  View2<double> yt("eqflow::analysis::diffused", y.extent(0), y.extent(1));
  Kokkos::deep_copy(yt, y);
  diffuse_to_training_time(c, schedule, yt, 1.0, CounterRng(c.seed, kDiffusionFloor));
  return dynamics::mmd2_rbf_two_sample<double>(x, yt, sigma);
}

double diffusion_floor(const RunConfig& c, const diffusion::NoiseSchedule& schedule,
                       const systems::Dataset& data, double sigma) {
  const auto held_out = held_out_dataset(c, data);
  const std::size_t wanted = static_cast<std::size_t>(c.analysis.mmd.points);
  View2<double> x, y;
  if (held_out.n >= 2) {
    const std::size_t n = std::min({wanted, data.n, held_out.n});
    x = subset(data, n, c.seed, kDiffusionFloor);
    y = subset(held_out, n, c.seed, kDiffusionFloor);
  } else {  // samples: two disjoint halves of the rows
    const std::size_t n = std::min(wanted, data.n / 2);
    if (n < 2) return io::SeedResult::kNone;
    x = subset(data, n, c.seed, kDiffusionFloor);
    y = subset(data, n, c.seed, kDiffusionFloor, n);
  }
  return mmd_to_diffused(c, schedule, x, y, sigma);
}

namespace {

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
  if (c.analysis.norm_statistics != "running") {
    // Statistics of one batch of clean data points ("data") or of those points diffused to the
    // training time t ("diffused": the distribution the flow was trained on, with many more
    // points than the running averages saw), then held fixed (Frozen).
    const auto x = subset(data, std::min<std::size_t>(data.n, 4096), c.seed, kNormStatistics);
    if (c.analysis.norm_statistics == "diffused") {
      diffuse_to_training_time(c, score.schedule(), x, 1.0, CounterRng(c.seed, kNormStatistics));
    }
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
    const double sigma = mmd_bandwidth(c, score.schedule(), data);
    const auto curves = transport_curves(field, x, c, data, sigma, Corrector(c, score, key));
    out.write("/analysis/mmd/time", curves.curve.times);
    out.write("/analysis/mmd/learned", curves.curve.mmd2);
    out.write("/analysis/mmd/bounded", curves.curve.bounded);
    out.set_attribute("/analysis/mmd", "bandwidth", sigma);
    out.set_attribute("/analysis/mmd", "bandwidth_rule", a.mmd.bandwidth);
    out.set_attribute("/analysis/mmd", "langevin_eta", a.langevin.eta);
    out.set_attribute("/analysis/mmd", "langevin_tau", a.langevin.tau);
    out.set_attribute("/analysis/mmd", "description",
                      "unbiased paired RBF MMD^2 (U-statistic over pairs (x_i, x_i(T)), exactly "
                      "0 at T = 0) between data points and their RK4 images (each RK4 step "
                      "followed by a Langevin step of eta s(x, tau) when langevin_eta > 0); "
                      "bandwidth: the RBF sigma (bandwidth_rule 'median': the median pairwise "
                      "distance of the start points); bounded: fraction of images finite and "
                      "within 10x the data's largest coordinate");
    if (!curves.annulus.empty()) {
      out.write("/analysis/mmd/annulus", curves.annulus);
      out.write("/analysis/mmd/mean_radius", curves.mean_radius);
      out.set_attribute("/analysis/mmd/annulus", "description",
                        "fraction of the transported points with 1 <= r <= 2");
    }
    if (a.langevin.eta > 0) {
      // The same flow without the correction: the flow's own share of the result.
      const auto pure = transport_curves(field, x, c, data, sigma, Corrector(c, score, key, true));
      out.write("/analysis/mmd/pure_flow", pure.curve.mmd2);
      out.set_attribute("/analysis/mmd/pure_flow", "description",
                        "paired MMD^2 of the same flow transported without the Langevin "
                        "correction (eta 0), on the same time grid");
      if (!pure.annulus.empty()) {
        out.write("/analysis/mmd/pure_flow_annulus", pure.annulus);
        out.write("/analysis/mmd/pure_flow_mean_radius", pure.mean_radius);
      }
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
    const double residual =
        equilibrium_residual(c, flow, score, subset(held_out, points, c.seed, kResidual));
    out.write("/analysis/residual_heldout", residual);
    out.set_attribute("/analysis/residual_heldout", "description",
                      "mean (div v + v . s)^2, exact divergence, on a fresh draw of the system "
                      "diffused to the training time t (batch statistics of that batch)");
  }
}

double equilibrium_residual(const RunConfig& c, nn::Model<float>& flow,
                            diffusion::ScoreModel<float>& score, const View2<double>& x) {
  const std::size_t n = x.extent(0), d = x.extent(1);
  View2<float> xt("eqflow::analysis::held_out", n, d), s("eqflow::analysis::score", n, d);
  Kokkos::deep_copy(xt, Kokkos::create_mirror_view_and_copy(MemSpace(), x));
  diffuse_to_training_time(c, score.schedule(), xt, 1.0, CounterRng(c.seed, kResidual));
  score.score(xt, c.flow.t, s);
  flow::EquilibriumLoss<float> exact(flow::DivergenceEstimator::Exact);
  return exact.evaluate(flow, xt, s, CounterRng(), 0, nn::Mode::Train, false);
}

double transported_mmd(const RunConfig& c, nn::Model<float>& flow,
                       diffusion::ScoreModel<float>& score, const systems::Dataset& data,
                       const View2<double>& x, double sigma, std::uint64_t key) {
  nn::Model<double> model(make_flow_network<double>(c, data.d), 0);
  nn::copy_parameters(flow, model);
  dynamics::ModelField<double> field(model, nn::Mode::Eval);
  const auto curves = transport_curves(field, x, c, data, sigma, Corrector(c, score, key));
  return curves.curve.mmd2.back();
}

double start_bandwidth(const RunConfig& c, const View2<double>& x) {
  if (c.analysis.mmd.bandwidth != "median") return std::stod(c.analysis.mmd.bandwidth);
  return dynamics::median_pairwise_distance<double>(x);
}

io::Baselines compute_baselines(const RunConfig& c, diffusion::ScoreModel<float>& score,
                                const systems::Dataset& data) {
  ScopedRegion region("eqflow::compute_baselines");
  const auto& a = c.analysis;
  const std::size_t d = data.d;
  io::Baselines out;
  const double sigma = a.mmd.enabled ? mmd_bandwidth(c, score.schedule(), data) : 0.0;
  for (std::int64_t r = 0; r < a.mmd.random_flows; ++r) {
    const std::uint64_t key = mix64(c.seed ^ (0xBA5E0000ull + static_cast<std::uint64_t>(r)));
    nn::Model<double> model(make_flow_network<double>(c, d), key);
    dynamics::ModelField<double> field(model, nn::Mode::Eval);
    if (a.mmd.enabled) {
      const auto x = transport_start(c, score.schedule(), data);
      const auto curves = transport_curves(field, x, c, data, sigma, Corrector(c, score, key));
      out.random_mmd.push_back({curves.curve.times, curves.curve.mmd2});
    }
    if (a.similarity.enabled && is_lorenz_frame(c, data)) {
      auto truth = true_lorenz(data);
      out.random_similarity.push_back(dynamics::field_similarity<double>(
          field, truth, similarity_points(c, score.schedule(), data)));
    }
  }
  if (a.mmd.enabled) {
    out.bandwidth = sigma;
    out.bandwidth_rule = a.mmd.bandwidth;
    const auto points = static_cast<std::size_t>(a.mmd.points);
    if (data.n >= 2 * points) {
      // Two disjoint samples of the transported distribution (p, or p_t for start: diffused).
      const auto x = subset(data, points, c.seed, kNoiseFloor);
      const auto y = subset(data, points, c.seed, kNoiseFloor, points);
      if (a.mmd.start == "diffused") {
        const CounterRng noise(c.seed, kNoiseFloor);
        diffuse_to_training_time(c, score.schedule(), x, 1.0, derive_stream(noise, 1, 0));
        diffuse_to_training_time(c, score.schedule(), y, 1.0, derive_stream(noise, 2, 0));
      }
      out.noise_floor = dynamics::mmd2_rbf_two_sample<double>(x, y, sigma);
    }
    out.diffusion_floor = diffusion_floor(c, score.schedule(), data, sigma);
    out.diffusion_floor_t = c.flow.t;
    if (a.langevin.eta > 0) {
      // The Langevin correction alone (v = 0): how much of the preservation is the flow's.
      dynamics::LinearField<double> zero(d, std::vector<double>(d * d, 0.0));
      const auto curves =
          transport_curves(zero, transport_start(c, score.schedule(), data), c, data, sigma,
                           Corrector(c, score, mix64(c.seed ^ 0x1A6E0000ull)));
      out.langevin_only = {curves.curve.times, curves.curve.mmd2};
      if (!curves.annulus.empty()) {
        out.langevin_only_annulus = {curves.curve.times, curves.annulus};
        out.langevin_only_mean_radius = {curves.curve.times, curves.mean_radius};
      }
    }
  }
  return out;
}

}  // namespace eqflow::app::impl
