"""Timing target of `ponder eval --sweep`: a full test-time scaling sweep on 200 problems with the tiny
model must take <= 5 minutes on 2 CPU cores. Runs exactly what the CLI runs (`ponder.evaluate.sweep`) and
prints one JSON line: total seconds, seconds per phase, the target and whether it was met.

    python bench/eval_sweep.py [--model tiny] [--task arith] [--problems 200] [--ns 1,2,4,8,16]
                               [--budgets 16,32,64,128] [--max-new-tokens 128] [--threads 2] [--out DIR]

The parallel curves (majority, weighted majority, best-of-N, oracle pass@N) all come from ONE draw of
max(ns) samples per problem; budget forcing is run once per budget (greedy).
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ponder  # noqa: E402
from ponder.cli import _positive_int as positive  # noqa: E402  (argparse's type for a count >= 1)
from ponder.errors import PonderError  # noqa: E402

TARGET_SECONDS = 300.0


def _ints(s: str) -> list[int]:
    return [int(x) for x in s.split(",") if x.strip()]



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="tiny", help="checkpoint directory or 'tiny' (default)")
    ap.add_argument("--task", default="arith")
    ap.add_argument("--problems", type=positive, default=200)
    ap.add_argument("--ns", default="1,2,4,8,16")
    ap.add_argument("--budgets", default="16,32,64,128")
    ap.add_argument("--methods", default="majority,weighted_majority,best_of_n,oracle,budget_forcing")
    ap.add_argument("--max-new-tokens", type=positive, default=128)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--threads", type=positive, default=2)
    ap.add_argument("--out", default=None, help="keep the sweep's files here (default: a temporary directory)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from ponder.evaluate import sweep
    from ponder.tasks import default_reward
    from ponder.tasks.data import load_items

    try:
        model, tok = ponder.load(a.model)
    except PonderError as e:
        print(json.dumps({"error": f"cannot load model {a.model!r}: {e}"}))
        sys.exit(2)
    items = load_items(a.task, split="test", n=a.problems, seed=0)
    from ponder.verify.math import check_math

    check_math("1", "1")  # import and first-call costs outside the timed region, as a warm CLI would not pay twice
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(a.out) if a.out else Path(tmp)
        # the CLI's verifier for the task: sweep()'s own default, math, takes a countdown answer's bare target
        reward = default_reward(a.task, items)
        t0 = time.perf_counter()
        res = sweep({Path(str(a.model)).name: (model, tok)}, items, parallel_ns=_ints(a.ns), budgets=_ints(a.budgets),
                    methods=a.methods.split(","), max_new_tokens=a.max_new_tokens, temperature=a.temperature,
                    reward=reward, out_dir=out, progress=False)
        seconds = time.perf_counter() - t0
    best = {f"{c['method']}": {str(p["budget"]): round(p["accuracy"], 3) for p in c["points"]} for c in res["curves"]}
    print(json.dumps({
        "bench": "eval_sweep", "model": str(a.model), "task": a.task, "problems": len(items), "threads": a.threads,
        "ns": _ints(a.ns), "budgets": _ints(a.budgets), "max_new_tokens": a.max_new_tokens,
        "seconds": round(seconds, 1), "phase_seconds": res["seconds"], "target_seconds": TARGET_SECONDS,
        "ratio_to_target": round(seconds / TARGET_SECONDS, 3), "ok": seconds <= TARGET_SECONDS,
        "accuracy": best,
        "mean_tokens": {c["method"]: [round(p["tokens"], 1) for p in c["points"]] for c in res["curves"]},
    }))


if __name__ == "__main__":
    main()
