// The reference models of DESIGN.md section 2: structure, finite-difference checks of all four
// operations, batch-norm statistics semantics, float32 vs float64 forward consistency, and the
// float -> double parameter copy.
#include <gtest/gtest.h>

#include <cmath>

#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/nn/batch_norm.hpp"
#include "eqflow/nn/model.hpp"
#include "support/layer_check.hpp"

namespace eqflow {
namespace {

using nn::Mode;
using test::check_layer_derivatives;

TEST(Models, ReferenceShapesAndParameterCounts) {
  nn::Model<float> flow(nn::make_flow_kernel<float>(3), 1);
  // Fourier 3 -> 27, 27*64+64, 64*64+64, 64*3+3; the final batch norm has no parameters.
  EXPECT_EQ(flow.parameters().num_parameters(), 27u * 64 + 64 + 64 * 64 + 64 + 64 * 3 + 3);
  EXPECT_EQ(flow.parameters().num_buffers(), 6u);  // running mean and variance
  EXPECT_EQ(flow.parameters().parameter_slots().front().name, "layers.1.weight");
  nn::Model<float> score(nn::make_score_mlp<float>(2), 1);
  EXPECT_EQ(score.in_features(), 3u);
  EXPECT_EQ(score.out_features(), 2u);
  EXPECT_EQ(score.parameters().num_parameters(), 3u * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2);
  nn::Model<float> mlp(nn::make_flow_mlp<float>(2), 1);
  EXPECT_EQ(mlp.parameters().num_parameters(), 2u * 64 + 64 + 2 * (64 * 64 + 64) + 64 * 2 + 2);
}

TEST(ModelDerivatives, FlowKernelWithFinalBatchNorm) {
  test::LayerCheckOptions opt;
  opt.batch = 6;
  check_layer_derivatives(nn::make_flow_kernel<double>(3, 8), opt);
  opt.mode = Mode::Eval;
  check_layer_derivatives(nn::make_flow_kernel<double>(2, 8), opt);
}

TEST(ModelDerivatives, FlowMlp) {
  check_layer_derivatives(nn::make_flow_mlp<double>(2, 8), {});
}

TEST(ModelDerivatives, ScoreMlp) {
  check_layer_derivatives(nn::make_score_mlp<double>(2, 8), {});
}

TEST(BatchNorm, TrainingNormalisesAndUpdatesRunningStatistics) {
  const std::size_t batch = 64, n = 3;
  nn::Model<double> model(std::make_unique<nn::BatchNorm<double>>(n, false), 1);
  auto& bn = static_cast<nn::BatchNorm<double>&>(model.net());
  View2<double> x("x", batch, n), y("y", batch, n);
  fill_normal(x, CounterRng(9, 0), 0);
  auto hx = test::to_vector(x);
  for (std::size_t i = 0; i < hx.size(); ++i) hx[i] = 2.0 + 3.0 * hx[i];
  test::from_vector(x, hx);
  model.forward(x, y, Mode::Train);
  const auto hy = test::to_vector(y);
  std::vector<double> mean(n, 0), var(n, 0);
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t f = 0; f < n; ++f) mean[f] += hx[b * n + f] / batch;
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t f = 0; f < n; ++f) var[f] += std::pow(hx[b * n + f] - mean[f], 2);
  const auto rm = test::to_vector(bn.running_mean()), rv = test::to_vector(bn.running_var());
  for (std::size_t f = 0; f < n; ++f) {
    double ym = 0, yv = 0;
    for (std::size_t b = 0; b < batch; ++b) ym += hy[b * n + f] / batch;
    for (std::size_t b = 0; b < batch; ++b) yv += std::pow(hy[b * n + f] - ym, 2) / batch;
    EXPECT_NEAR(ym, 0.0, 1e-12);
    EXPECT_NEAR(yv, var[f] / batch / (var[f] / batch + 1e-5), 1e-12);
    // momentum 0.1, unbiased variance, from the initial (0, 1)
    EXPECT_NEAR(rm[f], 0.1 * mean[f], 1e-12);
    EXPECT_NEAR(rv[f], 0.9 + 0.1 * var[f] / (batch - 1), 1e-12);
  }
  // Evaluation mode uses the running statistics.
  model.forward(x, y, Mode::Eval);
  const auto he = test::to_vector(y);
  for (std::size_t f = 0; f < n; ++f) {
    EXPECT_NEAR(he[f], (hx[f] - rm[f]) / std::sqrt(rv[f] + 1e-5), 1e-12);
  }
}

