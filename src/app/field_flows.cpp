// The flows stage of field runs (app/fields.hpp run_field_flows): trained flows fanned out over
// the ranks, the similarity study against Gray-Scott with its baselines, and the frame files.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "eqflow/app/deck.hpp"
#include "eqflow/app/fields.hpp"
#include "eqflow/app/impl/field_stages.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/log.hpp"
#include "eqflow/core/progress.hpp"
#include "eqflow/core/timer.hpp"
#include "eqflow/dynamics/field_sde.hpp"
#include "eqflow/flow/field_flow.hpp"
#include "eqflow/io/field_file.hpp"
#include "eqflow/io/frame_file.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/systems/gray_scott.hpp"

namespace eqflow::app {
namespace {

namespace fs = std::filesystem;
using impl::host_vector;
using impl::read_parameters;
using impl::set_from;
using impl::write_parameters;
using Score = diffusion::FieldDiffusion<float>;
using Net = nn::FieldFlowNetwork<float>;
using Field = View4<float>;

// Streams of the flows stage, all under flows.seed.
constexpr std::uint64_t kTrainedInit = 0xF10E1;
constexpr std::uint64_t kTrainedDraws = 0xF10E2;
constexpr std::uint64_t kKernel = 0x7F0;
constexpr std::uint64_t kRandomKernel = 0xBA5E;
constexpr std::uint64_t kReweighted = 0x3E16;
constexpr std::uint64_t kSdeNoise = 0x5DE;
constexpr std::uint64_t kSweepKernel = 0x5EE9;
constexpr std::uint64_t kNoiseStart = 0x570A7;

CounterRng stream(const FieldRunConfig& c, std::uint64_t purpose, std::uint64_t index = 0) {
  return CounterRng(c.flows.seed, mix64(purpose * 0x100000001B3ull + index));
}

//! The deck without where it is written and how often it checkpoints.
FieldRunConfig without_location(FieldRunConfig c) {
  c.output = FieldRunConfig{}.output;
  c.source.clear();
  c.block = FieldRunConfig{}.block;
  c.score.checkpoint_every = FieldScoreConfig{}.checkpoint_every;
  c.flows.checkpoint_every = FieldFlowsConfig{}.checkpoint_every;
  return c;
}

//! What a trained flow depends on: the data, the score and the flows keys.
std::string trained_identity(const FieldRunConfig& c) {
  FieldRunConfig copy = without_location(c);
  copy.score.samples = FieldScoreConfig{}.samples;
  copy.score.sampler = FieldScoreConfig{}.sampler;
  copy.score.sampler_steps = FieldScoreConfig{}.sampler_steps;
  copy.simulation = FieldSimulationConfig{};
  copy.similarity = FieldSimilarityConfig{};
  return to_yaml(copy);
}

std::string field_name(std::size_t n, const nn::FieldShape& s) {
  return fmt::format("({}, {}, {}, {})", n, s.channels, s.height, s.width);
}

Field field(std::size_t n, const nn::FieldShape& s, const std::string& label) {
  return Field(label, n, s.channels, s.height, s.width);
}

void upload(const Field& out, const std::vector<float>& values) {
  auto h = Kokkos::create_mirror_view(out);
  std::copy(values.begin(), values.end(), h.data());
  Kokkos::deep_copy(out, h);
}

std::vector<float> download(const Field& f) {
  auto h = Kokkos::create_mirror_view_and_copy(HostSpace(), f);
  return std::vector<float>(h.data(), h.data() + h.size());
}

//! The stage's shared state: the data, the score model and the start fields.
struct Context {
  const FieldRunConfig& c;
  const parallel::Comm& comm;
  const io::FieldReader& reader;
  fs::path output;
  nn::FieldShape shape;
  std::int64_t train = 0, validation = 0;
  Score& score;
};

nn::FieldFlowConfig flow_config(const FieldRunConfig& c, std::size_t channels) {
  return nn::FieldFlowConfig{channels, std::size_t(c.flows.hidden), c.flows.final_norm};
}

// ---- 4. trained flows ------------------------------------------------------------------------

std::string trained_path(const Context& x, std::int64_t e) {
  return (x.output / "flows" / fmt::format("trained_{}.h5", e)).string();
}

bool trained_complete(const std::string& path, const std::string& identity) {
  if (!fs::exists(path)) return false;
  const auto file = io::H5File::open(path);
  return file.has_attribute("/", "training") && file.attribute_string("/", "training") == identity;
}

void write_trained(const std::string& path, const Context& x, std::int64_t e, const Net& net,
                   const std::vector<double>& loss, double seconds) {
  auto file = io::H5File::create(path);
  io::write_provenance(file, kFieldFlowSchema, 1);
  file.set_attribute("/", "training", trained_identity(x.c));
  file.set_attribute("/", "deck", to_yaml(x.c));
  file.set_attribute("/", "experiment", e);
  write_parameters(file, "/flow", net.parameters());
  const auto& cfg = net.config();
  file.set_attribute("/flow", "model",
                     std::string("symmetric 3x3 conv (centre, edge, corner weights; circular) C -> "
                                 "hidden, BatchNorm2d, SiLU, 1x1 conv, BatchNorm2d, SiLU, 1x1 conv "
                                 "-> C; computed as stencil features + per-pixel layers"));
  file.set_attribute("/flow", "channels", std::int64_t(cfg.channels));
  file.set_attribute("/flow", "hidden", std::int64_t(cfg.hidden));
  file.set_attribute("/flow", "final_norm", std::int64_t(cfg.final_norm));
  file.set_attribute("/flow", "diffusion_step", x.c.flows.step);
  file.write("/training/loss", loss);
  file.set_attribute("/training/loss", "definition",
                     std::string("per epoch, mean over micro-batches of mean(r1 r2) / mean |v|^2"));
  file.set_attribute("/training", "seconds", seconds);
  file.set_attribute("/training", "train_samples", x.train);
  file.commit();
}

void write_flow_checkpoint(const std::string& path, const std::string& identity, const Net& net,
                           flow::FieldFlowTrainer<float>& trainer, double seconds) {
  auto file = io::H5File::create(path);
  io::write_provenance(file, "eqflow.field_flow_checkpoint", 1);
  file.set_attribute("/", "training", identity);
  write_parameters(file, "/flow", net.parameters());
  file.write("/adam/first_moment", host_vector(trainer.optimizer().first_moment()));
  file.write("/adam/second_moment", host_vector(trainer.optimizer().second_moment()));
  file.write("/adam/steps", trainer.optimizer().steps());
  file.write("/training/loss", trainer.history());
  file.write("/training/seconds", seconds);
  file.commit();
}

//! Restores a checkpoint of the same training (returns the seconds trained), or -1.
double read_flow_checkpoint(const std::string& path, const std::string& identity, Net& net,
                            flow::FieldFlowTrainer<float>& trainer) {
  if (!fs::exists(path)) return -1;
  const auto file = io::H5File::open(path);
  if (!file.has_attribute("/", "training") || file.attribute_string("/", "training") != identity) {
    return -1;
  }
  read_parameters(file, "/flow", net.parameters());
  set_from(trainer.optimizer().first_moment(), file.read_floats("/adam/first_moment"), path);
  set_from(trainer.optimizer().second_moment(), file.read_floats("/adam/second_moment"), path);
  trainer.optimizer().set_steps(file.read_int("/adam/steps"));
  trainer.restore(file.read_doubles("/training/loss"));
  return file.read_double("/training/seconds");
}

diffusion::FieldSource<float> training_source(const Context& x) {
  diffusion::FieldSource<float> source;
  source.train = x.train;
  source.validation = x.validation;
  source.shape = x.shape;
  const io::FieldReader* reader = &x.reader;
  const std::size_t size = x.shape.size();
  source.load = [reader, size](const std::vector<std::int64_t>& indices, const View4<float>& out) {
    auto host = Kokkos::create_mirror_view(out);
    for (std::size_t i = 0; i < indices.size(); ++i) {
      const auto values = reader->read(std::size_t(indices[i]), 1);
      std::copy(values.begin(), values.end(), host.data() + i * size);
    }
    Kokkos::deep_copy(out, host);
  };
  return source;
}

void train_flows(const Context& x, const FieldRunOptions& options, FieldRunResult& result) {
  const auto& f = x.c.flows;
  const std::string identity = trained_identity(x.c);
  flow::FieldFlowTrainingSettings settings;
  settings.epochs = f.epochs;
  settings.batch = f.batch;
  settings.accumulation = int(f.accumulation);
  settings.lr = f.lr;
  settings.weight_decay = f.weight_decay;
  settings.clip = f.clip;
  settings.probes = int(f.probes);
  settings.step = int(f.step);
  settings.score_draws = int(f.score_draws);
  const auto source = training_source(x);
  const std::int64_t ranks = x.comm.size(),
                     mine = (f.experiments - x.comm.rank() + ranks - 1) / ranks;
  const std::int64_t batches = (x.train + f.batch - 1) / f.batch;
  ProgressReporter bar("flow epochs (rank 0's seeds)", std::max<std::int64_t>(1, mine) * f.epochs,
                       options.progress && x.comm.is_root());
  std::int64_t done = 0;
  for (std::int64_t e = x.comm.rank(); e < f.experiments; e += ranks) {
    const std::string path = trained_path(x, e);
    result.flow_paths.push_back(path);
    if (trained_complete(path, identity)) {
      done += f.epochs;
      continue;
    }
    Net net(flow_config(x.c, x.shape.channels),
            mix64(f.seed * 0x9E3779B97F4A7C15ull + kTrainedInit + std::uint64_t(e)));
    flow::FieldFlowTrainer<float> trainer(net, x.score, source, settings,
                                          stream(x.c, kTrainedDraws, std::uint64_t(e)));
    const std::string checkpoint =
        (x.output / "checkpoints" / fmt::format("flow_{}.h5", e)).string();
    double seconds = read_flow_checkpoint(checkpoint, identity, net, trainer);
    if (seconds >= 0) {
      fmt::print("flow {}: resuming at epoch {} from {} (rank {})\n", e, trainer.epoch(),
                 checkpoint, x.comm.rank());
    } else {
      seconds = 0;
    }
    done += trainer.epoch();
    const Timer timer;
    while (!trainer.done()) {
      const std::int64_t epoch = trainer.epoch();
      trainer.run_epoch([&](std::int64_t batch, double loss) {
        if (batch == batches) return;
        bar.update(done, fmt::format("seed {} epoch {}/{} batch {}/{} loss {:.4f}", e, epoch + 1,
                                     f.epochs, batch, batches, loss));
      });
      ++done;
      bar.update(done, fmt::format("seed {} epoch {}/{} loss {:.4f}", e, epoch + 1, f.epochs,
                                   trainer.history().back()));
      if (trainer.done() || trainer.epoch() % f.checkpoint_every == 0) {
        write_flow_checkpoint(checkpoint, identity, net, trainer, seconds + timer.seconds());
      }
    }
    write_trained(path, x, e, net, trainer.history(), seconds + timer.seconds());
    fmt::print("flow {}: {} ({} epochs, final loss {:.4f}; rank {})\n", e, path, f.epochs,
               trainer.history().empty() ? 0.0 : trainer.history().back(), x.comm.rank());
  }
  bar.finish(
      fmt::format("{} trained flows over {} rank{}", f.experiments, ranks, ranks == 1 ? "" : "s"));
  x.comm.barrier();
  // Every rank knows every path (rank 0 writes the summary files).
  result.flow_paths.clear();
  for (std::int64_t e = 0; e < f.experiments; ++e) result.flow_paths.push_back(trained_path(x, e));
}

// ---- the flows of the study ------------------------------------------------------------------

//! One flow of the study: a group (training_free_g, trained, random_kernel, reweighted) and its
//! index in the group.
struct Item {
  std::string group;
  std::int64_t index;
};

//! A flow with whatever it owns (a network, a reweighted UNet).
struct Built {
  std::unique_ptr<Net> net;
  std::unique_ptr<Score> unet;
  std::unique_ptr<flow::FieldFlow<float>> flow;
};

//! The antisymmetric kernel of a kernel-flow item of flows.kernel's kind: "training_free_g",
//! the training-free flow's K (index 1: g = -1, -K), or "kernel", kernel e of the behaviour
//! sweep (its own seed).
flow::ChannelKernel item_kernel(const Context& x, const Item& item) {
  const std::uint64_t index = std::uint64_t(item.index);
  const bool sweep = item.group == "kernel";
  auto kernel = flow::make_kernel(x.c.flows.kernel, x.shape.channels, 1,
                                  sweep ? stream(x.c, kSweepKernel, index) : stream(x.c, kKernel));
  if (!sweep && item.index == 1) {
    for (auto& v : kernel.values) v = -v;  // g = -1: -K
  }
  return kernel;
}

Built build(const Context& x, const Item& item) {
  Built b;
  const std::size_t channels = x.shape.channels;
  if (item.group == "training_free_g" || item.group == "kernel") {
    b.flow = std::make_unique<flow::KernelFlow<float>>(item_kernel(x, item));
  } else if (item.group == "trained") {
    b.net = std::make_unique<Net>(flow_config(x.c, channels), 0);
    const auto file = io::H5File::open(trained_path(x, item.index));
    read_parameters(file, "/flow", b.net->parameters());
    b.flow = std::make_unique<flow::NetworkFlow<float>>(*b.net);
  } else if (item.group == "random_kernel") {
    b.flow = std::make_unique<flow::KernelFlow<float>>(
        flow::random_kernel(channels, stream(x.c, kRandomKernel, std::uint64_t(item.index))));
  } else {
    b.unet = std::make_unique<Score>(impl::unet_config(x.c, channels), x.score.schedule());
    Kokkos::deep_copy(b.unet->unet().parameters().values(), x.score.unet().parameters().values());
    flow::reweight_parameters(b.unet->unet().parameters(),
                              stream(x.c, kReweighted, std::uint64_t(item.index)));
    b.flow = std::make_unique<flow::UNetOutputFlow<float>>(*b.unet, int(x.c.flows.step));
  }
  return b;
}

dynamics::FieldSde<float> make_sde(const Context& x, flow::FieldFlow<float>& f, const Field& x0,
                                   std::uint64_t first_sample) {
  const dynamics::FieldSdeSettings settings{x.c.simulation.dt, x.c.simulation.eta,
                                            int(x.c.flows.step)};
  auto velocity = [&f](const nn::ConstField<float>& at, const nn::ConstField<float>& s,
                       const nn::MutField<float>& v) { f.velocity(at, s, v); };
  return dynamics::FieldSde<float>(x.score, velocity, settings, x0, stream(x.c, kSdeNoise),
                                   first_sample);
}

//! The start fields: similarity.starts held-out samples, evenly spaced (all samples when fewer
//! are held out).
std::vector<std::int64_t> start_indices(const Context& x, std::int64_t count) {
  std::vector<std::int64_t> out;
  const bool held_out = x.validation >= count;
  const std::int64_t first = held_out ? x.train : 0,
                     pool = held_out ? x.validation : x.train + x.validation;
  for (std::int64_t j = 0; j < count; ++j) out.push_back(first + j * pool / count);
  return out;
}

Field load_starts(const Context& x, const std::vector<std::int64_t>& indices) {
  std::vector<float> values;
  for (const auto i : indices) {
    const auto v = x.reader.read(std::size_t(i), 1);
    values.insert(values.end(), v.begin(), v.end());
  }
  Field out = field(indices.size(), x.shape, "eqflow::flows::starts");
  upload(out, values);
  return out;
}

// ---- 5. similarity ---------------------------------------------------------------------------

std::string similarity_identity(const FieldRunConfig& c) {
  FieldRunConfig copy = without_location(c);
  copy.simulation.samples = FieldSimulationConfig{}.samples;
  copy.simulation.horizon = FieldSimulationConfig{}.horizon;
  copy.simulation.record_every = FieldSimulationConfig{}.record_every;
  copy.simulation.canvas = FieldSimulationConfig{}.canvas;
  copy.simulation.start = FieldSimulationConfig{}.start;
  copy.simulation.frame_ema = FieldSimulationConfig{}.frame_ema;
  copy.simulation.kernels = FieldSimulationConfig{}.kernels;
  return to_yaml(copy);
}

void run_similarity(const Context& x, const FieldRunOptions& options, FieldRunResult& result) {
  const auto& q = x.c.similarity;
  const std::string path = (x.output / "similarity.h5").string();
  if (x.shape.channels != 2) {
    if (x.comm.is_root()) {
      fmt::print("similarity: skipped (Gray-Scott has 2 channels, the data {})\n",
                 x.shape.channels);
    }
    return;
  }
  const std::string identity = similarity_identity(x.c);
  if (fs::exists(path)) {
    const auto done = io::H5File::open(path);
    if (done.has_attribute("/", "run") && done.attribute_string("/", "run") == identity) {
      result.similarity_path = path;
      if (x.comm.is_root()) fmt::print("similarity: {} is complete for this deck\n", path);
      return;
    }
  }
  const std::size_t s_count = std::size_t(q.starts), m_count = std::size_t(q.panel);
  if (s_count == 0) return;
  const auto indices = start_indices(x, q.starts);
  const Field x0 = load_starts(x, indices);
  const std::size_t d = x.shape.size();

  // Gray-Scott's displacement of every preset from every start, in raw units (x + 1) / 2.
  const auto& presets = systems::gray_scott_presets();
  const std::size_t p_count = presets.size();
  std::vector<Field> gs_displacement;
  Field gs_own;  // the run's own preset (or the first), for the panel
  for (const auto& name : presets) {
    const auto parameters = systems::gray_scott_preset(name);
    Field raw = field(s_count, x.shape, "eqflow::flows::gray_scott");
    Field start = field(s_count, x.shape, "eqflow::flows::gray_scott_start");
    Kokkos::parallel_for(
        "eqflow::flows::to_raw", RangePolicy(0, raw.size()), KOKKOS_LAMBDA(const std::size_t l) {
          raw.data()[l] = (x0.data()[l] + 1.0f) * 0.5f;
          start.data()[l] = raw.data()[l];
        });
    systems::GrayScottSimulator<float> simulator(parameters, s_count, x.shape.height,
                                                 x.shape.width);
    simulator.advance(raw, std::size_t(q.gray_scott_steps));
    if (name == x.c.preset || (gs_own.size() == 0 && name == presets.front())) {
      gs_own = field(s_count, x.shape, "eqflow::flows::gray_scott_panel");
      Kokkos::parallel_for(
          "eqflow::flows::to_normalised", RangePolicy(0, raw.size()),
          KOKKOS_LAMBDA(const std::size_t l) { gs_own.data()[l] = 2.0f * raw.data()[l] - 1.0f; });
    }
    Kokkos::parallel_for(
        "eqflow::flows::displacement", RangePolicy(0, raw.size()),
        KOKKOS_LAMBDA(const std::size_t l) { raw.data()[l] -= start.data()[l]; });
    gs_displacement.push_back(raw);
  }

  // The flows, spread over the ranks.
  std::vector<Item> items = {{"training_free_g", 0}, {"training_free_g", 1}};
  for (std::int64_t e = 0; e < x.c.flows.experiments; ++e) items.push_back({"trained", e});
  for (std::int64_t r = 0; r < q.baselines; ++r) items.push_back({"random_kernel", r});
  for (std::int64_t r = 0; r < q.baselines; ++r) items.push_back({"reweighted", r});
  const auto is_panel = [](const Item& it) {
    return (it.group == "training_free_g" || it.group == "trained") && it.index == 0;
  };
  std::vector<double> similarity(items.size() * s_count * p_count, 0.0);
  std::vector<float> panel_free(m_count * d, 0.0f), panel_trained(m_count * d, 0.0f);
  const std::int64_t steps = std::max(q.window - 1, x.c.simulation.steps);
  const std::size_t ranks = std::size_t(x.comm.size()), rank = std::size_t(x.comm.rank());
  std::int64_t mine = 0;
  for (std::size_t i = rank; i < items.size(); i += ranks)
    mine += is_panel(items[i]) ? steps : q.window - 1;
  ProgressReporter bar("similarity SDE steps (rank 0's flows)", std::max<std::int64_t>(1, mine),
                       options.progress && x.comm.is_root());
  std::int64_t done = 0;
  const float keep = float(q.ema);
  for (std::size_t i = rank; i < items.size(); i += ranks) {
    const Item& item = items[i];
    Built built = build(x, item);
    auto sde = make_sde(x, *built.flow, x0, 0);
    Field ema = field(s_count, x.shape, "eqflow::flows::ema");
    Kokkos::deep_copy(ema, x0);
    const std::int64_t run = is_panel(item) ? steps : q.window - 1;
    for (std::int64_t t = 1; t <= run; ++t) {
      sde.step();
      if (t < q.window) dynamics::exponential_average<float>(ema, sde.state(), keep);
      bar.update(++done, fmt::format("{} {} step {}/{}", item.group, item.index, t, run));
    }
    Kokkos::parallel_for(
        "eqflow::flows::flow_displacement", RangePolicy(0, ema.size()),
        KOKKOS_LAMBDA(const std::size_t l) { ema.data()[l] -= x0.data()[l]; });
    for (std::size_t p = 0; p < p_count; ++p) {
      const auto cos = dynamics::per_sample_abs_cosine<float>(ema, gs_displacement[p]);
      for (std::size_t s = 0; s < s_count; ++s) {
        similarity[(i * s_count + s) * p_count + p] = cos[s];
      }
    }
    if (is_panel(item) && m_count > 0) {
      Field end = field(s_count, x.shape, "eqflow::flows::panel");
      sde.denoised(end);
      const auto values = download(end);
      auto& panel = item.group == "trained" ? panel_trained : panel_free;
      std::copy(values.begin(), values.begin() + long(m_count * d), panel.begin());
    }
  }
  bar.finish(fmt::format("{} flows x {} starts over {} rank{}", items.size(), s_count, ranks,
                         ranks == 1 ? "" : "s"));
  x.comm.allreduce_sum(similarity);
  x.comm.allreduce_sum(panel_free.data(), panel_free.size());
  x.comm.allreduce_sum(panel_trained.data(), panel_trained.size());
  result.similarity_path = path;
  if (!x.comm.is_root()) {
    x.comm.barrier();
    return;
  }

  auto file = io::H5File::create(path);
  io::write_provenance(file, kSimilaritySchema, 1);
  file.set_attribute("/", "run", identity);
  file.set_attribute("/", "deck", to_yaml(x.c));
  file.set_attribute("/", "preset", x.c.system == "gray_scott" ? x.c.preset : std::string());
  file.set_attribute("/", "dt", x.c.simulation.dt);
  file.set_attribute("/", "eta", x.c.simulation.eta);
  file.set_attribute("/", "steps", steps);
  file.set_attribute("/", "window", q.window);
  file.set_attribute("/", "ema", q.ema);
  file.set_attribute("/", "gray_scott_steps", q.gray_scott_steps);
  file.set_attribute("/", "diffusion_step", x.c.flows.step);
  file.set_attribute("/", "starts", q.starts);
  file.set_attribute("/", "kernel", x.c.flows.kernel);
  file.set_attribute(
      "/", "definition",
      std::string("|cosine| of (EMA of the first `window` SDE states - x0) and (Gray-Scott after "
                  "gray_scott_steps steps - x0, raw units), per start field and preset"));
  file.write_strings("/presets", presets);
  file.write("/start_indices", indices);
  const auto group_of = [&](const std::string& group) {
    std::vector<double> values;
    std::size_t count = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i].group != group) continue;
      ++count;
      const auto first = similarity.begin() + long(i * s_count * p_count);
      values.insert(values.end(), first, first + long(s_count * p_count));
    }
    return std::make_pair(values, count);
  };
  const auto [free_g, two] = group_of("training_free_g");
  file.write("/similarity/training_free_g", free_g, {two, s_count, p_count});
  std::vector<double> free(s_count * p_count);
  for (std::size_t j = 0; j < free.size(); ++j) {
    free[j] = std::max(free_g[j], free_g[s_count * p_count + j]);
  }
  file.write("/similarity/training_free", free, {s_count, p_count});
  file.set_attribute("/similarity/training_free", "definition",
                     std::string("the larger over g = +1, -1 (training_free_g)"));
  for (const std::string group : {"trained", "random_kernel", "reweighted"}) {
    const auto [values, count] = group_of(group);
    if (count > 0) file.write("/similarity/" + group, values, {count, s_count, p_count});
  }
  if (m_count > 0) {
    const std::vector<std::size_t> shape{m_count, x.shape.channels, x.shape.height, x.shape.width};
    file.write("/panel/start_indices",
               std::vector<std::int64_t>(indices.begin(), indices.begin() + long(m_count)));
    const auto initial = download(x0), gs = download(gs_own);
    file.write("/panel/initial",
               std::vector<float>(initial.begin(), initial.begin() + long(m_count * d)), shape);
    file.write("/panel/gray_scott", std::vector<float>(gs.begin(), gs.begin() + long(m_count * d)),
               shape);
    file.write("/panel/training_free", panel_free, shape);
    if (x.c.flows.experiments > 0) file.write("/panel/trained", panel_trained, shape);
  }
  file.commit();

  // The summary: own-preset similarity, mean and standard deviation over starts (and draws).
  const auto own = std::find(presets.begin(), presets.end(), x.c.preset);
  if (own != presets.end()) {
    const std::size_t p = std::size_t(own - presets.begin());
    fmt::print("similarity to Gray-Scott '{}' ({} starts):\n", x.c.preset, s_count);
    for (const std::string group : {"training_free_g", "trained", "random_kernel", "reweighted"}) {
      std::vector<double> v;
      if (group == "training_free_g") {
        for (std::size_t s = 0; s < s_count; ++s) v.push_back(free[s * p_count + p]);
      } else {
        const auto [values, count] = group_of(group);
        for (std::size_t j = 0; j < count * s_count; ++j) v.push_back(values[j * p_count + p]);
      }
      if (v.empty()) continue;
      const double mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
      double var = 0;
      for (double e : v) var += (e - mean) * (e - mean);
      fmt::print("  {:<14} {:.3f} +- {:.3f} (n {})\n",
                 group == "training_free_g" ? "training_free" : group, mean,
                 std::sqrt(var / double(v.size())), v.size());
    }
  }
  fmt::print("similarity: {}\n", path);
  x.comm.barrier();
}

