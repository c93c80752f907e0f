// The equilibrium loss and the score model's denoising loss: parameter gradients against
// finite differences (double), exact divergence against the trace of a finite-difference
// per-sample Jacobian, and statistical tests of the Hutchinson and unbiased estimators.
#include <gtest/gtest.h>

#include <cmath>

#include "eqflow/core/error.hpp"
#include "eqflow/diffusion/denoising_loss.hpp"
#include "eqflow/flow/equilibrium_loss.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

using flow::DivergenceEstimator;
using nn::Mode;

struct Points {
  View2<double> x, s;
};

// Points and a smooth, non-trivial "score" field s(x) = -x + 0.3 sin(x_{j+1}).
Points make_points(std::size_t batch, std::size_t d, std::uint64_t seed) {
  Points p{View2<double>("x", batch, d), View2<double>("s", batch, d)};
  fill_normal(p.x, CounterRng(seed, 0), 0);
  auto hx = test::to_vector(p.x);
  std::vector<double> hs(hx.size());
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t j = 0; j < d; ++j)
      hs[b * d + j] = -hx[b * d + j] + 0.3 * std::sin(hx[b * d + (j + 1) % d]);
  test::from_vector(p.s, hs);
  return p;
}

void check_loss_gradient(std::unique_ptr<nn::Layer<double>> net, DivergenceEstimator estimator,
                         int probes, Mode mode) {
  nn::Model<double> model(std::move(net), 3);
  const std::size_t d = model.in_features();
  const auto pts = make_points(8, d, 4);
  flow::EquilibriumLoss<double> loss(estimator, probes);
  const CounterRng rng(5, 17);
  if (mode != Mode::Train) loss.evaluate(model, pts.x, pts.s, rng, 0, Mode::Train, false);
  model.zero_gradients();
  const double value = loss.evaluate(model, pts.x, pts.s, rng, 0, mode, true);
  EXPECT_TRUE(std::isfinite(value));
  const auto analytic = test::to_vector(model.parameters().gradients());
  const auto numeric = test::finite_difference(
      model.parameters().values(),
      [&] { return loss.evaluate(model, pts.x, pts.s, rng, 0, mode, false); }, 1e-5);
  test::expect_close(analytic, numeric, 1e-6, 1e-6, "loss gradient " + flow::to_string(estimator));
}

TEST(EquilibriumLoss, GradientExactDivergence) {
  check_loss_gradient(nn::make_flow_kernel<double>(2, 8), DivergenceEstimator::Exact, 0,
                      Mode::Train);
  check_loss_gradient(nn::make_flow_kernel<double>(3, 6), DivergenceEstimator::Exact, 0,
                      Mode::Train);
  check_loss_gradient(nn::make_flow_mlp<double>(3, 6), DivergenceEstimator::Exact, 0, Mode::Train);
  check_loss_gradient(nn::make_flow_kernel<double>(2, 8), DivergenceEstimator::Exact, 0,
                      Mode::Eval);
}

TEST(EquilibriumLoss, GradientHutchinson) {
  check_loss_gradient(nn::make_flow_kernel<double>(2, 8), DivergenceEstimator::Hutchinson, 3,
                      Mode::Train);
  check_loss_gradient(nn::make_flow_kernel<double>(3, 6), DivergenceEstimator::Hutchinson, 1,
                      Mode::Train);
}

TEST(EquilibriumLoss, GradientUnbiased) {
  check_loss_gradient(nn::make_flow_kernel<double>(2, 8), DivergenceEstimator::Unbiased, 4,
                      Mode::Train);
  check_loss_gradient(nn::make_flow_mlp<double>(2, 6), DivergenceEstimator::Unbiased, 2,
                      Mode::Train);
}

// div v(x_b) = trace of the per-sample Jacobian with the batch statistics held at the
// primal pass's values (DESIGN.md 1.2), by central differences sample by sample.
TEST(EquilibriumLoss, ExactDivergenceIsTheTraceOfTheJacobian) {
  for (Mode mode : {Mode::Train, Mode::Eval}) {
    nn::Model<double> model(nn::make_flow_kernel<double>(3, 16), 9);
    const std::size_t batch = 12, d = 3;
    const auto pts = make_points(batch, d, 2);
    if (mode == Mode::Eval) {
      fill_uniform(model.parameters().buffers(), CounterRng(1, 1), 0, 0.2, 1.2);
    }
    flow::EquilibriumLoss<double> loss(DivergenceEstimator::Exact);
    loss.evaluate(model, pts.x, pts.s, CounterRng(1, 0), 0, mode, false);
    const auto div = test::to_vector(loss.divergence());
    const Mode constant_stats = mode == Mode::Train ? Mode::Frozen : Mode::Eval;
    const auto x0 = test::to_vector(pts.x);
    View2<double> xs("xs", batch, d), vs("vs", batch, d);
    const double h = 1e-6;
    std::vector<double> trace(batch, 0.0);
    for (std::size_t i = 0; i < d; ++i) {
      // Perturb coordinate i of one sample at a time: sample b's row only sees its own x_b.
      for (std::size_t b = 0; b < batch; ++b) {
        auto up = x0, down = x0;
        up[b * d + i] += h;
        down[b * d + i] -= h;
        test::from_vector(xs, up);
        model.forward(xs, vs, constant_stats);
        const double vu = test::to_vector(vs)[b * d + i];
        test::from_vector(xs, down);
        model.forward(xs, vs, constant_stats);
        const double vd = test::to_vector(vs)[b * d + i];
        trace[b] += (vu - vd) / (2 * h);
      }
    }
    test::expect_close(div, trace, 1e-7, 1e-7, "exact divergence vs FD trace");
  }
}

