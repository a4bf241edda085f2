"""Reward registry (names, composites, raw correctness vs shaped reward, parallel scoring) and verify_file."""

import functools
import inspect
import json
import os
import re

import pytest

from ponder.errors import PonderError
from ponder.verify.fmt import prompt_opens_think
from ponder.verify.registry import (
    VERIFIERS,
    RewardResult,
    check_math_gold,
    get_reward,
    parallel_map,
    score_many,
    score_split,
    with_think_open,
)
from ponder.verify.run import verify_file
from ponder.verify.verdict import Verdict

GOOD = "<think>6*7</think>\nThe answer is \\boxed{42}."
BARE = "It is \\boxed{42}."
WRONG_FORMATTED = "<think>6*7</think>\n\\boxed{41}"
ITEM = {"answer": "42"}


def fixed_judge(prompt, completion):  # a module-level function: picklable, so process pools work
    return Verdict(len(completion) > 10, None, "judged", score=min(1.0, len(completion) / 40))


def test_names_and_uniform_signature():
    assert set(VERIFIERS) == {"math", "code", "countdown", "format", "constraints", "judge"}
    items = {
        "math": ({"answer": "42"}, BARE),
        "code": ({"tests": "assert f(2) == 4"}, "```python\ndef f(x):\n    return x * x\n```"),
        "countdown": ({"numbers": [6, 7], "target": 42}, "\\boxed{6 * 7}"),
        "format": ({}, GOOD),
        "constraints": ({"constraints": [{"type": "no_commas"}]}, "no commas"),
    }
    for name, (item, completion) in items.items():
        r = get_reward(name)(completion, item)
        assert isinstance(r, RewardResult) and r.correct and r.reward == 1.0, (name, r)
        assert set(r.parts) == {name} and r.parts[name]["correct"] is True


def test_composite_keeps_raw_correctness_apart_from_shaped_reward():
    reward = get_reward("math+0.1*format")
    assert reward.terms == (("math", 1.0), ("format", 0.1)) and reward.primary == "math"
    assert get_reward({"math": 1.0, "format": 0.1}) == reward
    r = reward(GOOD, ITEM)
    assert r.correct and r.reward == pytest.approx(1.1)
    r = reward(BARE, ITEM)
    assert r.correct and r.reward == pytest.approx(1.0) and r.parts["format"]["correct"] is False
    r = reward(WRONG_FORMATTED, ITEM)  # shaping pays 0.1, but the record stays incorrect
    assert not r.correct and r.reward == pytest.approx(0.1)
    r = get_reward("format+2*math")(WRONG_FORMATTED, ITEM)  # the FIRST term is the primary one
    assert r.correct and r.reward == pytest.approx(1.0)
    r = get_reward("math-0.5*format")(GOOD, ITEM)
    assert r.reward == pytest.approx(0.5) and r.correct
    assert r.to_dict()["parts"]["math"]["extracted"] == "42"


def test_graded_verifiers_contribute_their_score():
    cs = {"constraints": [{"type": "no_commas"}, {"type": "lowercase"}]}
    r = get_reward("constraints")("Hello there", cs)
    assert (r.correct, r.reward) == (False, 0.5)
    r = get_reward("math+judge", judge=fixed_judge)(BARE, {"answer": "42", "prompt": "q"})
    assert r.correct and r.reward == pytest.approx(1.0 + len(BARE) / 40)


@pytest.mark.parametrize("spec,match", [
    ("maths", "unknown verifier 'maths'; valid: math, code, countdown, format, constraints, judge"),
    # a hyphenated typo parses as a difference: the spec is named with its first unknown term
    ("no-such-reward", "^reward spec 'no-such-reward': unknown verifier 'no'; valid: math, "),
    ("math+", "cannot parse"), ("math format", "cannot parse"), ("", "no verifier"), ("math+math", "twice"),
    ({"math": "1"}, "must be a number"), (3, "expected a name"), ("judge", "no judge configured"),
])
def test_bad_specs(spec, match):
    with pytest.raises(PonderError, match=match):
        get_reward(spec)


@pytest.mark.parametrize("name,item,field", [
    ("math", {}, "answer"), ("code", {}, "tests"), ("countdown", {"numbers": [1]}, "target"),
    ("countdown", {"target": 1}, "numbers"), ("constraints", {}, "constraints"), ("judge", {}, "prompt"),
])
def test_missing_field_names_verifier_and_field(name, item, field):
    with pytest.raises(PonderError, match=f"reward '{name}': item has no '{field}' field"):
        get_reward(name, judge=fixed_judge)("x", item)


def test_score_many_preserves_order_over_processes_and_threads():
    completions = [f"\\boxed{{{i}}}" for i in range(40)]
    items = [{"answer": str(i if i % 3 else i + 1), "prompt": "p"} for i in range(40)]
    reward = get_reward("math+0.5*judge", judge=fixed_judge)
    one = score_many(reward, completions, items, workers=1)
    procs = score_many(reward, completions, items, workers=2, progress=True)
    assert one == procs
    assert [r.correct for r in one] == [bool(i % 3) for i in range(40)]
    closure = get_reward("math+judge", judge=lambda p, c: Verdict(True))  # unpicklable: threads
    assert [r.correct for r in score_many(closure, completions, items, workers=2)] == [r.correct for r in one]
    with pytest.raises(PonderError, match="2 completions but 1 items"):
        score_many("math", ["a", "b"], [ITEM])


def test_bad_completions_never_raise_through_the_registry():
    reward = get_reward("math+0.1*format+0.1*countdown")
    for c in (None, 5, b"\x00", "\ud800" * 10, "x" * (1 << 20)):
        r = reward(c, {"answer": "1", "numbers": [1], "target": 1})
        assert isinstance(r, RewardResult) and not r.correct


OPENED = "6*7</think>\nThe answer is \\boxed{42}."  # continues a prompt that ends with "<think>\n"


def test_format_term_knows_a_prompt_that_opened_the_thinking():
    """A template that prefills "<think>" (DeepSeek-R1 distills) leaves a correct completion without it: the
    format term scored 0 for every such sample. think_open=True (the sampler says so per prompt) scores it
    as formatted, and one that opens the thinking again as not; without it nothing changes."""
    reward = get_reward("math+0.1*format")
    r = reward(OPENED, ITEM, think_open=True)
    assert r.correct and r.parts["format"]["correct"] and r.reward == pytest.approx(1.1)
    again = reward(GOOD, ITEM, think_open=True)
    assert again.correct and again.parts["format"]["reason"] == "unexpected <think>"
    assert reward(OPENED, ITEM).parts["format"]["reason"] == "missing <think>"  # the default: as before
    assert reward(GOOD, ITEM) == reward(GOOD, ITEM, think_open=False)
    for name in VERIFIERS:  # one signature: every verifier takes the keyword
        assert "think_open" in inspect.signature(VERIFIERS[name]).parameters, name


