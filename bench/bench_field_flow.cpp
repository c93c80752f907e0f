// Benchmark of the trained flow on fields (issue 12), the counterpart of
// `bench/field_flow_torch.py step` and `... sde`:
//
//   train  one float32 training step of nn::FieldFlowNetwork (channels, hidden, no final norm):
//          zero gradients, flow::FieldEquilibriumLoss::evaluate (fresh Gaussian probes from a
//          CounterRng stream per step, train mode, exact gradient), clip_gradient_norm 1.0 and
//          AdamW (decoupled weight decay 1e-5, lr 1e-2); x and the score s fixed random fields
//          (B, C, N, N), s = -x + 0.5 N(0, 1) as the torch side draws them.
//   sde    one Heun step of dynamics::FieldSde (dt 0.01 or --dt, eta 0.1, diffusion step 10)
//          with the score of a diffusion::FieldDiffusion UNet (random weights) on C channels and
//          v = K s, K the 1x1 channel kernel flow::make_kernel makes for the decks: "swap" (2
//          channels, the default there) or "random" (p - p^T normalised, the artificial-life
//          runs' kernel; the default for other channel counts); x uniform in [-1, 1]. Timed alone
//          and followed by one denoised frame.
//
//   bench_field_flow --mode train|sde [--batch B] [--size N] [--channels 2] [--hidden 32]
//                    [--probes 4] [--steps S] [--block-channels 16,32,64]
//                    [--layers-per-block 2] [--kernel swap|random] [--dt 0.01] [--profile 1]
// Prints "result field_flow_train <median seconds per step> cpu_s <median process CPU seconds
// per step> ..." (train) or "result field_sde_step ..." and "result field_sde_step_frame ..."
// (sde) over --steps steps after one warm-up step; for train also the dense-layer flops of a
// step against a same-process sgemm of the widest layer's shape; and (--profile 1) the exclusive
// time per region and kernel of one more step from Kokkos' tool callbacks.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "eqflow/core/blas.hpp"
#include "eqflow/core/openmp_env.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/core/timer.hpp"
#include "eqflow/diffusion/field_diffusion.hpp"
#include "eqflow/dynamics/field_sde.hpp"
#include "eqflow/flow/field_flow.hpp"
#include "eqflow/nn/field_flow.hpp"
#include "eqflow/nn/optimizer.hpp"
#include "kernel_profile.hpp"

