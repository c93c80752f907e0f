#!/usr/bin/python3
"""Checks of postprocess/alife_tracking.py and plot_alife.py on synthetic movies: discs (and one
blurred ellipse, the "firefly") of the icon colours on a white periodic canvas, blurred, with
noise, at known positions.

- ink: every icon colour (blue, red, yellow-green, grey, black) shows, white does not;
- detection: a blob split by the edges into 2 or 4 pieces is one creature at the right centroid
  (within 0.3 px), a speck below min_area is dropped;
- touching creatures (64 x 64, discs of radius 6 px like the real disc runs): 2 and 3 discs in
  contact in a row, at 6 angles, in the middle and across an edge or a corner, are 2 / 3
  creatures with centroids within 1 px (one blob each with neck 0; the same with 0.6-1.5 times
  the estimated radius); a 2:1 ellipse (semi-axes 6 x 3 and 9 x 4.5 px) at 12 angles is one; a
  disc touching an ellipse's flank gives 2; a movie of a row of 3 touching discs drifting
  across both edges, a pair coming into contact and a free disc: 6 whole tracks, 0 merges;
- tracking: 6 creatures at known constant velocities (some crossing the row edge, the column
  edge or both) over 40 frames: 6 tracks of 40 frames, no fragmentation, each creature's
  mean frame-to-frame speed within 5% (SPEED_TOLERANCE) and its net speed within 1% of the
  truth, unwrapped displacements within 1 px of the truth;
- events: a creature that leaves (its track ends), one missed for 2 frames (one track, which
  fragments with max_miss 0), two that merge (the count drops, a merge is counted);
- labels: flocking (one common velocity), attracting (converging and merging; converging to a
  ring without merging), repelling (a ring spreading out), none (random-walk jitter; and the
  constant-velocity movie, moving but not polarised); the rule on hand-made numbers;
- g(r) of uniform random (Poisson) positions is 1 within 0.1 at mid distances, 0 below the
  spacing of a lattice;
- the default start: settled_frame and start_time on hand-made counts; a flocking movie that
  forms from noise over its first frames is analysed from one frame after its count settles
  (8 whole tracks, no merge), while --start 0 keeps the formation (many tracks);
- the CLI on a fabricated RUN (frames/kernel_0.h5, kernel_1.h5.partial held open by an SWMR
  writer, training_free.h5, data.h5): behaviour.h5's datasets (from the default start, frame 4
  = 10% of the time), labels and /table, the JSON,
  the printed table; the frames files untouched; plot_alife.py samples / tracks / order /
  table write their PNGs (and markdown / JSON); one-line errors (exit 1) for a missing RUN, a
  RUN without frames, an unknown --frames name.

usage: test_alife.py SOURCE_DIR WORKDIR
"""
import contextlib
import hashlib
import io as _io
import json
import os
import shutil
import subprocess
import sys
import time
import types

import h5py
import numpy as np
from scipy import ndimage

src, work = sys.argv[1], sys.argv[2]
pp = os.path.join(src, "postprocess")
sys.path.insert(0, pp)
os.environ.update(MPLBACKEND="Agg", MPLCONFIGDIR=os.path.join(work, "mplconfig"),
                  PYTHONDONTWRITEBYTECODE="1", OPENBLAS_NUM_THREADS="1")
sys.dont_write_bytecode = True
import alife_tracking as at  # noqa: E402
import eqflow_io  # noqa: E402

failures = []
started = time.time()
SPEED_TOLERANCE = 0.05  # relative, per creature's mean frame-to-frame speed


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)

# --- synthetic movies -------------------------------------------------------------------------
H = W = 128
SHAPE = (H, W)
COLOURS = [(0.1, 0.3, 0.9), (0.9, 0.15, 0.1), (0.6, 0.8, 0.2), (0.5, 0.5, 0.5),
           (0.1, 0.1, 0.1), (0.2, 0.4, 0.8)]  # blue, red, firefly yellow-green, grey, black
_RR, _CC = np.meshgrid(np.arange(H, dtype=np.float64), np.arange(W, dtype=np.float64),
                       indexing="ij")


def render(positions, rng, radius=4.0, visible=None, ellipse=None, noise=0.03, size=SHAPE,
           angle=0.0):
    """(3, H, W) float32 in [-1, 1]: white canvas, creature k a disc of `radius` (creature
    `ellipse` an ellipse of semi-axes 1.5 radius x 0.75 radius, its long axis `angle` radians
    from the column axis towards the rows) in COLOURS[k % 6], drawn with a 1-px soft edge at
    periodic distances, blurred (sigma 1, wrap), plus noise."""
    h, w = size
    rr, cc = (_RR, _CC) if size == SHAPE else np.meshgrid(np.arange(h, dtype=np.float64),
                                                          np.arange(w, dtype=np.float64),
                                                          indexing="ij")
    img = np.ones((3, h, w))
    for k, (r, c) in enumerate(np.asarray(positions, dtype=np.float64).reshape(-1, 2)):
        if visible is not None and not visible[k]:
            continue
        dr = (rr - r + h / 2) % h - h / 2
        dc = (cc - c + w / 2) % w - w / 2
        if k == ellipse:
            along = np.cos(angle) * dc + np.sin(angle) * dr
            across = np.cos(angle) * dr - np.sin(angle) * dc
            d = np.hypot(across / 0.75, along / 1.5)
        else:
            d = np.hypot(dr, dc)
        alpha = np.clip(radius + 0.5 - d, 0, 1)
        img = img * (1 - alpha) + np.asarray(COLOURS[k % len(COLOURS)])[:, None, None] * alpha
    img = ndimage.gaussian_filter(img, (0, 1.0, 1.0), mode="wrap")
    x = 2 * img - 1 + noise * rng.standard_normal(img.shape)
    return np.clip(x, -1, 1).astype(np.float32)


