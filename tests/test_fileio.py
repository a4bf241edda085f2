"""Atomic writes (fileio and verify's output): errors name the user's path, never the temporary file; nothing
half-written is left behind; new files get the usual permissions (0666 less the umask), not mkstemp's 0600."""

import errno
import json
import os
import stat

import pytest

from ponder.errors import PonderError
from ponder.fileio import atomic_open, atomic_write_bytes, atomic_write_text
from ponder.verify.run import verify_file


def _umask():
    m = os.umask(0o022)
    os.umask(m)
    return m


def _no_tmp_left(d):
    return not [p.name for p in d.iterdir() if p.name.endswith(".tmp")]


def test_write_and_permissions(tmp_path):
    f = atomic_write_text(tmp_path / "a" / "b.txt", "hi")
    assert f.read_text() == "hi" and stat.S_IMODE(f.stat().st_mode) == 0o666 & ~_umask()


def test_empty_path_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PonderError, match="^empty output path$"):
        atomic_write_text("", "x")
    assert list(tmp_path.iterdir()) == []


def test_a_directory_is_named(tmp_path):
    (tmp_path / "adir").mkdir()
    with pytest.raises(PonderError) as e:
        atomic_write_text(tmp_path / "adir", "x")
    assert str(e.value) == f"{tmp_path / 'adir'}: is a directory"
    assert list((tmp_path / "adir").iterdir()) == [] and _no_tmp_left(tmp_path)


@pytest.mark.parametrize("sub", ["x.jsonl", "a/b/x.jsonl"])
def test_a_path_under_a_file_says_not_a_directory(tmp_path, sub):
    (tmp_path / "plain").write_text("keep")
    with pytest.raises(PonderError) as e:
        atomic_write_text(tmp_path / "plain" / sub, "x")
    assert str(e.value) == f"{tmp_path / 'plain' / sub}: {tmp_path / 'plain'} is not a directory"
    assert (tmp_path / "plain").read_text() == "keep"


def test_os_errors_name_the_users_path_not_the_temporary_file(tmp_path, monkeypatch):
    """A full disk at the rename (or anywhere): the user's path and the reason; the old file intact; no
    temporary file left. Still an OSError (with its errno) for callers that catch those."""
    target = tmp_path / "out.jsonl"
    target.write_text("old")

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", src)

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(PonderError) as e:
        atomic_write_bytes(target, b"new")
    assert str(e.value) == f"{target}: cannot write (No space left on device)"
    assert isinstance(e.value, OSError) and e.value.errno == errno.ENOSPC
    assert target.read_text() == "old" and _no_tmp_left(tmp_path)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_unwritable_directory_names_the_users_path():
    with pytest.raises(PonderError) as e:
        atomic_write_text("/proc/x.jsonl", "x")
    assert str(e.value).startswith("/proc/x.jsonl: cannot write (") and ".tmp" not in str(e.value)


def test_a_long_valid_name_is_written(tmp_path):
    """The temporary name is cut, so a name of the longest length allowed (255) is not refused."""
    name = "n" * 249 + ".jsonl"
    assert atomic_write_text(tmp_path / name, "x").read_text() == "x"


def test_a_long_valid_name_of_multibyte_characters_is_written(tmp_path):
    """The limit is 255 bytes: a name of 63 four-byte characters (252 bytes) fits, but its temporary name was cut
    at 80 characters (320 bytes) and refused as 'File name too long'."""
    name = "\N{GRINNING FACE}" * 63
    assert atomic_write_text(tmp_path / name, "x").read_text() == "x"


# ---- verify's own output ---------------------------------------------------------------------------------
def _completions(tmp_path):
    src = tmp_path / "c.jsonl"
    src.write_text("".join(json.dumps({"completion": f"so \\boxed{{{i}}}", "gold": str(i)}) + "\n"
                           for i in range(3)))
    return src


def test_verify_output_has_the_usual_permissions(tmp_path):
    src = _completions(tmp_path)
    s = verify_file("math", str(src), str(tmp_path / "v.jsonl"), workers=1, progress=False)
    out = tmp_path / "v.jsonl"
    assert s["correct"] == 3 and stat.S_IMODE(out.stat().st_mode) == 0o666 & ~_umask()
    assert _no_tmp_left(tmp_path)


def test_verify_output_errors_name_the_output(tmp_path, monkeypatch):
    src = _completions(tmp_path)
    (tmp_path / "od").mkdir()
    with pytest.raises(PonderError) as e:
        verify_file("math", str(src), str(tmp_path / "od"), workers=1, progress=False)
    assert str(e.value) == f"{tmp_path / 'od'}: is a directory"

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", src)

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(PonderError) as e:
        verify_file("math", str(src), str(tmp_path / "v.jsonl"), workers=1, progress=False)
    assert str(e.value) == f"{tmp_path / 'v.jsonl'}: cannot write (No space left on device)"
    assert not (tmp_path / "v.jsonl").exists() and _no_tmp_left(tmp_path)


