"""Readers of eqflow's HDF5 outputs, shared by the plotting scripts (h5py, numpy only).

An eqflow output is a directory holding run.h5 (dataset, score model, summary of all seeds)
and seeds/seed_NNNNNN.h5 (one flow each); postprocess/README.md documents the layout.
`open_output(path)` accepts the directory, its run.h5 or a single seed file and raises
`EqflowError` with a one-line message for anything else; `main_wrapper` turns that into one
line on stderr and exit status 1. Points are stored normalised per axis:
raw = points * scale + mean (`Output.denormalise`).
"""
import argparse
import contextlib
import os
import re
import sys

import h5py
import numpy as np

RUN_SCHEMA = "eqflow.run"
SEED_SCHEMA = "eqflow.seed"
SUPPORTED_SCHEMA_VERSION = 2
_SEED_NAME = re.compile(r"^seed_(\d+)\.h5$")


class EqflowError(Exception):
    """A path or file that is not a (complete) eqflow output; the message is one line."""


class Skip(Exception):
    """Nothing for this script to draw in this output (e.g. no Lyapunov analysis)."""


@contextlib.contextmanager
def atomic_output(path, suffix=""):
    """Yields a temporary name next to `path` (its directory created) to write to; renamed onto
    `path` when the block ends without an error, removed otherwise, so a file under the final
    name is always whole. `suffix` keeps an extension writers look at (".png")."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp.{os.getpid()}{suffix}"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _attr(obj, name, default=None):
    value = obj.attrs.get(name, default)
    if isinstance(value, bytes):
        value = value.decode()
    return value


def open_h5(path, schemas=(RUN_SCHEMA, SEED_SCHEMA)):
    """Opens `path` read-only and checks that eqflow wrote it with one of `schemas`."""
    try:
        f = h5py.File(path, "r")
    except (OSError, IOError) as e:
        reason = "no such file" if not os.path.exists(path) else "not an HDF5 file"
        raise EqflowError(f"{path}: {reason} ({e.__class__.__name__})") from None
    schema = _attr(f, "schema")
    if _attr(f, "software") != "eqflow" or schema not in schemas:
        f.close()
        raise EqflowError(f"{path}: not an eqflow output (root attributes software='eqflow', "
                          f"schema in {list(schemas)} expected)")
    version = _attr(f, "schemaVersion", 0)
    if int(version) > SUPPORTED_SCHEMA_VERSION:
        print(f"warning: {path} has schemaVersion {version}, these scripts know "
              f"{SUPPORTED_SCHEMA_VERSION}", file=sys.stderr)
    return f


def on_grid(grid, time, values):
    """`values` at `time` placed on the sorted `grid` (a superset of `time`), NaN elsewhere."""
    row = np.full(len(grid), np.nan)
    row[np.searchsorted(grid, np.asarray(time) - 1e-9 * np.maximum(1.0, np.abs(time)))] = values
    return row


def read(f, name, default=None):
    """The dataset `name` of an open file as numpy (scalars as Python floats), or `default`."""
    if name not in f:
        return default
    value = f[name][()]
    if isinstance(value, bytes):
        return value.decode()
    if np.ndim(value) == 0:
        return value.item()
    return np.asarray(value)


class Output:
    """One eqflow output: its directory, run.h5 (may be absent) and complete seed files."""

    def __init__(self, path):
        path = os.path.normpath(path)
        self.only_seed = None
        if os.path.isdir(path):
            self.directory = path
            run_path = os.path.join(path, "run.h5")
        elif os.path.isfile(path):
            with open_h5(path) as f:
                schema = _attr(f, "schema")
                seed = _attr(f, "seed")
            if schema == RUN_SCHEMA:
                self.directory = os.path.dirname(path) or "."
                run_path = path
            else:
                self.only_seed = (int(seed), path)
                parent = os.path.dirname(os.path.abspath(path))
                # OUTPUT/seeds/seed_k.h5 belongs to OUTPUT; a seed file elsewhere stands alone.
                if os.path.basename(parent) == "seeds":
                    self.directory = os.path.dirname(parent)
                    run_path = os.path.join(self.directory, "run.h5")
                else:
                    self.directory = parent
                    run_path = os.path.join(parent, "run.h5")
        else:
            raise EqflowError(f"{path}: no such file or directory")
        self.run_path = run_path if os.path.isfile(run_path) else None
        if self.run_path is not None:
            open_h5(self.run_path, (RUN_SCHEMA,)).close()
        self.seed_paths = self._find_seeds()
        if self.run_path is None and not self.seed_paths:
            raise EqflowError(f"{path}: not an eqflow output (no run.h5 and no "
                              f"seeds/seed_NNNNNN.h5)")
        self._mean = self._scale = None

    def _find_seeds(self):
        if self.only_seed is not None:
            return {self.only_seed[0]: self.only_seed[1]}
        seeds_dir = os.path.join(self.directory, "seeds")
        found = {}
        if os.path.isdir(seeds_dir):
            for name in os.listdir(seeds_dir):
                m = _SEED_NAME.match(name)
                if m:
                    found[int(m.group(1))] = os.path.join(seeds_dir, name)
        return dict(sorted(found.items()))

    # --- files -----------------------------------------------------------------------------
    def run(self):
        """run.h5, opened read-only (use as a context manager); EqflowError if absent."""
        if self.run_path is None:
            raise EqflowError(f"{self.directory}: no run.h5 (the run has not finished its "
                              f"score stage, or only a seed file was given)")
        return open_h5(self.run_path, (RUN_SCHEMA,))

    def has_run(self):
        return self.run_path is not None

    def seeds(self):
        """Complete seeds, ascending."""
        return list(self.seed_paths)

    def seed(self, k):
        """seeds/seed_k.h5, opened read-only (use as a context manager)."""
        return open_h5(self.seed_paths[k], (SEED_SCHEMA,))

    def select_seeds(self, wanted=None, limit=None):
        """The complete seeds among `wanted` (all if None), at most `limit` of them."""
        seeds = self.seeds()
        if wanted:
            missing = sorted(set(wanted) - set(seeds))
            if missing:
                raise EqflowError(f"{self.directory}: no complete seed file for seed(s) "
                                  f"{', '.join(map(str, missing))}")
            seeds = [k for k in seeds if k in set(wanted)]
        return seeds if limit is None or limit <= 0 else seeds[:limit]

    # --- metadata and data -----------------------------------------------------------------
    def attrs(self):
        """Root attributes (run.h5, else the first seed file) as a dict of Python values."""
        path = self.run_path or next(iter(self.seed_paths.values()))
        with open_h5(path) as f:
            return {k: _attr(f, k) for k in f.attrs}

    def system(self):
        return self.attrs().get("system", "?")

    def dim(self):
        return int(self.attrs().get("dim", 0))

    def label(self):
        """A short title: the system and the output directory's name."""
        return f"{self.system()} ({os.path.basename(os.path.abspath(self.directory))})"

    def normalisation(self):
        """(mean, scale) of the dataset; zeros and ones when run.h5 is absent."""
        if self._mean is None:
            d = self.dim()
            self._mean, self._scale = np.zeros(d), np.ones(d)
            if self.run_path is not None:
                with self.run() as f:
                    if "data/mean" in f:
                        self._mean = np.asarray(f["data/mean"][()], dtype=float)
                        self._scale = np.asarray(f["data/scale"][()], dtype=float)
        return self._mean, self._scale

    def is_normalised(self):
        """Whether raw coordinates differ from the stored ones (known only with run.h5)."""
        mean, scale = self.normalisation()
        return self.run_path is not None and not (np.all(mean == 0) and np.all(scale == 1))

    def coordinates_note(self):
        """'' when positions can be de-normalised, else a note for figure titles."""
        return "" if self.run_path is not None else " [normalised coordinates: no run.h5]"

    def denormalise(self, points):
        """Raw coordinates of normalised points (..., d): points * scale + mean."""
        mean, scale = self.normalisation()
        return np.asarray(points) * scale + mean

    def data_points(self, max_points=None, rng_seed=0):
        """Raw data points (N, d) from run.h5 (a random subset of at most max_points)."""
        with self.run() as f:
            x = np.asarray(f["data/points"][()], dtype=float)
        if max_points is not None and len(x) > max_points:
            x = x[np.random.default_rng(rng_seed).choice(len(x), max_points, replace=False)]
        return self.denormalise(x)


