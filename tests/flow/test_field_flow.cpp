// The trained flow model on fields (nn/field_flow.hpp): the symmetric stencil against a plain
// circular 3x3 convolution and its adjoint identity; forward_tangent against finite differences
// of the per-sample map with batch statistics frozen (DESIGN.md 1.2), and backward_dual's
// parameter and input gradients against finite differences of a loss of v and its tangents
// with the statistics live; and the PyTorch cross-check of the reference loss
// (tests/data/field_flow_crosscheck.h5, written by bench/field_flow_torch.py crosscheck).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/flow/field_flow.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/nn/field_flow.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

using nn::FieldFlowConfig;
using nn::FieldFlowNetwork;
using nn::Mode;

View4<double> random_field(std::size_t n, std::size_t c, std::size_t h, std::size_t w,
                           std::uint64_t stream, double scale = 1.0) {
  View4<double> x("x", n, c, h, w);
  fill_normal(x, CounterRng(7, stream), 0);
  if (scale != 1.0) {
    auto v = test::to_vector(x);
    for (auto& e : v) e *= scale;
    test::from_vector(x, v);
  }
  return x;
}

//! Moves the batch-norm gammas and betas away from 1 and 0, so they matter in the checks.
void perturb_parameters(nn::ParameterStore<double>& store) {
  auto values = test::to_vector(store.values());
  const CounterRng rng(3, 3);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] += 0.3 * rng.normal(i);
  test::from_vector(store.values(), values);
}

TEST(FieldFlow, SymmetricStencilIsACircularConvolution) {
  const std::size_t n = 2, c = 3, h = 5, w = 6, hidden = 4;
  const auto x = random_field(n, c, h, w, 1);
  View2<double> features("features", n * h * w, 3 * c);
  nn::symmetric_stencil<double>(x, features);
  const auto f = test::to_vector(features), xv = test::to_vector(x);
  // A plain circular 3x3 convolution with weights W[o][i][dy][dx] = P[o][cls * C + i].
  std::vector<double> p(hidden * 3 * c);
  for (std::size_t j = 0; j < p.size(); ++j) p[j] = CounterRng(5, 5).normal(j);
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t xx = 0; xx < w; ++xx)
        for (std::size_t o = 0; o < hidden; ++o) {
          double conv = 0, via_features = 0;
          for (std::size_t i = 0; i < c; ++i)
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx) {
                const std::size_t cls = std::size_t(std::abs(dy) + std::abs(dx));
                const std::size_t yy = (y + h + dy) % h, xs = (xx + w + dx) % w;
                conv += p[o * 3 * c + cls * c + i] * xv[((s * c + i) * h + yy) * w + xs];
              }
          for (std::size_t j = 0; j < 3 * c; ++j) {
            via_features += p[o * 3 * c + j] * f[((s * h + y) * w + xx) * 3 * c + j];
          }
          ASSERT_NEAR(via_features, conv, 1e-12) << s << " " << y << " " << xx << " " << o;
        }
  // Adjoint identity <stencil x, g> = <x, stencil^T g>.
  View2<double> g("g", n * h * w, 3 * c);
  fill_normal(g, CounterRng(9, 9), 0);
  View4<double> gx("gx", n, c, h, w);
  nn::symmetric_stencil_adjoint<double>(g, gx);
  EXPECT_NEAR(test::dot(features, g), test::dot(x, gx), 1e-10 * std::abs(test::dot(x, gx)));
  // The transposes are inverse to each other.
  View2<double> rows("rows", n * h * w, c);
  View4<double> back("back", n, c, h, w);
  nn::field_to_rows<double>(x, rows);
  nn::rows_to_field<double>(rows, back);
  EXPECT_EQ(test::to_vector(back), xv);
}

class FieldFlowDerivatives : public ::testing::TestWithParam<bool> {};

