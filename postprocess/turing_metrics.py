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
"""
import argparse
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


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("metrics", help="generated samples and the data floor of a run")
    s.add_argument("run", help="run directory with data.h5 and score.h5")
    s.add_argument("--json", metavar="OUT", help="also write the numbers to this JSON file")
    args = p.parse_args(argv)
    m = run_metrics(TuringRun(args.run))
    print(table(m))
    if args.json:
        directory = os.path.dirname(os.path.abspath(args.json))
        os.makedirs(directory, exist_ok=True)
        text = json.dumps(m, indent=1) + "\n"
        tmp = f"{args.json}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.json)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    io.main_wrapper(main)
