"""PyTorch anchor for benchmarks/score: the forward + per-token cross-entropy of benchmarks/forward/llama_torch.py
on exactly the rows our scorer stored (read from a raw int32 file), in the same batches. Writes its losses next to
the input so the benchmark can compare them with ours.

  /usr/bin/python3 torch_score.py MODEL_DIR ROWS.i32 LENGTHS.u32 SEQ BATCH OUT_LOSSES.f32
Prints one JSON line.
"""
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "forward"))
from llama_torch import load  # noqa: E402


def main():
    model_dir, rows_path, lengths_path, seq, batch, out_path = sys.argv[1:7]
    seq, batch = int(seq), int(batch)
    torch.set_grad_enabled(False)
    torch.set_num_threads(int(os.environ.get("RHO1_THREADS") or os.cpu_count()))
    model = load(model_dir)
    ids = torch.from_numpy(np.fromfile(rows_path, dtype=np.int32).astype(np.int64)).view(-1, seq)
    lengths = torch.from_numpy(np.fromfile(lengths_path, dtype=np.uint32).astype(np.int64))
    n = ids.shape[0]
    model.token_losses(ids[:batch])  # warm-up
    out = torch.zeros(n, seq - 1)
    t0 = time.perf_counter()
    for s in range(0, n, batch):
        out[s : s + batch] = model.token_losses(ids[s : s + batch])
    elapsed = time.perf_counter() - t0
    # Right padding never influences earlier positions (causal attention): zero the invalid ones like ours.
    valid = torch.arange(seq - 1)[None, :] + 1 < lengths[:, None]
    out = out * valid
    out.numpy().astype(np.float32).tofile(out_path)
    tokens = int(lengths.sum())
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "seconds": elapsed,
                      "tokens": tokens, "tokens_per_s": tokens / elapsed}))


if __name__ == "__main__":
    main()
