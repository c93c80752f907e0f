// Kokkos-dependent pieces of core that are not templates: fenced timing, profiling regions.
#include <Kokkos_Core.hpp>

#include "eqflow/core/profiling.hpp"
#include "eqflow/core/timer.hpp"

namespace eqflow {

double Timer::seconds() const {
  Kokkos::fence();
  return host_seconds();
}

ScopedRegion::ScopedRegion(const std::string& name) {
  Kokkos::Profiling::pushRegion(name);
}
ScopedRegion::~ScopedRegion() {
  Kokkos::Profiling::popRegion();
}

}  // namespace eqflow
