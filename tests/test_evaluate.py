"""evaluate() and sweep(): error cases, metric bookkeeping, files, sub-sampling. Uses the micro model of
test_scale (trained once per session) and the real math verifier."""

from __future__ import annotations

import functools
import json
import os

import pytest
from test_scale import LONG, PA, PB, SAY, micro_model

import ponder
from ponder import scale
from ponder.errors import PonderError
from ponder.evaluate import evaluate, parallel_points, sweep
from ponder.metrics import pass_at_k
from ponder.report import write_html_report
from ponder.verify.math import answers_equal, extract_answer
from ponder.verify.verdict import Verdict

ITEMS = [
    {"id": "a", "prompt": PA, "answer": "1/2"},
    {"id": "b", "prompt": PB, "answer": "7"},
    {"id": "s", "prompt": SAY, "answer": "5"},
    {"id": "l", "prompt": LONG, "answer": "19"},
]


@pytest.fixture(scope="module")
def micro():
    return micro_model()  # cached: trained once per session, shared with test_scale


def test_evaluate_errors(micro):
    model, tok = micro
    with pytest.raises(PonderError, match=r"k=8 > n=4"):
        evaluate(model, tok, ITEMS, n=4, ks=(1, 8), progress=False)
    with pytest.raises(PonderError, match="empty benchmark"):
        evaluate(model, tok, [], progress=False)
    with pytest.raises(PonderError, match="unknown method 'beam'"):
        evaluate(model, tok, ITEMS, method="beam", progress=False)
    with pytest.raises(PonderError, match="needs a judge"):
        evaluate(model, tok, ITEMS, method="best_of_n", method_kwargs={"scorer": "judge"}, progress=False)
    with pytest.raises(PonderError, match="greedy.*n must be 1"):
        evaluate(model, tok, ITEMS, method="greedy", n=2, progress=False)
    with pytest.raises(PonderError, match="item 1.*'answer'"):
        evaluate(model, tok, [ITEMS[0], {"prompt": PA}], progress=False)
    with pytest.raises(PonderError, match="no option"):
        evaluate(model, tok, ITEMS, method="self_consistency", method_kwargs={"votes": 3}, progress=False)
    with pytest.raises(PonderError, match="identical runs"):
        evaluate(model, tok, ITEMS, method="budget_forcing", n=2, progress=False)
    # sampling at temperature 0 used to be let through: pass@k over n copies of one completion
    with pytest.raises(PonderError, match="'sampling' with temperature 0 gives 3 identical runs"):
        evaluate(model, tok, ITEMS, method="sampling", n=3, temperature=0, progress=False)


@pytest.mark.parametrize("method", [["sampling", "self_consistency"], {"name": "sampling"}])
def test_a_method_that_is_no_name_is_refused_by_name_not_as_unhashable(micro, method):
    """A list of methods (as sweep takes) or a dict was a bare "unhashable type" TypeError from the alias lookup."""
    model, tok = micro
    with pytest.raises(PonderError, match=r"method must be one method's name, got (list|dict) .*curves over several: "
                                          "sweep"):
        evaluate(model, tok, ITEMS, method=method, progress=False)


@pytest.mark.parametrize("reward, item, msg", [
    ("math", {"id": "x", "prompt": PA, "answer": ["1/2", "0.5"]}, "field 'answer' must be text or a number"),
    ("math", {"id": "x", "prompt": PA, "answer": " "}, "field 'answer' is empty"),
    ("countdown", {"id": "x", "prompt": PA, "numbers": [1, 2], "target": "3"}, "field 'target' must be an integer"),
    # a placeholder gold the math verifier reads no answer from scored every sample "bad gold", the problem failed
    ("math", {"id": "x", "prompt": PA, "answer": "####"}, r"field 'answer' is '####', in which the math verifier finds "
                                                          "no answer: every completion would be scored wrong"),
    ("math", {"id": "x", "prompt": PA, "answer": "?"}, r"field 'answer' is '\?', in which the math verifier finds no"),
    ("math", {"id": "x", "prompt": PA, "answer": "work\n\\boxed{}"}, r"field 'answer' is .*, in which the math verifier finds "
                                                                       "no answer"),
])
def test_an_item_its_reward_cannot_judge_is_refused_before_anything_is_drawn(micro, monkeypatch, reward, item, msg):
    """The fields the reward's verifiers read were checked only when judging, once every sample had been drawn (hours
    on a benchmark): refused first, naming the item, as grpo and distill check them."""
    model, tok = micro

    def drew(*a, **kw):
        raise AssertionError("drew samples")

    monkeypatch.setattr(scale, "draw", drew)
    with pytest.raises(PonderError, match=rf"item x: reward '{reward}': {msg}"):
        evaluate(model, tok, [item], reward=reward, generate_fn=drew, progress=False)
    with pytest.raises(PonderError, match=rf"item x: reward '{reward}': {msg}"):
        sweep((model, tok), [item], reward=reward, parallel_ns=(1,), methods=("oracle",), progress=False)


def test_a_generate_fn_that_loses_problems_is_refused(micro):
    """Outcomes were paired with problems by zip: a hook returning fewer shrank the benchmark without a word."""
    model, tok = micro
    with pytest.raises(PonderError, match=f"generation returned outcomes for 1 of {len(ITEMS)} problems"):
        evaluate(model, tok, ITEMS, n=2, ks=(1,), progress=False,
                 generate_fn=lambda **kw: [[ponder.engine.Sample("1", [1], [-0.1], "stop")] * 2])


@pytest.mark.parametrize("method, kw, opt", [("greedy", {"temperature": 0.7}, "temperature"),
                                             ("greedy", {"top_p": 0.5}, "top_p"),
                                             ("greedy", {"top_k": 5}, "top_k")])
def test_a_sampling_setting_the_method_does_not_use_is_refused(micro, tmp_path, method, kw, opt):
    """It used to be dropped silently and recorded in config.json as if the completions had used it."""
    model, tok = micro
    with pytest.raises(PonderError, match=f"method '{method}' does not use {opt}"):
        evaluate(model, tok, ITEMS[:1], method=method, progress=False, out_dir=tmp_path / "e", **kw)
    assert not (tmp_path / "e").exists()
    evaluate(model, tok, ITEMS[:1], method="greedy", temperature=0.0, max_new_tokens=4, progress=False)  # its own


