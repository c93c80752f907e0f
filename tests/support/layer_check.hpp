// Finite-difference checks (double precision) of the four operations of a layer or model:
//   backward          against central differences of F1 = <wy, f(x)> in x and in parameters;
//   forward_tangent   against central differences of f along each tangent, statistics frozen;
//   backward_tangent  against central differences of F2 = <wt, J(x) tx> in x, tx, parameters
//                     (in Train mode J depends on x also through the batch statistics);
//   backward_dual     equals backward + backward_tangent.
#pragma once

#include <functional>
#include <memory>

#include "eqflow/core/rng.hpp"
#include "eqflow/nn/model.hpp"
#include "support/host.hpp"

namespace eqflow::test {

struct LayerCheckOptions {
  nn::Mode mode = nn::Mode::Train;
  std::size_t batch = 5;
  std::size_t probes = 3;
  double step = 1e-5;
  double atol = 1e-6;
  double rtol = 1e-6;
  std::uint64_t seed = 1;
};

inline void check_layer_derivatives(std::unique_ptr<nn::Layer<double>> layer,
                                    const LayerCheckOptions& opt) {
  using nn::Mode;
  nn::Model<double> model(std::move(layer), opt.seed);
  auto& store = model.parameters();
  // Generic parameter values (not the structured defaults, e.g. batch-norm gamma = 1).
  fill_uniform(store.values(), CounterRng(opt.seed, 100), 0, -1.0, 1.0);
  fill_uniform(store.buffers(), CounterRng(opt.seed, 101), 0, 0.5, 1.5);

  const std::size_t in = model.in_features(), out = model.out_features();
  const std::size_t b = opt.batch, kb = opt.probes * opt.batch;
  View2<double> x("x", b, in), tx("tx", kb, in), wy("wy", b, out), wt("wt", kb, out);
  View2<double> y("y", b, out), ty("ty", kb, out);
  fill_normal(x, CounterRng(opt.seed, 1), 0);
  fill_normal(tx, CounterRng(opt.seed, 2), 0);
  fill_normal(wy, CounterRng(opt.seed, 3), 0);
  fill_normal(wt, CounterRng(opt.seed, 4), 0);

  // Frozen mode reuses the statistics of a Train pass.
  if (opt.mode == Mode::Frozen) model.forward(x, y, Mode::Train);

  auto primal = [&] {
    model.forward(x, y, opt.mode);
    return dot(wy, y);
  };
  auto tangent = [&] {
    model.forward(x, y, opt.mode);
    model.forward_tangent(tx, ty);
    return dot(wt, ty);
  };
  auto param_grads = [&] { return to_vector(store.gradients()); };

  // backward
  View2<double> gx("gx", b, in);
  primal();
  model.zero_gradients();
  model.backward(wy, gx);
  const auto gx_primal = to_vector(gx);
  const auto gp_primal = param_grads();
  expect_close(gx_primal, finite_difference(x, primal, opt.step), opt.atol, opt.rtol,
               "backward: input gradient");
  if (store.num_parameters() > 0) {
    expect_close(gp_primal, finite_difference(store.values(), primal, opt.step), opt.atol, opt.rtol,
                 "backward: parameter gradient");
  }

  // forward_tangent: J tx against (f(x + h t) - f(x - h t)) / 2h per sample, statistics fixed.
  model.forward(x, y, opt.mode);
  model.forward_tangent(tx, ty);
  const auto ty_values = to_vector(ty);
  const Mode frozen = opt.mode == Mode::Train ? Mode::Frozen : opt.mode;
  const auto x0 = to_vector(x), t0 = to_vector(tx);
  std::vector<double> fd_ty(kb * out);
  for (std::size_t k = 0; k < opt.probes; ++k) {
    std::vector<double> up(x0), down(x0);
    for (std::size_t i = 0; i < b * in; ++i) {
      up[i] += opt.step * t0[k * b * in + i];
      down[i] -= opt.step * t0[k * b * in + i];
    }
    View2<double> xs("xs", b, in), ys("ys", b, out);
    from_vector(xs, up);
    model.forward(xs, ys, frozen);
    const auto yu = to_vector(ys);
    from_vector(xs, down);
    model.forward(xs, ys, frozen);
    const auto yd = to_vector(ys);
    for (std::size_t i = 0; i < b * out; ++i) {
      fd_ty[k * b * out + i] = (yu[i] - yd[i]) / (2 * opt.step);
    }
  }
  expect_close(ty_values, fd_ty, opt.atol, opt.rtol, "forward_tangent");

  // backward_tangent
  View2<double> gtx("gtx", kb, in), gx_t("gx_t", b, in);
  tangent();
  model.zero_gradients();
  model.net().backward_tangent(wt, gtx, gx_t);
  const auto gx_tangent = to_vector(gx_t);
  const auto gtx_tangent = to_vector(gtx);
  const auto gp_tangent = param_grads();
  expect_close(gx_tangent, finite_difference(x, tangent, opt.step), opt.atol, opt.rtol,
               "backward_tangent: input gradient");
  expect_close(gtx_tangent, finite_difference(tx, tangent, opt.step), opt.atol, opt.rtol,
               "backward_tangent: tangent gradient");
  if (store.num_parameters() > 0) {
    expect_close(gp_tangent, finite_difference(store.values(), tangent, opt.step), opt.atol,
                 opt.rtol, "backward_tangent: parameter gradient");
  }

  // backward_dual = backward + backward_tangent
  View2<double> gx_d("gx_d", b, in), gtx_d("gtx_d", kb, in);
  tangent();
  model.zero_gradients();
  model.backward_dual(wy, wt, gx_d, gtx_d);
  std::vector<double> sum_x(gx_primal.size()), sum_p(gp_primal.size());
  for (std::size_t i = 0; i < sum_x.size(); ++i) sum_x[i] = gx_primal[i] + gx_tangent[i];
  for (std::size_t i = 0; i < sum_p.size(); ++i) sum_p[i] = gp_primal[i] + gp_tangent[i];
  expect_close(to_vector(gx_d), sum_x, 1e-12, 1e-10, "backward_dual: input gradient");
  expect_close(to_vector(gtx_d), gtx_tangent, 1e-12, 1e-10, "backward_dual: tangent gradient");
  expect_close(param_grads(), sum_p, 1e-12, 1e-10, "backward_dual: parameter gradient");
}

}  // namespace eqflow::test
