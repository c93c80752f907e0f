#!/usr/bin/env bash
# Side-by-side comparison of eqflow with a PyTorch baseline of the same math
# (bench/pytorch_baseline.py), at equal thread counts, in one command:
#
#   bash bench/compare.sh [--quick]
#
# 1. installs Debian's python3-torch if missing (bench/setup_torch.sh; eqflow never needs it),
# 2. builds eqflow's bench_step, bench_lyapunov and the eqflow command line,
# 3. trains one Lorenz flow for the Lyapunov benchmark if out/bench_flow holds none,
# 4. runs every item on both sides at 1 thread and at 2 threads / 2 ranks and prints a table:
#    PyTorch time, eqflow time, PyTorch / eqflow, eqflow GFLOP/s and % of a same-run gemm,
#    peak memory (max RSS, GNU time) of each side, and the 2-rank / 1-rank seed-sweep
#    throughput. Raw logs and the table go to out/bench_compare/ (results.md).
#
# Equal threads: eqflow runs with OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 per process
# (Debian's Kokkos is Serial: one core per process), PyTorch with --threads N
# (torch.set_num_threads(N), OMP/MKL_NUM_THREADS=N and single-threaded OpenBLAS, PyTorch's
# fastest N-thread setting here, see bench/pytorch_baseline.py). At 2, eqflow runs two
# independent processes at once (mpirun -n 2 for the deck) and its time is the throughput
# time, per-process time / 2; PyTorch runs once as one process with 2 threads and once as two
# 1-thread processes at once (throughput, like eqflow; not for the deck).
#
# --quick: fewer steps, a shorter Lyapunov run and a briefly trained flow (a smoke run; the
# numbers mean little). Environment: EQFLOW_BUILD_DIR (default build), EQFLOW_COMPARE_OUT
# (default out/bench_compare).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h | --help)
      sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "compare.sh: unknown option '$arg' (expected --quick)" >&2
      exit 2
      ;;
  esac
done

build=${EQFLOW_BUILD_DIR:-build}
out=${EQFLOW_COMPARE_OUT:-out/bench_compare}
py=/usr/bin/python3
baseline=bench/pytorch_baseline.py
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

if [ "$quick" = 1 ]; then
  steps=3
  lyap_opts=(--trajectories 8 --steps 500 --tau 250)
  flow_dir=out/bench_flow_quick
  flow_sets=(--set score.epochs=16 --set flow.epochs=4 --set analysis.lyapunov.enabled=false
    --set analysis.spectrum.enabled=false --set analysis.similarity.enabled=false)
else
  steps=20
  lyap_opts=()
  flow_dir=out/bench_flow
  flow_sets=()
fi
deck=inputs/tests/pipeline_lorenz.yaml
sweep_seeds=4

bash bench/setup_torch.sh
cmake -S . -B "$build"
targets=(bench_step bench_lyapunov eqflow_cli)
# bench_mmd is optional: used when the build defines it.
if cmake --build "$build" --target help 2>/dev/null | grep -q '\bbench_mmd\b'; then
  targets+=(bench_mmd)
fi
cmake --build "$build" -j --target "${targets[@]}"
bin="$build/bin"

seed_file="$flow_dir/seeds/seed_000000.h5"
if [ ! -f "$seed_file" ]; then
  echo "compare: training one Lorenz flow for the Lyapunov benchmark ($flow_dir)"
  OPENBLAS_NUM_THREADS=1 "$bin/eqflow" run inputs/quickstart.yaml --set experiments=1 \
    --set output="$flow_dir" "${flow_sets[@]}" --no-progress
fi

rm -rf "$out"
mkdir -p "$out"
tsv="$out/measurements.tsv"
: >"$tsv"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- helpers

