#!/usr/bin/python3
"""Figures of Turing-pattern (Gray-Scott) score-model runs: data next to generated samples,
the training curves, and the flows (similarity to Gray-Scott, animations, long horizons).

  plot_turing.py panel RUN [RUN...] [-o FIG.png] [--channel v|u] [--columns N]
  plot_turing.py losses RUN [RUN...] [--torch JSON]... [-o FIG.png]
  plot_turing.py flow-panel RUN [--flow training_free|trained] [--displacement] [--out PNG]
  plot_turing.py similarity RUN [RUN...] [--json OUT|-] [--out PNG]
  plot_turing.py cross-preset RUN [RUN...] [--flow training_free|trained] [--all] [--json OUT|-]
                 [--out PNG]
  plot_turing.py animate FRAMES_H5 [--sample 0] [--every 1] [--fps 20] [--ema A]
                 [--out anim.gif|anim.mp4]
  plot_turing.py horizon RUN [--recompute] [--out PNG]

(-o, --output and --out are the same option.)

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

flow-panel: from RUN/similarity.h5 /panel: row 1 the M start fields, row 2 the same evolved
by the flow (denoised estimate at the end of the SDE), row 3 evolved by Gray-Scott; one colour
scale per column (--displacement: rows 2-3 as the change from the start). Default output:
RUN/figures/turing_flow_panel_<flow>.png.

similarity: per run (labelled by its preset) the own-preset |cosine| of training_free,
trained, random_kernel, reweighted as bars (mean +- std over starts and seeds / draws), the
reference's numbers as black diamonds; prints a markdown table. Default output:
FIRST_RUN/figures/turing_similarity.png.

cross-preset: rows = runs (the flow of preset A's data), columns = Gray-Scott presets B (the
runs' presets, or every preset in the files with --all), mean similarity; heatmap with the
numbers, the diagonal boxed (red where it does not win its row); prints a markdown table and
flags those rows. Default output: FIRST_RUN/figures/turing_cross_preset_<flow>.png.

animate: one sample's frames (v) from RUN/frames/<flow>.h5 (or .h5.partial, possibly still
growing), GIF (Pillow) or MP4 (ffmpeg) by the extension of --out. Default output:
RUN/figures/<flow>_sample_<k>.gif.

horizon: RUN/long_horizon.h5 (turing_metrics.py horizon; computed in memory, not written, when
missing): spectrum distance and v-histogram W1 of the frames against the held-out data over
time, with the floor. Default output: RUN/figures/turing_horizon.png.

Prints `wrote PATH`; errors: one line on stderr, exit 1 (bad command line: exit 2).
"""
import argparse
import contextlib
import json
import os
import sys

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


# --- flows: start / flow / Gray-Scott panel ---------------------------------------------------
FLOW_NAMES = {"training_free": "training-free flow", "trained": "trained flow",
              "random_kernel": "random kernel", "reweighted": "random reweighted"}


def _bare(ax):
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _range(*arrays):
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    values = values[np.isfinite(values)]
    if not values.size:
        return -1.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    return (lo - 1e-3, hi + 1e-3) if hi <= lo else (lo, hi)


