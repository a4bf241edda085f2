"""Atomic file writes: a temporary file in the same directory, then os.replace. Strict JSON, and text reads
that fail as one line.

A reader (or a crash) never sees half a file: either the old content or the new one. A write that cannot
happen (a read-only directory, a full disk, a path under a file) raises OutputError naming the path asked
for, never the temporary file.
"""

from __future__ import annotations

import fcntl
import functools
import inspect
import json
import math
import os
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import PonderError


def _umask() -> int:
    """The process's umask now. Read from /proc (Linux 4.7+), never set: os.umask(0) and back, the only portable
    way, leaves a window in which a file another thread creates is world-writable (and a value read once at
    import went stale when the program changed its umask after)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0)
    os.umask(old)
    return old


class OutputError(PonderError, OSError):
    """A write the OS refused, as one line naming the user's path and the reason. Also an OSError, for
    callers that catch those (and `errno` is the original one)."""


def _refused(msg: str, e: OSError | None = None) -> OutputError:
    err = OutputError(msg)
    if e is not None:
        err.errno = e.errno
    return err


def file_mode() -> int:
    """The permissions `open()` gives a new file (0666 less the umask); mkstemp's are 0600."""
    return 0o666 & ~_umask()


def dir_mode() -> int:
    """The permissions `mkdir` gives a new directory (0777 less the umask); mkdtemp's are 0700."""
    return 0o777 & ~_umask()


def make_parent(path: str | os.PathLike) -> Path:
    """Create the directory `path` goes into; OutputError naming `path` if it cannot be. Returns `path` as a
    Path."""
    path = Path(path)
    parent = path.parent
    if parent.is_dir():
        return path
    for a in (parent, *parent.parents):  # the nearest one that exists must be a directory
        if os.path.lexists(a):
            if not a.is_dir():
                raise _refused(f"{path}: {a} is not a directory")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _refused(f"{path}: cannot create directory {e.filename or parent} ({e.strerror or e})",
                       e) from e
    return path


def _target(path: str | os.PathLike) -> Path:
    if not os.fspath(path):
        raise PonderError("empty output path")
    path = Path(path)
    if path.is_dir():
        raise _refused(f"{path}: is a directory")
    return make_parent(path)


def check_writable(path: str | os.PathLike) -> Path:
    """What atomic_open(path) would refuse, refused now (for a write that comes after long work), leaving
    nothing behind: an empty path, a directory, a path under a file, a folder that cannot be written."""
    if not os.fspath(path):
        raise PonderError("empty output path")
    path = Path(path)
    if path.is_dir():
        raise _refused(f"{path}: is a directory")
    if _special(path):  # /dev/null: written as it is, never into its folder
        return path
    for a in path.parents:  # the nearest folder that exists must be a directory we may write into
        if os.path.lexists(a):
            if not a.is_dir():
                raise _refused(f"{path}: {a} is not a directory")
            e = cannot_create_in(a)  # (a file tried there: os.access says yes to root for /proc)
            if e is not None:
                raise _refused(f"{path}: cannot write into {a} ({e.strerror or e})", e) from e
            break
    return path


# The files of a model checkpoint and of a Ponder run or result directory, which Ponder reads back (a resume, a
# report, `ponder eval --model DIR`). Every such directory but a demo's holds a config.json: a checkpoint's has no
# "kind", a run's or result's names its kind.
RUN_FILES = frozenset({"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                       "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                       "pytorch_model.bin.index.json", "metrics.jsonl", "alarms.jsonl", "summary.json",
                       "samples.jsonl", "distilled.jsonl", "scaling.json"})
MODEL_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")


def run_kind(saved) -> str | None:
    """The command that made a directory, from its config.json (``saved``): its "kind", but "distill" for the sft
    run `ponder distill` trains (kind "sft", naming its distilled.jsonl), which messages called an 'sft' run."""
    if not isinstance(saved, dict):
        return None
    kind = saved.get("kind")
    if kind == "sft" and isinstance(saved.get("data"), dict) and saved["data"].get("distilled"):
        return "distill"
    return kind


