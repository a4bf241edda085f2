"""Test-time methods on a real (micro) model with the real math verifier: invariants, not examples.

The micro model is trained in a few seconds on four prompts with known answer distributions:
  "pick A" -> \\boxed{1/2} (30%), \\boxed{0.5} (30%), \\boxed{3} (40%)   equivalent answers in two spellings
  "pick B" -> \\boxed{7} (60%), \\boxed{8} (40%)
  "say"    -> "I do not know."                                          never an answer
  "long"   -> four worked steps, then \\boxed{19}                          long enough for budget caps
"""

from __future__ import annotations

import copy
import functools
import re
import tempfile

import pytest
import torch

import ponder
from ponder import scale
from ponder.errors import PonderError
from ponder.metrics import logprob_weights, majority_vote, vote_decided
from ponder.verify.math import answers_equal, extract_answer
from ponder.verify.verdict import Verdict

END = "<|endoftext|>"
PA, PB, SAY, LONG = (f"Problem: {w}\nSolution:" for w in ("pick A", "pick B", "say", "long"))
LONG_SOLUTION = " 2 + 3 = 5.\n5 * 4 = 20.\n20 - 1 = 19.\n19 + 2 = 21.\n21 - 2 = 19.\nThe answer is \\boxed{19}."


@functools.lru_cache(maxsize=1)
def micro_model():
    """(model, tokenizer) trained for ~5 s; cached for the session (test_evaluate imports it)."""
    from ponder.train import TrainConfig, pretrain

    docs = []
    for _ in range(30):
        docs += [PA + " The answer is \\boxed{1/2}." + END] * 3 + [PA + " The answer is \\boxed{0.5}." + END] * 3
        docs += [PA + " The answer is \\boxed{3}." + END] * 4
        docs += [PB + " The answer is \\boxed{7}." + END] * 6 + [PB + " The answer is \\boxed{8}." + END] * 4
        docs += [SAY + " I do not know." + END] * 5 + [LONG + LONG_SOLUTION + END] * 5
    cfg = ponder.ModelConfig(hidden_size=48, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                             num_key_value_heads=1, head_dim=24, max_position_embeddings=512)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: one thread is faster and immune to a busy machine
    try:
        with tempfile.TemporaryDirectory() as d:
            run = pretrain(d, docs, model_config=cfg, vocab_size=300, progress=False,
                           train=TrainConfig(steps=120, batch_size=16, seq_len=64, lr=8e-3, warmup=10,
                                             save_every=10**6))
            model, tok = ponder.load(run / "checkpoint")
    finally:
        torch.set_num_threads(threads)
    return model.eval(), tok


@pytest.fixture(scope="module")
def micro():
    return micro_model()


# ---- the micro model does what the tests assume ---------------------------------------------------------


def test_micro_model_learned_its_distributions(micro):
    model, tok = micro
    out = ponder.sample(model, tok, [PA, PB, SAY], n=32, max_new_tokens=24, temperature=1.0, seed=0)
    a = [extract_answer(s.text) for s in out[0]]
    assert sum(x in ("1/2", "0.5") for x in a) >= 8 and sum(x == "3" for x in a) >= 4
    assert {"1/2", "0.5"} <= set(a)
    b = [extract_answer(s.text) for s in out[1]]
    assert {"7", "8"} <= set(b)
    g = ponder.sample(model, tok, [SAY], n=1, max_new_tokens=24, temperature=0.0)[0][0]
    assert extract_answer(g.text) is None


# ---- self-consistency -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_self_consistency_is_the_vote_over_the_same_samples(micro, seed):
    model, tok = micro
    prompts = [PA, PB, SAY, PA]
    got = scale.self_consistency(model, tok, prompts, n_votes=9, temperature=1.0, max_new_tokens=24, seed=seed)
    ref = ponder.sample(model, tok, prompts, n=9, max_new_tokens=24, temperature=1.0, seed=seed)
    for o, g in zip(got, ref, strict=True):
        answers = [extract_answer(s.text) for s in g]
        want, used, sizes = majority_vote(answers, equal=answers_equal)
        assert o.answer == want
        assert o.tokens == sum(s.num_tokens for s in g)
        if want is None:
            assert o.text == g[0].text
        else:
            j = answers.index(want)  # the winner's representative is its earliest member
            assert o.text == g[j].text and o.info["winner_sample"] == j


def test_self_consistency_groups_equivalent_answers_not_strings(micro):
    model, tok = micro
    both_seen = 0
    for seed in range(4):
        o = scale.self_consistency(model, tok, [PA], n_votes=12, temperature=1.0, max_new_tokens=24, seed=seed)[0]
        g = ponder.sample(model, tok, [PA], n=12, max_new_tokens=24, temperature=1.0, seed=seed)[0]
        answers = [extract_answer(s.text) for s in g]
        half = sum(a in ("1/2", "0.5") for a in answers)
        both_seen += {"1/2", "0.5"} <= set(answers)
        key = next((a for a in answers if a in ("1/2", "0.5")), None)
        if key is not None:
            assert o.info["votes"][key] == half  # "1/2" and "0.5" vote together
            assert ("0.5" if key == "1/2" else "1/2") not in o.info["votes"]
    assert both_seen >= 1


def test_vote_tie_rule_earliest_cluster_wins():
    assert scale.vote(["3", "1/2", "0.5", "3"], equal=answers_equal)[:2] == ("3", 0)
    assert scale.vote(["0.5", "3", "1/2", "3"], equal=answers_equal)[:2] == ("0.5", 0)
    assert scale.vote([None, "3", "0.5", "1/2", "3"], equal=answers_equal)[:2] == ("3", 1)
    assert scale.vote([None, None], equal=answers_equal)[:2] == (None, None)
    # weights break the tie the other way
    assert scale.vote(["3", "0.5"], equal=answers_equal, weights=[0.4, 0.6])[:2] == ("0.5", 1)


def test_weighted_self_consistency_uses_logprob_weights(micro):
    model, tok = micro
    got = scale.self_consistency(model, tok, [PA, PB], n_votes=8, weighted=True, temperature=1.0,
                                 max_new_tokens=24, seed=5)
    ref = ponder.sample(model, tok, [PA, PB], n=8, max_new_tokens=24, temperature=1.0, seed=5)
    for o, g in zip(got, ref, strict=True):
        w = logprob_weights([sum(s.logprobs) / len(s.logprobs) for s in g])
        want = majority_vote([extract_answer(s.text) for s in g], equal=answers_equal, weights=w)[0]
        assert o.answer == want


@pytest.mark.parametrize("chunk", [1, 3])
def test_early_stop_same_answer_fewer_tokens(micro, chunk):
    model, tok = micro
    prompts = [PB, PA, SAY, PB, PB]
    # a seed under which some prompt stops early at both chunk sizes (PB's "7" has p=0.6: often, not always)
    kw = dict(n_votes=12, chunk=chunk, temperature=1.0, max_new_tokens=24, seed=0)
    full = scale.self_consistency(model, tok, prompts, early_stop=False, **kw)
    early = scale.self_consistency(model, tok, prompts, early_stop=True, **kw)
    stopped = 0
    for f, e in zip(full, early, strict=True):
        assert e.answer == f.answer  # a settled vote cannot be overturned
        assert e.tokens <= f.tokens
        drawn = e.info["samples_drawn"]
        assert drawn == 12 or drawn % chunk == 0
        if drawn < 12:
            stopped += 1
            assert e.tokens < f.tokens
            sizes = [v for k, v in e.info["votes"].items() if k != "<none>"]
            assert vote_decided(sizes, 12 - e.info["votes_used"])
    assert early[2].info["samples_drawn"] == 12  # "say" never has a majority answer
    assert stopped >= 1


def test_early_stopped_survivors_draw_in_one_engine_call_per_chunk(micro, monkeypatch):
    """Survivors of early stopping are scattered ([0, 2, 4] of 5): draw_subset drew each run of consecutive
    indices as its own engine call, so a thinned batch decoded as many small ones (--early-stop took ~5x the
    wall time of the plain vote on 100 problems). Each chunk is now one call, with the plain run's samples."""
    import ponder.engine

    model, tok = micro
    calls = []
    real = ponder.engine.sample
    monkeypatch.setattr(ponder.engine, "sample", lambda *a, **k: calls.append(len(a[2])) or real(*a, **k))
    prompts = [PB, SAY, PB, SAY, PB, SAY]
    kw = dict(n_votes=12, chunk=3, temperature=1.0, max_new_tokens=24, seed=0)
    early = scale.self_consistency(model, tok, prompts, early_stop=True, **kw)
    assert len(calls) == max(o.info["samples_drawn"] for o in early) // 3  # one call per chunk drawn
    assert any(n < len(prompts) and n > 1 for n in calls)  # a thinned, scattered batch, still one call
    plain = scale.self_consistency(model, tok, prompts, early_stop=False, n_votes=12, temperature=1.0,
                                   max_new_tokens=24, seed=0)
    assert [o.answer for o in early] == [o.answer for o in plain]

def test_chunked_and_early_stopped_self_consistency_vote_over_the_plain_runs_samples(micro):
    """Chunk c drew from a seed of its own (derive_seed(seed, "chunk", c)), so `--early-stop` (chunked by
    default) voted over other samples than the plain run and changed its accuracy (tiny model, 40 arith
    problems, 8 votes: 45% plain, 55% with --early-stop). Chunks are now slices of the plain run's one draw."""
    model, tok = micro
    prompts = [PB, PA, SAY, PB]
    kw = dict(n_votes=8, temperature=1.0, max_new_tokens=24, seed=3)
    plain = scale.self_consistency(model, tok, prompts, **kw)
    drawn = ponder.sample(model, tok, prompts, n=8, max_new_tokens=24, temperature=1.0, seed=3)
    for extra in (dict(chunk=1), dict(chunk=3), dict(early_stop=True), dict(chunk=5, early_stop=True)):
        got = scale.self_consistency(model, tok, prompts, **kw, **extra)
        for p, g, d in zip(plain, got, drawn, strict=True):
            assert (g.answer, g.text) == (p.answer, p.text), extra
            if "early_stop" not in extra:
                assert g.info["votes"] == p.info["votes"] and g.tokens == p.tokens, extra
            else:  # the samples it drew are the plain run's first ones
                assert g.tokens == sum(s.num_tokens for s in d[: g.info["samples_drawn"]]), extra


def test_self_consistency_errors(micro):
    model, tok = micro
    with pytest.raises(PonderError, match="temperature"):
        scale.self_consistency(model, tok, [PA], n_votes=4, temperature=0.0)
    with pytest.raises(PonderError, match="early_stop"):
        scale.self_consistency(model, tok, [PA], n_votes=4, weighted=True, early_stop=True)
    with pytest.raises(PonderError, match="n_votes"):
        scale.self_consistency(model, tok, [PA], n_votes=0)
    with pytest.raises(PonderError, match="empty"):
        scale.self_consistency(model, tok, [], n_votes=2)


@pytest.mark.parametrize("opt", ["weighted", "early_stop"])
@pytest.mark.parametrize("bad", ["no", "false", 0, None])
def test_self_consistency_vote_options_must_be_true_or_false(micro, opt, bad):
    """weighted and early_stop were taken by truthiness: "no" or "false" (a settings file's text) ran a weighted or
    early-stopped vote, and evaluate recorded "no" in config.json. Refused, by evaluate before anything is drawn."""
    model, tok = micro
    with pytest.raises(PonderError, match=f"self-consistency: {opt} must be True or False, got {bad!r}"):
        scale.self_consistency(model, tok, [PA], n_votes=2, **{opt: bad})
    from ponder.evaluate import evaluate

    with pytest.raises(PonderError, match=f"{opt} must be True or False"):
        evaluate(None, None, [{"prompt": PA, "answer": "3"}], method="self_consistency", progress=False,
                 method_kwargs={"n_votes": 2, opt: bad})


# ---- best-of-N ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method,kw", [("best_of_n", dict(n_candidates=2, temperature=1.0)),
                                       ("self_refine", dict(rounds=1))])
@pytest.mark.parametrize("scorer", [lambda completion: 1.0, lambda prompt, completion, item: 1.0])
def test_a_scorer_that_cannot_take_prompt_and_completion_is_refused_before_drawing(micro, monkeypatch, method,
                                                                                   kw, scorer):
    """A scorer of the wrong arity failed as a bare TypeError ("<lambda>() takes 1 positional argument but 2 were
    given") once every candidate or draft had been drawn."""
    model, tok = micro
    monkeypatch.setattr(scale, "draw", lambda *a, **k: pytest.fail("drew before refusing"))
    with pytest.raises(PonderError, match=r"scorer <lambda>\(.*\) cannot be called as scorer\(prompt, completion\)"):
        scale.METHODS[method](model, tok, [PA], scorer=scorer, **kw)


def test_best_of_n_logprob_picks_highest_mean_logprob(micro):
    model, tok = micro
    got = scale.best_of_n(model, tok, [PA, PB, LONG], n_candidates=6, temperature=1.0, max_new_tokens=48, seed=2)
    ref = ponder.sample(model, tok, [PA, PB, LONG], n=6, max_new_tokens=48, temperature=1.0, seed=2)
    for o, g in zip(got, ref, strict=True):
        lps = [sum(s.logprobs) / len(s.logprobs) for s in g]
        j = max(range(6), key=lambda k: (lps[k], -k))
        assert o.info["chosen"] == j and o.text == g[j].text
        assert o.tokens == sum(s.num_tokens for s in g)


def test_best_of_n_with_judge_like_and_reward_scorers(micro):
    model, tok = micro
    from ponder.verify.registry import get_reward

    # a judge returns Verdicts with .score: prefer the answer 8
    judge = lambda p, c: Verdict(extract_answer(c) == "8", extract_answer(c), "", score=float(extract_answer(c) == "8"))  # noqa: E731
    o = scale.best_of_n(model, tok, [PB], n_candidates=10, scorer=judge, temperature=1.0, max_new_tokens=24,
                        seed=0)[0]
    g = ponder.sample(model, tok, [PB], n=10, max_new_tokens=24, temperature=1.0, seed=0)[0]
    has8 = [extract_answer(s.text) == "8" for s in g]
    assert o.answer == ("8" if any(has8) else extract_answer(g[0].text))
    # a user reward function (registry signature) through reward_scorer: the gold-checking reward is an oracle
    items = [{"prompt": PB, "answer": "7"}, {"prompt": PA, "answer": "1/2"}]
    scorer = scale.reward_scorer(get_reward("math"), items)
    outs = scale.best_of_n(model, tok, [PB, PA], n_candidates=8, scorer=scorer, temperature=1.0,
                           max_new_tokens=24, seed=1)
    ref = ponder.sample(model, tok, [PB, PA], n=8, max_new_tokens=24, temperature=1.0, seed=1)
    for o, it, g in zip(outs, items, ref, strict=True):
        if any(answers_equal(extract_answer(s.text) or "", it["answer"]) for s in g):
            assert answers_equal(o.answer, it["answer"])
    with pytest.raises(PonderError, match="scorer"):
        scale.best_of_n(model, tok, [PB], n_candidates=2, scorer="nonsense")
    with pytest.raises(PonderError, match="scorer"):
        scale.best_of_n(model, tok, [PB], n_candidates=2, scorer=lambda p, c: "high")


def test_reward_scorer_refuses_prompts_or_think_open_not_one_per_item():
    """prompts[i] / think_open[i] belong to items[i]; lists of another length were zipped silently, leaving the
    items past the shorter list unscorable ("no item has the prompt") or pairing the rest as given."""
    from ponder.verify.registry import get_reward

    items = [{"prompt": PB, "answer": "7"}, {"prompt": PA, "answer": "1/2"}]
    with pytest.raises(PonderError, match=r"^reward_scorer: 1 prompts for 2 items \(one per item, in order\)$"):
        scale.reward_scorer(get_reward("math"), items, [PB])
    with pytest.raises(PonderError, match=r"^reward_scorer: 3 think_open for 2 items"):
        scale.reward_scorer(get_reward("math"), items, think_open=[False] * 3)
    scorer = scale.reward_scorer(get_reward("math"), items, [PB, PA], [False, False])
    assert scorer(PA, "The answer is \\boxed{0.5}.") > scorer(PB, "The answer is \\boxed{0.5}.")


