"""`word`: GSM-style word problems from narrative templates, 2-3 operations each.

Prompt format::

    Problem: Mia buys 4 packs of stickers with 6 stickers in each pack. Then Mia gives away 5 stickers.
    How many stickers does Mia have now?
    Solution:

(one line; wrapped here). The template and its numbers are kept separable so the contamination probe can
re-sample the numbers of the same story (`perturb`) and recompute the gold: an item carries `template`
(template id), `numbers` (slot -> value), `name`, `obj` and `expr` (the template formula with the numbers
substituted, e.g. "4 * 6 - 5", which is how the gold is computed and what step-by-step solutions show).

Each template has a formula over its slots; numbers are drawn uniformly from per-slot ranges and rejected
unless every intermediate value is a positive integer <= MAX_VALUE (exact divisions, nobody has -3 apples).
"""

from __future__ import annotations

import numbers as _numbers
import random
import re
from dataclasses import dataclass

from ponder.errors import PonderError
from ponder.tasks import arith

MAX_VALUE = 400

NAMES = (
    "Mia", "Noah", "Ava", "Liam", "Zoe", "Omar", "Lena", "Ravi", "Sofia", "Kenji", "Amara", "Lucas",
    "Priya", "Diego", "Hana", "Ethan", "Fatima", "Jonas", "Chloe", "Mateo", "Aisha", "Felix", "Nora",
    "Tariq", "Ingrid", "Kofi", "Elena", "Yusuf", "Maya", "Oscar", "Leila", "Hugo", "Grace", "Arjun",
    "Clara", "Theo",
)


@dataclass(frozen=True)
class Template:
    id: str
    text: str  # story and question; {name}, {obj} and the slot names are format fields
    formula: str  # arithmetic over the slot names, e.g. "a * b - c"
    slots: dict  # slot -> (lo, hi) inclusive
    objs: tuple = ("things",)


