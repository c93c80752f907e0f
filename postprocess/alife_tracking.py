#!/usr/bin/python3
"""Tracking and behaviour numbers of artificial-life runs: creatures (coloured blobs on a white,
periodic canvas) found in every frame, linked into tracks across the periodic edges, and
summarised per run by order parameters and one plain behaviour label.

  alife_tracking.py behaviour RUN [--frames NAME...] [detection / linking / rule options]
                    [--json OUT|-]

RUN is an artificial-life run directory: RUN/frames/<name>.h5 (or <name>.h5.partial while it is
written; kernel_<e>.h5 for the sweep over random kernels, training_free.h5, trained.h5), each
`/frames` (T, N, C=3, H, W) float32 in [-1, 1] (N independent runs of one flow) and
`/frames_time` (T) float64 (read with turing_metrics.Frames), and optionally RUN/data.h5 (its
attribute `icon` names the icon in the table). It writes RUN/behaviour.h5 (temp name + rename;
layout in postprocess/README.md) and prints the behaviour table.

The steps (all on the torus: rows mod H, columns mod W):

1. ink(frame) = max over channels of (1 - x_c) / 2, in [0, 1]: how far the most-off channel
   is from white (+1). Every icon colour shows: blue, red, black 1.0; yellow (1, 1, 0 in
   [0, 1] RGB) 1.0, the firefly's yellow-green (0.6, 0.8, 0.2) 0.8, mid grey 0.5; white 0.
   (A channel mean would give yellow only 1/3.) Non-finite values count as white.
   The behaviour command detects on relative_ink: the same distance taken from each frame's
   background (the per-channel median of its brightest 30% of pixels, as the flows can tint
   the whole canvas) instead of white, divided by max(the frame's 99th percentile, --contrast 0.4) and clipped to 1, so
   creatures that fade keep being found while a frame of faint noise stays below the
   threshold (--contrast 0: undivided).
2. detect (detect_stack; all frames of a block at once):
   a. mask: Gaussian blur of the ink (scipy.ndimage.gaussian_filter, mode "wrap", sigma px),
      threshold, scipy.ndimage.label (8-connectivity), then the components that touch across
      the top/bottom or left/right edge (8-neighbours, corners included) are joined (a graph
      of label pairs, scipy.sparse.csgraph.connected_components): periodic components.
   b. split of touching creatures (off with neck 0). The blur and the low threshold fill the
      gap where two creatures touch, so a row of touching discs is one component; it is cut
      at its narrow necks:
      - core: the ink blurred by min(sigma, 1) px, above half the largest value of its
        component, on the mask (the creatures' half-maximum outline, which keeps the pinch
        where two discs touch);
      - its distance transform on the torus (scipy.ndimage.distance_transform_edt of each
        frame wrap-padded by 1.5 radius + 2 px, cropped);
      - markers: the pixels equal to the maximum of the distance over a (2 q + 1)^2 window,
        q = ceil(radius / 2) (scipy.ndimage.maximum_filter, mode "wrap"), one marker per
        8-connected plateau of them (its mean position), value p = that distance (the
        inscribed radius there);
      - two markers of one component no farther apart than p1 + p2 + 2 px are the same
        creature when the distance transform along the straight (minimum-image) segment
        between them, sampled every half pixel with bilinear interpolation, stays at or above
        neck [0.8] x min(p1, p2): no neck between them. Ridge maxima of one elongated creature
        (the 2:1 ellipse of the tests, semi-minor axis 3-6 px: ratio >= 0.85) and any two
        maxima closer than 2 (1 - neck) min(p) (the distance is 1-Lipschitz) are joined;
        touching discs are not (the line crosses their contact: ratio 0.4-0.7 for discs of
        radius 5-8 px in the tests; most touching discs of the real disc frames have
        separate cores, no pair to test; two ideal overlapping discs of radius r at distance
        D give sqrt(1 - (D / 2r)^2), below 0.8 from D = 1.2 r on). The groups are the
        connected components of that graph;
      - a component with markers of two or more groups is divided: every pixel goes to the
        group of its nearest marker in the power distance |x - m|^2 - p^2 (minimum image),
        whose border between two touching discs is the line through their contact. A
        component with one group (or no marker) stays whole, whatever its size or shape,
        so the periodic joins of (a) are kept.
      radius: the expected creature radius (px), --radius, default estimated per frames file
      (estimate_radius: the median over the periodic components of up to 16 frames spread
      over the analysed ones of their largest distance to the background, i.e. the
      inscribed radius, which touching creatures keep). It sets q and the padding, and for
      radius >= 10 px the core is block-averaged by the largest divisor b of gcd(H, W) with
      b <= radius / 5 before the distance transform, so the split always sees creatures of
      5-10 px radius (and costs 1 / b^2). Limits: creatures of radius below about 5 px that
      touch can stay one (pixel steps of the distance transform; the firefly stays one), and
      a compact cluster of three or more mutually touching discs (a triangle) is one: its
      blur-filled centre is the highest point of the distance, not a neck. Only components
      of at least split_area [1.5] times one creature's area are divided, so a creature made
      of touching parts (the two_discs icon, a blue and a red disc) stays one unless it
      touches another; that area is --creature-area, by default the median blob of the run's
      training images (data.h5: copies of the icon placed without overlap), else (no data.h5)
      the median component of the frames analysed together when there are at least 8.
   c. creatures: areas outside [min_area, max_area] are dropped, and the centroid is the
      circular mean per axis of the creature's pixels (weights: the unblurred ink minus the
      threshold, at least 0, plus 1e-6; the blurred ink would pull a creature towards a
      touching neighbour), so a blob split by an edge into 2 or 4 pieces is one creature at
      the right place.
3. link: frame to frame by optimal assignment (scipy.optimize.linear_sum_assignment) on
   minimum-image distances; a pair farther than max_step px (times the frames since the
   track's last detection) is not allowed; a track not matched stays alive up to max_miss
   frames (matched later against its last position), then ends; unmatched detections start
   tracks. Trajectories are unwrapped by summing minimum-image increments.
4. behaviour per run (one sample n of one frames file), time = /frames_time; the frames
   before time `start` are left out of everything (an initial transient). Default (start
   None, "auto"): the formation of the creatures from noise is left out: at least the first
   10% of the recorded time span (START_FRACTION), and then, if the count is still jumping
   there, the frames up to the latest of the runs' settled frames (settled_frame: the first
   frame, within the first half, from which 4 successive frame-to-frame count changes are
   all at most max(2, count / 4) between counts > 0; a count that never settles keeps the
   10% start) and one frame more (the last noisy frame can hold a noise blob in place of a
   creature, the same count). The real disc
   runs form their discs in about the first 10% (time 4-5 of 50); a file still being
   written (.partial) has a shorter span, where the settled count does the work. --start T
   (0: every frame) overrides it; the start used is in behaviour.h5 (attributes
   first_frame, start of each file):
   - count(t): detections per frame; body = equivalent diameter 2 sqrt(median area / pi) (px).
   - velocity: per track, (u_i - u_{i-lag}) / (time_i - time_{i-lag}) between its detections i
     and i - lag (u unwrapped, px per unit simulation time), put at the frame of i;
     speed(t) = mean |v| at t; mean_speed = mean |v| over every track and frame.
   - polarisation(t) = |mean over creatures with |v| > 0 at t of v / |v||, NaN with fewer
     than 2 (one creature alone is trivially "polarised").
   - nn_distance(t) = mean over creatures of the minimum-image distance to the nearest other
     one (NaN with fewer than 2); nn_trend = slope of a least-squares line through it over time
     divided by its mean (relative change per unit time); nn_change = (mean over the last
     quarter of the frames - mean over the first quarter) / the first; count_change the same
     for count.
   - merges: tracks that end before the last max_miss + 1 frames with a detection of the next
     frame within merge_distance times that detection's equivalent diameter of their last
     position (creatures that fuse, overlap past the neck rule of step 2 or pack into a
     compact cluster become one bigger detection; a creature that fades far from the others
     is no merge, one that fades next to another counts as one).
   - late window = the second half of the frames (index >= T // 2): polarisation_late = mean
     polarisation(t) there; count_late = mean count there; drift_speed = sum over tracks of
     |net unwrapped displacement| over the window / sum of their durations in it (px per unit
     time; jitter without drift averages out, unlike mean_speed); travel = drift_speed x the
     window's duration / body, i.e. body lengths travelled net in the second half.
   - g(r): pair correlation over the torus, all minimum-image pair distances of every frame
     of the late window with >= 2 creatures, in `bins` equal bins over [0, min(H, W) / 2]
     (a disc of that radius fits in the canvas, so the expected count for uniform positions is
     exactly K (K - 1) / 2 * pi (r2^2 - r1^2) / (H W) per frame); g = observed / expected
     summed over the frames (1 for a Poisson pattern, > 1 at the distances creatures keep).

The behaviour rule (`label_run`; thresholds are options, defaults in brackets), first match:
   flocking   if count_late >= min_creatures [2] and polarisation_late >= flock_polarisation
              [0.6] and travel >= flock_travel [1.0 body length];
   attracting if nn_change <= -nn_change_threshold [0.2], or count_change <= -count_change
              threshold [0.2] with merges >= max(1, half the creatures lost (count_lost:
              first-quarter mean - last-quarter mean)) and nn_change < +nn_change_threshold;
   repelling  if nn_change >= +nn_change_threshold [0.2] and count_change > -count_change
              threshold (the count kept: creatures that vanish leave the others farther
              apart, which is not repulsion);
   none       otherwise (also: no creature, or NaN numbers).
Few creatures make polarisation weak evidence: K creatures drifting in independent uniform
random directions reach a polarisation >= 0.6 with probability 0.59 (K = 2), 0.37 (3), 0.25
(4), 0.16 (5), 0.05 (8), so "flocking" with count_late below about 5 is a weak label; raise
--min-creatures for a stricter table (the count is in behaviour.h5).
The defaults were tuned on synthetic movies (tests/postprocess/test_alife.py: discs of
radius 4-6 px and ellipses in the icon colours on 64 x 64 and 128 x 128, blurred, with noise,
5-8 creatures, 40 frames, about 1-2 px per frame); the split and the automatic start were
checked on one real run (alife_quick_disc: 64 x 64 frames, 12 px blue discs, rows of
touching discs, 101 frames), the rule's thresholds were not: check them against the tracks
figures (plot_alife.py tracks) before trusting a table.

The behaviour table: per flow group (every kernel_* file together as "random kernels",
training_free, trained, any other file by its name) the fraction of runs with each label; for
the random kernels also the fraction of kernels whose majority label is each one, and the
majority per kernel (ties written "a/b").

Library: ink, detect, detect_stack, estimate_radius, periodic_edt, link, periodic_delta,
behaviour, label_run, pair_correlation, start_time, settled_frame, analyse_file, analyse_run,
behaviour_data, write_behaviour, read_behaviour, tracks_from_table, behaviour_table,
table_text.
"""
import argparse
import contextlib
import os
import re
import sys

