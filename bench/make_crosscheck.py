#!/usr/bin/python3
"""Writes tests/data/pytorch_crosscheck.h5: losses and every parameter gradient of eqflow's
two training losses computed by PyTorch in float64 from fixed weights and inputs, read by
tests/flow/test_pytorch_crosscheck.cpp (which needs no PyTorch).

  /usr/bin/python3 bench/make_crosscheck.py [--output PATH] [--verify]

Cases (all float64, deterministic: torch.manual_seed plus explicit values):
  /flow   FlowKernel d = 3, hidden 8, frequencies 4, final affine-free batch norm in train
          mode, batch 16, a fixed score s; loss mean(r^2), r = div v + v . s, for
          /flow/exact (trace of the per-sample Jacobian) and /flow/hutchinson (K = 4 given
          probes, row k*B + b is probe k of sample b, div_b = 1/K sum_k z_kb . J_b z_kb).
  /score  score MLP d = 2, hidden 8, batch 16, given t and eps: the eps-prediction loss.

Divergence definition (DESIGN.md 1.2): per sample, batch-norm statistics held FIXED inside
the Jacobian (tangent of the BN output = istd * tangent of its input), while in the loss's
gradient the statistics stay functions of the parameters (istd is not detached). The
per-sample JVPs J_h z of the pre-norm MLP come from the double-vjp trick
(g = grad(h, x, u, create_graph) = J^T u, then J z = grad(g, u, z, create_graph)).

Parameters and gradients are flat vectors in eqflow's layout: for each Linear in order its
weight (out, in) row-major, then its bias (the slot names are stored in `layout`).

--verify also checks, before writing: the double-vjp JVPs against functorch.jvp under vmap,
the exact divergence against the trace of torch.autograd.functional.jacobian per sample, and
every gradient against central finite differences of the loss.
"""
import argparse
import math
import os
import sys

import h5py
import numpy as np
import torch

torch.set_default_dtype(torch.float64)

FLOW_D, FLOW_HIDDEN, FREQUENCIES, BATCH, PROBES = 3, 8, 4, 16, 4
SCORE_D, SCORE_HIDDEN = 2, 8
BN_EPS = 1e-5
STEPS, DELTA = 100, 1e-3


def linear_params(shapes, gen, scale=1.0):
    """[(W, b), ...] with W (out, in), uniform(-scale/sqrt(in), scale/sqrt(in))."""
    out = []
    for n_in, n_out in shapes:
        bound = scale / math.sqrt(n_in)
        w = (torch.rand(n_out, n_in, generator=gen) * 2 - 1) * bound
        b = (torch.rand(n_out, generator=gen) * 2 - 1) * bound
        out.append((w.requires_grad_(), b.requires_grad_()))
    return out


def flat(params):
    return torch.cat([t.detach().reshape(-1) for wb in params for t in wb])


def flat_grad(grads):
    return torch.cat([g.reshape(-1) for g in grads])


def layout(params, first_layer, stride):
    """eqflow's slot table: 'layers.<i>.weight offset [out, in]' lines."""
    lines, offset = [], 0
    for n, (w, b) in enumerate(params):
        i = first_layer + stride * n
        lines.append(f"layers.{i}.weight {offset} [{w.shape[0]}, {w.shape[1]}]")
        offset += w.numel()
        lines.append(f"layers.{i}.bias {offset} [{b.shape[0]}]")
        offset += b.numel()
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------- flow


def fourier(x):
    """[x, sin(x), cos(x), sin(2x), cos(2x), ...]: eqflow's block order."""
    blocks = [x]
    for j in range(FREQUENCIES):
        a = 2.0**j
        blocks += [torch.sin(a * x), torch.cos(a * x)]
    return torch.cat(blocks, dim=-1)


def flow_mlp(params, x):
    """The FlowKernel before its batch norm: per sample, no coupling across the batch."""
    (w1, b1), (w2, b2), (w3, b3) = params
    h = torch.nn.functional.silu(fourier(x) @ w1.T + b1)
    h = torch.nn.functional.silu(h @ w2.T + b2)
    return h @ w3.T + b3


