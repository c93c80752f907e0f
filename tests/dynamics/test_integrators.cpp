// RK4 integrators: fourth-order convergence on a linear field against its exact matrix
// exponential, recorded trajectories, and the tangent integrator against finite differences
// of the discrete flow map.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

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

}  // namespace
}  // namespace eqflow
