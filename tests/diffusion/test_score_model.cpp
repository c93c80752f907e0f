// Score model and flow training on a tiny two_peaks set: training lowers the denoising loss,
// the learned score points toward the data, DDIM samples land on the peaks, and flow
// training on the learned score lowers the equilibrium residual (measured with the exact
// divergence on held-out diffused points).
#include <gtest/gtest.h>

#include <cmath>

#include "eqflow/diffusion/score_model.hpp"
#include "eqflow/flow/flow_trainer.hpp"
#include "eqflow/systems/toy_systems.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

View2<float> two_peaks(std::size_t n, std::uint64_t seed) {
  systems::TwoPeaksSettings s;
  s.n = n;
  const auto data = systems::make_two_peaks(s, seed);
  View2<float> out("data", data.n, data.d);
  test::from_vector(out, data.values);
  return out;
}

struct TrainedScore {
  diffusion::ScoreModel<float> model{2, 32, diffusion::NoiseSchedule::cosine(), 3};
  std::vector<double> history;
};

TrainedScore& trained_score() {
  static TrainedScore* score = [] {
    auto* s = new TrainedScore;
    diffusion::ScoreTrainingSettings settings;
    settings.epochs = 60;
    settings.batch = 256;
    s->history = s->model.train(two_peaks(2048, 1), settings, CounterRng(5, 0));
    return s;
  }();
  return *score;
}

TEST(ScoreModel, TrainingLowersTheLoss) {
  const auto& h = trained_score().history;
  ASSERT_EQ(h.size(), 60u);
  // eps prediction of an untrained network is ~1 per coordinate; the data's structure is
  // learnable well below that at small t.
  EXPECT_LT(h.back(), 0.8 * h.front());
  double late = 0;
  for (std::size_t i = 50; i < 60; ++i) late += h[i] / 10;
  EXPECT_LT(late, 0.5);
}

TEST(ScoreModel, ScorePointsTowardThePeaks) {
  auto& score = trained_score().model;
  // At small t, s(x) ~ -(x - c) / 0.25 near a peak c; at (2, 2) it points back toward (1, 1).
  View2<float> x("x", 2, 2), s("s", 2, 2);
  test::from_vector(x, {2.0, 2.0, -2.0, -2.0});
  score.score(x, 0.05, s);
  const auto v = test::to_vector(s);
  EXPECT_LT(v[0], 0.0);
  EXPECT_LT(v[1], 0.0);
  EXPECT_GT(v[2], 0.0);
  EXPECT_GT(v[3], 0.0);
}

TEST(ScoreModel, DdimSamplesLandOnThePeaks) {
  auto& score = trained_score().model;
  const auto samples = test::to_vector(score.sample(1000, CounterRng(9, 0), 2));
  std::size_t near = 0;
  for (std::size_t i = 0; i < 1000; ++i) {
    const double x = samples[2 * i], y = samples[2 * i + 1];
    const double d1 = std::hypot(x - 1, y - 1), d2 = std::hypot(x + 1, y + 1);
    near += std::min(d1, d2) < 1.0;  // within 2 std of a peak: 86% of the true distribution
  }
  EXPECT_GT(near, 700u) << "of 1000 DDIM samples";
  // Deterministic: the same stream gives the same samples.
  EXPECT_EQ(test::to_vector(score.sample(1000, CounterRng(9, 0), 2)), samples);
}

TEST(FlowTrainer, LowersTheResidualOnHeldOutPoints) {
  auto& score = trained_score().model;
  const auto data = two_peaks(2048, 1);
  const auto held_out = two_peaks(512, 2);
  nn::Model<float> flow(nn::make_flow_kernel<float>(2, 32), 4);
  flow::FlowTrainingSettings settings;
  settings.epochs = 30;
  settings.batch = 256;
  flow::FlowTrainer<float> trainer(flow, score, data, settings, CounterRng(6, 0));

  // Exact residual on held-out points diffused to t, scores from the model, Train-mode
  // statistics of the held-out batch.
  flow::EquilibriumLoss<float> exact(flow::DivergenceEstimator::Exact);
  const auto schedule = diffusion::NoiseSchedule::cosine();
  const double a = schedule.alpha_bar(schedule.index(settings.t));
  View2<float> xt("xt", 512, 2), s("s", 512, 2);
  auto h = test::to_vector(held_out);
  for (std::size_t i = 0; i < h.size(); ++i) {
    h[i] = std::sqrt(a) * h[i] + std::sqrt(1 - a) * CounterRng(8, 0).normal(i);
  }
  test::from_vector(xt, h);
  score.score(xt, settings.t, s);
  auto residual = [&] {
    return exact.evaluate(flow, xt, s, CounterRng(0, 0), 0, nn::Mode::Train, false);
  };
  const double before = residual();
  trainer.run(settings.epochs);
  const double after = residual();
  EXPECT_EQ(trainer.loss_history().size(), 30u);
  EXPECT_LT(after, 0.2 * before) << "held-out exact residual " << before << " -> " << after;
}

