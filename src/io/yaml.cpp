// Generic YAML reading with line/column errors: documents, overrides, key-by-key mappings.
#include "eqflow/io/yaml.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <sstream>

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

}  // namespace

std::string YamlOrigin::where() const {
  return line > 0 ? fmt::format("{}:{}", file, line) : file;
}

YAML::Node load_yaml_mapping(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(source, e.mark.line + 1, e.mark.column + 1, "", e.msg);
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError(source, 1, 1, "", "expected a mapping of settings");
  return root;
}

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

std::string closest_key(const std::string& key, const std::set<std::string>& known) {
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& candidate : known) {
    const std::size_t dist = edit_distance(key, candidate);
    if (dist < best_distance) best_distance = dist, best = candidate;
  }
  return best;
}

YamlMapReader::YamlMapReader(std::string source, const YAML::Node& root,
                             std::set<std::string> overridden)
    : source_(std::move(source)), overridden_(std::move(overridden)) {
  nodes_.push_back(root);
  seen_.emplace_back();
}

YAML::Node YamlMapReader::child(const std::string& name) {
  seen_.back().insert(name);
  const YAML::Node& parent = nodes_.back();
  const YAML::Node node = parent[name];
  if (node && node.IsNull()) fail(node, name, "has no value");
  if (node) origins_[key_path(name)] = origin_of(node, key_path(name));
  return node;
}

void YamlMapReader::enter(const std::string& name) {
  YAML::Node node = child(name);
  if (node && !node.IsMap()) fail(node, name, "expected a mapping of settings");
  path_.push_back(name);
  nodes_.push_back(node ? node : YAML::Node(YAML::NodeType::Map));
  seen_.emplace_back();
}

void YamlMapReader::leave() {
  check_unknown_keys();
  nodes_.pop_back();
  seen_.pop_back();
  path_.pop_back();
}

void YamlMapReader::check_unknown_keys() {
  const YAML::Node& node = nodes_.back();
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.as<std::string>();
    const auto& known = seen_.back();
    if (known.count(key)) continue;
    const std::string best = closest_key(key, known);
    std::string what = "unknown key";
    if (!best.empty()) {
      what += fmt::format(" (did you mean '{}'?)", best);
    } else if (!known.empty()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      what += "; expected one of: " + list;
    }
    fail(it->first, key, what);
  }
}

YamlOrigin YamlMapReader::origin_of(const YAML::Node& node, const std::string& key) const {
  const auto mark = node.Mark();
  if (overridden_.count(key) || mark.line < 0) return {"--set", 0, 0};
  return {source_, mark.line + 1, mark.column + 1};
}

void YamlMapReader::fail(const YAML::Node& node, const std::string& name,
                         const std::string& what) const {
  const std::string key = key_path(name);
  const YamlOrigin o = origin_of(node, key);
  throw ConfigError(o.file, o.line, o.column, key, what);
}

void YamlMapReader::fail(const std::string& name, const std::string& what) const {
  const std::string key = key_path(name);
  const auto it = origins_.find(key);
  if (it == origins_.end()) throw ConfigError(source_, 0, 0, key, what);
  throw ConfigError(it->second.file, it->second.line, it->second.column, key, what);
}

std::string YamlMapReader::key_path(const std::string& name) const {
  std::string out;
  for (const auto& p : path_) out += p + ".";
  return out + name;
}

}  // namespace eqflow::io
