from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pytest

from ponder.errors import PonderError
from ponder.probes import (
    contamination_verdict,
    distinct_n,
    embedding_similarity,
    format_contamination,
    format_diversity,
    inter_model_homogeneity,
    intra_model_homogeneity,
    iter_texts,
    lcs_length,
    ngram_overlap,
    normalize_words,
    pairwise_similarity,
    perturbation_probe,
    prefix_completion_probe,
    rouge_l,
    self_bleu,
)

PROBLEMS = [
    "Mia buys 4 packs of stickers with 6 stickers in each pack. Then Mia gives away 5 stickers. "
    "How many stickers does Mia have now?",
    "Noah has 30 marbles. A friend gives Noah 12 more marbles, and then Noah loses 7 of them. "
    "How many marbles does Noah have now?",
    "Ava saves 15 dollars every week for 6 weeks and then spends 40 dollars on a game. "
    "How many dollars does Ava have left?",
    "A baker makes 9 trays of cookies with 12 cookies on each tray and sells 50 cookies. "
    "How many cookies are left?",
]


def test_normalize_words():
    assert normalize_words("Mia's 3.5 kg, x+y=3!  OK_go") == ["mia", "s", "3", "5", "kg", "x", "y", "3", "ok", "go"]


# ------------------------------------------------------------------------------------------ ROUGE-L


def test_rouge_l_known_values():
    assert rouge_l("the cat on the mat", "the cat sat on the mat") == pytest.approx(10 / 11)
    # LCS("a b c d", "a c b d") = 3 -> P = R = F = 3/4
    assert rouge_l("a b c d", "a c b d") == pytest.approx(0.75)
    assert rouge_l("x y z", "a b c") == 0.0
    assert rouge_l("Same TEXT!", "same text") == 1.0
    assert rouge_l("", "") == 1.0 and rouge_l("a", "") == 0.0
    # beta weights recall: a short exact prefix has P=1, R=1/4
    assert rouge_l("a", "a b c d", beta=2.0) == pytest.approx(5 * 0.25 / (0.25 + 4 * 1.0))


def test_lcs_against_brute_force():
    rng = random.Random(0)
    from itertools import combinations

    def brute(a, b):
        for k in range(min(len(a), len(b)), 0, -1):
            subs = {tuple(a[i] for i in idx) for idx in combinations(range(len(a)), k)}
            if any(tuple(b[i] for i in idx) in subs for idx in combinations(range(len(b)), k)):
                return k
        return 0

    for _ in range(60):
        a = [rng.choice("abc") for _ in range(rng.randint(0, 7))]
        b = [rng.choice("abc") for _ in range(rng.randint(0, 7))]
        assert lcs_length(a, b) == brute(a, b) == lcs_length(b, a)


def test_lcs_matches_plain_dp():
    # lcs_length is bit-parallel; this is the textbook DP it must equal exactly, on every input
    def dp(a, b):
        prev = [0] * (len(b) + 1)
        for x in a:
            cur = [0]
            for j, y in enumerate(b):
                cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
            prev = cur
        return prev[-1]

    rng = random.Random(0)
    cases = [([], []), ([], ["a"]), (["a"] * 60, ["a"] * 60), (["a"] * 60, ["b"] * 60), (["a"] * 3, ["a"] * 60),
             (list("abcab" * 12), list("abcab" * 12)), (list("abab"), list("cdcd"))]
    for _ in range(300):
        alphabet = "abcdefgh"[: rng.randint(1, 8)]
        a = [rng.choice(alphabet) for _ in range(rng.randint(0, 60))]
        b = [rng.choice(alphabet) for _ in range(rng.randint(0, 60))]
        cases.append((a, b))
        cases.append((a, a[rng.randint(0, len(a)):] + b))  # shared material: long LCS
    for a, b in cases:
        assert lcs_length(a, b) == dp(a, b) == lcs_length(b, a), (a, b)
        assert lcs_length(a, a) == len(a)


def test_rouge_l_values_pinned():
    # values from the former O(n*m) DP implementation
    ex = [("the quick brown fox jumps over the lazy dog and the cat",
           "a quick brown dog jumps over the lazy fox while the cat sleeps", 0.64, 0.625),
          ("so x = 3, then 2x = 6. so the answer is 6.", "we have x = 3 so 2x = 6 and the answer is 6",
           0.6956521739130435, 0.6779661016949153),
          ("a a a b b b a a", "b a b a b a b a a b", 0.6666666666666665, 0.625),
          ("first let us compute the sum step by step then check the sum again",
           "let us check the sum first then compute it step by step", 0.5384615384615384, 0.5645161290322581)]
    for c, r, f1, f2 in ex:
        assert rouge_l(c, r) == f1 and rouge_l(c, r, beta=2.0) == f2


# ------------------------------------------------------------------------------------ n-gram overlap


def test_ngram_overlap_flags_only_copied_items():
    words = [f"w{i}" for i in range(40)]
    train = ["intro text " + " ".join(words[5:18]).upper() + ", then more", "unrelated words entirely here"]
    bench = [" ".join(words[:20]), " ".join(words[20:40]), "too short"]
    res = ngram_overlap(iter(train), bench, n=13)
    assert res["flags"] == [True, False, False]
    assert res["fraction"] == pytest.approx(1 / 2)  # of the 2 items long enough to check
    assert res["too_short"] == [2] and res["n_train_texts"] == 2 and res["n_checked"] == 2
    assert res["example"][0] == " ".join(words[5:18])
    # 12 copied words are not a 13-gram but are an 8-gram.
    train12 = [" ".join(words[25:37])]
    assert ngram_overlap(train12, bench, n=13)["n_flagged"] == 0
    assert ngram_overlap(train12, bench, n=8)["flags"] == [False, True, False]
    with pytest.raises(PonderError, match="no benchmark items"):
        ngram_overlap(train, [], n=13)


def test_ngram_overlap_ignores_boilerplate_in_many_training_texts():
    stock = "please solve the following problem step by step and give the final answer now"  # 14 words
    bench = [f"{stock} {i} apples and {i} pears" for i in range(3)]
    train = [f"{stock} other problem {j}" for j in range(6)]
    res = ngram_overlap(train, bench, n=13)  # in 6 of 6 texts > max(5, 1%): boilerplate
    assert res["n_flagged"] == 0 and res["n_boilerplate"] == 2 and res["max_doc_freq"] == 5
    res = ngram_overlap(train[:5], bench, n=13)  # in 5 texts: not above the limit, still evidence
    assert res["n_flagged"] == 3 and res["n_boilerplate"] == 0
    # A verbatim copy among the boilerplate texts is flagged by its own n-grams.
    res = ngram_overlap([*train, "seen: " + bench[1]], bench, n=13)
    assert res["flags"] == [False, True, False] and res["example"][1].endswith("1 apples and 1 pears")
    assert contamination_verdict(overlap=res)["evidence"]["overlap"]["n_boilerplate"] == 2


def test_ngram_overlap_names_a_bad_boilerplate_setting_before_reading_the_training_texts():
    """A boilerplate_share of text or a boilerplate_min_docs of None was a bare TypeError, raised only once the whole
    training file had been streamed."""
    read = []

    def train():
        read.append(1)
        yield "a b c"

    for kw, msg in ((dict(boilerplate_share="1%"), "boilerplate_share='1%' must be a number in [0, 1]"),
                    (dict(boilerplate_share=2.0), "boilerplate_share=2.0 must be a number in [0, 1]"),
                    (dict(boilerplate_share=float("nan")), "boilerplate_share=nan must be a number in [0, 1]"),
                    (dict(boilerplate_min_docs=None), "boilerplate_min_docs=None must be an integer >= 0"),
                    (dict(boilerplate_min_docs=-1), "boilerplate_min_docs=-1 must be an integer >= 0")):
        with pytest.raises(PonderError, match=re.escape(f"ngram_overlap: {msg}")):
            ngram_overlap(train(), ["a b c"], n=2, **kw)
    assert not read
    assert ngram_overlap(train(), ["a b c"], n=2, boilerplate_min_docs=np.int64(0), boilerplate_share=0)["n_flagged"] == 1


def test_ngram_overlap_flags_an_item_repeated_in_more_texts_than_the_boilerplate_limit():
    """A distillation of leaked test prompts keeping 8 traces each holds every problem in 8 rows: each of its
    n-grams was in more texts than the boilerplate limit (5), ignored, and the whole test set read "0 of 50"."""
    from ponder.tasks import generate

    test = [it["prompt"] for it in generate("word", "test", 10, seed=0)]
    other = [" ".join(f"w{i}" for i in range(j, j + 20)) for j in range(5)]  # items not in the training texts
    train = [f"unrelated training text number {j}" for j in range(300)]
    distilled = [f"{p} step {j}. The answer is 1." for p in test for j in range(8)]
    res = ngram_overlap([*train, *distilled], [*test, *other], n=13)
    assert res["flags"] == [True] * 10 + [False] * 5 and res["n_boilerplate"] > 0
    assert all(res["example"][i] in " ".join(normalize_words(test[i])) for i in range(10))
    # (an item that shares only some of its n-grams, all of them boilerplate, is still not flagged)
    partial = ngram_overlap([*train, *distilled], [test[0] + " and then eleven more unseen words follow here"])
    assert partial["n_flagged"] == 0


def test_the_overlap_of_templated_problems_is_judged_against_their_perturbed_copies(tmp_path, monkeypatch):
    """A word problem shares its template's wording, a name and a number with other problems of its template: a
    clean word train split shared a 13-gram with 33-79% of the word test set, and the verdict read
    "contaminated". With perturbed copies (unseen problems of the same templates) the overlap is their excess."""
    from types import SimpleNamespace

    import ponder.engine
    from ponder.probes import run_contamination_probe
    from ponder.tasks import generate

    monkeypatch.setattr(ponder.engine, "sample", lambda model, tok, prompts, n=1, **k: [
        [SimpleNamespace(text="zzz", finish_reason="stop")] for _ in prompts])
    test = generate("word", "test", 40, seed=0)
    clean = tmp_path / "clean.jsonl"
    clean.write_text("".join(json.dumps(it) + "\n" for it in generate("word", "train", 600, seed=0)))
    res = run_contamination_probe(None, None, test, train_file=clean, fractions=(0.6,))
    assert res["overlap"]["fraction"] > 0.2  # raw: template wording, kept in the result
    assert not res["contaminated"] and res["overlap_calibrated"]["fraction_p"] > 0.1, res["reasons"]
    assert "overlap" in res["multiple_testing"]["tests"] and "overlap" not in res["multiple_testing"]["untested"]
    assert "training-file overlap (excess over perturbed copies)" in format_contamination(res)
    leaked = tmp_path / "leaked.jsonl"
    leaked.write_text(clean.read_text() + "".join(json.dumps(it) + "\n" for it in test))
    res = run_contamination_probe(None, None, test, train_file=leaked, fractions=(0.6,))
    assert res["contaminated"] and any("than their perturbed copies have of theirs" in r for r in res["reasons"])


@pytest.mark.parametrize("n_leaked, ngram", [(40, 8), (12, 13)])
def test_a_leaked_templated_item_is_seen_though_its_copy_shares_the_template_wording(n_leaked, ngram, tmp_path,
                                                                                      monkeypatch):
    """The excess over perturbed copies paired items on whether each shared any n-gram with the training file: a
    test item copied word for word whose copy shared its template's wording with other training problems counted
    for nothing. The whole word test set appended to a clean train split read "0 of 40 flagged, excess 0.0%,
    contaminated: False" at --ngram 8, 12 of its 40 problems "not contaminated" at 13-grams. Each item's own
    n-grams (those its copy lacks: its numbers') are now weighed against its copy's own."""
    from types import SimpleNamespace

    import ponder.engine
    from ponder.probes import run_contamination_probe
    from ponder.tasks import generate

    monkeypatch.setattr(ponder.engine, "sample", lambda model, tok, prompts, n=1, **k: [
        [SimpleNamespace(text="zzz", finish_reason="stop")] for _ in prompts])
    test = generate("word", "test", 40, seed=0)
    leaked = tmp_path / "leaked.jsonl"
    leaked.write_text("".join(json.dumps(it) + "\n" for it in [*generate("word", "train", 600, seed=0),
                                                                *test[:n_leaked]]))
    res = run_contamination_probe(None, None, test, train_file=leaked, fractions=(0.6,), ngram_n=ngram)
    assert res["overlap"]["flags"][:n_leaked] == [True] * n_leaked  # (raw: every leaked item shares an n-gram)
    assert res["overlap_calibrated"]["fraction"] >= 0.2 and res["overlap_calibrated"]["fraction_p"] < 0.01
    assert res["contaminated"], res["evidence"]["overlap"]


def test_ngram_overlap_rate_is_over_the_items_it_can_check():
    """Items shorter than n words cannot be checked: counting them as clean made arith (5 words a problem)
    read "0 of 50 flagged, 0.0%" against a training file holding every one of them."""
    from ponder.tasks import generate

    arith = [it["prompt"] for it in generate("arith", "test", 50, seed=0)]
    res = ngram_overlap(arith, arith, n=13)
    assert res["n_checked"] == 0 and res["fraction"] is None
    v = contamination_verdict(overlap=res)
    assert not v["contaminated"] and v["evidence"]["overlap"]["n_checked"] == 0
    assert "not checked: all 50 problems are shorter than 13 words" in format_contamination(v)
    # One long item, copied, among 39 short ones: 1 of 1 checked, not 1 of 40 (2.5%, under the 5% threshold).
    long = " ".join(f"w{i}" for i in range(20))
    res = ngram_overlap([long], [long, *arith[:39]], n=13)
    assert (res["n_flagged"], res["n_checked"], res["fraction"]) == (1, 1, 1.0)
    v = contamination_verdict(overlap=res)
    assert v["contaminated"] and "1 of 1 item (" in v["reasons"][0]  # (it read "1 of 1 items")
    assert "39 shorter than 13 words not checked" in format_contamination(v)


def test_ngram_overlap_flags_a_leaked_word_item(tmp_path):
    from ponder.tasks import generate

    train = generate("word", "train", 300, seed=0)
    test = generate("word", "test", 50, seed=0)
    f = tmp_path / "train.jsonl"
    f.write_text("".join(json.dumps({"prompt": it["prompt"], "answer": it["answer"]}) + "\n"
                         for it in [*train[:150], test[7], *train[150:]]))
    res = ngram_overlap(iter_texts(f), [it["prompt"] for it in test], n=13)
    assert res["flags"][7] and res["n_train_texts"] == 301