def test_a_rerun_into_an_eval_directory_drops_the_old_summary_first(micro, tmp_path, monkeypatch):
    """summary.json marks a finished evaluation: interrupted while replacing the other files, a rerun must not
    leave the old summary beside the new samples."""
    import ponder.evaluate as ev

    model, tok = micro
    evaluate(model, tok, ITEMS[:2], method="greedy", max_new_tokens=4, progress=False, out_dir=tmp_path / "e")
    real = ev.atomic_write_text

    def interrupted(path, text):
        if path.name == "config.json":
            raise KeyboardInterrupt
        return real(path, text)

    monkeypatch.setattr(ev, "atomic_write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        evaluate(model, tok, ITEMS[:1], method="greedy", max_new_tokens=4, progress=False, out_dir=tmp_path / "e")
    assert not (tmp_path / "e" / "summary.json").exists()


def test_a_rerun_into_an_eval_or_sweep_directory_leaves_no_stale_report(micro, tmp_path):
    """An eval or sweep run again into its directory replaced every result file but kept the report.html that
    `ponder report` had written from the old ones: the directory's report showed figures of another run."""
    model, tok = micro
    runs = {"e": lambda: evaluate(model, tok, ITEMS[:1], method="greedy", max_new_tokens=4, progress=False,
                                  out_dir=tmp_path / "e"),
            "s": lambda: sweep((model, tok), ITEMS[:1], methods=["majority"], parallel_ns=[1], max_new_tokens=4,
                               progress=False, n_boot=7, out_dir=tmp_path / "s")}
    for name, run in runs.items():
        run()
        report = write_html_report(tmp_path / name)
        assert report == tmp_path / name / "report.html" and report.is_file()
        run()
        assert not report.exists(), name


def test_never_answering_model_scores_zero_with_full_no_answer_rate(micro):
    model, tok = micro
    items = [{"id": f"s{i}", "prompt": SAY, "answer": str(i)} for i in range(5)]
    s = evaluate(model, tok, items, method="greedy", max_new_tokens=24, progress=False)
    m = s["metrics"]
    # 0 of 5: the Wilson interval, not a zero-width one (five problems cannot rule out 40% accuracy)
    assert m["pass@1"]["mean"] == m["pass@1"]["lo"] == 0.0 and m["pass@1"]["hi"] == pytest.approx(0.4345, abs=1e-4)
    assert m["no_answer_rate"]["mean"] == 1.0 and m["maj@1"]["mean"] == 0.0
    s = evaluate(model, tok, items, method="self_consistency", method_kwargs={"n_votes": 4}, temperature=0.3,
                 max_new_tokens=24, progress=False)
    assert s["metrics"]["pass@1"]["mean"] == 0.0 and s["metrics"]["no_answer_rate"]["mean"] == 1.0


def test_sampling_eval_metrics_match_the_samples(micro, tmp_path):
    model, tok = micro
    s = evaluate(model, tok, ITEMS, method="sampling", n=6, ks=(1, 2, 4), max_new_tokens=48, seed=3,
                 out_dir=tmp_path, progress=False, batch_problems=1, model_name="micro")
    recs = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert len(recs) == 6 * len(ITEMS)
    # chunked evaluation (batch_problems=1) draws exactly what one engine call draws
    ref = ponder.sample(model, tok, [it["prompt"] for it in ITEMS], n=6, max_new_tokens=48, temperature=1.0, seed=3)
    for r in recs:
        assert r["completion"] == ref[r["problem"]][r["sample"]].text
        assert r["answer"] == extract_answer(r["completion"])
        assert r["correct"] == (r["answer"] is not None and answers_equal(r["answer"], r["gold"]))
    by_p = [[r for r in recs if r["problem"] == i] for i in range(len(ITEMS))]
    p1 = sum(sum(r["correct"] for r in rs) / 6 for rs in by_p) / len(ITEMS)
    p4 = sum(pass_at_k(6, sum(r["correct"] for r in rs), 4) for rs in by_p) / len(ITEMS)
    m = s["metrics"]
    assert m["pass@1"]["mean"] == pytest.approx(p1) and m["pass@4"]["mean"] == pytest.approx(p4)
    assert m["pass@1"]["lo"] <= m["pass@1"]["mean"] <= m["pass@1"]["hi"]
    for key in ("maj@2", "maj@4", "wmaj@4", "mean_tokens", "mean_latency", "truncation_rate", "no_answer_rate"):
        assert key in m
    assert m["mean_tokens"]["mean"] == pytest.approx(sum(r["tokens"] for r in recs) / len(recs))
    assert m["no_answer_rate"]["mean"] == pytest.approx(sum(r["answer"] is None for r in recs) / len(recs))
    # the files a report reads
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["metrics"] == m and summary["model"] == "micro" and summary["n_samples"] == 6
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["method"] == "sampling"
    # the settings the figures depend on travel in the summary (and `ponder eval --json` without --out) too
    assert s["settings"] == summary["settings"] == {k: config[k] for k in s["settings"]}
    assert s["settings"] == {"max_new_tokens": 48, "temperature": 1.0, "top_p": 1.0, "top_k": 0, "min_p": 0.0, "seed": 3,
                             "reward": config["reward"], "chat": config["chat"], "system": None}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    html = write_html_report(tmp_path).read_text()
    assert "pass@4" in html and "Sample completions" in html and "no_answer_rate" in html


def test_method_evaluations_run_and_report(micro, tmp_path):
    model, tok = micro
    runs = {
        "self_consistency": dict(n=2, method_kwargs={"n_votes": 5, "early_stop": True, "chunk": 2}),
        "best_of_n": dict(n=1, method_kwargs={"n_candidates": 4}),
        "self_refine": dict(n=1, method_kwargs={"rounds": 1, "critique_tokens": 8}),
        "budget_forcing": dict(n=1, method_kwargs={"budget": 6, "answer_tokens": 4}),
        "effort": dict(n=1, method_kwargs={"level": "low", "answer_tokens": 4}),
    }
    for method, kw in runs.items():
        s = evaluate(model, tok, ITEMS, method=method, max_new_tokens=48, out_dir=tmp_path / method, progress=False,
                     **kw)
        assert s["method"] == method and s["n_problems"] == len(ITEMS)
        recs = [json.loads(x) for x in (tmp_path / method / "samples.jsonl").read_text().splitlines()]
        assert len(recs) == len(ITEMS) * kw["n"]
        assert s["metrics"]["pass@1"]["mean"] == pytest.approx(sum(r["correct"] for r in recs) / len(recs))
        write_html_report(tmp_path / method)
    # budget forcing through evaluate keeps its cap
    recs = [json.loads(x) for x in (tmp_path / "budget_forcing" / "samples.jsonl").read_text().splitlines()]
    assert all(r["tokens"] <= 6 + 4 and r["info"]["thinking_tokens"] <= 6 for r in recs)
    # the "pick B" majority answer is 7, the gold: self-consistency gets it right
    recs = [json.loads(x) for x in (tmp_path / "self_consistency" / "samples.jsonl").read_text().splitlines()]
    assert {r["sample"] for r in recs} == {0, 1}


def test_parallel_points_hand_computed():
    labels = [[False, True, True, False], [True, False, False, False]]
    answers = [["3", "0.5", "1/2", "3"], ["2", "4", "4", None]]
    lps = [[-0.1, -1.0, -0.5, -2.0], [-3.0, -0.2, -0.1, -0.1]]
    toks = [[10, 20, 30, 40], [5, 5, 5, 5]]
    pts = parallel_points(labels, answers, lps, toks, [1.0, 2.0], [1, 2, 4],
                          methods=["majority", "best_of_n", "oracle"], equal=answers_equal, n_boot=50)
    acc = {m: [p["accuracy"] for p in v] for m, v in pts.items()}
    # N=1: sample 0 only. N=2: p0 tie 3 vs 0.5 -> "3" (earliest) wrong; p1 tie 2 vs 4 -> "2" right.
    # N=4: p0 {3: 2, 0.5/1/2: 2} tie -> "3" wrong; p1 {4: 2} -> wrong.
    assert acc["majority"] == [0.5, 0.5, 0.0]
    assert acc["best_of_n"] == [0.5, 0.0, 0.0]  # p0: -0.1 is sample 0 (wrong); p1 N=2: sample 1 (wrong)
    assert acc["oracle"] == [0.5, 1.0, 1.0]
    tokens = [p["tokens"] for p in pts["majority"]]
    assert tokens == [7.5, 20.0, 60.0]
    lat = [p["latency"] for p in pts["majority"]]
    assert lat[-1] == pytest.approx(1.5) and lat[0] == pytest.approx((10 / 100 * 1.0 + 5 / 20 * 2.0) / 2)


def test_parallel_points_refuses_a_method_it_does_not_know():
    """Any name but oracle and best_of_n was computed as a majority vote and labelled as given ("bon", "mean"), and
    a string's letters were each a curve of majority votes."""
    args = ([[True, False]], [["1", "2"]], [[-0.1, -0.2]], [[5, 5]], [1.0], [1, 2])
    for methods in (["oracle", "bon"], "majority", ["mean"]):
        with pytest.raises(PonderError, match="parallel_points: methods must be a list of majority, "):
            parallel_points(*args, methods=methods, equal=None, n_boot=10)


def test_sweep_curves_files_and_invariants(micro, tmp_path):
    model, tok = micro
    res = sweep({"micro": (model, tok)}, ITEMS, parallel_ns=(1, 2, 4), budgets=(2, 4, 8),
                methods=("majority", "weighted_majority", "best_of_n", "oracle", "budget_forcing"),
                max_new_tokens=48, temperature=1.0, answer_tokens=4, out_dir=tmp_path, progress=False, n_boot=100)
    curves = {c["method"]: c for c in res["curves"]}
    assert set(curves) == {"majority", "weighted_majority", "best_of_n", "oracle", "budget_forcing"}
    assert curves["budget_forcing"]["kind"] == "sequential" and curves["majority"]["kind"] == "parallel"
    for m in ("majority", "weighted_majority", "best_of_n"):
        for p, o in zip(curves[m]["points"], curves["oracle"]["points"]):
            assert p["accuracy"] <= o["accuracy"] + 1e-12  # the oracle (pass@N) bounds every selector
    tok_n = [p["tokens"] for p in curves["majority"]["points"]]
    assert tok_n == sorted(tok_n) and tok_n[0] > 0
    for p in curves["budget_forcing"]["points"]:
        assert p["tokens"] <= p["budget"] + 4 and p["lo"] <= p["accuracy"] <= p["hi"]
    for name in ("scaling_tokens.png", "scaling_latency.png", "scaling.csv", "scaling.json", "summary.json"):
        assert (tmp_path / name).is_file()
    html = write_html_report(tmp_path).read_text()
    assert "scaling_tokens.png" in html and "micro/majority@4" in html


def test_sweep_subsampled_point_equals_a_separate_self_consistency_run(micro):
    model, tok = micro
    item = [{"id": "b", "prompt": PB, "answer": "7"}]
    res = sweep((model, tok), item, parallel_ns=(1, 3, 8), methods=("majority", "best_of_n"), max_new_tokens=24,
                temperature=1.0, seed=11, progress=False, n_boot=20)
    pts = {c["method"]: c["points"] for c in res["curves"]}
    assert {m: [p["budget"] for p in ps] for m, ps in pts.items()} == {"majority": [1, 3, 8], "best_of_n": [1, 3, 8]}
    for p in pts["majority"]:
        o = scale.self_consistency(model, tok, [PB], n_votes=p["budget"], temperature=1.0, max_new_tokens=24,
                                   seed=11)[0]
        assert p["accuracy"] == float(answers_equal(o.answer or "", "7"))
        assert p["tokens"] == o.tokens
    for p in pts["best_of_n"]:
        o = scale.best_of_n(model, tok, [PB], n_candidates=p["budget"], temperature=1.0, max_new_tokens=24,
                            seed=11)[0]
        assert p["accuracy"] == float(answers_equal(o.answer or "", "7")) and p["tokens"] == o.tokens


def test_sweep_config_records_n_boot_extract_and_equal(micro, tmp_path):
    """sweep's config.json left out n_boot, extract and equal (evaluate's records them): the file did not say how
    its intervals were resampled or its votes read. Recorded as evaluate's are, a callable by its name."""
    model, tok = micro

    def boxed(text):
        return extract_answer(text)

    kw = dict(methods=["majority"], parallel_ns=[1], max_new_tokens=4, progress=False, n_boot=7)
    sweep((model, tok), ITEMS[:1], extract=boxed, equal=answers_equal, out_dir=tmp_path / "a", **kw)
    sweep((model, tok), ITEMS[:1], out_dir=tmp_path / "b", **kw)
    config = {d: json.loads((tmp_path / d / "config.json").read_text()) for d in ("a", "b")}
    assert {k: config["a"][k] for k in ("n_boot", "extract", "equal")} == {"n_boot": 7, "extract": "boxed",
                                                                           "equal": "answers_equal"}
    assert {k: config["b"][k] for k in ("n_boot", "extract", "equal")} == {"n_boot": 7, "extract": None,
                                                                           "equal": None}


def test_sweep_runs_a_method_named_twice_once(micro):
    """methods=("majority", "majority") gave two majority curves, each with every N's point twice (a zig-zag plot,
    repeated scaling.csv rows), and ran a sequential method twice; `ponder eval --sweep` de-duplicated, the API
    did not."""
    model, tok = micro
    kw = dict(parallel_ns=[1, 2], budgets=[8], max_new_tokens=8, progress=False, n_boot=10)
    twice = sweep((model, tok), ITEMS[:2], methods=["majority", "budget_forcing", "majority", "budget_forcing"], **kw)
    once = sweep((model, tok), ITEMS[:2], methods=["majority", "budget_forcing"], **kw)
    assert [(c["method"], [p["budget"] for p in c["points"]]) for c in twice["curves"]] == [
        ("majority", [1, 2]), ("budget_forcing", [8])]
    strip = [[{k: v for k, v in p.items() if k != "latency"} for p in c["points"]] for c in once["curves"]]
    assert [[{k: v for k, v in p.items() if k != "latency"} for p in c["points"]] for c in twice["curves"]] == strip


def test_sweep_errors(micro):
    model, tok = micro
    with pytest.raises(PonderError, match="unknown method"):
        sweep((model, tok), ITEMS, methods=("beam",), progress=False)
    with pytest.raises(PonderError, match="temperature"):
        sweep((model, tok), ITEMS, methods=("majority",), temperature=0.0, progress=False)
    with pytest.raises(PonderError, match="empty benchmark"):
        sweep((model, tok), [], progress=False)
    with pytest.raises(PonderError, match="models"):
        sweep({}, ITEMS, progress=False)


def test_sweep_ns_and_budgets_are_read_as_integers_not_characters():
    """parallel_ns="16" was iterated per character: N = 1 and 6, a curve nobody asked for; 2.5 became N = 2."""
    from ponder.evaluate import _ints

    assert _ints("parallel_ns", "16") == [16]
    assert _ints("parallel_ns", "1, 4,4") == [1, 4]
    assert _ints("budgets", 32) == [32]
    assert _ints("parallel_ns", (8, 1, 8)) == [1, 8]
    for bad in ([1, 2.5], [True], [0], [], "", "4,x"):
        with pytest.raises(PonderError, match="parallel_ns"):
            _ints("parallel_ns", bad)


def test_sweep_methods_as_text_are_read_as_names_not_characters(micro):
    """methods="majority" (as --methods writes it) was iterated per character: "unknown method 'm'"."""
    model, tok = micro
    kw = dict(parallel_ns=[1], budgets=[8], max_new_tokens=6, progress=False, n_boot=10)
    res = sweep((model, tok), ITEMS[:1], methods="majority, budget_forcing", **kw)
    assert [c["method"] for c in res["curves"]] == ["majority", "budget_forcing"]
    with pytest.raises(PonderError, match="sweep: no methods"):
        sweep((model, tok), ITEMS[:1], methods=" , ", **kw)


@pytest.mark.parametrize("method", ["best_of_n", "self_refine"])
def test_reward_scorer_finds_chat_wrapped_prompts_and_is_recorded_by_name(micro, tmp_path, method):
    """With chat=True the methods see chat messages; a reward-spec scorer still finds each problem's item, and
    summary.json records the spec ("math"), not the adapter function's name."""
    model, tok = micro
    kw = {"n_candidates": 2} if method == "best_of_n" else {"rounds": 1, "critique_tokens": 4}
    s = evaluate(model, tok, ITEMS[:2], method=method, max_new_tokens=8, chat=True, out_dir=tmp_path,
                 method_kwargs={**kw, "scorer": "math"}, progress=False)
    assert s["n_problems"] == 2 and s["method_kwargs"]["scorer"] == "math"
    assert json.loads((tmp_path / "config.json").read_text())["method_kwargs"]["scorer"] == "math"


@pytest.mark.parametrize("method", ["best_of_n", "self_refine"])
def test_judge_scorer_with_chat_prompts_reads_the_problem_text(micro, method):
    """A judge (make_judge) takes the prompt as text; with chat=True the methods hand scorers chat messages.
    Before, --chat --scorer judge failed with 'judge: prompt must be a string, got list'."""
    model, tok = micro
    seen = []

    def judge(prompt, completion):  # what make_judge's judge checks first
        if not isinstance(prompt, str):
            raise PonderError(f"judge: prompt must be a string, got {type(prompt).__name__}")
        seen.append(prompt)
        return Verdict(True, None, "ok", score=0.5)

    kw = {"n_candidates": 2} if method == "best_of_n" else {"rounds": 1, "critique_tokens": 4}
    s = evaluate(model, tok, ITEMS[:2], method=method, max_new_tokens=8, chat=True, system="Be brief.", judge=judge,
                 method_kwargs={**kw, "scorer": "judge"}, progress=False, n_boot=10)
    assert s["method_kwargs"]["scorer"] == "judge"
    assert seen and set(seen) == {PA, PB}  # the problem itself, not the system line or a rendered template


def test_parallel_points_needs_n_samples_for_every_n():
    """pass@N (oracle), maj@N and best-of-N need N samples; before, N=4 over 2 samples reported the 2-sample
    figures as N=4 (or raised IndexError for best_of_n)."""
    args = ([[True, False]], [["1", "2"]], [[-0.1, -0.2]], [[5, 5]], [1.0])
    for m in ("oracle", "majority", "best_of_n"):
        with pytest.raises(PonderError, match="N=4 > 2 samples"):
            parallel_points(*args, [2, 4], methods=[m], equal=None, n_boot=10)
    assert parallel_points(*args, [1, 2], methods=["oracle"], equal=None, n_boot=10)["oracle"][1]["accuracy"] == 1.0


def test_forced_answer_after_thinking_cut_inside_a_box_is_judged():
    """Budget forcing appends the cue and a forced answer; thinking cut off inside \\boxed{ would leave an open
    box that makes the verifier see no answer at all, so the open box is dropped."""
    thinking = " 56 - 10 = 46.\nThe answer is \\boxed{"
    text = scale._drop_open_box(thinking) + "\nFinal Answer:" + " 46"
    assert ponder.verify.check_math(text, "46").correct
    for closed in ("\\boxed{46} and more", "\\boxed{\\frac{1}{2}}", "no box"):
        assert scale._drop_open_box(closed) == closed
    assert scale._drop_open_box("\\boxed{5} then \\boxed{\\frac{1}{2") == "\\boxed{5} then "


# ---- argument checks before any work ---------------------------------------------------------------------


@pytest.mark.parametrize("method,kw,match", [
    ("self_consistency", {"n_votes": 0}, r"n_votes \(--votes\) must be an integer >= 1, got 0"),
    ("best_of_n", {"n_candidates": 0}, r"n_candidates \(--candidates\) must be an integer >= 1, got 0"),
    ("sc", {"n_votes": -2}, r"n_votes \(--votes\) must be an integer >= 1, got -2"),
])
def test_evaluate_zero_votes_or_candidates_name_the_option(micro, method, kw, match):
    model, tok = micro
    with pytest.raises(PonderError, match=match):
        evaluate(model, tok, ITEMS, method=method, method_kwargs=kw, max_new_tokens=8, progress=False)


def test_evaluate_best_of_n_with_the_likelihood_scorer(micro):
    model, tok = micro
    s = evaluate(model, tok, ITEMS[:2], method="best_of_n", method_kwargs={"n_candidates": 2, "scorer": "likelihood"},
                 max_new_tokens=8, progress=False, n_boot=10)
    assert s["method_kwargs"]["scorer"] == "likelihood" and 0.0 <= s["accuracy"]["mean"] <= 1.0


class _NoBar:
    def __init__(self, *a, **k):
        raise AssertionError("a progress bar started before the arguments were checked")


@pytest.mark.parametrize("kw,match", [
    (dict(temperature=float("nan")), "temperature must be a number, got nan"),
    (dict(temperature=float("inf")), "temperature must be a finite number >= 0, got inf"),
    (dict(temperature=-1.0), "temperature must be a finite number >= 0"),
    (dict(top_p=0.0), r"top_p must be in \(0, 1\]"),
    (dict(top_p=float("nan")), "top_p must be a number, got nan"),
    (dict(seed=-1), r"seed must be an integer in \[0, 2\*\*63\)"),
    (dict(seed=99999999999999999999), r"seed must be an integer in \[0, 2\*\*63\), got 99999999999999999999"),
    (dict(min_p=2.0), r"min_p must be in \[0, 1\)"),
    (dict(min_p=1.0), r"min_p must be in \[0, 1\), got 1.0"),
    (dict(top_k=-1), r"top_k must be an integer >= 0 \(0 disables it\), got -1"),
    (dict(top_k=2.5), r"top_k must be an integer >= 0 \(0 disables it\), got 2.5"),
    # (top_k and min_p went in method_kwargs before evaluate took them: recorded there, not as settings)
    (dict(method_kwargs={"top_k": 5}), r"method_kwargs \['top_k'\]: set by evaluate's own argument"),
    (dict(max_new_tokens=600), r"prompt of \d+ tokens \+ max_new_tokens 600 exceeds the model's context of 512"),
])
def test_evaluate_checks_sampling_before_any_progress_bar(micro, monkeypatch, kw, match):
    import tqdm.auto

    model, tok = micro
    monkeypatch.setattr(tqdm.auto, "tqdm", _NoBar)
    args = dict(method="sampling", max_new_tokens=8, progress=True)
    args.update(kw)
    with pytest.raises(PonderError, match=match):
        evaluate(model, tok, ITEMS, **args)



def test_self_refine_drafts_beyond_the_context_are_refused_before_the_progress_bar(micro, monkeypatch):
    """Self-refine's drafts decode max_new_tokens after the prompt, as greedy does, but were left to the engine:
    refused once the progress bar had started, naming no item. Checked as greedy's are; a critique or revision
    whose context leaves less room is capped by self_refine (tests/test_scale.py), so a run that fits still runs."""
    import tqdm.auto

    model, tok = micro
    monkeypatch.setattr(tqdm.auto, "tqdm", _NoBar)
    with pytest.raises(PonderError, match=r"^item \S+: prompt of \d+ tokens \+ max_new_tokens 600 exceeds the model's "
                                          r"context of 512 positions$"):
        evaluate(model, tok, ITEMS, method="self_refine", max_new_tokens=600, progress=True)
    monkeypatch.undo()
    out = evaluate(model, tok, ITEMS[:2], method="self_refine", max_new_tokens=400, progress=False,
                   method_kwargs={"rounds": 1, "critique_tokens": 8})
    assert out["n_problems"] == 2


def test_self_refine_logprob_scorer_is_refused_before_the_progress_bar_naming_what_the_cli_takes(micro, monkeypatch):
    """--scorer logprob (listed for "best-of-N / refine") was refused by self_refine at the first chunk, after the
    progress bar, as "use 'likelihood' or a callable": no callable can be given on the command line, and a judge or a
    reward spec, which it takes, went unsaid. A revision's sampling log-probs are read after its critique, a draft's
    after the prompt: they do not compare, so it stays refused, before anything starts."""
    import tqdm.auto

    model, tok = micro
    monkeypatch.setattr(tqdm.auto, "tqdm", _NoBar)
    with pytest.raises(PonderError, match=r"^self-refine: scorer 'logprob' .* use likelihood \(the default\), judge "
                                          r"or a reward spec$"):
        evaluate(model, tok, ITEMS, method="self_refine", method_kwargs={"scorer": "logprob"}, progress=True)


def test_a_prompt_too_long_for_max_new_tokens_names_its_item(micro):
    """On a benchmark file the error said only "prompt of N tokens": not which of its problems (grpo names
    the item). The longest prompt's item id is named, as load_dataset gives it (its id, or FILE-LINE)."""
    model, tok = micro
    long = {"id": "t/42.json", "prompt": "1 + 1 = " * 100, "answer": "2"}
    limit = model.config.max_position_embeddings
    items = [ITEMS[0], long, ITEMS[1]]
    with pytest.raises(PonderError, match=r"^item t/42.json: prompt of \d+ tokens \+ max_new_tokens") as e:
        evaluate(model, tok, items, method="greedy", max_new_tokens=limit - 300, progress=False)
    assert "\n" not in str(e.value)
    with pytest.raises(PonderError, match=r"^item t/42.json: prompt of \d+ tokens \+ budget forcing's"):
        evaluate(model, tok, items, method="budget_forcing", method_kwargs={"budget": 8}, progress=False)
    with pytest.raises(PonderError, match=r"^item t/42.json: prompt of \d+ tokens \+ max_new_tokens 16"):
        sweep((model, tok), items, parallel_ns=(1, 2), methods=("majority",), max_new_tokens=16, progress=False)

@pytest.mark.parametrize("ks", ["", " , ", [], ()])
def test_evaluate_empty_ks_is_an_error(micro, ks):
    model, tok = micro
    with pytest.raises(PonderError, match=r"ks \(--k\) is empty"):
        evaluate(model, tok, ITEMS, ks=ks, max_new_tokens=8, progress=False)


def test_a_numpy_seed_is_the_same_seed_and_none_is_refused(micro, tmp_path):
    """A numpy integer seed passed the check, ran everything, then failed writing config.json (a bare TypeError:
    int64 is not JSON serializable); None drew unkeyed and failed in the key hashing."""
    import numpy as np

    model, tok = micro
    kw = dict(method="sampling", n=2, max_new_tokens=8, progress=False, n_boot=10)
    a = evaluate(model, tok, ITEMS[:2], seed=np.int64(3), out_dir=tmp_path / "a", **kw)
    b = evaluate(model, tok, ITEMS[:2], seed=3, **kw)
    assert a["metrics"]["pass@1"] == b["metrics"]["pass@1"]
    assert json.loads((tmp_path / "a" / "config.json").read_text())["seed"] == 3
    with pytest.raises(PonderError, match="seed must be an integer"):
        evaluate(model, tok, ITEMS[:2], seed=None, **kw)
    assert sweep((model, tok), ITEMS[:1], parallel_ns=[1], methods=["majority"], max_new_tokens=4,
                 seed=np.int64(3), out_dir=tmp_path / "s", progress=False, n_boot=10)
    # n too: it was refused as "n must be a positive integer, got 2"
    c = evaluate(model, tok, ITEMS[:2], seed=3, out_dir=tmp_path / "c", **{**kw, "n": np.int64(2)}, ks=np.int64(2))
    assert c["metrics"]["pass@1"] == b["metrics"]["pass@1"] and c["ks"] == [1, 2]
    assert json.loads((tmp_path / "c" / "config.json").read_text())["n"] == 2
    for bad in (0, 2.0, True, "2"):
        with pytest.raises(PonderError, match="n must be a positive integer"):
            evaluate(model, tok, ITEMS[:2], **{**kw, "n": bad})


def test_config_records_no_max_new_tokens_where_the_method_never_used_it(micro, tmp_path):
    """effort's level and budget forcing's budget cap the thinking: config.json said max_new_tokens 128 held."""
    model, tok = micro
    for name, mk in (("effort", {"level": "low"}), ("budget_forcing", {"budget": 8}), ("budget_forcing", {})):
        d = tmp_path / f"{name}{len(mk)}"
        evaluate(model, tok, ITEMS[:1], method=name, method_kwargs=mk, max_new_tokens=16, out_dir=d,
                 progress=False)
        assert json.loads((d / "config.json").read_text())["max_new_tokens"] == (16 if not mk else None), name


def test_effort_records_its_default_level_and_resumes_with_it_named(micro, tmp_path, monkeypatch):
    """Without a level, effort's summary and config.json said method_kwargs {}: nothing said which effort (and so which
    thinking budget) the accuracy was for, and an interrupted run resumed with --effort medium, the same runs, was
    refused as "its method_kwargs is {}". The default level is recorded, as budget forcing's budget and the votes."""
    model, tok = micro
    kw = dict(method="effort", progress=False, n_boot=10, batch_problems=1)
    assert evaluate(model, tok, ITEMS[:1], **kw)["method_kwargs"] == {"level": "medium"}
    _evaluate_interrupted(monkeypatch, model, tok, tmp_path, "effort", 1, **kw)
    assert evaluate(model, tok, ITEMS, out_dir=tmp_path, resume=True, method_kwargs={"level": "medium"},
                    **kw)["resumed"] == 1


def test_self_refine_records_its_default_rounds(micro, tmp_path):
    """As effort's level: self-refine without rounds said method_kwargs {"scorer": "likelihood"}, not how many
    critique-revision rounds were drawn, and a finished run asked again with rounds=2 (the default) was refused."""
    model, tok = micro
    kw = dict(method="self_refine", max_new_tokens=6, progress=False, n_boot=10, out_dir=tmp_path)
    assert evaluate(model, tok, ITEMS[:1], **kw)["method_kwargs"] == {"rounds": 2, "scorer": "likelihood"}
    assert evaluate(model, tok, ITEMS[:1], method_kwargs={"rounds": 2}, resume=True, **kw)["resumed"] == "finished"


def test_evaluate_ks_as_text(micro):
    model, tok = micro
    s = evaluate(model, tok, ITEMS[:2], n=2, ks="1,2", max_new_tokens=8, progress=False, n_boot=10)
    assert "pass@2" in s["metrics"]
    with pytest.raises(PonderError, match="expected comma-separated integers"):
        evaluate(model, tok, ITEMS, ks="1,x", max_new_tokens=8, progress=False)


def test_results_never_replace_another_commands_config(micro, tmp_path):
    """evaluate() and sweep() with out_dir on a training run or a checkpoint used to overwrite its config.json
    (the run could no longer be resumed, the checkpoint no longer loaded); now refused before any sampling."""
    model, tok = micro
    run, ckpt, sw = tmp_path / "run", tmp_path / "ckpt", tmp_path / "sw"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"kind": "grpo", "grpo": {}}))
    ponder.save(model, tok, ckpt)
    before = {d: (d / "config.json").read_bytes() for d in (run, ckpt)}
    for d, what in ((run, "a 'grpo' run"), (ckpt, "a model checkpoint")):
        with pytest.raises(PonderError, match=f"--out {d}: holds {what}"):
            evaluate(model, tok, ITEMS[:1], method="greedy", max_new_tokens=4, out_dir=d, progress=False)
        with pytest.raises(PonderError, match=f"--out {d}: holds {what}"):
            sweep((model, tok), ITEMS[:1], parallel_ns=[1], methods=["majority"], max_new_tokens=4, out_dir=d,
                  progress=False)
    assert {d: (d / "config.json").read_bytes() for d in (run, ckpt)} == before
    assert not (run / "summary.json").exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(PonderError, match="is a file, not a directory"):
        evaluate(model, tok, ITEMS[:1], method="greedy", out_dir=tmp_path / "file", progress=False)
    with pytest.raises(PonderError, match="--out -: a result directory cannot be standard output"):
        evaluate(model, tok, ITEMS[:1], method="greedy", out_dir="-", progress=False)  # (made a directory '-')
    # under a file, or where no file can be made (os.access says yes to root for /proc): said before the work
    with pytest.raises(PonderError, match=f"^--out {tmp_path / 'file' / 'e'}: {tmp_path / 'file'} is not a directory$"):
        evaluate(model, tok, ITEMS[:1], method="greedy", out_dir=tmp_path / "file" / "e", progress=False)
    if os.path.isdir("/proc/self"):
        with pytest.raises(PonderError, match=r"^--out /proc/ponder-e: cannot write into /proc \("):
            evaluate(model, tok, ITEMS[:1], method="greedy", out_dir="/proc/ponder-e", progress=False)
    sweep((model, tok), ITEMS[:1], parallel_ns=[1], methods=["majority"], max_new_tokens=4, out_dir=sw,
          progress=False, n_boot=10)
    sweep((model, tok), ITEMS[:1], parallel_ns=[1], methods=["majority"], max_new_tokens=4, out_dir=sw,
          progress=False, n_boot=10)  # a re-run of the same kind is fine
    with pytest.raises(PonderError, match="holds a 'sweep' result"):
        evaluate(model, tok, ITEMS[:1], method="greedy", max_new_tokens=4, out_dir=sw, progress=False)


