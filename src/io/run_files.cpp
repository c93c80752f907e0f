// The files of an output directory: layout, models with their architecture, dataset,
// checkpoints, seed records and the seed-indexed summary (see run_files.hpp).
#include "eqflow/io/run_files.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "eqflow/core/error.hpp"

namespace eqflow::io {

namespace fs = std::filesystem;

namespace {

template <class T>
std::vector<T> to_host_vector(const View1<T>& v) {
  auto h = Kokkos::create_mirror_view_and_copy(HostSpace(), v);
  return std::vector<T>(h.data(), h.data() + h.extent(0));
}

template <class T, class Stored>
void from_host_vector(const View1<T>& v, const std::vector<Stored>& values,
                      const std::string& what) {
  if (values.size() != v.extent(0)) {
    throw IoError(what,
                  fmt::format("{} values stored, the model has {}", values.size(), v.extent(0)));
  }
  auto h = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < values.size(); ++i) h(i) = static_cast<T>(values[i]);
  Kokkos::deep_copy(v, h);
}

// The index of time t in the sorted grid (times within 1e-9 relative are equal).
std::size_t index_in(const std::vector<double>& grid, double t) {
  const auto it = std::lower_bound(grid.begin(), grid.end(), t - 1e-9 * std::max(1.0, std::abs(t)));
  return static_cast<std::size_t>(it - grid.begin());
}

// The sorted union of the time grids (times within 1e-9 relative are one time).
std::vector<double> union_grid(const std::vector<const std::vector<double>*>& grids) {
  std::vector<double> all;
  for (const auto* g : grids) all.insert(all.end(), g->begin(), g->end());
  std::sort(all.begin(), all.end());
  std::vector<double> out;
  for (double t : all) {
    if (out.empty() || t - out.back() > 1e-9 * std::max(1.0, std::abs(t))) out.push_back(t);
  }
  return out;
}

// A curve's values placed on `grid`, NaN where the curve has no value.
std::vector<double> on_grid(const std::vector<double>& grid, const Curve& c) {
  std::vector<double> row(grid.size(), SeedResult::kNone);
  for (std::size_t k = 0; k < c.time.size() && k < c.values.size(); ++k) {
    row[index_in(grid, c.time[k])] = c.values[k];
  }
  return row;
}

double read_scalar_or_none(const H5File& f, const std::string& path) {
  return f.exists(path) ? f.read_double(path) : SeedResult::kNone;
}

// Per-seed scalars NaN-padded: written only when some seed has a value.
void write_column(H5File& file, const std::string& path, const std::vector<double>& values,
                  const char* description) {
  if (std::none_of(values.begin(), values.end(), [](double v) { return !std::isnan(v); })) return;
  file.write(path, values);
  file.set_attribute(path, "description", description);
}

}  // namespace

// ------------------------------------------------------------------------------ directory

std::string RunDirectory::run_file() const {
  return (fs::path(root_) / "run.h5").string();
}
std::string RunDirectory::summary_file() const {
  return (fs::path(root_) / "summary.h5").string();
}
std::string RunDirectory::seed_file(std::int64_t seed) const {
  return (fs::path(root_) / "seeds" / fmt::format("seed_{:06d}.h5", seed)).string();
}
std::string RunDirectory::checkpoint_file(std::int64_t seed) const {
  return (fs::path(root_) / "checkpoints" / fmt::format("seed_{:06d}.h5", seed)).string();
}
void RunDirectory::create() const {
  fs::create_directories(fs::path(root_) / "seeds");
  fs::create_directories(fs::path(root_) / "checkpoints");
}

std::size_t RunDirectory::remove_stale_temporaries(std::int64_t seed) const {
  std::size_t removed = 0;
  for (const auto& file : {seed_file(seed), checkpoint_file(seed)}) {
    const fs::path path(file);
    const std::string prefix = path.filename().string() + ".tmp.";
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(path.parent_path(), error)) {
      if (entry.path().filename().string().rfind(prefix, 0) == 0 &&
          fs::remove(entry.path(), error)) {
        ++removed;
      }
    }
  }
  return removed;
}

void write_identity(H5File& file, const std::string& schema, const RunIdentity& id) {
  write_provenance(file, schema, kRunSchemaVersion);
  file.set_attribute("/", "system", id.system);
  file.set_attribute("/", "dim", static_cast<std::int64_t>(id.dim));
  file.write_string("/deck", id.deck);
  file.write_string("/reuse_key", id.reuse_key);
}

