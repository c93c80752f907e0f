#!/usr/bin/env bash
# The UNet training step (bench_unet) against the plain-PyTorch UNet (bench/unet_torch.py step)
# at equal threads (one), for batch 64 at 64x64 and at 128x128, in one run:
#
#   bash bench/compare_unet.sh [--batch B] [--steps S] [--sizes "64 128"] [--torch-steps S]
#
# Builds bench_unet, runs it and `unet_torch.py --threads 1 step` per size (the median of S = 3
# timed steps after one warm-up, both sides; a 128x128 batch-64 step takes tens of seconds on
# one core, each side), and prints a table: seconds per step, samples/s, PyTorch / eqflow,
# eqflow's convolution GFLOP/s against the same-run sgemm of the largest convolution's shapes
# (per sample, and with the samples' columns side by side), and eqflow's top profile regions.
# Logs go to out/bench_unet/. Environment: EQFLOW_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

batch=64
steps=3
torch_steps=
sizes="64 128"
while [ $# -gt 0 ]; do
  case "$1" in
    --batch) batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --torch-steps) torch_steps=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare_unet.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

torch_steps=${torch_steps:-$steps}
build=${EQFLOW_BUILD_DIR:-build}
out=out/bench_unet
mkdir -p "$out"
bash bench/setup_torch.sh >/dev/null
cmake -S . -B "$build" >/dev/null
cmake --build "$build" -j2 --target bench_unet >/dev/null

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
for size in $sizes; do
  "$build/bin/bench_unet" --batch "$batch" --size "$size" --steps "$steps" \
    | tee "$out/eqflow_$size.log"
  /usr/bin/python3 bench/unet_torch.py --threads 1 step --batch "$batch" --size "$size" \
    --steps "$torch_steps" | tee "$out/torch_$size.log"
done

field() { awk -v key="$2" -v f="$3" '$1 == "result" && $2 == key { print $f; exit }' "$1"; }
gemm_mean() { awk -v kind="$2" '$2 == "gemm_gflops_per_s" && $3 ~ "^" kind { for (i = 4; i < NF; i++) if ($i == "mean") { print $(i + 1); exit } }' "$1"; }
{
  echo "| batch | size | eqflow s/step | PyTorch s/step | PyTorch / eqflow | eqflow samples/s | conv GFLOP/s | sgemm GFLOP/s per sample / batched | top profile regions |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for size in $sizes; do
    e="$out/eqflow_$size.log"
    es=$(field "$e" unet_step 3)
    ps=$(/usr/bin/python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["seconds_per_step"])' "$out/torch_$size.log")
    conv=$(field "$e" conv_flops 5)
    top=$(awk '$1 == "profile" && $2 == "region" && $3 !~ /^bench::/ { sub(/^eqflow::/, "", $3); printf "%s%s %s", sep, $3, $6; sep = ", "; if (++k == 4) exit }' "$e")
    awk -v b="$batch" -v s="$size" -v es="$es" -v ps="$ps" -v conv="$conv" \
      -v gs="$(gemm_mean "$e" per_sample)" -v gb="$(gemm_mean "$e" batched)" -v top="$top" 'BEGIN {
      printf "| %d | %dx%d | %.3f | %.3f | **%.2fx** | %.1f | %.1f | %.1f / %.1f | %s |\n",
        b, s, s, es, ps, ps / es, b / es, conv, gs, gb, top }'
  done
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/results.md"
