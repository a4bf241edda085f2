"""Training throughput: Ponder's model vs transformers' Qwen3ForCausalLM, same config, weights and batch.

One optimizer step = forward, next-token cross-entropy, backward, AdamW. Every side trains the same batch from the
same weights. Equal footing means the same precision and neither side compiled; transformers runs with both of its
CPU attention implementations (`sdpa`, its default, and `eager`), and each ratio is taken against the faster of the
two *in the same round*:

- `ratio`: bf16 mixed precision (autocast, as `ponder pretrain --bf16` and `ponder sft --bf16` train).
- `ratio_fp32`: the same in fp32 (Ponder's default on CPU).
- `ratio_compiled_fp32`, `ratio_compiled_bf16`: both under torch.compile (`ponder pretrain --compile [--bf16]`);
  skipped with --no-compile. Compilation time is reported apart (`warmup_s`).
- `ratio_streams_bf16`, `ratio_streams_fp32`, `ratio_streams_compiled_*` (with --threads >= 2): Ponder's step as
  `--streams N` trains it (each batch as N shards at once, one thread each: ponder.train.backward_streams) against
  the same transformers sides. The same model in another use of the cores: the ratios without `streams` compare
  the two models under one and the same step.
- `fastest`: each library's fastest side, whatever its precision or compilation, and their ratio.

Timing on a shared machine drifts by 10% and more within a minute, so each comparison (precision, compiled or not) runs
alone, with only its models resident, in rounds: a round times `--steps` steps of every side, in an order rotated
from round to round, and a ratio is the median over rounds of the ratio measured within a round (`*_iqr`: its
quartiles). `tokens_per_s` is each side's median over rounds.

Where Ponder's eager step gains (ponder/model.py): attention on CPU in bf16 runs as two batched matmuls with query
heads grouped by their key/value head (PyTorch's CPU flash kernel is 2-4x slower in bf16); norms cast their output
once under autocast instead of once per projection; RMSNorm's backward runs LayerNorm's fused kernel. `loss` is each
side's loss after the last step: the sides train the same batch, so they agree to within the precision's rounding.

    python bench/train.py [--batch 32] [--seq 128] [--steps 3] [--rounds 12] [--no-compile] [--precision fp32]
"""

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ponder.cli import _positive_int as positive  # noqa: E402  (argparse's type for a count >= 1)
from ponder.model import ModelConfig, Transformer  # noqa: E402
from ponder.train import TINY_MODEL, backward_streams, token_loss  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=positive, default=32)
    ap.add_argument("--seq", type=positive, default=128)
    ap.add_argument("--steps", type=positive, default=3, help="optimizer steps per side per round")
    ap.add_argument("--rounds", type=positive, default=12)
    ap.add_argument("--threads", type=positive, default=2)
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile sides")
    ap.add_argument("--precision", choices=("both", "fp32", "bf16"), default="both",
                    help="the comparisons to run (fp32: skips bf16, which a CPU without bf16 units emulates ~13x "
                         "slower; its keys are then absent)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    try:
        import transformers
    except ImportError as e:  # an optional opponent (`pip install -e '.[bench]'`): one line, not a traceback
        raise SystemExit(f"{Path(__file__).name}: the side compared against cannot be imported ({e}); "
                         "install it with: pip install -e '.[bench]'") from None

    cfg = ModelConfig(**{**TINY_MODEL.__dict__})
    ours = Transformer(cfg).init_weights(0)
    hf_cfg = transformers.Qwen3Config(**{k: v for k, v in cfg.to_hf().items() if k not in ("architectures",)})

    def hf_model(attn: str):
        c = copy.deepcopy(hf_cfg)
        c._attn_implementation = attn
        m = transformers.Qwen3ForCausalLM(c)
        m.load_state_dict({("model." + k if not k.startswith("lm_head") else k): v
                           for k, v in ours.state_dict().items()}, strict=False)
        m.tie_weights()
        return m

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, cfg.vocab_size, (a.batch, a.seq + 1), generator=g)
    x = ids[:, :-1]
    with torch.no_grad():  # same weights, same function: check before timing
        ref = ours(x)
        diff = (ref - hf_model("sdpa")(x).logits).abs().max().item()
        assert diff < 1e-3, diff
        with torch.autocast("cpu", torch.bfloat16):  # bf16 rounding vs fp32, each side
            bf16_diff = {"ponder": (ours(x).float() - ref).abs().max().item(),
                         **{f"transformers_{k}": (hf_model(k)(x).logits.float() - ref).abs().max().item()
                            for k in ("sdpa", "eager")}}

    def step_fn(model, is_hf, bf16, streams=0):
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        if streams:  # the step `--streams N` trains (ponder.train.optimizer_step, less its lr and clipping)
            params, rows, mask = list(model.parameters()), torch.arange(a.batch), torch.ones_like(ids)

            def step():
                s = backward_streams(lambda b: token_loss(model, ids[b], mask[b], None, bf16)[0], rows, x.numel(),
                                     streams, params)
                opt.step()
                opt.zero_grad(set_to_none=True)
                return s / x.numel()
            return step

        def step():
            with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
                out = model(x)
            logits = out.logits if is_hf else out
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss.item()
        return step

    def ponder_model():
        m = Transformer(cfg)
        m.load_state_dict(ours.state_dict())
        return m.train()

    def phase(bf16: bool, compiled: bool, attns) -> dict:
        """One comparison's sides: name -> a function that builds the side's step (its model built only then)."""
        wrap = torch.compile if compiled else (lambda m: m)
        tag = ("compiled_" if compiled else "") + ("bf16" if bf16 else "fp32")
        streams = {f"ponder_streams_{tag}": lambda: step_fn(wrap(ponder_model()), False, bf16, a.threads)}
        return {f"ponder_{tag}": lambda: step_fn(wrap(ponder_model()), False, bf16), **(streams if a.threads > 1 else {}),
                **{f"transformers_{attn}_{tag}": (lambda attn=attn: step_fn(wrap(hf_model(attn).train()), True, bf16))
                   for attn in attns}}

    # One phase per comparison: only the models compared are resident (one model trains in a real run), and the
    # rounds alternate among them. Compiled fp32 runs transformers' sdpa only, its faster attention in fp32.
    bf16s = {"both": (True, False), "fp32": (False,), "bf16": (True,)}[a.precision]
    phases = [phase(b, False, ("sdpa", "eager")) for b in bf16s]
    if not a.no_compile:
        phases += [phase(b, True, ("sdpa",) if not b else ("sdpa", "eager")) for b in sorted(bf16s)]
    warmup_s, loss, times = {}, {}, {}  # times: seconds per step, one entry per round
    for sides in phases:
        fns = {k: make() for k, make in sides.items()}
        for k, f in fns.items():
            t = time.perf_counter()
            f()  # warm-up (and compilation)
            f()
            warmup_s[k] = round(time.perf_counter() - t, 1)
            times[k] = []
        order = list(fns)
        for r in range(a.rounds):
            for k in order[r % len(order):] + order[: r % len(order)]:
                t = time.perf_counter()
                for _ in range(a.steps):
                    loss[k] = fns[k]()
                times[k].append((time.perf_counter() - t) / a.steps)
        del fns
    tps = {k: a.batch * a.seq / statistics.median(v) for k, v in times.items()}

    def vs_best(ours_key, *theirs):
        """Median and quartiles over rounds of (the faster of `theirs` in the round) / ours: a speedup."""
        r = sorted(min(times[k][i] for k in theirs) / times[ours_key][i] for i in range(a.rounds))
        q = statistics.quantiles(r, n=4) if len(r) > 1 else [r[0]] * 3
        return round(q[1], 2), [round(q[0], 2), round(q[2], 2)]

    ratios = {}
    if "ponder_bf16" in times:
        ratios["ratio"], ratios["ratio_iqr"] = vs_best("ponder_bf16", "transformers_sdpa_bf16",
                                                       "transformers_eager_bf16")
        ratios["ratio_vs_transformers_default_bf16"], ratios["ratio_vs_transformers_default_bf16_iqr"] = vs_best(
            "ponder_bf16", "transformers_sdpa_bf16")
    if "ponder_fp32" in times:
        ratios["ratio_fp32"], ratios["ratio_fp32_iqr"] = vs_best("ponder_fp32", "transformers_sdpa_fp32",
                                                                 "transformers_eager_fp32")
    if "ponder_bf16" in times and "ponder_fp32" in times:  # different phases: medians
        ratios["bf16_speedup_ponder"] = round(tps["ponder_bf16"] / tps["ponder_fp32"], 2)
    streams = {}
    if a.threads > 1:  # Ponder's step on `threads` streams (--streams) vs transformers' step, as above
        for tag, hf in (("bf16", ("sdpa", "eager")), ("fp32", ("sdpa", "eager")), ("compiled_fp32", ("sdpa",)),
                        ("compiled_bf16", ("sdpa", "eager"))):
            if f"ponder_streams_{tag}" in times:
                r, iqr = vs_best(f"ponder_streams_{tag}", *(f"transformers_{k}_{tag}" for k in hf))
                streams.update({f"ratio_streams_{tag}": r, f"ratio_streams_{tag}_iqr": iqr})
    out = {
        "bench": "train", "device": "cpu", "threads": a.threads, "params": cfg.num_params(), "batch": a.batch,
        "seq": a.seq, "rounds": a.rounds, "steps_per_round": a.steps,
        "tokens_per_s": {k: round(v, 1) for k, v in tps.items()},
        **ratios, **streams,
    }
    if "ponder_compiled_fp32" in times:
        out["ratio_compiled_fp32"], out["ratio_compiled_fp32_iqr"] = vs_best("ponder_compiled_fp32",
                                                                             "transformers_sdpa_compiled_fp32")
    if "ponder_compiled_bf16" in times:
        out["ratio_compiled_bf16"], out["ratio_compiled_bf16_iqr"] = vs_best(
            "ponder_compiled_bf16", "transformers_sdpa_compiled_bf16", "transformers_eager_compiled_bf16")
    # Each library's fastest configuration on this machine, whatever its precision or compilation (medians, from
    # different phases).
    best = {lib: max((k for k in tps if k.startswith(lib)), key=tps.get) for lib in ("ponder", "transformers")}
    out["fastest"] = {**best, "ratio": round(tps[best["ponder"]] / tps[best["transformers"]], 2)}
    out.update({"loss": {k: round(v, 4) for k, v in loss.items()}, "warmup_s": warmup_s,
                "logit_max_diff_fp32": diff, "bf16_logit_max_diff_vs_fp32": bf16_diff,
                "torch_version": torch.__version__, "transformers_version": transformers.__version__})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