// --------------------------------------------------------------------------------- models

void write_model(H5File& file, const std::string& group, const nn::Model<float>& model) {
  const auto& store = model.parameters();
  file.write(group + "/parameters", to_host_vector(store.values()));
  file.write(group + "/buffers", to_host_vector(store.buffers()));
  std::string layout;
  for (const auto& slot : store.parameter_slots()) {
    layout += fmt::format("{} {} [{}]\n", slot.name, slot.offset, fmt::join(slot.extents, ", "));
  }
  file.write_string(group + "/layout", layout);
}

template <class Scalar>
void read_model(const H5File& file, const std::string& group, nn::Model<Scalar>& model) {
  const std::string where = file.path() + ":" + group;
  from_host_vector(model.parameters().values(), file.read_doubles(group + "/parameters"),
                   where + "/parameters");
  from_host_vector(model.parameters().buffers(), file.read_doubles(group + "/buffers"),
                   where + "/buffers");
}

void write_flow_architecture(H5File& file, const std::string& group,
                             const nn::FlowArchitecture& arch) {
  file.set_attribute(group, "model", arch.kind);
  file.set_attribute(group, "dim", static_cast<std::int64_t>(arch.dim));
  file.set_attribute(group, "hidden", static_cast<std::int64_t>(arch.hidden));
  file.set_attribute(group, "frequencies", static_cast<std::int64_t>(arch.frequencies));
  file.set_attribute(group, "final_norm", static_cast<std::int64_t>(arch.final_norm));
}

nn::FlowArchitecture read_flow_architecture(const H5File& file, const std::string& group) {
  for (const char* name : {"model", "dim", "hidden", "frequencies", "final_norm"}) {
    if (!file.exists(group) || !file.has_attribute(group, name)) {
      throw IoError(file.path(), fmt::format("{} has no attribute '{}': not a flow model of "
                                             "eqflow schema >= {}",
                                             group, name, kRunSchemaVersion));
    }
  }
  nn::FlowArchitecture arch;
  arch.kind = file.attribute_string(group, "model");
  arch.dim = static_cast<std::size_t>(file.attribute_int(group, "dim"));
  arch.hidden = static_cast<std::size_t>(file.attribute_int(group, "hidden"));
  arch.frequencies = static_cast<int>(file.attribute_int(group, "frequencies"));
  arch.final_norm = file.attribute_int(group, "final_norm") != 0;
  return arch;
}

std::unique_ptr<nn::Model<double>> load_flow(const std::string& path) {
  const auto file = H5File::open(path);
  auto model = std::make_unique<nn::Model<double>>(
      nn::make_flow_network<double>(read_flow_architecture(file, "/flow")), 0);
  read_model(file, "/flow", *model);
  return model;
}

void write_score_architecture(H5File& file, const std::string& group,
                              const ScoreArchitecture& arch) {
  file.set_attribute(group, "architecture", "MLP [x, 2t-1] -> hidden -> hidden -> d, ReLU, + x");
  file.set_attribute(group, "prediction", "eps");
  file.set_attribute(group, "schedule", "cosine");
  file.set_attribute(group, "dim", static_cast<std::int64_t>(arch.dim));
  file.set_attribute(group, "hidden", static_cast<std::int64_t>(arch.hidden));
  file.set_attribute(group, "diffusion_steps", arch.diffusion_steps);
  file.set_attribute(group, "schedule_delta", arch.schedule_delta);
}

ScoreArchitecture read_score_architecture(const H5File& file, const std::string& group) {
  for (const char* name : {"dim", "hidden", "diffusion_steps", "schedule_delta"}) {
    if (!file.exists(group) || !file.has_attribute(group, name)) {
      throw IoError(file.path(), fmt::format("{} has no attribute '{}': not a score model of "
                                             "eqflow schema >= {}",
                                             group, name, kRunSchemaVersion));
    }
  }
  ScoreArchitecture arch;
  arch.dim = static_cast<std::size_t>(file.attribute_int(group, "dim"));
  arch.hidden = static_cast<std::size_t>(file.attribute_int(group, "hidden"));
  arch.diffusion_steps = file.attribute_int(group, "diffusion_steps");
  arch.schedule_delta = file.attribute_double(group, "schedule_delta");
  return arch;
}

