// The artificial-life building blocks: the builtin icons (size, range, centring, what makes each
// kind recognisable), the bicubic resize (constants kept, PIL's filter coefficients, a round trip,
// no colour bleeding from transparent pixels), the rotation (identity, exact quarter turns, the
// expanded size, alpha mass), icon validation, and the tiler (determinism per (seed, sample),
// range, white background, additive ink = no overlap, wrap-around, the fit check).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/systems/icons.hpp"
#include "support/files.hpp"

namespace eqflow::systems {
namespace {

constexpr double kPi = 3.14159265358979323846;

//! An image whose pixel (row, col) is `paint(row, col, rgba)`.
template <class Paint>
RgbaImage make_image(std::size_t height, std::size_t width, const Paint& paint) {
  RgbaImage image{height, width, std::vector<float>(height * width * 4)};
  for (std::size_t row = 0; row < height; ++row) {
    for (std::size_t col = 0; col < width; ++col) paint(row, col, image.at(row, col));
  }
  return image;
}

//! Random colours, alpha in [0.2, 1]: a non-symmetric test image.
RgbaImage random_image(std::size_t height, std::size_t width, unsigned seed) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  return make_image(height, width, [&](std::size_t, std::size_t, float* px) {
    for (int c = 0; c < 3; ++c) px[c] = uniform(engine);
    px[3] = 0.2f + 0.8f * uniform(engine);
  });
}

double alpha_mass(const RgbaImage& image) {
  double sum = 0.0;
  for (std::size_t i = 3; i < image.pixels.size(); i += 4) sum += image.pixels[i];
  return sum;
}

//! Sum of a (1 - rgb) over pixels and channels: how much an image darkens a white canvas.
double icon_ink(const RgbaImage& image) {
  double sum = 0.0;
  for (std::size_t i = 0; i < image.pixels.size(); i += 4) {
    for (int c = 0; c < 3; ++c) sum += image.pixels[i + 3] * (1.0 - image.pixels[i + c]);
  }
  return sum;
}

//! The same for a canvas (3, H, W) in [-1, 1] (white = 1).
double canvas_ink(const std::vector<float>& canvas) {
  double sum = 0.0;
  for (const float v : canvas) sum += 1.0 - 0.5 * (v + 1.0);
  return sum;
}

double max_difference(const RgbaImage& a, const RgbaImage& b) {
  double worst = 0.0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::abs(a.pixels[i] - b.pixels[i])));
  }
  return worst;
}

//! Left half opaque red, right half fully transparent blue.
RgbaImage red_and_transparent_blue(std::size_t size) {
  return make_image(size, size, [&](std::size_t, std::size_t col, float* px) {
    const bool red = col < size / 2;
    px[0] = red ? 1.0f : 0.0f;
    px[1] = 0.0f;
    px[2] = red ? 0.0f : 1.0f;
    px[3] = red ? 1.0f : 0.0f;
  });
}

void expect_no_bleeding(const RgbaImage& image) {
  for (std::size_t row = 0; row < image.height; ++row) {
    for (std::size_t col = 0; col < image.width; ++col) {
      const float* px = image.at(row, col);
      if (px[3] <= 0.0f) continue;
      ASSERT_LE(px[2], 1e-6f) << "blue at (" << row << ", " << col << "), alpha " << px[3];
      ASSERT_GE(px[0], 1.0f - 1e-5f) << "not red at (" << row << ", " << col << ")";
    }
  }
}

TEST(IconImage, BuiltinIconsAreCentredAndVisible) {
  ASSERT_EQ(builtin_icons(), (std::vector<std::string>{"disc", "two_discs", "firefly", "taiji"}));
  for (const auto& name : builtin_icons()) {
    for (const std::size_t size : {64u, 33u}) {
      SCOPED_TRACE(name + " at " + std::to_string(size));
      const RgbaImage icon = draw_icon(name, size);
      ASSERT_EQ(icon.height, size);
      ASSERT_EQ(icon.width, size);
      ASSERT_EQ(icon.pixels.size(), size * size * 4);
      for (const float v : icon.pixels) ASSERT_TRUE(v >= 0.0f && v <= 1.0f) << v;
      EXPECT_NO_THROW(validate_icon(icon, name));
      const double mass = alpha_mass(icon);
      EXPECT_GT(mass, 0.1 * static_cast<double>(size * size));
      // Transparent around the shape: the border rows and columns carry (almost) no alpha.
      double border = 0.0;
      for (std::size_t i = 0; i < size; ++i) {
        border +=
            icon.at(0, i)[3] + icon.at(size - 1, i)[3] + icon.at(i, 0)[3] + icon.at(i, size - 1)[3];
      }
      EXPECT_LT(border, 0.01 * static_cast<double>(size));
      double row_moment = 0.0, col_moment = 0.0;
      for (std::size_t row = 0; row < size; ++row) {
        for (std::size_t col = 0; col < size; ++col) {
          row_moment += (row + 0.5) * icon.at(row, col)[3];
          col_moment += (col + 0.5) * icon.at(row, col)[3];
        }
      }
      EXPECT_NEAR(row_moment / mass, 0.5 * size, 0.02 * size);
      EXPECT_NEAR(col_moment / mass, 0.5 * size, 0.02 * size);
    }
  }
}