def test_reward_scorer_scores_items_that_share_a_prompt_against_their_own(micro):
    """Items were found by prompt alone: two with one prompt (a question with two gold answers, duplicates) were
    both scored against the last one's gold, silently. Best-of-N and self-refine now pass the problem's index;
    a plain scorer(prompt, completion) call refuses a prompt whose items differ, naming both."""
    from ponder.verify.registry import get_reward

    model, tok = micro
    items = [{"id": "q-7", "prompt": PB, "answer": "7"}, {"id": "q-8", "prompt": PB, "answer": "8"}]
    scorer = scale.reward_scorer(get_reward("math"), items)
    outs = scale.best_of_n(model, tok, [PB, PB], n_candidates=10, scorer=scorer, temperature=1.0, max_new_tokens=24,
                           seed=0)
    ref = ponder.sample(model, tok, [PB, PB], n=10, max_new_tokens=24, temperature=1.0, seed=0)
    assert all({"7", "8"} <= {extract_answer(s.text) for s in g} for g in ref)  # (each could pick its own)
    assert [o.answer for o in outs] == ["7", "8"]
    # a shard (evaluate's chunks, Ray actors) gives its global index_offset: its problems are items[offset + i]
    assert scale.best_of_n(model, tok, [PB], n_candidates=10, scorer=scorer, temperature=1.0, max_new_tokens=24,
                           seed=0, index_offset=1)[0].text == outs[1].text
    seven = "The answer is \\boxed{7}."
    assert scorer(PB, seven, index=0) > scorer(PB, seven, index=1)
    with pytest.raises(PonderError, match=r"^reward_scorer: items q-7 and q-8 share the prompt 'Problem: pick B"):
        scorer(PB, seven)
    same = scale.reward_scorer(get_reward("math"), [items[0], {**items[0], "id": "copy"}])  # duplicates: one gold
    assert same(PB, seven) == same(PB, seven, index=1) == scorer(PB, seven, index=0)
    for o, (i, it) in zip(scale.self_refine(model, tok, [PB, PB], rounds=1, scorer=scorer, temperature=1.0,
                                            max_new_tokens=24, critique_tokens=4, seed=1, index_offset=0),
                          enumerate(items), strict=True):
        kept = max(v for v, ok in zip(o.info["scores"], [True] + o.info["accepted"]) if ok)
        assert kept == scorer(PB, o.text, index=i) == float(answers_equal(o.answer or "", it["answer"]))


# ---- self-refine ----------------------------------------------------------------------------------------


def test_self_refine_never_lowers_the_score(micro, monkeypatch):
    model, tok = micro
    prompts = [PA, PB, LONG, SAY]
    likelihood = scale.likelihood_scorer(model, tok)
    for scorer in (lambda p, c: -len(c), lambda p, c: len(c), "likelihood"):
        seen = _seen_samples(monkeypatch)
        outs = scale.self_refine(model, tok, prompts, rounds=2, scorer=scorer, temperature=1.0, seed=4,
                                 max_new_tokens=40, critique_tokens=12)
        for p, o in zip(prompts, outs, strict=True):
            sc = o.info["scores"]
            assert len(sc) == 3 and len(o.info["accepted"]) == 2
            kept = max(s for s, ok in zip(sc, [True] + o.info["accepted"]) if ok)
            if scorer == "likelihood":  # of the ids the model sampled for the final text (a draft or a revision)
                final = [likelihood(p, o.text, token_ids=s.token_ids) for s in seen if s.text == o.text]
                assert any(v == pytest.approx(kept, abs=1e-5) for v in final)
            else:
                assert scorer(p, o.text) == pytest.approx(kept, abs=1e-5)
            cur = sc[0]
            for s, ok in zip(sc[1:], o.info["accepted"]):
                assert ok == (s >= cur)
                cur = s if ok else cur
            assert kept >= sc[0] - 1e-6
    zero = scale.self_refine(model, tok, prompts, rounds=0, max_new_tokens=40)
    greedy = scale.greedy(model, tok, prompts, max_new_tokens=40)
    assert [o.text for o in zero] == [o.text for o in greedy]
    assert [o.tokens for o in zero] == [o.tokens for o in greedy]


# ---- budget forcing and effort --------------------------------------------------------------------------


def test_budget_forcing_never_exceeds_its_cap(micro, tiny_random):
    answer_tokens = 4
    waited = forced = 0
    for model, tok, prompts in (micro + ([PA, PB, SAY, LONG] * 3,),
                                tiny_random + (["Problem: 3 + 4 * 2 = ?\nSolution:", "the quick", "x"] * 2,)):
        for budget in (1, 3, 8, 21):
            for waits in (0, 1, 3):
                for temperature in (0.0, 1.0):
                    outs = scale.budget_forcing(model, tok, prompts, budget=budget, waits=waits,
                                                answer_tokens=answer_tokens, temperature=temperature, seed=budget,
                                                wait_text=" Wait")
                    wait_len = len(tok.encode(" Wait", add_special_tokens=False))
                    assert len(outs) == len(prompts)
                    for o in outs:
                        i = o.info
                        assert i["thinking_tokens"] <= budget
                        assert o.tokens <= budget + answer_tokens
                        assert i["waits_used"] <= waits
                        generated_thinking = i["thinking_tokens"] - i["waits_used"] * wait_len
                        assert 1 <= generated_thinking <= budget
                        assert o.tokens - generated_thinking <= (answer_tokens if i["forced"] else 0)
                        if i["thinking_ended"] == "length":
                            assert i["forced"] and "\nFinal Answer:" in o.text
                        assert o.answer == extract_answer(o.text)  # the answer recorded is the one judged
                        waited += i["waits_used"] > 0
                        forced += i["forced"]
    assert waited > 0 and forced > 0


def test_budget_forcing_with_a_large_budget_is_the_natural_answer(micro):
    model, tok = micro
    prompts = [PB, LONG]
    bf = scale.budget_forcing(model, tok, prompts, budget=200)
    g = scale.greedy(model, tok, prompts, max_new_tokens=200)
    for a, b in zip(bf, g, strict=True):
        assert not a.info["forced"] and a.text == b.text and a.tokens == b.tokens
    # the long solution cut short is forced to answer after the cue
    cut = scale.budget_forcing(model, tok, [LONG], budget=6, answer_tokens=8)[0]
    assert cut.info["forced"] and cut.text.startswith(ponder.sample(model, tok, [LONG], n=1, max_new_tokens=6,
                                                                    temperature=0.0)[0][0].text)


def test_budget_forcing_keeps_an_answer_that_ends_on_the_last_allowed_token(micro):
    """Thinking that ends by itself (EOS) on exactly the budget's last token was not cut off: its own answer
    stands. Before, used >= budget counted as a cut and a forced answer replaced it (pick B: 7 -> 3)."""
    model, tok = micro
    natural = ponder.sample(model, tok, [PB, LONG], n=1, max_new_tokens=200, temperature=0.0)
    for prompt, (s,) in zip([PB, LONG], natural):
        assert s.finish_reason == "stop"
        o = scale.budget_forcing(model, tok, [prompt], budget=s.num_tokens)[0]
        assert o.info["thinking_ended"] == "stop" and not o.info["forced"]
        assert o.text == s.text and o.tokens == s.num_tokens == o.info["thinking_tokens"]
        cut = scale.budget_forcing(model, tok, [prompt], budget=s.num_tokens - 1)[0]  # one short: a real cut
        assert cut.info["thinking_ended"] == "length" and cut.info["forced"]


@pytest.mark.parametrize("method", ["greedy", "self_consistency", "best_of_n", "self_refine", "budget_forcing"])
def test_every_method_records_the_answer_its_final_completion_is_judged_by(micro, method):
    """Outcome.answer is what a verifier reads from Outcome.text. Budget forcing used to record the thinking's
    answer when the forced one was unreadable, while the verifier read another ("Final" vs "now")."""
    model, tok = micro
    kw = {"budget_forcing": {"budget": 5, "answer_tokens": 3, "force": "always"}}.get(method,
                                                                                    {"max_new_tokens": 40})
    outs = getattr(scale, method)(model, tok, [PA, PB, SAY, LONG] * 2, **kw)
    assert len(outs) == 8 and [o.answer for o in outs] == [extract_answer(o.text) for o in outs]


def test_budget_forcing_records_the_answer_of_a_prompt_that_opened_the_thinking(micro, monkeypatch):
    """A prompt that opens the thinking (evaluate hands the methods extract_opened for it): the answer after
    "</think>" was read alone, "<think>" + "\\nFinal Answer: 19", a thinking never closed, so every recorded answer
    was None (maj@k 0, no-answer rate 100%) while the reward read 19 from the final completion and judged it right."""
    from ponder.evaluate import extract_opened
    from ponder.verify.registry import get_reward

    model, tok = micro
    monkeypatch.setattr(scale, "_forced_answers", lambda model, tok, contexts, idx, *a, **k: {
        i: (" 19", "stop", [], [], 0.0) for i in idx})
    extract = functools.partial(extract_opened, extract_answer)
    outs = scale.budget_forcing(model, tok, [LONG + "<think>\n", PB + "<think>\n"], budget=4, answer_tokens=4,
                                force="always", extract=extract)
    reward = get_reward("math")
    assert len(outs) == 2
    for o in outs:
        assert o.info["think_end"] == "</think>" and o.text.endswith("</think>\nFinal Answer: 19")
        assert o.answer == "19" == extract(o.text)
        assert reward(o.text, {"answer": "19"}, think_open=True).correct


def test_effort_levels_map_to_budgets(micro):
    model, tok = micro
    for level, cfg in scale.EFFORT_LEVELS.items():
        outs = scale.effort(model, tok, [LONG, PB], level=level, answer_tokens=4)
        bf = scale.budget_forcing(model, tok, [LONG, PB], budget=cfg["budget"], waits=cfg["waits"], answer_tokens=4)
        for o, b in zip(outs, bf, strict=True):
            assert o.info["budget"] == cfg["budget"] and o.info["effort"] == level
            assert o.text == b.text  # plain-text prompts: no system line, only the budget
            assert o.tokens <= cfg["budget"] + 4
    budgets = [scale.EFFORT_LEVELS[lv]["budget"] for lv in ("low", "medium", "high")]
    assert budgets == sorted(budgets) and len(set(budgets)) == 3
    chat = [{"role": "user", "content": "pick B"}]
    msgs = scale.with_system_line(chat, scale.EFFORT_LEVELS["high"]["system"])
    assert msgs[0] == {"role": "system", "content": scale.EFFORT_LEVELS["high"]["system"]} and msgs[1:] == chat
    merged = scale.with_system_line([{"role": "system", "content": "Be nice."}] + chat, "Reasoning effort: low.")
    assert merged[0]["content"] == "Be nice.\nReasoning effort: low." and len(merged) == 2
    assert scale.with_system_line(PA, "anything") == PA
    o = scale.effort(model, tok, [chat], level="low", answer_tokens=2)[0]
    assert o.info["thinking_tokens"] <= scale.EFFORT_LEVELS["low"]["budget"]
    custom = {"tiny": {"budget": 3, "waits": 0, "system": ""}}
    assert scale.effort(model, tok, [LONG], level="tiny", levels=custom)[0].info["thinking_tokens"] <= 3
    with pytest.raises(PonderError, match="unknown reasoning effort"):
        scale.effort(model, tok, [PA], level="extreme")


# ---- counter-based sub-sampling -------------------------------------------------------------------------


def test_first_k_of_n_equals_a_draw_of_k_for_the_first_prompt(micro):
    model, tok = micro
    big = ponder.sample(model, tok, [PA, PB], n=8, max_new_tokens=24, temperature=1.0, seed=9)
    for k in (1, 2, 4):
        small = ponder.sample(model, tok, [PA, PB], n=k, max_new_tokens=24, temperature=1.0, seed=9)
        assert [s.token_ids for s in big[0][:k]] == [s.token_ids for s in small[0]]


def test_first_k_of_n_equals_a_draw_of_k_for_every_prompt(micro):
    model, tok = micro
    big = ponder.sample(model, tok, [PA, PB, LONG], n=8, max_new_tokens=24, temperature=1.0, seed=9)
    small = ponder.sample(model, tok, [PA, PB, LONG], n=4, max_new_tokens=24, temperature=1.0, seed=9)
    for i in range(3):
        assert [s.token_ids for s in big[i][:4]] == [s.token_ids for s in small[i]]


def test_draw_subset_matches_the_full_call(micro):
    model, tok = micro
    prompts = [PA, PB, SAY, LONG, PA, PB]
    full, _ = scale.draw(model, tok, prompts, n=3, seed=4, temperature=1.0, max_new_tokens=20, index_offset=7)
    part = scale.draw_subset(model, tok, prompts, [0, 2, 3, 5], n=3, seed=4, temperature=1.0, max_new_tokens=20,
                             index_offset=7)
    assert sorted(part) == [0, 2, 3, 5]
    for i, (g, lat) in part.items():
        assert [s.token_ids for s in g] == [s.token_ids for s in full[i]] and lat >= 0


