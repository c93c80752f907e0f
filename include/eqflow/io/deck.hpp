// Transitional forwarding header: the deck reader of a run moved to the app layer
// (eqflow/app/deck.hpp; io keeps only the generic YAML helpers of eqflow/io/yaml.hpp). It
// remains until src/stages/pipeline.cpp includes eqflow/app/deck.hpp and calls app::to_yaml
// and app::parse_deck directly; nothing in io includes it.
#pragma once

#include "eqflow/app/deck.hpp"

namespace eqflow::io {

using app::parse_deck;
using app::read_deck;
using app::to_yaml;

}  // namespace eqflow::io
