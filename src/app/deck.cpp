// Deck reading (app::visit_config over io::YamlMapReader), the validation of every
// cross-field and data-dependent rule, and the plain and annotated resolved-deck writers.
#include "eqflow/app/deck.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <tuple>

#include "eqflow/app/impl/setup.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/diffusion/noise_schedule.hpp"
#include "eqflow/io/field_file.hpp"
#include "eqflow/io/png.hpp"
#include "eqflow/systems/gray_scott.hpp"
#include "eqflow/systems/icons.hpp"

namespace eqflow::app {
namespace {

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

bool is_hdf5(const std::string& file) {
  const auto ext = file.substr(file.find_last_of('.') + 1);
  return ext == "h5" || ext == "hdf5";
}

// visit_config's reader: every setting present in the YAML tree, with its constraint.
class DeckReader {
 public:
  explicit DeckReader(io::YamlMapReader& reader) : r_(reader) {}

  template <class T>
  void field(const std::string& name, T& value) {
    r_.get_if_present(name, value);
  }
  void field(const std::string& name, std::int64_t& value, std::int64_t min) {
    if (r_.get_if_present(name, value) && value < min) {
      r_.fail(name, fmt::format("must be >= {}, got {}", min, value));
    }
  }
  void field(const std::string& name, double& value, Bound bound) {
    if (!r_.get_if_present(name, value)) return;
    if (bound == Bound::Positive && !(value > 0)) {
      r_.fail(name, fmt::format("must be > 0, got {}", value));
    }
    if (bound == Bound::NonNegative && !(value >= 0)) {
      r_.fail(name, fmt::format("must be >= 0, got {}", value));
    }
  }
  void field(const std::string& name, double& value, double lo, double hi) {
    if (r_.get_if_present(name, value) && !(value >= lo && value <= hi)) {
      r_.fail(name, fmt::format("must be in [{}, {}], got {}", lo, hi, value));
    }
  }
  //! Lists: every element within the scalar's constraint.
  template <class T, class... Constraint>
  void field(const std::string& name, std::vector<T>& values, Constraint... constraint) {
    if (!r_.get_if_present(name, values)) return;
    for (auto& v : values) {
      T copy = v;
      check(name, copy, constraint...);
    }
  }
  void choice(const std::string& name, std::string& value,
              const std::vector<std::string>& options) {
    if (r_.get_if_present(name, value) &&
        std::find(options.begin(), options.end(), value) == options.end()) {
      r_.fail(name, fmt::format("'{}' is not one of: {}", value, join(options, ", ")));
    }
  }
  //! One of `options`, or a finite number within `bound`, kept as its text.
  void number_or_choice(const std::string& name, std::string& value,
                        const std::vector<std::string>& options, Bound bound) {
    std::string text;
    if (!r_.get_if_present(name, text)) return;
    if (std::find(options.begin(), options.end(), text) != options.end()) {
      value = text;
      return;
    }
    std::vector<std::string> words;
    for (const auto& o : options) words.push_back("'" + o + "'");
    const std::string expected = fmt::format("{} or {}",
                                             bound == Bound::Positive      ? "> 0"
                                             : bound == Bound::NonNegative ? ">= 0"
                                                                           : "a number",
                                             join(words, " or "));
    double number = 0;
    std::size_t used = 0;
    try {
      number = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != text.size()) {
      r_.fail(name, fmt::format("must be {}, got '{}'", expected, text));
    }
    const bool ok = std::isfinite(number) && (bound != Bound::Positive || number > 0) &&
                    (bound != Bound::NonNegative || number >= 0);
    if (!ok) r_.fail(name, fmt::format("must be {}, got {}", expected, text));
    value = fmt::format("{}", number);
  }
  void section(const std::string& name, const std::function<void()>& body) {
    r_.enter(name);
    body();
    r_.leave();
  }

 private:
  void check(const std::string& name, std::int64_t value, std::int64_t min) {
    if (value < min) r_.fail(name, fmt::format("every element must be >= {}, got {}", min, value));
  }
  void check(const std::string& name, double value, Bound bound) {
    if ((bound == Bound::Positive && !(value > 0)) ||
        (bound == Bound::NonNegative && !(value >= 0))) {
      r_.fail(name, fmt::format("every element must be {} 0, got {}",
                                bound == Bound::Positive ? ">" : ">=", value));
    }
  }
  void check(const std::string& name, double value, double lo, double hi) {
    if (!(value >= lo && value <= hi)) {
      r_.fail(name, fmt::format("every element must be in [{}, {}], got {}", lo, hi, value));
    }
  }

