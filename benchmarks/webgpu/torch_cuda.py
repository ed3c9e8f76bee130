"""PyTorch CUDA anchor for benchmarks/webgpu: the same Llama maths as ../lib/torch_llama.py (whose class holds the
weights), run on the GPU. float32 with TF32 off (what our WebGPU path computes), and bf16 autocast beside it for
reference. Attention is PyTorch's scaled_dot_product_attention (causal), what a PyTorch user runs.

  python3 torch_cuda.py SPEC_JSON

SPEC: {"config": HF_CONFIG_JSON, "seed": N, "cases": [{"name", "kind": "score"|"train", "batch", "seq", "reps"}]}
Prints one JSON line: {"device": name, "torch": version, "cases": {name: {"f32": tokens/s, "bf16": tokens/s}}}.
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from torch_llama import Llama  # noqa: E402

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
DEV = "cuda"


def hidden(m, ids):
    b, t = ids.shape
    x = F.embedding(ids, m.p("model.embed_tokens.weight"))
    freqs = torch.arange(t, device=DEV).float()[:, None] * m.inv_freq.to(DEV)[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
    for i in range(m.n_layers):
        p = f"model.layers.{i}."
        hn = m.norm(x, m.p(p + "input_layernorm.weight"))
        q = F.linear(hn, m.p(p + "self_attn.q_proj.weight")).view(b, t, m.nh, m.d).transpose(1, 2)
        k = F.linear(hn, m.p(p + "self_attn.k_proj.weight")).view(b, t, m.nkv, m.d).transpose(1, 2)
        v = F.linear(hn, m.p(p + "self_attn.v_proj.weight")).view(b, t, m.nkv, m.d).transpose(1, 2)
        q, k = m.rope(q, cos, sin), m.rope(k, cos, sin)
        g = m.nh // m.nkv
        k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + F.linear(a.transpose(1, 2).reshape(b, t, m.nh * m.d), m.p(p + "self_attn.o_proj.weight"))
        hn = m.norm(x, m.p(p + "post_attention_layernorm.weight"))
        gate, up = F.linear(hn, m.p(p + "mlp.gate_proj.weight")), F.linear(hn, m.p(p + "mlp.up_proj.weight"))
        x = x + F.linear(F.silu(gate) * up, m.p(p + "mlp.down_proj.weight"))
    return m.norm(x, m.p("model.norm.weight"))


SLM_RATIO = 0.6


def token_losses(m, ids):
    logits = m.head(hidden(m, ids))[:, :-1]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), ids[:, 1:].reshape(-1), reduction="none")


def timed(fn, reps):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    spec = json.loads(sys.argv[1])
    cfg = spec["config"]
    model = Llama(cfg, None, spec.get("seed", 0)).to(DEV)
    out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "cases": {}}
    gen = torch.Generator(device=DEV).manual_seed(1)
    for case in spec["cases"]:
        ids = torch.randint(1, cfg["vocab_size"], (case["batch"], case["seq"]), device=DEV, generator=gen)
        res = {}
        for mode in ("f32", "bf16"):
            ctx = torch.autocast("cuda", dtype=torch.bfloat16, enabled=mode == "bf16")
            if case["kind"] == "score":
                def run():
                    with torch.no_grad(), ctx:
                        token_losses(model, ids).sum().item()
            else:
                opt = torch.optim.AdamW(model.parameters(), lr=1e-5, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)

                # The SLM step of run.ts: the same reference losses, the top 60% by excess loss.
                n = case["batch"] * (case["seq"] - 1)
                ref = (torch.arange(n, device=DEV) * 7919 % 4000).float() / 1000
                k = max(1, int(SLM_RATIO * n))

                def run():
                    opt.zero_grad(set_to_none=True)
                    with ctx:
                        ce = token_losses(model, ids)
                    mask = torch.zeros_like(ce)
                    mask[(ce.detach() - ref).topk(k).indices] = 1
                    loss = (ce * mask).sum() / k
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    opt.step()
            try:
                res[mode] = ids.numel() / timed(run, case.get("reps", 3))
            except torch.cuda.OutOfMemoryError:
                res[mode] = None
            torch.cuda.empty_cache()
        out["cases"][case["name"]] = res
    print(json.dumps(out))


if __name__ == "__main__":
    main()
