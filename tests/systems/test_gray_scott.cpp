// The Gray-Scott simulator: presets by name, the initial condition against its definition (disc
// radii, centres, periodic wrap, independence of the batch split), the fused stencil step against
// a plain-loop double host reference over hundreds of steps for several presets and grid shapes
// (edge cases H or W = 1, 2 included) in float and double, periodicity (a rolled start gives the
// rolled result), and pattern formation of the 'maze' preset.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/systems/gray_scott.hpp"

namespace eqflow::systems {
namespace {

//! Host copy of a batch as doubles, (N, 2, H, W) row-major.
template <class T>
std::vector<double> to_host(const View4<T>& fields) {
  auto host = Kokkos::create_mirror_view_and_copy(HostSpace(), fields);
  std::vector<double> out(host.span());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(host.data()[i]);
  return out;
}

template <class T>
View4<T> to_device(const std::vector<double>& values, std::size_t n, std::size_t height,
                   std::size_t width) {
  View4<T> fields("test::fields", n, 2, height, width);
  auto host = Kokkos::create_mirror_view(fields);
  for (std::size_t i = 0; i < values.size(); ++i) host.data()[i] = static_cast<T>(values[i]);
  Kokkos::deep_copy(fields, host);
  return fields;
}

//! The plain-loop reference: `steps` explicit Euler steps in double with modulo neighbours.
std::vector<double> reference_steps(const GrayScottParameters& p, std::vector<double> f,
                                    std::size_t n, std::size_t h, std::size_t w, int steps) {
  std::vector<double> next(f.size());
  const auto at = [&](const std::vector<double>& a, std::size_t s, std::size_t c, std::size_t y,
                      std::size_t x) -> double { return a[((s * 2 + c) * h + y) * w + x]; };
  for (int step = 0; step < steps; ++step) {
    for (std::size_t s = 0; s < n; ++s) {
      for (std::size_t y = 0; y < h; ++y) {
        for (std::size_t x = 0; x < w; ++x) {
          double lap[2];
          for (std::size_t c = 0; c < 2; ++c) {
            lap[c] = at(f, s, c, (y + h - 1) % h, x) + at(f, s, c, (y + 1) % h, x) +
                     at(f, s, c, y, (x + w - 1) % w) + at(f, s, c, y, (x + 1) % w) -
                     4.0 * at(f, s, c, y, x);
          }
          const double u = at(f, s, 0, y, x), v = at(f, s, 1, y, x);
          const double du = p.Du * lap[0] - u * v * v + p.F * (1.0 - u);
          const double dv = p.Dv * lap[1] + u * v * v - (p.F + p.k) * v;
          next[((s * 2 + 0) * h + y) * w + x] = std::clamp(u + du, 0.0, 1.0);
          next[((s * 2 + 1) * h + y) * w + x] = std::clamp(v + dv, 0.0, 1.0);
        }
      }
    }
    std::swap(f, next);
  }
  return f;
}

//! The initial condition on the host from gray_scott_disc, with its own periodic distance.
std::vector<double> reference_initial_state(std::uint64_t seed, std::uint64_t first, std::size_t n,
                                            std::size_t h, std::size_t w) {
  const GrayScottInitialCondition ic;
  std::vector<double> f(n * 2 * h * w);
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t y = 0; y < h; ++y) {
      for (std::size_t x = 0; x < w; ++x) {
        double u = 1.0, v = 0.0;
        for (int j = 0; j < ic.discs; ++j) {
          const GrayScottDisc d = gray_scott_disc(ic, seed, first + s, j, h, w);
          const long dy = std::labs(static_cast<long>(y) - d.cy);
          const long dx = std::labs(static_cast<long>(x) - d.cx);
          const long py = std::min<long>(dy, static_cast<long>(h) - dy);
          const long px = std::min<long>(dx, static_cast<long>(w) - dx);
          if (py * py + px * px <= static_cast<long>(d.radius) * d.radius) u = 0.5, v = 0.25;
        }
        f[((s * 2 + 0) * h + y) * w + x] = u;
        f[((s * 2 + 1) * h + y) * w + x] = v;
      }
    }
  }
  return f;
}

