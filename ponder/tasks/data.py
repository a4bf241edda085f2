"""User datasets in, task items out: JSONL/Parquet loading and atomic JSONL export.

A dataset row needs a prompt (field `prompt`, else `problem`) and an `answer` (prompt_field/answer_field name others;
a dotted name, "extra_info.question", reads a nested object's field). Rows are returned with all
their fields kept, plus:
  - `prompt`: the problem text exactly as given (MATH-500's `problem` is used as-is, no template added), or
    a list of chat messages [{"role": "system"|"user"|"assistant"|"tool", "content": text}, ...] (an
    assistant's `tool_calls` too, its content then null) ending with the user's turn (verl's Parquet layout, open-r1's): rendered through the chat template as it is, with or
    without --chat (no user message wraps it, and a `system` setting is refused rather than added on top),
  - `answer`: the gold as a string (from `answer`, else verl's `reward_model.ground_truth`); TinyZero's countdown
    ground truth {"target": 24, "numbers": [...]} gives the item `target` and `numbers` (the countdown
    verifier's fields), task "countdown", `use_all` true (TinyZero's reward wants every number used exactly
    once), and the target as `answer`; a GSM8K solution ending "#### 72" gives
    the gold "72", its final answer (--answer-field solution of MATH needs nothing: the verifier reads its last
    \\boxed{}),
  - `id`: the row's `id`, else its `unique_id` (text or a number), else "<file stem>-<row number>"; ids must
    be unique in the file (the RL curriculum keeps its statistics per id),
  - `task`: the row's `task` (text), else "math" (a free-form answer for the math verifier to compare).
Files: .jsonl/.ndjson (one object a line; "\n", "\r\n" or "\r" line ends, blank lines skipped, a UTF-8 byte-order
mark allowed), .json (the same, one array of rows, or one object over several lines), any of these
gzip-compressed (.jsonl.gz, ...), and .parquet. JSONL is streamed (under a .json name too): only the rows are
held, and with `limit` reading stops after that many rows.
So MATH-500 (problem, solution, answer, subject, level, unique_id) and verl's Parquet (data_source, prompt as
chat messages, ability, reward_model {style, ground_truth}, extra_info) load as they are, and files written by
`export` (from `ponder.tasks.generate`) load back with their task name and fields.
"""

from __future__ import annotations

import decimal
import gzip
import io
import itertools
import json
import math
import numbers
import struct
import sys
import zlib
from pathlib import Path

from ponder.errors import PonderError, headline
from ponder.fileio import atomic_write_bytes, atomic_write_text, refuse_git_lfs_pointer

DEFAULT_TASK_N = 500  # items `load_items` draws for a task name when n is not given
_MISSING = object()  # a field the row does not have (None: one it has as null)


class _WrittenFloat(float):
    """A JSON number with a fraction or exponent, which keeps the text it was written as: float() of
    0.12345678901234567890123 is 0.12345678901234568, a gold answer its own digits would not match."""

    def __new__(cls, text: str):
        x = super().__new__(cls, text)
        x.text = text
        return x


def field_names(row: dict, nothing: str = "nothing", most: int = 12) -> str:
    """A row's field names for a one-line message ("have: ..."): each as it is, or its repr (cut at 40 characters)
    where it holds a character that is not printable (a line break in a key split the error over two lines) or is
    long (one 5,000-character key made a 5 KB line); at most `most` names, then how many more."""
    names = []
    for k in itertools.islice(row, most):
        k = k if isinstance(k, str) else str(k)
        names.append(k if k.isprintable() and len(k) <= 40 and k == k.strip() and k else f"{k!r:.40}")
    more = len(row) - len(names)
    return (", ".join(names) + (f" (and {more} more)" if more > 0 else "")) or nothing


def _type_name(value) -> str:
    """The builtin type's name, for messages: a number written with a fraction reads as a _WrittenFloat."""
    return next(t.__name__ for t in type(value).__mro__ if t.__module__ == "builtins")


def _plain(value):
    """`value` with each _WrittenFloat in it a float again: the row's other fields go on (to the sandbox, to Ray,
    to checks of type(x) is float) as json.loads gives them."""
    if type(value) is _WrittenFloat:
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class DuplicateKey(Exception):
    """A JSON object that names one key twice (not a ValueError: the probes that try a text as JSON must not take
    it for text that is no JSON)."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key

    def message(self, where: str) -> str:
        return (f"{where}: duplicate key {self.key!r:.60} in one JSON object (JSON readers keep only the "
                "last value, silently): remove one")


def unique_keys(pairs: list) -> dict:
    """json's object_pairs_hook that refuses a key given twice: {"prompt": "a", "prompt": "b"} read as the last
    one's value, and the first was dropped without a word. (dict() first: as fast as the plain decoder's.)"""
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise DuplicateKey(k)
            seen.add(k)
    return d


def _json_loads(text: str):
    return json.loads(text, parse_float=_WrittenFloat, object_pairs_hook=unique_keys)


def _loads(text: str, where: str):
    """json.loads with a nesting too deep for the decoder, or an integer past Python's 4300-digit conversion
    limit (a ValueError that is not a JSONDecodeError), or a key given twice in one object, as a PonderError
    naming `where` (FILE:LINE)."""
    try:
        return _json_loads(text)
    except DuplicateKey as e:
        raise PonderError(e.message(where)) from None
    except RecursionError:
        raise PonderError(f"{where}: invalid JSON: nested too deeply") from None
    except json.JSONDecodeError:
        raise
    except ValueError as e:
        raise PonderError(f"{where}: invalid JSON: {str(e).split(';')[0]}") from None


_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"


def _format(path: Path) -> str:
    """The data format a file name says: its suffix, lower-cased, looking through a final ".gz"."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        inner = Path(path.stem).suffix.lower()
        return inner + ".gz" if inner else suffix
    return suffix