def test_a_training_file_read_as_too_few_texts_for_the_boilerplate_rule_says_so(tmp_path):
    """A plain-text file of one document a line is one paragraph, one text: no n-gram can then be in more texts
    than the boilerplate limit, so template wording shared by every line counts as a copy (the item below is
    flagged against the .txt, not against the same lines as JSONL), and nothing said how the file was read."""
    from ponder.probes import _paired_overlap

    docs = [f"Ann has {i + 3} apples. How many apples are there now in the big basket that sits on the old kitchen "
            "table?" for i in range(300)]
    (tmp_path / "c.txt").write_text("\n".join(docs) + "\n")
    (tmp_path / "c.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in docs))
    bench = ["Zed has 910 apples. How many apples are there now in the big basket that sits on the old kitchen table?"]
    txt, jsonl = (ngram_overlap(iter_texts(tmp_path / f), bench) for f in ("c.txt", "c.jsonl"))
    assert (txt["n_train_texts"], txt["n_flagged"], jsonl["n_flagged"]) == (1, 1, 0)
    shown = format_contamination(contamination_verdict(overlap=txt))
    assert "the training file was read as 1 text, too few for the boilerplate rule" in shown
    assert "read as" not in format_contamination(contamination_verdict(overlap=jsonl))
    paired = _paired_overlap(txt, txt, ([1.0], [0.0]))  # (the item's own n-grams in the file, its copy's not)
    assert "read as 1 text," in format_contamination(contamination_verdict(overlap=paired))


def test_iter_texts_reads_jsonl_json_and_plain(tmp_path):
    p = tmp_path / "train.jsonl"
    p.write_text(json.dumps({"prompt": "a b", "completion": "c d", "n": 3}) + "\n\n" + json.dumps({"text": "e"}) + "\n")
    assert list(iter_texts(p)) == ["a b\nc d", "e"]
    j = tmp_path / "train.json"
    j.write_text(json.dumps([{"q": "x", "meta": {"s": "y"}}, "z"]))
    assert list(iter_texts(j)) == ["x\ny", "z"]
    t = tmp_path / "train.txt"
    t.write_text("one\ntwo\n\n\nthree\n")
    assert list(iter_texts(t)) == ["one\ntwo\n", "three\n"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n{oops\n')
    with pytest.raises(PonderError, match="bad.jsonl:2"):
        list(iter_texts(bad))
    with pytest.raises(PonderError, match="not found"):
        list(iter_texts(tmp_path / "missing.txt"))


def test_iter_texts_reads_parquet_rows(tmp_path):
    """A Parquet training file was read as plain text: its compressed pages matched 2 of 30 benchmark items
    that every row held verbatim."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from ponder.tasks import generate

    items = generate("word", "test", 30, seed=0)
    rows = [{"prompt": it["prompt"], "answer": it["answer"], "messages": [{"content": it["expr"]}]} for it in items]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "train.parquet")
    texts = list(iter_texts(tmp_path / "train.parquet"))
    assert texts[0] == "\n".join([items[0]["prompt"], items[0]["answer"], items[0]["expr"]])
    res = ngram_overlap(iter(texts), [it["prompt"] for it in items])
    assert res["n_flagged"] == 30 and res["n_train_texts"] == 30
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(PonderError, match="bad.parquet: cannot read Parquet"):
        list(iter_texts(tmp_path / "bad.parquet"))


def test_iter_texts_reads_what_data_export_writes(tmp_path):
    """`ponder data export -o train.jsonl.gz` (gzipped) was read as plain text: one garbled paragraph, so a
    probe found no overlap at all; .ndjson and .JSONL were one paragraph too, and a non-UTF-8 line was a
    UnicodeDecodeError naming no file."""
    import gzip

    from ponder.tasks import generate
    from ponder.tasks.data import export

    items = generate("word", "train", 12, seed=0)
    problems = [it["prompt"] for it in items]
    export(items, tmp_path / "train.jsonl.gz")
    jsonl = "".join(json.dumps(it) + "\n" for it in items)
    (tmp_path / "train.ndjson").write_text(jsonl)
    (tmp_path / "train.JSONL").write_text(jsonl)
    (tmp_path / "train.json.gz").write_bytes(gzip.compress(json.dumps(problems).encode()))
    (tmp_path / "train.txt.gz").write_bytes(gzip.compress("\n\n".join(problems).encode()))
    for name in ("train.jsonl.gz", "train.ndjson", "train.JSONL", "train.json.gz", "train.txt.gz"):
        res = ngram_overlap(iter_texts(tmp_path / name), problems)
        assert (res["n_train_texts"], res["n_flagged"]) == (12, 12), name
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": "a b"}).encode() + b"\n")
    assert list(iter_texts(bom)) == ["a b"]
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(PonderError, match="latin.jsonl:2: not UTF-8"):
        list(iter_texts(latin))


def test_iter_texts_reads_json_lines_with_old_mac_line_ends_as_load_items_does(tmp_path):
    """A JSON Lines file with "\r" line ends, which load_items (and so --data) reads, was refused as a --train-file:
    "invalid JSON (Extra data)" at line 1."""
    from ponder.tasks.data import load_items

    rows = [{"prompt": "a b", "answer": "1"}, {"prompt": "c\rd", "answer": "2"}]  # (a "\r" in a string: escaped)
    for name, end in (("lf.jsonl", "\n"), ("cr.jsonl", "\r"), ("crlf.jsonl", "\r\n")):
        (tmp_path / name).write_text("".join(json.dumps(r) + end for r in rows), newline="")
        assert [it["prompt"] for it in load_items(tmp_path / name)] == ["a b", "c\rd"]
        assert list(iter_texts(tmp_path / name)) == ["a b\n1", "c\rd\n2"], name
    (tmp_path / "bad.jsonl").write_text('{"a": "x"}\r{"b": \r', newline="")
    with pytest.raises(PonderError, match=r"bad.jsonl:2: invalid JSON"):
        list(iter_texts(tmp_path / "bad.jsonl"))


def test_iter_texts_reads_json_lines_named_json(tmp_path):
    """datasets' to_json() writes JSON Lines under a .json name, which load_items reads; iter_texts parsed the
    file as one document and failed with "invalid JSON (Extra data)"."""
    j = tmp_path / "train.json"
    j.write_text(json.dumps({"prompt": "a b", "answer": "1"}) + "\n" + json.dumps({"prompt": "c"}) + "\n")
    assert list(iter_texts(j)) == ["a b\n1", "c"]
    (tmp_path / "bad.json").write_text('{"prompt": "a"}\n{oops\n')
    with pytest.raises(PonderError, match="bad.json:2: invalid JSON"):
        list(iter_texts(tmp_path / "bad.json"))


def test_iter_texts_names_the_line_of_a_too_deep_or_too_long_value(tmp_path):
    """A JSON Lines row nested too deeply or holding an integer past Python's 4300 digits failed, after all the
    probe's sampling, as a bare RecursionError or ValueError naming no file or line."""
    for name, value in (("deep.jsonl", "[" * 100_000 + "]" * 100_000), ("long.jsonl", "9" * 5000)):
        (tmp_path / name).write_text('{"a": "b"}\n{"a": ' + value + "}\n")
        with pytest.raises(PonderError, match=f"{name}:2: invalid JSON"):
            list(iter_texts(tmp_path / name))


# ------------------------------------------------------------------------------------ prefix probe


def _reciter(problems):
    """A 'model' that memorised the problems: continues any prefix of a known problem verbatim."""

    def gen(prompts):
        out = []
        for p in prompts:
            full = next((q for q in problems if q.startswith(p)), None)
            out.append(full[len(p):] + " Solution: 42" if full else "I do not know.")
        return out

    return gen


def test_prefix_probe_reciting_vs_clean_model():
    rec = prefix_completion_probe(_reciter(PROBLEMS), PROBLEMS)
    assert set(rec["fractions"]) == {"0.4", "0.6", "0.8"}
    for fr in rec["fractions"].values():
        assert fr["exact_match"] == 1.0 and fr["rouge_l"]["mean"] == 1.0 and fr["n"] == len(PROBLEMS)
    clean = prefix_completion_probe(lambda ps: ["and then the story continues differently ." for _ in ps], PROBLEMS)
    for fr in clean["fractions"].values():
        assert fr["exact_match"] == 0.0 and fr["rouge_l"]["mean"] < 0.3
    it = rec["items"][0]
    assert it["prefix"] + " " + it["truth"] == " ".join(PROBLEMS[it["index"]].split())
    v = contamination_verdict(prefix=rec)
    assert v["contaminated"] and any("prefix" in r for r in v["reasons"])
    assert not contamination_verdict(prefix=clean)["contaminated"]


@pytest.mark.parametrize("kw,match", [
    (dict(model_generate="tiny"), "model_generate must be a function, got 'tiny'"),
    (dict(model_generate=lambda ps: None), "model_generate returned NoneType None, not a list of texts"),
    (dict(model_generate=lambda ps: [None] * len(ps)), "model_generate's output\\[0\\] is NoneType None, not text"),
    (dict(fractions=0.6), "fractions must be a list of numbers in \\(0, 1\\), got 0.6"),
    (dict(fractions=()), "no fractions"),
    (dict(seed=None), "seed must be an integer in \\[0, 2\\*\\*63\\), got None"),
])
def test_prefix_probe_refuses_bad_arguments_before_generating(kw, match):
    """A model_generate that is no function or returns no list of texts, and one fraction given as a number, were
    bare TypeErrors / AttributeErrors; no fractions ran nothing and returned empty results; a None seed was refused
    by the intervals once every prefix had been generated. Each is one line naming the argument."""
    calls = []
    args = dict(model_generate=lambda ps: calls.append(1) or ["x"] * len(ps), problems=PROBLEMS) | kw
    with pytest.raises(PonderError, match="^prefix_completion_probe: " + match):
        prefix_completion_probe(args.pop("model_generate"), args.pop("problems"), **args)
    assert not calls
    # fractions from a generator are read once: every one is probed
    res = prefix_completion_probe(lambda ps: ["x"] * len(ps), PROBLEMS, fractions=(f for f in (0.4, 0.6)))
    assert set(res["fractions"]) == {"0.4", "0.6"}


def test_prefix_probe_does_not_ask_to_recite_the_answer_cue():
    """ponder's task prompts end with "\\nSolution:", the format's cue, not the problem: it was part of every rest
    to recite, so a model that knows only the format "recited" it ("Problem: 3 + 4 = ?\\nSolution:" cut after
    "4" left the word "solution" alone): arith read exact match 1.0 at 0.8 on the clean tiny model."""
    from ponder.tasks import generate

    problems = [it["prompt"] for it in generate("arith", "test", 20, seed=0)]
    assert all(p.endswith("\nSolution:") for p in problems)
    framer = prefix_completion_probe(lambda ps: ["\nSolution: The answer is 0." for _ in ps], problems)
    for fr in framer["fractions"].values():
        assert fr["exact_match"] == 0.0 and fr["rouge_l"]["mean"] == 0.0 and fr["n"] == len(problems)
    assert all("Solution" not in it["truth"] and it["truth"] for it in framer["items"])
    for p in problems[:5]:  # (one at a time: arith prefixes are shared, "Problem: 3 *")
        rec = prefix_completion_probe(_reciter([p]), [p])
        assert all(fr["exact_match"] == 1.0 for fr in rec["fractions"].values())


def test_prefix_probe_shows_the_problem_as_written():
    """The prefix was the problem's words joined by single spaces: a problem on several lines (MATH's, a table,
    a list of options) was shown with its newlines as spaces, not the text a model memorised, and a model reciting
    it verbatim matched nothing. The prefix is the text as written, up to the cut."""
    problems = ["Let $f(x) = 3x + 2$.\nFind $f(4)$ and give the answer\nas an integer, with no units at all.",
                "Options:\n  (A) 12\n  (B) 14\n  (C) 16\nWhich of them is the number of apples that Mia has?"]
    res = prefix_completion_probe(_reciter(problems), problems, fractions=(0.6,))
    assert res["fractions"]["0.6"]["exact_match"] == 1.0, [it["prefix"] for it in res["items"]]
    for it in res["items"]:
        assert problems[it["index"]].startswith(it["prefix"])
        assert " ".join(it["prefix"].split()) + " " + it["truth"] == " ".join(problems[it["index"]].split())


def test_prefix_probe_errors():
    with pytest.raises(PonderError, match="returned 1 texts"):
        prefix_completion_probe(lambda ps: ["x"], PROBLEMS)
    with pytest.raises(PonderError, match=r"fraction 1\.2 must be a number in \(0, 1\)"):
        prefix_completion_probe(lambda ps: ps, PROBLEMS, fractions=(1.2,))
    r = prefix_completion_probe(lambda ps: ["" for _ in ps], PROBLEMS + ["one"])
    assert r["n_skipped"] == 1


def test_prefix_probe_never_cuts_before_punctuation_alone():
    # Cut at 80% of "What is 2 + 3 ?" the rest was "?", which normalises to no words: any continuation
    # matched it exactly, so a model that says nothing scored 100% exact match (a contamination signal).
    probs = ["What is 2 + 3 ?", "Compute 7 * 8 ?", "Find 9 - 4 ?"]
    r = prefix_completion_probe(lambda ps: ["zzz" for _ in ps], probs, fractions=(0.8,))
    assert r["fractions"]["0.8"]["exact_match"] == 0.0 and r["fractions"]["0.8"]["rouge_l"]["mean"] == 0.0
    assert all(it["truth"].endswith(" ?") for it in r["items"])
    # Nothing but punctuation after the first word: nothing to recite at any cut, so skipped.
    assert prefix_completion_probe(lambda ps: ["" for _ in ps], probs + ["Hello ? !"])["n_skipped"] == 1


# ------------------------------------------------------------------------------ perturbation probe


def _items(n):
    rng = random.Random(1)
    out = []
    for i in range(n):
        a, b = rng.randint(2, 50), rng.randint(2, 50)
        out.append({"id": i, "a": a, "b": b, "answer": str(a + b)})
    return out


def _perturb(item, seed):
    rng = random.Random(seed)
    a, b = rng.randint(60, 99), rng.randint(60, 99)
    return {**item, "a": a, "b": b, "answer": str(a + b)}


def _memoriser(items_by_id):
    def solve(items):
        # Always answers the gold of the item with this id that it saw in training.
        return [{"answer": items_by_id[it["id"]]["answer"],
                 "correct": items_by_id[it["id"]]["answer"] == it["answer"]} for it in items]

    return solve


def _computer(items):
    return [{"answer": str(it["a"] + it["b"]), "correct": True} for it in items]


def test_perturbation_probe_memoriser_vs_computer():
    items = _items(60)
    mem = perturbation_probe(_memoriser({it["id"]: it for it in items}), items, _perturb, seed=3)
    assert mem["acc_original"]["mean"] == 1.0 and mem["acc_perturbed"]["mean"] == 0.0
    assert mem["drop"]["mean"] == 1.0 and mem["drop"]["lo"] > 0
    assert mem["n_gold_changed"] == 60 and mem["orig_gold_repeats"] == 60
    good = perturbation_probe(_computer, items, _perturb, seed=3)
    assert good["drop"]["mean"] == 0.0 and good["orig_gold_repeats"] == 0
    assert contamination_verdict(perturbation=mem)["contaminated"]
    assert not contamination_verdict(perturbation=good)["contaminated"]
    # Seeded: the same seed gives the same perturbed items.
    again = perturbation_probe(_computer, items, _perturb, seed=3)
    assert [r["perturbed_gold"] for r in again["items"]] == [r["perturbed_gold"] for r in good["items"]]


def test_a_perturbation_drop_on_a_few_items_is_not_evidence():
    """Two items, both right -> wrong: the paired bootstrap interval has no width ([1, 1]), and the verdict used to
    flag contamination from them. McNemar's exact test on the flips says p = 0.25; eight flips (p = 1/256) flag."""
    def solve_then_fail():
        calls = []

        def solve(its):
            calls.append(1)
            return [{"correct": len(calls) == 1, "answer": None} for _ in its]
        return solve

    for n, flagged in ((2, False), (8, True)):
        res = perturbation_probe(solve_then_fail(), _items(n), _perturb, seed=3)
        assert 0 < res["drop"]["lo"] < 1 and res["flips"] == {"right_to_wrong": n, "wrong_to_right": 0, "p": 0.5**n}
        assert contamination_verdict(perturbation=res)["contaminated"] is flagged, n


def test_the_drop_interval_of_paired_right_or_wrong_answers_does_not_collapse():
    """The drop's interval was a bootstrap of the per-item differences, which are -1, 0 or 1: four items answered
    alike on both sides read "drop +0.00 [+0.00, +0.00]", and its coverage fell to 44-82% at 5-10 items
    (the pathology Wilson's interval replaced for accuracies). Newcombe's hybrid score interval for paired
    proportions (1998, his method 10, the phi correction as Fagerland et al. 2014 give it) covers 94-100% there."""
    def answers(first, second):
        calls = []

        def solve(its):
            calls.append(1)
            return [{"correct": (first if len(calls) == 1 else second)[i], "answer": None} for i in range(len(its))]
        return solve

    same = perturbation_probe(answers([False] * 4, [False] * 4), _items(4), _perturb, seed=3)["drop"]
    assert same["mean"] == 0.0 and same["lo"] == pytest.approx(-same["hi"]) and same["hi"] > 0.4
    # one flip of ten, each way: the mirror image; every interval holds its mean, within [-1, 1]
    one = [True] + [False] * 9
    a = perturbation_probe(answers(one, [False] * 10), _items(10), _perturb)["drop"]
    b = perturbation_probe(answers([False] * 10, one), _items(10), _perturb)["drop"]
    assert (b["mean"], b["lo"], b["hi"]) == pytest.approx((-a["mean"], -a["hi"], -a["lo"]))
    assert -1 <= a["lo"] < 0 < a["mean"] == 0.1 < a["hi"] <= 1
    # the worked paired tables of Fagerland, Lydersen & Laake (Bentur et al. 2009; Cavo et al. 2012)
    from ponder.probes import _paired_diff_ci

    def table(both, only_x, only_y, neither):
        x = np.array([1] * (both + only_x) + [0] * (only_y + neither), dtype=float)
        y = np.array([1] * both + [0] * only_x + [1] * only_y + [0] * neither, dtype=float)
        return _paired_diff_ci(x, y)
    assert [round(table(1, 1, 7, 12)[k], 3) for k in ("lo", "hi")] == [-0.507, -0.026]
    assert [round(table(59, 6, 16, 80)[k], 3) for k in ("lo", "hi")] == [-0.119, -0.005]


def test_an_old_gold_shown_in_the_perturbed_problem_is_no_evidence_of_memory():
    """A perturbed word problem can hold the original answer among its new numbers (6% of them do): a model that
    copies a number from the problem 'answers with the original gold' there without having seen it. Such items
    counted as repeats and 20 of them read 'contaminated'; they are left out of the repeat count and its base."""
    import re

    items = [{"id": i, "prompt": f"Add {3 + i} and {40 + i}.", "answer": str(43 + 2 * i)} for i in range(20)]

    def shows_old(it, seed):  # the new first number is the old answer
        return {**it, "prompt": f"Add {it['answer']} and 5.", "answer": str(int(it["answer"]) + 5)}

    def hides_old(it, seed):
        return {**it, "prompt": f"Add {int(it['answer']) + 1} and 5.", "answer": str(int(it["answer"]) + 6)}

    def copier(its):  # answers the problem's first number
        out = []
        for it in its:
            first = re.search(r"\d+", it["prompt"]).group()
            out.append({"answer": first, "correct": first == it["answer"]})
        return out

    res = perturbation_probe(copier, items, shows_old)
    assert res["orig_gold_repeats"] == 0 and res["n_gold_changed"] == 0 and res["n_old_gold_shown"] == 20
    v = contamination_verdict(perturbation=res)
    assert not v["contaminated"] and v["evidence"]["perturbation"]["n_old_gold_shown"] == 20
    line = format_contamination({**v, "perturbation": res}).splitlines()[1]
    assert "0 of 0 changed problems answered with the old answer" in line
    assert line.endswith("; 20 more showing the old answer among their words not counted")
    # a model answering the old gold where the problem does not show it still repeats it
    mem = perturbation_probe(_memoriser({it["id"]: it for it in items}), items, hides_old)
    assert mem["orig_gold_repeats"] == mem["n_gold_changed"] == 20 and mem["n_old_gold_shown"] == 0
    assert contamination_verdict(perturbation=mem)["contaminated"]


def test_perturbation_probe_ignores_unchanged_gold_and_checks_fields():
    items = _items(5)
    same = perturbation_probe(_memoriser({it["id"]: it for it in items}), items, lambda it, s: dict(it), seed=0)
    assert same["n_gold_changed"] == 0 and same["orig_gold_repeats"] == 0
    with pytest.raises(PonderError, match="no 'gold'"):
        perturbation_probe(_computer, items, _perturb, gold_key="gold")
    with pytest.raises(PonderError, match="solve returned"):
        perturbation_probe(lambda its: [], items, _perturb)
    # A perturber that gives up (None) or records without 'correct' were a bare TypeError / KeyError.
    with pytest.raises(PonderError, match="perturb_fn returned NoneType for item 0, not an item"):
        perturbation_probe(_computer, items, lambda it, s: None)
    with pytest.raises(PonderError, match="solve's record 0 for the original items is {'answer': '1'}, not a dict"):
        perturbation_probe(lambda its: [{"answer": "1"}] * len(its), items, _perturb)
    with pytest.raises(PonderError, match="solve's record 0 for the original items is True, not a dict"):
        perturbation_probe(lambda its: [True] * len(its), items, _perturb)


@pytest.mark.parametrize("kw,match", [
    (dict(items=None), "items must be a list of items \\(dicts\\), got NoneType"),
    (dict(items="abc answer"), "items is one str \\('abc answer'\\), not a list of items"),
    (dict(items=["an answer"]), "item 0 is str 'an answer', not an item \\(a dict\\)"),
    (dict(perturb_fn="word"), "perturb_fn must be a function, got 'word'"),
    (dict(solve="tiny"), "solve must be a function, got 'tiny'"),
    (dict(equal="math"), "equal must be a function, got 'math'"),
    (dict(solve=lambda its: None), "solve returned NoneType None for the original items, not a list of records"),
    (dict(seed=None), "seed must be an integer in \\[0, 2\\*\\*63\\), got None"),
])
def test_perturbation_probe_refuses_bad_arguments_by_name(kw, match):
    """The direct API took its arguments unchecked: None items, a non-callable solve / perturb_fn / equal, a
    solve returning None and a None seed were bare TypeErrors from deep inside, a text of items was read as its
    characters ("answer" found in one as a substring). Each is now one line naming the argument."""
    args = dict(solve=_computer, items=_items(3), perturb_fn=_perturb, seed=0) | kw
    with pytest.raises(PonderError, match="^perturbation_probe: " + match):
        perturbation_probe(args.pop("solve"), args.pop("items"), args.pop("perturb_fn"), **args)


def test_perturbation_probe_refuses_a_correct_that_is_not_true_or_false():
    """bool() of the text "false" is True: a solve reading its labels back from text made every item right."""
    items = _items(5)
    with pytest.raises(PonderError, match="record 0 for the perturbed items has correct='false', need True or False"):
        perturbation_probe(lambda its: [{"answer": "1", "correct": "false" if "perturbed" in its[0] else True}
                                        for _ in its], items, lambda it, s: {**_perturb(it, s), "perturbed": 1})
    ok = perturbation_probe(lambda its: [{"answer": "1", "correct": 1}] * len(its), items, _perturb)
    assert ok["acc_original"]["mean"] == 1.0


# ----------------------------------------------------------------------------------------- verdict


def _fake_prefix(em, rl, lo=None):
    return {"fractions": {"0.6": {"n": 100, "exact_match": em, "rouge_l": {"mean": rl, "lo": rl, "hi": rl}}}}


def _fake_pert(drop, lo, repeats, changed=100):
    return {"acc_original": {"mean": 0.8}, "acc_perturbed": {"mean": 0.8 - drop},
            "drop": {"mean": drop, "lo": lo, "hi": drop + 0.05},
            "orig_gold_repeats": repeats, "n_gold_changed": changed, "orig_gold_repeat_rate": repeats / changed}


def test_contamination_verdict_thresholds():
    clean = contamination_verdict(prefix=_fake_prefix(0.05, 0.3), perturbation=_fake_pert(0.02, -0.03, 1),
                                  overlap={"n": 13, "n_items": 100, "n_flagged": 1, "fraction": 0.01})
    assert clean == {"contaminated": False, "insufficient_evidence": False, "too_few_items": [], "too_few_why": {},
                     "evidence": clean["evidence"], "reasons": [], "multiple_testing": clean["multiple_testing"]}
    assert set(clean["evidence"]) == {"thresholds", "prefix", "perturbation", "overlap"}
    assert contamination_verdict(prefix=_fake_prefix(0.2, 0.3))["contaminated"]
    assert contamination_verdict(prefix=_fake_prefix(0.0, 0.6))["contaminated"]
    assert not contamination_verdict(prefix=_fake_prefix(0.19, 0.59))["contaminated"]
    # A large drop whose CI crosses zero is not enough; the same drop with CI above zero is.
    assert not contamination_verdict(perturbation=_fake_pert(0.2, -0.01, 0))["contaminated"]
    assert contamination_verdict(perturbation=_fake_pert(0.2, 0.05, 0))["contaminated"]
    assert contamination_verdict(perturbation=_fake_pert(0.0, -0.05, 10))["contaminated"]
    assert not contamination_verdict(perturbation=_fake_pert(0.0, -0.05, 9))["contaminated"]
    # a repeat rate over 10% on a handful of items can be coincidence: 1 of 5 is p = 0.10, 2 of 5 is p = 0.004
    one = contamination_verdict(perturbation=_fake_pert(0.0, -0.05, 1, changed=5))
    assert not one["contaminated"] and one["evidence"]["perturbation"]["orig_gold_repeat_p"] == pytest.approx(0.0961, abs=1e-4)
    assert contamination_verdict(perturbation=_fake_pert(0.0, -0.05, 2, changed=5))["contaminated"]
    with pytest.raises(PonderError, match="repeat_chance"):
        contamination_verdict(perturbation=_fake_pert(0.0, -0.05, 2), thresholds={"repeat_chance": 0})
    v = contamination_verdict(overlap={"n": 13, "n_items": 100, "n_flagged": 5, "fraction": 0.05})
    assert v["contaminated"] and "13-gram" in v["reasons"][0]
    # Custom thresholds are honoured; unknown ones are an error.
    assert not contamination_verdict(prefix=_fake_prefix(0.2, 0.3), thresholds={"prefix_exact_min": 0.5})["contaminated"]
    with pytest.raises(PonderError, match="unknown threshold"):
        contamination_verdict(prefix=_fake_prefix(0.2, 0.3), thresholds={"bogus": 1})
    with pytest.raises(PonderError, match="no probe results"):
        contamination_verdict()
    with pytest.raises(PonderError, match="no fraction 0.6"):
        contamination_verdict(prefix={"fractions": {"0.4": {}}})


def test_holm_rejects_what_its_step_down_levels_allow_not_each_test_at_alpha():
    """Holm's step-down over fixed p-values: the smallest against alpha/m, the next against alpha/(m-1), ...,
    stopping at the first that is not under its level; uncorrected, every p under alpha rejects."""
    from ponder.probes import holm

    ps = {"a": 0.01, "b": 0.02, "c": 0.03, "d": 0.004}
    h = holm(ps, 0.025)
    assert {k for k, p in ps.items() if p < 0.025} == {"a", "b", "d"}  # uncorrected
    assert {k for k, t in h.items() if t["rejected"]} == {"d"}  # 0.004 < 0.025/4; then 0.01 > 0.025/3: stop
    assert [h[k]["p_holm"] for k in "abcd"] == pytest.approx([0.03, 0.04, 0.04, 0.016])
    assert list(h) == list(ps) and all(h[k]["p"] == ps[k] for k in ps)
    assert {k for k, t in holm(ps, 0.05).items() if t["rejected"]} == {"a", "b", "c", "d"}  # 0.016, 0.03, 0.04, 0.04
    assert [t["p_holm"] for t in holm({"x": 0.6, "y": 0.7}, 0.025).values()] == [1.0, 1.0]  # capped at 1
    assert holm({}, 0.025) == {}  # no test ran
    # invariant: Holm rejects at least what Bonferroni (alpha/m each) does, and at most what uncorrected does
    rng = random.Random(0)
    for _ in range(200):
        qs = {str(i): rng.random() ** 3 for i in range(rng.randint(1, 5))}
        rej = {k for k, t in holm(qs, 0.05).items() if t["rejected"]}
        assert {k for k, q in qs.items() if q < 0.05 / len(qs)} <= rej <= {k for k, q in qs.items() if q < 0.05}


def test_the_verdict_corrects_its_tests_for_multiplicity():
    """The verdict is an OR over up to four tests (prefix exact match and ROUGE-L sign tests, McNemar's test of the
    drop, the old-gold repeats' binomial test), each was judged at p < 0.025, so a clean model was flagged more
    often than 0.025. A calibrated exact-match excess at p = 0.02 flagged on its own; among four tests its
    Holm-adjusted p is 0.08. The record says how the verdict was corrected."""
    def calibrated(em_p):
        return {"fractions": {"0.6": {"n": 40, "exact_match": 0.3, "rouge_l": {"mean": 0.1, "lo": 0.0, "hi": 0.2},
                                      "exact_match_p": em_p, "rouge_l_p": 0.5}}}

    pert = {**_fake_pert(0.0, -0.1, 0, changed=40), "flips": {"right_to_wrong": 2, "wrong_to_right": 2, "p": 0.6875}}
    alone = contamination_verdict(prefix=calibrated(0.02))
    assert not alone["contaminated"] and alone["multiple_testing"]["m"] == 2  # 0.02 * 2 = 0.04
    v = contamination_verdict(prefix=calibrated(0.02), perturbation=pert,
                              overlap={"n": 13, "n_items": 40, "n_flagged": 0, "fraction": 0.0})
    assert not v["contaminated"] and v["reasons"] == []
    mt = v["multiple_testing"]
    assert (mt["method"], mt["alpha"], mt["m"]) == ("holm", 0.025, 4)
    assert set(mt["tests"]) == {"prefix_exact_match", "prefix_rouge_l", "perturbation_drop", "perturbation_repeats"}
    assert mt["tests"]["prefix_exact_match"] == {"p": 0.02, "p_holm": pytest.approx(0.08), "rejected": False}
    assert mt["untested"] == ["overlap"]
    # a p small enough for its place in the order still flags, and the reason carries the adjusted p
    v = contamination_verdict(prefix=calibrated(0.005), perturbation=pert)
    assert v["contaminated"] and "Holm-adjusted over 4 tests 0.02 < 0.025" in v["reasons"][0]
    line = format_contamination(v).splitlines()[-2]
    assert line.startswith("  multiple testing: Holm's correction over 4 tests at family-wise alpha 0.025 "
                           "(prefix exact match p = 0.005 -> 0.02; ")
    # alpha is a threshold like the others
    assert not contamination_verdict(prefix=calibrated(0.005), perturbation=pert,
                                     thresholds={"alpha": 0.01})["contaminated"]
    with pytest.raises(PonderError, match="alpha must be in"):
        contamination_verdict(prefix=calibrated(0.005), thresholds={"alpha": 1})
    # signals without a test (an uncalibrated prefix, the overlap) are judged by threshold alone, and named so
    u = contamination_verdict(prefix=_fake_prefix(0.2, 0.3))
    assert u["contaminated"] and u["multiple_testing"]["m"] == 0
    assert u["multiple_testing"]["untested"] == ["prefix_exact_match", "prefix_rouge_l"]
    assert ("multiple testing: no test ran; judged by threshold alone, no test: prefix exact match, prefix ROUGE-L"
            in format_contamination(u))
    # a perturbation saved before McNemar's counts has them counted from its items, and its drop is tested
    items = _items(6)
    mem = perturbation_probe(_memoriser({it["id"]: it for it in items}), items, _perturb, seed=3)
    old = contamination_verdict(perturbation={k: x for k, x in mem.items() if k != "flips"})
    assert old["evidence"]["perturbation"]["flips"] == mem["flips"] == {"right_to_wrong": 6, "wrong_to_right": 0,
                                                                         "p": 0.5**6}
    assert old["multiple_testing"]["tests"]["perturbation_drop"]["p"] == 0.5**6 and old["contaminated"]


def test_a_handful_of_items_is_insufficient_evidence_not_a_verdict():
    """Without a control (no perturber), one problem recited read "contaminated: True" (exact match 1.00 >= 0.2),
    and 1 of 4 (0.25) did too: one guessed stock ending, which the threshold allows a clean model, decided it.
    A threshold that one item alone reaches, or a test that could not reject whatever its items did, cannot
    decide; with nothing flagged, the verdict says the evidence is insufficient instead of giving one."""
    from ponder.probes import _paired_excess

    def recite(which):
        return lambda ps: [PROBLEMS[i][len(p):] if i in which else "" for i, p in enumerate(ps)]

    one = contamination_verdict(prefix=prefix_completion_probe(recite({0}), PROBLEMS[:1]))
    assert not one["contaminated"] and one["insufficient_evidence"] and one["reasons"] == []
    assert one["too_few_items"] == ["prefix_exact_match", "prefix_rouge_l"]
    assert format_contamination(one).splitlines()[0] == (
        "contaminated: insufficient evidence (too few items to decide: prefix exact match, prefix ROUGE-L on 1 item: "
        "one item alone reaches its threshold)")
    some = contamination_verdict(prefix=prefix_completion_probe(recite({0}), PROBLEMS))
    assert some["evidence"]["prefix"]["exact_match"] == 0.25 and not some["contaminated"]
    assert some["insufficient_evidence"] and some["too_few_items"] == ["prefix_exact_match"]
    # every one of 4 recited: ROUGE-L (one item cannot make a mean of 0.6 over 4) still decides
    every = contamination_verdict(prefix=prefix_completion_probe(recite({0, 1, 2, 3}), PROBLEMS))
    assert every["contaminated"] and not every["insufficient_evidence"] and len(every["reasons"]) == 1
    six = contamination_verdict(prefix=prefix_completion_probe(recite(set()), PROBLEMS + PROBLEMS[:2]))
    assert not six["contaminated"] and not six["insufficient_evidence"] and six["too_few_items"] == []
    # tests: two items recited where their copies were not (p = 0.25), one item's perturbation
    orig = {"items": [{"index": i, "fraction": 0.6, "exact": True, "rouge_l": 1.0} for i in range(2)]}
    ctrl = {"items": [{"index": i, "fraction": 0.6, "exact": False, "rouge_l": 0.4} for i in range(2)]}
    two = contamination_verdict(prefix=_paired_excess(orig, ctrl, (0.6,), seed=0))
    assert not two["contaminated"] and two["insufficient_evidence"]
    items = _items(1)
    mem = contamination_verdict(perturbation=perturbation_probe(_memoriser({0: items[0]}), items, _perturb))
    assert not mem["contaminated"] and mem["insufficient_evidence"]  # 0.5 and 0.02, over 2 tests, cannot reject
    assert mem["too_few_items"] == ["perturbation_drop", "perturbation_repeats"]


def test_one_recited_problem_of_two_does_not_make_an_uncalibrated_rouge_verdict():
    """Without a control, one of 2 problems recited (ROUGE-L 1.0) beside a fluent stock ending (0.53) made a mean of
    0.76 >= 0.6: "contaminated" from one item, which the exact-match rate (1 of 2) was already kept from deciding.
    From 3 problems one recited item beside clean ones (~0.35) no longer reaches 0.6, and the mean decides."""
    def gen(which):
        return lambda ps: [PROBLEMS[i][len(p):] if i in which else " more marbles. How many marbles does he have left?"
                           for i, p in enumerate(ps)]

    two = contamination_verdict(prefix=prefix_completion_probe(gen({0}), PROBLEMS[:2], (0.6,)))
    assert two["evidence"]["prefix"]["rouge_l"] >= 0.6
    assert not two["contaminated"] and two["insufficient_evidence"] and "prefix_rouge_l" in two["too_few_items"]
    assert "prefix_rouge_l" not in contamination_verdict(prefix=prefix_completion_probe(gen({0}), PROBLEMS[:3], (0.6,)))[
        "too_few_items"]
    both = contamination_verdict(prefix=prefix_completion_probe(gen({0, 1, 2}), PROBLEMS[:3], (0.6,)))
    assert both["contaminated"] and not both["insufficient_evidence"]


def test_a_clean_summary_says_no_evidence_not_no_contamination():
    """A verdict without a flag printed "contaminated: False", read as a clean bill; the probes flag an effect only at
    its threshold (a drop of 0.15, 1 in 5 recited), so a leak of a few items passes. The line says so."""
    items = _items(40)
    good = contamination_verdict(perturbation=perturbation_probe(_computer, items, _perturb, seed=3))
    assert not good["contaminated"] and not good["insufficient_evidence"]
    first = format_contamination({**good, "n_items": 40}).splitlines()[0]
    assert first.startswith("contaminated: False (no evidence of contamination in 40 items, not proof of none: ")
    assert "a drop of 0.15" in first and "a leak of a small share of the items can pass" in first
    assert format_contamination(good).startswith("contaminated: False (no evidence of contamination, not proof")
    # the example threshold is one of a probe that ran
    assert "e.g. an exact-match rate of 0.2," in format_contamination(contamination_verdict(prefix=_fake_prefix(0, 0.3)))


def test_a_clean_verdict_needs_every_test_able_to_reject():
    """3-6 word items (calibrated prefix + perturbation) read "contaminated: False": the old-gold repeats' test could
    reject at 0.02^n, but the prefix sign tests and McNemar's test of the drop could not have rejected whatever the
    model did (0.5^5 = 0.031 > 0.025, before Holm's correction). A clean bill needs every test able to reject; the
    summary names the tests, their item count and why."""
    from ponder.probes import _paired_excess

    def run(n):
        same = {"items": [{"index": i, "fraction": 0.6, "exact": False, "rouge_l": 0.3} for i in range(n)]}
        pert = perturbation_probe(_computer, _items(n), _perturb, seed=3)
        return (contamination_verdict(perturbation=pert),
                contamination_verdict(prefix=_paired_excess(same, same, (0.6,), seed=0), perturbation=pert))

    for n in range(3, 9):
        alone, full = run(n)
        assert not alone["contaminated"] and not full["contaminated"]
        # invariant: an undecidable test means no verdict; McNemar alone rejects from 6 items, with 3 more tests from 7
        assert alone["insufficient_evidence"] is (n < 6) is ("perturbation_drop" in alone["too_few_items"])
        assert full["insufficient_evidence"] is (n < 7) is bool(full["too_few_items"])
    first = format_contamination(run(5)[1]).splitlines()[0]
    assert first == ("contaminated: insufficient evidence (too few items to decide: prefix exact match, prefix "
                     "ROUGE-L, drop (McNemar) on 5 items: the smallest p they allow, 0.031, Holm-adjusted 0.094, is "
                     "not under 0.025)")


# --------------------------------------------------------------------------------------- diversity


def test_distinct_and_self_bleu_identical_vs_diverse():
    same = [PROBLEMS[0]] * 5
    assert self_bleu(same) == pytest.approx(1.0)
    assert distinct_n(same, 2) == pytest.approx(1 / 5)
    assert self_bleu(PROBLEMS) < 0.5
    assert distinct_n(PROBLEMS, 2) > 0.7
    assert distinct_n(["a b c d"], 1) == 1.0
    # Making one text a copy of another can only raise self-BLEU.
    assert self_bleu(PROBLEMS[:3] + [PROBLEMS[0]]) > self_bleu(PROBLEMS)
    rng = random.Random(0)
    vocab = [f"v{i}" for i in range(50)]
    texts = [" ".join(rng.choice(vocab) for _ in range(30)) for _ in range(8)]
    assert 0 <= self_bleu(texts) < 0.3
    with pytest.raises(PonderError, match="need at least 2 texts, got 1"):
        self_bleu(["only one"])
    with pytest.raises(PonderError, match="no texts"):
        distinct_n([], 1)


def test_self_bleu_of_empty_samples():
    """Samples that are all empty (an immediate EOS) are identical, not maximally diverse: self-BLEU 1.0, as
    their pairwise similarity is; an empty text against non-empty ones still scores 0."""
    assert self_bleu(["", "", ""]) == 1.0 and self_bleu(["", "?!"]) == 1.0
    assert pairwise_similarity(["", "", ""]) == 1.0
    assert self_bleu(["", "a b", "a b"]) == pytest.approx(2 / 3)


def test_self_bleu_matches_reference_implementation():
    """Cross-check the top-2 trick against a direct O(N^2) BLEU."""
    import math
    from collections import Counter

    def bleu(h, refs, max_n=4):
        log_p = 0.0
        for n in range(1, max_n + 1):
            hc = Counter(tuple(h[i:i + n]) for i in range(len(h) - n + 1))
            mx = Counter()
            for r in refs:
                for g, v in Counter(tuple(r[i:i + n]) for i in range(len(r) - n + 1)).items():
                    mx[g] = max(mx[g], v)
            m, t = sum(min(v, mx[g]) for g, v in hc.items()), sum(hc.values())
            if n > 1:
                m, t = m + 1, t + 1
            if m == 0:
                return 0.0
            log_p += math.log(m / t) / max_n
        r = min((len(x) for x in refs), key=lambda L: (abs(L - len(h)), L))
        bp = 1.0 if len(h) > r else math.exp(1 - r / len(h))
        return bp * math.exp(log_p)

    rng = random.Random(4)
    for _ in range(10):
        texts = [" ".join(rng.choice("abcde") for _ in range(rng.randint(3, 15))) for _ in range(rng.randint(2, 6))]
        toks = [normalize_words(t) for t in texts]
        ref = np.mean([bleu(toks[i], toks[:i] + toks[i + 1:]) for i in range(len(toks))])
        assert self_bleu(texts) == pytest.approx(ref)


def test_distinct_n_of_texts_without_n_grams_is_undefined_not_zero():
    """Samples all shorter than n words have no n-grams: distinct-n was 0.0, which reads as "no diversity" for
    answers as different as "63" and "7". It is undefined (NaN, null in JSON), left out of the mean over prompts,
    and a table says so."""
    import math

    from ponder.fileio import json_safe

    assert math.isnan(distinct_n(["a"], 2)) and math.isnan(distinct_n(["63", "7", ""], 2))
    assert distinct_n(["63", "7"], 1) == 1.0
    h = intra_model_homogeneity([["63", "7"], ["a b c", "a b c"]])
    assert h["distinct_2"]["mean"] == pytest.approx(0.5)  # the second prompt's alone, not (0 + 0.5) / 2
    assert math.isnan(h["per_prompt"][0]["distinct_2"])
    short = intra_model_homogeneity([["63", "7"], ["12", "12"]])
    assert all(math.isnan(short["distinct_2"][k]) for k in ("mean", "lo", "hi"))
    assert short["distinct_1"]["mean"] == pytest.approx(0.75)
    res = {"n_samples": 2, "n_prompts": 2, "temperature": 1.0, "intra": {"m": short}, "inter": {"pairs": {}}}
    for r in (res, json.loads(json.dumps(json_safe(res), allow_nan=False))):  # in memory, and read back
        row = format_diversity(r).splitlines()[2]
        assert "undefined" in row and "nan" not in row and "0.750" in row
    assert json_safe(short)["distinct_2"] == {"mean": None, "lo": None, "hi": None}


def test_diversity_table_of_one_prompt_shows_no_interval():
    """One prompt has no interval over prompts: the table read "0.833 [-inf, inf]" (and, read back from
    diversity.json, where the bounds are null, failed with a TypeError)."""
    from ponder.fileio import json_safe

    h = intra_model_homogeneity([["a b c", "c d e"]])
    res = {"n_samples": 2, "n_prompts": 1, "temperature": 1.0, "intra": {"m": h}, "inter": {"pairs": {}}}
    for r in (res, json.loads(json.dumps(json_safe(res), allow_nan=False))):
        row = format_diversity(r).splitlines()[2]
        assert "inf" not in row and "1.000 [—]" in row


def test_contamination_summary_of_one_item_shows_no_drop_interval():
    """One item's paired drop has no interval over items: the summary read "drop +0.00 [-inf, +inf]" (and,
    read back from contamination.json, where the bounds are null, failed with a TypeError)."""
    from ponder.fileio import json_safe
    from ponder.probes import format_contamination
    from ponder.tasks import generate
    from ponder.tasks.word import perturb

    items = generate("word", "test", 1, seed=0)
    pert = perturbation_probe(lambda its: [{"correct": True, "answer": None} for _ in its], items, perturb)
    # (Newcombe's interval of one item is finite and wide; a contamination.json saved before it has null bounds)
    old = {**pert, "drop": {"mean": 0.0, "lo": -math.inf, "hi": math.inf}}
    res = {"n_items": 1, "perturbation": old, **contamination_verdict(perturbation=old)}
    for r in (res, json.loads(json.dumps(json_safe(res), allow_nan=False))):
        line = next(ln for ln in format_contamination(r).splitlines() if "perturbed numbers" in ln)
        assert "inf" not in line and "drop +0.00 [—]" in line
    res = {"n_items": 1, "perturbation": pert, **contamination_verdict(perturbation=pert)}
    assert "drop +0.00 [-0.79, +0.79]" in format_contamination(res)


def test_the_verdict_rejudges_a_saved_result_of_one_item():
    """contamination_verdict re-judges saved results (other thresholds; fields absent from older files are allowed
    for): one item's drop, right -> wrong, has no interval, null in contamination.json, and the verdict failed
    with a bare TypeError ('>' between None and int). No interval is no evidence."""
    from ponder.fileio import json_safe
    from ponder.tasks import generate
    from ponder.tasks.word import perturb

    calls = []

    def solve(its):
        calls.append(1)
        return [{"correct": len(calls) == 1, "answer": None} for _ in its]

    pert = perturbation_probe(solve, generate("word", "test", 1, seed=0), perturb)
    pert["drop"].update(lo=-math.inf, hi=math.inf)  # (as saved before the drop took Newcombe's interval)
    back = json.loads(json.dumps(json_safe(pert), allow_nan=False))
    assert back["drop"] == {"mean": 1.0, "lo": None, "hi": None}
    for p in (pert, back):
        v = contamination_verdict(perturbation=p, thresholds={"drop_min": 0.5})
        assert not v["contaminated"] and v["reasons"] == []


def test_pairwise_similarity_and_homogeneity():
    assert pairwise_similarity(["a b c", "a b c"]) == 1.0
    assert pairwise_similarity(["a b c", "d e f"]) == 0.0
    assert pairwise_similarity(["a b c", "a b d"], n=2) == pytest.approx(1 / 3)
    # answers shorter than n words compare as whole texts (not as two empty n-gram sets, i.e. "equal")
    assert pairwise_similarity(["63", "7"]) == 0.0 and pairwise_similarity(["63", "63"]) == 1.0
    assert inter_model_homogeneity({"A": [["12"]], "B": [["99"]]})["matrix"][0][1] == 0.0
    assert pairwise_similarity(["a b c", "a b c"], method="rouge_l") == 1.0
    with pytest.raises(PonderError, match="unknown similarity"):
        pairwise_similarity(["a", "b"], method="cosine")

    collapsed = [[p] * 4 for p in PROBLEMS]
    diverse = [[PROBLEMS[(i + j) % 4] for j in range(4)] for i in range(4)]
    hc, hd = intra_model_homogeneity(collapsed), intra_model_homogeneity(diverse)
    assert hc["similarity"]["mean"] == 1.0 and hc["self_bleu"]["mean"] == pytest.approx(1.0)
    assert hd["similarity"]["mean"] < 0.3 and hd["distinct_2"]["mean"] > hc["distinct_2"]["mean"]
    assert hc["n_prompts"] == 4

    inter = inter_model_homogeneity({"A": collapsed, "B": collapsed, "C": diverse})
    m = np.array(inter["matrix"])
    assert inter["models"] == ["A", "B", "C"]
    assert np.allclose(m, m.T) and m[0, 0] == 1.0 and m[0, 1] == 1.0
    assert m[0, 2] < m[0, 1]
    assert inter["pairs"]["A|C"] == m[0, 2]
    with pytest.raises(PonderError, match="different prompt counts"):
        inter_model_homogeneity({"A": collapsed, "B": collapsed[:2]})


@pytest.mark.parametrize("call,match", [
    (lambda: distinct_n("the cat sat on the mat", 1), r"distinct_n: texts is one str \('the cat"),
    (lambda: self_bleu("the cat sat"), "self_bleu: texts is one str"),
    (lambda: pairwise_similarity("ab"), "pairwise_similarity: texts is one str"),
    (lambda: intra_model_homogeneity(["a b c", "d e f"]), r"samples_per_prompt\[0\] is one str"),
    (lambda: inter_model_homogeneity({"A": ["a b c"], "B": ["a b c"]}), r"samples_by_model\['A'\]\[0\] is one str"),
    (lambda: ngram_overlap("train.jsonl", [PROBLEMS[0]], n=2), r"train_texts is one str .*iter_texts\(path\)"),
    (lambda: ngram_overlap(Path("train.jsonl"), [PROBLEMS[0]], n=2), "train_texts is one PosixPath"),
    (lambda: ngram_overlap([{"text": PROBLEMS[0]}], [PROBLEMS[0]], n=2), r"train_texts\[0\] is dict"),
    (lambda: ngram_overlap([PROBLEMS[0]], PROBLEMS[0], n=2), "bench_texts is one str"),
    (lambda: prefix_completion_probe(lambda ps: ps, PROBLEMS[0]), "problems is one str"),
    (lambda: prefix_completion_probe(lambda ps: ps, [PROBLEMS[0], None]), r"problems\[1\] is NoneType"),
])
def test_one_text_where_a_list_of_texts_is_expected_is_refused_not_read_as_its_characters(call, match):
    """A string is iterable: passed where a list of texts goes, each character was a text and every score came out
    silently (distinct-1 of one sentence 0.53, a training file's path 11 one-letter texts overlapping nothing, two
    models' "samples" 0.1 alike); an element that is no text was a bare AttributeError."""
    with pytest.raises(PonderError, match=match):
        call()


def test_similarity_scores_of_exactly_0_or_1_get_the_bootstrap_interval_not_wilsons():
    """Similarity, self-BLEU, distinct-n and ROUGE-L are scores, not success rates (the intervals are documented
    as a bootstrap over prompts). When every prompt happened to score exactly 1.0 (a collapsed model) they took
    the Wilson interval of 4 successes in 4 trials, [0.51, 1], as if each prompt were a right/wrong answer; a
    score of 0.99 instead would have given a near-zero-width interval."""
    collapsed = [[p] * 4 for p in PROBLEMS]
    hc = intra_model_homogeneity(collapsed)
    assert hc["similarity"] == {"mean": 1.0, "lo": 1.0, "hi": 1.0}
    assert hc["self_bleu"]["hi"] - hc["self_bleu"]["lo"] < 1e-9
    fr = prefix_completion_probe(lambda ps: ["zzz"] * len(ps), PROBLEMS, fractions=(0.6,))["fractions"]["0.6"]
    assert fr["rouge_l"] == {"mean": 0.0, "lo": 0.0, "hi": 0.0}


def test_prefix_probe_rouge_interval_follows_the_seed():
    """--seed "seeds ... the bootstrap intervals", but the prefix probe's ROUGE-L interval was always drawn with
    seed 0, whatever the seed of the contamination probe."""
    from ponder.metrics import bootstrap_ci

    recite = _reciter(PROBLEMS)

    def gen(prompts):  # recites a different share of the rest of each problem: ROUGE-L from 0 to 1
        outs = recite(prompts)
        return [" ".join(o.split()[: i % 5 * 3]) or "zzz" for i, o in enumerate(outs)]

    r0 = prefix_completion_probe(gen, PROBLEMS * 2, fractions=(0.4,))
    r7 = prefix_completion_probe(gen, PROBLEMS * 2, fractions=(0.4,), seed=7)
    values = [it["rouge_l"] for it in r7["items"]]
    assert len(set(values)) > 2
    assert tuple(r7["fractions"]["0.4"]["rouge_l"].values()) == bootstrap_ci(values, seed=7)
    assert r0["fractions"]["0.4"]["rouge_l"] != r7["fractions"]["0.4"]["rouge_l"]


def test_ngram_lengths_below_1_or_not_integers_are_refused(tiny_random):
    """n = 0 made every text the one empty gram: similarity and self-BLEU 1.0 for any texts, silently; a float
    n was a bare TypeError. The diversity probe refuses it before sampling, not after."""
    texts = ["a b c", "d e f"]
    for call, name in ((lambda v: pairwise_similarity(texts, n=v), "n"), (lambda v: self_bleu(texts, max_n=v), "max_n"),
                       (lambda v: intra_model_homogeneity([texts], n=v), "n"),
                       (lambda v: inter_model_homogeneity({"A": [texts]}, n=v), "n"),
                       (lambda v: distinct_n(texts, v), "n"), (lambda v: ngram_overlap(texts, texts, n=v), "n")):
        for bad in (0, 1.5, True):
            with pytest.raises(PonderError, match=rf"{name}={bad!r} must be an integer >= 1"):
                call(bad)
    from ponder.probes import run_diversity_probe

    with pytest.raises(PonderError, match="n=0 must be an integer >= 1"):
        run_diversity_probe(tiny_random, ["x"], n_samples=2, ngram_n=0)
    with pytest.raises(PonderError, match="unknown similarity method 'cosine'"):
        run_diversity_probe(tiny_random, ["x"], n_samples=2, method="cosine")


def test_embedding_similarity_says_what_is_needed(tmp_path):
    with pytest.raises(PonderError, match="sentence-transformers"):
        embedding_similarity(["a", "b"], tmp_path / "no-such-model")


# ---------------------------------------------------------------- model-running wrappers (real models)


def _solution_doc(item: dict) -> str:
    from ponder.tasks import arith

    steps = "\n".join(f"{s}." for s, _ in arith.arith_steps(item["expr"]))
    return item["prompt"] + " " + steps + "\nThe answer is \\boxed{" + item["answer"] + "}.<|endoftext|>"


@pytest.fixture(scope="module")
def word_models(tmp_path_factory):
    """Two models of the same architecture and training budget: one memorised 24 word TEST problems
    with their solutions (contaminated), one 24 TRAIN problems (clean). ~5-15 s each on one thread.
    A 600-token vocabulary keeps every document (67-95 tokens) inside seq_len 96, answer included."""
    import torch
    from conftest import plot_each_kind_of_rows_once

    import ponder
    from ponder.tasks import generate
    from ponder.train import TrainConfig, pretrain

    test_items = generate("word", "test", 24, seed=0)
    train_items = generate("word", "train", 24, seed=0)
    cfg = dict(hidden_size=64, intermediate_size=192, num_hidden_layers=2, num_attention_heads=2,
               num_key_value_heads=1, head_dim=32, max_position_embeddings=256)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    models = {}
    try:
        with pytest.MonkeyPatch.context() as mp:
            plot_each_kind_of_rows_once(mp)  # (the second run's training.png, of the same kind of rows: not drawn)
            for name, items in (("contaminated", test_items), ("clean", train_items)):
                d = tmp_path_factory.mktemp(name)
                docs = [_solution_doc(it) for it in items]
                (d / "train.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in docs))
                run = pretrain(d / "run", docs, model_config=ponder.ModelConfig(**cfg), vocab_size=600,
                               progress=False, train=TrainConfig(steps=170, batch_size=8, seq_len=96, lr=5e-3,
                                                                 warmup=10, save_every=10**6))
                models[name] = (*ponder.load(run / "checkpoint"), d / "train.jsonl")
        yield test_items, models
    finally:
        torch.set_num_threads(threads)


def test_contamination_probe_flags_the_memorising_model_only(word_models, tmp_path):
    import torch

    from ponder.probes import run_contamination_probe
    from ponder.report import write_html_report

    test_items, models = word_models
    torch.set_num_threads(1)
    model, tok, _ = models["contaminated"]
    dirty = run_contamination_probe(model, tok, test_items, out_dir=tmp_path)
    assert dirty["contaminated"], dirty["reasons"]
    pert = dirty["perturbation"]
    assert pert["acc_original"]["mean"] >= 0.7 and pert["drop"]["lo"] > 0
    assert dirty["calibrated_prefix"] and dirty["prefix"]["fractions"]["0.6"]["exact_match"] >= 0.5
    assert json.loads((tmp_path / "contamination.json").read_text())["contaminated"] is True
    assert "CONTAMINATED" in write_html_report(tmp_path).read_text()

    model, tok, _ = models["clean"]
    clean = run_contamination_probe(model, tok, test_items)
    assert not clean["contaminated"], clean["reasons"]
    assert clean["perturbation"]["drop"]["mean"] < 0.15
    assert clean["prefix"]["fractions"]["0.6"]["exact_match"] < 0.2


def test_contamination_probe_with_train_file_and_no_perturber(word_models):
    from ponder.probes import run_contamination_probe

    test_items, models = word_models
    model, tok, train_file = models["contaminated"]
    res = run_contamination_probe(model, tok, test_items[:6], train_file=train_file, fractions=(0.6,),
                                  perturb_fn=None)
    assert res["overlap"]["fraction"] == 1.0  # every test problem is in its training file verbatim
    assert res["perturbation"] is None and res["prefix_control"] is None and not res["calibrated_prefix"]
    assert any("gram" in r for r in res["reasons"])
    with pytest.raises(PonderError, match="no items"):
        run_contamination_probe(model, tok, [])
    for prompt in ([{"role": "system", "content": "x y"}], [{"role": "user", "content": " "}],
                   [{"role": "user", "content": [{"type": "text", "text": "x y"}]}], 3):
        with pytest.raises(PonderError, match="neither text nor chat messages whose last user message has "):
            run_contamination_probe(model, tok, [{"id": "q", "prompt": prompt, "answer": "1"}])


def _as_chat(items: list[dict], wrap: str = "{}", system: bool = True) -> list[dict]:
    """The same problems in verl's / open-r1's layout: the prompt a list of chat messages."""
    sys_msg = [{"role": "system", "content": "Reason step by step."}] if system else []
    return [{**it, "prompt": [*sys_msg, {"role": "user", "content": wrap.format(it["prompt"])}]}
            for it in items]


def test_contamination_probe_probes_a_chat_prompt_s_problem_text(word_models):
    """Items whose prompt is chat messages were refused ("chat prompts cannot be prefix-probed"). The prefix
    probe continues the problem's own text, the last user message, as it does a text prompt: the same problems
    in either layout give the same prefix results, raw and on the perturbed copies (the control)."""
    from ponder.probes import run_contamination_probe

    test_items, models = word_models
    model, tok, _ = models["contaminated"]
    items = test_items[:4]
    plain = run_contamination_probe(model, tok, items, fractions=(0.6,), max_new_tokens=48)
    chat = run_contamination_probe(model, tok, _as_chat(items), fractions=(0.6,), max_new_tokens=48)
    assert chat["prefix"] == plain["prefix"] and chat["prefix_control"] == plain["prefix_control"]
    assert chat["prefix"]["items"][0]["prefix"].startswith("Problem:")  # no chat template in the probed text
    # the perturbation asks with the chat prompt: the same perturbed problems and golds, and it ran
    assert chat["perturbation_skipped"] is None and plain["perturbation_skipped"] is None
    assert [r["perturbed_gold"] for r in chat["perturbation"]["items"]] == \
        [r["perturbed_gold"] for r in plain["perturbation"]["items"]]


def test_the_perturbation_judges_a_prompt_that_opens_the_thinking_as_eval_does(tiny_random, monkeypatch):
    """A chat template that prefills "<think>" (DeepSeek-R1 distills): a completion cut off while thinking has no
    answer to the reward eval applies, but the probe judged and read it as plain text, so an answer drafted in the
    thinking counted as right (and as a repeat of the old gold on the perturbed copy)."""
    import copy
    import types

    import ponder.engine
    from ponder.probes import run_contamination_probe
    from ponder.tasks import generate

    model, tok = tiny_random
    tok = copy.copy(tok)
    tok.chat_template, tok._jinja = ("{% for m in messages %}{{ m['content'] }}{% endfor %}"
                                     "{% if add_generation_prompt %}{{ '<think>\\n' }}{% endif %}"), None
    items = _as_chat(generate("word", "test", 3, seed=0), system=False)
    gold = {it["prompt"][-1]["content"]: it["answer"] for it in items}

    def drafts(model, tok, prompts, **kw):  # the original's gold drafted in a thinking cut off (chat prompts only)
        return [[types.SimpleNamespace(text="zzz" if isinstance(p, str) else
                                       f"so it is \\boxed{{{gold.get(p[-1]['content'], next(iter(gold.values())))}}} "
                                       "and then")] for p in prompts]

    monkeypatch.setattr(ponder.engine, "sample", drafts)
    res = run_contamination_probe(model, tok, items, fractions=(0.6,), max_new_tokens=8)
    pert = res["perturbation"]
    assert pert["acc_original"]["mean"] == 0.0 and pert["orig_gold_repeats"] == 0
    assert all(r["orig_answer"] is None and r["perturbed_answer"] is None for r in pert["items"])


def test_chat_items_are_perturbed_inside_their_user_message(word_models):
    """The word re-sampler perturbs the problem's text where it stands in the last user message, keeping the
    messages around it and a wrapper around the problem; a user message that does not hold the problem's text
    skips the perturbation, said in the result, as for data without a re-sampler."""
    from ponder.probes import _perturber, format_contamination, run_contamination_probe
    from ponder.tasks.word import perturb

    test_items, models = word_models
    item = test_items[0]
    story = item["prompt"].removeprefix("Problem: ").removesuffix("\nSolution:")
    for wrap, want in (("Solve this. {} Be brief.", "Solve this. {} Be brief."),
                       ("Q: " + story + " A:", "Q: {} A:")):
        chat = _as_chat([item], wrap)[0]
        copy = _perturber([chat])(chat, 7)
        new = perturb(item, 7)
        new_story = new["prompt"].removeprefix("Problem: ").removesuffix("\nSolution:")
        assert copy["prompt"][0] == chat["prompt"][0] and copy["answer"] == new["answer"]
        assert copy["prompt"][1] == {"role": "user",
                                     "content": want.format(new["prompt"] if "{}" in wrap else new_story)}
    model, tok, _ = models["contaminated"]
    items = _as_chat(test_items[:2])
    items[1] = {**items[1], "prompt": [{"role": "user", "content": "How many apples are left, in all?"}]}
    res = run_contamination_probe(model, tok, items, fractions=(0.6,), max_new_tokens=16)
    assert res["perturbation"] is None and res["prefix_control"] is None and not res["calibrated_prefix"]
    why = f"the last user message of item {items[1]['id']} does not hold"
    assert res["perturbation_skipped"].startswith(why)
    assert f"perturbed numbers: not run ({why}" in format_contamination(res)


def test_diversity_probe_runs_models_and_writes_heatmap(word_models, tiny_random, tmp_path):
    from ponder.engine import sample
    from ponder.probes import run_diversity_probe

    test_items, models = word_models
    m, tok, _ = models["clean"]
    items = test_items[:4]
    res = run_diversity_probe({"clean": (m, tok), "random": tiny_random}, items, n_samples=3, max_new_tokens=24,
                              out_dir=tmp_path)
    assert res["models"] == ["clean", "random"]
    mat = np.array(res["inter"]["matrix"])
    assert mat.shape == (2, 2) and np.allclose(mat, mat.T)
    for name in ("clean", "random"):
        assert res["intra"][name]["n_prompts"] == 4
        assert 0.0 <= res["intra"][name]["similarity"]["mean"] <= 1.0
    assert (tmp_path / "diversity.json").is_file() and (tmp_path / "diversity_heatmap.png").is_file()
    # the file holds every setting the samples were drawn and compared with (it held the temperature alone), and
    # each model's share of samples cut at max_new_tokens (shorter texts: other n-gram counts), as sample() says
    saved = json.loads((tmp_path / "diversity.json").read_text())
    assert {k: saved[k] for k in ("temperature", "top_p", "max_new_tokens", "seed", "method", "ngram_n")} == dict(
        temperature=1.0, top_p=1.0, max_new_tokens=24, seed=0, method="ngram", ngram_n=2)
    for name, (model, t) in {"clean": (m, tok), "random": tiny_random}.items():
        out = sample(model, t, [it["prompt"] for it in items], n=3, max_new_tokens=24, temperature=1.0, seed=0)
        assert saved["truncation_rate"][name] == sum(s.finish_reason == "length" for g in out for s in g) / 12
    assert saved["truncation_rate"]["random"] > 0  # (random weights seldom draw the end of text in 24 tokens)
    assert "cut at max_new_tokens (24): " in format_diversity(saved) and "random " in format_diversity(saved)
    # greedy samples are identical: similarity and self-BLEU are exactly 1
    same = run_diversity_probe((m, tok), items, n_samples=3, temperature=0.0, max_new_tokens=24)
    assert same["intra"]["model"]["similarity"]["mean"] == pytest.approx(1.0)
    assert same["intra"]["model"]["self_bleu"]["mean"] == pytest.approx(1.0)
    with pytest.raises(PonderError, match="n_samples"):
        run_diversity_probe((m, tok), items, n_samples=1)


def test_diversity_probe_takes_a_numpy_sample_count_and_names_an_item_without_a_prompt(tiny_random):
    """A numpy n_samples (from a grid of settings) was refused as "must be an integer >= 2, got np.int64(3)", and an
    item without a 'prompt' was a bare KeyError."""
    from ponder.probes import run_diversity_probe

    res = run_diversity_probe(tiny_random, ["1 + 2 ="], n_samples=np.int64(2), max_new_tokens=4)
    assert res["n_samples"] == 2 and type(res["n_samples"]) is int
    with pytest.raises(PonderError, match=r"diversity probe: item q7 has no 'prompt' \(keys: \['id', 'question'\]\)"):
        run_diversity_probe(tiny_random, [{"id": "q7", "question": "1 + 2 ="}], n_samples=2, max_new_tokens=4)


def test_a_model_resembles_itself_across_the_matrix_as_on_its_diagonal(tiny_random):
    """Every model samples with the same seed, so sample i of two models is drawn with the same random numbers:
    the cross-model mean took in the pairs (A_i, B_i), alike by construction. The same model twice read 0.25
    across against 0.0 on its diagonal (4 samples: 1 pair in 4 identical), 'resembles B more than itself'."""
    from ponder.probes import run_diversity_probe

    res = run_diversity_probe({"a": tiny_random, "b": tiny_random}, ["Problem: 1 + 2 = ?", "the quick", "12 +"],
                              n_samples=4, max_new_tokens=12)
    pairs = res["inter"]["pairs"]
    assert pairs["a|b"] == pytest.approx(pairs["a|a"]) and pairs["a|a"] == pytest.approx(pairs["b|b"])
    # one sample each (greedy outputs compared): the one pair there is
    one = inter_model_homogeneity({"a": [["x y z"]], "b": [["x y w"]]})
    assert one["pairs"]["a|b"] == pytest.approx(1 / 3)


def test_a_bad_train_file_is_refused_before_any_sampling(tiny_random, tmp_path, monkeypatch):
    """A missing --train-file used to fail only after every prefix and perturbation generation, and a directory
    was reported as 'training file not found'."""
    import ponder.engine
    from ponder.probes import run_contamination_probe

    def no_sampling(*a, **k):
        raise AssertionError("sampled before checking the training file")

    monkeypatch.setattr(ponder.engine, "sample", no_sampling)
    items = [{"prompt": "Problem: 1 + 2 = ?\nSolution:", "answer": "3"}]
    with pytest.raises(PonderError, match="missing.txt: training file not found"):
        run_contamination_probe(*tiny_random, items, train_file=tmp_path / "missing.txt")
    with pytest.raises(PonderError, match=f"^{tmp_path}: is a directory, not a training file$"):
        iter_texts(tmp_path)


def test_the_prefix_probe_decodes_far_enough_to_recite_a_long_problem(tiny_random, monkeypatch):
    """Every prefix was decoded to max_new_tokens (128 from the CLI): a problem whose rest takes more tokens (a long
    MATH or GSM8K problem at 40% of its words) could not be recited whole, so a model that memorised it scored exact
    match 0 and a capped ROUGE-L. A verbatim reciter, cut at the budget it is given, is caught at every fraction."""
    import types

    import ponder.engine
    from ponder.probes import run_contamination_probe

    model, tok = tiny_random
    long = " ".join(PROBLEMS)  # (60 words: a rest of 24 to 36 words, far over 16 tokens)
    problems = [long, PROBLEMS[0]]
    budgets = []

    def reciter(model, tok, prompts, *, max_new_tokens, **kw):  # greedy recitation, max_new_tokens tokens of it
        budgets.append(max_new_tokens)
        out = []
        for p in prompts:
            rest = next(q for q in problems if q.startswith(p))[len(p):]
            ids = tok.encode_continuation(p, rest)[:max_new_tokens]
            out.append([types.SimpleNamespace(text=tok.decode_continuation(tok.encode(p, add_special_tokens=False), ids))])
        return out

    monkeypatch.setattr(ponder.engine, "sample", reciter)
    items = [{"prompt": q, "answer": "1"} for q in problems]
    res = run_contamination_probe(model, tok, items, perturb_fn=None, max_new_tokens=16)
    assert {f: fr["n"] for f, fr in res["prefix"]["fractions"].items()} == dict.fromkeys(("0.4", "0.6", "0.8"),
                                                                                          len(problems))
    for f, fr in res["prefix"]["fractions"].items():
        assert fr["exact_match"] == 1.0 and fr["rouge_l"]["mean"] == 1.0, f
    assert min(budgets) >= 16 and max(budgets) > 16


@pytest.mark.parametrize("probe", ["contamination", "diversity"])
def test_a_probe_seed_of_none_is_refused_before_any_sampling(tiny_random, monkeypatch, probe):
    """seed=None was a bare TypeError at the contamination probe's perturbed copies (seed * 1_000_003), and the
    diversity probe drew every sample of every model (each from a fresh random stream, not one seed for all) before
    its bootstrap refused it as "bootstrap_ci: seed=None"."""
    import ponder.engine
    from ponder.probes import run_contamination_probe, run_diversity_probe
    from ponder.tasks import generate

    def no_sampling(*a, **k):
        raise AssertionError("sampled before checking the seed")

    monkeypatch.setattr(ponder.engine, "sample", no_sampling)
    items = generate("word", "test", 2, seed=0)
    run = (lambda **kw: run_contamination_probe(*tiny_random, items, **kw)) if probe == "contamination" else (
        lambda **kw: run_diversity_probe(tiny_random, items, n_samples=2, **kw))
    with pytest.raises(PonderError, match=f"{probe} probe: seed must be an integer in \\[0, 2\\*\\*63\\), got None"):
        run(seed=None)
    with pytest.raises(PonderError, match="seed must be an integer in .*got -1"):
        run(seed=-1)


@pytest.mark.parametrize("bad", ["word", "none", 5])
def test_a_perturb_fn_that_is_no_function_is_refused_by_name(tiny_random, bad):
    """perturb_fn="word" (the task's re-sampler, meant), "none" (None, meant) or a number was a bare "'str' object is
    not callable" TypeError."""
    from ponder.probes import run_contamination_probe
    from ponder.tasks import generate

    with pytest.raises(PonderError, match=r"perturb_fn must be 'auto' \(the task's number re-sampler\), None"):
        run_contamination_probe(*tiny_random, generate("word", "test", 2, seed=0), perturb_fn=bad)


def test_calibrated_excess_interval_is_clamped_with_its_mean():
    """An excess below 0 is no excess: the mean was clamped to 0 but its interval stayed negative, a mean
    outside its own interval."""
    from ponder.probes import _paired_excess

    orig = {"items": [{"index": i, "fraction": 0.6, "exact": False, "rouge_l": 0.5} for i in range(3)]}
    ctrl = {"items": [{"index": i, "fraction": 0.6, "exact": False, "rouge_l": 0.5 + d}
                      for i, d in enumerate((0.1, 0.2, 0.3))]}
    r = _paired_excess(orig, ctrl, (0.6,), seed=0)["fractions"]["0.6"]["rouge_l"]
    assert r["lo"] <= r["mean"] <= r["hi"] and r == {"mean": 0.0, "lo": 0.0, "hi": 0.0}


def test_a_calibrated_prefix_excess_on_a_few_items_is_not_evidence():
    """The calibrated prefix excess (original minus perturbed copies) flagged contamination from one or two items:
    one item recited exactly where its copy was not read "exact-match rate 1.00 >= 0.2", a chance guess of one
    number. A sign test on the items that differ (as McNemar's test guards the perturbation drop) must back it:
    one item is p = 0.5; eight, all one way, p = 1/256."""
    from ponder.probes import _paired_excess

    def run(n):
        orig = {"items": [{"index": i, "fraction": 0.6, "exact": True, "rouge_l": 1.0} for i in range(n)]}
        ctrl = {"items": [{"index": i, "fraction": 0.6, "exact": False, "rouge_l": 0.4} for i in range(n)]}
        return _paired_excess(orig, ctrl, (0.6,), seed=0)

    for n, flagged in ((1, False), (2, False), (8, True)):
        exc = run(n)
        fr = exc["fractions"]["0.6"]
        assert fr["exact_match"] == 1.0 and fr["rouge_l"]["mean"] == pytest.approx(0.6)
        assert fr["exact_match_p"] == fr["rouge_l_p"] == 0.5**n
        v = contamination_verdict(prefix=exc)
        assert v["contaminated"] is flagged, (n, v["reasons"])
        assert v["evidence"]["prefix"]["exact_match_p"] == 0.5**n
        line = format_contamination({**v, "calibrated_prefix": True}).splitlines()[1]
        # two tests (exact match and ROUGE-L, the same p): each Holm-adjusted to 2p
        assert (f"exact match 1.00 (flagged at 0.2; sign test p = {0.5**n:.2g}, Holm-adjusted "
                f"{min(1, 2 * 0.5**n):.2g}, flagged under 0.025)") in line
    # results without the tests (uncalibrated, or saved before them) are judged by the rates as before
    assert contamination_verdict(prefix=_fake_prefix(0.2, 0.3))["contaminated"]


def test_the_sign_test_is_exact_and_takes_a_large_benchmark():
    """The sign test's tail is exact (a binomial(n, 1/2) sum); a comb() per term took 70 s for one p over 30,000
    items, and a calibrated prefix excess takes two per fraction over (nearly) every item."""
    import math

    from ponder.probes import _sign_p

    for up, down in ((0, 0), (1, 0), (0, 1), (8, 0), (3, 5), (40, 17), (17, 40)):
        n = up + down
        assert _sign_p(up, down) == sum(math.comb(n, k) for k in range(up, n + 1)) / 2**n
    assert _sign_p(15_000, 15_000) == pytest.approx(0.5023, abs=1e-4)


def _strict_json(text: str):
    """json.loads that refuses NaN and Infinity, as JavaScript and jq do."""
    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def test_contamination_json_is_strict_json_for_one_item(tiny_random, tmp_path):
    """One item's paired drop has no interval over items (-inf, inf): contamination.json was written with
    Infinity, which strict JSON readers reject."""
    from ponder.probes import run_contamination_probe
    from ponder.tasks import generate

    res = run_contamination_probe(*tiny_random, generate("word", "test", 1, seed=0), max_new_tokens=8,
                                  out_dir=tmp_path)
    assert res["perturbation"] is not None
    saved = _strict_json((tmp_path / "contamination.json").read_text())
    # (the drop's interval of one item is Newcombe's, finite; a ROUGE-L mean over one item has none)
    assert saved["prefix"]["fractions"]["0.6"]["rouge_l"]["lo"] is None


def test_bad_thresholds_or_fractions_are_refused_before_any_sampling():
    """fractions without the verdict's prefix_fraction (0.6) or an unknown threshold failed only in
    contamination_verdict, after every generation of the probe, and nothing was kept. With no model at all,
    any sampling would be an AttributeError, not the PonderError naming the problem."""
    from ponder.probes import run_contamination_probe
    from ponder.tasks import generate

    items = generate("word", "test", 2, seed=0)
    with pytest.raises(PonderError, match="lack the verdict's prefix_fraction 0.6"):
        run_contamination_probe(None, None, items, fractions=(0.4, 0.8))
    with pytest.raises(PonderError, match=r"unknown threshold\(s\) \['drop_mn'\]"):
        run_contamination_probe(None, None, items, thresholds={"drop_mn": 0.1})
    # A threshold of the wrong type was a bare TypeError in the verdict, after all the generation.
    for bad in ("0.2", None, float("nan"), True):
        with pytest.raises(PonderError, match=rf"threshold drop_min must be a finite number, got {bad!r}"):
            run_contamination_probe(None, None, items, thresholds={"drop_min": bad})
    with pytest.raises(PonderError, match="threshold prefix_fraction must be a finite number, got '0.6'"):
        contamination_verdict(overlap={"n": 13, "n_items": 1, "n_flagged": 0, "fraction": 0.0},
                              thresholds={"prefix_fraction": "0.6"})
    with pytest.raises(PonderError, match="prefix_fraction must be in \\(0, 1\\), got 60"):
        run_contamination_probe(None, None, items, fractions=(60,), thresholds={"prefix_fraction": 60})
    with pytest.raises(PonderError, match="fraction '0.6' must be a number in"):
        run_contamination_probe(None, None, items, fractions=("0.6",), thresholds={"prefix_fraction": 0.6})
    # results are keyed by the fraction printed with :g, so a repeated one overwrote the other's figures
    for twice in ((0.4, 0.6, 0.6), (0.6, 0.6000001)):
        with pytest.raises(PonderError, match="is given twice"):
            run_contamination_probe(None, None, items, fractions=twice)
    # an n-gram length or a reward that cannot be used failed only after all the generation (an AttributeError here)
    train = Path(__file__)  # (any readable file: the length is refused before it is read)
    for bad in (0, 1.5):
        with pytest.raises(PonderError, match=rf"ngram_n={bad!r} must be an integer >= 1"):
            run_contamination_probe(None, None, items, train_file=train, ngram_n=bad)
    with pytest.raises(PonderError, match="no-such-reward"):
        run_contamination_probe(None, None, items, reward="no-such-reward")


def test_items_that_cannot_be_perturbed_are_refused_before_any_sampling():
    """A word item with an unknown template (or a split no problem is in) failed in the perturbation probe,
    after the whole prefix probe had been generated. With no model at all, any sampling would be an
    AttributeError, not the PonderError naming the item."""
    from ponder.probes import run_contamination_probe
    from ponder.tasks import generate

    item = generate("word", "test", 1, seed=0)[0]
    with pytest.raises(PonderError, match=f"cannot perturb word item {item['id']!r}: unknown word template 'nope'"):
        run_contamination_probe(None, None, [dict(item, template="nope")])
    with pytest.raises(PonderError, match="its split 'dev' is not one of"):
        run_contamination_probe(None, None, [dict(item, split="dev")])


def test_format_contamination_says_when_no_perturbation_ran(tiny_random, tmp_path):
    """--data rows without word templates skip the perturbation probe and the prefix calibration; the summary
    printed only the prefix line, so a reader could not tell a probe had not run."""
    from ponder.probes import format_contamination, run_contamination_probe

    items = [{"prompt": "Problem: Tom has 3 apples and buys 4 more. How many apples?\nSolution:", "answer": "7"}]
    res = run_contamination_probe(*tiny_random, items, max_new_tokens=8)
    assert res["perturbation"] is None
    text = format_contamination(res)
    assert "perturbed numbers: not run" in text and "uncalibrated" in text
    assert "of the words, 1 problem:" in text  # (it read "1 problems")


def test_contamination_probe_names_a_chat_prompt_item_by_its_id():
    """A --data row of chat messages was named "item 0" (its index), which no file line or field says."""
    from ponder.probes import run_contamination_probe

    items = [{"id": "a", "prompt": "1 + 1 = ?", "answer": "2"},
             {"id": "row-7", "prompt": [{"role": "user", "content": ""}], "answer": "1"}]
    with pytest.raises(PonderError, match="^contamination probe: item row-7's 'prompt' is "):
        run_contamination_probe(None, None, items)


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self"), reason="needs Linux /proc")
def test_probes_refuse_an_unwritable_out_dir_before_sampling(tiny_random, capsys):
    """`ponder probe diversity --out /proc/x` sampled every prompt, then failed at the write ("cannot create
    directory /proc/x"; os.access says yes to root for /proc). Both probes refuse an output that cannot be
    written before any generation: the error names the file, and no progress bar was started."""
    from ponder.probes import run_contamination_probe, run_diversity_probe

    model, tok = tiny_random
    items = [{"id": "w0", "prompt": "Problem: 3 + 4 = ?\nSolution:", "answer": "7"}]
    for run, name in ((lambda d: run_diversity_probe(tiny_random, items, n_samples=2, max_new_tokens=4,
                                                     out_dir=d, progress=True), "diversity.json"),
                      (lambda d: run_contamination_probe(model, tok, items, perturb_fn=None, max_new_tokens=4,
                                                         out_dir=d, progress=True), "contamination.json")):
        with pytest.raises(PonderError, match=rf"^/proc/ponder-x/{name}: cannot write into /proc \("):
            run("/proc/ponder-x")
        assert "probe" not in capsys.readouterr().err  # (the bar's description: no sampling began)


def test_contamination_probe_refuses_a_control_that_is_no_bool():
    """control="no" (a settings file's text) was truthy: the calibration control ran, as if asked for."""
    from ponder.probes import run_contamination_probe

    items = [{"id": "a", "prompt": "1 + 1 = ?", "answer": "2"}]
    for bad in ("no", None, "false"):
        with pytest.raises(PonderError, match=rf"^contamination probe: control must be True or False, got {bad!r}$"):
            run_contamination_probe(None, None, items, control=bad)


def test_the_probes_refuse_a_progress_that_is_no_bool(tiny_random, capsys):
    """progress="no" (a settings file's text) was truthy: the bar was drawn, as if asked for; now one line
    naming the argument, as control's, before any sampling."""
    from ponder.probes import run_contamination_probe, run_diversity_probe

    items = [{"id": "a", "prompt": "1 + 1 = ?", "answer": "2"}]
    for bad in ("no", None, "false", 0.0):
        with pytest.raises(PonderError, match=rf"^contamination probe: progress must be True or False, got {bad!r}$"):
            run_contamination_probe(None, None, items, progress=bad)
        with pytest.raises(PonderError, match=rf"^diversity probe: progress must be True or False, got {bad!r}$"):
            run_diversity_probe(tiny_random, items, n_samples=2, max_new_tokens=2, progress=bad)
    assert capsys.readouterr().err == ""  # (no bar, no sampling)


def test_words_are_the_same_whatever_the_texts_unicode_form_and_keep_their_combining_marks():
    """A training text in decomposed form (NFD) or with full-width digits is the same words as the item; a combining
    mark (an accent written apart, a Devanagari vowel sign) is part of its word, not a split."""
    import unicodedata

    item = "Léa a acheté douze crêpes à la crêperie près de la forêt et en a mangé cinq"
    assert normalize_words(unicodedata.normalize("NFD", item)) == normalize_words(item)
    assert normalize_words("Ｘ ３.5") == ["x", "3", "5"]
    assert normalize_words("हिन्दी में लिखा") == ["हिन्दी", "में", "लिखा"]
    res = ngram_overlap([unicodedata.normalize("NFD", item)], [unicodedata.normalize("NFC", item)], n=8)
    assert res["n_flagged"] == 1


def test_chat_word_item_with_a_null_name_is_perturbed_as_its_text_is():
    """A null name is the default one for the text re-sampler (word.perturb); the chat re-sampler must find the
    same story in the user message, not skip the perturbation (it looked for "None buys ...")."""
    from ponder.probes import _perturber
    from ponder.tasks import generate
    from ponder.tasks.word import NAMES, perturb, render

    it = generate("word", "test", 1, seed=0)[0]
    prompt = render(it["template"], it["numbers"], NAMES[0], it["obj"])[0]
    row = {**it, "name": None, "prompt": [{"role": "user", "content": "Solve: " + prompt}]}
    copy = _perturber([row])(row, 0)
    want = perturb({**row, "prompt": prompt}, 0)
    assert copy is not None and copy["prompt"][0]["content"] == "Solve: " + want["prompt"]
    assert copy["answer"] == want["answer"]


def test_chat_word_item_from_parquet_with_null_slots_is_perturbed():
    """A Parquet struct's null slots of other templates (`numbers` {"a": 7, "b": 9, "c": 15, "d": None}) are not
    the story's: the chat re-sampler perturbs the item as word.perturb does the text one."""
    from ponder.probes import _perturber
    from ponder.tasks import generate
    from ponder.tasks.word import perturb

    for it in generate("word", "test", 30, seed=0):
        row = {**it, "numbers": {s: it["numbers"].get(s) for s in "abcd"},
               "prompt": [{"role": "user", "content": it["prompt"]}]}
        copy = _perturber([row])(row, 3)
        assert copy is not None and copy["prompt"][0]["content"] == perturb(it, 3)["prompt"]


def test_a_perturb_fn_that_returns_the_problem_unchanged_gives_no_control(tiny_random):
    """A copy whose problem is the original's (no numbers to re-sample) is no unseen control: the calibrated excess
    and the drop over it are 0 by construction, and a benchmark recited word for word read "no evidence of
    contamination". Such a perturbation is skipped, said why, and the prefix rates stay uncalibrated."""
    from ponder.probes import run_contamination_probe
    from ponder.tasks import generate
    from ponder.tasks.word import perturb

    items = generate("word", "test", 3, seed=0)
    same_second = lambda it, seed: dict(it) if it is items[1] else perturb(it, seed)  # noqa: E731

    res = run_contamination_probe(*tiny_random, items, fractions=(0.6,), max_new_tokens=4, perturb_fn=same_second)
    assert res["perturbation"] is None and res["prefix_control"] is None and not res["calibrated_prefix"]
    assert res["perturbation_skipped"].startswith(f"perturb_fn returned 1 problem unchanged (first: item "
                                                  f"{items[1]['id']})")
    assert "perturbed numbers: not run (perturb_fn returned 1 problem unchanged" in format_contamination(res)


def test_prefix_probe_decodes_a_rest_within_a_yarn_models_whole_context(monkeypatch):
    """The prefix probe decodes a problem's rest whole where the model's context has room: a YaRN model takes
    original_max_position_embeddings x factor positions (as vLLM and sample() do), but the room was counted
    to max_position_embeddings, so a rest that fits was cut short (its exact match 0 whatever was memorised)."""
    import dataclasses

    import ponder
    import ponder.engine as engine
    from ponder.probes import run_contamination_probe

    model, tok = ponder.load("tiny")
    cfg = dataclasses.replace(model.config, max_position_embeddings=24, rope_scaling={
        "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16})
    yarn = ponder.Transformer(cfg).init_weights(0).eval()
    real, budgets = engine.sample, []
    monkeypatch.setattr(engine, "sample", lambda *a, **kw: budgets.append(kw["max_new_tokens"]) or real(*a, **kw))
    text = "Problem: " + " ".join(f"{i} apples" for i in range(12))
    run_contamination_probe(yarn, tok, [{"prompt": text, "answer": "1"}], fractions=(0.6,), perturb_fn=None,
                            control=False, max_new_tokens=2)
    prefix = len(tok.encode(text[:int(len(text) * 0.6)], add_special_tokens=False))
    assert budgets == [64 - prefix], (budgets, prefix)  # (the rest takes more: decoded to the context's end)


def test_contamination_json_records_the_settings_that_produced_it(tiny_random, tmp_path):
    """contamination.json kept the verdict's evidence but not what the generations were made with: with no
    perturbation the seed was nowhere, and max_new_tokens, the reward and the training file never were, so a
    verdict read from the file could not be re-run (diversity.json records its own)."""
    from ponder.evaluate import _items_digest, _weights_digest
    from ponder.probes import run_contamination_probe
    from ponder.tasks import generate

    train = tmp_path / "train.txt"
    train.write_text("some training text\n")
    items = generate("arith", "test", 2, seed=0)  # (no number re-sampler: no perturbation, so no seed there)
    res = run_contamination_probe(*tiny_random, items, max_new_tokens=8, seed=7, fractions=(0.6,),
                                  train_file=train, ngram_n=3, out_dir=tmp_path / "out")
    saved = json.loads((tmp_path / "out" / "contamination.json").read_text())
    want = {"seed": 7, "max_new_tokens": 8, "fractions": [0.6], "control": True, "ngram_n": 3,
            "train_file": str(train), "reward": "math", "model": None,
            "weights_sha256": _weights_digest(tiny_random[0]), "items_sha256": _items_digest(items), "chat": False,
            "system": None, "chat_template_kwargs": {}}
    assert res["settings"] == saved["settings"] == want


def test_probes_record_the_chat_template_kwargs(tiny_random, tmp_path):
    """contamination.json and diversity.json did not record the tokenizer's template_kwargs (`ponder probe
    --chat-template-kwargs`), as eval's config.json does: probes with and without Qwen3's thinking read the same.
    Diversity records each model's, as eval's sweep does."""
    import copy

    from ponder.probes import run_contamination_probe, run_diversity_probe
    from ponder.tasks import generate

    model, plain = tiny_random
    tok = copy.copy(plain)
    tok.template_kwargs = {"enable_thinking": False}
    items = generate("arith", "test", 2, seed=0)
    res = run_contamination_probe(model, tok, items, max_new_tokens=2, fractions=(0.6,), out_dir=tmp_path / "c")
    saved = json.loads((tmp_path / "c" / "contamination.json").read_text())["settings"]
    assert res["settings"]["chat_template_kwargs"] == saved["chat_template_kwargs"] == {"enable_thinking": False}
    # (no out_dir: diversity.json is this result as JSON, and its heatmap takes seconds to draw)
    res = run_diversity_probe({"off": (model, tok), "default": (model, plain)}, items, n_samples=2, max_new_tokens=2)
    assert res["chat_template_kwargs"] == {"off": {"enable_thinking": False}, "default": {}}


def test_contamination_json_says_which_model_and_items_it_probed(tiny_random, tmp_path):
    """contamination.json did not name the model it probed, nor its weights or items (eval's config.json does):
    the verdicts of several checkpoints, each in its own --out, could not be told apart."""
    from ponder.evaluate import _items_digest, _weights_digest
    from ponder.probes import run_contamination_probe
    from ponder.tasks import generate

    items = generate("arith", "test", 2, seed=0)
    run_contamination_probe(*tiny_random, items, max_new_tokens=2, fractions=(0.6,), out_dir=tmp_path / "out",
                            model_name="runs/ckpt-7")
    saved = json.loads((tmp_path / "out" / "contamination.json").read_text())["settings"]
    assert saved["model"] == "runs/ckpt-7"
    assert saved["weights_sha256"] == _weights_digest(tiny_random[0]) is not None
    assert saved["items_sha256"] == _items_digest(items) != _items_digest(items[:1])
    with pytest.raises(PonderError, match="model_name must be text"):
        run_contamination_probe(*tiny_random, items, fractions=(0.6,), model_name=7)


def _tiny_probe_runs(tiny_random) -> dict:
    """Each probe as a function of its --out directory, on one tiny problem (fast)."""
    from ponder.probes import run_contamination_probe, run_diversity_probe

    model, tok = tiny_random
    items = [{"id": "w0", "prompt": "Problem: 3 + 4 = ?\nSolution:", "answer": "7"}]
    return {"diversity": lambda d: run_diversity_probe(tiny_random, items, n_samples=2, max_new_tokens=4,
                                                       out_dir=d, progress=False),
            "contamination": lambda d: run_contamination_probe(model, tok, items, perturb_fn=None, max_new_tokens=4,
                                                               fractions=(0.6,), out_dir=d, progress=False)}


def test_a_probe_run_again_into_its_out_dir_leaves_no_stale_report(tiny_random, tmp_path):
    """A probe run again into its --out (other settings, another model) replaced diversity.json or
    contamination.json but kept the report.html `ponder report` had rendered from the old one: the directory's
    report showed another run's figures."""
    from ponder.report import write_html_report

    runs = _tiny_probe_runs(tiny_random)
    for name, run in runs.items():
        run(tmp_path / name)
        report = write_html_report(tmp_path / name)
        assert report == tmp_path / name / "report.html" and report.is_file()
        run(tmp_path / name)
        assert not report.exists(), name


def test_a_probe_refuses_another_commands_directory_as_its_out(tiny_random, tmp_path):
    """`probe --out RUN_DIR` was never refused: pointed at a training run, an evaluation or a checkpoint it wrote
    diversity.json (or contamination.json) among that directory's files and deleted its report.html. Refused now,
    naming what the directory holds, before any sampling; a re-run into the probe's own directory replaces its
    result, and the other probe's result may sit beside it."""
    from ponder.checkpoint import save
    from ponder.report import write_html_report

    runs = _tiny_probe_runs(tiny_random)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"kind": "sft", "train": {}}))
    (run / "metrics.jsonl").write_text('{"step": 1, "loss": 2.0}\n')
    report = write_html_report(run)
    ckpt = tmp_path / "ckpt"
    save(*tiny_random, ckpt)
    stopped = tmp_path / "stopped"  # a run killed before its config.json: its metrics
    stopped.mkdir()
    (stopped / "metrics.jsonl").write_text('{"step": 1, "loss": 2.0}\n')
    own = tmp_path / "own"  # a file of the user's under the probe's name
    own.mkdir()
    for name, probe in runs.items():
        (own / f"{name}.json").write_text('{"mine": 1}')
        for d, said in ((run, "holds an 'sft' run, not probe results"), (ckpt, "holds a model checkpoint"),
                        (stopped, "holds a training run (its metrics.jsonl)"),
                        (own, f"holds a {name}.json that no {name} probe wrote")):
            before = sorted(p.name for p in d.iterdir())
            with pytest.raises(PonderError, match=re.escape(f"--out {d}: {said}")):
                probe(d)
            assert sorted(p.name for p in d.iterdir()) == before, (name, d)
        assert report.is_file()
        assert (own / f"{name}.json").read_text() == '{"mine": 1}'
    both = tmp_path / "probes"
    for probe in runs.values():  # each twice: the re-run replaces its own result
        probe(both)
        probe(both)
    assert {p.name for p in both.iterdir()} == {"contamination.json", "diversity.json", "diversity_heatmap.png"}


def test_a_diversity_probe_refuses_a_heatmap_no_probe_result_accompanies(tiny_random, tmp_path):
    """`probe diversity --out DIR` replaced a diversity_heatmap.png of the user's own silently (check_probe_out
    looked at diversity.json alone); a heatmap with no diversity.json beside it is no probe's, and refused before
    any sampling, as the JSON is. Beside the probe's own result, a re-run replaces it."""
    from ponder.probes import run_diversity_probe

    items = [{"id": "w0", "prompt": "Problem: 3 + 4 = ?\nSolution:", "answer": "7"}]

    def run(d):
        return run_diversity_probe(tiny_random, items, n_samples=2, max_new_tokens=4, out_dir=d, progress=False)

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "diversity_heatmap.png").write_bytes(b"my figure")
    with pytest.raises(PonderError, match=re.escape(f"--out {mine}: holds a diversity_heatmap.png with no "
                                                    "diversity.json beside it, which no diversity probe wrote")):
        run(mine)
    assert [p.name for p in mine.iterdir()] == ["diversity_heatmap.png"]
    assert (mine / "diversity_heatmap.png").read_bytes() == b"my figure"
    ours = tmp_path / "ours"
    run(ours)
    (ours / "diversity_heatmap.png").write_bytes(b"stale")
    run(ours)  # the probe's own result beside it: a re-run
    assert (ours / "diversity_heatmap.png").read_bytes().startswith(b"\x89PNG")


def test_a_probe_takes_a_folder_of_other_files_but_says_why_it_refuses_a_foreign_config_json(tiny_random, tmp_path):
    """check_probe_out's docstring said a folder of other files takes a probe's result, yet a config.json of no
    Ponder run (an experiment's own settings) was refused as "holds a config.json, not probe results", naming no
    reason. It is still refused (`ponder report` would show it as the probe's configuration), and says so; a
    folder of other files takes the result, leaving them as they were."""
    from ponder.probes import run_diversity_probe

    items = [{"id": "w0", "prompt": "Problem: 3 + 4 = ?\nSolution:", "answer": "7"}]

    def run(d):
        return run_diversity_probe(tiny_random, items, n_samples=2, max_new_tokens=4, out_dir=d, progress=False)

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("mine")
    run(notes)
    assert {p.name for p in notes.iterdir()} == {"notes.txt", "diversity.json", "diversity_heatmap.png"}
    assert (notes / "notes.txt").read_text() == "mine"
    for text in ('{"lr": 0.1}', "not json"):
        cfg = tmp_path / "cfg"
        cfg.mkdir(exist_ok=True)
        (cfg / "config.json").write_text(text)
        with pytest.raises(PonderError, match=re.escape(
                f"--out {cfg}: holds a config.json of no Ponder run, result or checkpoint, which `ponder report` "
                "would show as the diversity probe's configuration; choose another --out")):
            run(cfg)
        assert [p.name for p in cfg.iterdir()] == ["config.json"]


def test_a_probe_refuses_to_delete_a_report_html_beside_no_probe_result(tiny_random, tmp_path):
    """A probe deletes the report.html `ponder report` rendered from an older result (stale); into a folder of the
    user's own files it deleted their report.html too, silently. Refused before any sampling where no probe's
    result is beside it; beside the other probe's result it is that result's report, and goes."""
    from ponder.report import write_html_report

    runs = _tiny_probe_runs(tiny_random)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text("<p>my notes</p>")
    for name, run in runs.items():
        with pytest.raises(PonderError, match=re.escape(f"--out {mine}: holds a report.html beside no probe "
                                                        f"result, which the {name} probe would delete")):
            run(mine)
        assert [p.name for p in mine.iterdir()] == ["report.html"]
    both = tmp_path / "both"
    runs["contamination"](both)
    write_html_report(both)
    runs["diversity"](both)  # the contamination result's report: stale once the diversity result is beside it
    assert not (both / "report.html").exists()


def test_a_contamination_probe_reruns_over_its_result_saved_before_settings_were_kept(tiny_random, tmp_path):
    """A re-run of the contamination probe into its own --out was refused ("holds a contamination.json that no
    contamination probe wrote") where that result was saved before the probe kept its "settings": check_probe_out
    told the probe's own file by that key. Every version wrote "contaminated" and "evidence"; the re-run
    replaces the older result."""
    from ponder.probes import run_contamination_probe

    model, tok = tiny_random
    items = [{"id": "w0", "prompt": "Problem: 3 + 4 = ?\nSolution:", "answer": "7"}]

    def run(d):
        return run_contamination_probe(model, tok, items, perturb_fn=None, max_new_tokens=4, fractions=(0.6,),
                                       out_dir=d, progress=False)

    run(tmp_path)
    f = tmp_path / "contamination.json"
    saved = json.loads(f.read_text())
    del saved["settings"]  # as a contamination.json saved before the settings were kept
    f.write_text(json.dumps(saved))
    res = run(tmp_path)
    assert json.loads(f.read_text())["settings"] == json.loads(json.dumps(res["settings"], default=str))


def test_a_score_interval_over_few_items_stays_in_the_scores_range():
    """mean_ci widens an interval over 2-4 values to the Student-t one, whose range it does not know for values that
    are no success rate: a similarity score over two items ([0.1, 0.9]) got [-4.6, 5.6]. Scores lie in [0, 1]."""
    from ponder.probes import _ci

    ci = _ci([0.1, 0.9], score=True)
    assert (ci["mean"], ci["lo"], ci["hi"]) == (pytest.approx(0.5), 0.0, 1.0)
    ci = _ci([0.4, 0.5, 0.45, 0.5, 0.48, 0.41], score=True)  # (6 items: the bootstrap's, inside the values)
    assert 0.4 <= ci["lo"] < ci["mean"] < ci["hi"] <= 0.5


def test_text_word_items_are_perturbed_inside_their_own_prompt(tiny_random):
    """A text prompt that wraps the word problem ("Solve ... \\boxed{}.\\n<story>", a --data file's own layout) is
    perturbed where the problem stands, as a chat message is: the copy came back in the task's default layout
    ("Problem: ...\\nSolution:"), so the originals were solved and prefix-probed in one prompt format and their
    control in another, and the drop and the calibrated excess measured the change of format, not memory. A text
    prompt that does not hold the problem's text skips the perturbation, said why."""
    from ponder.probes import _perturber, run_contamination_probe
    from ponder.tasks import generate
    from ponder.tasks.word import perturb

    items = generate("word", "test", 2, seed=0)
    item = items[0]
    story = item["prompt"].removeprefix("Problem: ").removesuffix("\nSolution:")
    new = perturb(item, 7)
    new_story = new["prompt"].removeprefix("Problem: ").removesuffix("\nSolution:")
    for prompt, want in ((item["prompt"], new["prompt"]),  # the task's own layout: as before
                         ("Solve this. " + item["prompt"] + " Be brief.", "Solve this. " + new["prompt"] + " Be brief."),
                         ("Put the answer in \\boxed{}.\n" + story, "Put the answer in \\boxed{}.\n" + new_story)):
        row = {**item, "prompt": prompt}
        copy = _perturber([row])(row, 7)
        assert copy["prompt"] == want and copy["answer"] == new["answer"]
    rows = [{**items[0], "prompt": "Q: " + items[0]["prompt"]},
            {**items[1], "prompt": "How many apples are left, in all?"}]
    model, tok = tiny_random
    res = run_contamination_probe(model, tok, rows, fractions=(0.6,), max_new_tokens=4)
    assert res["perturbation"] is None and res["prefix_control"] is None and not res["calibrated_prefix"]
    assert res["perturbation_skipped"].startswith(f"the prompt of item {rows[1]['id']} does not hold")


def test_contamination_probe_counts_the_answers_cut_at_max_new_tokens(tiny_random):
    """The perturbation's greedy answers are cut at max_new_tokens: a cut answer is no answer, wrong on the original
    and its copy alike, so cut answers hide a drop, and nothing said any had been cut ("accuracy 0.0% -> 0.0%" read
    as a clean model). The result counts them on each side and the summary says so."""
    from ponder.probes import format_contamination, run_contamination_probe
    from ponder.tasks import generate

    model, tok = tiny_random
    items = generate("word", "test", 2, seed=0)
    res = run_contamination_probe(model, tok, items, fractions=(0.6,), max_new_tokens=2)
    assert res["perturbation"]["truncated"] == {"original": 2, "perturbed": 2, "max_new_tokens": 2}
    assert "(answers cut at max_new_tokens (2 tokens, scored wrong): 2 of 2 original, 2 of 2 perturbed" \
        in format_contamination(res)


def test_diversity_probe_names_the_item_whose_prompt_does_not_fit(tiny_random):
    """A --data row too long for the model's context was "prompt 5: prompt of 16004 tokens + ...": an index from 0
    among the prompts, where the file's row 6 was at fault, and no id or file (eval names the item)."""
    from ponder.probes import run_diversity_probe

    items = [{"prompt": "What is 1 + 1?", "id": "math500-1"}, {"prompt": "x " * 3000, "id": "test/counting/5.json"}]
    with pytest.raises(PonderError, match=re.escape("item test/counting/5.json: prompt of ")):
        run_diversity_probe(tiny_random, items, n_samples=2, max_new_tokens=8)


def test_contamination_probe_names_the_item_whose_prompt_does_not_fit(tiny_random):
    """As the diversity probe: its prefix probe said "prompt 1: prompt of ... tokens", an index among the prefixes."""
    from ponder.probes import run_contamination_probe

    model, tok = tiny_random
    items = [{"prompt": "What is 1 + 1 here?", "answer": "2", "id": "math500-1"},
             {"prompt": "x " * 3000, "answer": "1", "id": "test/counting/5.json"}]
    with pytest.raises(PonderError, match=re.escape("item test/counting/5.json: prompt of ")):
        run_contamination_probe(model, tok, items, perturb_fn=None, max_new_tokens=8, fractions=(0.6,))
