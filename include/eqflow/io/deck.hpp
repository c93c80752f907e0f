// YAML input decks: read, apply `--set key.path=value` overrides, validate every key (unknown
// keys, wrong types, out-of-range values, cross-field rules) and complete with the system's
// defaults, before any work starts. Errors are ConfigError naming the file, line, column and
// key path. The resolved deck (every setting, defaults included) is written back as YAML.
#pragma once

#include <string>
#include <vector>

#include "eqflow/app/config.hpp"

namespace eqflow::io {

//! Reads the deck at `path`; `overrides` are "a.b=value" strings (value parsed as YAML).
app::RunConfig read_deck(const std::string& path, const std::vector<std::string>& overrides = {});

//! The same from text; `source` names it in error messages.
app::RunConfig parse_deck(const std::string& yaml, const std::string& source,
                          const std::vector<std::string>& overrides = {});

//! Every setting of `config` as a YAML document (reads back to the same config).
std::string to_yaml(const app::RunConfig& config);

}  // namespace eqflow::io