def _open_binary(path: Path):
    """The file's bytes as a stream, gunzipped when it is gzip data (by its magic bytes, whatever its name)."""
    try:
        f = open(path, "rb")
        try:
            # peeked, not read and the file opened again: a pipe (ponder verify ... /dev/stdin, <(zcat ...)) is
            # read once, and the first read took its whole first chunk: a file of rows was "no rows"
            magic = f.peek(2)[:2]
        except BaseException:
            f.close()
            raise
        if magic != _GZIP_MAGIC:
            return f
        g = gzip.GzipFile(fileobj=f, mode="rb")
        g.myfileobj = f  # closed with it, as gzip.open(path) does
        return g
    except IsADirectoryError:
        raise PonderError(f"{path}: is a directory") from None
    except OSError as e:
        raise PonderError(f"{path}: cannot read ({e.strerror})") from None


def _decode(path: Path, raw: bytes, lineno: int, offset: int, first: bool) -> str:
    """One line's bytes as text; a UTF-8 byte-order mark at the start of the file is dropped."""
    if first and raw.startswith(_BOM):
        raw, offset = raw[len(_BOM):], offset + len(_BOM)
    elif raw.startswith(_BOM):  # (json's own message advised "decode using utf-8-sig", which is for Python code)
        raise PonderError(f"{path}:{lineno}: a UTF-8 byte-order mark starts this line; only the file's first line may "
                          "have one (files joined with cat?): remove it")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        if first and raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # what Windows PowerShell's `>` writes
            raise PonderError(f"{path}: UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8: save it "
                              "as UTF-8") from None
        raise PonderError(f"{path}:{lineno}: not UTF-8 text (byte {offset + e.start})") from None


def _read_jsonl(path: Path, limit: int | None = None) -> list[tuple[str, dict]]:
    """(location, row) pairs; location is "FILE:LINE" for error messages. Streams the file line by line (only
    the rows are kept, and reading stops after `limit` rows); reads gzip-compressed files, and skips a UTF-8
    byte-order mark."""
    rows = []
    f = _open_binary(path)
    try:
        with f:
            lines = f
            if _format(path).removesuffix(".gz") == ".json":
                # datasets' to_json() writes JSON Lines under this name: a first row that is a whole object on
                # its line is JSON Lines, streamed (read whole, a large file cost twice its size for one row)
                head = []  # the lines up to and including the first one that is not blank
                for raw_line in f:
                    head.append(raw_line)
                    if (raw_line.removeprefix(_BOM) if len(head) == 1 else raw_line).strip():
                        break
                if head and _is_json_object(head[-1].removeprefix(_BOM) if len(head) == 1 else head[-1]):
                    lines = itertools.chain(head, f)
                else:
                    raw = b"".join(head) + f.read()
                    if raw.removeprefix(_BOM).lstrip().startswith(b"["):  # a plain JSON array of rows
                        return _read_json_array(path, raw, limit)
                    one = _one_json_object(path, raw)
                    if one is not None:  # one object over several lines (indented): one row, not "invalid JSON"
                        return [(f"{path}:1", one)]
                    if _one_document(raw):
                        # an object opened on a line of its own, over 2 lines or with an error (a trailing comma):
                        # read line by line it failed at line 1, column 2, with advice to name it .json, which it is;
                        # one whose first line holds a field too failed at line 1 for an error lines below (unless
                        # a whole object follows it: JSON Lines, its first row broken, named by line)
                        one = _whole_json_object(path, raw)
                        if one is not None:
                            return [(f"{path}:1", one)]
                    lines = io.BytesIO(raw)
            # lines end at "\n" only (binary line iteration): str.splitlines() would also split at U+2028,
            # U+0085 and other characters that JSON strings may hold unescaped (json.dumps(...,
            # ensure_ascii=False) writes them as they are); a lone "\r" (old Mac line ends) is split by _cr_lines
            offset = 0
            for lineno, raw_line in enumerate(_cr_lines(lines), 1):
                if limit is not None and len(rows) >= limit:
                    break
                line = _decode(path, raw_line, lineno, offset, lineno == 1)
                offset += len(raw_line)
                if not line.strip():
                    continue
                try:  # (without the line end, which JSON would count as the start of a line 2: "column 1")
                    row = _loads(line.rstrip("\r\n"), f"{path}:{lineno}")
                except json.JSONDecodeError as e:
                    hint = ""
                    if not rows and line.strip() in ("[", "{", "[{"):  # json.dump(rows, f, indent=2) named .jsonl
                        hint = ("; the file looks like one JSON document over several lines, not JSON Lines (one "
                                "object a line): name it .json")
                    raise PonderError(f"{path}:{lineno}: invalid JSON: {e.msg} (column {e.colno}){hint}") from None
                rows.append((f"{path}:{lineno}", row))
    except (OSError, EOFError, zlib.error) as e:  # a read error, or a truncated or corrupt gzip stream
        what = "gzip data " if isinstance(f, gzip.GzipFile) else ""
        raise PonderError(f"{path}: cannot read {what}({getattr(e, 'strerror', None) or e})") from None
    return rows