// ---- 6. frames -------------------------------------------------------------------------------

std::string frames_identity(const FieldRunConfig& c) {
  FieldRunConfig copy = without_location(c);
  copy.similarity = FieldSimilarityConfig{};
  if (c.simulation.start == "data") {
    copy.similarity.starts = c.similarity.starts;  // the starts are taken from its list
  }
  copy.simulation.kernels = 0;  // each sweep file is its own kernel's
  return to_yaml(copy);
}

//! The start fields tiled k x k times (the fields are periodic, so a tiled start is a start).
Field tile(const Field& base, std::size_t k) {
  const std::size_t n = base.extent(0), c = base.extent(1), h = base.extent(2), w = base.extent(3);
  Field out("eqflow::flows::canvas", n, c, h * k, w * k);
  Kokkos::parallel_for(
      "eqflow::flows::tile", RangePolicy(0, out.size()), KOKKOS_LAMBDA(const std::size_t l) {
        const std::size_t col = l % (w * k), row = (l / (w * k)) % (h * k);
        const std::size_t plane = l / (w * k * h * k);  // sample * c + channel
        out.data()[l] = base.data()[(plane * h + row % h) * w + col % w];
      });
  return out;
}

//! The kernel of a kernel flow as attributes (JSON-readable values, [o][i][dy][dx]).
void kernel_attributes(const flow::ChannelKernel& k, io::FieldAttributes& attributes) {
  attributes["kernel_shape"] = fmt::format("[{0}, {0}, {1}, {1}]", k.channels, k.size);
  attributes["kernel_values"] = fmt::format("[{:.17g}]", fmt::join(k.values, ", "));
}