// -------------------------------------------------------------------------------- dataset

void write_dataset(H5File& file, const systems::Dataset& data) {
  file.write("/data/points", data.values, {data.n, data.d});
  file.write("/data/mean", data.mean);
  file.write("/data/scale", data.scale);
  file.set_attribute("/data", "system", data.name);
  file.set_attribute("/data", "normalised", static_cast<std::int64_t>(data.normalised));
  file.set_attribute("/data", "description",
                     "points are (raw - mean) / scale per axis; all flows act on these");
}

systems::Dataset read_dataset(const H5File& file) {
  std::vector<std::size_t> shape;
  auto points = file.read_doubles("/data/points", &shape);
  if (shape.size() != 2) {
    throw IoError(file.path(), fmt::format("/data/points has rank {}, expected 2", shape.size()));
  }
  systems::Dataset data =
      systems::make_dataset(file.attribute_string("/data", "system"), shape[0], shape[1]);
  data.values = std::move(points);
  data.mean = file.read_doubles("/data/mean");
  data.scale = file.read_doubles("/data/scale");
  data.normalised = file.attribute_int("/data", "normalised") != 0;
  systems::check_consistent(data);
  return data;
}

// ------------------------------------------------------------------------------- run file

namespace {

void write_selection(H5File& file, const SelectionRecord& s) {
  file.write("/selection/score_epochs", s.score_epochs);
  file.write("/selection/t", s.t);
  file.write("/selection/eta", s.eta);
  file.write("/selection/mmd2", s.mmd2);
  file.write("/selection/residual", s.residual);
  file.write("/selection/floor", s.floor);
  file.write("/selection/score_loss", s.score_loss);
  file.set_attribute("/selection", "chosen", static_cast<std::int64_t>(s.chosen));
  file.set_attribute("/selection", "horizon", s.horizon);
  file.set_attribute("/selection", "bandwidth", s.bandwidth);
  file.set_attribute("/selection", "validation_points", s.validation_points);
  file.set_attribute("/selection", "training_points", s.training_points);
  file.set_attribute(
      "/selection", "description",
      "settings chosen from a validation split (deck section select): one row per candidate "
      "(score_epochs, t, eta); mmd2: paired MMD^2 (RBF sigma `bandwidth`) between the "
      "validation points and their images after `horizon` under the candidate's flow (seed 0, "
      "trained on the other rows) with the Langevin correction eta; residual: exact "
      "equilibrium residual on the validation points diffused to t; floor: two-sample "
      "MMD^2(p, p_t), validation points against training points diffused to t; score_loss: "
      "final denoising loss; row `chosen` (smallest mmd2) is what the run uses");
}

}  // namespace

SelectionRecord read_selection(const H5File& f) {
  SelectionRecord s;
  if (!f.exists("/selection")) return s;
  s.score_epochs = f.read_ints("/selection/score_epochs");
  s.t = f.read_doubles("/selection/t");
  s.eta = f.read_doubles("/selection/eta");
  s.mmd2 = f.read_doubles("/selection/mmd2");
  s.residual = f.read_doubles("/selection/residual");
  s.floor = f.read_doubles("/selection/floor");
  s.score_loss = f.read_doubles("/selection/score_loss");
  s.chosen = static_cast<std::size_t>(f.attribute_int("/selection", "chosen"));
  s.horizon = f.attribute_double("/selection", "horizon");
  s.bandwidth = f.attribute_double("/selection", "bandwidth");
  s.validation_points = f.attribute_int("/selection", "validation_points");
  s.training_points = f.attribute_int("/selection", "training_points");
  if (s.chosen >= s.t.size()) throw IoError(f.path(), "/selection: chosen row out of range");
  return s;
}

void write_run_file(const RunDirectory& dir, const RunIdentity& id, const systems::Dataset& data,
                    const nn::Model<float>& score, const ScoreRecord& record,
                    const SelectionRecord& selection) {
  auto file = H5File::create(dir.run_file());
  write_identity(file, "eqflow.run", id);
  write_dataset(file, data);
  write_model(file, "/score", score);
  write_score_architecture(file, "/score", record.arch);
  file.write("/score/loss", record.loss);
  if (!record.samples.empty()) {
    file.write("/score/samples", record.samples,
               {record.samples.size() / record.arch.dim, record.arch.dim});
    file.set_attribute("/score/samples", "description", "deterministic DDIM samples");
  }
  if (!selection.empty()) write_selection(file, selection);
  file.link_external("/summary", fs::path(dir.summary_file()).filename().string(), "/summary");
  file.commit();
}