def test_results_never_replace_a_demos_summary(micro, tmp_path):
    """A demo's directory holds summary.json (its figures) and no config.json: evaluate() and sweep() with it as
    out_dir replaced that summary.json with theirs (the sweep deleted it first); now refused before any sampling.
    An evaluation's own directory (config.json beside its summary.json) is still re-run in place."""
    model, tok = micro
    demo, ev = tmp_path / "demo", tmp_path / "ev"
    demo.mkdir()
    (demo / "summary.json").write_text(json.dumps({"accuracy_before": {"accuracy": 0.35}}))
    before = (demo / "summary.json").read_bytes()
    with pytest.raises(PonderError, match=f"--out {demo}: holds a summary.json that no eval wrote"):
        evaluate(model, tok, ITEMS[:1], method="greedy", max_new_tokens=4, out_dir=demo, progress=False)
    with pytest.raises(PonderError, match=f"--out {demo}: holds a summary.json that no sweep wrote"):
        sweep((model, tok), ITEMS[:1], parallel_ns=[1], methods=["majority"], max_new_tokens=4, out_dir=demo,
              progress=False)
    assert (demo / "summary.json").read_bytes() == before and sorted(os.listdir(demo)) == ["summary.json"]
    for _ in range(2):
        evaluate(model, tok, ITEMS[:1], method="greedy", max_new_tokens=4, out_dir=ev, progress=False, n_boot=10)


def test_top_p_at_temperature_0_is_refused_not_ignored(micro, tmp_path):
    """Greedy decoding takes the most likely token: top_p with temperature 0 (given, or the method's default, as
    effort's) changed nothing, and config.json recorded it as used. Refused before any sampling."""
    model, tok = micro
    for method, temperature in (("sampling", 0.0), ("effort", None), ("budget_forcing", None)):
        with pytest.raises(PonderError, match="top_p 0.5 is not used at temperature 0"):
            evaluate(model, tok, ITEMS[:1], method=method, temperature=temperature, top_p=0.5, max_new_tokens=4,
                     out_dir=tmp_path / method, progress=False)
        assert not (tmp_path / method).exists()
    evaluate(model, tok, ITEMS[:1], method="sampling", temperature=0.0, top_p=1.0, max_new_tokens=4, progress=False,
             n_boot=10)


def test_top_k_and_min_p_reach_every_sampling_method_and_top_k_1_is_greedy(micro, tmp_path):
    """eval took no top_k or min_p (generate does; Qwen3's generation_config.json recommends top_k 20): they reach
    the engine for each method that samples, and are recorded. top_k 1, or a min_p that keeps only the top token,
    leaves the most likely token alone: sampling at temperature 1 then draws greedy's completions (budget forcing
    and effort: their own at temperature 0)."""
    model, tok = micro
    kw = dict(max_new_tokens=16, progress=False, n_boot=10)

    def completions(method, mk=None, **more):
        d = tmp_path / f"{method}{sorted(more.items())}"
        s = evaluate(model, tok, ITEMS, method=method, method_kwargs=mk, out_dir=d, **more, **kw)
        return _completions(d), s, json.loads((d / "config.json").read_text())

    greedy = {p: c for p, _, c in completions("greedy")[0]}
    assert any(c != greedy[p] for p, _, c in completions("sampling", n=2, temperature=1.0)[0])  # (unfiltered: samples)
    for method, mk in (("sampling", None), ("self_consistency", {"n_votes": 2}), ("best_of_n", {"n_candidates": 2}),
                       ("budget_forcing", None), ("effort", {"level": "low"}), ("self_refine", {"rounds": 1})):
        ref = greedy if method in ("sampling", "self_consistency", "best_of_n") else {
            p: c for p, _, c in completions(method, mk, temperature=0.0)[0]}
        if method == "budget_forcing":  # (unfiltered, its thinking and answers are sampled)
            assert any(c != ref[p] for p, _, c in completions(method, mk, n=2, temperature=1.0)[0])
        for filt in ({"top_k": 1}, {"min_p": 0.999}):
            got, s, config = completions(method, mk, n=2, temperature=1.0, **filt)
            assert len(got) == 2 * len(ITEMS) and all(c == ref[p] for p, _, c in got), (method, filt)
            want = {"top_k": 0, "min_p": 0.0, **filt}
            assert {k: s["settings"][k] for k in want} == {k: config[k] for k in want} == want
    # greedy does not take them (nor self-refine at its default temperature 0), as at temperature 0
    for method, temperature in (("greedy", None),):
        with pytest.raises(PonderError, match=f"method '{method}' does not use top_k \\(given 2\\)"):
            evaluate(model, tok, ITEMS[:1], method=method, temperature=temperature, top_k=2, **kw)
    with pytest.raises(PonderError, match="^min_p 0.1 is not used at temperature 0 .*leave min_p out$"):
        evaluate(model, tok, ITEMS[:1], method="sampling", temperature=0.0, min_p=0.1, out_dir=tmp_path / "m", **kw)
    assert not (tmp_path / "m").exists()


def test_effort_settings_are_checked_before_the_progress_bar(micro, capsys):
    """An unknown effort level, a budget that effort's level sets itself, or weighted self-consistency with
    early stop, used to fail at the first batch, after the progress bar had been drawn."""
    model, tok = micro
    for method, mk, msg in (("effort", {"level": "extreme"}, "unknown reasoning effort 'extreme'"),
                            ("effort", {"budget": 8}, r"method 'effort' has no option\(s\) \['budget'\]"),
                            ("self_consistency", {"weighted": True, "early_stop": True},
                             "early_stop needs unweighted votes")):
        with pytest.raises(PonderError, match=msg):
            evaluate(model, tok, ITEMS[:1], method=method, method_kwargs=mk, progress=True)
        assert f"eval {method}" not in capsys.readouterr().err


def test_summary_and_config_json_are_strict(micro, tmp_path):
    """summary.json and config.json were written with json.dumps' default allow_nan=True, so a non-finite
    value (here one merged in through ``extra``, as the Ray path does) came out as the bare token NaN, which
    strict readers (JavaScript, jq) reject; samples.jsonl already wrote null. All three are strict now."""
    model, tok = micro

    def strict(text):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))

    evaluate(model, tok, ITEMS[:2], method="greedy", max_new_tokens=4, out_dir=tmp_path, progress=False, n_boot=10,
             extra={"shard_seconds": float("nan"), "peak": float("inf")})
    summ = strict((tmp_path / "summary.json").read_text())
    assert summ["shard_seconds"] is None and summ["peak"] is None
    assert strict((tmp_path / "config.json").read_text())["shard_seconds"] is None
    for line in (tmp_path / "samples.jsonl").read_text().splitlines():
        strict(line)


def test_sweep_weighted_majority_point_equals_a_separate_weighted_self_consistency_run(micro):
    model, tok = micro
    item = [{"id": "a", "prompt": PA, "answer": "1/2"}, {"id": "b", "prompt": PB, "answer": "7"}]
    res = sweep((model, tok), item, parallel_ns=(1, 3, 6), methods=("weighted_majority",), max_new_tokens=24,
                temperature=1.0, seed=5, progress=False, n_boot=20)
    assert [p["budget"] for p in res["curves"][0]["points"]] == [1, 3, 6]
    for p in res["curves"][0]["points"]:
        outs = scale.self_consistency(model, tok, [PA, PB], n_votes=p["budget"], weighted=True, temperature=1.0,
                                      max_new_tokens=24, seed=5)
        acc = [float(answers_equal(o.answer or "", it["answer"])) for o, it in zip(outs, item)]
        assert p["accuracy"] == sum(acc) / 2 and p["tokens"] == sum(o.tokens for o in outs) / 2


def test_parallel_points_latency_of_a_problem_with_only_empty_samples():
    """A problem whose samples all had 0 tokens was given latency 0 at every N (its share of tokens, 0/max(1, 0)),
    even at N = all samples, whose latency is the whole draw's; it is now split by sample count."""
    pts = parallel_points([[False] * 4, [True] * 4], [[None] * 4, ["1"] * 4], [[None] * 4, [-0.1] * 4],
                          [[0] * 4, [5] * 4], [2.0, 1.0], [1, 2, 4], methods=["oracle"], equal=None, n_boot=10)
    lat = [p["latency"] for p in pts["oracle"]]
    assert lat == pytest.approx([(0.5 + 0.25) / 2, (1.0 + 0.5) / 2, (2.0 + 1.0) / 2])  # was [0.125, 0.25, 0.5]


def test_parallel_points_refuses_to_weigh_an_answer_without_a_log_prob():
    """weighted_majority gave a sample with an answer but no log-prob (None: completions from elsewhere) weight 1,
    the most any sample gets (exp(mean log-prob) <= 1), while best_of_n ranks it last: its answer outvoted the
    samples that were measured. It is refused, naming the sample; a sample without an answer casts no vote."""
    args = ([[False, True, False]], [["1", "2", None]], [[None, -0.5, None]], [[5, 5, 0]], [1.0], [1, 2, 3])
    with pytest.raises(PonderError, match=r"^parallel_points: problem 0 sample 0 has an answer but no log-prob"):
        parallel_points(*args, methods=["weighted_majority"], equal=None, n_boot=10)
    pts = parallel_points(*args, methods=["majority", "best_of_n"], equal=None, n_boot=10)
    assert [p["accuracy"] for p in pts["best_of_n"]] == [0.0, 1.0, 1.0]
    args[2][0][0] = -0.1  # measured: the answers are weighed, the empty sample's missing log-prob is no matter
    pts = parallel_points(*args, methods=["weighted_majority"], equal=None, n_boot=10)
    assert [p["accuracy"] for p in pts["weighted_majority"]] == [0.0, 0.0, 0.0]


def test_budget_forcing_beyond_the_context_is_refused_before_the_progress_bar(micro, capsys):
    """It used to start, then fail inside sampling naming a max_new_tokens the user never gave."""
    model, tok = micro
    limit = model.config.max_position_embeddings
    cue = len(tok.encode("\nFinal Answer:", add_special_tokens=False))
    prompt = len(tok.encode(ITEMS[0]["prompt"], add_special_tokens=True))
    with pytest.raises(PonderError, match=rf"budget forcing's thinking budget {limit} \+ answer cue {cue} \+ answer "
                                          rf"tokens 16 = {prompt + limit + cue + 16} exceeds the model's context of {limit} "
                                          "positions"):
        evaluate(model, tok, ITEMS[:1], method="budget_forcing", method_kwargs={"budget": limit}, progress=True)
    assert "eval budget_forcing" not in capsys.readouterr().err


@pytest.mark.parametrize("value", [-1.0, 0.3, 2, float("nan")])
def test_a_number_reward_other_than_0_or_1_is_refused_not_counted_correct(micro, value):
    """bool() of a reward number made a -1 penalty, a partial 0.3 or NaN count as correct (accuracy 100%)."""
    model, tok = micro
    with pytest.raises(PonderError, match="must be 1 \\(correct\\) or 0 \\(wrong\\)"):
        evaluate(model, tok, ITEMS[:2], method="greedy", reward=lambda c, it: value, progress=False)


def test_number_rewards_0_and_1_are_labels(micro):
    model, tok = micro
    gold = [float(answers_equal(extract_answer(o.text) or "", it["answer"]))
            for o, it in zip(scale.greedy(model, tok, [it["prompt"] for it in ITEMS], max_new_tokens=32), ITEMS)]
    for kind in (float, int):
        s = evaluate(model, tok, ITEMS, method="greedy", max_new_tokens=32, progress=False,
                     reward=lambda c, it, kind=kind: kind(answers_equal(extract_answer(c) or "", it["answer"])))
        assert s["accuracy"]["mean"] == pytest.approx(sum(gold) / len(gold))


@pytest.mark.parametrize("method,kw", [("sampling", {"n": 4}), ("self_consistency", {"seed": 5}),
                                       ("self_consistency", {"temperature": 0.0}),
                                       ("budget_forcing", {"top_p": 0.5}), ("sampling", {"max_new_tokens": 4})])
def test_method_kwargs_that_evaluate_sets_itself_are_refused(micro, method, kw):
    """method_kwargs n=4 for sampling drew 1 sample per problem (the summary said n_samples 1, method_kwargs n 4);
    a seed there was silently replaced by evaluate's; a temperature there overrode evaluate's behind its checks
    (n identical runs at temperature 0) and config.json, which recorded evaluate's."""
    model, tok = micro
    with pytest.raises(PonderError, match=f"method_kwargs \\['{next(iter(kw))}'\\]: set by evaluate's own"):
        evaluate(model, tok, ITEMS[:1], method=method, n=2, method_kwargs=kw, max_new_tokens=8, progress=False)


@pytest.mark.parametrize("method,kw,bad", [("budget_forcing", {"budget": "64"}, "budget"),
                                           ("budget_forcing", {"budget": None}, "budget"),
                                           ("budget_forcing", {"answer_tokens": "16"}, "answer_tokens"),
                                           ("effort", {"answer_tokens": 2.5}, "answer_tokens"),
                                           ("effort", {"levels": {"medium": {"budget": "8"}}}, "budget")])
def test_a_bad_budget_or_answer_tokens_is_named_not_a_type_error(micro, method, kw, bad):
    """evaluate's context check summed budget + cue + answer_tokens before budget forcing checked them:
    a text budget or a None was a TypeError."""
    model, tok = micro
    with pytest.raises(PonderError, match=f"{bad} must be an integer >= 1"):
        evaluate(model, tok, ITEMS[:1], method=method, method_kwargs=kw, progress=False)


def test_effort_beyond_the_context_with_its_system_line_is_refused_before_the_progress_bar(capsys):
    """The pre-check measured chat prompts without the effort level's system line, so a prompt that fits only
    without it passed, the bar was drawn, and budget forcing refused it afterwards."""
    from ponder.engine import render_prompts

    model, tok = ponder.load("tiny")
    limit, high = model.config.max_position_embeddings, scale.EFFORT_LEVELS["high"]
    need = high["budget"] + len(tok.encode("\nFinal Answer:", add_special_tokens=False)) + 16
    text = "What is 2 + 3?"
    while len(render_prompts(tok, [[{"role": "user", "content": text + " Think."}]])[0]) + need <= limit:
        text += " Think."  # the longest prompt that still fits without the system line
    lengths = [len(render_prompts(tok, [p])[0]) for p in ([{"role": "user", "content": text}],
                                                           scale.with_system_line([{"role": "user", "content": text}],
                                                                                  high["system"]))]
    assert lengths[0] + need <= limit < lengths[1] + need
    with pytest.raises(PonderError, match="effort's thinking budget 256"):
        evaluate(model, tok, [{"prompt": text, "answer": "5"}], method="effort", method_kwargs={"level": "high"},
                 chat=True, progress=True)
    assert "eval effort" not in capsys.readouterr().err


@pytest.mark.parametrize("kw,match", [(dict(answer_tokens="4"), "answer_tokens must be an integer >= 1"),
                                      (dict(waits=-1), "waits must be an integer >= 0"),
                                      (dict(budgets=(600,)), "budget forcing's thinking budget 600"),
                                      (dict(methods=("majority", "effort"), max_new_tokens=8, answer_tokens=300),
                                       "effort high's thinking budget 256")])
def test_sweep_checks_its_sequential_settings_before_the_parallel_draw(micro, capsys, kw, match):
    """A bad answer_tokens or waits, or a budget beyond the context, failed only once the parallel methods'
    draw (the bulk of a sweep) had run."""
    model, tok = micro
    kw = {"methods": ("majority", "budget_forcing"), "parallel_ns": (2,), "max_new_tokens": 8, **kw}
    with pytest.raises(PonderError, match=match):
        sweep((model, tok), ITEMS[:1], progress=True, n_boot=10, **kw)
    assert "draw N=" not in capsys.readouterr().err


def test_countdown_votes_group_what_the_countdown_verifier_reads(micro):
    """Countdown answers are expressions: the math extractor and answers_equal grouped the bare target "144" (no
    expression: wrong) with valid expressions of value 144, and the vote went to that earliest member, so
    maj@3 was 0 although two of three samples were the same correct expression."""
    model, tok = micro
    item = {"id": "c", "prompt": "Problem: Using the numbers [14, 5, 9, 3], make 144.\nSolution:", "answer": "9*16",
            "numbers": [14, 5, 9, 3], "target": 144}
    texts = [" Answer: 144", " 14 - 3 + 5 = 16.\nAnswer: 9 * (14 - 3 + 5)", " Answer: (14 + 5 - 3) * 9"]

    def generate_fn(*, common, **kw):  # what a method gives: each completion with the answer its extractor reads
        return [[scale.Outcome(t, common["extract"](t), 5, 0.0) for t in texts]]

    s = evaluate(model, tok, [item], n=3, ks=(3,), reward="countdown", generate_fn=generate_fn, progress=False,
                 n_boot=10)
    assert s["metrics"]["pass@1"]["mean"] == pytest.approx(2 / 3)
    assert s["metrics"]["maj@3"]["mean"] == 1.0


@pytest.mark.parametrize("n_boot", [0, 2.5, True, "100"])
def test_a_bad_n_boot_is_named_before_any_generation(micro, capsys, n_boot):
    """n_boot reached the bootstrap only after every completion had been drawn and judged, and a non-integer
    one was a numpy TypeError there ("expected a sequence of integers")."""
    model, tok = micro
    with pytest.raises(PonderError, match="n_boot"):
        evaluate(model, tok, ITEMS, n=2, ks=(2,), n_boot=n_boot, progress=True)
    assert "eval sampling" not in capsys.readouterr().err


@pytest.mark.parametrize("batch_problems", [-1, 0, 2.5, True])
def test_a_bad_batch_problems_is_named(micro, batch_problems):
    """A negative one gave no batches at all, reported as 'generation returned outcomes for 0 of 4 problems';
    2.5 was a TypeError of range(); 0 fell back to the default unannounced."""
    model, tok = micro
    with pytest.raises(PonderError, match=f"batch_problems={batch_problems!r} must be an integer >= 1"):
        evaluate(model, tok, ITEMS, n=1, batch_problems=batch_problems, progress=False)


@pytest.mark.parametrize("method", ["best_of_n", "self_refine"])
def test_a_mistyped_scorer_is_named_as_a_scorer(micro, method):
    """A typo in --scorer said only "reward spec: unknown verifier 'lgprob'; valid: math, code, ...": the scorer
    choices logprob, likelihood and judge were not named, so the message steered the user to the verifiers."""
    model, tok = micro
    with pytest.raises(PonderError) as e:
        evaluate(model, tok, ITEMS[:1], method=method, method_kwargs={"scorer": "lgprob"}, progress=False)
    msg = str(e.value)
    assert "scorer 'lgprob'" in msg and "logprob" in msg.replace("'lgprob'", "") and "likelihood" in msg
    assert "judge" in msg and "unknown verifier 'lgprob'" in msg and "\n" not in msg


@pytest.mark.parametrize("method,opt", [("self_consistency", "n_votes"), ("best_of_n", "n_candidates")])
def test_the_default_vote_and_candidate_counts_are_recorded(micro, tmp_path, method, opt):
    """Each self-consistency run votes over 8 samples and each best-of-N run picks among 8 unless told otherwise;
    summary.json and config.json said method_kwargs {} (n_samples 4 next to mean_tokens of 8 samples a run), so
    the result did not say how many samples it cost. The count in force is recorded like budget forcing's budget."""
    model, tok = micro
    s = evaluate(model, tok, ITEMS[:1], method=method, max_new_tokens=8, out_dir=tmp_path, progress=False, n_boot=10)
    assert s["method_kwargs"][opt] == 8
    assert json.loads((tmp_path / "config.json").read_text())["method_kwargs"][opt] == 8
    rec = json.loads((tmp_path / "samples.jsonl").read_text().splitlines()[0])
    assert rec["info"].get("samples_drawn", 8) == 8