import h5py
import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eqflow_io as io  # noqa: E402
import turing_metrics as tm  # noqa: E402

SCHEMA = "eqflow.alife_behaviour"
LABELS = ("flocking", "attracting", "repelling", "none")
DETECTION = {"sigma": 2.0, "threshold": 0.3, "min_area": 12, "max_area": None,
             "radius": None, "neck": 0.8, "split_area": 1.5, "creature_area": None}
INK = {"contrast": 0.4}
LINKING = {"max_step": None, "max_miss": 2}
MEASURES = {"lag": 1, "bins": 32, "start": None}
START_FRACTION = 0.1  # start None: leave out at least the first 10% of the recorded time
SETTLE_FRAMES = 5  # ... and the frames before every run's count has settled for this many
RULE = {"min_creatures": 2.0, "flock_polarisation": 0.6, "flock_travel": 1.0,
        "nn_change_threshold": 0.2, "count_change_threshold": 0.2, "merge_distance": 1.0}
_IN_PLANE = np.zeros((3, 3, 3), dtype=bool)
_IN_PLANE[1] = True  # 8-connectivity within a frame, none across the frames of a stack
_BLOCK_BYTES = 64 << 20  # frames read at a time (all runs of a file)


# --- geometry ---------------------------------------------------------------------------------
def periodic_delta(delta, shape):
    """Minimum-image version of displacements `delta` (..., 2) (rows, cols) on a torus of
    `shape` (H, W): each component in [-L/2, L/2)."""
    size = np.asarray(shape[-2:], dtype=np.float64)
    return (np.asarray(delta, dtype=np.float64) + size / 2) % size - size / 2


def pair_distances(positions, shape):
    """(K, K) minimum-image distances between positions (K, 2)."""
    p = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
    return np.hypot(*np.moveaxis(periodic_delta(p[:, None] - p[None], shape), -1, 0))


# --- detection --------------------------------------------------------------------------------
def ink(frame):
    """(..., C, H, W) in [-1, 1] -> (..., H, W) in [0, 1]: max over channels of (1 - x) / 2,
    the distance of the most-off channel from white; non-finite values count as white."""
    x = np.asarray(frame, dtype=np.float32).min(axis=-3)  # NaN propagates
    out = np.clip((1.0 - x) * 0.5, 0.0, 1.0)
    out[~np.isfinite(out)] = 0.0  # +-inf are clipped already; NaN counts as white
    return out


def relative_ink(frame, contrast=INK["contrast"]):
    """(..., C, H, W) in [-1, 1] -> (..., H, W) in [0, 1], what the detection of
    analyse_file sees (step 1): max over channels of |x_c - b_c| / 2 with b the frame's
    background, the per-channel median of its brightest 30% of pixels (a background that is
    not white still reads 0, and creatures covering most of the frame do not become it), divided by max(the frame's 99th percentile, contrast) and
    clipped to 1, so creatures that fade keep their shape above the threshold while a frame
    of low-contrast noise stays below it; contrast 0: no division. Non-finite values count
    as background."""
    x = np.asarray(frame, dtype=np.float32)
    finite = np.isfinite(x)
    # The background: the per-channel median of the brightest 30% of the pixels (the canvas is
    # white, the creatures coloured; with creatures covering most of a frame, a plain median
    # would be a creature's colour).
    bright = np.where(finite.all(axis=-3), x.sum(axis=-3), -np.inf)  # (..., H, W)
    cut = np.quantile(bright, 0.7, axis=(-2, -1), keepdims=True)
    pick = (bright >= cut)[..., None, :, :] & finite
    background = np.nanmedian(np.where(pick, x, np.nan), axis=(-2, -1), keepdims=True)
    background = np.where(np.isfinite(background), background, np.float32(1.0))
    x = np.where(finite, x, background)
    out = np.clip(np.abs(x - background).max(axis=-3) * 0.5, 0.0, 1.0)
    out[~np.isfinite(out)] = 0.0
    if contrast > 0:
        scale = np.maximum(np.quantile(out, 0.99, axis=(-2, -1), keepdims=True), contrast)
        out = np.minimum(out / scale, 1.0)
    return out.astype(np.float32)