TEMPLATES: tuple[Template, ...] = (
    Template(
        "packs_give",
        "{name} buys {a} packs of {obj} with {b} {obj} in each pack. Then {name} gives away {c} {obj}. "
        "How many {obj} does {name} have now?",
        "a * b - c", {"a": (2, 9), "b": (2, 12), "c": (1, 40)}, ("stickers", "cards", "marbles", "pencils"),
    ),
    Template(
        "gain_lose",
        "{name} has {a} {obj}. A friend gives {name} {b} more {obj}, and then {name} loses {c} of them. "
        "How many {obj} does {name} have now?",
        "a + b - c", {"a": (5, 90), "b": (2, 60), "c": (1, 60)}, ("marbles", "shells", "coins", "stamps"),
    ),
    Template(
        "weekly_savings",
        "{name} saves {a} dollars every week for {b} weeks. Then {name} spends {c} dollars on a book. "
        "How many dollars does {name} have left?",
        "a * b - c", {"a": (3, 20), "b": (2, 10), "c": (2, 50)},
    ),
    Template(
        "share_equally",
        "{name} has {a} {obj} and buys {b} more. {name} shares all of them equally among {c} friends. "
        "How many {obj} does each friend get?",
        "(a + b) / c", {"a": (4, 80), "b": (2, 60), "c": (2, 9)}, ("apples", "candies", "cookies", "crayons"),
    ),
    Template(
        "garden_rows",
        "{name} plants {a} rows of {obj} with {b} {obj} in each row. Later {name} plants {c} more {obj}. "
        "How many {obj} did {name} plant in total?",
        "a * b + c", {"a": (2, 12), "b": (2, 12), "c": (1, 50)}, ("tulips", "roses", "trees", "sunflowers"),
    ),
    Template(
        "bake_bags",
        "{name} bakes {a} trays of cookies with {b} cookies on each tray. {name} eats {c} cookies and packs "
        "the rest into bags of {d}. How many bags does {name} fill?",
        "(a * b - c) / d", {"a": (2, 8), "b": (3, 12), "c": (1, 20), "d": (2, 9)},
    ),
    Template(
        "reading_twice",
        "{name} reads {a} pages on Monday and twice as many pages on Tuesday. On Wednesday {name} reads "
        "{b} pages. How many pages does {name} read in the three days?",
        "a + a * 2 + b", {"a": (3, 60), "b": (2, 60)},
    ),
    Template(
        "bus_stops",
        "{name} drives a bus with {a} passengers. At the first stop {b} people get off and {c} people get "
        "on. At the second stop {d} people get off. How many passengers are on {name}'s bus now?",
        "a - b + c - d", {"a": (10, 60), "b": (1, 20), "c": (1, 20), "d": (1, 20)},
    ),
    Template(
        "shopping_total",
        "{name} buys {a} {obj} for {b} dollars each and {c} notebooks for {d} dollars each. How many "
        "dollars does {name} spend in total?",
        "a * b + c * d", {"a": (2, 9), "b": (2, 12), "c": (2, 9), "d": (2, 12)}, ("pens", "erasers", "rulers"),
    ),
    Template(
        "age_times",
        "{name} is {a} years old. {name}'s grandmother is {b} times as old as {name}. How old will the "
        "grandmother be in {c} years?",
        "a * b + c", {"a": (5, 15), "b": (4, 9), "c": (2, 20)},
    ),
    Template(
        "temperature",
        "In the morning {name}'s thermometer shows {a} degrees. The temperature rises by {b} degrees by "
        "noon and then falls by {c} degrees by night. What does {name}'s thermometer show at night?",
        "a + b - c", {"a": (2, 30), "b": (2, 20), "c": (1, 30)},
    ),
    Template(
        "laps_meters",
        "{name} runs {a} laps every day for {b} days. Each lap is {c} meters long. How many meters does "
        "{name} run in all?",
        "a * b * c", {"a": (2, 6), "b": (2, 7), "c": (5, 20)},
    ),
    Template(
        "fruit_baskets",
        "{name} picks {a} apples and {b} oranges. {name} sells {c} of the fruits and puts the rest into "
        "{d} baskets with the same number in each. How many fruits are in each basket?",
        "(a + b - c) / d", {"a": (5, 60), "b": (5, 60), "c": (1, 40), "d": (2, 9)},
    ),
    Template(
        "toys_change",
        "{name} has {a} dollars and buys {b} {obj} that cost {c} dollars each. How many dollars does "
        "{name} have left?",
        "a - b * c", {"a": (20, 200), "b": (2, 9), "c": (2, 15)}, ("toys", "books", "tickets", "kites"),
    ),
    Template(
        "lost_found",
        "{name} had {a} {obj}. {name} lost {b} of them and then found {c} times as many as {name} lost. "
        "How many {obj} does {name} have now?",
        "a - b + b * c", {"a": (10, 80), "b": (2, 12), "c": (2, 5)}, ("keys", "buttons", "beads", "coins"),
    ),
    Template(
        "book_days",
        "A book has {a} pages. {name} has already read {b} pages. If {name} reads {c} pages every day, how "
        "many more days does {name} need to finish the book?",
        "(a - b) / c", {"a": (40, 300), "b": (5, 100), "c": (3, 20)},
    ),
    Template(
        "classroom_groups",
        "{name}'s school has {a} classes with {b} students in each class. {c} students are absent today. "
        "{name} splits the students who came into groups of {d}. How many groups are there?",
        "(a * b - c) / d", {"a": (2, 9), "b": (10, 30), "c": (1, 30), "d": (2, 9)},
    ),
)

BY_ID = {t.id: t for t in TEMPLATES}
_SLOT = re.compile(r"[a-z]+")


def _template(template_id: str) -> Template:
    if not isinstance(template_id, str) or template_id not in BY_ID:  # (a list: "unhashable type", a traceback)
        raise PonderError(f"unknown word template {template_id!r} (known: {', '.join(BY_ID)})")
    return BY_ID[template_id]


