"""Format reward: reasoning inside think tags, then a final answer.

Shape checked (default tags)::

    <think> ... </think> ... \\boxed{...}        or        ... </think> ... Answer: ...

Exactly one opening and one closing tag, the opening one first (only whitespace before it), and after the
closing tag a final answer: a `\\boxed{...}` (or `\\boxed {...}`, `\\boxed 5`, as check_math reads them), a line
starting with "Answer:" (or the line under an "Answer:" alone) or `<answer>...</answer>`
(DeepSeek-R1-Zero's template; the countdown verifier reads it too). With `open_in_prompt=True`
the opening tag is part of the prompt (chat templates that prefill "<think>"), so the completion must not
repeat it. The thinking itself may be empty: a non-thinking mode emits "<think>\\n\\n</think>". With
`closed_in_prompt=True` the prompt ends with that whole block (Qwen3's template with enable_thinking=False), so
the completion is judged as if it began with it: a final answer and no think tag of its own.

Who samples and then scores decides `open_in_prompt` from the prompt as fed to the model (`prompt_opens_think`
on the rendered text: a DeepSeek-R1 distill's chat template ends the generation prompt with "<think>\\n", a
string prompt may end with "<think>"): `ponder grpo` (rollouts and held-out accuracy), `ponder eval` (--sweep
and reward-spec scorers too), and `ponder verify` from a row's string `prompt`. Through the registry: `reward(completion, item, think_open=True)`
(`think_open="closed"` for `closed_in_prompt`, from `prompt_think_state`).
Without it a correct completion of such a prompt never holds "<think>" and scores 0 (open-r1 hit this).
"""

from __future__ import annotations

import bisect
import collections
import html
import re
import unicodedata

from ponder.errors import PonderError
from ponder.verify.constraints import _shown
from ponder.verify.countdown import last_answer_tag, last_boxed
from ponder.verify.verdict import Verdict

# (in a Markdown heading and in bold or italics: "## Answer: 7" and "*Answer:* 7" were no final answer)
_ANSWER_LINE = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+)?(?:[*_]{1,2})?(?:final[ \t]+)?answer(?:[*_]{1,2})?[ \t]*[:：]"
                          r"([^\n]*)", re.IGNORECASE | re.MULTILINE)
_NEXT_LINE = re.compile(r"\s*([^\n]*)")
# What renders as nothing: phantoms, spacing and colour commands with their arguments, environment names. (An
# optional [...] argument is a dimension, at most 40 characters: unbounded, "\\rule[" repeated went quadratic.)
_BLANK = re.compile(r"\\(?:[hv]?phantom|hspace|vspace|kern|hskip|color|textcolor|colorbox|begin|end)\*?\s*\{[^{}]*\}"
                    r"|\\rule\s*(?:\[[^\]]{0,40}\])?\s*\{[^{}]*\}\s*\{[^{}]*\}"
                    r"|\\(?:m?kern|[hvm]skip)\s*-?[\d.]+\s*[a-z]{2}(?:\s*(?:plus|minus)\s*-?[\d.]+\s*[a-z]{2,4})*"
                    r"|\\(?:make|frame)box\s*(?:\[[^\]]{0,40}\]\s*){1,2}|\\[,;:! ]")
# A command whose (first) argument renders nothing (a phantom, a colour, a dimension), and that argument: a
# balanced {...} (nested braces: _BLANK's [^{}]* let "\\hphantom{\\text{5}}" say 5), or for a phantom one token
# without braces ("\\phantom5").
_BLANK_HEAD = re.compile(
    r"\\(?:([hv]?phantom)|[hvm]space|raisebox|color|textcolor|colorbox|begin|end)(?![A-Za-z])\*?\s*")
_TOKEN = re.compile(r"\\[A-Za-z]+|\\?[^\s{}]")
_BRACE = re.compile(r"\\.|[{}]", re.DOTALL)


def _drop_blank_arguments(text: str) -> str:
    out, pos = [], 0
    while m := _BLANK_HEAD.search(text, pos):
        j = m.end()
        if text.startswith("{", j):
            depth, j = 0, len(text)  # (an unclosed argument runs to the end: all of it is hidden)
            for b in _BRACE.finditer(text, m.end()):  # (an escaped brace, "\\{", is no group)
                depth += {"{": 1, "}": -1}.get(b.group(), 0)
                if depth == 0:
                    j = b.end()
                    break
        elif m.group(1) and (t := _TOKEN.match(text, j)):
            j = t.end()
        out.append(text[pos:m.start()] + " ")  # (with no argument, the command's name alone, as _COMMAND would)
        pos = j
    return "".join(out) + text[pos:]


