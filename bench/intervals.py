"""Coverage of eval's intervals over problems (`ponder.metrics.mean_ci`) against the plain percentile bootstrap,
simulated: per-problem accuracies drawn from Beta populations, each problem's value k/16 (16 samples), the
interval asked to hold the population's mean. The figures quoted in mean_ci's docstring and the README come from
this script. Prints one JSON object.

    python bench/intervals.py [--draws 1000] [--samples 16] [--problems 2,3,4,5,10]
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ponder.cli import _positive_int as positive  # noqa: E402  (argparse's type for a count >= 1)
from ponder.metrics import bootstrap_ci, mean_ci  # noqa: E402

# (a, b) of Beta(a, b): centred, hard, easy, split into never and always solved, and nearly uniform difficulty
POPULATIONS = ((2, 2), (1, 5), (5, 1), (0.3, 0.3), (20, 20))


def coverage(n: int, a: float, b: float, draws: int, samples: int, seed: int) -> dict:
    """Shares of `draws` benchmarks of n problems whose interval holds the population mean a / (a + b)."""
    rng = np.random.default_rng(seed)
    mu, hits = a / (a + b), {"bootstrap": 0, "mean_ci": 0}
    for _ in range(draws):
        x = rng.binomial(samples, rng.beta(a, b, size=n)) / samples
        for name, (_, lo, hi) in (("bootstrap", bootstrap_ci(x, seed=0)), ("mean_ci", mean_ci(x))):
            hits[name] += lo <= mu <= hi
    return {k: v / draws for k, v in hits.items()}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--draws", type=positive, default=1000, help="benchmarks drawn per population and size")
    p.add_argument("--samples", type=positive, default=16, help="samples per problem (values k / samples)")
    p.add_argument("--problems", default="2,3,4,5,10", help="benchmark sizes, comma-separated (each >= 2)")
    a = p.parse_args(argv)
    try:
        sizes = [int(t) for t in a.problems.split(",")]
    except ValueError:
        p.error(f"--problems: integers separated by commas, got {a.problems!r}")
    if any(n < 2 for n in sizes):
        p.error(f"--problems: each size must be >= 2 (one problem has no interval over problems), got {a.problems}")
    out = {"command": "python bench/intervals.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "draws": a.draws, "samples": a.samples, "populations": [list(ab) for ab in POPULATIONS], "by_problems": {}}
    for n in sizes:
        cov = [coverage(n, x, y, a.draws, a.samples, seed=k) for k, (x, y) in enumerate(POPULATIONS)]
        out["by_problems"][str(n)] = {name: {"min": min(c[name] for c in cov), "max": max(c[name] for c in cov),
                                             "each": [c[name] for c in cov]} for name in ("bootstrap", "mean_ci")}
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
