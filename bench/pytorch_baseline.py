#!/usr/bin/python3
"""PyTorch baseline for bench/compare.sh: the reference's low-dimensional math with eqflow's
shapes and settings, timed the way eqflow's benchmarks time themselves. Every subcommand
prints machine-readable lines `result <key> <seconds> [name value]...` like bench_step.

  /usr/bin/python3 bench/pytorch_baseline.py [--threads N] SUBCOMMAND [options]

  score            one score-MLP training step ([x, 2t-1] -> 64 -> 64 -> d, ReLU, + x; eps
                   prediction, cosine schedule; Adam lr 1e-2, weight decay 1e-5; batch 2048,
                   d 3, float32), mean over --steps steps after one warm-up step
  flow_hutchinson  one FlowKernel equilibrium-loss step, divergence from 10 Hutchinson probes
                   as the reference computes it: functorch vjp of the whole batch output under
                   vmap, div = z . J^T z per probe
  flow_exact       the same with d basis-vector vjp's (the trace)
  lyapunov FILE    the reference Lyapunov procedure (float64) on the flow of an eqflow seed
                   file (counterpart: bench_lyapunov FILE)
  mmd [FILE]       RK4 transport (dt 0.1, 100 steps) of 256 points and the unbiased RBF MMD^2
                   (sigma 0.5) against the start every 10 steps (the flow of FILE, or a random one)
  deck             a whole small run mirroring inputs/tests/pipeline_lorenz.yaml (counterpart:
                   eqflow run inputs/tests/pipeline_lorenz.yaml)

--threads N sets torch.set_num_threads(N) and OMP_NUM_THREADS / MKL_NUM_THREADS = N before
torch is imported; OPENBLAS_NUM_THREADS is --blas-threads (default 1). Debian's torch calls
OpenBLAS (pthreads) for its matrix products from its own OpenMP threads; with both pools at
2 threads on 2 cores they oversubscribe the machine (measured at --threads 2: score step
1.1 ms with single-threaded BLAS, 14 ms with OPENBLAS_NUM_THREADS=2), so N intra-op threads
with single-threaded BLAS is PyTorch's best N-thread setting here. Use Debian's Python
(/usr/bin/python3) with python3-torch (bench/setup_torch.sh).

Note on BatchNorm under functorch: nn.BatchNorm1d's in-place running-statistics update is not
allowed inside a functorch transform, so the flow's final affine-free batch norm is the
functional F.batch_norm with batch statistics inside vjp, and the running statistics (momentum
0.1, unbiased variance, as nn.BatchNorm1d) are updated right after from the returned batch
statistics: the same arithmetic and one forward pass, as in the reference's train mode.
"""
import argparse
import math
import os
import sys
import time

SCHEDULE_STEPS, SCHEDULE_DELTA = 100, 1e-3
BN_EPS, BN_MOMENTUM = 1e-5, 0.1


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="OPENBLAS_NUM_THREADS (default 1, see the note above)")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed (default 0)")
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("score", "flow_hutchinson", "flow_exact"):
        s = sub.add_parser(name)
        s.add_argument("--steps", type=int, default=20, help="timed steps (bench_step --steps)")
        s.add_argument("--batch", type=int, default=2048)
        s.add_argument("--dim", type=int, default=3)
        s.add_argument("--hidden", type=int, default=64)
        s.add_argument("--probes", type=int, default=10)
    s = sub.add_parser("lyapunov")
    s.add_argument("seed_file")
    s.add_argument("--trajectories", type=int, default=64)
    s.add_argument("--steps", type=int, default=5000)
    s.add_argument("--tau", type=int, default=2500)
    s.add_argument("--dt", type=float, default=0.1)
    s.add_argument("--batch", type=int, default=32, help="starts per try")
    s.add_argument("--tries", type=int, default=10)
    s = sub.add_parser("mmd")
    s.add_argument("seed_file", nargs="?", default=None)
    s.add_argument("--points", type=int, default=256)
    s.add_argument("--steps", type=int, default=100)
    s.add_argument("--every", type=int, default=10)
    s.add_argument("--dt", type=float, default=0.1)
    s.add_argument("--sigma", type=float, default=0.5)
    s.add_argument("--repeats", type=int, default=3, help="timed repeats after one warm-up")
    s = sub.add_parser("deck")
    s.add_argument("--experiments", type=int, default=3)
    s.add_argument("--output", default=None, help="HDF5 file for the results (default: none)")
    return p.parse_args(argv)


