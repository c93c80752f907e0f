#!/usr/bin/env bash
# Artificial life end to end (tests/pipeline/alife.sh) on the tiny icons deck:
# - data: `eqflow generate` on 1 and 2 ranks gives the same file (h5diff); the images are white
#   canvases with the icon's colours, in [-1, 1]; a drawn icon written by `eqflow draw-icon` and
#   given as a PNG makes a data set too; one-line errors for a missing, non-PNG, too large icon
#   and bad settings, naming the key;
# - run on 2 ranks: score model on 3 channels, a trained local rule, the frames of the
#   training-free flow, the trained flow and the sweep's kernels, from uniform noise on a canvas
#   twice the size, with the kernels in the attributes; the flows stage on 1 rank from the same
#   score model equal bit for bit; a rerun reusing everything;
# - the tracking and behaviour numbers and every artificial-life figure from the real output.
# usage: alife.sh EQFLOW DECK WORKDIR SOURCE_DIR
set -euo pipefail
eqflow=$1 deck=$2 work=$3 src=$4
rm -rf "$work" && mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export MPLBACKEND=Agg MPLCONFIGDIR="$work/mpl"
status=0
fail() { echo "alife: $*"; status=1; }
launch() {  # launch NAME RANKS COMMAND ARGS...
  local name=$1 ranks=$2
  shift 2
  mpirun -n "$ranks" --oversubscribe "$eqflow" "$@" --no-progress > "$work/$name.log" 2>&1 \
    || { cat "$work/$name.log"; exit 1; }
}

# Data on 1 and 2 ranks: the same file.
launch gen1 1 generate "$deck" --set output="$work/gen1"
launch gen2 2 generate "$deck" --set output="$work/gen2"
h5diff "$work/gen1/data.h5" "$work/gen2/data.h5" /fields /fields > /dev/null \
  || fail "the data differ between 1 and 2 ranks"

# A drawn icon as the user's PNG.
"$eqflow" draw-icon taiji "$work/taiji.png" --size 8 > /dev/null || fail "draw-icon"
launch genpng 1 generate "$deck" --set output="$work/genpng" --set data.icon="$work/taiji.png"

/usr/bin/python3 - "$work/gen1/data.h5" "$work/genpng/data.h5" <<'PY' || status=1
import sys, h5py, numpy as np
for path, icon in zip(sys.argv[1:], ("two_discs", sys.argv[2].replace("genpng/data.h5", "taiji.png"))):
    f = h5py.File(path, "r")
    x = f["fields"][:]
    assert f.attrs["schema"] == "eqflow.icon_data", f.attrs["schema"]
    assert x.shape == (24, 3, 16, 16), x.shape
    assert x.min() >= -1 and x.max() <= 1
    a = f["fields"].attrs
    assert a["icon"] == icon and a["icon_size"] == 8 and a["normalisation"] == "2x - 1", dict(a)
    white = (x > 0.99).all(axis=1).mean()  # background fraction
    assert 0.2 < white < 0.98, white      # icons are there, and not everywhere
    assert not np.array_equal(x[0], x[1])
print("data: 1 rank == 2 ranks; drawn and PNG icons")
PY

# shellcheck source=expect_error.sh
source "$(dirname "$0")/expect_error.sh"
echo "not a png" > "$work/text.png"
expect missing_icon "data.icon.*nowhere.png" check "$deck" --set data.icon="$work/nowhere.png"
expect text_icon "data.icon.*text.png.*PNG" check "$deck" --set data.icon="$work/text.png"
expect big_icon "data.icon_size.*canvas" check "$deck" --set data.icon_size=14
expect swap_kernel "flows.kernel.*3" check "$deck" --set flows.kernel=swap
expect bad_start "simulation.start.*noise" check "$deck" --set simulation.start=zeros
expect bad_ema "simulation.frame_ema" check "$deck" --set simulation.frame_ema=1
expect unknown_drawing "draw-icon\|unicorn" draw-icon unicorn "$work/u.png"