def test_json_safe_makes_strict_json_of_non_finite_floats():
    """samples.jsonl, scaling.json: a scorer's -inf or a NaN bound is null, so strict readers can parse it."""
    import json

    from ponder.fileio import json_safe

    rec = {"info": {"scores": [float("-inf"), -1.5, float("nan")]}, "logprob_mean": float("inf"), "n": 3}
    assert json.loads(json.dumps(json_safe(rec), allow_nan=False)) == {
        "info": {"scores": [None, -1.5, None]}, "logprob_mean": None, "n": 3}


def test_overwriting_keeps_the_files_permissions_and_a_symlink(tmp_path):
    """A private file stays private, and a symlinked output (a dataset kept elsewhere) is written through:
    the link stays a link."""
    import os

    priv = tmp_path / "priv.jsonl"
    priv.write_text("old\n")
    priv.chmod(0o600)
    atomic_write_text(priv, "new\n")
    assert priv.read_text() == "new\n" and (priv.stat().st_mode & 0o777) == 0o600
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "t.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    atomic_write_text(link, "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"
    assert sorted(os.listdir(tmp_path / "real")) == ["t.jsonl"]  # no temporary file left beside it


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_check_writable_refuses_a_folder_that_takes_no_files_even_as_root(tmp_path):
    """os.access says yes to root for /proc: `data export -o /proc/x.jsonl` drew every problem, then failed at
    the write. The check creates (and removes) the file the write would; an ordinary folder keeps nothing."""
    from ponder.fileio import check_writable

    with pytest.raises(PonderError, match=r"^/proc/ponder-x\.jsonl: cannot write into /proc \("):
        check_writable("/proc/ponder-x.jsonl")
    assert check_writable(tmp_path / "sub" / "x.jsonl") == tmp_path / "sub" / "x.jsonl"
    assert list(tmp_path.iterdir()) == []


def test_counted_says_one_in_the_singular():
    """People's output read "1 problems" (eval), "1 of 1 items" (probe), "1 steps" (a run's summary)."""
    from ponder.fileio import counted

    assert [counted(n, "problem") for n in (0, 1, 2)] == ["0 problems", "1 problem", "2 problems"]
    assert counted(1, "kept teacher sample") == "1 kept teacher sample"
    assert counted(3, "child", "children") == "3 children" and counted(1, "child", "children") == "1 child"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_or_device_is_written_not_replaced(tmp_path):
    """A temporary file renamed over /dev/null, /dev/stdout or a named pipe replaced the device itself with a
    plain file (as root, /dev/null for every program); the reader got nothing. Such a path is written as it is."""
    from ponder.fileio import check_writable

    fifo = tmp_path / "out.jsonl"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # (open at once, so the write below does not block)
    try:
        assert check_writable(fifo) == fifo
        atomic_write_text(fifo, "{}\n")
        assert stat.S_ISFIFO(fifo.stat().st_mode) and os.read(reader, 100) == b"{}\n"
    finally:
        os.close(reader)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_a_descriptor_path_redirected_to_a_file_is_written_through_the_descriptor(tmp_path):
    """`-o /dev/stdout >> out.txt`: /dev/stdout leads to the regular file out.txt, which was replaced by a rename,
    so the descriptor (standard output: the program's later prints) wrote on into the unlinked old file."""
    f = tmp_path / "out.txt"
    fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)  # (as the shell's >> opens it)
    try:
        atomic_write_text(f"/dev/fd/{fd}", "rows\n")
        os.write(fd, b"more\n")  # (the program's next print: after what was written through the path)
        assert os.fstat(fd).st_ino == f.stat().st_ino and f.read_text() == "rows\nmore\n"
    finally:
        os.close(fd)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_new_files_follow_the_umask_in_force_when_they_are_written(tmp_path):
    """The umask was read once, at import (by setting it to 0 and back, which leaves other threads a window to
    create world-writable files): a program that tightened it afterwards still got files readable by all."""
    old = os.umask(0o077)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == 0o600
    finally:
        os.umask(old)
    atomic_write_text(tmp_path / "b.txt", "x")
    assert stat.S_IMODE(os.stat(tmp_path / "b.txt").st_mode) == 0o666 & ~old


def test_a_run_directory_is_held_by_one_process_at_a_time(tmp_path, hold_run):
    from ponder.fileio import run_lock

    f = hold_run(tmp_path)
    with pytest.raises(PonderError) as e:
        with run_lock(tmp_path):
            pass
    assert str(e.value) == (f"{tmp_path} is in use by another ponder process (pid 4242); wait for it or choose "
                            "another --out")
    f.close()  # (the holder ended: the kernel lets go of the lock, whatever the file says)
    with run_lock(tmp_path):
        with run_lock(tmp_path):  # (nested: distill's sft on its own run directory)
            assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"
        assert (tmp_path / ".lock").exists()
    assert not (tmp_path / ".lock").exists()  # nothing left behind in the run directory