TEST_P(FieldFlowDerivatives, TangentsAndGradientsMatchFiniteDifferences) {
  const bool final_norm = GetParam();
  const std::size_t n = 3, c = 2, h = 4, w = 5, hidden = 6, k = 2, d = c * h * w;
  FieldFlowNetwork<double> net(FieldFlowConfig{c, hidden, final_norm}, 21);
  perturb_parameters(net.parameters());
  const auto x = random_field(n, c, h, w, 2);
  const auto tx = random_field(k * n, c, h, w, 3);
  View2<double> v("v", n * h * w, c), ty("ty", k * n * h * w, c);

  // forward_tangent: per sample, (f(x + e t) - f(x - e t)) / 2e with the statistics of x.
  net.forward(x, v, Mode::Train);
  net.forward_tangent(tx, ty);
  const auto ty_values = test::to_vector(ty);
  const auto x0 = test::to_vector(x), t0 = test::to_vector(tx);
  std::vector<double> fd(ty_values.size());
  const double e = 1e-6;
  for (std::size_t j = 0; j < k; ++j) {
    std::vector<double> up(x0), down(x0);
    for (std::size_t i = 0; i < n * d; ++i) {
      up[i] += e * t0[j * n * d + i];
      down[i] -= e * t0[j * n * d + i];
    }
    View4<double> xs("xs", n, c, h, w);
    View2<double> ys("ys", n * h * w, c);
    test::from_vector(xs, up);
    net.forward(xs, ys, Mode::Frozen);
    const auto yu = test::to_vector(ys);
    test::from_vector(xs, down);
    net.forward(xs, ys, Mode::Frozen);
    const auto yd = test::to_vector(ys);
    for (std::size_t i = 0; i < n * h * w * c; ++i) {
      fd[j * n * h * w * c + i] = (yu[i] - yd[i]) / (2 * e);
    }
  }
  test::expect_close(ty_values, fd, 1e-7, 1e-6, "forward_tangent");

  // backward_dual: L = <a, v> + <b, ty> with live statistics (Train forward each time).
  View2<double> a("a", n * h * w, c), b("b", k * n * h * w, c);
  fill_normal(a, CounterRng(4, 4), 0);
  fill_normal(b, CounterRng(4, 5), 0);
  const auto loss = [&]() {
    net.forward(x, v, Mode::Train);
    net.forward_tangent(tx, ty);
    return test::dot(a, v) + test::dot(b, ty);
  };
  loss();
  net.parameters().zero_gradients();
  View4<double> gx("gx", n, c, h, w);
  net.backward_dual(a, b, gx);
  const auto grads = test::to_vector(net.parameters().gradients());
  const auto gx_values = test::to_vector(gx);
  test::expect_close(grads, test::finite_difference(net.parameters().values(), loss), 1e-6, 1e-5,
                     "backward_dual: parameter gradient");
  test::expect_close(gx_values, test::finite_difference(x, loss), 1e-6, 1e-5,
                     "backward_dual: input gradient");
}

INSTANTIATE_TEST_SUITE_P(FinalNorm, FieldFlowDerivatives, ::testing::Values(false, true));

TEST(FieldFlow, LossGradientMatchesFiniteDifferences) {
  const std::size_t n = 4, c = 2, h = 3, w = 4;
  FieldFlowNetwork<double> net(FieldFlowConfig{c, 5, false}, 31);
  perturb_parameters(net.parameters());
  const auto x = random_field(n, c, h, w, 6), s = random_field(n, c, h, w, 7);
  flow::FieldEquilibriumLoss<double> loss(4);
  const CounterRng probes(8, 8);
  const auto value = [&]() { return loss.evaluate(net, x, s, probes, 10, Mode::Train, false); };
  net.parameters().zero_gradients();
  const double l0 = loss.evaluate(net, x, s, probes, 10, Mode::Train, true, 0.5);
  EXPECT_DOUBLE_EQ(l0, value());
  auto grads = test::to_vector(net.parameters().gradients());
  for (auto& g : grads) g /= 0.5;
  test::expect_close(grads, test::finite_difference(net.parameters().values(), value), 1e-7, 1e-5,
                     "loss gradient");
}

