#!/usr/bin/env bash
# Quick start, step 1: install what is missing, build, and run the main job on the small
# default deck (inputs/quickstart.yaml, a few minutes on 2 cores), then print its summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
# One MPI rank per core with single-threaded BLAS (Debian's Kokkos is Serial); OpenMPI
# needs the two variables when run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
ranks=$(nproc)
mpirun -n "$ranks" --oversubscribe ./build/bin/eqflow run inputs/quickstart.yaml "$@"
./build/bin/eqflow summary out/quickstart/run.h5
