#!/usr/bin/python3
"""Checks of postprocess/turing_metrics.py and plot_turing.py on fabricated run directories
(data.h5 with synthetic stripe fields, score.h5 written as the trainer will): the spectrum of
a cosine peaks at its wavenumber and has the white-noise normalisation, both distances are 0
between a set and itself, a pixel shuffle raises the spectrum distance but not the v
histogram's, the `metrics` command's numbers and JSON, and the figures. The flows: three
fabricated similarity.h5 (maze, life, waves; the waves run's maze column beats its own): the
similarity table's mean / std against numpy's, the reference numbers, the cross-preset table
and its flagged row, the flow panels; frames files (draws of the data's distribution, and
noise in a .h5.partial file held open by an SWMR writer): `horizon`'s floor and metrics, its
figure; GIF and (with ffmpeg) MP4 animations, and the error without ffmpeg. Most commands
run in this process (matplotlib's import costs a second per process). Seconds.

usage: test_turing.py SOURCE_DIR WORKDIR
"""
import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

src, work = sys.argv[1], sys.argv[2]
pp = os.path.join(src, "postprocess")
sys.path.insert(0, pp)
os.environ.update(MPLBACKEND="Agg", MPLCONFIGDIR=os.path.join(work, "mplconfig"),
                  PYTHONDONTWRITEBYTECODE="1", OPENBLAS_NUM_THREADS="1")
sys.dont_write_bytecode = True
import turing_metrics as tm  # noqa: E402

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def stripes(n, size, wavenumber, rng):
    """(n, 2, size, size) in [-1, 1]: stripes of `wavenumber` cycles per box in a random
    direction (x or y) and phase, v sharpened by tanh, u its mirror, plus a little noise."""
    y, x = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    out = np.empty((n, 2, size, size), dtype=np.float32)
    for i in range(n):
        coord = x if rng.random() < 0.5 else y
        phase = rng.uniform(0, 2 * np.pi)
        v = np.tanh(3 * np.cos(2 * np.pi * wavenumber * coord / size + phase))
        v = 0.8 * v + 0.05 * rng.standard_normal((size, size))
        out[i, 1] = np.clip(v, -1, 1)
        out[i, 0] = np.clip(-0.5 * v + 0.3, -1, 1)
    return out


def shuffled(fields, rng):
    """Every sample and channel with its pixels permuted: the same values, white noise."""
    out = fields.copy()
    n, c, h, w = fields.shape
    for i in range(n):
        for ch in range(c):
            out[i, ch] = rng.permutation(fields[i, ch].ravel()).reshape(h, w)
    return out


def make_run(path, fields, samples, validation, preset, epochs=12):
    os.makedirs(path, exist_ok=True)
    with h5py.File(os.path.join(path, "data.h5"), "w") as f:
        f.attrs.update(software="eqflow", schema="eqflow.gray_scott_data")
        d = f.create_dataset("fields", data=fields)
        d.attrs.update(preset=preset, Du=0.16, Dv=0.08, F=0.029, k=0.057, steps=3000,
                       normalisation="2x - 1")
    e = np.arange(1, epochs + 1)
    with h5py.File(os.path.join(path, "score.h5"), "w") as f:
        g = f.create_group("training")
        g["train_loss"] = 0.5 / e
        g["validation_loss"] = 0.55 / e
        g["learning_rate"] = 1e-3 * np.cos(0.5 * np.pi * e / epochs)
        g["epoch_seconds"] = np.full(epochs, 1.5)
        g.attrs.update(batch=8, lr=1e-3, weight_decay=0.01,
                       train_samples=len(fields) - validation, validation_samples=validation)
        s = f.create_dataset("samples", data=samples)
        s.attrs.update(sampler="ddim", sampler_steps=50, seed=1)


shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
rng = np.random.default_rng(7)

# 1. Spectra of known fields.
size = 32
y, x = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
cos_x = np.cos(2 * np.pi * 5 * x / size)
cos_diag = np.cos(2 * np.pi * (3 * x + 4 * y) / size)  # |k| = 5 as well
batch = np.stack([np.stack([cos_x, cos_diag])] * 2)  # (2, 2, 32, 32)
spec = tm.power_spectrum(batch)
check(spec.shape == (2, 17), f"power_spectrum shape (C, K + 1) = {spec.shape}, expected (2, 17)")
check(list(np.argmax(spec[:, 1:], axis=1) + 1) == [5, 5],
      f"cosines (5, 0) and (3, 4) peak at radius 5: {list(np.argmax(spec[:, 1:], axis=1) + 1)}")
