// Gray-Scott data generation over MPI (app::generate_gray_scott, io::ParallelFieldWriter) on
// however many ranks mpiexec starts (ctest: 1 and 2): the file written by every rank equals,
// bit for bit, the one written by rank 0 alone and the serial simulator's fields; a generation
// stopped after one block resumes to the same data; samples whose completeness flag was cleared
// are the only ones recomputed; a complete file is reused; a working file of other settings is
// replaced. 5 samples (not a multiple of 2 ranks) of 24 x 20, 200 steps, blocks of 1 sample.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
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

}  // namespace
}  // namespace eqflow::app
