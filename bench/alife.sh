#!/usr/bin/env bash
# Artificial life (issue 13): the data generation's throughput on 1 and 2 MPI ranks against a
# plain Python/PIL generator, and the simulation's SDE step against its PyTorch twin at one
# thread, in one run:
#
#   bash bench/alife.sh [--deck inputs/alife_disc.yaml] [--samples 2048] [--pil-samples N]
#                       [--ranks "1 2"] [--repeats 3]
#                       [--sde-decks "inputs/alife_quick.yaml inputs/alife_disc.yaml"]
#                       [--max-batch 2] [--steps 3] [--skip-data] [--skip-sde]
#
# (a) Data: `eqflow generate DECK --set data.samples=N` (a `system: icons` deck) on each rank
#     count into out/bench_alife/generate_<ranks>/data.h5 (removed first: generate reuses a
#     complete file), timed as a whole command (MPI start, the deck, the HDF5 file with its
#     per-round flushes) by GNU time (wall and CPU of all ranks), and the generation loop alone
#     from eqflow's progress line; then `bench/icons_pil.py` on N images (default: --samples):
#     the same images from the deck's icon, size, canvas, copies and attempts with PIL's
#     rotate(BICUBIC, expand=True) and paste with alpha, one process, also writing an HDF5
#     file, timed the same two ways; and, as a control of what a shared machine gives two
#     processes at the moment, two independent 1-rank runs of N/2 images side by side (no MPI
#     between them). All of it R times in turn (1 rank, 2 ranks, the pair, PIL, 1 rank, ...); the table holds the run of median wall time of each, every run's images/s, the
#     speed-up over the first rank count, `h5diff` of /fields between each rank count's file
#     and the first's (identical on any rank count), eqflow / PIL of images per second on the
#     first rank count, and the covered fraction (pixels with some channel below 0) of both
#     data sets (PIL also its mean copies per image) as a check that both draw the same
#     distribution.
# (b) SDE: per deck in --sde-decks, the simulation the deck runs: 3 channels, its score UNet
#     (score.block_channels, score.layers_per_block), its kernel (flows.kernel, random), dt
#     (simulation.dt), on a canvas of data.height x simulation.canvas pixels a side, batch
#     min(simulation.samples, --max-batch): `bench_field_flow --mode sde` against
#     `field_flow_torch.py sde --threads 1`, the median of S timed Heun steps (two UNet
#     evaluations each, and the denoised frame) after one warm-up, wall and process CPU seconds,
#     PyTorch / eqflow of both, and eqflow's top profile regions.
# Prints both tables with the load average, also written with every log to out/bench_alife/
# (results.md). Environment: EQFLOW_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

deck=inputs/alife_disc.yaml
samples=2048
pil_samples=
ranks="1 2"
repeats=3
sde_decks="inputs/alife_quick.yaml inputs/alife_disc.yaml"
max_batch=2
steps=3
data=1
sde=1
while [ $# -gt 0 ]; do
  case "$1" in
    --deck) deck=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --pil-samples) pil_samples=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --sde-decks) sde_decks=$2; shift 2 ;;
    --max-batch) max_batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --skip-data) data=0; shift ;;
    --skip-sde) sde=0; shift ;;
    -h | --help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "alife.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
pil_samples=${pil_samples:-$samples}