  io::YamlMapReader& r_;
};

// A setting's value as the resolved deck spells it.
template <class T>
std::string format_value(const T& value) {
  if constexpr (std::is_same_v<T, std::vector<double>> ||
                std::is_same_v<T, std::vector<std::int64_t>>) {
    return fmt::format("[{}]", fmt::join(value, ", "));
  } else if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_same_v<T, std::string>) {
    YAML::Emitter out;
    out << YAML::DoubleQuoted << value;
    return out.c_str();
  } else {
    return fmt::format("{}", value);
  }
}

// Visitors that write or collect values take a choice like any other field.
template <class Visitor>
class ChoicesAsFields {
 public:
  void choice(const std::string& name, std::string& value, const std::vector<std::string>&) {
    static_cast<Visitor&>(*this).field(name, value);
  }
  void number_or_choice(const std::string& name, std::string& value,
                        const std::vector<std::string>&, Bound) {
    static_cast<Visitor&>(*this).field(name, value);
  }
};

// visit_config's plain writer: every setting in visit order, as YAML.
class DeckWriter : public ChoicesAsFields<DeckWriter> {
 public:
  explicit DeckWriter(YAML::Emitter& out) : out_(out) {}
  template <class T, class... Constraint>
  void field(const std::string& name, T& value, Constraint...) {
    out_ << YAML::Key << name << YAML::Value;
    if constexpr (std::is_same_v<T, std::string>) {
      out_ << YAML::DoubleQuoted << value;
    } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
      out_ << YAML::Flow << value;
    } else if constexpr (std::is_same_v<T, std::vector<double>>) {
      out_ << YAML::Flow << YAML::BeginSeq;
      for (double v : value) out_ << format_value(v);
      out_ << YAML::EndSeq;
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      out_ << value;
    } else {
      out_ << format_value(value);
    }
  }
  void section(const std::string& name, const std::function<void()>& body) {
    out_ << YAML::Key << name << YAML::Value << YAML::BeginMap;
    body();
    out_ << YAML::EndMap;
  }

 private:
  YAML::Emitter& out_;
};

// visit_config's collector: key path -> formatted value.
class ValueCollector : public ChoicesAsFields<ValueCollector> {
 public:
  template <class T, class... Constraint>
  void field(const std::string& name, T& value, Constraint...) {
    values[prefix_ + name] = format_value(value);
  }
  void section(const std::string& name, const std::function<void()>& body) {
    const std::string saved = prefix_;
    prefix_ += name + ".";
    body();
    prefix_ = saved;
  }
  std::map<std::string, std::string> values;

 private:
  std::string prefix_;
};

std::map<std::string, std::string> values_of(RunConfig config) {
  ValueCollector collector;
  visit_config(config, collector);
  return collector.values;
}

// visit_config's annotated writer for `eqflow check`: one "key: value  # origin" line each.
class AnnotatedWriter : public ChoicesAsFields<AnnotatedWriter> {
 public:
  AnnotatedWriter(const Deck& deck, const DataShape& data) : deck_(deck), data_(data) {
    const auto& c = deck.config;
    RunConfig base;
    base.system = c.system;
    base_ = values_of(base);
    system_ = values_of(default_config(c.system));
    preset_ = values_of(default_config(c.system, c.preset));
  }
  template <class T, class... Constraint>
  void field(const std::string& name, T& value, Constraint...) {
    const std::string key = prefix_ + name;
    std::string text = format_value(value);
    std::string note = origin(key);
    if (key == "flow.divergence" && deck_.config.flow.divergence == "auto") {
      const std::string used = impl::resolved_divergence(deck_.config, data_.dims);
      text = format_value(used);
      note += fmt::format("; auto: d = {} {} 8", data_.dims, data_.dims <= 8 ? "<=" : ">");
    } else if (key == "data.points" && data_.points > 0 &&
               text != fmt::format("{}", data_.points)) {
      note += fmt::format("; {} -> {}", text, data_.origin);
      text = fmt::format("{}", data_.points);
    }
    out_ += fmt::format("{}{}: {}  # {}\n", indent_, name, text, note);
  }
  void section(const std::string& name, const std::function<void()>& body) {
    out_ += fmt::format("{}{}:\n", indent_, name);
    const std::string saved_prefix = prefix_, saved_indent = indent_;
    prefix_ += name + ".";
    indent_ += "  ";
    body();
    prefix_ = saved_prefix;
    indent_ = saved_indent;
  }
  const std::string& text() const { return out_; }

 private:
  std::string origin(const std::string& key) const {
    const auto it = deck_.given.find(key);
    if (it != deck_.given.end()) return it->second.where();
    const auto& c = deck_.config;
    if (c.preset != "eqflow" && preset_.at(key) != system_.at(key)) {
      return "preset " + c.preset;
    }
    if (system_.at(key) != base_.at(key)) return "default (" + c.system + ")";
    return "default";
  }

  const Deck& deck_;
  const DataShape& data_;
  std::map<std::string, std::string> base_, system_, preset_;
  std::string out_, prefix_, indent_;
};

// Throws ConfigError for `key` at the place it was set: its own deck line or --set, else the
// first of `related` that was set, else the deck file alone.
class RuleChecker {
 public:
  explicit RuleChecker(const Deck& deck) : deck_(deck) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what,
                         const std::vector<std::string>& related = {}) const {
    std::vector<std::string> keys = {key};
    keys.insert(keys.end(), related.begin(), related.end());
    for (const auto& k : keys) {
      const auto it = deck_.given.find(k);
      if (it != deck_.given.end()) {
        const auto& o = it->second;
        throw ConfigError(o.file, o.line, o.column, key, what);
      }
    }
    throw ConfigError(deck_.source, 0, 0, key, what);
  }

  //! "deck.yaml:5", "--set" or "default": where `key` was set.
  std::string where(const std::string& key) const {
    const auto it = deck_.given.find(key);
    return it == deck_.given.end() ? "default" : it->second.where();
  }

 private:
  const Deck& deck_;
};

