#!/usr/bin/python3
"""Plain-PyTorch twin of diffusers' UNet2DModel as eqflow's Turing/alife score model
(DESIGN.md 2), written from scratch (no diffusers), with the v-prediction DDPM objective:
the cross-check data for eqflow's UNet, a training-step timing and a reference training run.

  /usr/bin/python3 bench/unet_torch.py [--threads N] SUBCOMMAND [options]

  crosscheck [--output tests/data/unet_crosscheck.h5] [--verify]
            float64: parameters, inputs, time embedding, output, loss, parameter and input
            gradients of one v-prediction loss (C = 2, B = 3, 16x16; and /c3: C = 3, B = 2,
            8x8), weights as crosscheck_weights says (bfloat16-exact values, gzip'ed);
            --verify first checks, per case, the largest gradient entry of every parameter
            tensor and 4 input-gradient entries against fourth-order central differences,
            shift equivariance (circular padding) and the time embedding against numpy
  step [--batch 64] [--size 64] [--channels 2] [--steps 5]
            float32 timing of one full training step (noising, forward, backward, AdamW
            lr 1e-3 wd 0.01, grad-norm clip 1.0) on random data: median seconds per step of
            --steps steps after one warm-up step (and the median process CPU time, user +
            system, which a loaded machine inflates less), as one JSON line
  train DATA.h5 --dataset NAME [--epochs 100] [--seed 0] [--max-samples N] [--output F.json]
            training as DESIGN.md 2 (AdamW lr 1e-3 wd 0.01, cosine schedule with 500 warm-up
            steps over all steps, clip 1.0, batch 64, the last 10% of the samples held out for
            validation); per-epoch train and validation loss into a JSON file

The model, UNet2DModel(in_channels = out_channels = C, block_out_channels (16, 32, 64),
layers_per_block 2, DownBlock2D x3, UpBlock2D x3, UNetMidBlock2D with one attention of head
dim 8, norm_num_groups 8, norm_eps 1e-5, SiLU, positional time embedding with
flip_sin_to_cos, freq_shift 0, downsample_padding 1, dropout 0), every conv of kernel > 1
padded circularly (the stride-2 and upsampling convs too; 1x1 convs unpadded). Module names
and registration order are diffusers' own, so named_parameters() yields the names of
UNet2DModel's state_dict in its order: conv_in, time_embedding, down_blocks, up_blocks,
mid_block (registered after up_blocks: UNet2DModel sets `self.mid_block = None` before
creating up_blocks and assigns the module later; inside it `attentions` precede `resnets`),
conv_norm_out, conv_out.

Objective (DDPM, v-prediction): 100 steps, betas = linspace(1e-4, 0.1, 100) in float64 (diffusers'
DDPMScheduler builds them in float32), alpha_bar = cumprod(1 - beta); for integer t,
x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps, v = sqrt(ab_t) eps - sqrt(1 - ab_t) x0,
loss = mean((unet(x_t, t) - v)^2) over all elements. The timestep embedding is computed in
the default dtype (diffusers computes it in float32 and casts).

--threads N sets torch.set_num_threads(N) and OMP_NUM_THREADS / MKL_NUM_THREADS /
OPENBLAS_NUM_THREADS before torch is imported (default 1; see pytorch_baseline.py on
oversubscription). Use Debian's Python (/usr/bin/python3) with python3-torch
(bench/setup_torch.sh).
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

BLOCK_CHANNELS = (16, 32, 64)
LAYERS_PER_BLOCK = 2
GROUPS = 8
NORM_EPS = 1e-5
HEAD_DIM = 8
STEPS, BETA_START, BETA_END = 100, 1e-4, 0.1


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
    sub = p.add_subparsers(dest="command", required=True)
    here = os.path.dirname(os.path.abspath(__file__))
    s = sub.add_parser("crosscheck")
    s.add_argument("--output", default=os.path.join(here, "..", "tests", "data",
                                                    "unet_crosscheck.h5"))
    s.add_argument("--verify", action="store_true",
                   help="check gradient entries against central finite differences first")
    s = sub.add_parser("step")
    s.add_argument("--batch", type=int, default=64)
    s.add_argument("--size", type=int, default=64, help="H = W")
    s.add_argument("--channels", type=int, default=2)
    s.add_argument("--steps", type=int, default=5, help="timed steps after one warm-up step")
    s.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("train")
    s.add_argument("data", help="HDF5 file")
    s.add_argument("--dataset", required=True, help="float32 (N, C, H, W) in [-1, 1]")
    s.add_argument("--epochs", type=int, default=100)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--batch", type=int, default=64)
    s.add_argument("--lr", type=float, default=1e-3)
    s.add_argument("--weight-decay", type=float, default=0.01)
    s.add_argument("--warmup", type=int, default=500, help="warm-up steps of the cosine schedule")
    s.add_argument("--clip", type=float, default=1.0, help="gradient-norm clip")
    s.add_argument("--val-fraction", type=float, default=0.1,
                   help="the last floor(fraction * N) samples are held out (default 0.1)")
    s.add_argument("--max-samples", type=int, default=None, help="use only the first N samples")
    s.add_argument("--output", default=None, help="JSON file for the loss history")
    s.add_argument("--model", default=None, help="HDF5 file for the trained parameters")
    s.add_argument("--device", default="cpu")
    return p.parse_args(argv)


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


# ---------------------------------------------------------------------------------- model


def conv3x3(c_in, c_out, stride=1):
    """3x3 conv, circular padding 1 (stride 2 halves H and W)."""
    return nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1,
                     padding_mode="circular")


def timestep_embedding(t, dim):
    """(B) integer steps -> (B, dim): cat(cos(t w_j), sin(t w_j)), w_j = 10000^(-j / (dim/2)),
    diffusers' get_timestep_embedding with flip_sin_to_cos = True, downscale_freq_shift = 0."""
    half = dim // 2
    exponent = -math.log(10000.0) * torch.arange(half, dtype=torch.get_default_dtype()) / half
    emb = t.to(exponent.dtype)[:, None] * torch.exp(exponent).to(t.device)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    return torch.cat([emb[:, half:], emb[:, :half]], dim=-1)


