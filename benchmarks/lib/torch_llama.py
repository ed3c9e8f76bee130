"""PyTorch anchor for the rho1 benchmarks: a plain-PyTorch Llama/Mistral (the maths of transformers'
LlamaForCausalLM with eager attention), float32 on CPU. Debian's python3-torch 1.13 has neither transformers nor
safetensors, so the checkpoint is parsed here (JSON header + torch.frombuffer; BF16/F16 widened by torch).

  /usr/bin/python3 torch_llama.py SPEC_JSON        (or the spec on stdin when no argument is given)

SPEC: {"model": HF_DIR} or {"config": HF_CONFIG_JSON, "seed": N} (random init like HF: normal std 0.02, norms 1),
plus any of
  "threads": N                                     torch threads (default: $RHO1_THREADS or all cores)
  "check":    {"ids": [[...]], "out": PATH}        writes float32 logits [B,T,V] of ids to PATH (raw little-endian)
  "score":    {"ids": [[...]] | "batch","seq", "reps"}    forward + per-token CE (no grad), tokens/s
  "score_rows": {"ids": PATH.i32, "lengths": PATH.u32, "seq", "batch", "out": PATH.f32}   one timed pass of
              forward + per-token CE over stored rows (raw int32 [N, seq], real tokens per row) in batches; writes
              the losses [N, seq-1] (float32, zero past each row's length), tokens/s over real tokens
  "generate": {"prompt": [...], "new_tokens", "reps"}      greedy decoding with a KV cache, tokens/s
  "train":    {"ids": [[...]] | "batch","seq", "reps", "lr", "slm_ratio"}   fwd + bwd + clip 1.0 + AdamW step,
              tokens/s; with slm_ratio, a Selective Language Modeling step (random reference losses, the top
              slm_ratio of the batch's tokens by excess loss via torch.topk) alternates with each plain one ("slm")
Prints one JSON line with the results, load seconds and peak RSS (VmHWM) after load and at the end.
"""
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32}


def vm_hwm_gb():
    """Peak resident set size of this process so far (VmHWM, kB), in GB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e9
    return float("nan")


def read_safetensors(path, into):
    """Reads every tensor of one file tensor by tensor, widening to float32 (peak: weights + one stored tensor)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        base = 8 + n
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] not in DTYPES:
                raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, expected one of {sorted(DTYPES)}")
            begin, end = info["data_offsets"]
            raw = bytearray(end - begin)
            f.seek(base + begin)
            f.readinto(raw)
            t = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]) if raw else torch.empty(0)
            # F16/BF16 widen into a fresh float32 tensor; F32 and integers share the buffer: copy them.
            wide = t.to(torch.float32) if info["dtype"] in ("F16", "BF16") else t.clone()
            into[name] = wide.reshape(info["shape"])
            del raw, t


def read_folder(folder):
    weights = {}
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        for shard in shards:
            read_safetensors(os.path.join(folder, shard), weights)
    else:
        read_safetensors(os.path.join(folder, "model.safetensors"), weights)
    return weights


