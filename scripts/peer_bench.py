#!/usr/bin/env python3
"""The PyTorch peer of `amr --no-gui bench`: the same pretraining step in PyTorch, to measure our speed
against a mature framework on the same machine.

Written for this project from the AMR paper and the reference spec (`../shared/spec/reference-methods.md`
sections 1-2); it mirrors what `amr --no-gui bench` runs, shape for shape:

- data: synthetic random-walk sequences of 150 frames, 2 persons, 25 joints, made once; per step a batch
  is cut from them on the host as our trainer does: a random crop of 50-100 % of the frames (at least 64),
  resampled linearly to T = 120 (half-pixel centres), each person centred on its first frame's root
  joint, a random rotation of up to 0.3 rad per axis;
- the encoder: a linear patch embedding of l = 4 frames x 1 joint x xyz, learnable temporal and joint
  embeddings, motion-aware masking (tau 0.8, 90 %: 75 of 750 tokens visible), 8 pre-LN blocks of width
  256, 8 heads, MLP 1024 with exact GELU, a final LayerNorm;
- `--decoder amr`: AMR's decoder: the visible tokens embedded, key position encodings, 125 learnable
  queries with their position encodings, 5 cross-attention layers (LN, cross-attention, residual; LN,
  MLP, residual), LayerNorm, a 3-layer MLP head to r l 3 = 72 values; NAT targets (per person, joint and
  axis normalised over the clip) of 24-frame patches; focal weights (windows 4, 8, 12, k 0.01, mean
  fusion) over all target patches; loss = mean of W (pred - target)^2;
- `--decoder mamp`: MAMP's decoder: the visible tokens embedded, mask tokens un-shuffled into the 750-token
  grid, decoder position embeddings, 5 self-attention blocks over 750 tokens, LayerNorm, a linear
  predictor to 12 values; motion targets normalised per patch; the mean squared error over masked tokens;
- AdamW (betas 0.9 / 0.95, weight decay 0.05 except on biases and 1-D parameters), lr 1e-3.

Timed: the whole step (batch making, upload, forward, backward, optimiser), as ours. Prints one line per
decoder in the format of `amr --no-gui bench` and, with `--json`, the figures.
"""

import argparse
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

T, V, L, DIM, HEADS, MLP, ENC_DEPTH, DEC_DEPTH, R = 120, 25, 4, 256, 8, 1024, 8, 5, 6
MASK_RATIO, TAU = 0.9, 0.8
TOKENS = T // L * V  # 750
VISIBLE = int(TOKENS * (1 - MASK_RATIO))  # 75
SLOTS = T // (R * L)  # 5 target slots of 24 frames
QUERIES = SLOTS * V  # 125
FOCAL_WINDOWS, FOCAL_K, FOCAL_EPS = (4, 8, 12), 0.01, 1e-8


def trunc_normal(*shape):
    p = torch.empty(*shape)
    nn.init.trunc_normal_(p, std=0.02, a=-2.0, b=2.0)
    return nn.Parameter(p)


def linear(i, o):
    layer = nn.Linear(i, o)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class Attention(nn.Module):
    """Multi-head attention with separate query, key and value projections (as burn's)."""

    def __init__(self, fused):
        super().__init__()
        self.q, self.k, self.v, self.o = (linear(DIM, DIM) for _ in range(4))
        self.fused = fused

    def forward(self, x, memory):
        b, n, _ = x.shape
        m = memory.shape[1]
        hd = DIM // HEADS
        q = self.q(x).view(b, n, HEADS, hd).transpose(1, 2)
        k = self.k(memory).view(b, m, HEADS, hd).transpose(1, 2)
        v = self.v(memory).view(b, m, HEADS, hd).transpose(1, 2)
        if self.fused:
            h = F.scaled_dot_product_attention(q, k, v)
        else:
            a = (q @ k.transpose(-2, -1)) * hd**-0.5
            h = a.softmax(dim=-1) @ v
        return self.o(h.transpose(1, 2).reshape(b, n, DIM))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = linear(DIM, MLP), linear(MLP, DIM)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-LN self-attention block."""

    def __init__(self, fused):
        super().__init__()
        self.n1, self.attn, self.n2, self.mlp = nn.LayerNorm(DIM), Attention(fused), nn.LayerNorm(DIM), Mlp()

    def forward(self, x):
        h = self.n1(x)
        x = x + self.attn(h, h)
        return x + self.mlp(self.n2(x))


class CrossBlock(nn.Module):
    """AMR's decoder layer: queries attend to the visible tokens, then the MLP, both residual."""

    def __init__(self, fused):
        super().__init__()
        self.nq, self.attn, self.n2, self.mlp = nn.LayerNorm(DIM), Attention(fused), nn.LayerNorm(DIM), Mlp()

    def forward(self, q, memory):
        q = q + self.attn(self.nq(q), memory)
        return q + self.mlp(self.n2(q))


