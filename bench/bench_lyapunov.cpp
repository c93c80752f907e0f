// Benchmark of the Lyapunov analysis of one trained flow with the reference settings
// (float64; 64 trajectories of 5,000 RK4 steps at dt 0.1, tau 2,500, stable filter |x| < 4),
// reading the flow from a seed file of `eqflow run`, so the PyTorch
// baseline can analyse the very same flow (bench/pytorch_baseline.py lyapunov SEED_FILE).
//
//   bench_lyapunov SEED_FILE [--trajectories N] [--steps S] [--tau T] [--repeats R]
// Prints "result lyapunov <seconds> exponent <lambda> stable <count>".
#include <fmt/core.h>

#include <cstdlib>
#include <string>

#include "eqflow/core/openmp_env.hpp"
#include "eqflow/core/timer.hpp"
#include "eqflow/dynamics/lyapunov.hpp"
#include "eqflow/dynamics/vector_field.hpp"
#include "eqflow/io/run_files.hpp"

int main(int argc, char** argv) {
  using namespace eqflow;
  if (argc < 2) {
    fmt::print(stderr,
               "usage: bench_lyapunov SEED_FILE [--trajectories N] [--steps S] [--tau T]\n");
    return 2;
  }
  dynamics::LyapunovSettings settings;  // the reference's defaults
  int repeats = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const auto value = std::strtoul(argv[i + 1], nullptr, 10);
    if (key == "--trajectories")
      settings.trajectories = value;
    else if (key == "--steps")
      settings.steps = value;
    else if (key == "--tau")
      settings.segment = value;
    else if (key == "--repeats")
      repeats = static_cast<int>(value);
    else {
      fmt::print(stderr, "bench_lyapunov: unknown option {}\n", key);
      return 2;
    }
  }
  eqflow::set_openmp_defaults();
  Kokkos::ScopeGuard kokkos(argc, argv);
  const auto model = io::load_flow(argv[1]);
  dynamics::ModelField<double> field(*model, nn::Mode::Eval);
  dynamics::LyapunovResult result;
  Timer timer;
  for (int r = 0; r < repeats; ++r) result = dynamics::lyapunov_reference(field, settings);
  const double seconds = timer.seconds() / repeats;
  fmt::print("result lyapunov {:.6f} exponent {:.6f} stable {} tries {}\n", seconds,
             result.exponent, result.stable_count, result.tries);
  return 0;
}