@pytest.mark.parametrize("chat", [False, True])
def test_format_reward_counts_a_think_tag_the_prompt_opened(micro, tmp_path, chat):
    """A prompt as fed to the model that ends with "<think>" (a string prompt, or a chat template that prefills
    "<think>\\n" as DeepSeek-R1 distills' do) has completions that do not open it: the format reward was 0 for
    every one of them. Each problem is judged by its own prompt, locally and through a score_fn."""
    import copy

    from ponder.verify.registry import parallel_map

    model, tok = micro
    opened, own = "add them</think>\nAnswer: 5", "<think>add them</think>\nAnswer: 5"
    if chat:  # every prompt ends with the tag: the completion that repeats it is the ill-formed one
        tok = copy.copy(tok)
        tok.chat_template, tok._jinja = ("{% for m in messages %}{{ m['content'] }}{% endfor %}"
                                         "{% if add_generation_prompt %}{{ '<think>\\n' }}{% endif %}"), None
        items = [{"id": "a", "prompt": "2+3=", "answer": "5"}, {"id": "b", "prompt": "1+4=", "answer": "5"}]
        want = [[True, True, False], [True, True, False]]
    else:  # the first prompt opens the thinking, the second does not
        items = [{"id": "a", "prompt": "2+3= <think>\n", "answer": "5"}, {"id": "b", "prompt": "1+4=", "answer": "5"}]
        want = [[True, True, False], [False, False, True]]

    def generate_fn(*, common, prompts, **kw):
        return [[scale.Outcome(t, common["extract"](t), 5, 0.0) for t in (opened, opened, own)] for _ in prompts]

    def score_fn(fn, completions, its):  # as the Ray pool scores: over processes, items as given
        return parallel_map(fn, completions, its, workers=2)

    for k, score in enumerate((None, score_fn)):
        evaluate(model, tok, items, n=3, ks=(1,), reward="format+math", chat=chat, generate_fn=generate_fn,
                 score_fn=score, progress=False, n_boot=10, out_dir=tmp_path / str(k))
        recs = [json.loads(x) for x in (tmp_path / str(k) / "samples.jsonl").read_text().splitlines()]
        assert [[r["correct"] for r in recs if r["problem"] == i] for i in (0, 1)] == want
        assert all(r["reward"] == 1.0 + r["correct"] for r in recs)  # math is right in every completion


def test_verify_format_of_evals_samples_gives_evals_verdicts(micro, tmp_path):
    """`ponder verify format DIR/samples.jsonl` re-scores eval's own output: a record's prompt is the item's, not
    the rendered one, so a chat template that prefills "<think>\\n" (or Qwen3's closed block) was lost and every
    well-formed completion read "missing <think>". Each record keeps the prompt's think_open, which verify reads."""
    import copy

    from ponder.verify.run import verify_file

    model, tok = micro
    opened, own = "add them</think>\nAnswer: 5", "<think>add them</think>\nAnswer: 5"
    tok = copy.copy(tok)
    tok.chat_template, tok._jinja = ("{% for m in messages %}{{ m['content'] }}{% endfor %}"
                                     "{% if add_generation_prompt %}{{ '<think>\\n' }}{% endif %}"), None
    items = [{"id": "a", "prompt": "2+3=", "answer": "5"}, {"id": "b", "prompt": [{"role": "user", "content": "1+4="}],
                                                          "answer": "5"}]

    def generate_fn(*, common, prompts, **kw):
        return [[scale.Outcome(t, common["extract"](t), 5, 0.0) for t in (opened, own)] for _ in prompts]

    evaluate(model, tok, items, n=2, ks=(1,), reward="format", chat=True, generate_fn=generate_fn,
             progress=False, n_boot=10, out_dir=tmp_path / "ev")
    recs = [json.loads(x) for x in (tmp_path / "ev" / "samples.jsonl").read_text().splitlines()]
    assert [r["correct"] for r in recs] == [True, False, True, False]
    out = verify_file("format", str(tmp_path / "ev" / "samples.jsonl"), str(tmp_path / "v.jsonl"), workers=1,
                      progress=False)["output"]
    assert [json.loads(x)["correct"] for x in open(out)] == [r["correct"] for r in recs]


def test_votes_read_a_completion_of_a_prompt_that_opened_the_thinking_as_its_reward_does(micro):
    """A prompt ending with "<think>": its completion cut off before "</think>" is no answer to the reward, but the
    methods' extractor read the answer drafted in the thinking, so that draft voted (and could win self-consistency,
    then score as wrong). draw_chunk (evaluate's chunks, the Ray shards) hands each method an extractor that reads
    as the reward does; a chunk mixing both kinds of prompt runs each run of alike prompts at its global offset."""
    from ponder.evaluate import draw_chunk
    from ponder.verify.math import extract_answer

    model, tok = micro
    texts = ["drafting \\boxed{5}", "so</think> \\boxed{6}"]
    offsets = []

    def fn(model, tok, prompts, *, n, seed, index_offset, extract):
        offsets.append(index_offset)
        return [[scale.Outcome(t, extract(t), 1, 0.0) for t in texts] for _ in prompts]

    part = ["a <think>\n", "b <think>\n", "c", "d <think>\n"]
    outs = draw_chunk(fn, model, tok, part, sampling=True, n=2, seed=0, offset=10,
                      kwargs={"extract": extract_answer})
    assert [[o.answer for o in g] for g in outs] == [[None, "6"], [None, "6"], ["5", "6"], [None, "6"]]
    assert offsets == [10, 12, 13]
    from ponder.evaluate import extract_opened  # (the sweep's votes read through it too)

    assert extract_opened(extract_answer, texts[0]) is None and extract_opened(extract_answer, texts[1]) == "6"


def test_a_reward_spec_scorer_knows_a_prompt_that_opened_the_thinking(micro):
    """best-of-N / self-refine with a reward spec as scorer ("format"): a candidate of a prompt that ends with
    "<think>" continues the thinking, and scored 0 for lacking the tag it must not repeat."""
    from ponder.evaluate import _scorer_for

    model, tok = micro
    items = [{"id": "a", "prompt": "2+3= <think>\n", "answer": "5"}, {"id": "b", "prompt": "1+4=", "answer": "5"}]
    prompts = [it["prompt"] for it in items]
    scorer = _scorer_for("format", model=model, tok=tok, items=items, prompts=prompts, judge=None,
                         what="best-of-n")
    opened, own = "add them</think>\nAnswer: 5", "<think>add them</think>\nAnswer: 5"
    assert [scorer(p, c) for p in prompts for c in (opened, own)] == [1.0, 0.0, 0.0, 1.0]


def test_sweep_format_reward_counts_a_think_tag_the_prompt_opened(tokenizer):
    """sweep judged its samples without think_open: with a prompt that ends with "<think>" (a chat template that
    prefills it, DeepSeek-R1's), every well-formed completion scored 0 under --reward format, at every point of
    every curve, while evaluate() scored the same completions 1."""
    from test_scale import think_tag_model

    model = think_tag_model(tokenizer, [("q<think>", "z</think>\\boxed{7}")])
    items = [{"id": "a", "prompt": "q<think>", "answer": "7"}]
    # (oracle: a format reward has no final answer for majority to vote on)
    res = sweep((model, tokenizer), items, methods=["oracle", "budget_forcing"], parallel_ns=[1], budgets=[8],
                max_new_tokens=16, temperature=0.05, reward="format", progress=False, n_boot=10)
    assert {c["method"]: [p["accuracy"] for p in c["points"]] for c in res["curves"]} == {
        "oracle": [1.0], "budget_forcing": [1.0]}


def test_format_reward_lends_a_closed_think_block_of_the_prompt_to_the_completion(tokenizer):
    """A prompt ending with an empty think block (Qwen3's template with enable_thinking=False): the completion
    answers directly, and evaluate and sweep scored every such answer 0 under a format reward ("missing <think>")."""
    from test_scale import think_tag_model

    prompt = "q<think>\n\n</think>\n\n"
    model = think_tag_model(tokenizer, [(prompt, "Answer: 7")])
    items = [{"id": "a", "prompt": prompt, "answer": "7"}]
    ev = evaluate(model, tokenizer, items, reward="format", max_new_tokens=8, progress=False, n_boot=10)
    assert ev["metrics"]["pass@1"]["mean"] == 1.0
    res = sweep((model, tokenizer), items, methods=["oracle"], parallel_ns=[1], max_new_tokens=8, temperature=0.05,
                reward="format", progress=False, n_boot=10)
    assert [p["accuracy"] for p in res["curves"][0]["points"]] == [1.0]


def test_sweep_budget_forcing_point_of_a_prompt_that_opened_the_thinking_is_evaluates(tokenizer):
    """A prompt ending with "<think>" whose thinking ends without "</think>" after drafting \\boxed{7}: evaluate's
    budget forcing reads it as the reward does (no answer yet), forces the answer after "</think>" and scores 1;
    sweep handed budget forcing the plain extractor, which kept the draft unforced, judged no answer: 0."""
    from test_scale import think_tag_model

    model = think_tag_model(tokenizer, [("q<think>", " \\boxed{7}"), ("Final Answer:", " \\boxed{7}")])
    items = [{"id": "a", "prompt": "q<think>", "answer": "7"}]
    ev = evaluate(model, tokenizer, items, method="budget_forcing", method_kwargs={"budget": 16}, progress=False,
                  n_boot=10)
    res = sweep((model, tokenizer), items, methods=["budget_forcing"], budgets=[16], progress=False, n_boot=10)
    assert ev["metrics"]["pass@1"]["mean"] == 1.0
    assert [p["accuracy"] for p in res["curves"][0]["points"]] == [1.0]


def test_sweep_counts_the_closing_think_tag_before_the_parallel_draw(tokenizer, capsys):
    """A cut thinking is closed with "</think>" before the cue: sweep's check left the tag out, so a budget that
    fits only without it passed, the parallel draw ran, and budget forcing refused it afterwards."""
    from test_scale import think_tag_model

    model = think_tag_model(tokenizer, [("q<think>", "z</think>\\boxed{7}")])
    cue = len(tokenizer.encode("\nFinal Answer:", add_special_tokens=False))
    budget = model.config.max_position_embeddings - len(tokenizer.encode("q<think>", add_special_tokens=False)) - cue - 4  # fits sans tag
    with pytest.raises(PonderError, match=f"budget {budget} \\+ answer cue {cue + 1} \\+ answer tokens 4"):
        sweep((model, tokenizer), [{"id": "a", "prompt": "q<think>", "answer": "7"}],
              methods=["majority", "budget_forcing"], parallel_ns=[1], budgets=[budget], answer_tokens=4,
              max_new_tokens=4, temperature=0.5, progress=True, n_boot=10)
    assert "draw N=" not in capsys.readouterr().err


SYSTEM = "Reason step by step."


def _completions(d) -> list[tuple[int, int, str]]:
    recs = [json.loads(line) for line in (d / "samples.jsonl").read_text().splitlines()]
    return [(r["problem"], r["sample"], r["completion"]) for r in recs]


def test_a_dataset_of_chat_message_prompts_is_evaluated_as_those_messages(micro, tmp_path):
    """A --data row may give its prompt as chat messages (verl's layout); the loader refused them. Every method
    renders them through the chat template as they are, --chat or not: the completions are those of the same
    messages given to ponder.sample, and of text prompts that --chat with that system prompt wraps the same."""
    from ponder.tasks.data import load_dataset

    model, tok = micro
    data = tmp_path / "chat.jsonl"
    data.write_text("".join(json.dumps({"prompt": [{"role": "system", "content": SYSTEM},
                                                   {"role": "user", "content": it["prompt"]}],
                                        "answer": it["answer"]}) + "\n" for it in ITEMS[:2]))
    items = load_dataset(data)
    msgs = [it["prompt"] for it in items]
    evaluate(model, tok, items, n=3, max_new_tokens=12, seed=3, out_dir=tmp_path / "s", progress=False)
    ref = ponder.sample(model, tok, msgs, n=3, max_new_tokens=12, temperature=1.0, seed=3)
    assert _completions(tmp_path / "s") == [(i, r, ref[i][r].text) for i in range(2) for r in range(3)]
    for method in scale.METHODS:
        kw = dict(method=method, max_new_tokens=8, seed=1, progress=False, n_boot=10,
                  method_kwargs={"n_votes": 2} if method == "self_consistency" else
                  {"n_candidates": 2} if method == "best_of_n" else
                  {"rounds": 1, "critique_tokens": 4} if method == "self_refine" else None)
        evaluate(model, tok, ITEMS[:2], chat=True, system=SYSTEM, out_dir=tmp_path / method / "text", **kw)
        want = _completions(tmp_path / method / "text")
        for chat in (False, True):
            evaluate(model, tok, items, chat=chat, out_dir=tmp_path / method / str(chat), **kw)
            assert _completions(tmp_path / method / str(chat)) == want, (method, chat)
    # a system prompt is not added on top of the data's messages (a second system message), nor silently lost
    with pytest.raises(PonderError, match="item chat-1: the prompt is a list of chat messages, which `system`"):
        evaluate(model, tok, items, chat=True, system="Be brief.", out_dir=tmp_path / "sys", progress=False)
    assert not (tmp_path / "sys").exists()


@pytest.mark.parametrize("bad", ["no", None, 0])
def test_progress_must_be_true_or_false(micro, tmp_path, capsys, bad):
    """progress="no" (a settings file's text) was taken by truthiness and drew the bar; refused before anything is
    drawn or written, in evaluate and sweep alike."""
    model, tok = micro
    with pytest.raises(PonderError, match=f"^progress must be True or False, got {bad!r}$"):
        evaluate(model, tok, ITEMS[:1], method="greedy", max_new_tokens=4, out_dir=tmp_path / "e", progress=bad)
    with pytest.raises(PonderError, match=f"^progress must be True or False, got {bad!r}$"):
        sweep((model, tok), ITEMS[:1], methods=["majority"], parallel_ns=[1], max_new_tokens=4, progress=bad,
              n_boot=10)
    assert not (tmp_path / "e").exists() and capsys.readouterr().err == ""


def test_a_system_prompt_without_chat_is_refused(micro, tmp_path):
    """Text prompts are used as they are without chat=True: the system prompt was dropped without a word, and
    config.json recorded it as if the completions had used it."""
    model, tok = micro
    with pytest.raises(PonderError, match=r"system is the system message of chat prompts: set chat=True"):
        evaluate(model, tok, ITEMS[:1], method="greedy", max_new_tokens=4, system="Be brief.", out_dir=tmp_path / "e",
                 progress=False)
    assert not (tmp_path / "e").exists()


@pytest.mark.parametrize("opt", ["chat", "resume"])
@pytest.mark.parametrize("bad", ["no", "false", 0])
def test_chat_and_resume_must_be_true_or_false(micro, tmp_path, opt, bad):
    """chat and resume were taken by truthiness: chat="no" wrapped every prompt as a chat message (and config.json
    recorded "no"), resume="false" resumed. Refused before anything is drawn or written; sweep's chat too."""
    model, tok = micro
    with pytest.raises(PonderError, match=f"{opt} must be True or False, got {bad!r}"):
        evaluate(model, tok, ITEMS[:1], method="greedy", max_new_tokens=4, out_dir=tmp_path / "e", progress=False,
                 **{opt: bad})
    assert not (tmp_path / "e").exists()
    if opt == "chat":
        with pytest.raises(PonderError, match=f"chat must be True or False, got {bad!r}"):
            sweep((model, tok), ITEMS[:1], methods=["majority"], parallel_ns=[1], max_new_tokens=4, chat=bad,
                  progress=False, n_boot=10)


@pytest.mark.parametrize("kw,match", [(dict(extract=5), "extract must be a callable"),
                                      (dict(equal="x"), "equal must be a callable"),
                                      (dict(judge=5, reward="judge"), "judge must be a callable"),
                                      (dict(extra=5), "extra must be a dict")])
def test_a_function_or_extra_that_is_not_one_is_named_before_anything_runs(micro, tmp_path, monkeypatch, kw, match):
    """extract, equal and judge that were no functions failed as a bare TypeError ("'int' object is not callable"),
    at the first chunk or at judging, and an extra that was no dict ("not a mapping") once everything had run."""
    model, tok = micro
    monkeypatch.setattr(scale, "draw", lambda *a, **k: pytest.fail("drew before refusing"))
    with pytest.raises(PonderError, match=match):
        evaluate(model, tok, ITEMS[:1], method="greedy", max_new_tokens=4, out_dir=tmp_path / "e", progress=False,
                 **kw)
    assert not (tmp_path / "e").exists()
    if "extract" in kw or "equal" in kw:
        with pytest.raises(PonderError, match=match):
            sweep((model, tok), ITEMS[:1], methods=["majority"], parallel_ns=[1], progress=False, **kw)


def test_a_chat_message_prompt_is_recorded_as_readable_json(micro, tmp_path):
    """samples.jsonl records a prompt of chat messages as its JSON text; non-ASCII content was escaped there
    ("Ünïcode" read "\\u00dcn\\u00efcode" in the file), unreadable for a non-English benchmark."""
    model, tok = micro
    msgs = [{"role": "user", "content": "Ünïcode: " + PB}]
    evaluate(model, tok, [{"id": "u", "prompt": msgs, "answer": "7"}], method="greedy", max_new_tokens=4,
             out_dir=tmp_path, progress=False)
    line = (tmp_path / "samples.jsonl").read_text(encoding="utf-8")
    rec = json.loads(line)
    assert json.loads(rec["prompt"]) == msgs and "Ünïcode" in rec["prompt"] and "Ünïcode" in line


@pytest.mark.parametrize("items, match", [
    ([ITEMS[0], ITEMS[1], ITEMS[0]], r"item 2: id 'a' is already the id of item 0"),
    # an item without an id is recorded under its position: "1" there and an item's own id "1" collide
    ([ITEMS[0], {"prompt": PB, "answer": "7"}, {**ITEMS[2], "id": "1"}], r"item 2: id '1' is already the id of item 1"),
])
def test_duplicate_item_ids_are_refused_before_any_generation(micro, tmp_path, items, match):
    """evaluate() and sweep() took two problems under one id: an item listed twice counted twice in every mean,
    and samples.jsonl's ids could not be joined back to the items (load_dataset refused a file's duplicates; a
    list did not). Items without ids (or with id None) are told apart by position."""
    model, tok = micro
    with pytest.raises(PonderError, match=match):
        evaluate(model, tok, items, out_dir=tmp_path / "e", progress=False)
    with pytest.raises(PonderError, match=match):
        sweep((model, tok), items, methods=("majority",), out_dir=tmp_path / "s", progress=False)
    assert not (tmp_path / "e").exists() and not (tmp_path / "s").exists()
    s = evaluate(model, tok, [{"prompt": PA, "answer": "1/2", "id": None}, {"prompt": PB, "answer": "7", "id": None}],
                 method="greedy", max_new_tokens=4, progress=False)
    assert s["n_problems"] == 2


def test_sweep_majority_at_n_is_evals_maj_at_k_on_the_first_n_samples():
    """maj@k has one definition: the sweep and the demo vote over the first N samples of one draw, evaluate
    averages the vote over every k-subset of its n; on the first N samples with k = N (one subset) the two
    agree exactly, ties to the earliest cluster, None answers never winning, weighted or not (and pass@N is
    the sweep's oracle)."""
    import numpy as np

    from ponder.metrics import summarize

    rng = np.random.default_rng(5)
    for _ in range(60):
        n = int(rng.integers(1, 7))
        answers = [[None if x == 3 else "abc"[x] for x in rng.integers(0, 4, size=n)] for _ in range(3)]
        labels = [[a == "b" for a in row] for row in answers]
        lps = [[float(x) for x in rng.choice([-0.1, -0.5, -1.0], size=n)] for _ in range(3)]
        pts = parallel_points(labels, answers, lps, [[1] * n] * 3, [1.0] * 3, list(range(1, n + 1)),
                              methods=["majority", "weighted_majority", "oracle"], equal=None, n_boot=10)
        for N in range(1, n + 1):
            recs = [[{"correct": c, "answer": a, "logprob_mean": lp} for a, c, lp in zip(ar[:N], lr[:N], pr[:N])]
                    for ar, lr, pr in zip(answers, labels, lps)]
            m = summarize(recs, ks=[N], n_boot=10)["metrics"]
            got = {meth: next(p["accuracy"] for p in pts[meth] if p["budget"] == N) for meth in pts}
            assert got["majority"] == pytest.approx(m[f"maj@{N}"]["mean"], abs=1e-12), (answers, N)
            assert got["oracle"] == pytest.approx(m[f"pass@{N}"]["mean"], abs=1e-12)
            if N > 1:
                assert got["weighted_majority"] == pytest.approx(m[f"wmaj@{N}"]["mean"], abs=1e-12), (answers, N)


