#!/usr/bin/env bash
# The same deck on 1 and on 2 MPI ranks gives identical seeds and summaries.
# usage: rank_equality.sh EQFLOW DECK WORKDIR
set -euo pipefail
eqflow=$1 deck=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
mpirun -n 1 "$eqflow" run "$deck" --set output="$work/np1" --no-progress > "$work/np1.log" 2>&1
mpirun -n 2 --oversubscribe "$eqflow" run "$deck" --set output="$work/np2" --no-progress \
  > "$work/np2.log" 2>&1
status=0
for f in run.h5 summary.h5 seeds/seed_000000.h5 seeds/seed_000001.h5 seeds/seed_000002.h5; do
  for group in /summary /flow /analysis /score /data; do
    if h5ls "$work/np1/$f$group" > /dev/null 2>&1; then
      if ! h5diff "$work/np1/$f" "$work/np2/$f" "$group" > "$work/diff.txt" 2>&1; then
        echo "rank_equality: $f $group differs between 1 and 2 ranks:"; head -20 "$work/diff.txt"
        status=1
      fi
    fi
  done
done
grep -q "2 rank(s)" "$work/np2.log" || { echo "rank_equality: the 2-rank run did not use 2 ranks"; status=1; }
[ $status -eq 0 ] && echo "rank_equality: 1 and 2 ranks agree on every dataset"
exit $status
