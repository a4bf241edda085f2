"""How the tiny base model answers, per problem size: share of worked (step-by-step) vs terse answers and the
accuracy of each, greedy and sampled (T = 1, n = 16), on the arith test split. Prints one JSON object.

A worked answer starts with a digit (its first step, "3 + 4 = 7."); every terse opening starts with a word
or a symbol (see ponder/tasks/corpus.py).

    python bench/tiny_styles.py [--model tiny] [--n-problems 200] [--samples 16]
"""

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ponder  # noqa: E402
from ponder.cli import _positive_int as positive  # noqa: E402  (argparse's type for a count >= 1)
from ponder.tasks import generate  # noqa: E402
from ponder.verify.registry import get_reward  # noqa: E402


def style(text: str) -> str:
    return "worked" if text.lstrip()[:1].isdigit() else "terse"


def table(items, outs, score) -> dict:
    cells = defaultdict(lambda: [0, 0])  # (n_ops, style) -> [right, total]
    for it, group in zip(items, outs):
        for s in group:
            c = cells[it["n_ops"], style(s.text)]
            c[0] += score(s.text, it).correct
            c[1] += 1
    out = {}
    for n in sorted({k[0] for k in cells}):
        total = sum(cells[n, st][1] for st in ("worked", "terse"))
        out[f"{n}_ops"] = {st: {"share": round(cells[n, st][1] / total, 3),
                                "accuracy": round(cells[n, st][0] / max(1, cells[n, st][1]), 3)}
                           for st in ("worked", "terse")}
    right = sum(c[0] for c in cells.values())
    out["all"] = {"accuracy": round(right / sum(c[1] for c in cells.values()), 3),
                  "worked_share": round(sum(c[1] for k, c in cells.items() if k[1] == "worked")
                                        / sum(c[1] for c in cells.values()), 3)}
    return out



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--n-problems", type=positive, default=200)
    ap.add_argument("--samples", type=positive, default=16)
    ap.add_argument("--threads", type=positive, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, tok = ponder.load(a.model)
    items = generate("arith", "test", a.n_problems, seed=0)
    prompts = [it["prompt"] for it in items]
    score = get_reward("math")
    greedy = ponder.sample(model, tok, prompts, max_new_tokens=96, temperature=0.0)
    sampled = ponder.sample(model, tok, prompts, n=a.samples, max_new_tokens=96, temperature=1.0, seed=0)
    print(json.dumps({"bench": "tiny_styles", "model": a.model, "problems": len(items),
                      "greedy": table(items, greedy, score), "sampled": table(items, sampled, score)}))


if __name__ == "__main__":
    main()