@pytest.mark.parametrize("adds_bos", [False, True])
def test_chat_prompts_continued_as_text_keep_one_bos(adds_bos):
    """A chat prompt's text (what a continuation reads after it: wait counts, likelihood scoring), encoded as
    the engine encodes strings (with special tokens), gives the chat prompt's own ids with a template that
    writes {{ bos_token }} (Llama 3): one BOS, whether or not the tokenizer adds BOS by itself. (Sampling
    a continuation goes through `_continue`: test_budget_forcing_continues_a_chat_prompt_on_its_own_ids.)"""
    import copy

    from tokenizers.processors import TemplateProcessing

    from ponder.engine import render_prompts
    from ponder.tokenizer import Tokenizer

    base = ponder.load("tiny")[1]
    hf, bos = copy.deepcopy(base.tok), "<think>"  # a stand-in BOS token (Llama 3: <|begin_of_text|>)
    if adds_bos:
        hf.post_processor = TemplateProcessing(single=f"{bos} $A", special_tokens=[(bos, hf.token_to_id(bos))])
    template = ("{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    tok = Tokenizer(hf, eos_token="<|endoftext|>", bos_token=bos, chat_template=template)
    chat = [{"role": "user", "content": "What is 2+3?"}]
    ids = render_prompts(tok, [chat])[0]
    assert ids.count(tok.bos_token_id) == 1 and ids[0] == tok.bos_token_id
    assert render_prompts(tok, [scale._render_text(tok, chat)])[0] == ids


# ---- option checks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(scale.METHODS))
def test_an_empty_chat_prompt_is_refused_not_evaluated_as_nothing(micro, method):
    """A prompt of no chat messages ([]) was rendered as the template's bare generation prompt and solved as a
    problem of nothing (an empty text prompt is refused; the data loader refuses both)."""
    model, tok = micro
    with pytest.raises(PonderError, match=r"^prompt 1: an empty list of chat messages"):
        scale.METHODS[method](model, tok, [PA, []])


def test_zero_votes_or_candidates_name_the_option(micro):
    model, tok = micro
    with pytest.raises(PonderError, match=r"self-consistency: n_votes \(--votes\) must be an integer >= 1, got 0"):
        scale.self_consistency(model, tok, [PA], n_votes=0, max_new_tokens=8)
    with pytest.raises(PonderError, match=r"best-of-N: n_candidates \(--candidates\) must be an integer >= 1, got 0"):
        scale.best_of_n(model, tok, [PA], n_candidates=0, max_new_tokens=8)


@pytest.mark.parametrize("method", ["budget_forcing", "effort"])
@pytest.mark.parametrize("temperature, msg", [(-1.0, "got -1.0"), (float("nan"), "got nan"), ("0.5", "got '0.5'")])
def test_budget_forcing_names_a_bad_temperature(micro, method, temperature, msg):
    """Greedy draws go to the engine with temperature 0, so a bad one was decoded greedily, unreported."""
    model, tok = micro
    with pytest.raises(PonderError, match=f"temperature must be .*{msg}"):
        scale.METHODS[method](model, tok, [PA], temperature=temperature)


def test_budget_forcing_samples_with_top_k_and_min_p(micro):
    """budget_forcing took top_p alone of the filters (`ponder eval --method budget_forcing` could not pass top_k):
    each of its draws (thinking, the thinking after a wait, the forced answer) takes top_k and min_p. top_k 1 keeps
    the most likely token alone: at temperature 1 it is its greedy run; unfiltered it samples other text."""
    model, tok = micro
    prompts = [PA, PB, SAY, LONG]
    kw = dict(budget=6, waits=1, answer_tokens=4, force="always", seed=3)
    greedy = [o.text for o in scale.budget_forcing(model, tok, prompts, **kw)]
    assert [o.text for o in scale.budget_forcing(model, tok, prompts, temperature=1.0, **kw)] != greedy
    for filt in ({"top_k": 1}, {"min_p": 0.999}):
        assert [o.text for o in scale.budget_forcing(model, tok, prompts, temperature=1.0, **filt, **kw)] == greedy
    with pytest.raises(PonderError, match=r"top_k must be an integer >= 0 \(0 disables it\), got -1"):
        scale.effort(model, tok, prompts, top_k=-1)


def test_budget_forcing_context_refusal_adds_up(micro):
    """The refusal wrote "prompt of 41 tokens + thinking budget 60 + answer cue 12 + answer tokens 16 = 88 exceeds
    the model's context of 128 positions": the total left the prompt out, and 88 fits 128. The total shown is the
    sum of the numbers before it, and exceeds the context."""
    model, tok = micro
    limit = model.config.max_position_embeddings
    with pytest.raises(PonderError) as e:
        scale.budget_forcing(model, tok, [PA], budget=limit // 2, answer_tokens=limit // 2)
    msg = str(e.value)
    m = re.fullmatch(r"prompt of (\d+) tokens \+ budget forcing's thinking budget (\d+) \+ answer cue (\d+) \+ answer "
                     r"tokens (\d+) = (\d+) exceeds the model's context of (\d+) positions", msg)
    assert m, msg
    *terms, total, ctx = map(int, m.groups())
    assert sum(terms) == total > ctx == limit


@pytest.mark.parametrize("method", ["budget_forcing", "effort"])
def test_budget_forcing_refuses_a_forced_answer_beyond_the_context_before_thinking(micro, monkeypatch, method):
    """The forced answer follows prompt + thinking + cue: a budget that left no room for the cue passed, drew
    all the thinking, then failed in the engine naming a max_new_tokens nobody gave."""
    model, tok = micro
    limit, prompt = model.config.max_position_embeddings, len(tok.encode(PA, add_special_tokens=True))
    cue = len(tok.encode("\nFinal Answer:", add_special_tokens=False))
    budget = limit - prompt - 16 - cue + 1  # prompt + budget + answer tokens fit; the cue does not
    monkeypatch.setattr(scale, "draw", lambda *a, **k: pytest.fail("drew before refusing"))
    kw = dict(budget=budget) if method == "budget_forcing" else dict(level="x", levels={"x": {"budget": budget}})
    with pytest.raises(PonderError, match=rf"thinking budget {budget} \+ answer cue {cue} \+ answer tokens 16 = "
                                          rf"{limit + 1} exceeds the model's context of {limit}"):
        scale.METHODS[method](model, tok, [PA], answer_tokens=16, **kw)
    with pytest.raises(PonderError, match="budget forcing: answer_cue must be a string, got None"):
        scale.budget_forcing(model, tok, [PA], answer_cue=None)


@pytest.mark.parametrize("method", ["budget_forcing", "effort"])
@pytest.mark.parametrize("index_offset", [-1, 1.5, None, "3", 2**63])
def test_greedy_budget_forcing_refuses_an_index_offset_the_engine_refuses(micro, monkeypatch, method, index_offset):
    """Greedy budget forcing decodes in one batched call that needs no index_offset, so it never reached the
    engine's check: a bad one was taken silently (or failed as a bare TypeError naming a problem). It is
    refused as the engine and the other methods refuse it, before anything is drawn."""
    model, tok = micro
    monkeypatch.setattr(scale, "draw", lambda *a, **k: pytest.fail("drew before refusing"))
    with pytest.raises(PonderError, match=r"^index_offset must be an integer >= 0 and < 2\*\*63 .*, got "
                                          + re.escape(repr(index_offset)) + "$"):
        scale.METHODS[method](model, tok, [PA], temperature=0.0, index_offset=index_offset)


def test_self_refine_and_effort_options_are_named(micro):
    model, tok = micro
    with pytest.raises(PonderError, match="self-refine: critique_tokens must be an integer >= 1, got 0"):
        scale.self_refine(model, tok, [PA], rounds=1, critique_tokens=0, max_new_tokens=4)
    with pytest.raises(PonderError, match="reasoning effort 'x': expected a dict with a 'budget', got"):
        scale.effort(model, tok, [PA], level="x", levels={"x": {"waits": 1}})


@pytest.mark.parametrize("method, kw, msg", [
    ("budget_forcing", dict(budget=0), "budget forcing: budget must be an integer >= 1, got 0"),
    ("budget_forcing", dict(answer_tokens="4"), "budget forcing: answer_tokens must be an integer >= 1, got '4'"),
    ("budget_forcing", dict(waits=-1), "budget forcing: waits must be an integer >= 0, got -1"),
    ("budget_forcing", dict(waits=2, wait_text=""), "budget forcing: wait_text must be text that keeps the model "
                                                    "thinking, got ''"),
    ("budget_forcing", dict(waits=1, wait_text=" \n"), "budget forcing: wait_text must be text that keeps the "
                                                       "model thinking, got ' \\\\n'"),
    ("effort", dict(level="x", levels={"x": {"budget": 0}}), "reasoning effort 'x': budget must be an integer >= 1, "
                                                            "got 0"),
    ("effort", dict(level="x", levels={"x": {"budget": 8, "waits": -1}}),
     "reasoning effort 'x': waits must be an integer >= 0, got -1"),
    ("effort", dict(answer_tokens=0), "budget forcing: answer_tokens must be an integer >= 1, got 0"),
    # (a bare TypeError where the chat prompt has a system message to add it to)
    ("effort", dict(level="x", levels={"x": {"budget": 8, "system": 5}}),
     "reasoning effort 'x': system must be a string, got 5"),
    ("effort", dict(level="low", levels=5), "reasoning effort: levels must be a dict of levels, got 5"),
    ("effort", dict(level="l", levels="low"), "reasoning effort: levels must be a dict of levels, got 'low'"),
    ("self_consistency", dict(n_votes=2, chunk=0), "self-consistency: chunk must be an integer >= 1, got 0"),
    ("sampling", dict(n=0), "sampling: n must be an integer >= 1, got 0"),
    ("self_refine", dict(rounds=-1), "self-refine: rounds must be an integer >= 0, got -1"),
    ("best_of_n", dict(n_candidates=0), r"best-of-N: n_candidates \(--candidates\) must be an integer >= 1, got 0"),
])
def test_a_bad_option_is_named_with_its_method(micro, monkeypatch, method, kw, msg):
    """Every method names a bad option with its own prefix: budget forcing's budget and answer_tokens, self-
    consistency's chunk and sampling's n were named bare ("budget must be ..."), and an effort level's budget or
    waits as budget forcing's options, which its caller never gave. An empty wait_text was taken: each "wait"
    appended nothing, so a greedy model wrote the same end of thinking again, spending the budget on repeats."""
    model, tok = micro
    monkeypatch.setattr(scale, "draw", lambda *a, **k: pytest.fail("drew before refusing"))
    with pytest.raises(PonderError, match=f"^{msg}$"):
        scale.METHODS[method](model, tok, [PA], **kw)


@pytest.mark.parametrize("method, kw", [
    ("sampling", dict(n=2)),
    ("self_consistency", dict(n_votes=3, chunk=2)),
    ("best_of_n", dict(n_candidates=2)),
    ("self_refine", dict(rounds=1, critique_tokens=4)),
    ("budget_forcing", dict(budget=6, answer_tokens=3, waits=1)),
])
def test_numpy_integer_counts_run_as_their_ints(micro, method, kw):
    """A count from a grid of settings (np.arange, a DataFrame row) was refused as "must be an integer >= 1, got
    np.int64(3)", though the engine's n and seed take one: each runs as its int, info JSON-serialisable."""
    import json

    import numpy as np

    model, tok = micro
    common = dict(max_new_tokens=6, seed=3) if method != "budget_forcing" else dict(seed=3)
    want = scale.METHODS[method](model, tok, [PA], **common, **kw)
    got = scale.METHODS[method](model, tok, [PA], **common, **{k: np.int64(v) for k, v in kw.items()})

    def flat(outs):  # (sampling: a list of n per prompt)
        return [o for x in outs for o in (x if isinstance(x, list) else [x])]

    assert [(o.text, o.tokens) for o in flat(got)] == [(o.text, o.tokens) for o in flat(want)]
    assert json.dumps([o.info for o in flat(got)]) == json.dumps([o.info for o in flat(want)])


@pytest.mark.parametrize("chat, shown", [
    ([{"role": "system", "content": None}, {"role": "user", "content": "q"}],
     "'content' must be text (None only on an assistant message with tool_calls), got NoneType None"),
    (["hi"], "expected an object with a 'role' (system, user, assistant, tool) and a string 'content', got str 'hi'"),
])
def test_effort_names_a_bad_chat_message_before_adding_its_system_line(micro, chat, shown):
    """effort's system line went into the chat messages unchecked: a system message whose content is None failed
    as "'NoneType' object has no attribute 'rstrip'", a message that is a string as a dict-update ValueError."""
    model, tok = micro
    with pytest.raises(PonderError, match=r"^chat message 0: " + re.escape(shown) + "$"):
        scale.effort(model, tok, [chat], level="low")


@pytest.mark.parametrize("seed", [1.5, -1, True, "7", None, 2**63])
@pytest.mark.parametrize("method, kw", [("budget_forcing", dict(budget=4)),
                                        ("self_consistency", dict(n_votes=2, chunk=1, max_new_tokens=4)),
                                        ("self_consistency", dict(n_votes=2, max_new_tokens=4)),
                                        ("self_refine", dict(rounds=1, max_new_tokens=4, critique_tokens=2))])
def test_methods_refuse_a_seed_the_engine_refuses(micro, monkeypatch, method, kw, seed):
    """Methods that derive sub-stream seeds (thinking segments, chunks, rounds) took any seed int() takes: 1.5
    drew what 1 draws, "7" what 7 draws, -1 and True were accepted, None failed as a TypeError. A seed is
    checked as the engine checks it. Self-consistency refused None only when chunked (chunk or early_stop) and
    drew with a fresh random seed otherwise: it refuses None either way, before drawing, as the others do.
    Self-refine refused None only at its first round, after drawing every draft."""
    model, tok = micro
    monkeypatch.setattr(scale, "draw", lambda *a, **k: pytest.fail("drew before refusing"))
    with pytest.raises(PonderError, match=r"^seed must be an integer in \[0, 2\*\*63\), got " + re.escape(repr(seed))):
        scale.METHODS[method](model, tok, [PA], seed=seed, temperature=1.0, **kw)


def test_best_of_n_takes_the_likelihood_scorer_the_cli_lists(micro):
    model, tok = micro
    kw = dict(n_candidates=4, temperature=1.0, max_new_tokens=16, seed=3)
    got = scale.best_of_n(model, tok, [PB, PA], scorer="likelihood", **kw)
    ref = ponder.sample(model, tok, [PB, PA], n=4, max_new_tokens=16, temperature=1.0, seed=3)
    for o, p, g in zip(got, [PB, PA], ref, strict=True):
        scores = [scale.sequence_logprob(model, tok, p, s.text) for s in g]
        j = max(range(4), key=lambda k: (scores[k], -k))
        assert o.info["chosen"] == j and o.text == g[j].text
        assert o.info["scores"] == [round(v, 6) for v in scores]
    with pytest.raises(PonderError, match="use 'logprob', 'likelihood' or a callable"):
        scale.best_of_n(model, tok, [PB], n_candidates=2, scorer="nonsense", max_new_tokens=8)


# ---- accounting with a scripted engine ------------------------------------------------------------------


def _scripted_engine(monkeypatch, script, tokens_per_sample=3):
    """Replace ponder.engine.sample: prompt p's samples are script[p] consumed in order (call after call),
    each `tokens_per_sample` tokens long (0: an empty completion)."""
    import ponder.engine
    from ponder.engine import Sample

    pos = {p: 0 for p in script}
    calls = []

    def fake(model, tok, prompts, *, n, seed=None, index_offset=0, **kw):
        calls.append((list(prompts), n))
        out = []
        for p in prompts:
            g = []
            for _ in range(n):
                text = script[p][pos[p]]
                pos[p] += 1
                g.append(Sample(text, [5] * tokens_per_sample, [-0.5] * tokens_per_sample, "stop"))
            out.append(g)
        return out

    monkeypatch.setattr(ponder.engine, "sample", fake)
    return calls


def test_early_stop_stops_when_the_rest_cannot_change_the_winner_and_counts_drawn_tokens(monkeypatch):
    """n_votes=8 in chunks of 4: "7" four times, then "8" four times. After the first chunk "7" holds 4 of 8;
    the other 4 votes can at most tie it, and ties go to the earlier "7". Self-consistency used to wait for a
    strict majority (> 4) and drew all 8 samples (24 tokens) for the same answer; it now stops at 4 (12)."""
    boxed = [" \\boxed{7}"] * 4 + [" \\boxed{8}"] * 4
    _scripted_engine(monkeypatch, {"q": boxed})
    o = scale.self_consistency(None, None, ["q"], n_votes=8, chunk=4, early_stop=True, temperature=1.0,
                               extract=extract_answer, equal=answers_equal)[0]
    assert o.answer == "7" and o.info["samples_drawn"] == 4 and o.tokens == 12 and o.info["votes_used"] == 4
    _scripted_engine(monkeypatch, {"q": boxed})
    full = scale.self_consistency(None, None, ["q"], n_votes=8, chunk=4, temperature=1.0, extract=extract_answer,
                                  equal=answers_equal)[0]
    assert full.answer == "7" and full.tokens == 24 and full.info["samples_drawn"] == 8
    # a rival that comes first keeps it going: "8" then 3x "7" of 8 is 3-1 with 4 to come
    _scripted_engine(monkeypatch, {"q": [" \\boxed{8}"] + [" \\boxed{7}"] * 7})
    o = scale.self_consistency(None, None, ["q"], n_votes=8, chunk=4, early_stop=True, temperature=1.0,
                               extract=extract_answer, equal=answers_equal)[0]
    assert o.answer == "7" and o.info["samples_drawn"] == 8 and o.tokens == 24


def test_sampling_latency_of_empty_samples_is_not_lost(monkeypatch):
    """A prompt whose samples were all empty (0 tokens) got latency 0 for each, dropping the batch time it
    was attributed; the per-sample latencies now sum to the prompt's share, as the module docstring says."""
    import ponder.engine

    _scripted_engine(monkeypatch, {"a": ["", ""], "b": ["", ""]}, tokens_per_sample=0)
    real = ponder.engine.sample

    def slow(*a, **kw):
        import time

        time.sleep(0.02)
        return real(*a, **kw)

    monkeypatch.setattr(ponder.engine, "sample", slow)
    outs = scale.sampling(None, None, ["a", "b"], n=2, extract=extract_answer)
    lat = [o.latency for g in outs for o in g]
    assert all(x > 0 for x in lat) and sum(lat) >= 0.02
    assert lat[0] == lat[1] and [o.tokens for g in outs for o in g] == [0, 0, 0, 0]


def test_score_value_takes_numpy_scalars():
    """A scorer returning a numpy number (np.float32 from a reward model, np.int64 from a count) was refused:
    "scorer returned float32; expected a number"."""
    import numpy as np

    assert scale.score_value(np.float32(0.5)) == 0.5 and scale.score_value(np.int64(3)) == 3.0
    assert scale.score_value(np.bool_(True)) == 1.0 and scale.score_value(float("-inf")) == float("-inf")
    with pytest.raises(PonderError, match="NaN"):
        scale.score_value(np.float64("nan"))
    with pytest.raises(PonderError, match="expected a number"):
        scale.score_value("0.5")


def test_best_of_n_ties_and_minus_inf_scores(monkeypatch):
    """Equal scores go to the earliest sample; -inf loses to any finite score and all -inf keeps sample 0;
    tokens count every candidate."""
    texts = [" \\boxed{1}", " \\boxed{2}", " \\boxed{3}", " \\boxed{4}"]
    for scores, want in (([1.0, 2.0, 2.0, 0.0], 1), ([float("-inf")] * 4, 0), ([float("-inf"), -5.0, -5.0, -9.0], 1)):
        _scripted_engine(monkeypatch, {"q": texts})
        o = scale.best_of_n(None, None, ["q"], n_candidates=4, scorer=lambda p, c, s=scores: s[texts.index(c)],
                            extract=extract_answer)[0]
        assert o.info["chosen"] == want and o.text == texts[want] and o.tokens == 12


def test_a_bad_score_names_its_problem_and_candidate(monkeypatch, micro):
    """A scorer's NaN (a reward model's) or wrong type for one candidate of a benchmark was "scorer returned NaN",
    naming no problem or candidate to look at; best-of-N and self-refine now say which."""
    texts = [" \\boxed{1}", " \\boxed{2}", " \\boxed{3}"]
    _scripted_engine(monkeypatch, {"q": texts, "r": texts})
    nan_at_3 = lambda p, c: float("nan") if (p, c) == ("r", texts[2]) else 1.0  # noqa: E731
    with pytest.raises(PonderError, match=r"best-of-N: problem 6 candidate 2: scorer returned NaN"):
        scale.best_of_n(None, None, ["q", "r"], n_candidates=3, scorer=nan_at_3, extract=extract_answer,
                        index_offset=5)
    monkeypatch.undo()
    model, tok = micro
    with pytest.raises(PonderError, match=r"self-refine: problem 1 draft: scorer returned list"):
        scale.self_refine(model, tok, [PA, PB], rounds=1, max_new_tokens=4, critique_tokens=2,
                          scorer=lambda p, c: [1.0] if p == PB else 1.0)


def test_likelihood_scores_the_tokens_generation_produces_after_the_prompt(sentencepiece_tokenizer, tiny_random):
    """sequence_logprob (the "likelihood" scorer of best-of-N and self-refine) encoded the completion on its
    own: a sentencepiece tokenizer (Llama 2, Mistral) then scores " 4" after "Solution:" as "▁▁4" (a dummy
    prefix the text lacks), a sequence the model never generates. It now scores encode_continuation's tokens."""
    from ponder.tokenizer import Tokenizer

    model, _ = tiny_random
    tok = Tokenizer(sentencepiece_tokenizer(), eos_token="</s>", bos_token="<s>")
    prompt, completion = "Problem: 2 + 2 = ?\nSolution:", " 4"
    p_ids = tok.encode(prompt, add_special_tokens=True)
    c_ids = tok.encode_continuation(prompt, completion)
    assert c_ids != tok.encode(completion, add_special_tokens=False)  # the seam this is about
    ids = torch.tensor([p_ids + c_ids])
    with torch.no_grad():
        lp = torch.log_softmax(model(ids)[0, len(p_ids) - 1:-1].float(), -1)
    want = float(lp.gather(-1, ids[0, len(p_ids):, None]).mean())
    assert scale.sequence_logprob(model, tok, prompt, completion) == pytest.approx(want, abs=1e-5)


def test_likelihood_of_a_model_in_training_mode_is_not_dropped_out(tiny_random):
    """A model left in training mode with an attention_dropout (a user's training loop) was scored with dropout
    by the "likelihood" scorer: best-of-N's choice and self-refine's accept decisions changed from call to call and
    torch's global generator moved. Scoring is inference, as sampling is (engine._no_dropout); modes are kept."""
    import dataclasses

    model, tok = tiny_random
    drop = ponder.Transformer(dataclasses.replace(model.config, attention_dropout=0.5))
    drop.load_state_dict(model.state_dict())
    drop.train()
    prompt, completion = "Problem: 2 + 2 = ?\nSolution:", " the quick brown fox 4"
    want = scale.sequence_logprob(model, tok, prompt, completion)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    for _ in range(2):
        assert scale.sequence_logprob(drop, tok, prompt, completion) == want
    assert torch.equal(torch.get_rng_state(), state) and all(m.training for m in drop.modules())


def _teacher_forced_mean(model, prompt_ids, ids) -> float:
    """Mean log-prob of exactly `ids` after `prompt_ids`, temperature 1, one plain forward pass."""
    x = torch.tensor([list(prompt_ids) + list(ids)])
    with torch.no_grad():
        lp = torch.log_softmax(model(x)[0, len(prompt_ids) - 1:-1].float(), -1)
    return float(lp.gather(-1, x[0, len(prompt_ids):, None]).mean())


def test_likelihood_scores_the_ids_the_model_sampled():
    """The "likelihood" scorer re-encoded a sampled completion's text and scored that: where the model wrote a
    text in other tokens than its encoding (the tiny model's "tharings", " s"), the score was of a sequence it
    never produced. A sampled completion is now scored on its own ids (less the EOS that ended it, which writes
    no text: the text path never scored it either); best-of-N picks by those scores."""
    model, tok = ponder.load("tiny")
    chat = [{"role": "user", "content": "Problem: 8 * 9 - 17 = ?"}]
    prompts = [chat, "Problem: 8 * 9 - 17 = ?\nSolution:", "Problem: 2 + 2 = ?\nSolution:"]
    kw = dict(temperature=1.5, max_new_tokens=40, seed=0)
    got = scale.best_of_n(model, tok, prompts, n_candidates=5, scorer="likelihood", **kw)
    ref = ponder.sample(model, tok, prompts, n=5, **kw)
    differs = 0
    for p, o, g in zip(prompts, got, ref, strict=True):
        want = []
        for s in g:
            ids = s.token_ids[:-1] if s.token_ids[-1:] and s.token_ids[-1] in tok.stop_token_ids else s.token_ids
            want.append(_teacher_forced_mean(model, s.prompt_ids, ids) if ids else float("-inf"))
            if tok.encode_continuation(scale._render_text(tok, p), s.text) != ids:  # the seam this is about
                differs += 1
                assert scale.sequence_logprob(model, tok, p, s.text) != pytest.approx(want[-1], abs=1e-4)
        assert o.info["scores"] == pytest.approx([round(v, 6) for v in want], abs=2e-5)
        assert o.info["chosen"] == max(range(5), key=lambda k: (want[k], -k))
    assert differs >= 2
    # a text the sampler did not write (a user's callable, text given as is) is still scored as encoded
    s = ref[2][0]
    ids = tok.encode_continuation(prompts[2], s.text)
    assert scale.likelihood_scorer(model, tok)(prompts[2], s.text) == pytest.approx(
        _teacher_forced_mean(model, s.prompt_ids, ids), abs=1e-5)
    for bad in ("4", 5, [1, None], [10**6]):
        with pytest.raises(PonderError, match=r"^sequence_logprob: token_ids must be a list of token ids in 0\.\."):
            scale.sequence_logprob(model, tok, prompts[2], s.text, token_ids=bad)


def test_likelihood_scores_only_what_fits_the_context_and_says_so(tokenizer):
    """The "likelihood" scorer had no context check: a sample cut at a stop string inside a token has the cut
    token's text re-encoded, which can take more ids than the token did, so prompt + completion outgrew the
    model's positions and was scored silently at positions past the context (a random model, stop "e": seven
    ids where six were sampled). In best-of-N and self-refine the ids that fit are scored (all the model's own:
    the engine fitted them) and the cut recorded in info['capped']; a direct call is refused by name."""
    prompt = "Problem: 3 + 4 * 2 = ?\nSolution:"
    p_ids = tokenizer.encode(prompt, add_special_tokens=True)
    limit = len(p_ids) + 6
    cfg = ponder.ModelConfig(vocab_size=320, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=limit)
    model = ponder.Transformer(cfg).init_weights(0, std=0.2).eval()
    kw = dict(temperature=1.0, max_new_tokens=6, stop=["e"], seed=0)
    o = scale.best_of_n(model, tokenizer, [prompt], n_candidates=8, scorer="likelihood", **kw)[0]
    g = ponder.sample(model, tokenizer, [prompt], n=8, **kw)[0]
    want, caps = [], []
    for k, s in enumerate(g):
        ids = scale._written_ids(tokenizer, p_ids, s.token_ids, s.text, prompt)
        if len(p_ids) + len(ids) > limit:
            caps.append({"candidate": k, "scored_tokens": limit - len(p_ids), "completion_tokens": len(ids)})
            with pytest.raises(PonderError, match=rf"^likelihood scorer \(sequence_logprob\): prompt of {len(p_ids)} "
                                                  rf"tokens \+ completion of {len(ids)} tokens exceeds the model's "
                                                  rf"context of {limit} positions"):
                scale.sequence_logprob(model, tokenizer, prompt, s.text, token_ids=s.token_ids)
        want.append(_teacher_forced_mean(model, p_ids, ids[:limit - len(p_ids)]) if ids else float("-inf"))
    assert len(caps) >= 1  # the case this is about
    assert o.info["capped"] == caps
    assert o.info["scores"] == pytest.approx([round(v, 6) for v in want], abs=2e-5)
    # self-refine scores its drafts (round 0) and revisions the same way
    kw["seed"] = 5  # (a seed whose drafts include such a cut)
    refined = scale.self_refine(model, tokenizer, [prompt] * 32, rounds=0, **kw)
    drafts = ponder.sample(model, tokenizer, [prompt] * 32, n=1, **kw)
    for r, (d,) in zip(refined, drafts, strict=True):
        ids = scale._written_ids(tokenizer, p_ids, d.token_ids, d.text, prompt)
        over = len(p_ids) + len(ids) > limit
        assert r.info.get("capped") == ([{"round": 0, "call": "score", "scored_tokens": 6,
                                          "completion_tokens": len(ids)}] if over else None)
        assert r.info["scores"][0] == pytest.approx(
            round(_teacher_forced_mean(model, p_ids, ids[:6]), 6) if ids else float("-inf"), abs=2e-5)
    assert any("capped" in r.info for r in refined)
    # a text past the context, given to the scorer as it is
    with pytest.raises(PonderError, match=r"^likelihood scorer \(sequence_logprob\): .* exceeds the model's context"):
        scale.likelihood_scorer(model, tokenizer)(prompt, " the quick brown fox" * 5)


def test_budget_forcing_cut_between_boxed_and_its_brace_reads_the_forced_answer():
    """A budget that cuts the thinking right after "\\boxed", before its "{" (separate tokens), left
    "...\\boxed\\nFinal Answer: -1": the verifier read the cue's word "Final" as the boxed answer (the tiny
    model on an arith problem). Cuts around the box now leave no box open or bare before the cue."""
    model, tok = ponder.load("tiny")
    prompt = "Problem: 8 * 9 - 17 + 18 - 10 = ?\nSolution:"
    s = ponder.sample(model, tok, [prompt], n=1, max_new_tokens=120, temperature=0.0)[0][0]
    cuts = [k for k in range(1, s.num_tokens) if tok.decode(s.token_ids[:k], skip_special_tokens=True).rstrip().endswith("\\boxed")]
    assert cuts  # the seam this is about: "\boxed" ends a token of its own
    for budget in range(cuts[0] - 1, s.num_tokens):
        o = scale.budget_forcing(model, tok, [prompt], budget=budget, answer_tokens=6)[0]
        before = o.text[:o.text.rindex("\nFinal Answer:")] if o.info["forced"] else o.text
        assert scale._drop_open_box(before) == before and not before.rstrip().endswith("\\boxed")
        assert o.answer not in ("Final", "Final Answer", "Answer")
    assert scale._drop_open_box("The answer is \\boxed") == "The answer is "
    assert scale._drop_open_box("is \\boxed{1") == "is " and scale._drop_open_box("\\boxed{1} ok") == "\\boxed{1} ok"


def test_a_cut_inside_any_box_the_verifier_reads_drops_that_box():
    """The verifier reads \\fbox as \\boxed, a box's brace after a space, and an escaped brace as no brace: a
    thinking cut inside "\\fbox{5", "\\boxed {5" or "\\boxed{1\\}" kept that open box, which swallowed the
    forced answer after it (no answer read, or the cue's "Final"), as "\\boxed{5" did before open boxes were dropped."""
    for thinking in ("so \\fbox{5", "so \\boxed {5", "so \\fbox", "so \\fbox \n", "so \\boxed{1\\}",
                     "so \\fbox {\\frac{1}{2"):
        assert extract_answer(thinking + "\nFinal Answer: 7") in (None, "Final")  # the forced answer lost
        kept = scale._drop_open_box(thinking)
        assert kept.rstrip() == "so" and extract_answer(kept + "\nFinal Answer: 7") == "7"
    for closed in ("so \\fbox{5}", "so \\boxed {5}", "so \\boxed 5", "so \\boxed{\\{1\\}}", "\\boxed{5} so"):
        assert scale._drop_open_box(closed) == closed


def test_a_cut_inside_an_outer_box_drops_it_whatever_boxes_it_holds_closed():
    """A cut inside a box that holds a closed box ("\\boxed{1 is \\boxed{3}. Wait" at the budget, the micro model
    with waits=2) kept the outer box open, as only the last box was checked: the forced answer's "}" closed it,
    and the verifier read the thinking and the cue, "1 is \\boxed{3}. Wait\nFinal Answer: 8", as the answer."""
    for thinking in ("so \\boxed{1 is \\boxed{3}. Wait", "so \\fbox{\\boxed{3} and \\boxed{4}", "so \\boxed{x \\boxed 3"):
        assert extract_answer(thinking + "\nFinal Answer: 8}.") not in ("8", None)  # the open box swallows it
        kept = scale._drop_open_box(thinking)
        assert kept == "so " and extract_answer(kept + "\nFinal Answer: 8}.") == "8"
    for closed in ("so \\boxed{1 \\boxed{3}} ok", "\\boxed{2} so \\boxed{\\boxed{3}}", "\\boxed 2 and \\boxed{3}"):
        assert scale._drop_open_box(closed) == closed


def test_budget_forcing_forced_answer_follows_the_recorded_text():
    """The final completion is thinking (less a box the cut left open) + cue + forced answer, and that forced
    answer is what the model decodes after exactly that text. It was decoded after the open box
    ("...is \\boxed{5\\nFinal Answer:" gave " 5"), which was then dropped from the record."""
    model, tok = ponder.load("tiny")
    prompt = "Problem: 8 * 9 - 17 + 18 - 10 = ?\nSolution:"
    s = ponder.sample(model, tok, [prompt], n=1, max_new_tokens=120, temperature=0.0)[0][0]
    k = next(k for k in range(1, s.num_tokens) if tok.decode(s.token_ids[:k], skip_special_tokens=True).rstrip().endswith("\\boxed"))
    opened = 0
    for budget in range(k, s.num_tokens):
        o = scale.budget_forcing(model, tok, [prompt], budget=budget, answer_tokens=6)[0]
        cut = o.text.rindex("\nFinal Answer:") + len("\nFinal Answer:")
        opened += "{" in tok.decode(s.token_ids[:budget], skip_special_tokens=True)[-4:]
        want = ponder.sample(model, tok, [prompt + o.text[:cut]], n=1, max_new_tokens=6, temperature=0.0,
                             stop=["\n"])[0][0]
        assert o.text[cut:] == want.text
    assert opened  # some cut left a box open


def test_budget_forcing_counts_the_wait_tokens_the_model_reads(sentencepiece_tokenizer, tiny_random):
    """thinking_tokens = generated thinking + the tokens each "Wait" adds after the thinking. The wait was
    counted as encode("\\nWait") alone, which a sentencepiece tokenizer (Llama 2, Mistral) starts with a
    dummy-prefix token the continued text does not have: one token too many per wait."""
    from ponder.tokenizer import Tokenizer

    model, _ = tiny_random
    tok = Tokenizer(sentencepiece_tokenizer(), eos_token="</s>", bos_token="<s>")
    prompt, wait = "Problem: 2 + 2 = ?\nSolution:", "\nWait"
    assert len(tok.encode(wait, add_special_tokens=False)) == len(tok.encode_continuation(prompt + " 4", wait)) + 1  # the seam
    waited = 0
    for seed in range(6):
        # every thinking "has an answer": nothing is forced unless cut, so tokens = generated thinking
        o = scale.budget_forcing(model, tok, [prompt], budget=60, waits=2, wait_text=wait, stop=["4", "2"],
                                 temperature=1.0, seed=seed, extract=lambda t: "x")[0]
        if o.info["forced"]:
            continue
        parts = o.text.split(wait)
        assert len(parts) == o.info["waits_used"] + 1
        inserted = sum(len(tok.encode_continuation(prompt + wait.join(parts[:k + 1]), wait))
                       for k in range(o.info["waits_used"]))
        assert o.info["thinking_tokens"] == o.tokens + inserted
        waited += o.info["waits_used"]
    assert waited


BATCH_CASES = {
    "sampling": dict(n=2, temperature=1.0, max_new_tokens=24),
    "self_consistency": dict(n_votes=4, temperature=1.0, max_new_tokens=24),
    "self_consistency_early": dict(n_votes=6, chunk=2, early_stop=True, temperature=1.0, max_new_tokens=24),
    "best_of_n": dict(n_candidates=3, scorer="likelihood", temperature=1.0, max_new_tokens=24),
    "self_refine": dict(rounds=2, temperature=1.0, max_new_tokens=24, critique_tokens=6),
    "budget_forcing": dict(budget=40, waits=2, temperature=1.0, answer_tokens=4, wait_text=" Wait"),
    "effort": dict(level="x", levels={"x": {"budget": 30, "waits": 1}}, temperature=1.0, answer_tokens=4),
}


@pytest.mark.parametrize("case", list(BATCH_CASES))
def test_a_problem_gets_the_same_outcome_alone_or_in_a_batch_of_50(micro, case):
    """Draws are keyed by (seed, the problem's global index, sample, round): problem k evaluated alone with
    index_offset=k gets the same samples, rounds, waits and forced answer as inside a batch of 50 (an
    evaluation shards its problems this way; early stopping and budget groups must not shift streams)."""
    model, tok = micro
    fn = getattr(scale, case.removesuffix("_early"))
    prompts = [PA, PB, SAY, LONG, PB] * 10
    full = fn(model, tok, prompts, seed=7, **BATCH_CASES[case])
    for k in (0, 3, 17, 49):
        alone = fn(model, tok, [prompts[k]], seed=7, index_offset=k, **BATCH_CASES[case])[0]
        a, b = (full[k][0], alone[0]) if case == "sampling" else (full[k], alone)
        assert (a.text, a.answer, a.tokens, a.finish_reason, a.info) == (b.text, b.answer, b.tokens,
                                                                         b.finish_reason, b.info)
        assert a.logprob_mean == pytest.approx(b.logprob_mean, abs=1e-5)


def test_self_refine_likelihood_scores_the_ids_the_model_sampled(micro, monkeypatch):
    """Self-refine's "likelihood" scorer re-encoded the draft's and each revision's text: the micro model's draft
    for "pick B" (seed 4) holds a lone byte token that decodes to U+FFFD, which re-encodes as its three UTF-8
    bytes, so the draft was scored -1.87 instead of -0.83. Drafts and revisions are now scored on the ids sampled
    for them, given the original prompt (a revision's ids were sampled after the refine context)."""
    model, tok = micro
    prompts = [PA, PB, LONG, SAY]
    seen = _seen_samples(monkeypatch)
    outs = scale.self_refine(model, tok, prompts, rounds=1, temperature=1.0, seed=4, max_new_tokens=40,
                             critique_tokens=12)
    drafts, revisions = seen[:4], seen[8:]  # drafts, critiques, revisions: one call each, every problem live
    assert len(seen) == 12
    differs = 0
    for p, o, d, v in zip(prompts, outs, drafts, revisions, strict=True):
        p_ids = d.prompt_ids
        want = []
        for s in (d, v):
            ids = s.token_ids[:-1] if s.token_ids[-1] in tok.stop_token_ids else s.token_ids
            want.append(_teacher_forced_mean(model, p_ids, ids))
            differs += tok.encode_continuation(p, s.text) != ids
        assert o.info["scores"] == pytest.approx([round(x, 6) for x in want], abs=2e-5)
    assert differs

def test_self_refine_continues_the_ids_the_model_sampled(micro, monkeypatch):
    """A plain-text prompt's critique and revision were sampled on the conversation's text, re-encoded
    (prompt + solution + review request, + review + revision request): where the model wrote its solution in
    other tokens than its encoding (the micro model's "pick B" draft at seed 4 holds a lone byte token that
    re-encodes as U+FFFD's three bytes) or a seam merges, it was conditioned on tokens it never produced. They
    now read the prompt's ids + the ids sampled for the solution (and the review) + only the templates
    encoded, as the text before them continues; where the ids are the text's encoding, that is the text
    encoded, as before."""
    model, tok = micro
    prompts = [PA, PB, LONG, SAY]
    seen = _seen_samples(monkeypatch)
    scale.self_refine(model, tok, prompts, rounds=1, temperature=1.0, seed=4, max_new_tokens=40,
                      critique_tokens=12)
    assert len(seen) == 12  # drafts, critiques, revisions: one call each, every problem live
    reencoded = []
    for p, d, c, v in zip(prompts, seen[:4], seen[4:8], seen[8:]):
        own = [s.token_ids[:-1] if s.token_ids[-1] in tok.stop_token_ids else s.token_ids for s in (d, c)]
        text = p + d.text + scale.CRITIQUE_TEMPLATE
        assert c.prompt_ids == d.prompt_ids + own[0] + tok.encode_continuation(p + d.text, scale.CRITIQUE_TEMPLATE)
        assert v.prompt_ids == c.prompt_ids + own[1] + tok.encode_continuation(text + c.text, scale.REFINE_TEMPLATE)
        whole = text + c.text + scale.REFINE_TEMPLATE
        reencoded.append(v.prompt_ids == tok.encode(whole, add_special_tokens=True))
    assert reencoded == [True, False, True, True]  # "pick B": the seam this is about
    # chat prompts are unchanged: the solution and the review are turns the chat template renders
    model, tok = ponder.load("tiny")
    chat = [{"role": "user", "content": "Problem: 8 * 9 - 17 = ?"}]
    seen.clear()
    scale.self_refine(model, tok, [chat], rounds=1, temperature=1.0, seed=0, max_new_tokens=30, critique_tokens=8)
    d, c, v = seen
    turns = chat + [{"role": "assistant", "content": d.text.strip()},
                    {"role": "user", "content": scale.CRITIQUE_REQUEST}]
    assert c.prompt_ids == ponder.engine.render_prompts(tok, [turns])[0]
    turns += [{"role": "assistant", "content": c.text.strip()}, {"role": "user", "content": scale.REFINE_REQUEST}]
    assert v.prompt_ids == ponder.engine.render_prompts(tok, [turns])[0]

@pytest.mark.parametrize("name", ["critique_template", "refine_template", "critique_request", "refine_request"])
def test_self_refine_templates_that_are_no_strings_are_refused_by_name(micro, monkeypatch, name):
    """A template that is no string failed after the drafts were drawn: a plain-text prompt's as a TypeError
    (str + None), a chat prompt's request as "chat message 2: expected {...}" naming no option. It is now
    refused by name before anything is drawn."""
    model, tok = micro
    seen = _seen_samples(monkeypatch)
    for bad in (None, 3):
        with pytest.raises(PonderError, match=rf"^self-refine: {name} must be a string, got {bad!r}$"):
            scale.self_refine(model, tok, [PA], rounds=1, max_new_tokens=4, critique_tokens=2, **{name: bad})
    assert seen == []

def test_greedy_self_refine_stops_at_a_rejected_revision(micro):
    """At temperature 0 a rejected revision leaves the next round the same context: it decoded the same
    critique and revision again, counted their tokens each time and recorded the repeat (tiny model on arith:
    scores [-0.03, -1.64, -1.64, -1.64], 100 tokens for 1 round's work). The problem now stops there: three
    rounds give what one gives whenever the first is rejected."""
    model, tok = micro
    prompts = [PA, PB, LONG, SAY]
    kw = dict(max_new_tokens=40, critique_tokens=8)
    one = scale.self_refine(model, tok, prompts, rounds=1, **kw)
    three = scale.self_refine(model, tok, prompts, rounds=3, **kw)
    rejected = 0
    for a, b in zip(one, three, strict=True):
        assert b.info["accepted"][:1] == a.info["accepted"]
        if not a.info["accepted"][0]:
            rejected += 1
            assert (b.text, b.tokens, b.info) == (a.text, a.tokens, a.info)
    assert rejected
    # sampled rounds are new draws: every round runs
    assert all(len(o.info["accepted"]) == 3 for o in scale.self_refine(model, tok, prompts, rounds=3,
                                                                      temperature=1.0, **kw))


def _engine_calls(monkeypatch) -> list:
    """Spy on the real engine: (kwargs, samples) of every call, in call order."""
    import ponder.engine

    calls, real = [], ponder.engine.sample

    def spy(*args, **kw):
        out = real(*args, **kw)
        calls.append((kw, [g[0] for g in out]))
        return out

    monkeypatch.setattr(ponder.engine, "sample", spy)
    return calls


def test_self_refine_that_fits_draws_as_a_direct_reconstruction(micro, monkeypatch):
    """Capping critiques and revisions to the room left must leave a run that fits as it was: one call per
    draft / critique / revision of every live problem, with the settings given, and the outcome a direct
    reconstruction of the method from engine calls gives (no 'capped' in info)."""
    model, tok = micro
    prompts, seed, kw = [PA, PB, LONG, SAY], 4, dict(n=1, temperature=1.0)
    calls = _engine_calls(monkeypatch)
    outs = scale.self_refine(model, tok, prompts, rounds=1, scorer=lambda p, c: len(c), seed=seed,
                             max_new_tokens=40, critique_tokens=12, temperature=1.0)
    assert [(len(s), k["max_new_tokens"], k["index_offset"]) for k, s in calls] == [(4, 40, 0), (4, 12, 0), (4, 40, 0)]
    monkeypatch.undo()
    sample = ponder.engine.sample
    drafts = [g[0] for g in sample(model, tok, prompts, max_new_tokens=40, seed=seed, **kw)]
    c_ctx = [scale._critique_context(tok, p, d.prompt_ids, d, scale.CRITIQUE_TEMPLATE, scale.CRITIQUE_REQUEST)
             for p, d in zip(prompts, drafts)]
    crit = [g[0] for g in sample(model, tok, c_ctx, max_new_tokens=12, seed=scale.derive_seed(seed, "critique", 0),
                                 **kw)]
    templates = (scale.CRITIQUE_TEMPLATE, scale.REFINE_TEMPLATE, scale.CRITIQUE_REQUEST, scale.REFINE_REQUEST)
    r_ctx = [scale._refine_context(tok, p, cc, d, c, templates) for p, cc, d, c in zip(prompts, c_ctx, drafts, crit)]
    rev = [g[0] for g in sample(model, tok, r_ctx, max_new_tokens=40, seed=scale.derive_seed(seed, "refine", 0), **kw)]
    for o, d, c, v in zip(outs, drafts, crit, rev, strict=True):
        final = v if len(v.text) >= len(d.text) else d
        assert (o.text, o.tokens, o.finish_reason) == (final.text, d.num_tokens + c.num_tokens + v.num_tokens,
                                                       final.finish_reason)
        assert o.info == {"scores": [len(d.text), len(v.text)], "accepted": [len(v.text) >= len(d.text)],
                          "critiques": [c.text]}


@pytest.mark.parametrize("max_new_tokens, critique_tokens, call", [(400, 64, "revision"), (40, 480, "critique")])
def test_self_refine_caps_a_call_to_the_room_left_in_the_context(micro, monkeypatch, max_new_tokens,
                                                                  critique_tokens, call):
    """A critique or revision is sampled after prompt + draft + template (+ critique + template): a
    max_new_tokens / critique_tokens that fits the prompt could pass that, and the engine refused the call
    mid-run, after the drafts, naming neither self-refine nor the context. Each such call is now capped to the
    room left (prompt + cap = the model's context), drawn alone with its problem's index (the draw a full call
    with that cap gives it), and the outcome's info records the cap."""
    model, tok = micro
    limit = model.config.max_position_embeddings
    calls = _engine_calls(monkeypatch)
    outs = scale.self_refine(model, tok, [PA, PB, LONG, SAY], rounds=1, temperature=1.0, seed=4,
                             max_new_tokens=max_new_tokens, critique_tokens=critique_tokens)
    monkeypatch.undo()
    assert all(o.info["capped"] for o in outs)
    n_seed = scale.derive_seed(4, "refine" if call == "revision" else "critique", 0)
    for i, o in enumerate(outs):
        capped, = o.info["capped"]
        cap = capped["max_new_tokens"]
        assert capped["round"] == 1 and capped["call"] == call
        (k, (s,)), = [(k, s) for k, s in calls if k["seed"] == n_seed
                      and k["index_offset"] + (k.get("stream_index") or [0])[0] == i]
        assert k["max_new_tokens"] == cap == limit - len(s.prompt_ids) and s.num_tokens <= cap
        alone = ponder.engine.sample(model, tok, [s.prompt_ids], n=1, max_new_tokens=cap, temperature=1.0,
                                     seed=n_seed, index_offset=i)[0][0]
        assert (alone.token_ids, alone.text) == (s.token_ids, s.text)


@pytest.mark.parametrize("call, option", [("critique", "critique_template"), ("revision", "refine_template")])
def test_self_refine_refuses_a_context_with_no_room_before_drawing_its_call(micro, monkeypatch, call, option):
    """A context that already fills the model's positions leaves nothing to cap to: refused in one line naming
    self-refine, the problem's global index, the context's tokens and the model's context, before that call."""
    model, tok = micro
    calls = _engine_calls(monkeypatch)
    with pytest.raises(PonderError, match=rf"^self-refine: problem 5: the {call} context of round 1 holds \d+ tokens "
                                          r"and the model's context is 512 positions: no room left to decode the "
                                          rf"{call} \(shorter drafts: a lower max_new_tokens, or shorter templates\)$"):
        scale.self_refine(model, tok, [PA, PB], rounds=1, max_new_tokens=20, critique_tokens=8, index_offset=5,
                          **{option: "\n" + "x" * 600})
    assert [k["seed"] for k, _ in calls] == [0] + ([scale.derive_seed(0, "critique", 0)] if call == "revision" else [])


def test_sampling_refuses_n_greedy_samples(micro):
    """sampling(n=4, temperature=0) drew and counted four copies of one greedy decode (4x the tokens, a pass@4 of
    one sample), said nowhere; evaluate refused it for its "sampling" method, the API did not. Refused as
    self-consistency and best-of-N refuse it; n=1 at temperature 0 is greedy."""
    model, tok = micro
    with pytest.raises(PonderError, match=r"^sampling with temperature 0 would draw 4 identical greedy samples"):
        scale.sampling(model, tok, [PB], n=4, temperature=0.0, max_new_tokens=8)
    (one,), = scale.sampling(model, tok, [PB], n=1, temperature=0.0, max_new_tokens=24)
    assert one.text == scale.greedy(model, tok, [PB], max_new_tokens=24)[0].text


def test_best_of_n_refuses_temperature_0(micro):
    """Greedy candidates are all the same sample: best-of-N drew and counted N copies of one greedy decode
    (N times the tokens, a choice among identical texts). It is refused, as self-consistency refuses it."""
    model, tok = micro
    with pytest.raises(PonderError, match="best-of-N with temperature 0 would choose among identical greedy"):
        scale.best_of_n(model, tok, [PB], n_candidates=4, temperature=0.0, max_new_tokens=8)
    one = scale.best_of_n(model, tok, [PB], n_candidates=1, temperature=0.0, max_new_tokens=24)[0]
    assert one.text == scale.greedy(model, tok, [PB], max_new_tokens=24)[0].text


# ---- budget forcing with think tags (Qwen3, DeepSeek-R1 distills): a scripted model ---------------------


def think_tag_model(tok, paths):
    """A greedy model that writes each (context, continuation) of `paths`: the context's last token is followed
    by the continuation's tokens; a token no path continues is followed by EOS."""
    from test_engine import bigram_model

    eos = tok.encode(END, add_special_tokens=False)[0]
    vocab = tok.vocab_size + (-tok.vocab_size) % 8
    m = bigram_model(vocab, [], eos)
    nxt = {}
    for context, cont in paths:
        ids = tok.encode(context, add_special_tokens=False)[-1:] + tok.encode_continuation(context, cont)
        for a, b in zip(ids, ids[1:]):
            assert nxt.setdefault(a, b) == b, "one next token per token"
    with torch.no_grad():
        for a, b in nxt.items():
            m.lm_head.weight[:, a] = 0.0
            m.lm_head.weight[b, a] = 10.0
    return m


@pytest.fixture
def think_tags(tokenizer):
    """Thinks "z", closes with </think> and answers \\boxed{7}; after " Wait" it thinks "y" and closes; after
    the cue it writes its answer on the next line ("\\n8"). Prompted "q" (no think tags) it writes "z"."""
    tok = tokenizer
    model = think_tag_model(tok, [("q<think>", "z</think>\\boxed{7}"), ("q<think>z Wait", "y</think>"),
                                  ("Final Answer:", "\n8"), ("q", "z")])
    return model, tok


def test_budget_forcing_refuses_a_think_end_the_tokenizer_marks_special(tokenizer):
    """A tokenizer.json whose "</think>" is a special added token (Magistral's [THINK] tags are control tokens):
    sampled text is decoded without special tokens, so no stop string saw the model close its thinking. It ran on
    through the answer to the budget, counted as thinking, and a prompt that opened "<think>" had every answer read
    as still inside it. Refused by name now; the same tokenizer with the tag not special thinks as before."""
    import json

    from tokenizers import Tokenizer as HFTokenizer

    def with_special(special):
        d = json.loads(tokenizer.tok.to_str())
        for t in d["added_tokens"]:
            if t["content"] == "</think>":
                t["special"] = special
        return ponder.Tokenizer(HFTokenizer.from_str(json.dumps(d)), eos_token=tokenizer.eos_token,
                                pad_token=tokenizer.eos_token)

    paths = [("q<think>", "z</think>\\boxed{7}"), ("Final Answer:", "\n8")]
    plain = with_special(False)
    o = scale.budget_forcing(think_tag_model(plain, paths), plain, ["q<think>"], budget=20, answer_tokens=16)[0]
    assert (o.text, o.info["thinking_tokens"]) == ("z</think>\\boxed{7}", 2)
    tok = with_special(True)
    (end,) = tok.encode("</think>", add_special_tokens=False)
    model = think_tag_model(tok, paths)
    for think_end in ("auto", "</think>"):
        with pytest.raises(PonderError, match=rf"^budget forcing: think_end '</think>' is written with special token "
                                              rf"id\(s\) \[{end}\] of this tokenizer, which sampled text leaves out"):
            scale.budget_forcing(model, tok, ["q<think>"], budget=20, answer_tokens=16, think_end=think_end)
    # prompts without think tags never meet the tag; think_end=None is the way out
    assert scale.budget_forcing(model, tok, ["q"], budget=4, answer_tokens=4)[0].info.get("think_end") is None
    assert scale.budget_forcing(model, tok, ["q<think>"], budget=20, answer_tokens=16, think_end=None)[0].answer


def test_budget_forcing_think_tags_resolve_from_the_prompt_and_template(think_tags):
    """think_end="auto" is "</think>" only where the prompts think in tags: the tiny model's tokenizer has the
    token (for the format verifier) but its plain prompts and ChatML template do not, so it keeps None."""
    _, tok = think_tags
    tiny_model, tiny_tok = ponder.load("tiny")
    assert len(tiny_tok.encode("</think>", add_special_tokens=False)) == 1  # the vocabulary alone would say yes
    assert scale.resolve_think_end(tiny_tok, ["Problem: 1 + 1 = ?\nSolution:"]) is None
    assert scale.resolve_think_end(tiny_tok, [[{"role": "user", "content": "1 + 1?"}]]) is None
    assert scale.resolve_think_end(tok, ["q"]) is None
    assert scale.resolve_think_end(tok, ["q<think>"]) == "</think>"
    assert scale.resolve_think_end(tok, ["q<think>"], None) is None
    assert scale.resolve_think_end(tok, ["q"], "[/THINK]") == "[/THINK]"
    tok.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}{# strips ...</think> #}"
    try:
        assert scale.resolve_think_end(tok, [[{"role": "user", "content": "q"}]]) == "</think>"
        # a prompt that closes the thinking itself (Qwen3's enable_thinking=False) has none to budget
        assert scale.resolve_think_end(tok, [[{"role": "user", "content": "q<think>\n\n</think>"}]]) is None
    finally:
        tok.chat_template, tok._jinja = None, None
    with pytest.raises(PonderError, match="think_end must be a non-empty string, 'auto' or None, got ''"):
        scale.budget_forcing(*think_tags, ["q<think>"], think_end="")
    # the tiny model: the default is today's behaviour
    o = scale.budget_forcing(tiny_model, tiny_tok, [LONG], budget=6, answer_tokens=8)[0]
    assert "think_end" not in o.info


def test_budget_forcing_waits_replace_the_end_of_thinking(think_tags):
    """s1 with think tags: an early </think> is dropped and the wait appended in its place; with no wait left
    the model's own </think> closes the thinking and its answer follows (no cue). The wait went after the
    model's final answer before (thinking and answer were one decode, stopped by EOS)."""
    model, tok = think_tags
    wait_len = len(tok.encode_continuation("q<think>z", " Wait"))
    o = scale.budget_forcing(model, tok, ["q<think>"], budget=20, waits=1, wait_text=" Wait", answer_tokens=16)[0]
    assert o.text == "z Waity</think>\\boxed{7}" and o.answer == "7" and not o.info["forced"]
    # thinking: z </think> (dropped) + the wait + y </think>; the answer: \boxed{7} + EOS
    assert o.info["thinking_tokens"] == 2 + wait_len + 2 and o.info["waits_used"] == 1
    assert o.tokens == 4 + len(tok.encode("\\boxed{7}", add_special_tokens=False)) + 1 and o.info["think_end"] == "</think>"
    # no budget left for the wait: the model's own </think> stands
    o = scale.budget_forcing(model, tok, ["q<think>"], budget=2 + wait_len, waits=1, wait_text=" Wait")[0]
    assert (o.text, o.info["waits_used"], o.info["thinking_tokens"]) == ("z</think>\\boxed{7}", 0, 2)


def test_budget_forcing_budget_closes_thinking_then_the_answer_follows(think_tags):
    """The budget cuts the thinking: "</think>" closes it, then the cue and the forced answer; thinking_tokens
    is the budget exactly (the appended </think> is not generated). The answer comes from after </think>."""
    model, tok = think_tags
    wait_len = len(tok.encode_continuation("q<think>z", " Wait"))
    o = scale.budget_forcing(model, tok, ["q<think>"], budget=1, answer_tokens=4)[0]
    assert o.text == "z</think>\nFinal Answer:\n8" and o.answer == "8"
    assert o.info["forced"] and o.info["thinking_ended"] == "length" and o.info["thinking_tokens"] == 1
    assert o.tokens == 1 + 3  # z; then \n, 8, EOS
    budget = 2 + wait_len + 1
    o = scale.budget_forcing(model, tok, ["q<think>"], budget=budget, waits=3, wait_text=" Wait")[0]
    assert o.text == "z Waity</think>\nFinal Answer:\n8" and o.answer == "8"
    assert o.info["thinking_tokens"] == budget and o.info["waits_used"] == 1


def test_budget_forcing_forced_answer_own_closes_as_think_tag_models_do(tokenizer):
    """forced_answer="own": a cut thinking is closed with "</think>\n\n" (Qwen3's and the R1 distills' format) and
    the model's own answer follows, read past its first line (the cue's answer is one line). A thinking the model
    closed itself is as with the cue; prompts without think tags are refused by name."""
    tok = tokenizer
    model = think_tag_model(tok, [("q<think>", "z</think>\\boxed{7}"), ("</think>\n\n", "So: \\boxed{7}")])
    o = scale.budget_forcing(model, tok, ["q<think>"], budget=1, answer_tokens=16, forced_answer="own")[0]
    assert o.text == "z</think>\n\nSo: \\boxed{7}" and o.answer == "7"
    assert o.info["forced"] and o.info["thinking_ended"] == "length" and o.info["thinking_tokens"] == 1
    assert o.tokens == 1 + len(tok.encode_continuation("q<think>z</think>\n\n", "So: \\boxed{7}")) + 1  # z; EOS
    cue = scale.budget_forcing(model, tok, ["q<think>"], budget=1, answer_tokens=16)[0]  # (the default: s1's cue)
    assert cue.text.startswith("z</think>\nFinal Answer:") and cue.info["forced"]
    o = scale.budget_forcing(model, tok, ["q<think>"], budget=20, answer_tokens=16, forced_answer="own")[0]
    assert o.text == "z</think>\\boxed{7}" and not o.info["forced"]
    # an answer of several lines is read on to answer_tokens (this model repeats "Sum.\n", 5 tokens: two lines)
    model = think_tag_model(tok, [("q<think>", "z"), ("</think>\n\n", "Sum.\n")])
    o = scale.budget_forcing(model, tok, ["q<think>"], budget=1, answer_tokens=10, forced_answer="own")[0]
    assert o.text == "z</think>\n\nSum.\nSum.\n" and o.finish_reason == "length"
    with pytest.raises(PonderError, match=r"^budget forcing: forced_answer='own' .* problem 1 thinks in no tags"):
        scale.budget_forcing(model, tok, ["q<think>", "q"], budget=1, forced_answer="own")
    with pytest.raises(PonderError, match=r"^budget forcing: forced_answer='s1', expected 'cue' or 'own'$"):
        scale.budget_forcing(model, tok, ["q<think>"], budget=1, forced_answer="s1")
    with pytest.raises(PonderError, match=r"^budget forcing: answer_cue='\\nAnswer:' is not used with forced_answer"):
        scale.budget_forcing(model, tok, ["q<think>"], budget=1, forced_answer="own", answer_cue="\nAnswer:")


def test_budget_forcing_auto_think_end_is_each_prompts_own(think_tags):
    """think_end="auto" is resolved per prompt: a plain prompt's outcome does not depend on whether a prompt that
    thinks in tags shares its call (an evaluation's chunk of problems). It took "</think>" for every prompt of a
    call where any one opened "<think>": "q" cut by its budget was closed with a tag it never opened."""
    model, tok = think_tags
    prompts = ["q<think>", "q", "q", "q<think>", "q"]
    kw = dict(budget=1, answer_tokens=4, temperature=1.0, seed=3)
    together = scale.budget_forcing(model, tok, prompts, **kw)
    for i, p in enumerate(prompts):
        alone = scale.budget_forcing(model, tok, [p], index_offset=i, **kw)[0]
        assert (together[i].text, together[i].answer, together[i].tokens, together[i].info) == (
            alone.text, alone.answer, alone.tokens, alone.info)
    assert together[1].text == "z\nFinal Answer:\n8" and "think_end" not in together[1].info
    assert together[0].text == "z</think>\nFinal Answer:\n8" and together[0].info["think_end"] == "</think>"


def test_budget_forcing_takes_one_stop_string_as_the_engine_does(think_tags):
    """stop may be one string (the engine's and evaluate's stop): with think tags it was spread into its characters
    next to "</think>", so stop="zz" stopped the thinking at its first "z"."""
    model, tok = think_tags
    kw = dict(budget=8, answer_tokens=16)
    one = scale.budget_forcing(model, tok, ["q<think>"], stop="zz", **kw)[0]
    assert one.to_dict() | {"latency": 0} == scale.budget_forcing(model, tok, ["q<think>"], stop=["zz"], **kw)[
        0].to_dict() | {"latency": 0}
    assert one.text == "z</think>\\boxed{7}" and one.info["thinking_tokens"] == 2


@pytest.mark.parametrize("stop", [5, {"zz": 1}, [5], ("z", None)])
def test_budget_forcing_with_think_tags_refuses_a_bad_stop_as_the_engine_does(think_tags, stop):
    """With think tags, the stop strings were spread next to "</think>" unchecked: an int failed as a bare TypeError,
    a dict's keys were taken as stop strings without a word, and a list with a non-string was refused showing a
    "</think>" the caller never passed."""
    model, tok = think_tags
    with pytest.raises(PonderError, match=r"^budget forcing: stop must be a string or a list of strings, got "
                                          + re.escape(repr(stop)) + "$"):
        scale.budget_forcing(model, tok, ["q<think>"], budget=8, stop=stop)


def test_budget_forcing_think_tags_count_the_closing_tag_in_the_context_check(think_tags, capsys):
    """A cut thinking is followed by </think>, the cue and the answer: a budget whose answer only fits without
    the tag is refused before thinking (by evaluate too, before its progress bar)."""
    model, tok = think_tags
    cue, limit = len(tok.encode("\nFinal Answer:", add_special_tokens=False)), model.config.max_position_embeddings
    budget = limit - len(tok.encode("q<think>", add_special_tokens=False)) - cue - 4  # fits exactly without the tag
    scale.check_budget_context(model, tok, ["q<think>"], budget, "\nFinal Answer:", 4)
    with pytest.raises(PonderError, match=f"budget {budget} \\+ answer cue {cue + 1} \\+ answer tokens 4"):
        scale.budget_forcing(model, tok, ["q<think>"], budget=budget, answer_tokens=4)
    assert scale.budget_forcing(model, tok, ["q<think>"], budget=budget, answer_tokens=4, think_end=None)[0].answer
    from ponder.evaluate import evaluate

    with pytest.raises(PonderError, match=f"budget {budget} \\+ answer cue {cue + 1} "):
        evaluate(model, tok, [{"prompt": "q<think>", "answer": "8"}], method="budget_forcing",
                 method_kwargs={"budget": budget, "answer_tokens": 4}, progress=True)
    assert "eval budget_forcing" not in capsys.readouterr().err


def test_budget_forcing_fits_the_context_after_a_stop_string_cut_inside_a_token(micro):
    """The long solution writes "Solution" as one token; a stop string inside it ("ion", "on") cuts the text to
    "Solut" / "Soluti", which the thinking's ids continue in 2 / 3 tokens: the context outgrows the thinking
    tokens counted. With answer_tokens filling the context check exactly, the forced answer's context + its
    answer_tokens passed the model's context, refused by the engine mid-run naming neither method nor problem."""
    model, tok = micro
    limit, n = model.config.max_position_embeddings, len(tok.encode(LONG, add_special_tokens=True))
    cue = len(tok.encode("\nFinal Answer:", add_special_tokens=False))
    assert "Solution" in [tok.decode([t], skip_special_tokens=True) for t in tok.encode(" Solution", add_special_tokens=False)]  # (one token, as the test assumes)
    capped = 0
    for stop in ("ion", "on"):
        for budget in (59, 60, 61):
            for waits in (0, 1):
                answer_tokens = limit - n - budget - cue  # fits the check exactly
                o = scale.budget_forcing(model, tok, [LONG], budget=budget, answer_tokens=answer_tokens, stop=[stop],
                                         force="always", waits=waits, wait_text=" Wait")[0]
                assert o.info["thinking_tokens"] <= budget and o.tokens <= budget + answer_tokens
                assert o.info["forced"] and "\nFinal Answer:" in o.text
                capped += "capped" in o.info
    assert capped  # (the context did outgrow the count somewhere: the case this test is about)


def test_budget_forcing_forced_answer_on_the_line_after_the_cue(think_tags):
    """A model that writes its forced answer on the line after "Final Answer:" got an empty one: it was decoded
    with stop=["\\n"], which its first token hit. Leading blank lines are now read through."""
    model, tok = think_tags
    o = scale.budget_forcing(model, tok, ["q"], budget=1, answer_tokens=4)[0]  # no think tags
    assert o.text == "z\nFinal Answer:\n8" and o.answer == "8" and o.tokens == 1 + 3
    assert scale.budget_forcing(model, tok, ["q<think>"], budget=1, answer_tokens=4, think_end=None)[0].text == o.text
    # the allowance still caps it: one token, the newline, and no answer (cut at answer_tokens: "length")
    o = scale.budget_forcing(model, tok, ["q"], budget=1, answer_tokens=1)[0]
    assert o.text == "z\nFinal Answer:\n" and o.tokens == 2 and o.finish_reason == "length"


def test_budget_forcing_forced_answer_of_blank_lines_to_the_allowance_is_truncated(think_tags):
    """A forced answer that was only blank lines up to answer_tokens (a degenerate model: Qwen3-style runs early
    in RL wrote 512 newlines after the cue) reported finish_reason "stop", the stop string of its last blank line:
    evaluate's truncation_rate read 0 for answers that every one ran out of tokens. It is "length" now."""
    model, tok = think_tags
    for prompt, think_end in (("q", None), ("q<think>", "</think>")):
        o = scale.budget_forcing(model, tok, [prompt], budget=1, answer_tokens=1, think_end=think_end)[0]
        assert o.info["forced"] and o.text.endswith("Final Answer:\n") and o.answer is None
        assert o.finish_reason == "length"
        # one more token reaches the answer's line: that answer ended by itself
        o = scale.budget_forcing(model, tok, [prompt], budget=1, answer_tokens=3, think_end=think_end)[0]
        assert o.text.endswith("Final Answer:\n8") and o.finish_reason == "stop"


def test_written_ids_of_a_thinking_cut_far_back_bisect(monkeypatch):
    """The ids of a thinking less a box left open far back (the forced answer's context) are the model's ids up to
    the box, found by bisection: a walk back decoded once per token dropped (O(n^2) in a long thinking)."""
    _, tok = ponder.load("tiny")
    prompt, thinking = "Problem: 1 + 1 = ?\nSolution:", " The answer is \\boxed{2" + " and then 1 + 1 = 2." * 40
    ctx, ids = tok.encode(prompt, add_special_tokens=True), tok.encode_continuation(prompt, thinking)
    kept = scale._drop_open_box(thinking)
    want = max(k for k in range(len(ids) + 1) if kept.startswith(tok.decode_continuation(ctx, ids[:k])))
    calls, real = [], tok.decode_continuation
    monkeypatch.setattr(tok, "decode_continuation", lambda *a: calls.append(1) or real(*a))
    got = scale._written_ids(tok, ctx, ids, kept, prompt)
    assert got[:want] == ids[:want] and real(ctx, got) == kept and len(ids) > 200 and len(calls) <= 12


def test_budget_forcing_forced_answer_ends_at_eos(tokenizer):
    """A forced answer that is just EOS (blank text) was taken for a blank line and decoded on, after the EOS,
    until answer_tokens: 4 EOS tokens counted for nothing at temperature 0. EOS ends the answer."""
    model = think_tag_model(tokenizer, [("q", "z")])  # after the cue's ":" comes EOS
    for answer_tokens in (1, 4):
        o = scale.budget_forcing(model, tokenizer, ["q"], budget=1, answer_tokens=answer_tokens)[0]
        assert (o.text, o.tokens, o.finish_reason, o.info["forced"]) == ("z\nFinal Answer:", 2, "stop", True)


def test_budget_forcing_sees_think_end_after_a_leading_space(sentencepiece_tokenizer):
    """Whether the thinking stopped at think_end was read from decode(ids), which drops a sentencepiece
    tokenizer's leading space (Llama 2, Mistral): " The " was no prefix of "The [/INST]", so a model that closed
    its thinking itself had its own answer replaced by the cue and a forced one. Its answer now follows."""
    from ponder.tokenizer import Tokenizer

    tok = Tokenizer(sentencepiece_tokenizer(), eos_token="</s>", bos_token="<s>")
    prompt, cont = "[INST] 2 + 2?", " The [/INST] 4"
    assert tok.decode(tok.encode_continuation(prompt, cont), skip_special_tokens=True) != cont  # the seam: decode drops the space
    model = think_tag_model(tok, [(prompt, cont)])
    o = scale.budget_forcing(model, tok, [prompt], budget=20, think_end="[/INST]", answer_tokens=1)[0]
    assert (o.text, o.info["forced"], o.info["thinking_tokens"]) == (cont, False, 3)


def test_budget_forcing_records_the_blank_line_before_a_forced_answer_as_written(sentencepiece_tokenizer):
    """A forced answer written on the line after the cue was recorded from decode(ids) of the blank part, which
    drops a sentencepiece tokenizer's leading space (Llama 2, Mistral): the model wrote " \\n4" after the cue,
    the final completion said "\\n4". It is recorded as the model wrote it."""
    from ponder.tokenizer import Tokenizer

    tok = Tokenizer(sentencepiece_tokenizer(), eos_token="</s>", bos_token="<s>")
    prompt, cue = "[INST] 2 + 2?", "\nSolution:"
    model = think_tag_model(tok, [(prompt, "4"), (prompt + "4" + cue, " \n4")])
    o = scale.budget_forcing(model, tok, [prompt], budget=1, answer_tokens=3, answer_cue=cue)[0]
    assert (o.text, o.answer, o.info["forced"]) == ("4" + cue + " \n4", "4", True)


def _bos_adding_chat_tokenizer():
    """The tiny tokenizer made to add a BOS on encode (add_bos_token) while its chat template writes none
    (ChatML without {{ bos_token }}): a chat prompt's ids then carry no BOS, a string prompt's do."""
    import copy

    from tokenizers.processors import TemplateProcessing

    from ponder.tokenizer import Tokenizer

    model, base = ponder.load("tiny")
    hf, bos = copy.deepcopy(base.tok), "<think>"  # a stand-in BOS token
    hf.post_processor = TemplateProcessing(single=f"{bos} $A", special_tokens=[(bos, hf.token_to_id(bos))])
    template = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    return model, Tokenizer(hf, eos_token="<|endoftext|>", bos_token=bos, chat_template=template)


def _seen_samples(monkeypatch) -> list:
    """Spy on the real engine: every sample budget forcing draws (its prompt ids, its ids), in call order."""
    import ponder.engine

    seen, real = [], ponder.engine.sample

    def spy(*args, **kw):
        out = real(*args, **kw)
        seen.extend(g[0] for g in out)
        return out

    monkeypatch.setattr(ponder.engine, "sample", spy)
    return seen


def _assert_continues_its_own_ids(tok, seen, prompt_text, o, wait="\nWait", cue="\nFinal Answer:"):
    """The invariant: each draw after the first reads the draw before's prompt ids + exactly the ids it generated,
    less the end it stopped at (EOS, or the "." stop token), + the forced string's ids (the wait, then the cue),
    encoded as they continue the text so far. (The stopped draws here end on a whole stop token.)"""
    text = prompt_text
    for k, (prev, cur) in enumerate(zip(seen, seen[1:])):
        assert prev.finish_reason == "stop" and tok.decode(prev.token_ids[-1:], skip_special_tokens=True) in ("", ".")
        text += prev.text
        forced = cue if k == len(seen) - 2 else wait
        assert cur.prompt_ids == prev.prompt_ids + prev.token_ids[:-1] + tok.encode_continuation(text, forced)
        text += forced
    assert prompt_text + o.text == text + seen[-1].text


@pytest.mark.parametrize("waits", [0, 2])
def test_budget_forcing_continues_a_chat_prompt_on_its_own_ids(monkeypatch, waits):
    """Budget forcing continued a chat prompt as its template text sampled as a string prompt, which the
    engine encodes with special tokens: with a tokenizer that adds BOS and a template that writes none, every
    segment (the first thinking one too) was conditioned on a BOS the chat prompt never had. Each segment now
    sees the template text + the continuation encoded without special tokens, as the chat prompt itself is."""
    from ponder.engine import render_prompts

    model, tok = _bos_adding_chat_tokenizer()
    chat = [{"role": "user", "content": "Problem: 8 * 9 - 17 = ?"}]
    ids = render_prompts(tok, [chat])[0]
    assert tok.bos_token_id not in ids and tok.encode("x", add_special_tokens=True)[0] == tok.bos_token_id
    seen = _seen_samples(monkeypatch)
    o = scale.budget_forcing(model, tok, [chat], budget=40, waits=waits, wait_text="\nWait", answer_tokens=6,
                             force="always", stop=["."], think_end=None)[0]
    assert o.info["waits_used"] == waits and len(seen) == 1 + waits + 1  # thinking segments + the answer
    for s in seen:
        assert s.prompt_ids[:len(ids)] == ids and tok.bos_token_id not in s.prompt_ids
    _assert_continues_its_own_ids(tok, seen, tok.apply_chat_template(chat, add_generation_prompt=True), o)
    # no waits: the first segment is plain sampling on the same chat prompt
    plain = ponder.sample(model, tok, [chat], max_new_tokens=40, temperature=0.0, stop=["."])[0][0]
    assert seen[0].prompt_ids == plain.prompt_ids == ids
    assert o.text.startswith(plain.text)


def test_budget_forcing_continues_the_ids_the_model_generated(monkeypatch):
    """Budget forcing re-encoded the thinking's text for every continuation (prompt + thinking + "Wait", and
    + cue for the answer): where the model wrote a text in other tokens than its encoding (here " tings" as
    " t" "ing" "s", which encodes as " ti" "ng" "s") or a seam merges, the model was conditioned on tokens it
    never produced. Each continuation now reads the prompt's ids (a string prompt's with its BOS) + the ids
    it generated + only the forced strings encoded; where the ids are the text's own encoding, that is
    the text encoded, as before."""
    model, tok = _bos_adding_chat_tokenizer()
    string, chat = "Problem: 8 * 9 - 17 = ?\nSolution:", [{"role": "user", "content": "Problem: 8 * 9 - 17 = ?"}]
    reencoded = []
    for prompt, text, bos in ((string, string, True), (chat, tok.apply_chat_template(chat, add_generation_prompt=True), False)):
        seen = _seen_samples(monkeypatch)
        o = scale.budget_forcing(model, tok, [prompt], budget=40, waits=2, wait_text="\nWait", answer_tokens=6,
                                 force="always", stop=["."], think_end=None)[0]
        assert o.info["waits_used"] == 2 and len(seen) == 4
        assert seen[0].prompt_ids == tok.encode(text, add_special_tokens=bos)
        _assert_continues_its_own_ids(tok, seen, text, o)
        answer_at = o.text.rindex("\nFinal Answer:") + len("\nFinal Answer:")
        reencoded.append(seen[-1].prompt_ids == tok.encode(text + o.text[:answer_at], add_special_tokens=bos))
    # the string prompt's ids are its text's encoding (unchanged); the chat's are not: the seam this is about
    assert reencoded == [True, False]


@pytest.mark.parametrize("method", ["greedy", "budget_forcing", "self_refine"])
def test_token_id_prompts_are_refused_by_name(micro, method):
    """The engine takes token-id prompts; these methods continue prompts as text, so they name the prompt
    instead of failing on it as a chat message."""
    model, tok = micro
    with pytest.raises(PonderError, match=r"^prompt 1: test-time methods take strings or chat-message lists, "
                                          r"not token ids$"):
        scale.METHODS[method](model, tok, [PA, tok.encode(PA, add_special_tokens=False)])


def test_text_of_a_token_id_prompt_is_refused_as_token_ids(micro):
    """The text a continuation is read after (likelihood scoring, think-tag detection) of a token-id prompt
    failed as a chat message ("chat message 0: expected {'role': ...}, got 291"); it names the ids."""
    model, tok = micro
    ids = tok.encode(PA, add_special_tokens=False)
    msg = r"^prompt \[\d+, \d+, \d+, \d+, \d+, \d+, \.\.\.\] is token ids, not the text a continuation is read after"
    for call in (lambda: scale._render_text(tok, ids), lambda: scale.sequence_logprob(model, tok, ids, " 5"),
                 lambda: scale.resolve_think_end(tok, [PA, ids])):
        with pytest.raises(PonderError, match=msg) as e:
            call()
        assert "\n" not in str(e.value)


@pytest.mark.parametrize("method", ["budget_forcing", "effort", "greedy"])
@pytest.mark.parametrize("bad", [None, 5, {"role": "user", "content": "pick B"}])
def test_a_prompt_that_is_no_string_nor_list_is_refused_by_name(micro, method, bad):
    """A prompt that is neither a string nor a list (None, a number, one chat message not in its list) failed in
    budget forcing and effort as a bare TypeError ('int' object is not iterable) or as a chat message of the
    dict's keys ("got str 'role'"): they read each prompt's text for think tags before the engine checks it."""
    model, tok = micro
    with pytest.raises(PonderError, match=rf"^prompt 1: test-time methods take strings or chat-message lists, "
                                          rf"got {type(bad).__name__}"):
        scale.METHODS[method](model, tok, [PA, bad])


@pytest.mark.parametrize("method,kw", [("greedy", {"extract": "math"}), ("sampling", {"extract": 3}),
                                       ("self_consistency", {"extract": "math"}), ("self_consistency", {"equal": "x"}),
                                       ("best_of_n", {"extract": "math"}), ("self_refine", {"extract": "math"}),
                                       ("budget_forcing", {"extract": "math"}), ("effort", {"extract": "math"})])
def test_an_extract_or_equal_that_is_no_callable_is_refused_before_drawing(micro, monkeypatch, method, kw):
    """extract="math" (a name, not the function) was a bare TypeError ("'str' object is not callable") once every
    sample had been drawn; an equal that is no callable passed wherever no two answers were compared."""
    import ponder.engine

    model, tok = micro

    def no_draw(*a, **k):
        raise AssertionError("drew before refusing")

    monkeypatch.setattr(ponder.engine, "sample", no_draw)
    (name, value), = kw.items()
    with pytest.raises(PonderError, match=rf"^{name} must be a callable or None \(the math verifier's\), "
                                          rf"got {re.escape(repr(value))}$"):
        scale.METHODS[method](model, tok, [PA], **kw)


@pytest.mark.parametrize("level,levels", [(["low"], None), ({"budget": 8}, None), (2, {1: {"budget": 8}})])
def test_an_effort_level_no_level_names_is_refused_by_name(level, levels):
    """A level that cannot be looked up (a list, a dict of settings) or levels keyed by numbers failed as a bare
    TypeError (unhashable type; join of an int) where an unknown level is refused by name."""
    with pytest.raises(PonderError, match=r"^unknown reasoning effort .* \(known: (low, medium, high|1)\)$"):
        scale.effort_settings(level, levels)


def test_reward_scorer_takes_a_numpy_index_as_its_int():
    """best-of-N passes index_offset + i, a numpy integer where index_offset is one (the methods take them): the
    index was read as none, and items sharing a prompt but differing were refused as if no index had been given."""
    import numpy as np

    items = [{"id": "a", "prompt": "p", "answer": "1"}, {"id": "b", "prompt": "p", "answer": "2"}]
    scorer = scale.reward_scorer(lambda c, it: float(c == it["answer"]), items)
    for j in (0, 1):
        assert scorer("p", "2", index=np.int64(j)) == scorer("p", "2", index=j) == float(j == 1)


def test_budget_forcing_think_tags_of_a_chat_prompt_with_an_earlier_turns_thinking(tokenizer):
    """Qwen3 renders the thinking of an assistant turn after the last user message (a tool call's): the prompt's
    last think tag was that turn's "</think>", read as the prompt closing the thinking itself, so the turn the
    model writes, thinking in tags, got no think_end. Only the generation prompt's own empty block closes it."""
    tok = copy.copy(tokenizer)
    tok.chat_template = ("{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' }}{% if m.reasoning_content %}"
                         "{{ '<think>\\n' + m.reasoning_content + '\\n</think>\\n\\n' }}{% endif %}"
                         "{{ m.content + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}"
                         "{{ '<|im_start|>assistant\\n' }}{% if enable_thinking is defined and not enable_thinking %}"
                         "{{ '<think>\\n\\n</think>\\n\\n' }}{% endif %}{% endif %}")
    tok._jinja = None
    prompt = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "", "reasoning_content": "r"},
              {"role": "tool", "content": "8"}]
    assert scale.resolve_think_end(tok, [prompt]) == "</think>"
    tok.template_kwargs = {"enable_thinking": False}
    assert scale.resolve_think_end(tok, [prompt]) is None
    # a template that renders nothing without the generation prompt (it raises) is read whole, as before
    tok.template_kwargs = {}
    tok.chat_template = "{% if not add_generation_prompt %}{{ raise_exception('no') }}{% endif %}" + tok.chat_template
    tok._jinja = None
    assert scale.resolve_think_end(tok, [prompt]) is None