def flow_panel(args):
    sim = tm.SimilarityFile(args.run)
    channel = CHANNELS[args.channel]
    initial, starts = sim.panel("initial")
    evolved, _ = sim.panel(args.flow)
    gray, _ = sim.panel("gray_scott")
    if not initial.shape == evolved.shape == gray.shape:
        raise io.EqflowError(f"{sim.path}: /panel/initial {initial.shape}, /panel/{args.flow} "
                             f"{evolved.shape}, /panel/gray_scott {gray.shape} differ")
    if initial.shape[1] <= channel:
        raise io.EqflowError(f"{sim.path}: the panels have {initial.shape[1]} channel(s), no "
                             f"channel {args.channel}")
    m = initial.shape[0] if args.columns is None else min(args.columns, initial.shape[0])
    a = sim.attrs
    gs_steps = a.get("gray_scott_steps", "?")
    flow_label = (f"{FLOW_NAMES.get(args.flow, args.flow)}\n"
                  f"({a.get('steps', '?')} steps, dt {a.get('dt', '?')})")
    rows = [("initial", initial), (flow_label, evolved),
            (f"Gray-Scott\n({gs_steps} steps)", gray)]
    h, w = initial.shape[2:]
    size = 1.7
    fig, axes = plt.subplots(3, m, squeeze=False, constrained_layout=True,
                             figsize=(m * size + 1.4, 3 * size * h / w + 0.7))
    # Own-preset similarity per column where the panel's starts are known (/panel/start_indices).
    per_start = None
    if (sim.values(args.flow, sim.preset) is not None and starts is not None
            and sim.start_indices is not None):
        col = sim.presets.index(sim.preset)
        arr = sim.arrays[args.flow]
        per_start = arr[..., col].reshape(-1, sim.starts).mean(axis=0)
    for c in range(m):
        if args.displacement:
            ref = initial[c, channel]
            images = [ref, evolved[c, channel] - ref, gray[c, channel] - ref]
        else:
            images = [r[1][c, channel] for r in rows]
            vmin, vmax = _range(*images)
        for r, image in enumerate(images):
            ax = axes[r, c]
            _bare(ax)
            if args.displacement and r > 0:
                s = float(np.nanmax(np.abs(image))) or 1.0
                ax.imshow(image, cmap="RdBu_r", vmin=-s, vmax=s, interpolation="nearest")
            elif args.displacement:
                ax.imshow(image, cmap=TWO_COLOUR, interpolation="nearest")
            else:
                ax.imshow(image, cmap=TWO_COLOUR, vmin=vmin, vmax=vmax, interpolation="nearest")
        title = f"sample {starts[c]}" if starts is not None and c < len(starts) else f"start {c}"
        if per_start is not None and c < len(starts):
            hits = np.nonzero(sim.start_indices == starts[c])[0]
            if hits.size:
                title += f"\n|cos| {per_start[hits[0]]:.2f}"
        axes[0, c].set_title(title, fontsize="small")
    for r, (label, _) in enumerate(rows):
        if args.displacement and r > 0:
            label = label.replace("\n", " - initial\n", 1)
        axes[r, 0].set_ylabel(label, fontsize="small")
    scale = ("rows 2-3: change from the initial field,\neach image on its own symmetric scale"
             if args.displacement else "one colour scale per column")
    fig.suptitle(f"{sim.label}: {FLOW_NAMES.get(args.flow, args.flow)} vs Gray-Scott\n"
                 f"(channel {args.channel}; {scale})", fontsize="medium")
    default = os.path.join(sim.run_dir, "figures", f"turing_flow_panel_{args.flow}.png")
    _save(fig, args.output or default, args.dpi)
    return 0


# --- similarity: own preset, against the reference --------------------------------------------
def _fmt(x, spec=".3f"):
    return "-" if x is None or not np.isfinite(x) else format(x, spec)


def _reference_text(mean, std):
    if mean is None:
        return "-"
    return f"{mean:g}" + (f" ({std:g})" if std is not None else "")