# timed NAME CMD...: runs CMD under GNU time, stdout+stderr to $out/NAME.log.
timed() {
  local name=$1
  shift
  if ! /usr/bin/time -v -o "$out/$name.time" "$@" >"$out/$name.log" 2>&1; then
    echo "compare: '$*' failed, see $out/$name.log" >&2
    tail -5 "$out/$name.log" >&2
    exit 1
  fi
}
# eq1 NAME CMD...: eqflow with one thread.
eq1() {
  local name=$1
  shift
  timed "$name" env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$@"
}
# pair NAME CMD...: two copies of CMD at the same time ($out/NAME.a.*, $out/NAME.b.*).
pair() {
  local name=$1
  shift
  timed "$name.a" "$@" &
  local a=$!
  timed "$name.b" "$@" &
  local b=$! rc=0
  wait "$a" || rc=1
  wait "$b" || rc=1
  [ "$rc" = 0 ] || exit 1
}
# eq2 NAME CMD...: two eqflow processes with one thread each, at the same time.
eq2() {
  local name=$1
  shift
  pair "$name" env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$@"
}
# result FILE KEY [FIELD]: field FIELD (default 3: the seconds) of "result KEY ..." in FILE.
result() {
  awk -v key="$2" -v f="${3:-3}" '$1 == "result" && $2 == key { print $f; exit }' "$1"
}
# named FILE KEY NAME: the value after NAME on the "result KEY" line.
named() {
  awk -v key="$2" -v name="$3" '$1 == "result" && $2 == key {
    for (i = 4; i < NF; ++i) if ($i == name) { print $(i + 1); exit } }' "$1"
}
rss() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$out/$1.time"; }
wall() {
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0
    for (i = 1; i <= n; ++i) s = s * 60 + p[i]; print s }' "$out/$1.time"
}
# record ITEM THREADS TORCH_S EQFLOW_S GFLOPS PCT_GEMM TORCH_RSS_KB EQFLOW_RSS_KB NOTE
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$tsv"; }
mean() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + b) / 2 }'; }
half() { awk -v a="$1" 'BEGIN { print a / 2 }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }
maxof() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b) ? a : b }'; }

have_mmd=0
[ -x "$bin/bench_mmd" ] && have_mmd=1

# ---- 1 thread

echo "compare: 1 thread"
eq1 eq1_step "$bin/bench_step" --steps "$steps"
gemm1=$(result "$out/eq1_step.log" gemm 4)
for item in score flow_hutchinson flow_exact; do
  timed "pt1_$item" "$py" "$baseline" --threads 1 "$item" --steps "$steps"
  eqs=$(result "$out/eq1_step.log" "$item")
  gf=$(result "$out/eq1_step.log" "$item" 4)
  pct=$(awk -v g="$gf" -v r="$gemm1" 'BEGIN { printf "%.0f", 100 * g / r }')
  record "$item" 1 "$(result "$out/pt1_$item.log" "$item")" "$eqs" "$gf" "$pct" \
    "$(rss "pt1_$item")" "$(rss eq1_step)" "eqflow RSS: the bench_step process (all three steps)"
done

timed pt1_lyapunov "$py" "$baseline" --threads 1 lyapunov "$seed_file" "${lyap_opts[@]}"
eq1 eq1_lyapunov "$bin/bench_lyapunov" "$seed_file" "${lyap_opts[@]}"
# exponent_of NAME: "<exponent> (<stable> stable)" of a Lyapunov log.
exponent_of() {
  echo "$(named "$out/$1.log" lyapunov exponent) ($(named "$out/$1.log" lyapunov stable) stable)"
}
record lyapunov 1 "$(result "$out/pt1_lyapunov.log" lyapunov)" \
  "$(result "$out/eq1_lyapunov.log" lyapunov)" - - "$(rss pt1_lyapunov)" "$(rss eq1_lyapunov)" \
  "exponent PyTorch $(exponent_of pt1_lyapunov), eqflow $(exponent_of eq1_lyapunov)"

timed pt1_deck "$py" "$baseline" --threads 1 deck
rm -rf "$out/deck1"
eq1 eq1_deck "$bin/eqflow" run "$deck" --set output="$out/deck1" --no-progress
record deck 1 "$(wall pt1_deck)" "$(wall eq1_deck)" - - "$(rss pt1_deck)" "$(rss eq1_deck)" \
  "process wall time (PyTorch includes import torch)"

timed pt1_mmd "$py" "$baseline" --threads 1 mmd "$seed_file"
if [ "$have_mmd" = 1 ]; then
  eq1 eq1_mmd "$bin/bench_mmd" "$seed_file"
  record mmd 1 "$(result "$out/pt1_mmd.log" mmd)" "$(result "$out/eq1_mmd.log" mmd)" - - \
    "$(rss pt1_mmd)" "$(rss eq1_mmd)" ""
else
  record mmd 1 "$(result "$out/pt1_mmd.log" mmd)" - - - "$(rss pt1_mmd)" - \
    "eqflow has no MMD benchmark executable (bench_mmd)"
fi

# ---- 2 threads / 2 ranks. Rows "2t": PyTorch one process with 2 threads; rows "2p": PyTorch
# two 1-thread processes at once (throughput, like eqflow). eqflow: two processes at once.

echo "compare: 2 threads / 2 processes"
# thr NAME KEY: throughput time of a pair, the mean of its two results / 2.
thr() { half "$(mean "$(result "$out/$1.a.log" "$2")" "$(result "$out/$1.b.log" "$2")")"; }
rss2() { maxof "$(rss "$1.a")" "$(rss "$1.b")"; }

