#!/usr/bin/env bash
# The similarity study of issue 12 (point 4) at a chosen size, per preset: data, score model,
# trained flows, and the similarity of the training-free and trained flows' displacements to
# Gray-Scott's against both baselines, over many start fields; then the table per preset
# (mean, standard deviation, n, the reference's numbers) and the cross-preset table of all the
# presets run. Every run is `eqflow run inputs/turing_flows_quick.yaml` with the sizes below
# as overrides, so a rerun reuses what is finished.
#
#   bash bench/turing_similarity.sh [--presets "maze waves"] [--size 32] [--samples 512]
#       [--steps 4000] [--score-epochs 40] [--flow-epochs 10] [--experiments 2] [--starts 8]
#       [--baselines 4] [--ranks 2] [--work out/turing_similarity]
# At 32 x 32 (and 64 x 64) the reference's initial condition leaves life and spirals without a
# pattern (the discs die out); they need 128 x 128 (inputs/turing_{life,spirals}.yaml).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
presets="maze" size=32 samples=512 steps=4000 score_epochs=40 flow_epochs=10 experiments=2
starts=8 baselines=4 ranks=2 work=$here/out/turing_similarity
while [ $# -gt 0 ]; do
  case $1 in
    --presets) presets=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --score-epochs) score_epochs=$2; shift 2 ;;
    --flow-epochs) flow_epochs=$2; shift 2 ;;
    --experiments) experiments=$2; shift 2 ;;
    --starts) starts=$2; shift 2 ;;
    --baselines) baselines=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "turing_similarity: unknown option $1" >&2; exit 2 ;;
  esac
done
eqflow=${EQFLOW:-$here/build/bin/eqflow}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MPLBACKEND=Agg
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$work"
runs=()
for preset in $presets; do
  out=$work/$preset
  mpirun -n "$ranks" --oversubscribe "$eqflow" run "$here/inputs/turing_flows_quick.yaml" \
    --set output="$out" --set data.preset="$preset" --set data.samples="$samples" \
    --set data.height="$size" --set data.width="$size" --set data.steps="$steps" \
    --set score.epochs="$score_epochs" --set flows.epochs="$flow_epochs" \
    --set flows.experiments="$experiments" --set similarity.starts="$starts" \
    --set similarity.baselines="$baselines" --set simulation.samples=0 --no-progress \
    > "$work/$preset.log" 2>&1 || { tail -20 "$work/$preset.log"; exit 1; }
  runs+=("$out")
done
/usr/bin/python3 "$here/postprocess/plot_turing.py" similarity "${runs[@]}" \
  -o "$work/similarity.png" --json "$work/similarity.json"
/usr/bin/python3 "$here/postprocess/plot_turing.py" cross-preset "${runs[@]}" \
  -o "$work/cross_preset.png"
/usr/bin/python3 "$here/postprocess/plot_turing.py" cross-preset "${runs[@]}" --flow trained \
  -o "$work/cross_preset_trained.png"
