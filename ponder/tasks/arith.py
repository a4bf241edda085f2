"""`arith`: multi-step integer arithmetic, plus the small expression engine the other tasks share.

Problem format (exact text fed to the model; no chat template)::

    Problem: (3 + 4) * 5 - 2 = ?
    Solution:

The gold answer is the integer value as a string ("33"); the item keeps `expr` (the canonical expression
text, which is also what the train/test split hashes) and `n_ops`.

Why these ranges: every *single* operation (a sum or difference of two-digit numbers, a product with a
factor <= 12) is something a ~1-3M parameter model can learn from drill lines and worked steps, but
2-4 chained operations done "in its head" are not. That gap is what makes step-by-step answers right and
terse answers wrong for the tiny model, and gives RL something to improve.

Expressions are trees: an `int` leaf or `(op, left, right)`. `render` writes the minimal parentheses that
make `parse` give back the *same* tree (so "3 + (4 + 5)" keeps its parentheses), and `arith_steps` evaluates
one operation at a time in post-order, left to right, which is precedence order for the rendered text.
"""

from __future__ import annotations

import random
import re
from typing import Union

from ponder.errors import PonderError

Tree = Union[int, tuple]  # int | (op, Tree, Tree)

PREC = {"+": 1, "-": 1, "*": 2, "/": 2}
N_OPS = (2, 3, 4)  # operations per problem, drawn uniformly
OP_WEIGHTS = {"+": 0.35, "-": 0.35, "*": 0.30}  # no division in `arith` (word and countdown use it)
ADD_LEAF = (1, 20)  # leaf range under + and -
MUL_LEAF = (2, 9)  # leaf range under *
MUL_MAX_FACTOR = 12  # one side of every product stays <= 12: a times-table fact, learnable
VALUE_RANGE = (-99, 99)  # the final value; intermediates stay in [0, 99]
# Two-digit numbers throughout: every step is a one- or two-digit operation that the tiny model learns in
# its 20-minute pretraining budget (measured: with values up to 400 it reached 78% per-digit accuracy on
# worked steps after 4M tokens, too little for whole solutions), while 2-4 of them chained "in its head"
# stay out of reach.
# Intermediate values stay >= 0: a negative intermediate makes later steps like "5 - (-7)" or "-7 * 3", a
# second skill the tiny model would have to learn before steps help it. Only the final answer may be negative.

_TOKEN = re.compile(r"\s*(?:(\d+)|([-+*/()]))")


def _tokens(expr: str) -> list[tuple[str, int]]:
    """(token, position of its first character in `expr`) pairs: errors name where the problem is."""
    out, pos, end = [], 0, len(expr.rstrip())
    while pos < end:
        m = _TOKEN.match(expr, pos)
        if not m:
            at = len(expr) - len(expr[pos:].lstrip())  # the bad character, not the whitespace before it
            raise PonderError(f"cannot parse arithmetic {expr!r}: unexpected {expr[at]!r} at position {at}")
        tok = m.group(1) or m.group(2)
        out.append((tok, m.end() - len(tok)))
        pos = m.end()
    return out


def parse(expr: str) -> Tree:
    """Parse `expr` (integers, + - * /, parentheses, negative literals) into a tree."""
    toks = _tokens(expr)
    if not toks:
        raise PonderError(f"cannot parse arithmetic {expr!r}: empty expression")
    end = len(expr.rstrip())
    pos = 0

    def fail(what: str) -> PonderError:
        return PonderError(f"cannot parse arithmetic {expr!r}: {what}")

    def peek() -> str | None:
        return toks[pos][0] if pos < len(toks) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(toks):
            after = f" after {toks[-1][0]!r} at position {toks[-1][1]}"
            raise fail(f"unexpected end{after}: expected a number or '('")
        pos += 1
        return toks[pos - 1][0]

    def primary() -> Tree:
        t = take()
        at = toks[pos - 1][1]
        if t == "(":
            node = additive()
            if peek() != ")":
                got = f"the end at position {end}" if peek() is None else f"{peek()!r} at position {toks[pos][1]}"
                raise fail(f"missing ')' for the '(' at position {at}: found {got}")
            take()
            return node
        if t == "-" and peek() is not None and peek().isdigit():
            return -int(take())
        if t.isdigit():
            return int(t)
        raise fail(f"unexpected {t!r} at position {at}: expected a number or '('")

    def multiplicative() -> Tree:
        node = primary()
        while peek() in ("*", "/"):
            op = take()
            node = (op, node, primary())
        return node

    def additive() -> Tree:
        node = multiplicative()
        while peek() in ("+", "-"):
            op = take()
            node = (op, node, multiplicative())
        return node

    tree = additive()
    if pos != len(toks):
        t, at = toks[pos]
        why = "no '(' to close" if t == ")" else "expected an operator"
        raise fail(f"unexpected {t!r} at position {at}: {why}")
    return tree


