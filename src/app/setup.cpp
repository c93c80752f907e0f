// The run's dataset and flow networks as the config describes them.
#include <fmt/core.h>

#include "eqflow/app/impl/setup.hpp"
#include "eqflow/core/batching.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/io/matrix_file.hpp"
#include "eqflow/systems/toy_systems.hpp"

namespace eqflow::app::impl {

systems::Dataset load_dataset(const RunConfig& c) {
  const auto points = static_cast<std::size_t>(c.data.points);
  if (c.system == "samples") {
    const auto& file = c.data.file;
    const auto ext = file.substr(file.find_last_of('.') + 1);
    const io::Matrix m = (ext == "h5" || ext == "hdf5") ? io::read_matrix_hdf5(file, c.data.dataset)
                                                        : io::read_matrix_csv(file);
    if (m.rows < 4) throw IoError(file, fmt::format("{} rows; need at least 4 snapshots", m.rows));
    systems::Dataset data = systems::make_dataset("samples", m.rows, m.cols);
    data.values = m.values;
    if (c.data.normalise) systems::normalise_per_axis(data);
    return data;
  }
  if (c.system == "two_peaks") {
    systems::TwoPeaksSettings s;
    if (points > 0) s.n = points;
    return systems::make_two_peaks(s, c.seed);
  }
  if (c.system == "ring") {
    systems::RingSettings s;
    if (points > 0) s.n = points;
    return systems::make_ring(s, c.seed);
  }
  if (c.system == "two_moons") {
    systems::TwoMoonsSettings s;
    if (points > 0) s.n = points;
    return systems::make_two_moons(s, c.seed);
  }
  if (c.system == "lorenz") {
    systems::LorenzSettings s;
    if (points > 0) s.steps = std::max<std::size_t>(1, points / s.trajectories);
    return systems::make_lorenz(s, c.seed);
  }
  throw Error(fmt::format("unknown system '{}'", c.system));
}

systems::Dataset held_out_dataset(const RunConfig& c, const systems::Dataset& data) {
  if (c.system == "samples") return systems::Dataset{};
  RunConfig other = c;
  other.seed = mix64(c.seed ^ 0x68656c64ull);  // an independent draw of the same size
  systems::Dataset fresh = load_dataset(other);
  // Raw points of the new draw in the training data's frame.
  const auto raw = fresh.normalised ? systems::denormalise(fresh) : fresh.values;
  fresh.values = data.normalised ? systems::normalise(data, raw) : raw;
  fresh.mean = data.mean;
  fresh.scale = data.scale;
  fresh.normalised = data.normalised;
  return fresh;
}

std::pair<systems::Dataset, systems::Dataset> split_rows(const systems::Dataset& data,
                                                         double fraction, std::uint64_t seed) {
  const auto held = static_cast<std::size_t>(fraction * static_cast<double>(data.n));
  const auto perm = random_permutation(data.n, CounterRng(seed, 0x53706c6974ull));
  std::pair<systems::Dataset, systems::Dataset> out{data, data};
  auto& [validation, training] = out;
  validation.n = held;
  training.n = data.n - held;
  validation.values.resize(validation.n * data.d);
  training.values.resize(training.n * data.d);
  for (std::size_t i = 0; i < data.n; ++i) {
    auto& part = i < held ? validation : training;
    const std::size_t row = i < held ? i : i - held;
    for (std::size_t j = 0; j < data.d; ++j) part.values[row * data.d + j] = data.at(perm[i], j);
  }
  return out;
}

diffusion::ScoreTrainingSettings score_training(const RunConfig& c) {
  diffusion::ScoreTrainingSettings s;
  s.epochs = c.score.epochs;
  s.batch = c.score.batch;
  s.lr = c.score.lr;
  s.cosine_lr = c.score.lr_schedule == "cosine";
  s.weight_decay = c.score.weight_decay;
  return s;
}

flow::FlowTrainingSettings flow_training(const RunConfig& c, std::size_t d) {
  flow::FlowTrainingSettings s;
  s.epochs = c.flow.epochs;
  s.batch = c.flow.batch;
  s.lr = c.flow.lr;
  s.cosine_lr = c.flow.lr_schedule == "cosine";
  s.weight_decay = c.flow.weight_decay;
  s.estimator = flow::parse_divergence_estimator(resolved_divergence(c, d));
  s.probes = static_cast<int>(c.flow.probes);
  s.t = c.flow.t;
  s.t_count = static_cast<int>(c.flow.t_count);
  return s;
}

std::uint64_t score_seed(const RunConfig& c) {
  return mix64(c.seed ^ 0x53636f7265ull);
}

View2<float> to_device(const systems::Dataset& data) {
  View2<float> out("eqflow::data", data.n, data.d);
  auto h = Kokkos::create_mirror_view(out);
  for (std::size_t i = 0; i < data.n * data.d; ++i)
    h.data()[i] = static_cast<float>(data.values[i]);
  Kokkos::deep_copy(out, h);
  return out;
}

nn::FlowArchitecture flow_architecture(const RunConfig& c, std::size_t d) {
  nn::FlowArchitecture arch;
  arch.kind = c.flow.model;
  arch.dim = d;
  arch.hidden = static_cast<std::size_t>(c.flow.hidden);
  arch.frequencies = static_cast<int>(c.flow.frequencies);
  arch.final_norm = c.flow.final_norm;
  return arch;
}

template <class Scalar>
std::unique_ptr<nn::Layer<Scalar>> make_flow_network(const RunConfig& c, std::size_t d) {
  return nn::make_flow_network<Scalar>(flow_architecture(c, d));
}

std::string resolved_divergence(const RunConfig& c, std::size_t d) {
  if (c.flow.divergence != "auto") return c.flow.divergence;
  return d <= 8 ? "exact" : "hutchinson";
}

std::uint64_t flow_seed(const RunConfig& c, std::int64_t seed) {
  return mix64(mix64(c.seed) ^ (0x466c6f77ull + static_cast<std::uint64_t>(seed)));
}

template std::unique_ptr<nn::Layer<float>> make_flow_network<float>(const RunConfig&, std::size_t);
template std::unique_ptr<nn::Layer<double>> make_flow_network<double>(const RunConfig&,
                                                                      std::size_t);

}  // namespace eqflow::app::impl