ScoreRecord read_score(const H5File& run_file, nn::Model<float>& score) {
  ScoreRecord record;
  record.arch = read_score_architecture(run_file, "/score");
  read_model(run_file, "/score", score);
  record.loss = run_file.read_doubles("/score/loss");
  if (run_file.exists("/score/samples")) record.samples = run_file.read_floats("/score/samples");
  return record;
}

// ---------------------------------------------------------------------------- checkpoints

void write_checkpoint(const std::string& path, const nn::Model<float>& model,
                      const nn::FlowArchitecture& arch, const nn::Adam<float>& adam,
                      const Checkpoint& state) {
  auto file = H5File::create(path);
  write_model(file, "/flow", model);
  write_flow_architecture(file, "/flow", arch);
  file.write("/flow/loss", state.loss);
  file.write("/adam/m", to_host_vector(adam.first_moment()));
  file.write("/adam/v", to_host_vector(adam.second_moment()));
  file.set_attribute("/", "epoch", state.epoch);
  file.set_attribute("/", "optimizer_steps", adam.steps());
  file.set_attribute("/", "seed", state.seed);
  file.commit();
}

Checkpoint read_checkpoint(const std::string& path, nn::Model<float>& model,
                           nn::Adam<float>& adam) {
  const auto file = H5File::open(path);
  read_model(file, "/flow", model);
  from_host_vector(adam.first_moment(), file.read_doubles("/adam/m"), path + ":/adam/m");
  from_host_vector(adam.second_moment(), file.read_doubles("/adam/v"), path + ":/adam/v");
  adam.set_steps(file.attribute_int("/", "optimizer_steps"));
  Checkpoint state;
  state.seed = file.attribute_int("/", "seed");
  state.epoch = file.attribute_int("/", "epoch");
  state.loss = file.read_doubles("/flow/loss");
  if (state.loss.size() != static_cast<std::size_t>(state.epoch)) {
    throw IoError(path, fmt::format("{} loss values for epoch {}", state.loss.size(), state.epoch));
  }
  return state;
}

// ---------------------------------------------------------------------------- seed records

H5File create_seed_file(const std::string& path, const RunIdentity& id, std::int64_t seed,
                        const nn::Model<float>& model, const nn::FlowArchitecture& arch,
                        const FlowTraining& training, const std::vector<double>& loss) {
  auto file = H5File::create(path);
  write_identity(file, "eqflow.seed", id);
  file.set_attribute("/", "seed", seed);
  write_model(file, "/flow", model);
  write_flow_architecture(file, "/flow", arch);
  file.write("/flow/loss", loss);
  file.set_attribute("/flow", "divergence", training.divergence);
  file.set_attribute("/flow", "t", training.t);
  file.set_attribute("/flow", "epochs", training.epochs);
  file.set_attribute("/flow", "t_count", training.t_count);
  return file;
}

const std::vector<std::string>& analysis_names() {
  static const std::vector<std::string> names{"lyapunov", "spectrum", "mmd", "similarity",
                                              "residual_heldout"};
  return names;
}

bool SeedResult::ran(const std::string& analysis) const {
  return std::find(analyses.begin(), analyses.end(), analysis) != analyses.end();
}

SeedResult read_seed_result(const std::string& path) {
  const auto f = H5File::open(path);
  SeedResult r;
  r.seed = f.attribute_int("/", "seed");
  for (const auto& name : analysis_names()) {
    if (f.exists("/analysis/" + name)) r.analyses.push_back(name);
  }
  const auto loss = f.read_doubles("/flow/loss");
  if (!loss.empty()) r.final_loss = loss.back();
  if (r.ran("lyapunov")) {
    r.lyapunov = f.read_double("/analysis/lyapunov/exponent");
    r.lyapunov_speed = f.read_double("/analysis/lyapunov/exponent_speed");
    r.lyapunov_stable = f.read_double("/analysis/lyapunov/stable");
  }
  if (r.ran("spectrum")) r.spectrum = f.read_doubles("/analysis/spectrum/exponents");
  r.similarity = read_scalar_or_none(f, "/analysis/similarity");
  r.residual = read_scalar_or_none(f, "/analysis/residual_heldout");
  if (r.ran("mmd")) {
    r.mmd_time = f.read_doubles("/analysis/mmd/time");
    r.mmd = f.read_doubles("/analysis/mmd/learned");
    if (f.exists("/analysis/mmd/pure_flow")) r.mmd_pure = f.read_doubles("/analysis/mmd/pure_flow");
  }
  return r;
}

