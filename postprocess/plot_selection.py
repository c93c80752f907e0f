#!/usr/bin/python3
"""Settings chosen from a validation split (deck section select; on by default for user data):
the validation MMD^2 of every candidate (score epochs x flow training time t x Langevin eta),
with MMD^2(p, p_t) at each t and the held-out equilibrium residual; the chosen one marked.

usage: plot_selection.py OUTPUT [-o OUT_DIR]   ->  OUT_DIR/selection.png
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import eqflow_io as io  # noqa: E402


def main(argv):
    args = io.parser(__doc__.splitlines()[0]).parse_args(argv)
    out = io.open_output(args.output)
    if not out.has_run():
        raise io.Skip(f"{args.output}: no run.h5 (the selection is stored there)")
    with out.run() as f:
        if "selection" not in f:
            raise io.Skip(f"{args.output}: the run chose no settings (select.enabled is false)")
        s = f["selection"]
        epochs, t, eta = s["score_epochs"][()], s["t"][()], s["eta"][()]
        mmd, floor, residual = s["mmd2"][()], s["floor"][()], s["residual"][()]
        chosen = int(s.attrs["chosen"])
        horizon = float(s.attrs["horizon"])
        points = int(s.attrs["validation_points"])

    models = sorted({(int(e), float(tt)) for e, tt in zip(epochs, t)})
    etas = sorted(set(float(e) for e in eta))
    width = 0.8 / len(etas)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.8), constrained_layout=True,
                                 gridspec_kw={"width_ratios": [3, 1.3]})
    for j, e in enumerate(etas):
        x, y = [], []
        for i, (ep, tt) in enumerate(models):
            k = np.flatnonzero((epochs == ep) & np.isclose(t, tt) & np.isclose(eta, e))
            if k.size:
                x.append(i + (j - (len(etas) - 1) / 2) * width)
                y.append(mmd[k[0]])
        ax.bar(x, y, width, label=f"eta {e:g}", color=f"C{j}")
    k = chosen
    i = models.index((int(epochs[k]), float(t[k])))
    ax.plot(i + (etas.index(float(eta[k])) - (len(etas) - 1) / 2) * width, mmd[k], "k*", ms=16,
            label=f"chosen: score {epochs[k]} epochs, t {t[k]:g}, eta {eta[k]:g}")
    for i, (ep, tt) in enumerate(models):
        k = np.flatnonzero((epochs == ep) & np.isclose(t, tt))[0]
        ax.hlines(floor[k], i - 0.45, i + 0.45, colors="C3", linestyles="--",
                  label="MMD$^2$(p, p$_t$) at that t" if i == 0 else None)
    ax.set_xticks(range(len(models)), [f"score {ep}\nt {tt:g}" for ep, tt in models])
    ax.set_yscale("symlog", linthresh=max(1e-4, float(np.nanmax(np.abs(floor)))))
    ax.set_ylabel(f"validation MMD$^2$ after T = {horizon:g}")
    ax.set_title(f"candidates ({points} validation points): {out.label()}")
    ax.legend(fontsize="small")
    ax.grid(True, axis="y", alpha=0.3)
    residuals = [residual[np.flatnonzero((epochs == ep) & np.isclose(t, tt))[0]]
                 for ep, tt in models]
    bx.bar(range(len(models)), residuals, color="0.5")
    bx.set_xticks(range(len(models)), [f"{ep}\n{tt:g}" for ep, tt in models])
    bx.set_yscale("log")
    bx.set_title("held-out residual (div v + v.s)$^2$")
    io.save(fig, io.out_dir(args, out), "selection.png", args.dpi)
    print(f"chosen: score {epochs[chosen]} epochs, t {t[chosen]:g}, eta {eta[chosen]:g} "
          f"(validation MMD^2 {mmd[chosen]:.4g} of {len(mmd)} candidates)")
    return 0


if __name__ == "__main__":
    io.main_wrapper(main)
