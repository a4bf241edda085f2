"""User datasets in, task items out: JSONL/Parquet loading and atomic JSONL export.

A dataset row needs a prompt (field `prompt`, else `problem`) and an `answer`. Rows are returned with all
their fields kept, plus:
  - `prompt`: the problem text exactly as given (MATH-500's `problem` is used as-is, no template added),
  - `answer`: the gold as a string,
  - `id`: the row's `id`, else its `unique_id`, else "<file stem>-<row number>",
  - `task`: the row's `task`, else "math" (a free-form answer for the math verifier to compare).
So MATH-500 (problem, solution, answer, subject, level, unique_id) loads as it is, and files written by
`export` (from `ponder.tasks.generate`) load back with their task name and fields.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ponder.errors import PonderError
from ponder.fileio import atomic_write_text

DEFAULT_TASK_N = 500  # items `load_items` draws for a task name when n is not given


def _loads(text: str, where: str):
    """json.loads with a nesting too deep for the decoder as a PonderError naming `where` (FILE:LINE)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise PonderError(f"{where}: invalid JSON: nested too deeply") from None


def _read_jsonl(path: Path) -> list[tuple[str, dict]]:
    """(location, row) pairs; location is "FILE:LINE" for error messages."""
    rows = []
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except IsADirectoryError:
        raise PonderError(f"{path}: is a directory") from None
    except OSError as e:
        raise PonderError(f"{path}: cannot read ({e.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PonderError(f"{path}: not UTF-8 text (byte {e.start})") from None
    if path.suffix == ".json" and text.lstrip().startswith("["):  # a plain JSON array of rows
        try:
            data = _loads(text, f"{path}:1")
        except json.JSONDecodeError as e:
            raise PonderError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from None
        return [(f"{path}:row {i + 1}", row) for i, row in enumerate(data)]
    # lines end at "\n" only: str.splitlines() would also split at U+2028, U+0085 and other characters that
    # JSON strings may hold unescaped (json.dumps(..., ensure_ascii=False) writes them as they are)
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = _loads(line, f"{path}:{lineno}")
        except json.JSONDecodeError as e:
            raise PonderError(f"{path}:{lineno}: invalid JSON: {e.msg} (column {e.colno})") from None
        rows.append((f"{path}:{lineno}", row))
    return rows


def _read_parquet(path: Path) -> list[tuple[str, dict]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        try:
            import pandas as pd
        except ImportError:
            raise PonderError(f"{path}: reading Parquet needs pyarrow: pip install pyarrow") from None
        records = pd.read_parquet(path).to_dict(orient="records")
    else:
        try:
            records = pq.read_table(path).to_pylist()
        except Exception as e:  # pyarrow raises several types for a corrupt file
            raise PonderError(f"{path}: cannot read Parquet: {e}") from None
    return [(f"{path}:row {i + 1}", row) for i, row in enumerate(records)]


def load_dataset(path, *, prompt_field: str | None = None, answer_field: str | None = None,
                 limit: int | None = None) -> list[dict]:
    """Rows of a .jsonl/.json/.parquet file as task items (see the module docstring)."""
    path = Path(path)
    if path.is_dir():
        raise PonderError(f"{path}: is a directory")
    if not path.is_file():
        raise PonderError(f"{path}: no such file")
    if limit is not None and (not isinstance(limit, int) or limit <= 0):
        raise PonderError(f"limit must be a positive integer, got {limit!r}")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        rows = _read_parquet(path)
    elif suffix in (".jsonl", ".json", ".ndjson"):
        rows = _read_jsonl(path)
    else:
        raise PonderError(f"{path}: unsupported format {suffix or '(no extension)'!r} (use .jsonl or .parquet)")
    if limit is not None:
        rows = rows[:limit]
    items = []
    for i, (where, row) in enumerate(rows):
        if not isinstance(row, dict):
            raise PonderError(f"{where}: expected a JSON object, got {type(row).__name__}")
        pf = prompt_field or ("prompt" if "prompt" in row else "problem")
        af = answer_field or "answer"
        for field in (pf, af):
            if field not in row:
                name = "'prompt' (or 'problem')" if field == "problem" and prompt_field is None else repr(field)
                raise PonderError(f"{where}: missing field {name} (have: {', '.join(row) or 'nothing'})")
            if row[field] is None:
                raise PonderError(f"{where}: field {field!r} is null")
        prompt = row[pf]
        if not isinstance(prompt, str) or not prompt.strip():
            raise PonderError(f"{where}: field {pf!r} must be non-empty text, got {prompt!r:.60}")
        _check_text(where, pf, prompt)
        item = dict(row)
        item["prompt"] = prompt
        item["answer"] = _answer_text(where, af, row[af])
        given = next((row[k] for k in ("id", "unique_id") if row.get(k) not in (None, "")), None)  # (0 is an id)
        item["id"] = str(given) if given is not None else f"{path.stem}-{i + 1}"
        item.setdefault("task", "math")
        items.append(item)
    if not items:
        raise PonderError(f"{path}: empty dataset (no rows)")
    return items


def _check_text(where: str, field: str, text: str) -> None:
    """Text must be encodable as UTF-8: a lone surrogate ("\\ud800" in the JSON) is not a character."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise PonderError(f"{where}: field {field!r} holds a lone surrogate {text[e.start]!r} at character "
                          f"{e.start} (not valid Unicode text)") from None


def _answer_text(where: str, field: str, value) -> str:
    """The gold as a string. Only text and finite numbers are answers: a list, dict or bool would become a gold
    like "['2']" or "True" that no completion matches."""
    if isinstance(value, str):
        if not value.strip():
            raise PonderError(f"{where}: field {field!r} is empty")
        _check_text(where, field, value)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PonderError(f"{where}: field {field!r} must be text or a number, got {type(value).__name__} "
                          f"{value!r:.60}")
    if isinstance(value, float) and not math.isfinite(value):
        raise PonderError(f"{where}: field {field!r} must be a finite number, got {value!r}")
    return str(value)


def export(items: list[dict], path) -> Path:
    """Write items as JSONL, atomically (temp file in the same folder, then os.replace)."""
    return atomic_write_text(path, "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items))


def load_items(spec: str, split: str = "test", n: int | None = None, seed: int = 0) -> list[dict]:
    """Items for the CLI's `--task T | --data FILE`: a task name is generated (`n` items, default
    DEFAULT_TASK_N, from `split`); anything else is a dataset file (first `n` rows, all if None; `split` and
    `seed` do not apply to files)."""
    from ponder.tasks import TASKS, generate

    if spec in TASKS:
        return generate(spec, split=split, n=DEFAULT_TASK_N if n is None else n, seed=seed)
    if not Path(spec).exists():
        raise PonderError(f"{spec!r} is neither a task ({', '.join(TASKS)}) nor an existing file")
    return load_dataset(spec, limit=n)
