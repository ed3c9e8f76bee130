"""PyTorch anchor for benchmarks/train/run.ts: one full training step (forward, backward, clip 1.0, AdamW) of the
benchmark Llama (transformers' LlamaForCausalLM maths, eager attention, random init), float32 on CPU, with the
plain causal-LM loss and with the Selective Language Modeling loss (precomputed reference losses, top 60% of the
batch by excess loss via torch.topk).

  /usr/bin/python3 slm_torch.py HIDDEN LAYERS HEADS KV_HEADS FFN VOCAB BATCH SEQ STEPS THREADS RATIO
Prints one JSON line: {"clm_tps": ..., "slm_tps": ..., "clm_s": [...], "slm_s": [...]}.
"""
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

hidden, layers, heads, kv_heads, ffn, vocab, batch, seq, steps, threads = map(int, sys.argv[1:11])
ratio = float(sys.argv[11])
torch.set_num_threads(threads)
torch.manual_seed(0)
head_dim = hidden // heads
group = heads // kv_heads
eps = 1e-5


def normal(*shape):
    return (torch.randn(*shape) * 0.02).requires_grad_()


params = {"embed": normal(vocab, hidden), "norm": torch.ones(hidden, requires_grad=True), "head": normal(vocab, hidden)}
for i in range(layers):
    params.update({
        f"{i}.q": normal(heads * head_dim, hidden), f"{i}.k": normal(kv_heads * head_dim, hidden),
        f"{i}.v": normal(kv_heads * head_dim, hidden), f"{i}.o": normal(hidden, heads * head_dim),
        f"{i}.gate": normal(ffn, hidden), f"{i}.up": normal(ffn, hidden), f"{i}.down": normal(hidden, ffn),
        f"{i}.in_norm": torch.ones(hidden, requires_grad=True), f"{i}.post_norm": torch.ones(hidden, requires_grad=True),
    })

inv_freq = 1.0 / (10000.0 ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
freqs = torch.outer(torch.arange(seq, dtype=torch.float32), inv_freq)
emb = torch.cat([freqs, freqs], dim=-1)
cos, sin = emb.cos()[None, None], emb.sin()[None, None]
causal = torch.full((seq, seq), float("-inf")).triu(1)


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rot(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def token_losses(ids):
    p = params
    b, t = ids.shape
    x = F.embedding(ids, p["embed"])
    for i in range(layers):
        h = rms(x, p[f"{i}.in_norm"])
        q = F.linear(h, p[f"{i}.q"]).view(b, t, heads, head_dim).transpose(1, 2)
        k = F.linear(h, p[f"{i}.k"]).view(b, t, kv_heads, head_dim).transpose(1, 2)
        v = F.linear(h, p[f"{i}.v"]).view(b, t, kv_heads, head_dim).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        s = q @ k.transpose(2, 3) / math.sqrt(head_dim) + causal
        a = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(b, t, hidden)
        x = x + F.linear(a, p[f"{i}.o"])
        h = rms(x, p[f"{i}.post_norm"])
        x = x + F.linear(F.silu(F.linear(h, p[f"{i}.gate"])) * F.linear(h, p[f"{i}.up"]), p[f"{i}.down"])
    logits = F.linear(rms(x, p["norm"]), p["head"])
    return F.cross_entropy(logits[:, :-1].reshape(-1, vocab), ids[:, 1:].reshape(-1), reduction="none").view(b, t - 1)


opt = torch.optim.AdamW(params.values(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
gen = torch.Generator().manual_seed(1)
times = {"clm": [], "slm": []}
for step in range(steps + 1):
    for mode in ("clm", "slm"):
        ids = torch.randint(0, vocab, (batch, seq), generator=gen)
        ref = torch.rand(batch, seq - 1, generator=gen) * 10
        t0 = time.perf_counter()
        ce = token_losses(ids)
        if mode == "clm":
            loss = ce.mean()
        else:
            excess = (ce.detach() - ref).flatten()
            k = max(1, int(ratio * excess.numel()))
            sel = torch.zeros_like(excess)
            sel[torch.topk(excess, k).indices] = 1
            loss = (ce.flatten() * sel).sum() / k
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params.values(), 1.0)
        opt.step()
        if step > 0:
            times[mode].append(time.perf_counter() - t0)
tokens = batch * seq
print(json.dumps({"clm_tps": tokens / statistics.median(times["clm"]), "slm_tps": tokens / statistics.median(times["slm"]),
                  "clm_s": times["clm"], "slm_s": times["slm"]}))
