"""The pretraining corpus: determinism, documented style shares, first-token property, correct answers."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from ponder.errors import PonderError
from ponder.tasks import countdown, generate
from ponder.tasks.corpus import END, build_corpus, build_corpus_docs, classify, corpus_stats, sft_examples

N = 12_000
TERSE_OPENINGS = (" The answer is", " \\boxed{", " Answer:", " =")
_STEP = re.compile(r"^(-?\d+) ([-+*/]) \(?(-?\d+)\)? = (-?\d+)\.$")
_FINAL = re.compile(  # the documented endings, X captured
    r"^(?:The answer is \\boxed\{(.+)\}\.|\\boxed\{(.+)\}|Answer: (.+)|(?:So the|The) answer is (.+)\.|= (.+))$"
)


@pytest.fixture(scope="module")
def docs():
    return build_corpus_docs(N, seed=0)


def _step_ok(line: str) -> bool:
    m = _STEP.match(line)
    assert m, line
    a, op, b, c = int(m[1]), m[2], int(m[3]), int(m[4])
    return {"+": a + b, "-": a - b, "*": a * b, "/": a // b if b and a % b == 0 else None}[op] == c


def _gold_ok(d, final: str) -> bool:
    """Is `final` right, judged independently of the generator (Python eval, test-only)?"""
    item = d.item
    if d.task == "countdown":
        return countdown.check(final, item["numbers"], item["target"]) and eval(final) == item["target"]
    value = eval(item["expr"])  # arith: the expression itself; word: its formula (checked in test_tasks)
    return float(final) == value


def _body(d) -> str:
    return d.text.split("\nSolution:", 1)[1].removesuffix(END)


def test_deterministic():
    assert build_corpus(300, seed=5) == build_corpus(300, seed=5)
    assert build_corpus(300, seed=5) != build_corpus(300, seed=6)


def test_documented_shares(docs):
    s = corpus_stats(docs)
    assert s["n_docs"] == N and sum(s["kinds"].values()) == N
    assert abs(s["filler_share"] - 0.2) < 0.015
    assert abs(s["terse_share_of_task_docs"] - 0.7) < 0.015
    assert abs(s["wrong_step_share_of_step_docs"] - 0.05) < 0.015
    assert abs(s["wrong_final_share_of_task_docs"] - 0.05) < 0.01
    assert abs(s["kinds"]["drill"] / (s["kinds"]["drill"] + s["kinds"]["text"]) - 0.75) < 0.04
    for task in ("arith", "word", "countdown"):  # tasks equally represented
        n = s["by_task"][f"{task}/steps"] + s["by_task"][f"{task}/terse"]
        assert abs(n / (0.8 * N) - 1 / 3) < 0.02
    # Stats from text alone agree with the labelled records.
    s_text = corpus_stats([d.text for d in docs])
    assert s_text["kinds"] == s["kinds"] and s_text["by_task"] == s["by_task"]
    assert all(classify(d.text) == (d.kind, d.task) for d in docs)



def test_documented_ending_and_layout_shares(docs):
    """The module docstring's shares of each ending (terse: 50/20/15/10/5%, steps: 60/20/10/10%) and of step docs
    written one operation per line (70%), as drawn."""
    from collections import Counter

    terse, steps, newline, multi = Counter(), Counter(), 0, 0
    for d in docs:
        if d.kind == "terse" and d.task != "countdown":  # (countdown writes "The answer is X." for "= X")
            terse[_body(d).strip().replace(d.final, "X", 1)] += 1
        elif d.kind == "steps":
            work, last = _body(d).strip().rsplit("\n", 1)
            steps[last.replace(d.final, "X")] += 1
            if work.count(".") > 1:
                multi += 1
                newline += "\n" in work
    for counts, table in ((terse, (("The answer is \\boxed{X}.", 0.50), ("\\boxed{X}", 0.20), ("Answer: X", 0.15),
                                   ("The answer is X.", 0.10), ("= X", 0.05))),
                          (steps, (("The answer is \\boxed{X}.", 0.60), ("Answer: X", 0.20),
                                   ("So the answer is X.", 0.10), ("\\boxed{X}", 0.10)))):
        n = sum(counts.values())
        assert set(counts) == {t for t, _ in table}
        for text, share in table:
            assert abs(counts[text] / n - share) < 0.03, (text, counts[text] / n)
    assert abs(newline / multi - 0.7) < 0.03

def test_shares_are_configurable():
    s = corpus_stats(build_corpus_docs(3000, seed=1, terse_share=0.3, filler_share=0.0, tasks=("arith",)))
    assert s["kinds"].get("drill", 0) == 0 and set(s["by_task"]) == {"arith/steps", "arith/terse"}
    assert abs(s["terse_share_of_task_docs"] - 0.3) < 0.03
    clean = build_corpus_docs(1000, seed=1, wrong_step_share=0.0, wrong_final_share=0.0)
    assert not any(d.noise for d in clean)


def test_terse_share_per_problem_size():
    """A mapping {operations: share} makes the style depend on the problem; string keys (config.json) work."""
    from ponder.tasks.corpus import n_ops

    shares = {"2": 0.1, "3": 0.9, "4": 0.5}
    docs = [d for d in build_corpus_docs(4000, seed=2, terse_share=shares, filler_share=0.0,
                                         tasks=("arith", "word", "countdown"))]
    for size, want in ((2, 0.1), (3, 0.9), (4, 0.5)):
        mine = [d for d in docs if n_ops(d.item) == size and d.task == "arith"]
        assert len(mine) > 300
        assert abs(sum(d.kind == "terse" for d in mine) / len(mine) - want) < 0.05, size


def test_first_tokens_decide_style(docs):
    for d in docs:
        if d.kind not in ("steps", "terse"):
            continue
        body = _body(d)
        if d.kind == "steps":
            # A step first: " a op b = c." with two literal, non-negative operands.
            first = re.split(r"(?<=\.)[ \n]", body[1:], maxsplit=1)[0]
            assert re.match(r"^\d+ [-+*/] \d+ = -?\d+\.$", first), body
        else:
            assert body.startswith(TERSE_OPENINGS) and not re.match(r" \d", body), body


def test_documents_and_prompts(docs):
    for d in docs:
        assert d.text.endswith(END) and d.text.count(END) == 1
        if d.item is not None:
            assert d.text.startswith(d.item["prompt"] + " ")
            assert d.item["split"] == "train"
            assert d.item["id"] == f"{d.task}-" + hashlib.sha1(_canon(d.item).encode()).hexdigest()[:12]
            h = int.from_bytes(hashlib.sha1(_canon(d.item).encode()).digest()[:8], "big")
            assert h % 10 != 0  # never a test problem


def _canon(item):
    if item["task"] == "arith":
        return item["expr"]
    if item["task"] == "word":
        return item["template"] + "|" + ",".join(f"{k}={v}" for k, v in sorted(item["numbers"].items()))
    return f"{sorted(item['numbers'])}->{item['target']}"


def test_final_answers(docs):
    for d in docs:
        if d.kind not in ("steps", "terse"):
            continue
        body = _body(d)
        last = re.split(r"(?<=\.)[ \n]|\n", body.strip())[-1]  # the ending, after the last step
        m = _FINAL.match(last)
        assert m, body
        final = next(g for g in m.groups() if g is not None)
        assert final == d.final
        if d.noise is None:
            assert _gold_ok(d, final), d.text
        elif d.noise == "wrong_final" or d.task != "countdown":
            assert not _gold_ok(d, final), d.text  # noise really is wrong
        if d.kind == "steps":
            steps = [s for s in re.split(r"(?<=\.)[ \n]", body.strip()) if _STEP.match(s)]
            ok = [_step_ok(s) for s in steps]
            assert all(ok) == (d.noise != "wrong_step"), d.text
            if d.noise is None and d.task != "countdown":
                assert steps[-1].split(" = ")[1] == final + "."


def test_drill_lines_are_correct(docs):
    drills = [d for d in docs if d.kind == "drill"]
    assert drills
    for d in drills:
        lines = d.text.removesuffix(END).split("\n")
        assert 4 <= len(lines) <= 9 and all(_step_ok(x) for x in lines)


def test_sft_examples():
    for task in ("arith", "word", "countdown"):
        ex = sft_examples(task, 50, seed=0)
        items = generate(task, "train", 50, seed=0)
        assert [e["prompt"] for e in ex] == [x["prompt"] for x in items]
        for e in ex:
            r = e["response"]
            assert re.match(r" \d", r) and END not in r
            lines = r[1:].split("\n")
            assert all(_step_ok(x) for x in lines[:-1])
            assert lines[-1] == f"The answer is \\boxed{{{e['answer']}}}."
        terse = sft_examples(task, 5, seed=0, style="terse")
        assert all(t["response"] == f" The answer is \\boxed{{{t['answer']}}}." for t in terse)
    with pytest.raises(PonderError, match="unknown style"):
        sft_examples("arith", 5, style="cot")


def test_corpus_errors():
    with pytest.raises(PonderError, match="n_docs"):
        build_corpus(0)
    with pytest.raises(PonderError, match="unknown task"):
        build_corpus(10, tasks=("arith", "gsm"))
    with pytest.raises(PonderError, match="terse_share"):
        build_corpus(10, terse_share=1.5)
    with pytest.raises(PonderError, match=r"terse_share\[3\]"):
        build_corpus(10, terse_share={2: 0.5, 3: 2.0})
    with pytest.raises(PonderError, match="no share for 4-operation"):
        build_corpus(200, terse_share={2: 0.5, 3: 0.5}, tasks=("arith",))
    with pytest.raises(PonderError, match="numbers of operations"):
        build_corpus(10, terse_share={"two": 0.5})
    with pytest.raises(PonderError, match="at least one task"):
        build_corpus(10, tasks=())
    for tasks in ("arith", {"arith", "word"}, None):  # "unknown task 'a'"; a set: a corpus per process; a TypeError
        with pytest.raises(PonderError, match=f"tasks must be a list of task names, got {type(tasks).__name__}"):
            build_corpus(10, tasks=tasks)
    # accepted silently before: one document for True, another corpus than seed 1's for 1.0, a share for 2.5
    # operations used for 2, and one of two shares for the same size dropped
    with pytest.raises(PonderError, match="n_docs must be a positive integer, got True"):
        build_corpus(True)
    assert build_corpus(np.int64(5)) == build_corpus(5)  # (an integer, as a seed may be; it was refused)
    for seed in (1.0, True, "1"):
        with pytest.raises(PonderError, match=f"seed must be an integer, got {type(seed).__name__}"):
            build_corpus(10, seed=seed)
    for key in (2.5, True):
        with pytest.raises(PonderError, match=re.escape(f"keys must be numbers of operations, got {key!r}")):
            build_corpus(10, terse_share={key: 0.5, 3: 0.5, 4: 0.5})
    for key in (0, -1, "0"):  # (taken, and never used: no problem has fewer than one operation)
        with pytest.raises(PonderError, match=re.escape(f"numbers of operations (1 or more), got {key!r}")):
            build_corpus(10, terse_share={2: 0.5, 3: 0.5, 4: 0.5, key: 0.2})
    with pytest.raises(PonderError, match="two shares for 2-operation problems"):
        build_corpus(10, terse_share={"2": 0.1, 2: 0.9, 3: 0.5, 4: 0.5})
    assert build_corpus(10, terse_share={2.0: 0.5, "3": 0.5, 4: 0.5}) == build_corpus(
        10, terse_share={2: 0.5, 3: 0.5, 4: 0.5})



def test_terse_endings_are_shares_that_sum_to_one():
    """Relative weights ((a, 3), (b, 1)) drew the first ending for every terse document, and shares short of 1 gave
    the rest to the last, silently: refused in one line, as is an ending without its X or one opening as a worked
    solution does (a digit first)."""
    for endings, said in (((("The answer is X.", 3), ("= X", 1)), "share of 'The answer is X.' must be between 0 "
                           "and 1, got 3"),
                          ((("The answer is X.", 0.5), ("= X", 0.25)), "the shares sum to 0.75, not 1"),
                          ((("The answer is 7.", 1.0),), "has no X"),
                          ((("X is the answer.", 1.0),), "starts with a digit or the answer"),
                          ((("The answer is X.", "1"),), "each must be a (text, share) pair"),
                          ("The answer is X.", "must be a list of (text, share) pairs")):
        with pytest.raises(PonderError, match=re.escape(said)):
            build_corpus(10, terse_endings=endings)
    docs = build_corpus_docs(400, seed=0, terse_share=1.0, filler_share=0.0, tasks=["arith"],
                             terse_endings=[["The answer is X.", 0.5], ["\\boxed{X}", 0.5]])
    assert abs(sum(_body(d).startswith(" The answer") for d in docs) / len(docs) - 0.5) < 0.1

def test_corpus_and_sft_text_are_pinned():
    """The shipped tiny model was pretrained on the recipe's corpus (TINY_CORPUS, arith only): its text for a seed
    must not change. The default corpus and the SFT text changed once on purpose (word problems' counts of 1
    took the singular), the recipe's did not."""
    import json

    from ponder.train import TINY_CORPUS

    tiny = build_corpus(**{**TINY_CORPUS, "n_docs": 3000})
    assert hashlib.sha256("".join(tiny).encode()).hexdigest()[:16] == "106a019dc36a1ef4"
    assert hashlib.sha256("".join(build_corpus(3000, seed=0)).encode()).hexdigest()[:16] == "bae65af72f0d2ce8"
    sft = [sft_examples(t, 100, seed=0) for t in ("arith", "word", "countdown")]
    assert hashlib.sha256(json.dumps(sft).encode()).hexdigest()[:16] == "e37525be58fd2e5b"


def test_shares_are_any_real_number_in_range_and_never_a_bool():
    """A numpy float32 share (0.5) was refused as "must be between 0 and 1, got np.float32(0.5)", and True was read
    as 1.0 (filler_share=True made every document filler, silently). A share is drawn against as the float it is."""
    plain = dict(terse_share=0.5, filler_share=0.25, wrong_step_share=0.125)  # (each exact in float32)
    f32 = {k: np.float32(v) for k, v in plain.items()}
    assert build_corpus(40, 3, **f32, terse_endings=(("The answer is X.", np.float32(1)),)) == build_corpus(
        40, 3, **plain, terse_endings=(("The answer is X.", 1.0),))
    for kw in (dict(filler_share=True), dict(terse_share=True), dict(wrong_final_share="0.1")):
        with pytest.raises(PonderError, match=r"_share must be a number between 0 and 1, got (bool True|str '0.1')$"):
            build_corpus(5, **kw)