TEST(IconImage, TwoDiscsHaveAnOrientation) {
  const RgbaImage icon = draw_icon("two_discs", 64);
  // Blue on the left, red on the right.
  const float* left = icon.at(32, 16);
  const float* right = icon.at(32, 48);
  EXPECT_GT(left[2], 0.7f);
  EXPECT_LT(left[0], 0.3f);
  EXPECT_GT(right[0], 0.7f);
  EXPECT_LT(right[2], 0.3f);
  // Neither a half nor a quarter turn gives the same picture.
  for (const double angle : {0.5 * kPi, kPi, 1.5 * kPi}) {
    const RgbaImage turned = rotate_bicubic(icon, angle);
    ASSERT_EQ(turned.height, 64u);
    EXPECT_GT(max_difference(icon, turned), 0.5) << angle;
  }
}

TEST(IconImage, FireflyIsASoftEllipse) {
  const RgbaImage icon = draw_icon("firefly", 64);
  std::size_t soft = 0, row_min = 64, row_max = 0, col_min = 64, col_max = 0;
  for (std::size_t row = 0; row < 64; ++row) {
    for (std::size_t col = 0; col < 64; ++col) {
      const float* px = icon.at(row, col);
      if (px[3] > 0.1f && px[3] < 0.9f) ++soft;
      if (px[3] > 0.05f) {
        row_min = std::min(row_min, row), row_max = std::max(row_max, row);
        col_min = std::min(col_min, col), col_max = std::max(col_max, col);
      }
      if (px[3] > 0.0f) {
        EXPECT_GT(px[1], px[2]);  // yellow-green
      }
    }
  }
  EXPECT_GT(soft, 400u);  // a falloff, not a hard edge
  const double aspect = static_cast<double>(col_max - col_min + 1) / (row_max - row_min + 1);
  EXPECT_NEAR(aspect, 2.0, 0.25);
}

TEST(IconImage, TaijiHasTwoVisibleColours) {
  const RgbaImage icon = draw_icon("taiji", 64);
  std::size_t opaque = 0, dark = 0, grey = 0;
  for (std::size_t row = 0; row < 64; ++row) {
    for (std::size_t col = 0; col < 64; ++col) {
      const float* px = icon.at(row, col);
      if (px[3] < 0.99f) continue;
      ++opaque;
      const float luminance = (px[0] + px[1] + px[2]) / 3.0f;
      if (luminance < 0.2f) ++dark;
      if (luminance > 0.4f && luminance < 0.8f) ++grey;
      EXPECT_LT(luminance, 0.8f);  // nothing that vanishes on white
    }
  }
  EXPECT_GT(dark, opaque / 3);
  EXPECT_GT(grey, opaque / 4);
}

TEST(IconImage, UnknownNameListsTheBuiltins) {
  test::expect_error_containing<Error>([] { draw_icon("dog", 64); },
                                       {"'dog'", "disc", "two_discs", "firefly", "taiji"});
  EXPECT_THROW(draw_icon("disc", 0), Error);
}

TEST(IconImage, ResizeKeepsAConstantImage) {
  const RgbaImage constant = make_image(37, 23, [](std::size_t, std::size_t, float* px) {
    px[0] = 0.3f, px[1] = 0.6f, px[2] = 0.9f, px[3] = 0.7f;
  });
  for (const auto& [h, w] : std::vector<std::pair<std::size_t, std::size_t>>{
           {64, 64}, {10, 7}, {37, 23}, {1, 1}, {5, 100}}) {
    const RgbaImage resized = resize_bicubic(constant, h, w);
    ASSERT_EQ(resized.height, h);
    ASSERT_EQ(resized.width, w);
    for (std::size_t i = 0; i < resized.pixels.size(); ++i) {
      ASSERT_NEAR(resized.pixels[i], constant.pixels[i % 4], 2e-6) << h << "x" << w << " at " << i;
    }
  }
}