check(np.all(spec[:, 1:5] < 1e-20) and np.all(spec[:, 6:] < 1e-20),
      "a cosine has no power outside its bin")
# Non-square grid: 24 x 40 (L = 24), stripes of 3 cycles along the short axis = radius 3.
ns = np.cos(2 * np.pi * 3 * np.arange(24) / 24)[:, None] * np.ones((1, 40))
ns_spec = tm.power_spectrum(ns[None, None])
check(ns_spec.shape == (1, 13) and int(np.argmax(ns_spec[0, 1:]) + 1) == 3,
      f"24 x 40 grid: K = 12, stripes of 3 cycles peak at radius 3 "
      f"({int(np.argmax(ns_spec[0, 1:]) + 1)})")
off_grid = 3.0 + np.cos(2 * np.pi * (4 * x + 4 * y) / size)  # |k| = 5.66: bin 6; mean 3
off_spec = tm.power_spectrum(off_grid[None, None])[0]
check(int(np.argmax(off_spec[1:]) + 1) == 6 and off_spec[0] < 1e-20,
      f"cosine (4, 4) + 3: peak at radius round(5.66) = 6 ({int(np.argmax(off_spec[1:]) + 1)}), "
      f"the mean removed (bin 0 = {off_spec[0]:.2g})")
bins, kmax = tm.radial_bins(8, 8)
check(kmax == 4 and np.bincount(bins[bins <= kmax]).tolist() == [1, 8, 12, 16, 22],
      f"8 x 8 grid: cells per radius 0..4 = {np.bincount(bins[bins <= kmax]).tolist()}, "
      f"expected [1, 8, 12, 16, 22]")
noise = 0.5 * rng.standard_normal((64, 1, 32, 32))
white = tm.power_spectrum(noise)[0, 1:]
check(abs(np.mean(white) - 0.25) < 0.01, f"white noise of std 0.5: mean spectrum "
      f"{np.mean(white):.4f} = variance 0.25")

# 2. Distances: 0 against itself, a shuffle is far in spectrum, not in histogram.
a = stripes(24, size, 4, rng)
b = stripes(24, size, 4, rng)  # another draw of the same distribution
d_self = tm.distances(a, a)
d_floor = tm.distances(a, b)
d_shuffle = tm.distances(a, shuffled(a, rng))
d_shift = tm.distances(a, np.clip(0.7 * a + 0.2, -1, 1))
print(f"     self {d_self}\n     draw {d_floor}\n     shuffle {d_shuffle}\n     shift {d_shift}")
check(d_self["spectrum"] == 0 and d_self["histogram_v"] == 0, "distances of a set to itself are 0")
check(d_shuffle["spectrum"] > 1.0 and d_shuffle["spectrum"] > 10 * d_floor["spectrum"],
      f"pixel shuffle: spectrum distance {d_shuffle['spectrum']:.3g} > 1 and > 10 x two draws' "
      f"{d_floor['spectrum']:.3g}")
check(d_shuffle["histogram_v"] < 1e-12, "pixel shuffle keeps the v histogram (distance 0)")
check(d_shift["histogram_v"] > 0.1 and d_shift["histogram_v"] > 10 * d_floor["histogram_v"],
      f"v -> 0.7 v + 0.2: histogram distance {d_shift['histogram_v']:.3g} > 0.1 and > 10 x two "
      f"draws' {d_floor['histogram_v']:.3g}")
uv = np.stack([np.full((4, 4), -1.0), np.full((4, 4), 0.999)])[None]  # u = -1, v = 0.999
hist = tm.value_histogram(uv)
check(hist.shape == (tm.HISTOGRAM_BINS,) and hist[-1] == 1.0,
      "value_histogram counts channel 1 (v): all mass in the last bin")
check(tm.value_histogram(np.full((1, 2, 3, 3), 5.0))[-1] == 1.0
      and tm.value_histogram(np.full((1, 2, 3, 3), -5.0))[0] == 1.0,
      "values outside [-1, 1] are clipped into the end bins")
delta = np.zeros(tm.HISTOGRAM_BINS)
delta[0] = 1
check(abs(tm.histogram_distance(delta, delta[::-1]) - 2 * (1 - 1 / tm.HISTOGRAM_BINS)) < 1e-12,
      "Wasserstein-1 between the first and last bins = the distance of their centres")

