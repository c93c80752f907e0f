#!/usr/bin/python3
"""Sample-quality numbers of a Turing-pattern (Gray-Scott) score model: the score model's
samples against the held-out data, next to the floor that two disjoint sets of data reach.

  turing_metrics.py metrics RUN [--json OUT]

RUN is a directory with data.h5 (`/fields` (N, C, H, W) float32 in [-1, 1], channel 0 = u,
1 = v, attributes preset, Du, Dv, F, k, steps, normalisation) and score.h5 (`/training` with
attribute `validation_samples` = V, and `/samples` (S, C, H, W) float32 in [-1, 1]). The
held-out data are the last V samples of /fields, the training data the others.

Two distances between sets of fields, each 0 for identical sets:

- spectrum: `power_spectrum` gives, per channel, the radially averaged power spectrum
  averaged over the samples; `spectrum_distance(a, b)` = mean over channels c of
  sqrt( sum_{r=1..K} (log10 S_a[c, r] - log10 S_b[c, r])^2 ), K = min(H, W) // 2 (bin 0,
  the removed mean, is left out; spectra are floored at 1e-30 before the log). Scale:
  a set whose power is off by a factor 10 in every bin is at sqrt(K).
- histogram_v: `value_histogram` gives the fraction of all v values (channel 1, every pixel
  of every sample, clipped to [-1, 1]) in 64 equal bins over [-1, 1];
  `histogram_distance(p, q)` = the 1-D Wasserstein-1 (earth mover's) distance between the
  two binned distributions, sum_b |P_b - Q_b| * (2 / 64) with P, Q the cumulative bin
  fractions: the mean distance, in normalised units, that v values must move (0..2). It
  ignores where the values are (a pixel shuffle keeps it at 0); the spectrum sees that.

`metrics` compares equal-size sets, n = min(S, V, N - V) samples each: generated = the first
n samples of /samples vs the first n held-out samples; floor = the same n held-out samples vs
the first n training samples (a disjoint draw of the same distribution: what a perfect model
would reach with n samples). It prints a table and, with --json, writes
{"spectrum": {"generated", "floor"}, "histogram_v": {"generated", "floor"}, "counts": {...}}.

  turing_metrics.py horizon RUN [--flows FLOW...] [--json OUT|-]

`horizon` reads the flows' frame files RUN/frames/<flow>.h5 (or <flow>.h5.partial while the
final name is missing; opened SWMR when the writer allows it): `/frames` (T, N, C, H, W) the
denoised estimates in [-1, 1], `/frames_time` (T) the simulation time. Every recorded frame
(its first n samples) is compared with the first n held-out samples, n = min(frame samples of
every flow, V, N - V); the floor is the first n training samples against them. It writes
RUN/long_horizon.h5 (temp name + rename): `/<flow>/time`, `/<flow>/spectrum_distance`,
`/<flow>/histogram_w1` (T) float64 (NaN for a frame with non-finite values), root attributes
floor_spectrum, floor_w1, samples_compared; and prints the first, middle and last frames, the
ratio last / first and last / floor.

The similarity.h5 reader (`SimilarityFile`, `similarity_rows`, `cross_preset_table`) and the
frames reader (`Frames`, `frame_files`) are here too; plot_turing.py draws them.
"""
import argparse
import contextlib
import json
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eqflow_io as io  # noqa: E402

HISTOGRAM_BINS = 64
SPECTRUM_FLOOR = 1e-30
_CHUNK = 64  # samples transformed at a time (bounds the memory of the FFTs)


# --- spectra ---------------------------------------------------------------------------------
def radial_bins(height, width):
    """(bins (H, W) int, K): the integer radius of every FFT cell and K = min(H, W) // 2.

    The wavenumber along each axis is counted in cycles per L = min(H, W) pixels (on a square
    grid: the FFT index, cycles per box), |k| = sqrt(ky^2 + kx^2), rounded to the nearest
    integer. Cells with a radius above K (the corners) belong to no bin that is used."""
    side = min(height, width)
    ky = np.fft.fftfreq(height) * side  # cycles per `side` pixels
    kx = np.fft.fftfreq(width) * side
    radius = np.sqrt(ky[:, None] ** 2 + kx[None, :] ** 2)
    return np.rint(radius).astype(np.int64), side // 2