//! One frame file: `steps` SDE steps of `flow` from x0, the denoised estimate (or its
//! exponential average over every step, simulation.frame_ema) every record_every steps (and at
//! 0) appended as it goes; skipped when complete for this deck.
void write_frames(const Context& x, const Item& item, const std::string& name, const Field& x0,
                  std::int64_t steps, const std::string& path, const std::string& starts,
                  ProgressReporter& bar, std::int64_t& done) {
  const std::string identity = frames_identity(x.c);
  if (fs::exists(path)) {
    const auto file = io::H5File::open(path);
    if (file.has_attribute("/frames", "run") &&
        file.attribute_string("/frames", "run") == identity) {
      done += steps;
      return;
    }
  }
  const auto& m = x.c.simulation;
  Built built = build(x, item);
  auto sde = make_sde(x, *built.flow, x0, 0);
  const nn::FieldShape shape = nn::shape_of(x0);
  const std::size_t n = x0.extent(0);
  const bool smooth = m.frame_ema > 0;
  io::FieldAttributes attributes{
      {"dt", m.dt},
      {"eta", m.eta},
      {"record_every", m.record_every},
      {"diffusion_step", x.c.flows.step},
      {"flow", name},
      {"canvas", std::int64_t(shape.height / x.shape.height)},
      {"start", m.start},
      {"frame_ema", m.frame_ema},
      {"run", identity},
      {"start_indices", starts},
      {"content",
       std::string(smooth ? "exponential average (weight frame_ema on the old value, updated "
                            "every step) of the denoised estimates x0_hat, clipped to [-1, 1]"
                          : "denoised estimates x0_hat of the SDE states, clipped to [-1, 1]")}};
  if (item.group == "kernel" || item.group == "training_free_g") {
    attributes["kernel"] = x.c.flows.kernel;
    if (item.group == "kernel") attributes["kernel_index"] = item.index;  // the sweep's e
    kernel_attributes(item_kernel(x, item), attributes);
  }
  io::FrameWriter writer(path, "frames", n, shape.channels, shape.height, shape.width, attributes);
  Field frame = field(n, shape, "eqflow::flows::frame");
  Field shown = smooth ? field(n, shape, "eqflow::flows::frame_ema") : frame;
  sde.denoised(frame);
  if (smooth) Kokkos::deep_copy(shown, frame);
  writer.append(shown, 0.0);
  for (std::int64_t t = 1; t <= steps; ++t) {
    sde.step();
    if (smooth) {
      sde.denoised(frame);
      dynamics::exponential_average<float>(shown, frame, float(m.frame_ema));
    }
    if (t % m.record_every == 0) {
      if (!smooth) sde.denoised(frame);
      writer.append(shown, double(t) * m.dt);
    }
    bar.update(++done, fmt::format("{} step {}/{}", name, t, steps));
  }
  writer.commit();
  fmt::print("frames: {} ({} frames of {}; rank {})\n", path, writer.frames(), field_name(n, shape),
             x.comm.rank());
}