@pytest.mark.parametrize("item", [{"question": "q", "answer": "1"}, "q"])
def test_reward_scorer_names_an_item_without_a_prompt(item):
    """Items found by their prompt must have one: an item without it was a bare KeyError (a string a TypeError)."""
    with pytest.raises(PonderError, match=r"^reward_scorer: item 1 has no 'prompt' to find it by; pass prompts="):
        scale.reward_scorer(lambda c, it: 1.0, [{"prompt": "p"}, item])
    scale.reward_scorer(lambda c, it: 1.0, [{"prompt": "p"}, item], prompts=["p", "q"])  # (found by prompts=)


def test_best_of_n_logprob_never_prefers_an_empty_completion(monkeypatch):
    """An EOS-only sample's mean log-prob is the log-prob of stopping at once: higher than a worked answer's, it was
    chosen, with no text and no answer. Empty completions score -inf (as "likelihood" scores them): any text wins,
    and all empty keeps sample 0."""
    import ponder.engine
    from ponder.engine import Sample

    def fake(model, tok, prompts, *, n, **kw):
        return [[Sample("", [0], [-0.1], "stop"), Sample(" \\boxed{3}", [5, 6], [-0.7, -0.5], "stop"),
                 Sample("", [0], [-0.05], "stop")][:n] for _ in prompts]

    monkeypatch.setattr(ponder.engine, "sample", fake)
    o = scale.best_of_n(None, None, ["q"], n_candidates=3, temperature=1.0, extract=extract_answer)[0]
    assert o.info["chosen"] == 1 and o.answer == "3" and o.info["scores"][0] == float("-inf")
    monkeypatch.setattr(ponder.engine, "sample", lambda m, t, ps, *, n, **kw: [[Sample("", [0], [-0.1], "stop")] * n
                                                                               for _ in ps])
    assert scale.best_of_n(None, None, ["q"], n_candidates=2, temperature=1.0)[0].info["chosen"] == 0


