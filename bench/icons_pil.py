#!/usr/bin/python3
"""Plain Python/PIL baseline of the artificial-life data generator (eqflow's
systems::icon_canvas, `eqflow generate` of a `system: icons` deck), written the way the
reference's generator works, for bench/alife.sh:

    icon = Image.open(PNG).convert("RGBA").resize((S, S), BICUBIC)          # once
    per image: a white RGB canvas (H, W) and an occupancy mask (H, W) of False
      per copy (--copies 10), up to --attempts (2) attempts:
        angle uniform in [0, 360), centre (row, col) uniform over the cells
        rot = icon.rotate(angle, resample=BICUBIC, expand=True)
        its alpha >= 1 (of 255) laid with its top-left at (row - nh // 2, col - nw // 2),
        wrapping at the edges; if it meets the mask, the next attempt
        else: mask |= its alpha; canvas.paste(rot, (left + dx, top + dy), rot) for the 9
        periodic images dx in (-W, 0, W), dy in (-H, 0, H) (PIL clips the boxes); next copy
      the canvas as float32 (3, H, W), 2 x / 255 - 1 (white = 1)

one process, numpy's default_rng(--seed) (the same distribution as eqflow, other numbers).

  /usr/bin/python3 bench/icons_pil.py --icon PNG [--icon-size 64] [--samples 2048]
                                      [--height 128] [--width 128] [--copies 10]
                                      [--attempts 2] [--seed 0] [--output FILE.h5]

Prints the images per second of the generation loop (the icon's one-off resize and the
imports are outside it), the mean number of copies placed and the covered fraction (pixels with
some channel below 0, i.e. darker than mid-grey: robust to the 8-bit rounding of faint edges; to
compare with eqflow's data, same distribution, so about the same number), then one line
`RESULT key=value ...`. --output also writes the images to FILE.h5 /fields (N, 3, H, W)
float32, after the timed loop (eqflow's file is written while it generates; see bench/alife.sh
for the whole-command timings). Use Debian's Python (/usr/bin/python3) with python3-pil,
numpy and h5py.
"""
import argparse
import sys
import time

import numpy as np
from PIL import Image

BICUBIC = Image.Resampling.BICUBIC if hasattr(Image, "Resampling") else Image.BICUBIC


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--icon", required=True, help="RGBA PNG (eqflow draw-icon disc FILE)")
    p.add_argument("--icon-size", type=int, default=64)
    p.add_argument("--samples", type=int, default=2048)
    p.add_argument("--height", type=int, default=128)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--copies", type=int, default=10)
    p.add_argument("--attempts", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", help="write the images to this HDF5 file (/fields)")
    return p.parse_args(argv)


def canvas_image(icon, height, width, copies, attempts, rng):
    """One image: (float32 (3, H, W) in [-1, 1], copies placed)."""
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    occupied = np.zeros((height, width), dtype=bool)
    placed = 0
    for _ in range(copies):
        for _ in range(attempts):
            angle = 360.0 * rng.random()
            row, col = int(rng.integers(height)), int(rng.integers(width))
            rot = icon.rotate(angle, resample=BICUBIC, expand=True)
            alpha = np.asarray(rot.getchannel("A")) >= 1
            nh, nw = alpha.shape
            top, left = row - nh // 2, col - nw // 2
            window = np.ix_(np.arange(top, top + nh) % height, np.arange(left, left + nw) % width)
            if (occupied[window] & alpha).any():
                continue
            occupied[window] |= alpha
            for dy in (-height, 0, height):
                for dx in (-width, 0, width):
                    canvas.paste(rot, (left + dx, top + dy), rot)
            placed += 1
            break
    pixels = np.asarray(canvas, dtype=np.float32).transpose(2, 0, 1)
    return pixels * (2.0 / 255.0) - 1.0, placed


def main():
    args = parse_args(sys.argv[1:])
    icon = Image.open(args.icon).convert("RGBA").resize((args.icon_size, args.icon_size), BICUBIC)
    rng = np.random.default_rng(args.seed)
    images = np.empty((args.samples, 3, args.height, args.width), dtype=np.float32)
    placed = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(args.samples):
        images[i], n = canvas_image(icon, args.height, args.width, args.copies, args.attempts, rng)
        placed += n
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    covered = float((images.min(axis=1) < 0).mean())
    print(f"icons_pil: {args.samples} images of 3 x {args.height} x {args.width}, icon "
          f"{args.icon_size} x {args.icon_size}, up to {args.copies} copies, {args.attempts} "
          f"attempts: {wall:.3f} s wall, {cpu:.3f} s CPU, {args.samples / wall:.4g} images/s; "
          f"{placed / args.samples:.3f} copies per image, covered fraction {covered:.4f}")
    if args.output:
        import h5py
        with h5py.File(args.output, "w") as f:
            f.create_dataset("fields", data=images)
    print(f"RESULT images={args.samples} seconds={wall:.6g} cpu_seconds={cpu:.6g} "
          f"images_per_s={args.samples / wall:.6g} copies_per_image={placed / args.samples:.6g} "
          f"covered={covered:.6g}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