def test_accuracy_is_broken_down_by_task_subject_level_and_n_ops(micro, tmp_path):
    """summary.json had only the benchmark's mean: where a model fails (a MATH level, arith's 4-operation problems,
    one task of a mixed file) was left to the reader to recompute. Each breakdown field that every item has, with
    two values or more, gets its values' pass@k / maj@k / wmaj@k; their problem-weighted means are the overall."""
    model, tok = micro
    items = [{**it, "level": lv, "n_ops": 2, "subject": sub}
             for it, lv, sub in zip(ITEMS, (10, 2, 10, 2), ("x", "y", "x", None))]
    s = evaluate(model, tok, items, n=4, ks=(1, 2, 4), max_new_tokens=24, seed=1, out_dir=tmp_path, progress=False,
                 n_boot=10)
    by = s["by"]
    assert list(by) == ["level"]  # n_ops: one value; subject: one item has none; task: absent
    assert list(by["level"]) == ["2", "10"]  # numbers in numeric order
    assert [g["n_problems"] for g in by["level"].values()] == [2, 2]
    for key in ("pass@1", "pass@2", "pass@4", "maj@1", "maj@4", "wmaj@2"):
        parts = [g["metrics"][key]["mean"] * g["n_problems"] for g in by["level"].values()]
        assert sum(parts) / len(items) == pytest.approx(s["metrics"][key]["mean"], abs=1e-12), key
        for g in by["level"].values():
            assert g["metrics"][key]["lo"] <= g["metrics"][key]["mean"] <= g["metrics"][key]["hi"]
    assert json.loads((tmp_path / "summary.json").read_text())["by"] == json.loads(json.dumps(by))
    # no field with two values: "by" is {}, in summary.json too (left out, a script reading summary["by"] failed on
    # some runs only)
    s = evaluate(model, tok, ITEMS, method="greedy", max_new_tokens=8, progress=False, out_dir=tmp_path / "flat")
    assert s["by"] == {} and json.loads((tmp_path / "flat" / "summary.json").read_text())["by"] == {}
    saved = json.loads((tmp_path / "flat" / "summary.json").read_text())  # one an older Ponder saved without it
    (tmp_path / "flat" / "summary.json").write_text(json.dumps({k: v for k, v in saved.items() if k != "by"}))
    s = evaluate(model, tok, ITEMS, method="greedy", max_new_tokens=8, progress=False, out_dir=tmp_path / "flat",
                 resume=True)
    assert s["resumed"] == "finished" and s["by"] == {}
    from ponder.evaluate import breakdown

    per = [[{"correct": c, "answer": str(c)}] for c in (True, False, True)]  # 1 and "1": one value, one JSON key
    assert {v: g["n_problems"] for v, g in breakdown([{"level": 1}, {"level": "1"}, {"level": 10}], per, [1])[
        "level"].items()} == {"1": 2, "10": 1}


def test_breakdown_orders_mixed_and_numbered_values_naturally_not_as_text():
    """A field mixing numbers and text (level 2, 10 and "hard") was ordered as text, "10" before "2", and numbered
    text ("Level 10", "Level 2") so too. Numbers come first in numeric order, then text, its numbers read as such."""
    from ponder.evaluate import breakdown

    levels = [10, "hard", 2, "Level 10", "Level 2", "1", "easy"]
    per = [[{"correct": True, "answer": "1"}] for _ in levels]
    got = list(breakdown([{"level": v} for v in levels], per, [1], n_boot=2)["level"])
    assert got == ["1", "2", "10", "easy", "hard", "Level 2", "Level 10"]


def _interrupt_at_chunk(monkeypatch, name, start):
    """scale.METHODS[name], raising KeyboardInterrupt (Ctrl-C) when asked for the chunk at problem ``start``."""
    import functools

    real = scale.METHODS[name]

    @functools.wraps(real)
    def method(*args, **kw):
        if kw.get("index_offset") == start:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setitem(scale.METHODS, name, method)
    return real


def _evaluate_interrupted(monkeypatch, model, tok, out_dir, name, start, **kw):
    """evaluate() into out_dir stopped by Ctrl-C at the chunk of problem ``start`` (what it kept stays), the
    method put back after it."""
    real = _interrupt_at_chunk(monkeypatch, name, start)
    with pytest.raises(KeyboardInterrupt):
        evaluate(model, tok, ITEMS, out_dir=out_dir, **kw)
    monkeypatch.setitem(scale.METHODS, name, real)


def _without_latency(path):
    return [{k: v for k, v in json.loads(line).items() if k != "latency"}
            for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("method,kw", [("sampling", {"n": 3, "ks": (1, 2)}),
                                       ("self_consistency", {"n": 2, "method_kwargs": {"n_votes": 3}})])
def test_an_interrupted_eval_resumed_gives_the_uninterrupted_files(micro, tmp_path, monkeypatch, method, kw):
    """Ctrl-C after the first chunk, then resume=True: samples.jsonl (latencies aside, being measured) and the
    summary's metrics are those of one uninterrupted run; the first chunk is not drawn again."""
    model, tok = micro
    kw = dict(method=method, max_new_tokens=24, seed=5, progress=False, n_boot=50, batch_problems=1, **kw)
    full = evaluate(model, tok, ITEMS, out_dir=tmp_path / "full", **kw)
    d = tmp_path / "cut"
    real = _interrupt_at_chunk(monkeypatch, method, 1)
    with pytest.raises(KeyboardInterrupt):
        evaluate(model, tok, ITEMS, out_dir=d, **kw)
    assert not (d / "samples.jsonl").exists() and (d / ".samples.partial.jsonl").is_file()
    monkeypatch.setitem(scale.METHODS, method, real)
    _interrupt_at_chunk(monkeypatch, method, 0)  # the kept chunk is not drawn again
    resumed = evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)
    assert _without_latency(d / "samples.jsonl") == _without_latency(tmp_path / "full" / "samples.jsonl")
    assert {k: v for k, v in resumed["metrics"].items() if k != "mean_latency"} == \
        {k: v for k, v in full["metrics"].items() if k != "mean_latency"}
    assert (d / "config.json").read_bytes() == (tmp_path / "full" / "config.json").read_bytes()
    assert sorted(os.listdir(d)) == sorted(os.listdir(tmp_path / "full"))  # (the progress file is gone)


def test_resume_drops_a_torn_last_line_and_refuses_other_settings(micro, tmp_path, monkeypatch):
    model, tok = micro
    kw = dict(method="sampling", n=2, ks=(1,), max_new_tokens=16, seed=1, progress=False, n_boot=20,
              batch_problems=1)
    full = evaluate(model, tok, ITEMS, out_dir=tmp_path / "full", **kw)
    d = tmp_path / "cut"
    _evaluate_interrupted(monkeypatch, model, tok, d, "sampling", 2, **kw)
    f = d / ".samples.partial.jsonl"
    lines = f.read_bytes().split(b"\n")
    assert len(lines) == 4 and lines[-1] == b""  # header, chunks 0 and 1
    f.write_bytes(b"\n".join(lines[:2]) + b"\n" + lines[2][:len(lines[2]) // 2])  # a crash inside chunk 1's write
    with pytest.raises(PonderError, match=r"--resume .*cut: holds an interrupted evaluation: its --seed is 1, this "
                                          r"evaluation's 2; give the same settings"):
        evaluate(model, tok, ITEMS, out_dir=d, resume=True, **{**kw, "seed": 2})
    with pytest.raises(PonderError, match="its items differ"):
        evaluate(model, tok, ITEMS[::-1], out_dir=d, resume=True, **kw)
    with pytest.raises(PonderError, match="its batch_problems is 1, this evaluation's 2"):
        evaluate(model, tok, ITEMS, out_dir=d, resume=True, **{**kw, "batch_problems": 2})
    import copy

    import torch

    with pytest.raises(PonderError, match="its --dtype is 'torch.float32', this evaluation's 'torch.float64'"):
        evaluate(copy.deepcopy(model).to(torch.float64), tok, ITEMS, out_dir=d, resume=True, **kw)
    # chunks drawn on a GPU are not continued on the CPU (no GPU here: the header says where they were drawn)
    head, rest = f.read_text().split("\n", 1)
    f.write_text(json.dumps({**json.loads(head), "device": "cuda"}) + "\n" + rest)
    with pytest.raises(PonderError, match="its --device is 'cuda', this evaluation's 'cpu'"):
        evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)
    f.write_text(head + "\n" + rest)
    evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)
    assert _without_latency(d / "samples.jsonl") == _without_latency(tmp_path / "full" / "samples.jsonl")
    # finished: its summary, nothing drawn (a retry loop rerunning the command gets the result); other settings: no
    _interrupt_at_chunk(monkeypatch, "sampling", 0)
    again = evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)
    assert again["resumed"] == "finished" and again["metrics"]["pass@1"] == full["metrics"]["pass@1"]
    with pytest.raises(PonderError, match="holds a finished evaluation: its -n is 2, this evaluation's 1"):
        evaluate(model, tok, ITEMS, out_dir=d, resume=True, **{**kw, "n": 1})
    with pytest.raises(PonderError, match="holds a finished evaluation: its items differ from these"):
        evaluate(model, tok, ITEMS[::-1], out_dir=d, resume=True, **kw)


def test_chat_changes_no_prompt_of_chat_message_items_and_their_resume_takes_either(micro, tmp_path, monkeypatch):
    """chat wraps text prompts only: items whose prompts are all chat messages are given as they are either way,
    yet a resume with the other chat setting was refused as another evaluation (`eval --chat` then `--resume`
    without it). It is taken, interrupted or finished, and gives the uninterrupted run's samples; with a text
    prompt among the items chat changes it, and the other setting is still refused."""
    model, tok = micro
    chat_items = [{**it, "prompt": [{"role": "user", "content": it["prompt"]}]} for it in ITEMS[:3]]
    kw = dict(method="sampling", n=1, ks=(1,), max_new_tokens=8, seed=1, progress=False, n_boot=20,
              batch_problems=1)
    evaluate(model, tok, chat_items, out_dir=tmp_path / "full", **kw)
    d = tmp_path / "cut"
    real = _interrupt_at_chunk(monkeypatch, "sampling", 1)
    with pytest.raises(KeyboardInterrupt):
        evaluate(model, tok, chat_items, out_dir=d, chat=True, **kw)
    monkeypatch.setitem(scale.METHODS, "sampling", real)
    evaluate(model, tok, chat_items, out_dir=d, resume=True, **kw)
    assert _without_latency(d / "samples.jsonl") == _without_latency(tmp_path / "full" / "samples.jsonl")
    assert evaluate(model, tok, chat_items, out_dir=d, resume=True, chat=True, **kw)["resumed"] == "finished"
    mixed = [*chat_items[:2], ITEMS[2]]
    evaluate(model, tok, mixed, out_dir=tmp_path / "mixed", **kw)
    with pytest.raises(PonderError, match="it was run without --chat, this evaluation with it"):
        evaluate(model, tok, mixed, out_dir=tmp_path / "mixed", resume=True, chat=True, **kw)


def _retrained(model):
    """A copy of the model with one weight changed, as more training leaves it (same name, settings, shapes)."""
    import copy

    import torch

    other = copy.deepcopy(model)
    with torch.no_grad():
        other.norm.weight[0] += 1e-3
    return other


def test_resume_with_another_top_k_or_min_p_is_refused_by_its_flag(micro, tmp_path, monkeypatch):
    """top_k and min_p change every sampled token: a resume with others, interrupted or finished, is refused naming
    the flag; the same ones continue to the uninterrupted run's samples."""
    model, tok = micro
    kw = dict(method="sampling", n=2, ks=(1,), max_new_tokens=8, seed=1, progress=False, n_boot=20,
              batch_problems=1, top_k=3, min_p=0.05)
    evaluate(model, tok, ITEMS, out_dir=tmp_path / "full", **kw)
    d = tmp_path / "cut"
    _evaluate_interrupted(monkeypatch, model, tok, d, "sampling", 2, **kw)
    with pytest.raises(PonderError, match=r"holds an interrupted evaluation: its --top-k is 3, this evaluation's 5; "):
        evaluate(model, tok, ITEMS, out_dir=d, resume=True, **{**kw, "top_k": 5})
    with pytest.raises(PonderError, match=r"holds an interrupted evaluation: its --min-p is 0.05, this evaluation's "
                                          r"0.0; "):
        evaluate(model, tok, ITEMS, out_dir=d, resume=True, **{**kw, "min_p": 0.0})
    assert evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)["resumed"] == 2
    assert _without_latency(d / "samples.jsonl") == _without_latency(tmp_path / "full" / "samples.jsonl")
    with pytest.raises(PonderError, match=r"holds a finished evaluation: its --top-k is 3, this evaluation's 0; "):
        evaluate(model, tok, ITEMS, out_dir=d, resume=True, **{**kw, "top_k": 0})


def test_a_sweeps_parallel_draw_takes_top_k_and_min_p(micro, tmp_path):
    """sweep() took top_p alone of the filters: its parallel draw samples with top_k and min_p too, recorded in
    config.json and the settings; at top_k 1 every sample is greedy's completion."""
    model, tok = micro
    evaluate(model, tok, ITEMS, method="greedy", max_new_tokens=16, out_dir=tmp_path / "greedy", progress=False,
             n_boot=10)
    greedy = {p: c for p, _, c in _completions(tmp_path / "greedy")}
    d = tmp_path / "s"
    res = sweep((model, tok), ITEMS, parallel_ns=[1, 2], methods=["majority"], max_new_tokens=16, temperature=1.0,
                top_k=1, min_p=0.01, out_dir=d, progress=False, n_boot=10)
    recs = [json.loads(line) for line in (d / "samples_parallel.jsonl").read_text().splitlines()]
    assert len(recs) == 2 * len(ITEMS) and all(r["completion"] == greedy[r["problem"]] for r in recs)
    saved = json.loads((d / "summary.json").read_text())["settings"]
    config = json.loads((d / "config.json").read_text())
    assert {k: res["settings"][k] for k in ("top_k", "min_p")} == {k: saved[k] for k in ("top_k", "min_p")} == \
        {k: config[k] for k in ("top_k", "min_p")} == {"top_k": 1, "min_p": 0.01}
    with pytest.raises(PonderError, match="holds a finished sweep: its --top-k is 1, this sweep's 2;"):
        sweep((model, tok), ITEMS, parallel_ns=[1, 2], methods=["majority"], max_new_tokens=16, temperature=1.0,
              top_k=2, min_p=0.01, out_dir=d, progress=False, n_boot=10, resume=True)


def test_an_evaluation_saved_before_top_k_and_min_p_were_recorded_resumes():
    """A config.json or progress header of an older Ponder has no top_k or min_p: it sampled with them off, or at a
    top_k given in Python's method_kwargs (recorded there). Compared as such: not refused for lacking them."""
    from ponder.evaluate import _first_difference

    old = {"kind": "eval", "method": "sampling", "method_kwargs": {}, "temperature": 1.0, "top_p": 1.0}
    new = {**old, "top_k": 0, "min_p": 0.0}
    assert _first_difference(old, new) is None
    assert _first_difference(old, {**new, "top_k": 20}) == "its --top-k is 0, this evaluation's 20"
    python = {**old, "method_kwargs": {"top_k": 20, "min_p": 0.1}}
    assert _first_difference(python, {**new, "top_k": 20, "min_p": 0.1}) is None
    assert _first_difference(python, new) == "its --top-k is 20, this evaluation's 0"
    swept = {"kind": "sweep", "methods": ["majority"], "temperature": 0.8, "top_p": 1.0}
    assert _first_difference(swept, {**swept, "top_k": 0, "min_p": 0.0}) is None
    assert _first_difference(swept, {**swept, "top_k": 0, "min_p": 0.1}) == "its --min-p is 0.0, this sweep's 0.1"


def test_resume_refuses_other_weights_for_an_interrupted_and_a_finished_eval(micro, tmp_path, monkeypatch):
    """Nothing identified the weights: a checkpoint retrained between the interruption and --resume (same path,
    same settings) mixed samples of the old and new weights, and a finished evaluation was returned as the new
    weights'. Now config.json and the progress header record weights_sha256, and other weights are refused in
    one line naming the model, nothing written; the same weights still resume."""
    model, tok = micro
    kw = dict(method="greedy", ks=(1,), max_new_tokens=8, progress=False, n_boot=20, batch_problems=1,
              model_name="ck")
    other = _retrained(model)
    d = tmp_path / "cut"
    _evaluate_interrupted(monkeypatch, model, tok, d, "greedy", 1, **kw)
    before = sorted((f.name, f.read_bytes()) for f in d.iterdir())
    weights = r"the weights of model 'ck' differ from those it was started with \(weights_sha256 [0-9a-f]{12}, now "
    with pytest.raises(PonderError, match=r"--resume .*cut: holds an interrupted evaluation: " + weights) as e:
        evaluate(other, tok, ITEMS, out_dir=d, resume=True, **kw)
    assert "\n" not in str(e.value) and sorted((f.name, f.read_bytes()) for f in d.iterdir()) == before
    assert evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)["resumed"] == 1
    from ponder.evaluate import _weights_digest

    saved = json.loads((d / "config.json").read_text())["weights_sha256"]
    assert saved == _weights_digest(model) != _weights_digest(other) and len(saved) == 64
    with pytest.raises(PonderError, match=r"--resume .*cut: holds a finished evaluation: " + weights) as e:
        evaluate(other, tok, ITEMS, out_dir=d, resume=True, **kw)
    assert "\n" not in str(e.value)
    assert evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)["resumed"] == "finished"


def test_a_finished_eval_asked_again_in_another_dtype_says_so(micro, tmp_path):
    """config.json did not record the dtype (the progress header alone did): a finished evaluation asked again with
    the weights in another dtype (--dtype forgotten or changed) was refused as "retrained or replaced since"."""
    import copy

    import torch

    model, tok = micro
    kw = dict(method="greedy", ks=(1,), max_new_tokens=4, progress=False, n_boot=20, out_dir=tmp_path)
    evaluate(model, tok, ITEMS[:1], **kw)
    assert json.loads((tmp_path / "config.json").read_text())["dtype"] == "torch.float32"
    with pytest.raises(PonderError, match="holds a finished evaluation: its --dtype is 'torch.float32', this "
                                          "evaluation's 'torch.float64'"):
        evaluate(copy.deepcopy(model).to(torch.float64), tok, ITEMS[:1], resume=True, **kw)


def test_a_finished_eval_asked_again_with_another_n_boot_is_refused_not_given_its_old_intervals(micro, tmp_path,
                                                                                                  monkeypatch):
    """config.json did not record n_boot: a finished evaluation asked again with more bootstrap resamples (for
    tighter interval estimates) silently got the old run's intervals back. An interrupted one still resumes with
    another n_boot (it changes no draw), to the files of an uninterrupted run with that n_boot."""
    model, tok = micro
    kw = dict(method="greedy", ks=(1,), max_new_tokens=4, progress=False, out_dir=tmp_path)
    evaluate(model, tok, ITEMS[:1], n_boot=20, **kw)
    assert json.loads((tmp_path / "config.json").read_text())["n_boot"] == 20
    with pytest.raises(PonderError, match="holds a finished evaluation: its n_boot is 20, this evaluation's 50"):
        evaluate(model, tok, ITEMS[:1], n_boot=50, resume=True, **kw)
    kw = {**kw, "batch_problems": 1, "out_dir": tmp_path / "cut"}
    _evaluate_interrupted(monkeypatch, model, tok, tmp_path / "cut", "greedy", 1,
                          **{k: v for k, v in kw.items() if k != "out_dir"}, n_boot=20)
    assert evaluate(model, tok, ITEMS, n_boot=50, resume=True, **kw)["resumed"] == 1
    assert json.loads((tmp_path / "cut" / "config.json").read_text())["n_boot"] == 50


