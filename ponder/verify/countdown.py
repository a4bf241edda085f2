"""Countdown: does the completion's final expression reach `target` using each given number at most once?

The expression is evaluated by an `ast` walker that admits only integer literals, binary + - * / and
parentheses, in exact `Fraction` arithmetic (so 7/2*2 == 7, and no float rounding ever says "equal"). Nothing is
`eval`-ed. Caps on text length, node count and intermediate size keep a hostile completion cheap.
"""

from __future__ import annotations

import ast
import functools
import re
import unicodedata
from collections import Counter
from fractions import Fraction
from numbers import Integral

from ponder.errors import PonderError
from ponder.verify.verdict import Verdict, parse_python

MAX_EXPR_CHARS = 500
MAX_NODES = 200
MAX_BITS = 4096  # bound on numerator/denominator size of any intermediate value
MAX_FALLBACK_LINES = 50  # without a marked answer, the expression must be near the end
MAX_SIDES = 20  # sides of a marked equation checked against the answer (each costs one bounded evaluation)
# without a marked answer, a line longer than this is no answer's (skipped), and the lines read for one hold at most
# MAX_FALLBACK_CHARS: each costs time in its length, and a 1 MB line of runs or sides took seconds
MAX_LINE_CHARS = 10_000
MAX_FALLBACK_CHARS = 50_000

_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b}
# math and code delimiters ("$25 \\times 4$", "\\(...\\)", `25*4`) first, before "[" is read as a bracket; a space,
# not nothing, so that "$2$$5$" stays two numbers and is no 25
_SYMBOLS = {"$": " ", "`": " ", "\\(": " ", "\\)": " ", "\\[": " ", "\\]": " ",
            "×": "*", "·": "*", "⋅": "*", "∗": "*", "÷": "/", "−": "-", "–": "-", "\\times": "*", "\\cdot": "*",
            "\\ast": "*", "\\div": "/", "\\left": "", "\\right": "",
            # spacing and text commands are no part of the arithmetic: "25\\,\\times\\,4" and "\\text{25} \\times 4"
            # were invalid expressions (the braces after a text command are parentheses, below)
            "\\qquad": " ", "\\quad": " ", "\\,": " ", "\\;": " ", "\\:": " ", "\\!": " ", "\\ ": " ",
            "\\text": " ", "\\mathrm": " ", "\\mathbf": " ",
            "{": "(", "}": ")", "[": "(", "]": ")"}
_LATEX_SIGNS = ("\\times", "\\cdot", "\\ast", "\\div", "\\left", "\\right")
_LIST_MARKER = re.compile(r"^[ \t>]*(?:\d{1,3}[.)]|[-+*•])[ \t]+")
_ARITHMETIC = re.compile(r"[0-9+\-*/()\s]*")
_RUN = re.compile(r"[\d\s+\-*/×÷·⋅∗−–().]+")
# linear-time on hostile text: no two adjacent quantifiers can share characters, nothing lazy spans lines
# (in a Markdown heading and either emphasis, as check_format reads it: "## Answer: 25*4" or "__Answer:__ 25*4" was
# no mark, and a check line after it, "7 + 3 = 10", was read as the answer)
_ANSWER_LINE = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+)?(?:[*_]{1,2})?(?:final[ \t]+)?answer(?:[*_]{1,2})?[ \t]*[:：][ \t]*(.*)$",
                          re.IGNORECASE | re.MULTILINE)


class _Bad(Exception):
    """The expression is not a valid countdown expression; the message is the Verdict reason."""


def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} (or \\fbox{...}), braces balanced; None if absent or unclosed."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None


# what parts two boxes that offer two answers: nothing but marks, or a word that offers the other as well
_HEDGE_GAP = re.compile(r"[\s,;.$]*(?:(?:or|maybe|perhaps|possibly|alternatively|and|also)\b[\s,;.:$]*){0,3}",
                        re.IGNORECASE)