eq2 eq2_step "$bin/bench_step" --steps "$steps"
for item in score flow_hutchinson flow_exact; do
  gf=$(sum "$(result "$out/eq2_step.a.log" "$item" 4)" "$(result "$out/eq2_step.b.log" "$item" 4)")
  pct=$(awk -v ga="$(result "$out/eq2_step.a.log" "$item" 4)" \
    -v gb="$(result "$out/eq2_step.b.log" "$item" 4)" \
    -v ra="$(result "$out/eq2_step.a.log" gemm 4)" -v rb="$(result "$out/eq2_step.b.log" gemm 4)" \
    'BEGIN { printf "%.0f", 50 * (ga / ra + gb / rb) }')
  timed "pt2_$item" "$py" "$baseline" --threads 2 "$item" --steps "$steps"
  record "$item" 2t "$(result "$out/pt2_$item.log" "$item")" "$(thr eq2_step "$item")" "$gf" \
    "$pct" "$(rss "pt2_$item")" "$(rss2 eq2_step)" "eqflow GFLOP/s: sum of the 2 processes"
  pair "ptp_$item" "$py" "$baseline" --threads 1 "$item" --steps "$steps"
  record "$item" 2p "$(thr "ptp_$item" "$item")" "$(thr eq2_step "$item")" "$gf" "$pct" \
    "$(rss2 "ptp_$item")" "$(rss2 eq2_step)" ""
done

eq2 eq2_lyapunov "$bin/bench_lyapunov" "$seed_file" "${lyap_opts[@]}"
timed pt2_lyapunov "$py" "$baseline" --threads 2 lyapunov "$seed_file" "${lyap_opts[@]}"
record lyapunov 2t "$(result "$out/pt2_lyapunov.log" lyapunov)" "$(thr eq2_lyapunov lyapunov)" \
  - - "$(rss pt2_lyapunov)" "$(rss2 eq2_lyapunov)" ""
pair ptp_lyapunov "$py" "$baseline" --threads 1 lyapunov "$seed_file" "${lyap_opts[@]}"
record lyapunov 2p "$(thr ptp_lyapunov lyapunov)" "$(thr eq2_lyapunov lyapunov)" \
  - - "$(rss2 ptp_lyapunov)" "$(rss2 eq2_lyapunov)" ""

timed pt2_deck "$py" "$baseline" --threads 2 deck
rm -rf "$out/deck2"
timed eq2_deck mpirun -n 2 --oversubscribe -x OPENBLAS_NUM_THREADS=1 -x OMP_NUM_THREADS=1 \
  "$bin/eqflow" run "$deck" --set output="$out/deck2" --no-progress
record deck 2t "$(wall pt2_deck)" "$(wall eq2_deck)" - - "$(rss pt2_deck)" "$(rss eq2_deck)" \
  "eqflow: one run, mpirun -n 2 (seeds over ranks); RSS of the largest rank"

if [ "$have_mmd" = 1 ]; then
  eq2 eq2_mmd "$bin/bench_mmd" "$seed_file"
  eq_mmd2=$(thr eq2_mmd mmd) eq_mmd2_rss=$(rss2 eq2_mmd) mmd_note=""
else
  eq_mmd2=- eq_mmd2_rss=- mmd_note="eqflow has no MMD benchmark executable (bench_mmd)"
fi
timed pt2_mmd "$py" "$baseline" --threads 2 mmd "$seed_file"
record mmd 2t "$(result "$out/pt2_mmd.log" mmd)" "$eq_mmd2" - - "$(rss pt2_mmd)" \
  "$eq_mmd2_rss" "$mmd_note"
pair ptp_mmd "$py" "$baseline" --threads 1 mmd "$seed_file"
record mmd 2p "$(thr ptp_mmd mmd)" "$eq_mmd2" - - "$(rss2 ptp_mmd)" "$eq_mmd2_rss" "$mmd_note"

# ---- seed sweep: the small deck with 4 seeds of 100 flow epochs on 1 rank and on 2 ranks.
# Throughput is eqflow's own "flows: ... seeds/s" line: the flow-seed stage over all ranks,
# without start-up and the summary (serial, rank 0) that a 4-seed run would be dominated by.

echo "compare: seed sweep ($sweep_seeds seeds, 1 and 2 ranks)"
rm -rf "$out/sweep1" "$out/sweep2"
mkdir -p "$out/sweep1" "$out/sweep2"
sweep_epochs=100
[ "$quick" = 1 ] && sweep_epochs=20
eq1 sweep1 "$bin/eqflow" run "$deck" --set experiments="$sweep_seeds" \
  --set output="$out/sweep1" --no-progress --set flow.epochs="$sweep_epochs"