def test_budget_forcing_default_answer_after_think_end_is_a_whole_solution(tokenizer):
    """A think-tag model (Qwen3, R1 distills) writes a whole solution after "</think>", its box at the end: the
    default answer_tokens, 16, cut it before the box and it was scored as no answer. The default after a think_end
    is THINK_ANSWER_TOKENS or the context's room (the context check keeps 16 for it); without think tags, and where
    answer_tokens is given, the cap is as before."""
    answer = "ABCDEFGHIJKLMNOPQRSTUVWXY\\boxed{7}"
    model = think_tag_model(tokenizer, [("r<think>", "z</think>" + answer)])
    n = len(tokenizer.encode_continuation("r<think>z</think>", answer))
    assert scale.ANSWER_TOKENS < n < scale.THINK_ANSWER_TOKENS
    o = scale.budget_forcing(model, tokenizer, ["r<think>"], budget=20)[0]
    assert (o.text, o.answer, o.finish_reason, o.tokens) == ("z</think>" + answer, "7", "stop", 2 + n + 1)
    assert "capped" not in o.info
    o = scale.budget_forcing(model, tokenizer, ["r<think>"], budget=20, answer_tokens=16)[0]
    assert (o.answer, o.finish_reason, o.tokens) == (None, "length", 2 + 16)
    # a context that holds the budget and 16 answer tokens but not the whole answer: the answer takes the room left
    cue = len(tokenizer.encode("\nFinal Answer:", add_special_tokens=False)) + 1  # (+ the "</think>" that closes a cut thinking)
    prompt_len = len(tokenizer.encode("r<think>", add_special_tokens=False))
    model.config.max_position_embeddings = prompt_len + 2 + cue + 16
    scale.check_budget_context(model, tokenizer, ["r<think>"], 2, "\nFinal Answer:", None, think_end="auto")
    with pytest.raises(PonderError, match=f"budget 3 \\+ answer cue {cue} \\+ answer tokens 16 ="):
        scale.check_budget_context(model, tokenizer, ["r<think>"], 3, "\nFinal Answer:", None, think_end="auto")
    o = scale.budget_forcing(model, tokenizer, ["r<think>"], budget=2)[0]
    assert o.tokens == 2 + cue + 16 and o.finish_reason == "length"
    assert o.info["capped"] == [{"call": "answer", "max_new_tokens": cue + 16}]
    # no think tags: the forced answer's default is 16, as before
    plain = think_tag_model(tokenizer, [("r", "z"), ("Final Answer:", " " + answer)])
    o = scale.budget_forcing(plain, tokenizer, ["r"], budget=1)[0]
    assert o.tokens == 1 + 16 and o.finish_reason == "length" and o.info["forced"]