def test_a_completion_still_thinking_after_a_prompt_that_opened_it_has_no_answer():
    """think_open reached only the format term: a completion of a "<think>"-prefilled prompt cut off before its
    "</think>" was read whole, so a box drafted in the thinking scored math 1 and a lowercase thinking met the
    constraints, the truncated output every verifier refuses when the completion opens its own thinking."""
    thinking = "so 6*7 is \\boxed{42} and 2*3 = 6 but wait"
    item = {"answer": "42", "numbers": [42, 1], "target": 42, "prompt": "q",
            "constraints": [{"type": "lowercase"}, {"type": "no_commas"}],
            "tests": [{"input": "", "output": "1"}]}
    for name in VERIFIERS:  # a judge that, as make_judge's, finds no response in a "<think>" never closed
        fn = get_reward(name, judge=lambda p, c: Verdict("<think>" not in c or "</think>" in c))
        opened = fn(thinking, item, think_open=True)
        assert not opened.correct and opened.reward == 0, (name, opened)
        assert fn(thinking, item).reward == (name not in ("format", "code")), name  # the same text, no prompt tag
        assert fn(OPENED, item, think_open=True).parts[name] == fn("<think>" + OPENED, item).parts[name] or name == "format"
    assert get_reward("math")(OPENED, ITEM, think_open=True).correct


def test_score_split_passes_think_open_per_prompt_and_keeps_order_and_items():
    reward = get_reward("format")
    comps, items, opens = [OPENED, GOOD, OPENED, GOOD], [{"i": k} for k in range(4)], [True, False, False, True]
    seen = []

    def score(fn, cs, its):  # a score_fn as the Ray / DataParallel pools take it: items reach it as given
        seen.append(its)
        return parallel_map(fn, cs, its, workers=2)

    got = score_split(score, functools.partial(with_think_open, reward), comps, items, opens)
    assert [r.correct for r in got] == [True, True, False, False]
    assert sorted(x["i"] for its in seen for x in its) == [0, 1, 2, 3] and all(set(x) == {"i"} for x in items)
    seen.clear()
    assert score_split(score, functools.partial(with_think_open, reward), comps, items, [False] * 4) == [
        reward(c, it) for c, it in zip(comps, items)] and len(seen) == 1  # no prompt opens it: one call as before
    assert with_think_open(len, True) is len  # a user's callable(completion, item) takes no keyword


def test_prompt_opens_think():
    assert prompt_opens_think("<|User|>q<|Assistant|><think>\n") and prompt_opens_think("Solve it. <think>")
    assert not prompt_opens_think("<think>x</think>\n") and not prompt_opens_think("Solve it.")
    assert not prompt_opens_think(None) and not prompt_opens_think([{"role": "user", "content": "<think>"}])


def test_verify_file_format_reads_a_string_prompt_that_opened_the_thinking(tmp_path):
    src = tmp_path / "f.jsonl"
    write_jsonl(src, [{"prompt": "Q: 6*7?\n<think>\n", "completion": OPENED},
                      {"prompt": "Q: 6*7?\n", "completion": GOOD},
                      {"prompt": "Q: 6*7?\n<think>", "completion": GOOD},
                      {"completion": OPENED}])
    s = verify_file("format", str(src), str(tmp_path / "o.jsonl"), workers=2, progress=False)
    out = read_jsonl(s["output"])
    assert [r["correct"] for r in out] == [True, True, False, False]
    assert [r["reason"] for r in out][2:] == ["unexpected <think>", "missing <think>"]


def test_verify_file_reads_a_rows_think_open_in_place_of_its_prompt(tmp_path):
    """`ponder eval`'s samples.jsonl writes the item's prompt, not the rendered one (a chat template's prefilled
    "<think>" is not in it), and the rendered prompt's state as think_open: verify judges by it where present."""
    src = tmp_path / "f.jsonl"
    write_jsonl(src, [{"prompt": "Q: 6*7?", "think_open": True, "completion": OPENED},
                      {"prompt": "Q: 6*7?\n<think>", "think_open": False, "completion": GOOD},
                      {"prompt": "Q", "think_open": "closed", "completion": "Answer: 42"},
                      {"prompt": "Q: 6*7?\n<think>", "completion": OPENED}])  # (no field: the prompt, as before)
    out = read_jsonl(verify_file("format", str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)["output"])
    assert [r["correct"] for r in out] == [True, True, True, True]
    for bad, shown in ((1, "1"), ("open", '"open"'), (None, "null")):
        write_jsonl(src, [{"completion": GOOD}, {"completion": GOOD, "think_open": bad}])
        with pytest.raises(PonderError, match=f"f.jsonl:2: field 'think_open' must be true, false or \"closed\", "
                                              f"got {re.escape(shown)}$"):
            verify_file("format", str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)


def test_verify_code_of_an_eval_samples_file_says_its_tests_are_not_carried(tmp_path):
    """`ponder verify code` of eval's samples.jsonl (whose records do not repeat a code item's tests per sample)
    said only "missing field 'tests'": it says where they are."""
    src = tmp_path / "samples.jsonl"
    write_jsonl(src, [{"problem": 0, "id": "a", "completion": GOOD, "gold": "", "think_open": False}])
    with pytest.raises(PonderError, match=r"samples.jsonl:1: missing field 'tests' \(have: problem, id, completion, "
                                          r"gold, think_open\); ponder eval's samples.jsonl does not carry code tests: "
                                          r"join them from the items by 'id'$"):
        verify_file("code", str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)
    write_jsonl(src, [{"completion": GOOD}])  # (any other file: the field alone)
    with pytest.raises(PonderError, match=r"samples.jsonl:1: missing field 'tests' \(have: completion\)$"):
        verify_file("code", str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)


CLOSED = "<think>\n\n</think>\n\n"  # what Qwen3's template with enable_thinking=False ends the prompt with
COMPLETIONS = ["6*7 is 42.\n\nAnswer: 42", "\\boxed{42}", "So 42.", "", "6*7</think>\nAnswer: 42", GOOD, BARE,
               "<think>6*7\nAnswer: 42", "Answer: 41", "42</think>", "Answer: -"]


