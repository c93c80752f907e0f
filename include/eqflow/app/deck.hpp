// YAML input decks of a run: read, apply `--set key.path=value` overrides, check every key
// (unknown keys, wrong types, out-of-range values), complete with the defaults of the system
// and preset, then validate every cross-field and data-dependent rule (app::validate) before
// any work starts. Errors are ConfigError naming the file, line, column and key path, or
// IoError naming the data file and row. The resolved deck is written back as plain YAML
// (stored with the results) or annotated with where each value came from (`eqflow check`).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "eqflow/app/config.hpp"
#include "eqflow/io/yaml.hpp"

namespace eqflow::app {

//! A resolved deck and where its values came from.
struct Deck {
  RunConfig config;
  std::string source;                           //!< the deck file (or the name given to text)
  std::map<std::string, io::YamlOrigin> given;  //!< keys set by the deck or --set; others default
};

//! What the data of a run is, known before any work: the number of points and dimensions.
struct DataShape {
  std::size_t points = 0;
  std::size_t dims = 0;
  std::string origin;  //!< how the count arises, e.g. "rows of x.csv"
};

//! Reads and validates the deck at `path`, including its data (the `samples` file is read and
//! checked: NaN, ragged rows, rank; batch sizes against the number of points): what `eqflow
//! run` and `eqflow check` do before any work. `overrides` are "a.b=value" strings.
Deck load_deck(const std::string& path, const std::vector<std::string>& overrides = {},
               DataShape* shape = nullptr);

//! Reads a deck from text (`source` names it in errors) with every check that needs no data.
Deck parse_deck_text(const std::string& yaml, const std::string& source,
                     const std::vector<std::string>& overrides = {});

//! load_deck(...).config.
RunConfig read_deck(const std::string& path, const std::vector<std::string>& overrides = {});
//! parse_deck_text(...).config.
RunConfig parse_deck(const std::string& yaml, const std::string& source,
                     const std::vector<std::string>& overrides = {});

//! Every cross-field rule of a config (no data needed). Throws ConfigError naming the key and
//! where it was set (deck file:line or --set).
void validate(const Deck& deck);

//! The run's data as it will be used (reads and checks the `samples` file; toy systems are
//! generated), and the rules that depend on it (batch sizes against the number of points).
DataShape validate_data(const Deck& deck);

//! Every setting of `config` as a plain YAML document (reads back to the same config).
std::string to_yaml(const RunConfig& config);

//! The `system` a deck names ("" when it names none), after `--set` overrides: field decks
//! (gray_scott, fields) go to read_field_deck, the others to load_deck.
std::string deck_system(const std::string& path, const std::vector<std::string>& overrides = {});
//! Whether `system` is a field system (read_field_deck's).
bool is_field_system(const std::string& system);

//! Reads a field deck: top-level `system` (gray_scott or fields), `seed`, `output`; the `data:`
//! section (gray_scott: `preset`, `Du`, `Dv`, `F`, `k`, `samples`, `height`, `width`, `steps`,
//! `block`; fields: `file`, `dataset`) and the `score:` section (FieldScoreConfig's keys), with
//! `--set` overrides. Unknown keys, wrong types and out-of-range values are ConfigError naming
//! the key, file and line; the preset is resolved (a given Du .. k overrides it, and makes it
//! "custom"; without `preset` all four are required). A user's data file is opened and its
//! shape checked (one-line IoError naming the file and data set).
FieldRunConfig read_field_deck(const std::string& path,
                               const std::vector<std::string>& overrides = {});
//! The same from text (`source` names it in errors).
FieldRunConfig parse_field_deck(const std::string& yaml, const std::string& source,
                                const std::vector<std::string>& overrides = {});
//! The resolved settings as a plain YAML deck (reads back to the same config).
std::string to_yaml(const FieldRunConfig& config);

//! The resolved deck for `eqflow check`: valid YAML with values resolved for `data` ("auto"
//! divergence, points 0) and a trailing comment per line saying where the value came from.
std::string describe_resolved(const Deck& deck, const DataShape& data);

}  // namespace eqflow::app
