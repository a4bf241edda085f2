"""Instruction-following constraints in the style of IFEval, checked by plain code.

Each constraint is a dict `{"type": ..., **params}`. Counting constraints take any of `n` (exact), `min`, `max`.
`check_constraints` returns `score` = fraction of constraints met and `correct` = all met; the reason names the
failed ones. By default only the text after the (first) "</think>" is checked: the constraints are about the
response, not the reasoning (a "<think>" never closed, or only blanks or no word after it, is no response: score 0).

Types (params):
    word_count, sentence_count, paragraph_count, char_count, bullet_count,
    capital_words, highlights, placeholders, sections           n | min | max  (sections: splitter="Section")
    keywords (keywords: list)            all present, case-insensitive whole words
    forbidden_words (keywords: list)     none present
    keyword_frequency (keyword, n|min|max)
    letter_frequency (letter, n|min|max) case-insensitive
    lowercase, uppercase, no_commas, quotation (whole response in double quotes)
    json                                 the response is valid JSON (a ```json fence around it is allowed)
    title                                a title wrapped in <<double angular brackets>>
    starts_with (phrase), ends_with (phrase)   case-insensitive, surrounding whitespace and double quotes ignored
    postscript (marker="P.S.")           a line starting with the marker
    words_start_with (letter)            every word starts with the letter
    separated_responses (n=2)            n different responses separated by ******
Paragraphs are separated by blank lines or a *** line.
"""

from __future__ import annotations

import bisect
import functools
import html
import itertools
import json
import re
import string
import unicodedata

from ponder.errors import PonderError
from ponder.verify.verdict import Verdict

# an apostrophe joins ("don't" is one word), a hyphen does not: joined, "one-two-three-four-five" was one word,
# a whole answer packed under a word_count max and "s-anything" met words_start_with (IFEval counts \w+ runs)
# An apostrophe joins a contraction's ending only ("don't", "we'll", "NASA's", "rock'n'roll" is two): joining any
# letters, "one'two'three'four" was one word, packed under a word_count max as the hyphen's was
# A name's one-letter elided prefix joins too ("O'Brien", "D'Angelo", "L'Oréal", "O'NEILL"): split, "O" counted a
# capital word and a name two words. Only before a capital and a letter: one one-letter word at most packs into one.
_WORD = re.compile(r"(?:[^\W\d_]['’](?=(?-i:[A-Z])[^\W\d_]))?[^\W_]+(?:['’](?:[stdmn]|re|ve|ll|em)(?![^\W_]))*",
                   re.IGNORECASE)
# only from the start of a run of marks: tried at every mark, "...." without a space after backtracked over the
# rest of the run each time, quadratic (20,000 dots took 5 s). CJK full stops need no space after them: a Chinese
# answer of three sentences was one. Closing quotes and brackets may follow the mark: 'He said "Stop." Then' is two.
# Other scripts' marks and look-alikes end sentences too: with a one dot leader ("․", drawn as "."), "‼", a
# full-width "．", Arabic "؟", Hindi "।", a response of many sentences met a sentence_count max as one
_MARKS = ".!?\u2024\u203c\u2047\u2048\u2049\u061f\u06d4\u0964\u0965\u1362\u1367"
# Markdown emphasis may close after the mark too: "**Important.** Read this." is two (IFEval ends one at every ".")
_SENTENCE_END = re.compile(rf"(?<![{_MARKS}])[{_MARKS}]+[\"'”’»)\]*_]*(?=\s|$)|[。！？｡．﹒﹖﹗]+[」』”）*_]*")
_PARAGRAPH_SPLIT = re.compile(r"\n[ \t\r]*\n|^[ \t]*\*\*\*[ \t]*$", re.MULTILINE)
# Markdown's "+" is a bullet too, as are the usual Unicode ones: "* a\n+ b\n◦ c" (three bullets) met n=1. A rule
# ("* * *", "- - -") is none: each counted one
_BULLET = re.compile(r"^[ \t]*([*\-+•◦‣▪●⁃])[ \t]+(?![*\-_][ \t]*(?:[*\-_][ \t]*)+$)\S", re.MULTILINE)
# patterns are linear-time on hostile input: no nested quantifiers that can backtrack over the same text
# as in Markdown, emphasis neither starts nor ends with a space: "* **Key** point" is a bullet and one highlight
# (the bullet's star paired with the bold's first one, " ", and hid the highlight)
_HIGHLIGHT = re.compile(r"\*{1,2}([^\s*](?:[^\n*]*[^\s*])?)\*{1,2}")
_EMPHASIS = re.compile(r"(\*{1,3})([^\s*](?:[^\n*]*[^\s*])?)\1")
_STRIKE = re.compile(r"(~~?)([^\s~](?:[^\n~]*[^\s~])?)\1(?!~)")
_PLACEHOLDER = re.compile(r"\[[^\[\]\n]+\]")
_TITLE = re.compile(r"<<([^\n<>]+)>>")


# Characters that render as nothing (zero-width space/joiners, soft hyphen, BOM: Unicode category Cf).
# Left in, they split one visible word into many ("a\u200bb\u200bc" counted 3 words), pad char_count
# invisibly and hide a forbidden word ("c\u200bat"): the response is checked as it is read.
# A line of them alone is no blank line (Markdown's blank line has only spaces and tabs): it goes, its neighbours one
# paragraph ("A.\n\u200b\nB." shows "A. B."), not two made of one for a paragraph_count.
def _visible(t: str) -> str:
    if t.isascii():
        return t
    t = _overridden(t) if "\u202e" in t or "\u202d" in t else t
    shown = "".join(" " if ch in _BLANK_LETTERS else ch for ch in t
                    if unicodedata.category(ch) != "Cf" and ch not in _IGNORABLE)
    if "\n" not in shown or shown == t:
        return shown
    return "\n".join(o for w, o in zip(t.split("\n"), shown.split("\n")) if o.strip(" \t\r") or not w.strip(" \t\r"))


def _overridden(t: str) -> str:
    """The text in the order it is shown: a right-to-left override (U+202E) shows what follows it, to its pop (U+202C)
    or the line's end, reversed: "\u202etac\u202c" shows "cat" (an embedding or isolate in it stays one block)."""
    stack: list = [("", [])]
    for ch in t + "\n":
        if ch in "\u202a\u202b\u202d\u202e\u2066\u2067\u2068":
            stack.append((ch, []))
        elif ch in "\u202c\u2069\n" and len(stack) > 1:
            while len(stack) > 1:  # (a line break ends them all)
                kind, items = stack.pop()
                stack[-1][1].append(_shown_reversed(items) if kind == "\u202e" else "".join(items))
                if ch != "\n":
                    break
            if ch == "\n":
                stack[-1][1].append(ch)
        else:
            stack[-1][1].append(ch)
    return "".join(stack[0][1])[:-1]


