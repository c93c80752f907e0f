#!/usr/bin/python3
"""PyTorch twin of eqflow's trained flow on fields (the Turing "FlowModel", DESIGN.md 2;
issue 12): cross-check data for eqflow's loss and gradient, a timing of the reference-style
training step, and a timing of the training-free SDE step on the score UNet.

  /usr/bin/python3 bench/field_flow_torch.py SUBCOMMAND [options]

  crosscheck [--output tests/data/field_flow_crosscheck.h5] [--verify]
        float64, deterministic: inputs, parameters, velocity, residuals, loss and gradient
        of the flow loss below for /plain (C 2, hidden 8, 5x6, B 3, K 4, no final norm) and
        /final_norm (the same with the final affine-free batch norm). --verify first checks
        (a) the explicit tangents against torch.autograd.functional.jvp and central
        differences of a per-sample model whose batch-norm statistics are frozen constants,
        (b) the gradient against central differences of the loss (h 1e-6), (c) the conv
        built from layers.0.weight against the stencil-features definition in numpy, and
        prints, for information, how far the reference's double-backward z.Jz is from this
        definition and that the `step` subcommand's nn.Module model gives the same v.
        Each group: x, score, probes, parameters (flat), layout (names), layout_sizes,
        velocity, residual1, residual2, loss (1,), gradient (flat); attributes channels,
        hidden, height, width, batch, probes, final_norm (0/1). Inputs are rounded to
        bfloat16 precision (exact in float32 as well).
  step [--batch 128] [--size 128] [--threads 1] [--steps 3] [--probes 4] [--hidden 32]
       [--channels 2] [--final-norm]
        float32 timing of one training step written the reference's way: nn.BatchNorm2d,
        a circular 3x3 conv whose weight is built from 3 symmetric tensors, Hutchinson by
        double backward (x.requires_grad_(); g = grad((v*z).sum(), x, create_graph=True);
        q = (g*z).sum((1,2,3)) per probe), loss.backward(), clip_grad_norm_(1.0),
        AdamW(lr 1e-2, wd 1e-5).step(); fresh probes each step, x and the score s fixed
        random tensors (no UNet).
        One step = one micro-batch (the reference accumulates 8 of them per optimiser step).
  sde [--batch 1] [--size 128] [--threads 1] [--steps 3] [--channels 2]
      [--block-channels 16,32,64] [--layers-per-block 2] [--kernel swap|random] [--dt 0.01]
        float32 timing of one Heun step of dx = (K s + eta s) dt + sqrt(2 eta dt) dW under
        torch.no_grad(), s from bench/unet_torch.py's UNet (random weights) at diffusion
        step 10, plus the time of taking the clipped denoised frame x0_hat from it. The
        kernel: swap (2 channels; their default) or random (any C; the default for C != 2,
        the artificial-life runs' kernel).

Timings print the median wall and process-CPU seconds (user + system) of --steps steps after
one warm-up step, ending with one machine-readable line `RESULT key=value ...`. --threads
sets torch.set_num_threads and OMP/MKL/OPENBLAS_NUM_THREADS before torch is imported.

MODEL (channels C, hidden Hd, optional final norm), input x (B, C, H, W):
  layers.0  symmetric 3x3 conv C -> Hd, circular padding, with bias. eqflow computes it as
            stencil features then a Dense layer: feature j = cls*C + i, cls 0 the centre
            x[i,h,w], cls 1 the sum of the 4 edge neighbours, cls 2 the sum of the 4 corner
            neighbours (periodic). The equivalent Conv2d weight is
            W[o, i, dy, dx] = P0[o, cls(dy, dx)*C + i], P0 = layers.0.weight (Hd, 3C).
  layers.1  BatchNorm2d(Hd), eps 1e-5, batch statistics over (batch, H, W), biased variance
  layers.2  SiLU;  layers.3 1x1 conv Hd -> Hd;  layers.4 BatchNorm2d(Hd);  layers.5 SiLU
  layers.6  1x1 conv Hd -> C;  then optionally BatchNorm2d(C, affine=False) (no parameters)
  Flat parameters (eqflow's order), each row-major: layers.0.weight (Hd, 3C), layers.0.bias,
  layers.1.weight, layers.1.bias, layers.3.weight (Hd, Hd), layers.3.bias, layers.4.weight,
  layers.4.bias, layers.6.weight (C, Hd), layers.6.bias. layers.0.bias and layers.3.bias
  feed a batch norm, which removes them: their gradient is zero in exact arithmetic (and so
  is layers.6.bias's with the final norm); the stored values are roundoff.

LOSS, given x, the score s (B, C, H, W) and probes z (K*B, C, H, W), row k*B + b = probe k
of sample b, K even:
  v = model(x) in train mode; Jz_k = per-sample Jacobian-vector product of v at x with
  probe k, every batch norm's statistics held CONSTANT in the tangent (tangent out =
  gamma * istd * tangent in, istd = 1/sqrt(var + eps) of the primal pass, no mean
  subtraction), while in the loss's gradient the statistics stay functions of the parameters
  (istd is not detached). The tangents are propagated explicitly alongside the forward pass
  and autograd differentiates the whole thing (DESIGN.md 1.2: reverse over forward mode).
  q[k,b] = sum_{c,h,w} z[k*B+b] Jz[k*B+b];  vs[b] = sum_{c,h,w} v[b] s[b]
  r1[b] = mean_{k < K/2} q[k,b] + vs[b];  r2[b] = mean_{k >= K/2} q[k,b] + vs[b]
  loss = mean_b(r1 r2) / mean_b(sum_{c,h,w} v[b]^2)
The reference's double-backward Hutchinson (the `step` subcommand) differs from this
definition through the batch statistics: the sample's own H*W pixels, all of which enter its
divergence, are a fraction 1/B of the values pooled, so the difference is not O(1/(B H W));
--verify prints its size at B = 3 (about 25% of z.Jz).

SDE (`sde`): DDPM schedule of 100 linear betas 1e-4..0.1, ab = cumprod(1 - beta), a = ab[10];
v_hat = unet(x, 10), x0_hat = sqrt(a) x - sqrt(1-a) v_hat, s = (sqrt(a) x0_hat - x)/(1-a);
drift(x) = K s + eta s with K the 1x1 channel kernel: swap [[0, 1], [-1, 0]]/sqrt(2) (C = 2)
or random, k = p - p^T with p standard normal (C, C), divided by its Frobenius norm (the
reference's; drawn from torch's generator, so its values differ from eqflow's draw, which does
not change the work); Heun with the same noise w = sqrt(2 eta dt) xi in predictor and
corrector: x~ = x + dt drift(x) + w, x <- x + dt/2 (drift(x) + drift(x~)) + w; dt 0.01 (the
Turing decks; the artificial-life decks use 0.05), eta 0.1. The frame shown is
clamp(x0_hat(x), -1, 1), taken from drift(x)'s score evaluation (no extra UNet call).

Use Debian's Python (/usr/bin/python3) with python3-torch, h5py and numpy.
"""
import argparse
import math
import os
import statistics
import sys
import time

