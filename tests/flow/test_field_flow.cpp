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
#include "support/crosscheck.hpp"
#include "support/gaussian_score.hpp"
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

// ------------------------------------------------------------------------ training-free flows

TEST(ChannelKernel, KindsAreAntisymmetricAndNormalised) {
  const CounterRng rng(12, 34);
  for (const std::string kind : {"swap", "random", "spatial"}) {
    const auto k = flow::make_kernel(kind, 2, -1, rng);
    EXPECT_LE(k.antisymmetry_defect(), 1e-15) << kind;
    EXPECT_NEAR(k.norm(), 1.0, 1e-14) << kind;
  }
  const auto spatial = flow::random_antisymmetric_kernel(3, 3, rng);
  EXPECT_EQ(spatial.size, 3u);
  EXPECT_LE(spatial.antisymmetry_defect(), 1e-15);
  const auto swap = flow::swap_kernel(1);
  EXPECT_DOUBLE_EQ(swap.at(0, 1, 0, 0), 1 / std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(swap.at(1, 0, 0, 0), -1 / std::sqrt(2.0));
  // The baseline is not antisymmetric.
  EXPECT_GT(flow::random_kernel(2, rng).antisymmetry_defect(), 1e-3);
  EXPECT_THROW(flow::make_kernel("swap", 3, 1, rng), Error);
  EXPECT_THROW(flow::make_kernel("spiral", 2, 1, rng), Error);
  EXPECT_THROW(flow::swap_kernel(0), Error);
}

TEST(ChannelKernel, ApplyIsAPeriodicConvolution) {
  const std::size_t n = 2, c = 3, h = 4, w = 5;
  const auto k = flow::random_antisymmetric_kernel(c, 3, CounterRng(1, 2));
  flow::KernelFlow<double> kernel_flow(k);
  const auto s = random_field(n, c, h, w, 11);
  View4<double> v("v", n, c, h, w);
  kernel_flow.velocity(s, s, v);
  const auto sv = test::to_vector(s), vv = test::to_vector(v);
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t o = 0; o < c; ++o)
      for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
          double ref = 0;
          for (std::size_t i = 0; i < c; ++i)
            for (std::size_t ky = 0; ky < 3; ++ky)
              for (std::size_t kx = 0; kx < 3; ++kx) {
                ref += k.at(o, i, ky, kx) *
                       sv[((b * c + i) * h + (y + h + ky - 1) % h) * w + (x + w + kx - 1) % w];
              }
          ASSERT_NEAR(vv[((b * c + o) * h + y) * w + x], ref, 1e-13);
        }
}

//! For a Gaussian p with any precision L (s = -L (x - mu)), v = K * s keeps p stationary iff
//! div v + v . s = 0 at every x: with div v the trace of the Jacobian by finite differences,
//! the residual vanishes for every antisymmetric kernel and not for the random baseline.
TEST(ChannelKernel, AntisymmetricKernelsKeepAGaussianStationary) {
  const std::size_t c = 2, h = 3, w = 4, d = c * h * w;
  std::vector<double> a(d * d), mu(d);
  const CounterRng rng(99, 1);
  for (std::size_t j = 0; j < a.size(); ++j) a[j] = rng.normal(j);
  for (std::size_t j = 0; j < d; ++j) mu[j] = 0.3 * rng.normal(d * d + j);
  std::vector<double> precision(d * d);  // L = A A^T / d + I
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      double sum = i == j ? 1.0 : 0.0;
      for (std::size_t m = 0; m < d; ++m) sum += a[i * d + m] * a[j * d + m] / double(d);
      precision[i * d + j] = sum;
    }
  const auto score_of = [&](const std::vector<double>& x) {
    std::vector<double> s(d, 0.0);
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j) s[i] -= precision[i * d + j] * (x[j] - mu[j]);
    return s;
  };
  const auto residual = [&](const flow::ChannelKernel& kernel, const std::vector<double>& x) {
    flow::KernelFlow<double> f(kernel);
    View4<double> xs("x", 1, c, h, w), ss("s", 1, c, h, w), vs("v", 1, c, h, w);
    const auto velocity = [&](const std::vector<double>& at) {
      test::from_vector(xs, at);
      test::from_vector(ss, score_of(at));
      f.velocity(xs, ss, vs);
      return test::to_vector(vs);
    };
    const auto v = velocity(x);
    const auto s = score_of(x);
    double div = 0, vs_dot = 0;
    const double e = 1e-4;
    for (std::size_t j = 0; j < d; ++j) {
      auto up = x, down = x;
      up[j] += e;
      down[j] -= e;
      div += (velocity(up)[j] - velocity(down)[j]) / (2 * e);
      vs_dot += v[j] * s[j];
    }
    return std::make_pair(div + vs_dot, std::abs(div) + std::abs(vs_dot) + 1.0);
  };
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<double> x(d);
    for (std::size_t j = 0; j < d; ++j) x[j] = rng.normal(5 * d * d + trial * d + j);
    for (const std::string kind : {"swap", "random", "spatial"}) {
      const auto [r, scale] = residual(flow::make_kernel(kind, c, 1, CounterRng(trial, 5)), x);
      EXPECT_LE(std::abs(r), 1e-9 * scale) << kind << " trial " << trial;
    }
    const auto [r, scale] = residual(flow::random_kernel(c, CounterRng(trial, 6)), x);
    EXPECT_GT(std::abs(r), 1e-2) << "random baseline, trial " << trial;
  }
}