build=${EQFLOW_BUILD_DIR:-build}
out=out/bench_alife
mkdir -p "$out"
bash bench/setup_torch.sh >/dev/null
cmake -S . -B "$build" >/dev/null
cmake --build "$build" -j1 --target eqflow_cli bench_field_flow >/dev/null
eqflow=$build/bin/eqflow
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# setting FILE SECTION KEY: KEY's value in SECTION of a resolved deck (`eqflow check` output).
setting() {
  awk -v sec="$2:" -v key="$3:" '/^[^ #]/ { in_sec = ($1 == sec) } in_sec && $1 == key {
    $1 = ""; sub(/^ +/, ""); gsub(/[\[\]" ]/, ""); print; exit }' "$1"
}
# value FILE KEY: KEY=value of a RESULT line (PyTorch, icons_pil.py).
value() { awk -v key="$2" '$1 == "RESULT" { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) print kv[2] } }' "$1"; }
# named FILE KEY NAME: the value after NAME on eqflow's `result KEY ...` line.
named() { awk -v key="$2" -v name="$3" '$1 == "result" && $2 == key { for (i = 3; i < NF; i++) if ($i == name) { print $(i + 1); exit } }' "$1"; }
field() { awk -v key="$2" -v f="$3" '$1 == "result" && $2 == key { print $f; exit }' "$1"; }
# top FILE: eqflow's four largest profile regions.
top() { awk '$1 == "profile" && $2 == "region" && $3 !~ /^bench::/ { sub(/^eqflow::/, "", $3); printf "%s%s %s", sep, $3, $6; sep = ", "; if (++k == 4) exit }' "$1"; }
# loop_rate FILE: images/s of eqflow's generation loop (its last progress line).
loop_rate() { tr '\r' '\n' < "$1" | awk '$1 == "icon" && $2 == "images" && / it\/s / { for (i = 3; i < NF; i++) if ($(i + 1) == "it/s") r = $i } END { print r }'; }
# data_stats FILE: the covered fraction of /fields (pixels with some channel below 0).
data_stats() {
  /usr/bin/python3 - "$1" <<'EOF'
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "r") as f:
    d = f["fields"]
    hits = sum(int((d[i:i + 256].min(axis=1) < 0).sum()) for i in range(0, len(d), 256))
    print(f"{hits / (d.shape[0] * d.shape[2] * d.shape[3]):.4f}")
EOF
}

commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include bench || echo "+changes")
{
  echo "eqflow git $commit, $(date -u +%Y-%m-%d), $(getconf _NPROCESSORS_ONLN) cores, $(uname -m)"
  echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"

if [ "$data" = 1 ]; then
  "$eqflow" check "$deck" --set "data.samples=$samples" > "$out/deck.txt"
  icon=$(setting "$out/deck.txt" data icon) icon_size=$(setting "$out/deck.txt" data icon_size)
  height=$(setting "$out/deck.txt" data height) width=$(setting "$out/deck.txt" data width)
  copies=$(setting "$out/deck.txt" data copies) attempts=$(setting "$out/deck.txt" data attempts)
  seed=$(awk '$1 == "seed:" { print $2; exit }' "$out/deck.txt")
  case "$icon" in  # the PIL baseline's icon: eqflow's drawing of a built-in name, else the PNG
    disc | two_discs | firefly | taiji) png=$out/icon_$icon.png
      "$eqflow" draw-icon "$icon" "$png" --size "$icon_size" >/dev/null ;;
    *) png=$icon ;;
  esac
  rm -f "$out"/run_*.txt
  first=${ranks%% *}
  for r in $(seq 1 "$repeats"); do  # interleaved: every rank count, then PIL, R times
    for n in $ranks; do
      dir=$out/generate_$n
      rm -rf "$dir"
      /usr/bin/time -f "%e %U %S" -o "$out/time.txt" \
        mpirun -n "$n" --oversubscribe "$eqflow" generate "$deck" --set "data.samples=$samples" \
        --set "output=$dir" > "$out/generate_${n}_$r.log" 2>&1
      echo "$(cat "$out/time.txt") $(loop_rate "$out/generate_${n}_$r.log")" \
        | tee "$out/run_generate_${n}_$r.txt"
    done
    # The control: two independent 1-rank runs of half the images side by side (no MPI between
    # them), what the machine gives two processes at the moment; "wall user sys" of the pair.
    rm -rf "$out/generate_pair_a" "$out/generate_pair_b"
    start=$(date +%s.%N)
    for half in a b; do
      /usr/bin/time -f "%e %U %S" -o "$out/time_$half.txt" mpirun -n 1 --oversubscribe "$eqflow" \
        generate "$deck" --set "data.samples=$((samples / 2))" \
        --set "output=$out/generate_pair_$half" > "$out/generate_pair_${half}_$r.log" 2>&1 &
    done
    wait
    awk -v w="$(echo "$(date +%s.%N) - $start" | bc)" '{ u += $2; s += $3 } END { printf "%.2f %.2f %.2f -\n", w, u, s }' \
      "$out/time_a.txt" "$out/time_b.txt" | tee "$out/run_pair_$r.txt"
    rm -rf "$out/generate_pair_a" "$out/generate_pair_b" "$out/time_a.txt" "$out/time_b.txt"
    /usr/bin/time -f "%e %U %S" -o "$out/time.txt" /usr/bin/python3 bench/icons_pil.py \
      --icon "$png" --icon-size "$icon_size" --samples "$pil_samples" --height "$height" \
      --width "$width" --copies "$copies" --attempts "$attempts" --seed "$seed" \
      --output "$out/pil.h5" > "$out/pil_$r.log"
    echo "$(cat "$out/time.txt") $(value "$out/pil_$r.log" images_per_s)" | tee "$out/run_pil_$r.txt"
  done
  rm -f "$out/pil.h5" "$out/time.txt"
  # median_run PREFIX: "wall user sys loop_rate" of the run of median wall time (the lower of
  # the middle two for an even count); rates PREFIX N: images/s of every run, in run order.
  median_run() { cat "$1"_*.txt | sort -g -k1,1 | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'; }
  rates() { for f in "$1"_*.txt; do awk -v n="$2" '{ printf "%s%.0f", sep, n / $1 }' "$f"; printf " "; done | sed 's/ $//; s/ /, /g'; }
  {
    echo "data: $deck, $samples images of 3 x $height x $width, icon '$icon' at $icon_size, up to $copies copies, $attempts attempts; median of $repeats runs"
    echo
    echo "| generator | processes | images | command s (CPU s) | images/s (command) | every run | images/s (loop) | speed-up (command) | /fields identical | covered fraction |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    base='' base_loop=''
    for n in $ranks; do
      read -r wall user sys loop <<< "$(median_run "$out/run_generate_$n")"
      rate=$(awk -v s="$samples" -v w="$wall" 'BEGIN { printf "%.1f", s / w }')
      base=${base:-$rate} base_loop=${base_loop:-$loop}
      if [ "$n" = "$first" ]; then same="(reference)"
      elif h5diff -q "$out/generate_$first/data.h5" "$out/generate_$n/data.h5" /fields /fields; then same=yes
      else same=NO; fi
      echo "| eqflow generate | $n rank(s) | $samples | $wall ($(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')) | $rate | $(rates "$out/run_generate_$n" "$samples") | $loop | $(awk -v r="$rate" -v b="$base" 'BEGIN { printf "%.2fx", r / b }') | $same | $(data_stats "$out/generate_$n/data.h5") |"
    done
    read -r wall user sys loop <<< "$(median_run "$out/run_pair")"
    rate=$(awk -v s="$((samples / 2 * 2))" -v w="$wall" 'BEGIN { printf "%.1f", s / w }')
    echo "| control: 2 independent 1-rank runs side by side | 2 x 1 rank | 2 x $((samples / 2)) | $wall ($(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')) | $rate | $(rates "$out/run_pair" "$((samples / 2 * 2))") | | $(awk -v r="$rate" -v b="$base" 'BEGIN { printf "%.2fx", r / b }') | | |"
    read -r wall user sys loop <<< "$(median_run "$out/run_pil")"
    pil_rate=$(awk -v s="$pil_samples" -v w="$wall" 'BEGIN { printf "%.1f", s / w }')
    echo "| Python/PIL (bench/icons_pil.py) | 1 process | $pil_samples | $wall ($(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')) | $pil_rate | $(rates "$out/run_pil" "$pil_samples") | $(awk -v r="$loop" 'BEGIN { printf "%.1f", r }') | | | $(value "$out/pil_1.log" covered) |"
    echo
    echo "eqflow on $first rank(s) / PIL, images per second: $(awk -v e="$base" -v p="$pil_rate" 'BEGIN { printf "%.2fx", e / p }') (whole commands), $(awk -v e="$base_loop" -v p="$loop" 'BEGIN { printf "%.2fx", e / p }') (generation loops); PIL copies per image $(value "$out/pil_1.log" copies_per_image)"
    echo "load average after the data runs: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
  } > "$out/results_data.md"
fi

if [ "$sde" = 1 ]; then
  {
    echo "| deck | batch | size | UNet | eqflow s/step (CPU) | PyTorch s/step (CPU) | PyTorch / eqflow | CPU-time ratio | eqflow: step alone, where the time goes |"
    echo "|---|---|---|---|---|---|---|---|---|"
  } > "$out/results_sde.md"
  for d in $sde_decks; do
    name=$(basename "$d" .yaml)
    "$eqflow" check "$d" > "$out/deck_$name.txt"
    blocks=$(setting "$out/deck_$name.txt" score block_channels)
    layers=$(setting "$out/deck_$name.txt" score layers_per_block)
    kernel=$(setting "$out/deck_$name.txt" flows kernel)
    dt=$(setting "$out/deck_$name.txt" simulation dt)
    canvas=$(setting "$out/deck_$name.txt" simulation canvas)
    height=$(setting "$out/deck_$name.txt" data height)
    runs=$(setting "$out/deck_$name.txt" simulation samples)
    size=$((height * canvas)) batch=$((runs < max_batch ? runs : max_batch))
    args=(--batch "$batch" --size "$size" --channels 3 --kernel "$kernel" --dt "$dt"
      --block-channels "$blocks" --layers-per-block "$layers" --steps "$steps")
    "$build/bin/bench_field_flow" --mode sde "${args[@]}" | tee "$out/eqflow_sde_$name.log"
    /usr/bin/python3 bench/field_flow_torch.py sde --threads 1 "${args[@]}" \
      | tee "$out/torch_sde_$name.log"
    e=$out/eqflow_sde_$name.log t=$out/torch_sde_$name.log
    awk -v d="$name" -v b="$batch" -v s="$size" -v u="$blocks/$layers" \
      -v es="$(field "$e" field_sde_step_frame 3)" -v ec="$(named "$e" field_sde_step_frame cpu_s)" \
      -v ps="$(value "$t" sde_step_seconds)" -v pc="$(value "$t" cpu_seconds)" \
      -v alone="$(field "$e" field_sde_step 3)" -v top="$(top "$e")" 'BEGIN {
      printf "| %s | %d | %dx%d | %s | %.3f (%.3f) | %.3f (%.3f) | **%.2fx** | %.2fx | %.3f s; %s |\n",
        d, b, s, s, u, es, ec, ps, pc, ps / es, pc / ec, alone, top }' >> "$out/results_sde.md"
  done
  echo "load average after the SDE runs: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/results_sde.md"
fi

cat "$out/machine.txt" > "$out/results.md"
[ "$data" = 1 ] && cat "$out/results_data.md" >> "$out/results.md"
[ "$sde" = 1 ] && cat "$out/results_sde.md" >> "$out/results.md"
echo
cat "$out/results.md"