def test_format_term_lends_a_closed_think_block_of_the_prompt_to_the_completion(tokenizer, tmp_path):
    """Qwen3 without thinking renders the prompt ending with an empty think block: its completions answer
    directly, and every one scored format 0 ("missing <think>") though the conversation is well formed.
    think_open="closed" (prompt_think_state of the rendered prompt) judges a completion as the prompt's block
    followed by it; the other verifiers read the completion as without a flag."""
    from test_tokenizer import QWEN3_THINKING

    from ponder.engine import prompts_open_think, prompts_think_state
    from ponder.tokenizer import Tokenizer
    from ponder.verify.fmt import check_format, prompt_think_state

    tok = Tokenizer(tokenizer.tok, eos_token="<|endoftext|>", chat_template=QWEN3_THINKING)
    msgs = [{"role": "user", "content": "What is 6*7?"}]
    rendered = tok.apply_chat_template(msgs, enable_thinking=False, add_generation_prompt=True)
    assert prompt_think_state(rendered) == "closed" and prompt_think_state(tok.apply_chat_template(msgs, add_generation_prompt=True)) is False
    assert prompt_think_state("q<think>\n") is True and prompt_think_state("q </think>") is False  # closes nothing
    tok.template_kwargs = {"enable_thinking": False}
    assert prompts_think_state(tok, [msgs, "q<think>", "q"]) == ["closed", True, False]
    assert prompts_open_think(tok, [msgs, "q<think>", "q"]) == [False, True, False]  # as before

    reward = get_reward("math+0.1*format")
    r = reward(COMPLETIONS[0], ITEM, think_open="closed")
    assert r.correct and r.parts["format"]["correct"] and r.reward == pytest.approx(1.1)
    assert reward(COMPLETIONS[0], ITEM).parts["format"]["reason"] == "missing <think>"  # without the flag: as before
    reasons = {c: reward(c, ITEM, think_open="closed").parts["format"]["reason"] for c in COMPLETIONS[2:5]}
    assert reasons == {"So 42.": "no final answer", "": "no final answer", COMPLETIONS[4]: "repeated </think>"}
    assert reward(GOOD, ITEM, think_open="closed").parts["format"]["reason"] == "repeated <think>"
    item = {"answer": "42", "numbers": [6, 7], "target": 42, "constraints": [{"type": "no_commas"}]}
    for c in COMPLETIONS:  # the invariant: the rendered text, judged with no flag
        assert VERIFIERS["format"](c, item, think_open="closed") == check_format(CLOSED + c), c
        for name in ("math", "countdown", "constraints"):  # these scores do not change
            assert VERIFIERS[name](c, item, think_open="closed") == VERIFIERS[name](c, item), (name, c)
    comps = [COMPLETIONS[0], COMPLETIONS[0], OPENED, GOOD]
    got = score_split(lambda fn, cs, its: [fn(c, it) for c, it in zip(cs, its)],
                      functools.partial(with_think_open, reward), comps, [ITEM] * 4, ["closed", False, True, False])
    assert [x.parts["format"]["correct"] for x in got] == [True, False, True, True]
    with pytest.raises(PonderError, match="think_open must be True, False or 'closed', got 'open'"):
        reward(GOOD, ITEM, think_open="open")

    src = tmp_path / "f.jsonl"  # ponder verify format: a row's string prompt says so
    write_jsonl(src, [{"prompt": rendered, "completion": c} for c in COMPLETIONS[:5]])
    out = read_jsonl(verify_file("format", str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)["output"])
    assert [r["correct"] for r in out] == [True, True, False, False, False]


# ---------------------------------------------------------------- verify_file

def write_jsonl(path, rows, raw_lines=()):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
        for line in raw_lines:
            f.write(line + "\n")


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


@pytest.mark.parametrize("gz", [False, True])
def test_verify_file_reads_a_pipe(tmp_path, gz):
    """A pipe as the input (/dev/stdin, bash's <(zcat f.gz)): its first bytes were read to sniff gzip and the file
    opened again, but a pipe is read once, so its rows were gone and the run said "no rows"."""
    import gzip

    data = (json.dumps({"completion": "\\boxed{3}", "gold": "3"}) + "\n").encode() * 2
    r, w = os.pipe()
    try:
        os.write(w, gzip.compress(data) if gz else data)  # (smaller than a pipe's buffer: no writer thread)
        os.close(w)
        s = verify_file("math", f"/dev/fd/{r}", str(tmp_path / "o.jsonl"), workers=1, progress=False)
    finally:
        os.close(r)
    assert (s["n"], s["correct"]) == (2, 2)


def test_verify_file_gzips_a_gz_output(tmp_path):
    """-o out.jsonl.gz wrote plain text under a .gz name (zcat: "not in gzip format"); it is gzip, as data export
    writes it, holding the rows a plain output holds, and the same bytes for the same rows."""
    import gzip

    src = tmp_path / "in.jsonl"
    write_jsonl(src, [{"completion": "\\boxed{3}", "gold": "3"}, {"completion": "4", "gold": "3", "x": [1.50]}])
    plain = verify_file("math", str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)["output"]
    gz = verify_file("math", str(src), str(tmp_path / "o.jsonl.gz"), workers=1, progress=False)["output"]
    data = (tmp_path / "o.jsonl.gz").read_bytes()
    assert gzip.decompress(data) == (tmp_path / "o.jsonl").read_bytes() and plain != gz
    verify_file("math", str(src), str(tmp_path / "o.jsonl.gz"), workers=1, progress=False)
    assert (tmp_path / "o.jsonl.gz").read_bytes() == data


def test_verify_file_refuses_a_default_output_beside_a_pipe(tmp_path):
    """With no -o, the output went beside the input: for /dev/stdin, /dev/stdin.verified.jsonl, written into /dev as
    root. A pipe's input needs -o, said before anything is read."""
    r, w = os.pipe()
    try:
        os.write(w, b'{"completion": "3", "gold": "3"}\n')
        os.close(w)
        with pytest.raises(PonderError, match=r"^verify: /dev/fd/\d+ is not a regular file.*-o$"):
            verify_file("math", f"/dev/fd/{r}", None, workers=1, progress=False)
    finally:
        os.close(r)
    with pytest.raises(PonderError, match=r": is a directory$"):  # (said as before: no pipe)
        verify_file("math", str(tmp_path), None, workers=1, progress=False)


def test_verify_file_math(tmp_path):
    src = tmp_path / "preds.jsonl"
    rows = [{"id": i, "completion": f"so \\boxed{{{i}}}", "gold": str(i if i < 7 else 0)} for i in range(10)]
    rows.append({"id": 10, "completion": "no idea", "answer": "3"})  # `answer` works as the gold too
    rows.append({"id": 11, "completion": "\\boxed{4}", "gold": None, "answer": "4"})  # (a null gold: the answer)
    write_jsonl(src, rows)
    summary = verify_file("math", str(src), workers=2, progress=False)
    rows.pop()
    assert summary["n"] == 12 and summary["correct"] == 8
    write_jsonl(src, rows)
    summary = verify_file("math", str(src), workers=2, progress=False)
    assert summary["n"] == 11 and summary["correct"] == 7 and summary["accuracy"] == pytest.approx(7 / 11)
    assert summary["reasons"]["ok"] == 7 and summary["output"] == str(tmp_path / "preds.verified.jsonl")
    out = read_jsonl(summary["output"])
    assert [r["id"] for r in out] == list(range(11))
    assert all(r["correct"] == (r["id"] < 7) and r["score"] == float(r["id"] < 7) for r in out)
    assert out[0]["extracted"] == "0" and out[0]["reason"] == "ok"


