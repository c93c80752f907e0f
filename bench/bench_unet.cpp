// Benchmark of one full float32 training step of the pattern systems' UNet (nn::UNet, DESIGN.md
// section 2), the counterpart of `bench/unet_torch.py step`: x_t from random x0 in [-1, 1],
// standard normal noise and integer steps in [0, 100) (linear betas 1e-4..0.1, alpha-bar),
// the v target, loss = mean square, gy = 2 (out - v) / numel, backward, clip_gradient_norm 1.0
// and AdamW (decoupled weight decay 0.01, lr 1e-3).
//
//   bench_unet [--batch 64] [--size 64] [--channels 2] [--steps 3] [--profile 1]
// Prints "result unet_step <median seconds per step> samples_per_s <rate> cpu_s <median
// process CPU seconds per step> ..." over --steps steps after one warm-up step; then the
// convolution flops of one step and their rate, the rate of plain sgemm's of the shapes of the
// largest convolution in the same process (the ceiling of im2col + gemm), and (--profile 1) a
// per-layer-kind profile of one more step from Kokkos' tool callbacks: the time of every kernel and
// gemm under its innermost region.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "eqflow/core/blas.hpp"
#include "eqflow/core/openmp_env.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/core/timer.hpp"
#include "eqflow/nn/optimizer.hpp"
#include "eqflow/nn/unet.hpp"
#include "kernel_profile.hpp"

namespace {

using namespace eqflow;

using bench::Profile;  // bench/kernel_profile.hpp

// --------------------------------------------------------------------------------- flops

//! Multiply-adds x 2 of every convolution of one forward at batch n and side `size`, mirroring
//! UNet's path (nn/unet.hpp): conv_in, per level `layers` ResNet blocks (conv1, conv2, a 1x1
//! shortcut when the channels change) and a stride-2 down convolution, the mid block's two
//! ResNet blocks, per level `layers + 1` up ResNet blocks on the concatenated skips and an
//! upsampling convolution, conv_out. `conv_in_flops` gets conv_in's share.
double forward_conv_flops(const nn::UNetConfig& cfg, double n, std::size_t size,
                          double& conv_in_flops) {
  const auto& blocks = cfg.block_channels;
  const std::size_t layers = cfg.layers_per_block;
  auto pixels = [&](std::size_t level) {
    const double side = double(size >> level);
    return n * side * side;
  };
  auto conv = [&](std::size_t in, std::size_t out, std::size_t k, std::size_t level) {
    return 2.0 * double(in * out * k * k) * pixels(level);
  };
  auto resnet = [&](std::size_t in, std::size_t out, std::size_t level) {
    return conv(in, out, 3, level) + conv(out, out, 3, level) +
           (in != out ? conv(in, out, 1, level) : 0.0);
  };
  conv_in_flops = conv(cfg.channels, blocks[0], 3, 0);
  double total = conv_in_flops;
  std::vector<std::size_t> skips{blocks[0]};
  std::size_t level = 0, channels = blocks[0];
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    for (std::size_t j = 0; j < layers; ++j) {
      total += resnet(channels, blocks[b], level);
      channels = blocks[b];
      skips.push_back(channels);
    }
    if (b + 1 < blocks.size()) {
      total += conv(channels, channels, 3, ++level);  // stride 2: output pixels of level + 1
      skips.push_back(channels);
    }
  }
  total += 2 * resnet(channels, channels, level);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const std::size_t out = blocks[blocks.size() - 1 - i];
    for (std::size_t j = 0; j <= layers; ++j) {
      total += resnet(channels + skips.back(), out, level);
      skips.pop_back();
      channels = out;
    }
    if (i + 1 < blocks.size()) total += conv(channels, channels, 3, --level);
  }
  return total + conv(channels, cfg.channels, 3, 0);
}

// ---------------------------------------------------------------------------- reference