# 3. `metrics` on fabricated runs: a good model (samples from the data's distribution) and a
# bad one (the same samples pixel-shuffled). data: 30 samples, the last 8 held out; 6 samples.
fields = stripes(30, size, 4, rng)
good_samples = stripes(6, size, 4, rng)
good, bad = os.path.join(work, "run_good"), os.path.join(work, "run_bad")
make_run(good, fields, good_samples, 8, "maze")
make_run(bad, fields, shuffled(good_samples, rng), 8, "noise")
results = {}
for name, run in (("good", good), ("bad", bad)):
    out = os.path.join(work, f"metrics_{name}.json")
    p = subprocess.run([sys.executable, os.path.join(pp, "turing_metrics.py"), "metrics", run,
                        "--json", out], capture_output=True, text=True)
    print(p.stdout + p.stderr, end="")
    check(p.returncode == 0 and os.path.isfile(out), f"turing_metrics.py metrics {name} (exit 0)")
    if os.path.isfile(out):
        with open(out) as f:
            results[name] = json.load(f)
if len(results) == 2:
    g, b = results["good"], results["bad"]
    check(g["counts"]["compared"] == 6 and g["counts"]["held_out"] == 8
          and g["counts"]["training"] == 22, f"counts: n = min(6, 8, 22) = 6: {g['counts']}")
    direct = tm.distances(good_samples, fields[22:28])
    floor = tm.distances(fields[:6], fields[22:28])
    check(all(np.isclose(g[k]["generated"], direct[k]) and np.isclose(g[k]["floor"], floor[k])
              for k in ("spectrum", "histogram_v")),
          "JSON = distances(first 6 samples, held-out 22..27) and (training 0..5, held-out)")
    check(g["spectrum"]["floor"] == b["spectrum"]["floor"], "the floor does not depend on samples")
    check(b["spectrum"]["generated"] > 10 * g["spectrum"]["generated"]
          and b["spectrum"]["generated"] > 10 * b["spectrum"]["floor"],
          f"shuffled samples: spectrum distance {b['spectrum']['generated']:.3g} >> good model "
          f"{g['spectrum']['generated']:.3g} and floor {b['spectrum']['floor']:.3g}")
    check(g["spectrum"]["generated"] < 3 * g["spectrum"]["floor"] + 0.05,
          f"good model near the floor: {g['spectrum']['generated']:.3g} vs "
          f"{g['spectrum']['floor']:.3g}")

# 4. Figures, and a one-line error for a run without score.h5.
torch_json = os.path.join(work, "torch.json")
with open(torch_json, "w") as f:
    json.dump({"epoch": list(range(1, 11)), "train_loss": list(0.6 / np.arange(1, 11)),
               "val_loss": list(0.65 / np.arange(1, 11)),
               "lr_after_epoch": list(np.full(10, 1e-3))}, f)
commands = {"panel.png": ["panel", good, bad], "losses.png": ["losses", good, "--torch",
                                                             torch_json]}
for png, cmd in commands.items():
    path = os.path.join(work, "figs", png)
    p = subprocess.run([sys.executable, os.path.join(pp, "plot_turing.py")] + cmd + ["-o", path],
                       capture_output=True, text=True)
    ok = p.returncode == 0 and os.path.isfile(path) and f"wrote {path}" in p.stdout
    if ok:
        with open(path, "rb") as f:
            ok = f.read(8) == b"\x89PNG\r\n\x1a\n"
    check(ok, f"plot_turing.py {cmd[0]} writes {png}" + ("" if ok else f": {p.stderr.strip()}"))
data_only = os.path.join(work, "run_data_only")
os.makedirs(data_only)
shutil.copy(os.path.join(good, "data.h5"), data_only)
p = subprocess.run([sys.executable, os.path.join(pp, "turing_metrics.py"), "metrics", data_only],
                   capture_output=True, text=True)
check(p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and "score.h5" in p.stderr,
      f"metrics without score.h5: exit 1, one line naming score.h5: {p.stderr.strip()!r}")

# 5. The flows: similarity.h5 of three fabricated runs (maze = `good`, life, waves), frames
# files, and every new command. Presets in the files: maze, life, waves, spots (spots is no
# run's own preset: it shows only with --all).
presets = ["maze", "life", "waves", "spots"]
S, E, R, M = 5, 2, 3, 4


