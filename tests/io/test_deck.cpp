// Decks: defaults per system, overrides, and one clear error naming the key and line for
// every kind of bad input; the resolved deck reads back to the same settings.
#include <gtest/gtest.h>

#include <fstream>

#include "eqflow/core/error.hpp"
#include "eqflow/io/deck.hpp"
#include "support/files.hpp"

namespace eqflow {
namespace {

// Expects parse_deck to throw a one-line ConfigError whose message contains every fragment.
void expect_error(const std::string& yaml, const std::vector<std::string>& fragments,
                  const std::vector<std::string>& overrides = {}) {
  test::expect_error_containing<ConfigError>([&] { io::parse_deck(yaml, "deck.yaml", overrides); },
                                             fragments);
}

TEST(Deck, DefaultsDependOnTheSystem) {
  const auto lorenz = io::parse_deck("system: lorenz\n", "d");
  EXPECT_EQ(lorenz.experiments, 100);
  EXPECT_EQ(lorenz.flow.epochs, 512);
  EXPECT_TRUE(lorenz.analysis.lyapunov.enabled);
  EXPECT_TRUE(lorenz.analysis.similarity.enabled);
  EXPECT_EQ(lorenz.score.epochs, 512);
  EXPECT_DOUBLE_EQ(lorenz.flow.t, 0.2);
  EXPECT_EQ(lorenz.score.lr_schedule, "constant");
  EXPECT_EQ(lorenz.flow.lr_schedule, "cosine");
  EXPECT_DOUBLE_EQ(lorenz.analysis.langevin.eta, 0.0);
  EXPECT_DOUBLE_EQ(io::parse_deck("system: two_peaks\n", "d").analysis.langevin.tau, 0.04);
  const auto moons = io::parse_deck("system: two_moons\n", "d");
  EXPECT_DOUBLE_EQ(moons.flow.t, 0.1);
  EXPECT_DOUBLE_EQ(moons.analysis.langevin.tau, 0.04);
  EXPECT_DOUBLE_EQ(io::parse_deck("system: two_moons\npreset: reference\n", "d").flow.t, 0.2);
  EXPECT_DOUBLE_EQ(app::default_config("samples").analysis.langevin.eta, 0.0);
  const auto ring = io::parse_deck("system: ring\n", "d");
  EXPECT_EQ(ring.flow.epochs, 1024);
  EXPECT_FALSE(ring.analysis.lyapunov.enabled);
  EXPECT_EQ(ring.output, "out/ring");
  // eqflow's own defaults, the best measured in bench/FIDELITY.md.
  EXPECT_EQ(ring.score.lr_schedule, "cosine");
  EXPECT_EQ(ring.score.epochs, 2048);
  EXPECT_EQ(ring.flow.lr_schedule, "cosine");
  EXPECT_DOUBLE_EQ(ring.analysis.langevin.eta, 0.03);
  EXPECT_DOUBLE_EQ(ring.analysis.langevin.tau, 0.03);
}

TEST(Deck, ReferencePresetHasThePaperSettings) {
  const auto ref = io::parse_deck("system: lorenz\npreset: reference\n", "d");
  EXPECT_EQ(ref.flow.divergence, "hutchinson");
  EXPECT_EQ(ref.flow.probes, 10);
  EXPECT_EQ(ref.flow.lr_schedule, "constant");
  EXPECT_EQ(ref.score.lr_schedule, "constant");
  EXPECT_EQ(ref.score.epochs, 512);
  EXPECT_DOUBLE_EQ(ref.analysis.langevin.eta, 0.0);
  EXPECT_EQ(ref.analysis.norm_statistics, "running");
  EXPECT_DOUBLE_EQ(ref.flow.t, 0.2);
  EXPECT_EQ(ref.flow.epochs, 512);
  EXPECT_EQ(ref.experiments, 100);
  // Explicit keys still win over the preset.
  EXPECT_EQ(
      io::parse_deck("system: ring\npreset: reference\nflow:\n  probes: 4\n", "d").flow.probes, 4);
  expect_error("system: ring\npreset: paper\n", {"deck.yaml:2:9", "'paper' is not one of"});
  expect_error("system: ring\nanalysis:\n  langevin:\n    eta: -1\n", {"analysis.langevin.eta"});
  expect_error("system: ring\nscore:\n  lr_schedule: linear\n", {"score.lr_schedule"});
  // MMD bandwidth: the median heuristic by default, the paper's fixed 0.5 in the reference.
  EXPECT_EQ(io::parse_deck("system: ring\n", "d").analysis.mmd.bandwidth, "median");
  EXPECT_EQ(ref.analysis.mmd.bandwidth, "0.5");
  EXPECT_EQ(io::parse_deck("system: ring\n", "d", {"analysis.mmd.bandwidth=median"})
                .analysis.mmd.bandwidth,
            "median");
  expect_error("system: ring\nanalysis:\n  mmd:\n    bandwidth: wide\n",
               {"deck.yaml:4:16", "analysis.mmd.bandwidth", "must be > 0 or 'median'", "'wide'"});
  expect_error("system: ring\nanalysis:\n  mmd:\n    bandwidth: 0\n",
               {"analysis.mmd.bandwidth", "must be > 0 or 'median', got 0"});
  const auto resolved = io::to_yaml(ref);
  EXPECT_EQ(io::to_yaml(io::parse_deck(resolved, "resolved")), resolved);
}

TEST(Deck, ReadsNestedSettingsAndOverrides) {
  const std::string yaml =
      "system: two_moons\nseed: 7\nflow:\n  epochs: 12\n  divergence: unbiased\n  probes: 4\n"
      "  lr_schedule: cosine\n"
      "analysis:\n  mmd:\n    bandwidth: 0.25\n";
  auto c = io::parse_deck(yaml, "d", {"flow.epochs=30", "analysis.mmd.points=64", "output=x/y"});
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.flow.epochs, 30);
  EXPECT_EQ(c.flow.divergence, "unbiased");
  EXPECT_EQ(c.flow.lr_schedule, "cosine");
  EXPECT_EQ(c.analysis.mmd.bandwidth, "0.25");
  EXPECT_EQ(c.analysis.mmd.points, 64);
  EXPECT_EQ(c.output, "x/y");
  // The resolved deck reads back to identical settings.
  const std::string resolved = io::to_yaml(c);
  EXPECT_EQ(io::to_yaml(io::parse_deck(resolved, "resolved")), resolved);
}

TEST(Deck, UnknownKeysNameTheLineAndSuggest) {
  expect_error("system: ring\nflow:\n  epoch: 3\n",
               {"deck.yaml:3:3", "flow.epoch", "unknown key", "did you mean 'epochs'"});
  expect_error("system: ring\nbogus: 1\n", {"deck.yaml:2:1", "bogus", "unknown key"});
  expect_error("system: ring\n", {"--set", "flow.nope"}, {"flow.nope=1"});
}

TEST(Deck, WrongTypesAndRanges) {
  expect_error("system: ring\nflow:\n  epochs: many\n",
               {"deck.yaml:3:11", "flow.epochs", "expected an integer", "'many'"});
  expect_error("system: ring\nflow:\n  epochs: -3\n", {"flow.epochs", "must be >= 0"});
  expect_error("system: ring\nflow:\n  lr: 0\n", {"flow.lr", "must be > 0"});
  expect_error("system: ring\nflow:\n  t: 1.5\n", {"flow.t", "must be in [0, 1]"});
  expect_error("system: ring\nflow:\n  lr: .nan\n", {"flow.lr", "finite number"});
  expect_error("system: ring\nseed: -1\n", {"seed", "non-negative integer"});
  expect_error("system: ring\nflow: 3\n", {"flow", "expected a mapping"});
  expect_error("system: ring\nflow:\n  final_norm: maybe\n", {"flow.final_norm", "true or false"});
  expect_error("system: ring\nflow:\n  divergence: trace\n",
               {"flow.divergence", "'trace' is not one of", "hutchinson"});
  expect_error("system: ring\nflow:\n  epochs:\n", {"flow.epochs", "has no value"});
  expect_error("system: ring\n", {"--set", "flow.epochs", "expected an integer"},
               {"flow.epochs=abc"});
}

TEST(Deck, SystemAndCrossFieldRules) {
  expect_error("seed: 1\n", {"key 'system'", "missing", "lorenz"});
  expect_error("system: pendulum\n", {"deck.yaml:1:9", "'pendulum' is not one of"});
  expect_error("system: ring\nflow:\n  divergence: unbiased\n  probes: 3\n",
               {"flow.probes", "even"});
  expect_error("system: samples\n", {"data.file", "required"});
  expect_error("system: samples\ndata:\n  file: /nonexistent/x.csv\n",
               {"data.file", "cannot read"});
  expect_error("system: ring\ndata:\n  file: x.csv\n", {"data.file", "only used by"});
  expect_error("system: lorenz\nanalysis:\n  lyapunov:\n    steps: 10\n    tau: 20\n",
               {"analysis.lyapunov.tau"});
  expect_error("system: ring\n: : :\n", {"deck.yaml:2"});
  expect_error("system: ring\n", {"--set", "expected key.path=value"}, {"flow.epochs"});
}

TEST(Deck, SamplesFromHdf5NeedTheDataset) {
  const std::string path = ::testing::TempDir() + "/eqflow_deck_samples.h5";
  std::ofstream(path) << "not really hdf5";
  expect_error("system: samples\ndata:\n  file: " + path + "\n", {"data.dataset", "required"});
}

TEST(Deck, ReadDeckNamesAMissingFile) {
  EXPECT_THROW(io::read_deck("/nonexistent/deck.yaml"), IoError);
}

TEST(Deck, ShippedDecksAreValid) {
  for (const char* name : {"two_peaks", "ring", "two_moons", "lorenz", "quickstart"}) {
    SCOPED_TRACE(name);
    const auto c = io::read_deck(std::string(EQFLOW_SOURCE_DIR) + "/inputs/" + name + ".yaml");
    EXPECT_FALSE(c.system.empty());
  }
}

}  // namespace
}  // namespace eqflow
