// The v-predicting DDPM on fields (diffusion/field_diffusion.hpp) and its trainer: the draws
// are uniform over the steps (chi-square), the loss of a batch is the sum of its shards' losses
// (data parallelism), the score and x0 estimates of the exact model of standard-normal data,
// and samplers whose samples do not depend on how a set is split into calls.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/diffusion/field_trainer.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

nn::UNetConfig small_unet() {
  nn::UNetConfig c;
  c.channels = 2;
  c.block_channels = {8, 16};
  c.layers_per_block = 1;
  return c;
}

TEST(FieldDiffusion, ShardLossesSumToTheBatchLoss) {
  diffusion::FieldDiffusion<double> model(small_unet(), diffusion::NoiseSchedule::linear_betas());
  model.unet().initialize(3);
  const std::size_t n = 5;
  View4<double> x("x", n, 2, 8, 8);
  fill_uniform(x, CounterRng(1, 1), 0, -1.0, 1.0);
  std::vector<std::uint64_t> draws{10, 11, 12, 13, 14};
  const CounterRng rng(7, 9);
  const double normaliser = double(x.size());
  auto& store = model.unet().parameters();
  store.zero_gradients();
  const double whole = model.loss(x, draws, rng, normaliser, true);
  const auto whole_grad = test::to_vector(store.gradients());
  store.zero_gradients();
  double parts = 0;
  for (const auto& [first, last] : {std::pair<std::size_t, std::size_t>{0, 2}, {2, 5}}) {
    const auto shard =
        Kokkos::subview(x, std::make_pair(first, last), Kokkos::ALL, Kokkos::ALL, Kokkos::ALL);
    parts += model.loss(
        shard, std::vector<std::uint64_t>(draws.begin() + long(first), draws.begin() + long(last)),
        rng, normaliser, true);
  }
  EXPECT_NEAR(parts, whole, 1e-12 * whole);
  test::expect_close(test::to_vector(store.gradients()), whole_grad, 1e-14, 1e-10,
                     "sharded gradient");
}

TEST(FieldDiffusion, StepsAreUniformOverTheSchedule) {
  // The step of draw d is floor(U(d) * 100): chi-square over 100 cells of 50,000 draws.
  const CounterRng rng(5, 6);
  std::vector<double> counts(100, 0.0);
  const int draws = 50000;
  for (int d = 0; d < draws; ++d) counts[std::size_t(rng.uniform(std::uint64_t(d)) * 100)] += 1;
  double chi2 = 0;
  for (double c : counts) chi2 += (c - draws / 100.0) * (c - draws / 100.0) / (draws / 100.0);
  // 99 degrees of freedom: P(chi2 > 170) < 1e-5.
  EXPECT_LT(chi2, 170.0);
}

//! For standard-normal data the optimal v-prediction is 0 (E[v | x_t] = sqrt(a) E[eps | x_t] -
//! sqrt(1 - a) E[x0 | x_t] = 0), so a UNet whose last convolution is zero is the exact model:
//! x0_hat = sqrt(a) x and s = -x (the score of N(0, I) at every step).
TEST(FieldDiffusion, ScoreAndDenoisedEstimateOfTheExactModelOfNormalData) {
  diffusion::FieldDiffusion<double> model(small_unet(), diffusion::NoiseSchedule::linear_betas());
  auto& store = model.unet().parameters();
  auto values = test::to_vector(store.values());
  for (const auto& slot : store.parameter_slots()) {
    if (slot.name.rfind("conv_out.", 0) == 0) {
      std::fill(values.begin() + long(slot.offset),
                values.begin() + long(slot.offset + slot.size()), 0.0);
    }
  }
  test::from_vector(store.values(), values);
  View4<double> x("x", 2, 2, 8, 4), s("s", 2, 2, 8, 4), x0("x0", 2, 2, 8, 4);
  fill_normal(x, CounterRng(2, 2), 0);
  const auto xs = test::to_vector(x);
  for (int step : {0, 10, 99}) {
    model.score(x, step, s);
    model.denoise(x, step, x0);
    const double root = std::sqrt(model.schedule().alpha_bar(step));
    std::vector<double> minus_x(xs.size()), scaled(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) minus_x[i] = -xs[i], scaled[i] = root * xs[i];
    test::expect_close(test::to_vector(s), minus_x, 1e-14, 1e-14, "score");
    test::expect_close(test::to_vector(x0), scaled, 1e-14, 1e-14, "x0_hat");
  }
}

TEST(FieldDiffusion, SamplesDoNotDependOnTheSplitAndStayInRange) {
  diffusion::FieldDiffusion<double> model(small_unet(), diffusion::NoiseSchedule::linear_betas());
  model.unet().initialize(4);
  const CounterRng rng(8, 1);
  for (const auto sampler : {diffusion::FieldSampler::Ddpm, diffusion::FieldSampler::Ddim}) {
    View4<double> all("all", 3, 2, 8, 8);
    model.sample(all, sampler, 20, rng, 0);
    const auto together = test::to_vector(all);
    std::vector<double> apart;
    for (std::uint64_t first = 0; first < 3; ++first) {
      View4<double> one("one", 1, 2, 8, 8);
      model.sample(one, sampler, 20, rng, first);
      const auto v = test::to_vector(one);
      apart.insert(apart.end(), v.begin(), v.end());
    }
    test::expect_close(apart, together, 1e-12, 1e-12, diffusion::to_string(sampler));
    EXPECT_LE(*std::max_element(together.begin(), together.end()), 1.0);
    EXPECT_GE(*std::min_element(together.begin(), together.end()), -1.0);
  }
  EXPECT_THROW(diffusion::parse_field_sampler("euler"), Error);
}

TEST(FieldScoreTrainer, EpochsVisitEverySampleOnceInAnOrderOfTheirOwn) {
  diffusion::FieldDiffusion<float> model(small_unet(), diffusion::NoiseSchedule::linear_betas());
  diffusion::FieldSource<float> source;
  source.train = 37;
  source.shape = nn::FieldShape{2, 8, 8};
  source.load = [](const std::vector<std::int64_t>&, const View4<float>&) {};
  diffusion::FieldTrainingSettings settings;
  settings.batch = 8;
  diffusion::FieldScoreTrainer<float> trainer(model, settings, source, CounterRng(1, 2));
  EXPECT_EQ(trainer.steps_per_epoch(), 5);
  const auto a = trainer.epoch_order(0), b = trainer.epoch_order(1);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> all(37);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(sorted, all);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace eqflow