def _check_numbers(t: Template, numbers: dict) -> None:
    if set(numbers) != set(t.slots):
        raise PonderError(f"word template {t.id!r} needs numbers for {sorted(t.slots)}, got {sorted(numbers)}")
    # The story shows a number as given and the gold took int() of it: 2.5 packs gave the gold of 2 packs.
    # (A numpy integer is an integer: it was refused as "must be an integer, got int64 2".)
    for k, v in numbers.items():
        if isinstance(v, bool) or not isinstance(v, _numbers.Integral):
            raise PonderError(f"word template {t.id!r}: number {k!r} must be an integer, got {type(v).__name__} "
                              f"{v!r:.40}")


def expr_for(template_id: str, numbers: dict) -> str:
    """The template formula with the numbers substituted, e.g. "4 * 6 - 5"."""
    t = _template(template_id)
    _check_numbers(t, numbers)
    return _SLOT.sub(lambda m: str(int(numbers[m.group()])), t.formula)


def render(template_id: str, numbers: dict, name: str = "Mia", obj: str | None = None) -> tuple[str, str]:
    """(prompt text, gold answer) for a template and its numbers."""
    t = _template(template_id)
    _check_numbers(t, numbers)
    numbers = {k: int(v) for k, v in numbers.items()}
    story = _one(t.text.format(name=name, obj=obj or t.objs[0], **numbers))
    try:
        answer = arith.evaluate(_substitute(_formula_tree(t), numbers))
    except PonderError as e:  # (it read "9 / 2 is not an integer division", naming neither story nor numbers)
        raise PonderError(f"word template {t.id!r} with numbers {numbers}: {e}") from None
    return f"Problem: {story}\nSolution:", str(answer)


# A count of 1 takes the singular ("gives away 1 sticker", "1 person gets off", not "1 stickers", "1 people
# get off"). Only the counted noun (after an optional "more") and a verb right after it change: "1 of them" and
# "in groups of 1" read right as they are.
_ONE = re.compile(r"(?<![\w.])1 (more )?([a-z]+)\b(?: (get|are)\b)?")
# ("1 times as old" is right as it is; "classes" loses "es": neither is drawn, render() takes any numbers)
_IRREGULAR = {"people": "person", "candies": "candy", "classes": "class", "times": "times"}
_VERB = {"get": "gets", "are": "is"}


def _singular(noun: str) -> str:
    return _IRREGULAR.get(noun) or noun.removesuffix("s")  # (the templates' nouns: stickers, cookies, degrees)


def _one(story: str) -> str:
    def fix(m: re.Match) -> str:
        noun = _singular(m[2])
        verb = "" if m[3] is None else " " + (_VERB[m[3]] if noun != m[2] else m[3])
        return f"1 {m[1] or ''}{noun}{verb}"

    return _ONE.sub(fix, story)


def _substitute(node, numbers: dict) -> arith.Tree:
    if isinstance(node, str):
        return int(numbers[node])
    if isinstance(node, int):
        return node
    return (node[0], _substitute(node[1], numbers), _substitute(node[2], numbers))


def _formula_tree(t: Template) -> arith.Tree:
    """The formula parsed once, slots as strings: substituting numbers is then a cheap tree walk."""
    if t.id not in _TREES:
        sentinel = {s: 10**9 + i for i, s in enumerate(t.slots)}
        back = {v: s for s, v in sentinel.items()}

        def relabel(node: arith.Tree) -> arith.Tree:
            if isinstance(node, int):
                return back.get(node, node)
            return (node[0], relabel(node[1]), relabel(node[2]))

        _TREES[t.id] = relabel(arith.parse(_SLOT.sub(lambda m: str(sentinel[m.group()]), t.formula)))
    return _TREES[t.id]


_TREES: dict[str, arith.Tree] = {}


def _valid(t: Template, numbers: dict) -> bool:
    def value(node) -> int | None:
        if isinstance(node, str):
            return numbers[node]
        if isinstance(node, int):
            return node
        a, b = value(node[1]), value(node[2])
        if a is None or b is None or (node[0] == "/" and a % b):
            return None  # a non-exact division
        v = arith.apply(node[0], a, b)
        return v if 0 < v <= MAX_VALUE else None

    return value(_formula_tree(t)) is not None