def test_an_interrupted_eval_resumes_with_other_ks_as_an_uninterrupted_run_with_them(micro, tmp_path, monkeypatch):
    """ks (--k) changes no draw (only which pass@k and maj@k are computed from the samples), as n_boot: resuming an
    interrupted evaluation to add a k was refused ("its ks is [1, 2], this evaluation's [1, 2, 3]"), the kept
    problems to be drawn again. It resumes, to the files and metrics of an uninterrupted run with those ks."""
    model, tok = micro
    kw = dict(method="sampling", n=3, max_new_tokens=8, seed=3, progress=False, n_boot=20, batch_problems=1)
    full = evaluate(model, tok, ITEMS, ks=(1, 2, 3), out_dir=tmp_path / "full", **kw)
    _evaluate_interrupted(monkeypatch, model, tok, tmp_path / "cut", "sampling", 2, ks=(1, 2), **kw)
    resumed = evaluate(model, tok, ITEMS, ks=(1, 2, 3), out_dir=tmp_path / "cut", resume=True, **kw)
    assert resumed["resumed"] == 2 and resumed["ks"] == [1, 2, 3]
    assert {k: v for k, v in resumed["metrics"].items() if k != "mean_latency"} == \
        {k: v for k, v in full["metrics"].items() if k != "mean_latency"}
    assert _without_latency(tmp_path / "cut" / "samples.jsonl") == _without_latency(tmp_path / "full" / "samples.jsonl")
    assert (tmp_path / "cut" / "config.json").read_bytes() == (tmp_path / "full" / "config.json").read_bytes()
    # a finished one asked with other ks is still refused: its saved summary has the old ones
    with pytest.raises(PonderError, match="holds a finished evaluation: its --k is 1,2,3, this evaluation's 1,2;"):
        evaluate(model, tok, ITEMS, ks=(1, 2), out_dir=tmp_path / "cut", resume=True, **kw)


def test_an_eval_asked_again_with_another_extract_or_equal_is_refused_not_mixed(micro, tmp_path, monkeypatch):
    """config.json did not record extract or equal: a finished evaluation asked again with another extractor got
    the old one's votes (maj@k, no_answer_rate) back, and an interrupted one resumed with it voted its kept problems
    with one extractor and the rest with the other (both by name, as a callable reward is)."""
    model, tok = micro

    def boxed(text):
        return extract_answer(text)

    def last_word(text):
        return text.split()[-1] if text.split() else None

    kw = dict(method="greedy", ks=(1,), max_new_tokens=8, progress=False, n_boot=20, batch_problems=1)
    evaluate(model, tok, ITEMS[:1], extract=boxed, out_dir=tmp_path / "done", **kw)
    assert json.loads((tmp_path / "done" / "config.json").read_text())["extract"] == "boxed"
    with pytest.raises(PonderError, match="holds a finished evaluation: its extract is 'boxed', this "
                                          "evaluation's 'last_word'"):
        evaluate(model, tok, ITEMS[:1], extract=last_word, out_dir=tmp_path / "done", resume=True, **kw)
    _evaluate_interrupted(monkeypatch, model, tok, tmp_path / "cut", "greedy", 1, extract=boxed, **kw)
    with pytest.raises(PonderError, match="holds an interrupted evaluation: its equal is unset, this "
                                          "evaluation's 'answers_equal'"):
        evaluate(model, tok, ITEMS, extract=boxed, equal=answers_equal, out_dir=tmp_path / "cut", resume=True, **kw)
    assert evaluate(model, tok, ITEMS, extract=boxed, out_dir=tmp_path / "cut", resume=True, **kw)["resumed"] == 1


def test_a_finished_eval_asked_again_on_items_changed_beyond_their_prompts_is_refused(micro, tmp_path):
    """A finished evaluation was matched to the items by id, prompt and gold alone: items whose other fields were
    edited since (a breakdown's level here; a code item's tests) got the stale summary back as theirs."""
    model, tok = micro
    kw = dict(method="greedy", ks=(1,), max_new_tokens=4, progress=False, n_boot=20, out_dir=tmp_path)
    items = [{**it, "level": i % 2} for i, it in enumerate(ITEMS[:2])]
    assert set(evaluate(model, tok, items, **kw)["by"]["level"]) == {"0", "1"}
    assert evaluate(model, tok, items, resume=True, **kw)["resumed"] == "finished"
    with pytest.raises(PonderError, match="holds a finished evaluation: its items differ from these"):
        evaluate(model, tok, [{**it, "level": 1} for it in items], resume=True, **kw)


def test_a_finished_eval_whose_records_hold_line_separators_is_returned(micro, tmp_path):
    """samples.jsonl is JSON written with ensure_ascii=False: a prompt or completion holding U+2028 or U+0085 keeps it
    unescaped inside its line, which str.splitlines() split there: the finished evaluation was refused as "not a
    sample record" instead of returned."""
    model, tok = micro
    kw = dict(method="greedy", ks=(1,), max_new_tokens=4, progress=False, n_boot=20, out_dir=tmp_path)
    items = [{**ITEMS[0], "prompt": ITEMS[0]["prompt"] + "\u2028\x85"}, ITEMS[1]]
    evaluate(model, tok, items, **kw)
    assert "\u2028" in (tmp_path / "samples.jsonl").read_text(encoding="utf-8")
    assert evaluate(model, tok, items, resume=True, **kw)["resumed"] == "finished"


def test_an_eval_directory_without_weights_sha256_still_resumes(micro, tmp_path, monkeypatch):
    """A progress header or config.json written before weights_sha256 was recorded (here: the new files with the
    key deleted) resumes as before, the weights unchecked, to the uninterrupted run's samples."""
    model, tok = micro
    kw = dict(method="greedy", ks=(1,), max_new_tokens=8, progress=False, n_boot=20, batch_problems=1)
    evaluate(model, tok, ITEMS, out_dir=tmp_path / "full", **kw)
    d = tmp_path / "cut"
    _evaluate_interrupted(monkeypatch, model, tok, d, "greedy", 1, **kw)
    f = d / ".samples.partial.jsonl"
    head, rest = f.read_text().split("\n", 1)
    old = json.loads(head)
    del old["weights_sha256"], old["tokenizer_sha256"]
    f.write_text(json.dumps(old) + "\n" + rest)
    assert evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)["resumed"] == 1
    assert _without_latency(d / "samples.jsonl") == _without_latency(tmp_path / "full" / "samples.jsonl")
    config = json.loads((d / "config.json").read_text())
    del config["weights_sha256"], config["tokenizer_sha256"]
    (d / "config.json").write_text(json.dumps(config))
    assert evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)["resumed"] == "finished"


def test_resume_refuses_another_tokenizer_or_chat_template(micro, tmp_path, monkeypatch):
    """Only the weights were identified: a checkpoint whose chat template (or tokenizer) was edited between the
    interruption and --resume mixed prompts rendered two ways. tokenizer_sha256 is recorded beside the weights';
    another template is refused in one line, nothing written, for an interrupted and a finished evaluation."""
    import copy

    model, tok = micro
    kw = dict(method="greedy", ks=(1,), max_new_tokens=8, progress=False, n_boot=20, batch_problems=1,
              model_name="ck", chat=True)
    edited = copy.copy(tok)
    edited.chat_template, edited._jinja = "{% for m in messages %}{{ m.content }}{% endfor %}", None
    d = tmp_path / "cut"
    _evaluate_interrupted(monkeypatch, model, tok, d, "greedy", 1, **kw)
    before = sorted((f.name, f.read_bytes()) for f in d.iterdir())
    why = r"the tokenizer or chat template of model 'ck' differs from the one it was started with"
    for state in ("interrupted", "finished"):
        with pytest.raises(PonderError, match=rf"--resume .*cut: holds an? {state} evaluation: {why}") as e:
            evaluate(model, edited, ITEMS, out_dir=d, resume=True, **kw)
        assert "\n" not in str(e.value)
        if state == "interrupted":
            assert sorted((f.name, f.read_bytes()) for f in d.iterdir()) == before
            assert evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)["resumed"] == 1


def test_the_weights_digest_is_of_the_values_alone(micro):
    """Same values, same digest (a copy; the tied output layer untied to an equal copy, read once or twice); one
    element changed or another dtype: another digest."""
    import copy

    import torch

    from ponder.evaluate import _weights_digest

    model, _ = micro
    digest = _weights_digest(model)
    assert model.lm_head.weight is model.embed_tokens.weight  # (tied, as the micro model is built)
    untied = copy.deepcopy(model)
    untied.lm_head.weight = torch.nn.Parameter(untied.embed_tokens.weight.detach().clone())
    assert _weights_digest(copy.deepcopy(model)) == _weights_digest(untied) == digest
    assert _weights_digest(_retrained(model)) != digest
    assert _weights_digest(copy.deepcopy(model).to(torch.bfloat16)) != digest
    assert _weights_digest(object()) is None


@pytest.mark.parametrize("method,bad,good", [("self_refine", {"rounds": -1}, {"rounds": 1}),
                                             ("budget_forcing", {"force": "x"}, {"force": "always"})])
def test_a_bad_method_option_leaves_nothing_to_resume(micro, tmp_path, method, bad, good):
    """A method option only the method checks fails at the first chunk: the directory was left holding a progress
    file of the bad settings, and the corrected evaluation with --resume was refused ("holds an interrupted
    evaluation: its method_kwargs is ..."). Nothing was kept, so nothing is left."""
    model, tok = micro
    out = tmp_path / "new" / "e"
    with pytest.raises(PonderError, match=next(iter(bad))):
        evaluate(model, tok, ITEMS[:2], method=method, method_kwargs={**bad, "budget": 4} if method ==
                 "budget_forcing" else bad, max_new_tokens=4, out_dir=out, progress=False, n_boot=10)
    assert not (tmp_path / "new").exists()
    kw = {**good, "budget": 4} if method == "budget_forcing" else good
    s = evaluate(model, tok, ITEMS[:2], method=method, method_kwargs=kw, max_new_tokens=4, out_dir=out,
                 progress=False, n_boot=10, resume=True)
    assert s["resumed"] == 0 and (out / "summary.json").is_file()


def test_a_token_id_prompt_is_refused_before_anything_is_written(micro, tmp_path):
    model, tok = micro
    items = [*ITEMS[:1], {"id": "ids", "prompt": [1, 2, 3], "answer": "1"}]
    with pytest.raises(PonderError, match="prompt 1: test-time methods take strings or chat-message lists, not "
                                          "token ids"):
        evaluate(model, tok, items, n=1, ks=(1,), progress=False, out_dir=tmp_path / "e")
    assert not (tmp_path / "e").exists()


def test_a_numpy_vote_count_is_recorded_as_its_int(micro, tmp_path):
    """n_votes from a grid of settings (np.int64) was refused, though evaluate's own n takes one."""
    import numpy as np

    model, tok = micro
    evaluate(model, tok, ITEMS[:2], method="self_consistency", method_kwargs={"n_votes": np.int64(2)}, n=1,
             ks=(1,), max_new_tokens=6, progress=False, n_boot=10, out_dir=tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["method_kwargs"]["n_votes"] == 2


def test_numpy_settings_from_a_grid_run_and_are_recorded_as_numbers(micro, tmp_path):
    """Settings from a grid (np.int64, np.float32): batch_problems and sweep's waits were refused as not integers
    ("must be an integer >= 1, got 2"), and max_new_tokens, top_p (sweep's temperature and answer_tokens too)
    passed every check, ran everything, then failed config.json with a bare TypeError (not JSON serializable)."""
    import numpy as np

    model, tok = micro
    kw = dict(method="sampling", n=2, temperature=1.0, progress=False, n_boot=10)
    evaluate(model, tok, ITEMS[:3], batch_problems=np.int64(2), max_new_tokens=np.int64(6), top_p=np.float32(0.5),
             out_dir=tmp_path / "a", **kw)
    evaluate(model, tok, ITEMS[:3], batch_problems=2, max_new_tokens=6, top_p=float(np.float32(0.5)),
             out_dir=tmp_path / "b", **kw)
    assert _without_latency(tmp_path / "a" / "samples.jsonl") == _without_latency(tmp_path / "b" / "samples.jsonl")
    assert (tmp_path / "a" / "config.json").read_text() == (tmp_path / "b" / "config.json").read_text()
    kw = dict(methods=["majority", "budget_forcing"], parallel_ns=[1], budgets=[8], progress=False, n_boot=10)
    grid = dict(waits=np.int64(1), answer_tokens=np.int64(4), max_new_tokens=np.int64(6),
                temperature=np.float32(0.5), top_p=np.float32(0.5))
    res = sweep((model, tok), ITEMS[:2], out_dir=tmp_path / "s", **kw, **grid)
    plain = sweep((model, tok), ITEMS[:2], out_dir=tmp_path / "t", **kw, **{k: v.item() for k, v in grid.items()})
    assert [[p["tokens"] for p in c["points"]] for c in res["curves"]] == [[p["tokens"] for p in c["points"]]
                                                                          for c in plain["curves"]]
    config = json.loads((tmp_path / "s" / "config.json").read_text())
    assert {k: config[k] for k in grid} == {k: v.item() for k, v in grid.items()}


def test_numpy_method_options_are_recorded_as_numbers(micro, tmp_path):
    """A method option from a numpy grid (budget=np.int64(8), top_k, a judge's threshold) ran as its number but was
    recorded by its text: config.json and summary.json said "budget": "8"."""
    import numpy as np

    model, tok = micro
    evaluate(model, tok, ITEMS[:2], method="budget_forcing", method_kwargs={"budget": np.int64(8),
             "answer_tokens": np.int64(4), "force": np.str_("always")}, progress=False, n_boot=10, out_dir=tmp_path)
    for f in ("config.json", "summary.json"):
        assert json.loads((tmp_path / f).read_text())["method_kwargs"] == {"budget": 8, "answer_tokens": 4,
                                                                          "force": "always"}


def test_setup_fn_runs_once_after_the_checks_and_outside_the_clock(micro):
    """The Ray path started its actors inside generation: their start-up counted as generation time (tokens per
    second fell with it). setup_fn runs after every check (bad input never starts it) and before generation."""
    model, tok = micro
    calls = []

    def gen(**kw):
        calls.append("generate")
        return [[scale.Outcome("1", "1", 1, 0.0)]] * len(ITEMS)

    with pytest.raises(PonderError, match="n must be a positive integer"):
        evaluate(model, tok, ITEMS, n=0, progress=False, generate_fn=gen, setup_fn=lambda: calls.append("setup"))
    assert calls == []
    s = evaluate(model, tok, ITEMS, n=1, ks=(1,), progress=False, generate_fn=gen,
                 setup_fn=lambda: calls.append("setup"))
    assert calls == ["setup", "generate"] and s["setup_seconds"] >= 0
    assert "setup_seconds" not in evaluate(model, tok, ITEMS, n=1, ks=(1,), progress=False, generate_fn=gen)


def test_resume_reports_how_many_problems_it_found_kept(micro, tmp_path, monkeypatch):
    model, tok = micro
    kw = dict(method="greedy", ks=(1,), max_new_tokens=8, progress=False, n_boot=20, batch_problems=1)
    assert evaluate(model, tok, ITEMS, out_dir=tmp_path / "none", resume=True, **kw)["resumed"] == 0
    _evaluate_interrupted(monkeypatch, model, tok, tmp_path / "cut", "greedy", 1, **kw)
    assert evaluate(model, tok, ITEMS, out_dir=tmp_path / "cut", resume=True, **kw)["resumed"] == 1
    assert "resumed" not in evaluate(model, tok, ITEMS, out_dir=tmp_path / "fresh", **kw)
    assert "resumed" not in json.loads((tmp_path / "cut" / "summary.json").read_text())


def test_a_rerun_without_resume_keeps_an_interrupted_evals_progress(micro, tmp_path, monkeypatch):
    """The same command again without --resume (shell history, a scheduler's retry) silently wiped the problems an
    interrupted evaluation had kept; refused now, as a training command refuses a run's --out, naming the file."""
    model, tok = micro
    kw = dict(method="greedy", ks=(1,), max_new_tokens=8, progress=False, n_boot=20, batch_problems=1)
    d = tmp_path / "cut"
    _evaluate_interrupted(monkeypatch, model, tok, d, "greedy", 1, **kw)
    kept = (d / ".samples.partial.jsonl").read_bytes()
    with pytest.raises(PonderError, match=r"interrupted evaluation \(1 problem kept\).*--resume.*partial"):
        evaluate(model, tok, ITEMS, out_dir=d, **kw)
    assert (d / ".samples.partial.jsonl").read_bytes() == kept
    assert evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)["resumed"] == 1


def test_resume_needs_an_out_dir_and_not_the_ray_path(micro):
    model, tok = micro
    with pytest.raises(PonderError, match="resume: needs out_dir"):
        evaluate(model, tok, ITEMS, resume=True, progress=False)
    with pytest.raises(PonderError, match="resume: not with generate_fn"):
        evaluate(model, tok, ITEMS, resume=True, out_dir="x", progress=False, generate_fn=lambda **k: [])


def test_an_item_whose_id_is_none_is_named_by_its_position_in_the_records(micro, tmp_path):
    """_check_items took an id of None for no id (the item's position), while samples.jsonl wrote null: two such
    items could not be told apart in the records, and [{"id": None}, {"id": "0"}] was refused as a duplicate of a
    record that read null."""
    model, tok = micro
    items = [{**ITEMS[0], "id": None}, {**ITEMS[1], "id": None}]
    evaluate(model, tok, items, method="greedy", max_new_tokens=4, progress=False, out_dir=tmp_path / "e")
    ids = [json.loads(x)["id"] for x in (tmp_path / "e" / "samples.jsonl").read_text().splitlines()]
    assert ids == ["0", "1"]


# Code items: run against their tests, with no final answer to vote on (the micro model writes no program: every
# completion fails them, which is not the point; maj@k over the math answers it boxes was).
CODE_ITEMS = [{"id": f"c{i}", "prompt": p, "answer": "```python\ndef f(x):\n    return x + 1\n```",
               "tests": ["assert f(1) == 2"], "level": i + 1} for i, p in enumerate((PA, PB))]


@pytest.mark.parametrize("reward", ["code", "format+math"])
def test_a_reward_without_a_final_answer_reports_no_vote(micro, tmp_path, reward):
    """maj@k and wmaj@k voted over the answer the MATH extractor pulled out of each completion whatever the reward:
    under code (a program run against tests), format, constraints or a judge they came out near 0 next to a
    positive pass@1, read as "voting hurts". Such a reward's summary has pass@k and no vote, by level too; a math
    primary, shaped by format, votes as before."""
    model, tok = micro
    items = CODE_ITEMS if reward == "code" else [{**it, "level": i % 2} for i, it in enumerate(ITEMS)]
    s = evaluate(model, tok, items, n=4, ks=(1, 4), reward=reward, max_new_tokens=12, out_dir=tmp_path,
                 progress=False, n_boot=10)
    saved = json.loads((tmp_path / "summary.json").read_text())
    for m in (s["metrics"], saved["metrics"], *(g["metrics"] for g in saved["by"]["level"].values())):
        assert {"pass@1", "pass@4"} <= set(m) and not [k for k in m if k.split("@")[0] in ("maj", "wmaj")]
    s = evaluate(model, tok, ITEMS, n=4, ks=(1, 4), reward="math+0.1*format", max_new_tokens=12, progress=False,
                 n_boot=10)
    assert {"maj@1", "maj@4", "wmaj@4"} <= set(s["metrics"])


