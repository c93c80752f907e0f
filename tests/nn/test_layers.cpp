// Finite-difference checks of forward, backward, forward_tangent and backward_tangent of every
// layer, in each batch-norm mode.
#include <gtest/gtest.h>

#include <cmath>

#include "eqflow/core/error.hpp"
#include "eqflow/nn/activation.hpp"
#include "eqflow/nn/batch_norm.hpp"
#include "eqflow/nn/dense.hpp"
#include "eqflow/nn/fourier_encoding.hpp"
#include "eqflow/nn/sequential.hpp"
#include "support/layer_check.hpp"

namespace eqflow {
namespace {

using nn::Mode;
using test::check_layer_derivatives;
using test::LayerCheckOptions;

LayerCheckOptions in_mode(Mode mode) {
  LayerCheckOptions opt;
  opt.mode = mode;
  return opt;
}

TEST(LayerDerivatives, Dense) {
  check_layer_derivatives(std::make_unique<nn::Dense<double>>(3, 4), {});
  check_layer_derivatives(std::make_unique<nn::Dense<double>>(5, 2, false), {});
  LayerCheckOptions one;
  one.batch = 1;
  one.probes = 1;
  check_layer_derivatives(std::make_unique<nn::Dense<double>>(1, 1), one);
}

TEST(LayerDerivatives, ReLU) {
  check_layer_derivatives(std::make_unique<nn::ReLU<double>>(4), {});
}

TEST(LayerDerivatives, SiLU) {
  check_layer_derivatives(std::make_unique<nn::SiLU<double>>(4), {});
}

TEST(LayerDerivatives, FourierEncoding) {
  check_layer_derivatives(std::make_unique<nn::FourierEncoding<double>>(3, 4), {});
  check_layer_derivatives(std::make_unique<nn::FourierEncoding<double>>(2, 1), {});
}

TEST(LayerDerivatives, BatchNormAffine) {
  for (Mode mode : {Mode::Train, Mode::Eval, Mode::Frozen}) {
    SCOPED_TRACE(static_cast<int>(mode));
    check_layer_derivatives(std::make_unique<nn::BatchNorm<double>>(4, true), in_mode(mode));
  }
}

TEST(LayerDerivatives, BatchNormWithoutAffine) {
  for (Mode mode : {Mode::Train, Mode::Eval, Mode::Frozen}) {
    SCOPED_TRACE(static_cast<int>(mode));
    check_layer_derivatives(std::make_unique<nn::BatchNorm<double>>(3, false), in_mode(mode));
  }
}

TEST(LayerDerivatives, SequentialInterleavesPrimalAndTangentAdjoints) {
  auto net = std::make_unique<nn::Sequential<double>>(3);
  net->emplace<nn::Dense<double>>(3, 6)
      .emplace<nn::SiLU<double>>(6)
      .emplace<nn::BatchNorm<double>>(6, true)
      .emplace<nn::Dense<double>>(6, 2)
      .emplace<nn::BatchNorm<double>>(2, false);
  check_layer_derivatives(std::move(net), {});
}

TEST(LayerDerivatives, SequentialStartingWithoutParameters) {
  auto net = std::make_unique<nn::Sequential<double>>(2);
  net->emplace<nn::SiLU<double>>(2).emplace<nn::Dense<double>>(2, 3).emplace<nn::SiLU<double>>(3);
  check_layer_derivatives(std::move(net), {});
}

TEST(LayerDerivatives, Residual) {
  auto inner = std::make_unique<nn::Sequential<double>>(4);
  inner->emplace<nn::Dense<double>>(4, 5).emplace<nn::SiLU<double>>(5).emplace<nn::Dense<double>>(
      5, 3);
  check_layer_derivatives(std::make_unique<nn::Residual<double>>(std::move(inner)), {});
}

// The encoding computes one sin/cos and doubles the angle: compare with direct evaluation.
template <class Scalar>
void check_fourier_values(double tolerance) {
  nn::Model<Scalar> model(std::make_unique<nn::FourierEncoding<Scalar>>(2, 4), 1);
  View2<Scalar> x("x", 50, 2), y("y", 50, 18);
  fill_uniform(x, CounterRng(2, 2), 0, Scalar(-10), Scalar(10));
  model.forward(x, y, Mode::Eval);
  const auto hx = test::to_vector(x), hy = test::to_vector(y);
  std::vector<double> expected(hy.size());
  for (std::size_t b = 0; b < 50; ++b) {
    for (std::size_t c = 0; c < 2; ++c) {
      const double v = hx[b * 2 + c];
      expected[b * 18 + c] = v;
      for (int j = 0; j < 4; ++j) {
        expected[b * 18 + (1 + 2 * j) * 2 + c] = std::sin(std::ldexp(v, j));
        expected[b * 18 + (2 + 2 * j) * 2 + c] = std::cos(std::ldexp(v, j));
      }
    }
  }
  test::expect_close(hy, expected, tolerance, 0.0, "Fourier features");
}

TEST(Layers, FourierFeaturesMatchDirectEvaluation) {
  check_fourier_values<double>(1e-13);
  check_fourier_values<float>(2e-5);
}

TEST(Layers, RejectMismatchedShapes) {
  nn::Sequential<double> net(3);
  net.emplace<nn::Dense<double>>(3, 4);
  EXPECT_THROW(net.emplace<nn::Dense<double>>(5, 2), ShapeError);
  nn::Model<double> model(std::make_unique<nn::Dense<double>>(3, 4), 1);
  View2<double> x("x", 2, 5), y("y", 2, 4);
  EXPECT_THROW(model.forward(x, y, Mode::Train), ShapeError);
  nn::Model<double> norm(std::make_unique<nn::BatchNorm<double>>(2, false), 1);
  View2<double> one("one", 1, 2), out("out", 1, 2);
  EXPECT_THROW(norm.forward(one, out, Mode::Train), ShapeError);
}

}  // namespace
}  // namespace eqflow
