#!/usr/bin/python3
"""2-D systems: the learned velocity field of a flow seed as streamlines (coloured by speed)
over the data scatter, with the example trajectories the run integrated from data points.
Everything is drawn in raw (de-normalised) coordinates.

usage: plot_flow_field.py OUTPUT [-o OUT_DIR] [--seed K]... [--max-seeds N]
       ->  OUT_DIR/flow_field_seed_NNNNNN.png per seed
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import eqflow_io as io  # noqa: E402


def draw_seed(out, k, data, args, directory):
    with out.seed(k) as f:
        if "analysis/field" not in f:
            return None
        gx = np.asarray(f["analysis/field/x"][()], dtype=float)
        gy = np.asarray(f["analysis/field/y"][()], dtype=float)
        u = np.asarray(f["analysis/field/u"][()], dtype=float)
        v = np.asarray(f["analysis/field/v"][()], dtype=float)
        traj = io.read(f, "analysis/trajectory")
        traj_dt = f["analysis/trajectory"].attrs.get("dt", None) if traj is not None else None
        loss = io.read(f, "flow/loss")
    mean, scale = out.normalisation()
    # Raw coordinates: x = x_n * scale + mean, dx/dt = scale * dx_n/dt (the grid stays even).
    x, y = gx * scale[0] + mean[0], gy * scale[1] + mean[1]
    u, v = u * scale[0], v * scale[1]
    speed = np.hypot(u, v)

    fig, ax = plt.subplots(figsize=(7, 6.2), constrained_layout=True)
    if data is not None:
        ax.scatter(data[:, 0], data[:, 1], s=2, color="0.65", alpha=0.35, lw=0,
                   label=f"data ({len(data)} points shown)", rasterized=True)
    stream = ax.streamplot(x, y, u, v, color=speed, cmap="viridis", density=1.4,
                           linewidth=0.9, arrowsize=0.9)
    fig.colorbar(stream.lines, ax=ax, label="speed |v|  (position units / flow time)")
    if traj is not None:
        traj = out.denormalise(traj)  # (frames, trajectories, 2)
        for i in range(traj.shape[1]):
            ax.plot(traj[:, i, 0], traj[:, i, 1], color="C3", lw=1.0, alpha=0.85,
                    label="trajectories (RK4 from data points)" if i == 0 else None)
            ax.plot(traj[0, i, 0], traj[0, i, 1], "o", color="C3", ms=4,
                    label="start" if i == 0 else None)
        duration = (traj.shape[0] - 1) * traj_dt if traj_dt is not None else None
        if duration is not None:
            ax.text(0.01, 0.01, f"trajectories: T = {duration:g} flow time units",
                    transform=ax.transAxes, fontsize="small", color="0.3")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.set_aspect("equal" if 0.2 < np.ptp(y) / np.ptp(x) < 5 else "auto")
    raw = " (raw)" if out.is_normalised() else ""
    ax.set_xlabel(f"$x_1${raw}")
    ax.set_ylabel(f"$x_2${raw}")
    final = f"final flow loss {np.atleast_1d(loss)[-1]:.3g}" if loss is not None else ""
    ax.set_title(f"learned flow field: {out.label()}, seed {k}\n{final}"
                 f"{out.coordinates_note()}", fontsize="medium")
    ax.legend(fontsize="small", loc="upper left", markerscale=2)
    return io.save(fig, directory, f"flow_field_seed_{k:06d}.png", args.dpi)


def main(argv):
    args = io.parser(__doc__.splitlines()[0], seeds=True).parse_args(argv)
    out = io.open_output(args.output)
    if out.dim() != 2:
        raise io.Skip(f"{args.output}: {out.system()} is {out.dim()}-D; the velocity grid "
                      f"(/analysis/field) exists for 2-D systems only")
    return io.draw_seeds(args, out, draw_seed, 5000, "/analysis/field")


if __name__ == "__main__":
    io.main_wrapper(main)
