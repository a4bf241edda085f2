"""Reward functions by name, composites of them, and parallel scoring.

Every verifier is wrapped to one signature, `reward_fn(completion: str, item: dict, judge=None, *,
think_open=False) -> Verdict`, reading its gold from the item:

    math         item["answer"] (or "gold")          ponder.verify.math.check_math
    code         item["tests"] (+ optional "timeout", "float_tol") ponder.verify.code.check_code
    countdown    item["numbers"], item["target"] (+ optional "use_all": each number exactly once, not at most
                 once, as TinyZero's countdown reward wants)     ponder.verify.countdown.check_countdown
    format       nothing (think_open: see below)      ponder.verify.fmt.check_format
    constraints  item["constraints"]                  ponder.verify.constraints.check_constraints
    judge        item["prompt"]                       a scorer from ponder.verify.judge.make_judge

`get_reward("math+0.1*format")` (or `{"math": 1.0, "format": 0.1}`) builds a `Reward`: the shaped reward is the
weighted sum of `Verdict.value`s, while `correct` is the raw correctness of the FIRST (primary) verifier and is
never weighted or shaped. Every part's full verdict is kept in `parts`.

`think_open=True` says the prompt the completion continues ends with the opening think tag (a chat template
that prefills "<think>\\n"; `fmt.prompt_opens_think` on the rendered prompt): `format` then wants the
completion without it (check_format's open_in_prompt), and the others find no answer in a completion without
"</think>" (cut off while still thinking), as in one that opened its own thinking. Whoever samples and scores
passes it per prompt (`score_split`); the default False is the shape a completion that opens its own thinking has.
`think_open="closed"` says the prompt ends with a whole think block (`fmt.prompt_think_state`: Qwen3's template with
enable_thinking=False): `format` then judges the completion as if it began with that block (closed_in_prompt), the
others read it as with False.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import multiprocessing.connection
import numbers
import os
import pickle
import re
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing.pool import RemoteTraceback

from ponder.errors import PonderError, headline
from ponder.verify.verdict import Verdict


def _field(name: str, item, key: str, *aliases: str):
    if not isinstance(item, dict):
        raise PonderError(f"reward {name!r}: item must be a dict, got {type(item).__name__}")
    for k in (key, *aliases):
        if k in item and item[k] is not None:
            return item[k]
    raise PonderError(f"reward {name!r}: item has no {key!r} field" + (f" (or {aliases[0]!r})" if aliases else ""))


def _show(value) -> str:
    # the builtin type: a number read from a file with a fraction is a float subclass ("got _WrittenFloat 6.0")
    # (a type of another library's, a NumPy array, by its own name: "got object array([25, 4])" read as no type)
    name = next((t for t in type(value).__mro__ if t.__module__ == "builtins" and t is not object), type(value)).__name__
    return "null" if value is None else f"{name} {value!r:.60}"


def _is_number(x, kind) -> bool:
    # numbers.Integral/Real: NumPy's scalars (an item built from a pandas row: np.int64(100)) are numbers, and were
    # refused as "must be an integer, got object np.int64(100)"; a bool is none
    return isinstance(x, kind) and not isinstance(x, bool)


def _is_bool(x) -> bool:
    return isinstance(x, bool) or (type(x).__module__ == "numpy" and type(x).__name__ in ("bool", "bool_"))  # (np.bool_)


def _math_gold(item) -> tuple[str, object]:
    for key in ("answer", "gold"):
        if key in item and item[key] is not None:
            return key, item[key]
    return "answer", None


def check_math_gold(item) -> None:
    """A text gold the math verifier reads no answer from ("####", "?", "-", "\\boxed{}": a placeholder) scores every
    completion wrong ("bad gold" in samples.jsonl alone): its problem counted as failed in every metric, the benchmark's
    accuracy deflated without a word; in grpo and distill every sample scored 0 (no gradient from its group, a held-out
    accuracy deflated). Refused before anything is drawn (eval, grpo, distill), as an empty gold is; `ponder verify`
    keeps its per-row "bad gold" verdicts."""
    from .countdown import last_boxed
    from .math import _extract_gold, final_mark

    key, gold = _math_gold(item)
    if isinstance(gold, str) and len(gold) <= 2_000:  # (check_math reads a longer gold another way)
        try:
            ref, why = _extract_gold(text := final_mark(gold))
        except Exception:  # (check_math's own guard: a verifier bug costs the samples a "bad gold" would, no more)
            return
        # a placeholder names nothing (no letter or digit but a LaTeX command's), or boxes nothing: a gold in words
        # the verifier reads no answer from ("does not exist", "no real solutions", "cannot be determined") is a real
        # one, and refusing it refused the whole benchmark or run; its samples keep their "bad gold" verdicts
        box = last_boxed(text)
        if ref is None and why == "no answer" and (_names_nothing(text) or box is not None and _names_nothing(box)):
            raise PonderError(f"field {key!r} is {gold!r:.60}, in which the math verifier finds no answer: every "
                              "completion would be scored wrong; give the gold answer, or leave the row out")


def _names_nothing(text: str) -> bool:
    """No letter or digit outside LaTeX's command names: "####", "?", "-", "...", "$\\,$", "\\boxed{}"."""
    return re.search(r"[^\W_]", re.sub(r"\\[A-Za-z]+", "", text)) is None


