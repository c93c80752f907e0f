// Progress bar / periodic progress lines with rate and ETA.
#include "eqflow/core/progress.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace eqflow {
namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

std::string format_duration(double s) {
  if (!(s >= 0)) return "?";
  if (s < 60) return fmt::format("{:.1f}s", s);
  const auto total = static_cast<long long>(s + 0.5);
  if (total < 3600) return fmt::format("{}m{:02d}s", total / 60, static_cast<int>(total % 60));
  return fmt::format("{}h{:02d}m", total / 3600, static_cast<int>((total % 3600) / 60));
}

ProgressReporter::ProgressReporter(std::string label, std::int64_t total, bool enabled,
                                   double line_interval_s)
    : label_(std::move(label)),
      total_(std::max<std::int64_t>(total, 1)),
      enabled_(enabled),
      plain_(!isatty(fileno(stderr))),
      line_interval_s_(line_interval_s),
      start_(now_seconds()) {}

double ProgressReporter::elapsed_seconds() const {
  return now_seconds() - start_;
}

std::string ProgressReporter::line(std::int64_t done, const std::string& status) const {
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1.0;
  const int percent = static_cast<int>(100.0 * static_cast<double>(done) / total_);
  std::string out =
      fmt::format("{} {}/{} [{:3d}%] {:.3g} it/s elapsed {} ETA {}", label_, done, total_, percent,
                  rate, format_duration(elapsed), format_duration(eta));
  if (!status.empty()) out += " " + status;
  return out;
}

void ProgressReporter::update(std::int64_t done, const std::string& status) {
  if (!enabled_) return;
  const double elapsed = elapsed_seconds();
  if (plain_) {
    if (last_print_ >= 0 && elapsed - last_print_ < line_interval_s_) return;
    last_print_ = elapsed;
    fmt::print(stderr, "{}\n", line(done, status));
  } else {
    if (last_print_ >= 0 && elapsed - last_print_ < 0.1) return;
    last_print_ = elapsed;
    const int width = 30;
    const int filled = static_cast<int>(width * static_cast<double>(done) / total_);
    fmt::print(stderr, "\r[{}{}] {}\033[K", std::string(std::clamp(filled, 0, width), '#'),
               std::string(std::clamp(width - filled, 0, width), '.'), line(done, status));
  }
  std::fflush(stderr);
}

void ProgressReporter::finish(const std::string& status) {
  if (!enabled_) return;
  if (!plain_) fmt::print(stderr, "\r\033[K");
  fmt::print(stderr, "{}\n", line(total_, status));
  std::fflush(stderr);
}

}  // namespace eqflow