class Timesteps(nn.Module):
    """No parameters: the sinusoidal embedding of the integer step."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, t):  # (B) -> (B, dim)
        return timestep_embedding(t, self.dim)


class TimestepEmbedding(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.linear_1 = nn.Linear(c_in, c_out)
        self.act = nn.SiLU()
        self.linear_2 = nn.Linear(c_out, c_out)

    def forward(self, x):  # (B, c_in) -> (B, c_out)
        return self.linear_2(self.act(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    """shortcut(x) + conv2(SiLU(norm2(conv1(SiLU(norm1(x))) + proj(SiLU(temb)))))."""

    def __init__(self, c_in, c_out, temb_channels):
        super().__init__()
        self.norm1 = nn.GroupNorm(GROUPS, c_in, eps=NORM_EPS, affine=True)
        self.conv1 = conv3x3(c_in, c_out)
        self.time_emb_proj = nn.Linear(temb_channels, c_out)
        self.norm2 = nn.GroupNorm(GROUPS, c_out, eps=NORM_EPS, affine=True)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = conv3x3(c_out, c_out)
        self.nonlinearity = nn.SiLU()
        self.conv_shortcut = nn.Conv2d(c_in, c_out, kernel_size=1) if c_in != c_out else None

    def forward(self, x, temb):  # (B, c_in, H, W), (B, T) -> (B, c_out, H, W)
        h = self.conv1(self.nonlinearity(self.norm1(x)))
        h = h + self.time_emb_proj(self.nonlinearity(temb))[:, :, None, None]
        h = self.conv2(self.dropout(self.nonlinearity(self.norm2(h))))
        shortcut = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        return shortcut + h


class Downsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = conv3x3(channels, channels, stride=2)

    def forward(self, x):  # (B, C, H, W) -> (B, C, H/2, W/2)
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = conv3x3(channels, channels)

    def forward(self, x):  # (B, C, H, W) -> (B, C, 2H, 2W)
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock2D(nn.Module):
    def __init__(self, c_in, c_out, temb_channels, add_downsample):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(c_in if i == 0 else c_out, c_out,
                                                    temb_channels)
                                      for i in range(LAYERS_PER_BLOCK)])
        self.downsamplers = nn.ModuleList([Downsample2D(c_out)]) if add_downsample else None

    def forward(self, x, temb):
        """-> (output, skips): every resnet output, then the downsampler's."""
        skips = []
        for resnet in self.resnets:
            x = resnet(x, temb)
            skips.append(x)
        if self.downsamplers is not None:
            for down in self.downsamplers:
                x = down(x)
            skips.append(x)
        return x, skips


