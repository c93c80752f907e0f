// Micro-benchmark of one training step: FlowKernel equilibrium loss (batch 2048, d = 3) with
// 10 Hutchinson probes and with the exact divergence, and one score-MLP denoising step. Each
// is reported as time per step and achieved GFLOP/s (dense-layer flops), next to the GFLOP/s
// of a plain gemm of the dominant shape measured in the same run; then the flow's final batch
// norm alone (its column reductions: statistics, backward, backward_tangent). Lines "result KEY
// SECONDS GFLOPS" are for scripts (bench/compare.sh).
//
//   bench_step [--steps N] [--batch B] [--dim D] [--probes K]
#include <fmt/core.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "eqflow/core/blas.hpp"
#include "eqflow/core/openmp_env.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/core/timer.hpp"
#include "eqflow/diffusion/denoising_loss.hpp"
#include "eqflow/flow/equilibrium_loss.hpp"
#include "eqflow/nn/batch_norm.hpp"
#include "eqflow/nn/optimizer.hpp"
#include "eqflow/version.hpp"

namespace {

using namespace eqflow;

struct Options {
  int steps = 20;
  std::size_t batch = 2048;
  std::size_t dim = 3;
  int probes = 10;
  std::size_t hidden = 64;
};

// Dense-layer flops of one step: forward, input and weight gradients for the primal rows
// (B) and for the tangent rows (T = K B); the first layer's input gradient is skipped.
double dense_flops(const std::vector<std::pair<double, double>>& layers, double primal,
                   double tangent) {
  double total = 0;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const double mn = layers[l].first * layers[l].second;
    const double passes = l == 0 ? 2 : 3;  // forward, weight gradient [, input gradient]
    total += 2 * mn * passes * (primal + tangent);
  }
  return total;
}

// Median-free simple timing: one warm-up, then the mean of `steps` runs.
double seconds_per_call(int steps, const std::function<void()>& body) {
  body();
  Timer t;
  for (int i = 0; i < steps; ++i) body();
  return t.seconds() / steps;
}

double gemm_gflops(std::size_t m, std::size_t n, std::size_t k, int steps) {
  View2<float> a("a", m, k), b("b", n, k), c("c", m, n);
  fill_uniform(a, CounterRng(1, 0), 0, -1.0f, 1.0f);
  fill_uniform(b, CounterRng(1, 1), 0, -1.0f, 1.0f);
  const double s = seconds_per_call(steps, [&] { gemm<float>("N", "T", 1.0f, a, b, 0.0f, c); });
  return gemm_flops(m, n, k) / s * 1e-9;
}

