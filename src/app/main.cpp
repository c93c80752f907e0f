// The eqflow command line (CLI11): `run` (every stage of a deck, resumable, MPI seed sweeps),
// `check` (validate a deck and its data, print the resolved settings), `generate` (a field data
// set over MPI ranks, resumable), `draw-icon` (a drawn icon as a PNG), `summary` (describe an
// output file) and `selfcheck`. Every error is one line on stderr and a non-zero exit.
#include <fmt/core.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "eqflow/app/deck.hpp"
#include "eqflow/app/describe.hpp"
#include "eqflow/app/fields.hpp"
#include "eqflow/app/pipeline.hpp"
#include "eqflow/app/selfcheck.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/core/log.hpp"
#include "eqflow/core/openmp_env.hpp"
#include "eqflow/io/png.hpp"
#include "eqflow/parallel/comm.hpp"
#include "eqflow/systems/icons.hpp"
#include "eqflow/version.hpp"

namespace {

using eqflow::Error;

const char* const kRunUsage =
    "eqflow run DECK [--set key.path=value]... [--seeds FIRST:LAST] [--no-progress]";
const char* const kCheckUsage = "eqflow check DECK [--set key.path=value]...";
const char* const kGenerateUsage = "eqflow generate DECK [--set key.path=value]... [--no-progress]";

struct Arguments {
  std::string deck;
  std::vector<std::string> overrides;
  std::string seeds;
  bool no_progress = false;
  std::string summary_file;
  bool json = false;
  std::string icon, icon_file;
  std::int64_t icon_size = 64;
};

// `--seeds FIRST:LAST` as [first, last) of the run's seeds.
void parse_seeds(const std::string& range, eqflow::app::RunOptions& options) {
  const auto colon = range.find(':');
  std::size_t used_first = 0, used_last = 0;
  try {
    if (colon == std::string::npos) throw std::invalid_argument(range);
    const std::string first = range.substr(0, colon), last = range.substr(colon + 1);
    options.first_seed = std::stoll(first, &used_first);
    options.last_seed = std::stoll(last, &used_last);
    if (used_first != first.size() || used_last != last.size()) throw std::invalid_argument(range);
  } catch (const std::exception&) {
    throw Error(fmt::format("--seeds '{}': expected FIRST:LAST (seeds FIRST..LAST-1)", range));
  }
  if (options.first_seed < 0 || options.last_seed <= options.first_seed) {
    throw Error(fmt::format("--seeds '{}': need 0 <= FIRST < LAST", range));
  }
}

void add_deck_options(CLI::App* command, Arguments& args) {
  command->add_option("DECK", args.deck, "YAML input deck");
  command
      ->add_option("--set", args.overrides, "override a deck setting: key.path=value (repeatable)")
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
}

// The deck, its data and every rule, checked before MPI, Kokkos or any output start.
eqflow::app::Deck load_checked(const Arguments& args, const char* command, const char* usage,
                               eqflow::app::DataShape* shape) {
  if (args.deck.empty())
    throw Error(fmt::format("eqflow {}: missing DECK; usage: {}", command, usage));
  return eqflow::app::load_deck(args.deck, args.overrides, shape);
}

// `eqflow run` of a field deck (system gray_scott or fields): data, score model, samples.
int run_fields(const Arguments& args, int argc, char** argv) {
  using namespace eqflow;
  if (!args.seeds.empty()) {
    throw Error("eqflow run: --seeds selects flow seeds of point systems; a field deck has none");
  }
  const app::FieldRunConfig config = app::read_field_deck(args.deck, args.overrides);
  parallel::MpiSession mpi(&argc, &argv);
  const auto comm = parallel::Comm::world();
  log::set_rank(comm.rank());
  if (comm.is_root()) fmt::print("# resolved deck\n{}", app::to_yaml(config));
  Kokkos::ScopeGuard kokkos(argc, argv);
  app::FieldRunOptions options;
  options.progress = !args.no_progress;
  app::run_field_pipeline(config, comm, options);
  return 0;
}

int run(const Arguments& args, int argc, char** argv) {
  using namespace eqflow;
  if (!args.deck.empty() && app::is_field_system(app::deck_system(args.deck, args.overrides))) {
    return run_fields(args, argc, argv);
  }
  app::RunOptions options;
  if (!args.seeds.empty()) parse_seeds(args.seeds, options);
  options.progress = !args.no_progress;
  const app::Deck deck = load_checked(args, "run", kRunUsage, nullptr);
  const app::RunConfig& config = deck.config;
  if (!args.seeds.empty() && options.last_seed > config.experiments) {
    options.last_seed = config.experiments;
  }
  parallel::MpiSession mpi(&argc, &argv);
  const auto comm = parallel::Comm::world();
  log::set_rank(comm.rank());
  if (comm.is_root()) fmt::print("# resolved deck\n{}", app::to_yaml(config));
  Kokkos::ScopeGuard kokkos(argc, argv);
  app::run_pipeline(config, comm, options);
  return 0;
}

// `eqflow generate DECK`: the deck's data set into <output>/data.h5, over every MPI rank.
int generate(const Arguments& args, int argc, char** argv) {
  using namespace eqflow;
  if (args.deck.empty()) {
    throw Error(fmt::format("eqflow generate: missing DECK; usage: {}", kGenerateUsage));
  }
  const app::FieldRunConfig config = app::read_field_deck(args.deck, args.overrides);
  parallel::MpiSession mpi(&argc, &argv);
  const auto comm = parallel::Comm::world();
  log::set_rank(comm.rank());
  if (comm.is_root()) {
    fmt::print("# resolved deck\n{}", app::to_yaml(config));
    std::filesystem::create_directories(config.output);
  }
  comm.barrier();
  Kokkos::ScopeGuard kokkos(argc, argv);
  app::GenerateOptions options;
  options.progress = !args.no_progress;
  const auto path = (std::filesystem::path(config.output) / "data.h5").string();
  const app::GenerateResult result = app::generate_data(config, comm, path, options);
  if (comm.is_root()) {
    const std::string what =
        config.system == "icons"
            ? fmt::format("3 x {} x {}, up to {} copies of icon '{}'", config.height, config.width,
                          config.copies, config.icon)
            : fmt::format("2 x {} x {}, {} steps of '{}'", config.height, config.width,
                          config.steps, config.preset);
    fmt::print("generate: {} ({} samples of {}): {} computed on {} rank{}, {} already complete\n",
               result.path, config.samples, what, result.computed, comm.size(),
               comm.size() == 1 ? "" : "s", result.reused);
  }
  return 0;
}

int check(const Arguments& args, const CLI::App& command) {
  for (const char* run_only : {"--seeds", "--no-progress"}) {
    if (command.count(run_only) > 0) {
      throw Error(fmt::format("eqflow check: {} is an option of `eqflow run` only; usage: {}",
                              run_only, kCheckUsage));
    }
  }
  if (!args.deck.empty() &&
      eqflow::app::is_field_system(eqflow::app::deck_system(args.deck, args.overrides))) {
    const auto config = eqflow::app::read_field_deck(args.deck, args.overrides);
    fmt::print("# {} is valid: {} samples of {} x {}; resolved settings:\n{}", args.deck,
               config.samples, config.height, config.width, eqflow::app::to_yaml(config));
    return 0;
  }
  eqflow::app::DataShape data;
  const auto deck = load_checked(args, "check", kCheckUsage, &data);
  fmt::print(
      "# {} is valid: {} data points in {} dimensions; resolved settings (comments: where "
      "each value comes from):\n{}",
      args.deck, data.points, data.dims, eqflow::app::describe_resolved(deck, data));
  return 0;
}

int selfcheck(int argc, char** argv) {
  using namespace eqflow;
  if (std::getenv("EQFLOW_DEBUG")) log::set_level(log::Level::Debug);
  Kokkos::ScopeGuard kokkos(argc, argv);
  app::selfcheck();
  fmt::print("selfcheck passed\n");
  return 0;
}

// One line for a CLI11 parse error, naming the command it belongs to.
std::string parse_error_line(const CLI::App& app, const CLI::ParseError& e) {
  std::string command = "eqflow";
  for (const auto* sub : app.get_subcommands()) command += " " + sub->get_name();
  std::string what = e.what();
  for (auto& c : what) {
    if (c == '\n') c = ' ';
  }
  return fmt::format("{}: {} (see {} --help)", command, what, command);
}

}  // namespace