# A LaTeX command typed into JSON with one backslash: JSON reads "\frac" as a form feed and "rac", "\boxed" as a
# backspace and "oxed" (neither is ever in an answer), "\theta"/"\times"/"\text" as a tab and "heta"..., "\right"/
# "\rho" as a carriage return and "ight"...: a gold so mangled matched no completion, silently. A tab or carriage
# return is taken for one only before a command's rest (then no letter), and not where that rest is a word too
# ("\tan": "an", "\to": "o", "\rm": "m"); "\n" (\neq, \nu) is not: a new line before "u = 3" is ordinary text.
_MANGLED_LATEX = re.compile(
    r"[\x08\x0c][A-Za-z]"
    r"|\t(?:imes|heta|ext(?:bf|it|rm|tt|sf)?|frac|au|anh|ilde|riangle|herefore|hinspace)(?![A-Za-z])"
    r"|\r(?:ight(?:arrow)?|ho|angle|floor|ceil|brace|vert)(?![A-Za-z])")
_ESCAPES = {"\x08": ("a backspace", "b"), "\x0c": ("a form feed", "f"), "\t": ("a tab", "t"),
            "\r": ("a carriage return", "r")}


def _check_latex_escapes(key: str, gold: str) -> None:
    m = _MANGLED_LATEX.search(gold)
    if m:
        what, letter = _ESCAPES[m.group()[0]]
        rest = gold[m.start() + 1:m.start() + 21]
        raise PonderError(f"field {key!r} holds {what} (JSON's \\{letter}) before {rest!r}: a LaTeX command "
                          f"written with one backslash, which JSON reads as an escape; write two (\\\\{letter}...)")


