// Lyapunov analysis: the Benettin spectrum of the true Lorenz field (about 0.906, 0, -14.57,
// summing to -(sigma + 1 + beta)), the reference procedure on the normalised Lorenz field
// (positive, stable starts found), on a contracting linear field (exactly -1) and on an
// expanding one (no stable start).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "eqflow/core/rng.hpp"
#include "eqflow/dynamics/integrators.hpp"
#include "eqflow/dynamics/lyapunov.hpp"
#include "eqflow/dynamics/vector_field.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

using dynamics::LinearField;
using dynamics::LorenzField;
using dynamics::LyapunovSettings;
using dynamics::SpectrumSettings;

constexpr double kLorenzSum = -(10.0 + 1.0 + 8.0 / 3.0);

TEST(LyapunovSpectrum, LorenzField) {
  LorenzField<double> field;
  SpectrumSettings s;
  s.trajectories = 16;
  s.dt = 0.005;  // the sum's RK4 error: 1e-4 at dt 0.01, 6e-6 at dt 0.005 (4th order)
  s.transient_steps = 2000;
  s.steps = 100000;  // 500 time units per trajectory
  s.qr_every = 10;
  s.qr_every = 10;
  s.seed = 1;
  const auto r = dynamics::lyapunov_spectrum(field, s);
  ASSERT_EQ(r.exponents.size(), 3u);
  ASSERT_EQ(r.per_trajectory.size(), 3 * s.trajectories);

  EXPECT_DOUBLE_EQ(r.time, 500.0);
  // Literature (Sprott): 0.9056, 0, -14.5723. Finite-time estimates fluctuate by ~0.01 here.
  EXPECT_NEAR(r.exponents[0], 0.906, 0.03);
  EXPECT_NEAR(r.exponents[1], 0.0, 0.02);
  EXPECT_NEAR(r.exponents[2], -14.572, 0.05);
  // The sum is the (constant) divergence up to the RK4 error of the frame's volume.
  EXPECT_NEAR(std::accumulate(r.exponents.begin(), r.exponents.end(), 0.0), kLorenzSum, 2e-5);
  std::printf("Lorenz spectrum: %.4f %.4f %.4f (sum %.6f)\n", r.exponents[0], r.exponents[1],
              r.exponents[2], r.exponents[0] + r.exponents[1] + r.exponents[2]);
}

//! Mean and std per axis of the reference Lorenz data set (DESIGN.md section 2, smaller):
//! trajectories of RK4 steps at dt 0.01 from standard-normal starts.
void lorenz_statistics(std::array<double, 3>& mean, std::array<double, 3>& stddev) {
  LorenzField<double> field;
  View2<double> x0("x0", 4, 3);
  fill_normal(x0, CounterRng(31, 0), 0);
  const auto traj = test::to_vector(dynamics::integrate<double>(field, x0, 0.01, 5000, 1));
  const std::size_t count = traj.size() / 3;
  for (std::size_t c = 0; c < 3; ++c) {
    double sum = 0, sum2 = 0;
    for (std::size_t i = 0; i < count; ++i) sum += traj[i * 3 + c];
    mean[c] = sum / count;
    for (std::size_t i = 0; i < count; ++i) sum2 += std::pow(traj[i * 3 + c] - mean[c], 2);
    stddev[c] = std::sqrt(sum2 / count);
  }
}

TEST(LyapunovSpectrum, NormalisedLorenzHasTheSameSpectrum) {
  std::array<double, 3> mean{}, stddev{};
  lorenz_statistics(mean, stddev);
  LorenzField<double> field({}, mean, stddev);
  SpectrumSettings s;
  s.trajectories = 8;
  s.dt = 0.005;
  s.transient_steps = 1000;
  s.steps = 40000;  // 200 time units
  const auto r = dynamics::lyapunov_spectrum(field, s);
  // Exponents do not depend on the (affine) coordinates.
  EXPECT_NEAR(r.exponents[0], 0.906, 0.05);
  EXPECT_NEAR(r.exponents[1], 0.0, 0.03);
  EXPECT_NEAR(r.exponents[2], -14.572, 0.1);
  EXPECT_NEAR(std::accumulate(r.exponents.begin(), r.exponents.end(), 0.0), kLorenzSum, 2e-5);
  std::printf("normalised Lorenz spectrum: %.4f %.4f %.4f\n", r.exponents[0], r.exponents[1],
              r.exponents[2]);
}

