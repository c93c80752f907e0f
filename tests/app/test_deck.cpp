// Decks: defaults per system, overrides, and one clear error naming the key and line for
// every kind of bad input; the resolved deck reads back to the same settings.
#include <gtest/gtest.h>

#include <fstream>

#include "eqflow/app/deck.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "support/files.hpp"

namespace eqflow {
namespace {

// Expects parse_deck to throw a one-line ConfigError whose message contains every fragment.
void expect_error(const std::string& yaml, const std::vector<std::string>& fragments,
                  const std::vector<std::string>& overrides = {}) {
  test::expect_error_containing<ConfigError>([&] { app::parse_deck(yaml, "deck.yaml", overrides); },
                                             fragments);
}

TEST(Deck, DefaultsDependOnTheSystem) {
  const auto lorenz = app::parse_deck("system: lorenz\n", "d");
  EXPECT_EQ(lorenz.experiments, 100);
  EXPECT_EQ(lorenz.flow.epochs, 512);
  EXPECT_TRUE(lorenz.analysis.lyapunov.enabled);
  EXPECT_TRUE(lorenz.analysis.similarity.enabled);
  EXPECT_EQ(lorenz.score.epochs, 512);
  EXPECT_DOUBLE_EQ(lorenz.flow.t, 0.2);
  EXPECT_EQ(lorenz.score.lr_schedule, "constant");
  EXPECT_EQ(lorenz.flow.lr_schedule, "cosine");
  EXPECT_DOUBLE_EQ(lorenz.analysis.langevin.eta, 0.0);
  EXPECT_DOUBLE_EQ(app::parse_deck("system: two_peaks\n", "d").analysis.langevin.tau, 0.04);
  const auto moons = app::parse_deck("system: two_moons\n", "d");
  EXPECT_DOUBLE_EQ(moons.flow.t, 0.1);
  EXPECT_DOUBLE_EQ(moons.analysis.langevin.tau, 0.04);
  EXPECT_DOUBLE_EQ(app::parse_deck("system: two_moons\npreset: reference\n", "d").flow.t, 0.2);
  EXPECT_DOUBLE_EQ(app::default_config("samples").analysis.langevin.eta, 0.0);
  const auto ring = app::parse_deck("system: ring\n", "d");
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
  const auto ref = app::parse_deck("system: lorenz\npreset: reference\n", "d");
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
      app::parse_deck("system: ring\npreset: reference\nflow:\n  probes: 4\n", "d").flow.probes, 4);
  expect_error("system: ring\npreset: paper\n", {"deck.yaml:2:9", "'paper' is not one of"});
  expect_error("system: ring\nanalysis:\n  langevin:\n    eta: -1\n", {"analysis.langevin.eta"});
  expect_error("system: ring\nscore:\n  lr_schedule: linear\n", {"score.lr_schedule"});
  // MMD bandwidth: the median heuristic by default, the paper's fixed 0.5 in the reference.
  EXPECT_EQ(app::parse_deck("system: ring\n", "d").analysis.mmd.bandwidth, "median");
  EXPECT_EQ(ref.analysis.mmd.bandwidth, "0.5");
  EXPECT_EQ(app::parse_deck("system: ring\n", "d", {"analysis.mmd.bandwidth=median"})
                .analysis.mmd.bandwidth,
            "median");
  expect_error("system: ring\nanalysis:\n  mmd:\n    bandwidth: wide\n",
               {"deck.yaml:4:16", "analysis.mmd.bandwidth", "must be > 0 or 'median'", "'wide'"});
  expect_error("system: ring\nanalysis:\n  mmd:\n    bandwidth: 0\n",
               {"analysis.mmd.bandwidth", "must be > 0 or 'median', got 0"});
  const auto resolved = app::to_yaml(ref);
  EXPECT_EQ(app::to_yaml(app::parse_deck(resolved, "resolved")), resolved);
}

TEST(Deck, ReadsNestedSettingsAndOverrides) {
  const std::string yaml =
      "system: two_moons\nseed: 7\nflow:\n  epochs: 12\n  divergence: unbiased\n  probes: 4\n"
      "  lr_schedule: cosine\n"
      "analysis:\n  mmd:\n    bandwidth: 0.25\n";
  auto c = app::parse_deck(yaml, "d", {"flow.epochs=30", "analysis.mmd.points=64", "output=x/y"});
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.flow.epochs, 30);
  EXPECT_EQ(c.flow.divergence, "unbiased");
  EXPECT_EQ(c.flow.lr_schedule, "cosine");
  EXPECT_EQ(c.analysis.mmd.bandwidth, "0.25");
  EXPECT_EQ(c.analysis.mmd.points, 64);
  EXPECT_EQ(c.output, "x/y");
  // The resolved deck reads back to identical settings.
  const std::string resolved = app::to_yaml(c);
  EXPECT_EQ(app::to_yaml(app::parse_deck(resolved, "resolved")), resolved);
}

