#!/usr/bin/env bash
# A scientist's own snapshots (system: samples) run end to end from a CSV file and from an
# HDF5 dataset, in any dimension, normalised per axis.
# usage: samples.sh EQFLOW WORKDIR
set -euo pipefail
eqflow=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
cd "$work"
/usr/bin/python3 - << 'PY'
import h5py, numpy as np
rng = np.random.default_rng(0)
x = rng.normal(size=(600, 4)) * [1.0, 2.0, 0.5, 3.0] + [0.0, 5.0, -1.0, 2.0]
np.savetxt("snapshots.csv", x, delimiter=",", header="a,b,c,d", comments="")
with h5py.File("snapshots.h5", "w") as f:
    f["group/x"] = x
PY
tiny=(--set experiments=2 --set score.batch=128 --set score.samples=16
      --set 'select.score_epochs=[3, 4]' --set 'select.t=[0.1, 0.2]' --set 'select.eta=[0, 0.03]'
      --set select.horizon=0.4 --set select.points=64
      --set flow.epochs=2 --set flow.batch=128 --set flow.hidden=16 --set analysis.mmd.points=32
      --set analysis.mmd.steps=4 --set analysis.mmd.every=2 --set analysis.mmd.random_flows=1
      --set analysis.trajectory_steps=10 --set analysis.norm_statistics=data --no-progress)
printf 'system: samples\ndata:\n  file: snapshots.csv\n' > csv.yaml
printf 'system: samples\ndata:\n  file: snapshots.h5\n  dataset: /group/x\n' > h5.yaml
OPENBLAS_NUM_THREADS=1 "$eqflow" run csv.yaml --set output=csv_out "${tiny[@]}" > csv.log 2>&1 || { cat csv.log; exit 1; }
OPENBLAS_NUM_THREADS=1 "$eqflow" run h5.yaml --set output=h5_out "${tiny[@]}" > h5.log 2>&1 || { cat h5.log; exit 1; }
/usr/bin/python3 - << 'PY'
import h5py, numpy as np
for out in ("csv_out", "h5_out"):
    with h5py.File(f"{out}/run.h5") as f:
        p = f["data/points"][()]
        assert p.shape == (600, 4), p.shape
        assert np.allclose(p.mean(0), 0, atol=1e-12) and np.allclose(p.std(0), 1, atol=1e-12)
        assert np.allclose(f["data/mean"][()], [0, 5, -1, 2], atol=0.5)
        assert list(f["summary/seeds"][()]) == [0, 1]
        assert f["summary/mmd/learned"].shape == (2, 3)
    print(f"samples: {out} ok")
with h5py.File("csv_out/run.h5") as a, h5py.File("h5_out/run.h5") as b:
    assert np.allclose(a["data/points"][()], b["data/points"][()], atol=1e-12)
# The settings were chosen on a validation split: every candidate scored, the best one used.
with h5py.File("csv_out/run.h5") as f:
    s = f["selection"]
    rows = len(s["t"])
    assert rows == 8, rows
    assert sorted(zip(s["score_epochs"][()], s["t"][()], s["eta"][()])) == sorted(
        (e, t, eta) for e in (3, 4) for t in (0.1, 0.2) for eta in (0, 0.03))
    chosen = int(s.attrs["chosen"])
    mmd = s["mmd2"][()]
    assert chosen == int(np.nanargmin(mmd)), (chosen, mmd)
    assert s.attrs["validation_points"] == 64 and s.attrs["training_points"] == 480
    assert np.all(np.isfinite(s["floor"][()])) and np.all(np.isfinite(s["residual"][()]))
    t, eta, epochs = s["t"][chosen], s["eta"][chosen], s["score_epochs"][chosen]
    assert len(f["score/loss"][()]) == epochs
    assert f["summary/mmd/diffusion_floor"].attrs["t"] == t
    for k in (0, 1):
        with h5py.File(f"csv_out/seeds/seed_{k:06d}.h5") as g:
            assert g["flow"].attrs["t"] == t
            assert g["analysis/mmd"].attrs["langevin_eta"] == eta
            assert ("analysis/mmd/pure_flow" in g) == (eta > 0)
    print(f"samples: chose score {epochs} epochs, t {t}, eta {eta} of {rows} candidates")
PY
# The candidates drawn (postprocess/plot_selection.py).
MPLBACKEND=Agg MPLCONFIGDIR=$work/mplconfig /usr/bin/python3 "$root/postprocess/plot_selection.py" \
  csv_out -o figs > plot.log 2>&1 || { cat plot.log; exit 1; }
[ "$(head -c 4 figs/selection.png | od -An -c | tr -d ' ')" = '211PNG' ]
grep -q "chosen: score" plot.log
# A resumed run reuses the choice (and says so in the summary).
OPENBLAS_NUM_THREADS=1 "$eqflow" run csv.yaml --set output=csv_out "${tiny[@]}" --set experiments=3 > resume.log 2>&1 || { cat resume.log; exit 1; }
grep -q "score model: reusing" resume.log
! grep -q "select:" resume.log
"$eqflow" summary csv_out/run.h5 | grep -q "<- chosen"
/usr/bin/python3 - << 'PY'
import h5py
with h5py.File("csv_out/run.h5") as f:
    t = f["selection/t"][int(f["selection"].attrs["chosen"])]
with h5py.File("csv_out/seeds/seed_000002.h5") as g:
    assert g["flow"].attrs["t"] == t
PY
echo "samples: CSV and HDF5 snapshots ran end to end"
