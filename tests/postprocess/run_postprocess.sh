#!/usr/bin/env bash
# The post-processing scripts and the SLURM job scripts on real outputs: runs two tiny decks
# (inputs/tests/tiny_lorenz.yaml, a 3-D system with every analysis, and
# inputs/tests/tiny_two_peaks.yaml, a 2-D one), then every postprocess/ script on them and
# checks the PNGs each must write, the analyses each must skip (exit 0), and the one-line
# error with a non-zero exit for paths that are not eqflow outputs. The jobs/ scripts get
# `bash -n` and an end-to-end run of prepare -> array task -> postprocess with a stub srun.
# usage: run_postprocess.sh EQFLOW SOURCE_DIR WORKDIR
set -euo pipefail
eqflow=$1 src=$2 work=$3
python=/usr/bin/python3
pp=$src/postprocess
rm -rf "$work" && mkdir -p "$work"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MPLBACKEND=Agg MPLCONFIGDIR=$work/mplconfig
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

run_deck() {  # run_deck NAME: inputs/tests/tiny_NAME.yaml into $work/NAME
  "$eqflow" run "$src/inputs/tests/tiny_$1.yaml" --set output="$work/$1" --no-progress \
    > "$work/$1.log" 2>&1 || { cat "$work/$1.log"; fail "eqflow run tiny_$1.yaml"; }
}

# expect_pngs SCRIPT INPUT FIGDIR PNG...: the script succeeds and writes each PNG (a PNG file,
# not empty) and prints its path.
expect_pngs() {
  local script=$1 input=$2 figs=$3
  shift 3
  "$python" "$pp/$script" "$input" -o "$figs" > "$work/stdout" 2> "$work/stderr" \
    || { cat "$work/stdout" "$work/stderr"; fail "$script $input"; }
  for png in "$@"; do
    [ -s "$figs/$png" ] || fail "$script $input: $figs/$png missing or empty"
    [ "$(head -c 4 "$figs/$png" | od -An -c | tr -d ' ')" = '211PNG' ] \
      || fail "$script: $figs/$png is not a PNG"
    grep -q "wrote $figs/$png" "$work/stdout" || fail "$script did not print 'wrote $figs/$png'"
  done
  echo "ok   $script $(basename "$input") -> $*"
}

# expect_skip SCRIPT INPUT: exit 0, says there is nothing to draw, writes no PNG.
expect_skip() {
  local figs=$work/skip
  rm -rf "$figs"
  "$python" "$pp/$1" "$2" -o "$figs" > "$work/stdout" 2> "$work/stderr" \
    || { cat "$work/stdout" "$work/stderr"; fail "$1 $2 should skip with exit 0"; }
  grep -q "nothing to draw" "$work/stdout" || fail "$1 $2: no 'nothing to draw' message"
  [ -z "$(ls -A "$figs" 2> /dev/null)" ] || fail "$1 $2: wrote files while skipping"
  echo "ok   $1 $(basename "$2") skipped: $(cat "$work/stdout")"
}

# expect_error SCRIPT INPUT: non-zero exit, exactly one line on stderr naming the path.
expect_error() {
  if "$python" "$pp/$1" "$2" -o "$work/err_figs" > "$work/stdout" 2> "$work/stderr"; then
    fail "$1 $2 should fail"
  fi
  [ "$(wc -l < "$work/stderr")" -eq 1 ] || { cat "$work/stderr"; fail "$1 $2: not one line"; }
  grep -q "error: .*$2" "$work/stderr" || { cat "$work/stderr"; fail "$1 $2: path not named"; }
  echo "ok   $1 $2 -> $(cat "$work/stderr")"
}

scripts="plot_training.py plot_mmd.py plot_lyapunov.py plot_lorenz.py plot_flow_field.py"

# 1. Two tiny runs.
run_deck lorenz
run_deck two_peaks

# 2. Lorenz (3-D, every analysis): everything but the 2-D field.
L=$work/lorenz F=$work/figs_lorenz
expect_pngs plot_training.py "$L" "$F" training.png
expect_pngs plot_mmd.py "$L" "$F" mmd.png
expect_pngs plot_lyapunov.py "$L" "$F" lyapunov.png
expect_pngs plot_lorenz.py "$L" "$F" lorenz_seed_000000.png lorenz_seed_000001.png
expect_skip plot_flow_field.py "$L"
# Other ways to name the output: run.h5, one seed file, chosen seeds, the default -o.
expect_pngs plot_mmd.py "$L/run.h5" "$work/figs_runfile" mmd.png
expect_pngs plot_training.py "$L/seeds/seed_000001.h5" "$work/figs_seedfile" training.png
expect_pngs plot_lorenz.py "$L/seeds/seed_000001.h5" "$work/figs_seedfile" lorenz_seed_000001.png
"$python" "$pp/plot_lorenz.py" "$L" --seed 1 -o "$work/figs_one" > /dev/null
[ "$(ls "$work/figs_one")" = lorenz_seed_000001.png ] || fail "plot_lorenz.py --seed 1"
"$python" "$pp/plot_lyapunov.py" "$L" > /dev/null
[ -s "$L/figures/lyapunov.png" ] || fail "default -o is OUTPUT/figures"

# 3. two_peaks (2-D, no Lyapunov analyses): field, training, MMD; the rest skip.
P=$work/two_peaks F=$work/figs_two_peaks
expect_pngs plot_flow_field.py "$P" "$F" flow_field_seed_000000.png flow_field_seed_000001.png
expect_pngs plot_training.py "$P" "$F" training.png
expect_pngs plot_mmd.py "$P" "$F" mmd.png
expect_skip plot_lyapunov.py "$P"
expect_skip plot_lorenz.py "$P"

