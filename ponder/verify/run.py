"""`ponder verify KIND INPUT.jsonl`: verify a file of completions, write each row back with its verdict.

Input rows: `completion` plus the gold for the kind:
    math         gold (or answer)
    code         tests (optional timeout)
    countdown    numbers, target (optional use_all: true when each number must be used exactly once)
    constraints  constraints
    format       nothing; a string `prompt` that ends with "<think>" (trailing whitespace aside) means the
                 opening tag was prefilled, so the completion must not repeat it (fmt.prompt_opens_think); one
                 that ends with a whole think block ("<think>\n\n</think>\n\n", Qwen3 without thinking) lends it
                 to the completion (fmt.prompt_think_state); a field `think_open` (true, false or "closed", as
                 `ponder eval` writes in samples.jsonl: its "prompt" is the item's, not the rendered one) says so
                 in place of the prompt
`ponder eval`'s samples.jsonl carries math's gold and countdown's and constraints' fields; not code's tests
(join them from the items by "id").
Every row is read and checked before any verification starts, so a broken file fails fast with
`FILE:LINE: ...`; the output is written to a temporary file in the same directory and renamed into place at
the end, so an error never leaves a half-written file (gzipped for a .gz name). Output rows are the input rows plus `correct`,
`extracted`, `reason`, `score` (the verdict's value: graded for constraints, 0/1 otherwise).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import time
from collections import Counter
from pathlib import Path

from ponder.errors import PonderError
from ponder.fileio import atomic_open, check_not_run_file, check_writable
from ponder.tasks.data import field_names
from ponder.verify.registry import VERIFIERS, parallel_map

KINDS = {"math": ("gold",), "code": ("tests",), "countdown": ("numbers", "target"), "constraints": ("constraints",),
         "format": ()}


def default_output(input_path: str) -> str:
    base = str(input_path)
    for ext in (".jsonl.gz", ".jsonl"):  # (runs.jsonl.gz: runs.verified.jsonl, not runs.jsonl.gz.verified.jsonl)
        if base.endswith(ext):
            return base[: -len(ext)] + ".verified.jsonl"
    return base + ".verified.jsonl"


# names of data formats that are not JSON Lines: an output so named held JSONL that no reader of the format opens
_OTHER_FORMATS = (".parquet", ".pq", ".csv", ".tsv", ".arrow", ".feather", ".xlsx", ".xls", ".pkl", ".pickle",
                  ".npy", ".npz", ".h5", ".hdf5", ".avro", ".orc")


def check_output_name(out_path: str) -> None:
    """Refuse an output whose name says another data format (scored.parquet, scored.csv.gz): verify writes JSON
    Lines, which pandas' read_parquet and the like refuse; a name with no such suffix is written as given."""
    from ponder.tasks.data import _format

    if _format(Path(out_path)).removesuffix(".gz") in _OTHER_FORMATS:
        raise PonderError(f"{out_path}: verify writes JSON Lines; name the output .jsonl (or .jsonl.gz)")


