// Stage drivers of a low-dimensional run: dataset, score model (rank 0, stored in run.h5),
// flow seeds spread over ranks with checkpoints, and the summary. MPI appears here and in
// parallel/ only.
#include "eqflow/app/pipeline.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include "eqflow/app/deck.hpp"
#include "eqflow/app/describe.hpp"
#include "eqflow/app/impl/analysis.hpp"
#include "eqflow/app/impl/selection.hpp"
#include "eqflow/app/impl/setup.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/log.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/core/progress.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/core/timer.hpp"
#include "eqflow/diffusion/score_model.hpp"
#include "eqflow/flow/flow_trainer.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/io/run_files.hpp"
#include "eqflow/version.hpp"

namespace eqflow::app {

namespace fs = std::filesystem;

namespace {

// The settings a stored run must share with this deck for its stages to be reused:
// everything but the number of experiments, the output path and the analyses.
std::string reuse_key(RunConfig c) {
  c.experiments = 1;
  c.output.clear();
  c.analysis = AnalysisConfig{};
  return app::to_yaml(c);
}

io::RunIdentity identity(const RunConfig& c, std::size_t d) {
  return {c.system, d, app::to_yaml(c), reuse_key(c)};
}

// Runs `body` on rank 0 and makes every rank throw if it failed there.
void on_root(const parallel::Comm& comm, const std::function<void()>& body) {
  std::string error;
  if (comm.is_root()) {
    try {
      body();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  comm.broadcast(error);
  if (!error.empty()) throw Error(error);
}

io::ScoreArchitecture score_architecture(const RunConfig& c, std::size_t d) {
  return {d, static_cast<std::size_t>(c.score.hidden), c.score.diffusion_steps,
          c.score.schedule_delta};
}

// The stored run must have been made with this deck's data, score and flow settings for its
// stages to be reused.
void check_reusable(const io::H5File& file, const RunConfig& c) {
  if (file.read_string("/reuse_key") != reuse_key(c)) {
    throw ConfigError(file.path(), 0, 0, "output",
                      "holds a run with other data, score or flow settings; choose another "
                      "output directory or remove it");
  }
  const std::string revision = file.attribute_string("/", "gitRevision");
  if (revision != kGitRevision) {
    log::warn("{} was written by eqflow git {}, this is git {}: its stages are reused as they are",
              file.path(), revision, kGitRevision);
  }
}

// Score stage (rank 0): reuse the model stored in run.h5, or choose the settings (deck section
// select), train the score model with them and write run.h5 (once). `deck` is the run's deck
// (its identity), returned with the chosen settings applied.
RunConfig train_or_load_score(const RunConfig& deck, const io::RunDirectory& dir,
                              const systems::Dataset& data, diffusion::ScoreModel<float>& score,
                              bool progress) {
  if (fs::exists(dir.run_file())) {
    const auto file = io::H5File::open(dir.run_file());
    const auto record = io::read_score(file, score.model());
    log::info("score model: reusing {} ({} epochs)", dir.run_file(), record.loss.size());
    return impl::apply_selection(deck, io::read_selection(file));
  }
  io::SelectionRecord selection;
  if (deck.select.enabled) {
    ScopedRegion region("eqflow::stage::select");
    selection = impl::select_settings(deck, data);
  }
  const RunConfig c = impl::apply_selection(deck, selection);
  const auto s = impl::score_training(c);
  ProgressReporter bar("score epochs", c.score.epochs, progress);
  io::ScoreRecord record;
  record.arch = score_architecture(c, data.d);
  record.loss = score.train(impl::to_device(data), s, CounterRng(impl::score_seed(c), 1),
                            [&](std::int64_t epoch, double loss) {
                              bar.update(epoch + 1, fmt::format("loss {:.4f}", loss));
                            });
  bar.finish(record.loss.empty() ? "" : fmt::format("loss {:.4f}", record.loss.back()));
  if (c.score.samples > 0) {
    auto x =
        score.sample(static_cast<std::size_t>(c.score.samples), CounterRng(impl::score_seed(c), 2),
                     static_cast<int>(c.score.sampling_end));
    auto h = Kokkos::create_mirror_view_and_copy(HostSpace(), x);
    record.samples.assign(h.data(), h.data() + h.size());
  }
  io::write_run_file(dir, identity(deck, data.d), data, score.model(), record, selection);
  return c;
}

// One flow seed: train (resuming from a checkpoint), analyse, write atomically.
void run_seed(const RunConfig& c, const io::RunIdentity& id, const io::RunDirectory& dir,
              std::int64_t seed, const systems::Dataset& data, const View2<float>& device_data,
              diffusion::ScoreModel<float>& score, bool progress) {
  const std::size_t d = data.d;
  const auto arch = impl::flow_architecture(c, d);
  nn::Model<float> flow(nn::make_flow_network<float>(arch), impl::flow_seed(c, seed));
  flow::FlowTrainer<float> trainer(flow, score, device_data, impl::flow_training(c, d),
                                   CounterRng(impl::flow_seed(c, seed), 7));
  const std::string ckpt = dir.checkpoint_file(seed);
  if (fs::exists(ckpt)) {
    auto state = io::read_checkpoint(ckpt, flow, trainer.optimizer());
    trainer.restore(state.epoch, std::move(state.loss), trainer.optimizer().steps());
    log::info("seed {}: resuming from {} at epoch {}", seed, ckpt, trainer.epoch());
  }
  auto save_checkpoint = [&] {
    io::write_checkpoint(ckpt, flow, arch, trainer.optimizer(),
                         {seed, trainer.epoch(), trainer.loss_history()});
  };
  ProgressReporter bar(fmt::format("seed {} epochs", seed), c.flow.epochs, progress);
  trainer.run(c.flow.epochs, [&](std::int64_t epoch, double loss) {
    bar.update(epoch + 1, fmt::format("loss {:.4g}", loss));
    if ((epoch + 1) % c.flow.checkpoint_every == 0 && epoch + 1 < c.flow.epochs) {
      save_checkpoint();
    }
  });
  const auto& history = trainer.loss_history();
  bar.finish(history.empty() ? "" : fmt::format("loss {:.4g}", history.back()));

  auto file = io::create_seed_file(
      dir.seed_file(seed), id, seed, flow, arch,
      {impl::resolved_divergence(c, d), c.flow.t, c.flow.epochs, c.flow.t_count}, history);
  impl::analyse_flow(c, flow, score, data, seed, file);
  file.commit();
  std::error_code ignored;
  fs::remove(ckpt, ignored);
}

// Summary (rank 0): every complete seed file of the deck's experiments, with the baselines,
// into summary.h5 (run.h5 links to it and is not rewritten).
std::int64_t write_summary(const RunConfig& c, const io::RunIdentity& id,
                           const io::RunDirectory& dir, const systems::Dataset& data,
                           diffusion::ScoreModel<float>& score) {
  io::Summary summary;
  summary.experiments = c.experiments;
  for (std::int64_t k = 0; k < c.experiments; ++k) {
    const std::string path = dir.seed_file(k);
    if (fs::exists(path)) summary.seeds.push_back(io::read_seed_result(path));
  }
  summary.baselines = impl::compute_baselines(c, score, data);
  io::write_summary(dir, id, summary);
  log::info("summary: {} of {} seeds complete in {}\n{}", summary.seeds.size(), c.experiments,
            dir.summary_file(), format_summary(summary));
  return static_cast<std::int64_t>(summary.seeds.size());
}

}  // namespace

std::int64_t run_pipeline(const RunConfig& config, const parallel::Comm& comm,
                          const RunOptions& options) {
  Timer timer;
  const bool progress = options.progress && comm.is_root();
  // Stage 1: data (every rank): the stored points of an earlier run of this output, else
  // generated or read (deterministic; bad data stops the run before any output).
  const io::RunDirectory dir(config.output);
  const systems::Dataset data = [&] {
    ScopedRegion region("eqflow::stage::data");
    if (!fs::exists(dir.run_file())) return impl::load_dataset(config);
    const auto file = io::H5File::open(dir.run_file());
    check_reusable(file, config);
    return io::read_dataset(file);
  }();
  if (comm.is_root()) {
    dir.create();
    log::info("eqflow run: system {}, {} experiments, output {}, {} rank(s)", config.system,
              config.experiments, config.output, comm.size());
  }
  comm.barrier();
  log::info("data: {} points in {} dimensions{}", data.n, data.d,
            data.normalised ? " (normalised per axis)" : "");
  const auto device_data = impl::to_device(data);

  // Stage 2: score model (rank 0 trains or reuses; everyone reads run.h5).
  diffusion::ScoreModel<float> score(
      data.d, static_cast<std::size_t>(config.score.hidden),
      diffusion::NoiseSchedule::cosine(static_cast<int>(config.score.diffusion_steps),
                                       config.score.schedule_delta),
      impl::score_seed(config));
  // The settings the run uses: the deck's, or those chosen from a validation split.
  RunConfig used = config;
  on_root(comm, [&] {
    ScopedRegion region("eqflow::stage::score");
    used = train_or_load_score(config, dir, data, score, progress);
  });
  if (!comm.is_root()) {
    const auto file = io::H5File::open(dir.run_file());
    io::read_score(file, score.model());
    used = impl::apply_selection(config, io::read_selection(file));
  }
  const io::RunIdentity id = identity(config, data.d);

  // Stage 3: flows, seeds spread over ranks; a failed seed is reported, the others go on.
  const std::int64_t last = options.last_seed < 0 ? config.experiments : options.last_seed;
  const auto mine = parallel::seeds_for_rank(options.first_seed, last, comm.rank(), comm.size());
  std::vector<double> failures(1, 0.0), trained(1, 0.0);
  Timer flow_timer;
  for (const auto seed : mine) {
    if (fs::exists(dir.seed_file(seed))) {
      log::debug("seed {}: complete, skipped", seed);
      continue;
    }
    if (const auto stale = dir.remove_stale_temporaries(seed)) {
      log::info("seed {}: removed {} temporary file(s) of a killed run", seed, stale);
    }
    try {
      ScopedRegion region("eqflow::stage::flow_seed");
      run_seed(used, id, dir, seed, data, device_data, score, progress);
      trained[0] += 1;
    } catch (const std::exception& e) {
      log::error("seed {} failed: {}", seed, e.what());
      failures[0] += 1;
    }
  }
  const double flow_seconds = comm.max(flow_timer.host_seconds());
  comm.allreduce_sum(failures);
  comm.allreduce_sum(trained);
  if (trained[0] > 0) {
    log::info("flows: {} seed(s) trained and analysed in {} on {} rank(s): {:.4g} seeds/s",
              trained[0], format_duration(flow_seconds), comm.size(), trained[0] / flow_seconds);
  }

  // Stage 4: summary.
  std::int64_t complete = 0;
  on_root(comm, [&] {
    ScopedRegion region("eqflow::stage::summary");
    complete = write_summary(used, id, dir, data, score);
  });
  log::info("done in {}", format_duration(timer.host_seconds()));
  if (failures[0] > 0) throw Error(fmt::format("{} seed(s) failed (see the log)", failures[0]));
  return complete;
}

}  // namespace eqflow::app