class UpBlock2D(nn.Module):
    def __init__(self, c_in, c_out, prev_c_out, temb_channels, add_upsample):
        super().__init__()
        n = LAYERS_PER_BLOCK + 1
        self.resnets = nn.ModuleList([
            ResnetBlock2D((prev_c_out if i == 0 else c_out) + (c_in if i == n - 1 else c_out),
                          c_out, temb_channels) for i in range(n)])
        self.upsamplers = nn.ModuleList([Upsample2D(c_out)]) if add_upsample else None

    def forward(self, x, skips, temb):
        """skips: this block's tail of the skip stack; each resnet takes the last one."""
        skips = list(skips)
        for resnet in self.resnets:
            x = resnet(torch.cat([x, skips.pop()], dim=1), temb)
        if self.upsamplers is not None:
            for up in self.upsamplers:
                x = up(x)
        return x


class Attention(nn.Module):
    """Spatial self-attention with residual: heads of HEAD_DIM channels (head h owns the
    channels [h*HEAD_DIM, (h+1)*HEAD_DIM)), GroupNorm first, softmax(q k^T / sqrt(HEAD_DIM))."""

    def __init__(self, channels):
        super().__init__()
        self.heads = channels // HEAD_DIM
        self.group_norm = nn.GroupNorm(GROUPS, channels, eps=NORM_EPS, affine=True)
        self.to_q = nn.Linear(channels, channels, bias=True)
        self.to_k = nn.Linear(channels, channels, bias=True)
        self.to_v = nn.Linear(channels, channels, bias=True)
        self.to_out = nn.ModuleList([nn.Linear(channels, channels, bias=True), nn.Dropout(0.0)])

    def forward(self, x):  # (B, C, H, W) -> (B, C, H, W)
        b, c, hh, ww = x.shape
        h = self.group_norm(x).view(b, c, hh * ww).transpose(1, 2)  # (B, HW, C)

        def heads(y):  # (B, HW, C) -> (B * heads, HW, HEAD_DIM)
            return (y.view(b, hh * ww, self.heads, HEAD_DIM).transpose(1, 2)
                    .reshape(b * self.heads, hh * ww, HEAD_DIM))

        q, k, v = heads(self.to_q(h)), heads(self.to_k(h)), heads(self.to_v(h))
        # the scale inside the product, as diffusers' AttnProcessor (baddbmm, beta 0)
        scores = torch.baddbmm(torch.empty(b * self.heads, hh * ww, hh * ww, dtype=q.dtype,
                                           device=q.device),
                               q, k.transpose(-1, -2), beta=0, alpha=HEAD_DIM ** -0.5)
        h = torch.bmm(torch.softmax(scores, dim=-1), v)  # (B * heads, HW, HEAD_DIM)
        h = h.view(b, self.heads, hh * ww, HEAD_DIM).transpose(1, 2).reshape(b, hh * ww, c)
        h = self.to_out[1](self.to_out[0](h))
        return h.transpose(1, 2).reshape(b, c, hh, ww) + x


class UNetMidBlock2D(nn.Module):
    """resnets.0 -> attentions.0 -> resnets.1 (attentions registered first, as diffusers)."""

    def __init__(self, channels, temb_channels):
        super().__init__()
        self.attentions = nn.ModuleList([Attention(channels)])
        self.resnets = nn.ModuleList([ResnetBlock2D(channels, channels, temb_channels)
                                      for _ in range(2)])

    def forward(self, x, temb):
        x = self.resnets[0](x, temb)
        for attn, resnet in zip(self.attentions, self.resnets[1:]):
            x = resnet(attn(x), temb)
        return x