void report(const std::string& key, const std::string& name, double seconds, double flops,
            double reference_gflops) {
  const double gflops = flops / seconds * 1e-9;
  fmt::print("{:<38} {:>10.3f} {:>10.2f} {:>12.1f}%\n", name, seconds * 1e3, gflops,
             100.0 * gflops / reference_gflops);
  fmt::print("result {} {:.6e} {:.3f}\n", key, seconds, gflops);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--steps")
      opt.steps = std::atoi(argv[i + 1]);
    else if (key == "--batch")
      opt.batch = std::strtoul(argv[i + 1], nullptr, 10);
    else if (key == "--dim")
      opt.dim = std::strtoul(argv[i + 1], nullptr, 10);
    else if (key == "--probes")
      opt.probes = std::atoi(argv[i + 1]);
    else {
      fmt::print(stderr, "bench_step: unknown option {}\n", key);
      return 2;
    }
  }
  eqflow::set_openmp_defaults();
  Kokkos::ScopeGuard kokkos(argc, argv);
  const std::size_t d = opt.dim, b = opt.batch, h = opt.hidden;
  fmt::print(
      "eqflow {} (git {}) bench_step: batch {}, d {}, hidden {}, {} steps, float32, "
      "execution space {} (concurrency {})\n",
      kVersion, kGitRevision, b, d, h, opt.steps, ExecSpace::name(), ExecSpace().concurrency());

  const std::size_t tangent_rows = static_cast<std::size_t>(opt.probes) * b;
  const double ref = gemm_gflops(tangent_rows, h, h, opt.steps);
  fmt::print("reference gemm ({} x {}) * ({} x {})^T: {:.2f} GFLOP/s\n", tangent_rows, h, h, h,
             ref);
  fmt::print("result gemm 0 {:.3f}\n\n", ref);
  fmt::print("{:<38} {:>10} {:>10} {:>13}\n", "step", "ms/step", "GFLOP/s", "of gemm");

  View2<float> x("x", b, d), s("s", b, d);
  fill_normal(x, CounterRng(2, 0), 0);
  Kokkos::parallel_for(
      "bench::score", RangePolicy(0, x.size()),
      KOKKOS_LAMBDA(const std::size_t i) { s.data()[i] = -x.data()[i]; });
  const std::vector<std::pair<double, double>> flow_layers = {
      {double(9 * d), double(h)}, {double(h), double(h)}, {double(h), double(d)}};

  auto flow_step = [&](flow::DivergenceEstimator estimator, const std::string& key,
                       const std::string& name) {
    nn::Model<float> model(nn::make_flow_kernel<float>(d, h), 1);
    nn::AdamConfig cfg;
    cfg.weight_decay = 1e-5;
    nn::Adam<float> adam(model.parameters().num_parameters(), cfg);
    flow::EquilibriumLoss<float> loss(estimator, opt.probes);
    std::uint64_t step = 0;
    const double sec = seconds_per_call(opt.steps, [&] {
      model.zero_gradients();
      loss.evaluate(model, x, s, CounterRng(3, step++), 0, nn::Mode::Train, true);
      adam.step(model.parameters().values(), model.parameters().gradients(), 1e-2);
    });
    const double tangents = double(loss.tangents_per_sample(d)) * b;
    report(key, name, sec, dense_flops(flow_layers, double(b), tangents), ref);
  };
  flow_step(flow::DivergenceEstimator::Hutchinson, "flow_hutchinson",
            fmt::format("FlowKernel, hutchinson K={}", opt.probes));
  flow_step(flow::DivergenceEstimator::Exact, "flow_exact",
            fmt::format("FlowKernel, exact (d={})", d));

  {
    nn::Model<float> model(nn::make_score_mlp<float>(d, h), 1);
    nn::AdamConfig cfg;
    cfg.weight_decay = 1e-5;
    nn::Adam<float> adam(model.parameters().num_parameters(), cfg);
    diffusion::DenoisingLoss<float> loss(diffusion::NoiseSchedule::cosine());
    std::uint64_t step = 0;
    const double sec = seconds_per_call(opt.steps, [&] {
      model.zero_gradients();
      loss.evaluate(model, x, CounterRng(4, step++), 0, true);
      adam.step(model.parameters().values(), model.parameters().gradients(), 1e-2);
    });
    const std::vector<std::pair<double, double>> score_layers = {
        {double(d + 1), double(h)}, {double(h), double(h)}, {double(h), double(d)}};
    report("score", "score MLP, denoising", sec, dense_flops(score_layers, double(b), 0.0), ref);
  }

  {
    // The column reductions alone, at the flow's final layer: affine-free batch norm over d
    // features, Train forward, backward, forward_tangent and backward_tangent (K B rows).
    nn::Model<float> norm(std::make_unique<nn::BatchNorm<float>>(d, false), 1);
    View2<float> y("y", b, d), gy("gy", b, d), gx("gx", b, d);
    View2<float> tx("tx", tangent_rows, d), ty("ty", tangent_rows, d);
    View2<float> gty("gty", tangent_rows, d), gtx("gtx", tangent_rows, d);
    fill_normal(gy, CounterRng(5, 0), 0);
    fill_normal(tx, CounterRng(5, 1), 0);
    fill_normal(gty, CounterRng(5, 2), 0);
    const double sec = seconds_per_call(opt.steps, [&] {
      norm.forward(x, y, nn::Mode::Train);
      norm.backward(gy, gx);
      norm.forward_tangent(tx, ty);
      norm.net().backward_tangent(gty, gtx, gx);
      Kokkos::fence();
    });
    fmt::print("{:<38} {:>10.3f}\n", fmt::format("batch norm alone (d={}, K={})", d, opt.probes),
               sec * 1e3);
    fmt::print("result batch_norm {:.6e} 0\n", sec);
  }
  return 0;
}
