// Defaults for the OpenMP environment, set before Kokkos initialises. Kokkos' OpenMP backend
// prints a four-line warning whenever OMP_PROC_BIND is unset; every run of an OpenMP build
// would start with it (and, from Kokkos 4, it lands on stderr next to eqflow's own errors).
#pragma once

namespace eqflow {

//! Sets OMP_PROC_BIND=false when the user has not set OMP_PROC_BIND. The OpenMP runtime reads
//! its environment when it is loaded, before main, so this only records what the runtime does
//! anyway (no thread binding) and silences Kokkos' warning; to bind threads, export
//! OMP_PROC_BIND=spread OMP_PLACES=threads in the job script. Call before Kokkos::initialize.
void set_openmp_defaults();

}  // namespace eqflow
