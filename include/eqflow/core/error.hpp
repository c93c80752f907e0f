// eqflow's exception types. Every message names what is at fault (key, file, line, value)
// and what was expected; `main` prints it as one line on stderr and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace eqflow {

//! Base of every eqflow error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

//! A bad input deck value: names the file, line, column and key path.
class ConfigError : public Error {
 public:
  ConfigError(const std::string& file, int line, int column, const std::string& key,
              const std::string& what);
  const std::string& key() const { return key_; }
  int line() const { return line_; }

 private:
  std::string key_;
  int line_;
};

//! A file that cannot be read, written or parsed.
class IoError : public Error {
 public:
  IoError(const std::string& path, const std::string& what);
};

//! Tensor extents that do not fit together (a programming or data error).
class ShapeError : public Error {
 public:
  using Error::Error;
};

//! Throws ShapeError with `message` unless `condition` holds.
inline void require_shape(bool condition, const std::string& message) {
  if (!condition) throw ShapeError(message);
}

}  // namespace eqflow
