#!/usr/bin/env bash
# `eqflow generate` on the tiny Gray-Scott deck: 1 and 2 MPI ranks write the same data set
# (h5diff of /fields, exact), a rerun reuses the complete file, and bad decks fail with one line
# naming the key.
# usage: generate_gray_scott.sh EQFLOW DECK WORKDIR
set -euo pipefail
eqflow=$1 deck=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
mpirun -n 1 "$eqflow" generate "$deck" --set output="$work/np1" --no-progress > "$work/np1.log" 2>&1
mpirun -n 2 --oversubscribe "$eqflow" generate "$deck" --set output="$work/np2" --no-progress \
  > "$work/np2.log" 2>&1
status=0
grep -q "5 computed on 2 ranks" "$work/np2.log" || { echo "generate: the 2-rank run did not compute on 2 ranks"; cat "$work/np2.log"; status=1; }
if ! h5diff "$work/np1/data.h5" "$work/np2/data.h5" /fields > "$work/diff.txt" 2>&1; then
  echo "generate: /fields differs between 1 and 2 ranks:"; head -20 "$work/diff.txt"; status=1
fi
[ "$(h5ls "$work/np1/data.h5/fields" | awk '{ print $3 }')" = "{5," ] || { echo "generate: bad shape"; h5ls "$work/np1/data.h5/fields"; status=1; }
mpirun -n 1 "$eqflow" generate "$deck" --set output="$work/np1" --no-progress > "$work/rerun.log" 2>&1
grep -q "0 computed on 1 rank, 5 already complete" "$work/rerun.log" || { echo "generate: the rerun recomputed"; cat "$work/rerun.log"; status=1; }

# expect NAME PATTERN ARGS...: eqflow fails with one stderr line containing PATTERN.
expect() {
  local name=$1 pattern=$2
  shift 2
  if "$eqflow" "$@" > "$work/$name.out" 2> "$work/$name.err"; then
    echo "generate: $name: expected a failure"; status=1; return
  fi
  if [ "$(wc -l < "$work/$name.err")" -ne 1 ] || ! grep -q "$pattern" "$work/$name.err"; then
    echo "generate: $name: expected one line with '$pattern', got:"; cat "$work/$name.err"; status=1
  fi
}
expect unknown_preset "data.preset.*'mazes' is not one of" generate "$deck" --set data.preset=mazes
expect unknown_key "data.step" generate "$deck" --set data.step=10
expect out_of_range "data.Du.*\[0, 0.25\]" generate "$deck" --set data.Du=0.5
expect wrong_type "data.samples" generate "$deck" --set data.samples=many
expect missing_deck "missing DECK" generate
[ $status -eq 0 ] && echo "generate: 1 and 2 ranks agree; rerun reused; bad decks rejected"
exit $status
