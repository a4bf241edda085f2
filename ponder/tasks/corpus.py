"""The pretraining corpus for Ponder's tiny base model: task problems with solutions in mixed styles.

Why the mixture looks like this
-------------------------------
RL can only improve what the base model already does sometimes. Measured in this project: label noise does
not make greedy answers wrong; *preference* does. So most documents answer tersely (the final answer with no
working), which a 1-3M parameter model cannot compute in its head for 2-4 chained operations, and a minority
works step by step, one operation per line, which it can. The base model then answers tersely by default
(greedy, mostly wrong), sampling sometimes starts a worked solution (mostly right), and GRPO learns to
prefer thinking. The style is decided by the FIRST tokens after "Solution:", so RL's credit lands there:

    steps: " 3 + 4 = 7." ...        (always a digit first: the first operation has two literal operands)
    terse: " The answer is" | " \\boxed" | " Answer:" | " ="   (never a digit first)

Terse openings are concentrated (half of them are " The answer is \\boxed{..}") while step openings spread
over many first numbers, which keeps greedy decoding terse even as the step share grows.

`terse_share` may depend on the problem: a mapping {operations in the solution: share}. Greedy decoding
takes the majority style of each kind of problem, so one global share makes a base model that is greedy-
terse (mostly wrong) or greedy-worked (mostly right) everywhere; per-size shares give a base model that
works some problems and blurts others, as real base models do (the tiny model: terse on 2-3 operations,
worked on 4; see train.TINY_CORPUS).

Document = task prompt (exactly as `ponder.tasks` renders it, TRAIN split only) + solution + END, or filler.

    steps (default share of task docs 1 - terse_share = 30%), one line per operation (70%) or one sentence
    after another on a line (30%), then on its own line an ending: "The answer is \\boxed{X}." 60% |
    "Answer: X" 20% | "So the answer is X." 10% | "\\boxed{X}" 10%. (Own line: answer extractors look for
    "Answer:" at a line start, and a countdown verifier must not mistake a step for the final expression.)
        Problem: (3 + 4) * 5 - 2 = ?
        Solution: 3 + 4 = 7.
        7 * 5 = 35.
        35 - 2 = 33.
        The answer is \\boxed{33}.<|endoftext|>
    terse (terse_share = 70%): " The answer is \\boxed{X}." 50% | " \\boxed{X}" 20% | " Answer: X" 15% |
    " The answer is X." 10% | " = X" 5% (countdown: " The answer is X." instead of " = X", which would
    read as an equation).
        Problem: (3 + 4) * 5 - 2 = ?
        Solution: The answer is \\boxed{33}.<|endoftext|>
    For word problems the steps are the arithmetic of the story ("4 * 6 = 24."); for countdown they build
    the gold expression, and X is that expression ("\\boxed{15 * (8 + 2)}").

Noise (labelled in `CorpusDoc.noise`), small because it is not what makes the base model weak:
    wrong_step  (wrong_step_share = 5% of step docs): one step's result is off by 1-10 and later steps carry
                the wrong value on, so the chain is consistent but the final answer is wrong (countdown keeps
                its gold expression: its answer does not depend on the arithmetic shown).
    wrong_final (wrong_final_share = 5% of task docs): the final answer is wrong (off by 1-10; countdown: an
                expression that misses the target); step docs keep correct steps.

Filler (filler_share = 20% of all docs): 75% drill documents, 4-9 lines of single operations "7 + 8 = 15."
(the steps of one training problem shuffled among 2-5 random small facts), which teach the one operation a
step needs; 25% short generic sentences.

Every document ends with the literal END = "<|endoftext|>", which the tokenizer maps to EOS.
"""

from __future__ import annotations

import numbers
import random
import re
from collections import Counter
from dataclasses import dataclass, field

from ponder.errors import PonderError
from ponder.tasks import TASKS, arith, countdown, generate, sample_item

END = "<|endoftext|>"

TERSE_ENDINGS = (("The answer is \\boxed{X}.", 0.50), ("\\boxed{X}", 0.20), ("Answer: X", 0.15),
                 ("The answer is X.", 0.10), ("= X", 0.05))
