// The column reductions of the layers (batch-norm statistics, backward and backward_tangent;
// the dense bias gradient), which run as one team per feature with the rows spread over the
// team, against plain-loop host references in double precision, over row counts 1, 2, a prime
// and a large prime, in float and double; tolerances scale with the reduction length.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "eqflow/core/rng.hpp"
#include "eqflow/nn/batch_norm.hpp"
#include "eqflow/nn/dense.hpp"
#include "eqflow/nn/model.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

using nn::Mode;

//! atol = rtol for a reduction of `length` terms of order one in precision Scalar.
template <class Scalar>
double tolerance(std::size_t length) {
  return 16.0 * std::numeric_limits<Scalar>::epsilon() * static_cast<double>(length + 1);
}

//! Plain-loop batch norm on the host, feature f of row r at r * n + f (DESIGN.md semantics).
struct BatchNormReference {
  std::size_t rows, n, trows;
  bool train;
  double eps, momentum;
  std::vector<double> x, gamma, beta, running_mean, running_var;  // inputs
  std::vector<double> mean, inv_std, xhat, y;                     // forward

  void forward() {
    mean.assign(n, 0.0);
    inv_std.assign(n, 0.0);
    xhat.assign(rows * n, 0.0);
    y.assign(rows * n, 0.0);
    for (std::size_t f = 0; f < n; ++f) {
      if (train) {
        double sum = 0, ss = 0;
        for (std::size_t r = 0; r < rows; ++r) sum += x[r * n + f];
        const double mu = sum / double(rows);
        for (std::size_t r = 0; r < rows; ++r) ss += (x[r * n + f] - mu) * (x[r * n + f] - mu);
        mean[f] = mu;
        inv_std[f] = 1.0 / std::sqrt(ss / double(rows) + eps);
        running_mean[f] = (1 - momentum) * running_mean[f] + momentum * mu;
        running_var[f] = (1 - momentum) * running_var[f] + momentum * ss / double(rows - 1);
      } else {
        mean[f] = running_mean[f];
        inv_std[f] = 1.0 / std::sqrt(running_var[f] + eps);
      }
      for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t i = r * n + f;
        xhat[i] = (x[i] - mean[f]) * inv_std[f];
        y[i] = gamma[f] * xhat[i] + beta[f];
      }
    }
  }

  //! gx, and the parameter gradients [ggamma, gbeta].
  void backward(const std::vector<double>& gy, std::vector<double>& gx,
                std::vector<double>& grads) const {
    gx.assign(rows * n, 0.0);
    grads.assign(2 * n, 0.0);
    for (std::size_t f = 0; f < n; ++f) {
      double sum_gy = 0, sum_gy_xhat = 0;
      for (std::size_t r = 0; r < rows; ++r) {
        sum_gy += gy[r * n + f];
        sum_gy_xhat += gy[r * n + f] * xhat[r * n + f];
      }
      grads[f] = sum_gy_xhat;
      grads[n + f] = sum_gy;
      const double scale = gamma[f] * inv_std[f];
      for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t i = r * n + f;
        gx[i] = train
                    ? scale * (gy[i] - sum_gy / double(rows) - xhat[i] * sum_gy_xhat / double(rows))
                    : scale * gy[i];
      }
    }
  }

  //! gtx, gx and [ggamma, gbeta] of the reverse pass through ty = gamma inv_std tx.
  void backward_tangent(const std::vector<double>& tx, const std::vector<double>& gty,
                        std::vector<double>& gtx, std::vector<double>& gx,
                        std::vector<double>& grads) const {
    gtx.assign(trows * n, 0.0);
    gx.assign(rows * n, 0.0);
    grads.assign(2 * n, 0.0);
    for (std::size_t f = 0; f < n; ++f) {
      const double s = inv_std[f];
      double q = 0;
      for (std::size_t r = 0; r < trows; ++r) {
        q += gty[r * n + f] * tx[r * n + f];
        gtx[r * n + f] = gamma[f] * s * gty[r * n + f];
      }
      grads[f] = s * q;
      if (!train) continue;
      for (std::size_t r = 0; r < rows; ++r) {
        gx[r * n + f] = -gamma[f] * q * s * s / double(rows) * xhat[r * n + f];
      }
    }
  }
};

template <class V>
std::vector<double> values_of(const V& v, std::size_t offset, std::size_t count) {
  const auto all = test::to_vector(v);
  return std::vector<double>(all.begin() + offset, all.begin() + offset + count);
}