def check_item(kind: str, item) -> None:
    """The gold fields verifier `kind` reads from `item`, checked for type and shape without verifying
    anything: one PonderError naming the field and what is wrong ("field 'target' must be an integer, got str
    '3'"). Callers add where the item came from (`ponder verify` adds FILE:LINE)."""
    if not isinstance(item, dict):
        raise PonderError(f"item must be a dict, got {type(item).__name__}")
    if kind == "math":
        key, gold = _math_gold(item)
        if gold is None:
            raise PonderError(f"field {key!r} is missing or null")
        if isinstance(gold, str):
            if not gold.strip():
                raise PonderError(f"field {key!r} is empty")
            _check_latex_escapes(key, gold)
        elif not _is_number(gold, numbers.Real):
            raise PonderError(f"field {key!r} must be text or a number, got {_show(gold)}")
        elif not _is_number(gold, numbers.Integral) and not math.isfinite(gold):  # (an int is: isfinite overflowed on 10**400)
            raise PonderError(f"field {key!r} must be a finite number, got {gold!r}")
    elif kind == "countdown":
        nums, target = item.get("numbers"), item.get("target")
        if (not isinstance(nums, (list, tuple)) or not nums
                or not all(_is_number(x, numbers.Integral) for x in nums)):
            raise PonderError(f"field 'numbers' must be a non-empty list of integers, got {_show(nums)}")
        if any(x < 0 for x in nums):  # (an expression has no unary minus: the item could never be solved)
            raise PonderError(f"field 'numbers' must be non-negative (an answer cannot write a negative number), "
                              f"got {_show(nums)}")
        if not _is_number(target, numbers.Integral):
            raise PonderError(f"field 'target' must be an integer, got {_show(target)}")
        use_all = item.get("use_all")
        # ("false" is truthy; 1 is no answer to "all?"; NumPy's bool is one: an item from a pandas row holds np.True_)
        if use_all is not None and not _is_bool(use_all):
            raise PonderError(f"field 'use_all' must be true or false, got {_show(use_all)}")
    elif kind == "code":
        timeout = item.get("timeout")
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
                raise PonderError(f"field 'timeout' must be a number of seconds, got {_show(timeout)}")
            if not 0 < timeout <= 600:  # also rejects NaN
                raise PonderError(f"field 'timeout' must be in (0, 600] seconds, got {timeout!r}")
        _float_tol(item, "")
        from ponder.verify.code import check_code

        tests = item.get("tests")
        if tests is None:
            raise PonderError("field 'tests' is missing or null")
        try:
            check_code(None, tests)  # checks the tests (parses them) and stops at the missing completion
        except PonderError as e:
            raise PonderError(f"field 'tests': {str(e).removeprefix('code tests: ')}") from None
    elif kind == "constraints":
        from ponder.verify.constraints import check_constraints

        cs = item.get("constraints")
        if not isinstance(cs, list) or not cs:
            raise PonderError(f"field 'constraints' must be a non-empty list of {{'type': ...}} dicts, got {_show(cs)}")
        try:
            check_constraints(None, cs)  # checks every constraint and stops at the missing completion
        except PonderError as e:
            raise PonderError(f"field 'constraints': {e}") from None


def _checked(name: str, item) -> None:
    try:
        check_item(name, item)
    except PonderError as e:
        raise PonderError(f"reward {name!r}: {e}") from None


def _opened(completion, think_open: bool):
    """The completion with the "<think>" its prompt ended with: every verifier then reads the answer after its
    first "</think>", and a completion cut off before that has none. Without it a truncated completion of such a
    prompt (DeepSeek-R1's template) was read whole: a box drafted in the thinking scored math 1, a lowercase
    thinking met the constraints."""
    return "<think>" + completion if _state(think_open) is True and isinstance(completion, str) else completion


def _state(think_open):
    """True (the prompt opened the thinking), "closed" (it ends with a whole think block) or False."""
    if isinstance(think_open, str):  # ("closed" is truthy: read as True it prefixed "<think>")
        if think_open != "closed":
            raise PonderError(f"think_open must be True, False or 'closed', got {think_open!r:.60}")
        return "closed"
    return bool(think_open)


def _math(completion, item, judge=None, *, think_open=False) -> Verdict:
    from ponder.verify.math import check_math  # lazy: SymPy-backed, written separately

    gold = _field("math", item, "answer", "gold")
    _checked("math", item)
    if _is_number(gold, numbers.Real):
        try:
            gold = str(gold)  # datasets often store numeric golds; check_math compares strings it parses
        except ValueError:  # an int past Python's 4,300-digit str limit: past check_math's length cap as well
            return Verdict(False, None, "too long")
    return check_math(_opened(completion, think_open), gold)


