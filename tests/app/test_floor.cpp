// MMD^2(p, p_t), the scale of a p_t-keeping flow's error (issue 10): the data against a
// held-out draw diffused to t grows with t from the sampling noise at t -> 0, and matches
// the value measured independently for the ring (2,000 points, sigma 0.5: 0.0024 at t = 0.2,
// 0.0003 at t = 0.1).
#include <gtest/gtest.h>

#include <cmath>

#include "eqflow/app/config.hpp"
#include "eqflow/app/impl/analysis.hpp"
#include "eqflow/app/impl/setup.hpp"
#include "eqflow/diffusion/noise_schedule.hpp"

namespace eqflow {
namespace {

double ring_floor(double t, std::uint64_t seed) {
  auto c = app::default_config("ring");
  c.seed = seed;
  c.flow.t = t;
  c.analysis.mmd.points = 2000;
  const auto data = app::impl::load_dataset(c);
  return app::impl::diffusion_floor(c, diffusion::NoiseSchedule::cosine(100, 1e-3), data, 0.5);
}

TEST(DiffusionFloor, GrowsWithTheTrainingTimeAndMatchesTheRing) {
  // Sampling noise of a two-sample MMD^2 of 2,000 points against 2,000 at sigma 0.5 on the
  // ring: about 0.0003 (two data draws differ by that much).
  const double noise = 0.0005;
  double at01 = 0, at02 = 0;
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    const double tiny = ring_floor(0.011, seed);  // step 1: noise level 0.03
    EXPECT_LT(std::abs(tiny), noise) << "seed " << seed;
    const double f02 = ring_floor(0.2, seed);
    at01 += ring_floor(0.1, seed) / 3;
    at02 += f02 / 3;
    EXPECT_GT(ring_floor(0.4, seed), f02);
  }
  EXPECT_NEAR(at02, 0.0024, 0.0006);
  EXPECT_NEAR(at01, 0.0003, 0.0004);
  EXPECT_GT(at02, 3 * at01);
}

}  // namespace
}  // namespace eqflow