def test_a_run_directory_on_a_filesystem_without_locks_runs_unguarded_and_says_so(tmp_path, monkeypatch, capsys):
    """Some network and FUSE mounts take no file locks: every run there failed with "[Errno 37] No locks
    available", naming nothing. It runs, said once, and leaves no .lock behind."""
    import ponder.fileio as fileio

    def no_locks(f, op):
        raise OSError(errno.ENOLCK, "No locks available")
    monkeypatch.setattr(fileio.fcntl, "flock", no_locks)
    with fileio.run_lock(tmp_path):
        fileio.take_run_lock(tmp_path)  # (as a run does once it has made its directory)
        with fileio.run_lock(tmp_path):  # (nested: distill's sft on its own run directory)
            pass
    assert capsys.readouterr().err == (f"note: {tmp_path}: its filesystem takes no file locks (No locks available); "
                                       "nothing keeps a second ponder process from using this directory at the same "
                                       "time\n")
    assert not (tmp_path / ".lock").exists()


def test_an_output_never_replaces_a_demo_directorys_files(tmp_path):
    """A demo's directory has no config.json of its own (its run is grpo/): `ponder verify -o DEMO/summary.json`
    and `data export -o DEMO/scaling.json` replaced the summary `ponder report DEMO` reads. Refused in one line;
    a summary.json in a directory that is no demo's is written as anywhere else."""
    from ponder.fileio import check_not_run_file

    demo = tmp_path / "demo"
    (demo / "grpo").mkdir(parents=True)
    (demo / "grpo" / "config.json").write_text(json.dumps({"kind": "grpo"}))
    for name in ("summary.json", "scaling.json"):
        (demo / name).write_text("{}")
        with pytest.raises(PonderError, match=f"{name}: is a file of a Ponder demo directory"):
            check_not_run_file(demo / name)
    other = tmp_path / "other"
    other.mkdir()
    (other / "summary.json").write_text("{}")
    check_not_run_file(other / "summary.json")


def test_an_output_through_a_link_never_replaces_a_runs_files(tmp_path):
    """atomic_open writes through a symlink to the file it links to: `ponder verify -o out.jsonl`, out.jsonl a link
    to a run's metrics.jsonl, replaced the run's metrics. The file linked to is what is checked."""
    from ponder.fileio import check_not_run_file

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"kind": "grpo"}))
    (run / "metrics.jsonl").write_text("{}\n")
    (tmp_path / "out.jsonl").symlink_to(run / "metrics.jsonl")
    with pytest.raises(PonderError, match=r"metrics.jsonl: is a file of a Ponder 'grpo' directory"):
        check_not_run_file(tmp_path / "out.jsonl")
    (tmp_path / "mine.jsonl").write_text("{}\n")
    (tmp_path / "out2.jsonl").symlink_to(tmp_path / "mine.jsonl")
    check_not_run_file(tmp_path / "out2.jsonl")  # a link to any other file: written as before


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="needs /dev/shm")
def test_a_file_in_dev_shm_is_replaced_atomically():
    """/dev/shm (a common scratch folder) holds regular files: one there was truncated and written in place, as a
    descriptor path is, so a crash mid-write left half a file. It is replaced by a rename, as anywhere else."""
    import tempfile

    fd, name = tempfile.mkstemp(dir="/dev/shm", prefix="ponder-test-")
    os.close(fd)
    try:
        before = os.stat(name).st_ino
        atomic_write_text(name, "new\n")
        assert os.stat(name).st_ino != before and open(name).read() == "new\n"
    finally:
        os.unlink(name)


@pytest.mark.parametrize("mode", ["a", "ab", "a+", "r+", "rb+", "x", "xb", "r"])
def test_a_mode_other_than_a_plain_write_is_refused_and_the_file_kept(tmp_path, mode):
    """atomic_open writes a new file and renames it over the old one: an append ("a"), an update ("r+") or an
    exclusive create ("x") silently replaced the file's content with only what the block wrote."""
    f = tmp_path / "log.txt"
    f.write_bytes(b"old\n")
    with pytest.raises(PonderError, match=repr(mode).replace("+", r"\+")):
        with atomic_open(f, mode) as fh:
            fh.write(b"new\n" if "b" in mode else "new\n")
    assert f.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt"]


@pytest.mark.parametrize("mode", ["w", "wb", "wt", "w+", "wb+"])
def test_a_plain_write_mode_replaces_the_file(tmp_path, mode):
    f = tmp_path / "out.txt"
    f.write_bytes(b"old\n")
    with atomic_open(f, mode, encoding=None if "b" in mode else "utf-8") as fh:
        fh.write(b"new\n" if "b" in mode else "new\n")
    assert f.read_bytes() == b"new\n"