def test_voting_with_a_reward_without_a_final_answer_is_refused_unless_given_an_extractor(micro, tmp_path):
    """self-consistency (and the sweep's majority curves) voted over the math extractor's pick from programs: the
    method is refused, naming the reward, before anything is written; given extract= it votes on that."""
    model, tok = micro
    with pytest.raises(PonderError, match=r"^method 'self_consistency' votes on final answers.*reward 'code'.*"
                                          r"extract="):
        evaluate(model, tok, CODE_ITEMS, method="self_consistency", reward="code", out_dir=tmp_path / "e",
                 progress=False)
    assert not (tmp_path / "e").exists()
    for method in ("majority", "weighted_majority"):
        with pytest.raises(PonderError, match=rf"^sweep: method '{method}' votes on final answers.*reward 'code'"):
            sweep((model, tok), CODE_ITEMS, methods=["oracle", method], parallel_ns=[2], reward="code",
                  progress=False)
    first_word = lambda t: (t.split() or [None])[0]  # noqa: E731
    s = evaluate(model, tok, CODE_ITEMS, method="self_consistency", method_kwargs={"n_votes": 3}, n=2, ks=(1, 2),
                 reward="code", extract=first_word, max_new_tokens=12, progress=False, n_boot=10)
    assert {"maj@1", "maj@2"} <= set(s["metrics"])
    res = sweep((model, tok), CODE_ITEMS, methods=["majority"], parallel_ns=[2], reward="code", extract=first_word,
                max_new_tokens=12, progress=False, n_boot=10)
    assert [c["method"] for c in res["curves"]] == ["majority"]


def test_items_for_a_reward_that_reads_no_gold_need_no_answer(micro, tmp_path):
    """Every item was refused without an 'answer' ("item 0: missing field 'answer'"), though only the math
    verifier reads one: a code or constraints benchmark needed a dummy gold. Math still needs it."""
    model, tok = micro
    items = [{k: v for k, v in it.items() if k != "answer"} for it in CODE_ITEMS]
    s = evaluate(model, tok, items, reward="code", max_new_tokens=4, out_dir=tmp_path, progress=False, n_boot=10)
    assert s["n_problems"] == 2
    assert {json.loads(x)["gold"] for x in (tmp_path / "samples.jsonl").read_text().splitlines()} == {""}
    with pytest.raises(PonderError, match="item 0.*missing field 'answer'"):
        evaluate(model, tok, items, reward="math", progress=False)


def test_an_evaluation_saved_before_judges_were_recorded_resumes():
    """judge_model and rubric are recorded since a judge's evaluation could resume with another; one saved before
    that, without them, was refused ("its judge_model is None") instead of resumed unchecked."""
    from ponder.evaluate import _first_difference

    saved = {"method": "best_of_n", "n": 4}
    assert _first_difference(saved, {**saved, "judge_model": "j", "rubric": "r"}) is None
    said = _first_difference({**saved, "judge_model": "k", "rubric": "r"}, {**saved, "judge_model": "j", "rubric": "r"})
    assert said == "its --judge-model is 'k', this evaluation's 'j'"


def test_an_eval_directory_in_use_by_another_process_is_refused_and_left_as_it_is(micro, tmp_path, monkeypatch, hold_run):
    """A second `ponder eval --out D --resume` while the first still draws into D appended to its progress file:
    refused in one line, D as it was; once the first has ended it resumes."""
    model, tok = micro
    kw = dict(method="sampling", n=1, ks=(1,), max_new_tokens=8, seed=1, progress=False, n_boot=20,
              batch_problems=2)
    d = tmp_path / "cut"
    _evaluate_interrupted(monkeypatch, model, tok, d, "sampling", 2, **kw)
    held = hold_run(d)
    before = sorted((f.name, f.read_bytes()) for f in d.iterdir())
    with pytest.raises(PonderError) as e:
        evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)
    assert str(e.value) == f"{d} is in use by another ponder process (pid 4242); wait for it or choose another --out"
    assert sorted((f.name, f.read_bytes()) for f in d.iterdir()) == before
    held.close()
    assert evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)["resumed"] == 2
    assert not (d / ".lock").exists()


def test_an_eval_records_where_it_ran_and_resumes_on_other_threads(micro, tmp_path, monkeypatch):
    """config.json and summary.json said nothing of the device, threads or torch that drew the samples. They
    record them now, for the reader only: a resume on other threads (which draw the same samples) is not refused."""
    import torch

    model, tok = micro
    kw = dict(method="sampling", n=1, ks=(1,), max_new_tokens=8, seed=1, progress=False, n_boot=20,
              batch_problems=2)
    threads = torch.get_num_threads()
    d = tmp_path / "cut"
    try:
        torch.set_num_threads(1)
        _evaluate_interrupted(monkeypatch, model, tok, d, "sampling", 2, **kw)
        torch.set_num_threads(2)
        summary = evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)
    finally:
        torch.set_num_threads(threads)
    want = {"device": "cpu", "threads": 2, "torch": torch.__version__, "ponder": ponder.__version__}
    assert summary["resumed"] == 2 and summary["ran_on"] == want
    for f in ("config.json", "summary.json"):
        assert json.loads((d / f).read_text())["ran_on"] == want


@pytest.mark.parametrize("method", ["budget_forcing", "effort"])
def test_budget_forcing_reports_how_often_its_budget_cut_the_thinking(micro, method):
    """truncation_rate is the final completion's finish_reason: for budget forcing the forced answer's (cut at
    answer_tokens), so a budget that cut every thinking read as truncation 0. The budget's cuts are their own
    metric, thinking_cut_rate, from info["thinking_ended"]."""
    model, tok = micro
    kw = {"budget": 3} if method == "budget_forcing" else {"level": "low"}
    s = evaluate(model, tok, ITEMS, method=method, method_kwargs={**kw, "answer_tokens": 8}, progress=False,
                 n_boot=20)
    outs = scale.METHODS[method](model, tok, [it["prompt"] for it in ITEMS], answer_tokens=8, **kw)
    cut = sum(o.info["thinking_ended"] == "length" for o in outs) / len(outs)
    assert s["metrics"]["thinking_cut_rate"]["mean"] == pytest.approx(cut)
    assert method == "effort" or cut == 1.0  # (3 tokens cut every thinking of the micro model)
    assert "thinking_cut_rate" not in evaluate(model, tok, ITEMS[:1], method="greedy", max_new_tokens=8,
                                               progress=False, n_boot=20)["metrics"]


def test_a_sweep_directory_in_use_by_another_process_is_refused_before_drawing(micro, tmp_path, hold_run):
    """Two `ponder eval --sweep --out D` at once wrote each other's plots, CSV and summary into D (a mix of two
    sweeps): the second is refused in one line, before it draws anything, and D is left as it was."""
    model, tok = micro
    d = tmp_path / "sw"
    d.mkdir()
    held = hold_run(d)
    try:
        with pytest.raises(PonderError) as e:
            sweep((model, tok), ITEMS[:1], parallel_ns=(1,), methods=("majority",), max_new_tokens=4,
                  out_dir=d, progress=False, n_boot=10)
    finally:
        held.close()
    assert str(e.value).startswith(f"{d} is in use by another ponder process (pid 4242)")
    assert [f.name for f in d.iterdir()] == [".lock"]


def test_an_extracted_answer_json_cannot_read_back_is_refused_and_leaves_nothing(micro, tmp_path):
    """extract returning a Fraction crashed writing the progress file (a bare "not JSON serializable" TypeError);
    a tuple was written as a list, which after a resume voted apart from the same tuple drawn later. Such an
    answer is refused, naming its type, with nothing left behind; JSON's own values are kept as they are."""
    from fractions import Fraction

    model, tok = micro
    out = tmp_path / "new" / "e"
    for bad, kind in ((lambda t: Fraction(1, 2), "Fraction"), (lambda t: {1, 2}, "set"),
                      (lambda t: (1, 2), "tuple")):
        with pytest.raises(PonderError, match=rf"^extract returned {kind} .* for problem 0, which the "
                                              "evaluation's files cannot hold as JSON"):
            evaluate(model, tok, ITEMS[:1], extract=bad, max_new_tokens=2, out_dir=out, progress=False, n_boot=10)
        assert not (tmp_path / "new").exists()
    s = evaluate(model, tok, ITEMS[:1], method="self_consistency", method_kwargs={"n_votes": 2},
                 extract=lambda t: len(t) % 2, max_new_tokens=2, out_dir=out, progress=False, n_boot=10)
    assert "maj@1" in s["metrics"]
    assert isinstance(json.loads((out / "samples.jsonl").read_text().splitlines()[0])["answer"], int)


def test_a_sweep_into_an_interrupted_evals_directory_is_refused(micro, tmp_path, monkeypatch):
    """A sweep given the --out of an interrupted evaluation wrote its config.json there, after which that
    evaluation's --resume was refused ("holds a sweep"): its kept problems were lost. Refused, naming the file."""
    model, tok = micro
    kw = dict(method="greedy", ks=(1,), max_new_tokens=8, progress=False, n_boot=20, batch_problems=1)
    d = tmp_path / "cut"
    _evaluate_interrupted(monkeypatch, model, tok, d, "greedy", 1, **kw)
    with pytest.raises(PonderError, match=r"interrupted evaluation.*partial"):
        sweep((model, tok), ITEMS, methods=["budget_forcing"], budgets=[4], out_dir=d, progress=False)
    assert not (d / "config.json").exists()
    assert evaluate(model, tok, ITEMS, out_dir=d, resume=True, **kw)["resumed"] == 1


def test_resume_takes_the_same_weights_under_another_spelling_of_the_model(micro, tmp_path, monkeypatch):
    """The model is recorded as given: the same checkpoint resumed as runs/x/ (tab completion) or by its absolute
    path, same weights and tokenizer, was refused as "its model is 'runs/x'"; other weights still are refused."""
    model, tok = micro
    kw = dict(method="greedy", ks=(1,), max_new_tokens=8, progress=False, n_boot=20, batch_problems=1)
    d = tmp_path / "cut"
    _evaluate_interrupted(monkeypatch, model, tok, d, "greedy", 1, model_name="runs/x", **kw)
    with pytest.raises(PonderError, match="its --model is 'runs/x', this evaluation's 'runs/y'"):
        evaluate(_retrained(model), tok, ITEMS, out_dir=d, resume=True, model_name="runs/y", **kw)
    assert evaluate(model, tok, ITEMS, out_dir=d, resume=True, model_name="runs/x/", **kw)["resumed"] == 1
    assert evaluate(model, tok, ITEMS, out_dir=d, resume=True, model_name="/abs/runs/x", **kw)["resumed"] == "finished"


@pytest.mark.parametrize("n_boot", [None, 0, 2.5, "many"])
def test_sweep_refuses_a_bad_n_boot_before_drawing_or_writing(micro, tmp_path, n_boot):
    """sweep never checked n_boot (evaluate does): with 0/1 accuracies no bootstrap runs, so n_boot=0 or 2.5 was
    recorded in config.json as 0 or 2, and None was a bare TypeError from int(None) once every sample had been
    drawn and the plots written, in a directory with no config.json saying what produced them."""
    model, tok = micro
    d = tmp_path / "out"
    with pytest.raises(PonderError, match=f"n_boot={n_boot!r} must be an integer >= 1"):
        sweep((model, tok), ITEMS[:1], methods=["majority"], parallel_ns=[1], max_new_tokens=4, out_dir=d,
              progress=False, n_boot=n_boot)
    assert not d.exists() or not any(d.iterdir())


def test_sweep_writes_its_config_before_its_plots_and_checks_it_before_drawing(micro, tmp_path, monkeypatch):
    """config.json was made and written last: a value JSON cannot take (a numpy waits, which only budget forcing
    checks, in a parallel sweep) was a bare TypeError once every sample had been drawn and the plots written, and
    the plots were in the directory with no config.json saying what produced them."""
    import numpy as np

    import ponder.report

    model, tok = micro
    kw = dict(methods=["majority"], parallel_ns=[1], max_new_tokens=4, progress=False, n_boot=10)
    d = tmp_path / "a"
    sweep((model, tok), ITEMS[:1], out_dir=d, waits=np.int64(1), **kw)
    assert json.loads((d / "config.json").read_text())["waits"] == 1
    seen = []
    real = ponder.report.plot_scaling

    def plot(curves, prefix):
        seen.append(json.loads((prefix.parent / "config.json").read_text())["seed"])
        return real(curves, prefix)

    monkeypatch.setattr(ponder.report, "plot_scaling", plot)
    sweep((model, tok), ITEMS[:1], out_dir=tmp_path / "b", seed=3, **kw)
    assert seen == [3]


def test_sweep_best_of_n_scores_an_empty_completion_as_best_of_n_does(micro, monkeypatch):
    """best_of_n's "logprob" scorer scores an empty completion (EOS first) -inf, so a likely EOS does not beat a
    worked answer; sweep's best_of_n curve ranked it by its mean log-prob and chose it: a point below what
    best_of_n gives on the same samples."""
    from ponder.engine import Sample

    model, tok = micro
    eos = min(tok.stop_token_ids)
    empty = Sample("", [eos], [-0.01], "stop")
    worked = Sample(" The answer is \\boxed{7}.", [5] * 8 + [eos], [-0.5] * 9, "stop")

    def draw(model, tok, prompts, *, n, seed, index_offset=0, **kw):
        return [[empty, worked][:n] for _ in prompts], [0.1] * len(prompts)

    monkeypatch.setattr(scale, "draw", draw)
    item = [{"id": "b", "prompt": PB, "answer": "7"}]
    o = scale.best_of_n(model, tok, [PB], n_candidates=2, seed=0)[0]
    assert o.answer == "7"
    res = sweep((model, tok), item, parallel_ns=(2,), methods=("best_of_n",), progress=False, n_boot=10)
    assert res["curves"][0]["points"][0]["accuracy"] == 1.0


def test_sweep_refuses_a_model_entry_that_is_no_model_tokenizer_pair(micro):
    """{name: model} (the tokenizer left out) was a bare "cannot unpack" TypeError from the context checks."""
    model, tok = micro
    for bad in (model, (model,), (model, tok, tok)):
        with pytest.raises(PonderError, match="sweep: models\\['micro'\\] must be a \\(model, tokenizer\\) pair"):
            sweep({"micro": bad}, ITEMS[:1], methods=["majority"], parallel_ns=[1], max_new_tokens=4,
                  progress=False)


def test_verify_of_evals_samples_reads_the_items_countdown_and_constraints_fields(micro, tmp_path):
    """`ponder verify countdown|constraints DIR/samples.jsonl` re-scores eval's own output: the records held no
    numbers, target or constraints, so verify refused every row ("missing field 'numbers'"). Each record carries
    the fields those verifiers read, and verify's verdicts are eval's."""
    from ponder.verify.run import verify_file

    model, tok = micro
    cd = [{"id": "c0", "prompt": "use 2 3 to make 5", "answer": "2+3", "numbers": [2, 3], "target": 5, "expr": "2+3"},
          {"id": "c1", "prompt": "use 4 1 to make 3", "answer": "4-1", "numbers": [4, 1], "target": 3}]
    cs = [{"id": "k0", "prompt": "say hi", "constraints": [{"type": "lowercase"}], "note": "not copied"}]
    texts = ("<think>x</think>\n<answer>2+3</answer>", "<think>x</think>\n<answer>4-1</answer>",
             "<think>x</think>\nhi there", "<think>x</think>\nHI THERE")

    def generate_fn(*, common, prompts, **kw):
        return [[scale.Outcome(t, None, 5, 0.0) for t in texts] for _ in prompts]

    for kind, items in (("countdown", cd), ("constraints", cs)):
        d = tmp_path / kind
        evaluate(model, tok, items, n=len(texts), ks=(1,), reward=kind, generate_fn=generate_fn, progress=False,
                 n_boot=10, out_dir=d)
        recs = [json.loads(x) for x in (d / "samples.jsonl").read_text().splitlines()]
        assert len({r["correct"] for r in recs}) == 2  # both verdicts occur
        assert all("expr" not in r and "note" not in r for r in recs)  # not the whole item
        out = verify_file(kind, str(d / "samples.jsonl"), str(tmp_path / f"{kind}.v.jsonl"), workers=1,
                          progress=False)["output"]
        assert [json.loads(x)["correct"] for x in open(out)] == [r["correct"] for r in recs]


def test_an_empty_system_prompt_is_one_and_a_system_that_is_no_text_is_refused(micro):
    """system="" was dropped (chat) or let through (no chat), recorded as "" either way, while `ponder generate
    --system ""` sends an empty system turn, which a template renders differently from none; a system that is no
    text (a list of messages) went into the message's content."""
    from ponder.evaluate import _prompt_of

    item = {"prompt": "1+1?", "answer": "2"}
    assert _prompt_of(item, True, "") == [{"role": "system", "content": ""}, {"role": "user", "content": "1+1?"}]
    assert _prompt_of(item, True, None) == [{"role": "user", "content": "1+1?"}]
    model, tok = micro
    with pytest.raises(PonderError, match="system is the system message of chat prompts"):
        evaluate(model, tok, [item], method="greedy", max_new_tokens=4, system="", progress=False)
    with pytest.raises(PonderError, match="system must be text"):
        evaluate(model, tok, [item], method="greedy", max_new_tokens=4, chat=True,
                 system=[{"role": "system", "content": "x"}], progress=False)


def test_a_custom_reward_raising_names_the_input_and_its_item(micro):
    """A reward raising on one item (a custom reward reading a field the item lacks) was a bare "KeyError:
    'rubric'", naming none of the completions, where the Ray and data-parallel paths say which input and item; a
    PonderError of the reward's stays its own line."""
    model, tok = micro
    items = [{**it, "rubric": "x"} for it in ITEMS]
    del items[2]["rubric"]

    def needs_rubric(completion, item):
        return item["rubric"] == completion

    with pytest.raises(PonderError, match=r"^scoring input 3 of 4 \(item s\): KeyError: 'rubric'$"):
        evaluate(model, tok, items, method="greedy", max_new_tokens=4, reward=needs_rubric, progress=False)

    def refuses(completion, item):
        raise PonderError("item s: no gold")

    with pytest.raises(PonderError, match=r"^item s: no gold$"):
        evaluate(model, tok, items, method="greedy", max_new_tokens=4, reward=refuses, progress=False)
    # (several samples per problem: the input counts samples, the item names the problem)
    with pytest.raises(PonderError, match=r"^scoring input 5 of 8 \(item s\): KeyError: 'rubric'$"):
        evaluate(model, tok, items, method="sampling", n=2, max_new_tokens=4, reward=needs_rubric, progress=False)


@pytest.mark.parametrize("scorer, says", [
    ("format-0.1*math", "best_of_n then scores a right candidate down (a negative weight on what reads the answers)"),
    ("format+0.5*math", "best_of_n then picks a right candidate wherever it drew one, an oracle bound")])
def test_the_oracle_note_says_what_a_scorer_reading_the_gold_does_by_the_sign_of_its_weight(micro, scorer, says):
    """The note said a scorer reading the gold "picks a right candidate ... an oracle bound" for a negative weight too
    ("format-0.1*math" steers away from right answers): it is worded by the sign of the weights on math and code."""
    model, tok = micro
    s = evaluate(model, tok, ITEMS[:1], method="best_of_n", method_kwargs={"n_candidates": 2, "scorer": scorer},
                 max_new_tokens=4, progress=False)
    assert s["oracle"].startswith(f"scorer {scorer} reads each problem's gold answer: {says}")
    assert s["oracle"].endswith("not a method that could run without the answers")
    # weights of both signs (a code term needs items with tests: the note alone)
    from ponder.evaluate import oracle_note

    assert "self_refine then weighs right candidates up and down (weights of both signs" in \
        oracle_note("self_refine", "format+math-0.5*code")


@pytest.mark.parametrize("method, scorer, reads", [("best_of_n", "math", "gold answer"),
                                                   ("best_of_n", "format+math", "gold answer"),
                                                   ("self_refine", "math", "gold answer"),
                                                   ("best_of_n", "logprob", None), ("best_of_n", "format", None)])
