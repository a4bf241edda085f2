"""SFT's loss at a real vocabulary: `response_loss` (vocabulary projection on the response rows only, in
blocks, gradients in the same pass) vs `token_loss` (full logits for every position, then masked
cross-entropy), one forward + backward each, side by side. Peak memory is each side's own fresh process's
max RSS; time is the median of `--repeats`. Prints one JSON object.

    python bench/sft_loss.py [--vocab 151936] [--hidden 256] [--batch 4] [--seq 512] [--response-share 0.5]
"""

import argparse
import json
import multiprocessing as mp
import queue
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ponder.cli import _positive_int as positive  # noqa: E402  (argparse's type for a count >= 1)
from ponder.model import ModelConfig, Transformer  # noqa: E402
from ponder.train import response_loss, token_loss  # noqa: E402


def inputs(a):
    """The batch both sides train on: ids (batch, seq + 1) and the loss mask, of the targets ids[:, 1:]."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq + 1), generator=g)
    mask = torch.zeros_like(ids)
    mask[:, int(a.seq * (1 - a.response_share)) :] = 1  # prompt, then response: loss on the response only
    return ids, mask


def response_tokens(a) -> int:
    """The targets the loss covers: the mask's ones past the first id (batch * (seq + 1 - start); one more per
    row than seq - start, which the label said)."""
    start = max(1, int(a.seq * (1 - a.response_share)))
    return a.batch * (a.seq + 1 - start)


def side(name: str, a, out):
    torch.set_num_threads(a.threads)
    cfg = ModelConfig(vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=3 * a.hidden,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
    model = Transformer(cfg).init_weights(0)
    ids, mask = inputs(a)
    fn = {"response_loss": response_loss, "token_loss": token_loss}[name]
    times, grads = [], None
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(a.repeats):
        model.zero_grad(set_to_none=True)
        t = time.perf_counter()
        s, n = fn(model, ids, mask, None)
        s.backward()
        times.append(time.perf_counter() - t)
    grads = torch.cat([p.grad.flatten() for p in model.parameters()])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.put({"loss": s.item() / n, "grad_norm": grads.norm().item(), "s_per_step": statistics.median(times),
             "peak_rss_mb": round(peak / 1024), "rss_growth_mb": round((peak - base) / 1024)})


def result(name: str, p, q) -> dict:
    """The side's result; a side that died (an exception, or killed: out of memory at a large vocabulary) put
    none, and a bare q.get() waited for it forever."""
    while True:
        try:
            return q.get(timeout=5)
        except queue.Empty:
            if not p.is_alive():
                try:
                    return q.get(timeout=5)  # put just before it exited
                except queue.Empty:
                    raise SystemExit(f"sft_loss.py: the {name} side's process ended with exit code {p.exitcode} "
                                     "and no result (-9: killed, e.g. out of memory; else its error is above)") from None



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vocab", type=positive, default=151936, help="Qwen3's vocabulary size by default")
    ap.add_argument("--hidden", type=positive, default=256)
    ap.add_argument("--batch", type=positive, default=4)
    ap.add_argument("--seq", type=positive, default=512)
    ap.add_argument("--response-share", type=float, default=0.5)
    ap.add_argument("--repeats", type=positive, default=3)
    ap.add_argument("--threads", type=positive, default=2)
    a = ap.parse_args()
    if not 0 < a.response_share <= 1:  # (a negative share masked a different share than the JSON reported)
        ap.error(f"--response-share {a.response_share}: the response's share of the sequence, in (0, 1]")
    ctx = mp.get_context("spawn")  # a fresh process per side: max RSS is each side's own
    res = {}
    for name in ("token_loss", "response_loss"):
        q = ctx.Queue()
        p = ctx.Process(target=side, args=(name, a, q))
        p.start()
        res[name] = result(name, p, q)
        p.join()
    full, ours = res["token_loss"], res["response_loss"]
    print(json.dumps({
        "bench": "sft_loss", "device": "cpu", "threads": a.threads, "vocab": a.vocab, "hidden": a.hidden,
        "tokens": a.batch * a.seq, "response_tokens": response_tokens(a),
        "token_loss": full, "response_loss": ours,
        "rss_growth_ratio": round(full["rss_growth_mb"] / max(1, ours["rss_growth_mb"]), 2),
        "speedup": round(full["s_per_step"] / ours["s_per_step"], 2),
        "loss_diff": abs(full["loss"] - ours["loss"]),
        "grad_norm_rel_diff": abs(full["grad_norm"] - ours["grad_norm"]) / full["grad_norm"],
    }))


if __name__ == "__main__":
    main()