# 4. Paths that are not eqflow outputs: one-line error, non-zero exit, for every script.
mkdir -p "$work/empty_dir"
echo "not hdf5" > "$work/text.h5"
"$python" -c "import h5py, sys; h5py.File(sys.argv[1], 'w').create_dataset('x', data=[1])" \
  "$work/foreign.h5"
for script in $scripts; do  # every script: a directory and an HDF5 file not from eqflow
  expect_error "$script" "$work/empty_dir"
  expect_error "$script" "$work/foreign.h5"
done
expect_error plot_training.py "$work/text.h5"  # the shared reader: not HDF5, no such path
expect_error plot_mmd.py "$work/no_such_path"

# 5. Job scripts: syntax, then prepare -> array task -> postprocess with a stub srun.
for job in "$src"/jobs/*.sbatch; do
  bash -n "$job" || fail "bash -n $job"
done
echo "ok   bash -n jobs/*.sbatch"
stub=$work/stub_bin
mkdir -p "$stub"
printf '#!/bin/bash\nwhile [[ $# -gt 0 && $1 == -* ]]; do shift; done\nexec "$@"\n' > "$stub/srun"
printf '#!/bin/bash\necho "scontrol $*"\n' > "$stub/scontrol"
chmod +x "$stub/srun" "$stub/scontrol"
jobs_env=(env "PATH=$stub:$PATH" "EQFLOW=$eqflow" "DECK=$src/inputs/tests/tiny_lorenz.yaml"
  "OUTPUT=$work/jobs_out" "POSTPROCESS=$pp" SLURM_JOB_ID=1 SLURM_NTASKS=1
  SLURM_JOB_NUM_NODES=1)
if "${jobs_env[@]}" SLURM_ARRAY_TASK_ID=1 bash "$src/jobs/lorenz_array.sbatch" \
  > "$work/jobs.log" 2>&1; then
  fail "lorenz_array.sbatch must refuse to start before prepare.sbatch"
fi
"${jobs_env[@]}" bash "$src/jobs/prepare.sbatch" >> "$work/jobs.log" 2>&1 \
  || { cat "$work/jobs.log"; fail "prepare.sbatch"; }
[ -s "$work/jobs_out/seeds/seed_000000.h5" ] || fail "prepare.sbatch: no seed 0"
"${jobs_env[@]}" SLURM_ARRAY_TASK_ID=1 SEEDS_PER_TASK=1 bash "$src/jobs/lorenz_array.sbatch" \
  >> "$work/jobs.log" 2>&1 || { cat "$work/jobs.log"; fail "lorenz_array.sbatch task 1"; }
[ -s "$work/jobs_out/seeds/seed_000001.h5" ] || fail "lorenz_array.sbatch: no seed 1"
"${jobs_env[@]}" bash "$src/jobs/postprocess.sbatch" >> "$work/jobs.log" 2>&1 \
  || { cat "$work/jobs.log"; fail "postprocess.sbatch"; }
for png in training.png mmd.png lyapunov.png lorenz_seed_000000.png lorenz_seed_000001.png; do
  [ -s "$work/jobs_out/figures/$png" ] || fail "postprocess.sbatch: no figures/$png"
done
echo "ok   jobs: prepare -> array task -> postprocess (stub srun)"
turing_env=(env "PATH=$stub:$PATH" "EQFLOW=$eqflow" "DECK=$src/inputs/tests/tiny_turing_flows.yaml"
  "OUTPUT=$work/turing_out" "POSTPROCESS=$pp" SLURM_JOB_ID=2 SLURM_NTASKS=1
  SLURM_JOB_NUM_NODES=1)
"${turing_env[@]}" bash "$src/jobs/turing_generate.sbatch" > "$work/turing_jobs.log" 2>&1 \
  || { cat "$work/turing_jobs.log"; fail "turing_generate.sbatch"; }
[ -s "$work/turing_out/data.h5" ] || fail "turing_generate.sbatch: no data.h5"
"${turing_env[@]}" bash "$src/jobs/turing_train.sbatch" >> "$work/turing_jobs.log" 2>&1 \
  || { cat "$work/turing_jobs.log"; fail "turing_train.sbatch"; }
for out in score.h5 metrics.json figures/turing_panel.png figures/turing_losses.png \
  similarity.h5 similarity.json long_horizon.json figures/flow_panel.png figures/similarity.png \
  figures/cross_preset.png figures/long_horizon.png figures/training_free.gif; do
  [ -s "$work/turing_out/$out" ] || fail "turing_train.sbatch: no $out"
done
echo "ok   jobs: turing_generate -> turing_train (stub srun)"
alife_env=(env "PATH=$stub:$PATH" "EQFLOW=$eqflow" "DECK=$src/inputs/tests/tiny_alife.yaml"
  "OUTPUT=$work/alife_out" "POSTPROCESS=$pp" "JOBS=$src/jobs" SLURM_JOB_ID=3 SLURM_NTASKS=1
  SLURM_JOB_NUM_NODES=1)
"${alife_env[@]}" bash "$src/jobs/alife.sbatch" > "$work/alife_jobs.log" 2>&1 \
  || { cat "$work/alife_jobs.log"; fail "alife.sbatch"; }
for out in data.h5 score.h5 frames/kernel_2.h5 behaviour.h5 behaviour.json \
  figures/alife_samples.png figures/alife_order.png figures/alife_table.png \
  figures/kernel_0.gif; do
  [ -s "$work/alife_out/$out" ] || fail "alife.sbatch: no $out"
done
echo "ok   jobs: alife (data, score, flows, tracking, figures; stub srun)"
echo "all post-processing checks passed"