TEST(LyapunovReference, NormalisedLorenzIsChaoticAndStable) {
  std::array<double, 3> mean{}, stddev{};
  lorenz_statistics(mean, stddev);
  LorenzField<double> field({}, mean, stddev);
  LyapunovSettings s;  // the reference procedure, shortened: dt 0.01 resolves the true field
  s.trajectories = 8;
  s.starts_per_try = 8;
  s.steps = 1000;
  s.segment = 500;
  s.dt = 0.01;
  s.seed = 7;
  s.keep_starts = true;
  const auto r = dynamics::lyapunov_reference(field, s);
  EXPECT_EQ(r.stable_count, 8u);
  EXPECT_GE(r.stable_found, 8u);
  EXPECT_GE(r.tries, 1u);
  ASSERT_EQ(r.distance_curve.size(), 501u);
  EXPECT_NEAR(r.distance_curve[0], 1e-5, 1e-15);
  EXPECT_GT(r.exponent, 0.3);
  EXPECT_GT(r.exponent_speed_normalised, 0.0);
  EXPECT_GT(r.mean_speed, 0.0);
  EXPECT_NEAR(r.exponent_speed_normalised,
              std::log(r.distance_curve[500] / r.distance_curve[0]) / r.mean_speed, 1e-12);
  ASSERT_EQ(r.starts.size(), 24u);
  for (double v : r.starts) EXPECT_LT(std::abs(v), 4.0);
  std::printf("reference procedure, normalised Lorenz: lambda %.4f, speed-normalised %.4f\n",
              r.exponent, r.exponent_speed_normalised);
  // Reproducible from the seed.
  const auto again = dynamics::lyapunov_reference(field, s);
  EXPECT_EQ(again.exponent, r.exponent);
  EXPECT_EQ(again.starts, r.starts);
  // The reference's own settings (64 x 5,000 steps at dt 0.1): the perturbation saturates at
  // the attractor's size within a segment, so lambda ~ log(size / sigma) / 250 > 0.
  const auto full = dynamics::lyapunov_reference(field, LyapunovSettings{});
  EXPECT_EQ(full.stable_count, 64u);
  EXPECT_GT(full.exponent, 0.02);
  EXPECT_LT(full.exponent, 0.08);
  ASSERT_EQ(full.distance_curve.size(), 2501u);
  std::printf("reference settings, normalised Lorenz: lambda %.4f (%zu tries)\n", full.exponent,
              full.tries);
}

TEST(LyapunovReference, ContractingFieldDecaysAtItsRate) {
  // v = -x: every offset shrinks as exp(-t), so lambda = -1 up to the RK4 error.
  LinearField<double> field(3, {-1, 0, 0, 0, -1, 0, 0, 0, -1});
  LyapunovSettings s;
  s.trajectories = 16;
  s.steps = 200;
  s.segment = 100;
  const auto r = dynamics::lyapunov_reference(field, s);
  EXPECT_EQ(r.stable_count, 16u);
  EXPECT_EQ(r.tries, 1u);
  EXPECT_NEAR(r.exponent, -1.0, 1e-5);
  EXPECT_LT(r.exponent_speed_normalised, 0.0);
  EXPECT_TRUE(r.starts.empty());
}

TEST(LyapunovReference, ExpandingFieldHasNoStableStart) {
  LinearField<double> field(2, {1, 0, 0, 1});
  LyapunovSettings s;
  s.steps = 1000;
  s.segment = 500;
  const auto r = dynamics::lyapunov_reference(field, s);
  EXPECT_EQ(r.stable_count, 0u);
  EXPECT_EQ(r.stable_found, 0u);
  EXPECT_EQ(r.tries, s.max_tries);
  EXPECT_TRUE(std::isnan(r.exponent));
  EXPECT_TRUE(r.distance_curve.empty());
}

}  // namespace
// v = -x, except that in the analysis batch (references and copies, 2m rows) the first
// perturbed copy gets a non-finite velocity during the first `poisoned_calls` evaluations:
// its first segment must be left out, the rest of the average stays exact.
class PoisonedCopyField final : public dynamics::VectorField<double> {
 public:
  PoisonedCopyField(std::size_t copies, int poisoned_calls)
      : copies_(copies), remaining_(poisoned_calls) {}
  std::size_t dim() const override { return 2; }
  void velocity(const ConstView& x, const MutView& v) override {
    const bool poison = x.extent(0) == 2 * copies_ && remaining_ > 0;
    if (poison) --remaining_;
    const std::size_t first_copy = copies_;
    Kokkos::parallel_for(
        "test::poisoned", RangePolicy(0, x.extent(0)), KOKKOS_LAMBDA(const std::size_t i) {
          for (std::size_t c = 0; c < 2; ++c) {
            v(i, c) =
                poison && i == first_copy ? std::numeric_limits<double>::infinity() : -x(i, c);
          }
        });
  }
  void jvp(const ConstView&, const ConstView& t, const MutView& jt) override {
    Kokkos::deep_copy(jt, t);
  }

 private:
  std::size_t copies_;
  int remaining_;
};

TEST(LyapunovReference, DivergedCopiesAreLeftOutNotPropagated) {
  LyapunovSettings s;
  s.trajectories = 8;
  s.steps = 200;
  s.segment = 100;
  PoisonedCopyField field(8, 4);  // one RK4 step = 4 evaluations
  const auto r = dynamics::lyapunov_reference(field, s);
  EXPECT_EQ(r.stable_count, 8u);
  EXPECT_EQ(r.diverged_segments, 1u);
  EXPECT_NEAR(r.exponent, -1.0, 1e-5);
  for (double dist : r.distance_curve) ASSERT_TRUE(std::isfinite(dist));
  EXPECT_NEAR(r.distance_curve.front(), s.perturbation, 1e-15);
}

}  // namespace eqflow