BN_EPS = 1e-5
NAMES = ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
         "layers.3.weight", "layers.3.bias", "layers.4.weight", "layers.4.bias",
         "layers.6.weight", "layers.6.bias"]
TURING_T, DT, ETA = 10, 0.01, 0.1


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    here = os.path.dirname(os.path.abspath(__file__))
    s = sub.add_parser("crosscheck", help="write the float64 cross-check file")
    s.add_argument("--output", default=os.path.join(here, "..", "tests", "data",
                                                    "field_flow_crosscheck.h5"))
    s.add_argument("--verify", action="store_true", help="check tangents, gradient, conv first")
    s.set_defaults(threads=1)
    for name, batch in (("step", 128), ("sde", 1)):
        s = sub.add_parser(name, help=f"float32 timing of one {name} step")
        s.add_argument("--batch", type=int, default=batch)
        s.add_argument("--size", type=int, default=128, help="H = W")
        s.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
        s.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up")
        s.add_argument("--channels", type=int, default=2)
        s.add_argument("--seed", type=int, default=0)
        if name == "step":
            s.add_argument("--probes", type=int, default=4, help="K, even")
            s.add_argument("--hidden", type=int, default=32)
            s.add_argument("--final-norm", action="store_true",
                           help="end with BatchNorm2d(C, affine=False)")
        else:
            s.add_argument("--block-channels", default="16,32,64",
                           help="UNet block_out_channels (multiples of 8)")
            s.add_argument("--layers-per-block", type=int, default=2)
            s.add_argument("--kernel", choices=("swap", "random"),
                           help="channel kernel K (default: swap for 2 channels, else random)")
            s.add_argument("--dt", type=float, default=DT)
    args = p.parse_args(argv)
    if getattr(args, "probes", 2) % 2:
        p.error("--probes must be even (two half-sized estimates)")
    if getattr(args, "kernel", None) is None and args.command == "sde":
        args.kernel = "swap" if args.channels == 2 else "random"
    if getattr(args, "kernel", None) == "swap" and args.channels != 2:
        p.error(f"--kernel swap needs 2 channels (got {args.channels}); use random")
    return args


