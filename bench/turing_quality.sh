#!/usr/bin/env bash
# Quality of eqflow's UNet score model against the plain-PyTorch UNet (bench/unet_torch.py) on
# the same Gray-Scott data with the same settings (issue 11, point 7): SEEDS training seeds of
# each, every run on one core (eqflow: 1 rank; PyTorch: 1 thread), two runs at a time; then the
# validation loss per code (mean and spread over seeds) and eqflow's generated samples against
# the held-out data by postprocess/turing_metrics.py (radially averaged power spectrum and the
# histogram of v, with the data-vs-data floor).
#
#   bash bench/turing_quality.sh [DECK] [--epochs N] [--seeds S] [--work DIR]
#   (default: inputs/turing_quick.yaml, its own epochs, 3 seeds, /tmp/eqflow_turing_quality)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
deck=$here/inputs/turing_quick.yaml epochs="" seeds=3 work=/tmp/eqflow_turing_quality
while [ $# -gt 0 ]; do
  case $1 in
    --epochs) epochs=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) deck=$1; shift ;;
  esac
done
eqflow=${EQFLOW:-$here/build/bin/eqflow}
python=${PYTHON:-/usr/bin/python3}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p "$work"
sets=()
[ -n "$epochs" ] && sets+=(--set "score.epochs=$epochs")
# The deck's resolved settings, for the PyTorch run.
"$eqflow" check "$deck" "${sets[@]}" > "$work/deck.txt"
get() { awk -v k="  $1:" 'index($0, k) == 1 { print $2; exit }' "$work/deck.txt"; }
ep=$(get epochs) batch=$(get batch) warmup=$(get warmup_steps) lr=$(get lr) wd=$(get weight_decay)
clip=$(get clip) val=$(get validation_fraction)
echo "deck $deck: epochs $ep, batch $batch, warm-up $warmup, lr $lr, wd $wd, clip $clip, validation $val"

"$eqflow" generate "$deck" --set output="$work/data" --no-progress > "$work/generate.log"
run_eqflow() {
  mkdir -p "$work/eqflow_$1"
  cp "$work/data/data.h5" "$work/eqflow_$1/data.h5"   # the same data: generation is skipped
  "$eqflow" run "$deck" "${sets[@]}" --set output="$work/eqflow_$1" --set "score.seed=$1" \
    --no-progress > "$work/eqflow_$1.log" 2>&1
}
run_torch() {
  "$python" "$here/bench/unet_torch.py" --threads 1 train "$work/data/data.h5" --dataset fields \
    --epochs "$ep" --batch "$batch" --warmup "$warmup" --lr "$lr" --weight-decay "$wd" \
    --clip "$clip" --val-fraction "$val" --seed "$1" --output "$work/torch_$1.json" \
    > "$work/torch_$1.log" 2>&1
}
start=$(date +%s)
for ((s = 0; s < seeds; ++s)); do
  run_eqflow "$s" & a=$!
  run_torch "$s" & b=$!
  wait $a; wait $b
  echo "seed $s done ($(( $(date +%s) - start )) s)"
done

"$python" - "$work" "$seeds" <<'PY'
import json, statistics, sys, h5py
work, seeds = sys.argv[1], int(sys.argv[2])
rows = {"eqflow": [], "pytorch": []}
secs = {"eqflow": [], "pytorch": []}
for s in range(seeds):
    with h5py.File(f"{work}/eqflow_{s}/score.h5", "r") as f:
        rows["eqflow"].append(float(f["training/validation_loss"][-1]))
        secs["eqflow"].append(float(sum(f["training/epoch_seconds"][:])))
    t = json.load(open(f"{work}/torch_{s}.json"))
    rows["pytorch"].append(float(t["val_loss"][-1]))
    secs["pytorch"].append(float(sum(t.get("epoch_seconds", [0]))))
print(f"{'code':8} {'final validation loss per seed':>40} {'mean':>9} {'std':>9} {'train s/seed':>13}")
for code, v in rows.items():
    sd = statistics.stdev(v) if len(v) > 1 else float("nan")
    print(f"{code:8} {' '.join(f'{x:.5f}' for x in v):>40} {statistics.mean(v):9.5f} {sd:9.5f} "
          f"{statistics.mean(secs[code]):13.1f}")
a, b = rows["eqflow"], rows["pytorch"]
if len(a) > 1:
    spread = (statistics.stdev(a) ** 2 / len(a) + statistics.stdev(b) ** 2 / len(b)) ** 0.5
    diff = statistics.mean(a) - statistics.mean(b)
    print(f"difference of means {diff:+.5f}, its standard error {spread:.5f} "
          f"({abs(diff) / spread if spread > 0 else float('inf'):.1f} sigma)")
PY
for ((s = 0; s < seeds; ++s)); do
  "$python" "$here/postprocess/turing_metrics.py" metrics "$work/eqflow_$s" \
    --json "$work/metrics_$s.json" | tail -3
done