def _forced_answers_call_per_line(model, tok, contexts, idx, temperature, *, seed, index_offset, answer_tokens,
                                  top_p, capped=None) -> dict:
    """_forced_answers as it was: a new engine call (and prefill) per blank line, the reference its one call from
    the cache must equal."""
    res = {i: ["", "stop", [], [], 0.0] for i in idx}
    todo, k = list(idx), 0
    while todo:
        got, by_rem = {}, {}
        ctx = {i: contexts[i] + res[i][2] for i in todo}
        for i in todo:
            by_rem.setdefault(scale._answer_room(model, ctx[i], answer_tokens - len(res[i][2]), index_offset + i,
                                                 None if capped is None else capped[i]), []).append(i)
        for rem, group in sorted(by_rem.items()):
            got |= scale._draw_some(model, tok, ctx, group, temperature,
                                    seed=scale.derive_seed(seed, "answer", *([k] if k else [])),
                                    index_offset=index_offset, max_new_tokens=rem, top_p=top_p, stop=["\n"])
        again = []
        for i in todo:
            (s,), t = got[i]
            r = res[i]
            r[2], r[3], r[4], r[1] = r[2] + s.token_ids, r[3] + s.logprobs, r[4] + t, s.finish_reason
            if s.text.strip() or s.finish_reason != "stop" or not s.token_ids or s.token_ids[-1] in tok.stop_token_ids:
                r[0] += s.text
                continue
            written = tok.decode_continuation(s.prompt_ids, s.token_ids)
            lead = len(written) - len(written.lstrip())
            line = written[lead:].split("\n")[0]
            r[0] += written[:lead] + line
            if not line and len(r[2]) < answer_tokens and scale._room(model, contexts[i] + r[2]) >= 1:
                again.append(i)
            elif not line:
                r[1] = "length"
        todo, k = again, k + 1
    return {i: tuple(r) for i, r in res.items()}