class UNet(nn.Module):
    """(B, C, H, W) noisy sample and (B) integer steps -> (B, C, H, W); H, W divisible by 4."""

    def __init__(self, channels=2):
        super().__init__()
        ch = BLOCK_CHANNELS
        temb = 4 * ch[0]
        self.conv_in = conv3x3(channels, ch[0])
        self.time_proj = Timesteps(ch[0])
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        self.down_blocks = nn.ModuleList([])
        self.mid_block = None  # as diffusers: the mid block is registered after up_blocks
        self.up_blocks = nn.ModuleList([])
        c_out = ch[0]
        for i in range(len(ch)):
            c_in, c_out = c_out, ch[i]
            self.down_blocks.append(DownBlock2D(c_in, c_out, temb, i < len(ch) - 1))
        self.mid_block = UNetMidBlock2D(ch[-1], temb)
        rev = list(reversed(ch))
        c_out = rev[0]
        for i in range(len(ch)):
            prev, c_out = c_out, rev[i]
            c_in = rev[min(i + 1, len(ch) - 1)]
            self.up_blocks.append(UpBlock2D(c_in, c_out, prev, temb, i < len(ch) - 1))
        self.conv_norm_out = nn.GroupNorm(GROUPS, ch[0], eps=NORM_EPS)
        self.conv_act = nn.SiLU()
        self.conv_out = conv3x3(ch[0], channels)

    def embed(self, t):  # (B) -> (B, 4 ch[0])
        return self.time_embedding(self.time_proj(t).to(self.conv_in.weight.dtype))

    def forward(self, x, t):
        temb = self.embed(t)
        x = self.conv_in(x)
        skips = [x]
        for block in self.down_blocks:
            x, res = block(x, temb)
            skips += res
        x = self.mid_block(x, temb)
        for block in self.up_blocks:
            n = len(block.resnets)
            x = block(x, skips[-n:], temb)
            skips = skips[:-n]
        return self.conv_out(self.conv_act(self.conv_norm_out(x)))


# ------------------------------------------------------------------------------ objective


def alpha_bar():
    """(STEPS) float64: cumprod(1 - linspace(1e-4, 0.1, 100))."""
    betas = torch.linspace(BETA_START, BETA_END, STEPS, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, dim=0)


def noised(x0, eps, t, ab):
    """(x_t, v target) for clean x0, noise eps (B, C, H, W) and steps t (B)."""
    a = ab[t].to(x0.dtype).to(x0.device)[:, None, None, None]
    sa, sb = a.sqrt(), (1.0 - a).sqrt()
    return sa * x0 + sb * eps, sa * eps - sb * x0


def v_loss(model, x0, eps, t, ab):
    x_t, v = noised(x0, eps, t, ab)
    return ((model(x_t, t) - v) ** 2).mean()


# ----------------------------------------------------------------------------- crosscheck


def crosscheck_weights(model, gen):
    """PyTorch's default init, then: conv and linear tensors x 0.5, except the attention's
    to_q / to_k weights and the time embedding's weights x 2 (attention logits of order 1,
    so the softmax is far from uniform; a time embedding of order 1); GroupNorm weight
    1 + 0.1 randn, bias 0.1 randn. Finally every value is rounded to bfloat16 precision
    (8 significant bits), so the parameters are exact in float32 too and compress."""
    strong = {"mid_block.attentions.0.to_q", "mid_block.attentions.0.to_k",
              "time_embedding.linear_1", "time_embedding.linear_2"}
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, nn.GroupNorm):
                module.weight.copy_(1.0 + 0.1 * torch.randn(module.weight.shape, generator=gen))
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=gen))
            elif isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.mul_(2.0 if name in strong else 0.5)
                module.bias.mul_(0.5)
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).to(p.dtype))


def crosscheck_case(channels, batch, size, t_values, seed):
    torch.manual_seed(seed)  # nn default initialisation draws from the global generator
    model = UNet(channels)
    gen = torch.Generator().manual_seed(seed + 1)
    crosscheck_weights(model, gen)
    x0 = torch.rand(batch, channels, size, size, generator=gen) * 2 - 1
    eps = torch.randn(batch, channels, size, size, generator=gen)
    t = torch.tensor(t_values, dtype=torch.int64)
    ab = alpha_bar()
    x_t, v = noised(x0, eps, t, ab)
    x_in = x_t.clone().requires_grad_()
    out = model(x_in, t)
    loss = ((out - v) ** 2).mean()
    params = [p for _, p in model.named_parameters()]
    grads = torch.autograd.grad(loss, params + [x_in])
    with torch.no_grad():
        temb = model.embed(t)
    return dict(model=model, x0=x0, eps=eps, t=t, x_t=x_t, v=v, output=out.detach(),
                loss=loss.detach(), temb=temb,
                gradient=torch.cat([g.reshape(-1) for g in grads[:-1]]),
                input_gradient=grads[-1], ab=ab)