def power_spectrum(fields):
    """Radially averaged power spectrum of a batch (N, C, H, W) -> (C, K + 1), bins 0..K.

    Per sample and channel: subtract the field's mean, P = |FFT2|^2 / (H W) (periodic fields:
    no window; white noise of variance s^2 has P = s^2 in every bin), average P over the cells
    of each integer radius (`radial_bins`); then average over the samples."""
    fields = np.asarray(fields)
    if fields.ndim != 4 or fields.shape[0] == 0:
        raise ValueError(f"power_spectrum: expected a non-empty (N, C, H, W) batch, got shape "
                         f"{fields.shape}")
    n, c, h, w = fields.shape
    bins, kmax = radial_bins(h, w)
    total = np.zeros((c, h, w))
    for start in range(0, n, _CHUNK):
        x = np.asarray(fields[start:start + _CHUNK], dtype=np.float64)
        x = x - x.mean(axis=(-2, -1), keepdims=True)
        total += (np.abs(np.fft.fft2(x)) ** 2).sum(axis=0) / (h * w)
    mean = total / n  # (C, H, W): the sample average commutes with the radial average
    used = bins <= kmax
    counts = np.bincount(bins[used], minlength=kmax + 1)
    return np.stack([np.bincount(bins[used], weights=mean[ch][used], minlength=kmax + 1)
                     / counts for ch in range(c)])


def spectrum_distance(spec_a, spec_b):
    """Mean over channels of the L2 distance of the log10 spectra over bins 1..K (see the
    module docstring); spectra (C, K + 1) from `power_spectrum`."""
    a = np.log10(np.maximum(np.asarray(spec_a, dtype=float)[:, 1:], SPECTRUM_FLOOR))
    b = np.log10(np.maximum(np.asarray(spec_b, dtype=float)[:, 1:], SPECTRUM_FLOOR))
    if a.shape != b.shape:
        raise ValueError(f"spectrum_distance: spectra of shapes {a.shape} and {b.shape}")
    return float(np.mean(np.sqrt(np.sum((a - b) ** 2, axis=1))))


# --- value histograms ------------------------------------------------------------------------
def histogram_edges(bins=HISTOGRAM_BINS):
    return np.linspace(-1.0, 1.0, bins + 1)


def value_histogram(fields, channel=1, bins=HISTOGRAM_BINS):
    """Fractions (bins,) of the values of `channel` (default 1 = v) of a batch (N, C, H, W),
    every pixel of every sample, clipped to [-1, 1], in `bins` equal bins over [-1, 1]."""
    fields = np.asarray(fields)
    if fields.ndim != 4 or fields.shape[0] == 0 or fields.shape[1] <= channel:
        raise ValueError(f"value_histogram: expected a non-empty (N, C > {channel}, H, W) "
                         f"batch, got shape {fields.shape}")
    counts = np.zeros(bins)
    for start in range(0, fields.shape[0], _CHUNK):
        v = np.clip(np.asarray(fields[start:start + _CHUNK, channel], dtype=np.float64), -1, 1)
        counts += np.histogram(v, bins=histogram_edges(bins))[0]
    return counts / counts.sum()


def histogram_distance(p, q):
    """1-D Wasserstein-1 distance between two binned distributions over [-1, 1] (fractions
    summing to 1): sum over bins of |cumulative p - cumulative q| times the bin width."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    if p.shape != q.shape:
        raise ValueError(f"histogram_distance: histograms of shapes {p.shape} and {q.shape}")
    return float(np.sum(np.abs(np.cumsum(p) - np.cumsum(q))) * (2.0 / p.size))


def distances(a, b):
    """{"spectrum": ..., "histogram_v": ...} between two batches (N, C, H, W)."""
    return {"spectrum": spectrum_distance(power_spectrum(a), power_spectrum(b)),
            "histogram_v": histogram_distance(value_histogram(a), value_histogram(b))}


# --- run directories -------------------------------------------------------------------------
def _text(value):
    """An HDF5 attribute as a plain Python value (str, int, float or list)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        return [_text(v) for v in value.tolist()]
    return value.item() if isinstance(value, np.generic) else value