int main(int argc, char** argv) {
  eqflow::set_openmp_defaults();
  CLI::App app(fmt::format(
      "eqflow {}: dynamics that preserve a distribution given by its snapshots\n"
      "(Equilibrium flow, Zhang & Levin, arXiv 2509.17990). Under MPI (mpirun -n P eqflow run "
      "DECK) flow seeds are spread over the ranks.",
      eqflow::kVersion));
  app.name("eqflow");
  Arguments args;
  bool version = false;
  app.add_flag("--version", version, "print the version and exit");

  auto* run_cmd = app.add_subcommand("run", "run (or resume) every stage of the deck");
  add_deck_options(run_cmd, args);
  run_cmd->add_option("--seeds", args.seeds, "only flow seeds FIRST..LAST-1 (job arrays)")
      ->type_name("FIRST:LAST");
  run_cmd->add_flag("--no-progress", args.no_progress, "no progress lines");

  auto* check_cmd = app.add_subcommand(
      "check",
      "validate a deck and its data; print the resolved settings and where each comes from");
  add_deck_options(check_cmd, args);
  // Options of `run` only: accepted by the parser so that the error can say so.
  check_cmd->add_option("--seeds", args.seeds)->group("");
  check_cmd->add_flag("--no-progress", args.no_progress)->group("");

  auto* generate_cmd = app.add_subcommand(
      "generate",
      "generate (or resume) the field data set of a deck (system: gray_scott or icons) into "
      "<output>/data.h5; under mpirun the samples are spread over the ranks");
  add_deck_options(generate_cmd, args);
  generate_cmd->add_flag("--no-progress", args.no_progress, "no progress lines");

  auto* draw_icon_cmd = app.add_subcommand(
      "draw-icon",
      "write one of eqflow's drawn icons (disc, two_discs, firefly, taiji) as an RGBA PNG, a "
      "starting point for your own creature");
  draw_icon_cmd->add_option("NAME", args.icon, "disc, two_discs, firefly or taiji")->required();
  draw_icon_cmd->add_option("PNG", args.icon_file, "the file to write")->required();
  draw_icon_cmd->add_option("--size", args.icon_size, "width and height in pixels (default 64)")
      ->check(CLI::Range(std::int64_t(8), std::int64_t(4096)));

  auto* summary_cmd = app.add_subcommand(
      "summary", "what a run gave: complete seeds, per-seed results against the baselines");
  summary_cmd->add_option("FILE", args.summary_file, "run.h5, summary.h5 or a seed file")
      ->required();
  summary_cmd->add_flag("--json", args.json, "one JSON object, for scripts");

  auto* selfcheck_cmd = app.add_subcommand(
      "selfcheck", "check the derivative engine and train a small flow on a known score");

  try {
    if (argc < 2) {
      std::fputs(app.help().c_str(), stdout);
      return 1;
    }
    // "expected run, check, ... or selfcheck": the subcommands as declared above.
    std::vector<std::string> commands;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      commands.push_back(sub->get_name());
    }
    const std::string last = commands.back();
    commands.pop_back();
    const std::string expected =
        fmt::format("expected {} or {}; see eqflow --help", fmt::join(commands, ", "), last);
    commands.push_back(last);
    const std::string first = argv[1];
    if (!first.empty() && first[0] != '-' &&
        std::find(commands.begin(), commands.end(), first) == commands.end()) {
      throw Error(fmt::format("unknown command '{}' ({})", first, expected));
    }
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      std::fputs(app.help().c_str(), stdout);  // the selected subcommand's help, if any
      return 0;
    } catch (const CLI::ParseError& e) {
      throw Error(parse_error_line(app, e));
    }
    if (version) {
      fmt::print("{} {} (git {})\n", eqflow::kSoftwareName, eqflow::kVersion, eqflow::kGitRevision);
      return 0;
    }
    if (run_cmd->parsed()) return run(args, argc, argv);
    if (check_cmd->parsed()) return check(args, *check_cmd);
    if (generate_cmd->parsed()) return generate(args, argc, argv);
    if (draw_icon_cmd->parsed()) {
      eqflow::io::write_png(
          args.icon_file,
          eqflow::systems::draw_icon(args.icon, static_cast<std::size_t>(args.icon_size)));
      fmt::print("draw-icon: {} ({} x {} '{}')\n", args.icon_file, args.icon_size, args.icon_size,
                 args.icon);
      return 0;
    }
    if (summary_cmd->parsed()) {
      fmt::print("{}", eqflow::app::describe_output(args.summary_file, args.json));
      return 0;
    }
    if (selfcheck_cmd->parsed()) return selfcheck(argc, argv);
    throw Error(fmt::format("missing command ({})", expected));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eqflow: error: %s\n", e.what());
    return 1;
  }
}