_COMMAND = re.compile(r"\\([A-Za-z]+)")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")  # (a name, then attributes: "<a, b>" is a vector)
_EMPTY_SET = re.compile(r"\\\{\s*\\\}")
# the commands that are a symbol, so an answer alone: any other command's name (\large, \mathstrut, \ldots,
# \textrm{}, \hat{}) is markup or a placeholder, and its letters say nothing
_SYMBOLS = frozenset(
    "alpha beta gamma digamma delta epsilon varepsilon zeta eta theta vartheta iota kappa varkappa lambda mu nu xi "
    "pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma "
    "Upsilon Phi Psi Omega infty infin infinity emptyset varnothing O aleph beth gimel hbar ell imath jmath "
    "partial nabla top bot checkmark".split()
)


def _uncommented(text: str) -> str:
    """The text without its closed HTML comments, which render as nothing: "Answer: <!-- 5 -->" and
    "<answer><!-- 5 --></answer>" answered nothing and took the format reward. (By str.find, linear on many opens; an
    unclosed "<!--" is left as written.)"""
    out, pos = [], 0
    while (i := text.find("<!--", pos)) >= 0 and (j := text.find("-->", i + 2)) >= 0:  # ("<!-->" is one, empty)
        out.append(text[pos:i] + " ")
        pos = j + 3
    return "".join(out) + text[pos:]


def _substantive(answer: str) -> bool:
    """An answer that says something: a letter, a digit, a symbol command or a non-ASCII symbol.
    "\\boxed{\\,}", "\\boxed{.}", "\\boxed{\\large}" and "Answer: -" are formatted like answers but answer
    nothing, so a policy that emits them would collect the format reward for an empty response."""
    # a code span shows its content as written, markup and all: "Answer: `<br>`" (HTML read as a tag, nothing) and
    # "Answer: `<!-- 5 -->`" answered nothing, though a reader sees "<br>"
    if "`" in answer:
        answer, code = _code_spans(answer)
        if any(_says(ch) for ch in code):
            return True
    # HTML renders its tags as nothing and an entity as its character: "<answer><answer></answer></answer>" (the
    # inner tag's letters) and "<answer>&nbsp;</answer>" answered nothing
    answer = html.unescape(_HTML_TAG.sub(" ", _uncommented(answer))) if "<" in answer or "&" in answer else answer
    rest = _EMPTY_SET.sub(" x ", _drop_blank_arguments(_BLANK.sub(" ", answer)))
    rest = _COMMAND.sub(lambda m: " x " if m.group(1) in _SYMBOLS else " ", rest)
    return any(_says(ch) for ch in rest)


_BACKTICKS = re.compile(r"`+")


def _code_spans(text: str) -> tuple[str, str]:
    """The text without its Markdown code spans, and their contents: a run of backticks opens one that the next run
    of as many closes (with none, the backticks are text); a closed HTML comment opened before a run holds it, as
    Markdown reads them, first come first ("Answer: <!-- `5` -->" says nothing). Each run's closer is found by
    bisection, and a comment's end once: linear time."""
    runs = list(_BACKTICKS.finditer(text))
    starts: dict = {}
    for r in runs:
        starts.setdefault(len(r.group()), []).append(r.start())
    out, code, pos, closes = [], [], 0, True
    for r in runs:
        if r.start() < pos:  # (inside a span or a comment already passed)
            continue
        held = -1
        while closes and (i := text.find("<!--", pos, r.start())) >= 0:
            j = text.find("-->", i + 2)  # ("<!-->" is one, empty, as _uncommented reads it)
            closes = j >= 0
            if closes and j + 3 > r.start():
                held = j + 3
                break
            out.append(text[pos:j + 3] if closes else "")
            pos = j + 3 if closes else pos
        if held >= 0:  # (the comment stays in the text, for _uncommented to drop)
            out.append(text[pos:held])
            pos = held
            continue
        same = starts[len(r.group())]
        k = bisect.bisect_right(same, r.start())
        if k < len(same):
            out.append(text[pos:r.start()] + " ")
            code.append(text[r.end():same[k]] + " ")
            pos = same[k] + len(r.group())
    return "".join(out) + text[pos:], "".join(code)


# what renders as a blank though it is a letter or a symbol (Hangul fillers, the braille blank), and the empty square
# (\square is refused as a placeholder)
_NOTHING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u25a1")


def _says(ch: str) -> bool:
    # a letter, a digit or a math/currency/other symbol; punctuation and lone marks say nothing, non-ASCII as
    # ASCII: "\boxed{…}", "\boxed{？}", "Answer: —" and a lone combining mark earned the format reward
    return ch not in _NOTHING and (ch.isalnum() or (not ch.isascii() and unicodedata.category(ch) in ("Sm", "Sc", "So")))


# a box command, then as LaTeX and check_math read it a "{" after any blank, or one token ("\\boxed 5")
_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])[ \t\n]*")
_BOX_TOKEN = re.compile(r"[^\s$]*")


