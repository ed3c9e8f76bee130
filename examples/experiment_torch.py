"""The experiment's recipe in plain PyTorch: the same base model, the same batches in the same order with the same
reference losses, the same schedule, optimizer, clipping and selection ratio, and the held-out loss at the same
checkpoints. `bun run experiment` writes the recipe (RECIPE_DIR) and runs this with Debian's python3-torch:

  /usr/bin/python3 examples/experiment_torch.py RECIPE_DIR OUT.json

RECIPE_DIR/recipe.json names the base model folder and the hyper-parameters; beside it, scores.parquet is the score
store as `rho1 score export` writes it (input_ids, ref_loss, valid: exactly what `rho1 train` feeds its loss, one row
per packed sequence), train_rows.i32 [steps, batch] the store rows `rho1 train` draws at each step, and the raw
little-endian held-out arrays heldout_ids.i32 [rows, seq], heldout_valid.f32 [rows, seq-1].
The model is benchmarks/lib/torch_llama.py (transformers' Llama maths, float32); the optimizer torch.optim.AdamW on
every parameter, torch.nn.utils.clip_grad_norm_, the selection max(1, int(ratio * n_valid)) tokens of the batch with
the largest excess loss (ties to the lower index, as @rho1/selective-loss), loss = their CE summed / that count.
"""
import json
import math
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "lib"), os.path.join(HERE, "../benchmarks/lib")]
from parquet_lists import read_columns  # noqa: E402
from torch_llama import Llama, read_folder  # noqa: E402


def read(path, dtype, shape):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    return torch.frombuffer(data, dtype=dtype).view(*shape).clone()


def cosine(step, lr, min_lr, warmup, total):
    """@rho1/train cosineSchedule: step 0 trains at lr/warmup; cosine to min_lr at the last step."""
    if step < warmup:
        return lr * (step + 1) / warmup
    decay = total - warmup - 1
    if decay <= 0:
        return lr
    progress = min(1.0, (step - warmup) / decay)
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * progress))


def held_out_loss(model, ids, valid, batch=16):
    total, n = 0.0, 0
    with torch.no_grad():
        for s in range(0, ids.shape[0], batch):
            ce = model.token_losses(ids[s : s + batch])
            v = valid[s : s + batch] != 0
            total += float(ce[v].double().sum())
            n += int(v.sum())
    return total / n


def run(recipe, data, ratio):
    r = recipe
    with open(os.path.join(r["model"], "config.json")) as f:
        model = Llama(json.load(f), read_folder(r["model"]))
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=r["lr"], betas=(r["beta1"], r["beta2"]), eps=r["eps"], weight_decay=r["weight_decay"])
    checkpoints = set(r["checkpoints"])
    curve = [{"step": 0, "tokens": 0, "held_out": held_out_loss(model, data["held_ids"], data["held_valid"])}]
    losses, tokens, selected_tokens = [], 0, 0
    for step in range(r["steps"]):
        for group in opt.param_groups:
            group["lr"] = cosine(step, r["lr"], r["min_lr"], r["warmup"], r["steps"])
        ids, valid, ref = data["ids"][step], data["valid"][step] != 0, data["ref"][step]
        ce = model.token_losses(ids).view(-1)
        candidates = valid.view(-1).nonzero().squeeze(1)
        n_valid = candidates.numel()
        k = max(1, int(ratio * n_valid))
        if k < n_valid:
            excess = ce.detach()[candidates] - ref.view(-1)[candidates]
            order = torch.sort(-excess, stable=True).indices  # largest first, ties to the lower index
            chosen = candidates[order[:k]]
        else:
            chosen = candidates
        loss = ce[chosen].sum() / k
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, r["clip"])
        opt.step()
        losses.append(float(loss))
        tokens += n_valid
        selected_tokens += k
        if step + 1 in checkpoints:
            curve.append({"step": step + 1, "tokens": tokens, "selected_tokens": selected_tokens,
                          "held_out": held_out_loss(model, data["held_ids"], data["held_valid"])})
    return {"ratio": ratio, "checkpoints": curve, "first_step_loss": losses[0], "last_step_loss": losses[-1]}


def main():
    recipe_dir, out = sys.argv[1], sys.argv[2]
    with open(os.path.join(recipe_dir, "recipe.json")) as f:
        recipe = json.load(f)
    steps, batch, seq, rows = recipe["steps"], recipe["batch_size"], recipe["seq_len"], recipe["heldout_rows"]
    path = lambda name: os.path.join(recipe_dir, name)  # noqa: E731
    store = read_columns(path("scores.parquet"), ["input_ids", "ref_loss", "valid"])
    drawn = read(path("train_rows.i32"), torch.int32, (steps, batch)).long()
    data = {
        "ids": torch.tensor(store["input_ids"], dtype=torch.long)[drawn],
        "valid": torch.tensor(store["valid"], dtype=torch.float32)[drawn],
        "ref": torch.tensor(store["ref_loss"], dtype=torch.float32)[drawn],
        "held_ids": read(path("heldout_ids.i32"), torch.int32, (rows, seq)).long(),
        "held_valid": read(path("heldout_valid.f32"), torch.float32, (rows, seq - 1)),
    }
    torch.manual_seed(0)
    torch.set_num_threads(int(os.environ.get("RHO1_THREADS", "0")) or torch.get_num_threads())
    started = time.time()
    runs = {str(ratio): run(recipe, data, ratio) for ratio in recipe["ratios"]}
    result = {
        "framework": f"PyTorch {torch.__version__} (Debian python3-torch), float32, CPU, {torch.get_num_threads()} threads",
        "recipe": {k: v for k, v in recipe.items() if k != "model"},
        "seconds": round(time.time() - started, 1),
        "runs": runs,
    }
    tmp = f"{out}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
