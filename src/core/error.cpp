// Message formatting of eqflow's exception types.
#include "eqflow/core/error.hpp"

#include <fmt/core.h>

namespace eqflow {

ConfigError::ConfigError(const std::string& file, int line, int column, const std::string& key,
                         const std::string& what)
    : Error(line > 0 ? fmt::format("{}:{}:{}: key '{}': {}", file, line, column, key, what)
                     : fmt::format("{}: key '{}': {}", file, key, what)),
      key_(key),
      line_(line) {}

IoError::IoError(const std::string& path, const std::string& what)
    : Error(fmt::format("{}: {}", path, what)) {}

}  // namespace eqflow