ZERO_GRADIENT = "mid_block.attentions.0.to_k.bias"  # zero in exact arithmetic, see verify


def verify(case, name):
    """Central differences of the loss for the largest-gradient entry of every parameter
    tensor and a few input entries; prints the worst relative disagreement. The key bias's
    gradient is zero in exact arithmetic (q . (k + b) shifts every score of a query by the
    same q . b, which the softmax ignores): there both must be ~0 against the largest entry."""
    model, x_t, v, t = case["model"], case["x_t"], case["v"], case["t"]
    scale = case["gradient"].abs().max().item()

    def loss_at(x):
        with torch.no_grad():
            return ((model(x, t) - v) ** 2).mean().item()

    def stencil(f):  # fourth-order central difference of f(delta) at 0
        return (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h)

    h, worst, checked, offset = 1e-4, (0.0, ""), 0, 0
    for pname, p in model.named_parameters():
        g = case["gradient"][offset:offset + p.numel()]
        offset += p.numel()
        i = int(g.abs().argmax())
        flat = p.data.view(-1)
        keep = flat[i].item()

        def shifted(delta):
            flat[i] = keep + delta
            return loss_at(x_t)

        fd = stencil(shifted)
        flat[i] = keep
        if pname == ZERO_GRADIENT:
            print(f"verify {name}: {pname}: max |gradient| {g.abs().max().item():.1e}, "
                  f"central difference {fd:.1e} (largest gradient entry {scale:.1e})")
            if g.abs().max().item() > 1e-12 * scale or abs(fd) > 1e-8 * scale:
                return 1.0
            continue
        rel = abs(fd - g[i].item()) / abs(g[i].item())
        if rel > worst[0]:
            worst = (rel, f"{pname}[{i}]")
        checked += 1
    gx = case["input_gradient"].reshape(-1)
    for i in [0, 7, int(gx.abs().argmax()), gx.numel() - 1]:
        def shifted(delta):
            x = x_t.clone().reshape(-1)
            x[i] += delta
            return loss_at(x.view_as(x_t))

        fd = stencil(shifted)
        rel = abs(fd - gx[i].item()) / max(abs(gx[i].item()), 1e-300)
        if rel > worst[0]:
            worst = (rel, f"x_t[{i}]")
        checked += 1
    # Circular padding everywhere: a shift by 4 pixels (two stride-2 levels) commutes.
    with torch.no_grad():
        shifted_out = model(torch.roll(x_t, (4, -8), dims=(2, 3)), t)
        rolled = torch.roll(case["output"], (4, -8), dims=(2, 3))
    shift_err = ((shifted_out - rolled).abs().max() / rolled.abs().max()).item()
    print(f"verify {name}: unet(roll(x_t)) vs roll(unet(x_t)), shift (4, -8): max rel "
          f"{shift_err:.1e}")
    # The time embedding from its definition, in numpy.
    w = np.exp(-math.log(10000.0) * np.arange(8) / 8)
    arg = t.numpy()[:, None].astype(np.float64) * w[None, :]
    te = model.time_embedding
    hid = np.concatenate([np.cos(arg), np.sin(arg)], 1) @ te.linear_1.weight.detach().numpy().T
    hid = hid + te.linear_1.bias.detach().numpy()
    hid = hid / (1 + np.exp(-hid))
    ref = hid @ te.linear_2.weight.detach().numpy().T + te.linear_2.bias.detach().numpy()
    temb_err = np.abs(ref - case["temb"].numpy()).max() / np.abs(ref).max()
    print(f"verify {name}: time embedding vs numpy max rel {temb_err:.1e}")
    worst = max(worst, (shift_err, "shift"), (temb_err, "temb"))
    print(f"verify {name}: {checked} gradient entries (the largest of each tensor, and x_t) vs "
          f"fourth-order central differences (h {h:g}): max rel {worst[0]:.2e} at {worst[1]}")
    return worst[0]