def test_verify_file_keeps_numbers_as_written(tmp_path, monkeypatch):
    # a JSON number read through a float: the gold 0.12345678901234567890123 reached the verifier as
    # "0.12345678901234568" and 1e3 as 1000.0, and the output rows rewrote both
    lines = ['{"completion": "\\\\boxed{1}", "gold": 0.12345678901234567890123, "extra": [1E3, {"x": -0.0e-0}]}',
             '{"completion": "\\\\boxed{1}", "answer": 1e3, "gold": null, "w": 2.50}']
    src = tmp_path / "preds.jsonl"
    src.write_text("\n".join(lines) + "\n")
    seen = []
    monkeypatch.setitem(VERIFIERS, "math", lambda completion, item, **kw: seen.append(item["answer"]) or Verdict(False))
    s = verify_file("math", str(src), str(tmp_path / "o.jsonl"), progress=False,
                    score_fn=lambda verify, completions, rows: [verify(c, r) for c, r in zip(completions, rows)])
    assert seen == ["0.12345678901234567890123", "1e3"]
    out = (tmp_path / "o.jsonl").read_text().splitlines()
    for line, written in zip(out, lines):  # each input field's text as written, then the verdict's fields
        assert line.startswith(written[:-1] + ", ") and json.loads(line)["correct"] is False
    assert s["n"] == 2


def test_countdown_item_can_ask_for_every_number_used(tmp_path):
    """check_countdown had use_all, but no item could ask for it: a task whose rule is "each number exactly once"
    (TinyZero's countdown reward) scored an answer using a subset of its numbers correct."""
    reward = get_reward("countdown")
    item = {"numbers": [3, 4, 5], "target": 12}
    assert reward("\\boxed{3 * 4}", item).correct  # at most once, by default
    assert reward("\\boxed{3 * 4}", {**item, "use_all": False}).correct
    v = reward("\\boxed{3 * 4}", {**item, "use_all": True})
    assert not v.correct and v.parts["countdown"]["reason"] == "not all numbers used"
    assert reward("\\boxed{3 * 4 * 5 / 5}", {**item, "numbers": [3, 4, 5, 5], "use_all": True}).correct
    src = tmp_path / "c.jsonl"
    write_jsonl(src, [{"completion": "\\boxed{3 * 4}", **item, "use_all": True}])
    assert verify_file("countdown", str(src), str(tmp_path / "o.jsonl"), progress=False)["correct"] == 0


def test_countdown_item_from_a_pandas_row_can_ask_for_every_number_used():
    """An item built from a pandas row holds NumPy's bool (np.True_), as it holds np.int64 numbers (taken): its
    use_all was refused as "must be true or false, got bool np.True_"."""
    np = pytest.importorskip("numpy")
    reward, item = get_reward("countdown"), {"numbers": [np.int64(3), np.int64(4), np.int64(5)], "target": np.int64(12)}
    v = reward("\\boxed{3 * 4}", {**item, "use_all": np.True_})
    assert not v.correct and v.parts["countdown"]["reason"] == "not all numbers used"
    assert reward("\\boxed{3 * 4}", {**item, "use_all": np.False_}).correct
    with pytest.raises(PonderError, match="field 'use_all' must be true or false, got int64"):
        reward("\\boxed{3 * 4}", {**item, "use_all": np.int64(1)})


def test_verify_file_other_kinds(tmp_path):
    src = tmp_path / "c.jsonl"
    write_jsonl(src, [{"completion": "\\boxed{3 * 4}", "numbers": [3, 4], "target": 12},
                      {"completion": "\\boxed{3 * 3}", "numbers": [3, 4], "target": 9}])
    assert verify_file("countdown", str(src), str(tmp_path / "o.jsonl"), progress=False)["correct"] == 1
    write_jsonl(src, [{"completion": "Hello, World", "constraints": [{"type": "no_commas"}, {"type": "title"}]}])
    s = verify_file("constraints", str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)
    assert s["mean_score"] == 0.0 and read_jsonl(tmp_path / "o.jsonl")[0]["score"] == 0.0
    write_jsonl(src, [{"completion": "```python\nprint(input()[::-1])\n```",
                       "tests": [{"input": "abc", "output": "cba"}]}])
    s = verify_file("code", str(src), str(tmp_path / "o.jsonl"), progress=False)
    assert s["correct"] == 1 and s["reasons"] == {"passed 1/1": 1}


@pytest.mark.parametrize("lines,match", [
    # the row's own column, as --data's loader says it: the line end read with it said "line 2 column 1" of line 3
    (['{"completion": "a", "gold": "1"}', '{"completion": "b", "gold": "2"}', '{"completion": "c", "gold": "3"'],
     r"in\.jsonl:3: invalid JSON: Expecting ',' delimiter \(column 32\)$"),
    # the math gold may be 'answer' too (--help says so): the message names both
    (['{"completion": "a", "gold": "1"}', '{"completion": "b"}'], r"in\.jsonl:2: missing field 'gold' \(or 'answer'\)"),
    (['{"gold": "1"}'], r"in\.jsonl:1: missing field 'completion' \(have: gold\)$"),
    # the fields it has (a 'response' is not the completion), and MATH's worked solution is not taken for the gold
    (['{"problem": "p", "solution": "\\\\boxed{1}", "completion": "1"}'], r"in\.jsonl:1: missing field 'gold' \(or "
     r"'answer'\) \(have: problem, solution, completion\); a worked 'solution' is not read as the gold: put its final "
     r"answer in 'answer'$"),
    # a null gold (pandas' to_json of a missing value) was reported as a "missing field" the row plainly has
    (['{"completion": "b", "gold": null}'], r"in\.jsonl:1: field 'gold' is null \(give the gold, or an 'answer'\)$"),
    (['{"completion": "b", "answer": null}'], r"in\.jsonl:1: field 'answer' is null$"),
    (['{"completion": "b", "gold": null, "answer": null}'], r"in\.jsonl:1: field 'gold' is null \(give the gold, or "
                                                          r"an 'answer'\)$"),
    (['[1, 2]'], r"in\.jsonl:1: expected a JSON object"),
    # json.dump(rows, f) (indented or not) said only "expected a JSON object, got list" or "invalid JSON"
    (['[{"completion": "a", "gold": "1"}]'], r"in\.jsonl:1: expected a JSON object, got list; the file looks like "
                                             r"a JSON array of rows: verify reads JSON Lines \(one object a line\)$"),
    (['[', '  {"completion": "a", "gold": "1"}', ']'], r"in\.jsonl:1: invalid JSON: .*; the file looks like one "
                                                      "JSON document over several lines: verify reads JSON Lines$"),
])
def test_verify_file_bad_input_leaves_nothing_half_written(tmp_path, lines, match):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, [], lines)
    dst.write_text("previous results\n")
    with pytest.raises(PonderError, match=match):
        verify_file("math", str(src), str(dst), progress=False)
    assert dst.read_text() == "previous results\n"
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "out.jsonl"]  # no temp file left behind