def _last_box(text: str) -> str | None:
    """The last box's content: "\\boxed {5}" and "\\boxed 5" box 5 as "\\boxed{5}" does (check_math scored them
    correct and they were no final answer here)."""
    found = collections.deque(_BOX.finditer(text), maxlen=1)  # (the last match, in one pass)
    if not found:
        return None
    end = found[0].end()
    if text.startswith("{", end):
        return last_boxed("\\boxed" + text[end:])  # (the last box: no other one follows)
    return _BOX_TOKEN.match(text, end).group()


def _line_answers(text: str):
    """Each "Answer:" line's answer; under a label alone ("**Answer:**", "Final Answer:"), its next non-blank line,
    as check_countdown and check_math read it: such a response scored correct there and "no final answer" here."""
    for m in _ANSWER_LINE.finditer(text):
        answer = m.group(1)
        if not answer.strip(" \t\r*_"):  # (matched in place, not sliced off: many labels stay linear)
            answer = _NEXT_LINE.match(text, m.end()).group(1)
            if _ANSWER_LINE.match(answer):  # another label ("**Answer:**" twice): its own turn reads it
                continue
        yield answer


def prompt_opens_think(prompt_text, open_tag: str = "<think>") -> bool:
    """Whether a prompt, as the text fed to the model (after any chat template), ends with the opening think
    tag, trailing whitespace aside: its completions start inside the thinking (check_format's open_in_prompt).
    Anything but a string (a chat-message list not yet rendered, None) is False."""
    return isinstance(prompt_text, str) and prompt_text.rstrip().endswith(open_tag)


def prompt_think_state(prompt_text, think_tags=("<think>", "</think>")):
    """True where the prompt opens the thinking (prompt_opens_think); "closed" where it ends with a whole think
    block, trailing whitespace aside (Qwen3's template with enable_thinking=False prefills "<think>\\n\\n</think>\\n\\n":
    its completions answer directly, the block the prompt's, check_format's closed_in_prompt); else False."""
    open_tag, close_tag = think_tags
    if prompt_opens_think(prompt_text, open_tag):
        return True
    text = prompt_text.rstrip() if isinstance(prompt_text, str) else ""
    # (the block's own opening tag, after any earlier block's closing one: a stray "</think>" closes nothing)
    return "closed" if text.endswith(close_tag) and text.rfind(open_tag) > text.rfind(
        close_tag, 0, len(text) - len(close_tag)) else False


def check_format(completion, *, think_tags=("<think>", "</think>"), require_answer: bool = True,
                 open_in_prompt: bool = False, closed_in_prompt: bool = False) -> Verdict:
    if (not isinstance(think_tags, (tuple, list)) or len(think_tags) != 2
            or not all(isinstance(t, str) and t for t in think_tags)):
        raise PonderError(f"check_format: think_tags must be two non-empty strings, got {think_tags!r}")
    if think_tags[0] in think_tags[1] or think_tags[1] in think_tags[0]:  # each would count the other: never met
        raise PonderError(f"check_format: think_tags must not contain one another, got {tuple(think_tags)!r}")
    if not isinstance(completion, str):
        return Verdict(False, None, "invalid completion")
    open_tag, close_tag = think_tags
    if open_in_prompt and closed_in_prompt:
        raise PonderError("check_format: open_in_prompt and closed_in_prompt both set (a prompt ends one way)")
    if closed_in_prompt:  # the prompt's (empty) block is the completion's thinking: judged as the rendered text
        completion = f"{open_tag}\n\n{close_tag}\n\n" + completion
    n_open, n_close = completion.count(open_tag), completion.count(close_tag)
    if open_in_prompt:
        if n_open:
            return Verdict(False, None, f"unexpected {open_tag}")
    elif n_open == 0:
        return Verdict(False, None, f"missing {open_tag}")
    elif n_open > 1:
        return Verdict(False, None, f"repeated {open_tag}")
    elif completion[: completion.index(open_tag)].strip():
        return Verdict(False, None, f"text before {open_tag}")
    if n_close == 0:
        return Verdict(False, None, f"missing {close_tag}")
    if n_close > 1:
        return Verdict(False, None, f"repeated {close_tag}")
    close_at = completion.index(close_tag)
    if not open_in_prompt and close_at < completion.index(open_tag):
        return Verdict(False, None, "tags out of order")
    after = completion[close_at + len(close_tag):].strip()
    if require_answer:
        # a final answer a reader sees: a whole "Answer: 5" line, a box or an <answer> tag in an HTML comment or a
        # hidden element ("<!-- \\boxed{5} -->", "<span hidden>Answer: 5</span>") showed none and took the format
        # reward (as "Answer: <!-- 5 -->" did); code shows them as written
        shown = _shown(after) if "<" in after or "]:" in after else after
        boxed = _last_box(shown)
        if not (boxed and _substantive(boxed)) and not any(
                _substantive(a) for a in _line_answers(shown)) and not _substantive(last_answer_tag(shown) or ""):
            return Verdict(False, after[:200] or None, "no final answer")
    return Verdict(True, after[:200] or None, "ok")
