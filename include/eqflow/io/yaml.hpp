// Generic YAML input helpers with line and column reporting: load a document, apply
// `key.path=value` overrides, and read a tree of mappings key by key (get_if_present-style,
// typed, with unknown-key detection and suggestions). Errors are ConfigError naming the
// file, line, column and key path. Nothing here knows what the keys mean.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "eqflow/core/error.hpp"

namespace eqflow::io {

//! Where a value was given: a position in a file, or a `--set` override (file "--set", line 0).
struct YamlOrigin {
  std::string file;
  int line = 0;    //!< 1-based; 0 when there is no position
  int column = 0;  //!< 1-based
  //! "file:line" (or "--set").
  std::string where() const;
};

//! Parses a YAML document that must be a mapping (an empty document is an empty mapping).
YAML::Node load_yaml_mapping(const std::string& text, const std::string& source);

//! Applies "a.b.c=value" (value parsed as YAML) to `root`, creating sections; returns the key
//! path "a.b.c". Throws ConfigError("--set", ...) on a malformed assignment.
std::string apply_override(YAML::Node& root, const std::string& assignment);

//! The entry of `known` closest to `key` within edit distance 2, or "".
std::string closest_key(const std::string& key, const std::set<std::string>& known);

//! Reads a tree of mappings key by key. Every key asked for is "known"; `leave()` and
//! `check_unknown_keys()` reject the others. Keys in `overridden` (full paths) came from
//! `--set` and are reported as such.
class YamlMapReader {
 public:
  YamlMapReader(std::string source, const YAML::Node& root, std::set<std::string> overridden);

  //! The node of `name` in the current mapping (undefined when absent). A present key without
  //! a value is an error.
  YAML::Node child(const std::string& name);

  //! Reads `name` into `value` when present (types: bool, integers, finite floating point,
  //! std::string). Returns whether it was present; a wrong type is an error.
  template <class T>
  bool get_if_present(const std::string& name, T& value) {
    const YAML::Node node = child(name);
    if (!node) return false;
    value = convert<T>(node, name);
    return true;
  }

  //! Descends into the mapping `name` (an empty one when absent).
  void enter(const std::string& name);
  //! Checks the current mapping's keys and returns to its parent.
  void leave();
  //! Unknown keys in the current mapping are errors (with a suggestion).
  void check_unknown_keys();

  //! Throws ConfigError for key `name` of the current mapping at the position of `node`.
  [[noreturn]] void fail(const YAML::Node& node, const std::string& name,
                         const std::string& what) const;
  //! Throws ConfigError for key `name` at its position (or the source alone when absent).
  [[noreturn]] void fail(const std::string& name, const std::string& what) const;

  //! "section.sub.name" for `name` in the current mapping.
  std::string key_path(const std::string& name) const;
  //! The origin of every key read so far that was present (full key paths).
  const std::map<std::string, YamlOrigin>& origins() const { return origins_; }

 private:
  YamlOrigin origin_of(const YAML::Node& node, const std::string& key) const;

  template <class T>
  struct is_vector : std::false_type {};
  template <class T>
  struct is_vector<std::vector<T>> : std::true_type {};

  template <class T>
  T convert(const YAML::Node& node, const std::string& name) const {
    if constexpr (is_vector<T>::value) {  // a sequence of scalars (one scalar: a list of one)
      T out;
      if (node.IsScalar()) {
        out.push_back(convert<typename T::value_type>(node, name));
      } else if (node.IsSequence() && node.size() > 0) {
        for (const auto& item : node) out.push_back(convert<typename T::value_type>(item, name));
      } else {
        fail(node, name, "expected a non-empty list of " + type_name<typename T::value_type>());
      }
      return out;
    }
    if (!node.IsScalar()) {
      fail(node, name,
           "expected " + type_name<T>() + ", got a " + (node.IsMap() ? "mapping" : "sequence"));
    }
    const std::string text = node.Scalar();
    try {
      if constexpr (is_vector<T>::value) {
        return T{};  // handled above
      } else if constexpr (std::is_same_v<T, std::string>) {
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
      fail(node, name, "expected " + type_name<T>() + ", got '" + text + "'");
    }
  }

  template <class T>
  static std::string type_name() {
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
  std::map<std::string, YamlOrigin> origins_;
};

}  // namespace eqflow::io