def check_not_run_file(path: str | os.PathLike) -> None:
    """Refuse an output (`verify -o`, `data export -o`) that would replace a file of a model checkpoint or of a
    run or result: `-o runs/x/checkpoint/tokenizer.json` left a checkpoint that no longer loads, and `-o
    runs/x/metrics.jsonl` a run whose resume and report read JSONL of another kind. Other files there (a
    verify output next to an evaluation's samples.jsonl) are written as anywhere else."""
    given = Path(path)
    # the file a link names: atomic_open replaces the file linked to, so `-o out.jsonl` linking to a run's
    # metrics.jsonl replaced it
    p = Path(os.path.realpath(given)) if given.is_symlink() else given
    if p.name not in RUN_FILES or not p.is_file():
        return
    if not (p.parent / "config.json").is_file():
        # a demo's directory has no config.json of its own: its summary.json (which `ponder report` reads) and
        # scaling.json lie beside its grpo/ run, and `verify -o DEMO/summary.json` replaced them
        if (p.parent / "summary.json").is_file() and (p.parent / "grpo" / "config.json").is_file():
            raise PonderError(f"{p}: is a file of a Ponder demo directory ({p.parent}), which this output would "
                              "replace; write it elsewhere")
        return
    if any((p.parent / w).exists() for w in MODEL_WEIGHT_FILES):
        what = "a model checkpoint"
    else:
        try:
            kind = run_kind(json.loads((p.parent / "config.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return
        if not isinstance(kind, str):
            return
        what = f"a Ponder {kind!r} directory"
    raise PonderError(f"{p}: is a file of {what} ({p.parent}), which this output would replace; write it "
                      "elsewhere")


def cannot_create_in(folder: str | os.PathLike) -> OSError | None:
    """Why a file cannot be created in `folder`, or None if it can. os.access answers yes to root for any folder
    (/proc, a read-only mount): a file created there and removed at once is the real answer."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".ponder-probe-")
    except OSError as e:
        return e
    os.close(fd)
    os.unlink(probe)
    return None


def _write_error(path: Path, e: OSError) -> OutputError:
    return _refused(f"{path}: cannot write ({e.strerror or e})", e)


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", *, encoding: str | None = None,
                fsync: bool = False):
    """`with atomic_open(path, "w", encoding="utf-8") as f: ...`: `f` is a temporary file next to `path`,
    renamed onto `path` (with the usual permissions) when the block ends without an error and removed when
    it raises. An OSError comes out as OutputError naming `path`. Over an existing file the new one keeps its
    permissions; over a symlink it replaces the file linked to, and the link stays. A path that is not a regular
    file (/dev/null, /dev/stdout, a named pipe) is written as it is: there is no file to swap. Only a write
    mode ("w", "wb", "wt", "w+"): the temporary file starts empty, so an append ("a"), an update ("r+") or an
    exclusive create ("x") would replace the file with only what the block wrote."""
    if not isinstance(mode, str) or mode.count("w") != 1 or set(mode) - set("wbt+") or len(set(mode)) != len(mode):
        raise PonderError(f"atomic_open: mode {mode!r} is not a write mode ('w', 'wb', 'wt'): the file is "
                          "replaced whole, so an append or update would lose its content")
    path = _target(path)
    if _special(path):  # /dev/null, /dev/stdout, a named pipe: a file renamed over it would replace the device
        try:  # itself (as root: /dev/null a plain file for every program), and there is nothing to keep atomic
            with open(path, mode, encoding=encoding) as f:
                yield f
        except OSError as e:
            if isinstance(e, PonderError):
                raise
            raise _write_error(path, e) from e
        return
    real = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        perms = stat.S_IMODE(os.stat(real).st_mode) if real.is_file() else file_mode()
    except OSError:
        perms = file_mode()
    # (the prefix is cut so a long, valid name does not make the temporary name too long: in bytes, the limit's
    # unit, as 80 characters of emoji are 320 bytes)
    cut = os.fsencode(real.name)[:80].decode("utf-8", "ignore")
    try:
        fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{cut}.", suffix=".tmp")
    except OSError as e:
        raise _write_error(path, e) from e
    try:
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, perms)  # mkstemp makes 0600; give the file the usual permissions (or the old file's)
        os.replace(tmp, real)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and not isinstance(e, PonderError):
            raise _write_error(path, e) from e
        raise


def _special(path: Path) -> bool:
    """Whether `path` is there and is not a regular file (a device, a pipe, a socket), links followed, or names
    an open descriptor (/dev/stdout, /dev/fd/N, /proc/self/fd/N): redirected to a file (`-o /dev/stdout >
    out.txt`), a file renamed over that one would leave the descriptor on the unlinked old file."""
    try:
        st = os.stat(path)
    except OSError:  # (not there yet, or a dangling link: a file is created)
        return False
    parts = Path(os.path.abspath(path)).parts
    # (a descriptor's name only: a regular file elsewhere in /dev, /dev/shm/out.json, is a file to keep atomic)
    return not stat.S_ISREG(st.st_mode) or parts[1:3] in (("dev", "stdout"), ("dev", "stderr"), ("dev", "fd")) or (
        parts[1:2] == ("proc",) and parts[3:4] == ("fd",))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def read_text(f: Path, encoding: str = "utf-8") -> str:
    """The text of `f`; PonderError naming the file if it cannot be read or is not UTF-8 ("utf-8-sig": a BOM
    is dropped)."""
    try:
        return f.read_bytes().decode(encoding)
    except OSError as e:
        raise PonderError(f"{f}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise PonderError(f"{f}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def git_lfs_pointer(f: str | os.PathLike) -> bool:
    """Whether `f` is the small text file git leaves for a Git LFS object it did not fetch (a hub repository of
    weights or a dataset cloned without git-lfs): read as the data, it fails as something unrelated."""
    try:
        with open(f, "rb") as fh:
            return fh.read(40).startswith(b"version https://git-lfs.github.com/spec/")
    except OSError:
        return False


def refuse_git_lfs_pointer(path: str | os.PathLike) -> None:
    """A data file (task items, SFT rows) left as a Git LFS pointer, refused in one line: read as the data it
    failed as "invalid JSON" or "Parquet magic bytes not found", which said nothing of the cause."""
    if git_lfs_pointer(path):
        raise PonderError(f"{path}: a Git LFS pointer, not the data: fetch it with `git lfs pull` in the dataset's "
                          "repository")


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and its noun, singular for one: "1 problem", "2 problems" (people's output read "1 problems")."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def json_safe(x):
    """Non-finite floats (a scorer's -inf for an empty completion, a NaN loss) as null, recursively: JSON
    has no Infinity or NaN, and strict readers (JavaScript, jq) reject or mangle them."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x


# ---- run-directory lock ----------------------------------------------------------------------------------
# Two processes on one run directory (`--resume` twice, a resume while the run still trains) interleaved their
# checkpoints and metrics.jsonl. A run holds an exclusive flock on DIR/.lock while it runs: the kernel drops it
# when the process ends, a crash included, so there is no stale lock to clear.
LOCK = ".lock"
_HELD: dict[str, list] = {}  # absolute path -> [its open lock file (None: not taken yet; False: cannot be), depth]


def _flock(run: Path):
    path = run / LOCK
    while True:
        try:
            f = open(path, "a+", encoding="ascii")
        except OSError:  # (a directory that takes no files: the run's own first write says so)
            return None
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            pid = f.read().strip()
            f.close()
            raise PonderError(f"{run} is in use by another ponder process (pid {pid if pid.isdigit() else 'unknown'}); "
                              "wait for it or choose another --out") from None
        except OSError as e:  # a filesystem without file locks (some network and FUSE mounts): every run there
            f.close()  # failed with "[Errno 37] No locks available", naming nothing; it runs unguarded, as said
            try:
                os.unlink(path)
            except OSError:
                pass
            print(f"note: {run}: its filesystem takes no file locks ({e.strerror or e}); nothing keeps a second "
                  "ponder process from using this directory at the same time", file=sys.stderr)
            return False
        try:  # the file the holder removed as it let go (locked by us, but no longer the lock): take the new one
            st, now = os.fstat(f.fileno()), os.stat(path)
            if (st.st_dev, st.st_ino) == (now.st_dev, now.st_ino):
                break
        except FileNotFoundError:
            pass
        f.close()
    f.truncate(0)
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f


def take_run_lock(run: str | os.PathLike) -> None:
    """Lock `run` now that it exists, where a locks_run function (or run_lock block) of this process asked for it
    before the directory was made; otherwise nothing."""
    entry = _HELD.get(os.path.abspath(run))
    if entry is not None and entry[0] is None and os.path.isdir(run):
        entry[0] = _flock(Path(run))


def release_run_lock(run: str | os.PathLike) -> None:
    """Let go of `run`'s lock early (before removing the directory); the enclosing block's end then does nothing.
    The file is removed while still locked, so a process that opened it meanwhile sees it gone and retries."""
    entry = _HELD.get(os.path.abspath(run))
    if entry is not None and entry[0] is not None:
        if entry[0] is not False:  # (False: a filesystem without locks, nothing held)
            try:
                os.unlink(Path(run) / LOCK)
            except OSError:
                pass
            entry[0].close()
        entry[0] = None


@contextmanager
def run_lock(run: str | os.PathLike):
    """Hold `run`'s lock while the block runs (PonderError at once if another process holds it). A directory
    not there yet is locked by take_run_lock once made. Nested blocks on one directory share the lock."""
    key = os.path.abspath(run)
    entry = _HELD.setdefault(key, [None, 0])
    entry[1] += 1
    try:
        take_run_lock(run)
        yield
    finally:
        entry[1] -= 1
        if entry[1] == 0:
            release_run_lock(run)
            del _HELD[key]


def locks_run(param: str, when=None):
    """Decorator: the function's argument `param` (a run directory; None: no lock) is locked while it runs, when
    `when(arguments)` is true (None: always)."""
    def deco(fn):
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def locked(*args, **kwargs):
            try:
                a = sig.bind(*args, **kwargs).arguments
            except TypeError:  # (the call's own TypeError, from the function)
                return fn(*args, **kwargs)
            run = a.get(param)
            if not isinstance(run, (str, os.PathLike)) or not os.fspath(run) or (when is not None and not when(a)):
                return fn(*args, **kwargs)
            with run_lock(run):
                return fn(*args, **kwargs)
        return locked
    return deco