def _last_box_answer(text: str) -> str | None:
    """The last box's content; with another answer boxed right before it ("\\boxed{7*3} or \\boxed{25*4}"), both, which
    is no expression: the last box alone scored a hedge between two answers."""
    last = last_boxed(text)
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    before = last_boxed(text[:start]) if last is not None and start > 0 else None
    if before is None or not before.strip():  # (an empty box is no answer)
        return last
    end = text.index("{", max(text.rfind("\\boxed{", 0, start), text.rfind("\\fbox{", 0, start))) + len(before) + 2
    gap = text[end:start]
    if gap.strip(" \t$") == "=":  # "\\boxed{25 \\times 4} = \\boxed{100}" boxes an equation: 100 was read, no expression
        return f"{before} = {last}"
    return _one_of(before, gap, last)


# markup in such a gap, read as a space: "\\boxed{7*3} \\text{ or } \\boxed{25*4}", "**\\boxed{7*3}** or ..." were no hedge
_GAP_MARKUP = re.compile(r"\\(?:textbf|textit|text|mathrm|mathbf|qquad|quad|[,;:! ()\[\]])|[{}()*_]")


def _one_of(before: str, gap: str, last: str) -> str:
    # the last answer, or both when the one before is offered with it (no expression then)
    if len(gap) <= 40 and _HEDGE_GAP.fullmatch(_GAP_MARKUP.sub(" ", gap)) and answer_key(before) != answer_key(last):
        return f"{before} or {last}"
    return last


def _last_tag_answer(text: str) -> str | None:
    """The last <answer>…</answer>'s content; with another offered right before it ("<answer>7*3</answer> or
    <answer>25*4</answer>"), both, as for boxes."""
    last = last_answer_tag(text)
    start = text.rfind("<answer>", 0, text.rfind("</answer>"))
    before = last_answer_tag(text[:start]) if last is not None and start > 0 else None
    if before is None or not before.strip():
        return last
    return _one_of(before, text[text.rfind("</answer>", 0, start) + len("</answer>"):start], last)


def last_answer_tag(text: str) -> str | None:
    """Content of the last <answer>…</answer> (found with rfind: a regex would go quadratic on many opens)."""
    end = text.rfind("</answer>")
    start = text.rfind("<answer>", 0, end) if end >= 0 else -1
    return text[start + len("<answer>"):end] if start >= 0 else None


# what continues a run of arithmetic as an operation countdown has no sign for: a power, a remainder, a factorial, a
# superscript, a function ("log(", "\\sqrt{"), a number written on ("4e2", "4,7"). Such a run is part of an expression
# it does not stand for: the run alone was read, and "25*4^2", "25*4%7", "25*4²", "log(25*4)" or "2^25*4" scored as
# 25*4. (Directly at the run, or past spaces and math delimiters; a Latin letter only directly: "So 25*4" is prose,
# and so is "所以25×4=100", a language written without spaces. Past braces too: "{25 \\times 4}^2", "2^{25 \\times 4}".
# A "~" after the run is no operation, "25*4 ~ 100", but one may come between: "25*4~^2".)
_JUNK_AFTER = re.compile(r"[ \t$`}~]*(?:\\?[\^%|&<>@'²³¹⁰⁴-⁹]|\\(?:[bp]?mod|rfloor|rceil|rvert|vert)\b|mod\b)"
                         r"|[a-z]|!|[,:]\d", re.IGNORECASE)
_JUNK_BEFORE = re.compile(r"(?:[\^%|&<>~@√∛∜]|\\(?:sqrt|log|ln|lg|exp|sin|cos|tan|lfloor|lceil|lvert|vert|binom|"
                          r"operatorname)\b[{(]?|\bmod)[ \t$`{]*$|[A-Za-z][({]?$")

_JUNK_REACH = 200


def _expression_in(line: str) -> str | None:
    """The last run of arithmetic characters that contains an operator (else the last with a digit). A run with an
    operator that an operation countdown has no sign for continues (_JUNK_AFTER, _JUNK_BEFORE) is no expression of
    its own: the text, an invalid expression."""
    found = [(m, m.group().strip().rstrip(".").strip()) for m in _RUN.finditer(line)]
    found = [(m, r) for m, r in found if any(c.isdigit() for c in r)]
    runs = [r for _, r in found]
    with_op = [(m, r) for m, r in found if re.search(r"\d\s*[-+*/×÷·⋅∗−–]\s*[\d(]", r)]
    # (at the run's first and last non-space characters: a run takes the spaces around it; what comes before it is
    # searched in the last _JUNK_REACH characters: from the line's start, a 10,000-character line of runs took 1.6 s)
    if any(_JUNK_AFTER.match(line, m.start() + len(m.group().rstrip()))
           or _JUNK_BEFORE.search(line, max(0, (k := m.start() + len(m.group()) - len(m.group().lstrip()))
                                            - _JUNK_REACH), k) for m, _ in with_op):
        return line.strip()
    with_op = [r for _, r in with_op]
    if len(set(with_op)) > 1:  # two expressions, a hedge ("So 7*3 or 25*4" read 25*4): the text, no valid expression
        return line.strip()
    pick = (with_op or runs or [None])[-1]
    return pick


