#!/usr/bin/python3
"""Figures of Turing-pattern (Gray-Scott) score-model runs: data next to generated samples,
and the training curves.

  plot_turing.py panel RUN [RUN...] [-o FIG.png] [--channel v|u] [--columns N]
  plot_turing.py losses RUN [RUN...] [--torch JSON]... [-o FIG.png]

RUN is a run directory with data.h5 and score.h5 (turing_metrics.py documents both).

panel: per run two rows, titled with the preset: top, the first N held-out data samples
(the last `validation_samples` of data.h5 /fields); bottom, the first N generated samples
(score.h5 /samples). One channel (default v, which carries the pattern; u is nearly its
mirror image), drawn with a two-colour map (`TWO_COLOUR`, dark blue -> light yellow, the
flat two-tone look of Gray-Scott pattern figures) on one colour scale per run: the data
rows' range, so a generated sample outside it saturates. A run without score.h5 gets only
its data row. Default output: FIRST_RUN/figures/turing_panel.png.

losses: the score model's train and validation loss per epoch (score.h5 /training
train_loss, validation_loss; log y), one colour per run, and with --torch the per-epoch
train_loss / val_loss of `bench/unet_torch.py train` JSON files overlaid (dashed); right
panel: the learning rate after each epoch. Default output: FIRST_RUN/figures/turing_losses.png.

Prints `wrote PATH`; errors: one line on stderr, exit 1 (bad command line: exit 2).
"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402

import eqflow_io as io  # noqa: E402
import turing_metrics as tm  # noqa: E402

TWO_COLOUR = LinearSegmentedColormap.from_list("eqflow_turing", ["#0b1f3a", "#f4e3a1"])
CHANNELS = {"u": 0, "v": 1}


def _save(fig, path, dpi):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    print(f"wrote {path}")


def _default_out(runs, name):
    return os.path.join(runs[0].path, "figures", name)


def panel(args):
    runs = [tm.TuringRun(r) for r in args.runs]
    channel = CHANNELS[args.channel]
    cols = args.columns
    rows = []  # (run, data (n, H, W), generated (m, H, W) or None)
    for run in runs:
        if run.shape[1] <= channel:
            raise io.EqflowError(f"{run.data_path}: /fields has {run.shape[1]} channel(s), no "
                                 f"channel {args.channel}")
        if run.has_score():
            data = run.held_out(min(cols, run.validation_samples()))[:, channel]
            fake = run.samples(cols)[:, channel]
        else:
            data, fake = run.fields(max(0, run.shape[0] - cols), run.shape[0])[:, channel], None
        rows.append((run, data, fake))
    nrows = sum(1 if fake is None else 2 for _, _, fake in rows)
    h, w = runs[0].shape[2:]
    size = 1.6
    fig, axes = plt.subplots(nrows, cols, squeeze=False,
                             figsize=(cols * size + 0.9, nrows * size * h / w + 0.5 * len(runs)),
                             constrained_layout=True)
    r = 0
    for run, data, fake in rows:
        finite = data[np.isfinite(data)]
        vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (-1, 1)
        if vmax <= vmin:
            vmin, vmax = vmin - 1e-3, vmax + 1e-3
        for label, images in (("data", data), ("generated", fake)):
            if images is None:
                continue
            for c in range(cols):
                ax = axes[r, c]
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(False)
                if c < len(images):
                    im = ax.imshow(images[c], cmap=TWO_COLOUR, vmin=vmin, vmax=vmax,
                                   interpolation="nearest")
            held = "held-out " if run.has_score() else ""
            axes[r, 0].set_ylabel(f"{run.preset}\n{held}{label}" if label == "data"
                                  else f"{run.preset}\n{label}", fontsize="small")
            if label == "data":
                axes[r, 0].set_title(f"{run.preset}  (F {run.attrs.get('F', '?')}, k "
                                     f"{run.attrs.get('k', '?')}, {args.channel})",
                                     loc="left", fontsize="medium")
            r += 1
        fig.colorbar(im, ax=axes[r - (1 if fake is None else 2):r, -1], shrink=0.8,
                     label=f"{args.channel} (2x - 1)")
    _save(fig, args.output or _default_out(runs, "turing_panel.png"), args.dpi)
    return 0


def _torch_history(path):
    try:
        with open(path) as f:
            h = json.load(f)
    except (OSError, ValueError) as e:
        raise io.EqflowError(f"{path}: not a readable JSON file ({e.__class__.__name__})")
    if "train_loss" not in h or "val_loss" not in h:
        raise io.EqflowError(f"{path}: no train_loss / val_loss (expected the JSON of "
                             f"bench/unet_torch.py train)")
    return h


def losses(args):
    runs = [tm.TuringRun(r) for r in args.runs]
    fig, (ax, ax_lr) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True,
                                    gridspec_kw={"width_ratios": [2, 1]})
    positive = []
    for i, run in enumerate(runs):
        history, attrs = run.training_history()
        colour = f"C{i}"
        for key, style, name in (("train_loss", "-", "train"),
                                 ("validation_loss", ":", "validation")):
            if key in history and history[key].size:
                y = history[key]
                ax.plot(np.arange(1, y.size + 1), y, style, color=colour,
                        label=f"{run.preset} eqflow {name}")
                positive.append(y)
        if "learning_rate" in history:
            lr = history["learning_rate"]
            ax_lr.plot(np.arange(1, lr.size + 1), lr, color=colour, label=f"{run.preset} eqflow")
    for j, path in enumerate(args.torch or []):
        h = _torch_history(path)
        colour = f"C{len(runs) + j}"
        name = os.path.basename(path)
        for key, style, label in (("train_loss", "--", "train"), ("val_loss", "-.", "val")):
            y = np.asarray(h[key], dtype=float)
            x = np.asarray(h.get("epoch", np.arange(1, y.size + 1)), dtype=float)
            ax.plot(x, y, style, color=colour, label=f"PyTorch {name} {label}")
            positive.append(y)
        if "lr_after_epoch" in h:
            lr = np.asarray(h["lr_after_epoch"], dtype=float)
            ax_lr.plot(np.arange(1, lr.size + 1), lr, "--", color=colour,
                       label=f"PyTorch {name}")
    values = np.concatenate(positive) if positive else np.array([])
    values = values[np.isfinite(values)]
    if values.size and np.all(values > 0):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("v-prediction loss (MSE)")
    ax.set_title("score model: train (solid/dashed) and validation (dotted/dash-dot) loss",
                 fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    if ax.lines:
        ax.legend(fontsize="small")
    ax_lr.set_xlabel("epoch")
    ax_lr.set_ylabel("learning rate after the epoch")
    ax_lr.grid(True, alpha=0.3)
    if ax_lr.lines:
        ax_lr.legend(fontsize="small")
    _save(fig, args.output or _default_out(runs, "turing_losses.png"), args.dpi)
    return 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("panel", help="held-out data and generated samples per run")
    s.add_argument("runs", nargs="+", metavar="RUN")
    s.add_argument("--channel", choices=sorted(CHANNELS), default="v",
                   help="the channel drawn (default v)")
    s.add_argument("--columns", type=int, default=6, help="samples per row (default 6)")
    s.set_defaults(draw=panel)
    s = sub.add_parser("losses", help="train and validation loss per epoch")
    s.add_argument("runs", nargs="+", metavar="RUN")
    s.add_argument("--torch", action="append", metavar="JSON",
                   help="a bench/unet_torch.py train JSON to overlay (repeatable)")
    s.set_defaults(draw=losses)
    for s in sub.choices.values():
        s.add_argument("-o", "--output", metavar="FIG.png", help="the PNG to write")
        s.add_argument("--dpi", type=int, default=150, help="resolution (default 150)")
    args = p.parse_args(argv)
    if getattr(args, "columns", 1) < 1:
        p.error("--columns must be >= 1")
    return args.draw(args)


if __name__ == "__main__":
    io.main_wrapper(main)
