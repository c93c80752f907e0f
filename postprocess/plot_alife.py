#!/usr/bin/python3
"""Figures of artificial-life runs: dataset samples, frames with the creatures' tracks, the
order parameters over time, and the behaviour table.

  plot_alife.py samples RUN [--count 16] [--columns 8] [-o PNG]
  plot_alife.py tracks RUN [--flow NAME] [--run K] [--panels 4] [--trail N] [-o PNG]
  plot_alife.py order RUN [-o PNG]
  plot_alife.py table RUN [--json OUT|-] [--markdown OUT] [-o PNG]

(-o, --output and --out are the same option; --dpi N, default 150.)

RUN is an artificial-life run directory (alife_tracking.py documents it): data.h5
(`/fields` (N, 3, H, W) in [-1, 1], attributes icon, icon_size, copies, ...), frames/<name>.h5
(or .h5.partial), and behaviour.h5 written by `alife_tracking.py behaviour RUN`. tracks, order
and table read behaviour.h5; without it they compute the numbers in memory with the default
settings (a note says so; nothing but the figure is written).

samples: the first --count images of data.h5 as RGB = (x + 1) / 2, titled with the icon.
Default output: RUN/figures/alife_samples.png.

tracks: --panels frames (evenly spaced over the recorded ones) of one run of one frames file
(--flow, default training_free if there, else the first file; --run, default 0) as RGB, with
every track alive at that frame drawn as its trail over the last --trail frames (default: all
so far) and a dot with its id. Trails are drawn from the unwrapped positions and copied by
whole canvas periods, clipped to the canvas, so a creature leaving one edge enters at the
other and no line crosses the canvas. Default output: RUN/figures/alife_tracks_<flow>_run_<k>.png.

order: count, polarisation and mean nearest-neighbour distance over time (and mean speed):
every run of the random-kernel sweep as a grey line with their median (black; over the runs
recorded at each frame index), the runs of the other flows (training_free, trained, ...) as
thin coloured lines with their median thick. Default output: RUN/figures/alife_order.png.

table: the behaviour table (fraction of runs per label for each flow group, the random kernels'
majority labels, and per kernel its runs' labels) as stacked bars, printed as markdown;
--markdown OUT writes it, --json OUT writes the table dict ('-': stdout). Default output:
RUN/figures/alife_table.png.

Movies of a frames file: `plot_turing.py animate RUN/frames/<name>.h5 --channel u|v` (one
channel, 0 = red or 1 = green; no RGB mode yet).

Prints `wrote PATH`; errors: one line on stderr, exit 1 (bad command line: exit 2).
"""
import argparse
import contextlib
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import alife_tracking as at  # noqa: E402
import eqflow_io as io  # noqa: E402
import turing_metrics as tm  # noqa: E402

LABEL_COLOURS = {"flocking": "#1f77b4", "attracting": "#d62728", "repelling": "#2ca02c",
                 "none": "#b0b0b0"}


def _save(fig, path, dpi):
    """PNG under a temporary name, then renamed (a file with the final name is whole)."""
    try:
        with io.atomic_output(path, ".png") as tmp:
            fig.savefig(tmp, dpi=dpi)
    finally:
        plt.close(fig)
    print(f"wrote {path}")


def _write_text(text, path):
    with io.atomic_output(path) as tmp, open(tmp, "w") as f:
        f.write(text)
    print(f"wrote {path}")


def _rgb(frame):
    """(3, H, W) in [-1, 1] -> (H, W, 3) in [0, 1] (NaN -> white)."""
    x = np.nan_to_num(np.asarray(frame, dtype=np.float32), nan=1.0)
    return np.clip((np.moveaxis(x[:3], 0, -1) + 1) / 2, 0, 1)


def _bare(ax):
    ax.set_xticks([])
    ax.set_yticks([])


def load(run_dir):
    """behaviour.h5 of RUN as read_behaviour returns it, or the same computed in memory."""
    path = os.path.join(run_dir, "behaviour.h5")
    if os.path.isfile(path):
        return at.read_behaviour(path)
    print(f"note: {path} is missing; computing the numbers now with the default settings (not "
          f"written; `alife_tracking.py behaviour {run_dir}` writes it)")
    results = at.analyse_run(run_dir)
    params = dict(at.DETECTION, **at.LINKING, **at.MEASURES, **at.RULE)
    return at.behaviour_data(results, params, at.data_attributes(run_dir))


