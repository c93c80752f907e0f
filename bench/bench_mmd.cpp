// Benchmark of the distribution-preservation analysis of one trained flow: 256 points
// (standard normal, float64) transported by RK4 (dt 0.1, 100 steps) under the flow of an
// eqflow seed file, with the paired unbiased RBF MMD^2 (fixed sigma 0.5, as the reference)
// against the start every 10 steps (dynamics::transport_curve, the routine of the analysis
// stage), the counterpart of `bench/pytorch_baseline.py mmd SEED_FILE`.
//
//   bench_mmd SEED_FILE [--points N] [--steps S] [--every E] [--repeats R]
// Prints "result mmd <seconds per curve> mmd2 <final MMD^2>".
#include <fmt/core.h>

#include <cstdlib>
#include <string>

#include "eqflow/core/openmp_env.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/core/timer.hpp"
#include "eqflow/dynamics/mmd.hpp"
#include "eqflow/dynamics/vector_field.hpp"
#include "eqflow/io/run_files.hpp"

int main(int argc, char** argv) {
  using namespace eqflow;
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_mmd SEED_FILE [--points N] [--steps S] [--every E]\n");
    return 2;
  }
  std::size_t points = 256, steps = 100, every = 10;
  int repeats = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const auto value = std::strtoul(argv[i + 1], nullptr, 10);
    if (key == "--points")
      points = value;
    else if (key == "--steps")
      steps = value;
    else if (key == "--every")
      every = value;
    else if (key == "--repeats")
      repeats = static_cast<int>(value);
    else {
      fmt::print(stderr, "bench_mmd: unknown option {}\n", key);
      return 2;
    }
  }
  eqflow::set_openmp_defaults();
  Kokkos::ScopeGuard kokkos(argc, argv);
  const auto model = io::load_flow(argv[1]);
  dynamics::ModelField<double> field(*model, nn::Mode::Eval);
  View2<double> x("bench_mmd::points", points, model->in_features());
  fill_normal(x, CounterRng(5, 0), 0);
  dynamics::TransportSettings settings;
  settings.dt = 0.1, settings.steps = steps, settings.every = every, settings.sigma = 0.5;
  auto curve = dynamics::transport_curve<double>(field, x, settings);  // warm-up
  Timer timer;
  for (int r = 0; r < repeats; ++r) curve = dynamics::transport_curve<double>(field, x, settings);
  fmt::print("result mmd {:.6e} mmd2 {:.6e} points {} steps {}\n", timer.seconds() / repeats,
             curve.mmd2.back(), points, steps);
  return 0;
}