def make_similarity(path, preset, own_boost, rival=None, trained=True, panel_size=size):
    """similarity.h5 with values in [0, 0.3) plus `own_boost` on the own preset's column (and on
    `rival`'s column, to make the diagonal lose)."""
    os.makedirs(path, exist_ok=True)
    col = presets.index(preset)
    tf = 0.3 * rng.random((S, len(presets)))
    tf[:, col] += own_boost
    if rival is not None:
        tf[:, presets.index(rival)] += own_boost + 0.2
    g = np.stack([tf, tf * rng.uniform(0.5, 1.0, tf.shape)])
    arrays = {"training_free": tf, "training_free_g": g,
              "random_kernel": 0.2 * rng.random((R, S, len(presets))),
              "reweighted": 0.2 * rng.random((R, S, len(presets)))}
    if trained:
        arrays["trained"] = np.clip(tf[None] + 0.05 * rng.standard_normal((E, S, len(presets))),
                                    0, 1)
    with h5py.File(os.path.join(path, "similarity.h5"), "w") as f:
        f.attrs.update(schema="eqflow.turing_similarity", preset=preset, dt=0.01, eta=0.1,
                       steps=300, window=200, ema=0.9, gray_scott_steps=20, diffusion_step=10,
                       starts=S)
        f.create_dataset("presets", data=presets, dtype=h5py.string_dtype())
        f["start_indices"] = np.arange(0, 2 * S, 2, dtype=np.int64)
        for name, a in arrays.items():
            f[f"similarity/{name}"] = a.astype(np.float32)
        start = stripes(M, panel_size, 4, rng)
        f["panel/initial"] = start
        if trained:  # the maze run also tells which samples its panel shows
            f["panel/start_indices"] = f["start_indices"][:M]
        f["panel/gray_scott"] = np.clip(start + 0.02 * rng.standard_normal(start.shape), -1, 1)
        f["panel/training_free"] = stripes(M, panel_size, 3, rng)
        if trained:
            f["panel/trained"] = stripes(M, panel_size, 4, rng)
    return {k: v.astype(np.float32).astype(np.float64) for k, v in arrays.items()}


sim_life, sim_waves = os.path.join(work, "run_life"), os.path.join(work, "run_waves")
arr_maze = make_similarity(good, "maze", 0.4)
arr_life = make_similarity(sim_life, "life", 0.3, trained=False)
arr_waves = make_similarity(sim_waves, "waves", 0.2, rival="maze", trained=False)


import contextlib  # noqa: E402
import io as _io  # noqa: E402
import types  # noqa: E402

import eqflow_io  # noqa: E402
import plot_turing  # noqa: E402

SCRIPTS = {"plot_turing.py": plot_turing, "turing_metrics.py": tm}


def run_py(script, args, separate=False):
    """The script's main(args) in this process (as main_wrapper would: EqflowError -> exit 1,
    one line on stderr) or, with `separate`, as its own process (matplotlib's import costs a
    second or more per process, so only where it matters)."""
    if separate:
        p = subprocess.run([sys.executable, os.path.join(pp, script)] + args,
                           capture_output=True, text=True)
    else:
        out, err = _io.StringIO(), _io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = SCRIPTS[script].main(args) or 0
            except eqflow_io.EqflowError as e:
                print(f"{script}: error: {e}", file=sys.stderr)
                rc = 1
            except SystemExit as e:
                rc = e.code
        p = types.SimpleNamespace(returncode=rc, stdout=out.getvalue(), stderr=err.getvalue())
    print(p.stdout + p.stderr, end="")
    return p


def wrote(p, path, magic=b"\x89PNG\r\n\x1a\n"):
    ok = p.returncode == 0 and os.path.isfile(path) and f"wrote {path}" in p.stdout
    if ok and magic is not None:
        with open(path, "rb") as f:
            ok = f.read(len(magic)) == magic
    return ok


figs = os.path.join(work, "figs")
sim_json = os.path.join(work, "similarity.json")
png = os.path.join(figs, "similarity.png")
p = run_py("plot_turing.py", ["similarity", good, sim_life, sim_waves, "--json", sim_json,
                              "--out", png])