namespace {

using namespace eqflow;

// ------------------------------------------------------------------------------ profile

//! The shared collector (bench/kernel_profile.hpp) with this benchmark's report.
struct Profile : bench::Profile {
  //! Runs `step` once under the callbacks and prints regions and the top kernels.
  static void report(const std::function<void()>& step, std::size_t top) {
    seconds.clear();
    set(true);
    Timer timer;
    {
      ScopedRegion region("bench::step");
      step();
    }
    const double total = timer.seconds();
    set(false);
    std::map<std::string, double> groups;
    std::vector<std::pair<double, std::string>> rows;
    for (const auto& [key, sec] : seconds) {
      groups[key.first] += sec;
      rows.push_back({sec, fmt::format("{} | {}", key.first, key.second)});
    }
    std::sort(rows.rbegin(), rows.rend());
    fmt::print("profile: one step of {:.4g} s (with tool callbacks), by region\n", total);
    std::vector<std::pair<double, std::string>> by_group;
    for (const auto& [name, sec] : groups) by_group.push_back({sec, name});
    std::sort(by_group.rbegin(), by_group.rend());
    for (const auto& [sec, name] : by_group) {
      fmt::print("profile region {:<52} {:9.4f} s {:5.1f}%\n", name, sec, 100 * sec / total);
    }
    fmt::print("profile: by kernel (region | kernel), top {}\n", top);
    for (std::size_t i = 0; i < rows.size() && i < top; ++i) {
      fmt::print("profile kernel {:<90} {:9.4f} s {:5.1f}%\n", rows[i].second, rows[i].first,
                 100 * rows[i].first / total);
    }
  }
};

// -------------------------------------------------------------------------------- timing

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

//! Wall and process-CPU seconds of each of `steps` calls of fn(step index), after one warm-up
//! call (index 0).
struct Timings {
  std::vector<double> wall, cpu;
  double median() const { return median_of(wall); }
  double cpu_median() const { return median_of(cpu); }
  double min() const { return *std::min_element(wall.begin(), wall.end()); }
  double max() const { return *std::max_element(wall.begin(), wall.end()); }
};

Timings time_steps(std::size_t steps, const std::function<void(std::uint64_t)>& fn) {
  fn(0);
  Timings t;
  for (std::size_t s = 1; s <= steps; ++s) {
    const std::clock_t cpu_start = std::clock();
    Timer timer;
    fn(s);
    t.wall.push_back(timer.seconds());
    t.cpu.push_back(double(std::clock() - cpu_start) / CLOCKS_PER_SEC);
  }
  return t;
}

//! GFLOP/s of `repeats` sgemm's op(A) op(B) of C (m, n) with inner k, after one warm-up.
double gemm_rate(const char* ta, const char* tb, std::size_t m, std::size_t n, std::size_t k,
                 int repeats) {
  const bool tra = ta[0] == 'T', trb = tb[0] == 'T';
  View2<float> a("bench_field_flow::a", tra ? k : m, tra ? m : k);
  View2<float> b("bench_field_flow::b", trb ? n : k, trb ? k : n);
  View2<float> c("bench_field_flow::c", m, n);
  fill_uniform(a, CounterRng(1, 1), 0, -1.0f, 1.0f);
  fill_uniform(b, CounterRng(1, 2), 0, -1.0f, 1.0f);
  gemm<float>(ta, tb, 1.0f, a, b, 0.0f, c);
  Timer timer;
  for (int r = 0; r < repeats; ++r) gemm<float>(ta, tb, 1.0f, a, b, 1.0f, c);
  return gemm_flops(double(m), double(n), double(k)) * repeats / timer.seconds() * 1e-9;
}

struct Options {
  std::string mode = "train";
  std::size_t batch = 0;  // 0: 128 (train), 8 (sde)
  std::size_t size = 64, channels = 2, hidden = 32, probes = 4, steps = 3;
  std::vector<std::size_t> block_channels{16, 32, 64};
  std::size_t layers_per_block = 2;
  std::string kernel;  // sde: empty = swap for 2 channels, random otherwise
  double dt = 0.01;    // sde
  bool profile = true;
};

// --------------------------------------------------------------------------------- train

int run_train(const Options& o) {
  const std::size_t n = o.batch ? o.batch : 128, c = o.channels, side = o.size;
  const std::size_t hid = o.hidden, k = o.probes;
  nn::FieldFlowNetwork<float> net(nn::FieldFlowConfig{c, hid, false}, 0);
  auto& store = net.parameters();
  nn::AdamConfig adam_cfg;
  adam_cfg.decoupled = true;
  adam_cfg.weight_decay = 1e-5;
  nn::Adam<float> adam(store.num_parameters(), adam_cfg);
  flow::FieldEquilibriumLoss<float> loss_fn(static_cast<int>(k));

  View4<float> x("bench_field_flow::x", n, c, side, side),
      s("bench_field_flow::s", n, c, side, side);
  fill_normal(x, CounterRng(7, 0), 0);
  fill_normal(s, CounterRng(7, 1), 0);
  Kokkos::parallel_for(
      "bench_field_flow::score", RangePolicy(0, s.size()),
      KOKKOS_LAMBDA(const std::size_t i) { s.data()[i] = -x.data()[i] + 0.5f * s.data()[i]; });

  double first_loss = 0, last_loss = 0;
  auto train_step = [&](std::uint64_t step) {
    store.zero_gradients();
    const double loss = loss_fn.evaluate(net, x, s, CounterRng(13, step), 0, nn::Mode::Train, true);
    {
      ScopedRegion region("bench::optimizer");
      nn::clip_gradient_norm<float>(store.gradients(), 1.0);
      adam.step(store.values(), store.gradients(), 1e-2);
    }
    if (step == 0) first_loss = loss;
    last_loss = loss;
  };
  const Timings t = time_steps(o.steps, train_step);
  fmt::print(
      "result field_flow_train {:.6e} cpu_s {:.6e} samples_per_s {:.4g} min {:.6e} max {:.6e} "
      "batch {} size {} channels {} hidden {} probes {} steps {} parameters {} loss_first {:.6g} "
      "loss_last {:.6g}\n",
      t.median(), t.cpu_median(), double(n) / t.median(), t.min(), t.max(), n, side, c, hid, k,
      o.steps, store.num_parameters(), first_loss, last_loss);

  // Dense-layer flops of a step: primal rows R = B N^2 and K R tangent rows through the three
  // Dense layers (3C -> Hd, Hd -> Hd, Hd -> C): forward, weight gradient, and the input
  // gradient of the last two (the stencil features need none).
  const double rows = double(n * side * side) * double(1 + k);
  const double w0 = double(3 * c * hid), w3 = double(hid * hid), w6 = double(hid * c);
  const double dense = 2.0 * rows * (3.0 * (w0 + w3 + w6) - w0);
  // The ceiling: the Hd -> Hd layer's forward, weight and input gradient on 64k-row blocks.
  const std::size_t block = std::min<std::size_t>(65536, n * side * side * (1 + k));
  const double fwd = gemm_rate("N", "T", block, hid, hid, 8);
  const double wgt = gemm_rate("T", "N", hid, hid, block, 8);
  const double inp = gemm_rate("N", "N", block, hid, hid, 8);
  const double mean = 3.0 / (1 / fwd + 1 / wgt + 1 / inp);
  fmt::print(
      "result dense_flops {:.6e} dense_gflops_per_s {:.4g} floor_s {:.4e} (at the sgemm mean)\n",
      dense, dense / t.median() * 1e-9, dense / (mean * 1e9));
  fmt::print(
      "result gemm_gflops_per_s rows{} fwd {:.4g} wgrad {:.4g} igrad {:.4g} mean {:.4g} "
      "({}x{}x{})\n",
      block, fwd, wgt, inp, mean, block, hid, hid);
  if (o.profile) Profile::report([&] { train_step(o.steps + 1); }, 30);
  return 0;
}

// ----------------------------------------------------------------------------------- sde

int run_sde(const Options& o) {
  const std::size_t n = o.batch ? o.batch : 8, c = o.channels, side = o.size;
  nn::UNetConfig cfg;
  cfg.channels = c;
  cfg.block_channels = o.block_channels;
  cfg.layers_per_block = o.layers_per_block;
  diffusion::FieldDiffusion<float> model(cfg, diffusion::NoiseSchedule::linear_betas());
  model.unet().initialize(0);
  const std::string kernel = !o.kernel.empty() ? o.kernel : c == 2 ? "swap" : "random";
  flow::KernelFlow<float> kernel_flow(flow::make_kernel(kernel, c, 1, CounterRng(5, 0)));
  auto velocity = [&](const nn::ConstField<float>& x, const nn::ConstField<float>& s,
                      const nn::MutField<float>& v) { kernel_flow.velocity(x, s, v); };
  View4<float> x0("bench_field_flow::x0", n, c, side, side);
  View4<float> frame("bench_field_flow::frame", n, c, side, side);
  fill_uniform(x0, CounterRng(7, 0), 0, -1.0f, 1.0f);
  const dynamics::FieldSdeSettings settings{o.dt, 0.1, 10};

  // The step alone: two UNet evaluations (at x and at the predictor).
  dynamics::FieldSde<float> sde(model, velocity, settings, x0, CounterRng(17, 0));
  const Timings step = time_steps(o.steps, [&](std::uint64_t) { sde.step(); });
  // Step and frame: the frame's score at the new state is the next step's, so a step with a
  // frame also costs two UNet evaluations; the frame's own kernel is timed apart (score cached).
  dynamics::FieldSde<float> sde_frames(model, velocity, settings, x0, CounterRng(17, 0));
  const Timings with_frame = time_steps(o.steps, [&](std::uint64_t) {
    sde_frames.step();
    sde_frames.denoised(frame);
  });
  std::vector<double> frame_only;
  for (std::size_t r = 0; r < std::max<std::size_t>(3, o.steps); ++r) {
    Timer timer;
    sde_frames.denoised(frame);
    frame_only.push_back(timer.seconds());
  }
  std::string blocks;
  for (const std::size_t b : o.block_channels)
    blocks += (blocks.empty() ? "" : ",") + std::to_string(b);
  fmt::print(
      "result field_sde_step {:.6e} cpu_s {:.6e} samples_per_s {:.4g} min {:.6e} max {:.6e} "
      "batch {} size {} channels {} block_channels {} layers_per_block {} kernel {} dt {} steps {} "
      "parameters {}\n",
      step.median(), step.cpu_median(), double(n) / step.median(), step.min(), step.max(), n, side,
      c, blocks, o.layers_per_block, kernel, o.dt, o.steps,
      model.unet().parameters().num_parameters());
  fmt::print(
      "result field_sde_step_frame {:.6e} cpu_s {:.6e} frame_s {:.6e} min {:.6e} max {:.6e}\n",
      with_frame.median(), with_frame.cpu_median(), median_of(frame_only), with_frame.min(),
      with_frame.max());
  if (o.profile) Profile::report([&] { sde.step(); }, 20);
  return 0;
}

std::vector<std::size_t> parse_list(const std::string& text) {
  std::vector<std::size_t> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    out.push_back(std::stoul(text.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    for (int i = 1; i < argc; i += 2) {
      const std::string key = argv[i];
      if (i + 1 >= argc) throw std::invalid_argument(key + " needs a value");
      const std::string value = argv[i + 1];
      if (key == "--mode")
        o.mode = value;
      else if (key == "--block-channels")
        o.block_channels = parse_list(value);
      else if (key == "--batch")
        o.batch = std::stoul(value);
      else if (key == "--size")
        o.size = std::stoul(value);
      else if (key == "--channels")
        o.channels = std::stoul(value);
      else if (key == "--hidden")
        o.hidden = std::stoul(value);
      else if (key == "--probes")
        o.probes = std::stoul(value);
      else if (key == "--steps")
        o.steps = std::max<unsigned long>(1, std::stoul(value));
      else if (key == "--layers-per-block")
        o.layers_per_block = std::stoul(value);
      else if (key == "--kernel")
        o.kernel = value;
      else if (key == "--dt")
        o.dt = std::stod(value);
      else if (key == "--profile")
        o.profile = std::stoul(value) != 0;
      else
        throw std::invalid_argument("unknown option " + key);
    }
    if (o.mode != "train" && o.mode != "sde") {
      throw std::invalid_argument("--mode must be train or sde (got " + o.mode + ")");
    }
    if (!o.kernel.empty() && o.kernel != "swap" && o.kernel != "random") {
      throw std::invalid_argument("--kernel must be swap or random (got " + o.kernel + ")");
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_field_flow: {}\n", e.what());
    return 2;
  }
  eqflow::set_openmp_defaults();
  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    return o.mode == "train" ? run_train(o) : run_sde(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_field_flow: {}\n", e.what());
    return 1;
  }
}
