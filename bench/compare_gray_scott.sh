#!/usr/bin/env bash
# Gray-Scott simulator against its PyTorch version at equal threads (one), in one run:
#
#   bash bench/compare_gray_scott.sh [--steps T] [--torch-steps S] [--torch-repeats R]
#
# Builds bench_gray_scott, runs it (32 fields of 128 x 128, T = 1,000 steps, float and double,
# best of 3) and bench/gray_scott_torch.py with the conv2d Laplacian and with torch.roll (float32,
# torch.set_num_threads(1), S = T steps, best of R = 1 runs: PyTorch's conv2d version takes about
# 4 minutes for 1,000 steps here; its rate does not depend on S), and prints cell updates per
# second and the ratio eqflow / PyTorch. Logs go to out/bench_gray_scott/.
# Environment: EQFLOW_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

steps=1000
torch_repeats=1
torch_steps=
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --torch-repeats) torch_repeats=$2; shift 2 ;;
    --torch-steps) torch_steps=$2; shift 2 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare_gray_scott.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

torch_steps=${torch_steps:-$steps}
build=${EQFLOW_BUILD_DIR:-build}
out=out/bench_gray_scott
mkdir -p "$out"
bash bench/setup_torch.sh >/dev/null
cmake -S . -B "$build" >/dev/null
cmake --build "$build" -j2 --target bench_gray_scott >/dev/null

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
"$build/bin/bench_gray_scott" --steps "$steps" | tee "$out/eqflow.log"
for lap in conv roll; do
  /usr/bin/python3 bench/gray_scott_torch.py --threads 1 --steps "$torch_steps" \
    --repeats "$torch_repeats" --laplacian "$lap" | tee "$out/torch_$lap.log"
done

rate() { awk -v key="$2" '$1 == "result" && $2 == key { print $5; exit }' "$1"; }
eq=$(rate "$out/eqflow.log" gray_scott_float)
eqd=$(rate "$out/eqflow.log" gray_scott_double)
for lap in conv roll; do
  pt=$(rate "$out/torch_$lap.log" "gray_scott_torch_$lap")
  awk -v e="$eq" -v d="$eqd" -v p="$pt" -v l="$lap" 'BEGIN {
    printf "ratio %s: eqflow float %.3g / PyTorch %.3g cell-updates/s = %.1fx (eqflow double: %.1fx)\n",
      l, e, p, e / p, d / p }'
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
