"""Math answer verifier: equivalence tables, extraction rules, bounds, threads, bad input."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from ponder.verify.bounded import WorkerPool
from ponder.verify.math import (
    answers_equal,
    canonical_key,
    check_math,
    check_math_many,
    extract_answer,
    warmup,
)
from ponder.verify.verdict import Verdict

# (a, b): mathematically equal answers, as a grader would accept them
EQUAL = [
    ("5", "5"),
    ("-5", "-5"),
    ("5", "5.0"),
    ("0.5", "\\frac{1}{2}"),
    ("\\dfrac{3}{4}", "0.75"),
    ("\\tfrac{1}{3}", "1/3"),
    ("\\frac12", "0.5"),
    ("\\frac94\\pi", "\\frac{9\\pi}{4}"),
    ("2\\frac{1}{2}", "5/2"),  # mixed number
    ("7,425,000", "7425000"),
    ("1{,}000", "1000"),
    ("11,\\!111", "11111"),
    ("1 000", "1000"),
    ("\\$1,000.99", "1000.99"),
    ("28\\%", "28"),
    ("28 percent", "28"),
    ("90^\\circ", "90"),
    ("90°", "90"),
    ("15\\text{ cm}^2", "15"),
    ("125 miles", "125"),
    ("x = 5", "5"),
    ("k=\\frac{1}{3}", "\\frac13"),
    ("\\sqrt{8}", "2\\sqrt{2}"),
    ("\\sqrt[3]{27}", "3"),
    ("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}"),
    ("\\sqrt{2}+\\sqrt{5}", "\\sqrt 5+\\sqrt 2"),
    ("2\\pi", "\\pi + \\pi"),
    ("e^2", "\\exp(2)"),
    ("2^{10}", "1024"),
    ("5!", "120"),
    ("\\binom{5}{2}", "10"),
    ("1.5 \\times 10^{3}", "1500"),
    ("3e-2", "0.03"),
    ("1e3", "1000"),  # scientific notation without a fraction or sign, as "1.0e3" and "1e+3"
    ("2E3", "2000"),
    ("\\{1, 2, 3\\}", "\\{3, 2, 1\\}"),
    ("1, 2, 3", "3, 1, 2"),
    ("(1, 2)", "(1,2)"),
    ("(1, \\frac{9}{2})", "(1, 4.5)"),
    ("[0, 1)", "\\left[0, 1\\right)"),
    ("(-\\infty, 2] \\cup (3, \\infty)", "(3,\\infty)\\cup(-\\infty,2]"),
    ("x \\ge 5", "[5, \\infty)"),
    ("-2 \\le x \\le 7", "[-2, 7]"),
    ("x < 1", "-x > -1"),
    ("x \\neq 3", "(-\\infty,3)\\cup(3,\\infty)"),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}"),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "(1, 2)"),
    ("\\text{(B)}", "B"),
    ("(C)", "\\text{C}"),
    ("\\text{Evelyn}", "evelyn"),
    ("\\text{odd}", "Odd"),
    ("−3", "-3"),
    ("½", "0.5"),
    ("π", "\\pi"),
    ("√2", "\\sqrt{2}"),
    ("sqrt(8)", "2\\sqrt{2}"),
    ("2**10", "1024"),
    ("\\frac{x+2}{7}", "\\frac{x}{7}+\\frac{2}{7}"),
    ("(x+1)^2", "x^2+2x+1"),
    ("\\tan^2(y)+1", "\\sec^2(y)"),
    ("\\sin^{8}(x) + \\cos^{8}(x)", "\\frac{35 + 28\\cos(4x) + \\cos(8x)}{64}"),
    ("\\sqrt{x^2}", "|x|"),
    ("\\ln(x^2)", "2\\ln|x|"),
    ("2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}"),
    ("\\pm 2", "\\{-2, 2\\}"),
    ("1 \\pm \\sqrt{19}", "1+\\sqrt{19}, 1-\\sqrt{19}"),
    ("p = -1, p = \\frac{15}{8}", "-1, \\frac{15}{8}"),
    ("7:32", "S:T = 7:32"),
    ("204_5", "54"),
    ("0.0833333333333333", "\\frac{1}{12}"),  # a printed double
    ("18446744073709551616.0", "2^{64}"),  # a whole double printed in full
    ("1.8446744073709552e19", "2^{64}"),
    ("10^{-7}", "0.0000001"),
    ("\\frac{1}{2^{99}}", "2^{-99}"),
    ("\\log_2 8", "3"),
    ("i^2", "-1"),
    # a Greek letter's variant form is the same letter
    ("\\varphi", "\\phi"),
    ("2\\vartheta + \\varepsilon", "\\epsilon + 2\\theta"),
    # named values match by name, in any order
    ("y = 2, x = 1", "(x, y) = (1, 2)"),
    ("(y, x) = (2, 1)", "(x, y) = (1, 2)"),
    # against a bare pair, single-letter names in their alphabetical order: (x, y), (m, n)
    ("y = 2, x = 1", "(1, 2)"),
    ("n = 3, m = 5", "(5, 3)"),
    ("(1, 2)", "y = 2, x = 1"),
    # a barred letter is one symbol, as written with \bar or \overline
    ("\\overline{z} + z", "z + \\bar z"),
    ("0.5\\%", "\\frac{1}{2} \\%"),
    # "no solution" is the empty solution set
    ("\\text{no solution}", "\\emptyset"),
    ("\\text{No real solutions}", "\\varnothing"),
    ("no solution", "\\emptyset"),  # as words, not only in \text{}
    # "all real numbers" is the set of the reals
    ("\\text{all real numbers}", "\\mathbb{R}"),
    ("all real numbers", "(-\\infty, \\infty)"),
    ("\\text{All reals}", "x \\in \\mathbb{R}"),
    # set-builder notation is the set its condition describes
    ("\\{x : x > 0\\}", "(0, \\infty)"),
    ("\\{x \\mid x \\le 2\\}", "(-\\infty, 2]"),
    ("\\{x \\in \\mathbb{R} : x < -1 \\text{ or } x > 1\\}", "(-\\infty, -1) \\cup (1, \\infty)"),
    ("\\{t : t^2 < 1\\}", "(-1, 1)"),
    ("60 \\text{ mph}", "60 \\text{ miles per hour}"),  # a compound unit is its parts
    # a residue with its modulus: the bare residue, or the same modulus
    ("2 \\pmod{5}", "2"),
    ("2 \\pmod 5", "x \\equiv 2 \\pmod{5}"),
    # Unicode cube and fourth roots, floor and ceiling brackets, slanted inequalities
    ("∛8", "2"),
    ("2∜2", "\\sqrt[4]{32}"),
    ("⌊2.5⌋ + ⌈2.5⌉", "5"),
    ("x ⩽ 2", "x \\le 2"),
    # one coordinate with ±: both points
    ("(\\pm 2, 0)", "(2, 0), (-2, 0)"),
    ("(0, 1 \\pm \\sqrt{2})", "\\{(0, 1 - \\sqrt{2}), (0, 1 + \\sqrt{2})\\}"),
    ("\\gcd(a, b)", "\\gcd(b, a)"),
    ("\\hat\\vartheta + \\dot{x}", "\\dot x + \\widehat{\\theta}"),
    ("\\vec{v}", "v"),  # the vector named v
    ("5 \\text{ cm}", "5 \\text{ centimeters}"),  # one unit, named two ways
    ("5 \\text{ hrs}", "5 \\text{ h}"),
    ("1, 2, ..., 10", "1, 2, \\ldots, 10"),
    ("\\arcsin t + \\arccos t", "\\frac{\\pi}{2}"),
    ("x = 5 \\quad y = 6", "x = 5, y = 6"),
    ("x = 2y = 6", "x = 6"),  # a chain, written as one
]

# (a, b): not equal; includes every false positive and hedge the spec lists
UNEQUAL = [
    ("0.3333", "\\frac{1}{3}"),
    ("\\frac{1}{2^{99}}", "\\frac{1}{2^{98}}"),
    ("0.0000001", "0.0000002"),
    ("41 \\text{ or } 42", "41"),
    ("41, 42, 43", "42"),
    ("41 or 42", "42"),
    ("\\pm 3", "3"),
    ("x", "5"),
    ("\\text{any number}", "5"),
    ("6", "5"),
    ("-5", "5"),
    ("1.22", "122"),
    ("32, 349", "32349"),
    ("(3, 1)", "(1, 3)"),
    ("[0, 1)", "(0, 1)"),
    ("[0, 1)", "[0, 1]"),
    ("(0, 1)", "(0, 1.5)"),
    ("x > 5", "x < 5"),
    ("x \\ge 5", "x \\le 5"),
    ("\\sqrt{2}", "1.41421356"),
    ("\\pi", "3.14159"),
    ("2\\sqrt{2}", "\\sqrt{2}"),
    ("\\frac{1+\\sqrt{5}}{2}", "2"),
    ("4\\sqrt{2}", "4"),
    ("x + 1", "x + 2"),
    ("x + 1", "y + 1"),
    ("|x|", "x"),
    ("\\sqrt{x^2}", "x"),
    ("7 = 11a+c", "11a+c"),
    ("a + 3z = 0", "0"),
    ("x = 5", "y = 5"),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 5 \\end{pmatrix}"),
    ("\\text{(B)}", "C"),
    ("d", "\\text{E}"),
    ("12:00", "1:00"),
    ("1112112_3", "1112122_3"),
    ("\\{1, 2\\}", "\\{1, 2, 3\\}"),
    ("e", "E"),
    ("1\\sqrt{19}", "1"),
    ("(a+5)(b+2)", "(+5)(b+2)"),
    ("2^{100}", "2^{100}+1"),
    ("10^{30} + 1 - 10^{30}", "0"),
    ("\\sin(1)", "\\sin(2)"),
    ("1e3", "3e"),  # not 1 * e * 3
    ("f(x)", "f(y)"),
    ("\\varphi", "\\psi"),
    # compared by position, the names were lost: "y = 1, x = 2" matched (x, y) = (1, 2)
    ("y = 1, x = 2", "(x, y) = (1, 2)"),
    ("(y, x) = (1, 2)", "(x, y) = (1, 2)"),
    ("x = 1, y = 2, z = 3", "(x, y) = (1, 2)"),
    # against a bare pair: by the order written, "y = 1, x = 2" matched (1, 2), which is x = 1, y = 2
    ("y = 1, x = 2", "(1, 2)"),
    ("x = 2, y = 1", "(1, 2)"),
    ("(1, 2)", "y = 1, x = 2"),
    # the bar was dropped: a conjugate, a mean or a complement read as the bare argument
    ("\\overline{2+i}", "2+i"),
    ("\\bar{z} + z", "2z"),
    ("\\bar{x}", "x"),
    ("\\overline{A}", "A"),
    # both in percent: each side's 1/100 reading met the other's plain one
    ("0.05\\%", "5\\%"),
    # a scale word after a number was dropped as a unit
    ("3 \\text{ million}", "3"),
    ("3 thousand", "3"),
    # a congruence's modulus was dropped
    ("x \\equiv 2 \\pmod{5}", "x \\equiv 2 \\pmod{6}"),
    ("2 \\pmod 5", "2 \\pmod 6"),
    ("x \\equiv 2 \\pmod{6}", "2 \\pmod{5}"),
    # set-builder: another domain, another variable, an open end that is closed
    ("\\{x \\in \\mathbb{Z} : x > 0\\}", "(0, \\infty)"),
    ("\\{y : x > 0\\}", "(0, \\infty)"),
    ("\\{x : x > 0\\}", "[0, \\infty)"),
    ("\\{x : x^2 > 4\\}", "(2, \\infty)"),
    # a percent and an angle: both were read as the bare number
    ("10\\%", "10^\\circ"),
    ("10 \\text{ percent}", "10°"),
    # "all real numbers" is no bounded interval and no empty set
    ("\\text{all real numbers}", "(0, \\infty)"),
    ("\\text{all positive real numbers}", "\\mathbb{R}"),
    ("all real numbers", "no solution"),
    ("\\text{no solution}", "0"),
    ("\\text{no solution}", "\\{0\\}"),
    # a periodic inequality solved over one period only
    ("\\sin x > 0", "(0, \\pi)"),
    ("\\cos x < 0", "(\\frac{\\pi}{2}, \\frac{3\\pi}{2})"),
    ("(\\pm 2, 0)", "(2, 0)"),
    ("(\\pm 2, 0)", "(0, 2), (0, -2)"),
    # a one-element set inside a set is no number
    ("\\{1, 2\\}", "\\{\\{1\\}, \\{2\\}\\}"),
    ("\\{\\emptyset, \\{1\\}, \\{2\\}, \\{1, 2\\}\\}", "\\{\\emptyset, 1, 2, \\{1, 2\\}\\}"),
    # conditions on two variables joined by "or" were a list, as if joined by "and"
    ("x > 0 \\text{ or } y > 0", "x > 0 \\text{ and } y > 0"),
    # SymPy's gcd/lcm of symbols is the polynomials' (gcd(a, b) = 1), no integer's
    ("\\gcd(a, b)", "1"),
    ("\\gcd(2a, 2b)", "2"),
    ("\\operatorname{lcm}(n, 2)", "2n"),
    # every point gave all variables one sign: identities that hold only for same-sign values held
    ("|x| + |y|", "|x + y|"),
    ("|x| y", "x |y|"),
    ("\\frac{|a|}{a}", "\\frac{|b|}{b}"),
    ("|x| + |z| + y", "|x + z| + y"),
    # an accent over a letter was dropped: a derivative, an estimate read as the bare letter
    ("\\dot{x}", "x"),
    ("\\ddot x", "\\dot x"),
    ("\\hat{\\theta}", "\\theta"),
    ("\\tilde x + 1", "x + 1"),
    # intervals with no points were all the empty set: "[1, 0]" matched every pair (a, b) with a > b
    ("[1, 0]", "(5, 3)"),
    ("1 < x < 0", "(7, 2)"),
    ("[2, 1]", "[5, 3]"),
    ("(5, 3]", "(4, 2]"),
    # both name units, not the same ones: units were dropped on both sides
    ("5 \\text{ km}", "5 \\text{ m}"),
    ("5 \\text{ hours}", "5 \\text{ minutes}"),
    ("5\\,\\mathrm{kg}", "5\\,\\mathrm{g}"),
    ("1, 2, ..., 10", "1, 2, 10"),  # an ASCII ellipsis was dropped, as \ldots is not
    # an inverse trig function is piecewise: at points that all lay in [-pi/2, pi/2] arcsin(sin t) was t
    ("\\arcsin(\\sin t)", "t"),
    ("\\arctan(\\tan s)", "s"),
    ("\\arcsin(\\sin(x/2))", "\\frac{x}{2}"),
    # a number past 2^53 that no double has ("...1.0", "...6.8") was read as a printed double (1e-14 relative)
    ("2432902008176640001.0", "20!"),
    ("123456789012345678.0", "123456789012345679"),
    ("18446744073709551616.8", "2^{64}"),
    # two assignments side by side were the chain x = 5y = 6: "x = 5 \\quad y = 6" matched x = 6
    ("x = 5 \\quad y = 6", "x = 6"),
    ("a = 2 \\; b = 3", "a = 3"),
]


@pytest.fixture(scope="module", autouse=True)
def _warm():
    # pay the symbolic worker's start-up once, not inside a timed assertion
    assert warmup(timeout=60)


@pytest.mark.parametrize("a,b", EQUAL)
def test_equal_pairs(a, b):
    assert answers_equal(a, b, timeout=10), (a, b)
    assert answers_equal(b, a, timeout=10), (b, a)  # symmetry
    v = check_math(f"So the answer is $\\boxed{{{a}}}$.", b, timeout=10)
    assert v.correct and v.reason == "ok", v


@pytest.mark.parametrize("a,b", UNEQUAL)
def test_unequal_pairs(a, b):
    assert not answers_equal(a, b, timeout=10), (a, b)
    assert not answers_equal(b, a, timeout=10), (b, a)
    assert not check_math(f"The answer is \\boxed{{{a}}}", b, timeout=10).correct


def test_canonical_key_groups_only_equal_answers():
    # invariant: the same key implies answers_equal (keys may miss equalities, never invent them)
    answers = sorted({x for pair in EQUAL + UNEQUAL for x in pair})
    by_key: dict[str, list[str]] = {}
    for a in answers:
        by_key.setdefault(canonical_key(a), []).append(a)
    for group in by_key.values():
        for a in group[1:]:
            assert answers_equal(group[0], a, timeout=10), group
    assert canonical_key("0.5") == canonical_key("\\frac{1}{2}") == canonical_key("1/2")
    assert canonical_key("\\{1,2\\}") == canonical_key("2, 1")
    # an equation's key keeps its left side: answers_equal tells x = 5 from y = 5
    for a, b in (("x = 5", "y = 5"), ("x=1, y=2", "x=2, y=1"), ("f(x) = x^2", "g(x) = x^2")):
        assert not answers_equal(a, b, timeout=10)
        assert canonical_key(a) != canonical_key(b), (a, b)
    assert canonical_key("x = 5") == canonical_key("x=5")


def test_tolerance_is_relative_and_opt_in():
    assert not check_math("\\boxed{0.3333}", "\\frac{1}{3}").correct
    assert check_math("\\boxed{0.3333}", "\\frac{1}{3}", tolerance=1e-3).correct
    assert check_math("\\boxed{1000.4}", "1000", tolerance=1e-3).correct
    assert not check_math("\\boxed{1.4}", "1", tolerance=1e-3).correct
    assert check_math("\\boxed{4.1231}", "\\sqrt{17}", tolerance=1e-4).correct


# (completion, extracted answer)
EXTRACTION = [
    ("We get \\boxed{5}.", "5"),
    ("First \\boxed{3}, no wait: \\boxed{4}", "4"),
    ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
    ("\\fbox{7}", "7"),
    ("The roots are \\boxed{1} and \\boxed{2}.", "1, 2"),
    ("The answer is \\boxed{\\{1,2\\}}", "\\{1,2\\}"),
    ("Final Answer: The final answer is $28\\%$. I hope it is correct.", "28\\%"),
    ("so the answer is 42", "42"),
    ("Answer: 17", "17"),
    ("\\boxed{255}. ... Final Answer: The final answer is $10,455$.", "10,455"),
    ("Therefore, there are 12 distinct sequences. I hope it is correct. <|im_start|>user", "12"),
    ("the number is not 10 which is 1,000.99m²", "1,000.99"),
    ("Thus $(p, q) = (7, 6)$.", "(p, q) = (7, 6)"),
    ("-\\frac{10}{9}", "-\\frac{10}{9}"),
    ("\\boxed{5", None),  # unbalanced
    ("\\boxed{}", None),  # empty
    ("\\boxed{ }", None),
    ("AZYUK2A", None),  # a digit inside a word is not a number
    (
        "5 is what I first thought, but honestly I cannot determine the answer to this problem without "
        "more information about the setup, so I will stop here and not commit to anything at all.",
        None,
    ),
    ("<think>maybe \\boxed{3}</think>The answer is \\boxed{4}", "4"),
    ("<think>\\boxed{3} and then I kept thinking", None),  # unterminated thinking: no answer
    ("</think> so \\boxed{9}", "9"),
    ("", None),
    ("\\boxed{5}. I am confident the answer is correct.", "5"),
    ("The answer is yes.", "yes"),
    ("She has 5 left.\n#### 42", "42"),
    ("The answer is 42 apples.", "42 apples"),
    ("**Answer: 42**", "42"),
    ("We find $x = 3$ and $y = 4$. The answer is $x = 3$ and $y = 4$.", "x = 3, y = 4"),
    ("\\boxed{5} \\boxed{5}", "5"),
]


@pytest.mark.parametrize("text,expected", EXTRACTION)
def test_extract_answer(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize("text", ["__Answer:__ 42", "_Answer:_ 42", "__Final answer:__\n42", "The answer is __42__.",
                                  "**Answer:** **42**"])
def test_extract_answer_reads_underscore_emphasis_as_asterisks(text):
    """Markdown's other emphasis mark: "__Answer:__ 42" read "__ 42" (scored wrong) and "__Final answer:__" over the
    answer read none, where "**Answer:** 42" and check_format read 42."""
    assert extract_answer("So we try 7 and 3, giving 21.\n" + text) == "42"


@pytest.mark.parametrize(
    "text",
    [
        "Therefore x is not 4.",
        "So the result cannot be 4.",
        "It is definitely not $4$.",
        "So the count is at least 4.",
        "So n is any number but 4.",
        "So there are 4, or more.",
        "The answer is not equal to 4.",
        "The answer is strictly less than 4.",
        "The answer is a number other than 4.",
        # a relation other than "=" before it in prose: the bound was read as the value
        "So x > 4.",
        "so x <= 4",
        "Hence x != 4.",
        "so x \u2260 4",
        "so x \u2265 4",
        "so x <> 4",
        # the sentence the number opens denies it
        "4 is wrong.",
        "4 is not the answer.",
        "4 isn't right.",
        "Answer: 4 is incorrect",
        "$4$ can't be right.",
    ],
)
def test_a_number_the_prose_negates_is_not_the_answer(text):
    assert not check_math(text, "4").correct, text


def test_a_number_after_a_relation_in_another_clause_is_the_answer():
    for text in ("Since 5 > 4, we get 4.", "so x = 4", "so x \u2248 4", "we get x => 4", "Therefore 3 < 4 and the minimum is 4",
                 # a ">" that is markup: a Markdown quote, the end of an HTML tag
                 "**Final answer**\n> 4", "so we get\n> $4$", "Result:<br>4"):
        assert check_math(text, "4").correct, text


def test_a_number_after_a_negation_in_another_clause_is_the_answer():
    for text in ("Since 3 is not prime, we get 4.", "I first thought 3, but we get 4.", "Thus there are 4 apples.",
                 # a negation far before the number, or after it, is about something else
                 "We cannot simplify further so the answer is 4.", "There are 4 ways, not counting duplicates.",
                 "x is 4 and not less.", "Total: 4 apples, no more than that.",
                 "Thus 4 is the answer.", "So 4 is correct.", "The count is 4, which is not prime."):
        assert check_math(text, "4").correct, text


def test_think_content_is_ignored():
    assert not check_math("<think>\\boxed{4}</think> \\boxed{5}", "4").correct
    assert check_math("<think>\\boxed{4}</think> \\boxed{5}", "5").correct
    v = check_math("<think>it is \\boxed{4}", "4")
    assert not v.correct and v.reason == "no answer"
    # the answer is all that follows the first </think>: a second one does not hide a hedge before it
    for gold in ("5", "6"):
        assert not check_math("<think>x</think>\\boxed{5}. Alternatively, </think> \\boxed{6}.", gold).correct
    assert check_math("<think>x</think>\\boxed{5}. </think> The answer is \\boxed{6}.", "6").correct


@pytest.mark.parametrize("body", [
    "\\boxed{3}. XX \\boxed{4}",
    "\\boxed{4} XX or 3",
    "\\boxed{3}. Alternatively, XX \\boxed{4}",
    "\\boxed{5}. XX The answer is \\boxed{4}.",
    "The answer is 3. XX \\boxed{4}",
])
def test_a_second_think_end_changes_no_verdict(body):
    """A "</think>" after the first one hid a draft or a hedge: "\\boxed{3}. </think> \\boxed{4}" scored for
    the gold 4 and "\\boxed{4} </think> or 3" too, while each without the tag is a hedge (wrong)."""
    with_tag = check_math("<think>x</think> " + body.replace("XX", "</think>"), "4")
    without = check_math("<think>x</think> " + body.replace("XX", ""), "4")
    assert (with_tag.correct, with_tag.extracted) == (without.correct, without.extracted), body


def test_gold_may_be_boxed_or_wrapped_in_dollars():
    assert check_math("\\boxed{5}", "$5$").correct
    assert check_math("\\boxed{5}", "\\boxed{5}").correct
    assert check_math("\\boxed{\\frac{14}{3}}", "The total is $\\boxed{\\frac{14}{3}}$.").correct
    assert check_math("\\boxed{3}", "$\\boxed{3}$").correct


def test_leading_number_of_a_long_non_answer_is_not_an_answer():
    text = (
        "7 cases were considered, but none of them leads anywhere useful; the problem as stated seems "
        "to be missing a condition and I cannot finish it without further information"
    )
    v = check_math(text, "7")
    assert not v.correct and v.reason == "no answer"


BAD = [None, 5, b"\\boxed{5}", ["\\boxed{5}"], 3.0]


@pytest.mark.parametrize("bad", BAD)
def test_bad_input_types_give_a_verdict(bad):
    for v in (check_math(bad, "5"), check_math("\\boxed{5}", bad)):
        assert isinstance(v, Verdict) and not v.correct and v.reason == "bad input"
    assert extract_answer(bad) is None
    assert answers_equal(bad, "5") is False
    assert isinstance(canonical_key(bad), str)


def test_bad_option_values_give_a_verdict():
    assert check_math("\\boxed{5}", "5", timeout=-1).reason == "bad input"
    assert check_math("\\boxed{5}", "5", tolerance=float("nan")).reason == "bad input"
    assert check_math("\\boxed{5}", "5", timeout="2").reason == "bad input"


@pytest.mark.parametrize("option", ["timeout", "tolerance"])
def test_an_int_option_past_float_range_is_bad_input_like_inf(option):
    # math.isfinite(10**400) raised OverflowError: check_math ("never raises"), answers_equal and
    # check_math_many crashed instead of answering as they do for float("inf")
    for value in (float("inf"), 10**400):
        assert check_math("\\boxed{5}", "5", **{option: value}).reason == "bad input"
        assert answers_equal("5", "5", **{option: value}) is False
        assert check_math_many(["\\boxed{\\int_0^1 x dx}"], ["1/2"], **{option: value}) == [
            Verdict(False, None, "bad input")]


PATHOLOGICAL = [
    "\\boxed{2^{2^{2^{2^{2^{100}}}}}}",
    "\\boxed{(10!)!}",
    "\\boxed{" + "(" * 10_000 + "1" + ")" * 10_000 + "}",
    "\\boxed{" + "{" * 10_000 + "1" + "}" * 10_000 + "}",
    "\\boxed{" + "\\frac{1}{" * 300 + "1" + "}" * 300 + "}",
    "\\boxed{" + "2^" * 400 + "2}",
    "$" + "\\boxed{1}" * 3000,
    "x" * 100_000,
    "1" * 100_000,
    "\\boxed{" + " 2" * 50_000 + "}",
    "a" * (1 << 20),
    "\\boxed{10^{10^{10}}}",
    "\\boxed{e^{e^{e^{e^{e}}}}}",
    "\\boxed{\\sin(10^{10^{5}})}",
    "\\boxed{100000!+1}",
    "\\boxed{\\binom{10^{9}}{5 \\cdot 10^{8}}}",
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_inputs_are_bounded(text):
    t0 = time.monotonic()
    v = check_math(text, "1", timeout=1.0)
    assert time.monotonic() - t0 < 2.0
    assert not v.correct
    t0 = time.monotonic()
    assert answers_equal(text[:900], "1", timeout=1.0) is False
    assert time.monotonic() - t0 < 2.0


def test_large_sets_compare_fast_and_within_the_bound():
    a = ", ".join(f"\\sin({k}x)" for k in range(2, 62))
    b = ", ".join(f"\\sin({k}x)" for k in reversed(range(2, 62)))
    t0 = time.monotonic()
    assert answers_equal(a, b, timeout=5)
    assert not answers_equal(a, b.replace("\\sin(61x)", "\\sin(63x)"), timeout=5)
    assert time.monotonic() - t0 < 5
    t0 = time.monotonic()
    check_math("\\boxed{" + a + "}", b.replace("x", "y"), timeout=0.2)
    assert time.monotonic() - t0 < 3  # (a margin a loaded 2-core CI box keeps; unbounded was seconds more)


def test_binary_garbage_and_huge_input_are_verdicts():
    garbage = bytes(range(256)).decode("latin-1") * 100
    v = check_math(garbage, "1")
    assert isinstance(v, Verdict) and not v.correct
    v = check_math("\\boxed{1}" + "x" * (1 << 20), "1")
    assert not v.correct and v.reason == "too long"


def test_symbolic_timeout_kills_and_recovers():
    # a degree-21 polynomial inequality sends SymPy into seconds of root isolation: the call must
    # come back at its bound, and the (replaced) worker must still answer afterwards
    hard = "\\boxed{x^{21} - 7x^{10} + 3x^{3} + 1 > 0}"
    t0 = time.monotonic()
    v = check_math(hard, "(0, \\infty)", timeout=0.3)
    assert time.monotonic() - t0 < 3  # (SymPy alone: seconds more)
    assert v.reason == "timeout" and not v.correct
    assert check_math("\\boxed{x^2 < 4}", "(-2, 2)", timeout=10).correct


def test_concurrent_calls_from_threads_respect_the_bound():
    jobs = [
        ("\\boxed{2^{2^{2^{2^{2^{100}}}}}}", "1"),
        ("\\boxed{\\tan^2(y)+1}", "\\sec^2(y)"),
        ("$" + "\\boxed{1}" * 3000, "1"),
        ("\\boxed{\\frac{1}{2}}", "0.5"),
        ("\\boxed{" + "(" * 5000 + "1" + ")" * 5000 + "}", "1"),
        ("\\boxed{\\sin(10^{100})}", "0.5"),
        ("\\boxed{(x+1)^2}", "x^2+2x+1"),
        ("\\boxed{x \\in [0, 1)}", "0 \\le x < 1"),
    ]
    timeout = 1.5

    def run(job):
        t0 = time.monotonic()
        v = check_math(job[0], job[1], timeout=timeout)
        return v, time.monotonic() - t0

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(run, jobs))
    for (v, dt), job in zip(results, jobs):
        assert dt < timeout + 3, (job, dt)  # (8 threads on 2 cores: a margin a loaded box keeps)
        assert isinstance(v, Verdict)
    assert not results[0][0].correct and not results[2][0].correct and not results[4][0].correct
    assert results[3][0].correct and results[6][0].correct and results[7][0].correct


def test_asyncio_tasks_and_signal_handlers():
    before = {s: signal.getsignal(s) for s in (signal.SIGALRM, signal.SIGINT, signal.SIGTERM)}

    async def main():
        direct = check_math("\\boxed{\\tan^2(y)+1}", "\\sec^2(y)", timeout=10)
        in_threads = await asyncio.gather(
            *[asyncio.to_thread(check_math, "\\boxed{(10!)!}", "1", timeout=1.0) for _ in range(4)]
        )
        return direct, in_threads

    t0 = time.monotonic()
    direct, in_threads = asyncio.run(main())
    assert time.monotonic() - t0 < 12
    assert direct.correct and not any(v.correct for v in in_threads)
    assert {s: signal.getsignal(s) for s in before} == before


def test_worker_pool_bounds_kills_and_reports_errors():
    pool = WorkerPool(max_workers=1)
    try:
        assert pool.warmup(1, timeout=30)
        t0 = time.monotonic()
        assert pool.call("time:sleep", (30,), 0.3) == ("timeout", None)
        assert time.monotonic() - t0 < 3  # (not the 30 s sleep)
        assert pool.call("math:sqrt", (16,), 30) == ("ok", 4.0)  # a fresh worker replaced the killed one
        tag, msg = pool.call("math:sqrt", (-1,), 30)
        assert tag == "error" and msg.startswith("ValueError")
    finally:
        pool.close()


def test_worker_pool_replaces_a_worker_that_died_while_idle():
    # a worker killed between calls (the OOM killer) stayed in the idle list: the next call wrote its job into
    # the broken pipe and came back ("error", "worker failed: BrokenPipeError"), a right answer scored as wrong
    pool = WorkerPool(max_workers=1)
    try:
        assert pool.warmup(1, timeout=30)
        dead = pool._idle[0].proc
        dead.kill()
        dead.wait()
        assert pool.call("math:sqrt", (16,), 30) == ("ok", 4.0)
        assert pool._count == 1 and pool._idle[0].proc is not dead
    finally:
        pool.close()


def _fork_while_another_thread_holds(lock, in_child) -> int:
    """Exit status of a forked child running `in_child()` (0: it returned True) while another thread of the
    parent holds `lock`; a child still running after 10 s is killed (status -9)."""
    held, done = threading.Event(), threading.Event()

    def hold():
        with lock:
            held.set()
            done.wait(30)

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    held.wait(10)
    try:
        pid = os.fork()
        if pid == 0:
            try:
                os._exit(0 if in_child() else 1)
            finally:
                os._exit(2)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10:
            got, status = os.waitpid(pid, os.WNOHANG)
            if got:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return -9
    finally:
        done.set()
        t.join()


def test_a_fork_while_another_thread_holds_a_verifier_lock_does_not_hang_the_child():
    # a lock held by another thread at the fork (a DataLoader or a scoring pool forking while threads verify)
    # stayed held forever in the child: its first call hung, past any timeout
    import ponder.verify.math as m

    pool = WorkerPool(max_workers=1)
    try:
        assert _fork_while_another_thread_holds(pool._cond, lambda: pool.call("math:sqrt", (16,), 5) == ("ok", 4.0)) == 0
    finally:
        pool.close()
    for name in ("_POOL_LOCK", "_SYM_CACHE"):
        lock = getattr(m, name) if name == "_POOL_LOCK" else m._SYM_CACHE.lock
        assert _fork_while_another_thread_holds(
            lock, lambda: m._POOL_LOCK.acquire(timeout=5) and m._SYM_CACHE.lock.acquire(timeout=5)) == 0, name


def test_worker_pool_takes_an_unlimited_timeout():
    # select and Condition.wait overflow past ~9.2e9 s: timeout=1e10 (or inf) failed every call with
    # OverflowError (check_math: "error: OverflowError", a right answer scored wrong; check_math_many raised)
    pool = WorkerPool(max_workers=1)
    try:
        assert pool.warmup(1, timeout=float("inf"))
        for timeout in (1e10, float("inf")):
            assert pool.call("math:sqrt", (16,), timeout) == ("ok", 4.0)
    finally:
        pool.close()


def test_worker_pool_takes_an_int_timeout_past_float_range_as_unlimited():
    # float(10**400) raised OverflowError in call and warmup; such a timeout is no limit, as inf is
    pool = WorkerPool(max_workers=1)
    try:
        assert pool.warmup(1, timeout=10**400)
        assert pool.call("math:sqrt", (16,), 10**400) == ("ok", 4.0)
        assert pool.call("math:sqrt", (16,), -10**400) == ("timeout", None)
    finally:
        pool.close()


def test_worker_pool_takes_a_nan_timeout_as_no_time():
    # a NaN deadline reached select, which raised ValueError: warmup (documented to return a bool) crashed
    pool = WorkerPool(max_workers=1)
    try:
        assert pool.warmup(1, timeout=float("nan")) is False
        assert pool.call("math:sqrt", (16,), float("nan")) == ("timeout", None)
    finally:
        pool.close()


def test_worker_pool_ignores_modules_in_the_callers_working_directory(tmp_path, monkeypatch):
    # the worker ran `python -c`, which imports from the working directory first: a sympy.py (or any module
    # named as one the worker imports) in the caller's folder broke every symbolic comparison
    (tmp_path / "colorsys.py").write_text("raise ImportError('a file of the user, not the stdlib')\n")
    monkeypatch.chdir(tmp_path)
    pool = WorkerPool(max_workers=1)
    try:
        assert pool.call("colorsys:rgb_to_hsv", (1.0, 0.0, 0.0), 30) == ("ok", (0.0, 1.0, 1.0))
    finally:
        pool.close()


def test_worker_pool_refuses_arguments_larger_than_a_frame():
    # replies were capped at 64 MiB but arguments were not: writing them to the worker does not
    # watch the deadline, so a call with huge arguments ran past its timeout
    pool = WorkerPool(max_workers=1)
    try:
        tag, msg = pool.call("builtins:len", ("x" * (65 << 20),), 60)
        assert tag == "error" and msg.startswith("arguments too large"), (tag, msg)
        assert pool.call("builtins:len", ("x" * (1 << 20),), 60) == ("ok", 1 << 20)
    finally:
        pool.close()


def test_timeouts_shorter_than_worker_start_up_still_get_a_ready_worker():
    # each call used to kill the worker it was waiting for, so a timeout below the start-up time
    # (SymPy's import) never reached a ready worker: every call timed out, forever
    pool = WorkerPool(preload=("sympy", "ponder.verify.math"), max_workers=1)
    try:
        tags = []
        t0 = time.monotonic()
        while "ok" not in tags and time.monotonic() - t0 < 30:
            tags.append(pool.call("math:sqrt", (16,), 0.05)[0])
        assert tags[0] == "timeout" and tags[-1] == "ok", tags[-3:]
    finally:
        pool.close()


def test_no_worker_outlives_the_interpreter_when_a_call_is_in_flight():
    # close() at exit killed only idle workers: one busy in a daemon thread's call outlived its
    # parent, computing on (a long C-level step holds the GIL, so the worker's watchdog cannot run)
    code = (
        "import threading, time\n"
        "from ponder.verify.bounded import WorkerPool\n"
        "pool = WorkerPool(max_workers=1)\n"
        "assert pool.warmup(1, 60)\n"
        "print(pool._idle[0].proc.pid, flush=True)\n"
        "threading.Thread(target=pool.call, args=('builtins:pow', (3, 10**9), 600), daemon=True).start()\n"
        "time.sleep(0.5)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    pid = int(out.stdout.split()[0])

    def running():  # a zombie has ended: killed, left for init to reap (when it gets to it)
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    t0 = time.monotonic()
    while running() and time.monotonic() - t0 < 30:
        time.sleep(0.1)
    alive = running()
    if alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive


def _in_daemon(_):
    # multiprocessing.Pool workers are daemonic and may not start multiprocessing children;
    # the verifier's worker must still work from here
    return check_math("\\boxed{\\tan^2(y)+1}", "\\sec^2(y)", timeout=20).correct, check_math(
        "\\boxed{3/6}", "0.5"
    ).correct


def test_works_inside_a_daemonic_worker_process():
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.map(_in_daemon, [0]) == [(True, True)]


def test_check_math_many_keeps_order():
    comps = [f"\\boxed{{{i}}}" for i in range(30)] + ["\\boxed{\\tan^2(y)+1}", "\\boxed{7}"]
    golds = [str(i if i % 3 else i + 1) for i in range(30)] + ["\\sec^2(y)", "8"]
    out = check_math_many(comps, golds, timeout=10, workers=2)
    assert [v.correct for v in out] == [i % 3 != 0 for i in range(30)] + [True, False]
    assert [v.extracted for v in out[:3]] == ["0", "1", "2"]
    assert check_math_many(["\\boxed{1}"], []) == [Verdict(False, None, "bad input")]


def test_exact_roots_of_huge_numbers_stay_within_the_timeout():
    # roots of 100,000-bit integers used to take seconds per term, past any timeout
    huge = "\\sqrt{4^{24999}4^{24999}}"
    t0 = time.monotonic()
    assert not check_math(f"\\boxed{{{huge}}}", "1", timeout=0.5).correct
    assert not check_math("\\boxed{" + "+".join([huge] * 8) + "}", "1", timeout=1.0).correct
    assert answers_equal("\\sqrt{4^{33332}}", "1", timeout=0.5) is False
    assert time.monotonic() - t0 < 2.5
    gc.collect()  # (this thread's CPU time, no collection of the worker's heap inside: not the key's cost)
    gc.disable()
    try:
        t0 = time.thread_time()
        canonical_key(huge)
        canonical_key("\\sqrt[3]{(2^{33000}+1)^3}")
        took = time.thread_time() - t0
    finally:
        gc.enable()
    assert took < 0.1  # a key is cheap: big exact values keep their form
    # still exact where it matters: the root of a 99,000-bit cube is 2^33000 + 1, not 2^33000
    assert answers_equal("\\sqrt[3]{(2^{33000}+1)^3}", "2^{33000}+1", timeout=5)
    assert not answers_equal("\\sqrt[3]{(2^{33000}+1)^3}", "2^{33000}", timeout=5)
    # many such roots in one answer: the deadline is checked between (and inside) them
    many = "+".join(["\\sqrt[3]{(2^{33000}+1)^3}"] * 36)
    t0 = time.monotonic()
    v = check_math(f"\\boxed{{{many}}}", "2^{33000}", timeout=0.5)
    assert time.monotonic() - t0 < 3 and not v.correct  # (unbounded: a minute)


@pytest.mark.parametrize(
    "a,b,equal",
    [
        ("1,000", "1", False),
        ("1,000", "1000", True),
        ("3,500", "3.5", False),
        ("12,000", "12", False),
        ("1,500", "1.5", False),
        ("-1,000", "-1", False),
        ("1,234,567", "1234567", True),
        ("1,5", "1.5", True),  # a decimal comma (not three digits after it)
        ("1,25", "1.25", True),
        ("0,125", "0.125", True),  # no thousands reading with a zero first group
        ("0,125", "125", False),
    ],
)
def test_comma_with_three_digits_is_only_a_thousands_separator(a, b, equal):
    assert answers_equal(a, b, timeout=10) is equal
    assert answers_equal(b, a, timeout=10) is equal
    assert check_math(f"The answer is $\\boxed{{{a}}}$.", b, timeout=10).correct is equal


@pytest.mark.parametrize(
    "pred",
    ["3 4", "3\\,4", "3~4", "3\\quad4", "3 \\ 4", "3 \\text{ } 4", "3\\text{ or else }4", "-3 4"],
)
def test_juxtaposed_numbers_are_not_a_product(pred):
    for gold in ("12", "34", "-12", "-34"):
        assert not answers_equal(pred, gold, timeout=10), (pred, gold)
        assert not check_math(f"The answer is $\\boxed{{{pred}}}$.", gold, timeout=10).correct
    assert canonical_key(pred) != canonical_key("34")


def test_juxtaposition_with_units_text_and_symbols():
    assert not check_math("2 3 5", "30").correct
    for units in ("2 \\text{ hours } 30 \\text{ minutes}", "2 \\text{ hours and } 30 \\text{ minutes}"):
        assert not check_math(f"\\boxed{{{units}}}", "60").correct
    # a number times a symbol, a bracket, a root, pi, a fraction (mixed number) is still a product
    for a, b in [
        ("2\\sqrt{2}", "\\sqrt{8}"),
        ("3x", "x+x+x"),
        ("2(3+1)", "8"),
        ("2 \\pi", "\\pi+\\pi"),
        ("2 \\frac{1}{2}", "2.5"),
        ("1 000", "1000"),
        ("5 \\text{ cm}", "5"),
    ]:
        assert answers_equal(a, b, timeout=10), (a, b)


@pytest.mark.parametrize(
    "a,b,equal",
    [
        ("2¹⁰", "1024", True),
        ("2¹⁰", "2", False),
        ("10¹²", "10^{12}", True),
        ("x²³", "x^{23}", True),
        ("x²³", "x^6", False),
        ("10⁻³", "0.001", True),
        ("3²", "9", True),
        ("2½", "2.5", True),
        ("2½", "1", False),
        ("-2½", "-\\frac52", True),
        ("½", "0.5", True),
        ("3⅝", "\\frac{29}{8}", True),
        ("3 × ½", "1.5", True),
    ],
)
def test_unicode_superscript_runs_and_mixed_vulgar_fractions(a, b, equal):
    assert answers_equal(a, b, timeout=10) is equal
    assert check_math(f"The answer is $\\boxed{{{a}}}$.", b, timeout=10).correct is equal


@pytest.mark.parametrize(
    "a,b,equal",
    [
        ("\\lfloor 3.5 \\rfloor", "3", True),
        ("\\lfloor 3.5 \\rfloor", "3.5", False),
        ("\\left\\lfloor\\frac{10}{3}\\right\\rfloor", "3", True),
        ("\\lceil \\frac{7}{2} \\rceil", "4", True),
        ("\\lceil \\frac{7}{2} \\rceil", "\\frac72", False),
        ("\\lfloor -3.5 \\rfloor", "-4", True),
        ("\\lfloor \\sqrt{10} \\rfloor", "3", True),
        ("\\lfloor \\sqrt{10} \\rfloor", "\\sqrt{10}", False),
        ("\\lceil \\pi \\rceil", "4", True),
        ("2\\lfloor 3.5 \\rfloor", "6", True),
        ("\\operatorname{floor}(3.5)", "3", True),
        ("\\lfloor x \\rfloor", "x", False),
        ("\\lfloor 2x \\rfloor", "2\\lfloor x \\rfloor", False),  # equal at some points only
    ],
)
def test_floor_and_ceiling(a, b, equal):
    assert answers_equal(a, b, timeout=10) is equal
    assert answers_equal(b, a, timeout=10) is equal
    assert check_math(f"The answer is $\\boxed{{{a}}}$.", b, timeout=10).correct is equal


@pytest.mark.parametrize(
    "a,b,equal",
    [
        ("\\sin 30^\\circ", "\\frac12", True),
        ("\\cos 60^{\\circ}", "0.5", True),
        ("\\tan 45^\\circ", "1", True),
        ("\\sin 30°", "0.5", True),
        ("\\cos(20^\\circ)", "\\sin 70^\\circ", True),
        ("\\sin^2 45^\\circ", "\\frac12", True),
        ("\\sin 30^\\circ", "\\sin 30", False),
        ("90^\\circ", "90", True),  # outside a trig function a degree sign is still just dropped
        ("90°", "90", True),
    ],
)
def test_degrees_inside_trig_functions(a, b, equal):
    assert answers_equal(a, b, timeout=10) is equal
    assert check_math(f"The answer is $\\boxed{{{a}}}$.", b, timeout=10).correct is equal


def test_bmod_is_the_remainder():
    assert check_math("\\boxed{7 \\bmod 4}", "3").correct
    assert not check_math("\\boxed{7 \\bmod 4}", "7").correct
    assert not check_math("\\boxed{7 \\bmod 4}", "4").correct
    assert answers_equal("-1 \\bmod 4", "3")
    assert answers_equal("2 \\cdot 7 \\bmod 4", "2")
    assert answers_equal("9 \\pmod{11}", "9")  # a congruence's modulus is still dropped


@pytest.mark.parametrize("completion", ["\\boxed{12 = 13}", "The answer is $12 = 13$.", "\\boxed{-12 = 13}", "\\boxed{12.5 = 13}"])
def test_a_false_equation_of_two_numbers_is_no_answer(completion):
    # read as its last value, "\boxed{12 = 13}" scored for the gold 13
    assert not check_math(completion, "13").correct and not check_math(completion, "12").correct
    assert check_math("\\boxed{x = 13}", "13").correct and check_math("\\boxed{2+3 = 5}", "5").correct
    assert check_math("\\boxed{13 = 13}", "13").correct and check_math("\\boxed{13 = 13.0}", "13").correct


@pytest.mark.parametrize(
    "pred,gold,correct",
    [
        ("4 = 3", "3", False),  # two numbers said to be equal that are not: no answer
        ("4 = 3", "4", False),
        ("x = 3 + 3 = 7", "7", True),  # a computation's chain answers its last value (graders' and math-verify's
        ("x = 3 + 3 = 7", "6", False),  # reading) ... and only that one: a false step is no hedge
        ("3 \\approx 4", "3", True),  # the exact value before "≈" is the answer, however careless the rounding
        # (math-verify's public cases: "$x=1/3\\approx1.3$" answers 1/3; one value is read, so nothing to hedge)
        ("3 \\approx 4", "4", False),
        ("7 \\equiv 2 \\pmod{4}", "2", False),  # a congruence is checked when it has a modulus
        ("2^{10} \\equiv 1 \\pmod{3}", "1", True),  # ... and then answers its right-hand side
        ("x \\equiv 3 \\pmod{7}", "3", True),
        ("x = 5+5+1 = 7 = 11", "11", True),
        ("x = 5+5+1 = 7 = 11", "7", False),
        ("x = 3", "3", True),
        ("x = 2 + 3 = 5", "5", True),
        ("\\sqrt{8} = 2\\sqrt{2}", "2\\sqrt2", True),
        ("\\frac{1}{3} \\approx 0.333", "\\frac13", True),
        ("\\frac{1}{3} \\approx 0.333", "0.333", False),
        ("x \\approx 3.14", "3.14", True),
    ],
)
def test_a_chain_answers_its_last_value_only(pred, gold, correct):
    assert check_math(f"The answer is $\\boxed{{{pred}}}$.", gold, timeout=10).correct is correct
    assert answers_equal(pred, gold, timeout=10) is correct


@pytest.mark.parametrize(
    "a,b,equal",
    [
        ("\\color{red} 5", "5", True),
        ("{\\color{red} 5}", "5", True),
        ("\\textcolor{red}{5}", "5", True),
        ("\\textcolor[rgb]{1,0,0}{5}", "5", True),
        ("\\color{blue}{\\frac{1}{2}}", "0.5", True),
        ("\\color{red}{5}", "50", False),  # the colour's argument is dropped, the content stays
        ("\\textcolor{red}{5}", "50", False),
        ("\\color{red} 50", "5", False),
    ],
)
def test_colour_commands_keep_their_content(a, b, equal):
    assert answers_equal(a, b, timeout=10) is equal
    assert answers_equal(b, a, timeout=10) is equal
    assert check_math(f"The answer is $\\boxed{{{a}}}$.", b, timeout=10).correct is equal


@pytest.mark.parametrize(
    "a,b,equal",
    [
        ("\\phantom{4}3", "3", True),
        ("\\hphantom{4}3", "3", True),
        ("\\vphantom{4}3", "3", True),
        ("\\phantom{-}3", "3", True),
        ("\\phantom{4}3", "43", False),  # a phantom is blank space, dropped with its argument
        ("\\phantom{4}3", "4", False),
        ("\\phantom{-}3", "-3", False),
    ],
)
def test_phantoms_are_blank_space(a, b, equal):
    assert answers_equal(a, b, timeout=10) is equal
    assert answers_equal(b, a, timeout=10) is equal
    assert check_math(f"The answer is $\\boxed{{{a}}}$.", b, timeout=10).correct is equal


@pytest.mark.parametrize(
    "a,b,equal",
    [
        ("\\large 5", "5", True),
        ("\\Large{5}", "5", True),
        ("\\small\\frac{1}{2}", "0.5", True),
        ("\\scriptstyle 5", "5", True),
        ("\\Huge 5 \\mathstrut", "5", True),
        ("\\large 5", "6", False),
        ("5 \\large 6", "5", False),  # a switch between two numbers joins them into no product, as a space does
        ("5 \\large 6", "56", False),
    ],
)
def test_size_and_style_switches_change_only_the_look(a, b, equal):
    # "\\large 5" was the product large*5: a right answer in a bigger font scored wrong (math-verify takes it)
    assert answers_equal(a, b, timeout=10) is equal
    assert answers_equal(b, a, timeout=10) is equal
    assert check_math(f"The answer is $\\boxed{{{a}}}$.", b, timeout=10).correct is equal


@pytest.mark.parametrize(
    "box,gold,correct",
    [
        ("5\\text{.}", "5", True),
        ("5\\text{ .}", "5", True),
        ("\\text{5.}", "5", True),
        ("5\\text{.}", "6", False),
        ("\\text{5.}", "5.1", False),
        ("5 \\text{.} 6", "5", False),  # no full stop ends an answer that goes on
        ("5 \\text{.} 6", "56", False),
    ],
)
def test_a_full_stop_in_text_ends_the_answer(box, gold, correct):
    # "5\\text{.}" was 5 times the text ".": a right answer that ends its sentence scored wrong (math-verify takes it)
    assert check_math(f"The answer is $\\boxed{{{box}}}$", gold).correct is correct


@pytest.mark.parametrize(
    "box,gold,correct",
    [
        ("\\text{6 ways}", "6", True),
        ("\\text{12 cm}", "12", True),
        ("\\text{12 square units}", "12", True),
        ("\\text{6 ways}", "7", False),
        ("\\text{6 or more}", "6", False),  # no unit: a qualifier, as in "6 \\text{ or more}"
        ("\\text{6 or 7}", "6", False),
        ("\\text{10 AM}", "\\text{10 PM}", False),  # words that are no known unit stay text
    ],
)
def test_a_number_and_its_unit_in_one_text(box, gold, correct):
    # "\\text{6 ways}" was text, unequal to 6, while "6 \\text{ ways}" was 6: a right answer scored wrong
    assert check_math(f"The answer is $\\boxed{{{box}}}$", gold).correct is correct


def test_a_box_holding_only_a_phantom_is_no_answer():
    for box in ("\\boxed{\\phantom{4}}", "\\boxed{\\hphantom{4}}", "\\boxed{\\phantom{4}\\quad}"):
        v = check_math(f"The answer is $ {box} $.", "4")
        assert not v.correct
        assert v.extracted is None and v.reason == "no answer"
        assert extract_answer(box) is None
    assert not answers_equal("\\phantom{4}", "4")
    assert check_math("\\boxed{\\phantom{4}5}", "5").correct


@pytest.mark.parametrize(
    "a,b,equal",
    [
        ("\uff13", "3", True),  # full-width digits and signs
        ("\uff0d3", "-3", True),
        ("3\uff0f4", "3/4", True),
        ("\uff13\uff0e\uff15", "3.5", True),
        ("\u20103", "-3", True),  # hyphen
        ("\u20113", "-3", True),  # non-breaking hyphen
        ("\ufe633", "-3", True),  # small hyphen-minus
        ("\u22123", "-3", True),  # minus sign
        ("10\u207b\u00b3", "0.001", True),
        ("\uff13", "4", False),
        ("\uff0d3", "3", False),
        ("3\uff0f4", "34", False),
    ],
)
def test_full_width_digits_and_other_minus_signs(a, b, equal):
    assert answers_equal(a, b, timeout=10) is equal
    assert answers_equal(b, a, timeout=10) is equal
    assert check_math(f"The answer is $\\boxed{{{a}}}$.", b, timeout=10).correct is equal


@pytest.mark.parametrize(
    "a,b,equal",
    [
        ("0.\\overline{3}", "\\frac13", True),
        ("1.\\overline{6}", "5/3", True),
        ("0.1\\overline{6}", "\\frac{1}{6}", True),
        ("0.\\overline{09}", "\\frac{1}{11}", True),
        ("2.\\overline{142857}", "\\frac{15}{7}", True),
        ("-0.\\overline{3}", "-\\frac13", True),
        ("0.\\bar{3}", "\\frac13", True),
        ("0.\\overline{3}", "0.3", False),  # exact: a repeating decimal is no terminating one
        ("0.\\overline{3}", "0.333", False),
        ("0.\\overline{3}", "3", False),
        ("0.1\\overline{6}", "0.16", False),
        ("1.\\overline{6}", "1.6", False),
        ("\\overline{AB}", "AB", True),  # a segment's name is still no number
        ("\\overline{AB}", "0", False),
    ],
)
def test_repeating_decimals_with_overline(a, b, equal):
    assert answers_equal(a, b, timeout=10) is equal
    assert answers_equal(b, a, timeout=10) is equal
    assert check_math(f"The answer is $\\boxed{{{a}}}$.", b, timeout=10).correct is equal


@pytest.mark.parametrize(
    "pred,gold,correct",
    [
        # a gold that is one choice letter: the answer names that option, with or without its value
        ("(C) 12", "C", True),
        ("C) 12", "C", True),
        ("\\textbf{(C)} 12", "C", True),
        ("\\textbf{(C) }12", "C", True),
        ("\\textbf{(C)}\\ 12", "(C)", True),
        ("(C)\\qquad \\frac{1}{2}", "C", True),
        ("(C)", "C", True),
        ("C", "C", True),
        ("C", "(C)", True),
        ("(C) 12", "\\text{(C)}", True),
        ("(C) 12", "$\\textbf{(C)}$", True),
        ("\\textbf{(E) }\\text{none of these}", "E", True),
        ("(D) 12", "C", False),
        ("D", "(C)", False),
        ("12", "C", False),  # the option's value alone: which option is unknown
        ("(C) or (D)", "C", False),  # two options named: hard to game
        ("(C) 12, (D) 13", "C", False),
        ("(C) 12 \\qquad (D) 13", "C", False),
        ("C) 12 or D", "C", False),
        ("(C)(D)", "C", False),
        ("(C), (D)", "C", False),
        # a gold with the option's value: the letter alone, or the letter with the same value
        ("C", "(C) 12", True),
        ("(C)", "\\textbf{(C)}\\ 12", True),
        ("(C) 12", "(C) 12", True),
        ("\\textbf{(C)}\\ \\frac{24}{2}", "\\textbf{(C)}\\ 12", True),
        ("(C) 13", "(C) 12", False),
        ("(D) 12", "(C) 12", False),
        ("(C) or (D)", "(C) 12", False),
        # a label with its value against a plain value: the values decide (read whole, "(C) 12" was C*12)
        ("(C) 12", "12", True),
        ("\\text{Option C: }12", "12", True),
        ("\\text{Option C: }12", "C", True),
        ("\\text{Option C: }12", "D", False),
        ("(C) 12", "13", False),
        ("C) 12 or D", "12", False),
        ("(C) 12, (D) 13", "12", False),
        # the word naming the option is no part of it (read whole, "option C" matched no "C")
        ("\\text{option C}", "C", True),
        ("\\text{Option (C)}", "(C) 12", True),
        ("\\text{choice C}", "C", True),
        ("\\text{option D}", "C", False),
        ("\\text{option C or D}", "C", False),
        # a capital C elsewhere is still a variable or constant, as before
        ("x^2 + C", "x^2+C", True),
        ("C + 0", "C", True),
        ("C = 5", "5", True),
        ("(A, B)", "(A,B)", True),
        ("c", "C", False),
        ("x + C", "C", False),
    ],
)
def test_multiple_choice_letters(pred, gold, correct):
    assert check_math(f"The answer is $\\boxed{{{pred}}}$.", gold, timeout=10).correct is correct, (pred, gold)
    assert answers_equal(pred, gold, timeout=10) is correct
    assert answers_equal(gold, pred, timeout=10) is correct  # symmetric: votes group the same way


@pytest.mark.parametrize("completion", ["The answer is 2:30 p.m.", "The answer is 2:30 P.M.", "\\boxed{2:30 \\text{ p.m.}}"])
def test_a_clock_time_with_dotted_pm_is_the_time(completion):
    # "p.m." was read as the product p*m: the right 2:30 scored 0
    assert check_math(completion, "2:30").correct
    assert check_math(completion, "2:30 \\text{ pm}").correct and not check_math(completion, "2:30 \\text{ am}").correct


@pytest.mark.parametrize("completion", ["The answer is $5 per hour.", "The answer is $5/hour.", "The answer is 5 per hour."])
def test_a_rate_after_a_bare_number_is_the_number(completion):
    # "per hour" / "/hour" right after the number was a product with "per" or a division by the variable "hour"
    assert check_math(completion, "5").correct
    assert not check_math(completion.replace("hour", "x"), "5").correct  # "5/x" stays a quotient


@pytest.mark.parametrize(
    "completion, gold",
    [("The answer is 1.8 x 10^3.", "1800"), ("The answer is \\boxed{3 X 10^{-5}}.", "0.00003"),
     ("Answer: 3 x 10^5 meters", "300000")],
)
def test_scientific_notation_with_a_letter_x_is_the_number(completion, gold):
    # the "x" was a variable (x * 10^3): the right value scored 0; a plain "3 x 4" (a size) stays as written
    assert check_math(completion, gold).correct
    assert extract_answer(completion).count("\\times") == 1
    assert not check_math("The answer is 2 x 3.", "6").correct


@pytest.mark.parametrize("completion", ["Answer: 18 \u2713", "Answer: 18 \u2705", "The answer is 18 \u2714\ufe0f."])
def test_a_check_mark_after_the_answer_is_no_part_of_it(completion):
    # read with the mark, the right 18 scored 0
    assert check_math(completion, "18").correct
    assert not check_math(completion, "19").correct
    assert not check_math(completion.replace("18", "18 or 19"), "18").correct


@pytest.mark.parametrize(
    "completion, correct",
    [("The answer is $\\frac{1}{6}$, or about 16.7%.", True), ("The answer is $\\frac{1}{6}$, or approximately 0.167.", True),
     ("The answer is $\\frac{1}{6}$, or about 0.5.", False), ("The answer is $\\frac{1}{6}$, or about 0.167, or maybe 1/5.", False)],
)
def test_an_answer_phrase_value_with_or_about_its_rounding_is_the_value(completion, correct):
    # the "or" of "or about 0.167" was taken for a hedge: read whole, the right 1/6 scored 0 (as after a box it scored)
    assert check_math(completion, "1/6").correct is correct


@pytest.mark.parametrize("completion", ["The answer is 7 years old.", "\\boxed{7 years old}", "Answer: 7 months old"])
def test_an_age_in_years_old_is_the_value(completion):
    # "old" after the unit was read as a variable (7 * old): the right age scored 0
    assert check_math(completion, "7").correct
    assert not check_math(completion, "8").correct
    assert not check_math(completion, "7 \\text{ days}").correct  # the unit still counts


@pytest.mark.parametrize(
    "completion", ["The answer is 60 km/h.", "The answer is 60 miles per hour.", "The answer is 60 dollars/hour.",
                   "The answer is \\boxed{60 km/h}.", "The answer is 60 kph."],
)
def test_a_value_with_a_unit_per_unit_is_the_value(completion):
    # the "/ h" or "per hour" after the unit was read as a division by a variable: the right 60 scored 0
    assert check_math(completion, "60").correct
    assert check_math(completion, "60 \\text{ km/h}").correct is ("mile" not in completion and "dollar" not in completion)
    assert not check_math(completion, "60 \\text{ m/s}").correct  # a unit named on both sides still decides


@pytest.mark.parametrize(
    "completion", ["$2\\sqrt{2}$ (= 2.83)", "2\\sqrt{2} (= 2.83)", "The diagonal is $2\\sqrt{2}$ (= 2.83).",
                   "Diagonal: $2\\sqrt{2}$ (= 2.83)"],
)
def test_a_value_with_its_decimal_in_parentheses_is_that_value(completion):
    # read whole (or the decimal read last), the exact 2\sqrt{2} scored 0, as it scored after an answer phrase
    assert check_math(completion, "2\\sqrt{2}").correct
    assert not check_math(completion.replace("2\\sqrt{2}", "12").replace("2.83", "13"), "12").correct  # "(= 13)": a hedge


@pytest.mark.parametrize(
    "completion, gold",
    [("$10$ (= 2 x 5) - 3 = $7$", "10"), ("$\\frac{1}{6}$ (= 0.167) and $\\frac{1}{3}$ (= 0.333)", "1/6"),
     ("$\\frac{1}{6}$ (= 0.167) and $\\frac{1}{3}$ (= 0.333)", "1/3")],
)
def test_a_value_with_its_decimal_in_parentheses_then_more_is_not_that_value(completion, gold):
    # the line's head before "(= ...)" was read even when the line went on: a step of a computation ("10 (= 2 x 5)
    # - 3 = 7") or the first of two values scored as the answer
    assert not check_math(completion, gold).correct


@pytest.mark.parametrize(
    "completion, gold",
    [("We find 9. 6 is too large.", "9"), ("We obtain 9. 6 is too small.", "9"), ("Total: 12 (3 boxes of 4).", "12"),
     ("Total = 12 (3 boxes of 4).", "12"), ("We find 9 apples. 6 is the answer.", "6")],
)
def test_a_result_stated_with_we_find_or_total_is_concluded(completion, gold):
    # "We find 9" / "Total: 12" concluded nothing, so the value rejected or explained after it (6, 4) was read last
    # and the right value scored 0; a value after it that is not rejected is still the answer
    assert check_math(completion, gold).correct


@pytest.mark.parametrize(
    "completion, correct",
    [("Answer: 6 [verified]", True), ("The answer is 6 [verified].", True), ("**Answer:** 6 [check: 2*3=6]", True),
     ("Answer: 6 [backup] 7", False), ("Answer: 6 [or 7]", False), ("Answer: 6 [maybe 7]", False),
     ("Answer: 6 [see note] 7", False)],
)
def test_a_bracketed_remark_after_the_answer_is_no_part_of_it(completion, correct):
    # "6 [verified]" was read whole and the right 6 scored 0; a bracket offering another value stays a hedge
    assert check_math(completion, "6").correct is correct


@pytest.mark.parametrize(
    "remark", ["could be 7", "it might be 7", "might be 7", "likely 7", "probably 7", "that is, 7", "resp. 7", "vs 7",
               "about 7.5"],
)
def test_a_bracketed_remark_offering_another_value_is_a_hedge(remark):
    # "6 [could be 7]" scored right for the gold 6, while "6 (could be 7)" is a hedge: the bracket ended no clause
    assert not check_math(f"Answer: 6 [{remark}]", "6").correct
    assert not check_math(f"Answer: 6 ({remark})", "6").correct
    assert "about" in remark or not check_math(f"\\boxed{{6}} [{remark}]", "6").correct


@pytest.mark.parametrize("gold", ["12", "C", "(C) 12"])
def test_an_option_with_a_colon_and_its_value_is_that_option(gold):
    # "Option C: 12" was read whole as a product: neither the gold 12 nor the gold C scored
    assert check_math("The answer is Option C: 12", gold).correct
    assert not check_math("The answer is Option D: 13", gold).correct


@pytest.mark.parametrize(
    "pred,gold,correct",
    [
        # text that names another value or qualifies the value is no unit
        ("4 \\text{ (or 3)}", "4", False),
        ("4 \\text{ or more}", "4", False),
        ("4 \\text{ at least}", "4", False),
        ("4 \\text{ (approximately)}", "4", False),
        ("4 \\textbf{ or fewer}", "4", False),
        ("4 \\mbox{ apples or 5 pears}", "4", False),
        # units still drop
        ("4 \\text{ apples}", "4", True),
        ("4 \\text{ square units}", "4", True),
        ("4 \\text{ cm}^2", "4", True),
        ("4 \\text{ cm^2}", "4", True),
        ("4 \\text{ m²}", "4", True),
        ("4\\,\\text{km/h}", "4", True),
    ],
)
def test_text_after_a_value_is_dropped_only_when_it_reads_as_a_unit(pred, gold, correct):
    """Any \\text{} with a letter after a number used to be dropped as a unit, so "4 \\text{ (or 3)}"
    and "4 \\text{ or more}" scored as a bare 4: a hedge (or an inequality) that earned the reward."""
    assert check_math(f"\\boxed{{{pred}}}", gold).correct is correct, pred
    assert answers_equal(pred, gold) is correct and answers_equal(gold, pred) is correct


@pytest.mark.parametrize(
    "completion,gold,correct",
    [
        ("It is 3 or 4.", "4", False),
        ("Maybe 3 or 4.", "4", False),
        ("So it is either 3 or 4.", "4", False),
        ("The result could be 3, 4, or 5.", "5", False),
        ("So $x = 3$ or $x = 4$.", "4", False),
        ("So $3$ or $4$.", "4", False),
        ("Candidates: 1 2 3 4", "4", False),
        ("Thus we get $3$ and $4$.", "3, 4", True),  # the run is the list it names
        # one value at the end still answers
        ("So the total is 3 + 1 = 4.", "4", True),
        ("Therefore there are 4 ways.", "4", True),
        ("We have $a = 3$ and so $b = 4$.", "4", True),
    ],
)
def test_fallback_reads_a_run_of_values_joined_by_or_as_one_list(completion, gold, correct):
    """Without a box or an answer phrase the last number was the answer, so "It is 3 or 4." scored
    as 4 against gold 4 (and as 4 only): prose hedges earned the reward that boxed ones do not."""
    assert check_math(completion, gold).correct is correct, completion


@pytest.mark.parametrize(
    "completion,gold,correct",
    [
        ("\\boxed{\\boxed{4}, 3}", "4", False),
        ("\\boxed{3\\boxed{4}}", "4", False),
        ("\\boxed{\\frac{\\boxed{4}}{2}}", "4", False),
        ("\\boxed{\\frac{\\boxed{4}}{2}}", "2", True),
        ("\\boxed{\\boxed{4}}", "4", True),
        ("\\boxed{ \\fbox{4} }", "4", True),
        ("\\boxed{3 then, unclosed: \\boxed{4}", "4", True),  # an unclosed box encloses nothing
    ],
)
def test_a_box_inside_a_box_is_read_with_the_box_around_it(completion, gold, correct):
    """The last \\boxed was taken alone even inside another box, so "\\boxed{\\boxed{4}, 3}" (a box
    holding "4, 3") scored as 4."""
    assert check_math(completion, gold).correct is correct, completion


def test_double_factorial_is_not_the_factorial_of_a_factorial():
    """"3!!" parsed as (3!)! and scored equal to 720; the double factorial 3!! is 3."""
    assert not check_math("\\boxed{3!!}", "720").correct
    assert not answers_equal("3!!", "720") and not answers_equal("720", "3!!")
    assert check_math("\\boxed{(3!)!}", "720").correct
    assert check_math("\\boxed{5!}", "120").correct


@pytest.mark.parametrize(
    "pred,gold,correct",
    [("5 = x", "5", True), ("5 = x", "x = 5", True), ("2 + 3 = x", "5", True), ("4 = x", "5", False),
     ("5 = y", "x = 5", False)],
)
def test_a_value_equal_to_a_name_answers_that_value(pred, gold, correct):
    """"5 = x" was an equation between a number and a name and never equal to the gold 5."""
    assert check_math(f"\\boxed{{{pred}}}", gold).correct is correct
    assert answers_equal(pred, gold) is correct and answers_equal(gold, pred) is correct


@pytest.mark.parametrize(
    "a,b,tol",
    [
        ("0.333333333333333", "\\infty", 0.0),  # a 15-digit decimal is compared at 1e-14 relative
        ("3.14159265358979", "\\infty", 0.0),
        ("1.00000000000000", "-\\infty", 0.0),
        ("1", "\\infty", 0.01),
        ("\\infty", "-\\infty", 0.01),
        ("0.5", "\\infty i", 0.1),
        ("(0.333333333333333, 1)", "(\\infty, 1)", 0.0),
        ("x", "\\infty", 0.1),
    ],
)
def test_infinity_is_within_no_tolerance_of_a_finite_value(a, b, tol):
    """|x - oo| <= tol * oo held for every x, so any decimal of 15+ digits (or any value under a
    `tolerance`) equalled oo, and oo equalled -oo: "\\boxed{3.14159265358979}" scored against gold oo."""
    assert not answers_equal(a, b, tolerance=tol) and not answers_equal(b, a, tolerance=tol)
    assert not check_math(f"\\boxed{{{a}}}", b, tolerance=tol).correct


def test_equal_infinities_still_match_under_a_tolerance():
    for a, b in [("\\infty", "\\infty"), ("-\\infty", "-\\infty"), ("2\\infty", "\\infty")]:
        assert answers_equal(a, b, tolerance=0.01) and answers_equal(a, b)
    assert answers_equal("(-\\infty, 0.333333333333333]", "(-\\infty, 1/3]")


@pytest.mark.parametrize(
    "pred, golds",
    [
        ("123456789012345.5", ["123456789012345", "123456789012346"]),
        ("-123456789012345.5", ["-123456789012345", "-123456789012346"]),
        ("100000000000000.5", ["100000000000000", "100000000000001"]),
        ("1.234567890123455e14", ["123456789012345", "123456789012346"]),
        ("9007199254740992.0", ["9007199254740993"]),
        ("100000000000000.0", ["100000000000001", "99999999999999"]),
        ("10000000000000000.0", ["10000000000000050", "9999999999999950"]),
        ("123456789012.455", ["123456789012.45", "123456789012.46"]),  # exact decimals too
        ("4503599627370497.0", ["4503599627370498", "4503599627370496"]),  # ULPs are 1 there: 1 ULP off is wrong
        ("4503599627370497.5", ["4503599627370498", "4503599627370499"]),
        ("1.00000000000000e-323", ["0"]),  # 2 ULPs of 0.0 (subnormal) are no float artifact
        ("0.30000000000000004", ["0.3000000000000002", "0.31"]),
        ("2.9999999999999996", ["2", "4", "2.9999999999999995"]),
        ("(123456789012345.5, 1)", ["(123456789012346, 1)"]),
        ("1.23456789012345e5000", ["2", "10^{5000}"]),  # no "error: ValueError" (int-to-str digit limit)
    ],
)
def test_a_long_decimal_is_not_within_1e14_of_an_exact_value_it_could_write(pred, golds):
    """A decimal of 15+ significant digits was a printed double compared at 1e-14 relative, so against exact
    golds it matched every value in a window: "123456789012345.5" scored for both neighbouring integer golds
    (a reward hack), "10000000000000000.0" for any integer within 100 of it. A float computation's print of a
    value (within 1e-14 of it, or 4 ULPs of its double) still matches it, but only where that window cannot reach
    another value of its precision."""
    for gold in golds:
        assert not check_math(f"\\boxed{{{pred}}}", gold).correct, (pred, gold)
        assert not answers_equal(pred, gold) and not answers_equal(gold, pred), (pred, gold)


@pytest.mark.parametrize(
    "pred, gold",
    [
        ("9007199254740992.0", "9007199254740992"),
        ("-123456789012345.0", "-123456789012345"),
        ("1.00000000000000", "1"),
        ("1.234567890123450e14", "123456789012345"),
        ("0.0833333333333333", "\\frac{1}{12}"),  # rounded in its last place
        ("0.666666666666666", "\\frac{2}{3}"),  # cut
        ("0.6666666666666666", "\\frac{2}{3}"),  # repr of the nearest double
        ("0.66666666666666663", "\\frac{2}{3}"),  # %.17g of the nearest double
        ("-0.66666666666666663", "-\\frac{2}{3}"),
        ("1.8446744073709552e19", "2^{64}"),
        ("1.00000000000000e-9999", "10^{-9999}"),
        ("0.333333333333333", "0.3333333333333333"),  # two prints of 1/3
        ("3.14159265358979", "\\pi"),  # inexact: 1e-14
        ("1.4142135623730951", "\\sqrt{2}"),
        ("0.1+0.2", "0.3"),  # exact arithmetic
        ("2 \\cdot 0.333333333333333", "\\frac{2}{3}"),  # inside an expression: 1e-14
        # a float computation's print: its double within 4 ULPs of the exact value's nearest double
        ("0.30000000000000004", "0.3"),  # 0.1 + 0.2 in doubles, 1 ULP off
        ("0.30000000000000004", "\\frac{3}{10}"),
        ("0.1 + 0.2 = 0.30000000000000004", "0.3"),
        ("0.30000000000000004441", "0.3"),  # %.20f of the same double
        ("2.9999999999999996", "3"),  # 1 ULP below
        ("-2.9999999999999996", "-3"),
        ("0.7999999999999999", "\\frac{4}{5}"),
        ("1.2000000000000002", "1.2"),
        ("123456789012345.03", "123456789012345"),  # 2 ULPs (1/64), no other integer within reach
        # within 1e-14 of a value whose window reaches no other value of its precision: accumulated float error
        (repr(1 - 0.95), "\\frac{1}{20}"),  # 0.050000000000000044, beyond 4 ULPs
        (repr(sum([1 / 19] * 29)), "\\frac{29}{19}"),  # 1.5263157894736832
        ("0.666666666666665", "\\frac{2}{3}"),  # two units off its last place, yet no other thirds near
        ("0.33333333333333365", "\\frac{1}{3}"),  # 6 ULPs off
        # ... also of a value no double holds (before, only its nearest double or a print within its last place)
        (repr(1 - 2 / 3), "\\frac{1}{3}"),  # 0.33333333333333337, 1 ULP off
        (repr(1 - 5 / 6), "\\frac{1}{6}"),  # 0.16666666666666663
        (repr(50 * (1 / 3)), "\\frac{50}{3}"),  # 16.666666666666664
        (repr(-(1 - 2 / 3)), "-\\frac{1}{3}"),
        (repr(1 - 8 / 9), "\\frac{1}{9}"),  # 0.11111111111111116, 1 ULP off
        (repr(sum([1 / 9] * 7)), "\\frac{7}{9}"),  # 0.7777777777777779
    ],
)
def test_a_long_decimal_still_matches_the_value_it_prints(pred, gold):
    assert check_math(f"\\boxed{{{pred}}}", gold).correct, (pred, gold)
    assert answers_equal(pred, gold) and answers_equal(gold, pred), (pred, gold)


@pytest.mark.parametrize("text, gold", [
    ("the result is 2+3", "3"), ("So we get 5^2", "2"), ("We conclude 5 \\pm 1", "1"),
    ("Hence x = 4\\sqrt{2}", "2"), ("The total is 12\\times", "12"), ("So we get 5^{", "5"), ("Thus 7/", "7"),
    ("\\frac{1}{" * 100, "1"), ("So 10 - 3", "3"),
])
def test_an_operand_is_never_the_answer(text, gold):
    """With no box, phrase or math span, the last number standing alone used to be taken even when it was an
    operand of what is written (or of a completion cut off mid-expression): a wrong answer scored correct."""
    v = check_math(text, gold)
    assert not v.correct and v.extracted is None


@pytest.mark.parametrize("text, gold", [
    ("so 2+3=5", "5"), ("The total is **42**.", "42"), ("It costs 5 dollars", "5"), ("x is 12.", "12"),
    ("A 5-year plan gives 7", "7"), ("the answer: -5", "-5"),
])
def test_a_value_standing_alone_is_still_found(text, gold):
    assert check_math(text, gold).correct


def test_several_lines_of_working_are_not_one_answer():
    """A derivation cut off by the token limit used to be extracted whole (every word a number or operator), and
    such junk answers won self-consistency votes; its last standalone value is the answer now."""
    assert extract_answer("8 * 9 = 72.\n72 - 17 = 55.\n55 + 10 = 65.\n65 - 1") == "65"
    assert extract_answer("x = 5") == "x = 5"


def test_a_run_of_plus_minus_signs_stays_within_the_timeout():
    # each \pm doubles the sign choices; 18 of them (a 100-character answer) took 40 s with timeout 1
    t0 = time.monotonic()
    v = check_math("\\boxed{" + "\\pm 1" * 18 + "}", "3", timeout=1.0)
    assert time.monotonic() - t0 < 4 and not v.correct  # (unbounded: 40 s)
    assert answers_equal("1 \\pm \\sqrt{19}", "1+\\sqrt{19}, 1-\\sqrt{19}")  # a few choices still expand


@pytest.mark.parametrize("pred, gold, correct", [
    ("3_{x}", "3", False),  # a subscript that is no base was dropped: 3_{x} was 3
    ("\\frac{1}{2}_{x}", "0.5", False),
    ("3_{x}", "3_{x}", True),
    ("101_2", "5", True),  # a base still reads
    ("12_{3}", "5", True),
    ("e_1+e_2", "2e", False),  # an indexed constant is a name: e_1 + e_2 was 2e
    ("e_1+e_2", "e_2+e_1", True),
])
def test_a_subscript_with_no_known_value_is_not_dropped(pred, gold, correct):
    assert check_math(f"\\boxed{{{pred}}}", gold).correct is correct


@pytest.mark.parametrize("pred", [
    "3_{\\text{ or } 4}", "3^{\\text{ or } 1}", "3^{1 \\text{ or}}", "\\frac{3}{\\text{or } 1}", "(\\text{or } 3)",
    "\\left(\\text{or} 3\\right)", "\\{\\text{or } 3\\}",
])
def test_or_inside_a_group_joins_two_values_or_nothing(pred):
    # a leading or trailing "or" inside braces was skipped: "3_{or 4}", a hedge in small print, was 3 in base 4
    assert not check_math(f"\\boxed{{{pred}}}", "3").correct
    assert check_math("\\boxed{\\{1 \\text{ and } 2\\}}", "\\{1, 2\\}").correct


@pytest.mark.parametrize("completion, gold, correct", [
    ("\\boxed{3} or 4", "3", False),  # the box alone was read: the hedge after it went unseen
    ("$\\boxed{3}$ (or $4$).", "3", False),
    ("\\boxed{3}\\text{ or }4", "3", False),
    ("\\boxed{3}, or maybe 4", "3", False),
    ("\\boxed{3} or 4", "3, 4", True),
    ("\\boxed{3} or more precisely, three", "3", True),  # no other value
    ("\\boxed{3}. Originally 4 was my guess.", "3", True),
    # "or" after a bracket, a dash, an ellipsis or a colon went unseen
    ("$\\boxed{3}$ [or $4$]", "3", False),
    ("$\\boxed{3}$ \u2014 or $4$", "3", False),
    ("\\boxed{3} -- or 4", "3", False),
    ("\\boxed{3}... or 4", "3", False),
    ("\\boxed{3}: or 4", "3", False),
    ("\\boxed{3} -- originally 4", "3", True),
    # a bracket closing around the box hid the "or" after it (3 scored alone), a long pad after it as well
    ("(\\boxed{3}) or 4", "3", False),
    ("\\boxed{3} ) or 4", "3", False),
    ("$[\\boxed{3}]$, or 4", "3", False),
    ("$\\left(\\boxed{3}\\right)$ or 4", "3", False),
    ("\\boxed{3} )$" + " " * 300 + " or 4", "3", False),
    ("(\\boxed{3}) or 4", "3, 4", True),
    ("(\\boxed{3}) or equivalently 3.0", "3", True),
    ("(\\boxed{3}) square units.", "3", True),
])
def test_or_another_value_right_after_a_box_is_a_hedge(completion, gold, correct):
    assert check_math(completion, gold).correct is correct


@pytest.mark.parametrize("a, b, equal", [
    ("|x+100|", "x+100", False),  # every random point had x > -100: the identity test accepted it
    ("|x+10^6|", "x+10^6", False),
    ("|x^2 - 3|", "x^2-3", False),
    ("|2x-6|", "2|x-3|", True),
    ("|x-1|+|x+1|", "|x+1|+|1-x|", True),
    ("\\ln(x^2)", "2\\ln|x|", True),
    # a root of a variable expression is piecewise too: sqrt((x+100)^2) is |x+100|
    ("\\sqrt{(x+100)^2}", "x+100", False),
    ("\\sqrt{(x+100)^2}", "|x+100|", True),
    ("((x+100)^2)^{1/2}", "x+100", False),
    ("\\sqrt[4]{(x+50)^4}", "x+50", False),
    ("\\sqrt{(x-1000)^2}", "1000-x", False),
    ("\\sqrt{x^4}", "x^2", True),
    ("\\sqrt{x^2+1}", "\\sqrt{1+x^2}", True),
])
def test_an_absolute_value_of_a_variable_is_tested_at_points_of_every_size(a, b, equal):
    assert answers_equal(a, b) is equal


@pytest.mark.parametrize("pred", ["3_2", "7_0", "7_{40}", "2.5_4"])
def test_no_numeral_in_its_base_is_wrong_not_an_error(pred):
    # the digit 3 in base 2 raised an internal exception: reason "error: _NotExact"
    v = check_math(f"\\boxed{{{pred}}}", "3")
    assert v.reason == "wrong" and not v.correct
    assert check_math(f"\\boxed{{{pred}}}", pred).correct


def test_invisible_characters_are_no_part_of_an_answer():
    """A zero-width space, joiner, BOM or soft hyphen in a right answer made it wrong; hiding a hedge or a
    second number behind one still does not pass."""
    for text in ("\\boxed{3\u200b}", "The answer is 3\u200b.", "\\boxed{\u200d3}", "\\boxed{3\ufeff}",
                 "\\boxed{3\u00ad}", "\\boxed{\u20603}"):
        assert check_math(text, "3").correct, repr(text)
    for text in ("\\boxed{1\u200b2}", "\\boxed{3\u200bor\u200b4}", "\\boxed{3,\u200b4}"):
        assert not check_math(text, "3").correct, repr(text)
    assert check_math("\\boxed{1\u200b2}", "12").correct


@pytest.mark.parametrize("pred, gold, correct", [
    ("x \\not= 4", "4", False),  # \not was an opaque name: "x \not= 4" was "x*not = 4", answering 4
    ("\\not = 4", "4", False),
    ("x \\not= 4", "x \\neq 4", True),
    ("x \\not\\in \\{4\\}", "4", False),
    ("x \\not\\equiv 4", "4", False),
    ("x \\not\\in A", "x \\in A", False),
])
def test_a_negated_relation_is_not_the_relation(pred, gold, correct):
    assert check_math(f"\\boxed{{{pred}}}", gold).correct is correct


def test_an_answer_phrase_inside_the_last_box_is_part_of_the_box():
    # the phrase inside the box was read as a revision after it: the answer was "} 4}" or "} 5} so 4"
    assert extract_answer("\\boxed{\\text{The answer is } 4}") == "\\text{The answer is } 4"
    assert extract_answer("\\boxed{\\text{Answer: } 5} so 4") == "\\text{Answer: } 5"
    assert not check_math("\\boxed{\\text{Answer: } 5} so 4", "4").correct
    assert check_math("\\boxed{4}. Final answer: 5", "5").correct  # a phrase after the box still revises it


@pytest.mark.parametrize("pred, gold, correct", [
    ("5\\,\\mathrm{m/s}", "5", True),  # the unit's letters were variables: 5*m/s
    ("5 \\mathrm{m}", "5", True),
    ("5\\mathrm{m}^2", "5", True),
    ("5 \\, \\mathrm{kg \\cdot m/s^2}", "5", True),
    ("5\\mathrm{min}", "5", True),
    ("10\\,^\\circ\\mathrm{C}", "10", True),
    ("5 \\mathrm{m}", "5 \\text{ m}", True),
    ("5\\mathrm{m}", "6", False),
    ("2\\mathrm{e}", "2", False),  # upright e is Euler's number, no unit
    ("2\\mathrm{e}", "2e", True),
    ("5\\mathrm{x}", "5", False),
    ("5\\mathrm{m} \\text{ or } 6", "5", False),
])
def test_an_upright_unit_after_a_number_is_dropped(pred, gold, correct):
    assert check_math(f"\\boxed{{{pred}}}", gold).correct is correct


@pytest.mark.parametrize("a, b, equal", [
    ("ab^2", "a^2b^2", False),  # the exponent took the whole word: ab^2 was (ab)^2
    ("xy^2", "x^2y^2", False),
    ("2xy^2", "2x^2y^2", False),
    ("\\frac{1}{xy^2}", "\\frac{1}{x^2y^2}", False),
    ("yx^2", "x^2y", True),
    ("ab^2", "a b^2", True),
    ("abc^2", "c^2ba", True),
    ("(ab)^2", "a^2b^2", True),
])
def test_an_exponent_after_a_word_of_letters_binds_to_its_last_letter(a, b, equal):
    assert answers_equal(a, b) is equal and answers_equal(b, a) is equal
    assert check_math(f"\\boxed{{{a}}}", b).correct is equal


@pytest.mark.parametrize("pred, gold, correct", [
    ("x<1 \\text{ or } x>2", "(-\\infty,1)\\cup(2,\\infty)", True),  # it was a list of two inequalities
    ("x < -1 \\lor x \\geq 3", "(-\\infty,-1)\\cup[3,\\infty)", True),
    ("x < 1 \\text{ or } 2 < x < 3", "(-\\infty,1)\\cup(2,3)", True),
    ("(-\\infty,1)\\cup(2,\\infty)", "x<1 \\text{ or } x>2", True),
    ("x \\le 1 \\text{ or } x>2", "(-\\infty,1)\\cup(2,\\infty)", False),
    ("x<1 \\text{ or } y>2", "(-\\infty,1)\\cup(2,\\infty)", False),
    ("x>1 \\text{ and } x<2", "(-\\infty,1)\\cup(2,\\infty)", False),  # "and" is no union
    ("x<1, x>2", "(-\\infty,1)\\cup(2,\\infty)", False),
    ("x<1 \\text{ or } x>2", "x<1", False),
    ("x<1 \\text{ or } x>2", "2", False),
])
def test_inequalities_joined_by_or_are_their_union(pred, gold, correct):
    assert check_math(f"\\boxed{{{pred}}}", gold).correct is correct


@pytest.mark.parametrize("pred, gold, correct", [
    ("{10 \\choose 3}", "120", True),  # read as a prefix \binom it was unparseable
    ("\\left({10 \\choose 3}\\right)", "120", True),
    ("{n \\choose 2}", "\\frac{n(n-1)}{2}", True),
    ("{10 \\choose 3}", "121", False),
])
def test_infix_choose_is_a_binomial(pred, gold, correct):
    assert check_math(f"\\boxed{{{pred}}}", gold).correct is correct


@pytest.mark.parametrize("a, b", [
    ("\\infty^0", "1"),  # SymPy makes oo**0 1 and log(4)/log(0) 0: undefined values equalled numbers
    ("(-\\infty)^0", "1"),
    ("\\infty^{1-1}", "1"),
    ("\\log_0 4", "0"),
])
def test_an_undefined_power_or_logarithm_equals_no_number(a, b):
    assert not answers_equal(a, b) and not answers_equal(b, a)
    assert not check_math(f"\\boxed{{{a}}}", b).correct
    assert answers_equal("\\log_{0.5} 4", "-2") and answers_equal("\\infty^2", "\\infty")


@pytest.mark.parametrize("pred, correct", [
    ("4 more", False),  # a bare qualifier word of 4+ letters was dropped as a unit, as "\text{ more}" no longer is
    ("4 maybe", False),
    ("4 approximately", False),
    ("4 minimum", False),
    ("4 atleast", False),
    ("4 \\text{ (wrong)}", False),  # text denying the value was dropped as a unit
    ("4 \\text{ is incorrect}", False),
    ("4 wrong", False),
    ("4 apples", True),
    ("4 square units", True),
    ("4 hours", True),
])
def test_a_qualifier_word_after_a_value_is_no_unit(pred, correct):
    assert check_math(f"\\boxed{{{pred}}}", "4").correct is correct


@pytest.mark.parametrize("pred, correct", [
    # a word that changes the value was dropped as a unit: "4 squared" (16) and "4 thirds" (4/3) scored for 4
    ("4 squared", False),
    ("4 \\text{ squared}", False),
    ("4\\text{ thirds}", False),
    ("4 \\text{ hundredths}", False),
    ("4 factorial", False),
    ("4 \\text{ reciprocal}", False),
    # after a unit, "squared" is the unit's exponent
    ("4 \\text{ cm squared}", True),
    ("4 cm squared", True),
    ("4 \\text{ quarters}", True),  # coins
])
def test_a_word_after_a_value_that_changes_it_is_no_unit(pred, correct):
    assert check_math(f"\\boxed{{{pred}}}", "4").correct is correct
    assert check_math(f"The answer is {pred}.", "4").correct is correct


@pytest.mark.parametrize("a, b, equal", [
    ("\\sin 3x", "\\sin(3x)", True),  # it was sin(3)*x
    ("\\sin 2x", "2\\sin x\\cos x", True),
    ("\\cos 2\\theta", "1-2\\sin^2\\theta", True),
    ("\\frac{\\sin 3x}{\\sin x}", "3-4\\sin^2 x", True),
    ("\\log 2x", "\\log(2x)", True),
    ("\\sin x \\cos x", "\\frac{\\sin 2x}{2}", True),  # another function ends the argument
    ("\\sin 3x", "x\\sin 3", False),
    ("\\sin 3x + 1", "\\sin(3x)", False),
])
def test_a_function_argument_without_parentheses_runs_over_juxtaposed_names(a, b, equal):
    assert answers_equal(a, b, timeout=10) is equal and answers_equal(b, a, timeout=10) is equal


@pytest.mark.parametrize("a, b, equal", [
    ("\\sin(xy)", "\\sin(yx)", True),  # a function of a word of letters was the text "sin xy"
    ("\\cos(ab)", "\\cos(ba)", True),
    ("\\sin(xy)", "\\sin x y", True),
    ("\\sin(xy)", "\\sin(x)y", False),
    ("North", "north", True),
])
def test_a_function_applied_to_a_word_of_letters_is_no_text(a, b, equal):
    assert answers_equal(a, b, timeout=10) is equal and answers_equal(b, a, timeout=10) is equal


def test_exact_values_past_the_exact_size_cap_are_told_apart():
    """2^{100000} and 2^{100000} + 1 are past the exact cap (100,000 bits): 60 digits of each agreed, so
    they were equal, as were 100000! and 100000! + 1, and x + 2^{200000} and x + 2^{200000} + 1."""
    for a, b in (
        ("2^{100000}", "2^{100000}+1"),
        ("2^{200000}", "2^{200000}+2^{199000}"),
        ("3^{100000}", "3^{100000}-1"),
        ("100000!", "100000!+1"),
        ("\\frac{2^{200000}+1}{3}", "\\frac{2^{200000}}{3}"),
        ("x+2^{200000}", "x+2^{200000}+1"),
        ("2^{200000}x", "(2^{200000}+1)x"),
    ):
        assert not answers_equal(a, b, timeout=10), (a, b)
        assert not answers_equal(b, a, timeout=10), (b, a)
    # equal values in other forms stay equal
    for a, b in (
        ("2^{200000}", "4^{100000}"),
        ("2^{200001}", "2\\cdot 2^{200000}"),
        ("(10^5)!", "100000!"),
        ("\\frac{2^{200000}}{2^{199999}} + 2^{300000}", "2 + 8^{100000}"),
        ("x\\cdot 2^{200000}", "4^{100000}x"),
        ("10^{40000}", "100^{20000}"),
    ):
        assert answers_equal(a, b, timeout=10), (a, b)
        assert answers_equal(b, a, timeout=10), (b, a)


def test_words_and_numbers_outside_text_are_the_text_answer():
    """'June 20' in a box was the product J*u*n*e*20: wrong for the gold '\\text{June 20}' (a date, as MATH writes
    it); the words and numbers now also read as that text."""
    for pred, gold, correct in (
        ("June 20", "\\text{June 20}", True),
        ("june  20", "\\text{June 20}", True),
        ("Room 101", "\\text{room 101}", True),
        ("June 21", "\\text{June 20}", False),
        ("June 20", "20", False),
        ("June 20", "\\text{June}", False),
        ("2ab", "\\text{2 ab}", False),  # a product written without spaces stays a product
    ):
        assert answers_equal(pred, gold, timeout=10) is correct, (pred, gold)
        assert answers_equal(gold, pred, timeout=10) is correct, (gold, pred)
        assert check_math(f"The date is $\\boxed{{{pred}}}$.", gold, timeout=10).correct is correct, (pred, gold)
    assert canonical_key("June 20") == canonical_key("\\text{June 20}")


def test_a_degree_sign_in_text_or_a_superscript_is_a_degree():
    """'45\\text{°}' and '45^{°}' were unparseable (wrong for gold 45), though '45°', '45^\\circ' and '45\\text{°C}'
    were 45."""
    for pred in ("45\\text{°}", "45\\text{ °}", "45\\textrm{°}", "45^{°}", "45^°"):
        assert answers_equal(pred, "45", timeout=10), pred
        assert answers_equal("45^\\circ", pred, timeout=10), pred
        assert not answers_equal(pred, "46", timeout=10), pred
    assert answers_equal("\\sin 30\\text{°}", "\\frac{1}{2}", timeout=10)  # in a trig argument: degrees


def test_a_completion_that_is_only_an_emphasized_answer_is_that_answer():
    """A whole completion '**12**' (Markdown bold) was the answer '**12**', unparseable: wrong for gold 12, where
    'The answer is **12**.' and a last line '**12**' after some reasoning were 12."""
    for text in ("**12**", " **12** ", "*12*", "__12__", "**$12$**", "***12***", "**\\frac{24}{2}**"):
        v = check_math(text, "12", timeout=10)
        assert v.correct and v.reason == "ok", (text, v)
        assert not check_math(text, "13", timeout=10).correct, text
    assert check_math("2**3", "8", timeout=10).correct  # a power, not emphasis


def test_a_parenthesized_period_right_after_the_point_is_a_repeating_decimal():
    """'0.(3)' was 0 * 3 (a number '0.' times '(3)'): equal to 0 and to '0.(9)', unequal to 1/3."""
    for a, b, equal in (
        ("0.(3)", "\\frac{1}{3}", True),
        ("0.(9)", "1", True),
        ("2.(142857)", "\\frac{15}{7}", True),
        ("0.(3)", "0.\\overline{3}", True),
        ("-0.(6)", "-\\frac{2}{3}", True),
        ("0.(3)", "0", False),
        ("0.(3)", "0.(6)", False),
        ("0.5(3)", "1.5", True),  # digits after the point: a product, as before
    ):
        assert answers_equal(a, b, timeout=10) is equal, (a, b)
        assert answers_equal(b, a, timeout=10) is equal, (b, a)


@pytest.mark.parametrize("a, b, equal", [
    # "x = 1, x = 2" lost its name (the values 1, 2), then matched each of "x = 1, y = 2" by value
    ("x=1, x=2", "x=1, y=2", False),
    ("y=1, y=2", "x=1, y=2", False),
    ("x = 2, x = 1", "y = 2, x = 1", False),
    ("x=1, x=2", "y=1, y=2", True),  # values of one variable each, as before (a public Math-Verify case)
    # the values of one variable still match its values, however written
    ("x=1, x=2", "1, 2", True),
    ("x=1, x=2", "x=2 \\text{ or } x=1", True),
    ("x=1, x=2", "\\{1,2\\}", True),
    ("x = 1, x = 2", "x \\in \\{1, 2\\}", True),
    ("x = 1, x = -1", "x = \\pm 1", True),
    ("p = -1, p = \\frac{15}{8}", "-1, \\frac{15}{8}", True),
])
def test_values_of_one_variable_keep_its_name(a, b, equal):
    assert answers_equal(a, b, timeout=10) is equal, (a, b)
    assert answers_equal(b, a, timeout=10) is equal, (b, a)


@pytest.mark.parametrize("pred, gold, correct", [
    # TeX's infix \over (in a group, or over the whole formula) was unparseable, as was a bare infix \choose
    ("{1 \\over 2}", "\\frac{1}{2}", True),
    ("1 \\over 2", "0.5", True),
    ("x + {1 \\over x}", "\\frac{x^2+1}{x}", True),
    ("{\\sqrt{3} \\over 2}", "\\frac{\\sqrt3}{2}", True),
    ("10 \\choose 3", "120", True),
    ("{1 \\over 2}", "2", False),
    ("1 \\over 3", "\\frac{1}{2}", False),
    ("\\overline{AB} + {1 \\over 2}", "\\overline{AB} + \\frac{1}{2}", True),  # \overline is no \over
])
def test_infix_over_is_a_fraction(pred, gold, correct):
    assert check_math(f"\\boxed{{{pred}}}", gold).correct is correct


@pytest.mark.parametrize("a, b", [
    ("(2)\\frac{1}{2}", "1"),  # a parenthesized factor is no whole part: it was the mixed number 5/2
    ("(3)\\frac{1}{4}", "\\frac{3}{4}"),
    ("2\\frac{3}{2}", "3"),  # an improper fraction is no fractional part: it was 2 + 3/2
    ("2\\frac{2}{2}", "2"),
    ("2\\frac{1}{2}", "\\frac{5}{2}"),  # a mixed number, as before
    ("-3\\frac{1}{2}", "-\\frac{7}{2}"),
])
def test_only_a_number_and_a_proper_fraction_are_a_mixed_number(a, b):
    assert answers_equal(a, b, timeout=10), (a, b)
    assert answers_equal(b, a, timeout=10), (b, a)


@pytest.mark.parametrize("pred, gold, correct", [
    ("1, 1, 2", "1, 2, 2", False),  # compared as sets these matched: the multiplicities were lost
    ("1, 2", "1, 2, 2", False),
    ("\\{1, 2\\}", "1, 2, 2", False),  # duplicates in a set literal collapse: it has no repeat
    ("x = 1, x = 1, x = 2", "x = 1, x = 2, x = 2", False),
    ("2, 1, 2", "1, 2, 2", True),  # still in any order
    ("\\pm 1, 1", "1, -1, 1", True),
    # a gold of distinct values is a set of answers: a value listed twice is no other answer
    ("1, 2, 2", "1, 2", True),
    ("(3, 17), (17, 3), (3, 17)", "(17, 3), (3, 17)", True),
    ("1, 2, 2", "\\{1, 2\\}", True),
    ("\\{1, 2, 2\\}", "\\{1, 2\\}", True),
    ("(1, 2)", "(2, 1)", False),  # a tuple is ordered
])
def test_a_gold_that_repeats_a_value_counts_multiplicities(pred, gold, correct):
    assert check_math(f"\\boxed{{{pred}}}", gold, timeout=10).correct is correct


@pytest.mark.parametrize("a, b, equal", [
    ("1, 1, 2", "1, 2, 2", False),
    ("1, 2, 2", "1, 2", False),  # no gold: a repeat on either side counts, so equality stays symmetric
    ("1, 1, 2", "\\{1, 2\\}", False),
    ("2, 1, 2", "1, 2, 2", True),
    ("\\{1, 2, 2\\}", "\\{2, 1\\}", True),
])
def test_answers_equal_counts_repeats_on_either_side(a, b, equal):
    assert answers_equal(a, b, timeout=10) is equal
    assert answers_equal(b, a, timeout=10) is equal
    if not equal:  # the same key implies equal answers
        assert canonical_key(a) != canonical_key(b)


def test_lists_and_sets_match_under_a_tolerance():
    # values within the tolerance were skipped as "clearly apart" at 1e-9 before the real comparison
    assert check_math("\\boxed{1.001, 2}", "1, 2", tolerance=0.01).correct
    assert check_math("\\boxed{\\{2, 1.001\\}}", "\\{1, 2\\}", tolerance=0.01).correct
    assert not check_math("\\boxed{1.1, 2}", "1, 2", tolerance=0.01).correct
    # a gold with a repeat pairs values one to one: 1.02 is within 1.5% of both 1.01 and 1.03, 1.0 only
    # of 1.01, so pairing 1.02 with 1.01 first must not leave 1.0 without a partner
    assert check_math("\\boxed{1.02, 1.0, 5, 5}", "1.01, 1.03, 5, 5", tolerance=0.015).correct
    assert answers_equal("1.02, 1.0, 5, 5", "1.01, 1.03, 5, 5", tolerance=0.015)
    assert not answers_equal("1.0, 1.0, 5, 5", "1.01, 1.03, 5, 5", tolerance=0.015)


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. Or 6.",
    "$\\boxed{5}$.\n\nOr maybe 6.",
    "The answer is 5. Or 6.",
    "Final Answer: $5$. Or $6$.",
    "Answer: 5\nOr perhaps 6",
    "So we get 5. Or 6.",
])
def test_or_another_value_in_the_next_sentence_is_a_hedge(completion):
    """The first value was read and the sentence after it ignored: "\\boxed{5}. Or 6." scored for the gold 5
    (and "So we get 5. Or 6." for the gold 6), while "\\boxed{5} or 6" was already a hedge."""
    assert not check_math(completion, "5").correct
    assert not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. Originally I guessed 6.",
    "\\boxed{5}. Or, in other words, five.",  # no other value
    "The answer is 5. Ordering the 6 cases changes nothing.",
    "So we get 5.",
])
def test_a_next_sentence_without_or_another_value_is_no_hedge(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize("pred, gold, correct", [
    ("5, 5", "5", True),  # a gold of one value, like "1, 2" against "1, 2, 2": a repeat is no other answer
    ("\\pm 0", "0", True),
    ("\\frac{1}{2}, 0.5", "0.5", True),
    ("5, 5", "x = 5", True),
    ("5, 6", "5", False),
    ("\\pm 3", "3", False),
    ("x = 5, y = 5", "5", False),  # two names, not one value
])
def test_a_list_repeating_the_one_gold_value_is_that_value(pred, gold, correct):
    """A gold of distinct values compares as a set ("1, 2, 2" is "1, 2"), yet a gold of one value did
    not: "5, 5" (and "\\pm 0") were wrong for the gold 5 (0) while matching the gold "\\{5\\}"."""
    assert check_math(f"\\boxed{{{pred}}}", gold).correct is correct


@pytest.mark.parametrize("completion, gold, correct", [
    ("\\boxed{5}, maybe 6.", "5", False),
    ("\\boxed{5}. Alternatively, 6.", "5", False),
    ("$\\boxed{5}$. Possibly $6$.", "5", False),
    ("\\boxed{5} (perhaps 6)", "5", False),
    ("The answer is 5. Maybe 6.", "5", False),
    ("\\boxed{5}. Or maybe 6.", "5, 6", True),  # the hedge is the list it names, as "\\boxed{5} or 6" is
    # the same value in another form is one answer, not a hedge
    ("\\boxed{\\frac{1}{2}}. Or equivalently $0.5$.", "\\frac{1}{2}", True),
    ("\\boxed{\\frac{1}{2}}, or equivalently $0.5$.", "0.5", True),
])
def test_maybe_or_alternatively_another_value_after_the_answer_is_a_hedge(completion, gold, correct):
    """Only "or" offered another value: "\\boxed{5}, maybe 6." scored for the gold 5, and "\\boxed{1/2}, or
    equivalently 0.5" (one value written twice) was a hedge that scored for nothing."""
    assert check_math(completion, gold).correct is correct, completion


@pytest.mark.parametrize("completion, correct", [
    ("\\boxed{5}. Perhaps I should double-check: 2 + 3 = 5.", True),
    ("\\boxed{5}. Maybe the check: 2 + 3 = 5, yes.", True),
    ("The answer is \\boxed{5}. Possibly the problem meant 3 apples each, but 5 it is.", True),
    ("The answer is 5. Alternatively, verify with 2 + 3 = 5.", True),
    ("\\boxed{5}. Maybe it's 6.", False),
    ("\\boxed{5}. Perhaps \\frac{12}{2}.", False),
    ("\\boxed{5}, possibly -5.", False),
])
def test_maybe_opening_a_comment_on_the_answer_is_no_hedge(completion, correct):
    """"Maybe" made any digit in its sentence a second answer: "\\boxed{5}. Perhaps I should double-check:
    2 + 3 = 5." was wrong for the gold 5. Those words offer another answer only when a value follows them."""
    assert check_math(completion, "5").correct is correct, completion


@pytest.mark.parametrize("completion, gold, correct", [
    ("\\boxed{5}. Alternatively, if the two ends of the range are not counted, we would get \\boxed{4}.", "4", False),
    ("$\\boxed{5}$.\n\nMaybe, if the endpoints are excluded from the count of all admissible values, $\\boxed{4}$", "4", False),
    ("\\boxed{5}. Alternatively, if the two ends of the range are not counted, we would get \\boxed{4}.", "5", False),
    # a correction is no hedge: the last box answers
    ("\\boxed{5}. Or rather, after fixing the sign error made in the second step, \\boxed{4}.", "4", True),
    ("\\boxed{5}. That used the wrong formula.\n\nRecounting all the cases carefully once more, we get \\boxed{4}.", "4", True),
    ("\\boxed{5}. Alternatively, counting the complement gives the same answer, \\boxed{5}.", "5", True),
])
def test_a_box_offered_as_an_alternative_to_the_box_before_is_a_hedge(completion, gold, correct):
    """Boxes far apart were read as the last alone: "\\boxed{5}. Alternatively, ... \\boxed{4}." scored for the
    gold 4 although it offers two answers, while the same hedge with the boxes close together did not."""
    assert check_math(completion, gold).correct is correct, completion


def test_the_first_numeric_check_of_a_process_does_not_spend_its_bound_importing_mpmath(monkeypatch):
    """The numeric comparison imports mpmath on first use, inside the call's bound: with many scoring processes
    importing it at once on few cores (ponder verify math --workers 16 on 2 cores) it took seconds, and the
    first numeric row of every process, a right answer, scored "timeout". Modelled by an import that takes
    100 s of the clock."""
    import ponder.verify.math as m

    clock = [0.0]
    real = time.monotonic

    class SlowImport:
        def find_spec(self, name, path=None, target=None):
            if name == "mpmath":
                clock[0] += 100.0
            return None  # (the usual finders import it)

    monkeypatch.delitem(sys.modules, "mpmath", raising=False)  # as in a fresh process
    monkeypatch.setattr(m._TLS, "mp", None, raising=False)  # (no context made before)
    monkeypatch.setattr(sys, "meta_path", [SlowImport(), *sys.meta_path])
    monkeypatch.setattr(time, "monotonic", lambda: real() + clock[0])
    v = check_math("\\boxed{\\sin^2 x + \\cos^2 x}", "1")
    assert clock[0] == 100.0 and (v.correct, v.reason) == (True, "ok")


@pytest.mark.parametrize("completion", [
    "The answer is $$.", "The answer is ##", "The answer is ``.", "The answer is --", "The answer is ...",
    "Answer: \\quad", "Answer: $\\,$", "\\boxed{\\text{ }}", "\\boxed{\\quad}", "\\boxed{$$}", "\\boxed{?}",
    "\\boxed{\\hspace{1cm}}", "$$", "##", "The answer is \u200b.",
])
def test_marks_that_name_no_value_are_no_answer(completion):
    # "The answer is $$." gave the answer "$$": junk counted as an answer (and agreed with other junk in a vote)
    assert extract_answer(completion) is None
    v = check_math(completion, "3")
    assert (v.correct, v.extracted, v.reason) == (False, None, "no answer")


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{\\{\\}}", "\\emptyset"), ("\\boxed{\\varnothing}", "\\emptyset"), ("The answer is $-3$.", "-3"),
    ("\\boxed{\\infty}", "\\infty"), ("\\boxed{\\text{(C)}}", "C"), ("\\boxed{\\,5\\,}", "5"),
])
def test_an_answer_made_mostly_of_marks_is_still_an_answer(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{4} **or** 3", "\\boxed{4} *or* 3", "\\boxed{4} _or_ 3", "\\boxed{4} `or` 3", "\\boxed{4}. **Or** 3.",
    "\\boxed{4} \\textbf{or} 3", "\\boxed{4} \\emph{or} 3", "\\boxed{4}\n\n> Or 3", "\\boxed{4}\n\n* Or 3",
    "The answer is 4. *Or* 3.", "\\boxed{4}. _Alternatively_, 3.", "\\boxed{4}\n\n*Or* \\boxed{3}",
])
def test_an_emphasized_or_after_the_answer_is_a_hedge(completion):
    # Markdown or \textbf around the "or" hid the hedge: "\boxed{4} **or** 3" scored for the gold 4
    assert not check_math(completion, "4").correct
    assert not check_math(completion, "3").correct
    assert check_math(completion.replace("*", "").replace("_", "").replace("`", ""), "4").correct is False


@pytest.mark.parametrize("gap", [" " * 12, "\n" * 30, " " * 5000, "\\quad\\quad\\quad", "\\hspace{5cm}", "\n\n---\n\n",
                                 "." * 20, "$\n\n\n\n\n\n\n\n\n\n$"])
def test_boxes_parted_by_only_spacing_or_marks_are_one_answer(gap):
    # a long blank gap parted two boxes: "\boxed{3}" + 12 spaces + "\boxed{4}" scored for the gold 4, while with
    # 8 spaces it is the hedge "3, 4"
    completion = f"\\boxed{{3}}{gap}\\boxed{{4}}"
    assert not check_math(completion, "4").correct
    assert check_math(completion, "3, 4").correct
    assert check_math(completion.replace(gap, "\n\nSo the final answer is "), "4").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{4} or\n3", "\\boxed{4}\n\nor\n\n3", "\\boxed{4}. Or\n\n$3$.", "The answer is 4 or\n3.", "\\boxed{4}?? or 3",
    "\\boxed{4} and/or 3",
])
def test_or_with_its_value_on_the_next_line_is_a_hedge(completion):
    # the sentence after "or" ended at the line break, so "\boxed{4} or\n3" offered no other value and scored 4
    assert not check_math(completion, "4").correct
    assert not check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "The answer is 4 or $3$.", "Answer: 4, $3$", "The answer is 4 and $3$.", "Answer: $3$ or 4",
    "The answer is $x = 3$, or 4.", "The answer is 4 (or $3$).", "The answer is 4 $\\text{or}$ $3$.",
])
def test_a_number_outside_the_math_after_an_answer_phrase_is_part_of_the_answer(completion):
    # only the $...$ spans were read: "The answer is 4 or $3$." was the answer 3 and scored for the gold 3
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "4").correct


def test_a_coefficient_outside_the_math_after_an_answer_phrase_is_kept():
    assert check_math("The answer is 2 $\\sqrt{3}$.", "2\\sqrt{3}").correct
    assert not check_math("The answer is 2 $\\sqrt{3}$.", "\\sqrt{3}").correct
    assert check_math("The answer is $5$ cm^2.", "5").correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{A} or B", "A"), ("\\boxed{A}. Or (B).", "A"), ("\\boxed{(C)} or \\textbf{(D)}", "C"),
    ("\\boxed{E}, or A.", "E"), ("\\boxed{4} or \\pi", "4"), ("\\boxed{2} or \\sqrt{5}", "2"),
])
def test_or_another_option_or_constant_without_a_digit_is_a_hedge(completion, gold):
    # a hedge needed a digit after the "or": "\boxed{A} or B" scored for the gold A
    assert not check_math(completion, gold).correct


def test_or_the_same_answer_in_words_or_another_form_is_no_hedge():
    assert check_math("\\boxed{3} or, in words, three", "3").correct
    assert check_math("\\boxed{\\pi} or \\pi", "\\pi").correct
    assert check_math("\\boxed{C}. Or I could check it again.", "C").correct


@pytest.mark.parametrize("completion", ["It is $4$ or\n$3$.", "Thus 4 (or 3)", "It is 4.\n\nOr\n3", "We get 4 (or 3)."])
def test_a_trailing_value_offered_on_the_next_line_or_in_parentheses_is_a_hedge(completion):
    # "Thus 4 (or 3)" read 3 alone (4 was taken for a factor of "(or 3)"), "It is $4$ or\n$3$." read 3 alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "4").correct
    assert check_math(completion, "3, 4").correct


@pytest.mark.parametrize("completion", ["\\boxed{4 or}", "\\boxed{4 \\text{ or}} 3", "\\boxed{4 \\text{or}}\n3",
                                        "\\boxed{4\\text{, or}}", "\\boxed{\\text{or } 4}"])
def test_an_or_at_either_end_of_an_answer_is_an_unfinished_hedge(completion):
    # the dangling "or" was dropped: "\boxed{4 \text{ or}} 3" (a box around half of the hedge "4 or 3") was 4
    assert not check_math(completion, "4").correct
    assert not answers_equal("4 or", "4")
    assert answers_equal("4,", "4") and check_math("\\boxed{4 \\text{ or } 4}", "4").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{4} \\lor 3", "\\boxed{4} \\vee 3", "\\boxed{4} \u2228 3", "\\boxed{4} \\textsf{or} 3",
    "\\boxed{4} \\operatorname{or} 3", "$$\\boxed{4}$$ $$\\text{or}$$ $$3$$", "\\boxed{4} \\\\ \\text{or } 3",
])
def test_a_logical_or_or_a_math_or_after_the_answer_is_a_hedge(completion):
    # "\boxed{4} \lor 3" and "\boxed{4} \textsf{or} 3" offered another value that went unseen: they scored 4
    assert not check_math(completion, "4").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{4}" + " " * 250 + "or 3", "\\boxed{4}" + "." * 250 + " or 3", "\\boxed{4}.... or 3",
    "\\boxed{4}. Or" + " " * 250 + "3", "\\boxed{4}. Or" + "\n" * 250 + "3", "The answer is 4." + " " * 250 + "Or 3.",
    "\\boxed{3}. Or" + " " * 300 + "\\boxed{4}", "\\boxed{3}. Alternatively," + "\n" * 300 + "\\boxed{4}",
])
def test_padding_does_not_part_an_answer_from_the_or_after_it(completion):
    # the hedge was looked for in the 200 characters after the answer: 250 spaces hid "or 3"
    assert not check_math(completion, "4").correct
    assert not check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{4} \u043er 3", "\\boxed{4} o\u200br 3", "\\boxed{4} \uff4f\uff52 3", "\\boxed{4}. \u039fr 3.",
    "It is 4 \u043er 3", "The answer is 4. \u041er 3.", "\\boxed{3}. \u041er \\boxed{4}", "The answer is 4 o\u200br 3.",
])
def test_an_or_in_look_alike_or_invisible_characters_is_a_hedge(completion):
    # a Cyrillic "о", a Greek "Ο", fullwidth letters or a zero-width space in the "or" hid the hedge: scored 4
    assert not check_math(completion, "4").correct
    assert not check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{4}; alternately 3", "The answer is 4; alternately, 3.", "\\boxed{4} oder 3", "\\boxed{4} ou 3",
    "\\boxed{4} \u0438\u043b\u0438 3", "\\boxed{4} \u6216 3", "\\boxed{4}. \u6216\u8005 3.", "\\boxed{4} \u307e\u305f\u306f 3",
    "\\boxed{4} oppure 3", "\\boxed{4} \u22c1 3",
])
def test_an_or_in_another_word_or_language_after_the_answer_is_a_hedge(completion):
    # "alternately" (as "alternatively") and "or" in another language offered 3 unread: scored for the gold 4
    assert not check_math(completion, "4").correct
    assert not check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "A resposta \u00e9 \\boxed{6}, ou seja, 6 ma\u00e7\u00e3s.", "\\boxed{6} ou seja 6", "The answer is 6. Ou seja, 6.",
    "\\boxed{6} (ou seja, 6)", "\\boxed{6}\uff0c\u6216\u8005\u8bf4 6", "\\boxed{6}\u6216\u8005\u8bf4\u7b54\u6848\u662f6",
])
def test_a_restating_ou_seja_or_huozheshuo_after_the_answer_is_no_hedge(completion):
    # "ou seja" (Portuguese "that is") and "或者说" ("in other words") were read as "or" since 796cce6: "6 or seja,
    # 6 maçãs" scored 0 for the gold 6
    assert check_math(completion, "6").correct


def test_ou_seja_restating_another_value_offers_it_as_that_is_does():
    # (read as no "or" at all, "ou seja, 7" would let 6 score alone: it restates as "that is" does)
    assert not check_math("\\boxed{6} (ou seja, 7)", "6").correct
    assert not check_math("\\boxed{6}, that is, 7", "6").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{4} <b>or</b> 3", "\\boxed{4}<span> or 3</span>", "\\boxed{4} <em>or</em> \\boxed{3}", "\\boxed{4}<br>or 3",
    "\\boxed{4} &mdash; or 3", "The answer is 4 <strong>or</strong> 3.", "\\boxed{4}<sup>or 3</sup>",
])
def test_an_or_in_html_tags_after_the_answer_is_a_hedge(completion):
    # inline HTML, which does not show, hid the "or" as Markdown emphasis no longer does: scored for the gold 4
    assert not check_math(completion, "4").correct
    assert not check_math(completion, "3").correct


def test_comparisons_that_look_like_html_tags_are_no_tags():
    """"a<b and c>d" was blanked as a <b ...> tag (any text was taken for its attributes), so the values read around
    it changed; a tag's attributes are name=value pairs only."""
    from ponder.verify.math import _fold

    assert _fold("x<p and y>q") == "x<p and y>q" and _fold("a<b and c>d") == "a<b and c>d"
    assert extract_answer("So x = 3, y = 6 for a<b and c>d") == "3, 6"
    assert not check_math('\\boxed{4} <span class="c" style=\'x\'>or</span> 3', "4").correct


@pytest.mark.parametrize("completion", [
    "The answer is <b>6</b>.", "Answer: <b>6</b>", "Answer: 6<br>", "<p>The answer is 6.</p>", "Final answer: 6 &mdash; done",
    "\\boxed{<strong>6</strong>}", "Answer: <code>6</code>", "<div>Answer: <i>6</i></div><p>Check: 6 + 1 = 7</p>",
    "The answer is <b>6</b>&nbsp;apples.", "Answer: 6&#8203;",
])
def test_an_answer_in_inline_html_reads_as_it_shows(completion):
    # the extraction kept the tags and entities ("<b>6</b>", "6.</p>", "6 &mdash"): the right answer scored 0
    assert check_math(completion, "6").correct
    assert not check_math(completion, "7").correct


@pytest.mark.parametrize("completion", [
    "The answer is <b>6</b> or 7", "Answer: <b>6</b><i>or</i> 7", "<p>The answer is 6</p><p>or 7</p>",
    "Final answer: 6 &mdash; or 7", "The answer is <del>7</del>6", "The answer is <s>6</s> 7.",
])
def test_an_answer_in_inline_html_keeps_its_hedge(completion):
    # (struck-through text is kept, as a hedge, not dropped: "<s>" is also Llama 2's and Mistral's start of sequence,
    # so dropping what it opens would drop whole answers, and a struck value beside another is two values written)
    assert not check_math(completion, "6").correct
    assert not check_math(completion, "7").correct


def test_an_escaped_think_tag_is_no_end_of_thinking():
    # decoded with the other entities, "&lt;/think&gt;" parted the hedge: 6 read alone after it
    for esc in ("&lt;/think&gt;", "&LT;/THINK&GT;"):
        completion = f"\\boxed{{5}}. Alternatively, {esc} \\boxed{{6}}"
        assert not check_math(completion, "6").correct and not check_math(completion, "5").correct
    assert check_math("&lt;think&gt; \\boxed{6}", "6").correct  # (no open thinking either)


@pytest.mark.parametrize("entity", ["&#x200b;", "&#8204;", "&shy;", "&#xFEFF;"])
def test_an_invisible_entity_hides_no_hedge(entity):
    # decoded to the invisible character after those were dropped: "o&#x200b;r" was no "or", and 6 scored alone
    completion = f"\\boxed{{6}} o{entity}r 7"
    assert not check_math(completion, "6").correct and not check_math(completion, "7").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{6} \u2212 or 7", "\\boxed{6} &minus; or 7", "\\boxed{6} \u2012 or 7", "\\boxed{6} \u2015 or 7",
])
def test_any_dash_before_or_keeps_the_hedge(completion):
    # only "-", "\u2013" and "\u2014" were read before "or": "\boxed{6} \u2212 or 7" scored for the gold 6
    assert not check_math(completion, "6").correct and not check_math(completion, "7").correct


@pytest.mark.parametrize("completion", [
    "The answer is &ndash;3", "\\boxed{&ndash;3}", "Answer: &mdash;3.", "The answer is 10<sup>&ndash;3</sup>",
])
def test_an_html_dash_entity_before_a_number_is_its_sign(completion):
    # 3228494 blanked "&ndash;"/"&mdash;" everywhere, so "&ndash;3" (which shows as "\u20133", read -3) read 3: the
    # wrong sign scored for the gold 3
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "1000").correct
    assert not check_math(completion, "7").correct


def test_an_html_dash_entity_before_a_number_reads_as_the_dash_it_shows():
    assert check_math("The answer is &ndash;3", "-3").correct
    assert check_math("\\boxed{&ndash;3}", "-3").correct
    assert check_math("The answer is 10<sup>&ndash;3</sup>", "0.001").correct
    assert check_math("Final answer: 6 &mdash; done", "6").correct  # a clause dash stays a blank


@pytest.mark.parametrize("completion, gold, right", [
    ("The answer is &minus;3", "-3", True), ("The answer is &#8722;3", "-3", True), ("\\boxed{&#x2212;3}", "-3", True),
    ("The answer is &minus;3", "3", False), ("The answer is x &lt; 5", "x<5", True), ("Answer: x &le; 5", "x \\le 5", True),
    ("Answer: x &ge; 5", "x<5", False), ("The answer is 3 &times; 4", "12", True), ("The answer is 6 &amp; 7", "6", False),
    ("So x = 3, y = 6 for a&lt;b and c&gt;d", "3, 6", True),
])
def test_an_html_entity_reads_as_the_character_it_shows(completion, gold, right):
    # only the blank and dash entities were decoded: "&minus;3" read as itself, and the right -3 scored 0
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("completion", [
    "Final answer: 6 \u2014 done", "Final answer: 6 \u2013 done", "Final answer: 6 -- done", "Answer: 6 --- done",
    "The answer is 6 \u2014 done.", "Final answer: 6 \u2014 that is all.", "Answer: 6\u2014done", "Answer: 6 \u2014 i.e. six",
    "\\boxed{5}. Final answer: 6 \u2014 done", "The answer is $6$ \u2014 done.",
    # (words too few to be prose, an apostrophe's "s" no word: read "6 that's it", the right 6 scored 0)
    "The answer is 6 \u2014 that's it.", "Final answer: 6 \u2014 that\u2019s all.", "The answer is 6 - that's it.",
    # ("I'm", "I'd": a one-letter "I" opened no words, read "6 \u2014 I'm sure" and the right 6 scored 0)
    "The answer is 6 \u2014 I'm sure.", "Final answer: 6 - I'm sure.", "**Answer:** 6 \u2014 I\u2019d say.",
    "The answer is 6 -- I've checked.",
])
def test_a_dash_then_words_after_an_answer_phrase_ends_the_answer(completion):
    # as "6 &mdash; done" (its entity blanked) reads: read "6 \u2014 done" (the dash a minus), the right 6 scored 0
    assert check_math(completion, "6").correct
    assert not check_math(completion, "7").correct


@pytest.mark.parametrize("completion, gold, right", [
    ("Final answer: 6 - done", "6", True), ("Final answer: 6 - done", "7", False), ("Answer: 6 - so we are done", "6", True),
    ("The answer is 6 - Done.", "6", True), ("Final answer: 6 - 2", "6", False), ("Final answer: 6 - 2", "4", True),
    ("Answer: 10 - n", "10", False), ("Answer: x - ab", "x - ab", True), ("Answer: 2 - sin x", "2 - sin(x)", True),
    ("Answer: 3 - pi", "3 - \\pi", True), ("Answer: 6 - or 7", "6", False), ("Answer: 6 - or 7", "7", False),
    ("Answer: 6 - i", "6 - i", True), ("Answer: A - I", "A - I", True), ("Answer: 6 - I'm not sure, maybe 7", "6", False),
])
def test_a_spaced_hyphen_then_prose_words_ends_the_answer_as_a_dash_does(completion, gold, right):
    # "6 \u2014 done" read 6 but "6 - done" read "6 - done" (a minus before a word): the right 6 scored 0
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("completion, gold, right", [
    ("Answer: 10 - 4", "6", True), ("Answer: -6", "-6", True), ("Answer: -6", "6", False),
    ("Answer: 2024-05-01", "2024-05-01", True), ("Answer: x - y", "x - y", True), ("Answer: 5 \u2013 x", "5 - x", True),
    ("Answer: 2 \u2014 sin x", "2 - sin(x)", True), ("\\boxed{6} \u2014 done", "6", True),
    ("Answer: 5\u20137", "5", False), ("Answer: 5 \u2013 7", "5", False), ("Answer: 5 \u2013 7", "7", False),
    ("Answer: 6 \u2014 or 7", "6", False), ("Answer: 6 \u2014 or 7", "7", False), ("Answer: 6 \u2014 7", "6", False),
    ("Answer: 6 -- or 7", "6", False), ("\\boxed{6} \u2014 or 7", "6", False),
    ("The answer is 6 \u2014 that's it. Or 7.", "6", False), ("The answer is 6 \u2014 though 7 also works.", "6", False),
])
def test_a_dash_that_is_no_end_of_the_answer_keeps_its_reading(completion, gold, right):
    # a minus, a negative, a date, a range or a hedge: the dash is part of what the answer says
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("completion, gold, right", [
    # a hedge, a revision or a scale in words after the dash (no digit in it): read "6" since 6d86884, the lead 6
    # scored for a "6 or eight" hedge and a "6, no: seven" revision, and the right 7 / 6000 / 0.06 scored 0
    ("The answer is 6 \u2014 or maybe eight.", "6", False), ("The answer is 6 \u2014 or \\pi.", "6", False),
    ("The answer is 6 \u2014 or $\\pi$.", "6", False), ("The answer is x \u2014 or y.", "x", False),
    ("The answer is 6 - or maybe eight.", "6", False), ("The answer is 6 -- or seven.", "6", False),
    ("The answer is 6 \u2014 no, seven.", "6", False), ("The answer is 6 \u2014 wait, seven.", "6", False),
    ("The answer is 6 \u2014 correction: seven.", "6", False), ("The answer is 6 \u2014 or infinity.", "6", False),
    ("The answer is 6 \u2014 or is it seven?", "6", False), ("The answer is 6 \u2014 squared.", "6", False),
    ("The answer is 6 \u2014 wait, it is seven.", "7", True), ("The answer is 6 \u2014 thousand.", "6000", True),
    ("The answer is 6 \u2014 million.", "6000000", True), ("The answer is 6 \u2014 percent.", "0.06", True),
    # a plain comment still ends the answer
    ("The answer is 6 \u2014 that's it.", "6", True), ("The answer is 6 - that's it.", "6", True),
    ("Final answer: 6 \u2014 that\u2019s all.", "6", True), ("The answer is 6 \u2014 that is all, done.", "6", True),
])
def test_a_dash_comment_with_a_value_in_words_is_no_plain_comment(completion, gold, right):
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("completion, gold, right", [
    # a repeating decimal after "=" was read as the number before its point ("0"): since a70bf47 "The answer is 1/3 =
    # 0.\\overline{3}." offered "1/3 or 0" and the right 1/3 scored 0 (as "\\boxed{1/3} = 0.\\overline{3}" and
    # "So we get 1/3 = 0.\\overline{3}." did before)
    ("The answer is 1/3 = 0.\\overline{3}.", "1/3", True), ("The answer is 1 = 0.\\overline{9}.", "1", True),
    ("The answer is 1/7 = 0.\\overline{142857}.", "1/7", True), ("\\boxed{1/3} = 0.\\overline{3}", "1/3", True),
    ("\\boxed{-1/3} = -0.\\overline{3}", "-1/3", True), ("So we get 1/3 = 0.\\overline{3}.", "1/3", True),
    ("So we get 1 = 0.\\overline{9}.", "1", True), ("\\boxed{1/6} = 0.1\\overline{6}", "1/6", True),
    # another value still offers two
    ("\\boxed{1/6} = 0.1\\overline{7}", "1/6", False), ("\\boxed{5} = 6.\\overline{3}", "5", False),
    ("The answer is 5 = 6.\\overline{3}.", "5", False),
])
def test_a_repeating_decimal_equated_to_the_answer_restates_it(completion, gold, right):
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("completion, gold, right", [
    ("The answer is 6 - that's 2 times 3.", "6", True), ("The answer is 6 \u2014 that\u2019s 2 \\cdot 3.", "6", True),
    ("The answer is 6, that's 2 times 3.", "6", True), ("Final answer: 6 - that's 2 times 3", "6", True),
    ("The answer is 6 \u2014 that's 7.", "6", False), ("The answer is 6 \u2014 that\u2019s 7.", "6", False),
    ("The answer is 6, that\u2019s 7.", "7", False), ("The answer is 6 - that's 2 times 3.", "3", False),
])
def test_that_s_after_an_answer_phrase_value_says_more_of_it_as_that_is_does(completion, gold, right):
    # "6, that is 2 times 3" read 6 but "6 - that's 2 times 3" read "6 that's 2 times 3" (the contraction no reason
    # word, too few words for prose): the right 6 scored 0; "that's 7" restates 6 as another value, a hedge
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("completion, gold, right", [
    ("The answer is 6, that's wrong, actually 7.", "7", True), ("The answer is 6 \u2014 that's wrong, it's 7.", "7", True),
    ("The answer is 6, that's wrong \u2014 it's 7.", "7", True), ("The answer is 6, that\u2019s incorrect, so 7.", "7", True),
    ("The answer is 6, that is wrong, it is 7.", "7", True), ("The answer is 6, which is wrong, it is 7.", "7", True),
    ("The answer is 6, that's wrong, actually 7.", "6", False), ("The answer is 6, that's not right; 7.", "6", False),
    ("The answer is 6, that's wrong.", "6", False), ("The answer is 6 (that's wrong, 7).", "6", False),
    # a reason clause still says more of the value
    ("The answer is 6, that's 2 times 3.", "6", True), ("The answer is 6, which is even.", "6", True),
])
def test_a_clause_that_takes_the_value_back_is_no_reason_for_it(completion, gold, right):
    # since "that's" read as "that is" (a reason word), "The answer is 6, that's wrong, actually 7." read 6, the
    # retracted value: the right 7 scored 0 and the wrong 6 scored ("that is wrong, it is 7" did so before)
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("text, extracted", [
    ("The answer is 6, which is a mistake.", None), ("Answer: 6, which is a mistake.", None),
    ("The answer is 6 (which is a mistake).", None), ("The answer is 6, that's wrong.", None),
    ("The answer is 6, which is a mistake? No.", "6"), ("The answer is 6, which is wrong, it is 7.", "7"),
    ("The answer is 6, which is correct.", "6"), ("The answer is x, which is 6.", "x"),
])
def test_an_answer_phrase_whose_value_is_taken_back_reads_no_retraction_words(text, extracted):
    # read after the last " is ", "The answer is 6, which is a mistake." gave the answer "a mistake"
    assert extract_answer(text) == extracted


@pytest.mark.parametrize("text, extracted", [
    ("The answer is 6. That's wrong, it is 7.", "7"), ("The answer is 6. That's wrong.", None),
    ("The answer is 6. Wrong, it is 7.", "7"), ("Answer: 6. That is wrong.", None), ("The answer is 6. No, it is 7.", "7"),
    ("The answer is 6. That is correct.", "6"), ("The answer is 6. No other value works.", "6"),
])
def test_an_answer_phrase_the_next_sentence_calls_wrong_does_not_pay(text, extracted):
    # "The answer is 6. That's wrong." read 6 and scored for the gold 6, while "\boxed{6}. That's wrong." reads none
    assert extract_answer(text) == extracted


@pytest.mark.parametrize("text, extracted", [
    ("So we get 6, which is a mistake? Yes.", None), ("The answer is 6, which is a mistake? Yes.", None),
    ("\\boxed{6}, which is a mistake? Yes.", None), ("\\boxed{6}, which is a mistake? Yes, it is 7.", "7"),
    ("So we get 6, which is a mistake? No.", "6"), ("\\boxed{6}, which is a mistake? No.", "6"),
])
def test_a_retraction_asked_and_answered_yes_takes_the_value_back(text, extracted):
    # "6, which is a mistake? Yes." read 6 (the "?" hid the retraction) and scored for the gold 6
    assert extract_answer(text) == extracted


def test_a_one_token_html_superscript_or_subscript_is_a_power_or_index():
    # blanked, "2<sup>10</sup>" would read "2 10"
    assert check_math("The answer is 2<sup>10</sup>.", "1024").correct
    assert not check_math("The answer is 2<sup>10</sup>.", "210").correct
    assert not check_math("The answer is 2<sup>10</sup>.", "20").correct
    assert check_math("Answer: x<sub>1</sub>", "x_1").correct
    assert not check_math("\\boxed{4}<sup>or</sup> 3", "4").correct


@pytest.mark.parametrize("gap", [
    "\\color{white}{xxxxxxxxxxxx}", "\\textcolor{white}{no}", "\\text{ } ", "\\text{\\quad\\quad\\quad}", "\\enspace" * 3,
    "\\hskip 3em", "\\kern3em", "\\linebreak", "\\bigskip\n\n", "\n```\n\n```latex\n",
])
def test_boxes_parted_by_white_text_skips_or_a_code_fence_are_one_answer(gap):
    # such a gap renders as blank (or hides its letters), yet its letters made "\boxed{4}" the answer alone
    completion = f"\\boxed{{3}}{gap}\\boxed{{4}}"
    assert not check_math(completion, "4").correct
    assert not check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "The answer is \\underline{\\hspace{2cm}}.", "Answer: $\\underline{\\qquad}$", "The answer is \\rule{1cm}{0.4pt}.",
    "Answer: \\square", "Answer: \\blacksquare", "\\boxed{\\ldots}", "\\boxed{\\cdots}", "\\boxed{\\displaystyle }",
    "\\boxed{\\left.\\right.}", "\\boxed{\\null}", "\\boxed{\\cdot}",
])
def test_a_blank_to_fill_or_a_symbol_alone_is_no_answer(completion):
    # a placeholder ("\underline{\hspace{2cm}}") or a QED box, an ellipsis, a style switch alone was an answer
    v = check_math(completion, "3")
    assert (v.correct, v.extracted, v.reason) == (False, None, "no answer")
    assert check_math("\\boxed{\\displaystyle \\frac{1}{2}}", "1/2").correct
    assert check_math("\\boxed{\\underline{5}}", "5").correct


@pytest.mark.parametrize("completion", [
    "The answer is as follows:\n\n$$5$$", "The answer is the following:\n\n$x = 5$", "The final answer is given below.\n\n5",
    "The answer is shown below:\n\n$5$",
])
def test_an_answer_phrase_pointing_below_reads_the_answer_below(completion):
    # "as follows:" was taken for the answer: a right answer written below it scored wrong
    assert check_math(completion, "5").correct


def test_an_answer_phrase_pointing_at_nothing_is_no_answer():
    v = check_math("The answer is as follows.", "5")
    assert (v.correct, v.extracted, v.reason) == (False, None, "no answer")


@pytest.mark.parametrize("completion", ["3,\n4", "We get $3$;\n$4$", "Result:\n- 3\n- 4", "The roots:\n  - 3\n  - 4"])
def test_trailing_values_listed_over_lines_are_a_list(completion):
    # a comma at the end of a line, or Markdown bullets, parted a list: "3,\n4" was 4 alone
    assert not check_math(completion, "4").correct
    assert check_math(completion, "3, 4").correct


@pytest.mark.parametrize("empty", ["\\boxed{}", "\\boxed{ }", "\\boxed{\\phantom{x}}", "\\fbox{?}", "\\boxed{\\quad}"])
def test_an_empty_box_between_two_boxes_does_not_part_them(empty):
    # the chain of adjacent boxes stopped at an empty one: "\boxed{3}\boxed{ }\boxed{4}" scored for the gold 4
    completion = f"\\boxed{{3}}{empty}\\boxed{{4}}"
    assert not check_math(completion, "4").correct
    assert check_math(completion, "3, 4").correct
    assert check_math(f"\\boxed{{3}}. So the final answer is {empty}\\boxed{{4}}", "4").correct


@pytest.mark.parametrize("gap", ["<!-- x -->", "<!-- draft, no wait -->\n", " % draft, no wait\n", "<!--\n-->"])
def test_a_comment_between_two_boxes_does_not_part_them(gap):
    # an HTML or LaTeX comment does not show, yet its words made the later box the answer alone
    completion = f"\\boxed{{3}}{gap}\\boxed{{4}}"
    assert not check_math(completion, "4").correct
    assert check_math(completion, "3, 4").correct


@pytest.mark.parametrize("pad", [" " * 700, "\n" * 700, "." * 3 + " " * 900])
def test_padding_after_an_answer_phrase_does_not_hide_a_hedge(pad):
    # the hedge after an answer phrase was looked for within 600 characters of the phrase only
    completion = f"The answer is 4{pad} or 3"
    assert not check_math(completion, "4").correct
    assert not check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "We get 4" + " " * 3100 + " or 3", "It is $4$" + "\n" * 3100 + "or $3$.", "We get 4," + " " * 3100 + "3",
    "It is $4$\nor $3$.",
])
def test_padding_does_not_push_a_hedged_value_out_of_the_tail(completion):
    # the fallback reads the last 3,000 characters: padding pushed the "4" of "4 or 3" out, leaving 3 alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "4").correct


@pytest.mark.parametrize("unit", ["\n", " ", " \n", "\t", "."])
@pytest.mark.parametrize("frame, right", [
    (("The answer is 4", " or 3"), False), (("\\boxed{4}", "Wait, 5"), False), (("", "\\boxed{4}"), True),
    (("So 4", ""), True), (("4", "= 5"), False), (("Thus 4 or", " 3"), False), (("4 and", " 5"), False),
])
def test_a_run_of_blanks_around_an_answer_keeps_its_verdict(unit, frame, right):
    # a run of one blank, as a small model emits in RL, backtracked in the caller's process: 2,000 characters of spaces
    # between "4" and "= 5" took 27 s, of newlines after "The answer is 4" 4 s (bench/verify.py's worst_case times 400,000)
    a, b = frame
    assert check_math(a + unit * ((2000 - len(a) - len(b)) // len(unit)) + b, "4").correct is right


@pytest.mark.parametrize("completion", ["4 apples" + " " * 1000 + "or 5", "Thus 4 or" + "\n" * 1000 + " 3", "4 and" + "\n" * 1000 + " 3"])
def test_a_run_of_blanks_after_a_unit_or_an_or_keeps_the_hedge(completion):
    # the gaps after a unit word or "or" read the blanks three times over: "4 apples" + 1,000 spaces + "or 5" scored
    # "timeout" (its 2 s spent), "Thus 4 or" + 500 newlines + " 3" took 35 s
    assert not check_math(completion, "4").correct
    assert not check_math(completion, completion[-1]).correct


def test_a_capital_article_after_or_is_no_option_letter():
    # "Or, A different approach ..." read the article "A" as an option offered with "or": the right 5 scored wrong
    assert check_math("\\boxed{5}. Or, A different approach gives the same result.", "5").correct
    assert not check_math("\\boxed{C}. Or B.", "C").correct


def test_a_percent_sign_after_a_box_opens_no_comment():
    # a "%" right after a value is a percent sign, and the words after it are read (a revision here)
    assert check_math("The rate is \\boxed{30}% here, no wait \\boxed{40}", "40").correct


@pytest.mark.parametrize("answer", ["\\sum_{n=1}^\\infty n", "\\sum_{n=1}^{\\infty} \\frac{1}{n}"])
def test_sympy_failing_on_a_divergent_series_is_a_verdict_not_an_error(answer):
    # SymPy raised "Sum diverges" in the worker: the verdict was "error: symbolic worker"
    v = check_math(f"\\boxed{{{answer}}}", "3", timeout=10)
    assert (v.correct, v.reason) == (False, "wrong")


@pytest.mark.parametrize("completion", [
    "\\boxed{3}, otherwise 5", "\\boxed{3}. Otherwise, $5$.", "\\boxed{3}, else 5",
    "\\boxed{3} (5 also works)", "\\boxed{3}. 5 also works.", "\\boxed{3}, though 5 works too",
    "\\boxed{3}; $5$ is also a solution.", "\\boxed{3}, but 5 is also possible",
    "\\boxed{3}. It could also be 5.", "The answer is 3. The answer might also be 5.",
    "\\boxed{3}, but \\boxed{5} also works", "\\boxed{3}. It could also be \\boxed{5}.",
    "\\boxed{3}. Maybe the answer is 5.", "\\boxed{3}. Otherwise, the answer is 5.",
    "\\boxed{3}. Perhaps, after all, the answer is 5.",
])
def test_two_values_offered_in_other_words_score_for_neither(completion):
    # "otherwise", "also works", "could also be", "maybe the answer is" offered a second value: the answer read
    # as one of them (3, or 5 when a box or an answer phrase came last) and scored for that gold
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}, otherwise 3", "\\boxed{3}. Otherwise we would need more cases.",
    "\\boxed{3}. It could also be written as 3.0.", "\\boxed{3}. This also works for n = 5.",
    "\\boxed{3}. Note that 3 also works as a check.",
])
def test_words_after_an_answer_that_offer_no_other_value_are_no_hedge(completion):
    assert check_math(completion, "3").correct


def test_a_correcting_answer_phrase_after_a_box_still_wins():
    assert check_math("\\boxed{3}. Or rather, the answer is 5.", "5").correct
    assert check_math("\\boxed{3}. Wait, no. The answer is 5.", "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. No wait, it is 6.", "\\boxed{5}\n\nWait, no, it's $6$.", "The answer is 5. No wait, it is 6.",
    "\\boxed{5}. Oops, no, the answer should be 6.", "The answer is 5. Is that wrong? Yes, it is 6.",
    "\\boxed{5}. Is that wrong? Yes, it should be 6.", "The answer is 5. Is that right? No, it is 6.",
    "So we get 5. Is that wrong? Yes, it is 6.",
])
def test_a_value_taken_back_with_no_wait_or_a_question_answered_turns_to_the_new_value(completion):
    # "No wait, it is 6" was a revision (a hedge of 5 and 6) while "No, it is 6" turns to 6; "5. Is that wrong? Yes, it
    # is 6." read 5 (the question not seen as a retraction) while "5, which is wrong? Yes, it is 6." reads 6
    assert check_math(completion, "6").correct and not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. No wait, it is 5.", "The answer is 5. Is that wrong? No.", "The answer is 5. Is that right? Yes.",
    "\\boxed{5}. Is that correct? No doubt about it.", "\\boxed{5}. Wait, no other value works.",
    "\\boxed{5}. No wait, that is right.", "\\boxed{5}. Wait, let me check, it is 5.", "\\boxed{5}. Wait, let me check: 2 + 3 = 5.",
])
def test_a_question_or_no_wait_that_keeps_the_value_takes_nothing_back(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize("completion", ["\\boxed{5}. Is that wrong? Yes.", "\\boxed{5}. Is that right? No."])
def test_a_value_taken_back_by_a_question_answered_is_no_answer(completion):
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. Wait, let me recompute. Actually it's 6.", "\\boxed{5}. Correction: 6.",
    "\\boxed{5}. I made an error; it should be 6.", "\\boxed{5}\n\nWait, actually it's $6$.",
    "So \\boxed{5}. Mistake: it should be 6.", "\\boxed{5}. Actually it is 6!",
    # (a short aside before the value hid the revision: the boxed 5 scored alone)
    "\\boxed{5}\n\nWait, let me see, it's $6$.", "\\boxed{5}. Wait, let me check. It is 6.", "The answer is 5. Wait, let me see, it is 6.",
])
def test_a_revision_in_prose_to_another_value_after_a_box_is_a_hedge(completion):
    # read as 5, the model's own correction was ignored; read as 6, a policy could box one value and revise freely
    assert not check_math(completion, "5").correct
    assert not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. Actually it's 5, as checked.", "\\boxed{5}. Wait, let me check: 2 + 3 = 5.",
    "\\boxed{5}. Actually, 6 is too many, so 5.", "\\boxed{5}. Actually it's not 6.",
    "\\boxed{5}. Actually it's easy to verify: 2 + 3 = 5.", "\\boxed{5}. Wait, actually it's $5.0$.",
])
def test_a_revision_word_after_a_box_that_offers_no_other_value_keeps_the_box(completion):
    assert check_math(completion, "5").correct
    assert not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5} (actually 6)", "\\boxed{5} [wait, it's 6]", "Answer: 5 (actually it's 6)", "Answer: 5 [correction: 6]",
    "The answer is 5 (oops, 6).",
])
def test_a_revision_in_brackets_after_the_answer_is_a_hedge(completion):
    # "\boxed{5} (actually 6)" scored 5 while "\boxed{5}. Actually 6." is a hedge: the revision had to open a sentence
    assert not check_math(completion, "5").correct
    assert not check_math(completion, "6").correct
    assert check_math(completion.replace("6", "5"), "5").correct  # "(actually 5)" revises nothing


def test_a_revision_after_a_box_that_boxes_again_reads_the_new_box():
    assert check_math("\\boxed{5}. Wait, actually it's \\boxed{6}.", "6").correct
    assert not check_math("\\boxed{5}. Wait, actually it's \\boxed{6}.", "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}. Another possible answer is 5.", "\\boxed{3}. The other answer is 5.",
    "\\boxed{3}. Another solution is $5$.", "\\boxed{3}. 5 is another solution.", "\\boxed{3}. 5 would also work.",
    "\\boxed{3}, 5 is also acceptable", "\\boxed{3}. Also 5.", "\\boxed{3}, and also 5", "\\boxed{3}, as well as 5",
    "\\boxed{3} \\text{ otherwise } 5", "\\boxed{3}~\\text{(or possibly 5)}",
    "\\boxed{3}\\quad\\text{otherwise}\\quad\\boxed{5}",
])
def test_another_answer_offered_after_the_answer_scores_for_neither(completion):
    # "another answer is 5" read as a revision (5 alone), "5 is another solution", "also 5" as no other value (3
    # alone), "\text{ otherwise } 5" hid its value behind the group's brace, "~" before "\text{(or" parted the "or"
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}. The other solution is $-2$, which is extraneous.",
    "\\boxed{3}. The other solution is $-2$, but it is not valid.", "\\boxed{3}. Another answer is -2, which fails.",
])
def test_another_value_said_to_fail_is_no_hedge(completion):
    # read as a second answer offered, the rejected root made the right 3 score wrong
    assert check_math(completion, "3").correct
    assert not check_math(completion, "-2").correct


@pytest.mark.parametrize("completion", [
    "The answer is 3. Another answer is 5.", "Final answer: 3\nAlternative answer: 5",
    "Final answer: 3\n\nAnother possibility: 5", "\\boxed{3}\nAlternative: \\boxed{5}",
    "\\boxed{3}\nAnother possibility: \\boxed{5}", "\\boxed{3}\n\nSecond answer: \\boxed{5}",
])
def test_an_answer_labelled_as_another_one_scores_for_neither(completion):
    # the last answer phrase or box was read alone (5), though it names itself another answer beside 3
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


def test_a_phrase_labelled_as_another_answer_looks_back_once():
    # a long run of "Another answer is k." is read in linear time, back to the phrase before the last only
    completion = "The answer is 1. Another answer is 2. " * 5000
    assert extract_answer(completion) == "1 or 2"


@pytest.mark.parametrize("completion", ["So x = 3. Or x = 5.", "So we get $3$. Also $5$ works.", "So x = 3 or x = 5."])
def test_a_second_value_after_or_also_in_prose_scores_for_neither(completion):
    # "Or x = 5" (a name before the value) and "Also $5$" did not join the run of values: 5 was read alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


def test_values_of_two_names_joined_by_and_are_not_a_list():
    assert check_math("We get x = 2 and y = 3.", "3").correct


@pytest.mark.parametrize("completion,first,other", [
    ("\\boxed{x = 3}. Otherwise x = 5.", "3", "5"), ("\\boxed{3}, unless it is 5", "3", "5"),
    ("\\boxed{3}\\text{, or } 5", "3", "5"), ("\\boxed{C}, otherwise D", "C", "D"), ("\\boxed{C}. Maybe D.", "C", "D"),
    ("\\boxed{C}. D also works.", "C", "D"), ("\\boxed{C}. Could also be D.", "C", "D"),
])
def test_another_named_value_or_option_offered_after_the_answer_scores_for_neither(completion, first, other):
    # "x = 5", an option letter, a value after "unless it is", a "," inside "\text{, or }": no other value was
    # seen, and the first answer scored
    assert not check_math(completion, first).correct
    assert not check_math(completion, other).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3} unless n = 0", "\\boxed{3}, unless 2 divides n", "\\boxed{3}. Could also be written as 3.0",
])
def test_a_condition_after_unless_offers_no_other_value(completion):
    assert check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. Unless n is even, then 6.", "\\boxed{5} unless n is even, it is 6.",
    "\\boxed{5} (unless n is even, we get 6)",
    # (a colon after the condition gives the value as a comma does: read as a bare condition, 5 scored alone)
    "\\boxed{5}. Unless n is even: 6.", "\\boxed{5} (unless n is even: 6)",
])
def test_unless_a_condition_then_another_value_is_a_hedge(completion):
    # the value of the case "unless" names was dropped with its condition: 5 scored alone
    assert not check_math(completion, "5").correct
    assert not check_math(completion, "6").correct
    assert check_math(completion, "5, 6").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. Unless n is even, the same argument gives 5.", "\\boxed{5} unless n is even, then 5.",
    "\\boxed{5}. Unless we plug it back in, we get 6.",
])
def test_unless_a_condition_without_another_value_keeps_the_answer(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize("completion", ["\\boxed{5} | 6", "\\boxed{5} & 6", "\\boxed{5}, | $6$", "$\\boxed{5}$ & $6$"])
def test_a_bar_or_ampersand_before_another_value_after_the_box_is_a_hedge(completion):
    # read as 5 alone, as "\boxed{5} / 6" is not: the bar or ampersand parts two values
    assert not check_math(completion, "5").correct
    assert not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "$\\begin{aligned} x &= \\boxed{5} & y &= 2 \\end{aligned}$", "\\boxed{5} & 6 \\\\",
    "| 1 | \\boxed{5} | 6 |", "\\boxed{5} | 6 |", "|\\boxed{-5}| 5",
    "\\begin{array}{cc} \\boxed{5} & 6 \\end{array}", "|x| = \\boxed{5}", "\\boxed{5} || 6",
    "| n | answer |\n|---|---|\n| 1 | \\boxed{5} |",
])
def test_a_column_mark_or_absolute_value_after_the_box_offers_no_other_value(completion):
    assert check_math(completion, "5" if "-5" not in completion else "-5").correct


def test_maybe_before_a_named_value_is_commentary():
    assert check_math("\\boxed{5}. Maybe x = 5 is easier to see.", "5").correct


@pytest.mark.parametrize("completion", [
    "The final answer is \\boxed{3}. Note: the answer is not 5.", "\\boxed{3}. The answer isn't 5.",
    "The answer is 3. Note that the answer is definitely not 5.", "Answer: 3\n\nThe answer is never 5.",
])
def test_an_answer_phrase_denying_another_value_leaves_the_answer(completion):
    # the denial after the answer was read as the answer "not 5": the right 3 scored wrong
    assert check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


def test_an_answer_phrase_denying_a_value_alone_is_no_answer():
    for completion in ("The answer is not 5.", "So the answer isn't 5."):
        assert not check_math(completion, "5").correct
    # "not 5 but 3" corrects: not read as the 5 it denies
    assert not check_math("\\boxed{3}. Actually, the answer is not 3 but 5.", "3").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}, although some might say 5", "\\boxed{3} (some sources give 5)", "\\boxed{3}\n\nP.S. 5",
    "\\boxed{3}; if not, 5", "\\boxed{3}. If not, then 5.", "\\boxed{3} (unless n is even, in which case 5)",
    "\\boxed{3}\\text{, unless it's } 5", "\\boxed{3}, though some say \\boxed{5}", "\\boxed{3}. Others say 5.",
    "\\boxed{3}, unless n is even, in which case the answer is 5.", "\\boxed{3}. Some say the answer is 5.",
    "\\boxed{3}. According to some sources, it is 5.", "The answer is 3, though some might say 5.",
    "The answer is 3 (some sources give 5).", "The answer is 3, though 5 also works.", "The answer is 3. If not, 5.",
])
def test_a_value_offered_as_hearsay_or_for_another_case_scores_for_neither(completion):
    # hearsay ("some might say 5"), a postscript, "if not, 5", "unless ..., in which case 5" offered a second value
    # beside the answer: it read as 3 alone (or as 5, the last value or answer phrase) and scored for that gold
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}. Note that 5 is the number of terms.", "\\boxed{3}. If not, check the arithmetic.",
    "\\boxed{3}. Some might say this is hard.", "\\boxed{3}. Some say 5 is too many.",
    "\\boxed{3}, unless n is even, in which case we need more care.", "\\boxed{3}\n\nP.S. I hope this helps.",
    "\\boxed{3}. If not obvious, note 2+1 = 3.", "\\boxed{3}. Some say 3.",
])
def test_commentary_after_an_answer_with_hearsay_or_condition_words_is_no_hedge(completion):
    assert check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "The answer is 12, because 5 + 7 = 12.", "The answer is 12, which is even.", "The answer is 12 since 5+7=12.",
    "The answer is $12$, since $5+7=12$.", "The final answer is 12, as 5 + 7 = 12.", "The answer is 12 (since 5+7=12).",
    "Answer: 12, because 12 = 5 + 7", "The answer is 12, and it is even.", "The answer is 12 which is 3 times 4",
])
def test_a_reason_after_the_answer_phrase_value_is_no_part_of_it(completion):
    # the whole sentence ("12, because 5 + 7 = 12") or what followed its last " is " ("even") was read as the answer
    assert check_math(completion, "12").correct


@pytest.mark.parametrize("completion", ["The answer is 3, since 5 also works.", "The answer is 3 because some say 5."])
def test_a_reason_that_offers_another_value_still_hedges(completion):
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}. It might be 5.", "\\boxed{3}. Could be 5.", "\\boxed{3}. But it could be 5.",
    "\\boxed{3}. The answer could be 5 as well.", "\\boxed{3}. 5 is possible too.", "\\boxed{3}. 5 is also plausible.",
    "\\boxed{3}, 5 is equally valid", "\\boxed{3}. Either 3 or 5.", "\\boxed{3}. Both 3 and 5 work.",
    "\\boxed{3} (either 3 or 5)", "\\boxed{3}, 5", "\\boxed{3}; 5 otherwise", "\\boxed{3}, and 5 otherwise",
    "\\boxed{3} (5 if n is even)", "\\boxed{3} if n is odd, 5 if n is even", "\\boxed{3} if n is odd; otherwise 5",
    "\\boxed{3}. Second guess: 5", "\\boxed{3}. My second guess: 5.", "\\boxed{3}. Fallback: 5",
    "\\boxed{3}\n\nAlso possible: 5", "\\boxed{3}. Backup answer: 5", "\\boxed{3}. It might be \\boxed{5}.",
])
def test_a_value_said_possible_or_given_for_another_case_scores_for_neither(completion):
    # "it might be 5", "5 is possible too", "either 3 or 5", "5 if n is even", "second guess: 5" offered another value
    # with no "or"/"also": read as 3 alone (or as 5 after "Backup answer:"), it scored for that gold
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3} if we count the ends.", "\\boxed{3}, when n = 2.", "\\boxed{3}. It might be easier to write it as 3.",
    "\\boxed{3}. It could be checked with 5 = 2 + 3.", "\\boxed{3}, 3", "\\boxed{3}. Both methods give 3.",
    "\\boxed{3}. For n = 5, the formula also holds.", "\\boxed{3} (if we count ends), which is odd.",
    "\\boxed{3}. It might be 3.", "For part (a), \\boxed{5}. Check: \\boxed{5} when x = 2.",
])
def test_commentary_with_modal_or_condition_words_after_an_answer_is_no_hedge(completion):
    gold = "5" if "part (a)" in completion else "3"
    assert check_math(completion, gold).correct


def test_conditions_after_an_answer_are_read_once():
    # a hedge after one condition is looked for, not after a run of them: bounded recursion
    assert check_math("\\boxed{3}" + " (if a)" * 20000, "3").correct


@pytest.mark.parametrize("pred", ["\\boxed{\\textdollar 5}", "\\boxed{\\textdollar{}5}", "\\boxed{\\text{\\textdollar}5.00}"])
def test_a_text_mode_dollar_sign_is_dropped_as_the_math_one_is(pred):
    # "\textdollar 5" was unparseable: the right 5 scored wrong
    assert check_math(pred, "5").correct
    assert check_math(pred, "\\$5").correct
    assert not check_math(pred, "6").correct


@pytest.mark.parametrize("completion", [
    "The answer is 3, although I think it could be 5.", "Thus the answer is 3. Could be 5 though.",
    "It is 3. It might be 5.", "So x = 3, though x = 5 also works.", "\\boxed{3}. I think it might be 5.",
])
def test_a_value_said_possible_after_a_prose_answer_scores_for_neither(completion):
    # with no box, "I think it could be 5", "It might be 5." and "x = 5 also works" were read as 5 alone (the last
    # value), or "Could be 5 though." as no other value
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


def test_a_prose_answer_with_the_same_value_said_again_is_that_value():
    for completion in ("It is 3. It might be 3.", "So x = 3, and x = 3 also works.", "The count is 3. Note 4 > 3."):
        assert check_math(completion, "3").correct, completion


@pytest.mark.parametrize("completion", [
    "\\boxed{3}\\,\\text{or}\\,5", "\\boxed{3} \\ \\mathrm{or}\\ 5", "\\boxed{3}\\quad\\text{or}\\quad 5", "\\boxed{3} (alt. 5)",
    "\\boxed{3} (alt: 5)", "\\boxed{3}\n5", "\\boxed{3}\n\n$5$", "\\boxed{3} \n\n **5**",
    "\\boxed{3}. If order matters, the answer would be 5.", "\\boxed{3}. If order matters, it would be 5.",
    "\\boxed{3}\n\n**Note:** if the problem meant ordered pairs, the answer would be 5.",
    "\\boxed{3} (5 would be the answer if we include 0)",
])
def test_another_value_after_latex_spacing_on_the_next_line_or_for_another_reading_scores_for_neither(completion):
    # "\,\text{or}\," (LaTeX spacing before the "or"), "alt. 5", a bare value on the line after the box, and "the
    # answer would be 5" under another reading were no other value: the box's 3 scored alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}\n\nThis is the answer.", "\\boxed{3}\n3", "(A) \\boxed{3}\n(B) \\boxed{3}", "\\boxed{3}. It would be 3 anyway.",
    "\\boxed{3}. If n were larger, the count would grow.", "\\boxed{3}\n\n5 is the number of terms.",
    "The answer is shown below:\n\n$3$",
])
def test_a_line_or_reading_after_the_answer_that_offers_no_other_value_is_no_hedge(completion):
    assert check_math(completion, "3").correct


@pytest.mark.parametrize("pred, gold, correct", [
    ("2 1/2", "\\frac{5}{2}", True), ("\\boxed{2 1/2}", "2.5", True), ("\\boxed{-2 1/2}", "-\\frac52", True),
    ("The answer is 3 1/4.", "\\frac{13}{4}", True), ("\\boxed{2 1/2, 3 1/4}", "\\frac52, \\frac{13}{4}", True),
    ("\\boxed{2 3/2}", "\\frac72", False),  # an improper fraction is no fractional part, as with \frac
    ("\\boxed{2 1/2^2}", "\\frac94", False), ("\\boxed{2 1/2}", "1", False), ("\\boxed{3 4}", "12", False),
])
def test_a_whole_number_and_a_plain_proper_fraction_are_a_mixed_number(pred, gold, correct):
    # "2 1/2" was two juxtaposed numbers, unparseable, while "2\frac{1}{2}" was 5/2
    assert check_math(pred, gold).correct is correct


@pytest.mark.parametrize("completion", [
    "The answer is therefore 12.", "The answer is exactly 12.", "The answer is thus $12$.", "The answer is indeed 12.",
    "The answer is simply 12.", "The answer is 12, i.e., a dozen.", "The answer is 12; this is the count.",
    "The answer is 12 (the number of edges).", "The answer is $12$ (twelve).",
])
def test_an_adverb_before_or_a_remark_after_an_answer_phrase_value_is_no_part_of_it(completion):
    # "therefore 12", "12, i.e., a dozen", "$12$ (twelve)" were read whole, "12; this is the count" as "the count",
    # "12 (the number of edges)" as no answer: the right 12 scored wrong
    assert check_math(completion, "12").correct
    assert not check_math(completion, "13").correct


@pytest.mark.parametrize("completion", [
    "The answer is therefore 3 or 5.", "The answer is 3 (or 5).", "The answer is 3; some say 5.",
    "The answer is 3 (in lowest terms), or maybe 5.", "The answer is definitely not 5.",
])
def test_an_adverb_or_a_remark_does_not_hide_another_value(completion):
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}\n\n\\textbf{5}", "\\boxed{3}\n\\[5\\]", "\\boxed{3}\n\n> 5", "\\boxed{3}\n\n- 5", "\\boxed{3}\n\n# 5",
    "\\boxed{3}\n\n\\(5\\)", "\\boxed{3} \\text{ [alternatively 5]}",
])
def test_another_value_alone_on_the_next_line_in_markup_scores_for_neither(completion):
    # bold, display math, a quote, a bullet or a heading around the value on the line after the box hid it
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("pred, gold, correct", [
    ("\\boxed{f^{-1}(x) = 2x+1}", "2x+1", True), ("\\boxed{g^{-1}(x)=\\frac{x-1}{2}}", "\\frac{x-1}{2}", True),
    ("\\boxed{f^{-1}(x) = 2x+1}", "2x+2", False),
    ("\\boxed{x^{2} = 9}", "9", False), ("\\boxed{f^{2}(x) = 9}", "9", False),  # a power is no name: only the inverse's
])
def test_an_inverse_function_on_the_left_names_the_answer(pred, gold, correct):
    # "f^{-1}(x) = 2x+1" (read f^-1 * x) was no name on the left, so the equation never matched the gold 2x+1 while
    # "f(x) = 2x+1" did
    assert check_math(pred, gold).correct is correct


@pytest.mark.parametrize("completion", [
    "So we get 3, though some say 5.", "So we get 3. Some sources give 5.", "So we get 3. If not, 5.",
    "So we get 3; otherwise 5.", "So we get 3.\n\nP.S. 5", "So we get 3. Second guess: 5.", "Thus $3$. Alternatively $5$.",
    "We conclude 3. Others say 5.",
])
def test_another_value_offered_after_a_prose_answer_without_a_box_scores_for_neither(completion):
    # with no box or answer phrase, the last value (5) was read alone though the words before it offer it beside 3
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", ["So we get 3.\n\n5", "Thus $3$.\n\n$5$", "Therefore x = 3\n5."])
def test_a_value_alone_on_the_line_after_a_concluding_prose_value_scores_for_neither(completion):
    # the line's 5 was read alone, as if the concluding 3 before it were a step (after a box it is a hedge)
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct
    assert check_math("Step one: 3 + 2.\n\n5", "5").correct  # (no conclusion before: 5 is the answer)


@pytest.mark.parametrize("completion", [
    "I first thought 3, but we get 4.", "Since 3 is not prime, we get 4.", "Step one gives 3. Then adding 1 we get 4.",
])
def test_a_prose_answer_after_an_earlier_value_is_still_the_answer(completion):
    assert check_math(completion, "4").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}. Under the other reading, 5.", "\\boxed{3}. (Under another interpretation: 5.)",
    "\\boxed{3}. Under another interpretation, the answer would be 5.", "\\boxed{3} (under the other reading we get 5)",
])
def test_a_value_for_another_reading_of_the_problem_scores_for_neither(completion):
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}. In the other case, 5 is impossible.", "\\boxed{3}. In the other case, 5 is the count of terms.",
    "\\boxed{3}. In other words, 3.", "\\boxed{3}. On the other hand, 5 = 2 + 3.",
])
def test_another_case_named_without_offering_a_value_is_no_hedge(completion):
    assert check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}. Note: the answer is not 3.", "\\boxed{3}. Note: the answer is not $3$.", "The answer is 3. The answer is not 3.",
])
def test_an_answer_phrase_denying_the_answer_before_it_leaves_no_answer(completion):
    # a denial after the answer leaves the answer standing, but not when it denies that very answer
    assert not check_math(completion, "3").correct


@pytest.mark.parametrize("completion", ["The answer is 3, not 5.", "The answer is 3 (not 5).", "The answer is $3$, not $5$."])
def test_an_answer_phrase_value_followed_by_the_value_it_is_not_is_that_value(completion):
    # "3, not 5" was read whole, unparseable: the right 3 scored wrong
    assert check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "The answer isn't 5 but 3", "The answer is not 5; it is 3", "The answer is not 5 but 3.",
    "The answer is not 5, but rather $3$.", "\\boxed{5}. Actually, the answer is not 5 but 3.",
])
def test_an_answer_phrase_denying_a_value_then_turning_to_another_is_that_value(completion):
    # "not 5 but 3" was read whole, unparseable: the right 3 scored wrong
    assert check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "The answer isn't 5 but maybe 3.", "The answer is not only 5 but also 3.", "The answer is not 5 but 3 or 4.",
    "The answer is not 5; it is 3. Or 4.",
])
def test_a_denial_turning_to_a_hedge_scores_for_neither(completion):
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}. If instead we include 0, we get \\boxed{5}.", "\\boxed{3}. If instead we include 0, we get 5.",
    "\\boxed{3}. If instead we include 0, the answer is 5.", "\\boxed{3}. If instead n is even, it would be $5$.",
])
def test_a_value_for_a_changed_problem_scores_for_neither(completion):
    # "if instead we <change the problem>" answers another problem: a second answer offered, not a correction
    # (read as 5 alone, or as 3 alone, it scored for that gold)
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}. Wait, no: the answer is \\boxed{5}", "\\boxed{3}. Or rather \\boxed{5}",
    "\\boxed{3}. Instead, the answer is \\boxed{5}.", "\\boxed{3}. Instead, the answer is 5.",
])
def test_a_correction_with_instead_still_scores_for_the_new_value(completion):
    assert check_math(completion, "5").correct
    assert not check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3} \\text{/} \\boxed{5}", "\\boxed{3}\\text{ / }\\boxed{5}", "\\boxed{3} \\textbf{/} \\boxed{5}",
    "\\boxed{3} \\mathrm{/} \\boxed{5}",
])
def test_boxes_parted_by_a_slash_in_text_score_for_neither(completion):
    # a slash in text is as long as a 10-character gap: the boxes were parted and 5 read alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct
    assert check_math(completion, "3, 5").correct


def test_a_draft_box_before_a_computation_with_a_slash_is_not_joined():
    assert check_math("\\boxed{3}. Computing 10/2 gives \\boxed{5}", "5").correct


@pytest.mark.parametrize("completion", [
    "Thus x = 3 (5 if n is even).", "Thus x = 3(5 if n is even).", "Thus x = 3 (maybe 5).", "So x = 3 (5 also works).",
])
def test_a_value_offered_in_parentheses_after_a_prose_value_scores_for_neither(completion):
    # "3 (" read as the product 3(...), so 3 was no value and the 5 inside scored alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


def test_a_product_with_a_parenthesis_in_prose_is_still_an_operand():
    assert check_math("So we need 3 (5 - 2) = 9.", "9").correct


@pytest.mark.parametrize("completion", ["The answer is 3, when n=1.", "The answer is 3, if n = 1.", "Final answer: $3$, when $n = 1$."])
def test_an_answer_phrase_value_with_its_condition_is_that_value(completion):
    # "3, when n=1" was read whole, unparseable: the right 3 scored wrong
    assert check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "The answer is 3, when n = 1, and 5 when n = 2.", "The answer is 3, when n is odd and 5 when n is even.",
    "The answer is 3, when n=1. When n=2 it is 5.", "The answer is 3, when n=1 (5 when n=2).",
    "The answer is 3, if n is odd; otherwise 5.",
])
def test_an_answer_phrase_value_for_one_case_beside_another_scores_for_neither(completion):
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", ["The correct option is (C).", "So the correct choice is C.", "The correct option is **(C)**.",
                                        "The answer is option C.", "Answer: Option (C)", "The answer is choice C."])
def test_the_correct_option_phrase_names_the_answer(completion):
    # no "answer is" phrase and no fallback value: the right option scored as no answer
    assert check_math(completion, "C").correct
    assert not check_math(completion, "D").correct


@pytest.mark.parametrize("completion", [
    "The correct option is (C) or (D).", "The correct option is (C). Maybe (D).", "The correct option is not (C).",
])
def test_the_correct_option_phrase_with_a_hedge_or_denial_scores_for_neither(completion):
    assert not check_math(completion, "C").correct
    assert not check_math(completion, "D").correct


@pytest.mark.parametrize("completion", [
    "We need 2 1/2 cups of flour in total for the cake recipe.", "So she walks 2 1/2 miles.", "So we get 2 1/2",
])
def test_a_mixed_number_in_prose_is_one_value(completion):
    # the whole number and the fraction were read as the list "2, 1/2": the right 5/2 scored wrong
    assert check_math(completion, "5/2").correct
    assert not check_math(completion, "1/2").correct
    assert not check_math(completion, "2").correct


@pytest.mark.parametrize("completion", ["So we get 2 1/2 or 3.", "It is 3 or 2 1/2.", "So we get 2, 1/2", "So we get 2 3/2"])
def test_values_beside_a_mixed_number_in_prose_stay_a_list(completion):
    assert not check_math(completion, "5/2").correct
    assert not check_math(completion, "7/2").correct


@pytest.mark.parametrize("completion", ["\\text{A, C}", "\\boxed{\\text{A, C}}", "\\boxed{\\text{(A), (C)}}", "\\boxed{\\text{A and C}}"])
def test_options_listed_in_text_are_that_list(completion):
    # the text was one opaque word: the right options "A, C" scored wrong
    assert check_math(completion, "A, C").correct
    for gold in ("A", "C", "A, D", "A, B, C"):
        assert not check_math(completion, gold).correct


def test_options_offered_in_text_with_or_match_no_single_option():
    assert not check_math("\\boxed{\\text{A or C}}", "A").correct
    assert not check_math("\\boxed{\\text{A or C}}", "C").correct


@pytest.mark.parametrize("completion", [
    "So we get 3. If instead we include 0, we get 5.", "So we get 3. If instead we include 0 and 1, we get $5$.",
])
def test_a_prose_value_for_a_changed_problem_scores_for_neither(completion):
    # a value inside the offering clause (0) stood between the answer and the value offered: 5 scored alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


def test_a_later_step_after_a_prose_value_is_the_answer():
    assert check_math("First we get 3. Then adding 2, we get 5.", "5").correct


@pytest.mark.parametrize("completion", [
    "The answer is twelve (12).", "\\boxed{\\text{twelve (12)}}", "\\boxed{twelve (12)}", "twelve (12)",
])
def test_a_number_in_words_with_its_digits_is_that_number(completion):
    # "twelve (12)" after an answer phrase or in a box was read whole, unparseable: the right 12 scored wrong
    assert check_math(completion, "12").correct
    assert not check_math(completion, "13").correct


@pytest.mark.parametrize("completion", [
    "The answer is 10. Or, in other words, the answer is ten.", "The answer is 10, i.e., the answer is ten.",
    "The answer is 10; that is, the answer is ten.", "The answer is ten.", "\\boxed{\\text{ten}}", "\\boxed{10} or ten",
])
def test_a_value_restated_in_words_is_one_answer(completion):
    # read as the hedge "10 or ten" or as "ten" alone (unparseable), the right 10 scored wrong
    assert check_math(completion, "10").correct
    assert not check_math(completion, "11").correct


def test_a_value_and_another_in_words_stay_a_hedge():
    for gold in ("10", "11"):
        assert not check_math("The answer is 10. Or, in other words, the answer is eleven.", gold).correct


@pytest.mark.parametrize("completion", ["The answer is five (12).", "The answer is twelve (12) or 13.", "\\boxed{twelve (12)} or 13"])
def test_a_number_in_words_naming_another_number_or_hedged_is_no_answer(completion):
    for gold in ("5", "12", "13"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3} for n = 1, 2", "\\boxed{3} for n = 1, 2.", "\\boxed{3} for $n = 1, 2$", "\\boxed{3} for n = 1, 2, 3",
])
def test_an_answer_for_a_list_of_cases_is_that_answer(completion):
    # the list's last item after the condition's comma ("for n = 1, 2") was read as a second answer: a hedge "3 or 2"
    assert check_math(completion, "3").correct
    assert not check_math(completion, "2").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3} for n = 1, 2, and 5 otherwise", "\\boxed{3} for n = 1, 2; otherwise 5", "\\boxed{3}, 5",
])
def test_an_answer_for_a_list_of_cases_beside_another_value_scores_for_neither(completion):
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "So we get 3. Under the other reading with 2 colors, we get 5.", "\\boxed{3}. Under the other reading with 2 colors, we get 5.",
    "\\boxed{3}. Under another interpretation of the word adjacent, the answer is $5$.",
    "\\boxed{3}. With a different convention for 0, we'd get \\boxed{5}.",
])
def test_a_value_for_another_reading_named_by_its_words_scores_for_neither(completion):
    # the words naming the reading ("with 2 colors") stood between "the other reading" and the value: 5 scored
    # alone after a prose answer, 3 alone after a box
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "So we get 3. If we include 0, we get 5.", "So we get 3. If we include 0, then we get $5$.",
    "Thus there are 3 ways. If order matters, there are 6.", "\\boxed{3}. If we include 0, we get 5.",
    "So the answer is 3. If we include 0, we get 5.", "\\boxed{3} if n is odd; if n is even, it is 5",
])
def test_a_value_for_another_case_after_a_stated_answer_scores_for_neither(completion):
    # with no "instead", the "if" clause read as the answer's own condition (after a box or phrase) or the value
    # inside it (0) stood between: the last value (5, 6) scored alone after a prose answer, 3 alone after a box
    gold_other = "6" if "6" in completion else "5"
    assert not check_math(completion, "3").correct
    assert not check_math(completion, gold_other).correct


@pytest.mark.parametrize("completion, gold", [
    ("If we add 2 and 3 we get 5.", "5"), ("If we add 2 and 3, we get 5.", "5"), ("We have 2. If we add 3, we get 5.", "5"),
    ("First, 1 + 1 = 2. If we add 2 and 3, we get 5.", "5"), ("If we multiply, we get 12. So the answer is 12.", "12"),
    ("So we get 2. If we double it, we get 4.", "4"), ("So x = 3. If we plug this into y = 2x, we get 6.", "6"),
    ("\\boxed{2}. If we substitute back, we get 0.", "2"), ("So we get 3. If we include 0, we get 3.", "3"),
    ("The answer is 12. If we add 1, we get 13, which is prime.", "12"),
])
def test_an_if_clause_in_the_steps_or_checking_the_answer_is_no_other_case(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "The answer is 3. Maybe the answer is 5.", "The answer is 3. Otherwise, the answer is 5.",
    "The answer is 3. Under the other reading, the answer is 5.", "The answer is 3. If instead we include 0, the answer is 5.",
    "The answer is 3. If we include 0, the answer is 5.", "\\boxed{3}. If we include 0, the answer is 5.",
    "The answer is 3. Or the answer is 5.", "Final answer: 3. Some might say the final answer is 5.",
])
def test_an_answer_phrase_offered_beside_an_earlier_one_scores_for_neither(completion):
    # the last answer phrase was read alone, as a revision: a second answer offered after the first scored for 5
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "The answer is 3. Wait, actually the answer is 5.", "The answer is 3. Hmm, no. The answer is 5.",
    "The answer is 3. Let me recompute. The answer is 5.",
])
def test_an_answer_phrase_revising_an_earlier_one_is_the_new_value(completion):
    assert check_math(completion, "5").correct
    assert not check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}. When n is even, we get 5.", "So we get 3. When n is even, we get 5.", "\\boxed{3}. For even n, it is 5.",
    "So we get 3. In case we include 0, we get 5.", "\\boxed{3}. Had we included 0, we would get 5.",
    "\\boxed{3}. Including 0, we get 5.", "\\boxed{3}. Without the restriction, we get 5.",
    "\\boxed{3}. If we include 0, we get 5 instead.", "\\boxed{3}. If we include 0 we get 5.", "So we get 3. If we include 0 we get 5.",
])
def test_a_value_for_another_case_in_other_words_scores_for_neither(completion):
    # "when", "for", "had we", "including", no comma, a closing "instead": the other case's 5 was no other answer
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion, gold", [
    ("We have 2. When we add 3, we get 5.", "5"), ("\\boxed{12}. For example, with 3 rows we get 4.", "12"),
    ("\\boxed{2}. If we substitute back we get 0.", "2"), ("\\boxed{5}. When x = 5, we get 2x = 10.", "5"),
])
def test_a_step_example_or_check_after_an_answer_is_no_other_case(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3} for odd n and 5 for even n", "\\boxed{3} for odd n, 5 for even n", "\\boxed{3} if n is odd and 5 if n is even",
    "\\boxed{3} when n is odd and 5 when n is even", "\\boxed{3} for n = 1, 2 and 5 for n = 3",
])
def test_a_box_for_one_case_and_a_value_for_another_scores_for_neither(completion):
    # "and" after the box's condition, or "for" as the other case's word, hid the other case: 3 scored alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3} if n is odd and positive", "\\boxed{3} for n = 1 and 2", "\\boxed{3} (1 for each of the 3 colors)",
])
def test_a_box_with_a_condition_or_a_remark_joined_by_and_is_that_answer(completion):
    assert check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "The answer is 3 for n = 1.", "The answer is 3 when n = 1.", "The answer is 3 if n is odd.", "The answer is $3$ for every $n$.",
    "The answer is 3 for n = 1, 2.", "Final answer: 3 for n = 1", "The answer is 3 (for n = 1).",
])
def test_an_answer_phrase_value_with_its_condition_and_no_comma_is_that_value(completion):
    # with no comma before "when"/"if"/"for", the value and its condition were read whole ("3 for n = 1", unparseable,
    # or "odd"): the right 3 scored wrong
    assert check_math(completion, "3").correct
    assert not check_math(completion, "2").correct


@pytest.mark.parametrize("completion", [
    "The answer is 3 for n = 1, 2 and 5 for n = 3.", "The answer is 3 for n = 1, 2, and 5 otherwise.",
    "The answer is 3 (for n = 1) or 5.", "The answer is 3 for n = 1. When n = 2, it is 5.",
])
def test_an_answer_phrase_value_with_its_condition_and_no_comma_beside_another_case_scores_for_neither(completion):
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}\n\nIf n is even: \\boxed{5}", "\\boxed{3}\n\nFor n even: \\boxed{5}", "\\boxed{3}\n\nIf we include 0: \\boxed{5}",
    "\\boxed{3}. If we include 0, \\boxed{5}.",
])
def test_a_box_for_another_case_after_a_box_scores_for_neither(completion):
    # the gap between the boxes named the other case but no hedge word: the boxes were parted and 5 read alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


def test_a_box_after_a_step_on_the_box_before_is_still_read():
    assert check_math("\\boxed{10/2}. If we simplify, we get \\boxed{5}.", "5").correct


@pytest.mark.parametrize("completion", [
    "So x = 3 for odd n and x = 5 for even n.", "\\boxed{x = 3} for odd n, x = 5 for even n",
    "\\boxed{x = 3} if n is odd and x = 5 otherwise",
])
def test_a_named_value_for_another_case_scores_for_neither(completion):
    # "x = 5 for even n": the name before the other case's value hid it, so one of 3 and 5 scored alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}\n\nIf we include 0, the count is 5.", "\\boxed{3}\n\nHowever, if we include 0, the count is 5.",
    "So we get 3. If we include 0, the count is 5.", "\\boxed{3}. Including 0, the number of ways is 5.",
    "\\boxed{3}. Note: if we include 0, we get 5.",
])
def test_a_value_for_another_case_named_as_the_count_scores_for_neither(completion):
    # "the count is 5" (not "we get"/"the answer is"), or "However," before the case: 5 was no other answer
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


def test_a_total_after_a_step_is_the_answer():
    assert check_math("We have 2 cases. If we add 3 more, the total is 5.", "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}\n\nAnswer 2: \\boxed{5}", "Answer 1: \\boxed{3}\nAnswer 2: \\boxed{5}", "Case 1: \\boxed{3}\n\nCase 2: \\boxed{5}",
    "**Case 1:** $\\boxed{3}$\n\n**Case 2:** $\\boxed{5}$",
])
def test_boxes_numbered_as_answers_or_cases_score_for_neither(completion):
    # the label between the boxes parted them: the last box (5) scored alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct
    assert check_math(completion, "3, 5").correct


def test_a_total_boxed_after_boxed_cases_is_the_answer():
    assert check_math("Case 1 gives \\boxed{3}. Case 2 gives \\boxed{5}. So the total is \\boxed{8}.", "8").correct


@pytest.mark.parametrize("completion", ["\\boxed{3} when n = 1, 2", "\\boxed{3} if n = 1, 2", "\\boxed{3} for x = 1/2, 1/3"])
def test_an_answer_for_a_list_of_cases_after_when_or_with_fractions_is_that_answer(completion):
    # "when n = 1, 2", "for x = 1/2, 1/3": the list's last item was read as a second answer
    assert check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3} when n is odd, 5", "\\boxed{3} when n = 1, 5 otherwise", "\\boxed{3} when n = 1, and 5 when n = 2",
    "\\boxed{3} if n = 1, 2; otherwise 5",
])
def test_an_answer_for_a_case_beside_another_case_after_when_scores_for_neither(completion):
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "Therefore 3. If repetition is allowed, we get 5.", "\\boxed{3}. Assuming repetition is allowed, we get 5.",
    "\\boxed{3}. Under the assumption that 0 is natural, we get 5.", "\\boxed{3}. If repetition is allowed, then 5.",
    "\\boxed{3} (5 with repetition)", "\\boxed{3} without repetition and 5 with repetition",
])
def test_a_value_under_another_assumption_scores_for_neither(completion):
    # "Assuming ...", "Under the assumption that ...", "then 5", "5 with repetition": one value scored alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{5}. If x = 5, then 2x = 10.", "5"), ("\\boxed{12} (4 with each color)", "12"), ("\\boxed{3} with n = 1, 2", "3"),
    ("\\boxed{12} with 4 per row, 3 rows", "12"),
])
def test_a_remark_with_with_or_then_after_a_box_is_no_other_value(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("So the first term is 2. If we multiply by the ratio 3, we get 6.", "6"),
    ("So we have 4 boxes. When we put 3 balls in each box, we get 12.", "12"), ("Hence x = 2. For y, we get 7.", "7"),
    ("So the total is 10. When we subtract the 4 broken ones, we get 6.", "6"),
    ("So there are 5 red balls. Including the 3 blue ones, there are 8.", "8"),
    ("So we have 3 choices. Counting the empty set, we get 4.", "4"),
    ("So far the answer is 10. When we include the last term, the answer is 12.", "12"),
    ("The answer is 10. Hmm, when I recount, the answer is 12.", "12"),
])
def test_a_step_after_a_concluding_prose_value_is_the_answer(completion, gold):
    # an operation in the "if"/"when" clause works on, and "For y" turns to another unknown: no other case, and the
    # last value is the answer (read as a hedge, the right answer scored wrong)
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "So the result is 3. If n were even, it'd be 5.", "\\boxed{3}. If n were even, that would be 5.",
    "\\boxed{3}. If we include 0, one gets 5.", "So we get 3. If you include 0, you get 5.",
])
def test_a_value_for_another_case_in_other_pronouns_scores_for_neither(completion):
    # "it'd be", "that would be", "one gets", "you get" were no offering words: one value scored alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "I thought the answer is 10. But the other terms also contribute, so the answer is 12.",
    "The answer is 10. Since 2 or more terms cancel, the answer is 12.",
])
def test_an_answer_phrase_revising_an_earlier_one_with_a_hedge_word_inside_is_the_new_value(completion):
    # "other", "also", "or" inside the revising sentence were read as offering 12 beside 10: the right 12 scored wrong
    assert check_math(completion, "12").correct
    assert not check_math(completion, "10").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{6} (2 for Alice and 4 for Bob)", "\\boxed{6}, with 2 for Alice and 4 for Bob", "\\boxed{6} (2 with the first machine)",
])
def test_a_box_with_the_shares_of_its_value_after_it_is_that_answer(completion):
    # "2 for Alice" read as a value for another case: a hedge, the right 6 scored wrong
    assert check_math(completion, "6").correct


@pytest.mark.parametrize("completion", ["\\boxed{6}. For Alice, we get 2.", "\\boxed{6}\n\nFor the first part, we get 2."])
def test_a_box_with_a_part_of_the_work_after_it_is_that_answer(completion):
    # "For Alice, we get 2" read as a value for another case: a hedge, the right 6 scored wrong
    assert check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}. If n is even: 5.", "\\boxed{3}\n\nIf n is even: 5", "The answer is 3. If n is even: 5.",
    "\\boxed{3}. Excluding 0 gives 5.", "\\boxed{3}. Allowing repetition yields 5.",
])
def test_a_value_for_another_case_after_a_colon_or_given_by_its_words_scores_for_neither(completion):
    # a colon instead of "we get", or "Excluding 0 gives", was no offering: the box's 3 scored alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3}. Check: 3 + 4 = 7.", "\\boxed{3}. For x = 3: 2x + 1 = 7.", "\\boxed{3}. Including the endpoints gives the same count.",
    "\\boxed{3}. Counting each pair twice gives 6, so we halve it.", "\\boxed{3}. If we check: 3 = 3.",
])
def test_a_check_after_a_colon_or_a_step_that_gives_is_no_other_case(completion):
    assert check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "The answer is 3. If n were 2, the answer would be 5, but n = 1 here.",
    "\\boxed{3}. If n were 2, the answer would be 5, but n = 1 here.",
    "\\boxed{3}. If n were 2, it would be 5, but in our problem n = 1.", "\\boxed{3}. If n were 2, we'd get 5; but n = 1 here.",
])
def test_a_value_for_another_case_dismissed_at_once_is_no_other_answer(completion):
    # "but n = 1 here" names the problem's own case: read as the hedge "3 or 5", the right 3 scored wrong
    assert check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


def test_a_value_for_another_case_not_dismissed_stays_a_hedge():
    for completion in ("The answer is 3. If n were 2, the answer would be 5.",
                       "The answer is 3. If n were 2, the answer would be 5, but n could also be 2."):
        assert not check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3} for part (a) and 5 for part (b)", "\\boxed{3} for (a) and 5 for (b).",
    "The answer is 3 for part (a) and 5 for part (b).", "\\boxed{(a) 3, (b) 5}",
])
def test_answers_for_two_parts_are_both_parts(completion):
    # the first part's 3 was read alone (it scored for the gold 3), and a gold "(a) 3, (b) 5" matched no response
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct
    for gold in ("3, 5", "(a) 3, (b) 5", "(a) 3 (b) 5"):
        assert check_math(completion, gold).correct
    assert not check_math(completion, "(a) 5, (b) 3").correct  # the parts keep their order


@pytest.mark.parametrize("completion", [
    "\\boxed{0.5} (or $\\frac{1}{2}$)", "\\boxed{\\frac{1}{2}} [or 0.5]", "\\boxed{0.5} (or 1/2).",
    "The answer is 0.5 (or $\\frac{1}{2}$).",
])
def test_the_same_value_restated_in_parentheses_is_one_answer(completion):
    # the "(" before "or" was kept in the answer, "0.5 ( or \frac{1}{2} )": unparseable, the right 0.5 scored wrong
    assert check_math(completion, "0.5").correct
    assert not check_math(completion, "0.6").correct


@pytest.mark.parametrize("completion", ["\\boxed{3} (or 4)", "\\boxed{3} [or 4].", "The answer is 3 (or 4)."])
def test_another_value_in_parentheses_stays_a_hedge(completion):
    for gold in ("3", "4"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{\\frac{\\pi}{3}} or approximately 1.047", "\\boxed{\\frac{\\pi}{3}}, or approximately $1.05$.",
    "\\boxed{\\frac{\\pi}{3}} or roughly 1.05",
])
def test_the_value_rounded_after_or_is_no_other_answer(completion):
    # "or approximately 1.047" rounds the answer, as "\approx 1.047" does: read as a hedge, the right pi/3 scored wrong
    assert check_math(completion, "\\frac{\\pi}{3}").correct
    assert not check_math(completion, "1.047").correct


def test_another_value_said_approximately_without_decimals_stays_a_hedge():
    for gold in ("3", "4"):
        assert not check_math("\\boxed{3} or approximately 4", gold).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}\n\nHmm, but it could be 6 too.", "\\boxed{5}. Well, it could also be 6.", "\\boxed{5}\n\nNote: some might argue 6.",
    "So the answer is 5. Hmm, but it could be 6 too.",
])
def test_another_value_offered_after_an_interjection_or_note_scores_for_neither(completion):
    # "Hmm,", "Well,", "Note:" before the offering words hid them: the box's 5 scored alone
    assert not check_math(completion, "5").correct
    assert not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", ["\\boxed{5}. Hmm, 5 works.", "\\boxed{5}. Note: 5 is prime.", "\\boxed{5}. Well, 5 also works."])
def test_an_interjection_or_note_on_the_answer_itself_is_no_hedge(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize("pct, value", [("100\\%", "1"), ("200\\%", "2"), ("100%", "1"), ("0\\%", "0")])
def test_a_whole_percent_is_the_whole_fraction_too(pct, value):
    # the percent sign dropped in cleaning, "100" met "1" as two integers: 100% matched 1.0 but not 1
    assert answers_equal(pct, value) and answers_equal(value, pct)
    assert check_math(f"\\boxed{{{pct}}}", value).correct
    assert not answers_equal(pct, str(int(value) + 1))


@pytest.mark.parametrize("completion", [
    "The probability is 0.75 (75%).", "So the probability is 75%.", "So the chance is 0.75, that is 75 percent.",
    "The percentage is 75\\%.",
])
def test_a_percent_in_prose_is_the_fraction_too(completion):
    # the "%" after a number in prose was dropped ("75\%" gave no value): 0.75 (75%) scored wrong against 0.75
    assert check_math(completion, "0.75").correct
    assert check_math(completion, "75").correct
    assert not check_math(completion, "0.7").correct


@pytest.mark.parametrize("completion", [
    "The answer is \\boxed{12}. For example, for n = 2, we get 6.", "\\boxed{12}. For instance, if n = 2, we get 6.",
    "\\boxed{12}. For reference, when n = 2, it is 6.",
])
def test_an_example_case_after_an_answer_is_no_other_case(completion):
    # "For example" was read as the box's condition and the example's value as another case's: "12 or 6"
    assert check_math(completion, "12").correct
    assert not check_math(completion, "6").correct


def test_a_value_offered_after_for_example_stays_a_hedge():
    for completion in ("\\boxed{3}. For example, 5 also works.", "\\boxed{3}. For instance, it could also be 5."):
        assert not check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{12}\n\nNote: if we had double-counted, we'd get 24. But we didn't.",
    "\\boxed{12}. If order mattered, it would be 24. But it does not.",
])
def test_a_counterfactual_value_denied_in_the_next_sentence_is_no_other_answer(completion):
    # "But we didn't." dismisses the case: read as the hedge "12 or 24", the right 12 scored wrong
    assert check_math(completion, "12").correct
    assert not check_math(completion, "24").correct


def test_a_counterfactual_value_not_denied_stays_a_hedge():
    assert not check_math("\\boxed{12}. If order mattered, it would be 24. But we don't know.", "12").correct


@pytest.mark.parametrize("completion", [
    "The answer is $\\frac{1}{3}$, approximately 0.333.", "The answer is $\\frac{1}{3}$, roughly 0.33.",
])
def test_an_answer_phrase_value_with_its_rounding_after_a_comma_is_that_value(completion):
    # ", approximately 0.333" was read as part of the value, unparseable: the right 1/3 scored wrong
    assert check_math(completion, "\\frac{1}{3}").correct
    assert not check_math(completion, "0.333").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}\n\nIf x = 5: $5 + 1 = 6$.", "\\boxed{5}\n\nWhen x = 5: $2x = 10$.", "\\boxed{3}. For x = 3: 2x + 1 = 7.",
])
def test_a_computation_after_a_cases_colon_checks_the_answer(completion):
    # after "If x = 5:" the equation "5 + 1 = 6" was read as another case's value: the right answer scored wrong
    gold = "3" if "boxed{3}" in completion else "5"
    assert check_math(completion, gold).correct


def test_a_named_value_after_a_cases_colon_stays_another_case():
    for gold in ("3", "5"):
        assert not check_math("\\boxed{3}. If n is even: $x = 5$.", gold).correct


@pytest.mark.parametrize("completion", ["\\boxed{3} or five", "\\boxed{3}. Or maybe five."])
def test_another_value_offered_in_words_scores_for_neither(completion):
    # a value in words after "or" offered nothing (no digit): the box's 3 scored alone
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "5").correct


@pytest.mark.parametrize("completion", ["\\boxed{3} or three", "\\boxed{3} or, in words, three"])
def test_the_same_value_offered_in_words_is_one_answer(completion):
    assert check_math(completion, "3").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3} or about 7.0", "\\boxed{3} or approximately 4.5", "\\boxed{3} \\approx 4.5",
    "The answer is 3, approximately 4.5.",
])
def test_an_approximate_value_far_from_the_answer_is_another_value(completion):
    # an "approximately" value was always read as the answer's rounding: 4.5 is none of 3's, the hedge scored for 3
    assert not check_math(completion, "3").correct
    assert not check_math(completion, "4.5").correct


@pytest.mark.parametrize("completion,gold", [
    ("\\boxed{\\frac{\\pi}{3}} or approximately 1.047", "\\frac{\\pi}{3}"), ("\\boxed{\\frac{1}{3}} \\approx 0.333", "\\frac13"),
    ("The answer is $\\frac{1}{3}$, approximately 0.333.", "\\frac13"), ("\\boxed{3} \\approx 3.0", "3"),
    ("\\boxed{\\frac{2}{3}} \\approx 0.67", "\\frac23"), ("\\boxed{250} or about 249.9", "250"),
])
def test_an_approximate_value_close_to_the_answer_rounds_it(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", ["\\boxed{3} \\sim 4.5", "\\boxed{3} \\simeq 4.5", "\\boxed{3} (\\approx 4.5)", "\\boxed{3} ∼ 4.5"])
def test_sim_or_a_parenthesized_approx_far_from_the_answer_after_it_is_another_value(completion):
    # only a bare "\approx" was seen: "\boxed{3} \sim 4.5" read 3 alone and scored, "\boxed{3} \approx 4.5" did not
    assert not check_math(completion, "3").correct and not check_math(completion, "4.5").correct
    assert check_math("\\boxed{\\frac{1}{3}} (\\approx 0.333)", "1/3").correct
    assert check_math("\\boxed{3} \\simeq 3.0", "3").correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{\\frac{1}{3} \\approx 0.333}", "1/3"), ("\\boxed{\\sqrt{2} \\approx 1.414}", "\\sqrt{2}"),
    ("\\boxed{x = \\pi \\approx 3}", "\\pi"), ("\\boxed{1024 \\approx 1000}", "1024"), ("\\boxed{-3 \\approx -3.0}", "-3"),
])
def test_a_rounding_of_the_value_in_the_same_box_keeps_the_value(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5} (i.e., 6)", "\\boxed{5}, that is, 6.", "\\boxed{5} versus 6", "\\boxed{5} vs. $6$", "\\boxed{5} (resp. 6)",
    "The answer is 5, i.e. 6.", "The answer is 5 (resp. 6).", "\\boxed{0.5} (i.e., 1/3)",
])
def test_another_value_after_i_e_resp_or_versus_is_a_hedge(completion):
    # the answer was read alone: "(i.e., 6)" restating 5 as 6, or "(resp. 6)" giving another case's value, scored 5
    a, b = ("0.5", "1/3") if "0.5" in completion else ("5", "6")
    assert not check_math(completion, a).correct and not check_math(completion, b).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}\\,(\\text{resp. }6)", "\\boxed{5} \\text{ i.e. } 6", "\\boxed{5} \\text{ versus } 6",
])
def test_i_e_resp_or_versus_in_text_after_the_box_is_a_hedge_too(completion):
    # the bare words were seen, not in \text{} or after a TeX space: 5 scored alone
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    assert check_math("\\boxed{5}\\quad\\text{i.e., } 5", "5").correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{5} (i.e., 5)", "5"), ("\\boxed{0.5} (i.e., 1/2)", "1/2"), ("\\boxed{\\frac13} (i.e., 0.333)", "1/3"),
    ("\\boxed{1000} (i.e., 1,000)", "1000"), ("\\boxed{5}, that is, 5 apples.", "5"), ("The answer is 5, i.e. 5.", "5"),
    ("\\boxed{5} (resp. 6)", "5, 6"), ("\\boxed{12} versus 10 last year.", "12"),
])
def test_the_same_value_after_i_e_or_a_second_part_after_resp_keeps_scoring(completion, gold):
    assert check_math(completion, gold).correct


def test_a_value_restated_in_words_in_parentheses_after_an_answer_phrase_is_that_value():
    # "12 (or twelve)" was split as "12 (" and "twelve)": no value read, the right 12 scored wrong
    assert check_math("The answer is 12 (or twelve).", "12").correct
    assert not check_math("The answer is 12 (or twelve).", "13").correct
    assert not check_math("The answer is 12 (or thirteen).", "12").correct


@pytest.mark.parametrize("completion", ["\\boxed{12} (or thirteen)", "\\boxed{12} [or thirteen]."])
def test_another_value_in_words_in_parentheses_after_a_box_stays_a_hedge(completion):
    # the ")" after "thirteen" hid the word's value: the box's 12 scored alone
    assert not check_math(completion, "12").correct
    assert not check_math(completion, "13").correct
    assert check_math("\\boxed{12} (or twelve)", "12").correct


@pytest.mark.parametrize("completion,golds", [
    ("\\boxed{50\\%} (or 0.5)", ("50\\%", "0.5", "\\frac12")), ("$\\frac34$, or 75%", ("\\frac34", "0.75", "75\\%")),
    ("The answer is $\\frac34$, or 75%.", ("\\frac34", "0.75")), ("\\boxed{0.5} (or 50\\%)", ("0.5", "50\\%")),
])
def test_a_value_restated_as_a_percent_is_one_answer(completion, golds):
    # read as a list, the percent reading scaled both parts ("50 or 0.5" / 100): the same value, restated, scored wrong
    for gold in golds:
        assert check_math(completion, gold).correct
    assert not check_math(completion, "0.4").correct


@pytest.mark.parametrize("completion", ["\\boxed{50\\%} (or 0.4)", "$\\frac34$, or 70%"])
def test_a_different_value_as_a_percent_stays_a_hedge(completion):
    for gold in ("0.5", "0.4", "\\frac34", "70\\%", "0.7"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion", ["\\boxed{\\frac{1}{3}} (or 33.3\\%)", "$\\frac{2}{3}$, or 66.67%", "\\boxed{0.125} (or 12.5\\%)"])
def test_a_percent_restatement_that_rounds_the_answer_is_one_answer(completion):
    # "33.3%" rounds 1/3 within its written digits: it restates the answer, yet the pair was read as a hedge
    ans = extract_answer(completion)
    assert "%" not in ans and "or" not in ans
    assert check_math("\\boxed{\\frac{1}{3}} (or 33.3\\%)", "\\frac13").correct
    assert not check_math("\\boxed{\\frac{1}{3}} (or 33.3\\%)", "0.3").correct


@pytest.mark.parametrize("completion", ["\\boxed{\\frac{1}{3}} (or 40\\%)", "\\boxed{\\frac{1}{3}} (or 34.3\\%)"])
def test_a_percent_beyond_the_rounding_of_the_answer_stays_a_hedge(completion):
    assert not check_math(completion, "\\frac13").correct


@pytest.mark.parametrize("completion,value", [
    ("\\boxed{5} thousand", "5000"), ("\\boxed{5} thousand.", "5000"), ("$\\boxed{2.5}$ million", "2500000"),
    ("\\boxed{2.5} \\text{ million}", "2500000"), ("\\boxed{-1.25} hundred thousand", "-125000"),
    ("\\boxed{3} billion dollars", "3000000000"),
])
def test_a_scale_word_after_a_box_scales_its_value(completion, value):
    # the word after the box was dropped: "\boxed{5} thousand" read as 5 scored for the gold 5
    assert check_math(completion, value).correct
    assert not check_math(completion, completion.split("{")[1].split("}")[0]).correct


@pytest.mark.parametrize("completion,value", [
    ("\\boxed{5} \\times 10^3", "5000"), ("\\boxed{1.5} \\cdot 10^{-3}", "0.0015"), ("\\boxed{5}\\sqrt{2}", "5\\sqrt{2}"),
    ("$\\boxed{5}\\pi$.", "5\\pi"), ("\\boxed{5} \\times 10^3 dollars", "5000"),
])
def test_a_factor_written_after_a_boxed_number_multiplies_it(completion, value):
    # the box was read alone: "\boxed{5}\sqrt{2}" scored for the gold 5 and wrong for the 5 sqrt(2) it shows
    assert check_math(completion, value).correct
    assert not check_math(completion, completion.split("{")[1].split("}")[0]).correct


@pytest.mark.parametrize("completion", ["\\boxed{5} \\times 10^3 + 1", "\\boxed{5}\\pi r^2"])
def test_a_term_after_a_box_that_goes_on_is_not_taken_as_its_factor(completion):
    assert extract_answer(completion) == "5"


@pytest.mark.parametrize("completion,value,unscaled", [
    ("The answer is 3 million.", "3000000", "3"), ("The answer is $3 million dollars.", "3000000", "3"),
    ("\\boxed{3 \\text{ million}}", "3000000", "3"), ("\\boxed{2.5 thousand}", "2500", "2.5"),
    ("So we get 2.5 million.", "2500000", "2.5"), ("So we get 5 hundred thousand apples.", "500000", "5"),
])
def test_a_scale_word_after_a_number_scales_it_outside_a_box_too(completion, value, unscaled):
    # after an answer phrase or inside a box the scale word was a unit (the right 3000000 scored wrong); with no phrase
    # the number was read alone (the gold 2.5 scored for "2.5 million")
    assert check_math(completion, value).correct
    assert not check_math(completion, unscaled).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}\n\nIf x = 5, then 6.", "\\boxed{5}\n\nWhen $x=5$, we get 11.", "\\boxed{x = 5}\n\nIf x = 5, then 6.",
])
def test_a_case_that_sets_the_unknown_to_the_boxed_answer_checks_it(completion):
    # "If x = 5, then 6." after \boxed{5} was read as another case's value, a hedge: the right 5 scored wrong
    assert check_math(completion, "5").correct
    assert not check_math(completion, "6").correct and not check_math(completion, "11").correct


@pytest.mark.parametrize("completion", ["\\boxed{5}\n\nIf x = 7, then 6.", "\\boxed{5}\n\nIf x = 5 and y = 2, then 6."])
def test_a_case_that_sets_the_unknown_to_another_value_stays_a_hedge(completion):
    for gold in ("5", "6"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("The answer is one hundred and five.", "105"), ("The answer is two hundred thirty-four.", "234"),
    ("Final answer: one thousand and one", "1001"), ("one hundred and five", "105"),
    ("The answer is twelve, which is even.", "12"), ("The answer is one hundred and five, which is odd.", "105"),
])
def test_a_number_in_words_with_hundred_or_thousand_is_its_value(completion, gold):
    # three or more number words read as prose: no answer, the right value scored wrong
    assert check_math(completion, gold).correct
    assert not check_math(completion, str(int(gold) + 1)).correct


@pytest.mark.parametrize("completion", ["The answer is one hundred and five or six.", "one hundred and five or six"])
def test_numbers_in_words_offered_with_or_are_a_hedge(completion):
    for gold in ("105", "6"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion, summed", [
    ("The answer is five five.", "10"), ("The answer is ten five.", "15"), ("The answer is five and six.", "11"),
    ("The answer is one one.", "2"), ("The answer is one hundred and five and six.", "111"),
])
def test_number_words_that_are_no_one_number_are_not_summed(completion, summed):
    # each number word was added on: "five and six" read as 11, "five five" as 10 (and the right 55 scored wrong)
    assert not check_math(completion, summed).correct


@pytest.mark.parametrize("completion", [
    "The answer is twelve, though 13 also works.", "The answer is twelve, but some say 13.",
    "The answer is one hundred and five (or 106).",
])
def test_a_value_offered_beside_an_answer_in_words_is_a_hedge(completion):
    # the answer in words read as prose, its one number was the value offered beside it: 13 (106) scored alone
    for gold in ("12", "13", "105", "106"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{m+n=17}", "17"), ("So $a + b = 17$.", "17"), ("\\boxed{a - b = 3}", "3"), ("\\boxed{17}", "m+n=17"),
])
def test_a_sum_of_names_equal_to_the_value_answers_it(completion, gold):
    # "find m + n" answered "\boxed{m+n=17}": the equation was no value, the right 17 scored wrong
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", ["\\boxed{2x=17}", "\\boxed{x+1=17}"])
def test_an_equation_to_solve_answers_no_value(completion):
    assert not check_math(completion, "17").correct


@pytest.mark.parametrize("completion", [
    "The answer is $\\frac{3}{8}$, or $37.5\\%$.", "The probability is $\\frac{3}{8}$ or $37.5\\%$.",
])
def test_a_value_restated_as_a_percent_in_its_own_span_is_that_value(completion):
    # the two spans were joined as the list "\frac{3}{8}, 37.5\%", the "or" lost: the right 3/8 scored wrong
    assert check_math(completion, "\\frac{3}{8}").correct


@pytest.mark.parametrize("completion", [
    "The answer is $\\frac{3}{8}$, or $40\\%$.", "The probability is $\\frac{3}{8}$ or $40\\%$.",
])
def test_another_percent_in_its_own_span_stays_a_hedge(completion):
    for gold in ("\\frac{3}{8}", "0.4"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. Note that 6 also works.", "\\boxed{5}. By symmetry, 6 also works.", "\\boxed{5}. Of course, 6 works too.",
    "\\boxed{5}. In fact 6 is also a valid answer.", "The answer is 5. Note that 6 also works.",
])
def test_another_value_offered_after_a_discourse_word_is_a_hedge(completion):
    # "Note that" / "By symmetry," before "6 also works" hid the offer: the box's 5 scored alone
    for gold in ("5", "6"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion", ["\\boxed{5}. Indeed, 5 works: 2 + 3 = 5.", "\\boxed{5}. Of course, 2 also divides 10."])
def test_a_discourse_word_before_a_check_offers_no_value(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}\n\nIf n is even, 6 also works.", "\\boxed{5}. If repetition is allowed, 6 works too.",
    "\\boxed{5}\n\nIf x = 5, then 6 also works.", "\\boxed{5}\n\nIf x = 7, then 6 also works.",
])
def test_a_value_said_to_work_too_for_another_case_is_a_hedge(completion):
    # after "then" the other case's value had to end its clause: "6 also works" went on, and the box's 5 scored alone
    for gold in ("5", "6"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion", ["\\boxed{5} / 6", "\\boxed{5}/6"])
def test_a_value_after_a_slash_after_a_box_is_a_hedge(completion):
    # "\boxed{5} / 6" offers 6 beside the box (as "\boxed{5} \text{ / } \boxed{6}" does): the 5 scored alone
    for gold in ("5", "6", "\\frac{5}{6}"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [("\\boxed{60}/\\text{h}", "60"), ("The answer is 5 / 6.", "\\frac{5}{6}")])
def test_a_slash_before_a_unit_or_in_prose_is_no_hedge(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}, though 6 is plausible", "\\boxed{5}; 6 is the other candidate", "\\boxed{5}. 6 is a possibility.",
    "The answer is 5, though 6 is plausible.",
])
def test_a_value_called_plausible_or_a_candidate_is_a_hedge(completion):
    # "6 is plausible" / "the other candidate" / "a possibility" offered nothing to the hedge rules: 5 scored alone
    for gold in ("5", "6"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("The answer is five dollars.", "5"), ("The answer is twenty-five percent.", "0.25"),
    ("<think>so</think>\n\nThe answer is one hundred and five ways.", "105"), ("\\boxed{\\text{five dollars}}", "5"),
])
def test_a_number_in_words_with_a_unit_is_its_value(completion, gold):
    # "five dollars" read as words, no value (as "5 dollars" is 5): the right answer scored wrong
    assert check_math(completion, gold).correct
    assert not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", ["The answer is five dollars or six dollars.", "The answer is twenty-five percent or 25."])
def test_numbers_in_words_with_units_offered_with_or_stay_a_hedge(completion):
    for gold in ("5", "6", "25", "0.25"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5} (six also works)", "\\boxed{5}. Six is also a solution.", "The answer is 5; six also works.",
])
def test_another_value_in_words_said_to_work_too_is_a_hedge(completion):
    # only digits were read as the value that "also works": the box's 5 scored alone
    for gold in ("5", "6"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion", ["\\boxed{5}. Five also works.", "\\boxed{5}. These six also work."])
def test_the_same_value_in_words_or_a_count_is_no_other_value(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5} \\approx 6", "\\boxed{5} \u2248 6",
    # (a period or comma after the whole number hid it: "\boxed{5} \approx 6." read 5 alone and scored)
    "\\boxed{5} \\approx 6.", "\\boxed{5} \\sim 6, done", "The answer is \\boxed{5} \u2248 6.",
])
def test_a_far_whole_number_after_approx_is_a_hedge(completion):
    # only a decimal after "\approx" was read: "\approx 6" beside \boxed{5} offered nothing, and 5 scored alone
    for gold in ("5", "6"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{1024} \\approx 1000", "1024"), ("\\boxed{47} \\approx 50", "47"), ("\\boxed{\\frac{11}{2}} \\approx 6", "5.5"),
    ("\\boxed{100} (around 2 per day)", "100"),
])
def test_a_whole_number_rounding_the_answer_is_no_other_value(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", ["\\boxed{5} and 6", "The solutions are \\boxed{5} and 6.", "\\boxed{5} and $6$"])
def test_a_value_after_and_ending_the_line_after_a_box_is_offered_beside_it(completion):
    # "\boxed{5} and 6" read 5 alone (", 6" was read): it scored for the gold 5, and the right "5, 6" scored wrong
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    assert check_math(completion, "5, 6").correct


def test_a_value_after_and_that_goes_on_is_no_other_answer():
    assert check_math("\\boxed{5} and 6 is the next.", "5").correct


@pytest.mark.parametrize("completion", [
    "It takes 2 hours and 30 minutes.", "So it takes 2 hours 30 minutes.", "It takes $2$ hours and $30$ minutes.",
    "It takes 1 hour, 30 minutes.", "It takes 2h 30min.", "He is 5 feet 6 inches tall.",
])
def test_a_quantity_in_two_units_in_prose_is_not_its_last_number(completion):
    # read as the last number, "2 hours and 30 minutes" scored for the gold 30; it reads as the box
    # "\boxed{2 \text{ hours } 30 \text{ minutes}}" does, unreadable as one number
    for gold in ("30", "6", "2", "5"):
        assert not check_math(completion, gold).correct
    assert check_math("It takes 2 hours. That is 120 minutes.", "120").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5} \\pm 1", "$\\boxed{5} \\pm 1$.", "$\\boxed{5}\\pm 1$", "\\boxed{5} \u00b1 1", "\\boxed{5} \\pm \\sqrt{2}",
])
def test_a_plus_minus_after_a_box_is_part_of_the_answer(completion):
    # "\boxed{5} \pm 1" read 5 alone: two values scored for the gold 5 ("\boxed{5 \pm 1}" did not)
    assert not check_math(completion, "5").correct
    assert check_math(completion, "4, 6").correct == ("sqrt" not in completion)
    assert check_math("\\boxed{\\pm 5}", "5, -5").correct and check_math("\\boxed{\\pm 5}", "\\pm 5").correct


@pytest.mark.parametrize("completion", ["It is \u00b15.", "So x = \u00b15.", "It is 5 \u00b1 1.", "It is 5 \u2213 1."])
def test_a_unicode_plus_minus_in_prose_is_an_operator(completion):
    # "It is 5 ± 1." read 1 and "It is ±5." read 5 (as "\pm 5" in prose is not read): one of two values scored
    for gold in ("5", "1", "-5"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("The answer is one half.", "1/2"), ("The answer is a half.", "1/2"), ("The answer is three-fourths.", "3/4"),
    ("The answer is two thirds.", "2/3"), ("Final Answer: three quarters", "0.75"), ("\\boxed{\\text{one third}}", "1/3"),
])
def test_a_fraction_in_words_is_its_value(completion, gold):
    # a number in words was read ("ten" is 10), a fraction in words not: the right "one half" scored wrong
    assert check_math(completion, gold).correct
    assert not check_math(completion, "1").correct


@pytest.mark.parametrize("completion", ["The answer is a half or a third.", "The answer is two third.", "The answer is one halves."])
def test_fractions_in_words_hedged_or_misworded_are_no_value(completion):
    for gold in ("1/2", "1/3", "2/3"):
        assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. Wait, maybe it's 6.", "\\boxed{5}\n\nWait, maybe it's 6.", "\\boxed{5}. But maybe it's 6.",
    "\\boxed{5}. Hmm, perhaps 6.", "\\boxed{5}. Wait, it might be 6.", "\\boxed{5}. Hmm, actually 6.",
    "The answer is 5. Wait, maybe it's 6.", "\\boxed{5}. Maybe it's 6.",
])
def test_a_value_offered_after_an_opener_word_is_a_hedge(completion):
    # "Wait, maybe it's 6." after the box (an opener before "maybe", "might be", "actually") offered nothing: 5
    # scored alone; as "Maybe 6." it is both values ("it's" no part of the other one)
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    assert check_math(completion, "5, 6").correct
    assert check_math("\\boxed{5}. Wait, let me double-check: 2 + 3 = 5. Yes.", "5").correct


@pytest.mark.parametrize("completion, gold", [
    ("The lengths are 10 cm and 5 cm.", "10, 5"), ("The sides are 3 cm, 4 cm and 5 cm.", "3, 4, 5"),
    ("It is 10 cm or 5 cm.", "10, 5"),
])
def test_values_with_the_same_unit_in_prose_are_a_list(completion, gold):
    # the unit after each value hid the list: the last value was read alone and scored for the gold 5
    assert check_math(completion, gold).correct
    for one in gold.split(", "):
        assert not check_math(completion, one).correct
    assert check_math("So it is 5 cm.", "5").correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{\\text{The answer is } 5}", "5"), ("\\boxed{\\text{The answer is 5}}", "5"), ("\\boxed{Answer: 5}", "5"),
    ("\\boxed{\\text{Final answer: } \\frac{1}{2}}", "1/2"), ("\\boxed{\\text{Answer: (C)}}", "C"),
])
def test_an_answer_phrase_opening_the_box_is_no_part_of_the_answer(completion, gold):
    # read whole, "\text{The answer is } 5" was unparseable: the right 5 scored wrong
    assert check_math(completion, gold).correct
    for other in ("\\boxed{\\text{The answer is not } 5}", "\\boxed{\\text{The answer is } 5 \\text{ or } 6}"):
        assert not check_math(other, "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}\n\nEdit: 6.", "\\boxed{5}\n\nEDIT: it's 6", "\\boxed{5}\n\nScratch that, 6.", "\\boxed{5}\n\nNever mind, it's 6.",
    "\\boxed{5}\n\nOn second thought, 6.", "\\boxed{5}\n\nLet me reconsider... it's 6.",
])
def test_more_revision_words_after_the_box_revise_it_in_prose(completion):
    # as "Actually it's 6." does, these revise the box in prose: a hedge of both (5 scored alone)
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    assert check_math("\\boxed{5}\n\nEdit: fixed a typo in step 2.", "5").correct
    assert check_math("\\boxed{5}\n\nOn second thought, 5 is right.", "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. Also, 6.", "\\boxed{5}. Also 6 works.", "\\boxed{5}, and 6 too.", "\\boxed{5} (and 6)", "\\boxed{5}. 6 as well.",
    "The answer is 5, and 6 too.",
])
def test_one_more_value_offered_with_also_too_or_and_after_the_answer_is_a_hedge(completion):
    # "Also 6." was seen, not "Also, 6." nor "Also 6 works."; "and 6 too" and "(and 6)" not at all: 5 scored alone
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    assert check_math(completion, "5, 6").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. Also, 6 is even.", "\\boxed{5}. Also, 5 works.", "\\boxed{5} (and 5)", "\\boxed{5} for n = 1 and 2 too.",
])
def test_also_too_or_and_after_the_answer_with_no_other_value_keeps_it(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize("completion, gold", [
    ("So we get $\\frac{1}{3}$, approximately 0.333.", "1/3"), ("The probability is 1/3, approximately 0.333.", "1/3"),
    ("So we get $\\frac{\\pi}{3}$ (approximately 1.047).", "\\pi/3"), ("So we get 3 or approximately 3.0.", "3"),
])
def test_a_prose_value_with_its_rounding_after_it_and_no_box_is_the_value(completion, gold):
    # the rounding was read as the last value, its "approximately" refused it: no answer, while after a box or an
    # answer phrase the value scores
    assert check_math(completion, gold).correct
    assert not check_math("So we get 3, approximately 4.5.", "3").correct  # no rounding: two values
    assert not check_math("So x is not 3, approximately 3.0.", "3").correct


@pytest.mark.parametrize("completion, gold", [
    ("So we get 1/3 \\approx 0.33.", "1/3"), ("So we get 2/3 \\approx 0.667.", "2/3"), ("So we get 1/3 \\sim 0.33.", "1/3"),
    ("Thus the probability is 1/3 \\approx 0.333.", "1/3"),
])
def test_a_prose_value_with_a_latex_approx_rounding_after_it_is_the_value(completion, gold):
    # "\approx" in prose (no math delimiters) made both numbers operands of an operator: no answer, while with "≈",
    # "approximately" or after a box ("\boxed{1/3} \approx 0.33") the exact value before the rounding scores
    assert check_math(completion, gold).correct
    assert not check_math(completion, "0.33").correct
    assert not check_math("So we get 3 \\approx 4.5.", "3").correct  # no rounding: two values, as with "≈"
    assert not check_math("So we get 5 \\pm 1.", "5").correct  # "\pm" keeps its operands


@pytest.mark.parametrize("completion, gold", [
    ("So we get 6 \\sim 7.", "7"), ("So we get 6 \\sim 7.", "6"), ("So the count is 12 \\sim 13.", "13"),
    ("So we get 3 \\simeq 4.", "4"), ("So we get 6 \\approx 7.", "7"),
])
def test_a_prose_value_after_a_latex_sim_is_no_answer_as_after_approx(completion, gold):
    # since "\sim" beside a number was no operator (3b069ac), "So we get 6 \sim 7." (a range or a hedge) read 7, the
    # value after "\sim", and scored for the gold 7 (now the hedge "6, 7", as "6 \u2248 7" is: neither value scores)
    assert not check_math(completion, gold).correct
    assert check_math("So we get 1/3 \\sim 0.33.", "1/3").correct  # a rounding still leaves the exact value


@pytest.mark.parametrize("op", ["\u2248", "\\approx", "\\sim", "\\simeq", "\\approxeq", "\u223c"])
@pytest.mark.parametrize("text, gold, right", [
    ("So x {} 5.", "5", True), ("The area is {} 5.2.", "5.2", True), ("So we get 1024 {} 1000.", "1024", True),
    ("So we get 6 {} 7.", "6", False), ("So we get 6 {} 7.", "7", False),
])
def test_a_latex_approx_sign_in_prose_reads_as_the_unicode_sign(op, text, gold, right):
    # "So x \approx 5." (\sim, \simeq) gave no answer, its "approx" taken for the word that refuses a value, while
    # "So x \u2248 5." read 5; "So we get 6 \sim 7." stays the hedge "6 \u2248 7" is
    assert check_math(text.format(op), gold).correct is right
    assert not check_math("The area is approx 5.", "5").correct  # the word still refuses it


@pytest.mark.parametrize("text", [
    "The answer is 6 \u2014 actually seven.", "The answer is 6 \u2014 actually 7.", "The answer is 6. Actually, seven.",
    "\\boxed{6}. Actually seven.", "\\boxed{6} \u2014 actually 7.", "\\boxed{6} \u2013 wait, it's seven.",
])
def test_a_revision_in_words_or_after_a_dash_is_a_hedge_as_in_digits(text):
    # a revision with its value in words ("Actually seven.") or opened by a dash ("\boxed{6} \u2014 actually 7") was not
    # seen: 6 scored alone, while "\boxed{6}. Actually 7." is the hedge "6 or 7" (scored for neither)
    assert not check_math(text, "6").correct and not check_math(text, "7").correct
    assert check_math("\\boxed{6}. Actually seven of them are red.", "6").correct  # no revision: a count of the 6


@pytest.mark.parametrize("text, extracted", [
    ("\\boxed{6}, that's wrong, it is 7.", "7"), ("\\boxed{6}. That's wrong. It should be 7.", "7"),
    ("\\boxed{6}, which is incorrect, the answer is 7.", "7"), ("\\boxed{6}, that's wrong.", None),
    ("\\boxed{6}. That is wrong.", None), ("\\boxed{6} (which is a mistake)", None), ("$\\boxed{6}$, this is wrong.", None),
    # a sentence-initial "Wrong," / "No," (read 6 alone, or the hedge "6 or 7")
    ("\\boxed{6}. Wrong, it is 7.", "7"), ("\\boxed{6}. Incorrect. It should be 7.", "7"), ("\\boxed{6}. Wrong.", None),
    ("\\boxed{6}. No, it is 7.", "7"), ("\\boxed{6}, wrong, the answer is 7.", "7"),
])
def test_a_box_the_text_right_after_it_says_is_wrong_does_not_pay(text, extracted):
    # "\boxed{6}, that's wrong, it is 7." read 6 and scored for the gold 6: the value the text turns to, else none
    assert extract_answer(text) == extracted
    assert not check_math(text, "6").correct
    assert check_math("\\boxed{6}, which is wrong for n = 5", "6").correct  # says more of 6: no retraction
    assert extract_answer("\\boxed{6}. No other value works.") == "6"  # "No" with no value it turns to


@pytest.mark.parametrize("text, gold, right", [
    ("So x $\\approx$ 5.", "5", True), ("So x $\\sim$ 5.", "5", True), ("So x $\u2248$ 5.", "5", True),
    ("So x $=$ 5.", "5", True), ("So we get 1/3 $\\approx$ 0.33.", "1/3", True),
    ("So we get 6 $\\approx$ 7.", "6", False), ("So we get 6 $\\approx$ 7.", "7", False),
    ("So x $\\leq$ 5.", "5", False), ("So x \\(\\ge\\) 5.", "5", False), ("So x $>$ 5.", "5", False),
])
def test_a_relation_sign_alone_in_math_delimiters_reads_as_the_sign(text, gold, right):
    # "So x $\approx$ 5." read the span "\approx" as a value beside 5: "\approx, 5", wrong for the gold 5
    assert check_math(text, gold).correct is right


@pytest.mark.parametrize("completion", [
    "The answer is 3 \\approx 4.5.", "Final answer: 3 \\approx 4.5", "The answer is $3 \\approx 4.5$.",
    "The answer is 3 \u2248 4.5.",
])
def test_an_answer_phrase_value_with_a_far_approximation_is_a_hedge_as_after_a_box(completion):
    # "\boxed{3} \approx 4.5" offers 4.5 beside 3 (no rounding of it), but after an answer phrase the "\approx"
    # side was dropped in grading: the gold 3 scored for a text that also says 4.5
    assert not check_math(completion, "3").correct and not check_math(completion, "4.5").correct
    assert check_math("The answer is 1/3 \\approx 0.33.", "1/3").correct  # a rounding is dropped
    assert check_math("The answer is 3 \\approx 3.0.", "3").correct


@pytest.mark.parametrize("completion", ["Work.\n#### 5\n#### 6", "#### 5. Actually it's 6.", "Work.\n#### 5\n\n6"])
def test_a_second_value_after_a_gsm8k_answer_mark_is_a_hedge(completion):
    # the value after "####" states the answer, as "So we get 5" does; the last value 6 was read alone and scored
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    assert check_math("She has 5 left.\n#### 42", "42").correct
    assert check_math("#### Step 2\nWe get 5.\n#### Step 3\nThen 6.", "6").correct  # Markdown headings: steps


@pytest.mark.parametrize("completion", ["So we get 5, i.e. 6.", "So we get 5 versus 6.", "Thus $5$, that is, 6."])
def test_another_value_said_of_a_concluded_value_without_a_box_is_a_hedge(completion):
    # after a box these are hedges; after "So we get 5" the last value 6 was read alone and scored
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    assert check_math("So we get 5, i.e., 5.", "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}\n\nAnswer 2: 6", "\\boxed{5}. Answer #2: $6$.", "\\boxed{5}\n\nCase 2: 6.", "The answer is 5. Answer 2: 6.",
])
def test_a_numbered_second_answer_with_a_plain_value_after_the_answer_is_a_hedge(completion):
    # "Answer 2: \boxed{6}" after the box was a hedge, "Answer 2: 6" was unseen: 5 scored alone
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    assert check_math("\\boxed{5}\n\nAnswer 2: 5", "5").correct
    assert check_math("\\boxed{5}\n\nCase 2: 6 balls are red, so 11.", "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{x=5} or 5", "\\boxed{x = 5}. Or equivalently, 5.", "\\boxed{x=5}. Actually it's 5.",
])
def test_a_named_value_restated_bare_is_one_answer(completion):
    # "x=5 or 5" was two answers, an equation and a value: the right value restated scored wrong ("5 or 5.0" is one)
    assert check_math(completion, "5").correct and check_math(completion, "x = 5").correct
    assert not check_math(completion, "6").correct
    assert not check_math("\\boxed{x=5} or 6", "5").correct
    assert not check_math("\\boxed{x=5, y=5}", "5").correct  # two names: no one value


@pytest.mark.parametrize("completion", [
    "\\boxed{5}. Second answer: 6.", "\\boxed{5}. Alternative answer: 6.", "\\boxed{5}. 2nd answer: 6.",
    "\\boxed{5}. Second possible answer: 6.",
])
def test_a_second_or_alternative_answer_phrase_after_a_box_is_a_hedge(completion):
    # read as a revision, the phrase's 6 scored alone ("Another answer: 6" was already a hedge)
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    assert check_math("\\boxed{5}. The only possible answer is 6.", "6").correct  # a revision still
    assert check_math("\\boxed{5}. Second answer: 5.", "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{5}\n\nP.S. Could be 6.", "\\boxed{5}. P.S. It might be 6.", "\\boxed{5}. I think it's actually 6.",
    "\\boxed{5}. It's actually 6.", "The answer is 5. I believe it is actually 6.",
])
def test_a_postscript_or_an_it_is_actually_revision_offering_another_value_is_a_hedge(completion):
    # "P.S." before "could be", and "I think it's actually 6" (the revision word after "it's"), offered nothing: 5
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    for same in ("\\boxed{5}\n\nP.S. It could be 5.", "\\boxed{5}. I think it's actually 5.", "\\boxed{5}. It's actually easy: 2 + 3 = 5."):
        assert check_math(same, "5").correct


@pytest.mark.parametrize("completion", [
    "So we get 5. Actually it's 6.", "Thus the total is 5.\n\nWait, no, it's $6$.", "Therefore 5. Correction: 6.",
])
def test_a_prose_revision_after_a_concluded_value_without_a_box_is_a_hedge(completion):
    # "The answer is 5. Actually it's 6." is a hedge, while "So we get 5. Actually it's 6." read 6 alone and scored
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    assert check_math("So we get 5. Actually it's 5.", "5").correct
    assert check_math("We have 5. Actually it's 6.", "6").correct  # a step revised, then the answer


@pytest.mark.parametrize("completion", [
    "\\boxed{5} \\quad \\text{(if } n \\text{ odd)}\\quad \\boxed{6}\\quad\\text{(if even)}",
    "\\boxed{5} (when n is odd) \\boxed{6} (when n is even)",
])
def test_boxes_parted_only_by_a_case_condition_are_both_answers(completion):
    # with no comma or "and" between them, the last box was read alone: 6 scored for the gold 6
    assert not check_math(completion, "6").correct and not check_math(completion, "5").correct


@pytest.mark.parametrize("completion, gold", [
    ("The answer is one half (1/2).", "1/2"), ("The answer is two thirds (2/3).", "2/3"),
    ("\\boxed{\\text{three quarters (3/4)}}", "3/4"),
])
def test_a_fraction_in_words_with_its_digits_is_the_digits(completion, gold):
    # "twelve (12)" was read as 12, "one half (1/2)" whole, unparseable: the right 1/2 scored wrong
    assert check_math(completion, gold).correct
    assert not check_math("The answer is one half (1/3).", "1/3").correct


@pytest.mark.parametrize("completion", [
    "The answer is 5. Actually it's 6.", "The answer is 5.\n\nWait, it's 6.", "Answer: 5. Correction: 6.",
    "The answer is 5. Oops, 6.",
])
def test_a_prose_revision_after_an_answer_phrase_is_a_hedge(completion):
    # after a box "Actually it's 6." made a hedge of both; after an answer phrase it was ignored and 5 scored
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    assert check_math("The answer is 5. Actually, 5 is right.", "5").correct
    assert check_math("The answer is 1/2. Actually it's 0.5.", "1/2").correct


@pytest.mark.parametrize("completion", [r"\boxed{5} (6?)", r"$\boxed{5}$ [6?]", r"So we get 5 (6?)."])
def test_another_value_queried_in_parentheses_after_the_answer_is_a_hedge(completion):
    # read as 5 alone, "(6?)" offered a second value for free
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


def test_the_same_value_queried_after_the_answer_is_no_hedge():
    assert check_math(r"\boxed{5} (5?)", "5").correct


@pytest.mark.parametrize(
    "completion",
    [r"\boxed{5}. Not sure, could be 6.", r"\boxed{5}. I'm not sure; maybe 6.", r"\boxed{5}. Unsure, it might be 6.",
     r"\boxed{5}. Not sure, maybe 6.", r"The answer is 5. I am not certain, but perhaps 6."],
)
def test_another_value_after_an_avowed_doubt_is_a_hedge(completion):
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [r"\boxed{5}. Not sure, could be 5.", r"\boxed{5}. Not sure, maybe it is 5.", r"\boxed{5}. Not sure this is the neatest way."])
def test_a_doubt_that_offers_no_other_value_is_no_hedge(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize(
    "completion",
    ["\\boxed{5}\n\nOn the other hand, 6.", r"\boxed{5}. On the other hand, it could be 6.", r"The answer is 5. On the other hand, 6."],
)
def test_another_value_on_the_other_hand_is_a_hedge(completion):
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion",
    ["\\boxed{5}\n\nOn the other hand, the method generalises.", "\\boxed{5}\n\nOn the other hand, 5.",
     r"\boxed{5}. On the other hand, 12 is too big."],
)
def test_on_the_other_hand_without_another_value_is_no_hedge(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize(
    "completion",
    [
        "\\boxed{5}\n\nAlternatively, if counting differently, 6.",
        r"\boxed{5}. Maybe, with repetition allowed, we get 6.",
        r"\boxed{5}. Alternatively, if the ends count, the answer is $6$.",
        r"So the answer is 5. Alternatively, if counting differently, 6.",
    ],
)
def test_another_value_after_a_condition_opened_by_alternatively_is_a_hedge(completion):
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [r"\boxed{5} (alternatively, if n is even, 6)", r"\boxed{5} (maybe, if n is even, 6)."])
def test_a_conditioned_alternative_in_parentheses_reads_as_the_two_values(completion):
    # the closing parenthesis was dropped with the condition and the opening one kept: "5 ( or 6" parsed as
    # nothing, so the hedge did not match the list "5, 6" it names, as the same words without parentheses do
    assert extract_answer(completion) == "5 or 6"
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct
    assert check_math(completion, "5, 6").correct


@pytest.mark.parametrize(
    "completion",
    [
        "\\boxed{5}\n\nAlternatively, if counting differently, we also get 5.",
        r"\boxed{5}. Alternatively, if we plug it back in, we get 10.",
        r"\boxed{5}. Alternatively, if you prefer, draw a table.",
    ],
)
def test_a_condition_after_alternatively_offering_no_other_value_is_no_hedge(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [r"\boxed{5} = 6", r"$\boxed{5} = 6$.", r"\boxed{\frac{1}{2}} = 0.6", r"\boxed{5}=6, done."])
def test_a_box_equated_to_another_value_is_a_hedge(completion):
    # two values (read as the box alone, "= 6" was a free second guess; inside a box a chain reads its last value)
    gold, other = ("1/2", "0.6") if "frac" in completion else ("5", "6")
    assert not check_math(completion, gold).correct and not check_math(completion, other).correct


@pytest.mark.parametrize(
    "completion, gold",
    [(r"\boxed{\frac{1}{2}} = 0.5", "1/2"), (r"\boxed{5} = 5.0", "5"), (r"\boxed{\frac{1}{3}} = 0.333", "1/3"),
     (r"\boxed{120} = 5!", "120"), (r"\boxed{x} = 5", "x")],
)
def test_a_box_equated_to_its_own_value_is_no_hedge(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", ["So we get 5 (resp. 6).", "We get 5 (resp. 6).", "Thus the count is 5 (versus 6).", "So we get 5 (i.e. 6)."])
def test_another_value_restated_in_brackets_after_a_prose_answer_is_a_hedge(completion):
    # "5 (" read as a product left 6 alone, while after a box "(resp. 6)" is a hedge
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion, gold", [("So we get 5 (resp. 5).", "5"), ("We get 5 (resp. 5).", "5"), ("So we get 1/2 (i.e. 0.5).", "1/2")])
def test_the_same_value_restated_in_brackets_after_a_prose_answer_is_no_hedge(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [r"\boxed{5}. 6?", r"\boxed{5}? 6?", r"\boxed{5} \text{ (6?)}", r"\boxed{5}\ (6?)"])
def test_another_value_queried_in_text_or_its_own_sentence_after_a_box_is_a_hedge(completion):
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [r"\boxed{5}. 5?", r"\boxed{5}. Is 6 prime? No.", r"\boxed{5}. Why 5? Because 2+3."])
def test_a_question_offering_no_other_value_after_a_box_is_no_hedge(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize(
    "completion",
    [r"\boxed{5}. Probably 6.", r"\boxed{5}. Likely 6.", r"\boxed{5}. It's probably 6.", r"\boxed{5} (though 6 is likely)",
     r"The answer is 5. It is probably 6.", r"So we get 5. Most likely 6."],
)
def test_another_value_said_to_be_likely_is_a_hedge(completion):
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion",
    [r"\boxed{5}. Probably 5.", r"\boxed{5}. It is most likely 5.", r"\boxed{5}. Likely correct.",
     r"\boxed{5}. Probably 2 + 3 = 5 is quicker.", r"\boxed{5} (most likely)"],
)
def test_likely_said_of_the_answer_itself_is_no_hedge(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize("completion", [r"\boxed{5} = 6 = 7", r"\boxed{5} = 5 = 6", r"\boxed{5} \to 6", r"\boxed{5} -> 6", r"\boxed{5} \Rightarrow 6"])
def test_a_box_chained_or_led_by_an_arrow_to_another_value_is_a_hedge(completion):
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [r"\boxed{5} = 5 = 5.0", r"\boxed{5} \to 5", r"\boxed{5} = 6 - 1 = 5"])
def test_a_box_chained_to_its_own_value_is_no_hedge(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize(
    "completion",
    [r"\boxed{5}. Depending on convention, 6.", r"\boxed{5}. Depending on the convention, it could be 6.",
     r"\boxed{5}. By another convention, 6.", r"So we get 5. Depending on convention, 6."],
)
def test_another_value_for_another_convention_is_a_hedge(completion):
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [r"\boxed{5}. Depending on the convention, 5.", r"\boxed{5}. Depending on convention, this may differ."])
def test_a_convention_remark_offering_no_other_value_is_no_hedge(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize(
    "completion",
    [r"\boxed{5}. I'd also accept 6.", r"\boxed{5} (6 is also fine)", r"\boxed{5} (6 also fine)", r"\boxed{5}. 6 also acceptable."],
)
def test_another_value_said_acceptable_too_is_a_hedge(completion):
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion",
    ["\\boxed{5}. I think 6 though.", "\\boxed{5}\n\nI believe it is 6.", "\\boxed{5}. I think 6 instead.",
     "The answer is 5. I think 6 though."],
)
def test_another_value_the_model_says_it_thinks_after_its_answer_is_a_hedge(completion):
    # read as 5 alone, the model's own doubt in favour of 6 was ignored (as "I think it's actually 6." is not)
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion",
    ["\\boxed{5}. I think 5 though.", "\\boxed{5}. I think 6 is too small.", "\\boxed{5}. I think that 6, 7 are wrong.",
     "\\boxed{5}. I guess 6 of them are red.", "\\boxed{5}. I think 6? No, 5."],
)
def test_i_think_of_the_same_value_or_of_a_rejected_one_keeps_the_answer(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize(
    "completion", [r"\boxed{5}. I accept 5 as final.", r"\boxed{5}. This is fine.", r"There are 3 red and 2 blue. I think 5 is the answer."]
)
def test_acceptance_of_the_answer_itself_is_no_hedge(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize(
    "completion", ["\\boxed{5}\n\nGuess 2: 6", "\\boxed{5}\n\nGuess 2: \\boxed{6}", "\\boxed{5}\n\nAlternative 2: 6."]
)
def test_a_value_labelled_as_a_second_guess_after_a_box_is_a_hedge(completion):
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion",
    [
        "\\boxed{5}\n\nAnswer: 6 (alternative)", "\\boxed{5}\n\nThe answer is 6 (other answer).",
        "\\boxed{5}\n\nAnswer: 6 [backup]", "The answer is 5.\n\nAnswer: 6 (alternative)",
    ],
)
def test_an_answer_tagged_alternative_after_an_answer_is_a_hedge(completion):
    # the tag after the value offers it as "Alternative answer: 6" does; read as 6 alone, it scored for the gold 6
    assert extract_answer(completion) == "5 or 6"
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", ["\\boxed{5}. 6 (alternative).", "\\boxed{5}\n\n6 (alternative)", "\\boxed{5}. 6 [backup]"])
def test_a_value_tagged_alternative_after_a_box_is_a_hedge(completion):
    # "6 (alternative)" after the box offers 6 as "6 is an alternative" does: read as 5 alone, it scored for the gold 5
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion, gold", [("Answer: 6 (alternative)", "6"), ("\\boxed{5}\n\nAnswer: 6 (final)", "6"),
                                              ("\\boxed{5}\n\nAnswer: 6 (second)", "6"),
                                              ("The answer is 12.\n\nFinal answer: B (the second option)", "B")])
def test_a_tag_with_no_answer_before_it_or_no_alternative_keeps_one_answer(completion, gold):
    assert check_math(completion, gold).correct


def test_a_second_guess_label_with_the_same_value_is_no_hedge():
    assert check_math("\\boxed{5}\n\nGuess 2: 5", "5").correct


@pytest.mark.parametrize(
    "completion", [r"\boxed{5}. Actually, maybe 6.", r"\boxed{5}. Actually, perhaps it is 6.", r"\boxed{5}. Actually, maybe \boxed{6}."]
)
def test_actually_maybe_another_value_is_a_hedge_as_wait_maybe_is(completion):
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion, gold", [(r"\boxed{5}. Actually, maybe 5.", "5"), (r"\boxed{5}. Actually, \boxed{6}.", "6")])
def test_actually_with_the_same_value_or_a_plain_correction_keeps_one_answer(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize(
    "completion",
    [r"\boxed{5}. Wait, maybe 5 is easier seen as 2+3.", r"\boxed{5}. Actually, maybe it is 5 after all.",
     r"\boxed{5}. Wait, maybe it is 5 after all.", r"The answer is 5. Maybe 5 is easier seen as 2+3."],
)
def test_a_revision_word_restating_the_same_value_with_prose_is_no_hedge(completion):
    assert check_math(completion, "5").correct


@pytest.mark.parametrize(
    "completion", [r"\boxed{5}. Maybe 5 or 6.", r"\boxed{5}. Wait, maybe 5 is too small; 6.", r"\boxed{5}. Maybe 5 is wrong, 6 is right."]
)
def test_the_same_value_restated_beside_another_value_is_still_a_hedge(completion):
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion",
    [r"\boxed{9}. 6 is likely too big.", r"\boxed{9}. 6 is likely too small.", r"\boxed{9}. 6 is possible too large.",
     r"\boxed{9}. 6 is also likely wrong.", r"\boxed{9}. 6 is equally likely to be wrong."],
)
def test_another_value_said_likely_too_big_or_wrong_is_rejected_not_offered(completion):
    assert check_math(completion, "9").correct


@pytest.mark.parametrize(
    "completion", [r"\boxed{9}. 6 is likely too.", r"\boxed{9}. 6 is possible too, but less so.", r"\boxed{9}. 6 is also likely."]
)
def test_another_value_said_likely_or_possible_too_is_still_a_hedge(completion):
    assert not check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "gold",
    ["Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May.\n#### 72",
     "The answer is 5 apples per box.\nThere are 72 in all.\n#### 72",
     "She pays 3 * $24 = $<<3*24=72>>72\n#### 72",
     "Thus x = 70 and then 2 more is 72.\n#### 72\n",
     "Therefore the answer is 70.\nOops, plus 2: 72.\n#### 72",
     # the solution on one line, "#### 72" at its end (read whole: its "answer is 5" or "70" taken)
     "Natalia sold 48/2 = 24 clips in May. Natalia sold 48+24 = 72 clips altogether in April and May. #### 72",
     "The answer is 5 apples per box. There are 72 in all. #### 72",
     "Therefore the answer is 70. Oops, plus 2: 72. ####72 "],
)
def test_a_gsm8k_worked_solution_gold_is_its_final_mark_line(gold):
    # as the dataset loader reads it (ponder.tasks.data._answer_text): only the value after "####"
    assert check_math(r"\boxed{72}", gold).correct
    assert not check_math(r"\boxed{70}", gold).correct and not check_math(r"\boxed{5}", gold).correct


def test_a_mark_inside_one_line_reads_as_the_gold_only_before_a_number_at_its_end():
    """A one-line gold is reduced to what follows its last "####" only where that is a number (GSM8K's "... ####
    72"); other text after one is no final mark, and the gold stays whole."""
    from ponder.verify.math import final_mark

    assert final_mark("It is 48 + 24. #### 1,000") == "1,000" and final_mark("so #### -5") == "-5"
    for gold in ("Use #### as a separator: 5", "a #### 3 #### four", "x #### 7 apples", "72 ####"):
        assert final_mark(gold) == gold


@pytest.mark.parametrize(
    "completion",
    [r"\boxed{9}. Alternatively, 6 + 3 = 9 confirms it.", r"\boxed{9}. Perhaps 3^2 = 9 is quicker.",
     r"\boxed{9}. Maybe 3 \cdot 3 = 9 is simpler.", r"The answer is 9. Alternatively, 6 + 3 = 9 confirms it."],
)
def test_a_computation_ending_in_the_answer_after_maybe_is_no_hedge(completion):
    assert check_math(completion, "9").correct


@pytest.mark.parametrize("completion", [r"\boxed{9}. Maybe 2 \cdot 3 = 6 is simpler.", r"\boxed{9}. Maybe 2 \cdot 3 is simpler.", r"\boxed{9}. Maybe 6 = 9 - 3, or 6."])
def test_a_computation_ending_in_another_value_after_maybe_is_still_a_hedge(completion):
    assert not check_math(completion, "9").correct


@pytest.mark.parametrize(
    "completion",
    [r"\boxed{9}. Maybe 6 is wrong.", r"\boxed{9}. Perhaps 6 fails.", r"\boxed{9}. Possibly 6 is not allowed.",
     r"\boxed{9}. Otherwise 6 would be too small.", r"\boxed{9}. Else 6, which fails.",
     r"\boxed{9}. Alternatively, 6 is impossible.", r"\boxed{9}. Maybe 6 is tempting, but it fails."],
)
def test_another_value_after_maybe_named_only_to_be_rejected_is_no_hedge(completion):
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion",
    [r"\boxed{9}. Maybe 6 is not wrong.", r"\boxed{9}. Maybe 6, not 9.", r"\boxed{9}. Maybe 6 is right, unless I am wrong.",
     r"\boxed{9}. Maybe 6 is the answer."],
)
def test_another_value_after_maybe_not_rejected_is_still_a_hedge(completion):
    assert not check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion",
    [r"\boxed{9}. Some might say 6, but that is wrong.", r"\boxed{9}. 6 is plausible but wrong.",
     r"\boxed{9}. Either 6 or 7 would be too small."],
)
def test_another_value_said_wrong_or_too_small_in_its_sentence_is_no_hedge(completion):
    assert check_math(completion, "9").correct


@pytest.mark.parametrize("completion", [r"\boxed{9}. 6 also works, unless I am wrong.", r"\boxed{9}. Either 6 or 7.", r"\boxed{9}. 6 is plausible."])
def test_another_value_offered_with_no_rejection_in_its_sentence_is_still_a_hedge(completion):
    assert not check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion", [r"\boxed{9}. 6? No.", r"\boxed{9}. 6? No, 6 is too small.", r"\boxed{9}. 6? No, 9.", r"\boxed{9}. 6? Not quite: 9."]
)
def test_another_value_queried_and_turned_down_at_once_is_no_hedge(completion):
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [r"\boxed{9}. 6? No, 7.", r"\boxed{9}. 6? Yes.", r"\boxed{9}. 6? No idea."])
def test_another_value_queried_and_not_turned_down_is_still_a_hedge(completion):
    assert not check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion", [r"\boxed{9}. Wait, 6? No, 9.", r"\boxed{9}. Wait, 6? No.", r"The answer is 9. Wait, 6? No, 9.", r"The answer is 9. Actually, 6? No."]
)
def test_a_revision_word_querying_another_value_turned_down_at_once_is_no_hedge(completion):
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [r"\boxed{9}. Wait, 6?", r"\boxed{9}. Wait, 6? No, 7.", r"\boxed{9}. Wait, 6. No, 9."])
def test_a_revision_word_querying_another_value_not_turned_down_is_still_a_hedge(completion):
    assert not check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [r"\boxed{9}. Or rather, 9.", r"The answer is 9, or rather 9.", r"\boxed{9}, or rather 9.0."])
def test_or_rather_with_the_same_value_is_no_hedge(completion):
    assert check_math(completion, "9").correct


@pytest.mark.parametrize("completion", [r"\boxed{9}. Or rather 6.", r"The answer is 9, or rather 6."])
def test_or_rather_with_another_value_is_still_a_hedge(completion):
    assert not check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion, gold",
    [(r"\boxed{0.5}. Maybe 0.5 is easier seen as 1/2.", "0.5"), (r"\boxed{\frac{1}{2}}. Wait, maybe 1/2 is right after all.", "1/2"),
     (r"\boxed{0.5}. 1/3? No, 1/2.", "1/2")],
)
def test_the_same_value_written_another_way_after_maybe_is_no_hedge(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize(
    "completion",
    ["So we get 9. 6 is likely too big.", "So we get 9. Actually, 6? No.", "Thus 9. Note that 6 does not work.",
     "So the total is 9; 6 would be too small.", "So we get 9. 6 is wrong.", "So we get 9. Maybe 6 is wrong.",
     "So we get 9. 6? No, 6 is too small.", "Therefore $9$. But $6$ fails.", "So x = 9. x = 6 does not work.",
     "So we get 9. 6 is too small, and 12 is too big."],
)
def test_unboxed_a_concluded_value_then_a_sentence_only_rejecting_another_reads_the_concluded_one(completion):
    # as after a box or an answer phrase: the rejected value is no answer
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct
    assert check_math(completion.replace("So we get 9", r"\boxed{9}"), "9").correct


@pytest.mark.parametrize(
    "completion", ["So we get 9. 6 also works.", "So we get 9, or 6.", "So we get 9. 6? Yes.", "So we get 9. 6 is not wrong."]
)
def test_unboxed_a_value_offered_after_a_concluded_one_is_still_no_single_answer(completion):
    assert not check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion, gold",
    [("So there are 9 pairs. 6 of them are not red.", "6"), ("So we get 9. Then 6 more.", "6"),
     ("We have 9 apples; 6 is too small a share.", "6")],
)
def test_unboxed_a_last_value_not_only_rejected_after_a_concluded_one_is_read_as_before(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize(
    "completion",
    ["So we get 9. 6 or 12 is too big.", "So we get 9. Both 6 and 12 are too big.", "So we get 9. Either 6 or 12 would be too big.",
     "So we get 9 apples (6 is too small)."],
)
def test_unboxed_values_rejected_in_turn_or_as_a_pair_after_a_concluded_one_leave_it(completion):
    # "6 or 12 is", "Both 6 and 12 are" and a rejection in parentheses were not seen as rejecting: "6 or 12", "6, 12"
    # or 6 was read, and the concluded 9 scored wrong
    assert extract_answer(completion) == "9"
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion", ["We get 9. 6 is too small.", "That gives 9. 6 would be too small.", "The total is 9. 6 is wrong.",
                   "Adding, we get 9. Note that 6 does not work."],
)
def test_unboxed_a_result_verb_before_a_sentence_only_rejecting_another_value_concludes(completion):
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion, gold",
    [("We get 9. 6 also works.", None), ("We get 9, or 6.", None), ("We get 9. Then 6 more.", "6"),
     ("We have 9 apples; 6 is too small a share.", "6"), ("We get 9 apples. Then 6 of them are not red.", "6")],
)
def test_unboxed_a_result_verb_concludes_only_before_a_rejection(completion, gold):
    # a hedge stays no single answer; a value not only rejected is read as before
    assert check_math(completion, gold).correct if gold else not check_math(completion, "9").correct


@pytest.mark.parametrize(
    "completion", ["So we get 9 apples. 6 apples is too few.", "So we get 9 apples. 6 is too few.",
                   "So we get 9. 6 apples would be too few.", "Thus 9 cm. Note that 6 cm does not work."],
)
def test_unboxed_a_unit_word_does_not_hide_a_sentence_only_rejecting_another_value(completion):
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion, gold",
    [("So there are 9 pairs. 6 of them are not red.", "6"), ("So we get 9 apples. 6 apples also work.", None),
     ("So we get 9 apples. Then 6 apples more.", "6")],
)
def test_unboxed_a_unit_word_keeps_a_value_not_only_rejected(completion, gold):
    assert check_math(completion, gold).correct if gold else not check_math(completion, "9").correct


@pytest.mark.parametrize(
    "completion", ["So we get 9. (6 is too small.)", "So we get 9. (6 is too small).", "Thus 9.\n(Note: 6 does not work.)"],
)
def test_unboxed_a_sentence_only_rejecting_another_value_in_parentheses_keeps_the_concluded_one(completion):
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", ["So we get 9. (6 also works.)", "So we get 9. (Or 6.)"])
def test_unboxed_a_value_offered_in_parentheses_after_a_concluded_one_is_still_no_single_answer(completion):
    assert not check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion", ["So $x = 9$. $x = 6$ fails.", "So $x=9$.\n\n$x=6$ does not work.",
                   "So $x = 9$. $x = 6$ is too small, and $x = 12$ is too big."],
)
def test_unboxed_a_name_in_the_rejected_value_math_span_keeps_the_concluded_one(completion):
    # as "So x = 9. x = 6 fails." in prose
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", ["So $x = 9$. $x = 6$ also works.", "So $x = 9$. $x = 6$ is not wrong."])
def test_unboxed_a_named_value_offered_after_a_concluded_one_is_still_no_single_answer(completion):
    assert not check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion", ["So we get 9. 6 and 12 are too big.", "So we get 9. 6, 12 and 15 are too big.",
                   "So we get 9. $6$ and $12$ would be too big.", "So we get 9. 6 and 12 do not work.",
                   "So we get 9. 3 is too small, and 6 and 12 are too big."],
)
def test_unboxed_a_sentence_only_rejecting_a_list_of_values_keeps_the_concluded_one(completion):
    assert check_math(completion, "9").correct
    assert not any(check_math(completion, g).correct for g in ("6", "12", "[6, 12]"))


@pytest.mark.parametrize(
    "completion, gold",
    [("So we get 9. 6 and 12 also work.", None), ("So we get 9. 6 and 9 are too big.", None),
     ("So there are 9 pairs. 6 of them are not red.", "6"), ("So we get 9. 3 is too small, and 12 would be too big.", "9")],
)
def test_unboxed_a_list_after_a_concluded_value_is_read_as_before(completion, gold):
    assert check_math(completion, gold).correct if gold else not check_math(completion, "9").correct


@pytest.mark.parametrize(
    "completion",
    # the first is the shipped tiny model's own sample (arith/word prompt, seed 2-4 sweep)
    [" The sum of two even numbers is - 1.", "So we get - 1.", "We get x = - 1.", "The result is - 1 apples."],
)
def test_unphrased_a_minus_set_apart_by_a_space_is_the_values_sign(completion):
    # the answer phrase already read "The answer is - 1." as -1; the unphrased path dropped the sign
    assert check_math(completion, "-1").correct
    assert not check_math(completion, "1").correct


@pytest.mark.parametrize("completion, gold", [("So we get n - 1.", "-1"), ("Steps:\n- 1", "-1"), ("3 - 4 = - 1.", "1")])
def test_unphrased_a_binary_minus_or_a_bullet_is_no_sign(completion, gold):
    assert not check_math(completion, gold).correct


@pytest.mark.parametrize(
    "completion, gold",
    [("The answer is 31}.", "31"), ("The answer is $31}$.", "31"), ("Final answer: \\frac{1}{2}}", "1/2"),
     ("The answer is \\{1, 2\\}}.", "\\{1, 2\\}")],
)
def test_a_stray_close_brace_after_a_phrase_answer_is_no_part_of_it(completion, gold):
    # read "31}", the right 31 parsed as nothing and scored wrong (after a box, "\boxed{5}}", the brace was already ignored)
    assert check_math(completion, gold).correct


def test_braces_that_close_a_group_or_an_escaped_set_stay():
    assert extract_answer("The answer is \\{1, 2\\}.") == "\\{1, 2\\}"
    assert extract_answer("The answer is {31}.") == "{31}"


@pytest.mark.parametrize(
    "completion, gold",
    [("2 + 3 = 5. 5 + 1 = 6.", "6"), ("48/2 = 24. 48 + 24 = 72", "72"), ("2 + 3 = 5; 5 + 1 = 6.", "6")],
)
def test_a_one_line_chain_of_computations_reads_its_last_value_as_on_several_lines(completion, gold):
    # read whole, the steps were no value and the right answer scored wrong; one step a line read the last value
    assert check_math(completion, gold).correct
    assert check_math(completion.replace(". ", ".\n").replace("; ", ";\n"), gold).correct


def test_one_line_of_named_values_is_still_read_whole():
    assert extract_answer("x = 5. y = 6.") == "x = 5. y = 6."
    assert check_math("2 + 3 = 5.", "5").correct


@pytest.mark.parametrize("completion, value, part", [("So the ratio is 3:4.", "3/4", "4"), ("The meeting ends at 12:30.", "12:30", "30")])
def test_a_ratio_or_time_in_prose_is_one_value(completion, value, part):
    # the number after the colon was read alone: "3:4" scored for the gold 4 and wrong for 3/4
    assert check_math(completion, value).correct
    assert not check_math(completion, part).correct


@pytest.mark.parametrize(
    "completion, gold",
    [("The answer is 3:45 pm.", "3:45"), ("The answer is 5 pm.", "5"), ("The answer is \\boxed{5 pm}.", "5"),
     ("The answer is 3:45 pm", "3:45 \\text{ pm}"), ("The answer is 9:30 AM.", "9:30")],
)
def test_a_clock_time_with_am_or_pm_is_the_time(completion, gold):
    # "pm" after the time was read as the product p*m: the right 3:45 scored 0
    assert check_math(completion, gold).correct
    assert not check_math(completion.replace("pm", "am").replace("AM", "PM"), "3:45 \\text{ pm}").correct
    assert not check_math("The answer is 3:45 pm.", "3:45 \\text{ am}").correct  # am and pm differ


@pytest.mark.parametrize(
    "completion, gold, correct",
    [("\\boxed{2am}", "2ma", True), ("\\boxed{2am}", "2", False), ("\\boxed{3pm}", "3", False),
     ("\\boxed{3pm + 2}", "5", False), ("\\boxed{3 pm + 2}", "5", False), ("\\boxed{3pm + 2}", "2 + 3mp", True),
     ("The answer is 3:45pm.", "3:45", True), ("\\boxed{4p.m.}", "4", True), ("The answer is 5 pm tomorrow.", "5", True)],
)
def test_am_or_pm_glued_to_a_number_in_algebra_stays_a_product(completion, gold, correct):
    # "2am" (2*a*m) was read as 2 o'clock: it matched the gold 2 and missed the equal 2ma, and "3pm + 2" matched 5;
    # a clock's am/pm has a space before it ("5 pm"), follows h:mm ("3:45pm") or has dots ("4p.m."), and ends the value
    assert check_math(completion, gold).correct is correct
    assert not check_math("\\boxed{3}", "3pm").correct  # a gold 3pm is no 3 either


@pytest.mark.parametrize(
    "completion", ["(Answer: 5)", "\\boxed{5}\n\n(Answer: 5)", "So we get 5 (answer: 5).", "(The final answer is 5)", "(**Answer:** 5)"]
)
def test_an_answer_phrase_in_parentheses_ends_at_its_close(completion):
    # its closing parenthesis was read with the value: "5)" parsed as nothing and the right 5 scored wrong
    assert check_math(completion, "5").correct


def test_a_parenthesized_answer_phrase_keeps_an_interval_and_a_hedge_after_it():
    assert check_math("(Answer: [1, 2))", "[1, 2)").correct
    assert not check_math("(Answer: 5) or 6", "5").correct and not check_math("(Answer: 5) or 6", "6").correct


@pytest.mark.parametrize(
    "completion", ["So we get 9 (apples).", "Thus she has 9 (counting both).", "So we get 9 (6 is too small).", "So we get 9 (nine)."]
)
def test_unboxed_a_value_before_words_in_parentheses_is_no_factor(completion):
    # "9 (" was read as a product with what the parenthesis holds: no answer, or the rejected 6 read alone
    assert extract_answer(completion) == "9"
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", ["So we get 3 (x + 1).", "So we get 3(ab).", "So we get 2 (sin x)"])
def test_unboxed_a_value_before_a_parenthesized_factor_is_still_an_operand(completion):
    assert extract_answer(completion) is None


@pytest.mark.parametrize(
    "completion",
    ["The answer is 12 (3 boxes of 4).", "The answer is 12 (3 apples).", "The answer is 12 (3 boxes, 4 each).",
     "The answer is 12 (4 boxes of 3 each).", "Final answer: $12$ (3 boxes of 4)."],
)
def test_an_answer_phrase_value_before_numbers_and_words_in_parentheses_is_that_value(completion):
    # "12 (3 boxes of 4)" was read whole, unparseable (or as the 3 inside): the right 12 scored wrong
    assert extract_answer(completion) == "12"
    assert check_math(completion, "12").correct and not check_math(completion, "4").correct


@pytest.mark.parametrize(
    "completion",
    ["The answer is 12 (or 13).", "The answer is 12 (maybe 13).", "The answer is 12 (13?).", "The answer is 12 (i.e., 13).",
     "The answer is 12 (resp. 13).", "The answer is 12 (alternatively 13).", "The answer is 12 (13 is also fine).",
     "The answer is 12 (13 also works)."],
)
def test_an_answer_phrase_value_with_another_offered_in_parentheses_scores_for_neither(completion):
    assert not check_math(completion, "12").correct and not check_math(completion, "13").correct


@pytest.mark.parametrize(
    "completion",
    ["So the total is 12 (3 boxes of 4).", "So the total is 12 (3 boxes, 4 each).", "Thus she has 12 (4 from each of 3 friends).",
     "So we get $12$ (3 rows of 4).", "Therefore 12 (3 boxes of 4)"],
)
def test_unboxed_numbers_in_words_in_parentheses_after_the_concluded_value_are_no_candidates(completion):
    # the last number inside the parenthesis (4) was read as the answer: it scored for 4, the concluded 12 scored 0
    assert extract_answer(completion) == "12"
    assert check_math(completion, "12").correct and not check_math(completion, "4").correct


@pytest.mark.parametrize(
    "completion",
    ["So the total is 12 (or 13).", "So the total is 12 (maybe 13).", "So the total is 12 (13?).", "So the total is 12 (i.e., 13).",
     "So the total is 12 (resp. 13).", "So the total is 12 (alternatively 13).", "So the total is 12 (13 is also fine).",
     "So the total is 12 (13 also works).", "So the total is 12 (3 boxes of 4, or maybe 13).",
     "So the total is 12 (3 boxes of 4; 13 also works)."],
)
def test_unboxed_a_value_offered_in_parentheses_after_the_concluded_value_is_still_a_hedge(completion):
    assert not check_math(completion, "12").correct and not check_math(completion, "13").correct


def test_unboxed_numbers_in_parentheses_after_a_step_value_are_still_read():
    # no conclusion before the parenthesis: the value it works out may be the answer
    assert extract_answer("Each box holds 4 (so 3 boxes hold 12).") == "12"


@pytest.mark.parametrize(
    "completion", ["So the total is 3 x 4 = 12.", "So the total is 3 X 4 = 12.", "Thus we need 2 x 6 = 12 tiles."]
)
def test_unboxed_numbers_beside_a_spaced_x_are_operands(completion):
    # "3 x 4" in prose is a product (or a size), the 4 no value of its own: "4, 12" was read, the right 12 scored 0
    assert extract_answer(completion) == "12"
    assert check_math(completion, "12").correct and not check_math(completion, "4").correct


@pytest.mark.parametrize("completion", ["So the dimensions are 3 x 4.", "So the total is 12 (3 x 4)."])
def test_unboxed_the_last_factor_of_a_spaced_x_product_is_no_answer(completion):
    # read as the 4 alone, it scored for the gold 4
    assert not check_math(completion, "4").correct


@pytest.mark.parametrize(
    "completion",
    ["So the total is 12 apples (3 boxes of 4).", "So she has 12 cookies (4 from each of 3 friends).",
     "So the total is $12$ \\text{ apples} (3 boxes of 4)."],
)
def test_unboxed_a_unit_between_the_concluded_value_and_its_parenthesis_of_words(completion):
    # the 4 inside was read as the answer, as with no unit before the parenthesis
    assert extract_answer(completion) == "12"
    assert check_math(completion, "12").correct and not check_math(completion, "4").correct


@pytest.mark.parametrize("completion", [
    "So the total is 12 or (maybe 13).", "So the total is 12, or (3 boxes of 4) 13.", "So the total is 12 apples (13 if we count the spare).",
])
def test_unboxed_a_word_before_a_parenthesis_that_offers_another_value_keeps_the_hedge(completion):
    assert not check_math(completion, "12").correct


@pytest.mark.parametrize(
    "completion", ["So it takes 5 minutes or 6.", "So it takes 5 min, or 6.", "So the total is $5$ apples or $6$."]
)
def test_unboxed_a_value_with_its_unit_or_another_bare_value_is_a_hedge(completion):
    # the bare 6 after "5 minutes or" was read alone and scored (as "5 minutes or 6 minutes" and "5 or 6" do not)
    assert not check_math(completion, "5").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize(
    "completion",
    ["\\boxed{12} (apples) or 13.", "\\boxed{12} (3 boxes of 4), or maybe 13.", "So the total is 12 (apples) or 13.",
     "So the total is 12 (3 boxes of 4) or 13."],
)
def test_a_value_offered_after_a_parenthesis_of_words_after_the_answer_is_a_hedge(completion):
    # the aside hid the "or": the box's 12 scored alone, or in prose the 13 did
    assert not check_math(completion, "12").correct and not check_math(completion, "13").correct


@pytest.mark.parametrize("completion", ["\\boxed{12} (= 13)", "So the total is 12 (= 13).", "So the total is $12$ (= 13)."])
def test_another_value_equated_in_parentheses_after_the_answer_is_a_hedge(completion):
    # "\boxed{12} = 13" offers two values; in parentheses 12 scored alone, or in prose 13 did
    assert not check_math(completion, "12").correct and not check_math(completion, "13").correct


@pytest.mark.parametrize("completion", ["So the total is 12 (= 3 x 4).", "So we get 12 (= 4 + 8).", "So we get 12 (=4+8)."])
def test_unboxed_a_value_restated_as_its_computation_in_parentheses_is_that_value(completion):
    # "12 (" was read as a product with "= 4 + 8": no answer, the right 12 scored 0
    assert extract_answer(completion) == "12"
    assert check_math(completion, "12").correct and not check_math(completion, "4").correct


@pytest.mark.parametrize("completion", ["The answer is 12 (= 3 x 4).", "The answer is 12 (= 4 + 8).", "Final answer: $12$ (= 3 \\cdot 4)"])
def test_an_answer_phrase_value_restated_as_its_computation_in_parentheses_is_that_value(completion):
    # "12 (= 4 + 8)" was read whole, unparseable: the right 12 scored wrong
    assert check_math(completion, "12").correct and not check_math(completion, "4").correct


def test_an_answer_phrase_value_equated_to_another_in_parentheses_is_a_hedge():
    assert not check_math("The answer is 12 (= 13).", "12").correct and not check_math("The answer is 12 (= 13).", "13").correct
    assert extract_answer("The answer is x (= 5).") != "x"  # a name equated to its value is no value alone


@pytest.mark.parametrize(("completion", "value"), [("So we get 60 (= 1 hour).", "60"), ("So the total is 12 (= 3 boxes of 4).", "12")])
def test_unboxed_numbers_equated_in_words_after_the_concluded_value_are_no_candidates(completion, value):
    # the number inside was read alone (1, 4), the concluded value scored 0
    assert extract_answer(completion) == value and check_math(completion, value).correct


@pytest.mark.parametrize("completion", ["The answer is 3 x 4 = 12.", "Final answer: 2 X 3 X 2 = 12", "\\boxed{3 x 4 = 12}"])
def test_a_spaced_x_product_equated_to_the_answer_is_a_product(completion):
    # the x was read as a variable: an equation in x, the right 12 scored 0
    assert check_math(completion, "12").correct and not check_math(completion, "13").correct


def test_a_spaced_x_size_alone_and_a_wrong_product_chain_are_unchanged():
    assert extract_answer("The answer is 3 x 4.") == "3 x 4" and check_math("The answer is 3 x 4.", "3 x 4").correct
    assert not check_math("The answer is 3 x 4 = 13.", "12").correct  # the chain answers its last value only
    assert not check_math("\\boxed{12}", "2 x 6").correct  # a gold size is not rewritten as a product


@pytest.mark.parametrize(
    "completion",
    ["So the total is 12 (in cm).", "So the total is 12 (cm).", "So she pays 12 (to the nearest dollar).",
     "So we get 12 (to 2 decimal places).", "So the length is 12 (in base 10)."],
)
def test_unboxed_a_value_before_short_words_in_parentheses_is_no_factor(completion):
    # a two-letter first word ("in", "to", "cm") read as factors: no answer, or the 2 or 10 inside read alone
    assert extract_answer(completion) == "12"
    assert check_math(completion, "12").correct and not check_math(completion, "2").correct


@pytest.mark.parametrize("completion", ["So we get 3 (ab).", "So we get 2 (ln x).", "So we get 2 (pi 3)."])
def test_unboxed_a_value_before_a_parenthesized_two_letter_factor_is_still_an_operand(completion):
    assert not check_math(completion, completion.split()[3]).correct


@pytest.mark.parametrize(
    ("completion", "gold"),
    [("3 \\times 4 = 12. 12 / 2 = 6.", "6"), ("3 \\cdot 4 = 12. 12 - 2 = 10.", "10"), ("$3 \\times 4 = 12$. $12 \\div 2 = 6$.", "6")],
)
def test_a_one_line_chain_with_latex_operators_reads_its_last_value(completion, gold):
    # "3 \times 4 = 12" was no computation (only ASCII operators were): the line was read whole, unparseable
    assert check_math(completion, gold).correct and not check_math(completion, "12").correct


@pytest.mark.parametrize(
    ("completion", "value"),
    [("\\boxed{3} \\times 10^8 \\text{ m/s}", "3 \\times 10^8"), ("\\boxed{5}\\times 10^3 \\text{ meters}.", "5000"),
     ("\\boxed{5}\\sqrt{2} \\text{ cm}", "5\\sqrt{2}")],
)
def test_a_factor_after_a_box_followed_by_its_unit_still_multiplies_the_number(completion, value):
    # the unit after the factor made it "go on": the box's number was read alone, scored for the gold 3 or 5
    number = completion[7]
    assert check_math(completion, value).correct and not check_math(completion, number).correct


@pytest.mark.parametrize(
    "completion",
    ["So the total is 12 (i.e., 3 boxes of 4).", "So the total is 12 (e.g. 5 apples, 7 pears).", "\\boxed{12} (i.e., 3 boxes of 4) or 13"],
)
def test_words_in_parentheses_opened_by_ie_or_eg_say_more_of_the_value(completion):
    # "(i.e." was no parenthesis of words: the 4 or 7 inside was read alone, or the "or 13" after it was missed
    hedged = completion.endswith("13")
    assert check_math(completion, "12").correct is not hedged
    assert not check_math(completion, "4").correct and not check_math(completion, "7").correct and not check_math(completion, "13").correct


@pytest.mark.parametrize("completion", ["The answer is 12 (3 x 4).", "The answer is 12 (3 \\times 4).", "Answer: 12 (4 + 8)", "The answer is 12 (24 / 2)."])
def test_an_answer_phrase_value_followed_by_its_computation_in_parentheses_is_that_value(completion):
    # read whole, "12 (3 \times 4)" was the product 144 (or unparseable): the right 12 scored 0
    assert extract_answer(completion) == "12"
    assert check_math(completion, "12").correct and not check_math(completion, "144").correct


@pytest.mark.parametrize("completion", ["The answer is 12 (3 \\times 5).", "The answer is 2(1 + 1).", "\\boxed{2 (1 + 1)}"])
def test_a_parenthesized_computation_of_another_value_or_unspaced_stays_a_product(completion):
    assert extract_answer(completion) not in ("12", "2")


@pytest.mark.parametrize("completion", ["So the total is 12 (3 x 4).", "So the total is 12 (3 \\times 4).", "So she has 12 apples (4 + 8)."])
def test_unboxed_a_concluded_value_followed_by_its_computation_in_parentheses_is_that_value(completion):
    # "12 (" was a product with the parenthesis: no answer, the right 12 scored 0
    assert extract_answer(completion) == "12" and check_math(completion, "12").correct


@pytest.mark.parametrize("completion", ["So the total is 12 (3 x 4) or 13.", "\\boxed{12} (3 \\times 4) or 13"])
def test_a_value_offered_after_a_parenthesized_computation_is_a_hedge(completion):
    assert not check_math(completion, "12").correct and not check_math(completion, "13").correct


@pytest.mark.parametrize("fmt", ["Answer: 6 {}", "\\boxed{{6}} {}", "The answer is 6 {}", "\\boxed{{6}}. {}"])
@pytest.mark.parametrize("remark", ["(no, 7)", "(rather 7)", "(sorry, 7)", "(sorry, it's 7)", "(no: 7)", "(nope, 7)", "(nah, 7)", "(make that 7)"])
def test_a_remark_after_the_answer_revising_it_with_no_sorry_or_rather_is_a_hedge(fmt, remark):
    # "(no, 7)" read as an aside: the revised 6 scored alone, as "(actually 7)" does not
    completion = fmt.format(remark)
    assert not check_math(completion, "6").correct and not check_math(completion, "7").correct


@pytest.mark.parametrize("completion", [
    "Answer: 6 (no, 6)", "\\boxed{6} (rather than 7)", "\\boxed{6}. No 7s are used.", "\\boxed{6}\n\nNo. 7", "Answer: 6 (no 7s)",
    "\\boxed{6} (sorry, 7 was a typo; 6 is right)", "Answer: 6 (make that 6.0)", "\\boxed{6}. Nope, 7 fails.",
])
def test_a_no_sorry_or_rather_remark_without_another_value_keeps_the_answer(completion):
    assert check_math(completion, "6").correct


@pytest.mark.parametrize("fmt", ["Answer: 6 {}", "\\boxed{{6}} {}", "The answer is 6 {}", "\\boxed{{6}}{}"])
@pytest.mark.parametrize("remark", ["(so 7)", "(which is 7)", ", which is 7.", ", so 7."])
def test_a_restatement_with_so_or_which_is_of_another_value_is_a_hedge(fmt, remark):
    # as "(i.e., 7)": read as an aside, the 6 scored alone though the line restates it as 7
    completion = fmt.format(remark)
    assert not check_math(completion, "6").correct and not check_math(completion, "7").correct


@pytest.mark.parametrize("completion, gold", [
    ("Answer: 6 (so 6 in total)", "6"), ("\\boxed{6} (which is 3 + 3)", "6"), ("Answer: 6 (so 6)", "6"),
    ("\\boxed{\\frac{1}{2}} (which is 0.5)", "1/2"), ("\\boxed{1/3} (so about 0.333)", "1/3"), ("\\boxed{1/3}, which is 0.33.", "1/3"),
    ("Answer: 25% (which is 0.25)", "25%"), ("\\boxed{6} (so 6.0)", "6"), ("\\boxed{2} (which is 10 in binary)", "2"),
])
def test_a_restatement_with_so_or_which_is_of_the_same_value_keeps_the_answer(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", ["\\boxed{6} (about 7.5)", "\\boxed{6} (approximately 7.5).", "\\boxed{6}, roughly 7.5", "\\boxed{6} (around 7.5)"])
def test_a_far_approximation_in_parentheses_or_after_a_comma_after_a_box_is_a_hedge(completion):
    # only a bare "about 7.5" after the box was seen, as after "Answer: 6 (about 7.5)": the box read alone scored
    assert not check_math(completion, "6").correct and not check_math(completion, "7.5").correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{\\frac{1}{3}} (about 0.33)", "1/3"), ("\\boxed{6} (roughly 6.0)", "6"), ("\\boxed{2\\sqrt{2}}, approximately 2.83", "2\\sqrt{2}"),
    ("\\boxed{1024} (about 1000.)", "1024"),
])
def test_a_rounding_in_parentheses_or_after_a_comma_after_a_box_keeps_the_answer(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{90} (about 1.5 hours)", "90"), ("\\boxed{90}, roughly 1.5 hours.", "90"), ("Answer: 90 (about 1.5 hours)", "90"),
    ("\\boxed{1500000} (about 1.5 million)", "1500000"), ("\\boxed{150}, approximately 4.9 \\text{ feet}", "150"),
    ("\\boxed{90} or about 1.5 hours", "90"),
])
def test_an_approximation_in_another_unit_after_the_answer_is_a_conversion_not_a_hedge(completion, gold):
    # "(about 1.5 hours)" was read as a far approximation of 90, a second answer: the right 90 scored 0
    assert check_math(completion, gold).correct
    assert not check_math("\\boxed{90} (about 1.5 or 2)", "90").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{3} (roughly 4.5 instead)", "\\boxed{3} \\approx 4.5 is also possible", "\\boxed{3}, roughly 4.5 though",
    "Answer: 3 (about 4.5 instead)", "\\boxed{3} (roughly 4.5 in total)", "\\boxed{3} (about 4.5 apples)",
    "\\boxed{3} \\approx 4.5 \\text{ instead}",
])
def test_a_far_approximation_followed_by_a_word_that_is_no_unit_stays_a_hedge(completion):
    # any two letters after the approximate value made it a "conversion": "(roughly 4.5 instead)" offered 4.5 and 3
    # scored
    assert not check_math(completion, "3").correct


@pytest.mark.parametrize("completion", ["17 ✓\n18 ✗", "Try 17: ✓\nTry 18: ✗", "Checking: 17 ✔, 18 ✘", "We try each.\n$17$ ✓\n$18$ ✗", "17 ✅\n18 ❌\n19 ❌"])
def test_values_marked_wrong_after_one_marked_right_leave_the_checked_one_as_the_answer(completion):
    # read last, the value marked wrong scored and the checked one did not
    assert check_math(completion, "17").correct
    assert not check_math(completion, "18").correct and not check_math(completion, "19").correct


@pytest.mark.parametrize("completion, gold", [("17 ✓\n18 ✗\n\nSo the answer is 18.", "18"), ("17 ✗\n18 ✓", "18"), ("16 ✓\n17 ✓", "17")])
def test_check_marks_elsewhere_leave_the_answer_as_read(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "Answer: 6 (or so)", "Answer: 6 or so", "The answer is $6$ or so.", "The answer is 6 or so hours.", "\\boxed{6} or so",
    "\\boxed{6}, roughly.", "\\boxed{6} (approx.)", "\\boxed{6} \\text{ or so}", "The answer is 6 (roughly).",
    "\\boxed{6} (i.e., 6 or so)", "So we get 6, roughly.", "So we get 6 or so.", "\\boxed{6 \\text{ ish}}", "\\boxed{6?}",
    "\\boxed{6\\text{-ish}}", "\\boxed{6 \\text{ or thereabouts}}", "Final answer: 6, give or take.",
])
def test_an_answer_said_to_be_rough_is_no_committed_value(completion):
    # "6 or so" (its "or so" a reason), "\boxed{6} or so", "\boxed{6 \text{ ish}}" and "\boxed{6?}" scored 6 while "about 6"
    # and "\boxed{6 \text{ approximately}}" are refused: a rough or queried answer is no answer, wherever it is said
    assert not check_math(completion, "6").correct
    for kept in ("\\boxed{6}.", "The answer is 6.", "\\boxed{6}?", "\\boxed{6}. About 6 apples were left.",
                 "\\boxed{6} about the origin.", "\\boxed{\\frac{1}{3}}, or about 0.333.", "\\boxed{6} (i.e., 6 apples)"):
        assert check_math(kept, "6" if "frac" not in kept else "1/3").correct, kept


@pytest.mark.parametrize("completion", ["The answer is 6 or so, or 7.", "Answer: 6 (or so) or 7"])
def test_a_value_offered_after_or_so_is_still_a_hedge(completion):
    assert not check_math(completion, "6").correct and not check_math(completion, "7").correct


@pytest.mark.parametrize("fmt", ["Answer: 6 {}", "\\boxed{{6}} {}", "The answer is 6 {}."])
@pytest.mark.parametrize("remark", [
    "(that's 7)", "(namely 7)", "(more precisely 6.5)", "(exactly 7)", "(hence 7)", "(thus 7)", "(therefore 7)",
    "(giving 7)", "(meaning 7)", "(which gives 7)", "(which equals 7)", "(equals 7)", "(corrected: 7)", "(revised: 7)",
])
def test_a_restating_or_correcting_remark_with_another_value_is_a_hedge(fmt, remark):
    # as "(i.e., 7)": the parenthesis was read as an aside and the 6 scored alone
    completion = fmt.format(remark)
    assert not check_math(completion, "6").correct and not check_math(completion, "7").correct


@pytest.mark.parametrize("completion, gold", [
    ("Answer: 6 (exactly 6)", "6"), ("\\boxed{6} (that's 6.0)", "6"), ("\\boxed{0.5} (exactly 1/2)", "1/2"),
    ("Answer: 6 (giving 12 in total)", "6"), ("\\boxed{6} (namely 3 + 3)", "6"), ("The answer is 6 boxes (giving 12).", "6"),
    ("\\boxed{1/3} (more precisely 0.3333)", "1/3"), ("Answer: 6 (hence 6 groups)", "6"),
])
def test_a_restating_remark_with_the_same_value_keeps_the_answer(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{6} (namely 1, 2 and 3)", "6"), ("\\boxed{3} divisors, namely 1, 3, and 9.", "3"), ("Answer: 3 (namely 1, 3, 9)", "3"),
    ("\\boxed{6}, so 7, 8, 9 fail.", "6"), ("\\boxed{6}. Hence 1, 2, 3.", "6"), ("\\boxed{6} (i.e., 1, 2, 3)", "6"),
    ("\\boxed{6}. No, 7, 8 and 9 are too large.", "6"), ("\\boxed{6}. Sorry, 7, 8 were wrong.", "6"),
])
def test_a_list_after_a_restating_or_revising_word_is_no_second_answer(completion, gold):
    # its first number was read as the answer restated or revised ("6 or 1"): the right answer scored 0
    assert check_math(completion, gold).correct
    assert not check_math("\\boxed{5} (resp. 6, 7)", "5").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{6}. No wait, 7, 8.", "\\boxed{6}. Actually, 7, 8.", "\\boxed{6}. Actually 7, 8 and 9.", "\\boxed{6} (no, 7, 8)",
    "\\boxed{6}. Sorry, 7, 8.",
])
def test_a_revision_to_a_list_that_ends_the_sentence_still_revises_the_answer(completion):
    # a list after the revised value was read as no revision at all: the revised-away 6 scored alone
    assert not check_math(completion, "6").correct
    assert check_math("\\boxed{6}. No, 7, 8 and 9 are too large.", "6").correct


@pytest.mark.parametrize("completion", [
    "Answer: 10, giving 5 each.", "Answer: 10, hence 5 each.", "Answer: 10, thus 5 each.", "The answer is 10, therefore 5 each.",
    "Answer: 10, meaning each gets 5.",
])
def test_an_answer_phrase_value_followed_by_a_consequence_is_that_value(completion):
    # read whole ("10, giving 5 each") or its last value (5), the right 10 scored 0 while "\\boxed{10}, giving 5 each." scores
    assert extract_answer(completion) == "10" and check_math(completion, "10").correct


@pytest.mark.parametrize("completion", ["Answer: 6 (alt. 7)", "The answer is 6 (alt. 7).", "\\boxed{6} (alt. 7)"])
def test_an_alternative_after_alt_period_is_a_hedge_after_an_answer_phrase_too(completion):
    # the period of "alt." ended the phrase's sentence: the 7 went unseen and 6 scored alone (after a box it is a hedge)
    assert not check_math(completion, "6").correct and not check_math(completion, "7").correct


@pytest.mark.parametrize("completion", ["Answer: 6 (6 = 2 x 3)", "The answer is 6 (6 = 2 x 3).", "The answer is $6$ (6 = 3 + 3)."])
def test_an_answer_phrase_value_followed_by_its_own_equation_in_parentheses_is_that_value(completion):
    # read whole, "6 (6 = 2 x 3)" was unparseable and the right 6 scored 0 ("\boxed{6} (6 = 2 x 3)" scored)
    assert extract_answer(completion) == "6" and check_math(completion, "6").correct


@pytest.mark.parametrize("completion", ["Answer: 6 (3 + 3 = 6)", "The answer is 6 (2 x 3 = 6).", "Answer: 6 (12 / 2 = 6)", "Answer: 6 (3+3=6)"])
def test_an_answer_phrase_value_followed_by_a_sum_equal_to_it_in_parentheses_is_that_value(completion):
    # read whole, "6 (3 + 3 = 6)" was unparseable and the right 6 scored 0 ("\\boxed{6} (3 + 3 = 6)" scored)
    assert extract_answer(completion) == "6" and check_math(completion, "6").correct
    assert not check_math("Answer: 6 (3 + 3 = 7)", "6").correct


@pytest.mark.parametrize("completion", ["Answer: 6 (7 = 2 x 3.5)", "Answer: 6 (6 = 2 x 3) or 7"])
def test_a_parenthesized_equation_of_another_value_or_a_hedge_after_it_is_no_answer(completion):
    assert not check_math(completion, "6").correct and not check_math(completion, "7").correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{720} (i.e., 6!)", "720"), ("The answer is \\boxed{120}, i.e. 5!", "120"), ("\\boxed{6} (which is 3!)", "6"),
    ("\\boxed{120}, namely 5!", "120"), ("Answer: 720 (i.e. $6!$)", "720"), ("The answer is 720, i.e. 6!", "720"),
    ("The answer is 720, which is 6! Done.", "720"), ("\\boxed{720} (resp. 6!)", "720"), ("\\boxed{6}. So 6!", "6"),
    ("\\boxed{720} (i.e., 6 !)", "720"),
])
def test_a_restatement_as_a_factorial_of_the_same_value_keeps_the_answer(completion, gold):
    # the "!" ended the clause and "6!" was read as 6, a second value beside 720: the right answer scored 0
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold, other", [
    ("\\boxed{720} (i.e., 5!)", "720", "120"), ("\\boxed{6} (i.e., 5!)", "6", "120"),
    ("The answer is 720, which is 5!", "720", "120"), ("\\boxed{48} (i.e., 6!!)", "48", "720"),
    ("\\boxed{6} (which is 7)", "6", "7"), ("\\boxed{720} (i.e., 5 !)", "720", "120"),
])
def test_a_restatement_as_a_factorial_of_another_value_is_a_hedge(completion, gold, other):
    assert not check_math(completion, gold).correct and not check_math(completion, other).correct


@pytest.mark.parametrize("completion, gold, other", [
    ("\\boxed{0.5} (i.e., \\frac{1}{3})", "0.5", "1/3"), ("\\boxed{8} (which is $2^4$)", "8", "16"),
    ("The answer is 1000, i.e. 10^{4}.", "1000", "10000"), ("\\boxed{10} (i.e., \\binom{5}{1})", "10", "5"),
])
def test_a_restatement_as_an_exact_form_of_another_value_is_a_hedge(completion, gold, other):
    # as "(i.e., 1/3)" after 0.5: the exact form was no plain number, so the second value went unseen
    assert not check_math(completion, gold).correct and not check_math(completion, other).correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{0.5} (which is \\frac{1}{2})", "0.5"), ("\\boxed{8} (which is 2^3)", "8"), ("\\boxed{1000} (i.e., 10^3)", "1000"),
    ("\\boxed{1024} (i.e., $2^{10}$)", "1024"), ("\\boxed{10} (i.e., \\binom{5}{2})", "10"), ("\\boxed{0.01} (i.e., 0.1^2)", "0.01"),
    ("The answer is 8, i.e. 2^3.", "8"),
])
def test_a_restatement_as_an_exact_form_of_the_same_value_keeps_the_answer(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("Answer: 720 [i.e. 720]", "720"), ("The answer is 720 [i.e., 720].", "720"), ("Answer: 0.5 [i.e. 1/2]", "1/2"),
    ("Answer: 720 [i.e. 6!]", "720"),
])
def test_an_answer_phrase_value_with_i_e_in_brackets_reads_as_in_parentheses(completion, gold):
    # "[i.e. ...]" was not a remark (its "i.e." has no two letters in a row): read whole and scored 0
    assert check_math(completion, gold).correct and check_math(completion.replace("[", "(").replace("]", ")"), gold).correct


@pytest.mark.parametrize("completion", ["Answer: 6 [i.e. 7]", "The answer is 6 [i.e., 7]."])
def test_an_answer_phrase_value_with_another_value_after_i_e_in_brackets_is_a_hedge(completion):
    assert not check_math(completion, "6").correct and not check_math(completion, "7").correct


@pytest.mark.parametrize("completion, gold", [
    ("Answer: 6! = 720", "720"), ("The answer is 5! = 120 ways.", "120"), ("Answer: 5! + 1 = 121", "121"),
    ("Answer: 6! \\cdot 2", "1440"),
])
def test_an_answer_phrase_computation_from_a_factorial_is_read_whole(completion, gold):
    # the "!" of "6! = 720" ended the sentence and the answer read as 6
    assert check_math(completion, gold).correct and not check_math(completion, "6" if "6!" in completion else "5").correct


def test_an_exclamation_after_an_answer_phrase_value_still_ends_it():
    assert check_math("Answer: 6! Great.", "6").correct and check_math("The answer is 6! We are done.", "6").correct


@pytest.mark.parametrize("completion", ["Answer: 720 = 6!", "Answer: 720 = 6! ways", "The answer is 720 = 6!. Done."])
def test_an_answer_phrase_value_equated_to_its_factorial_keeps_the_factorial(completion):
    # the "!" ended the sentence and "720 = 6" scored 0 for the gold 720
    assert check_math(completion, "720").correct and not check_math(completion, "6").correct


def test_an_exclamation_after_an_equation_to_another_value_still_ends_the_sentence():
    assert check_math("Answer: x = 5!", "5").correct and check_math("Answer: 6 = 3! Nice.", "6").correct
    assert not check_math("Answer: 720 = 5!", "720").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{6}. 7 is the answer.", "\\boxed{6}. So 7 is correct.", "\\boxed{6}. Thus 7 is the final answer.",
    "\\boxed{6}, so 7 is the answer.", "Answer: 6, so 7 is the answer.",
])
def test_a_sentence_naming_another_value_the_answer_after_it_revises_the_answer(completion):
    # "7 is the answer" after the box went unread: the revised-away 6 scored alone
    assert not check_math(completion, "6").correct
    assert check_math("\\boxed{6}. 6 is the answer.", "6").correct
    assert check_math("\\boxed{\\frac{1}{2}}. 0.5 is the answer.", "1/2").correct
    assert check_math("\\boxed{6}. Check: b = 4, so 4 is correct.", "6").correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{6} (i.e., 6) or 7", "6"), ("Answer: 6 (i.e., 6) or 7", "6"), ("\\boxed{720} (i.e., 6!) or 7", "720"),
    ("\\boxed{8} (which is 2^3) or 9", "8"),
])
def test_an_or_after_a_parenthesis_restating_the_answer_is_a_hedge(completion, gold):
    # the restating parenthesis hid the "or" after it: the hedge scored
    assert not check_math(completion, gold).correct
    assert check_math(completion.rsplit(" or ", 1)[0], gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{6} (i.e., 6, or 7)", "6"), ("\\boxed{6} (so 6, or maybe 7)", "6"), ("\\boxed{6}, i.e. 6, or 7", "6"),
    ("\\boxed{720} (i.e., 6!, or 7)", "720"),
])
def test_an_or_after_the_answer_restated_in_its_clause_is_a_hedge(completion, gold):
    # the restated answer hid the "or" after it: the hedge scored
    assert not check_math(completion, gold).correct
    assert check_math("\\boxed{6} (i.e., 6, as computed)", "6").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{6} (i.e., 6 or 7)", "\\boxed{6} (so 6 or 7)", "\\boxed{6} (namely 6 or maybe 7)",
    "\\boxed{6} (which is 6 or 7)", "\\boxed{6}, i.e. 6 or 7.", "$\\boxed{6}$ (that is, $6$ or $7$)",
])
def test_an_or_going_on_from_the_answer_restated_is_a_hedge(completion):
    # no comma after the restated 6: the restatement was not read and the "or 7" it goes on to went unseen
    assert not check_math(completion, "6").correct
    for kept in ("(i.e., 6)", "(i.e., 6 apples)", "(i.e., six)", "(i.e., 3 + 3)",
                 "(so 6 in total)", "(i.e., 6 or more)", ", so 6 or more people fail."):
        assert check_math(f"\\boxed{{6}} {kept}", "6").correct, kept


@pytest.mark.parametrize("completion", ["\\boxed{6} (i.e., 6 or 7)", "\\boxed{6} (i.e., 6, or 7)", "\\boxed{6} (or 7)"])
def test_a_hedge_inside_a_restating_parenthesis_keeps_both_values(completion):
    # the parenthesis' close was read into the hedge ("6 or 7)"): no gold "6, 7" matched, as it does for "(or 7)"
    assert check_math(completion, "6, 7").correct
    assert not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{6} (i.e., 5 or 7)", "\\boxed{6} (namely 5 or maybe 7)", "\\boxed{6}, i.e. 5 or 7.",
    "$\\boxed{6}$ (that is, $5$ or $7$)", "\\boxed{6} (so 5, or 7)",
])
def test_an_answer_restated_as_another_value_with_a_hedge_offers_both(completion):
    # only a restatement of the answer's own value was read on to its "or": restated as 5, the hedge "5 or 7" went
    # unseen and the boxed 6 scored alone
    assert not check_math(completion, "6").correct
    assert not check_math(completion, "7").correct and not check_math(completion, "5, 7").correct
    for kept in ("(i.e., 5 + 1)", "(i.e., 5 or more)", "(i.e., 5 apples)"):
        assert check_math(f"\\boxed{{6}} {kept}", "6").correct, kept


@pytest.mark.parametrize("completion", [
    "\\boxed{6} and maybe 7", "\\boxed{6}, and perhaps 7", "\\boxed{6} (and maybe 7)", "\\boxed{6} and possibly 7.",
    "\\boxed{6} and probably 7", "\\boxed{6}. And maybe 7.",
])
def test_and_before_a_hedging_word_is_a_hedge(completion):
    # "and" before "maybe" hid the hedge: the boxed 6 scored alone, as "\boxed{6}, maybe 7" does not
    assert not check_math(completion, "6").correct and not check_math(completion, "7").correct
    assert check_math(completion, "6, 7").correct
    for kept in ("and maybe 6", "and maybe check n = 2", "and possibly more", "and maybe 6 after all"):
        assert check_math(f"\\boxed{{6}} {kept}", "6").correct, kept


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{720} = 5!", "720"), ("\\boxed{720} = 5!.", "720"), ("\\boxed{720} = 5! = 120", "720"),
    ("\\boxed{720} \\to 5!", "720"), ("The answer is 720 (= 5!).", "720"), ("\\boxed{8} = 2^4", "8"),
    ("\\boxed{12} = \\binom{5}{2}", "12"), ("\\boxed{0.4} = \\frac{1}{2}", "0.4"), ("\\boxed{720} = 5!", "120"),
])
def test_a_box_equated_to_an_exact_form_of_another_value_is_a_hedge(completion, gold):
    # "= 5!" (and "= 2^4", "= \binom{5}{2}", "= \frac{1}{2}") was read as no number: the box scored alone though
    # what it is equated to is another value (5! = 120)
    assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{120} = 5!", "120"), ("\\boxed{720} = 6!.", "720"), ("\\boxed{5} = 5!", "5"), ("\\boxed{16} = 2^4", "16"),
    ("\\boxed{1024} = 2^{10}.", "1024"), ("\\boxed{10} = \\binom{5}{2}", "10"), ("\\boxed{0.5} = \\frac{1}{2}", "0.5"),
    ("\\boxed{720} = 6! = 720", "720"), ("The answer is 120 (= 5!).", "120"), ("\\boxed{5} = 5^2 - 20", "5"),
])
def test_a_box_equated_to_an_exact_form_of_its_own_value_stays_right(completion, gold):
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{720} (i.e. 725)", "720"), ("\\boxed{720}, i.e. 725.", "720"), ("\\boxed{720}, which is 725", "720"),
    ("The answer is 720, i.e. 725.", "720"), ("\\boxed{2.83} (i.e. 2.9)", "2.83"), ("\\boxed{100} (i.e. 99)", "100"),
    ("\\boxed{720} (i.e. 720.3)", "720"), ("\\boxed{100} (i.e. 99.5)", "100"),  # (finer than the answer: another value)
])
def test_a_restatement_within_one_percent_but_no_rounding_is_another_value(completion, gold):
    # within 1% of the answer, the restated value was taken for a rounding of it: "(i.e. 725)" scored for the gold
    # 720 though it says the answer is 725
    assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{720} (i.e. 720)", "720"), ("\\boxed{2.828} (i.e. 2.83)", "2.828"), ("\\boxed{2.83} (i.e. 2\\sqrt{2})", "2.83"),
    ("\\boxed{\\frac{1}{3}} (i.e. 0.33)", "1/3"), ("\\boxed{\\frac{22}{7}} (i.e. 3.14)", "22/7"), ("\\boxed{33.3} (i.e. 33)", "33.3"),
    ("\\boxed{99.5} (i.e. 100)", "99.5"), ("\\boxed{1000} (i.e. 1000.0)", "1000"), ("\\boxed{720} (about 720.3)", "720"),
])
def test_a_restated_rounding_stays_one_value(completion, gold):
    # the restated number rounds the answer in its last written place ("about" and "\approx" keep their 1% slack)
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{6} (7 by another method)", "\\boxed{6} (7 using the other formula)", "\\boxed{6} (7 via a different approach)",
    "\\boxed{6}; by another method, 7", "\\boxed{6}. By another method, 7.", "\\boxed{6}. By another method we get 7.",
    "\\boxed{6}, 7 by another method",
])
def test_another_value_by_another_method_is_a_hedge(completion):
    # the value another method gives was read as a remark: the boxed 6 scored alone
    assert not check_math(completion, "6").correct and not check_math(completion, "7").correct
    assert check_math(completion, "6, 7").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{6} (6 by another method)", "\\boxed{6}. By another method we get 6.", "\\boxed{6}. Using another approach, we also get 6.",
    "\\boxed{6} (7 apples by another method)", "\\boxed{6}. By another method, 7 - 1 = 6.", "\\boxed{6} (checked by another method)",
])
def test_the_same_value_or_a_check_by_another_method_keeps_the_answer(completion):
    assert check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "We have 9. 6 is too small.", "We have 9. 6 is wrong.", "I get 9. 6 is too small.", "We found 9. 6 would be too small.",
    "We have 9. 6 is too small, and 12 is too big.", "We have $9$. $6$ is too small.",
])
def test_a_value_stated_with_we_have_before_a_rejected_one_is_the_answer(completion):
    # only "So"/"we get" sentences counted as stating a value: after "We have 9." the rejected 6 was read as the answer
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct
    assert check_math("We have 9. 6 works.", "6").correct  # a value not rejected is still read last
    assert check_math("We have 9 apples; 6 is too small a share.", "6").correct  # a count, no result


@pytest.mark.parametrize("completion, gold", [
    ("The answer is 5pm", "17:00"), ("The answer is 5 pm", "17:00"), ("\\boxed{5pm}", "17:00"), ("\\boxed{5 p.m.}", "17:00"),
    ("The answer is 3:45 pm.", "15:45"), ("The answer is 3:45pm.", "15:45"), ("The answer is 12 am.", "0:00"),
    ("The answer is 12 pm.", "12:00"), ("The answer is 17:00", "5pm"), ("The answer is 17:00", "5 \\text{ pm}"),
    ("The answer is 5:00 pm.", "5 pm"), ("\\boxed{5pm}", "5 pm"),
])
def test_a_twelve_hour_clock_time_equals_its_24_hour_form(completion, gold):
    # "5 pm" was 5 with a unit (and the glued "5pm" the product 5*p*m): no 24-hour gold "17:00" matched either
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("The answer is 5 am.", "17:00"), ("\\boxed{5pm}", "5 am"), ("The answer is 13 pm.", "1:00"), ("\\boxed{3pm}", "3"),
    ("The answer is 5pm", "18:00"), ("The answer is 12 am.", "12:00"),
    # two times that both name their half of the day were compared as 12 and 12 where they differ
    ("\\boxed{12 noon}", "12 midnight"), ("\\boxed{12 pm}", "12 midnight"), ("\\boxed{12 midnight}", "12 noon"),
    ("The answer is 12 noon.", "12 am"),
])
def test_a_twelve_hour_clock_time_is_no_other_time(completion, gold):
    assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold, right", [
    ("\\boxed{12:00 noon}", "12:00 midnight", False), ("The answer is 12:00 midnight.", "12:00 noon", False),
    ("\\boxed{12:00 noon}", "noon", True), ("\\boxed{12:00 midnight}", "midnight", True), ("\\boxed{12:00 noon}", "12 pm", True),
    ("\\boxed{12:00 midnight}", "0:00", True),
])
def test_a_named_time_of_day_after_12_00_is_that_time(completion, gold, right):
    # "12:00 noon" was no clock time ("12 noon" was): against the gold "12:00 midnight" compared as 12:00 and scored
    # right, and against the gold "noon" scored 0
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("completion", ["So we get 9, not 6.", "So we get 9. Not 6.", "We have 9. Not 6.", "So we get $9$, not $6$.", "So x = 9, not 6."])
def test_unboxed_a_value_after_not_is_no_answer_the_concluded_one_is(completion):
    # the last value, the one the answer is not, was found negated and nothing was read: the right 9 scored 0
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct
    assert not check_math("Therefore x is not 4.", "4").correct and not check_math("We try 9, not 6.", "6").correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{\\frac{2}{3}} (i.e. 0.666)", "2/3"), ("\\boxed{\\frac{2}{3}}, which is 0.666", "2/3"),
    ("\\boxed{\\frac{1}{6}}, which is 0.166", "1/6"), ("\\boxed{\\frac{1}{7}} (i.e. 0.142)", "1/7"),
    ("\\boxed{-\\frac{2}{3}} (i.e. -0.666)", "-2/3"), ("\\boxed{\\frac{5}{9}}, i.e. 0.5555", "5/9"),
    ("\\boxed{\\frac{1}{3}} (0.333 by another method)", "1/3"), ("\\boxed{\\frac{2}{3}} (0.666 by another method)", "2/3"),
])
def test_a_restated_decimal_cut_at_its_last_place_stays_one_value(completion, gold):
    # a repeating decimal written as far as it goes (cut, not rounded) was held to rounding alone: the right
    # answer was offered beside "0.666" and scored 0 (the 1% slack had accepted it before)
    assert check_math(completion, gold).correct


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{\\frac{2}{3}} (i.e. 0.665)", "2/3"), ("\\boxed{8} (i.e. 7.9)", "8"), ("\\boxed{\\frac{1}{6}}, which is 0.165", "1/6"),
    ("\\boxed{\\frac{1}{3}} (0.34 by another method)", "1/3"), ("\\boxed{720} (i.e. 725)", "720"),
])
def test_a_restated_decimal_neither_cut_nor_rounded_is_another_value(completion, gold):
    assert not check_math(completion, gold).correct


@pytest.mark.parametrize("completion", [
    "\\boxed{6} and maybe also 7", "\\boxed{6}, maybe also 7", "\\boxed{6} and perhaps also 7.", "\\boxed{6} (or also 7)",
    "\\boxed{6}. Maybe also 7.", "\\boxed{6} and maybe even 7", "The answer is 6, possibly also 7.",
])
def test_also_after_a_hedging_word_still_offers_the_value(completion):
    # "also" (or "even") between "maybe" and the value hid it: no value was read after "maybe", the boxed 6 scored alone
    assert not check_math(completion, "6").correct and not check_math(completion, "7").correct
    assert check_math(completion, "6, 7").correct
    for kept in ("and maybe also 6", "Maybe also check: 2 + 4 = 6.", "and maybe also more", "(maybe even 6)"):
        assert check_math(f"\\boxed{{6}} {kept}", "6").correct, kept


@pytest.mark.parametrize("completion,other", [
    ("\\boxed{6} = 2 \\cdot 4", "8"), ("\\boxed{6} = 2 \\times 4", "8"), ("\\boxed{6} = 3 + 4", "7"),
    ("\\boxed{6} = 12 / 3", "4"), ("$\\boxed{6} = 2 \\cdot 4$.", "8"), ("\\boxed{6} \\to 2 + 5", "7"),
    ("\\boxed{6} = 10 - 3", "7"),
])
def test_a_box_equated_to_a_computation_of_another_value_offers_it(completion, other):
    # an equated product or sum was read as no number: the boxed 6 scored alone, its other value passed unseen
    assert not check_math(completion, "6").correct and not check_math(completion, other).correct
    assert check_math(completion, f"6, {other}").correct
    for kept in ("= 2 \\cdot 3", "= 2 + 4", "= 12 / 2", "= 8 - 2", "= 1 + 2 + 3", "= 2 \\times 3 = 6", "= 2 \\cdot 3!"):
        assert check_math(f"\\boxed{{6}} {kept}", "6").correct, kept
    for kept, gold in (("\\boxed{12} = 3 \\times 4", "12"), ("\\boxed{12} = 3 \\cdot 4.", "12"), ("\\boxed{x = 6}", "6"),
                       ("\\boxed{1.5} = 3 \\times 0.5", "1.5")):
        assert check_math(kept, gold).correct, kept


@pytest.mark.parametrize("completion,said,other", [
    ("\\boxed{6} = 1 + 2 \\cdot 3", "6", "7"), ("\\boxed{24} = 10 - 2 \\cdot 3", "24", "4"),
    ("So we get 6 = 1 + 2 \\cdot 3.", "6", "7"), ("\\boxed{6} = 2 \\cdot 3 + 2", "6", "8"),
])
def test_a_value_equated_to_a_mixed_computation_of_another_value_offers_it(completion, said, other):
    # one kind of operator only was a computation: "= 1 + 2 \cdot 3" (7) read as nothing, and the 6 scored alone
    assert not check_math(completion, said).correct and not check_math(completion, other).correct
    for kept, gold in (("\\boxed{7} = 1 + 2 \\cdot 3", "7"), ("\\boxed{4} = 10 - 2 \\cdot 3", "4"),
                       ("So we get 7 = 1 + 2 \\cdot 3.", "7"), ("\\boxed{8} = 2 \\cdot 3 + 2", "8"), ("\\boxed{5} = 12 / 4 + 2", "5")):
        assert check_math(kept, gold).correct, kept


@pytest.mark.parametrize("completion,other", [
    ("So we get 6 = 2 \\cdot 4.", "8"), ("So we get 6 = 2 * 4.", "8"), ("Thus $6$ = 3 + 4.", "7"), ("We get 6 = 12 / 3", "4"),
    # (after an answer phrase too: read whole "6 = 2 \cdot 4", it scored for the gold 8)
    ("The answer is 6 = 2 \\cdot 4.", "8"), ("Final answer: $6 = 3 + 4$", "7"),
])
def test_a_concluded_value_equated_to_a_computation_of_another_value_offers_it(completion, other):
    # as "\boxed{6} = 2 \cdot 4" does: the computation's numbers are no candidates, and the 6 before it scored alone
    assert not check_math(completion, "6").correct and not check_math(completion, other).correct
    assert check_math(completion, f"6, {other}").correct
    for kept, gold in (("So we get 12 = 3 \\cdot 4.", "12"), ("So we get 12 = 8 + 4.", "12"), ("So 24 = 4 \\cdot 6, giving 6 groups.", "6"),
                       ("The answer is 6 = 2 \\cdot 3.", "6")):
        assert check_math(kept, gold).correct, kept


@pytest.mark.parametrize("completion", [
    "\\boxed{0.33} = \\frac{1}{3}", "\\boxed{0.33} = 1/3", "$\\boxed{0.33} = \\frac13$.", "\\boxed{0.33} = 1 / 3",
    "\\boxed{0.333} \\to \\frac{1}{3}",
])
def test_a_decimal_box_equated_to_the_exact_value_it_rounds_restates_it(completion):
    # the exact form the boxed decimal rounds was offered as a second value: the right 0.33 scored 0
    gold = completion[completion.index("{") + 1 : completion.index("}")]
    assert check_math(completion, gold).correct
    assert check_math("\\boxed{0.67} = \\frac{2}{3}", "0.67").correct and check_math("\\boxed{0.66} = 2/3", "0.66").correct
    assert check_math("\\boxed{8.0} = 2^3", "8").correct
    for other, gold in (("\\boxed{0.33} = \\frac{1}{2}", "0.33"), ("\\boxed{0.68} = 2/3", "0.68"), ("\\boxed{0.5} = 1", "0.5"),
                        ("\\boxed{8.1} = 2^3", "8.1"), ("\\boxed{0.3} = 1 / 2", "0.3")):
        assert not check_math(other, gold).correct, other


@pytest.mark.parametrize("completion,gold,right", [
    ("So we get 0.33 = 1/3.", "0.33", True), ("So we get 0.33 = \\frac{1}{3}.", "0.33", True), ("So x = 0.67 = 2/3.", "0.67", True),
    ("So we get 1/3 = 0.33.", "1/3", True), ("So we get 120 = 5!.", "120", True), ("So we get 120 = 5!", "120", True),
    ("So we get 120 = 5!.", "5", False), ("So we get 5!", "5", True), ("So we get 0.5 = 1/3.", "0.5", False),
    ("So we get 0.5 = 1/3.", "1/3", False), ("So we get 6 = 12/2.", "6", True), ("So we get 0.33 = 1/3. Or 7.", "0.33", False),
])
def test_a_concluded_value_equated_to_a_restatement_of_it_is_the_answer(completion, gold, right):
    # as after a box ("\boxed{0.33} = 1/3", "\boxed{120} = 5!"): the restatement read last scored (1/3, the 5 of "5!")
    # and the right 0.33 or 120 scored 0; another value equated to it ("0.5 = 1/3") is still a second value
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("completion,gold,right", [
    ("The answer is 0.33 = 1/3.", "0.33", True), ("The answer is 0.33 = 1/3.", "1/3", False),
    ("Final answer: 0.33 = \\frac{1}{3}", "0.33", True), ("The answer is $0.67 = 2/3$.", "0.67", True),
    ("The answer is 1/3 = 0.33.", "1/3", True), ("The answer is 1/3 = 0.33.", "0.33", False),
    ("The answer is 120 = 5!.", "120", True), ("The answer is 6 = 2 \\cdot 3.", "6", True),
    ("The answer is 0.5 = 1/3.", "0.5", False), ("The answer is 0.5 = 1/3.", "1/3", False),
    ("The answer is 0.33 = 1/3. Or 7.", "0.33", False), ("The answer is 6 = 2 \\cdot 4.", "6", False),
])
def test_an_answer_phrase_value_equated_to_a_restatement_of_it_is_the_answer(completion, gold, right):
    # "The answer is 0.33 = 1/3." was read whole, as its last side 1/3 (the right 0.33 scored 0), while after a box
    # ("\boxed{0.33} = 1/3") or in prose ("So we get 0.33 = 1/3.") the value before its restatement is the answer
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("completion", [
    "So we get 9, not 6 as I first thought.", "So we get 9 apples, not 6.", "So we get 9, not 6 apples.",
    "We have 9, not 6.", "We have 9 apples, not 6.", "So we get 9, not 6 as we had expected.",
    "So we get 9 apples, not 6 apples as I thought at first.",
])
def test_a_concluded_value_then_not_another_with_a_unit_or_an_aside_is_the_answer(completion):
    # the last value, the one the answer is not, was found negated and nothing was read: the right 9 scored 0
    assert check_math(completion, "9").correct and not check_math(completion, "6").correct
    for none in ("So 9 is not 6.", "So we get 9 if x is not 6.", "We have 9, not 6 as claimed by Bob."):
        assert not check_math(none, "9").correct and not check_math(none, "6").correct, none


@pytest.mark.parametrize("completion", [
    "The answer is 6 (checked by another method).", "The answer is 6 (6 by another method).",
    "The answer is 6 (confirmed using a different approach).", "The answer is 6 (by another method, 6).",
    "The answer is $6$ ($6$ by another method).", "Final answer: 6 (6.0 by another method)",
])
def test_an_answer_phrase_confirmed_by_another_method_is_the_answer(completion):
    # "another" in the remark read as a hedge word: the sentence was read whole and the right 6 scored 0
    assert check_math(completion, "6").correct
    for other in ("The answer is 6 (7 by another method).", "The answer is 6 (by another method, 7).",
                  "The answer is 6 (checked by another method, which gives 7)."):
        assert not check_math(other, "6").correct and not check_math(other, "7").correct, other
    assert check_math("The answer is 6 (7 by another method).", "6, 7").correct


@pytest.mark.parametrize("completion,gold", [
    ("The meeting starts at 5:30 PM", "17:30"), ("The meeting starts at 5:30 p.m.", "17:30"),
    ("So it ends at 5 pm.", "17:00"), ("The train leaves at 9:15 am.", "9:15"), ("The meeting starts at noon", "12:00"),
    ("The meeting starts at 12 noon.", "12:00"), ("The shop closes at midnight.", "0:00"), ("\\boxed{noon}", "12:00"),
    ("\\boxed{midnight}", "0:00"),
])
def test_a_clock_time_in_prose_or_a_named_time_of_day_matches_a_24_hour_gold(completion, gold):
    # "at 5:30 PM" read as 5:30 (its "PM" dropped), "noon" read as no answer: no 24-hour gold matched
    assert check_math(completion, gold).correct
    for other in ("The meeting starts at 5:30 AM", "The meeting starts at 5:30"):
        assert not check_math(other, "17:30").correct, other
    assert not check_math("The shop closes at midnight.", "12:00").correct
    assert not check_math("The meeting starts at noon", "0:00").correct and not check_math("\\boxed{noon}", "12").correct
    assert check_math("The meeting starts at 5:30 PM", "5:30").correct and check_math("So it ends at 5 pm.", "5").correct


@pytest.mark.parametrize("completion,gold", [
    ("The meeting starts at noon.", "12 noon"), ("The meeting starts at noon.", "12 pm"),
    ("The shop closes at midnight.", "12 midnight"), ("The shop closes at midnight.", "12 am"),
    ("\\boxed{12 pm}", "noon"), ("\\boxed{noon}", "12 noon"),
])
def test_a_named_time_of_day_matches_a_12_hour_gold_with_no_colon(completion, gold):
    # 1ea6bbb compared "noon"/"midnight" as clock times only beside a ":" ("12:00"): against the gold "12 noon" or
    # "12 pm" it was text, and the right "noon" scored 0
    assert check_math(completion, gold).correct
    assert not check_math(completion, "0:00" if "noon" in gold or "pm" in gold else "12:00").correct
    assert not check_math("\\boxed{noon}", "12").correct and not check_math("\\boxed{5 pm}", "noon").correct
    assert not check_math("\\boxed{afternoon}", "12 noon").correct


@pytest.mark.parametrize("completion, gold, right", [
    ("\\boxed{6th}", "6", True), ("\\boxed{6^{th}}", "6", True), ("\\boxed{6^{\\text{th}}}", "6", True),
    ("\\boxed{21st}", "21", True), ("The answer is 6<sup>th</sup>.", "6", True), ("The answer is the 6th term.", "6", True),
    ("So the answer is the 6th.", "6", True), ("The answer is the 6th term.", "7", False), ("\\boxed{6th}", "7", False),
    ("The answer is the 6th or 7th term.", "6", False), ("\\boxed{6th or 7th}", "6", False), ("\\boxed{0.6th}", "6", False),
])
def test_an_ordinal_reads_as_the_number_it_counts(completion, gold, right):
    # "6th" read as a word, "6^{th}" as 6^(t*h), "the 6th term" as no answer: the right 6 scored 0 (math-verify reads 6)
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("completion", [
    "The answer is the 6th term, which is 32.", "The answer is the 6th term. It is 32.",
    "The answer is the 6th term.\n\nIts value is 32.", "The 6th term is 32. The answer is the 6th term.",
    "The answer is the 5th term, so 32.",
])
def test_an_ordinal_phrase_whose_value_is_given_reads_the_value(completion):
    # "the 6th term" names a term whose value the text gives: read as 6, the right 32 scored 0 (the phrase had no
    # value before ordinals were read, and the 32 was read)
    assert check_math(completion, "32").correct
    assert check_math("The answer is the 6th term.", "6").correct  # (none given: the ordinal is the value)


@pytest.mark.parametrize("completion, gold", [
    ("The answer is 10 - mgh.", "10 - mgh"), ("The answer is 1 - xyz.", "1 - xyz"), ("The answer is a - bcd.", "a - bcd"),
])
def test_a_spaced_minus_before_a_product_of_names_keeps_it(completion, gold):
    # a word with no vowel after " - " was prose that ended the value: "1 - xyz" read 1, and the right 1 - xyz scored 0
    assert check_math(completion, gold).correct and not check_math(completion, gold.split(" ")[0]).correct
    assert not check_math("The answer is 1 - cosx.", "1").correct  # (a function glued to its variable is no prose)
    assert check_math("The answer is 6 - done.", "6").correct and not check_math("The answer is 6 - hmm, 7.", "6").correct


@pytest.mark.parametrize("completion, gold, right", [
    ("The answer is 100 - rate.", "100", False), ("The answer is 12 - total.", "12", False),
    ("The answer is 5 - half.", "5", False), ("The answer is 36 - area.", "36", False),
    ("The answer is 1 - abc.", "1 - abc", True), ("The answer is 1 - abc.", "1", False),
    ("The answer is 6 - done.", "6", True), ("The answer is 6 - Which is even.", "6", True),
    ("Final answer: 6 - hence the claim", "6", True), ("The answer is 6 - i.e. six.", "6", True),
])
def test_a_spaced_minus_ends_the_answer_only_before_a_prose_word_of_a_closed_list(completion, gold, right):
    # any 3+ letter word that was no function or constant ended the value: "100 - rate" read 100 (a wrong answer
    # scored for the gold 100) and the right "1 - abc" read 1
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("completion", [
    "The answer is 6 &lt;/think&gt;", "The answer is 6.&lt;/think&gt;", "The answer is 6 &LT;/THINK&GT;",
    "The answer is 6. &lt;think&gt;",
])
def test_an_escaped_think_tag_after_the_answer_is_no_part_of_it(completion):
    # its "&gt;" decoded while its "&lt;" stayed (e92504f): the answer read "6 &lt;/think>" and the right 6 scored 0
    assert check_math(completion, "6").correct and not check_math(completion, "7").correct


@pytest.mark.parametrize("completion, gold, right", [
    ("\\boxed{2nd derivative}", "2", False), ("\\boxed{3rd quartile}", "3", False), ("\\boxed{x = 4th}", "4", False),
    ("\\boxed{2th}", "2", False), ("\\boxed{11st}", "11", False), ("The answer is the 2th term.", "2", False),
    ("\\boxed{1st}", "1", True), ("\\boxed{2nd}", "2", True), ("\\boxed{3rd}", "3", True), ("\\boxed{4th}", "4", True),
    ("\\boxed{11th}", "11", True), ("\\boxed{12th}", "12", True), ("\\boxed{13th}", "13", True),
    ("\\boxed{22nd}", "22", True), ("\\boxed{23rd}", "23", True), ("\\boxed{101st}", "101", True),
    ("\\boxed{111th}", "111", True), ("\\boxed{\\text{6th}}", "6", True), ("\\boxed{6^{th}}", "6", True),
])
def test_an_ordinal_is_its_number_only_as_the_whole_answer_with_its_own_suffix(completion, gold, right):
    # read anywhere with any suffix, "2nd derivative", "x = 4th", "2th" scored for 2, 4 and 2
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("completion, gold, right", [
    ("Final answer: 6, which is off by 1 from 5.", "6", True), ("Final answer: 6, which is off by 1 from 5.", "5", False),
    ("The answer is 6, which is an error of 1 relative to 5.", "6", True),
    ("The answer is 6, that's off by 2 from 4.", "4", False), ("The answer is 6, which is off from 5.", "6", True),
    ("The answer is 6, which is not correct for n = 5.", "6", True), ("The answer is 6, which is false for n = 5.", "6", True),
    ("The answer is 6, which is a mistake-free count over 5 cases.", "6", True),
    # a clause that ends at the word still takes the value back
    ("The answer is 6, which is off by one; it's 7.", "7", True),
])
def test_a_clause_going_on_after_its_wrong_word_is_a_reason_clause(completion, gold, right):
    # 32643cb read any "which is off|an error|false|not correct ..." as taking the value back, whatever followed:
    # "6, which is off by 1 from 5" read 5 (the gold 5 scored, the right 6 scored 0); "which is false for n = 5" none
    assert check_math(completion, gold).correct is right


@pytest.mark.parametrize("text, gold, right", [
    ("\\boxed{6th term}", "6", True), ("\\boxed{\\text{6th term}}", "6", True), ("\\boxed{3rd row}", "3", True),
    ("\\boxed{6^{th} term}", "6", True), ("\\boxed{6th term}", "7", False), ("\\boxed{2th term}", "2", False),
    ("\\boxed{2nd derivative}", "2", False), ("\\boxed{3rd quartile}", "3", False),
])
def test_an_ordinal_with_a_place_noun_in_a_box_is_its_number(text, gold, right):
    # "\boxed{6th term}" scored 0 for the gold 6 of a "which term?" question, while "The answer is the 6th term." reads 6
    assert check_math(text, gold).correct is right


@pytest.mark.parametrize("text, extracted", [
    ("Thus n\\approx12.", "12"), ("Thus n \\approx12.", "12"), ("Thus n\\approx 12.", "12"), ("Thus n\u224812.", "12"),
    ("Thus n\\simeq12.", "12"), ("So we get 6 \\sim7.", "6, 7"), ("Thus n\\leq12.", None),
])
def test_a_number_glued_to_an_approximation_command_is_read_as_after_the_sign(text, extracted):
    # "Thus n\approx12." gave no answer (the 12 read as part of the command's letters) while "n≈12" reads 12
    assert extract_answer(text) == extracted


@pytest.mark.parametrize("text", [
    "The area is approx. 5.", "The area is Approx. 5.", "So we get approx. 5.", "The area is approx 5.",
    "The area is approximately 5.",
])
def test_a_value_after_approx_with_its_period_is_refused_as_without_it(text):
    # the period of "approx." was read as the end of a clause: "approx. 5" read 5 (scored for the gold 5) while
    # "approx 5" is refused (an approximation is no exact answer)
    assert extract_answer(text) is None
    assert extract_answer("The area is 5.") == "5"


@pytest.mark.parametrize("text", [
    "So we get 6, that's wrong.", "So we get 6. That's wrong.", "So we get 6 (which is a mistake).",
    "So x = 6, which is incorrect.", "So we get 6. Wrong.",
])
def test_a_last_value_the_text_right_after_it_says_is_wrong_is_no_answer(text):
    # with no box or phrase, "So we get 6, that's wrong." read 6 and scored for the gold 6, as a retracted box did
    assert not check_math(text, "6").correct
    assert check_math("So we get 6, that's wrong, it is 7.", "7").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{6}. Or is it?", "\\boxed{6}... or is it?", "The answer is 6. Or is it?", "So the answer is 6... or is it?",
    "So we get 6... or is it?", "\\boxed{6}. Hmm, or is it?\n\n", "\\boxed{6}. Or is it? No.", "The answer is 6… or is it?",
])
def test_an_answer_doubted_at_the_end_is_no_committed_value(completion):
    # "\boxed{6}... or is it?" ended doubting its answer, and the doubted 6 scored (as "\boxed{6?}" did)
    assert not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{6}. Or is it? Yes.", "\\boxed{6}. Or is it? Let me check: 2 \\cdot 3 = 6. Yes.", "So we get 6. Or is it? Yes.",
])
def test_an_answer_doubted_then_checked_stands(completion):
    assert check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "The answer is \\boxed{6}, not \\boxed{7}.", "The answer is \\boxed{6} and not \\boxed{7}.", "\\boxed{6} (not \\boxed{7})",
    "\\boxed{6}, rather than \\boxed{7}.", "\\boxed{6}. Not \\boxed{7}.", "$\\boxed{6}$, not $\\boxed{7}$",
])
def test_a_last_box_denied_is_not_the_answer(completion):
    # the "not" between the boxes was read as a revision to the last box: the denied 7 scored alone
    assert check_math(completion, "6").correct and not check_math(completion, "7").correct
    assert check_math("\\boxed{6}, no, \\boxed{7}", "7").correct  # a revision still turns to the last box


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{6} is incorrect.", None), ("$\\boxed{6}$ is wrong.", None), ("\\boxed{6} is not the answer.", None),
    ("\\boxed{6} is wrong, it is 7.", "7"), ("\\boxed{6} was a mistake; it should be 7.", "7"),
])
def test_a_box_said_to_be_wrong_right_after_it_is_taken_back(completion, gold):
    # only "\boxed{6}, that's wrong" took the box back: "\boxed{6} is incorrect." read 6 and scored for the gold 6
    assert not check_math(completion, "6").correct
    if gold is not None:
        assert check_math(completion, gold).correct
    for kept in ("\\boxed{6} is correct.", "\\boxed{6} is not prime.", "\\boxed{6} is false for n = 2, so we need more."):
        assert check_math(kept, "6").correct, kept


@pytest.mark.parametrize("completion", [
    "So $x = 6$. Checking: $x = 7$ fails.", "So $x = 6$. Checking: $x = 7$ does not work.", "So we get 6. Then 7 fails.",
    "So we get 6. Trying 7 fails.", "So we get 6. Then 7 is extraneous.", "So we get 6. Then 7 doesn't work.",
])
def test_a_last_prose_value_tried_and_rejected_is_not_the_answer(completion):
    # only a sentence opening with the rejected value was seen ("7 fails."): "Checking: x = 7 fails." read 7
    assert not check_math(completion, "7").correct
    assert check_math("So 7 does not divide 6, hence we get 6.", "6").correct


@pytest.mark.parametrize("completion", ["Final answer: 6?", "The answer is 6?", "The answer is $6$?", "**Final Answer:** 6?", "The answer is 6? No."])
def test_an_answer_phrase_ending_in_a_question_mark_is_no_committed_value(completion):
    # "\boxed{6?}" is refused, but "Final answer: 6?" (the "?" ending the sentence) read 6 and scored
    assert not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "The answer is 6? Yes.", "The answer is 6?\n\n\\boxed{6}", "The answer is 6? Let me verify: 2+4 = 6. Yes, it is 6.",
    "What is the answer? The answer is 6.", "Why is the answer 6? Because 2+4=6.",
])
def test_an_answer_queried_then_confirmed_stands(completion):
    assert check_math(completion, "6").correct


@pytest.mark.parametrize("completion", ["The answer is ~6.", "Answer: ~6", "**Answer:** ~6", "Final answer: ~6 apples"])
def test_an_answer_phrase_value_after_a_tilde_is_approximate(completion):
    # the "~" was dropped as a LaTeX tie and "about 6" in symbols scored for the gold 6, while "about 6" and "≈6" do not
    assert not check_math(completion, "6").correct
    assert check_math("Answer:~6", "6").correct and check_math("The answer is $~6$.", "6").correct  # ties, no blank before


@pytest.mark.parametrize("completion", [
    "\\boxed{6 \\text{ (estimate)}}", "\\boxed{6 \\text{ (estimated)}}", "\\boxed{6} (estimate)", "\\boxed{6}, estimated.",
    "The answer is 6 (estimated).",
])
def test_an_answer_said_to_be_an_estimate_is_no_committed_value(completion):
    # "estimate" was dropped as a unit word and an estimated 6 scored, as "6 \text{ approximately}" does not
    assert not check_math(completion, "6").correct
    assert check_math("\\boxed{6 \\text{ apples}}", "6").correct and check_math("\\boxed{6}. We estimate the rest.", "6").correct


@pytest.mark.parametrize("completion, last", [
    (" 8 * 9 = 72. 72 - 17 = 54. 5", "5"), ("2 + 3 = 5. 5 + 1 = 6. 7", "7"), ("48/2 = 24. 48 + 24 = 72. So", "72"),
])
def test_a_one_line_chain_cut_off_after_its_steps_reads_its_last_value_as_on_several_lines(completion, last):
    # a completion cut at max_new_tokens was read whole as a bare answer (the steps and the cut-off value as one text)
    assert extract_answer(completion) == last == extract_answer(completion.replace(". ", ".\n"))
    for bare in (" 63", " 63.", "x = 5", " -7", "3 + 4", "2 + 3 = 5."):
        assert extract_answer(bare) == bare.strip(), bare


@pytest.mark.parametrize("completion", [
    "\\boxed{6} (not sure)", "\\boxed{6} (guess)", "\\boxed{6} (tentative)", "\\boxed{6}. But I am not sure.", "\\boxed{6} (?)",
    "\\boxed{6}, I guess.", "\\boxed{6} -- just a guess.", "Final answer: 6 (I am not sure)", "The answer is 6 (a guess).",
    "Answer: 6, tentatively.", "So we get 6. But I am not sure.", "So we get 6 (not sure).",
])
def test_an_answer_its_writer_is_unsure_of_is_no_committed_value(completion):
    # "\boxed{6} (not sure)" scored 6 while "Final answer: 6 (I am not sure)" read "6 (I am" and "\boxed{6?}" is refused
    assert not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "\\boxed{6}. I am not sure this is simplest, but it is correct.", "\\boxed{6}. I was not sure at first, but it checks out.",
    "\\boxed{6} (a guess at first, now verified)", "I am not sure. Let me compute: 2+4 = 6. The answer is 6.",
    "We guess 6 and check: it works, so the answer is 6.", "Final answer: 6 (sure)",
])
def test_a_doubt_that_does_not_end_the_answer_keeps_it(completion):
    assert check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "Answer: 6 \u2014 no, 7.", "Answer: 6 -- no, 7.", "The answer is 6 \u2014 no, 7.", "Answer: 6, no, 7.", "Answer: 6 \u2014 no wait, 7.",
    "Answer: 6 \u2014 no, it is 7.", "\\boxed{6} \u2014 no, 7.", "\\boxed{6}. No, 7.", "6 -- no, 7",
])
def test_an_answer_taken_back_with_no_and_a_dash_turns_to_the_value_after_it(completion):
    # "Answer: 6 — no, 7." read "6 no, 7 or 7" and "\boxed{6} — no, 7." the hedge "6 or 7", while "\boxed{6}. No, it is 7."
    # and "Answer: 6. No, it is 7." read 7: the "no" after a dash, or with the value alone after it, takes 6 back too
    assert extract_answer(completion) == "7"
    assert check_math(completion, "7").correct and not check_math(completion, "6").correct


@pytest.mark.parametrize("completion", [
    "Answer: 6 \u2014 no doubt.", "Answer: 6; no, 7 is not possible.", "Answer: 6, no matter the order.", "\\boxed{6}. No, 7 is too big.",
])
def test_a_no_that_takes_nothing_back_keeps_the_answer(completion):
    assert not check_math(completion, "7").correct


@pytest.mark.parametrize("completion", [
    "So we get 6. Checking 7: it fails.", "So we get 6. Check 7: it fails.", "So we get 6. Checking 7, it fails.",
    "So we get 6. Trying 7: it does not work.", "So we get 6. Checking 7 (it is too big).", "So we get 6. Testing 7 -- it is extraneous.",
])
def test_a_last_prose_value_rejected_with_a_pronoun_is_not_the_answer(completion):
    # only "7 fails." (the value the subject) was seen: "Checking 7: it fails." read 7 and scored for the gold 7
    assert not check_math(completion, "7").correct
    for kept in ("So we get 6. Checking 7: it works.", "So the answer is 7, it is correct.", "So x = 7: it satisfies the equation."):
        assert check_math(kept, "7").correct, kept


@pytest.mark.parametrize("completion", [
    "So we get 6 instead of 7.", "So we get 6, instead of 7.", "Thus the total is 6 instead of 7.", "We have 6 instead of 7.",
])
def test_a_concluded_prose_value_instead_of_another_is_the_answer(completion):
    # the value after "instead of" was read last and scored for the gold 7, while "\boxed{6} instead of 7" reads 6
    assert check_math(completion, "6").correct and not check_math(completion, "7").correct
    assert not check_math("x = 6 instead of 7", "7").correct  # (not concluded: what the value is not, no answer)
    assert check_math("Instead of 6, we get 7.", "7").correct and check_math("So instead of 6 we get 7.", "7").correct


@pytest.mark.parametrize("completion", [
    "So we get 6. Is it 7? No.", "So we get 6. Could it be 7? No, since 7 is odd.", "So we get 6. What about 7? No, too big.",
    "So we get 6. Or 7? No.", "Thus we get 6. Hmm, is it 7? Nope.",
])
def test_a_concluded_prose_value_then_another_asked_and_answered_no_is_the_answer(completion):
    # only "Thus 9. 6? No." was seen: "So we get 6. Is it 7? No." read the denied 7 and scored for the gold 7
    assert check_math(completion, "6").correct and not check_math(completion, "7").correct
    for turned in ("So we get 6. Is it 7? Yes, it is 7.", "So we get 6. Is it 7? Yes."):
        assert check_math(turned, "7").correct, turned


@pytest.mark.parametrize("completion, gold", [
    ("\\boxed{7}, which was wrong.", None), ("The answer is 7, which was a mistake.", None), ("\\boxed{7}, that was wrong.", None),
    ("\\boxed{7}. That was wrong.", None), ("\\boxed{6}. Earlier I got \\boxed{7}, which was wrong.", None),
    ("\\boxed{7}, which was wrong, so it is 6.", "6"),
])
def test_a_value_said_to_have_been_wrong_is_taken_back_as_one_said_to_be_wrong(completion, gold):
    # "\boxed{7}, which is wrong." was taken back but "\boxed{7}, which was wrong." read 7 and scored for the gold 7
    assert not check_math(completion, "7").correct
    if gold is not None:
        assert check_math(completion, gold).correct
    for kept in ("\\boxed{7} (which was not easy).", "So we get 7, which was expected.",
                 "\\boxed{7}. This was wrong at first, but now it checks out."):
        assert check_math(kept, "7").correct, kept


@pytest.mark.parametrize("completion", [
    "The answer is 6 instead of 7.", "Final answer: 6 instead of 7", "Answer: $6$ instead of $7$.",
    "The answer is 6 rather than 7.", "The answer is 6, rather than 7.",
])
def test_an_answer_phrase_value_instead_of_another_is_the_value(completion):
    # the phrase read "6 instead of 7" (no value: the right 6 scored 0), while "So we get 6 instead of 7." and
    # "\boxed{6} instead of 7" read 6, as "The answer is 6, not 7." does
    assert check_math(completion, "6").correct and not check_math(completion, "7").correct
    assert not check_math("The answer is 6 instead of 7, or 8.", "6").correct  # (another value offered: a hedge still)


@pytest.mark.parametrize("completion", [
    "So we get 6. Is 7 possible? No.", "So we get 6. Is 7 correct? No.", "So we get 6. Could 7 be the answer? No, since 7 is odd.",
    "So we get 6. Does 7 work? No.", "Thus we get 6. Hmm, is 7 a solution? Nope.",
])
def test_a_concluded_prose_value_then_another_asked_about_and_answered_no_is_the_answer(completion):
    # "So we get 6. Is it 7? No." read 6 but "So we get 6. Is 7 possible? No." read the denied 7 and scored for the gold 7
    assert check_math(completion, "6").correct and not check_math(completion, "7").correct
    for turned in ("So we get 6. Is 7 possible? Yes.", "So we get 6. Does 7 work? Yes, it is 7."):
        assert check_math(turned, "7").correct, turned
    assert check_math("So we get 6. Is 7 possible? No, 8 is.", "8").correct  # (the value "No" turns to)


@pytest.mark.parametrize("completion", [
    "So we get 6. Previously, I had 7.", "So we get 6. Earlier I got 7.", "So we get 6. I previously got 7.",
    "So we get 6. My earlier answer was 7.", "Thus we have 6 apples. At first I thought 7 apples.",
])
def test_a_concluded_prose_value_then_the_writers_earlier_value_is_the_answer(completion):
    # the value the writer had before, read last, scored for the gold 7 and the concluded 6 scored 0
    assert check_math(completion, "6").correct and not check_math(completion, "7").correct
    # (a story's value may be the one asked: "Previously, I had 7 apples.", "Initially there were 7." keep 7; a value
    # after the earlier one is read as before)
    for kept, gold in (("Thus we have 6 apples. Previously, I had 7 apples.", "7"), ("So we get 6. Initially there were 7.", "7"),
                       ("So we get 6. Previously, I had 7. Now I get 8.", "8")):
        assert check_math(kept, gold).correct, kept


@pytest.mark.parametrize("gold", ["does not exist", "no real solutions", "there is no solution", "cannot be determined",
                                  "not enough information", "all real numbers", "Does not exist."])
def test_a_gold_of_a_few_words_is_what_it_says(gold):
    """A gold of three or more words read as prose (a worked solution) whose last number is its answer; with no number
    in it every completion scored "bad gold", the right "\\boxed{\\text{does not exist}}" included."""
    text = gold.rstrip(".")
    assert check_math(f"So \\boxed{{\\text{{{text}}}}}.", gold).correct
    assert check_math("So \\boxed{5}.", gold).reason == "wrong"
    assert check_math("So \\boxed{\\text{it exists}}.", gold).reason == "wrong"


@pytest.mark.parametrize("completion", [
    "So we get 6. Is it 7? Nah.", "So we get 6. Is it 7? Definitely not.", "So we get 6. Is it 7? Of course not.",
    "So we get 6. Could 7 be the answer? Certainly not.", "So we get 6. Is 7 possible? Not really.",
])
def test_a_concluded_prose_value_then_another_asked_and_answered_nah_or_definitely_not_is_the_answer(completion):
    # only "No", "Nope" and "Not quite" answered the question: "Is it 7? Nah." read the denied 7 and scored for the gold 7
    assert check_math(completion, "6").correct and not check_math(completion, "7").correct
    assert check_math("So we get 6. Is it 7? Definitely, it is 7.", "7").correct  # (no denial)


@pytest.mark.parametrize("completion", [
    "We have 6 apples. Is it 7? Nope.", "We have 6 apples. Is it 7? No.", "Is it 7? No.", "We have 6 apples. 7? Nah.",
    "We have 6 apples. Is 7 possible? No.", "There are 6 apples. Hmm, could it be 7? Definitely not.",
])
def test_a_last_value_asked_about_and_answered_no_with_nothing_concluded_is_no_answer(completion):
    # with no concluded value before the question ("We have 6 apples." counts a step), the denied 7 was read last and
    # scored for the gold 7
    assert extract_answer(completion) is None and not check_math(completion, "7").correct
    for kept, gold in (("We have 6 apples. Is it 7? Yes.", "7"), ("We have 6 apples. Is it 7? No, it is 8.", "8"),
                       ("Is 9 prime? No.", "9")):
        assert check_math(kept, gold).correct, kept


@pytest.mark.parametrize("completion", [
    "So we get 6. Is 7 prime? No.", "So we get 6. Is 7 even? No.", "So we get 6. Is 7 divisible by 3? No.",
    "So we get 6. Is 7 a multiple of 4? Nope.", "Thus we get 6. Hmm, is 7 a perfect square? No.",
])
def test_a_concluded_prose_value_then_another_asked_for_a_property_and_answered_no_is_the_answer(completion):
    # the candidate checked for the property and turned down was read last (7, or the 3 of "divisible by 3") and scored
    # for that gold, as "Is 7 possible? No." did before it was read as the concluded 6
    assert check_math(completion, "6").correct
    assert not check_math(completion, "7").correct and not check_math(completion, "3").correct
    # ("? Yes." keeps the candidate; alone, "Is 9 prime? No." may find the composite asked for; the same value asked
    # about is the concluded one)
    for kept, gold in (("So we get 6. Is 7 prime? Yes.", "7"), ("Is 9 prime? No.", "9"), ("So we get 91. Is 91 prime? No.", "91")):
        assert check_math(kept, gold).correct, kept


@pytest.mark.parametrize("completion", [
    "\\boxed{6}. Oops, subtract one: 6 - 1 = 5.", "The answer is 6. Oops, subtract one: 6 - 1 = 5.",
    "\\boxed{6}\n\nOops, I forgot to subtract one: $6 - 1 = 5$.", "\\boxed{6}. Sorry, I forgot the one eaten. 6 - 1 = 5.",
    "So we get 6. Oops, I forgot to subtract one. 6 - 1 = 5.", "\\boxed{6}. Whoops: 6 \\times 1 - 1 = 5.",
])
def test_an_answer_then_an_error_word_and_a_computation_ending_on_another_value_is_a_hedge(completion):
    # "\boxed{6}. Oops, it is 5." is a hedge of both, but the same correction computed ("Oops, subtract one: 6 - 1 = 5.")
    # read the boxed 6 alone and scored for the gold 6
    assert not check_math(completion, "6").correct and not check_math(completion, "5").correct
    # (a check, or a computation that ends on the answer, revises nothing; a box after the correction is the answer)
    for kept, gold in (("\\boxed{6}. Check: 6 * 2 = 12.", "6"), ("\\boxed{6}. Wait, check: 3 * 2 = 6.", "6"),
                       ("\\boxed{6}. Oops, I forgot: 3 * 2 = 6.", "6"), ("\\boxed{6}. Oops, subtract one: 6 - 1 = 5. So \\boxed{5}.", "5")):
        assert check_math(kept, gold).correct, kept


@pytest.mark.parametrize("completion", [
    "The answer is 6.<|endoftext|>Question: What is 3 + 4? Answer: 7",
    "The answer is 6.<|im_end|>\n<|im_start|>user\nWhat is 3 + 4?<|im_end|>\n<|im_start|>assistant\nThe answer is 7.",
    "\\boxed{6}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n3 + 4?<|eot_id|>\\boxed{7}",
    "So we get 6.<end_of_turn>\n<start_of_turn>user\nAnd 3 + 4? So we get 7.",
    # Llama 2's and Mistral's end of sequence, Gemma's, DeepSeek's
    "The answer is 6</s>Question: what is 3+4? Answer: 7",
    "\\boxed{6}</s><s>[INST] And 3 + 4? [/INST] \\boxed{7}",
    "So we get 6.<eos>\nAnd 3 + 4? So we get 7.",
    "\\boxed{6}<\uff5cend\u2581of\u2581sentence\uff5c><\uff5cUser\uff5c>And 3 + 4?<\uff5cAssistant\uff5c>\\boxed{7}",
])
def test_the_text_after_an_end_of_turn_token_is_no_part_of_the_answer(completion):
    # sampled past its end-of-turn token, a model goes on with a made-up next turn, whose value was read last and
    # scored for the gold 7
    assert check_math(completion, "6").correct and not check_math(completion, "7").correct
    # ("The answer is 6<|im_end|>" read "6<|im_end|>", no value, and the right 6 scored 0)
    assert check_math("The answer is 6<|im_end|>", "6").correct and check_math("Final answer: 6<|endoftext|>", "6").correct
    # a "</s>" that closes a strikethrough "<s>" is a tag, not the end ("So we get <s>5" read 5)
    assert check_math("So we get <s>5</s> 7. The answer is \\boxed{7}.", "7").correct


def test_a_run_of_strike_tags_or_end_token_lookalikes_is_scanned_at_once():
    # a "</s>" is the end only where it closes no "<s>" opened before it: the tags are counted, a bounded number of them
    # (the rest of extraction has its own bounds; this is the scan's share, a fraction of them)
    from ponder.verify.math import _end_of_text

    t = time.perf_counter()
    for hostile in ("<s>" * 130_000 + "</s>", "<s " * 130_000, "<s\t" + " " * 390_000, "<\uff5c" * 190_000, "<" * 390_000):
        assert _end_of_text(hostile) == -1
    assert _end_of_text("<s>" * 300 + "</s>" * 301) == -1  # (past the bound: left uncut, as before)
    assert time.perf_counter() - t < 0.5


@pytest.mark.parametrize("completion", [
    # a base model on "Problem: ...\nSolution:" (Qwen3-Base without a chat template, minerva_math's format)
    "3 + 3 = 6, so the answer is \\boxed{6}.\n\nProblem: What is 3 + 4?\nSolution: 3 + 4 = 7, so the answer is \\boxed{7}.",
    "$3+3=\\boxed{6}$.\nFinal Answer: The final answer is $6$. I hope it is correct.\n\nProblem:\nWhat is $3+4$?\n\n"
    "Solution:\n$3+4=\\boxed{7}$.\nFinal Answer: The final answer is $7$. I hope it is correct.",
    # few-shot GSM8K formats (lm-evaluation-harness gsm8k and gsm8k_cot)
    "She has 3 + 3 = 6 apples.\n#### 6\n\nQuestion: Tom has 3 apples and buys 4. How many now?\nAnswer: 3 + 4 = 7\n#### 7",
    "3 + 3 = 6. The answer is 6.\n\nQ: What is 3 + 4?\nA: 3 + 4 = 7. The answer is 7.",
    " 6\n\nQuestion: What is 3 + 4?\nAnswer: 7",
    "The answer is 6.\n\nHuman: And 3 + 4?\n\nAssistant: The answer is 7.",
    "\\boxed{6}\nUser: And 3 + 4?\nAssistant: \\boxed{7}",
    "The answer is 6.\n\n### Instruction:\nWhat is 3 + 4?\n\n### Response:\nThe answer is 7.",
    "**Answer:** 6\n\n**Problem:** What is 3 + 4?\n**Answer:** 7",
    "\\boxed{6}<|user|>\nWhat is 3 + 4?<|assistant|>\n\\boxed{7}",
    # the prompt and the completion scored together: the echo is the prompt, the second problem made up
    "Problem: 3 + 3 = ?\nSolution: The answer is \\boxed{6}.\nProblem: 3 + 4 = ?\nSolution: The answer is \\boxed{7}.",
    # a numbered prompt's next item
    "The answer is 6.\n\nQuestion 2: What is 3 + 4?\nAnswer: 7",
    "\\boxed{6}.\n\n**Problem #3:** What is 3 + 4?\n**Solution:** \\boxed{7}.",
    "3 + 3 = 6. The answer is 6.\n\nQ2: What is 3 + 4?\nA2: 3 + 4 = 7. The answer is 7.",
    # a one-line few-shot format: the opener inside the line, right after the answer's sentence
    "The answer is 6. Question: What is 3 + 4? Answer: 7",
    "Q: What is 3 + 3? A: 3 + 3 = 6. The answer is 6. Q: Tom has 3 apples and buys 4. How many now? A: The answer is 7.",
])
def test_a_made_up_next_problem_after_the_answer_is_no_part_of_it(completion):
    # sampled without a chat template, a base model answers, then writes a new problem of its prompt's format and answers
    # it with no special token: its value was read (7, or "6, 7"), the right 6 scored 0 and a gold 7 scored 1
    assert check_math(completion, "6").correct and not check_math(completion, "7").correct


@pytest.mark.parametrize("completion, gold", [
    # the problem echoed before any answer
    ("Problem: What is 2 + 4?\nSolution: 2 + 4 = 6, so the answer is \\boxed{6}.", "6"),
    ("Question: What is 2 + 4?\nAnswer: 2 + 4 = 6. The answer is 6.", "6"),
    # the writer's own question mid-reasoning, before its final answer
    ("We add 3 and 4.\nQuestion: is 7 prime?\nAnswer: yes.\nSo the answer is \\boxed{7}.", "7"),
    ("3 + 4 = 7.\nQ: Is 7 prime? A: Yes. So the answer is 7.", "7"),
    # a question about the answer just given, answered with a revision: read as before
    ("So the answer is 6.\nQ: Is that right?\nA: No, the answer is 7.", "7"),
    # a made-up problem cut off before its reply (nothing of its own to read)
    ("\\boxed{6}.\n\nProblem: What is 3 + 4?", "6"),
    # the completion's own numbered sub-problems, and its parts ("Part 2:" is no opener)
    ("Problem 1: find x.\nSolution: x = \\boxed{2}.\n\nProblem 2: find 3x + 1.\nSolution: 3 \\cdot 2 + 1 = \\boxed{7}.", "7"),
    ("Part 1: \\boxed{2}.\n\nPart 2: 3 + 4?\nAnswer: \\boxed{7}", "7"),
    # an opener inside a line that is the writer's own question, or not right after the answer's sentence
    ("The answer is 6. Q: Did I miss 1? A: Yes, so the answer is 7.", "7"),
    ("The answer is 6. Problem: the count misses 1. Solution: add it, so the answer is 7.", "7"),
    ("First, 3 + 3 = 6. Question: what is 6 + 1? Answer: 7, so the answer is 7.", "7"),
    ("Answer: 6", "6"),
    ("Solution: 2 + 4 = 6.\nAnswer: 6", "6"),
])
def test_a_turn_opener_with_no_answer_concluded_before_it_or_no_reply_after_it_cuts_nothing(completion, gold):
    assert check_math(completion, gold).correct


def test_a_run_of_turn_openers_is_read_at_once():
    # each opener's check is a pass over the text before it: a degenerate run of them must not make it quadratic
    from ponder.verify.math import _made_up_turn

    t = time.perf_counter()
    for hostile in ("x. Q:" * 78_000, "The answer is 6. Q: 1? A:" * 15_000, ".   " * 99_000, "The answer is 6. Q: " + "1" * 390_000 + "? A: 7"):
        _made_up_turn(hostile)
    assert time.perf_counter() - t < 0.5
    t = time.perf_counter()
    assert extract_answer("We start.\n" + "Q: x\n" * 50_000 + "\\boxed{6}") == "6"
    assert extract_answer("\\boxed{6}\n" + "Q: x\n" * 50_000 + "A: \\boxed{7}") == "6"
    assert time.perf_counter() - t < 2.0


@pytest.mark.parametrize("after", [". Oops, " + "1 + " * 30, ". Sorry, (" + "1 + " * 30, ". Oops, I forgot " + "2 * " * 30 + "x"])
def test_an_error_word_then_a_long_run_of_operations_is_read_at_once(after):
    # the computed-revision pattern read each blank of "1 + 1 + ..." two ways: a run of 30 steps after "Oops" took
    # minutes (a degenerate loop a tiny model writes hung the reward)
    t = time.perf_counter()
    assert extract_answer("\\boxed{6}" + after) == "6"
    assert time.perf_counter() - t < 2.0


@pytest.mark.parametrize("after", [". Oops" + ", 1" * 40 + ", ", ". No wait" + ", $1$" * 40 + ",", ". Actually" + ", 2 and 3" * 20 + " and"])
def test_a_revision_word_then_a_long_unfinished_list_is_read_at_once(after):
    # the revised-list pattern read each blank of "1, 1, ..." two ways (the item's own blanks and the separator's): an
    # unfinished list of 40 values after "Oops" took minutes (a degenerate loop a tiny model writes hung the reward)
    t = time.perf_counter()
    assert extract_answer("\\boxed{6}" + after) is not None
    assert time.perf_counter() - t < 2.0


def test_a_box_queried_and_answered_no_is_taken_back():
    """"\\boxed{6}? No, that is wrong." read 6 and scored for the gold 6, while "The answer is 6? No." gives no answer;
    the box alone with its "?" ("\\boxed{6}?") and "? Yes." keep 6, and "? No, it is 7." turns to 7."""
    for denied in ("\\boxed{6}? No, that is wrong.", "\\boxed{6}? No.", "Is it \\boxed{6}? No.", "\\boxed{6}? Nah."):
        assert extract_answer(denied) is None, denied
        assert not check_math(denied, "6").correct
    for kept in ("\\boxed{6}?", "So \\boxed{6}? Yes.", "\\boxed{6}? No idea why, but yes."):
        assert extract_answer(kept) == "6", kept
    assert extract_answer("\\boxed{6}? No, it is 7.") == "7"


# runs of marks that show nothing between words: Markdown emphasis, TeX spacing, "$" (empty math toggles); and blanks
_FILLERS = [
    "*", "_", "**", " *", "*_", "\\,", "\\;", "\\:", "\\!", "\\, ", "\\quad ", "\\qquad ", "~", "\\hspace{1em}",
    "$", "$ ", "\\,$", " ", "\n",
]
# a hedge, a revision or a retraction after the answer 4: none scores for the gold 4
_AFTER_ANSWER = [
    ("The answer is 4", " or 3"),
    ("\\boxed{4}", " or 3"),
    ("\\boxed{4}", "Wait, 5"),
    ("The answer is 4. ", "Wait, 5"),
    ("\\boxed{4}", "Actually, 5"),
    ("\\boxed{4}", "Sorry, it is 5"),
    ("The answer is 4.", "Sorry, it is 5"),
    ("\\boxed{4}.", " That is wrong."),
    ("\\boxed{4}", ", that's wrong, it is 7."),
    ("The answer is 4.", " That is wrong."),
    ("$\\boxed{4}$", " or 3"),
    ("$$\\boxed{4}$$", "Wait, 5"),
]


@pytest.mark.parametrize("filler", _FILLERS)
def test_a_long_run_of_filler_hides_no_hedge_revision_or_retraction(filler):
    # the windows read after an answer are bounded in characters and only runs of blanks were squeezed: "The answer
    # is 4" + "*" * 1,000 + " or 3" scored for the gold 4 where 100 stars did not ("\\," * 1,000 and "$" * 1,000 before
    # "Wait, 5" too); now a run of 5 marks and one of 100,000 characters give the same verdict, the hedge's
    for before, after in _AFTER_ANSWER:
        for run in (filler * 5, filler * 50, filler * (1_000 // len(filler)), filler * (100_000 // len(filler))):
            text = before + run + after
            assert not check_math(text, "4").correct, (before, filler, len(run), after)


@pytest.mark.parametrize(
    "completion",
    [
        "\\boxed{4}" + "*" * 1_000,
        "**The answer is 4**",
        "***The answer is 4.***",
        "*" * 1_000 + "\\boxed{4}",
        "\\boxed{4}" + "$" * 1_001,
        "The answer is 4" + "\\," * 1_000,
        "The answer is $4$." + "\\quad " * 500,
        "\\boxed{4}" + "~" * 100_000 + ".",
        "**Final answer:**\n\n$$\\boxed{4}$$",
        "$$x = 3 + 1$$\n\n$$\\boxed{4}$$",
        "So $x = 4$. **Answer: 4** ____ ____",
    ],
)
def test_a_run_of_filler_around_an_honest_answer_keeps_it(completion):
    # the squeezed run reads as one blank; "$" at its edges stays, so the math spans around it keep
    assert check_math(completion, "4").correct


@pytest.mark.parametrize("spacing", ["\\quad ", "\\,", "\\,\\,", "\\;\\quad ", "\\hspace{1em}"])
def test_one_to_three_tex_spacing_commands_before_a_word_read_as_a_blank(spacing):
    # 4 or more filler marks read as one blank, fewer did not: "\\boxed{4}\\quad Wait, 5" scored 4 where
    # "\\boxed{4} Wait, 5" did not (the revision's sentence opens after a blank or a sentence's end)
    for before, after in _AFTER_ANSWER:
        after = after.lstrip()
        assert not check_math(before + spacing + after, "4").correct, (before, spacing, after)


@pytest.mark.parametrize("completion, gold", [("The answer is 11,\\!111.", "11111"), ("\\boxed{1\\,000}", "1000"),
                                              ("\\boxed{2\\,\\text{cm}}", "2"), ("\\boxed{4}\\quad", "4"),
                                              ("$x = 4$\\quad and we are done.", "4"),
                                              ("The answer is 4\\hspace{1em}", "4")])
def test_tex_spacing_inside_a_number_or_quantity_is_kept(completion, gold):
    assert check_math(completion, gold).correct


def test_filler_runs_are_read_in_linear_time():
    # 400,000 characters of each filler between the answer and a revision: one pass each
    for filler in ("*", "\\,", "$", "$ ", "\\quad ", "\\hspace{1em}", "*_"):
        text = "\\boxed{4}" + filler * ((400_000 - 20) // len(filler)) + "Wait, 5"
        t = time.perf_counter()
        assert not check_math(text, "4").correct
        assert time.perf_counter() - t < 0.5, filler


@pytest.mark.parametrize("box", ["$\\boxed{4}$", "$$\\boxed{4}$$", "\\boxed{4}$$", "$\\boxed{4}$ $"])
def test_blanks_after_the_math_closing_a_box_are_read_at_once(box):
    # a window of "$$" and 198 blanks after the box took the hedge patterns 2 s (their blanks read by several
    # quantifiers), and past the window the hedge went unseen: "$\\boxed{4}$" + 1,000 spaces + " or 3" scored 4
    t = time.perf_counter()
    assert check_math(box + " " * 300 + "done", "4").correct
    assert not check_math(box + " " * 1_000 + " or 3", "4").correct
    assert time.perf_counter() - t < 0.5