TEST(Models, FloatAndDoubleForwardAgree) {
  const std::size_t batch = 128, d = 3;
  nn::Model<float> mf(nn::make_flow_kernel<float>(d), 5);
  nn::Model<double> md(nn::make_flow_kernel<double>(d), 5);
  // Same initialisation up to float rounding of the same counter-based draws.
  test::expect_close(test::to_vector(mf.parameters().values()),
                     test::to_vector(md.parameters().values()), 1e-7, 1e-6, "initial parameters");
  View2<float> xf("xf", batch, d), yf("yf", batch, d), tf("tf", d * batch, d),
      tyf("tyf", d * batch, d);
  View2<double> xd("xd", batch, d), yd("yd", batch, d), td("td", d * batch, d),
      tyd("tyd", d * batch, d);
  fill_normal(xd, CounterRng(6, 0), 0);
  fill_normal(td, CounterRng(6, 1), 0);
  test::from_vector(xf, test::to_vector(xd));
  test::from_vector(tf, test::to_vector(td));
  for (Mode mode : {Mode::Train, Mode::Eval}) {
    mf.forward(xf, yf, mode);
    md.forward(xd, yd, mode);
    mf.forward_tangent(tf, tyf);
    md.forward_tangent(td, tyd);
    test::expect_close(test::to_vector(yf), test::to_vector(yd), 2e-4, 2e-4, "forward");
    test::expect_close(test::to_vector(tyf), test::to_vector(tyd), 2e-4, 2e-4, "forward_tangent");
  }
  nn::Model<float> sf(nn::make_score_mlp<float>(2), 8);
  nn::Model<double> sd(nn::make_score_mlp<double>(2), 8);
  View2<float> zf("zf", batch, 3), of("of", batch, 2);
  View2<double> zd("zd", batch, 3), od("od", batch, 2);
  fill_normal(zd, CounterRng(7, 0), 0);
  test::from_vector(zf, test::to_vector(zd));
  sf.forward(zf, of, Mode::Train);
  sd.forward(zd, od, Mode::Train);
  test::expect_close(test::to_vector(of), test::to_vector(od), 1e-5, 1e-5, "score forward");
}

TEST(Models, InitialisationIsAPureFunctionOfTheSeed) {
  nn::Model<double> a(nn::make_flow_kernel<double>(2), 3), b(nn::make_flow_kernel<double>(2), 3),
      c(nn::make_flow_kernel<double>(2), 4);
  EXPECT_EQ(test::to_vector(a.parameters().values()), test::to_vector(b.parameters().values()));
  EXPECT_NE(test::to_vector(a.parameters().values()), test::to_vector(c.parameters().values()));
  // PyTorch's Linear default: |w| <= 1/sqrt(fan_in) for the first dense layer (fan_in 18).
  const auto p = test::to_vector(a.parameters().values());
  for (std::size_t i = 0; i < 18 * 64; ++i) ASSERT_LE(std::abs(p[i]), 1.0 / std::sqrt(18.0));
}

TEST(Models, CopyParametersFromFloatToDouble) {
  nn::Model<float> source(nn::make_flow_kernel<float>(3, 8), 21);
  View2<float> batch("batch", 64, 3), out("out", 64, 3);
  fill_normal(batch, CounterRng(14, 0), 0);
  source.forward(batch, out, nn::Mode::Train);  // running statistics differ from (0, 1)
  nn::Model<double> target(nn::make_flow_kernel<double>(3, 8), 99);
  nn::copy_parameters(source, target);
  test::expect_close(test::to_vector(target.parameters().values()),
                     test::to_vector(source.parameters().values()), 0.0, 0.0, "values");
  test::expect_close(test::to_vector(target.parameters().buffers()),
                     test::to_vector(source.parameters().buffers()), 0.0, 0.0, "buffers");
  View2<float> xf("xf", 8, 3), vf("vf", 8, 3);
  View2<double> xd("xd", 8, 3), vd("vd", 8, 3);
  fill_normal(xf, CounterRng(14, 1), 0);
  fill_normal(xd, CounterRng(14, 1), 0);
  source.forward(xf, vf, nn::Mode::Eval);
  target.forward(xd, vd, nn::Mode::Eval);
  test::expect_close(test::to_vector(vd), test::to_vector(vf), 1e-4, 1e-4, "forward");
  nn::Model<double> other(nn::make_flow_kernel<double>(2, 8), 1);
  EXPECT_THROW(nn::copy_parameters(source, other), ShapeError);
}

}  // namespace
}  // namespace eqflow