def _blank_line_model(tok, after_newline: dict, positions: int = 56):
    """A bigram model (test_engine's) with `positions` positions: after the cue's ":" a newline; after a newline
    the tokens of `after_newline` ({text: logit}); "8" then writes a newline, anything else EOS."""
    eos, nl, colon, eight = (tok.encode(x, add_special_tokens=False)[0] for x in (END, "\n", ":", "8"))
    vocab = tok.vocab_size + (-tok.vocab_size) % 8
    cfg = ponder.ModelConfig(vocab_size=vocab, hidden_size=vocab, intermediate_size=16, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False,
                             max_position_embeddings=positions)
    m = ponder.Transformer(cfg).init_weights(0).eval()
    with torch.no_grad():
        m.layers[0].self_attn.o_proj.weight.zero_()
        m.layers[0].mlp.down_proj.weight.zero_()
        m.embed_tokens.weight.copy_(torch.eye(vocab))
        m.lm_head.weight.zero_()
        m.lm_head.weight[eos, :] = 10.0
        for a in (colon, nl, eight):
            m.lm_head.weight[:, a] = 0.0
        m.lm_head.weight[nl, colon] = m.lm_head.weight[nl, eight] = 10.0
        for text, logit in after_newline.items():
            m.lm_head.weight[tok.encode(text, add_special_tokens=False)[0], nl] = logit
    return m