TEST(Deck, SelectionFromAValidationSplit) {
  // On by default for user data only; the candidate lists read from YAML lists or --set.
  EXPECT_TRUE(app::default_config("samples").select.enabled);
  EXPECT_FALSE(app::default_config("samples", "reference").select.enabled);
  EXPECT_FALSE(app::parse_deck("system: ring\n", "d").select.enabled);
  const auto c =
      app::parse_deck("system: ring\nselect:\n  enabled: true\n  t: [0.05, 0.3]\n  eta: 0.1\n", "d",
                      {"select.score_epochs=[8, 16, 32]"});
  EXPECT_EQ(c.select.t, (std::vector<double>{0.05, 0.3}));
  EXPECT_EQ(c.select.eta, (std::vector<double>{0.1}));
  EXPECT_EQ(c.select.score_epochs, (std::vector<std::int64_t>{8, 16, 32}));
  // The resolved deck writes them back as lists.
  const auto again = app::parse_deck(app::to_yaml(c), "resolved");
  EXPECT_EQ(again.select.t, c.select.t);
  EXPECT_EQ(again.select.score_epochs, c.select.score_epochs);
  expect_error("system: ring\nselect:\n  t: [0.1, 2]\n", {"select.t", "every element", "[0, 1]"});
  expect_error("system: ring\nselect:\n  score_epochs: [4, 0]\n", {"select.score_epochs", ">= 1"});
  expect_error("system: ring\nselect:\n  eta: []\n", {"select.eta", "non-empty list"});
  expect_error("system: ring\nselect:\n  eta: [a]\n", {"select.eta", "a finite number"});
  // A setting the selection chooses cannot also be fixed by hand.
  expect_error("system: ring\nselect:\n  enabled: true\nflow:\n  t: 0.1\n",
               {"deck.yaml:5:6", "flow.t", "chosen from a validation split", "select.t"});
  expect_error("system: ring\nselect:\n  enabled: true\n", {"--set", "score.epochs"},
               {"score.epochs=9"});
  // Several training times: the smallest must have a finite score scale.
  expect_error("system: ring\nflow:\n  t_count: 0\n", {"flow.t_count", ">= 1"});
  expect_error(
      "system: ring\nflow:\n  t: 0.02\n  t_count: 4\nscore:\n  schedule_delta: 0\n"
      "  samples: 0\n",
      {"flow.t_count", "1 - alpha_bar = 0"});
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
  expect_error("system: ring\nflow:\n  epochs: -3\n", {"flow.epochs", "must be >= 1"});
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
  test::expect_error_containing<ConfigError>(
      [] {
        app::validate_data(
            app::parse_deck_text("system: samples\ndata:\n  file: /no/x.csv\n", "deck.yaml"));
      },
      {"deck.yaml:3:9", "data.file", "cannot read '/no/x.csv'"});
  expect_error("system: ring\ndata:\n  file: x.csv\n", {"data.file", "only used by"});
  expect_error("system: lorenz\nanalysis:\n  lyapunov:\n    steps: 10\n    tau: 20\n",
               {"analysis.lyapunov.tau"});
  expect_error("system: ring\n: : :\n", {"deck.yaml:2"});
  expect_error("system: ring\n", {"--set", "expected key.path=value"}, {"flow.epochs"});
}