def test_verify_file_argument_errors(tmp_path, monkeypatch):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, [{"completion": "x", "gold": "1"}])
    with pytest.raises(PonderError, match="unknown kind 'poetry'"):
        verify_file("poetry", str(src))
    with pytest.raises(PonderError, match="overwrite the input"):
        verify_file("math", str(src), str(src))
    with pytest.raises(PonderError, match="cannot read"):
        verify_file("math", str(tmp_path / "missing.jsonl"))
    # "-" (standard output for data export) wrote a file named "-" into the current directory
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PonderError, match=r"-o - \(standard output\) is not supported"):
        verify_file("math", str(src), "-", progress=False)
    assert not os.path.lexists("-")


def test_verify_file_refuses_an_output_that_links_to_the_input(tmp_path):
    # only the spelled paths were compared: an output that was a symlink to the input, or the input's name in a
    # symlinked folder, went through, and the atomic write replaced the input itself
    (tmp_path / "real").mkdir()
    src = tmp_path / "real" / "in.jsonl"
    write_jsonl(src, [{"completion": "x", "gold": "1"}])
    before = src.read_text()
    (tmp_path / "link.jsonl").symlink_to(src)
    (tmp_path / "linkdir").symlink_to(tmp_path / "real")
    for out in (tmp_path / "link.jsonl", tmp_path / "linkdir" / "in.jsonl"):
        with pytest.raises(PonderError, match="overwrite the input"):
            verify_file("math", str(src), str(out), progress=False)
    assert src.read_text() == before


def test_verify_file_refuses_a_score_fn_that_returns_too_few_verdicts(tmp_path):
    # the rows were zipped with the verdicts: one verdict short (a sharding score_fn that lost a shard) wrote an
    # output missing its last rows, with no error
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, [GOOD_ROWS["math"]] * 3)
    with pytest.raises(PonderError, match="score_fn returned 2 verdicts for 3 rows"):
        verify_file("math", str(src), str(dst), progress=False,
                    score_fn=lambda fn, cs, rows: [fn(c, r) for c, r in zip(cs, rows)][:2])
    assert not dst.exists()


# ---------------------------------------------------------------- gold of the wrong type

GOOD_ROWS = {
    "math": {"completion": "\\boxed{4}", "gold": "4"},
    "countdown": {"completion": "\\boxed{1 + 2}", "numbers": [1, 2], "target": 3},
    "code": {"completion": "```python\ndef f(x): return x\n```", "tests": "assert f(1) == 1"},
    "constraints": {"completion": "hello world", "constraints": [{"type": "word_count", "n": 2}]},
    "format": {"completion": "<think>a</think> \\boxed{1}"},
}


@pytest.mark.parametrize("kind,row,match", [
    ("math", {"completion": "\\boxed{4}", "gold": ["4", "5"]}, "field 'gold' must be text or a number, got list"),
    ("math", {"completion": "\\boxed{4}", "gold": {"a": 1}}, "field 'gold' must be text or a number, got dict"),
    ("math", {"completion": "\\boxed{4}", "gold": True}, "field 'gold' must be text or a number, got bool"),
    ("math", {"completion": "\\boxed{4}", "answer": float("nan")}, "field 'answer' must be a finite number, got nan"),
    ("math", {"completion": "\\boxed{4}", "gold": " "}, "field 'gold' is empty"),
    ("math", {"completion": 42, "gold": "4"}, "field 'completion' must be text, got int"),
    ("math", {"completion": None, "gold": "4"}, "field 'completion' must be text, got null"),
    ("format", {"completion": ["a"]}, "field 'completion' must be text, got list"),
    ("countdown", {"completion": "\\boxed{1+2}", "numbers": [1, 2], "target": "3"},
     "field 'target' must be an integer, got str '3'"),
    ("countdown", {"completion": "\\boxed{1+2}", "numbers": [True, 2], "target": 3}, "field 'numbers' must be"),
    ("countdown", {"completion": "\\boxed{1+2}", "numbers": "1,2", "target": 3}, "field 'numbers' must be"),
    ("countdown", {"completion": "\\boxed{1+2}", "numbers": [], "target": 3}, "field 'numbers' must be a non-empty"),
    ("countdown", {"completion": "\\boxed{5-3}", "numbers": [-3, 5], "target": 2}, "field 'numbers' must be non-negative"),
    ("countdown", {"completion": "\\boxed{1+2}", "numbers": [1, 2], "target": 3, "use_all": "false"},
     "field 'use_all' must be true or false, got str 'false'"),
    ("code", {"completion": "x", "tests": 5}, "field 'tests': expected assert source"),
    ("code", {"completion": "x", "tests": {"a": 1}}, "field 'tests': expected assert source"),
    ("code", {"completion": "x", "tests": "assert f(1) ==", "timeout": 2}, "field 'tests': test 1 is not valid Python"),
    ("code", {"completion": "x", "tests": "assert True", "timeout": "abc"},
     "field 'timeout' must be a number of seconds, got str 'abc'"),
    ("code", {"completion": "x", "tests": "assert True", "timeout": -1}, r"field 'timeout' must be in \(0, 600\]"),
    ("code", {"completion": "x", "tests": "assert True", "float_tol": "1e-6"},
     r"field 'float_tol' must be a number in \[0, 1\] \(0: exact output\), got str '1e-6'"),
    ("constraints", {"completion": "x", "constraints": []}, "field 'constraints' must be a non-empty list"),
    ("constraints", {"completion": "x", "constraints": "word_count"}, "field 'constraints' must be a non-empty list"),
    ("constraints", {"completion": "x", "constraints": {"type": "word_count", "n": 2}},
     "field 'constraints' must be a non-empty list"),
    ("constraints", {"completion": "x", "constraints": [5]}, "field 'constraints': constraint 1: expected a dict"),
    ("constraints", {"completion": "x", "constraints": [{"type": "word_count", "n": "two"}]},
     "field 'constraints': constraint 1 \\(word_count\\): 'n' must be a non-negative integer"),
    ("constraints", {"completion": "x", "constraints": [{"type": "word_count", "min": 5, "max": 1}]},
     "field 'constraints': constraint 1 \\(word_count\\): 'min' 5 > 'max' 1"),
])
def test_verify_file_bad_gold_names_file_line_and_field(tmp_path, kind, row, match):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, [GOOD_ROWS[kind], row])
    with pytest.raises(PonderError, match=r"in\.jsonl:2: " + match):
        verify_file(kind, str(src), str(dst), progress=False)
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl"]  # nothing written


@pytest.mark.parametrize("kind", sorted(GOOD_ROWS))
def test_verify_file_good_rows_of_every_kind(tmp_path, kind):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, [GOOD_ROWS[kind]])
    assert verify_file(kind, str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)["n"] == 1


@pytest.mark.parametrize("text", ["", "\n", "  \n\n"])
def test_verify_file_empty_input_is_an_error(tmp_path, text):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(text)
    with pytest.raises(PonderError, match=f"^{src}: no rows$"):
        verify_file("math", str(src), str(dst), progress=False)
    assert not dst.exists()


def test_verify_file_reads_a_file_that_starts_with_a_bom(tmp_path):
    # Notepad and PowerShell write one; the first row was refused as invalid JSON
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + (json.dumps(GOOD_ROWS["math"]) + "\n").encode())
    s = verify_file("math", str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)
    assert s["n"] == 1 and read_jsonl(tmp_path / "o.jsonl")[0]["completion"] == GOOD_ROWS["math"]["completion"]