def write_case(g, case, description):
    model = case["model"]
    names = [n for n, _ in model.named_parameters()]
    shapes = [tuple(p.shape) for _, p in model.named_parameters()]
    b, c, hh, ww = case["x0"].shape
    g.attrs["description"] = description
    g.attrs["channels"], g.attrs["batch"], g.attrs["height"], g.attrs["width"] = c, b, hh, ww
    g.attrs["parameter_count"] = sum(p.numel() for p in model.parameters())

    def put(name, value, description):
        data = value.detach().numpy() if torch.is_tensor(value) else value
        big = {"compression": "gzip", "compression_opts": 9, "shuffle": True} \
            if data.size > 4096 else {}
        ds = g.create_dataset(name, data=data, track_times=False, **big)
        ds.attrs["description"] = description

    lay = g.create_group("layout")
    lay.attrs["description"] = ("parameter tensors in named_parameters() order = diffusers' "
                                "UNet2DModel state_dict names and order; tensor k has rank "
                                "ranks[k], its extents are the next ranks[k] entries of "
                                "shapes, its values start at offsets[k] of /parameters")
    put("layout/names", np.array(names, dtype=h5py.string_dtype()), "state_dict names")
    put("layout/ranks", np.array([len(s) for s in shapes], dtype=np.int64), "rank per tensor")
    put("layout/shapes", np.array([e for s in shapes for e in s], dtype=np.int64),
        "extents, concatenated (conv weights (out, in, kh, kw), linear weights (out, in))")
    offsets = np.cumsum([0] + [int(np.prod(s)) for s in shapes])[:-1].astype(np.int64)
    put("layout/offsets", offsets, "start of each tensor in /parameters and /gradient")
    put("parameters", torch.cat([p.detach().reshape(-1) for p in model.parameters()]),
        "every parameter tensor flattened row-major, concatenated in layout order")
    put("x0", case["x0"], "(B, C, H, W) clean sample, uniform in [-1, 1]")
    put("eps", case["eps"], "(B, C, H, W) noise, standard normal")
    put("t", case["t"], "(B) integer diffusion steps in [0, 100)")
    put("alpha_bar", case["ab"], "(100) cumprod(1 - linspace(1e-4, 0.1, 100)), float64")
    put("x_t", case["x_t"], "(B, C, H, W) sqrt(ab_t) x0 + sqrt(1 - ab_t) eps")
    put("target", case["v"], "(B, C, H, W) v = sqrt(ab_t) eps - sqrt(1 - ab_t) x0")
    put("temb", case["temb"], "(B, 64) time embedding: linear_2(SiLU(linear_1(sinusoid(t))))")
    put("output", case["output"], "(B, C, H, W) unet(x_t, t)")
    put("loss", case["loss"], "mean over all elements of (output - target)^2")
    put("gradient", case["gradient"], "d loss / d parameters, flat, layout order")
    put("input_gradient", case["input_gradient"], "(B, C, H, W) d loss / d x_t")


def crosscheck(args):
    torch.set_default_dtype(torch.float64)
    main_case = crosscheck_case(2, 3, 16, [3, 41, 97], seed=20251206)
    c3_case = crosscheck_case(3, 2, 8, [0, 99], seed=20251207)
    for name, case in (("C=2", main_case), ("C=3", c3_case)):
        offset, zero = 0, []
        for pname, p in case["model"].named_parameters():
            if (pname != ZERO_GRADIENT and case["gradient"][offset:offset + p.numel()]
                    .abs().max() < 1e-9 * case["gradient"].abs().max()):
                zero.append(pname)
            offset += p.numel()
        if zero:
            raise RuntimeError(f"{name}: vanishing gradient of {zero}")
    if args.verify:
        worst = max(verify(main_case, "C=2"), verify(c3_case, "/c3 C=3"))
        if worst > 1e-6:
            raise RuntimeError(f"finite differences disagree: max rel {worst:.2e}")
    path = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            f.attrs["generator"] = "bench/unet_torch.py crosscheck"
            f.attrs["torch_version"] = str(torch.__version__)
            f.attrs["numpy_version"] = str(np.__version__)
            f.attrs["dtype"] = "float64"
            f.attrs["model"] = (
                "diffusers UNet2DModel(in = out channels C, block_out_channels (16, 32, 64), "
                "layers_per_block 2, DownBlock2D x3, UpBlock2D x3, UNetMidBlock2D with one "
                "attention of head dim 8, norm_num_groups 8, norm_eps 1e-5, SiLU, positional "
                "time embedding flip_sin_to_cos, freq_shift 0), every conv with kernel > 1 "
                "padded circularly")
            f.attrs["objective"] = (
                "DDPM v-prediction: x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps, "
                "v = sqrt(ab_t) eps - sqrt(1 - ab_t) x0, loss = mean((unet(x_t, t) - v)^2)")
            f.attrs["zero_gradient"] = (
                f"{ZERO_GRADIENT}: its gradient is zero in exact arithmetic (adding b to every "
                "key shifts all scores of a query by q . b, which the softmax ignores); the "
                "stored values are roundoff (~1e-20): compare it with an absolute tolerance")
            f.attrs["weights"] = (
                "PyTorch default init, then conv/linear tensors x 0.5 except the weights of "
                "mid_block.attentions.0.to_q/to_k and time_embedding.linear_1/2 x 2; GroupNorm "
                "weight 1 + 0.1 randn, bias 0.1 randn; all rounded to bfloat16 precision")
            write_case(f, main_case, "C = 2, B = 3, 16 x 16")
            write_case(f.create_group("c3"), c3_case, "C = 3, B = 2, 8 x 8")
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    os.replace(tmp, path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes): C=2 loss "
          f"{main_case['loss'].item():.12g} ({main_case['gradient'].numel()} parameters), "
          f"C=3 loss {c3_case['loss'].item():.12g} ({c3_case['gradient'].numel()} parameters)")
    return 0