def _read_rows(kind: str, path: str) -> tuple[list[dict], list[dict]]:
    """Every row of `path` (numbers as written) and the item its verifier reads (_for_verifier), each checked for
    what verifier `kind` reads (registry.check_item), so a bad row is one error naming FILE:LINE and the field
    before anything is verified or written."""
    import io
    import zlib

    from ponder.tasks.data import DuplicateKey, _json_loads, _open_binary, _type_name, _WrittenFloat
    from ponder.verify.registry import check_item

    # gzip data read through (a .jsonl.gz said "not UTF-8 text"), as the data loaders read it; a BOM (Notepad,
    # PowerShell) is dropped, as they drop it
    b = _open_binary(Path(path))
    try:
        magic = b.peek(4)[:4]  # (peeked: a pipe is read once)
    except (EOFError, zlib.error, OSError):
        magic = b""  # (a corrupt gzip stream: said below, where it is read)
    if magic == b"PAR1":  # (its bytes were "not UTF-8 text (invalid start byte at byte 7)", naming no format)
        b.close()
        raise PonderError(f"{path}: Parquet, not JSON Lines: verify reads one JSON object a line (pandas: "
                          "pd.read_parquet(IN).to_json(OUT, orient='records', lines=True) converts it)")
    f = io.TextIOWrapper(b, encoding="utf-8-sig")
    rows, items = [], []
    with f:
        try:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{path}:{lineno}"
                if line.startswith("\ufeff"):  # (the first line's was dropped: utf-8-sig)
                    raise PonderError(f"{where}: a UTF-8 byte-order mark starts this line; only the file's first line "
                                      "may have one (files joined with cat?): remove it")
                try:  # each fraction's text kept: the gold as written, the output as read; without the line
                    # end, which JSON counts as the start of a line 2 ("bad.jsonl:1: ... line 2 column 1"), as the
                    # data loaders read a row
                    row = _json_loads(line.rstrip("\r\n"))
                except ValueError as e:
                    hint = ""
                    if not rows and line.strip() in ("[", "{", "[{"):  # json.dump(rows, f, indent=2)
                        hint = "; the file looks like one JSON document over several lines: verify reads JSON Lines"
                    # (a ValueError that is no JSONDecodeError: an integer past Python's 4300-digit limit)
                    why = f"{e.msg} (column {e.colno})" if isinstance(e, json.JSONDecodeError) else str(e).split(";")[0]
                    raise PonderError(f"{where}: invalid JSON: {why}{hint}") from None
                except RecursionError:
                    raise PonderError(f"{where}: invalid JSON (nested too deeply)") from None
                except DuplicateKey as e:
                    raise PonderError(e.message(where)) from None
                if not isinstance(row, dict):
                    hint = ""
                    if not rows and isinstance(row, list):  # json.dump(rows, f): a JSON array, not JSON Lines
                        hint = "; the file looks like a JSON array of rows: verify reads JSON Lines (one object a line)"
                    raise PonderError(f"{where}: expected a JSON object, got {_type_name(row)}{hint}")
                if "completion" not in row:  # (the fields it has, as --data's loader says them: a 'response' is
                    # not read as the completion)
                    raise PonderError(f"{where}: missing field 'completion' (have: {field_names(row)})")
                if not isinstance(row["completion"], str):
                    got = "null" if row["completion"] is None else _type_name(row["completion"])
                    raise PonderError(f"{where}: field 'completion' must be text, got {got}")
                need = KINDS[kind]
                if kind == "math" and row.get("gold") is None and row.get("answer") is not None:
                    need = ("answer",)  # (a null gold beside an answer: the answer, as _math_gold reads it)
                if kind == "math" and "gold" not in row and "answer" in row:
                    need = ("answer",)  # (its null is what to say)
                for key in need:
                    if key in row and row[key] is None:  # (said "missing field", of a field the row plainly has)
                        or_answer = " (give the gold, or an 'answer')" if key == "gold" else ""
                        raise PonderError(f"{where}: field {key!r} is null{or_answer}")
                    if key not in row:  # math's gold may be named either way: say so
                        hint = " (or 'answer')" if key == "gold" else ""
                        # the fields the row has, as --data's loader says them (a 'response' is not the completion)
                        hint += f" (have: {field_names(row)})"
                        if key == "tests" and "problem" in row and "think_open" in row:  # ponder eval's record
                            hint += "; ponder eval's samples.jsonl does not carry code tests: join them from the items by 'id'"
                        if kind == "math" and key == "gold" and "solution" in row:  # MATH's layout without 'answer'
                            hint += "; a worked 'solution' is not read as the gold: put its final answer in 'answer'"
                        raise PonderError(f"{where}: missing field {key!r}{hint}")
                gold = {need[0]: row[need[0]]} if kind == "math" else row  # the gold _item passes on
                if kind == "math" and isinstance(row[need[0]], _WrittenFloat):
                    gold = {need[0]: row[need[0]].text}  # (as _for_verifier passes it: 1e400 is no inf)
                try:
                    check_item(kind, gold)
                except PonderError as e:
                    raise PonderError(f"{where}: {e}") from None
                try:  # said now, not after verifying: a row too deeply nested to convert or write back
                    items.append(_for_verifier(kind, row))
                    _dumps(row)
                except RecursionError:
                    raise PonderError(f"{where}: invalid JSON (nested too deeply)") from None
                state = row.get("think_open", False)
                if not (state is True or state is False or state == "closed"):  # (1 == True: a bool only)
                    raise PonderError(f"{where}: field 'think_open' must be true, false or \"closed\", "
                                      f"got {_dumps(state)[:60]}")
                rows.append(row)
        except UnicodeDecodeError as e:
            raise PonderError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        except (EOFError, zlib.error, OSError) as e:  # a truncated or corrupt gzip stream, a read error
            raise PonderError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    if not rows:
        raise PonderError(f"{path}: no rows")
    return rows, items


def _item(kind: str, row: dict) -> dict:
    if kind == "math":
        return {"answer": row["gold"] if row.get("gold") is not None else row["answer"]}
    return row