ARGS = parse_args(sys.argv[1:]) if __name__ == "__main__" else None
if ARGS is not None:
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[_var] = str(ARGS.threads)

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

if ARGS is not None:
    torch.set_num_threads(ARGS.threads)


# ------------------------------------------------------------------- model, eqflow's way

def stencil_classes():
    """(3, 3) long: class of each tap (dy, dx): 0 centre, 1 edge, 2 corner."""
    d = torch.tensor([1, 0, 1])
    return d[:, None] + d[None, :]


def conv_weight(p0, channels):
    """(Hd, 3C) layers.0.weight -> (Hd, C, 3, 3) Conv2d weight, differentiable in p0."""
    per_class = p0.view(p0.shape[0], 3, channels)  # [o, cls, i]
    return per_class[:, stencil_classes()].permute(0, 3, 1, 2)  # [o, dy, dx, i] -> [o, i, dy, dx]


def circular_conv(x, weight, bias=None):
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="circular"), weight, bias)


def conv1x1(x, weight, bias=None):
    y = torch.einsum("oi,bihw->bohw", weight, x)
    return y if bias is None else y + bias[:, None, None]


def batch_norm(a, gamma=None, beta=None):
    """Train-mode batch norm over (batch, H, W): (output, scale = gamma * istd (C,1,1))."""
    mu = a.mean((0, 2, 3), keepdim=True)
    var = ((a - mu) ** 2).mean((0, 2, 3), keepdim=True)
    scale = (var + BN_EPS) ** -0.5
    if gamma is not None:
        scale = gamma[:, None, None] * scale
    out = (a - mu) * scale
    return (out if beta is None else out + beta[:, None, None]), scale


def silu_tangent(y, t):
    sig = torch.sigmoid(y)
    return sig * (1 + y * (1 - sig)) * t


def flow_forward(p, x, z, final_norm):
    """(v, Jz): v (B,C,H,W) in train mode; Jz (K*B,C,H,W) with BN statistics held constant
    in the tangent but not detached. p: dict of parameter tensors by name."""
    channels = x.shape[1]
    k = z.shape[0] // x.shape[0]

    def rep(y):  # primal row b -> tangent rows k*B + b
        return y.repeat(k, 1, 1, 1)

    w0 = conv_weight(p["layers.0.weight"], channels)
    a = circular_conv(x, w0, p["layers.0.bias"])
    t = circular_conv(z, w0)
    for bn, lin in (("layers.1", "layers.3"), ("layers.4", "layers.6")):
        y, scale = batch_norm(a, p[bn + ".weight"], p[bn + ".bias"])
        t = silu_tangent(rep(y), scale * t)
        a = conv1x1(F.silu(y), p[lin + ".weight"], p[lin + ".bias"])
        t = conv1x1(t, p[lin + ".weight"])
    if final_norm:
        a, scale = batch_norm(a)
        t = scale * t
    return a, t


def flow_loss(p, x, s, z, final_norm):
    """(loss, v, r1, r2) as the docstring defines them."""
    batch = x.shape[0]
    v, jz = flow_forward(p, x, z, final_norm)
    q = (z * jz).sum((1, 2, 3)).view(-1, batch)
    half = q.shape[0] // 2
    vs = (v * s).sum((1, 2, 3))
    r1, r2 = q[:half].mean(0) + vs, q[half:].mean(0) + vs
    return (r1 * r2).mean() / (v ** 2).sum((1, 2, 3)).mean(), v, r1, r2


# ------------------------------------------------------------------------------ crosscheck

def shapes(channels, hidden):
    return {"layers.0.weight": (hidden, 3 * channels), "layers.0.bias": (hidden,),
            "layers.1.weight": (hidden,), "layers.1.bias": (hidden,),
            "layers.3.weight": (hidden, hidden), "layers.3.bias": (hidden,),
            "layers.4.weight": (hidden,), "layers.4.bias": (hidden,),
            "layers.6.weight": (channels, hidden), "layers.6.bias": (channels,)}