//! GFLOP/s of `repeats` sgemm's op(A) op(B) of C (m, n) with inner k, after one warm-up.
double gemm_rate(const char* ta, const char* tb, std::size_t m, std::size_t n, std::size_t k,
                 int repeats) {
  const bool tra = ta[0] == 'T', trb = tb[0] == 'T';
  View2<float> a("bench_unet::a", tra ? k : m, tra ? m : k);
  View2<float> b("bench_unet::b", trb ? n : k, trb ? k : n);
  View2<float> c("bench_unet::c", m, n);
  fill_uniform(a, CounterRng(1, 1), 0, -1.0f, 1.0f);
  fill_uniform(b, CounterRng(1, 2), 0, -1.0f, 1.0f);
  gemm<float>(ta, tb, 1.0f, a, b, 0.0f, c);
  Timer timer;
  for (int r = 0; r < repeats; ++r) gemm<float>(ta, tb, 1.0f, a, b, 1.0f, c);
  return gemm_flops(double(m), double(n), double(k)) * repeats / timer.seconds() * 1e-9;
}

// ---------------------------------------------------------------------- conv algorithms

//! Seconds of one forward + backward (with the input gradient) of a 3x3 stride-1 convolution
//! cin -> cout on (n, cin, side, side), the median of 3 after one warm-up.
double conv_seconds(std::size_t cin, std::size_t cout, std::size_t n, std::size_t side,
                    nn::ConvAlgorithm algorithm) {
  nn::Conv2d<float> conv(cin, cout, 3, 1);
  conv.set_algorithm(algorithm);
  nn::ParameterStore<float> store;
  conv.declare(store, "conv.");
  store.allocate();
  conv.bind(store);
  conv.initialize(1, 0);
  View4<float> x("bench_unet::conv_x", n, cin, side, side),
      gx("bench_unet::conv_gx", n, cin, side, side);
  View4<float> y("bench_unet::conv_y", n, cout, side, side);
  fill_uniform(x, CounterRng(3, 0), 0, -1.0f, 1.0f);
  std::vector<double> times;
  for (int r = 0; r < 4; ++r) {
    Timer timer;
    conv.forward(x, y, nn::Mode::Train);
    conv.backward(y, gx);
    if (r > 0) times.push_back(timer.seconds());
  }
  std::sort(times.begin(), times.end());
  return times[1];
}

// -------------------------------------------------------------------------------- step

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

struct Options {
  std::size_t batch = 64, size = 64, channels = 2, steps = 3;
  bool profile = true;
};