void run_frames(const Context& x, const FieldRunOptions& options, FieldRunResult& result) {
  const auto& m = x.c.simulation;
  if (m.samples == 0 || m.horizon == 0) return;
  const bool from_data = m.start == "data";
  // The starts: held-out fields (and the same tiled canvas x canvas times), or uniform noise on
  // the canvas.
  std::string starts;
  Field x0, wide;
  if (from_data) {
    const auto indices = start_indices(x, x.c.similarity.starts);
    const std::vector<std::int64_t> chosen(indices.begin(), indices.begin() + m.samples);
    starts = fmt::format("{}", fmt::join(chosen, ", "));
    x0 = load_starts(x, chosen);
    if (m.canvas > 1) wide = tile(x0, std::size_t(m.canvas));
  } else {
    starts = "uniform noise in [-1, 1]";
    const nn::FieldShape canvas{x.shape.channels, x.shape.height * std::size_t(m.canvas),
                                x.shape.width * std::size_t(m.canvas)};
    // Element l from counter l: every flow of the sweep starts from the same fields.
    x0 = field(std::size_t(m.samples), canvas, "eqflow::flows::noise_start");
    fill_uniform(x0, stream(x.c, kNoiseStart), 0, -1.0f, 1.0f);
  }
  // Per flow: from data, the long horizon at the training size and (canvas > 1) simulation.steps
  // on the larger canvas; from noise, the horizon on the canvas. Then the sweep's kernels. Files
  // are spread over the ranks.
  struct Job {
    Item item;
    std::string name, path;
    bool canvas;
  };
  std::vector<Job> jobs;
  const auto add = [&](const Item& item, const std::string& name) {
    jobs.push_back({item, name, (x.output / "frames" / (name + ".h5")).string(), false});
    if (from_data && m.canvas > 1) {
      const std::string wide_name = fmt::format("{}_canvas{}", name, m.canvas);
      jobs.push_back({item, wide_name, (x.output / "frames" / (wide_name + ".h5")).string(), true});
    }
  };
  add({"training_free_g", 0}, "training_free");
  if (x.c.flows.experiments > 0) add({"trained", 0}, "trained");
  for (std::int64_t e = 0; e < m.kernels; ++e) add({"kernel", e}, fmt::format("kernel_{}", e));
  if (x.comm.is_root()) fs::create_directories(x.output / "frames");
  x.comm.barrier();
  const std::size_t ranks = std::size_t(x.comm.size()), rank = std::size_t(x.comm.rank());
  const auto steps_of = [&](const Job& job) { return job.canvas ? m.steps : m.horizon; };
  std::int64_t mine = 0, done = 0;
  for (std::size_t j = rank; j < jobs.size(); j += ranks) mine += steps_of(jobs[j]);
  ProgressReporter bar("frame SDE steps (rank 0's files)", std::max<std::int64_t>(1, mine),
                       options.progress && x.comm.is_root());
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    result.frame_paths.push_back(jobs[j].path);
    if (j % ranks != rank) continue;
    write_frames(x, jobs[j].item, jobs[j].name, jobs[j].canvas ? wide : x0, steps_of(jobs[j]),
                 jobs[j].path, starts, bar, done);
  }
  bar.finish(fmt::format("{} frame files", jobs.size()));
  x.comm.barrier();
}

}  // namespace

void run_field_flows(const FieldRunConfig& c, const parallel::Comm& comm,
                     const std::string& data_path, const std::string& dataset,
                     FieldRunResult& result, const FieldRunOptions& options) {
  if (!c.flows.enabled) return;
  const io::FieldReader reader(data_path, dataset);
  const auto s = reader.shape();
  Score score(impl::unet_config(c, s.channels), diffusion::NoiseSchedule::linear_betas());
  {
    const auto file = io::H5File::open(result.score_path);
    read_parameters(file, "/unet", score.unet().parameters());
  }
  Context x{c, comm, reader, fs::path(c.output), nn::FieldShape{s.channels, s.height, s.width},
            0, 0,    score};
  x.validation = std::int64_t(std::floor(c.score.validation_fraction * double(s.samples)));
  x.train = std::int64_t(s.samples) - x.validation;
  if (comm.is_root()) fs::create_directories(x.output / "flows");
  comm.barrier();
  if (c.flows.experiments > 0) train_flows(x, options, result);
  run_similarity(x, options, result);
  run_frames(x, options, result);
}

}  // namespace eqflow::app