STEP_ENDINGS = (("The answer is \\boxed{X}.", 0.60), ("Answer: X", 0.20), ("So the answer is X.", 0.10),
                ("\\boxed{X}", 0.10))
NEWLINE_STEPS = 0.7  # share of step docs with one operation per line (else all on one line)
DRILL_SHARE = 0.75  # share of filler docs that are single-operation drills
SFT_ENDING = "The answer is \\boxed{X}."

_NAMES = ("Mia", "Noah", "Ava", "Liam", "Zoe", "Omar", "Lena", "Ravi", "Sofia", "Kenji")
_SENTENCES = (
    "Numbers can be added in any order.", "Multiplication is repeated addition.",
    "Subtracting a number undoes adding it.", "Work one step at a time.", "Check each step before the next.",
    "Parentheses are worked out first.", "Multiply before you add or subtract.", "A dozen is twelve.",
    "There are seven days in a week.", "An hour has sixty minutes.", "Even numbers end in 0, 2, 4, 6 or 8.",
    "Ten tens make one hundred.", "Any number times one is the same number.", "Any number times zero is zero.",
    "The sum of two even numbers is even.", "Sharing equally means dividing.",
    "{name} likes to count things.", "{name} keeps a small notebook of sums.", "{name} walks to school.",
    "{name} has a red bag.", "{name} and a friend play a number game.", "The shop opens at nine.",
    "It rained all afternoon.", "The garden has many flowers.",
)


@dataclass
class CorpusDoc:
    text: str  # the full document, END included
    kind: str  # "steps" | "terse" | "drill" | "text"
    task: str | None = None
    noise: str | None = None  # None | "wrong_step" | "wrong_final"
    final: str | None = None  # the final answer as written in the document
    item: dict | None = field(default=None, repr=False)  # the task item (task docs only)


def _weighted(rng: random.Random, table) -> str:
    r = rng.random()
    for text, w in table:
        r -= w
        if r < 0:
            return text
    return table[-1][0]


def _expr(item: dict) -> str:
    """The expression a worked solution evaluates (arith: the problem; word: its formula; countdown: gold)."""
    return item["expr"]


def _off_by(rng: random.Random, value: int) -> int:
    return value + rng.choice((-1, 1)) * rng.randint(1, 10)


def _paths(node: arith.Tree, path: tuple = ()) -> list[tuple]:
    """Paths (1 = left, 2 = right) to every node of a tree."""
    if isinstance(node, int):
        return [path]
    return [path] + _paths(node[1], path + (1,)) + _paths(node[2], path + (2,))


def _edit(rng: random.Random, node: arith.Tree, path: tuple) -> arith.Tree:
    """The tree with the node at `path` changed: a number moved by 1-10, or another operator."""
    if path:
        parts = list(node)
        parts[path[0]] = _edit(rng, node[path[0]], path[1:])
        return tuple(parts)
    if isinstance(node, int):
        return max(1, _off_by(rng, node))
    return (rng.choice([o for o in "+-*" if o != node[0]]), node[1], node[2])


def _wrong_countdown(rng: random.Random, item: dict) -> str:
    """An expression that misses the target: one number or operator of the gold changed."""
    tree = arith.parse(item["answer"])
    paths = _paths(tree)
    for _ in range(50):
        wrong = arith.render(_edit(rng, tree, rng.choice(paths)))
        if not countdown.check(wrong, item["numbers"], item["target"]):
            return wrong
    return f"{item['answer']} + 1"