check(wrote(p, png), "plot_turing.py similarity writes its figure")
if os.path.isfile(sim_json):
    with open(sim_json) as f:
        rows = {(r["preset"], r["flow"]): r for r in json.load(f)["rows"]}
    expect = []
    for preset, arrays in (("maze", arr_maze), ("life", arr_life), ("waves", arr_waves)):
        c = presets.index(preset)
        for flow in ("training_free", "trained", "random_kernel", "reweighted"):
            r = rows.get((preset, flow))
            if flow not in arrays:
                expect.append(r is not None and r["n"] == 0 and r["mean"] is None)
                continue
            v = arrays[flow][..., c]
            expect.append(r is not None and r["n"] == v.size
                          and np.isclose(r["mean"], np.mean(v), rtol=1e-12, atol=0)
                          and np.isclose(r["std"], np.std(v), rtol=1e-12, atol=0))
    check(all(expect), f"similarity table: mean and std (ddof 0) = numpy's over starts x seeds "
                       f"/ draws of the own preset's column, n = their count, absent trained "
                       f"-> n 0 ({sum(expect)}/{len(expect)})")
    check(rows[("maze", "training_free")]["reference_mean"] == 0.27
          and rows[("waves", "random_kernel")]["reference_mean"] == 0.18
          and rows[("life", "reweighted")]["reference_mean"] == 0.052,
          "the reference's numbers are attached (maze 0.27, waves random .18, life "
          "reweighted .052)")
else:
    check(False, "similarity --json wrote its file")
check("| maze | training_free |" in p.stdout, "similarity prints a markdown table")

cross_json = os.path.join(work, "cross.json")
png = os.path.join(figs, "cross.png")
p = run_py("plot_turing.py", ["cross-preset", good, sim_life, sim_waves, "--json", cross_json,
                              "--out", png])
check(wrote(p, png), "plot_turing.py cross-preset writes its figure")
if os.path.isfile(cross_json):
    with open(cross_json) as f:
        cross = json.load(f)
    direct = np.array([[a["training_free"][:, presets.index(b)].mean()
                        for b in ("maze", "life", "waves")]
                       for a in (arr_maze, arr_life, arr_waves)])
    check(cross["columns"] == ["maze", "life", "waves"]
          and np.allclose(cross["mean"], direct, rtol=1e-12, atol=0),
          "cross-preset: columns = the runs' presets, cells = mean over starts")
    check(cross["diagonal_wins"] == [True, True, False],
          f"cross-preset: the waves row (its maze column higher) is flagged: "
          f"{cross['diagonal_wins']}")
lines = [ln for ln in p.stdout.splitlines() if ln.startswith("| waves")]
check(len(lines) == 1 and "NO (best: maze)" in lines[0]
      and "diagonal does not win for: waves" in p.stdout
      and all("| yes |" in ln for ln in p.stdout.splitlines()
              if ln.startswith(("| maze", "| life"))),
      "cross-preset table: 'NO (best: maze)' on the waves row only, and the summary line")
png = os.path.join(figs, "cross_all_trained.png")
cross_all = os.path.join(work, "cross_all.json")
p = run_py("plot_turing.py", ["cross-preset", good, sim_life, "--all", "--flow", "trained",
                              "--json", cross_all, "--out", png])
check(wrote(p, png) and "| spots |" in p.stdout,
      "cross-preset --all --flow trained (life has no trained flow) adds the spots column")

for flow, extra in (("training_free", []), ("trained", ["--displacement"])):
    png = os.path.join(figs, f"flow_panel_{flow}.png")
    p = run_py("plot_turing.py", ["flow-panel", good, "--flow", flow, "--out", png] + extra)
    check(wrote(p, png), f"plot_turing.py flow-panel --flow {flow} {' '.join(extra)}")
p = run_py("plot_turing.py", ["flow-panel", sim_life, "--flow", "trained",
                              "--out", os.path.join(figs, "none.png")])
check(p.returncode == 1 and "panel/trained" in p.stderr
      and len(p.stderr.strip().splitlines()) == 1,
      "flow-panel --flow trained without /panel/trained: exit 1, one line")

# Frames: training_free = fresh draws of the data's distribution (as good as the data), the
# trained flow's file = uniform noise, still being written (.h5.partial, held open in SWMR).
T, N = 6, 7
frames_dir = os.path.join(good, "frames")
os.makedirs(frames_dir)
with h5py.File(os.path.join(frames_dir, "training_free.h5"), "w") as f:
    d = f.create_dataset("frames", data=np.stack([stripes(N, size, 4, rng) for _ in range(T)]))
    d.attrs.update(dt=0.01, eta=0.1, record_every=5, diffusion_step=10, flow="training_free")
    f["frames_time"] = 0.05 * np.arange(T)
partial = os.path.join(frames_dir, "trained.h5.partial")
writer = h5py.File(partial, "w", libver="latest")
d = writer.create_dataset("frames", shape=(0, N, 2, size, size), maxshape=(None, N, 2, size, size),
                          dtype=np.float32, chunks=(1, N, 2, size, size))