def _sample_numbers(rng: random.Random, t: Template) -> dict:
    while True:
        numbers = {s: arith.randint(rng, lo, hi) for s, (lo, hi) in t.slots.items()}
        if _valid(t, numbers):
            return numbers


def _item(t: Template, numbers: dict, name: str, obj: str) -> dict:
    prompt, answer = render(t.id, numbers, name=name, obj=obj)
    return {"prompt": prompt, "answer": answer, "template": t.id, "numbers": dict(numbers), "name": name,
            "obj": obj, "expr": expr_for(t.id, numbers)}


def sample(rng: random.Random) -> dict:
    t = rng.choice(TEMPLATES)
    numbers = _sample_numbers(rng, t)
    return _item(t, numbers, rng.choice(NAMES), rng.choice(t.objs))


def canonical(item: dict) -> str:
    # The name and object are decoration: the same template with the same numbers is the same problem,
    # so it must never sit in both splits.
    return item["template"] + "|" + ",".join(f"{k}={item['numbers'][k]}" for k in sorted(item["numbers"]))


def perturb(item: dict, seed: int) -> dict:
    """The same story (template, name, object) with freshly drawn numbers and a recomputed gold.

    The new numbers always differ from the old ones, and the new problem stays in the original item's
    split (so perturbing test items never hands the probe a training problem)."""
    from ponder.tasks import SPLITS, finish, split_of  # late import: ponder.tasks imports this module

    try:
        t = _template(item.get("template"))
    except PonderError as e:  # (which item of a --data file: the message named the template alone)
        task = item.get("task")
        if task is not None and task != "word":  # an arith item was called a "word item" with an unknown template
            raise PonderError(f"cannot perturb item {item.get('id')!r}: it is a {task!r} item, not a word item "
                              "(only word problems have a template whose numbers can be re-sampled)") from None
        raise PonderError(f"cannot perturb word item {item.get('id')!r}: {e}") from None
    nums = item.get("numbers")
    if isinstance(nums, dict):  # a Parquet struct holds every template's slots, null where a template has none
        nums = {k: v for k, v in nums.items() if v is not None or k in t.slots}
        item = {**item, "numbers": nums}
    # Numbers that do not fit the template were "perturbed" into a full problem of another story, silently; a
    # text "4" compared unequal to a redrawn 4, so the same problem could come back as its own perturbed copy.
    if (not isinstance(nums, dict) or set(nums) != set(t.slots)
            or any(isinstance(v, bool) or not isinstance(v, _numbers.Integral) for v in nums.values())):
        raise PonderError(f"cannot perturb word item {item.get('id')!r}: its numbers {nums!r:.80} are not integers "
                          f"for the slots {', '.join(t.slots)} of template {t.id!r}")
    item = {**item, "numbers": {k: int(v) for k, v in nums.items()}}  # (numpy integers as the ints they are)
    for key in ("name", "obj"):  # the story's decoration, written into it as it is: 5 made "5 packs of 5"
        if item.get(key) is not None and not isinstance(item[key], str):
            raise PonderError(f"cannot perturb word item {item.get('id')!r}: its {key} {item[key]!r:.40} is not text")
    split = item.get("split") or split_of(canonical(item))
    if split not in SPLITS:  # no problem hashes into it: 100,000 draws, then "too few problems"
        raise PonderError(f"cannot perturb word item {item.get('id')!r}: its split {split!r} is not one of "
                          f"{', '.join(SPLITS)}")
    rng = random.Random(f"perturb:{canonical(item)}:{seed}")
    for _ in range(100_000):
        numbers = _sample_numbers(rng, t)
        new = _item(t, numbers, item.get("name") or NAMES[0], item.get("obj") or t.objs[0])  # (null: default)
        if numbers != item["numbers"] and split_of(canonical(new)) == split:
            new = finish("word", split, new)
            new["perturbed_from"] = item.get("id")
            return new
    raise PonderError(f"cannot perturb word item {item.get('id')!r}: template {t.id!r} has too few problems")