def extract_expression(completion: str) -> str | None:
    """The final expression, after the first "</think>" (none in an unclosed thinking, nor where the last \\boxed{ is
    left open: cut off inside it): of the last \\boxed{}, the last <answer>…</answer> and the last "Answer:" line (or
    the line under an "Answer:" alone), the one written last; else the last line (of the last 50 non-blank ones)
    that contains arithmetic. The first side of an '=' that is an expression is kept."""
    return _extract(completion)[0]


def _extract(completion: str) -> tuple[str | None, list[str]]:
    """The final expression and, for an answer that is an equation ("25*4 = 100"), all its sides."""
    # the answer follows the thinking, as in check_math: a box tried inside it is no answer, and a completion
    # cut off while still thinking has none (else a policy that never closed its thinking scored by a line in it)
    k = completion.find("</think>")  # (the first: all that follows the thinking, as check_math reads it)
    if k >= 0:
        completion = completion[k + len("</think>"):]
    elif "<think>" in completion:
        return None, []
    # a last box left open is an answer cut off by the token limit, as check_math reads it: all that follows its
    # "{" is inside it, so a line before it ("25*4 = 100", then "\\boxed{(25") or the box's own first part
    # ("\\boxed{25*4" of "25*4 - 7") was read as the final answer
    if ("\\boxed{" in completion or "\\fbox{" in completion) and last_boxed(completion) is None:
        return None, []
    # the marked answer written last wins (a box, then "Answer: ..." revising it); one inside another starts
    # after it ("Answer: \\boxed{...}", "<answer>\\boxed{...}</answer>"): the box is read
    lines = list(_ANSWER_LINE.finditer(completion))[-1:]
    marked = [(max(completion.rfind("\\boxed{"), completion.rfind("\\fbox{")), _last_box_answer(completion)),
              (completion.rfind("<answer>", 0, completion.rfind("</answer>")), _last_tag_answer(completion)),
              *((m.start(), _under(completion, m) if not m.group(1).strip(" \t*_") else _stated(m.group(1)))
                for m in lines)]
    for _, found in sorted(marked, key=lambda x: -x[0]):
        if isinstance(found, tuple):
            return found
        if found is not None and found.strip():
            found = _drop_remark(_arrows(found.strip()))
            sides = [s.strip() for s in found.split("=")] if "=" in found else []
            return (found, []) if _hedged(_lhs(found), sides) else (_lhs(found), sides)
    checked = read = 0
    for line in reversed(completion.splitlines()):
        if not line.strip():
            continue
        checked += 1
        if checked > MAX_FALLBACK_LINES:
            break
        read += min(len(line), MAX_LINE_CHARS)
        if read > MAX_FALLBACK_CHARS:
            break
        found = _line_expression(line)
        if found:
            return found
    return None, []


# a closing remark in parentheses ("25*4 (using 25 and 4)") or after a comma ("25*4, which is 100"): words, no
# arithmetic sign, no word for one (an operation countdown has no sign for too: "25*4 (mod 4)", "(negated)" or
# "(then take the log)" was dropped, and the expression it changes scored), no "or"
_REMARK = re.compile(r"(?:\(([^()\n]*)\)|,[ \t]*([^,()\n]*?))[\s.]*$")
_NOT_PROSE = re.compile(r"[+*/×÷·⋅∗−=\\]|\d\s*[-–]|[-–]\s*\d|\b(?:or|plus|minus|times|x|by|divided|over|multiplied|"
                        r"add|added|subtract|subtracted|squared|cubed|power|root|twice|double|half|else|alternatively|"
                        r"instead|mod|modulo|modulus|remainder|log|logarithm|ln|sqrt|factorial|exponent|exponentiated|"
                        r"raised|percent|negated?|negative|opposite|reciprocal|inverse|inverted|floor|ceil|ceiling|"
                        r"round(?=[ \t]+(?:up|down|off|to|it)\b)|rounded|rounding|absolute|abs)\b", re.IGNORECASE)