// ------------------------------------------------------------------------------ trained flow

//! E[r1] = E[r2] = div v + v . s: the mean of the Hutchinson halves over independent probe draws
//! against the exact per-sample trace (basis tangents, statistics frozen), within 4 standard
//! errors.
TEST(FieldFlow, HutchinsonHalvesAreUnbiased) {
  const std::size_t n = 3, c = 2, h = 3, w = 3, d = c * h * w;
  FieldFlowNetwork<double> net(FieldFlowConfig{c, 6, false}, 41);
  perturb_parameters(net.parameters());
  const auto x = random_field(n, c, h, w, 12), s = random_field(n, c, h, w, 13);
  // Exact residual: tangent j of sample b is the basis field e_j.
  View2<double> v("v", n * h * w, c), ty("ty", d * n * h * w, c);
  View4<double> basis("basis", d * n, c, h, w);
  {
    std::vector<double> e(d * n * d, 0.0);
    for (std::size_t j = 0; j < d; ++j)
      for (std::size_t b = 0; b < n; ++b) e[(j * n + b) * d + j] = 1.0;
    test::from_vector(basis, e);
  }
  net.forward(x, v, Mode::Train);
  net.forward_tangent(basis, ty);
  const auto tyv = test::to_vector(ty), vv = test::to_vector(v), sv = test::to_vector(s);
  std::vector<double> exact(n, 0.0);
  const std::size_t p = h * w;
  for (std::size_t b = 0; b < n; ++b) {
    for (std::size_t j = 0; j < d; ++j) {
      const std::size_t row = (j * n + b) * p + j % p, col = j / p;
      exact[b] += tyv[row * c + col];
      exact[b] += vv[(b * p + j % p) * c + col] * sv[b * d + j];
    }
  }
  flow::FieldEquilibriumLoss<double> loss(4);
  const int trials = 3000;
  std::vector<double> sum(n, 0.0), sq(n, 0.0);
  for (int t = 0; t < trials; ++t) {
    loss.evaluate(net, x, s, CounterRng(77, std::uint64_t(t)), 0, Mode::Train, false);
    for (std::size_t b = 0; b < n; ++b) {
      for (const double r : {loss.residual1()[b], loss.residual2()[b]}) {
        sum[b] += r;
        sq[b] += r * r;
      }
    }
  }
  for (std::size_t b = 0; b < n; ++b) {
    const double m = sum[b] / (2 * trials), var = sq[b] / (2 * trials) - m * m;
    const double se = std::sqrt(var / (2 * trials));
    EXPECT_LE(std::abs(m - exact[b]), 4 * se)
        << "sample " << b << ": mean " << m << ", exact " << exact[b] << ", standard error " << se;
  }
}

//! A source of Gaussian fields N(0, sigma^2) for the trainer.
diffusion::FieldSource<double> gaussian_source(std::int64_t n, nn::FieldShape shape, double sigma) {
  diffusion::FieldSource<double> source;
  source.train = n;
  source.shape = shape;
  source.load = [shape, sigma](const std::vector<std::int64_t>& indices, const View4<double>& out) {
    std::vector<double> values(indices.size() * shape.size());
    const CounterRng rng(5, 55);
    for (std::size_t i = 0; i < indices.size(); ++i)
      for (std::size_t e = 0; e < shape.size(); ++e)
        values[i * shape.size() + e] =
            sigma * rng.normal(std::uint64_t(indices[i]) * shape.size() + e);
    test::from_vector(out, values);
  };
  return source;
}

TEST(FieldFlowTrainer, LearnsAndResumesBitForBit) {
  const nn::FieldShape shape{2, 6, 6};
  test::GaussianFieldScore<double> score(2, 0.5);
  flow::FieldFlowTrainingSettings settings;
  settings.epochs = 12;
  settings.batch = 8;
  settings.accumulation = 2;
  settings.lr = 1e-2;
  const auto source = gaussian_source(32, shape, 0.5);
  FieldFlowNetwork<double> a(FieldFlowConfig{2, 8, false}, 3);
  flow::FieldFlowTrainer<double> trainer(a, score, source, settings, CounterRng(1, 2));
  for (int e = 0; e < 12; ++e) trainer.run_epoch();
  const auto& history = trainer.history();
  ASSERT_EQ(history.size(), 12u);
  const double first = history[0], last = (history[9] + history[10] + history[11]) / 3;
  std::printf("[ trainer ] loss epoch 0 %.4g, epochs 9-11 %.4g\n", first, last);
  EXPECT_LT(last, 0.5 * first);

  // 5 epochs, then a new network and trainer restored from them, 7 more: the same as 12.
  FieldFlowNetwork<double> b(FieldFlowConfig{2, 8, false}, 3);
  flow::FieldFlowTrainer<double> first_part(b, score, source, settings, CounterRng(1, 2));
  for (int e = 0; e < 5; ++e) first_part.run_epoch();
  FieldFlowNetwork<double> c(FieldFlowConfig{2, 8, false}, 99);
  Kokkos::deep_copy(c.parameters().values(), b.parameters().values());
  Kokkos::deep_copy(c.parameters().buffers(), b.parameters().buffers());
  flow::FieldFlowTrainer<double> resumed(c, score, source, settings, CounterRng(1, 2));
  Kokkos::deep_copy(resumed.optimizer().first_moment(), first_part.optimizer().first_moment());
  Kokkos::deep_copy(resumed.optimizer().second_moment(), first_part.optimizer().second_moment());
  resumed.optimizer().set_steps(first_part.optimizer().steps());
  resumed.restore(first_part.history());
  for (int e = 5; e < 12; ++e) resumed.run_epoch();
  EXPECT_EQ(resumed.history(), history);
  EXPECT_EQ(test::to_vector(c.parameters().values()), test::to_vector(a.parameters().values()));
}