def _for_verifier(kind: str, row: dict) -> dict:
    """`row` as json.loads gives it, but a math gold written as a fraction is its text: float() of
    0.12345678901234567890123 is 0.12345678901234568, and of 1e3 is 1000.0."""
    from ponder.tasks.data import _plain, _WrittenFloat

    out = _plain(row)
    if kind == "math":
        for key in ("gold", "answer"):
            if isinstance(row.get(key), _WrittenFloat):
                out[key] = row[key].text
    return out


def _dumps(value) -> str:
    """json.dumps, but each number read with a fraction or exponent as its text in the input (json.dumps writes
    a float subclass as the float's repr)."""
    from ponder.tasks.data import _WrittenFloat

    if type(value) is _WrittenFloat:
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(json.dumps(str(k)) + ": " + _dumps(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dumps(v) for v in value) + "]"
    return json.dumps(value)


class _Verify:
    """Picklable (for the process pool) wrapper: verifier `kind` on a row."""

    def __init__(self, kind: str):
        self.kind = kind

    def __call__(self, completion, row):
        from ponder.verify.fmt import prompt_think_state

        # (eval's samples.jsonl: the rendered prompt's state, its "prompt" being the item's)
        state = row["think_open"] if "think_open" in row else prompt_think_state(row.get("prompt"))
        return VERIFIERS[self.kind](completion, _item(self.kind, row), think_open=state)


def verify_file(kind: str, input_path: str, output_path: str | None = None, *, workers: int | None = None,
                progress: bool = True, score_fn=None) -> dict:
    """Verify every row of `input_path`; write rows + verdicts to `output_path` (default INPUT.verified.jsonl).

    `score_fn(verifier, completions, rows) -> verdicts` replaces the local process pool (the Ray path
    passes its actor pool). Returns {"n", "correct", "accuracy", "mean_score", "reasons", "seconds", "output"}."""
    if kind not in KINDS:
        raise PonderError(f"verify: unknown kind {kind!r}; valid: {', '.join(KINDS)}")
    if output_path == "-":  # data export's "-" is standard output; here it made a file named "-" in the cwd
        raise PonderError("verify: -o - (standard output) is not supported; give the output file a name")
    t0 = time.perf_counter()
    if not output_path and os.path.exists(input_path) and not os.path.isfile(input_path) and not os.path.isdir(input_path):
        # a pipe (/dev/stdin, <(zcat f.gz)): the default name beside it was /dev/stdin.verified.jsonl, a file
        # written into /dev as root
        raise PonderError(f"verify: {input_path} is not a regular file (a pipe?): name the output file with -o")
    if output_path:
        check_output_name(output_path)  # (before the input is read and verified)
    rows, items = _read_rows(kind, input_path)
    out_path = output_path or default_output(input_path)
    # links resolved: the output written through a link to the input (or into a linked folder) replaces the input
    if os.path.realpath(out_path) == os.path.realpath(input_path):
        raise PonderError(f"verify: output {out_path} would overwrite the input")
    # said now, not after the whole file is verified: a directory, a path under a file, a folder that takes no
    # files (os.access says yes to root for /proc); a missing folder is made at the write, as data export does
    check_writable(out_path)
    check_not_run_file(out_path)
    completions = [r["completion"] for r in rows]
    if score_fn is None:
        verdicts = parallel_map(_Verify(kind), completions, items, workers=workers, progress=progress,
                                desc=f"verify {kind}")
    else:
        verdicts = list(score_fn(_Verify(kind), completions, items))
        if len(verdicts) != len(rows):  # zip below would drop the rows past the shorter list from the output
            raise PonderError(f"verify: score_fn returned {len(verdicts)} verdicts for {len(rows)} rows")
    # a temporary file beside the output, renamed into place with the usual permissions (not mkstemp's 0600);
    # an OSError names the output, not the temporary file
    # gzipped for a .gz name, as data export writes it (mtime 0, no name: the same rows give the same bytes); it
    # was text under a .gz name, which zcat and pandas refuse
    gz = str(out_path).lower().endswith(".gz")
    with atomic_open(out_path, "wb", fsync=True) as raw:
        with gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) if gz else contextlib.nullcontext(raw) as f:
            for row, v in zip(rows, verdicts):
                out = dict(row)
                out.update(correct=v.correct, extracted=v.extracted, reason=v.reason, score=v.value)
                f.write((_dumps(out) + "\n").encode("ascii"))  # ASCII: lone surrogates in input survive
    n = len(rows)
    correct = sum(v.correct for v in verdicts)
    return {"n": n, "correct": correct, "accuracy": correct / n if n else 0.0,
            "mean_score": sum(v.value for v in verdicts) / n if n else 0.0,
            "reasons": dict(Counter(v.reason for v in verdicts).most_common()),
            "seconds": round(time.perf_counter() - t0, 3), "output": out_path}
