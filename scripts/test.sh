#!/usr/bin/env bash
# Quick start, step 2: install what is missing, build, and run the whole test suite (unit,
# mpi and regression labels). CI runs exactly this through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
# OpenMPI refuses to run as root without these; tests run small rank counts on few cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
(cd "${EQFLOW_BUILD_DIR:-build}" && ctest --output-on-failure -j "$(nproc)" "$@")
# CI also builds against an OpenMP Kokkos, with clang and the sanitizers, and for HIP
# (scripts/ci_stages.sh; EQFLOW_EXTRA_STAGES=0 skips them).
if [ "${EQFLOW_EXTRA_STAGES:-${CI:+1}}" = 1 ]; then
  bash scripts/ci_stages.sh
fi
