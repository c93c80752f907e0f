// Deck reading, validation and the resolved-deck writer, both driven by app::visit_config.
#include "eqflow/io/deck.hpp"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "eqflow/core/error.hpp"

namespace eqflow::io {
namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// Reads settings from a YAML tree into the config, remembering which keys each mapping used.
class DeckReader {
 public:
  DeckReader(std::string source, const YAML::Node& root, std::set<std::string> overridden)
      : source_(std::move(source)), overridden_(std::move(overridden)) {
    nodes_.push_back(root);
    seen_.emplace_back();
  }

  template <class T>
  void field(const std::string& name, T& value) {
    if (const auto node = child(name)) value = convert<T>(node, name);
  }
  void field(const std::string& name, std::int64_t& value, std::int64_t min) {
    if (const auto node = child(name)) {
      value = convert<std::int64_t>(node, name);
      if (value < min) fail(node, name, fmt::format("must be >= {}, got {}", min, value));
    }
  }
  void field(const std::string& name, double& value, app::Bound bound) {
    if (const auto node = child(name)) {
      value = convert<double>(node, name);
      if (bound == app::Bound::Positive && !(value > 0)) {
        fail(node, name, fmt::format("must be > 0, got {}", value));
      }
      if (bound == app::Bound::NonNegative && !(value >= 0)) {
        fail(node, name, fmt::format("must be >= 0, got {}", value));
      }
    }
  }
  void field(const std::string& name, double& value, double lo, double hi) {
    if (const auto node = child(name)) {
      value = convert<double>(node, name);
      if (!(value >= lo && value <= hi)) {
        fail(node, name, fmt::format("must be in [{}, {}], got {}", lo, hi, value));
      }
    }
  }
  void choice(const std::string& name, std::string& value,
              const std::vector<std::string>& options) {
    if (const auto node = child(name)) {
      value = convert<std::string>(node, name);
      if (std::find(options.begin(), options.end(), value) == options.end()) {
        fail(node, name, fmt::format("'{}' is not one of: {}", value, join(options, ", ")));
      }
    }
  }
  //! One of `options`, or a finite number within `bound`, stored as its text.
  void number_or_choice(const std::string& name, std::string& value,
                        const std::vector<std::string>& options, app::Bound bound) {
    if (const auto node = child(name)) {
      const auto text = convert<std::string>(node, name);
      if (std::find(options.begin(), options.end(), text) != options.end()) {
        value = text;
        return;
      }
      std::vector<std::string> words;
      for (const auto& o : options) words.push_back("'" + o + "'");
      const std::string expected = fmt::format("{} or {}",
                                               bound == app::Bound::Positive      ? "> 0"
                                               : bound == app::Bound::NonNegative ? ">= 0"
                                                                                  : "a number",
                                               join(words, " or "));
      double number = 0;
      try {
        number = node.as<double>();
      } catch (const YAML::Exception&) {
        fail(node, name, fmt::format("must be {}, got '{}'", expected, text));
      }
      const bool ok = std::isfinite(number) && (bound != app::Bound::Positive || number > 0) &&
                      (bound != app::Bound::NonNegative || number >= 0);
      if (!ok) fail(node, name, fmt::format("must be {}, got {}", expected, text));
      value = fmt::format("{}", number);
    }
  }
  void section(const std::string& name, const std::function<void()>& body) {
    YAML::Node node = child(name);
    if (node && !node.IsMap()) fail(node, name, "expected a mapping of settings");
    path_.push_back(name);
    nodes_.push_back(node ? node : YAML::Node(YAML::NodeType::Map));
    seen_.emplace_back();
    body();
    check_unknown_keys();
    nodes_.pop_back();
    seen_.pop_back();
    path_.pop_back();
  }

