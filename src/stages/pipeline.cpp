// Stage drivers of a low-dimensional run: dataset, score model (rank 0, stored in run.h5),
// flow seeds spread over ranks with checkpoints, and the summary. MPI appears here and in
// parallel/ only.
#include "eqflow/app/pipeline.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include "eqflow/app/impl/stages.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/log.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/core/progress.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/core/timer.hpp"
#include "eqflow/diffusion/score_model.hpp"
#include "eqflow/flow/flow_trainer.hpp"
#include "eqflow/io/deck.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/version.hpp"

namespace eqflow::app {

namespace fs = std::filesystem;

std::string run_file(const RunConfig& c) {
  return (fs::path(c.output) / "run.h5").string();
}
std::string seed_file(const RunConfig& c, std::int64_t seed) {
  return (fs::path(c.output) / "seeds" / fmt::format("seed_{:06d}.h5", seed)).string();
}
std::string checkpoint_file(const RunConfig& c, std::int64_t seed) {
  return (fs::path(c.output) / "checkpoints" / fmt::format("seed_{:06d}.h5", seed)).string();
}

namespace {

constexpr int kSchemaVersion = 1;

// The settings a stored run must share with this deck for its stages to be reused:
// everything but the number of experiments, the output path and the analyses.
std::string reuse_key(RunConfig c) {
  c.experiments = 1;
  c.output.clear();
  c.analysis = AnalysisConfig{};
  return io::to_yaml(c);
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

template <class T>
std::vector<T> to_host_vector(const View1<T>& v) {
  auto h = Kokkos::create_mirror_view_and_copy(HostSpace(), v);
  return std::vector<T>(h.data(), h.data() + h.extent(0));
}

template <class T>
void from_host_vector(const View1<T>& v, const std::vector<T>& values, const std::string& what) {
  if (values.size() != v.extent(0)) {
    throw Error(
        fmt::format("{}: {} values stored, the model has {}", what, values.size(), v.extent(0)));
  }
  auto h = Kokkos::create_mirror_view(v);
  std::copy(values.begin(), values.end(), h.data());
  Kokkos::deep_copy(v, h);
}

void write_model(io::H5File& file, const std::string& group, const nn::Model<float>& model) {
  const auto& store = model.parameters();
  file.write(group + "/parameters", to_host_vector(store.values()));
  file.write(group + "/buffers", to_host_vector(store.buffers()));
  std::string layout;
  for (const auto& slot : store.parameter_slots()) {
    layout += fmt::format("{} {} [{}]\n", slot.name, slot.offset, fmt::join(slot.extents, ", "));
  }
  file.write_string(group + "/layout", layout);
}

void read_model(const io::H5File& file, const std::string& group, nn::Model<float>& model) {
  from_host_vector(model.parameters().values(), file.read_floats(group + "/parameters"),
                   file.path() + ":" + group + "/parameters");
  from_host_vector(model.parameters().buffers(), file.read_floats(group + "/buffers"),
                   file.path() + ":" + group + "/buffers");
}

View2<float> to_device(const systems::Dataset& data) {
  View2<float> out("eqflow::data", data.n, data.d);
  auto h = Kokkos::create_mirror_view(out);
  for (std::size_t i = 0; i < data.n * data.d; ++i)
    h.data()[i] = static_cast<float>(data.values[i]);
  Kokkos::deep_copy(out, h);
  return out;
}

diffusion::NoiseSchedule schedule_of(const RunConfig& c) {
  return diffusion::NoiseSchedule::cosine(static_cast<int>(c.score.diffusion_steps),
                                          c.score.schedule_delta);
}

std::uint64_t score_seed(const RunConfig& c) {
  return mix64(c.seed ^ 0x53636f7265ull);
}

void write_dataset(io::H5File& file, const systems::Dataset& data) {
  file.write("/data/points", data.values, {data.n, data.d});
  file.write("/data/mean", data.mean);
  file.write("/data/scale", data.scale);
  file.set_attribute("/data", "system", data.name);
  file.set_attribute("/data", "normalised", static_cast<std::int64_t>(data.normalised));
  file.set_attribute("/data", "description",
                     "points are (raw - mean) / scale per axis; all flows act on these");
}

void write_common(io::H5File& file, const RunConfig& c, const std::string& schema, std::size_t d) {
  io::write_provenance(file, schema, kSchemaVersion);
  file.set_attribute("/", "system", c.system);
  file.set_attribute("/", "dim", static_cast<std::int64_t>(d));
  file.write_string("/deck", io::to_yaml(c));
  file.write_string("/reuse_key", reuse_key(c));
}

// The stored run in `path` must have been made with this deck's data, score and flow
// settings for its stages to be reused.
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

// The dataset as stored by an earlier run (so a resumed run sees exactly the same points,
// whatever the code version that regenerates them).
systems::Dataset read_dataset(const io::H5File& file) {
  std::vector<std::size_t> shape;
  auto points = file.read_doubles("/data/points", &shape);
  systems::Dataset data =
      systems::make_dataset(file.attribute_string("/data", "system"), shape.at(0), shape.at(1));
  data.values = std::move(points);
  data.mean = file.read_doubles("/data/mean");
  data.scale = file.read_doubles("/data/scale");
  data.normalised = file.attribute_int("/data", "normalised") != 0;
  return data;
}

// Score stage (rank 0): train, or reuse the model stored in run.h5.
struct ScoreStage {
  std::vector<double> loss;
  std::vector<float> samples;
};

ScoreStage train_or_load_score(const RunConfig& c, const systems::Dataset& data,
                               diffusion::ScoreModel<float>& score, bool progress) {
  ScoreStage out;
  const std::string path = run_file(c);
  if (fs::exists(path)) {
    auto file = io::H5File::open(path);
    read_model(file, "/score", score.model());
    out.loss = file.read_doubles("/score/loss");
    if (file.exists("/score/samples")) out.samples = file.read_floats("/score/samples");
    log::info("score model: reusing {} ({} epochs)", path, out.loss.size());
    return out;
  }
  diffusion::ScoreTrainingSettings s;
  s.epochs = c.score.epochs;
  s.batch = c.score.batch;
  s.lr = c.score.lr;
  s.cosine_lr = c.score.lr_schedule == "cosine";
  s.weight_decay = c.score.weight_decay;
  ProgressReporter bar("score epochs", c.score.epochs, progress);
  const auto device_data = to_device(data);
  out.loss = score.train(device_data, s, CounterRng(score_seed(c), 1),
                         [&](std::int64_t epoch, double loss) {
                           bar.update(epoch + 1, fmt::format("loss {:.4f}", loss));
                         });
  bar.finish(out.loss.empty() ? "" : fmt::format("loss {:.4f}", out.loss.back()));
  if (c.score.samples > 0) {
    auto x = score.sample(static_cast<std::size_t>(c.score.samples), CounterRng(score_seed(c), 2),
                          static_cast<int>(c.score.sampling_end));
    auto h = Kokkos::create_mirror_view_and_copy(HostSpace(), x);
    out.samples.assign(h.data(), h.data() + h.size());
  }
  return out;
}

void write_score(io::H5File& file, const RunConfig& c, diffusion::ScoreModel<float>& score,
                 const ScoreStage& stage, std::size_t d) {
  write_model(file, "/score", score.model());
  file.write("/score/loss", stage.loss);
  file.set_attribute("/score", "architecture", "MLP [x, 2t-1] -> hidden -> hidden -> d, ReLU, + x");
  file.set_attribute("/score", "prediction", "eps");
  file.set_attribute("/score", "hidden", c.score.hidden);
  file.set_attribute("/score", "schedule", "cosine");
  file.set_attribute("/score", "diffusion_steps", c.score.diffusion_steps);
  if (!stage.samples.empty()) {
    file.write("/score/samples", stage.samples, {stage.samples.size() / d, d});
    file.set_attribute("/score/samples", "description", "deterministic DDIM samples");
  }
}

// One flow seed: train (resuming from a checkpoint), analyse, write atomically.
void run_seed(const RunConfig& c, std::int64_t seed, const systems::Dataset& data,
              const View2<float>& device_data, diffusion::ScoreModel<float>& score, bool progress) {
  const std::size_t d = data.d;
  nn::Model<float> flow(impl::make_flow_network<float>(c, d), impl::flow_seed(c, seed));
  flow::FlowTrainingSettings s;
  s.epochs = c.flow.epochs;
  s.batch = c.flow.batch;
  s.lr = c.flow.lr;
  s.cosine_lr = c.flow.lr_schedule == "cosine";
  s.weight_decay = c.flow.weight_decay;
  s.estimator = flow::parse_divergence_estimator(impl::resolved_divergence(c, d));
  s.probes = static_cast<int>(c.flow.probes);
  s.t = c.flow.t;
  flow::FlowTrainer<float> trainer(flow, score, device_data, s,
                                   CounterRng(impl::flow_seed(c, seed), 7));
  const std::string ckpt = checkpoint_file(c, seed);
  if (fs::exists(ckpt)) {
    auto file = io::H5File::open(ckpt);
    read_model(file, "/flow", flow);
    from_host_vector(trainer.optimizer().first_moment(), file.read_floats("/adam/m"), ckpt);
    from_host_vector(trainer.optimizer().second_moment(), file.read_floats("/adam/v"), ckpt);
    trainer.restore(file.attribute_int("/", "epoch"), file.read_doubles("/flow/loss"),
                    file.attribute_int("/", "optimizer_steps"));
    log::info("seed {}: resuming from {} at epoch {}", seed, ckpt, trainer.epoch());
  }
  auto save_checkpoint = [&] {
    auto file = io::H5File::create(ckpt);
    write_model(file, "/flow", flow);
    file.write("/flow/loss", trainer.loss_history());
    file.write("/adam/m", to_host_vector(trainer.optimizer().first_moment()));
    file.write("/adam/v", to_host_vector(trainer.optimizer().second_moment()));
    file.set_attribute("/", "epoch", trainer.epoch());
    file.set_attribute("/", "optimizer_steps", trainer.optimizer().steps());
    file.set_attribute("/", "seed", seed);
    file.commit();
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

  auto file = io::H5File::create(seed_file(c, seed));
  write_common(file, c, "eqflow.seed", d);
  file.set_attribute("/", "seed", seed);
  write_model(file, "/flow", flow);
  file.write("/flow/loss", history);
  file.set_attribute("/flow", "model", c.flow.model);
  file.set_attribute("/flow", "divergence", impl::resolved_divergence(c, d));
  file.set_attribute("/flow", "t", c.flow.t);
  file.set_attribute("/flow", "epochs", c.flow.epochs);
  impl::analyse_flow(c, flow, score, data, seed, file);
  file.commit();
  std::error_code ignored;
  fs::remove(ckpt, ignored);
}

// Summary (rank 0): gathers every complete seed file into run.h5 with the baselines.
std::int64_t write_summary(const RunConfig& c, const systems::Dataset& data,
                           diffusion::ScoreModel<float>& score, const ScoreStage& stage) {
  std::vector<std::int64_t> seeds;
  std::vector<double> final_loss, lyap, lyap_speed, stable, similarity, spectrum, mmd;
  std::vector<double> mmd_time;
  for (std::int64_t k = 0; k < c.experiments; ++k) {
    const std::string path = seed_file(c, k);
    if (!fs::exists(path)) continue;
    auto f = io::H5File::open(path);
    seeds.push_back(k);
    final_loss.push_back(f.read_doubles("/flow/loss").back());
    if (f.exists("/analysis/lyapunov")) {
      lyap.push_back(f.read_double("/analysis/lyapunov/exponent"));
      lyap_speed.push_back(f.read_double("/analysis/lyapunov/exponent_speed"));
      stable.push_back(f.read_double("/analysis/lyapunov/stable"));
    }
    if (f.exists("/analysis/spectrum")) {
      for (double e : f.read_doubles("/analysis/spectrum/exponents")) spectrum.push_back(e);
    }
    if (f.exists("/analysis/similarity"))
      similarity.push_back(f.read_double("/analysis/similarity"));
    if (f.exists("/analysis/mmd")) {
      mmd_time = f.read_doubles("/analysis/mmd/time");
      for (double m : f.read_doubles("/analysis/mmd/learned")) mmd.push_back(m);
    }
  }
  auto file = io::H5File::create(run_file(c));
  write_common(file, c, "eqflow.run", data.d);
  write_dataset(file, data);
  write_score(file, c, score, stage, data.d);
  file.write("/summary/seeds", seeds);
  file.write("/summary/final_loss", final_loss);
  file.set_attribute("/summary", "complete_seeds", static_cast<std::int64_t>(seeds.size()));
  file.set_attribute("/summary", "experiments", c.experiments);
  if (!lyap.empty()) {
    file.write("/summary/lyapunov/exponent", lyap);
    file.write("/summary/lyapunov/exponent_speed", lyap_speed);
    file.write("/summary/lyapunov/stable", stable);
    file.set_attribute("/summary/lyapunov/exponent", "units", "1 / time");
  }
  if (!spectrum.empty()) file.write("/summary/spectrum", spectrum, {seeds.size(), data.d});
  if (!similarity.empty()) file.write("/summary/similarity", similarity);
  if (!mmd.empty()) {
    file.write("/summary/mmd/time", mmd_time);
    file.write("/summary/mmd/learned", mmd, {seeds.size(), mmd_time.size()});
  }
  impl::write_baselines(c, score, data, file);
  file.set_attribute("/", "stage", "summary");
  file.commit();

  log::info("summary: {} of {} seeds complete in {}", seeds.size(), c.experiments, run_file(c));
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    std::string line = fmt::format("  seed {:4d}: final loss {:.4g}", seeds[i], final_loss[i]);
    if (i < lyap.size()) {
      line += stable[i] > 0 ? fmt::format(", lyapunov {:+.4f} ({:.0f} stable)", lyap[i], stable[i])
                            : std::string(", lyapunov: no stable trajectory");
    }
    if (i < similarity.size()) line += fmt::format(", field similarity {:.3f}", similarity[i]);
    if (!mmd.empty()) {
      line +=
          fmt::format(", MMD^2(T={}) {:.4g}", mmd_time.back(), mmd[(i + 1) * mmd_time.size() - 1]);
    }
    log::info("{}", line);
  }
  return static_cast<std::int64_t>(seeds.size());
}

}  // namespace

std::unique_ptr<nn::Model<double>> load_flow(const std::string& path) {
  const auto file = io::H5File::open(path);
  const RunConfig config = io::parse_deck(file.read_string("/deck"), path + ":/deck");
  const auto d = static_cast<std::size_t>(file.attribute_int("/", "dim"));
  auto model = std::make_unique<nn::Model<double>>(impl::make_flow_network<double>(config, d), 0);
  const auto params = file.read_doubles("/flow/parameters");
  const auto buffers = file.read_doubles("/flow/buffers");
  from_host_vector(model->parameters().values(), params, path + ":/flow/parameters");
  from_host_vector(model->parameters().buffers(), buffers, path + ":/flow/buffers");
  return model;
}

std::int64_t run_pipeline(const RunConfig& config, const parallel::Comm& comm,
                          const RunOptions& options) {
  Timer timer;
  const bool progress = options.progress && comm.is_root();
  // Stage 1: data (every rank): the stored points of an earlier run of this output, else
  // generated or read (deterministic; bad data stops the run before any output).
  const systems::Dataset data = [&] {
    ScopedRegion region("eqflow::stage::data");
    if (!fs::exists(run_file(config))) return impl::load_dataset(config);
    const auto file = io::H5File::open(run_file(config));
    check_reusable(file, config);
    return read_dataset(file);
  }();
  if (comm.is_root()) {
    fs::create_directories(fs::path(config.output) / "seeds");
    fs::create_directories(fs::path(config.output) / "checkpoints");
    log::info("eqflow run: system {}, {} experiments, output {}, {} rank(s)", config.system,
              config.experiments, config.output, comm.size());
  }
  comm.barrier();
  log::info("data: {} points in {} dimensions{}", data.n, data.d,
            data.normalised ? " (normalised per axis)" : "");
  const auto device_data = to_device(data);

  // Stage 2: score model (rank 0 trains or reuses; everyone reads run.h5).
  diffusion::ScoreModel<float> score(data.d, static_cast<std::size_t>(config.score.hidden),
                                     schedule_of(config), score_seed(config));
  ScoreStage stage;
  on_root(comm, [&] {
    ScopedRegion region("eqflow::stage::score");
    const bool existed = fs::exists(run_file(config));
    stage = train_or_load_score(config, data, score, progress);
    if (!existed) {
      auto file = io::H5File::create(run_file(config));
      write_common(file, config, "eqflow.run", data.d);
      write_dataset(file, data);
      write_score(file, config, score, stage, data.d);
      file.set_attribute("/", "stage", "score");
      file.commit();
    }
  });
  if (!comm.is_root()) read_model(io::H5File::open(run_file(config)), "/score", score.model());

  // Stage 3: flows, seeds spread over ranks; a failed seed is reported, the others go on.
  const std::int64_t last = options.last_seed < 0 ? config.experiments : options.last_seed;
  const auto mine = parallel::seeds_for_rank(options.first_seed, last, comm.rank(), comm.size());
  std::vector<double> failures(1, 0.0), trained(1, 0.0);
  Timer flow_timer;
  for (const auto seed : mine) {
    if (fs::exists(seed_file(config, seed))) {
      log::debug("seed {}: complete, skipped", seed);
      continue;
    }
    try {
      ScopedRegion region("eqflow::stage::flow_seed");
      run_seed(config, seed, data, device_data, score, progress);
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
    complete = write_summary(config, data, score, stage);
  });
  log::info("done in {}", format_duration(timer.host_seconds()));
  if (failures[0] > 0) throw Error(fmt::format("{} seed(s) failed (see the log)", failures[0]));
  return complete;
}

}  // namespace eqflow::app