// The batch statistics couple samples: the per-sample divergence must not see the O(1) term
// that pushing a tangent through the statistics would add. With statistics recomputed, the FD
// trace differs from ours by O(1/N) only, and it differs visibly for a tiny batch.
TEST(EquilibriumLoss, DivergenceIgnoresTheStatisticsDependenceOnTheSampleItself) {
  nn::Model<double> model(nn::make_flow_kernel<double>(2, 16), 4);
  const std::size_t batch = 4, d = 2;
  const auto pts = make_points(batch, d, 8);
  flow::EquilibriumLoss<double> loss(DivergenceEstimator::Exact);
  loss.evaluate(model, pts.x, pts.s, CounterRng(1, 0), 0, Mode::Train, false);
  const auto div = test::to_vector(loss.divergence());
  const auto x0 = test::to_vector(pts.x);
  View2<double> xs("xs", batch, d), vs("vs", batch, d);
  double max_gap = 0;
  for (std::size_t b = 0; b < batch; ++b) {
    double trace = 0;
    for (std::size_t i = 0; i < d; ++i) {
      auto up = x0, down = x0;
      up[b * d + i] += 1e-6;
      down[b * d + i] -= 1e-6;
      test::from_vector(xs, up);
      model.forward(xs, vs, Mode::Train);
      const double vu = test::to_vector(vs)[b * d + i];
      test::from_vector(xs, down);
      model.forward(xs, vs, Mode::Train);
      trace += (vu - test::to_vector(vs)[b * d + i]) / 2e-6;
    }
    max_gap = std::max(max_gap, std::abs(trace - div[b]));
  }
  EXPECT_GT(max_gap, 1e-3);
}

// E[Hutchinson estimate] = exact divergence, sample by sample: over M independent probe
// streams, |mean - exact| < 5 standard errors for every sample (a false alarm has
// probability < 1e-5 for 16 samples).
TEST(EquilibriumLoss, HutchinsonIsUnbiasedForTheDivergence) {
  nn::Model<double> model(nn::make_flow_kernel<double>(3, 16), 2);
  const std::size_t batch = 16, d = 3;
  const int streams = 400;
  const auto pts = make_points(batch, d, 3);
  flow::EquilibriumLoss<double> exact(DivergenceEstimator::Exact);
  exact.evaluate(model, pts.x, pts.s, CounterRng(0, 0), 0, Mode::Train, false);
  const auto truth = test::to_vector(exact.divergence());
  flow::EquilibriumLoss<double> hutch(DivergenceEstimator::Hutchinson, 10);
  std::vector<double> sum(batch, 0), sum2(batch, 0);
  for (int m = 0; m < streams; ++m) {
    hutch.evaluate(model, pts.x, pts.s, CounterRng(77, m), 0, Mode::Train, false);
    const auto est = test::to_vector(hutch.divergence());
    for (std::size_t b = 0; b < batch; ++b) {
      sum[b] += est[b];
      sum2[b] += est[b] * est[b];
    }
  }
  for (std::size_t b = 0; b < batch; ++b) {
    const double mean = sum[b] / streams;
    const double sd = std::sqrt(std::max(0.0, sum2[b] / streams - mean * mean));
    EXPECT_LT(std::abs(mean - truth[b]), 5 * sd / std::sqrt(streams) + 1e-12)
        << "sample " << b << ": mean " << mean << " exact " << truth[b] << " sd " << sd;
    EXPECT_GT(sd, 0.0);
  }
}

