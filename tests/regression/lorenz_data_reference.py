#!/usr/bin/python3
"""Gold numbers for pipeline_lorenz.json that do not come from eqflow.

usage: lorenz_data_reference.py [GOLD_JSON]   (default: pipeline_lorenz.json beside this file)

Recomputes, with numpy alone, the per-axis mean and standard deviation of the raw Lorenz data
of inputs/tests/pipeline_lorenz.yaml, which eqflow stores as /data/mean and /data/scale of
run.h5. The definition followed is the documented one (include/eqflow/systems/toy_systems.hpp,
include/eqflow/core/rng.hpp): 10 trajectories of points // 10 = 200 RK4 steps of dt = 0.01 for
sigma = 10, rho = 28, beta = 8/3, trajectory j starting at standard normals of Philox-4x32-10
(Salmon et al. 2011, checked here against Random123's known answers) keyed by (seed 3, stream
FNV-1a("eqflow.systems.lorenz.start")), indices 3 j + axis, each normal the Box-Muller cosine
(even index) or sine (odd index) of the 53-bit uniforms of block index // 2; the statistics are
over all 2000 recorded points (population standard deviation).

Writes (or replaces) the entries for /data/mean and /data/scale, marked "reference", at the
end of GOLD_JSON; check_gold.py --regenerate leaves them alone.
"""
import json
import os
import sys

import numpy as np

SEED = 3
POINTS = 2000
TRAJECTORIES = 10
DT = 0.01
SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0
M32 = 0xFFFFFFFF


def philox4x32_10(counter, key):
    """Philox-4x32-10 of a 4-word counter and a 2-word key (the Random123 reference)."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for _ in range(10):
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & M32, p1 & M32, ((p0 >> 32) ^ c3 ^ k1) & M32, \
            p0 & M32
        k0 = (k0 + 0x9E3779B9) & M32
        k1 = (k1 + 0xBB67AE85) & M32
    return c0, c1, c2, c3


def check_known_answers():
    # Random123 kat_vectors, philox4x32 10.
    assert philox4x32_10((0, 0, 0, 0), (0, 0)) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)
    assert philox4x32_10((M32,) * 4, (M32, M32)) == (0x408F276D, 0x41C83B0E, 0xA20BC7C6,
                                                     0x6D5451FD)
    assert philox4x32_10((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
                         (0xA4093822, 0x299F31D0)) == (0xD16CFE09, 0x94FDCCEB, 0x5001E420,
                                                       0x24126EA1)


def fnv1a(text):
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def normal(seed, stream, index):
    block = index >> 1
    v = philox4x32_10((block & M32, block >> 32, stream & M32, stream >> 32),
                      (seed & M32, seed >> 32))
    u1 = (float(((v[1] << 32) | v[0]) >> 11) + 0.5) / 2.0**53
    u2 = (float(((v[3] << 32) | v[2]) >> 11) + 0.5) / 2.0**53
    radius = np.sqrt(-2.0 * np.log(u1))
    angle = 2.0 * np.pi * u2
    return radius * (np.sin(angle) if index & 1 else np.cos(angle))


def lorenz(x):  # (n, 3) -> (n, 3)
    return np.stack([SIGMA * (x[:, 1] - x[:, 0]), x[:, 0] * (RHO - x[:, 2]) - x[:, 1],
                     x[:, 0] * x[:, 1] - BETA * x[:, 2]], axis=1)


def lorenz_points():
    stream = fnv1a("eqflow.systems.lorenz.start")
    x = np.array([[normal(SEED, stream, 3 * j + k) for k in range(3)]
                  for j in range(TRAJECTORIES)])
    steps = POINTS // TRAJECTORIES
    points = np.empty((TRAJECTORIES, steps, 3))
    for step in range(steps):
        k1 = lorenz(x)
        k2 = lorenz(x + 0.5 * DT * k1)
        k3 = lorenz(x + 0.5 * DT * k2)
        k4 = lorenz(x + DT * k3)
        x = x + DT / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        points[:, step] = x
    return points.reshape(-1, 3)


def main(argv):
    gold_path = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                           "pipeline_lorenz.json")
    check_known_answers()
    points = lorenz_points()
    reason = ("numpy reference (tests/regression/lorenz_data_reference.py), not eqflow: "
              "the raw Lorenz data's per-axis {} over {} points; rtol 1e-9 allows for the "
              "order of float64 sums (differences ~1e-14), a change of any constant, step or "
              "random start moves it by far more")
    entries = [
        {"dataset": "/data/mean", "values": [float(v) for v in points.mean(axis=0)],
         "atol": 0.0, "rtol": 1e-9, "reference": reason.format("mean", len(points))},
        {"dataset": "/data/scale", "values": [float(v) for v in points.std(axis=0)],
         "atol": 0.0, "rtol": 1e-9, "reference": reason.format("standard deviation",
                                                               len(points))},
    ]
    with open(gold_path) as f:
        gold = json.load(f)
    names = {e["dataset"] for e in entries}
    gold["entries"] = [e for e in gold["entries"] if e["dataset"] not in names] + entries
    with open(gold_path, "w") as f:
        json.dump(gold, f, indent=2)
        f.write("\n")
    for e in entries:
        print(e["dataset"], e["values"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
