// Field data generation over MPI ranks (app/fields.hpp): rounds of blocks of the missing samples,
// each sample a pure function of (seed, global index), written collectively. Gray-Scott fields are
// simulated in float32 and normalised by 2x - 1; icon images are drawn on the host.
#include "eqflow/app/fields.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

#include "eqflow/app/deck.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/hash.hpp"
#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/core/progress.hpp"
#include "eqflow/io/field_file.hpp"
#include "eqflow/io/png.hpp"
#include "eqflow/systems/gray_scott.hpp"
#include "eqflow/systems/icons.hpp"

namespace eqflow::app {
namespace {

//! Fills out[i * sample_size ...] with global samples `samples[i]` (normalised to [-1, 1]).
using FillSamples = std::function<void(const std::vector<std::int64_t>& samples, float* out)>;

//! The generation loop shared by every generated data set: reuse a complete file of the same
//! attributes; otherwise take the missing samples in rounds of size() x block, rank r filling the
//! r-th run of `block` of them, all ranks writing collectively and marking them complete.
GenerateResult generate_blocks(const FieldRunConfig& c, const parallel::Comm& comm,
                               const std::string& path, const io::FieldShape& shape,
                               const io::FieldAttributes& attributes, const char* schema,
                               const std::string& what, const GenerateOptions& options,
                               const FillSamples& fill) {
  const std::string dataset = "/fields";
  GenerateResult result;
  result.path = path;
  const bool done =
      comm.all(!comm.is_root() || io::field_file_matches(path, dataset, shape, attributes));
  if (done) {
    result.reused = c.samples;
    result.complete = true;
    return result;
  }
  io::ParallelFieldWriter writer(path, dataset, shape, attributes, schema, comm,
                                 {{"deck", to_yaml(c)}});
  const std::vector<std::int64_t>& missing = writer.missing();
  result.reused = c.samples - static_cast<std::int64_t>(missing.size());
  const std::size_t ranks = static_cast<std::size_t>(comm.size());
  const std::size_t rank = static_cast<std::size_t>(comm.rank());
  const std::size_t block = static_cast<std::size_t>(c.block), round = ranks * block;
  std::vector<float> values(block * shape.sample_size());
  ProgressReporter bar(what, static_cast<std::int64_t>(missing.size()),
                       options.progress && comm.is_root());
  std::int64_t blocks = 0;
  for (std::size_t first = 0; first < missing.size(); first += round, ++blocks) {
    if (options.stop_after_blocks >= 0 && blocks >= options.stop_after_blocks) break;
    const std::size_t begin = std::min(first + rank * block, missing.size());
    const std::size_t end = std::min(begin + block, missing.size());
    const std::vector<std::int64_t> samples(missing.begin() + static_cast<std::ptrdiff_t>(begin),
                                            missing.begin() + static_cast<std::ptrdiff_t>(end));
    if (!samples.empty()) fill(samples, values.data());
    writer.write(samples,
                 std::vector<float>(values.begin(),
                                    values.begin() + static_cast<std::ptrdiff_t>(
                                                         samples.size() * shape.sample_size())));
    const std::size_t finished = std::min(first + round, missing.size());
    result.computed = static_cast<std::int64_t>(finished);
    bar.update(static_cast<std::int64_t>(finished));
  }
  result.complete = writer.commit();
  if (!result.complete) result.path = writer.working_path();
  bar.finish(result.complete ? "complete" : "stopped");
  return result;
}

//! `count` Gray-Scott samples: initial conditions, `steps` steps, 2x - 1, copied to `out`.
void simulate_gray_scott(systems::GrayScottSimulator<float>& simulator, const View4<float>& fields,
                         const std::vector<std::int64_t>& samples, std::uint64_t seed,
                         std::size_t steps, float* out) {
  const std::size_t count = samples.size(), h = fields.extent(2), w = fields.extent(3);
  const std::size_t sample_size = 2 * h * w;
  for (std::size_t i = 0; i < count; ++i) {
    const View4<float> one(fields.data() + i * sample_size, 1, 2, h, w);
    systems::gray_scott_initial_state(one, seed, static_cast<std::uint64_t>(samples[i]));
  }
  const View4<float> batch(fields.data(), count, 2, h, w);
  simulator.advance(batch, steps);
  float* values = fields.data();
  Kokkos::parallel_for(
      "eqflow::generate::normalise", RangePolicy(0, count * sample_size),
      KOKKOS_LAMBDA(const std::size_t i) { values[i] = 2.0f * values[i] - 1.0f; });
  auto host = Kokkos::create_mirror_view(fields);
  Kokkos::deep_copy(host, fields);
  std::memcpy(out, host.data(), count * sample_size * sizeof(float));
}

//! FNV-1a of the icon's pixels (their float bits): a changed PNG makes another data set.
std::int64_t icon_checksum(const systems::RgbaImage& icon) {
  return static_cast<std::int64_t>(fnv1a(reinterpret_cast<const unsigned char*>(icon.pixels.data()),
                                         icon.pixels.size() * sizeof(float)));
}

}  // namespace

systems::RgbaImage load_icon(const FieldRunConfig& c) {
  const auto size = static_cast<std::size_t>(c.icon_size);
  const auto& builtin = systems::builtin_icons();
  if (std::find(builtin.begin(), builtin.end(), c.icon) != builtin.end()) {
    return systems::draw_icon(c.icon, size);
  }
  return systems::resize_bicubic(io::read_png(c.icon), size, size);
}

GenerateResult generate_gray_scott(const FieldRunConfig& c, const parallel::Comm& comm,
                                   const std::string& path, const GenerateOptions& options) {
  const systems::GrayScottParameters parameters{c.Du, c.Dv, c.F, c.k};
  systems::validate(parameters);
  require_shape(c.samples >= 1 && c.height >= 1 && c.width >= 1 && c.steps >= 0 && c.block >= 1,
                "generate_gray_scott: need samples, height, width, block >= 1 and steps >= 0");
  const auto height = static_cast<std::size_t>(c.height), width = static_cast<std::size_t>(c.width),
             block = static_cast<std::size_t>(c.block);
  const io::FieldShape shape{static_cast<std::size_t>(c.samples), 2, height, width};
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
  systems::GrayScottSimulator<float> simulator(parameters, block, height, width);
  View4<float> fields(Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::generate::fields"),
                      block, 2, height, width);
  return generate_blocks(c, comm, path, shape, attributes, kGrayScottSchema, "gray_scott samples",
                         options, [&](const std::vector<std::int64_t>& samples, float* out) {
                           simulate_gray_scott(simulator, fields, samples, c.seed,
                                               static_cast<std::size_t>(c.steps), out);
                         });
}

GenerateResult generate_icons(const FieldRunConfig& c, const parallel::Comm& comm,
                              const std::string& path, const GenerateOptions& options) {
  require_shape(c.samples >= 1 && c.height >= 1 && c.width >= 1 && c.block >= 1 && c.copies >= 1 &&
                    c.attempts >= 1 && c.icon_size >= 1,
                "generate_icons: need samples, height, width, block, copies, attempts, icon_size "
                ">= 1");
  const systems::RgbaImage icon = load_icon(c);
  const systems::IconCanvasSettings settings{
      static_cast<std::size_t>(c.height), static_cast<std::size_t>(c.width),
      static_cast<std::size_t>(c.copies), static_cast<int>(c.attempts)};
  const io::FieldShape shape{static_cast<std::size_t>(c.samples), 3, settings.height,
                             settings.width};
  const io::FieldAttributes attributes = {
      {"icon", c.icon},
      {"icon_checksum", icon_checksum(icon)},
      {"icon_size", c.icon_size},
      {"copies", c.copies},
      {"attempts", c.attempts},
      {"normalisation", std::string("2x - 1")},
      {"channels", std::string("R, G, B")},
      {"seed", static_cast<std::int64_t>(c.seed)},
      {"placement",
       std::string(
           "a white periodic canvas; per copy up to `attempts` draws of an angle uniform "
           "in [0, 2 pi) (bicubic rotation) and a centre uniform over the cells, placed "
           "with wrap-around unless its alpha overlaps an earlier copy's, composited over")},
  };
  const std::size_t sample_size = shape.sample_size();
  return generate_blocks(c, comm, path, shape, attributes, kIconSchema, "icon images", options,
                         [&](const std::vector<std::int64_t>& samples, float* out) {
                           for (std::size_t i = 0; i < samples.size(); ++i) {
                             systems::icon_canvas(icon, settings, c.seed,
                                                  static_cast<std::uint64_t>(samples[i]),
                                                  out + i * sample_size);
                           }
                         });
}

GenerateResult generate_data(const FieldRunConfig& c, const parallel::Comm& comm,
                             const std::string& path, const GenerateOptions& options) {
  if (c.system == "gray_scott") return generate_gray_scott(c, comm, path, options);
  if (c.system == "icons") return generate_icons(c, comm, path, options);
  throw Error(
      fmt::format("system '{}' has no generated data set (gray_scott and icons have)", c.system));
}

}  // namespace eqflow::app