def similarity(args):
    files = [tm.SimilarityFile(r) for r in args.runs]
    for sim in files:
        if not sim.preset:
            print(f"note: {sim.path}: user data (no preset): no own-preset similarity; see "
                  f"cross-preset")
        elif sim.preset not in sim.presets:
            print(f"note: {sim.path}: its preset {sim.preset!r} is not among /presets")
    rows = tm.similarity_rows(files)
    print("| preset | flow | mean | std | n | reference mean (std) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        bad = f" (+{r['nonfinite']} non-finite)" if r["nonfinite"] else ""
        print(f"| {r['label']} | {r['flow']} | {_fmt(r['mean'])} | {_fmt(r['std'])} | "
              f"{r['n']}{bad} | {_reference_text(r['reference_mean'], r['reference_std'])} |")
    if args.json:
        tm._write_json(tm.json_safe({
            "rows": rows,
            "definitions": {
                "value": "|cosine| of the flow's displacement against the run's own preset's "
                         "Gray-Scott displacement (similarity.h5)",
                "mean, std": "over starts, and seeds (trained) or draws (baselines); finite "
                             "values; std with ddof 0 (numpy's default)",
                "reference": "the reference's notebook: one start field (DESIGN.md section 2)"}}),
            args.json)
    runs = [sim for sim in files if any(r["run"] == sim.run_dir for r in rows)]
    if not runs:
        raise io.Skip("no run with a preset among its /presets")
    flows = tm.SIMILARITY_FLOWS
    width = 0.8 / len(flows)
    fig, ax = plt.subplots(figsize=(1.2 + 2.0 * len(runs), 4.2), constrained_layout=True)
    by = {(r["run"], r["flow"]): r for r in rows}
    labels = [r["label"] for r in rows if r["flow"] == flows[0]]
    ref_drawn = False
    for j, flow in enumerate(flows):
        x = np.arange(len(runs)) + (j - (len(flows) - 1) / 2) * width
        means = [by[(sim.run_dir, flow)]["mean"] for sim in runs]
        stds = [by[(sim.run_dir, flow)]["std"] for sim in runs]
        have = [i for i, v in enumerate(means) if v is not None]
        if have:
            ax.bar(x[have], [means[i] for i in have], width * 0.92,
                   yerr=[stds[i] for i in have], capsize=3, color=f"C{j}",
                   label=FLOW_NAMES[flow], alpha=0.85)
        for i, sim in enumerate(runs):
            ref = by[(sim.run_dir, flow)]["reference_mean"]
            if ref is not None:
                ax.plot(x[i], ref, marker="D", color="black", markersize=5, linestyle="none",
                        label=None if ref_drawn else "reference (one start)")
                ref_drawn = True
    ax.set_xticks(np.arange(len(runs)))
    ax.set_xticklabels(labels)
    ax.set_ylabel("|cosine| to the Gray-Scott displacement\n(own preset; mean ± std)")
    ax.set_ylim(bottom=0)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small", ncol=2)
    ax.set_title("displacement similarity: flows and baselines vs the reference's numbers",
                 fontsize="medium")
    default = os.path.join(files[0].run_dir, "figures", "turing_similarity.png")
    _save(fig, args.output or default, args.dpi)
    return 0


def cross_preset(args):
    files = [tm.SimilarityFile(r) for r in args.runs]
    if args.flow == "trained":
        lacking = [sim.path for sim in files if not sim.has("trained")]
        if lacking:
            print(f"note: no /similarity/trained in {', '.join(lacking)} (empty rows)")
    labels, columns, matrix, diagonal, wins = tm.cross_preset_table(files, args.flow, args.all)
    if not columns:
        raise io.Skip("no Gray-Scott preset to compare against (user data without --all)")
    print(f"mean |cosine| of the {FLOW_NAMES[args.flow]}'s displacement (rows: the run's data) "
          f"against each preset's Gray-Scott displacement (columns)")
    print("| flow of \\ Gray-Scott | " + " | ".join(columns) + " | diagonal wins |")
    print("|---|" + "---|" * (len(columns) + 1))
    flagged = []
    for i, label in enumerate(labels):
        cells = []
        for j in range(len(columns)):
            text = _fmt(matrix[i, j])
            cells.append(f"**{text}**" if diagonal[i] == j else text)
        if wins[i] is None:
            verdict = "- (no diagonal)"
        elif wins[i]:
            verdict = "yes"
        else:
            best = columns[int(np.nanargmax(np.where(np.arange(len(columns)) == diagonal[i],
                                                     -np.inf, matrix[i])))]
            verdict = f"NO (best: {best})"
            flagged.append(label)
        print(f"| {label} | " + " | ".join(cells) + f" | {verdict} |")
    if flagged:
        print(f"diagonal does not win for: {', '.join(flagged)}")
    if args.json:
        tm._write_json(tm.json_safe({
            "flow": args.flow, "rows": labels, "columns": columns,
            "runs": [sim.run_dir for sim in files], "mean": matrix.tolist(),
            "diagonal_wins": wins}), args.json)
    fig, ax = plt.subplots(figsize=(3.5 + 0.9 * len(columns), 1.8 + 0.55 * len(labels)),
                           constrained_layout=True)
    finite = matrix[np.isfinite(matrix)]
    im = ax.imshow(np.ma.masked_invalid(matrix), cmap="viridis", vmin=0,
                   vmax=max(float(finite.max()) if finite.size else 1.0, 1e-6), aspect="auto")
    for i in range(len(labels)):
        for j in range(len(columns)):
            if np.isfinite(matrix[i, j]):
                bright = matrix[i, j] > 0.6 * (finite.max() if finite.size else 1)
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize="small",
                        color="black" if bright else "white",
                        fontweight="bold" if diagonal[i] == j else "normal")
        if diagonal[i] is not None:
            ax.add_patch(plt.Rectangle((diagonal[i] - 0.5, i - 0.5), 1, 1, fill=False,
                                       edgecolor="red" if wins[i] is False else "white", lw=2))
    ax.set_xticks(range(len(columns)))
    ax.set_xticklabels(columns, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels([f"{lab}  (diagonal loses)" if wins[i] is False else lab
                        for i, lab in enumerate(labels)])
    for i, tick in enumerate(ax.get_yticklabels()):
        if wins[i] is False:
            tick.set_color("red")
    ax.set_xlabel("Gray-Scott preset B (its displacement)")
    ax.set_ylabel(f"{FLOW_NAMES[args.flow]}\nof preset A's data")
    fig.colorbar(im, ax=ax, label="mean |cosine|")
    ax.set_title("cross-preset displacement similarity", fontsize="medium")
    default = os.path.join(files[0].run_dir, "figures", f"turing_cross_preset_{args.flow}.png")
    _save(fig, args.output or default, args.dpi)
    return 0


# --- animation of a frames file ---------------------------------------------------------------
def animate(args):
    from matplotlib import animation

    path = tm.resolve_frames_path(args.frames)
    ext = os.path.splitext(args.output or "default.gif")[1].lower()
    writers = {".gif": "pillow", ".mp4": "ffmpeg"}
    if ext not in writers:
        raise io.EqflowError(f"{args.output}: the animation is written as .gif (Pillow) or .mp4 "
                             f"(ffmpeg)")
    writer_name = writers[ext]
    if not animation.writers.is_available(writer_name):
        how = ("install Debian's ffmpeg (scripts/setup.sh does) or write a .gif"
               if writer_name == "ffmpeg" else "install python3-pil (scripts/setup.sh does)")
        raise io.EqflowError(f"matplotlib's {writer_name} writer is unavailable for {ext}: {how}")
    with tm.Frames(path) as fr:
        t, n, c = fr.shape[:3]
        # Three channels (artificial life) are drawn as RGB by default, two (Turing) as v.
        name = args.channel or ("rgb" if c == 3 else "v")
        rgb = name == "rgb"
        if not 0 <= args.sample < n:
            raise io.EqflowError(f"{fr.path}: --sample {args.sample}, the file holds {n} samples")
        if (rgb and c != 3) or (not rgb and c <= CHANNELS[name]):
            raise io.EqflowError(f"{fr.path}: {c} channel(s), no channel {name}")
        if t == 0:
            raise io.EqflowError(f"{fr.path}: no frame recorded yet")
        which = slice(None) if rgb else CHANNELS[name]
        images = np.asarray(fr.frames[0:t:args.every, args.sample, which], dtype=np.float32)
        times = fr.times[0:t:args.every]
        flow, partial, attrs = fr.flow, fr.partial, fr.attrs
    if args.ema > 0:  # exponential moving average, weight args.ema on the old value
        smooth = images.copy()
        for i in range(1, len(smooth)):
            smooth[i] = args.ema * smooth[i - 1] + (1 - args.ema) * images[i]
        images = smooth
    if rgb:  # (T, 3, H, W) in [-1, 1] -> (T, H, W, 3) in [0, 1]
        images = np.clip((images.transpose(0, 2, 3, 1) + 1) / 2, 0, 1)
    vmin, vmax = _range(images)
    fig, ax = plt.subplots(figsize=(4, 4.3), constrained_layout=True)
    _bare(ax)
    im = ax.imshow(images[0], cmap=None if rgb else TWO_COLOUR, vmin=vmin, vmax=vmax,
                   interpolation="nearest")
    extra = f", EMA {args.ema:g}" if args.ema > 0 else ""
    title = ax.set_title("", fontsize="small")
    label = (f"{FLOW_NAMES.get(flow, flow)}, sample {args.sample}, {name}{extra}"
             + (" (partial)" if partial else ""))

    def update(i):
        im.set_data(images[i])
        title.set_text(f"{label}\nt = {times[i]:.4g} (frame {i * args.every} of {t}; eta "
                       f"{attrs.get('eta', '?')})")
        return im, title

    anim = animation.FuncAnimation(fig, update, frames=len(images), blit=False)
    run_dir = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    out = args.output or os.path.join(run_dir, "figures", f"{flow}_sample_{args.sample}.gif")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    writer = (animation.PillowWriter(fps=args.fps) if writer_name == "pillow"
              else animation.FFMpegWriter(fps=args.fps))
    tmp = f"{out}.tmp.{os.getpid()}{ext}"
    try:
        anim.save(tmp, writer=writer, dpi=args.dpi or 100)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
        plt.close(fig)
    print(f"wrote {out}")
    return 0


# --- long horizon -----------------------------------------------------------------------------
def horizon(args):
    run = tm.TuringRun(args.run)
    path = os.path.join(run.path, "long_horizon.h5")
    if os.path.isfile(path) and not args.recompute:
        h = tm.read_horizon(path)
    else:
        print(f"note: computing the metrics now (not written; `turing_metrics.py horizon "
              f"{args.run}` writes {path})")
        h = tm.horizon_metrics(run)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    floors = {"spectrum_distance": h["floor"]["spectrum"],
              "histogram_w1": h["floor"]["histogram_w1"]}
    names = {"spectrum_distance": "spectrum distance (log10 L2)",
             "histogram_w1": "v histogram W1"}
    for ax, key in zip(axes, ("spectrum_distance", "histogram_w1")):
        values = []
        for i, (flow, m) in enumerate(h["flows"].items()):
            y = np.asarray(m[key], dtype=float)
            ax.plot(m["time"], y, color=f"C{i}", marker="." if len(y) < 40 else None,
                    label=FLOW_NAMES.get(flow, flow) + (" (partial)" if m.get("partial") else ""))
            values.append(y)
        ax.axhline(floors[key], color="black", linestyle="--",
                   label=f"floor (training vs held-out) {floors[key]:.3g}")
        v = np.concatenate(values + [np.array([floors[key]])])
        v = v[np.isfinite(v)]
        if v.size and np.all(v > 0):
            ax.set_yscale("log")
        ax.set_xlabel("simulation time")
        ax.set_ylabel(names[key])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"{h['preset'] or run.preset}: frames (denoised estimates) against the "
                 f"held-out data, {h['counts']['compared']} samples per set", fontsize="medium")
    default = os.path.join(run.path, "figures", "turing_horizon.png")
    _save(fig, args.output or default, args.dpi)
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
    s = sub.add_parser("flow-panel", help="start fields, evolved by the flow, by Gray-Scott")
    s.add_argument("run", metavar="RUN", help="run directory with similarity.h5 (or the file)")
    s.add_argument("--flow", choices=("training_free", "trained"), default="training_free")
    s.add_argument("--channel", choices=sorted(CHANNELS), default="v",
                   help="the channel drawn (default v)")
    s.add_argument("--columns", type=int, default=None, help="at most this many start fields")
    s.add_argument("--displacement", action="store_true",
                   help="rows 2 and 3 as the change from the initial field (what the "
                        "similarity compares)")
    s.set_defaults(draw=flow_panel)
    s = sub.add_parser("similarity", help="own-preset similarity per run against the reference")
    s.add_argument("runs", nargs="+", metavar="RUN")
    s.add_argument("--json", metavar="OUT", help="also write the table as JSON ('-': stdout)")
    s.set_defaults(draw=similarity)
    s = sub.add_parser("cross-preset", help="mean similarity of each run's flow against every "
                                            "preset's Gray-Scott displacement")
    s.add_argument("runs", nargs="+", metavar="RUN")
    s.add_argument("--flow", choices=("training_free", "trained"), default="training_free")
    s.add_argument("--all", action="store_true",
                   help="every preset in the files, not only the runs' own presets")
    s.add_argument("--json", metavar="OUT", help="also write the table as JSON ('-': stdout)")
    s.set_defaults(draw=cross_preset)
    s = sub.add_parser("animate", help="one sample's frames as a GIF or MP4")
    s.add_argument("frames", metavar="FRAMES_H5", help="RUN/frames/<flow>.h5 (or .h5.partial)")
    s.add_argument("--sample", type=int, default=0, help="the sample drawn (default 0)")
    s.add_argument("--every", type=int, default=1, help="every k-th recorded frame (default 1)")
    s.add_argument("--fps", type=int, default=20, help="frames per second (default 20)")
    s.add_argument("--channel", choices=sorted(CHANNELS) + ["rgb"], default=None,
                   help="the channel drawn (default: rgb for 3 channels, else v)")
    s.add_argument("--ema", type=float, default=0.0,
                   help="exponential moving average, weight on the old value (0: none)")
    s.set_defaults(draw=animate)
    s = sub.add_parser("horizon", help="frames against the held-out data over time")
    s.add_argument("run", metavar="RUN")
    s.add_argument("--recompute", action="store_true",
                   help="compute the metrics now even when RUN/long_horizon.h5 exists")
    s.set_defaults(draw=horizon)
    for name, s in sub.choices.items():
        what = "the GIF or MP4 to write" if name == "animate" else "the PNG to write"
        s.add_argument("-o", "--output", "--out", metavar="OUT", help=what)
        s.add_argument("--dpi", type=int, default=100 if name == "animate" else 150,
                       help="resolution (default %(default)s)")
    args = p.parse_args(argv)
    if (getattr(args, "columns", 1) or 1) < 1:
        p.error("--columns must be >= 1")
    if getattr(args, "every", 1) < 1 or getattr(args, "fps", 1) < 1:
        p.error("--every and --fps must be >= 1")
    if not 0 <= getattr(args, "ema", 0) < 1:
        p.error("--ema must be in [0, 1)")
    if getattr(args, "json", None) == "-":  # JSON alone on stdout, the rest on stderr
        with contextlib.redirect_stdout(sys.stderr):
            return args.draw(args)
    return args.draw(args)


if __name__ == "__main__":
    io.main_wrapper(main)