def _cr_lines(lines):
    """`lines` with a line that holds a lone "\r" split there, when it is not valid JSON as a whole: a file with
    old Mac line ends ("\r" only) is one "\n" line, which read as "invalid JSON: Extra data" at line 1. JSON
    strings cannot hold a raw "\r", so it only ever separates tokens; a row that is valid JSON with one stays
    whole. The pieces keep their "\r", so byte offsets still add up."""
    for raw_line in lines:
        body = raw_line.rstrip(b"\r\n")
        if b"\r" not in body:
            yield raw_line
            continue
        try:
            json.loads(body)
            yield raw_line
            continue
        except (ValueError, RecursionError):  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
            pass
        *pieces, last = body.split(b"\r")
        yield from (piece + b"\r" for piece in pieces)
        yield last + raw_line[len(body):]


def _is_json_object(line: bytes) -> bool:
    """Whether one line is a whole JSON object by itself (a JSON Lines row)."""
    try:
        return isinstance(json.loads(line.decode("utf-8")), dict)
    except (ValueError, RecursionError):  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
        return False


def _one_document(raw: bytes) -> bool:
    """Whether a file whose first line is no whole object reads as one JSON document: its first line that is not
    blank opens an object ("{" alone, or with a field) and the next one is no whole object either (JSON Lines, its
    first row broken, is read line by line: its error is that row's). Lines end at "\r" too."""
    lines = (line.strip() for line in _cr_lines(io.BytesIO(raw.removeprefix(_BOM))) if line.strip())
    first = next(lines, b"")
    if first == b"{":
        return True
    if not first.startswith(b"{") or _is_json_object(first):
        return False
    second = next(lines, None)
    return second is None or not _is_json_object(second)


def _one_json_object(path: Path, raw: bytes) -> dict | None:
    """The file as one JSON object when it is one spread over several lines, else None (JSON Lines, or bad
    JSON that the line reader then names by line). (Any number of line ends: it is called only when the first line
    is not a whole object, and a count of 2 refused `{"a": 1,\n"b": 2}` without a final newline.)"""
    try:
        obj = _json_loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError):  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
        return None
    except DuplicateKey as e:  # (the object starts at line 1)
        raise PonderError(e.message(f"{path}:1")) from None
    return obj if isinstance(obj, dict) else None


def _whole_json_object(path: Path, raw: bytes) -> dict | None:
    """The file read as one JSON document: the object it is, else None (not an object, or not UTF-8, which the line
    reader names by line and byte); invalid JSON is an error at its line and column in the file."""
    try:
        obj = _loads(raw.decode("utf-8-sig"), f"{path}:1")
    except UnicodeDecodeError:
        return None
    except json.JSONDecodeError as e:
        raise PonderError(f"{path}:{e.lineno}: invalid JSON: {e.msg} (column {e.colno})") from None
    return obj if isinstance(obj, dict) else None