class Llama(torch.nn.Module):
    def __init__(self, cfg, weights=None, seed=0):
        super().__init__()
        self.h = cfg["hidden_size"]
        self.n_layers = cfg["num_hidden_layers"]
        self.nh = cfg["num_attention_heads"]
        self.nkv = cfg.get("num_key_value_heads") or self.nh
        self.d = cfg.get("head_dim") or self.h // self.nh
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        rp = cfg.get("rope_parameters") or {}  # transformers 5.x dialect
        scaling = cfg.get("rope_scaling") or {}
        kind = rp.get("rope_type", scaling.get("rope_type", scaling.get("type", "default")))
        if kind != "default" or cfg.get("attention_bias") or cfg.get("mlp_bias"):
            raise ValueError(f"anchor supports plain Llama only: rope {kind}, attention_bias/mlp_bias false")
        # Mistral's sliding window is not applied: the benchmarks' sequences are shorter than any window.
        theta = rp.get("rope_theta", cfg.get("rope_theta", 10000.0))
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.d, 2, dtype=torch.int64).float() / self.d))
        self.tied = bool(cfg.get("tie_word_embeddings", False))
        v, h, f, d = cfg["vocab_size"], self.h, cfg["intermediate_size"], self.d
        shapes = {"model.embed_tokens.weight": (v, h), "model.norm.weight": (h,)}
        if not self.tied:
            shapes["lm_head.weight"] = (v, h)
        for i in range(self.n_layers):
            p = f"model.layers.{i}."
            shapes.update({
                p + "input_layernorm.weight": (h,), p + "post_attention_layernorm.weight": (h,),
                p + "self_attn.q_proj.weight": (self.nh * d, h), p + "self_attn.k_proj.weight": (self.nkv * d, h),
                p + "self_attn.v_proj.weight": (self.nkv * d, h), p + "self_attn.o_proj.weight": (h, self.nh * d),
                p + "mlp.gate_proj.weight": (f, h), p + "mlp.up_proj.weight": (f, h), p + "mlp.down_proj.weight": (h, f),
            })
        gen = torch.Generator().manual_seed(seed)
        self.w = torch.nn.ParameterDict()
        for name, shape in shapes.items():
            if weights is not None:
                t = weights.pop(name)
                if tuple(t.shape) != shape:
                    raise ValueError(f"tensor {name}: expected shape {list(shape)}, found {list(t.shape)}")
            elif name.endswith("norm.weight"):
                t = torch.ones(shape)
            else:
                t = torch.randn(shape, generator=gen) * 0.02
            self.w[name.replace(".", "/")] = torch.nn.Parameter(t)

    def p(self, name):
        return self.w[name.replace(".", "/")]

    def norm(self, x, weight):
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def rope(self, x, cos, sin):  # rotate_half, x [B, heads, T, D]
        x1, x2 = x[..., : self.d // 2], x[..., self.d // 2 :]
        return x * cos + torch.cat((-x2, x1), dim=-1) * sin

    def hidden(self, ids, start=0, cache=None):
        """ids [B, T] at positions start..start+T-1; cache: list of (k, v) per layer, extended in place."""
        b, t = ids.shape
        x = F.embedding(ids, self.p("model.embed_tokens.weight"))
        freqs = torch.arange(start, start + t).float()[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        tk = start + t
        bias = torch.zeros(t, tk).masked_fill(~torch.ones(t, tk, dtype=torch.bool).tril(diagonal=start), float("-inf"))
        g = self.nh // self.nkv
        for i in range(self.n_layers):
            p = f"model.layers.{i}."
            hn = self.norm(x, self.p(p + "input_layernorm.weight"))
            q = F.linear(hn, self.p(p + "self_attn.q_proj.weight")).view(b, t, self.nh, self.d).transpose(1, 2)
            k = F.linear(hn, self.p(p + "self_attn.k_proj.weight")).view(b, t, self.nkv, self.d).transpose(1, 2)
            v = F.linear(hn, self.p(p + "self_attn.v_proj.weight")).view(b, t, self.nkv, self.d).transpose(1, 2)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            if cache is not None:
                if cache[i] is not None:
                    k, v = torch.cat((cache[i][0], k), dim=2), torch.cat((cache[i][1], v), dim=2)
                cache[i] = (k, v)
            k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
            att = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(self.d) + bias, dim=-1)
            x = x + F.linear((att @ v).transpose(1, 2).reshape(b, t, self.nh * self.d), self.p(p + "self_attn.o_proj.weight"))
            hn = self.norm(x, self.p(p + "post_attention_layernorm.weight"))
            gate, up = F.linear(hn, self.p(p + "mlp.gate_proj.weight")), F.linear(hn, self.p(p + "mlp.up_proj.weight"))
            x = x + F.linear(F.silu(gate) * up, self.p(p + "mlp.down_proj.weight"))
        return self.norm(x, self.p("model.norm.weight"))

    def head(self, hidden):
        return F.linear(hidden, self.p("model.embed_tokens.weight" if self.tied else "lm_head.weight"))

    def logits(self, ids):
        return self.head(self.hidden(ids))

    def token_losses(self, ids):
        """ce[b, t] = CE(logits[b, t], ids[b, t + 1]), [B, T-1]."""
        logits = self.head(self.hidden(ids)[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none").view(
            ids.shape[0], -1
        )

    def greedy(self, prompt, new_tokens):
        cache = [None] * self.n_layers
        hidden = self.hidden(torch.tensor([prompt]), 0, cache)
        out = []
        for step in range(new_tokens):
            out.append(int(self.head(hidden[:, -1]).argmax(-1)))
            if step + 1 < new_tokens:
                hidden = self.hidden(torch.tensor([[out[-1]]]), len(prompt) + step, cache)
        return out


def ids_of(part, vocab, seed):
    if "ids" in part:
        return torch.tensor(part["ids"], dtype=torch.int64)
    return torch.randint(1, vocab, (part["batch"], part["seq"]), generator=torch.Generator().manual_seed(seed))


def timed(fn, reps, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main():
    spec = json.loads(sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read())
    torch.set_num_threads(int(spec.get("threads") or os.environ.get("RHO1_THREADS") or os.cpu_count()))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(),
           "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE")}
    t0 = time.perf_counter()
    if "model" in spec:
        with open(os.path.join(spec["model"], "config.json")) as f:
            cfg = json.load(f)
        model = Llama(cfg, read_folder(spec["model"]))
    else:
        cfg = spec["config"]
        model = Llama(cfg, seed=spec.get("seed", 0))
    out["load_s"] = time.perf_counter() - t0
    out["peak_rss_after_load_gb"] = vm_hwm_gb()
    vocab = cfg["vocab_size"]

    with torch.no_grad():
        if "check" in spec:
            logits = model.logits(torch.tensor(spec["check"]["ids"], dtype=torch.int64))
            logits.contiguous().numpy().astype("<f4").tofile(spec["check"]["out"])
        if "score" in spec:
            part = spec["score"]
            ids = ids_of(part, vocab, 1)
            result = {}

            def score():
                result["mean_loss"] = float(model.token_losses(ids).mean())

            # A long timed run (a 1B model) warms up on a short slice instead of a full pass.
            warm = part.get("warmup_full", True)
            if not warm:
                model.token_losses(ids[:1, :16])
            times = timed(score, part.get("reps", 3), 1 if warm else 0)
            out["score"] = {"tokens_per_s": ids.numel() / statistics.median(times), "times_s": times,
                            "mean_loss": result["mean_loss"]}
        if "generate" in spec:
            part = spec["generate"]
            model.greedy(part["prompt"], 4)
            result = {}

            def gen():
                result["ids"] = model.greedy(part["prompt"], part["new_tokens"])

            times = timed(gen, part.get("reps", 3), 0)
            out["generate"] = {"tokens_per_s": part["new_tokens"] / statistics.median(times), "times_s": times,
                               "ids": result["ids"]}

        if "score_rows" in spec:
            part = spec["score_rows"]
            seq, batch = part["seq"], part["batch"]
            with open(part["ids"], "rb") as f:
                ids = torch.frombuffer(bytearray(f.read()), dtype=torch.int32).to(torch.int64).view(-1, seq)
            with open(part["lengths"], "rb") as f:
                lengths = torch.frombuffer(bytearray(f.read()), dtype=torch.int32).to(torch.int64)  # u32 < 2^31
            n = ids.shape[0]
            model.token_losses(ids[:batch])  # warm-up
            losses = torch.zeros(n, seq - 1)
            t0 = time.perf_counter()
            for s in range(0, n, batch):
                losses[s : s + batch] = model.token_losses(ids[s : s + batch])
            elapsed = time.perf_counter() - t0
            # Right padding never influences earlier positions (causal attention): zero the invalid ones like ours.
            losses = losses * (torch.arange(seq - 1)[None, :] + 1 < lengths[:, None])
            losses.contiguous().numpy().astype("<f4").tofile(part["out"])
            tokens = int(lengths.sum())
            out["score_rows"] = {"seconds": elapsed, "tokens": tokens, "tokens_per_s": tokens / elapsed}

    if "train" in spec:
        part = spec["train"]
        ids = ids_of(part, vocab, 2)
        opt = torch.optim.AdamW(model.parameters(), lr=part.get("lr", 1e-4), betas=(0.9, 0.95), eps=1e-8,
                                weight_decay=0.1)
        ratio = part.get("slm_ratio")
        ref = None if ratio is None else torch.rand(ids.shape[0], ids.shape[1] - 1,
                                                    generator=torch.Generator().manual_seed(3)) * 10

        def step(selective):
            opt.zero_grad(set_to_none=True)
            ce = model.token_losses(ids)
            if selective:
                excess = (ce.detach() - ref).flatten()
                k = max(1, int(ratio * excess.numel()))
                sel = torch.zeros_like(excess)
                sel[torch.topk(excess, k).indices] = 1
                loss = (ce.flatten() * sel).sum() / k
            else:
                loss = ce.mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            return float(loss)

        # Plain and selective steps alternate, so machine noise hits both alike; the first round is warm-up.
        modes = ["train"] + ([] if ratio is None else ["slm"])
        times, losses = {m: [] for m in modes}, {}
        for rep in range(part.get("reps", 3) + 1):
            for m in modes:
                t0 = time.perf_counter()
                losses[m] = step(m == "slm")
                if rep > 0:
                    times[m].append(time.perf_counter() - t0)
        out["train"] = {"tokens_per_s": ids.numel() / statistics.median(times["train"]), "times_s": times["train"],
                        "loss": losses["train"]}
        if ratio is not None:
            out["train"]["slm"] = {"tokens_per_s": ids.numel() / statistics.median(times["slm"]),
                                   "times_s": times["slm"], "loss": losses["slm"]}
    out["peak_rss_gb"] = vm_hwm_gb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
