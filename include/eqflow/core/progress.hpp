// Progress of long work (epochs, seeds, steps): an in-place bar when stderr is a terminal,
// plain periodic lines otherwise (batch logs stay readable). Only the enabled reporter
// (rank 0) prints.
#pragma once

#include <cstdint>
#include <string>

namespace eqflow {

class ProgressReporter {
 public:
  //! `total` units of work named `label`; `enabled` is false on ranks other than 0.
  //! In plain mode a line is printed at most every `line_interval_s` seconds.
  ProgressReporter(std::string label, std::int64_t total, bool enabled = true,
                   double line_interval_s = 10.0);
  //! Forces plain-line mode (tests, or a terminal that should get log lines).
  void set_plain(bool plain) { plain_ = plain; }
  //! Reports that `done` units are complete, with a free-form status such as the loss.
  void update(std::int64_t done, const std::string& status = {});
  //! Prints the final line (always, when enabled).
  void finish(const std::string& status = {});

  //! The line the reporter would print now ("label 12/100 [12%] 3.4 it/s ETA 26s status").
  std::string line(std::int64_t done, const std::string& status) const;
  double elapsed_seconds() const;

 private:
  std::string label_;
  std::int64_t total_;
  bool enabled_;
  bool plain_;
  double line_interval_s_;
  double start_;
  double last_print_ = -1.0;
};

//! "1h02m", "3m05s", "12.3s".
std::string format_duration(double seconds);

}  // namespace eqflow