//! With kept draws the score is evaluated once per draw and training field, whatever the
//! number of epochs; the flow still learns, and a resumed trainer (which rebuilds the draws)
//! continues bit for bit.
TEST(FieldFlowTrainer, KeptDrawsScoreOnceAndResume) {
  const nn::FieldShape shape{2, 6, 6};
  test::GaussianFieldScore<double> score(2, 0.5);
  flow::FieldFlowTrainingSettings settings;
  settings.epochs = 12;
  settings.batch = 8;
  settings.accumulation = 1;
  settings.score_draws = 2;
  const auto source = gaussian_source(32, shape, 0.5);
  FieldFlowNetwork<double> a(FieldFlowConfig{2, 8, false}, 3);
  flow::FieldFlowTrainer<double> trainer(a, score, source, settings, CounterRng(1, 2));
  for (int e = 0; e < 12; ++e) trainer.run_epoch();
  EXPECT_EQ(score.calls, 2 * 4);  // 2 draws x 4 micro-batches of 8
  const auto& h = trainer.history();
  EXPECT_LT((h[9] + h[10] + h[11]) / 3, 0.5 * h[0]);
  FieldFlowNetwork<double> b(FieldFlowConfig{2, 8, false}, 3);
  flow::FieldFlowTrainer<double> first(b, score, source, settings, CounterRng(1, 2));
  for (int e = 0; e < 7; ++e) first.run_epoch();
  FieldFlowNetwork<double> c(FieldFlowConfig{2, 8, false}, 5);
  Kokkos::deep_copy(c.parameters().values(), b.parameters().values());
  Kokkos::deep_copy(c.parameters().buffers(), b.parameters().buffers());
  flow::FieldFlowTrainer<double> resumed(c, score, source, settings, CounterRng(1, 2));
  Kokkos::deep_copy(resumed.optimizer().first_moment(), first.optimizer().first_moment());
  Kokkos::deep_copy(resumed.optimizer().second_moment(), first.optimizer().second_moment());
  resumed.optimizer().set_steps(first.optimizer().steps());
  resumed.restore(first.history());
  for (int e = 7; e < 12; ++e) resumed.run_epoch();
  EXPECT_EQ(resumed.history(), h);
  EXPECT_EQ(test::to_vector(c.parameters().values()), test::to_vector(a.parameters().values()));
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
  const auto x = test::read_field(file, at("x")), s = test::read_field(file, at("score"));
  const auto probes = test::read_field(file, at("probes"));
  flow::FieldEquilibriumLoss<double> loss(int(file.attribute_int(group, "probes")));
  store.zero_gradients();
  const double value = loss.evaluate_with_probes(net, x, s, probes, Mode::Train, true);
  const double torch_loss = file.read_doubles(at("loss")).at(0);
  EXPECT_LE(std::abs(value - torch_loss), 1e-10 * std::abs(torch_loss))
      << "eqflow " << value << ", PyTorch " << torch_loss;
  EXPECT_LE(test::relative_error(loss.residual1(), file.read_doubles(at("residual1"))), 1e-10);
  EXPECT_LE(test::relative_error(loss.residual2(), file.read_doubles(at("residual2"))), 1e-10);
  View4<double> v("v", x.extent(0), x.extent(1), x.extent(2), x.extent(3));
  nn::rows_to_field<double>(loss.velocity_rows(), v);
  EXPECT_LE(test::relative_error(test::to_vector(v), file.read_doubles(at("velocity"))), 1e-10);
  // Relative to the largest gradient entry: biases before a batch norm have exactly zero
  // gradients, roundoff in both codes.
  const double worst =
      test::relative_error(test::to_vector(store.gradients()), file.read_doubles(at("gradient")));
  EXPECT_LE(worst, 1e-10);
  std::printf("[ crosscheck ] %s: loss %.12g, worst gradient error %.2e\n", group.c_str(), value,
              worst);
}

INSTANTIATE_TEST_SUITE_P(Cases, FieldFlowCrosscheck, ::testing::Values("plain", "final_norm"));

}  // namespace
}  // namespace eqflow
