// The layers on fields (N, C, H, W): circular convolutions against a plain-loop reference,
// and every backward (parameter and input gradients) of Conv2d, GroupNorm, SiLU, nearest
// upsampling, channel concatenation, self-attention, the time embedding and the ResNet block
// against central finite differences in double precision.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/nn/attention.hpp"
#include "eqflow/nn/conv2d.hpp"
#include "eqflow/nn/field_ops.hpp"
#include "eqflow/nn/group_norm.hpp"
#include "eqflow/nn/unet.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

using nn::FieldShape;
using nn::Mode;

View4<double> random_field(std::size_t n, const FieldShape& s, std::uint64_t stream) {
  View4<double> x("x", n, s.channels, s.height, s.width);
  fill_normal(x, CounterRng(7, stream), 0);
  return x;
}

//! Parameter and input gradients of L = <w, layer(x)> against central differences.
void check_field_layer(nn::FieldLayer<double>& layer, std::size_t n, const FieldShape& in,
                       double tol = 1e-7) {
  nn::ParameterStore<double> store;
  layer.declare(store, "layer.");
  store.allocate();
  layer.bind(store);
  fill_uniform(store.values(), CounterRng(3, 1), 0, -1.0, 1.0);
  const FieldShape out = layer.output_shape(in);
  auto x = random_field(n, in, 1);
  auto w = random_field(n, out, 2);
  View4<double> y("y", n, out.channels, out.height, out.width);
  View4<double> gx("gx", n, in.channels, in.height, in.width);
  auto loss = [&] {
    layer.forward(x, y, Mode::Train);
    return test::dot(w, y);
  };
  loss();
  store.zero_gradients();
  layer.backward(w, gx);
  const auto grads = test::to_vector(store.gradients());
  const auto input_grads = test::to_vector(gx);
  if (store.num_parameters() > 0) {
    test::expect_close(grads, test::finite_difference(store.values(), loss), tol, tol,
                       layer.kind() + " parameters");
  }
  test::expect_close(input_grads, test::finite_difference(x, loss), tol, tol,
                     layer.kind() + " input");
}

//! Plain loops: y(n, o, i, j) = b(o) + sum w(o, c, ky, kx) x(n, c, (s i + ky - p) mod H, ...).
std::vector<double> reference_conv(const std::vector<double>& x, const std::vector<double>& w,
                                   const std::vector<double>& b, std::size_t n, std::size_t cin,
                                   std::size_t h, std::size_t wd, std::size_t cout, std::size_t k,
                                   std::size_t s) {
  const std::size_t ho = h / s, wo = wd / s;
  const long pad = long(k / 2);
  std::vector<double> y(n * cout * ho * wo);
  for (std::size_t m = 0; m < n; ++m)
    for (std::size_t o = 0; o < cout; ++o)
      for (std::size_t i = 0; i < ho; ++i)
        for (std::size_t j = 0; j < wo; ++j) {
          double sum = b[o];
          for (std::size_t c = 0; c < cin; ++c)
            for (std::size_t ky = 0; ky < k; ++ky)
              for (std::size_t kx = 0; kx < k; ++kx) {
                const long iy = ((long(s * i + ky) - pad) % long(h) + long(h)) % long(h);
                const long ix = ((long(s * j + kx) - pad) % long(wd) + long(wd)) % long(wd);
                sum += w[((o * cin + c) * k + ky) * k + kx] *
                       x[((m * cin + c) * h + std::size_t(iy)) * wd + std::size_t(ix)];
              }
          y[((m * cout + o) * ho + i) * wo + j] = sum;
        }
  return y;
}

TEST(Conv2d, CircularConvolutionMatchesPlainLoops) {
  struct Case {
    std::size_t cin, cout, k, s, h, w;
    bool bias = true;
  };
  // Stride 1 runs on the shifted columns, stride 2 on im2col; sides 1 and 2 wrap every tap.
  for (const Case c : {Case{3, 5, 3, 1, 6, 7}, Case{2, 4, 3, 2, 8, 6}, Case{5, 3, 1, 1, 4, 5},
                       Case{1, 1, 3, 1, 1, 1}, Case{4, 2, 3, 2, 2, 2},
                       Case{6, 5, 3, 1, 2, 3, false}, Case{2, 7, 3, 1, 5, 1, true}}) {
    for (const auto algorithm : {nn::ConvAlgorithm::Im2col, nn::ConvAlgorithm::Direct}) {
      nn::Conv2d<double> conv(c.cin, c.cout, c.k, c.s, c.bias);
      conv.set_algorithm(algorithm);
      nn::ParameterStore<double> store;
      conv.declare(store, "conv.");
      store.allocate();
      conv.bind(store);
      conv.initialize(5, 0);
      const std::size_t n = 2;
      auto x = random_field(n, FieldShape{c.cin, c.h, c.w}, 9);
      View4<double> y("y", n, c.cout, c.h / c.s, c.w / c.s);
      conv.forward(x, y, Mode::Train);
      const auto params = test::to_vector(store.values());
      const std::size_t nw = c.cout * c.cin * c.k * c.k;
      const std::vector<double> w(params.begin(), params.begin() + long(nw));
      const std::vector<double> b =
          c.bias ? std::vector<double>(params.begin() + long(nw), params.end())
                 : std::vector<double>(c.cout, 0.0);
      test::expect_close(
          test::to_vector(y),
          reference_conv(test::to_vector(x), w, b, n, c.cin, c.h, c.w, c.cout, c.k, c.s), 1e-12,
          1e-12, "conv k" + std::to_string(c.k) + " s" + std::to_string(c.s));
    }
  }
}

