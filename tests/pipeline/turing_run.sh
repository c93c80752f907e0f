#!/usr/bin/env bash
# `eqflow run` on the tiny Turing deck over 2 MPI ranks, end to end: the data set, the trained
# score model and its samples in score.h5 (every data set the post-processing reads), the loss
# going down, a rerun reusing the complete run, `eqflow check` of a field deck, one-line errors
# for bad score settings, and postprocess/ drawing the panel and computing the metrics from
# the real output.
# usage: turing_run.sh EQFLOW DECK WORKDIR SOURCE_DIR
set -euo pipefail
eqflow=$1 deck=$2 work=$3 src=$4
rm -rf "$work" && mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
status=0
fail() { echo "turing_run: $*"; status=1; }
mpirun -n 2 --oversubscribe "$eqflow" run "$deck" --set output="$work/run" --no-progress \
  > "$work/run.log" 2>&1 || { cat "$work/run.log"; exit 1; }
grep -q "global batch 6 over 2 ranks" "$work/run.log" || fail "not data-parallel over 2 ranks"
for path in /fields; do
  h5ls "$work/run/data.h5$path" > /dev/null 2>&1 || fail "data.h5 lacks $path"
done
for path in /unet/parameters /unet/layout/names /training/train_loss /training/validation_loss \
  /training/step_loss /samples; do
  h5ls "$work/run/score.h5$path" > /dev/null 2>&1 || fail "score.h5 lacks $path"
done
[ "$(h5ls "$work/run/score.h5/samples" | awk '{ print $3 }')" = "{4," ] || fail "4 samples expected"
/usr/bin/python3 - "$work/run/score.h5" <<'PY' || status=1
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
train = f["training/train_loss"][:]
assert len(train) == 3 and train[-1] < train[0], f"loss did not go down: {train}"
s = f["samples"][:]
assert np.isfinite(s).all() and s.min() >= -1 and s.max() <= 1, "samples outside [-1, 1]"
assert f["training"].attrs["ranks"] == 2
PY
mpirun -n 1 "$eqflow" run "$deck" --set output="$work/run" --no-progress > "$work/rerun.log" 2>&1
grep -q "is complete for this deck" "$work/rerun.log" || { fail "the rerun did not reuse"; cat "$work/rerun.log"; }
# A moved output directory is the same run; other samples reuse the trained model.
cp -r "$work/run" "$work/moved"
"$eqflow" run "$deck" --set output="$work/moved" --no-progress > "$work/moved.log" 2>&1
grep -q "is complete for this deck" "$work/moved.log" || { fail "a moved run was not reused"; cat "$work/moved.log"; }
"$eqflow" run "$deck" --set output="$work/moved" --set score.samples=2 --set score.sampler=ddpm \
  --no-progress > "$work/resample.log" 2>&1 || { fail "resample"; cat "$work/resample.log"; }
grep -q "score epoch" "$work/resample.log" && { fail "new samples retrained the model"; cat "$work/resample.log"; }
grep -q "samples: 2 by ddpm" "$work/resample.log" || { fail "resample: no samples"; cat "$work/resample.log"; }
"$eqflow" summary "$work/run/score.h5" > "$work/summary.log" 2>&1 || fail "summary failed"
grep -q "3 epochs on 18 training samples (2 held out), batch 6 over 2 rank" "$work/summary.log" \
  || { fail "summary output"; cat "$work/summary.log"; }
"$eqflow" summary --json "$work/run/score.h5" | /usr/bin/python3 -c \
  "import json, sys; d = json.load(sys.stdin); assert d['epochs'] == 3 and d['samples'] == 4" \
  || fail "summary --json"
"$eqflow" check "$deck" > "$work/check.log" 2>&1 || fail "check failed"
grep -q "20 samples of 16 x 16" "$work/check.log" || { fail "check output"; cat "$work/check.log"; }

# shellcheck source=expect_error.sh
source "$(dirname "$0")/expect_error.sh"
expect bad_sampler "score.sampler.*expected ddpm or ddim" run "$deck" --set score.sampler=euler
expect bad_batch "score.batch.*>= 1" check "$deck" --set score.batch=0
expect seeds "no" run "$deck" --seeds 0:2

/usr/bin/python3 "$src/postprocess/plot_turing.py" panel "$work/run" -o "$work/panel.png" \
  > "$work/panel.log" 2>&1 || { fail "panel"; cat "$work/panel.log"; }
/usr/bin/python3 "$src/postprocess/turing_metrics.py" metrics "$work/run" --json "$work/m.json" \
  > "$work/metrics.log" 2>&1 || { fail "metrics"; cat "$work/metrics.log"; }
[ -s "$work/panel.png" ] && [ -s "$work/m.json" ] || fail "no figure or metrics"
[ $status -eq 0 ] && echo "turing_run: trained on 2 ranks, rerun reused, checks, errors and figures ok"
exit $status