TEST(IconImage, ResizeUsesPilCoefficients) {
  // Halving 8 columns: output 0 is centred on input 1 with support 4 (the filter stretched by 2):
  // taps 0..4 at distances -0.25, 0.25, 0.75, 1.25, 1.75 (in units of 2 pixels), the sum of the
  // Keys weights 1.8671875, so an impulse at column 2 adds 0.2265625 / 1.8671875 of itself.
  const RgbaImage impulse = make_image(1, 8, [](std::size_t, std::size_t col, float* px) {
    px[0] = px[1] = px[2] = col == 2 ? 1.0f : 0.5f;
    px[3] = 1.0f;
  });
  const RgbaImage halved = resize_bicubic(impulse, 1, 4);
  EXPECT_NEAR(halved.at(0, 0)[0], 0.5 + 0.5 * 0.2265625 / 1.8671875, 1e-6);
  // The same size is the identity (every tap at an exact pixel centre).
  const RgbaImage image = random_image(9, 13, 3);
  EXPECT_LT(max_difference(resize_bicubic(image, 9, 13), image), 2e-6);
}

TEST(IconImage, ResizeUpThenDownIsClose) {
  const RgbaImage smooth = make_image(32, 32, [](std::size_t row, std::size_t col, float* px) {
    const double x = 2.0 * kPi * col / 32.0, y = 2.0 * kPi * row / 32.0;
    px[0] = static_cast<float>(0.5 + 0.3 * std::sin(x));
    px[1] = static_cast<float>(0.5 + 0.3 * std::cos(y));
    px[2] = static_cast<float>(0.5 + 0.2 * std::sin(x + y));
    px[3] = 1.0f;
  });
  const RgbaImage back = resize_bicubic(resize_bicubic(smooth, 96, 80), 32, 32);
  EXPECT_LT(max_difference(back, smooth), 0.02);
}

TEST(IconImage, ResizeDoesNotBleedTransparentColour) {
  const RgbaImage image = red_and_transparent_blue(16);
  for (const std::size_t size : {40u, 16u, 7u, 3u}) {
    SCOPED_TRACE(size);
    const RgbaImage resized = resize_bicubic(image, size, size);
    for (const float v : resized.pixels) ASSERT_TRUE(v >= 0.0f && v <= 1.0f);
    expect_no_bleeding(resized);
  }
}

TEST(IconImage, RotateByZeroIsIdentity) {
  const RgbaImage image = random_image(13, 9, 1);
  const RgbaImage same = rotate_bicubic(image, 0.0);
  ASSERT_EQ(same.height, 13u);
  ASSERT_EQ(same.width, 9u);
  EXPECT_LT(max_difference(same, image), 1e-6);
  const RgbaImage full_turn = rotate_bicubic(image, 2.0 * kPi);
  ASSERT_EQ(full_turn.height, 13u);
  EXPECT_LT(max_difference(full_turn, image), 1e-5);
}

TEST(IconImage, RotateByQuarterTurnsIsIndexRotation) {
  const std::size_t h = 13, w = 9;
  const RgbaImage image = random_image(h, w, 2);
  const RgbaImage left = rotate_bicubic(image, 0.5 * kPi);  // counter-clockwise: np.rot90
  const RgbaImage half = rotate_bicubic(image, kPi);
  const RgbaImage right = rotate_bicubic(image, -0.5 * kPi);
  ASSERT_EQ(left.height, w);
  ASSERT_EQ(left.width, h);
  ASSERT_EQ(half.height, h);
  ASSERT_EQ(half.width, w);
  ASSERT_EQ(right.height, w);
  ASSERT_EQ(right.width, h);
  for (int c = 0; c < 4; ++c) {
    for (std::size_t row = 0; row < w; ++row) {
      for (std::size_t col = 0; col < h; ++col) {
        EXPECT_NEAR(left.at(row, col)[c], image.at(col, w - 1 - row)[c], 1e-5);
        EXPECT_NEAR(right.at(row, col)[c], image.at(h - 1 - col, row)[c], 1e-5);
      }
    }
    for (std::size_t row = 0; row < h; ++row) {
      for (std::size_t col = 0; col < w; ++col) {
        EXPECT_NEAR(half.at(row, col)[c], image.at(h - 1 - row, w - 1 - col)[c], 1e-5);
      }
    }
  }
}