# ------------------------------------------------------------------------------- training


def optimiser(model, lr, weight_decay):
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


def train_step(model, opt, x0, ab, clip, gen=None):
    """One v-prediction step on the clean batch x0; returns the loss (a tensor)."""
    t = torch.randint(0, STEPS, (x0.shape[0],), generator=gen).to(x0.device)
    eps = torch.randn(x0.shape, generator=gen).to(x0.device)
    loss = v_loss(model, x0, eps, t, ab)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss.detach()


def step(args):
    torch.manual_seed(args.seed)
    model = UNet(args.channels)
    opt = optimiser(model, 1e-3, 0.01)
    ab = alpha_bar()
    x0 = torch.rand(args.batch, args.channels, args.size, args.size) * 2 - 1
    times, cpu_times = [], []
    for i in range(args.steps + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        train_step(model, opt, x0, ab, 1.0).item()
        if i > 0:
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
    sec = statistics.median(times)
    print(json.dumps({
        "command": "step", "batch": args.batch, "size": args.size, "channels": args.channels,
        "threads": args.threads, "steps": args.steps, "seconds_per_step": sec,
        "samples_per_second": args.batch / sec, "min_seconds": min(times),
        "max_seconds": max(times), "cpu_seconds_per_step": statistics.median(cpu_times),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "parameters": sum(p.numel() for p in model.parameters()),
        "torch": str(torch.__version__)}), flush=True)
    return 0


def cosine_with_warmup(opt, warmup, total):
    """diffusers' get_cosine_schedule_with_warmup (num_cycles 0.5), stepped per batch."""
    def factor(step_index):
        if step_index < warmup:
            return step_index / max(1, warmup)
        progress = (step_index - warmup) / max(1, total - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 2.0 * 0.5 * progress)))
    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def validation_loss(model, data, ab, batch, seed, device):
    """Mean v-loss over the held-out samples with the same noise and steps every call."""
    gen = torch.Generator().manual_seed(seed)
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, data.shape[0], batch):
            x0 = data[start:start + batch].to(device)
            t = torch.randint(0, STEPS, (x0.shape[0],), generator=gen).to(device)
            eps = torch.randn(x0.shape, generator=gen).to(device)
            total += v_loss(model, x0, eps, t, ab).item() * x0.numel()
            count += x0.numel()
    model.train()
    return total / count