  //! Unknown keys in the current mapping are errors (with a suggestion).
  void check_unknown_keys() {
    const YAML::Node& node = nodes_.back();
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      if (seen_.back().count(key)) continue;
      std::string best;
      std::size_t best_distance = 3;
      for (const auto& known : seen_.back()) {
        const std::size_t dist = edit_distance(key, known);
        if (dist < best_distance) best_distance = dist, best = known;
      }
      std::string what = "unknown key";
      if (!best.empty()) {
        what += fmt::format(" (did you mean '{}'?)", best);
      } else if (!seen_.back().empty()) {
        what += fmt::format(
            "; expected one of: {}",
            join(std::vector<std::string>(seen_.back().begin(), seen_.back().end()), ", "));
      }
      fail(it->first, key, what);
    }
  }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& name,
                         const std::string& what) const {
    const std::string key = key_path(name);
    const auto mark = node.Mark();
    if (overridden_.count(key) || mark.line < 0) throw ConfigError("--set", 0, 0, key, what);
    throw ConfigError(source_, mark.line + 1, mark.column + 1, key, what);
  }

 private:
  YAML::Node child(const std::string& name) {
    seen_.back().insert(name);
    const YAML::Node& parent = nodes_.back();
    const YAML::Node node = parent[name];
    if (node && node.IsNull()) fail(node, name, "has no value");
    return node;
  }

  std::string key_path(const std::string& name) const {
    std::string out;
    for (const auto& p : path_) out += p + ".";
    return out + name;
  }

  template <class T>
  T convert(const YAML::Node& node, const std::string& name) const {
    if (!node.IsScalar()) {
      fail(node, name,
           fmt::format("expected {}, got a {}", type_name<T>(),
                       node.IsMap() ? "mapping" : "sequence"));
    }
    const std::string text = node.Scalar();
    try {
      if constexpr (std::is_same_v<T, std::string>) {
        return text;
      } else if constexpr (std::is_same_v<T, bool>) {
        return node.as<bool>();
      } else {
        if (std::is_unsigned_v<T> && !text.empty() && text[0] == '-') {
          throw YAML::BadConversion(node.Mark());
        }
        const T value = node.as<T>();
        if constexpr (std::is_floating_point_v<T>) {
          if (!std::isfinite(value)) throw YAML::BadConversion(node.Mark());
        }
        return value;
      }
    } catch (const YAML::Exception&) {
      fail(node, name, fmt::format("expected {}, got '{}'", type_name<T>(), text));
    }
  }

  template <class T>
  static const char* type_name() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    if constexpr (std::is_same_v<T, std::uint64_t>) return "a non-negative integer";
    if constexpr (std::is_integral_v<T>) return "an integer";
    if constexpr (std::is_floating_point_v<T>) return "a finite number";
    return "a string";
  }

  std::string source_;
  std::set<std::string> overridden_;
  std::vector<std::string> path_;
  std::vector<YAML::Node> nodes_;
  std::vector<std::set<std::string>> seen_;
};

// Emits every setting in visit order.
class DeckWriter {
 public:
  explicit DeckWriter(YAML::Emitter& out) : out_(out) {}
  template <class T>
  void field(const std::string& name, T& value) {
    out_ << YAML::Key << name << YAML::Value;
    if constexpr (std::is_same_v<T, bool>) {
      out_ << (value ? "true" : "false");
    } else if constexpr (std::is_floating_point_v<T>) {
      out_ << fmt::format("{}", value);
    } else if constexpr (std::is_same_v<T, std::string>) {
      out_ << YAML::DoubleQuoted << value;
    } else {
      out_ << value;
    }
  }
  template <class T, class... Constraint>
  void field(const std::string& name, T& value, Constraint...) {
    field(name, value);
  }
  void choice(const std::string& name, std::string& value, const std::vector<std::string>&) {
    field(name, value);
  }
  void number_or_choice(const std::string& name, std::string& value,
                        const std::vector<std::string>&, app::Bound) {
    out_ << YAML::Key << name << YAML::Value << value;
  }
  void section(const std::string& name, const std::function<void()>& body) {
    out_ << YAML::Key << name << YAML::Value << YAML::BeginMap;
    body();
    out_ << YAML::EndMap;
  }

 private:
  YAML::Emitter& out_;
};