def _shown_reversed(items: list) -> str:
    """An override run as read: its items reversed ("tac" shows "cat"), but a run of right-to-left letters (Hebrew,
    Arabic) is shown right to left as ever and read in its written order: reversed, "shalom" in Hebrew
    read backwards, and a keyword in it was never met"""
    out = []
    for rtl, group in itertools.groupby(items[::-1], key=lambda x: len(x) == 1 and unicodedata.bidirectional(x) in _RTL):
        run = list(group)
        out += run[::-1] if rtl else run
    return "".join(out)


_RTL = frozenset(("R", "AL", "NSM"))


# Invisible too though not Cf (Unicode's default-ignorable marks): combining grapheme joiner, variation selectors,
# Mongolian and Khmer ones; "one\u034ftwo" was two words and "c\u034fat" no "cat". Hangul fillers are letters
# (Lo) that render as a blank: "one\u3164two" reads "one two", not one word. The braille blank renders as one too
# (a symbol str.strip keeps): a response of it alone was no empty response and met every "no ..."/"at most" constraint
_IGNORABLE = frozenset("\u034f\u17b4\u17b5" + "".join(map(chr, [*range(0x180B, 0x1810), *range(0xFE00, 0xFE10),
                                                              *range(0xE0100, 0xE01F0)])))
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


# Letters that look the same as Latin ones: Cyrillic, Greek, Armenian, Coptic, Cherokee, Lisu letters and Latin small
# capitals, after Unicode's confusables (UTS #39): "сat" with a Cyrillic "с" reads as "cat". With only the commonest
# Cyrillic and Greek ones, "ᴄat", "cɑt", "ꓚAT", "ᏟAT" (small capital, Latin alpha, Lisu, Cherokee) and Greek "ι",
# "ν" hid a forbidden word. Typographic apostrophes are the ASCII one: "don’t" (as chat models write it) did not
# hold a forbidden "don't"
_LOOKALIKES = {
    "a": "аαɑ⍺", "c": "сϲᴄⲥ", "d": "ԁ", "e": "еҽ", "g": "ɡց", "h": "һհ", "i": "іıɩι", "j": "јϳ", "l": "ӏǀ", "n": "ո",
    "o": "оοօᴏⲟ", "p": "рρⲣ", "q": "ԛզ", "r": "г", "s": "ѕꜱ", "u": "սυᴜʋ", "v": "νѵᴠ", "w": "ԝѡɯᴡ", "x": "х",
    "y": "уүʏ", "z": "ᴢ", "A": "АΑᎪꓮ", "B": "ВΒᏴꓐ", "C": "СϹᏟꓚ", "D": "Ꭰꓓ", "E": "ЕΕᎬꓰ", "F": "Ϝꓝ", "G": "ԌᏀꓖ",
    "H": "НΗᎻꓧҺ", "I": "ІΙӀꓲ", "J": "ЈᎫꓙ", "K": "КΚᏦꓗ", "L": "Ꮮꓡ", "M": "МΜᎷꓟ", "N": "Νꓠ", "O": "ОΟՕꓳ",
    "P": "РΡᏢꓑ", "Q": "Ԛ", "R": "Ꭱꓣ", "S": "ЅᏚՏꓢ", "T": "ТΤᎢꓔ", "U": "Սꓴ", "V": "Ꮩꓦ", "W": "ԜᎳꓪ", "X": "ХΧꓫ",
    "Y": "ΥҮꓬ", "Z": "ΖᏃꓜ", "'": "’ʼ",
}
_CONFUSABLE = str.maketrans({ch: latin for latin, chars in _LOOKALIKES.items() for ch in chars})


def _fold(t: str) -> str:
    """What a reader sees, for matching words and letters: NFKC (full-width "ｃａｔ" is "cat") and look-alikes, mapped
    before NFKC too (it turns a lunate sigma "ϲ", a look-alike "c", into a "σ")."""
    if t.isascii():
        return t
    return unicodedata.normalize("NFKC", t.translate(_CONFUSABLE)).translate(_CONFUSABLE)


# commas by look: ASCII, full-width, small, single low-9 quotation mark, ideographic, Arabic; and every other
# punctuation mark Unicode names a comma (vertical forms "︐", "︑", Armenian, Mongolian, turned, ...): a response
# written with them met no_commas. And the look-alikes Unicode's confusables list for ",": Arabic date and decimal
# separators, a spacing cedilla, the Lisu tone letter, the low acute modifier ("one\ua4f9 two" met no_commas)
_COMMAS = frozenset(",\uff0c\ufe50\u201a\u3001\ufe51\uff64\u060c\u2e34\u2e41\u060d\u066b\u00b8\ua4f9\u02cf" + "".join(map(chr, [
    0x55D, 0x7F8, 0x1363, 0x1802, 0x1808, 0x2E32, 0x2E49, 0x2E4C, 0xA4FE, 0xA60D, 0xA6F5, 0xFE10, 0xFE11, 0x1144D,
    0x1145A, 0x16E97, 0x1DA87])))


def _words(t: str) -> list[str]:
    if not t.isascii():  # combining marks are no \w: Hindi "नमस्ते दुनिया" (2 words) counted 5; they go with their letter
        t = t.translate({ord(ch): None for ch in set(t) if unicodedata.category(ch).startswith("M")})
    return _WORD.findall(t)


def _chars(t: str) -> int:
    """Characters as read: a combining mark is part of its base character ("e\u0301" is one "é"). Counted as code
    points, 10 letters each under 9 stacked accents met a "min 100 characters"; decomposed text counted double."""
    t = t.strip()
    if t.isascii():
        return len(t)
    return sum(1 for ch in unicodedata.normalize("NFC", t) if not unicodedata.category(ch).startswith("M"))


# A period that ends no sentence, as IFEval reads it: after a title ("Dr. Smith"), "e.g."/"i.e.", an initial
# ("J. K. Rowling"), and an ellipsis ("Well... maybe", as "…"); and after a list item's number ("1. Buy milk")
_ABBREVIATIONS = frozenset("mr mrs ms dr prof st vs e.g i.e".split())
_NO_CLOSERS = str.maketrans("", "", "\"'”’»)]」』）*_")
# a dotted abbreviation ("U.S.", "p.m.", "Ph.D."): IFEval's splitter keeps it inside its sentence, unless a capital
# one is followed by a word that starts one ("in the U.S. It is big" is two)
_DOTTED = re.compile(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}")
_STARTER = re.compile(r"\s+(?:Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He|She|It|They|Their|Our|We|But|However|That|This|"
                      r"Wherever)\b")


def _ends_sentence(t: str, m: re.Match) -> bool:
    mark = m.group().translate(_NO_CLOSERS).replace("\u2024", ".")  # (a one dot leader is a period)
    if mark != ".":
        return mark.strip(".") != ""  # "..." (not "...?")
    before = t[max(0, m.start() - 8):m.start()]  # the word before the period (a longer one is in no list)
    # (in emphasis too: "**Dr.** Smith", "**1.** Buy milk")
    word = before.rsplit(None, 1)[-1].lstrip("(\"'“‘*_") if before.strip() else ""
    if word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return False
    if _DOTTED.fullmatch(word):
        return word.isupper() and bool(_STARTER.match(t, m.end()))
    _, newline, line = before.rpartition("\n")
    return not ((newline or m.start() <= 8) and line.strip(" \t*_").isdigit())