# such an operation said not to be done is prose: "(no remainder)", "(no negative numbers)", "(without rounding)"
_NEGATED = re.compile(r"\b(?:no|not|without|never|nor|avoid(?:s|ed|ing)?)[ \t]+(?:(?:any|a|an|the|need(?:ed|s)?|to|for|"
                      r"more|use|using|take|taking|do|doing)[ \t]+){0,3}(?:mod|modulo|modulus|remainders?|log|"
                      r"logarithms?|ln|sqrt|factorials?|exponents?|exponentiation|raised|percent(?:ages?)?|negated|negatives?|negation|opposite|"
                      r"reciprocals?|inverses?|inverted|floor|ceil|ceiling|round(?:ed|ing)?|absolute|abs)\b",
                      re.IGNORECASE)
# a remark that a given number is left out ("(7 unused)", "(the 7 is not needed)"): its number is in no answer
_UNUSED = re.compile(r"\b(?:unused|not used|not needed|left over|leftover|left out|not using|without|no need)\b",
                     re.IGNORECASE)


def _drop_remark(text: str) -> str:
    """The text without a closing remark that is prose, not arithmetic: "25*4 (using 25 and 4)" and "25*4, which is
    100" were invalid expressions. Its numbers must be in the text before it or be that arithmetic's value ("(which
    is 100)"): a remark with other numbers, an operator or an "or" ("(+1)", "(or 25+75)") is kept, and the answer
    stays invalid; one that says its numbers are unused ("(7 unused)") goes."""
    m = _REMARK.search(text) if len(text) <= MAX_EXPR_CHARS else None
    remark = m and (m.group(1) if m.group(1) is not None else m.group(2))
    if not m or not re.search(r"[^\W\d_]", remark) or _NOT_PROSE.search(_NEGATED.sub(" ", remark)):
        return text
    head = text[:m.start()].rstrip()
    known = set(re.findall(r"\d+", head))
    for side in (head.split("=")[0], _expression_in(head.split("=")[0]) or head):
        try:
            known.add(str(evaluate(side)[0]))
        except _Bad:
            pass
    ok = set(re.findall(r"\d+", remark)) <= known or _UNUSED.search(remark)
    return head if head and ok else text


_STATED = re.compile(r"[ \t*]*the[ \t]+(?:final[ \t]+)?answer[ \t]+is[ \t]*:?", re.IGNORECASE)


def _stated(answer: str) -> str:
    """An "Answer:" line's answer, without the phrase around it in the format "Final Answer: The final answer is $X$.
    I hope it is correct." (as models prompted with it write): the whole sentence was read, an invalid expression."""
    answer = answer.split("</answer>")[0]
    m = _STATED.match(answer)
    if not m:
        return answer
    # only that closing sentence goes: "The answer is 25*4. Or 7*3." is a hedge, kept whole (no expression)
    stated, _, tail = (answer[m.end():] + " ").partition(". ")
    return stated if re.fullmatch(r"\s*(?:I hope it is correct\.?)?\s*", tail, re.IGNORECASE) else answer


def _under(completion: str, m: re.Match) -> tuple[str, list[str]] | None:
    """The answer under a "**Answer:**" line with nothing after it: its next non-blank line, read as a last line is.
    The "**" was read as the answer, an invalid expression, and a right answer under it scored 0."""
    for line in completion[m.end():].lstrip(" \t\r\n").split("\n", 1)[:1]:
        return _line_expression(line)
    return None


# an arrow to the value is an "=": "Answer: 25 × 4 → 100" and "25*4 -> 100" (its "-" read as a minus) were invalid
# expressions for a correct answer; read as an equation, it must hold ("25*4 → 7*3" is a false one)
_ARROW = re.compile(r"[ \t]*(?:->|=>|→|⟶|⇒|⟹|\\(?:to|rightarrow|Rightarrow|longrightarrow|Longrightarrow|implies)"
                    r"(?![A-Za-z]))[ \t]*")


def _arrows(text: str) -> str:
    return _ARROW.sub(" = ", text) if len(text) <= MAX_LINE_CHARS else text