def bf16(t):
    return t.to(torch.bfloat16).to(torch.float64)


def crosscheck_case(channels, hidden, height, width, batch, probes, final_norm, seed):
    """Parameters: Dense weights and biases uniform(+-1/sqrt(fan_in)) (fan_in 3C for
    layers.0, eqflow's Dense), BN gamma 1 + 0.3 N(0,1), beta 0.3 N(0,1); x normal, s = -x +
    0.5 N(0,1), z standard normal. Every input value is rounded to bfloat16 precision (8
    significant bits: exact in float32 too, and the file compresses)."""
    gen = torch.Generator().manual_seed(seed)
    p = {}
    for name, shape in shapes(channels, hidden).items():
        layer = name.rsplit(".", 1)[0]
        if layer in ("layers.1", "layers.4"):
            noise = 0.3 * torch.randn(shape, generator=gen)
            p[name] = 1 + noise if name.endswith("weight") else noise
        else:
            bound = 1 / math.sqrt(shapes(channels, hidden)[layer + ".weight"][1])
            p[name] = (torch.rand(shape, generator=gen) * 2 - 1) * bound
        p[name] = bf16(p[name]).requires_grad_()
    x = bf16(torch.randn(batch, channels, height, width, generator=gen))
    s = bf16(-x + 0.5 * torch.randn(batch, channels, height, width, generator=gen))
    z = bf16(torch.randn(probes * batch, channels, height, width, generator=gen))
    loss, v, r1, r2 = flow_loss(p, x, s, z, final_norm)
    grad = torch.autograd.grad(loss, [p[n] for n in NAMES])
    return {"p": p, "x": x, "score": s, "probes": z, "final_norm": final_norm,
            "loss": loss.detach(), "velocity": v.detach(), "residual1": r1.detach(),
            "residual2": r2.detach(), "gradient": torch.cat([g.reshape(-1) for g in grad])}


def max_rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item()


def frozen_model(p, x, final_norm):
    """Per-sample function y -> v(y) with every BN's statistics those of the batch x
    (computed once, detached): the definition of the per-sample Jacobian."""
    stats, a = [], x
    with torch.no_grad():
        a = circular_conv(a, conv_weight(p["layers.0.weight"], x.shape[1]), p["layers.0.bias"])
        for bn, lin in (("layers.1", "layers.3"), ("layers.4", "layers.6")):
            stats.append((a.mean((0, 2, 3), keepdim=True), a.var((0, 2, 3), unbiased=False,
                                                                keepdim=True)))
            y, _ = batch_norm(a, p[bn + ".weight"], p[bn + ".bias"])
            a = conv1x1(F.silu(y), p[lin + ".weight"], p[lin + ".bias"])
        stats.append((a.mean((0, 2, 3), keepdim=True), a.var((0, 2, 3), unbiased=False,
                                                            keepdim=True)))

    def norm(a, i, bn=None):
        mu, var = stats[i]
        out = (a - mu) / torch.sqrt(var + BN_EPS)
        return out if bn is None else out * p[bn + ".weight"][:, None, None] + \
            p[bn + ".bias"][:, None, None]

    def f(y):  # (C, H, W) -> (C, H, W)
        a = circular_conv(y[None], conv_weight(p["layers.0.weight"], y.shape[0]),
                          p["layers.0.bias"])
        for i, (bn, lin) in enumerate((("layers.1", "layers.3"), ("layers.4", "layers.6"))):
            a = conv1x1(F.silu(norm(a, i, bn)), p[lin + ".weight"], p[lin + ".bias"])
        return (norm(a, 2) if final_norm else a)[0]
    return f


