#!/usr/bin/env bash
# Quick start, step 1: install what is missing, build, and run the main job on the small
# default deck.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
./build/bin/eqflow --version
./build/bin/eqflow selfcheck