// The score model is evaluated at diffusion time t: its scale 1 / sqrt(1 - alpha_bar) must be
// finite at t's step.
void check_score_time(const RuleChecker& rules, const RunConfig& c,
                      const diffusion::NoiseSchedule& schedule, const std::string& key, double t,
                      const std::vector<std::string>& related = {}) {
  const int i = schedule.index(t);
  if (1.0 - schedule.alpha_bar(i) > 0.0) return;
  int first = i;
  while (first < schedule.steps() - 1 && !(1.0 - schedule.alpha_bar(first) > 0.0)) ++first;
  rules.fail(
      key,
      fmt::format("{} maps to diffusion step {} of {}, where 1 - alpha_bar = 0 (score."
                  "schedule_delta {}): the score scale 1/sqrt(1 - alpha_bar) is infinite; "
                  "use a time >= {}/{} = {} or score.schedule_delta > 0",
                  t, i, c.score.diffusion_steps, c.score.schedule_delta, first,
                  schedule.steps() - 1, std::ceil(1e6 * first / (schedule.steps() - 1)) / 1e6),
      [&] {
        std::vector<std::string> keys = {"score.schedule_delta", "score.diffusion_steps"};
        keys.insert(keys.end(), related.begin(), related.end());
        return keys;
      }());
}

Deck read_tree(YAML::Node root, const std::string& source,
               const std::vector<std::string>& overrides) {
  std::set<std::string> overridden;
  for (const auto& o : overrides) overridden.insert(io::apply_override(root, o));

  const YAML::Node& croot = root;
  const YAML::Node system = croot["system"];
  const auto& known = known_systems();
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
  const auto& presets = known_presets();
  if (std::find(presets.begin(), presets.end(), preset) == presets.end()) preset = "eqflow";

  Deck deck;
  deck.source = source;
  deck.config = default_config(name, preset);
  io::YamlMapReader yaml(source, root, overridden);
  DeckReader reader(yaml);
  visit_config(deck.config, reader);
  yaml.check_unknown_keys();
  deck.given = yaml.origins();
  validate(deck);
  return deck;
}

}  // namespace

void validate(const Deck& deck) {
  const RunConfig& c = deck.config;
  const RuleChecker rules(deck);
  if (c.flow.divergence == "unbiased" && c.flow.probes % 2 != 0) {
    rules.fail("flow.probes",
               fmt::format("the unbiased estimator needs an even number, got {}", c.flow.probes),
               {"flow.divergence"});
  }
  const auto& a = c.analysis;
  if (a.lyapunov.tau > a.lyapunov.steps) {
    rules.fail("analysis.lyapunov.tau",
               fmt::format("{} must not exceed analysis.lyapunov.steps = {} ({})", a.lyapunov.tau,
                           a.lyapunov.steps, rules.where("analysis.lyapunov.steps")),
               {"analysis.lyapunov.steps"});
  }
  if (a.mmd.every > a.mmd.steps) {
    rules.fail("analysis.mmd.every",
               fmt::format("{} must not exceed analysis.mmd.steps = {} ({})", a.mmd.every,
                           a.mmd.steps, rules.where("analysis.mmd.steps")),
               {"analysis.mmd.steps"});
  }

  // The noise schedule: decreasing from data (alpha_bar near 1) to noise (near 0).
  const auto& s = c.score;
  if (!(s.schedule_delta < 0.5)) {
    rules.fail("score.schedule_delta",
               fmt::format("must be in [0, 0.5) (alpha_bar runs from 1 - delta down to delta), "
                           "got {}",
                           s.schedule_delta));
  }
  if (s.sampling_end < 1 || s.sampling_end > s.diffusion_steps - 1) {
    rules.fail("score.sampling_end",
               fmt::format("must be in [1, score.diffusion_steps - 1] = [1, {}] (DDIM sampling "
                           "stops at this step; score.diffusion_steps {} from {}), got {}",
                           s.diffusion_steps - 1, s.diffusion_steps,
                           rules.where("score.diffusion_steps"), s.sampling_end),
               {"score.diffusion_steps"});
  }
  const auto schedule =
      diffusion::NoiseSchedule::cosine(static_cast<int>(s.diffusion_steps), s.schedule_delta);
  if (s.samples > 0) {
    for (int i = static_cast<int>(s.sampling_end); i < schedule.steps(); ++i) {
      if (schedule.alpha_bar(i) > 0.0) continue;
      rules.fail("score.schedule_delta",
                 fmt::format("{} gives alpha_bar = 0 at diffusion step {}, where DDIM sampling "
                             "(score.samples = {}) divides by it; use score.schedule_delta > 0 "
                             "or score.samples: 0",
                             s.schedule_delta, i, s.samples),
                 {"score.samples"});
    }
  }
  // Every time at which the score is evaluated: the flow's training time, the Langevin tau.
  check_score_time(rules, c, schedule, "flow.t", c.flow.t);
  if (c.flow.t_count > 1) {
    check_score_time(rules, c, schedule, "flow.t_count",
                     c.flow.t / static_cast<double>(c.flow.t_count));
  }
  if (a.langevin.eta > 0) {
    check_score_time(rules, c, schedule, "analysis.langevin.tau", a.langevin.tau);
  }
  if (c.select.enabled) {
    // A chosen setting given another value than its default would be silently replaced.
    const RunConfig defaults = default_config(c.system, c.preset);
    for (const auto& [key, list, differs] :
         {std::tuple<std::string, std::string, bool>{"flow.t", "select.t",
                                                     c.flow.t != defaults.flow.t},
          {"analysis.langevin.eta", "select.eta", a.langevin.eta != defaults.analysis.langevin.eta},
          {"score.epochs", "select.score_epochs", c.score.epochs != defaults.score.epochs}}) {
      if (differs && deck.given.count(key)) {
        rules.fail(key,
                   fmt::format("is chosen from a validation split while select.enabled is true "
                               "({}); list the candidates in {} or set select.enabled: false",
                               rules.where("select.enabled"), list));
      }
    }
    for (const double t : c.select.t) check_score_time(rules, c, schedule, "select.t", t);
    const auto& etas = c.select.eta;
    if (std::any_of(etas.begin(), etas.end(), [](double e) { return e > 0; })) {
      check_score_time(rules, c, schedule, "analysis.langevin.tau", a.langevin.tau, {"select.eta"});
    }
  }

  if (c.system == "samples") {
    if (c.data.file.empty()) {
      rules.fail("data.file", "required for system 'samples' (CSV or HDF5 file)");
    }
    if (is_hdf5(c.data.file) && c.data.dataset.empty()) {
      rules.fail("data.dataset", "required for an HDF5 data.file (the path of the N x d dataset)",
                 {"data.file"});
    }
    if (c.data.points != 0) {
      rules.fail("data.points",
                 fmt::format("not used by system 'samples' (every row of data.file is a point), "
                             "got {}",
                             c.data.points));
    }
  } else {
    if (!c.data.file.empty()) {
      rules.fail("data.file", fmt::format("only used by system 'samples', not '{}'", c.system));
    }
    if (c.data.points > 0 && c.data.points < 4) {
      rules.fail("data.points",
                 fmt::format("must be 0 (the system's default) or >= 4, got {}", c.data.points));
    }
  }
}

