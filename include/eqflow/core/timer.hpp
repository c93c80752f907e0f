// Wall-clock timing. `Timer::seconds` fences the default execution space first, so kernel
// times on asynchronous backends (CUDA, HIP) are complete.
#pragma once

#include <chrono>

namespace eqflow {

class Timer {
 public:
  Timer() { reset(); }
  void reset() { start_ = Clock::now(); }
  //! Seconds since construction or the last reset, after a device fence.
  double seconds() const;
  //! Seconds without fencing (host-only work).
  double host_seconds() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
};

}  // namespace eqflow