TEST(IconImage, RotateExpandsToTheRotatedBoundingBox) {
  for (const auto& [h, w, angle] : std::vector<std::tuple<std::size_t, std::size_t, double>>{
           {64, 64, 0.25 * kPi}, {64, 40, 0.3}, {7, 7, 1.0}, {40, 64, 2.5}, {1, 1, 0.7}}) {
    const RgbaImage rotated = rotate_bicubic(make_image(h, w,
                                                        [](std::size_t, std::size_t, float* px) {
                                                          px[0] = px[1] = px[2] = px[3] = 1.0f;
                                                        }),
                                             angle);
    // PIL: the rotated corners' extent about the centre, ceil of the largest minus floor of the
    // smallest coordinate.
    const double c = std::abs(std::cos(angle)), s = std::abs(std::sin(angle));
    const double ext_x = 0.5 * (w * c + h * s), ext_y = 0.5 * (w * s + h * c);
    const auto nw =
        static_cast<std::size_t>(std::ceil(0.5 * w + ext_x) - std::floor(0.5 * w - ext_x));
    const auto nh =
        static_cast<std::size_t>(std::ceil(0.5 * h + ext_y) - std::floor(0.5 * h - ext_y));
    EXPECT_EQ(rotated.width, nw) << h << "x" << w << " by " << angle;
    EXPECT_EQ(rotated.height, nh) << h << "x" << w << " by " << angle;
  }
  EXPECT_EQ(
      rotate_bicubic(make_image(64, 64, [](std::size_t, std::size_t, float*) {}), 0.25 * kPi).width,
      92u);
}

TEST(IconImage, RotatePreservesAlphaMassAndColour) {
  for (const auto& name : builtin_icons()) {
    const RgbaImage icon = draw_icon(name, 64);
    for (const double angle : {0.7, 2.1, 4.0}) {
      const RgbaImage rotated = rotate_bicubic(icon, angle);
      EXPECT_NEAR(alpha_mass(rotated), alpha_mass(icon), 0.02 * alpha_mass(icon))
          << name << " by " << angle;
      EXPECT_NEAR(icon_ink(rotated), icon_ink(icon), 0.02 * icon_ink(icon))
          << name << " by " << angle;
      for (const float v : rotated.pixels) ASSERT_TRUE(v >= 0.0f && v <= 1.0f);
    }
  }
}

TEST(IconImage, RotateDoesNotBleedTransparentColour) {
  const RgbaImage image = red_and_transparent_blue(16);
  for (const double angle : {0.3, 1.0, 2.0, 5.5}) {
    SCOPED_TRACE(angle);
    expect_no_bleeding(rotate_bicubic(image, angle));
  }
}

TEST(IconImage, ValidateIconRejectsEmptyImages) {
  EXPECT_NO_THROW(validate_icon(draw_icon("disc", 8), "mine.png"));
  test::expect_error_containing<Error>(
      [] {
        validate_icon(RgbaImage{0, 5, {}}, "mine.png");
      },
      {"mine.png: ", "0 x 5"});
  const RgbaImage faint = make_image(4, 4, [](std::size_t, std::size_t, float* px) {
    px[0] = 1.0f, px[1] = px[2] = 0.0f, px[3] = 0.5f / 255.0f;
  });
  test::expect_error_containing<Error>([&] { validate_icon(faint, "mine.png"); },
                                       {"mine.png: ", "transparent", "empty icon"});
  RgbaImage short_pixels{2, 2, std::vector<float>(15, 1.0f)};
  EXPECT_THROW(validate_icon(short_pixels, "mine.png"), Error);
}

class IconCanvas : public ::testing::Test {
 protected:
  std::vector<float> canvas(const RgbaImage& icon, const IconCanvasSettings& settings,
                            std::uint64_t seed, std::uint64_t sample, std::size_t* placed) {
    std::vector<float> out(3 * settings.height * settings.width, -7.0f);
    *placed = icon_canvas(icon, settings, seed, sample, out.data());
    return out;
  }
};

