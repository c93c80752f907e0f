// Adam (L2 in the gradient), AdamW (decoupled), gradient clipping and learning-rate schedules
// against hand-computed values and a scalar re-statement of PyTorch's update rules.
#include <gtest/gtest.h>

#include <cmath>

#include "eqflow/nn/optimizer.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

// PyTorch's Adam / AdamW for one scalar, written out as in torch.optim's documentation.
struct ScalarAdam {
  double m = 0, v = 0;
  int t = 0;
  double step(double p, double g, double lr, const nn::AdamConfig& c) {
    ++t;
    if (c.decoupled) {
      p *= 1 - lr * c.weight_decay;
    } else {
      g += c.weight_decay * p;
    }
    m = c.beta1 * m + (1 - c.beta1) * g;
    v = c.beta2 * v + (1 - c.beta2) * g * g;
    const double mhat = m / (1 - std::pow(c.beta1, t)), vhat = v / (1 - std::pow(c.beta2, t));
    return p - lr * mhat / (std::sqrt(vhat) + c.eps);
  }
};

void run_adam(bool decoupled) {
  nn::AdamConfig cfg;
  cfg.weight_decay = 0.01;
  cfg.decoupled = decoupled;
  nn::Adam<double> adam(2, cfg);
  View1<double> p("p", 2), g("g", 2);
  test::from_vector(p, {1.0, -2.0});
  test::from_vector(g, {0.5, 0.1});
  adam.step(p, g, 0.1);
  const auto p1 = test::to_vector(p);
  // First step: m_hat = g', v_hat = g'^2, so the step is lr sign(g') (up to eps).
  if (decoupled) {
    EXPECT_NEAR(p1[0], 1.0 * (1 - 0.1 * 0.01) - 0.1, 1e-7);
    EXPECT_NEAR(p1[1], -2.0 * (1 - 0.1 * 0.01) - 0.1, 1e-7);
  } else {
    EXPECT_NEAR(p1[0], 0.9, 1e-7);
    EXPECT_NEAR(p1[1], -2.1, 1e-7);
  }
  ScalarAdam a, b;
  double pa = a.step(1.0, 0.5, 0.1, cfg), pb = b.step(-2.0, 0.1, 0.1, cfg);
  const double grads[][2] = {{-0.3, 0.2}, {0.05, -0.7}, {1.5, 0.0}};
  const double lrs[] = {0.05, 0.02, 0.01};
  for (int s = 0; s < 3; ++s) {
    test::from_vector(g, {grads[s][0], grads[s][1]});
    adam.step(p, g, lrs[s]);
    pa = a.step(pa, grads[s][0], lrs[s], cfg);
    pb = b.step(pb, grads[s][1], lrs[s], cfg);
  }
  const auto pn = test::to_vector(p);
  EXPECT_NEAR(pn[0], pa, 1e-12);
  EXPECT_NEAR(pn[1], pb, 1e-12);
  EXPECT_EQ(adam.steps(), 4);
}

TEST(Optimizer, AdamAddsWeightDecayToTheGradient) {
  run_adam(false);
}
TEST(Optimizer, AdamWDecaysTheWeights) {
  run_adam(true);
}

TEST(Optimizer, ClipGradientNorm) {
  View1<double> g("g", 2);
  test::from_vector(g, {3.0, 4.0});
  EXPECT_DOUBLE_EQ(nn::clip_gradient_norm(g, 1.0), 5.0);
  const auto c = test::to_vector(g);
  EXPECT_NEAR(c[0], 0.6, 1e-6);
  EXPECT_NEAR(c[1], 0.8, 1e-6);
  EXPECT_NEAR(nn::clip_gradient_norm(g, 10.0), 1.0, 1e-6);  // below the limit: unchanged
  EXPECT_NEAR(test::to_vector(g)[0], c[0], 0.0);
}

TEST(Optimizer, LearningRateSchedules) {
  const auto constant = nn::LearningRateSchedule::constant(0.01);
  EXPECT_EQ(constant.at(0), 0.01);
  EXPECT_EQ(constant.at(100000), 0.01);
  const auto cosine = nn::LearningRateSchedule::cosine_with_warmup(1e-3, 10, 110);
  EXPECT_DOUBLE_EQ(cosine.at(0), 0.0);
  EXPECT_DOUBLE_EQ(cosine.at(5), 5e-4);
  EXPECT_DOUBLE_EQ(cosine.at(10), 1e-3);
  EXPECT_NEAR(cosine.at(60), 5e-4, 1e-15);
  EXPECT_NEAR(cosine.at(110), 0.0, 1e-18);
  EXPECT_NEAR(cosine.at(200), 0.0, 1e-18);
  // A run's schedule: no warm-up, full rate at step 0, 0 at the last step.
  const auto run = nn::LearningRateSchedule::for_run(1e-2, true, 100);
  EXPECT_DOUBLE_EQ(run.at(0), 1e-2);
  EXPECT_NEAR(run.at(50), 5e-3, 1e-15);
  EXPECT_NEAR(run.at(100), 0.0, 1e-18);
  EXPECT_EQ(nn::LearningRateSchedule::for_run(1e-2, false, 100).at(99), 1e-2);
  EXPECT_DOUBLE_EQ(nn::LearningRateSchedule::for_run(1e-2, true, 0).at(0), 1e-2);
}

}  // namespace
}  // namespace eqflow