def _solution(rng: random.Random, item: dict, style: str, noise: str | None,
              terse_endings=TERSE_ENDINGS) -> tuple[str, str]:
    """(solution text starting with a space, final answer as written)."""
    is_expr_answer = item["task"] == "countdown"
    if style == "steps":
        tree = arith.parse(_expr(item))
        n_steps = len(arith.tree_steps(tree))
        steps = None
        if noise == "wrong_step":
            for _ in range(20):  # a corrupted value can make a later division inexact: draw again
                i = rng.randrange(n_steps)
                try:
                    steps = arith.tree_steps(tree, {i: rng.choice((-1, 1)) * rng.randint(1, 10)})
                except PonderError:
                    continue
                if all(v > 0 for _, v in steps[:-1]) or item["task"] == "arith":
                    break
            else:
                steps = arith.tree_steps(tree, {n_steps - 1: rng.choice((-1, 1)) * rng.randint(1, 10)})
        steps = steps or arith.tree_steps(tree)
        final = str(steps[-1][1])
        if is_expr_answer:
            final = item["answer"]
        if noise == "wrong_final":
            final = _wrong_countdown(rng, item) if is_expr_answer else str(_off_by(rng, int(item["answer"])))
        sep = "\n" if rng.random() < NEWLINE_STEPS else " "
        body = sep.join(f"{s}." for s, _ in steps)
        return " " + body + "\n" + _weighted(rng, STEP_ENDINGS).replace("X", final), final
    final = item["answer"]
    if noise == "wrong_final":
        final = _wrong_countdown(rng, item) if is_expr_answer else str(_off_by(rng, int(final)))
    ending = _weighted(rng, terse_endings)
    if is_expr_answer and ending == "= X":
        ending = "The answer is X."
    return " " + ending.replace("X", final), final


def _random_fact(rng: random.Random) -> str:
    op = rng.choice("+-*")
    # The two-digit world of `arith` (see arith.VALUE_RANGE): times tables and sums/differences below 100.
    if op == "*":
        a, b = rng.randint(0, 12), rng.randint(0, 9)
        if rng.random() < 0.5:
            a, b = b, a
    elif op == "+":
        a, b = rng.randint(0, 99), rng.randint(0, 20)
        if rng.random() < 0.3:
            a, b = b, a
    else:
        a = rng.randint(0, 99)
        b = rng.randint(0, min(a, 20) if rng.random() < 0.8 else 30)  # mostly non-negative results
    return f"{a} {op} {b} = {arith.apply(op, a, b)}."


def _drill(rng: random.Random, tasks) -> str:
    # The steps of one training problem (the operations a worked solution needs), shuffled in among random
    # small facts; one problem per drill keeps corpus building fast.
    item = sample_item(rng.choice(tasks), "train", rng)
    lines = [s + "." for s, _ in arith.arith_steps(_expr(item))]
    lines += [_random_fact(rng) for _ in range(rng.randint(2, 5))]
    rng.shuffle(lines)
    return "\n".join(lines)


def _text(rng: random.Random) -> str:
    picks = rng.sample(_SENTENCES, rng.randint(2, 4))
    return " ".join(s.format(name=rng.choice(_NAMES)) for s in picks)


