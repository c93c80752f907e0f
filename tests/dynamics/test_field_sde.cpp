// The Heun integrator of the pattern SDE (dynamics/field_sde.hpp) on an exact Gaussian score:
// the Langevin part relaxes to and keeps the density's variance (statistical test); the
// training-free swap flow alone keeps |x| (a rotation in channel space) to O(dt^2); a sample's
// path does not depend on how the starts are batched; the denoised frame is
// clip((x + (1 - a) s) / sqrt(a)); per-sample |cosine| and the exponential average.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "eqflow/core/error.hpp"
#include "eqflow/dynamics/field_sde.hpp"
#include "eqflow/flow/field_flow.hpp"
#include "support/gaussian_score.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

using Sde = dynamics::FieldSde<double>;

Sde::Velocity zero_velocity() {
  return [](const nn::ConstField<double>&, const nn::ConstField<double>&,
            const nn::MutField<double>& v) { Kokkos::deep_copy(v, 0.0); };
}

double mean_square(const View4<double>& x) {
  const auto v = test::to_vector(x);
  return std::inner_product(v.begin(), v.end(), v.begin(), 0.0) / double(v.size());
}

TEST(FieldSde, LangevinRelaxesToTheScoresVariance) {
  test::GaussianFieldScore<double> score(2, 0.5);
  dynamics::FieldSdeSettings settings{0.02, 1.0, 10};
  const double target = score.variance(10);
  View4<double> x0("x0", 64, 2, 4, 4);  // 2048 values, starting at 0
  Sde sde(score, zero_velocity(), settings, x0, CounterRng(3, 4));
  for (int i = 0; i < 600; ++i) sde.step();
  // Heun on dx = -x / V dt + sqrt(2 dt) xi has the stationary variance V (1 + O(dt / V)); the
  // sample variance of 2048 values has a relative standard error of sqrt(2 / 2048) = 3%.
  EXPECT_NEAR(mean_square(sde.state()) / target, 1.0, 0.12) << "variance " << target;
  EXPECT_EQ(sde.steps(), 600);
}

TEST(FieldSde, SwapFlowRotatesWithoutChangingTheNorm) {
  test::GaussianFieldScore<double> score(2, 0.5);
  flow::KernelFlow<double> swap(flow::swap_kernel(1));
  const Sde::Velocity velocity = [&](const nn::ConstField<double>& x,
                                     const nn::ConstField<double>& s,
                                     const nn::MutField<double>& v) { swap.velocity(x, s, v); };
  View4<double> x0("x0", 4, 2, 3, 3);
  fill_normal(x0, CounterRng(1, 1), 0);
  Sde sde(score, velocity, dynamics::FieldSdeSettings{0.01, 0.0, 10}, x0, CounterRng(3, 4));
  const double before = mean_square(x0);
  for (int i = 0; i < 100; ++i) sde.step();
  // dx/dt = K s = -K x / V rotates (u, v) at angular speed w = 1 / (sqrt 2 V): Heun's step
  // multiplies |x|^2 by |1 + i w dt - (w dt)^2 / 2|^2 = 1 + (w dt)^4 / 4 exactly.
  const double theta = 0.01 / (std::sqrt(2.0) * score.variance(10));
  EXPECT_NEAR(mean_square(sde.state()) / before, std::pow(1 + std::pow(theta, 4) / 4, 100), 1e-12);
  const auto moved = test::to_vector(sde.state()), start = test::to_vector(x0);
  double change = 0;
  for (std::size_t i = 0; i < moved.size(); ++i) change += std::abs(moved[i] - start[i]);
  EXPECT_GT(change / double(moved.size()), 0.1);  // it did move
}

TEST(FieldSde, PathsDoNotDependOnTheBatching) {
  test::GaussianFieldScore<double> score(2, 0.5);
  flow::KernelFlow<double> swap(flow::swap_kernel(-1));
  const Sde::Velocity velocity = [&](const nn::ConstField<double>& x,
                                     const nn::ConstField<double>& s,
                                     const nn::MutField<double>& v) { swap.velocity(x, s, v); };
  const dynamics::FieldSdeSettings settings{0.01, 0.1, 10};
  View4<double> all("all", 4, 2, 3, 5);
  fill_normal(all, CounterRng(2, 2), 0);
  const auto half = [&](std::size_t first) {
    return Kokkos::subview(all, std::make_pair(first, first + 2), Kokkos::ALL, Kokkos::ALL,
                           Kokkos::ALL);
  };
  View4<double> a("a", 2, 2, 3, 5), b("b", 2, 2, 3, 5);
  Kokkos::deep_copy(a, half(0));
  Kokkos::deep_copy(b, half(2));
  Sde together(score, velocity, settings, all, CounterRng(9, 9));
  Sde first(score, velocity, settings, a, CounterRng(9, 9), 0);
  Sde second(score, velocity, settings, b, CounterRng(9, 9), 2);
  for (int i = 0; i < 20; ++i) {
    together.step();
    first.step();
    second.step();
  }
  auto joined = test::to_vector(first.state());
  const auto tail = test::to_vector(second.state());
  joined.insert(joined.end(), tail.begin(), tail.end());
  EXPECT_EQ(test::to_vector(together.state()), joined);
}

TEST(FieldSde, DenoisedFrameIsTheClippedEstimate) {
  test::GaussianFieldScore<double> score(1, 0.5);
  View4<double> x0("x0", 2, 1, 4, 4);
  fill_normal(x0, CounterRng(4, 4), 0);
  auto values = test::to_vector(x0);
  for (auto& v : values) v *= 3;  // some estimates fall outside [-1, 1]
  test::from_vector(x0, values);
  Sde sde(score, zero_velocity(), dynamics::FieldSdeSettings{}, x0, CounterRng(1, 1));
  View4<double> frame("frame", 2, 1, 4, 4);
  sde.denoised(frame);
  const double a = score.schedule().alpha_bar(10), var = score.variance(10);
  const auto got = test::to_vector(frame);
  bool clipped = false;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double raw = (values[i] - (1 - a) * values[i] / var) / std::sqrt(a);
    clipped = clipped || std::abs(raw) > 1;
    EXPECT_NEAR(got[i], std::clamp(raw, -1.0, 1.0), 1e-14);
  }
  EXPECT_TRUE(clipped);
  // The frame reuses the score the next step needs: one evaluation, not two.
  const int calls = score.calls;
  sde.step();
  EXPECT_EQ(score.calls, calls + 1);
  EXPECT_THROW(
      Sde(score, zero_velocity(), dynamics::FieldSdeSettings{0.0, 0.1, 10}, x0, CounterRng(1, 1)),
      Error);
}

TEST(FieldSde, CosineAndAverage) {
  View4<double> a("a", 3, 1, 2, 2), b("b", 3, 1, 2, 2);
  test::from_vector(a, {1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0});
  test::from_vector(b, {-2, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1});
  const auto cos = dynamics::per_sample_abs_cosine<double>(a, b);
  EXPECT_DOUBLE_EQ(cos[0], 1.0);
  EXPECT_NEAR(cos[1], 0.5, 1e-15);
  EXPECT_TRUE(std::isnan(cos[2]));
  dynamics::exponential_average<double>(a, b, 0.9);
  EXPECT_NEAR(test::to_vector(a)[0], 0.9 - 0.2, 1e-15);
}

}  // namespace
}  // namespace eqflow