// E[mean(r1 r2)] = mean(r^2) with the exact residual: the unbiased estimator's loss, against
// the plain Hutchinson loss whose expectation exceeds it by the estimator's variance.
TEST(EquilibriumLoss, UnbiasedLossMatchesTheExactLossInExpectation) {
  nn::Model<double> model(nn::make_flow_kernel<double>(2, 16), 6);
  const auto pts = make_points(32, 2, 5);
  flow::EquilibriumLoss<double> exact(DivergenceEstimator::Exact);
  const double truth = exact.evaluate(model, pts.x, pts.s, CounterRng(0, 0), 0, Mode::Train, false);
  flow::EquilibriumLoss<double> unbiased(DivergenceEstimator::Unbiased, 2);
  flow::EquilibriumLoss<double> hutch(DivergenceEstimator::Hutchinson, 2);
  const int streams = 2000;
  double sum = 0, sum2 = 0, biased = 0;
  for (int m = 0; m < streams; ++m) {
    const double u =
        unbiased.evaluate(model, pts.x, pts.s, CounterRng(13, m), 0, Mode::Train, false);
    sum += u;
    sum2 += u * u;
    biased += hutch.evaluate(model, pts.x, pts.s, CounterRng(13, m), 0, Mode::Train, false);
  }
  const double mean = sum / streams;
  const double se = std::sqrt((sum2 / streams - mean * mean) / streams);
  EXPECT_LT(std::abs(mean - truth), 5 * se)
      << "mean " << mean << " exact " << truth << " se " << se;
  EXPECT_GT(biased / streams, truth + 5 * se);
}

// Probes are functions of the global sample index: a shard evaluated with its offset sees the
// probes the whole batch would (evaluation mode, so samples do not interact).
TEST(EquilibriumLoss, ProbesDependOnGlobalSampleIndexOnly) {
  nn::Model<double> model(nn::make_flow_kernel<double>(2, 8), 1);
  const auto pts = make_points(10, 2, 1);
  flow::EquilibriumLoss<double> whole(DivergenceEstimator::Hutchinson, 4),
      part(DivergenceEstimator::Hutchinson, 4);
  const CounterRng rng(3, 3);
  whole.evaluate(model, pts.x, pts.s, rng, 100, Mode::Eval, false);
  auto x_tail = Kokkos::subview(pts.x, std::pair<std::size_t, std::size_t>(6, 10), Kokkos::ALL);
  auto s_tail = Kokkos::subview(pts.s, std::pair<std::size_t, std::size_t>(6, 10), Kokkos::ALL);
  View2<double> xt("xt", 4, 2), st("st", 4, 2);
  Kokkos::deep_copy(xt, x_tail);
  Kokkos::deep_copy(st, s_tail);
  part.evaluate(model, xt, st, rng, 106, Mode::Eval, false);
  const auto all = test::to_vector(whole.divergence()), tail = test::to_vector(part.divergence());
  for (std::size_t b = 0; b < 4; ++b) EXPECT_DOUBLE_EQ(tail[b], all[6 + b]);
}

TEST(EquilibriumLoss, RejectsBadSettings) {
  EXPECT_THROW(flow::EquilibriumLoss<double>(DivergenceEstimator::Unbiased, 3), Error);
  EXPECT_THROW(flow::EquilibriumLoss<double>(DivergenceEstimator::Hutchinson, 0), Error);
  EXPECT_THROW(flow::parse_divergence_estimator("trace"), Error);
  EXPECT_EQ(flow::parse_divergence_estimator("unbiased"), DivergenceEstimator::Unbiased);
}

TEST(DenoisingLoss, GradientMatchesFiniteDifferences) {
  nn::Model<double> model(nn::make_score_mlp<double>(2, 8), 12);
  diffusion::DenoisingLoss<double> loss(diffusion::NoiseSchedule::cosine());
  View2<double> x0("x0", 16, 2);
  fill_normal(x0, CounterRng(4, 4), 0);
  const CounterRng rng(8, 1);
  model.zero_gradients();
  const double value = loss.evaluate(model, x0, rng, 0, true);
  EXPECT_GT(value, 0.0);
  const auto analytic = test::to_vector(model.parameters().gradients());
  const auto numeric = test::finite_difference(
      model.parameters().values(), [&] { return loss.evaluate(model, x0, rng, 0, false); }, 1e-5);
  test::expect_close(analytic, numeric, 1e-7, 1e-6, "denoising loss gradient");
  EXPECT_DOUBLE_EQ(loss.evaluate(model, x0, rng, 0, false), value);  // pure function of rng
}

TEST(NoiseSchedule, CosineMatchesTheReference) {
  const auto s = diffusion::NoiseSchedule::cosine(100, 1e-3);
  EXPECT_EQ(s.steps(), 100);
  EXPECT_NEAR(s.alpha_bar(0), 1 - 1e-3, 1e-15);
  EXPECT_NEAR(s.alpha_bar(99), 1e-3, 1e-15);
  EXPECT_NEAR(s.alpha_bar(19), (std::cos(M_PI * 19 / 99) * 0.998 + 1) / 2, 1e-15);
  EXPECT_EQ(s.index(0.2), 19);
  EXPECT_EQ(s.index(1.0), 99);
  EXPECT_EQ(s.index(0.0), 0);
  const auto lin = diffusion::NoiseSchedule::linear_betas(100, 1e-4, 0.1);
  EXPECT_NEAR(lin.alpha_bar(0), 1 - 1e-4, 1e-15);
  EXPECT_NEAR(lin.alpha_bar(1), (1 - 1e-4) * (1 - (1e-4 + (0.1 - 1e-4) / 99)), 1e-15);
}

}  // namespace
}  // namespace eqflow