class TuringRun:
    """A run directory: data.h5 (`/fields`) and, once trained, score.h5. Reads slices only."""

    def __init__(self, path):
        self.path = os.path.normpath(path)
        if os.path.isfile(self.path) and os.path.basename(self.path) in ("data.h5", "score.h5"):
            self.path = os.path.dirname(self.path) or "."
        if not os.path.isdir(self.path):
            raise io.EqflowError(f"{path}: no such run directory")
        self.data_path = os.path.join(self.path, "data.h5")
        self.score_path = os.path.join(self.path, "score.h5")
        with self._open(self.data_path) as f:
            if "fields" not in f or f["fields"].ndim != 4:
                raise io.EqflowError(f"{self.data_path}: no /fields dataset of shape "
                                     f"(N, C, H, W)")
            self.shape = tuple(f["fields"].shape)
            self.attrs = {k: _text(v) for k, v in f["fields"].attrs.items()}
        self.preset = str(self.attrs.get("preset", os.path.basename(self.path)))

    def _open(self, path):
        if not os.path.isfile(path):
            raise io.EqflowError(f"{path}: no such file")
        try:
            return h5py.File(path, "r")
        except OSError as e:
            raise io.EqflowError(f"{path}: not an HDF5 file ({e.__class__.__name__})") from None

    def has_score(self):
        return os.path.isfile(self.score_path)

    def score(self):
        """score.h5, opened read-only (a context manager)."""
        return self._open(self.score_path)

    def validation_samples(self):
        """V: the held-out samples are the last V of /fields."""
        with self.score() as f:
            if "training" not in f or "validation_samples" not in f["training"].attrs:
                raise io.EqflowError(f"{self.score_path}: no /training attribute "
                                     f"validation_samples")
            v = int(f["training"].attrs["validation_samples"])
        if not 0 < v < self.shape[0]:
            raise io.EqflowError(f"{self.score_path}: validation_samples = {v}, expected 1.."
                                 f"{self.shape[0] - 1} (data.h5 holds {self.shape[0]} samples)")
        return v

    def sample_count(self):
        with self.score() as f:
            if "samples" not in f or f["samples"].ndim != 4:
                raise io.EqflowError(f"{self.score_path}: no /samples dataset of shape "
                                     f"(S, C, H, W)")
            if tuple(f["samples"].shape[1:]) != self.shape[1:]:
                raise io.EqflowError(f"{self.score_path}: /samples of shape "
                                     f"{f['samples'].shape}, data.h5 /fields has (C, H, W) = "
                                     f"{self.shape[1:]}")
            return int(f["samples"].shape[0])

    def fields(self, start, stop):
        """/fields[start:stop] as float32 (stop <= N)."""
        with self._open(self.data_path) as f:
            return np.asarray(f["fields"][start:stop], dtype=np.float32)

    def held_out(self, n):
        """The first n of the held-out samples (the last V of /fields)."""
        first = self.shape[0] - self.validation_samples()
        return self.fields(first, first + n)

    def training(self, n):
        """The first n training samples."""
        return self.fields(0, n)

    def samples(self, n):
        """The first n generated samples (/samples of score.h5)."""
        self.sample_count()
        with self.score() as f:
            return np.asarray(f["samples"][:n], dtype=np.float32)

    def sampler(self):
        with self.score() as f:
            a = f["samples"].attrs if "samples" in f else {}
            return {k: _text(a[k]) for k in ("sampler", "sampler_steps", "seed") if k in a}

    def training_history(self):
        """{name: (E,) array} of score.h5 /training's datasets and its attributes."""
        with self.score() as f:
            if "training" not in f:
                raise io.EqflowError(f"{self.score_path}: no /training group")
            g = f["training"]
            history = {k: np.asarray(g[k][()], dtype=float) for k in g
                       if isinstance(g[k], h5py.Dataset)}
            return history, {k: _text(v) for k, v in g.attrs.items()}


