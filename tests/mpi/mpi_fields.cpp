// Gray-Scott data generation over MPI (app::generate_gray_scott, io::ParallelFieldWriter) on
// however many ranks mpiexec starts (ctest: 1 and 2): the file written by every rank equals,
// bit for bit, the one written by rank 0 alone and the serial simulator's fields; a generation
// stopped after one block resumes to the same data; samples whose completeness flag was cleared
// are the only ones recomputed; a complete file is reused; a working file of other settings is
// replaced. 5 samples (not a multiple of 2 ranks) of 24 x 20, 200 steps, blocks of 1 sample.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "eqflow/app/fields.hpp"
#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/io/field_file.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/parallel/comm.hpp"
#include "eqflow/systems/gray_scott.hpp"

namespace eqflow::app {
namespace {

namespace fs = std::filesystem;

FieldRunConfig tiny_config() {
  FieldRunConfig c;
  c.seed = 3;
  c.preset = "maze";
  const auto p = systems::gray_scott_preset("maze");
  c.Du = p.Du, c.Dv = p.Dv, c.F = p.F, c.k = p.k;
  c.samples = 5;
  c.height = 24;
  c.width = 20;
  c.steps = 200;
  c.block = 1;
  return c;
}

//! A directory shared by the ranks of this run (rank 0's pid), fresh for each test.
class FieldsMpiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = std::to_string(::getpid());
    comm_.broadcast(name);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("eqflow_mpi_fields_" + std::string(info->name()) + "_" + name);
    if (comm_.is_root()) {
      fs::remove_all(dir_);
      fs::create_directories(dir_);
    }
    comm_.barrier();
  }
  void TearDown() override {
    comm_.barrier();
    if (comm_.is_root()) fs::remove_all(dir_);
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  parallel::Comm comm_ = parallel::Comm::world();
  fs::path dir_;
};

std::vector<float> all_fields(const std::string& path) {
  const io::FieldReader reader(path, "/fields");
  return reader.read(0, reader.shape().samples);
}

//! The data set from the serial simulator, sample by sample, normalised by 2x - 1.
std::vector<float> serial_fields(const FieldRunConfig& c) {
  const std::size_t h = static_cast<std::size_t>(c.height), w = static_cast<std::size_t>(c.width);
  systems::GrayScottSimulator<float> sim({c.Du, c.Dv, c.F, c.k}, 1, h, w);
  std::vector<float> out;
  for (std::int64_t s = 0; s < c.samples; ++s) {
    View4<float> one("test::one", 1, 2, h, w);
    systems::gray_scott_initial_state(one, c.seed, static_cast<std::uint64_t>(s));
    sim.advance(one, static_cast<std::size_t>(c.steps));
    auto host = Kokkos::create_mirror_view_and_copy(HostSpace(), one);
    for (std::size_t i = 0; i < host.span(); ++i) out.push_back(2.0f * host.data()[i] - 1.0f);
  }
  return out;
}

TEST_F(FieldsMpiTest, EveryRankCountWritesTheSameBits) {
  const FieldRunConfig c = tiny_config();
  GenerateOptions quiet;
  quiet.progress = false;
  const GenerateResult all = generate_gray_scott(c, comm_, file("all.h5"), quiet);
  EXPECT_TRUE(all.complete);
  EXPECT_EQ(all.computed, 5);
  EXPECT_EQ(all.reused, 0);
  if (comm_.is_root()) {
    const parallel::Comm self = parallel::Comm::self();
    const GenerateResult alone = generate_gray_scott(c, self, file("alone.h5"), quiet);
    EXPECT_TRUE(alone.complete);
    EXPECT_FALSE(fs::exists(file("all.h5.partial")));
    const std::vector<float> a = all_fields(file("all.h5")), b = all_fields(file("alone.h5"));
    ASSERT_EQ(a.size(), 5u * 2 * 24 * 20);
    EXPECT_EQ(a, b) << "data differ between " << comm_.size() << " ranks and 1";
    EXPECT_EQ(a, serial_fields(c)) << "data differ from the serial simulator";
    EXPECT_TRUE(std::all_of(a.begin(), a.end(), [](float x) { return x >= -1.f && x <= 1.f; }));

    const io::FieldReader reader(file("all.h5"), "/fields");
    EXPECT_EQ(reader.attribute_string("preset"), "maze");
    EXPECT_EQ(reader.attribute_double("F"), 0.029);
    EXPECT_EQ(reader.attribute_double("k"), 0.057);
    EXPECT_EQ(reader.attribute_double("Du"), 0.16);
    EXPECT_EQ(reader.attribute_double("Dv"), 0.08);
    EXPECT_EQ(reader.attribute_int("steps"), 200);
    EXPECT_EQ(reader.attribute_double("dt"), 1.0);
    EXPECT_EQ(reader.attribute_string("normalisation"), "2x - 1");
    EXPECT_EQ(reader.attribute_int("seed"), 3);
    EXPECT_EQ(reader.file().attribute_string("/", "software"), "eqflow");
    EXPECT_EQ(reader.file().attribute_string("/", "schema"), kGrayScottSchema);
    EXPECT_NE(reader.file().attribute_string("/", "deck").find("preset: maze"), std::string::npos);
    const std::vector<std::int64_t> flags = reader.file().read_ints("/fields_complete");
    EXPECT_EQ(flags, std::vector<std::int64_t>(5, 1));
    // A hyperslab: samples 2 and 3 alone.
    const std::vector<float> middle = reader.read(2, 2);
    EXPECT_TRUE(std::equal(middle.begin(), middle.end(), a.begin() + 2 * 2 * 24 * 20));
  }
  comm_.barrier();
  // A complete file with the same settings is reused, not recomputed.
  const GenerateResult again = generate_gray_scott(c, comm_, file("all.h5"), quiet);
  EXPECT_TRUE(again.complete);
  EXPECT_EQ(again.computed, 0);
  EXPECT_EQ(again.reused, 5);
}

TEST_F(FieldsMpiTest, AStoppedGenerationResumesToTheSameData) {
  const FieldRunConfig c = tiny_config();
  GenerateOptions quiet;
  quiet.progress = false;
  GenerateOptions killed = quiet;
  killed.stop_after_blocks = 1;  // one round: one sample per rank
  const GenerateResult first = generate_gray_scott(c, comm_, file("data.h5"), killed);
  EXPECT_FALSE(first.complete);
  EXPECT_EQ(first.path, file("data.h5.partial"));
  const std::int64_t done = std::min<std::int64_t>(comm_.size(), 5);
  EXPECT_EQ(first.computed, done);
  comm_.barrier();
  EXPECT_FALSE(fs::exists(file("data.h5")));
  EXPECT_TRUE(fs::exists(file("data.h5.partial")));

  const GenerateResult second = generate_gray_scott(c, comm_, file("data.h5"), quiet);
  EXPECT_TRUE(second.complete);
  EXPECT_EQ(second.reused, done);
  EXPECT_EQ(second.computed, 5 - done);
  comm_.barrier();
  EXPECT_FALSE(fs::exists(file("data.h5.partial")));
  if (comm_.is_root()) {
    EXPECT_EQ(all_fields(file("data.h5")), serial_fields(c));
  }
}

TEST_F(FieldsMpiTest, OnlySamplesMarkedIncompleteAreRecomputed) {
  const FieldRunConfig c = tiny_config();
  GenerateOptions quiet;
  quiet.progress = false;
  generate_gray_scott(c, comm_, file("data.h5"), quiet);
  // As if killed after writing samples 1 and 3 but before flagging them: their values are
  // garbage and their flags 0.
  if (comm_.is_root()) {
    fs::rename(file("data.h5"), file("data.h5.partial"));
    io::H5File edit = io::H5File::open_rw(file("data.h5.partial"));
    std::vector<std::int64_t> flags = edit.read_ints("/fields_complete");
    std::vector<std::size_t> shape;
    std::vector<float> values = edit.read_floats("/fields", &shape);
    const std::size_t size = 2 * 24 * 20;
    for (const std::size_t s : {1u, 3u}) {
      flags[s] = 0;
      std::fill(values.begin() + s * size, values.begin() + (s + 1) * size, 7.0f);
    }
    edit.write("/fields_complete", flags);
    edit.write("/fields", values, shape);
    edit.commit();
  }
  comm_.barrier();
  const GenerateResult resumed = generate_gray_scott(c, comm_, file("data.h5"), quiet);
  EXPECT_TRUE(resumed.complete);
  EXPECT_EQ(resumed.reused, 3);
  EXPECT_EQ(resumed.computed, 2);
  if (comm_.is_root()) {
    EXPECT_EQ(all_fields(file("data.h5")), serial_fields(c));
  }
}

TEST_F(FieldsMpiTest, AWorkingFileOfOtherSettingsIsReplaced) {
  FieldRunConfig c = tiny_config();
  GenerateOptions stopped;
  stopped.progress = false;
  stopped.stop_after_blocks = 1;
  c.steps = 50;
  generate_gray_scott(c, comm_, file("data.h5"), stopped);
  c.steps = 200;
  GenerateOptions quiet;
  quiet.progress = false;
  const GenerateResult fresh = generate_gray_scott(c, comm_, file("data.h5"), quiet);
  EXPECT_EQ(fresh.reused, 0);
  EXPECT_EQ(fresh.computed, 5);
  if (comm_.is_root()) {
    EXPECT_EQ(all_fields(file("data.h5")), serial_fields(c));
  }
}

// ---- Data-parallel score training ----------------------------------------------------------

//! A small training: 24 samples of 16 x 16 (22 train, 2 validation), a UNet of blocks 8/16 with
//! one layer each, global batch 4: 6 steps per epoch (the last of 2 samples), 9 epochs = 54
//! steps.
FieldRunConfig training_config(const std::string& output) {
  FieldRunConfig c = tiny_config();
  c.output = output;
  c.samples = 24;
  c.height = 16;
  c.width = 16;
  c.steps = 300;
  c.block = 4;
  c.score.epochs = 9;
  c.score.batch = 4;
  c.score.warmup_steps = 10;
  c.score.block_channels = {8, 16};
  c.score.layers_per_block = 1;
  c.score.checkpoint_every = 2;
  c.score.samples = 3;
  c.score.sampler = "ddim";
  c.score.sampler_steps = 5;
  return c;
}

std::vector<float> trained_parameters(const std::string& output) {
  return io::H5File::open(output + "/score.h5").read_floats("/unet/parameters");
}

//! Every rank trains on the world communicator; rank 0 also alone (Comm::self), stopped after 3
//! epochs and resumed from its checkpoint. Tolerances: on one rank the two runs do the same
//! arithmetic and agree bit for bit; on 2 ranks the gradient is summed in another order, and the
//! float32 loss curves of 54 steps agree to 1e-4 relative (measured 3e-7), the parameter vectors
//! to 5e-3 in norm (measured 7e-4; not entry by entry: AdamW normalises each update, so the
//! roundoff of a gradient that is zero in exact arithmetic, that of every bias right before a
//! GroupNorm of one channel per group as here, or of attention's to_k.bias, moves its parameter
//! by up to lr per step either way), and the DDIM samples of the two models, which those
//! directions do not change, to 1e-4 (measured 4e-6).
TEST_F(FieldsMpiTest, TrainingFollowsTheSameCurveOnAnyRankCountAndResumes) {
  FieldRunOptions quiet;
  quiet.progress = false;
  const auto together = run_field_pipeline(training_config(file("world")), comm_, quiet);
  ASSERT_EQ(together.step_loss.size(), 54u);
  ASSERT_EQ(together.validation_loss.size(), 9u);
  EXPECT_LT(together.train_loss.back(), together.train_loss.front());
  if (comm_.is_root()) {
    const auto self = parallel::Comm::self();
    FieldRunOptions stop = quiet;
    stop.stop_after_epochs = 3;
    const auto part = run_field_pipeline(training_config(file("alone")), self, stop);
    EXPECT_EQ(part.epochs_trained, 3);
    EXPECT_FALSE(fs::exists(file("alone") + "/score.h5"));
    const auto alone = run_field_pipeline(training_config(file("alone")), self, quiet);
    EXPECT_EQ(alone.resumed_epoch, 2);  // checkpoints every 2 epochs: epoch 3 is redone
    EXPECT_EQ(alone.epochs_trained, 7);
    ASSERT_EQ(alone.step_loss.size(), together.step_loss.size());

    const auto a = trained_parameters(file("world")), b = trained_parameters(file("alone"));
    ASSERT_EQ(a.size(), b.size());
    if (comm_.size() == 1) {
      EXPECT_EQ(alone.step_loss, together.step_loss);
      EXPECT_EQ(a, b);
    } else {
      double loss_worst = 0;
      for (std::size_t i = 0; i < alone.step_loss.size(); ++i) {
        EXPECT_NEAR(alone.step_loss[i], together.step_loss[i], 1e-4 * together.step_loss[i])
            << "step " << i;
        loss_worst = std::max(loss_worst, std::abs(alone.step_loss[i] - together.step_loss[i]) /
                                              together.step_loss[i]);
      }
      double diff2 = 0, norm2 = 0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        diff2 += double(a[i] - b[i]) * double(a[i] - b[i]);
        norm2 += double(a[i]) * double(a[i]);
      }
      const auto samples_a = io::H5File::open(file("world") + "/score.h5").read_floats("/samples");
      const auto samples_b = io::H5File::open(file("alone") + "/score.h5").read_floats("/samples");
      ASSERT_EQ(samples_a.size(), samples_b.size());
      float sample_worst = 0;
      for (std::size_t i = 0; i < samples_a.size(); ++i) {
        sample_worst = std::max(sample_worst, std::abs(samples_a[i] - samples_b[i]));
      }
      std::printf(
          "[ 1 vs 2 ranks ] loss curve of 54 steps: max relative difference %.2e; parameters: "
          "|a - b| / |a| = %.2e; DDIM samples: max difference %.2e\n",
          loss_worst, std::sqrt(diff2 / norm2), double(sample_worst));
      EXPECT_LE(std::sqrt(diff2 / norm2), 5e-3);
      EXPECT_LE(sample_worst, 1e-4f);
    }
  }
  comm_.barrier();
  // A complete run is reused.
  const auto again = run_field_pipeline(training_config(file("world")), comm_, quiet);
  EXPECT_EQ(again.epochs_trained, 0);
  EXPECT_EQ(again.step_loss, together.step_loss);
}

}  // namespace
}  // namespace eqflow::app