def verify(case, name):
    p, x, s, z, fn = case["p"], case["x"], case["score"], case["probes"], case["final_norm"]
    batch, channels = x.shape[:2]
    k_count = z.shape[0] // batch
    with torch.no_grad():
        v, jz = flow_forward(p, x, z, fn)
    f = frozen_model(p, x, fn)
    ref_jvp, ref_fd, h = [], [], 1e-5
    for row in range(k_count * batch):
        xb, zb = x[row % batch], z[row]
        ref_jvp.append(torch.autograd.functional.jvp(f, xb, zb)[1].detach())
        with torch.no_grad():
            ref_fd.append((f(xb + h * zb) - f(xb - h * zb)) / (2 * h))
    e_jvp, e_fd = max_rel(jz, torch.stack(ref_jvp)), max_rel(jz, torch.stack(ref_fd))
    print(f"verify {name}: explicit tangents vs autograd.functional.jvp of the frozen-statistics "
          f"per-sample model: max rel {e_jvp:.2e}; vs central differences (h {h:g}): {e_fd:.2e}")
    # Information only: the reference's double backward, which differentiates the statistics.
    xr = x.clone().requires_grad_()
    vr = flow_forward(p, xr, z[:batch], fn)[0]
    q_ref = torch.stack([(torch.autograd.grad((vr * z[k * batch:(k + 1) * batch]).sum(), xr,
                                              retain_graph=True)[0] *
                          z[k * batch:(k + 1) * batch]).sum((1, 2, 3)) for k in range(k_count)])
    q = (z * jz).sum((1, 2, 3)).view(k_count, batch)
    print(f"info {name}: z.Jz of the reference's double backward (statistics differentiated) "
          f"differs from the frozen-statistics definition by max rel {max_rel(q_ref, q):.2e}")
    # (b) the gradient against central differences of the loss.
    fd, h = [], 1e-6
    for n in NAMES:
        flat = p[n].data.view(-1)
        for i in range(flat.numel()):
            keep = flat[i].item()
            with torch.no_grad():
                flat[i] = keep + h
                up = flow_loss(p, x, s, z, fn)[0].item()
                flat[i] = keep - h
                down = flow_loss(p, x, s, z, fn)[0].item()
                flat[i] = keep
            fd.append((up - down) / (2 * h))
    e_grad = max_rel(case["gradient"], torch.tensor(fd))
    print(f"verify {name}: gradient vs central differences (h {h:g}, {len(fd)} entries): "
          f"max rel {e_grad:.2e}")
    # (c) the symmetric conv against the stencil-features definition, in numpy.
    xn = x.numpy()
    roll = lambda dy, dx: np.roll(xn, (-dy, -dx), axis=(2, 3))  # noqa: E731  x[h+dy, w+dx]
    feats = np.concatenate([xn, sum(roll(dy, dx) for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1))),
                            sum(roll(dy, dx) for dy in (1, -1) for dx in (1, -1))], axis=1)
    ref = np.einsum("oj,bjhw->bohw", p["layers.0.weight"].detach().numpy(), feats) + \
        p["layers.0.bias"].detach().numpy()[:, None, None]
    with torch.no_grad():
        got = circular_conv(x, conv_weight(p["layers.0.weight"], channels), p["layers.0.bias"])
    e_conv = np.abs(got.numpy() - ref).max() / np.abs(ref).max()
    print(f"verify {name}: conv from layers.0.weight vs numpy stencil features: max rel "
          f"{e_conv:.2e}")
    # Information only: the `step` subcommand's nn.Module model computes the same v.
    ref = reference_model(channels, p["layers.1.weight"].numel(), fn).double().train()
    with torch.no_grad():
        ref[0].w.copy_(p["layers.0.weight"].view(-1, 3, channels).transpose(0, 1))
        for n in NAMES[1:]:  # "layers.3.weight" -> Sequential's "3.weight"
            ref.get_parameter(n[7:]).copy_(p[n].view_as(ref.get_parameter(n[7:])))
        e_ref = max_rel(ref(x), v)
    print(f"info {name}: v of the step subcommand's nn.Module model vs this one: max rel "
          f"{e_ref:.2e}")
    return e_jvp, e_fd, e_grad, e_conv


