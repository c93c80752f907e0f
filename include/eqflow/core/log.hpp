// fmt-based logging. Lines carry the elapsed wall time and the level; by default only rank 0
// prints (set_log_rank is called once by the MPI driver), warnings and errors go to stderr.
#pragma once

#include <fmt/core.h>

#include <string>

namespace eqflow::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

//! Sets this process's rank; ranks other than 0 print only warnings and errors.
void set_rank(int rank);
int rank();
void set_level(Level level);
Level level();
//! Writes one formatted line (with time stamp and level) if `lvl` is enabled on this rank.
void write(Level lvl, const std::string& message);

template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::Debug) write(Level::Debug, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::Info) write(Level::Info, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::Warn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::Error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace eqflow::log
