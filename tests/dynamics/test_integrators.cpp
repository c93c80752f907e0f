// RK4 integrators: fourth-order convergence on a linear field against its exact matrix
// exponential, recorded trajectories, the tangent integrator against finite differences
// of the discrete flow map, and the Langevin correction's stationary statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/dynamics/integrators.hpp"
#include "eqflow/dynamics/vector_field.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

using dynamics::LinearField;
using dynamics::LorenzField;

// A = -a I + [[0, 1], [-1, 0]]: exp(t A) = exp(-a t) [[cos t, sin t], [-sin t, cos t]].
constexpr double kDamping = 0.1;

std::vector<double> exact_damped_rotation(const std::vector<double>& x0, double t) {
  std::vector<double> out(x0.size());
  const double e = std::exp(-kDamping * t), c = std::cos(t), s = std::sin(t);
  for (std::size_t i = 0; i < x0.size(); i += 2) {
    out[i] = e * (c * x0[i] + s * x0[i + 1]);
    out[i + 1] = e * (-s * x0[i] + c * x0[i + 1]);
  }
  return out;
}

double max_error(const std::vector<double>& a, const std::vector<double>& b) {
  double e = 0;
  for (std::size_t i = 0; i < a.size(); ++i) e = std::max(e, std::abs(a[i] - b[i]));
  return e;
}

TEST(DynamicsRk4, LinearFieldConvergesAtFourthOrder) {
  LinearField<double> field(2, {-kDamping, 1.0, -1.0, -kDamping});
  View2<double> x0("x0", 5, 2);
  fill_normal(x0, CounterRng(3, 0), 0);
  const auto h0 = test::to_vector(x0);
  const double t_end = 2.0;
  const auto exact = exact_damped_rotation(h0, t_end);
  std::vector<double> errors;
  for (const std::size_t steps : {10u, 20u, 40u}) {
    const auto end = dynamics::integrate_end<double>(field, x0, t_end / steps, steps);
    errors.push_back(max_error(test::to_vector(end), exact));
  }
  EXPECT_LT(errors[0], 1e-4);
  for (std::size_t i = 1; i < errors.size(); ++i) {
    const double ratio = errors[i - 1] / errors[i];
    EXPECT_GT(ratio, 14.0) << "halving dt from step " << i;
    EXPECT_LT(ratio, 18.0) << "halving dt from step " << i;
  }
}

TEST(DynamicsRk4, RecordedTrajectoryFrames) {
  LinearField<double> field(2, {-kDamping, 1.0, -1.0, -kDamping});
  View2<double> x0("x0", 3, 2);
  fill_normal(x0, CounterRng(4, 0), 0);
  const double dt = 0.05;
  const auto traj = dynamics::integrate<double>(field, x0, dt, 23, 5);  // frames 0, 5, .., 20
  ASSERT_EQ(traj.extent(0), 5u);
  ASSERT_EQ(traj.extent(1), 3u);
  ASSERT_EQ(traj.extent(2), 2u);
  const auto all = test::to_vector(traj);
  const auto h0 = test::to_vector(x0);
  for (std::size_t f = 0; f < 5; ++f) {
    const std::vector<double> frame(all.begin() + f * 6, all.begin() + (f + 1) * 6);
    const auto ref =
        f == 0 ? h0 : test::to_vector(dynamics::integrate_end<double>(field, x0, dt, f * 5));
    test::expect_close(frame, ref, 0.0, 0.0, "frame");
    test::expect_close(frame, exact_damped_rotation(h0, f * 5 * dt), 1e-6, 0.0, "exact");
  }
  // The single-step helper equals one step of the stepper.
  View2<double> x("x", 3, 2);
  Kokkos::deep_copy(x, x0);
  dynamics::rk4_step<double>(field, x, dt);
  test::expect_close(test::to_vector(x),
                     test::to_vector(dynamics::integrate_end<double>(field, x0, dt, 1)), 0.0, 0.0,
                     "rk4_step");
}

TEST(DynamicsRk4, TangentsAreTheDerivativeOfTheDiscreteFlowMap) {
  // T after n steps of TangentRk4 is exactly d Phi_n(x) T0, Phi_n the n-step RK4 map.
  LorenzField<double> field;
  const std::size_t n = 3, k = 2, steps = 50;
  const double dt = 0.01, h = 1e-6;
  View2<double> x0("x0", n, 3), t0("t0", k * n, 3);
  fill_normal(x0, CounterRng(5, 0), 0);
  fill_normal(t0, CounterRng(5, 1), 0);
  auto hx = test::to_vector(x0);
  for (std::size_t i = 0; i < n; ++i) hx[i * 3 + 2] += 20.0;  // near the attractor
  test::from_vector(x0, hx);
  View2<double> x("x", n, 3), t("t", k * n, 3);
  Kokkos::deep_copy(x, x0);
  Kokkos::deep_copy(t, t0);
  dynamics::TangentRk4<double> stepper(n, 3, k);
  for (std::size_t s = 0; s < steps; ++s) stepper.step(field, x, t, dt);
  // The state part is plain RK4.
  test::expect_close(test::to_vector(x),
                     test::to_vector(dynamics::integrate_end<double>(field, x0, dt, steps)), 0.0,
                     1e-14, "state");
  const auto ht = test::to_vector(t0);
  std::vector<double> fd(k * n * 3);
  for (std::size_t kk = 0; kk < k; ++kk) {
    std::vector<double> up(hx), down(hx);
    for (std::size_t i = 0; i < n * 3; ++i) {
      up[i] += h * ht[kk * n * 3 + i];
      down[i] -= h * ht[kk * n * 3 + i];
    }
    View2<double> xu("xu", n, 3), xd("xd", n, 3);
    test::from_vector(xu, up);
    test::from_vector(xd, down);
    const auto eu = test::to_vector(dynamics::integrate_end<double>(field, xu, dt, steps));
    const auto ed = test::to_vector(dynamics::integrate_end<double>(field, xd, dt, steps));
    for (std::size_t i = 0; i < n * 3; ++i) fd[kk * n * 3 + i] = (eu[i] - ed[i]) / (2 * h);
  }
  test::expect_close(test::to_vector(t), fd, 1e-6, 1e-6, "tangent");
}