def run_metrics(run):
    """The metrics of one TuringRun (see the module docstring) as a JSON-ready dict."""
    total = run.shape[0]
    held = run.validation_samples()
    generated = run.sample_count()
    n = min(generated, held, total - held)
    if n == 0:
        raise io.EqflowError(f"{run.score_path}: /samples holds no sample")
    fake, real, train = run.samples(n), run.held_out(n), run.training(n)
    gen, floor = distances(fake, real), distances(train, real)
    return {
        "run": os.path.abspath(run.path), "preset": run.preset,
        "spectrum": {"generated": gen["spectrum"], "floor": floor["spectrum"]},
        "histogram_v": {"generated": gen["histogram_v"], "floor": floor["histogram_v"]},
        "counts": {"data": total, "held_out": held, "training": total - held,
                   "generated": generated, "compared": n,
                   "nonfinite_generated_values": int(np.size(fake) - np.isfinite(fake).sum())},
        "sampler": run.sampler(),
        "training_attributes": run.training_history()[1],
        "definitions": {
            "spectrum": "mean over channels of the L2 distance of log10 radially averaged "
                        "power spectra (mean removed, |FFT|^2/(HW), averaged over samples) "
                        "over integer radii 1..min(H,W)//2",
            "histogram_v": f"Wasserstein-1 between the v-value histograms ({HISTOGRAM_BINS} "
                           f"bins over [-1, 1], values clipped)",
            "generated": "first n generated samples vs first n held-out samples",
            "floor": "first n training samples vs the same n held-out samples",
            "n": "min(generated, held_out, training)"},
    }


def table(m):
    """The metrics as a small text table."""
    c = m["counts"]
    lines = [f"{m['preset']}: {c['compared']} samples per set (generated {c['generated']}, "
             f"held-out {c['held_out']}, training {c['training']})",
             f"  {'distance':<12} {'generated':>11} {'floor':>11} {'ratio':>8}"]
    for key in ("spectrum", "histogram_v"):
        g, f = m[key]["generated"], m[key]["floor"]
        ratio = f"{g / f:8.2f}" if f > 0 else f"{'-':>8}"
        lines.append(f"  {key:<12} {g:11.4g} {f:11.4g} {ratio}")
    trained = m.get("training_attributes", {}).get("train_samples")
    if trained is not None and int(trained) + c["held_out"] != c["data"]:
        lines.append(f"  note: score.h5 says train_samples {trained} + validation_samples "
                     f"{c['held_out']} != {c['data']} samples in data.h5; held-out = the last "
                     f"{c['held_out']}")
    if c["nonfinite_generated_values"]:
        lines.append(f"  warning: {c['nonfinite_generated_values']} non-finite generated values")
    return "\n".join(lines)


# --- flow similarity (similarity.h5) ---------------------------------------------------------
SIMILARITY_SCHEMA = "eqflow.turing_similarity"
SIMILARITY_FLOWS = ("training_free", "trained", "random_kernel", "reweighted")
# The reference's numbers (DESIGN.md section 2): |cosine| of the displacement against its own
# preset's Gray-Scott displacement, one start field (the first data sample); (mean, std or None).
REFERENCE_SIMILARITY = {
    "training_free": {"life": (0.27, None), "waves": (0.59, None), "spirals": (0.25, None),
                      "maze": (0.27, None)},
    "random_kernel": {"life": (0.021, 0.022), "waves": (0.18, 0.22), "spirals": (0.083, 0.090),
                      "maze": (0.072, 0.10)},
    "reweighted": {"life": (0.052, None), "waves": (0.105, None), "spirals": (0.18, None),
                   "maze": (0.031, None)},
}


def open_h5_read(path):
    """Opens an HDF5 file that may still be growing: SWMR read (libver latest) first, then a
    plain read-only open, then one without HDF5's file locking (a writer that holds the file
    without SWMR); EqflowError (one line) if none works."""
    if not os.path.isfile(path):
        raise io.EqflowError(f"{path}: no such file")
    last = None
    for kwargs in ({"libver": "latest", "swmr": True}, {}, {"locking": False}):
        try:
            return h5py.File(path, "r", **kwargs)
        except (OSError, ValueError, TypeError) as e:
            last = e
    raise io.EqflowError(f"{path}: cannot open as HDF5 ({last.__class__.__name__}: "
                         f"{str(last).splitlines()[0] if str(last) else ''})")


def _strings(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(values).ravel()]