// -------------------------------------------------------------------------------- summary

void write_summary(const RunDirectory& dir, const RunIdentity& id, const Summary& summary) {
  auto file = H5File::create(dir.summary_file());
  write_identity(file, "eqflow.summary", id);
  const auto& seeds = summary.seeds;
  const std::size_t s = seeds.size();
  std::vector<std::int64_t> index(s);
  std::vector<double> final_loss(s), lyap(s), lyap_speed(s), stable(s), similarity(s), residual(s);
  for (std::size_t i = 0; i < s; ++i) {
    index[i] = seeds[i].seed;
    final_loss[i] = seeds[i].final_loss;
    lyap[i] = seeds[i].lyapunov;
    lyap_speed[i] = seeds[i].lyapunov_speed;
    stable[i] = seeds[i].lyapunov_stable;
    similarity[i] = seeds[i].similarity;
    residual[i] = seeds[i].residual;
  }
  file.write("/summary/seeds", index);
  file.set_attribute("/summary/seeds", "description",
                     "the complete seeds; row i of every per-seed dataset is seed seeds[i]");
  file.set_attribute("/summary", "complete_seeds", static_cast<std::int64_t>(s));
  file.set_attribute("/summary", "experiments", summary.experiments);
  file.write("/summary/final_loss", final_loss);
  for (const auto& name : analysis_names()) {
    std::vector<std::int64_t> ran(s);
    for (std::size_t i = 0; i < s; ++i) ran[i] = seeds[i].ran(name) ? 1 : 0;
    file.write("/summary/ran/" + name, ran);
  }
  file.set_attribute("/summary/ran", "description",
                     "per seed, 1 where the analysis ran (its values are NaN elsewhere)");
  if (std::any_of(seeds.begin(), seeds.end(),
                  [](const SeedResult& r) { return r.ran("lyapunov"); })) {
    file.write("/summary/lyapunov/exponent", lyap);
    file.write("/summary/lyapunov/exponent_speed", lyap_speed);
    file.write("/summary/lyapunov/stable", stable);
    file.set_attribute("/summary/lyapunov/exponent", "units", "1 / time");
    file.set_attribute("/summary/lyapunov", "description",
                       "NaN: no stable trajectory, or the analysis did not run (see /summary/ran)");
  }
  std::size_t width = 0;
  for (const auto& r : seeds) width = std::max(width, r.spectrum.size());
  if (width > 0) {
    std::vector<double> spectrum(s * width, SeedResult::kNone);
    for (std::size_t i = 0; i < s; ++i) {
      std::copy(seeds[i].spectrum.begin(), seeds[i].spectrum.end(), spectrum.begin() + i * width);
    }
    file.write("/summary/spectrum", spectrum, {s, width});
  }
  write_column(file, "/summary/similarity", similarity,
               "|cosine| of the learned and the true Lorenz field");
  write_column(file, "/summary/residual_heldout", residual,
               "mean (div v + v . s)^2 on held-out diffused points");

  // MMD curves on the union of every time grid (seeds made with other analysis settings, the
  // baselines of this invocation's settings).
  const auto& b = summary.baselines;
  std::vector<const std::vector<double>*> grids;
  for (const auto& r : seeds) grids.push_back(&r.mmd_time);
  for (const auto& c : b.random_mmd) grids.push_back(&c.time);
  grids.push_back(&b.langevin_only.time);
  const auto grid = union_grid(grids);
  if (!grid.empty()) {
    file.write("/summary/mmd/time", grid);
    file.set_attribute("/summary/mmd/time", "description",
                       "transport times of every curve below (NaN where a curve has no value)");
    if (std::any_of(seeds.begin(), seeds.end(), [](const SeedResult& r) { return r.ran("mmd"); })) {
      std::vector<double> learned;
      for (const auto& r : seeds) {
        const auto row = on_grid(grid, {r.mmd_time, r.mmd});
        learned.insert(learned.end(), row.begin(), row.end());
      }
      file.write("/summary/mmd/learned", learned, {s, grid.size()});
    }
    if (std::any_of(seeds.begin(), seeds.end(),
                    [](const SeedResult& r) { return !r.mmd_pure.empty(); })) {
      std::vector<double> pure;
      for (const auto& r : seeds) {
        const auto row = r.mmd_pure.empty() ? std::vector<double>(grid.size(), SeedResult::kNone)
                                            : on_grid(grid, {r.mmd_time, r.mmd_pure});
        pure.insert(pure.end(), row.begin(), row.end());
      }
      file.write("/summary/mmd/pure_flow", pure, {s, grid.size()});
      file.set_attribute("/summary/mmd/pure_flow", "description",
                         "the learned flows transported without the Langevin correction (NaN "
                         "for seeds run without one)");
    }
    if (!b.random_mmd.empty()) {
      std::vector<double> random;
      for (const auto& c : b.random_mmd) {
        const auto row = on_grid(grid, c);
        random.insert(random.end(), row.begin(), row.end());
      }
      file.write("/summary/mmd/random", random, {b.random_mmd.size(), grid.size()});
      file.set_attribute("/summary/mmd/random", "description", "untrained random flows");
    }
    if (!b.langevin_only.time.empty()) {
      file.write("/summary/mmd/langevin_only", on_grid(grid, b.langevin_only));
      file.set_attribute("/summary/mmd/langevin_only", "description",
                         "the Langevin correction alone (v = 0), same eta, tau and noise level");
      if (!b.langevin_only_annulus.time.empty()) {
        file.write("/summary/mmd/langevin_only_annulus", on_grid(grid, b.langevin_only_annulus));
        file.write("/summary/mmd/langevin_only_mean_radius",
                   on_grid(grid, b.langevin_only_mean_radius));
      }
    }
  }
  if (!std::isnan(b.noise_floor)) {
    file.write("/summary/mmd/noise_floor", b.noise_floor);
    file.set_attribute("/summary/mmd/noise_floor", "description",
                       "unbiased two-sample MMD^2 between two disjoint random data samples of the "
                       "same size");
  }
  if (!std::isnan(b.diffusion_floor)) {
    file.write("/summary/mmd/diffusion_floor", b.diffusion_floor);
    file.set_attribute("/summary/mmd/diffusion_floor", "t", b.diffusion_floor_t);
    file.set_attribute("/summary/mmd/diffusion_floor", "description",
                       "unbiased two-sample MMD^2(p, p_t): data points against a held-out draw "
                       "diffused to the flow's training time t (attribute t); a flow that keeps "
                       "p_t exactly can carry p up to about twice this distance away (MMD^2 "
                       "up to ~4x)");
  }
  if (!std::isnan(b.bandwidth) && file.exists("/summary/mmd")) {
    file.set_attribute("/summary/mmd", "bandwidth", b.bandwidth);
    file.set_attribute("/summary/mmd", "bandwidth_rule", b.bandwidth_rule);
  }
  if (!b.random_similarity.empty()) {
    file.write("/summary/similarity_random", b.random_similarity);
  }
  file.commit();
}

