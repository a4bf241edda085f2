"""Math answer verifier: is the final answer of a completion mathematically equal to the gold?

Pipeline (each stage is bounded, so a call has a hard wall-clock bound from any thread):

1. Extraction (`extract_answer`), linear-time scanning with `str.find`/`rfind` and hand-written
   brace matching (no regex with nested quantifiers on untrusted text):
   text before the first end-of-turn token (`<|im_end|>`, `<|endoftext|>`, `<|eot_id|>`, `<|user|>`, `<eos>`, a `</s>`
   that closes no `<s>`: what follows is a made-up next turn), after the first `</think>` (an unterminated `<think>`
   means no answer), before a made-up next problem that a base model sampled without a chat template writes with no
   token, as evaluation harnesses' stop sequences cut it: a line opening with "Problem:", "Question:", "Q:", "Human:",
   "User:", "Instruction:" (or numbered, "Question 2:", "Q2:", unless the completion numbered its own problems before
   it) or a "### Problem"/"## Question"/"### Instruction" heading, after an answer concluded before it (a box, an
   answer phrase with a value, GSM8K's "#### 6", or a bare answer alone, " 6"), and followed by a reply marker
   ("Solution:", "Answer:", "A:", "Assistant:", "### Response", ...) ("\\boxed{6}.\\n\\nProblem: What is 3 +
   4?\\nSolution: ... \\boxed{7}." is 6; an echo of the problem before the answer, "Question: is 7 prime?" before it,
   a made-up problem cut off before its reply, or a question about the answer, "Q: Is that right? A: No, 7.", cut
   nothing; an opener inside a line, "The answer is 6. Question: What is 3 + 4? Answer: 7", cuts only right after a
   sentence that concludes the answer, before a question with a number, in no first person, then a reply) -> the last
   `\\boxed{}`/`\\fbox{}` (adjacent boxes joined by "," / "and", or parted by only spacing and marks however
   long, are one multi-part answer; an
   unbalanced or empty last box is *no answer*) -> an explicit "final answer is / answer is /
   Answer:" phrase (a phrase written *after* the last box wins: the model revised its answer; a revision in
   prose with no phrase or box, "\\boxed{5}. Actually it's 6.", "Correction: 6", "Oops,
   add one: 5 + 1 = 6.", is a hedge of both) ->
   the whole completion when it is a short bare answer (a line of computations, "2 + 3 = 5. 5 + 1 = 6.", or one cut off
   after them, "8 * 9 = 72. 72 - 17 = 54. 5", is none) -> the last math span or number near the
   end (a number followed by a long tail of prose is not an answer; one tried and rejected, "Checking 7: it fails.",
   queried and answered no, "So we get 6. Is it 7? No." or "Is 7 possible? Nah." (with nothing concluded: no answer;
   "So we get 6. Is 7 prime? No." is 6 too, while "Is 9 prime? No." alone reads 9),
   said to be what the concluded value is not, "So we get 6 instead of 7.", or the writer's earlier value, "So we get
   6. Previously, I had 7.", is not the answer either; a run of values joined by
   "or"/"and"/"," is one list, so "It is 3 or 4." is a hedge). A box inside a box is read with the
   outermost box around it. Another value offered with "or" (or "maybe", "alternatively", "otherwise", ..., or
   as "5 also works", "it could also be 5", "maybe the answer is 5") right
   after the answer, in its sentence or opening the next, boxed or not ("\\boxed{3} or 4", "The answer
   is 3. Maybe 4.", "\\boxed{3}. Alternatively, ..., \\boxed{4}."), makes the answer a hedge, a list of
   both (the same value in another form is no other value; "Or rather \\boxed{4}" is a correction;
   emphasis around the word, "**or**", "\\textbf{or}", changes nothing). So is a value offered as hearsay
   ("some might say 5"), as possible ("It might be 5.", "5 is possible too", "Either 3 or 5."), for another case or
   reading ("; if not, 5", "5 if n is even", "unless ..., in which case 5", "Under the other reading, 5."), in a
   postscript, alone on the line after a box, or for a changed problem ("If instead we include 0, we get 5.", no
   correction; "If we include 0, we get 5." too after a box, a phrase or a concluding "So we get 3."). An answer phrase that denies a value ("the answer is not 5") gives none: the answer before it
   stands, unless it is the value denied; one that turns to another ("isn't 5 but 3", "is not 5; it is 3") gives
   that, and one whose value is "instead of"/"rather than" another gives its value ("The answer is 6 instead of 7").
   "The correct option is (C)" is an answer phrase; a condition after its value ("3, when n=1") is no part of
   it, unless another case follows. A number in words with its digits ("twelve (12)") is the digits; so is one
   alone ("ten") or restating the value ("10 or ten"). Values for the parts of a question ("\\boxed{3} for part (a)
   and 5 for part (b)", "(a) 3, (b) 5") are the parts, in order.
   An answer of marks alone ("$$", "##", "\\quad", "--") is no answer. An answer said to be rough or queried is no
   committed value, as "about 6" is none: "6 or so", "\\boxed{6}, roughly", "\\boxed{6 \\text{ ish}}", "\\boxed{6?}",
   "~6" after a phrase, and "Final answer: 6?" or "\\boxed{6}... or is it?" left unanswered ("? Yes." keeps it); so is
   one its writer is unsure of ("\\boxed{6} (not sure)", "(guess)", "(?)", "\\boxed{6}. But I am not sure."). A value
   taken back right after it ("\\boxed{6} is wrong", "Is that wrong? Yes", "No wait, it is 7", "Answer: 6 -- no, 7")
   gives the value it turns to, else none; a last box denied ("\\boxed{6}, not \\boxed{7}") is not the answer.
2. Cleaning and parsing: a small tokenizer and recursive-descent parser for the LaTeX and plain-text
   math that answers are written in, into a tuple AST. Length (1,000 chars) and nesting (40) caps
   make it linear-time and recursion-safe. Units, `\\text{}` units (not text naming a value or a
   qualifier: `4 \\text{ (or 3)}`, `4 \\text{ or more}`), `%`, degrees (inside a trig
   function they convert to radians: `\\sin 30^\\circ` = 1/2), currency and thousands separators
   are dropped here; `x = 5`-style answers keep the equation and compare by the right-hand side
   when the left is a name or a sum of names (`m + n = 17`, what "find m + n" asks); two plain numbers said to be
   equal that are not (`12 = 13`) are no answer. A chain answers its last value (`x = 5+5+1 = 11` is 11, as graders read
   it: one value only, so no hedge), before any `\\approx`; a congruence with `\\pmod` must hold, and a residue
   keeps its modulus (`2 \\pmod 5` is 2, but not `2 \\pmod 6`); a percent is not an angle. Set-builder notation
   (`\\{x : x > 0\\}`, `\\{x \\mid ...\\}`) is the set its one-variable condition describes; "all real numbers" is
   \\mathbb{R} and "no solution" the empty set, as words or in `\\text{}`. Two bare numbers side
   by side (`3 4`, `2 \\text{ h } 30 \\text{ min}`) are no product: such an answer is unparseable (a whole number
   and a proper fraction, `2 1/2` as `2\\frac{1}{2}`, are a mixed number, in prose too). Option letters listed in
   one text (`\\text{A, C}`) are their list.
3. Comparison, in process, with no symbolic algebra (the fast path):
   exact `fractions.Fraction` arithmetic for numbers; a randomized exact identity test for rational
   functions (Schwartz-Zippel: evaluate both sides at random rational points with exact arithmetic);
   60-digit `mpmath` evaluation with a running error bound for constants with radicals, pi, e,
   logs and trig, and at random points for identities in variables (unequal when the difference
   is far outside the error bound; equal when they agree within a bound below 1e-45 relative;
   otherwise undecided). Size guards (bits of exact sums, products, powers and roots, magnitude of
   numeric values, factorial arguments) keep every step bounded, and exact arithmetic checks the
   call's deadline; values beyond 10^(10^6) are "too long".
4. Symbolic comparison (SymPy) only for what the fast path cannot decide (unknown functions,
   identities in variables with radicals/trig, nonlinear inequalities): it runs in a persistent
   worker process (`ponder.verify.bounded.WorkerPool`); the caller waits at most its remaining
   time, then the worker is killed and replaced. The caller never holds a SymPy object.

Why our own LaTeX parser rather than `sympy.parse_expr` on a rewritten string: answers need
structure SymPy strings do not carry (open/closed intervals, unordered sets vs ordered tuples,
equations vs values, units, thousands separators), the fast path must not import SymPy, and a
hand-written parser gives hard caps on size and depth. The parser emits plain tuples, which the
worker converts to SymPy after re-parsing the same strings.

Conventions (competition grading): exact by default (0.3333 != 1/3; a decimal written with >= 15
significant digits, past 2^53 only when it is a double's value, is a printed binary float: standing alone it
matches an exact value equal to it, or one with more digits than it writes that lies within one unit of its
last place (a rounding or a cut) or whose nearest double it is ("0.0833333333333333" is 1/12,
"1.8446744073709552e19" is 2^64), never another value it could write exactly ("123456789012345.5" is
neither 123456789012345 nor ...346) unless it is within 1e-14 relative of that value (or 4 ULPs of its
double), as a float computation prints it, where that window reaches no other value of the value's own precision
("0.30000000000000004" is 0.3, "0.050000000000000044" is 1/20, "2.9999999999999996" is 3; "4503599627370497.0" is
not 4503599627370498: a tolerance never makes one answer right for two such golds); inside an expression, or
against an inexact value (pi, sqrt 2), it is compared at 1e-14 relative precision), `tolerance`
turns on a relative numeric tolerance; several values where the gold has one (a hedge: "41 or 42",
"\\pm 3") are wrong; lists compare in any order: as multisets when the gold list repeats a value
(roots counted with multiplicity: "1, 1, 2" is not "1, 2, 2", nor is "1, 2" or the set "\\{1, 2\\}"),
else as sets (against a gold of distinct values, or of one value, a repeated value is no other answer:
"5, 5" is 5; `answers_equal`, with no gold, counts a repeat on either side); set literals are sets
(duplicates collapse); parenthesized tuples compare in order, `(a, b)` also matches the open interval;
intervals match the equivalent inequality in either direction; a comma before exactly three digits
groups thousands ("1,000" is 1000, never 1.000), other digits after a comma may be a decimal comma
("1,5" may be 1.5).
Multiple choice: when both answers name an option (a capital A-E alone, "(C)", "\\text{(C)}", "option C", or a
label with the option's value, "(C) 12", "C) 12", "Option C: 12", "\\textbf{(C)}\\ 12"), the letters decide,
and the values too where both give one; a label followed by another option ("(C) or (D)") matches no single
option, and a bare value ("12" for gold "C") is no option. Against an answer naming no option, a label
with its value is that value ("(C) 12" is the gold 12).
"""

from __future__ import annotations

import concurrent.futures
import html as _html
import itertools
import math as _math
import os
import random
import re
import sys
import threading
import time
from contextlib import contextmanager
from fractions import Fraction
from functools import lru_cache

from ponder.verify.bounded import WorkerPool
from ponder.verify.verdict import Verdict

__all__ = [
    "answers_equal",
    "canonical_key",
    "check_math",
    "check_math_many",
    "extract_answer",
    "warmup",
]

MAX_COMPLETION_CHARS = 400_000  # ~100k tokens; longer inputs are "too long" without scanning
MAX_ANSWER_CHARS = 1_000  # an extracted answer longer than this is "too long"
MAX_BOXES = 32  # a run of more adjacent boxes than this is degenerate output
MAX_DEPTH = 40  # parser nesting; keeps Python recursion far from its limit in any thread
MAX_ITEMS = 64  # elements of one list/set/tuple/matrix
_MAX_EXACT_BITS = 100_000  # exact Fraction powers/factorials above this go numeric
_MAX_LOG2 = 3_400_000  # |value| above 2^this (~10^(10^6)) is "too long" to compare
_KEY_EXACT_BITS = 10_000  # canonical_key computes exact values only this large (cheap, printable)
_NO_DEADLINE = float("inf")
_TAIL = 3_000  # fallback extraction looks only at the end of a completion
_NUM_DPS = 60
_EQ_REL = Fraction(1, 10**45)
_FLOAT_LITERAL_DIGITS = 15
_FLOAT_LITERAL_TOL = 1e-14


class _ParseError(Exception):
    pass


class _TooLarge(Exception):
    pass


class _NeedSymbolic(Exception):
    pass


class _NotExact(Exception):
    pass


class _Deadline(Exception):
    pass


# per-thread state: mpmath contexts, and the bounds of the comparison running in this thread
_TLS = threading.local()


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------

_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> WorkerPool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = WorkerPool(preload=("sympy", "ponder.verify.math"))
        return _POOL


def warmup(timeout: float = 30.0) -> bool:
    """Start the symbolic worker now so the first symbolic comparison does not pay its start-up."""
    return _pool().warmup(1, timeout)


def _bad_float(x) -> bool:
    # an int past float's range (10**400) is no finite float either: isfinite raised OverflowError on it
    if not isinstance(x, (int, float)) or isinstance(x, bool) or x < 0:
        return True
    try:
        return not _math.isfinite(float(x))
    except OverflowError:
        return True


def _import_numeric() -> None:
    # mpmath (the numeric comparison's) is imported before a call's bound starts, not on first use inside it: its
    # import takes seconds with many scoring processes importing it at once on few cores, and the first numeric
    # row of each process, a right answer, scored "timeout" (ponder verify math --workers 16 on 2 cores)
    if "mpmath" not in sys.modules:
        import mpmath  # noqa: F401


def check_math(completion: str, gold: str, *, tolerance: float = 0.0, timeout: float = 2.0) -> Verdict:
    """Is the final answer in `completion` mathematically equal to `gold`? Never raises.

    `tolerance` > 0 accepts a relative numeric difference up to it; `timeout` bounds the call's
    wall time. Verdict.reason: "ok", "wrong", "no answer", "too long" (input, answer or value
    beyond the caps), "timeout", "bad input" (non-string or bad option), "bad gold", "error: ..."."""
    _import_numeric()
    deadline = time.monotonic() + (timeout if not _bad_float(timeout) else 0.0)
    if not isinstance(completion, str) or not isinstance(gold, str):
        return Verdict(False, None, "bad input")
    if _bad_float(tolerance) or _bad_float(timeout):
        return Verdict(False, None, "bad input")
    try:
        pred, why = _extract(completion, lenient=False)
        if pred is None:
            return Verdict(False, None, why)
        gold = final_mark(gold)
        ref, gwhy = _extract_gold(gold) if len(gold) <= 2_000 else _extract(gold, lenient=True)
        if ref is None:
            return Verdict(False, pred, "bad gold" if gwhy == "no answer" else gwhy)
        status = _equal(pred, ref, float(tolerance), deadline, gold_side=True)
    except RecursionError:
        return Verdict(False, None, "too long")
    except Exception as e:  # a verifier bug must cost one sample, not the training run
        return Verdict(False, None, f"error: {type(e).__name__}")
    if status is True:
        return Verdict(True, pred, "ok")
    if status is False:
        return Verdict(False, pred, "wrong")
    return Verdict(False, pred, status)


def check_math_many(
    completions, golds, *, tolerance: float = 0.0, timeout: float = 2.0, workers: int | None = None
) -> list[Verdict]:
    """`check_math` over a batch, results in input order.

    The in-process fast path settles most items in microseconds, so it runs inline; the items that
    need SymPy are sent to the worker processes in parallel (`workers` of them at once), each with
    its own `timeout` bound.
    """
    completions = list(completions)
    golds = list(golds)
    if len(completions) != len(golds):
        return [Verdict(False, None, "bad input") for _ in completions]
    out: list[Verdict | None] = [None] * len(completions)
    pending: list[int] = []
    for i, (c, g) in enumerate(zip(completions, golds)):
        v = check_math(c, g, tolerance=tolerance, timeout=0.0)
        if v.reason == "timeout":
            pending.append(i)
        else:
            out[i] = v
    if pending:
        n = max(1, workers or _pool().max_workers)
        if n > _pool().max_workers:
            _pool().max_workers = n
        # start-up is paid once per batch here, not inside the first items' bounds
        # (a bad timeout makes every item "bad input" below; the warm-up still needs a number)
        _pool().warmup(min(n, len(pending)), timeout=30.0 if _bad_float(timeout) else max(30.0, timeout))
        with concurrent.futures.ThreadPoolExecutor(n) as ex:
            futs = {
                i: ex.submit(check_math, completions[i], golds[i], tolerance=tolerance, timeout=timeout)
                for i in pending
            }
            for i, f in futs.items():
                out[i] = f.result()
    return out  # type: ignore[return-value]


def extract_answer(text: str) -> str | None:
    """The final answer of a completion (see module docstring), or None."""
    if not isinstance(text, str):
        return None
    try:
        return _extract(text, lenient=False)[0]
    except RecursionError:
        return None


def answers_equal(a: str, b: str, *, tolerance: float = 0.0, timeout: float = 2.0) -> bool:
    """Are two extracted answers mathematically equal? Symmetric; used to cluster votes."""
    if not isinstance(a, str) or not isinstance(b, str) or _bad_float(tolerance) or _bad_float(timeout):
        return False
    _import_numeric()
    deadline = time.monotonic() + timeout
    if len(a) > MAX_ANSWER_CHARS or len(b) > MAX_ANSWER_CHARS:
        return False
    try:
        return _equal(a, b, float(tolerance), deadline, gold_side=False) is True
    except Exception:
        return False


def canonical_key(ans: str) -> str:
    """A cheap normal form: answers with the same key are equal (the converse needs answers_equal)."""
    if not isinstance(ans, str):
        return ""
    if len(ans) > MAX_ANSWER_CHARS:
        return ans[:64]
    try:
        clean = _clean(ans)
        # a key must be cheap: exact values only up to a small size (larger ones keep their form)
        with _exact_bounds(max_bits=_KEY_EXACT_BITS):
            key = _key_of_values(_values(clean), clean)
        units = _units(clean)  # "5 km" and "5 m" are not equal: their keys differ
        return key + " [" + ",".join(sorted(units)) + "]" if units else key
    except Exception:
        return _squash(ans)


# ----------------------------------------------------------------------------------------------
# Extraction
# ----------------------------------------------------------------------------------------------

_BOX_CMDS = ("\\boxed", "\\fbox")
_BRACE_RE = re.compile(r"\\[{}]|[{}]")


def _match_brace(text: str, open_idx: int, limit: int) -> int:
    """Index of the `}` matching text[open_idx] == '{' (escaped braces ignored), or -1."""
    depth = 0
    for m in _BRACE_RE.finditer(text, open_idx, limit):
        tok = m.group()
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth == 0:
                return m.start()
    return -1


def _last_cmd(text: str, limit: int) -> tuple[int, int]:
    best, blen = -1, 0
    for c in _BOX_CMDS:
        k = text.rfind(c, 0, limit)
        if k > best:
            best, blen = k, len(c)
    return best, blen


_BOX_OR_BRACE_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])|\\[{}]|[{}]")


def _last_box(text: str) -> tuple[int, int]:
    """(start, command length) of the last box, or of the outermost box around it.

    "\\boxed{\\boxed{4}, 3}" boxes "4, 3": the inner box alone would drop the hedge around it.
    One linear scan; an enclosing box that is never closed does not count (a truncated "\\boxed{3"
    before "\\boxed{4}" leaves 4)."""
    start, clen = _last_cmd(text, len(text))
    if start < 0 or _last_cmd(text, start)[0] < 0:
        return start, clen
    stack: list[tuple[int, int, int] | None] = []  # open braces; a box's: (cmd start, cmd len, brace)
    box_brace, box_brace_cmd = -1, (-1, 0)
    for m in _BOX_OR_BRACE_RE.finditer(text, 0, start):
        tok = m.group()
        if tok == "{":
            if m.start() == box_brace:
                stack.append((box_brace_cmd[0], box_brace_cmd[1], m.start()))
            else:
                stack.append(None)
        elif tok == "}":
            if stack:
                stack.pop()
        elif tok[1] in "bf":  # a box command: its "{" follows after optional whitespace
            j = m.end()
            while j < start and text[j] in " \t\n":
                j += 1
            box_brace, box_brace_cmd = j, (m.start(), len(tok))
    checked = 0
    for entry in stack:
        if entry is None:
            continue
        if _match_brace(text, entry[2], len(text)) > start:
            return entry[0], entry[1]
        checked += 1
        if checked >= 4:  # bounded work on hostile nesting
            break
    return start, clen


def _box_content(text: str, start: int, clen: int, limit: int, lenient: bool):
    """(content, end) of the box whose command starts at `start`; content None if unusable."""
    j = start + clen
    if j < limit and text[j].isalpha():  # \boxedfoo is another command
        return None, -1
    while j < limit and text[j] in " \t\n":
        j += 1
    if j >= limit:
        return None, -1
    if text[j] == "{":
        k = _match_brace(text, j, limit)
        if k < 0:
            if lenient:
                return text[j + 1 : limit].rstrip().rstrip("$").strip(), limit
            return None, -1
        return text[j + 1 : k].strip(), k + 1
    # "\boxed 5": one token
    k = j
    while k < limit and text[k] not in " \t\n$":
        k += 1
    return text[j:k].strip(), k


# "or" (or a word that offers another answer as it does) right after a box or an answer phrase's value (its
# math delimiters, a comma, a colon, a dash or an ellipsis, "(", "[" or "\text{" between): "\boxed{3} or 4",
# "\boxed{3}, maybe 4", "\boxed{3} -- or 4", "\boxed{3} and maybe 4" (an "and" before a hedging word adds no
# value, it hedges: read as 3 alone it scored); also opening the
# next sentence: "\boxed{3}. Or 4.", "The answer is 3.\n\nAlternatively, 4."
# LaTeX spacing, which shows as a blank: "\boxed{3}\,\text{or}\,5", "\boxed{3} \ \mathrm{or}\ 5"
_TEX_SPACE = r"\\[,;:! ]|\\q?quad(?![A-Za-z])"
# a doubt avowed before another value: "\boxed{5}. Not sure, could be 6." offers 6 as "Maybe 6." does
_DOUBT = r"(?:i(?:'m|\s+am)\s+)?(?:not\s+(?:(?:so|too|entirely|completely|100%)\s+)?(?:sure|certain)|unsure|uncertain)"
# (a dash before it may be any of them: "\boxed{6} \u2212 or 7", "&minus; or 7" as "\u2014 or 7", "- or 7")
# "or" in other languages (German, French, Italian, Russian, Chinese, Japanese, Scandinavian, Polish, Turkish,
# Indonesian, Vietnamese): "\boxed{6} oder 7" hedges as "\boxed{6} or 7" does
_OR_OTHER_LANG = "oder|ou|oppure|или|либо|或者|或|または|eller|albo|veya|atau|hoặc"
# ... but not where it opens a restatement: "ou seja" (Portuguese "that is") and "或者说" ("in other words") say the
# answer again ("\boxed{6}, ou seja, 6 maçãs", "\boxed{6}，或者说 6" read "6 or seja, 6 maçãs" and scored 0)
_NOT_OR_OTHER_LANG = r"(?!ou[\s,]+seja(?![A-Za-z])|或者说)"
_OR_AFTER = (
    r"(?:\s|~|\$|\\[\])\[(]|\\\\|" + _TEX_SPACE + r")*(?:[,;:!?]{1,3}|\.+|\u2026|[\u2012-\u2015\u2212]|-{1,3})?"
    r"(?:[\s*_`>$]|\\[\[(]|\\\\|" + _TEX_SPACE + r")*"
    r"[(\[]?[\s*_`]*(?:\\(?:text|textbf|textit|textrm|textsf|textnormal|emph|mathrm|mathbf|mathsf|operatorname)"
    r"\s*\{\s*[(\[,;]?[\s*_`]*)?(?:and\s*/\s*|and\s+(?=(?:maybe|perhaps|possibly|probably|likely|alternatively)\b))?(?:(?:but|wait|hmm+|well|though|actually|" + _DOUBT + r")\b[\s,.:;!*_]*(?=[a-z])){0,2}(" + _NOT_OR_OTHER_LANG + r"(?:or|\\lor|\\vee|\u2228|\u22c1|" + _OR_OTHER_LANG + r"|alternat(?:iv)?ely|maybe|perhaps|possibly|otherwise|else|unless"
    r"|if\s+not|alt[.:]|on\s+the\s+other\s+hand|(?:more\s+|most\s+)?(?:probably|likely))(?![A-Za-z0-9])"
)  # (an opener first: "\\boxed{5}. Wait, maybe it's 6.", "But perhaps 6.")
_OR_AFTER_RE = re.compile(_OR_AFTER + ")", re.I)
# after a box a slash before a number parts two values too: "\boxed{5} / 6" ("\boxed{60}/\text{h}" is a unit; in
# prose "5 / 6" is a fraction)
# A bar or an ampersand parts two values as well: "\boxed{5} | 6", "\boxed{5} & 6" (not as a table's or an
# alignment's column mark, nor around an absolute value: see _column_mark)
_OR_AFTER_BOX_RE = re.compile(_OR_AFTER + r"|/(?=[\s$]*[-+]?\d)|\|(?!\|)(?=[\s$]*[-+]?\d)|&(?=[\s$]*[-+]?\d))", re.I)
_OR_WORDS = ("or", "\\lor", "\\vee", "\u2228", "\u22c1", *_OR_OTHER_LANG.split("|"))
# words around the other value that do not change it: "or maybe 4", "or rather 4", "or equivalently 0.5" are "or 4", "or 0.5"
_CONDITION_RE = re.compile(
    r"[\s$]*(?:[.;,]\s*)?(?:[*_]{0,2}note[*_]{0,2}\s*:?[*_]{0,2}\s*)?\(?(?:if|when|for|with|without)\s+[^.;,()\n]{1,60}?(?=[,;)]|\s+and\s)\)?", re.I
)
# the rest of a condition's list of values: "\boxed{3} for n = 1, 2" is one answer for both (an item is followed
# by a mark or "and", so the value of another case stays out: "for n = 1, 2, and 5 otherwise")
_COND_LIST_RE = re.compile(r"(?:[\s$]*,[\s$]*(?:and\s+)?[-+]?\d+(?:[./]\d+)?(?=[\s$]*(?:[,.;!)]|and\b|$)))+", re.I)
# ("when n = 1, 2" too; not "when n is odd, 5", the value of another case)
_FOR_COND_RE = re.compile(r"\W*(?:note\W*)?(?:(?:for|with)\s.*\d|(?:when|if)\s.*=[\s$]*[-+]?\d[\d./]*)[\s$]*$", re.I | re.S)
_EXAMPLE_RE = re.compile(r"\W*for\s+(?:example|instance|comparison|reference|verification|checking)\b", re.I)
_TEX_SPACE_RE = re.compile(_TEX_SPACE)
# (an "and" before the hedging word goes too: "\boxed{6} and maybe 7" is "6 or 7")
_OPENER_END_RE = re.compile(r"(?:(?:\band|but|wait|hmm+|well|though|actually|" + _DOUBT + r")[\s,.:;!*_]*){1,2}$", re.I)
_IT_IS_LEAD_RE = re.compile(r"^(?:it|that|the\s+answer)(?:'s|\s+is|\s+could\s+be|\s+might\s+be)\s+(?=[-+\d.\\(])", re.I)
_ALSO_LEAD_RE = re.compile(r"^(?:also|even|too)\s+(?=[-+]?\s*(?:\d|\.\d|\\|\())", re.I)
_HEDGE_FILLER_RE = re.compile(r"\b(?:alternat(?:iv)?ely|maybe|perhaps|possibly|equivalently|rather)\b[ \t]*,?", re.I)
# what "maybe" (perhaps, possibly, alternatively) must offer to be a hedge: a value, at once or as "it's 4"; the
# same words open commentary too ("\boxed{5}. Perhaps check it: 2 + 3 = 5."), which offers no other answer
_OFFERED_VALUE_RE = re.compile(
    r"(?:(?:it|that|the\s+answer)(?:'s|\s+is|\s+was|\s+could\s+be|\s+might\s+be)[\s}]+)?(?:[-+]\s*)?(?:\d|\.\d|\\|\()",
    re.I,
)
# after "otherwise" a name may come first: "\boxed{x = 3}. Otherwise x = 5." ("Maybe x = 5 is easier" comments)
_NAMED_VALUE_RE = re.compile(r"[A-Za-z]\s*=\s*(?:[-+]\s*)?(?:\d|\.\d|\\|\()")
_IN_WHICH_CASE_RE = re.compile(r"\bin\s+which\s+case\s*,?\s*(?:(?:it|the\s+answer)(?:'s|\s+is|\s+would\s+be)\s*)?", re.I)
# "on the other hand" and "probably" open commentary as often ("On the other hand, 12 is too big.", "Probably 2 + 3
# = 5 is quicker."): only a value ending its sentence is offered ("On the other hand, 6.", "Probably 6.")
_OTHER_HAND_VALUE_RE = re.compile(
    r"(?:(?:it|that|the\s+answer)(?:'s|\s+is|\s+(?:could|might|may|would)\s+(?:also\s+)?be)\s+|(?:we|you)\s+(?:would\s+)?get\s+)?"
    r"[-+]?\s*(?:\d+(?:[.,/]\d+)*|\\[dt]?frac\s*\{[^{}]{1,20}\}\s*\{[^{}]{1,20}\})\s*(?:too|instead)?[\s.!?)\]]*",
    re.I,
)
_THEN_RE = re.compile(r"^then\b[\s,]*", re.I)
_UNLESS_VALUE_RE = re.compile(r"(?:it|that|the\s+answer)(?:'s|\s+is|\s+was)\s", re.I)
# another value offered with "also" (or "another answer is") right after an answer, in its sentence or opening the
# next: "\boxed{3} (5 also works)", "\boxed{3}; 5 is another solution", "\boxed{3}. It could also be 5.",
# "\boxed{3}, and also 5." (the first group that matched is the other value)
_ALSO_VALUE = r"(\\(?:boxed|fbox)\s*\{[^{}]*\}|\$[^$\n]{1,60}\$|[-+]?\d+(?:[.,/]\d+)*|(?-i:\(?[A-E]\)?)(?![A-Za-z0-9]))"
_WORD_VALUE = (
    r"(?<![A-Za-z])(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-]+(?:one|two|three|four|five|six"
    r"|seven|eight|nine))?|zero|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
    r"|sixteen|seventeen|eighteen|nineteen)(?![A-Za-z])"
)
_ALSO_GOOD = r"(?:(?:possible|valid|correct|acceptable)\s+)?(?:solution|answer|option|value)"
# "too" ending its clause (or before a conjunction), not of an excess: "6 is possible too." vs "6 is likely too big."
_TOO_END = r"(?=[\s$*_]*(?:[.!?;,:)]|$|(?:but|and|though|although|yet|if|when|for|since|because|as|in|under|so)(?![A-Za-z])))"
_NOT_WRONG = r"(?![\s$]+(?:to\s+be\s+)?(?:wrong|incorrect|false|invalid|mistaken|too|an?\s+(?:error|mistake|trap|distractor))(?![A-Za-z]))"
_ALSO_SAYS = (  # after the other value
    r"(?:also\s+works?|works?\s+too|works?\s+as\s+well|(?:is\s+|are\s+)?(?:also\s+fine|fine\s+too)|also\s+(?:acceptable|valid"
    r"|correct|possible)(?=[\s$]*(?:[.!?;,)]|$))|(?:would|could|might|may|will|should)\s+also\s+(?:work|be\s+"
    r"(?:possible|valid|correct|right|acceptable|an?\s+" + _ALSO_GOOD + r"))|(?:is|are)\s+(?:also\s+(?:possible|valid"
    r"|correct|right|acceptable|an?\s+" + _ALSO_GOOD + r")|another\s+" + _ALSO_GOOD + r"|an\s+alternative"
    # "6 is plausible", "6 is the other candidate", "6 is a possibility"
    r"|plausible|(?:more\s+|quite\s+|very\s+)?likely(?=[\s$]*(?:[.!?;,)]|$))|(?:the\s+)?other\s+(?:candidate|possibility|" + _ALSO_GOOD + r")|(?:a|another)\s+(?:candidate|possibility)"
    # "5 is possible too", "5 is equally valid", "5 is also plausible"
    # (not "6 is likely too big": "too" before a word rejects 6; "6 is also likely wrong" rejects it too)
    r"|(?:also\s+|equally\s+)?(?:possible|plausible|valid|correct|acceptable|likely)\s+(?:too" + _TOO_END + r"|as\s+well)"
    r"|(?:also|equally)\s+(?:plausible|likely)" + _NOT_WRONG + r"|equally\s+(?:possible|valid|correct|right|acceptable))"
    r"|(?:would|could|might|may)\s+be\s+(?:the|an?)\s+" + _ALSO_GOOD
    # ("6 (alternative)": a tag offers it so too)
    + r"|[(\[]\s*(?:an?\s+)?(?:alternative|alternate|backup|fallback)(?:\s+" + _ALSO_GOOD + r")?\s*[)\]])(?![A-Za-z])"
)
_FOR_CASE = (  # "for" a condition ("for even n", "for n = 3", "for $n$ odd"), not a part or a share ("for Alice")
    r"for\s+(?=(?:odd|even|positive|negative|other|larger|smaller|all\s+other)\b|[a-z]\s*(?:[=<>]|\\[lg]eq?\b|is\b|even\b"
    r"|odd\b)|\$)"
)
# a value for another case: "5 otherwise", "5 if n is even", "5 for even n"
_CASE_SAYS = (
    r"(?:(?:otherwise|if|when|in\s+case)(?![A-Za-z])"
    # ("5 for even n", "5 for n = 3", "5 with repetition"; not a share of the answer: "(2 for Alice and 4 for Bob)")
    r"|" + _FOR_CASE + r"|with(?:out)?\s+(?=(?:repetition|replacement|restrictions?|order|(?:the\s+)?(?:other|second))\b))"
)
_ALSO_INTRO = (  # before it
    r"(?:(?:(?:it|that|this|the\s+answer|the\s+value|[a-z])\s+)?(?:could|might|may|can|would)\s+also\s+be|(?:another|the"
    r"\s+other|an?\s+alternative|(?:my\s+)?(?:alternative|alternate|second|backup|fallback))\s+(?:" + _ALSO_GOOD
    + r"|possibility|guess|choice|candidate)\s*(?::|\s+(?:is|would\s+be|could\s+be|might\s+be)\s*:?)"
    r"|(?:alternative|fallback|backup|also\s+possible)\s*:|i(?:'d|\s+would)\s+(?:also\s+)?accept|i\s+(?:could\s+|can\s+)?also\s+accept)"
)
# a value said to be possible, with no "also": "\boxed{3}. It might be 5.", "Could be 5.", "The answer could be 5 too."
_MODAL = (
    r"(?:(?:i\s+(?:think|guess|suspect|believe)\s+(?:that\s+)?)?(?:(?:it|that|this|the\s+answer|answer|the\s+value|[a-z])\s+)?"
    r"(?:could|might|may|would)\s+(?:well\s+|even\s+|instead\s+)?be"
    # ("It's probably 6.")
    r"|(?:it|that|this|the\s+answer|the\s+value)(?:'s|\s+is)\s+(?:more\s+|most\s+)?(?:probably|likely))"
)
# ... or both values named again: "\boxed{3}. Either 3 or 5.", "Both 3 and 5 work."
# ... or as hearsay, or in a postscript: "\boxed{3}, although some might say 5", "\boxed{3} (some sources give 5)",
# "\boxed{3}\n\nP.S. 5" (the value ends its clause: "Some say 5 is too many" says something of 5)
_HEARSAY = (
    r"(?:(?:some(?:\s+(?:people|sources|texts|books|authors|references|solutions|answer\s+keys?|graders|readers))?"
    r"|others|many)\s+(?:(?:might|may|would|could|will|do|can)\s+)?(?:say|argue|claim|give|get|list|write|think"
    r"|believe|suggest|prefer|quote|report|put)s?(?:\s+(?:that\s+)?(?:it(?:'s|\s+is)|the\s+answer\s+is|it\s+as))?"
    r"|according\s+to\s+(?:some|others)(?:\s+sources)?\s*,?(?:\s*(?:it(?:'s|\s+is)|the\s+answer\s+is))?"
    r"|it(?:'s|\s+is)\s+(?:sometimes|often)\s+(?:given|quoted|listed|stated)\s+as|p\.\s?s\.?|ps[.:]"
    # another reading of the problem: "\boxed{3}. Under the other reading, 5."
    # (its words may say which: "Under the other reading with 2 colors, we get 5.")
    r"|(?:under|with|in|for|on|by)\s+(?:(?:the|an?)\s+)?(?:other|another|alternative|different|second)\s+(?:reading|interpretation"
    r"|convention|assumption|case|view)(?:\s*,?|\s[^.;,\n]{1,60}?,)(?:\s*(?:it(?:'s|\s+is|\s+would\s+be)|the\s+answer\s+"
    r"(?:is|would\s+be)|we(?:'d|\s+would)?\s+(?:get|have|obtain)))?"
    # ("\boxed{3}. Depending on convention, 5.")
    r"|depending\s+on\s+(?:the\s+)?(?:convention|interpretation|reading|definition)s?\s*,?(?:\s*(?:it(?:'s|\s+is|\s+could\s+be)"
    r"|the\s+answer\s+(?:is|could\s+be)))?"
    # ... or of a changed problem: "\boxed{3}. If instead we include 0, we get 5." answers another problem
    r"|if\s+instead\s+[^.;,\n]{1,80},\s*(?:we(?:'d|\s+would)?\s+(?:get|have|obtain)|it(?:'s|\s+is|\s+would\s+be)"
    r"|the\s+answer\s+(?:is|would\s+be)))\s*:?"
)
_CLAUSE_END = r"(?=[\s$]*(?:[.!?;,)]|$))"
# a value for another case after a stated answer: "So we get 3. If we include 0, we get 5." (the same words after a
# step are the next step: "We have 2. If we add 3, we get 5.", so only after a box, an answer phrase or a concluding
# sentence; a condition about the answer itself checks it or works on with it: "If we plug it back in, we get 0.")
# ("When n is even, ...", "Had we included 0, ...", "Without the restriction, ...", "For even n, ..."; not "For each
# color, we get 4", which splits the answer, nor "If we include 0 the count grows", which offers no value)
# (nor a step of the work: "So we have 4 boxes. When we put 3 balls in each box, we get 12.")
_NO_REF = (
    r"(?![^.;,\n]{0,80}?\b(?:it|this|that|these|them|result|back|check\w*|verif\w*|substitut\w*|plug\w*|multipl\w*|divid\w*"
    r"|subtract\w*|put|putting|simplif\w*|solv\w*|apply\w*|applied|combin\w*|comput\w*|calculat\w*|evaluat\w*|expand\w*"
    r"|factor\w*|rais\w*|squar\w*|differentiat\w*|integrat\w*|rearrang\w*|cancel\w*|distribut\w*"
    r"|re(?:count|check|calculat|comput|do|evaluat|examin|think|consider)\w*)\b)"
)
# (in prose, where the work goes on in the same words, only a hypothetical "if" or a "when" of a case: "So the total is
# 10. When we include the last term, ...", "Including the 3 blue ones, there are 8." are steps)
_CASE_OPENERS = (
    r"(?:(?:if|when|whenever|in\s+case|had|were)\s+|" + _FOR_CASE + ")" + _NO_REF
    + r"[^.;,\n]{1,80}?(?:[,:]\s*|\s+(?=we\b|it\b|the\s+answer\b|there\b))"
    r"|(?:including|excluding|without|counting|ignoring|allowing|assuming|supposing|provided|under\s+the\s+assumption)"
    # ("Excluding 0 gives 2.": the case's words may give the value themselves)
    r"(?:\s+that)?\s+" + _NO_REF + r"[^.;,\n]{1,60}?(?:,\s*|\s+(?=(?:gives|yields|leaves)\s))"
)
_PROSE_CASE_OPENERS = r"(?:if|in\s+case|had|were|when(?!\s+(?:we|i|you)\b))\s+" + _NO_REF + r"[^.;,\n]{1,80}?(?:,\s*|\s+(?=we\b|it\b|the\s+answer\b|there\b))"
# a condition between the offering word and its value: "\boxed{5}. Alternatively, if counting differently, 6."
# (a condition about the answer itself checks it: "Alternatively, if we plug it back in, we get 10.")
_THEN_VALUE = (
    r"(?:then\s+)?(?:(?:we|you|one)(?:'d|\s+would)?\s+(?:also\s+)?(?:get|have|obtain)\s+|it(?:'s|\s+is|\s+would\s+be)\s+"
    r"|the\s+answer\s+(?:is|would\s+be)\s+)?([-+]?\s*(?:\d+(?:[.,/]\d+)*|\\[dt]?frac\s*\{[^{}]{1,20}\}\s*\{[^{}]{1,20}\}))"
    r"\s*(?:too|instead)?[\s.!?)]*"
)
_COND_THEN_VALUE_RE = re.compile(
    r"(?:if|when|with|without|under|counting|assuming|including|excluding|allowing)\s+" + _NO_REF + r"[^.;,\n]{1,80}?,\s*"
    + _THEN_VALUE,
    re.I,
)
# after "unless" its condition, then the other case's value: "\boxed{5}. Unless n is even, then 6." offers 6, and so
# does "Unless n is even: 6." ("Unless n is even, the same argument gives 5." offers none)
_UNLESS_THEN_VALUE_RE = re.compile(_NO_REF + r"[^.;,:\n]{1,80}?[,:]\s*" + _THEN_VALUE, re.I)


def _other_case_if(openers: str) -> str:
    return r"(?:" + openers + r")(?:then\s+)?"


def _other_case(openers: str) -> str:
    return _other_case_if(openers) + (
        # ("If n is even: 5.": a colon gives the value at once, as "then" does)
        r"(?:(?:(?<=then )|(?<=:)|(?<=: ))(?=[-+$\\\d])|(?:gives|yields|leaves)(?=\s)|(?:we|you|one)(?:'d|\s+would)?\s+(?:gets?|have|has|obtains?)"
        r"|(?:it|that)(?:'s|\s+is|'d\s+be|\s+would\s+be|\s+becomes)|there(?:'s|\s+are|\s+is|\s+would\s+be)"
        # ("the count is 5": what the answer counts, named)
        r"|the\s+(?:answer|count|total|result|value|number(?:\s+of\s+[a-z]+)?|sum|product|area|volume|probability|maximum"
        r"|minimum)\s+(?:is|would\s+be|becomes))\s*:?"
    )


_OTHER_CASE_IF = _other_case_if(_CASE_OPENERS)
_OTHER_CASE = _other_case(_CASE_OPENERS)
# ... before an answer phrase: "\boxed{3}. If we include 0, the answer is 5." (the words up to the phrase)
_OTHER_CASE_LEAD_RE = re.compile(r"(?<![A-Za-z])" + _OTHER_CASE_IF + r"(?:the\s+)?(?:final\s+)?$", re.I)
_OTHER_CASE_PRE = r"[\s$)\]]*(?:[,;:.!?]{1,3})?[\s*_`(\[]*(?:(?:but|and|however|though|although|yet|note)\b[\s,:]*)?"
_OTHER_CASE_POST = r"\s*" + _ALSO_VALUE + r"(?=[\s$]*(?:instead\b[\s$]*)?(?:[.!?;)]|$)|\s+" + _ALSO_SAYS + ")"  # ("we get 13, which is prime" goes on)
_OTHER_CASE_AFTER_RE = re.compile(_OTHER_CASE_PRE + _OTHER_CASE + _OTHER_CASE_POST, re.I)
_OTHER_CASE_BEFORE_RE = re.compile(_OTHER_CASE + r"[\s$(]*$", re.I)
# after a prose value, "For y, we get 7." may name another unknown, not another case: no "for" opener there
_PROSE_CASE_AFTER_RE = re.compile(_OTHER_CASE_PRE + _other_case(_PROSE_CASE_OPENERS) + _OTHER_CASE_POST, re.I)
_PROSE_CASE_BEFORE_RE = re.compile(_other_case(_PROSE_CASE_OPENERS) + r"[\s$(]*$", re.I)
_PROSE_CASE_LEAD_RE = re.compile(r"(?<![A-Za-z])" + _other_case_if(_PROSE_CASE_OPENERS) + r"(?:the\s+)?(?:final\s+)?$", re.I)


def _case_before(rx: re.Pattern, s: str) -> bool:
    """Whether s ends in a clause that opens another case (rx ends at $): searched only where such a clause fits,
    as each start tries the clause's words (a gap of 300 chars of "if if ..." took milliseconds)."""
    return rx.search(s, max(0, len(s) - 200)) is not None
# a label numbering the box after it as another answer or case: "\boxed{3}\n\nAnswer 2: \boxed{5}", "Case 2: \boxed{5}"
_ALT_LABEL_GAP_RE = re.compile(
    r"(?<![A-Za-z])(?:answer|case|possibility|interpretation|reading|scenario|guess|alternative)\s*#?\s*(?:[2-9]|ii|iii|b|c|two|three)"
    r"(?![A-Za-z0-9])[\s*_`]*[:.)\-]?[\s*_`$(]*$",
    re.I,
)
# ... before a plain value after the box: "\boxed{3}\n\nAnswer 2: 5"
_ALT_LABEL_VALUE_RE = re.compile(
    r"[\s$.;,)]*(?:answer|case|possibility|interpretation|reading|scenario|guess|alternative)\s*#?\s*(?:[2-9]|ii|iii|b|c|two|three)"
    r"(?![A-Za-z0-9])[\s*_`]*[:.)\-]?[\s*_`]*" + _ALSO_VALUE + _CLAUSE_END,
    re.I,
)
# ... between two boxes, where the box is the value: "\boxed{3}\n\nIf n is even: \boxed{5}"
_OTHER_CASE_GAP_RE = re.compile(r"(?<![A-Za-z])(?:" + _OTHER_CASE + "|" + _OTHER_CASE_IF + r")[\s$(]*$", re.I)
# what marks a prose value's sentence as the answer rather than a step
# (and GSM8K's answer mark right before the value: "#### 72")
_CONCLUDING_RE = re.compile(
    r"\b(?:so|thus|therefore|hence|finally|answer|result|altogether|overall|in\s+(?:all|total))\b|####[ \t]*\$?[ \t]*[-+]?$", re.I
)
_ALSO_AFTER_RE = re.compile(
    r"[\s$)\]]*(?:[,;:.!?]{1,3}|[\u2012-\u2015\u2212]|-{1,3})?[\s*_`(\[]*"
    # ("Hmm, but it could be 6 too.", "Note: some might argue 6.": a word to open the sentence first)
    # ("Note that 6 also works.", "By symmetry, 6 also works.": a discourse word first)
    r"(?:(?:hmm+|wait|well|oh|ah|(?:note|notice)(?:\s+that)?|of\s+course|in\s+fact|indeed|similarly|likewise|by\s+symmetry"
    r"|then\s+again|actually|clearly|additionally|" + _DOUBT + r")\b[\s,.:;!*_]*|p\.\s?s\.[\s,:]*)?(?:(?:but|though|although|however|and|yet)\b[\s,]*)?"
    r"(?:" + _ALSO_INTRO + r"\s+" + _ALSO_VALUE + r"|(?:also|as\s+well\s+as)[\s,]+" + _ALSO_VALUE
    + r"(?=[\s$]*(?:works?\b[\s$]*)?(?:[.!?;)]|$))|(?:[A-Za-z]\s*=\s*)?" + _ALSO_VALUE + r"\s+(?:" + _ALSO_SAYS + "|" + _CASE_SAYS + ")"
    # ("Six also works.": a number in words said to work too; not "one", a pronoun as often)
    + r"|(" + _WORD_VALUE + r")\s+" + _ALSO_SAYS + "|" + _HEARSAY + r"\s*" + _ALSO_VALUE
    + _CLAUSE_END + "|" + _MODAL + r"\s+" + _ALSO_VALUE + r"(?=[\s$]*(?:(?:too|as\s+well|instead|though)\b[\s$]*)?(?:[.!?;,)\]]|$))"
    r"|(?:either|both)\s+" + _ALSO_VALUE + r"[\s$]*(?:or|and)\s+" + _ALSO_VALUE
    # ("Also, 6.", "Also 6 works.", "and 6 too.", "(and 6)": one more value offered)
    + r"|" + _ALSO_VALUE + r"[\s$]*(?:too|as\s+well)\b" + _CLAUSE_END + r"|(?<=\(and\s)" + _ALSO_VALUE + r"(?=[\s$]*\))"
    # a value listed after the box, ending it: "\boxed{3}, 5"
    # ... or with "and": "The solutions are \boxed{2} and 3." (the value ends the line)
    + r"|(?:(?<=[,;])|(?<=[,;]\s)|(?<=\band\s))" + _ALSO_VALUE + r"(?=[\s$]*[.!?]?[\s$]*(?:\n|$)))",
    re.I,
)
_NEXT_LINE_VALUE_RE = re.compile(
    # (the blanks after the break are the loop's: "\s*" before it read them twice, quadratically)
    r"[ \t$.]*\n(?:\s*(?:[>#]+|[-*+]\s))?(?:[*_`$\s]|\\[\[(]|\\(?:textbf|mathbf|text|mathrm)\s*\{)*" + _ALSO_VALUE
    + r"(?:[*_`$}\s]|\\[\])])*?[.!?]?[ \t*_`$]*(?:\n|$)",
    re.I,
)
# the other case's value dismissed at once, the problem's own case named: "..., but n = 1 here", "; but here n = 1"
_HERE = r"(?:here|actually|in\s+(?:this|our|the\s+given)\s+(?:problem|case|question))"
_DISMISSED_RE = re.compile(
    r"[\s$]*[,;]?\s*(?:but|yet|however)\s*,?\s*(?:" + _HERE + r"\s*,?\s*[a-z]\s*(?:=|is)\s*[-+]?\d+(?:[./]\d+)?"
    r"|[a-z]\s*(?:=|is)\s*[-+]?\d+(?:[./]\d+)?\s+" + _HERE + r")[\s$]*(?:[.!?)]|$)"
    # ("If we had double-counted, we'd get 24. But we didn't.")
    r"|[\s$]*[,;.]?\s*but\s+(?:we|it|that|they|you|n)\s+(?:did|do|does|is|was|are|were)(?:n't|\s+not)[\s.!)]*(?:$|\n)",
    re.I,
)
# a case whose one condition sets a name to a value: "If x = 5, then ...", "When $x=5$, ..." (the value in group 1)
_CHECK_COND_RE = re.compile(
    r"[\s$)\]]*[,;:.!?]*[\s*_`]*(?:if|when|with|for)\s+\$?\s*[A-Za-z]\s*=\s*([^,;:$\n]{1,40}?)\s*\$?\s*,", re.I
)
_NAME_EQ_RE = re.compile(r"^\s*[A-Za-z]\s*=\s*")
_COMPUTATION_RE = re.compile(r"(?!\$?\s*[A-Za-z]\s*=)[^=]+=")  # an equation, not a name's value ("x = 5")
_REJECTED_RE = re.compile(
    r"\b(?:not|no|extraneous|invalid|rejected|discarded|excluded|fails|impossible|ruled\s+out)\b|n't", re.I
)
# the same after the last box: it is one more answer, the box before it another ("\boxed{3}, but \boxed{5} also works")
_ALSO_TAIL_RE = re.compile(r"[\s$)\]]*" + _ALSO_SAYS, re.I)
# ... and before it: "\boxed{3}. It could also be \boxed{5}."
_ALSO_BEFORE_RE = re.compile("(?:" + _ALSO_INTRO + "|" + _HEARSAY + "|" + _MODAL + r")[\s$(]*$", re.I)
_HEDGE_WORD_RE = re.compile(
    r"\b(?:or|maybe|perhaps|possibly|alternatively|otherwise|else|also|another|other|unless|if\s+not|backup|fallback"
    r"|alternate|if\s+instead)\b|" + _HEARSAY, re.I
)
# ("if instead" changes the problem, not the answer: "\boxed{3}. If instead we include 0, the answer is 5.")
_CORRECTION_RE = re.compile(r"\b(?:no|wait|actually|(?<!if )instead|rather|oops|correction|sorry)\b", re.I)
# (a slash in text between boxes parts them too: "\boxed{3} \text{/} \boxed{5}", as "\boxed{3} / \boxed{5}" is)
_SEP_WORD_RE = re.compile(
    r"\b(?:and|or|otherwise|else|alternatively|maybe|perhaps|possibly|also|if|when|unless)\b|[,;]|\\[A-Za-z]+\s*\{\s*/\s*\}"
)  # (a case's condition parts its box from the next: "\\boxed{5} \\quad \\text{(if } n \\text{ odd)} \\quad \\boxed{6}")
_REVISION_RE = re.compile(r"\b(?:no|not|wait|actually|instead|but|rather|oops|correction|hmm|sorry)\b", re.I)
# (blanks around an item only with its "$": the separator reads the others, one way; "\\boxed{6}. Oops, 1, 1, ..., 1, "
# read each blank two ways and took minutes)
_REVISED_ITEM = r"(?:\$\s*)?[-+]?\d+(?:[./]\d+)?(?:\s*\$)?"
# a sentence after the last box that revises its value in prose, with no phrase or box of its own: "Actually it's 6.",
# "Wait, no, it's 6.", "Correction: 6.", "I made an error; it should be 6." (the value ends its clause: "Actually,
# 6 is too many" and "Wait, check: 2 + 3 = 5" offer none)
# ((?![\s$*_>]) after the blanks: what follows opens with a letter, so giving blanks back only retried it, n times a start)
# ("$" is a blank there: an empty or closing math toggle; "$\\boxed{4}$ Sorry, it is 5" read 4)
_PROSE_REVISION_RE = re.compile(
    r"(?:^|(?<=[.!?;:\n(\[\u2014\u2013]))[\s$*_>]*(?![\s$*_>])(?:(?:hmm+|well|oh|but)\b[\s,.:!]*)?(?:actually|wait|correction|oops|i\s+made\s+an?\s+(?:error|mistake)|mistake"
    r"|it\s+should\s+be|edit|scratch\s+that|never\s*mind|on\s+second\s+thoughts?|let\s+me\s+reconsider"
    # ("I think it's actually 6.")
    # ("(no, 7)", "(sorry, 7)", "(rather 7)"; not "No. 7", a numbering)
    r"|no(?!\.)|nope|nah|make\s+that|sorry|rather|(?:i\s+(?:think|guess|believe)\s+)?(?:it|that)(?:'s|\s+is)\s+actually)\b(?:[\s,.:;!\-]*(?:actually|wait|no|oops|sorry|correction|i\s+made\s+an?\s+(?:error|mistake)"
    r"|mistake)\b)*[\s,.:;!\-]*"
    # ("Wait, let me see, it's 6.": a short aside before the value hid the revision, and the boxed 5 scored alone)
    r"(?:let\s+me\s+(?:see|check|think|recheck|recompute|recalculate|redo\s+(?:this|that|it))\b[\s,.:;!\-]*)?"
    r"(?:(?:it|that|this|the\s+(?:correct\s+|right\s+|final\s+)?(?:value|result))(?:'s|\s+is"
    r"|\s+should\s+be|\s+must\s+be)\s+|(?:it\s+)?should\s+be\s+)?\$?\s*([-+]?\d+(?:[./]\d+)?|" + _WORD_VALUE + r")\s*\$?(?=[\s*_]*(?:[.!?;)\]]|,(?!\s*\$?\s*[-+]?\d)|$)|"
    # (a list the revised value opens revises too when it ends the sentence: "No wait, 7, 8."; "No, 7, 8 fail" not)
    r",\s*" + _REVISED_ITEM + r"(?:\s*(?:,\s*(?:and\s+)?|and\s+)" + _REVISED_ITEM + r")*[\s*_]*(?:[.!?;)\]]|$))",
    re.I,
)
# ... or a sentence that holds to another value: "I think 6 though.", "I believe it's 6." (the value ends the sentence:
# "I think 6 is too small." and "I think that 6, 7 are wrong." offer none)
# ((?![\s$*_>]): as in _PROSE_REVISION_RE)
_THINK_VALUE_RE = re.compile(
    r"(?:^|(?<=[.!?;:\n]))[\s$*_>]*(?![\s$*_>])(?:(?:but|well|hmm+)\b[\s,]*)?i\s+(?:think|believe|guess|suspect)(?:\s+that)?\s+"
    r"(?:(?:it|that|the\s+answer)(?:'s|\s+is)\s+)?\$?\s*([-+]?\d+(?:[./]\d+)?)\s*\$?(?:[\s,]+(?:though|instead|after\s+all))?"
    r"[\s*_]*(?=[.!?\n]|$)",
    re.I,
)
# ... or a sentence that names another value the answer: "\boxed{6}. 7 is the answer.", "\boxed{6}, so 7 is correct."
# (after a comma only "the answer": "..., b = 4, so 4 is correct" may check a step)
_VALUE_IS_ANSWER_RE = re.compile(
    r"(?:(?:^|(?<=[.!?;\n]))|(?<=,)(?=[^.!?;\n]*?\bthe\s+(?:(?:final|correct|right|true)\s+)?answer\b))"
    # ((?![\s$*_>]): as in _PROSE_REVISION_RE; "\s*\$?\s+" read the blanks after the value twice: now one \s* or \s* $ \s+)
    r"[\s$*_>]*(?![\s$*_>])(?:(?:so|thus|hence|therefore|i\.\s?e\.)[\s,]+)?(?:\$\s*)?([-+]?\d+(?:[./]\d+)?)(?:\s*\$)?"
    r"\s+(?:is|must\s+be|should\s+be)\s+(?:the\s+(?:(?:final|correct|right|true)\s+)?answer|correct|right)\b",
    re.I,
)
# ... or a computation after an error word that ends on another value: "\\boxed{6}. Oops, subtract one: 6 - 1 = 5.",
# "Sorry, I forgot the 2 eaten. 9 - 2 = 7." (the boxed 6 scored alone; a check, "Wait, check: 6 * 2 = 12.", and a
# computation that ends on the answer revise nothing)
_ERROR_WORD_RE = re.compile(
    # ((?![\s$*_>]): as in _PROSE_REVISION_RE)
    r"(?:^|(?<=[.!?;:\n(\u2014\u2013]))[\s$*_>]*(?![\s$*_>])(?:(?:hmm+|well|oh|but|wait|ah)\b[\s,.:!]*)?"
    r"(?:(?:wh)?oops|correction|sorry|my\s+bad|(?:i|we)\s+made\s+an?\s+(?:error|mistake)|(?:i|we)\s+forgot|mistake)\b",
    re.I,
)
# (the last step of the computation, ending the text it is searched in: one way to read each blank, so no backtracking
# blows up on a long run of "1 + 1 + ...")
_COMPUTED_END_RE = re.compile(
    r"(?:[-+*/^\u00d7\u00f7]|\\(?:cdot|times|div)(?![A-Za-z]))[ \t]*(?:\([ \t]*)?\d+(?:\.\d+)?(?:[ \t]*\))?[ \t]*(?:\$[ \t]*)?="
    r"[ \t]*(?:\$[ \t]*)?([-+]?\d+(?:[./]\d+)?)(?:[ \t]*\$)?[\s*_]*\Z"
)
_SENTENCE_STOP_RE = re.compile(r"[.!;)\]](?=\s|$)|\n|\Z")


def _run_guarded(pat: re.Pattern, lb: str) -> re.Pattern:
    """`pat`, opening "(?:^|(?<=[`lb`]))[\\s$*_>]*", refusing a start whose blanks a start 1-4 characters before also reads: a
    match there is one there too, found first (at every "\\n" of a run of them each start read the whole run: quadratic)."""
    head = "(?<=[" + lb + "]))"
    assert pat.pattern.count(head) == 1, pat.pattern
    guard = "".join(f"(?<![{lb}][\\s$*_>]{{{k}}})" for k in range(1, 5))
    return re.compile(pat.pattern.replace(head, head + guard, 1), pat.flags)


def _finditer_runs(pat: re.Pattern, guarded: re.Pattern, s: str):
    """pat.finditer(s) for a pattern that matches no empty string, through _run_guarded's `guarded` where the starts it
    refuses lie after the search's own start (the first 5 starts of each search are read by `pat` itself)."""
    pos = 0
    while pos <= len(s):
        m = next((m for p in range(pos, min(pos + 5, len(s) + 1)) if (m := pat.match(s, p)) is not None), None)
        if m is None and (pos + 5 > len(s) or (m := guarded.search(s, pos + 5)) is None):
            return
        yield m
        pos = m.end()


def _computed_revision(rest: str) -> list:
    """The values a computation ends its sentence on after an error word, in the same sentence or the next one
    ("Oops, subtract one: 6 - 1 = 5.", "Sorry, I forgot the one eaten. 6 - 1 = 5."), as 1-group matches."""
    out = []
    for m in _finditer_runs(_ERROR_WORD_RE, _ERROR_WORD_RUN_RE, rest):
        end = min(len(rest), m.end() + 160)
        for k, stop in enumerate(_SENTENCE_STOP_RE.finditer(rest, m.end(), end)):
            if k == 2:
                break
            if (c := _COMPUTED_END_RE.search(rest, m.end(), stop.start())) is not None:
                out.append(c)
                break
    return out
# (each start after a blank run's first: see _run_guarded)
_PROSE_REVISION_RUN_RE = _run_guarded(_PROSE_REVISION_RE, ".!?;:\\n(\\[\\u2014\\u2013")
_THINK_VALUE_RUN_RE = _run_guarded(_THINK_VALUE_RE, ".!?;:\\n")
_VALUE_IS_ANSWER_RUN_RE = _run_guarded(_VALUE_IS_ANSWER_RE, ".!?;\\n")
_ERROR_WORD_RUN_RE = _run_guarded(_ERROR_WORD_RE, ".!?;:\\n(\\u2014\\u2013")
_PROSE_REVISION_WORD_RE = re.compile(
    r"actually|wait|correction|oops|error|mistake|should\s+be|edit|scratch|never\s*mind|second\s+thought|reconsider"
    r"|think|guess|believe|suspect|\bno\b|nope|nah|make\s+that|sorry|rather|answer|correct|right|forgot|my\s+bad",
    re.I,
)


def _prose_revision(rest: str, ans: str) -> str | None:
    """The value a sentence after the last box revises it to, when it differs from the box's answer `ans`."""
    if len(rest) > 2000 and _LONG_BLANK_RE.search(rest, 0, 2000):
        # padding does not push the revision out of the window: "\\boxed{4}" + 10,000 spaces + "Sorry, it is 5" read 4
        rest = _squeeze_blank(rest)
    rest = rest[:2000]
    if not _PROSE_REVISION_WORD_RE.search(rest):
        return None  # (most completions end at their box: the pattern need not run)
    for m in itertools.chain(
        _finditer_runs(_PROSE_REVISION_RE, _PROSE_REVISION_RUN_RE, rest), _finditer_runs(_THINK_VALUE_RE, _THINK_VALUE_RUN_RE, rest),
        _finditer_runs(_VALUE_IS_ANSWER_RE, _VALUE_IS_ANSWER_RUN_RE, rest),
        _computed_revision(rest),
    ):
        if _bare(m.group(1)) != _bare(ans) and not (m.re in (_VALUE_IS_ANSWER_RE, _VALUE_IS_ANSWER_RUN_RE) and _same_value(m.group(1), ans)):
            q = re.compile(r"[\s$*_]*\?").match(rest, m.end())
            if q is not None and _answered_no(rest, q.end(), m.group(1), ans):
                continue  # "Wait, 6? No, 9.": the value queried and turned down at once, no revision
            return m.group(1)
    return None


# what renders as blank space: a phantom (with its argument), spacing commands, whitespace
_BLANK_RE = re.compile(
    r"\\(?:[hv]?phantom|[hv]space\*?)\s*\{[^{}]*\}|\\(?:qquad|quad|hfill|space|thinspace|medspace|negthinspace)"
    r"(?![A-Za-z])|\\[,;:! ]|~|\s"
)


def _blank(s: str) -> bool:
    """Box content that renders as nothing ("\\boxed{\\phantom{4}}" is an empty box)."""
    return "phantom" in s and not _BLANK_RE.sub("", s)


_ALNUM_RE = re.compile(r"[^\W_]")


# more that renders as blank between boxes (after _BLANK_RE): an empty text, white text, skips and breaks, a
# code fence's language ("\\boxed{3}\\color{white}{x}\\boxed{4}", two "```latex" blocks, were 4 alone)
_GAP_BLANK_RE = re.compile(
    r"\\(?:text|mbox|mathrm|textrm)\s*\{\}|\\(?:textcolor|color)\s*\{\s*white\s*\}\s*\{[^{}]*\}"
    r"|\\(?:enspace|enskip|linebreak|newline|par|noindent|bigskip|medskip|smallskip|clearpage|newpage|vfill)(?![A-Za-z])"
    r"|\\(?:[hv]skip|kern)\s*-?[\d.]+\s*[a-z]{2}|```[A-Za-z]*"
    # comments, HTML and LaTeX, which do not show (a "%" right after a value is a percent sign: "\\boxed{30}% of")
    r"|<!--[\s\S]*?-->|(?<=[ \t\n])%[^\n]*"
)


def _bare_gap(gap: str) -> bool:
    """Whether nothing but spacing and marks stands between two boxes: they are one answer however long the gap
    ("\\boxed{3}" + 12 spaces + "\\boxed{4}" was 4 alone, while with 8 spaces it is the hedge "3, 4")."""
    if not _ALNUM_RE.search(gap):
        return True
    if len(gap) > MAX_ANSWER_CHARS or ("\\" not in gap and "`" not in gap and "<!--" not in gap and "%" not in gap):
        return False
    # (comments first, while the blank before a "%" is there; empty groups once their blanks are gone)
    return not _ALNUM_RE.search(_GAP_BLANK_RE.sub("", _BLANK_RE.sub("", _GAP_BLANK_RE.sub("", gap))))


# a scale word right after a box, on its line: "\boxed{5} thousand", "$\boxed{2.5}$ \text{ million}"
_SCALE_AFTER_RE = re.compile(
    # ("(?![ \t$~}\\])": the word opens with a letter: giving back the blanks only retried it at each, 400,000 took 0.1 s)
    r"(?:[ \t$~}]|\\[,;! ]|\\(?:text|mathrm|textrm|mbox)\s*\{)*(?![ \t$~}\\])((?:(?:thousand|million|billion|hundred)(?![A-Za-z])[ \t]*)+)",
    re.I,
)
_SCALES = {"hundred": 2, "thousand": 3, "million": 6, "billion": 9}


def _scaled(content: str, words: str) -> str:
    """The box's value times its scale words: "5", "thousand" -> "5000" (an exact product for a plain number)."""
    k = sum(_SCALES[w] for w in words.lower().split())
    m = re.fullmatch(r"\s*([-+]?)(\d+)(?:\.(\d+))?\s*", content)
    if m is None:
        return f"({content}) \\times 10^{{{k}}}"
    sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    digits = (whole + frac + "0" * k)
    point = len(whole) + k
    val = (digits[:point].lstrip("0") or "0") + ("." + digits[point:].rstrip("0") if digits[point:].rstrip("0") else "")
    return ("-" if sign == "-" else "") + val


_PM_AFTER_RE = re.compile(
    r"[ \t$]*(?:\\pm(?![A-Za-z])|\\mp(?![A-Za-z])|\u00b1|\u2213)[ \t$]*(?:(\d+(?:\.\d+)?|\\pi(?![A-Za-z])"
    r"|\\sqrt\s*\{[^{}$]{1,40}\}|\\[dt]?frac\s*\{[^{}$]{1,40}\}\s*\{[^{}$]{1,40}\})(?![\d^_{\\]|\.\d|[ \t]*[-+*/]))?"
)


_PLAIN_NUMBER_RE = re.compile(r"\s*[-+]?\d+(?:\.\d+)?\s*")
# a factor glued to a box's number, which it multiplies: a power of ten, a root, pi (not an operand of more, nor of a
# name: "\boxed{5} \times 10 + 1", "\boxed{5}\pi r^2" are left as they were)
_FACTOR_AFTER_RE = re.compile(
    r"(?:[ \t]*((?:\\times|\\cdot)[ \t]*10[ \t]*\^[ \t]*(?:\{[ \t]*[-+]?\d{1,3}[ \t]*\}|\d)|\\sqrt[ \t]*\{[ \t]*\d{1,6}[ \t]*\}"
    r"|\\pi(?![A-Za-z]))(?:[ \t]*\\(?:text|mathrm)[ \t]*\{[^{}\\]{1,20}\})?)"  # (its unit: "\times 10^8 \text{ m/s}")
    r"(?![ \t]*(?:[-+*/^_{(\d\\]|\.\d)|[A-Za-z]|[ \t]+[A-Za-z](?![A-Za-z]))"
)


_BOX_PHRASE_RE = re.compile(
    r"\s*(\\(?:text|textbf|textrm|mathrm|mbox)\s*\{\s*)?(?:the\s+)?(?:final\s+)?answer(?:\s+is|\s*:)[\s:]*(\})?\s*", re.I
)


def _unphrased(content: str) -> str:
    """An answer without an answer phrase opening it: "\\text{The answer is } 5" (in a box), "Answer: 5" are 5 (read
    whole, unparseable, the right 5 scored wrong); "\\text{The answer is 5}" is "\\text{5}"."""
    m = _BOX_PHRASE_RE.match(content) if len(content) <= MAX_ANSWER_CHARS else None
    if m is None or m.end() == len(content) or (m.group(2) and not m.group(1)):
        return content
    return content[m.end() :] if m.group(1) is None or m.group(2) else m.group(1) + content[m.end() :]


def _boxes(text: str, lenient: bool):
    """The final answer from boxes: (answer|None, reason) or None if there is no box at all."""
    start, clen = _last_box(text)
    if start < 0:
        return None
    content, end = _box_content(text, start, clen, len(text), lenient)
    if not content or _blank(content):
        return (None, "no answer")
    parts = [content]
    also_last = not _says_nothing(text[end : end + 401]) and _ALSO_TAIL_RE.match(_fold(text[end : end + 200])) is not None
    total = len(content)
    boxes = 1  # duplicates included: 3,000 adjacent \boxed{1} is degenerate output, not "1"
    prev_start = start
    denied = False  # (the last box denied: what follows it is no part of the answer's value)
    while True:
        s2, l2 = _last_cmd(text, prev_start)
        if s2 < 0:
            break
        c2, e2 = _box_content(text, s2, l2, prev_start, False)
        if c2 is not None and 0 <= e2 <= prev_start and (not c2 or _blank(c2) or _junk(c2)):
            # an empty box right before is no answer and no break between the boxes around it:
            # "\boxed{3}\boxed{ }\boxed{4}" is "3, 4", as "\boxed{3}\boxed{4}" is
            gap = text[e2:prev_start]
            if len(gap) >= 10 and not _bare_gap(gap):
                break
            boxes += 1
            if boxes > MAX_BOXES:
                return (None, "too long")
            prev_start = s2
            continue
        if not c2 or e2 > prev_start or _blank(c2):
            break
        gap = text[e2:prev_start]
        # "\boxed{3}. Alternatively, if the ends count, we get \boxed{4}.": a box inside the sentence that offers
        # another value right after the previous box is that hedge's other value (as in "\boxed{3}. Or 4.")
        # ("Or rather \boxed{4}", "Or, no wait, \boxed{4}" correct it: a revision word right after the "or")
        # (blank runs squeezed: padding does not part a box from the "or" before it)
        sq = _fold(_squeeze_blank(gap) if 300 < len(gap) <= 20_000 else gap)
        m = _OR_AFTER_BOX_RE.match(sq) if len(sq) <= 300 else None
        if m is not None and m.group(1) in ("|", "&"):
            m = None  # (a bar or ampersand between two boxes may mark a table's columns: not read as "or" here)
        hedged = (
            m is not None
            and _sentence_end(sq, _skip_space(sq, m.end())) == len(sq)
            and not _REVISION_RE.match(sq[m.end() :].lstrip(" \t\n,:;"))
        ) or (len(sq) <= 300 and (
            (also_last and len(parts) == 1) or _ALSO_BEFORE_RE.search(sq) is not None or _case_before(_OTHER_CASE_GAP_RE, sq)
            or _ALT_LABEL_GAP_RE.search(sq) is not None
        ))
        bare = _bare_gap(gap)  # (a word in white text is no correction: it does not show)
        if len(parts) == 1 and not hedged and not bare and _DENIED_BOX_GAP_RE.fullmatch(sq):
            # "\boxed{6}, not \boxed{7}", "\boxed{6} (rather than \boxed{7})": the last box is the value denied, the one
            # before it the answer (the "not" read as a revision, 7 scored alone)
            parts = [c2]
            content = c2
            prev_start = s2
            denied = True
            continue
        if not hedged and not bare and _REVISION_RE.search(gap):
            break  # "\boxed{3}, no wait: \boxed{4}" is a correction, not a two-part answer
        if hedged or len(sq) < 10 or bare or (
            len(sq) < 70 and c2 != parts[-1] and _SEP_WORD_RE.search(sq)
        ):
            if c2 != parts[-1]:
                parts.append(c2)
            total += len(c2) + 2
            boxes += 1
            if boxes > MAX_BOXES or total > MAX_ANSWER_CHARS:
                return (None, "too long")
            prev_start = s2
            continue
        break
    parts.reverse()
    ans = ", ".join(parts)
    if denied:
        pass
    elif len(parts) == 1 and (scale := _SCALE_AFTER_RE.match(text, end)) is not None:
        # "\boxed{5} thousand" is 5000: read as 5 it scored for the gold 5
        ans = content = _scaled(content, scale.group(1))
        end = scale.end()
    elif len(parts) == 1 and _PLAIN_NUMBER_RE.fullmatch(content) and (fac := _FACTOR_AFTER_RE.match(text, end)) is not None:
        # "\boxed{5} \times 10^3", "\boxed{5}\sqrt{2}", "\boxed{5}\pi": the number's factor written after the box is
        # part of its value (read as 5, it scored for the gold 5)
        ans = content = f"{content.strip()} {fac.group(1)}"
        end = fac.end()
    if (pm := _PM_AFTER_RE.match(text, end)) is not None:
        # "\boxed{5} \pm 1" is two values, as "\boxed{5 \pm 1}" is: read as 5 it scored for the gold 5
        if pm.group(1) is None:
            return (None, "no answer")  # a term not read here: the box alone is still not the answer
        ans, end = f"{ans} \\pm {pm.group(1)}", pm.end()
    if not lenient and ans:
        hedge = _hedge(text, end, box=True, ans=content)
        if hedge:
            # "\boxed{3} or 4", "\boxed{3} (or 4)", "\boxed{3}. Or 4.": another value right after the box is a
            # hedge, as "3 \text{ (or 4)}" inside it is; the answer keeps both (it matches a gold "3, 4")
            ans = f"{ans} {hedge}"
    return (ans, "ok") if ans else (None, "no answer")


# another value with no digit: an option letter ("\boxed{A} or B", "or (B)"; not an article: "Or, A different
# way ..."), a constant or a root ("or \pi")
_VALUE_WITHOUT_DIGIT_RE = re.compile(
    r"(?:\\text(?:bf)?\s*\{\s*)?\(?[A-E]\)?(?![A-Za-z0-9])(?!,?\s+[a-z])|\\(?:pi|infty|sqrt|frac|dfrac|tfrac|varnothing|emptyset)(?![A-Za-z])"
)


_BLANK_RUN_RE = re.compile(r"\s*")
# all that stands between a box and the last one when the last is denied: ", not ", " (rather than ", " and not "
_DENIED_BOX_GAP_RE = re.compile(
    r"[\s$]*[.,;(]?\s*(?:(?:and|but)\s+)?(?:not|rather\s+than|instead\s+of|as\s+opposed\s+to)[\s$:]*", re.I
)
_PAD_RE = re.compile(r"[\s.]*")
_BLANK_RUNS_RE = re.compile(r"\s{2,}")


def _squeeze_blank(s: str) -> str:
    """Each run of blanks as one: a newline if it holds one (it may end a sentence), else a space."""
    return _BLANK_RUNS_RE.sub(lambda m: "\n" if "\n" in m.group() else " ", s)


# a mark that shows nothing, or nothing but space, between words: Markdown emphasis marks, "$" (an empty math span
# toggled open and shut), TeX spacing ("\\," "\\quad" "~" "\\hspace{1cm}"); not escaped ("\\$" is a dollar sign)
# TeX spacing commands ("\\," "\\quad" "\\hspace{1cm}"), as pattern text: _FILLER and _TEX_SPACING_RUN_RE read the same ones
_TEX_SPACING = (
    r"\\[,;:!> ]|\\(?:q?quad|thinspace|medspace|thickspace|negthinspace|negmedspace|negthickspace|enspace|enskip"
    r"|space|hfill)(?![A-Za-z])|\\[hv]space\*?[ \t]*\{[^{}\n]{0,20}\}"
)
_FILLER = r"(?<!\\)(?:[*_~$]|" + _TEX_SPACING + ")"
# a run of 4 or more of them, with blanks between: it reads as one blank, however long ("The answer is 4" + "*" * 1,000
# + " or 3" put its hedge past the 200-character window after the answer, where 100 stars did not, and scored 4). (It
# opens on a mark, not a blank: opened on blanks too, each blank of a long run of them read the rest of it again. Each
# blank between marks is read once more at most for each of the 3 marks before it, where the run fails short of 4.)
_FILLER_RUN_RE = re.compile(_FILLER + r"(?:\s*+" + _FILLER + r"){3,}+")


# padding after an answer: blanks, dots and filler marks, each read once
_LONG_PAD_RE = re.compile(r"(?:[\s.]|" + _FILLER + r")*+")
_FILLER_OPENERS = frozenset("$\\*_~")  # (what a filler mark opens with; not "": the text's end)


def _squeeze_filler_run(m: re.Match) -> str:
    """A run of filler as one blank, a newline if it holds one; "$" at its edges kept (one closes the math before it
    or opens the math after it: "**Final:** $$\\boxed{4}$$" keeps its "$$"), so the math spans around it keep."""
    run = m.group()
    lead = run[:2] if run.startswith("$$") else run[:1] if run.startswith("$") else ""
    rest = run[len(lead) :]
    trail = rest[-2:] if rest.endswith("$$") else rest[-1:] if rest.endswith("$") else ""
    return lead + ("\n" if "\n" in run else " ") + trail


# TeX spacing, one command or more (blanks between), read whole once (possessive): a run of it renders as a space, so
# it reads as one ("\\boxed{4}\\quad Wait, 5" and "\\boxed{4}\\,\\,Wait, 5" scored 4: the revision's sentence
# opens after a blank or a sentence's end, and a run of 4 or more marks was the only spacing read as a blank)
_TEX_SPACING_RUN_RE = re.compile(r"(?<!\\)(?:(?:" + _TEX_SPACING + r")[ \t]*)++")


def _tex_spacing_blank(m: re.Match) -> str:
    """A run of TeX spacing as one blank, except in a number ("11,\\!111", "1\\,000": a digit after it) or a quantity
    ("2\\,\\text{cm}", "2\\,x": a command after it, or a digit before it and a letter after), where it is notation."""
    s, i, j = m.string, m.start(), m.end()
    nxt = s[j] if j < len(s) else ""
    if nxt.isdigit() or nxt == "\\" or (nxt.isascii() and nxt.isalpha() and i > 0 and s[i - 1].isdigit()):
        return m.group()
    return " "


def _squeeze_filler(text: str) -> str:
    """`text` with each run of 4 or more filler marks (_FILLER_RUN_RE) as one blank: a hedge, revision or retraction
    after the answer is read the same past 5 marks or 100,000 (the windows after an answer are bounded). TeX spacing
    reads as a blank from one command on (_TEX_SPACING_RUN_RE)."""
    if "\\" in text:
        text = _TEX_SPACING_RUN_RE.sub(_tex_spacing_blank, text)
    # (each mark holds one of these characters: counting them is a third of the pattern's time, and most short
    # completions hold fewer than 4)
    if text.count("$") + text.count("\\") + text.count("*") + text.count("_") + text.count("~") < 4:
        return text
    return _FILLER_RUN_RE.sub(_squeeze_filler_run, text)


_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS))
# letters that look like Latin ones (Cyrillic, Greek omicron, fullwidth), as those: "\u043er" reads "or" (one for
# one, so positions keep; only where a hedge is looked for, not in answers)
_LOOKALIKE = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0455\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u03bf\u039f"
    + "".join(chr(c) for c in range(0xFF01, 0xFF5F)),
    "aeopcyxisABEKMHOPCTXoO" + "".join(chr(c) for c in range(0x21, 0x7F)),
)


# inline HTML tags and entities, which do not show (as blanks of the same length, so positions keep): "\boxed{6}
# <b>or</b> 7", "\boxed{6}<span> or 7</span>", "\boxed{6} &mdash; or 7" hid the hedge that "**or**" is
_HTML_INLINE_RE = re.compile(
    r"</?(?:b|i|u|s|em|strong|span|sup|sub|small|big|mark|code|kbd|font|del|ins|strike|tt|q|abbr|cite|br|hr|p|div)"
    # (attributes only as name=value: "x<p and y>q", "a<b and c>d" are comparisons, not a <p> or <b> tag)
    r"(?:\s+[\w-]{1,20}\s*=\s*(?:\"[^\"<>\n]{0,80}\"|'[^'<>\n]{0,80}'|[^\s<>\"']{1,80})){0,4}\s*/?>|&(?:nbsp|ensp|emsp|thinsp|mdash|ndash|hellip|zwnj|zwj|#160|#8203);",
    re.I,
)


def _fold(s: str) -> str:
    if ("<" in s or "&" in s) and (t := _HTML_INLINE_RE.sub(lambda m: " " * len(m.group()), s)) != s:
        s = t
    return s if s.isascii() else s.translate(_LOOKALIKE)


# a superscript or subscript of one number or name: "2<sup>10</sup>" is 2^{10}, not the "2 10" its blanked tags leave
_HTML_SCRIPT_RE = re.compile(r"<(sup|sub)>\s*([-+\u2212\u2013\u2014]?[0-9A-Za-z.]{1,12})\s*</\1>", re.I)
# a dash entity against a number shows as the dash it is ("&ndash;3" is "\u20133", -3; "3&ndash;5" is "3\u20135"):
# blanked, the sign was lost and "&ndash;3" scored for the gold 3; one between blanks ("6 &mdash; done") stays a blank
_HTML_DASH_RE = re.compile(r"&(ndash|mdash);(?=[0-9.(\\$]|[A-Za-z](?![A-Za-z]))", re.I)
_HTML_BLOCK_TAGS = frozenset(("br", "hr", "p", "div"))
# any other entity shows as its character ("&minus;3", "&#8722;3" are -3, "x &lt; 5" is x<5, "x &le; 5" is x\u22645):
# left in, the answer read "&minus;3" and the right -3 scored 0. Decoded after the tags are blanked, so an escaped
# "&lt;b&gt;" is no tag and "a &lt; b" no "<b ...>" (only with its ";": "&times" in a LaTeX row "&times" stays); an
# escaped "&lt;/think&gt;" is no end of thinking either (a reasoning parser reads the raw text: decoded, it parted
# "\boxed{5}. Alternatively, &lt;/think&gt; \boxed{6}" into 6 alone, a hedge that scored for the gold 6): the whole
# escaped tag is blanked as text (its "&gt;" decoded alone, "The answer is 6 &lt;/think&gt;" read "6 &lt;/think>")
_HTML_ENTITY_RE = re.compile(r"&(?i:lt;/?think&gt;)|&(?!(?i:lt);/?(?i:think))(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")


def _html_text(m: re.Match) -> str:
    tag = m.group()
    if tag[0] == "&":
        return "" if tag.lower() in ("&zwnj;", "&zwj;", "&#8203;") else " "  # (zero-width ones as _INVISIBLE)
    name = re.match(r"</?([A-Za-z]+)", tag).group(1).lower()
    return "\n" if name in _HTML_BLOCK_TAGS else " "


def _html_script(m: re.Match) -> str:
    body = m.group(2)
    if body.lower() in ("st", "nd", "rd", "th") and m.start() > 0 and m.string[m.start() - 1].isdigit():
        return body  # an ordinal's suffix: "6<sup>th</sup>" is "6th" (blanked, "6 th" read no 6)
    if body.isalpha() and len(body) > 1:
        return m.group()  # a word ("<sup>or</sup>", "6<sup>th</sup>") is no exponent: left to the blanking
    return ("^{" if m.group(1).lower() == "sup" else "_{") + body + "}"


def _html_entity(m: re.Match) -> str:
    e = m.group()
    return " " if e[-3:].lower() == "gt;" and len(e) > 4 else _html.unescape(e).translate(_INVISIBLE)


def _unhtml(text: str) -> str:
    """The text as it shows: inline HTML tags and entities (_HTML_INLINE_RE) as blanks, a line-breaking one
    ("<br>", "<p>") as a newline, a one-token "<sup>"/"<sub>" as ^{..}/_{..} ("The answer is <b>6</b>." read
    "<b>6</b>", "<p>The answer is 6.</p>" read "6.</p>")."""
    if "dash;" in text or "DASH;" in text:
        text = _HTML_DASH_RE.sub(lambda m: "\u2013" if m.group(1).lower() == "ndash" else "\u2014", text)
    if "<" in text and ("<sup" in text or "<sub" in text or "<SU" in text or "<Su" in text):
        text = _HTML_SCRIPT_RE.sub(_html_script, text)
    text = _HTML_INLINE_RE.sub(_html_text, text)
    if "&" in text and ";" in text:
        # (an invisible one as none, as _extract drops the characters: "o&#x200b;r" is "or", a hedge it hid)
        text = _HTML_ENTITY_RE.sub(_html_entity, text)
    return text


def _skip_space(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\r\n":
        i += 1
    return i


_NO_VALUE_RE = re.compile(r"[^A-Za-z0-9]*")


# the box or value answers one part, the values after it the others: "\boxed{3} for part (a) and 5 for part (b)" is
# the list "3, 5" (read as 3 alone, it scored for the gold 3)
_PART = r"\(?\s*for\s+(?:part\s*\(\s*(?:[a-h]|i{1,3}|iv|\d)\s*\)|part\s+(?:[a-h]|i{1,3}|iv|\d)(?![A-Za-z0-9])|\(\s*[a-h]\s*\))\s*\)?"
_PART_FIRST_RE = re.compile(r"[\s$]*" + _PART, re.I)
_PART_NEXT_RE = re.compile(r"[\s$]*(?:[,;]\s*)?(?:and\s+)?" + _ALSO_VALUE + r"[\s$]*" + _PART, re.I)


def _other_parts(win: str) -> str | None:
    """The values for the other parts after an answer for one part ("and 5" of "for part (a) and 5 for part (b)")."""
    m = _PART_FIRST_RE.match(win)
    if m is None:
        return None
    vals = []
    while (m := _PART_NEXT_RE.match(win, m.end())) is not None:
        vals.append(m.group(1).strip("$"))
    return " ".join(f"and {v}" for v in vals) or None


_APPROX_AFTER_RE = re.compile(
    # (a whole number only after the sign: "\boxed{5} \approx 6"; "about 10" may count something else; "\sim" and
    # "(\approx 6)" say the same as "\approx 6", as they do inside a box)
    r"(?:(?:approximately|approx\.?|roughly|about|around)\s*\$?\s*(?=[-+]?\d*\.\d)|\(?\s*(?:\\(?:approx|sim|simeq|approxeq|thickapprox)(?![A-Za-z])|[\u2248\u223c\u2243])\s*\$?\s*)"
    # (a whole number may end the sentence: "\boxed{5} \approx 6." is the hedge "\boxed{5} \approx 6" is; "6.5",
    # "6,000", "6/7" are no whole number 6)
    r"([-+]?\d*\.\d+|[-+]?\d+(?![\d/]|[.,]\d))",
    re.I,
)
# the gap from a value to its approximation, that number included: "$\frac{1}{3}$, approximately 0.333"
_ROUNDING_GAP_RE = re.compile(r"[\s$]*(?:[,(]\s*)?(?:or\s+)?" + _APPROX_AFTER_RE.pattern, re.I)
# ... or its decimal in parentheses: "The diagonal is $2\sqrt{2}$ (= 2.83)." (read last, 2.83 scored and 2\sqrt{2} not)
_EQ_ROUNDING_GAP_RE = re.compile(r"[\s$]*\(\s*=\s*\$?\s*([-+]?\d*\.\d+)")
# a simple value whose float is cheap to read: "3", "-0.5", "\frac{1}{3}", "\frac34", "1/3"
_SIMPLE_VALUE_RE = re.compile(
    r"[\s$]*([-+]?)\s*(?:(\d+(?:\.\d+)?)|\\[dt]?frac\s*(?:\{\s*(\d+)\s*\}\s*\{\s*(\d+)\s*\}|(\d)\s*(\d))"
    r"|(\d+)\s*/\s*(\d+))[\s$.]*"
)
# what makes the approximate value more than a plain number: "\approx 3.3 \times 10^2", "\approx 33.3\%", "2.1\pi"
_APPROX_MORE_RE = re.compile(r"\s*\$?\s*(?:\\times|\\cdot|\\?%|\\pi|pi\b|\\sqrt|[*^/\u00d7]|[eE][-+]?\d|\d)")
# ... or in another unit or scale: "\boxed{90} (about 1.5 hours)", "\boxed{1500000}, roughly 1.5 million" (a conversion)
_APPROX_UNIT_RE = re.compile(r"[\s$]*(?:\\(?:text|mathrm|textrm)\s*\{\s*)?([A-Za-z]+)(?![A-Za-z])")
# (a unit or scale by name: any word there, "(roughly 4.5 instead)", "(about 4.5 is also possible)", offers 4.5; a
# count noun, "(about 4.5 people)", converts nothing, nor does "in" of "(about 4.5 in total)")
_CONVERSION_WORDS = frozenset(
    """mm millimeter millimeters millimetre millimetres cm centimeter centimeters centimetre centimetres dm decimeter
    decimeters m meter meters metre metres km kilometer kilometers kilometre kilometres ft foot feet inch inches yd
    yard yards mi mile miles mg milligram milligrams g gram grams kg kilogram kilograms lb lbs pound pounds oz ounce
    ounces ton tons tonne tonnes sec secs second seconds min mins minute minutes hr hrs hour hours day days week weeks
    month months year years decade decades century centuries ml milliliter milliliters millilitre millilitres liter
    liters litre litres gallon gallons dollar dollars usd cent cents euro euros percent degree degrees rad radian
    radians mph kmh kph sq square cubic acre acres hectare hectares hundred thousand million billion trillion""".split()
)


def _simple_float(s: str) -> float | None:
    """The value of a simple number or fraction (see _SIMPLE_VALUE_RE), else None."""
    m = _SIMPLE_VALUE_RE.fullmatch(s) if len(s) <= 40 else None
    if m is None:
        return None
    sign, num, a, b, c, d, e, f = m.groups()
    x, y = (num, "1") if num else (a, b) if a else (c, d) if c else (e, f)
    if float(y) == 0:
        return None
    return (-1 if sign == "-" else 1) * float(x) / float(y)


def _far_approx(ans: str | None, m: re.Match) -> bool:
    """Whether the approximate value of `m` (_APPROX_AFTER_RE) after the answer `ans` is another value, not a
    rounding of it: "\\boxed{3} \\approx 4.5" offers 4.5 beside 3 (read as 3 alone, the hedge scored). Only for a
    simple answer and a plain number (anything else, "\\frac{\\pi}{3} \\approx 1.047", stays a rounding)."""
    v = _simple_float(ans) if ans else None
    um = _APPROX_UNIT_RE.match(m.string, m.end())
    if v is None or _APPROX_MORE_RE.match(m.string, m.end()) or (um and um.group(1).lower() in _CONVERSION_WORDS):
        return False
    return not _rounds_to(m.group(1), v, zeros=True)


# a plain number after the answer that restates it ("i.e."), gives another case's value ("resp.") or sets
# another beside it ("versus"); the number ends its clause ("(i.e., 6 apples)" is left alone)
_EXACT_FORM = (
    r"\d{1,3}(?:\.\d{1,6})?\s*\^\s*(?:\d|\{\s*\d{1,2}\s*\})(?!\d)|\\[dt]?frac\s*\{\s*\d+\s*\}\s*\{\s*\d+\s*\}"
    r"|\\binom\s*\{\s*\d{1,3}\s*\}\s*\{\s*\d{1,3}\s*\}"
)
_POWER_RE = re.compile(r"([-+]?)(\d+(?:\.\d+)?)\s*\^\s*\{?\s*(\d+)\s*\}?")
_BINOM_RE = re.compile(r"([-+]?)\\binom\s*\{\s*(\d+)\s*\}\s*\{\s*(\d+)\s*\}")
_RESTATED = (
    # ("(?![\s$])": what follows opens with no blank, so giving blanks back only retried it at each: 400,000 blanks took 0.3 s)
    r"(?:[\s$]|" + _TEX_SPACE + r")*(?![\s$])(?:[,;(\[]\s*(?!\s)|[-\u2014\u2013]{1,3}\s*(?!\s))?(?:\\(?:text|textit|textrm|mathrm|emph)\s*\{\s*(?!\s))?"
    # ("(which is 7)", "(so 7)", "(namely 7)", "(hence 7)", "(corrected: 7)" restate it as "i.e." does)
    r"(i\.\s?e\.|that(?:['\u2019]s|\s+is)|which\s+(?:is|gives|equals|means)|so|namely|(?:more\s+)?precisely|exactly|hence|thus"
    r"|therefore|giving|meaning|equals|corrected|updated|revised|resp\.|respectively|versus|vs\.?|ou\s+seja)(?![A-Za-z])"
    # ("\boxed{5}\,(\text{resp. }6)": the word in text, its close brace before the number)
    # (or an exact form of one: "(i.e., 2^4)", "(which is \frac{1}{3})", "(i.e., \binom{5}{3})")
    # (each blank read by one quantifier: "[\s,:]*\}?[\s,:]*\$?\s*" read a run of blanks cubically)
    r"[\s,:]*(?:\}[\s,:]*)?(?:\$\s*)?([-+]?(?:" + _EXACT_FORM + r"|\d*\.?\d+(?:/\d+)?))\s*\$?"
)
# ("(?!\s)": the lookahead reads the blanks the \s* gave back alike; retried at each, a run of them was quadratic)
_RESTATED_RE = re.compile(_RESTATED[: -len(r"\s*\$?")] + r"\s*(?!\s)\$?(?=[\s$]*(?:[.;,)\]!?](?!\d)|$))", re.I)
# (the number going on, as _RESTATED_RE leaves alone: "\boxed{6} (i.e., 6 or 7)" restates 6, then offers 7)
_RESTATED_LEAD_RE = re.compile(_RESTATED + r"(?![\d.])", re.I)


# a computation of numbers with one kind of operator: "2 + 4", "3 \times 4", "12 / 3" (see _computed)
_NUM = r"\d+(?:\.\d+)?"
_MUL_OP = r"(?:[*\u00d7\u22c5/]|\\(?:times|cdot|div)(?![A-Za-z])|(?<=[ \t])[xX](?=[ \t]))"
_COMPUTATION = _NUM + r"(?:(?:[ \t]*[-+][ \t]*" + _NUM + r")+|(?:[ \t]*" + _MUL_OP + r"[ \t]*" + _NUM + r")+)"
_COMPUTATION_FULL_RE = re.compile(_COMPUTATION)
# (after "=": the operators mixed, "\boxed{6} = 1 + 2 \cdot 3" is 7, read with precedence; as one kind only, it was
# no computation and the 7 it offers beside 6 passed unseen)
_MIXED_COMPUTATION = _NUM + r"(?:[ \t]*(?:[-+]|" + _MUL_OP + r")[ \t]*" + _NUM + r")+"
_MIXED_COMPUTATION_RE = re.compile(_MIXED_COMPUTATION)


# another value the work gets by another method, right after the answer: "\boxed{6} (7 by another method)", "\boxed{6};
# by the other formula, 7", "\boxed{6}. Using another approach we get 7." (a hedge between two results: read as 6
# alone, it scored; the same value again, "(6 by another method)", confirms it)
_OTHER_METHOD = (
    r"(?:by|via|using|with|from|under|in|per|according\s+to)\s+(?:the\s+|an?\s+)?(?:other|another|alternative|alternate"
    r"|different|second)\s+(?:method|approach|way|formula|reading|interpretation|count(?:ing)?|calculation|computation"
    r"|solution|route|technique)s?"
)
_OTHER_METHOD_WORDS_RE = re.compile(_OTHER_METHOD, re.I)
_METHOD_VALUE = r"\$?\s*([-+]?\d*\.?\d+(?:/\d+)?)\s*\$?"
_OTHER_METHOD_RE = re.compile(
    r"(?:[\s$]|" + _TEX_SPACE + r")*(?:[(\[,;]\s*|[.!]\s+)?(?:" + _METHOD_VALUE + r"\s+" + _OTHER_METHOD
    + r"|" + _OTHER_METHOD + r"\s*[,:]?\s*(?:(?:we|i|you)\s+(?:get|got|obtain|find|found)\s+|it(?:'s|\s+is)\s+"
    r"|(?:this\s+|that\s+)?(?:gives|yields)\s+)?" + _METHOD_VALUE + r"(?=[\s$]*(?:[.;,)\]!?](?!\d)|$)))",
    re.I,
)


# another value queried in brackets right after the answer: "\boxed{5} (6?)" offers 6 beside 5
# (or in "\text{}" after a space, "\boxed{5}\ \text{(6?)}", or as a sentence of its own: "\boxed{5}. 6?")
_QUERIED_VALUE = r"\s*\$?\s*([-+]?\d*\.?\d+(?:/\d+)?)\s*\$?\s*\?"
_QUERIED_RE = re.compile(
    r"(?:[\s$]|" + _TEX_SPACE + r")*(?:\\text\s*\{\s*)?(?:[(\[]" + _QUERIED_VALUE + r"+\s*[)\]]|[.!?;]?" + _QUERIED_VALUE
    + r"(?=[\s$]*$|\s))"
)


# a plain number a box is equated (or led by an arrow) to, ending its clause or going on to the next: "\boxed{5} = 6",
# "\boxed{5} \to 6", "\boxed{5} = 5 = 6" ("= 6 - 1" goes on); or an exact form of one, a factorial, a power or a
# binomial: "\boxed{720} = 5!" (5! is 120), "\boxed{8} = 2^4" (read as no number, the other value passed unseen)
_EQ_OP = r"(?:=|->|\\(?:to|rightarrow|Rightarrow|implies|longrightarrow)(?![A-Za-z])|\u2192|\u21d2)"
# a repeating decimal "0.\overline{3}", "1.2\overline{34}" after "=": read as the number before its point ("0"), the
# point a sentence end, "The answer is 1/3 = 0.\overline{3}." offered 1/3 or 0 and the right 1/3 scored 0
_REPEATING_FORM = r"\d+\.\d{0,6}\\(?:overline|bar)\s*\{\s*\d{1,6}\s*\}"
_REPEATING_RE = re.compile(r"([-+]?)(\d+)\.(\d{0,6})\\(?:overline|bar)\s*\{\s*(\d{1,6})\s*\}")
_EQ_AFTER_RE = re.compile(
    r"[ \t$]*\(?[ \t$]*" + _EQ_OP + r"[ \t$]*((?:[-+]?(?:" + _EXACT_FORM + r"|" + _REPEATING_FORM + r"|\d*\.?\d+(?:/\d+)?)|"
    + _MIXED_COMPUTATION + r")"
    r"(?:[ \t]*!(?![!=]))?)"
    r"(?=[ \t$]*(?:[.;,)?](?!\d)|\n|$|" + _EQ_OP + "))"
)


def _other_equated(ans: str, num: str) -> bool:
    """Whether `num`, written "= num" after the box `ans`, is another value than the box's: "\boxed{5} = 6" offers
    two (read as 5 alone, the 6 was a free guess); "\boxed{\frac{1}{2}} = 0.5" and "\boxed{\frac{1}{3}} = 0.333"
    (a rounding in its last place) restate one. Only for a simple box: "\boxed{x} = 5" is left as it is. A factorial
    "5!" is read both ways, as the factorial and as the number before an exclamation mark: another value only when
    neither is the box's ("\boxed{120} = 5!" and "\boxed{5} = 5!" restate one, "\boxed{720} = 5!" offers 120)."""
    if num.endswith("!"):
        base = num[:-1].rstrip()
        if _MIXED_COMPUTATION_RE.fullmatch(base):
            return False  # "\boxed{48} = 2 \cdot 4!": the factorial of its last number, or a mark ending the clause
        if base.isdigit() and int(base) <= 20 and _simple_float(ans) == _math.factorial(int(base)):
            return False
        num = base
    v, w = _simple_float(ans), _simple_float(num)
    if w is None and v is not None and (w := _exact_form_float(num)) is not None:
        return _exact_differs(ans, v, w)  # "\boxed{8} = 2^4": exact, no rounding of 8
    if w is None and v is not None and _MIXED_COMPUTATION_RE.fullmatch(num):
        c = _computed(num)  # "\boxed{6} = 2 \cdot 4" offers 8 ("\boxed{12} = 3 \times 4" restates 12)
        return c is not None and _exact_differs(ans, v, float(c))
    if v is None or w is None:
        return False
    if "." not in num:
        return _exact_differs(ans, v, w)
    return abs(w - v) > 0.6 * 10.0 ** -(len(num) - num.index(".") - 1)


def _equated_other(s: str, at: int, ans: str) -> str | None:
    """The other value an "= ..." chain at s[at] equates the simple value `ans` to (_other_equated), or None."""
    em = _EQ_AFTER_RE.match(s, at)
    while em is not None:
        if _other_equated(ans, em.group(1)):
            return em.group(1)
        em = _EQ_AFTER_RE.match(s, em.end())
    return None


_CHAIN_END_RE = re.compile(r"[\s$.!*_]*")


def _restated_to_end(s: str, at: int) -> bool:
    """Whether s[at:] is an "= ..." chain (_EQ_AFTER_RE) of restatements of the value before it, to its end."""
    em = _EQ_AFTER_RE.match(s, at)
    if em is None:
        return False
    while em is not None:
        at = em.end()
        em = _EQ_AFTER_RE.match(s, at)
    return _CHAIN_END_RE.fullmatch(s, at) is not None


def _exact_differs(ans: str, v: float, w: float) -> bool:
    """Whether the exact value `w` equated to the box `ans` (of value `v`) is another value: unless the box is a
    decimal that rounds (or cuts) `w` in its last written place, "\boxed{0.33} = \frac{1}{3}" restating its answer
    as "\boxed{\frac{1}{3}} = 0.33" does (read as two values, the right 0.33 scored 0); "\boxed{0.5} = \frac{1}{3}",
    "\boxed{8} = 2^4" offer another."""
    a = ans.strip()
    if _DECIMAL_RE.fullmatch(a):
        return not _rounds_to(a, w, slack=False)
    return not _math.isclose(w, v, rel_tol=1e-12)


_DECIMAL_RE = re.compile(r"[-+]?\d*\.\d+")
_LIST_GOES_ON_RE = re.compile(r"[\s$]*(?:[,;]\s*(?:and\s+)?|\s+and\s+)\$?\s*[-+]?\d", re.I)


def _other_restated(ans: str, m: re.Match) -> bool:
    """Whether the number of `m` (_RESTATED_RE) offers another value than the answer `ans`: what "i.e." (or "which
    is", "so", "namely", ...) restates must be the answer (or a rounding of it); "resp." and "versus" offer another
    unless it is the same value."""
    v, w, num = _simple_float(ans), _simple_float(m.group(2)), m.group(2)
    if v is not None and _restated_factorial(m) == v:
        return False  # "\boxed{720} (i.e., 6!)" restates 720 as 6!, no second value 6 ("(i.e., 5!)" still offers 120)
    if w is None and (w := _exact_form_float(num)) is not None and v is not None:
        return not _math.isclose(w, v, rel_tol=1e-12)  # "\boxed{8} (i.e., 2^4)": exact, no rounding of 8
    if not m.group(1).lower().startswith(("resp", "v")):
        if _LIST_GOES_ON_RE.match(m.string, m.end()):
            return False  # "\boxed{6} (namely 1, 2 and 3)", "\boxed{6}, so 7, 8, 9 fail": a list, not the answer again
        # (a rounding of the answer in the restated number's last place, "\boxed{\frac{1}{3}} (i.e., 0.33)", with no
        # 1% slack as after "\approx": "\boxed{720} (i.e. 725)" says the answer is 725, and scored for the gold 720;
        # a restatement finer than the answer is another value too, "\boxed{6} (more precisely 6.5)")
        return v is not None and w is not None and w != v and ("/" in num or "frac" in num or not _rounds_to(num, v, slack=False))
    return v is None or w != v


def _method_agrees(num: str, ans: str) -> bool:
    """Whether the value `num` another method gives is the answer `ans` again: the same value, or a decimal of it
    rounded or cut in its last place ("\\boxed{\\frac{1}{3}} (0.333 by another method)" confirms 1/3)."""
    if _same_value(num, ans):
        return True
    v = _simple_float(ans)
    return v is not None and "." in num and _simple_float(num) is not None and _rounds_to(num, v, slack=False)


def _exact_form_float(s: str) -> float | None:
    """The value of a power "2^4" ("2^{10}"), a binomial "\\binom{5}{2}" (_EXACT_FORM) or a repeating decimal
    "0.\\overline{3}" (_REPEATING_FORM), else None."""
    if pm := _POWER_RE.fullmatch(s):
        return (-1 if pm.group(1) == "-" else 1) * float(pm.group(2)) ** int(pm.group(3))
    if bm := _BINOM_RE.fullmatch(s):
        return (-1 if bm.group(1) == "-" else 1) * float(_math.comb(int(bm.group(2)), int(bm.group(3))))
    if rm := _REPEATING_RE.fullmatch(s):  # "0.1\overline{6}": 0.1 + 6 / (10 * 9)
        sign, whole, fixed, rep = rm.groups()
        x = float(f"{whole}.{fixed}") + int(rep) / (10 ** len(fixed) * (10 ** len(rep) - 1))
        return -x if sign == "-" else x
    return None


def _restated_factorial(m: re.Match) -> int | None:
    """The factorial a restated number of `m` (_RESTATED_RE) is written as, "6!" (a whole number up to 20, one "!"
    that is no "!="), else None. Its "!" may also end the clause ("so 6!"), so both readings are tried."""
    num, s, j = m.group(2), m.string, m.end(2)
    j += len(s[j : j + 3]) - len(s[j : j + 3].lstrip(" "))  # ("6 !" in TeX is the factorial too)
    if not num.isdigit() or int(num) > 20 or s[j : j + 1] != "!" or s[j + 1 : j + 2] in ("!", "="):
        return None
    return _math.factorial(int(num))


def _rounds_to(a: str, v: float, zeros: bool = False, slack: bool = True) -> bool:
    """Whether the written decimal `a` is a rounding of `v`: within 1%, or half a unit of its last written place
    with some slack ("\\frac{1}{3} \\approx 0.33"). `zeros`: a whole number's trailing zeros are rounding (after
    "\\approx", not in a percent: "70%" is no rounding of 3/4). `slack`: the 1% (without it, only the place)."""
    places = len(a) - a.index(".") - 1 if "." in a else 0
    if zeros and not places and a.strip("+-0"):
        places = len(a.rstrip("0")) - len(a)  # "1024 \approx 1000": a whole number rounds to its last nonzero place
    return abs(float(a) - v) <= max(0.01 * abs(v) if slack else 0.0, 0.6 * 10.0**-places) or (
        not slack and _cut_to(a, v)
    )


def _cut_to(a: str, v: float) -> bool:
    """Whether the written decimal `a` (two places or more) is `v` cut, not rounded, at its last written place: a
    repeating decimal written as far as it goes, "\\frac{2}{3} (i.e., 0.666)", "\\frac{1}{6}, which is 0.166" (held
    to rounding alone, the right answer was offered beside 0.666 and scored 0)."""
    places = len(a) - a.index(".") - 1 if "." in a else 0
    if places < 2 or places > 12:
        return False
    return _math.isclose(_math.trunc(v * 10**places) / 10**places, float(a), rel_tol=1e-12, abs_tol=1e-15)


def _same_value(a: str, b: str) -> bool:
    """Whether two simple values are written alike or have one value ("0.5" and "1/2", "\\frac{1}{2}" and "1/2")."""
    return _bare(a) == _bare(b) or ((x := _simple_float(a)) is not None and x == _simple_float(b))


def _restates_answer(after: str, ans: str) -> bool:
    """Whether the words an offering word opens name the answer's own value again and no other: that value going
    on in prose ("maybe 5 is easier seen as 2+3", "5 after all") or a computation ending in it ("6 + 3 = 9
    confirms it", "3^2 = 9 is quicker"). One answer (read whole, the words made a second value and the right
    answer scored 0); "5 or 6", "5 is too small; 6" still offer 6."""
    if _OR_WORD_RE.search(after):
        return False
    nums = _numbers_in(after)
    if not nums or not all(_same_value(n.group(), ans) for n in nums):
        return False
    lv = _LEAD_VALUE_RE.match(after)
    if lv is not None and _same_value(lv.group(1), ans):
        return re.match(r"\s+[A-Za-z]", after[lv.end() :]) is not None
    return "=" in after[: nums[0].start()]


# what rejects the value a "maybe" opens with: "Maybe 6 is wrong.", "Otherwise 6 would be too small."
_REJECTS_RE = re.compile(
    r"\b(?:wrong|incorrect|false|mistaken|too\s+(?:big|small|large|high|low|many|few|much|little))\b", re.I
)


def _rejects_other(after: str, ans: str) -> bool:
    """Whether the words an offering word opens give another value only to reject it ("6 is tempting, but it
    fails", "6, which fails", "6 would be too small"): no value offered. Not with the answer's value or a third
    one beside it ("6, not 9" offers 6), nor under a condition ("6 is right, unless I'm wrong")."""
    lv = _LEAD_VALUE_RE.match(after)
    if lv is None or _same_value(lv.group(1), ans) or not re.match(r",?\s+[A-Za-z]", after[lv.end() :]):
        return False
    rest = after[lv.end() :]
    if _numbers_in(rest) or re.search(r"\b(?:unless|if|or)\b", rest, re.I):
        return False
    # (one rejecting word: two may cancel, "6 is not wrong" offers 6)
    return len(_REJECTED_RE.findall(rest)) + len(_REJECTS_RE.findall(rest)) == 1


# ("Is it 7? Nah.", "Definitely not.", "Of course not.": each "No"; read as no answer, the denied 7 scored for the gold 7)
_NO_RE = re.compile(
    r"[\s$*_]*(?:no|nope|nah|not\s+(?:quite|really)|(?:definitely|certainly|absolutely|surely|clearly|obviously|of\s+course)\s+not)"
    r"\b(?!\s+(?:idea|clue)\b)",
    re.I,
)


def _answered_no(win: str, at: int, q: str, ans: str | None) -> bool:
    """Whether a value queried after the answer ("6?") is answered "No" right after it, in a sentence that names
    no value but it and the answer ("6? No, 9." keeps 9; "6? No, 7." offers 7)."""
    no = _NO_RE.match(win, at)
    if no is None or ans is None:
        return False
    sent = win[no.end() : _sentence_end(win, no.end())]
    return all(_same_value(n.group(), q) or _same_value(n.group(), ans) for n in _numbers_in(sent))


def _says_nothing(rest: str) -> bool:
    """Whether the text after an answer holds no letter or digit (ASCII, so no look-alike either): no other value
    or word can be offered there, and the hedge patterns need not run (most completions end "\\boxed{42}.")."""
    return len(rest) <= 400 and rest.isascii() and _NO_VALUE_RE.fullmatch(rest) is not None


def _column_mark(text: str, start: int, end: int) -> bool:
    """Whether the "|" or "&" at text[start:end] after a box marks a column ("| 1 | \\boxed{5} | 6 |", "x &= \\boxed{5}
    & y &= 6 \\\\" in an aligned environment) or closes an absolute value ("|\\boxed{-5}| 5"): another bar,
    ampersand or row break on its line, or an environment still open before it."""
    ls = text.rfind("\n", 0, start) + 1
    le = text.find("\n", end)
    line = text[ls:start] + text[end : len(text) if le < 0 else le]
    return any(t in line for t in ("|", "&", "\\\\")) or text.count("\\begin", 0, start) > text.count("\\end", 0, start)


_ASIDE_RE = re.compile(r"[ \t]*(\()[^()\n]{0,80}\)")
# closing brackets right after a box, with the "$" that closes its math: "(\boxed{4})", "$[\boxed{4}]$", "\boxed{4} \right)"
# (each repetition takes one bracket, so the blanks before it are read once)
_CLOSE_AFTER_BOX_RE = re.compile(r"(?:[ \t$]*(?:\\right)?\\?[)\]])+")
# the answer doubted right after it: "\boxed{6}. Or is it?", "6... or is it?" (answered or not: see _hedge_here)
# (a mark, or an emphasis mark, opens the [\s*_]* after [\s$]*: blanks read by both backtracked quadratically; "(?![\s$])":
# what follows opens with no blank, so a shorter read of the blanks only retried it at each)
_DOUBTED_AFTER_RE = re.compile(r"[\s$]*(?![\s$])(?:[.,;:!\u2026\u2014\u2013-]+[\s*_]*(?![\s*_])|[*_][\s*_]*(?![\s*_]))?(?:(?:hmm+|but|wait)[\s,.!]*)?or\s+is\s+it\s*\?+", re.I)
# a word right after an answer that says it is rough, ending its clause: "\boxed{6} or so", "6, roughly.", "6 (approx.)"
# ... or that its writer is unsure of it: "\boxed{6} (not sure)", "6 (guess)", "\boxed{6}. But I am not sure." (as "6?" is)
_UNSURE = (
    r"(?:(?:just\s+|only\s+)?(?:an?\s+|my\s+|i\s+)?(?:(?:educated|rough|wild|best)\s+)?guess(?:ed|ing)?|tentative(?:ly)?|unverified"
    r"|unconfirmed|" + _DOUBT + r"(?:\s+(?:about\s+)?(?:of\s+)?(?:this|that|it))?)"
)
# ("(?![ \t$])": what follows opens with no blank, so giving blanks back only retried it at each: 400,000 took 0.4 s)
_ROUGH_AFTER_RE = re.compile(
    r"[ \t$]*(?![ \t$])(?:(?:,[ \t]*(?![ \t])|\([ \t]*(?![ \t])|\\(?:text|mbox|textrm)\{[ \t]*(?![ \t]))?"
    r"(?:(or\s+so|or\s+thereabouts)(?![A-Za-z])|(give\s+or\s+take|more\s+or\s+less|approximately|approx\.?|roughly|about|-?ish|estimated?|\?"
    r"|" + _UNSURE + r")(?=[ \t$}]*(?:[.,;:!)\]]|\n|$)))"  # ("6 or so hours" too)
    # (in the next sentence, a doubt alone: "\boxed{6}. But I am not sure.", "6 -- just a guess.")
    r"|(?:[.;:!\u2014\u2013]|--)[ \t*_]*(?![ \t*_])(?:(?:but|though|however|although|hmm+)[ \t,]+)?(" + _UNSURE + r")(?=[ \t*_]*(?:[.!)]|\n|$)))",
    re.I,
)


def _hedge(
    text: str,
    end: int,
    conditioned: bool = False,
    box: bool = False,
    other_case: re.Pattern | None = _OTHER_CASE_AFTER_RE,
    ans: str | None = None,
) -> str | None:
    """_hedge_here, or, past a parenthesis of words right after the answer, what follows it: "\boxed{12} (apples)
    or 13" offers 13 (the aside hid the "or": 12 scored alone, or in prose 13 did)."""
    h = _hedge_here(text, end, conditioned, box, other_case, ans)
    if h is None and box and (close := _CLOSE_AFTER_BOX_RE.match(text, end)) is not None:
        # "(\boxed{4}) or 3", "\boxed{4} ] or 3": the bracket around the box closes and the hedge goes on after it
        # (the close hid the "or": read as 4 alone, it scored; prose already read "(The answer is 4) or 3" as both)
        h = _hedge_here(text, close.end(), conditioned, box, other_case, ans)
    if h is None and (aside := _ASIDE_RE.match(text, end)) is not None and (
        _paren_prose(text, aside.start(1)) or _PAREN_COMPUTATION_RE.match(text, aside.start(1))  # ("12 (3 x 4) or 13")
        # ("6 (i.e., 6) or 7": the answer restated, read as no other value above, hid the "or" too)
        or ((rm := _RESTATED_RE.match(text, end)) is not None and text[rm.end() : aside.end()].strip(" !") == ")")
    ):
        h = _hedge_here(text, aside.end(), conditioned, box, other_case, ans)
    if h is None and (rm := _RESTATED_RE.match(text, end)) is not None and rm.end() > end:
        # "\boxed{6} (i.e., 6, or 7)": the answer restated, read as no other value above, hid the "or" after it
        h = _hedge_here(text, rm.end(), conditioned, box, other_case, ans)
    if h is None and ans is not None and (rl := _RESTATED_LEAD_RE.match(text, end)):
        # "\boxed{6} (i.e., 6 or 7)": the answer restated, no clause end after it, with "or 7" going on; restated as
        # another value, that value is offered too: "\boxed{6} (i.e., 5 or 7)" hedges between 5 and 7 (read as 6
        # alone, it scored) while "(i.e., 5 + 1)", no hedge after it, still restates 6
        h = _hedge_here(text, rl.end(), conditioned, box, other_case, ans)
        if h and not _same_value(rl.group(2), ans):
            h = f"or {rl.group(2)} {h}"
    if h and h.endswith(")") and h.count(")") > h.count("("):
        # (looked for inside the restating parenthesis, its close is no part of the value: "6 or 7)" matched no
        # gold "6, 7" while "\boxed{6} (or 7)" does)
        h = h[:-1].rstrip()
    return h


def _hedge_here(
    text: str,
    end: int,
    conditioned: bool = False,
    box: bool = False,
    other_case: re.Pattern | None = _OTHER_CASE_AFTER_RE,
    ans: str | None = None,
) -> str | None:
    """The other values offered with "or" (or "maybe", "alternatively", ...) right after an answer that ends
    at text[end], in its sentence or opening the next, as "or 4"; None when no other value is offered. `other_case`:
    what offers a value for another case after the answer (None: the answer is a step of the work, not stated).
    `ans`: the answer, when known (an approximate value far from it is another value)."""
    says_nothing = _says_nothing(text[end : end + 401])
    if ans is not None and (qm := _ROUGH_AFTER_RE.match(text, end)) is not None and (not says_nothing or "(" in qm.group()):
        # "\boxed{6} or so", "\boxed{6}, roughly.", "Answer: 6 (approx.)": the answer said to be rough is no
        # committed value, as "about 6" or "\boxed{6 \text{ ish}}" is none (read as 6 alone, it scored); nor is one
        # said to be unsure ("\boxed{6} (not sure)", and "\boxed{6} (?)", though marks alone say nothing: "\boxed{6}?")
        return _squeeze_blank((qm.group(1) or qm.group(2) or qm.group(3)).lower())
    if says_nothing:
        return None
    if ans is not None and (dm := _DOUBTED_AFTER_RE.match(text, end)) is not None and (
        _says_nothing(text[dm.end() : dm.end() + 401]) or _NO_RE.match(text, dm.end())
    ):
        return "or is it?"  # "\boxed{6}... or is it?" ends doubting its answer: no committed value (read as 6, it scored)
    line = _NEXT_LINE_VALUE_RE.match(_fold(text[end : end + 200])) if box else None
    if line is not None:
        # "\boxed{3}\n\n$5$": a second value, alone on the line after a box (after a phrase it may be the answer
        # the phrase points to: "The answer is shown below:\n\n$5$")
        return f"or {line.group(1).strip('$')}"
    end = _PAD_RE.match(text, end).end()  # padding does not part the answer from an "or" after it
    if text[end : end + 1] in _FILLER_OPENERS and (pad := _LONG_PAD_RE.match(text, end).end()) - end > 8:
        # ... nor do the "$" that close the answer's math, or TeX spacing, with a long run of blanks: "$\boxed{4}$" +
        # 1,000 spaces + " or 3" read 4, and a window of "$$" and 198 blanks took the patterns below 2 s (their blanks
        # read by several quantifiers); a short pad stays in the window ("$\boxed{4}$ $5$")
        end = pad
    win = _fold(text[end : end + 200])
    # (or in parentheses, or after a comma: "\boxed{3} (about 4.5)", as after "Answer: 3 (about 4.5)")
    if ans is not None and (am := _ROUNDING_GAP_RE.match(win)) and _far_approx(ans, am):
        return f"or {am.group(1)}"  # "\boxed{3} \approx 4.5"
    # (with no answer known, a step's value: "resp." and "versus" still set another value beside it)
    if (rm := _RESTATED_RE.match(win)) and _other_restated(ans or "", rm):
        return f"or {rm.group(2)}"  # "\boxed{5} (i.e., 6)", "\boxed{5} (resp. 6)", "\boxed{5} versus 6"
    if ans is not None and (om := _OTHER_METHOD_RE.match(win)) and not _method_agrees(om.group(1) or om.group(2), ans):
        return f"or {om.group(1) or om.group(2)}"  # "\boxed{6} (7 by another method)"
    em = _EQ_AFTER_RE.match(win) if box and ans is not None else None
    while em is not None:
        if _other_equated(ans, em.group(1)):
            return f"or {em.group(1)}"  # "\boxed{5} = 6"
        em = _EQ_AFTER_RE.match(win, em.end())
    if (qm := _QUERIED_RE.match(win)) is not None:
        q = qm.group(1) or qm.group(2)
        if _answered_no(win, qm.end(), q, ans):
            return None  # "\boxed{9}. 6? No, 6 is too small.": the queried value is turned down at once
        return f"or {q}"  # (the same value queried, "(5?)", is one answer: "5 or 5" is 5)
    if (lab := _ALT_LABEL_VALUE_RE.match(win)) is not None:
        return f"or {lab.group(1).strip('$')}"  # "\boxed{5}\n\nAnswer 2: 6", as "Answer 2: \boxed{6}" is
    parts = _other_parts(win)
    if parts is not None:
        return parts
    m = (_OR_AFTER_BOX_RE if box else _OR_AFTER_RE).match(win)
    if m is not None and m.group(1) in ("|", "&") and _column_mark(text, end, end + m.end()):
        m = None
    also = None if m else _ALSO_AFTER_RE.match(win)
    n = _ALSO_AFTER_RE.groups
    i = next((i for i in (n, n - 1, n - 2) if also is not None and also.group(i)), 0)  # (the three "and" forms)
    if i and conditioned and win[: also.start(i)].rstrip().lower().endswith("and"):
        # "\boxed{3} for n = 1 and 2", "... and 2 too": the value after "and" is the condition's, no other answer
        also = None
    by_case = False
    if also is None and m is None and other_case is not None:
        also = other_case.match(win)  # (an "if" clause, not the answer's condition)
        by_case = also is not None
    cond = None if conditioned or m or also else _CONDITION_RE.match(win)
    if cond is not None:
        # the answer's condition first, the other case's value after it: "\boxed{3} if n is odd, 5 if n is even",
        # "\boxed{3} if n is odd; otherwise 5"
        c_end = cond.end()
        if _FOR_COND_RE.match(cond.group()):
            # "for n = 1, 2": the condition's list goes on, its last item no other answer
            lst = _COND_LIST_RE.match(win, c_end)
            c_end = lst.end() if lst else c_end
        if _EXAMPLE_RE.match(cond.group()):
            # "\boxed{12}. For example, for n = 2, we get 6." works an example, no other case (a value offered
            # still is one: "For example, 5 also works.")
            other_case = None
        return _hedge(text, end + c_end, conditioned=True, other_case=other_case, ans=ans)  # (one condition: bounded recursion)
    if m is None:
        if also is None or _REJECTED_RE.search(win, also.end(), _sentence_end(win, also.end())) or (
            (rj := _REJECTS_RE.search(win, also.end(), _sentence_end(win, also.end()))) is not None
            and not re.search(r"\b(?:unless|if)\b", win[also.end() : rj.start()], re.I)  # ("6 works, unless I'm wrong")
        ):
            return None  # "\boxed{3}. The other solution is $-2$, which is extraneous." offers no other answer
        if any(g and _COMPUTATION_RE.match(g) and win[: also.start(i)].rstrip().endswith(":") for i, g in enumerate(also.groups(), 1)):
            # "\boxed{5}\n\nIf x = 5: $5 + 1 = 6$." checks the answer: a computation after a case's colon is no value
            # offered ("If n is even, we get $2 + 3 = 5$" offers 5)
            return None
        if _DISMISSED_RE.match(win, also.end()):
            return None  # "If n were 2, the answer would be 5, but n = 1 here.": that case is not this problem's
        if by_case and ans is not None and (chk := _CHECK_COND_RE.match(win)) and chk.end() <= also.end() and (
            _bare(chk.group(1)) == _bare(_NAME_EQ_RE.sub("", ans, 1))
        ) and not _ALSO_TAIL_RE.match(win, also.end()):
            return None  # "\boxed{5}\n\nIf x = 5, then 6.": a case that sets the unknown to the answer checks it
        return " ".join(f"or {g.strip('$')}" for g in also.groups() if g)
    j = _BLANK_RUN_RE.match(text, end + m.end()).end()
    rest = win[: m.end()] + " " + _fold(text[j : j + 200])
    m_end = m.end()
    # the other value may open the next line: "\boxed{4} or\n3"
    rest = rest[: _sentence_end(rest, _skip_space(rest, m_end))].replace("$", " ")
    # the offering word reads as "or", filler goes: "\boxed{3}. Or equivalently 3.0" is "3 or 3.0", one value
    ws, we = m.start(1), m.end(1)
    # ("\boxed{3} \text{ otherwise } 5": the group's close brace)
    after = _TEX_SPACE_RE.sub(" ", _HEDGE_FILLER_RE.sub(" ", rest[we:])).strip(" \t\n*_`").lstrip(",:})").strip()
    # ("\boxed{6} and maybe also 7", "(or even 7)": the adverb before the value is no part of it; left on, no value
    # was read after "maybe" and 6 scored alone)
    after = _ALSO_LEAD_RE.sub("", after, 1)
    if not any(c.isdigit() for c in rest) and not _VALUE_WITHOUT_DIGIT_RE.match(after):
        # ("\boxed{3} (or five)": the closing parenthesis is no part of the word; left on, no value was read and 3
        # scored alone)
        words = after.rstrip(" .)]").rstrip()
        if len(after) <= 60 and _spelled_value(words, strict=False) is not None:
            return f"or {words}"  # "\boxed{3} or five" offers 5 ("or three" is the same 3: one answer)
        return None  # "\boxed{3} or, in words, three"
    if am := _APPROX_AFTER_RE.match(after):
        # "\boxed{\frac{\pi}{3}} or approximately 1.047" rounds the value, as "\approx 1.047" does ("\boxed{3} or
        # approximately 4.5" offers another)
        return f"or {am.group(1)}" if _far_approx(ans, am) else None
    word = _squeeze_blank(m.group(1).lower())
    if word == "unless" and not _UNLESS_VALUE_RE.match(after):
        # "\boxed{3} unless n = 0" states a condition; "unless it's 5" offers 5, and so does a value for the case
        # the condition names: "\boxed{3} (unless n is even, in which case 5)"
        case = _IN_WHICH_CASE_RE.search(after)
        if case is not None and (_OFFERED_VALUE_RE.match(after, case.end()) or _NAMED_VALUE_RE.match(after, case.end())):
            after = after[case.end() :]
        elif (cv := _UNLESS_THEN_VALUE_RE.fullmatch(after)) is not None:
            # (read as a condition alone, "Unless n is even, then 6." let 5 score alone; a closing parenthesis
            # stays, to be stripped with its opening one)
            after = cv.group(1) + (")" if after.rstrip(" .").endswith(")") else "")
        else:
            return None
    elif word.startswith("if"):
        after = _THEN_RE.sub("", after, 1)  # "\boxed{3}; if not, then 5" is "otherwise 5"
    if word not in _OR_WORDS and (cv := _COND_THEN_VALUE_RE.fullmatch(after)) is not None:
        # "Alternatively, if counting differently, 6." offers 6 (a closing parenthesis stays, to be stripped with its
        # opening one: "\boxed{5} (alternatively, if n is even, 6)" read "5 ( or 6")
        after = cv.group(1) + (")" if after.rstrip(" .").endswith(")") else "")
    if word not in _OR_WORDS and not (
        _OFFERED_VALUE_RE.match(after)
        or _VALUE_WITHOUT_DIGIT_RE.match(after)
        or (word in ("otherwise", "else", "if not") and _NAMED_VALUE_RE.match(after))
    ):
        return None  # "\boxed{5}. Maybe double-check: 2 + 3 = 5." comments on the answer, offers no other
    if (word == "on the other hand" or word.endswith(("probably", "likely"))) and not _OTHER_HAND_VALUE_RE.fullmatch(after):
        return None
    pre = _OPENER_END_RE.sub("", rest[:ws].strip().lstrip(".!?,;").strip(" *_`>")).rstrip()
    after = _IT_IS_LEAD_RE.sub("", after, 1)  # "Maybe it's 6" offers 6
    if ans is not None and _restates_answer(after, ans):
        return None  # "\boxed{5}. Wait, maybe it is 5 after all.": the answer's own value said again, no other
    if ans is not None and word not in _OR_WORDS and _rejects_other(after, ans):
        return None  # "\boxed{9}. Maybe 6 is wrong.": 6 named to be rejected, not offered
    closer = {"(": ")", "[": "]"}.get(pre)
    body = after.rstrip(" .")[:-1].rstrip()
    if closer and after.rstrip(" .").endswith(closer) and body.count(pre) == body.count(closer):
        # "\boxed{0.5} (or $\frac{1}{2}$)": the parentheses around the other value are no part of it (left in, the
        # answer "0.5 ( or \frac{1}{2} )" was unparseable, and the same value restated scored wrong)
        pre, after = "", body
    return f"{pre} or {after}".strip()


# ("The correct option is (C).": a multiple-choice answer is named so too)
_PHRASES = (
    "final answer is", "answer is", "final answer:", "answer:", "final answer :", "answer :", "correct option is",
    "correct choice is",
)
_BOILER_RE = re.compile(r"i hope it is correct|<\|[a-z_]+\|>|\b(?:user|assistant)\b", re.I)
_DELIM_RE = re.compile(r"\\[$()\[\]]|\$\$|\$")


def _math_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of $..$, $$..$$, \\(..\\), \\[..\\] spans, in order (linear)."""
    spans = []
    toks = [(m.start(), m.group()) for m in _DELIM_RE.finditer(text)]
    i = 0
    closer = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}
    while i < len(toks):
        pos, t = toks[i]
        if t not in closer:
            i += 1
            continue
        want = closer[t]
        j = i + 1
        while j < len(toks) and toks[j][1] != want:
            j += 1
        if j >= len(toks):
            i += 1
            continue
        spans.append((pos, toks[j][0] + len(want), text[pos + len(t) : toks[j][0]]))
        i = j + 1
    return spans


_KNOWN_WORDS = frozenset(
    "and or sin cos tan sec csc cot log ln exp sqrt pi arcsin arccos arctan sinh cosh tanh lg abs "
    "inf infty infinity oo mod pmod".split()
)
_UNITS = frozenset(
    """cm m mm km in inch inches ft feet foot yd yard yards mi mile miles meter meters metre metres
    centimeter centimeters millimeter millimeters kilometer kilometers kg g gram grams mg lb lbs pound
    pounds oz ounce ounces s sec secs second seconds min mins minute minutes h hr hrs hour hours day
    days week weeks month months year years dollar dollars cent cents yuan euro euros rupee rupees
    yen usd unit units sq square cubic degree degrees deg rad radian radians percent percentage pct
    mph kmh kph liter liters litre litres ml l people students ways times dm""".split()
)
_WORD_RE = re.compile(r"[A-Za-z]{2,}")
_CMD_RE = re.compile(r"\\[A-Za-z]+")


def _unknown_words(s: str) -> int:
    s = _strip_text_groups(s)
    if "or" in s or "and" in s:  # (the pattern's search of every position was the costliest step of a short answer)
        s = _GLUED_SEP_RE.sub(r" \1 ", s)
    s = _CMD_RE.sub(" ", s)
    return sum(1 for w in _WORD_RE.findall(s) if w.lower() not in _KNOWN_WORDS and w.lower() not in _UNITS)


def _strip_text_groups(s: str) -> str:
    # drop \text{...}-like groups (their words are part of the answer, not prose)
    out = []
    i = 0
    while True:
        k = s.find("\\text", i)
        if k < 0:
            out.append(s[i:])
            break
        out.append(s[i:k])
        b = s.find("{", k)
        if b < 0 or b - k > 12:
            out.append(s[k:])
            break
        e = _match_brace(s, b, len(s))
        if e < 0:
            out.append(s[k:])
            break
        i = e + 1
    return "".join(out)


def _is_prose(s: str) -> bool:
    return _unknown_words(s) >= 3


def _trailing_words(s: str) -> int:
    s = _BOILER_RE.sub(" ", s)
    return len(_WORD_RE.findall(s))


# possessive quantifiers: no backtracking into a shorter number ("1,000.99m" is not "1,000")
# (a ratio or a time is one value: "3:4", "12:30"; its last part read alone scored for the gold 4)
_NUM_IN_TEXT_RE = re.compile(r"(?<![A-Za-z0-9_.\\])(?<!\d:)-?\d++(?:[.,]\d++)*+(?:/\d++|(?::\d++)++)?+(?![0-9_])")


def _numbers_in(s: str) -> list:
    """Numbers standing alone in prose: a number glued to letters counts only before a unit (5cm), and an
    operand of an operator never counts ("2+3", "5^2", "5 \\pm 1", a cut-off "12\\times"): it is not the
    value of what is written."""
    out = []
    if "\\" in s:
        # "n\approx12" as "n\approx 12" ("n\u224812" reads 12; the 12 glued to the command's letters was none): the
        # sign blanked to its length, so positions keep
        s = _APPROX_CMD_RE.sub(lambda a: "\u2248" + " " * (len(a.group()) - 1), s)
    for m in _NUM_IN_TEXT_RE.finditer(s):
        e = m.end()
        if e < len(s) and s[e].isalpha():
            k = e
            while k < len(s) and s[k].isalpha() and k - e < 12:
                k += 1
            if s[e:k].lower() not in _UNITS:
                continue
        if _is_operand(s, m.start(), e):
            continue
        out.append(m)
    return out


# ("\\approx" in prose, as "≈": "So we get 1/3 \\approx 0.33." made both numbers operands, no answer; the rounding
# after the exact value is dropped as after "≈" or "approximately", 1/3 read as "\\boxed{1/3} \\approx 0.33" reads)
_APPROX_CMD_RE = re.compile(r"\\(?:approx|sim|simeq|approxeq|thickapprox)(?![A-Za-z])")
_OPERATOR_CHARS = "+*/^_{(\\×·÷±∓"  # beside a number, after it: it is an operand
_OPERATOR_BEFORE = _OPERATOR_CHARS.replace("(", "")  # before it ("(5)" in prose is the value 5; "±5" is two)


_PAREN_OR_RE = re.compile(r"\(\s*(?:or|and)\s", re.I)
_PAREN_EQ_RE = re.compile(r"\(\s*=(?!=)")
_PAREN_EQ_END_RE = re.compile(r"\(\s*=(?!=)[^()]*\)[\s.!]*$")  # "... (= 2.83)." ending the line


# (a two-letter word opens words when a word or number follows it, "(in cm)", "(to 2 decimal places)", or when it is a
# unit alone, "(cm)": read as factors, the value before was an operand, no answer; "i.e." or "e.g." may open them)
_PAREN_WORD_RE = re.compile(
    r"\(\s*(?:(?:i\.\s?e|e\.\s?g)\.[\s,:]*)?(?:[-+]?\d+(?:\.\d+)?\s+([A-Za-z]{2,})|([A-Za-z]{3,}|(?!pi\b)[A-Za-z]{2}(?=[ \t]+(?:[A-Za-z]{2,}|\d))|([A-Za-z]{2})(?=[ \t]*\))))(?![A-Za-z(])"
)


def _paren_prose(s: str, j: int) -> bool:
    """Whether the parenthesis at s[j] opens words, not a factor: "9 (apples)", "9 (6 is too small)", "12 (in cm)",
    "12 (cm)" ("3 (x + 1)", "3(ab)", "2 (\\sin x)", "2 (log 3)", "2 (ln x)" are products)."""
    m = _PAREN_WORD_RE.match(s, j)
    if m is None or (m.group(3) and m.group(3).lower() not in _UNITS):
        return False
    return (m.group(1) or m.group(2)).lower() not in _FUNCS


# a spaced letter x between numbers in prose: "3 x 4" (a product or a size)
_TIMES_X_RE = re.compile(r"(?:(?<=\d)|(?<=\d\$))[ \t]+[xX][ \t]+(?=\$?[-+]?\d)")


def _is_operand(s: str, start: int, end: int) -> bool:
    """Whether the number s[start:end] has an operator beside it (spaces aside). A "**" is markdown bold, not
    a product; "-" counts after the number, and before it when it follows a value (binary minus)."""
    j = end
    while j < len(s) and s[j] in " \t":
        j += 1
    if j < len(s):
        c = s[j]
        if c == "(" and (
            _PAREN_OR_RE.match(s, j) or _PAREN_EQ_RE.match(s, j) or _RESTATED_RE.match(s, end) or _hedge(s, end) or _paren_prose(s, j)
            or (j > end and _paren_computes(s, j, s[start:end]))  # "12 (3 x 4)": how 12 is computed ("2(1 + 1)" a product)
        ):
            pass  # "4 (or 3)", "3 (5 if n is even)", "5 (resp. 6)", "12 (= 3 x 4)": a hedge or a restatement, no product
        elif (c in _OPERATOR_CHARS and s[j : j + 2] not in ("**", "\\%") and not _APPROX_CMD_RE.match(s, j)) or (
            c == "-" and s[j + 1 : j + 2].strip()[:1].isdigit()
        ):
            return True
        if c == "-" and s[j + 1 : j + 2] == " " and s[j + 2 : j + 3].isdigit():
            return True
        if _TIMES_X_RE.match(s, end) is not None:
            return True  # "3 x 4" in prose: a product or a size, the 3 no value alone
    i = start - 1
    while i >= 0 and s[i] in " \t":
        i -= 1
    if i < 0:
        return False
    c = s[i]
    if c in "xX":
        k = i - 1
        while k >= 0 and s[k] in " \t":
            k -= 1
        if k >= 0 and _TIMES_X_RE.match(s, k + 1) is not None:
            return True  # ... nor the 4
    if c in _OPERATOR_BEFORE and s[max(0, i - 1) : i + 1] != "**":
        return True
    if c == "-":
        k = i - 1
        while k >= 0 and s[k] in " \t":
            k -= 1
        return k >= 0 and (s[k].isdigit() or s[k] == ")")
    k = i
    while k >= 0 and s[k].isalpha():  # a LaTeX command before it: "\\pm 1", "\\times 3"
        k -= 1
    return k < i and k >= 0 and s[k] == "\\" and not _APPROX_CMD_RE.match(s, k)


def _sentence_end(s: str, i: int) -> int:
    """End of the sentence starting at i: newline, or '.'/'!'/'?' followed by space/end, outside $..$."""
    n = len(s)
    in_math = False
    depth = 0
    j = i
    while j < n:
        c = s[j]
        if c == "\\" and j + 1 < n:
            j += 2
            continue
        if c == "$":
            in_math = not in_math
        elif c == "{":
            depth += 1
        elif c == "}":
            depth = max(0, depth - 1)
        elif not in_math and depth == 0:
            if c == "\n":
                return j
            if c in ".!?" and (j + 1 >= n or s[j + 1] in " \n\t\"'*") and not _ABBREV_RE.search(s, max(i, j - 5), j + 1):
                if not (c == "!" and (_FACTORIAL_OP_RE.match(s, j - 1 if j > i else j) or _equals_factorial(s[max(i, j - 40) : j]))):
                    return j
        j += 1
    return n


# a period that ends an abbreviation, not the sentence: "5, i.e. 6" (cut there, the 6 it restates 5 as went unseen;
# "Answer: 6 (alt. 7)" read 6 alone)
_ABBREV_RE = re.compile(r"(?<![A-Za-z])(?:i\.\s?e|e\.\s?g|resp|vs|cf|alt)\.$", re.I)


# a factorial a computation goes on from: "6! = 720", "5! + 1" (its "!" ends no sentence)
_FACTORIAL_OP_RE = re.compile(r"\d! +(?:[=+*/\u00d7\u00b7]|-\s*\d|\\(?:cdot|times)(?![A-Za-z]))")


_EQ_FACTORIAL_RE = re.compile(r"(?<![\d.])(\d{1,19})\s*=\s*(\d{1,2})$")


def _equals_factorial(s: str) -> bool:
    """Whether `s` ends "720 = 6", whose "!" after it is the factorial the value equals, no exclamation."""
    m = _EQ_FACTORIAL_RE.search(s)
    return m is not None and int(m.group(2)) <= 20 and int(m.group(1)) == _math.factorial(int(m.group(2)))


_DANGLING_OR_RE = re.compile(r"\bor[\s*_`]*$", re.I)


_LEAD_SKIP_RE = re.compile(r"[\s*_>#-]*(?:(?:but|and|though|however|yet)\b[\s,]*)?", re.I)


def _offers_other(lead: str, case_re: re.Pattern = _OTHER_CASE_LEAD_RE) -> bool:
    """Whether the words leading to an answer phrase offer its value beside an answer before it ("Maybe ",
    "Otherwise, ", "If we include 0, "), rather than correct it ("Wait, no: ")."""
    return bool(_HEDGE_WORD_RE.search(lead) and not _CORRECTION_RE.search(lead)) or _case_before(case_re, lead)


_PAREN_LEAD_RE = re.compile(r"\([\s*_]*(?:the\s+)?(?:final\s+)?$", re.I)


def _paren_close(s: str, end: int) -> int:
    """Where in s[:end] a close parenthesis or bracket closes none opened in it (an interval's "[1, 2)" closes its
    own); end if none does."""
    depth = 0
    for i in range(end):
        c = s[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
            if depth < 0:
                return i
    return end


# a dash (an em or en dash, "--", "---"; a lone "-" is a minus: "10 - n") that words follow: "Final answer: 6 — done",
# "6 -- that is all" end the value as "6 &mdash; done" does (its entity blanked): read "6 — done", the right 6
# scored 0 (the dash a minus). Blanked alike, "6 — or 7" stays a hedge; a range "5–7", "5 — 7" or a function after
# the dash ("2 — sin x") is left whole.
# ("I'm", "I'd", "I've", "I'll": "I" before an apostrophe and a letter is the one one-letter word read as prose,
# "6 — I'm sure" read "6 — I'm sure" and the right 6 scored 0; a lone "i" or "I" stays a name: "6 - i", "A - I")
_PROSE_WORD = r"([A-Za-z]{2,}|[Ii](?=['\u2019][a-z]))(?![A-Za-z])"
_PROSE_DASH_RE = re.compile(r"[ \t]*(?:\u2014|\u2013|-{2,3})[ \t]*(?=" + _PROSE_WORD + r"|(?:i\.\s?e|e\.\s?g)\.)")


def _blank_prose_dash(m: re.Match) -> str:
    w = (m.group(1) or "").lower()  # (none: "i.e.", "e.g.")
    return m.group() if (w in _KNOWN_WORDS or w in _FUNCS) and w not in ("and", "or") else " " * len(m.group())


# a lone "-" between blanks before a prose word ends the value as "—" does: "Final answer: 6 - done" read "6 -
# done" and the right 6 scored 0. Stricter than the dash: a minus takes a name or a product of names after it ("10 -
# n", "x - ab", "100 - rate", "1 - abc", "2 - sin x"), so only a word of this closed list of prose that follows an
# answer ("6 - done", "6 - that's it", "6 - i.e. six", case-insensitive) ends it; "6 - 2" stays 4. (An open rule, any
# word of 3+ letters that is no function or constant, read "The answer is 100 - rate." as 100 and "1 - abc" as 1.)
_PROSE_HYPHEN_RE = re.compile(r"[ \t]+-[ \t]+(?=" + _PROSE_WORD + r"|(?:i\.\s?e|e\.\s?g)\.)")
_PROSE_HYPHEN_WORDS = frozenset(
    """done that thats this these those which since because as so hence thus therefore it its we the note final
    finally check checked checking verified verify verifying correct yes ok okay hmm hmmm hmmmm why wait is was or
    no not answer here there see let lets now also then confirmed confirm confirming sure right good great end qed
    where when if but im you our my all just only nice perfect i""".split()  # ("i": only as "I'm", "I'd", ...)
)


def _blank_prose_hyphen(m: re.Match) -> str:
    w = m.group(1)  # (none: "i.e.", "e.g.")
    return m.group() if w is not None and w.lower() not in _PROSE_HYPHEN_WORDS else " " * len(m.group())


# the words of a comment after an answer and a prose dash ("6 — that's it", "6 - that is all", "6 — I'm confident"):
# no "or", "no", "wait", "not", "but", number or scale word (those say another value or change this one)
_DASH_COMMENT_WORDS = frozenset(
    """done that thats this it its is was s the final finally answer answers check checked checking verified verify
    verifying correct yes ok okay hmm hmmm hmmmm hence thus therefore so as we here there see now confirmed confirm
    confirming sure right good great end qed all just only nice perfect i im m my our you confident certain believe
    think am are and d ve ll say""".split()  # ("I'd say", "I've checked", "I'll": "d", "ve", "ll" after "I")
)


def _dash_comment(s: str) -> bool:
    if re.search(r"[\\$\d^{}=+/<>?]", s):  # (markdown's "*", "_" are no math here)
        return False
    return all(w.lower() in _DASH_COMMENT_WORDS for w in re.findall(r"[A-Za-z]+", s))


def _phrase_answer(text: str, look_back: bool = True) -> tuple[int, str | None]:
    """(position, answer) of the last explicit answer phrase; (-1, None) if none."""
    low = text.lower()
    best, bend = -1, -1
    for p in _PHRASES:
        k = low.rfind(p)
        if k >= 0 and k + len(p) > bend:
            best, bend = k, k + len(p)
    if best < 0:
        return -1, None
    other = _OTHER_ANSWER_RE.search(low, max(0, best - 40), best)
    other_at = other.start() if other is not None else -1
    s0 = -1
    if other is None and look_back and (low.find("answer", max(0, best - 330), best) >= 0 or "correct" in low[:best]):
        # "The answer is 3. Maybe the answer is 5.", "... Under the other reading, the answer is 5.": the words that
        # lead to the last phrase offer it as one more answer (a correction, "Wait, the answer is 5", revises)
        # (only with a phrase before it: most texts have one)
        s0 = max((m.end() for m in _SENTENCE_END_RE.finditer(low, max(0, best - 120), best)), default=-1)
    if s0 >= 0:
        # (the offering words open the sentence: "But the other terms also count, so the answer is 12" revises)
        lead = _fold(text[s0:best])
        lead = lead[_LEAD_SKIP_RE.match(lead).end() :]
        if (_HEDGE_WORD_RE.match(lead) or _PROSE_CASE_LEAD_RE.match(lead)) and _offers_other(lead, _PROSE_CASE_LEAD_RE):
            other_at = s0
    rest = text[bend : bend + 600]
    rest = rest.lstrip(" :*_\t")  # (Markdown emphasis in either mark: "**Answer:** 5", "__Answer:__ 5" read "__ 5")
    if rest.lower().startswith("is "):
        rest = rest[3:].lstrip(" :*_")
    # "The answer is therefore 12.", "exactly 12", "indeed $12$": the word before the value is no part of it
    rest = rest[_ANSWER_ADVERB_RE.match(rest).end() :]
    if (
        rest[:4].lower() == "the "
        and (om := _ORDINAL_PHRASE_RE.match(rest)) is not None
        and not _ordinal_valued(text[:best], rest[om.end() :], om)
    ):
        # "The answer is the 6th term.": the ordinal is the value (read "the 6th term", none): "the" dropped, the noun
        # after it blanked (positions keep)
        rest = rest[om.start(1) : om.end(1)] + " " * (om.end() - om.end(1)) + rest[om.end() :]
    dashes = []  # where a prose dash was blanked (in rest as it is now)

    def _noted(blank):
        def sub(m: re.Match) -> str:
            r = blank(m)
            if r != m.group():
                dashes.append(m.start())
            return r
        return sub

    if "\u2014" in rest or "\u2013" in rest or "--" in rest:
        rest = _PROSE_DASH_RE.sub(_noted(_blank_prose_dash), rest)  # (blanks of the same length: positions keep)
    if " - " in rest or "\t-" in rest or "-\t" in rest:
        rest = _PROSE_HYPHEN_RE.sub(_noted(_blank_prose_hyphen), rest)
    at = bend + 600 - len(rest) if len(text) >= bend + 600 else len(text) - len(rest)  # where rest starts
    dashes = [at + d for d in sorted(dashes)]  # (in text: rest may be cut below)
    end = _sentence_end(rest, 0)
    denial = _DENIED_ANSWER_RE.match(rest)
    turn = _DENIAL_TURN_RE.search(rest, 0, end) if denial else None
    if turn is not None and not _NOT_ONLY_RE.match(rest, denial.end()):
        # "The answer isn't 5 but 3", "is not 5; it is 3": the value after the turn is the answer (read whole, the
        # right 3 scored wrong); "not only 5 but also 3" names both, read whole as before
        skip = _TURN_LEAD_RE.match(rest, turn.end()).end()
        rest, at = rest[skip:], at + skip
        end = _sentence_end(rest, 0)
    elif denial and turn is None:
        # "\boxed{3}. Note: the answer is not 5.": a phrase that denies a value gives none, the answer before it
        # stands (read as "not 5", it made the right 3 score wrong); "is not 5 but 3" corrects, read as before
        earlier = _phrase_answer(text[:best], look_back=False) if look_back else (-1, None)
        k, clen = _last_box(text[:best])
        box = _box_content(text, k, clen, best, False)[0] if k >= 0 else None
        denied = _bare(rest[denial.end() : end])
        if not denied or denied not in (_bare(earlier[1] or ""), _bare(box or "")):
            return earlier
        # ... but one that denies the answer before it ("\boxed{3}. The answer is not 3.") leaves no answer
    if _DANGLING_OR_RE.search(rest, 0, end):  # "The answer is 4 or\n3.": the sentence goes on after the break
        end = _sentence_end(rest, _skip_space(rest, end))
    close = _paren_close(rest, end) if _PAREN_LEAD_RE.search(low, max(0, best - 20), best) else end
    # "(Answer: 5)": the phrase's own parenthesis closes it (read "5)", no value), and what follows it is after the answer
    # "The answer is 6 — that's it.": the words a prose dash (blanked above) opens, with no value in them, are a
    # comment that ends the answer (read "6 that's it", too few words to be prose, the right 6 scored 0)
    # Only words of a closed list of comment words count (no digit, math, number word, hedge or revision among them):
    # "6 — or eight", "6 — no, seven", "6 — wait, it is seven", "6 — thousand" read "6" and scored for it.
    cut = next((d - at for d in dashes if 0 <= d - at < close), None)
    if look_back and (lv := _LEAD_VALUE_RE.match(rest)) is not None and 0 <= (r_end := _retraction_end(rest, lv.end())) <= close:
        # "Answer: 6 -- no, 7.", "The answer is 6, no, it is 7.": the value taken back inside the phrase's sentence turns
        # to the value after it, as after the sentence ("Answer: 6. No, it is 7.") or a box (read whole, "6 no, 7 or 7")
        rv = _RETRACTED_TO_RE.match(rest, r_end)
        return best, rv.group(1) if rv is not None else None
    wend = cut if cut is not None and _dash_comment(rest[cut:close]) else close
    sent = whole = rest[:wend].strip().strip("*_").strip()
    end = close + 1 if close < end else end
    if other_at < 0 and look_back and _ALT_TAG_RE.search(whole):
        # "The answer is 5. Answer: 6 (alternative)" offers 6 as "Alternative answer: 6" does
        other_at = best
        sent = whole = _ALT_TAG_RE.sub("", whole).strip()
    head = _reason_head(whole, rest[end : end + 200])
    if (
        head is None
        and (lv := _LEAD_VALUE_RE.match(whole)) is not None
        and (rm := _RETRACTED_RE.match(whole, lv.end())) is not None
        and not whole[rm.end() :].strip(" \t,.;:!)\u2014\u2013-")
    ):
        # "The answer is 6, which is a mistake.", "6 (which is a mistake)": the value taken back and none offered in
        # its place: no answer (read after the last " is ", "a mistake" was the answer)
        sent = ""
    # "Final Answer: The volume of $ABCD$ is 120." -> what follows the last " is "
    k = sent.lower().rfind(" is ") if head is None else -1
    if k >= 0:
        sent = sent[k + 4 :]
    sent = sent.strip().strip("\"'").strip()
    if head is not None:
        # "The answer is 12, which is even.": the value, not what the reason after it says
        ans = head if head == whole else _phrase_value(head)
    else:
        ans = _phrase_value(sent) if sent else None
    lead = _LEAD_VALUE_RE.match(whole)
    if lead is not None and (h := _hedge(whole, lead.end())):
        # "The answer is 3, though 5 also works.", "The answer is 3 (some sources give 5).": prose with two values
        # gave no answer or the one number not an operand, and the last value (5) was read alone; the value the
        # phrase opens with and the one offered beside it are a hedge
        ans = f"{lead.group(1)} {h}"
    elif (
        lead is not None
        and (am := _ROUNDING_GAP_RE.match(_fold(whole[lead.end() :]))) is not None
        and _far_approx(lead.group(1), am)
    ):
        # "The answer is 3 \approx 4.5.": an approximate value far from the one before is another value, as after a
        # box ("\boxed{3} \approx 4.5"); dropped in grading, the "\approx" side let the gold 3 score
        ans = f"{lead.group(1)} or {am.group(1)}"
    elif lead is not None and (eq := _equated_other(whole, lead.end(), lead.group(1))) is not None:
        # "The answer is 6 = 2 \cdot 4.": the value equated to another offers two, as "\boxed{6} = 2 \cdot 4" and
        # "So we get 6 = 2 \cdot 4." do (read whole, it scored for the gold 8); "6 = 2 \cdot 3" restates 6
        ans = f"{lead.group(1)} or {eq}"
    elif lead is not None and _restated_to_end(whole, lead.end()):
        # "The answer is 0.33 = 1/3.", "1/3 = 0.33": a value equated only to restatements of it (a rounding, an exact
        # form) is the answer, as "\boxed{0.33} = 1/3" and "So we get 0.33 = 1/3." read (read whole as its last side,
        # the right 0.33 scored 0 and 1/3 scored)
        ans = lead.group(1)
    elif lead is None and (wl := _LEAD_WORDS_RE.match(whole)) and _spelled_value(wl.group(1)) is not None and (
        h := _hedge(whole, wl.end())
    ):
        ans = f"{wl.group(1)} {h}"  # the same in words: "The answer is twelve, though 13 also works." (read as 13)
    if ans is not None and look_back and (r_end := _retraction_end(text, at + end)) >= 0:
        # "The answer is 6. That's wrong, it is 7.", "The answer is 6. Wrong.": the answer taken back in the sentence
        # right after it (read 6, it scored for the gold 6), as a box is: the value the text turns to, else none
        rv = _RETRACTED_TO_RE.match(text, r_end)
        return best, rv.group(1) if rv is not None else None
    if ans is not None and whole[:1] == "~" and whole[1:2].isdigit() and text[at - 1 : at] in (" ", "\t"):
        # "The answer is ~6." says about 6 (the "~" a LaTeX tie, dropped as a blank, it scored), as "about 6" and
        # "≈6" do; "Answer:~6", a tie with no blank before it, is still 6
        ans = "\u2248" + (ans[1:] if ans.startswith("~") else ans)
    if ans is not None and rest[end : end + 1] == "?" and _bare(whole) == _bare(ans) and (
        _says_nothing(text[at + end + 1 : at + end + 402]) or _NO_RE.match(text, at + end + 1)
    ):
        # "Final answer: 6?" ends querying its value, as "\boxed{6?}" does: no committed value (read as 6, it scored);
        # "? Yes." or a check after it keeps it
        ans = f"{ans}?"
    # (in the whole text: padding past the window hid "or 3" after "The answer is 4")
    hedge = _hedge(text, at + end, ans=ans) if ans is not None else None
    if hedge:
        # "The answer is 3. Or 4.": another value offered right after the answer is a hedge, as after a
        # box; read as 3 alone it scored for the gold 3
        ans = f"{ans} {hedge}"
    if other_at >= 0 and ans is not None and look_back:
        # "Final answer: 3\nAlternative answer: 5", "The answer is 3. Another answer is 5.": the last phrase offers
        # one more answer, the one before it stands (read as 5 alone, it scored for the gold 5)
        prev_at, prev = _phrase_answer(text[:other_at], look_back=False)  # (once: linear time)
        if prev is not None and (other is not None or other_at - prev_at <= 200):
            ans = f"{prev} or {ans}"
    return best, ans


# a parenthesis computing a value: "(3 + 3 = 6)", "(2 \times 3 = 6)"
_PAREN_CALC_EQ = r"\s*[-+]?\d+(?:\.\d+)?(?:\s*(?:[-+*/\u00d7x]|\\times|\\cdot)\s*\d+(?:\.\d+)?)+\s*=\s*([-+]?\d+(?:\.\d+)?)\s*\)"
_PAREN_CALC_EQ_RE = re.compile(_PAREN_CALC_EQ)


# a clause giving a reason for the value before it, or saying more of it: "12, because 5 + 7 = 12", "12 since ...",
# "$12$, which is even", "12 (since ...)", "12, and it is even"
_REASON_RE = re.compile(
    r"(?:\s*,\s*|\s+|\s*\(\s*)(?:or\s+so|because|since|as(?!\s+well)|which|so|where|and\s+(?:it|this|that)|i\.\s?e\b|that(?:\s+i|['\u2019])s"
    r"|namely|hence|thus|therefore|giving|meaning|not|instead\s+of|rather\s+than|(?:(?<=,)\s*)?(?:when|if|for)|(?:or\s+)?(?:approximately|approx\.?|roughly|about)(?=\s*\$?\s*[-+]?\d*\.\d))(?![A-Za-z])|\s*;\s*(?=[A-Za-z])|\s*\(\s*=(?!=)|\s+\((?=\s*(?:[-+]?\d+(?:\.\d+)?\s+)?[A-Za-z]{2,})(?!\s*(?:[-+]?\d+(?:\.\d+)?\s+)?(?:mod|or|and)\b)"
    # "6 [verified]" ends with a remark ("6 [i.e. 6]" too, as "6 (i.e. 6)")
    r"|\s+\[(?=\s*(?:[A-Za-z]{2,}|i\.\s?e\.)[^\[\]\n]*\][\s.!*_]*$)(?!\s*(?:mod|or|and)\b)"
    r"|\s+\((?=\s*[-+]?\d+(?:\.\d+)?\s*=(?!=))"  # "6 (6 = 2 x 3)": the value computed (see _reason_head)
    r"|\s+\((?=" + _PAREN_CALC_EQ + ")",  # "6 (3 + 3 = 6)", as computed
    re.I,
)


# a clause after the value that takes it back ("6, that's wrong, it's 7", "6 (which is incorrect)"): no reason clause
# ("that's" read as "that is" since 4e9e478 made "6, that's wrong, actually 7" read 6: the right 7 scored 0)
_RETRACTION_GAP = r"(?:\s*,\s*(?!\s)|\s+(?!\s)|\s*\(\s*(?!\s))"  # ((?!\s): the word after opens with a letter)
# the gap after blanks already read ([\s$]* before it): the same gaps, each reading its blank once (read twice, "\boxed{4}"
# and 1,000 blanks backtracked quadratically)
# ((?![\s$]): a shorter read of the blanks only retried the same words at each of them)
# (after the mark "$" is a blank too: "\\boxed{4}.$$ $$ That is wrong." read 4; possessive, and the same three gaps:
# a comma, a parenthesis, or blanks up to the word)
_RETRACTION_AFTER_MARK = r"[\s$]*+(?:,\s*(?!\s)|\(\s*(?!\s)|(?<=[\s$])(?![\s$]))"
_RETRACTION_LEAD = r"(?:[\s$]*(?![\s$])(?:[.!]" + _RETRACTION_AFTER_MARK + r"|,\s*(?!\s)|\(\s*(?!\s))|[\s$]*\s(?![\s$]))"
_RETRACTION = _RETRACTION_GAP + (
    r"(?:that(?:\s+i|['\u2019])s|(?:which|this)\s+(?:is|was)|(?:that|it)\s+was|it(?:\s+i|['\u2019])s|(?<=\s)(?:is|was))\s+"
    r"(?:(?:all|clearly|obviously|definitely|actually|also|totally|completely|just|probably)\s+)?"
    r"(?:wrong|incorrect|mistaken|false|off(?:\s+by\s+(?:one|1))?|not\s+(?:right|correct|it|the\s+(?:right\s+|correct\s+)?answer)"
    r"|an?\s+(?:mistake|error|typo|miscalculation))"
)
# (the clause ends there, at a mark, a dash's blanks or a new clause: "6, which is off by 1 from 5" and "6, which
# is false for n = 5" say more of 6)
_RETRACTION_END = r"(?=\s*(?:[,.;:!)\u2014\u2013]|-\s|$)|\s{2,}|\s+(?:it|so|actually|instead|rather|but|i|we|the\s+answer)(?![A-Za-z]))"
_RETRACTED_RE = re.compile(_RETRACTION + _RETRACTION_END, re.I)
# ... asked and answered yes: "6, which is a mistake? Yes." (read 6; "? No." keeps 6)
_RETRACTED_ASKED_RE = re.compile(_RETRACTION_LEAD + _RETRACTION[len(_RETRACTION_GAP) :] + r"\s*\?[\s*_]*(?:yes|yeah|yep|indeed)(?![A-Za-z])", re.I)
# ... or asked as a question of its own: "6. Is that wrong? Yes." or "6. Is that right? No." ("? No." keeps 6 as "? Yes."
# does after "right": read as 6, "The answer is 6. Is that wrong? Yes, it is 7." scored 6, as "6, which is wrong? Yes, it
# is 7." does not)
_ASKED_BACK_RE = re.compile(
    # (a mark, or an emphasis mark, opens the [\s*_]* after [\s$]*: blanks read by both backtracked quadratically)
    r"[\s$]*(?![\s$])(?:[.!,;][\s*_]*(?![\s*_])|[*_][\s*_]*(?![\s*_]))?(?:is|was)\s+(?:that|this|it)\s+(?:(?:really|actually|right|correct|wrong|incorrect)\s+)??"
    r"(?:(wrong|incorrect|mistaken|false|an?\s+(?:mistake|error|typo|miscalculation))|(right|correct|true))"
    r"\s*\?[\s*_]*(?:(yes|yeah|yep|indeed)|(no|nope))(?=\s*(?:[,.;:!\u2014\u2013]|-\s|$))",
    re.I,
)
# ... right after a box (its sentence may end first: "\boxed{6}. That's wrong."), and the value it turns to: "it is 7."
_BOX_RETRACTED_RE = re.compile(_RETRACTION_LEAD + _RETRACTION[len(_RETRACTION_GAP) :] + _RETRACTION_END, re.I)
_RETRACTED_TO_RE = re.compile(
    r"(?:[\s,.;:!)\u2014\u2013-]*(?:(?:so|and|but)\s+)?(?:(?:it|the\s+(?:(?:correct|right|real|true)\s+)?(?:answer|value|result))"
    r"(?:'s|\u2019s|\s+is|\s+should\s+be|\s+must\s+be)\s+|(?:it\s+)?should\s+be\s+|actually\s+|instead\s+)"
    # (or the value alone after a comma or a dash: "\boxed{6} -- no, 7."; "No. 7" is the number 7)
    r"|[ \t]*(?:,|[\u2014\u2013]|--)[ \t]*)\$?\s*([-+]?\d+(?:[./]\d+)?)\s*\$?(?=[\s*_]*(?:[.!?;)\]]|$))",
    re.I,
)
# a sentence-initial word right after a value that calls it wrong: "\boxed{6}. Wrong, it is 7.", "6. Incorrect." ("No"
# only with the value it turns to: "\boxed{6}. No, it is 7."; "\boxed{6}. No other value works." takes nothing back)
# ("No wait, it is 7." and "Wait, no, it is 7." turn to 7 as "No, it is 7." does: read as a revision, a hedge of both)
_WRONG_WORD_RE = re.compile(
    # (the \s* only after a mark: after [\s$]* alone the blanks read twice backtracked quadratically)
    r"[\s$]*(?![\s$])(?:(?:[.!,;]|[\u2014\u2013]|--)[\s$]*+(?![\s$]))?(?:(?:(?:wait|hmm|oh|oops)[\s,.!]+)?(no|nope)(?:[\s,.!]+wait)?|wrong|incorrect|mistaken)"
    r"(?=\s*(?:[,.;:!\u2014\u2013]|-\s|$))",
    re.I,
)


# a box queried and answered no: "\\boxed{6}? No, that is wrong.", "Is it \\boxed{6}? No." (read as 6, it scored for the gold
# 6, while "The answer is 6? No." gives none; "\\boxed{6}?" alone and "? Yes." keep 6)
_BOX_DENIED_RE = re.compile(r"[ \t$]*\?" + _NO_RE.pattern + r"(?=\s*(?:[,.;:!\u2014\u2013]|-\s|$))", re.I)


def _box_denied_end(text: str, i: int) -> int:
    """Where a "? No" right after a box ending at text[i] ends, or -1 when there is none."""
    m = _BOX_DENIED_RE.match(text, i)
    return -1 if m is None else m.end()


def _retraction_end(text: str, i: int) -> int:
    """Where the clause right after a value ending at text[i] that takes the value back ends ("\boxed{6}, that's
    wrong", "\boxed{6}. Wrong,"), or -1 when there is none."""
    if (rm := _BOX_RETRACTED_RE.match(text, i) or _RETRACTED_ASKED_RE.match(text, i)) is not None:
        return rm.end()
    if (am := _ASKED_BACK_RE.match(text, i)) is not None and bool(am.group(1)) == bool(am.group(3)):
        return am.end()  # "Is that wrong? Yes", "Is that right? No"
    wm = _WRONG_WORD_RE.match(text, i)
    if wm is None or (wm.group(1) and _RETRACTED_TO_RE.match(text, wm.end()) is None):
        return -1
    return wm.end()


_PAREN_NUM_EQ_RE = re.compile(r"\s*([-+]?\d+(?:\.\d+)?)\s*=(?!=)")


def _reason_head(sent: str, after: str = "") -> str | None:
    """The value an answer phrase's sentence opens with when a reason follows it ("12, because 5 + 7 = 12" read
    whole, or "12, which is even" read as "even", made the right 12 wrong); None when there is none or the rest
    may offer another value."""
    masked = sent
    for s0, e0, _ in _math_spans(sent):
        masked = masked[:s0] + "$" + " " * (e0 - s0 - 2) + "$" + masked[e0:]
    m = _REASON_RE.search(masked)
    if m is None:
        return None
    if m.group().endswith("["):  # "6 [verified]" reads as "6 (verified)", and "6 [vs 7]" as the hedge "6 (vs 7)"
        j = m.end() - 1
        k = sent.index("]", j)
        return _reason_head(sent[:j] + "(" + sent[j + 1 : k] + ")" + sent[k + 1 :], after)
    pw = _PAREN_WORD_RE.match(masked, m.end() - 1) if m.group().endswith("(") else None
    if pw is not None and pw.group(1) and pw.group(1).lower() in _FUNCS:
        return None  # "3 (2 log 2)" is a product, as in prose; "12 (3 boxes of 4)" says more of 12
    head = sent[: m.start()].strip()
    if not head or ((_is_prose(head) or not _mathy(head)) and not _all_spelled(head)):
        return None  # ("twelve, which is even" opens with its value too)
    if m.group().endswith("=") and not any(ch.isdigit() for ch in head):
        return None  # "x (= 5)" names the value it is equal to
    if (pe := _PAREN_NUM_EQ_RE.match(masked, m.end())) is not None and not _same_value(pe.group(1), head):
        return None  # "2 (3 = 1 + 2)" computes another value: read whole, as before
    if (pc := _PAREN_CALC_EQ_RE.match(masked, m.end())) is not None and not _same_value(pc.group(1), head):
        return None  # "6 (3 + 3 = 7)" computes another value: read whole
    if _ROUGH_AFTER_RE.match(masked, len(sent[: m.start()].rstrip())):
        return sent  # "6 or so", "6 (roughly)": read whole, no committed value (as "about 6" is none)
    if (rm := _RETRACTED_RE.match(masked, m.start())) and (
        masked[rm.end() :].strip() or after[:1] != "?" or not _NO_RE.match(after, 1)
    ):
        return None  # "6, that's wrong, it's 7" takes 6 back: no reason for it (read as before, 7)
    # ("6, which is a mistake? No.": the retraction asked and denied, 6 stands; "? Yes." takes it back)
    word = m.group().lstrip(" ,(").lower()
    am = _APPROX_AFTER_RE.match(sent, m.end() - len(word.split()[-1])) if word.strip() else None
    if am is not None and _far_approx(head, am):
        return f"{head} or {am.group(1)}"  # "3, approximately 4.5" offers 4.5 beside 3: a hedge, no rounding of 3
    # (the "!" of "i.e. 6!" ended the sentence: given back, it makes 6! the factorial, as in "\boxed{720} (i.e., 6!)")
    said = sent + after[:2] if after[:1] == "!" else sent
    if (rm := _RESTATED_RE.match(said, m.start())) and _other_restated(head, rm):
        return f"{head} or {rm.group(2)}"  # "5, i.e. 6" restates 5 as another value: a hedge
    if m.group().endswith("=") and (em := _EQ_AFTER_RE.match(sent, m.start())) and _other_equated(head, em.group(1)):
        return f"{head} or {em.group(1)}"  # "12 (= 13)", as "\boxed{12} = 13"; "12 (= 3 x 4)" restates 12
    cond = masked[m.end() :]
    if "(" in m.group() and ")" in cond:
        cond = cond[cond.find(")") + 1 :]  # "3 (for n = 1).": the condition's own parenthesis closes
    if word == "for" and (lst := _LIST_END_RE.search(cond)):
        cond = cond[: lst.start()]  # "3 for n = 1, 2": the condition's list, no other case
    if word in ("when", "if", "for") and (_CASE_TAIL_RE.search(cond) or _NEXT_CASE_RE.match(after)):
        # "3, when n = 1, and 5 when n = 2", "3, when n = 1. When n = 2, 5.": a value for another case too, read
        # whole (no one value)
        return sent
    # "3, since 5 also works" offers 5 beside 3: read whole, as no one value (it read 5, the last value, alone)
    # ("12, or about 12.0": the "or" of a rounding offers no other value; a hedge after the rounding still counts)
    at = am.end() if am is not None else m.end() if word.startswith("or") else m.start()
    if (om := _OTHER_METHOD_RE.match(sent, m.start())) is not None:
        # "6 (6 by another method)" confirms 6, "6 (7 by another method)" offers 7 beside it, as after a box (read
        # whole for its "another", the right 6 scored 0)
        num = om.group(1) or om.group(2)
        return head if _method_agrees(num, head) else f"{head} or {num}"
    if not any(c.isdigit() for c in masked[m.end() :]):
        masked = _OTHER_METHOD_WORDS_RE.sub(lambda w: " " * len(w.group()), masked)  # "6 (checked by another method)"
    return sent if _HEDGE_WORD_RE.search(masked, at) else head


_LIST_END_RE = re.compile(r"(?:\s*,\s*(?:and\s+)?[-+]?\d+(?:\.\d+)?)+[\s.!)]*$", re.I)
# what may follow the condition of "3, when n = 1" and offer a value for another case
_CASE_TAIL_RE = re.compile(r"[,;()]|\b(?:and|or|but|otherwise|else|when|if)\b", re.I)
_NEXT_CASE_RE = re.compile(
    r"[\s.!?*]*(?:when|if|for|in|on|with|under|otherwise|else|or|but|and|also|however|unless)\b", re.I
)


_LEAD_VALUE_RE = re.compile(r"\$?\s*([-+]?\d+(?:[.,/]\d+)*)\s*\$?(?![\w.]|[,/]\d)")
_ANSWER_ADVERB_RE = re.compile(
    r"(?:(?:therefore|thus|hence|so|then|simply|just|exactly|precisely|indeed|clearly|obviously|now|finally)\b,?\s*)*", re.I
)
_ORDINAL_PHRASE_RE = re.compile(
    r"the\s+([0-9]+(?:st|nd|rd|th))(?:[ \t]+(?!or\b|and\b)[A-Za-z]{2,12})?(?=[ \t]*(?:[.!;,]|\n|$))", re.I
)


def _ordinal_valued(before: str, after: str, om: re.Match) -> bool:
    """Whether "the 6th term" after an answer phrase names a term whose value the text gives: a number after it
    ("..., which is 32.", "... term. It is 32.") or "the 6th term is 32" before it. Read as 6, the right 32 scored 0
    (before the ordinal was read, the phrase gave no value and the 32 was read)."""
    if any(c.isdigit() for c in after):
        return True
    noun = om.group(0)[om.end(1) - om.start(0) :].strip()
    said = re.escape(om.group(1)) + (r"[ \t]+" + re.escape(noun) if noun else "")
    return re.search(r"(?<![0-9])" + said + r"(?![A-Za-z])[^.\n]{0,40}?(?:\bis\b|=|\bequals\b)", before, re.I) is not None


def _bare(s: str) -> str:
    """A value's text without blanks, dollars and a full stop, to tell the same value written again."""
    return re.sub(r"[\s$]+", "", s).rstrip(".")


_DENIED_ANSWER_RE = re.compile(r"(?:n['\u2019]t|not|never|(?:definitely|certainly|surely|clearly|probably)\s+not)\b", re.I)
_DENIAL_TURN_RE = re.compile(r"\b(?:but|rather|instead|it(?:'s|\s+is)|so|thus|hence)\b|;", re.I)
_NOT_ONLY_RE = re.compile(r"\s+(?:only|just|merely|simply)\b", re.I)
_TURN_LEAD_RE = re.compile(r"(?:[\s,:;]|\b(?:but|rather|instead|actually|it(?:'s|\s+is)|the\s+answer\s+is)\b)*", re.I)
_OTHER_ANSWER_RE = re.compile(r"\b(?:another|other|alternative|alternate|second|secondary|2nd|backup|fallback|possible)\s+(?:(?:possible|valid|final)\s+)?$")
# ... before a phrase after a box, the words _HEDGE_WORD_RE lacks ("The only possible answer is 5" still revises)
_SECOND_ANSWER_RE = re.compile(r"\b(?:alternative|second|secondary|2nd)\s+(?:(?:possible|valid|final)\s+)?$", re.I)
# ... or after the phrase's value, as its tag: "Answer: 6 (alternative)" is "Alternative answer: 6" ("6 (second)" may
# be a unit: a bare ordinal is no tag)
_ALT_TAG_RE = re.compile(
    r"[(\[]\s*(?:an?\s+|the\s+)?(?:(?:alternative|alternate|alternatively|backup|fallback)(?:\s+(?:possible\s+|valid\s+)?"
    r"(?:answer|solution|option|value|guess|choice|candidate))?|(?:second|secondary|2nd|other|another)\s+(?:possible\s+|valid\s+)?"
    r"(?:answer|solution|value|guess|candidate))\s*[)\]]",  # ("12 (the second option)" names a choice's place)
    re.I,
)
_BARE_DIGIT_RE = re.compile(r"(?<![\^_A-Za-z\\])\d")  # a digit of a number, not of an exponent or a name


_OR_WORD_RE = re.compile(r"\bor\b", re.I)


def _phrase_value(sent: str) -> str | None:
    """The answer in the sentence after an answer phrase, or None."""
    spans = _math_spans(sent)
    if spans:
        outside = sent
        for s0, e0, _ in reversed(spans):
            outside = outside[:s0] + " " + outside[e0:]
        # "$12$ and $13$"; a number outside the spans is part of the answer too ("4 or $3$" is no 3)
        if _unknown_words(outside) == 0 and not _BARE_DIGIT_RE.search(outside):
            # ("$\frac{3}{8}$, or $37.5\%$": the "or" is kept, to tell a value restated from a list)
            sep = " or " if _OR_WORD_RE.search(outside) else ", "
            return sep.join(c.strip() for _, _, c in spans)
    if not _is_prose(sent) or _all_spelled(sent):
        return sent
    # "Final Answer: Jane started growing it 3 hours ago." -> the one number of a short sentence
    nums = _numbers_in(sent)
    if len(nums) == 1 and len(sent.split()) <= 12 and not _negated(sent[: nums[0].start()], sent[nums[0].end() :]):
        return nums[0].group()
    return None


# Words that make a number in prose something other than the answer: "not equal to 4", "x cannot be 4", "less
# than 4", "any number but 4", "4 or more". Read as the bare 4, such a sentence scored for the gold 4.
_NEGATING_WORDS = frozenset(
    """not never cannot cant nor neither except besides other than least most unless between unequal
    approximately approx about around roughly nearly almost maybe possibly perhaps probably""".split()
)
_NEGATION_REACH = 4  # words before a number that can negate it
_PROSE_WORD_RE = re.compile(r"[A-Za-z]+(?:['’]t)?")
_SENTENCE_END_RE = re.compile(r"[.!?;](?=\s|$)|\n")
_CLAUSE_START_RE = re.compile(r"[.!?;,](?=\s|$)|\n")  # "3 is not prime, so we get 4": "not" is another clause's
# ... but the period of "approx." ends no clause: "The area is approx. 5." read 5, while "approx 5" is refused
_ABBREV_DOT_RE = re.compile(r"(?<![A-Za-z])approx\.(?=\s)", re.I)


# a relation other than "=" right before a number in prose: "so x > 4", "x != 4" (an arrow "->", "=>" is none)
_BOUND_BEFORE_RE = re.compile(r"(?:(?<![-=])[<>]|[<>]=|!=|/=|=<|[\u2260\u2264\u2265\u2a7d\u2a7e\u226a\u226b\u226e-\u2271])\s*$")

# a ">" that is markup: a Markdown quote at the start of a line ("> 4"), the end of an HTML tag ("<br>4")
_QUOTE_OR_TAG_RE = re.compile(r"(?:(?:^|\n)[ \t]*>[ \t>]*|<[A-Za-z/][^<>\n]*>\s*)$")


def _negated(before: str, after: str) -> bool:
    """Whether the words of a number's clause, `before` it and `after` it, say it is not the value."""
    if _BOUND_BEFORE_RE.search(before) and not _QUOTE_OR_TAG_RE.search(before):
        return True  # "so x > 4", "Hence x != 4.": a bound, or what the value is not
    # a LaTeX approximation sign is the sign, no word: "So x \approx 5." reads 5 as "So x \u2248 5." does (its "approx"
    # refused the value: no answer; "So we get 6 \sim 7." is the hedge "6 \u223c 7" is, "approx 5" still refused)
    if "\\" in before:
        before = _APPROX_CMD_RE.sub("\u2248", before)
    if _ROUGH_AFTER_RE.match(after):
        return True  # "So we get 6, roughly.", "6 or so": said to be rough, as "about 6" is
    if (dm := _DOUBTED_AFTER_RE.match(after)) is not None and (_says_nothing(after[dm.end() : dm.end() + 401]) or _NO_RE.match(after, dm.end())):
        return True  # "So we get 6... or is it?" ends doubting it, as after a box
    if _retraction_end(after, 0) >= 0:
        return True  # "So we get 6, that's wrong.", "6. That is wrong.": the value taken back (read as 6, it scored)
    if "." in before:
        before = _ABBREV_DOT_RE.sub("approx ", before)  # (same length)
    before = before[max((m.end() for m in _CLAUSE_START_RE.finditer(before)), default=0) :]
    m = _SENTENCE_END_RE.search(after)
    after = after[: m.start()] if m else after
    words = _PROSE_WORD_RE.findall(before)
    if [w.lower() for w in words[-2:]] == ["instead", "of"]:
        return True  # "x = 9 instead of 6": what the value is not, as "rather than 6" (read as 6, it scored for the gold 6)
    if words and words[-1].lower() == "but" and not before[before.rfind(words[-1]) + 3 :].strip():
        return True  # "any number but 4"; a "but" that opens a clause ("..., but we get 4") is a correction
    # Only the few words that lead up to the number ("x is not equal to 4", "strictly less than 4"): a negation
    # further back is about something else ("we cannot simplify further so the answer is 4"), and one after the
    # number qualifies the rest of the sentence ("4 ways, not counting duplicates", "4 and no more").
    for w in words[-_NEGATION_REACH:]:
        w = w.lower()
        if w in _NEGATING_WORDS or w.endswith(("n't", "n’t")):
            return True
    if _TRIED_AFTER_RE.match(after):
        return True  # "Checking 7: it fails.", "Trying 7, it does not work.": the value tried and rejected, as "7 fails." is
    nxt = [w.lower().replace("\u2019", "'") for w in _PROSE_WORD_RE.findall(after)[:2]]
    if nxt and nxt[0] in ("or", "nor"):
        return True  # a hedge: "4 or 5", "4 or more"
    # the sentence denies the number it opens with: "4 is wrong.", "4 is not the answer.", "4 can't be right."
    # ("Checking: 7 fails.", "Then x = 7 does not work.": a value tried and rejected, read as the answer it scored)
    return bool(nxt) and (
        nxt[0] in _DENIALS or (nxt[0] in ("is", "was", "does", "did") and nxt[1:2] and nxt[1] in _DENIED)
    )


_DENIALS = frozenset("isn't wasn't cannot can't couldn't doesn't didn't fails failed".split())
# ... or a clause after it, with a pronoun for it, that rejects it: "Checking 7: it fails." (read 7, it scored for the gold 7)
_TRIED_AFTER_RE = re.compile(
    r"[ \t$]*(?:[:,;(\u2014\u2013]|--)[ \t]*(?:it|this|that)\s+(?:(?:also|clearly|then|obviously)\s+)?"
    r"(?:fails|failed|(?:doesn't|does\s+not|didn't|did\s+not|won't|will\s+not)\s+(?:work|hold|satisfy|fit|check\s+out)"
    r"|(?:(?:isn't|is\s+not|wasn't|was\s+not)\s+(?:valid|a\s+solution|correct|right|possible|allowed|an\s+answer)"
    r"|(?:is|was)\s+(?:wrong|incorrect|false|impossible|invalid|extraneous|rejected|excluded|too\s+(?:big|small|large|many|few))))"
    r"(?![A-Za-z])",
    re.I,
)
_DENIED = frozenset("not wrong incorrect false impossible invalid extraneous rejected excluded".split())


# what may stand between two values of one list or hedge in prose: "3 or 4", "3, 4, and 5", "$3$ $4$", and
# "or" opening the next sentence: "It is 3. Or 4.", "x = 3. Or x = 4.", "We get $3$. Also $4$ works."
# (the other value may open the next line, or a parenthesis: "It is $4$ or\n$3$.", "Thus 4 (or 3)")
# (a comma or semicolon may end the line: "3,\n4"; Markdown bullets are a list: "- 3\n- 4")
# (the blanks before "and"/"or" are read once: "[ \t]*", "\s*" and "[ \t]*" in a row backtracked cubically on 800 spaces)
_LIST_GAP_RE = re.compile(
    r"(?:[ \t]*[,;/])?\s*(?:\([ \t]*)?(?:(?:and/or|and)\s+|or\s+(?:[A-Za-z]\s*=\s*)?)|[ \t]*(?:[,;/]\s*)?"
    r"|[ \t]*[.!?]\s*\(?(?i:or|also)\s+(?:[A-Za-z]\s*=\s*)?|[ \t]*\n\s*[-*+][ \t]+"
    # "It is 3. It might be 5.": the next sentence offers the other value
    r"|[ \t]*[.!?,;]\s*(?i:(?:but|though)\s+)?(?i:(?:it|that|the\s+answer|answer)\s+)?(?i:could|might|may)\s+(?i:also\s+)?be\s+"
)


_LONG_BLANK_RE = re.compile(r"\s{64}")


_WHOLE_RE = re.compile(r"-?\d+")
_PROPER_RE = re.compile(r"(\d+)/(\d+)")


def _join_mixed(tail: str, cands: list) -> list:
    """Candidates with a whole number and a proper fraction side by side ("2 1/2 cups") joined as the mixed number
    they are: read as the list "2, 1/2" the right 5/2 scored wrong."""
    out = []
    for c in cands:
        if out and _WHOLE_RE.fullmatch(out[-1][2]) and tail[out[-1][1] : c[0]] == " ":
            f = _PROPER_RE.fullmatch(c[2])
            if f and 0 < int(f.group(1)) < int(f.group(2)):
                out[-1] = (out[-1][0], c[1], f"{out[-1][2]} {c[2]}")
                continue
        out.append(c)
    return out


# (before a sentence only rejecting another value a result's verb concludes too: "We get 9. 6 is too small."; not
# "we have", which restates a given: "We have 9 apples; 6 is too small a share.")
# ("We find 9. 6 is too small.", "Total: 12 (3 boxes of 4).": a result stated, then another value rejected or
# explained; "we have" often states a given: "We have 9 apples; 6 is too small a share.")
_RESULT_VERB_RE = re.compile(
    r"\b(?:(?:we|i)\s+(?:get|got|obtain|obtained|find|found)|that\s+gives|total(?:\s+is\b|\s*[:=]))", re.I
)
# "We have 9." states a result when the value ends its clause at once ("We have 9. 6 is too small." rejects 6 beside
# it); "We have 9 apples; 6 is too small a share." counts a step
_HAVE_BEFORE_RE = re.compile(r"\b(?:we|i)\s+have[ \t]+$", re.I)
_HAVE_VALUE_RE = re.compile(r"\$?[ \t]*[-+]?\d+(?:[.,/]\d+)*[ \t]*\$?[ \t]*(?:[.!;](?!\d)|$)")


def _concludes(text: str, at: int, result_verb: bool = False) -> bool:
    """Whether the sentence of the value at text[at] states it as the answer ("So we get 3"), not as a step."""
    s0 = max((m.end() for m in _SENTENCE_END_RE.finditer(text, max(0, at - 200), at)), default=max(0, at - 200))
    return _CONCLUDING_RE.search(text, s0, at) is not None or (
        result_verb
        and (
            _RESULT_VERB_RE.search(text, s0, at) is not None
            or (_HAVE_BEFORE_RE.search(text, s0, at) is not None and _HAVE_VALUE_RE.match(text, at) is not None)
        )
    )


_PCT_AFTER_RE = re.compile(r"[ \t]?(?:\\?%|percent(?![A-Za-z]))")
# the half of the day after a clock time in prose: "at 5:30 PM", "at 5 p.m." (read as 5:30 alone, no gold "17:30" matched)
_HALF_DAY_AFTER_RE = re.compile(r"[ \t]+(?:([ap])\.?m(?:\.(?=[ \t]*[a-z])|(?![A-Za-z]))|(?<=12[ \t])(noon|midnight)\b)", re.I)
_CLOCK_NUM_RE = re.compile(r"\d{1,2}(?::\d{2})?")
# the time of day named in prose with no number at all: "The meeting starts at noon."
_NAMED_TIME_RE = re.compile(r"\b(noon|midnight)\b", re.I)
# units a quantity may be written in two of ("2 hours and 30 minutes", "5 ft 6 in" aside: "in" is too common)
_COMPOUND_UNITS = frozenset(
    """s sec secs second seconds min mins minute minutes h hr hrs hour hours day days week weeks month months year
    years cm m mm km ft feet foot inch inches yd yard yards mi mile miles meter meters metre metres centimeter
    centimeters millimeter millimeters kilometer kilometers kg g gram grams lb lbs pound pounds oz ounce ounces
    dollar dollars cent cents degree degrees""".split()
)
_UNIT_NAME = r"\$?[ \t]*(?:\\(?:text|mathrm|textrm|mbox)\s*\{\s*)?([A-Za-z]+)"  # a unit word, bare or in \text{}
_UNIT_WORD = _UNIT_NAME + r"\.?\s*\}?\$?"
# _UNIT_WORD + "[ \t]*", each blank read by one quantifier (its "\s*", then "[ \t]*", then the gaps' own "[ \t]*" after an
# optional comma or dollar, read a run of spaces in every split: "4 apples" + 1,000 spaces backtracked as n^3 or n^4)
_UNIT_WORD_BLANK = _UNIT_NAME + r"\.?\s*(?:\}\$?[ \t]*|\$[ \t]*)?"
_COMPOUND_GAP_RE = re.compile(_UNIT_WORD_BLANK + r"(?:,[ \t]*)?(?:and[ \t]+)?(?:\$[ \t]*)?")
_UNIT_AFTER_RE = re.compile(_UNIT_WORD + r"(?![A-Za-z])")


_UNIT_GAP_RE = re.compile(_UNIT_NAME + r"\s*\}?\$?")


_UNIT_OR_GAP_RE = re.compile(_UNIT_WORD_BLANK + r"(?:,[ \t]*)?or[ \t]+(?:\$[ \t]*)?", re.I)  # (see _UNIT_WORD_BLANK)
_BARE_END_RE = re.compile(r"[ \t$]*(?:[.!?;,)\n]|\Z)")  # no unit or words after a value


def _unit_list_gap(tail: str, start: int, end: int, unit: str | None) -> bool:
    """Whether tail[start:end] is the unit the last value has, then a list gap: "10 cm and 5 cm" is a list, as
    "10 and 5" is (read as the last value 5, it scored for the gold 5)."""
    g = _UNIT_GAP_RE.match(tail, start, end) if unit else None
    return g is not None and g.group(1).lower() == unit and _LIST_GAP_RE.fullmatch(_fold(tail[g.end() : end])) is not None


def _compound_quantity(tail: str, cands: list) -> str | None:
    """"2 hours and 30 minutes": the last two values in two different units are one quantity, not the last number
    (read as 30 it scored for the gold 30); returned whole, unreadable as in a box, else None."""
    if len(cands) < 2:
        return None
    gap = _COMPOUND_GAP_RE.fullmatch(tail, cands[-2][1], cands[-1][0])
    after = _UNIT_AFTER_RE.match(tail, cands[-1][1], cands[-1][1] + 40)
    if gap is None or after is None:
        return None
    u1, u2 = gap.group(1).lower(), after.group(1).lower()
    if u1 == u2 or u1 not in _COMPOUND_UNITS or u2 not in _COMPOUND_UNITS:
        return None
    return tail[cands[-2][0] : after.end()].replace("$", "").strip(" \t.")


# what may part a concluded prose value from the next sentence, which opens with the value it rejects: "So we get 9.
# Note that 6 does not work.", "So the total is 9; 6 would be too small.", "Thus 9. Actually, 6? No." (a unit word after
# the value first: "So we get 9 apples. 6 apples is too few."; the sentence in parentheses: "So we get 9. (6 is too small.)",
# "So we get 9 (6 is too small)."; the values it rejects named as a pair: "So we get 9. Both 6 and 12 are too big.")
_REJECT_GAP_RE = re.compile(
    r"(?:[ \t]+[A-Za-z]+)?[\s$)\]]*(?:[.!;]|\n|(?=\())[\s*_`(]*(?:(?:hmm+|wait|well|oh|but|however|actually|(?:note|notice)(?:\s+that)?|clearly"
    r"|obviously|of\s+course|indeed|maybe|perhaps)\b[\s,:]*)*(?:(?:both|either)\s+)?(?:[A-Za-z]\s*=\s*)?",  # ("So x = 9. x = 6 fails.")
    re.I,
)
# ... or a question that asks for the other value: "So we get 9. Is it 6? No." (read last, the 6 denied scored)
# (the end of the answer's sentence and the next one's opening filler, which both questions start with)
_QUERY_OPEN = r"[\s$)\]]*(?:[.!;]|\n)[\s*_`]*(?:(?:hmm+|wait|well|but)\b[\s,:]*)*"
_QUERY_GAP_RE = re.compile(
    _QUERY_OPEN + r"(?:(?:is|was)\s+it|(?:could|can|might|would)\s+it\s+be"
    r"|(?:what|how)\s+about|is\s+the\s+answer|or)\s+(?:[A-Za-z]\s*=\s*)?\$?\s*",
    re.I,
)
# ... or one that asks whether the other value is the answer: "So we get 9. Is 6 possible? No." (read last, the 6 denied
# scored, as "Is it 6? No." did)
_QUERY_SUBJ_GAP_RE = re.compile(
    _QUERY_OPEN + r"(?:is|was|could|can|might|would|does|did)\s+"
    r"(?:[A-Za-z]\s*=\s*)?\$?\s*",
    re.I,
)
_QUERY_PRED_RE = re.compile(
    r"[\s$]*(?:(?:also|really|actually|even)\s+)?(?:be\s+)?(?:possible|right|correct|valid|allowed|a\s+(?:valid\s+)?solution"
    r"|an?\s+(?:valid\s+)?answer|the\s+(?:right\s+|correct\s+|final\s+)?answer|work|hold)[\s$*_]*\?",
    re.I,
)
# ... or one that asks whether the other value has a property the answer is checked for: "So we get 9. Is 6 prime? No."
# (the candidate turned down, as "Is 6 possible? No."; "? Yes." keeps 6; with nothing concluded before, "Is 9 prime?
# No." may find the composite asked, and is read as before)
_QUERY_PROP_RE = re.compile(
    r"[\s$]*(?:(?:also|really|actually|even)\s+)?(?:(?:a\s+)?(?:prime|composite)(?:\s+number)?|even|odd"
    r"|an?\s+(?:integer|whole\s+number|natural\s+number|perfect\s+(?:square|cube|power))"
    r"|(?:divisible\s+by|an?\s+(?:multiple|factor|divisor)\s+of)\s+\$?[ \t]*\d+[ \t]*\$?)[\s$*_]*\?",
    re.I,
)
# the question alone, with no value concluded before it: "We have 6 apples. Is it 7? No.", "Is 7 possible? Nope." (the
# value denied, read last, scored for the gold 7: no answer, as "Checking: 7 fails." gives none)
_QUERY_LEAD_RE = re.compile(
    r"[\s*_`]*(?:(?:hmm+|wait|well|but|so)\b[\s,:]*)*(?:(?:(?:is|was)\s+it|(?:could|can|might|would)\s+it\s+be"
    r"|(?:what|how)\s+about|is\s+the\s+answer|or)\s+)?(?:[A-Za-z]\s*=\s*)?\$?\s*",
    re.I,
)
_QUERY_SUBJ_LEAD_RE = re.compile(
    r"[\s*_`]*(?:(?:hmm+|wait|well|but|so)\b[\s,:]*)*(?:is|was|could|can|might|would|does|did)\s+(?:[A-Za-z]\s*=\s*)?\$?\s*",
    re.I,
)


def _asked_denied(tail: str, cands: list) -> bool:
    """Whether the last value is asked about as the answer in its own question and answered "No" ("Is it 7? No.",
    "Is 7 possible? Nope."), with no value the sentence "No" opens names but it."""
    v = cands[-1]
    s0 = max((m.end() for m in _SENTENCE_END_RE.finditer(tail, max(0, v[0] - 200), v[0])), default=max(0, v[0] - 200))
    q = _QUERY_MARK_RE.match(tail, v[1])
    if q is not None:
        asked = _QUERY_LEAD_RE.fullmatch(tail, s0, v[0]) is not None
    else:
        q = _QUERY_PRED_RE.match(tail, v[1])
        asked = q is not None and _QUERY_SUBJ_LEAD_RE.fullmatch(tail, s0, v[0]) is not None
    return asked and _answered_no(tail, q.end(), v[2], v[2])


# the verb a rejected value is the subject of ("6 is too big", "6 apples is too few", "6 does not work"; not "6 of them
# are not red": a count of the answer's, which may be the answer)
_REJECT_VERB_RE = re.compile(
    r"[\s$]*(?:[A-Za-z]+\s+)?,?\s*(?:is|isn't|was|wasn't|would|wouldn't|will|won't|does|doesn't|did|didn't|fails|can't|could|couldn't"
    r"|must|might|may|should|shouldn't|seems|looks|also)\b",
    re.I,
)
# a verb a list of rejected values may have: "6 and 12 are too big", "6 and 12 would be too big"
_PLURAL_VERB_RE = re.compile(
    r"[\s$]*(?:[A-Za-z]+\s+)?(?:are|aren't|were|weren't|would|wouldn't|could|couldn't|might|must|may|should|shouldn't"
    r"|do|don't|did|didn't|fail)\b",
    re.I,
)
_SUBJECTS_GAP_RE = re.compile(r"[\s$]*(?:,[\s$]*(?:(?:and|or)[\s$]+)?|[\s$]+(?:and|or)[\s$]+)", re.I)
# ... or values offered in turn, which share a singular verb: "6 or 12 is too big"
_OR_SUBJECTS_GAP_RE = re.compile(r"[\s$]*(?:,[\s$]*)?or[\s$]+", re.I)
_SPAN_NAME_RE = re.compile(r"^\$+\s*[A-Za-z]\s*=\s*")
_QUERY_MARK_RE = re.compile(r"[\s$*_]*\?")
# what joins two rejecting clauses: "6 is too small, and 12 is too big", "6 is too small; 12 is too big"
_CLAUSE_JOIN_RE = re.compile(r"(?:[,;]|\.(?=\s))\s*(?:(?:and|but|while|whereas)\s+)?$|\s+(?:and|while|whereas)\s+$", re.I)


_CROSS_MARK_RE = re.compile("[ \t$:*_]*[\u2717\u2718\u274c\u274e]")
_CHECK_MARK_RE = re.compile("[ \t$:*_]*[\u2713\u2714\u2705]")


def _checked_before_crossed(tail: str, cands: list) -> int | None:
    """The index of the value marked right (a check mark) before the last values, each marked wrong (a cross); else
    None. Read last, a value crossed out in a list of tries scored."""
    i = len(cands) - 1
    while i >= 0 and _CROSS_MARK_RE.match(tail, cands[i][1]):
        i -= 1
    return i if 0 <= i < len(cands) - 1 and _CHECK_MARK_RE.match(tail, cands[i][1]) else None


# (a unit word may follow the concluded value, before a mark: "So we get 9 apples, not 6.")
_NOT_GAP_RE = re.compile(
    # (the unit's blanks read whole, "(?!\s)": the lookahead after each shorter read found the same mark, quadratically)
    r"(?:" + _UNIT_NAME + r"\.?\s*(?!\s)\}?\$?(?=[ \t]*(?:[,;]|--|\u2014)))?[ \t$]*(?:(?:[,;.!]|--|\u2014)\s*|(?=[^\S \t])\s*)?(?:and\s+|but\s+)?"
    # (each blank read by one quantifier: "[ \t$]*" then "\s*" read a run of spaces quadratically)
    r"(?:not|never|instead\s+of)[ \t]+(?:\$[ \t]*)?",  # ("So we get 9 instead of 6.", as "\boxed{9} instead of 6" reads 9)
    re.I,
)
# what may end the rejected value's clause: its unit, a clause of what was thought first ("not 6 apples", "not 6 as I
# first thought")
_NOT_END_RE = re.compile(
    r"(?:" + _UNIT_WORD + r")?(?:[ \t]*,?[ \t]+as\s+(?:i|we)\s+(?:(?:first|initially|originally|previously|earlier|had)\s+)"
    r"{0,2}(?:thought|expected|assumed|guessed|said|claimed|computed|calculated|wrote|believed|got|found|had)(?:\s+(?:earlier"
    r"|before|at\s+first|initially))?)?" + _BARE_END_RE.pattern,
    re.I,
)


# the last value's sentence says what the writer had before: "So we get 9. Previously, I had 6.", "Thus 9. My earlier
# answer was 6." (read last, the value given up scored); "Initially there were 6." is none (it may be the value asked)
_PAST_GAP_RE = re.compile(
    # (the line's break is the run's last "\n": read at every "\n" of a run of them, then the rest, it was quadratic)
    # (the unit's "\s*}?$?" is "(?:\s*})?" before "[\s$)\]]*", which reads the blanks and "$" it read too)
    r"(?:" + _UNIT_NAME + r"\.?(?:\s*\})?)?[\s$)\]]*(?:[.!;]|\n(?![\s$)\]]*\n))[\s*_`]*(?:(?:but|hmm+|oh|note|wait)\b[\s,:]*)*"
    r"(?:(?:previously|earlier|before(?:\s+that)?|at\s+first|initially|originally)\s*,?\s*(?:i|we)\s+"
    r"(?:(?:had|got|thought|computed|calculated|found|obtained|wrote|guessed|answered)|(?:had\s+)?(?:gotten|thought|computed|calculated|found|obtained|written|guessed))"
    r"|(?:i|we)\s+(?:had\s+)?(?:previously|earlier|initially|originally|first)\s+(?:had|got|gotten|thought|computed|calculated|found|obtained|wrote|written|guessed|answered)"
    r"|(?:my|our|the)\s+(?:previous|earlier|first|initial|original|old)\s+(?:answer|result|value|guess|attempt|computation|calculation)\s+(?:was|gave)"
    r")\s+(?:[A-Za-z]\s*=\s*)?(?:\$[ \t]*)?",
    re.I,
)

_HAD_GAP_END_RE = re.compile(r"\bhad\s+(?:[A-Za-z]\s*=\s*)?\$?[ \t]*$", re.I)


def _had(text: str, at: int) -> bool:
    """Whether the value at text[at] is what "we have"/"I have" states in its sentence ("We have 9, not 6.": the
    comma no list, with "not" after it)."""
    s0 = max((m.end() for m in _SENTENCE_END_RE.finditer(text, max(0, at - 200), at)), default=max(0, at - 200))
    return _HAVE_BEFORE_RE.search(text, s0, at) is not None


def _rejected_last(tail: str, cands: list) -> int | None:
    """The index of the concluded value the last value's sentence only rejects ("So we get 9. 6 is likely too big.",
    "Thus 9. Actually, 6? No.", "So 9. 6 is too small, and 12 is too big."), as the words after a box or an answer
    phrase do; else None (read last, the rejected 6 scored and the right 9 scored 0)."""
    n = len(cands)
    if n >= 2 and _NOT_GAP_RE.fullmatch(tail, cands[-2][1], cands[-1][0]) and _NOT_END_RE.match(tail, cands[-1][1]) and (
        not _same_value(cands[-1][2], cands[-2][2]) and (_concludes(tail, cands[-2][0], True) or _had(tail, cands[-2][0]))
    ):
        # "So we get 9, not 6.", "We have 9. Not 6.", "So we get 9 apples, not 6 as I first thought.": the last value is
        # the one the answer is not
        return n - 2
    if n >= 2 and (pg := _PAST_GAP_RE.fullmatch(tail, cands[-2][1], cands[-1][0])) and (
        (_BARE_END_RE if _HAD_GAP_END_RE.search(pg.group()) else _NOT_END_RE).match(tail, cands[-1][1])
        and not _same_value(cands[-1][2], cands[-2][2]) and _concludes(tail, cands[-2][0], True)
    ):
        # "So we get 9. Previously, I had 6.", "Thus 9. At first I thought 6.": the writer's value before the one
        # concluded (only a bare value after "had": "Previously, I had 6 apples" may tell the story asked about)
        return n - 2
    for j in range(n - 2, max(-1, n - 4), -1):  # ("Thus 9. 6? No, 6 is too small.": the value restated after "No")
        p, v = cands[j], cands[j + 1]
        q = _QUERY_MARK_RE.match(tail, v[1])
        if q is not None:
            asked = _REJECT_GAP_RE.fullmatch(tail, p[1], v[0]) is not None or _QUERY_GAP_RE.fullmatch(tail, p[1], v[0]) is not None
        else:  # ("So we get 9. Is 6 possible? No.": the value asked about, as "Is it 6? No.")
            q = _QUERY_PRED_RE.match(tail, v[1]) or _QUERY_PROP_RE.match(tail, v[1])  # ("Is 6 prime? No.")
            asked = q is not None and _QUERY_SUBJ_GAP_RE.fullmatch(tail, p[1], v[0]) is not None
        if not asked or _same_value(v[2], p[2]) or not _concludes(tail, p[0], True):
            continue
        no = _NO_RE.match(tail, q.end())
        if no is not None and _answered_no(tail, q.end(), v[2], p[2]) and cands[-1][1] <= _sentence_end(tail, no.end()):
            return j
    # the last value's clause, and each clause before it joined to it, rejects its value
    i, end = n - 1, _sentence_end(tail, cands[-1][1])
    while i > 0:
        p, v = cands[i - 1], cands[i]
        # (a name in the value's math span, as before a prose value: "So $x = 9$. $x = 6$ fails.")
        clause = _SPAN_NAME_RE.sub("$", tail[v[0] : end], count=1)
        plural = _PLURAL_VERB_RE.match(tail, v[1])
        if (_REJECT_VERB_RE.match(tail, v[1]) is None and plural is None) or not _rejects_other(clause, ""):
            return None
        # ("6 and 12 are too big": the values listed before share the verb; a lone "6 are not red" is a count)
        k = i
        while i > 0 and (
            (plural is not None and _SUBJECTS_GAP_RE.fullmatch(tail, cands[i - 1][1], cands[i][0]))
            or _OR_SUBJECTS_GAP_RE.fullmatch(tail, cands[i - 1][1], cands[i][0])
        ):
            i -= 1
        if i == 0 or (i == k and _REJECT_VERB_RE.match(tail, v[1]) is None):
            return None
        p, v = cands[i - 1], cands[i]
        if _REJECT_GAP_RE.fullmatch(tail, p[1], v[0]) and _concludes(tail, p[0], True):
            return i - 1 if not any(_same_value(c[2], p[2]) for c in cands[i:]) else None
        join = _CLAUSE_JOIN_RE.search(tail, p[1], v[0])
        if join is None:
            return None
        i, end = i - 1, join.start()
    return None


def _explained(tail: str, cands: list) -> tuple[list, int] | None:
    """The values read, and where the last one's words start, with the numbers of a parenthesis of words right after
    a concluded value left out: it says more of that value ("So the total is 12 (3 boxes of 4)."; read last, the 4
    scored and the right 12 scored 0; "12 (3 boxes of 4) or 13" offers 13 beside 12, not beside 4); None when
    there is none, or the parenthesis offers another value ("12 (maybe 13)")."""
    j = tail.rfind("(", 0, cands[-1][0])
    i = len(cands) - 1
    while i >= 0 and cands[i][1] > j:
        i -= 1
    if j < 0 or i < 0 or not (_paren_prose(tail, j) or _PAREN_EQ_RE.match(tail, j) or _paren_computes(tail, j, cands[i][2])):
        return None  # (words, or "=": "60 (= 1 hour)", or its computation: "12 (3 x 4)")
    unit = None
    if tail[cands[i][1] : j].strip():  # ("12 apples (3 boxes of 4)": the value's unit between)
        unit = _UNIT_GAP_RE.match(tail, cands[i][1], j)
        if unit is None or tail[unit.end() : j].strip() or _HEDGE_WORD_RE.fullmatch(unit.group(1)) or unit.group(1).lower() in _NEGATING_WORDS:
            return None
    close = j + 1 + _paren_close(tail[j + 1 :], len(tail) - j - 1)
    p = cands[i]
    if (em := _EQ_AFTER_RE.match(tail, unit.end() if unit else p[1])) and _other_equated(p[2], em.group(1)):
        return None  # "12 (= 13)" offers 13
    if close >= len(tail) or not _concludes(tail, p[0], True) or _HEDGE_WORD_RE.search(tail, j, close):
        return None  # ("12 (3 boxes of 4, or maybe 13)" offers 13 after the words)
    if close < cands[-1][0]:  # values after the parenthesis: what they are to 12 is read as if it were not there
        after = [c for c in cands[i + 1 :] if c[0] > close]
        return (cands[: i + 1] + after, cands[-1][1]) if len(after) < len(cands) - i - 1 else None
    if close < cands[-1][1] or _hedge(tail, unit.end() if unit else p[1], ans=p[2]) or _hedge(tail, close + 1, ans=p[2]):
        return None
    return cands[: i + 1], p[1]


# a minus with spaces before a number, after "=" or a word ("is - 1"): a sign, no binary minus (a one-letter name
# before it, "n - 1", and a bullet "- 1" opening a line are not matched)
_SPACED_SIGN_RE = re.compile(r"(?:=|(?<![A-Za-z])[A-Za-z]{2,})[ \t]*(-)[ \t]+\Z")


_LONE_SIGN_RE = re.compile(
    r"\s*(?:=|<=?|>=?|!=|[\u2248\u223c\u2243\u2264\u2265\u2260]"
    r"|\\(?:approx|sim|simeq|approxeq|thickapprox|le|leq|ge|geq|lt|gt|ne|neq)(?![A-Za-z]))\s*"
)


def _unspan_signs(tail: str, spans: list) -> str:
    """`tail` with the delimiters of each math span that holds one relation sign alone blanked (same length)."""
    out = list(tail)
    for s0, e0, c in spans:
        if _LONE_SIGN_RE.fullmatch(c):
            i = tail.index(c, s0)
            out[s0:i] = " " * (i - s0)
            out[i + len(c) : e0] = " " * (e0 - i - len(c))
    return "".join(out)


def _tail_candidate(text: str) -> str | None:
    tail = text[-_TAIL:]
    if len(text) > _TAIL and _LONG_BLANK_RE.search(tail):
        # padding does not push a value out of the tail: "4" + 3,000 spaces + " or 3" read 3 alone
        tail = _squeeze_blank(text)[-_TAIL:]
    spans = _math_spans(tail)
    if any(_LONE_SIGN_RE.fullmatch(c) for _, _, c in spans):
        # a relation sign alone in math delimiters is the sign in the prose: "So x $\approx$ 5." reads as "So x \approx
        # 5." (its span "\approx" was read as a value: "\approx, 5", wrong for the gold 5), "So x $\leq$ 5." is a bound
        tail = _unspan_signs(tail, spans)
        spans = _math_spans(tail)
    cands = []  # (start, end, answer) of every math span and every number outside them
    for s0, e0, c in spans:
        c2 = c.strip()
        if not c2 or (len(c2) == 1 and c2.isalpha()):
            continue
        cands.append((s0, e0, c2))
    # numbers outside math spans
    masked = list(tail)
    for s0, e0, _ in spans:
        for q in range(s0, e0):
            masked[q] = " "
    masked_s = "".join(masked)
    for m in _numbers_in(masked_s):
        # ("The probability is 0.75 (75%).": the percent sign is the value's, 75% is 0.75; read as 75 it scored wrong)
        pct = _PCT_AFTER_RE.match(masked_s, m.end()) if "%" in masked_s or "percent" in masked_s else None
        start, num = m.start(), m.group()
        if (sign := _SPACED_SIGN_RE.search(masked_s, max(0, start - 40), start)) is not None:
            start, num = sign.start(1), "-" + num  # "is - 1", "x = - 1": a unary minus set apart (read as 1 it scored 1)
        if pct is None and _CLOCK_NUM_RE.fullmatch(num) and (half := _HALF_DAY_AFTER_RE.match(masked_s, m.end())):
            word = f"{half.group(1)}m" if half.group(1) else half.group(2)  # ("at 12 noon")
            cands.append((start, half.end(), f"{num} {word.lower()}"))  # "at 5:30 PM": 17:30, "at 5 pm": 17:00
            continue
        cands.append((start, m.end(), num) if pct is None else (start, pct.end(), num + "%"))
    if not cands:
        # "The meeting starts at noon.": the time named, as "\boxed{noon}" is (it matches only a clock-time gold)
        named = list(_NAMED_TIME_RE.finditer(tail))
        return named[-1].group(1).lower() if named and _trailing_words(tail[named[-1].end() :]) <= 12 else None
    cands.sort(key=lambda c: c[1])
    cands = _join_mixed(tail, cands)
    end_at = cands[-1][1]  # (the words after the last value, its rounding dropped below, may negate it)
    if len(cands) > 1 and (
        am := _ROUNDING_GAP_RE.fullmatch(tail, cands[-2][1], cands[-1][1]) or _EQ_ROUNDING_GAP_RE.fullmatch(tail, cands[-2][1], cands[-1][1])
    ) and not _far_approx(cands[-2][2], am):
        # "So we get $\frac{1}{3}$, approximately 0.333.": the rounding of the value before is no answer of its own
        # (read last, its "approximately" refused it: no answer, while after a box or an answer phrase 1/3 scores)
        cands.pop()
    elif len(cands) > 1 and (em := _EQ_AFTER_RE.match(tail, cands[-2][1])) is not None and em.start(1) == cands[-1][0] and (
        em.group(1).rstrip("! \t") == cands[-1][2] and not _same_value(cands[-2][2], cands[-1][2])
        or _REPEATING_RE.fullmatch(em.group(1)) and em.group(1).startswith(cands[-1][2])  # ("1/3 = 0.\overline{3}": "0")
    ) and not _other_equated(cands[-2][2], em.group(1)):
        # "So we get 0.33 = 1/3.", "So we get 120 = 5!.": the value equated to the one before only restates it (a
        # rounding of it, the factorial it is), as after a box ("\boxed{0.33} = 1/3", "\boxed{120} = 5!"): the one
        # before is the answer (read last, 1/3 or the 5 of "5!" scored, the right 0.33 or 120 scored 0)
        cands.pop()
    if _trailing_words(tail[cands[-1][1] :]) > 12:
        return None
    if (j := _checked_before_crossed(tail, cands)) is not None:
        cands, end_at = cands[: j + 1], cands[j][1]  # "17 \u2713\n18 \u2717": the checked value, not the crossed one
    elif (j := _rejected_last(tail, cands)) is not None:
        cands, end_at = cands[: j + 1], cands[j][1]  # the concluded value, read as if it were last
    elif _asked_denied(tail, cands):
        return None  # "We have 6 apples. Is it 7? No.": the value denied, and none concluded before it
    elif (read := _explained(tail, cands)) is not None:
        cands, end_at = read
    if (whole := _compound_quantity(tail, cands)) is not None:
        return whole
    # The last value of a run joined by "or"/"and"/"," is one part of a list or a hedge, never the
    # answer alone: "It is 3 or 4." read as 4 would reward the hedge (the parts compare as a list).
    parts = [cands[-1][2]]
    k = len(cands) - 1
    if k and cands[k][0] - cands[k - 1][1] <= 80 and _ALSO_TAIL_RE.match(_fold(tail[cands[k][1] : cands[k][1] + 200])):
        # "So x = 3, though x = 5 also works.": the last value says it is one more answer, beside the one before
        k -= 1
        parts.append(cands[k][2])
    unit = _UNIT_AFTER_RE.match(tail, cands[-1][1], cands[-1][1] + 40)
    unit = unit.group(1).lower() if unit and unit.group(1).lower() in _UNITS and unit.group(1) != "in" else None
    if k == len(cands) - 1 and k and (g := _UNIT_OR_GAP_RE.fullmatch(tail, cands[k - 1][1], cands[k][0])) and (
        _BARE_END_RE.match(tail, cands[k][1]) and not _HEDGE_WORD_RE.fullmatch(g.group(1)) and g.group(1).lower() not in _NEGATING_WORDS
    ):
        # "So it takes 5 minutes or 6.": a bare value after a value with its unit and "or" is a hedge, as "5 or 6" is
        k -= 1
        parts.append(cands[k][2])
    while k > 0 and len(parts) <= MAX_ITEMS and (
        _LIST_GAP_RE.fullmatch(_fold(tail[cands[k - 1][1] : cands[k][0]])) or _unit_list_gap(tail, cands[k - 1][1], cands[k][0], unit)
    ):
        k -= 1
        parts.append(cands[k][2])
    if k == len(cands) - 1 and k:
        # "So we get 3. If instead we include 0, we get 5.": the last value's sentence offers it as another answer
        # (a value inside the offering clause stood between, so the hedge after 3 was not seen and 5 scored alone)
        s0 = max((m.end() for m in _SENTENCE_END_RE.finditer(tail, max(0, cands[k][0] - 200), cands[k][0])), default=-1)
        j = k - 1
        while j >= 0 and cands[j][1] > s0:
            j -= 1
        seg = _fold(tail[s0 : cands[k][0]]) if s0 >= 0 and j >= 0 and s0 - cands[j][1] <= 80 else None
        if seg is not None and (
            _ALSO_BEFORE_RE.search(seg) or (_case_before(_PROSE_CASE_BEFORE_RE, seg) and _concludes(tail, cands[j][0]))
        ):
            k = j
            parts.append(cands[k][2])
    concl = k > 0 and _concludes(tail, cands[k - 1][0])
    if k and cands[k][0] - cands[k - 1][1] <= 80 and (_hedge(
        tail, cands[k - 1][1], other_case=_PROSE_CASE_AFTER_RE if concl else None,
        # ("So we get 3.\n\n5": a value alone on the line after a concluding one is a second value, as after a box)
        box=concl and not _is_operand(tail, cands[k - 1][0], cands[k - 1][1]),
        # ("So we get 5, i.e. 6.", "Thus 3 (\approx 4.5).": what is said of a concluded value, as of a box's)
        ans=cands[k - 1][2] if concl else None,
    ) or (concl and _prose_revision(tail[cands[k - 1][1] :], cands[k - 1][2]) is not None)):
        # ("So we get 5. Actually it's 6.": a prose revision of a concluded value is a hedge, as after a box or an
        # answer phrase; read as 6, a policy could conclude one value and revise to another)
        # "So we get 3, though some say 5.", "Thus $3$. Alternatively $5$.": the value before offers the last as
        # another answer, as after a box (read alone, the last scored)
        k -= 1
        parts.append(cands[k][2])
    # the words since the value before ("not 10 which is 12": "not" is 10's) up to the end of the sentence
    if _negated(tail[cands[k - 1][1] if k else 0 : cands[k][0]], tail[end_at:]):
        return None  # "Therefore x is not 4.": the last value is what the answer is not
    if len(parts) == 1 and (scale := _SCALE_AFTER_RE.match(tail, cands[k][1])) is not None:
        return _scaled(parts[0], scale.group(1))  # "So we get 2.5 million." (read as 2.5, it scored for the gold 2.5)
    if len(parts) == 1 and k == len(cands) - 1:
        # "So we get 6 = 2 \cdot 4.": a value equated to another one after it offers two, as "\boxed{6} = 2 \cdot 4"
        # does (the computation's numbers are no values of their own: read as 6 alone, it scored for the gold 6);
        # "So we get 12 = 3 \cdot 4." restates 12
        em = _EQ_AFTER_RE.match(tail, cands[k][1])
        while em is not None:
            if _other_equated(parts[0], em.group(1)):
                return f"{parts[0]} or {em.group(1)}"
            em = _EQ_AFTER_RE.match(tail, em.end())
    # ("So it is $\frac{3}{8}$ or $37.5\%$.": the "or" is kept, to tell a value restated from a list)
    return (" or " if len(parts) == 2 and _OR_WORD_RE.search(tail, cands[k][1], cands[-1][0]) else ", ").join(reversed(parts))


def _collapse_double_escapes(s: str) -> str:
    # Only when every command in the string is written with a doubled backslash (the string was
    # escaped twice); a real "\\\\" row break next to a command is left alone.
    if "\\\\" not in s or _SINGLE_CMD_RE.search(s):
        return s
    return _DOUBLE_ESC_RE.sub(r"\\", s)


_SINGLE_CMD_RE = re.compile(r"(?<!\\)\\[A-Za-z]")


_DOUBLE_ESC_RE = re.compile(
    r"(?<!\\)\\\\(?=(?:boxed|fbox|frac|dfrac|tfrac|cfrac|left|right|le|leq|ge|geq|lt|gt|ne|neq|text|textbf|"
    r"mathrm|mathbf|sqrt|cdot|times|pi|infty|in|cup|cap|pm|mp|begin|end|sin|cos|tan|log|ln|quad|qquad|"
    r"circ|dots|ldots|cdots|alpha|beta|gamma|theta|approx|div|binom|dbinom|mbox|operatorname)(?![A-Za-z]))"
)


def final_mark(gold: str) -> str:
    """A GSM8K worked solution's final line "#### 72" (or its one line's end " #### 72") is its gold (the dataset loader's _answer_text reads golds
    through it too, so a loaded item's answer and the verifier agree): read whole, a value or "so" along the way was taken ("There are 72 in all" after "The
    answer is 5 apples per box" gave 5, and "$<<3*24=72>>72" no value)."""
    last = gold.rstrip().rsplit("\n", 1)[-1].strip()
    if last.startswith("####") and last[4:].strip():
        return last[4:].strip()
    # the solution on one line, its mark at the end ("... 72 clips in April and May. #### 72"): the whole text was
    # the gold, its last number maybe; only a number there, as "####" inside prose may mark anything
    tail = last.rsplit("####", 1)[-1].strip()
    return tail if "####" in last and _MARKED_NUMBER_RE.fullmatch(tail) else gold


_MARKED_NUMBER_RE = re.compile(r"[-+]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)")


@lru_cache(maxsize=4096)
def _extract_gold(gold: str) -> tuple[str | None, str]:
    # golds repeat across samples of the same problem
    ref, why = _extract(gold, lenient=True)
    if ref is None and why == "no answer" and _TEXT_GOLD_RE.fullmatch(t := gold.strip()):
        # a short gold in words ("does not exist", "no real solutions", "cannot be determined"): three or more words
        # read as prose (a worked solution), whose last number is its answer, and with none there every completion
        # scored "bad gold", "\boxed{\text{does not exist}}" included; a gold is what it says
        return t.rstrip(".").strip(), "ok"
    return ref, why


# a gold of a few words and nothing else: letters, spaces, hyphens and apostrophes, one line, up to 8 words
_TEXT_GOLD_RE = re.compile(r"[A-Za-z]+(?:[ '\-][A-Za-z]+){0,7}\.?")


# "the answer is correct": words that follow "answer is" without being an answer
_NOT_ANSWERS = frozenset(
    "correct incorrect wrong right above below follows shown given not unknown clear simple obvious "
    "this that same".split()
) | frozenset(  # words that point at the answer written after them ("The answer is as follows:\n\n$$5$$")
    ("as follows", "the following", "following", "given below", "shown below", "as shown below", "see below", "as below")
)


def _mathy(s: str) -> bool:
    """Math-looking enough to override a boxed answer: a digit, a command, or a choice letter."""
    t = s.strip(" .()")
    return any(c.isdigit() for c in s) or "\\" in s or (len(t) == 1 and t.isalpha())


_EMPHASIS_RE = re.compile(r"(\*{1,3})([^*]+)\1|(__)([^_]+)__")


# what names no value: math delimiters, Markdown marks, punctuation, operators alone, spacing, invisible characters
# ("The answer is $$." gave the answer "$$", "The answer is ##" gave "##": junk counted as an answer, and junk
# answers agreed with each other in a vote)
_JUNK_CHARS = " \t\n\r\f\v$#*_`.,;:!?=+-^|/&%~<>\"'\u2026\u00a0\u200b\u200c\u200d\u2060\ufeff"
_TEXT_WRAP_RE = re.compile(r"\\(?:text|textrm|textbf|textit|mathrm|mathbf|mbox|emph|underline|mathbb)\s*\{([^{}]*)\}")
# spacing, and a backslash before no letter or brace ("\\,", "\\ ", "\\(", a row break): blank
_SPACING_RE = re.compile(r"\\(?:[hv]?phantom|[hv]space\*?)\s*\{[^{}]*\}|\\(?:qquad|quad|hfill|space|thinspace|medspace|"
                         r"thickspace|negthinspace)(?![A-Za-z])|\\(?:[^A-Za-z{}|]|$)"
                         # a blank to fill, a QED box, an ellipsis, a dot, a style switch: no value either
                         r"|\\rule\s*(?:\[[^\]]*\])?\{[^{}]*\}\{[^{}]*\}|\\(?:square|Box|blacksquare|ldots|dots|cdots|cdot|"
                         r"displaystyle|textstyle|null|relax|empty|left|right)(?![A-Za-z])")


_CMD_NAME_RE = re.compile(r"\\([A-Za-z]+)")
_JUNK_CMDS = frozenset(
    """text textrm textbf textit mathrm mathbf mbox emph underline mathbb phantom hphantom vphantom hspace vspace qquad
    quad hfill space thinspace medspace thickspace negthinspace rule square Box blacksquare ldots dots cdots cdot
    displaystyle textstyle null relax empty left right""".split()
)


def _junk(ans: str) -> bool:
    """Whether an extracted answer is only marks that name no value ("$$", "##", "\\quad", "\\text{ }", "--")."""
    t = ans.strip(_JUNK_CHARS)
    if "\\" in t:
        if not _JUNK_CMDS.issuperset(_CMD_NAME_RE.findall(t)):
            return False  # a command that names a value ("\\frac", "\\pi"): the common case, decided at once
        for _ in range(3):
            t = _SPACING_RE.sub("", _TEXT_WRAP_RE.sub(r"\1", t))
        t = t.strip(_JUNK_CHARS)
    return not t


_SMALL_NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
# number words opening a sentence: "twelve, though 13 also works" (the value ahead of what is offered beside it)
_NUMBER_WORD = r"(?:" + "|".join(_SMALL_NUMBERS + _TENS + ["hundred", "thousand"]) + r")(?![A-Za-z])"
_LEAD_WORDS_RE = re.compile(r"(" + _NUMBER_WORD + r"(?:[\s-]+(?:and\s+)?" + _NUMBER_WORD + r")*)", re.I)
_SPELLED_RE = re.compile(
    r"(?:\\text\s*\{\s*)?([A-Za-z][A-Za-z -]{1,60}?)\s*\(\s*\$?\s*(\d{1,6}(?:\s*/\s*\d{1,6})?)\s*\$?\s*\)\s*\}?\.?"
)


def _spelled_value(words: str, strict: bool = True) -> int | None:
    """The value of a number in words below a million ("twelve", "forty-two", "two hundred five", "one thousand and
    one"), else None. `strict`: the words must be one number as written ("five five", "ten five", "five and six" are
    none: summed, they read as 10, 15 and 11); not strict, any run of number words is read (what "or" offers)."""
    total = cur = 0
    last = ""  # the kind of the word before: "", "unit", "tens", "hundred", "thousand", "and"
    opens = ("", "hundred", "thousand", "and")  # where a units or tens word may stand
    for w in words.lower().replace("-", " ").split():
        if w in _SMALL_NUMBERS:
            v = _SMALL_NUMBERS.index(w)
            if strict and ((last not in opens and not (last == "tens" and 0 < v < 10)) or (v == 0 and last)):
                return None
            cur, last = cur + v, "unit"
        elif w in _TENS:
            if strict and last not in opens:
                return None
            cur, last = cur + 20 + 10 * _TENS.index(w), "tens"
        elif w == "hundred" and last:
            if strict and not (last == "unit" and 0 < cur < 20):
                return None
            cur, last = cur * 100, "hundred"
        elif w == "thousand" and last:
            if strict and (last == "and" or total or not cur):
                return None
            total, cur, last = total + cur * 1000, 0, "thousand"
        elif w == "and" and last and (not strict or last in ("hundred", "thousand")):
            last = "and"
        else:
            return None
    return total + cur if last and not (strict and last == "and") else None


_DENOMINATORS = dict(half=2, third=3, fourth=4, quarter=4, fifth=5, sixth=6, seventh=7, eighth=8, ninth=9, tenth=10)
_DENOMINATORS_PLURAL = {("halves" if w == "half" else w + "s"): d for w, d in _DENOMINATORS.items()}


def _spelled_fraction(words: str) -> str | None:
    """A fraction in words ("one half", "a third", "three-fourths", "two thirds") as "n/d", else None: a numerator
    of one takes the singular, any other the plural ("two third" is none)."""
    ws = words.lower().replace("-", " ").split()
    if not 2 <= len(ws) <= 6:
        return None
    one = ws[:-1] in (["a"], ["an"], ["one"])
    d = (_DENOMINATORS if one else _DENOMINATORS_PLURAL).get(ws[-1])
    n = 1 if one else _spelled_value(" ".join(ws[:-1]))
    return f"{n}/{d}" if d is not None and n else None


def _spelled_unit(words: str) -> str | None:
    """A number in words with up to two unit words after it, as digits: "five dollars" -> "5 dollars",
    "twenty-five percent" -> "25 percent", "twelve" -> "12"; else None."""
    ws = words.split()
    k = len(ws)
    while k > max(1, len(ws) - 2) and ws[k - 1].lower() in _UNITS:
        k -= 1
    v = _spelled_value(" ".join(ws[:k]))
    if v is None:
        return _spelled_fraction(words)  # ("one half": a fraction takes no unit here)
    return " ".join([str(v), *ws[k:]])


def _all_spelled(s: str) -> bool:
    """Whether s is numbers in words alone (a unit after each allowed), one or several parted by "or" ("one hundred
    and five ways", three words, is no prose; the hedge "one hundred and five or six" is read whole, as the hedge it
    is)."""
    return len(s) <= 200 and all(_spelled_unit(p.strip(" .")) is not None for p in re.split(r"\s+or\s+", s.strip()))


def _spelled_with_digits(ans: str) -> str:
    """"twelve (12)": a number in words with its digits after it is those digits (read whole, the right 12 scored
    wrong); words that name another number ("five (12)") leave the answer as it is."""
    m = _SPELLED_RE.fullmatch(ans) if len(ans) <= 100 else None
    if m is None or (m.group().startswith("\\") != m.group().rstrip(".").endswith("}")):
        return ans
    digits = m.group(2).replace(" ", "")
    if "/" in digits:  # "one half (1/2)"
        return digits if _spelled_fraction(m.group(1)) == digits else ans
    return digits if _spelled_value(m.group(1)) == int(digits) else ans


_SPELLED_ALONE_RE = re.compile(r"(?:\\text\s*\{\s*)?([A-Za-z][A-Za-z -]{1,60}?)\s*\}?\.?")


_PAREN_OR_ALT_RE = re.compile(r"\s*\(\s*or\s+([^()]*?)\s*\)")


def _spelled_alone(ans: str) -> str:
    """"ten", or "10 or ten" (the value restated in words: "The answer is 10. Or, in other words, the answer is
    ten."): one number, read as its digits (read as "ten" or the hedge "10 or ten", the right 10 scored wrong);
    anything else, "3 or five" included, is left as it is."""
    if len(ans) > 200 or _WORD_RE.search(ans) is None:
        return ans
    vals, spelled = set(), False
    # "12 (or twelve)": the parentheses are no part of either value (split as "12 (" and "twelve)", no value read)
    for part in _PAREN_OR_ALT_RE.sub(r" or \1", ans).split(" or "):
        part = part.strip()
        m = _SPELLED_ALONE_RE.fullmatch(part)
        v = _spelled_unit(m.group(1)) if m and m.group().startswith("\\") == m.group().rstrip(".").endswith("}") else None
        spelled |= v is not None
        vals.add(part if v is None else v)
    # ("five dollars" is "5 dollars": a unit after the words stays, and "twenty-five percent or 25" is two values)
    one = next(iter(vals))
    return one if spelled and len(vals) == 1 and one.split(" ", 1)[0].replace("/", "", 1).isdigit() else ans


_PLAIN_DECIMAL_RE = re.compile(r"\d+(?:\.\d+)?")
_OR_ALT_SPLIT_RE = re.compile(r"\s*,?\s*\(?\s*\bor\s+")


def _percent_restated(ans: str) -> str:
    """"50\\% or 0.5", "\\frac34, or 75\\%": a simple value and the same value as a percent are one answer, read as the
    first (read as a list, the percent reading scaled both parts: the right value scored wrong); else `ans`."""
    if "%" not in ans or len(ans) > 100:
        return ans
    parts = _OR_ALT_SPLIT_RE.split(ans)
    if len(parts) != 2:
        return ans
    vals = []
    for part in parts:
        part = part.strip(" $().,")
        pct = part.endswith("%")
        num = part.rstrip("%").rstrip("\\") if pct else part
        v = _simple_float(num)
        if v is None:
            return ans
        vals.append((v / 100 if pct else v, pct, num))
    (a, pa, _), (b, pb, _) = vals
    if pa == pb:
        return ans
    if abs(a - b) <= 1e-12 * max(1.0, abs(a)):
        return parts[0].strip(" $().,")
    # "\frac{1}{3} (or 33.3\%)": a percent of plain digits that rounds the other value restates it, the exact
    # other value is the answer (a percent beyond that rounding, "\frac{1}{3} or 40\%", stays a hedge)
    (x, _, _), (_, _, num) = vals if pb else vals[::-1]
    exact = parts[0] if pb else parts[1]
    return exact.strip(" $().,") if _PLAIN_DECIMAL_RE.fullmatch(num) and _rounds_to(num, 100 * x) else ans


_PART_LABEL_RE = re.compile(r"[\s,;]*(?:and\s+)?\(([a-h])\)\s*")


def _unlabeled_parts(ans: str) -> str:
    """"(a) 3, (b) 5": the answers of the parts in order, as "3, 5" (a gold written so matched no response, not
    even "\\boxed{3} for part (a) and 5 for part (b)")."""
    if not ans.startswith("(a)"):
        return ans
    bits = _PART_LABEL_RE.split(ans)  # ["", "a", "3", "b", "5"]
    labels, vals = bits[1::2], [v.strip() for v in bits[2::2]]
    if bits[0] or len(labels) < 2 or labels != list("abcdefgh"[: len(labels)]) or not all(vals):
        return ans
    return f"({', '.join(vals)})"  # (in order: a tuple, not a list matched as a set)


_SENTENCE_BREAK_RE = re.compile(r"(?<=[.;])\s+")
# "2 + 3 =", "3 \\times 4 =": a computation, not a name's value
_COMPUTED_RE = re.compile(r"[-+(\s$]*\d[^=]*?(?:[-+*/^\u00d7\u00f7\u22c5]|\\(?:times|cdot|div)(?![A-Za-z]))[^=]*=")


def _one_line_chain(s: str) -> bool:
    """Whether one line is a derivation of several sentences, each a computation: "2 + 3 = 5. 5 + 1 = 6." (read whole
    it was no value, while the same steps on two lines read their last value). The last sentence may be any text: a
    completion cut at its token limit ("8 * 9 = 72. 72 - 17 = 54. 5") was read whole as its own answer, no bare answer
    (while the same steps on lines read their last value)."""
    parts = [p for p in _SENTENCE_BREAK_RE.split(s) if p]
    return len(parts) >= 2 and all(_COMPUTED_RE.match(p) for p in parts[:-1])


def _drop_stray_braces(ans: str) -> str:
    """The answer without close braces at its end that close no group ("The answer is 31}." read "31}", which parsed
    as nothing: the right 31 scored wrong)."""
    excess = ans.count("}") - ans.count("{")
    while excess > 0 and ans.endswith("}") and not ans.endswith("\\}"):
        ans, excess = ans[:-1].rstrip(), excess - 1
    return ans


# a product written with a spaced letter x that an "=" goes on from: "3 x 4 = 12" (read with x a variable, the
# equation in x scored 0 for the gold 12; "3 x 4" alone, a size, is left as written)
_TIMES_X_CHAIN_RE = re.compile(r"-?\d+(?:\.\d+)?(?:[ \t]+[xX][ \t]+-?\d+(?:\.\d+)?)+(?=[ \t]*=)")
_SPACED_X_RE = re.compile(r"[ \t]+[xX][ \t]+")
# ... and scientific notation, a number times a power of ten: "1.8 x 10^3", "3 x 10^{-5}"
_SCI_X_RE = re.compile(r"(-?\d+(?:\.\d+)?)[ \t]+[xX][ \t]+10[ \t]*\^[ \t]*(?:-?\d+|\{[ \t]*-?\d+[ \t]*\})(?![\d^])")


def _times_x_chain(ans: str) -> str:
    if (m := _TIMES_X_CHAIN_RE.match(ans)) is None:
        if (m := _SCI_X_RE.match(ans)) is not None:  # "1.8 x 10^3" is 1800 (read as x * 10^3, it scored 0)
            return m.group(1) + _SPACED_X_RE.sub(r" \\times ", ans[m.end(1) :], count=1)
        return ans
    return _SPACED_X_RE.sub(r" \\times ", m.group()) + ans[m.end() :]


# an answer phrase's value followed by the computation that gives it in parentheses: "12 (3 \\times 4)", "12 (4 + 8)"
# (read whole, the product 12 (12) or an unparseable text, the right 12 scored 0); one kind of operator, read left to
# right (in a box, or unspaced, "2(1 + 1)" stays a product)
_RESTATED_COMPUTATION_RE = re.compile(r"(" + _NUM + r")[ \t]+\([ \t]*(" + _COMPUTATION + r")[ \t]*\)")
# (what goes on after it is computed with it: "3 (5 - 2) = 9" is a product)
_PAREN_COMPUTATION_RE = re.compile(r"\([ \t]*(" + _COMPUTATION + r")[ \t]*\)(?![ \t]*(?:[-+*/^=\d\\(\u00d7\u22c5]|[xX][ \t]))")
_COMPUTATION_STEP_RE = re.compile(r"([-+*/\u00d7\u22c5xX]|\\times|\\cdot|\\div)[ \t]*(" + _NUM + ")")


def _computed(expr: str) -> Fraction | None:
    """The value of a _MIXED_COMPUTATION (products and quotients before sums, each left to right; one kind of
    operator, a _COMPUTATION, is left to right), None on a division by zero."""
    first = re.match(_NUM, expr)
    total, sign, term = Fraction(0), 1, Fraction(first.group())
    for op, num in _COMPUTATION_STEP_RE.findall(expr, first.end()):
        v = Fraction(num)
        if op in ("+", "-"):
            total, sign, term = total + sign * term, 1 if op == "+" else -1, v
        elif op in ("/", "\\div"):
            if v == 0:
                return None
            term /= v
        else:
            term *= v
    return total + sign * term


def _restated_computation(ans: str) -> str:
    m = _RESTATED_COMPUTATION_RE.fullmatch(ans) if len(ans) <= 120 else None
    return m.group(1) if m is not None and _computed(m.group(2)) == Fraction(m.group(1)) else ans


def _paren_computes(s: str, j: int, num: str) -> bool:
    """Whether the parenthesis at s[j] holds a computation equal to the number `num` before it: "12 (3 x 4)"."""
    m = _PAREN_COMPUTATION_RE.match(s, j)
    return m is not None and re.fullmatch(r"-?" + _NUM, num) is not None and _computed(m.group(1)) == Fraction(num)


_END_TOKEN_RE = re.compile(
    r"<\|(?:im_end|im_start|endoftext|end_of_text|eot_id|start_header_id|end|user)\|>|<end_of_turn>|<eos>"
    "|<\uff5c(?:end\u2581of\u2581sentence|User)\uff5c>"  # DeepSeek's, with its full-width bars
)
# Llama 2's and Mistral's end of sequence "</s>" is also HTML's strikethrough close: one that closes a "<s>" opened before
# it ("The answer is <s>6</s> 7") is a tag, one that closes none ("The answer is 6</s>Question: ... Answer: 7") the end
_STRIKE_OR_EOS_RE = re.compile(r"<[sS](?:\s[^<>]{0,200})?>|</[sS]>")


def _end_of_text(text: str) -> int:
    """Where the first end-of-turn or end-of-sequence token starts (_END_TOKEN_RE, an unmatched "</s>"), or -1."""
    end = _END_TOKEN_RE.search(text) if "<" in text else None
    cut = end.start() if end is not None else -1
    if "</s>" in text:
        depth = 0
        for n, m in enumerate(_STRIKE_OR_EOS_RE.finditer(text, 0, cut if cut >= 0 else len(text))):
            if n >= 256:
                break  # (a degenerate run of strike tags: left uncut, as before "</s>" ended anything)
            if m.group()[1] != "/":
                depth += 1
            elif depth > 0:
                depth -= 1
            elif m.group() == "</s>":
                return m.start()
    return cut


# A base model sampled without a chat template answers, then goes on with a made-up next turn in its prompt's format,
# with no special token: "\\boxed{6}.\n\nProblem: What is 3 + 4?\nSolution: ... \\boxed{7}." read "6, 7", "The answer
# is 6.\n\nQ: What is 3 + 4?\nA: The answer is 7." read 7 (scored for the made-up turn's value). Evaluation harnesses
# stop generation at these openers (lm-evaluation-harness: "Question:" for gsm8k, "Q:" for gsm8k_cot, "Problem:" for
# minerva_math; Qwen2.5-Math's evaluation: "\n\nQuestion:", "\n### Problem", "\n\n## Question", "Instruction"; chat
# completions: "\nUser:", "\nHuman:"). Here an opener ends the completion where it starts a line (inside one, see
# _INLINE_TURN_OPENER_RE), after an answer concluded before it, with a reply marker after it (the made-up turn is
# answered): an echo of the problem before the answer, "Question: is 7 prime?" mid-reasoning, or a made-up problem cut
# off before its reply read as before.
# A numbered one ("Question 2:", "Problem #3:", "Q2:", its reply "A2:" too) is a few-shot prompt's next item the same
# way ("The answer is 6.\n\nQuestion 2: What is 3 + 4?\nAnswer: 7" read 7), unless the completion numbered its own
# problems before it ("Problem 1: ... Problem 2: ...": the sub-problems of its answer; a heading, "### Problem 2", is
# cut as before). ("Example 2:" is no opener: a model tries examples after its answer, and no harness stops there; nor
# is "Part 2:".)
_TURN_OPENER_RE = re.compile(
    r"^[ \t>]*(?:(?:\*\*|__)?(?:(Problem|Question|Q)(?:[ \t]?#?(\d{1,3}))?|Human|User|Instruction)(?:\*\*|__)?[ \t]*:"
    r"|#{2,4}[ \t]*(?:Problem|Question|Instruction)\b)",
    re.M,
)
# An opener inside a line ("The answer is 6. Question: What is 3 + 4? Answer: 7" read 7), as a one-line few-shot
# prompt has it, ends the completion on stricter terms, as the writer's own question and answer inside its prose is more
# likely there: right after a sentence that itself concludes the answer, its made-up problem a question ending in "?"
# with a number in it and in no first person, then a reply marker ("So the answer is 6. Q: Did I miss 0? A: Yes, 7."
# is the writer checking its answer: read as before).
_INLINE_TURN_OPENER_RE = re.compile(
    r"(?<=[.!])[ \t]{1,3}(?:\*\*|__)?(?:(Problem|Question|Q)(?:[ \t]?#?(\d{1,3}))?|Human|User)(?:\*\*|__)?[ \t]*:"
)
_FIRST_PERSON_RE = re.compile(r"\b(?:I|[Mm]e|[Mm]y|[Ww]e|[Uu]s|[Oo]ur)\b")
_TURN_REPLY_RE = re.compile(
    r"(?:^|(?<=\s))(?:(?:\*\*|__)?(?:(?:Solution|Answer|A)(?:[ \t]?\d{1,3})?|Assistant|AI|Response)(?:\*\*|__)?[ \t]*:"
    r"|#{2,4}[ \t]*(?:Solution|Answer|Response)\b)",
    re.M,
)
# a question about the answer just given, not a new problem ("Q: Is that right? A: No, it is 7." revises it)
_SELF_CHECK_RE = re.compile(
    r"\b(?:correct|wrong|mistake|sure|check|verify|double-check|(?:is|was|am) (?:it|this|that|I) right"
    r"|(?:this|that|my|our|the above|the previous|the same) (?:answer|result|solution|value|step|work))\b",
    re.I,
)
_GSM8K_MARK_RE = re.compile(r"^[ \t]*####[ \t]*\$?[ \t]*[-+]?\d", re.M)  # GSM8K's final line "#### 72"


def _bare_answer(s: str) -> bool:
    """Whether a text is one short line of math alone (" 6" after a prompt's "Answer:"), as _extract takes it whole."""
    s = s.strip()
    return 0 < len(s) <= 300 and "\n" not in s and not _one_line_chain(s) and _unknown_words(s) == 0


def _concluded(head: str) -> bool:
    """Whether a text has concluded an answer: a box, an answer phrase with a value, GSM8K's "#### 72", or a bare one."""
    if _last_box(head)[0] >= 0 or _GSM8K_MARK_RE.search(head) is not None:
        return True
    low = head.lower()
    if any(p in low for p in _PHRASES) and (phr := _phrase_answer(head)[1]) is not None and _mathy(phr):
        return True
    return _bare_answer(head)


def _made_up_turn(text: str) -> int:
    """Where a made-up next turn starts after the concluded answer (see _TURN_OPENER_RE), or -1."""
    tries = 0
    for m in _TURN_OPENER_RE.finditer(text):
        head = text[: m.start()]
        if not head.strip():
            continue  # the problem echoed before any answer
        tries += 1
        if tries > 8:
            return -1  # (a check is a pass over the head: a degenerate run of openers must not make it quadratic)
        if m.group(2) is not None and re.search(r"^[ \t>*_]*" + m.group(1) + r"[ \t]?#?\d", head, re.M) is not None:
            continue  # the completion's own numbered problems ("Problem 1: ... Problem 2: ..."), not a made-up next one
        if _concluded(head):
            reply = _TURN_REPLY_RE.search(text, m.end())
            if reply is None or _SELF_CHECK_RE.search(text, m.end(), min(reply.start(), m.end() + 300)) is not None:
                return -1  # a made-up problem cut off before its reply, or the writer's question about its own answer
            return m.start()
    return _inline_turn(text)


def _inline_turn(text: str) -> int:
    """Where a made-up next turn opened inside a line starts (see _INLINE_TURN_OPENER_RE), or -1."""
    for tries, m in enumerate(_INLINE_TURN_OPENER_RE.finditer(text)):
        if tries >= 8:
            return -1  # (as in _made_up_turn: each check is a pass over the text before it)
        stop = m.start()  # just after the sentence's "." or "!"
        if m.group(2) is not None and re.compile(r"\b" + m.group(1) + r"[ \t]?#?\d").search(text, 0, stop) is not None:
            continue  # the completion's own numbered problems, as in _made_up_turn
        # (the sentence starts after the last line break or sentence end ". ", "? ", "! " before it)
        start = text.rfind("\n", 0, stop) + 1
        for end in (". ", "? ", "! "):
            if (i := text.rfind(end, start, stop - 1)) >= 0:
                start = i + 2
        if not _concluded(text[start:stop]):
            continue  # no answer concluded in the sentence right before it
        reply = _TURN_REPLY_RE.search(text, m.end(), m.end() + 400)
        if reply is None:
            continue
        question = text[m.end() : reply.start()].rstrip()
        if (
            question.endswith("?")
            and any(c.isdigit() for c in question)
            and _FIRST_PERSON_RE.search(question) is None
            and _SELF_CHECK_RE.search(question) is None
        ):
            return m.start()
    return -1


def _extract(text: str, lenient: bool) -> tuple[str | None, str]:
    """(answer, reason). `lenient` is for golds: an unbalanced box takes the rest, and a short gold
    is its own answer."""
    if len(text) > MAX_COMPLETION_CHARS:
        return None, "too long"
    if "\x00" in text:
        text = text.replace("\x00", "")
    # a chat model's end-of-turn or end-of-text token ends the completion: what a sampler that did not stop there wrote
    # after it ("<|endoftext|>Question: ... Answer: 7", "<|im_end|>\n<|im_start|>user ...") is no answer of its own (read
    # last, the made-up next question's value scored), and "The answer is 6<|im_end|>" read "6<|im_end|>", no value
    # (Llama 2's and Mistral's "</s>", Gemma's "<eos>" and DeepSeek's "<\uff5cend\u2581of\u2581sentence\uff5c>" too:
    # "The answer is 6</s>Question: what is 3+4? Answer: 7" read 7)
    if "<" in text and (end := _end_of_text(text)) >= 0:
        text = text[:end]
    # invisible characters: "o\u200br" is "or" ("\boxed{4} o\u200br 3" hid its hedge)
    if not text.isascii() and any(z in text for z in _INVISIBLE_CHARS):
        text = text.translate(_INVISIBLE)
    # inline HTML does not show: "Answer: <b>6</b>", "Answer: 6<br>", "6 &mdash; done" read with their tags
    if "<" in text or "&" in text:
        text = _unhtml(text)
    # the answer follows the FIRST "</think>" (what a reasoning parser shows): from the last, a policy escaped the
    # hedge rule by writing "</think>" between its candidates ("\\boxed{5}. Alternatively, </think> \\boxed{6}")
    k = text.find("</think>")
    if k >= 0:
        # a later "</think>" is not part of the answer: left in, its 8 characters parted a draft box from the
        # final one ("\\boxed{3}. </think> \\boxed{4}" read as 4 alone, while "\\boxed{3}. \\boxed{4}" is a hedge)
        text = text[k + len("</think>") :].replace("</think>", "")
    elif "<think>" in text and not lenient:
        return None, "no answer"  # still thinking: truncated
    if "\\\\boxed" in text or "\\\\fbox" in text:
        text = text.replace("\\\\boxed", "\\boxed").replace("\\\\fbox", "\\fbox")
    if not lenient:
        # a run of emphasis marks, "$" or TeX spacing reads as one blank, as a run of blanks does ("\\boxed{4}" + "$" *
        # 1,000 + "Wait, 5" put the revision past the windows read after the box: 4 scored, where with 100 it did not)
        text = _squeeze_filler(text)
    if not lenient and (":" in text or "##" in text):
        if (turn := _made_up_turn(text)) >= 0:
            text = text[:turn]  # what follows is a made-up next problem and its answer (see _TURN_OPENER_RE)
    ans: str | None = None
    why = "no answer"
    box = _boxes(text, lenient)
    if box is not None:
        ans, why = box
        if ans is not None:
            # a final-answer phrase after the last box means the model revised its answer
            # (after the box's end: "\\boxed{\\text{The answer is } 4}" gave the answer "} 4}")
            last_box, clen = _last_box(text)
            box_end = _box_content(text, last_box, clen, len(text), lenient)[1]
            phrased = False
            if box_end > 0 and ("nswer" in text[box_end:] or "NSWER" in text[box_end:]):
                pos, phr = _phrase_answer(text)
                if pos >= box_end and phr is not None and "\\boxed" not in text[pos:] and _mathy(phr):
                    phrased = True
                    # "\boxed{3}. Maybe the answer is 5.", "Otherwise, the answer is 5": a phrase offered as another
                    # answer is a hedge, not a revision (read as 5 alone, it scored for the gold 5)
                    gap = _fold(text[box_end:pos])
                    # ("\boxed{3}. Second answer: 5." offers one more: read as 5 alone, it scored for the gold 5)
                    sent = _fold(text[pos : pos + 300])
                    tagged = _ALT_TAG_RE.search(sent, 0, _sentence_end(sent, 0)) is not None  # "Answer: 6 (alternative)"
                    hedged = tagged or (len(gap) <= 60 and (_offers_other(gap) or _SECOND_ANSWER_RE.search(gap) is not None))
                    phr = _ALT_TAG_RE.sub("", phr).strip() if tagged else phr
                    if hedged and _REJECTED_RE.search(sent, 0, _sentence_end(sent, 0)):
                        pass  # "Another answer is 5, which fails.": no other answer offered
                    elif hedged:
                        h = _hedge(text, box_end, box=True)  # (the box's own hedge is this phrase: offered once)
                        ans = f"{ans[: -len(h)].rstrip() if h and ans.endswith(h) else ans} or {phr}"
                    else:
                        ans = phr
            if not phrased and not lenient and box_end > 0 and (
                (r_end := _retraction_end(text, box_end)) >= 0
                or (r_end := _box_denied_end(text, box_end)) >= 0
            ):
                # "\boxed{6}, that's wrong, it is 7.", "\boxed{6}. That is wrong.", "\boxed{6} (which is a mistake)",
                # "\boxed{6}. Wrong, it is 7.": the box is taken back (read as 6, it scored for the gold 6): the value the
                # text turns to, else no answer
                rv = _RETRACTED_TO_RE.match(text, r_end)
                if rv is None:
                    return None, "no answer"
                ans = rv.group(1)
            elif not phrased and not lenient and box_end > 0 and (rev := _prose_revision(text[box_end:], ans)) is not None:
                # "\boxed{5}. Actually it's 6.": the model's own correction offers another final value; read as 5 it
                # was ignored, read as 6 a policy could box one value and revise to another: a hedge, scored for neither
                ans = f"{ans} or {rev}"
    else:
        pos, phr = _phrase_answer(text)
        if phr is not None and phr.strip(" .:").lower() not in _NOT_ANSWERS:
            ans, why = (phr if lenient else _restated_computation(phr.strip())), "ok"
            if not lenient and pos >= 0 and (rev := _prose_revision(text[pos:], phr)) is not None:
                ans = f"{ans} or {rev}"  # "The answer is 5. Actually it's 6.": a hedge, as after a box
        else:
            stripped = text.strip()
            m = _EMPHASIS_RE.fullmatch(stripped)
            if m:  # "**12**": Markdown emphasis around the whole answer
                stripped = (m.group(2) or m.group(4)).strip()
            # The whole text is the answer when it is one short line of math; several lines of it are a
            # derivation (often cut off by the token limit), whose last standalone value _tail_candidate finds.
            if (
                stripped
                and len(stripped) <= 300
                and ("\n" not in stripped or lenient)
                and (lenient or not _one_line_chain(stripped))
                and (_unknown_words(stripped) == 0 or _all_spelled(stripped) or (lenient and not _is_prose(stripped)))
            ):
                ans, why = stripped, "ok"
                if (
                    not lenient
                    and (em := _PAREN_EQ_END_RE.search(stripped))
                    and (head := _reason_head(stripped)) is not None
                    and stripped[: em.start()].strip() == head
                ):
                    # "$2\sqrt{2}$ (= 2.83)" is 2\sqrt{2}, as after an answer phrase ("12 (= 13)" a hedge); only where
                    # the parenthesis ends the line ("10 (= 2 x 5) - 3 = 7" goes on to 7)
                    ans = head
            elif lenient and stripped and len(stripped) <= MAX_ANSWER_CHARS and not _is_prose(stripped):
                ans, why = stripped, "ok"
            else:
                cand = _tail_candidate(text)
                if cand is not None:
                    ans, why = cand, "ok"
    if ans is None:
        return None, why
    ans = _unlabeled_parts(_percent_restated(_spelled_alone(_spelled_with_digits(_drop_stray_braces(ans.strip())))))
    if not lenient:
        ans = _times_x_chain(ans)
    if not ans or _junk(ans):
        return None, "no answer"
    if len(ans) > MAX_ANSWER_CHARS:
        return None, "too long"
    return ans, "ok"


# ----------------------------------------------------------------------------------------------
# Cleaning
# ----------------------------------------------------------------------------------------------

# Degrees are marked, not dropped: a degree sign is ignored ("90^\\circ" is 90) except inside the
# argument of a trig function, where it converts to radians ("\\sin 30^\\circ" is 1/2).
_DEG = "\x05"
_TRIG = frozenset("sin cos tan sec csc cot".split())

_UNICODE = {
    # a check mark after the answer marks it checked ("18 \u2713" read as a product scored 0)
    "\u2713": " ",
    "\u2714": " ",
    "\u2705": " ",
    "\u2611": " ",
    "\ufe0f": "",
    "\u2212": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00d7": "*",
    "\u00b7": "*",
    "\u22c5": "*",
    "\u2217": "*",
    "\u00f7": "/",
    "\u03c0": "\\pi ",
    "\u221a": "\\sqrt ",
    "\u221b": "\\sqrt[3]",
    "\u221c": "\\sqrt[4]",
    "\u230a": "\\lfloor ",
    "\u230b": "\\rfloor ",
    "\u2308": "\\lceil ",
    "\u2309": "\\rceil ",
    "\u221e": "\\infty ",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2a7d": "<=",  # slanted forms (\leqslant)
    "\u2a7e": ">=",
    "\u2260": "!=",
    "\u00b1": "\\pm ",
    "\u2213": "\\mp ",
    "\u222a": "\\cup ",
    "\u2229": "\\cap ",
    "\u2208": "\\in ",
    "\u00b0": "\x05",  # degree sign: see _DEG
    "\u20ac": "",
    "\u00a3": "",
    "\u00a5": "",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u2248": "\\approx ",
    "\u2205": "\\emptyset ",
    "\u211d": "\\mathbb{R}",
    "\u2026": "\\dots ",
    "\u03b1": "\\alpha ",
    "\u03b2": "\\beta ",
    "\u03b3": "\\gamma ",
    "\u03b8": "\\theta ",
    "\u03bb": "\\lambda ",
    "\u03bc": "\\mu ",
    "\u03c3": "\\sigma ",
    "\u03c6": "\\phi ",
    "\u03c9": "\\omega ",
    "\u2032": "'",
    "\u3000": " ",
    "\uff0c": ",",
    "\u2192": "\\to ",
    # other minus signs and hyphens written for a minus (U+2010 hyphen, U+FE63 small hyphen-minus, ...)
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\ufe63": "-",
    "\u2796": "-",
    "\ufe62": "+",
    "\u2795": "+",
    # invisible: zero-width space, non-joiner, joiner, word joiner, BOM, soft hyphen ("3\u200b" is 3)
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",
    "\u00ad": "",
}
# full-width digits and signs are their ASCII forms, as NFKC has them (U+FF13 U+FF0F U+FF14 is 3/4)
_UNICODE.update({chr(0xFF10 + d): str(d) for d in range(10)})
_UNICODE.update({chr(0xFEE0 + ord(c)): c for c in "+-*/=<>()[].^!|:;"})
_UNICODE_TABLE = str.maketrans(_UNICODE)
# Vulgar fractions become \frac so that "2½" is the mixed number 5/2, as "2\frac{1}{2}" is (a
# parenthesized "(1/2)" would make it the product 1).
_VULGAR = {
    "\u00bd": (1, 2),
    "\u2153": (1, 3),
    "\u2154": (2, 3),
    "\u00bc": (1, 4),
    "\u00be": (3, 4),
    "\u2155": (1, 5),
    "\u2156": (2, 5),
    "\u2157": (3, 5),
    "\u2158": (4, 5),
    "\u2159": (1, 6),
    "\u215a": (5, 6),
    "\u2150": (1, 7),
    "\u215b": (1, 8),
    "\u215c": (3, 8),
    "\u215d": (5, 8),
    "\u215e": (7, 8),
    "\u2151": (1, 9),
    "\u2152": (1, 10),
}
_VULGAR_TABLE = str.maketrans({c: f"\\frac{{{a}}}{{{b}}}" for c, (a, b) in _VULGAR.items()})
# A run of superscript characters is one exponent: "2¹⁰" is 2^{10} (not 2^1^0), "10⁻³" is 10^{-3}.
_SUPERSCRIPTS = {
    "\u2070": "0",
    "\u00b9": "1",
    "\u00b2": "2",
    "\u00b3": "3",
    "\u2074": "4",
    "\u2075": "5",
    "\u2076": "6",
    "\u2077": "7",
    "\u2078": "8",
    "\u2079": "9",
    "\u207a": "+",
    "\u207b": "-",
    "\u207d": "(",
    "\u207e": ")",
    "\u207f": "n",
}
_SUPERSCRIPT_RE = re.compile("[" + "".join(_SUPERSCRIPTS) + "]+")
_SUPERSCRIPT_TABLE = str.maketrans(_SUPERSCRIPTS)
_REPLACEMENTS = (
    (",\\!", "\x01"),
    ("{,}", "\x01"),
    ("{, }", "\x01"),
    ("\\dfrac", "\\frac"),
    ("\\tfrac", "\\frac"),
    ("\\cfrac", "\\frac"),
    ("\\dbinom", "\\binom"),
    ("\\tbinom", "\\binom"),
    ("^{\\circ}", _DEG),
    ("^\\circ", _DEG),
    ("^{\\circ", "{"),
    ("\\%", ""),
    ("%", ""),
    ("\\textdollar{}", " "),  # the text-mode dollar sign: "\\boxed{\\textdollar 5}" was unparseable
    ("\\textdollar", " "),
    ("\\$", " "),
    ("$", " "),
    ("\\displaystyle", " "),
    ("\\textstyle", " "),
    ("\\!", ""),
    ("\\,", " "),
    ("\\;", " "),
    ("\\:", " "),
    ("\\ ", " "),
    ("~", " "),
    ("\\left.", " "),
    ("\\right.", " "),
    ("\\(", " "),
    ("\\)", " "),
    ("\\[", " "),
    ("\\]", " "),
    ("**", "^"),
    ("\\{", "\x02"),
    ("\\}", "\x03"),
)
_SIZE_RE = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)(?![A-Za-z])"
)
# "{n \\choose k}" and "{a \\over b}" are infix TeX for \\binom{n}{k} and \\frac{a}{b} (read as prefix commands
# they were unparseable); an infix command splits its group, or the whole formula outside any group
_INFIX_RE = re.compile(r"\\(choose|over)(?![A-Za-z])")


def _infix_to_prefix(s: str) -> str:
    for _ in range(MAX_DEPTH):
        m = _INFIX_RE.search(s)
        if m is None:
            return s
        depth, i = 0, m.start() - 1
        while i >= 0 and not (s[i] == "{" and depth == 0):
            depth += (s[i] == "}") - (s[i] == "{")
            i -= 1
        depth, j = 0, m.end()
        while j < len(s) and not (s[j] == "}" and depth == 0):
            depth += (s[j] == "{") - (s[j] == "}")
            j += 1
        if (i < 0) != (j >= len(s)):
            return s  # unbalanced: left as it is (unparseable)
        cmd = "\\binom" if m.group(1) == "choose" else "\\frac"
        s = f"{s[: i + 1]}{cmd}{{{s[i + 1 : m.start()].strip()}}}{{{s[m.end() : j].strip()}}}{s[j:]}"
    return s
_GLUED_SEP_RE = re.compile(r"(?<=[0-9)\]])(or|and)(?=[A-Z(\[0-9\\])")


# a degree sign alone in text or in a superscript ("45\text{°}", "45^{°}") is the degree sign, as "45°" is
_DEG_GROUP_RE = re.compile(r"(?:\^\s*|\\(?:text|textrm|textnormal|mbox|mathrm)\s*)\{\s*\x05\s*\}|\^\s*\x05")


_SCALE_WORDS = r"((?:(?:thousand|million|billion|hundred)(?![A-Za-z])\s*)+)"
# a plain number with scale words, bare or in text, and what follows them ("3 million dollars", "3 \text{ million}")
_SCALED_NUMBER_RE = re.compile(
    r"\$?\s*([-+]?\d+(?:\.\d+)?)\$?(?:[ \t~$]|\\[,;! ])*(?:\\(?:text|mathrm|textrm|mbox)\s*\{\s*" + _SCALE_WORDS + r"\}|"
    + _SCALE_WORDS + r")(.*)",
    re.I | re.S,
)


# an ordinal is the number it counts: "6th", "6^{th}", "6^{\text{th}}", "21st" are 6, 6, 6, 21 (as "6\text{th}",
# its text dropped, already read; math-verify reads "6th" as 6 too): read as "6th" or 6^{t h}, the right 6 scored 0
_ORDINAL_RE = re.compile(
    r"(?<![A-Za-z0-9_.\\])([0-9]+)(?:(st|nd|rd|th)|\s*\^\s*(?:\{\s*(?:\\(?:text|mathrm|textrm)\s*\{\s*(st|nd|rd|th)\s*\}"
    r"|(st|nd|rd|th))\s*\}|\\(?:text|mathrm|textrm)\s*\{\s*(st|nd|rd|th)\s*\}))(?![A-Za-z0-9])"
)

_ORDINAL_TEXT_RE = re.compile(r"^\\(?:text|mathrm|textrm|mbox)\s*\{\s*([0-9]+[a-z]{2})\s*\}$")  # ("\\text{6th}")
# a noun of a place in a sequence after the ordinal: "\\boxed{6th term}", "\\text{3rd row}" read as 6, 3, as "The answer is
# the 6th term." does (a grader of "which term?" takes it; "2nd derivative", "3rd quartile" name no place and stay)
_PLACE_NOUN = r"(?:term|row|column|position|place|step|element|entry|digit|page|floor|day|week|month|year|round|turn|move|stage|level|letter|seat|item|card)"
_ORDINAL_NOUN_RE = re.compile(
    r"^(?:\\(?:text|mathrm|textrm|mbox)\s*\{\s*([0-9]+[a-z]{2})(?:\s|~|\\[ ,;])+" + _PLACE_NOUN + r"\s*\}"
    # (the blanks before the noun read once, "(?<![\s~])": the lazy group stops at no blank that the blanks after it read
    # too, and (?!...) after them: "\\boxed{1st" + 300 tabs + "x}" took 1.9 s, a 1,000-character answer a minute)
    r"|(.*?)(?<![\s~])(?:\s|~|\\[ ,;])*(?!\s|~|\\[ ,;])(?:\\(?:text|mathrm|textrm|mbox)\s*\{(?:\s|~|\\[ ,;])*(?!\s|~|\\[ ,;]))?"
    + _PLACE_NOUN + r"\s*\}?)$",
    re.I,
)


def _ordinal_suffix(n: int) -> str:
    """The suffix of the ordinal n: 1st 2nd 3rd 4th 11th 12th 13th 21st 101st 111th. An ordinal is read as its number
    only as the whole answer with its own suffix: read anywhere, "\\boxed{2nd derivative}", "\\boxed{x = 4th}" and
    "\\boxed{2th}" scored for 2, 4 and 2."""
    return "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


_AM_PM_DOTS_RE = re.compile(r"(\d[ \t]*(?:\\(?:text|mathrm|mbox)\s*\{\s*)?)([AaPp])\.[ \t]?([Mm])\.?(?![A-Za-z])")


def _clean(s: str) -> str:
    s = _collapse_double_escapes(s)
    if "nswer" in s or "NSWER" in s:
        s = _unphrased(s)
    if not s.isascii():
        s = _SUPERSCRIPT_RE.sub(lambda m: "^{" + m.group().translate(_SUPERSCRIPT_TABLE) + "}", s)
        s = s.translate(_VULGAR_TABLE).translate(_UNICODE_TABLE)
        if _DEG in s:
            s = _DEG_GROUP_RE.sub(_DEG, s)
    s = _SIZE_RE.sub(" ", s)
    s = s.replace("\\\\", "\x04")  # protect row breaks from the "\\ " / "\\[" rules below
    for a, b in _REPLACEMENTS:
        if a in s:
            s = s.replace(a, b)
    if "\\choose" in s or "\\over" in s:  # (escaped braces are still \x02/\x03 here: they match no "{")
        s = _infix_to_prefix(s)
    s = s.replace("\x02", "\\{").replace("\x03", "\\}").replace("\x04", "\\\\")
    if "or" in s or "and" in s:  # (as in _unknown_words)
        s = _GLUED_SEP_RE.sub(r" \1 ", s)
    s = s.strip()
    while s and s[-1] in ".;,:" and not s.endswith("\\:"):
        s = s[:-1].rstrip()
    if ("st" in s or "nd" in s or "rd" in s or "th" in s) and (
        om := _ORDINAL_RE.fullmatch(s) or _ORDINAL_RE.fullmatch(_ORDINAL_TEXT_RE.sub(r"\1", s)) or (
            (nm := _ORDINAL_NOUN_RE.match(s)) is not None
            and (_ORDINAL_RE.fullmatch(t := (nm.group(1) or nm.group(2) or "").strip())
                 or _ORDINAL_RE.fullmatch(_ORDINAL_TEXT_RE.sub(r"\1", t)))
        )
    ):
        if _ordinal_suffix(int(om.group(1))) == next(g for g in om.groups()[1:] if g).lower():
            s = om.group(1)
    if ".m" in s or ".M" in s:
        s = _AM_PM_DOTS_RE.sub(r"\1 \2\3", s)  # "2:30 p.m." is "2:30 pm", "4p.m." "4 pm" (read as p*m, the right time scored 0)
    if ("illion" in s or "housand" in s or "undred" in s) and (m := _SCALED_NUMBER_RE.fullmatch(s)) is not None:
        # "3 million" is 3000000, as "\boxed{3} million" is (read as 3 and a unit, it matched no 3000000)
        s = (_scaled(m.group(1), m.group(2) or m.group(3)) + " " + m.group(4)).rstrip()
    return s


# ----------------------------------------------------------------------------------------------
# Tokenizer
# ----------------------------------------------------------------------------------------------

_FUNCS = frozenset(
    "sin cos tan sec csc cot arcsin arccos arctan arcsec arccsc arccot sinh cosh tanh log ln exp lg "
    "abs det gcd lcm max min floor ceil".split()
)
_OPTION_LIST_RE = re.compile(r"\(?[A-E]\)?(?:\s*(?:,|;|and)\s*\(?[A-E]\)?)+")
_TEXT_CMDS = frozenset("text textbf textit textnormal textrm textsf texttt mbox hbox emph".split())
_FONT_CMDS = frozenset(
    "mathrm mathbf mathit mathsf mathtt operatorname boldsymbol mathnormal bm rm bf".split()
)
_TRANSPARENT = frozenset(
    "boxed fbox overline bar hat vec overrightarrow widehat widetilde tilde underline dot ddot "
    "overleftrightarrow mathring check".split()
)
# (size and style switches only change how an answer looks: "\\boxed{\\large 5}" was the product large*5, wrong)
_SKIP_CMDS = frozenset(
    "quad qquad limits nolimits angle measuredangle triangle circ displaystyle textstyle "
    "hfill space thinspace medspace negthinspace cr "
    "scriptstyle scriptscriptstyle tiny scriptsize footnotesize small normalsize large Large LARGE huge Huge "
    "strut mathstrut".split()
)
# dropped with their argument: a phantom renders as blank space ("\\phantom{4}3" is 3)
_PHANTOM_CMDS = frozenset(("phantom", "hphantom", "vphantom"))
# a colour command's colour argument is dropped, its content stays ("\\textcolor{red}{5}" is 5)
_COLOR_CMDS = frozenset(("color", "textcolor", "colorbox"))
_CMD_OPS = {
    "cdot": "*",
    "times": "*",
    "ast": "*",
    "div": "/",
    "pm": "pm",
    "mp": "mp",
    "le": "<=",
    "leq": "<=",
    "leqslant": "<=",
    "ge": ">=",
    "geq": ">=",
    "geqslant": ">=",
    "lt": "<",
    "gt": ">",
    "ne": "!=",
    "neq": "!=",
    "approx": "~",
    "sim": "~",
    "simeq": "~",
    "approxeq": "~",
    "thickapprox": "~",
    "in": "in",
    "cup": "cup",
    "cap": "cap",
    "setminus": "setminus",
    "equiv": "equiv",
    "colon": ":",
    "vert": "|",
    "lvert": "|",
    "rvert": "|",
    "mid": "|",
    "to": "->",
    "rightarrow": "->",
    "Rightarrow": "=>",
    "implies": "=>",
    "iff": "=>",
    "wedge": "and",
    "land": "and",
    "lor": "or",
    "vee": "or",
    "lbrace": "\\{",
    "rbrace": "\\}",
    "lbrack": "[",
    "rbrack": "]",
    "langle": "(",
    "rangle": ")",
    "lceil": "lceil",
    "rceil": "rceil",
    "lfloor": "lfloor",
    "rfloor": "rfloor",
}
_GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi rho "
    "sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Sigma Upsilon Phi Psi "
    "Omega".split()
)
_VAR_GREEK = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho", "varsigma": "sigma",
              "varkappa": "kappa"}
_FUNC_LETTERS = frozenset("fghFGHPQWT")


def _read_group(s: str, i: int) -> tuple[str, int]:
    """Content of the braced group starting at s[i] == '{' and the index after it."""
    k = _match_brace(s, i, len(s))
    if k < 0:
        raise _ParseError("unbalanced")
    return s[i + 1 : k], k + 1


def _skip_ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\n\r\f\v":
        i += 1
    return i


def _skip_arg(s: str, i: int) -> int:
    """The index after the argument of a command ending at s[i]: a braced group, a command, or
    one character."""
    i = _skip_ws(s, i)
    if i >= len(s):
        return i
    if s[i] == "{":
        return _read_group(s, i)[1]
    if s[i] == "\\":
        j = i + 1
        while j < len(s) and "a" <= s[j].lower() <= "z":
            j += 1
        return max(j, min(i + 2, len(s)))
    return i + 1


_NO_SOLUTION_RE = re.compile(r"no\s+(?:real\s+|integer\s+)?(?:solutions?|roots?)\.?")
# "all real numbers" (in \text or bare) is the set of the reals, as \mathbb{R} and (-\infty, \infty) are
_ALL_REALS_RE = re.compile(r"(?:the\s+set\s+of\s+)?(?:all|every|any)\s+real(?:s|\s+numbers?|\s+values?)?(?:\s+[a-z])?\.?")
_IMAG_RE = re.compile(r"(?<![A-Za-z\\])i(?![A-Za-z])")


# an accent over one letter makes a symbol of its own, marked with the accent's combining character: "\dot{x}"
# (a derivative), "\hat{x}" (an estimate), "\tilde{x}" are not x ("\vec{v}" is v, the vector named v)
_ACCENT_MARKS = {
    "bar": "\u0304", "overline": "\u0304", "hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303",
    "widetilde": "\u0303", "dot": "\u0307", "ddot": "\u0308", "check": "\u030c", "mathring": "\u030a",
}


def _bar_token(s: str, i: int, sp: bool, name: str = "bar"):
    """(token, index after) for the argument of "\\bar"/"\\overline" (or another accent) at s[i] when it
    changes its value: a single letter becomes a name of its own; an argument with the imaginary unit under
    a bar is a conjugate, which is not read (as the bare argument "\\overline{2+i}" equalled 2+i). None:
    transparent."""
    j = _skip_ws(s, i)
    if j < len(s) and s[j] == "{":
        arg, k = _read_group(s, j)
    elif s[j : j + 1] == "\\":  # "\hat\theta": a command's name
        k = j + 1
        while k < len(s) and s[k].isalpha():
            k += 1
        arg = s[j:k]
    else:
        arg, k = s[j : j + 1], j + 1
    arg = arg.strip()
    if len(arg) == 1 and arg.isalpha():
        return ("id", arg + _ACCENT_MARKS[name], sp), k
    if arg[:1] == "\\" and (arg[1:] in _GREEK or arg[1:] in _VAR_GREEK):  # "\hat{\theta}" is no theta
        return ("id", _VAR_GREEK.get(arg[1:], arg[1:]) + _ACCENT_MARKS[name], sp), k
    if name not in ("bar", "overline"):
        return None
    if _IMAG_RE.search(arg):
        raise _ParseError("complex conjugate")
    return None


_REPEAT_RE = re.compile(r"\\(?:overline|bar)\s*\{\s*([0-9]+)\s*\}")
_PAREN_REPEAT_RE = re.compile(r"\(\s*([0-9]+)\s*\)")


def _is_double(v: Fraction) -> bool:
    try:
        return Fraction(float(v)) == v
    except OverflowError:
        return False


def _tokenize(s: str) -> list[tuple]:
    """Tokens: (kind, value, space_before). Kinds: num (value=(Fraction, raw, float_literal)),
    id, const, op, sep, func, frac, sqrt, binom, text, word, begin, end, sum, prod, reals, empty."""
    toks: list[tuple] = []
    n = len(s)
    i = 0
    bracket = 0
    while i < n:
        c = s[i]
        sp = i > 0 and s[i - 1] in " \t\n"
        if c in " \t\n\r\f\v":
            i += 1
            continue
        if "0" <= c <= "9" or (
            c == "." and i + 1 < n and ("0" <= s[i + 1] <= "9" or _REPEAT_RE.match(s, i + 1))
        ):
            j = i
            while j < n and "0" <= s[j] <= "9":
                j += 1
            digits = s[i:j]
            first = digits
            # thousands separators: explicit (",\!", "{,}") always; "," or one space only outside
            # brackets, with every group exactly three digits and a first group without a leading
            # zero ("0,125" is a decimal comma or a list, never 125)
            while j < n and first and len(first) <= 3 and first[0] != "0":
                sep = s[j]
                if sep == "\x01" or (sep in ", " and bracket == 0):
                    k = j + 1
                    while sep == "\x01" and k < n and s[k] == " ":
                        k += 1
                    if (
                        k + 3 <= n
                        and s[k : k + 3].isdigit()
                        and s[k : k + 3].isascii()
                        and (k + 3 == n or not ("0" <= s[k + 3] <= "9"))
                    ):
                        if sep == " " and not (k + 3 == n or s[k + 3] in " .,)]}$"):
                            break
                        digits += s[k : k + 3]
                        j = k + 3
                        continue
                break
            frac_digits = ""
            if j < n and s[j] == "." and j + 1 < n and "0" <= s[j + 1] <= "9":
                k = j + 1
                while k < n and "0" <= s[k] <= "9":
                    k += 1
                frac_digits = s[j + 1 : k]
                j = k
            # a repeating block: "0.\\overline{3}" is 1/3, "0.1\\overline{6}" is 1/6 (only digits
            # right after a decimal point: "\\overline{AB}" stays a segment)
            rep = None
            if j < n and (frac_digits or s[j] == "."):
                rep = _REPEAT_RE.match(s, j if frac_digits else j + 1)
                if rep is None and not frac_digits:
                    # "0.(3)": the period in parentheses right after the point (as a product "0." * 3 it was 0)
                    rep = _PAREN_REPEAT_RE.match(s, j + 1)
            exp = 0
            if rep is not None:
                block = rep.group(1)
                text = f"{digits or '0'}.{frac_digits}"
                val = Fraction(text) + Fraction(int(block), (10 ** len(block) - 1) * 10 ** len(frac_digits))
                toks.append(("num", (val, f"{text}({block})", False), sp))
                i = rep.end()
                continue
            # scientific notation with or without a fraction or sign: "1e3" is 1000 as "1.0e3" and "1e+3" are
            # (read as 1*e*3 it was 3e, and "5e10" was 50e); a letter after the digits keeps the product
            if j < n and s[j] in "eE" and j + 1 < n and (s[j + 1] in "+-" or "0" <= s[j + 1] <= "9"):
                k = j + 1
                if k < n and s[k] in "+-":
                    k += 1
                k2 = k
                while k2 < n and "0" <= s[k2] <= "9":
                    k2 += 1
                if k2 > k and (k2 == n or not s[k2].isalpha()) and k2 - k <= 4:
                    exp = int(s[j + 1 : k2])
                    j = k2
            text = (digits or "0") + ("." + frac_digits if frac_digits else "")
            val = Fraction(text)
            if exp:
                val *= Fraction(10) ** exp
            sig = len((digits + frac_digits).lstrip("0"))
            # a float literal's flag is its count of significant digits (its last written place, for _printed_eq)
            flt = sig if frac_digits and sig >= _FLOAT_LITERAL_DIGITS and len(frac_digits) <= 20 else False
            if flt and sig > 17 and abs(val) >= 2**53 and not _is_double(val):
                # no printed double: a double past 2^53 is whole and prints ("%.1f") as its exact value, so a number
                # there that is no double is written exactly ("2432902008176640001.0" was 20! within 1e-14)
                flt = False
            toks.append(("num", (val, digits if not frac_digits else text, flt), sp))
            i = j
            continue
        if c.isalpha():
            j = i
            while j < n and s[j].isalpha() and s[j].isascii() == c.isascii():
                j += 1
            word = s[i:j]
            i = j
            if not word.isascii():
                toks.append(("word", word, sp))
                continue
            if len(word) == 1:
                toks.append(("id", word, sp))
                continue
            lw = word.lower()
            if lw in ("and", "or"):
                toks.append(("sep", lw, sp))
            elif lw == "sqrt":
                toks.append(("sqrt", None, sp))
            elif lw in _FUNCS:
                toks.append(("func", lw, sp))
            elif lw == "pi":
                toks.append(("const", "pi", sp))
            elif lw in ("inf", "infty", "infinity", "oo"):
                toks.append(("const", "oo", sp))
            elif lw in ("mod", "pmod"):
                toks.append(("op", "mod", sp))
            else:
                toks.append(("word", word, sp))
            continue
        if c == "\\":
            if i + 1 < n and s[i + 1] == "\\":
                toks.append(("op", "\\\\", sp))
                i += 2
                continue
            if i + 1 < n and s[i + 1] in "{}":
                toks.append(("op", "\\" + s[i + 1], sp))
                i += 2
                continue
            if i + 1 < n and s[i + 1] == "|":
                toks.append(("op", "|", sp))
                i += 2
                continue
            j = i + 1
            while j < n and "a" <= s[j].lower() <= "z":
                j += 1
            name = s[i + 1 : j]
            if not name:
                i += 2  # "\#", "\&", stray escapes
                continue
            i = j
            for pre in ("qquad", "quad", "cdot", "times"):
                if name.startswith(pre) and len(name) > len(pre) and name not in _CMD_OPS:
                    s_rest = name[len(pre) :]
                    if pre in ("cdot", "times"):
                        toks.append(("op", "*", sp))
                    toks.extend(_tokenize(s_rest))
                    name = ""
                    break
            if not name:
                continue
            if name == "not":
                # "\not=" is "\neq"; any other negated relation is unparseable. As an opaque name,
                # "x \not= 4" was the equation "x*not = 4", which answers 4.
                i = _skip_ws(s, i)
                if i < n and s[i] == "=":
                    toks.append(("op", "!=", sp))
                    i += 1
                    continue
                raise _ParseError("negated relation")
            if name in ("frac", "dfrac", "tfrac", "cfrac"):
                toks.append(("frac", None, sp))
            elif name == "sqrt":
                toks.append(("sqrt", None, sp))
            elif name in ("binom", "dbinom", "tbinom", "choose"):
                toks.append(("binom", None, sp))
            elif name in _TEXT_CMDS or name in _FONT_CMDS:
                i = _skip_ws(s, i)
                if i < n and s[i] == "{":
                    content, i = _read_group(s, i)
                elif i < n:
                    content, i = s[i], i + 1
                else:
                    content = ""
                body = content.strip()
                low = body.lower().strip(" ,")
                if not body or body == ".":  # a full stop in text ends the sentence ("5\\text{.}" is 5)
                    continue
                if low in ("and", "or", "", "and/or") or body in (",", ";"):
                    toks.append(("sep", "or" if low == "or" else "and", sp))
                elif name in ("mathrm", "rm", "textrm") and toks and (
                    (toks[-1][0] == "num" and _unit_body(body)) or (toks[-1][0] == "deg" and body.strip(" ~") in ("C", "F"))
                ):
                    # an upright unit after a number ("5\\,\\mathrm{m/s}", "3\\mathrm{h}", "10^\\circ\\mathrm{C}") is
                    # text, dropped as a unit: its letters were variables, so 5 m/s was the product 5*m/s
                    toks.append(("text", body, sp))
                elif name in _FONT_CMDS or (len(body) <= 3 and body.isalpha() and name != "text"):
                    toks.extend(_tokenize(body))
                elif _NUMBER_ONLY_RE.fullmatch(body) or _OPTION_LIST_RE.fullmatch(body):
                    # (options listed in text, "\\text{A, C}", are the list "A, C": as text they matched no gold)
                    toks.extend(_tokenize(body))
                elif (m := _NUMBER_UNIT_RE.fullmatch(body)) and _unit_body(m.group(2)):
                    # a number and a known unit in one text ("\\text{6 ways}", "\\text{12 cm}") as in "6 \\text{ ways}"
                    # (only known units: "\\text{10 AM}" stays text, unequal to "\\text{10 PM}")
                    toks.extend(_tokenize(m.group(1)))
                    toks.append(("text", m.group(2), sp))
                elif _NO_SOLUTION_RE.fullmatch(low):  # the empty solution set, as \\emptyset is
                    toks.append(("empty", None, sp))
                elif _ALL_REALS_RE.fullmatch(low):
                    toks.append(("reals", None, sp))
                else:
                    toks.append(("text", body, sp))
            elif name == "mathbb":
                i = _skip_ws(s, i)
                if i < n and s[i] == "{":
                    content, i = _read_group(s, i)
                else:
                    content, i = s[i : i + 1], i + 1
                if content.strip() == "R":
                    toks.append(("reals", None, sp))
                else:
                    toks.append(("text", "mathbb " + content.strip(), sp))
            elif name in _PHANTOM_CMDS:
                i = _skip_arg(s, i)
            elif name in _COLOR_CMDS:
                i = _skip_ws(s, i)
                if i < n and s[i] == "[":  # \\color[rgb]{1,0,0}
                    k = s.find("]", i)
                    if k < 0:
                        raise _ParseError("bad colour")
                    i = k + 1
                i = _skip_arg(s, i)
            elif name in _ACCENT_MARKS and (bar := _bar_token(s, i, sp, name)) is not None:
                # a barred letter is its own symbol (a conjugate, a mean, a complement): dropping the bar
                # made "\\bar{z} + z" equal 2z; "\\overline{AB}" (a segment) and "\\bar{3}" stay transparent
                tok, i = bar
                toks.append(tok)
            elif name in _TRANSPARENT or name in _SKIP_CMDS:
                continue
            elif name == "begin" or name == "end":
                i = _skip_ws(s, i)
                if i < n and s[i] == "{":
                    env, i = _read_group(s, i)
                else:
                    raise _ParseError("bad environment")
                env = env.strip().rstrip("*")
                if name == "begin" and env == "array":
                    i = _skip_ws(s, i)
                    if i < n and s[i] == "{":
                        _, i = _read_group(s, i)
                toks.append((name, env, sp))
            elif name in ("sum", "prod"):
                toks.append((name, None, sp))
            elif name == "degree":
                if toks:
                    toks.append(("deg", None, sp))
            elif name in _CMD_OPS:
                toks.append(
                    ("op", _CMD_OPS[name], sp) if _CMD_OPS[name] not in ("and", "or") else ("sep", _CMD_OPS[name], sp)
                )
            elif name in ("pi", "varpi"):
                toks.append(("const", "pi", sp))
            elif name in ("infty", "infin", "infinity"):
                toks.append(("const", "oo", sp))
            elif name in ("emptyset", "varnothing", "O"):
                toks.append(("empty", None, sp))
            elif name in ("dots", "ldots", "cdots", "dotsc", "dotsb", "vdots", "dotsm"):
                toks.append(("id", "...", sp))
            elif name == "bmod":  # the binary operator: 7 \bmod 4 = 3
                toks.append(("op", "bmod", sp))
            elif name in ("pmod", "mod"):  # a congruence's modulus: "9 \pmod{11}" is 9
                toks.append(("op", "mod", sp))
            elif name in _FUNCS or name in ("arcsin", "arccos", "arctan"):
                toks.append(("func", name, sp))
            elif name == "exp":
                toks.append(("func", "exp", sp))
            elif name in _GREEK or name in _VAR_GREEK:
                # a letter's variant form is the same letter: \\varphi is \\phi, \\varepsilon is \\epsilon
                toks.append(("id", _VAR_GREEK.get(name, name), sp))
            else:
                toks.append(("id", name, sp))  # unknown command: an opaque name
            continue
        two = s[i : i + 2]
        if two in ("<=", ">=", "!=", "==", "=<", "=>", ":=", "->"):
            op = {"==": "=", "=<": "<=", ":=": "="}.get(two, two)
            toks.append(("op", op, sp))
            i += 2
            continue
        if c in "([":
            bracket += 1
        elif c in ")]":
            bracket = max(0, bracket - 1)
        if c in "+-*/^_!=<>()[]{}|,;:&'":
            toks.append(("op", c, sp))
            i += 1
            continue
        if c == "\x01":
            toks.append(("op", ",", sp))
            i += 1
            continue
        if c == _DEG:
            if toks:  # a degree sign with nothing before it means nothing
                toks.append(("deg", None, sp))
            i += 1
            continue
        if s.startswith("...", i):  # an ellipsis, as \ldots: "1, 2, ..., 10" is not "1, 2, 10"
            toks.append(("id", "...", sp))
            i += 3
            continue
        if c in '."`#':
            i += 1
            continue
        # ("?" in an answer queries it: "\boxed{6?}" is no committed 6, as "about 6" is none; read as 6, it scored)
        raise _ParseError(f"unexpected character {c!r}")
    return toks


_NUMBER_ONLY_RE = re.compile(r"\s*-?\d+(?:\.\d+)?\.?\s*")  # ("\\text{5.}": a number and a full stop)
_NUMBER_UNIT_RE = re.compile(r"(-?\d+(?:\.\d+)?)\s+(\S.*)", re.S)
# A \text{} after a value is dropped as a unit only when it reads as one. Text that names another
# value ("4 \text{ (or 3)}") or qualifies the value ("4 \text{ or more}", "4 \text{ at least}",
# "4 \text{ approximately}") would otherwise be dropped and leave a bare 4: a hedge that scores. A scale
# word multiplies the value: dropped, "3 \text{ million}" was 3. Text that denies the value ("4 \text{ (wrong)}")
# is no unit either.
_QUALIFIER_WORDS = frozenset(
    """or and not no more less fewer least most than minimum maximum max approximately approx about
    around roughly nearly almost maybe possibly perhaps probably ish thereabouts estimate estimated guess guessed
    tentative tentatively unsure uncertain unverified unconfirmed either else
    otherwise unless if except
    plus minus over under above below between to up atleast atmost dozen dozens hundred hundreds
    thousand thousands million millions billion billions trillion trillions wrong incorrect false invalid
    impossible""".split()
)
# A word right after the number that changes its value is no unit either: "4 squared" is 16, "4 thirds" 4/3
# ("cm squared" is a unit: only the first word counts)
_VALUE_WORDS = frozenset(
    """squared cubed factorial inverse reciprocal halves thirds fourths fifths sixths sevenths eighths ninths
    tenths hundredths thousandths millionths""".split()
)
_UNIT_EXP_RE = re.compile(r"\^\s*\{?\s*-?\d+\s*\}?")  # "cm^2", "m^{-1}": an exponent is part of a unit
_ASCII_WORD_RE = re.compile(r"[A-Za-z]+")
_AGE_UNITS = frozenset("year years month months week weeks day days".split())
_PER_UNIT_LETTERS = frozenset("shmgl")  # a one-letter unit after "km/": "km/h", "m/s" ("x/y" after no unit)


_UNIT_PART_RE = re.compile(r"[A-Za-z]+|\^\s*\{?\s*-?\d+\s*\}?|[\s/.*]|\\cdot")


def _unit_body(body: str) -> bool:
    """Is `body` only known unit names, "/", "*", "." and integer exponents ("m/s", "km \\cdot h^{-1}")?"""
    words = _ASCII_WORD_RE.findall(body)
    if not words or any(w != "cdot" and w.lower() not in _UNITS for w in words):
        return False
    return not _UNIT_PART_RE.sub("", body)


def _unit_text(body: str) -> bool:
    if not any(ch.isalpha() for ch in body):
        return False
    if any(ch.isdigit() for ch in _UNIT_EXP_RE.sub("", body)):
        return False
    words = [w.lower() for w in _ASCII_WORD_RE.findall(body)]
    return not any(w in _QUALIFIER_WORDS for w in words) and not (words and words[0] in _VALUE_WORDS)


# ----------------------------------------------------------------------------------------------
# Parser -> tuple AST
#   ('n', Fraction, float_literal)  ('s', name)  ('c', 'pi'|'e'|'i'|'oo')
#   ('+', terms)  ('*', factors)  ('neg', x)  ('inv', x)  ('^', b, e)  ('!', x)
#   ('sqrt', x, index|None)  ('fn', name, args)  ('app', name, args)  ('binom', n, k)
#   ('pm', a, b)  ('pmu', x)  ('sum'|'prod', var, lo, hi, body)
#   ('list', items)  ('tuple', items, open, close)  ('set', items)  ('rel', ops, operands)
#   ('ratio', items)  ('union', parts)  ('setop', op, a, b)  ('mat', rows)  ('text', s)
#   ('based', digits, base)  ('reals',)
# ----------------------------------------------------------------------------------------------

_EOF = ("eof", None, False)
_INEQ_OPS = frozenset(("<", "<=", ">", ">="))
_RELOPS = frozenset(("=", "<", ">", "<=", ">=", "!=", "~", "in", "->", "=>", "equiv"))


class _Parser:
    def __init__(self, toks: list[tuple]):
        self.t = toks
        self.i = 0
        self.depth = 0
        self.abs = 0
        self.matrix = 0
        self.trig = False  # parsing the argument of sin/cos/...: degrees there mean radians*pi/180
        self.word_head: tuple = ()  # letters of a word before its last, which alone takes ^ and postfixes

    def peek(self, k: int = 0) -> tuple:
        j = self.i + k
        return self.t[j] if j < len(self.t) else _EOF

    def take(self) -> tuple:
        tok = self.peek()
        self.i += 1
        return tok

    def is_op(self, tok: tuple, *vals: str) -> bool:
        return tok[0] == "op" and tok[1] in vals

    def expect(self, val: str) -> None:
        tok = self.take()
        if not (tok[0] == "op" and tok[1] == val):
            raise _ParseError(f"expected {val}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooLarge("nesting")

    def leave(self) -> None:
        self.depth -= 1

    def group(self, closer: str):
        """The contents up to `closer` (its opener already taken), one nesting level deeper."""
        self.enter()
        inner = self.seq((closer,))
        self.expect(closer)
        self.leave()
        return inner

    def parse(self):
        node = self.seq(())
        if self.i < len(self.t):
            raise _ParseError("trailing tokens")
        return node

    def at_closer(self, closers) -> bool:
        tok = self.peek()
        return tok[0] == "eof" or (tok[0] == "op" and tok[1] in closers) or (tok[0] == "end")

    def seq(self, closers):
        groups: list[list] = [[]]
        seps = set()  # what joined the values: "or" alone makes inequalities one union
        while True:
            if self.at_closer(closers):
                break
            tok = self.peek()
            if tok[0] == "sep" or self.is_op(tok, ",", "\\\\"):
                self.take()
                seps.add(tok[1])
                # inside a group "or"/"and" must join two values: dropped, "3_{\\text{or } 4}" (a hedge
                # in small print) was 3 in base 4, and "3^{\\text{or } 1}" was 3
                # (an "or" at either end of the whole answer offers a value it does not give: "4 or", a box
                # around the first half of "\\boxed{4 \\text{ or}} 3", was 4)
                if (
                    (closers or tok[1] == "or")
                    and tok[0] == "sep"
                    and (not any(groups) or self.at_closer(closers))
                ):
                    raise _ParseError("dangling separator")
                continue
            if self.is_op(tok, ";"):
                self.take()
                seps.add(";")
                groups.append([])
                continue
            groups[-1].append(self.rel())
            if sum(len(g) for g in groups) > MAX_ITEMS:
                raise _TooLarge("items")
            tok = self.peek()
            if tok[0] == "sep" or self.is_op(tok, ",", ";", "\\\\") or self.at_closer(closers):
                continue
            raise _ParseError(f"unexpected {tok[1]!r}")
        groups = [g for g in groups if g]
        if not groups:
            raise _ParseError("empty")
        if len(groups) > 1 and any(len(g) > 1 for g in groups):
            return ("list", tuple(g[0] if len(g) == 1 else ("tuple", tuple(g), "(", ")") for g in groups))
        flat = [x for g in groups for x in g]
        if len(flat) > 1 and seps == {"or"} and all(x[0] == "rel" and set(x[1]) <= _INEQ_OPS for x in flat):
            return ("orrel", tuple(flat))  # "x < 1 or x > 2": one set, (-oo, 1) U (2, oo)
        return flat[0] if len(flat) == 1 else ("list", tuple(flat))

    def rel(self):
        """A value, or ('rel', ops, operands, modulus): modulus from "\\pmod{m}", else None."""
        first = self.setexpr()
        ops, xs = [], [first]
        modulus = None
        while True:
            tok = self.peek()
            if tok[0] == "op" and tok[1] in _RELOPS:
                self.take()
                ops.append(tok[1])
                xs.append(self.setexpr())
            elif tok[0] == "op" and tok[1] == "mod":  # "9 \pmod{11}" is 9; kept to check "a ≡ b"
                self.take()
                modulus = self.power()
            else:
                break
        if not ops and modulus is not None:  # "2 \pmod{5}": 2, with the modulus kept to tell it from "2 \pmod{6}"
            return ("modv", first, modulus)
        return first if not ops else ("rel", tuple(ops), tuple(xs), modulus)

    def setexpr(self):
        a = self.ratio()
        parts = [a]
        while True:
            tok = self.peek()
            if self.is_op(tok, "cup"):
                self.take()
                parts.append(self.ratio())
            elif self.is_op(tok, "cap", "setminus"):
                self.take()
                b = self.ratio()
                left = parts[0] if len(parts) == 1 else ("union", tuple(parts))
                parts = [("setop", tok[1], left, b)]
            else:
                break
        return parts[0] if len(parts) == 1 else ("union", tuple(parts))

    def ratio(self):
        a = self.add()
        if not self.is_op(self.peek(), ":"):
            return a
        items = [a]
        while self.is_op(self.peek(), ":"):
            self.take()
            items.append(self.add())
        return ("ratio", tuple(items))

    def add(self):
        terms = [self.term()]
        while True:
            tok = self.peek()
            if not (tok[0] == "op" and tok[1] in ("+", "-", "pm", "mp")):
                break
            self.take()
            t = self.term()
            if tok[1] == "+":
                terms.append(t)
            elif tok[1] == "-":
                terms.append(("neg", t))
            else:
                left = terms[0] if len(terms) == 1 else ("+", tuple(terms))
                terms = [("pm", left, t)]
            if len(terms) > 4 * MAX_ITEMS:
                raise _TooLarge("terms")
        return terms[0] if len(terms) == 1 else ("+", tuple(terms))

    def starts_atom(self, tok: tuple) -> bool:
        k = tok[0]
        if k in ("num", "id", "const", "frac", "sqrt", "binom", "func", "sum", "prod", "begin", "reals"):
            return True
        if k == "op":
            if tok[1] in ("(", "\\{", "lfloor", "lceil"):
                return True
            if tok[1] == "|":
                return self.abs == 0
        if k == "word":
            return True
        return False

    def is_unit(self, tok: tuple) -> bool:
        if tok[0] == "text":
            return _unit_text(tok[1])
        if tok[0] == "word":
            w = tok[1]
            if w.lower() in _QUALIFIER_WORDS:  # "4 more", "4 maybe": a qualifier, as in \text{} (no unit)
                return False
            if w.lower() in _VALUE_WORDS and self.t[self.i - 1][0] == "num":  # "4 squared"
                return False
            if w.lower() in ("am", "pm") and self.t[self.i - 1][0] == "num" and tok is self.peek():
                # a clock time: "3:45 pm", "5 pm tomorrow", "3:45pm", with no math going on after it; glued to a
                # number it is algebra: "2am" is 2*a*m (read as 2 o'clock it matched the gold 2, "3pm + 2" matched 5)
                after = self.peek(1)
                return (tok[2] or (self.i >= 3 and self.is_op(self.t[self.i - 2], ":"))) and (
                    after[0] in ("eof", "sep", "word", "text") or self.is_op(after, ",", ";", ")")
                )
            if w.lower() == "old" and self.t[self.i - 1][0] == "word" and self.t[self.i - 1][1].lower() in _AGE_UNITS:
                return True  # an age: "7 years old" is 7 years
            return w.lower() in _UNITS or (tok[2] and len(w) >= 4) or not w.isascii()
        return False

    def term(self):
        tok = self.peek()
        if self.is_op(tok, "-"):
            self.take()
            self.enter()
            r = self.term()
            self.leave()
            if r[0] == "fn" and r[1] == "mod":  # -1 \bmod 4 is (-1) mod 4 = 3, not -(1 mod 4)
                return ("fn", "mod", (("neg", r[2][0]), r[2][1]))
            return ("neg", r)
        if self.is_op(tok, "+"):
            self.take()
            return self.term()
        if self.is_op(tok, "pm", "mp"):
            self.take()
            self.enter()
            r = ("pmu", self.term())
            self.leave()
            return r
        factors = [self.power()]
        # did the last factor end in a bare number? (units skipped since then do not count)
        after_num = self.prev_is_num()
        while True:
            tok = self.peek()
            if self.is_op(tok, "*"):
                self.take()
                factors.append(self.signed_power())
            elif after_num and self.per_unit(letters=False):  # "$5 per hour", "$5/hour": a rate's unit
                self.take()
                self.take()
            elif self.is_op(tok, "/"):
                self.take()
                factors.append(("inv", self.signed_power()))
            elif self.is_op(tok, "bmod"):  # binds like * and /, left to right
                self.take()
                left = factors[0] if len(factors) == 1 else ("*", tuple(factors))
                factors = [("fn", "mod", (left, self.signed_power()))]
            elif self.is_unit(tok):
                self.take()
                if self.is_op(self.peek(), "^"):
                    self.take()
                    self.exponent()
                while self.per_unit():  # "5 km/h", "5 miles per hour": the unit's denominator (read as / h, a variable)
                    self.take()
                    self.take()
                    if self.is_op(self.peek(), "^"):
                        self.take()
                        self.exponent()
                continue
            elif tok[0] == "deg":  # "x^2°": a degree sign not right after an atom is dropped
                self.take()
                continue
            elif self.starts_atom(tok):
                if tok[0] == "num" and after_num and len(factors) == 1 and _is_int_lit(factors[0]) and self.plain_fraction():
                    # "2 1/2": a whole number and a proper fraction in plain text are a mixed number, as
                    # "2\frac{1}{2}" is (it was unparseable: the right 5/2 scored wrong)
                    a, b = self.take()[1][0], (self.take(), self.take())[1][1][0]
                    factors[0] = ("+", (factors[0], ("*", (("n", a, False), ("inv", ("n", b, False))))))
                    after_num = False
                    continue
                if tok[0] == "num" and after_num:
                    # "3 4", "3\,4", "2 3 5", "2 \text{ hours } 30 \text{ minutes}": two numbers
                    # side by side are not a product (nor 34): a list without commas, a compound
                    # unit or a typo. No reading is safe to reward, so the answer is unparseable.
                    raise _ParseError("juxtaposed numbers")
                nxt = self.power()
                if (
                    tok[0] == "frac"
                    and after_num  # "(2)\frac{1}{2}" is a product
                    and len(factors) == 1
                    and _is_int_lit(factors[0])
                    and nxt[0] == "*"
                    and len(nxt[1]) == 2
                    and _is_int_lit(nxt[1][0])
                    and nxt[1][1][0] == "inv"
                    and _is_int_lit(nxt[1][1][1])
                    and nxt[1][0][1] < nxt[1][1][1][1]  # a proper fraction: "2\frac{3}{2}" is 3
                ):
                    factors[0] = ("+", (factors[0], nxt))  # mixed number: 2\frac{1}{2} = 5/2
                else:
                    factors.append(nxt)
            else:
                break
            after_num = self.prev_is_num()
            if len(factors) > 4 * MAX_ITEMS:
                raise _TooLarge("factors")
        return factors[0] if len(factors) == 1 else ("*", tuple(factors))

    def plain_fraction(self) -> bool:
        """Whether the next tokens are a proper fraction of digits, "1/2", that ends the term."""
        a, op, b, after = self.peek(), self.peek(1), self.peek(2), self.peek(3)
        return (
            self.is_op(op, "/")
            and b[0] == "num"
            and all(t[1][1].isdigit() for t in (a, b))
            and 0 < a[1][0] < b[1][0]
            and not (after[0] in ("num", "deg") or self.is_op(after, "^", "/", "!"))
        )

    def per_unit(self, letters: bool = True) -> bool:
        """Whether "/" or "per" and a unit come next (after a unit; after a number, no one-letter unit: "5/s")."""
        sep, tok = self.peek(), self.peek(1)
        if not (self.is_op(sep, "/") or (sep[0] == "word" and sep[1].lower() == "per")):
            return False
        if tok[0] == "id":
            return letters and tok[1] in _PER_UNIT_LETTERS
        if not letters:
            return tok[0] == "word" and tok[1].lower() in _UNITS
        return tok[0] in ("word", "text") and self.is_unit(tok)

    def prev_is_num(self) -> bool:
        j = self.i - 1
        while j >= 0 and self.t[j][0] == "deg":  # 30° 15' is not 30 * 15 either
            j -= 1
        return j >= 0 and self.t[j][0] == "num"

    def signed_power(self):
        tok = self.peek()
        if self.is_op(tok, "-"):
            self.take()
            return ("neg", self.signed_power_inner())
        if self.is_op(tok, "+"):
            self.take()
        return self.power()

    def signed_power_inner(self):
        self.enter()
        try:
            return self.signed_power()
        finally:
            self.leave()

    def power(self):
        base = self.postfix()
        head, self.word_head = self.word_head, ()
        if self.is_op(self.peek(), "^"):
            self.take()
            self.enter()
            e = self.exponent()
            self.leave()
            base = ("^", base, e)
            while self.is_op(self.peek(), "!"):
                self.take()
                base = ("!", base)
        return ("*", head + (base,)) if head else base

    def exponent(self):
        tok = self.peek()
        if self.is_op(tok, "{"):
            self.take()
            return self.group("}")
        if self.is_op(tok, "-"):
            self.take()
            self.enter()
            r = ("neg", self.exponent())
            self.leave()
            return r
        if self.is_op(tok, "+"):
            self.take()
        return self.power()

    def postfix(self):
        word = self.peek()[0] == "word"
        a = self.atom()
        if word and a[0] == "*" and len(a[1]) > 1:
            # a word of letters is their product, and an exponent or postfix binds to its last letter
            # only: "ab^2" is a*b^2 (it was (ab)^2, equal to a^2b^2), "xy!" is x*y!
            self.word_head, a = a[1][:-1], a[1][-1]
        while True:
            tok = self.peek()
            if self.is_op(tok, "!") and not tok[2]:
                self.take()
                if self.is_op(self.peek(), "!") and not self.peek()[2]:
                    # "n!!" is the double factorial (5!! = 15), not (n!)! (3!! = 720): unsupported
                    raise _ParseError("double factorial")
                a = ("!", a)
            elif tok[0] == "deg":
                self.take()
                if self.trig:
                    a = ("*", (a, ("c", "pi"), ("inv", ("n", Fraction(180), False))))
            elif self.is_op(tok, "'"):
                self.take()
                if a[0] == "s":
                    a = ("s", a[1] + "'")
            elif self.is_op(tok, "_"):
                self.take()
                sub = self.sub_arg()
                a = self.apply_sub(a, sub)
            elif (
                a[0] == "s"
                and self.is_op(tok, "(")
                and not tok[2]
                and (a[1] in _FUNC_LETTERS or a[1].endswith("'") or "_" in a[1])
            ):
                self.take()
                args = self.group(")")
                a = ("app", a[1], args[1] if args[0] == "list" else (args,))
            else:
                break
        return a

    def sub_arg(self):
        tok = self.peek()
        if self.is_op(tok, "{"):
            self.take()
            return self.group("}")
        t = self.take()
        if t[0] == "num":
            raw = t[1][1]
            if len(raw) > 1 and raw.isdigit():  # x_12 is x_{1}2 in LaTeX, but x_{12} in plain text
                return ("n", Fraction(int(raw)), False)
            return ("n", t[1][0], False)
        if t[0] == "id":
            return ("s", t[1])
        if t[0] == "word":
            return ("s", t[1])
        raise _ParseError("bad subscript")

    def apply_sub(self, a, sub):
        key = _simple_key(sub)
        if a[0] == "s":
            if key is not None:
                return ("s", f"{a[1]}_{key}")
            return ("app", a[1], (sub,))
        if a[0] == "n" and sub[0] == "n" and sub[1].denominator == 1:
            digits = str(a[1].numerator) if a[1].denominator == 1 else None
            try:  # "3_2", "2.5_4", "7_0": no numeral in that base (its value raised an error later)
                int(digits or "?", int(sub[1]) if 2 <= sub[1] <= 36 else -1)
            except ValueError:
                raise _ParseError("bad base numeral") from None
            return ("based", digits, int(sub[1]))
        if a[0] == "app" and key is not None:
            return ("app", f"{a[1]}_{key}", a[2])
        if a[0] == "c" and key is not None:  # e_1, i_2: indexed names, not the constants
            return ("s", f"{a[1]}_{key}")
        # any other subscript has no value we know: dropped, "3_{x}" and "3_{\\text{oops}}" were 3
        raise _ParseError("subscript")

    def arg(self):
        """A macro argument: {group} or a single token (\\frac12 -> 1, 2)."""
        tok = self.peek()
        if self.is_op(tok, "{"):
            self.take()
            return self.group("}")
        if tok[0] == "num":
            raw = tok[1][1]
            if raw.isdigit() and len(raw) > 1:
                self.t[self.i] = ("num", (Fraction(int(raw[1:])), raw[1:], False), False)
                return ("n", Fraction(int(raw[0])), False)
        return self.atom()

    def atom(self):
        tok = self.take()
        k, v = tok[0], tok[1]
        if k == "num":
            return ("n", v[0], v[2])
        if k == "id":
            if v == "e":
                return ("c", "e")
            if v == "i":
                return ("c", "i")
            return ("s", v)
        if k == "const":
            return ("c", v)
        if k == "op":
            if v in ("(", "["):
                self.enter()
                inner = self.seq((")", "]"))
                close = self.take()
                if close[0] != "op" or close[1] not in (")", "]"):
                    raise _ParseError("unclosed bracket")
                self.leave()
                if inner[0] == "list":
                    return ("tuple", inner[1], v, close[1])
                if v + close[1] in ("()", "[]"):
                    return inner
                return ("tuple", (inner,), v, close[1])
            if v == "\\{":
                self.enter()
                if self.is_op(self.peek(), "\\}"):
                    self.take()
                    self.leave()
                    return ("set", ())
                head = self.peek()
                bar = 1 if head[0] == "id" else 0
                if bar and self.is_op(self.peek(1), "in") and self.peek(2)[0] == "reals":
                    bar = 3  # "\{x \in \mathbb{R} : ...\}": the reals restrict nothing (other domains stay raw)
                if bar and self.is_op(self.peek(bar), ":", "|"):
                    # set-builder "\{x : x > 0\}" / "\{x \mid x > 0\}" is the set its condition describes
                    for _ in range(bar + 1):
                        self.take()
                    cond = self.seq(("\\}",))
                    self.expect("\\}")
                    self.leave()
                    return ("setb", ("s", head[1]), cond)
                inner = self.seq(("\\}",))
                self.expect("\\}")
                self.leave()
                return ("set", inner[1] if inner[0] == "list" else (inner,))
            if v == "{":
                return self.group("}")
            if v in ("lfloor", "lceil"):
                # \lfloor x \rfloor is floor(x), not a pair of parentheses: 3.5 floors to 3
                closer = "rfloor" if v == "lfloor" else "rceil"
                inner = self.group(closer)
                if inner[0] == "list":
                    raise _ParseError("floor of a list")
                return ("fn", "floor" if v == "lfloor" else "ceil", (inner,))
            if v == "|":
                self.enter()
                self.abs += 1
                inner = self.add()
                self.abs -= 1
                self.expect("|")
                self.leave()
                return ("fn", "abs", (inner,))
            raise _ParseError(f"unexpected {v!r}")
        if k == "frac":
            self.enter()
            a = self.arg()
            b = self.arg()
            self.leave()
            return ("*", (a, ("inv", b)))
        if k == "sqrt":
            self.enter()
            idx = None
            if self.is_op(self.peek(), "["):
                self.take()
                idx = self.add()
                self.expect("]")
            if self.is_op(self.peek(), "("):
                x = self.atom()
            else:
                tok2 = self.peek()
                if tok2[0] == "num":
                    self.take()
                    x = ("n", tok2[1][0], tok2[1][2])
                else:
                    x = self.arg()
            self.leave()
            return ("sqrt", x, idx)
        if k == "binom":
            self.enter()
            a = self.arg()
            b = self.arg()
            self.leave()
            return ("binom", a, b)
        if k == "func":
            return self.func(v)
        if k in ("sum", "prod"):
            return self.bigop(k)
        if k == "begin":
            return self.matrix_env(v)
        if k == "text":
            return ("text", v)
        if k == "reals":
            return ("reals",)
        if k == "empty":
            return ("set", ())
        if k == "word":
            if v.isascii() and len(v) <= 8:
                return ("*", tuple(("s", ch) for ch in v))
            return ("text", v)
        raise _ParseError(f"unexpected token {k}")

    def func(self, name: str):
        self.enter()
        pw = None
        base = None
        for _ in range(2):
            if self.is_op(self.peek(), "^"):
                self.take()
                pw = self.exponent()
            elif self.is_op(self.peek(), "_"):
                self.take()
                base = self.sub_arg()
        trig, self.trig = self.trig, name in _TRIG
        if self.is_op(self.peek(), "("):
            self.take()
            inner = self.seq((")",))
            self.expect(")")
            args = inner[1] if inner[0] == "list" else (inner,)
        else:
            # without parentheses the argument runs on over juxtaposed names: "\\sin 2x" is sin(2x),
            # "\\cos 2\\pi n" cos(2 pi n) (it was sin(2)*x); another function ends it: "\\sin x \\cos x"
            factors = [self.power()]
            while self.peek()[0] in ("id", "const", "word") and not self.is_unit(self.peek()):
                factors.append(self.power())
                if len(factors) > MAX_ITEMS:
                    raise _TooLarge("factors")
            args = (factors[0] if len(factors) == 1 else ("*", tuple(factors)),)
        self.trig = trig
        self.leave()
        if name == "lg":
            name, base = "log", ("n", Fraction(10), False)
        node = ("fn", name, args + ((base,) if base is not None and name == "log" else ()))
        if pw is not None:
            if pw == ("neg", ("n", Fraction(1), False)) and name in ("sin", "cos", "tan"):
                return ("fn", "arc" + name, args)
            node = ("^", node, pw)
        return node

    def bigop(self, kind: str):
        self.enter()
        var, lo, hi = None, None, None
        for _ in range(2):
            if self.is_op(self.peek(), "_"):
                self.take()
                sub = self.sub_arg()
                if sub[0] == "rel" and sub[1] == ("=",) and sub[2][0][0] == "s":
                    var, lo = sub[2][0][1], sub[2][1]
                else:
                    raise _ParseError("bad sum index")
            elif self.is_op(self.peek(), "^"):
                self.take()
                hi = self.exponent()
        if var is None or hi is None:
            raise _ParseError("bad sum")
        body = self.term()
        self.leave()
        if var == "i":
            body = _rename_const_i(body)
        return (kind, var, lo, hi, body)

    def matrix_env(self, env: str):
        if env not in (
            "pmatrix",
            "bmatrix",
            "vmatrix",
            "Bmatrix",
            "Vmatrix",
            "matrix",
            "smallmatrix",
            "array",
        ):
            raise _ParseError(f"environment {env}")
        self.enter()
        self.matrix += 1
        rows: list[list] = [[]]
        cell_open = True
        while True:
            tok = self.peek()
            if tok[0] == "eof":
                raise _ParseError("unclosed matrix")
            if tok[0] == "end":
                self.take()
                break
            if self.is_op(tok, "&"):
                self.take()
                if cell_open:
                    rows[-1].append(None)
                cell_open = True
                continue
            if self.is_op(tok, "\\\\"):
                self.take()
                if cell_open and rows[-1]:
                    rows[-1].append(None)
                rows.append([])
                cell_open = True
                continue
            rows[-1].append(self.rel())
            cell_open = False
            if sum(len(r) for r in rows) > MAX_ITEMS:
                raise _TooLarge("matrix")
        self.matrix -= 1
        self.leave()
        rows = [r for r in rows if r]
        if not rows or any(x is None for r in rows for x in r) or len({len(r) for r in rows}) != 1:
            raise _ParseError("ragged matrix")
        m = ("mat", tuple(tuple(r) for r in rows))
        return ("fn", "det", (m,)) if env in ("vmatrix", "Vmatrix") else m


def _is_int_lit(node) -> bool:
    return node[0] == "n" and node[1].denominator == 1 and not node[2]


def _rename_const_i(node):
    if node == ("c", "i"):
        return ("s", "i")
    if isinstance(node, tuple):
        return tuple(_rename_const_i(x) if isinstance(x, tuple) else x for x in node)
    return node


def _simple_key(node) -> str | None:
    """A subscript that is just digits/letters (x_1, a_{37}, S_{MBCN}) -> its text."""
    if node[0] == "n" and node[1].denominator == 1 and node[1] >= 0:
        return str(node[1].numerator)
    if node[0] == "s":
        return node[1]
    if node[0] == "c":
        return node[1]
    if node[0] == "*" and all(f[0] in ("s", "n", "c") for f in node[1]):
        parts = [_simple_key(f) for f in node[1]]
        return None if None in parts else "".join(parts)  # type: ignore[arg-type]
    return None


@lru_cache(maxsize=8192)
def _parse(clean: str):
    if len(clean) > MAX_ANSWER_CHARS:
        raise _TooLarge("length")
    toks = _split_assignments(_tokenize(clean))
    if not toks:
        raise _ParseError("empty")
    return _Parser(toks).parse()


def _split_assignments(toks: list[tuple]) -> list[tuple]:
    """"x = 5 \\quad y = 6" is two assignments, as "x = 5, y = 6" is: read as the chain x = 5y = 6 it was x = 6.
    A name after a space that follows a number and comes before "=", once an "=" came, starts another one."""
    if sum(1 for t in toks if t[0] == "op" and t[1] == "=") < 2:
        return toks
    out: list[tuple] = []
    seen_eq = False
    for i, t in enumerate(toks):
        if seen_eq and t[0] == "id" and t[2] and out and out[-1][0] == "num":
            j = i + 1 if i + 1 < len(toks) and toks[i + 1][:2] != ("op", "_") else i + 3  # "y_1 = 6"
            if j < len(toks) and toks[j][:2] == ("op", "="):
                out.append(("op", ",", False))
        seen_eq = seen_eq or t[:2] == ("op", "=")
        out.append(t)
    return out


# ----------------------------------------------------------------------------------------------
# Values: what an answer means
#   ('x', ast)  ('eq', lhs_ast, rhs_value)  ('iset', parts, var)  ('ineq', ops, xs)
#   ('tup', items, interval_like)  ('set', items)  ('list', items)  ('mat', rows)  ('text', s)
#   ('ratio', items)  ('raw', s)
# ----------------------------------------------------------------------------------------------


def _free(node, acc: set) -> set:
    k = node[0]
    if k == "s":
        acc.add(node[1])
    elif k == "app":
        acc.add(node[1] + "()")
        for a in node[2]:
            _free(a, acc)
    elif k in ("sum", "prod"):
        inner: set = set()
        _free(node[4], inner)
        inner.discard(node[1])
        acc |= inner
        _free(node[2], acc)
        _free(node[3], acc)
    elif k not in ("n", "c", "text", "based", "reals", "sym"):
        for x in _children(node):
            _free(x, acc)
    return acc


def _children(node):
    """The AST nodes directly under `node`, through the plain tuples that hold lists and rows."""
    stack = list(node[:0:-1])
    while stack:
        x = stack.pop()
        if isinstance(x, tuple) and x:
            if isinstance(x[0], str):
                yield x
            else:
                stack.extend(reversed(x))


def _is_const(node) -> bool:
    return not _free(node, set()) and not _has(node, ("text",))


def _has(node, kinds) -> bool:
    if node[0] in kinds:
        return True
    if node[0] in ("n", "s", "c", "text", "based", "sym"):
        return False
    return any(_has(x, kinds) for x in _children(node))


def _has_periodic(node) -> bool:
    if node[0] == "fn" and node[1] in ("sin", "cos", "tan", "sec", "csc", "cot"):
        return True
    if node[0] in ("n", "s", "c", "text", "based", "sym"):
        return False
    return any(_has_periodic(x) for x in _children(node))


_MINUS_ONE = ("neg", ("n", Fraction(1), False))


def _name_like(node) -> bool:
    """A left-hand side that names the answer: x, a_3, f(x), |AB|, AB, NO/BO, V_1:V_2, (p, q)."""
    k = node[0]
    if k in ("s", "app", "text"):
        return True
    if k == "fn" and node[1] == "abs":
        return _name_like(node[2][0])
    if k == "*":
        # ("f^{-1}(x)" reads f^-1 * x: the inverse's name, as "NO/BO" is a ratio of names)
        return all(_name_like(f) or (f[0] in ("inv", "^") and _name_like(f[1]) and (f[0] == "inv" or f[2] == _MINUS_ONE))
                   for f in node[1])
    if k == "ratio":
        return all(_name_like(x) for x in node[1])
    if k == "tuple":
        return all(_name_like(x) for x in node[1])
    if k == "c":
        return node[1] in ("e", "i")
    return False


def _name_sum(node) -> bool:
    """A sum of names, what a question asks for ("find m + n"): "m+n = 17" answers 17 ("2x = 17", "x + 1 = 17" solve
    for x, and answer no value)."""
    return node[0] == "+" and len(node[1]) <= 4 and all(
        t[0] == "s" or (t[0] == "neg" and t[1][0] == "s") for t in node[1]
    )


def _pure_name(node) -> bool:
    return node[0] in ("s", "app")


def _expand_pm(node, limit: int = 16) -> list:
    """All sign choices of a scalar with ± in it (at most `limit`)."""
    if not _has(node, ("pm", "pmu")):
        return [node]

    def go(x):
        if not isinstance(x, tuple) or not x or not isinstance(x[0], str):
            return [x]
        k = x[0]
        # each ± doubles the choices: check the count before building them ("\\pm 1" written 18
        # times is 2^18 choices, and expanding every side twice made it seconds past any deadline)
        if k == "pm":
            left, right = go(x[1]), go(x[2])
            if 2 * len(left) * len(right) > limit:
                raise _TooLarge("too many ±")
            return [("+", (a, b)) for a in left for b in right] + [("+", (a, ("neg", b))) for a in left for b in right]
        if k == "pmu":
            inner = go(x[1])
            if 2 * len(inner) > limit:
                raise _TooLarge("too many ±")
            return inner + [("neg", b) for b in inner]
        outs = [[]]
        for part in x[1:]:
            if isinstance(part, tuple) and part and isinstance(part[0], str):
                opts = go(part)
            elif isinstance(part, tuple):
                opts = [tuple(y) for y in _product([go(q) if isinstance(q, tuple) else [q] for q in part])]
            else:
                opts = [part]
            outs = [o + [p] for o in outs for p in opts]
            if len(outs) > limit:
                raise _TooLarge("too many ±")
        return [(k, *o) for o in outs]

    return go(node)


def _product(lists):
    out = [[]]
    for opts in lists:
        out = [o + [p] for o in out for p in opts]
        if len(out) > 64:
            raise _TooLarge("too many ±")
    return out


def _val(node):
    k = node[0]
    if k == "setb":  # a set-builder set: only a condition on its own variable that is a union of intervals
        v = _val(node[2])
        if v[0] == "iset" and v[2] == _key_of_name(node[1]):
            return ("iset", v[1], None)
        if v[0] == "ineq" and set().union(*(_free(x, set()) for x in v[2])) == {node[1][1]}:
            return v  # "\{x : x^2 > 4\}", solved as the bare inequality is
        return ("raw", repr(node))
    if k == "modv":
        v = _val(node[1])
        return ("mod", v, node[2]) if v[0] == "x" else v
    if k == "orrel":  # inequalities joined by "or" in one variable are the union of their sets
        vals = [_val_rel(x) for x in node[1]]
        keys = {v[2] if v[0] == "iset" else None for v in vals}
        if len(keys) == 1 and None not in keys:
            return ("iset", tuple(p for v in vals for p in v[1]), vals[0][2])
        # otherwise kept as an "or": as a list it was the "and" of the same conditions ("x > 0 or y > 0")
        return ("raw", "or" + repr(sorted(repr(x) for x in node[1])))
    if k == "list":
        items = []
        for it in node[1]:
            v = _val(it)
            if v[0] == "list" and it[0] != "list":
                items.extend(v[1])
            else:
                items.append(v)
        # "x = 1, x = 2" (every item assigns the same name) is x = the list of values, as "x = \pm 1" is (the
        # bare values matched each of "x = 1, y = 2" by value)
        if len(items) > 1 and all(v[0] == "eq" and _name_like(v[1]) and v[1] == items[0][1] for v in items):
            return ("eq", items[0][1], ("list", tuple(v[2] for v in items)))
        return items[0] if len(items) == 1 else ("list", tuple(items))
    if k == "tuple":
        items = tuple(_val(x) for x in node[1])
        o, c = node[2], node[3]
        if len(items) == 2 and (o, c) != ("(", ")") and all(x[0] == "x" for x in items):
            return ("iset", ((items[0][1], items[1][1], o == "[", c == "]"),), None)
        if len(items) == 1 and (o, c) != ("(", ")"):
            return ("tup", items, False)
        pm_at = [j for j, x in enumerate(node[1]) if _has(x, ("pm", "pmu"))]
        if len(pm_at) == 1 and items[pm_at[0]][0] == "list" and (o, c) == ("(", ")"):
            # one coordinate with ±: "(\\pm 2, 0)" is the points (2, 0) and (-2, 0) (a tuple holding the
            # list matched neither); with ± in two coordinates the signs' pairing is unclear, left as is
            j = pm_at[0]
            return ("list", tuple(_val(("tuple", node[1][:j] + (v[1],) + node[1][j + 1 :], o, c)) for v in items[j][1]))
        return ("tup", items, len(items) == 2 and (o, c) == ("(", ")") and all(x[0] == "x" for x in items))
    if k == "set":
        return ("set", tuple(_val(x) for x in node[1]))
    if k in ("union", "reals"):
        parts = _as_realset(node)
        if parts is None:
            return ("raw", "")
        return ("iset", parts, None)
    if k == "setop":
        return ("raw", repr(node))
    if k == "rel":
        return _val_rel(node)
    if k == "mat":
        return ("mat", node[1])
    if k == "text":
        return ("text", _norm_text(node[1]))
    if k == "ratio":
        return ("ratio", tuple(node[1]))
    if k in ("pm", "pmu") or _has(node, ("pm", "pmu")):
        opts = _expand_pm(node)
        return ("list", tuple(("x", o) for o in opts))
    return ("x", node)


def _as_realset(node):
    """A union of intervals / finite sets / R as ((lo, hi, lclosed, rclosed), ...), or None."""
    k = node[0]
    if k == "reals":
        return ((("neg", ("c", "oo")), ("c", "oo"), False, False),)
    if k == "union":
        parts = []
        for p in node[1]:
            r = _as_realset(p)
            if r is None:
                return None
            parts.extend(r)
        return tuple(parts)
    if k == "tuple" and len(node[1]) == 2:
        return ((node[1][0], node[1][1], node[2] == "[", node[3] == "]"),)
    if k == "set":
        return tuple((x, x, True, True) for x in node[1])
    return None


_CHOICE_RE = re.compile(r"^\(?([A-Ja-j])\)?$")


def _norm_text(s: str) -> str:
    s = " ".join(s.replace("\\", " ").split()).strip(" .").casefold()
    m = _CHOICE_RE.match(s)
    if m:
        return m.group(1)
    return s


def _flip(op: str) -> str:
    return {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "!=": "!=", "=": "="}[op]


def _half(op: str, c):
    """{v : v op c} as realset parts."""
    oo, noo = ("c", "oo"), ("neg", ("c", "oo"))
    if op == "<":
        return ((noo, c, False, False),)
    if op == "<=":
        return ((noo, c, False, True),)
    if op == ">":
        return ((c, oo, False, False),)
    if op == ">=":
        return ((c, oo, True, False),)
    if op == "!=":
        return ((noo, c, False, False), (c, oo, False, False))
    return None


def _val_rel(node):
    ops, xs, modulus = node[1], node[2], node[3]
    if all(o in ("=", "~", "equiv") for o in ops):
        keep = [xs[0]]  # the chain of "=" (and "x ≈ 3": a name may be approximated)
        for op, x in zip(ops, xs[1:]):
            if op == "~" and not (len(keep) == 1 and _name_like(keep[0])):
                break  # "1/3 ≈ 0.333": the exact value before "≈" is the answer
            keep.append(x)
        last = keep[-1]
        if len(keep) == 1:
            return _val(last)
        # The last value of a chain is the answer, as graders (and math-verify's cases) read
        # "x = 5+5+1 = 11": only that one value is ever accepted, so a false step cannot hedge.
        name_at = [i for i, q in enumerate(keep[:-1]) if _name_like(q) and not _is_const(q)]
        consts = keep[name_at[-1] + 1 :] if name_at else keep
        if modulus is not None and len(consts) > 1 and all(_is_const(q) for q in consts):
            # a congruence with its modulus: "2^{10} \equiv 1 \pmod{3}" answers 1 only if it holds
            if not _congruent(consts, modulus):
                return ("raw", repr(node))
        elif not name_at and len(keep) == 2 and all(_plain_number(q) for q in keep) and not _congruent(keep, _NO_MODULUS):
            # "12 = 13": two numbers said to be equal that are not is no answer (read as its last value,
            # "\boxed{12 = 13}" scored for the gold 13); "2 + 3 = 5" answers 5, and a false step of a computation
            # still answers its last value, as graders read it ("x = 5+5+1 = 7 = 11" is 11, math-verify's cases)
            return ("raw", repr(node))
        if len(keep) == 2 and modulus is None and _pure_name(keep[1]) and _is_const(keep[0]):
            return ("eq", keep[1], _val(keep[0]))  # "5 = x" states x = 5, as "x = 5" does
        value = _val(last)
        if name_at:
            # the modulus is kept: "x \equiv 2 \pmod 6" matched "x \equiv 2 \pmod 5"
            return ("eq", keep[name_at[-1]], value) + (() if modulus is None else (modulus,))
        if all(_is_const(q) for q in keep):
            return value
        return ("eq", keep[-2], _val(last))
    if len(ops) == 1 and ops[0] == "in":
        if _name_like(xs[0]):
            v = _val(xs[1])
            if v[0] == "iset":
                return ("iset", v[1], _key_of_name(xs[0]))
            if v[0] == "tup" and v[2]:
                return ("iset", ((v[1][0][1], v[1][1][1], False, False),), _key_of_name(xs[0]))
            return v
        return ("raw", repr(node))
    if all(o in ("<", "<=", ">", ">=", "!=") for o in ops):
        if len(xs) == 2:
            a, b = xs
            if _pure_name(a) and _is_const(b):
                return ("iset", _half(ops[0], b), _key_of_name(a))
            if _is_const(a) and _pure_name(b):
                return ("iset", _half(_flip(ops[0]), a), _key_of_name(b))
        if len(xs) == 3 and _pure_name(xs[1]) and _is_const(xs[0]) and _is_const(xs[2]):
            o1, o2 = ops
            if o1 in ("<", "<=") and o2 in ("<", "<="):
                return ("iset", ((xs[0], xs[2], o1 == "<=", o2 == "<="),), _key_of_name(xs[1]))
            if o1 in (">", ">=") and o2 in (">", ">="):
                return ("iset", ((xs[2], xs[0], o2 == ">=", o1 == ">="),), _key_of_name(xs[1]))
        return ("ineq", ops, xs)
    return ("raw", repr(node))


def _plain_number(node) -> bool:
    """A number written as digits, signed or not ("12", "-3", "2.5"), no computation."""
    return node[0] == "n" or (node[0] == "neg" and node[1][0] == "n")


_NO_MODULUS = object()  # (_congruent: plain equality of exact constants)


def _congruent(items, modulus) -> bool:
    """False only when integer constants are provably not congruent modulo an integer modulus (with _NO_MODULUS:
    when exact constants are provably unequal)."""
    if modulus is None:
        return True
    try:
        vals = [_exact(q, None) for q in items]
        if modulus is _NO_MODULUS:
            return all(v == vals[-1] for v in vals)
        m = _exact(modulus, None)
    except (_NotExact, ZeroDivisionError):
        return True
    except _TooLarge:
        if modulus is _NO_MODULUS:
            return True  # ("2^{10^9} = 5": undecided, its last value read as before)
        raise
    if m.denominator != 1 or m == 0 or any(v.denominator != 1 for v in vals):
        return True
    return all((v - vals[-1]) % m == 0 for v in vals)


def _key_of_name(node) -> str:
    return repr(node)


def _is_textual(toks: list[tuple]) -> bool:
    """An answer made only of words (and single letters / \\text) is a text answer."""
    has_word = False
    for t, nxt in zip(toks, toks[1:] + [_EOF]):
        if t[0] == "func" and nxt[:2] == ("op", "("):
            return False  # "\\sin(xy)" is a function of xy, not the words "sin xy"
        if t[0] in ("word", "text"):
            has_word = True
        elif t[0] in ("id", "sep", "func") or (t[0] == "op" and t[1] in ("(", ")", ",", "'", "-")):
            continue
        else:
            return False
    return has_word


def _words_and_numbers(toks: list[tuple]) -> bool:
    """Words and numbers, each after a space ("June 20", "Room 101"; not the product "2ab")."""
    return (
        len(toks) > 1
        and all(t[0] in ("word", "num") and (i == 0 or t[2]) for i, t in enumerate(toks))
        and any(t[0] == "word" for t in toks)
        and any(t[0] == "num" for t in toks)
    )


@lru_cache(maxsize=8192)
def _values(clean: str, percent: bool = False) -> tuple:
    """Alternative readings of an answer: '1,5' may be a decimal comma; '28%' may mean 0.28."""
    if len(clean) > MAX_ANSWER_CHARS:
        raise _TooLarge("length")
    out = []
    if _DECIMAL_COMMA_RE.fullmatch(clean) and not _THOUSANDS_RE.fullmatch(clean):
        out.append(("x", ("n", Fraction(clean.replace(",", ".")), False)))
    try:
        toks = _tokenize(clean)
        if toks and _is_textual(toks) and len(toks) > 0:
            words = [t[1] for t in toks if t[0] in ("word", "text", "id", "func")]
            text = _norm_text(" ".join(words))
            if _NO_SOLUTION_RE.fullmatch(text):  # "no solution" as words, not only in \text{}
                out.append(("set", ()))
            elif _ALL_REALS_RE.fullmatch(text):
                out.append(_val(("reals",)))
            out.append(("text", text))
        else:
            out.append(_val(_parse(clean)))
            if _words_and_numbers(toks):
                # "June 20": a date as MATH writes it (\text{June 20}), also read as that text (J*u*n*e*20
                # alone never matched it)
                out.append(("text", _norm_text(" ".join(t[1][1] if t[0] == "num" else t[1] for t in toks))))
    except _ParseError:
        out.append(("raw", _raw_key(clean)))
    if percent:
        out.extend(
            ("x", ("*", (v[1], ("inv", ("n", Fraction(100), False))))) for v in list(out) if v[0] == "x"
        )
    return tuple(out)


def _is_angle(clean: str) -> bool:
    """A degree sign outside a trig function's argument ("\\sin 30°" is the number 1/2)."""
    return _DEG in clean and not _TRIG_RE.search(clean)


_TRIG_RE = re.compile(r"sin|cos|tan|cot|sec|csc")


def _has_percent(s: str) -> bool:
    return "%" in s or "percent" in s or "pct" in s


# Units of measure by their names and abbreviations. Units are dropped in parsing (a bare "5" matches "5 cm"), but
# two answers that both name units must name the same ones: "5 \text{ km}" matched "5 \text{ m}", "5 hours" matched
# "5 minutes". ("in" is no inch here: too many texts say "in".)
_UNIT_NAMES = {
    w: line.split()[0]
    for line in """mm millimeter millimeters millimetre millimetres
    cm centimeter centimeters centimetre centimetres
    dm decimeter decimeters
    m meter meters metre metres
    km kilometer kilometers kilometre kilometres
    ft foot feet
    yd yard yards
    mi mile miles
    mg milligram milligrams
    g gram grams
    kg kilogram kilograms
    lb lbs pound pounds
    oz ounce ounces
    s sec secs second seconds
    min mins minute minutes
    h hr hrs hour hours
    day days
    week weeks
    month months
    year years
    ml milliliter milliliters millilitre millilitres
    l liter liters litre litres
    dollar dollars usd
    cent cents
    euro euros
    am
    pm""".splitlines()
    for w in line.split()
}
_UNIT_COMPOUNDS = {"mph": ("mi", "h"), "kmh": ("km", "h"), "kph": ("km", "h")}  # = "miles per hour", "km/h"
_UNIT_GROUP_RE = re.compile(r"\\(?:text|textrm|textnormal|textit|textbf|mathrm|mbox|operatorname|rm)\s*\{([^{}]*)\}")
_UNIT_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}(?![A-Za-z])")
_PER_LETTER_RE = re.compile(r"(?<![\\A-Za-z])([A-Za-z]{2,})\s*/\s*([A-Za-z])(?![A-Za-z])")


@lru_cache(maxsize=4096)
def _units(clean: str) -> frozenset:
    """The units of measure an answer names: single letters count only inside \\text-like groups ("5 \\text{ m}")."""
    found = set()
    bare = _UNIT_GROUP_RE.sub(" ", clean)
    words = [*(w for body in _UNIT_GROUP_RE.findall(clean) for w in _ASCII_WORD_RE.findall(body)),
             *_UNIT_WORD_RE.findall(bare)]
    if "/" in bare:  # "5 km/h": its h is a unit, as in "5 \text{ km/h}"
        words += [m.group(2) for m in _PER_LETTER_RE.finditer(bare) if m.group(1).lower() in _UNIT_NAMES]
    for w in map(str.lower, words):
        found.update(_UNIT_COMPOUNDS.get(w) or (_UNIT_NAMES.get(w),))
    found.discard(None)
    return frozenset(found)


_DECIMAL_COMMA_RE = re.compile(r"-?\d+,\d+")
# "1,000" / "12,500": a thousands separator and nothing else (reading it also as 1.000 would let
# "1,000" match 1 and "3,500" match 3.5); the tokenizer groups exactly these. "0,125" has no
# thousands reading: it stays a decimal comma.
_THOUSANDS_RE = re.compile(r"-?[1-9]\d{0,2}(?:,\d{3})+")


_WS_RE = re.compile(r"\s+")


def _squash(s: str) -> str:
    """`s` without whitespace ("x + 1" is "x+1"), except that a gap between two digits stays as
    one space: "3 4" is not 34."""

    def gap(m) -> str:
        i, j = m.start(), m.end()
        return " " if 0 < i and j < len(s) and s[i - 1].isdigit() and s[j].isdigit() else ""

    return _WS_RE.sub(gap, s)


def _raw_key(s: str) -> str:
    return _squash(s).casefold()


# ----------------------------------------------------------------------------------------------
# Comparison
# ----------------------------------------------------------------------------------------------


class _Ctx:
    """How scalars are compared: in process (exact/numeric, may raise _NeedSymbolic) or in the
    worker (SymPy)."""

    def __init__(self, tol: float, symbolic: bool, deadline: float = float("inf"), gold_side: bool = True):
        self.tol = tol
        self.symbolic = symbolic
        self.deadline = deadline
        # the second answer is the gold (check_math): only its repeats make multiplicities count;
        # False (answers_equal): a repeat on either side does, so that equality stays symmetric
        self.gold_side = gold_side

    def scalar_eq(self, a, b) -> bool:
        if a == b:
            return True
        if time.monotonic() > self.deadline:
            # each comparison is bounded, but a 64-element set makes thousands of them
            raise _Deadline
        if self.symbolic:
            return _sym_scalar_eq(a, b, self.tol)
        return _fast_scalar_eq(a, b, self.tol)

    def eq_equiv(self, l1, r1, l2, r2) -> bool:
        """Are equations l1 = r1 and l2 = r2 equivalent (l-r proportional)?"""
        d1 = ("+", (l1, ("neg", r1)))
        d2 = ("+", (l2, ("neg", r2)))
        if self.symbolic:
            return _sym_proportional(d1, d2)
        return _fast_proportional(d1, d2)

    def solve_ineq(self, ops, xs):
        """Real solution set of an inequality chain, as realset parts + var key, or None."""
        if self.symbolic:
            return _sym_solve_ineq(ops, xs)
        return _fast_solve_ineq(ops, xs)

    def nonzero(self, a) -> bool:
        if self.symbolic:
            return not _sym_scalar_eq(a, ("n", Fraction(0), False), 0.0)
        return not _fast_scalar_eq(a, ("n", Fraction(0), False), 0.0)


def _one_value_restated(items) -> bool:
    """Whether list items are bare values, or values of one name ("x = 5 or 5"; not "x = 5, y = 5")."""
    names = {x[1] for x in items if x[0] == "eq" and len(x) == 3 and _name_like(x[1]) and x[2][0] == "x"}
    return len(names) <= 1 and all(x[0] == "x" or (x[0] == "eq" and x[1] in names) for x in items)


def _cmp(u, v, ctx: _Ctx) -> bool:
    ku, kv = u[0], v[0]
    if ku == "raw" or kv == "raw":
        return ku == kv and u[1] == v[1] and bool(u[1])
    if ku == "mod" or kv == "mod":  # a residue with its modulus matches the bare residue, or one with the same modulus
        m, w = (u, v) if ku == "mod" else (v, u)
        if w[0] == "mod" or (w[0] == "eq" and len(w) > 3):  # "x \equiv 2 \pmod 6" is not "2 \pmod 5"
            if not ctx.scalar_eq(m[2], w[-1]):
                return False
            w = w[1] if w[0] == "mod" else w
        return _cmp(m[1], w, ctx) if m is u else _cmp(w, m[1], ctx)
    if ku == "same":  # "2+3 = 5": every side must be the other answer
        return all(_cmp(x, v, ctx) for x in u[1])
    if kv == "same":
        return all(_cmp(u, y, ctx) for y in v[1])
    nu, nv = _named_values(u), _named_values(v)
    if nu is not None and nv is not None:  # "y = 2, x = 1" is "(x, y) = (1, 2)": matched by name
        return nu.keys() == nv.keys() and all(_cmp(nu[k], nv[k], ctx) for k in nu)
    if (nu is not None and kv == "eq" and _name_like(v[1])) or (nv is not None and ku == "eq" and _name_like(u[1])):
        return False  # "x = 1, y = 2" names two variables, "x = 1, x = 2" one
    if ku == "eq" and kv == "eq":
        if len(u) > 3 and len(v) > 3 and not ctx.scalar_eq(u[3], v[3]):  # two congruences, other moduli
            return False
        if _name_like(u[1]) and _name_like(v[1]) and u[1] == v[1]:
            return _cmp(u[2], v[2], ctx)
        if u[2][0] == v[2][0] == "list" and _name_like(u[1]) and _name_like(v[1]):
            # the values of one variable and of another: "W(n) = 1 or W(n) = -1" is "W(x) = 1 or W(x) = -1"
            # (Math-Verify's public case), as the bare values were
            return _cmp(u[2], v[2], ctx)
        if u[2][0] == "x" and v[2][0] == "x" and not _has(u[1], ("tuple",)) and not _has(v[1], ("tuple",)):
            return ctx.eq_equiv(u[1], u[2][1], v[1], v[2][1])
        return False
    if ku == "eq":
        return (_name_like(u[1]) or _name_sum(u[1])) and _cmp(u[2], v, ctx)
    if kv == "eq":
        return (_name_like(v[1]) or _name_sum(v[1])) and _cmp(u, v[2], ctx)
    if ku in ("list", "set") and len(u[1]) == 1 and kv not in ("list", "set"):
        return _cmp(u[1][0], v, ctx)
    if ku == "list" and kv == "x" and ctx.gold_side and _one_value_restated(u[1]):
        # a gold of one value is a gold of distinct values (see above): a list that repeats that value is
        # that value, as "1, 2, 2" is the gold "1, 2" ("\\pm 0" is 0; "5, or 5.0" names one value, and so does
        # "x = 5 or 5": read as two answers, the right one restated scored wrong)
        return all(_cmp(x, v, ctx) for x in u[1])
    if kv in ("list", "set") and len(v[1]) == 1 and ku not in ("list", "set"):
        return _cmp(u, v[1][0], ctx)
    if ku == "x" and kv == "x":
        if _has(u[1], ("mat",)) or _has(v[1], ("mat",)):
            return _cmp(_mat_value(u[1], ctx), _mat_value(v[1], ctx), ctx)
        return ctx.scalar_eq(u[1], v[1])
    if ku == "text" or kv == "text":
        if ku == kv:
            return u[1] == v[1]
        t, o = (u, v) if ku == "text" else (v, u)
        if o[0] == "x" and o[1][0] in ("s", "c"):
            return t[1] == o[1][1].casefold() and len(t[1]) <= 2 or t[1] == o[1][1]
        if o[0] == "x" and o[1][0] == "*" and all(f[0] == "s" for f in o[1][1]):
            return t[1].replace(" ", "") == "".join(f[1] for f in o[1][1]).casefold()
        return False
    if ku in ("list", "set") and kv in ("list", "set"):
        # A gold list that repeats a value counts multiplicities (roots: "1, 2, 2" is neither "1, 1, 2" nor
        # "1, 2"); a gold of distinct values is a set of answers (a solution tuple listed twice is one
        # solution, Math-Verify's public case). answers_equal has no gold: a repeat on either side counts.
        if (kv == "list" and _repeats(v[1], ctx)) or (not ctx.gold_side and ku == "list" and _repeats(u[1], ctx)):
            # a set's elements are distinct (duplicates in a set literal collapse): never such a multiset
            return ku == kv and _multiset_match(u[1], v[1], ctx)
        return _set_match(u[1], v[1], ctx)
    if (nu is not None and kv == "tup") or (nv is not None and ku == "tup"):
        named, tup = (nu, v) if nu is not None else (nv, u)
        order = _alphabetical(named)
        if order is not None:  # "y = 1, x = 2" against the pair (1, 2): the pair's order is the variables' own,
            # (x, y), (a, b), (m, n), not the order they were written in (by position it matched (1, 2))
            pairs = list(zip((named[k] for k in order), tup[1]))
            return len(order) == len(tup[1]) and all(  # (each side stays the argument it was: gold second)
                _cmp(x, y, ctx) if nu is not None else _cmp(y, x, ctx) for x, y in pairs)
    if {ku, kv} == {"list", "tup"}:
        return len(u[1]) == len(v[1]) and all(_cmp(x, y, ctx) for x, y in zip(u[1], v[1]))
    if ku == "tup" and kv == "tup":
        return len(u[1]) == len(v[1]) and all(_cmp(x, y, ctx) for x, y in zip(u[1], v[1]))
    if ku in ("iset", "tup", "ineq") and kv in ("iset", "tup", "ineq"):
        a, b = _as_iset(u, ctx), _as_iset(v, ctx)
        if a is None or b is None:
            return False
        if a[1] is not None and b[1] is not None and a[1] != b[1]:
            return False
        return _realset_eq(a[0], b[0], ctx)
    if ku == "mat" or kv == "mat":
        return _mat_eq(u, v, ctx)
    if ku == "ratio" and kv == "ratio":
        if len(u[1]) != len(v[1]):
            return False
        if all(ctx.scalar_eq(x, y) for x, y in zip(u[1], v[1])):
            return True
        if len(u[1]) == 2 and all(ctx.nonzero(x[1][1]) for x in (u, v)):
            return ctx.scalar_eq(("*", (u[1][0], v[1][1])), ("*", (v[1][0], u[1][1])))
        return False
    if {ku, kv} == {"ratio", "x"}:
        r, x = (u, v) if ku == "ratio" else (v, u)
        if len(r[1]) == 2 and ctx.nonzero(r[1][1]):
            return ctx.scalar_eq(("*", (r[1][0], ("inv", r[1][1]))), x[1])
        return False
    return False


def _named_values(w) -> dict | None:
    """{name: value} of "x = 1, y = 2" or "(x, y) = (1, 2)" (distinct plain names), else None.

    Compared by position, "y = 1, x = 2" matched the gold "(x, y) = (1, 2)"."""
    if w[0] == "list" and all(x[0] == "eq" and _pure_name(x[1]) for x in w[1]):
        pairs = [(_key_of_name(x[1]), x[2]) for x in w[1]]
    elif w[0] == "eq" and w[1][0] == "tuple" and w[2][0] == "tup" and len(w[1][1]) == len(w[2][1]):
        if not all(_pure_name(x) for x in w[1][1]):
            return None
        pairs = [(_key_of_name(x), y) for x, y in zip(w[1][1], w[2][1])]
    else:
        return None
    named = dict(pairs)
    return named if len(named) == len(pairs) > 1 else None


def _alphabetical(named: dict) -> list | None:
    """The names of _named_values in alphabetical order, where every one is a single letter; else None."""
    letters = {k: re.fullmatch(r"\('s', '([A-Za-z])'\)", k) for k in named}
    if not all(letters.values()):
        return None
    return sorted(named, key=lambda k: (letters[k][1].lower(), letters[k][1]))


def _set_match(a, b, ctx: _Ctx) -> bool:
    """Set equality: every element of each side equals some element of the other."""

    ka = [_approx_key(x) for x in a]
    kb = [_approx_key(y) for y in b]

    def covered(xs, kx, ys, ky, flip):
        for x, p in zip(xs, kx):
            # a cheap 15-digit value skips pairs that are clearly different before the real test;
            # the gold stays the second argument of _cmp (its repeats decide nested lists)
            # a set among elements is no number: a one-element set is its element only at the top
            # ("\\{1, 2\\}" matched "\\{\\{1\\}, \\{2\\}\\}")
            near = [
                y for y, q in zip(ys, ky) if not _clearly_apart(p, q, ctx.tol) and (x[0] == "set") == (y[0] == "set")
            ]
            if not any(_cmp(y, x, ctx) if flip else _cmp(x, y, ctx) for y in near):
                return False
        return True

    return covered(a, ka, b, kb, False) and covered(b, kb, a, ka, True)


def _repeats(xs, ctx: _Ctx) -> bool:
    """Whether two elements of a list are equal (pairs clearly apart are skipped unevaluated)."""
    ks = [_approx_key(x) for x in xs]
    return any(
        not _clearly_apart(ks[i], ks[j], ctx.tol) and _cmp(xs[i], xs[j], ctx)
        for i in range(len(xs))
        for j in range(i + 1, len(xs))
    )


def _multiset_match(a, b, ctx: _Ctx) -> bool:
    """Multiset equality: the elements pair off one to one, equal in each pair. Compared as sets, the
    roots "1, 1, 2" matched "1, 2, 2". Equality under a tolerance is not transitive, so a greedy pairing
    can miss one that exists: augmenting paths (Kuhn) find it, each pair compared at most once."""
    if len(a) != len(b):
        return False
    ka = [_approx_key(x) for x in a]
    kb = [_approx_key(y) for y in b]
    known: dict = {}

    def eq(i: int, j: int) -> bool:
        r = known.get((i, j))
        if r is None:
            r = known[(i, j)] = not _clearly_apart(ka[i], kb[j], ctx.tol) and _cmp(a[i], b[j], ctx)
        return r

    owner = [-1] * len(b)  # owner[j]: the element of `a` paired with b[j]

    def augment(i: int, seen: set) -> bool:  # depth <= len(a) <= MAX_ITEMS
        for j in range(len(b)):
            if owner[j] < 0 and eq(i, j):
                owner[j] = i
                return True
        for j in range(len(b)):
            if j not in seen and owner[j] >= 0 and eq(i, j):
                seen.add(j)
                if augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return all(augment(i, set()) for i in range(len(a)))


@lru_cache(maxsize=4096)
def _approx_key(v):
    """A complex approximation of a scalar value (variables at a fixed point), or None."""
    if v[0] != "x" or _non_scalar(v[1]):
        return None
    names = _free(v[1], set())
    if any(n.endswith("()") for n in names):
        return None
    env = _rand_points(names, 1, small=True)[0] if names else None  # a name's point is fixed by its name
    try:
        val, err = _Num(env, 20).ev(v[1])
    except (_NeedSymbolic, _TooLarge, ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None
    if err > abs(val) * 1e-12:
        return None
    return complex(val)


def _clearly_apart(p, q, tol: float) -> bool:
    """Whether approximate values differ by far more than the comparison's relative `tol` allows (a
    bound of 1e-9 alone skipped every pair under a tolerance: "1.0, 2" never matched "1.001, 2")."""
    if p is None or q is None:
        return False
    return abs(p - q) > (1e-9 + 2 * tol) * max(abs(p), abs(q)) + 1e-300


def _as_iset(v, ctx: _Ctx):
    k = v[0]
    if k == "iset":
        return (v[1], v[2])
    if k == "tup" and v[2]:
        return (((v[1][0][1], v[1][1][1], False, False),), None)
    if k == "ineq":
        return ctx.solve_ineq(v[1], v[2])
    return None


def _realset_eq(a, b, ctx: _Ctx) -> bool:
    """Equality of unions of intervals. Tries exact canonicalization (merging), else pairwise."""
    ca, cb = _canon_realset(a), _canon_realset(b)
    if ca is not None and cb is not None:
        if len(ca) != len(cb):
            return False
        return all(
            x[2] == y[2] and x[3] == y[3] and _end_eq(x[0], y[0], ctx) and _end_eq(x[1], y[1], ctx)
            for x, y in zip(ca, cb)
        )
    if len(a) != len(b):
        return False

    def same(x, y):
        return x[2] == y[2] and x[3] == y[3] and _end_eq(x[0], y[0], ctx) and _end_eq(x[1], y[1], ctx)

    return all(any(same(x, y) for y in b) for x in a) and all(any(same(y, x) for x in a) for y in b)


def _end_eq(x, y, ctx: _Ctx) -> bool:
    ix, iy = _inf_sign(x), _inf_sign(y)
    if ix or iy:
        return ix == iy
    return ctx.scalar_eq(x, y)


def _inf_sign(x) -> int:
    if x == ("c", "oo"):
        return 1
    if x == ("neg", ("c", "oo")):
        return -1
    return 0


def _canon_realset(parts):
    """Sort and merge intervals whose endpoints evaluate to numbers; None if some do not."""
    items = []
    for lo, hi, lc, rc in parts:
        try:
            flo = _endpoint_num(lo)
            fhi = _endpoint_num(hi)
        except (_NotExact, _NeedSymbolic, _TooLarge, ZeroDivisionError, ValueError, OverflowError):
            return None
        if flo is None or fhi is None:
            return None
        if flo > fhi or (flo == fhi and not (lc and rc)):
            # an interval with no points ("[2, 1]", the pair "(5, 3)" read as an open interval) is as written:
            # dropped as empty, every such answer matched every other ("[1, 0]" matched the point (5, 3))
            return None
        items.append([flo, fhi, lc, rc, lo, hi])
    items.sort(key=lambda t: (t[0], not t[2]))
    merged: list[list] = []
    for it in items:
        if merged:
            last = merged[-1]
            if it[0] < last[1] or (it[0] == last[1] and (last[3] or it[2])):
                if it[1] > last[1] or (it[1] == last[1] and it[3]):
                    last[1], last[3], last[5] = it[1], it[3] or (it[1] == last[1] and last[3]), it[5]
                continue
        merged.append(list(it))
    return [(m[4], m[5], m[2], m[3]) for m in merged]


def _endpoint_num(x):
    s = _inf_sign(x)
    if s:
        return float("inf") * s
    if not _is_const(x):
        return None
    try:
        return _exact(x, None)
    except _NotExact:
        v = _num_value(x)
        if v is None:
            return None
        return v


def _mat_value(node, ctx: _Ctx):
    """Evaluate a scalar AST containing matrices (sums/products of matrices) to a ('mat', rows)."""
    if node[0] == "mat":
        return ("mat", node[1])
    if node[0] == "+":
        ms = [_mat_value(t, ctx) for t in node[1]]
        if any(m[0] != "mat" for m in ms):
            return ("raw", "")
        shape = (len(ms[0][1]), len(ms[0][1][0]))
        if any((len(m[1]), len(m[1][0])) != shape for m in ms):
            return ("raw", "")
        rows = tuple(
            tuple(("+", tuple(m[1][i][j] for m in ms)) for j in range(shape[1])) for i in range(shape[0])
        )
        return ("mat", rows)
    if node[0] == "neg":
        m = _mat_value(node[1], ctx)
        if m[0] != "mat":
            return m
        return ("mat", tuple(tuple(("neg", x) for x in r) for r in m[1]))
    if node[0] == "*":
        acc = None
        scal = []
        for f in node[1]:
            if _has(f, ("mat",)):
                m = _mat_value(f, ctx)
                if m[0] != "mat":
                    return ("raw", "")
                if acc is None:
                    acc = m
                else:
                    a, b = acc[1], m[1]
                    if len(a[0]) != len(b):
                        return ("raw", "")
                    acc = (
                        "mat",
                        tuple(
                            tuple(
                                ("+", tuple(("*", (a[i][t], b[t][j])) for t in range(len(b))))
                                for j in range(len(b[0]))
                            )
                            for i in range(len(a))
                        ),
                    )
            else:
                scal.append(f)
        if acc is None:
            return ("raw", "")
        if scal:
            acc = ("mat", tuple(tuple(("*", (*scal, x)) for x in r) for r in acc[1]))
        return acc
    if node[0] == "tuple" and len(node[1]) == 1:
        return _mat_value(node[1][0], ctx)
    return ("raw", "")


def _mat_eq(u, v, ctx: _Ctx) -> bool:
    def rows_of(w):
        if w[0] == "mat":
            return w[1]
        if w[0] == "x" and _has(w[1], ("mat",)):
            m = _mat_value(w[1], ctx)
            return m[1] if m[0] == "mat" else None
        if w[0] == "tup" and all(x[0] == "x" for x in w[1]):
            return tuple((x[1],) for x in w[1])  # a tuple is a column vector
        return None

    a, b = rows_of(u), rows_of(v)
    if a is None or b is None:
        return False
    if len(a) != len(b) or len(a[0]) != len(b[0]):
        # a row vector equals the same column vector
        if len(a) == 1 and len(b[0]) == 1 and len(a[0]) == len(b):
            a = tuple((x,) for x in a[0])
        elif len(b) == 1 and len(a[0]) == 1 and len(b[0]) == len(a):
            b = tuple((x,) for x in b[0])
        else:
            return False
    return all(_cmp(("x", x), ("x", y), ctx) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


# ---------------------------------------- exact evaluation -------------------------------------


def _bits(q: Fraction) -> int:
    return max(q.numerator.bit_length(), q.denominator.bit_length())


def _exact_limits() -> tuple[float, int]:
    """(deadline, bit cap) for exact arithmetic in this thread: set by `_exact_bounds` around a
    comparison; exact arithmetic elsewhere (the symbolic worker, which is killed at its bound) only
    has the default size cap."""
    return getattr(_TLS, "deadline", _NO_DEADLINE), getattr(_TLS, "max_bits", _MAX_EXACT_BITS)


@contextmanager
def _exact_bounds(deadline: float = _NO_DEADLINE, max_bits: int = _MAX_EXACT_BITS):
    # Thread-local rather than a parameter: `_exact` is reached from many evaluators (exact,
    # numeric, interval endpoints, cached values), and each would otherwise have to pass it along.
    prev = _exact_limits()
    _TLS.deadline, _TLS.max_bits = deadline, max_bits
    try:
        yield
    finally:
        _TLS.deadline, _TLS.max_bits = prev


def _check_deadline() -> None:
    """Raise _Deadline once the current comparison is out of time (cheap: one clock read)."""
    if time.monotonic() > _exact_limits()[0]:
        raise _Deadline


def _iroot(x: int, n: int):
    """Exact integer n-th root of x >= 0, or None."""
    if x < 0:
        return None
    if x < 2:
        return x
    r = int(round(x ** (1.0 / n))) if x.bit_length() < 1000 else _int_nth_root(x, n)
    for c in (r - 1, r, r + 1):
        if c >= 0 and c**n == x:
            return c
    return None


def _int_nth_root(x: int, n: int) -> int:
    """floor(x ** (1/n)) for x >= 2**999.

    Newton's iteration from a float estimate of the leading bits: a handful of steps, each a few
    multiplications of x-sized integers (a bisection needs bit_length/n steps, seconds for a
    100,000-bit x). Iterating from above, the sequence decreases to the floor root and stops there."""
    if n == 2:
        return _math.isqrt(x)
    shift = (x.bit_length() - 900) // n  # x >> (shift * n) has 900..963 bits: fits a float
    top = x >> (shift * n)
    # the float root is good to ~50 bits; raised by 2^-40 relative it is above the true root
    r = (int(top ** (1.0 / n) * (1 + 2.0**-40)) + 1) << shift
    while True:
        _check_deadline()
        y = ((n - 1) * r + x // r ** (n - 1)) // n
        if y >= r:
            return r
        r = y


def _exact_root(q: Fraction, n: int) -> Fraction:
    if n <= 0 or n > 64:
        raise _NotExact
    if q < 0:
        if n % 2 == 0:
            raise _NotExact
        return -_exact_root(-q, n)
    if _bits(q) > _exact_limits()[1]:
        raise _NotExact  # the numeric path takes it
    _check_deadline()
    a, b = _iroot(q.numerator, n), _iroot(q.denominator, n)
    if a is None or b is None:
        raise _NotExact
    return Fraction(a, b)


def _exact(node, env) -> Fraction:
    """Exact rational value (symbols from env), or raise _NotExact. Bounded by size guards."""
    k = node[0]
    if k == "n":
        return node[1]
    if k == "s":
        if env is not None and node[1] in env:
            return env[node[1]]
        raise _NotExact
    if k == "+":
        # sums are size-capped like products: adding fractions with huge coprime denominators
        # grows them (and the gcd work) with every term
        max_bits = _exact_limits()[1]
        r = Fraction(0)
        for t in node[1]:
            r += _exact(t, env)
            if _bits(r) > max_bits:
                raise _NotExact
        return r
    if k == "*":
        max_bits = _exact_limits()[1]
        r = Fraction(1)
        for f in node[1]:
            r *= _exact(f, env)
            if _bits(r) > max_bits:
                raise _NotExact
        return r
    if k == "neg":
        return -_exact(node[1], env)
    if k == "inv":
        d = _exact(node[1], env)
        if d == 0:
            raise ZeroDivisionError
        return 1 / d
    if k == "^":
        b = _exact(node[1], env)
        e = _exact(node[2], env)
        _check_deadline()
        if e.denominator != 1:
            if e.denominator > 64:
                raise _NotExact
            b = _exact_root(b, e.denominator)
            e = Fraction(e.numerator)
        ei = int(e)
        if b == 0:
            if ei < 0:
                raise ZeroDivisionError
            return Fraction(1) if ei == 0 else Fraction(0)
        if abs(b) == 1:
            return b ** (ei % 2) if b < 0 else Fraction(1)
        if abs(ei) * _bits(b) > _exact_limits()[1]:
            raise _NotExact
        return b**ei
    if k == "sqrt":
        x = _exact(node[1], env)
        n = 2 if node[2] is None else _exact(node[2], env)
        if isinstance(n, Fraction) and n.denominator != 1:
            raise _NotExact
        return _exact_root(x, int(n))
    if k == "!":
        x = _exact(node[1], env)
        if x.denominator != 1 or x < 0:
            raise _NotExact
        if x > 3000:
            raise _NotExact
        _check_deadline()
        return Fraction(_math.factorial(int(x)))
    if k == "binom":
        a, b = _exact(node[1], env), _exact(node[2], env)
        if a.denominator != 1 or b.denominator != 1 or a < 0 or a > 20000:
            raise _NotExact
        _check_deadline()
        return Fraction(_math.comb(int(a), int(b))) if b >= 0 else Fraction(0)
    if k == "fn" and node[1] == "abs":
        return abs(_exact(node[2][0], env))
    if k == "fn" and node[1] == "mod" and len(node[2]) == 2:
        if env is not None and _free(node, set()):
            raise _NotExact  # piecewise in a variable, as floor
        a, m = _exact(node[2][0], env), _exact(node[2][1], env)
        if m == 0:
            raise ZeroDivisionError
        return a % m  # Fraction %: the sign of the modulus (7 mod 4 = 3, -1 mod 4 = 3)
    if k == "fn" and node[1] in ("floor", "ceil") and len(node[2]) == 1:
        if env is not None and _free(node[2][0], set()):
            # floor of a variable is piecewise: agreeing at a few random points proves nothing
            raise _NotExact
        x = _exact(node[2][0], env)
        return Fraction(_math.floor(x) if node[1] == "floor" else _math.ceil(x))
    if k == "based":
        return _based(node)
    if k == "tuple" and len(node[1]) == 1:
        return _exact(node[1][0], env)
    raise _NotExact


def _based(node) -> Fraction:
    digits, base = node[1], node[2]
    if not (2 <= base <= 36) or digits == "?":
        raise _NotExact
    try:
        return Fraction(int(digits, base))
    except ValueError:
        raise _NotExact from None


# Exact values past the exact size cap (2^{100000}, 100000!) are compared to 60 digits only: 2^{100000}
# and 2^{100000} + 1 agreed there. Their residues modulo a fixed 277-bit product of three primes (the
# Mersenne primes 2^61-1, 2^89-1, 2^127-1) are cheap to compute exactly and tell such values apart.
_RES_MOD = (2**61 - 1) * (2**89 - 1) * (2**127 - 1)
_RES_MAX_N = 1_000_000  # factorials and binomials up to this many factors, with deadline checks


def _residue(node, env) -> int:
    """The exact rational value of `node` modulo _RES_MOD (symbols from env), or raise _NotExact
    where it has none (pi, roots, floor, a denominator sharing a factor with the modulus...)."""
    m = _RES_MOD
    k = node[0]
    try:
        if k in ("n", "s", "based"):
            q = _exact(node, env)
            return q.numerator * pow(q.denominator, -1, m) % m
        if k == "+":
            return sum(_residue(t, env) for t in node[1]) % m
        if k == "*":
            r = 1
            for f in node[1]:
                r = r * _residue(f, env) % m
            return r
        if k == "neg":
            return -_residue(node[1], env) % m
        if k == "inv":
            return pow(_residue(node[1], env), -1, m)
        if k == "^":
            e = _exact(node[2], env)
            if e.denominator != 1:
                raise _NotExact
            _check_deadline()
            return pow(_residue(node[1], env), int(e), m)
        if k in ("!", "binom"):
            n = _exact(node[1], env)
            j = _exact(node[2], env) if k == "binom" else n
            if n.denominator != 1 or j.denominator != 1 or not 0 <= n <= _RES_MAX_N:
                raise _NotExact
            n, j = int(n), int(j)
            if k == "binom":
                if j < 0 or j > n:
                    return 0
                j = min(j, n - j)
            r = d = 1
            for i in range(j):
                if i % 10_000 == 0:
                    _check_deadline()
                r = r * (n - i) % m
                if k == "binom":
                    d = d * (i + 1) % m
            return r * pow(d, -1, m) % m  # j! is invertible: its factors are below the modulus's primes
        if k == "tuple" and len(node[1]) == 1:
            return _residue(node[1][0], env)
    except ValueError:  # no inverse modulo _RES_MOD
        raise _NotExact from None
    raise _NotExact


def _residues_differ(a, b, envs) -> bool:
    """Do the exact values of a and b differ at one of `envs` (shown by their residues)? False where
    residues cannot be computed."""
    for env in envs:
        try:
            if _residue(a, env) != _residue(b, env):
                return True
        except (_NotExact, ZeroDivisionError):
            continue
    return False


def _has_float_literal(node) -> bool:
    if node[0] == "n":
        return node[2]
    return node[0] not in ("s", "c", "text", "based", "sym") and any(
        _has_float_literal(x) for x in _children(node)
    )


def _bare_literal(node):
    """(value, significant digits) of a float literal standing alone (or negated), else None."""
    sign = 1
    if node[0] == "neg":
        sign, node = -1, node[1]
    if node[0] == "n" and node[2]:
        return sign * node[1], node[2]
    return None


def _is_print_of(d: Fraction, sig: int, v: Fraction) -> bool:
    """Whether the decimal `d` of `sig` significant digits can be a print of the exact value `v`. A value `d`
    writes exactly in its last place (a whole number, a terminating decimal) is printed as itself, so nothing
    else matches it but a float computation's print of it (_float_artifact_of: "0.30000000000000004" for 0.3):
    under a relative 1e-14, "123456789012345.5" matched both 123456789012345 and 123456789012346, and
    "10000000000000000.0" every integer within 100 of it. Otherwise `v` within one unit
    of `d`'s last place, rounded or cut there ("0.0833333333333333" for 1/12, "1.8446744073709552e19" for
    2^64), or, for a print of a double (<= 17 digits), `v`'s nearest double ("0.66666666666666663" for 2/3),
    or a float computation's print of it ("0.33333333333333337" for 1 - 2/3)."""
    if d == v:
        return True
    if d == 0:
        return False
    x = abs(d)
    # floor(log10 |d|) from bit lengths (str() of a 10^5000 refuses), then made exact
    p = int((x.numerator.bit_length() - x.denominator.bit_length()) * 0.30102999566398120)
    while Fraction(10) ** p > x:
        p -= 1
    while Fraction(10) ** (p + 1) <= x:
        p += 1
    unit = Fraction(10) ** (p - sig + 1)  # d's last written place
    if (v / unit).denominator == 1:
        return _float_artifact_of(d, v)
    if abs(v - d) < unit:
        return True
    try:
        if sig <= 17 and float(d) == float(v):
            return True
    except OverflowError:
        return False
    # a float computation's print of a value no double holds ("0.33333333333333337" for 1 - 2/3)
    return _float_artifact_of(d, v)


def _float_artifact_of(d: Fraction, v: Fraction) -> bool:
    """Whether `d` is within the float tolerance (1e-14 relative) of the exact `v`, as a float computation of `v`
    prints ("0.30000000000000004" for 0.1 + 0.2 = 0.3, "0.050000000000000044" for 1 - 0.95 = 1/20, a sum's
    "1.5263157894736832" for 29/19), where that window cannot reach another value as coarse as `v` (its
    denominator): under the tolerance alone "123456789012345.5" matched both 123456789012345 and 123456789012346, and
    "10000000000000000.0" every integer within 100 of it. So a tolerance never makes one answer right for two
    golds of the same precision. Not at 0, whose window is empty."""
    if v == 0:
        return False
    window = _PRINT_TOL * abs(v)
    if abs(d - v) <= window and 2 * window * v.denominator < 1:
        return True
    # past the window's reach (large integers: 1e-14 of 123456789012345 is 1.2), a few ULPs of v's own double still
    # are a computation's print ("123456789012345.03", 2 ULPs), where 8 ULPs stay under 1/denominator
    try:
        fd, fv = float(d), float(v)
    except OverflowError:
        return False
    if _math.isinf(fd) or _math.isinf(fv) or (fd < 0) != (fv < 0):
        return False
    ulp = _math.ulp(fv)
    return abs(fd - fv) <= 4 * ulp and 8 * ulp * v.denominator < 1


_PRINT_TOL = Fraction(1, 10**14)


def _printed_eq(a, b, ea: Fraction, eb: Fraction) -> bool | None:
    """Exact values where one side (or both) is a float literal alone: whether one is a print of the other;
    None where neither side is a bare float literal (the relative float tolerance decides)."""
    la, lb = _bare_literal(a), _bare_literal(b)
    if la is None and lb is None:
        return None
    return (la is not None and _is_print_of(la[0], la[1], eb)) or (lb is not None and _is_print_of(lb[0], lb[1], ea))


def _close(a, b, tol: float) -> bool:
    if tol <= 0:
        return a == b
    diff = abs(a - b)
    scale = max(abs(a), abs(b))
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return diff <= Fraction(tol) * scale
    return diff <= tol * scale


def _rand_points(names, n: int = 3, small: bool = False):
    return _rand_points_cached(tuple(sorted(names)), n, small)


@lru_cache(maxsize=1024)
def _rand_points_cached(names: tuple, n: int, small: bool):
    """Deterministic pseudo-random rational points. Exact identity tests use large values (fewer
    accidental roots); numeric ones use values of order 1 so exp/trig stay well-conditioned."""
    pts = []
    for k in range(n):
        env = {}
        for i, name in enumerate(names):
            rng = random.Random(f"{name}|{k}")
            # both signs: |x| = x and sqrt(x^2) = x hold only for positive x
            sign = _sign(k, i)
            den = rng.choice((97, 101, 103, 107, 109))
            num = rng.randint(30, 250) if small else rng.randint(10_000, 99_999)
            env[name] = sign * Fraction(num, den)
        pts.append(env)
    return pts


_NON_SCALAR = ("set", "list", "orrel", "rel", "union", "setop", "reals", "ratio", "text", "pm", "pmu")


def _non_scalar(node) -> bool:
    if node[0] in _NON_SCALAR or (node[0] == "tuple" and len(node[1]) > 1):
        return True
    if node[0] in ("n", "s", "c", "based", "sym"):
        return False
    return any(_non_scalar(x) for x in _children(node))


def _fast_scalar_eq(a, b, tol: float) -> bool:
    if _non_scalar(a) or _non_scalar(b):
        return False  # "-[0,1)" or "2\text{ apples} + 1": no value to compare (equal strings matched earlier)
    exact_tol = tol
    if _has_float_literal(a) or _has_float_literal(b):
        tol = max(tol, _FLOAT_LITERAL_TOL)
    fa = _free(a, set())
    fb = _free(b, set())
    if not fa and not fb:
        try:
            ea, eb = _exact(a, None), _exact(b, None)
            if exact_tol <= 0 and (printed := _printed_eq(a, b, ea, eb)) is not None:
                return printed
            return _close(ea, eb, tol)
        except _NotExact:
            pass
        except ZeroDivisionError:
            raise _NeedSymbolic from None
        return _numeric_const_eq(a, b, tol) and not (tol <= 0 and _residues_differ(a, b, (None,)))
    names = fa | fb
    if (
        any(nm.endswith("()") for nm in names)
        or _has(a, ("sum", "prod", "text"))
        or _has(b, ("sum", "prod", "text"))
    ):
        raise _NeedSymbolic
    # |f(x)| and sqrt(f(x)) are piecewise: their pieces may meet anywhere (|x+100| and sqrt((x+100)^2)
    # agreed with x+100 at every point tried), so agreement at the usual points is not enough: the numeric
    # test adds points of every size
    piecewise = _var_piecewise(a) or _var_piecewise(b)
    # randomized exact identity test for rational functions
    try:
        ok = 0
        for env in _rand_points(names):
            try:
                va, vb = _exact(a, env), _exact(b, env)
            except ZeroDivisionError:
                continue
            if va != vb:
                return False
            ok += 1
        if ok >= 2 and not piecewise:
            return True
    except _NotExact:
        pass
    r = _numeric_identity(a, b, names, piecewise)
    if r is None:
        raise _NeedSymbolic
    return r and not (tol <= 0 and _residues_differ(a, b, _rand_points(names)))


def _sign(k: int, i: int) -> int:
    """The sign of the i-th variable at the k-th point: all positive, all negative, then mixed (bit k-2 of i
    flips it), so that two variables also take opposite signs (|x| + |y| = |x + y| held at every point)."""
    flip = (i >> (k - 2)) & 1 if k >= 2 else 0
    return -1 if (k + flip) % 2 else 1


@lru_cache(maxsize=256)
def _wide_points(names: tuple):
    """Points of both signs from 10^-4 to 10^12 in size, for identities with |f(x)| (see _fast_scalar_eq)."""
    pts = []
    for k in range(16):
        env = {}
        for i, name in enumerate(names):
            rng = random.Random(f"{name}|wide|{k}")
            den = rng.choice((97, 101, 103, 107, 109))
            env[name] = _sign(k, i) * Fraction(rng.randint(100, 999) * 10**k, den * 10**4)
        pts.append(env)
    return pts


_INV_TRIG = frozenset("arcsin arccos arctan arcsec arccsc arccot".split())


def _var_piecewise(node) -> bool:
    """|f(x)|, a root of f(x) or f(x)^(p/q), an inverse trig function of f(x): each is piecewise in x
    (sqrt((x+100)^2) is |x+100|; arcsin(sin x) is x only on [-pi/2, pi/2], where the usual points may all lie)."""
    # the kind first: _free walks the whole subtree, and this runs at every node
    if (
        (node[0] == "fn" and (node[1] == "abs" or node[1] in _INV_TRIG)) or node[0] == "sqrt"
        or (node[0] == "^" and _free(node[1], set()) and not _is_integer_literal(node[2]))
    ) and _free(node, set()):
        return True
    return node[0] not in ("n", "s", "c", "text", "based", "sym") and any(_var_piecewise(x) for x in _children(node))


def _is_integer_literal(node) -> bool:
    try:
        v = _exact(node, None)
    except (_NotExact, _TooLarge, ZeroDivisionError, ValueError, OverflowError):
        return False
    return isinstance(v, Fraction) and v.denominator == 1


def _numeric_identity(a, b, names, piecewise: bool | None = None):
    """Identity test for non-rational expressions in variables: evaluate at 4 random points of both
    signs (60 and 90 digits); any clear difference refutes, agreement to 45 digits at >= 3 points
    accepts (SymPy's simplify would only be a slower, weaker way to reach the same verdict)."""
    agree = 0
    points = _rand_points(names, 4, small=True)
    if piecewise if piecewise is not None else (_var_piecewise(a) or _var_piecewise(b)):
        points = points + _wide_points(tuple(sorted(names)))
    for env in points:
        _check_deadline()  # up to 20 points of a 1,000-character expression
        try:
            r = _numeric_cmp(a, b, env)
        except _TooLarge:
            continue  # e^{x^4} at this point: another point decides
        if r is False:
            return False
        if r is True:
            agree += 1
    return True if agree >= 3 else None


def _fast_proportional(d1, d2) -> bool:
    names = _free(d1, set()) | _free(d2, set())
    if not names or any(nm.endswith("()") for nm in names):
        raise _NeedSymbolic
    try:
        vals = []
        for env in _rand_points(names, 4):
            try:
                vals.append((_exact(d1, env), _exact(d2, env)))
            except ZeroDivisionError:
                continue
        if len(vals) < 3:
            raise _NeedSymbolic
        if all(y == 0 for _, y in vals) or all(x == 0 for x, _ in vals):
            raise _NeedSymbolic
        x0, y0 = next((x, y) for x, y in vals if y != 0)
        if x0 == 0:
            return False
        return all(x * y0 == y * x0 for x, y in vals)
    except _NotExact:
        raise _NeedSymbolic from None


def _fast_solve_ineq(ops, xs):
    """Linear inequalities in one variable, solved exactly; else _NeedSymbolic."""
    names = set()
    for x in xs:
        _free(x, names)
    if len(names) != 1 or any(nm.endswith("()") for nm in names):
        raise _NeedSymbolic
    (var,) = names
    parts_list = []
    for op, a, b in zip(ops, xs, xs[1:]):
        d = ("+", (a, ("neg", b)))
        try:
            f0 = _exact(d, {var: Fraction(0)})
            f1 = _exact(d, {var: Fraction(1)})
            fr = _exact(d, {var: Fraction(7919, 13)})
            fm = _exact(d, {var: Fraction(-7907, 11)})
        except (_NotExact, ZeroDivisionError):
            raise _NeedSymbolic from None
        slope = f1 - f0
        if fr != f0 + slope * Fraction(7919, 13) or fm != f0 + slope * Fraction(-7907, 11) or slope == 0:
            raise _NeedSymbolic
        root = ("n", -f0 / slope, False)
        parts_list.append(_half(op if slope > 0 else _flip(op), root))
    if len(parts_list) == 1:
        return (parts_list[0], _key_of_name(("s", var)))
    # intersection of half-lines
    lo, hi, lc, rc = None, None, False, False
    for parts in parts_list:
        if len(parts) != 1:
            raise _NeedSymbolic
        p_lo, p_hi, p_lc, p_rc = parts[0]
        if not _inf_sign(p_lo):
            v = p_lo[1]
            if lo is None or v > lo or (v == lo and not p_lc):
                lo, lc = v, p_lc
        if not _inf_sign(p_hi):
            v = p_hi[1]
            if hi is None or v < hi or (v == hi and not p_rc):
                hi, rc = v, p_rc
    lo_n = ("n", lo, False) if lo is not None else ("neg", ("c", "oo"))
    hi_n = ("n", hi, False) if hi is not None else ("c", "oo")
    return (((lo_n, hi_n, lc, rc),), _key_of_name(("s", var)))


# ---------------------------------------- numeric evaluation -----------------------------------


def _mp(dps: int = _NUM_DPS):
    ctxs = getattr(_TLS, "mp", None)
    if ctxs is None:
        ctxs = _TLS.mp = {}
    ctx = ctxs.get(dps)
    if ctx is None:
        import mpmath

        # a private context per thread: mpmath's global precision is shared mutable state
        ctx = mpmath.MPContext()
        ctx.dps = dps
        ctxs[dps] = ctx
    return ctx


class _Num:
    """Numeric evaluator with a running absolute error bound (value, err) for every node.

    Why error bounds: "equal to 45 digits" is only meaningful when the digits are right. Sums
    lose digits to cancellation (pi*10^100 + 1 - pi*10^100), functions amplify argument error
    (sin(10^100) at 60 digits is noise); the bound tracks both, so a comparison decides only
    when the difference is far outside the accumulated error."""

    def __init__(self, env, dps: int = _NUM_DPS):
        self.mp = _mp(dps)
        self.env = env
        self.eps = self.mp.mpf(2) ** (-self.mp.prec)

    def chk(self, v, e):
        m = self.mp
        if not m.isfinite(v) or not m.isfinite(e):
            raise _NeedSymbolic
        if v != 0 and m.mag(v) > _MAX_LOG2:
            raise _TooLarge("magnitude")
        return v, e

    def lit(self, q: Fraction):
        v = self.mp.mpf(q.numerator) / q.denominator
        return v, abs(v) * self.eps

    def ev(self, node):
        m = self.mp
        k = node[0]
        if k == "n":
            return self.lit(node[1])
        if k == "s":
            if self.env is not None and node[1] in self.env:
                return self.lit(self.env[node[1]])
            raise _NeedSymbolic
        if k == "c":
            name = node[1]
            if name == "pi":
                v = +m.pi
            elif name == "e":
                v = +m.e
            elif name == "i":
                return m.mpc(0, 1), m.mpf(0)
            else:
                raise _NeedSymbolic
            return v, v * self.eps
        if k == "+":
            v, e = m.mpf(0), m.mpf(0)
            for t in node[1]:
                tv, te = self.ev(t)
                v, e = v + tv, e + te
            return self.chk(v, e + abs(v) * self.eps)
        if k == "*":
            v, e = m.mpf(1), m.mpf(0)
            for f in node[1]:
                fv, fe = self.ev(f)
                v, e = v * fv, abs(v) * fe + abs(fv) * e + e * fe
                self.chk(v, e)
            return self.chk(v, e + abs(v) * self.eps)
        if k == "neg":
            v, e = self.ev(node[1])
            return -v, e
        if k == "inv":
            v, e = self.ev(node[1])
            if abs(v) <= 2 * e or v == 0:
                raise _NeedSymbolic  # division by (possibly) zero
            r = 1 / v
            return self.chk(r, e / (abs(v) * (abs(v) - e)) + abs(r) * self.eps)
        if k == "^":
            return self.power(node)
        if k == "sqrt":
            x, ex = self.ev(node[1])
            if node[2] is None:
                n = 2
            else:
                nv, ne = self.ev(node[2])
                if ne > abs(nv) * self.eps * 4 or nv != int(nv) or nv < 1:
                    return self.power(("^", node[1], ("inv", node[2])))
                n = int(nv)
            if x == 0:
                return m.mpf(0), (ex ** (m.mpf(1) / n) if ex else m.mpf(0))
            if abs(x) <= 2 * ex:
                raise _NeedSymbolic
            if not isinstance(x, type(m.mpc(0))) and x < 0 and n % 2 == 1:
                v = -m.root(-x, n)  # real odd root: cube root of -8 is -2
            else:
                v = m.sqrt(x) if n == 2 else m.root(x, n)
            return self.chk(v, abs(v) * (ex / (n * (abs(x) - ex))) + abs(v) * self.eps * 2)
        if k == "!":
            x, ex = self.ev(node[1])
            if isinstance(x, type(m.mpc(0))) or x < 0:
                raise _NeedSymbolic
            if x > 10**5 and x * m.log(x, 2) > _MAX_LOG2:
                raise _TooLarge("factorial")
            return self.generic(lambda t: m.factorial(t), x, ex)
        if k == "binom":
            a, ea = self.ev(node[1])
            b, eb = self.ev(node[2])
            if abs(a) > 10**7:
                raise _TooLarge("binom")
            v, e1 = self.generic(lambda t: m.binomial(t, b), a, ea)
            _, e2 = self.generic(lambda t: m.binomial(a, t), b, eb)
            return self.chk(v, e1 + e2)
        if k == "fn":
            return self.fn(node[1], node[2])
        if k == "based":
            return self.lit(_based(node))
        if k == "tuple" and len(node[1]) == 1:
            return self.ev(node[1][0])
        raise _NeedSymbolic

    def power(self, node):
        m = self.mp
        b, eb = self.ev(node[1])
        x, ex = self.ev(node[2])
        if b == 0:
            if eb == 0 and not isinstance(x, type(m.mpc(0))) and x > ex:
                return m.mpf(0), m.mpf(0)
            raise _NeedSymbolic
        if abs(b) <= 2 * eb:
            raise _NeedSymbolic
        lb = m.log(abs(b), 2)
        if abs(x) * abs(lb) > _MAX_LOG2:
            raise _TooLarge("power")
        is_int = ex == 0 or (not isinstance(x, type(m.mpc(0))) and x == int(x) and _is_int_ast(node[2]))
        if is_int and not isinstance(x, type(m.mpc(0))) and abs(x) < 10**6:
            n = int(x)
            v = b**n
            rel = abs(n) * eb / (abs(b) - eb)
            return self.chk(v, abs(v) * (rel + rel * rel) + abs(v) * self.eps * (abs(n).bit_length() + 1))
        if not isinstance(b, type(m.mpc(0))) and b < 0:
            # real odd roots of negatives: (-8)^(1/3) = -2 in competition math
            try:
                q = _exact(node[2], None)
            except (_NotExact, ZeroDivisionError):
                q = None
            if q is not None and q.denominator % 2 == 1:
                v = m.power(-b, x)
                v = -v if q.numerator % 2 else v
                rel = abs(x) * eb / (abs(b) - eb) + abs(m.log(-b)) * ex
                return self.chk(v, abs(v) * 2 * rel + abs(v) * self.eps * 4)
        v = m.power(b, x)
        rel = abs(x) * eb / (abs(b) - eb) + abs(m.log(b)) * ex
        if rel > 1:
            raise _NeedSymbolic
        return self.chk(v, abs(v) * 2 * rel + abs(v) * self.eps * 4)

    def floor(self, name, arg):
        """floor/ceil of a constant: exact when the error interval holds no integer."""
        m = self.mp
        if self.env is not None and _free(arg, set()):
            raise _NeedSymbolic  # piecewise in a variable: random points cannot prove an identity
        x, ex = self.ev(arg)
        if isinstance(x, type(m.mpc(0))):
            raise _NeedSymbolic
        f = m.floor if name == "floor" else m.ceil
        v = f(x)
        if f(x - ex) != v or f(x + ex) != v:
            raise _NeedSymbolic  # within the error of an integer: SymPy decides
        return v, m.mpf(0)

    def generic(self, f, x, ex):
        """f(x) with error from the spread of f over [x - ex, x + ex] (f smooth there)."""
        v = f(x)
        if ex == 0:
            return self.chk(v, abs(v) * self.eps * 4)
        spread = max(abs(f(x + ex) - v), abs(f(x - ex) - v))
        return self.chk(v, 2 * spread + abs(v) * self.eps * 4)

    def fn(self, name, arg_nodes):
        m = self.mp
        if name == "log" and len(arg_nodes) == 2:  # log_b x = ln x / ln b
            return self.ev(("*", (("fn", "ln", (arg_nodes[0],)), ("inv", ("fn", "ln", (arg_nodes[1],))))))
        if name == "mod" and len(arg_nodes) == 2:  # a mod m = a - m * floor(a / m)
            a, m = arg_nodes
            q = ("fn", "floor", (("*", (a, ("inv", m))),))
            return self.ev(("+", (a, ("neg", ("*", (m, q))))))
        if len(arg_nodes) != 1:
            raise _NeedSymbolic
        if name in ("floor", "ceil"):
            return self.floor(name, arg_nodes[0])
        x, ex = self.ev(arg_nodes[0])
        if name == "abs":
            return abs(x), ex
        if name in ("ln", "log"):
            if abs(x) <= 2 * ex or x == 0:
                raise _NeedSymbolic
            return self.chk(m.log(x), ex / (abs(x) - ex) + self.eps * 4)
        if name == "exp":
            if m.re(x) > _MAX_LOG2:
                raise _TooLarge("exp")
            v = m.exp(x)
            return self.chk(v, abs(v) * 2 * ex + abs(v) * self.eps * 4)
        table = {
            "sin": m.sin,
            "cos": m.cos,
            "tan": m.tan,
            "sec": m.sec,
            "csc": m.csc,
            "cot": m.cot,
            "arcsin": m.asin,
            "arccos": m.acos,
            "arctan": m.atan,
            "sinh": m.sinh,
            "cosh": m.cosh,
            "tanh": m.tanh,
            "arcsec": m.asec,
            "arccsc": m.acsc,
            "arccot": m.acot,
        }
        if name not in table:
            raise _NeedSymbolic
        if x != 0 and m.mag(x) > 4000:
            raise _TooLarge("trig argument")  # range reduction would need > 4000 bits of pi
        if name in ("sinh", "cosh") and abs(x) > _MAX_LOG2:
            raise _TooLarge("sinh")
        return self.generic(table[name], x, ex)


def _is_int_ast(node) -> bool:
    return node[0] == "n" and node[1].denominator == 1 or (node[0] == "neg" and _is_int_ast(node[1]))


def _num_value(node):
    """A Fraction within the evaluation error of a constant (for ordering interval endpoints)."""
    try:
        v, e = _Num(None).ev(node)
    except _NeedSymbolic:
        return None
    m = _mp()
    if isinstance(v, type(m.mpc(0))) or e > abs(v) * m.mpf(10) ** -30:
        return None
    return Fraction(m.nstr(v, 40))


def _numeric_cmp(a, b, env, tol: float = 0.0):
    """True/False when numeric evaluation decides, None when it cannot.

    Unequal: the difference exceeds four times the combined error bound. Equal: the values agree
    within the error bound and that bound is below 1e-45 of their magnitude (two closed forms
    agreeing to 45 digits), or both are exactly zero."""
    try:
        ea, eb = _Num(env), _Num(env)
        va, erra = ea.ev(a)
        vb, errb = eb.ev(b)
    except (_NeedSymbolic, ValueError, ZeroDivisionError, OverflowError):
        return None
    m = ea.mp
    if not (m.isfinite(va) and m.isfinite(vb)):
        # An infinite value is within any relative tolerance of everything (|x - oo| <= tol * oo):
        # "0.333333333333333" (compared at 1e-14) or any value under `tolerance` would equal oo,
        # and oo would equal -oo. Infinities equal only the same infinity.
        if m.isnan(va) or m.isnan(vb) or m.isfinite(va) or m.isfinite(vb):
            return False
        return bool(va == vb)
    diff = abs(va - vb)
    err = erra + errb
    mag = max(abs(va), abs(vb))
    if tol > 0:
        if diff + err <= tol * mag:
            return True
        if diff - err > tol * mag:
            return False
        return None
    if diff > 4 * err:
        return False
    if mag == 0 and err == 0:
        return True
    if err <= mag * m.mpf(_EQ_REL.numerator) / _EQ_REL.denominator:
        return True
    return None


def _long_decimal(node) -> bool:
    """A decimal literal too long to be a float and too long to be refuted numerically."""
    if node[0] == "n":
        q = node[1]
        return q.denominator != 1 and len(str(q.denominator)) > 17
    return node[0] not in ("s", "c", "text", "based", "sym") and any(
        _long_decimal(x) for x in _children(node)
    )


def _numeric_const_eq(a, b, tol: float) -> bool:
    r = _numeric_cmp(a, b, None, tol)
    if r is None or (r is True and tol <= 0 and (_long_decimal(a) or _long_decimal(b))):
        raise _NeedSymbolic
    return r


# ---------------------------------------- the comparison driver --------------------------------


_INT_RE = re.compile(r"-?[0-9]{1,18}")


@lru_cache(maxsize=4096)
def _clean_cached(s: str) -> str:
    return _clean(s)


def _equal(pred: str, gold: str, tol: float, deadline: float, gold_side: bool):
    """True / False / 'too long' / 'timeout' for two extracted answers (`gold_side`: see _Ctx)."""
    if _INT_RE.fullmatch(pred) and _INT_RE.fullmatch(gold):
        return int(pred) == int(gold)  # the common case, without cleaning or parsing
    with _exact_bounds(deadline):  # exact roots/powers deep inside a comparison see the deadline
        return _equal_bounded(pred, gold, tol, deadline, gold_side)


# a clock time, in 12-hour form with am/pm ("5 pm", "5pm", "3:45 p.m.", "\text{5 pm}") or as a 24-hour "17:00"
_CLOCK_RE = re.compile(r"(\d{1,2})(?::(\d{2}))?(am|pm)?", re.I)
_CLOCK_TWELVE_RE = re.compile(r"^12(?::00)?")
_CLOCK_WRAP_RE = re.compile(r"\\(?:text|mathrm|textrm|mbox)\s*\{|[{}\s.]")


def _clock_minutes(s: str) -> tuple[int, bool] | None:
    """The minutes after midnight of a clock time `s` (cleaned) and whether it names am/pm, else None."""
    w = _CLOCK_WRAP_RE.sub("", s) if len(s) <= 40 else ""
    if (named := _CLOCK_TWELVE_RE.sub("", w.lower(), 1)) in ("noon", "midnight"):
        # "noon" is 12:00, "midnight" 0:00 ("12 noon", "12:00 noon" alike: read as no clock time, "12:00 noon" and
        # the gold "12:00 midnight" compared as 12:00 and scored right, and against the gold "noon" scored 0)
        return (720 if named == "noon" else 0), True
    m = _CLOCK_RE.fullmatch(w) if len(s) <= 40 else None
    if m is None or (m.group(2) is None and m.group(3) is None):
        return None
    h, mins, half = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").lower()
    if mins > 59 or (half and not 1 <= h <= 12) or h > 23:
        return None
    return (h % 12 + (12 if half == "pm" else 0) if half else h) * 60 + mins, bool(half)


def _names_time(s: str) -> bool:
    """Whether `s` names the time of day as "noon" or "midnight" (see _clock_minutes)."""
    low = s.lower()
    return "noon" in low or "midnight" in low


def _same_clock(a: str, b: str) -> bool | None:
    """Whether `a` and `b` are one clock time, at least one in 12-hour form: "5 pm" (or the glued "5pm") is "17:00",
    "12 am" is "0:00" (read as 5 and a unit, or as 5*p*m, no 24-hour gold matched). False only where both name their
    half of the day and differ ("12 noon" vs "12 midnight" compared as 12 and 12 and scored right); otherwise None
    where they differ: a 12-hour time against an ambiguous "3:45" is left to the comparison after it (the gold "3:45"
    accepts "3:45 pm")."""
    ca, cb = _clock_minutes(a), _clock_minutes(b)
    if ca is None or cb is None or not (ca[1] or cb[1]):
        return None
    return True if ca[0] == cb[0] else (False if ca[1] and cb[1] else None)


def _equal_bounded(pred: str, gold: str, tol: float, deadline: float, gold_side: bool):
    a = _clean(pred)
    b = _clean_cached(gold)
    # (cleaning drops a percent sign: "100\%" and "1" compare below, where a percent reads as a fraction too)
    if _INT_RE.fullmatch(a) and _INT_RE.fullmatch(b) and not (_has_percent(pred) or _has_percent(gold)):
        return int(a) == int(b)
    if len(a) > MAX_ANSWER_CHARS or len(b) > MAX_ANSWER_CHARS:
        return "too long"
    if a == b or _squash(a) == _squash(b):
        return True
    # (a named "noon"/"midnight" on either side is a clock time with no ":" needed: "noon" against the gold "12 noon"
    # or "12 pm" was compared as text and scored 0)
    if ((":" in a or ":" in b) and ("m" in a or "m" in b or "M" in a or "M" in b) or _names_time(a) or _names_time(b)) and (
        (same := _same_clock(a, b)) is not None
    ):
        return same
    ua, ub = _units(a), _units(b)
    if ua and ub and ua != ub:
        return False  # "5 km" and "5 m": both name units, not the same
    ca, cb = _choice(a), _choice(b)
    if ca and cb and (ca[0], cb[0]) != (_SEVERAL, _SEVERAL):  # multiple choice: the option's letter decides
        return _choice_equal(ca, cb, tol, deadline, gold_side)
    if bool(ca) != bool(cb) and (c := ca or cb)[0] != _SEVERAL and c[1]:
        # one option with its value against a plain answer: the value decides ("(C) 12" read whole was the
        # product C*12, so the right 12 scored 0 against the gold 12)
        return _equal_bounded(c[1], gold, tol, deadline, gold_side) if ca else _equal_bounded(pred, c[1], tol, deadline, gold_side)
    # a percent reads as a fraction too ("28%" is 0.28) only against a bare number: with both in percent
    # "0.05%" matched "5%" (each side's 1/100 reading met the other's plain one)
    pa, pb = _has_percent(pred), _has_percent(gold)
    if pa and pb:
        pa = pb = False
    elif (pa and _is_angle(b)) or (pb and _is_angle(a)):  # "10%" and "10°" are different quantities
        return False
    try:
        va, vb = _values(a, pa), _values(b, pb)
        return _cmp_alts(va, vb, _Ctx(tol, symbolic=False, deadline=deadline, gold_side=gold_side))
    except _TooLarge:
        return "too long"
    except _Deadline:
        return "timeout"
    except _NeedSymbolic:
        pass
    key = (a, b, tol, pa, pb, gold_side)
    if b < a and not gold_side:  # symmetric
        key = (b, a, tol, key[4], key[3], gold_side)
    hit = _SYM_CACHE.get(key)
    if hit is not None:
        return hit
    left = deadline - time.monotonic()
    if left <= 0:
        return "timeout"
    args = (a, b, tol, pa, pb, gold_side)
    tag, res = _pool().call("ponder.verify.math:_symbolic_equal", args, left)
    if tag == "timeout":
        return "timeout"
    if tag != "ok":
        return "error: symbolic worker"
    if res in (True, False, "too long"):
        _SYM_CACHE.put(key, res)
    return res


# Multiple choice (AMC, AQuA): an answer that names one option, as "C", "(C)", "\\text{(C)}", or a label with the
# option's value, "(C) 12", "C) 12", "\\textbf{(C)}\\ 12". Only capitals A-E: a lowercase letter stays a variable,
# and a bare letter followed by a value ("C 12") stays a product. A label followed by text naming another
# option ("(C) or (D)", "(C) 12, (D) 13") names several options: equal to no single option.
_CHOICE_WRAP_RE = re.compile(r"\\(?:text|textbf|textrm|textnormal|textit|mathrm|mathbf|mathit|mbox)\s*\{([^{}]*)\}")
# ("option C", "Choice (C)": the word naming an option is no part of it; read whole, the right "option C" matched no "C")
_CHOICE_WORD = r"(?:[Oo]ption|[Cc]hoice|OPTION|CHOICE)"
_CHOICE_LABEL_RE = re.compile(
    r"(?:" + _CHOICE_WORD + r"\s*)?(?:\(\s*([A-E])\s*\)|([A-E])\s*\))\s*:?\s*(.*)|(?:" + _CHOICE_WORD + r"\s+)?([A-E])", re.S
)
_CHOICE_ANY_RE = re.compile(r"[A-E]")
_CHOICE_COLON_RE = re.compile(r"^" + _CHOICE_WORD + r"\s+([A-E])\s*:")  # "Option C: 12" is "(C) 12"
_CHOICE_OTHER_RE = re.compile(r"(?<![A-Za-z\\])[A-E](?![A-Za-z])")
_SEVERAL = "several"


def _choice(clean: str) -> tuple[str, str] | None:
    """(letter or "several", the option's value or "") when a cleaned answer names a multiple-choice option."""
    if not _CHOICE_ANY_RE.search(clean):
        return None
    s = clean
    for _ in range(3):  # \textbf{\text{(C)}}
        t = _CHOICE_WRAP_RE.sub(r"\1", s)
        if t == s:
            break
        s = t
    m = _CHOICE_LABEL_RE.fullmatch(_CHOICE_COLON_RE.sub(r"(\1) ", s.strip(), 1))
    if m is None:
        return None
    if m.group(4):
        return m.group(4), ""
    rest = m.group(3).strip()
    if _CHOICE_OTHER_RE.search(rest):
        return _SEVERAL, rest
    return m.group(1) or m.group(2), rest


def _choice_equal(ca: tuple[str, str], cb: tuple[str, str], tol: float, deadline: float, gold_side: bool):
    """The same one option; when both answers give its value, the values agree as well."""
    if _SEVERAL in (ca[0], cb[0]) or ca[0] != cb[0]:
        return False
    if not ca[1] or not cb[1]:
        return True
    return _equal_bounded(ca[1], cb[1], tol, deadline, gold_side)


def _cmp_alts(va, vb, ctx: _Ctx) -> bool:
    need = False
    for x in va:
        for y in vb:
            try:
                if _cmp(x, y, ctx):
                    return True
            except _NeedSymbolic:
                need = True
    if need:
        raise _NeedSymbolic
    return False


class _LRU:
    """A small thread-safe LRU for worker results (self-consistency repeats the same answers)."""

    def __init__(self, n: int):
        self.n = n
        self.d: dict = {}
        self.lock = threading.Lock()

    def get(self, k):
        with self.lock:
            v = self.d.pop(k, None)
            if v is not None:
                self.d[k] = v
            return v

    def put(self, k, v) -> None:
        with self.lock:
            self.d[k] = v
            if len(self.d) > self.n:
                self.d.pop(next(iter(self.d)))


_SYM_CACHE = _LRU(4096)


def _after_fork_in_child() -> None:
    # a lock another thread held at a fork (a DataLoader's, a scoring pool's) stays held in the child: its first
    # check_math hung forever, past its timeout. Fresh locks; the cache's contents are whole (the GIL was held).
    global _POOL_LOCK
    _POOL_LOCK = threading.Lock()
    _SYM_CACHE.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _key_of_values(vals, clean: str) -> str:
    v = vals[-1]

    def key(w) -> str:
        k = w[0]
        if k == "x":
            try:
                if not _free(w[1], set()):
                    q = _exact(w[1], None)
                    return str(q)
            except (_NotExact, ZeroDivisionError):
                pass
            return "".join(repr(w[1]).split())
        if k == "eq" and _name_like(w[1]):
            # the name is part of the key: "x = 5" and "y = 5" are not equal answers
            return "".join(repr(w[1]).split()) + "=" + key(w[2]) + "".join(repr(w[3:]).split())
        if k == "list":  # a multiset: "1, 1, 2" and "1, 2, 2" are different answers
            return "{" + ",".join(sorted(key(x) for x in w[1])) + "}"
        if k == "set":
            return "{" + ",".join(sorted(set(key(x) for x in w[1]))) + "}"
        if k == "tup":
            return "(" + ",".join(key(x) for x in w[1]) + ")"
        if k == "text":
            return w[1]
        return _squash(clean)

    try:
        return key(v)
    except (_TooLarge, RecursionError):
        return _squash(clean)


# ----------------------------------------------------------------------------------------------
# Symbolic comparison: runs only inside a worker process (see bounded.py)
# ----------------------------------------------------------------------------------------------


def _symbolic_equal(
    a: str, b: str, tol: float, pct_a: bool = False, pct_b: bool = False, gold_side: bool = True
):
    """Worker entry point: compare two cleaned answers with SymPy available."""
    try:
        va, vb = _values(a, pct_a), _values(b, pct_b)
        ctx = _Ctx(tol, symbolic=True, gold_side=gold_side)
        for x in va:
            for y in vb:
                try:
                    if _cmp(x, y, ctx):
                        return True
                except _TooLarge:
                    raise
                except Exception:
                    # _NeedSymbolic, or SymPy failing on this pair ("\sum_{n=1}^\infty n" raises "Sum
                    # diverges"): the pair is not shown equal; the verdict was "error: symbolic worker"
                    continue
        return False
    except _TooLarge:
        return "too long"


_SYMS: dict = {}


def _to_sympy(node):
    import sympy as sp

    k = node[0]
    if k == "n":
        return sp.Rational(node[1].numerator, node[1].denominator)
    if k == "s":
        name = node[1]
        if name not in _SYMS:
            _SYMS[name] = sp.Symbol(name, real=True)
        return _SYMS[name]
    if k == "c":
        return {"pi": sp.pi, "e": sp.E, "i": sp.I, "oo": sp.oo}[node[1]]
    if k == "+":
        return sp.Add(*[_to_sympy(t) for t in node[1]])
    if k == "*":
        return sp.Mul(*[_to_sympy(f) for f in node[1]])
    if k == "neg":
        return -_to_sympy(node[1])
    if k == "inv":
        return 1 / _to_sympy(node[1])
    if k == "^":
        b, e = _to_sympy(node[1]), _to_sympy(node[2])
        if e.is_Rational and not e.is_Integer and e.q % 2 == 1 and b.is_negative:
            return -((-b) ** e) if e.p % 2 else (-b) ** e
        if e.is_zero and b.is_infinite:
            return sp.nan  # oo^0 is indeterminate, as 1^oo is (SymPy makes it 1)
        return b**e
    if k == "sqrt":
        x = _to_sympy(node[1])
        if node[2] is None:
            return sp.sqrt(x)
        n = _to_sympy(node[2])
        return sp.real_root(x, n) if x.is_negative else sp.root(x, n)
    if k == "!":
        return sp.factorial(_to_sympy(node[1]))
    if k == "binom":
        return sp.binomial(_to_sympy(node[1]), _to_sympy(node[2]))
    if k == "fn":
        args = [_to_sympy(x) for x in node[2]]
        name = node[1]
        table = {
            "sin": sp.sin,
            "cos": sp.cos,
            "tan": sp.tan,
            "sec": sp.sec,
            "csc": sp.csc,
            "cot": sp.cot,
            "arcsin": sp.asin,
            "arccos": sp.acos,
            "arctan": sp.atan,
            "sinh": sp.sinh,
            "cosh": sp.cosh,
            "tanh": sp.tanh,
            "abs": sp.Abs,
            "floor": sp.floor,
            "ceil": sp.ceiling,
            "exp": sp.exp,
            "ln": sp.log,
            "arcsec": sp.asec,
            "arccsc": sp.acsc,
            "arccot": sp.acot,
            "gcd": sp.gcd,
            "lcm": sp.lcm,
            "max": sp.Max,
            "min": sp.Min,
        }
        if name == "log":
            if len(args) == 2 and args[1].is_zero:
                return sp.nan  # no logarithm to base 0 (SymPy's log(x)/log(0) is 0)
            return sp.log(args[0], args[1]) if len(args) == 2 else sp.log(args[0])
        if name == "mod" and len(args) == 2:
            return sp.Mod(args[0], args[1])
        if name == "det":
            return args[0].det()
        if name in ("gcd", "lcm") and not all(x.is_number for x in args):
            # SymPy's gcd/lcm of symbols is the polynomials' (gcd(a, b) = 1, lcm(a, b) = ab), no integer's:
            # an unknown function of its arguments, in either order
            return sp.Function(name)(*sorted(args, key=sp.default_sort_key))
        if name in table:
            return table[name](*args)
        raise _NeedSymbolic
    if k == "app":
        return sp.Function(node[1])(*[_to_sympy(x) for x in node[2]])
    if k in ("sum", "prod"):
        var = sp.Symbol(node[1], integer=True)
        body = _to_sympy(node[4]).subs(_to_sympy(("s", node[1])), var)
        lim = (var, _to_sympy(node[2]), _to_sympy(node[3]))
        return sp.Sum(body, lim) if k == "sum" else sp.Product(body, lim)
    if k == "mat":
        return sp.Matrix([[_to_sympy(x) for x in r] for r in node[1]])
    if k == "based":
        q = _based(node)
        return sp.Integer(q.numerator)
    if k == "tuple" and len(node[1]) == 1:
        return _to_sympy(node[1][0])
    if k == "sym":
        return node[1]
    raise _NeedSymbolic


def _sym_zero(d) -> bool:
    import sympy as sp

    if d == 0:
        return True
    if getattr(d, "is_Matrix", False):
        return all(_sym_zero(x) for x in d)
    if d.is_number:
        v = sp.N(d, 60)
        if v.is_real is not None and v != 0 and abs(v) > sp.Float("1e-40"):
            return False
    from sympy.core.function import AppliedUndef

    if d.has(sp.Sum, sp.Product) or d.atoms(AppliedUndef):
        # unknown functions and symbolic sums: canonical forms decide; simplify only burns seconds
        return sp.expand(d) == 0 or sp.expand(d.doit()) == 0
    for f in (sp.expand, sp.simplify):
        if f(d) == 0:
            return True
    try:
        r = d.equals(0)
    except Exception:
        r = None
    return bool(r)


def _sym_scalar_eq(a, b, tol: float) -> bool:
    import sympy as sp

    if _has_float_literal(a) or _has_float_literal(b):
        tol = max(tol, _FLOAT_LITERAL_TOL)
    try:
        ea, eb = _to_sympy(a), _to_sympy(b)
    except _NeedSymbolic:
        return False
    if ea.has(sp.zoo, sp.nan) or eb.has(sp.zoo, sp.nan):
        return False  # an undefined value (1/0, log 0) equals nothing, not even itself
    if ea == eb:
        return True
    if tol > 0 and ea.is_number and eb.is_number:
        if ea.is_finite is not True or eb.is_finite is not True:
            return False  # oo is within tol * oo of every value (equal infinities matched above)
        va, vb = sp.N(ea, 30), sp.N(eb, 30)
        return bool(abs(va - vb) <= tol * max(abs(va), abs(vb)))
    if _sym_zero(sp.sympify(ea - eb)):
        return True
    names = _free(a, set()) | _free(b, set())
    if names and not any(n.endswith("()") for n in names):
        return _numeric_identity(a, b, names) is True
    return False


def _sym_proportional(d1, d2) -> bool:
    import sympy as sp

    e1, e2 = _to_sympy(d1), _to_sympy(d2)
    if e2 == 0 or e1 == 0:
        return False
    r = sp.simplify(e1 / e2)
    return bool(r.free_symbols == set() and r != 0 and r.is_finite)


def _sym_solve_ineq(ops, xs):
    import sympy as sp

    names = set()
    for x in xs:
        _free(x, names)
    if len(names) != 1:
        return None
    (var,) = names
    if any(_has_periodic(x) for x in xs):
        return None  # SymPy answers one period: "\\sin x > 0" came out as (0, pi) and matched it
    v = _to_sympy(("s", var))
    rel_of = {"<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge, "!=": sp.Ne}
    sol = sp.S.Reals
    for op, a, b in zip(ops, xs, xs[1:]):
        sol = sol.intersect(sp.solveset(rel_of[op](_to_sympy(a), _to_sympy(b)), v, sp.S.Reals))
    parts = []
    for piece in sol.args if isinstance(sol, sp.Union) else (sol,):
        if isinstance(piece, sp.Interval):
            parts.append(
                (_from_sympy(piece.start), _from_sympy(piece.end), not piece.left_open, not piece.right_open)
            )
        elif isinstance(piece, sp.FiniteSet):
            for p in piece:
                parts.append((_from_sympy(p), _from_sympy(p), True, True))
        else:
            return None
    return (tuple(parts), _key_of_name(("s", var)))


def _from_sympy(x):
    import sympy as sp

    if x == sp.oo:
        return ("c", "oo")
    if x == -sp.oo:
        return ("neg", ("c", "oo"))
    if x.is_Rational:
        return ("n", Fraction(int(x.p), int(x.q)), False)
    return ("sym", x)