d.attrs.update(dt=0.01, eta=0.1, record_every=5, diffusion_step=10, flow="trained")
tds = writer.create_dataset("frames_time", shape=(0,), maxshape=(None,), dtype=np.float64)
writer.swmr_mode = True
for t in range(T - 2):
    d.resize(t + 1, axis=0)
    d[t] = rng.uniform(-1, 1, (N, 2, size, size))
    d.flush()
    tds.resize(t + 1, axis=0)
    tds[t] = 0.05 * t
    tds.flush()
d.resize(T - 1, axis=0)  # one frame more than its time: a writer between its two steps
d[T - 2] = rng.uniform(-1, 1, (N, 2, size, size))
d.flush()

hz_json = os.path.join(work, "horizon.json")
p = run_py("turing_metrics.py", ["horizon", good, "--json", hz_json], separate=True)
hz_file = os.path.join(good, "long_horizon.h5")
check(p.returncode == 0 and os.path.isfile(hz_file) and os.path.isfile(hz_json),
      "turing_metrics.py horizon (a partial file held open by its writer) writes "
      "long_horizon.h5 and the JSON")
if os.path.isfile(hz_file):
    with h5py.File(hz_file, "r") as f:
        floor_s, floor_w = float(f.attrs["floor_spectrum"]), float(f.attrs["floor_w1"])
        tf_s, tf_w = f["training_free/spectrum_distance"][()], f["training_free/histogram_w1"][()]
        tr_s, tr_w = f["trained/spectrum_distance"][()], f["trained/histogram_w1"][()]
        tr_t = f["trained/time"][()]
        n_cmp = int(f.attrs["samples_compared"])
    fl = tm.distances(fields[:7], fields[22:29])
    check(n_cmp == 7 and np.isclose(floor_s, fl["spectrum"])
          and np.isclose(floor_w, fl["histogram_v"]),
          f"horizon floor = training 0..6 vs held-out 22..28 (n = min(7, 8, 22) = 7): "
          f"{floor_s:.3g}, {floor_w:.3g}")
    check(tf_s.size == T and np.all(tf_s < 3 * floor_s + 0.05)
          and np.all(tf_w < 3 * floor_w + 0.01),
          f"frames drawn from the data's distribution: at the floor's scale (spectrum max "
          f"{tf_s.max():.3g}, W1 max {tf_w.max():.3g})")
    check(tr_s.size == T - 2 and np.allclose(tr_t, 0.05 * np.arange(T - 2))
          and np.all(tr_s > 10 * floor_s) and np.all(tr_w > 5 * floor_w),
          f"noise frames (partial file, {tr_s.size} frames with a time): far above the floor "
          f"(spectrum min {tr_s.min():.3g}, W1 min {tr_w.min():.3g})")
check("last/first" in p.stdout and "partial" in p.stdout, "horizon prints its table")
png = os.path.join(figs, "horizon.png")
p = run_py("plot_turing.py", ["horizon", good, "--out", png])
check(wrote(p, png), "plot_turing.py horizon writes its figure")

gif = os.path.join(figs, "anim.gif")
p = run_py("plot_turing.py", ["animate", partial[:-len(".partial")], "--sample", "2",
                              "--fps", "10", "--out", gif], separate=True)
check(wrote(p, gif, b"GIF8"), "animate: a GIF of the still-growing trained.h5.partial")
if shutil.which("ffmpeg"):
    mp4 = os.path.join(figs, "anim.mp4")
    p = run_py("plot_turing.py", ["animate", os.path.join(frames_dir, "training_free.h5"),
                                  "--every", "2", "--ema", "0.5", "--out", mp4])
    ok = wrote(p, mp4, None)
    if ok:
        with open(mp4, "rb") as f:
            ok = f.read(12)[4:8] == b"ftyp"
    check(ok, "animate: an MP4 (ffmpeg)")
    path_before = os.environ["PATH"]
    os.environ["PATH"] = "/nonexistent"
    try:
        p = run_py("plot_turing.py", ["animate", os.path.join(frames_dir, "training_free.h5"),
                                      "--out", os.path.join(figs, "x.mp4")])
    finally:
        os.environ["PATH"] = path_before
    check(p.returncode == 1 and "ffmpeg" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
          "animate .mp4 without ffmpeg on PATH: exit 1, one line naming ffmpeg")
else:
    print("skip animate MP4: no ffmpeg on PATH (scripts/setup.sh installs it)")
writer.close()

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all Turing post-processing checks passed")
