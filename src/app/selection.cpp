// Settings chosen from a validation split of the user's data: score epochs, the flow's
// training time t and the Langevin eta of the transport.
#include "eqflow/app/impl/selection.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "eqflow/app/impl/analysis.hpp"
#include "eqflow/app/impl/setup.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/log.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/core/progress.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/core/timer.hpp"

namespace eqflow::app::impl {
namespace {

// The first `count` rows of `data` in float64 on the device.
View2<double> first_rows(const systems::Dataset& data, std::size_t count) {
  View2<double> out("eqflow::select::points", count, data.d);
  auto h = Kokkos::create_mirror_view(out);
  for (std::size_t i = 0; i < count * data.d; ++i) h.data()[i] = data.values[i];
  Kokkos::deep_copy(out, h);
  return out;
}

}  // namespace

io::SelectionRecord select_settings(const RunConfig& c, const systems::Dataset& data) {
  ScopedRegion region("eqflow::select_settings");
  const auto& sel = c.select;
  const std::size_t d = data.d;
  const auto [validation, training] =
      split_rows(data, sel.validation, mix64(c.seed ^ 0x56616c6964ull));
  const auto device_training = to_device(training);
  const std::size_t points = std::min(static_cast<std::size_t>(sel.points), validation.n);
  const auto x = first_rows(validation, points);
  const auto y = first_rows(training, std::min(points, training.n));
  const double sigma = start_bandwidth(c, x);

  // The candidates' transport: the analysis settings, run to the horizon and scored there.
  RunConfig probe = c;
  probe.analysis.mmd.steps =
      std::max<std::int64_t>(1, std::llround(sel.horizon / c.analysis.mmd.dt));
  probe.analysis.mmd.every = probe.analysis.mmd.steps;

  io::SelectionRecord out;
  out.horizon = static_cast<double>(probe.analysis.mmd.steps) * c.analysis.mmd.dt;
  out.bandwidth = sigma;
  out.validation_points = static_cast<std::int64_t>(points);
  out.training_points = static_cast<std::int64_t>(training.n);
  log::info(
      "select: {} candidates (score epochs x t x eta) on {} training points, scored on {} "
      "validation points after T = {} (RBF bandwidth {:.4g})",
      sel.score_epochs.size() * sel.t.size() * sel.eta.size(), training.n, points, out.horizon,
      sigma);
  const std::size_t models = sel.score_epochs.size() * sel.t.size();
  std::size_t trained = 0;
  Timer timer;
  for (const std::int64_t epochs : sel.score_epochs) {
    RunConfig ce = probe;
    ce.score.epochs = epochs;
    diffusion::ScoreModel<float> score(
        d, static_cast<std::size_t>(c.score.hidden),
        diffusion::NoiseSchedule::cosine(static_cast<int>(c.score.diffusion_steps),
                                         c.score.schedule_delta),
        score_seed(c));
    const auto loss =
        score.train(device_training, score_training(ce), CounterRng(score_seed(c), 1));
    for (const double t : sel.t) {
      RunConfig ct = ce;
      ct.flow.t = t;
      nn::Model<float> flow(make_flow_network<float>(ct, d), flow_seed(c, 0));
      flow::FlowTrainer<float> trainer(flow, score, device_training, flow_training(ct, d),
                                       CounterRng(flow_seed(c, 0), 7));
      trainer.run(ct.flow.epochs);
      const double residual = equilibrium_residual(ct, flow, score, x);
      const double floor = mmd_to_diffused(ct, score.schedule(), x, y, sigma);
      for (const double eta : sel.eta) {
        ct.analysis.langevin.eta = eta;
        const double mmd = transported_mmd(ct, flow, score, data, x, sigma, flow_seed(c, 0));
        out.score_epochs.push_back(epochs);
        out.t.push_back(t);
        out.eta.push_back(eta);
        out.mmd2.push_back(mmd);
        out.residual.push_back(residual);
        out.floor.push_back(floor);
        out.score_loss.push_back(loss.empty() ? io::SeedResult::kNone : loss.back());
        log::info(
            "select: score {} epochs, t {}, eta {}: MMD^2 {:.4g} (floor MMD^2(p, p_t) "
            "{:.4g}), residual {:.4g}",
            epochs, t, eta, mmd, floor, residual);
      }
      ++trained;
      const double elapsed = timer.host_seconds();
      log::info("select: {} of {} models in {}, ETA {}", trained, models, format_duration(elapsed),
                format_duration(elapsed / static_cast<double>(trained) *
                                static_cast<double>(models - trained)));
    }
  }
  std::size_t best = out.mmd2.size();
  for (std::size_t i = 0; i < out.mmd2.size(); ++i) {
    if (std::isfinite(out.mmd2[i]) && (best == out.mmd2.size() || out.mmd2[i] < out.mmd2[best])) {
      best = i;
    }
  }
  if (best == out.mmd2.size()) {
    throw Error(
        "select: every candidate's transport diverged (MMD^2 not finite); set the "
        "settings by hand (select.enabled: false)");
  }
  out.chosen = best;
  log::info("select: chosen score {} epochs, t {}, eta {} (validation MMD^2 {:.4g})",
            out.score_epochs[best], out.t[best], out.eta[best], out.mmd2[best]);
  return out;
}

RunConfig apply_selection(RunConfig c, const io::SelectionRecord& s) {
  if (s.empty()) return c;
  c.score.epochs = s.score_epochs.at(s.chosen);
  c.flow.t = s.t.at(s.chosen);
  c.analysis.langevin.eta = s.eta.at(s.chosen);
  return c;
}

}  // namespace eqflow::app::impl
