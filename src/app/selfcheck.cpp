// The self-check of `eqflow selfcheck`: the equilibrium-loss gradient against central finite
// differences (double), then 200 Adam steps of a FlowKernel on N(0, I) with the exact score.
#include "eqflow/app/selfcheck.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "eqflow/core/error.hpp"
#include "eqflow/core/log.hpp"
#include "eqflow/core/progress.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/flow/equilibrium_loss.hpp"
#include "eqflow/nn/model.hpp"
#include "eqflow/nn/optimizer.hpp"

namespace eqflow::app {
namespace {

// Directional finite-difference check of the equilibrium-loss gradient (double).
double gradient_check() {
  nn::Model<double> model(nn::make_flow_kernel<double>(2, 16), 7);
  const std::size_t batch = 32;
  View2<double> x("x", batch, 2), s("s", batch, 2);
  fill_normal(x, CounterRng(1, 0), 0);
  Kokkos::parallel_for(
      "selfcheck::score", RangePolicy(0, x.size()),
      KOKKOS_LAMBDA(const std::size_t i) { s.data()[i] = -x.data()[i]; });
  flow::EquilibriumLoss<double> loss(flow::DivergenceEstimator::Exact);
  const CounterRng probes(3, 0);
  model.zero_gradients();
  loss.evaluate(model, x, s, probes, 0, nn::Mode::Train, true);
  auto params = model.parameters().values();
  auto grads = Kokkos::create_mirror_view_and_copy(HostSpace(), model.parameters().gradients());
  auto host = Kokkos::create_mirror(params);  // a real copy, also on the host
  Kokkos::deep_copy(host, params);
  View1<double> dir("dir", params.extent(0));
  fill_normal(dir, CounterRng(5, 0), 0);
  auto hdir = Kokkos::create_mirror_view_and_copy(HostSpace(), dir);
  double analytic = 0.0;
  for (std::size_t i = 0; i < host.extent(0); ++i) analytic += grads(i) * hdir(i);
  const double h = 1e-5;
  auto shifted = [&](double sign) {
    auto p = Kokkos::create_mirror_view(params);
    for (std::size_t i = 0; i < host.extent(0); ++i) p(i) = host(i) + sign * h * hdir(i);
    Kokkos::deep_copy(params, p);
    return loss.evaluate(model, x, s, probes, 0, nn::Mode::Train, false);
  };
  const double numeric = (shifted(1) - shifted(-1)) / (2 * h);
  Kokkos::deep_copy(params, host);
  log::debug("gradient check: analytic {:.10e} numeric {:.10e}", analytic, numeric);
  return std::abs(analytic - numeric) / std::max(1e-12, std::abs(numeric));
}

}  // namespace

SelfcheckResult selfcheck() {
  SelfcheckResult result;
  const double rel = gradient_check();
  result.gradient_error = rel;
  log::info("gradient check (FlowKernel, exact divergence, double): relative error {:.2e}", rel);
  if (!(rel < 1e-6)) throw Error(fmt::format("selfcheck: gradient check failed ({:.3e})", rel));

  // Train a FlowKernel on N(0, I) in 2-D, whose score s = -x is exact.
  const std::size_t batch = 512, d = 2;
  nn::Model<float> model(nn::make_flow_kernel<float>(d, 32), 11);
  nn::AdamConfig cfg;
  cfg.weight_decay = 1e-5;
  nn::Adam<float> adam(model.parameters().num_parameters(), cfg);
  flow::EquilibriumLoss<float> loss(flow::DivergenceEstimator::Exact);
  View2<float> x("x", batch, d), s("s", batch, d);
  const int steps = 200;
  ProgressReporter progress("selfcheck training", steps, log::rank() == 0, 2.0);
  double first = 0, last = 0;
  for (int step = 0; step < steps; ++step) {
    fill_normal(x, CounterRng(21, static_cast<std::uint64_t>(step)), 0);
    Kokkos::parallel_for(
        "selfcheck::score", RangePolicy(0, x.size()),
        KOKKOS_LAMBDA(const std::size_t i) { s.data()[i] = -x.data()[i]; });
    model.zero_gradients();
    const double value = loss.evaluate(model, x, s, CounterRng(22, step), 0, nn::Mode::Train, true);
    adam.step(model.parameters().values(), model.parameters().gradients(), 1e-2);
    if (step == 0) first = value;
    last = value;
    progress.update(step + 1, fmt::format("loss {:.4f}", value));
  }
  progress.finish(fmt::format("loss {:.4f}", last));
  log::info("equilibrium loss on N(0, I): {:.4f} at step 1, {:.4f} at step {}", first, last, steps);
  if (!(last < 0.5 * first)) throw Error("selfcheck: training did not lower the loss");
  result.first_loss = first;
  result.last_loss = last;
  return result;
}

}  // namespace eqflow::app
