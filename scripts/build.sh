#!/usr/bin/env bash
# Configures and builds eqflow in build/ (Release). Extra arguments go to CMake's configure
# step, e.g. scripts/build.sh -DEQFLOW_ASAN=ON. Warnings are errors when CI is set.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${EQFLOW_BUILD_DIR:-build}
werror=OFF
[ -n "${CI:-}" ] && werror=ON
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DEQFLOW_WERROR="$werror" "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
