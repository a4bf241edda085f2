"""Task generators, splits and dataset loading. Gold answers are recomputed here independently."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter

import pytest

from ponder.errors import PonderError
from ponder.tasks import TASKS, arith, countdown, generate, word
from ponder.tasks.data import export, load_dataset, load_items

# Independent formulas, one per word template, written from the story text (not from word.py's formulas).
WORD_GOLD = {
    "packs_give": lambda n: n["a"] * n["b"] - n["c"],
    "gain_lose": lambda n: n["a"] + n["b"] - n["c"],
    "weekly_savings": lambda n: n["a"] * n["b"] - n["c"],
    "share_equally": lambda n: (n["a"] + n["b"]) // n["c"],
    "garden_rows": lambda n: n["a"] * n["b"] + n["c"],
    "bake_bags": lambda n: (n["a"] * n["b"] - n["c"]) // n["d"],
    "reading_twice": lambda n: n["a"] * 3 + n["b"],
    "bus_stops": lambda n: n["a"] - n["b"] + n["c"] - n["d"],
    "shopping_total": lambda n: n["a"] * n["b"] + n["c"] * n["d"],
    "age_times": lambda n: n["a"] * n["b"] + n["c"],
    "temperature": lambda n: n["a"] + n["b"] - n["c"],
    "laps_meters": lambda n: n["a"] * n["b"] * n["c"],
    "fruit_baskets": lambda n: (n["a"] + n["b"] - n["c"]) // n["d"],
    "toys_change": lambda n: n["a"] - n["b"] * n["c"],
    "lost_found": lambda n: n["a"] - n["b"] + n["b"] * n["c"],
    "book_days": lambda n: (n["a"] - n["b"]) // n["c"],
    "classroom_groups": lambda n: (n["a"] * n["b"] - n["c"]) // n["d"],
}
WORD_DIVIDES = {  # templates whose story divides: the division must come out exact
    "share_equally": lambda n: (n["a"] + n["b"]) % n["c"],
    "bake_bags": lambda n: (n["a"] * n["b"] - n["c"]) % n["d"],
    "fruit_baskets": lambda n: (n["a"] + n["b"] - n["c"]) % n["d"],
    "book_days": lambda n: (n["a"] - n["b"]) % n["c"],
    "classroom_groups": lambda n: (n["a"] * n["b"] - n["c"]) % n["d"],
}


def canon(item: dict) -> str:
    """The documented canonical problem text, rebuilt here."""
    if item["task"] == "arith":
        return item["expr"]
    if item["task"] == "word":
        return item["template"] + "|" + ",".join(f"{k}={v}" for k, v in sorted(item["numbers"].items()))
    return f"{sorted(item['numbers'])}->{item['target']}"


def hashed_split(c: str) -> str:
    return "test" if int.from_bytes(hashlib.sha1(c.encode()).digest()[:8], "big") % 10 == 0 else "train"


@pytest.fixture(scope="module")
def splits():
    return {t: (generate(t, "train", 2000, seed=0), generate(t, "test", 500, seed=0)) for t in TASKS}


# ---------------------------------------------------------------------------------------------- splits


@pytest.mark.parametrize("task", TASKS)
def test_splits_disjoint_and_hash_assigned(splits, task):
    train, test = splits[task]
    tr, te = {canon(x) for x in train}, {canon(x) for x in test}
    assert len(tr) == 2000 and len(te) == 500  # deduplicated within each split
    assert not tr & te
    assert all(hashed_split(canon(x)) == "train" and x["split"] == "train" for x in train)
    assert all(hashed_split(canon(x)) == "test" and x["split"] == "test" for x in test)
    assert len({x["id"] for x in train + test}) == 2500
    # Another seed draws other problems, but never crosses the split.
    other = generate(task, "test", 300, seed=7)
    assert not {canon(x) for x in other} & tr


@pytest.mark.parametrize("task", TASKS)
def test_deterministic_by_seed(task):
    a, b = generate(task, "train", 200, seed=3), generate(task, "train", 200, seed=3)
    assert a == b
    c = generate(task, "train", 200, seed=4)
    assert [x["prompt"] for x in a] != [x["prompt"] for x in c]
    assert generate(task, "train", 50, seed=3) == a[:50]  # a longer list extends a shorter one


@pytest.mark.parametrize("task", TASKS)
def test_items_have_common_fields(splits, task):
    for x in splits[task][1]:
        assert x["task"] == task and x["id"].startswith(task + "-")
        assert x["prompt"].startswith("Problem: ") and x["prompt"].endswith("\nSolution:")
        assert isinstance(x["answer"], str) and x["answer"]
        json.dumps(x)  # exportable


def test_generate_errors():
    with pytest.raises(PonderError, match="unknown task 'gsm'.*arith, word, countdown"):
        generate("gsm")
    with pytest.raises(PonderError, match="n must be a positive integer"):
        generate("arith", n=0)
    with pytest.raises(PonderError, match="n must be a positive integer"):
        generate("arith", n=-3)
    with pytest.raises(PonderError, match="unknown split 'dev'"):
        generate("arith", split="dev")


# ---------------------------------------------------------------------------------------------- arith

_STEP = re.compile(r"^(-?\d+) ([-+*/]) \(?(-?\d+)\)? = (-?\d+)$")


def _check_step(text: str) -> int:
    m = _STEP.match(text)
    assert m, text
    a, op, b, c = int(m[1]), m[2], int(m[3]), int(m[4])
    expected = {"+": a + b, "-": a - b, "*": a * b, "/": a // b if b and a % b == 0 else None}[op]
    assert expected == c, text
    return c


def test_arith_steps_example():
    assert arith.arith_steps("(3 + 4) * 5 - 2") == [("3 + 4 = 7", 7), ("7 * 5 = 35", 35), ("35 - 2 = 33", 33)]
    assert [s for s, _ in arith.arith_steps("2 * 3 + 4 * 5")] == ["2 * 3 = 6", "4 * 5 = 20", "6 + 20 = 26"]
    assert arith.arith_steps("5 - (3 - 10)")[-1] == ("5 - (-7) = 12", 12)


def test_arith_gold_and_steps(splits):
    train, test = splits["arith"]
    for x in train[:500] + test:
        assert x["prompt"] == f"Problem: {x['expr']} = ?\nSolution:"
        gold = eval(x["expr"])  # test-only: Python's own arithmetic is the independent oracle
        assert x["answer"] == str(gold)
        assert len(re.findall(r" [-+*] ", x["expr"])) == x["n_ops"]
        assert 2 <= x["n_ops"] <= 4
        steps = arith.arith_steps(x["expr"])
        assert len(steps) == x["n_ops"]
        values = [_check_step(s) for s, _ in steps]
        assert values == [v for _, v in steps] and values[-1] == gold
        assert all(0 <= v <= 400 for v in values[:-1]) and -200 <= gold <= 400
        assert arith.render(arith.parse(x["expr"])) == x["expr"]  # canonical text is a fixed point


def test_arith_operand_sizes(splits):
    for x in splits["arith"][1]:
        nums = [int(t) for t in re.findall(r"\d+", x["expr"])]
        assert all(1 <= v <= 20 for v in nums)
        for s, _ in arith.arith_steps(x["expr"]):
            m = _STEP.match(s)
            if m[2] == "*":
                assert min(abs(int(m[1])), abs(int(m[3]))) <= 12, s


def test_arith_parse_round_trip_and_errors():
    for e in ["1 + 2 * 3", "(1 + 2) * 3", "3 - (4 - 5)", "3 - 4 - 5", "8 / 2 / 2", "8 / (4 / 2)", "-3 + 4"]:
        assert eval(arith.render(arith.parse(e))) == eval(e)
    assert arith.render(arith.parse("3 + (4 + 5)")) == "3 + (4 + 5)"  # the tree, not just the value
    for bad in ["", "3 +", "(3 + 4", "3 + x", "3 4", "7 / 2", "1 / 0"]:
        with pytest.raises(PonderError):
            arith.evaluate(arith.parse(bad))


# ---------------------------------------------------------------------------------------------- word


def test_word_templates_and_names():
    assert len(word.TEMPLATES) >= 12 and len(word.NAMES) >= 30
    assert set(WORD_GOLD) == set(word.BY_ID), "every template needs an independent formula in this test"


def test_word_gold_independent(splits):
    train, test = splits["word"]
    assert {x["template"] for x in train} == set(word.BY_ID)
    for x in train[:1000] + test:
        n = x["numbers"]
        assert x["answer"] == str(WORD_GOLD[x["template"]](n))
        assert WORD_DIVIDES.get(x["template"], lambda n: 0)(n) == 0
        assert int(x["answer"]) > 0
        assert x["name"] in word.NAMES and x["name"] in x["prompt"]
        for v in n.values():
            assert re.search(rf"\b{v}\b", x["prompt"]), (v, x["prompt"])
        assert word.render(x["template"], n, name=x["name"], obj=x["obj"]) == (x["prompt"], x["answer"])
        assert len(arith.arith_steps(x["expr"])) in (2, 3)


def test_word_render_errors():
    with pytest.raises(PonderError, match="unknown word template"):
        word.render("nope", {"a": 1})
    with pytest.raises(PonderError, match="needs numbers for"):
        word.render("packs_give", {"a": 2, "b": 3})


def test_word_perturb(splits):
    for x in splits["word"][1][:200]:
        p = word.perturb(x, seed=1)
        assert p["template"] == x["template"] and p["name"] == x["name"] and p["obj"] == x["obj"]
        assert p["numbers"] != x["numbers"] and set(p["numbers"]) == set(x["numbers"])
        assert p["answer"] == str(WORD_GOLD[p["template"]](p["numbers"]))
        assert p["split"] == "test" and hashed_split(canon(p)) == "test"
        assert p["perturbed_from"] == x["id"] and p["id"] != x["id"]
        assert word.perturb(x, seed=1) == p
    x = splits["word"][1][0]
    assert len({json.dumps(word.perturb(x, seed=s)["numbers"], sort_keys=True) for s in range(5)}) > 1


# ---------------------------------------------------------------------------------------------- countdown


def test_countdown_gold(splits):
    train, test = splits["countdown"]
    for x in train[:1000] + test:
        nums, target = x["numbers"], x["target"]
        assert 3 <= len(nums) <= 4 and len(set(nums)) == len(nums)
        assert x["prompt"] == (f"Problem: Using the numbers {nums}, make {target}. "
                               "Each number may be used at most once.\nSolution:")
        value = eval(x["answer"])  # test-only oracle
        assert value == target and isinstance(target, int) and target > 0
        used = Counter(int(t) for t in re.findall(r"\d+", x["answer"]))
        assert not used - Counter(nums)
        assert countdown.check(x["answer"], nums, target)
        for _, v in arith.arith_steps(x["answer"]):
            assert v > 0


def test_countdown_check_rejects():
    assert countdown.check("3 * 5 + 7", [3, 5, 7], 22)
    assert countdown.check("(7 + 3) * 5 - 28", [3, 5, 7, 28], 22)
    assert not countdown.check("3 * 5 + 7", [3, 5, 7], 23)  # wrong value
    assert not countdown.check("3 * 5 + 7 + 0", [3, 5, 7], 22)  # a number not given
    assert not countdown.check("5 * 5 - 3", [3, 5, 7], 22)  # a number used twice
    assert not countdown.check("3 * 5 +", [3, 5, 7], 22)  # not an expression
    assert not countdown.check("(7 / 2) * 4", [7, 2, 4], 14)  # inexact division


# ---------------------------------------------------------------------------------------------- data


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_load_jsonl_errors_name_file_and_line(tmp_path):
    p = _write(tmp_path / "d.jsonl", ['{"prompt": "a", "answer": "1"}', "", '{"prompt": "b", "answer": 2', "x"])
    with pytest.raises(PonderError, match=re.escape(f"{p}:3: invalid JSON")):
        load_dataset(p)
    p = _write(tmp_path / "m.jsonl", ['{"prompt": "a", "answer": "1"}', '{"prompt": "b", "x": 1}'])
    with pytest.raises(PonderError, match=re.escape(f"{p}:2: missing field 'answer' (have: prompt, x)")):
        load_dataset(p)
    p = _write(tmp_path / "q.jsonl", ['{"question": "a", "answer": "1"}'])
    with pytest.raises(PonderError, match=re.escape(f"{p}:1: missing field 'prompt' (or 'problem')")):
        load_dataset(p)
    p = _write(tmp_path / "n.jsonl", ['{"prompt": "a", "answer": null}'])
    with pytest.raises(PonderError, match=re.escape(f"{p}:1: field 'answer' is null")):
        load_dataset(p)
    p = _write(tmp_path / "l.jsonl", ["[1, 2]"])
    with pytest.raises(PonderError, match=re.escape(f"{p}:1: expected a JSON object")):
        load_dataset(p)
    p = _write(tmp_path / "e.jsonl", ["", "  "])
    with pytest.raises(PonderError, match="empty dataset"):
        load_dataset(p)
    with pytest.raises(PonderError, match="no such file"):
        load_dataset(tmp_path / "missing.jsonl")
    with pytest.raises(PonderError, match="unsupported format '.csv'"):
        load_dataset(_write(tmp_path / "x.csv", ["a,b"]))


def test_load_math500_layout(tmp_path):
    row = {"problem": "What is $1+1$?", "solution": "It is $2$.", "answer": "2", "subject": "Algebra",
           "level": 1, "unique_id": "test/algebra/1.json"}
    p = _write(tmp_path / "math500.jsonl", [json.dumps(row), json.dumps({**row, "unique_id": "u2", "answer": 5})])
    items = load_dataset(p)
    assert items[0]["prompt"] == row["problem"]
    assert items[0]["id"] == "test/algebra/1.json" and items[0]["task"] == "math"
    assert {k: items[0][k] for k in row} == row  # every original field kept
    assert items[1]["answer"] == "5"
    assert len(load_dataset(p, limit=1)) == 1
    custom = load_dataset(p, prompt_field="solution", answer_field="level")
    assert custom[0]["prompt"] == "It is $2$." and custom[0]["answer"] == "1"


def test_export_round_trip_and_load_items(tmp_path):
    items = generate("word", "test", 20, seed=0)
    out = export(items, tmp_path / "sub" / "word.jsonl")
    assert [f for f in os.listdir(out.parent)] == ["word.jsonl"]  # no temp file left behind
    back = load_dataset(out)
    assert back == items  # fields, task name and ids survive
    export(items[:3], out)  # overwrite in place
    assert len(load_items(str(out))) == 3
    assert load_items("arith", split="test", n=5, seed=2) == generate("arith", "test", 5, seed=2)
    assert len(load_items(str(out), n=2)) == 2
    with pytest.raises(PonderError, match="neither a task"):
        load_items(str(tmp_path / "nope.jsonl"))


def test_load_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [{"problem": "p1", "answer": "1", "unique_id": "a"}, {"problem": "p2", "answer": "2", "unique_id": "b"}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    items = load_dataset(tmp_path / "d.parquet")
    assert [(x["prompt"], x["answer"], x["id"]) for x in items] == [("p1", "1", "a"), ("p2", "2", "b")]
    pq.write_table(pa.Table.from_pylist([{"problem": "p1", "x": 1}]), tmp_path / "m.parquet")
    with pytest.raises(PonderError, match=re.escape("m.parquet:row 1: missing field 'answer'")):
        load_dataset(tmp_path / "m.parquet")


# ---- bad dataset files: one PonderError naming FILE[:LINE] and the field --------------------------------


def test_load_dataset_not_utf8_names_the_byte(tmp_path):
    p = tmp_path / "latin.jsonl"
    p.write_bytes(b'{"prompt": "a", "answer": "1"}\n{"prompt": "caf\xe9", "answer": "2"}\n')
    with pytest.raises(PonderError, match=re.escape(f"{p}: not UTF-8 text (byte 46)")):
        load_dataset(p)


def test_load_dataset_directory_is_not_missing(tmp_path):
    d = tmp_path / "data.jsonl"
    d.mkdir()
    with pytest.raises(PonderError, match=re.escape(f"{d}: is a directory")):
        load_dataset(d)
    with pytest.raises(PonderError, match=re.escape(f"{d}: is a directory")):
        load_items(str(d))


def test_load_dataset_deep_nesting_names_file_and_line(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    p = _write(tmp_path / "deep.jsonl", ['{"prompt": "a", "answer": "1"}', '{"prompt": "x", "answer": ' + deep + "}"])
    with pytest.raises(PonderError, match=re.escape(f"{p}:2: invalid JSON: nested too deeply")):
        load_dataset(p)
    p = _write(tmp_path / "deep.json", ["[" + deep + "]"])
    with pytest.raises(PonderError, match=re.escape(f"{p}:1: invalid JSON: nested too deeply")):
        load_dataset(p)


def test_load_dataset_lone_surrogate_names_line_and_field(tmp_path):
    p = _write(tmp_path / "s.jsonl", ['{"prompt": "1+1=", "answer": "2"}', '{"prompt": "1+1=\\ud800", "answer": "2"}'])
    with pytest.raises(PonderError, match=re.escape(f"{p}:2: field 'prompt' holds a lone surrogate")):
        load_dataset(p)
    p = _write(tmp_path / "a.jsonl", ['{"problem": "1+1=", "answer": "\\udfff"}'])
    with pytest.raises(PonderError, match=re.escape(f"{p}:1: field 'answer' holds a lone surrogate")):
        load_dataset(p)


@pytest.mark.parametrize("answer,what", [
    ('["2"]', "must be text or a number, got list"), ('{"v": 2}', "must be text or a number, got dict"),
    ("true", "must be text or a number, got bool"), ("NaN", "must be a finite number, got nan"),
    ("Infinity", "must be a finite number, got inf"), ('""', "is empty"), ('"  "', "is empty"),
])
def test_load_dataset_answer_of_the_wrong_type(tmp_path, answer, what):
    p = _write(tmp_path / "d.jsonl", ['{"prompt": "1+1=", "answer": "2"}', '{"prompt": "1+1=", "answer": ' + answer + "}"])
    with pytest.raises(PonderError, match=re.escape(f"{p}:2: field 'answer' {what}")):
        load_dataset(p)
    p = _write(tmp_path / "c.jsonl", ['{"q": "1+1=", "gold": ' + answer + "}"])  # custom fields are named too
    with pytest.raises(PonderError, match=re.escape(f"{p}:1: field 'gold' {what}")):
        load_dataset(p, prompt_field="q", answer_field="gold")


def test_load_dataset_numbers_are_answers(tmp_path):
    p = _write(tmp_path / "n.jsonl", ['{"prompt": "a", "answer": 2}', '{"prompt": "b", "answer": 2.5}',
                                      '{"prompt": "c", "answer": -3}'])
    assert [x["answer"] for x in load_dataset(p)] == ["2", "2.5", "-3"]


def test_export_round_trip_keeps_line_separator_characters(tmp_path):
    # json.dumps(ensure_ascii=False) writes U+2028 / U+0085 unescaped: lines end at "\n" only
    items = [{"prompt": "a\u2028b", "answer": "1", "id": "x", "task": "math"},
             {"prompt": "c\x85d\u2029", "answer": "2", "id": "y", "task": "math"},
             {"prompt": "e", "answer": "3", "id": "z", "task": "math"}]
    out = export(items, tmp_path / "sep.jsonl")
    assert load_dataset(out) == items
    with open(out, "a", encoding="utf-8") as f:
        f.write('{"prompt": "f"}\n')
    with pytest.raises(PonderError, match=re.escape(f"{out}:4: missing field 'answer'")):
        load_dataset(out)


def test_an_id_of_zero_is_kept(tmp_path):
    p = tmp_path / "z.jsonl"
    p.write_text(json.dumps({"id": 0, "prompt": "a", "answer": "1"}) + "\n")
    assert load_dataset(p)[0]["id"] == "0"


def test_a_split_too_small_for_n_fails_soon(monkeypatch):
    """n beyond the distinct problems of a split used to spin through 50 n + 10,000 duplicate draws before
    failing (countdown test, n=100000: about half an hour); now it stops once the missing ones are out of reach."""
    import random
    import types

    import ponder.tasks as tasks

    draws = []

    def sample(rng: random.Random) -> dict:  # 40 problems in all
        draws.append(1)
        k = rng.randrange(40)
        return {"prompt": f"p{k}", "answer": str(k)}

    small = types.SimpleNamespace(sample=sample, canonical=lambda it: it["prompt"])
    monkeypatch.setitem(tasks._MODULES, "arith", small)
    n_train = sum(tasks.split_of(f"p{k}") == "train" for k in range(40))
    assert len(generate("arith", "train", n_train, seed=0)) == n_train  # every one of them can still be had
    draws.clear()
    with pytest.raises(PonderError, match=f"too few distinct train problems for n=1000 \\(found {n_train}\\)"):
        generate("arith", "train", 1000, seed=0)
    assert len(draws) < 5_000  # the old bound: 60,000 duplicates