def open_output(path):
    return Output(path)


# --- command line ----------------------------------------------------------------------------
def parser(description, seeds=False, max_seeds=4):
    """The common command line: OUTPUT [-o OUT_DIR] (+ --seed K..., --max-seeds N)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("output", help="an eqflow output directory, its run.h5, or a seed file "
                               "seeds/seed_NNNNNN.h5")
    p.add_argument("-o", "--out-dir", default=None,
                   help="where the PNGs go (default: OUTPUT_DIR/figures)")
    p.add_argument("--dpi", type=int, default=150, help="resolution of the PNGs (default 150)")
    if seeds:
        p.add_argument("--seed", type=int, action="append", default=None, metavar="K",
                       help="draw seed K (repeatable; default: the first --max-seeds seeds)")
        p.add_argument("--max-seeds", type=int, default=max_seeds, metavar="N",
                       help=f"at most N seeds when --seed is not given (default {max_seeds}, "
                            f"0 = all)")
    return p


def draw_seeds(args, output, draw_seed, max_points, missing):
    """Draws the seeds the command line selects: draw_seed(output, k, data, args, directory)
    per seed with up to max_points data points (None without run.h5); returns 0. Skip when
    there is no complete seed or no seed held what draw_seed needs (it returned None), with
    `missing` naming what that is."""
    seeds = output.select_seeds(args.seed, args.max_seeds)
    if not seeds:
        raise Skip(f"{args.output}: no complete seed file yet")
    data = output.data_points(max_points=max_points) if output.has_run() else None
    directory = out_dir(args, output)
    written = [draw_seed(output, k, data, args, directory) for k in seeds]
    if not any(written):
        raise Skip(f"{args.output}: the seed files hold no {missing}")
    return 0


def out_dir(args, output):
    d = args.out_dir or os.path.join(output.directory, "figures")
    os.makedirs(d, exist_ok=True)
    return d


def save(fig, directory, name, dpi):
    """Writes fig to directory/name, closes it, prints the path and returns it."""
    import matplotlib.pyplot as plt
    path = os.path.join(directory, name)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    print(f"wrote {path}")
    return path


def main_wrapper(main):
    """Runs main(argv) -> exit status; eqflow/HDF5 problems become one line on stderr, exit 1;
    Skip (nothing to draw) is reported on stdout with exit 0."""
    prog = os.path.basename(sys.argv[0])
    try:
        status = main(sys.argv[1:])
    except Skip as e:
        print(f"{prog}: {e}; nothing to draw")
        status = 0
    except EqflowError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        status = 1
    except (OSError, KeyError) as e:
        print(f"{prog}: error: {e.__class__.__name__}: {e}", file=sys.stderr)
        status = 1
    sys.exit(status or 0)