def movie(paths, rng, **kw):
    """(T, 3, H, W) from creature positions (T, K, 2) (any real coordinates: wrapped here)."""
    vis = kw.pop("visible", None)
    return np.stack([render(np.asarray(p) % np.asarray(SHAPE), rng,
                            visible=None if vis is None else vis[t], **kw)
                     for t, p in enumerate(paths)])


def min_separation(paths):
    p = np.asarray(paths)
    d = np.hypot(*np.moveaxis(at.periodic_delta(p[:, :, None] - p[:, None], SHAPE), -1, 0))
    k = p.shape[1]
    d[:, np.arange(k), np.arange(k)] = np.inf
    return float(d.min())


def lattice(rng, k=8, jitter=6.0):
    g = (np.arange(3) + 0.5) * H / 3
    p = np.array([(r, c) for r in g for c in g])[:k]
    return p + rng.uniform(-jitter, jitter, p.shape)


def ring(radius, k=8, centre=(64.0, 64.0)):
    a = 2 * np.pi * np.arange(k) / k + 0.3
    return np.asarray(centre) + radius * np.stack([np.cos(a), np.sin(a)], axis=1)


def flocking_paths(T, rng):
    p0, v = lattice(rng), np.array([1.2, 0.8])
    return np.array([p0 + v * t + 0.3 * rng.standard_normal(p0.shape) for t in range(T)])


def attracting_paths(T, rng, end=0.03):
    """A ring of radius 45 shrinking to `end` x 45 (0.03: the creatures merge into one)."""
    return np.array([ring(45 * (1 - (1 - end) * t / (T - 1)))
                     + 0.3 * rng.standard_normal((8, 2)) for t in range(T)])


def repelling_paths(T, rng):
    return np.array([ring(20 + 35 * t / (T - 1)) + 0.3 * rng.standard_normal((8, 2))
                     for t in range(T)])


def jitter_paths(T, rng):
    p0 = lattice(rng)
    return p0 + np.cumsum(0.5 * rng.standard_normal((T,) + p0.shape), axis=0)


def lane_paths(T):
    """Six creatures at constant velocities (px / frame) in three lanes 43 px apart: lane 0
    crosses the row edge (and, creature 1, the column edge too), the others the column edge."""
    p0 = np.array([[4, 10], [4, 74], [47, 30], [47, 94], [90, 60], [90, 124]], dtype=float)
    v = np.array([[-0.35, 1.8], [-0.35, 1.5], [0.0, -1.5], [0.0, -1.2], [-0.3, 1.2],
                  [-0.3, 1.0]])
    return p0, v, p0[None] + v[None] * np.arange(T)[:, None, None]


def analyse(frames, dt=0.5, **kw):
    det = at.detect_stack(at.ink(frames))
    return at.behaviour(det, dt * np.arange(len(frames)), SHAPE, **kw), det


def nearest_true(track, truth):
    """Index of the true creature closest to the track's first position, and that distance."""
    d = np.hypot(*at.periodic_delta(truth[track.frames[0]] - track.positions[0], SHAPE).T)
    return int(np.argmin(d)), float(d.min())


rng = np.random.default_rng(2024)

# --- ink --------------------------------------------------------------------------------------
swatch = np.array(COLOURS + [(1.0, 1.0, 1.0), (1.0, 1.0, 0.0)]).T[:, None, :] * 2 - 1  # (3,1,8)
values = at.ink(swatch)[0]
check(np.allclose(values, [0.9, 0.9, 0.8, 0.5, 0.9, 0.8, 0.0, 1.0]),
      f"ink = max channel distance from white: blue .9, red .9, yellow-green .8, grey .5, "
      f"black .9, light blue .8, white 0, yellow 1 ({np.round(values, 3).tolist()})")
nan_frame = np.full((3, 4, 4), np.nan, dtype=np.float32)
check(np.all(at.ink(nan_frame) == 0), "ink: NaN counts as white")
# relative ink: the same creatures on a tinted canvas, and faded to 40% of their contrast
base = render(np.array([[20.0, 20.0], [60.0, 90.0], [100.0, 40.0], [90.0, 110.0]]), rng,
              radius=6.0)
tinted = np.clip(base - np.array([0.0, 0.6, 0.2], dtype=np.float32)[:, None, None], -1, 1)
faded = (1 - 0.4 * (1 - base)).astype(np.float32)
counts = [len(at.detect(at.relative_ink(x))[0]) for x in (base, tinted, faded)]
plain = [len(at.detect(at.ink(x))[0]) for x in (tinted, faded)]
check(counts == [4, 4, 4] and plain != [4, 4],
      f"relative ink: 4 creatures on white, on a tinted canvas and faded to 40% ({counts}); the "
      f"ink from white misses them on the tint or faded ({plain})")
# creatures covering most of the frame (the trained rules' dense discs): the background is the
# bright remainder, not the median colour
grid = np.array([[8.0 + 16 * i, 8.0 + 16 * j] for i in range(4) for j in range(4)])
dense = render(grid, rng, radius=7.0, size=(64, 64))
covered = float((at.ink(dense) > 0.3).mean())
found = len(at.detect(at.relative_ink(dense), split_area=0)[0])
check(covered > 0.5 and found == 16,
      f"relative ink: 16 discs covering {covered:.0%} of the frame, all found ({found})")
noise = np.clip(1 - 0.1 * np.abs(rng.standard_normal((3, 64, 64))), -1, 1).astype(np.float32)
check(len(at.detect(at.relative_ink(noise))[0]) == 0, "relative ink: faint noise is no creature")

# --- detection across the edges ---------------------------------------------------------------
centres = np.array([[0.3, 127.6], [40.2, 0.5], [70.0, 64.0]])  # corner (4 pieces), edge (2)
img = render(centres, rng, radius=6.0)
speck = render([[100.0, 20.0]], rng, radius=0.6, noise=0.0)
img = np.minimum(img, speck)  # a 2-3 px speck: below min_area after the blur
pos, areas = at.detect(at.ink(img))
plain_mask = ndimage.gaussian_filter(at.ink(img), 2.0, mode="wrap") > at.DETECTION["threshold"]
pieces = ndimage.label(plain_mask, structure=np.ones((3, 3)))[1]
check(pieces == 7, f"without the periodic joins the 3 blobs are {pieces} pieces (4 + 2 + 1)")
ok = len(pos) == 3
errors = []
for c in centres:
    d = np.hypot(*at.periodic_delta(pos - c, SHAPE).T) if len(pos) else np.array([np.inf])
    errors.append(float(d.min()))