ARGS = parse_args(sys.argv[1:])
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.blas_threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.autograd.forward_ad as fwAD  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from functorch import vjp, vmap  # noqa: E402

torch.set_num_threads(ARGS.threads)
torch.manual_seed(ARGS.seed)


def result(key, seconds, **extra):
    fields = " ".join(f"{k} {v}" for k, v in extra.items())
    print(f"result {key} {seconds:.6e} {fields}".rstrip(), flush=True)


def alpha_bar(dtype=torch.float32):
    return torch.tensor([(math.cos(math.pi * i / (SCHEDULE_STEPS - 1)) * (1 - 2 * SCHEDULE_DELTA)
                          + 1) / 2 for i in range(SCHEDULE_STEPS)], dtype=torch.float64).to(dtype)


def schedule_index(t):
    return torch.clamp(torch.floor(t * (SCHEDULE_STEPS - 1)).long(), 0, SCHEDULE_STEPS - 1)


# --------------------------------------------------------------------------------- models


class ScoreMLP(torch.nn.Module):
    """[x, 2t - 1] -> hidden -> hidden -> d with ReLU; output mlp + x (eps prediction)."""

    def __init__(self, d, hidden=64):
        super().__init__()
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(d + 1, hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, d))

    def forward(self, x, t):
        return self.mlp(torch.cat([x, (2 * t - 1)[:, None]], dim=1)) + x


class FlowKernel(torch.nn.Module):
    """Fourier [x, sin(2^j x), cos(2^j x)] j = 0..F-1 (eqflow's block order) -> hidden ->
    hidden -> d with SiLU, then BatchNorm1d(d, affine=False) (eps 1e-5, momentum 0.1)."""

    def __init__(self, d, hidden=64, frequencies=4):
        super().__init__()
        self.frequencies = frequencies
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear((2 * frequencies + 1) * d, hidden), torch.nn.SiLU(),
            torch.nn.Linear(hidden, hidden), torch.nn.SiLU(),
            torch.nn.Linear(hidden, d))
        self.register_buffer("running_mean", torch.zeros(d))
        self.register_buffer("running_var", torch.ones(d))

    def encode(self, x):
        blocks = [x]
        for j in range(self.frequencies):
            blocks += [torch.sin(2.0**j * x), torch.cos(2.0**j * x)]
        return torch.cat(blocks, dim=-1)

    def train_forward(self, x):
        """(v, (batch mean, unbiased batch variance)): batch statistics, no buffer writes."""
        h = self.mlp(self.encode(x))
        v = F.batch_norm(h, None, None, training=True, eps=BN_EPS)
        hd = h.detach()
        return v, (hd.mean(0), hd.var(0, unbiased=True))

    def update_running(self, stats):
        with torch.no_grad():
            self.running_mean.mul_(1 - BN_MOMENTUM).add_(BN_MOMENTUM * stats[0])
            self.running_var.mul_(1 - BN_MOMENTUM).add_(BN_MOMENTUM * stats[1])

    def forward(self, x):
        """Evaluation mode: the running statistics."""
        h = self.mlp(self.encode(x))
        return (h - self.running_mean) / torch.sqrt(self.running_var + BN_EPS)


def adam(model):
    return torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-5)


def equilibrium_step(model, opt, x, s, directions, exact):
    """One training step: v and vjp of the whole batch, K cotangents under vmap."""
    opt.zero_grad(set_to_none=True)
    v, vjp_fn, stats = vjp(model.train_forward, x, has_aux=True)
    model.update_running(stats)
    (jtz,) = vmap(vjp_fn)(directions)  # (K, B, d): J^T z_k for the whole batch
    if exact:
        div = torch.diagonal(jtz, dim1=0, dim2=2).sum(-1)  # sum_k (J^T e_k)[:, k]
    else:
        div = (directions * jtz).sum(-1).mean(0)
    r = div + (v * s).sum(1)
    loss = (r * r).mean()
    loss.backward()
    opt.step()
    return loss