def gather_tokens(x, idx):
    """x: [B, N, D], idx: [B, K] -> [B, K, D]."""
    return torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


class Encoder(nn.Module):
    def __init__(self, fused):
        super().__init__()
        self.proj = linear(L * 3, DIM)
        self.temp = trunc_normal(1, T // L, 1, DIM)
        self.pos = trunc_normal(1, 1, V, DIM)
        self.blocks = nn.ModuleList(Block(fused) for _ in range(ENC_DEPTH))
        self.norm = nn.LayerNorm(DIM)

    def forward(self, patches, keep):
        """patches: [B, T/l, V, l 3], keep: [B, Nv] -> [B, Nv, D]."""
        b = patches.shape[0]
        h = (self.proj(patches) + self.temp + self.pos).reshape(b, TOKENS, DIM)
        h = gather_tokens(h, keep)
        for blk in self.blocks:
            h = blk(h)
        return self.norm(h)


class AmrDecoder(nn.Module):
    def __init__(self, fused):
        super().__init__()
        self.embed = linear(DIM, DIM)
        self.queries = trunc_normal(1, QUERIES, DIM)
        self.query_temp = trunc_normal(1, SLOTS, 1, DIM)
        self.query_joint = trunc_normal(1, 1, V, DIM)
        self.key_temp = trunc_normal(1, T // L, 1, DIM)
        self.blocks = nn.ModuleList(CrossBlock(fused) for _ in range(DEC_DEPTH))
        self.norm = nn.LayerNorm(DIM)
        self.head = nn.ModuleList([linear(DIM, DIM), linear(DIM, DIM), linear(DIM, R * L * 3)])

    def forward(self, visible, keep):
        b = visible.shape[0]
        grid = (self.key_temp + self.query_joint).reshape(1, TOKENS, DIM).expand(b, -1, -1)
        memory = self.embed(visible) + gather_tokens(grid, keep)
        qt = self.query_temp + self.key_temp.reshape(1, SLOTS, R, 1, DIM).mean(2)
        q = (self.queries + (qt + self.query_joint).reshape(1, QUERIES, DIM)).expand(b, -1, -1)
        for blk in self.blocks:
            q = blk(q, memory)
        h = self.norm(q)
        for i, lin in enumerate(self.head):
            h = lin(h)
            if i < len(self.head) - 1:
                h = F.gelu(h)
        return h


class MampDecoder(nn.Module):
    def __init__(self, fused):
        super().__init__()
        self.embed = linear(DIM, DIM)
        self.mask_token = trunc_normal(1, 1, DIM)
        self.temp = trunc_normal(1, T // L, 1, DIM)
        self.pos = trunc_normal(1, 1, V, DIM)
        self.blocks = nn.ModuleList(Block(fused) for _ in range(DEC_DEPTH))
        self.norm = nn.LayerNorm(DIM)
        self.pred = linear(DIM, L * 3)

    def forward(self, visible, restore):
        b = visible.shape[0]
        h = torch.cat([self.embed(visible), self.mask_token.expand(b, TOKENS - VISIBLE, -1)], 1)
        h = gather_tokens(h, restore) + (self.temp + self.pos).reshape(1, TOKENS, DIM)
        for blk in self.blocks:
            h = blk(h)
        return self.pred(self.norm(h))


class Model(nn.Module):
    def __init__(self, decoder, fused):
        super().__init__()
        self.encoder = Encoder(fused)
        self.decoder = AmrDecoder(fused) if decoder == "amr" else MampDecoder(fused)


def patchify(x, span):
    """x: [B, T, V, 3] -> [B, T/span, V, span 3] (values ordered [frame][xyz])."""
    b = x.shape[0]
    return x.reshape(b, T // span, span, V, 3).transpose(2, 3).reshape(b, T // span, V, span * 3)


def motion_aware_mask(x):
    """MAMP's motion-aware masking: x [B, T, V, 3] -> keep [B, Nv], restore [B, L], masked [B, L]."""
    p = patchify(x, L)
    mo = torch.zeros_like(p)
    mo[:, 1:] = (p[:, 1:] - p[:, :-1]).abs()
    mo[:, 0] = mo[:, 1]
    m = mo.mean(-1).reshape(x.shape[0], TOKENS)
    m = m / (m.max(-1, keepdim=True).values * TAU + 1e-10)
    logp = m.log_softmax(-1)
    u = torch.rand_like(logp)
    noise = logp - torch.log(-torch.log(u + 1e-10) + 1e-10)
    shuffle = noise.argsort(-1)
    restore = shuffle.argsort(-1)
    masked = torch.ones_like(m)
    masked[:, :VISIBLE] = 0
    masked = torch.gather(masked, 1, restore)
    return shuffle[:, :VISIBLE], restore, masked


def focal_weights(x):
    """The focal weights (paper Eq. 3-4, windows 4/8/12 fused by their mean), in the AMR target layout.

    x: [B, T, V, 3] -> [B, 125, 72]."""
    b = x.shape[0]
    fused = torch.zeros(b, T, V, device=x.device)
    for n in FOCAL_WINDOWS:
        w = x.reshape(b, T // n, n, V, 3)
        es = ((w - w.mean(2, keepdim=True)) ** 2).sum(-1).mean(2)  # [B, T/n, V]
        et = es.mean(1, keepdim=True)
        weight = torch.where(es > 0, 1.0 / (1.0 + FOCAL_K * et / (es + FOCAL_EPS)), torch.zeros_like(es))
        fused += weight.repeat_interleave(n, 1)
    fused = (fused / len(FOCAL_WINDOWS)).unsqueeze(-1).expand(-1, -1, -1, 3)
    return patchify(fused.contiguous(), R * L).reshape(b, QUERIES, R * L * 3)


def nat_targets(x):
    """Per person, joint and axis, normalised over the clip; 24-frame patches: [B, 125, 72]."""
    mu = x.mean(1, keepdim=True)
    sd = x.std(1, keepdim=True, unbiased=False)
    return patchify((x - mu) / (sd + 1e-6), R * L).reshape(x.shape[0], QUERIES, R * L * 3)


def motion_targets(x):
    """MAMP's motion targets, normalised per patch: [B, 750, 12]."""
    mo = torch.zeros_like(x)
    mo[:, :-1] = x[:, 1:] - x[:, :-1]
    p = patchify(mo, L).reshape(x.shape[0], TOKENS, L * 3)
    return (p - p.mean(-1, keepdim=True)) / (p.var(-1, keepdim=True) + 1e-6).sqrt()


def rotation(angles):
    """Rz Ry Rx for one angle triple (x, y, z)."""
    cx, cy, cz = (math.cos(a) for a in angles)
    sx, sy, sz = (math.sin(a) for a in angles)
    rx = torch.tensor([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = torch.tensor([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = torch.tensor([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def make_batch(data, batch, gen):
    """Cuts `batch` training clips from `data` [N, F, M, V, 3]: crop, resample to T, rotate, centre.

    Returns [batch * M, T, V, 3] on the host."""
    n, frames, persons = data.shape[:3]
    idx = torch.randint(n, (batch,), generator=gen)
    clips = []
    for i in idx.tolist():
        p = 0.5 + 0.5 * torch.rand(1, generator=gen).item()
        length = min(max(int(frames * p), 64), frames)
        start = torch.randint(frames - length + 1, (1,), generator=gen).item()
        seq = data[i, start : start + length].reshape(1, length, -1).transpose(1, 2)  # [1, M V 3, len]
        seq = F.interpolate(seq, size=T, mode="linear", align_corners=False)
        seq = seq.transpose(1, 2).reshape(T, persons, V, 3)
        seq = seq - seq[:1, :, :1]  # each person on its first frame's root joint, before rotation
        angles = [(torch.rand(1, generator=gen).item() * 2 - 1) * 0.3 for _ in range(3)]
        seq = seq @ rotation(angles).T
        clips.append(seq.transpose(0, 1))  # [M, T, V, 3]
    return torch.stack(clips).reshape(batch * persons, T, V, 3)


def synthetic_data(n, frames, persons, gen):
    """Random walks with small steps (the speed does not depend on the motion)."""
    steps = torch.randn(n, frames, persons, V, 3, generator=gen) * 0.01
    return steps.cumsum(1) + torch.randn(n, 1, persons, V, 3, generator=gen) * 0.3


def optimiser(model):
    decay = [p for name, p in model.named_parameters() if p.ndim > 1 and not name.endswith(".bias")]
    other = [p for name, p in model.named_parameters() if not (p.ndim > 1 and not name.endswith(".bias"))]
    groups = [{"params": decay, "weight_decay": 0.05}, {"params": other, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.95))


def step(model, opt, x, decoder):
    keep, restore, masked = motion_aware_mask(x)
    visible = model.encoder(patchify(x, L), keep)
    if decoder == "amr":
        pred = model.decoder(visible, keep)
        with torch.no_grad():
            target, weight = nat_targets(x), focal_weights(x)
        loss = (weight * (pred - target) ** 2).mean()
    else:
        pred = model.decoder(visible, restore)
        with torch.no_grad():
            target = motion_targets(x)
        loss = (((pred - target) ** 2).mean(-1) * masked).sum() / masked.sum()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench(decoder, args, device, data):
    torch.manual_seed(0)
    model = Model(decoder, not args.manual_attention).to(device)
    opt = optimiser(model)
    gen = torch.Generator().manual_seed(7)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(args.warmup + args.steps):
        sync(device)
        t0 = time.perf_counter()
        x = make_batch(data, args.batch, gen).to(device)
        loss = step(model, opt, x, decoder)
        sync(device)
        if i >= args.warmup:
            times.append((time.perf_counter() - t0) * 1e3)
        if not math.isfinite(loss.item()):
            sys.exit(f"{decoder}: the loss is not finite at step {i}")
    times.sort()
    ms = times[len(times) // 2] if len(times) % 2 else 0.5 * (times[len(times) // 2 - 1] + times[len(times) // 2])
    if device.type == "cuda":
        peak, kind = torch.cuda.max_memory_allocated() / 2**20, "device memory allocated by torch"
    else:
        peak, kind = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "process peak resident memory, this process so far"
    return {"mode": decoder, "ms_per_step_median": ms, "ms_per_step_all": times,
            "sequences_per_second": args.batch / (ms / 1e3), "peak_memory_mib": peak, "memory_kind": kind}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    ap.add_argument("--batch", type=int, default=32, help="sequences per step (2 persons each)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--decoders", default="amr,mamp", help="comma-separated: amr, mamp")
    ap.add_argument("--manual-attention", action="store_true",
                    help="softmax(q k^T) v written out (as MAMP's code) instead of scaled_dot_product_attention")
    ap.add_argument("--json", help="write the figures here too")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    data = synthetic_data(max(args.batch, 32), 150, 2, torch.Generator().manual_seed(7))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    attention = "written-out attention" if args.manual_attention else "scaled_dot_product_attention"
    print(f"peer: PyTorch {torch.__version__} on {name}, {attention}, batch {args.batch} x 2 persons, "
          f"{args.warmup} warm-up + {args.steps} timed steps per mode")
    results = []
    for decoder in args.decoders.split(","):
        r = bench(decoder, args, device, data)
        results.append(r)
        label = "AMR (r = 6)" if decoder == "amr" else "MAMP"
        print(f"{label:<12} {r['ms_per_step_median']:>10.1f} ms/step (median)  {r['sequences_per_second']:>8.2f} seq/s  "
              f"peak {r['peak_memory_mib']:.0f} MiB ({r['memory_kind']})", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": name, "torch": torch.__version__, "attention": attention, "batch": args.batch,
                       "modes": results}, f, indent=2)


if __name__ == "__main__":
    main()
