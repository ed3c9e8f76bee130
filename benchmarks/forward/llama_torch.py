"""PyTorch anchor for the @rho1/transformer benchmarks: a plain Llama/Mistral forward in PyTorch (the maths of
transformers' LlamaForCausalLM, eager attention), reading the same Hugging Face folder. Debian's python3-torch has
no transformers/safetensors, so the checkpoint is parsed here with numpy.

  /usr/bin/python3 llama_torch.py score DIR BATCH SEQ REPS
  /usr/bin/python3 llama_torch.py generate DIR PROMPT_IDS_JSON NEW_TOKENS REPS
  /usr/bin/python3 llama_torch.py load DIR BATCH SEQ REPS
Prints one JSON line.
"""
import json
import math
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path, into):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        base = 8 + n
        for name, info in header.items():
            if name == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            f.seek(base + begin)
            raw = f.read(end - begin)
            dtype = info["dtype"]
            if dtype == "F32":
                arr = np.frombuffer(raw, dtype=np.float32)
            elif dtype == "F16":
                arr = np.frombuffer(raw, dtype=np.float16).astype(np.float32)
            elif dtype == "BF16":
                arr = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
            else:
                raise ValueError(f"{path}: {name} has dtype {dtype}")
            into[name] = torch.from_numpy(arr.copy()).reshape(info["shape"])
            del raw, arr


def load(dir):
    cfg = json.load(open(os.path.join(dir, "config.json")))
    weights = {}
    index = os.path.join(dir, "model.safetensors.index.json")
    if os.path.exists(index):
        for shard in sorted(set(json.load(open(index))["weight_map"].values())):
            read_safetensors(os.path.join(dir, shard), weights)
    else:
        read_safetensors(os.path.join(dir, "model.safetensors"), weights)
    return Llama(cfg, weights)


class Llama:
    def __init__(self, cfg, w):
        self.w = w
        self.h = cfg["hidden_size"]
        self.layers = cfg["num_hidden_layers"]
        self.nh = cfg["num_attention_heads"]
        self.nkv = cfg.get("num_key_value_heads") or self.nh
        self.d = cfg.get("head_dim") or self.h // self.nh
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        rp = cfg.get("rope_parameters") or {}
        theta = rp.get("rope_theta", cfg.get("rope_theta", 10000.0))
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.d, 2, dtype=torch.int64).float() / self.d))
        self.head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]

    def norm(self, x, weight):
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def rope(self, x, cos, sin):  # x [B, nh, T, D]
        x1, x2 = x[..., : self.d // 2], x[..., self.d // 2 :]
        return x * cos + torch.cat((-x2, x1), dim=-1) * sin

    def forward(self, ids, pos, cache=None):
        """ids [B, T]; pos [B, T]; cache: list of (k, v) per layer or None. Returns final hidden [B, T, H]."""
        b, t = ids.shape
        x = F.embedding(ids, self.w["model.embed_tokens.weight"])
        freqs = pos[:, :, None].float() * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]
        past = 0 if cache is None or cache[0] is None else cache[0][0].shape[2]
        tk = past + t
        causal = torch.ones(t, tk, dtype=torch.bool).tril(diagonal=past)
        bias = torch.zeros(t, tk).masked_fill(~causal, float("-inf"))
        g = self.nh // self.nkv
        for i in range(self.layers):
            p = f"model.layers.{i}."
            hn = self.norm(x, self.w[p + "input_layernorm.weight"])
            q = F.linear(hn, self.w[p + "self_attn.q_proj.weight"]).view(b, t, self.nh, self.d).transpose(1, 2)
            k = F.linear(hn, self.w[p + "self_attn.k_proj.weight"]).view(b, t, self.nkv, self.d).transpose(1, 2)
            v = F.linear(hn, self.w[p + "self_attn.v_proj.weight"]).view(b, t, self.nkv, self.d).transpose(1, 2)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            if cache is not None:
                if cache[i] is not None:
                    k = torch.cat((cache[i][0], k), dim=2)
                    v = torch.cat((cache[i][1], v), dim=2)
                cache[i] = (k, v)
            k = k.repeat_interleave(g, dim=1)
            v = v.repeat_interleave(g, dim=1)
            att = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(self.d) + bias, dim=-1)
            a = (att @ v).transpose(1, 2).reshape(b, t, self.nh * self.d)
            x = x + F.linear(a, self.w[p + "self_attn.o_proj.weight"])
            hn = self.norm(x, self.w[p + "post_attention_layernorm.weight"])
            gate = F.linear(hn, self.w[p + "mlp.gate_proj.weight"])
            up = F.linear(hn, self.w[p + "mlp.up_proj.weight"])
            x = x + F.linear(F.silu(gate) * up, self.w[p + "mlp.down_proj.weight"])
        return self.norm(x, self.w["model.norm.weight"])

    def token_losses(self, ids):
        b, t = ids.shape
        pos = torch.arange(t)[None].expand(b, t)
        hidden = self.forward(ids, pos)[:, :-1]
        logits = F.linear(hidden, self.head)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none").view(b, t - 1)

    def greedy(self, prompt, new_tokens):
        cache = [None] * self.layers
        ids = torch.tensor([prompt])
        pos = torch.arange(len(prompt))[None]
        out = []
        hidden = self.forward(ids, pos, cache)
        for step in range(new_tokens):
            nxt = int(F.linear(hidden[:, -1], self.head).argmax(-1))
            out.append(nxt)
            if step + 1 == new_tokens:
                break
            hidden = self.forward(torch.tensor([[nxt]]), torch.tensor([[len(prompt) + step]]), cache)
        return out


def random_ids(b, t, vocab, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1, vocab, (b, t), generator=g)


def main():
    mode, dir = sys.argv[1], sys.argv[2]
    a = json.loads(sys.argv[3]) if mode == "generate" else int(sys.argv[3])
    b_, reps = int(sys.argv[4]), int(sys.argv[5])
    torch.set_grad_enabled(False)
    torch.set_num_threads(int(os.environ.get("RHO1_THREADS") or os.cpu_count()))
    start = time.perf_counter()
    model = load(dir)
    load_s = time.perf_counter() - start
    vocab = model.head.shape[0]
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "load_s": load_s}
    if mode in ("score", "load"):
        ids = random_ids(a, b_, vocab)
        if mode == "load":
            model.token_losses(ids[:1, :16])  # a small warm-up: the timed run is long
        else:
            model.token_losses(ids)  # warm-up
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            losses = model.token_losses(ids)
            times.append(time.perf_counter() - t0)
        result["mean_loss"] = float(losses.mean())
        result["tokens_per_s"] = a * b_ / statistics.median(times)
    elif mode == "generate":
        prompt = a
        model.greedy(prompt, 4)  # warm-up
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            out = model.greedy(prompt, b_)
            times.append(time.perf_counter() - t0)
        result["ids"] = out
        result["tokens_per_s"] = b_ / statistics.median(times)
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps(result))


if __name__ == "__main__":
    main()
