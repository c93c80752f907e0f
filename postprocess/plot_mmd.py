#!/usr/bin/python3
"""Distribution preservation: MMD^2 between data points and their images under the flow, as
a function of the integration time, for every learned flow (thin lines) and their mean, the
same flows without the Langevin correction (when the run used one), the correction alone, the
untrained random flows (baseline), the data's noise floor (two disjoint data samples) and
MMD^2(p, p_t), the distance between the data and the distribution the flow is trained to keep
(at its training time t). A flow that keeps p_t exactly can carry the data up to about 4x that
line; one that preserves the data itself stays near the noise floor.

usage: plot_mmd.py OUTPUT [-o OUT_DIR] [--linear]   ->  OUT_DIR/mmd.png
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import eqflow_io as io  # noqa: E402


def main(argv):
    p = io.parser(__doc__.splitlines()[0])
    p.add_argument("--linear", action="store_true", help="linear MMD^2 axis (default symlog)")
    args = p.parse_args(argv)
    out = io.open_output(args.output)

    # Learned flows from the seed files (always current), else from the run's summary.
    # Seeds may have been analysed with other settings (another mmd.steps): every curve is
    # placed on the union of the time grids, NaN where it has no value.
    time, learned, seeds, bandwidth, rule, eta, tau = None, [], [], None, None, 0.0, None
    pure = []
    for k in out.seeds():
        with out.seed(k) as f:
            if "analysis/mmd/learned" in f:
                learned.append((np.atleast_1d(io.read(f, "analysis/mmd/time")),
                                np.atleast_1d(io.read(f, "analysis/mmd/learned"))))
                if "analysis/mmd/pure_flow" in f:
                    pure.append((learned[-1][0],
                                 np.atleast_1d(io.read(f, "analysis/mmd/pure_flow"))))
                seeds.append(k)
                bandwidth = f["analysis/mmd"].attrs.get("bandwidth", bandwidth)
                rule = f["analysis/mmd"].attrs.get("bandwidth_rule", rule)
                eta = float(f["analysis/mmd"].attrs.get("langevin_eta", 0.0))
                tau = f["analysis/mmd"].attrs.get("langevin_tau", None)
    random, noise_floor, langevin_only, floor_pt, floor_t = None, None, None, None, None
    if out.has_run():
        with out.run() as f:
            if "summary/mmd/time" in f:
                time = np.atleast_1d(io.read(f, "summary/mmd/time"))
            if not learned and "summary/mmd/learned" in f:
                learned = [(time, row) for row in np.atleast_2d(io.read(f, "summary/mmd/learned"))]
                seeds = list(np.atleast_1d(io.read(f, "summary/seeds")))
            if "summary/mmd/random" in f:
                random = np.atleast_2d(io.read(f, "summary/mmd/random"))
            noise_floor = io.read(f, "summary/mmd/noise_floor")
            if "summary/mmd/diffusion_floor" in f:
                floor_pt = float(io.read(f, "summary/mmd/diffusion_floor"))
                floor_t = float(f["summary/mmd/diffusion_floor"].attrs.get("t", np.nan))
            if bandwidth is None and "summary/mmd" in f:
                bandwidth = f["summary/mmd"].attrs.get("bandwidth", None)
                rule = f["summary/mmd"].attrs.get("bandwidth_rule", None)
            if "summary/mmd/langevin_only" in f:
                langevin_only = np.atleast_1d(io.read(f, "summary/mmd/langevin_only"))
    if time is None and not learned:
        raise io.Skip(f"{args.output}: no MMD analysis (analysis.mmd.enabled is false)")
    grid = np.unique(np.concatenate([t for t, _ in learned] + ([time] if time is not None else [])))
    if time is not None and len(grid) != len(time):  # baselines onto the wider grid
        random = None if random is None else np.stack([io.on_grid(grid, time, r) for r in random])
        if langevin_only is not None:
            langevin_only = io.on_grid(grid, time, langevin_only)
    time = grid

    fig, ax = plt.subplots(figsize=(7.5, 5), constrained_layout=True)
    values = []
    if learned:
        learned = np.stack([io.on_grid(time, t, v) for t, v in learned])
        values.append(learned)
        for i, curve in enumerate(learned):
            ax.plot(time, curve, color="C0", lw=0.8, alpha=0.35,
                    label="learned flows (each seed)" if i == 0 else None)
        ax.plot(time, np.nanmean(learned, axis=0), color="C0", lw=2.5, marker="o", ms=3,
                label=f"learned flows, mean of {len(learned)}")
    if pure:
        pure = np.stack([io.on_grid(time, t, v) for t, v in pure])
        values.append(pure)
        ax.plot(time, np.nanmean(pure, axis=0), color="C4", lw=2, marker="s", ms=3,
                label=f"the same flows without the correction, mean of {len(pure)}")
    if random is not None and random.size:
        values.append(random)
        random_label = "untrained random flows" + (" (same correction)" if eta > 0 else "")
        for i, curve in enumerate(random):
            ax.plot(time, curve, color="C3", lw=0.8, ls="--", alpha=0.45,
                    label=random_label if i == 0 else None)
        ax.plot(time, np.nanmean(random, axis=0), color="C3", lw=2.5, ls="--",
                label=f"random flows, mean of {len(random)}")
    if langevin_only is not None:
        values.append(langevin_only[None, :])
        ax.plot(time, langevin_only, color="C2", lw=2, ls="-.",
                label="Langevin correction alone (v = 0)")
    if noise_floor is not None:
        values.append(np.array([noise_floor]))
        ax.axhline(noise_floor, color="k", lw=1.2, ls=":",
                   label=f"noise floor (two data samples) {noise_floor:.2g}")
    if floor_pt is not None and np.isfinite(floor_pt):
        values.append(np.array([floor_pt]))
        ax.axhline(floor_pt, color="C1", lw=1.5, ls="--",
                   label=f"MMD$^2$(p, p$_t$) at t = {floor_t:g}: {floor_pt:.2g} "
                         "(what the flow is trained to keep)")
    if not args.linear:
        # Unbiased MMD^2 fluctuates around 0 by O(1/points) (it is exactly 0 at T = 0), as the
        # noise floor shows. Values within that sampling noise sit on the linear part of a
        # symlog axis; larger ones on its log part.
        noise = np.array([abs(noise_floor)] if noise_floor is not None else [])
        noise = noise[np.isfinite(noise) & (noise > 0)]
        linthresh = 10 ** np.ceil(np.log10(noise.max())) if noise.size else 1e-3
        ax.set_yscale("symlog", linthresh=linthresh, linscale=0.5)
        ax.axhspan(-linthresh, linthresh, color="0.92", zorder=0,
                   label=f"sampling noise scale (|MMD$^2$| < {linthresh:.0e})")
    ax.set_xlabel("integration time T  (flow time units, normalised coordinates)")
    ax.set_ylabel("MMD$^2$(data, data transported to T)")
    kernel = ""
    if bandwidth is not None:
        rule = rule.decode() if isinstance(rule, bytes) else rule
        how = " (median distance)" if rule == "median" else ""
        kernel = f", RBF bandwidth {float(bandwidth):.3g}{how}"
    transport = (f"RK4 + Langevin correction (eta {eta:g}, tau {float(tau):g})" if eta > 0
                 else "RK4 flow")
    ax.set_title(f"distribution preservation: {out.label()}{kernel}\n{transport}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    io.save(fig, io.out_dir(args, out), "mmd.png", args.dpi)
    if learned is not None and len(learned):
        summary = f"MMD^2 at T={time[-1]:g}: learned mean {np.nanmean(learned[:, -1]):.4g}"
        if random is not None and random.size:
            summary += f", random mean {np.nanmean(random[:, -1]):.4g}"
        if noise_floor is not None:
            summary += f", noise floor {noise_floor:.4g}"
        if floor_pt is not None:
            summary += f", MMD^2(p, p_t) {floor_pt:.4g} at t = {floor_t:g}"
        print(summary)
    return 0


if __name__ == "__main__":
    io.main_wrapper(main)