# --- samples ----------------------------------------------------------------------------------
def samples(args):
    run_dir = at.run_directory(args.run)
    path = os.path.join(run_dir, "data.h5")
    with tm.open_h5_read(path) as f:
        if "fields" not in f or f["fields"].ndim != 4 or f["fields"].shape[1] < 3:
            raise io.EqflowError(f"{path}: no /fields dataset of shape (N, 3, H, W)")
        total = f["fields"].shape[0]
        images = np.asarray(f["fields"][:min(args.count, total)], dtype=np.float32)
    attrs = at.data_attributes(run_dir)
    if len(images) == 0:
        raise io.EqflowError(f"{path}: /fields holds no image")
    cols = min(args.columns, len(images))
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.6 * rows + 0.5),
                             squeeze=False, constrained_layout=True)
    for i, ax in enumerate(axes.ravel()):
        _bare(ax)
        if i < len(images):
            ax.imshow(_rgb(images[i]), interpolation="nearest")
            ax.set_title(str(i), fontsize="x-small")
        else:
            ax.axis("off")
    extra = ", ".join(f"{k} {attrs[k]}" for k in ("icon_size", "copies") if k in attrs)
    fig.suptitle(f"dataset samples: icon {attrs.get('icon', '?')}"
                 + (f" ({extra})" if extra else "")
                 + f", {len(images)} of {total}, {images.shape[-2]}x{images.shape[-1]}",
                 fontsize="medium")
    _save(fig, args.output or os.path.join(run_dir, "figures", "alife_samples.png"), args.dpi)
    return 0


# --- tracks over frames -----------------------------------------------------------------------
def draw_trail(ax, unwrapped, last_wrapped, shape, **kw):
    """A trail (n, 2) of unwrapped (row, col) positions drawn on a periodic canvas: shifted so
    its last point is `last_wrapped`, then copied by every whole period (H, W) that brings part
    of it onto the canvas; the axes clip the rest (no line across the canvas)."""
    h, w = shape
    u = np.asarray(unwrapped, dtype=np.float64)
    u = u - u[-1] + np.asarray(last_wrapped, dtype=np.float64)
    lines = []
    for i in range(int(np.floor(u[:, 0].min() / h)) - 1, int(np.floor(u[:, 0].max() / h)) + 1):
        for j in range(int(np.floor(u[:, 1].min() / w)) - 1,
                       int(np.floor(u[:, 1].max() / w)) + 1):
            r, c = u[:, 0] - i * h, u[:, 1] - j * w
            if r.max() < -1 or r.min() > h or c.max() < -1 or c.min() > w:
                continue
            lines += ax.plot(c, r, clip_on=True, **kw)
    return lines


def tracks(args):
    run_dir = at.run_directory(args.run)
    available = tm.frame_files(run_dir)
    if not available:
        raise io.EqflowError(f"{os.path.join(run_dir, 'frames')}: no frames file "
                             f"(<name>.h5 or <name>.h5.partial)")
    flow = args.flow or ("training_free" if "training_free" in available
                         else at.ordered_names(available)[0])
    if flow not in available:
        raise io.EqflowError(f"{run_dir}/frames: no {flow}.h5 (found: {', '.join(available)})")
    path = os.path.join(run_dir, "behaviour.h5")
    entry, max_miss = None, at.LINKING["max_miss"]
    if os.path.isfile(path):
        stored = at.read_behaviour(path)
        entry = stored["files"].get(flow)
        max_miss = int(stored["attrs"].get("max_miss", max_miss))
        if entry is None:
            print(f"note: {path} has no {flow}; computing its tracks now (not written)")
    else:
        print(f"note: {path} is missing; computing the tracks of {flow} now with the default "
              f"settings (not written)")
    if entry is None:
        res = at.analyse_file(available[flow])
        entry = at.file_entry(res)
    with tm.Frames(available[flow]) as fr:
        t_count, n, c, h, w = fr.shape
        if not 0 <= args.run_index < n:
            raise io.EqflowError(f"{fr.path}: --run {args.run_index}, the file holds {n} runs")
        first = int(entry["attrs"].get("first_frame", 0))  # frames before --start: not analysed
        recorded = min(t_count - first, len(entry["time"]))
        if recorded <= 0:
            raise io.EqflowError(f"{fr.path}: no frame recorded yet")
        runs = list(np.asarray(entry["run_index"]))
        if args.run_index not in runs:
            raise io.EqflowError(f"{path}: {flow} holds no numbers of run {args.run_index}")
        row = runs.index(args.run_index)
        shown = np.unique(np.linspace(0, recorded - 1, min(args.panels, recorded))
                          .round().astype(int))
        images = [np.asarray(fr.frames[first + t, args.run_index], dtype=np.float32)
                  for t in shown]
        times = fr.times[first:]
        partial = fr.partial
    track_list = at.tracks_from_table(entry["tracks"], row, (h, w))
    cols = len(shown)
    fig, axes = plt.subplots(1, cols, figsize=(3.3 * cols, 3.7), squeeze=False,
                             constrained_layout=True)
    for ax, t, img in zip(axes[0], shown, images):
        ax.imshow(_rgb(img), interpolation="nearest")
        alive = 0
        for k, tr in enumerate(track_list):
            sel = tr.frames <= t
            if not sel.any() or tr.frames[sel][-1] < t - max_miss or tr.frames[0] > t:
                continue
            alive += 1
            oldest = t - args.trail if args.trail else -1
            keep = sel & (tr.frames > oldest)
            colour = f"C{tr.id % 10}"
            draw_trail(ax, tr.unwrapped[keep], tr.positions[keep][-1], (h, w), color=colour,
                       linewidth=1.2)
            last = tr.positions[keep][-1]
            ax.plot(last[1], last[0], "o", color=colour, markersize=3.5,
                    markeredgecolor="black", markeredgewidth=0.5)
            ax.text(last[1] + 2, last[0] - 2, str(tr.id), fontsize=5, color=colour,
                    clip_on=True)
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        _bare(ax)
        ax.set_title(f"t = {times[t]:.4g} (frame {first + t}); {alive} tracked",
                     fontsize="small")
    label = entry["label"][row] if row < len(entry["label"]) else "?"
    scal = {k: float(entry[k][row]) for k in ("mean_speed", "polarisation_late", "nn_change")
            if k in entry}
    text = ", ".join(f"{k} {v:.3g}" for k, v in scal.items())
    seed = entry.get("attrs", {}).get("frames_kernel_index")
    fig.suptitle(f"{flow}{' (partial)' if partial else ''}"
                 f"{f' (kernel_index {seed})' if seed not in (None, '') else ''}, run "
                 f"{args.run_index}: {label}; {len(track_list)} tracks; {text}",
                 fontsize="medium")
    default = os.path.join(run_dir, "figures", f"alife_tracks_{flow}_run_{args.run_index}.png")
    _save(fig, args.output or default, args.dpi)
    return 0


