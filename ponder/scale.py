"""Test-time scaling methods: spend more inference compute per problem, get a better final answer.

Every method is a plain function ``method(model, tok, prompts, *, seed, index_offset, ...) -> list[Outcome]``
(``sampling`` returns n Outcomes per prompt). Prompts are strings (used exactly as given) or chat-message
lists. An ``Outcome`` carries the final completion, its extracted answer, the tokens generated for the
problem in total (every sample, critique, revision and forced answer counts) and the latency attributed
to it. Only generated tokens count: text a method inserts is read, not generated (the prompts, self-refine's
templates, budget forcing's waits, "</think>" and answer cue), so it is not in ``tokens``, the x-axis of a
compute-matched curve (budget forcing's ``info["thinking_tokens"]``, what its budget caps, does count the waits).
Any model works; the answer extractor (``extract``), the equivalence used to group answers
(``equal``) and the scorer are parameters, defaulting to the math verifier's ``extract_answer`` /
``answers_equal``.

Methods
-------
* ``greedy`` / ``sampling``: one decode / n independent samples.
* ``self_consistency`` (Wang et al. 2023): majority vote over the answers of N samples, grouped with
  ``equal`` (so "0.5" and "1/2" vote together), optionally weighted by exp(mean token log-prob), with the
  fixed tie rule of ``metrics.majority_vote`` (earliest cluster wins). ``early_stop`` draws in chunks and
  stops once the votes still to come cannot change the winner (``metrics.vote_decided``; e.g. a strict
  majority of N), so the answer equals the full vote's on the same samples while the tokens counted are
  only those actually drawn.
* ``best_of_n``: N samples, keep the one a scorer likes best (ties: the earliest sample). Scorers:
  ``"logprob"`` (mean token log-prob, free), ``"likelihood"`` (teacher-forced mean log-prob of the sampled
  tokens, temperature 1), or any ``scorer(prompt, completion)`` returning a number, a ``Verdict``
  (``.score``, else ``.correct``: what a judge from ``ponder.verify.judge.make_judge`` returns) or a
  ``RewardResult`` (``.reward``); ``reward_scorer`` adapts a ``reward(completion, item)``. A scorer that
  takes an ``index`` parameter is also given the problem's index (``index_offset`` + its position).
* ``self_refine`` (Madaan et al. 2023): draft, then up to T rounds of critique -> revision; a revision
  replaces the current answer only if its score does not drop. Templates below.
* ``budget_forcing`` (s1, Muennighoff et al. 2025): thinking is capped at B tokens; the answer is forced
  by appending ``answer_cue`` ("\\nFinal Answer:") and decoding a short answer; up to K times an early end
  of thinking (EOS / stop string) is suppressed and ``wait_text`` appended so the model keeps thinking.
  For base models without think tags, "thinking" is the generated solution itself. Reasoning models that
  think inside <think>...</think> (Qwen3, DeepSeek-R1 distills; ``think_end``) think with "</think>" as a
  stop: a "</think>" reached early is what a wait replaces, and the budget closes the thinking with
  "</think>", after which the answer is decoded: by default after s1's cue ("</think>\nFinal Answer:" and
  one line), or with ``forced_answer="own"`` in the think-tag models' own format ("</think>\n\n", then the
  model writes its whole answer, as after a thinking it closed itself).
* ``effort``: reasoning effort low / medium / high = a system-prompt line + a thinking budget per level
  (``EFFORT_LEVELS``), run through ``budget_forcing``. Plain-text prompts (base models, no chat template)
  get no system line: only the budget applies.

Latency: the engine decodes many problems in one batch, so a single problem's wall-clock time is not
observable. Each batch's measured wall time is split over its problems in proportion to the tokens each
generated (prefill included in the batch time); scoring time (judges, likelihoods) is measured and split
evenly. Summed over a benchmark this is exactly the measured time; per problem it is an amortised figure.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import math
import numbers
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ponder.errors import PonderError
from ponder.model import model_context

Extract = Callable[[str], "str | None"]
Equal = Callable[[str, str], bool]


@dataclass
class Outcome:
    """The final result of a test-time method on one problem."""

    text: str  # the final completion (what a verifier judges)
    answer: str | None  # its extracted answer; None = no answer
    tokens: int  # tokens generated for this problem in total (all samples / rounds / forced answers)
    latency: float  # seconds attributed to this problem (module docstring)
    finish_reason: str = "stop"  # of the final completion: "stop" | "length"
    logprob_mean: float | None = None  # mean token log-prob of the final completion (None: not sampled)
    info: dict = field(default_factory=dict)  # method-specific, JSON-serialisable

    def to_dict(self) -> dict:
        return {"text": self.text, "answer": self.answer, "tokens": self.tokens, "latency": self.latency,
                "finish_reason": self.finish_reason, "logprob_mean": self.logprob_mean, "info": self.info}


# ---- defaults from the math verifier (imported lazily: it is optional for custom extractors) ------------


def default_extract() -> Extract:
    from ponder.verify.math import extract_answer

    return extract_answer


def default_equal() -> Equal:
    from ponder.verify.math import answers_equal

    return answers_equal


def _fn(name: str, f, default: Callable) -> Callable:
    """`f`, or the math verifier's default where None; refused before any draw when it is no callable (it was a bare
    TypeError once every sample had been drawn: extract="math" for the math extractor)."""
    if f is None:
        return default()
    if not callable(f):
        raise PonderError(f"{name} must be a callable or None (the math verifier's), got {f!r}")
    return f


def derive_seed(seed: int, *parts) -> int:
    """A seed for a sub-stream (a run, a chunk, a round): a hash of the parent seed and the sub-stream's name.

    The engine keys each row by a hash of (seed, prompt index, sample index), so any two seeds give unrelated
    draws; hashing the name in as well makes "run 1 of seed 5" a seed that no plain integer a user would pass
    (5, 6, ...) nor another sub-stream of this or another parent lands on, except by a 2**-40 chance."""
    from ponder.engine import check_sampling

    # as the engine checks a seed (int() took 1.5 as 1, "7" as 7, True as 1, and -1); the engine's None, a fresh
    # random seed each call, has no sub-streams to derive
    if seed is None:
        raise PonderError("seed must be an integer in [0, 2**63), got None (a method derives its draws' seeds from it)")
    check_sampling(seed=seed)
    h = hashlib.sha256(repr((int(seed), *parts)).encode()).digest()
    return int.from_bytes(h[:5], "big")


def _check_seed(seed, method: str) -> None:
    """A method's seed checked before it draws anything, as the engine checks it, None refused: the methods key
    every draw by it (and derive sub-streams' seeds from it), and a None met at a derivation was refused only
    after the draws before it."""
    from ponder.engine import check_sampling

    if seed is None:
        raise PonderError(f"seed must be an integer in [0, 2**63), got None ({method}'s draws are keyed by it)")
    check_sampling(seed=seed)


def _mean_lp(s) -> float | None:
    return float(sum(s.logprobs) / len(s.logprobs)) if s.logprobs else None


def draw(model, tok, prompts, *, n: int, seed: int, index_offset: int = 0, **kw):
    """engine.sample plus per-prompt latency: (groups, latencies). See the module docstring."""
    from ponder.engine import sample

    # the samples an on_stop went on from were generated too: their tokens count toward the split (the samples
    # returned are the last ones only)
    prompts = list(prompts)
    earlier = [0] * len(prompts)
    if callable(kw.get("on_stop")):  # (anything else: the engine refuses it by name)
        user = kw["on_stop"]

        def on_stop(p, j, s):
            nxt = user(p, j, s)
            if nxt is not None:
                earlier[p] += s.num_tokens
            return nxt

        kw["on_stop"] = on_stop
    t0 = time.perf_counter()
    out = sample(model, tok, prompts, n=n, seed=seed, index_offset=index_offset, **kw)
    dt = time.perf_counter() - t0
    per = [sum(s.num_tokens for s in g) + e for g, e in zip(out, earlier)]
    total = sum(per)
    lat = [dt * t / total if total else dt / len(out) for t in per]
    return out, lat


def draw_subset(model, tok, prompts, indices, *, n: int, seed: int, index_offset: int = 0, **kw):
    """Draw for prompts[indices] only, each prompt with the random stream it gets in a full call.

    One engine call with each prompt's stream keyed by its index in `prompts` (the engine's stream_index):
    prompt i's samples then do not depend on which other prompts are still being drawn (early stopping
    drops them), and the survivors still decode as one batch. (A call per run of consecutive indices, as
    before, split a batch thinned by early stopping into dozens of small calls: --early-stop took ~5x the
    wall time of the plain vote for fewer tokens.) Returns {index: (samples, latency)}."""
    run = sorted(indices)
    groups, lat = draw(model, tok, [prompts[i] for i in run], n=n, seed=seed, index_offset=index_offset,
                       stream_index=run, **kw)
    return {i: (g, t) for i, g, t in zip(run, groups, lat)}


def _check_prompts(prompts):
    if isinstance(prompts, (str, dict)) or not isinstance(prompts, (list, tuple)):
        raise PonderError("prompts must be a list of strings or of chat-message lists")
    if len(prompts) == 0:
        raise PonderError("prompts is empty: nothing to run")
    from ponder.engine import _is_id

    for i, p in enumerate(prompts):  # the engine takes token ids too; these methods continue prompts as text
        if isinstance(p, (list, tuple)) and p and _is_id(p[0]):
            raise PonderError(f"prompt {i}: test-time methods take strings or chat-message lists, "
                              "not token ids")
        if isinstance(p, (list, tuple)) and not p:  # (rendered as the template's bare generation prompt: a problem
            # of nothing evaluated, where an empty text prompt is refused, as the data loader refuses both)
            raise PonderError(f"prompt {i}: an empty list of chat messages (no problem to solve)")
        # (budget forcing reads each prompt's text before the engine sees it: None or 5 was a bare TypeError, one
        # chat message a message list of its keys)
        if not isinstance(p, (str, list, tuple)):
            raise PonderError(f"prompt {i}: test-time methods take strings or chat-message lists, got "
                              f"{type(p).__name__}" + (" (one chat message: a prompt is a list of them)"
                                                       if isinstance(p, dict) else ""))


def _positive_int(name: str, v) -> int:
    """`v` as an int (a numpy integer from a grid of settings is one, as the engine's n is), else refused."""
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise PonderError(f"{name} must be an integer >= 1, got {v!r}")
    return int(v)


def _nonnegative_int(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
        raise PonderError(f"{name} must be an integer >= 0, got {v!r}")
    return int(v)


# ---- greedy and sampling --------------------------------------------------------------------------------


def sampling(model, tok, prompts, *, n: int = 1, temperature: float = 1.0, top_p: float = 1.0, top_k: int = 0,
             min_p: float = 0.0, max_new_tokens: int = 256, stop=None, seed: int = 0, index_offset: int = 0,
             extract: Extract | None = None) -> list[list[Outcome]]:
    """n independent samples per prompt, each an Outcome (tokens and latency are that sample's own). Temperature 0
    (greedy) takes n=1: n greedy samples are one sample n times.

    Counter-based sampling: the samples of a prompt depend only on (seed, prompt index, sample index)."""
    _check_prompts(prompts)
    n = _positive_int("sampling: n", n)
    if temperature == 0 and n > 1:  # (as self-consistency and best-of-N refuse it, and evaluate does for this method)
        raise PonderError(f"sampling with temperature 0 would draw {n} identical greedy samples (n times the tokens "
                          "of one); use n=1 or temperature > 0")
    extract = _fn("extract", extract, default_extract)
    groups, lat = draw(model, tok, prompts, n=n, seed=seed, index_offset=index_offset, temperature=temperature,
                       top_p=top_p, top_k=top_k, min_p=min_p, max_new_tokens=max_new_tokens, stop=stop)
    out = []
    for g, t in zip(groups, lat):
        total = sum(s.num_tokens for s in g)
        # a prompt whose samples are all empty still had its share of the batch time: split it evenly
        out.append([Outcome(s.text, extract(s.text), s.num_tokens,
                            t * s.num_tokens / total if total else t / len(g), s.finish_reason,
                            _mean_lp(s)) for s in g])
    return out


def greedy(model, tok, prompts, *, max_new_tokens: int = 256, stop=None, index_offset: int = 0,
           extract: Extract | None = None, seed: int = 0) -> list[Outcome]:
    """One greedy (temperature 0) decode per prompt. `seed` is accepted for a uniform signature."""
    return [g[0] for g in sampling(model, tok, prompts, n=1, temperature=0.0, max_new_tokens=max_new_tokens,
                                   stop=stop, seed=seed, index_offset=index_offset, extract=extract)]


# ---- self-consistency -----------------------------------------------------------------------------------


def vote(answers: Sequence[str | None], *, equal: Equal, weights: Sequence[float] | None = None,
         early_stop: bool = False, n_planned: int | None = None):
    """metrics.majority_vote with the index of the winning cluster's earliest member (None if no winner).

    Returns (answer, winner_index, votes_used, cluster_sizes)."""
    from ponder.metrics import majority_vote

    ans, used, sizes = majority_vote(list(answers), equal=equal, weights=weights, early_stop=early_stop,
                                     n_planned=n_planned)
    if ans is None:
        return None, None, used, sizes
    # The representative returned is the earliest member's own string: find that sample.
    j = next(i for i, a in enumerate(answers) if a is ans)
    return ans, j, used, sizes


def check_vote_options(weighted: bool, early_stop: bool) -> None:
    """Self-consistency's vote options: True or False, not both (evaluate checks them before its progress bar)."""
    for name, v in (("weighted", weighted), ("early_stop", early_stop)):
        if not isinstance(v, (bool, np.bool_)):  # (by truthiness "no" or "false" ran that vote, recorded as "no")
            raise PonderError(f"self-consistency: {name} must be True or False, got {v!r}")
    if weighted and early_stop:
        raise PonderError("self-consistency: early_stop needs unweighted votes (future weights are unknown)")


def self_consistency(model, tok, prompts, *, n_votes: int = 8, weighted: bool = False, early_stop: bool = False,
                     chunk: int | None = None, temperature: float = 0.8, top_p: float = 1.0, top_k: int = 0,
                     min_p: float = 0.0, max_new_tokens: int = 256, stop=None, seed: int = 0,
                     index_offset: int = 0, extract: Extract | None = None,
                     equal: Equal | None = None) -> list[Outcome]:
    """Majority vote over the extracted answers of `n_votes` samples (module docstring).

    The final completion is the earliest sample of the winning cluster; with no answer at all it is the
    first sample, with answer None. ``chunk``: draw this many samples at a time (default: all at once,
    or n_votes/4 with early_stop); chunk c holds samples c*chunk .. of the one draw an unchunked call makes
    (the engine's `first_sample`), so a chunked run, with or without early_stop, sees the samples of the plain
    run: early stopping saves tokens and never changes a vote it did not stop. (Chunks once drew from seeds of
    their own, so `--early-stop` changed the accuracy it promised to keep.)
    ``info``: votes (answer -> count or weight), votes_used, samples_drawn.
    """
    _check_prompts(prompts)
    n_votes = _positive_int("self-consistency: n_votes (--votes)", n_votes)
    if temperature == 0 and n_votes > 1:
        raise PonderError("self-consistency with temperature 0 would vote over identical greedy samples; "
                          "use temperature > 0")
    check_vote_options(weighted, early_stop)
    from ponder.metrics import vote_decided

    # (None, the engine's fresh random seed per call, would draw each chunk from another stream)
    _check_seed(seed, "self-consistency")

    extract, equal = _fn("extract", extract, default_extract), _fn("equal", equal, default_equal)
    if chunk is None and early_stop:
        chunk = max(1, math.ceil(n_votes / 4))
    if chunk is not None:
        chunk = _positive_int("self-consistency: chunk", chunk)
    kw = dict(temperature=temperature, top_p=top_p, top_k=top_k, min_p=min_p, max_new_tokens=max_new_tokens,
              stop=stop)
    P = len(prompts)
    samples: list[list] = [[] for _ in range(P)]
    answers: list[list] = [[] for _ in range(P)]
    lat = [0.0] * P
    decided: dict[int, tuple] = {}
    if chunk is None:
        groups, lt = draw(model, tok, prompts, n=n_votes, seed=seed, index_offset=index_offset, **kw)
        for i, (g, t) in enumerate(zip(groups, lt)):
            samples[i], answers[i], lat[i] = list(g), [extract(s.text) for s in g], t
    else:
        c = 0
        live = list(range(P))
        while live:
            take = min(chunk, n_votes - c * chunk)
            got = draw_subset(model, tok, prompts, live, n=take, seed=seed, index_offset=index_offset,
                              first_sample=c * chunk, **kw)
            still = []
            for i in live:
                g, t = got[i]
                samples[i] += g
                answers[i] += [extract(s.text) for s in g]
                lat[i] += t
                done = len(samples[i]) >= n_votes
                if early_stop and not done:
                    res = vote(answers[i], equal=equal, early_stop=True, n_planned=n_votes)
                    sizes = [v for k, v in res[3].items() if k is not None]  # in order of first appearance
                    done = vote_decided(sizes, n_votes - res[2])
                    if done:
                        decided[i] = res
                if not done:
                    still.append(i)
            live = still
            c += 1
    out = []
    for i in range(P):
        g, a = samples[i], answers[i]
        if i in decided:
            ans, j, used, sizes = decided[i]
        else:
            w = None
            if weighted:
                from ponder.metrics import logprob_weights

                w = logprob_weights([_mean_lp(s) if s.logprobs else 0.0 for s in g])
            ans, j, used, sizes = vote(a, equal=equal, weights=w)
        final = g[0] if j is None else g[j]
        out.append(Outcome(
            final.text, ans, sum(s.num_tokens for s in g), lat[i], final.finish_reason, _mean_lp(final),
            {"votes": _json_votes(sizes), "votes_used": used, "samples_drawn": len(g), "winner_sample": j},
        ))
    return out


def _json_votes(sizes: dict) -> dict:
    return {("<none>" if k is None else str(k)): (round(v, 6) if isinstance(v, float) else v)
            for k, v in sizes.items()}


# ---- scorers and best-of-N ------------------------------------------------------------------------------


def score_value(x) -> float:
    """A scorer's result as a float: numbers as they are, Verdict -> .score (else .correct),
    RewardResult -> .reward."""
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, numbers.Real) or (getattr(x, "dtype", None) is not None and getattr(x, "shape", None) == ()):
        v = float(x)  # numpy scalars (np.float32, np.int64, np.bool_) and 0-d tensors too
    elif getattr(x, "score", None) is not None:
        v = float(x.score)
    elif hasattr(x, "reward"):
        v = float(x.reward)
    elif hasattr(x, "correct"):
        v = float(bool(x.correct))
    else:
        raise PonderError(f"scorer returned {type(x).__name__}; expected a number, a Verdict or a RewardResult")
    if math.isnan(v):
        raise PonderError("scorer returned NaN")
    return v


def _prompt_key(p) -> str:
    import json

    return p if isinstance(p, str) else json.dumps(p, sort_keys=True)


def reward_scorer(reward: Callable, items: Sequence[dict], prompts: Sequence | None = None,
                  think_open: Sequence[bool] | None = None) -> Callable:
    """Adapt ``reward(completion, item)`` (the registry's signature) to ``scorer(prompt, completion, index=None)``;
    the item is ``items[index]`` (best-of-N and self-refine pass the problem's index, ``index_offset`` + its
    position), else the one whose prompt it is: ``item["prompt"]``, or ``prompts[i]`` as the method is given it
    (the chat messages an evaluation with chat=True wraps it in). Items may share a prompt (one question with two
    gold answers, duplicates); a prompt alone cannot tell such items apart, and is refused if they differ.
    ``think_open[i]``: prompt i, as rendered, ends with "<think>" (a Reward's format term then wants completions
    that do not open it), or "closed": with a whole think block (engine.prompts_think_state)."""
    from ponder.verify.registry import with_think_open

    if prompts is None:  # (an item without one was a bare KeyError 'prompt')
        for j, it in enumerate(items):
            if not isinstance(it, dict) or "prompt" not in it:
                raise PonderError(f"reward_scorer: item {j} has no 'prompt' to find it by; pass prompts= (one per "
                                  "item, in order)")
    keys = [it["prompt"] for it in items] if prompts is None else list(prompts)
    opens = [False] * len(items) if think_open is None else list(think_open)
    # zip would pair them silently: the items past the shorter list unscorable, a shifted list scored wrong
    for name, xs in (("prompts", keys), ("think_open", opens)):
        if len(xs) != len(items):
            raise PonderError(f"reward_scorer: {len(xs)} {name} for {len(items)} items (one per item, in order)")
    keys = [_prompt_key(p) for p in keys]
    fns = [with_think_open(reward, f) for f in opens]
    by_prompt: dict[str, list[int]] = {}
    for j, k in enumerate(keys):
        by_prompt.setdefault(k, []).append(j)

    def what(j):  # an item as its reward reads it (its id aside: duplicates differ in id only)
        return {k: v for k, v in items[j].items() if k != "id"}, opens[j]

    def scorer(prompt, completion, index=None):
        key = _prompt_key(prompt)
        # (any integer: a numpy index_offset, which the methods take, makes index_offset + i a numpy integer)
        if (isinstance(index, numbers.Integral) and not isinstance(index, bool) and 0 <= index < len(items)
                and keys[index] == key):
            j = index
        else:  # (an index for another prompt, or none: a caller of the plain scorer(prompt, completion))
            js = by_prompt.get(key)
            if not js:
                raise PonderError(f"reward_scorer: no item has the prompt {str(prompt)[:60]!r}")
            other = next((k for k in js if what(k) != what(js[0])), None)
            if other is not None:
                raise PonderError(f"reward_scorer: items {items[js[0]].get('id', js[0])} and "
                                  f"{items[other].get('id', other)} share the prompt {str(prompt)[:60]!r} but "
                                  "differ; pass index= (the item's position) to say which")
            j = js[0]
        return score_value(fns[j](completion, items[j]))

    return scorer


def _short(ids) -> str:
    return repr(list(ids[:6]))[:-1] + (", ...]" if len(ids) > 6 else "]")


def _render_text(tok, prompt) -> str:
    """The text of a prompt (what a continuation reads after it: wait-token counts, likelihood scoring):
    strings as given; chat lists through the chat template, less the leading BOS a template writes
    ({{ bos_token }}, Llama 3) when the tokenizer adds BOS itself, so that the text encoded with special
    tokens gives one BOS. A continuation is sampled on ids (budget_forcing): a chat prompt's text sampled as a
    string gains a BOS the chat never had from a tokenizer that adds one while its template writes none."""
    if isinstance(prompt, str):
        return prompt
    from ponder.engine import _is_id

    if isinstance(prompt, (list, tuple)) and prompt and _is_id(prompt[0]):  # (else: "chat message 0 ... got 291")
        raise PonderError(f"prompt {_short(prompt)} is token ids, not the text a continuation is read after "
                          "(likelihood scoring, think tags): pass it as a string or chat messages")
    text, bos = tok.apply_chat_template(list(prompt), add_generation_prompt=True), tok.bos_token
    if bos and text.startswith(bos) and tok.encode("", add_special_tokens=True)[:1] == [tok.bos_token_id]:
        text = text[len(bos):]
    return text


def _written_ids(tok, context_ids, ids, text: str, context_text: str) -> list[int]:
    """The ids that write `text` after `context_ids` (whose text is `context_text`): the longest prefix of `ids`
    (tokens the model generated) whose text is a prefix of `text`, then what of `text` those leave, encoded as it
    follows. The model's own tokens are kept as they are: re-encoding their text can merge differently at a
    seam (byte-level BPE: "." + "\\n" -> ".\\n"), a sequence the model never produced. Only text no whole
    generated token writes is encoded: a stop string cut inside a token, a box `_drop_open_box` removed. A
    trailing stop token (EOS) writes no text and is dropped."""
    ids = list(ids)
    if ids and ids[-1] in tok.stop_token_ids:
        ids.pop()

    def text_of(k):
        return tok.decode_continuation(context_ids, ids[:k]) if k else ""

    # the largest such prefix, by bisection: a box dropped from a long thinking would otherwise cost a decode per
    # token dropped. (A prefix ending inside a UTF-8 character reads "\ufffd" and may stop it short: the rest
    # of the text is then encoded, still exactly `text`.)
    lo, hi = 0, len(ids)
    written = ""  # text_of(lo), a prefix of `text` (the empty prefix's to begin with)
    if text.startswith(whole := text_of(hi)):
        lo, written = hi, whole
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if text.startswith(t := text_of(mid)):
            lo, written = mid, t
        else:
            hi = mid
    rest = text[len(written):]
    return ids[:lo] + (tok.encode_continuation(context_text + written, rest) if rest else [])


@torch.inference_mode()
def sequence_logprob(model, tok, prompt, completion: str, token_ids: Sequence[int] | None = None, *,
                     capped: list | None = None) -> float:
    """Mean log-prob of the completion's tokens given the prompt (teacher forcing; -inf if empty).

    ``token_ids``: the ids the model sampled for the completion (``Sample.token_ids``). Those are scored, as
    ``_written_ids`` keeps them (less a trailing EOS, which writes no text; past a stop string cut inside a
    token, the cut text encoded): a model can write a text in other tokens than its encoding (" tings" as
    " t" "ing" "s", which encodes as " ti" "ng" "s"), and the re-encoding is a sequence it never produced.
    Without them (a text the sampler did not write) the completion is tokenized as it follows the prompt
    (``Tokenizer.encode_continuation``): the tokens a model prompted with it generates to write that text, not
    ``encode(completion)`` on its own, which a sentencepiece tokenizer (Llama 2, Mistral) starts with a
    dummy-prefix space the text lacks.

    Prompt + completion past the model's positions is refused; with ``capped`` (a list) the completion's tokens
    that fit are scored instead and {"scored_tokens", "completion_tokens"} appended to it. (A sample the engine
    drew fits, but a stop string cut inside its last token has that text re-encoded, which can take more ids:
    best-of-N and self-refine score what fits and record it.)"""
    from ponder.engine import _is_id, _model_vocab, _no_dropout, render_prompts

    p_ids = render_prompts(tok, [prompt])[0]
    vocab = max(tok.vocab_size, _model_vocab(model) or 0)  # (as the engine takes ids)
    if token_ids is None:
        c_ids = tok.encode_continuation(_render_text(tok, prompt), completion)
    elif not isinstance(token_ids, (list, tuple)) or not all(_is_id(t) and 0 <= t < vocab for t in token_ids):
        raise PonderError(f"sequence_logprob: token_ids must be a list of token ids in 0..{vocab - 1} (the ids "
                          f"sampled for the completion), got {repr(token_ids)[:60]}")
    else:
        c_ids = _written_ids(tok, p_ids, token_ids, completion, _render_text(tok, prompt))
    if not c_ids:
        return float("-inf")
    limit, how = model_context(model)
    if isinstance(limit, int) and len(p_ids) + len(c_ids) > limit:  # (positions past it were scored silently)
        if capped is None or len(p_ids) >= limit:
            raise PonderError(f"likelihood scorer (sequence_logprob): prompt of {len(p_ids)} tokens + completion of "
                              f"{len(c_ids)} tokens exceeds the model's context of {limit} positions"
                              f"{f' ({how})' if how else ''}")
        capped.append({"scored_tokens": limit - len(p_ids), "completion_tokens": len(c_ids)})
        c_ids = c_ids[:limit - len(p_ids)]
    ids = torch.tensor([p_ids + c_ids], device=model.device)
    with _no_dropout(model):  # scoring is inference, as sampling is: a training-mode model's dropout made it random
        logits = model(ids)[0, len(p_ids) - 1: -1].float()
    lp = torch.log_softmax(logits, -1).gather(-1, ids[0, len(p_ids):, None])[:, 0]
    return float(lp.mean())


def likelihood_scorer(model, tok) -> Callable:
    """scorer(prompt, completion, token_ids=None) = the model's mean token log-prob of the completion given the
    prompt; of ``token_ids``, the ids the model sampled for it, when given (``sequence_logprob``). best-of-N
    and self-refine pass a sample's ids to the "likelihood" scorer they build (not to a callable)."""

    def scorer(prompt, completion, token_ids=None, capped=None):
        return sequence_logprob(model, tok, prompt, completion, token_ids=token_ids, capped=capped)

    return scorer


def _takes_index(scorer) -> bool:
    """Whether a scorer takes ``index`` (the problem's index: reward_scorer's, to tell items with one prompt apart)."""
    try:
        return "index" in inspect.signature(scorer).parameters
    except (TypeError, ValueError):  # (a callable without a signature: called as scorer(prompt, completion))
        return False


def _sample_scorer(scorer, by_ids: bool) -> Callable:
    """score(prompt, sample, index, capped): a sample's score. Its ids go to the "likelihood" scorer (by_ids), with
    `capped` (a list: a score of what fits the context is noted there), only its text to a user's callable (and
    the problem's index, to one that takes it): decided once, not per sample."""
    if by_ids:
        return lambda prompt, s, index, capped: score_value(scorer(prompt, s.text, token_ids=s.token_ids,
                                                                   capped=capped))
    try:  # (a wrong arity was a bare TypeError once every candidate or draft had been drawn)
        sig = inspect.signature(scorer)
    except (TypeError, ValueError):  # (no signature to read: found out at the first call)
        sig = None
    if sig is not None:
        try:
            sig.bind("", "", **({"index": 0} if "index" in sig.parameters else {}))
        except TypeError:
            raise PonderError(f"scorer {getattr(scorer, '__name__', type(scorer).__name__)}{sig} cannot be called "
                              "as scorer(prompt, completion)") from None
    if _takes_index(scorer):
        return lambda prompt, s, index, capped: score_value(scorer(prompt, s.text, index=index))
    return lambda prompt, s, index, capped: score_value(scorer(prompt, s.text))


def best_of_n(model, tok, prompts, *, n_candidates: int = 8, scorer="logprob", temperature: float = 0.8,
              top_p: float = 1.0, top_k: int = 0, min_p: float = 0.0, max_new_tokens: int = 256, stop=None,
              seed: int = 0, index_offset: int = 0, extract: Extract | None = None) -> list[Outcome]:
    """Draw n_candidates samples per prompt and keep the highest-scoring one (ties: the earliest sample).

    ``scorer``: "logprob" (the sample's mean token log-prob under the sampling temperature, free; an empty
    completion scores -inf, as under "likelihood", so it is kept only when every candidate is empty),
    "likelihood" (the model's own mean log-prob of the completion given the prompt, recomputed by teacher
    forcing on the ids it sampled, as self-refine scores) or a callable (module docstring).
    ``info``: scores (per sample), chosen (index), and only where the "likelihood" scorer scored a candidate's
    tokens that fit the context alone (``sequence_logprob``), capped (one {"candidate", "scored_tokens",
    "completion_tokens"} each)."""
    _check_prompts(prompts)
    n_candidates = _positive_int("best-of-N: n_candidates (--candidates)", n_candidates)
    if temperature == 0 and n_candidates > 1:  # (as self-consistency refuses it)
        raise PonderError("best-of-N with temperature 0 would choose among identical greedy samples; "
                          "use temperature > 0")
    if scorer is None:
        raise PonderError("best-of-N needs a scorer: 'logprob', 'likelihood', a judge, or scorer(prompt, completion)")
    by_ids = isinstance(scorer, str) and scorer == "likelihood"
    if by_ids:
        scorer = likelihood_scorer(model, tok)
    elif not ((isinstance(scorer, str) and scorer == "logprob") or callable(scorer)):
        raise PonderError(f"best-of-N: unknown scorer {scorer!r}; use 'logprob', 'likelihood' or a callable")
    score = None if isinstance(scorer, str) else _sample_scorer(scorer, by_ids)  # (None: "logprob")
    extract = _fn("extract", extract, default_extract)
    groups, lat = draw(model, tok, prompts, n=n_candidates, seed=seed, index_offset=index_offset,
                       temperature=temperature, top_p=top_p, top_k=top_k, min_p=min_p,
                       max_new_tokens=max_new_tokens, stop=stop)
    out = []
    for i, (p, g, t) in enumerate(zip(prompts, groups, lat)):
        t0 = time.perf_counter()
        caps: list[dict] = []  # candidates the likelihood scorer scored only in part (what fits the context)
        if score is None:  # "logprob"
            # an empty completion (EOS or a stop string first) scores -inf, as "likelihood" scores it: its mean
            # was the log-prob of stopping at once, and an EOS likelier than a worked answer's tokens won with no text
            scores = [_mean_lp(s) if s.logprobs and s.text else float("-inf") for s in g]
        else:
            scores = []
            for k, s in enumerate(g):
                cap: list[dict] = []
                try:
                    scores.append(score(p, s, index_offset + i, cap))
                except PonderError as e:  # (a NaN or a wrong type from one of a benchmark's candidates said not which)
                    raise PonderError(f"best-of-N: problem {index_offset + i} candidate {k}: {e}") from None
                caps += [{"candidate": k, **c} for c in cap]
        j = max(range(len(g)), key=lambda k: (scores[k], -k))
        s = g[j]
        info = {"scores": [round(v, 6) for v in scores], "chosen": j}
        if caps:  # (only where a cap applied: an outcome that fits reads as before)
            info["capped"] = caps
        out.append(Outcome(s.text, extract(s.text), sum(x.num_tokens for x in g), t + time.perf_counter() - t0,
                           s.finish_reason, _mean_lp(s), info))
    return out


# ---- self-refine ----------------------------------------------------------------------------------------

# Plain-text prompts: the conversation is one text; the current solution, then these templates, are
# appended to the original prompt (sampled on ids: the model's own for what it wrote). Chat prompts: the
# solution becomes an assistant turn and the two requests user turns. Each round sees the original problem, the current best solution and its critique
# (not the whole history), which keeps the context bounded.
CRITIQUE_TEMPLATE = ("\n\nReview the solution above step by step. Point out any mistake, or say that it is "
                     "correct.\nReview:")
REFINE_TEMPLATE = "\n\nUsing the review, write a corrected solution to the problem.\nSolution:"
CRITIQUE_REQUEST = "Review your solution step by step. Point out any mistake, or say that it is correct."
REFINE_REQUEST = "Using the review, write a corrected solution to the problem. End with the final answer."


def _critique_context(tok, prompt, prompt_ids, solution, critique_template: str, critique_request: str):
    """What the critique is sampled after. Plain text: the prompt's ids + the ids sampled for the solution (a
    Sample: re-encoding its text could merge at a seam, or spell it in other tokens than the model wrote, so
    conditioning the model on tokens it never produced) + the template encoded as it continues the text."""
    if isinstance(prompt, str):
        return (prompt_ids + _written_ids(tok, prompt_ids, solution.token_ids, solution.text, prompt)
                + tok.encode_continuation(prompt + solution.text, critique_template))
    return list(prompt) + [{"role": "assistant", "content": solution.text.strip()},
                           {"role": "user", "content": critique_request}]


def _refine_context(tok, prompt, critique_context, solution, critique, templates: tuple):
    """What the revision is sampled after: the critique's context + (plain text) the ids sampled for the
    critique and the template encoded after them, or (chat) the critique and the request as turns."""
    critique_template, refine_template, _, refine_request = templates
    if isinstance(prompt, str):
        text = prompt + solution.text + critique_template
        return (critique_context + _written_ids(tok, critique_context, critique.token_ids, critique.text, text)
                + tok.encode_continuation(text + critique.text, refine_template))
    return critique_context + [{"role": "assistant", "content": critique.text.strip()},
                               {"role": "user", "content": refine_request}]


def _draw_in_room(model, tok, ctx: dict, live, *, max_new_tokens: int, call: str, r: int, index_offset: int,
                  **kw) -> tuple[dict, dict]:
    """One self-refine call (the critiques or the revisions of round r) for ctx[live], each decoded up to
    max_new_tokens or, where its context leaves less room in the model's positions, up to the room left (the
    context grows with the draft and the critique, so a setting that fits the prompt may not fit it; as
    `ponder chat` caps a reply). Problems that fit are drawn in one call exactly as without a cap; each
    capped one gets its own call, keyed to its index as in the full call. Returns ({index: (samples,
    latency)}, {index: cap})."""
    from ponder.engine import _model_vocab, render_prompts

    limit, how = model_context(model)
    caps = {}
    if isinstance(limit, int):
        for i, ids in zip(live, render_prompts(tok, [ctx[i] for i in live], _model_vocab(model))):
            room = limit - len(ids)
            # 1 token is the least worth decoding: a refusal discards the whole batch's work, while a capped
            # critique or revision is still scored as any other and recorded as capped in the outcome's info
            if room < 1:
                raise PonderError(f"self-refine: problem {index_offset + i}: the {call} context of round {r + 1} "
                                  f"holds {len(ids)} tokens and the model's context is {limit} positions"
                                  f"{f' ({how})' if how else ''}: no room "
                                  f"left to decode the {call} (shorter drafts: a lower max_new_tokens, or shorter "
                                  f"templates)")
            if room < max_new_tokens:
                caps[i] = room
    fit = [i for i in live if i not in caps]
    out = draw_subset(model, tok, ctx, fit, n=1, index_offset=index_offset, max_new_tokens=max_new_tokens,
                      **kw) if fit else {}
    for i, cap in caps.items():
        out.update(draw_subset(model, tok, ctx, [i], n=1, index_offset=index_offset, max_new_tokens=cap, **kw))
    return out, caps


def self_refine(model, tok, prompts, *, rounds: int = 2, scorer="likelihood", temperature: float = 0.0,
                top_p: float = 1.0, top_k: int = 0, min_p: float = 0.0, max_new_tokens: int = 256, critique_tokens: int = 64, stop=None, seed: int = 0,
                index_offset: int = 0, extract: Extract | None = None,
                critique_template: str = CRITIQUE_TEMPLATE, refine_template: str = REFINE_TEMPLATE,
                critique_request: str = CRITIQUE_REQUEST, refine_request: str = REFINE_REQUEST) -> list[Outcome]:
    """Draft, then `rounds` rounds of critique -> revision (templates above); a revision is kept only if
    its score is >= the current one. ``scorer``: "likelihood" (the model's mean log-prob of the ids it sampled
    for the solution given the ORIGINAL prompt, so drafts and revisions are scored on the same footing) or a
    callable scorer(prompt, completion). At temperature 0 a problem stops at its first rejected or unchanged revision:
    the next round would see the same context and decode the same again. A critique (``critique_tokens``) or
    revision (``max_new_tokens``) whose context (prompt + solution + critique ...) leaves less room in the
    model's context is decoded up to the room left; a context with no room left is refused before that call.
    ``info``: scores (draft, then per round run), accepted (bool per round run), critiques, and only where a
    cap applied, capped (one {"round", "call": "critique" | "revision", "max_new_tokens": the cap} each, or
    {"round" (0: the draft), "call": "score", "scored_tokens", "completion_tokens"} where the "likelihood" scorer
    scored only the tokens that fit the context: ``sequence_logprob``)."""
    _check_prompts(prompts)
    from ponder.engine import render_prompts

    rounds = _nonnegative_int("self-refine: rounds", rounds)
    critique_tokens = _positive_int("self-refine: critique_tokens", critique_tokens)  # (the engine would name max_new_tokens)
    templates = (critique_template, refine_template, critique_request, refine_request)
    names = ("critique_template", "refine_template", "critique_request", "refine_request")
    for name, text in zip(names, templates):
        if not isinstance(text, str):  # (else a TypeError, or a chat message naming no option, after the drafts)
            raise PonderError(f"self-refine: {name} must be a string, got {text!r}")
    _check_seed(seed, "self-refine")  # (None was refused at the first round, after every draft was drawn)
    by_ids = isinstance(scorer, str) and scorer == "likelihood"
    if by_ids:
        scorer = likelihood_scorer(model, tok)
    elif not callable(scorer):
        raise PonderError(f"self-refine: unknown scorer {scorer!r}; use 'likelihood' or a callable")
    score = _sample_scorer(scorer, by_ids)
    extract = _fn("extract", extract, default_extract)
    # (every draw, draft, critiques and revisions, with the sampling filters: eval refused --top-p with self-refine)
    kw = dict(temperature=temperature, top_p=top_p, top_k=top_k, min_p=min_p, stop=stop)
    P = len(prompts)
    groups, lat = draw(model, tok, prompts, n=1, seed=seed, index_offset=index_offset,
                       max_new_tokens=max_new_tokens, **kw)
    cur = [g[0] for g in groups]
    base_ids = render_prompts(tok, prompts)  # (a string prompt's as the engine encodes it: with its BOS)
    tokens = [s.num_tokens for s in cur]
    lat = list(lat)

    info = [{"scores": [], "accepted": [], "critiques": []} for _ in range(P)]

    def scores_of(idx, samples, r):  # (a revision's ids, sampled after the refine context, write it all the same)
        t0 = time.perf_counter()
        sc = []
        for i, x in zip(idx, samples):
            cap: list[dict] = []  # the likelihood scorer scored what fits the context: noted as a cap
            try:
                sc.append(score(prompts[i], x, index_offset + i, cap))
            except PonderError as e:  # (as best-of-N: which problem's draft or revision)
                raise PonderError(f"self-refine: problem {index_offset + i} "
                                  f"{'draft' if r == 0 else f'round {r} revision'}: {e}") from None
            for c in cap:
                info[i].setdefault("capped", []).append({"round": r, "call": "score", **c})
        per = (time.perf_counter() - t0) / len(idx)
        for i in idx:
            lat[i] += per
        return sc

    cur_score = scores_of(range(P), cur, 0)
    for i, v in enumerate(cur_score):
        info[i]["scores"].append(round(v, 6))
    live = list(range(P))
    for r in range(rounds):
        if not live:
            break
        c_ctx = {i: _critique_context(tok, prompts[i], base_ids[i], cur[i], critique_template, critique_request)
                 for i in live}
        crit, c_caps = _draw_in_room(model, tok, c_ctx, live, max_new_tokens=critique_tokens, call="critique",
                                     r=r, index_offset=index_offset, seed=derive_seed(seed, "critique", r), **kw)
        ctx = {i: _refine_context(tok, prompts[i], c_ctx[i], cur[i], crit[i][0][0], templates) for i in live}
        rev, r_caps = _draw_in_room(model, tok, ctx, live, max_new_tokens=max_new_tokens, call="revision",
                                    r=r, index_offset=index_offset, seed=derive_seed(seed, "refine", r), **kw)
        for call, caps in (("critique", c_caps), ("revision", r_caps)):
            for i, cap in caps.items():  # (only where a cap applied: an outcome that fits reads as before)
                info[i].setdefault("capped", []).append({"round": r + 1, "call": call, "max_new_tokens": cap})
        new_score = scores_of(live, [rev[i][0][0] for i in live], r + 1)
        still = []
        for i, sc in zip(live, new_score):
            c, v = crit[i][0][0], rev[i][0][0]
            tokens[i] += c.num_tokens + v.num_tokens
            lat[i] += crit[i][1] + rev[i][1]
            ok = sc >= cur_score[i]
            info[i]["scores"].append(round(sc, 6))
            info[i]["accepted"].append(ok)
            info[i]["critiques"].append(c.text)
            # Greedy decoding: a rejected (or unchanged) revision leaves the next round the same context, so it
            # would decode the same critique and revision again; the problem is done (no tokens for repeats).
            if not (temperature == 0 and (not ok or v.text == cur[i].text)):
                still.append(i)
            if ok:
                cur[i], cur_score[i] = v, sc
        live = still
    return [Outcome(s.text, extract(s.text), tokens[i], lat[i], s.finish_reason, _mean_lp(s), info[i])
            for i, s in enumerate(cur)]


# ---- budget forcing -------------------------------------------------------------------------------------


def _draw_some(model, tok, prompts, indices, temperature, on_stop=None, **kw) -> dict:
    """One sample for each of prompts[indices]: {index: (samples, latency)}. Greedy decoding has no
    random stream to keep aligned, so it is one batched call; sampling goes through draw_subset.
    ``on_stop(index, sample)``: the engine's on_stop, by index into prompts."""
    if temperature > 0:
        return draw_subset(model, tok, prompts, indices, n=1, temperature=temperature, **kw,
                           **_on_stop_kw(on_stop, sorted(indices)))  # (draw_subset's call order: sorted)
    kw.pop("index_offset", None)
    groups, lat = draw(model, tok, [prompts[i] for i in indices], n=1, temperature=0.0, **kw,
                       **_on_stop_kw(on_stop, indices))
    return {i: (g, t) for i, g, t in zip(indices, groups, lat)}


def _on_stop_kw(on_stop, indices) -> dict:
    """The engine's on_stop for a call on prompts[indices] (none passed where there is none: as before)."""
    return {} if on_stop is None else {"on_stop": lambda j, _, s: on_stop(indices[j], s)}


# budget_forcing's forced_answer: "cue" (s1): a cut thinking is closed with [think_end +] answer_cue and a one-line
# answer read after it; "own" (think tags only): closed with think_end + OWN_ANSWER_OPENING, the blank line Qwen3 and
# the DeepSeek-R1 distills write between "</think>" and their answer (their chat templates render a past turn's
# thinking as "...</think>\n\n", and Qwen3's enable_thinking=False prefills "<think>\n\n</think>\n\n"), and the model
# then writes its answer as it would after closing the thinking itself: a whole solution, box at the end, not one line
FORCED_ANSWERS = ("cue", "own")
OWN_ANSWER_OPENING = "\n\n"
S1_ANSWER_CUE = "\nFinal Answer:"  # (budget_forcing's default answer_cue)


def forced_opening(answer_cue: str, forced_answer: str = "cue") -> str:
    """The text forced after a cut thinking (after think_end, with think tags): answer_cue, or for
    forced_answer="own" the blank line think-tag models open their answer with."""
    if forced_answer not in FORCED_ANSWERS:
        raise PonderError(f"budget forcing: forced_answer={forced_answer!r}, expected 'cue' or 'own'")
    if forced_answer == "own" and answer_cue != S1_ANSWER_CUE:  # (it would be silently unused)
        raise PonderError(f"budget forcing: answer_cue={answer_cue!r} is not used with forced_answer='own' (the "
                          "model answers after \"</think>\\n\\n\" with no cue); leave it out or use forced_answer='cue'")
    return answer_cue if forced_answer == "cue" else OWN_ANSWER_OPENING


def _cue_tokens(tok, answer_cue: str, think_end: str | None) -> int:
    """The tokens check_budget_context counts for the strings forced before the answer."""
    n = len(tok.encode(answer_cue, add_special_tokens=False))
    return n + (len(tok.encode(think_end, add_special_tokens=False)) if think_end else 0)


def _room(model, ids) -> int | float:
    """Positions left in the model's context after `ids` (inf for a model without a limit)."""
    limit = model_context(model)[0]
    return limit - len(ids) if isinstance(limit, int) else math.inf


def _answer_room(model, ids, want: int, problem: int, capped: list | None) -> int:
    """An answer's max_new_tokens after the context `ids`: `want`, or the room left where that is less (noted
    in `capped`); a context with no room left is refused by name (the engine would name no method)."""
    room = _room(model, ids)
    if room < 1:
        raise PonderError(f"budget forcing: problem {problem}: the answer's context holds {len(ids)} tokens, the "
                          "whole model's context: no room left to decode the answer (a smaller budget, or stop "
                          "strings that end at a token boundary)")
    if room < want and capped is not None:
        capped.append({"call": "answer", "max_new_tokens": room})
    return min(want, room)


# budget forcing's answer allowance where answer_tokens is None: a short forced answer ("Final Answer: 5") without
# think tags; after a think_end the model's own answer is a whole written solution with its box at the end (Qwen3,
# R1 distills: often hundreds of tokens), which 16 tokens cut before the box, scored as no answer
ANSWER_TOKENS, THINK_ANSWER_TOKENS = 16, 512


def _answer_allowance(answer_tokens: int | None, think_end: str | None) -> tuple[int, int]:
    """(the answer's max tokens, the tokens the context must keep for it). The default after a think_end takes what
    room the context has up to THINK_ANSWER_TOKENS, and needs only ANSWER_TOKENS of it: the thinking budget is
    not cut to make room for an answer that long."""
    if answer_tokens is not None:
        return answer_tokens, answer_tokens
    return (ANSWER_TOKENS if think_end is None else THINK_ANSWER_TOKENS), ANSWER_TOKENS


def check_budget_context(model, tok, prompts, budget: int, answer_cue: str, answer_tokens: int | None,
                         name: str = "budget forcing", think_end: str | None = None, names=None,
                         forced_answer: str = "cue", first: int = 0) -> None:
    """The forced answer is decoded after prompt + thinking + cue: a budget whose forced answer cannot fit the
    context is refused before any thinking is drawn (not by the engine once it all has been). ``think_end`` as
    budget_forcing takes it ("auto": each prompt's own, ``think_ends``): a cut thinking is closed with it.
    ``answer_tokens`` None: budget_forcing's default, which needs ANSWER_TOKENS of room. ``forced_answer`` as
    budget_forcing takes it: "own" is refused for a prompt without think tags (named by ``names`` where given, else as
    problem ``first`` + its index)."""
    from ponder.engine import check_context, render_prompts

    # evaluate calls this before budget_forcing sees them: a bad one would be a TypeError in the sum below
    _positive_int(f"{name}: budget", budget)
    if answer_tokens is not None:
        _positive_int(f"{name}: answer_tokens", answer_tokens)
    answer_tokens = _answer_allowance(answer_tokens, None)[1]
    answer_cue = forced_opening(answer_cue, forced_answer)  # (the text forced after a cut; a bad choice named)
    ends = think_ends(tok, prompts, think_end)
    if forced_answer == "own" and None in ends:
        i = ends.index(None)
        raise PonderError(f"{name}: forced_answer='own' closes a cut thinking with its think-tag delimiter and a blank "
                          f"line (\"</think>\\n\\n\") for the model to answer after, and "
                          f"{names[i] if names is not None else f'problem {first + i}'} thinks in no tags (think_end None): "
                          "use forced_answer='cue'")
    ids = render_prompts(tok, prompts)
    for end in dict.fromkeys(ends):  # ("auto": a cut thinking is closed with its prompt's own delimiter)
        idx = [i for i, e in enumerate(ends) if e == end]
        cue = _cue_tokens(tok, answer_cue, end)
        check_context(model, [ids[i] for i in idx], budget + cue + answer_tokens,
                      parts=f"{name}'s thinking budget {budget} + answer cue {cue} + answer tokens {answer_tokens}",
                      names=None if names is None else [names[i] for i in idx])


def budget_forcing(model, tok, prompts, *, budget: int = 128, waits: int = 0, wait_text: str = "\nWait",
                   answer_cue: str = S1_ANSWER_CUE, answer_tokens: int | None = None, force: str = "auto",
                   temperature: float = 0.0, top_p: float = 1.0, top_k: int = 0, min_p: float = 0.0, stop=None,
                   seed: int = 0, index_offset: int = 0, extract: Extract | None = None,
                   think_end: str | None = "auto", forced_answer: str = "cue") -> list[Outcome]:
    """s1 budget forcing (module docstring). The cap, on every problem:

        thinking tokens (generated, including a suppressed EOS) + inserted wait tokens <= budget
        forced-answer tokens <= answer_tokens, so total generated tokens <= budget + answer_tokens.

    ``answer_tokens`` None (default): 16 (``ANSWER_TOKENS``) without think tags; after a ``think_end``, 512
    (``THINK_ANSWER_TOKENS``) or the room the context leaves, whichever is less (at least 16 must fit, as the
    context check counts): a think-tag model writes a whole solution after "</think>" with its box at the end.

    ``waits`` (K): how many times an early end of thinking is suppressed: the end token is dropped,
    ``wait_text`` appended and thinking continues with the remaining budget (only if at least one token
    is left after the wait text). ``force``: "auto" appends ``answer_cue`` and decodes up to
    ``answer_tokens`` (stopping at the first newline after non-blank text) when the budget cut the thinking
    off or it has no extractable answer; "always" does so for every problem. The final completion is
    thinking + cue + forced answer, and the answer is extracted from that final completion, exactly as a
    verifier reads it (an answer phrase after the last box wins, so a readable forced answer overrides the
    thinking's). ``info``: thinking_tokens, waits_used, forced, budget, thinking_ended ("length": the budget cut
the thinking, evaluate's thinking_cut_rate; "stop": it ended by itself), and only where the
    model's context capped a draw, capped (one {"call": "thinking" | "answer", "max_new_tokens": the cap} each:
    a stop string cut inside a token leaves its text re-encoded, which may take more ids than were counted).
    The outcome's finish_reason is its final decode's: the forced (or own) answer's where one was decoded, so
    "length" there is an answer cut at answer_tokens (evaluate's truncation_rate), not a thinking cut.

    ``think_end``: the end-of-thinking delimiter of a model that thinks in think tags. "auto" (default):
    "</think>" when the vocabulary has it as one token and the prompts use think tags (a rendered prompt
    opens "<think>", or chat prompts go through a template that mentions "</think>"), else None; None: no
    think tags (the behaviour above). With a delimiter, thinking stops at it; reached early with a wait
    left and budget for it, it is dropped and ``wait_text`` appended. Otherwise the thinking is closed
    with the delimiter (the model's own, or appended when the budget cut it) and the answer is decoded
    after it, up to ``answer_tokens``: with the cue (as above) only when forced (a budget cut, or
    force="always"), else the model's own answer. The final completion is thinking + think_end + answer
    (the answer extracted from the part after think_end); thinking_tokens counts the generated thinking
    (a "</think>" the model wrote included, as a suppressed EOS is) + inserted waits, not a delimiter
    appended at the cut. A thinking that ends with EOS without a delimiter is handled as without think tags.
    A delimiter written with a token the tokenizer marks special is refused: sampled text leaves it out.

    ``forced_answer``: what follows a forced close of the thinking. "cue" (default, s1's recipe): ``answer_cue``
    and a one-line answer, as above. "own" (think tags only; refused without): think_end + "\n\n"
    (``OWN_ANSWER_OPENING``), the format Qwen3 and the R1 distills write after "</think>", and then the model's
    own answer up to ``answer_tokens``, decoded as after a thinking the model closed itself (no cue, no one-line
    cut: their answer is a written solution with its box at the end). The final completion is then thinking +
    "</think>\n\n" + answer; info["forced"] is as with the cue. An ``answer_cue`` given with it is refused (unused).
    """
    _check_prompts(prompts)
    budget = _positive_int("budget forcing: budget", budget)
    if answer_tokens is not None:
        answer_tokens = _positive_int("budget forcing: answer_tokens", answer_tokens)
    waits = _nonnegative_int("budget forcing: waits", waits)
    if force not in ("auto", "always"):
        raise PonderError(f"budget forcing: force={force!r}, expected 'auto' or 'always'")
    opening = forced_opening(answer_cue, forced_answer)  # (a bad forced_answer named here)
    for name, text in (("wait_text", wait_text), ("answer_cue", answer_cue)):
        if not isinstance(text, str):
            raise PonderError(f"budget forcing: {name} must be a string, got {text!r}")
    # as the engine checks it: with think tags it is spread next to think_end first (an int was a bare TypeError,
    # a dict's keys stop strings, a bad element shown beside a "</think>" the caller never passed)
    if not (stop is None or isinstance(stop, str)
            or (isinstance(stop, (list, tuple)) and all(isinstance(x, str) for x in stop))):
        raise PonderError(f"budget forcing: stop must be a string or a list of strings, got {stop!r}")
    if not wait_text.strip():  # (a wait that writes no word: a greedy model ends its thinking again, budget spent)
        raise PonderError(f"budget forcing: wait_text must be text that keeps the model thinking, got {wait_text!r}")
    ends = think_ends(tok, prompts, think_end)
    from ponder.engine import check_index_offset, check_sampling

    # here, not only in the engine: greedy draws pass temperature 0 and no index_offset, so a bad one would go
    # unseen
    check_sampling(temperature=temperature, top_p=top_p, top_k=top_k, min_p=min_p)
    check_index_offset(index_offset)
    # (all first; problems named by their index in the whole list)
    check_budget_context(model, tok, prompts, budget, answer_cue, answer_tokens, think_end=think_end,
                         forced_answer=forced_answer, first=index_offset)
    if len(set(ends)) > 1:
        # prompts with and without think tags: each run of one delimiter is a call of its own at its own offset.
        # Every draw is keyed by the problem's index, so each gets what it gets alone (a "</think>" resolved from
        # any prompt of the call closed the cut thinking of a plain prompt in the same evaluation chunk).
        out = []
        for e, run in itertools.groupby(range(len(prompts)), key=ends.__getitem__):
            run = list(run)
            lo = run[0]
            out += budget_forcing(model, tok, prompts[lo:run[-1] + 1], budget=budget, waits=waits,
                                  wait_text=wait_text, answer_cue=answer_cue, answer_tokens=answer_tokens,
                                  force=force, temperature=temperature, top_p=top_p, top_k=top_k, min_p=min_p,
                                  stop=stop, seed=seed, index_offset=index_offset + lo, extract=extract,
                                  think_end=e, forced_answer=forced_answer)
        return out
    think_end = ends[0]
    extract = _fn("extract", extract, default_extract)
    P = len(prompts)
    from ponder.engine import render_prompts

    # Every draw continues the ids the model read and wrote: the prompt's own ids (as the engine encodes it),
    # the thinking's generated ids less the end a wait replaces, and only the forced strings (wait, think_end,
    # cue) encoded, as continuations of the text before them. Re-encoding the thinking's text could merge
    # differently at a seam, or spell a text the model wrote in other tokens in its own, conditioning the model
    # on tokens it never produced. (s1's published script re-encodes text: prompt += output.text + "Wait".)
    base, base_ids = [_render_text(tok, p) for p in prompts], render_prompts(tok, prompts)
    thinking = [""] * P
    think_ids: list[list[int]] = [[] for _ in range(P)]  # the ids of `thinking` after the prompt's
    used = [0] * P  # thinking tokens: generated + inserted
    gen = [0] * P  # model-generated tokens (the cost)
    lat = [0.0] * P
    waits_used = [0] * P
    ended = [""] * P  # "length" (budget cut it) or "stop"
    closed = [False] * P  # think tags: the model wrote think_end itself
    lp_sum, lp_n = [0.0] * P, [0] * P
    capped: list[list[dict]] = [[] for _ in range(P)]  # draws the context's room capped (info["capped"])
    answer_tokens, answer_reserve = _answer_allowance(answer_tokens, think_end)
    reserve = _cue_tokens(tok, opening, think_end) + answer_reserve  # check_budget_context's count
    # (one stop string, as the engine takes it, is one: spread into the list it was its characters)
    think_stop = stop if think_end is None else [*([stop] if isinstance(stop, str) else stop or []), think_end]
    live = list(range(P))
    seg = 0
    while live:
        # Group problems by remaining budget so one engine call has one max_new_tokens.
        # A draw is capped by the room its context leaves for itself and for the forced answer after it (a
        # thinking cut at a stop string inside a token re-encodes the cut token's text, which can take more ids
        # than the token did, so the context can outgrow the thinking tokens counted; where it has not, the
        # room is at least the budget left, as check_budget_context made sure).
        by_rem: dict[int, list[int]] = {}
        for i in live:
            take = min(budget - used[i], _room(model, base_ids[i] + think_ids[i]) - reserve)
            if take < budget - used[i]:
                capped[i].append({"call": "thinking", "max_new_tokens": take})
            by_rem.setdefault(take, []).append(i)
        still = []
        for rem, idx in sorted(by_rem.items()):
            ctx = {i: base_ids[i] + think_ids[i] for i in idx}
            got = _draw_some(model, tok, ctx, idx, temperature,
                             seed=derive_seed(seed, "think", seg), index_offset=index_offset,
                             max_new_tokens=rem, top_p=top_p, top_k=top_k, min_p=min_p, stop=think_stop)
            for i in idx:
                g, t = got[i]
                s = g[0]
                # the generated ids as they are, less an EOS / the tokens of a stop string s.text is cut before
                think_ids[i] += (s.token_ids if s.finish_reason == "length"
                                 else _written_ids(tok, ctx[i], s.token_ids, s.text, base[i] + thinking[i]))
                thinking[i] += s.text
                used[i] += s.num_tokens
                gen[i] += s.num_tokens
                lat[i] += t
                lp_sum[i] += sum(s.logprobs)
                lp_n[i] += len(s.logprobs)
                # the wait's tokens as they continue the thinking (encode(wait_text) alone starts with a
                # sentencepiece tokenizer's dummy-prefix token, Llama 2 / Mistral, the continued text has not)
                wait_ids = (tok.encode_continuation(base[i] + thinking[i], wait_text)
                            if s.finish_reason != "length" and waits_used[i] < waits else [])
                if s.finish_reason == "length":  # an end of thinking on the last allowed token is no cut
                    ended[i] = "length"
                elif waits_used[i] < waits and min(budget - used[i], _room(model, base_ids[i] + think_ids[i])
                                                   - reserve) - len(wait_ids) >= 1:
                    thinking[i] += wait_text  # suppress the end of thinking: the EOS / think_end is dropped
                    think_ids[i] += wait_ids
                    used[i] += len(wait_ids)
                    waits_used[i] += 1
                    still.append(i)
                else:
                    ended[i] = "stop"
                    closed[i] = think_end is not None and _stopped_at(tok, s, think_end)
        live = sorted(still)
        seg += 1
    answers = [extract(t) for t in thinking]
    # the forced answer is decoded after the text the final completion records: a box the cut left open is
    # dropped before the cue, not only from the record (the answer was conditioned on "\\boxed{5\nFinal Answer:")
    kept = [_drop_open_box(t) for t in thinking]
    force_idx = [i for i in range(P) if force == "always" or ended[i] == "length"
                 or (answers[i] is None and not closed[i])]
    # think tags: thinking the model closed itself is followed by its own answer, no cue (s1 cues only a cut)
    own_idx = [i for i in range(P) if closed[i] and i not in force_idx]
    head = ["" if think_end is None or (ended[i] == "stop" and not closed[i] and i not in force_idx)
            else think_end for i in range(P)]

    def context(i, forced_text):  # the ids of prompt + kept thinking, then forced_text encoded after them
        ids = think_ids[i] if kept[i] == thinking[i] else _written_ids(tok, base_ids[i], think_ids[i], kept[i],
                                                                       base[i])
        return base_ids[i] + ids + (tok.encode_continuation(base[i] + kept[i], forced_text) if forced_text else [])

    forced, own = {}, {}
    # forced_answer="own": a forced close is followed by the model's own answer too, after its opening
    cue_idx, free_idx = (force_idx, own_idx) if forced_answer == "cue" else ([], sorted(own_idx + force_idx))
    forced_set = set(force_idx)
    lead = [opening if i in forced_set else "" for i in range(P)]  # forced between think_end and the answer
    if cue_idx:
        forced = _forced_answers(model, tok, {i: context(i, head[i] + answer_cue) for i in cue_idx},
                                 cue_idx, temperature, seed=seed, index_offset=index_offset,
                                 answer_tokens=answer_tokens, top_p=top_p, top_k=top_k, min_p=min_p, capped=capped,
                                 stop=stop)
    if free_idx:
        ctx = {i: context(i, head[i] + lead[i]) for i in free_idx}
        by_rem = {}
        for i in free_idx:
            by_rem.setdefault(_answer_room(model, ctx[i], answer_tokens, index_offset + i, capped[i]), []).append(i)
        got = {}
        for rem, group in sorted(by_rem.items()):
            got |= _draw_some(model, tok, ctx, group, temperature,
                              seed=derive_seed(seed, "answer", "own"), index_offset=index_offset,
                              max_new_tokens=rem, top_p=top_p, top_k=top_k, min_p=min_p, stop=stop)
        own = {i: (got[i][0][0].text, got[i][0][0].finish_reason, got[i][0][0].token_ids, got[i][0][0].logprobs,
                   got[i][1]) for i in free_idx}
    out = []
    for i in range(P):
        text, answer, finish = thinking[i], answers[i], ended[i]
        if i in forced or i in own:
            a_text, finish, ids, lps, t = forced[i] if i in forced else own[i]
            gen[i] += len(ids)
            lat[i] += t
            lp_sum[i] += sum(lps)
            lp_n[i] += len(lps)
            cue = lead[i]  # (the cue, or forced_answer="own"'s opening: forced problems only)
            text = kept[i] + head[i] + cue + a_text
            # what a verifier of the final completion reads (a forced answer it cannot read falls back to the
            # thinking's own, as the extractor's priority rules say); think tags: the part after think_end, read
            # with it (an extractor for a prompt that opened the thinking, evaluate's extract_opened, read the part
            # alone as a thinking never closed: every answer None, while the reward judged the completion right)
            answer = extract(text if not head[i] else head[i] + cue + a_text)
        info = {"thinking_tokens": used[i], "waits_used": waits_used[i], "forced": i in forced_set,
                "budget": budget, "thinking_ended": ended[i]}
        if think_end is not None:
            info["think_end"] = think_end
        if capped[i]:  # (only where a cap applied: an outcome that fits reads as before)
            info["capped"] = capped[i]
        out.append(Outcome(text, answer, gen[i], lat[i], finish, lp_sum[i] / lp_n[i] if lp_n[i] else None, info))
    return out


def think_ends(tok, prompts, think_end="auto") -> list[str | None]:
    """budget_forcing's delimiter of each prompt: ``resolve_think_end`` of that prompt alone, so that what a
    problem's thinking stops at does not depend on the other prompts of its call."""
    return [resolve_think_end(tok, [p], think_end) for p in prompts]


def resolve_think_end(tok, prompts, think_end="auto") -> str | None:
    """budget_forcing's ``think_end``: "auto" -> "</think>" when the vocabulary has it as one token and the
    prompts use think tags (a rendered prompt contains "<think>", or chat prompts are rendered by a template
    that mentions "</think>": Qwen3, DeepSeek-R1 distills) and none closes it already (Qwen3's non-thinking
    mode renders "<think></think>"; a chat prompt is read from its generation prompt on), else None. Having the token is not enough: ponder's
    own tokenizers (the tiny model) carry it for the format verifier, yet their models never think in tags."""
    if think_end is None:
        return None
    if think_end != "auto":
        if not isinstance(think_end, str) or not think_end:
            raise PonderError(f"budget forcing: think_end must be a non-empty string, 'auto' or None, "
                              f"got {think_end!r}")
        return _visible_think_end(tok, think_end)
    if len(tok.encode("</think>", add_special_tokens=False)) != 1:
        return None
    end = _resolve_auto_think_end(tok, prompts)
    return None if end is None else _visible_think_end(tok, end)


def _visible_think_end(tok, think_end: str) -> str:
    """`think_end`, refused where the tokenizer marks a token of it special: sampled text is decoded without special
    tokens (as transformers' skip_special_tokens=True), so the delimiter never shows in it, no stop string finds it,
    and the thinking ran on through the model's answer to the budget, then was closed again (a thinking_tokens
    counting the answer; a prompt that opened "<think>" had every answer read as inside the thinking: none)."""
    ids = tok.encode(think_end, add_special_tokens=False)
    special = [i for i in ids if i in tok.skipped_token_ids]
    if special:
        raise PonderError(f"budget forcing: think_end {think_end!r} is written with special token id(s) "
                          f"{special} of this tokenizer, which sampled text leaves out: the end of the thinking "
                          "cannot be seen (mark it \"special\": false in tokenizer.json's added_tokens, as Qwen3's "
                          "and DeepSeek-R1's are; from Python, think_end=None budgets it as plain text)")
    return think_end


def _resolve_auto_think_end(tok, prompts) -> str | None:
    """resolve_think_end's "auto" for a tokenizer with "</think>" as one token."""
    template = getattr(tok, "chat_template", None) or ""
    for p in prompts:
        text = _render_text(tok, p)
        if not isinstance(p, str):
            # a chat prompt is read where its generation prompt starts: an earlier turn's closed thinking (Qwen3
            # renders it after a tool call) does not close the thinking of the turn the model writes
            try:
                full, hist = (tok.apply_chat_template(list(p), add_generation_prompt=True),
                              tok.apply_chat_template(list(p), add_generation_prompt=False))
            except PonderError:  # (a template that renders no prompt without the generation prompt: as before)
                full = hist = ""
            text = full[len(hist):] if full.startswith(hist) and len(full) > len(hist) else text  # (else: as before)
        if text.rfind("</think>") > text.rfind("<think>"):
            continue  # the prompt closes its thinking itself (Qwen3 with enable_thinking=False): no thinking
        if "<think>" in text or (not isinstance(p, str) and "</think>" in template):
            return "</think>"
    return None


def _stopped_at(tok, s, delim: str) -> bool:
    """Whether sample s stopped at the stop string `delim` (its text is cut before the stop string; the
    tokens that wrote it are kept), not at EOS or another stop string. The ids are read as they follow the
    prompt, as s.text was: decode() alone drops a sentencepiece tokenizer's leading space (Llama 2, Mistral),
    and " z" is then no prefix of "z</think>"."""
    full = tok.decode_continuation(s.prompt_ids, s.token_ids)
    return s.finish_reason == "stop" and full.startswith(s.text) and full[len(s.text):].startswith(delim)


def _forced_answers(model, tok, contexts, idx, temperature, *, seed, index_offset, answer_tokens,
                    top_p, top_k=0, min_p=0.0, capped=None, stop=None) -> dict:
    """The forced answer after the ids contexts[i] (prompt + thinking + cue): up to answer_tokens, ending at the
    first newline after non-blank text, or at a stop string of the caller's (``stop``, as budget_forcing's other
    draws end: run past, "Final Answer: 8 Q: 9" was read as the answer "8 Q: 9"). A plain stop=["\\n"] gave an
    empty answer to a model that writes it on the line after the cue ("Final Answer:\\n5"), so leading blank
    lines are decoded through and the line after them read.
    {index: (text, finish_reason, token_ids, logprobs, latency)}."""
    res = {i: ["", "stop", [], [], 0.0] for i in idx}
    rounds = dict.fromkeys(idx, 0)

    def blank_line(s):  # (text written, whether s is a blank line to read on after): s stopped at a newline
        written = tok.decode_continuation(s.prompt_ids, s.token_ids)  # (decode() drops a leading space)
        lead = len(written) - len(written.lstrip())
        line = written[lead:].split("\n")[0]
        return written[:lead] + line, not line

    def at_callers_stop(s):  # s stopped at a stop string of the caller's, not at the newline (nor at EOS)
        if s.finish_reason != "stop" or not s.token_ids or s.token_ids[-1] in tok.stop_token_ids:
            return False
        written = tok.decode_continuation(s.prompt_ids, s.token_ids)
        return written.startswith(s.text) and not written[len(s.text):].startswith("\n")

    callers = [*([stop] if isinstance(stop, str) else stop or [])]
    # a stop string of blank text alone ("\n", "\n\n") found in the blank lines is one of them, read through as
    # without it (the answer's own "\n" reads them, and a single "\n\n" token was read through): counted, a
    # caller's stop="\n" gave "Final Answer:\n8" an empty answer
    spanning = [x for x in callers if x.strip()]

    def spanning_stop(i, s):
        # where a stop string of the caller's starts in the blank lines read through so far (res[i]'s text), ending
        # in s's: the engine looks for stop strings within one sample, and "\n" ends each sample first, so "\nQ:"
        # after the cue was never seen whole ("Final Answer:\nQ: 9" recorded the next question as the answer).
        # None: none does (one starting in s's own text the engine found itself)
        prev = res[i][0]
        full = prev + tok.decode_continuation(s.prompt_ids, s.token_ids)
        return min((k for k in (full.find(x) for x in spanning) if 0 <= k < len(prev)), default=None)

    def on_stop(i, s):
        # only blank text before a newline: keep the newline the model wrote and read on (the newline token may
        # carry text after it: then that text up to its own line end is the answer, and the sample ends here). The
        # engine goes on from its cache: a new call per blank line re-read the whole context (512 calls, after a
        # "</think>", for a model that writes blank lines), on the stream that call would have drawn from
        if s.text.strip() or at_callers_stop(s) or spanning_stop(i, s) is not None:  # (the answer is over)
            return None
        text, blank = blank_line(s)
        if not blank:
            return None
        r = res[i]
        r[0], r[2], r[3] = r[0] + text, r[2] + s.token_ids, r[3] + s.logprobs
        rounds[i] += 1
        # (the engine goes on within the one call's allowance, capped below where the room is less and noted there
        # once: a cap noted again per blank line listed one capped draw as many)
        return derive_seed(seed, "answer", rounds[i])

    stops = ["\n", *callers]
    by_rem: dict[int, list[int]] = {}
    for i in idx:
        by_rem.setdefault(_answer_room(model, contexts[i], answer_tokens, index_offset + i,
                                       None if capped is None else capped[i]), []).append(i)
    got = {}
    for rem, group in sorted(by_rem.items()):
        got |= _draw_some(model, tok, contexts, group, temperature, seed=derive_seed(seed, "answer"),
                          index_offset=index_offset, max_new_tokens=rem, top_p=top_p, top_k=top_k, min_p=min_p,
                          stop=stops, on_stop=on_stop)
    for i in idx:
        (s,), t = got[i]
        r = res[i]
        r[2], r[3], r[4], r[1] = r[2] + s.token_ids, r[3] + s.logprobs, r[4] + t, s.finish_reason
        cut = spanning_stop(i, s)
        if cut is not None:  # the answer ended at the caller's stop string, begun in the blank lines read through
            r[0], r[1] = r[0][:cut], "stop"
            continue
        # ended by EOS: the model's answer is over (decoding on after it, blank as its text is, re-asked
        # a model that had stopped, answer_tokens times over at temperature 0)
        if (s.text.strip() or s.finish_reason != "stop" or not s.token_ids or s.token_ids[-1] in tok.stop_token_ids
                or at_callers_stop(s)):
            r[0] += s.text
            continue
        text, blank = blank_line(s)
        r[0] += text
        if blank:  # blank lines to the allowance (or the context's end): the answer was cut, not ended
            r[1] = "length"
    return {i: tuple(r) for i, r in res.items()}


# a box as the math verifier reads one: \boxed or \fbox (not \boxedfoo), its "{" after optional whitespace, an
# escaped brace no brace
_BOX_CMD_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_BRACE_RE = re.compile(r"\\[{}]|[{}]")
_BLANK_RE = re.compile(r"[ \t\n]*")


def _drop_open_box(thinking: str) -> str:
    """Thinking cut off inside its last box (\\boxed{...} or \\fbox{...}, as the verifier reads them): drop that open
    box, which would otherwise swallow the forced answer after it (a verifier reads an unbalanced last box as no
    answer). A cut right after "\\boxed", before its "{" (a token of its own in byte-level BPE), is dropped too: the
    verifier read the cue's "Final" as the box's argument. The first box left open is dropped with all after it: a
    cut inside an outer box that holds closed ones ("\\boxed{1 is \\boxed{3}. Wait") kept it open when only the
    last box was checked, and the forced answer's "}" closed it (the thinking and cue read as the answer)."""
    for box in _BOX_CMD_RE.finditer(thinking):
        start = _BLANK_RE.match(thinking, box.end()).end()  # (a slice per box copied the rest of a long thinking)
        if start < len(thinking) and thinking[start] != "{":
            continue  # "\\boxed 5": a one-token argument, complete
        depth = 0
        for m in _BRACE_RE.finditer(thinking, start):
            depth += {"{": 1, "}": -1}.get(m.group(), 0)
            if depth == 0:
                break  # closed
        else:
            return thinking[:box.start()]  # open to the end: the cut is inside it
    return thinking


# ---- reasoning effort -----------------------------------------------------------------------------------

# Budgets are in generated tokens. The tiny model's worked solutions take ~20-80 tokens, so "low" mostly
# forces an answer after a partial solution, "medium" lets most solutions finish and "high" also lets the
# model continue once ("Wait") after it would have stopped. High stays at 256 so prompt + thinking + the
# forced answer fit a 512-position model.
EFFORT_LEVELS: dict[str, dict] = {
    "low": {"budget": 32, "waits": 0,
            "system": "Reasoning effort: low. Answer directly with little or no working."},
    "medium": {"budget": 128, "waits": 0,
               "system": "Reasoning effort: medium. Work through the problem step by step, briefly."},
    "high": {"budget": 256, "waits": 1,
             "system": "Reasoning effort: high. Think carefully step by step and check your work "
                       "before the final answer."},
}


def effort_settings(level: str, levels: dict | None = None) -> dict:
    """The {"budget", "waits", "system"} of an effort level."""
    levels = EFFORT_LEVELS if levels is None else levels
    if not isinstance(levels, dict):  # ("in" tested a string's letters, then indexed them: a bare TypeError)
        raise PonderError(f"reasoning effort: levels must be a dict of levels, got {levels!r}")
    try:
        known = level in levels
    except TypeError:  # (an unhashable level, a list from a settings file: a bare TypeError)
        known = False
    if not known:
        raise PonderError(f"unknown reasoning effort {level!r} (known: {', '.join(map(str, levels))})")
    if not isinstance(levels[level], dict) or "budget" not in levels[level]:
        raise PonderError(f"reasoning effort {level!r}: expected a dict with a 'budget', got {levels[level]!r}")
    # the level's settings as the level's: budget forcing would name them as its own options
    _positive_int(f"reasoning effort {level!r}: budget", levels[level]["budget"])
    _nonnegative_int(f"reasoning effort {level!r}: waits", levels[level].get("waits", 0))
    if not isinstance(levels[level].get("system") or "", str):  # (a bare TypeError where a chat prompt has a
        # system message to add it to; dropped without a word for plain-text prompts)
        raise PonderError(f"reasoning effort {level!r}: system must be a string, got {levels[level]['system']!r}")
    return levels[level]


def with_system_line(prompt, line: str):
    """Chat prompts: the line goes into the system message (added first if there is none). Plain-text
    prompts are returned unchanged: a base model has no system role to put it in."""
    if isinstance(prompt, str) or not line:
        return prompt
    from ponder.tokenizer import check_messages

    check_messages(prompt)  # (a content of None failed here as "'NoneType' object has no attribute 'rstrip'")
    msgs = [dict(m) for m in prompt]
    if msgs and msgs[0].get("role") == "system":
        msgs[0]["content"] = (msgs[0]["content"].rstrip() + "\n" + line).strip()
    else:
        msgs.insert(0, {"role": "system", "content": line})
    return msgs


def effort(model, tok, prompts, *, level: str = "medium", levels: dict | None = None, **kw) -> list[Outcome]:
    """Reasoning effort: the level's system line (chat prompts only) + budget forcing with its budget and
    waits (``EFFORT_LEVELS``; override with ``levels=``). Other keywords go to ``budget_forcing``."""
    _check_prompts(prompts)
    cfg = effort_settings(level, levels)
    for k in ("budget", "waits"):
        if k in kw:
            raise PonderError(f"effort: {k} is set by the effort level; pass levels= to change it")
    out = budget_forcing(model, tok, [with_system_line(p, cfg.get("system", "")) for p in prompts],
                         budget=cfg["budget"], waits=cfg.get("waits", 0), **kw)
    for o in out:
        o.info["effort"] = level
    return out


# ---- the method table used by evaluate and sweep ---------------------------------------------------------

METHODS: dict[str, Callable] = {
    "greedy": greedy,
    "sampling": sampling,
    "self_consistency": self_consistency,
    "best_of_n": best_of_n,
    "self_refine": self_refine,
    "budget_forcing": budget_forcing,
    "effort": effort,
}
