"""Verifiable task generators: `arith`, `word`, `countdown`.

    generate(task, split="train", n=100, seed=0) -> list[dict]

Every item is a dict with at least `id`, `task`, `split`, `prompt` (the exact text fed to the model: plain
text ending in "\\nSolution:", no chat template) and `answer` (the exact gold, a string), plus task fields.

Train and test can never overlap: each problem has a canonical text (arith: the expression; word: template
and numbers; countdown: sorted numbers and target) and its split is fixed by a stable hash of that text
(sha1 % 10 == 0 -> test, else train). Generating a split rejection-samples problems whose hash falls in it and
drops duplicates, so the same seed always gives the same items, a longer list extends a shorter one, and a
test problem is a test problem whatever seed or n produced it.

What counts as "the same problem" (one canonical text, so one split and one id):
  - arith: the expression tree. `render` writes a tree one way (fewest parentheses), so redundant parentheses
    cannot occur in generated items; "3 + (4 + 5)" and "3 + 4 + 5", or "3 + 4" and "4 + 3", are different
    problems (different evaluation steps) and may land in different splits.
  - word: template and numbers; the name and the object are decoration.
  - countdown: the numbers as a multiset (their order in the prompt does not matter) and the target.
Known near-duplicates across the split (audited, not changed: changing the canonical texts would change the
generated items the shipped model was trained on):
  - arith: the operands of a + or x swapped ("4 + 3" for "3 + 4", anywhere in the tree) make another problem with
    the same numbers, value and steps in another order, a train problem 9 times in 10: 922 of the first 1,000 arith
    test items (seed 0) have such a twin among the train problems (tests/test_tasks.py measures it).
  - countdown: a 4-number test problem whose gold uses 3 of its numbers is solved by the gold of the 3-number
    problem (those 3 numbers, same target), which is a train problem 9 times in 10 (about 31% of test items).
  - word: templates sharing a formula (packs_give/weekly_savings, gain_lose/temperature, garden_rows/age_times,
    bake_bags/classroom_groups) with the same numbers are different stories but the same arithmetic; about 17%
    of word test items have such a twin among the train problems.
  - across tasks: an arith problem and a word problem whose formula, with its numbers, is the same expression
    (arith "4 * 6 - 5", word packs_give with 4, 6, 5) have the same worked steps and answer, and each task's split
    hashes its own canonical text: 83 of the first 1,000 arith test items (seed 0) are the expression of a word
    train problem, and 140 of the first 1,000 word test items that of an arith train problem (the corpus works
    train problems of both tasks step by step).
"""

from __future__ import annotations

import hashlib
import numbers
import random

from ponder.errors import PonderError
from ponder.tasks import arith, countdown, word

TASKS = ("arith", "word", "countdown")
SPLITS = ("train", "test")
TEST_BUCKETS = 10  # 1 in 10 canonical problems is a test problem
_MODULES = {"arith": arith, "word": word, "countdown": countdown}


def default_reward(task: str | None, items: list[dict] | None = None) -> str:
    """The verifier a task's answers need: countdown answers are expressions to evaluate (the math verifier
    would accept the bare target number without any expression), everything else math. With no task (a
    dataset file), the items' own `task` field decides: an exported countdown file is still countdown."""
    if task is None and items:
        kinds = {it.get("task") for it in items}
        if "countdown" in kinds and len(kinds) > 1:
            raise PonderError("the dataset mixes countdown items with others: no one verifier fits both (math "
                              "would accept a countdown's bare target); pass --reward, or split the file")
        task = "countdown" if kinds == {"countdown"} else None
    return "countdown" if task == "countdown" else "math"


def _digest(canonical: str) -> bytes:
    return hashlib.sha1(canonical.encode("utf-8")).digest()


def split_of(canonical: str) -> str:
    """The split a canonical problem text belongs to, forever."""
    return "test" if int.from_bytes(_digest(canonical)[:8], "big") % TEST_BUCKETS == 0 else "train"


def _module(task: str):
    if task not in _MODULES:
        raise PonderError(f"unknown task {task!r} (known: {', '.join(TASKS)})")
    return _MODULES[task]


def finish(task: str, split: str, item: dict) -> dict:
    """Add `id`, `task` and `split` to a sampled problem. The id depends only on the problem, not the seed."""
    cid = _digest(_module(task).canonical(item)).hex()[:12]
    return {"id": f"{task}-{cid}", "task": task, "split": split, **item}


def sample_item(task: str, split: str, rng: random.Random) -> dict:
    """One problem from `split` (duplicates possible across calls; `generate` removes them)."""
    mod = _module(task)
    if split not in SPLITS:
        raise PonderError(f"unknown split {split!r} (known: {', '.join(SPLITS)})")
    while True:
        item = mod.sample(rng)
        if split_of(mod.canonical(item)) == split:
            return finish(task, split, item)


def generate(task: str, split: str = "train", n: int = 100, seed: int = 0, progress: bool = False) -> list[dict]:
    """`n` distinct problems of `task` from `split`, deterministic in `seed`. `progress`: a bar on stderr (100,000
    countdown problems take ~30 s on one core)."""
    mod = _module(task)
    if split not in SPLITS:
        raise PonderError(f"unknown split {split!r} (known: {', '.join(SPLITS)})")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:  # (np.int64 is one, as for seed)
        raise PonderError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    # The seed is written into the rng's seed text: 1.0, True or "1" would draw other problems than 1, silently.
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise PonderError(f"seed must be an integer, got {type(seed).__name__} {seed!r}")
    # A string seed is hashed with sha512 by `random`: stable across runs and Python versions.
    rng = random.Random(f"{task}:{split}:{seed}")
    items: list[dict] = []
    seen: set[str] = set()
    # Bounded: a too-large n fails instead of spinning forever. After `run` duplicates in a row the chance of a
    # new problem is below 10/run (else such a run has odds under e^-10), so the n - len(items) still missing
    # cost at least (n - len(items)) * run / 10 more draws: past the budget that is a failure known now, not
    # after millions of draws (countdown's ~12,500 test problems and n=100000 took half an hour to refuse).
    misses, run, max_misses = 0, 0, 50 * n + 10_000
    bar = None
    if progress:
        from ..progress import progress_bar

        bar = progress_bar(total=n, desc=f"{task} {split}", unit="problem", dynamic_ncols=True)
    try:
        while len(items) < n:
            item = sample_item(task, split, rng)
            key = mod.canonical(item)
            if key in seen:
                misses += 1
                run += 1
                if misses > max_misses or misses + (n - len(items)) * run / 10 > max_misses:
                    raise PonderError(
                        f"task {task!r} has too few distinct {split} problems for n={n} (found {len(items)})"
                    )
                continue
            run = 0
            seen.add(key)
            items.append(item)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return items


__all__ = ["SPLITS", "TASKS", "generate", "sample_item", "split_of"]
