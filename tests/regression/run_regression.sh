#!/usr/bin/env bash
# Runs a regression deck and compares its numbers with the golds (tests/regression/*.json).
# usage: run_regression.sh EQFLOW DECK GOLD_JSON WORKDIR [--set key=value ...] [--regenerate]
set -euo pipefail
eqflow=$1 deck=$2 gold=$3 work=$4
shift 4
sets=()
while [ $# -gt 0 ] && [ "$1" = --set ]; do
  sets+=(--set "$2")
  shift 2
done
rm -rf "$work" && mkdir -p "$work"
OPENBLAS_NUM_THREADS=1 "$eqflow" run "$deck" --set output="$work/out" "${sets[@]}" --no-progress \
  > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
exec /usr/bin/python3 "$(dirname "$0")/check_gold.py" "$work/out" "$gold" "$@"
