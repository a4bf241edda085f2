"""Text-level probes: contamination (prefix completion, perturbation, n-gram overlap) and diversity.

Nothing here runs a model. The model-dependent steps come in as callables (``model_generate``,
``solve``), so the same scoring code serves a from-scratch checkpoint, a Hugging Face model or a
canned list in a test.

Normalisation (``normalize_words``): NFKC, lowercase, every character that is not a letter, digit, combining mark or
whitespace becomes a space, then split on whitespace. "Mia's 3.5 kg" -> ["mia", "s", "3", "5", "kg"].
Replacing (not deleting) punctuation keeps "x+y=3" from collapsing into one token.
"""

from __future__ import annotations

import importlib.util
import json
import math
import numbers
import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import combinations
from pathlib import Path

import numpy as np

from ponder.errors import PonderError
from ponder.fileio import check_writable, counted, json_safe
from ponder.metrics import bootstrap_ci, mean_ci, wilson_ci

_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)


def _non_word(m: re.Match) -> str:
    # a combining mark belongs to its letter: as punctuation it split "cafe\u0301" into "cafe" and the Hindi
    # "\u0939\u093f\u0928\u094d\u0926\u0940" into bare consonants
    return m.group() if unicodedata.category(m.group())[0] == "M" else " "


def normalize_words(text: str) -> list[str]:
    """Lowercased word tokens with punctuation replaced by spaces (module docstring). NFKC first: a text in
    decomposed form (NFD) or with full-width digits shares no word with the same text composed, so a copy of a
    benchmark item read as unseen."""
    if text.isascii():  # (the common case, at the old speed: no marks, nothing to compose)
        return _NON_WORD.sub(" ", text.lower()).split()
    return _NON_WORD.sub(_non_word, unicodedata.normalize("NFKC", text).lower()).split()


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def _check_n(where: str, name: str, n) -> None:
    """An n-gram length must be an integer >= 1: n = 0 made every text one empty gram (similarity 1.0, self-BLEU
    1.0, silently), and a float failed deep inside as a bare TypeError."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise PonderError(f"{where}: {name}={n!r} must be an integer >= 1")


def _texts_arg(where: str, name: str, texts) -> list[str]:
    """`texts` as a list of strings. One string (or a path) is one text, not a list of them: iterated, it was read as
    its characters, each a text, and every score came out silently (distinct-n, self-BLEU, similarity, a training
    "file" of one-letter texts matching nothing); an element that is not text was a bare AttributeError."""
    if isinstance(texts, (str, bytes, os.PathLike)):
        raise PonderError(f"{where}: {name} is one {type(texts).__name__} ({str(texts)[:40]!r}), not a list of texts"
                          + (" (a training file: iter_texts(path))" if name == "train_texts" else ""))
    try:
        texts = list(texts)
    except TypeError:
        raise PonderError(f"{where}: {name} must be a list of texts, got {type(texts).__name__}") from None
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise PonderError(f"{where}: {name}[{i}] is {type(t).__name__} {t!r:.40}, not text")
    return texts


def _check_seed(where: str, seed) -> int:
    """A probe's seed, checked before any sampling as the engine checks it, None refused: it keys the perturbed
    copies and the intervals too (None was a bare TypeError at the copies, or refused by the bootstrap once every
    sample had been drawn)."""
    from ponder.engine import check_sampling

    if seed is None:
        raise PonderError(f"{where}: seed must be an integer in [0, 2**63), got None (the probe is seeded throughout)")
    check_sampling(seed=seed)
    return int(seed)  # (a numpy one: seed * 1_000_003 overflowed int64 for a large seed, and JSON wrote it as text)


def _sign_p(up: int, down: int) -> float:
    """The exact sign test's one-sided p: at least `up` of the up + down items that differ going up, if either way
    were equally likely (a binomial(up + down, 1/2) tail); items that do not differ say nothing."""
    n = up + down
    c, tail = math.comb(n, up), 0
    for k in range(up, n + 1):  # exact, each term from the last (a comb() apiece took 70 s at 30,000 items)
        tail += c
        c = c * (n - k) // (k + 1)
    return tail / 2**n


def _mcnemar(right_to_wrong: int, wrong_to_right: int) -> dict:
    """McNemar's exact test on the items whose correctness flipped: the sign test of right -> wrong flips."""
    return {"right_to_wrong": right_to_wrong, "wrong_to_right": wrong_to_right,
            "p": _sign_p(right_to_wrong, wrong_to_right)}