# markup around a line's arithmetic that is no operation, read as spaces: _JUNK_AFTER/_JUNK_BEFORE took its signs
# for one, and a correct last line became an invalid expression: an HTML/XML tag ("<answer>25*4" of a reply stopped
# at "</answer>", the stop string cut, or "<b>25*4</b>"), a Markdown quote's ">" and a table row's bars
# ("| 1 | 25*4 | 100 |"), LaTeX alignment ("25 \\times 4 &= 100"), ties ("4~=~100") and text styles
# ("\\textbf{25 \\times 4 = 100}"), quotes around the expression ("'25*4'")
_TAG = re.compile(r"</?[A-Za-z][\w:.-]*(?:[ \t][^<>\n]*)?/?>|</[A-Za-z][\w:.-]*[ \t]*$")
_QUOTE_MARKS = re.compile(r"^[ \t]*(?:>[ \t]*)+")
_ALIGN = re.compile(r"^[ \t]*&|(?<!&)&(?=[ \t]*=)|(?<==)([ \t]*)&(?!&)")
_STYLE = re.compile(r"\\(?:text(?:bf|it|rm|sf|tt)?|math(?:bf|rm|it|sf|tt)|emph|underline|boldsymbol|bm|displaystyle|"
                    r"textstyle)(?![A-Za-z])")
_QUOTED = re.compile(r"(?<![\w'])'([^'\n]+)'(?![\w'])")


def _markup(line: str) -> str:
    line = _QUOTE_MARKS.sub("", _TAG.sub(" ", line) if "<" in line else line, count=1)
    if "&" in line:
        line = _ALIGN.sub(" ", line)
    if "\\" in line or "$" in line:
        line = _STYLE.sub(" ", line).replace("~", " ")
    if "'" in line:
        line = _QUOTED.sub(r" \1 ", line)
    row = line.strip()  # (a Markdown table row: "|" first and last, a cell between)
    return line.replace("|", " ; ") if row[:1] == row[-1:] == "|" and row.count("|") >= 3 else line


def _line_expression(line: str) -> tuple[str, list[str]] | None:
    """A line's expression, read as a marked answer is: the first side that is an expression ("100 = 25*4" too), and
    the line's equation must hold ("So 25*4 = 101" claims a false one). A line over MAX_LINE_CHARS has none."""
    if len(line) > MAX_LINE_CHARS:
        return None
    line = _markup(_arrows(line))
    # a fraction is one division here too: "So $\\frac{25 \\times 8}{2} = 100$." read its numerator alone, 25*8
    line = _fractions(line) if "frac" in line and len(line) <= MAX_EXPR_CHARS else line
    # LaTeX's signs are operators here too: "$25 \\times 4 = 100$" had no arithmetic run with an operator, and a
    # correct answer was "no answer"
    # (and its inline math delimiters are none: "So \\(25 \\times 4 = 100\\)." read "(25 * 4", with the "(" of "\\(", an
    # invalid expression for a correct last line)
    for k in (*_LATEX_SIGNS, "\\(", "\\)"):
        line = line.replace(k, _SYMBOLS[k])
    # a spaced "x" between numbers is times here too ("So 25 x 4 = 100." was no answer); "a 4x4 grid" stays prose
    line = _SPACED_X.sub(" * ", line) if "x" in line or "X" in line else line
    # a Markdown list item's marker is no part of its arithmetic: "2. 25 * 4 = 100" read "2. 25 * 4", and
    # "- 25 * 4 = 100" a unary minus, both invalid expressions for a correct last step
    line = _drop_remark(_LIST_MARKER.sub("", line, count=1))
    sides = line.split("=")
    # more sides than an answer may have ("1=1=...", each side a search): the line, an invalid expression
    if len(sides) > MAX_SIDES + 1:
        return (line.strip(), []) if any(c.isdigit() for c in line) else None
    for expr in map(_expression_in, sides):
        if expr is not None and re.search(r"[-+*/×÷·⋅∗−–]", expr):
            if _hedged(expr, sides):
                return line.strip(), []
            return expr, [s.strip() for s in sides] if len(sides) > 1 else []
    return None


_OFFERS = re.compile(r"\b(?:or|alternatively|instead)\b", re.IGNORECASE)