def test_verify_file_names_a_bom_inside_the_file(tmp_path):
    # two files joined with cat: the second one's mark was "invalid JSON: Unexpected UTF-8 BOM (decode using
    # utf-8-sig)", advice for Python code; said as the data loaders say it
    one = b"\xef\xbb\xbf" + (json.dumps(GOOD_ROWS["math"]) + "\n").encode()
    src = tmp_path / "in.jsonl"
    src.write_bytes(one + one)
    with pytest.raises(PonderError, match=re.escape(f"{src}:2: a UTF-8 byte-order mark starts this line; only the "
                                                    "file's first line may have one (files joined with cat?)")):
        verify_file("math", str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)


def test_verify_file_deep_nesting_names_the_line(tmp_path):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, [GOOD_ROWS["math"]], ['{"completion": ' + "[" * 100_000 + "]" * 100_000 + ', "gold": "1"}'])
    with pytest.raises(PonderError, match=r"in\.jsonl:2: invalid JSON \(nested too deeply\)"):
        verify_file("math", str(src), str(tmp_path / "out.jsonl"), progress=False)


def test_verify_file_refuses_a_key_given_twice(tmp_path):
    # {"gold": "1", "gold": "2"} was verified against "2" without a word: a traceback-free error naming line and key
    src = tmp_path / "in.jsonl"
    write_jsonl(src, [GOOD_ROWS["math"]], ['{"completion": "4", "gold": "1", "gold": "2"}'])
    with pytest.raises(PonderError, match=r"in\.jsonl:2: duplicate key 'gold' in one JSON object"):
        verify_file("math", str(src), str(tmp_path / "out.jsonl"), progress=False)


@pytest.mark.parametrize("name,item,match", [
    ("math", {"answer": ["4"]}, "reward 'math': field 'answer' must be text or a number, got list"),
    ("math", {"gold": True}, "reward 'math': field 'gold' must be text or a number, got bool"),
    ("countdown", {"numbers": [1, 2], "target": "3"}, "reward 'countdown': field 'target' must be an integer"),
    ("code", {"tests": "assert True", "timeout": "abc"}, "reward 'code': field 'timeout' must be a number of seconds"),
    # an int past float's range: float() raised OverflowError before the range was checked
    ("code", {"tests": "assert True", "timeout": 10**400}, r"reward 'code': field 'timeout' must be in \(0, 600\]"),
    ("code", {"tests": "assert True", "float_tol": -1}, r"reward 'code': field 'float_tol' must be a number in \[0, 1\]"),
    ("constraints", {"constraints": [{"type": "word_count", "min": 5, "max": 1}]},
     r"reward 'constraints': field 'constraints': constraint 1 \(word_count\): 'min' 5 > 'max' 1"),
])
def test_registry_bad_gold_names_verifier_and_field(name, item, match):
    with pytest.raises(PonderError, match=match):
        get_reward(name)("\\boxed{4}", item)


def test_code_item_sets_the_stdio_float_tolerance():
    completion, tests = "```python\nprint(1 / 3)\n```", [{"input": "", "output": "0.333333"}]
    reward = get_reward("code")
    assert [reward(completion, {"tests": tests, **kw}).correct for kw in ({}, {"float_tol": 0})] == [True, False]


def test_an_integer_gold_past_float_range_is_compared_not_a_crash(tmp_path):
    # the finite-number check ran math.isfinite on ints too: a gold of 400 digits (a JSON number) failed every
    # row, and ponder verify, with "OverflowError: int too large to convert to float"
    big = 10**400
    assert get_reward("math")(f"\\boxed{{{big}}}", {"answer": big}).correct
    assert not get_reward("math")("\\boxed{1}", {"answer": 10**5000}).correct  # (past str()'s own digit limit)
    src = tmp_path / "in.jsonl"
    src.write_text(f'{{"completion": "\\\\boxed{{{big}}}", "gold": {big}}}\n')
    assert verify_file("math", str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)["correct"] == 1


def test_verify_output_that_cannot_be_written_is_refused_before_verifying(tmp_path):
    from ponder.errors import PonderError
    from ponder.verify.run import verify_file

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"completion": "\\boxed{2}", "answer": "2"}) + "\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("")
    for out, msg in ((tmp_path / "adir", "is a directory"), (tmp_path / "afile" / "x.jsonl", "is not a directory")):
        with pytest.raises(PonderError, match=msg):
            verify_file("math", str(src), str(out), workers=1, progress=False)


@pytest.mark.parametrize("spec", ["1e400*math", "math+1e999*format", {"math": float("nan")}, {"math": float("inf")},
                                  {"math": 10 ** 400}])
def test_a_weight_that_is_not_finite_is_refused(spec):
    """1e400 parses as inf: every reward would be inf or nan and every GRPO step skipped."""
    with pytest.raises(PonderError, match="not a finite number"):
        get_reward(spec)


def test_a_numpy_weight_is_a_weight():
    """A weight computed with NumPy (np.float32(0.1), np.int64(1)) is a number; it was refused as "must be a
    number, got np.float32(0.1)". A NaN one is still refused, a bool still is no weight."""
    import numpy as np

    assert get_reward({"math": np.int64(1), "format": np.float32(0.25)}).terms == (("math", 1.0), ("format", 0.25))
    with pytest.raises(PonderError, match="not a finite number"):
        get_reward({"math": np.float32("nan")})
    for bad in (np.bool_(True), True, "1"):
        with pytest.raises(PonderError, match="must be a number"):
            get_reward({"math": bad})


def test_numpy_integers_in_an_item_are_integers():
    """An item built from a pandas row holds NumPy scalars (np.int64): countdown refused them as "must be an
    integer, got object np.int64(100)", math as "must be text or a number". A bool is still no number."""
    import numpy as np

    countdown = {"numbers": [np.int64(25), np.int64(4)], "target": np.int64(100)}
    assert get_reward("countdown")("\\boxed{25*4}", countdown).correct
    from ponder.verify.countdown import check_countdown

    assert check_countdown("\\boxed{25*4}", countdown["numbers"], countdown["target"]).correct
    assert get_reward("math")("\\boxed{100}", {"answer": np.int64(100)}).correct
    assert get_reward("math")("\\boxed{0.5}", {"answer": np.float32(0.5)}).correct
    with pytest.raises(PonderError, match="must be an integer, got bool True"):
        get_reward("countdown")("\\boxed{25*4}", {"numbers": [25, 4], "target": True})
    with pytest.raises(PonderError, match=r"must be a non-empty list of integers, got ndarray array"):
        get_reward("countdown")("\\boxed{25*4}", {"numbers": np.array([25, 4]), "target": 100})