def _paired_diff_ci(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Mean and 95% interval of p(x) - p(y) for paired right/wrong outcomes: Newcombe's hybrid score interval
    (1998, method 10; phi's continuity correction as Fagerland, Lydersen & Laake 2014 give it), built from the
    Wilson intervals of the two rates. A bootstrap of the per-item differences (-1, 0, 1) collapses as one of 0/1
    values does: four items answered alike on both sides read [0, 0], and it covered 44-82% at 5-10 items where
    this covers 94-100%."""
    n = len(x)
    both, only_x = int(((x == 1) & (y == 1)).sum()), int(((x == 1) & (y == 0)).sum())
    only_y, neither = int(((x == 0) & (y == 1)).sum()), int(((x == 0) & (y == 0)).sum())
    p1, l1, u1 = wilson_ci(both + only_x, n)
    p2, l2, u2 = wilson_ci(both + only_y, n)
    cross = both * neither - only_x * only_y
    if cross > 0:
        cross = max(cross - n / 2, 0.0)
    margins = (both + only_x) * (only_y + neither) * (both + only_y) * (only_x + neither)
    phi = cross / math.sqrt(margins) if margins else 0.0
    d = p1 - p2
    below = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    above = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return {"mean": d, "lo": max(-1.0, d - below), "hi": min(1.0, d + above)}


def _binom_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    lp, lq = math.log(p), math.log1p(-p)  # log space: comb(10_000, 5_000) overflows a float
    return min(1.0, sum(math.exp(math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * lp
                                 + (n - j) * lq) for j in range(k, n + 1)))


def _ci(values: Sequence[float], seed: int = 0, score: bool = False) -> dict[str, float]:
    """Mean and 95% interval over items; `score`: a similarity in [0, 1] (ROUGE-L, self-BLEU, distinct-n), not a
    success rate, so never Wilson, even when every item happens to score exactly 0 or 1."""
    mean, lo, hi = mean_ci(values, seed=seed, proportion=not score)
    if score and math.isfinite(lo) and math.isfinite(hi):
        # (mean_ci's Student-t widening below 5 items knows no range: [0.1, 0.9] gave [-4.6, 5.6]; one item's
        # interval stays the non-finite "no interval")
        lo, hi = max(0.0, lo), min(1.0, hi)
    return {"mean": mean, "lo": lo, "hi": hi}


# ------------------------------------------------------------------------------------------- ROUGE-L


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token sequences (exact).

    Bit-parallel (Allison & Dix 1986; Hyyrö 2004, "Bit-parallel LCS-length computation revisited"): bit i of
    ``v`` is 1 where row ``i`` of the DP does not step up, so each token of the longer sequence updates a whole
    DP row with a few big-int operations, O(len(a) * len(b) / wordsize) time; the LCS is the count of 0 bits.
    """
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if not m:
        return 0
    masks: dict[str, int] = {}
    for i, y in enumerate(b):  # positions of each token of the shorter sequence, as bits
        masks[y] = masks.get(y, 0) | (1 << i)
    full = (1 << m) - 1
    v = full
    for x in a:
        u = v & masks.get(x, 0)
        v = ((v + u) | (v - u)) & full  # (v + u) carries past bit m-1: masked off
    return m - v.bit_count()


def rouge_l(candidate: str | Sequence[str], reference: str | Sequence[str], *, beta: float = 1.0) -> float:
    """ROUGE-L F-measure (Lin 2004) over normalised whitespace tokens; lists are used as given.

    F = (1 + beta^2) P R / (R + beta^2 P) with P = LCS/len(candidate), R = LCS/len(reference).
    Two empty texts score 1.0, one empty text 0.0.
    """
    c = normalize_words(candidate) if isinstance(candidate, str) else list(candidate)
    r = normalize_words(reference) if isinstance(reference, str) else list(reference)
    if not c and not r:
        return 1.0
    if not c or not r:
        return 0.0
    lcs = lcs_length(c, r)
    if lcs == 0:
        return 0.0
    p, rec = lcs / len(c), lcs / len(r)
    return (1 + beta**2) * p * rec / (rec + beta**2 * p)


# ------------------------------------------------------------------------------------ n-gram overlap


def iter_texts(path: str | Path) -> Iterator[str]:
    """Stream the texts of a training file for ``ngram_overlap``.

    ``.jsonl`` / ``.ndjson``: one text per record, all string values of the record joined by newlines (so
    prompt, completion, solution... all count). ``.json``: a list of such records or strings. ``.parquet``:
    one text per row, as a JSONL record. Anything else: plain text, one text per blank-line-separated paragraph (n-grams do not span paragraphs). Any of
    these may be gzip-compressed (``.jsonl.gz``, as ``ponder data export`` writes), as ``load_items`` reads.
    """
    p = Path(path)
    if p.is_dir():  # checked here, not at the first next(): a probe reads the file after all its sampling
        raise PonderError(f"{p}: is a directory, not a training file")
    if not p.is_file():
        raise PonderError(f"{p}: training file not found")
    return _texts(p)


def _open_binary(p: Path):
    """The file's bytes, gunzipped when it is gzip data (by its magic bytes, whatever its name), as
    ``load_items`` reads them."""
    import gzip

    with p.open("rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(p, "rb") if gz else p.open("rb")


def _lines(p: Path, errors: str = "strict", json_lines: bool = False) -> Iterator[tuple[int, str]]:
    """(line number, text) of a training file, gunzipped if it is gzip data; a UTF-8 byte-order mark is dropped,
    and a line that is not UTF-8 is named (``errors="replace"``: replaced), not a traceback. ``json_lines``: a
    lone "\r" ends a line too where the line is not JSON whole, as ``load_items`` reads JSON Lines."""
    import zlib

    from ponder.tasks.data import _cr_lines

    try:
        with _open_binary(p) as f:
            # (old Mac line ends: a file load_items reads was "invalid JSON (Extra data)" at line 1 here)
            for lineno, raw in enumerate(_cr_lines(f) if json_lines else f, 1):
                try:
                    yield lineno, raw.decode("utf-8-sig" if lineno == 1 else "utf-8", errors)
                except UnicodeDecodeError as e:
                    raise PonderError(f"{p}:{lineno}: not UTF-8 text (byte {e.start} of the line)") from None
    except (OSError, EOFError, zlib.error) as e:  # a read error, or a truncated or corrupt gzip stream
        raise PonderError(f"{p}: cannot read ({getattr(e, 'strerror', None) or e})") from None


def _texts(p: Path) -> Iterator[str]:
    from ponder.tasks.data import _format, _loads

    def strings(obj) -> list[str]:
        if isinstance(obj, str):
            return [obj]
        if isinstance(obj, dict):
            return [s for v in obj.values() for s in strings(v)]
        if isinstance(obj, list):
            return [s for v in obj for s in strings(v)]
        return []

    fmt = _format(p).removesuffix(".gz")  # lower-cased, looking through a final .gz (as load_items)
    if fmt in (".jsonl", ".ndjson"):
        for lineno, line in _lines(p, json_lines=True):
            if not line.strip():
                continue
            try:  # (_loads: a too-deep nesting or a too-long integer named by line, not a bare RecursionError)
                rec = _loads(line, f"{p}:{lineno}")
            except json.JSONDecodeError as e:
                raise PonderError(f"{p}:{lineno}: invalid JSON ({e.msg})") from None
            yield "\n".join(strings(rec))
    elif fmt == ".parquet":
        # Rows, as load_items reads them (read as plain text, the compressed pages matched almost nothing: a
        # training set holding every benchmark item looked clean)
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise PonderError(f"{p}: reading Parquet needs pyarrow: pip install pyarrow") from None
        try:
            batches = pq.ParquetFile(p).iter_batches()
            for batch in batches:
                for rec in batch.to_pylist():
                    yield "\n".join(strings(rec))
        except Exception as e:  # pyarrow raises several types for a corrupt file
            raise PonderError(f"{p}: cannot read Parquet: {e}") from None
    elif fmt == ".json":
        # As load_items reads a .json: a JSON array, one object, or JSON Lines (datasets' to_json() writes those
        # under this name; parsed as one document they failed as "invalid JSON (Extra data)")
        from ponder.tasks.data import _read_jsonl

        for _, rec in _read_jsonl(p):
            yield "\n".join(strings(rec))
    else:
        buf: list[str] = []
        for _, line in _lines(p, errors="replace"):
            if line.strip():
                buf.append(line)
            elif buf:
                yield "".join(buf)
                buf = []
        if buf:
            yield "".join(buf)


def ngram_overlap(
    train_texts: Iterable[str],
    bench_texts: Sequence[str],
    n: int = 13,
    *,
    boilerplate_min_docs: int = 5,
    boilerplate_share: float = 0.01,
) -> dict:
    """Which benchmark items share at least one normalised word n-gram with the training texts.

    Only the benchmark's n-grams are held in memory; the training texts are streamed once (pass a
    generator such as ``iter_texts(path)`` for a large file). Items with fewer than n words cannot
    be checked and are reported in ``too_short`` (never flagged). 13-grams follow GPT-3's
    contamination analysis; 8-grams catch paraphrased copies but flag more template-level overlap.

    Boilerplate rule: an n-gram found in more than ``max(boilerplate_min_docs, boilerplate_share *
    n_train_texts)`` distinct training texts (default: more than max(5, 1%) of them) is template or
    instruction wording ("How many ... does ... have left?"), not evidence that an item was seen, and
    is ignored; ``n_boilerplate`` counts the benchmark n-grams ignored so. A copied item's long
    n-grams occur in one or a few training texts, so a leak is still flagged; an item every one of whose
    n-grams is in the training texts is flagged whatever their counts (the same problem in more texts than
    the limit, as a distillation keeping 8 traces per prompt holds it, is a copy, not template wording).

    Returns ``{"n", "n_items", "n_checked", "n_train_texts", "n_flagged", "fraction", "flags": [bool],
    "too_short": [indices], "example": {item: shared n-gram text}, "max_doc_freq",
    "n_boilerplate"}`` where n_checked = n_items - len(too_short), fraction = n_flagged / n_checked (None
    when no item has n words: an item that cannot be checked is no evidence of a clean one, and counting it
    made every arith problem, 5 words, read "0 of N flagged" against a training file holding them all) and
    max_doc_freq is the limit applied.
    """
    _check_n("ngram_overlap", "n", n)
    # (checked before the training texts are streamed: text or None was a bare TypeError after the whole file)
    if (isinstance(boilerplate_min_docs, bool) or not isinstance(boilerplate_min_docs, numbers.Integral)
            or boilerplate_min_docs < 0):
        raise PonderError(f"ngram_overlap: boilerplate_min_docs={boilerplate_min_docs!r} must be an integer >= 0")
    if (isinstance(boilerplate_share, bool) or not isinstance(boilerplate_share, numbers.Real)
            or not 0 <= boilerplate_share <= 1):
        raise PonderError(f"ngram_overlap: boilerplate_share={boilerplate_share!r} must be a number in [0, 1]")
    bench_texts = _texts_arg("ngram_overlap", "bench_texts", bench_texts)
    if isinstance(train_texts, (str, bytes, os.PathLike)):  # (streamed: its elements are checked as they come)
        _texts_arg("ngram_overlap", "train_texts", train_texts)
    if len(bench_texts) == 0:
        raise PonderError("ngram_overlap: no benchmark items")
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    too_short = []
    item_grams = []
    for i, t in enumerate(bench_texts):
        grams = set(ngrams(normalize_words(t), n))
        item_grams.append(grams)
        if not grams:
            too_short.append(i)
        for g in grams:
            index[g].append(i)
    doc_freq: Counter = Counter()  # benchmark n-gram -> number of training texts containing it
    n_train = 0
    for t in train_texts:
        if not isinstance(t, str):
            raise PonderError(f"ngram_overlap: train_texts[{n_train}] is {type(t).__name__} {t!r:.40}, not text")
        n_train += 1
        doc_freq.update({g for g in ngrams(normalize_words(t), n) if g in index})
    max_df = max(boilerplate_min_docs, boilerplate_share * n_train)
    flags = [False] * len(bench_texts)
    example: dict[int, str] = {}
    n_boilerplate = 0
    for g, df in doc_freq.items():
        if df > max_df:
            n_boilerplate += 1
            continue
        for i in index[g]:
            if not flags[i] or " ".join(g) < example[i]:  # smallest shared n-gram: order-independent
                flags[i] = True
                example[i] = " ".join(g)
    # Every n-gram of an item in the training texts is the item itself there, however many texts repeat it: a
    # distillation of 8 kept traces per leaked prompt made all of its n-grams "boilerplate", and read clean.
    for i, grams in enumerate(item_grams):
        if grams and not flags[i] and all(g in doc_freq for g in grams):
            flags[i] = True
            example[i] = min(" ".join(g) for g in grams)
    n_flagged = sum(flags)
    n_checked = len(bench_texts) - len(too_short)
    return {
        "n": n,
        "n_items": len(bench_texts),
        "n_checked": n_checked,
        "n_train_texts": n_train,
        "n_flagged": n_flagged,
        "fraction": n_flagged / n_checked if n_checked else None,
        "flags": flags,
        "too_short": too_short,
        "example": dict(sorted(example.items())),
        "max_doc_freq": max_df,
        "n_boilerplate": n_boilerplate,
    }


# ---------------------------------------------------------------------------------- prefix completion


# the answer cue ending a ponder task's prompt ("Problem: 3 + 4 = ?\nSolution:"): frame, not problem
_ANSWER_CUE = re.compile(r"\s*\nSolution:\s*\Z")


def _recitable(problem: str) -> str:
    """The part of a problem the prefix probe asks a model to recite: the text less a trailing "\nSolution:" cue.
    Every prompt of the format ends with it, so a clean model "recited" it: the rest of "Problem: 3 + 4 = ?
    \nSolution:" cut after "4" was the word "solution" alone, an exact match for any model of the format."""
    return _ANSWER_CUE.sub("", problem)


def _probe_words(problem: str) -> bool:
    """Whether the prefix probe can use a problem: 2 or more words, and a real word after the first."""
    words = _recitable(problem).split()
    return len(words) >= 2 and bool(normalize_words(" ".join(words[1:])))


def _check_fractions(where: str, fractions: Sequence[float]) -> list[float]:
    """`fractions` as a list, checked (one number was a bare "not iterable" TypeError; none at all ran no probe and
    returned empty results)."""
    if isinstance(fractions, (str, bytes)) or not hasattr(fractions, "__iter__"):
        raise PonderError(f"{where}: fractions must be a list of numbers in (0, 1), got {fractions!r:.40}")
    fractions = list(fractions)
    if not fractions:
        raise PonderError(f"{where}: no fractions (give numbers in (0, 1), e.g. 0.4, 0.6, 0.8)")
    for f in fractions:
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < 1:
            raise PonderError(f"{where}: fraction {f!r} must be a number in (0, 1)")
    # results are keyed by f"{f:g}": a repeated fraction (or two printing alike) overwrote the other's figures
    # while both sets of items were listed
    keys = [f"{f:g}" for f in fractions]
    dup = next((f for f, k in zip(fractions, keys) if keys.count(k) > 1), None)
    if dup is not None:
        raise PonderError(f"{where}: fraction {dup!r} is given twice (as {dup:g}); give each fraction once")
    return fractions


def _takes_keyword(fn, name: str) -> bool:
    """Whether a probe's ``model_generate`` takes the keyword ``name``: ``rests`` (each prompt's true remaining
    text), ``names`` (each prompt's item, for its errors)."""
    import inspect

    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def prefix_completion_probe(
    model_generate: Callable[[list[str]], list[str]],
    problems: Sequence[str],
    fractions: Sequence[float] = (0.4, 0.6, 0.8),
    seed: int = 0,
    names: Sequence[str] | None = None,
) -> dict:
    """Show the model the first 40/60/80% of each problem's words; does it recite the rest?

    ``model_generate(prompts) -> continuations`` must decode greedily from the raw prefix text (the problem as
    written up to the cut, no chat template) and produce at least as many words as the true rest (the problem's word count is
    a safe max_new_tokens budget in words; tokens are usually ~1.3x words). The continuation is
    normalised and cut to the same number of words as the normalised true rest, then compared:
    exact match (all words equal) and ROUGE-L. A ``model_generate`` that takes a ``rests`` keyword is given each
    prompt's true remaining text too, to decode far enough to recite it (``run_contamination_probe``'s decodes at
    least the tokens it takes). Problems with fewer than 2 words are skipped; so are those
    with no word after their first but punctuation, and a cut that would leave only punctuation to recite
    ("... 3 ?" before the "?") moves back to the last real word, since any continuation matches nothing.
    A trailing "\nSolution:" (the answer cue of ponder's task prompts) is frame, not problem: it is not recited.
    ``names`` (one per problem, e.g. "item ID") go to a ``model_generate`` that takes a ``names`` keyword, one per
    prompt: how its errors name the problem a prompt is cut from.

    Returns ``{"fractions": {"0.6": {"n", "exact_match", "rouge_l": {"mean", "lo", "hi"}}}, "items":
    [{"index", "fraction", "prefix", "truth", "continuation", "exact", "rouge_l"}], "n_skipped"}``.
    """
    # the arguments checked before any generation (a None seed was refused by the intervals once it had all run;
    # a model_generate that is no function, or returns no list of texts, was a bare TypeError or AttributeError)
    seed = _check_seed("prefix_completion_probe", seed)
    if not callable(model_generate):
        raise PonderError(f"prefix_completion_probe: model_generate must be a function, got {model_generate!r:.40}")
    problems = _texts_arg("prefix_completion_probe", "problems", problems)
    if len(problems) == 0:
        raise PonderError("prefix_completion_probe: no problems")
    fractions = _check_fractions("prefix_completion_probe", fractions)
    if names is not None and (isinstance(names, (str, bytes)) or len(names) != len(problems)):
        raise PonderError(f"prefix_completion_probe: names must be one per problem ({len(problems)}), got "
                          f"{names!r:.60}")
    problems = [_recitable(p) for p in problems]
    usable = [(i, p.split()) for i, p in enumerate(problems) if _probe_words(p)]
    if not usable:
        raise PonderError("prefix_completion_probe: every problem has fewer than 2 words")
    # where each word ends in the problem's text: the prefix is the text as written up to its cut (its words joined
    # by single spaces showed a problem on several lines with its newlines as spaces, not the text memorised)
    ends = {i: [m.end() for m in re.finditer(r"\S+", problems[i])] for i, _ in usable}
    out: dict = {"fractions": {}, "items": [], "n_skipped": len(problems) - len(usable)}
    for f in fractions:
        cuts = []
        for i, words in usable:
            k = min(len(words) - 1, max(1, round(f * len(words))))
            # A rest of punctuation alone normalises to no words, which every continuation "recites" exactly.
            while not normalize_words(" ".join(words[k:])):
                k -= 1
            cuts.append((i, words, k))
        prompts = [problems[i][: ends[i][k - 1]].lstrip() for i, _, k in cuts]
        kw = {}
        if _takes_keyword(model_generate, "rests"):  # (to decode far enough to recite them)
            kw["rests"] = [problems[i][ends[i][k - 1]:] for i, _, k in cuts]
        if names is not None and _takes_keyword(model_generate, "names"):
            kw["names"] = [names[i] for i, _, _ in cuts]
        conts = model_generate(prompts, **kw)
        if not isinstance(conts, (str, bytes)) and not hasattr(conts, "__iter__"):
            raise PonderError(f"prefix_completion_probe: model_generate returned {type(conts).__name__} "
                              f"{conts!r:.40}, not a list of texts")
        conts = _texts_arg("prefix_completion_probe", "model_generate's output", conts)
        if len(conts) != len(prompts):
            raise PonderError(
                f"prefix_completion_probe: model_generate returned {len(conts)} texts for {len(prompts)} prompts"
            )
        exact, rouge = [], []
        for (i, words, k), prompt, cont in zip(cuts, prompts, conts):
            truth = normalize_words(" ".join(words[k:]))
            got = normalize_words(cont)[: len(truth)]
            ex = got == truth
            rl = rouge_l(got, truth)
            exact.append(float(ex))
            rouge.append(rl)
            out["items"].append(
                {"index": i, "fraction": f, "prefix": prompt, "truth": " ".join(words[k:]),
                 "continuation": cont, "exact": ex, "rouge_l": rl}
            )
        out["fractions"][f"{f:g}"] = {"n": len(cuts), "exact_match": float(np.mean(exact)), "rouge_l": _ci(rouge, seed, score=True)}
    return out


# ------------------------------------------------------------------------------------- perturbation


def _shows(gold: str, prompt) -> bool:
    """Whether a problem's text holds the answer's words in a row ("12" in "... 12 apples ..."); a prompt of chat
    messages is read by its problem text."""
    text = _problem_text(prompt)
    want = normalize_words(gold)
    if text is None or not want:
        return False
    words = normalize_words(text)
    return any(words[j : j + len(want)] == want for j in range(len(words) - len(want) + 1))


def _items_arg(where: str, items) -> list[dict]:
    """`items` as a list of dicts, else refused by name."""
    if isinstance(items, (str, bytes, dict, os.PathLike)):
        raise PonderError(f"{where}: items is one {type(items).__name__} ({str(items)[:40]!r}), not a list of items")
    try:
        items = list(items)
    except TypeError:
        raise PonderError(f"{where}: items must be a list of items (dicts), got {type(items).__name__}") from None
    for i, it in enumerate(items):
        if not isinstance(it, dict):
            raise PonderError(f"{where}: item {i} is {type(it).__name__} {it!r:.40}, not an item (a dict)")
    return items


def _records(recs, name: str) -> list:
    """What solve returned, as a list (None or a number was a bare TypeError)."""
    if isinstance(recs, (str, bytes, dict)) or not hasattr(recs, "__iter__"):
        raise PonderError(f"perturbation_probe: solve returned {type(recs).__name__} {recs!r:.40} for the {name} "
                          "items, not a list of records")
    return list(recs)


def _default_equal(a, b) -> bool:
    return str(a).strip() == str(b).strip()


def perturbation_probe(
    solve: Callable[[list[dict]], list[dict]],
    items: Sequence[dict],
    perturb_fn: Callable[[dict, int], dict],
    seed: int = 0,
    *,
    gold_key: str = "answer",
    equal: Callable[[str, str], bool] | None = None,
) -> dict:
    """Accuracy on the original items vs the same items with re-sampled numbers.

    ``perturb_fn(item, seed)`` returns a copy with new numbers and a recomputed gold (e.g.
    ``ponder.tasks.word.perturb``); item i is perturbed with seed ``seed * 1_000_003 + i``.
    ``solve(items) -> [{"correct": bool, "answer": str | None}]``, one record per item.

    A model that memorised the benchmark does worse on the perturbed copies, and on some of them
    answers the ORIGINAL gold. That count is taken only over items whose gold actually changed
    (``equal(orig_gold, new_gold)`` false; default equality: strings after strip; pass the math
    verifier's ``answers_equal``) and whose perturbed problem does not show the old gold among its words
    (``n_old_gold_shown``: copying a number from the problem repeats it there).

    Returns ``{"n", "acc_original", "acc_perturbed", "drop" (paired: original - perturbed, Newcombe's interval
    for paired proportions), each {"mean","lo","hi"}; "flips" (McNemar's exact test: right_to_wrong, wrong_to_right, p);
    "n_gold_changed", "n_old_gold_shown", "orig_gold_repeats",
    "orig_gold_repeat_rate", "items": [...]}``.
    """
    # the arguments checked before any solving (each was a bare TypeError deep inside, a None seed at the copies'
    # seeds; a text of items was read as its characters and "answer" found in one as a substring)
    seed = _check_seed("perturbation_probe", seed)
    for name, f in (("solve", solve), ("perturb_fn", perturb_fn), ("equal", equal)):
        if not callable(f) and not (name == "equal" and f is None):
            raise PonderError(f"perturbation_probe: {name} must be a function, got {f!r:.40}")
    items = _items_arg("perturbation_probe", items)
    if len(items) == 0:
        raise PonderError("perturbation_probe: no items")
    eq = equal or _default_equal
    for i, it in enumerate(items):
        if gold_key not in it:
            raise PonderError(f"perturbation_probe: item {i} has no {gold_key!r} field (gold answer)")
    perturbed = [perturb_fn(it, seed * 1_000_003 + i) for i, it in enumerate(items)]
    for i, it in enumerate(perturbed):
        if not isinstance(it, dict):  # (a bare TypeError from the field check below)
            raise PonderError(f"perturbation_probe: perturb_fn returned {type(it).__name__} for item {i}, not an item")
        if gold_key not in it:
            raise PonderError(f"perturbation_probe: perturbed item {i} has no {gold_key!r} field")
    orig, pert = (_records(solve(its), name) for its, name in ((list(items), "original"), (perturbed, "perturbed")))
    for name, recs in (("original", orig), ("perturbed", pert)):
        if len(recs) != len(items):
            raise PonderError(f"perturbation_probe: solve returned {len(recs)} records for {len(items)} {name} items")
        for i, r in enumerate(recs):  # (a bare KeyError or TypeError below)
            if not isinstance(r, dict) or "correct" not in r:
                raise PonderError(f"perturbation_probe: solve's record {i} for the {name} items is {r!r:.60}, not "
                                  "a dict with 'correct'")
            c = r["correct"]  # bool() counted the text "false" or a Verdict object (no __bool__) as right, None as wrong
            if not isinstance(c, (bool, np.bool_)) and not (isinstance(c, numbers.Integral) and c in (0, 1)):
                raise PonderError(f"perturbation_probe: solve's record {i} for the {name} items has correct={c!r:.40}, "
                                  "need True or False")
    a0 = np.array([bool(r["correct"]) for r in orig], dtype=np.float64)
    a1 = np.array([bool(r["correct"]) for r in pert], dtype=np.float64)
    rows = []
    changed = repeats = shown = 0
    for i, (it, p, r0, r1) in enumerate(zip(items, perturbed, orig, pert)):
        gold_changed = not eq(str(it[gold_key]), str(p[gold_key]))
        # A perturbed problem that shows the old gold among its new numbers (6% of word problems do) is no test of
        # memory: a model copying a number from the problem "repeats the old gold" there. Left out of the count.
        old_shown = gold_changed and _shows(str(it[gold_key]), p.get("prompt"))
        gold_changed = gold_changed and not old_shown
        ans = r1.get("answer")
        rep = bool(gold_changed and ans is not None and eq(str(ans), str(it[gold_key])))
        changed += gold_changed
        shown += old_shown
        repeats += rep
        rows.append(
            {"index": i, "orig_gold": it[gold_key], "perturbed_gold": p[gold_key], "orig_answer": r0.get("answer"),
             "perturbed_answer": ans, "orig_correct": bool(r0["correct"]), "perturbed_correct": bool(r1["correct"]),
             "repeats_orig_gold": rep, "old_gold_shown": old_shown}
        )
    return {
        "n": len(items),
        "seed": seed,
        "acc_original": _ci(a0, seed),
        "acc_perturbed": _ci(a1, seed),
        "drop": _paired_diff_ci(a0, a1),
        "flips": _mcnemar(int(((a0 == 1) & (a1 == 0)).sum()), int(((a0 == 0) & (a1 == 1)).sum())),
        "n_gold_changed": changed,
        "n_old_gold_shown": shown,
        "orig_gold_repeats": repeats,
        "orig_gold_repeat_rate": repeats / changed if changed else 0.0,
        "items": rows,
    }


# -------------------------------------------------------------------------------------- the verdict

DEFAULT_THRESHOLDS = {
    "prefix_fraction": 0.6,
    "prefix_exact_min": 0.2,
    "prefix_rouge_min": 0.6,
    "drop_min": 0.15,
    "repeat_rate_min": 0.10,
    "repeat_chance": 0.02,
    "overlap_min": 0.05,
    "alpha": 0.025,
}


def _thresholds(thresholds: dict | None) -> dict:
    """DEFAULT_THRESHOLDS with the overrides applied, refusing unknown names and a repeat_chance outside (0, 1)."""
    th = dict(DEFAULT_THRESHOLDS)
    if thresholds:
        unknown = set(thresholds) - set(th)
        if unknown:
            raise PonderError(f"contamination_verdict: unknown threshold(s) {sorted(unknown)}; known: {sorted(th)}")
        th.update(thresholds)
    for k, v in th.items():  # a string or None failed as a bare TypeError, after every generation of the probe
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise PonderError(f"contamination_verdict: threshold {k} must be a finite number, got {v!r}")
    if not 0 < th["prefix_fraction"] < 1:
        raise PonderError(f"contamination_verdict: prefix_fraction must be in (0, 1), got {th['prefix_fraction']!r}")
    if not 0 < th["repeat_chance"] < 1:
        raise PonderError(f"contamination_verdict: repeat_chance must be in (0, 1), got {th['repeat_chance']!r}")
    if not 0 < th["alpha"] < 1:
        raise PonderError(f"contamination_verdict: alpha must be in (0, 1), got {th['alpha']!r}")
    return th


def holm(pvalues: dict[str, float], alpha: float) -> dict[str, dict]:
    """Holm's step-down correction (1979) of several tests' p-values: {name: {"p", "p_holm", "rejected"}}, in the
    order given. p_holm is the adjusted p-value, max over the j smallest p-values of min(1, (m - j + 1) * p_(j));
    a test is rejected when p_holm < alpha, i.e. when each smaller-or-equal p_(j) is under alpha / (m - j + 1).
    The chance that any true null hypothesis is rejected stays at most alpha whatever the tests' dependence."""
    order = sorted(pvalues, key=lambda k: pvalues[k])
    m, running, out = len(order), 0.0, {}
    for j, k in enumerate(order):
        running = max(running, min(1.0, (m - j) * pvalues[k]))
        out[k] = {"p": pvalues[k], "p_holm": running, "rejected": running < alpha}
    return {k: out[k] for k in pvalues}


def contamination_verdict(
    prefix: dict | None = None,
    perturbation: dict | None = None,
    overlap: dict | None = None,
    thresholds: dict | None = None,
) -> dict:
    """Combine probe results into {"contaminated": bool, "insufficient_evidence": bool, "too_few_items": [...],
    "evidence": {...}, "reasons": [...], "multiple_testing": {...}}.

    Any one flagged signal makes the verdict "contaminated"; the reasons say which. A signal is flagged when its
    effect reaches its threshold and, where it has a test, the test rejects after Holm's correction (below).
    Thresholds (override any via ``thresholds``) and why:

    * Prefix completion at 60% of the words: exact-match rate >= 0.2 or mean ROUGE-L >= 0.6; a calibrated
      excess (``run_contamination_probe``) also needs its one-sided sign test over the items that differ from
      their perturbed copies (``exact_match_p``, ``rouge_l_p``; null: an item is as likely to do better as worse
      than its copy) to reject (one item recited where its copy was not is p = 0.5, a chance guess of a
      number, not evidence).
      Reproducing the remaining 40% word for word is what recitation looks like; a clean model
      can guess a formulaic ending ("How many apples does she have left?") on a few items, so we
      allow up to 1 in 5 exact hits. ROUGE-L 0.6 on held-out text means most of the remainder's
      words come out in order, far above what fluent-but-unseen continuations score (~0.2-0.35 for
      templated problems). For templated synthetic tasks, calibrate by also running the probe on
      perturbed (certainly unseen) copies and compare.
    * Perturbation: accuracy drop (original - perturbed) >= 0.15 with the 95% CI's lower end > 0
      (re-sampling numbers keeps difficulty, so a real drop that large is not noise) and McNemar's exact
      one-sided test on the items that flipped rejecting (null: right -> wrong as likely as wrong -> right;
      Newcombe's interval of two items, both right -> wrong, starts just above 0; McNemar's p = 0.25 says they
      are not evidence), or >= 10% of the perturbed items whose gold changed are answered with the ORIGINAL
      gold (a model that computes cannot produce the old answer from new numbers except by coincidence) and
      that count's binomial one-sided test rejects (null: a wrong computation hits the old gold 2% of the time,
      ``repeat_chance``; one repeat among 5 changed items is p = 0.10, not evidence).
    * n-gram overlap: >= 5% of the benchmark items long enough to check share a non-boilerplate n-gram
      (``ngram_overlap``) with the training data (13-grams
      by default; with 8-grams the same threshold is stricter, since short stock phrases match). Templated
      problems share wording, a name and a number with other problems of their template, so with perturbed copies
      (``run_contamination_probe``) the signal is the excess over them (``_paired_overlap``) and its one-sided
      sign test (flagged where the copy is not vs the reverse) must reject as well.

    Multiple testing: the verdict is an OR over up to five tests (prefix exact match, prefix ROUGE-L, the drop's
    McNemar test, the old-gold repeats, a calibrated overlap's sign test), and at 0.025 each a clean model was flagged more often than 0.025.
    Holm's step-down correction is applied to the p-values of the tests that ran (``holm``; the repeats' test
    runs when some gold changed), so the chance of a "contaminated" verdict from these tests for a clean model is
    at most ``alpha`` (0.025, one-sided). The drop's p-value is McNemar's; its 95% interval stays a further
    condition (one more condition can only lower that chance). ``multiple_testing`` records the method, alpha,
    m, each test's p and Holm-adjusted p, and ``untested``: the signals that have no test and are judged by
    their threshold alone, outside that guarantee (an uncalibrated n-gram overlap, a count of shared text; an uncalibrated
    prefix, which has no control to test against; a drop saved with neither McNemar's counts nor its items).

    Too few items: a test that Holm's correction would not reject even at the smallest p its items allow (0.5^n
    for the sign and McNemar tests of n items, repeat_chance^n for n changed golds), and a threshold signal that
    one item alone reaches (an uncalibrated exact-match rate under 6 problems, 1 of 5 being 0.2; a ROUGE-L mean
    of 1 or 2, one recited beside a clean continuation's ~0.35; an overlap of no checkable item), cannot decide: such a threshold signal is not flagged, and when
    nothing is flagged while any such signal is in (an overlap with no checkable item: only while no other signal
    could decide), ``insufficient_evidence`` is true (the summary says so in place of a verdict): "not
    contaminated" needs every test able to reject. ``too_few_items`` names them, ``too_few_why`` their item
    counts and why they cannot decide.
    """
    th = _thresholds(thresholds)
    if prefix is None and perturbation is None and overlap is None:
        raise PonderError("contamination_verdict: no probe results given (prefix, perturbation or overlap)")
    evidence: dict = {"thresholds": th}
    pvals: dict[str, float] = {}  # the tests that ran, for Holm's correction
    signals: list[tuple[str, str, str]] = []  # (signal, reason, what its p is) for each effect at its threshold
    untested: list[str] = []
    best: dict[str, float] = {}  # the smallest p each test could reach with its items: below it, no outcome counts
    too_few: list[str] = []  # threshold signals on so few items that one item alone reaches the threshold
    sizes: dict[str, int] = {}  # the items each signal is judged over, to say how few they were
    if prefix is not None:
        key = f"{th['prefix_fraction']:g}"
        fr = prefix.get("fractions", {}).get(key)
        if fr is None:
            raise PonderError(
                f"contamination_verdict: prefix results have no fraction {key} (have {sorted(prefix.get('fractions', {}))})"
            )
        em, rl = fr["exact_match"], fr["rouge_l"]["mean"]
        evidence["prefix"] = {"fraction": th["prefix_fraction"], "exact_match": em, "rouge_l": rl, "n": fr["n"]}
        # a calibrated excess carries sign tests over its items (absent: raw rates, or results saved before them)
        for name, value, limit, what in (("exact_match", em, th["prefix_exact_min"], "exact-match rate"),
                                         ("rouge_l", rl, th["prefix_rouge_min"], "mean ROUGE-L")):
            sizes[f"prefix_{name}"] = fr["n"]
            p = fr.get(f"{name}_p")
            if p is not None:
                evidence["prefix"][f"{name}_p"] = pvals[f"prefix_{name}"] = p
                best[f"prefix_{name}"] = 0.5 ** fr["n"]  # every item compared better than its copy
            else:
                untested.append(f"prefix_{name}")
                # an uncalibrated rate that one item makes (one guessed stock ending, which the threshold allows a
                # clean model) tells nothing: 1 of 4 exact is 0.25 >= 0.2. The others count at a clean model's
                # level (no exact match; ROUGE-L ~0.35 on templated problems): one of 2 recited made ROUGE-L 0.76.
                if fr["n"] * limit <= 1 + (0.35 if name == "rouge_l" else 0.0) * (fr["n"] - 1):
                    too_few.append(f"prefix_{name}")
            if value >= limit:
                signals.append((f"prefix_{name}", f"prefix completion at {key}: {what} {value:.2f} >= {limit}",
                                "sign test "))
    if perturbation is not None:
        d = perturbation["drop"]
        rr = perturbation["orig_gold_repeat_rate"]
        evidence["perturbation"] = {
            "acc_original": perturbation["acc_original"]["mean"],
            "acc_perturbed": perturbation["acc_perturbed"]["mean"],
            "drop": d,
            "orig_gold_repeat_rate": rr,
            "orig_gold_repeats": perturbation["orig_gold_repeats"],
            "n_gold_changed": perturbation["n_gold_changed"],
        }
        if "n_old_gold_shown" in perturbation:  # (absent from results saved before it was added)
            evidence["perturbation"]["n_old_gold_shown"] = perturbation["n_old_gold_shown"]
        flips = perturbation.get("flips")  # (absent from results saved before it was added: counted from the items)
        rows = perturbation.get("items")
        if flips is None and rows and all("orig_correct" in r and "perturbed_correct" in r for r in rows):
            flips = _mcnemar(sum(r["orig_correct"] and not r["perturbed_correct"] for r in rows),
                             sum(r["perturbed_correct"] and not r["orig_correct"] for r in rows))
        if flips is not None:
            evidence["perturbation"]["flips"] = flips
            pvals["perturbation_drop"] = flips["p"]
            sizes["perturbation_drop"] = perturbation.get("n", flips["right_to_wrong"] + flips["wrong_to_right"])
            best["perturbation_drop"] = 0.5 ** sizes["perturbation_drop"]
        else:
            untested.append("perturbation_drop")
        # (no interval: null bounds, as a contamination.json saved before Newcombe's interval holds for one item)
        lo = d["lo"] if d["lo"] is not None else -math.inf
        if d["mean"] >= th["drop_min"] and lo > 0:
            signals.append(("perturbation_drop", f"accuracy drops {d['mean']:.2f} (95% CI {d['lo']:.2f}.."
                            f"{d['hi']:.2f}) on perturbed numbers >= {th['drop_min']}", "McNemar's test "))
        reps, changed = perturbation["orig_gold_repeats"], perturbation["n_gold_changed"]
        rep_p = _binom_tail(reps, changed, th["repeat_chance"])
        evidence["perturbation"]["orig_gold_repeat_p"] = rep_p
        if changed:  # (no changed gold: nothing to test, p = 1 by construction; the count is not the model's)
            pvals["perturbation_repeats"] = rep_p
            sizes["perturbation_repeats"] = changed
            best["perturbation_repeats"] = th["repeat_chance"] ** changed
        if rr >= th["repeat_rate_min"] and reps > 0:
            signals.append(("perturbation_repeats",
                            f"{reps} of {counted(changed, 'perturbed item')} ({rr:.0%}) answered with the original "
                            f"gold >= {th['repeat_rate_min']:.0%}", f"as coincidence at {th['repeat_chance']:.0%}: "))
    if overlap is not None:
        evidence["overlap"] = {k: overlap[k] for k in ("n", "n_items", "n_flagged", "fraction")}
        # (results saved before n_checked was added counted every item as checked)
        checked = sizes["overlap"] = evidence["overlap"]["n_checked"] = overlap.get("n_checked", overlap["n_items"])
        for k in ("n_boilerplate", "n_train_texts", "max_doc_freq"):  # (absent from results saved before them)
            if k in overlap:
                evidence["overlap"][k] = overlap[k]
        p = overlap.get("fraction_p")  # a calibrated excess over perturbed copies carries a sign test
        if p is not None:
            evidence["overlap"]["fraction_p"] = pvals["overlap"] = p
            evidence["overlap"]["calibrated"] = True
            best["overlap"] = 0.5**checked
        else:
            untested.append("overlap")
            if not checked:
                too_few.append("overlap")
        if checked and overlap["fraction"] >= th["overlap_min"]:
            signals.append(("overlap",
                            f"{overlap['n_flagged']} of {counted(checked, 'item')} have more of their own "
                            f"{overlap['n']}-grams in training data than their perturbed copies have of theirs, "
                            f"excess {overlap['fraction']:.1%} "
                            f">= {th['overlap_min']:.0%}" if p is not None else
                            f"{overlap['n_flagged']} of {counted(checked, 'item')} ({overlap['fraction']:.1%}) share "
                            f"a {overlap['n']}-gram with training data >= {th['overlap_min']:.0%}",
                            "sign test " if p is not None else ""))
    tests = holm(pvals, th["alpha"])
    reasons = []
    for name, reason, what in signals:
        t = tests.get(name)
        if t is None:  # no test: the threshold alone, on enough items
            if name not in too_few:
                reasons.append(reason)
        elif t["rejected"]:
            reasons.append(f"{reason} ({what}p = {t['p']:.2g}, Holm-adjusted over {counted(len(tests), 'test')} "
                           f"{t['p_holm']:.2g} < {th['alpha']:g})")
    # Too few items: a test that Holm's correction would not reject even at its smallest reachable p (Holm's
    # rejections only grow as p-values shrink, so no outcome of these items rejects it), or a threshold signal
    # in too_few. With nothing flagged, any signal that could not decide leaves no verdict: "insufficient_evidence",
    # not a clean bill (3-6 word items read "contaminated: False" on the old-gold repeats' test alone, while the
    # prefix and drop tests could not have rejected whatever the model did). An overlap with no item long enough
    # to check is no sample size: it withholds the verdict only when no other signal could decide.
    reachable = holm(best, th["alpha"])
    undecided = [k for k in [*pvals, *untested] if k in too_few or (k in reachable and not reachable[k]["rejected"])]
    blocking = [k for k in undecided if k != "overlap" or sizes["overlap"]]
    insufficient = not reasons and bool(undecided) and (bool(blocking) or set(undecided) == {*pvals, *untested})
    why = {}  # how few items each undecided signal had, and why that cannot decide
    for k in undecided:
        n = sizes.get(k, 0)
        if k in reachable:
            why[k] = (f"{counted(n, 'item')}: the smallest p they allow, {best[k]:.2g}, Holm-adjusted "
                      f"{reachable[k]['p_holm']:.2g}, is not under {th['alpha']:g}")
        else:
            why[k] = f"{counted(n, 'item')}: one item alone reaches its threshold" if n else "no item long enough to check"
    return {"contaminated": bool(reasons), "insufficient_evidence": insufficient, "too_few_items": undecided,
            "too_few_why": why,
            "evidence": evidence, "reasons": reasons,
            "multiple_testing": {"method": "holm", "alpha": th["alpha"], "m": len(tests), "tests": tests,
                                 "untested": untested}}


# ----------------------------------------------------------------------------------------- diversity


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct-n: unique n-grams / total n-grams over all texts. The common implementation of Li et al. 2016's
    metric, which divides by the number of tokens instead (the same for n = 1). Texts with no n-gram at all
    (every one shorter than n words) have no distinct-n: NaN (null in JSON), not 0.0, which read as "no
    diversity" for samples as different as "63" and "7"."""
    texts = _texts_arg("distinct_n", "texts", texts)
    if len(texts) == 0:
        raise PonderError("distinct_n: no texts")
    _check_n("distinct_n", "n", n)
    grams = [g for t in texts for g in ngrams(normalize_words(t), n)]
    return len(set(grams)) / len(grams) if grams else math.nan


def self_bleu(texts: Sequence[str], max_n: int = 4) -> float:
    """Mean BLEU of each text against all the others as references (Zhu et al. 2018, Texygen).

    BLEU: clipped n-gram precisions for n = 1..max_n (clip = max count in any one reference),
    geometric mean with uniform weights, brevity penalty against the closest reference length.
    Smoothing: add-one on numerator and denominator for n >= 2 (Lin & Och 2004), so short texts
    without a 4-gram match are not all 0. Identical texts score 1.0 (empty ones too); higher = less diverse.
    """
    texts = _texts_arg("self_bleu", "texts", texts)
    if len(texts) < 2:
        raise PonderError(f"self_bleu: need at least 2 texts, got {len(texts)}")
    _check_n("self_bleu", "max_n", max_n)
    toks = [normalize_words(t) for t in texts]
    lens = np.array([len(t) for t in toks])
    counts = [[Counter(ngrams(t, n)) for n in range(1, max_n + 1)] for t in toks]
    # For every n-gram keep the two largest per-text counts and who holds the largest, so
    # "max over references j != i" is O(1): top1 unless i holds it, then top2.
    tops: list[dict] = []
    for n_idx in range(max_n):
        best: dict[tuple, list] = {}
        for i, c in enumerate(counts):
            for g, v in c[n_idx].items():
                b = best.get(g)
                if b is None:
                    best[g] = [v, i, 0]
                elif v > b[0]:
                    best[g] = [v, i, b[0]]
                elif v > b[2]:
                    b[2] = v
        tops.append(best)
    scores = []
    for i, t in enumerate(toks):
        if not t:
            # An empty text (an immediate EOS, punctuation alone) matches another empty text exactly, as in
            # rouge_l and the n-gram similarity; scoring it 0.0 made samples that are all empty "most diverse".
            scores.append(1.0 if np.count_nonzero(lens == 0) > 1 else 0.0)
            continue
        log_p = 0.0
        for n_idx in range(max_n):
            hyp = counts[i][n_idx]
            total = sum(hyp.values())
            match = 0
            for g, v in hyp.items():
                top1, who, top2 = tops[n_idx][g]
                match += min(v, top2 if who == i else top1)
            if n_idx > 0:
                match, total = match + 1, total + 1
            if match == 0 or total == 0:
                log_p = -math.inf
                break
            log_p += math.log(match / total) / max_n
        others = np.delete(lens, i)
        ref_len = int(others[np.lexsort((others, np.abs(others - len(t))))[0]])  # closest, shorter on ties
        bp = 1.0 if len(t) > ref_len else math.exp(1 - ref_len / len(t))
        scores.append(bp * math.exp(log_p) if log_p > -math.inf else 0.0)
    return float(np.mean(scores))


def _gram_set(text: str, n: int) -> set:
    """Word n-grams of a text; a text shorter than n words is one gram of all its words (else every short
    answer would have the empty set, and "63" would equal "7")."""
    words = normalize_words(text)
    return set(ngrams(words, n)) or {tuple(words)}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _similarity_fn(method: str, n: int) -> Callable[[str, str], float]:
    _check_n("similarity", "n", n)
    if method == "ngram":
        return lambda a, b: jaccard(_gram_set(a, n), _gram_set(b, n))
    if method == "rouge_l":
        return rouge_l
    raise PonderError(f"unknown similarity method {method!r}; use 'ngram' or 'rouge_l' (embedding similarity: "
                      "ponder.probes.embedding_similarity in Python)")


def pairwise_similarity(texts: Sequence[str], method: str = "ngram", *, n: int = 2) -> float:
    """Mean similarity over all unordered pairs: Jaccard of word n-gram sets ("ngram") or ROUGE-L."""
    texts = _texts_arg("pairwise_similarity", "texts", texts)
    if len(texts) < 2:
        raise PonderError(f"pairwise_similarity: need at least 2 texts, got {len(texts)}")
    _check_n("pairwise_similarity", "n", n)
    if method == "ngram":
        # Build each n-gram set once instead of once per pair.
        sets = [_gram_set(t, n) for t in texts]
        return float(np.mean([jaccard(a, b) for a, b in combinations(sets, 2)]))
    sim = _similarity_fn(method, n)
    return float(np.mean([sim(a, b) for a, b in combinations(texts, 2)]))


def embedding_similarity(texts: Sequence[str], model_path: str | Path | None) -> float:
    """Mean pairwise cosine similarity of sentence-transformers embeddings from a LOCAL model."""
    if importlib.util.find_spec("sentence_transformers") is None:
        raise PonderError(
            "embedding_similarity needs the sentence-transformers package (pip install sentence-transformers)"
        )
    if model_path is None or not Path(model_path).exists():
        raise PonderError(
            f"embedding_similarity needs a local sentence-transformers model directory; got {model_path!r}"
        )
    texts = _texts_arg("embedding_similarity", "texts", texts)
    if len(texts) < 2:
        raise PonderError(f"embedding_similarity: need at least 2 texts, got {len(texts)}")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_path), local_files_only=True)
    emb = np.asarray(model.encode(list(texts), normalize_embeddings=True), dtype=np.float64)
    sims = emb @ emb.T
    iu = np.triu_indices(len(texts), k=1)
    return float(sims[iu].mean())


def intra_model_homogeneity(
    samples_per_prompt: Sequence[Sequence[str]], *, method: str = "ngram", n: int = 2, seed: int = 0
) -> dict:
    """How alike one model's samples for the same prompt are, averaged over prompts.

    Per prompt: mean pairwise similarity, self-BLEU, distinct-1/2 of its samples. Prompts with
    fewer than 2 samples are skipped. Returns each metric as {"mean","lo","hi"} (bootstrap over
    prompts), plus "n_prompts" and "per_prompt". A prompt whose samples have no n-gram has no distinct-n
    (NaN) and is left out of that metric's mean; with none left, the metric is NaN throughout (null in JSON).
    """
    per = []
    for i, samples in enumerate(samples_per_prompt):
        samples = _texts_arg("intra_model_homogeneity", f"samples_per_prompt[{i}]", samples)
        if len(samples) < 2:
            continue
        per.append(
            {"index": i, "similarity": pairwise_similarity(samples, method, n=n), "self_bleu": self_bleu(samples),
             "distinct_1": distinct_n(samples, 1), "distinct_2": distinct_n(samples, 2)}
        )
    if not per:
        raise PonderError("intra_model_homogeneity: no prompt has 2 or more samples")
    out: dict = {"n_prompts": len(per), "method": method}
    for key in ("similarity", "self_bleu", "distinct_1", "distinct_2"):
        vals = [p[key] for p in per if not math.isnan(p[key])]
        out[key] = _ci(vals, seed, score=True) if vals else {"mean": math.nan, "lo": math.nan, "hi": math.nan}
    out["per_prompt"] = per
    return out


def inter_model_homogeneity(
    samples_by_model: dict[str, Sequence[Sequence[str]]], *, method: str = "ngram", n: int = 2
) -> dict:
    """Mean cross-model similarity per model pair, on the same prompts.

    Entry (A, B), A != B: for each prompt, the mean similarity over the (sample i of A, sample j of B)
    pairs with i != j, averaged over prompts. Diagonal (A, A): the within-model mean pairwise similarity (over
    distinct samples), so the matrix reads "how much does A resemble B, compared to itself". Why i != j:
    ``run_diversity_probe`` samples every model with the same seed, so sample i of each is drawn with the same
    random numbers and (A_i, B_i) are alike by construction (the same model twice resembled itself more
    across than on its diagonal). Where both have one sample for a prompt, its one pair is taken.
    Returns ``{"models": [...], "matrix": [[...]], "pairs": {"A|B": value}, "method"}``.
    """
    models = list(samples_by_model)
    if len(models) < 1:
        raise PonderError("inter_model_homogeneity: no models")
    samples_by_model = {m: [_texts_arg("inter_model_homogeneity", f"samples_by_model[{m!r}][{i}]", s)
                            for i, s in enumerate(v)] for m, v in samples_by_model.items()}
    n_prompts = {m: len(v) for m, v in samples_by_model.items()}
    if len(set(n_prompts.values())) != 1:
        raise PonderError(f"inter_model_homogeneity: models have different prompt counts {n_prompts}")
    if next(iter(n_prompts.values())) == 0:
        raise PonderError("inter_model_homogeneity: no prompts")
    sim = _similarity_fn(method, n)
    if method == "ngram":
        # Same similarity with cached n-gram sets: every sample takes part in many pairs.
        cache: dict[str, set] = {}

        def grams(t: str) -> set:
            if t not in cache:
                cache[t] = _gram_set(t, n)
            return cache[t]

        sim = lambda a, b: jaccard(grams(a), grams(b))  # noqa: E731

    k = len(models)
    mat = np.full((k, k), np.nan)
    for a in range(k):
        for b in range(a, k):
            vals = []
            for pa, pb in zip(samples_by_model[models[a]], samples_by_model[models[b]]):
                if a == b:
                    pairs = list(combinations(pa, 2))
                else:  # (i != j: the docstring; one sample each, greedy outputs compared: the one pair there is)
                    pairs = [(x, y) for i, x in enumerate(pa) for j, y in enumerate(pb)
                             if i != j or len(pa) == len(pb) == 1]
                if pairs:
                    vals.append(np.mean([sim(x, y) for x, y in pairs]))
            mat[a, b] = mat[b, a] = float(np.mean(vals)) if vals else float("nan")
    pairs_out = {f"{models[a]}|{models[b]}": float(mat[a, b]) for a in range(k) for b in range(a, k)}
    return {"models": models, "matrix": mat.tolist(), "pairs": pairs_out, "method": method}


# ------------------------------------------------------------------------------- model-running wrappers
# The functions above never run a model; these two do (``ponder probe contamination|diversity``).


NO_PERTURBER = ("no number re-sampler for these items: only word-task items with 'template' and 'numbers' "
                "can be perturbed")


def _problem_text(prompt) -> str | None:
    """The problem's own text: a text prompt as it is; of chat messages, the last user message's content (what
    a benchmark's problem is, and what a model memorises: the chat template around it is not the problem).
    None when there is no such text."""
    if isinstance(prompt, str):
        return prompt
    if not isinstance(prompt, (list, tuple)):
        return None
    users = [m for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
    text = users[-1].get("content") if users else None
    return text if isinstance(text, str) and text.strip() else None


def _word_story(prompt: str) -> str:
    """A word problem's story: its rendered prompt less the "Problem: " ... "\nSolution:" frame."""
    return prompt.removeprefix("Problem: ").removesuffix("\nSolution:")


def _perturb_word_in_place(item: dict, seed: int) -> dict | None:
    """``word.perturb`` of an item, its copy's prompt the item's own with the problem's text (the item rendered, or
    its story alone) replaced by the perturbed problem's where it stands: in a text prompt, or in the last user
    message of chat messages, so a wrapper around it ("Solve: ... Put the answer in \\boxed{}") and the other
    messages stay. (A text prompt's copy was the task's default layout, "Problem: ...\nSolution:": the originals
    were solved and prefix-probed in one format and their control in another.) None when the prompt holds
    neither: the perturber does not know this text."""
    from ponder.tasks.word import NAMES, perturb, render

    chat = not isinstance(item["prompt"], str)
    if chat:
        msgs = [dict(m) for m in item["prompt"]]
        last = max(j for j, m in enumerate(msgs) if m.get("role") == "user")
        text = msgs[last]["content"]
    else:
        text = item["prompt"]
    new = perturb({**item, "prompt": text}, seed)  # (its own errors first: numbers that fit no template...)
    # a null name is the default one, as perturb reads it: rendered as "None buys ...", it was never found
    numbers = {k: v for k, v in item["numbers"].items() if v is not None}  # (a Parquet struct's other slots)
    old = render(item["template"], numbers, item.get("name") or NAMES[0], item.get("obj"))[0]
    for a, b in ((old, new["prompt"]), (_word_story(old), _word_story(new["prompt"]))):
        if a in text:
            text = text.replace(a, b, 1)
            if not chat:
                return {**new, "prompt": text}
            msgs[last]["content"] = text
            return {**new, "prompt": msgs}
    return None


def _perturber(items: Sequence[dict]) -> Callable[[dict, int], dict | None] | None:
    """The task's number re-sampler when every item has one (today: ``word``), else None. Each item is perturbed
    inside its own prompt, a text or its last user message (``_perturb_word_in_place``)."""
    tasks = {it.get("task") for it in items}
    if tasks == {"word"} and all("template" in it and "numbers" in it for it in items):
        return _perturb_word_in_place
    return None


def _paired_excess(orig: dict, control: dict, fractions: Sequence[float], seed: int) -> dict:
    """Prefix results minus the same probe on perturbed (unseen) copies, paired per item and clamped at 0,
    in the shape ``contamination_verdict`` reads."""
    out: dict = {"fractions": {}}
    for f in fractions:
        key = f"{f:g}"
        a = {r["index"]: r for r in orig["items"] if r["fraction"] == f}
        b = {r["index"]: r for r in control["items"] if r["fraction"] == f}
        common = sorted(set(a) & set(b))
        if not common:
            continue
        ex = np.array([float(a[i]["exact"]) - float(b[i]["exact"]) for i in common])
        rl = np.array([a[i]["rouge_l"] - b[i]["rouge_l"] for i in common])
        mean, lo, hi = bootstrap_ci(rl, seed=seed)
        out["fractions"][key] = {"n": len(common), "exact_match": max(0.0, float(ex.mean())),
                                 # the interval clamped with its mean: an excess below 0 is no excess
                                 "rouge_l": {"mean": max(0.0, mean), "lo": max(0.0, lo), "hi": max(0.0, hi)},
                                 # sign tests over the items that differ: one item recited where its copy was
                                 # not (a number guessed right) made an excess of 1.0, the verdict "contaminated"
                                 "exact_match_p": _sign_p(int((ex > 0).sum()), int((ex < 0).sum())),
                                 "rouge_l_p": _sign_p(int((rl > 0).sum()), int((rl < 0).sum()))}
    return out


def _own_ngram_shares(train_texts: Iterable[str], problems: Sequence[str], copies: Sequence[str],
                      n: int) -> tuple[list[float | None], list[float | None]]:
    """For each problem and its perturbed copy, the share of its OWN word n-grams (those the other lacks: its
    numbers' n-grams) found in the training texts, for the original and for the copy; None where one has no n-gram
    of its own. Template wording both share is left out: a verbatim copy of a problem in the training texts has all
    of its own n-grams there, an unseen problem of the same template few of them. The texts are streamed once."""
    grams = [(set(ngrams(normalize_words(a), n)), set(ngrams(normalize_words(b), n))) for a, b in zip(problems, copies)]
    own = [(a - b, b - a) for a, b in grams]
    wanted = set().union(*(a | b for a, b in own)) if own else set()
    seen: set = set()
    for t in train_texts:  # (text: ngram_overlap checked each one in its pass over them)
        seen.update(g for g in ngrams(normalize_words(t), n) if g in wanted)

    def share(s: set) -> float | None:
        return len(s & seen) / len(s) if s else None

    return [share(a) for a, _ in own], [share(b) for _, b in own]


def _paired_overlap(orig: dict, control: dict, shares: tuple[list, list]) -> dict:
    """The n-gram overlap of the items beyond their perturbed copies', paired per item, in the shape
    ``contamination_verdict`` reads. ``shares``: each item's and each copy's share of its own n-grams found in the
    training texts (``_own_ngram_shares``). Over the items long enough to check with an n-gram of their own,
    ``n_flagged`` items have more of theirs in the training texts than their copy has, ``fraction`` is their excess
    over the reverse (clamped at 0), and ``fraction_p`` is the sign test of the one against the other. (Paired on
    whether each shares any n-gram at all, an item copied word for word whose copy shared its template's wording
    counted for nothing: the whole word test set in a training file read "0 of 40 flagged, excess 0.0%" at 8-grams,
    12 of its 40 problems at 13-grams "not contaminated".)"""
    short = set(orig["too_short"]) | set(control["too_short"])
    pairs = [(a, b) for i, (a, b) in enumerate(zip(*shares)) if i not in short and a is not None and b is not None]
    up, down = sum(a > b for a, b in pairs), sum(b > a for a, b in pairs)
    return {"n": orig["n"], "n_items": orig["n_items"], "n_checked": len(pairs), "n_flagged": up,
            "fraction": max(0.0, (up - down) / len(pairs)) if pairs else None, "fraction_p": _sign_p(up, down),
            "n_boilerplate": orig["n_boilerplate"], "n_train_texts": orig["n_train_texts"],
            "max_doc_freq": orig["max_doc_freq"], "calibrated": True}


# what each probe writes into its --out, and how its own JSON is told from a file of the user's of that name
PROBE_FILES = {"contamination": ("contamination.json",), "diversity": ("diversity.json", "diversity_heatmap.png")}
# (keys every version wrote: "settings" is absent from a contamination.json saved before the seed etc. were kept)
_PROBE_KEYS = {"contamination": ("contaminated", "evidence"), "diversity": ("intra", "inter")}


def _probe_wrote(path: Path, probe: str) -> bool:
    """Whether ``path`` (a probe's result file name) holds what the ``probe`` writes."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and all(k in saved for k in _PROBE_KEYS[probe])


def check_probe_out(out_dir, probe: str) -> Path | None:
    """The directory the ``probe`` ("contamination" or "diversity") writes its result into, checked before any
    work. A directory of probe results (or a new one, or a folder of other files, but for a config.json) takes
    it: an earlier result of the same probe there is replaced (a re-run), the other probe's stays beside it
    (`ponder report` shows both). Refused: a file; another command's directory, whose report.html the probe would
    delete and beside whose files it would write (a run or result: its config.json, metrics.jsonl or checkpoint/;
    a model checkpoint; a demo's summary.json; an interrupted evaluation); any other config.json, which no probe
    writes and `ponder report` would show as the probe results' configuration; a file of the probe's own name
    that no probe wrote; a report.html beside no probe's result (the probe deletes the report of an older one)."""
    if out_dir is None:
        return None
    if not os.fspath(out_dir):
        raise PonderError("--out: empty path")
    if os.fspath(out_dir) == "-":
        raise PonderError("--out -: a probe's result directory cannot be standard output; name a directory (--json "
                          "prints the result to standard output)")
    d = Path(out_dir)
    if d.exists() and not d.is_dir():
        raise PonderError(f"--out {d}: is a file, not a directory")
    from ponder.evaluate import PROGRESS
    from ponder.fileio import MODEL_WEIGHT_FILES

    what = None
    if (d / "config.json").exists():
        from ponder.demo import _holder

        what = _holder(d / "config.json")
        if what == "a config.json":  # (no run's, result's or checkpoint's: "not probe results" said no why)
            raise PonderError(f"--out {d}: holds a config.json of no Ponder run, result or checkpoint, which "
                              f"`ponder report` would show as the {probe} probe's configuration; choose another "
                              "--out")
    elif any((d / f).exists() for f in MODEL_WEIGHT_FILES):
        what = f"a model checkpoint ({next(f for f in MODEL_WEIGHT_FILES if (d / f).exists())})"
    elif (d / "checkpoint").exists() or (d / "metrics.jsonl").exists():
        what = "a training run (its " + ("checkpoint/" if (d / "checkpoint").exists() else "metrics.jsonl") + ")"
    elif (d / "summary.json").exists():
        what = "a summary.json with no config.json beside it (a demo's results)"
    elif (d / "grpo").is_dir():
        what = "an interrupted demo (its grpo/ run)"
    elif (d / PROGRESS).exists():
        what = f"an interrupted evaluation ({PROGRESS})"
    if what is not None:
        raise PonderError(f"--out {d}: holds {what}, not probe results, among whose files the {probe} probe "
                          "would write its own (and delete a report.html); choose another --out")
    own, *beside = (d / f for f in PROBE_FILES[probe])
    ours = False
    if own.exists():  # a re-run replaces the probe's own result; a file of the user's of that name is not one
        if not _probe_wrote(own, probe):
            raise PonderError(f"--out {d}: holds a {own.name} that no {probe} probe wrote, which this probe would "
                              "replace; choose another --out")
        ours = True
    # the probe deletes `ponder report`'s page of an older result (stale): one beside no probe's result is the
    # user's own (a folder of other files), deleted silently
    if (d / "report.html").exists() and not any(_probe_wrote(d / PROBE_FILES[p][0], p) for p in PROBE_FILES):
        raise PonderError(f"--out {d}: holds a report.html beside no probe result, which the {probe} probe would "
                          "delete (it removes the stale report of an earlier result); choose another --out")
    for f in beside:  # (the heatmap: written after the result, so a probe's is never there without it)
        if f.exists() and not ours:
            raise PonderError(f"--out {d}: holds a {f.name} with no {own.name} beside it, which no {probe} probe "
                              "wrote and this probe would replace; choose another --out")
    for f in (own, *beside):
        check_writable(f)
    return d


def run_contamination_probe(
    model,
    tok,
    items: Sequence[dict],
    *,
    train_file: str | Path | None = None,
    fractions: Sequence[float] = (0.4, 0.6, 0.8),
    perturb_fn: Callable[[dict, int], dict] | None | str = "auto",
    control: bool = True,
    ngram_n: int = 13,
    max_new_tokens: int = 128,
    reward="math",
    thresholds: dict | None = None,
    seed: int = 0,
    out_dir: str | Path | None = None,
    progress: bool = False,
    model_name: str | None = None,
    chat: bool = False,
    system: str | None = None,
) -> dict:
    """Run the contamination probes with a model and combine them into a verdict (``progress``: a bar on
    stderr over every greedy generation the probes make).

    * Prefix completion (greedy, from the problem's raw text, with no chat template: a text prompt as it is,
      or for a prompt of chat messages (verl's and open-r1's layouts) the content of its last user message:
      that is the benchmark's problem, the text a model memorises; the template around it is not), decoded up to
      ``max_new_tokens`` or, where a problem's rest takes more tokens, that many (within the model's context).
    * Perturbation (when a number re-sampler exists: ``perturb_fn="auto"`` uses the task's, e.g.
      ``ponder.tasks.word.perturb``; pass a function for other data, None to skip): greedy answers on
      the originals and on perturbed copies, judged by ``reward`` (default: the math verifier), answers
      grouped with the math verifier's ``answers_equal``. Chat items are answered from their full chat
      prompt, as eval does; "auto" perturbs the problem's text inside the last user message (a wrapper
      around it stays), and when that message does not hold the text the re-sampler renders, skips the
      perturbation as it does for data without a re-sampler. A function passed is given chat items as they
      are. ``"perturbation_skipped"`` says why the perturbation did not run (None when it did).
    * n-gram overlap with ``train_file`` when given (``iter_texts`` formats); with a perturber and ``control``,
      the perturbed copies' overlap too, and the verdict is given the excess (``_paired_overlap``: each item's
      own n-grams, those its copy lacks, against its copy's own; the file is read three times): templated problems
      share wording, names and numbers with unseen ones.

    Calibration (``control=True`` and a perturber): templated benchmarks have predictable endings, so a
    clean model already completes much of a prefix. The prefix probe is also run on the perturbed
    copies (same templates, numbers the model cannot have seen) and the verdict is given the paired
    excess, original minus control (clamped at 0), instead of the raw rates; both raw and control
    results are kept. Returns ``{"contaminated", "reasons", "evidence", "prefix", "prefix_control",
    "prefix_calibrated", "perturbation", "perturbation_skipped", "overlap", "overlap_control",
    "overlap_calibrated", "n_items", "settings"}`` (``settings``: seed, max_new_tokens, fractions, control,
    ngram_n, train_file and reward, what the probe ran with, and which model (``model_name``, the sha256 of its
    weights) and items (their sha256) it probed); ``out_dir`` gets
    contamination.json. An item whose prompt is chat messages with no last user message of text is refused.
    ``chat`` and ``system``: the perturbation's answers are asked as eval's ``chat``/``system`` ask them (a text
    prompt as a user message, after ``system``); the prefixes are the problem's raw text either way. Recorded in
    ``settings``, with the tokenizer's ``template_kwargs`` as ``chat_template_kwargs``.
    """
    from ponder.engine import sample
    from ponder.evaluate import (
        _check_flag,
        _items_digest,
        _jsonable,
        _prompt_of,
        _weights_digest,
        atomic_write_text,
    )

    seed = _check_seed("contamination probe", seed)
    _check_flag("chat", chat)
    if model_name is not None and not isinstance(model_name, str):
        raise PonderError(f"contamination probe: model_name must be text, got {model_name!r:.40}")
    for name, flag in (("control", control), ("progress", progress)):  # (control="no", a settings file's text,
        # ran the control; progress="no" drew the bar)
        if not isinstance(flag, (bool, np.bool_)):
            raise PonderError(f"contamination probe: {name} must be True or False, got {flag!r}")
    items = list(items)
    if not items:
        raise PonderError("contamination probe: no items")
    for i, it in enumerate(items):
        if _problem_text(it.get("prompt")) is None:
            # (named by id: a --data file's rows are known by it, not by their index)
            raise PonderError(f"contamination probe: item {it.get('id', i)}'s 'prompt' is "
                              f"{it.get('prompt')!r:.60}: neither text nor chat messages whose last user "
                              "message has text (the probe continues the problem's raw text)")
        _prompt_of(it, chat, system)  # (a system refused, before any generation)

    if train_file is not None:
        iter_texts(train_file)  # a missing file: before sampling
        _check_n("contamination probe", "ngram_n", ngram_n)  # (failed in ngram_overlap, after every generation)
    # (read again for the perturbed copies' overlap: a fresh stream each time)
    train_texts = (lambda: iter_texts(train_file)) if train_file is not None else None
    # an output that cannot be written, or another command's directory: before sampling too, not after every
    # generation
    check_probe_out(out_dir, "contamination")
    # The verdict reads the prefix probe at th["prefix_fraction"]: bad thresholds or fractions without it
    # failed only in contamination_verdict, after every generation, and no result was kept.
    th = _thresholds(thresholds)
    fractions = _check_fractions("contamination probe", fractions)
    if f"{th['prefix_fraction']:g}" not in {f"{f:g}" for f in fractions}:
        raise PonderError(f"contamination probe: fractions {list(fractions)} lack the verdict's prefix_fraction "
                          f"{th['prefix_fraction']:g} (add it, or set thresholds={{'prefix_fraction': ...}})")
    if not (perturb_fn is None or perturb_fn == "auto" or callable(perturb_fn)):  # (a bare "'str' object is not
        # callable" TypeError: "word" or "none" for the task's re-sampler or for None)
        raise PonderError(f"contamination probe: perturb_fn must be 'auto' (the task's number re-sampler), None (no "
                          f"perturbation) or a function perturb_fn(item, seed) -> item, got {perturb_fn!r:.40}")
    pf = _perturber(items) if perturb_fn == "auto" else perturb_fn
    skipped = None if pf is not None else "perturb_fn is None" if perturb_fn is None else NO_PERTURBER
    # Perturbed here, before any generation: an item that cannot be perturbed (an unknown template, a bad
    # split) failed only after the whole prefix probe. The copies are the control's prompts too.
    copies = [pf(it, seed * 1_000_003 + i) for i, it in enumerate(items)] if pf is not None else None
    if perturb_fn == "auto" and copies is not None and None in copies:  # an item's prompt lacks the text
        miss = items[copies.index(None)]
        pf = copies = None
        where = "the prompt" if isinstance(miss["prompt"], str) else "the last user message"
        skipped = (f"{where} of item {miss.get('id', '?')} does not hold its word problem's "
                   "text, so its numbers cannot be re-sampled in place")
    if copies is not None:
        # (a KeyError or a bare TypeError in the control's prefix probe; a copy that is no dict:
        # perturbation_probe says so)
        for i, c in enumerate(copies):
            if isinstance(c, dict) and _problem_text(c.get("prompt")) is None:
                raise PonderError(f"contamination probe: the perturbed copy of item {items[i].get('id', i)} is "
                                  f"{c!r:.60}: not an item whose 'prompt' is text or chat messages ending "
                                  "with text")
        # A copy whose problem is the original's (a problem with no numbers to re-sample) is no control: the
        # excess over it and the drop are 0 by construction, and a benchmark recited word for word read clean.
        same = [i for i, c in enumerate(copies) if isinstance(c, dict)
                and _problem_text(c.get("prompt")) == _problem_text(items[i]["prompt"])]
        if same:
            pf = copies = None
            skipped = (f"perturb_fn returned {counted(len(same), 'problem')} unchanged (first: item "
                       f"{items[same[0]].get('id', same[0])}), no numbers re-sampled, so no unseen copy to compare "
                       "with")
    # what the generations were made with, saved beside the verdict: the file alone re-runs it (the seed was kept
    # only inside a perturbation that ran; max_new_tokens, the reward and the training file nowhere)
    settings = {"seed": seed, "max_new_tokens": max_new_tokens, "fractions": list(fractions), "control": bool(control),
                "ngram_n": ngram_n if train_file is not None else None,
                "train_file": str(train_file) if train_file is not None else None,
                "reward": reward if isinstance(reward, str) else getattr(reward, "__name__", repr(reward)),
                # and what was probed: the verdicts of several checkpoints, each in its own directory, did not say
                # which was which (eval's config.json records these)
                "model": model_name, "weights_sha256": _weights_digest(model), "items_sha256": _items_digest(items),
                "chat": bool(chat), "system": system,
                # (as eval's config.json: probes of one model with and without Qwen3's thinking read the same)
                "chat_template_kwargs": _jsonable(getattr(tok, "template_kwargs", None) or {})}
    if pf is not None:  # an unknown reward failed after the whole prefix probe had been generated
        from ponder.evaluate import make_reward

        reward = make_reward(reward)
    bar = None
    if progress:  # prefix completions (again on perturbed copies for calibration), then originals + perturbed
        from ponder.progress import progress_bar

        usable = sum(_probe_words(_problem_text(it["prompt"])) for it in items)
        total = usable * len(fractions) * (2 if pf is not None and control else 1) + (2 * len(items) if pf else 0)
        bar = progress_bar(total=total, desc="contamination probe", dynamic_ncols=True)

    def model_generate(prompts: list, rests: list[str] | None = None,
                       names: list[str] | None = None) -> list[str]:  # texts (the prefixes) or chat messages
        # (perturbation); `names`: the items they come from, for an error (sample's "prompt 5" was an index among
        # the prefixes)
        budget = max_new_tokens
        if rests and tok is not None:  # the prefix probe: a rest longer than max_new_tokens could not be recited
            # whole (exact match 0, ROUGE-L capped, whatever the model memorised): decoded to the tokens it takes,
            # within the context
            from ponder.engine import render_prompts
            from ponder.model import model_context

            need = max(len(tok.encode_continuation(p, r)) for p, r in zip(prompts, rests)) + 1  # (+1: a seam merge)
            limit = model_context(model)[0]
            room = limit - max(map(len, render_prompts(tok, prompts))) if isinstance(limit, int) else need
            budget = max(max_new_tokens, min(need, room))
        if names is not None and tok is not None:
            from ponder.engine import check_context, render_prompts

            check_context(model, render_prompts(tok, prompts), budget, names=names)
        out = sample(model, tok, prompts, n=1, max_new_tokens=budget, temperature=0.0, seed=seed,
                     progress=bar.update if bar else None)
        cut[:] = [getattr(g[0], "finish_reason", None) == "length" for g in out]
        return [g[0].text for g in out]

    cut: list[bool] = []  # which completions of the last generation were cut at their token budget
    try:
        result = _contamination(model_generate, items, pf, copies, train_texts, fractions, control, ngram_n,
                                reward, thresholds, seed, tok=tok, cut=cut, chat=chat, system=system)
        if result["perturbation"] is not None:
            result["perturbation"]["truncated"]["max_new_tokens"] = max_new_tokens
        result["perturbation_skipped"] = skipped
        result["settings"] = settings
    finally:
        if bar:
            bar.close()
    if out_dir is not None:
        # strict JSON (``fileio.json_safe``): one item's drop has the interval (-inf, inf), written as null
        (Path(out_dir) / "report.html").unlink(missing_ok=True)  # `ponder report`'s of an older result: stale
        atomic_write_text(Path(out_dir) / "contamination.json",
                          json.dumps(json_safe(result), indent=1, default=str, allow_nan=False))
    return result


def _contamination(model_generate, items, pf, copies, train_texts, fractions, control, ngram_n, reward,
                   thresholds, seed, tok=None, cut: list[bool] | None = None, chat: bool = False,
                   system: str | None = None) -> dict:
    """The probes and their verdict; ``cut``, where given, is set by ``model_generate`` to which completions of its
    last call were cut at their token budget (the perturbation's answers: counted as ``truncated``). ``chat`` and
    ``system``: how the perturbation's problems are asked (eval's ``_prompt_of``)."""
    from ponder.evaluate import _judge_one, _prompt_of, make_reward

    problems = [_problem_text(it["prompt"]) for it in items]
    names = [f"item {it.get('id', i)}" for i, it in enumerate(items)]  # (how an error names a prompt's item)
    # seed: the ROUGE-L intervals
    prefix = prefix_completion_probe(model_generate, problems, fractions, seed, names=names)
    perturbation = control_res = calibrated = None
    if pf is not None:
        from ponder.verify.math import answers_equal

        reward_fn = make_reward(reward)

        def solve(its: list[dict]) -> list[dict]:
            from ponder.engine import prompts_think_state
            from ponder.evaluate import extract_opened
            from ponder.scale import default_extract
            from ponder.verify.registry import with_think_open

            extract = default_extract()
            prompts = [_prompt_of(it, chat, system) for it in its]
            # a prompt rendered to end with "<think>" (a template that prefills it) is judged and read as eval does:
            # an answer drafted in thinking the budget cut off is no answer (it counted as the model's, right or
            # the old gold, where `ponder eval` on the same items scores it wrong)
            opens = prompts_think_state(tok, prompts) if tok is not None else [False] * len(its)
            texts = (model_generate(prompts, names=[f"item {it.get('id', i)}" for i, it in enumerate(its)])
                     if _takes_keyword(model_generate, "names") else model_generate(prompts))
            n_cut.append(sum(cut) if cut is not None else None)
            return [{"correct": _judge_one(with_think_open(reward_fn, f), t, it)[0],
                     "answer": extract_opened(extract, t) if f is True else extract(t)} for t, it, f in zip(texts, its, opens)]

        n_cut: list[int | None] = []  # answers cut at max_new_tokens: the originals', then the copies'
        perturbation = perturbation_probe(solve, items, pf, seed, equal=answers_equal)
        # a cut answer is no answer, wrong on both sides: cut answers hide a drop, and nothing said they were cut
        perturbation["truncated"] = {"original": n_cut[0], "perturbed": n_cut[1]}
        if control:
            control_texts = [_problem_text(c["prompt"]) for c in copies]
            control_res = prefix_completion_probe(model_generate, control_texts, fractions, seed,
                                                  names=[f"perturbed copy of {n}" for n in names])
            calibrated = _paired_excess(prefix, control_res, fractions, seed)
    overlap = overlap_control = overlap_calibrated = None
    if train_texts is not None:
        overlap = ngram_overlap(train_texts(), problems, n=ngram_n)
        if pf is not None and control:
            # Templated problems share their template's wording, a name and a number or two with other problems
            # of the same template: a clean word train split shared a 13-gram with 33-79% of the word test set,
            # "contaminated". The perturbed copies (unseen problems of the same templates) measure that baseline.
            copy_texts = [_problem_text(c["prompt"]) for c in copies]
            overlap_control = ngram_overlap(train_texts(), copy_texts, n=ngram_n)
            shares = _own_ngram_shares(train_texts(), problems, copy_texts, ngram_n)
            overlap_calibrated = _paired_overlap(overlap, overlap_control, shares)
    verdict = contamination_verdict(calibrated or prefix, perturbation, overlap_calibrated or overlap, thresholds)
    result = {**verdict, "calibrated_prefix": calibrated is not None, "n_items": len(items), "prefix": prefix,
              "prefix_control": control_res, "prefix_calibrated": calibrated, "perturbation": perturbation,
              "overlap": overlap, "overlap_control": overlap_control, "overlap_calibrated": overlap_calibrated}
    return result


def run_diversity_probe(
    models,
    items: Sequence[dict],
    n_samples: int = 8,
    *,
    temperature: float = 1.0,
    top_p: float = 1.0,
    max_new_tokens: int = 128,
    seed: int = 0,
    method: str = "ngram",
    ngram_n: int = 2,
    out_dir: str | Path | None = None,
    progress: bool = False,
    chat: bool = False,
    system: str | None = None,
) -> dict:
    """Sample ``n_samples`` completions per prompt from each model and measure output diversity (``progress``:
    a bar on stderr over every sample of every model).

    ``models``: {name: (model, tokenizer)} (or one (model, tokenizer), named "model"). Every model gets
    the same prompts and seed. Returns ``{"models", "n_samples", "intra": {name:
    intra_model_homogeneity}, "inter": inter_model_homogeneity}``; ``out_dir`` gets diversity.json and
    diversity_heatmap.png (the inter-model similarity matrix). ``chat`` and ``system``: each text prompt as a user
    message (after ``system``), as eval's ``chat``/``system`` send it; a prompt of chat messages as it is. Recorded
    in the result, with each tokenizer's ``template_kwargs`` ({name: kwargs}) as ``chat_template_kwargs``.
    """
    from ponder.engine import sample
    from ponder.evaluate import _check_flag, _jsonable, _prompt_of, atomic_write_text

    if isinstance(models, (tuple, list)) and len(models) == 2 and not isinstance(models[0], (tuple, list)):
        models = {"model": tuple(models)}
    if not isinstance(models, dict) or not models:
        raise PonderError("diversity probe: models must be {name: (model, tokenizer)} with at least one model")
    # (a numpy integer, from a grid of settings, is one: it was refused as "must be an integer, got 8")
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 2:
        raise PonderError(f"diversity probe: n_samples must be an integer >= 2, got {n_samples!r}")
    n_samples = int(n_samples)
    _similarity_fn(method, ngram_n)  # an unknown method or a bad n before any sampling, not after it
    seed = _check_seed("diversity probe", seed)
    _check_flag("chat", chat)
    if not isinstance(progress, (bool, np.bool_)):  # (progress="no", a settings file's text, drew the bar)
        raise PonderError(f"diversity probe: progress must be True or False, got {progress!r}")
    items = list(items)
    if not items:
        raise PonderError("diversity probe: no items")
    for i, it in enumerate(items):  # (a bare KeyError)
        if isinstance(it, dict) and "prompt" not in it:
            raise PonderError(f"diversity probe: item {it.get('id', i)} has no 'prompt' (keys: {sorted(it)[:8]})")
    check_probe_out(out_dir, "diversity")  # an output that cannot be written, or another command's directory:
    # before sampling, not after every sample
    prompts = [_prompt_of(it if isinstance(it, dict) else {"prompt": it}, chat, system) for it in items]
    if isinstance(max_new_tokens, numbers.Integral) and not isinstance(max_new_tokens, bool) and max_new_tokens > 0:
        from ponder.engine import check_context, render_prompts

        # the item at fault by its id, as eval names it, before any model samples (sample's "prompt 5" was an
        # index from 0 among the prompts, where the file's row 6 was too long)
        names = [f"item {it.get('id', i)}" if isinstance(it, dict) else f"prompt {i}" for i, it in enumerate(items)]
        for model, tok in models.values():
            if tok is not None:
                check_context(model, render_prompts(tok, prompts), max_new_tokens, names=names)
    texts: dict[str, list[list[str]]] = {}
    truncated: dict[str, float] = {}  # share of samples cut at max_new_tokens: shorter texts, other n-gram counts
    bar = None
    if progress:
        from ponder.progress import progress_bar

        bar = progress_bar(total=len(models) * len(prompts) * n_samples, desc="diversity probe",
                           dynamic_ncols=True)
    try:
        for name, (model, tok) in models.items():
            out = sample(model, tok, prompts, n=n_samples, max_new_tokens=max_new_tokens, temperature=temperature,
                         top_p=top_p, seed=seed, progress=bar.update if bar else None)
            texts[name] = [[s.text for s in g] for g in out]
            truncated[name] = sum(s.finish_reason == "length" for g in out for s in g) / (len(prompts) * n_samples)
    finally:
        if bar:
            bar.close()
    result = {
        "models": list(models), "n_prompts": len(prompts), "n_samples": n_samples, "temperature": temperature,
        # the rest of what the samples were drawn and compared with: the file alone reproduces the result
        "top_p": top_p, "max_new_tokens": max_new_tokens, "seed": seed, "method": method, "ngram_n": ngram_n,
        "chat": bool(chat), "system": system,
        # each model's template variables, as eval's sweep records them: the same prompts rendered otherwise
        "chat_template_kwargs": {m: _jsonable(getattr(t, "template_kwargs", None) or {}) for m, (_, t) in models.items()},
        "truncation_rate": truncated,
        "intra": {name: intra_model_homogeneity(t, method=method, n=ngram_n, seed=seed) for name, t in texts.items()},
        "inter": inter_model_homogeneity(texts, method=method, n=ngram_n),
    }
    if out_dir is not None:
        from ponder.report import plot_heatmap

        d = Path(out_dir)
        (d / "report.html").unlink(missing_ok=True)  # `ponder report`'s of an older result: stale
        atomic_write_text(d / "diversity.json", json.dumps(json_safe(result), indent=1, allow_nan=False))
        plot_heatmap(result["inter"]["matrix"], result["models"], d / "diversity_heatmap.png",
                     title=f"cross-model similarity ({method})", vmin=0.0, vmax=1.0)
    return result


# ------------------------------------------------------------------------------------------ for people


_SIGNAL_NAMES = {"prefix_exact_match": "prefix exact match", "prefix_rouge_l": "prefix ROUGE-L",
                 "perturbation_drop": "drop (McNemar)", "perturbation_repeats": "old-answer repeats",
                 "overlap": "n-gram overlap"}


def format_contamination(res: dict) -> str:
    """``run_contamination_probe``'s result as lines for a person: the verdict, then each probe's evidence
    beside the threshold it is judged by (the evidence is shown whatever the verdict), then the reasons."""
    ev, th = res.get("evidence", {}), res.get("evidence", {}).get("thresholds", {})
    mt = res.get("multiple_testing") or {}  # (absent from a contamination.json saved before the correction)
    lines = [f"contaminated: {res['contaminated']}"]
    if not res["contaminated"]:  # "False" read as a clean bill; it is the absence of evidence at this size
        n = f" in {counted(res['n_items'], 'item')}" if isinstance(res.get("n_items"), int) else ""
        eg = (f"a drop of {th.get('drop_min')}" if "perturbation" in ev else  # (a threshold of a probe that ran)
              f"an exact-match rate of {th.get('prefix_exact_min')}" if "prefix" in ev else
              f"an overlap of {th.get('overlap_min', 0):.0%}")
        lines = [f"contaminated: False (no evidence of contamination{n}, not proof of none: each signal is flagged "
                 f"only at its threshold, e.g. {eg}, so a leak of a small share of the items can pass)"]
    if res.get("insufficient_evidence"):  # (absent from a contamination.json saved before it)
        why = res.get("too_few_why", {})  # (absent from a contamination.json saved before it)
        groups: dict[str, list[str]] = {}  # signals with the same reason named together
        for k in res.get("too_few_items", []):
            groups.setdefault(why.get(k, ""), []).append(_SIGNAL_NAMES.get(k, k))
        names = "; ".join(", ".join(g) + (f" on {w}" if w[:1].isdigit() else f": {w}" if w else "")
                          for w, g in groups.items())
        lines = [f"contaminated: insufficient evidence (too few items to decide: {names})"]
    if "prefix" in ev:
        p = ev["prefix"]
        cal = " (excess over perturbed copies)" if res.get("calibrated_prefix") else ""

        def flag(k, limit):  # a calibrated excess over its limit is flagged only when its sign test backs it
            pk, t = p.get(f"{k}_p"), mt.get("tests", {}).get(f"prefix_{k}")
            over = isinstance(limit, (int, float)) and isinstance(pk, (int, float)) and p[k] >= limit
            if not over:
                return f"flagged at {limit}"
            if t is None:  # (a contamination.json from before the correction: each test at 0.025)
                return f"flagged at {limit}; sign test p = {pk:.2g}, flagged under 0.025"
            return f"flagged at {limit}; sign test p = {pk:.2g}, Holm-adjusted {t['p_holm']:.2g}, flagged under {mt['alpha']:g}"
        lines.append(f"  prefix completion at {p['fraction']:.0%} of the words, {counted(p['n'], 'problem')}"
                     f"{cal}: exact match {p['exact_match']:.2f} ({flag('exact_match', th.get('prefix_exact_min'))}), "
                     f"ROUGE-L {p['rouge_l']:.2f} ({flag('rouge_l', th.get('prefix_rouge_min'))})")
    if "perturbation" in ev:
        p, d = ev["perturbation"], ev["perturbation"]["drop"]
        # no interval: (-inf, inf) or null, as one item's drop was before Newcombe's interval (older files hold it)
        finite = all(isinstance(d[k], (int, float)) and math.isfinite(d[k]) for k in ("lo", "hi"))
        ci = f"[{d['lo']:+.2f}, {d['hi']:+.2f}]" if finite else "[—]"
        lines.append(f"  perturbed numbers: accuracy {p['acc_original']:.1%} -> {p['acc_perturbed']:.1%}, drop "
                     f"{d['mean']:+.2f} {ci} (flagged at {th.get('drop_min')}); "
                     f"{p['orig_gold_repeats']} of {counted(p['n_gold_changed'], 'changed problem')} "
                     f"answered with the old answer (flagged at {th.get('repeat_rate_min', 0):.0%})"
                     + (f"; {p['n_old_gold_shown']} more showing the old answer among their words not counted"
                        if p.get("n_old_gold_shown") else ""))
        cut = (res.get("perturbation") or {}).get("truncated") or {}  # (absent from files saved before it)
        if cut.get("original") or cut.get("perturbed"):
            n = res["perturbation"].get("n", "?")
            lines.append(f"  (answers cut at max_new_tokens ({cut.get('max_new_tokens', '?')} tokens, scored wrong): "
                         f"{cut.get('original')} of {n} original, {cut.get('perturbed')} of {n} perturbed; a larger "
                         "--max-new-tokens lets them finish)")
    elif "perturbation" in res and res["perturbation"] is None:
        # (--data without word templates: say the probe did not run, rather than leave it out unremarked)
        why = res.get("perturbation_skipped") or NO_PERTURBER  # (a contamination.json from before the key)
        lines.append(f"  perturbed numbers: not run ({why}); the prefix rates above are uncalibrated"
                     if not res.get("calibrated_prefix") else "  perturbed numbers: not run")
    if "overlap" in ev:
        o = ev["overlap"]
        checked = o.get("n_checked", o["n_items"])
        short = o["n_items"] - checked
        if not checked:
            which = "the one problem is" if o["n_items"] == 1 else f"all {o['n_items']} problems are"
            lines.append(f"  training-file overlap: not checked: {which} shorter than {o['n']} words (a "
                         "smaller --ngram checks them)")
        elif o.get("calibrated"):
            lines.append(f"  training-file overlap (excess over perturbed copies): {o['n_flagged']} of "
                         f"{counted(checked, 'problem')} have more of their own {o['n']}-grams in it than their "
                         "copies have of theirs, excess "
                         f"{o['fraction']:.1%} (flagged at {th.get('overlap_min', 0):.0%}; sign test p = "
                         f"{o['fraction_p']:.2g})" + (f"; {short} shorter than {o['n']} words not checked" if short else ""))
        else:
            lines.append(f"  training-file overlap: {o['n_flagged']} of {counted(checked, 'problem')} share "
                         f"a {o['n']}-gram ({o['fraction']:.1%}; flagged at {th.get('overlap_min', 0):.0%})"
                         + (f"; {short} shorter than {o['n']} words not checked" if short else ""))
        few = o.get("n_train_texts")
        if checked and isinstance(few, int) and few <= o.get("max_doc_freq", 5):
            # no n-gram can be in more texts than the limit, so template wording counts as a copy: a plain-text file
            # of one document a line is one paragraph, one text (46 of 100 word test problems flagged against 600
            # train problems so, 40 against the same problems as JSONL), and nothing said how the file was read
            lines.append(f"  (the training file was read as {counted(few, 'text')}, too few for the boilerplate rule "
                         "to ignore template wording; plain text is one text per blank-line-separated paragraph)")
    if mt:
        names = _SIGNAL_NAMES
        tests = "; ".join(f"{names.get(k, k)} p = {t['p']:.2g} -> {t['p_holm']:.2g}" for k, t in mt["tests"].items())
        lines.append((f"  multiple testing: Holm's correction over {counted(mt['m'], 'test')} at family-wise alpha "
                      f"{mt['alpha']:g} ({tests})" if tests else "  multiple testing: no test ran")
                     + (f"; judged by threshold alone, no test: {', '.join(names.get(k, k) for k in mt['untested'])}"
                        if mt.get("untested") else ""))
    lines += [f"  - {r}" for r in res.get("reasons", [])]
    return "\n".join(lines)


def format_diversity(res: dict) -> str:
    """``run_diversity_probe``'s result as a table for a person: each model's homogeneity with its 95%
    interval over prompts, then the cross-model similarities (``--json`` has every number, per prompt too)."""
    method = next(iter(res["intra"].values()), {}).get("method", "ngram")
    lines = [f"diversity: {res['n_samples']} samples per prompt, {counted(res['n_prompts'], 'prompt')}, "
             f"temperature {res['temperature']:g}; similarity by {method} (higher = more alike), 95% "
             "intervals over prompts"]
    w = max(len("model"), *(len(m) for m in res["intra"]))

    def ci(v):  # a distinct-n with no n-grams is NaN here, null once read back from diversity.json
        if v["mean"] is None or math.isnan(v["mean"]):
            return "undefined (no n-grams)"
        if not all(isinstance(v[k], (int, float)) and math.isfinite(v[k]) for k in ("lo", "hi")):
            return f"{v['mean']:.3f} [—]"  # one prompt: no interval over prompts (it read "[-inf, inf]")
        return f"{v['mean']:.3f} [{v['lo']:.3f}, {v['hi']:.3f}]"

    cols = ("similarity", "self_bleu", "distinct_1", "distinct_2")
    lines.append(f"  {'model':<{w}}  " + "  ".join(f"{c.replace('_', '-'):<22}" for c in cols).rstrip())
    for name, h in res["intra"].items():
        lines.append(f"  {name:<{w}}  " + "  ".join(f"{ci(h[c]):<22}" for c in cols).rstrip())
    cut = {k: v for k, v in res.get("truncation_rate", {}).items() if v}  # (absent from files saved before it)
    if cut:  # a cut sample is shorter: fewer n-grams, other distinct-n; models cut unequally compare unequally
        lines.append(f"  cut at max_new_tokens ({res['max_new_tokens']}): "
                     + ", ".join(f"{k} {v:.0%}" for k, v in cut.items()))
    pairs = {k: v for k, v in res.get("inter", {}).get("pairs", {}).items() if len(set(k.split("|"))) == 2}
    if pairs:
        lines.append("cross-model similarity:")
        lines += [f"  {k.replace('|', ' vs ')}  {v:.3f}" for k, v in pairs.items()]
    return "\n".join(lines)