def train(args):
    with h5py.File(args.data, "r") as f:
        ds = f[args.dataset]
        n = ds.shape[0] if args.max_samples is None else min(args.max_samples, ds.shape[0])
        data = torch.from_numpy(np.asarray(ds[:n], dtype=np.float32))
    if data.ndim != 4:
        raise ValueError(f"{args.data}:{args.dataset}: expected (N, C, H, W), got {data.shape}")
    n_val = int(args.val_fraction * n)
    train_data, val_data = data[:n - n_val], data[n - n_val:]
    if train_data.shape[0] == 0:
        raise ValueError(f"no training samples left ({n} samples, {n_val} for validation)")
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    model = UNet(data.shape[1]).to(device)
    opt = optimiser(model, args.lr, args.weight_decay)
    per_epoch = math.ceil(train_data.shape[0] / args.batch)
    total = args.epochs * per_epoch
    sched = cosine_with_warmup(opt, args.warmup, total)
    ab = alpha_bar()
    gen = torch.Generator().manual_seed(args.seed + 1)  # shuffling, steps, noise
    history = {"epoch": [], "train_loss": [], "val_loss": [], "lr_after_epoch": [],
               "epoch_seconds": []}
    val_seed = args.seed + 2
    start_all = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(train_data.shape[0], generator=gen)
        loss_sum, count = 0.0, 0
        for i in range(per_epoch):
            x0 = train_data[order[i * args.batch:(i + 1) * args.batch]].to(device)
            loss = train_step(model, opt, x0, ab, args.clip, gen)
            sched.step()
            loss_sum += loss.item() * x0.shape[0]
            count += x0.shape[0]
        val = (validation_loss(model, val_data, ab, args.batch, val_seed, device)
               if n_val > 0 else float("nan"))
        history["epoch"].append(epoch)
        history["train_loss"].append(loss_sum / count)
        history["val_loss"].append(val)
        history["lr_after_epoch"].append(opt.param_groups[0]["lr"])
        history["epoch_seconds"].append(time.perf_counter() - start)
        print(f"epoch {epoch}/{args.epochs} train {loss_sum / count:.6f} val {val:.6f} lr "
              f"{opt.param_groups[0]['lr']:.3e} {history['epoch_seconds'][-1]:.1f} s", flush=True)
    result = {
        "generator": "bench/unet_torch.py train", "torch": str(torch.__version__),
        "data": os.path.abspath(args.data), "dataset": args.dataset, "samples": n,
        "train_samples": n - n_val, "val_samples": n_val,
        "validation": f"the last {n_val} samples (indices {n - n_val}..{n - 1})",
        "shape": list(data.shape[1:]), "epochs": args.epochs, "seed": args.seed,
        "batch": args.batch, "lr": args.lr, "weight_decay": args.weight_decay,
        "warmup": args.warmup, "total_steps": total, "clip": args.clip,
        "threads": args.threads, "device": str(device),
        "parameters": sum(p.numel() for p in model.parameters()),
        "total_seconds": time.perf_counter() - start_all,
        "train_loss_definition": "mean over the epoch's batches (weighted by batch size) of the "
                                 "v-prediction MSE, with the weights of the moment",
        "val_loss_definition": "v-prediction MSE over all held-out samples after the epoch, the "
                               "same noise and steps every epoch", **history}
    if args.output:
        write_atomic(args.output, lambda tmp: write_json(tmp, result))
    if args.model:
        write_atomic(args.model, lambda tmp: save_parameters(tmp, model, result))
    return 0


def save_parameters(path, model, result):
    """The trained parameters in the cross-check file's layout (/layout, /parameters)."""
    with h5py.File(path, "w", track_order=True) as f:
        f.attrs["generator"] = "bench/unet_torch.py train"
        f.attrs["run"] = json.dumps({k: v for k, v in result.items() if not isinstance(v, list)})
        shapes = [tuple(p.shape) for p in model.parameters()]
        f["layout/names"] = np.array([n for n, _ in model.named_parameters()],
                                     dtype=h5py.string_dtype())
        f["layout/ranks"] = np.array([len(s) for s in shapes], dtype=np.int64)
        f["layout/shapes"] = np.array([e for s in shapes for e in s], dtype=np.int64)
        f["layout/offsets"] = np.cumsum([0] + [int(np.prod(s)) for s in shapes])[:-1]
        f["parameters"] = torch.cat([p.detach().cpu().reshape(-1)
                                     for p in model.parameters()]).numpy()


def write_json(path, result):
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


def write_atomic(path, writer):
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    try:
        writer(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    os.replace(tmp, path)


def main():
    return {"crosscheck": crosscheck, "step": step, "train": train}[ARGS.command](ARGS)


if __name__ == "__main__":
    sys.exit(main())
