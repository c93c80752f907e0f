#!/usr/bin/python3
"""Fidelity study: trains flows under several settings and measures how well they keep the
data distribution at long horizons (results in bench/FIDELITY.md).

usage: bench/fidelity.py report [--quick] [--write FILE] [--jobs 2] [--out DIR] [--eqflow BIN]
       bench/fidelity.py runs --systems ring,two_peaks --configs NAME,... [--seeds N] [--quick]

`report` runs every study of STUDIES (finished runs in --out are reused: eqflow resumes) and
writes bench/FIDELITY.md from bench/FIDELITY.template.md, stating the eqflow commit that made
the runs, the date and the machine. --quick runs the same tables with tiny settings (one seed,
16 epochs) into a scratch file: the suite runs it so the command keeps working.

`runs` prints one row per system x configuration (the ad-hoc study of earlier rounds). A
configuration is a '+'-joined list of named levers (CONFIGS) and literal deck settings, e.g.
--configs default,eta0+flow.t_count=2.

Every run is `eqflow run DECK` with the configuration's --set overrides plus the study's
measurement settings: 2,000 transported points, RK4 dt 0.1 to T = 50, recorded every T = 10;
MMD^2 with the fixed bandwidth 0.5 on the built-in 2-D sets and lorenz (the paper's), the
median-distance bandwidth (eqflow's default) on user data sets.
"""
import argparse
import concurrent.futures
import datetime
import os
import platform
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# Named levers: deck overrides.
CONFIGS = {
    "reference": ["preset=reference"],
    "default": [],
    "eta0": ["analysis.langevin.eta=0"],
    "cosine": ["flow.lr_schedule=cosine"],
    "score_cosine": ["score.lr_schedule=cosine"],
    "t_count2": ["flow.t_count=2"],
    "t_count4": ["flow.t_count=4"],
    "norm_data": ["analysis.norm_statistics=data"],
    "norm_diffused": ["analysis.norm_statistics=diffused"],
    "diffused_start": ["analysis.mmd.start=diffused"],
    "fixed": ["select.enabled=false"],
    "no_lyapunov": ["analysis.lyapunov.enabled=false", "analysis.spectrum.enabled=false"],
}
for value in ("0.01", "0.03", "0.1", "0.3"):
    CONFIGS[f"eta{value}"] = [f"analysis.langevin.eta={value}"]
for value in ("0.02", "0.03", "0.04", "0.05"):
    CONFIGS[f"tau{value}"] = [f"analysis.langevin.tau={value}"]


def overrides(config):
    """Deck overrides of a '+'-joined configuration of CONFIGS names and key=value settings."""
    sets = []
    for part in config.split("+"):
        if part in CONFIGS:
            sets += CONFIGS[part]
        elif "=" in part:
            sets.append(part)
        else:
            raise KeyError(part)
    return sets