TEST(Conv2d, RejectsShapesItCannotTake) {
  EXPECT_THROW(nn::Conv2d<double>(2, 2, 5, 1), ShapeError);
  EXPECT_THROW(nn::Conv2d<double>(2, 2, 1, 2), ShapeError);
  nn::Conv2d<double> strided(2, 2, 3, 2);
  EXPECT_THROW(strided.output_shape(FieldShape{2, 5, 4}), ShapeError);
  EXPECT_THROW(strided.output_shape(FieldShape{3, 4, 4}), ShapeError);
}

TEST(FieldLayerDerivatives, Conv2d) {
  nn::Conv2d<double> k3(3, 4, 3, 1), k3s2(2, 3, 3, 2), k1(3, 2, 1, 1);
  check_field_layer(k3, 2, FieldShape{3, 5, 4});
  check_field_layer(k3s2, 2, FieldShape{2, 6, 4});
  check_field_layer(k1, 3, FieldShape{3, 3, 2});
  nn::Conv2d<double> k3_no_bias(3, 2, 3, 1, false), k3s2_no_bias(2, 2, 3, 2, false);
  check_field_layer(k3_no_bias, 2, FieldShape{3, 4, 5});
  check_field_layer(k3s2_no_bias, 2, FieldShape{2, 4, 2});
  // Direct loops instead of im2col + gemm (Auto's choice for <= 4 output channels).
  nn::Conv2d<double> k3_direct(3, 4, 3, 1), k3s2_direct(2, 3, 3, 2), k3_auto(5, 2, 3, 1);
  k3_direct.set_algorithm(nn::ConvAlgorithm::Direct);
  k3s2_direct.set_algorithm(nn::ConvAlgorithm::Direct);
  EXPECT_TRUE(k3_auto.direct());
  check_field_layer(k3_direct, 2, FieldShape{3, 5, 4});
  check_field_layer(k3s2_direct, 2, FieldShape{2, 6, 4});
  check_field_layer(k3_auto, 2, FieldShape{5, 3, 3});
}

TEST(FieldLayerDerivatives, GroupNorm) {
  nn::GroupNorm<double> norm(2, 6);
  check_field_layer(norm, 3, FieldShape{6, 3, 4});
  nn::GroupNorm<double> per_channel(4, 4);
  check_field_layer(per_channel, 2, FieldShape{4, 2, 3});
}

TEST(GroupNorm, NormalisesEachGroupOfEachSample) {
  nn::GroupNorm<double> norm(2, 4);
  nn::ParameterStore<double> store;
  norm.declare(store, "n.");
  store.allocate();
  norm.bind(store);
  norm.initialize(0, 0);
  auto x = random_field(3, FieldShape{4, 5, 3}, 4);
  View4<double> y("y", 3, 4, 5, 3);
  norm.forward(x, y, Mode::Train);
  const auto v = test::to_vector(y);
  const std::size_t group = 2 * 15;
  for (std::size_t g = 0; g < 6; ++g) {
    double mean = 0, square = 0;
    for (std::size_t i = 0; i < group; ++i) mean += v[g * group + i] / group;
    for (std::size_t i = 0; i < group; ++i) square += std::pow(v[g * group + i] - mean, 2) / group;
    EXPECT_NEAR(mean, 0.0, 1e-12);
    EXPECT_NEAR(square, 1.0, 1e-4);  // var / (var + eps)
  }
}

TEST(FieldLayerDerivatives, SiluAndUpsampling) {
  nn::FieldSiLU<double> silu;
  check_field_layer(silu, 2, FieldShape{3, 2, 3});
  nn::UpsampleNearest2x<double> up;
  check_field_layer(up, 2, FieldShape{2, 3, 2});
}