int run(const Options& o) {
  constexpr std::size_t diffusion_steps = 100;
  nn::UNetConfig cfg;
  cfg.channels = o.channels;
  nn::UNet<float> unet(cfg);
  unet.initialize(0);
  auto& store = unet.parameters();
  nn::AdamConfig adam_cfg;
  adam_cfg.decoupled = true;
  adam_cfg.weight_decay = 0.01;
  nn::Adam<float> adam(store.num_parameters(), adam_cfg);

  // alpha-bar of linspace(1e-4, 0.1, 100), in double as the reference.
  View1<float> sqrt_ab("bench_unet::sqrt_ab", diffusion_steps);
  View1<float> sqrt_1mab("bench_unet::sqrt_1mab", diffusion_steps);
  {
    auto h_ab = Kokkos::create_mirror_view(sqrt_ab);
    auto h_1mab = Kokkos::create_mirror_view(sqrt_1mab);
    double ab = 1.0;
    for (std::size_t t = 0; t < diffusion_steps; ++t) {
      ab *= 1.0 - (1e-4 + (0.1 - 1e-4) * double(t) / double(diffusion_steps - 1));
      h_ab(t) = float(std::sqrt(ab));
      h_1mab(t) = float(std::sqrt(1.0 - ab));
    }
    Kokkos::deep_copy(sqrt_ab, h_ab);
    Kokkos::deep_copy(sqrt_1mab, h_1mab);
  }

  const std::size_t n = o.batch, c = o.channels, side = o.size;
  View4<float> x0("bench_unet::x0", n, c, side, side), eps("bench_unet::eps", n, c, side, side);
  View4<float> xt("bench_unet::xt", n, c, side, side), v("bench_unet::v", n, c, side, side);
  View4<float> out("bench_unet::out", n, c, side, side), gy("bench_unet::gy", n, c, side, side);
  View1<float> steps("bench_unet::steps", n);
  fill_uniform(x0, CounterRng(7, 0), 0, -1.0f, 1.0f);
  const std::size_t numel = xt.size(), per_sample = numel / n;

  auto train_step = [&](std::uint64_t step) {
    {
      ScopedRegion region("bench::noising");
      const CounterRng rng(11, step);
      fill_normal(eps, rng, 0);
      Kokkos::parallel_for(
          "bench_unet::steps", RangePolicy(0, n), KOKKOS_LAMBDA(const std::size_t i) {
            steps(i) =
                float(std::uint64_t(rng.uniform(numel + i) * diffusion_steps) % diffusion_steps);
          });
      Kokkos::parallel_for(
          "bench_unet::noise", RangePolicy(0, numel), KOKKOS_LAMBDA(const std::size_t i) {
            const std::size_t t = std::size_t(steps(i / per_sample));
            const float a = sqrt_ab(t), b = sqrt_1mab(t);
            xt.data()[i] = a * x0.data()[i] + b * eps.data()[i];
            v.data()[i] = a * eps.data()[i] - b * x0.data()[i];
          });
    }
    store.zero_gradients();
    {
      ScopedRegion region("bench::forward");
      unet.forward(xt, steps, out);
    }
    double loss = 0;
    {
      ScopedRegion region("bench::loss");
      const float scale = 2.0f / float(numel);
      Kokkos::parallel_reduce(
          "bench_unet::loss", RangePolicy(0, numel),
          KOKKOS_LAMBDA(const std::size_t i, double& acc) {
            const float d = out.data()[i] - v.data()[i];
            gy.data()[i] = scale * d;
            acc += double(d) * double(d);
          },
          loss);
    }
    {
      ScopedRegion region("bench::backward");
      unet.backward(gy, nn::MutField<float>());
    }
    {
      ScopedRegion region("bench::optimizer");
      nn::clip_gradient_norm<float>(store.gradients(), 1.0);
      adam.step(store.values(), store.gradients(), 1e-3);
    }
    return loss / double(numel);
  };

  double first_loss = train_step(0);  // warm-up: allocations
  std::vector<double> times, cpu_times;
  double last_loss = first_loss;
  for (std::size_t s = 0; s < o.steps; ++s) {
    const std::clock_t cpu_start = std::clock();
    Timer timer;
    last_loss = train_step(s + 1);
    times.push_back(timer.seconds());
    cpu_times.push_back(double(std::clock() - cpu_start) / CLOCKS_PER_SEC);
  }
  const double median = median_of(times), cpu_median = median_of(cpu_times);
  fmt::print(
      "result unet_step {:.6e} samples_per_s {:.4g} cpu_s {:.6e} min {:.6e} max {:.6e} batch {} "
      "size {} channels {} steps {} parameters {} loss_first {:.6g} loss_last {:.6g}\n",
      median, double(n) / median, cpu_median, *std::min_element(times.begin(), times.end()),
      *std::max_element(times.begin(), times.end()), n, side, c, o.steps, store.num_parameters(),
      first_loss, last_loss);

  // Convolution flops of one step: forward, weight gradient and input gradient (none for
  // conv_in: the step needs no gradient of x_t).
  double conv_in = 0;
  const double fwd = forward_conv_flops(cfg, double(n), side, conv_in);
  const double conv_flops = 3 * fwd - conv_in;
  fmt::print("result conv_flops {:.6e} conv_gflops_per_s {:.4g}\n", conv_flops,
             conv_flops / median * 1e-9);

  // The ceiling: sgemm's of the level-0 16 -> 16 3x3 convolution per sample (out 16, in 144,
  // H W columns): forward NN, weight gradient NT, input gradient TN; and the same three with
  // every sample's columns side by side (as many as fit 64 MiB of columns).
  const std::size_t co = cfg.block_channels[0], kk = 9 * co, p = side * side;
  const int reps = int(std::max<std::size_t>(1, n));
  const double fwd_rate = gemm_rate("N", "N", co, p, kk, reps);
  const double wgt_rate = gemm_rate("N", "T", co, kk, p, reps);
  const double inp_rate = gemm_rate("T", "N", kk, p, co, reps);
  const std::size_t group =
      std::max<std::size_t>(1, std::min(n, (std::size_t(16) << 20) / (kk * p)));
  const int greps = int(std::max<std::size_t>(1, n / group));
  const double fwd_batched = gemm_rate("N", "N", co, group * p, kk, greps);
  const double wgt_batched = gemm_rate("N", "T", co, kk, group * p, greps);
  const double inp_batched = gemm_rate("T", "N", kk, group * p, co, greps);
  const double square = gemm_rate("N", "N", 512, 512, 512, 8);
  fmt::print(
      "result gemm_gflops_per_s per_sample fwd {:.4g} wgrad {:.4g} igrad {:.4g} mean {:.4g} "
      "({}x{}x{})\n",
      fwd_rate, wgt_rate, inp_rate, 3.0 / (1 / fwd_rate + 1 / wgt_rate + 1 / inp_rate), co, kk, p);
  fmt::print(
      "result gemm_gflops_per_s batched{} fwd {:.4g} wgrad {:.4g} igrad {:.4g} mean {:.4g}\n",
      group, fwd_batched, wgt_batched, inp_batched,
      3.0 / (1 / fwd_batched + 1 / wgt_batched + 1 / inp_batched));
  fmt::print("result gemm_gflops_per_s square512 {:.4g}\n", square);

  // im2col + gemm against direct loops for the UNet's 3x3 shapes (in -> out channels).
  {
    const std::size_t cn = std::min<std::size_t>(n, 16);
    const std::size_t b0 = cfg.block_channels[0];
    for (const auto& [cin, cout] : std::vector<std::pair<std::size_t, std::size_t>>{
             {b0, o.channels}, {o.channels, b0}, {b0, b0}, {2 * b0, b0}}) {
      const double im2col = conv_seconds(cin, cout, cn, side, nn::ConvAlgorithm::Im2col);
      const double direct = conv_seconds(cin, cout, cn, side, nn::ConvAlgorithm::Direct);
      fmt::print(
          "result conv_algorithm {}->{} batch {} size {} im2col_s {:.4e} direct_s {:.4e} "
          "direct/im2col {:.2f} auto {}\n",
          cin, cout, cn, side, im2col, direct, direct / im2col,
          nn::Conv2d<float>(cin, cout, 3, 1).direct() ? "direct" : "im2col");
    }
  }

  if (o.profile) {
    Profile::set(true);
    Timer timer;
    {
      ScopedRegion region("bench::step");
      train_step(o.steps + 1);
    }
    const double total = timer.seconds();
    Profile::set(false);
    std::map<std::string, double> groups;
    std::vector<std::pair<double, std::string>> rows;
    for (const auto& [key, sec] : Profile::seconds) {
      groups[key.first] += sec;
      rows.push_back({sec, fmt::format("{} | {}", key.first, key.second)});
    }
    std::sort(rows.rbegin(), rows.rend());
    fmt::print("profile: one step of {:.4g} s (with tool callbacks), by region\n", total);
    std::vector<std::pair<double, std::string>> by_group;
    for (const auto& [name, sec] : groups) by_group.push_back({sec, name});
    std::sort(by_group.rbegin(), by_group.rend());
    for (const auto& [sec, name] : by_group) {
      fmt::print("profile region {:<40} {:9.4f} s {:5.1f}%\n", name, sec, 100 * sec / total);
    }
    fmt::print("profile: by kernel (region | kernel), top 25\n");
    for (std::size_t i = 0; i < rows.size() && i < 25; ++i) {
      fmt::print("profile kernel {:<70} {:9.4f} s {:5.1f}%\n", rows[i].second, rows[i].first,
                 100 * rows[i].first / total);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const auto value = std::strtoul(argv[i + 1], nullptr, 10);
    if (key == "--batch")
      o.batch = value;
    else if (key == "--size")
      o.size = value;
    else if (key == "--channels")
      o.channels = value;
    else if (key == "--steps")
      o.steps = std::max<unsigned long>(1, value);
    else if (key == "--profile")
      o.profile = value != 0;
    else {
      fmt::print(stderr, "bench_unet: unknown option {}\n", key);
      return 2;
    }
  }
  eqflow::set_openmp_defaults();
  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_unet: {}\n", e.what());
    return 1;
  }
}