# --- order parameters over time ---------------------------------------------------------------
ORDER_PANELS = (("count", "creatures"), ("polarisation", "polarisation |<v/|v|>|"),
                ("nn_distance", "mean NN distance (px)"), ("speed", "mean speed (px / time)"))


def _stack(series_list):
    """Rows of unequal length -> (R, T_max) padded with NaN."""
    longest = max((len(s) for s in series_list), default=0)
    out = np.full((len(series_list), longest), np.nan)
    for i, s in enumerate(series_list):
        out[i, :len(s)] = s
    return out


def order(args):
    run_dir = at.run_directory(args.run)
    data = load(run_dir)
    files = data["files"]
    if not files:
        raise io.EqflowError(f"{run_dir}: behaviour.h5 holds no frames file")
    groups = {}
    for name in at.ordered_names(files):
        groups.setdefault(at.flow_group(name), []).append(name)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    for ax, (key, ylabel) in zip(axes.ravel(), ORDER_PANELS):
        colour_index = 0
        for group, names in groups.items():
            rows, times = [], []
            for name in names:
                e = files[name]
                for r in np.asarray(e[key], dtype=float):
                    rows.append(r)
                    times.append(np.asarray(e["time"], dtype=float))
            if not rows:
                continue
            grid = max(times, key=len)
            values = _stack(rows)
            sweep = group == "random kernels"
            colour = "0.65" if sweep else f"C{colour_index}"
            for t, r in zip(times, rows):
                ax.plot(t, r, color=colour, linewidth=0.6, alpha=0.7 if sweep else 0.5)
            with np.errstate(all="ignore"), _quiet():
                median = np.nanmedian(values, axis=0)
            ax.plot(grid, median, color="black" if sweep else colour, linewidth=2,
                    label=f"{group}: median of {len(rows)} runs"
                          + (f" ({len(names)} kernels)" if sweep else ""))
            if not sweep:
                colour_index += 1
        ax.set_xlabel("simulation time")
        ax.set_ylabel(ylabel)
        if key == "polarisation":
            ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="x-small")
    icon = data["attrs"].get("icon") or "?"
    fig.suptitle(f"order parameters over time (icon {icon}); grey: each run of the random-kernel "
                 f"sweep", fontsize="medium")
    _save(fig, args.output or os.path.join(run_dir, "figures", "alife_order.png"), args.dpi)
    return 0


@contextlib.contextmanager
def _quiet():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        yield


# --- behaviour table --------------------------------------------------------------------------
def _stacked(ax, names, fractions, counts=None):
    y = np.arange(len(names))[::-1]
    left = np.zeros(len(names))
    for j, lab in enumerate(at.LABELS):
        frac = np.array([f[j] for f in fractions], dtype=float)
        ax.barh(y, frac, left=left, color=LABEL_COLOURS[lab], edgecolor="white",
                label=lab)
        for yi, l0, fr_, k in zip(y, left, frac, range(len(names))):
            if fr_ >= 0.06:
                txt = f"{fr_:.2f}" if counts is None else str(counts[k][j])
                ax.text(l0 + fr_ / 2, yi, txt, ha="center", va="center", fontsize="x-small")
        left += np.nan_to_num(frac)
    ax.set_yticks(y)
    ax.set_yticklabels(names, fontsize="small")
    ax.set_xlim(0, 1)


