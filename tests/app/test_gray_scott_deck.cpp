// Gray-Scott data decks (`eqflow generate`): presets, explicit parameters, defaults, overrides,
// the resolved deck reading back to the same settings, and one clear error naming the key and
// line for every kind of bad input.
#include <gtest/gtest.h>

#include "eqflow/app/deck.hpp"
#include "eqflow/core/error.hpp"
#include "support/files.hpp"

namespace eqflow {
namespace {

void expect_error(const std::string& yaml, const std::vector<std::string>& fragments,
                  const std::vector<std::string>& overrides = {}) {
  test::expect_error_containing<ConfigError>(
      [&] { app::parse_gray_scott_deck(yaml, "gs.yaml", overrides); }, fragments);
}

TEST(GrayScottDeck, PresetAndDefaults) {
  const auto c = app::parse_gray_scott_deck(
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
  const auto back = app::parse_gray_scott_deck(app::to_yaml(c), "resolved");
  EXPECT_EQ(app::to_yaml(back), app::to_yaml(c));
}

TEST(GrayScottDeck, ExplicitParametersMakeACustomPreset) {
  const auto custom = app::parse_gray_scott_deck(
      "system: gray_scott\ndata:\n  Du: 0.2\n  Dv: 0.1\n  F: 0.03\n  k: 0.06\n  samples: 6\n",
      "gs.yaml");
  EXPECT_EQ(custom.preset, "custom");
  EXPECT_EQ(custom.Du, 0.2);
  EXPECT_EQ(custom.k, 0.06);
  EXPECT_EQ(custom.samples, 6);
  const auto changed = app::parse_gray_scott_deck("system: gray_scott\ndata:\n  preset: maze\n",
                                                  "gs.yaml", {"data.F=0.03"});
  EXPECT_EQ(changed.preset, "custom");
  EXPECT_EQ(changed.F, 0.03);
  EXPECT_EQ(changed.k, 0.057);
  const auto same = app::parse_gray_scott_deck(
      "system: gray_scott\ndata:\n  preset: maze\n  k: 0.057\n", "gs.yaml");
  EXPECT_EQ(same.preset, "maze");
  const auto back = app::parse_gray_scott_deck(app::to_yaml(changed), "resolved");
  EXPECT_EQ(app::to_yaml(back), app::to_yaml(changed));
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
  expect_error("system: ring\n", {"gs.yaml:1", "system", "gray_scott"});
  expect_error("data:\n  preset: maze\n", {"system", "missing"});
  expect_error(head + "  preset: maze\nscore:\n  epochs: 3\n", {"score"});
  expect_error(head + "  preset: maze\n", {"--set", "data.block"}, {"data.block=0"});
}

}  // namespace
}  // namespace eqflow