check(ok and max(errors) < 0.3,
      f"detect: the corner blob (4 pieces), the edge blob (2) and a plain one are 3 creatures "
      f"({len(pos)}), centroids within 0.3 px (errors {np.round(errors, 3).tolist()}); the "
      f"speck is dropped")
# the same blobs without noise, split and moved into the middle (same sub-pixel offsets)
split = at.detect(at.ink(render(centres[:2], rng, radius=6.0, noise=0.0)))[1]
whole = at.detect(at.ink(render(centres[:2] + [[64, 64], [0, 64]], rng, radius=6.0,
                                noise=0.0)))[1]
check(len(split) == 2 and sorted(split.tolist()) == sorted(whole.tolist()),
      f"the split blobs have the areas of the same blobs in the middle ({split.tolist()}, "
      f"{whole.tolist()})")

# --- touching creatures: split at their necks, elongated ones kept whole ----------------------
SMALL = (64, 64)
R6 = 6.0  # discs of 12 px diameter, as the real disc runs


def errors_to(pos, truth, size):
    """Per true position, the distance (minimum image) to the nearest detection."""
    if len(pos) == 0:
        return np.full(len(truth), np.inf)
    d = np.hypot(*np.moveaxis(at.periodic_delta(np.asarray(pos)[:, None] - np.asarray(truth)[None],
                                                size), -1, 0))
    return d.min(axis=0)


def rows_of_discs(n, centre, angle, radius=R6, size=SMALL):
    """n discs of `radius` in contact (centres 2 radius apart) along a line at `angle`."""
    u = np.array([np.sin(angle), np.cos(angle)])
    return (np.asarray(centre) + np.outer(np.arange(n) - (n - 1) / 2, 2 * radius * u)) % size


touch_cases, touch_frames = [], []
for angle in np.linspace(0, np.pi, 7)[:-1]:
    for centre in ((30.3, 31.6), (0.4, 63.2), (62.7, 10.1)):  # middle, across a corner, an edge
        for n in (2, 3):
            truth = rows_of_discs(n, centre, angle)
            touch_cases.append((n, angle, centre, truth))
            touch_frames.append(render(truth, rng, radius=R6, size=SMALL))
# (Every frame here is a row: no isolated creature gives the single-creature area, so the
# area rule of the split is off.)
found = at.detect_stack(at.ink(np.stack(touch_frames)), split_area=0)
bad, worst = [], 0.0
crossing = 0
for (n, angle, centre, truth), (pos, _) in zip(touch_cases, found):
    err = errors_to(pos, truth, SMALL)
    crossing += int(np.any((truth < R6) | (truth > np.asarray(SMALL) - R6)))  # cut by an edge
    if len(pos) != n or err.max() >= 1.0:
        bad.append((n, round(float(angle), 2), centre, len(pos), np.round(err, 2).tolist()))
    else:
        worst = max(worst, float(err.max()))
check(not bad and crossing >= 24,
      f"touching discs of radius 6 px, 2 and 3 in a row, 6 angles, in the middle and across "
      f"the edges and a corner ({len(touch_cases)} frames, {crossing} across an edge): each "
      f"found as 2 / 3 creatures, centroids within 1 px (worst {worst:.2f} px; failures {bad})")
merged = [len(p) for p, _ in at.detect_stack(at.ink(np.stack(touch_frames[:12])), neck=0)]
check(merged == [1] * 12, f"with neck 0 (no split) each row is one blob ({merged})")
radius_auto = at.estimate_radius(at.ink(np.stack(touch_frames)))
pair = at.ink(touch_frames[0])
robust = [len(at.detect(pair, radius=f * radius_auto)[0]) for f in (0.6, 1.0, 1.5)]
check(6.0 <= radius_auto <= 7.5 and robust == [2, 2, 2],
      f"estimated radius {radius_auto:.2f} px (inscribed radius of the blurred 6-px discs); "
      f"the pair splits with 0.6, 1 and 1.5 times it ({robust})")
ell_frames, ell_cases = [], []
for radius in (4.0, 6.0):  # semi-axes 6 x 3 px (the lanes' firefly) and 9 x 4.5 px
    for angle in np.linspace(0, np.pi, 13)[:-1]:
        for centre in ((30.3, 31.6), (0.4, 63.2)):
            ell_cases.append((radius, round(float(angle), 2), centre))
            ell_frames.append(render([centre], rng, radius=radius, size=SMALL, ellipse=0,
                                     angle=angle))
counts = [len(p) for p, _ in at.detect_stack(at.ink(np.stack(ell_frames)))]
split_ell = [c for c, k in zip(ell_cases, counts) if k != 1]
check(not split_ell, f"a 2:1 ellipse (semi-axes 6 x 3 and 9 x 4.5 px) at 12 angles, in the "
                     f"middle and across a corner: one creature each (split: {split_ell})")
side_frames = []
for angle in np.linspace(0, np.pi, 7)[:-1]:
    across = np.array([np.cos(angle), -np.sin(angle)])  # perpendicular to the long axis
    side_frames.append(render([(30.0, 31.0), np.array([30.0, 31.0]) + 1.75 * R6 * across], rng,
                              radius=R6, size=SMALL, ellipse=0, angle=angle))
counts = [len(p) for p, _ in at.detect_stack(at.ink(np.stack(side_frames)))]
check(counts == [2] * 6, f"a disc touching the flank of an ellipse (radius 6): 2 creatures at "
                         f"6 angles ({counts})")