class SimilarityFile:
    """A run's similarity.h5 (schema "eqflow.turing_similarity"), read whole (it is small; the
    panels are read on demand). `arrays[flow]` has shape (..., S, P): training_free (S, P),
    trained (E, S, P), random_kernel and reweighted (R, S, P); `presets` names the P columns."""

    def __init__(self, path):
        path = os.path.normpath(path)
        self.path = os.path.join(path, "similarity.h5") if os.path.isdir(path) else path
        self.run_dir = os.path.dirname(os.path.abspath(self.path))
        with open_h5_read(self.path) as f:
            schema = _text(f.attrs.get("schema", ""))
            if schema != SIMILARITY_SCHEMA:
                raise io.EqflowError(f"{self.path}: root attribute schema = {schema!r}, expected "
                                     f"{SIMILARITY_SCHEMA!r}")
            self.attrs = {k: _text(v) for k, v in f.attrs.items()}
            if "presets" not in f or "similarity" not in f:
                raise io.EqflowError(f"{self.path}: no /presets or /similarity")
            self.presets = _strings(f["presets"][()])
            self.start_indices = (np.asarray(f["start_indices"][()], dtype=np.int64).ravel()
                                  if "start_indices" in f else None)
            self.arrays = {}
            g = f["similarity"]
            for name in list(SIMILARITY_FLOWS) + ["training_free_g"]:
                if name in g:
                    self.arrays[name] = np.asarray(g[name][()], dtype=np.float64)
            self.panels = sorted(f["panel"].keys()) if "panel" in f else []
        self.preset = str(self.attrs.get("preset", "") or "")
        self.label = self.preset or os.path.basename(self.run_dir)
        if "training_free" not in self.arrays:
            raise io.EqflowError(f"{self.path}: no /similarity/training_free")
        p = len(self.presets)
        s = self.arrays["training_free"].shape[0] if self.arrays["training_free"].ndim else 0
        expected = {"training_free": 2, "trained": 3, "random_kernel": 3, "reweighted": 3,
                    "training_free_g": 3}
        for name, a in self.arrays.items():
            if a.ndim != expected[name] or a.shape[-2:] != (s, p):
                raise io.EqflowError(f"{self.path}: /similarity/{name} of shape {a.shape}, "
                                     f"expected {expected[name] - 2} leading dim(s) then "
                                     f"(S, P) = ({s}, {p})")
        if self.start_indices is not None and self.start_indices.size != s:
            raise io.EqflowError(f"{self.path}: /start_indices holds {self.start_indices.size} "
                                 f"entries, /similarity/training_free {s} starts")
        self.starts = s

    def has(self, flow):
        return flow in self.arrays and self.arrays[flow].size > 0

    def values(self, flow, preset):
        """Every value of `flow` against `preset`'s Gray-Scott displacement (over starts, and
        seeds / draws), flattened; None when the file lacks the flow or the preset."""
        if not self.has(flow) or preset not in self.presets:
            return None
        return self.arrays[flow][..., self.presets.index(preset)].ravel()

    def mean_row(self, flow):
        """(P,) mean over everything but the preset axis (finite values), or None."""
        if not self.has(flow):
            return None
        a = self.arrays[flow].reshape(-1, len(self.presets))
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(a)
            return np.where(finite.any(axis=0), np.where(finite, a, 0).sum(axis=0)
                            / np.maximum(finite.sum(axis=0), 1), np.nan)

    def panel(self, name):
        with open_h5_read(self.path) as f:
            key = f"panel/{name}"
            if key not in f:
                raise io.EqflowError(f"{self.path}: no /{key}" + (
                    " (no trained flow in this run)" if name == "trained" else ""))
            a = np.asarray(f[key][()], dtype=np.float32)
            starts = (np.asarray(f["panel/start_indices"][()], dtype=np.int64).ravel()
                      if "panel/start_indices" in f else None)
        if a.ndim != 4:
            raise io.EqflowError(f"{self.path}: /{key} of shape {a.shape}, expected (M, C, H, W)")
        return a, starts


def summarise(values):
    """(mean, std, n, nonfinite) of the finite values; std is numpy's (ddof 0)."""
    if values is None:
        return None, None, 0, 0
    v = np.asarray(values, dtype=np.float64).ravel()
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return None, None, 0, int(v.size)
    return float(np.mean(finite)), float(np.std(finite)), int(finite.size), \
        int(v.size - finite.size)


def run_labels(files):
    """A label per SimilarityFile: its preset (the directory for user data), with the directory
    name added where runs share a label."""
    labels = [sim.label for sim in files]
    return [f"{lab} ({os.path.basename(sim.run_dir)})" if labels.count(lab) > 1 else lab
            for lab, sim in zip(labels, files)]


