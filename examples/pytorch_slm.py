"""The SLM loss of one batch in plain PyTorch, from the parquet that `rho1 score export` writes: any trainer can use
rho1's reference losses. Debian 12: apt-get install python3-torch python3-zstandard (or have pyarrow).

  /usr/bin/python3 examples/pytorch_slm.py SCORES.parquet MODEL_DIR [--batch 8] [--ratio 0.6]

ref_loss[t] is the reference loss of predicting input_ids[t+1]; the training model's loss is aligned the same way.
Output (examples/pytorch_slm.out.json) for the README's commands: MODEL_DIR = models/stories260K (the base), the store
scored by a reference trained 20 steps on data/corpus/owm-sample.parquet.
"""
import argparse, json, os, sys

import torch
import torch.nn.functional as F

sys.path[:0] = [os.path.join(os.path.dirname(__file__), "lib"), os.path.join(os.path.dirname(__file__), "../benchmarks/lib")]
from parquet_lists import read_columns  # noqa: E402
from torch_llama import Llama, read_folder  # noqa: E402  (transformers' LlamaForCausalLM gives the same losses)

args = argparse.ArgumentParser()
args.add_argument("scores"), args.add_argument("model")
args.add_argument("--batch", type=int, default=8), args.add_argument("--ratio", type=float, default=0.6)
a = args.parse_args()
cols = read_columns(a.scores, ["input_ids", "ref_loss", "valid"], rows=a.batch)
ids, ref = torch.tensor(cols["input_ids"]), torch.tensor(cols["ref_loss"])
valid = torch.tensor(cols["valid"])
with open(os.path.join(a.model, "config.json")) as f:
    model = Llama(json.load(f), read_folder(a.model))
with torch.no_grad():
    logits = model.logits(ids)[:, :-1]  # logits[b, t] predict ids[b, t+1], as ref_loss[b, t]
ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none").view_as(ref)
excess = (ce - ref).masked_fill(~valid, float("-inf"))  # invalid positions never selected
k = max(1, int(a.ratio * int(valid.sum())))  # the paper's top-k% of the batch's valid tokens
selected = torch.zeros(excess.numel(), dtype=torch.bool)
selected[excess.view(-1).topk(k).indices] = True
loss = (ce.view(-1) * selected).sum() / k
print(json.dumps({"rows": a.batch, "ratio": a.ratio, "valid": int(valid.sum()), "selected": k,
                  "slm_loss": loss.item(), "mean_ce": (ce * valid).sum().item() / int(valid.sum()),
                  "mean_excess_selected": (ce - ref).view(-1)[selected].mean().item()}))
