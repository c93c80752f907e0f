#!/usr/bin/env bash
# The field SDE step against PyTorch in interleaved rounds, for a ratio that a shared machine's
# drift does not decide: each round runs bench_field_flow --mode sde (and, with --baseline, a
# second build's, e.g. an older commit built in its own worktree) and field_flow_torch.py sde
# twice, back to back, one thread each: PyTorch with glibc's default malloc, and with mmap off
# (GLIBC_TUNABLES=glibc.malloc.mmap_max=0:...), which spares its freshly mmapped tensors their
# page faults (bench/README.md: on this VM that alone makes its 64x64 step 3x faster). Then per
# size the medians and ranges of process CPU seconds and of the ratios.
#
#   bash bench/sde_rounds.sh [--rounds 5] [--sizes "64 128"] [--batch 8] [--steps 3]
#                            [--baseline OTHER_BUILD_DIR]
# Environment: EQFLOW_BUILD_DIR (default build). Logs: out/bench_field_flow/rounds.log.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5 sizes="64 128" batch=8 steps=3 baseline=
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sde_rounds.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
build=${EQFLOW_BUILD_DIR:-build}
if [ -n "$baseline" ] && [ ! -x "$baseline/bin/bench_field_flow" ]; then
  echo "sde_rounds.sh: --baseline $baseline has no bin/bench_field_flow" >&2; exit 2
fi
out=out/bench_field_flow
mkdir -p "$out"
bash bench/setup_torch.sh >/dev/null
cmake -S . -B "$build" >/dev/null
cmake --build "$build" -j1 --target bench_field_flow >/dev/null
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

# eqflow BUILD SIZE: process CPU seconds of one step + frame.
eqflow() {
  "$1/bin/bench_field_flow" --mode sde --batch "$batch" --size "$2" --steps "$steps" |
    awk '$1 == "result" && $2 == "field_sde_step_frame" { for (i = 3; i < NF; i++) if ($i == "cpu_s") print $(i + 1) }'
}
no_mmap=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736
# torch SIZE [GLIBC_TUNABLES]
torch() {
  GLIBC_TUNABLES=${2:-} /usr/bin/python3 bench/field_flow_torch.py sde --threads 1 --batch "$batch" --size "$1" \
    --steps "$steps" | awk '$1 == "RESULT" { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "cpu_seconds") print kv[2] } }'
}
: >"$out/rounds.log"
for r in $(seq 1 "$rounds"); do
  for size in $sizes; do
    base=-
    [ -n "$baseline" ] && base=$(eqflow "$baseline" "$size")
    line="round $r size $size eqflow $(eqflow "$build" "$size") baseline $base torch $(torch "$size") torch_no_mmap $(torch "$size" "$no_mmap") load $(cut -d' ' -f1 /proc/loadavg)"
    echo "$line" | tee -a "$out/rounds.log"
  done
done
/usr/bin/python3 - "$out/rounds.log" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
print("| size | rounds | eqflow s (CPU) | baseline s | PyTorch s | PyTorch / eqflow: median (range) | PyTorch, no mmap, s | PyTorch no mmap / eqflow | PyTorch / baseline | baseline / eqflow |")
print("|---|---|---|---|---|---|---|---|---|---|")
ratio = lambda a, c: f"{st.median(x / y for x, y in zip(a, c)):.2f}x ({min(x / y for x, y in zip(a, c)):.2f}x-{max(x / y for x, y in zip(a, c)):.2f}x)"
for size in dict.fromkeys(r[3] for r in rows):
    mine = [r for r in rows if r[3] == size]
    e = [float(r[5]) for r in mine]
    b = [float(r[7]) for r in mine if r[7] != "-"]
    t = [float(r[9]) for r in mine]
    n = [float(r[11]) for r in mine]
    base = lambda text: text if b else "-"
    print(f"| {size}x{size} | {len(e)} | {st.median(e):.3f} | {base(f'{st.median(b):.3f}' if b else '')} | "
          f"{st.median(t):.3f} | **{ratio(t, e)}** | {st.median(n):.3f} | **{ratio(n, e)}** | "
          f"{base(ratio(t, b) if b else '')} | {base(ratio(b, e) if b else '')} |")
PY