DataShape validate_data(const Deck& deck) {
  const RunConfig& c = deck.config;
  const RuleChecker rules(deck);
  if (c.system == "samples" && !std::ifstream(c.data.file)) {
    rules.fail("data.file", fmt::format("cannot read '{}'", c.data.file));
  }
  const systems::Dataset data = impl::load_dataset(c);
  DataShape shape;
  shape.points = data.n;
  shape.dims = data.d;
  if (c.system == "samples") {
    shape.origin = fmt::format("the rows of {}", c.data.file);
  } else if (c.data.points == 0) {
    shape.origin = fmt::format("the {} default", c.system);
  } else {
    shape.origin = fmt::format("{} points generated", data.n);
  }
  const std::string points_key = c.system == "samples" ? "data.file" : "data.points";
  if (c.flow.t_count > std::min<std::int64_t>(c.flow.batch, static_cast<std::int64_t>(data.n))) {
    rules.fail("flow.t_count",
               fmt::format("{} training times need at least as many points per flow batch ({})",
                           c.flow.t_count,
                           std::min<std::int64_t>(c.flow.batch, static_cast<std::int64_t>(data.n))),
               {"flow.batch"});
  }
  for (const auto& [key, batch] :
       {std::pair<std::string, std::int64_t>{"score.batch", c.score.batch},
        std::pair<std::string, std::int64_t>{"flow.batch", c.flow.batch}}) {
    if (static_cast<std::size_t>(batch) > data.n) {
      rules.fail(
          key,
          fmt::format("{} ({}) is larger than the {} data points ({}: {}); use {} <= {}", batch,
                      rules.where(key), data.n, points_key, shape.origin, key, data.n),
          {points_key});
    }
  }
  if (c.select.enabled) {
    const auto held = static_cast<std::size_t>(c.select.validation * static_cast<double>(data.n));
    if (held < 4 || data.n - held < 4) {
      rules.fail("select.validation",
                 fmt::format("{} of {} points ({}) leaves {} for validation and {} for "
                             "training; need at least 4 each (or select.enabled: false)",
                             c.select.validation, data.n, shape.origin, held, data.n - held),
                 {points_key});
    }
  }
  return shape;
}

Deck parse_deck_text(const std::string& yaml, const std::string& source,
                     const std::vector<std::string>& overrides) {
  return read_tree(io::load_yaml_mapping(yaml, source), source, overrides);
}

Deck load_deck(const std::string& path, const std::vector<std::string>& overrides,
               DataShape* shape) {
  std::ifstream in(path);
  if (!in) throw IoError(path, "cannot open the deck");
  std::stringstream text;
  text << in.rdbuf();
  Deck deck = parse_deck_text(text.str(), path, overrides);
  const DataShape data = validate_data(deck);
  if (shape) *shape = data;
  return deck;
}

RunConfig read_deck(const std::string& path, const std::vector<std::string>& overrides) {
  return load_deck(path, overrides).config;
}