def _pad_of(radius, h, w):
    """Wrap padding (px) of the periodic distance transform for creatures of inscribed radius
    `radius`: 1.5 radius + 2 (distances exact up to there), at least 4, at most half the
    canvas."""
    return int(max(4, min(np.ceil(1.5 * radius) + 2, h // 2, w // 2)))


def periodic_edt(mask, pad):
    """Euclidean distance (float32) of every pixel of the stack `mask` (F, H, W) to the nearest
    pixel off the mask in its own frame, on the torus: scipy.ndimage.distance_transform_edt of
    each frame wrap-padded by `pad` px, cropped; exact up to `pad` px, larger values clamped to
    `pad` (a frame entirely on the mask is `pad` everywhere)."""
    frames, h, w = mask.shape
    pad = int(max(1, min(pad, h, w)))
    out = np.zeros(mask.shape, dtype=np.float32)
    for f in range(frames):
        m = mask[f]
        if m.all():
            out[f] = pad
        elif m.any():
            out[f] = ndimage.distance_transform_edt(np.pad(m, pad, mode="wrap"))[
                pad:pad + h, pad:pad + w]
    np.minimum(out, pad, out=out)
    return out


def _mask_and_components(stack, sigma, threshold):
    """Blur, threshold and periodic connected components of an ink stack (F, H, W): (stack
    with non-finite values 0, mask, labels (the mask's plain labels), label_cid
    (component id of every label; 0 = none), component id per mask pixel in np.nonzero(mask)
    order, (frame, row, col) of those pixels, number of component ids)."""
    if not np.isfinite(stack).all():
        stack = np.where(np.isfinite(stack), stack, np.float32(0.0))
    blurred = (ndimage.gaussian_filter(stack, sigma=(0, sigma, sigma), mode="wrap")
               if sigma > 0 else stack)
    mask = blurred > threshold
    del blurred
    labels, n = ndimage.label(mask, structure=_IN_PLANE)
    fi, ri, ci = np.nonzero(mask)
    if n == 0:
        return (stack, mask, labels, np.zeros(1, dtype=np.int64),
                np.zeros(0, dtype=np.int64), (fi, ri, ci), 1)
    # Labels touching across the edges: (0, c) ~ (H-1, c + o), (r, 0) ~ (r + o, W-1), o = -1..1.
    pairs = []
    for off in (-1, 0, 1):
        for a, b in ((labels[:, 0, :], np.roll(labels[:, -1, :], -off, axis=1)),
                     (labels[:, :, 0], np.roll(labels[:, :, -1], -off, axis=1))):
            both = (a > 0) & (b > 0)
            pairs.append(np.stack([a[both], b[both]]))
    pairs = np.concatenate(pairs, axis=1)
    graph = coo_matrix((np.ones(pairs.shape[1]), (pairs[0], pairs[1])), shape=(n + 1, n + 1))
    count, component = connected_components(graph, directed=False)
    # renumber so that 0 is the background node (label 0) and components are 1..count-1
    order = np.empty(count, dtype=np.int64)
    order[component[0]] = 0
    rest = np.setdiff1d(np.arange(count), [component[0]])
    order[rest] = np.arange(1, count)
    label_cid = order[component]
    cid = label_cid[labels[fi, ri, ci]]
    return stack, mask, labels, label_cid, cid, (fi, ri, ci), count


def estimate_radius(inks, sigma=DETECTION["sigma"], threshold=DETECTION["threshold"],
                    min_area=DETECTION["min_area"], max_frames=16):
    """The expected creature radius (px) of an ink stack (F, H, W): the median over its
    connected components of at least min_area px (periodic, before any split) of the
    component's largest distance to the background (its inscribed radius; touching creatures
    share one component but keep their own radius). At most `max_frames` frames, evenly
    spaced, are used. NaN without a component."""
    stack = np.asarray(inks, dtype=np.float32)
    if stack.ndim == 2:
        stack = stack[None]
    frames, h, w = stack.shape
    if frames > max_frames:
        stack = stack[np.unique(np.linspace(0, frames - 1, max_frames).round().astype(int))]
    _, mask, _, _, cid, (fi, ri, ci), count = _mask_and_components(stack, sigma, threshold)
    if cid.size == 0:
        return np.nan
    edt = periodic_edt(mask, max(8, min(h, w) // 4))
    area = np.bincount(cid, minlength=count)
    peak = np.zeros(count)
    np.maximum.at(peak, cid, edt[fi, ri, ci])
    ok = (area >= max(1, min_area)) & (np.arange(count) > 0)
    return float(np.median(peak[ok])) if ok.any() else np.nan


def _pairs_within(group):
    """All index pairs (i < j) of consecutive runs of equal `group` values (sorted): arrays
    (I, J)."""
    n = len(group)
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    idx = np.arange(n)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], n]
    run_end = np.repeat(ends, ends - starts)
    counts = run_end - idx - 1
    total = int(counts.sum())
    first = np.repeat(idx, counts)
    offset = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return first, first + 1 + offset


def detect_stack(inks, sigma=DETECTION["sigma"], threshold=DETECTION["threshold"],
                 min_area=DETECTION["min_area"], max_area=DETECTION["max_area"],
                 radius=DETECTION["radius"], neck=DETECTION["neck"],
                 split_area=DETECTION["split_area"], creature_area=DETECTION["creature_area"]):
    """Creatures of every frame of a stack of ink images (F, H, W) (or one (H, W)): a list of F
    (positions (K, 2) float64 (row, col) in [0, H) x [0, W), areas (K,) int64 px). See the
    module docstring (step 2): blur, threshold, periodic components, touching creatures split
    at the narrow necks of the periodic distance transform. radius None = estimate_radius of
    the stack; max_area None = H W / 4; neck 0 = no split. All frames at once (one blur, one
    labelling, one graph for the periodic joins, vectorised peaks, necks and assignment; the
    distance transform frame by frame)."""
    stack = np.asarray(inks, dtype=np.float32)
    if stack.ndim == 2:
        stack = stack[None]
    if stack.ndim != 3:
        raise ValueError(f"detect_stack: expected (F, H, W) or (H, W) ink, got {stack.shape}")
    frames, h, w = stack.shape
    if max_area is None:
        max_area = h * w / 4
    if radius is None:
        radius = estimate_radius(stack, sigma, threshold, min_area)
    stack, mask, labels, label_cid, cid, (fi, ri, ci), count = _mask_and_components(
        stack, sigma, threshold)
    if cid.size == 0:
        return [(np.zeros((0, 2)), np.zeros(0, dtype=np.int64)) for _ in range(frames)]
    creature = cid
    n_creatures = count
    if neck > 0 and np.isfinite(radius) and radius > 0:
        # Only components of at least split_area times the median component (most are one
        # creature) are split: a creature made of touching parts stays one.
        comp_area = np.bincount(cid, minlength=count)
        # The single creature's area: creature_area (data_creature_area: the median blob of
        # the training images), else the median component of the stack when it has at least
        # 8 (with fewer there is no reference: every component may be split).
        sizes = comp_area[comp_area >= max(min_area, 1)]
        if creature_area:
            min_split = split_area * creature_area
        else:
            min_split = split_area * np.median(sizes) if sizes.size >= 8 else 0.0
        creature, n_creatures = _split(stack, mask, labels, label_cid, cid, (fi, ri, ci),
                                       count, radius, neck, sigma,
                                       splittable=comp_area >= min_split)
    del labels
    # centroid weights: the unblurred ink above the threshold (the blur would pull a
    # creature's centroid towards a touching neighbour), plus 1e-6 (never all zero)
    weight = np.maximum(stack[fi, ri, ci] - threshold, 0.0).astype(np.float64) + 1e-6
    area = np.bincount(creature, minlength=n_creatures)
    frame_of = np.zeros(n_creatures, dtype=np.int64)
    frame_of[creature] = fi
    centre = []
    for coord, size in ((ri, h), (ci, w)):
        angle = coord * (2 * np.pi / size)
        c = np.bincount(creature, weights=weight * np.cos(angle), minlength=n_creatures)
        s = np.bincount(creature, weights=weight * np.sin(angle), minlength=n_creatures)
        centre.append((np.arctan2(s, c) * (size / (2 * np.pi))) % size)
    keep = (area > 0) & (area >= min_area) & (area <= max_area)
    idx = np.nonzero(keep)[0]
    idx = idx[np.argsort(frame_of[idx], kind="stable")]
    pos = np.stack([centre[0][idx], centre[1][idx]], axis=1)
    bounds = np.searchsorted(frame_of[idx], np.arange(frames + 1))
    return [(pos[bounds[t]:bounds[t + 1]], area[idx][bounds[t]:bounds[t + 1]].astype(np.int64))
            for t in range(frames)]


def _scale_of(radius, h, w):
    """The block size (px) at which touching creatures are separated: the largest divisor of
    gcd(H, W) at most radius / 5 (1 below a radius of 10 px), so that the split sees creatures
    of 5-10 px radius whatever their size (and costs 1 / block^2 of the full resolution)."""
    g = int(np.gcd(int(h), int(w)))
    return max([d for d in range(1, g + 1) if g % d == 0 and d <= radius / 5] or [1])


def _split(stack, mask, labels, label_cid, cid, pixels, count, radius, neck, sigma,
           splittable=None, chunk=1 << 22):
    """Creature id per mask pixel (and the number of ids) from the periodic components `cid`
    of the detection mask; the module docstring (step 2) describes the split."""
    fi, ri, ci = pixels
    frames, h, w = mask.shape
    # the core: the ink (blurred by at most 1 px) above half the largest of its component, on
    # the mask; its outline is the creatures' half-maximum edge, which keeps narrow necks
    fine_sigma = min(sigma, 1.0)
    fine = (ndimage.gaussian_filter(stack, sigma=(0, fine_sigma, fine_sigma), mode="wrap",
                                    truncate=3.0) if fine_sigma > 0 else stack)
    value = fine[fi, ri, ci]
    del fine
    order = np.argsort(cid, kind="stable")  # the largest value per component
    starts = np.flatnonzero(np.r_[True, cid[order][1:] != cid[order][:-1]])
    top = np.zeros(count, dtype=np.float32)
    top[cid[order][starts]] = np.maximum.reduceat(value[order], starts)
    del order
    core = np.zeros(mask.shape, dtype=bool)
    core[fi, ri, ci] = value > 0.5 * top[cid]
    del value
    k = _scale_of(radius, h, w)
    if k > 1:  # block means: the same steps on creatures of radius / k px
        sh, sw = h // k, w // k
        core = core.reshape(frames, sh, k, sw, k).mean(axis=(2, 4)) >= 0.5
    else:
        sh, sw = h, w
    r_low = radius / k
    edt = periodic_edt(core, _pad_of(r_low, sh, sw))
    q = int(np.ceil(r_low / 2))
    local_max = ndimage.maximum_filter(edt, size=(1, 2 * q + 1, 2 * q + 1), mode="wrap")
    peaks = core & (edt >= local_max)
    del local_max, core
    plabels, n_peaks = ndimage.label(peaks, structure=_IN_PLANE)
    if n_peaks < 2:
        return cid, count
    pf, pr, pc = np.nonzero(plabels)
    pl = plabels[pf, pr, pc] - 1
    del plabels, peaks
    npix = np.bincount(pl, minlength=n_peaks).astype(np.float64)
    m_row = np.bincount(pl, weights=pr, minlength=n_peaks) / npix  # a plateau of one frame,
    m_col = np.bincount(pl, weights=pc, minlength=n_peaks) / npix  # not cut by an edge
    m_frame = np.zeros(n_peaks, dtype=np.int64)
    m_frame[pl] = pf
    m_value = np.zeros(n_peaks)
    m_value[pl] = edt[pf, pr, pc]
    # full-resolution centre (a block's centre) and its component; markers off the mask dropped
    full_row, full_col = m_row * k + (k - 1) / 2, m_col * k + (k - 1) / 2
    m_comp = label_cid[labels[m_frame, np.rint(full_row).astype(np.int64) % h,
                              np.rint(full_col).astype(np.int64) % w]]
    on = np.flatnonzero(m_comp > 0)
    m_row, m_col, m_frame, m_value, m_comp = (m_row[on], m_col[on], m_frame[on], m_value[on],
                                              m_comp[on])
    full_row, full_col = full_row[on], full_col[on]
    n_peaks = on.size
    # marker pairs within a component, near enough to touch: the narrowest point between them
    order = np.argsort(m_comp, kind="stable")
    a, b = _pairs_within(m_comp[order])
    a, b = order[a], order[b]
    low_size = np.array([sh, sw], dtype=np.float64)
    delta = periodic_delta(np.stack([m_row[b] - m_row[a], m_col[b] - m_col[a]], axis=1),
                           low_size)
    dist = np.hypot(delta[:, 0], delta[:, 1])
    near = dist <= m_value[a] + m_value[b] + 2
    a, b, delta, dist = a[near], b[near], delta[near], dist[near]
    joined = np.zeros(0, dtype=bool)
    if a.size:
        steps = int(np.ceil(2 * dist.max())) + 2
        t = np.linspace(0.0, 1.0, steps)
        lowest = np.full(a.size, np.inf)
        step = max(1, chunk // steps)
        for lo in range(0, a.size, step):
            sl = slice(lo, lo + step)
            rr = m_row[a[sl], None] + t * delta[sl, 0, None]
            cc = m_col[a[sl], None] + t * delta[sl, 1, None]
            r0, c0 = np.floor(rr), np.floor(cc)
            fr, fc = rr - r0, cc - c0
            r0 = r0.astype(np.int64) % sh
            c0 = c0.astype(np.int64) % sw
            r1, c1 = (r0 + 1) % sh, (c0 + 1) % sw
            ff = m_frame[a[sl], None]
            val = ((1 - fr) * ((1 - fc) * edt[ff, r0, c0] + fc * edt[ff, r0, c1])
                   + fr * ((1 - fc) * edt[ff, r1, c0] + fc * edt[ff, r1, c1]))
            lowest[sl] = val.min(axis=1)
        joined = lowest >= neck * np.minimum(m_value[a], m_value[b])
    del edt
    graph = coo_matrix((np.ones(int(joined.sum())), (a[joined], b[joined])),
                       shape=(n_peaks, n_peaks))
    n_groups, group = connected_components(graph, directed=False)
    # components with markers of more than one creature are split
    comp_group = np.unique(np.stack([m_comp, group], axis=1), axis=0)
    split_comp = np.bincount(comp_group[:, 0], minlength=count) >= 2
    if splittable is not None:
        split_comp &= splittable
    if not split_comp.any():
        return cid, count
    sel = np.flatnonzero(split_comp[cid])
    mk = np.flatnonzero(split_comp[m_comp])
    mk = mk[np.argsort(m_comp[mk], kind="stable")]
    # every pixel of a split component to its nearest marker of that component in the power
    # distance, at full resolution; components grouped by their number of markers n, so that
    # each group is one (pixels, n) array
    comps, first, n_of = np.unique(m_comp[mk], return_index=True, return_counts=True)
    row_of = np.full(count, -1, dtype=np.int64)
    row_of[comps] = np.arange(comps.size)
    m_r2 = ((m_value * k) ** 2).astype(np.float32)
    f_row, f_col = full_row.astype(np.float32), full_col.astype(np.float32)
    nearest = np.empty(sel.size, dtype=np.int64)
    pixel_row = row_of[cid[sel]]
    for n in np.unique(n_of):
        rows = np.flatnonzero(n_of == n)
        table = mk[first[rows, None] + np.arange(n)]  # (components, n) marker indices
        where = np.full(comps.size, -1, dtype=np.int64)
        where[rows] = np.arange(rows.size)
        pix = np.flatnonzero(where[pixel_row] >= 0)
        step = max(1, chunk // int(n))
        for lo in range(0, pix.size, step):
            ps = pix[lo:lo + step]
            m = table[where[pixel_row[ps]]]  # (pixels, n)
            p = sel[ps, None]
            dr = f_row[m] - ri[p]
            dr -= h * np.rint(dr / h)
            dc = f_col[m] - ci[p]
            dc -= w * np.rint(dc / w)
            power = dr * dr + dc * dc - m_r2[m]
            nearest[ps] = m[np.arange(ps.size), np.argmin(power, axis=1)]
    creature = cid.copy()
    creature[sel] = count + group[nearest]
    return creature, count + n_groups


def detect(ink_image, sigma=DETECTION["sigma"], threshold=DETECTION["threshold"],
           min_area=DETECTION["min_area"], max_area=DETECTION["max_area"],
           radius=DETECTION["radius"], neck=DETECTION["neck"],
           split_area=DETECTION["split_area"], creature_area=DETECTION["creature_area"]):
    """One ink image (H, W) -> (positions (K, 2) (row, col), areas (K,)); see detect_stack."""
    return detect_stack(np.asarray(ink_image)[None], sigma, threshold, min_area, max_area,
                        radius, neck, split_area, creature_area)[0]


# --- linking ----------------------------------------------------------------------------------
class Track:
    """One creature: `id`, `frames` (n,) int, `positions` (n, 2) wrapped (row, col),
    `unwrapped` (n, 2) (minimum-image increments summed from the first position), `areas`."""

    def __init__(self, track_id, frames, positions, shape, areas=None):
        self.id = int(track_id)
        self.frames = np.asarray(frames, dtype=np.int64)
        self.positions = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
        steps = periodic_delta(np.diff(self.positions, axis=0), shape)
        self.unwrapped = self.positions[0] + np.concatenate([np.zeros((1, 2)),
                                                             np.cumsum(steps, axis=0)])
        self.areas = (np.asarray(areas, dtype=np.int64) if areas is not None
                      else np.zeros(len(self.frames), dtype=np.int64))

    def __len__(self):
        return len(self.frames)

    def __repr__(self):
        return f"Track(id={self.id}, frames {self.frames[0]}..{self.frames[-1]}, n={len(self)})"


def link(detections, shape, max_step, max_miss=LINKING["max_miss"]):
    """Tracks (list of Track, ordered by start) from per-frame detections: a list over frames
    of positions (K_t, 2) or of (positions, areas) pairs (detect_stack's output). Optimal
    assignment on minimum-image distances; a track last seen g frames ago may match a detection
    within g * max_step px; tracks unseen for more than max_miss frames end."""
    big = 1e12
    building = []  # [frames, positions, areas] per track
    active = []  # indices into building
    for t, det in enumerate(detections):
        if isinstance(det, tuple):
            pos, areas = np.asarray(det[0], dtype=np.float64).reshape(-1, 2), det[1]
        else:
            pos, areas = np.asarray(det, dtype=np.float64).reshape(-1, 2), None
        areas = np.zeros(len(pos), dtype=np.int64) if areas is None else np.asarray(areas)
        active = [k for k in active if t - building[k][0][-1] <= max_miss + 1]
        matched = np.zeros(len(pos), dtype=bool)
        if active and len(pos):
            last = np.array([building[k][1][-1] for k in active])
            gap = t - np.array([building[k][0][-1] for k in active], dtype=np.float64)
            d = np.hypot(*np.moveaxis(periodic_delta(last[:, None] - pos[None], shape), -1, 0))
            allowed = d <= max_step * gap[:, None]
            rows, cols = linear_sum_assignment(np.where(allowed, d, big))
            for r, c in zip(rows, cols):
                if allowed[r, c]:
                    k = active[r]
                    building[k][0].append(t)
                    building[k][1].append(pos[c])
                    building[k][2].append(areas[c])
                    matched[c] = True
        for c in np.nonzero(~matched)[0]:
            building.append([[t], [pos[c]], [areas[c]]])
            active.append(len(building) - 1)
    return [Track(i, f, p, shape, a) for i, (f, p, a) in enumerate(building)]


# --- behaviour --------------------------------------------------------------------------------
def pair_correlation(positions_per_frame, shape, bins=MEASURES["bins"]):
    """(r (bins,) bin centres in px, g (bins,)) over the frames given: every minimum-image pair
    distance against the uniform expectation K (K - 1) / 2 * pi (r2^2 - r1^2) / (H W) per frame,
    bins over [0, min(H, W) / 2]; NaN without a frame of >= 2 creatures."""
    h, w = shape[-2:]
    edges = np.linspace(0.0, min(h, w) / 2, bins + 1)
    observed = np.zeros(bins)
    pairs = 0.0
    for pos in positions_per_frame:
        k = len(pos)
        if k < 2:
            continue
        d = pair_distances(pos, shape)[np.triu_indices(k, 1)]
        observed += np.histogram(d, bins=edges)[0]
        pairs += k * (k - 1) / 2
    expected = pairs * np.pi * np.diff(edges ** 2) / (h * w)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(expected > 0, observed / np.where(expected > 0, expected, 1), np.nan)
    return 0.5 * (edges[1:] + edges[:-1]), g


def _quarter_change(series):
    """(mean of the last quarter - mean of the first) / mean of the first; NaN where undefined."""
    y = np.asarray(series, dtype=np.float64)
    q = max(1, y.size // 4)
    first, last = y[:q][np.isfinite(y[:q])], y[-q:][np.isfinite(y[-q:])]
    if first.size == 0 or last.size == 0 or np.mean(first) == 0:
        return np.nan
    return float((np.mean(last) - np.mean(first)) / np.mean(first))


def _quarter_loss(series):
    """Mean of the first quarter - mean of the last (creatures lost); NaN where undefined."""
    y = np.asarray(series, dtype=np.float64)
    q = max(1, y.size // 4)
    first, last = y[:q][np.isfinite(y[:q])], y[-q:][np.isfinite(y[-q:])]
    if first.size == 0 or last.size == 0:
        return np.nan
    return float(np.mean(first) - np.mean(last))


def _relative_slope(times, series):
    t, y = np.asarray(times, dtype=np.float64), np.asarray(series, dtype=np.float64)
    ok = np.isfinite(y)
    if ok.sum() < 2 or np.ptp(t[ok]) == 0 or np.mean(y[ok]) == 0:
        return np.nan
    return float(np.polyfit(t[ok], y[ok], 1)[0] / np.mean(y[ok]))


def behaviour(detections, times, shape, max_step=None, max_miss=LINKING["max_miss"],
              lag=MEASURES["lag"], bins=MEASURES["bins"], merge_distance=RULE["merge_distance"],
              rule=None):
    """The numbers of one run from its per-frame detections [(positions, areas)] * T and the
    frame times (T): a dict of count, speed, polarisation, nn_distance (T,), mean_speed,
    drift_speed, travel, body, polarisation_late, count_late, nn_trend, nn_change,
    count_change, merges, r, g_r, tracks (list of Track), max_step (the one used) and label
    (label_run with `rule`, a dict overriding RULE). max_step None = one body diameter."""
    times = np.asarray(times, dtype=np.float64)
    n_t = len(detections)
    count = np.array([len(d[0]) for d in detections], dtype=np.int64)
    areas = np.concatenate([np.asarray(d[1], dtype=np.float64) for d in detections] + [[]])
    body = float(2 * np.sqrt(np.median(areas) / np.pi)) if areas.size else np.nan
    if max_step is None:
        max_step = body if np.isfinite(body) else 1.0
    tracks = link(detections, shape, max_step, max_miss)
    # velocities over `lag` detections of a track, at the frame of the later one
    v_frame, v_vec, late_net, late_time = [], [], 0.0, 0.0
    half = n_t // 2
    for tr in tracks:
        if len(tr) > lag:
            dt = times[tr.frames[lag:]] - times[tr.frames[:-lag]]
            v = (tr.unwrapped[lag:] - tr.unwrapped[:-lag]) / np.where(dt > 0, dt, np.nan)[:, None]
            v_frame.append(tr.frames[lag:])
            v_vec.append(v)
        late = tr.frames >= half
        if late.sum() >= 2:
            u, f = tr.unwrapped[late], tr.frames[late]
            late_net += float(np.hypot(*(u[-1] - u[0])))
            late_time += float(times[f[-1]] - times[f[0]])
    speed = np.full(n_t, np.nan)
    polarisation = np.full(n_t, np.nan)
    mean_speed = np.nan
    if v_frame:
        fr = np.concatenate(v_frame)
        v = np.concatenate(v_vec)
        ok = np.all(np.isfinite(v), axis=1)
        fr, v = fr[ok], v[ok]
        mag = np.hypot(v[:, 0], v[:, 1])
        if mag.size:
            mean_speed = float(mag.mean())
            n = np.bincount(fr, minlength=n_t).astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                speed = np.bincount(fr, weights=mag, minlength=n_t) / n
                moving = mag > 0
                unit = v[moving] / mag[moving, None]
                m = np.bincount(fr[moving], minlength=n_t).astype(np.float64)
                su = np.bincount(fr[moving], weights=unit[:, 0], minlength=n_t)
                sv = np.bincount(fr[moving], weights=unit[:, 1], minlength=n_t)
                polarisation = np.where(m >= 2, np.hypot(su, sv) / np.where(m > 0, m, 1),
                                        np.nan)
            speed[n == 0] = np.nan
    nn = np.full(n_t, np.nan)
    for t, (pos, _) in enumerate(detections):
        if len(pos) >= 2:
            d = pair_distances(pos, shape)
            np.fill_diagonal(d, np.inf)
            nn[t] = d.min(axis=1).mean()
    # merges: a track ending early next to a detection of the next frame (within merge_distance
    # times that detection's equivalent diameter: a blob that grew by absorbing it)
    merges = 0
    for tr in tracks:
        f = tr.frames[-1]
        if f + max_miss + 1 < n_t and len(detections[f + 1][0]):
            pos, area = detections[f + 1]
            d = np.hypot(*np.moveaxis(periodic_delta(np.asarray(pos) - tr.positions[-1], shape),
                                      -1, 0))
            merges += int(np.any(d <= merge_distance * 2 * np.sqrt(np.asarray(area) / np.pi)))
    drift_speed = late_net / late_time if late_time > 0 else np.nan
    window = times[-1] - times[half] if n_t > half else 0.0
    pol_late = polarisation[half:]
    r, g = pair_correlation([d[0] for d in detections[half:]], shape, bins)
    out = {
        "time": times, "count": count, "speed": speed, "polarisation": polarisation,
        "nn_distance": nn, "mean_speed": mean_speed, "drift_speed": drift_speed,
        "travel": (drift_speed * window / body
                   if np.isfinite(drift_speed) and np.isfinite(body) and body > 0 else np.nan),
        "body": body,
        "polarisation_late": (float(np.nanmean(pol_late)) if np.any(np.isfinite(pol_late))
                              else np.nan),
        "count_late": float(count[half:].mean()) if n_t else np.nan,
        "nn_trend": _relative_slope(times, nn), "nn_change": _quarter_change(nn),
        "count_change": _quarter_change(count), "count_lost": _quarter_loss(count),
        "merges": merges, "r": r, "g_r": g,
        "tracks": tracks, "max_step": float(max_step)}
    out["label"] = label_run(out, **(rule or {}))
    return out


def label_run(stats, min_creatures=RULE["min_creatures"],
              flock_polarisation=RULE["flock_polarisation"], flock_travel=RULE["flock_travel"],
              nn_change_threshold=RULE["nn_change_threshold"],
              count_change_threshold=RULE["count_change_threshold"], **_ignored):
    """The behaviour label of a run's numbers (a dict with count_late, polarisation_late,
    travel, nn_change, count_change, merges): the rule of the module docstring."""
    def ge(key, value):
        x = stats.get(key, np.nan)
        return x is not None and np.isfinite(x) and x >= value

    def le(key, value):
        x = stats.get(key, np.nan)
        return x is not None and np.isfinite(x) and x <= value

    if (ge("count_late", min_creatures) and ge("polarisation_late", flock_polarisation)
            and ge("travel", flock_travel)):
        return "flocking"
    # Creatures that vanish are neither: a count that falls is attraction only when merges
    # account for at least half of the creatures lost and the neighbours do not spread out,
    # and a growing NN distance is repulsion only when the count is kept.
    lost = stats.get("count_lost", np.nan)
    merged = stats.get("merges", 0) >= max(1.0, 0.5 * lost if lost is not None and
                                           np.isfinite(lost) else 1.0)
    if le("nn_change", -nn_change_threshold) or (
            le("count_change", -count_change_threshold) and merged
            and not ge("nn_change", nn_change_threshold)):
        return "attracting"
    if ge("nn_change", nn_change_threshold) and not le("count_change", -count_change_threshold):
        return "repelling"
    return "none"


# --- files ------------------------------------------------------------------------------------
def _kernel_index(name):
    m = re.fullmatch(r"kernel_(\d+)", name)
    return int(m.group(1)) if m else None


def flow_group(name):
    """The table group of a frames file: "random kernels" for kernel_<e>, else its name."""
    return "random kernels" if _kernel_index(name) is not None else name


def ordered_names(names):
    """kernel_<e> files by e, then training_free, trained, then the others by name."""
    names = list(names)
    kernels = sorted((n for n in names if _kernel_index(n) is not None), key=_kernel_index)
    fixed = [n for n in ("training_free", "trained") if n in names]
    rest = sorted(set(names) - set(kernels) - set(fixed))
    return kernels + fixed + rest


def start_time(times, start=None):
    """The first time analysed: `start`, or with None the first START_FRACTION (10%) of the
    recorded time span left out, times[0] + 0.1 (times[-1] - times[0]) (settled_frame may
    leave out more)."""
    times = np.asarray(times, dtype=np.float64)
    if start is not None:
        return float(start)
    if times.size == 0:
        return 0.0
    return float(times[0] + START_FRACTION * (times[-1] - times[0]))


def settled_frame(count, window=SETTLE_FRAMES):
    """The first index f of a count series (T,) from which the next `window` - 1 frame-to-frame
    changes are all at most max(2, count / 4) between counts > 0 (creatures there, no jump of
    their formation from noise), searched over the first half; 0 when there is none there (a
    count that never settles is kept whole)."""
    c = np.asarray(count, dtype=np.float64)
    if c.size < 2:
        return 0
    calm = ((np.abs(np.diff(c)) <= np.maximum(2.0, c[:-1] / 4)) & (c[:-1] > 0) & (c[1:] > 0))
    steps = max(1, min(window - 1, calm.size))
    run = np.convolve(calm.astype(np.int64), np.ones(steps, dtype=np.int64), "valid")
    ok = np.flatnonzero(run[:max(1, c.size // 2)] == steps)
    return int(ok[0]) if ok.size else 0


def analyse_file(path, detection=None, linking=None, measures=None, rule=None, runs=None,
                 contrast=INK["contrast"]):
    """Every run (or those in `runs`) of one frames file, from its first frame at a time >=
    measures["start"] (an initial transient left out); start None: from the first 10% of the
    recorded time (start_time), then on from the latest settled_frame of the runs' counts (the
    formation of the creatures from noise left out): {"name", "file", "partial", "attrs",
    "shape" (T, N, C, H, W) of the file, "first_frame", "start" (the time of the first frame
    analysed), "time" (of the frames analysed), "radius" (the
    creature radius used by the detection: detection["radius"], or None estimated once for the
    file from at most 16 frames spread over the analysed ones, every run), "runs": [behaviour
    dict per run], "nonfinite"}."""
    det = dict(DETECTION, **(detection or {}))
    lnk = dict(LINKING, **(linking or {}))
    mea = dict(MEASURES, **(measures or {}))
    rul = dict(RULE, **(rule or {}))
    with tm.Frames(path) as fr:
        t_count, n, c, h, w = fr.shape
        if t_count == 0:
            raise io.EqflowError(f"{fr.path}: no frame recorded yet")
        chosen = list(range(n)) if runs is None else list(runs)
        for k in chosen:
            if not 0 <= k < n:
                raise io.EqflowError(f"{fr.path}: run {k}, the file holds {n} runs")
        all_times = np.asarray(fr.times, dtype=np.float64)
        start = start_time(all_times, mea["start"])
        first = int(np.searchsorted(all_times, start - 1e-12 * abs(start), side="left"))
        if first >= t_count:
            raise io.EqflowError(f"{fr.path}: no frame at a time >= {start:g} (the last "
                                 f"recorded is at {all_times[-1]:g})")
        if det["radius"] is None:
            sample = np.unique(np.linspace(first, t_count - 1, 16).round().astype(int))
            x = np.asarray(fr.frames[sample], dtype=np.float32)[:, chosen]
            det["radius"] = estimate_radius(relative_ink(x, contrast).reshape(-1, h, w),
                                            det["sigma"],
                                            det["threshold"], det["min_area"],
                                            max_frames=len(sample) * len(chosen))
            del x
        per = [[] for _ in chosen]
        nonfinite = 0
        block = max(1, _BLOCK_BYTES // max(1, n * c * h * w * 4))
        for t0 in range(first, t_count, block):
            t1 = min(t_count, t0 + block)
            x = np.asarray(fr.frames[t0:t1], dtype=np.float32)
            if chosen != list(range(n)):
                x = x[:, chosen]  # (B, n', C, H, W)
            finite = np.isfinite(x)
            if not finite.all():
                nonfinite += int(finite.size - np.count_nonzero(finite))
            del finite
            inks = relative_ink(x, contrast)  # (B, n', H, W)
            found = detect_stack(inks.transpose(1, 0, 2, 3).reshape(-1, h, w), **det)
            for i in range(len(chosen)):
                per[i].extend(found[i * (t1 - t0):(i + 1) * (t1 - t0)])
        if mea["start"] is None and per:
            skip = max(settled_frame([len(d[0]) for d in p]) for p in per)
            skip = min(skip + 1, len(per[0]) - 1) if skip > 0 else 0  # and one frame more
            per = [p[skip:] for p in per]
            first += skip
        times = all_times[first:]
        info = {"file": os.path.abspath(fr.path), "partial": fr.partial, "attrs": fr.attrs,
                "shape": (t_count, n, c, h, w), "first_frame": first,
                "start": float(all_times[first]),
                "radius": det["radius"], "time": times, "run_index": chosen,
                "nonfinite": nonfinite}
    name = os.path.basename(info["file"])
    name = name[:-len(".h5.partial")] if name.endswith(".h5.partial") else name[:-len(".h5")]
    info["name"] = name
    info["runs"] = [behaviour(d, times, (h, w), max_step=lnk["max_step"],
                              max_miss=lnk["max_miss"], lag=mea["lag"], bins=mea["bins"],
                              merge_distance=rul["merge_distance"], rule=rul) for d in per]
    return info


def data_attributes(run_dir):
    """data.h5 /fields (or root) attributes as plain values, {} when there is no data.h5."""
    path = os.path.join(run_dir, "data.h5")
    if not os.path.isfile(path):
        return {}
    with tm.open_h5_read(path) as f:
        attrs = {k: tm._text(v) for k, v in f.attrs.items()}
        if "fields" in f:
            attrs.update({k: tm._text(v) for k, v in f["fields"].attrs.items()})
    return attrs


def data_creature_area(run_dir, contrast=INK["contrast"], detection=None, images=64):
    """The area (px) of one creature: the median blob area, unsplit, of the first `images`
    training images of RUN/data.h5 (copies of the icon, placed without overlap, so nearly every
    blob is one icon, whatever its shape: the two_discs icon's two touching discs are one);
    None without data.h5 or blobs. The frames have the data's pixel scale (the canvas tiles,
    it does not resize)."""
    path = os.path.join(run_dir, "data.h5")
    if not os.path.isfile(path):
        return None
    det = dict(DETECTION, **(detection or {}))
    with tm.open_h5_read(path) as f:
        if "fields" not in f or f["fields"].ndim != 4 or f["fields"].shape[1] != 3:
            return None
        x = np.asarray(f["fields"][:images], dtype=np.float32)
    found = detect_stack(relative_ink(x, contrast), det["sigma"], det["threshold"],
                         det["min_area"], det["max_area"], neck=0)
    areas = np.concatenate([a for _, a in found]) if found else np.zeros(0)
    return float(np.median(areas)) if areas.size else None


def run_directory(path):
    """RUN (a directory, or a file inside it such as data.h5 / behaviour.h5) -> the directory."""
    p = os.path.normpath(path)
    if os.path.isfile(p) and os.path.basename(p) in ("data.h5", "behaviour.h5"):
        p = os.path.dirname(p) or "."
    if not os.path.isdir(p):
        raise io.EqflowError(f"{path}: no such run directory")
    return p


def analyse_run(run_dir, names=None, detection=None, linking=None, measures=None, rule=None,
                log=None, contrast=INK["contrast"]):
    """Every frames file of RUN (or `names`) -> {name: analyse_file(...)} in table order."""
    available = tm.frame_files(run_dir)
    if names:
        missing = [x for x in names if x not in available]
        if missing:
            raise io.EqflowError(f"{run_dir}/frames: no {', '.join(m + '.h5' for m in missing)} "
                                 f"(found: {', '.join(available) or 'none'})")
        available = {x: available[x] for x in names}
    if not available:
        raise io.EqflowError(f"{os.path.join(run_dir, 'frames')}: no frames file "
                             f"(<name>.h5 or <name>.h5.partial)")
    detection = dict(detection or {})
    if detection.get("creature_area") is None:
        detection["creature_area"] = data_creature_area(run_dir, contrast, detection)
    out = {}
    for name in ordered_names(available):
        out[name] = analyse_file(available[name], detection, linking, measures, rule,
                                 contrast=contrast)
        if log:
            log(file_line(out[name]))
    return out


def file_line(res):
    t, n = res["shape"][:2]
    labels = [r["label"] for r in res["runs"]]
    what = ", ".join(f"{labels.count(lab)} {lab}" for lab in LABELS if lab in labels)
    seed = res["attrs"].get("kernel_index")
    return (f"{res['name']}: {n} run(s) x {t} frames{' (partial)' if res['partial'] else ''}"
            f"{f', kernel_index {seed}' if seed is not None else ''}: {what}")


# --- the behaviour table ----------------------------------------------------------------------
def _majority(labels):
    counts = [labels.count(lab) for lab in LABELS]
    best = max(counts) if counts else 0
    return "/".join(lab for lab, c in zip(LABELS, counts) if c == best and c > 0) or "none"


def behaviour_table(labels_per_file, attrs_per_file=None, icon=""):
    """From {name: [label per run]} (and {name: frames attributes}): {"icon", "labels",
    "groups": [{"group", "files", "runs", "counts", "fraction"}], "kernels": [{"name",
    "kernel_index", "runs", "counts", "majority"}], "kernel_majority": {"kernels", "counts",
    "fraction"} or None}."""
    attrs_per_file = attrs_per_file or {}
    groups = {}
    for name in ordered_names(labels_per_file):
        groups.setdefault(flow_group(name), []).append(name)
    rows = []
    for group, files in groups.items():
        labels = [lab for f in files for lab in labels_per_file[f]]
        counts = [labels.count(lab) for lab in LABELS]
        rows.append({"group": group, "files": files, "runs": len(labels), "counts": counts,
                     "fraction": [c / len(labels) if labels else np.nan for c in counts]})
    kernels = []
    for name in groups.get("random kernels", []):
        labels = list(labels_per_file[name])
        seed = attrs_per_file.get(name, {}).get("kernel_index")
        kernels.append({"name": name, "kernel_index": None if seed is None else int(seed),
                        "runs": len(labels), "counts": [labels.count(lab) for lab in LABELS],
                        "majority": _majority(labels)})
    majority = None
    if kernels:
        # a tie shares its kernel equally between the tied labels
        counts = np.zeros(len(LABELS))
        for k in kernels:
            tied = k["majority"].split("/")
            for lab in tied:
                counts[LABELS.index(lab)] += 1.0 / len(tied)
        majority = {"kernels": len(kernels), "counts": counts.tolist(),
                    "fraction": (counts / len(kernels)).tolist()}
    return {"icon": icon, "labels": list(LABELS), "groups": rows, "kernels": kernels,
            "kernel_majority": majority}


def table_text(table):
    """The behaviour table as markdown (group fractions, then the per-kernel majorities)."""
    icon = table.get("icon") or "unknown"
    head = "| " + " | ".join(["flows", "runs"] + list(LABELS)) + " |"
    sep = "|" + "---|" * (2 + len(LABELS))
    lines = [f"behaviour per flow (icon: {icon}); fraction of runs", "", head, sep]
    for row in table["groups"]:
        what = row["group"] + (f" ({len(row['files'])} kernels)"
                               if row["group"] == "random kernels" else "")
        lines.append("| " + " | ".join([what, str(row["runs"])]
                                       + [f"{x:.2f}" for x in row["fraction"]]) + " |")
    if table.get("kernel_majority"):
        m = table["kernel_majority"]
        lines.append("| " + " | ".join(["random kernels, majority label per kernel",
                                        f"{m['kernels']} kernels"]
                                       + [f"{x:.2f}" for x in m["fraction"]]) + " |")
    if table["kernels"]:
        lines += ["", "| kernel | kernel_index | runs | " + " | ".join(LABELS) + " | majority |",
                  "|" + "---|" * (4 + len(LABELS))]
        for k in table["kernels"]:
            seed = "" if k["kernel_index"] is None else str(k["kernel_index"])
            lines.append("| " + " | ".join([k["name"], seed, str(k["runs"])]
                                           + [str(c) for c in k["counts"]]
                                           + [k["majority"]]) + " |")
    return "\n".join(lines)


# --- behaviour.h5 -----------------------------------------------------------------------------
_PER_RUN_SCALARS = ("mean_speed", "drift_speed", "travel", "body", "polarisation_late",
                    "count_late", "nn_trend", "nn_change", "count_change", "count_lost", "merges",
                    "max_step")
_PER_RUN_SERIES = ("count", "speed", "polarisation", "nn_distance")
_TRACK_COLUMNS = ("run", "track", "frame", "row", "col", "row_unwrapped", "col_unwrapped", "area")
_FLOAT_COLUMNS = ("row", "col", "row_unwrapped", "col_unwrapped")


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, str) for v in value):
            return np.array(value, dtype=h5py.string_dtype())
        return np.asarray(value)
    return value


def file_entry(res):
    """One analyse_file result as behaviour.h5's group holds it: {dataset: array, "label":
    [str], "tracks": {column: array}, "attrs": {...}} (what read_behaviour returns per file)."""
    runs = res["runs"]
    t_count = len(res["time"])
    e = {"time": np.asarray(res["time"], dtype=np.float64)}
    for key in _PER_RUN_SERIES:
        e[key] = np.array([r[key] for r in runs], dtype=np.int64 if key == "count"
                          else np.float64).reshape(len(runs), t_count)
    for key in _PER_RUN_SCALARS:
        e[key] = np.array([r[key] for r in runs], dtype=np.int64 if key == "merges"
                          else np.float64)
    bins = len(runs[0]["r"]) if runs else 0
    e["r"] = np.asarray(runs[0]["r"] if runs else np.zeros(0), dtype=np.float64)
    e["g_r"] = np.array([r["g_r"] for r in runs], dtype=np.float64).reshape(-1, bins)
    e["run_index"] = np.asarray(res["run_index"], dtype=np.int64)
    e["label"] = [r["label"] for r in runs]
    cols = {k: [] for k in _TRACK_COLUMNS}
    for i, r in enumerate(runs):
        for tr in r["tracks"]:
            m = len(tr)
            for key, value in (("run", np.full(m, i)), ("track", np.full(m, tr.id)),
                               ("frame", tr.frames), ("row", tr.positions[:, 0]),
                               ("col", tr.positions[:, 1]), ("row_unwrapped", tr.unwrapped[:, 0]),
                               ("col_unwrapped", tr.unwrapped[:, 1]), ("area", tr.areas)):
                cols[key].append(value)
    e["tracks"] = {k: np.concatenate(v + [np.zeros(0)]).astype(
        np.float64 if k in _FLOAT_COLUMNS else np.int64) for k, v in cols.items()}
    t, n, c, h, w = res["shape"]
    e["attrs"] = {"file": res["file"], "partial": int(res["partial"]), "frames": t,
                  "first_frame": int(res.get("first_frame", 0)), "runs": n,
                  "start": float(res.get("start", 0.0)),
                  "radius": float(np.nan if res.get("radius") is None else res["radius"]),
                  "channels": c, "height": h, "width": w, "group": flow_group(res["name"]),
                  "nonfinite_values": res["nonfinite"]}
    e["attrs"].update({f"frames_{k}": v for k, v in res["attrs"].items()})
    return e


def behaviour_data(results, parameters, icon_attrs=None):
    """{name: analyse_file(...)} -> the structure read_behaviour returns: {"attrs", "files":
    {name: file_entry}, "table": behaviour_table(...)}."""
    icon_attrs = icon_attrs or {}
    attrs = {"schema": SCHEMA, "files": list(results), "labels": list(LABELS),
             "icon": str(icon_attrs.get("icon", "") or "")}
    attrs.update({k: ("" if v is None else v) for k, v in parameters.items()})
    for key in ("icon_size", "copies"):
        if key in icon_attrs:
            attrs[f"data_{key}"] = icon_attrs[key]
    files = {name: file_entry(res) for name, res in results.items()}
    return {"attrs": attrs, "files": files, "table": _table_of(files, attrs["icon"])}


def _table_of(files, icon):
    frames_attrs = {n: {k[len("frames_"):]: v for k, v in e["attrs"].items()
                        if k.startswith("frames_")} for n, e in files.items()}
    return behaviour_table({n: e["label"] for n, e in files.items()}, frames_attrs, icon)


def write_behaviour(data, path):
    """behaviour_data(...) -> `path` (HDF5, temporary name, then renamed)."""
    string = h5py.string_dtype()
    table = data["table"]
    with io.atomic_output(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["software"] = "eqflow-postprocess"
            f.attrs["description"] = "alife_tracking.py behaviour; see postprocess/README.md"
            for key, value in data["attrs"].items():
                f.attrs[key] = _plain(value)
            for name, e in data["files"].items():
                g = f.create_group(name)
                for key, value in e.items():
                    if key == "label":
                        g.create_dataset(key, data=value, dtype=string)
                    elif key == "tracks":
                        tg = g.create_group("tracks")
                        for column, array in value.items():
                            tg[column] = array
                    elif key == "attrs":
                        for k, v in value.items():
                            g.attrs[k] = _plain(v)
                    else:
                        g[key] = value
            tg = f.create_group("table")
            tg.attrs["icon"] = table["icon"]
            tg.create_dataset("labels", data=list(LABELS), dtype=string)
            tg.create_dataset("groups", data=[r["group"] for r in table["groups"]], dtype=string)
            tg["runs"] = np.array([r["runs"] for r in table["groups"]], dtype=np.int64)
            tg["fraction"] = np.array([r["fraction"] for r in table["groups"]],
                                      dtype=np.float64).reshape(-1, len(LABELS))
            tg["counts"] = np.array([r["counts"] for r in table["groups"]],
                                    dtype=np.int64).reshape(-1, len(LABELS))
            ks = table["kernels"]
            tg.create_dataset("kernels", data=[k["name"] for k in ks], dtype=string)
            tg["kernel_index"] = np.array([-1 if k["kernel_index"] is None else k["kernel_index"]
                                          for k in ks], dtype=np.int64)
            tg["kernel_counts"] = np.array([k["counts"] for k in ks],
                                           dtype=np.int64).reshape(-1, len(LABELS))
            tg.create_dataset("kernel_majority", data=[k["majority"] for k in ks], dtype=string)
            if table["kernel_majority"]:
                tg["kernel_majority_fraction"] = np.asarray(table["kernel_majority"]["fraction"])


def read_behaviour(path):
    """behaviour.h5 -> {"attrs", "files": {name: {dataset: array, "label": [str], "tracks":
    {column: array}, "attrs": {...}}}, "table": behaviour_table dict} (as behaviour_data)."""
    with tm.open_h5_read(path) as f:
        if tm._text(f.attrs.get("schema", "")) != SCHEMA:
            raise io.EqflowError(f"{path}: not a behaviour file (root attribute schema = "
                                 f"'{SCHEMA}' expected)")
        out = {"attrs": {k: tm._text(v) for k, v in f.attrs.items()}, "files": {}}
        for name in tm._strings(f.attrs.get("files", [])):
            if name not in f:
                continue
            g = f[name]
            entry = {k: g[k][()] for k in g if isinstance(g[k], h5py.Dataset)}
            entry["label"] = tm._strings(entry["label"])
            entry["tracks"] = {k: g["tracks"][k][()] for k in g["tracks"]}
            entry["attrs"] = {k: tm._text(v) for k, v in g.attrs.items()}
            out["files"][name] = entry
    out["table"] = _table_of(out["files"], str(out["attrs"].get("icon", "")))
    return out


def tracks_from_table(columns, run, shape):
    """The Track objects of one run from behaviour.h5's flat /<name>/tracks table."""
    sel = np.nonzero(np.asarray(columns["run"]) == run)[0]
    ids = np.asarray(columns["track"])[sel]
    out = []
    for tid in np.unique(ids):
        m = sel[ids == tid]
        m = m[np.argsort(np.asarray(columns["frame"])[m], kind="stable")]
        pos = np.stack([columns["row"][m], columns["col"][m]], axis=1)
        out.append(Track(tid, columns["frame"][m], pos, shape, columns["area"][m]))
    return out


def summary_json(results, table, parameters):
    """JSON-ready dict: parameters, per file and run the scalar numbers and label, the table."""
    files = {}
    for name, res in results.items():
        files[name] = {"file": res["file"], "partial": res["partial"],
                       "frames": res["shape"][0], "first_frame": res["first_frame"],
                       "start": res.get("start"), "radius": res.get("radius"),
                       "analysed_frames": len(res["time"]),
                       "kernel_index": tm._text(res["attrs"].get("kernel_index")),
                       "runs": [dict({k: (float(r[k]) if np.isfinite(r[k]) else None)
                                      for k in _PER_RUN_SCALARS}, label=r["label"],
                                     tracks=len(r["tracks"])) for r in res["runs"]]}
    return tm.json_safe({"parameters": parameters, "files": files, "table": table})


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("behaviour", help="track the creatures of every frames file and write "
                                         "RUN/behaviour.h5 with the behaviour table")
    s.add_argument("run", metavar="RUN", help="run directory with frames/<name>.h5")
    s.add_argument("--frames", nargs="+", metavar="NAME",
                   help="frames files to read (default: every RUN/frames/<name>.h5)")
    d = s.add_argument_group("detection")
    d.add_argument("--sigma", type=float, default=DETECTION["sigma"],
                   help="Gaussian blur of the ink, px (default %(default)s)")
    d.add_argument("--threshold", type=float, default=DETECTION["threshold"],
                   help="blurred-ink threshold in [0, 1] (default %(default)s)")
    d.add_argument("--min-area", type=float, default=DETECTION["min_area"],
                   help="smallest creature, px (default %(default)s)")
    d.add_argument("--max-area", type=float, default=None,
                   help="largest creature, px (default a quarter of the canvas)")
    d.add_argument("--radius", type=float, default=DETECTION["radius"],
                   help="expected creature radius, px, for the split of touching creatures "
                        "(default: estimated per file, the median inscribed radius of the "
                        "blobs)")
    d.add_argument("--neck", type=float, default=DETECTION["neck"],
                   help="touching creatures are split where the line between two distance "
                        "maxima narrows below this fraction of the smaller one; 0: no split "
                        "(default %(default)s)")
    d.add_argument("--contrast", type=float, default=INK["contrast"],
                   help="ink relative to each frame's background, divided by max(its 99th "
                        "percentile, this); 0: undivided (default %(default)s)")
    d.add_argument("--creature-area", type=float, default=None,
                   help="one creature's area, px, for --split-area (default: the median blob "
                        "of RUN/data.h5's first 64 images, else of the frames)")
    d.add_argument("--split-area", type=float, default=DETECTION["split_area"],
                   help="only blobs of at least this many times one creature's area "
                        "(--creature-area) are split, so a creature of touching parts (the "
                        "two_discs icon) stays one; 0: any blob (default %(default)s)")
    d = s.add_argument_group("linking and measures")
    d.add_argument("--max-step", type=float, default=None,
                   help="largest step between frames, px (default one body diameter)")
    d.add_argument("--max-miss", type=int, default=LINKING["max_miss"],
                   help="frames a track survives undetected (default %(default)s)")
    d.add_argument("--lag", type=int, default=MEASURES["lag"],
                   help="velocities over this many detections of a track (default %(default)s)")
    d.add_argument("--bins", type=int, default=MEASURES["bins"],
                   help="bins of g(r) over [0, min(H, W) / 2] (default %(default)s)")
    d.add_argument("--start", type=float, default=MEASURES["start"],
                   help="leave out the frames before this simulation time (an initial "
                        "transient; default: the first 10%% of the recorded time)")
    d = s.add_argument_group("behaviour rule (module docstring)")
    for key, what in (("min_creatures", "mean count in the second half for flocking"),
                      ("flock_polarisation", "mean polarisation in the second half"),
                      ("flock_travel", "net body lengths travelled in the second half"),
                      ("nn_change_threshold", "relative NN-distance change, first -> last "
                                              "quarter"),
                      ("count_change_threshold", "relative count drop (with a merge)"),
                      ("merge_distance", "a vanished track's last position to a detection of "
                                         "the next frame, in that detection's equivalent "
                                         "diameters, for a merge")):
        d.add_argument("--" + key.replace("_", "-"), type=float, default=RULE[key],
                       help=f"{what} (default %(default)s)")
    s.add_argument("--json", metavar="OUT", help="also write the numbers as JSON ('-': stdout)")
    args = p.parse_args(argv)
    if args.sigma < 0 or args.max_miss < 0 or args.lag < 1 or args.bins < 1:
        p.error("--sigma and --max-miss must be >= 0, --lag and --bins >= 1")
    if not 0 <= args.neck <= 1 or (args.radius is not None and not args.radius > 0):
        p.error("--neck must be in [0, 1], --radius > 0")
    detection = {"sigma": args.sigma, "threshold": args.threshold, "min_area": args.min_area,
                 "max_area": args.max_area, "radius": args.radius, "neck": args.neck,
                 "split_area": args.split_area, "creature_area": args.creature_area}
    linking = {"max_step": args.max_step, "max_miss": args.max_miss}
    measures = {"lag": args.lag, "bins": args.bins, "start": args.start}
    rule = {k: getattr(args, k) for k in RULE}
    parameters = dict(detection, contrast=args.contrast, **linking, **measures, **rule)
    with contextlib.redirect_stdout(sys.stderr if args.json == "-" else sys.stdout):
        run_dir = run_directory(args.run)
        icon_attrs = data_attributes(run_dir)
        if detection["creature_area"] is None:  # recorded as used
            detection["creature_area"] = data_creature_area(run_dir, args.contrast, detection)
            parameters["creature_area"] = detection["creature_area"]
        results = analyse_run(run_dir, args.frames, detection, linking, measures, rule,
                              log=print, contrast=args.contrast)
        path = os.path.join(run_dir, "behaviour.h5")
        data = behaviour_data(results, parameters, icon_attrs)
        write_behaviour(data, path)
        table = data["table"]
        print(table_text(table))
        print(f"wrote {path}")
        if args.json:
            tm._write_json(summary_json(results, table, parameters), args.json)
    return 0


if __name__ == "__main__":
    io.main_wrapper(main)