TEST(Deck, NothingFailsAfterWorkHasStarted) {
  // DDIM sampling runs from step N-1 down to sampling_end >= 1.
  expect_error("system: ring\nscore:\n  sampling_end: 0\n",
               {"deck.yaml:3:17", "score.sampling_end", "[1, 99]", "got 0"});
  expect_error("system: ring\nscore:\n  diffusion_steps: 10\n  sampling_end: 10\n",
               {"deck.yaml:4:17", "score.sampling_end", "[1, 9]"});
  // Without delta, step 0 has 1 - alpha_bar = 0 (infinite score scale) and step N-1 has
  // alpha_bar = 0 (DDIM divides by it).
  const std::string no_delta = "system: ring\nscore:\n  schedule_delta: 0\n  samples: 0\n";
  expect_error(no_delta + "flow:\n  t: 0.005\n", {"deck.yaml:6:6", "flow.t", "step 0 of 100",
                                                  "1 - alpha_bar = 0", "1/99 = 0.010102"});
  expect_error(no_delta + "analysis:\n  langevin:\n    eta: 0.1\n    tau: 0.001\n",
               {"deck.yaml:8:10", "analysis.langevin.tau", "1 - alpha_bar = 0"});
  EXPECT_NO_THROW(app::parse_deck(no_delta + "flow:\n  t: 0.010102\n", "d"));
  EXPECT_NO_THROW(
      app::parse_deck(no_delta + "analysis:\n  langevin:\n    eta: 0\n    tau: 0\n", "d"));
  expect_error(
      "system: ring\nscore:\n  schedule_delta: 0\n",
      {"deck.yaml:3:19", "score.schedule_delta", "alpha_bar = 0 at diffusion step 99", "DDIM"});
  expect_error("system: ring\nscore:\n  schedule_delta: 0.5\n",
               {"score.schedule_delta", "[0, 0.5)"});
  expect_error("system: ring\nflow:\n  epochs: 0\n", {"deck.yaml:3:11", "flow.epochs", ">= 1"});
  expect_error("system: ring\nscore:\n  epochs: 0\n", {"score.epochs", ">= 1"});
  expect_error("system: ring\n", {"--set", "flow.epochs", ">= 1"}, {"flow.epochs=0"});
  // Every time step must be positive.
  for (const std::string key : {"lyapunov.dt", "spectrum.dt", "mmd.dt"}) {
    const auto dot = key.find('.');
    for (const char* value : {"0", "-0.1"}) {
      expect_error(
          "system: lorenz\nanalysis:\n  " + key.substr(0, dot) + ":\n    dt: " + value + "\n",
          {"deck.yaml:4:9", "analysis." + key, "must be > 0"});
    }
  }
  expect_error("system: ring\nanalysis:\n  trajectory_dt: 0\n",
               {"analysis.trajectory_dt", "must be > 0"});
  expect_error("system: ring\ndata:\n  points: 3\n", {"data.points", ">= 4"});
  // A rule between two keys names the one set in the deck, with its line.
  expect_error("system: ring\nscore:\n  diffusion_steps: 2\n",
               {"deck.yaml:3:20", "score.sampling_end", "[1, 1]", "got 2"});
}

class DeckDataTest : public test::TempDirTest {
 protected:
  std::string deck(const std::string& yaml) const {
    const std::string path = file("deck.yaml");
    std::ofstream(path) << yaml;
    return path;
  }
};

TEST_F(DeckDataTest, BatchesMustFitTheData) {
  test::expect_error_containing<ConfigError>(
      [&] { app::load_deck(deck("system: ring\ndata:\n  points: 1000\n")); },
      {"key 'score.batch'", "2048 (default) is larger than the 1000 data points",
       "score.batch <= 1000"});
  test::expect_error_containing<ConfigError>(
      [&] {
        app::load_deck(
            deck("system: ring\ndata:\n  points: 1000\nscore:\n  batch: 100\n"
                 "flow:\n  batch: 1001\n"));
      },
      {"deck.yaml:7:10", "key 'flow.batch'", "1001 (", "1000 data points"});
  const std::string csv = file("x.csv");
  {
    std::ofstream out(csv);
    for (int i = 0; i < 10; ++i) out << i << "," << i * i << "\n";
  }
  test::expect_error_containing<ConfigError>(
      [&] {
        app::load_deck(deck("system: samples\ndata:\n  file: " + csv + "\n"), {"flow.batch=4"});
      },
      {"key 'score.batch'", "10 data points", "rows of " + csv});
  // Ten rows are too few for the default validation split of the selection.
  test::expect_error_containing<ConfigError>(
      [&] {
        app::load_deck(deck("system: samples\ndata:\n  file: " + csv + "\n"),
                       {"score.batch=8", "flow.batch=8"});
      },
      {"key 'select.validation'", "leaves 2 for validation", "select.enabled: false"});
  app::DataShape shape;
  const auto ok =
      app::load_deck(deck("system: samples\ndata:\n  file: " + csv + "\n"),
                     {"score.batch=10", "flow.batch=10", "select.enabled=false"}, &shape);
  EXPECT_EQ(shape.points, 10u);
  EXPECT_EQ(shape.dims, 2u);
  test::expect_error_containing<ConfigError>(
      [&] { app::parse_deck("system: samples\ndata:\n  file: x.csv\n  points: 5\n", "d"); },
      {"data.points", "not used by system 'samples'"});
}