# creatures made of two touching discs (the two_discs icon: blue and red), among many: each
# one creature, because no component is much larger than the median one (the area rule)
pair_frames = []
for t in range(10):
    centres = [(10.0 + 21 * (k // 3) + 0.5 * t, 10.0 + 21 * (k % 3) + 0.3 * t) for k in range(9)]
    img = np.ones((3,) + SMALL)
    for k, (r, c) in enumerate(centres):
        for side, colour in ((-1, (0.2, 0.4, 0.8)), (1, (0.9, 0.2, 0.2))):
            d = np.hypot((_RR[:64, :64] - r + 32) % 64 - 32,
                         (_CC[:64, :64] - c - side * 4.0 + 32) % 64 - 32)
            alpha = np.clip(4.0 + 0.5 - d, 0, 1)
            img = img * (1 - alpha) + np.asarray(colour)[:, None, None] * alpha
    img = ndimage.gaussian_filter(img, (0, 1.0, 1.0), mode="wrap")
    pair_frames.append(np.clip(2 * img - 1, -1, 1).astype(np.float32))
counts = [len(p) for p, _ in at.detect_stack(at.ink(np.stack(pair_frames)))]
split_too = [len(p) for p, _ in at.detect_stack(at.ink(np.stack(pair_frames)), split_area=0)]
pair_run = os.path.join(work, "pair_run")
os.makedirs(pair_run, exist_ok=True)
with h5py.File(os.path.join(pair_run, "data.h5"), "w") as f:
    f["fields"] = np.stack(pair_frames)
reference = at.data_creature_area(pair_run)
whole = np.median(np.concatenate([a for _, a in at.detect_stack(
    at.relative_ink(np.stack(pair_frames)), neck=0)]))
counts_ref = [len(p) for p, _ in at.detect_stack(at.relative_ink(np.stack(pair_frames[:2])),
                                                   creature_area=reference)]
check(reference is not None and abs(reference - whole) <= 0.05 * whole and counts_ref == [9, 9],
      f"the creature area from data.h5 is the whole two-disc icon ({reference} px against "
      f"{whole} px unsplit), and with it 2 frames alone keep their 9 creatures ({counts_ref})")
check(counts == [9] * 10 and max(split_too) > 9,
      f"9 creatures of two touching discs (the two_discs icon) in 10 frames: 9 each ({counts}); "
      f"without the area rule they split ({split_too})")

# a row of three touching discs drifting together (across both edges), a pair that comes into
# contact and moves on touching, and a free disc: one whole track per disc, no merge
T = 40
paths = np.zeros((T, 6, 2))
for k in range(3):
    paths[:, k] = np.array([110.0, 80.0 + 2 * R6 * k]) + np.outer(np.arange(T), [0.6, 1.3])
gap = np.maximum(2 * R6 + 10 - 0.5 * np.arange(T), 2 * R6)  # in contact from frame 20 on
paths[:, 3] = np.array([40.0, 40.0]) + np.outer(np.arange(T), [0.0, -0.8])
paths[:, 4] = paths[:, 3] + np.stack([np.zeros(T), gap], axis=1)
paths[:, 5] = np.array([64.0, 100.0]) + np.outer(np.arange(T), [0.0, -0.7])
crossed = np.floor(paths[-1] / H) != np.floor(paths[0] / H)
check(min_separation(paths) >= 2 * R6 - 1e-9 and crossed[:3].all(),
      "fixture: the discs touch (centres 12 px apart) but never overlap; the row crosses both "
      "edges")
frames_row = movie(paths, rng, radius=R6)
b, det = analyse(frames_row)
owners = [nearest_true(t, paths) for t in b["tracks"]]
whole = (len(b["tracks"]) == 6 and all(len(t) == T for t in b["tracks"])
         and sorted(k for k, _ in owners) == list(range(6)))
check(whole and np.all(b["count"] == 6) and b["merges"] == 0,
      f"a row of 3 touching discs moving together, a pair coming into contact, a free disc: "
      f"{len(b['tracks'])} tracks of lengths {sorted(len(t) for t in b['tracks'])} (6 x {T}), "
      f"count {b['count'].min()}..{b['count'].max()}, merges {b['merges']}")
worst = 0.0
for t, (k, _) in zip(b["tracks"], owners):
    worst = max(worst, float(np.abs((t.unwrapped[-1] - t.unwrapped[0])
                                    - (paths[t.frames[-1], k] - paths[t.frames[0], k])).max()))
check(worst < 1.0, f"their unwrapped displacements within 1 px of the truth (worst {worst:.3f} "
                   f"px)")

# --- tracking at known velocities -------------------------------------------------------------
T = 40
p0, v, truth = lane_paths(T)
crossed = np.floor(truth[-1] / H) != np.floor(truth[0] / H)
check(min_separation(truth) > 25 and crossed.all(axis=1).any() and crossed[:, 0].sum() >= 2
      and crossed[:, 1].sum() >= 3,
      f"fixture: 6 creatures >= 25 px apart; edge crossings (row, col) {crossed.tolist()}")
frames_lanes = movie(truth, rng, ellipse=2)
dt = 0.5
b, det = analyse(frames_lanes, dt)
tr = b["tracks"]
check(len(tr) == 6 and all(len(t) == T for t in tr),
      f"6 tracks of {T} frames (got {len(tr)}: {[len(t) for t in tr]})")
matched = sorted(nearest_true(t, truth)[0] for t in tr)
check(matched == list(range(6)), f"each track starts on its own creature ({matched})")
worst_speed, worst_net, worst_disp = 0.0, 0.0, 0.0
for t in tr:
    k, _ = nearest_true(t, truth)
    true_speed = np.hypot(*v[k]) / dt
    steps = np.hypot(*np.diff(t.unwrapped, axis=0).T) / dt
    worst_speed = max(worst_speed, abs(steps.mean() / true_speed - 1))
    span = (t.frames[-1] - t.frames[0]) * dt
    worst_net = max(worst_net, abs(np.hypot(*(t.unwrapped[-1] - t.unwrapped[0])) / span
                                   / true_speed - 1))
    worst_disp = max(worst_disp, float(np.abs((t.unwrapped[-1] - t.unwrapped[0])
                                              - v[k] * (t.frames[-1] - t.frames[0])).max()))
check(worst_speed < SPEED_TOLERANCE,
      f"mean frame-to-frame speed of every creature within {SPEED_TOLERANCE:.0%} "
      f"(worst {worst_speed:.2%})")
check(worst_net < 0.01 and worst_disp < 1.0,
      f"net speed within 1% (worst {worst_net:.2%}); unwrapped displacement across the edges "
      f"within 1 px of the truth (worst {worst_disp:.3f} px)")
true_mean = np.mean(np.hypot(v[:, 0], v[:, 1])) / dt
check(abs(b["mean_speed"] / true_mean - 1) < SPEED_TOLERANCE,
      f"run mean_speed {b['mean_speed']:.3f} vs truth {true_mean:.3f} px / time")
check(b["label"] == "none" and np.all(b["count"] == 6),
      f"constant velocities in three directions: none (polarisation_late "
      f"{b['polarisation_late']:.2f}, nn_change {b['nn_change']:.3f}, travel "
      f"{b['travel']:.2f}) -> {b['label']}")

# --- a creature that leaves, one missed for 2 frames, two that merge --------------------------
T = 40
paths = np.zeros((T, 5, 2))
paths[:, 0] = np.array([20.0, 20.0]) + np.outer(np.arange(T), [0.0, 1.0])   # A: leaves at 20
paths[:, 1] = np.array([100.0, 20.0]) + np.outer(np.arange(T), [0.5, 1.2])  # B: missed 12-13
meet = np.array([64.0, 80.0])
for k, side in ((2, -1), (3, 1)):  # C, D approach along the columns, touch at ~frame 24
    offset = np.maximum(22.0 - 1.0 * np.arange(T), 2.0)
    paths[:, k] = meet + np.stack([np.zeros(T), side * offset], axis=1)
paths[:, 4] = np.array([30.0, 100.0]) + np.outer(np.arange(T), [-0.8, 0.0])  # E: control
visible = np.ones((T, 5), dtype=bool)
visible[20:, 0] = False
visible[12:14, 1] = False
frames_events = movie(paths, rng, visible=visible)
b, det = analyse(frames_events)
tracks_by = {}
for t in b["tracks"]:
    k, d = nearest_true(t, paths)
    tracks_by.setdefault(k, []).append(t)
a_tracks = tracks_by.get(0, [])
check(len(a_tracks) == 1 and a_tracks[0].frames[-1] == 19,
      f"the creature that leaves at frame 20: one track ending at 19 "
      f"({[(t.frames[0], t.frames[-1]) for t in a_tracks]})")
b_tracks = tracks_by.get(1, [])
check(len(b_tracks) == 1 and len(b_tracks[0]) == T - 2 and b_tracks[0].frames[-1] == T - 1
      and 12 not in b_tracks[0].frames and 13 not in b_tracks[0].frames,
      f"the creature missed at frames 12-13: one track over 0..{T - 1} without them "
      f"({[(t.frames[0], t.frames[-1], len(t)) for t in b_tracks]})")
strict = at.link(det, SHAPE, b["max_step"], max_miss=0)
b_strict = [t for t in strict if nearest_true(t, paths)[0] == 1]
check(len(b_strict) == 2, f"with max_miss 0 that creature fragments into 2 tracks "
                          f"({len(b_strict)})")
cd_end = sorted(t.frames[-1] for k in (2, 3) for t in tracks_by.get(k, []))
check(b["count"][0] == 5 and b["count"][-1] == 3 and b["merges"] >= 1
      and all(len(tracks_by.get(k, [])) == 1 for k in (2, 3)),
      f"two creatures that merge: count 5 -> {b['count'][-1]} (A gone, C+D one blob from frame "
      f"{cd_end[0] + 1 if cd_end else '?'}), merges counted {b['merges']}, C and D one track "
      f"each before")
check(len(cd_end) == 2 and cd_end[1] == T - 1 and cd_end[0] < T - 5,
      f"after the merge one of their tracks goes on to the end, the other ends ({cd_end})")

# --- the behaviour labels ---------------------------------------------------------------------
T = 40
cases = {"flocking": flocking_paths(T, rng), "attracting": attracting_paths(T, rng),
         "attracting (no merge)": attracting_paths(T, rng, end=0.4),
         "repelling": repelling_paths(T, rng), "none": jitter_paths(T, rng)}
label_frames = {}
for name, p in cases.items():
    label_frames[name] = movie(p, rng)
    b, _ = analyse(label_frames[name])
    want = name.split(" ")[0]
    check(b["label"] == want,
          f"{name} movie -> {b['label']} (polarisation_late {b['polarisation_late']:.2f}, travel "
          f"{b['travel']:.2f} bodies, nn_change {b['nn_change']:.2f}, count_change "
          f"{b['count_change']:.2f}, merges {b['merges']})")
    if name == "attracting (no merge)":
        check(b["merges"] == 0 and np.isfinite(b["nn_change"]) and b["nn_change"] < -0.2,
              "converging without merging: labelled by the NN distance")
rule_cases = [
    ({"count_late": 8, "polarisation_late": 0.9, "travel": 2.0, "nn_change": -0.5}, "flocking"),
    ({"count_late": 8, "polarisation_late": 0.9, "travel": 0.5, "nn_change": 0.0}, "none"),
    ({"count_late": 1, "polarisation_late": 1.0, "travel": 3.0, "nn_change": np.nan}, "none"),
    ({"count_late": 3, "count_change": -0.5, "merges": 0, "nn_change": np.nan}, "none"),
    ({"count_late": 3, "count_change": -0.5, "count_lost": 3, "merges": 2, "nn_change": np.nan},
     "attracting"),
    # creatures that vanish (few merges for many lost; the survivors farther apart): neither
    ({"count_late": 3, "count_change": -0.8, "count_lost": 12, "merges": 2, "nn_change": 0.4},
     "none"),
    ({"count_late": 3, "count_change": -0.5, "count_lost": 3, "merges": 3, "nn_change": 0.4},
     "none"),
    ({"count_late": 8, "nn_change": 0.25}, "repelling"),
    ({"count_late": 8, "nn_change": 0.15}, "none"),
    ({}, "none")]
got = [at.label_run(s) for s, _ in rule_cases]
check(got == [w for _, w in rule_cases], f"the rule on hand-made numbers: {got}")
check(at.label_run({"count_late": 8, "nn_change": 0.15}, nn_change_threshold=0.1) == "repelling",
      "the rule's thresholds are parameters")

blank = at.detect_stack(at.ink(np.ones((6, 3, 32, 32), dtype=np.float32)))
b = at.behaviour(blank, np.arange(6.0), (32, 32))
check(b["label"] == "none" and not b["tracks"] and np.all(b["count"] == 0)
      and np.isnan(b["mean_speed"]) and np.all(np.isnan(b["g_r"])),
      "an empty canvas: no creature, no track, NaN numbers, label none")

# --- pair correlation -------------------------------------------------------------------------
poisson = [rng.uniform(0, H, (40, 2)) for _ in range(40)]
r, g = at.pair_correlation(poisson, SHAPE, bins=32)
mid = (r > 16) & (r < 48)
check(r.size == 32 and abs(r[-1] - 63) < 1e-9 and abs(np.mean(g[mid]) - 1) < 0.1
      and np.all(np.abs(g[mid] - 1) < 0.35),
      f"g(r) of uniform random positions: mean {np.mean(g[mid]):.3f} over 16 < r < 48 "
      f"(bins {g[mid].min():.2f}..{g[mid].max():.2f})")
grid = [lattice(rng, 8, 0.0) for _ in range(3)]
r, g = at.pair_correlation(grid, SHAPE, bins=32)
check(np.all(g[r < 40] == 0) and g[np.argmin(np.abs(r - H / 3))] > 2,
      "g(r) of a 42.7-px lattice: 0 below the spacing, a peak at it")

# --- the CLI on a fabricated run directory ----------------------------------------------------
run = os.path.join(work, "run")
frames_dir = os.path.join(run, "frames")
os.makedirs(frames_dir)
T, rate = 40, 0.5  # frames_time step
AUTO_FIRST = 4  # the default start: 10% of the 19.5 time units recorded -> time 2.0, frame 4


def write_frames(path, stack, seed=None, flow="training_free"):
    with h5py.File(path, "w") as f:
        d = f.create_dataset("frames", data=stack, chunks=(1,) + stack.shape[1:])
        d.attrs.update(dt=0.05, record_every=10, flow=flow, canvas=H, eta=0.1)
        if seed is not None:
            d.attrs["kernel_index"] = seed
        f["frames_time"] = rate * np.arange(len(stack))


kernel0 = np.stack([label_frames["flocking"], label_frames["repelling"], frames_lanes], axis=1)
write_frames(os.path.join(frames_dir, "kernel_0.h5"), kernel0, seed=1001)
write_frames(os.path.join(frames_dir, "training_free.h5"),
             label_frames["flocking"][:, None])
with h5py.File(os.path.join(run, "data.h5"), "w") as f:
    d = f.create_dataset("fields", data=np.stack([render(lattice(rng, 5), rng, radius=10.0)
                                                  for _ in range(12)]))
    d.attrs.update(icon="firefly", icon_size=64, copies=10)
# kernel_1: still being written (.h5.partial, SWMR), 30 frames with a time and one more without
partial = os.path.join(frames_dir, "kernel_1.h5.partial")
writer = h5py.File(partial, "w", libver="latest")
kernel1 = np.stack([label_frames["none"], label_frames["attracting"]], axis=1)
d = writer.create_dataset("frames", shape=(0,) + kernel1.shape[1:],
                          maxshape=(None,) + kernel1.shape[1:], dtype=np.float32,
                          chunks=(1,) + kernel1.shape[1:])
d.attrs.update(dt=0.05, record_every=10, flow="training_free", canvas=H, kernel_index=1002)
tds = writer.create_dataset("frames_time", shape=(0,), maxshape=(None,), dtype=np.float64)
writer.swmr_mode = True
for t in range(T):
    d.resize(t + 1, axis=0)
    d[t] = kernel1[t]
    d.flush()
    tds.resize(t + 1, axis=0)
    tds[t] = rate * t
    tds.flush()
d.resize(T + 1, axis=0)  # a writer between its two steps: one frame more than its time
d[T] = kernel1[-1]
d.flush()


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


before = {p: digest(os.path.join(frames_dir, p)) for p in sorted(os.listdir(frames_dir))}
data_before = digest(os.path.join(run, "data.h5"))

import plot_alife  # noqa: E402

SCRIPTS = {"alife_tracking.py": at, "plot_alife.py": plot_alife}


def run_py(script, args, separate=False):
    """The script's main(args) in this process (as main_wrapper would) or, with `separate`, as
    its own process (matplotlib's import costs a second or more per process)."""
    if separate:
        p = subprocess.run([sys.executable, os.path.join(pp, script)] + args,
                           capture_output=True, text=True)
    else:
        out, err = _io.StringIO(), _io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = SCRIPTS[script].main(args) or 0
            except eqflow_io.EqflowError as e:
                print(f"{script}: error: {e}", file=sys.stderr)
                rc = 1
            except SystemExit as e:
                rc = e.code
        p = types.SimpleNamespace(returncode=rc, stdout=out.getvalue(), stderr=err.getvalue())
    print(p.stdout + p.stderr, end="")
    return p


def wrote(p, path, magic=b"\x89PNG\r\n\x1a\n"):
    ok = p.returncode == 0 and os.path.isfile(path) and f"wrote {path}" in p.stdout
    if ok and magic is not None:
        with open(path, "rb") as f:
            ok = f.read(len(magic)) == magic
    return ok


beh_json = os.path.join(work, "behaviour.json")
p = run_py("alife_tracking.py", ["behaviour", run, "--json", beh_json], separate=True)
beh = os.path.join(run, "behaviour.h5")
check(wrote(p, beh, b"\x89HDF") and os.path.isfile(beh_json),
      "alife_tracking.py behaviour RUN (kernel_1 a partial file held open) writes behaviour.h5 "
      "and the JSON")
expected = {"kernel_0": ["flocking", "repelling", "none"], "kernel_1": ["none", "attracting"],
            "training_free": ["flocking"]}
if os.path.isfile(beh):
    with h5py.File(beh, "r") as f:
        names = [x.decode() if isinstance(x, bytes) else x for x in f.attrs["files"]]
        check(names == ["kernel_0", "kernel_1", "training_free"]
              and f.attrs["schema"] == at.SCHEMA and f.attrs["icon"] == "firefly"
              and float(f.attrs["threshold"]) == at.DETECTION["threshold"]
              and int(f.attrs["max_miss"]) == at.LINKING["max_miss"]
              and float(f.attrs["flock_polarisation"]) == at.RULE["flock_polarisation"],
              f"root: files {names}, schema, icon, every parameter as an attribute")
        shapes_ok = True
        starts = {}
        for name, n in (("kernel_0", 3), ("kernel_1", 2), ("training_free", 1)):
            g = f[name]
            t = T - AUTO_FIRST
            starts[name] = (int(g.attrs["first_frame"]), float(g.attrs["start"]),
                            round(float(g.attrs["radius"]), 2))
            want = {"count": (n, t), "polarisation": (n, t), "nn_distance": (n, t),
                    "speed": (n, t), "time": (t,), "mean_speed": (n,), "nn_trend": (n,),
                    "nn_change": (n,), "travel": (n,), "merges": (n,), "label": (n,),
                    "g_r": (n, 32), "r": (32,)}
            bad = {k: g[k].shape for k, s in want.items() if k not in g or g[k].shape != s}
            if bad:
                shapes_ok = False
                print(f"  {name}: unexpected {bad}")
            cols = [k for k in ("run", "track", "frame", "row", "col", "row_unwrapped",
                                "col_unwrapped", "area") if k in g["tracks"]]
            if len(cols) != 8 or len({g["tracks"][k].shape for k in cols}) != 1:
                shapes_ok = False
            labels = [x.decode() for x in g["label"][()]]
            check(labels == expected[name], f"{name}: labels {labels} (expected "
                                            f"{expected[name]})")
        check(shapes_ok, "per file: count, polarisation, nn_distance, speed (N, T); mean_speed, "
                         "nn_trend, ... (N); g_r (N, 32), r; label; tracks table")
        check(all(v[:2] == (AUTO_FIRST, AUTO_FIRST * rate) and 4.0 <= v[2] <= 6.0
                  for v in starts.values())
              and f.attrs["start"] == "" and f.attrs["radius"] == ""
              and float(f.attrs["neck"]) == at.DETECTION["neck"],
              f"default start: the first 10% of the recorded time left out (frame {AUTO_FIRST}, "
              f"time {AUTO_FIRST * rate:g}; these movies have no formation), radius estimated "
              f"per file (first_frame, start, radius: {starts})")
        check(int(f["kernel_1"].attrs["partial"]) == 1 and int(f["kernel_0"].attrs["partial"]) == 0
              and int(f["kernel_0"].attrs["frames_kernel_index"]) == 1001,
              "the partial file is marked, the kernel seed kept")
        lanes = f["kernel_0/tracks"]
        sel = lanes["run"][()] == 2
        check(len(np.unique(lanes["track"][()][sel])) == 6
              and sel.sum() == 6 * (T - AUTO_FIRST),
              f"kernel_0 run 2 (the constant-velocity movie): 6 tracks x {T - AUTO_FIRST} rows in "
              f"the table")
        tab = f["table"]
        groups = [x.decode() for x in tab["groups"][()]]
        frac = tab["fraction"][()]
        check(groups == ["random kernels", "training_free"]
              and np.allclose(frac[0], [0.2, 0.2, 0.2, 0.4]) and np.allclose(frac[1], [1, 0, 0, 0])
              and [x.decode() for x in tab["kernel_majority"][()]] == ["flocking/repelling/none",
                                                                       "attracting/none"]
              and tab["kernel_index"][()].tolist() == [1001, 1002],
              f"/table: groups {groups}, fractions {frac.round(2).tolist()}, majorities, seeds")
    with open(beh_json) as fj:
        js = json.load(fj)
    check(js["table"]["icon"] == "firefly" and js["files"]["kernel_1"]["partial"] is True
          and [x["label"] for x in js["files"]["kernel_0"]["runs"]] == expected["kernel_0"]
          and js["parameters"]["sigma"] == at.DETECTION["sigma"],
          "the JSON: parameters, per run numbers and labels, the table")
check("random kernels (2 kernels)" in p.stdout and "| kernel_1 | 1002 |" in p.stdout
      and "icon: firefly" in p.stdout, "behaviour prints the table with the icon")
check(not [x for x in os.listdir(run) if ".tmp" in x], "no temporary file left")
p = run_py("alife_tracking.py", ["behaviour", run, "--frames", "training_free", "--json", "-",
                                 "--max-miss", "1", "--start", "5"], separate=True)
try:
    js = json.loads(p.stdout)
    tf = js["files"]["training_free"]
    ok = (list(js["files"]) == ["training_free"] and js["parameters"]["max_miss"] == 1
          and tf["first_frame"] == 10 and tf["analysed_frames"] == T - 10
          and tf["runs"][0]["label"] == "flocking")
except (ValueError, KeyError):
    ok = False
check(p.returncode == 0 and ok and "wrote" in p.stderr,
      "--frames NAME --start 5 --json -: the JSON alone on stdout (frames from time 5 = frame "
      "10 on), the rest on stderr")
p = run_py("plot_alife.py", ["tracks", run, "-o", os.path.join(work, "figs", "tracks_start.png")])
check(wrote(p, os.path.join(work, "figs", "tracks_start.png")),
      "tracks (default flow training_free) of a file analysed from frame 10 on")
p = run_py("alife_tracking.py", ["behaviour", run])  # back to every file for the figures

figs = os.path.join(work, "figs")
for cmd, name in ((["samples", run], "samples.png"),
                  (["tracks", run, "--flow", "kernel_0", "--run", "2", "--panels", "3"],
                   "tracks.png"),
                  (["tracks", run, "--flow", "kernel_1", "--run", "1", "--trail", "10"],
                   "tracks_partial.png"),
                  (["order", run], "order.png"),
                  (["table", run, "--markdown", os.path.join(figs, "table.md"), "--json",
                    os.path.join(figs, "table.json")], "table.png")):
    path = os.path.join(figs, name)
    p = run_py("plot_alife.py", cmd + ["-o", path])
    check(wrote(p, path), f"plot_alife.py {' '.join(cmd[:1] + cmd[2:])} writes {name}")
check(os.path.isfile(os.path.join(figs, "table.md")) and "| kernel_0 | 1001 |"
      in open(os.path.join(figs, "table.md")).read()
      and json.load(open(os.path.join(figs, "table.json")))["icon"] == "firefly",
      "table: the markdown and JSON files")
p = run_py("plot_alife.py", ["samples", run])
check(wrote(p, os.path.join(run, "figures", "alife_samples.png")),
      "samples: default output RUN/figures/alife_samples.png")

# without behaviour.h5 the figures compute the numbers in memory
bare = os.path.join(work, "bare")
os.makedirs(os.path.join(bare, "frames"))
shutil.copy(os.path.join(frames_dir, "training_free.h5"), os.path.join(bare, "frames"))
p = run_py("plot_alife.py", ["order", bare])
check(wrote(p, os.path.join(bare, "figures", "alife_order.png")) and "note:" in p.stdout
      and not os.path.exists(os.path.join(bare, "behaviour.h5")),
      "order without behaviour.h5: computed in memory (a note), nothing but the figure written")

after = {p_: digest(os.path.join(frames_dir, p_)) for p_ in sorted(os.listdir(frames_dir))}
check(after == before and digest(os.path.join(run, "data.h5")) == data_before,
      "the frames files and data.h5 are unchanged")
writer.close()

# --- the default start: the formation from noise left out -------------------------------------
starts = [at.settled_frame(c) for c in ([12, 19, 6, 6, 6, 6, 6, 6, 6, 6],
                                        [0, 0, 0, 0, 7, 7, 7, 7, 7, 7],
                                        [5, 6, 5, 4, 5, 6, 5, 5, 5, 5],
                                        [0, 30, 0, 30, 0, 30, 0, 30])]
check(starts == [2, 4, 0, 0] and at.start_time(np.arange(11.0)) == 1.0
      and at.start_time(np.arange(11.0), 0.0) == 0.0,
      f"settled_frame: after the jumps (2), after the empty frames (4), a count varying by 1 "
      f"kept whole (0), one that never settles kept whole (0) ({starts}); start_time: 10% of "
      f"the recorded time by default, an explicit start as given")
# the flocking creatures formed from noise: frame t is a mix (1 - a) clean + a noise,
# a = 1 - t / 8 over the first 8 frames (the count jumps in frames 3-5), clean from frame 8
formation = os.path.join(work, "formation")
os.makedirs(os.path.join(formation, "frames"))
a = np.clip(1.0 - np.arange(T) / 8.0, 0.0, 1.0)[:, None, None, None]
mixed = (a * rng.uniform(-1, 1, label_frames["flocking"].shape)
         + (1 - a) * label_frames["flocking"]).astype(np.float32)
write_frames(os.path.join(formation, "frames", "training_free.h5"), mixed[:, None])
path = os.path.join(formation, "frames", "training_free.h5")
auto = at.analyse_file(path)
every = at.analyse_file(path, measures={"start": 0.0})
r_auto, r_every = auto["runs"][0], every["runs"][0]
first = auto["first_frame"]
check(6 <= first <= 8 and len(r_auto["tracks"]) == 8
      and all(len(t) == T - first for t in r_auto["tracks"]) and r_auto["merges"] == 0
      and r_auto["label"] == "flocking",
      f"default start on a movie formed from noise: from frame {first} (6-8: one after the "
      f"count settles, past the jumps of frames 3-5; the 10% = frame 4), {len(r_auto['tracks'])} "
      f"tracks of "
      f"{sorted({len(t) for t in r_auto['tracks']})} frames, {r_auto['merges']} merges, "
      f"{r_auto['label']}")
check(every["first_frame"] == 0 and len(r_every["tracks"]) > 8,
      f"--start 0 keeps the formation: {len(r_every['tracks'])} tracks (counts "
      f"{r_every['count'][:7].tolist()} in the first frames)")

# one-line errors
empty = os.path.join(work, "empty")
os.makedirs(empty)
for args, what in ((["behaviour", os.path.join(work, "missing")], "a missing RUN"),
                   (["behaviour", empty], "a RUN without frames"),
                   (["behaviour", run, "--frames", "kernel_9"], "an unknown --frames name")):
    p = run_py("alife_tracking.py", args)
    check(p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1
          and p.stderr.startswith("alife_tracking.py: error: "),
          f"{what}: exit 1, one line on stderr")
p = run_py("alife_tracking.py", ["behaviour", empty], separate=True)
check(p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and "no frames file"
      in p.stderr, "as its own process: exit 1, one line")
p = run_py("plot_alife.py", ["samples", empty])
check(p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1,
      "plot_alife.py samples without data.h5: exit 1, one line")

print(f"{time.time() - started:.1f} s")
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all artificial-life post-processing checks passed")