// A run resumed from a checkpointed state continues bit for bit.
TEST(FlowTrainer, ResumingAtAnEpochBoundaryIsExact) {
  auto& score = trained_score().model;
  const auto data = two_peaks(1024, 3);
  flow::FlowTrainingSettings settings;
  settings.epochs = 6;
  settings.batch = 256;
  nn::Model<float> a(nn::make_flow_kernel<float>(2, 16), 4),
      b(nn::make_flow_kernel<float>(2, 16), 4);
  flow::FlowTrainer<float> ta(a, score, data, settings, CounterRng(6, 0));
  ta.run(6);
  flow::FlowTrainer<float> tb(b, score, data, settings, CounterRng(6, 0));
  tb.run(3);
  // "Checkpoint": copy parameters, buffers and moments into a fresh model and trainer.
  nn::Model<float> c(nn::make_flow_kernel<float>(2, 16), 99);
  Kokkos::deep_copy(c.parameters().values(), b.parameters().values());
  Kokkos::deep_copy(c.parameters().buffers(), b.parameters().buffers());
  flow::FlowTrainer<float> tc(c, score, data, settings, CounterRng(6, 0));
  Kokkos::deep_copy(tc.optimizer().first_moment(), tb.optimizer().first_moment());
  Kokkos::deep_copy(tc.optimizer().second_moment(), tb.optimizer().second_moment());
  tc.restore(tb.epoch(), tb.loss_history(), tb.optimizer().steps());
  tc.run(6);
  EXPECT_EQ(test::to_vector(a.parameters().values()), test::to_vector(c.parameters().values()));
  EXPECT_EQ(ta.loss_history(), tc.loss_history());
}

TEST(FlowTrainer, CosineScheduleDecaysTheLearningRateToZero) {
  auto& score = trained_score().model;
  const auto data = two_peaks(1024, 5);
  flow::FlowTrainingSettings settings;
  settings.epochs = 4;
  settings.batch = 256;
  settings.cosine_lr = true;
  nn::Model<float> flow(nn::make_flow_kernel<float>(2, 16), 4);
  flow::FlowTrainer<float> trainer(flow, score, data, settings, CounterRng(6, 0));
  trainer.run(3);
  const auto before = test::to_vector(flow.parameters().values());
  trainer.run(4);  // the last epoch's steps run at learning rates near 0
  const auto after = test::to_vector(flow.parameters().values());
  double change = 0, size = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    change = std::max(change, std::abs(after[i] - before[i]));
    size = std::max(size, std::abs(before[i]));
  }
  EXPECT_LT(change, 0.02 * size);
  EXPECT_EQ(trainer.optimizer().steps(), 16);
}

// Same start, same batches: with the learning rate decaying to 0 the parameters move less
// than at the constant rate.
TEST(ScoreModel, CosineScheduleMovesLessThanTheConstantRate) {
  const auto data = two_peaks(1024, 7);
  diffusion::ScoreTrainingSettings constant;
  constant.epochs = 4;
  constant.batch = 256;
  auto cosine = constant;
  cosine.cosine_lr = true;
  auto moved = [&](const diffusion::ScoreTrainingSettings& settings) {
    diffusion::ScoreModel<float> model(2, 16, diffusion::NoiseSchedule::cosine(), 4);
    const auto start = test::to_vector(model.model().parameters().values());
    model.train(data, settings, CounterRng(8, 0));
    const auto end = test::to_vector(model.model().parameters().values());
    double s = 0;
    for (std::size_t i = 0; i < end.size(); ++i) s += (end[i] - start[i]) * (end[i] - start[i]);
    return std::sqrt(s);
  };
  const double cosine_moved = moved(cosine), constant_moved = moved(constant);
  EXPECT_GT(cosine_moved, 0.0);
  EXPECT_LT(cosine_moved, 0.9 * constant_moved);
}

}  // namespace
}  // namespace eqflow