RunConfig parse_deck(const std::string& yaml, const std::string& source,
                     const std::vector<std::string>& overrides) {
  return parse_deck_text(yaml, source, overrides).config;
}

std::string to_yaml(const RunConfig& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  DeckWriter writer(out);
  RunConfig copy = config;
  visit_config(copy, writer);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string describe_resolved(const Deck& deck, const DataShape& data) {
  AnnotatedWriter writer(deck, data);
  RunConfig copy = deck.config;
  visit_config(copy, writer);
  return writer.text();
}

// ---- Field decks (`eqflow generate`, `eqflow run` of gray_scott, icons and fields) -------

bool is_field_system(const std::string& system) {
  return system == "gray_scott" || system == "icons" || system == "fields";
}

std::string deck_system(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw IoError(path, "cannot open the deck");
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root = io::load_yaml_mapping(text.str(), path);
  for (const auto& o : overrides) io::apply_override(root, o);
  const YAML::Node system = root["system"];
  return system && system.IsScalar() ? system.Scalar() : std::string();
}

namespace {

//! Reads the integer and real keys of one section: each integer >= its minimum, each real
//! within its bound.
void read_bounded(io::YamlMapReader& r,
                  std::initializer_list<std::tuple<const char*, std::int64_t*, std::int64_t>> ints,
                  std::initializer_list<std::tuple<const char*, double*, Bound>> reals) {
  for (const auto& [key, value, min] : ints) {
    if (r.get_if_present(key, *value) && *value < min) {
      r.fail(key, fmt::format("must be >= {}, got {}", min, *value));
    }
  }
  for (const auto& [key, value, bound] : reals) {
    if (r.get_if_present(key, *value) && ((bound == Bound::Positive && !(*value > 0)) ||
                                          (bound == Bound::NonNegative && !(*value >= 0)))) {
      r.fail(key,
             fmt::format("must be {}, got {}", bound == Bound::Positive ? "> 0" : ">= 0", *value));
    }
  }
}

//! The shape keys every generated data set has.
void parse_data_shape(io::YamlMapReader& r, FieldRunConfig& c) {
  read_bounded(r,
               {{"samples", &c.samples, 1},
                {"height", &c.height, 1},
                {"width", &c.width, 1},
                {"block", &c.block, 1}},
               {});
}

void parse_gray_scott_data(io::YamlMapReader& r, FieldRunConfig& c) {
  const auto& presets = systems::gray_scott_presets();
  const bool named = r.get_if_present("preset", c.preset);
  if (named && c.preset != "custom" &&
      std::find(presets.begin(), presets.end(), c.preset) == presets.end()) {
    r.fail("preset", fmt::format("'{}' is not one of: {}, custom", c.preset, join(presets, ", ")));
  }
  systems::GrayScottParameters p;
  if (named && c.preset != "custom") p = systems::gray_scott_preset(c.preset);
  bool changed = false;
  for (const auto& [key, value, max] : {std::tuple<const char*, double*, double>{"Du", &p.Du, 0.25},
                                        {"Dv", &p.Dv, 0.25},
                                        {"F", &p.F, 1.0},
                                        {"k", &p.k, 1.0}}) {
    const double before = *value;
    if (r.get_if_present(key, *value)) {
      if (!(*value >= 0.0 && *value <= max)) {
        r.fail(key,
               fmt::format("must be in [0, {}]{}, got {}", max,
                           max == 0.25 ? " (explicit Euler with dt = 1 is unstable above)" : "",
                           *value));
      }
      changed |= *value != before;
    } else if (!named || c.preset == "custom") {
      r.fail(key, fmt::format("missing: without a named data.preset, Du, Dv, F and k are all "
                              "required (presets: {})",
                              join(presets, ", ")));
    }
  }
  if (!named || changed) c.preset = "custom";
  c.Du = p.Du, c.Dv = p.Dv, c.F = p.F, c.k = p.k;
  parse_data_shape(r, c);
  read_bounded(r, {{"steps", &c.steps, 0}}, {});
}

void parse_icon_data(io::YamlMapReader& r, FieldRunConfig& c) {
  const auto& builtin = systems::builtin_icons();
  if (!r.get_if_present("icon", c.icon) || c.icon.empty()) {
    r.fail("icon", fmt::format("required: a PNG file with alpha, or one of the drawn icons: {}",
                               join(builtin, ", ")));
  }
  parse_data_shape(r, c);
  read_bounded(
      r, {{"icon_size", &c.icon_size, 1}, {"copies", &c.copies, 1}, {"attempts", &c.attempts, 1}},
      {});
  // A rotated icon's canvas (systems::icon_canvas): its diagonal and the bicubic margin.
  const auto span =
      std::int64_t(std::ceil(std::hypot(double(c.icon_size), double(c.icon_size)))) + 2;
  if (span > std::min(c.height, c.width)) {
    r.fail("icon_size", fmt::format("{0} x {0}: rotated it spans up to {1} x {1}, more than the "
                                    "{2} x {3} canvas",
                                    c.icon_size, span, c.height, c.width));
  }
  if (std::find(builtin.begin(), builtin.end(), c.icon) == builtin.end()) {
    try {
      (void)io::read_png(c.icon);  // a missing, non-PNG, alpha-less or empty icon stops here
    } catch (const std::exception& e) {
      r.fail("icon",
             fmt::format("{} (or one of the drawn icons: {})", e.what(), join(builtin, ", ")));
    }
  }
}

//! The artificial-life defaults (DESIGN.md section 2): 8,192 images of 128 x 128, a score of
//! 20 epochs, the random antisymmetric channel kernel, the SDE from uniform noise on a canvas
//! twice the training size with dt 0.05 for 2,000 steps, and a sweep over 16 random kernels.
void icon_defaults(FieldRunConfig& c) {
  c.output = "out/icons";
  c.score.epochs = 20;
  c.flows.kernel = "random";
  c.simulation.dt = 0.05;
  c.simulation.steps = 2000;
  c.simulation.horizon = 2000;
  c.simulation.samples = 2;
  c.simulation.canvas = 2;
  c.simulation.start = "noise";
  c.simulation.kernels = 16;
}

void parse_field_score(io::YamlMapReader& r, FieldScoreConfig& s) {
  r.get_if_present("seed", s.seed);
  for (const auto& [key, value, min] :
       {std::tuple<const char*, std::int64_t*, std::int64_t>{"epochs", &s.epochs, 0},
        {"batch", &s.batch, 1},
        {"warmup_steps", &s.warmup_steps, 0},
        {"layers_per_block", &s.layers_per_block, 1},
        {"checkpoint_every", &s.checkpoint_every, 1},
        {"samples", &s.samples, 0},
        {"sampler_steps", &s.sampler_steps, 1}}) {
    if (r.get_if_present(key, *value) && *value < min) {
      r.fail(key, fmt::format("must be >= {}, got {}", min, *value));
    }
  }
  for (const auto& [key, value] : {std::pair<const char*, double*>{"lr", &s.lr},
                                   {"weight_decay", &s.weight_decay},
                                   {"clip", &s.clip}}) {
    if (r.get_if_present(key, *value) && *value < 0) {
      r.fail(key, fmt::format("must be >= 0, got {}", *value));
    }
  }
  if (r.get_if_present("validation_fraction", s.validation_fraction) &&
      !(s.validation_fraction >= 0 && s.validation_fraction < 1)) {
    r.fail("validation_fraction", fmt::format("must be in [0, 1), got {}", s.validation_fraction));
  }
  if (r.get_if_present("block_channels", s.block_channels)) {
    for (const auto channels : s.block_channels) {
      if (channels < 8 || channels % 8 != 0) {
        r.fail("block_channels",
               fmt::format("{} channels: each block needs a positive multiple of 8 (GroupNorm "
                           "of 8 groups, attention heads of 8)",
                           channels));
      }
    }
  }
  if (r.get_if_present("sampler", s.sampler) && s.sampler != "ddpm" && s.sampler != "ddim") {
    r.fail("sampler", fmt::format("'{}': expected ddpm or ddim", s.sampler));
  }
  if (s.sampler_steps > 100) {
    r.fail("sampler_steps", fmt::format("{}: at most the schedule's 100 steps", s.sampler_steps));
  }
}

void parse_field_flows(io::YamlMapReader& r, FieldFlowsConfig& f) {
  r.get_if_present("seed", f.seed);
  if (r.get_if_present("kernel", f.kernel) && f.kernel != "swap" && f.kernel != "random" &&
      f.kernel != "spatial") {
    r.fail("kernel", fmt::format("'{}': expected swap ([[0, g], [-g, 0]] / sqrt 2), random (1x1 "
                                 "antisymmetric) or spatial (3x3 antisymmetric)",
                                 f.kernel));
  }
  r.get_if_present("final_norm", f.final_norm);
  read_bounded(r,
               {{"step", &f.step, 0},
                {"experiments", &f.experiments, 0},
                {"hidden", &f.hidden, 1},
                {"epochs", &f.epochs, 0},
                {"batch", &f.batch, 2},
                {"accumulation", &f.accumulation, 1},
                {"probes", &f.probes, 2},
                {"score_draws", &f.score_draws, 0},
                {"checkpoint_every", &f.checkpoint_every, 1}},
               {{"lr", &f.lr, Bound::Positive},
                {"weight_decay", &f.weight_decay, Bound::NonNegative},
                {"clip", &f.clip, Bound::NonNegative}});
  if (f.step >= 100) r.fail("step", fmt::format("{}: the schedule has steps 0 .. 99", f.step));
  if (f.probes % 2 != 0) {
    r.fail("probes", fmt::format("{}: must be even (two independent halves)", f.probes));
  }
}

void parse_field_simulation(io::YamlMapReader& r, FieldSimulationConfig& s) {
  read_bounded(r,
               {{"steps", &s.steps, 1},
                {"samples", &s.samples, 0},
                {"horizon", &s.horizon, 0},
                {"record_every", &s.record_every, 1},
                {"canvas", &s.canvas, 1},
                {"kernels", &s.kernels, 0}},
               {{"dt", &s.dt, Bound::Positive}, {"eta", &s.eta, Bound::NonNegative}});
  if (r.get_if_present("start", s.start) && s.start != "data" && s.start != "noise") {
    r.fail("start", fmt::format("'{}': expected data (held-out fields) or noise (uniform in "
                                "[-1, 1])",
                                s.start));
  }
  if (r.get_if_present("frame_ema", s.frame_ema) && !(s.frame_ema >= 0 && s.frame_ema < 1)) {
    r.fail("frame_ema", fmt::format("must be in [0, 1), got {}", s.frame_ema));
  }
}

void parse_field_similarity(io::YamlMapReader& r, FieldSimilarityConfig& s) {
  read_bounded(r,
               {{"starts", &s.starts, 0},
                {"window", &s.window, 2},
                {"gray_scott_steps", &s.gray_scott_steps, 1},
                {"baselines", &s.baselines, 0},
                {"panel", &s.panel, 0}},
               {});
  if (r.get_if_present("ema", s.ema) && !(s.ema >= 0 && s.ema < 1)) {
    r.fail("ema", fmt::format("must be in [0, 1), got {}", s.ema));
  }
}

}  // namespace

FieldRunConfig parse_field_deck(const std::string& yaml, const std::string& source,
                                const std::vector<std::string>& overrides) {
  YAML::Node root = io::load_yaml_mapping(yaml, source);
  std::set<std::string> overridden;
  for (const auto& o : overrides) overridden.insert(io::apply_override(root, o));
  io::YamlMapReader r(source, root, overridden);
  FieldRunConfig c;
  c.source = source;
  if (!r.get_if_present("system", c.system)) {
    r.fail("system", "missing; expected gray_scott, icons or fields");
  }
  if (!is_field_system(c.system)) {
    r.fail("system", fmt::format("'{}': field decks are gray_scott (simulated data), icons "
                                 "(artificial life) or fields (your own HDF5 data set)",
                                 c.system));
  }
  if (c.system == "icons") icon_defaults(c);
  r.get_if_present("seed", c.seed);
  r.get_if_present("output", c.output);
  if (c.output.empty()) r.fail("output", "must not be empty");

  r.enter("data");
  if (c.system == "gray_scott") {
    parse_gray_scott_data(r, c);
  } else if (c.system == "icons") {
    parse_icon_data(r, c);
  } else {
    if (!r.get_if_present("file", c.file) || c.file.empty()) {
      r.fail("file", "required for system 'fields' (an HDF5 file with an (N, C, H, W) data set)");
    }
    r.get_if_present("dataset", c.dataset);
  }
  r.leave();
  r.enter("score");
  parse_field_score(r, c.score);
  r.leave();
  c.flows.enabled = bool(r.child("flows"));
  if (!c.flows.enabled && (r.child("simulation") || r.child("similarity"))) {
    r.fail("flows", "missing: the simulation and similarity sections belong to the flows");
  }
  r.enter("flows");
  parse_field_flows(r, c.flows);
  r.leave();
  r.enter("simulation");
  parse_field_simulation(r, c.simulation);
  r.leave();
  r.enter("similarity");
  parse_field_similarity(r, c.similarity);
  r.leave();
  r.check_unknown_keys();
  if (c.similarity.panel > c.similarity.starts) {
    r.enter("similarity");
    r.fail("panel",
           fmt::format("{} columns but only {} starts", c.similarity.panel, c.similarity.starts));
  }
  if (c.simulation.start == "data" && c.simulation.samples > c.similarity.starts) {
    r.enter("simulation");
    r.fail("samples", fmt::format("{} fields but only {} similarity starts to take them from",
                                  c.simulation.samples, c.similarity.starts));
  }
  std::size_t channels = c.system == "icons" ? 3 : 2;
  if (c.system == "fields") {
    const io::FieldReader data(c.file, c.dataset);  // throws for a missing or misshapen set
    c.samples = static_cast<std::int64_t>(data.shape().samples);
    c.height = static_cast<std::int64_t>(data.shape().height);
    c.width = static_cast<std::int64_t>(data.shape().width);
    channels = data.shape().channels;
  }
  if (c.flows.enabled && c.flows.kernel == "swap" && channels != 2) {
    r.enter("flows");
    r.fail("kernel", fmt::format("'swap' exchanges 2 channels, the data has {}: use random or "
                                 "spatial",
                                 channels));
  }
  // The UNet halves the fields once per block but the last.
  const std::int64_t multiple = std::int64_t(1) << (c.score.block_channels.size() - 1);
  if (c.height % multiple != 0 || c.width % multiple != 0) {
    const std::string what = fmt::format(
        "fields of {} x {} do not fit the score model's {} levels (score.block_channels): height "
        "and width must be multiples of {}",
        c.height, c.width, c.score.block_channels.size(), multiple);
    if (c.system == "fields") {
      throw ConfigError(source, 0, 0, "data.dataset",
                        fmt::format("{}:{} holds {}", c.file, c.dataset, what));
    }
    r.enter("data");
    r.fail(c.height % multiple != 0 ? "height" : "width", what);
  }
  return c;
}

FieldRunConfig read_field_deck(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw IoError(path, "cannot open the deck");
  std::stringstream text;
  text << in.rdbuf();
  return parse_field_deck(text.str(), path, overrides);
}

std::string to_yaml(const FieldRunConfig& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "system" << YAML::Value << c.system;
  out << YAML::Key << "seed" << YAML::Value << c.seed;
  out << YAML::Key << "output" << YAML::Value << YAML::DoubleQuoted << c.output;
  out << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  if (c.system == "fields") {
    out << YAML::Key << "file" << YAML::Value << YAML::DoubleQuoted << c.file;
    out << YAML::Key << "dataset" << YAML::Value << YAML::DoubleQuoted << c.dataset;
  } else if (c.system == "icons") {
    out << YAML::Key << "icon" << YAML::Value << YAML::DoubleQuoted << c.icon;
    for (const auto& [key, value] : {std::pair<const char*, std::int64_t>{"samples", c.samples},
                                     {"height", c.height},
                                     {"width", c.width},
                                     {"icon_size", c.icon_size},
                                     {"copies", c.copies},
                                     {"attempts", c.attempts},
                                     {"block", c.block}}) {
      out << YAML::Key << key << YAML::Value << value;
    }
  } else {
    out << YAML::Key << "preset" << YAML::Value << c.preset;
    for (const auto& [key, value] :
         {std::pair<const char*, double>{"Du", c.Du}, {"Dv", c.Dv}, {"F", c.F}, {"k", c.k}}) {
      out << YAML::Key << key << YAML::Value << format_value(value);
    }
    for (const auto& [key, value] : {std::pair<const char*, std::int64_t>{"samples", c.samples},
                                     {"height", c.height},
                                     {"width", c.width},
                                     {"steps", c.steps},
                                     {"block", c.block}}) {
      out << YAML::Key << key << YAML::Value << value;
    }
  }
  out << YAML::EndMap;
  const FieldScoreConfig& s = c.score;
  out << YAML::Key << "score" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "seed" << YAML::Value << s.seed;
  for (const auto& [key, value] : {std::pair<const char*, std::int64_t>{"epochs", s.epochs},
                                   {"batch", s.batch},
                                   {"warmup_steps", s.warmup_steps},
                                   {"layers_per_block", s.layers_per_block},
                                   {"checkpoint_every", s.checkpoint_every},
                                   {"samples", s.samples},
                                   {"sampler_steps", s.sampler_steps}}) {
    out << YAML::Key << key << YAML::Value << value;
  }
  for (const auto& [key, value] : {std::pair<const char*, double>{"lr", s.lr},
                                   {"weight_decay", s.weight_decay},
                                   {"clip", s.clip},
                                   {"validation_fraction", s.validation_fraction}}) {
    out << YAML::Key << key << YAML::Value << format_value(value);
  }
  out << YAML::Key << "block_channels" << YAML::Value << YAML::Flow << s.block_channels;
  out << YAML::Key << "sampler" << YAML::Value << s.sampler;
  out << YAML::EndMap;
  if (c.flows.enabled) {
    const auto& f = c.flows;
    out << YAML::Key << "flows" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "seed" << YAML::Value << f.seed;
    out << YAML::Key << "kernel" << YAML::Value << f.kernel;
    out << YAML::Key << "final_norm" << YAML::Value << f.final_norm;
    for (const auto& [key, value] : {std::pair<const char*, std::int64_t>{"step", f.step},
                                     {"experiments", f.experiments},
                                     {"hidden", f.hidden},
                                     {"epochs", f.epochs},
                                     {"batch", f.batch},
                                     {"accumulation", f.accumulation},
                                     {"probes", f.probes},
                                     {"score_draws", f.score_draws},
                                     {"checkpoint_every", f.checkpoint_every}}) {
      out << YAML::Key << key << YAML::Value << value;
    }
    for (const auto& [key, value] : {std::pair<const char*, double>{"lr", f.lr},
                                     {"weight_decay", f.weight_decay},
                                     {"clip", f.clip}}) {
      out << YAML::Key << key << YAML::Value << format_value(value);
    }
    out << YAML::EndMap;
    const auto& m = c.simulation;
    out << YAML::Key << "simulation" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "dt" << YAML::Value << format_value(m.dt);
    out << YAML::Key << "eta" << YAML::Value << format_value(m.eta);
    for (const auto& [key, value] : {std::pair<const char*, std::int64_t>{"steps", m.steps},
                                     {"samples", m.samples},
                                     {"horizon", m.horizon},
                                     {"record_every", m.record_every},
                                     {"canvas", m.canvas},
                                     {"kernels", m.kernels}}) {
      out << YAML::Key << key << YAML::Value << value;
    }
    out << YAML::Key << "start" << YAML::Value << m.start;
    out << YAML::Key << "frame_ema" << YAML::Value << format_value(m.frame_ema);
    out << YAML::EndMap;
    const auto& q = c.similarity;
    out << YAML::Key << "similarity" << YAML::Value << YAML::BeginMap;
    for (const auto& [key, value] : {std::pair<const char*, std::int64_t>{"starts", q.starts},
                                     {"window", q.window},
                                     {"gray_scott_steps", q.gray_scott_steps},
                                     {"baselines", q.baselines},
                                     {"panel", q.panel}}) {
      out << YAML::Key << key << YAML::Value << value;
    }
    out << YAML::Key << "ema" << YAML::Value << format_value(q.ema);
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace eqflow::app