def similarity_rows(files):
    """One row per (run, flow) of the own-preset similarity: {run, preset, label, flow, mean,
    std, n, nonfinite, reference_mean, reference_std}; runs without a preset get no row."""
    rows = []
    for sim, label in zip(files, run_labels(files)):
        if not sim.preset or sim.preset not in sim.presets:
            continue
        for flow in SIMILARITY_FLOWS:
            mean, std, n, bad = summarise(sim.values(flow, sim.preset))
            ref = REFERENCE_SIMILARITY.get(flow, {}).get(sim.preset, (None, None))
            rows.append({"run": sim.run_dir, "preset": sim.preset, "label": label,
                         "flow": flow, "mean": mean, "std": std, "n": n, "nonfinite": bad,
                         "reference_mean": ref[0], "reference_std": ref[1]})
    return rows


def cross_preset_table(files, flow="training_free", all_presets=False):
    """(row labels, columns, matrix (runs, columns) of mean similarity, diagonal column index
    per row or None, wins per row: True / False / None when there is no diagonal)."""
    columns = []
    for sim in files:
        for p in (sim.presets if all_presets else [sim.preset]):
            if p and p not in columns:
                columns.append(p)
    labels = run_labels(files)
    matrix = np.full((len(files), len(columns)), np.nan)
    diagonal, wins = [], []
    for i, sim in enumerate(files):
        row = sim.mean_row(flow)
        if row is not None:
            for j, p in enumerate(columns):
                if p in sim.presets:
                    matrix[i, j] = row[sim.presets.index(p)]
        d = columns.index(sim.preset) if sim.preset in columns else None
        diagonal.append(d)
        if d is None or not np.isfinite(matrix[i, d]):
            wins.append(None)
        else:
            others = np.delete(matrix[i], d)
            others = others[np.isfinite(others)]
            wins.append(bool(others.size == 0 or matrix[i, d] > others.max()))
    return labels, columns, matrix, diagonal, wins


# --- long-horizon frames (frames/<flow>.h5) --------------------------------------------------
def frame_files(run_dir):
    """{flow: path} of RUN/frames/<flow>.h5, or <flow>.h5.partial where the final file is
    missing; training_free and trained first, then the others by name."""
    directory = os.path.join(run_dir, "frames")
    found = {}
    if os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            for suffix in (".h5", ".h5.partial"):
                if name.endswith(suffix) and len(name) > len(suffix):
                    flow = name[:-len(suffix)]
                    if flow not in found or suffix == ".h5":
                        found[flow] = os.path.join(directory, name)
    order = [f for f in ("training_free", "trained") if f in found]
    return {f: found[f] for f in order + sorted(set(found) - set(order))}


def resolve_frames_path(path):
    """`path`, or `path`.partial when only that exists."""
    if not os.path.isfile(path) and os.path.isfile(path + ".partial"):
        return path + ".partial"
    return path


class Frames:
    """A frames file opened for reading (context manager): `frames` (T, N, C, H, W) dataset,
    `times` (T) float64, `attrs`. T = the frames recorded so far: min(len(/frames),
    len(/frames_time)) when both exist (a growing file extends /frames_time last)."""

    def __init__(self, path):
        self.path = resolve_frames_path(path)
        self.partial = self.path.endswith(".partial")
        self.file = open_h5_read(self.path)
        try:
            if "frames" not in self.file or self.file["frames"].ndim != 5:
                raise io.EqflowError(f"{self.path}: no /frames dataset of shape (T, N, C, H, W)")
            self.frames = self.file["frames"]
            self.attrs = {k: _text(v) for k, v in self.frames.attrs.items()}
            count = self.frames.shape[0]
            if "frames_time" in self.file:
                times = np.asarray(self.file["frames_time"][()], dtype=np.float64).ravel()
                count = min(count, times.size)
                self.times = times[:count]
            else:
                step = float(self.attrs.get("dt", 1.0)) * float(self.attrs.get("record_every", 1))
                self.times = np.arange(count) * step
            self.count = count
            self.flow = str(self.attrs.get("flow", "") or os.path.basename(self.path).split(".")[0])
        except Exception:
            self.file.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    @property
    def shape(self):
        return (self.count,) + tuple(self.frames.shape[1:])