def basis_directions(batch, d, dtype=torch.float32):
    return torch.eye(d, dtype=dtype)[:, None, :].expand(d, batch, d).contiguous()


def score_step(model, opt, x0, ab):
    opt.zero_grad(set_to_none=True)
    t = torch.rand(x0.shape[0])
    a = ab[schedule_index(t)][:, None]
    eps = torch.randn_like(x0)
    xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
    loss = F.mse_loss(model(xt, t), eps)
    loss.backward()
    opt.step()
    return loss


def time_steps(steps, body):
    body()  # warm-up, as bench_step
    start = time.perf_counter()
    for _ in range(steps):
        body()
    return (time.perf_counter() - start) / steps


# ------------------------------------------------------------------------ step benchmarks


def bench_score(a):
    model = ScoreMLP(a.dim, a.hidden)
    opt = adam(model)
    x0 = torch.randn(a.batch, a.dim)
    ab = alpha_bar()
    seconds = time_steps(a.steps, lambda: score_step(model, opt, x0, ab))
    result("score", seconds, steps=a.steps, threads=ARGS.threads)


def bench_flow(a, exact):
    model = FlowKernel(a.dim, a.hidden)
    opt = adam(model)
    x = torch.randn(a.batch, a.dim)
    s = -x  # any fixed score is fine for timing

    def body():
        z = basis_directions(a.batch, a.dim) if exact else torch.randn(a.probes, a.batch, a.dim)
        equilibrium_step(model, opt, x, s, z, exact)

    seconds = time_steps(a.steps, body)
    result("flow_exact" if exact else "flow_hutchinson", seconds, steps=a.steps,
           threads=ARGS.threads)


# ------------------------------------------------------------------------------ dynamics


def load_seed_flow(path):
    """The FlowKernel of an eqflow seed file in float64, evaluation mode."""
    import h5py

    with h5py.File(path, "r") as f:
        d = int(f.attrs["dim"])
        params = np.asarray(f["/flow/parameters"][()], dtype=np.float64)
        buffers = np.asarray(f["/flow/buffers"][()], dtype=np.float64)
        layout = f["/flow/layout"][()]
    layout = layout.decode() if isinstance(layout, bytes) else str(layout)
    slots = []  # (name, offset, shape)
    for line in layout.strip().splitlines():
        name, offset, shape = line.split(" ", 2)
        slots.append((name, int(offset), [int(e) for e in shape.strip("[]").split(",")]))
    hidden = slots[0][2][0]
    frequencies = (slots[0][2][1] // d - 1) // 2
    model = FlowKernel(d, hidden, frequencies).double()
    linears = [m for m in model.mlp if isinstance(m, torch.nn.Linear)]
    tensors = [t for lin in linears for t in (lin.weight, lin.bias)]
    if len(tensors) != len(slots) or params.size != sum(t.numel() for t in tensors):
        raise SystemExit(f"{path}: /flow/layout is not a FlowKernel(d={d}, hidden={hidden})")
    with torch.no_grad():
        for t, (name, offset, shape) in zip(tensors, slots):
            if list(t.shape) != shape:
                raise SystemExit(f"{path}: {name} has shape {shape}, expected {list(t.shape)}")
            t.copy_(torch.from_numpy(params[offset:offset + t.numel()].reshape(shape)))
        model.running_mean.copy_(torch.from_numpy(buffers[:d]))
        model.running_var.copy_(torch.from_numpy(buffers[d:2 * d]))
    model.eval()
    return model


def rk4(f, x, dt):
    k1 = f(x)
    k2 = f(x + 0.5 * dt * k1)
    k3 = f(x + 0.5 * dt * k2)
    k4 = f(x + dt * k3)
    return x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4), k1


