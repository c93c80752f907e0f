// A named Kokkos profiling region for the lifetime of a scope (Kokkos 3.4 has no
// Profiling::ScopedRegion), so kp tools and nsys show names that match the code.
#pragma once

#include <string>

namespace eqflow {

class ScopedRegion {
 public:
  explicit ScopedRegion(const std::string& name);
  ~ScopedRegion();
  ScopedRegion(const ScopedRegion&) = delete;
  ScopedRegion& operator=(const ScopedRegion&) = delete;
};

}  // namespace eqflow