DYING_SCORER = r'''
import json, os, signal, sys
from ponder.errors import PonderError
from ponder.verify.registry import parallel_map

def score(completion, item):  # module level: picklable, so it runs in the process pool
    if item.get("die") == "exit":
        os._exit(9)  # as a verifier or a C extension that exits, or the OOM killer's SIGKILL below
    if item.get("die") == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    return completion * 2

def children():  # live or unreaped (zombie) children of this process
    return [c for t in os.listdir("/proc/self/task")
            for c in open(f"/proc/self/task/{t}/children").read().split()]

items = [{} for _ in range(40)]
assert parallel_map(score, list(range(40)), items, workers=2) == [2 * i for i in range(40)]
out = []
for how in ("exit", "kill"):
    items[17] = {"die": how}
    try:
        parallel_map(score, list(range(40)), items, workers=2)
        out.append("no error")
    except PonderError as e:
        out.append(str(e))
print(json.dumps({"errors": out, "children": children()}))
'''


def test_a_scoring_worker_that_dies_is_an_error_not_a_hang(tmp_path):
    # multiprocessing.Pool replaced a dead worker silently and waited forever for the rows it held: `ponder
    # verify` or an RL step hung with no message. Run in a new session, so a hang is bounded and leaves nothing.
    import signal
    import subprocess
    import sys

    script = tmp_path / "dying.py"
    script.write_text(DYING_SCORER)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, start_new_session=True)
    try:
        stdout, stderr = p.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail("parallel_map hung after a worker process died")
    assert p.returncode == 0, stderr
    res = json.loads(stdout)
    exit_err, kill_err = res["errors"]
    assert "scoring worker process died (exit code 9)" in exit_err and "\n" not in exit_err
    assert "scoring worker process died (killed by signal SIGKILL" in kill_err
    for err in (exit_err, kill_err):  # names the rows the dead worker held, row 17 among them
        lo, hi = map(int, re.search(r"rows (\d+)-(\d+)", err).groups())
        assert lo <= 17 <= hi < 40
    assert res["children"] == []  # the other worker was stopped and every worker reaped


def _fails_on_row_17(completion, item):
    if completion == 17:
        return {}["no such key"]
    return completion


def test_an_exception_in_a_scoring_worker_names_its_row_and_its_traceback_there():
    """An exception raised by a verifier or reward function in a worker process came back as a bare
    `raise value` in parallel_map: no row, no frame of the function that raised (workers=1 showed both)."""
    with pytest.raises(KeyError) as info:
        parallel_map(_fails_on_row_17, list(range(40)), [{}] * 40, workers=2)
    cause = str(info.value.__cause__)
    assert "row 17 (0-based) of 40" in cause
    assert "_fails_on_row_17" in cause and 'return {}["no such key"]' in cause


def _item_check(completion, item):
    return item["check"](completion)


def test_parallel_map_scores_items_that_cannot_be_pickled_as_workers_1_does():
    """The forked workers were sent each chunk through a pipe: an item holding a lambda (a custom reward's own
    checker) was a PicklingError with workers > 1, where workers=1 scored it (the workers inherit the items)."""
    items = [{"check": lambda c, k=k: c == k % 3} for k in range(40)]
    want = [c == k % 3 for k, c in enumerate([0, 1, 2, 3] * 10)]
    assert parallel_map(_item_check, [0, 1, 2, 3] * 10, items, workers=2) == want
    assert parallel_map(_item_check, [0, 1, 2, 3] * 10, items, workers=1) == want


def _helper_worker_pid(completion, item):
    from ponder.verify.bounded import WorkerPool

    pool = WorkerPool(max_workers=1)  # left open, as check_math's module-level pool is
    return pool.call("os:getpid", (), 30.0)[1]


def test_parallel_map_leaves_no_helper_process_of_its_workers_behind():
    """A forked scoring worker was SIGKILLed at the end, so the symbolic worker processes it had started (check_math's
    SymPy pool) outlived the call as orphans. Once parallel_map returns, none of them is left."""
    pids = parallel_map(_helper_worker_pid, ["a", "b"], [{}, {}], workers=2)
    assert all(isinstance(p, int) for p in pids)
    assert [p for p in pids if os.path.exists(f"/proc/{p}")] == []


def test_verify_file_reads_gzipped_input_as_the_data_loaders_do(tmp_path):
    """`ponder verify math runs.jsonl.gz` said "not UTF-8 text" where the data loaders read gzip data through;
    a cut gzip stream is one line naming the file."""
    import gzip

    from ponder.verify.run import verify_file

    rows = [{"completion": "\\boxed{4}", "gold": "4"}, {"completion": "\\boxed{5}", "gold": "4"}]
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    summary = verify_file("math", src, tmp_path / "out.jsonl")
    assert (summary["n"], summary["correct"]) == (2, 1)
    assert verify_file("math", str(src))["output"] == str(tmp_path / "in.verified.jsonl")
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(src.read_bytes()[:-12])
    with pytest.raises(PonderError, match=rf"^{re.escape(str(cut))}: cannot read \("):
        verify_file("math", cut, tmp_path / "out2.jsonl")


def test_verify_package_lists_its_lazy_names():
    """dir() (tab completion, help()) lists every public name of ponder.verify, the lazily imported ones too."""
    import ponder.verify as v

    assert set(v.__all__) <= set(dir(v))
    assert all(callable(getattr(v, n)) for n in v.__all__)


def test_verify_file_names_a_fractional_target_as_a_float(tmp_path):
    """A number written with a fraction is read as a float subclass that keeps its text: the error named that
    internal class ("field 'target' must be an integer, got _WrittenFloat 6.0")."""
    src = tmp_path / "in.jsonl"
    write_jsonl(src, [], ['{"completion": "1+2+3", "numbers": [1, 2, 3], "target": 6.0}'])
    with pytest.raises(PonderError, match=r"in\.jsonl:1: field 'target' must be an integer, got float 6\.0$"):
        verify_file("countdown", str(src), str(tmp_path / "o.jsonl"), progress=False)


@pytest.mark.parametrize("line,said", [("6.5", "expected a JSON object, got float"),
                                       ('{"completion": 6.5, "gold": "1"}', "field 'completion' must be text, got float")])
def test_verify_file_names_a_fractional_row_or_completion_as_a_float(tmp_path, line, said):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, [], [line])
    with pytest.raises(PonderError, match=rf"in\.jsonl:1: {said}$"):
        verify_file("math", str(src), str(tmp_path / "o.jsonl"), progress=False)


def test_a_scorer_error_in_a_split_call_names_the_inputs_index_in_the_whole_call():
    """score_split scores the completions of prompts that open the thinking apart from the others: a scorer's
    error said the input's index in its part ("scoring input 2 of 2", the part's second of two), another
    completion of the call. It says the index in the whole call, on the single process and a data-parallel rank."""
    from ponder.distributed import ddp
    from ponder.verify.registry import score_here

    items = [{"id": f"q{i}", "answer": "a"} for i in range(6)]
    del items[5]["answer"]
    opens = [True, False] * 3

    def needs_answer(completion, item):
        return item["answer"] == completion

    for score in (score_here, ddp.DataParallel(1, 2).score_fn()):  # (rank 1 of 2 scores the part's last inputs)
        with pytest.raises(PonderError, match=r"^scoring input 6 of 6 \(item q5\): KeyError: 'answer'$"):
            score_split(score, lambda f: needs_answer, ["a"] * 6, items, opens)
    # not split: as before
    with pytest.raises(PonderError, match=r"^scoring input 6 of 6 \(item q5\): KeyError: 'answer'$"):
        score_split(score_here, lambda f: needs_answer, ["a"] * 6, items, [False] * 6)


