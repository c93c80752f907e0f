#!/usr/bin/env bash
# CI stages after the main build and suite (scripts/test.sh runs this when CI is set; set
# EQFLOW_EXTRA_STAGES=0 to skip, =1 to run them outside CI):
#   openmp  Kokkos 3.4.1 with OpenMP (scripts/kokkos_openmp.sh, built once into
#           EQFLOW_KOKKOS_OPENMP, default /opt/eqflow/kokkos-openmp), eqflow built against it
#           in build-openmp, the unit and mpi labels run with OMP_NUM_THREADS=2.
#   clang   eqflow (library, executable, tests, benchmarks) built with clang++ against
#           Debian's Kokkos in build-clang, warnings as errors; the unit label runs.
# Arguments name the stages to run (default: openmp clang).
set -euo pipefail
cd "$(dirname "$0")/.."
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(openmp clang)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1

elapsed() { echo "ci_stages: $1 took $((SECONDS - $2)) s"; }

for stage in "${stages[@]}"; do
  start=$SECONDS
  case $stage in
    openmp)
      prefix=${EQFLOW_KOKKOS_OPENMP:-/opt/eqflow/kokkos-openmp}
      bash scripts/kokkos_openmp.sh "$prefix"
      elapsed "kokkos_openmp.sh" "$start"
      EQFLOW_BUILD_DIR=build-openmp bash scripts/build.sh -DCMAKE_PREFIX_PATH="$prefix" \
        -DEQFLOW_BUILD_BENCH=OFF
      (cd build-openmp && OMP_NUM_THREADS=2 ctest --output-on-failure -L 'unit|mpi' \
        -j "$(nproc)")
      ;;
    clang)
      CC=clang CXX=clang++ EQFLOW_BUILD_DIR=build-clang bash scripts/build.sh
      (cd build-clang && OMP_NUM_THREADS=1 ctest --output-on-failure -L unit -j "$(nproc)")
      ;;
    *)
      echo "ci_stages: unknown stage '$stage' (openmp, clang)" >&2
      exit 1
      ;;
  esac
  elapsed "$stage stage" "$start"
done