def horizon_metrics(run, flows=None):
    """Spectrum distance and v-histogram W1 of every recorded frame (its first n samples) against
    the first n held-out samples, n = min(frame samples of every flow, held-out, training);
    floor = training vs held-out at that n. Returns a JSON-ready dict."""
    available = frame_files(run.path)
    if flows:
        missing = [f for f in flows if f not in available]
        if missing:
            raise io.EqflowError(f"{run.path}/frames: no {', '.join(m + '.h5' for m in missing)} "
                                 f"(found: {', '.join(available) or 'none'})")
        available = {f: available[f] for f in flows}
    if not available:
        raise io.EqflowError(f"{run.path}/frames: no frames file (<flow>.h5 or .h5.partial)")
    held = run.validation_samples()
    if not flows:
        # By default the files at the data's size (the larger-canvas animations are skipped).
        same = {}
        for flow, path in available.items():
            with Frames(path) as fr:
                if tuple(fr.frames.shape[2:]) == run.shape[1:]:
                    same[flow] = path
        available = same or available
    sizes = {}
    for flow, path in available.items():
        with Frames(path) as fr:
            if tuple(fr.frames.shape[2:]) != run.shape[1:]:
                raise io.EqflowError(f"{fr.path}: frames of (C, H, W) = {fr.frames.shape[2:]}, "
                                     f"data.h5 /fields has {run.shape[1:]}")
            if fr.count == 0:
                raise io.EqflowError(f"{fr.path}: no frame recorded yet")
            sizes[flow] = fr.frames.shape[1]
    n = min(min(sizes.values()), held, run.shape[0] - held)
    real, train = run.held_out(n), run.training(n)
    real_spec, real_hist = power_spectrum(real), value_histogram(real)
    floor = distances(train, real)
    out = {"run": os.path.abspath(run.path), "preset": run.preset,
           "floor": {"spectrum": floor["spectrum"], "histogram_w1": floor["histogram_v"]},
           "counts": {"compared": n, "held_out": held, "training": run.shape[0] - held},
           "flows": {}}
    for flow, path in available.items():
        with Frames(path) as fr:
            spec = np.full(fr.count, np.nan)
            w1 = np.full(fr.count, np.nan)
            nonfinite = 0
            for t in range(fr.count):
                x = np.asarray(fr.frames[t, :n], dtype=np.float32)
                if not np.all(np.isfinite(x)):
                    nonfinite += 1
                    continue
                spec[t] = spectrum_distance(power_spectrum(x), real_spec)
                w1[t] = histogram_distance(value_histogram(x), real_hist)
            out["flows"][flow] = {
                "file": os.path.abspath(fr.path), "partial": fr.partial,
                "time": fr.times.tolist(), "spectrum_distance": spec.tolist(),
                "histogram_w1": w1.tolist(), "frames": fr.count, "samples": sizes[flow],
                "nonfinite_frames": nonfinite,
                "attrs": {k: fr.attrs[k] for k in ("dt", "eta", "record_every", "diffusion_step")
                          if k in fr.attrs}}
    return out


