#!/usr/bin/env bash
# The flows stage of a field run (tests/pipeline/turing_flows.sh): the tiny Turing deck with
# two trained flows on 2 MPI ranks and on 1 rank, end to end. Checks: every file and data set
# the post-processing reads; similarities in [0, 1] with the shapes the deck asks for; the
# trained flows, the similarity table and the frames equal bit for bit on 1 and 2 ranks from the
# same score model (each flow's work is a pure function of the deck, whichever rank does it); frames readable while a writer holds them
# (SWMR) and the long horizon on them; a rerun reusing everything; a trained flow resumed from
# its checkpoint giving the same file; one-line errors for bad flows settings; the figures.
# usage: turing_flows.sh EQFLOW DECK WORKDIR SOURCE_DIR
set -euo pipefail
eqflow=$1 deck=$2 work=$3 src=$4
rm -rf "$work" && mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export MPLBACKEND=Agg MPLCONFIGDIR="$work/mpl"
status=0
fail() { echo "turing_flows: $*"; status=1; }
run() {  # run NAME RANKS ARGS...
  local name=$1 ranks=$2
  shift 2
  mpirun -n "$ranks" --oversubscribe "$eqflow" run "$deck" --no-progress "$@" \
    > "$work/$name.log" 2>&1 || { cat "$work/$name.log"; exit 1; }
}
run two 2 --set output="$work/two"
# The same data and score model on 1 rank (data-parallel score training on 1 and 2 ranks agrees
# only up to rounding; the flows stage is then compared bit for bit).
mkdir -p "$work/one"
cp "$work/two/data.h5" "$work/two/score.h5" "$work/one/"
run one 1 --set output="$work/one"
grep -q "similarity to Gray-Scott 'maze' (4 starts)" "$work/two.log" || fail "no similarity summary"

/usr/bin/python3 - "$work/one" "$work/two" <<'PY' || status=1
import sys, h5py, numpy as np
one, two = sys.argv[1:]
def load(run, name):
    return h5py.File(f"{run}/{name}", "r")
for run in (one, two):
    s = load(run, "similarity.h5")
    assert s.attrs["schema"] == "eqflow.turing_similarity"
    presets = [p.decode() for p in s["presets"][:]]
    assert len(presets) == 15 and "maze" in presets
    shapes = {"training_free": (4, 15), "training_free_g": (2, 4, 15), "trained": (2, 4, 15),
              "random_kernel": (2, 4, 15), "reweighted": (2, 4, 15)}
    for name, shape in shapes.items():
        v = s["similarity/" + name][:]
        assert v.shape == shape, (name, v.shape)
        assert np.isfinite(v).all() and v.min() >= 0 and v.max() <= 1 + 1e-9, name
    free = s["similarity/training_free"][:]
    assert np.array_equal(free, s["similarity/training_free_g"][:].max(axis=0))
    # The presets' Gray-Scott displacements differ, so the columns do.
    assert np.ptp(free, axis=1).max() > 1e-3, "every preset gives the same similarity"
    for name in ("initial", "gray_scott", "training_free", "trained"):
        p = s["panel/" + name][:]
        assert p.shape == (2, 2, 32, 32) and p.min() >= -1 and p.max() <= 1, name
    for e in (0, 1):
        f = load(run, f"flows/trained_{e}.h5")
        loss = f["training/loss"][:]
        assert len(loss) == 3 and np.isfinite(loss).all(), loss
        assert f["flow/layout/names"].shape == (10,)
    for name, shape in (("training_free", (2, 2, 32, 32)), ("trained", (2, 2, 32, 32)),
                        ("training_free_canvas2", (2, 2, 64, 64))):
        f = load(run, f"frames/{name}.h5")
        frames, times = f["frames"][:], f["frames_time"][:]
        assert frames.shape[1:] == shape and frames.shape[0] == len(times), (name, frames.shape)
        assert np.isfinite(frames).all() and frames.min() >= -1 and frames.max() <= 1
        assert f["frames"].attrs["flow"] == name
# 1 rank and 2 ranks: the same numbers.
for name in ("similarity.h5", "flows/trained_0.h5", "flows/trained_1.h5", "frames/trained.h5"):
    a, b = load(one, name), load(two, name)
    keys = []
    a.visit(lambda k: keys.append(k) if isinstance(a[k], h5py.Dataset) else None)
    for k in keys:
        assert np.array_equal(a[k][()], b[k][()]), f"{name}:{k} differs between 1 and 2 ranks"
print("flows: files, shapes, ranges, 1 rank == 2 ranks")
PY

# A rerun reuses everything; a trained flow whose file is lost resumes from its checkpoint.
run rerun 1 --set output="$work/two"
grep -q "similarity: .* is complete for this deck" "$work/rerun.log" || fail "rerun did not reuse"
grep -q "resuming" "$work/rerun.log" && fail "rerun retrained"
cp "$work/two/flows/trained_1.h5" "$work/trained_1.orig.h5"
rm "$work/two/flows/trained_1.h5"
run resume 2 --set output="$work/two"
grep -q "flow 1: resuming at epoch 3" "$work/resume.log" || { fail "no resume"; cat "$work/resume.log"; }
h5diff "$work/two/flows/trained_1.h5" "$work/trained_1.orig.h5" /flow /flow > /dev/null \
  || fail "the resumed flow differs"

# Frames readable while they grow: a reader in SWMR mode on a working file held open.
/usr/bin/python3 - "$work/two/frames/training_free.h5" <<'PY' || status=1
import sys, h5py
f = h5py.File(sys.argv[1], "r", libver="latest", swmr=True)
f["frames"].refresh()
assert f["frames"].shape[0] >= 2
PY

# shellcheck source=expect_error.sh
source "$(dirname "$0")/expect_error.sh"
expect bad_kernel "flows.kernel.*expected swap" check "$deck" --set flows.kernel=spiral
expect odd_probes "flows.probes.*even" check "$deck" --set flows.probes=3
expect big_panel "similarity.panel.*starts" check "$deck" --set similarity.panel=9
expect bad_dt "simulation.dt.*> 0" check "$deck" --set simulation.dt=0
expect bad_step "flows.step.*0 .. 99" check "$deck" --set flows.step=100

pp="$src/postprocess"
for cmd in "plot_turing.py flow-panel $work/two -o $work/panel.png" \
  "plot_turing.py flow-panel $work/two --flow trained -o $work/panel_trained.png" \
  "plot_turing.py similarity $work/two -o $work/similarity.png" \
  "plot_turing.py cross-preset $work/two --all -o $work/cross.png" \
  "plot_turing.py animate $work/two/frames/training_free_canvas2.h5 -o $work/anim.gif" \
  "turing_metrics.py horizon $work/two" "plot_turing.py horizon $work/two -o $work/horizon.png"; do
  # shellcheck disable=SC2086
  /usr/bin/python3 $pp/$cmd > "$work/pp.log" 2>&1 || { fail "postprocess: $cmd"; cat "$work/pp.log"; }
done
for f in panel.png panel_trained.png similarity.png cross.png anim.gif horizon.png two/long_horizon.h5; do
  [ -s "$work/$f" ] || fail "no $f"
done
[ $status -eq 0 ] && echo "turing_flows: 1 == 2 ranks, rerun, resume, SWMR, errors and figures ok"
exit $status