def test_forced_answer_reads_blank_lines_in_one_engine_call(tokenizer, monkeypatch):
    """The forced answer's leading blank lines were read one engine call per line, each re-reading (prefilling) the
    whole prompt + thinking: with 512 tokens allowed after a "</think>", a model that writes blank lines made 512
    calls per problem. The engine now goes on from its cache, on the stream each line's call drew from: the same
    texts, ids, log-probs and finish reasons as the call per line, and its first call's cap, once (greedy and
    sampled, capped by the context's room or not), from one call per allowance."""
    from ponder import engine

    tok = tokenizer
    cue = tok.encode("q\nFinal Answer:", add_special_tokens=False)
    contexts = {0: cue, 2: tok.encode("q z z\nFinal Answer:", add_special_tokens=False), 3: tok.encode("z" * 40 + "\nFinal Answer:", add_special_tokens=False),
                5: cue}
    idx = sorted(contexts)
    calls, real = [], engine.sample
    monkeypatch.setattr(engine, "sample", lambda *a, **k: calls.append(1) or real(*a, **k))
    # (the logits are these times sqrt(vocab), the one-hot's RMS norm: 9.95 is e^-0.9 as likely as 10 at T=1)
    for after in ({"\n": 10.0}, {"\n": 10.0, "8": 10.0}, {"\n": 10.0, "8": 9.95, " ": 9.95}):
        model = _blank_line_model(tok, after)
        for temperature, seed in ((0.0, 0), (1.0, 5), (0.7, 11)):
            for answer_tokens in (2, 12):
                kw = dict(seed=seed, index_offset=4, answer_tokens=answer_tokens, top_p=1.0)
                caps_old, caps_new = [[] for _ in range(6)], [[] for _ in range(6)]
                calls.clear()
                old = _forced_answers_call_per_line(model, tok, contexts, idx, temperature, capped=caps_old, **kw)
                old_calls = len(calls)
                calls.clear()
                new = scale._forced_answers(model, tok, contexts, idx, temperature, capped=caps_new, **kw)
                assert {i: r[:4] for i, r in new.items()} == {i: r[:4] for i, r in old.items()}
                assert caps_new == [c[:1] for c in caps_old]  # (one per answer: the call per line noted one per line)
                # one call per allowance (2: the long context's room caps problem 3 to 7), sampled too (each
                # problem keyed to its own stream: it was one call per run of consecutive problems, [0], [2, 3], [5])
                assert len(calls) == 1 + (answer_tokens == 12)
                if after == {"\n": 10.0} and temperature == 0 and answer_tokens == 12:
                    assert old_calls >= 12 and new[0][:3] == ("\n" * 12, "length", [tok.encode("\n", add_special_tokens=False)[0]] * 12)
                    assert new[3][:2] == ("\n" * 7, "length") and caps_new[3] == [
                        {"call": "answer", "max_new_tokens": 7}]


def test_forced_answer_latency_counts_the_blank_lines_read_from_the_cache(tokenizer):
    """A batch's time is split over its problems by the tokens each generated (module docstring): a forced answer
    whose blank lines the engine read on from its cache (on_stop) generated them too. Only the last line's tokens
    were counted: 12 blank-line tokens and 1 EOS got equal shares of the call's time."""
    tok = tokenizer
    model = _blank_line_model(tok, {"\n": 10.0})  # after the cue: blank lines to the allowance
    contexts = {0: tok.encode("q\nFinal Answer:", add_special_tokens=False), 1: tok.encode("q z", add_special_tokens=False)}  # (after "z": EOS)
    got = scale._forced_answers(model, tok, contexts, [0, 1], 0.0, seed=0, index_offset=0, answer_tokens=12,
                                top_p=1.0)
    assert [len(got[i][2]) for i in (0, 1)] == [12, 1]
    assert got[0][4] == pytest.approx(12 * got[1][4])
    with pytest.raises(PonderError, match="on_stop must be a callable"):  # (not wrapped into one by draw)
        scale.draw(model, tok, [contexts[0]], n=1, seed=0, temperature=0.0, stop="\n", on_stop=3)


def test_forced_answer_capped_once_per_answer_not_per_blank_line(tokenizer):
    """info["capped"] holds one entry per capped draw (budget_forcing's docstring): a forced answer capped by the
    context's room and read on through blank lines is one draw, from one engine call. It listed one entry per blank
    line (7 for 7 newlines), each with a smaller max_new_tokens, so a count of capped draws read 7 and the last
    entry's cap read 1 token."""
    tok = tokenizer
    model = _blank_line_model(tok, {"\n": 10.0})  # after the cue: blank lines to the allowance
    contexts = {0: tok.encode("q\nFinal Answer:", add_special_tokens=False), 1: tok.encode("z" * 40 + "\nFinal Answer:", add_special_tokens=False)}
    caps = [[], []]
    got = scale._forced_answers(model, tok, contexts, [0, 1], 0.0, seed=0, index_offset=0, answer_tokens=12,
                                top_p=1.0, capped=caps)
    room = model.config.max_position_embeddings - len(contexts[1])
    assert 1 < room < 12 and got[1][:2] == ("\n" * room, "length")
    assert caps == [[], [{"call": "answer", "max_new_tokens": room}]]


def test_a_yarn_model_scores_and_decodes_past_max_position_embeddings(micro):
    """A YaRN model takes original_max_position_embeddings x factor positions (as vLLM and check_context do):
    scoring and budget forcing's room still stopped at max_position_embeddings, refusing a completion that fits
    and capping a thinking that fits."""
    import dataclasses

    _, tok = micro
    cfg = dataclasses.replace(micro[0].config, max_position_embeddings=20, rope_scaling={
        "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16})
    model = ponder.Transformer(cfg).init_weights(0).eval()
    text = " 2 + 3 = 5.\n5 * 4 = 20.\n20 - 1 = 19."
    assert 20 < len(tok.encode(PA + text, add_special_tokens=True)) <= 64
    capped = []
    assert scale.sequence_logprob(model, tok, PA, text, capped=capped) > float("-inf") and not capped
    assert scale.sequence_logprob(model, tok, PA, text) > float("-inf")  # (it was refused)
    assert scale._room(model, [0] * 30) == 34
    out = scale.budget_forcing(model, tok, [PA], budget=20, answer_tokens=8)[0]
    assert not out.info.get("capped"), out.info


def test_budget_forcing_forced_answer_ends_at_the_callers_stop_string(tokenizer):
    """The forced answer was decoded with stop=["\\n"] alone: a stop string the caller gave (a base model's next
    "Q") was run past, "Final Answer:8Q9" recorded and read as the answer "8Q9", judged wrong. It ends
    at the caller's stop strings too, as every other draw of the method does."""
    tok = tokenizer
    model = think_tag_model(tok, [("q", "z"), ("Final Answer:", "8Q9")])
    o = scale.budget_forcing(model, tok, ["q"], budget=1, answer_tokens=8, stop=["Q"])[0]
    assert o.info["forced"] and o.text == "z\nFinal Answer:8" and o.answer == "8"
    assert o.finish_reason == "stop"
    # a stop string right after the cue: an empty answer, not the stop string's text
    model = think_tag_model(tok, [("q", "z"), ("Final Answer:", "Q9")])
    o = scale.budget_forcing(model, tok, ["q"], budget=1, answer_tokens=8, stop=["Q"])[0]
    assert o.text == "z\nFinal Answer:" and o.answer is None and o.finish_reason == "stop"
    # without a stop string the answer line is read as before
    o = scale.budget_forcing(model, tok, ["q"], budget=1, answer_tokens=8)[0]
    assert o.text == "z\nFinal Answer:Q9"


def test_budget_forcing_forced_answer_ends_at_a_callers_stop_string_that_starts_with_a_newline(tokenizer):
    """A stop string of the caller's that starts with a newline ("\\nQ") was never seen whole: "\\n" ends each
    piece of the forced answer first, a blank one is read through, and the next line ("Q9", the next question)
    was recorded as the answer. The stop string now ends the answer where it starts, in the blank lines too."""
    tok = tokenizer
    model = think_tag_model(tok, [("q", "z"), ("Final Answer:", "\nQ9")])
    o = scale.budget_forcing(model, tok, ["q"], budget=1, answer_tokens=8, stop=["\nQ"])[0]
    assert o.info["forced"] and o.text == "z\nFinal Answer:" and o.answer is None and o.finish_reason == "stop"
    o = scale.budget_forcing(model, tok, ["q"], budget=1, answer_tokens=8, stop="\n\n")[0]
    assert o.text == "z\nFinal Answer:\nQ9"  # (one newline: no "\n\n", the line after it is read as before)
    model = think_tag_model(tok, [("q", "z"), ("Final Answer:", "\n 8")])
    o = scale.budget_forcing(model, tok, ["q"], budget=1, answer_tokens=8, stop=["\n 8"])[0]
    assert o.text == "z\nFinal Answer:" and o.finish_reason == "stop"
    o = scale.budget_forcing(model, tok, ["q"], budget=1, answer_tokens=8, stop=["Q"])[0]
    assert o.text == "z\nFinal Answer:\n 8" and o.answer == "8"


def test_budget_forcing_forced_answer_reads_through_blank_lines_at_a_blank_callers_stop_string(tokenizer):
    """A caller's stop string of blank text alone ("\\n", a base model's one-line answers) found in the blank lines
    after the cue ended the forced answer there: "Final Answer:\\n8" gave an empty answer where stop=None read 8.
    The blank lines are read through as without it (the answer's own "\\n" stop reads them)."""
    tok = tokenizer
    model = think_tag_model(tok, [("q", "z"), ("Final Answer:", "\n8")])
    for stop in (None, "\n", ["\n"], ["\n", "\n\n"], "\n\n"):
        o = scale.budget_forcing(model, tok, ["q"], budget=1, answer_tokens=8, stop=stop)[0]
        assert o.text == "z\nFinal Answer:\n8" and o.answer == "8" and o.finish_reason == "stop", stop
    # a stop string reaching past the blank lines into the text still ends the answer where it starts
    o = scale.budget_forcing(model, tok, ["q"], budget=1, answer_tokens=8, stop=["\n", "\n8"])[0]
    assert o.text == "z\nFinal Answer:" and o.answer is None


def test_self_refine_samples_with_the_filters_it_is_given(micro):
    """self-refine took a temperature but no top_p, top_k or min_p (eval refused them for it): they reach its draft,
    critique and revision draws; top_k 1 at temperature 1 keeps only the likeliest token, so every draw, and every
    score, is greedy's, where unfiltered the sampled critiques and revisions score otherwise."""
    model, tok = micro
    kw = dict(rounds=1, max_new_tokens=16, critique_tokens=8, seed=1)
    greedy = scale.self_refine(model, tok, [PA, PB], temperature=0.0, **kw)
    sampled = scale.self_refine(model, tok, [PA, PB], temperature=1.0, **kw)
    assert [o.info["scores"] for o in sampled] != [o.info["scores"] for o in greedy]
    for filt in ({"top_k": 1}, {"min_p": 0.999}, {"top_p": 1e-6}):
        got = scale.self_refine(model, tok, [PA, PB], temperature=1.0, **filt, **kw)
        assert [(o.text, o.info["scores"], o.info["critiques"]) for o in got] == [
            (o.text, o.info["scores"], o.info["critiques"]) for o in greedy], filt