TEST(FieldOps, ConcatenationAndItsAdjoint) {
  auto a = random_field(2, FieldShape{3, 2, 2}, 1);
  auto b = random_field(2, FieldShape{1, 2, 2}, 2);
  View4<double> y("y", 2, 4, 2, 2), ga("ga", 2, 3, 2, 2), gb("gb", 2, 1, 2, 2);
  nn::concat_channels<double>(a, b, y);
  const auto va = test::to_vector(a), vb = test::to_vector(b), vy = test::to_vector(y);
  for (std::size_t s = 0; s < 2; ++s) {
    for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(vy[s * 16 + i], va[s * 12 + i]);
    for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(vy[s * 16 + 12 + i], vb[s * 4 + i]);
  }
  nn::split_channels<double>(y, ga, gb);
  EXPECT_EQ(test::to_vector(ga), va);
  EXPECT_EQ(test::to_vector(gb), vb);
  EXPECT_THROW(nn::concat_channels<double>(a, random_field(1, FieldShape{1, 2, 2}, 3), y),
               ShapeError);
}

TEST(FieldLayerDerivatives, SelfAttention) {
  nn::SpatialSelfAttention<double> attention(16, 8, 8);
  check_field_layer(attention, 2, FieldShape{16, 3, 2});
}

TEST(TimeEmbedding, SinusoidsAsDiffusers) {
  View1<double> steps("steps", 2);
  test::from_vector(steps, {0.0, 37.0});
  View2<double> emb("emb", 2, 16);
  nn::sinusoidal_embedding<double>(steps, emb);
  const auto v = test::to_vector(emb);
  for (std::size_t j = 0; j < 8; ++j) {
    const double f = std::exp(-std::log(10000.0) * double(j) / 8.0);
    EXPECT_NEAR(v[j], 1.0, 1e-15);
    EXPECT_NEAR(v[8 + j], 0.0, 1e-15);
    EXPECT_NEAR(v[16 + j], std::cos(37.0 * f), 1e-14);
    EXPECT_NEAR(v[24 + j], std::sin(37.0 * f), 1e-14);
  }
}

TEST(FieldLayerDerivatives, TimeEmbeddingParameters) {
  nn::TimeEmbedding<double> embedding(8, 12);
  nn::ParameterStore<double> store;
  embedding.declare(store, "t.");
  store.allocate();
  embedding.bind(store);
  fill_uniform(store.values(), CounterRng(3, 2), 0, -1.0, 1.0);
  View1<double> steps("steps", 3);
  test::from_vector(steps, {1.0, 20.0, 99.0});
  View2<double> temb("temb", 3, 12), w("w", 3, 12);
  fill_normal(w, CounterRng(3, 3), 0);
  auto loss = [&] {
    embedding.forward(steps, temb);
    return test::dot(w, temb);
  };
  loss();
  store.zero_gradients();
  embedding.backward(w);
  test::expect_close(test::to_vector(store.gradients()),
                     test::finite_difference(store.values(), loss), 1e-7, 1e-7, "time embedding");
}

TEST(FieldLayerDerivatives, ResnetBlockWithTimeAndShortcut) {
  for (const auto& channels : {std::pair<std::size_t, std::size_t>{4, 8}, {8, 8}}) {
    nn::ResnetBlock<double> block(channels.first, channels.second, 6, 4, 1e-5,
                                  std::make_shared<nn::Workspace<double>>());
    nn::ParameterStore<double> store;
    block.declare(store, "r.");
    store.allocate();
    block.bind(store);
    fill_uniform(store.values(), CounterRng(3, 4), 0, -1.0, 1.0);
    const std::size_t n = 2;
    auto x = random_field(n, FieldShape{channels.first, 3, 4}, 5);
    auto w = random_field(n, FieldShape{channels.second, 3, 4}, 6);
    View2<double> temb("temb", n, 6), gtemb("gtemb", n, 6);
    fill_normal(temb, CounterRng(3, 7), 0);
    View4<double> y("y", n, channels.second, 3, 4), gx("gx", n, channels.first, 3, 4);
    auto loss = [&] {
      block.forward(x, temb, y);
      return test::dot(w, y);
    };
    loss();
    store.zero_gradients();
    block.backward(w, gx, gtemb);
    const auto grads = test::to_vector(store.gradients());
    test::expect_close(grads, test::finite_difference(store.values(), loss), 1e-7, 1e-7,
                       "resnet parameters");
    test::expect_close(test::to_vector(gx), test::finite_difference(x, loss), 1e-7, 1e-7,
                       "resnet input");
    test::expect_close(test::to_vector(gtemb), test::finite_difference(temb, loss), 1e-7, 1e-7,
                       "resnet time embedding");
  }
}

}  // namespace
}  // namespace eqflow
