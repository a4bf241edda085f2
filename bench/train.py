"""Training throughput: Ponder's model vs transformers' Qwen3ForCausalLM, same config, weights and batch.

One optimizer step = forward, next-token cross-entropy, backward, AdamW. The two sides alternate
(so drift on a noisy machine hits both alike); prints one JSON line with tokens/s and the ratio.

    python bench/train.py [--batch 32] [--seq 128] [--steps 5] [--repeats 3]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ponder.model import ModelConfig, Transformer  # noqa: E402
from ponder.train import TINY_MODEL  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5, help="optimizer steps per timing")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    import transformers

    cfg = ModelConfig(**{**TINY_MODEL.__dict__})
    ours = Transformer(cfg).init_weights(0)
    hf_cfg = transformers.Qwen3Config(**{k: v for k, v in cfg.to_hf().items() if k not in ("architectures",)})
    hf_cfg._attn_implementation = "sdpa"
    hf = transformers.Qwen3ForCausalLM(hf_cfg)
    hf.load_state_dict({("model." + k if not k.startswith("lm_head") else k): v
                        for k, v in ours.state_dict().items()}, strict=False)
    hf.tie_weights()
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, cfg.vocab_size, (a.batch, a.seq + 1), generator=g)
    with torch.no_grad():  # same weights, same function: check before timing
        diff = (ours(ids[:, :-1]) - hf(ids[:, :-1]).logits).abs().max().item()
    assert diff < 1e-3, diff

    def step_fn(model, is_hf):
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def step():
            out = model(ids[:, :-1])
            logits = out.logits if is_hf else out
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        return step

    fns = {"ponder": step_fn(ours.train(), False), "transformers": step_fn(hf.train(), True)}
    for f in fns.values():
        f()  # warm-up
    times = {k: [] for k in fns}
    for _ in range(a.repeats):
        for k, f in fns.items():
            t = time.perf_counter()
            for _ in range(a.steps):
                f()
            times[k].append((time.perf_counter() - t) / a.steps)
    tps = {k: a.batch * a.seq / statistics.median(v) for k, v in times.items()}
    print(json.dumps({
        "bench": "train", "device": "cpu", "threads": a.threads, "params": cfg.num_params(), "batch": a.batch,
        "seq": a.seq, "ponder_tokens_per_s": round(tps["ponder"], 1),
        "transformers_tokens_per_s": round(tps["transformers"], 1),
        "ratio": round(tps["ponder"] / tps["transformers"], 2), "logit_max_diff": diff,
        "transformers_version": transformers.__version__,
    }))


if __name__ == "__main__":
    main()