def _code(completion, item, judge=None, *, think_open=False) -> Verdict:
    from ponder.verify.code import check_code

    tests = _field("code", item, "tests")
    timeout = item.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
        raise PonderError(f"reward 'code': field 'timeout' must be a number of seconds, got {_show(timeout)}")
    if timeout is not None and not 0 < timeout <= 600:  # before float(): 10**400 raised OverflowError there
        raise PonderError(f"reward 'code': field 'timeout' must be in (0, 600] seconds, got {timeout!r:.60}")
    return check_code(_opened(completion, think_open), tests, timeout=5.0 if timeout is None else float(timeout),
                      float_tol=_float_tol(item, "reward 'code': "))


def _float_tol(item: dict, prefix: str) -> float:
    """A code item's "float_tol": the tolerance of real numbers in stdio output (check_code's; 0 for exact)."""
    from ponder.verify.code import FLOAT_TOL

    tol = item.get("float_tol")
    if tol is None:
        return FLOAT_TOL
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 <= tol <= 1:
        raise PonderError(f"{prefix}field 'float_tol' must be a number in [0, 1] (0: exact output), got {_show(tol)}")
    return float(tol)


def _countdown(completion, item, judge=None, *, think_open=False) -> Verdict:
    from ponder.verify.countdown import check_countdown

    numbers, target = _field("countdown", item, "numbers"), _field("countdown", item, "target")
    _checked("countdown", item)
    # (use_all: a task that wants every number used; check_countdown had it, but no item could ask for it, and an
    # answer using a subset scored where the task's own rule refuses it)
    return check_countdown(_opened(completion, think_open), [int(x) for x in numbers], int(target),
                           use_all=bool(item.get("use_all")))


def _format(completion, item, judge=None, *, think_open=False) -> Verdict:
    from ponder.verify.fmt import check_format

    state = _state(think_open)
    return check_format(completion, open_in_prompt=state is True, closed_in_prompt=state == "closed")


def _constraints(completion, item, judge=None, *, think_open=False) -> Verdict:
    from ponder.verify.constraints import check_constraints

    cs = _field("constraints", item, "constraints")
    _checked("constraints", item)  # e.g. 'min' > 'max': a spec no response can meet, said once, not scored 0
    return check_constraints(_opened(completion, think_open), cs)


def _judge(completion, item, judge=None, *, think_open=False) -> Verdict:
    if judge is None:
        raise PonderError("reward 'judge': no judge configured; use get_reward(..., judge=make_judge(...))")
    from .judge import prompt_text  # a chat item's messages reach any judge as the problem's text

    return judge(prompt_text(_field("judge", item, "prompt")), _opened(completion, think_open))


VERIFIERS: dict[str, Callable] = {"math": _math, "code": _code, "countdown": _countdown, "format": _format,
                                  "constraints": _constraints, "judge": _judge}


@dataclass(frozen=True)
class RewardResult:
    reward: float  # shaped: sum of weight * verdict.value
    correct: bool  # raw correctness of the primary verifier, unweighted
    parts: dict = field(default_factory=dict)  # name -> Verdict.to_dict()

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Reward:
    terms: tuple[tuple[str, float], ...]  # (verifier name, weight); the first is the primary one
    judge: Callable | None = None

    @property
    def primary(self) -> str:
        return self.terms[0][0]

    def __call__(self, completion, item, *, think_open: bool = False) -> RewardResult:
        """`think_open`: the completion's prompt ends with the opening think tag, or "closed": with a whole think
        block (see the module's docstring)."""
        parts: dict[str, dict] = {}
        total = 0.0
        for name, weight in self.terms:
            v = VERIFIERS[name](completion, item, self.judge, think_open=think_open)
            parts[name] = v.to_dict()
            total += weight * v.value
        return RewardResult(reward=total, correct=bool(parts[self.primary]["correct"]), parts=parts)

    def check(self, item) -> None:
        """The fields this reward's verifiers read from `item`, checked without verifying anything (format and judge
        read no gold): eval, grpo and distill refuse a bad item before sampling, not once every sample is drawn. A
        placeholder math gold ("####") is refused too: every sample would score 0, unsaid."""
        for name, _ in self.terms:
            if name in ("math", "code", "countdown", "constraints"):
                try:
                    check_item(name, item)
                    if name == "math":
                        check_math_gold(item)
                except PonderError as e:
                    raise PonderError(f"reward {name!r}: {e}") from None


