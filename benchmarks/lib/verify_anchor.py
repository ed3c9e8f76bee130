"""Checks the PyTorch anchor (torch_llama.py) against the golden fixtures (transformers' own outputs), so that the
benchmarks' anchor is known to compute what transformers computes. Exits 1 on a mismatch; skips when shared/ is absent.

  /usr/bin/python3 benchmarks/lib/verify_anchor.py
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch_llama as tl  # noqa: E402

ROOT = os.path.join(HERE, "..", "..")
FIXTURES = os.path.join(ROOT, "..", "shared", "fixtures", "models")


def main():
    if not os.path.isdir(FIXTURES):
        print(f"skipped: no fixtures at {FIXTURES}")
        return 0
    torch.set_grad_enabled(False)
    failed = False
    for name in ["llama-gqa-f32", "llama-tied-bf16-sharded", "llama-f16", "mistral-gqa-f32"]:
        exp = {}
        tl.read_safetensors(os.path.join(FIXTURES, name + ".expected.safetensors"), exp)
        with open(os.path.join(FIXTURES, name, "config.json")) as f:
            model = tl.Llama(json.load(f), tl.read_folder(os.path.join(FIXTURES, name)))
        # The anchor has no padding mask: compare the positions the (right-padding) mask keeps.
        mask = exp["attention_mask"].float()[..., None]
        ref = exp["logits_f64"].float() if "logits_f64" in exp else exp["logits"]
        err = float(((model.logits(exp["input_ids"].long()) - ref).abs() * mask).max())
        prompt = exp["greedy_prompt"].long()[0].tolist()
        want = exp["greedy_output"].long()[0, len(prompt):].tolist()
        same = model.greedy(prompt, len(want)) == want
        failed |= err > 1e-4 or not same
        print(f"{name}: max |Δlogit| {err:.2e}, greedy identical: {same}")
    exp = {}
    tl.read_safetensors(os.path.join(FIXTURES, "stories260K.expected.safetensors"), exp)
    stories = os.path.join(ROOT, "models", "stories260K")
    with open(os.path.join(stories, "config.json")) as f:
        model = tl.Llama(json.load(f), tl.read_folder(stories))
    for key in sorted(k for k in exp if k.endswith("input_ids")):
        p = key[: -len("input_ids")]
        ids = exp[key].long()
        err = float((model.logits(ids) - exp[p + "logits"]).abs().max())
        want = exp[p + "greedy_output"].long()[0, ids.shape[1]:].tolist()
        same = model.greedy(ids[0].tolist(), len(want)) == want
        failed |= err > 1e-4 or not same
        print(f"stories260K {p[:-1]}: max |Δlogit| {err:.2e}, greedy identical ({len(want)} tokens): {same}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