TEST_F(DeckDataTest, BadUserDataStopsTheDeck) {
  const std::string nan = file("nan.csv"), ragged = file("ragged.csv"), h5 = file("cube.h5");
  std::ofstream(nan) << "x,y\n1,2\n3,nan\n5,6\n7,8\n";
  std::ofstream(ragged) << "1,2\n3,4,5\n";
  {
    auto out = io::H5File::create(h5);
    out.write("/cube", std::vector<double>(24, 1.0), {2, 3, 4});
    out.commit();
  }
  test::expect_error_containing<IoError>(
      [&] { app::load_deck(deck("system: samples\ndata:\n  file: " + nan + "\n")); },
      {nan + ":3", "not finite"});
  test::expect_error_containing<IoError>(
      [&] { app::load_deck(deck("system: samples\ndata:\n  file: " + ragged + "\n")); },
      {ragged + ":2", "3 columns, expected 2"});
  test::expect_error_containing<IoError>(
      [&] {
        app::load_deck(deck("system: samples\ndata:\n  file: " + h5 + "\n  dataset: /cube\n"));
      },
      {h5, "rank 3"});
}

TEST_F(DeckDataTest, ResolvedDeckSaysWhereEachValueComesFrom) {
  app::DataShape shape;
  const auto d =
      app::load_deck(deck("system: lorenz\nflow:\n  epochs: 12\n"), {"experiments=2"}, &shape);
  EXPECT_EQ(shape.points, 50000u);
  EXPECT_EQ(shape.dims, 3u);
  const std::string text = app::describe_resolved(d, shape);
  for (const std::string& line : std::vector<std::string>{
           "system: \"lorenz\"  # " + file("deck.yaml") + ":1\n",
           "  epochs: 12  # " + file("deck.yaml") + ":3\n", "experiments: 2  # --set\n",
           "  divergence: \"exact\"  # default; auto: d = 3 <= 8\n",
           "  points: 50000  # default; 0 -> the lorenz default\n",
           "    enabled: true  # default (lorenz)\n", "  hidden: 64  # default\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin\n" << text;
  }
  const auto ref = app::load_deck(deck("system: ring\npreset: reference\n"), {}, &shape);
  const std::string ref_text = app::describe_resolved(ref, shape);
  EXPECT_NE(ref_text.find("  divergence: \"hutchinson\"  # preset reference\n"), std::string::npos)
      << ref_text;
  EXPECT_NE(ref_text.find("  points: 10000  # default; 0 -> the ring default\n"),
            std::string::npos);
  // The annotated text is still a deck that reads back to the same settings.
  auto resolved = ref.config;
  resolved.data.points = 10000;
  EXPECT_EQ(app::to_yaml(app::parse_deck(ref_text, "resolved")), app::to_yaml(resolved));
}

TEST(Deck, SamplesFromHdf5NeedTheDataset) {
  const std::string path = ::testing::TempDir() + "/eqflow_deck_samples.h5";
  std::ofstream(path) << "not really hdf5";
  expect_error("system: samples\ndata:\n  file: " + path + "\n", {"data.dataset", "required"});
}

TEST(Deck, ReadDeckNamesAMissingFile) {
  EXPECT_THROW(app::load_deck("/nonexistent/deck.yaml"), IoError);
  EXPECT_THROW(app::read_deck("/nonexistent/deck.yaml"), IoError);
}

TEST(Deck, ShippedDecksAreValid) {
  for (const char* name : {"two_peaks", "ring", "two_moons", "lorenz", "quickstart"}) {
    SCOPED_TRACE(name);
    const auto c = app::read_deck(std::string(EQFLOW_SOURCE_DIR) + "/inputs/" + name + ".yaml");
    EXPECT_FALSE(c.system.empty());
  }
  for (const char* name : {"turing_quick", "turing_life", "turing_maze", "turing_waves",
                           "turing_spirals", "tests/tiny_turing"}) {
    SCOPED_TRACE(name);
    const std::string path = std::string(EQFLOW_SOURCE_DIR) + "/inputs/" + name + ".yaml";
    EXPECT_TRUE(app::is_field_system(app::deck_system(path)));
    const auto c = app::read_field_deck(path);
    EXPECT_EQ(c.system, "gray_scott");
  }
}

}  // namespace
}  // namespace eqflow
