// The eqflow command line: `run` (every stage of a deck, resumable, MPI seed sweeps), `check`
// (validate a deck), `summary` (describe an output file), and `selfcheck` (a derivative check
// and a short equilibrium-flow training on a Gaussian whose score is known exactly).
#include <fmt/core.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "eqflow/app/pipeline.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/log.hpp"
#include "eqflow/core/openmp_env.hpp"
#include "eqflow/core/progress.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/flow/equilibrium_loss.hpp"
#include "eqflow/io/deck.hpp"
#include "eqflow/nn/model.hpp"
#include "eqflow/nn/optimizer.hpp"
#include "eqflow/parallel/comm.hpp"
#include "eqflow/version.hpp"

namespace {

void print_help() {
  fmt::print(
      "eqflow {}: dynamics that preserve a distribution given by its snapshots\n"
      "(Equilibrium flow, Zhang & Levin, arXiv 2509.17990).\n\n"
      "usage:\n"
      "  eqflow run DECK [options]   run (or resume) every stage of the deck\n"
      "      --set key.path=value    override a deck setting (repeatable)\n"
      "      --seeds A:B             only flow seeds A..B-1 (job arrays)\n"
      "      --no-progress           no progress lines\n"
      "  eqflow check DECK [--set ...]  validate a deck and print the resolved settings\n"
      "  eqflow summary FILE.h5      describe an output file (run or seed)\n"
      "  eqflow selfcheck            check the derivative engine, train a small flow\n"
      "  eqflow --help | --version\n"
      "Under MPI (mpirun -n P eqflow run DECK) flow seeds are spread over the ranks.\n",
      eqflow::kVersion);
}

// Directional finite-difference check of the equilibrium-loss gradient (double).
double gradient_check() {
  using namespace eqflow;
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
  eqflow::log::debug("gradient check: analytic {:.10e} numeric {:.10e}", analytic, numeric);
  return std::abs(analytic - numeric) / std::max(1e-12, std::abs(numeric));
}

int selfcheck() {
  using namespace eqflow;
  if (std::getenv("EQFLOW_DEBUG")) log::set_level(log::Level::Debug);
  const double rel = gradient_check();
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
  fmt::print("selfcheck passed\n");
  return 0;
}

// `eqflow run DECK [--set key=value]... [--seeds A:B] [--no-progress]`
int run_command(int argc, char** argv, bool check_only) {
  using namespace eqflow;
  if (argc < 3) throw Error("usage: eqflow run DECK [--set key.path=value]... [--seeds A:B]");
  const std::string deck = argv[2];
  std::vector<std::string> overrides;
  app::RunOptions options;
  bool seeds_given = false;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--set" && i + 1 < argc) {
      overrides.push_back(argv[++i]);
    } else if (arg.rfind("--set=", 0) == 0) {
      overrides.push_back(arg.substr(6));
    } else if (arg == "--seeds" && i + 1 < argc) {
      const std::string range = argv[++i];
      const auto colon = range.find(':');
      try {
        if (colon == std::string::npos) throw std::invalid_argument(range);
        options.first_seed = std::stoll(range.substr(0, colon));
        options.last_seed = std::stoll(range.substr(colon + 1));
      } catch (const std::exception&) {
        throw Error(fmt::format("--seeds '{}': expected FIRST:LAST (seeds FIRST..LAST-1)", range));
      }
      if (options.first_seed < 0 || options.last_seed <= options.first_seed) {
        throw Error(fmt::format("--seeds '{}': need 0 <= FIRST < LAST", range));
      }
      seeds_given = true;
    } else if (arg == "--no-progress") {
      options.progress = false;
    } else {
      throw Error(fmt::format("unknown option '{}' (see eqflow --help)", arg));
    }
  }
  // The deck is read and validated before MPI or Kokkos start any work.
  const app::RunConfig config = io::read_deck(deck, overrides);
  if (seeds_given && options.last_seed > config.experiments) options.last_seed = config.experiments;
  if (check_only) {
    fmt::print("# {} is valid; resolved settings:\n{}", deck, io::to_yaml(config));
    return 0;
  }
  parallel::MpiSession mpi(&argc, &argv);
  const auto comm = parallel::Comm::world();
  log::set_rank(comm.rank());
  if (comm.is_root()) fmt::print("# resolved deck\n{}", io::to_yaml(config));
  Kokkos::ScopeGuard kokkos(argc, argv);
  app::run_pipeline(config, comm, options);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  eqflow::set_openmp_defaults();
  try {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
      print_help();
      return argc < 2 ? 1 : 0;
    }
    const std::string command = argv[1];
    if (command == "--version") {
      fmt::print("{} {} (git {})\n", eqflow::kSoftwareName, eqflow::kVersion, eqflow::kGitRevision);
      return 0;
    }
    if (command == "selfcheck") {
      Kokkos::ScopeGuard kokkos(argc, argv);
      return selfcheck();
    }
    if (command == "run" || command == "check") return run_command(argc, argv, command == "check");
    if (command == "summary") {
      if (argc != 3) throw eqflow::Error("usage: eqflow summary FILE.h5");
      fmt::print("{}", eqflow::app::describe_output(argv[2]));
      return 0;
    }
    throw eqflow::Error(fmt::format("unknown command '{}' (see eqflow --help)", command));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eqflow: error: %s\n", e.what());
    return 1;
  }
}