TEST(FieldFlow, RejectsMismatchedShapes) {
  FieldFlowNetwork<double> net(FieldFlowConfig{2, 4, false}, 1);
  View4<double> x("x", 2, 3, 4, 4);
  View2<double> v("v", 32, 2);
  EXPECT_THROW(net.forward(x, v, Mode::Train), ShapeError);
  EXPECT_THROW(flow::FieldEquilibriumLoss<double>(3), Error);
}

View4<double> read_field(const io::H5File& file, const std::string& path) {
  std::vector<std::size_t> shape;
  const auto values = file.read_doubles(path, &shape);
  EXPECT_EQ(shape.size(), 4u) << path;
  View4<double> out(path, shape.at(0), shape.at(1), shape.at(2), shape.at(3));
  test::from_vector(out, values);
  return out;
}

double relative_error(const std::vector<double>& got, const std::vector<double>& ref) {
  EXPECT_EQ(got.size(), ref.size());
  double scale = 0, worst = 0;
  for (double r : ref) scale = std::max(scale, std::abs(r));
  for (std::size_t i = 0; i < std::min(got.size(), ref.size()); ++i) {
    worst = std::max(worst, std::abs(got[i] - ref[i]));
  }
  return scale > 0 ? worst / scale : worst;
}

//! The reference loss (mean(r1 r2) / mean |v|^2, given probes) and every parameter gradient
//! against PyTorch in double; the layouts are the same by construction (names checked).
class FieldFlowCrosscheck : public ::testing::TestWithParam<std::string> {};

TEST_P(FieldFlowCrosscheck, MatchesPyTorch) {
  const std::string group = "/" + GetParam();
  const auto file =
      io::H5File::open(std::string(EQFLOW_SOURCE_DIR) + "/tests/data/field_flow_crosscheck.h5");
  const auto at = [&](const std::string& name) { return group + "/" + name; };
  FieldFlowConfig config;
  config.channels = std::size_t(file.attribute_int(group, "channels"));
  config.hidden = std::size_t(file.attribute_int(group, "hidden"));
  config.final_norm = file.attribute_int(group, "final_norm") != 0;
  FieldFlowNetwork<double> net(config, 1);
  auto& store = net.parameters();
  const auto names = file.read_strings(at("layout"));
  ASSERT_EQ(names.size(), store.parameter_slots().size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(names[i], store.parameter_slots()[i].name);
  }
  test::from_vector(store.values(), file.read_doubles(at("parameters")));
  const auto x = read_field(file, at("x")), s = read_field(file, at("score"));
  const auto probes = read_field(file, at("probes"));
  flow::FieldEquilibriumLoss<double> loss(int(file.attribute_int(group, "probes")));
  store.zero_gradients();
  const double value = loss.evaluate_with_probes(net, x, s, probes, Mode::Train, true);
  const double torch_loss = file.read_doubles(at("loss")).at(0);
  EXPECT_LE(std::abs(value - torch_loss), 1e-10 * std::abs(torch_loss))
      << "eqflow " << value << ", PyTorch " << torch_loss;
  EXPECT_LE(relative_error(loss.residual1(), file.read_doubles(at("residual1"))), 1e-10);
  EXPECT_LE(relative_error(loss.residual2(), file.read_doubles(at("residual2"))), 1e-10);
  View4<double> v("v", x.extent(0), x.extent(1), x.extent(2), x.extent(3));
  nn::rows_to_field<double>(loss.velocity_rows(), v);
  EXPECT_LE(relative_error(test::to_vector(v), file.read_doubles(at("velocity"))), 1e-10);
  // Relative to the largest gradient entry: biases before a batch norm have exactly zero
  // gradients, roundoff in both codes.
  const double worst =
      relative_error(test::to_vector(store.gradients()), file.read_doubles(at("gradient")));
  EXPECT_LE(worst, 1e-10);
  std::printf("[ crosscheck ] %s: loss %.12g, worst gradient error %.2e\n", group.c_str(), value,
              worst);
}

INSTANTIATE_TEST_SUITE_P(Cases, FieldFlowCrosscheck, ::testing::Values("plain", "final_norm"));

}  // namespace
}  // namespace eqflow
