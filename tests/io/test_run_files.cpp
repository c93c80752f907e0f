// The run-file module: a flow model loads from its file alone (architecture stored with it),
// checkpoints round-trip, the summary is indexed by seed and NaN-padded where seeds ran other
// analyses (MMD curves on the union of their time grids), and run.h5 links the summary.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/io/run_files.hpp"
#include "support/files.hpp"

namespace eqflow::io {
namespace {

class RunFilesTest : public test::TempDirTest {};

RunIdentity identity() {
  return {"two_peaks", 2, "system: two_peaks\n", "key\n"};
}

TEST_F(RunFilesTest, FlowModelLoadsFromItsFileAlone) {
  nn::FlowArchitecture arch;
  arch.kind = "mlp";
  arch.dim = 3;
  arch.hidden = 8;
  arch.final_norm = false;
  nn::Model<float> model(nn::make_flow_network<float>(arch), 42);
  const std::string path = file("seed.h5");
  auto f = create_seed_file(path, identity(), 7, model, arch, {"exact", 0.2, 3}, {3.0, 2.0, 1.0});
  f.commit();

  const auto loaded = load_flow(path);
  ASSERT_EQ(loaded->parameters().num_parameters(), model.parameters().num_parameters());
  View2<float> xf("x", 5, 3), yf("y", 5, 3);
  View2<double> xd("x", 5, 3), yd("y", 5, 3);
  fill_normal(xd, CounterRng(1, 0), 0);
  auto hx = Kokkos::create_mirror_view_and_copy(HostSpace(), xd);
  auto hxf = Kokkos::create_mirror_view(xf);
  for (std::size_t i = 0; i < 5; ++i) {  // the same (float) inputs to both models
    for (std::size_t j = 0; j < 3; ++j) {
      hxf(i, j) = static_cast<float>(hx(i, j));
      hx(i, j) = static_cast<double>(hxf(i, j));
    }
  }
  Kokkos::deep_copy(xf, hxf);
  Kokkos::deep_copy(xd, hx);
  model.forward(xf, yf, nn::Mode::Eval);
  loaded->forward(xd, yd, nn::Mode::Eval);
  auto a = Kokkos::create_mirror_view_and_copy(HostSpace(), yf);
  auto b = Kokkos::create_mirror_view_and_copy(HostSpace(), yd);
  for (std::size_t i = 0; i < 5; ++i) {
    for (std::size_t j = 0; j < 3; ++j)
      EXPECT_NEAR(a(i, j), b(i, j), 1e-5 * (1 + std::abs(b(i, j))));
  }
  const auto r = read_seed_result(path);
  EXPECT_EQ(r.seed, 7);
  EXPECT_EQ(r.final_loss, 1.0);
  EXPECT_TRUE(r.analyses.empty());
}

TEST_F(RunFilesTest, FlowWithoutArchitectureIsAClearError) {
  auto f = H5File::create(file("old.h5"));
  f.write("/flow/parameters", std::vector<float>{1, 2});
  f.commit();
  test::expect_error_containing<IoError>([&] { load_flow(file("old.h5")); },
                                         {"old.h5", "/flow", "model"});
}

TEST_F(RunFilesTest, CheckpointRoundTrip) {
  nn::FlowArchitecture arch;
  arch.dim = 2;
  arch.hidden = 4;
  nn::Model<float> model(nn::make_flow_network<float>(arch), 1);
  nn::Model<float> other(nn::make_flow_network<float>(arch), 2);
  const auto n = model.parameters().num_parameters();
  nn::Adam<float> adam(n, {}), restored(n, {});
  Kokkos::deep_copy(adam.first_moment(), 0.125f);
  Kokkos::deep_copy(adam.second_moment(), 0.5f);
  adam.set_steps(8);
  write_checkpoint(file("ckpt.h5"), model, arch, adam, {3, 2, {0.5, 0.25}});
  const auto back = read_checkpoint(file("ckpt.h5"), other, restored);
  EXPECT_EQ(back.seed, 3);
  EXPECT_EQ(back.epoch, 2);
  EXPECT_EQ(back.loss, (std::vector<double>{0.5, 0.25}));
  EXPECT_EQ(restored.steps(), 8);
  auto m = Kokkos::create_mirror_view_and_copy(HostSpace(), restored.first_moment());
  auto v = Kokkos::create_mirror_view_and_copy(HostSpace(), restored.second_moment());
  auto p = Kokkos::create_mirror_view_and_copy(HostSpace(), model.parameters().values());
  auto q = Kokkos::create_mirror_view_and_copy(HostSpace(), other.parameters().values());
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(m(i), 0.125f);
    EXPECT_EQ(v(i), 0.5f);
    EXPECT_EQ(p(i), q(i));
  }
}

// run.h5 of a tiny score model in `path` (with `selection` when given).
RunDirectory tiny_run(const std::string& path, const SelectionRecord& selection = {}) {
  const RunDirectory dir(path);
  dir.create();
  nn::Model<float> score(nn::make_score_mlp<float>(2, 4), 1);
  ScoreRecord record;
  record.arch.dim = 2;
  record.arch.hidden = 4;
  record.loss = {1.0};
  write_run_file(dir, identity(), systems::make_dataset("two_peaks", 4, 2), score, record,
                 selection);
  return dir;
}

TEST_F(RunFilesTest, SummaryIsIndexedBySeedAndNanPadded) {
  const auto dir = tiny_run(dir_.string());
  EXPECT_FALSE(H5File::open(dir.run_file()).exists("/summary/seeds"));  // link, no target yet

  Summary s;
  s.experiments = 6;
  SeedResult a;  // an early seed: MMD on a short grid
  a.seed = 0;
  a.analyses = {"mmd"};
  a.final_loss = 0.1;
  a.mmd_time = {0, 1, 2};
  a.mmd = {0, 0.01, 0.02};
  SeedResult b;  // a rerun with the spectrum on and a longer, finer grid
  b.seed = 2;
  b.analyses = {"spectrum", "mmd"};
  b.final_loss = 0.2;
  b.spectrum = {0.5, -1.5};
  b.mmd_time = {0, 1.5, 3};
  b.mmd = {0, 0.03, 0.04};
  b.mmd_pure = {0, 0.05, 0.06};  // ran with a Langevin correction: the pure flow too
  SeedResult c;                  // Lyapunov without a stable trajectory
  c.seed = 5;
  c.analyses = {"lyapunov"};
  c.final_loss = 0.3;
  c.lyapunov_stable = 0;
  s.seeds = {a, b, c};
  s.baselines.random_mmd = {{{0, 1.5, 3}, {0, 0.2, 0.3}}};
  s.baselines.noise_floor = 0.001;
  s.baselines.bandwidth = 0.7;
  s.baselines.diffusion_floor = 0.0024;
  s.baselines.diffusion_floor_t = 0.2;
  write_summary(dir, identity(), s);

  const auto run = H5File::open(dir.run_file());
  ASSERT_TRUE(run.exists("/summary/seeds"));  // through the link
  EXPECT_EQ(run.read_ints("/summary/seeds"), (std::vector<std::int64_t>{0, 2, 5}));
  EXPECT_EQ(run.read_ints("/summary/ran/spectrum"), (std::vector<std::int64_t>{0, 1, 0}));
  EXPECT_EQ(run.read_ints("/summary/ran/lyapunov"), (std::vector<std::int64_t>{0, 0, 1}));
  EXPECT_EQ(run.read_doubles("/summary/mmd/time"), (std::vector<double>{0, 1, 1.5, 2, 3}));
  std::vector<std::size_t> shape;
  const auto learned = run.read_doubles("/summary/mmd/learned", &shape);
  ASSERT_EQ(shape, (std::vector<std::size_t>{3, 5}));
  EXPECT_EQ(learned[1], 0.01);
  EXPECT_TRUE(std::isnan(learned[2]));   // seed 0 has no value at 1.5
  EXPECT_EQ(learned[5 + 4], 0.04);       // seed 2 at T = 3
  EXPECT_TRUE(std::isnan(learned[10]));  // seed 5 ran no MMD
  const auto spectrum = run.read_doubles("/summary/spectrum", &shape);
  ASSERT_EQ(shape, (std::vector<std::size_t>{3, 2}));
  EXPECT_TRUE(std::isnan(spectrum[0]));
  EXPECT_EQ(spectrum[3], -1.5);
  EXPECT_TRUE(std::isnan(run.read_doubles("/summary/lyapunov/exponent")[2]));

  const auto back = read_summary(run);
  ASSERT_EQ(back.seeds.size(), 3u);
  EXPECT_EQ(back.experiments, 6);
  EXPECT_EQ(back.seeds[0].mmd_time, a.mmd_time);
  EXPECT_EQ(back.seeds[1].mmd, b.mmd);
  EXPECT_EQ(back.seeds[1].spectrum, b.spectrum);
  EXPECT_TRUE(back.seeds[2].ran("lyapunov"));
  EXPECT_FALSE(back.seeds[2].ran("mmd"));
  EXPECT_TRUE(back.seeds[0].mmd_pure.empty());
  EXPECT_EQ(back.seeds[1].mmd_pure, b.mmd_pure);
  const auto pure = run.read_doubles("/summary/mmd/pure_flow", &shape);
  ASSERT_EQ(shape, (std::vector<std::size_t>{3, 5}));
  EXPECT_TRUE(std::isnan(pure[1]));  // seed 0 ran without the correction
  EXPECT_EQ(pure[5 + 2], 0.05);
  EXPECT_EQ(back.baselines.diffusion_floor, 0.0024);
  EXPECT_EQ(back.baselines.diffusion_floor_t, 0.2);
  EXPECT_EQ(back.baselines.noise_floor, 0.001);
  EXPECT_EQ(back.baselines.bandwidth, 0.7);
  ASSERT_EQ(back.baselines.random_mmd.size(), 1u);
  EXPECT_EQ(back.baselines.random_mmd[0].values, (std::vector<double>{0, 0.2, 0.3}));
}

TEST_F(RunFilesTest, SelectionRoundTripsThroughTheRunFile) {
  SelectionRecord sel;
  sel.score_epochs = {512, 512, 2048, 2048};
  sel.t = {0.1, 0.2, 0.1, 0.2};
  sel.eta = {0, 0.03, 0, 0.03};
  sel.mmd2 = {0.4, 0.1, 0.3, 0.2};
  sel.residual = {1, 2, 3, 4};
  sel.floor = {0.001, 0.002, 0.001, 0.002};
  sel.score_loss = {0.5, 0.5, 0.4, 0.4};
  sel.chosen = 1;
  sel.horizon = 20;
  sel.bandwidth = 1.3;
  sel.validation_points = 100;
  sel.training_points = 400;
  const auto dir = tiny_run(dir_.string(), sel);
  const auto back = read_selection(H5File::open(dir.run_file()));
  EXPECT_EQ(back.score_epochs, sel.score_epochs);
  EXPECT_EQ(back.t, sel.t);
  EXPECT_EQ(back.eta, sel.eta);
  EXPECT_EQ(back.mmd2, sel.mmd2);
  EXPECT_EQ(back.residual, sel.residual);
  EXPECT_EQ(back.floor, sel.floor);
  EXPECT_EQ(back.chosen, 1u);
  EXPECT_EQ(back.horizon, 20);
  EXPECT_EQ(back.training_points, 400);
  // A run that chose nothing has no /selection.
  const auto other = tiny_run((dir_ / "other").string());
  EXPECT_TRUE(read_selection(H5File::open(other.run_file())).empty());
}

}  // namespace
}  // namespace eqflow::io
