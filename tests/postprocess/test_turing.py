#!/usr/bin/python3
"""Checks of postprocess/turing_metrics.py and plot_turing.py on fabricated run directories
(data.h5 with synthetic stripe fields, score.h5 written as the trainer will): the spectrum of
a cosine peaks at its wavenumber and has the white-noise normalisation, both distances are 0
between a set and itself, a pixel shuffle raises the spectrum distance but not the v
histogram's, the `metrics` command's numbers and JSON, and the figures. Seconds.

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

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all Turing post-processing checks passed")