Summary read_summary(const H5File& f) {
  if (!f.exists("/summary/seeds")) {
    throw IoError(f.path(), "no /summary (no invocation of `eqflow run` has finished yet)");
  }
  Summary out;
  out.experiments = f.attribute_int("/summary", "experiments");
  const auto seeds = f.read_ints("/summary/seeds");
  const std::size_t s = seeds.size();
  auto column = [&](const std::string& path) {
    return f.exists(path) ? f.read_doubles(path) : std::vector<double>(s, SeedResult::kNone);
  };
  const auto final_loss = column("/summary/final_loss");
  const auto lyap = column("/summary/lyapunov/exponent");
  const auto lyap_speed = column("/summary/lyapunov/exponent_speed");
  const auto stable = column("/summary/lyapunov/stable");
  const auto similarity = column("/summary/similarity");
  const auto residual = column("/summary/residual_heldout");
  std::vector<std::size_t> spectrum_shape, mmd_shape;
  const auto spectrum = f.exists("/summary/spectrum")
                            ? f.read_doubles("/summary/spectrum", &spectrum_shape)
                            : std::vector<double>();
  const auto time =
      f.exists("/summary/mmd/time") ? f.read_doubles("/summary/mmd/time") : std::vector<double>();
  const auto learned = f.exists("/summary/mmd/learned")
                           ? f.read_doubles("/summary/mmd/learned", &mmd_shape)
                           : std::vector<double>();
  const auto pure = f.exists("/summary/mmd/pure_flow") ? f.read_doubles("/summary/mmd/pure_flow")
                                                       : std::vector<double>();
  for (std::size_t i = 0; i < s; ++i) {
    SeedResult r;
    r.seed = seeds[i];
    for (const auto& name : analysis_names()) {
      const std::string path = "/summary/ran/" + name;
      if (f.exists(path) && f.read_ints(path).at(i) != 0) r.analyses.push_back(name);
    }
    r.final_loss = final_loss.at(i);
    r.lyapunov = lyap.at(i);
    r.lyapunov_speed = lyap_speed.at(i);
    r.lyapunov_stable = stable.at(i);
    r.similarity = similarity.at(i);
    r.residual = residual.at(i);
    if (r.ran("spectrum") && spectrum_shape.size() == 2) {
      const std::size_t w = spectrum_shape[1];
      r.spectrum.assign(spectrum.begin() + i * w, spectrum.begin() + (i + 1) * w);
    }
    if (r.ran("mmd") && mmd_shape.size() == 2) {
      for (std::size_t k = 0; k < time.size(); ++k) {
        const double v = learned[i * time.size() + k];
        if (!std::isnan(v)) r.mmd_time.push_back(time[k]), r.mmd.push_back(v);
      }
      if (pure.size() == learned.size()) {
        for (std::size_t k = 0; k < time.size(); ++k) {
          const double v = learned[i * time.size() + k];
          if (!std::isnan(v)) r.mmd_pure.push_back(pure[i * time.size() + k]);
        }
        if (std::all_of(r.mmd_pure.begin(), r.mmd_pure.end(),
                        [](double v) { return std::isnan(v); })) {
          r.mmd_pure.clear();
        }
      }
    }
    out.seeds.push_back(std::move(r));
  }
  auto& b = out.baselines;
  if (f.exists("/summary/mmd/noise_floor"))
    b.noise_floor = f.read_double("/summary/mmd/noise_floor");
  if (f.exists("/summary/mmd/diffusion_floor")) {
    b.diffusion_floor = f.read_double("/summary/mmd/diffusion_floor");
    b.diffusion_floor_t = f.attribute_double("/summary/mmd/diffusion_floor", "t");
  }
  if (f.exists("/summary/mmd") && f.has_attribute("/summary/mmd", "bandwidth")) {
    b.bandwidth = f.attribute_double("/summary/mmd", "bandwidth");
    if (f.has_attribute("/summary/mmd", "bandwidth_rule")) {
      b.bandwidth_rule = f.attribute_string("/summary/mmd", "bandwidth_rule");
    }
  }
  auto curve = [&](const std::vector<double>& values, std::size_t row) {
    Curve c;
    for (std::size_t k = 0; k < time.size(); ++k) {
      const double v = values[row * time.size() + k];
      if (!std::isnan(v)) c.time.push_back(time[k]), c.values.push_back(v);
    }
    return c;
  };
  if (f.exists("/summary/mmd/random")) {
    std::vector<std::size_t> shape;
    const auto random = f.read_doubles("/summary/mmd/random", &shape);
    for (std::size_t row = 0; row < shape.at(0); ++row) b.random_mmd.push_back(curve(random, row));
  }
  if (f.exists("/summary/mmd/langevin_only")) {
    b.langevin_only = curve(f.read_doubles("/summary/mmd/langevin_only"), 0);
  }
  if (f.exists("/summary/similarity_random")) {
    b.random_similarity = f.read_doubles("/summary/similarity_random");
  }
  return out;
}

template void read_model<float>(const H5File&, const std::string&, nn::Model<float>&);
template void read_model<double>(const H5File&, const std::string&, nn::Model<double>&);

}  // namespace eqflow::io