// Applies "a.b.c=value" to the tree; returns the key path.
std::string apply_override(YAML::Node& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("--set", 0, 0, assignment, "expected key.path=value");
  }
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string part; std::getline(ss, part, '.');) {
    if (part.empty()) throw ConfigError("--set", 0, 0, key, "empty component in key path");
    parts.push_back(part);
  }
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception&) {
    throw ConfigError("--set", 0, 0, key, fmt::format("cannot parse value '{}'", text));
  }
  if (!value || value.IsNull()) value = YAML::Node(text);
  YAML::Node node = root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = node[parts[i]];
    if (!next.IsMap()) {
      if (next.IsDefined() && !next.IsNull()) {
        throw ConfigError("--set", 0, 0, key, fmt::format("'{}' is not a section", parts[i]));
      }
      node[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = node[parts[i]];
    }
    node.reset(next);
  }
  node[parts.back()] = value;
  return key;
}

void validate_cross_fields(const app::RunConfig& c, const std::string& source) {
  auto fail = [&](const std::string& key, const std::string& what) {
    throw ConfigError(source, 0, 0, key, what);
  };
  if (c.flow.divergence == "unbiased" && c.flow.probes % 2 != 0) {
    fail("flow.probes",
         fmt::format("the unbiased estimator needs an even number, got {}", c.flow.probes));
  }
  if (c.analysis.lyapunov.tau > c.analysis.lyapunov.steps) {
    fail("analysis.lyapunov.tau", "must not exceed analysis.lyapunov.steps");
  }
  if (c.analysis.mmd.every > c.analysis.mmd.steps) {
    fail("analysis.mmd.every", "must not exceed analysis.mmd.steps");
  }
  if (c.score.sampling_end >= c.score.diffusion_steps) {
    fail("score.sampling_end", "must be below score.diffusion_steps");
  }
  if (c.system == "samples") {
    if (c.data.file.empty()) fail("data.file", "required for system 'samples' (CSV or HDF5 file)");
    if (!std::ifstream(c.data.file))
      fail("data.file", fmt::format("cannot read '{}'", c.data.file));
    const auto ext = c.data.file.substr(c.data.file.find_last_of('.') + 1);
    if ((ext == "h5" || ext == "hdf5") && c.data.dataset.empty()) {
      fail("data.dataset", "required for an HDF5 data.file (the path of the N x d dataset)");
    }
  } else if (!c.data.file.empty()) {
    fail("data.file", fmt::format("only used by system 'samples', not '{}'", c.system));
  }
}

}  // namespace

app::RunConfig parse_deck(const std::string& yaml, const std::string& source,
                          const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(source, e.mark.line + 1, e.mark.column + 1, "", e.msg);
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError(source, 1, 1, "", "a deck is a mapping of settings");
  std::set<std::string> overridden;
  for (const auto& o : overrides) overridden.insert(apply_override(root, o));

  const YAML::Node& croot = root;
  const YAML::Node system = croot["system"];
  const auto& known = app::known_systems();
  if (!system) {
    throw ConfigError(source, 0, 0, "system",
                      fmt::format("missing; expected one of: {}", join(known, ", ")));
  }
  const std::string name = system.IsScalar() ? system.Scalar() : "";
  if (std::find(known.begin(), known.end(), name) == known.end()) {
    const bool from_set = overridden.count("system") > 0;
    throw ConfigError(from_set ? "--set" : source, from_set ? 0 : system.Mark().line + 1,
                      system.Mark().column + 1, "system",
                      fmt::format("'{}' is not one of: {}", name, join(known, ", ")));
  }
  // The preset chooses the defaults, so it is read (and checked) before everything else.
  std::string preset = "eqflow";
  const YAML::Node preset_node = croot["preset"];
  if (preset_node && preset_node.IsScalar()) preset = preset_node.Scalar();
  const auto& presets = app::known_presets();
  if (std::find(presets.begin(), presets.end(), preset) == presets.end()) preset = "eqflow";
  app::RunConfig config = app::default_config(name, preset);
  DeckReader reader(source, root, overridden);
  app::visit_config(config, reader);
  reader.check_unknown_keys();
  validate_cross_fields(config, source);
  return config;
}

app::RunConfig read_deck(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw IoError(path, "cannot open the deck");
  std::stringstream text;
  text << in.rdbuf();
  return parse_deck(text.str(), path, overrides);
}

std::string to_yaml(const app::RunConfig& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  DeckWriter writer(out);
  app::RunConfig copy = config;
  app::visit_config(copy, writer);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace eqflow::io