def apply(op: str, a: int, b: int) -> int:
    """One integer operation; division must be exact (these tasks never produce fractions)."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise PonderError(f"division by zero in {a} / {b}")
    if a % b:
        raise PonderError(f"{a} / {b} is not an integer division")
    return a // b


def evaluate(tree: Tree) -> int:
    if isinstance(tree, int):
        return tree
    op, left, right = tree
    return apply(op, evaluate(left), evaluate(right))


def render(tree: Tree) -> str:
    """Text with the fewest parentheses that still parses back to this exact tree."""
    if isinstance(tree, int):
        return str(tree)
    op, left, right = tree
    lt, rt = render(left), render(right)
    if isinstance(left, tuple) and PREC[left[0]] < PREC[op]:
        lt = f"({lt})"
    # Left-associative parsing: a right child of equal precedence needs parentheses to stay a right child.
    if isinstance(right, tuple) and PREC[right[0]] <= PREC[op]:
        rt = f"({rt})"
    return f"{lt} {op} {rt}"


def _operand(v: int, right: bool) -> str:
    # "5 - (-7)" reads better than "5 - -7"; a negative left operand needs no brackets.
    return f"({v})" if right and v < 0 else str(v)


def tree_steps(tree: Tree, corrupt: dict[int, int] | None = None) -> list[tuple[str, int]]:
    """Steps "a op b = c" in evaluation order. `corrupt` maps a step index to an error added to that
    step's result; later steps then use the wrong value (a consistent but wrong chain, for corpus noise)."""
    corrupt = corrupt or {}
    steps: list[tuple[str, int]] = []

    def walk(node: Tree) -> int:
        if isinstance(node, int):
            return node
        op, left, right = node
        a, b = walk(left), walk(right)
        v = apply(op, a, b) + corrupt.get(len(steps), 0)
        steps.append((f"{_operand(a, False)} {op} {_operand(b, True)} = {v}", v))
        return v

    walk(tree)
    return steps


def arith_steps(expr: str) -> list[tuple[str, int]]:
    """One operation at a time, in precedence order:
    "(3 + 4) * 5 - 2" -> [("3 + 4 = 7", 7), ("7 * 5 = 35", 35), ("35 - 2 = 33", 33)]."""
    return tree_steps(parse(expr))


def leaves(tree: Tree) -> list[int]:
    if isinstance(tree, int):
        return [tree]
    return leaves(tree[1]) + leaves(tree[2])


def random_tree(rng: random.Random, n_ops: int, leaf, op_weights: dict[str, float]) -> Tree:
    """A random tree shape with `n_ops` operations; `leaf(rng, parent_op)` draws each leaf."""
    total = sum(op_weights.values())
    table = list(op_weights.items())

    def pick() -> str:  # rng.choices, minus its overhead: this runs in rejection loops
        r = rng.random() * total
        for op, w in table:
            r -= w
            if r < 0:
                return op
        return table[-1][0]

    def build(k: int, parent: str) -> Tree:
        if k == 0:
            return leaf(rng, parent)
        op = pick()
        nl = int(rng.random() * k)  # 0 .. k-1: how many operations go to the left subtree
        return (op, build(nl, op), build(k - 1 - nl, op))

    return build(n_ops, "")


def randint(rng: random.Random, lo: int, hi: int) -> int:
    """rng.randint(lo, hi) at a third of the cost; generators call it in tight rejection loops."""
    return lo + int(rng.random() * (hi - lo + 1))


def _arith_leaf(rng: random.Random, parent: str) -> int:
    return randint(rng, *MUL_LEAF) if parent == "*" else randint(rng, *ADD_LEAF)


def _acceptable(tree: Tree) -> bool:
    """Final value in VALUE_RANGE, intermediates in [0, hi]; every product has a small, non-zero factor."""
    lo, hi = VALUE_RANGE

    def ok(node: Tree, root: bool = False) -> int | None:
        if isinstance(node, int):
            return node
        op, left, right = node
        a = ok(left)
        b = ok(right) if a is not None else None
        if a is None or b is None:
            return None
        if op == "*" and (min(abs(a), abs(b)) > MUL_MAX_FACTOR or a == 0 or b == 0):
            return None
        v = apply(op, a, b)
        return v if (lo if root else 0) <= v <= hi else None

    return ok(tree, root=True) is not None


def prompt_for(expr: str) -> str:
    return f"Problem: {expr} = ?\nSolution:"


def sample(rng: random.Random) -> dict:
    """One random problem (no split, no id yet: `ponder.tasks.generate` adds those)."""
    n_ops = rng.choice(N_OPS)
    while True:
        tree = random_tree(rng, n_ops, _arith_leaf, OP_WEIGHTS)
        if _acceptable(tree):
            break
    expr = render(tree)
    return {"prompt": prompt_for(expr), "answer": str(evaluate(tree)), "expr": expr, "n_ops": n_ops}


def canonical(item: dict) -> str:
    return item["expr"]
