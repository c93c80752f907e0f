#!/usr/bin/python3
"""Lyapunov analysis over the seeds of a run: a histogram of the largest exponents (reference
procedure) with the paper's range for Lorenz (0.006-0.044, mean about 0.025) marked, the
averaged log distance curves ln(d(t)/d(0)) of the perturbed copies (one per seed, and their
mean, against the slopes of the paper's range) and, when computed, the Lyapunov spectra.

usage: plot_lyapunov.py OUTPUT [-o OUT_DIR]   ->  OUT_DIR/lyapunov.png
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402

import eqflow_io as io  # noqa: E402

REFERENCE_RANGE = (0.006, 0.044)  # the paper's 100 Lorenz flows (DESIGN.md section 2)
REFERENCE_MEAN = 0.025


def collect(out):
    """Per seed: exponent, stable count, (time, distance curve), spectrum."""
    seeds, exponents, stable, curves, spectra = [], [], [], {}, {}
    for k in out.seeds():
        with out.seed(k) as f:
            if "analysis/spectrum/exponents" in f:
                spectra[k] = np.atleast_1d(io.read(f, "analysis/spectrum/exponents"))
            if "analysis/lyapunov" not in f:
                continue
            seeds.append(k)
            exponents.append(float(io.read(f, "analysis/lyapunov/exponent", np.nan)))
            stable.append(float(io.read(f, "analysis/lyapunov/stable", np.nan)))
            curve = np.atleast_1d(io.read(f, "analysis/lyapunov/distance_curve", np.array([])))
            dt = float(f["analysis/lyapunov"].attrs.get("dt", 1.0))
            if curve.size > 1 and np.all(np.isfinite(curve)) and np.all(curve > 0):
                curves[k] = (np.arange(curve.size) * dt, np.log(curve / curve[0]))
    if not seeds and out.has_run():  # seed files not at hand: the run's summary
        with out.run() as f:
            if "summary/lyapunov/exponent" in f:
                seeds = list(np.atleast_1d(io.read(f, "summary/seeds")))
                exponents = list(np.atleast_1d(io.read(f, "summary/lyapunov/exponent")))
                stable = list(np.atleast_1d(io.read(f, "summary/lyapunov/stable")))
            if not spectra and "summary/spectrum" in f:
                spectra = dict(zip(seeds, np.atleast_2d(io.read(f, "summary/spectrum"))))
    return seeds, np.array(exponents, dtype=float), np.array(stable), curves, spectra


def main(argv):
    args = io.parser(__doc__.splitlines()[0]).parse_args(argv)
    out = io.open_output(args.output)
    seeds, exponents, stable, curves, spectra = collect(out)
    if not seeds:
        raise io.Skip(f"{args.output}: no Lyapunov analysis (analysis.lyapunov.enabled is "
                      f"false; it is on for lorenz)")
    lorenz = out.system() == "lorenz"
    finite = exponents[np.isfinite(exponents)]
    unstable = int(np.sum(~np.isfinite(exponents) & ~(stable > 0))) if stable.size else \
        len(exponents) - len(finite)
    undefined = len(exponents) - len(finite) - unstable  # NaN despite stable trajectories

    panels = 3 if spectra else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.6 * panels, 4.6), constrained_layout=True)

    ax = axes[0]
    lo = min([0.0] + list(finite) + ([REFERENCE_RANGE[0]] if lorenz else []))
    hi = max([0.0] + list(finite) + ([REFERENCE_RANGE[1]] if lorenz else []))
    pad = 0.08 * (hi - lo) if hi > lo else 0.01
    if lorenz:
        ax.axvspan(*REFERENCE_RANGE, color="C2", alpha=0.18,
                   label=f"paper, 100 flows: {REFERENCE_RANGE[0]}-{REFERENCE_RANGE[1]}")
        ax.axvline(REFERENCE_MEAN, color="C2", ls=":", lw=1.5,
                   label=f"paper mean {REFERENCE_MEAN}")
    if finite.size:
        bins = np.linspace(lo - pad, hi + pad, max(8, min(40, 2 * int(np.sqrt(finite.size)) + 6)))
        ax.hist(finite, bins=bins, color="C0", edgecolor="white",
                label=f"this run: mean {finite.mean():+.4f}")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel("largest Lyapunov exponent  (1 / flow time)")
    ax.set_ylabel("number of seeds")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    positive = int(np.sum(finite > 0))
    title = f"{len(exponents)} seed(s): {positive} positive, {len(finite) - positive} <= 0"
    if unstable or undefined:
        title += (f"\nNaN: {unstable} with no stable trajectory, {undefined} with "
                  f"non-finite distances")
    if stable.size and np.any(np.isfinite(stable)):
        title += (f"\nstable reference trajectories per seed: {np.nanmin(stable):.0f}"
                  f"-{np.nanmax(stable):.0f}")
    ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small")

    ax = axes[1]
    if curves:
        many = len(curves) > 10
        for k, (t, y) in curves.items():
            ax.plot(t, y, lw=0.8, alpha=0.35 if many else 0.9, color="0.5" if many else None,
                    label=None if many else f"seed {k}")
        lengths = {len(t) for t, _ in curves.values()}
        if len(lengths) == 1 and len(curves) > 1:
            t = next(iter(curves.values()))[0]
            ax.plot(t, np.mean([y for _, y in curves.values()], axis=0), color="C0", lw=2.5,
                    label=f"mean of {len(curves)} seeds")
        if lorenz:
            t = max((t for t, _ in curves.values()), key=len)
            ax.fill_between(t, REFERENCE_RANGE[0] * t, REFERENCE_RANGE[1] * t, color="C2",
                            alpha=0.18, label="slopes of the paper's range")
        ax.axhline(0, color="k", lw=0.8)
        ax.legend(fontsize="small", ncol=2 if len(curves) > 5 and not many else 1)
    else:
        ax.text(0.5, 0.5, "no finite distance curves\n(no stable trajectory, or NaN distances)",
                ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("time into a renormalisation segment  (flow time)")
    ax.set_ylabel("ln( d(t) / d(0) )  (averaged distance)")
    ax.set_title("separation of perturbed copies", fontsize="medium")
    ax.grid(True, alpha=0.3)

    if spectra:
        ax = axes[2]
        values = np.stack(list(spectra.values()))  # (seeds, d)
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, size=values.shape[0])
        for j in range(values.shape[1]):
            ax.scatter(j + 1 + jitter, values[:, j], s=14, alpha=0.7, color=f"C{j}")
            ax.plot([j + 0.7, j + 1.3], [np.mean(values[:, j])] * 2, color="k", lw=2)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks(range(1, values.shape[1] + 1))
        ax.set_xticklabels([f"$\\lambda_{j + 1}$" for j in range(values.shape[1])])
        ax.set_ylabel("exponent  (1 / flow time)")
        ax.set_title(f"Lyapunov spectrum (Benettin), {len(spectra)} seed(s); bar: mean",
                     fontsize="medium")
        ax.grid(True, axis="y", alpha=0.3)

    fig.suptitle(f"Lyapunov analysis: {out.label()}")
    io.save(fig, io.out_dir(args, out), "lyapunov.png", args.dpi)
    if finite.size:
        print(f"largest exponent over {len(exponents)} seeds: mean {finite.mean():+.4f}, "
              f"range {finite.min():+.4f} .. {finite.max():+.4f}, {positive} positive, "
              f"{unstable} without a stable trajectory, {undefined} NaN")
    return 0


if __name__ == "__main__":
    io.main_wrapper(main)