@torch.no_grad()
def lyapunov(f, d, trajectories, steps, tau, dt, batch, tries, bound=4.0, sigma=1e-5):
    """The reference procedure (DESIGN.md section 2). Like eqflow, a try stops integrating once
    every one of its trajectories has left the box (checked every 100 steps): same result."""
    starts, found, used = [], 0, 0
    for _ in range(tries):
        if found >= trajectories:
            break
        used += 1
        x0 = torch.randn(batch, d, dtype=torch.float64)
        x = x0.clone()
        ok = (x.abs() < bound).all(1)
        for step in range(1, steps + 1):
            x = rk4(f, x, dt)[0]
            ok &= (x.abs() < bound).all(1)  # NaN compares False
            if step % 100 == 0 and not bool(ok.any()):
                break
        starts.append(x0[ok])
        found += int(ok.sum())
    x = torch.cat(starts)[:trajectories] if starts else torch.zeros(0, d, dtype=torch.float64)
    m = x.shape[0]
    if m == 0:
        return float("nan"), 0, used
    u = torch.randn(m, d, dtype=torch.float64)
    u = u / u.norm(dim=1, keepdim=True)
    state = torch.cat([x, x + sigma * u])
    curve = torch.zeros(tau + 1, dtype=torch.float64)
    speed = torch.zeros((), dtype=torch.float64)
    segments = steps // tau
    for seg in range(segments):
        if seg > 0:
            off = state[m:] - state[:m]
            state[m:] = state[:m] + sigma * off / off.norm(dim=1, keepdim=True)
        dist = torch.empty(tau + 1, m, dtype=torch.float64)
        dist[0] = (state[m:] - state[:m]).norm(dim=1)
        for j in range(1, tau + 1):
            state, k1 = rk4(f, state, dt)
            speed += k1[:m].norm(dim=1).sum()
            dist[j] = (state[m:] - state[:m]).norm(dim=1)
        curve += dist.sum(1)
    curve /= segments * m
    growth = math.log(curve[tau].item()) - math.log(curve[0].item())
    return growth / (tau * dt), m, used


def bench_lyapunov(a):
    model = load_seed_flow(a.seed_file)
    d = model.running_mean.numel()
    start = time.perf_counter()
    exponent, stable, tries = lyapunov(model, d, a.trajectories, a.steps, a.tau, a.dt, a.batch,
                                       a.tries)
    seconds = time.perf_counter() - start
    result("lyapunov", seconds, exponent=f"{exponent:.6f}", stable=stable, tries=tries)


def mmd2_rbf(x, y, sigma):
    """Unbiased MMD^2 with k = exp(-|x - y|^2 / (2 sigma^2))."""
    g = -0.5 / sigma**2
    kxx = torch.exp(g * torch.cdist(x, x).square())
    kyy = torch.exp(g * torch.cdist(y, y).square())
    kxy = torch.exp(g * torch.cdist(x, y).square())
    n, m = x.shape[0], y.shape[0]
    return ((kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
            + (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1)) - 2 * kxy.mean()).item()


@torch.no_grad()
def mmd_curve(f, x0, dt, steps, every, sigma):
    x, curve = x0.clone(), [mmd2_rbf(x0, x0, sigma)]
    for step in range(1, steps + 1):
        x = rk4(f, x, dt)[0]
        if step % every == 0:
            curve.append(mmd2_rbf(x0, x, sigma))
    return curve


def bench_mmd(a):
    if a.seed_file:
        model = load_seed_flow(a.seed_file)
    else:
        model = FlowKernel(3).double().eval()
    d = model.running_mean.numel()
    x0 = torch.randn(a.points, d, dtype=torch.float64)
    mmd_curve(model, x0, a.dt, a.steps, a.every, a.sigma)  # warm-up
    start = time.perf_counter()
    for _ in range(a.repeats):
        curve = mmd_curve(model, x0, a.dt, a.steps, a.every, a.sigma)
    seconds = (time.perf_counter() - start) / a.repeats
    result("mmd", seconds, mmd2=f"{curve[-1]:.6e}", points=a.points, steps=a.steps)


# ---------------------------------------------------------------------- whole small deck