timed sweep2 mpirun -n 2 --oversubscribe -x OPENBLAS_NUM_THREADS=1 -x OMP_NUM_THREADS=1 \
  "$bin/eqflow" run "$deck" --set experiments="$sweep_seeds" --set output="$out/sweep2" \
  --set flow.epochs="$sweep_epochs" --no-progress
seeds_per_second() { grep -oE '[0-9.e+-]+ seeds/s' "$out/$1.log" | tail -1 | cut -d' ' -f1; }
printf 'sweep\t%s\t%s\t%s\n' "$sweep_seeds" "$(seeds_per_second sweep1)" \
  "$(seeds_per_second sweep2)" >"$out/sweep.tsv"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table

"$py" - "$tsv" "$out/sweep.tsv" "$quick" "$load_before" "$load_after" "$steps" \
  "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'EOF' | tee "$out/results.md"
import datetime, os, platform, subprocess, sys

tsv, sweep, quick, load_before, load_after, steps, rev = sys.argv[1:]
names = {"score": "score MLP step", "flow_hutchinson": "flow step, hutchinson K=10",
         "flow_exact": "flow step, exact (d=3)", "lyapunov": "Lyapunov of one flow",
         "deck": "whole small deck", "mmd": "MMD^2 curve (256 pts, 100 RK4 steps)"}


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def fmt_time(s):
    v = num(s)
    if v is None:
        return "n/a"
    return f"{v * 1e3:.2f} ms" if v < 1 else f"{v:.2f} s"


def fmt_mb(s):
    v = num(s)
    return "n/a" if v is None else f"{v / 1024:.0f} MB"


try:
    cpu = [line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
           if line.startswith("model name")][0]
except (OSError, IndexError):
    cpu = platform.processor() or "unknown CPU"
torch_version = subprocess.run(["/usr/bin/python3", "-c", "import torch; print(torch.__version__)"],
                               capture_output=True, text=True).stdout.strip()
print(f"## eqflow vs PyTorch ({datetime.date.today().isoformat()}"
      f"{', --quick smoke run' if quick == '1' else ''})\n")
print(f"{os.cpu_count()} cores ({cpu}), eqflow git {rev}, torch {torch_version}, "
      f"{steps} timed steps per training-step item; load average before {load_before}, "
      f"after {load_after}.\n")
print("| item | threads | PyTorch | eqflow | PyTorch / eqflow | eqflow GFLOP/s | % of gemm "
      "| PyTorch max RSS | eqflow max RSS | note |")
print("|---|---|---|---|---|---|---|---|---|---|")
for line in open(tsv):
    item, threads, pt, eq, gf, pct, prss, erss, note = line.rstrip("\n").split("\t")
    p, e = num(pt), num(eq)
    ratio = f"{p / e:.2f}" if p and e else "n/a"
    label = {"1": "1", "2t": "2: PyTorch 2 threads", "2p": "2: 2 processes"}[threads]
    print(f"| {names.get(item, item)} | {label} | {fmt_time(pt)} | {fmt_time(eq)} | {ratio} | "
          f"{f'{num(gf):.1f}' if num(gf) is not None else '-'} | "
          f"{pct + '%' if num(pct) is not None else '-'} | "
          f"{fmt_mb(prss)} | {fmt_mb(erss)} | {note} |")
_, seeds, r1, r2 = open(sweep).read().split()
s1, s2 = float(r1), float(r2)
print(f"\nSeed sweep (small deck, {seeds} seeds of 100 flow epochs, OPENBLAS_NUM_THREADS=1; "
      f"eqflow's flow-stage throughput): 1 rank {s1:.3f} seeds/s, mpirun -n 2 {s2:.3f} "
      f"seeds/s: throughput ratio 2 ranks / 1 rank = {s2 / s1:.2f}.")
print("\nPyTorch / eqflow > 1: eqflow is faster. Training steps: time per step; Lyapunov and "
      "MMD^2: time of one analysis; deck: process wall time. \"2: PyTorch 2 threads\": PyTorch "
      "is one process with 2 threads; \"2: 2 processes\": PyTorch too runs two 1-thread "
      "processes at once. eqflow at 2 always runs two 1-thread processes at once (Serial "
      "Kokkos; the deck as one mpirun -n 2 run) and its time is the throughput time, the "
      "per-process time / 2; GFLOP/s at 2 are the sum of both processes.")
EOF