def flow_loss(params, x, score, tangents, exact):
    """Loss mean(r^2) and (v, div): tangents (K*B, d), row k*B + b for sample b."""
    batch, d = x.shape
    k_count = tangents.shape[0] // batch
    xr = x.detach().clone().requires_grad_()
    h = flow_mlp(params, xr)
    mu = h.mean(0)
    var = h.var(0, unbiased=False)
    istd = (var + BN_EPS) ** -0.5
    v = (h - mu) * istd
    div = torch.zeros(batch)
    for k in range(k_count):
        z = tangents[k * batch:(k + 1) * batch]
        u = torch.zeros(batch, d, requires_grad=True)
        (g,) = torch.autograd.grad(h, xr, u, create_graph=True)  # J_b^T u_b per sample
        (jz,) = torch.autograd.grad(g, u, z, create_graph=True)  # J_b z_b
        tv = istd * jz  # statistics fixed inside the Jacobian; istd keeps its parameter path
        div = div + (tv[:, k] if exact else (z * tv).sum(1))
    if not exact:
        div = div / k_count
    r = div + (v * score).sum(1)
    return (r**2).mean(), v, div


def flow_case(params, x, score, tangents, exact):
    loss, v, div = flow_loss(params, x, score, tangents, exact)
    grads = torch.autograd.grad(loss, [t for wb in params for t in wb])
    return loss.detach(), flat_grad(grads), v.detach(), div.detach()


# ------------------------------------------------------------------------------ score


def cosine_alpha_bar():
    return [(math.cos(math.pi * i / (STEPS - 1)) * (1 - 2 * DELTA) + 1) / 2 for i in range(STEPS)]


def score_loss(params, x0, t, eps):
    a = torch.tensor([cosine_alpha_bar()[min(max(int(math.floor(ti * (STEPS - 1))), 0), STEPS - 1)]
                      for ti in t.tolist()])
    xt = a.sqrt()[:, None] * x0 + (1 - a).sqrt()[:, None] * eps
    inp = torch.cat([xt, (2 * t - 1)[:, None]], dim=1)
    (w1, b1), (w2, b2), (w3, b3) = params
    h = torch.relu(inp @ w1.T + b1)
    h = torch.relu(h @ w2.T + b2)
    pred = h @ w3.T + b3 + xt
    return ((pred - eps) ** 2).mean(), pred


def score_case(params, x0, t, eps):
    loss, pred = score_loss(params, x0, t, eps)
    grads = torch.autograd.grad(loss, [t_ for wb in params for t_ in wb])
    return loss.detach(), flat_grad(grads), pred.detach()


# ----------------------------------------------------------------------------- verify


def finite_difference(params, loss_fn, h=1e-6):
    tensors = [t for wb in params for t in wb]
    out = []
    for p in tensors:
        flat_p = p.data.view(-1)  # in-place edits of the values, invisible to autograd
        for i in range(flat_p.numel()):
            keep = flat_p[i].item()
            flat_p[i] = keep + h
            up = loss_fn().item()
            flat_p[i] = keep - h
            down = loss_fn().item()
            flat_p[i] = keep
            out.append((up - down) / (2 * h))
    return torch.tensor(out)


def max_rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item()


