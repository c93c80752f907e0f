#!/usr/bin/env bash
# CI stages after the main build and suite (scripts/test.sh runs this when CI is set; set
# EQFLOW_EXTRA_STAGES=0 to skip, =1 to run them outside CI):
#   openmp  Kokkos 3.4.1 with OpenMP (scripts/kokkos_standalone.sh, built once into
#           EQFLOW_KOKKOS_OPENMP, default /opt/eqflow/kokkos-openmp), eqflow built against it
#           in build-openmp, the unit and mpi labels run with OMP_NUM_THREADS=2.
#   clang   eqflow (library, executable, tests, benchmarks) built with clang++ and the
#           address, undefined-behaviour and leak sanitizers against Debian's Kokkos in
#           build-clang, warnings as errors; the unit and mpi labels run (scripts/test_asan.sh).
#   hip     Kokkos 3.4.1 with HIP (Debian's hipcc, ROCm 5.2; built once into EQFLOW_KOKKOS_HIP,
#           default /opt/eqflow/kokkos-hip), and every library source but the KokkosBlas one
#           compiled as device code for gfx90a; nothing is linked or run (no GPU here).
# Arguments, or else EQFLOW_CI_STAGES, name the stages to run (default: openmp clang hip).
set -euo pipefail
cd "$(dirname "$0")/.."
stages=("$@")
[ ${#stages[@]} -gt 0 ] || read -r -a stages <<<"${EQFLOW_CI_STAGES:-openmp clang hip}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1

elapsed() { echo "ci_stages: $1 took $((SECONDS - $2)) s"; }

for stage in "${stages[@]}"; do
  start=$SECONDS
  case $stage in
    openmp)
      prefix=${EQFLOW_KOKKOS_OPENMP:-/opt/eqflow/kokkos-openmp}
      bash scripts/kokkos_standalone.sh openmp "$prefix"
      elapsed "kokkos_standalone.sh openmp" "$start"
      EQFLOW_BUILD_DIR=build-openmp bash scripts/build.sh -DCMAKE_PREFIX_PATH="$prefix" \
        -DEQFLOW_BUILD_BENCH=OFF
      # Two threads per test, one test at a time: each thread has a core. libgomp's default
      # wait policy (spin a while, then sleep) suits that; OMP_WAIT_POLICY=passive made every
      # kernel launch wake a sleeping thread (LyapunovSpectrum.LorenzField: 149 s against 3.7 s).
      (cd build-openmp && OMP_NUM_THREADS=2 ctest --output-on-failure -L 'unit|mpi' \
        -j "$((($(nproc) + 1) / 2))")
      ;;
    clang)
      # One build serves both: clang catches what g++ lets through, the sanitizers what the
      # tests do not see (scripts/test_asan.sh).
      CC=clang CXX=clang++ EQFLOW_ASAN_BUILD_DIR=build-clang bash scripts/test_asan.sh
      ;;
    hip)
      prefix=${EQFLOW_KOKKOS_HIP:-/opt/eqflow/kokkos-hip}
      bash scripts/setup.sh hipcc libamdhip64-dev rocm-device-libs
      bash scripts/kokkos_standalone.sh hip "$prefix"
      elapsed "kokkos_standalone.sh hip" "$start"
      generated=${EQFLOW_BUILD_DIR:-build}/generated
      [ -d "$generated" ] || bash scripts/build.sh
      objects=$(mktemp -d)
      find src -name '*.cpp' ! -path src/core/blas.cpp ! -path src/app/main.cpp |
        sort | xargs -P "$(nproc)" -I{} sh -c 'hipcc -std=c++17 -O2 -fno-gpu-rdc \
          --offload-arch=gfx90a -Wall -Wextra -isystem "$1/include" -Iinclude -I"$2" \
          $(mpicxx --showme:compile) -isystem /usr/include/hdf5/openmpi -c "$4" \
          -o "$3/$(echo "$4" | tr / _).o" || exit 255' _ "$prefix" "$generated" "$objects" {}
      echo "ci_stages: $(ls "$objects" | wc -l) sources compiled for gfx90a"
      rm -rf "$objects"
      ;;
    *)
      echo "ci_stages: unknown stage '$stage' (openmp, clang, hip)" >&2
      exit 1
      ;;
  esac
  elapsed "$stage stage" "$start"
done