def table(args):
    run_dir = at.run_directory(args.run)
    data = load(run_dir)
    tab = data["table"]
    text = at.table_text(tab)
    print(text)
    names = [r["group"] + f" ({r['runs']} runs)" for r in tab["groups"]]
    fractions = [r["fraction"] for r in tab["groups"]]
    if tab.get("kernel_majority"):
        m = tab["kernel_majority"]
        names.append(f"random kernels, majority per kernel ({m['kernels']})")
        fractions.append(m["fraction"])
    kernels = tab["kernels"]
    heights = [max(1.2, 0.35 * len(names) + 0.6)] + ([max(1.2, 0.22 * len(kernels) + 0.6)]
                                                       if kernels else [])
    fig, axes = plt.subplots(len(heights), 1, figsize=(8, sum(heights) + 0.8), squeeze=False,
                             gridspec_kw={"height_ratios": heights}, constrained_layout=True)
    _stacked(axes[0, 0], names, fractions)
    axes[0, 0].set_xlabel("fraction")
    axes[0, 0].legend(ncol=4, fontsize="x-small", loc="lower center",
                      bbox_to_anchor=(0.5, 1.0), frameon=False)
    if kernels:
        ax = axes[1, 0]
        knames = [k["name"] + (f" (seed {k['kernel_index']})" if k["kernel_index"] is not None
                               else "") for k in kernels]
        fr = [[c / k["runs"] if k["runs"] else 0 for c in k["counts"]] for k in kernels]
        _stacked(ax, knames, fr, counts=[k["counts"] for k in kernels])
        ax.set_xlabel("fraction of the kernel's runs (numbers: runs)")
        for yi, k in zip(np.arange(len(kernels))[::-1], kernels):
            ax.text(1.01, yi, k["majority"], va="center", fontsize="x-small",
                    transform=ax.get_yaxis_transform())
    fig.suptitle(f"behaviour table (icon {tab.get('icon') or '?'})", fontsize="medium")
    _save(fig, args.output or os.path.join(run_dir, "figures", "alife_table.png"), args.dpi)
    if args.markdown:
        _write_text(text + "\n", args.markdown)
    if args.json:
        tm._write_json(tm.json_safe(tab), args.json)
    return 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("samples", help="a grid of data.h5 images")
    s.add_argument("run", metavar="RUN")
    s.add_argument("--count", type=int, default=16, help="images drawn (default 16)")
    s.add_argument("--columns", type=int, default=8, help="images per row (default 8)")
    s.set_defaults(draw=samples)
    s = sub.add_parser("tracks", help="frames of one run with the tracks overlaid")
    s.add_argument("run", metavar="RUN")
    s.add_argument("--flow", metavar="NAME", help="frames file (default training_free, else the "
                                                  "first)")
    s.add_argument("--run", dest="run_index", type=int, default=0, metavar="K",
                   help="the run (sample) of that file (default 0)")
    s.add_argument("--panels", type=int, default=4, help="frames drawn (default 4)")
    s.add_argument("--trail", type=int, default=0,
                   help="trail length in frames (default 0: the whole track so far)")
    s.set_defaults(draw=tracks)
    s = sub.add_parser("order", help="count, polarisation, NN distance, speed over time")
    s.add_argument("run", metavar="RUN")
    s.set_defaults(draw=order)
    s = sub.add_parser("table", help="the behaviour table")
    s.add_argument("run", metavar="RUN")
    s.add_argument("--json", metavar="OUT", help="also write the table as JSON ('-': stdout)")
    s.add_argument("--markdown", metavar="OUT", help="also write the markdown table")
    s.set_defaults(draw=table)
    for s in sub.choices.values():
        s.add_argument("-o", "--output", "--out", metavar="OUT", help="the PNG to write")
        s.add_argument("--dpi", type=int, default=150, help="resolution (default %(default)s)")
    args = p.parse_args(argv)
    if min(getattr(args, k, 1) for k in ("count", "columns", "panels")) < 1:
        p.error("--count, --columns and --panels must be >= 1")
    if getattr(args, "trail", 0) < 0:
        p.error("--trail must be >= 0")
    if getattr(args, "json", None) == "-":
        with contextlib.redirect_stdout(sys.stderr):
            return args.draw(args)
    return args.draw(args)


if __name__ == "__main__":
    io.main_wrapper(main)