_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_TERM = re.compile(rf"\s*(?P<sign>[+-])?\s*(?:(?P<w1>{_NUM})\s*\*\s*)?(?P<name>[A-Za-z_]\w*)"
                   rf"(?:\s*\*\s*(?P<w2>{_NUM}))?\s*")


def _parse(spec: str) -> list[tuple[str, float]]:
    """'math+0.1*format' → [('math', 1.0), ('format', 0.1)]; terms after the first need a sign."""
    terms, pos = [], 0
    while pos < len(spec):
        m = _TERM.match(spec, pos)
        if not m or m.end() == pos or (terms and not m.group("sign")) or (m.group("w1") and m.group("w2")):
            raise PonderError(f"reward spec {spec!r}: cannot parse at {spec[pos:pos + 20]!r} "
                              "(expected e.g. 'math', 'math+0.1*format')")
        w = float(m.group("w1") or m.group("w2") or 1.0)
        terms.append((m.group("name"), -w if m.group("sign") == "-" else w))
        pos = m.end()
    return terms


def get_reward(spec, *, judge: Callable | None = None) -> Reward:
    """`"math"`, `"math+0.1*format"`, `"code-0.2*format"` or `{"math": 1.0, "format": 0.1}` → Reward."""
    if isinstance(spec, Reward):
        return spec
    if isinstance(spec, str):
        terms = _parse(spec)
    elif isinstance(spec, dict):
        terms = []
        for name, w in spec.items():
            # numbers.Real: a NumPy weight (np.float32(0.1), np.int64(1)) is a number, and was refused as none
            if not isinstance(w, numbers.Real) or isinstance(w, bool):
                raise PonderError(f"reward spec: weight of {name!r} must be a number, got {w!r}")
            try:
                terms.append((name, float(w)))
            except OverflowError:  # an int past float's range (a JSON config's 1 followed by 400 zeros)
                raise PonderError(f"reward spec: the weight of {name!r} is too large (not a finite number)") from None
    else:
        raise PonderError(f"reward spec: expected a name, 'a+0.1*b' or a dict of weights, got {type(spec).__name__}")
    if not terms:
        raise PonderError(f"reward spec {spec!r}: no verifier named")
    for n, w in terms:  # 1e400 parses as inf: every reward would be inf or nan, every step skipped
        if not math.isfinite(w):
            raise PonderError(f"reward spec {spec!r}: the weight of {n!r} is {w} (not a finite number)")
    names = [n for n, _ in terms]
    for n in names:
        if n not in VERIFIERS:
            raise PonderError(f"reward spec {spec!r}: unknown verifier {n!r}; valid: {', '.join(VERIFIERS)}")
    if len(set(names)) != len(names):
        raise PonderError(f"reward spec {spec!r}: a verifier is named twice")
    if "judge" in names and judge is None:
        raise PonderError("reward 'judge': no judge configured; use get_reward(..., judge=make_judge(...))")
    return Reward(tuple(terms), judge)


def with_think_open(reward: Callable, think_open) -> Callable:
    """`reward` for completions of a prompt that does (or does not) end with the opening think tag: a Reward
    bound to think_open=True, or "closed" (picklable, for process and Ray pools); anything else, or False, as given (a
    user's callable(completion, item) takes no such keyword)."""
    state = _state(think_open)
    if state and isinstance(reward, Reward):
        return functools.partial(reward, think_open=state)
    return reward