def write_case(g, case):
    p = case["p"]
    b, c, hh, ww = case["x"].shape
    for key, val in (("channels", c), ("hidden", p["layers.0.weight"].shape[0]), ("height", hh),
                     ("width", ww), ("batch", b), ("probes", case["probes"].shape[0] // b),
                     ("final_norm", int(case["final_norm"]))):
        g.attrs[key] = np.int64(val)

    def put(name, value, description):
        data = value.detach().numpy() if torch.is_tensor(value) else value
        g.create_dataset(name, data=data, track_times=False).attrs["description"] = description

    put("x", case["x"], "(B, C, H, W) input fields")
    put("score", case["score"], "(B, C, H, W) fixed score s")
    put("probes", case["probes"], "(K*B, C, H, W) probes, row k*B + b is probe k of sample b")
    put("parameters", torch.cat([p[n].detach().reshape(-1) for n in NAMES]),
        "flat, eqflow order (layout), each tensor row-major")
    put("layout", np.array(NAMES, dtype=h5py.string_dtype()), "parameter tensors in order")
    put("layout_sizes", np.array([p[n].numel() for n in NAMES], dtype=np.int64),
        "element count of each layout tensor")
    put("velocity", case["velocity"], "(B, C, H, W) v = model(x), train mode")
    put("residual1", case["residual1"], "(B) mean_{k < K/2} z.Jz + v.s")
    put("residual2", case["residual2"], "(B) mean_{k >= K/2} z.Jz + v.s")
    put("loss", case["loss"].reshape(1), "mean(r1 r2) / mean_b sum v^2")
    put("gradient", case["gradient"], "d loss / d parameters, flat, eqflow order")


def crosscheck(args):
    torch.set_default_dtype(torch.float64)
    cases = {name: crosscheck_case(2, 8, 5, 6, 3, 4, fn, seed)
             for name, fn, seed in (("plain", False, 20251212), ("final_norm", True, 20251213))}
    if args.verify:
        worst = [max(e) for e in zip(*(verify(c, n) for n, c in cases.items()))]
        print(f"verify worst: tangents vs jvp {worst[0]:.2e}, vs differences {worst[1]:.2e}, "
              f"gradient {worst[2]:.2e}, conv {worst[3]:.2e}")
        if worst[0] > 1e-8 or worst[1] > 1e-6 or worst[2] > 1e-6 or worst[3] > 1e-12:
            raise RuntimeError("verification failed")
    path = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            f.attrs["generator"] = "bench/field_flow_torch.py crosscheck"
            f.attrs["torch_version"] = str(torch.__version__)
            f.attrs["dtype"] = "float64"
            f.attrs["model"] = (
                "symmetric 3x3 circular conv C->Hd from layers.0.weight (Hd, 3C) [centre, edge "
                "sum, corner sum] + bias, BatchNorm2d(Hd), SiLU, 1x1 conv Hd->Hd, "
                "BatchNorm2d(Hd), SiLU, 1x1 conv Hd->C, [BatchNorm2d(C, affine=False)]; "
                "train mode, eps 1e-5, biased variance")
            f.attrs["definition"] = (
                "Jz per sample with BN statistics constant in the tangent (not detached in the "
                "gradient); q = z.Jz; r1/r2 = mean of q over the first/second half of the "
                "probes + v.s; loss = mean(r1 r2) / mean_b sum v^2")
            f.attrs["inputs"] = (
                "x, score, probes and parameters drawn at random (Dense uniform +-1/sqrt(fan_in), "
                "fan_in 3C for layers.0; BN weight 1 + 0.3 N(0,1), bias 0.3 N(0,1)), rounded to "
                "bfloat16 precision, so exact in float32 too")
            f.attrs["zero_gradient"] = (
                "layers.0.bias and layers.3.bias (and layers.6.bias with final_norm) feed a "
                "batch norm: their gradient is zero exactly, the stored values are roundoff")
            for name, case in cases.items():
                write_case(f.create_group(name), case)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    os.replace(tmp, path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes): " + ", ".join(
        f"{n} loss {c['loss'].item():.12g}" for n, c in cases.items()))
    return 0


# ------------------------------------------------------------------ timings, float32

class SymmetricConv(nn.Module):
    """Reference-style 3x3 circular conv with 3 weight tensors: centre, edge, corner."""

    def __init__(self, c_in, c_out):
        super().__init__()
        bound = 1 / math.sqrt(9 * c_in)
        self.w = nn.Parameter(torch.empty(3, c_out, c_in).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(c_out).uniform_(-bound, bound))
        self.register_buffer("classes", stencil_classes())

    def forward(self, x):
        return circular_conv(x, self.w[self.classes].permute(2, 3, 0, 1), self.bias)


def reference_model(channels, hidden, final_norm):
    layers = [SymmetricConv(channels, hidden), nn.BatchNorm2d(hidden), nn.SiLU(),
              nn.Conv2d(hidden, hidden, 1), nn.BatchNorm2d(hidden), nn.SiLU(),
              nn.Conv2d(hidden, channels, 1)]
    if final_norm:
        layers.append(nn.BatchNorm2d(channels, affine=False))
    return nn.Sequential(*layers)