// Langevin correction on a standard normal (score -x) after a rotation (which keeps it):
// the stochastic Heun step is x <- g x + (1 - h/2) w, g = 1 - h + h^2/2, h = eta dt,
// w ~ N(0, 2 h), so the stationary variance per coordinate is 2 h (1 - h/2)^2 / (1 - g^2 |R|^2)
// (|R| the RK4 rotation's modulus). h = 0.2 separates it from Euler-Maruyama (1/(1 - h/2)).
TEST(DynamicsLangevin, StationaryVarianceIsTheHeunSchemes) {
  LinearField<double> rotation(2, {0.0, 1.0, -1.0, 0.0}), score(2, {-1.0, 0.0, 0.0, -1.0});
  const std::size_t n = 20000, steps = 60;
  const double dt = 0.1, eta = 2.0, h = eta * dt;
  View2<double> x0("x0", n, 2);
  fill_normal(x0, CounterRng(4, 0), 0);
  dynamics::LangevinCorrection<double> correction{&score, eta, CounterRng(5, 0)};
  const auto traj = dynamics::integrate<double>(rotation, x0, dt, steps, steps, correction);
  const View2<double> end = Kokkos::subview(traj, 1, Kokkos::ALL(), Kokkos::ALL());
  const auto v = test::to_vector(end);
  double mean = 0, var = 0;
  for (double e : v) mean += e / v.size();
  for (double e : v) var += (e - mean) * (e - mean) / (v.size() - 1);
  // RK4 on the rotation: R = 1 - dt^2/2 + dt^4/24 + i (dt - dt^3/6).
  const double re = 1 - dt * dt / 2 + std::pow(dt, 4) / 24, im = dt - std::pow(dt, 3) / 6;
  const double g = 1 - h + h * h / 2;
  const double expected = 2 * h * (1 - h / 2) * (1 - h / 2) / (1 - g * g * (re * re + im * im));
  const double se = expected * std::sqrt(2.0 / v.size());
  EXPECT_NEAR(var, expected, 5 * se) << "Euler-Maruyama would give " << 1 / (1 - h / 2);
  EXPECT_NEAR(mean, 0.0, 5 * std::sqrt(expected / v.size()));
  // Far from Euler-Maruyama's stationary variance.
  EXPECT_GT(std::abs(var - 1 / (1 - h / 2)), 10 * se);
}

TEST(DynamicsLangevin, NoiseIsAPureFunctionOfTheStreamAndEtaZeroIsRk4) {
  LinearField<double> rotation(2, {-kDamping, 1.0, -1.0, -kDamping}),
      score(2, {-1.0, 0.0, 0.0, -1.0});
  View2<double> x0("x0", 7, 2);
  fill_normal(x0, CounterRng(3, 0), 0);
  const dynamics::LangevinCorrection<double> noisy{&score, 0.5, CounterRng(6, 1)};
  const auto a = test::to_vector(dynamics::integrate<double>(rotation, x0, 0.1, 20, 5, noisy));
  const auto b = test::to_vector(dynamics::integrate<double>(rotation, x0, 0.1, 20, 5, noisy));
  EXPECT_EQ(a, b);
  const dynamics::LangevinCorrection<double> other{&score, 0.5, CounterRng(6, 2)};
  EXPECT_NE(a, test::to_vector(dynamics::integrate<double>(rotation, x0, 0.1, 20, 5, other)));
  const dynamics::LangevinCorrection<double> off{&score, 0.0, CounterRng(6, 1)};
  EXPECT_EQ(test::to_vector(dynamics::integrate<double>(rotation, x0, 0.1, 20, 5, off)),
            test::to_vector(dynamics::integrate<double>(rotation, x0, 0.1, 20, 5)));
  dynamics::LangevinHeun<double> stepper(7, 2);
  View2<double> x("x", 7, 2);
  EXPECT_THROW(stepper.step(score, x, -1.0, 0.1, CounterRng(), 0), Error);
}

}  // namespace
}  // namespace eqflow