def lorenz_data(trajectories=10, steps=200, dt=0.01, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    def field(x):
        return torch.stack([sigma * (x[:, 1] - x[:, 0]),
                            x[:, 0] * (rho - x[:, 2]) - x[:, 1],
                            x[:, 0] * x[:, 1] - beta * x[:, 2]], dim=1)

    x = torch.randn(trajectories, 3, dtype=torch.float64)
    out = torch.empty(trajectories, steps, 3, dtype=torch.float64)
    for k in range(steps):
        x = rk4(field, x, dt)[0]
        out[:, k] = x
    data = out.reshape(-1, 3)
    mean, std = data.mean(0), data.std(0, unbiased=False)
    return (data - mean) / std, mean, std, field


def spectrum(f, x0, steps, transient, dt, qr_every):
    """Benettin: RK4 on x and its d tangents (forward-mode AD), QR every qr_every."""
    n, d = x0.shape
    q = torch.eye(d, dtype=x0.dtype).expand(n, d, d).clone()  # (n, k, d): tangent k of point n

    def tangent_field(x, t):  # x (n, d), t (n, d, d) -> (f(x), J t): one JVP of n d rows
        with fwAD.dual_level():  # forward-mode AD: half the overhead of functorch.jvp here
            out = fwAD.unpack_dual(f(fwAD.make_dual(x.repeat_interleave(d, dim=0),
                                                    t.reshape(n * d, d))))
        return out.primal[::d], out.tangent.reshape(n, d, d)

    sums = torch.zeros(n, d, dtype=x0.dtype)
    x = x0.clone()
    with torch.no_grad():
        for step in range(1, transient + steps + 1):
            k1x, k1t = tangent_field(x, q)
            k2x, k2t = tangent_field(x + 0.5 * dt * k1x, q + 0.5 * dt * k1t)
            k3x, k3t = tangent_field(x + 0.5 * dt * k2x, q + 0.5 * dt * k2t)
            k4x, k4t = tangent_field(x + dt * k3x, q + dt * k3t)
            x = x + dt / 6 * (k1x + 2 * k2x + 2 * k3x + k4x)
            q = q + dt / 6 * (k1t + 2 * k2t + 2 * k3t + k4t)
            if step % qr_every == 0 or step == transient or step == transient + steps:
                qq, r = torch.linalg.qr(q.transpose(1, 2))
                q = qq.transpose(1, 2)
                if step > transient:
                    sums += torch.log(torch.diagonal(r, dim1=1, dim2=2).abs())
    return sorted((sums.mean(0) / (steps * dt)).tolist(), reverse=True)


def deck(a):
    """inputs/tests/pipeline_lorenz.yaml: data 2,000 points; score 20 epochs batch 256 and 256
    DDIM samples; `experiments` flows of 10 epochs, batch 256, hidden 32, exact divergence,
    t = 0.2; per flow: trajectories (8 x 100 steps, dt 0.01), Lyapunov (4 trajectories, 400
    steps, tau 200, 8 starts per try, 3 tries), spectrum (2 x (100 + 1000) steps, dt 0.01, QR
    every 10), MMD^2 (64 points, 20 steps of 0.1, every 5), field similarity (128 points);
    baselines: one random flow's MMD^2 and similarity, the data's MMD^2 noise floor."""
    start = time.perf_counter()
    data, mean, std, lorenz = lorenz_data()
    x_all = data.float()
    n = x_all.shape[0]
    ab = alpha_bar()
    ab64 = alpha_bar(torch.float64)

    # Score model: 20 epochs, batch 256, shuffled full mini-batches.
    score = ScoreMLP(3, 64)
    opt = adam(score)
    batch = 256
    score_loss = []
    for _ in range(20):
        order = torch.randperm(n)
        total = 0.0
        for step in range(n // batch):
            rows = order[step * batch:(step + 1) * batch]
            total += score_step(score, opt, x_all[rows], ab).item()
        score_loss.append(total / (n // batch))
    # 256 deterministic DDIM samples from step 99 down to 2.
    with torch.no_grad():
        xs = torch.randn(256, 3)
        for i in range(SCHEDULE_STEPS - 1, 2, -1):
            t = torch.full((256,), i / (SCHEDULE_STEPS - 1))
            eps = score(xs, t)
            x0 = (xs - (1 - ab[i]).sqrt() * eps) / ab[i].sqrt()
            xs = ab[i - 1].sqrt() * x0 + (1 - ab[i - 1]).sqrt() * eps

    i_t = int(math.floor(0.2 * (SCHEDULE_STEPS - 1)))
    a_t = ab[i_t]

    def scaled_points(count):
        return data[torch.randperm(n)[:count]] * math.sqrt(ab64[i_t].item())

    def true_field(y):
        return lorenz(y * std + mean) / std

    def similarity(f, pts):
        with torch.no_grad():
            u, w = f(pts).reshape(-1), true_field(pts).reshape(-1)
        return abs(torch.dot(u, w).item()) / (u.norm() * w.norm()).item()

    def analyse(flow64):
        out = {}
        with torch.no_grad():
            x = data[torch.randperm(n)[:8]].clone()
            for _ in range(100):
                x = rk4(flow64, x, 0.01)[0]
        out["lyapunov"], out["stable"], _ = lyapunov(flow64, 3, 4, 400, 200, 0.1, 8, 3)
        out["spectrum"] = spectrum(flow64, torch.randn(2, 3, dtype=torch.float64), 1000, 100,
                                   0.01, 10)
        mmd_points = data[torch.randperm(n)[:64]]
        out["mmd"] = mmd_curve(flow64, mmd_points, 0.1, 20, 5, 0.5)
        out["similarity"] = similarity(flow64, scaled_points(128))
        return out

    results = []
    for seed in range(a.experiments):
        torch.manual_seed(1000 + seed)
        flow = FlowKernel(3, 32)
        opt = adam(flow)
        z = basis_directions(batch, 3)
        for _ in range(10):
            order = torch.randperm(n)
            for step in range(n // batch):
                x0 = x_all[order[step * batch:(step + 1) * batch]]
                eps = torch.randn_like(x0)
                xt = a_t.sqrt() * x0 + (1 - a_t).sqrt() * eps
                with torch.no_grad():
                    s = -score(xt, torch.full((batch,), 0.2)) / (1 - a_t).sqrt()
                equilibrium_step(flow, opt, xt, s, z, exact=True)
        flow64 = FlowKernel(3, 32).double()
        flow64.load_state_dict({k: v.double() for k, v in flow.state_dict().items()})
        flow64.eval()
        results.append(analyse(flow64))

    # Baselines: a random (untrained) flow, the data's own MMD^2 noise floor.
    random_flow = FlowKernel(3, 32).double().eval()
    with torch.no_grad():
        baseline_mmd = mmd_curve(random_flow, data[torch.randperm(n)[:64]], 0.1, 20, 5, 0.5)
        perm = torch.randperm(n)
        noise_floor = mmd2_rbf(data[perm[:64]], data[perm[64:128]], 0.5)
    baseline_similarity = similarity(random_flow, scaled_points(128))

    if a.output:
        import h5py

        with h5py.File(a.output, "w") as f:
            f["score/loss"] = np.asarray(score_loss)
            f["score/samples"] = xs.numpy()
            f["lyapunov"] = np.asarray([r["lyapunov"] for r in results])
            f["spectrum"] = np.asarray([r["spectrum"] for r in results])
            f["mmd"] = np.asarray([r["mmd"] for r in results])
            f["similarity"] = np.asarray([r["similarity"] for r in results])
            f["baselines/mmd"] = np.asarray(baseline_mmd)
            f["baselines/similarity"] = baseline_similarity
            f["baselines/noise_floor"] = noise_floor
    seconds = time.perf_counter() - start
    result("deck", seconds, experiments=a.experiments,
           lyapunov=",".join(f"{r['lyapunov']:.4f}" for r in results),
           stable=",".join(str(r["stable"]) for r in results))


def main():
    a = ARGS
    if a.command == "score":
        bench_score(a)
    elif a.command in ("flow_hutchinson", "flow_exact"):
        bench_flow(a, exact=a.command == "flow_exact")
    elif a.command == "lyapunov":
        bench_lyapunov(a)
    elif a.command == "mmd":
        bench_mmd(a)
    elif a.command == "deck":
        deck(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
