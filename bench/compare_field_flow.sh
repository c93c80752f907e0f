#!/usr/bin/env bash
# The trained flow on fields (bench_field_flow) against its PyTorch twin
# (bench/field_flow_torch.py) at equal threads (one), in one run:
#
#   bash bench/compare_field_flow.sh [--sizes "32 64"] [--batch B] [--sde-sizes "64 128"]
#                                    [--sde-batch 8] [--steps 3]
#
# Builds bench_field_flow and runs, per size, the training step (`--mode train` against
# `field_flow_torch.py step`: hidden 32, 4 Hutchinson probes, clip 1.0, AdamW; batch B, by
# default 128 fields up to 32x32 and 131,072 pixels per step above, i.e. 32 at 64x64: PyTorch's
# batch-128 64x64 step takes about 100 s here, see bench/README.md) and the SDE step (`--mode
# sde` against `field_flow_torch.py sde`: one Heun step with two UNet score evaluations, v = K s
# with the swap kernel, and the denoised frame), the median of S timed steps after one warm-up
# on both sides. Prints a table of seconds per step (wall and process CPU), PyTorch / eqflow of
# both, and eqflow's top profile regions; on a shared machine the CPU-time ratio is the steadier
# one. Logs go to out/bench_field_flow/.
# Environment: EQFLOW_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

sizes="32 64"
batch=
sde_sizes="64 128"
sde_batch=8
steps=3
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --sde-sizes) sde_sizes=$2; shift 2 ;;
    --sde-batch) sde_batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare_field_flow.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

build=${EQFLOW_BUILD_DIR:-build}
out=out/bench_field_flow
mkdir -p "$out"
bash bench/setup_torch.sh >/dev/null
cmake -S . -B "$build" >/dev/null
cmake --build "$build" -j1 --target bench_field_flow >/dev/null

# The training batch at a size: --batch, else 128 up to 32x32 and 131,072 pixels above.
train_batch() { if [ -n "$batch" ]; then echo "$batch"; elif [ "$1" -le 32 ]; then echo 128; else echo $((131072 / ($1 * $1))); fi; }

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
for size in $sizes; do
  b=$(train_batch "$size")
  "$build/bin/bench_field_flow" --mode train --batch "$b" --size "$size" --steps "$steps" \
    | tee "$out/eqflow_train_$size.log"
  /usr/bin/python3 bench/field_flow_torch.py step --threads 1 --batch "$b" --size "$size" \
    --steps "$steps" | tee "$out/torch_train_$size.log"
done
for size in $sde_sizes; do
  "$build/bin/bench_field_flow" --mode sde --batch "$sde_batch" --size "$size" --steps "$steps" \
    | tee "$out/eqflow_sde_$size.log"
  /usr/bin/python3 bench/field_flow_torch.py sde --threads 1 --batch "$sde_batch" --size "$size" \
    --steps "$steps" | tee "$out/torch_sde_$size.log"
done

# field FILE KEY N: field N of eqflow's `result KEY ...` line; value FILE KEY: KEY=value of
# PyTorch's RESULT line; top FILE: eqflow's four largest profile regions.
field() { awk -v key="$2" -v f="$3" '$1 == "result" && $2 == key { print $f; exit }' "$1"; }
named() { awk -v key="$2" '$1 == "result" && $2 == key { for (i = 3; i < NF; i++) if ($i == key2) { print $(i + 1); exit } }' key2="$3" "$1"; }
value() { awk -v key="$2" '$1 == "RESULT" { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) print kv[2] } }' "$1"; }
top() { awk '$1 == "profile" && $2 == "region" && $3 !~ /^bench::/ { sub(/^eqflow::/, "", $3); printf "%s%s %s", sep, $3, $6; sep = ", "; if (++k == 4) exit }' "$1"; }
row() {  # mode batch size eqflow_s eqflow_cpu torch_s torch_cpu note
  awk -v m="$1" -v b="$2" -v s="$3" -v es="$4" -v ec="$5" -v ps="$6" -v pc="$7" -v note="$8" 'BEGIN {
    printf "| %s | %d | %dx%d | %.3f (%.3f) | %.3f (%.3f) | **%.2fx** | %.2fx | %s |\n",
      m, b, s, s, es, ec, ps, pc, ps / es, pc / ec, note }'
}
{
  echo "| mode | batch | size | eqflow s/step (CPU) | PyTorch s/step (CPU) | PyTorch / eqflow | CPU-time ratio | eqflow: where the time goes |"
  echo "|---|---|---|---|---|---|---|---|"
  for size in $sizes; do
    e="$out/eqflow_train_$size.log" t="$out/torch_train_$size.log"
    row "train step" "$(train_batch "$size")" "$size" "$(field "$e" field_flow_train 3)" \
      "$(named "$e" field_flow_train cpu_s)" "$(value "$t" step_seconds)" \
      "$(value "$t" cpu_seconds)" "$(top "$e")"
  done
  for size in $sde_sizes; do
    e="$out/eqflow_sde_$size.log" t="$out/torch_sde_$size.log"
    note=$(awk -v es="$(field "$e" field_sde_step 3)" -v ef="$(named "$e" field_sde_step_frame frame_s)" \
      -v pf="$(value "$t" frame_seconds)" -v top="$(top "$e")" 'BEGIN {
      printf "step alone %.3f s, frame %.2g s (PyTorch frame %.2g s); %s", es, ef, pf, top }')
    row "SDE step + frame" "$sde_batch" "$size" "$(field "$e" field_sde_step_frame 3)" \
      "$(named "$e" field_sde_step_frame cpu_s)" "$(value "$t" sde_step_seconds)" \
      "$(value "$t" cpu_seconds)" "$note"
  done
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/results.md"
