#!/usr/bin/python3
"""Fidelity study: trains flows under several settings and measures how well they keep the
data distribution at long horizons (issue 5; results in bench/FIDELITY.md).

usage: bench/fidelity.py [--systems ring,two_peaks,two_moons,lorenz] [--configs NAME,...]
                         [--jobs 2] [--out out/fidelity] [--eqflow build/bin/eqflow]
                         [--seeds N] [--quick]

A configuration is a '+'-joined list of named levers (CONFIGS below) and literal deck settings,
e.g. --configs default,cosine+eta0.03+tau0.05,cosine+flow.epochs=2048.

For every system and configuration it runs `eqflow run inputs/<system>.yaml` with the
configuration's --set overrides plus the study's measurement settings (2,000 data points
transported by RK4, dt 0.1, to T = 50, recorded every T = 10, MMD^2 with the fixed bandwidth
0.5 of bench/FIDELITY.md rather than eqflow's default median heuristic), then
prints one table row: MMD^2 at T = 10 and T = 50 with the noise floor (two disjoint data
samples) and untrained random flows, for the ring the fraction of points still in
1 <= r <= 2 and the mean radius (the data's in brackets), the fraction of integrations that
stay bounded, the exact equilibrium residual on a held-out draw, and for lorenz the
Lyapunov exponents (reference procedure; stable trajectories) and the field similarity.
Runs already complete in the output are reused (eqflow resumes), so the study can be
extended or rerun cheaply.
"""
import argparse
import concurrent.futures
import os
import subprocess
import sys

import h5py
import numpy as np

# Each configuration: a name and the deck overrides it applies (levers of DESIGN.md 2).
CONFIGS = {
    "reference": ["preset=reference"],
    "default": [],
    "cosine": ["flow.lr_schedule=cosine"],
    "unbiased": ["flow.divergence=unbiased", "flow.probes=10"],
    "t0.1": ["flow.t=0.1"],
    "t0.05": ["flow.t=0.05"],
    "epochs4x": ["flow.epochs=4096"],
    "cosine_epochs4x": ["flow.lr_schedule=cosine", "flow.epochs=4096"],
    "norm_data": ["analysis.norm_statistics=data"],
    "cosine_norm_data": ["flow.lr_schedule=cosine", "analysis.norm_statistics=data"],
    "diffused_start": ["analysis.mmd.start=diffused"],
    "cosine_epochs4x_diffused_start": ["flow.lr_schedule=cosine", "flow.epochs=4096",
                                       "analysis.mmd.start=diffused"],
    "score_cosine": ["score.lr_schedule=cosine"],
}
# Shorthands of the Langevin-corrected SDE's settings (analysis.langevin): etaX, tauX.
for value in ("0.01", "0.03", "0.1", "0.3"):
    CONFIGS[f"eta{value}"] = [f"analysis.langevin.eta={value}"]
for value in ("0.01", "0.02", "0.03", "0.04", "0.05", "0.1"):
    CONFIGS[f"tau{value}"] = [f"analysis.langevin.tau={value}"]


def overrides(config):
    """Deck overrides of a configuration: '+'-joined names of CONFIGS or literal key=value
    settings, e.g. cosine+score_cosine+eta0.03+analysis.langevin.tau=0.04."""
    sets = []
    for part in config.split("+"):
        if part in CONFIGS:
            sets += CONFIGS[part]
        elif "=" in part:
            sets.append(part)
        else:
            raise KeyError(part)
    return sets


MEASURE = ["analysis.mmd.points=2000", "analysis.mmd.dt=0.1", "analysis.mmd.steps=500",
           "analysis.mmd.every=100", "analysis.mmd.bandwidth=0.5", "analysis.mmd.random_flows=4"]


def run(eqflow, system, name, overrides, out, seeds, quick):
    output = os.path.join(out, f"{system}_{name}")
    sets = list(overrides) + MEASURE + [f"output={output}"]
    if seeds:
        sets.append(f"experiments={seeds}")
    if quick:
        sets += ["score.epochs=64", "flow.epochs=64"]
    cmd = [eqflow, "run", f"inputs/{system}.yaml", "--no-progress"]
    for s in sets:
        cmd += ["--set", s]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    with open(output + ".log", "w") as log:
        subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, check=True)
    return output


