#!/usr/bin/env bash
# The seed sweep of trained flows on fields (issue 12, point 7) on 1 and 2 MPI ranks: the flows
# stage alone (similarity and frames off), SEEDS trained FlowModels of EPOCHS epochs on the same
# data set and score model, wall seconds and seeds per second on each rank count, the speed-up,
# and whether the two sweeps' flow files are identical (each seed is a pure function of the
# deck, whichever rank trains it).
#
#   bash bench/turing_flow_ranks.sh [--seeds 4] [--epochs 3] [--size 32] [--samples 128] [--work DIR]
# The data and score model are made once (tiny score: its quality does not matter for speed).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
seeds=4 epochs=3 size=32 samples=128 work=/tmp/eqflow_turing_flow_ranks
while [ $# -gt 0 ]; do
  case $1 in
    --seeds) seeds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "turing_flow_ranks: unknown option $1" >&2; exit 2 ;;
  esac
done
eqflow=${EQFLOW:-$here/build/bin/eqflow}
deck=$here/inputs/tests/tiny_turing_flows.yaml
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rm -rf "$work" && mkdir -p "$work"
sets=(--set "data.samples=$samples" --set "data.height=$size" --set "data.width=$size"
  --set "flows.experiments=$seeds" --set "flows.epochs=$epochs" --set flows.batch=32
  --set flows.accumulation=1 --set flows.hidden=32 --set similarity.starts=0
  --set similarity.panel=0 --set simulation.samples=0 --set flows.checkpoint_every=1000)
# Data and score model once (no flows), then the same two files under each sweep.
mpirun -n 2 --oversubscribe "$eqflow" run "$deck" "${sets[@]}" --set flows.experiments=0 \
  --set output="$work/base" --no-progress > "$work/base.log" 2>&1 || { cat "$work/base.log"; exit 1; }
declare -A seconds
for ranks in 1 2; do
  mkdir -p "$work/np$ranks"
  cp "$work/base/data.h5" "$work/base/score.h5" "$work/np$ranks/"
  start=$(date +%s.%N)
  mpirun -n "$ranks" --oversubscribe "$eqflow" run "$deck" "${sets[@]}" \
    --set output="$work/np$ranks" --no-progress > "$work/np$ranks.log" 2>&1 \
    || { cat "$work/np$ranks.log"; exit 1; }
  seconds[$ranks]=$(echo "$(date +%s.%N) - $start" | bc -l)
done
same=yes
for ((e = 0; e < seeds; ++e)); do
  h5diff "$work/np1/flows/trained_$e.h5" "$work/np2/flows/trained_$e.h5" /flow /flow > /dev/null \
    || same=no
done
echo "| ranks | seeds | epochs | fields | wall s | seeds/s | speed-up |"
echo "|---|---|---|---|---|---|---|"
for ranks in 1 2; do
  awk -v r="$ranks" -v n="$seeds" -v e="$epochs" -v f="$samples x ${size}x$size" \
    -v s="${seconds[$ranks]}" -v s1="${seconds[1]}" 'BEGIN {
    printf "| %d | %d | %d | %s | %.1f | %.3f | %.2fx |\n", r, n, e, f, s, n / s, s1 / s }'
done
echo "flows identical on 1 and 2 ranks: $same"