TEST_F(IconCanvas, DeterministicPerSeedAndSample) {
  const RgbaImage icon = draw_icon("two_discs", 64);
  const IconCanvasSettings settings;
  std::size_t a, b, c, d;
  const auto first = canvas(icon, settings, 11, 5, &a);
  const auto again = canvas(icon, settings, 11, 5, &b);
  const auto other_sample = canvas(icon, settings, 11, 6, &c);
  const auto other_seed = canvas(icon, settings, 12, 5, &d);
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::memcmp(first.data(), again.data(), first.size() * sizeof(float)), 0);
  EXPECT_NE(first, other_sample);
  EXPECT_NE(first, other_seed);
}

TEST_F(IconCanvas, SamplesDoNotDependOnCallOrder) {
  const RgbaImage icon = draw_icon("firefly", 32);
  IconCanvasSettings settings;
  settings.height = settings.width = 64;
  std::vector<std::vector<float>> forward, backward(6);
  std::size_t placed;
  for (std::uint64_t s = 0; s < 6; ++s) forward.push_back(canvas(icon, settings, 3, s, &placed));
  for (std::uint64_t s = 6; s-- > 0;) backward[s] = canvas(icon, settings, 3, s, &placed);
  for (std::size_t s = 0; s < 6; ++s) EXPECT_EQ(forward[s], backward[s]) << s;
}

TEST_F(IconCanvas, FirstCopyIsTheRotatedIconAtItsDrawnCentre) {
  // The documented stream: words 0, 1, 2 of block (sample * copies + copy) * attempts + attempt
  // give the angle and the centre; the rotated canvas' top-left pixel goes to centre - size / 2.
  const RgbaImage icon = draw_icon("two_discs", 24);
  IconCanvasSettings settings;
  settings.height = 40;
  settings.width = 48;
  settings.copies = 1;
  settings.attempts = 2;
  const CounterRng rng(21, kIconPlacementStream);
  for (std::uint64_t sample = 0; sample < 10; ++sample) {
    std::size_t placed;
    const auto out = canvas(icon, settings, 21, sample, &placed);
    ASSERT_EQ(placed, 1u);
    const auto block = rng.bits(sample * 2);
    const double angle = 2.0 * kPi * block.v[0] / 4294967296.0;
    const auto cy = static_cast<std::size_t>((std::uint64_t{block.v[1]} * 40) >> 32);
    const auto cx = static_cast<std::size_t>((std::uint64_t{block.v[2]} * 48) >> 32);
    const RgbaImage rotated = rotate_bicubic(icon, angle);
    std::vector<float> expected(3 * 40 * 48, 1.0f);
    for (std::size_t row = 0; row < rotated.height; ++row) {
      for (std::size_t col = 0; col < rotated.width; ++col) {
        const std::size_t y = (cy + 40 + row - rotated.height / 2) % 40;
        const std::size_t x = (cx + 48 + col - rotated.width / 2) % 48;
        const float* px = rotated.at(row, col);
        for (int c = 0; c < 3; ++c) {
          float& v = expected[c * 40 * 48 + y * 48 + x];
          v = px[3] * px[c] + (1.0f - px[3]) * v;
        }
      }
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
      ASSERT_NEAR(out[i], 2.0f * expected[i] - 1.0f, 1e-5) << "sample " << sample << " at " << i;
    }
  }
}

TEST_F(IconCanvas, RangeBackgroundAndAdditiveInk) {
  // Ink adds up copy by copy when no two copies overlap: canvas ink = placed x icon ink (a
  // rotation keeps the ink to within a percent or so).
  for (const auto& name : builtin_icons()) {
    const RgbaImage icon = draw_icon(name, 64);
    const double ink = icon_ink(icon);
    const IconCanvasSettings settings;
    std::size_t total_placed = 0;
    for (std::uint64_t sample = 0; sample < 8; ++sample) {
      SCOPED_TRACE(name + " sample " + std::to_string(sample));
      std::size_t placed;
      const auto out = canvas(icon, settings, 1, sample, &placed);
      ASSERT_GE(placed, 1u);
      ASSERT_LE(placed, settings.copies);
      total_placed += placed;
      std::size_t white = 0;
      for (std::size_t i = 0; i < 128 * 128; ++i) {
        for (int c = 0; c < 3; ++c) ASSERT_TRUE(out[c * 128 * 128 + i] >= -1.0f);
        for (int c = 0; c < 3; ++c) ASSERT_TRUE(out[c * 128 * 128 + i] <= 1.0f);
        if (out[i] == 1.0f && out[128 * 128 + i] == 1.0f && out[2 * 128 * 128 + i] == 1.0f) {
          ++white;
        }
      }
      EXPECT_GT(white, 128u * 128u / 5);  // the canvas is white where nothing is placed
      EXPECT_NEAR(canvas_ink(out), placed * ink, 0.03 * placed * ink);
    }
    // The reference's budget of 2 attempts leaves most images with fewer than 10 copies.
    EXPECT_LT(total_placed, 8 * settings.copies);
  }
}