def summarise(system, name, output):
    with h5py.File(os.path.join(output, "run.h5"), "r") as run:
        summary = run["summary"]
        t = summary["mmd/time"][()]
        i10, i50 = int(np.argmin(abs(t - 10))), int(np.argmin(abs(t - 50)))
        learned = summary["mmd/learned"][()]
        row = {
            "system": system, "config": name, "seeds": len(summary["seeds"][()]),
            "mmd10": learned[:, i10].mean(), "mmd50": learned[:, i50].mean(),
            "mmd50_worst": learned[:, i50].max(),
            "floor": float(summary["mmd/noise_floor"][()]),
            "random50": summary["mmd/random"][()][:, i50].mean(),
        }
        points = run["data/points"][()]
        row["data_radius"] = float(np.hypot(points[:, 0], points[:, 1]).mean())
        if "lyapunov" in summary:
            row["lyapunov"] = summary["lyapunov/exponent"][()]
            row["stable"] = summary["lyapunov/stable"][()]
        if "similarity" in summary:
            row["similarity"] = summary["similarity"][()].mean()
        seeds = summary["seeds"][()]
    bounded, annulus, radius, residual = [], [], [], []
    for k in seeds:
        with h5py.File(os.path.join(output, "seeds", f"seed_{k:06d}.h5"), "r") as f:
            m = f["analysis/mmd"]
            bounded.append(m["bounded"][i50])
            if "annulus" in m:
                annulus.append((m["annulus"][i10], m["annulus"][i50]))
                radius.append(m["mean_radius"][i50])
            if "analysis/residual_heldout" in f:
                residual.append(f["analysis/residual_heldout"][()])
    row["bounded50"] = float(np.mean(bounded))
    if annulus:
        row["annulus10"] = float(np.mean([a for a, _ in annulus]))
        row["annulus50"] = float(np.mean([b for _, b in annulus]))
        row["radius50"] = float(np.mean(radius))
    if residual:
        row["residual"] = float(np.mean(residual))
    return row


def table(rows):
    lines = ["| system | config | seeds | MMD^2 T=10 | MMD^2 T=50 (worst seed) | noise floor | "
             "random flows T=50 | bounded T=50 | annulus T=10 / T=50 | mean radius T=50 (data) | "
             "held-out residual | Lyapunov (min, mean; stable min) | field similarity |",
             "|" + "---|" * 13]
    for r in rows:
        ann = (f"{r['annulus10']:.1%} / {r['annulus50']:.1%}" if "annulus10" in r else "-")
        rad = (f"{r['radius50']:.3f} ({r['data_radius']:.3f})" if "radius50" in r else "-")
        lyap = (f"{r['lyapunov'].min():+.4f}, {r['lyapunov'].mean():+.4f}; {int(r['stable'].min())}"
                if "lyapunov" in r else "-")
        sim = f"{r['similarity']:.3f}" if "similarity" in r else "-"
        res = f"{r['residual']:.4f}" if "residual" in r else "-"
        lines.append(f"| {r['system']} | {r['config']} | {r['seeds']} | {r['mmd10']:.5f} | "
                     f"{r['mmd50']:.5f} ({r['mmd50_worst']:.5f}) | {r['floor']:.5f} | "
                     f"{r['random50']:.3f} | {r['bounded50']:.1%} | {ann} | {rad} | {res} | "
                     f"{lyap} | {sim} |")
    return "\n".join(lines)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", default="ring,two_peaks,two_moons")
    parser.add_argument("--configs", default="reference,default,cosine")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="out/fidelity")
    parser.add_argument("--eqflow", default="build/bin/eqflow")
    parser.add_argument("--seeds", type=int, default=0, help="experiments per run (0: deck's)")
    parser.add_argument("--quick", action="store_true", help="64 + 64 epochs (a smoke run)")
    args = parser.parse_args(argv)
    try:
        sets = {c: overrides(c) for c in args.configs.split(",")}
    except KeyError as e:
        parser.error(f"unknown config {e}; known: {', '.join(CONFIGS)} or key=value")
    os.makedirs(args.out, exist_ok=True)
    jobs = [(s, c) for s in args.systems.split(",") for c in args.configs.split(",")]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        outputs = list(pool.map(lambda j: run(args.eqflow, j[0], j[1], sets[j[1]], args.out,
                                              args.seeds, args.quick), jobs))
    print(table([summarise(s, c, o) for (s, c), o in zip(jobs, outputs)]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
