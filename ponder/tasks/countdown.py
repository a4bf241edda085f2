"""`countdown`: reach a target from 3-4 given numbers, each used at most once, with + - * /.

Prompt format::

    Problem: Using the numbers [3, 5, 7], make 22. Each number may be used at most once.
    Solution:

The item has `numbers` (list[int], in prompt order), `target` (int) and `answer` = one valid expression
(also kept as `expr`). The gold expression is only for the corpus and SFT: any expression that evaluates to
the target with the allowed numbers is right, which is what `check` tests (and what a verifier must do).

Generation: draw 3-4 distinct numbers, build a random expression over a random subset of at least 3 of them
and take its value as the target. Every intermediate value is a positive integer (exact divisions by more
than 1), as in the game; the target lands in TARGET_RANGE and is not simply one of the numbers.
"""

from __future__ import annotations

import random
from collections import Counter

from ponder.tasks import arith

NUMBER_RANGE = (1, 15)
TARGET_RANGE = (10, 200)
OP_WEIGHTS = {"+": 0.3, "-": 0.25, "*": 0.3, "/": 0.15}
_POOL = range(NUMBER_RANGE[0], NUMBER_RANGE[1] + 1)


def prompt_for(numbers: list[int], target: int) -> str:
    return (f"Problem: Using the numbers [{', '.join(map(str, numbers))}], make {target}. "
            "Each number may be used at most once.\nSolution:")


def _build(rng: random.Random, leaves: list[int]) -> tuple[arith.Tree, int]:
    """A random expression over `leaves` (in order) whose every step is a positive integer.

    Operands are swapped or the operator redrawn where the game's rules demand it (no negative differences,
    exact divisions only, and never by 1, which would waste a number), instead of rejecting the whole tree:
    this runs inside the sampling loop."""
    if len(leaves) == 1:
        return leaves[0], leaves[0]
    cut = arith.randint(rng, 1, len(leaves) - 1)
    lt, a = _build(rng, leaves[:cut])
    rt, b = _build(rng, leaves[cut:])
    op = _pick(rng)
    if op == "/":
        if b > 1 and a % b == 0:
            return ("/", lt, rt), a // b
        if a > 1 and b % a == 0:
            return ("/", rt, lt), b // a
        op = _pick(rng, "+-*")
    if op == "-":
        if a == b:
            op = "+"
        elif a < b:
            return ("-", rt, lt), b - a
        else:
            return ("-", lt, rt), a - b
    return (op, lt, rt), (a + b if op == "+" else a * b)


def _pick(rng: random.Random, allowed: str = "+-*/") -> str:
    r = rng.random() * sum(OP_WEIGHTS[o] for o in allowed)
    for o in allowed:
        r -= OP_WEIGHTS[o]
        if r < 0:
            return o
    return allowed[-1]


def sample(rng: random.Random) -> dict:
    k = rng.choice((3, 4))
    while True:
        numbers = rng.sample(_POOL, k)  # random order, so any prefix is a random subset
        tree, target = _build(rng, numbers[:arith.randint(rng, 3, k)])
        if TARGET_RANGE[0] <= target <= TARGET_RANGE[1] and target not in numbers:
            break
    rng.shuffle(numbers)  # the prompt order must not give away which numbers the gold uses
    expr = arith.render(tree)
    return {"prompt": prompt_for(numbers, target), "answer": expr, "expr": expr, "numbers": numbers,
            "target": target}


def canonical(item: dict) -> str:
    # Order of the numbers does not change the problem.
    return f"{sorted(item['numbers'])}->{item['target']}"


def check(expr: str, numbers: list[int], target: int) -> bool:
    """True iff `expr` evaluates exactly to `target` using each given number at most once: the countdown
    verifier's own rule (`ponder.verify.countdown.evaluate`, exact fractions: "(7 / 2) * 4" reaches 14, as
    TinyZero's countdown reward counts it), so a problem's checker and its reward never disagree. (This checker
    refused a fractional intermediate the reward accepts: the corpus could write a "wrong" answer that scores
    right.) Generated golds keep every intermediate a positive integer, as in the game. Never raises: hostile
    text (too long, too deep, not arithmetic) is simply not a solution."""
    from ponder.verify.countdown import _Bad, evaluate

    try:
        value, used = evaluate(expr)
    except _Bad:
        return False
    return value == target and not (Counter(used) - Counter(numbers))