def write_horizon(h, path):
    """The horizon numbers to `path` (long_horizon.h5) under a temporary name, then renamed."""
    with io.atomic_output(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs.update(schema="eqflow.turing_long_horizon", preset=h["preset"],
                           floor_spectrum=h["floor"]["spectrum"],
                           floor_w1=h["floor"]["histogram_w1"],
                           samples_compared=h["counts"]["compared"],
                           held_out=h["counts"]["held_out"], flows=list(h["flows"]))
            for flow, m in h["flows"].items():
                g = f.create_group(flow)
                g["time"] = np.asarray(m["time"], dtype=np.float64)
                g["spectrum_distance"] = np.asarray(m["spectrum_distance"], dtype=np.float64)
                g["histogram_w1"] = np.asarray(m["histogram_w1"], dtype=np.float64)
                g.attrs.update(file=m["file"], partial=int(m["partial"]),
                               samples=m["samples"], nonfinite_frames=m["nonfinite_frames"],
                               **m["attrs"])


def read_horizon(path):
    """long_horizon.h5 back as the dict of `horizon_metrics` (the fields the plot needs)."""
    with open_h5_read(path) as f:
        out = {"preset": _text(f.attrs.get("preset", "")),
               "floor": {"spectrum": float(f.attrs["floor_spectrum"]),
                         "histogram_w1": float(f.attrs["floor_w1"])},
               "counts": {"compared": int(f.attrs.get("samples_compared", 0))}, "flows": {}}
        order = [x for x in _strings(f.attrs.get("flows", [])) if x in f]
        for flow in order + sorted(set(f) - set(order)):
            g = f[flow]
            out["flows"][flow] = {k: g[k][()].tolist()
                                  for k in ("time", "spectrum_distance", "histogram_w1")}
            out["flows"][flow]["partial"] = bool(g.attrs.get("partial", 0))
    return out


def horizon_table(h):
    """First, middle and last frames of each flow, the ratio last / first, and the floor."""
    def fmt(x):
        return f"{x:10.4g}" if x is not None and np.isfinite(x) else f"{'nan':>10}"

    fl = h["floor"]
    lines = [f"{h['preset'] or 'run'}: {h['counts']['compared']} samples per set; floor "
             f"(training vs held-out): spectrum {fl['spectrum']:.4g}, histogram_w1 "
             f"{fl['histogram_w1']:.4g}",
             f"  {'flow':<16} {'metric':<18} {'first':>10} {'middle':>10} {'last':>10} "
             f"{'last/first':>10} {'last/floor':>10}"]
    for flow, m in h["flows"].items():
        t = np.asarray(m["time"])
        idx = [0, (t.size - 1) // 2, t.size - 1]
        times = ", ".join(f"{t[i]:g}" for i in idx)
        for key, floor_key in (("spectrum_distance", "spectrum"),
                               ("histogram_w1", "histogram_w1")):
            y = np.asarray(m[key], dtype=float)
            first, mid, last = (y[i] for i in idx)
            ratio = last / first if first > 0 else np.nan
            rf = last / fl[floor_key] if fl[floor_key] > 0 else np.nan
            lines.append(f"  {flow:<16} {key:<18} {fmt(first)} {fmt(mid)} {fmt(last)} "
                         f"{fmt(ratio)} {fmt(rf)}")
        note = " (partial file: still being written)" if m.get("partial") else ""
        bad = int(np.sum(~np.isfinite(np.asarray(m["spectrum_distance"], dtype=float))))
        if bad:
            note += f"; {bad} frame(s) with non-finite values (NaN)"
        lines.append(f"  {'':<16} times {times}{note}")
    return "\n".join(lines)


def json_safe(obj):
    """`obj` with NaN / infinite floats as None (strict JSON)."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def _write_json(obj, path):
    if path == "-":  # the real stdout: the command's other output goes to stderr then
        sys.__stdout__.write(json.dumps(obj, indent=1) + "\n")
        sys.__stdout__.flush()
        return
    with io.atomic_output(path) as tmp, open(tmp, "w") as f:
        f.write(json.dumps(obj, indent=1) + "\n")
    print(f"wrote {path}")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("metrics", help="generated samples and the data floor of a run")
    s.add_argument("run", help="run directory with data.h5 and score.h5")
    s.add_argument("--json", metavar="OUT", help="also write the numbers to this JSON file")
    s = sub.add_parser("horizon", help="every recorded frame of the flows against the held-out "
                                       "data, and the floor; writes RUN/long_horizon.h5")
    s.add_argument("run", help="run directory with data.h5, score.h5 and frames/<flow>.h5")
    s.add_argument("--flows", nargs="+", metavar="FLOW",
                   help="frames files to read (default: every RUN/frames/<flow>.h5)")
    s.add_argument("--json", metavar="OUT", help="also write the numbers as JSON ('-': stdout)")
    args = p.parse_args(argv)
    if args.command == "horizon":
        with contextlib.redirect_stdout(sys.stderr if args.json == "-" else sys.stdout):
            run = TuringRun(args.run)
            h = horizon_metrics(run, args.flows)
            path = os.path.join(run.path, "long_horizon.h5")
            write_horizon(h, path)
            print(horizon_table(h))
            print(f"wrote {path}")
            if args.json:
                _write_json(json_safe(h), args.json)
        return 0
    m = run_metrics(TuringRun(args.run))
    print(table(m))
    if args.json:
        with io.atomic_output(args.json) as tmp, open(tmp, "w") as f:
            f.write(json.dumps(m, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    io.main_wrapper(main)