template <class Scalar>
void check_batch_norm(std::size_t rows, Mode mode) {
  SCOPED_TRACE(testing::Message() << "rows " << rows << (mode == Mode::Train ? " train" : " eval")
                                  << " sizeof(Scalar) " << sizeof(Scalar));
  const std::size_t n = 5, probes = 3, trows = probes * rows;
  const Scalar eps = Scalar(1e-5), momentum = Scalar(0.1);
  auto layer = std::make_unique<nn::BatchNorm<Scalar>>(n, true, eps, momentum);
  nn::BatchNorm<Scalar>* bn = layer.get();
  nn::Model<Scalar> model(std::move(layer), 7);
  auto& store = model.parameters();
  fill_uniform(store.values(), CounterRng(3, 100), 0, Scalar(-1), Scalar(1));
  fill_uniform(store.buffers(), CounterRng(3, 101), 0, Scalar(0.5), Scalar(1.5));

  View2<Scalar> x("x", rows, n), y("y", rows, n), gy("gy", rows, n), gx("gx", rows, n);
  View2<Scalar> tx("tx", trows, n), ty("ty", trows, n), gty("gty", trows, n);
  View2<Scalar> gtx("gtx", trows, n), gx_t("gx_t", rows, n);
  fill_normal(x, CounterRng(3, 1), 0);
  fill_normal(gy, CounterRng(3, 2), 0);
  fill_normal(tx, CounterRng(3, 3), 0);
  fill_normal(gty, CounterRng(3, 4), 0);
  {
    // An offset per feature, so the centring is exercised.
    auto host = test::to_vector(x);
    for (std::size_t i = 0; i < host.size(); ++i) host[i] += 2.0 + double(i % n);
    test::from_vector(x, host);
  }

  BatchNormReference ref{rows,
                         n,
                         trows,
                         mode == Mode::Train,
                         double(eps),
                         double(momentum),
                         test::to_vector(x),
                         values_of(store.values(), 0, n),
                         values_of(store.values(), n, n),
                         values_of(store.buffers(), 0, n),
                         values_of(store.buffers(), n, n),
                         {},
                         {},
                         {},
                         {}};
  ref.forward();
  const double tol_rows = tolerance<Scalar>(rows), tol_trows = tolerance<Scalar>(trows);

  model.forward(x, y, mode);
  test::expect_close(test::to_vector(y), ref.y, tol_rows, tol_rows, "forward");
  test::expect_close(values_of(store.buffers(), 0, n), ref.running_mean, tol_rows, tol_rows,
                     "running mean");
  test::expect_close(values_of(store.buffers(), n, n), ref.running_var, tol_rows, tol_rows,
                     "running variance");
  if (mode == Mode::Train) {
    test::expect_close(test::to_vector(bn->batch_mean()), ref.mean, tol_rows, tol_rows,
                       "batch mean");
    test::expect_close(test::to_vector(bn->batch_inv_std()), ref.inv_std, tol_rows, tol_rows,
                       "batch inverse standard deviation");
  }

  std::vector<double> gx_ref, grads_ref;
  model.zero_gradients();
  model.backward(gy, gx);
  ref.backward(test::to_vector(gy), gx_ref, grads_ref);
  test::expect_close(test::to_vector(gx), gx_ref, tol_rows, tol_rows, "backward: gx");
  test::expect_close(test::to_vector(store.gradients()), grads_ref, tol_rows, tol_rows,
                     "backward: gamma, beta gradients");

  std::vector<double> gtx_ref;
  model.forward_tangent(tx, ty);
  model.zero_gradients();
  model.net().backward_tangent(gty, gtx, gx_t);
  ref.backward_tangent(test::to_vector(tx), test::to_vector(gty), gtx_ref, gx_ref, grads_ref);
  test::expect_close(test::to_vector(gtx), gtx_ref, tol_trows, tol_trows, "backward_tangent: gtx");
  test::expect_close(test::to_vector(gx_t), gx_ref, tol_trows, tol_trows, "backward_tangent: gx");
  test::expect_close(test::to_vector(store.gradients()), grads_ref, tol_trows, tol_trows,
                     "backward_tangent: gamma, beta gradients");
}

template <class Scalar>
void check_dense_bias_gradient(std::size_t rows) {
  SCOPED_TRACE(testing::Message() << "rows " << rows << " sizeof(Scalar) " << sizeof(Scalar));
  const std::size_t in = 3, out = 7;
  nn::Model<Scalar> model(std::make_unique<nn::Dense<Scalar>>(in, out), 5);
  View2<Scalar> x("x", rows, in), y("y", rows, out), gy("gy", rows, out), gx("gx", rows, in);
  fill_normal(x, CounterRng(5, 1), 0);
  fill_normal(gy, CounterRng(5, 2), 0);
  model.forward(x, y, Mode::Train);
  model.zero_gradients();
  model.backward(gy, gx);
  const auto g = test::to_vector(gy);
  std::vector<double> ref(out, 0.0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t o = 0; o < out; ++o) ref[o] += g[r * out + o];
  }
  const double tol = tolerance<Scalar>(rows);
  // The store holds [weight (out, in), bias (out)].
  test::expect_close(values_of(model.parameters().gradients(), out * in, out), ref, tol, tol,
                     "bias gradient");
}

TEST(LayerKernels, BatchNormTrainMatchesHostLoops) {
  for (std::size_t rows : {2, 7, 2053}) {
    check_batch_norm<double>(rows, Mode::Train);
    check_batch_norm<float>(rows, Mode::Train);
  }
}

TEST(LayerKernels, BatchNormEvalMatchesHostLoops) {
  for (std::size_t rows : {1, 7, 2053}) {
    check_batch_norm<double>(rows, Mode::Eval);
    check_batch_norm<float>(rows, Mode::Eval);
  }
}

TEST(LayerKernels, DenseBiasGradientMatchesHostLoop) {
  for (std::size_t rows : {1, 7, 2053}) {
    check_dense_bias_gradient<double>(rows);
    check_dense_bias_gradient<float>(rows);
  }
}

}  // namespace
}  // namespace eqflow
