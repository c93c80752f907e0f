// Benchmark of the Gray-Scott simulator (systems::GrayScottSimulator, the kernel of the Turing
// data generation): 32 fields of 128 x 128 from the reference's initial condition, 1,000 explicit
// Euler steps of the 'maze' preset, in float (the data sets' precision) and double; the
// counterpart of `bench/gray_scott_torch.py`. A cell update = one grid point's (u, v) advanced
// by one step.
//
//   bench_gray_scott [--batch N] [--size S] [--steps T] [--repeats R]
// Prints "result gray_scott_<float|double> <seconds per run> cell_updates_per_s <rate>"; the
// best of R runs after one warm-up of 10 steps.
#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "eqflow/core/openmp_env.hpp"
#include "eqflow/core/timer.hpp"
#include "eqflow/systems/gray_scott.hpp"

namespace {

template <class T>
void run(const char* name, std::size_t batch, std::size_t size, std::size_t steps, int repeats) {
  using namespace eqflow;
  using namespace eqflow::systems;
  View4<T> fields("bench_gray_scott::fields", batch, 2, size, size);
  GrayScottSimulator<T> sim(gray_scott_preset("maze"), batch, size, size);
  gray_scott_initial_state(fields, 0, 0);
  sim.advance(fields, 10);  // warm-up
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    gray_scott_initial_state(fields, 0, 0);
    Kokkos::fence();
    Timer timer;
    sim.advance(fields, steps);
    Kokkos::fence();
    best = std::min(best, timer.seconds());
  }
  const double cells = static_cast<double>(batch * size * size * steps);
  fmt::print("result gray_scott_{} {:.6e} cell_updates_per_s {:.4e} batch {} size {} steps {}\n",
             name, best, cells / best, batch, size, steps);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t batch = 32, size = 128, steps = 1000;
  int repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const auto value = std::strtoul(argv[i + 1], nullptr, 10);
    if (key == "--batch")
      batch = value;
    else if (key == "--size")
      size = value;
    else if (key == "--steps")
      steps = value;
    else if (key == "--repeats")
      repeats = static_cast<int>(value);
    else {
      fmt::print(stderr, "bench_gray_scott: unknown option {}\n", key);
      return 2;
    }
  }
  eqflow::set_openmp_defaults();
  Kokkos::ScopeGuard kokkos(argc, argv);
  run<float>("float", batch, size, steps, repeats);
  run<double>("double", batch, size, steps, repeats);
  return 0;
}