def _capital(word: str) -> bool:
    # a possessive's "'s" is no lowercase: "NASA's" is a capital word (IFEval's tokenizer splits the "'s" off)
    return word.isupper() or (word[-2:] in ("'s", "’s") and word[:-2].isupper())


def _sentences(t: str) -> int:
    count, start = 0, 0
    for m in _SENTENCE_END.finditer(t):
        if _ends_sentence(t, m):
            count += bool(_WORD.search(t, start, m.start()))
            start = m.end()
    return count + bool(_WORD.search(t, start))


def _paragraphs(t: str) -> int:
    # a paragraph has a word, as a sentence does: "---", "* * *" (rules, as "***" is), ".", "**" between blank lines
    # made a paragraph_count min for nothing
    return sum(1 for p in _PARAGRAPH_SPLIT.split(t) if _WORD.search(p))


def _bullets(t: str) -> int:
    # an item says something, as a paragraph does: "* .", "- ?" or "+ **" made a bullet_count min for nothing
    count = 0
    for m in _BULLET.finditer(t):
        end = t.find("\n", m.end())
        count += bool(_WORD.search(t, m.end() - 1, len(t) if end < 0 else end))
    return count


def _in_bounds(count: int, c: dict) -> bool:
    return (c.get("n") is None or count == c["n"]) and (c.get("min") is None or count >= c["min"]) and (
        c.get("max") is None or count <= c["max"])


def _counted(t: str, c: dict, count) -> bool:
    """A count's bounds, read so that text no reader sees (an HTML comment: 10 words shown, "<!-- 500 words -->")
    helps meet neither. A min counts the rendered text only: hidden text cannot pad it. A max counts the larger of
    the text as written and as rendered: hidden text is still in the response (as forbidden_words reads it), a
    comment can join words ("one<!-- -->two"), and what looks like a tag may be text. An exact n is both."""
    views = _renderings(t)
    seen, most = count(views[-1]), max(map(count, views))
    n, lo, hi = c.get("n"), c.get("min"), c.get("max")
    return (n is None or seen == n >= most) and (lo is None or seen >= lo) and (hi is None or most <= hi)


def _occurrences(t: str, word: str) -> int:
    if not word.isascii():  # a Greek or Cyrillic keyword folds apart from its other case ("ΝΑΙ" to "NAI", "ναι" to
        # "vai"): it is looked for as written too
        plain = unicodedata.normalize("NFKC", t)
        return max(_count(_fold(t), _fold(word)), _count(plain, unicodedata.normalize("NFKC", word)))
    return _count(_fold(t), word)


def _count(t: str, word: str) -> int:
    # words as rendered: Markdown emphasis inside a word ("c**a**t", a bold "a") hid a forbidden "cat"
    t = _EMPHASIS.sub(r"\2", t) if "*" in t else t
    # and GFM strikethrough: "c~~a~~t" shows "cat" (a struck "a")
    t = _STRIKE.sub(r"\2", t) if "~" in t else t
    # any run of blanks between a phrase's words, none around it: "machine\nlearning" (one line break renders as a
    # space) and "machine  learning" hid a forbidden "machine learning", and a keyword "cat " was never found
    phrase = r"\s+".join(map(re.escape, word.split()))
    # an underscore ends a word, as in _WORD: "_cat_" and "__cat__" (Markdown italic and bold) hid a forbidden "cat"
    found = re.finditer(r"(?<![^\W_])" + phrase + r"(?![^\W_])", t, re.IGNORECASE)
    if t.isascii():
        return sum(1 for _ in found)
    # a combining mark is part of its word but no \w: "नमस" was found in "नमस्ते" (its virama ends no word)
    return sum(1 for m in found if not (m.start() and unicodedata.category(t[m.start() - 1])[0] == "M")
               and not (m.end() < len(t) and unicodedata.category(t[m.end()])[0] == "M"))


def _no_constant(name: str):
    # Python's json reads NaN, Infinity and -Infinity, which no JSON parser does (RFC 8259): "NaN" met the constraint
    raise ValueError(f"{name} is not JSON")


