// OpenMP environment defaults (see openmp_env.hpp).
#include "eqflow/core/openmp_env.hpp"

#include <stdlib.h>

namespace eqflow {

void set_openmp_defaults() {
  setenv("OMP_PROC_BIND", "false", 0);
}

}  // namespace eqflow
