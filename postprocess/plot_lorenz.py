#!/usr/bin/python3
"""3-D systems (Lorenz): the example trajectories of a learned flow seed, in 3-D and in the
three 2-D projections (x-y, x-z, y-z), over the data, in raw (de-normalised) coordinates.
A flow that has learned the attractor's dynamics keeps its trajectories on the butterfly.

usage: plot_lorenz.py OUTPUT [-o OUT_DIR] [--seed K]... [--max-seeds N]
       ->  OUT_DIR/lorenz_seed_NNNNNN.png per seed
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from mpl_toolkits.mplot3d import Axes3D  # noqa: E402,F401  (registers "3d" on old matplotlib)

import eqflow_io as io  # noqa: E402

AXES = ("x", "y", "z")
PROJECTIONS = ((0, 1), (0, 2), (1, 2))


def draw_seed(out, k, data, args, directory):
    with out.seed(k) as f:
        traj = io.read(f, "analysis/trajectory")  # (frames, trajectories, 3), normalised
        if traj is None:
            return None
        dt = f["analysis/trajectory"].attrs.get("dt", None)
        exponent = io.read(f, "analysis/lyapunov/exponent")
        similarity = io.read(f, "analysis/similarity")
    traj = out.denormalise(traj)
    palette = [f"C{i}" for i in (0, 1, 2, 3, 4, 5, 6, 8, 9)]  # no grey: the data are grey
    colors = [palette[i % len(palette)] for i in range(traj.shape[1])]

    fig = plt.figure(figsize=(13, 10), constrained_layout=True)
    grid = fig.add_gridspec(2, 2)
    ax3 = fig.add_subplot(grid[0, 0], projection="3d")
    if data is not None:
        ax3.scatter(data[:, 0], data[:, 1], data[:, 2], s=1, color="0.45", alpha=0.2,
                    lw=0, rasterized=True)
    for i in range(traj.shape[1]):
        ax3.plot(traj[:, i, 0], traj[:, i, 1], traj[:, i, 2], color=colors[i], lw=1.0)
        ax3.scatter(*traj[0, i], color=colors[i], s=15)
    ax3.set_xlabel("x")
    ax3.set_ylabel("y")
    ax3.set_zlabel("z")
    ax3.set_title("3-D")
    for n, (a, b) in enumerate(PROJECTIONS):
        ax = fig.add_subplot(grid[(n + 1) // 2, (n + 1) % 2])
        if data is not None:
            ax.scatter(data[:, a], data[:, b], s=2, color="0.5", alpha=0.3, lw=0,
                       rasterized=True, label=f"data ({len(data)} points shown)")
        for i in range(traj.shape[1]):
            ax.plot(traj[:, i, a], traj[:, i, b], color=colors[i], lw=1.0,
                    label="learned trajectories" if i == 0 else None)
            ax.plot(traj[0, i, a], traj[0, i, b], "o", color=colors[i], ms=4,
                    label="starts (data points)" if i == 0 else None)
        ax.set_xlabel(AXES[a])
        ax.set_ylabel(AXES[b])
        ax.set_title(f"{AXES[a]}-{AXES[b]} projection")
        if n == 0:
            ax.legend(fontsize="small", loc="upper left", markerscale=3)
    details = []
    if dt is not None:
        details.append(f"{traj.shape[1]} trajectories, T = {(traj.shape[0] - 1) * dt:g} "
                       f"flow time units")
    if exponent is not None:
        details.append(f"Lyapunov exponent {exponent:+.4f}")
    if similarity is not None:
        details.append(f"similarity to the true field {similarity:.3f}")
    fig.suptitle(f"learned flow: {out.label()}, seed {k}{out.coordinates_note()}\n"
                 + ", ".join(details))
    return io.save(fig, directory, f"lorenz_seed_{k:06d}.png", args.dpi)


def main(argv):
    args = io.parser(__doc__.splitlines()[0], seeds=True).parse_args(argv)
    out = io.open_output(args.output)
    if out.dim() != 3:
        raise io.Skip(f"{args.output}: {out.system()} is {out.dim()}-D; this script draws "
                      f"3-D systems (plot_flow_field.py draws 2-D ones)")
    return io.draw_seeds(args, out, draw_seed, 20000, "/analysis/trajectory")


if __name__ == "__main__":
    io.main_wrapper(main)
