// `eqflow summary FILE`: a readable description of a run or seed file.
#include <fmt/core.h>

#include <cmath>
#include <functional>

#include "eqflow/app/pipeline.hpp"
#include "eqflow/io/hdf5_file.hpp"

namespace eqflow::app {

namespace {
// Mean, range and sign count of the finite values; NaN entries (e.g. a flow without a stable
// trajectory has no Lyapunov exponent) are counted separately.
std::string stats(const std::vector<double>& all) {
  std::vector<double> v;
  for (double x : all) {
    if (std::isfinite(x)) v.push_back(x);
  }
  const std::size_t missing = all.size() - v.size();
  const std::string none = missing > 0 ? fmt::format(", {} without a value", missing) : "";
  if (v.empty()) return "none" + none;
  double lo = v[0], hi = v[0], sum = 0;
  std::size_t positive = 0;
  for (double x : v) lo = std::min(lo, x), hi = std::max(hi, x), sum += x, positive += x > 0;
  return fmt::format("mean {:.4g}, min {:.4g}, max {:.4g}, {} of {} positive{}", sum / v.size(), lo,
                     hi, positive, all.size(), none);
}
}  // namespace

std::string describe_output(const std::string& path) {
  const auto f = io::H5File::open(path);
  std::string out;
  auto attr = [&](const std::string& name) {
    return f.has_attribute("/", name) ? f.attribute_string("/", name) : std::string("?");
  };
  out += fmt::format("{}: {} (schema {}), written by {} {} (git {}) on {}\n", path, attr("schema"),
                     f.has_attribute("/", "schemaVersion")
                         ? std::to_string(f.attribute_int("/", "schemaVersion"))
                         : "?",
                     attr("software"), attr("softwareVersion"), attr("gitRevision"), attr("date"));
  out += fmt::format("system {}, dimension {}\n", attr("system"),
                     f.has_attribute("/", "dim") ? f.attribute_int("/", "dim") : 0);
  std::function<void(const std::string&, int)> walk = [&](const std::string& group, int depth) {
    for (const auto& name : f.list(group)) {
      const std::string p = (group == "/" ? "" : group) + "/" + name;
      if (f.is_group(p)) {
        out += fmt::format("{}{}/\n", std::string(2 * depth, ' '), name);
        walk(p, depth + 1);
      } else {
        const auto shape = f.shape(p);
        std::string dims;
        for (std::size_t i = 0; i < shape.size(); ++i)
          dims += (i ? " x " : "") + std::to_string(shape[i]);
        out += fmt::format("{}{} [{}]\n", std::string(2 * depth, ' '), name,
                           dims.empty() ? "scalar" : dims);
      }
    }
  };
  walk("/", 1);
  if (f.exists("/summary/lyapunov/exponent")) {
    out += fmt::format("Lyapunov exponents: {}\n",
                       stats(f.read_doubles("/summary/lyapunov/exponent")));
  }
  if (f.exists("/summary/similarity")) {
    out += fmt::format("field similarity: {}\n", stats(f.read_doubles("/summary/similarity")));
  }
  if (f.exists("/summary/final_loss")) {
    out += fmt::format("final loss: {}\n", stats(f.read_doubles("/summary/final_loss")));
  }
  if (f.exists("/analysis/lyapunov/exponent")) {
    out += fmt::format("Lyapunov exponent {:.4f} ({} stable trajectories)\n",
                       f.read_double("/analysis/lyapunov/exponent"),
                       f.read_double("/analysis/lyapunov/stable"));
  }
  return out;
}

}  // namespace eqflow::app
