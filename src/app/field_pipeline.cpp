// `eqflow run` of field decks (app/fields.hpp): data -> data-parallel score training with
// checkpoints -> samples -> score.h5.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "eqflow/app/deck.hpp"
#include "eqflow/app/fields.hpp"
#include "eqflow/app/impl/field_stages.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/log.hpp"
#include "eqflow/core/progress.hpp"
#include "eqflow/core/timer.hpp"
#include "eqflow/diffusion/field_trainer.hpp"
#include "eqflow/io/field_file.hpp"
#include "eqflow/io/hdf5_file.hpp"

namespace eqflow::app {
namespace {

namespace fs = std::filesystem;
using impl::host_vector;
using impl::set_from;
using impl::unet_config;
using impl::write_parameters;
using Trainer = diffusion::FieldScoreTrainer<float>;

//! The settings a run's results depend on: the deck without where it is written, how it is
//! checkpointed and how the data generation is blocked (a moved or copied output directory is
//! still the same run); without the sampling keys too when `sampling` is false (a rerun with
//! other samples reuses the trained model).
std::string run_identity(const FieldRunConfig& c, bool sampling) {
  FieldRunConfig copy = c;
  if (!sampling) {
    copy.score.samples = FieldScoreConfig{}.samples;
    copy.score.sampler = FieldScoreConfig{}.sampler;
    copy.score.sampler_steps = FieldScoreConfig{}.sampler_steps;
  }
  copy.score.checkpoint_every = FieldScoreConfig{}.checkpoint_every;
  // The flows are later stages with their own identities.
  copy.flows = FieldFlowsConfig{};
  copy.simulation = FieldSimulationConfig{};
  copy.similarity = FieldSimilarityConfig{};
  copy.block = FieldRunConfig{}.block;
  copy.output = FieldRunConfig{}.output;
  copy.source.clear();
  return to_yaml(copy);
}

//! The loss history under /training (checkpoints and score.h5 alike).
void write_history(io::H5File& file, const diffusion::FieldTrainingHistory& h) {
  file.write("/training/train_loss", h.train_loss);
  file.write("/training/validation_loss", h.validation_loss);
  file.write("/training/learning_rate", h.learning_rate);
  file.write("/training/epoch_seconds", h.seconds);
  file.write("/training/step_loss", h.step_loss);
}

diffusion::FieldTrainingHistory read_history(const io::H5File& file) {
  diffusion::FieldTrainingHistory h;
  h.train_loss = file.read_doubles("/training/train_loss");
  h.validation_loss = file.read_doubles("/training/validation_loss");
  h.learning_rate = file.read_doubles("/training/learning_rate");
  h.seconds = file.read_doubles("/training/epoch_seconds");
  h.step_loss = file.read_doubles("/training/step_loss");
  return h;
}

//! Throws unless every rank holds the same parameters (a checksum compared over the ranks:
//! the all-reduced gradient makes every rank's update the same, this makes sure of it).
void check_identical(const View1<float>& values, const parallel::Comm& comm) {
  if (comm.size() == 1) return;
  const auto v = host_vector(values);
  double sum = 0;
  for (std::size_t i = 0; i < v.size(); ++i) sum += double(v[i]) * double(1 + i % 977);
  if (comm.max(sum) != -comm.max(-sum)) {
    throw Error("score training: the ranks' parameters differ (their update must be the same)");
  }
}

// ---- checkpoints --------------------------------------------------------------------------

void write_checkpoint(const std::string& path, const std::string& identity,
                      diffusion::FieldDiffusion<float>& model, const Trainer& trainer) {
  auto file = io::H5File::create(path);
  io::write_provenance(file, "eqflow.field_score_checkpoint", 1);
  file.set_attribute("/", "training", identity);
  file.write("/parameters", host_vector(model.unet().parameters().values()));
  file.write("/adam/first_moment", host_vector(trainer.optimizer().first_moment()));
  file.write("/adam/second_moment", host_vector(trainer.optimizer().second_moment()));
  file.write("/adam/steps", trainer.optimizer().steps());
  write_history(file, trainer.history());
  file.commit();
}

//! Restores a checkpoint of the same training; false when there is none (or another's).
bool read_checkpoint(const std::string& path, const std::string& identity,
                     diffusion::FieldDiffusion<float>& model, Trainer& trainer) {
  if (!fs::exists(path)) return false;
  const auto file = io::H5File::open(path);
  if (!file.has_attribute("/", "training") || file.attribute_string("/", "training") != identity) {
    return false;
  }
  set_from(model.unet().parameters().values(), file.read_floats("/parameters"), path);
  set_from(trainer.optimizer().first_moment(), file.read_floats("/adam/first_moment"), path);
  set_from(trainer.optimizer().second_moment(), file.read_floats("/adam/second_moment"), path);
  trainer.optimizer().set_steps(file.read_int("/adam/steps"));
  trainer.restore(read_history(file));
  return true;
}

// ---- data ---------------------------------------------------------------------------------

//! Each rank reads its contiguous share once, in blocks, so a NaN/inf anywhere stops the run
//! (every rank) with the reader's one-line error before training starts.
void check_user_fields(const io::FieldReader& reader, const parallel::Comm& comm) {
  const std::size_t n = reader.shape().samples, p = std::size_t(comm.size());
  const std::size_t r = std::size_t(comm.rank()), first = n * r / p, last = n * (r + 1) / p;
  const std::size_t block =
      std::max<std::size_t>(1, (64u << 20) / (4 * reader.shape().sample_size()));
  std::string error;
  try {
    for (std::size_t s = first; s < last; s += block) reader.read(s, std::min(block, last - s));
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!comm.all(error.empty())) {
    throw IoError(reader.path(),
                  error.empty() ? "bad values on another rank (see its message)" : error);
  }
}

// ---- the score file -------------------------------------------------------------------------

void write_score_file(const std::string& path, const FieldRunConfig& c,
                      diffusion::FieldDiffusion<float>& model, const Trainer& trainer,
                      const diffusion::FieldSource<float>& source,
                      const std::vector<float>& samples, std::size_t sample_count, int ranks) {
  auto file = io::H5File::create(path);
  io::write_provenance(file, kFieldScoreSchema, 1);
  file.set_attribute("/", "system", c.system);
  file.set_attribute("/", "deck", to_yaml(c));
  file.set_attribute("/", "training", run_identity(c, false));
  file.set_attribute("/", "run", run_identity(c, true));

  const auto& unet = model.unet();
  const auto& store = unet.parameters();
  write_parameters(file, "/unet", store);
  const auto& u = unet.config();
  file.set_attribute("/unet", "model",
                     std::string("diffusers UNet2DModel layout, circular padding, v-prediction"));
  file.set_attribute("/unet", "channels", static_cast<std::int64_t>(u.channels));
  file.set_attribute("/unet", "block_channels",
                     std::vector<double>(u.block_channels.begin(), u.block_channels.end()));
  file.set_attribute("/unet", "layers_per_block", static_cast<std::int64_t>(u.layers_per_block));
  file.set_attribute("/unet", "groups", static_cast<std::int64_t>(u.groups));
  file.set_attribute("/unet", "head_dim", static_cast<std::int64_t>(u.head_dim));
  file.set_attribute("/unet", "schedule", std::string("DDPM, 100 steps, betas linear 1e-4 .. 0.1"));

  write_history(file, trainer.history());
  const auto& s = c.score;
  file.set_attribute("/training", "batch", s.batch);
  file.set_attribute("/training", "lr", s.lr);
  file.set_attribute("/training", "weight_decay", s.weight_decay);
  file.set_attribute("/training", "warmup_steps", s.warmup_steps);
  file.set_attribute("/training", "clip", s.clip);
  file.set_attribute("/training", "train_samples", source.train);
  file.set_attribute("/training", "validation_samples", source.validation);
  file.set_attribute("/training", "ranks", static_cast<std::int64_t>(ranks));
  file.set_attribute("/training", "validation",
                     std::string("the last validation_samples samples of the data set"));

  const auto shape = source.shape;
  file.write("/samples", samples, {sample_count, shape.channels, shape.height, shape.width});
  file.set_attribute("/samples", "sampler", s.sampler);
  file.set_attribute("/samples", "sampler_steps",
                     s.sampler == "ddim" ? s.sampler_steps : std::int64_t(100));
  file.set_attribute("/samples", "seed", static_cast<std::int64_t>(c.score.seed));
  file.set_attribute("/samples", "range", std::string("[-1, 1] (the data's normalisation)"));
  file.commit();
}

}  // namespace

namespace impl {

nn::UNetConfig unet_config(const FieldRunConfig& c, std::size_t channels) {
  nn::UNetConfig u;
  u.channels = channels;
  u.block_channels.assign(c.score.block_channels.begin(), c.score.block_channels.end());
  u.layers_per_block = static_cast<std::size_t>(c.score.layers_per_block);
  return u;
}

std::vector<float> host_vector(const View1<float>& v) {
  auto h = Kokkos::create_mirror_view(v);
  Kokkos::deep_copy(h, v);
  return std::vector<float>(h.data(), h.data() + h.size());
}

void set_from(const View1<float>& v, const std::vector<float>& values, const std::string& what) {
  if (values.size() != v.size()) {
    throw IoError(what, fmt::format("holds {} values, the model {}", values.size(), v.size()));
  }
  auto h = Kokkos::create_mirror_view(v);
  std::copy(values.begin(), values.end(), h.data());
  Kokkos::deep_copy(v, h);
}

void write_parameters(io::H5File& file, const std::string& group,
                      const nn::ParameterStore<float>& store) {
  file.write(group + "/parameters", host_vector(store.values()));
  if (store.num_buffers() > 0) file.write(group + "/buffers", host_vector(store.buffers()));
  std::vector<std::string> names;
  std::vector<std::int64_t> offsets, ranks_of, shapes;
  for (const auto& slot : store.parameter_slots()) {
    names.push_back(slot.name);
    offsets.push_back(static_cast<std::int64_t>(slot.offset));
    ranks_of.push_back(static_cast<std::int64_t>(slot.extents.size()));
    for (auto e : slot.extents) shapes.push_back(static_cast<std::int64_t>(e));
  }
  file.write_strings(group + "/layout/names", names);
  file.write(group + "/layout/offsets", offsets);
  file.write(group + "/layout/ranks", ranks_of);
  file.write(group + "/layout/shapes", shapes);
}

void read_parameters(const io::H5File& file, const std::string& group,
                     const nn::ParameterStore<float>& store) {
  const auto names = file.read_strings(group + "/layout/names");
  const auto& slots = store.parameter_slots();
  bool same = names.size() == slots.size();
  for (std::size_t i = 0; same && i < names.size(); ++i) same = names[i] == slots[i].name;
  if (!same) {
    throw IoError(file.path(), fmt::format("{} holds another model's parameters ({} tensors, "
                                           "expected {})",
                                           group, names.size(), slots.size()));
  }
  set_from(store.values(), file.read_floats(group + "/parameters"), file.path() + ":" + group);
  if (store.num_buffers() > 0) {
    set_from(store.buffers(), file.read_floats(group + "/buffers"), file.path() + ":" + group);
  }
}

}  // namespace impl

FieldRunResult run_field_pipeline(const FieldRunConfig& c, const parallel::Comm& comm,
                                  const FieldRunOptions& options) {
  FieldRunResult result;
  const fs::path output(c.output);
  if (comm.is_root()) fs::create_directories(output / "checkpoints");
  comm.barrier();

  // 1. Data.
  std::string dataset = "/fields";
  if (c.system != "fields") {
    result.data_path = (output / "data.h5").string();
    GenerateOptions generate;
    generate.progress = options.progress;
    const auto made = generate_data(c, comm, result.data_path, generate);
    if (!made.complete) throw Error("the data set is unfinished: " + made.path);
  } else {
    result.data_path = c.file;
    dataset = c.dataset;
  }
  const io::FieldReader reader(result.data_path, dataset);
  if (c.system == "fields") check_user_fields(reader, comm);
  const auto shape = reader.shape();
  const std::string identity = run_identity(c, false);

  result.score_path = (output / "score.h5").string();
  if (fs::exists(result.score_path)) {
    const auto done = io::H5File::open(result.score_path);
    if (done.has_attribute("/", "run") &&
        done.attribute_string("/", "run") == run_identity(c, true)) {
      const auto h = read_history(done);
      result.train_loss = h.train_loss;
      result.validation_loss = h.validation_loss;
      result.step_loss = h.step_loss;
      if (comm.is_root()) fmt::print("score: {} is complete for this deck\n", result.score_path);
      run_field_flows(c, comm, result.data_path, dataset, result, options);
      return result;
    }
  }

  // 2. Score model.
  diffusion::FieldDiffusion<float> model(unet_config(c, shape.channels),
                                         diffusion::NoiseSchedule::linear_betas());
  model.unet().initialize(c.score.seed);
  const auto samples = static_cast<std::int64_t>(shape.samples);
  diffusion::FieldSource<float> source;
  source.validation = static_cast<std::int64_t>(std::floor(c.score.validation_fraction * samples));
  source.train = samples - source.validation;
  source.shape = nn::FieldShape{shape.channels, shape.height, shape.width};
  source.rank = comm.rank();
  source.ranks = comm.size();
  const std::size_t sample_size = shape.sample_size();
  source.load = [&reader, sample_size](const std::vector<std::int64_t>& indices,
                                       const View4<float>& out) {
    auto host = Kokkos::create_mirror_view(out);
    for (std::size_t i = 0; i < indices.size(); ++i) {
      const auto values = reader.read(static_cast<std::size_t>(indices[i]), 1);
      std::copy(values.begin(), values.end(), host.data() + i * sample_size);
    }
    Kokkos::deep_copy(out, host);
  };
  source.sum = [&comm](float* values, std::size_t n) { comm.allreduce_sum(values, n); };
  source.sum_doubles = [&comm](double* values, std::size_t n) { comm.allreduce_sum(values, n); };
  diffusion::FieldTrainingSettings settings;
  settings.epochs = c.score.epochs;
  settings.batch = c.score.batch;
  settings.lr = c.score.lr;
  settings.weight_decay = c.score.weight_decay;
  settings.warmup_steps = c.score.warmup_steps;
  settings.clip = c.score.clip;
  const CounterRng rng(c.score.seed, mix64(0x5C07Eull));
  Trainer trainer(model, settings, source, rng);

  const std::string checkpoint = (output / "checkpoints" / "score.h5").string();
  if (read_checkpoint(checkpoint, identity, model, trainer)) {
    result.resumed_epoch = trainer.epoch();
    if (comm.is_root()) {
      fmt::print("score: resuming at epoch {} of {} from {}\n", trainer.epoch(), settings.epochs,
                 checkpoint);
    }
  }
  if (comm.is_root() && !trainer.done()) {
    fmt::print(
        "score: UNet of {} parameters, {} training + {} validation samples of {} x {} x {}, "
        "global batch {} over {} rank{}, {} steps per epoch\n",
        model.unet().parameters().num_parameters(), source.train, source.validation, shape.channels,
        shape.height, shape.width, settings.batch, comm.size(), comm.size() == 1 ? "" : "s",
        trainer.steps_per_epoch());
  }
  ProgressReporter bar("score steps", trainer.total_steps(), options.progress && comm.is_root());
  while (!trainer.done()) {
    if (options.stop_after_epochs >= 0 && result.epochs_trained >= options.stop_after_epochs) {
      result.score_path.clear();  // not written: the training is unfinished
      return result;
    }
    const std::int64_t e = trainer.epoch(), steps = trainer.steps_per_epoch();
    trainer.run_epoch([&](std::int64_t step, double loss) {
      bar.update(e * steps + step, fmt::format("epoch {}/{} loss {:.4f} (rank 0's share)", e + 1,
                                               settings.epochs, loss));
    });
    ++result.epochs_trained;
    const auto& h = trainer.history();
    if (comm.is_root()) {
      log::info("score epoch {}/{}: train {:.5f} validation {:.5f} lr {:.2e} ({:.1f} s)", e + 1,
                settings.epochs, h.train_loss.back(), h.validation_loss.back(),
                h.learning_rate.back(), h.seconds.back());
    }
    if (trainer.done() || trainer.epoch() % c.score.checkpoint_every == 0) {
      check_identical(model.unet().parameters().values(), comm);
      if (comm.is_root()) write_checkpoint(checkpoint, identity, model, trainer);
      comm.barrier();
    }
  }
  bar.finish(trainer.history().train_loss.empty()
                 ? "no epochs"
                 : fmt::format("train {:.5f} validation {:.5f}",
                               trainer.history().train_loss.back(),
                               trainer.history().validation_loss.back()));

  // 3. Samples: rank r draws samples [S r / P, S (r+1) / P), in chunks of the per-rank batch.
  const std::size_t count = static_cast<std::size_t>(c.score.samples);
  std::vector<float> generated(count * sample_size, 0.0f);
  {
    const std::size_t p = std::size_t(comm.size()), r = std::size_t(comm.rank());
    const std::size_t first = count * r / p, last = count * (r + 1) / p;
    const std::size_t chunk = std::max<std::size_t>(1, std::size_t(settings.batch) / p);
    const auto sampler = diffusion::parse_field_sampler(c.score.sampler);
    const CounterRng sample_rng(c.score.seed, mix64(0x5A3B1Eull));
    const Timer timer;
    for (std::size_t s = first; s < last; s += chunk) {
      const std::size_t n = std::min(chunk, last - s);
      View4<float> x("eqflow::run::samples", n, shape.channels, shape.height, shape.width);
      model.sample(x, sampler, static_cast<int>(c.score.sampler_steps), sample_rng, s);
      auto host = Kokkos::create_mirror_view(x);
      Kokkos::deep_copy(host, x);
      std::copy(host.data(), host.data() + host.size(), generated.begin() + long(s * sample_size));
    }
    comm.allreduce_sum(generated.data(), generated.size());
    if (comm.is_root() && count > 0) {
      fmt::print("samples: {} by {} in {:.1f} s\n", count, c.score.sampler, timer.seconds());
    }
  }
  if (comm.is_root()) {
    write_score_file(result.score_path, c, model, trainer, source, generated, count, comm.size());
  }
  comm.barrier();
  const auto& h = trainer.history();
  result.train_loss = h.train_loss;
  result.validation_loss = h.validation_loss;
  result.step_loss = h.step_loss;
  if (comm.is_root()) {
    fmt::print("score: {} ({} epochs; final train loss {:.5f}, validation loss {:.5f})\n",
               result.score_path, h.train_loss.size(),
               h.train_loss.empty() ? 0.0 : h.train_loss.back(),
               h.validation_loss.empty() ? 0.0 : h.validation_loss.back());
  }
  run_field_flows(c, comm, result.data_path, dataset, result, options);
  return result;
}

}  // namespace eqflow::app
