// Score model and flow training on a tiny two_peaks set: training lowers the denoising loss,
// the learned score points toward the data, DDIM samples land on the peaks, and flow
// training on the learned score lowers the equilibrium residual (measured with the exact
// divergence on held-out diffused points).
#include <gtest/gtest.h>

#include <cmath>

#include "eqflow/core/batching.hpp"
#include "eqflow/core/error.hpp"
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

// Several training times (t_count): the first loss is the equilibrium loss of one batch whose
// row block k is diffused to and scored at t (k + 1) / K, each block with its own noise stream;
// K = 1 is the single-time trainer.
TEST(FlowTrainer, SeveralTrainingTimesDiffuseEachRowBlockToItsTime) {
  auto& score = trained_score().model;
  const std::size_t n = 96;
  const auto data = two_peaks(n, 4);
  const CounterRng rng(6, 0);
  const auto schedule = diffusion::NoiseSchedule::cosine();
  for (const int blocks : {1, 2, 3}) {
    flow::FlowTrainingSettings settings;
    settings.epochs = 1;
    settings.batch = n;  // one step: its loss is evaluated before the update
    settings.t = 0.3;
    settings.t_count = blocks;
    nn::Model<float> trained(nn::make_flow_kernel<float>(2, 16), 4),
        fresh(nn::make_flow_kernel<float>(2, 16), 4);
    flow::FlowTrainer<float> trainer(trained, score, data, settings, rng);
    trainer.run(1);

    const auto order = random_permutation(n, derive_stream(rng, 1, 0));
    const auto x = test::to_vector(data);
    std::vector<double> xt(n * 2);
    View2<float> all_x("xt", n, 2), all_s("s", n, 2);
    std::vector<double> scores(n * 2);
    for (int k = 0; k < blocks; ++k) {
      const std::size_t r0 = k * n / blocks, r1 = (k + 1) * n / blocks;
      const double t = k + 1 == blocks ? settings.t : settings.t * (k + 1) / blocks;
      const double a = schedule.alpha_bar(schedule.index(t));
      const auto noise = derive_stream(rng, 2, static_cast<std::uint64_t>(k));
      std::vector<double> rows((r1 - r0) * 2);
      for (std::size_t r = r0; r < r1; ++r) {
        for (std::size_t j = 0; j < 2; ++j) {
          const std::size_t i = (r - r0) * 2 + j;
          const float kept =
              static_cast<float>(std::sqrt(a)) * static_cast<float>(x[order[r] * 2 + j]);
          rows[i] =
              kept + static_cast<float>(std::sqrt(1 - a)) * static_cast<float>(noise.normal(i));
        }
      }
      View2<float> bx("bx", r1 - r0, 2), bs("bs", r1 - r0, 2);
      test::from_vector(bx, rows);
      score.score(bx, t, bs);
      const auto sv = test::to_vector(bs);
      for (std::size_t i = 0; i < rows.size(); ++i)
        xt[r0 * 2 + i] = rows[i], scores[r0 * 2 + i] = sv[i];
    }
    test::from_vector(all_x, xt);
    test::from_vector(all_s, scores);
    flow::EquilibriumLoss<float> exact(flow::DivergenceEstimator::Exact);
    const double expected =
        exact.evaluate(fresh, all_x, all_s, derive_stream(rng, 3, 0), 0, nn::Mode::Train, false);
    EXPECT_NEAR(trainer.loss_history().at(0), expected, 1e-6 * std::abs(expected))
        << blocks << " training times";
  }
  flow::FlowTrainingSettings bad;
  bad.batch = 4;
  bad.t_count = 5;
  nn::Model<float> flow(nn::make_flow_kernel<float>(2, 16), 4);
  EXPECT_THROW(flow::FlowTrainer<float>(flow, score, data, bad, rng), Error);
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