# (an image's alt text is its text; a title in "...", '...' or (...), as CommonMark reads one: with only the first,
# "c[a](x 'y')t" showed "cat" and hid a forbidden "cat")
_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\([^()\s]*(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*\)")
_HTML_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?/?>")  # (a name, then attributes: "<a, b>" is text)
# a declaration, a processing instruction, a CDATA section: a browser reads each as a bogus comment to its first
# ">", shown as nothing: "c<!x>at", "c<?x?>at" and "c<![CDATA[]]>at" showed "cat" and hid a forbidden "cat"
_RAW_HTML = re.compile(r"<(?:\?|![A-Za-z\[])[^>]*>")
# tags that break a line or a block: a space, not nothing, so that "cat<br>food" stays two words
# (every block element: "<section>One</section><section>two</section>" and "<summary>S</summary>body" read "Onetwo"
# and "Sbody", a word short of a word_count)
_HTML_BREAKS = frozenset("br p div li ul ol hr tr td th table blockquote pre h1 h2 h3 h4 h5 h6 address article aside "
                         "caption center dd details dialog dir dl dt fieldset figcaption figure footer form header "
                         "hgroup legend main menu nav section summary tbody tfoot thead".split())


@functools.lru_cache(maxsize=16)  # (each constraint reads the views of one response: they are found once)
def _renderings(t: str, lines: bool = False) -> tuple[str, ...]:
    """The text, and without its inline HTML (Markdown renders it): "c<b></b>at" and "c<!-- -->at" read "cat" and
    hid a forbidden "cat". (Both are searched: what looks like a tag may be text, "x <y and z> w".) With `lines`, a
    <br> or a block's tag is a line break, not a space, for what starts a line: "Hello.<br>P.S. see you" has a P.S."""
    if "<" not in t and "`" not in t and "&" not in t and "](" not in t and "]:" not in t:
        return (t,)
    # What inline markup leaves (a tag, a hidden <span>, a code span's backticks, a link with no text, a <br>) is
    # marked (`gone`), and a line of nothing else goes: in a paragraph such a line is no blank line, and left blank
    # "A.\n<b></b>\nB." (one paragraph as shown) was two, and met a paragraph_count of 2 with one. A block's tag
    # (a <div> line, an HTML block) does end a paragraph: a space.
    # a code span's backticks render as nothing too: "c`a`t" reads "cat"
    gone, plain = _cut(t)
    if "<!" in plain or "<?" in plain:  # (to the last ">" only: each one's match ends at a ">", linear time)
        end = plain.rfind(">") + 1
        plain = _RAW_HTML.sub(gone, plain[:end]) + plain[end:]
    closed = _closes(plain) if "<<" in plain else set()
    plain = _HTML_TAG.sub(lambda m: m.group() if _titled(m, closed) else ("\n" if lines else " ") + (
        gone if m.group(1).lower() == "br" else "") if m.group(1).lower() in _HTML_BREAKS else gone, plain)
    plain = plain.replace("`", gone)
    # a link shows its text, not its address, and an entity its character: "[ca](x)t" and "&#99;&#97;t" read "cat"
    # and hid a forbidden "cat"; "[dog](https://cat.com)" showed no keyword "cat"
    plain = _LINK.sub(lambda m: m.group(1) or gone, plain) if "](" in plain else plain
    # (a line break's reference is a character, no structure: "A.&#10;&#10;B." is one paragraph as shown, and "Hi&#10;- a"
    # no bullet, a browser shows the line feed as a space; decoded as one, they met paragraph, bullet, section and P.S.
    # minimums with one line)
    plain = _visible(html.unescape(_BREAK_ENTITY.sub(" ", plain))) if "&" in plain else plain
    if gone and gone in plain:
        plain = _GONE_LINE.sub("", plain).replace(gone, "")
    return (t,) if plain == t else (t, plain)  # (one view read once: "x\n[a]: b" lines, no definitions, read twice)


@functools.lru_cache(maxsize=8)
def _cut(t: str) -> tuple[str, str]:
    """The mark for what inline markup leaves (`gone`, "" where the text holds it), and the text without its comments
    and hidden elements, their places marked. Found once per response: both _renderings views and _shown read it
    (found for each, a response's tags were scanned three times, 2-4x the time on a tag-heavy one)."""
    gone = "" if _GONE in t else _GONE
    return gone, _unhidden(_uncommented(t), gone)


_GONE = "\ufdd0"  # (a noncharacter: no text holds it; one that does is read unmarked)
# a line of marks and blanks alone (with a mark), and its line break: the one after it, or before it at the end
_GONE_LINE = re.compile(r"^[ \t]*\ufdd0[ \t\ufdd0]*(?:\n|\Z)|\n[ \t]*\ufdd0[ \t\ufdd0]*\Z", re.MULTILINE)


# a character reference to a line feed or a carriage return (with its semicolon or, as html.unescape reads it, without)
# (the semicolon goes with it: left, "Thank you!&#10;" showed "Thank you! ;" and ended with no "Thank you!", and
# '"Hi."&#10;' with no quote)
_BREAK_ENTITY = re.compile(r"&(?:#0*1[03](?![0-9]);?|#[xX]0*[aAdD](?![0-9a-fA-F]);?|NewLine;)", re.ASCII)


def _unmarked(t: str) -> str:
    """The text without its markup, what is hidden kept: HTML tags (a <<title>>'s text stays), code spans' backticks
    and links' addresses dropped, entities as their characters. A comment's and a hidden element's words are in it."""
    if "<" not in t and "`" not in t and "&" not in t and "](" not in t:
        return t
    closed = _closes(t) if "<<" in t else set()
    u = _HTML_TAG.sub(lambda m: m.group() if _titled(m, closed) else " ", t).replace("`", "")
    u = _LINK.sub(r"\1", u) if "](" in u else u
    return _visible(html.unescape(u)) if "&" in u else u


def _titled(m: re.Match, closed: set) -> bool:
    """Whether a tag is a <<title>>'s inside: "<<The Hidden Valley>>" (as the title constraint asks for one) is text,
    not a tag: read as one, a "hidden" (or "Script", "Style") in a title hid the whole response, scored 0. Not where
    a closing tag after it closes its element (`closed`, from _closes) and the element hides its text, nor a closing
    tag: that is HTML, "<<div hidden>>cat</div>" shows no "cat" (it met a keyword "cat" and hid a forbidden one). An
    element that hides nothing stays a title, closed or not: "<<Form Basics>>" with "close it with </form>" in the
    text after it lost its title (a title met by "<<b>>" alone needs no closing tag either)."""
    return (m.start() > 0 and m.string[m.start() - 1] == "<" and m.string.startswith(">", m.end())
            and m.string[m.start() + 1] != "/" and not (m.start() in closed and (
                m.group(1).lower() in _HIDING or _HIDDEN_ATTR.search(m.group()))))


@functools.lru_cache(maxsize=8)  # (the same text is asked for by _unhidden and _unmarked, and by both rendered views)
def _closes(t: str) -> frozenset:
    """The starts of the opening tags in `t` that a closing tag after them closes, elements of the same name opened
    and closed between them aside (for _titled): in "<<a guide>> see <a href=x>here</a>" the "</a>" closes the link,
    not the title's "<a guide>". (One pass from the end: per name, the lowest running count of closings over
    openings from each tag on.)"""
    out, low = set(), {}
    for m in reversed(list(_HTML_TAG.finditer(t))):
        name, closing = m.group(1).lower(), t[m.start() + 1] == "/"
        after = low.get(name, 0)
        if not closing and after < 0:
            out.add(m.start())
        low[name] = (-1 if closing else 1) + min(0, after)
    return frozenset(out)


# elements whose text no reader sees: a script, a style, ... and any with a "hidden" attribute or a display:none style.
# A collapsed <details> body is no such text: it is on the page, shown by a click on its <summary>, and IFEval-style
# graders read it (a keyword in it is met, a forbidden word in it found, its words counted); only <details hidden> hides
_HIDING = frozenset("script style template noscript".split())
_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
# (what every hiding tag holds: a name in _HIDING, or _HIDDEN_ATTR's "hidden" or "display")
_MAY_HIDE = re.compile(r"<(?:script|style|template|noscript)|hidden|display", re.IGNORECASE)
_HIDDEN_ATTR = re.compile(r"\shidden(?=[\s=/>])|display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# a Markdown link reference definition line ("[//]: # (a comment)", as writers hide notes): it shows nothing
# (a GFM footnote, "[^1]: Smith (2020)", is shown at the page's foot: no definition)
_DEFINITION = re.compile(r"^(?: {0,3}\[(?!\^)[^\[\]\n]+\]:[ \t]*(?:<[^<>\n]*>|[^\s<]\S*)"
                         r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*(?:\n|\Z))+", re.MULTILINE)


# the start tags that close an open <p> (HTML's "in body" rules): a block cannot sit in a paragraph
_CLOSES_P = frozenset("address article aside blockquote center details dialog dir div dl dd dt fieldset figcaption "
                      "figure footer form header hgroup hr li listing main menu nav ol p plaintext pre search section "
                      "summary table ul xmp h1 h2 h3 h4 h5 h6".split())
# a blank line ends a paragraph; in a paragraph's text a heading, a fence, a quote, a rule or a list item (Markdown's
# blocks that interrupt one) ends it too, each rendered as a block that closes a <p>
_BLANK_LINE = re.compile(r"\n[ \t]*(?:\n|\Z)")
_INTERRUPT = re.compile(r"\n {0,3}(?:#{1,6}(?:[ \t]|$)|`{3}|~{3}|>|[-*+][ \t]|1[.)][ \t]|(?:[-*_][ \t]*){3,}$)",
                        re.MULTILINE)


def _paragraph_end(t: str, m: re.Match, found: dict) -> int | None:
    """Where the paragraph of a <p> tag, or of an inline element (_IN_PARAGRAPH), ends. A <p> that starts a line (up
    to 3 spaces in) opens an HTML block, which only a blank line ends; one in a line's text is in a Markdown paragraph,
    which an interrupting block ends too. An inline element alone on its line after a blank one (or at the start)
    opens an HTML block, outside any paragraph: no paragraph ends it (None). (Each kind of end is found once, in `found`, and looked up: many hidden
    <p> tags stay linear.)"""
    if not found:
        found["blank"] = [b.start() for b in _BLANK_LINE.finditer(t)] + [len(t)]
        found["interrupt"] = [b.start() for b in _INTERRUPT.finditer(t)] + [len(t)]
    _, newline, indent = t[max(0, m.start() - 4):m.start()].rpartition("\n")  # (4 back: linear time)
    starts_line = (newline or m.start() < 4) and not indent.strip(" ")
    if m.group(1).lower() != "p":
        line = m.start() - len(indent)
        if starts_line and _LINE_REST.match(t, m.end()) and (line == 0 or not t[t.rfind("\n", 0, line - 1) + 1:line].strip()):
            return None  # (the line before is blank: one in a paragraph's lines continues it, as CommonMark reads it)
        starts_line = False
    kinds = ("blank",) if starts_line else ("blank", "interrupt")
    return min(found[k][bisect.bisect_left(found[k], m.end())] for k in kinds)


# inline elements that a paragraph's end closes, as a <p>'s: "Intro <span hidden>secret\n\nVisible cat" shows
# "Visible cat" (the </p> Markdown writes pops the span). Not the formatting ones (<b>, <i>, <a>, <font>, ...): a
# browser reopens those, attributes and all, in the next paragraph, so a hidden one hides to the end
_IN_PARAGRAPH = frozenset("span abbr acronym bdi bdo cite data del dfn ins kbd label mark output q samp sub sup time "
                          "var".split())
_LINE_REST = re.compile(r"[ \t]*(?:\n|\Z)")


def _unhidden(t: str, gone: str = "") -> str:
    """The text without what renders as nothing: "Dogs <div hidden>cat</div>", "<script>cat</script>" and a
    definition line "[//]: # (cat)" met a keyword "cat" never shown. Code shows them as written; a definition starts
    a paragraph only (after a blank line, the start or another definition), in a paragraph it is text. An inline
    element's place is `gone` (_renderings's mark)."""
    if "]:" not in t and not _MAY_HIDE.search(t):  # (no name nor attribute that hides: nothing to cut, no tag read)
        return t
    code: list = []
    starts: list = []  # (found when first asked: most text has no candidate)

    def in_code(p: int) -> bool:
        if not code:
            _uncommented(t, code, True)
            code.append((len(t) + 1, len(t) + 1))
            starts[:] = [a for a, *_ in code]
        k = bisect.bisect_right(starts, p) - 1
        return k >= 0 and p < code[k][1]

    cuts, hiding, depth, start = [], None, 0, 0
    closed = _closes(t) if "<<" in t else set()
    tags = [m for m in _HTML_TAG.finditer(t) if not _titled(m, closed) and not in_code(m.start())] if "<" in t else []
    # a script, style, template or noscript tag never closed after it is the tag's name in prose ("use the <style>
    # tag"), no element: read as open to the end, it hid every word after it (a keyword there was never met)
    last_close = {m.group(1).lower(): m.start() for m in tags if t[m.start() + 1] == "/"}
    # (where a hidden <p> or <span> ends at the latest, its paragraph's end, and whether it ends with its paragraph)
    end, ends, para = len(t), {}, False
    for m in tags:
        name, closing = m.group(1).lower(), t[m.start() + 1] == "/"
        if para and (m.start() >= end or (not closing and name in _CLOSES_P) or (closing and name == "p"
                                                                                          and hiding != "p")):
            # a <p> is no container: its paragraph's end, another <p> or a block closes it, as a browser reads it (and
            # an inline element in it, a </p> too)
            cuts.append((start, min(end, m.start()), " "))
            hiding, para = None, False
        if hiding is None:
            # (a "/>" closes no element but a void one, as browsers read it: "<p hidden/>cat" hides "cat")
            if name in _HIDING and last_close.get(name, -1) < m.start():
                continue
            if not closing and name not in _VOID and (name in _HIDING or _HIDDEN_ATTR.search(m.group())):
                hiding, depth, start = name, 1, m.start()
                end = _paragraph_end(t, m, ends) if name == "p" or name in _IN_PARAGRAPH else None
                para, end = end is not None, len(t) if end is None else end
        elif name == hiding and (closing or hiding not in _HIDING):  # (a script's text is no element: none nest)
            depth += -1 if closing else 1
            if not depth:
                cuts.append((start, m.end(), " " if hiding in _HTML_BREAKS else gone))
                hiding, para = None, False
    if hiding is not None:  # a hidden element never closed: hidden to the end, as a browser reads it (a <p> to
        # its paragraph's end: "Intro <p hidden>secret\n\nVisible cat" shows "Visible cat", which was hidden)
        cuts.append((start, end, " " if para else ""))
    for m in _DEFINITION.finditer(t) if "]:" in t else ():  # (a run of definition lines, one after another)
        a = m.start()
        if (a == 0 or t[t.rfind("\n", 0, a - 1) + 1:a].isspace()) and not in_code(a):
            cuts.append((a, m.end(), ""))
    out, pos = [], 0
    for a, b, gap in sorted(cuts):
        if b > pos:
            out += [t[pos:a], gap] if a >= pos else []
            pos = max(pos, b)
    return "".join(out) + t[pos:]


# what hides text (a comment) or shows it as written (a fenced code block, a code span), whichever comes first.
# A fence may be indented any amount: in a list item (as chat models nest code under "1. Install:") it sits at the
# item's indent, 4+ spaces in a nested list; not found, its lines counted bullets and highlights. Elsewhere, 4+
# spaces make an indented code block, code as well. A backtick fence's line has no other backtick (CommonMark):
# "```x = 1``` sets x" at a line's start is a code span, and read as a fence never closed it hid all that followed.
# A fence may open on a list item's own line too ("- ```yaml", its lines indented under the item's content).
_COMMENT_OR_CODE = re.compile(r"<!--|^([ \t]*)((?:[-*+]|\d{1,9}[.)])[ \t]+)?(`{3,}(?=[^`\n]*$)|~{3,})|`+",
                              re.MULTILINE)


def _uncommented(t: str, blocks: list | None = None, spans: bool = False) -> str:
    """The text without its HTML comments, which no reader sees; tags are kept ("<<Title>>" looks like one). A
    comment never closed at a line's start hides the rest of the text (Markdown's HTML block, read by a browser to
    the end): "Hi.\n<!--\nP.S. hi" shows no P.S. One in a line, or in code, is shown as written: "Write <!-- (or
    `<!--`) to open one." hides nothing."""
    out, pos, i, runs, closes = [], 0, 0, {}, True
    unclosed: dict = {}  # (fence character, length, indent limit) -> a start no line after closes it from
    for r in re.finditer(r"`+", t):  # where each length of backtick run starts, to find a span's end in one step
        runs.setdefault(len(r.group()), []).append(r.start())
    while m := _COMMENT_OR_CODE.search(t, i):
        run = m.group()
        if run == "<!--":
            # "<!-->" and "<!--->" are empty comments; none closes once one "<!--" found no "-->" after it
            j = t.find("-->", m.start() + 2) if closes else -1
            closes = j >= 0
            _, newline, indent = t[max(0, m.start() - 4):m.start()].rpartition("\n")  # (4 back: linear time)
            if j < 0 and not ((newline or m.start() < 4) and indent.strip(" ") == ""):
                i = m.end()  # in a line it is text, as Markdown renders it: "Write <!-- to open one." hides nothing
                continue
            out.append(t[pos:m.start()])
            if j < 0:  # an HTML block (Markdown's "<!--" at a line's start) runs to the end
                return "".join(out)
            pos = i = j + 3
        elif fence := m.group(3):  # to a closing fence on a later line, or to the end
            # (indented up to 3 columns past the opening one's list item, its marker's width included: a 4+ space
            # "```" in a top-level block is a line of code in it, as CommonMark reads it)
            lead = len(m.group(1).expandtabs(4))
            indent = len((m.group(1) + (m.group(2) or "")).expandtabs(4))
            key, start = (fence[0], len(fence), indent + 3 if indent > 3 else 3), t.find("\n", m.end()) + 1 or len(t)
            # (what found no close from a start finds none from a later one: a thousand indented "```python" lines
            # never closed each searched the rest of the text, quadratic)
            close = None if unclosed.get(key, len(t) + 1) <= start else re.compile(
                rf"^[ \t]{{0,{key[2]}}}{fence[0]}{{{len(fence)},}}[ \t]*$", re.MULTILINE).search(t, start)
            if close is None:
                unclosed[key] = min(start, unclosed.get(key, start))
            if close is None and lead > 3:  # never closed, 4+ spaces in: a line of an indented code block
                i = m.end()
                continue
            i = close.end() if close else len(t)
            if blocks is not None:  # (where it is, for _without_code, and whether its lines say something; an
                # item's marker stays, with a word for its content: "- ```" with code under it is a bullet)
                said = bool(_WORD.search(t, t.find("\n", m.end()) + 1 or len(t), close.start() if close else len(t)))
                blocks.append((m.start(3), i, "x" if m.group(2) and said else "", said))
        else:  # a code span ends at the next run of as many backticks; with none, the backticks are text
            starts = runs.get(len(run), [])
            k = bisect.bisect_left(starts, m.end())
            i = starts[k] + len(run) if k < len(starts) else m.end()
            if spans and blocks is not None and k < len(starts):
                blocks.append((m.start(), i, "x", True))  # (a word in its place: "*see `f`*" stays one highlight)
    return "".join(out) + t[pos:]


def _cased(t: str) -> tuple[str, ...]:
    # an entity's name is no letter of the text: "TOM &amp; JERRY" (it shows "TOM & JERRY") failed uppercase and
    # "tom &AMP; jerry" lowercase. The written view is read with its entities as the characters they show
    return tuple(html.unescape(u) if "&" in u else u for u in _renderings(t))


def _without_code(t: str, spans: bool = False, whole: bool = False) -> str:
    """The text without its fenced code blocks (found as _uncommented finds them: a fence in a comment opens none),
    with `whole` each as one word, and with `spans` its code spans each as one word."""
    if "```" not in t and "~~~" not in t and not (spans and "`" in t):
        return t
    blocks: list = []
    _uncommented(t, blocks, spans)
    out, pos = [], 0
    for a, b, word, said in blocks:
        out += [t[pos:a], word or ("x" if whole and said else "")]
        pos = b
    return "".join(out) + t[pos:]


def _loads(t: str) -> bool:
    try:
        json.loads(t, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return False
    return True


def _plain(t: str) -> str:
    """Text as read for starts_with/ends_with: folded, lowercased, without Markdown emphasis or a heading's "#"
    around it: "**Dear Sir**, ..." and "... *Any other questions?*" (as chat models write them) failed. Nor the
    double quotes around it (as IFEval's end check strips them): a response wrapped in quotes, as the quotation
    constraint asks, never met starts_with or ends_with beside it."""
    t = _fold(t)
    t = _EMPHASIS.sub(r"\2", t) if "*" in t else t
    return t.strip(" \t\r\n*_#>\"“”").lower()


def _affix(t: str, phrase: str, has) -> bool:
    """`t` (a response as _shown reads it) starts or ends with `phrase`, both read as rendered: without HTML tags,
    links' addresses, entities (_renderings), as a reader sees them. With the tags kept, "<b>Dear</b> John" did not
    start with "Dear" nor "Are you done?</p>" end with "done?"."""
    shown = _renderings(phrase)[-1]
    # a phrase of markup alone ("**", "#", "<br>") is matched as written: read plain it is "", which every text
    # starts with
    if not _plain(shown):
        return has(_fold(t).strip().lower(), _fold(phrase).strip().lower())
    return has(_plain(_renderings(t)[-1]), _plain(shown))


def _is_json(t: str) -> bool:
    t = t.strip()
    # a ``` fence, with or without a language tag, by string operations: a regex with a lazy body after the tag
    # backtracked quadratically on an unclosed "```aaaa..." (20,000 letters took 4 s)
    if len(t) >= 6 and t.startswith("```") and t.endswith("```"):
        body = t[3:-3]
        tag = len(body) - len(body.lstrip(string.ascii_letters))
        return _loads(body[tag:]) or (tag > 0 and _loads(body))  # "```true```": the letters are the JSON
    return _loads(t)


def _separated(t: str, c: dict) -> bool:
    # as rendered: a separator or a second response in an HTML comment ("A. <!-- ****** --> B.", "A.\n******\n<!-- B.
    # -->") is none a reader sees, and "Hi.\n******\n<b>Hi</b>." is one answer twice
    # The separators are found in the text as shown, its tags kept, and each part is read as rendered: split after
    # its tags went, what looks like a tag and is text ("if x <y then stop." before "******" and a "->" or a code
    # line "d> e" after it) swallowed the separator, and two honest answers were one
    parts = _shown(t).split("******")
    # (one part is the whole response: its view is the one found already)
    parts = [_renderings(p.strip())[-1].strip() for p in parts] if len(parts) > 1 else [_renderings(t)[-1].strip()]
    if not all(parts[1:-1]):  # nothing between two separators: "A\n******\n\n******\nB" is no two (as IFEval reads it)
        return False
    # each response says something, and differs in its words: "Yes.\n******\n." and "Hi there.\n******\nhi there"
    # (one answer twice, recased) were two different responses
    parts = [tuple(w.lower() for w in _words(_fold(p))) for p in parts if p]
    return len(parts) == c.get("n", 2) and all(parts) and len(set(parts)) == len(parts)


def _sections(t: str, c: dict) -> int:
    # a heading's Markdown ("## ", "**" bold, "_" italic) before it: "**Section 1**" is a section header
    heads = list(re.finditer(r"^[ \t]*(?:#+[ \t]*)?[*_]{0,3}" + re.escape(c.get("splitter", "Section")) + r"\s+\d+", t,
                             re.MULTILINE | re.IGNORECASE))
    # a section has a word under (or after) its header, as a paragraph has one: "Section 1\nSection 2\nSection 3"
    # met sections n=3 with nothing in them
    ends = [m.start() for m in heads[1:]] + [len(t)]
    return sum(1 for m, end in zip(heads, ends) if _WORD.search(t, m.end(), end))


def _placeholders(t: str) -> int:
    # a link's text is no placeholder, as written either: "[the docs](https://...)" counted one in the written view
    # only, so a response with a link and a placeholder met no exact placeholders count (1 shown, 2 written)
    t = _LINK.sub(r"\1", t) if "](" in t else t
    return sum(1 for p in _PLACEHOLDER.findall(t) if _WORD.search(p))


def _postscript(marker: str) -> str:
    # as IFEval reads it: "P. S." spaced, and in Markdown emphasis ("**P.S.** ...", common in chat answers)
    return r"^[ \t]*[*_]{0,3}" + re.escape(marker).replace(r"\.", r"\.[ \t]?")


def _has_postscript(t: str, marker: str) -> bool:
    # a word after a marker (after the first, then: a word after any is after it), not a marker's own letters
    pattern = re.compile(_postscript(marker), re.MULTILINE | re.IGNORECASE)
    m = pattern.search(t)
    return bool(m and _WORD.search(pattern.sub(" ", t[m.end():])))


@functools.lru_cache(maxsize=8)  # (title, starts_with, ends_with and postscript read one response's view)
def _shown(t: str) -> str:
    """The text without what a reader never sees (comments, hidden elements, scripts, definition lines), its other
    markup kept: "<<Title>>" and "**P.S.**" are read as written."""
    gone, cut = _cut(t)  # (the marks are _unhidden's gaps only: without them it is _unhidden(_uncommented(t)))
    return cut.replace(gone, "") if gone else cut


_COUNT = {"n", "min", "max"}
# type -> (check(text, constraint) -> bool, required params, optional params)
_TYPES: dict = {
    "word_count": (lambda t, c: _counted(t, c, lambda u: len(_words(u))), set(), _COUNT),
    "sentence_count": (lambda t, c: _counted(t, c, _sentences), set(), _COUNT),
    # a fenced code block is one block: the blank lines between a Python answer's functions split no paragraphs
    "paragraph_count": (lambda t, c: _counted(_without_code(t, whole=True), c, _paragraphs), set(), _COUNT),
    "char_count": (lambda t, c: _counted(t, c, _chars), set(), _COUNT),
    # a line in a fenced code block is code, shown as written (a YAML list, a diff): "```\n- a\n- b\n```" made two
    # bullets toward a min, and a response with one bullet and such an example failed an exact count
    "bullet_count": (lambda t, c: _counted(_without_code(t), c, _bullets), set(), _COUNT),
    "capital_words": (lambda t, c: _counted(t, c, lambda u: sum(1 for w in _words(u) if _capital(w))), set(), _COUNT),
    # a highlight, a placeholder, a title or a P.S. says something, as a paragraph does: "*.*", "[ ]", "<<**>>" and a
    # bare "P.S." met their constraints with nothing in them
    # (nor is a product in a code block or span one: "x = a*b*c" there is shown as written, and "`*args` and
    # `**kwargs`" held a highlight "args` and `")
    "highlights": (lambda t, c: _counted(_without_code(t, spans=True), c,
                                         lambda u: sum(1 for h in _HIGHLIGHT.findall(u) if _WORD.search(h))), set(), _COUNT),
    "placeholders": (lambda t, c: _counted(t, c, _placeholders), set(), _COUNT),
    "sections": (lambda t, c: _counted(t, c, lambda u: _sections(u, c)), set(), _COUNT | {"splitter"}),
    # the text as rendered: a keyword inside an HTML comment ("<!-- cat -->") is not in the response a reader sees
    "keywords": (lambda t, c: all(_occurrences(_renderings(t)[-1], k) for k in c["keywords"]), {"keywords"}, set()),
    "forbidden_words": (lambda t, c: not any(_occurrences(u, k) for u in _renderings(t) for k in c["keywords"]),
                        {"keywords"}, set()),
    "keyword_frequency": (lambda t, c: _counted(t, c, lambda u: _occurrences(u, c["keyword"])), {"keyword"}, _COUNT),
    "letter_frequency": (lambda t, c: _counted(t, c, lambda u: _fold(u).lower().count(_fold(c["letter"]).lower())),
                         {"letter"}, _COUNT),
    # IFEval's str.islower/isupper: a cased letter is needed (text with no case at all, "中文 123", is neither,
    # else a caseless response met both), and a capital with no lowercase mapping (math bold "𝐇𝐄𝐋𝐋𝐎") is no
    # lowercase letter: t == t.lower() let it pass
    # as written and as rendered: an entity shows its character ("&#44;" a comma, "&#87;" a "W")
    "lowercase": (lambda t, c: all(u.islower() for u in _cased(t)), set(), set()),
    "uppercase": (lambda t, c: all(u.isupper() for u in _cased(t)), set(), set()),
    "no_commas": (lambda t, c: not any(ch in _COMMAS for u in _renderings(t) for ch in u), set(), set()),
    # typographic double quotes too: a chat model's “...” is a response wrapped in double quotes
    # as rendered: a closing quote a reader never sees ('"Hello.\n<!--\n"', an unclosed comment hides it) met it, and a
    # quoted response with a comment or a hidden element after it ('"Hello." <!-- draft -->') did not
    "quotation": (lambda t, c: (lambda u: len(u) >= 2 and u[0] in '"“' and u[-1] in '"”')(_renderings(t)[-1].strip()),
                  set(), set()),
    "json": (lambda t, c: _is_json(t), set(), set()),
    # a title or a P.S. a reader sees: "<!-- <<Title>> -->", a P.S. on a line of a comment ("<!--\nP.S. hi\n-->")
    # or its words in one ("P.S. <!-- hi -->") met them
    # (a word as rendered: "<<&nbsp;>>" and "<<[](https://x.org)>>", an entity's or a link address's letters, were a title)
    # (and found in the text as rendered: "<<My <i>Great</i> Title>>" shows "<<My Great Title>>", a title, and was none)
    "title": (lambda t, c: any(_WORD.search(x) for x in _TITLE.findall(_renderings(t)[-1])), set(), set()),
    # as a reader sees them too: "Hi.\n<!--\nAny questions?" (a comment never closed) ends with no question
    "starts_with": (lambda t, c: _affix(_shown(t), c["phrase"], str.startswith), {"phrase"}, set()),
    "ends_with": (lambda t, c: _affix(_shown(t), c["phrase"], str.endswith), {"phrase"}, set()),
    # (nor one in a hidden element: "<div hidden>\nP.S. hi\n</div>"). As rendered: with its HTML kept, "<b>P.S.</b> see
    # you" and "<p>P.S. see you</p>" (a P.S. a reader sees) had none, and "P.S. <b></b>" or "P.S. &nbsp;" (the tag's or
    # the entity's letters after it) had one
    # (a <br> or a block starts a line: "Hello.<br>P.S. see you" and "Hello.<p>P.S. see you</p>" have one)
    "postscript": (lambda t, c: _has_postscript(_renderings(t, True)[-1], c.get("marker", "P.S.")), set(), {"marker"}),
    # (each word a reader sees, and each hidden one, still in the response; not markup's: "<i>", a link's address and
    # "&amp;" are no words of it, and "Cats <i>climb</i> cliffs" failed c)
    "words_start_with": (lambda t, c: all((lambda ws: bool(ws) and all(w[0].lower() == c["letter"].lower() for w in ws))(
        _words(u)) for u in {_renderings(t)[-1], _unmarked(t)}), {"letter"}, set()),
    "separated_responses": (_separated, set(), {"n"}),
}
CONSTRAINT_TYPES = tuple(sorted(_TYPES))


def _validate(k: int, c) -> None:
    """Bad constraint data is the caller's bug: one PonderError line naming the constraint and the field."""
    if not isinstance(c, dict) or "type" not in c:
        raise PonderError(f"constraint {k + 1}: expected a dict with a 'type', got {c!r:.80}")
    kind = c["type"]
    if not isinstance(kind, str) or kind not in _TYPES:  # a list or dict type would raise TypeError (unhashable)
        raise PonderError(f"constraint {k + 1}: unknown type {kind!r}; valid types: {', '.join(CONSTRAINT_TYPES)}")
    _, required, optional = _TYPES[kind]
    params = set(c) - {"type"}
    if required - params:
        raise PonderError(f"constraint {k + 1} ({kind}): missing parameter {sorted(required - params)[0]!r}")
    if params - required - optional:
        raise PonderError(f"constraint {k + 1} ({kind}): unexpected parameter {sorted(params - required - optional)[0]!r}"
                          f" (allowed: {sorted(required | optional)})")
    if _COUNT <= optional:
        if not params & _COUNT:
            raise PonderError(f"constraint {k + 1} ({kind}): needs 'n', 'min' or 'max'")
        for key in params & _COUNT:
            if type(c[key]) is not int or c[key] < 0:
                raise PonderError(f"constraint {k + 1} ({kind}): {key!r} must be a non-negative integer, got {c[key]!r}")
        lo, hi = c.get("min"), c.get("max")  # a range no count falls in: every response would fail it
        if lo is not None and hi is not None and lo > hi:
            raise PonderError(f"constraint {k + 1} ({kind}): 'min' {lo} > 'max' {hi}")
    if kind == "separated_responses" and "n" in c and (type(c["n"]) is not int or c["n"] < 1):
        raise PonderError(f"constraint {k + 1} ({kind}): 'n' must be a positive integer, got {c['n']!r}")
    for key in ("keywords",):
        if key in c and (not isinstance(c[key], list) or not c[key]
                         or not all(isinstance(w, str) and w.strip() for w in c[key])):
            raise PonderError(f"constraint {k + 1} ({kind}): 'keywords' must be a non-empty list of words")
    for key in ("keyword", "phrase", "marker", "splitter"):
        if key in c and (not isinstance(c[key], str) or not c[key].strip()):
            raise PonderError(f"constraint {k + 1} ({kind}): {key!r} must be a non-empty string")
    if "letter" in c and (not isinstance(c["letter"], str) or len(c["letter"]) != 1 or not c["letter"].isalpha()):
        raise PonderError(f"constraint {k + 1} ({kind}): 'letter' must be a single letter, got {c['letter']!r}")


def check_constraints(completion, constraints: list[dict], *, strip_think: bool = True) -> Verdict:
    if not isinstance(constraints, list) or not constraints:
        raise PonderError(f"check_constraints: expected a non-empty list of constraints, got {constraints!r:.80}")
    for k, c in enumerate(constraints):
        _validate(k, c)
    if not isinstance(completion, str):
        return Verdict(False, None, "invalid completion", score=0.0)
    if strip_think and "<think>" in completion and "</think>" not in completion:
        # cut off while thinking: no response to check (the thinking met "no_commas", "max 50 words", ...)
        return Verdict(False, None, "no response: <think> never closed", score=0.0)
    # the response starts at the first "</think>": from the last, a policy wrote its answer (commas, forbidden words,
    # 500 words under a 50-word max), then "</think>" and a compliant line, and only the line was checked
    text = _visible(completion.split("</think>", 1)[-1] if strip_think else completion)
    # a Windows line break is a line break: the "\r" before "\n" kept a "***" line from splitting paragraphs and a
    # "```\r" line from closing its code block (every bullet after it hidden), and counted a character more
    text = text.replace("\r\n", "\n") if "\r" in text else text
    if not text.strip():  # an empty response met every "no ..."/"at most" constraint: half the reward for nothing
        return Verdict(False, None, "empty response", score=0.0)
    # nor does a response without a word: ".", "{}", "***" or "?!" met every "at most"/"no ..." constraint, a
    # forbidden_words with a word_count max was full reward for saying nothing (IFEval, scoring a reply, not
    # training on it, counts them met)
    # ... nor one whose words are all hidden: "<!-- a b -->" or a bare "<br>" (read as the word "br") shows nothing
    if not _WORD.search(text) or not _WORD.search(_renderings(text)[-1]):
        return Verdict(False, None, "no words in response", score=0.0)
    failed = []
    for k, c in enumerate(constraints):
        if not _TYPES[c["type"]][0](text, c):
            failed.append(c["type"] if [d["type"] for d in constraints].count(c["type"]) == 1 else f"{c['type']}#{k + 1}")
    score = 1.0 - len(failed) / len(constraints)
    reason = "ok" if not failed else "failed: " + ", ".join(failed)
    return Verdict(not failed, None, reason, score=score)