def item_id(item) -> str | None:
    """An item's own id (a file's, or eval's FILE-LINE), to name it by; None if it has none."""
    v = item.get("id") if isinstance(item, dict) else None
    # (repr-escaped where it holds a line break or other control: an id "a\nb" split the one-line error in two)
    return None if v is None else (s if (s := str(v)).isprintable() else repr(s)[1:-1])[:80]


class ScoringError(PonderError):
    """A scorer's error on input `index` (from 0) of the `n` a call scores, item id `item` (or None): '{prefix}{what}
    input {index + 1} of {n} (item {item}): {kind}: {message}'. Kept in parts so that score_split, which scores a call
    in parts, can say the input's index in the whole call (a part's index named another completion)."""

    def __init__(self, index: int, n: int | None, item, kind: str, message: str, prefix: str = "",
                 what: str = "scoring"):
        super().__init__(index, n, item, kind, message, prefix, what)  # (all of them: pickled as they are)
        self.index, self.n, self.item, self.kind, self.message = index, n, item, kind, message
        self.prefix, self.what = prefix, what

    def __str__(self):
        # (counted from 1, as "input 5 of 5" reads: from 0, the last of five was "input 4 of 5")
        return (f"{self.prefix}{self.what} input {self.index + 1}{f' of {self.n}' if self.n is not None else ''}"
                f"{f' (item {self.item})' if self.item is not None else ''}: {self.kind}: {self.message}")


def score_input(fn: Callable, completion, item, i: int, n: int):
    """fn(completion, item), input i of the n a call scores: a scorer's error (a custom reward's or verifier's bug)
    names the input and its item's id, 'scoring input 5 of 5 (item q4): KeyError: 'answer'', as the Ray and
    data-parallel paths say it (a bare "KeyError: 'answer'" named none of thousands of completions); a PonderError
    (a bad item names itself) stays as it is."""
    try:
        return fn(completion, item)
    except PonderError:
        raise
    except Exception as e:
        raise ScoringError(i, n, item_id(item), type(e).__name__, headline(str(e).strip())) from e


def score_here(fn: Callable, completions: Sequence, items: Sequence) -> list:
    """[fn(c, item) ...] in this process, a scorer's error naming its input (score_input): the single-process
    score of evaluate and grpo."""
    n = len(completions)
    return [score_input(fn, c, it, i, n) for i, (c, it) in enumerate(zip(completions, items))]


def score_split(score: Callable, fn_for: Callable, completions: Sequence, items: Sequence,
                think_open: Sequence[bool]) -> list:
    """`score(fn, completions, items) -> results` (a local loop, parallel_map, a Ray or DataParallel score_fn)
    with fn = fn_for(flag), once for the completions whose prompt ends with the opening think tag (flag True)
    and once for the others (and once for flag "closed"), merged back in input order. The items reach `score` unchanged (no marker key a
    user's reward could trip on; a sharding score_fn still sees plain lists), and when no prompt opens the
    thinking it is the single call it always was."""
    n = len(completions)
    if len(items) != n or len(think_open) != n:
        raise PonderError(f"score: {n} completions, {len(items)} items, {len(think_open)} think_open flags")
    out: list = [None] * n
    states = [_state(f) for f in think_open]
    for flag in (False, True, "closed"):
        idx = [i for i in range(n) if states[i] == flag]
        if not idx:
            continue
        try:
            res = list(score(fn_for(flag), [completions[i] for i in idx], [items[i] for i in idx]))
        except ScoringError as e:  # the input's index in the whole call, not in this part
            if len(idx) == n or not (isinstance(e.index, int) and 0 <= e.index < len(idx)):
                raise
            raise ScoringError(idx[e.index], n if e.n is not None else None, e.item, e.kind, e.message, e.prefix,
                               e.what).with_traceback(e.__traceback__) from e.__cause__
        if len(res) != len(idx):
            raise PonderError(f"score: {len(res)} results for {len(idx)} completions")
        for i, r in zip(idx, res):
            out[i] = r
    return out