TEST_F(IconCanvas, TranslucentCopiesNeverStack) {
  // A half-transparent black disc shades white to 0.5; two stacked copies would give 0.25.
  const RgbaImage disc = draw_icon("disc", 24);
  const RgbaImage icon = make_image(24, 24, [&](std::size_t row, std::size_t col, float* px) {
    px[0] = px[1] = px[2] = 0.0f;
    px[3] = 0.5f * disc.at(row, col)[3];
  });
  IconCanvasSettings settings;
  settings.height = settings.width = 64;
  settings.copies = 30;
  settings.attempts = 5;
  for (std::uint64_t sample = 0; sample < 20; ++sample) {
    std::size_t placed;
    const auto out = canvas(icon, settings, 9, sample, &placed);
    EXPECT_GE(placed, 2u);
    const float darkest = *std::min_element(out.begin(), out.end());
    EXPECT_GT(0.5f * (darkest + 1.0f), 0.45f) << "sample " << sample << ", " << placed;
  }
}

TEST_F(IconCanvas, CopiesWrapAcrossTheEdges) {
  const RgbaImage icon = draw_icon("disc", 7);
  IconCanvasSettings settings;
  settings.height = settings.width = 16;
  settings.copies = 1;
  std::size_t across_columns = 0, across_rows = 0;
  const double ink = icon_ink(icon);
  for (std::uint64_t sample = 0; sample < 200; ++sample) {
    std::size_t placed;
    const auto out = canvas(icon, settings, 4, sample, &placed);
    ASSERT_EQ(placed, 1u);                          // one copy always fits the empty canvas
    EXPECT_NEAR(canvas_ink(out), ink, 0.03 * ink);  // nothing is lost at the edges
    const auto inked = [&](std::size_t row, std::size_t col) { return out[row * 16 + col] < 0.9f; };
    bool first_col = false, last_col = false, first_row = false, last_row = false;
    for (std::size_t i = 0; i < 16; ++i) {
      first_col |= inked(i, 0), last_col |= inked(i, 15);
      first_row |= inked(0, i), last_row |= inked(15, i);
    }
    across_columns += first_col && last_col;
    across_rows += first_row && last_row;
  }
  EXPECT_GT(across_columns, 20u);
  EXPECT_GT(across_rows, 20u);
}

TEST_F(IconCanvas, NoCopiesOrAttemptsLeaveAWhiteCanvas) {
  const RgbaImage icon = draw_icon("disc", 16);
  IconCanvasSettings settings;
  settings.height = settings.width = 32;
  for (const auto& [copies, attempts] : std::vector<std::pair<std::size_t, int>>{{0, 2}, {3, 0}}) {
    settings.copies = copies;
    settings.attempts = attempts;
    std::size_t placed;
    const auto out = canvas(icon, settings, 1, 0, &placed);
    EXPECT_EQ(placed, 0u);
    for (const float v : out) ASSERT_EQ(v, 1.0f);
  }
}

TEST_F(IconCanvas, RejectsAnIconThatDoesNotFit) {
  const RgbaImage icon = draw_icon("disc", 64);
  IconCanvasSettings settings;
  settings.height = 128;
  settings.width = 80;  // a 64 x 64 icon needs 93 x 93 at 45 degrees (plus rounding)
  std::vector<float> out(3 * 128 * 80);
  test::expect_error_containing<Error>([&] { icon_canvas(icon, settings, 1, 0, out.data()); },
                                       {"64 x 64", "128 x 80", "fit"});
  settings.width = 128;
  settings.attempts = -1;
  EXPECT_THROW(icon_canvas(icon, settings, 1, 0, out.data()), Error);
  settings.attempts = 2;
  EXPECT_THROW(
      icon_canvas(RgbaImage{8, 8, std::vector<float>(256, 0.0f)}, settings, 1, 0, out.data()),
      Error);
}

}  // namespace
}  // namespace eqflow::systems
