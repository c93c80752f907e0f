// Gray-Scott data decks (`eqflow generate`): presets, explicit parameters, defaults, overrides,
// the resolved deck reading back to the same settings, and one clear error naming the key and
// line for every kind of bad input.
#include <gtest/gtest.h>

#include "eqflow/app/deck.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "support/files.hpp"

namespace eqflow {
namespace {

void expect_error(const std::string& yaml, const std::vector<std::string>& fragments,
                  const std::vector<std::string>& overrides = {}) {
  test::expect_error_containing<ConfigError>(
      [&] { app::parse_field_deck(yaml, "gs.yaml", overrides); }, fragments);
}

TEST(GrayScottDeck, PresetAndDefaults) {
  const auto c = app::parse_field_deck(
      "system: gray_scott\nseed: 4\noutput: out/x\ndata:\n  preset: spirals\n", "gs.yaml");
  EXPECT_EQ(c.preset, "spirals");
  EXPECT_EQ(c.Du, 0.16);
  EXPECT_EQ(c.Dv, 0.08);
  EXPECT_EQ(c.F, 0.007);
  EXPECT_EQ(c.k, 0.028);
  EXPECT_EQ(c.samples, 8192);
  EXPECT_EQ(c.height, 128);
  EXPECT_EQ(c.width, 128);
  EXPECT_EQ(c.steps, 10000);
  EXPECT_EQ(c.seed, 4u);
  EXPECT_EQ(c.output, "out/x");
  const auto back = app::parse_field_deck(app::to_yaml(c), "resolved");
  EXPECT_EQ(app::to_yaml(back), app::to_yaml(c));
}

TEST(GrayScottDeck, ExplicitParametersMakeACustomPreset) {
  const auto custom = app::parse_field_deck(
      "system: gray_scott\ndata:\n  Du: 0.2\n  Dv: 0.1\n  F: 0.03\n  k: 0.06\n  samples: 6\n"
      "score:\n  batch: 6\n",
      "gs.yaml");
  EXPECT_EQ(custom.preset, "custom");
  EXPECT_EQ(custom.Du, 0.2);
  EXPECT_EQ(custom.k, 0.06);
  EXPECT_EQ(custom.samples, 6);
  const auto changed = app::parse_field_deck("system: gray_scott\ndata:\n  preset: maze\n",
                                             "gs.yaml", {"data.F=0.03"});
  EXPECT_EQ(changed.preset, "custom");
  EXPECT_EQ(changed.F, 0.03);
  EXPECT_EQ(changed.k, 0.057);
  const auto same =
      app::parse_field_deck("system: gray_scott\ndata:\n  preset: maze\n  k: 0.057\n", "gs.yaml");
  EXPECT_EQ(same.preset, "maze");
  const auto back = app::parse_field_deck(app::to_yaml(changed), "resolved");
  EXPECT_EQ(app::to_yaml(back), app::to_yaml(changed));
}

TEST(FieldDeck, ScoreDefaultsAreTheReferenceAndReadBack) {
  const auto c = app::parse_field_deck("system: gray_scott\ndata:\n  preset: maze\n", "gs.yaml",
                                       {"score.epochs=3", "score.sampler=ddim"});
  EXPECT_EQ(c.score.epochs, 3);
  EXPECT_EQ(c.score.batch, 64);
  EXPECT_EQ(c.score.lr, 1e-3);
  EXPECT_EQ(c.score.weight_decay, 0.01);
  EXPECT_EQ(c.score.warmup_steps, 500);
  EXPECT_EQ(c.score.clip, 1.0);
  EXPECT_EQ(c.score.validation_fraction, 0.1);
  EXPECT_EQ(c.score.block_channels, (std::vector<std::int64_t>{16, 32, 64}));
  EXPECT_EQ(c.score.sampler, "ddim");
  const auto back = app::parse_field_deck(app::to_yaml(c), "resolved");
  EXPECT_EQ(app::to_yaml(back), app::to_yaml(c));
}

class FieldDeckFile : public test::TempDirTest {};

TEST_F(FieldDeckFile, UsersOwnFieldsTakeTheirShapeFromTheFile) {
  const std::string path = file("mine.h5");
  {
    auto out = io::H5File::create(path);
    out.write("/images", std::vector<float>(4 * 3 * 8 * 12, 0.5f), {4, 3, 8, 12});
    out.commit();
  }
  const auto c = app::parse_field_deck(
      "system: fields\ndata:\n  file: " + path + "\n  dataset: images\nscore:\n  batch: 2\n",
      "mine.yaml");
  EXPECT_EQ(c.samples, 4);
  EXPECT_EQ(c.height, 8);
  EXPECT_EQ(c.width, 12);
  test::expect_error_containing<IoError>(
      [&] { app::parse_field_deck("system: fields\ndata:\n  file: " + path + "\n", "m.yaml"); },
      {path, "fields"});
  const auto back = app::parse_field_deck(app::to_yaml(c), "resolved");
  EXPECT_EQ(app::to_yaml(back), app::to_yaml(c));
}

TEST(GrayScottDeck, BadInputIsOneLineNamingKeyAndLine) {
  const std::string head = "system: gray_scott\ndata:\n";
  expect_error(head + "  preset: mazes\n", {"gs.yaml:3", "data.preset", "'mazes'", "u_skate"});
  expect_error(head + "  preset: maze\n  stpes: 10\n", {"gs.yaml:4", "data.stpes"});
  expect_error(head + "  preset: maze\n  samples: lots\n", {"gs.yaml:4", "data.samples"});
  expect_error(head + "  preset: maze\n  samples: 0\n", {"data.samples", ">= 1"});
  expect_error(head + "  preset: maze\n  Du: 0.3\n", {"data.Du", "[0, 0.25]", "unstable"});
  expect_error(head + "  preset: maze\n  steps: -1\n", {"data.steps", ">= 0"});
  expect_error(head + "  Du: 0.2\n", {"data.Dv", "missing", "preset"});
  expect_error("system: ring\n", {"gs.yaml:1", "system", "gray_scott", "fields"});
  expect_error("data:\n  preset: maze\n", {"system", "missing"});
  expect_error(head + "  preset: maze\nscore:\n  epohcs: 3\n", {"gs.yaml:5", "score.epohcs"});
  expect_error(head + "  preset: maze\nscore:\n  batch: 0\n", {"score.batch", ">= 1"});
  expect_error(head + "  preset: maze\nscore:\n  sampler: euler\n", {"score.sampler", "ddim"});
  expect_error(head + "  preset: maze\nscore:\n  block_channels: [16, 20]\n",
               {"score.block_channels", "multiple of 8"});
  expect_error(head + "  preset: maze\nscore:\n  validation_fraction: 1\n",
               {"score.validation_fraction", "[0, 1)"});
  expect_error("system: fields\ndata:\n  dataset: x\n", {"data.file", "required"});
  expect_error(head + "  preset: maze\n  height: 30\n",
               {"data.height", "30 x 128", "multiples of 4"});
  expect_error(head + "  preset: maze\n", {"--set", "data.block"}, {"data.block=0"});
}

TEST(FieldDeck, FlowsSectionsHaveTheReferenceDefaultsAndReadBack) {
  const std::string head = "system: gray_scott\ndata:\n  preset: maze\n";
  const auto none = app::parse_field_deck(head, "gs.yaml");
  EXPECT_FALSE(none.flows.enabled);
  const auto c = app::parse_field_deck(head + "flows:\n  experiments: 3\n", "gs.yaml");
  ASSERT_TRUE(c.flows.enabled);
  EXPECT_EQ(c.flows.step, 10);
  EXPECT_EQ(c.flows.kernel, "swap");
  EXPECT_EQ(c.flows.experiments, 3);
  EXPECT_EQ(c.flows.hidden, 32);
  EXPECT_EQ(c.flows.epochs, 1000);
  EXPECT_EQ(c.flows.batch, 128);
  EXPECT_EQ(c.flows.accumulation, 8);
  EXPECT_DOUBLE_EQ(c.flows.lr, 1e-2);
  EXPECT_DOUBLE_EQ(c.flows.weight_decay, 1e-5);
  EXPECT_EQ(c.flows.probes, 4);
  EXPECT_TRUE(c.flows.final_norm);
  EXPECT_DOUBLE_EQ(c.simulation.dt, 0.01);
  EXPECT_DOUBLE_EQ(c.simulation.eta, 0.1);
  EXPECT_EQ(c.simulation.steps, 300);
  EXPECT_EQ(c.similarity.window, 200);
  EXPECT_DOUBLE_EQ(c.similarity.ema, 0.9);
  EXPECT_EQ(c.similarity.gray_scott_steps, 20);
  EXPECT_EQ(c.similarity.baselines, 10);
  // Every key reads back from the resolved deck, and the score's settings are not the flows'.
  const auto set = app::parse_field_deck(
      head +
          "flows:\n  kernel: spatial\n  final_norm: false\nsimulation:\n  canvas: 2\n"
          "similarity:\n  starts: 5\n  panel: 5\n",
      "gs.yaml");
  const auto back = app::parse_field_deck(app::to_yaml(set), "resolved");
  EXPECT_EQ(app::to_yaml(back), app::to_yaml(set));
  EXPECT_EQ(back.flows.kernel, "spatial");
  EXPECT_FALSE(back.flows.final_norm);
  EXPECT_EQ(back.simulation.canvas, 2);
  EXPECT_EQ(back.similarity.panel, 5);
}

TEST(FieldDeck, BadFlowsSettingsAreOneLineErrors) {
  const std::string head = "system: gray_scott\ndata:\n  preset: maze\n";
  expect_error(head + "flows:\n  kernel: spiral\n", {"gs.yaml:5", "flows.kernel", "swap"});
  expect_error(head + "flows:\n  probes: 3\n", {"flows.probes", "even"});
  expect_error(head + "flows:\n  step: 100\n", {"flows.step", "0 .. 99"});
  expect_error(head + "flows:\n  epohcs: 3\n", {"gs.yaml:5", "flows.epohcs"});
  expect_error(head + "flows:\n  lr: 0\n", {"flows.lr", "> 0"});
  expect_error(head + "flows: {}\nsimulation:\n  eta: -1\n", {"simulation.eta", ">= 0"});
  expect_error(head + "flows: {}\nsimulation:\n  samples: 20\n", {"simulation.samples", "16"});
  expect_error(head + "flows: {}\nsimulation:\n  canvas: 0\n", {"simulation.canvas", ">= 1"});
  expect_error(head + "flows: {}\nsimilarity:\n  ema: 1\n", {"similarity.ema", "[0, 1)"});
  expect_error(head + "flows: {}\nsimilarity:\n  window: 1\n", {"similarity.window", ">= 2"});
  expect_error(head + "simulation:\n  dt: 0.1\n", {"flows", "missing"});
}

TEST(IconDeck, ArtificialLifeDefaultsAreTheReferenceAndReadBack) {
  const auto c =
      app::parse_field_deck("system: icons\ndata:\n  icon: taiji\nflows: {}\n", "ic.yaml");
  EXPECT_EQ(c.icon, "taiji");
  EXPECT_EQ(c.samples, 8192);
  EXPECT_EQ(c.height, 128);
  EXPECT_EQ(c.width, 128);
  EXPECT_EQ(c.icon_size, 64);
  EXPECT_EQ(c.copies, 10);
  EXPECT_EQ(c.attempts, 2);
  EXPECT_EQ(c.score.epochs, 20);
  EXPECT_EQ(c.flows.kernel, "random");
  EXPECT_DOUBLE_EQ(c.simulation.dt, 0.05);
  EXPECT_DOUBLE_EQ(c.simulation.eta, 0.1);
  EXPECT_EQ(c.simulation.horizon, 2000);
  EXPECT_EQ(c.simulation.canvas, 2);
  EXPECT_EQ(c.simulation.start, "noise");
  EXPECT_EQ(c.simulation.kernels, 16);
  EXPECT_EQ(c.simulation.frame_ema, 0.0);
  EXPECT_EQ(c.output, "out/icons");
  const auto set = app::parse_field_deck(
      "system: icons\noutput: o\ndata:\n  icon: disc\n  icon_size: 20\n  copies: 3\n"
      "flows:\n  kernel: spatial\nsimulation:\n  frame_ema: 0.95\n  kernels: 5\n",
      "ic.yaml");
  const auto back = app::parse_field_deck(app::to_yaml(set), "resolved");
  EXPECT_EQ(app::to_yaml(back), app::to_yaml(set));
  EXPECT_EQ(back.icon_size, 20);
  EXPECT_EQ(back.copies, 3);
  EXPECT_EQ(back.output, "o");
  EXPECT_DOUBLE_EQ(back.simulation.frame_ema, 0.95);
  EXPECT_EQ(back.simulation.kernels, 5);
  EXPECT_EQ(back.flows.kernel, "spatial");
}

TEST(IconDeck, BadIconSettingsAreOneLineErrors) {
  const std::string head = "system: icons\ndata:\n";
  expect_error(head + "  samples: 4\n",
               {"data.icon", "required", "disc, two_discs, firefly, taiji"});
  expect_error(head + "  icon: no_such_icon.png\n",
               {"gs.yaml:3", "data.icon", "no_such_icon.png", "taiji"});
  expect_error(head + "  icon: disc\n  icon_size: 100\n", {"data.icon_size", "144", "128 x 128"});
  expect_error(head + "  icon: disc\n  copies: 0\n", {"data.copies", ">= 1"});
  expect_error(head + "  icon: disc\n  preset: maze\n", {"data.preset"});
  expect_error(head + "  icon: disc\nflows:\n  kernel: swap\n",
               {"flows.kernel", "2 channels", "3"});
  expect_error(head + "  icon: disc\nflows: {}\nsimulation:\n  start: zeros\n",
               {"simulation.start", "noise"});
  expect_error(head + "  icon: disc\nflows: {}\nsimulation:\n  frame_ema: 1\n",
               {"simulation.frame_ema", "[0, 1)"});
  expect_error("system: icon\n", {"system", "icons"});
}

}  // namespace
}  // namespace eqflow