TEST(GrayScottPresets, AllFifteenByNameInDesignOrder) {
  const std::vector<std::string> expected = {"life",
                                             "maze",
                                             "waves",
                                             "spirals",
                                             "spots",
                                             "dots",
                                             "stripes",
                                             "holes",
                                             "chaos",
                                             "bubbles",
                                             "worms",
                                             "solitons",
                                             "pulsating_solitons",
                                             "u_skate",
                                             "fingerprints"};
  EXPECT_EQ(gray_scott_presets(), expected);
  const GrayScottParameters maze = gray_scott_preset("maze");
  EXPECT_EQ(maze.Du, 0.16);
  EXPECT_EQ(maze.Dv, 0.08);
  EXPECT_EQ(maze.F, 0.029);
  EXPECT_EQ(maze.k, 0.057);
  const GrayScottParameters chaos = gray_scott_preset("chaos");
  EXPECT_EQ(chaos.Du, 0.10);
  EXPECT_EQ(chaos.F, 0.026);
  EXPECT_EQ(gray_scott_preset("u_skate").F, 0.062);
  for (const auto& name : gray_scott_presets()) EXPECT_NO_THROW(validate(gray_scott_preset(name)));
}

TEST(GrayScottPresets, UnknownNameListsTheValidOnes) {
  try {
    gray_scott_preset("mazes");
    FAIL() << "no exception";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'mazes'"), std::string::npos) << what;
    EXPECT_NE(what.find("pulsating_solitons"), std::string::npos) << what;
    EXPECT_NE(what.find("fingerprints"), std::string::npos) << what;
  }
  EXPECT_THROW(validate(GrayScottParameters{0.16, -0.1, 0.03, 0.06}), Error);
  EXPECT_THROW(validate(GrayScottParameters{0.16, 0.08, std::nan(""), 0.06}), Error);
}

TEST(GrayScottInitialState, DiscsFollowTheirDistribution) {
  const GrayScottInitialCondition ic;
  std::vector<int> radius_count(8, 0);
  double mean_cy = 0, mean_cx = 0;
  const int samples = 2000;
  for (int s = 0; s < samples; ++s) {
    for (int j = 0; j < ic.discs; ++j) {
      const GrayScottDisc d = gray_scott_disc(ic, 7, s, j, 128, 96);
      ASSERT_GE(d.radius, 3);
      ASSERT_LE(d.radius, 7);
      ASSERT_GE(d.cy, 0);
      ASSERT_LT(d.cy, 128);
      ASSERT_GE(d.cx, 0);
      ASSERT_LT(d.cx, 96);
      ++radius_count[d.radius];
      mean_cy += d.cy;
      mean_cx += d.cx;
    }
  }
  const double draws = samples * ic.discs;
  // Each radius has probability 1/5: binomial std sqrt(10000 * 0.16) = 40, so +-200 is 5 sigma.
  for (int r = 3; r <= 7; ++r) EXPECT_NEAR(radius_count[r], draws / 5, 200) << "radius " << r;
  // Centre means: uniform on {0..127} has mean 63.5 and std 37; 5 sigma of the mean is 1.85.
  EXPECT_NEAR(mean_cy / draws, 63.5, 1.9);
  EXPECT_NEAR(mean_cx / draws, 47.5, 1.4);
}

TEST(GrayScottInitialState, MatchesItsDefinitionAndWrapsAtTheEdges) {
  const std::size_t n = 6, h = 24, w = 20;
  View4<double> fields("test::ic", n, 2, h, w);
  gray_scott_initial_state(fields, 11, 40, GrayScottInitialCondition{});
  const std::vector<double> got = to_host(fields);
  EXPECT_EQ(got, reference_initial_state(11, 40, n, h, w));
  // On a 24 x 20 grid, discs of radius >= 3 near an edge wrap: some sample has disc cells in both
  // the first and the last column.
  bool wraps = false;
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t y = 0; y < h; ++y) {
      const std::size_t row = ((s * 2 + 1) * h + y) * w;
      wraps |= got[row] == 0.25 && got[row + w - 1] == 0.25;
    }
  }
  EXPECT_TRUE(wraps);
}