# ---------------------------------------------------------------- parallel scoring

def _score_chunk(args):
    fn, pairs = args
    return [fn(c, it) for c, it in pairs]


def _chunk_worker(conn, fn, chunks):
    """A forked scoring process: score each chunk whose index k the parent sends until it sends None. The chunks
    are inherited at the fork, not sent: items that cannot be pickled (a lambda in a custom reward's item) score as
    with workers=1."""
    while True:
        task = conn.recv()
        if task is None:
            _close_helper_pools()
            return
        k, pairs = task, chunks[task]
        out = []
        try:
            for c, it in pairs:
                out.append(fn(c, it))
            msg = (k, True, out)
        except Exception as e:  # the parent re-raises it, with the row and the traceback here (pickling drops it)
            msg = (k, False, (e, len(out), traceback.format_exc()))
        try:
            conn.send(msg)
        except Exception as e:  # a result or an exception that cannot be pickled
            err = PonderError(f"score: a scoring worker could not send back its result: {e}")
            conn.send((k, False, (err, len(out), None)))


def _close_helper_pools() -> None:
    # A forked scoring worker ends by os._exit (no atexit): the symbolic workers check_math started in it would
    # outlive the call as orphans (until their own watchdog noticed, a second later)
    import sys

    bounded = sys.modules.get("ponder.verify.bounded")
    for pool in list(bounded._POOLS) if bounded else ():
        pool.close()


def _process_map(fn, chunks: list, workers: int, size: int, n: int, bar) -> list | None:
    """The chunks scored over `workers` forked processes, one chunk per worker at a time. Not
    multiprocessing.Pool: it replaces a worker that dies mid-task (OOM killer, a segfault, os._exit in a reward
    function) silently and waits forever for the lost chunk; here each worker's sentinel is watched, so a death
    is one PonderError naming its exit code and the rows it held. None when no process could be started."""
    ctx = multiprocessing.get_context("fork")
    procs, conns, busy = [], [], {}  # busy: worker index -> chunk index it holds
    results: list = [None] * len(chunks)
    try:
        for _ in range(workers):
            parent, child = ctx.Pipe()
            try:
                p = ctx.Process(target=_chunk_worker, args=(child, fn, chunks), daemon=True)
                p.start()
            except (AssertionError, OSError, ValueError):
                parent.close()
                child.close()
                if not procs:
                    return None  # e.g. out of processes: use threads
                break
            child.close()
            procs.append(p)
            conns.append(parent)
        todo = iter(range(len(chunks)))
        for w, conn in enumerate(conns):
            k = next(todo, None)
            if k is not None:
                conn.send(k)
                busy[w] = k
        while busy:
            ready = set(multiprocessing.connection.wait([conns[w] for w in busy] + [procs[w].sentinel for w in busy]))
            for w in list(busy):
                if conns[w] not in ready and procs[w].sentinel not in ready:
                    continue
                try:
                    msg = conns[w].recv() if conns[w].poll() else None
                except (EOFError, OSError):
                    msg = None
                except Exception as e:  # e.g. an exception class whose __init__ cannot unpickle its args
                    lo, hi = busy[w] * size, min(n, (busy[w] + 1) * size) - 1
                    raise PonderError(f"score: the result of rows {lo}-{hi} could not be read back from its "
                                      f"worker: {type(e).__name__}: {e}") from None
                if msg is None:  # no result, and its pipe closed or its process ended: the worker died
                    procs[w].join()
                    raise PonderError(_died(procs[w].exitcode, busy[w], size, n))
                k, ok, value = msg
                if not ok:
                    err, i, tb = value
                    if tb:  # (as multiprocessing.Pool shows a worker's traceback: the cause)
                        err.__cause__ = RemoteTraceback(
                            f"row {k * size + i} (0-based) of {n} raised it in a scoring worker:\n{tb}")
                    raise err
                results[k] = value
                if bar:
                    bar.update(len(value))
                k = next(todo, None)
                if k is None:
                    del busy[w]
                    continue
                try:
                    conns[w].send(k)
                except OSError:  # killed between two chunks (the OOM killer): its pipe is gone
                    procs[w].join()
                    raise PonderError(_died(procs[w].exitcode, k, size, n)) from None
                busy[w] = k
        for c in conns:  # done: each worker closes its own helper processes and exits
            try:
                c.send(None)
            except OSError:
                pass
        for p in procs:
            p.join(timeout=5)
        return results
    finally:
        # on success, an error, a dead worker or KeyboardInterrupt alike: no worker outlives the call or keeps
        # scoring a long chunk (SIGKILL: a reward function cannot catch or ignore it; the code sandbox dies with its
        # worker through its parent-death signal, code._parent_death_prefix)
        for p in procs:
            if p.is_alive():
                p.kill()
        for p in procs:
            p.join()
            p.close()
        for c in conns:
            c.close()