def test_a_scorer_reading_the_gold_answer_is_marked_an_oracle_in_the_summary_and_report(micro, tmp_path, method,
                                                                                        scorer, reads):
    """best_of_n --scorer math picks a right candidate wherever it drew one: an oracle bound, near pass@N. Only the
    CLI said so, on stderr before the run (and not with --quiet): summary.json, --json and `ponder report` gave its
    accuracy as a method's (0.50 on 8 arith problems beside self-consistency's 0.375 on the same samples)."""
    model, tok = micro
    out = tmp_path / "e"
    kw = {"n_candidates": 2} if method == "best_of_n" else {"rounds": 1}
    s = evaluate(model, tok, ITEMS[:2], method=method, method_kwargs={**kw, "scorer": scorer}, max_new_tokens=8,
                 out_dir=out, progress=False)
    saved = json.loads((out / "summary.json").read_text())
    if reads is None:
        assert "oracle" not in s and "oracle" not in saved
        return
    assert f"scorer {scorer} reads each problem's {reads}: {method} then picks a right candidate" in s["oracle"]
    assert saved["oracle"] == s["oracle"]
    assert "an oracle bound (near pass@N)" in write_html_report(out).read_text()
    # a finished one asked again: its saved summary says so too
    again = evaluate(model, tok, ITEMS[:2], method=method, method_kwargs={**kw, "scorer": scorer}, max_new_tokens=8,
                     out_dir=out, progress=False, resume=True)
    assert again["resumed"] == "finished" and again["oracle"] == s["oracle"]


def _curves_without_latency(res):
    return [{**c, "points": [{k: v for k, v in p.items() if k != "latency"} for p in c["points"]]}
            for c in res["curves"]]


def _records_without_latency(d):
    return {f.name: [{k: v for k, v in json.loads(line).items() if k not in ("latency", "problem_latency")}
                     for line in f.read_text(encoding="utf-8").splitlines()]
            for f in sorted(d.glob("samples_*.jsonl"))}


def test_an_interrupted_sweep_resumed_gives_the_uninterrupted_curves_and_samples(micro, tmp_path, monkeypatch):
    """An interrupted sweep kept nothing (no directory, no samples) and --resume was refused. Each chunk drawn is
    kept as it goes, each method's samples saved to samples_PART.jsonl; resumed (twice: once in the parallel draw,
    once in budget forcing) the curves and samples are those of an uninterrupted sweep, no kept chunk drawn again."""
    model, tok = micro
    kw = dict(methods=["majority", "best_of_n", "oracle", "budget_forcing"], parallel_ns=[1, 2, 3],
              budgets=[2, 4], max_new_tokens=16, answer_tokens=4, temperature=1.0, seed=3, progress=False,
              n_boot=50, batch_problems=1)
    full = sweep((model, tok), ITEMS, out_dir=tmp_path / "full", **kw)
    d = tmp_path / "cut"
    calls = {"draw": 0, "budget_forcing": 0}

    def counted(name, real, stop_at):
        @functools.wraps(real)
        def fn(*a, **k):
            if name == "draw" and k.get("n") != 3:  # (budget forcing's own draws)
                return real(*a, **k)
            calls[name] += 1
            if calls[name] == stop_at:
                raise KeyboardInterrupt
            return real(*a, **k)
        return fn

    real_draw, real_bf = scale.draw, scale.budget_forcing
    monkeypatch.setattr(scale, "draw", counted("draw", real_draw, 3))  # Ctrl-C at the parallel draw's 3rd chunk
    with pytest.raises(KeyboardInterrupt):
        sweep((model, tok), ITEMS, out_dir=d, **kw)
    with pytest.raises(PonderError, match=r"holds an interrupted sweep \(model parallel 2/4 problems kept\); "
                                          "continue it with --resume"):
        sweep((model, tok), ITEMS, out_dir=d, **kw)
    calls["draw"] = 0
    monkeypatch.setattr(scale, "draw", counted("draw", real_draw, 0))
    # and at budget forcing's 6th chunk: budget 2's 4 problems and budget 4's first one kept
    monkeypatch.setattr(scale, "budget_forcing", counted("budget_forcing", real_bf, 6))
    with pytest.raises(KeyboardInterrupt):
        sweep((model, tok), ITEMS, out_dir=d, resume=True, **kw)
    assert calls["draw"] == 2  # the 2 problems not kept
    assert [r["budget"] for r in _records_without_latency(d)["samples_budget_forcing.jsonl"]] == [2] * 4
    calls["budget_forcing"] = 0
    monkeypatch.setattr(scale, "budget_forcing", counted("budget_forcing", real_bf, 0))
    res = sweep((model, tok), ITEMS, out_dir=d, resume=True, **kw)
    assert calls["budget_forcing"] == 3 and res["resumed"] == 4 + 5
    assert _curves_without_latency(res) == _curves_without_latency(full)
    assert _records_without_latency(d) == _records_without_latency(tmp_path / "full")
    assert set(_records_without_latency(d)) == {"samples_parallel.jsonl", "samples_budget_forcing.jsonl"}
    par = _records_without_latency(d)["samples_parallel.jsonl"]
    assert len(par) == 4 * 3 and {"completion", "answer", "gold", "correct", "reward", "verdict", "tokens",
                                  "logprob_mean"} <= set(par[0])
    assert json.loads((d / "summary.json").read_text())["accuracy"].keys() == \
        json.loads((tmp_path / "full" / "summary.json").read_text())["accuracy"].keys()
    assert not (d / ".sweep.partial.jsonl").exists()
    again = sweep((model, tok), ITEMS, out_dir=d, resume=True, **kw)  # finished: its saved curves, nothing drawn
    assert again["resumed"] == "finished" and _curves_without_latency(again) == _curves_without_latency(res)
    assert calls["budget_forcing"] == 3
    with pytest.raises(PonderError, match="holds a finished sweep: its --seed is 3, this sweep's 4"):
        sweep((model, tok), ITEMS, out_dir=d, resume=True, **{**kw, "seed": 4})


def _stop_budget_forcing(monkeypatch):
    """scale.budget_forcing raises KeyboardInterrupt (Ctrl-C at a sweep's first sequential chunk); returns the real."""
    real = scale.budget_forcing

    @functools.wraps(real)
    def stopped(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(scale, "budget_forcing", stopped)
    return real

def test_a_sweep_interrupted_before_its_first_chunk_leaves_no_progress_file(micro, tmp_path, monkeypatch):
    """Ctrl-C before a sweep's first chunk left .sweep.partial.jsonl holding only its settings: nothing to resume,
    yet an eval into the directory was refused ("holds an interrupted sweep") and --resume with other settings too,
    until a sweep there finished. It goes; --resume with the same settings still runs the sweep (from nothing)."""
    model, tok = micro
    kw = dict(methods=["budget_forcing"], budgets=[2], answer_tokens=4, progress=False, n_boot=20,
              batch_problems=1)
    d = tmp_path / "cut"
    real = _stop_budget_forcing(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        sweep((model, tok), ITEMS, out_dir=d, **kw)
    assert not (d / ".sweep.partial.jsonl").exists()
    monkeypatch.setattr(scale, "budget_forcing", real)
    assert sweep((model, tok), ITEMS, out_dir=d, resume=True, **{**kw, "budgets": [3]})["resumed"] == 0
    full = sweep((model, tok), ITEMS, out_dir=tmp_path / "full", **{**kw, "budgets": [3]})
    assert _curves_without_latency(sweep((model, tok), ITEMS, out_dir=d, resume=True, **{**kw, "budgets": [3]})) \
        == _curves_without_latency(full)
    _stop_budget_forcing(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        sweep((model, tok), ITEMS, out_dir=tmp_path / "e", **kw)
    evaluate(model, tok, ITEMS, out_dir=tmp_path / "e", method="greedy", max_new_tokens=4, progress=False)


def test_a_sweep_interrupted_over_a_finished_one_leaves_no_summary_beside_its_samples(micro, tmp_path, monkeypatch):
    """A sweep into a finished sweep's directory removed the old samples at its start but kept its summary.json:
    interrupted after its first method, the directory held the old summary (seed 3) beside the new samples
    (seed 4), and --resume with the old settings returned the old curves as finished, over the new samples."""
    model, tok = micro
    kw = dict(methods=["majority", "budget_forcing"], parallel_ns=[1, 2], budgets=[2], max_new_tokens=8,
              answer_tokens=4, temperature=1.0, progress=False, n_boot=20, batch_problems=1)
    d = tmp_path / "d"
    sweep((model, tok), ITEMS, out_dir=d, seed=3, **kw)
    real = _stop_budget_forcing(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        sweep((model, tok), ITEMS, out_dir=d, seed=4, **kw)
    assert (d / "samples_parallel.jsonl").is_file()  # (seed 4's)
    assert not (d / "summary.json").exists()
    monkeypatch.setattr(scale, "budget_forcing", real)
    with pytest.raises(PonderError, match="holds an interrupted sweep: its --seed is 4, this sweep's 3"):
        sweep((model, tok), ITEMS, out_dir=d, resume=True, seed=3, **kw)
    assert sweep((model, tok), ITEMS, out_dir=d, resume=True, seed=4, **kw)["resumed"] == 4


def test_a_resumed_sweep_with_other_settings_is_refused(micro, tmp_path, monkeypatch):
    model, tok = micro
    kw = dict(methods=["budget_forcing"], budgets=[2], answer_tokens=4, progress=False, n_boot=20,
              batch_problems=1)
    d = tmp_path / "cut"
    real = scale.budget_forcing
    n = [0]

    @functools.wraps(real)
    def fn(*a, **k):
        n[0] += 1
        if n[0] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(scale, "budget_forcing", fn)
    with pytest.raises(KeyboardInterrupt):
        sweep((model, tok), ITEMS, out_dir=d, **kw)
    monkeypatch.setattr(scale, "budget_forcing", real)
    with pytest.raises(PonderError, match="--resume .*cut: holds an interrupted sweep: its --budgets is 2, this sweep's 3;"):
        sweep((model, tok), ITEMS, out_dir=d, resume=True, **{**kw, "budgets": [3]})
    with pytest.raises(PonderError, match="holds an interrupted sweep"):  # nor does an eval take its directory
        evaluate(model, tok, ITEMS, out_dir=d, method="greedy", max_new_tokens=4, progress=False)
    assert sweep((model, tok), ITEMS, out_dir=d, resume=True, **kw)["resumed"] == 1


def test_golds_the_math_verifier_reads_are_not_taken_for_placeholders():
    """Only a gold with no answer in it is refused before drawing: text answers, choices, a GSM8K solution, numbers."""
    from ponder.evaluate import _check_reward_fields
    from ponder.verify.math import check_math
    from ponder.verify.registry import get_reward

    golds = ["see proof", "\\text{(C)}", "A", "N/A", "no solution", "\\infty", "[1,2)", "Tuesday", 3, 2.5,
             "She sold 48/2 = 24.\n#### 72", "The answer is \\boxed{5}."]
    items = [{"id": str(i), "prompt": PA, "answer": g} for i, g in enumerate(golds)]
    _check_reward_fields(get_reward("math"), items)
    for g in golds:  # (each is a gold the verifier compares answers with)
        assert check_math("The answer is \\boxed{1}.", str(g)).reason != "bad gold"


def test_a_method_option_given_on_one_side_only_is_named_in_the_resume_refusal():
    """`ponder eval --resume` with --weighted added (or dropped) was refused as "its method_kwargs is {'n_votes': 32},
    this evaluation's {'n_votes': 32, 'weighted': True}": the whole dicts, no option named. It names the option and
    its flag, as a changed value's refusal does."""
    from ponder.evaluate import _first_difference

    saved = {"method": "self_consistency", "method_kwargs": {"n_votes": 32}}
    added = {**saved, "method_kwargs": {"n_votes": 32, "weighted": True}}
    assert _first_difference(saved, added) == "it was run without --weighted, this evaluation with it"
    assert _first_difference(added, saved) == "it was run with --weighted, this evaluation without it"
    answers = {"method": "budget_forcing", "method_kwargs": {"budget": 8}}
    assert _first_difference(answers, {**answers, "method_kwargs": {"budget": 8, "answer_tokens": 16}}) == \
        "its --answer-tokens is unset (the method's default), this evaluation's 16"


def test_budget_forcing_resumes_with_its_budget_spelled_either_way(micro, tmp_path, monkeypatch):
    """Budget forcing's budget defaults to max_new_tokens, which caps nothing else there: `--budget 6` and
    `--max-new-tokens 6` draw the same samples, yet a resume with the other spelling was refused ("its
    max_new_tokens is 6, this evaluation's None"), interrupted or finished. Both resume; another budget is refused by
    its flag, and a method option at its default (waits=0) is the option left out."""
    model, tok = micro
    kw = dict(method="budget_forcing", ks=(1,), progress=False, n_boot=20, batch_problems=1)
    full = evaluate(model, tok, ITEMS, out_dir=tmp_path / "full", max_new_tokens=6, **kw)
    d = tmp_path / "cut"
    _evaluate_interrupted(monkeypatch, model, tok, d, "budget_forcing", 2, max_new_tokens=6, **kw)
    budget = dict(method_kwargs={"budget": 6}, **kw)
    assert evaluate(model, tok, ITEMS, out_dir=d, resume=True, **budget)["resumed"] == 2
    assert _without_latency(d / "samples.jsonl") == _without_latency(tmp_path / "full" / "samples.jsonl")
    again = evaluate(model, tok, ITEMS, out_dir=tmp_path / "full", resume=True,
                     **{**budget, "method_kwargs": {"budget": 6, "waits": 0}})
    assert again["resumed"] == "finished" and again["metrics"]["pass@1"] == full["metrics"]["pass@1"]
    with pytest.raises(PonderError, match=r"holds a finished evaluation: its --budget is 6, this evaluation's 7 "
                                          r"\(budget forcing's thinking budget: --budget, else --max-new-tokens\)"):
        evaluate(model, tok, ITEMS, out_dir=d, resume=True, **{**budget, "method_kwargs": {"budget": 7}})
    with pytest.raises(PonderError, match="its --budget is 6, this evaluation's 7"):
        evaluate(model, tok, ITEMS, out_dir=d, resume=True, max_new_tokens=7, **kw)


def _refusal_of_each_setting(cfg: dict) -> dict:
    """{setting: the refusal of a resume whose saved config.json (or header) has another value of it}."""
    from ponder.evaluate import _first_difference

    def other(v):
        if isinstance(v, bool):
            return not v
        if isinstance(v, (int, float)):
            return v + 1
        if isinstance(v, str):
            return v + "x"
        if isinstance(v, list):
            return [*v, "x"]
        if isinstance(v, dict):
            return {**v, next(iter(v)): other(next(iter(v.values())))} if v else {"x": 1}
        return "x"

    return {k: _first_difference({**cfg, k: other(v)}, cfg) for k, v in cfg.items()}


# the settings no flag of `ponder eval` sets (Python's arguments), and those a refusal says in words of its own
_NO_FLAG = ("kind", "n_boot", "stop", "extract", "equal", "batch_problems")


def test_every_setting_an_eval_or_sweep_records_is_refused_by_its_flag(micro, tmp_path, monkeypatch):
    """A resume with other settings was refused naming config.json's keys ("its parallel_ns is [1, 2, 4], this
    evaluation's [1, 2]", "its max_new_tokens is ..."), which no user typed. Every setting of an eval's and a
    sweep's config.json and progress header is named by its flag (those of Python's alone by their argument),
    and a sweep's refusal says "this sweep"."""
    model, tok = micro
    kw = dict(progress=False, n_boot=20, batch_problems=1)
    _evaluate_interrupted(monkeypatch, model, tok, tmp_path / "e", "sampling", 1, n=2, max_new_tokens=4,
                          extra={"task_seed": 0, "judge_model": "j", "rubric": "r"}, **kw)
    real = _stop_budget_forcing(monkeypatch)
    swept = dict(methods=["majority", "budget_forcing"], parallel_ns=[1, 2], budgets=[2], max_new_tokens=4,
                 answer_tokens=4, extra={"task_seed": 0}, **kw)
    with pytest.raises(KeyboardInterrupt):
        sweep((model, tok), ITEMS[:2], out_dir=tmp_path / "s", **swept)
    monkeypatch.setattr(scale, "budget_forcing", real)
    sweep((model, tok), ITEMS[:2], out_dir=tmp_path / "done", **swept)
    cfgs = {"eval": json.loads((tmp_path / "e" / ".samples.partial.jsonl").read_text().split("\n")[0]),
            "sweep": json.loads((tmp_path / "s" / ".sweep.partial.jsonl").read_text().split("\n")[0])}
    cfgs["sweep config"] = json.loads((tmp_path / "done" / "config.json").read_text())
    for what, cfg in cfgs.items():
        for key, said in _refusal_of_each_setting(cfg).items():
            if key in ("model", "ran_on"):  # (by its weights, and never compared: other tests)
                continue
            assert said is not None, (what, key)
            assert (f"its {key} is" in said) == (key in _NO_FLAG), (what, key, said)
            this = "this sweep" if what.startswith("sweep") else "this evaluation"
            assert (this in said or "this " not in said) and "\n" not in said, (what, key, said)
    said = _refusal_of_each_setting(cfgs["sweep"])
    assert said["parallel_ns"] == "its --ns is 1,2,x, this sweep's 1,2"
    assert said["chat"] == "it was run with --chat, this sweep without it"
    assert said["dtypes"] == "its --dtype of model 'model' is 'torch.float32x', this sweep's 'torch.float32'"
    assert said["models_sha256"].startswith("the weights of model 'model' differ from those it was started with")


def test_equivalent_sweep_settings_resume_and_other_ones_are_refused_by_flag():
    """Settings that draw the same curves compare alike: the methods in another order, a reward spec spelled
    otherwise, and the settings of methods the sweep does not run; what is used still differs."""
    from ponder.evaluate import _first_difference

    par = {"kind": "sweep", "methods": ["majority", "best_of_n"], "temperature": 0.8, "max_new_tokens": 128,
           "top_p": 1.0, "waits": 0, "answer_tokens": None, "reward": "math+0.1*format"}
    assert _first_difference(par, {**par, "methods": ["best_of_n", "majority"], "waits": 2, "answer_tokens": 8,
                                   "reward": "math + 0.1 * format"}) is None
    assert _first_difference(par, {**par, "temperature": 1.0}) == "its --temperature is 0.8, this sweep's 1.0"
    assert _first_difference(par, {**par, "reward": "0.1*format+math"}) == \
        "its --reward is 'math+0.1*format', this sweep's '0.1*format+math'"  # (the first term is the primary)
    seq = {**par, "methods": ["effort"]}
    assert _first_difference(seq, {**seq, "temperature": 1.0, "max_new_tokens": 64}) is None
    assert _first_difference(seq, {**seq, "answer_tokens": 8}) == "its --answer-tokens is unset, this sweep's 8"
    bf = {**par, "methods": ["budget_forcing"]}
    assert _first_difference(bf, {**bf, "waits": 1}) == "its --waits is 0, this sweep's 1"
    # an eval's: a reward spelled otherwise, effort's max_new_tokens (its level sets the budget)
    ev = {"kind": "eval", "method": "effort", "method_kwargs": {"level": "low"}, "max_new_tokens": 128,
          "reward": "math"}
    assert _first_difference(ev, {**ev, "max_new_tokens": None, "reward": "1.0*math"}) is None
    assert _first_difference(ev, {**ev, "method_kwargs": {"level": "high"}}) == \
        "its --effort is 'low', this evaluation's 'high'"


def test_a_resume_with_another_judge_function_is_refused(micro, tmp_path):
    """evaluate(judge=fn) recorded nothing of its judge: a finished (or interrupted) evaluation resumed with another
    judge function returned the first's summary, or scored half the problems by each. The judge is recorded by name,
    as a callable reward or extractor is; the same one resumes."""
    model, tok = micro

    def lenient(prompt, completion):
        return Verdict(True, None, "ok", score=1.0)

    def strict(prompt, completion):
        return Verdict(False, None, "no", score=0.0)

    kw = dict(method="greedy", max_new_tokens=4, reward="judge", progress=False, n_boot=10, out_dir=tmp_path / "j")
    first = evaluate(model, tok, ITEMS[:2], judge=lenient, **kw)
    assert json.loads((tmp_path / "j" / "config.json").read_text())["judge"] == "lenient"
    assert evaluate(model, tok, ITEMS[:2], judge=lenient, resume=True, **kw)["accuracy"] == first["accuracy"]
    with pytest.raises(PonderError, match=r"its judge is 'lenient', this evaluation's 'strict'"):
        evaluate(model, tok, ITEMS[:2], judge=strict, resume=True, **kw)