def _read_json_array(path: Path, raw: bytes, limit: int | None) -> list[tuple[str, dict]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise PonderError(f"{path}:{line}: not UTF-8 text (byte {e.start})") from None
    try:
        data = _json_loads(text)
    except json.JSONDecodeError as e:  # (the column: json.dump writes a whole array on line 1)
        raise PonderError(f"{path}:{e.lineno}: invalid JSON: {e.msg} (column {e.colno})") from None
    except DuplicateKey as e:  # named by its row (read again, keeping the keys it repeats)
        raise PonderError(e.message(f"{path}:row {_row_with_duplicate(text)}")) from None
    except (ValueError, RecursionError):
        data = _loads(text, f"{path}:1")  # (its message)
    if limit is not None:
        data = data[:limit]
    return [(f"{path}:row {i + 1}", row) for i, row in enumerate(data)]


class _Repeated(dict):
    pass


def _row_with_duplicate(text: str) -> int:
    """The number of the first row of a JSON array of rows with a key given twice in it (1-based)."""
    def hook(pairs):
        d = dict(pairs)
        return _Repeated(d) if len(d) != len(pairs) else d

    def has(x) -> bool:
        if isinstance(x, dict):
            return isinstance(x, _Repeated) or any(has(v) for v in x.values())
        return isinstance(x, list) and any(has(v) for v in x)

    return next(i + 1 for i, row in enumerate(json.loads(text, object_pairs_hook=hook)) if has(row))


def _read_parquet(path: Path, limit: int | None = None) -> list[tuple[str, dict]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        records = _read_parquet_pandas(path)
    else:
        try:
            if limit is None:
                records = _pylist(pq.read_table(path))
            else:  # only the batches the first `limit` rows are in
                records = []
                for batch in pq.ParquetFile(path).iter_batches(batch_size=min(limit, 65_536)):
                    records += _pylist(batch)
                    if len(records) >= limit:
                        break
        except Exception as e:  # pyarrow raises several types for a corrupt file
            raise PonderError(f"{path}: cannot read Parquet: {headline(e)}") from None
    if limit is not None:
        records = records[:limit]
    return [(f"{path}:row {i + 1}", _without_struct_union_nulls(row)) for i, row in enumerate(records)]


def _without_struct_union_nulls(row):
    """A Parquet row with the null-valued keys of the objects the chat template renders as JSON (a tool call,
    its `arguments` included, and the `tools` schemas) left out. A Parquet struct column has one set of keys for the whole file,
    the union of every row's: a call get_weather({"city": "Paris"}) in a file where another call also passes
    "unit" read back as {"city": "Paris", "unit": null}, and that null was trained on. Parquet stores a key a
    row lacks and one it set to null alike, so a null argument cannot be told from an absent one there; an
    `arguments` stored as a JSON string (OpenAI's format) keeps its nulls, and JSON Lines keeps them as written."""
    if not isinstance(row, dict):
        return row
    row = dict(row)
    if isinstance(row.get("tools"), list):
        row["tools"] = [_drop_nulls(t) for t in row["tools"]]
    for k, v in row.items():
        if isinstance(v, list) and any(isinstance(m, dict) and m.get("tool_calls") for m in v):
            row[k] = [_message_without_union_nulls(m) for m in v]
    return row


def _message_without_union_nulls(m):
    if not isinstance(m, dict) or not isinstance(m.get("tool_calls"), list):
        return m
    # (the whole call: a call without a "type" (or "id") in a file where another has one read back with
    # "type": null, refused as not a function call)
    return {**m, "tool_calls": [_drop_nulls(call) for call in m["tool_calls"]]}


def _drop_nulls(x):
    """`x` without the null-valued keys of its objects, at any depth (a list's null items stay: a list has no
    union of keys)."""
    if isinstance(x, dict):
        return {k: _drop_nulls(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_nulls(v) for v in x]
    return x


def _pylist(table) -> list[dict]:
    """A pyarrow table's (or batch's) rows, a float32 column's values as the numbers written: to_pylist() widens
    float32 1.1 to 1.100000023841858, a gold answer no "1.1" matches (the verifier reads 16 digits as a binary
    float, a print of 1.100000023841858..., not of 1.1); the float32's shortest text, read as a float, is 1.1."""
    import pyarrow as pa

    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    nested = []  # fields holding float32 inside a struct or list: verl's reward_model {"ground_truth": 1.1}
    for i, field in enumerate(table.schema):
        if pa.types.is_float32(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()).cast(pa.float64()))
        elif _has_float32(field.type):
            nested.append(field)
    rows = table.to_pylist()
    for field in nested:
        for row in rows:
            row[field.name] = _float32_written(row[field.name], field.type)
    return rows


def _has_float32(t) -> bool:
    import pyarrow as pa

    if pa.types.is_float32(t) or pa.types.is_float16(t):  # (float16: 1.1 came as 1.099609375)
        return True
    if pa.types.is_struct(t):
        return any(_has_float32(t.field(j).type) for j in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _has_float32(t.value_type)
    return pa.types.is_map(t) and _has_float32(t.item_type)


def _float32_written(value, t):
    """`value` (of pyarrow type `t`) with each float32 in it as its shortest text read as a float (1.1, not
    1.100000023841858), as _pylist makes a float32 column's."""
    import pyarrow as pa

    if value is None:
        return None
    if pa.types.is_float32(t):
        for digits in range(1, 10):  # (9 significant digits always give a float32 back)
            x = float(f"{value:.{digits}g}")
            try:
                if struct.unpack("f", struct.pack("f", x))[0] == value:
                    return x
            except OverflowError:  # (3.4028235e+38, float32's largest rounded up, is past its range)
                pass
        return value
    if pa.types.is_float16(t):
        import numpy as np

        return float(str(np.float16(value)))  # (numpy's text of a float16 is its shortest)
    if pa.types.is_struct(t):
        return {f.name: _float32_written(value.get(f.name), f.type) for f in t}
    if pa.types.is_map(t):
        return [(k, _float32_written(v, t.item_type)) for k, v in value]
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return [_float32_written(v, t.value_type) for v in value]
    return value


def _read_parquet_pandas(path: Path, engine: str = "auto") -> list[dict]:
    """_read_parquet's rows without pyarrow: through pandas, which reads Parquet with fastparquet then."""
    try:
        import pandas as pd
    except ImportError:
        raise PonderError(f"{path}: reading Parquet needs pyarrow: pip install pyarrow") from None
    try:
        # (engine="auto" passed on is deprecated in pandas 3, a warning at every load, and goes in pandas 4)
        df = pd.read_parquet(path) if engine == "auto" else pd.read_parquet(path, engine=engine)
    except ImportError:  # neither pyarrow nor fastparquet: pandas' several-line "Unable to find a usable engine"
        raise PonderError(f"{path}: reading Parquet needs pyarrow: pip install pyarrow") from None
    except Exception as e:  # a corrupt file: the engine's error, said as the pyarrow path says it
        raise PonderError(f"{path}: cannot read Parquet: {headline(e)}") from None
    return _pandas_records(df)


def _pandas_records(df) -> list[dict]:
    """A DataFrame's rows as pyarrow's to_pylist() gives them: pandas holds a list column's values (verl's chat
    `prompt`, `tests`, `numbers`) as numpy arrays, which the row checks refuse as "not a list" and JSON cannot
    write, its numbers as numpy scalars, and a null as NaN (or pd.NA/NaT); here they are Python lists, values
    and None, at any depth (a struct holding a list, a list of structs). (An integer column with a null stays
    float: pandas has already made it so.)"""
    import numpy as np
    import pandas as pd

    def plain(value):
        if isinstance(value, np.ndarray):
            if value.dtype in (np.float32, np.float16):  # (a list<float32>'s 0.1 too, not 0.10000000149011612)
                value = value.astype(str).astype(np.float64)
            return [plain(v) for v in value.tolist()]
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, tuple):  # (a map column's (key, value) pairs, as pyarrow gives them too)
            return tuple(plain(v) for v in value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, (np.float32, np.float16)):  # (its shortest text: item() widens it)
            value = float(str(value))
        if isinstance(value, np.generic):
            value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value

    for col in df.columns:  # (as _pylist: a float32 column's 1.1 is 1.1, not 1.100000023841858)
        if df[col].dtype in (np.float32, np.float16):
            df[col] = df[col].astype(str).astype(np.float64)
    return [plain(row) for row in df.to_dict(orient="records")]


# The fields of known layouts that hold the prompt or the gold where `prompt`/`problem` or `answer` are missing:
# a row with one of them is named the flag that reads it.
_KNOWN_FIELDS = {"prompt": (("question", "it (GSM8K's layout)"), ("Problem", "it (AIME's layout)")),
                 "answer": (("solution", "its last \\boxed{} (MATH's layout)"), ("Answer", "it (AIME's layout)"))}


def _lookup(row: dict, field: str):
    """The row's `field`; a dotted name ("reward_model.ground_truth", "extra_info.question") walks nested objects
    where the row has no key of that name itself (a key with the dot in it is read as it is). _MISSING if none."""
    if field in row or "." not in field:
        return row.get(field, _MISSING)
    value = row
    for step in field.split("."):
        if not isinstance(value, dict) or step not in value:
            return _MISSING
        value = value[step]
    return value


def _lacking(row: dict, field: str) -> str:
    """What a row missing `field` has, for the message: its keys, or for a dotted name the keys of the deepest
    object the path reaches ("extra_info has: question, answer"), or the kind of value a step is instead."""
    value, path = row, []
    if field not in row and "." in field:
        for step in field.split(".")[:-1]:
            if not isinstance(value, dict) or step not in value:
                break
            value, path = value[step], [*path, step]
    if not path:
        return f"have: {field_names(row)}"
    at = ".".join(path)
    if not isinstance(value, dict):
        return f"{at} is {_type_name(value) if value is not None else 'null'}, not an object"
    return f"{at} has: {field_names(value)}"


def load_dataset(path, *, prompt_field: str | None = None, answer_field: str | None = None,
                 limit: int | None = None, require_answer: bool = True) -> list[dict]:
    """Rows of a .jsonl/.json/.parquet file as task items (see the module docstring). ``require_answer=False``
    (prompts alone, as the diversity probe reads them): a row without a gold answer gets ``"answer": None``."""
    path = Path(path)
    if path.is_dir():
        raise PonderError(f"{path}: is a directory")
    if not path.is_file():
        raise PonderError(f"{path}: " + ("not a regular file" if path.exists() else "no such file"))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit <= 0):
        raise PonderError(f"limit must be a positive integer, got {limit!r}")
    limit = None if limit is None else int(limit)  # (np.int64 is an integer too)
    refuse_git_lfs_pointer(path)  # (a hub dataset cloned without git-lfs)
    fmt = _format(path)
    if fmt == ".parquet":
        rows = _read_parquet(path, limit)
    elif fmt in (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz"):
        rows = _read_jsonl(path, limit)
    else:
        raise PonderError(f"{path}: unsupported format {fmt or '(no extension)'!r} "
                          "(use .jsonl, .json, .ndjson, each also .gz, or .parquet)")
    stem = path.name[:len(path.name) - len(fmt)]  # "d" for d.jsonl and d.jsonl.gz alike
    items = []
    first_of: dict[str, tuple[str, str | None]] = {}  # id -> (where, field) of the row that has it
    for i, (where, row) in enumerate(rows):
        if not isinstance(row, dict):
            hint = ""
            if i == 0 and isinstance(row, list) and fmt.removesuffix(".gz") != ".json":  # json.dump(rows, f)
                hint = "; the file looks like a JSON array of rows, not JSON Lines (one object a line): name it .json"
            raise PonderError(f"{where}: expected a JSON object, got {_type_name(row)}{hint}")
        # A null column is one this row does not have: a Parquet file (or datasets' to_json) of rows in both
        # layouts, MATH's `problem` and verl's chat `prompt`, holds both columns, each null where the other is set.
        pf = prompt_field or ("prompt" if row.get("prompt") is not None or ("prompt" in row and "problem" not in row)
                              else "problem")
        af = answer_field or "answer"
        values = {pf: _lookup(row, pf), af: _lookup(row, af)}
        rm = row.get("reward_model")
        if (answer_field is None and row.get(af) is None and isinstance(rm, dict) and "ground_truth" in rm
                and (af not in row or rm["ground_truth"] is not None)):
            af = "reward_model.ground_truth"  # verl's layout: the gold is its rule reward's ground truth
            values[af] = rm["ground_truth"]
        for field in (pf, af):
            if field == af and not require_answer and values[field] in (_MISSING, None):
                continue
            if values[field] is _MISSING:
                name = "'prompt' (or 'problem')" if field == "problem" and prompt_field is None else repr(field)
                # GSM8K's "question", Alpaca's "instruction"...: say how to name the field the file does have
                kind = "prompt" if field == pf else "answer"
                # and names the field of the known layout the row is in ("question": GSM8K's), which it did not
                known = next((f"; --{kind}-field {f} ({kind}_field= in Python) reads {why}" for f, why in _KNOWN_FIELDS[kind] if f in row), "")
                other = ("" if (prompt_field if field == pf else answer_field) is not None else
                         known or f"; --{kind}-field F ({kind}_field= in Python) reads another")
                raise PonderError(f"{where}: missing field {name} ({_lacking(row, field)}){other}")
            if values[field] is None:
                raise PonderError(f"{where}: field {field!r} is null")
        prompt = values[pf]
        if isinstance(prompt, list):
            check_prompt_messages(where, pf, prompt)
        elif not isinstance(prompt, str) or not prompt.strip():
            raise PonderError(f"{where}: field {pf!r} must be non-empty text or a list of chat messages, got "
                              f"{prompt!r:.60}")
        else:
            _check_text(where, pf, prompt)
        item = _plain(row)
        item["prompt"] = prompt
        gold = values[af]
        if af == "reward_model.ground_truth" and isinstance(gold, dict):
            # TinyZero's countdown (verl's layout): {"target": 24, "numbers": [...]}, the countdown verifier's fields
            lacking = [k for k in ("target", "numbers") if gold.get(k) is None]
            if lacking:
                raise PonderError(f"{where}: field {af!r} is an object without {' or '.join(map(repr, lacking))} "
                                  f"(a gold is text or a number, or a countdown's {{\"target\", \"numbers\"}}), got "
                                  f"{gold!r:.60}")
            # (use_all: TinyZero's reward wants each number used exactly once, not at most once as the built-in
            # countdown task; a subset answer scored 1 where the dataset's own reward gives it 0)
            for k, v in (("target", _plain(gold["target"])), ("numbers", _plain(gold["numbers"])),
                         ("task", "countdown"), ("use_all", True)):
                if item.get(k) in (None, ""):  # (the row's own, unless null: a Parquet column of another layout)
                    item[k] = v
            gold = gold["target"]  # (the answer shown as gold; the countdown verifier reads target and numbers)
            af += ".target"
        item["answer"] = None if gold in (_MISSING, None) else _answer_text(where, af, gold)
        key = next((k for k in ("id", "unique_id") if row.get(k) not in (None, "")), None)  # (0 is an id)
        if key is not None and (isinstance(row[key], bool) or not isinstance(row[key], (str, int, float))):
            raise PonderError(f"{where}: field {key!r} must be text or a number, got {type(row[key]).__name__} "
                              f"{row[key]!r:.60}")
        if key is not None and isinstance(row[key], str) and not row[key].strip():
            # (an id names the row in eval records, resume and the curriculum: "  " is no name; "" is no id at all,
            # the default one is taken)
            raise PonderError(f"{where}: field {key!r} is only whitespace ({row[key]!r:.20}): give an id, or leave "
                              "it out (or empty) for the default one (file stem and row number)")
        if key is not None and isinstance(row[key], float) and not math.isfinite(row[key]):  # JSON's NaN: id "nan"
            raise PonderError(f"{where}: field {key!r} must be text or a finite number, got {row[key]!r}")
        # (a number's text as written: ids 0.1 and 0.10, or two past a double's 17 digits, are two ids, not one)
        item["id"] = _number_text(row[key]) if key is not None else f"{stem}-{i + 1}"
        # Ids key the RL curriculum's per-prompt statistics and name items in errors and eval records: two
        # problems under one id would share them.
        if item["id"] in first_of:
            first, first_key = first_of[item["id"]]
            ours, theirs = (f"field {k!r}" if k else "its default id: file stem and row number"
                            for k in (key, first_key))
            raise PonderError(f"{where}: id {item['id']!r} ({ours}) is already the id of {first} ({theirs}); "
                              "ids must be unique")
        first_of[item["id"]] = (where, key)
        task = item.get("task")
        if task not in (None, "") and not isinstance(task, str):
            raise PonderError(f"{where}: field 'task' must be a task name, got {_type_name(task)} {task!r:.60}")
        if isinstance(task, str) and task.strip().lower() in ("arith", "word", "countdown"):
            # ("Countdown" picked the math verifier, which scores a countdown's bare target with no expression)
            task = task.strip().lower()
        item["task"] = task or "math"
        items.append(item)
    if not items:
        raise PonderError(f"{path}: empty dataset (no rows)")
    return items


def check_prompt_messages(where: str, field: str, msgs: list) -> None:
    """A prompt given as chat messages (verl's and open-r1's layout): a non-empty list of {"role", "content"}
    messages the chat template path takes (tokenizer.message_problem: tool messages and an assistant's tool_calls
    too), ending with the user's turn (the one the model
    answers: after an assistant turn the template would open a second one). Checked here, by row, since the
    template's own check names only the message's index, and only once sampling starts."""
    from ponder.tokenizer import message_problem

    if not msgs:
        raise PonderError(f"{where}: field {field!r} is an empty list of chat messages")
    for j, m in enumerate(msgs):
        at = f"{where}: field {field!r} message {j}"
        if not isinstance(m, dict):
            raise PonderError(f"{at}: expected an object with 'role' and 'content', got {_type_name(m)} {m!r:.60}")
        for key in ("role", "content"):  # (an assistant's tool calls may come without a content)
            if key not in m and not (key == "content" and m.get("tool_calls")):
                raise PonderError(f"{at}: missing {key!r} (have: {field_names(m)})")
        if (problem := message_problem(m)) is not None:  # tool messages and calls as the chat template takes them
            raise PonderError(f"{at}: {problem}")
        # every text the template may render (reasoning under any of its names, a tool's name, the calls' names
        # and arguments): a lone surrogate in one failed at encoding, naming no row
        for path, text in _texts(m, f"{field}[{j}]"):
            _check_text(where, path, text)
    if msgs[-1]["role"] != "user":
        raise PonderError(f"{where}: field {field!r}: the last message is the {msgs[-1]['role']}'s; a prompt ends with "
                          "the user's turn (the one the model answers)")
    if not msgs[-1]["content"].strip():
        raise PonderError(f"{where}: field {field!r}: the last (user) message is empty")


def _texts(x, path: str):
    """(path, text) of each string in `x` (a message, a tool's schema), dict keys too (tojson renders them)."""
    if isinstance(x, str):
        yield path, x
    elif isinstance(x, dict):
        for k, v in x.items():
            if isinstance(k, str):
                yield f"{path} key", k
            yield from _texts(v, f"{path}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _texts(v, f"{path}[{i}]")


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
        from ponder.verify.math import final_mark

        # GSM8K's gold is a worked solution ending "#### 72": the item's answer is 72, as the verifier reads it
        return final_mark(value)
    if isinstance(value, decimal.Decimal) and value.is_finite():  # a Parquet decimal column: "1.50" as stored
        return str(value)
    if isinstance(value, _WrittenFloat):  # its text: 1e400 as written, no float's inf
        return value.text
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PonderError(f"{where}: field {field!r} must be text or a number, got {type(value).__name__} "
                          f"{value!r:.60}")
    if isinstance(value, float) and not math.isfinite(value):
        raise PonderError(f"{where}: field {field!r} must be a finite number, got {value!r}")
    return _number_text(value)


def _number_text(value) -> str:
    """str(value); a JSON number with a fraction or exponent as the file writes it."""
    return value.text if isinstance(value, _WrittenFloat) else str(value)


EXPORT_FORMATS = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz")


def check_export_path(path) -> None:
    """export() writes JSON Lines (gzipped for a .gz name), which load_dataset reads back: a name that says
    another format (.parquet, .csv) would hold JSONL that no reader of that format can open."""
    if str(path) != "-" and _format(Path(path)) not in EXPORT_FORMATS:
        raise PonderError(f"{path}: export writes JSON Lines; name the output .jsonl (or .jsonl.gz), or - for "
                          "standard output")


def export(items: list[dict], path) -> Path:
    """Write items as JSONL, atomically (temp file in the same folder, then os.replace); gzipped when the name
    ends in .gz (mtime 0: the same items give the same bytes); `-` writes to standard output."""
    check_export_path(path)
    # (each line checked before anything is written: a lone surrogate failed at the write with a bare
    # UnicodeEncodeError, and a NaN was written as `NaN`, which is no JSON: strict readers, jq, JavaScript refuse it)
    text = "".join(_export_line(i, item) + "\n" for i, item in enumerate(items))
    if str(path) == "-":
        _write_stdout(text)
        return Path("-")
    if _format(Path(path)).endswith(".gz"):
        return atomic_write_bytes(path, gzip.compress(text.encode("utf-8"), mtime=0))
    return atomic_write_text(path, text)


def _export_line(i: int, item) -> str:
    """Item `i` as one line of strict JSON (UTF-8 text), or a PonderError naming the item and the field that
    cannot be written: a NaN or infinite number, a lone surrogate ("\\ud800"), a value JSON has no type for."""
    where = f"export: items[{i}]" + (f" (id {item.get('id')!r:.40})" if isinstance(item, dict) and "id" in item else "")
    if not isinstance(item, dict):
        raise PonderError(f"{where}: expected an object (a dict), got {type(item).__name__} {item!r:.60}")
    try:
        line = json.dumps(item, ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        line = None
    field, problem = _unwritable(item, "") if line is None else (None, None)
    if line is not None:
        try:
            line.encode("utf-8")
            return line
        except UnicodeEncodeError:
            field, problem = _unwritable(item, "")
    if field is None:  # (nested too deeply for json, or a cycle)
        raise PonderError(f"{where}: cannot be written as JSON (nested too deeply, or it contains itself)")
    raise PonderError(f"{where}: field {field!r} {problem}")


def _unwritable(x, path: str, depth: int = 0):
    """(field path, what is wrong) of the first value in `x` that strict UTF-8 JSON cannot hold, else (None, None)."""
    if depth > 500:
        return None, None
    if isinstance(x, str):
        try:
            x.encode("utf-8")
        except UnicodeEncodeError as e:
            return path, f"holds a lone surrogate {x[e.start]!r} at character {e.start} (not valid Unicode text)"
        return None, None
    if isinstance(x, float) and not math.isfinite(x):
        return path, f"is {x!r}, which JSON cannot hold (a finite number or null is)"
    if x is None or isinstance(x, (bool, int, float)):
        return None, None
    if isinstance(x, dict):
        for k, v in x.items():
            key = f"{path}.{k}" if path else str(k)
            if isinstance(k, str):
                found = _unwritable(k, f"{key} (key)", depth + 1)
                if found[0] is not None:
                    return found
            elif k is not None and not isinstance(k, (int, float, bool)):
                return key, f"has a key of type {type(k).__name__}, which JSON cannot hold (its keys are text)"
            found = _unwritable(v, key, depth + 1)
            if found[0] is not None:
                return found
        return None, None
    if isinstance(x, (list, tuple)):
        for j, v in enumerate(x):
            found = _unwritable(v, f"{path}[{j}]", depth + 1)
            if found[0] is not None:
                return found
        return None, None
    return path, f"is a {type(x).__name__} ({x!r:.40}), which JSON cannot hold"


def _write_stdout(text: str) -> None:
    """Write text to standard output in full, or raise (BrokenPipeError for a reader that went away). Under
    PYTHONUNBUFFERED=1 stdout's binary layer is the raw file, whose write may take only part of the bytes (a
    pipe whose reader left mid-write), and the text layer drops the rest without a word: "wrote N items" then
    exit 0 for a file cut short. So the bytes go out here, the rest written until all are, or the pipe fails."""
    out = getattr(sys.stdout, "buffer", None)
    if out is None:  # (a stream without a binary layer: io.StringIO, pytest's capture)
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    sys.stdout.flush()  # (text written before, through the text layer, goes first)
    view = memoryview(text.encode("utf-8"))
    while view:
        n = out.write(view)
        view = view[n or 0:]  # (None: a non-blocking stdout that would block; nothing was taken)
    out.flush()


def reward_reads_answer(reward) -> bool:
    """Whether `reward` (a spec as --reward takes it, a Reward, a callable, or None: the default, math unless
    every item is countdown) compares completions with a gold `answer`. Only the math verifier does: code runs
    the item's `tests`, countdown reads `numbers` and `target`, constraints its `constraints`, format and judge
    no gold, so a file for those needs no `answer` (it was refused as "missing field 'answer'")."""
    from ponder.verify.registry import Reward, _parse

    if isinstance(reward, Reward):
        names = [n for n, _ in reward.terms]
    elif isinstance(reward, str):
        names = [n for n, _ in _parse(reward)]
    elif isinstance(reward, dict):
        names = list(reward)
    else:  # None (the default reward) or a callable, which may read anything
        return True
    return "math" in names


def load_items(spec: str, split: str = "test", n: int | None = None, seed: int = 0,
               require_answer: bool = True, data: str | None = None, *, prompt_field: str | None = None,
               answer_field: str | None = None) -> list[dict]:
    """Items for the CLI's `--task T | --data FILE`: a task name is generated (`n` items, default
    DEFAULT_TASK_N, from `split`); anything else is a dataset file (first `n` rows, all if None; `split` and
    `seed` do not apply to files; `require_answer` as load_dataset's). `data` (--data), when given, is read as a
    file whatever its name: `--data arith` generated the arith task, over a file ./arith too. `prompt_field` and
    `answer_field` (--prompt-field, --answer-field) are load_dataset's, for a file only."""
    from ponder.tasks import TASKS, generate

    fields = {"prompt_field": prompt_field, "answer_field": answer_field}
    if data is not None:
        return load_dataset(data, limit=n, require_answer=require_answer, **fields)
    if spec in TASKS:
        if prompt_field is not None or answer_field is not None:  # (a task's items have their own fields)
            raise PonderError(f"prompt_field and answer_field are for a dataset file, not the task {spec!r}")
        return generate(spec, split=split, n=DEFAULT_TASK_N if n is None else n, seed=seed)
    if not spec or not Path(spec).exists():  # ("" is Path("."), which exists: ".: is a directory")
        raise PonderError(f"{spec!r} is neither a task ({', '.join(TASKS)}) nor an existing file")
    return load_dataset(spec, limit=n, require_answer=require_answer, **fields)
