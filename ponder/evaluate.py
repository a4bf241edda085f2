"""Evaluation runner and test-time scaling sweeps.

``evaluate(model, tok, items, method=..., n=..., ks=...)`` runs one test-time method (``ponder.scale``) n
times per problem, judges every final completion with a reward (default: the math verifier), and reports
with 95% intervals over problems (``ponder.metrics.summarize``: Wilson where each problem is right or wrong,
else an expanded percentile bootstrap): pass@1 (mean over the n runs), unbiased pass@k and maj@k (the expected
k-sample vote, averaged over k-subsets of the n) for each k <= n (wmaj@k when log-probs exist), mean generated tokens, latency,
truncation rate (the final completion cut at its token limit: for budget forcing and effort the forced answer
cut at answer_tokens; how often the budget cut the thinking is their thinking_cut_rate) and no-answer rate (the votes and no-answer rate only where the reward judges a final answer, or an
``extract`` is given: ``ANSWER_VERIFIERS``), and the accuracies per task, subject, level or n_ops where items differ in
them (``breakdown``). With ``out_dir`` it writes ``samples.jsonl`` (one record per run:
completion, extracted answer, verdict, and ``think_open``: true, false or "closed", the prompt as fed to the model
opened the thinking or ended with a closed think block, as ``ponder verify`` reads it; and the item's
countdown ``numbers``/``target`` or ``constraints``, so ``ponder verify countdown|constraints`` re-scores it; not a code
item's ``tests``, too large to repeat per sample), ``config.json`` and, last, ``summary.json`` — each atomically —
so ``ponder report DIR`` renders it and a directory with a summary.json is a finished evaluation. While it
runs, each chunk of problems drawn is kept in ``PROGRESS`` there, which ``resume=True`` (``ponder eval --resume``)
continues from after an interruption, to the same files.

``sweep(models, items, ...)`` draws test-time scaling curves: accuracy vs mean generated tokens and vs
latency, parallel methods over N samples and sequential ones over a thinking budget B, one curve per
(model, method). Parallel methods draw the largest N once and use the first N samples for every smaller
N: sampling is counter-based, so the first N of a larger draw are N independent samples from the same
seed (and, where the engine keys streams by sample index alone, exactly what a separate draw of N gives).
Latency for a sub-sampled N is the measured wall time of the full draw, split per problem by tokens
(``ponder.scale`` docstring) and scaled by the share of tokens the first N samples generated (by their
share of samples where every sample was empty): decoding cost is proportional to tokens, so this is what
drawing N alone in the same batch would have cost.
Sequential methods are run and timed once per budget. With ``out_dir`` every chunk drawn is kept as it goes
(``SWEEP_PROGRESS``) and each method's samples are saved to samples_PART.jsonl; ``resume=True`` (``ponder eval
--sweep --resume``) continues an interrupted sweep to the curves an uninterrupted one draws.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ponder import scale
from ponder.errors import PonderError
from ponder.fileio import atomic_write_text, json_safe, locks_run, release_run_lock, take_run_lock

# Methods by CLI name (aliases on the right map to the same function).
METHOD_ALIASES = {"sc": "self_consistency", "majority": "self_consistency", "bon": "best_of_n",
                  "best-of-n": "best_of_n", "refine": "self_refine", "self-refine": "self_refine",
                  "budget": "budget_forcing", "budget-forcing": "budget_forcing",
                  "self-consistency": "self_consistency"}
# Default temperature per method: the ones that choose among samples need diversity; refinement and
# budget forcing decode greedily (as s1 does).
DEFAULT_TEMPERATURE = {"greedy": 0.0, "sampling": 1.0, "self_consistency": 0.8, "best_of_n": 0.8,
                       "self_refine": 0.0, "budget_forcing": 0.0, "effort": 0.0}


# ---- small utilities --------------------------------------------------------------------------------------


def _jsonable(x):
    """Config values as JSON: callables by name, everything else via str if json cannot take it."""
    if callable(x):
        return getattr(x, "__name__", type(x).__name__)
    if isinstance(x, np.generic):  # a numpy number from a grid of settings: the number, not its text
        return _jsonable(x.item())
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)


def _strict_json(x) -> str:
    """Indented JSON with non-finite floats as null (``fileio.json_safe``): strict readers reject NaN."""
    return json.dumps(json_safe(x), indent=2, allow_nan=False)


def resolve_method(method: str) -> str:
    if not isinstance(method, str):  # (a list, as sweep's methods are, was a bare "unhashable type" TypeError)
        raise PonderError(f"method must be one method's name, got {type(method).__name__} {method!r:.60} (known: "
                          f"{', '.join(scale.METHODS)}; curves over several: sweep)")
    name = METHOD_ALIASES.get(method, method)
    if name not in scale.METHODS:
        raise PonderError(f"unknown method {method!r} (known: {', '.join(scale.METHODS)})")
    return name


def method_options(method: str) -> set[str]:
    """The keyword options a test-time method takes in ``method_kwargs`` (effort: budget forcing's too, less
    the budget and waits its level sets)."""
    name = resolve_method(method)
    opts = set(inspect.signature(scale.METHODS[name]).parameters)
    if name == "effort":
        opts |= set(inspect.signature(scale.budget_forcing).parameters) - {"budget", "waits"}
    return opts


def make_reward(reward, judge=None) -> Callable:
    """A reward spec ("math", "math+0.1*format", a dict) or a callable(completion, item) -> judge fn."""
    if callable(reward):
        return reward
    from ponder.verify.registry import get_reward

    return get_reward(reward, judge=judge)


def _judge_one(reward_fn, completion: str, item: dict) -> tuple[bool, float, dict]:
    """(correct, reward, verdict dict) from a RewardResult, a Verdict, a bool or a number."""
    r = reward_fn(completion, item)
    if hasattr(r, "parts") and hasattr(r, "correct"):  # RewardResult: primary verdict shown
        parts = r.parts or {}
        verdict = dict(next(iter(parts.values()))) if parts else {}
        verdict.setdefault("correct", bool(r.correct))
        return bool(r.correct), float(r.reward), verdict
    if hasattr(r, "correct"):  # Verdict
        d = r.to_dict() if hasattr(r, "to_dict") else {"correct": bool(r.correct)}
        return bool(r.correct), float(getattr(r, "value", float(r.correct))), d
    if isinstance(r, (bool, np.bool_)):
        return bool(r), float(r), {"correct": bool(r)}
    if isinstance(r, (int, float, np.integer, np.floating)):
        # A number is a 0/1 label: bool() would count any other (a -1 penalty, a partial 0.3, NaN) as correct.
        if r not in (0, 1):
            raise PonderError(f"reward returned {r!r}: a number must be 1 (correct) or 0 (wrong); return a "
                              "Verdict (correct, score) or a RewardResult for a graded reward")
        return bool(r), float(r), {"correct": bool(r)}
    raise PonderError(f"reward returned {type(r).__name__}; expected a RewardResult, a Verdict or a bool")


def _item_names(items) -> list[str]:
    """How errors name an item: by its id (a file's own, or FILE-LINE from load_dataset)."""
    return [f"item {it.get('id', i)}" for i, it in enumerate(items)]


def _check_reward_fields(reward_fn, items) -> None:
    """The fields the reward's verifiers read from each item, checked without verifying anything (as grpo and distill
    check them): a bad one was refused only when judging, once every sample had been drawn."""
    from ponder.verify.registry import Reward

    if not isinstance(reward_fn, Reward):  # (a callable reads what it reads)
        return
    for where, it in zip(_item_names(items), items):
        try:
            reward_fn.check(it)
        except PonderError as e:
            raise PonderError(f"{where}: {e}") from None


def _check_items(items, reward="math") -> list[dict]:
    from ponder.tasks.data import reward_reads_answer

    if items is None or isinstance(items, (str, dict)):
        raise PonderError("items must be a list of task items (dicts with 'prompt' and 'answer')")
    items = list(items)
    if not items:
        raise PonderError("empty benchmark: no items to evaluate")
    for i, it in enumerate(items):
        if not isinstance(it, dict):
            raise PonderError(f"item {i}: expected a dict, got {type(it).__name__}")
        # (only the math verifier reads a gold answer: code, countdown and constraints items need none)
        for f in ("prompt", "answer") if reward_reads_answer(reward) else ("prompt",):
            if it.get(f) is None:
                raise PonderError(f"item {i} ({it.get('id', 'no id')}): missing field {f!r}")
    # samples.jsonl names each problem by its id (an item without one by its position, as the records do): an
    # item listed twice counted twice in every mean, and two problems under one id could not be joined back to
    # their items (load_dataset refuses a file's duplicates; a list built in Python came through)
    first: dict[str, int] = {}
    for i, it in enumerate(items):
        key = str(i if it.get("id") is None else it["id"])
        if key in first:
            raise PonderError(f"item {i}: id {key!r} is already the id of item {first[key]}; ids must be unique")
        first[key] = i
    return items


def _probe_result(d: Path) -> str | None:
    """The name of a probe's result file in ``d`` that a probe wrote (contamination.json, diversity.json), else
    None."""
    from ponder.probes import PROBE_FILES, _probe_wrote

    return next((files[0] for probe, files in PROBE_FILES.items() if _probe_wrote(d / files[0], probe)), None)


def check_out_dir(out_dir, kind: str) -> Path | None:
    """The directory an evaluation (``kind`` "eval") or a sweep ("sweep") writes its config.json and
    summary.json into, checked before any work: refused when it is a file or when its config.json belongs to
    something else (a training run, which could no longer be resumed; a checkpoint, which could no longer be
    loaded; another kind of result). A directory of the same kind is a re-run and is overwritten."""
    if out_dir is None:
        return None
    d = Path(out_dir)
    if not os.fspath(out_dir):
        raise PonderError("--out: empty path")
    if os.fspath(out_dir) == "-":  # (elsewhere "-" is standard output: a directory named "-" is a surprise)
        raise PonderError("--out -: a result directory cannot be standard output; name a directory (--json prints "
                          "the summary to standard output)")
    if d.exists() and not d.is_dir():
        raise PonderError(f"--out {d}: is a file, not a directory")
    if kind != "eval" and (d / PROGRESS).is_file():  # (its config.json there made that evaluation's --resume
        # refuse the directory as a sweep's: the problems it kept were lost)
        raise PonderError(f"--out {d}: holds an interrupted evaluation ({d / PROGRESS}), which this {kind} would "
                          "leave unresumable; choose another --out")
    if kind != "sweep" and (d / SWEEP_PROGRESS).is_file():
        raise PonderError(f"--out {d}: holds an interrupted sweep ({d / SWEEP_PROGRESS}), which this {kind} would "
                          "leave unresumable; choose another --out")
    cfg = d / "config.json"
    if cfg.exists():
        try:
            saved = json.loads(cfg.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = None
        other = saved.get("kind") if isinstance(saved, dict) else None
        if other != kind:
            from ponder.train import kind_phrase

            what = (kind_phrase(saved) if isinstance(other, str) else
                    "a model checkpoint" if isinstance(saved, dict) and "model_type" in saved else
                    "a config.json of something else")
            raise PonderError(f"--out {d}: holds {what}, whose config.json this {kind} would replace; "
                              "choose another --out")
    elif (d / "summary.json").exists():  # an eval or sweep writes its config.json before its summary.json
        # (a demo's directory holds a summary.json and no config.json: it was replaced, the demo's figures lost)
        raise PonderError(f"--out {d}: holds a summary.json that no {kind} wrote (no config.json beside it: a "
                          f"demo's?), which this {kind} would replace; choose another --out")
    elif probe := _probe_result(d):  # (the probe refuses an eval's directory; an eval took a probe's: its
        # config.json then headed `ponder report`'s page of the probe results, as their configuration)
        raise PonderError(f"--out {d}: holds probe results ({probe}), beside which this {kind}'s config.json would "
                          "be read as theirs (`ponder report` shows it as their configuration); choose another --out")
    elif not (d / PROGRESS).exists():  # (an evaluation killed between its samples.jsonl and config.json has one)
        # a file of the user's own under a name this writes, with no config.json of a result beside it: replaced
        # silently (`--data DIR/samples.jsonl --out DIR` wrote the evaluation's samples over its own dataset)
        own = next((f for f in OUTPUT_FILES[kind] if (d / f).exists()), None)
        if own is not None:
            raise PonderError(f"--out {d}: holds a {own} that no {kind} wrote (no config.json beside it), which this "
                              f"{kind} would replace; choose another --out")
    from ponder.fileio import cannot_create_in

    for a in (d, *d.parents):  # the nearest folder that exists must take files: said now, not after the work
        if os.path.lexists(a):
            if not a.is_dir():
                raise PonderError(f"--out {d}: {a} is not a directory")
            e = cannot_create_in(a)
            if e is not None:
                raise PonderError(f"--out {d}: cannot write into {a} ({e.strerror or e})")
            break
    return d


def answer_fns(reward_fn, extract, equal) -> tuple[Callable, Callable]:
    """The answer extractor and the equivalence votes group answers with, where not given: the countdown
    verifier's own when it is the reward's primary one (an answer is an expression; the math ones grouped the
    bare target with valid expressions of that value, and a vote then scored its earliest member), else the math
    verifier's."""
    if getattr(reward_fn, "primary", None) == "countdown":
        from ponder.verify.countdown import extract_expression, same_answer

        return extract or extract_expression, equal or same_answer
    return extract or scale.default_extract(), equal or scale.default_equal()


# Verifiers whose verdict is on a final answer that votes can group: math's value, countdown's expression. The
# others (code: a program run against tests; constraints; format; a judge) have none, and the math extractor's pick
# from a program or an essay is noise: maj@k over it came out near 0 next to a positive pass@1 ("voting hurts").
ANSWER_VERIFIERS = ("math", "countdown")


def unvoted_reward(reward_fn, extract, equal) -> str | None:
    """The primary verifier of a reward with no final answer to vote on (see ``ANSWER_VERIFIERS``), unless the
    caller gives its own ``extract`` or ``equal``; None where votes mean something (a callable reward, whose
    answers are the caller's business, included)."""
    primary = getattr(reward_fn, "primary", None)
    if extract is not None or equal is not None or primary is None or primary in ANSWER_VERIFIERS:
        return None
    return primary


def _refuse_vote(what: str, reward, primary: str) -> None:
    raise PonderError(f"{what} votes on final answers, and reward {_jsonable(reward)!r} (primary verifier "
                      f"{primary!r}) has none to vote on; pass an answer extractor to vote anyway (in Python: "
                      "extract=..., a function completion -> answer), or use another method")


def _check_flag(name: str, v) -> None:
    """A yes/no option: True or False (by truthiness, "no" or "false", a settings file's text, meant yes)."""
    if not isinstance(v, (bool, np.bool_)):
        raise PonderError(f"{name} must be True or False, got {v!r}")


def _check_ks(ks, n: int) -> list[int]:
    if isinstance(ks, str):  # "1,4,16", as the CLI's --k takes it
        try:
            ks = [int(x) for x in ks.split(",") if x.strip()]
        except ValueError:
            raise PonderError(f"ks {ks!r}: expected comma-separated integers, e.g. 1,4,16") from None
    if isinstance(ks, (int, np.integer)) and not isinstance(ks, bool):
        ks = [ks]
    try:
        ks = list(ks)
    except TypeError:
        raise PonderError(f"ks (--k) must be a list of positive integers, got {ks!r}") from None
    if not ks:
        raise PonderError("ks (--k) is empty: give at least one k, e.g. 1,4,16")
    out = []
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise PonderError(f"k={k!r} must be a positive integer")
        if k > n:
            raise PonderError(f"k={k} > n={n}: pass@k and maj@k need at least k samples per problem (raise --n)")
        out.append(int(k))
    return sorted(set(out) | {1})


# method option -> its CLI flag, for messages
_COUNT_OPTIONS = {"self_consistency": ("n_votes", "--votes"), "best_of_n": ("n_candidates", "--candidates")}


def _check_sampling(*, temperature, top_p, top_k, min_p, max_new_tokens, seed) -> None:
    """Sampling settings checked before anything is loaded, drawn or shown (the engine checks them again)."""
    from ponder.engine import check_sampling

    check_sampling(max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k, min_p=min_p,
                   seed=seed)
    if seed is None:  # (the engine's "no seed"; here every draw and interval is keyed by it)
        raise PonderError("seed must be an integer in [0, 2**63), got None")


def _prompt_of(item: dict, chat: bool, system: str | None):
    """What the methods are given: a text prompt as it is, or with `chat` as a user message (after `system`);
    a prompt of chat messages as it is, `chat` or not (a message list has no other meaning)."""
    p = item["prompt"]
    # (an empty system is one, as `ponder generate --system ""` sends it: a template renders an empty system turn
    # differently from none, Qwen's putting its default system prompt where there is none)
    if system is not None and not isinstance(system, str):  # (a list of messages, or a number, went into content)
        raise PonderError(f"system must be text (the system message), got {type(system).__name__} {system!r:.60}")
    if system is not None and not isinstance(p, str):  # added on top, it would be a second system message, or silently lost
        raise PonderError(f"item {item.get('id', '(no id)')}: the prompt is a list of chat messages, which "
                          "`system` would be added on top of; put the system message in the prompt, or drop system")
    if system is not None and not chat:  # (a text prompt is used as it is: the system prompt was silently dropped)
        raise PonderError("system is the system message of chat prompts: set chat=True (--chat), or drop system")
    if not chat or not isinstance(p, str):
        return p
    msgs = [{"role": "system", "content": system}] if system is not None else []
    return msgs + [{"role": "user", "content": p}]


def _scorer_for(spec, *, model, tok, items, prompts, judge, what: str):
    """best-of-N / self-refine scorer: 'logprob' (best-of-N only) | 'likelihood' | 'judge' | a reward spec | a callable."""
    if spec == "logprob" and what == "self-refine":  # (self_refine refused it after the progress bar, as "use
        # 'likelihood' or a callable", which the CLI cannot pass)
        raise PonderError("self-refine: scorer 'logprob' does not compare a revision with its draft (their sampling "
                          "log-probs are read after other contexts); use likelihood (the default), judge or a reward "
                          "spec")
    if callable(spec) or spec in ("logprob", "likelihood"):
        return spec
    if spec == "judge":
        if judge is None:
            raise PonderError(f"{what} with scorer 'judge' needs a judge (judge=make_judge(...); CLI: --judge-model)")
        if all(isinstance(p, str) for p in prompts):
            return judge
        # Chat prompts (chat=True or message-list items): a judge reads the problem as text, so it is given
        # the item's own text prompt, or for message-list items the last user message.
        from ponder.verify.judge import prompt_text

        by_prompt = {scale._prompt_key(p): prompt_text(it["prompt"]) for p, it in zip(prompts, items)}
        return lambda prompt, completion: judge(by_prompt.get(scale._prompt_key(prompt), prompt_text(prompt)),
                                                completion)
    if isinstance(spec, (str, dict)):  # a reward spec, e.g. "format" (a user reward function by name)
        try:
            reward_fn = make_reward(spec, judge)
        except PonderError as e:  # a typo of 'logprob' must not be answered with the verifiers' names alone
            raise PonderError(f"{what}: unknown scorer {spec!r}: neither logprob, likelihood, judge nor a reward "
                              f"spec ({e})") from None
        from ponder.engine import prompts_think_state

        # a template that prefills "<think>" (or a closed think block): see the format reward
        return scale.reward_scorer(reward_fn, items, prompts, prompts_think_state(tok, prompts))
    raise PonderError(f"{what}: unknown scorer {spec!r} (use logprob, likelihood, judge, a reward name or a callable)")


def oracle_note(method: str, spec) -> str | None:
    """The note saying a best-of-N or self-refine scorer reads the gold answer (a math term) or the tests (a code
    term) of each problem, by the sign of its weight: positive, the method then picks a right candidate wherever it
    drew one, an oracle bound (near pass@N); negative ("format-0.1*math"), it scores right candidates down;
    either way not a method that could run without the answers. None for any other scorer (a callable: unknown)."""
    if method not in ("best_of_n", "self_refine") or not isinstance(spec, (str, dict)):
        return None
    from ponder.verify.registry import _parse

    try:
        terms = _parse(spec) if isinstance(spec, str) else list(spec.items())
    except PonderError:
        return None
    reads = [(n, w) for n, w in terms if n in ("math", "code")]
    if not reads:
        return None
    signs = set()
    for _, w in reads:
        try:
            signs.add(float(w) > 0 if float(w) != 0 else None)
        except (TypeError, ValueError):  # (a weight that is no number: get_reward refuses it)
            return None
    signs.discard(None)  # (a zero weight reads nothing that counts)
    if not signs:
        return None
    names = [n for n, _ in reads]
    head = (f"scorer {spec if isinstance(spec, str) else '+'.join(n for n, _ in terms)} reads each problem's "
            f"{'gold answer' if 'math' in names else 'tests'}: {method} then ")
    if signs == {True}:
        pick = "picks a right candidate wherever it drew one, an oracle bound (near pass@N)"
    elif signs == {False}:
        pick = ("scores a right candidate down (a negative weight on what reads the answers), steering away from "
                "right ones, so its accuracy is skewed by the answers")
    else:
        pick = "weighs right candidates up and down (weights of both signs on what reads the answers)"
    return f"{head}{pick}, not a method that could run without the answers"


def _call_method(fn: Callable, kwargs: dict):
    """Call a method with the keywords it accepts (common settings are offered to every method)."""
    params = inspect.signature(fn).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        params = {**params, **inspect.signature(scale.budget_forcing).parameters}
    return {k: v for k, v in kwargs.items() if k in params}


def draw_chunk(fn: Callable, model, tok, part: list, *, sampling: bool, n: int, seed: int, offset: int,
               kwargs: dict) -> list[list]:
    """The outcomes of one chunk of prompts, `offset` the global index of its first: per prompt, its n samples
    (`sampling`, one call), or one outcome from each of n runs of the method (run r seeded with derive_seed). Every
    draw is keyed by global indices, so chunks (and the Ray shards, which draw through this too) equal one call.

    A prompt rendered to end with "<think>" has completions inside the thinking: the method's answer extractor
    (votes, the outcome's answer) reads them with that tag, as the rewards do (verify.registry), so a completion
    cut off while still thinking has no answer to vote with. (Its vote counted the answer drafted in the thinking,
    which the reward scored as no answer.)"""
    if kwargs.get("extract") is not None and tok is not None:
        from ponder.engine import prompts_open_think

        opens = prompts_open_think(tok, part)
        if any(opens) and not all(opens):  # each run of prompts alike on its own, at its global offset
            out, i = [], 0
            while i < len(part):
                j = i
                while j < len(part) and opens[j] == opens[i]:
                    j += 1
                out += draw_chunk(fn, model, tok, part[i:j], sampling=sampling, n=n, seed=seed, offset=offset + i,
                                  kwargs=kwargs)
                i = j
            return out
        if opens and opens[0]:
            kwargs = {**kwargs, "extract": functools.partial(extract_opened, kwargs["extract"])}
    if sampling:
        return fn(model, tok, part, **_call_method(fn, {**kwargs, "n": n, "seed": seed, "index_offset": offset}))
    runs = []
    for r in range(n):
        s_r = seed if r == 0 else scale.derive_seed(seed, "run", r)
        runs.append(fn(model, tok, part, **_call_method(fn, {**kwargs, "seed": s_r, "index_offset": offset})))
    return [[runs[r][i] for r in range(n)] for i in range(len(part))]


def extract_opened(extract: Callable, text: str):
    """`extract` of a completion whose prompt ended with "<think>": read with that tag (a module-level function, so
    it pickles to Ray actors)."""
    return extract("<think>" + text)


# Item fields an evaluation's accuracy is broken down by (summary.json "by"): a mixed dataset's task, MATH's subject
# and level, arith's number of operations. A benchmark's mean hides where a model fails (the tiny model's 35% greedy
# is 13.5% on 2-operation problems and 77% on 4-operation ones).
BREAKDOWN_FIELDS = ("task", "subject", "level", "n_ops")


def _natural_key(v) -> tuple:
    """Numbers (and their text) first in numeric order, then text with its digit runs read as numbers: level "10"
    after "2", "Level 10" after "Level 2" (as text, a field mixing 2 and 10 with words put "10" first)."""
    s = str(v)
    if re.fullmatch(r"-?\d+", s):
        return (0, int(s), [], s)
    parts = re.split(r"(\d+)", s.casefold())  # (text, digits, text, ...: like kinds compared position by position)
    return (1, 0, [int(p) if i % 2 else p for i, p in enumerate(parts)], s)


def _breakdown_value(v) -> bool:
    return isinstance(v, (str, int)) and not isinstance(v, bool)


def breakdown_missing(items) -> dict:
    """{field: how many items lack it} for each of ``BREAKDOWN_FIELDS`` that some items have (as text or an
    integer) and others lack (or hold as another kind): ``breakdown`` leaves that field out, which one row without
    a `subject` did silently (summary "by_missing"; the CLI says it on stderr)."""
    out = {}
    for f in BREAKDOWN_FIELDS:
        lacking = sum(not _breakdown_value(it.get(f)) for it in items)
        if 0 < lacking < len(items):
            out[f] = lacking
    return out


def breakdown(items, records_per_problem, ks, *, equal=None, n_boot: int = 1000, seed: int = 0) -> dict:
    """{field: {value: {"n_problems", "metrics"}}} for each of ``BREAKDOWN_FIELDS`` that every item has as text
    or an integer, taking two values or more: pass@k, maj@k and wmaj@k (``metrics.summarize``, intervals over
    that value's problems) on the problems with that value, values in order (numbers as numbers). Where maj@k
    samples its k-subsets (more than ``n_subsets``), a value's are drawn for its own problems: the values' mean
    then matches the overall maj@k up to that Monte-Carlo noise (exactly wherever the subsets are enumerated)."""
    from ponder.metrics import cluster_answers, summarize

    fields = []
    for f in BREAKDOWN_FIELDS:
        vals = [it.get(f) for it in items]
        if not all(_breakdown_value(v) for v in vals):  # (said: breakdown_missing)
            continue
        if not all(isinstance(v, int) for v in vals):  # (1 and "1" are one value: the JSON key "1")
            vals = [str(v) for v in vals]
        if len(set(vals)) > 1:
            fields.append((f, vals))
    if not fields:
        return {}
    # answers clustered once with `equal` (a symbolic comparison), then voted on by cluster id, as summarize does
    recs = [[{**r, "answer": None if c < 0 else str(c)} if "answer" in r else r
             for r, c in zip(rs, cluster_answers([r.get("answer") for r in rs], equal))] for rs in records_per_problem]
    out: dict = {}
    for f, vals in fields:
        groups: dict = {}
        for v, rs in zip(vals, recs):
            groups.setdefault(v, []).append(rs)
        out[f] = {}
        for v in sorted(groups, key=_natural_key):
            m = summarize(groups[v], ks, n_boot=n_boot, seed=seed)["metrics"]
            out[f][str(v)] = {"n_problems": len(groups[v]),
                              "metrics": {k: x for k, x in m.items() if k.split("@")[0] in ("pass", "maj", "wmaj")}}
    return out


# ---- resuming an interrupted evaluation -------------------------------------------------------------------

# In an evaluation's directory while it runs: a header line (config.json's settings, the items' digest and the
# chunk size), then one line per chunk of problems drawn, {"start", "seconds", "outcomes"}, each flushed to disk
# before the next chunk is drawn. Removed once summary.json is written. ``evaluate(..., resume=True)`` continues
# from it: every test-time method seeds a problem by its index, so the chunks left give what they would have.
PROGRESS = ".samples.partial.jsonl"
# A sweep's, as it runs: a header line (config.json's settings, the models' weights and tokenizers, the items' digest,
# the chunk sizes and device), then one line per chunk drawn, {"model", "part", "start", "seconds", "rows"}: "part" is
# "parallel" (the draw of max N samples) or "budget_forcing@B" / "effort@LEVEL"; "rows" per problem. Removed once
# summary.json is written; ``sweep(..., resume=True)`` continues from it, skipping the chunks kept.
SWEEP_PROGRESS = ".sweep.partial.jsonl"
# the files `ponder eval --out` (kind "eval") or `--sweep` ("sweep") writes beside its config.json and summary.json
OUTPUT_FILES = {"eval": ("samples.jsonl",),
                "sweep": ("scaling.json", "scaling.csv", "scaling_tokens.png", "scaling_latency.png")}


def _items_digest(items) -> str:
    """sha256 of the items as JSON (non-JSON values by their text): resuming on other items is refused."""
    import hashlib

    text = json.dumps(json_safe(items), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _weights_digest(model) -> str | None:
    """sha256 of the model's weights: every state_dict entry by name (sorted), dtype, shape and raw bytes, so an
    evaluation resumed after its checkpoint was retrained or replaced is refused. None for a model without a
    state_dict. One tensor at a time is copied to the CPU (memory stays bounded for a model on a GPU), and a tensor
    shared by two names (tied embeddings) is read once, each name hashing its digest: tied or not, the same values
    give the same digest. Cost, measured on a 2-core CPU: 2-6 ms for the tiny model (0.85M parameters), 0.06 s for
    a random 27M-parameter one in fp32 (0.03 s in bf16): sha256's ~1.7 GB/s; computed only with an out_dir."""
    import hashlib

    import torch

    state = getattr(model, "state_dict", None)
    if not callable(state):
        return None
    h, read = hashlib.sha256(), {}
    for name, t in sorted(state().items()):
        if not isinstance(t, torch.Tensor):  # (a module's extra state: not weights)
            continue
        key = (t.device, t.untyped_storage().data_ptr(), t.storage_offset(), t.dtype, tuple(t.shape), t.stride())
        if key not in read:
            c = t.detach().to("cpu").contiguous().reshape(-1)
            read[key] = hashlib.sha256(c.view(torch.uint8).numpy()).hexdigest()  # (bf16 too: its raw bytes)
        h.update(f"{name}\0{t.dtype}\0{tuple(t.shape)}\0{read[key]}\n".encode())
    return h.hexdigest()


def _tokenizer_digest(tok) -> str | None:
    """sha256 of what turns the items into token ids besides the weights: the tokenizer's vocabulary, merges and
    added tokens (tokenizer.json), its chat template(s), named special tokens and split_special_tokens. A resume
    after a checkpoint's tokenizer or template was edited would mix prompts encoded two ways. None for a
    tokenizer that is not Ponder's."""
    import hashlib

    inner = getattr(tok, "tok", None)
    if not callable(getattr(inner, "to_str", None)) or not hasattr(tok, "chat_template"):
        return None
    parts = [inner.to_str(), tok.chat_template or "", json.dumps(getattr(tok, "named_templates", None), default=str),
             *(str(getattr(tok, k, None)) for k in ("bos_token", "eos_token", "pad_token")),
             str(getattr(tok, "config", {}).get("split_special_tokens"))]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


# Settings an older Ponder did not record: a progress header or config.json saved without one is resumed without
# that check (not refused for lacking it).
# (dtype, items_sha256: config.json's; progress headers had them)
_ADDED_SETTINGS = ("weights_sha256", "tokenizer_sha256", "dtype", "items_sha256", "judge_model", "rubric",
                   "n_boot", "extract", "equal", "models_sha256", "dtypes", "judge")  # (models_sha256, dtypes: a sweep's)
# (top_k and min_p, recorded since eval took them, are not skipped but compared as what an older one used: off, or the
# method_kwargs one given in Python; see _first_difference)
# Settings that change no draw, only what is computed from the samples (which pass@k / maj@k, the intervals'
# resamples): left out of the progress header, so an interrupted evaluation resumes with others (a progress file of an
# older Ponder, whose header has ks, too). A finished one's config.json still compares them: its summary has the old.
_SUMMARY_ONLY = ("n_boot", "ks")
# Where it ran, recorded for the reader and never compared: other threads draw the same samples, and the device
# type, which does change the numerics, is the progress header's own "device" (checked there).
_RECORDED_ONLY = ("ran_on",)


def _moot_settings(items) -> tuple:
    """Settings that change no prompt of these items, left out of a resume's comparison: ``chat`` where every
    prompt is chat messages (rendered as they are, chat or not: ``_prompt_of``), so an evaluation of such data run
    with --chat resumes without it, and back (it was refused as another evaluation, its samples the same)."""
    return ("chat",) if items and all(not isinstance(it["prompt"], str) for it in items) else ()


# a method keyword -> its `ponder eval` flag, for messages (cli._EVAL_METHOD_FLAGS the other way round)
_KWARG_FLAGS = {"n_votes": "--votes", "weighted": "--weighted", "early_stop": "--early-stop",
                "n_candidates": "--candidates", "scorer": "--scorer", "rounds": "--rounds", "budget": "--budget",
                "waits": "--waits-bf", "level": "--effort", "answer_tokens": "--answer-tokens",
                "forced_answer": "--forced-answer"}
# A setting of config.json or a progress header -> the `ponder eval` (--sweep) flag that sets it, for refusals: the
# user typed flags ("its parallel_ns is [1, 2, 4]" named a key of the file). Those of Python's alone (n_boot, stop,
# extract, equal, batch_problems, and kind) keep their names: no flag sets them.
_SETTING_FLAGS = {"model": "--model", "models": "--model", "dtype": "--dtype", "dtypes": "--dtype",
                  "device": "--device", "devices": "--device", "method": "--method", "methods": "--methods",
                  "n": "-n", "ks": "--k", "parallel_ns": "--ns", "budgets": "--budgets",
                  "max_new_tokens": "--max-new-tokens", "temperature": "--temperature", "top_p": "--top-p",
                  "top_k": "--top-k", "min_p": "--min-p", "seed": "--seed", "task_seed": "--task-seed",
                  "reward": "--reward", "chat": "--chat",
                  "system": "--system", "chat_template_kwargs": "--chat-template-kwargs",
                  "answer_tokens": "--answer-tokens", "waits": "--waits", "judge_model": "--judge-model",
                  "rubric": "--rubric"}
_COMMA_LISTS = ("ks", "parallel_ns", "budgets", "methods")  # (their flags take "1,4,16": said so)
# method options evaluate records where not given (the count options, budget forcing's budget, effort's level,
# self-refine's rounds, the scorer): never left out as defaults, an older record without one is not taken for it
_RECORDED_DEFAULTS = ("n_votes", "n_candidates", "budget", "level", "rounds", "scorer")


def _method_defaults(name) -> dict:
    """The defaults of a test-time method's options, as config.json records values (effort: budget forcing's too)."""
    fn = scale.METHODS.get(name) if isinstance(name, str) else None
    if fn is None:
        return {}
    params = dict(inspect.signature(fn).parameters)
    if name == "effort":
        params = {**inspect.signature(scale.budget_forcing).parameters, **params}
    return {k: _jsonable(p.default) for k, p in params.items() if p.default is not p.empty}


def _comparable(cfg: dict) -> dict:
    """A saved or asked config (or progress header) with equivalent spellings made alike, so that settings which
    draw the same samples compare equal: a method option at its default is the option unset (API: waits=0,
    weighted=False); budget forcing's budget is the --max-new-tokens it defaults to, which caps nothing else there
    (--budget 16 was refused on resume as another evaluation than --max-new-tokens 16: "its max_new_tokens is 16,
    this evaluation's None", the same samples), effort's level sets its budget; a reward spec is its terms
    ("math+0.1*format" = "math + 0.1*format"); a sweep's methods in any order, and the settings of methods it does
    not run (a sequential sweep's temperature and max_new_tokens, waits without budget forcing, answer_tokens
    without a sequential method) are unset."""
    c = dict(cfg)
    reward = c.get("reward")
    if isinstance(reward, (str, dict)):  # (a callable is recorded by its name: compared as it is)
        from ponder.verify.registry import _parse

        try:
            c["reward"] = [[k, float(w)] for k, w in (_parse(reward) if isinstance(reward, str) else reward.items())]
        except (PonderError, TypeError, ValueError):
            pass
    if c.get("kind") == "sweep":
        methods = c.get("methods")
        if isinstance(methods, list) and all(isinstance(m, str) for m in methods):
            c["methods"] = sorted(methods)  # (the curves are drawn per method: the same whatever their order)
            if not set(methods) & set(PARALLEL_METHODS):
                c.update(max_new_tokens=None, temperature=None, top_p=None, top_k=None, min_p=None)
            if "budget_forcing" not in methods:
                c["waits"] = None
            if not set(methods) & set(SEQUENTIAL_METHODS):
                c["answer_tokens"] = None
        return c
    method, mk = c.get("method"), c.get("method_kwargs")
    if isinstance(mk, dict):
        mk = dict(mk)
        if method == "budget_forcing" and "budget" not in mk:  # (its default, as evaluate sets it)
            mk["budget"] = c.get("max_new_tokens")
        defaults = _method_defaults(method)
        c["method_kwargs"] = {k: v for k, v in mk.items()
                              if k in _RECORDED_DEFAULTS or k not in defaults or v != defaults[k]}
    if method in ("budget_forcing", "effort"):
        c["max_new_tokens"] = None
    return c


def _shown(key: str, v) -> str:
    """A setting's value as a refusal says it: as its flag takes it where it has one."""
    if v is None:
        return "unset"
    if key in _COMMA_LISTS and isinstance(v, list):
        return ",".join(str(x) for x in v)
    if key == "models" and isinstance(v, list):
        return " and ".join(repr(x) for x in v)
    return repr(v)


def _said_differ(key: str, flag: str | None, s, w, this: str, unset: str = "unset") -> str:
    """One setting that differs, in words: by its flag where it has one (a switch as given or not)."""
    if key in ("chat", "weighted", "early_stop") and flag is not None:  # (a switch left out is off)
        if bool(s):
            return f"it was run with {flag}, {this} without it"
        return f"it was run without {flag}, {this} with it"
    name = flag or key
    if key in ("parallel_chunk", "sequential_chunk"):  # (the problems in each of a sweep's chunks: batch_problems')
        name = f"{key} (batch_problems)"

    def shown(v):
        return unset if v is None else _shown(key, v)
    return f"its {name} is {shown(s)}, {this}'s {shown(w)}"


def _first_difference(saved: dict, wanted: dict, ignore=()) -> str | None:
    """The first setting in which a saved header or config.json differs from this evaluation's (or sweep's),
    described by the flag that sets it (the weights last: other dtype is said as such, not as other weights);
    settings in ``ignore`` are not compared, equivalent spellings are alike (``_comparable``)."""
    wanted = json.loads(json.dumps(json_safe(wanted), default=str))  # (as it reads back: tuples as lists)
    this = "this sweep" if wanted.get("kind") == "sweep" else "this evaluation"
    last = ("weights_sha256", "models_sha256")
    keys = [k for k in list(wanted) + [k for k in saved if k not in wanted] if k not in ignore]
    if "task_seed" in keys and "items_sha256" in keys:  # (before the items it drew: another --task-seed was said
        keys.remove("task_seed")  # as "its items differ", naming no flag)
        keys.insert(keys.index("items_sha256"), "task_seed")
    if "task_seed" in keys and "task_seed" not in saved:  # (an older Ponder drew a built-in task's problems with --seed)
        saved = {**saved, "task_seed": saved.get("seed")}
    for key, off in (("top_k", 0), ("min_p", 0.0)):  # an older Ponder recorded neither: it sampled with them off,
        if key in keys and key not in saved:  # or at one given in method_kwargs (Python), recorded there
            mk = dict(saved["method_kwargs"]) if isinstance(saved.get("method_kwargs"), dict) else None
            saved = {**saved, key: mk.pop(key, off) if mk is not None else off,
                     **({"method_kwargs": mk} if mk is not None else {})}
    s_cmp, w_cmp = _comparable(saved), _comparable(wanted)
    for key in [k for k in keys if k not in last and k not in _RECORDED_ONLY] + [k for k in last if k in keys]:
        if key in _ADDED_SETTINGS and key not in saved:
            continue
        # the model is named as it was given: the same checkpoint as runs/x/ or by its absolute path, its weights and
        # tokenizer the same, was refused as another model
        if key == "model" and saved.get("weights_sha256") is not None and all(
                saved.get(k) == wanted.get(k) for k in ("weights_sha256", "tokenizer_sha256")):
            continue
        if s_cmp.get(key) == w_cmp.get(key):
            continue
        if key == "items_sha256":
            return "its items differ from these (another --task, --split, --limit or --data file)"
        if key == "method_kwargs" and isinstance(s_cmp.get(key), dict) and isinstance(w_cmp.get(key), dict):
            # (the whole dict named no option: "its method_kwargs is {'n_votes': 2}, ...'s {'n_votes': 3}")
            s_kw, w_kw, none = s_cmp[key], w_cmp[key], object()
            k = next((k for k in [*w_kw, *s_kw] if s_kw.get(k, none) != w_kw.get(k, none)), None)
            if k is not None:  # (one given on one side only, --weighted added: the whole dicts named no option)
                flag = _KWARG_FLAGS.get(k)
                s_v, w_v = (kw[k] if k in kw else None for kw in (s_kw, w_kw))
                said = _said_differ(k, flag, s_v, w_v, this, unset="unset (the method's default)")
                if k == "budget" and w_cmp.get("method") == "budget_forcing":  # (set by either flag)
                    said += " (budget forcing's thinking budget: --budget, else --max-new-tokens)"
                return said
        if key == "n_problems":  # (config.json's field name named no flag: --limit, or another task's 200)
            return (f"it has {saved.get(key)!r} problems, {this} {wanted.get(key)!r} (another --limit, --task, "
                    "--split or --data file)")
        if key in ("weights_sha256", "tokenizer_sha256", "models_sha256"):
            if key == "models_sha256":  # (per model: the first whose weights or tokenizer differ)
                s_all, w_all = saved.get(key), wanted.get(key)
                if not (isinstance(s_all, dict) and isinstance(w_all, dict)):
                    return f"its models_sha256 is {s_all!r:.80}, {this}'s {w_all!r:.80}"
                m = next(m for m in [*w_all, *s_all] if s_all.get(m) != w_all.get(m))
                s_m, w_m = (x.get(m) if isinstance(x.get(m), dict) else {} for x in (s_all, w_all))
                part = "tokenizer" if s_m.get("weights") == w_m.get("weights") else "weights"
                s_d, w_d, model = s_m.get(part), w_m.get(part), f"model {m!r}"
            else:
                part = "tokenizer" if key == "tokenizer_sha256" else "weights"
                s_d, w_d = saved.get(key), wanted.get(key)
                model = "the model" if wanted.get("model") is None else f"model {wanted['model']!r}"
            if part == "tokenizer":
                return (f"the tokenizer or chat template of {model} differs from the one it was started with "
                        f"(tokenizer_sha256 {str(s_d)[:12]}, now {str(w_d)[:12]})")
            return (f"the weights of {model} differ from those it was started with (weights_sha256 "
                    f"{str(s_d)[:12]}, now {str(w_d)[:12]}: retrained or replaced since)")
        flag = _SETTING_FLAGS.get(key)
        s_v, w_v = saved.get(key), wanted.get(key)
        if key in ("dtypes", "devices") and isinstance(s_v, dict) and isinstance(w_v, dict):  # (a sweep's, per model)
            m = next((m for m in [*w_v, *s_v] if s_v.get(m) != w_v.get(m)), None)
            if m is not None:
                return f"its {flag} of model {m!r} is {_shown(key, s_v.get(m))}, {this}'s {_shown(key, w_v.get(m))}"
        return _said_differ(key, flag, s_v, w_v, this)
    return None


RECORD_GOLD_FIELDS = ("numbers", "target", "constraints")  # (registry.check_item: countdown's, constraints')


def _refuse_resume(d: Path, why: str):
    raise PonderError(f"--resume {d}: {why}; give the same settings, or another --out for a new evaluation")


def _problem_fields(i: int, it: dict) -> tuple:
    """(id, prompt, gold) of problem i as each of its samples.jsonl records writes them (and a finished
    evaluation's records are checked against)."""
    # (chat messages as JSON text, non-ASCII as it is: escaped, "é" read "\\u00e9" in the file)
    prompt = it["prompt"] if isinstance(it["prompt"], str) else json.dumps(it["prompt"], ensure_ascii=False)
    gold = "" if it.get("answer") is None else str(it["answer"])  # (none: a code, countdown or constraints item)
    return str(i) if it.get("id") is None else it["id"], prompt, gold  # (an id of None: none, as
    # _check_items takes it)


def _finished_summary(d: Path, config: dict, items) -> dict | None:
    """The saved summary of a finished evaluation in ``d`` asked with the same settings and problems (a job
    rerun after it finished, as a retry loop does, gets the result rather than an error or a second run), None
    where ``d`` holds no finished one. Its problems are checked against samples.jsonl's ids, prompts and golds."""
    if not (d / "summary.json").is_file() or (d / PROGRESS).exists():  # (a newer run, interrupted, is in there)
        return None
    from ponder.fileio import read_text

    try:
        saved = json.loads(read_text(d / "config.json"))
        summary = json.loads(read_text(d / "summary.json"))
    except ValueError as e:
        raise PonderError(f"--resume {d}: config.json or summary.json is not JSON ({e})") from None
    why = _first_difference(saved, config, ignore=_moot_settings(items))
    if why:
        _refuse_resume(d, f"holds a finished evaluation: {why}")
    seen: dict[int, tuple] = {}
    # (lines end at "\n" only: splitlines() also split at U+2028 or U+0085, which a JSON string written with
    # ensure_ascii=False holds unescaped)
    for ln, line in enumerate(read_text(d / "samples.jsonl").rstrip("\n").split("\n"), 1):
        try:
            r = json.loads(line)
            seen.setdefault(int(r["problem"]), (str(r["id"]), r["prompt"], r["gold"]))
        except (ValueError, KeyError, TypeError):
            raise PonderError(f"{d / 'samples.jsonl'}:{ln}: not a sample record") from None
    for i, it in enumerate(items):
        pid, prompt, gold = _problem_fields(i, it)
        if seen.get(i) != (str(pid), prompt, gold):
            _refuse_resume(d, f"holds a finished evaluation whose problem {i} is not this one's")
    summary.setdefault("by", {})  # (a summary an older Ponder saved without it where there was no breakdown)
    summary.setdefault("by_missing", breakdown_missing(items))  # (one saved before it was recorded)
    note = oracle_note(summary.get("method"), (summary.get("method_kwargs") or {}).get("scorer"))
    if note:  # (one saved before it was recorded)
        summary.setdefault("oracle", note)
    summary["out_dir"] = str(d)
    summary["resumed"] = "finished"  # (nothing was run: the CLI says so)
    return summary


def _refuse_dropping_progress(d: Path) -> None:
    """A run without resume starts the progress file afresh: one holding kept problems (an interrupted evaluation,
    the same command run again without --resume) would be lost, so it is refused, as a training run's --out is."""
    f = d / PROGRESS
    try:
        lines = _whole_lines(f)[0][1:]  # (the header and a torn tail hold no problem)
    except OSError:  # (none there)
        return
    kept = 0
    for line in lines:
        try:
            kept += len(json.loads(line)["outcomes"])
        except (ValueError, KeyError, TypeError):
            break
    if kept:
        raise PonderError(f"--out {d}: holds an interrupted evaluation ({kept} problem{'s' * (kept != 1)} kept); "
                          f"continue it with --resume (the same settings), or remove {f} to start afresh")


def _whole_lines(f: Path) -> tuple[list[bytes], int]:
    """The whole lines of a progress file (``PROGRESS``, ``SWEEP_PROGRESS``) and their length in bytes: a last line
    cut short by a crash (no newline) is left out. Bytes: a torn line may end inside a character."""
    data = f.read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()  # the torn tail of a crash (or "" after the last newline)
    return lines, len(data) - len(tail)


def _open_progress(d: Path, header: dict, resume: bool, ignore: tuple = ()):
    """(outcomes kept, their generation seconds, the progress file open for appending). Resuming, the kept
    chunks are read back and a last line cut short by a crash (no newline) is dropped from the file; otherwise,
    or where nothing was kept, the file is started afresh with ``header``. ``ignore``: settings not compared
    (``_moot_settings``)."""
    f = d / PROGRESS
    outcomes: list[list] = []
    seconds = 0.0
    if resume and f.is_file():
        lines, size = _whole_lines(f)
        if not lines:
            _refuse_resume(d, f"{PROGRESS} has no header line")
        try:
            saved = json.loads(lines[0])
        except ValueError:
            raise PonderError(f"{f}:1: not JSON; remove the file to start the evaluation afresh") from None
        why = (_first_difference(saved, header, ignore=_SUMMARY_ONLY + ignore) if isinstance(saved, dict) else
               "its header is not a settings object")
        if why:
            _refuse_resume(d, f"holds an interrupted evaluation: {why}")
        for ln, line in enumerate(lines[1:], 2):
            try:
                rec = json.loads(line)
                if rec["start"] != len(outcomes):
                    raise ValueError
                chunk = [[scale.Outcome(**o) for o in outs] for outs in rec["outcomes"]]
                seconds += float(rec["seconds"])
            except (ValueError, KeyError, TypeError):
                raise PonderError(f"{f}:{ln}: not the next chunk of problems ({len(outcomes)} onward); remove "
                                  "the file to start the evaluation afresh") from None
            outcomes += chunk
        if len(outcomes) > header["n_problems"]:
            raise PonderError(f"{f}: {len(outcomes)} problems kept, more than the {header['n_problems']} asked")
        os.truncate(f, size)  # (appending after a torn line would glue onto it)
    else:
        atomic_write_text(f, json.dumps(json_safe(header), ensure_ascii=False, default=str) + "\n")
    return outcomes, seconds, open(f, "a", encoding="utf-8")


def _drop_progress(d: Path, made: Path | None) -> None:
    """Remove the progress file of ``d`` and, where empty, the folders from ``d`` up to ``made`` (the outermost one
    the evaluation created; None: it created none)."""
    (d / PROGRESS).unlink(missing_ok=True)
    if made is None:
        return
    release_run_lock(d)  # (its file would keep the folder from being removed)
    for a in (d, *d.parents):
        try:
            a.rmdir()
        except OSError:  # (not empty: something else was written there meanwhile)
            return
        if a == made:
            return


def _check_answers(outcomes: list[list], start: int) -> None:
    """Refuse an extracted answer the saved samples cannot hold as it is: writing it was a bare TypeError after
    the chunk was drawn, and one stored as its text would vote apart from the same answer drawn after a resume."""
    for i, outs in enumerate(outcomes, start):
        for o in outs:
            # (bool is an int; a tuple would come back a list)
            if not (o.answer is None or isinstance(o.answer, (str, int, float))):
                raise PonderError(f"extract returned {type(o.answer).__name__} {o.answer!r:.40} for problem {i}, "
                                  "which the evaluation's files cannot hold as JSON and read back the same; return "
                                  "text, a number or None")


def _append_line(f, obj) -> None:
    """One JSON line, on disk when this returns (a crash after it keeps the line; one during it leaves a torn
    line without its newline, which resuming drops)."""
    f.write(json.dumps(obj, ensure_ascii=False) + "\n")  # (NaN and inf as Python reads them back: exact)
    f.flush()
    os.fsync(f.fileno())


# ---- evaluate ---------------------------------------------------------------------------------------------


@locks_run("out_dir")
def evaluate(
    model,
    tok,
    items: Sequence[dict],
    *,
    method: str = "sampling",
    n: int = 1,
    ks: Sequence[int] = (1,),
    max_new_tokens: int = 256,
    temperature: float | None = None,
    top_p: float = 1.0,
    top_k: int = 0,
    min_p: float = 0.0,
    seed: int = 0,
    reward="math",
    judge: Callable | None = None,
    method_kwargs: dict | None = None,
    stop=None,
    chat: bool = False,
    system: str | None = None,
    extract: Callable | None = None,
    equal: Callable | None = None,
    out_dir: str | os.PathLike | None = None,
    progress: bool = True,
    model_name: str | None = None,
    n_boot: int = 1000,
    batch_problems: int | None = None,
    generate_fn: Callable | None = None,
    score_fn: Callable | None = None,
    setup_fn: Callable[[], None] | None = None,
    extra: dict | None = None,
    resume: bool = False,
) -> dict:
    """Evaluate a model with a test-time method; returns the summary dict (module docstring).

    ``generate_fn(fn=, name=, prompts=, n=, mk=, common=, seed=, chunk=)`` -> per-problem lists of n outcomes
    and ``score_fn(judge, completions, items)`` -> verdicts replace the local loops (the Ray path shards
    both over its actors); ``setup_fn()`` runs once after every check, before the clock starts (the Ray path
    starts its actors there: their start-up is ``setup_seconds``, not generation time, so tokens per second is
    the workers' rate); ``extra`` is merged into summary.json and config.json.

    ``n``: runs per problem (samples for ``sampling``; independent runs with derived seeds for the other
    methods, whose own sample counts are method_kwargs such as ``n_votes`` / ``n_candidates``).
    ``method_kwargs``: extra arguments of the method (``ponder.scale``); ``scorer`` may be "logprob",
    "likelihood", "judge" (needs ``judge``), a reward spec or a callable. ``temperature`` defaults per
    method (``DEFAULT_TEMPERATURE``); ``top_p``, ``top_k`` and ``min_p`` (1.0, 0 and 0.0: off) filter each sampled
    token, for every method that samples (self_refine's draft, critiques and revisions too), and
    are refused at temperature 0. For budget forcing / effort, ``max_new_tokens`` is the default
    budget. ``chat``: wrap each text prompt as a user message (with ``system``) for chat models; a prompt
    given as chat messages is rendered as it is either way (``system`` is refused with it).
    ``reward``: a registry spec or callable(completion, item) returning a RewardResult/Verdict/bool.
    ``extract``: completion -> answer; with ``out_dir`` its answers must be text, a number or None (they are saved
    as JSON and voted on again when resumed).
    ``resume``: continue the evaluation interrupted in ``out_dir`` (``PROGRESS``, kept after each chunk of
    problems), which must have been asked with the same settings, items and weights (``weights_sha256``, also in
    config.json: a checkpoint retrained since is refused); a finished one there is not run
    again: its saved summary is returned, marked ``"resumed": "finished"``. With nothing to continue there, the
    evaluation starts afresh. The summary returned (not the one saved) says how many problems were found kept
    there in ``"resumed"`` (0: started afresh; the CLI says so, a mistyped directory would otherwise pass).
    """
    items = _check_items(items, reward)
    check_out_dir(out_dir, "eval")
    _check_flag("chat", chat)  # (chat="no" wrapped every prompt, recorded as "no"; resume="false" resumed)
    _check_flag("resume", resume)
    _check_flag("progress", progress)  # (progress="no", a settings file's text, drew the bar)
    for what, f in (("extract", extract), ("equal", equal), ("judge", judge)):  # (else a bare TypeError, at the
        if f is not None and not callable(f):  # first chunk or only at judging)
            raise PonderError(f"{what} must be a callable or None, got {f!r}")
    if extra is not None and not isinstance(extra, dict):  # (else "not a mapping" once everything had run)
        raise PonderError(f"extra must be a dict (merged into summary.json and config.json), got {extra!r}")
    if resume and out_dir is None:
        raise PonderError("resume: needs out_dir, the directory of the interrupted evaluation")
    if not resume and out_dir is not None:
        _refuse_dropping_progress(Path(out_dir))
    if resume and generate_fn is not None:  # (its workers draw every problem in one call: nothing is kept between)
        raise PonderError("resume: not with generate_fn (the Ray path keeps no progress to continue from)")
    name = resolve_method(method)
    # a numpy integer (from a grid of settings) is an integer, as ks' and seed's are: it was refused as "got 4"
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise PonderError(f"n must be a positive integer, got {n!r}")
    n = int(n)  # (config.json is JSON: a numpy one would fail it after the run)
    ks = _check_ks(ks, n)
    # used only by summarize's bootstrap, after every completion is drawn and judged: checked before them
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise PonderError(f"n_boot={n_boot!r} must be an integer >= 1")
    if batch_problems is not None:  # (a numpy one, from a grid of settings, is one, as n's is)
        if (isinstance(batch_problems, bool) or not isinstance(batch_problems, (int, np.integer))
                or batch_problems < 1):  # a negative one drew no batch at all
            raise PonderError(f"batch_problems={batch_problems!r} must be an integer >= 1")
        batch_problems = int(batch_problems)
    if method_kwargs is not None and not isinstance(method_kwargs, dict):
        raise PonderError(f"method_kwargs must be a dict, got {type(method_kwargs).__name__}")
    # evaluate passes these itself: one in method_kwargs would be dropped (seed, n: config.json records it as
    # used) or would override its own argument behind the checks and the config (temperature, max_new_tokens)
    # (top_k and min_p went there before evaluate took them: recorded inside method_kwargs, not as settings)
    own = sorted(set(method_kwargs or {}) & {"n", "seed", "index_offset", "temperature", "top_p", "top_k", "min_p",
                                             "max_new_tokens", "stop", "extract", "equal"})
    if own:
        raise PonderError(f"method_kwargs {own}: set by evaluate's own argument(s) of that name; pass them there")
    temp = DEFAULT_TEMPERATURE[name] if temperature is None else temperature
    _check_sampling(temperature=temp, top_p=top_p, top_k=top_k, min_p=min_p, max_new_tokens=max_new_tokens,
                    seed=seed)
    # (a numpy seed, max_new_tokens or top_p, from a grid of settings, passed the check, then failed config.json's
    # JSON once everything had run)
    temp, seed, top_p, max_new_tokens = float(temp), int(seed), float(top_p), int(max_new_tokens)
    top_k, min_p = int(top_k), float(min_p)
    if name == "greedy" and n > 1:
        raise PonderError(f"method 'greedy' is deterministic: n must be 1, got {n}")
    if name != "greedy" and n > 1 and temp == 0:
        raise PonderError(f"method {name!r} with temperature 0 gives {n} identical runs; use n=1 or temperature > 0")
    # A sampling setting the method does not take would be dropped (and recorded in config.json as if used).
    given = {"temperature": temperature if temperature is not None and temp != DEFAULT_TEMPERATURE[name] else None,
             "top_p": top_p if top_p != 1.0 else None, "top_k": top_k or None, "min_p": min_p or None}
    for opt, value in given.items():
        if value is not None and opt not in method_options(name):
            raise PonderError(f"method {name!r} does not use {opt} (given {value}); leave it out")
    for opt in ("top_p", "top_k", "min_p"):  # greedy takes the most likely token: a filter changed nothing, recorded
        if temp == 0 and given[opt] is not None:  # as used
            raise PonderError(f"{opt} {given[opt]} is not used at temperature 0 (greedy decoding takes the most "
                              f"likely token); give a temperature > 0 to sample, or leave {opt} out")
    mk = dict(method_kwargs or {})
    if name in _COUNT_OPTIONS:
        opt, flag = _COUNT_OPTIONS[name]
        v = mk.setdefault(opt, 8)  # the method's default, recorded: the result says how many samples a run drew
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise PonderError(f"{name.replace('_', '-')}: {opt} ({flag}) must be an integer >= 1, got {v!r}")
        mk[opt] = int(v)  # (a numpy one, from a grid of settings, is one too: config.json is JSON)
    prompts = [_prompt_of(it, chat, system) for it in items]
    # (token-id prompts were refused only at the first batch, out_dir already holding the progress file)
    scale._check_prompts(prompts)
    if name == "budget_forcing":
        mk.setdefault("budget", max_new_tokens)
    # recorded where not given: the level sets the thinking budget the accuracy is for, rounds the revisions drawn
    default_opt = {"effort": "level", "self_refine": "rounds"}.get(name)
    if default_opt:
        mk.setdefault(default_opt, inspect.signature(scale.METHODS[name]).parameters[default_opt].default)
    recorded = dict(mk)  # what config.json and summary.json say: the scorer's spec, not its function
    if name in ("best_of_n", "self_refine"):
        default = "logprob" if name == "best_of_n" else "likelihood"
        recorded["scorer"] = mk.get("scorer", default)
        mk["scorer"] = _scorer_for(recorded["scorer"], model=model, tok=tok, items=items, prompts=prompts,
                                   judge=judge, what=name.replace("_", "-"))
    reward_fn = make_reward(reward, judge)
    _check_reward_fields(reward_fn, items)
    unvoted = unvoted_reward(reward_fn, extract, equal)
    if unvoted and name == "self_consistency":
        _refuse_vote("method 'self_consistency'", reward, unvoted)
    # by name, as a callable reward is: another extractor resumed votes its kept problems one way and the rest
    # another (and a finished one's votes were returned as this one's)
    answers_by = {"extract": _jsonable(extract), "equal": _jsonable(equal)}
    if judge is not None:  # (by name too: a resume with another judge function scored half the problems by each; the
        answers_by["judge"] = _jsonable(judge)  # CLI records its --judge-model and --rubric besides)
    extract, equal = answer_fns(reward_fn, extract, equal)
    fn = scale.METHODS[name]
    common = dict(temperature=temp, top_p=top_p, top_k=top_k, min_p=min_p, max_new_tokens=max_new_tokens, stop=stop,
                  extract=extract)
    if name == "self_consistency":
        common["equal"] = equal
    unknown = set(mk) - method_options(name)
    if unknown:
        raise PonderError(f"method {name!r} has no option(s) {sorted(unknown)}")
    if name == "effort":  # an unknown level: before the progress bar, not at the first batch
        scale.effort_settings(mk.get("level", "medium"), mk.get("levels"))
    if name == "self_consistency":  # (also before the bar)
        scale.check_vote_options(mk.get("weighted", False), mk.get("early_stop", False))

    # (self-refine: its drafts; a critique or revision is capped to the room its context leaves, in self_refine)
    if name in ("greedy", "sampling", "self_consistency", "best_of_n", "self_refine", "budget_forcing",
                "effort") and isinstance(
            getattr(getattr(model, "config", None), "max_position_embeddings", None), int):
        from ponder.engine import check_context, render_prompts

        if name in ("budget_forcing", "effort"):  # thinking budget, then the cue and the forced answer
            bf = inspect.signature(scale.budget_forcing).parameters
            budget, thinking_prompts = mk.get("budget"), prompts
            if name == "effort":  # the level's system line lengthens chat prompts: check what effort will decode
                level = scale.effort_settings(mk.get("level", "medium"), mk.get("levels"))
                budget = level["budget"]
                thinking_prompts = [scale.with_system_line(p, level.get("system", "")) for p in prompts]
            cue = mk.get("answer_cue", bf["answer_cue"].default)
            if isinstance(cue, str):  # (budget_forcing names a bad one)
                # (the </think> that closes a cut thinking is read before the cue: counted as budget_forcing does)
                scale.check_budget_context(model, tok, thinking_prompts, budget, cue,
                                           mk.get("answer_tokens", bf["answer_tokens"].default),
                                           name=name.replace("_", " "),
                                           think_end=mk.get("think_end", bf["think_end"].default),
                                           names=_item_names(items),
                                           forced_answer=mk.get("forced_answer", bf["forced_answer"].default))
        else:  # before any progress bar; the longest prompt's item named (a benchmark file has hundreds)
            check_context(model, render_prompts(tok, prompts), max_new_tokens, names=_item_names(items))
    rows = n * {"self_consistency": mk.get("n_votes", 8), "best_of_n": mk.get("n_candidates", 8)}.get(name, 1)
    chunk = batch_problems or max(1, 512 // rows)
    outcomes: list[list] = []
    saved_seconds, progress_file, kept = 0.0, None, None
    ran_on = None
    if generate_fn is None:  # (the Ray path generates on its actors: the driver's device and threads are not theirs)
        import torch

        ran_on = ran_on_dict(str(getattr(model, "device", None)), torch.get_num_threads())
    # null where the method never used it (effort's level, or a given budget, caps budget forcing's thinking):
    # the default recorded said a cap held that did not
    unused = name == "effort" or (name == "budget_forcing" and "budget" in (method_kwargs or {}))
    # the sampling settings, in the summary too: `ponder eval --json` without --out (no config.json) said which
    # method and n, but not the temperature, top_p, token cap or seed its figures depend on
    settings = {"max_new_tokens": None if unused else max_new_tokens, "temperature": temp, "top_p": top_p,
                "top_k": top_k, "min_p": min_p, "seed": seed, "reward": _jsonable(reward), "chat": chat,
                "system": system}
    if out_dir is not None:
        d = Path(out_dir)
        # which weights produced it (provenance; resuming with others is refused)
        config = {"kind": "eval", "model": model_name, "weights_sha256": _weights_digest(model),
                  "tokenizer_sha256": _tokenizer_digest(tok),
                  # (a finished one asked again in another dtype was refused as "retrained or replaced since")
                  "dtype": str(getattr(model, "dtype", None)), "method": name,
                  "method_kwargs": _jsonable(recorded), "n": n, "ks": ks,
                  # (the intervals' resamples: a finished one asked again with more returned its old intervals)
                  "n_boot": int(n_boot), **settings, "stop": stop,
                  **answers_by,
                  "chat_template_kwargs": getattr(tok, "template_kwargs", {}),
                  # (the items whole: a finished one was checked by id, prompt and gold alone, so items whose other
                  # fields changed since (a breakdown's level, a code item's tests) got its stale summary)
                  "n_problems": len(items), "items_sha256": _items_digest(items),
                  **({"ran_on": ran_on} if ran_on else {}), **(extra or {})}
        if generate_fn is None:  # (the Ray path draws every problem in one call: no chunk to keep)
            # what the outcomes depend on besides config.json: how the items are batched
            # (and the device type, which config.json does not record: --device changes the numerics, so chunks
            # drawn on a GPU and on the CPU would not make one evaluation)
            device = getattr(model, "device", None)
            # (not n_boot nor ks: they change no draw, and the resumed run's metrics are computed with those given)
            header = {**{k: v for k, v in config.items() if k not in _SUMMARY_ONLY}, "batch_problems": chunk,
                      "device": getattr(device, "type", str(device))}
            if resume:
                finished = _finished_summary(d, config, items)
                if finished is not None:
                    return finished
            made = next((a for a in reversed([d, *d.parents]) if not a.exists()), None)  # (the outermost new one)
            outcomes, saved_seconds, progress_file = _open_progress(d, header, resume, _moot_settings(items))
            take_run_lock(d)  # (a directory made just now)
            kept = len(outcomes) if resume else None  # (0: nothing to continue there, e.g. a mistyped --out)
    setup_seconds = None
    if setup_fn is not None:
        t_setup = time.perf_counter()
        setup_fn()
        setup_seconds = round(time.perf_counter() - t_setup, 3)
    bar = None
    if progress:
        from ponder.progress import progress_bar

        bar = progress_bar(total=len(items), initial=len(outcomes), desc=f"eval {name}", dynamic_ncols=True)
    t_start = time.perf_counter()
    if generate_fn is not None:
        outcomes = generate_fn(fn=fn, name=name, prompts=prompts, n=n, mk=mk, common=common, seed=seed, chunk=chunk)
        if out_dir is not None:  # (samples.jsonl)
            _check_answers(outcomes, 0)
    try:
        # (resumed: from the first problem not kept; chunks start where an uninterrupted run's do)
        for start in range(len(outcomes), len(prompts) if generate_fn is None else 0, chunk):
            part = prompts[start:start + chunk]
            t_chunk = time.perf_counter()
            got = draw_chunk(fn, model, tok, part, sampling=name == "sampling", n=n, seed=seed, offset=start,
                             kwargs={**common, **mk})
            if out_dir is not None:
                _check_answers(got, start)
            outcomes += got
            if progress_file is not None:  # kept before the next chunk is drawn: an interruption loses at most one
                _append_line(progress_file, {"start": start, "seconds": time.perf_counter() - t_chunk,
                                             "outcomes": [[o.to_dict() for o in outs] for outs in outcomes[start:]]})
            if bar:
                bar.update(len(part))
    except BaseException as e:
        if bar:  # (left open, it was drawn again when collected: after the "interrupted" or error line)
            bar.close()
        # An error before any chunk was kept (an option only the method checks, at its first chunk): the progress
        # file holds nothing but these settings, which --resume with corrected ones refused. It goes, with the
        # folders this evaluation made. (An interruption keeps it: --resume then continues these settings.)
        if isinstance(e, Exception) and progress_file is not None and not outcomes:
            progress_file.close()
            _drop_progress(d, made)
        raise
    if progress_file is not None:
        progress_file.close()
    # (a resumed run: the generation seconds of the chunks kept before, so tokens per second stays a rate)
    gen_seconds = time.perf_counter() - t_start + saved_seconds
    if bar:
        bar.close()

    if len(outcomes) != len(items):  # a generate_fn (Ray workers) that lost problems must not shrink the benchmark
        raise PonderError(f"evaluate: generation returned outcomes for {len(outcomes)} of {len(items)} problems")
    flat = [(i, o) for i, outs in enumerate(outcomes) for o in outs]
    # a prompt rendered to end with "<think>" (a template that prefills it): its completions do not open it
    from ponder.engine import prompts_think_state
    from ponder.verify.registry import score_here, score_split, with_think_open

    opens = prompts_think_state(tok, prompts)  # (a closed think block too: Qwen3 without thinking)
    verdicts = iter(score_split(score_fn or score_here, lambda f: functools.partial(
        _judge_one, with_think_open(reward_fn, f)), [o.text for _, o in flat], [items[i] for i, _ in flat],
        [opens[i] for i, _ in flat]))
    records, per_problem = [], []
    for i, (it, outs) in enumerate(zip(items, outcomes)):
        recs = []
        pid, prompt, gold = _problem_fields(i, it)
        # the gold the countdown and constraints verifiers read, so `ponder verify KIND` of this file judges as
        # eval did (not code's tests: up to megabytes per problem, written again for each of its n samples)
        gold_fields = {k: it[k] for k in RECORD_GOLD_FIELDS if it.get(k) is not None}
        for r, o in enumerate(outs):
            correct, rew, verdict = next(verdicts)
            rec = {"problem": i, "id": pid, "sample": r, "prompt": prompt,
                   "completion": o.text, "answer": o.answer, "gold": gold, "correct": correct,
                   "reward": rew, "verdict": verdict, "tokens": o.tokens, "latency": o.latency,
                   "finish_reason": o.finish_reason, "logprob_mean": o.logprob_mean,
                   # the rendered prompt's think state, which "prompt" (the item's) does not show: `ponder verify
                   # format` of this file judges as eval did
                   "think_open": opens[i], **gold_fields}
            if o.info:
                rec["info"] = o.info
            recs.append(rec)
        records += recs
        per_problem.append(recs)
    from ponder.metrics import summarize

    # no final answer to vote on: summarized without the math extractor's answers (no maj@k, wmaj@k, no_answer_rate)
    scored = per_problem if not unvoted else [[{k: v for k, v in r.items() if k != "answer"} for r in recs]
                                              for recs in per_problem]
    summ = summarize(scored, ks, equal=equal, n_boot=n_boot, seed=seed)
    if records and all("thinking_ended" in r.get("info", {}) for r in records):
        # budget forcing: truncation_rate is the final completion's, the forced answer cut at answer_tokens; a
        # budget that cut every thinking read as truncation 0. Its cuts are a metric of their own.
        from ponder.metrics import _ci_dict

        summ["metrics"]["thinking_cut_rate"] = _ci_dict(np.array(
            [np.mean([r["info"]["thinking_ended"] == "length" for r in recs]) for recs in per_problem]),
            n_boot=n_boot, alpha=summ["alpha"], seed=seed)
    total_tokens = int(sum(r["tokens"] for r in records))
    by = breakdown(items, scored, ks, equal=equal, n_boot=n_boot, seed=seed)
    summary = {
        "model": model_name,
        "method": name,
        "method_kwargs": _jsonable(recorded),
        "settings": settings,
        **summ,
        "accuracy": summ["metrics"]["pass@1"],
        # (said on stderr alone, and not with --quiet: summary.json and the report showed a scorer reading the gold
        # answer's accuracy as a method's, 0.50 beside self-consistency's 0.375 on the same samples)
        **({"oracle": note} if (note := oracle_note(name, recorded.get("scorer"))) else {}),
        # {} where no field takes two values (one problem, items without the fields): left out, a script reading
        # summary["by"] failed on some runs only
        "by": by,
        # {field: problems without it} where only some have it: no breakdown by that field ({} where none lacks one)
        "by_missing": breakdown_missing(items),
        "wall_seconds": round(time.perf_counter() - t_start + saved_seconds, 3),
        "generation_seconds": round(gen_seconds, 3),
        "generated_tokens": total_tokens,
        "tokens_per_second": round(total_tokens / gen_seconds, 1) if gen_seconds > 0 else None,
        **({"setup_seconds": setup_seconds} if setup_seconds is not None else {}),
        **({"ran_on": ran_on} if ran_on else {}),
        **(extra or {}),
    }
    if out_dir is not None:
        (d / "summary.json").unlink(missing_ok=True)  # marks a finished eval: not while the others are replaced
        (d / "report.html").unlink(missing_ok=True)  # `ponder report`'s of the old results would show their figures
        atomic_write_text(d / "samples.jsonl", "".join(json.dumps(json_safe(r), ensure_ascii=False, allow_nan=False)
                                                       + "\n" for r in records))
        atomic_write_text(d / "config.json", _strict_json(config))
        atomic_write_text(d / "summary.json", _strict_json(summary))  # last: marks a finished eval
        (d / PROGRESS).unlink(missing_ok=True)  # (after it: until then a rerun with --resume can still finish)
        summary["out_dir"] = str(d)
    if kept is not None:  # returned, not saved: how many problems the resumed run found kept
        summary["resumed"] = kept
    return summary


# ---- scaling sweeps ---------------------------------------------------------------------------------------

PARALLEL_METHODS = ("majority", "weighted_majority", "best_of_n", "oracle")
SEQUENTIAL_METHODS = ("budget_forcing", "effort")


def ran_on_dict(device: str, threads: int) -> dict:
    """The summary's and config.json's "ran_on": where the samples were drawn (the Ray path: its actors')."""
    import torch

    from ponder import __version__

    return {"device": device, "threads": threads, "torch": torch.__version__, "ponder": __version__}


def _models_dict(models) -> dict:
    if isinstance(models, dict):
        if not models:
            raise PonderError("sweep: no models")
        for name, v in models.items():  # (a model without its tokenizer was a bare "cannot unpack" TypeError)
            if not isinstance(v, (tuple, list)) or len(v) != 2:
                raise PonderError(f"sweep: models[{name!r}] must be a (model, tokenizer) pair, got "
                                  f"{type(v).__name__}" + (f" of {len(v)}" if isinstance(v, (tuple, list)) else ""))
        return dict(models)
    if isinstance(models, (tuple, list)) and len(models) == 2 and not isinstance(models[0], (tuple, list)):
        return {"model": tuple(models)}
    raise PonderError("sweep: models must be (model, tokenizer) or {name: (model, tokenizer)}")


def _ints(name: str, values) -> list[int]:
    # int() of each element read the text "16" as N = 1 and 6 and 2.5 as 2: text is split on commas (as
    # evaluate's ks), a single integer is a list of one, and anything but a positive integer is refused.
    if isinstance(values, str):
        values = [v.strip() for v in values.split(",") if v.strip()]
        try:
            values = [int(v) for v in values]
        except ValueError:
            raise PonderError(f"sweep: {name} {values!r}: expected comma-separated integers") from None
    elif isinstance(values, (int, np.integer)):
        values = [values]
    values = list(values)
    if not values or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in values):
        raise PonderError(f"sweep: {name} must be positive integers, got {values!r}")
    return sorted({int(v) for v in values})


def _ci(values, n_boot, seed) -> tuple[float, float, float]:
    from ponder.metrics import mean_ci

    return mean_ci(values, n_boot=n_boot, seed=seed)


def parallel_points(labels, answers, logprob_means, tokens, latencies, ns, *, methods, equal,
                    n_boot=1000, seed=0, bon_scores=None) -> dict[str, list[dict]]:
    """Scaling points of the parallel methods from ONE draw of max(ns) samples per problem.

    labels/answers/logprob_means/tokens: per problem, per sample (in sample order); latencies: per
    problem, the seconds attributed to its whole draw. For each N the first N samples are used:
    majority (self-consistency vote, the metrics tie rule), weighted_majority (exp(mean log-prob)
    weights), best_of_n (highest mean log-prob, ties to the earliest; or highest of ``bon_scores``, per problem
    per sample, where given: sweep's are best_of_n's "logprob" scores), oracle (pass@N: any correct).
    Returns {method: [{"budget": N, "tokens", "latency", "accuracy", "lo", "hi"}]}."""
    from ponder.metrics import cluster_answers, logprob_weights, majority_vote

    # (any other name, or a name's letters from a string, was voted as "majority" and labelled as given)
    bad = [m for m in ([methods] if isinstance(methods, str) else methods) if m not in PARALLEL_METHODS]
    if isinstance(methods, str) or bad:
        raise PonderError(f"parallel_points: methods must be a list of {', '.join(PARALLEL_METHODS)}, got "
                          f"{methods!r}")
    P = len(labels)
    for i, lab in enumerate(labels):
        if ns and max(ns) > len(lab):  # pass@N / maj@N from fewer than N samples would be mislabelled
            raise PonderError(f"parallel_points: N={max(ns)} > {len(lab)} samples (problem {i})")
    ids = [cluster_answers(a, equal) for a in answers]  # cluster once: answers_equal may be slow
    out: dict[str, list[dict]] = {m: [] for m in methods}
    for N in ns:
        tok_n = np.array([sum(t[:N]) for t in tokens], dtype=np.float64)
        # share of the draw's cost: by tokens; a problem whose samples were all empty by sample count
        share = np.array([sum(t[:N]) / sum(t) if sum(t) else N / len(t) for t in tokens], dtype=np.float64)
        lat_n = np.array(latencies, dtype=np.float64) * share
        for m in methods:
            acc = np.zeros(P)
            for i in range(P):
                lab = labels[i][:N]
                cid = [None if c < 0 else str(c) for c in ids[i][:N]]
                if m == "oracle":
                    acc[i] = float(any(lab))
                elif m == "best_of_n":
                    lps = [(-np.inf if v is None else v) for v in (logprob_means if bon_scores is None
                                                                    else bon_scores)[i][:N]]
                    j = max(range(N), key=lambda k: (lps[k], -k))
                    acc[i] = float(lab[j])
                else:
                    w = None
                    if m == "weighted_majority":
                        # a sample without an answer casts no vote, so its weight is no matter; one with an answer
                        # and no log-prob took weight 1, the most any sample gets, outvoting the measured ones
                        miss = [k for k in range(N) if cid[k] is not None and logprob_means[i][k] is None]
                        if miss:
                            raise PonderError(f"parallel_points: problem {i} sample {miss[0]} has an answer but no "
                                              "log-prob mean (None): weighted_majority cannot weigh its vote")
                        w = logprob_weights([0.0 if v is None else v for v in logprob_means[i][:N]])
                    win, _, _ = majority_vote(cid, weights=w)
                    # the winner is a cluster id; its earliest member in the first N is the chosen sample
                    acc[i] = float(lab[cid.index(win)]) if win is not None else 0.0
            mean, lo, hi = _ci(acc, n_boot, seed)
            out[m].append({"budget": N, "tokens": float(tok_n.mean()), "latency": float(lat_n.mean()),
                           "accuracy": mean, "lo": lo, "hi": hi})
    return out


def _read_sweep_progress(d: Path):
    """(header, {(model, part): [its chunk records, in order]}, the length of its whole lines in bytes) of the
    progress file an interrupted sweep left in ``d``; a last line cut short by a crash (no newline) is left out."""
    f = d / SWEEP_PROGRESS
    lines, size = _whole_lines(f)
    if not lines:
        raise PonderError(f"{f}: has no header line; remove the file to start the sweep afresh")
    try:
        header = json.loads(lines[0])
    except ValueError:
        raise PonderError(f"{f}:1: not JSON; remove the file to start the sweep afresh") from None
    kept: dict[tuple, list] = {}
    for ln, line in enumerate(lines[1:], 2):
        try:
            rec = json.loads(line)
            got = kept.setdefault((rec["model"], rec["part"]), [])
            if rec["start"] != sum(len(r["rows"]) for r in got) or not isinstance(rec["rows"], list):
                raise ValueError
            float(rec["seconds"])
        except (ValueError, KeyError, TypeError):
            raise PonderError(f"{f}:{ln}: not the next chunk of a sweep's draw; remove the file to start the sweep "
                              "afresh") from None
        got.append(rec)
    return header, kept, size


def sweep_kept(d) -> str | None:
    """What an interrupted sweep kept in ``d``, in words ("tiny parallel 64/200 problems, ..."); None: nothing."""
    try:
        header, kept, _ = _read_sweep_progress(Path(d))
    except (OSError, PonderError):
        return None
    total = header.get("n_problems") if isinstance(header, dict) else None
    said = [f"{m} {part} {sum(len(r['rows']) for r in recs)}/{total}" for (m, part), recs in kept.items()]
    return ", ".join(said) + " problems" if said else None


def _sweep_samples_name(models: list, mname: str, part: str) -> str:
    """The file a sweep's samples of one model and method go to: samples_PART.jsonl, with several models
    samples_K_PART.jsonl (K: the model's place in config.json's "models", from 1)."""
    return f"samples_{part}.jsonl" if len(models) == 1 else f"samples_{models.index(mname) + 1}_{part}.jsonl"


@locks_run("out_dir")
def sweep(
    models,
    items: Sequence[dict],
    *,
    parallel_ns: Sequence[int] = (1, 2, 4, 8, 16),
    budgets: Sequence[int] = (16, 32, 64, 128),
    methods: Sequence[str] = ("majority", "best_of_n", "budget_forcing"),
    max_new_tokens: int = 128,
    temperature: float = 0.8,
    top_p: float = 1.0,
    top_k: int = 0,
    min_p: float = 0.0,
    seed: int = 0,
    reward="math",
    answer_tokens: int | None = None,
    waits: int = 0,
    stop=None,
    chat: bool = False,
    system: str | None = None,
    equal: Callable | None = None,
    extract: Callable | None = None,
    out_dir: str | os.PathLike | None = None,
    progress: bool = True,
    n_boot: int = 1000,
    extra: dict | None = None,
    resume: bool = False,
    batch_problems: int | None = None,
) -> dict:
    """Test-time scaling curves for one or more models (module docstring).

    ``models``: (model, tok) or {name: (model, tok)}. ``methods``: parallel ones (``PARALLEL_METHODS``,
    x = N in ``parallel_ns``, sampled at ``temperature``, ``top_p``, ``top_k`` and ``min_p`` with ``max_new_tokens``
    each) and sequential
    ones (``budget_forcing`` at each B in ``budgets``, greedy, ``waits`` Wait-extensions and up to
    ``answer_tokens`` answer tokens, None: budget_forcing's default; ``effort`` at its three levels). Returns {"curves": [...],
    "files": {...}, "seconds": {...}}; with ``out_dir`` writes scaling_tokens.png, scaling_latency.png,
    scaling.csv, scaling.json (``report.plot_scaling``), summary.json and config.json. ``chat`` and ``system``: as
    ``evaluate``'s. With ``out_dir`` each chunk drawn is kept in ``SWEEP_PROGRESS`` there as it goes, and each
    method's samples, once drawn, in samples_PART.jsonl (PART: "parallel", the draw the parallel methods share;
    "budget_forcing" or "effort", a record per problem and budget or level), written atomically. ``resume``:
    continue the sweep interrupted in ``out_dir`` from the chunks kept (every chunk seeds its problems by index and
    starts where an uninterrupted sweep's does: the curves are the same, latencies and seconds aside); a finished
    one's saved curves are returned, marked ``"resumed": "finished"``; ``"resumed"``: the chunks found kept.
    ``batch_problems``: problems per chunk (None: 512 // max N for the parallel draw, 256 for sequential ones).
    """
    items = _check_items(items, reward)
    check_out_dir(out_dir, "sweep")
    _check_flag("chat", chat)
    _check_flag("resume", resume)
    if resume and out_dir is None:
        raise PonderError("resume: needs out_dir, the directory of the interrupted sweep")
    _check_flag("progress", progress)
    for what, f in (("extract", extract), ("equal", equal)):
        if f is not None and not callable(f):
            raise PonderError(f"sweep: {what} must be a callable or None, got {f!r}")
    mods = _models_dict(models)
    # text is split on commas, as --methods is (iterated, "majority" was the unknown methods 'm', 'a', ...)
    methods = [m.strip() for m in methods.split(",") if m.strip()] if isinstance(methods, str) else list(methods)
    if not methods:
        raise PonderError("sweep: no methods")
    for m in methods:
        if m not in PARALLEL_METHODS + SEQUENTIAL_METHODS:
            raise PonderError(f"sweep: unknown method {m!r} (parallel: {', '.join(PARALLEL_METHODS)}; "
                              f"sequential: {', '.join(SEQUENTIAL_METHODS)})")
    methods = list(dict.fromkeys(methods))  # one curve each (named twice: every point twice, as `eval --sweep` drops)
    par = [m for m in methods if m in PARALLEL_METHODS]
    seq = [m for m in methods if m in SEQUENTIAL_METHODS]
    ns = _ints("parallel_ns", parallel_ns) if par else []
    bs = _ints("budgets", budgets) if "budget_forcing" in seq else []
    _check_sampling(temperature=temperature, top_p=top_p, top_k=top_k, min_p=min_p, max_new_tokens=max_new_tokens,
                    seed=seed)
    # (as evaluate checks it: with 0/1 accuracies no bootstrap reads it, so 0 or 2.5 was recorded as 0 or 2, and
    # None failed int() for config.json once every sample had been drawn and the plots written)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise PonderError(f"n_boot={n_boot!r} must be an integer >= 1")
    # (numpy ones, from a grid of settings, passed the checks, then failed config.json's JSON once all had run)
    seed, temperature, top_p, max_new_tokens = int(seed), float(temperature), float(top_p), int(max_new_tokens)
    top_k, min_p = int(top_k), float(min_p)
    if isinstance(answer_tokens, np.integer):  # (checked where used: by budget forcing's context check)
        answer_tokens = int(answer_tokens)
    if par and temperature <= 0:
        raise PonderError("sweep: parallel methods need temperature > 0 (greedy samples are identical)")
    reward_fn = make_reward(reward)
    _check_reward_fields(reward_fn, items)
    unvoted = unvoted_reward(reward_fn, extract, equal)
    for m in par:
        if unvoted and m in ("majority", "weighted_majority"):
            _refuse_vote(f"sweep: method {m!r}", reward, unvoted)
    answers_by = {"extract": _jsonable(extract), "equal": _jsonable(equal)}  # (by name, as evaluate's config.json)
    extract, equal = answer_fns(reward_fn, extract, equal)
    prompts = [_prompt_of(it, chat, system) for it in items]
    P = len(items)
    # The sequential settings, checked before any model draws: else a bad one fails after the parallel draw.
    if "budget_forcing" in seq:  # (a numpy one, from a grid of settings, is one: config.json records its int)
        if isinstance(waits, bool) or not isinstance(waits, (int, np.integer)) or waits < 0:
            raise PonderError(f"sweep: waits must be an integer >= 0, got {waits!r}")
        waits = int(waits)
    checks = ([("budget forcing", bs[-1], prompts)] if "budget_forcing" in seq else []) + (
        [(f"effort {lv}", cfg["budget"], [scale.with_system_line(p, cfg.get("system", "")) for p in prompts])
         for lv, cfg in scale.EFFORT_LEVELS.items()] if "effort" in seq else [])
    cue = inspect.signature(scale.budget_forcing).parameters["answer_cue"].default  # (sweep keeps the default)
    for what, budget, ps in checks:
        for model, tok in mods.values():
            # (think_end as budget_forcing resolves it: a cut thinking is closed with "</think>" before the cue)
            scale.check_budget_context(model, tok, ps, budget, cue, answer_tokens, name=what, think_end="auto",
                                       names=_item_names(items))
    if par:  # (else a long prompt past the first chunk failed after the chunks before it were drawn)
        from ponder.engine import check_context, render_prompts

        for model, tok in mods.values():
            check_context(model, render_prompts(tok, prompts), max_new_tokens, names=_item_names(items))

    # config.json's text, made before any draw: a value JSON cannot take (a numpy waits that only budget forcing
    # checks, unused by a parallel sweep) failed once every sample had been drawn and the plots written
    config = {"kind": "sweep", "models": list(mods), "parallel_ns": ns, "budgets": bs, "methods": methods,
              "max_new_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p, "top_k": top_k,
              "min_p": min_p, "seed": seed, "reward": _jsonable(reward), "answer_tokens": _jsonable(answer_tokens),
              "waits": _jsonable(waits), "stop": _jsonable(stop), "n_boot": int(n_boot), **answers_by, "chat": chat,
              "system": system,
              "chat_template_kwargs": {m: _jsonable(getattr(t, "template_kwargs", {})) for m, (_, t) in mods.items()},
              "n_problems": P, **(extra or {})}
    if out_dir is not None:  # which weights, tokenizers and items produced it (resuming with others is refused)
        config.update({"models_sha256": {m: {"weights": _weights_digest(mo), "tokenizer": _tokenizer_digest(t)}
                                         for m, (mo, t) in mods.items()},
                       "dtypes": {m: str(getattr(mo, "dtype", None)) for m, (mo, _) in mods.items()},
                       "items_sha256": _items_digest(items)})
    config_text = _strict_json(config) if out_dir is not None else None
    # the chunks every draw is split into: a resumed sweep's start where an uninterrupted one's do
    if batch_problems is not None and (isinstance(batch_problems, bool) or not isinstance(
            batch_problems, (int, np.integer)) or batch_problems < 1):
        raise PonderError(f"sweep: batch_problems must be an integer >= 1 or None, got {batch_problems!r}")
    par_chunk = int(batch_problems) if batch_problems else (max(1, 512 // ns[-1]) if par else None)
    seq_chunk = int(batch_problems) if batch_problems else 256
    kept: dict[tuple, list] = {}
    progress_file, resumed, wrote = None, None, [0]
    if out_dir is not None:
        d = Path(out_dir)
        f = d / SWEEP_PROGRESS
        header = json.loads(config_text)
        header.pop("n_boot")  # (changes no draw: resumed with another, the curves' intervals use it)
        header.update({"parallel_chunk": par_chunk, "sequential_chunk": seq_chunk,
                       "devices": {m: getattr(getattr(mo, "device", None), "type", str(getattr(mo, "device", None)))
                                   for m, (mo, _) in mods.items()}})
        if resume and f.is_file():
            saved, kept, size = _read_sweep_progress(d)
            why = (_first_difference(saved, header, ignore=_moot_settings(items)) if isinstance(saved, dict) else
                   "its header is not a settings object")
            if why:
                raise PonderError(f"--resume {d}: holds an interrupted sweep: {why}; give the same settings, or "
                                  "another --out for a new sweep")
            os.truncate(f, size)  # (appending after a torn line would glue onto it)
            resumed = sum(len(recs) for recs in kept.values())
        else:
            if resume and (d / "summary.json").is_file() and (d / "scaling.json").is_file():
                from ponder.fileio import read_text

                try:
                    saved = json.loads(read_text(d / "config.json"))
                    summ = json.loads(read_text(d / "summary.json"))
                    curves = json.loads(read_text(d / "scaling.json"))["curves"]
                    # in the order asked (methods given in another order are the same sweep: _comparable)
                    order = [(m, x) for m in mods for x in par + seq]
                    curves.sort(key=lambda c: order.index((c["model"], c["method"])) if (c["model"], c["method"])
                                in order else len(order))
                except (OSError, ValueError, KeyError, TypeError) as e:
                    raise PonderError(f"--resume {d}: its config.json, summary.json or scaling.json is unreadable "
                                      f"({e})") from None
                why = _first_difference(saved, json.loads(config_text), ignore=_moot_settings(items))
                if why:
                    raise PonderError(f"--resume {d}: holds a finished sweep: {why}; give the same settings, or "
                                      "another --out for a new sweep")
                files = {k: str(d / f"scaling{x}") for k, x in (("tokens_png", "_tokens.png"), ("latency_png",
                         "_latency.png"), ("csv", ".csv"), ("json", ".json"))}
                return {"curves": curves, "seconds": summ.get("seconds", {}), "n_problems": P,
                        "settings": summ.get("settings"), **(extra or {}), "files": files, "resumed": "finished"}
            if not resume and f.is_file():
                what = sweep_kept(d)
                if what:
                    raise PonderError(f"--out {d}: holds an interrupted sweep ({what} kept); continue it with "
                                      f"--resume (the same settings), or remove {f} to start afresh")
            resumed = 0 if resume else None
            d.mkdir(parents=True, exist_ok=True)
            for old in d.glob("samples_*.jsonl"):  # a sweep's before (other models or methods): not this one's
                if re.fullmatch(r"samples_(\d+_)?(parallel|budget_forcing|effort)\.jsonl", old.name):
                    old.unlink()
            # and what marked a finished sweep there, and its report: with its samples gone (and this sweep's
            # written as each method ends) an interrupted sweep left the old summary beside other samples, which
            # --resume with the old settings then returned as finished and `ponder report` showed together
            for old in ("summary.json", "report.html"):
                (d / old).unlink(missing_ok=True)
            atomic_write_text(f, json.dumps(header, ensure_ascii=False) + "\n")
        take_run_lock(d)  # (a directory made just now)
        progress_file = open(f, "a", encoding="utf-8")

    def kept_rows(mname, part):
        recs = kept.get((mname, part), [])
        return [r for rec in recs for r in rec["rows"]], sum(float(rec["seconds"]) for rec in recs)

    def keep(mname, part, start, secs, rows):
        if progress_file is not None:  # on disk before the next chunk is drawn: an interruption loses at most one
            _append_line(progress_file, {"model": mname, "part": part, "start": start, "seconds": secs,
                                         "rows": rows})
            wrote[0] += 1

    def save_samples(mname, part, records):
        if out_dir is not None:
            atomic_write_text(Path(out_dir) / _sweep_samples_name(list(mods), mname, part), "".join(
                json.dumps(json_safe(r), ensure_ascii=False, allow_nan=False) + "\n" for r in records))

    def record(mname, method, i, sample, text, answer, judged, tokens, **more):
        # (as evaluate's samples.jsonl records, with the model, the method and its budget or level first)
        pid, prompt, gold = _problem_fields(i, items[i])
        correct, rew, verdict = judged
        first = {k: more.pop(k) for k in ("budget", "level") if k in more}
        return {"model": mname, "method": method, **first, "problem": i, "id": pid, "sample": sample,
                "prompt": prompt, "completion": text, "answer": answer, "gold": gold, "correct": correct,
                "reward": rew, "verdict": verdict, "tokens": tokens, **more,
                **{k: items[i][k] for k in RECORD_GOLD_FIELDS if items[i].get(k) is not None}}

    bars = []  # (closed if the sweep stops: left open, one was drawn again after the "interrupted" line)

    def bar(total, desc):
        if not progress:
            return None
        from ponder.progress import progress_bar

        bars.append(progress_bar(total=total, desc=desc, dynamic_ncols=True))
        return bars[-1]

    from ponder.engine import prompts_think_state
    from ponder.verify.registry import with_think_open

    curves, seconds = [], {}
    try:
        for mname, (model, tok) in mods.items():
            # a prompt rendered to end with "<think>" (a template that prefills it): its completions do not open it
            opens = prompts_think_state(tok, prompts)  # (votes read them so too: see draw_chunk; "closed" as False)
            judges = [with_think_open(reward_fn, f) for f in opens]
            if par:
                N = ns[-1]
                t0 = time.perf_counter()
                b = bar(P, f"{mname}: draw N={N}")
                chunk = par_chunk
                # per problem: its N samples' texts, tokens and mean log-probs, and the seconds of its draw
                rows, saved_s = kept_rows(mname, "parallel")
                if b:
                    b.update(len(rows))
                for start in range(len(rows), P, chunk):  # (resumed: from the first problem not kept)
                    t1 = time.perf_counter()
                    g, lt = scale.draw(model, tok, prompts[start:start + chunk], n=N, seed=seed, index_offset=start,
                                       temperature=temperature, top_p=top_p, top_k=top_k, min_p=min_p,
                                       max_new_tokens=max_new_tokens, stop=stop)
                    got = [{"texts": [s.text for s in gg], "tokens": [s.num_tokens for s in gg],
                            "logprob_means": [scale._mean_lp(s) for s in gg], "latency": lt_i}
                           for gg, lt_i in zip(g, lt)]
                    keep(mname, "parallel", start, time.perf_counter() - t1, got)
                    rows += got
                    if b:
                        b.update(len(g))
                if b:
                    b.close()
                lat = [r["latency"] for r in rows]
                judged = [[_judge_one(j, t, it) for t in r["texts"]] for r, it, j in zip(rows, items, judges)]
                labels = [[c for c, _, _ in js] for js in judged]
                answers = [[(extract_opened(extract, t) if f is True else extract(t)) for t in r["texts"]]
                           for r, f in zip(rows, opens)]
                lps = [list(r["logprob_means"]) for r in rows]
                # best_of_n's "logprob" scores: an empty completion (EOS first) -inf, as scale.best_of_n scores it (its
                # mean log-prob, a likely EOS, beat worked answers here: a curve below best_of_n on the same samples)
                bon = [[v if t else None for t, v in zip(r["texts"], lp)] for r, lp in zip(rows, lps)]
                toks = [list(r["tokens"]) for r in rows]
                save_samples(mname, "parallel", [
                    record(mname, "parallel", i, k, t, answers[i][k], judged[i][k], toks[i][k],
                           logprob_mean=lps[i][k], problem_latency=lat[i], think_open=opens[i])
                    for i, r in enumerate(rows) for k, t in enumerate(r["texts"])])
                pts = parallel_points(labels, answers, lps, toks, lat, ns, methods=par, equal=equal, n_boot=n_boot,
                                      seed=seed, bon_scores=bon)
                seconds[f"{mname}/parallel"] = round(time.perf_counter() - t0 + saved_s, 3)
                curves += [{"model": mname, "method": m, "kind": "parallel", "points": pts[m]} for m in par]
            for m in seq:
                t0 = time.perf_counter()
                settings = ([(B, {"budget": B, "waits": waits}) for B in bs] if m == "budget_forcing" else
                            [(scale.EFFORT_LEVELS[lv]["budget"], {"level": lv}) for lv in scale.EFFORT_LEVELS])
                fn = scale.budget_forcing if m == "budget_forcing" else scale.effort
                points, records = [], []
                b = bar(len(settings) * P, f"{mname}: {m}")
                for x, kw in settings:
                    part = f"{m}@{kw.get('level', x)}"
                    rows, wall = kept_rows(mname, part)  # (wall: the seconds of the chunks drawn, kept ones too)
                    outs = [scale.Outcome(**o) for o in rows]
                    if b:
                        b.update(len(outs))
                    for start in range(len(outs), P, seq_chunk):  # (resumed: from the first problem not kept)
                        t1 = time.perf_counter()
                        # through draw_chunk, as evaluate draws: a prompt that opens the thinking gets the extractor that
                        # reads as its judge does (with the plain one a thinking ended without "</think>" kept the answer
                        # drafted in it, unforced, and was judged no answer: a point below evaluate's at that budget)
                        got = [g[0] for g in draw_chunk(fn, model, tok, prompts[start:start + seq_chunk], sampling=False,
                                                        n=1, seed=seed, offset=start,
                                                        kwargs=dict(answer_tokens=answer_tokens, temperature=0.0,
                                                                    stop=stop, extract=extract, **kw))]
                        if out_dir is not None:
                            _check_answers([[o] for o in got], start)
                        secs = time.perf_counter() - t1
                        keep(mname, part, start, secs, [o.to_dict() for o in got])
                        wall += secs
                        outs += got
                        if b:
                            b.update(len(got))
                    judged = [_judge_one(j, o.text, it) for o, it, j in zip(outs, items, judges)]
                    acc = np.array([float(c) for c, _, _ in judged])
                    records += [record(mname, m, i, 0, o.text, o.answer, c, o.tokens, budget=x,
                                       **({"level": kw["level"]} if "level" in kw else {}), latency=o.latency,
                                       finish_reason=o.finish_reason, think_open=opens[i],
                                       **({"info": o.info} if o.info else {}))
                                for i, (o, c) in enumerate(zip(outs, judged))]
                    save_samples(mname, m, records)  # (after each budget: what is drawn so far, atomically)
                    mean, lo, hi = _ci(acc, n_boot, seed)
                    points.append({"budget": x, "tokens": float(np.mean([o.tokens for o in outs])),
                                   "latency": wall / P, "accuracy": mean, "lo": lo, "hi": hi,
                                   **({"level": kw["level"]} if "level" in kw else {})})
                if b:
                    b.close()
                seconds[f"{mname}/{m}"] = round(time.perf_counter() - t0, 3)
                curves.append({"model": mname, "method": m, "kind": "sequential", "points": points})
    except BaseException:
        for b in bars:
            b.close()
        if progress_file is not None:
            progress_file.close()
            # an error or an interruption before any chunk was kept (an option only the method checks, at its first
            # chunk; Ctrl-C while the models warm up): the file holds nothing but these settings, which --resume with
            # corrected ones refused, as did an eval into the directory, until a sweep there finished. Nothing to
            # continue: it goes (--resume with these settings then starts afresh, as it continued from nothing).
            if not wrote[0] and not kept:
                (Path(out_dir) / SWEEP_PROGRESS).unlink(missing_ok=True)
        raise
    # the settings the curves depend on, in the result and summary.json too: `ponder eval --sweep --json` without
    # --out (no config.json) printed the curves but not the temperature, token cap, seed, waits or answer tokens
    settings = {k: config[k] for k in ("max_new_tokens", "temperature", "top_p", "top_k", "min_p", "seed", "reward",
                                       "answer_tokens", "waits", "stop", "chat", "system")}
    result = {"curves": curves, "seconds": seconds, "n_problems": P, "settings": settings, **(extra or {}),
              "files": {}}
    if out_dir is not None:
        from ponder.report import plot_scaling

        d = Path(out_dir)
        (d / "summary.json").unlink(missing_ok=True)  # marks a finished sweep: not while the other files change
        (d / "report.html").unlink(missing_ok=True)  # `ponder report`'s of the old results would show their figures
        atomic_write_text(d / "config.json", config_text)  # before the plots: none without what produced them
        files = plot_scaling(curves, d / "scaling")
        result["files"] = {k: str(v) for k, v in files.items()}
        table = {f"{c['model']}/{c['method']}@{p['budget']}": {"mean": p["accuracy"], "lo": p["lo"], "hi": p["hi"],
                                                               "tokens": p["tokens"], "latency": p["latency"]}
                 for c in curves for p in c["points"]}
        atomic_write_text(d / "summary.json", _strict_json({"kind": "sweep", "n_problems": P, "settings": settings,
                                                            "seconds": seconds, "accuracy": table}))
        progress_file.close()
        (d / SWEEP_PROGRESS).unlink(missing_ok=True)  # (after it: until then a rerun with --resume can finish)
    if resumed is not None:  # returned, not saved: how many chunks the resumed sweep found kept
        result["resumed"] = resumed
    return result