TEST(GrayScottInitialState, EachSampleIsAFunctionOfSeedAndGlobalIndexOnly) {
  const std::size_t h = 16, w = 16;
  View4<float> all("test::all", 9, 2, h, w);
  gray_scott_initial_state(all, 3, 0, GrayScottInitialCondition{});
  View4<float> part("test::part", 4, 2, h, w);
  gray_scott_initial_state(part, 3, 5, GrayScottInitialCondition{});
  const std::vector<double> a = to_host(all), b = to_host(part);
  EXPECT_TRUE(std::equal(b.begin(), b.end(), a.begin() + 5 * 2 * h * w));
  View4<float> other("test::other", 4, 2, h, w);
  gray_scott_initial_state(other, 4, 5, GrayScottInitialCondition{});
  EXPECT_NE(to_host(other), b);
}

template <class T>
void check_against_reference(const std::string& preset, std::size_t n, std::size_t h, std::size_t w,
                             int steps, double atol) {
  const GrayScottParameters p = gray_scott_preset(preset);
  const std::vector<double> start = reference_initial_state(1, 0, n, h, w);
  View4<T> fields = to_device<T>(start, n, h, w);
  GrayScottSimulator<T> sim(p, n, h, w);
  sim.advance(fields, static_cast<std::size_t>(steps));
  const std::vector<double> got = to_host(fields);
  const std::vector<double> want = reference_steps(p, start, n, h, w, steps);
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
  EXPECT_LE(worst, atol) << preset << " " << n << "x2x" << h << "x" << w << ", " << steps
                         << " steps";
}

TEST(GrayScottStep, MatchesThePlainLoopReferenceInDouble) {
  for (const char* preset : {"maze", "spirals", "chaos", "u_skate", "worms"}) {
    check_against_reference<double>(preset, 3, 24, 20, 300, 1e-12);
  }
  // Odd step counts (the double buffer's final copy) and grids with one or two rows/columns.
  check_against_reference<double>("spots", 2, 17, 19, 201, 1e-12);
  check_against_reference<double>("waves", 1, 1, 9, 50, 1e-12);
  check_against_reference<double>("waves", 1, 9, 1, 51, 1e-12);
  check_against_reference<double>("waves", 2, 2, 2, 20, 1e-12);
  check_against_reference<double>("waves", 1, 1, 1, 7, 1e-12);
}

TEST(GrayScottStep, FloatStaysCloseToTheDoubleReference) {
  // Float rounding (6e-8 per operation) over 300 steps of a contracting update: measured
  // below 1e-5; 1e-4 leaves room for other compilers' operation order.
  for (const char* preset : {"maze", "spirals", "chaos", "u_skate"}) {
    check_against_reference<float>(preset, 3, 24, 20, 300, 1e-4);
  }
  check_against_reference<float>("waves", 2, 2, 2, 21, 1e-5);
}

TEST(GrayScottStep, ARolledStartGivesTheRolledResult) {
  const std::size_t n = 2, h = 24, w = 20, dy = 7, dx = 13;
  const GrayScottParameters p = gray_scott_preset("maze");
  const std::vector<double> start = reference_initial_state(9, 0, n, h, w);
  std::vector<double> rolled(start.size());
  for (std::size_t sc = 0; sc < n * 2; ++sc) {
    for (std::size_t y = 0; y < h; ++y) {
      for (std::size_t x = 0; x < w; ++x) {
        rolled[(sc * h + (y + dy) % h) * w + (x + dx) % w] = start[(sc * h + y) * w + x];
      }
    }
  }
  View4<double> a = to_device<double>(start, n, h, w), b = to_device<double>(rolled, n, h, w);
  GrayScottSimulator<double> sim(p, n, h, w);
  sim.advance(a, 400);
  sim.advance(b, 400);
  const std::vector<double> ra = to_host(a), rb = to_host(b);
  double worst = 0;
  for (std::size_t sc = 0; sc < n * 2; ++sc) {
    for (std::size_t y = 0; y < h; ++y) {
      for (std::size_t x = 0; x < w; ++x) {
        worst = std::max(worst, std::abs(rb[(sc * h + (y + dy) % h) * w + (x + dx) % w] -
                                         ra[(sc * h + y) * w + x]));
      }
    }
  }
  // Every cell sums the same neighbours in the same order wherever it lies: equal to rounding.
  EXPECT_LE(worst, 1e-14);
}

