"""Training throughput: Ponder's model vs transformers' Qwen3ForCausalLM, same config, weights and batch.

One optimizer step = forward, next-token cross-entropy, backward, AdamW. Four sides alternate (so drift on a
noisy machine hits all alike): Ponder as `ponder pretrain --compile` trains (torch.compile of the model),
Ponder eager, transformers eager (its default) and transformers under torch.compile. `ratio` is Ponder
(compiled) over transformers (default eager); the other ratios say where the gain comes from: the model
math is the same, so eager-vs-eager is about 1.0 and compiled-vs-compiled too. Compilation time (one-off)
is reported apart. Prints one JSON line.

`eager_ceiling`: how much faster than transformers eager any eager implementation could be. A profile of
transformers' eager step splits its time between the kernels every implementation of this model runs the
same way — the matmuls (mm/addmm/bmm, at the machine's GEMM peak) and SDPA's CPU flash kernels, forward
and backward — and everything else (elementwise ops, norms, RoPE, loss, AdamW, autograd). An eager step
that made everything else free would be 1 / (kernel share) faster. The profiler's per-op overhead inflates
"everything else", so the ceiling is, if anything, generous.

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

    ours_c = Transformer(cfg)
    ours_c.load_state_dict(ours.state_dict())
    hf_c = transformers.Qwen3ForCausalLM(hf_cfg)
    hf_c.load_state_dict(hf.state_dict())
    hf_c.tie_weights()
    fns = {"ponder": step_fn(torch.compile(ours_c.train()), False), "ponder_eager": step_fn(ours.train(), False),
           "transformers": step_fn(hf.train(), True),
           "transformers_compiled": step_fn(torch.compile(hf_c.train()), True)}
    compile_s = {}
    for k, f in fns.items():
        t = time.perf_counter()
        f()  # warm-up (and compilation)
        f()
        compile_s[k] = round(time.perf_counter() - t, 1)
    times = {k: [] for k in fns}
    for _ in range(a.repeats):
        for k, f in fns.items():
            t = time.perf_counter()
            for _ in range(a.steps):
                f()
            times[k].append((time.perf_counter() - t) / a.steps)
    tps = {k: a.batch * a.seq / statistics.median(v) for k, v in times.items()}
    ceiling = eager_ceiling(fns["transformers"])
    print(json.dumps({
        "bench": "train", "device": "cpu", "threads": a.threads, "params": cfg.num_params(), "batch": a.batch,
        "seq": a.seq, **{f"{k}_tokens_per_s": round(v, 1) for k, v in tps.items()},
        "ratio": round(tps["ponder"] / tps["transformers"], 2),
        "ratio_eager_vs_eager": round(tps["ponder_eager"] / tps["transformers"], 2),
        "ratio_compiled_vs_compiled": round(tps["ponder"] / tps["transformers_compiled"], 2),
        "warmup_s": compile_s, "logit_max_diff": diff, "eager_ceiling": ceiling,
        "transformers_version": transformers.__version__,
    }))


SHARED_KERNELS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::_scaled_dot_product_flash_attention_for_cpu",
                  "aten::_scaled_dot_product_flash_attention_for_cpu_backward")


def eager_ceiling(step, steps: int = 3) -> dict:
    """Share of an eager step spent in matmuls and flash attention (self time), and 1 / that share."""
    from torch.profiler import profile

    with profile() as prof:
        for _ in range(steps):
            step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    shared = sum(e.self_cpu_time_total for e in events if e.key in SHARED_KERNELS)
    return {"kernel_share": round(shared / total, 3), "max_ratio": round(total / shared, 3)}


if __name__ == "__main__":
    main()
