// Rank-aware, time-stamped log lines.
#include "eqflow/core/log.hpp"

#include <chrono>
#include <cstdio>

namespace eqflow::log {
namespace {
int g_rank = 0;
Level g_level = Level::Info;
const auto g_start = std::chrono::steady_clock::now();

const char* level_name(Level lvl) {
  switch (lvl) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warn:
      return "WARNING";
    case Level::Error:
      return "ERROR";
  }
  return "";
}
}  // namespace

void set_rank(int rank) {
  g_rank = rank;
}
int rank() {
  return g_rank;
}
void set_level(Level lvl) {
  g_level = lvl;
}
Level level() {
  return g_level;
}

void write(Level lvl, const std::string& message) {
  if (lvl < g_level) return;
  if (g_rank != 0 && lvl < Level::Warn) return;
  const double t =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - g_start).count();
  std::FILE* out = lvl >= Level::Warn ? stderr : stdout;
  if (g_rank != 0) {
    fmt::print(out, "[{:9.2f}s rank {}] {}: {}\n", t, g_rank, level_name(lvl), message);
  } else {
    fmt::print(out, "[{:9.2f}s] {}: {}\n", t, level_name(lvl), message);
  }
  std::fflush(out);
}

}  // namespace eqflow::log