TEST(GrayScottStep, MazeFormsAPattern) {
  // Check: a labyrinth fills the grid. From 5 discs (at most 5 * 149 cells of 64 x 64, under
  // 19%) the maze preset grows stripes over the whole grid: after 4,000 steps (1) the fraction
  // of cells with v > 0.2 is well above the discs' share (measured: 0.10 -> 0.42), (2) every one
  // of the 16 tiles of 16 x 16 cells holds both stripe cells (v > 0.2) and background cells
  // (v < 0.1), where at the start half the tiles or more hold no disc (measured 8 and 6 of 16), and
  // (3) v keeps a spatial std above 0.05 (no uniform state; measured 0.097).
  const std::size_t n = 2, h = 64, w = 64, tile = 16;
  View4<float> fields("test::maze", n, 2, h, w);
  gray_scott_initial_state(fields, 5, 0, GrayScottInitialCondition{});
  struct Stats {
    double high, stddev;
    int patterned_tiles;
  };
  const auto stats = [&](const std::vector<double>& f, std::size_t s) {
    const double* v = f.data() + (s * 2 + 1) * h * w;
    double mean = 0, sq = 0;
    std::size_t high = 0;
    for (std::size_t i = 0; i < h * w; ++i) {
      mean += v[i];
      high += v[i] > 0.2;
    }
    mean /= static_cast<double>(h * w);
    for (std::size_t i = 0; i < h * w; ++i) sq += (v[i] - mean) * (v[i] - mean);
    int tiles = 0;
    for (std::size_t ty = 0; ty < h; ty += tile) {
      for (std::size_t tx = 0; tx < w; tx += tile) {
        bool stripe = false, background = false;
        for (std::size_t y = ty; y < ty + tile; ++y) {
          for (std::size_t x = tx; x < tx + tile; ++x) {
            stripe |= v[y * w + x] > 0.2;
            background |= v[y * w + x] < 0.1;
          }
        }
        tiles += stripe && background;
      }
    }
    return Stats{static_cast<double>(high) / static_cast<double>(h * w),
                 std::sqrt(sq / static_cast<double>(h * w)), tiles};
  };
  const std::vector<double> start = to_host(fields);
  GrayScottSimulator<float> sim(gray_scott_preset("maze"), n, h, w);
  sim.advance(fields, 4000);
  const std::vector<double> end = to_host(fields);
  const int all_tiles = static_cast<int>((h / tile) * (w / tile));
  for (std::size_t s = 0; s < n; ++s) {
    const Stats a = stats(start, s), b = stats(end, s);
    EXPECT_LT(a.high, 0.19) << "sample " << s;
    EXPECT_LT(a.patterned_tiles, all_tiles) << "sample " << s;
    EXPECT_GT(b.high, 0.30) << "sample " << s << ": start " << a.high;
    EXPECT_LT(b.high, 0.70) << "sample " << s;
    EXPECT_EQ(b.patterned_tiles, all_tiles) << "sample " << s;
    EXPECT_GT(b.stddev, 0.05) << "sample " << s;
  }
}

TEST(GrayScottSimulator, RejectsBatchesThatDoNotFit) {
  GrayScottSimulator<double> sim(gray_scott_preset("maze"), 2, 8, 8);
  View4<double> too_many("test::too_many", 3, 2, 8, 8), wrong("test::wrong", 1, 2, 8, 9);
  EXPECT_THROW(sim.advance(too_many, 1), ShapeError);
  EXPECT_THROW(sim.advance(wrong, 1), ShapeError);
  View4<double> one_channel("test::one_channel", 1, 1, 8, 8), out("test::out", 1, 1, 8, 8);
  EXPECT_THROW(gray_scott_step(gray_scott_preset("maze"), one_channel, out), ShapeError);
}

}  // namespace
}  // namespace eqflow::systems