def test_a_scoring_error_stays_one_line_for_an_item_id_with_a_line_break():
    """An item id holding a line break split the "scoring input i of n (item ...)" error over two lines."""
    from ponder.verify.registry import score_here

    with pytest.raises(PonderError) as e:
        score_here(lambda c, it: it["gold"], ["a"], [{"id": "q1\nq2"}])
    assert str(e.value) == "scoring input 1 of 1 (item q1\\nq2): KeyError: 'gold'"


@pytest.mark.parametrize("gold", ["does not exist", "The limit does not exist", "no real solutions",
                                  "there is no solution", "not enough information", "cannot be determined",
                                  "Work it out.\n#### does not exist"])
def test_a_gold_in_words_the_math_verifier_cannot_read_is_no_placeholder(gold):
    """check_math_gold refused every gold the math verifier reads no answer from, real ones too: a benchmark with a
    "does not exist" or "no real solutions" answer (the verifier reads none from those words) was refused whole by
    eval, grpo and distill, where it had run with that problem's samples scored "bad gold". Only a gold naming
    nothing (no letter or digit) or boxing nothing is a placeholder."""
    check_math_gold({"answer": gold})
    for placeholder in ("####", "?", "-", "...", "\\boxed{}", "work\n\\boxed{}", "$\\,$", "\\boxed{\\text{}}"):
        with pytest.raises(PonderError, match="in which the math verifier finds no answer"):
            check_math_gold({"answer": placeholder})


def test_verify_file_says_a_parquet_input_is_not_json_lines(tmp_path):
    """Completions saved as Parquet (pandas' to_parquet, a datasets' push) failed with "not UTF-8 text (invalid
    start byte at byte 7)", which names no format; they are refused as Parquet, gzipped or not, with the way on."""
    import gzip

    head = b"PAR1\x15\x04\x15\x80\xd2\x01" + bytes(range(128, 256))
    for name, data in (("c.parquet", head), ("c.jsonl", head), ("c.parquet.gz", gzip.compress(head))):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(PonderError, match=re.escape(f"{tmp_path / name}: Parquet, not JSON Lines: verify reads "
                                                        "one JSON object a line")):
            verify_file("math", str(tmp_path / name), str(tmp_path / "o.jsonl"), workers=1, progress=False)
    assert not (tmp_path / "o.jsonl").exists()


def test_verify_file_refuses_an_output_named_as_another_format(tmp_path):
    """-o scored.parquet (or .csv) wrote JSON Lines under that name, which pandas' read_parquet and every other
    reader of the format then refused; data export refuses such a name, verify did not."""
    src = tmp_path / "c.jsonl"
    src.write_text(json.dumps({"completion": "\\boxed{1}", "answer": "1"}) + "\n")
    for name in ("o.parquet", "o.csv", "o.PARQUET", "o.tsv.gz"):
        with pytest.raises(PonderError, match=re.escape(f"{tmp_path / name}: verify writes JSON Lines; name the "
                                                        "output .jsonl (or .jsonl.gz)")):
            verify_file("math", str(src), str(tmp_path / name), workers=1, progress=False)
        assert not (tmp_path / name).exists()
    for name in ("o.jsonl", "o.jsonl.gz", "o.ndjson", "o.json", "o"):  # (a name with no suffix says no format)
        assert verify_file("math", str(src), str(tmp_path / name), workers=1, progress=False)["correct"] == 1


def test_a_latex_gold_written_with_one_backslash_in_json_is_named(tmp_path):
    """A gold typed into JSON as "\\frac{1}{2}" (one backslash) is read by JSON as a form feed and "rac{1}{2}";
    "\\theta" a tab and "heta", "\\right" a carriage return and "ight", "\\boxed" a backspace and "oxed": every
    completion was scored wrong against it, silently (all 4 of 4 rows "wrong" or "no answer"). Refused, naming
    the row and what the JSON made of the command; a tab, carriage return or new line elsewhere is kept."""
    src = tmp_path / "in.jsonl"
    rows = ['{"completion": "\\\\boxed{\\\\frac{1}{2}}", "answer": "\\frac{1}{2}"}',
            '{"completion": "\\\\boxed{\\\\theta}", "answer": "\\theta"}',
            '{"completion": "\\\\boxed{12}", "answer": "3 \\times 4"}',
            '{"completion": "\\\\boxed{(1,2)}", "answer": "\\\\left(1,2\\right)"}',
            '{"completion": "\\\\boxed{5}", "gold": "\\boxed{5}"}']
    said = ["a form feed (JSON's \\f) before 'rac{1}{2}'", "a tab (JSON's \\t) before 'heta'",
            "a tab (JSON's \\t) before 'imes 4'", "a carriage return (JSON's \\r) before 'ight)'",
            "a backspace (JSON's \\b) before 'oxed{5}'"]
    for i, (row, what) in enumerate(zip(rows, said)):
        src.write_text(row + "\n")
        key = "gold" if i == 4 else "answer"
        with pytest.raises(PonderError, match=re.escape(f"{src}:1: field {key!r} holds {what}: a LaTeX command "
                                                        "written with one backslash, which JSON reads as an escape")):
            verify_file("math", str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)
    with pytest.raises(PonderError, match=re.escape("reward 'math': field 'answer' holds a form feed")):
        get_reward("math").check({"prompt": "p", "answer": "\x0crac{1}{2}"})
    for gold in ("1\t2", "Thus\r\nthe answer is \\boxed{5}", "He sold 24.\n#### 72", "x\nu = 3 so \\boxed{3}",
                 "\\frac{1}{2}", "tab\there", "3\tan apple", "a\to 5", "x\rm = 2"):  # (a word, no command)
        get_reward("math").check({"prompt": "p", "answer": gold})


def test_a_gold_written_past_a_floats_range_is_read_as_written(tmp_path):
    """A JSON number gold of 1e400 (a finite number, as written) was refused as "must be a finite number, got inf":
    float() overflows it. Its text is the gold, in ponder verify as in --data."""
    from ponder.tasks.data import load_dataset

    src = tmp_path / "in.jsonl"
    src.write_text('{"completion": "\\\\boxed{10^{400}}", "answer": 1e400, "prompt": "p"}\n')
    assert verify_file("math", str(src), str(tmp_path / "o.jsonl"), workers=1, progress=False)["correct"] == 1
    assert '"answer": 1e400' in (tmp_path / "o.jsonl").read_text()
    assert load_dataset(src)[0]["answer"] == "1e400"