def _died(exitcode, k: int, size: int, n: int) -> str:
    import signal

    if exitcode is not None and exitcode < 0:
        try:
            how = f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"killed by signal {-exitcode}"
        if exitcode == -signal.SIGKILL:
            how += " (out of memory?)"
    else:
        how = f"exit code {exitcode}"
    lo, hi = k * size, min(n, (k + 1) * size) - 1
    return (f"score: a scoring worker process died ({how}) while scoring rows {lo}-{hi} (0-based) of {n}; "
            "the other workers were stopped (a crash or an exit in a verifier or reward function, or memory?)")


def parallel_map(fn: Callable, completions: Sequence, items: Sequence, *, workers: int | None = None,
                 progress: bool = False, desc: str = "verify") -> list:
    """[fn(c, item) ...] in input order, over processes (threads when `fn` cannot be pickled, e.g. a judge
    closure). Processes use the fork start method: the workers inherit the caller's imports and need no
    `if __name__ == "__main__"` guard (Linux; verifiers hold no locks or GPU state across the fork)."""
    if len(completions) != len(items):
        raise PonderError(f"score: {len(completions)} completions but {len(items)} items")
    n = len(completions)
    workers = (os.cpu_count() or 1) if workers is None else int(workers)
    if workers < 1:
        raise PonderError(f"score: workers must be >= 1, got {workers}")
    bar = None
    if progress:
        from ..progress import progress_bar

        bar = progress_bar(total=n, desc=desc, unit="item", dynamic_ncols=True)
    try:
        if workers == 1 or n <= 1:
            out = []
            for c, it in zip(completions, items):
                out.append(fn(c, it))
                if bar:
                    bar.update(1)
            return out
        pairs = list(zip(completions, items))
        size = max(1, min(64, n // (workers * 4)))  # small chunks: code checks vary from 50 ms to the timeout
        chunks = [pairs[i:i + size] for i in range(0, n, size)]
        try:
            pickle.dumps(fn)
            picklable = True
        except Exception:
            picklable = False
        results = None
        if picklable and not multiprocessing.current_process().daemon:  # a daemonic process has no children
            results = _process_map(fn, chunks, min(workers, len(chunks)), size, n, bar)
        if results is None:
            with ThreadPoolExecutor(min(workers, len(chunks))) as ex:
                results = []
                for res in ex.map(_score_chunk, [(fn, ch) for ch in chunks]):
                    results.append(res)
                    if bar:
                        bar.update(len(res))
        return [r for chunk in results for r in chunk]
    finally:
        if bar:
            bar.close()


def score_many(reward, completions: Sequence, items: Sequence, workers: int | None = None, *,
               progress: bool = False) -> list[RewardResult]:
    """Score every (completion, item) pair with `reward` (a Reward or a spec for get_reward), order preserved."""
    return parallel_map(get_reward(reward), completions, items, workers=workers, progress=progress, desc="reward")