def _hedged(expr: str, sides: list[str]) -> bool:
    """Whether a side of the answer's equation offers another expression ("25*4 = 100 or 7*3"): two answers, as
    "\\boxed{25*4} or \\boxed{7*3}" is. Such a side is no arithmetic, so it was skipped and the hedge scored."""
    if len(sides) > MAX_SIDES:  # (refused as too long anyway)
        return False
    key = answer_key(expr)
    for side in sides:
        if not _OFFERS.search(side):
            continue
        for run in _RUN.findall(_normalise(side)):
            if len(run) > MAX_EXPR_CHARS or not re.search(r"\d\s*[-+*/]\s*[\d(]", run):  # (too long: no answer)
                continue
            # (a run may take a parenthesis of the prose around it: "(or 7*3)" has "7*3)", and "\\text{ or } 7*3",
            # braces read as parentheses, ") 7*3")
            run = run.strip().lstrip(") \t\r\n").rstrip("( \t\r\n")
            while run.endswith(")") and run.count(")") > run.count("("):
                run = run[:-1].rstrip()
            while run.startswith("(") and run.count("(") > run.count(")"):
                run = run[1:].lstrip()
            if isinstance(k := answer_key(run), tuple) and k != key:
                return True
    return False


def _lhs(text: str) -> str:
    # "(3 + 5) * 7 = 56" → "(3 + 5) * 7"; "56 = (3 + 5) * 7" → the side with an operator
    # (the first MAX_SIDES + 1: an answer with more is refused as too long, and each side costs a _normalise)
    sides = [s.strip() for s in text.split("=", MAX_SIDES + 1)[:MAX_SIDES + 1]]
    with_op = [s for s in sides if re.search(r"\d\s*[-+*/×÷·⋅∗−–]", _normalise(s))]  # ("25 \\times 4" too)
    return (with_op or sides)[0]


_SPACED_X = re.compile(r"(?<=[\d)])[ \t]+[xX][ \t]+(?=[\d(])")
_TIMES_X = re.compile(r"(?<=[\d)])[ \t]*[xX][ \t]*(?=[\d(])")
_UNICODE_SPACE = {"Cf": "", "Zs": " ", "Zl": " ", "Zp": " "}
_FULL_WIDTH = str.maketrans({chr(0xFF10 + d): str(d) for d in range(10)} | dict(zip("＋－＊／（）", "+-*/()")))
_ENDS = re.compile(r"^[\s*_]+|[\s*._]+$")  # (on at most MAX_EXPR_CHARS: _normalise)
_FRAC = re.compile(r"\\[dt]?frac\s*(?=\{)")


def _group_end(text: str, i: int) -> int:
    """The index after the "}" that closes the "{" at text[i]; -1 if it is not closed."""
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return j + 1
    return -1


def _fractions(expr: str) -> str:
    # \frac{a}{b} is one division of its parts: ((a)/(b)); the outer one first, its parts' fractions next turn.
    # One without two braced parts is left as it is, an invalid expression. (At most MAX_EXPR_CHARS: _normalise.)
    pos = 0
    while m := _FRAC.search(expr, pos):
        a = _group_end(expr, m.end())
        b = _group_end(expr, a) if 0 < a < len(expr) and expr[a] == "{" else -1
        if b < 0:
            pos = m.end()
            continue
        expr = f"{expr[:m.start()]}(({expr[m.end() + 1:a - 1]})/({expr[a + 1:b - 1]})){expr[b:]}"
    return expr


def _normalise(expr: str) -> str:
    if len(expr) > MAX_EXPR_CHARS:  # (evaluate refuses it anyway; _lhs looks at sides of any length)
        return expr
    expr = _fractions(expr)
    for k, v in _SYMBOLS.items():
        expr = expr.replace(k, v)
    if not expr.isascii():  # a zero-width space (Unicode Cf) is nothing and full-width digits are digits: "2\u200b5*4"
        # and "２５*４" were invalid expressions; a no-break or thin space (Zs) is a space ("25\u00a0*\u00a04" was one)
        expr = "".join(_UNICODE_SPACE.get(unicodedata.category(ch), ch) for ch in expr).translate(_FULL_WIDTH)
    # "25 x 4" is a product, as chat models write one (only between numbers or parentheses: "x" is no number)
    expr = _TIMES_X.sub("*", expr) if "x" in expr or "X" in expr else expr
    # bold markers around the answer ("**Answer:** 25*4", "__25 * 4__"): no expression starts or ends with a "*"
    # (or a "_": it would be a name)
    return _ENDS.sub("", expr)