def verify(flow_params, x, score, probes, basis, results, score_params, x0, t, eps, s_grad):
    from functorch import jvp, vmap

    # functorch.jvp under vmap (per sample) against the double-vjp tangents.
    def per_sample(xb, zb):
        return jvp(lambda y: flow_mlp(flow_params, y), (xb,), (zb,))[1]

    batch = x.shape[0]
    with torch.no_grad():
        h = flow_mlp(flow_params, x)
        istd = (h.var(0, unbiased=False) + BN_EPS) ** -0.5
        for name, tangents, exact in (("exact", basis, True), ("hutchinson", probes, False)):
            k_count = tangents.shape[0] // batch
            jz = vmap(per_sample)(x.repeat(k_count, 1), tangents) * istd
            prod = jz.view(k_count, batch, -1)
            z = tangents.view(k_count, batch, -1)
            if exact:
                div = torch.stack([prod[k, :, k] for k in range(k_count)]).sum(0)
            else:
                div = (z * prod).sum(2).mean(0)
            print(f"verify {name}: divergence functorch.jvp vs double-vjp max rel "
                  f"{max_rel(div, results[name][3]):.2e}")
    # Exact divergence against the trace of the per-sample Jacobian.
    traces = []
    for b in range(batch):
        jac = torch.autograd.functional.jacobian(lambda y: flow_mlp(flow_params, y[None])[0], x[b])
        traces.append((torch.diagonal(jac) * istd).sum())  # rows of J_v = istd_j * rows of J_h
    traces = torch.stack(traces)
    print(f"verify exact: divergence vs trace(istd J) max rel "
          f"{max_rel(traces.detach(), results['exact'][3]):.2e}")
    # Gradients against central differences.
    for name, tangents, exact in (("exact", basis, True), ("hutchinson", probes, False)):
        fd = finite_difference(flow_params,
                               lambda: flow_loss(flow_params, x, score, tangents, exact)[0])
        print(f"verify {name}: gradient vs finite differences max rel "
              f"{max_rel(results[name][1], fd):.2e}")
    fd = finite_difference(score_params, lambda: score_loss(score_params, x0, t, eps)[0])
    print(f"verify score: gradient vs finite differences max rel {max_rel(s_grad, fd):.2e}")


# ------------------------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--output", default=os.path.join(here, "..", "tests", "data",
                                                         "pytorch_crosscheck.h5"))
    parser.add_argument("--verify", action="store_true")
    args = parser.parse_args()

    gen = torch.Generator().manual_seed(20251129)
    d, B, K = FLOW_D, BATCH, PROBES
    flow_params = linear_params([(9 * d, FLOW_HIDDEN), (FLOW_HIDDEN, FLOW_HIDDEN),
                                 (FLOW_HIDDEN, d)], gen, scale=1.5)
    x = torch.randn(B, d, generator=gen)
    score = -x + 0.3 * torch.sin(torch.roll(x, -1, dims=1))
    probes = torch.randn(K * B, d, generator=gen)
    basis = torch.cat([torch.eye(d)[k].expand(B, d) for k in range(d)])  # row k*B + b = e_k
    results = {
        "exact": flow_case(flow_params, x, score, basis, exact=True),
        "hutchinson": flow_case(flow_params, x, score, probes, exact=False),
    }

    sd = SCORE_D
    score_params = linear_params([(sd + 1, SCORE_HIDDEN), (SCORE_HIDDEN, SCORE_HIDDEN),
                                  (SCORE_HIDDEN, sd)], gen, scale=1.5)
    x0 = torch.randn(B, sd, generator=gen)
    t = torch.rand(B, generator=gen)
    t[0], t[1] = 0.0, 0.999  # the ends of the schedule
    eps = torch.randn(B, sd, generator=gen)
    s_loss, s_grad, s_pred = score_case(score_params, x0, t, eps)

    if args.verify:
        verify(flow_params, x, score, probes, basis, results, score_params, x0, t, eps, s_grad)

    path = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    try:
        write_file(tmp, flow_params, x, score, probes, results, score_params, x0, t, eps,
                   s_loss, s_grad, s_pred)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    os.replace(tmp, path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes): flow exact loss "
          f"{results['exact'][0].item():.12g}, hutchinson loss "
          f"{results['hutchinson'][0].item():.12g}, score loss {s_loss.item():.12g}")
    return 0