def timed(fn, steps):
    """Median (wall, cpu) seconds of `steps` calls after one warm-up call."""
    wall, cpu = [], []
    for i in range(steps + 1):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        if i > 0:
            wall.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def step(args):
    torch.manual_seed(args.seed)
    c, n, b, k = args.channels, args.size, args.batch, args.probes
    model = reference_model(c, args.hidden, args.final_norm)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-5)
    x0 = torch.randn(b, c, n, n)
    s = -x0 + 0.5 * torch.randn(b, c, n, n)

    def train_step():
        x = x0.clone().requires_grad_()
        v = model(x)
        q = []
        for _ in range(k):
            z = torch.randn_like(x)
            (g,) = torch.autograd.grad((v * z).sum(), x, create_graph=True)
            q.append((g * z).sum((1, 2, 3)))
        vs = (v * s).sum((1, 2, 3))
        r1 = torch.stack(q[:k // 2]).mean(0) + vs
        r2 = torch.stack(q[k // 2:]).mean(0) + vs
        loss = (r1 * r2).mean() / (v ** 2).sum((1, 2, 3)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    wall, cpu = timed(train_step, args.steps)
    print(f"step: batch {b}, {n}x{n}, channels {c}, hidden {args.hidden}, probes {k}, final norm "
          f"{args.final_norm}, threads "
          f"{args.threads}, {args.steps} steps, torch {torch.__version__}: median {wall:.4g} s "
          f"wall, {cpu:.4g} s CPU per step ({b / wall:.4g} samples/s)")
    print(f"RESULT step_seconds={wall:.6g} cpu_seconds={cpu:.6g}", flush=True)
    return 0


def sde(args):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import unet_torch  # noqa: E402  its config lives in module constants, read at construction
    unet_torch.BLOCK_CHANNELS = tuple(int(v) for v in args.block_channels.split(","))
    unet_torch.LAYERS_PER_BLOCK = args.layers_per_block
    torch.manual_seed(args.seed)
    c, n, b = args.channels, args.size, args.batch
    unet = unet_torch.UNet(c).eval()
    a = unet_torch.alpha_bar()[TURING_T].item()
    sa, sb = math.sqrt(a), math.sqrt(1 - a)
    if args.kernel == "swap":
        kmat = torch.tensor([[0.0, 1.0], [-1.0, 0.0]]) / math.sqrt(2)
    else:
        r = torch.randn(c, c)
        kmat = (r - r.T) / (r - r.T).norm()
    dt = args.dt
    t = torch.full((b,), TURING_T, dtype=torch.long)
    x = torch.rand(b, c, n, n) * 2 - 1
    frame_times = []

    def drift(y):
        x0_hat = sa * y - sb * unet(y, t)
        s = (sa * x0_hat - y) / (1 - a)
        return conv1x1(s, kmat) + ETA * s, x0_hat

    def sde_step():
        nonlocal x
        d0, x0_hat = drift(x)
        start = time.perf_counter()
        frame = x0_hat.clamp(-1, 1)  # the frame shown for x, from the same score evaluation
        frame_times.append(time.perf_counter() - start)
        w = math.sqrt(2 * ETA * dt) * torch.randn_like(x)
        d1, _ = drift(x + dt * d0 + w)
        x = x + dt / 2 * (d0 + d1) + w
        return frame

    with torch.no_grad():
        wall, cpu = timed(sde_step, args.steps)
    frame = statistics.median(frame_times[1:])
    print(f"sde: batch {b}, {n}x{n}, channels {c}, block channels {unet_torch.BLOCK_CHANNELS}, "
          f"{args.layers_per_block} layers per block, kernel {args.kernel}, dt {dt}, threads "
          f"{args.threads}, {args.steps} steps, torch {torch.__version__}: median {wall:.4g} s "
          f"wall, {cpu:.4g} s CPU per Heun step (2 UNet calls), clipped denoised frame "
          f"{frame:.3g} s")
    print(f"RESULT sde_step_seconds={wall:.6g} cpu_seconds={cpu:.6g} frame_seconds={frame:.6g}",
          flush=True)
    return 0


def main():
    return {"crosscheck": crosscheck, "step": step, "sde": sde}[ARGS.command](ARGS)


if __name__ == "__main__":
    sys.exit(main())
