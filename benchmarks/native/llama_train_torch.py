"""PyTorch anchor for benchmarks/native/run.ts: the benchmark Llama (the maths of transformers' LlamaForCausalLM,
eager attention, random init like HF) trained with AdamW and scored with per-token cross-entropy, float32 on CPU.

  /usr/bin/python3 llama_train_torch.py HIDDEN LAYERS HEADS KV_HEADS FFN VOCAB BATCH SEQ STEPS THREADS
Prints one JSON line: {"train_tps": ..., "score_tps": ..., "train_s": [...], "score_s": [...]}.
"""
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

hidden, layers, heads, kv_heads, ffn, vocab, batch, seq, steps, threads = map(int, sys.argv[1:11])
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


def forward(ids):
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
    return F.cross_entropy(logits[:, :-1].reshape(-1, vocab), ids[:, 1:].reshape(-1), reduction="none")


opt = torch.optim.AdamW(params.values(), lr=1e-4, weight_decay=0.1)
gen = torch.Generator().manual_seed(1)
train_s, score_s = [], []
for step in range(steps + 1):
    ids = torch.randint(0, vocab, (batch, seq), generator=gen)
    t0 = time.perf_counter()
    loss = forward(ids).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    t1 = time.perf_counter()
    with torch.no_grad():
        forward(ids).numpy()
    t2 = time.perf_counter()
    if step > 0:
        train_s.append(t1 - t0)
        score_s.append(t2 - t1)
tokens = batch * seq
print(json.dumps({"train_tps": tokens / statistics.median(train_s), "score_tps": tokens / statistics.median(score_s),
                  "train_s": train_s, "score_s": score_s, "loss": float(loss)}))
