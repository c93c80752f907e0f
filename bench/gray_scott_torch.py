#!/usr/bin/python3
"""PyTorch baseline of the Gray-Scott simulator for bench/compare_gray_scott.sh: the same
update as eqflow's systems::GrayScottSimulator (counterpart: build/bin/bench_gray_scott),
written as the reference writes it: u and v as (N, 1, H, W) float32 tensors, the 5-point
Laplacian as conv2d with the kernel [[0, 1, 0], [1, -4, 1], [0, 1, 0]] on a circularly padded
field (or, with --laplacian roll, as four torch.roll's), then

    uvv = u * v * v
    u = clamp(u + Du lap(u) - uvv + F (1 - u), 0, 1)
    v = clamp(v + Dv lap(v) + uvv - (F + k) v, 0, 1)

under torch.no_grad(), 'maze' parameters, from u = 1, v = 0 with 5 discs of radius 3..7 set to
u = 0.5, v = 0.25 (torch.Generator, seed 0: the same distribution as eqflow, other numbers).

  /usr/bin/python3 bench/gray_scott_torch.py [--threads 1] [--batch 32] [--size 128]
                                             [--steps 1000] [--repeats 3] [--laplacian conv]

Prints "result gray_scott_torch_<laplacian> <seconds per run> cell_updates_per_s <rate>": the
best of --repeats runs after 10 warm-up steps (a cell update: one grid point's (u, v) advanced
by one step). --threads N sets torch.set_num_threads(N) and OMP/MKL/OPENBLAS_NUM_THREADS before
torch is imported. Use Debian's Python (/usr/bin/python3) with python3-torch
(bench/setup_torch.sh).
"""
import argparse
import os
import sys
import time

MAZE = (0.16, 0.08, 0.029, 0.057)  # Du, Dv, F, k


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--laplacian", choices=("conv", "roll"), default="conv")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)

    if args.laplacian == "conv":
        def laplacian(x):
            return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="circular"), kernel)
    else:
        def laplacian(x):
            return (torch.roll(x, 1, 2) + torch.roll(x, -1, 2) + torch.roll(x, 1, 3)
                    + torch.roll(x, -1, 3) - 4.0 * x)

    Du, Dv, Fe, k = MAZE

    def step(u, v):
        uvv = u * v * v
        u_next = u + Du * laplacian(u) - uvv + Fe * (1.0 - u)
        v_next = v + Dv * laplacian(v) + uvv - (Fe + k) * v
        return u_next.clamp(0.0, 1.0), v_next.clamp(0.0, 1.0)

    def initial_state():
        n, s = args.batch, args.size
        g = torch.Generator().manual_seed(0)
        u = torch.ones(n, 1, s, s)
        v = torch.zeros(n, 1, s, s)
        yy, xx = torch.meshgrid(torch.arange(s), torch.arange(s), indexing="ij")
        for i in range(n):
            for _ in range(5):
                r = int(torch.randint(3, 8, (1,), generator=g))
                cy, cx = (int(c) for c in torch.randint(0, s, (2,), generator=g))
                dy = (yy - cy).abs()
                dx = (xx - cx).abs()
                dy = torch.minimum(dy, s - dy)
                dx = torch.minimum(dx, s - dx)
                disc = dy * dy + dx * dx <= r * r
                u[i, 0][disc] = 0.5
                v[i, 0][disc] = 0.25
        return u, v

    best = float("inf")
    with torch.no_grad():
        u, v = initial_state()
        for _ in range(10):
            u, v = step(u, v)
        for _ in range(args.repeats):
            u, v = initial_state()
            start = time.perf_counter()
            for _ in range(args.steps):
                u, v = step(u, v)
            best = min(best, time.perf_counter() - start)
    cells = args.batch * args.size * args.size * args.steps
    print(f"result gray_scott_torch_{args.laplacian} {best:.6e} cell_updates_per_s "
          f"{cells / best:.4e} batch {args.batch} size {args.size} steps {args.steps} "
          f"threads {args.threads} mean_v {float(v.mean()):.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
