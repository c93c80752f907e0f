#!/usr/bin/python3
"""Training curves of an eqflow run: the score model's denoising loss (run.h5 /score/loss)
and every flow seed's equilibrium loss (seeds/seed_NNNNNN.h5 /flow/loss), per epoch, on
log scales (symlog when a loss is not positive, as the unbiased estimator's can be).

usage: plot_training.py OUTPUT [-o OUT_DIR]   ->  OUT_DIR/training.png
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import eqflow_io as io  # noqa: E402


def loss_scale(ax, values):
    """Log scale for positive losses, symlog otherwise."""
    values = np.concatenate([np.ravel(v) for v in values]) if values else np.array([1.0])
    values = values[np.isfinite(values)]
    if values.size and np.all(values > 0):
        ax.set_yscale("log")
    else:
        positive = np.abs(values[values != 0])
        ax.set_yscale("symlog", linthresh=float(np.min(positive)) if positive.size else 1.0)


def main(argv):
    args = io.parser(__doc__.splitlines()[0]).parse_args(argv)
    out = io.open_output(args.output)
    score_loss = None
    if out.has_run():
        with out.run() as f:
            score_loss = io.read(f, "score/loss")
    flow, estimator = {}, None
    for k in out.seeds():
        with out.seed(k) as f:
            flow[k] = np.atleast_1d(io.read(f, "flow/loss", np.array([])))
            if "flow" in f:
                estimator = f["flow"].attrs.get("divergence", estimator)
    if score_loss is None and not flow:
        raise io.Skip(f"{args.output}: no loss history")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    ax = axes[0]
    if score_loss is not None and np.size(score_loss):
        score_loss = np.atleast_1d(score_loss)
        ax.plot(np.arange(1, len(score_loss) + 1), score_loss, color="C0")
        loss_scale(ax, [score_loss])
        ax.set_title(f"score model: {len(score_loss)} epochs, final {score_loss[-1]:.4g}",
                     fontsize="medium")
    else:
        ax.text(0.5, 0.5, "no run.h5 score loss", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_title("score model")
    ax.set_xlabel("epoch")
    ax.set_ylabel(r"denoising loss  (MSE of predicted $\epsilon$)")
    ax.grid(True, which="both", alpha=0.3)

    ax = axes[1]
    curves = [v for v in flow.values() if v.size]
    if curves:
        many = len(curves) > 10
        for k, v in flow.items():
            if v.size:
                ax.plot(np.arange(1, len(v) + 1), v, lw=0.8, alpha=0.35 if many else 0.9,
                        color="0.5" if many else None, label=None if many else f"seed {k}")
        length = min(len(v) for v in curves)
        if many and length:
            median = np.median(np.stack([v[:length] for v in curves]), axis=0)
            ax.plot(np.arange(1, length + 1), median, color="C3", lw=2,
                    label=f"median of {len(curves)} seeds")
        loss_scale(ax, curves)
        finals = np.array([v[-1] for v in curves])
        ax.set_title(f"flow models: {len(curves)} seed(s), final loss median "
                     f"{np.median(finals):.4g}")
        ax.legend(fontsize="small", ncol=2 if len(curves) > 5 else 1)
    else:
        ax.text(0.5, 0.5, "no complete seed yet", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_title("flow models")
    ax.set_xlabel("epoch")
    if isinstance(estimator, bytes):
        estimator = estimator.decode()
    ylabel = r"equilibrium loss  mean $r^2$,  $r = \nabla\cdot v + v\cdot s$"
    if estimator == "unbiased":
        ylabel = r"equilibrium loss  mean $r_1 r_2$  (unbiased estimator)"
    ax.set_ylabel(ylabel)
    if estimator:
        ax.set_title(f"{ax.get_title()}\ndivergence: {estimator}", fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(f"training: {out.label()}")
    io.save(fig, io.out_dir(args, out), "training.png", args.dpi)
    return 0


if __name__ == "__main__":
    io.main_wrapper(main)
