// Gray-Scott data generation over MPI ranks (app/fields.hpp): rounds of blocks of the missing
// samples, simulated in float32 on each rank, normalised by 2x - 1, written collectively.
#include "eqflow/app/fields.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <vector>

#include "eqflow/app/deck.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/core/progress.hpp"
#include "eqflow/io/field_file.hpp"
#include "eqflow/systems/gray_scott.hpp"

namespace eqflow::app {

GenerateResult generate_gray_scott(const FieldRunConfig& c, const parallel::Comm& comm,
                                   const std::string& path, const GenerateOptions& options) {
  const systems::GrayScottParameters parameters{c.Du, c.Dv, c.F, c.k};
  systems::validate(parameters);
  require_shape(c.samples >= 1 && c.height >= 1 && c.width >= 1 && c.steps >= 0 && c.block >= 1,
                "generate_gray_scott: need samples, height, width, block >= 1 and steps >= 0");
  const auto n = static_cast<std::size_t>(c.samples), height = static_cast<std::size_t>(c.height),
             width = static_cast<std::size_t>(c.width), block = static_cast<std::size_t>(c.block);
  const io::FieldShape shape{n, 2, height, width};
  const std::string dataset = "/fields";
  // Everything that determines the values (the seed as its 64 bits in an int64): a rerun with
  // the same attributes resumes or reuses the file, any other starts anew.
  const io::FieldAttributes attributes = {
      {"preset", c.preset},
      {"Du", c.Du},
      {"Dv", c.Dv},
      {"F", c.F},
      {"k", c.k},
      {"steps", c.steps},
      {"dt", 1.0},
      {"normalisation", std::string("2x - 1")},
      {"channels", std::string("u, v")},
      {"seed", static_cast<std::int64_t>(c.seed)},
      {"initial_condition",
       std::string("u = 1, v = 0; 5 discs of integer radius uniform in [3, 7] at centres uniform "
                   "over the cells (periodic distance) set to u = 0.5, v = 0.25")},
  };

  GenerateResult result;
  result.path = path;
  const bool done =
      comm.all(!comm.is_root() || io::field_file_matches(path, dataset, shape, attributes));
  if (done) {
    result.reused = c.samples;
    result.complete = true;
    return result;
  }

  io::ParallelFieldWriter writer(path, dataset, shape, attributes, kGrayScottSchema, comm,
                                 {{"deck", to_yaml(c)}});
  const std::vector<std::int64_t>& missing = writer.missing();
  result.reused = c.samples - static_cast<std::int64_t>(missing.size());

  const std::size_t ranks = static_cast<std::size_t>(comm.size());
  const std::size_t rank = static_cast<std::size_t>(comm.rank());
  const std::size_t round = ranks * block, sample_size = shape.sample_size();
  systems::GrayScottSimulator<float> simulator(parameters, block, height, width);
  View4<float> fields(Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::generate::fields"),
                      block, 2, height, width);
  auto host = Kokkos::create_mirror_view(fields);
  ProgressReporter bar("gray_scott samples", static_cast<std::int64_t>(missing.size()),
                       options.progress && comm.is_root());
  std::int64_t blocks = 0;
  for (std::size_t first = 0; first < missing.size(); first += round, ++blocks) {
    if (options.stop_after_blocks >= 0 && blocks >= options.stop_after_blocks) break;
    const std::size_t begin = std::min(first + rank * block, missing.size());
    const std::size_t end = std::min(begin + block, missing.size());
    const std::size_t count = end - begin;
    const std::vector<std::int64_t> samples(missing.begin() + static_cast<std::ptrdiff_t>(begin),
                                            missing.begin() + static_cast<std::ptrdiff_t>(end));
    for (std::size_t i = 0; i < count; ++i) {
      const View4<float> one(fields.data() + i * sample_size, 1, 2, height, width);
      systems::gray_scott_initial_state(one, c.seed, static_cast<std::uint64_t>(samples[i]));
    }
    const View4<float> batch(fields.data(), count, 2, height, width);
    simulator.advance(batch, static_cast<std::size_t>(c.steps));
    float* values = fields.data();
    Kokkos::parallel_for(
        "eqflow::generate::normalise", RangePolicy(0, count * sample_size),
        KOKKOS_LAMBDA(const std::size_t i) { values[i] = 2.0f * values[i] - 1.0f; });
    Kokkos::deep_copy(host, fields);
    writer.write(samples, std::vector<float>(host.data(), host.data() + count * sample_size));
    const std::size_t finished = std::min(first + round, missing.size());
    result.computed = static_cast<std::int64_t>(finished);
    bar.update(static_cast<std::int64_t>(finished));
  }
  result.complete = writer.commit();
  if (!result.complete) result.path = writer.working_path();
  bar.finish(result.complete ? "complete" : "stopped");
  return result;
}

}  // namespace eqflow::app