def evaluate(expr: str) -> tuple[Fraction, list[int]]:
    """Exact value and the integer literals used. Raises _Bad with a reason for anything else."""
    if len(expr) > MAX_EXPR_CHARS:
        raise _Bad("too long")
    text = _normalise(expr)
    # only digits, signs, parentheses and spaces: Python's parser also reads a comment ("7*8 # or 7*3", a hedge),
    # 0x/0b literals, digit separators and line continuations, none of them countdown arithmetic
    if not _ARITHMETIC.fullmatch(text):
        raise _Bad("invalid expression")
    try:
        tree = parse_python(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise _Bad("invalid expression") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise _Bad("too long")
    used: list[int] = []

    def walk(node) -> Fraction:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            used.append(node.value)
            return Fraction(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            a, b = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Div) and b == 0:
                raise _Bad("division by zero")
            v = _OPS[type(node.op)](a, b)
            if max(v.numerator.bit_length(), v.denominator.bit_length()) > MAX_BITS:
                raise _Bad("too long")
            return v
        raise _Bad("invalid expression")  # names, calls, floats, **, unary minus, ...

    return walk(tree.body), used


@functools.lru_cache(maxsize=4096)
def answer_key(expr: str):
    """What a countdown verdict depends on: the expression's exact value and the numbers it uses (sorted); text
    that is no valid expression is its own stripped text. Equal keys always get the same verdict."""
    try:
        value, used = evaluate(expr)
    except _Bad:
        return expr.strip()
    return value, tuple(sorted(used))


def same_answer(a: str, b: str) -> bool:
    """Two countdown answers vote together (``equal`` of a majority vote) when their ``answer_key``s match:
    "(14 + 5 - 3) * 9" with "9 * (14 - 3 + 5)", but not the bare target "144" (no expression, wrong) nor
    "9 * 16" (a number not given) with them, as value equality alone would."""
    return answer_key(a) == answer_key(b)


def _is_int(x) -> bool:
    return isinstance(x, Integral) and not isinstance(x, bool)


def check_countdown(completion, numbers, target, *, use_all: bool = False) -> Verdict:
    """Correct iff the final expression equals `target` and uses each of `numbers` at most once
    (exactly once with `use_all=True`). Never raises on a bad completion: the reason says what was wrong."""
    if not isinstance(numbers, (list, tuple)) or not all(_is_int(n) for n in numbers):
        raise PonderError(f"check_countdown: numbers must be a list of integers, got {numbers!r:.80}")
    numbers = [int(n) for n in numbers]  # (NumPy's integers too: an item from a pandas row holds np.int64)
    if any(n < 0 for n in numbers):  # (an expression has no unary minus: no answer could use one)
        raise PonderError(f"check_countdown: numbers must be non-negative (an answer cannot write a negative "
                          f"number), got {numbers!r:.80}")
    if not _is_int(target):
        raise PonderError(f"check_countdown: target must be an integer, got {target!r:.80}")
    target = int(target)
    if not isinstance(completion, str):
        return Verdict(False, None, "invalid completion")
    expr, sides = _extract(completion)
    if expr is None:
        return Verdict(False, None, "no answer")
    try:
        value, used = evaluate(expr)
    except _Bad as e:
        return Verdict(False, expr, str(e))
    # An answer that is an equation is a claim as a whole: "25*4 = 100 = 7*3" is false even though its first side reaches 100.
    # Sides that are not arithmetic ("56 apples") say nothing and are skipped.
    if len(sides) > MAX_SIDES:
        return Verdict(False, expr, "too long")
    for side in sides:
        try:
            if evaluate(side)[0] != value:
                return Verdict(False, expr, "false equation")
        except _Bad:
            pass
    extra = Counter(used) - Counter(numbers)
    if extra:
        return Verdict(False, expr, "number not available")
    if use_all and Counter(used) != Counter(numbers):
        return Verdict(False, expr, "not all numbers used")
    if value != Fraction(target):
        return Verdict(False, expr, "wrong")
    return Verdict(True, expr, "ok")