def write_file(tmp, flow_params, x, score, probes, results, score_params, x0, t, eps, s_loss,
               s_grad, s_pred):
    d, B, K, sd = FLOW_D, BATCH, PROBES, SCORE_D
    with h5py.File(tmp, "w", track_order=True) as f:
        f.attrs["description"] = (
            "eqflow vs PyTorch cross-check: losses and parameter gradients computed by PyTorch "
            "in float64 from fixed weights and inputs (bench/make_crosscheck.py); read by "
            "tests/flow/test_pytorch_crosscheck.cpp")
        f.attrs["generator"] = "bench/make_crosscheck.py"
        f.attrs["torch_version"] = str(torch.__version__)
        f.attrs["numpy_version"] = str(np.__version__)
        f.attrs["dtype"] = "float64"

        def put(name, tensor, description):
            ds = f.create_dataset(name, data=np.asarray(tensor.detach().numpy(), dtype=np.float64),
                                  track_times=False)
            ds.attrs["description"] = description
            return ds

        g = f.create_group("flow")
        g.attrs["model"] = ("FlowKernel: Fourier [x, sin(2^j x), cos(2^j x)], j = 0..3 (blocks x, "
                            "sin 1x, cos 1x, sin 2x, ...) -> Linear(27, 8) SiLU Linear(8, 8) SiLU "
                            "Linear(8, 3) -> BatchNorm1d(3, affine=False, eps 1e-5), train mode")
        g.attrs["dim"] = d
        g.attrs["hidden"] = FLOW_HIDDEN
        g.attrs["frequencies"] = FREQUENCIES
        g.attrs["batch"] = B
        g.attrs["probes"] = K
        g.attrs["layout"] = layout(flow_params, first_layer=1, stride=2)
        g.attrs["definition"] = (
            "r = div v + v . s, loss = mean(r^2); div per sample with the batch-norm statistics "
            "held fixed inside the Jacobian (tangent = istd * J_h z); in the gradient the "
            "statistics remain functions of the parameters")
        put("flow/parameters", flat(flow_params), "flat, eqflow layout (see /flow layout)")
        put("flow/x", x, "(B, d) points")
        put("flow/score", score, "(B, d) fixed score values s")
        put("flow/probes", probes, "(K*B, d) Hutchinson probes, row k*B + b is probe k of sample b")
        put("flow/velocity", results["exact"][2], "(B, d) v = BN(h) with batch statistics")
        for name, (loss, grad, _, div) in results.items():
            sub = f.create_group(f"flow/{name}")
            sub.attrs["estimator"] = name
            put(f"flow/{name}/loss", loss, "mean(r^2)")
            put(f"flow/{name}/gradient", grad, "d loss / d parameters, flat, eqflow layout")
            put(f"flow/{name}/divergence", div,
                "(B) trace of istd * J_h" if name == "exact"
                else "(B) 1/K sum_k z_kb . (istd * J_h z_kb)")

        g = f.create_group("score")
        g.attrs["model"] = ("score MLP: [x_t, 2t - 1] -> Linear(3, 8) ReLU Linear(8, 8) ReLU "
                            "Linear(8, 2), output mlp + x_t (eps prediction)")
        g.attrs["dim"] = sd
        g.attrs["hidden"] = SCORE_HIDDEN
        g.attrs["batch"] = B
        g.attrs["schedule"] = ("cosine: a_i = (cos(pi i / 99) (1 - 2e-3) + 1) / 2, "
                               "i = floor(99 t); x_t = sqrt(a_i) x0 + sqrt(1 - a_i) eps")
        g.attrs["layout"] = layout(score_params, first_layer=0, stride=2)
        put("score/parameters", flat(score_params), "flat, eqflow layout (see /score layout)")
        put("score/x0", x0, "(B, d) clean data points")
        put("score/t", t, "(B) diffusion times in [0, 1]")
        put("score/eps", eps, "(B, d) noise")
        put("score/prediction", s_pred, "(B, d) eps_hat = mlp([x_t, 2t - 1]) + x_t")
        put("score/loss", s_loss, "mean over batch and coordinates of (eps_hat - eps)^2")
        put("score/gradient", s_grad, "d loss / d parameters, flat, eqflow layout")


if __name__ == "__main__":
    sys.exit(main())