def _check_share(name: str, value: float) -> float:
    """`value` as a float, or one line: a numpy float32 share (0.5) was refused as "must be between 0 and 1", and
    True was taken as 1.0 (filler_share=True: every document filler, silently)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise PonderError(f"{name} must be a number between 0 and 1, got {type(value).__name__} {value!r:.40}")
    if not 0.0 <= value <= 1.0:
        raise PonderError(f"{name} must be between 0 and 1, got {value!r}")
    return float(value)


def _terse_shares(terse_share) -> dict[int, float] | float:
    """A number, or a mapping {operations in the solution: share} (keys may be strings, as read back from
    a run's config.json)."""
    if not isinstance(terse_share, dict):
        _check_share("terse_share", terse_share)
        return float(terse_share)
    out = {}
    for k, v in terse_share.items():
        try:
            n = int(k)
        except (TypeError, ValueError):
            raise PonderError(f"terse_share keys must be numbers of operations, got {k!r}") from None
        if isinstance(k, bool) or (not isinstance(k, str) and n != k):  # int(2.5) is 2, int(True) 1: silently
            raise PonderError(f"terse_share keys must be numbers of operations, got {k!r}")
        if n < 1:  # (no problem has one: its share was taken and never used, silently)
            raise PonderError(f"terse_share keys must be numbers of operations (1 or more), got {k!r}")
        if n in out:  # {"2": 0.1, 2: 0.9}: one of the two shares would be dropped
            raise PonderError(f"terse_share has two shares for {n}-operation problems (keys {k!r} and another)")
        _check_share(f"terse_share[{n}]", v)
        out[n] = float(v)
    if not out:
        raise PonderError("terse_share mapping is empty")
    return out


def _terse_endings(endings) -> tuple:
    """(text, share) pairs, each text with its X, whose shares sum to 1: the draw gives whatever share is left over
    to the last ending, so relative weights ((a, 3), (b, 1)) drew the first ending for every document, silently."""
    if isinstance(endings, (str, dict)) or not isinstance(endings, (list, tuple)) or not endings:
        raise PonderError(f"terse_endings must be a list of (text, share) pairs, got {endings!r:.60}")
    for e in endings:
        if (not isinstance(e, (list, tuple)) or len(e) != 2 or not isinstance(e[0], str)
                or isinstance(e[1], bool) or not isinstance(e[1], numbers.Real)):
            raise PonderError(f"terse_endings: each must be a (text, share) pair, got {e!r:.60}")
        _check_share(f"terse_endings share of {e[0]!r}", e[1])
        if "X" not in e[0]:
            raise PonderError(f"terse_endings: {e[0]!r} has no X where the answer goes")
        if e[0][:1].isdigit() or e[0].startswith("X"):  # (a digit first marks a worked solution: see above)
            raise PonderError(f"terse_endings: {e[0]!r} starts with a digit or the answer; a terse answer never does")
    total = sum(e[1] for e in endings)
    if abs(total - 1) > 1e-6:
        raise PonderError(f"terse_endings: the shares sum to {total:g}, not 1")
    return tuple((text, float(share)) for text, share in endings)


def n_ops(item: dict) -> int:
    """Operations a worked solution of `item` takes (one line each)."""
    return item.get("n_ops") or len(arith.arith_steps(_expr(item)))


def build_corpus_docs(n_docs: int, seed: int = 0, *, tasks=TASKS, terse_share: float | dict = 0.7,
                      wrong_step_share: float = 0.05, wrong_final_share: float = 0.05,
                      filler_share: float = 0.2, terse_endings=TERSE_ENDINGS) -> list[CorpusDoc]:
    """`build_corpus` with each document's style, task, noise label and item (for stats and tests)."""
    if isinstance(n_docs, bool) or not isinstance(n_docs, numbers.Integral) or n_docs <= 0:  # (np.int64 too)
        raise PonderError(f"n_docs must be a positive integer, got {n_docs!r}")
    # The seed is written into the rng's seed text (as generate's is): 1.0 or True would draw another corpus than 1.
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise PonderError(f"seed must be an integer, got {type(seed).__name__} {seed!r}")
    # A string went through as its letters ("unknown task 'a'"), and a set's order (hash-randomized per process)
    # drew another corpus in each process for the same seed.
    if not isinstance(tasks, (list, tuple)):
        raise PonderError(f"tasks must be a list of task names, got {type(tasks).__name__} {tasks!r:.60}")
    tasks = tuple(tasks)
    if not tasks:
        raise PonderError("tasks must name at least one task")
    for t in tasks:
        if t not in TASKS:
            raise PonderError(f"unknown task {t!r} (known: {', '.join(TASKS)})")
    shares = _terse_shares(terse_share)
    terse_endings = _terse_endings(terse_endings)
    wrong_step_share, wrong_final_share, filler_share = (_check_share(name, v) for name, v in (
        ("wrong_step_share", wrong_step_share), ("wrong_final_share", wrong_final_share),
        ("filler_share", filler_share)))
    if wrong_step_share + wrong_final_share > 1:
        raise PonderError("wrong_step_share + wrong_final_share must be at most 1")
    rng = random.Random(f"corpus:{seed}")
    docs: list[CorpusDoc] = []
    for _ in range(n_docs):
        if rng.random() < filler_share:
            if rng.random() < DRILL_SHARE:
                docs.append(CorpusDoc(_drill(rng, tasks) + END, "drill"))
            else:
                docs.append(CorpusDoc(_text(rng) + END, "text"))
            continue
        item = sample_item(rng.choice(tasks), "train", rng)
        if isinstance(shares, dict):
            size = n_ops(item)
            if size not in shares:
                raise PonderError(f"terse_share has no share for {size}-operation problems "
                                  f"(keys: {sorted(shares)})")
            share = shares[size]
        else:
            share = shares
        style = "terse" if rng.random() < share else "steps"
        u = rng.random()
        noise = None
        if style == "steps" and u < wrong_step_share:
            noise = "wrong_step"
        elif u < (wrong_step_share if style == "steps" else 0.0) + wrong_final_share:
            noise = "wrong_final"
        solution, final = _solution(rng, item, style, noise, terse_endings)
        docs.append(CorpusDoc(item["prompt"] + solution + END, style, item["task"], noise, final, item))
    return docs


def build_corpus(n_docs: int, seed: int = 0, *, tasks=TASKS, terse_share: float | dict = 0.7,
                 wrong_step_share: float = 0.05, wrong_final_share: float = 0.05,
                 filler_share: float = 0.2, terse_endings=TERSE_ENDINGS) -> list[str]:
    """`n_docs` pretraining documents (strings ending in END), deterministic in `seed`. See the module
    docstring for the styles and the reasons for the default shares."""
    return [d.text for d in build_corpus_docs(
        n_docs, seed, tasks=tasks, terse_share=terse_share, wrong_step_share=wrong_step_share,
        wrong_final_share=wrong_final_share, filler_share=filler_share, terse_endings=terse_endings)]


_STEP_START = re.compile(r" \d")
_OP_LINE = re.compile(r"^-?\d+ [-+*/] \(?-?\d+\)? = -?\d+\.$")


def classify(doc: str) -> tuple[str, str | None]:
    """(kind, task) of a document from its text alone: kind steps/terse/drill/text."""
    head, sep, body = doc.partition("\nSolution:")
    if not sep:
        lines = doc.removesuffix(END).split("\n")
        return ("drill" if all(_OP_LINE.match(x) for x in lines) else "text"), None
    if head.startswith("Problem: Using the numbers ["):
        task = "countdown"
    elif head.endswith(" = ?"):
        task = "arith"
    else:
        task = "word"
    return ("steps" if _STEP_START.match(body) else "terse"), task


def corpus_stats(docs) -> dict:
    """Counts and shares per style, per task, boxed answers, and (for CorpusDoc lists) noise labels."""
    docs = list(docs)
    kinds: Counter = Counter()
    by_task: Counter = Counter()
    noise: Counter = Counter()
    boxed = chars = 0
    for d in docs:
        text = d.text if isinstance(d, CorpusDoc) else d
        kind, task = classify(text)
        kinds[kind] += 1
        chars += len(text)
        if task:
            by_task[f"{task}/{kind}"] += 1
            boxed += "\\boxed{" in text
        if isinstance(d, CorpusDoc) and d.noise:
            noise[d.noise] += 1
    n_task = kinds["steps"] + kinds["terse"]
    stats = {
        "n_docs": len(docs),
        "kinds": dict(kinds),
        "by_task": dict(sorted(by_task.items())),
        "filler_share": round((kinds["drill"] + kinds["text"]) / max(1, len(docs)), 4),
        "terse_share_of_task_docs": round(kinds["terse"] / max(1, n_task), 4),
        "boxed_share_of_task_docs": round(boxed / max(1, n_task), 4),
        "mean_chars": round(chars / max(1, len(docs)), 1),
    }
    if docs and isinstance(docs[0], CorpusDoc):
        stats["noise"] = dict(noise)
        stats["wrong_step_share_of_step_docs"] = round(noise["wrong_step"] / max(1, kinds["steps"]), 4)
        stats["wrong_final_share_of_task_docs"] = round(noise["wrong_final"] / max(1, n_task), 4)
    return stats


def sft_examples(task: str, n: int, seed: int = 0, style: str = "steps") -> list[dict]:
    """Clean, correct solutions of `n` distinct TRAIN problems: {"id", "task", "prompt", "response",
    "answer"}. The response starts with a space (it follows "Solution:") and has no END: append EOS."""
    if style not in ("steps", "terse"):
        raise PonderError(f"unknown style {style!r} (known: steps, terse)")
    out = []
    for item in generate(task, "train", n, seed):
        final = item["answer"]
        ending = SFT_ENDING.replace("X", final)
        if style == "steps":
            response = " " + "\n".join(f"{s}." for s, _ in arith.arith_steps(_expr(item))) + "\n" + ending
        else:
            response = " " + ending
        out.append({"id": item["id"], "task": task, "prompt": item["prompt"], "response": response,
                    "answer": final})
    return out
