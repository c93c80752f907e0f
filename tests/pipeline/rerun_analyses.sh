#!/usr/bin/env bash
# A rerun of an output directory with other analyses (more experiments, the spectrum switched
# on, another mmd.steps) keeps every earlier seed and writes a summary indexed by seed that
# records which analyses each seed ran, NaN-padded, with MMD curves on the union of the time
# grids; run.h5 (dataset and score model) is written once and never rewritten.
# usage: rerun_analyses.sh EQFLOW DECK WORKDIR
set -euo pipefail
eqflow=$1 deck=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
export OPENBLAS_NUM_THREADS=1
out="$work/out"
"$eqflow" run "$deck" --set output="$out" --set experiments=2 --no-progress > "$work/first.log" 2>&1 ||
  { cat "$work/first.log"; exit 1; }
run_before=$(stat -c '%i %Y' "$out/run.h5")
"$eqflow" run "$deck" --set output="$out" --set experiments=3 --set analysis.mmd.steps=30 \
  --set analysis.spectrum.enabled=true --set analysis.spectrum.steps=50 \
  --set analysis.spectrum.transient=5 --no-progress > "$work/second.log" 2>&1 ||
  { cat "$work/second.log"; exit 1; }
[ "$(stat -c '%i %Y' "$out/run.h5")" = "$run_before" ] || { echo "rerun: run.h5 was rewritten"; exit 1; }
grep -q "complete seeds: 3 of 3" "$work/second.log" || { echo "rerun: summary not reported"; cat "$work/second.log"; exit 1; }
/usr/bin/python3 - "$out" << 'PY'
import sys
import h5py
import numpy as np
out = sys.argv[1]
with h5py.File(f"{out}/run.h5", "r") as f:  # the summary through run.h5's link
    s = f["summary"]
    assert list(s["seeds"][()]) == [0, 1, 2], s["seeds"][()]
    assert list(s["ran/spectrum"][()]) == [0, 0, 1], s["ran/spectrum"][()]
    assert list(s["ran/mmd"][()]) == [1, 1, 1]
    spectrum = s["spectrum"][()]
    assert spectrum.shape == (3, 2) and np.isnan(spectrum[:2]).all() and np.isfinite(spectrum[2]).all()
    time, learned = s["mmd/time"][()], s["mmd/learned"][()]
    assert learned.shape == (3, len(time)), (learned.shape, time)
    for k in range(3):  # each seed's own curve, at its own times
        with h5py.File(f"{out}/seeds/seed_{k:06d}.h5", "r") as seed:
            t, v = seed["analysis/mmd/time"][()], seed["analysis/mmd/learned"][()]
        row = learned[k]
        assert np.array_equal(row[np.isin(time, t)], v), (k, row, v)
        assert np.isnan(row[~np.isin(time, t)]).all(), (k, row)
    assert np.isnan(learned[0, -1]) and np.isfinite(learned[2, -1])
    assert s["mmd/random"].shape == (s["mmd/random"].shape[0], len(time))
print("rerun: seed-indexed, NaN-padded summary of seeds with different analyses")
PY