# User data sets of the selection study (made for it; no default was tuned on them).
def blobs_2d(rng):
    """Five anisotropic Gaussian blobs of unequal size and weight on a pentagon."""
    n = 6000
    k = rng.choice(5, size=n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    angle = 2 * np.pi * k / 5
    centre = 3 * np.c_[np.cos(angle), np.sin(angle)]
    width = np.array([0.15, 0.3, 0.5, 0.25, 0.4])[k]
    z = rng.standard_normal((n, 2)) * np.c_[width, 0.4 * width]
    rot = np.stack([np.c_[np.cos(angle), -np.sin(angle)], np.c_[np.sin(angle), np.cos(angle)]], 1)
    return centre + np.einsum("nij,nj->ni", rot, z)


def shell_3d(rng):
    """A thin spherical shell (radius 1, radial noise 0.05), denser towards one pole."""
    n = 6000
    z = 2 * np.sqrt(rng.uniform(0, 1, n)) - 1  # density of z grows linearly towards +1
    phi = rng.uniform(0, 2 * np.pi, n)
    r = 1 + 0.05 * rng.standard_normal(n)
    s = np.sqrt(1 - z ** 2)
    return r[:, None] * np.c_[s * np.cos(phi), s * np.sin(phi), z]


def mixture_6d(rng):
    """Three correlated Gaussian components in 6-D with random covariances."""
    n, d = 6000, 6
    k = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    means = rng.normal(0, 2.5, (3, d))
    factors = [rng.normal(0, 1, (d, d)) * 0.5 for _ in range(3)]
    z = rng.standard_normal((n, d))
    return means[k] + np.einsum("nij,nj->ni", np.stack(factors)[k], z)


DATASETS = {"blobs_2d": blobs_2d, "shell_3d": shell_3d, "mixture_6d": mixture_6d}
BUILTIN = ("ring", "two_peaks", "two_moons", "lorenz")


def deck_for(system, out):
    """The deck of a built-in system, or a deck of a generated user data set."""
    if system in BUILTIN:
        return os.path.join(HERE, "..", "inputs", f"{system}.yaml")
    path = os.path.join(out, "data", f"{system}.csv")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        x = DATASETS[system](np.random.default_rng(20261129))
        np.savetxt(path + ".tmp", x, delimiter=",")
        os.replace(path + ".tmp", path)
    deck = os.path.join(out, "data", f"{system}.yaml")
    with open(deck, "w") as f:
        f.write(f"system: samples\ndata:\n  file: {os.path.abspath(path)}\n")
    return deck


def measure(system, quick):
    sets = ["analysis.mmd.dt=0.1", "analysis.mmd.random_flows=4"]
    if quick:
        sets += ["analysis.mmd.points=128", "analysis.mmd.steps=40", "analysis.mmd.every=20",
                 "analysis.mmd.random_flows=1", "score.epochs=16", "flow.epochs=16",
                 "analysis.lyapunov.enabled=false", "analysis.spectrum.enabled=false",
                 "select.score_epochs=[8, 16]", "select.horizon=2", "select.points=128"]
    else:
        sets += ["analysis.mmd.points=2000", "analysis.mmd.steps=500", "analysis.mmd.every=100"]
    # One bandwidth for every configuration of a system (the reference preset pins 0.5).
    sets.append("analysis.mmd.bandwidth=" + ("0.5" if system in BUILTIN else "median"))
    return sets


def run(eqflow, system, name, out, seeds, quick):
    """One `eqflow run` (reused when complete); returns its output directory."""
    output = os.path.join(out, f"{system}_{name}")
    sets = overrides(name) + measure(system, quick) + [f"output={output}"]
    if quick:
        # Fixed settings the selection would choose are not given by hand.
        if system not in BUILTIN and "fixed" not in name and "reference" not in name:
            sets = [s for s in sets if not s.startswith("score.epochs=")]
    if seeds:
        sets.append(f"experiments={seeds}")
        if complete(output, seeds):  # eqflow would only recompute the same summary
            return output
    cmd = [eqflow, "run", deck_for(system, out), "--no-progress"]
    for s in sets:
        cmd += ["--set", s]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    with open(output + ".log", "w") as log:
        done = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: see {output}.log")
    return output


def complete(output, seeds):
    """Whether `output` holds a summary of exactly `seeds` complete seeds."""
    try:
        with h5py.File(os.path.join(output, "summary.h5"), "r") as f:
            s = f["summary"]
            return int(s.attrs["experiments"]) == seeds and len(s["seeds"]) == seeds
    except (OSError, KeyError):
        return False


def read_run(output):
    """Everything the tables need from one output directory, at T = 10 and the last time."""
    r = {"output": output}
    with h5py.File(os.path.join(output, "run.h5"), "r") as f:
        s = f["summary"]
        t = s["mmd/time"][()]
        i10, last = int(np.argmin(abs(t - 10))), len(t) - 1
        r["T"] = t[last]
        learned = s["mmd/learned"][()]
        r["seeds"] = len(s["seeds"][()])
        r["learned10"], r["learned"] = learned[:, i10], learned[:, last]
        r["pure"] = s["mmd/pure_flow"][()][:, last] if "mmd/pure_flow" in s else None
        r["langevin_only"] = (s["mmd/langevin_only"][()][last] if "mmd/langevin_only" in s
                              else None)
        r["random"] = s["mmd/random"][()][:, last].mean() if "mmd/random" in s else np.nan
        r["noise_floor"] = float(s["mmd/noise_floor"][()]) if "mmd/noise_floor" in s else np.nan
        r["floor"] = float(s["mmd/diffusion_floor"][()])
        r["floor_t"] = float(s["mmd/diffusion_floor"].attrs["t"])
        r["bandwidth"] = float(s["mmd"].attrs["bandwidth"])
        r["residual"] = np.nanmean(s["residual_heldout"][()]) if "residual_heldout" in s else None
        if "similarity" in s:
            r["similarity"] = np.nanmean(s["similarity"][()])
        r["revision"] = f.attrs["gitRevision"]
        r["revision"] = r["revision"].decode() if isinstance(r["revision"], bytes) else r["revision"]
        data = f["data/points"][()]
        r["data_radius"] = float(np.hypot(data[:, 0], data[:, 1]).mean())
        if "selection" in f:
            sel = f["selection"]
            k = int(sel.attrs["chosen"])
            r["chosen"] = (int(sel["score_epochs"][k]), float(sel["t"][k]), float(sel["eta"][k]))
            r["candidates"] = len(sel["t"])
        seeds = s["seeds"][()]
    annulus, radius, pure_annulus = [], [], []
    for k in seeds:
        with h5py.File(os.path.join(output, "seeds", f"seed_{k:06d}.h5"), "r") as g:
            m = g["analysis/mmd"]
            if "annulus" in m:
                annulus.append(m["annulus"][-1])
                radius.append(m["mean_radius"][-1])
            if "pure_flow_annulus" in m:
                pure_annulus.append(m["pure_flow_annulus"][-1])
            r["eta"], r["tau"] = float(m.attrs["langevin_eta"]), float(m.attrs["langevin_tau"])
            r["t"] = float(g["flow"].attrs["t"])
    if annulus:
        r["annulus"], r["radius"] = float(np.mean(annulus)), float(np.mean(radius))
    # Per seed: the annulus of the transport without the correction.
    if pure_annulus:
        r["pure_annulus"] = np.array(pure_annulus)
    # The transport without the correction: the learned curve itself when eta = 0.
    if r["pure"] is None and r["eta"] == 0:
        r["pure"] = r["learned"]
        r["pure_annulus"] = np.array(annulus) if annulus else None
    residuals = s_residual(output, seeds)
    r["residuals"] = residuals
    return r


def s_residual(output, seeds):
    out = []
    for k in seeds:
        with h5py.File(os.path.join(output, "seeds", f"seed_{k:06d}.h5"), "r") as g:
            out.append(g["analysis/residual_heldout"][()] if "analysis/residual_heldout" in g
                       else np.nan)
    return np.array(out)


def first_seeds(r, n):
    """The run restricted to its first n seeds (a lever measured on fewer seeds is compared
    with its baseline on the same seeds)."""
    out = dict(r)
    for key in ("pure", "learned", "learned10", "residuals", "pure_annulus"):
        if out.get(key) is not None:
            out[key] = out[key][:n]
    out["seeds"] = min(n, r["seeds"])
    return out


def spread(values):
    """mean (median, worst) of per-seed values."""
    v = np.asarray(values, dtype=float)
    return f"{np.nanmean(v):.4f} ({np.nanmedian(v):.4f}, {np.nanmax(v):.4f})"


def ratio(values, floor, noise):
    """mean / floor, or '-' where the floor is within twice the sampling noise (|noise floor|)."""
    if not floor > 2 * abs(noise):
        return "- (floor < 2x noise)"
    return f"{np.nanmean(values) / floor:.1f}x"


# ---- the tables of FIDELITY.md -------------------------------------------------------------

def table_reproduce(rows):
    lines = ["| configuration | seeds | MMD^2 T=10 | MMD^2 T=50: mean (median, worst) | "
             "annulus T=50 | mean radius T=50 (data) | held-out residual | MMD^2(p, p_t) at t |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['seeds']} | {np.nanmean(r['learned10']):.5f} | {spread(r['learned'])} | "
            f"{r.get('annulus', np.nan):.1%} | {r.get('radius', np.nan):.3f} ({r['data_radius']:.3f}) | "
            f"{r['residual']:.4f} | {r['floor']:.4f} at {r['floor_t']:g} |")
    return "\n".join(lines)


TARGET = {"ring": 2.0, "two_peaks": 2.0, "two_moons": 3.0}


def table_shares(rows):
    lines = ["| system | t | MMD^2(p, p_t) | pure flow: mean (median, worst) | pure / floor "
             "(target) | Langevin alone (eta, tau) | both | reference preset (pure flow) | "
             "random flows | noise floor | met |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for system, r, ref in rows:
        target = TARGET.get(system)
        pure = np.nanmean(r["pure"])
        met = "-" if target is None else (
            "yes" if pure <= target * r["floor"] and pure <= np.nanmean(ref["learned"]) else "no")
        lines.append(
            f"| {system} | {r['t']:g} | {r['floor']:.4f} | {spread(r['pure'])} | "
            f"{ratio(r['pure'], r['floor'], r['noise_floor'])} ({'%gx' % target if target else '-'}) | "
            f"{r['langevin_only']:.4f} ({r['eta']:g}, {r['tau']:g}) | {spread(r['learned'])} | "
            f"{spread(ref['learned'])} | {r['random']:.3f} | {r['noise_floor']:.5f} | {met} |")
    return "\n".join(lines)


def table_levers(rows):
    lines = ["| system | lever (pure flow) | seeds | t | MMD^2(p, p_t) | MMD^2 T=50: mean (median, "
             "worst) | / floor | annulus T=50 | held-out residual |",
             "|---|---|---|---|---|---|---|---|---|"]
    for system, name, r in rows:
        ann = (f"{np.mean(r['pure_annulus']):.1%}" if r.get("pure_annulus") is not None
               else "-")
        lines.append(f"| {system} | {name} | {r['seeds']} | {r['t']:g} | {r['floor']:.4f} | "
                     f"{spread(r['pure'])} | {ratio(r['pure'], r['floor'], r['noise_floor'])} | {ann} | "
                     f"{np.nanmean(r['residuals']):.4f} |")
    return "\n".join(lines)


def table_from_pt(rows):
    lines = ["| system | pure flow from p_t, against p_t: MMD^2 T=50 mean (median, worst) | "
             "noise floor (two p_t samples) | pure flow from p, against p | MMD^2(p, p_t) |",
             "|---|---|---|---|---|"]
    for system, r, from_p in rows:
        lines.append(f"| {system} | {spread(r['pure'])} | {r['noise_floor']:.5f} | "
                     f"{spread(from_p['pure'])} | {from_p['floor']:.4f} |")
    return "\n".join(lines)


def table_user(rows):
    lines = ["| data set | settings | chosen (score epochs, t, eta) | MMD^2 T=10 | "
             "MMD^2 T=50: mean (median, worst) | the same flows without the correction | "
             "MMD^2(p, p_t) | random flows (same transport) | Langevin alone | noise floor | "
             "RBF bandwidth |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for system, name, r in rows:
        chosen = ("%d, %g, %g (of %d)" % (*r["chosen"], r["candidates"]) if "chosen" in r
                  else "-")
        lo = f"{r['langevin_only']:.4f}" if r["langevin_only"] is not None else "-"
        pure = spread(r["pure"]) if r["eta"] > 0 else "(eta 0)"
        lines.append(f"| {system} | {name} | {chosen} | {np.nanmean(r['learned10']):.4f} | "
                     f"{spread(r['learned'])} | {pure} | {r['floor']:.4f} | {r['random']:.4f} | "
                     f"{lo} | {r['noise_floor']:.5f} | {r['bandwidth']:.3g} |")
    return "\n".join(lines)


def levers(system):
    """The pure flow (eta0) and the levers measured on it. Twice the flow epochs on the ring
    only (it doubles the cost); the training time t 0.1 against the default 0.2 on ring and
    two_peaks (two_moons' default is 0.1; its 0.2 and 0.05 are in the issue-5 history)."""
    out = ["eta0", "eta0+t_count2", "eta0+norm_diffused"]
    if system == "ring":
        out.append("eta0+flow.epochs=2048")
    if system != "two_moons":
        out.append("eta0+flow.t=0.1")
    return out
USER_CONFIGS = {"fixed defaults (select off)": "fixed", "reference preset": "reference",
                "chosen from a validation split (default)": "default"}


def studies(quick):
    """(system, configuration, seeds) of every run of the report: 5 seeds for the 2-D sets'
    defaults, pure flow and reference preset, 3 for the other levers, lorenz and the user
    data sets."""
    seeds = 1 if quick else 5
    few = 1 if quick else 3
    jobs = []
    for system in ("ring", "two_peaks", "two_moons"):
        jobs += [(system, c, seeds) for c in ("default", "eta0", "reference")]
        jobs += [(system, c, few) for c in levers(system)[1:]]
    jobs += [(system, "eta0+diffused_start", few) for system in ("ring", "two_peaks")]
    for system in DATASETS:
        jobs += [(system, c, few) for c in USER_CONFIGS.values()]
    # lorenz: 50,000 points, three times the optimiser steps of a 2-D seed: 3 seeds.
    jobs.append(("lorenz", "no_lyapunov+eta0.03+tau0.03", few))
    jobs.append(("lorenz", "no_lyapunov+reference", few))
    return jobs


def sources_note(revisions):
    """Whether the C++ sources of the runs' commit are those of the checkout (the runs then
    stand for this code), as a clause of the stamp."""
    if len(revisions) != 1:
        return ""
    try:
        head = subprocess.run(["git", "-C", HERE, "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        same = subprocess.run(["git", "-C", HERE, "diff", "--quiet", revisions[0], "HEAD", "--",
                               "src", "include", "CMakeLists.txt", "cmake"]).returncode == 0
    except (OSError, subprocess.CalledProcessError):
        return ""
    if head.startswith(revisions[0]) or revisions[0].startswith(head):
        return ""
    if same:
        return f" (its C++ sources equal those of {head}, the checkout that wrote this file)"
    return f" (the C++ sources changed between it and {head}: rerun for this code)"


SEEDS_NOTE = ("5 seeds for the 2-D sets' defaults, pure flow and reference preset, 3 for the "
              "other levers, lorenz and the user data sets")


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            have = next(line for line in f if line.startswith("flags")).split()
        flags = "/".join(x for x in ("avx2", "fma", "avx512f") if x in have)
    except (OSError, StopIteration):
        pass
    return (f"{cpu} ({flags or 'no AVX'}), {os.cpu_count()} cores, {platform.system()} "
            f"{platform.release()}, eqflow built with its default -march=native")


def report(args):
    jobs = studies(args.quick)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        outputs = dict(zip(jobs, pool.map(
            lambda j: run(args.eqflow, j[0], j[1], args.out, j[2], args.quick), jobs)))
    runs = {(s, c): read_run(o) for (s, c, _), o in outputs.items()}
    few_seeds = min(n for (_, c, n) in jobs if "t_count2" in c)
    revisions = sorted({r["revision"] for r in runs.values()})
    tables = {
        "reproduce": table_reproduce([
            ("pure flow (eta 0), default training", runs[("ring", "eta0")]),
            ("reference preset", runs[("ring", "reference")]),
            ("eqflow defaults (Langevin eta 0.03, tau 0.03)", runs[("ring", "default")])]),
        "shares": table_shares(
            [(s, runs[(s, "default")], runs[(s, "reference")]) for s in ("ring", "two_peaks", "two_moons")]
            + [("lorenz", runs[("lorenz", "no_lyapunov+eta0.03+tau0.03")],
                runs[("lorenz", "no_lyapunov+reference")])]),
        "levers": table_levers(
            [row for s in ("ring", "two_peaks", "two_moons")
             for row in [(s, "eta0", runs[(s, "eta0")]),
                         (s, "eta0, seeds 0-2", first_seeds(runs[(s, "eta0")], few_seeds))]
             + [(s, c, runs[(s, c)]) for c in levers(s)[1:]]]),
        "from_pt": table_from_pt([(s, runs[(s, "eta0+diffused_start")],
                                   first_seeds(runs[(s, "eta0")], few_seeds))
                                  for s in ("ring", "two_peaks")]),
        "user": table_user([(s, name, runs[(s, c)]) for s in DATASETS
                            for name, c in USER_CONFIGS.items()]),
    }
    stamp_sources = sources_note(revisions)
    stamp = (f"Generated by `/usr/bin/python3 bench/fidelity.py report{' --quick' if args.quick else ''}` "
             f"on {datetime.date.today().isoformat()} from runs of eqflow git "
             f"{', '.join(revisions)}{' (MIXED: rerun with an empty --out)' if len(revisions) > 1 else ''}"
             f"{stamp_sources} on {machine()}; "
             f"{'one seed, 16 epochs (quick mode: not results)' if args.quick else SEEDS_NOTE}.")
    with open(os.path.join(HERE, "FIDELITY.template.md")) as f:
        text = f.read()
    text = text.replace("{{stamp}}", stamp)
    for name, body in tables.items():
        text = text.replace("{{table:%s}}" % name, body)
    missing = [line for line in text.splitlines() if "{{" in line]
    if missing:
        raise RuntimeError(f"template placeholders left: {missing}")
    tmp = args.write + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, args.write)
    print(f"wrote {args.write} ({len(runs)} runs, eqflow git {', '.join(revisions)})")
    return 0


def runs_table(args):
    jobs = [(s, c) for s in args.systems.split(",") for c in args.configs.split(",")]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        outputs = list(pool.map(lambda j: run(args.eqflow, j[0], j[1], args.out, args.seeds,
                                              args.quick), jobs))
    print(table_levers([(s, c, read_run(o)) for (s, c), o in zip(jobs, outputs)]))
    return 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["report", "runs"])
    parser.add_argument("--systems", default="ring,two_peaks,two_moons")
    parser.add_argument("--configs", default="eta0")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="out/fidelity")
    parser.add_argument("--eqflow", default="build/bin/eqflow")
    parser.add_argument("--seeds", type=int, default=0, help="experiments per run (0: deck's)")
    parser.add_argument("--quick", action="store_true", help="tiny settings (a smoke run)")
    parser.add_argument("--write", default=os.path.join(HERE, "FIDELITY.md"))
    args = parser.parse_args(argv)
    for c in args.configs.split(","):
        try:
            overrides(c)
        except KeyError as e:
            parser.error(f"unknown config {e}; known: {', '.join(CONFIGS)} or key=value")
    os.makedirs(args.out, exist_ok=True)
    for system in DATASETS:  # written once, before the runs start in parallel
        deck_for(system, args.out)
    return report(args) if args.command == "report" else runs_table(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