# The run on 2 ranks, then the flows stage on 1 rank from the same data and score model.
launch two 2 run "$deck" --set output="$work/two"
mkdir -p "$work/one"
cp "$work/two/data.h5" "$work/two/score.h5" "$work/one/"
launch one 1 run "$deck" --set output="$work/one"
grep -q "similarity: skipped" "$work/two.log" || fail "no similarity skip line"
/usr/bin/python3 - "$work/one" "$work/two" <<'PY' || status=1
import json, sys, h5py, numpy as np
one, two = sys.argv[1:]
names = ["training_free", "trained", "kernel_0", "kernel_1", "kernel_2"]
for run in (one, two):
    s = h5py.File(f"{run}/score.h5", "r")
    assert s["samples"].shape == (2, 3, 16, 16)
    for name in names:
        f = h5py.File(f"{run}/frames/{name}.h5", "r")
        frames, times = f["frames"][:], f["frames_time"][:]
        assert frames.shape == (7, 2, 3, 32, 32), (name, frames.shape)  # 30 steps / 5 + 1
        assert np.isfinite(frames).all() and frames.min() >= -1 and frames.max() <= 1
        assert np.allclose(times, 0.05 * 5 * np.arange(7))
        a = f["frames"].attrs
        assert a["flow"] == name and a["start"] == "noise" and a["canvas"] == 2, dict(a)
        if name != "trained":
            k = np.array(json.loads(a["kernel_values"])).reshape(json.loads(a["kernel_shape"]))
            assert k.shape == (3, 3, 1, 1) and np.allclose(k, -k.transpose(1, 0, 2, 3)), name
    # Every flow starts from the same noise; the kernels differ.
    k = [np.array(json.loads(h5py.File(f"{run}/frames/kernel_{e}.h5", "r")["frames"].attrs["kernel_values"])) for e in range(3)]
    assert not np.allclose(k[0], k[1]) and not np.allclose(k[1], k[2])
for name in names + ["../flows/trained_0"]:
    a = h5py.File(f"{one}/frames/{name}.h5", "r")
    b = h5py.File(f"{two}/frames/{name}.h5", "r")
    keys = []
    a.visit(lambda k: keys.append(k) if isinstance(a[k], h5py.Dataset) else None)
    for k in keys:
        assert np.array_equal(a[k][()], b[k][()]), f"{name}:{k} differs between 1 and 2 ranks"
print("flows: frames, kernels, 1 rank == 2 ranks")
PY
# Smoothed frames (simulation.frame_ema): the same start, the average moves less per frame.
mkdir -p "$work/ema"
cp "$work/two/data.h5" "$work/two/score.h5" "$work/ema/"
launch ema 1 run "$deck" --set output="$work/ema" --set simulation.frame_ema=0.9 \
  --set simulation.kernels=0 --set flows.experiments=0
/usr/bin/python3 - "$work/two/frames/training_free.h5" "$work/ema/frames/training_free.h5" <<'PY' || status=1
import sys, h5py, numpy as np
plain, ema = (h5py.File(p, "r")["frames"] for p in sys.argv[1:])
assert "exponential average" in ema.attrs["content"] and ema.attrs["frame_ema"] == 0.9
a, b = plain[()], ema[()]
assert a.shape == b.shape and np.array_equal(a[0], b[0]), "frame 0 is the start's estimate"
step = lambda x: np.abs(np.diff(x, axis=0)).mean()
assert step(b) < 0.7 * step(a), (step(a), step(b))
print("frame_ema: smoothed frames", step(a), step(b))
PY
launch rerun 2 run "$deck" --set output="$work/two"
grep -q "frames: " "$work/rerun.log" && fail "rerun rewrote frames"
grep -q "score: .* is complete for this deck" "$work/rerun.log" || fail "rerun did not reuse"

# Tracking, behaviour numbers and figures on the real output.
pp="$src/postprocess"
for cmd in "alife_tracking.py behaviour $work/two" "plot_alife.py samples $work/two" \
  "plot_alife.py tracks $work/two --flow kernel_0" "plot_alife.py order $work/two" \
  "plot_alife.py table $work/two" "plot_turing.py animate $work/two/frames/kernel_0.h5 -o $work/k0.gif"; do
  # shellcheck disable=SC2086
  /usr/bin/python3 $pp/$cmd > "$work/pp.log" 2>&1 || { fail "postprocess: $cmd"; cat "$work/pp.log"; }
done
[ -f "$work/two/behaviour.h5" ] || fail "no behaviour.h5"
exit $status
