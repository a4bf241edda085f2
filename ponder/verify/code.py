"""Run a model's Python program against tests in a sandbox and decide pass/fail from evidence it cannot forge.

Process tree (Linux only)::

    caller ──► unshare --net --pid --mount-proc --fork --kill-child  (new session; the caller's process group
                 └─► harness  (PID 1 of a fresh PID namespace; trusted: it never runs untrusted code)
                       └─► child per run  (rlimits, cleared env, fresh temp cwd, unprivileged uid; runs the program)

Isolation is detected at runtime (first call, cached per process) and reported by `sandbox_info()`:

* ``namespaces`` (used when `unshare` works; as root, or through a user namespace otherwise): a new network
  namespace (no interfaces but a downed loopback: every connect fails), a new PID namespace with its own /proc
  (the program cannot see, signal or ptrace the caller: `os.getppid()` is the harness, PID 1, which ignores
  signals from inside its namespace), and when the caller is root the child drops to a random unused uid/gid, so
  it cannot write files it does not own, cannot signal the harness, cannot read its own /proc/self/mem (not
  dumpable), and RLIMIT_NPROC (which the kernel does not enforce for root) counts only this run's processes. When
  the interpreter lives under a directory other uids cannot traverse (e.g. /root/.pyenv under a 0700 /root), the
  harness covers that directory, in the private mount namespace only, with a tmpfs holding bind mounts of just the
  interpreter's directories, so the child can import the stdlib and sees nothing else of /root.
* ``audit`` (fallback when namespaces are refused): a `sys.addaudithook` hook in the child that ends the child
  (exit 97, reason "sandbox violation") on socket use, signals to other processes, ctypes, subprocess/exec/spawn,
  and writes/renames/removals outside the sandbox directory; the uid drop when root and the interpreter is
  reachable by other uids, otherwise fork is refused too (root ignores RLIMIT_NPROC). Audit hooks are a
  Python-level fence: weaker than the kernel one, which is why it is only the fallback.

The choice is made by running a real probe check in each candidate, first that works wins; `isolation=` forces
one (tests use it to exercise the fallback on machines where namespaces work).

Both: RLIMIT_CPU, RLIMIT_AS, RLIMIT_NPROC, RLIMIT_FSIZE, RLIMIT_NOFILE, no core files; the harness kills every
process of the run at the wall-clock timeout (PID 1 `kill(-1)` inside the namespace; a uid-wide kill from a helper
with the sandbox uid in audit mode; the caller kills the whole `unshare` process group as a last resort).

Why the verdict cannot be forged: the expected values never enter the sandbox. Stdin/stdout cases send only the
input; the caller compares the captured output. Assert tests are rewritten with `ast` in the caller: each
``assert`` becomes ``__ponder_check__(i, lambda: <operand>, ...)`` where only the non-literal operands travel to
the sandbox; literal expected values (``assert f(2) == 4`` → the ``4``) stay in the caller. The child serialises
each operand (plain builtins only: ``type(v) is int``, not a subclass; an object with an always-true ``__eq__`` is
not serialisable and fails), and the CALLER rebuilds the values and applies ``==``/``<``/``in``/``not``/``and``...
itself. A test passes only if it was reported at least once and every report passed. Exit status 0 counts for
nothing; the result channel of the harness is closed in the child before the program starts, and the harness
echoes a per-run nonce. Residual weakness: an assert whose operands are ALL computed in the sandbox (e.g.
``assert f(x) == g(x)``) could be forged by a program that rewrites the child's reporting code through `gc`;
literal-expected asserts and stdio cases cannot.

Not covered: the child can read world-readable files (keep gold datasets out of reach, e.g. mode 0600 when
running as root) and can create files in world-writable directories such as /tmp (existing files of others stay
untouched); disk use is bounded per file (RLIMIT_FSIZE), not in total.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from ponder.errors import PonderError
from ponder.verify.verdict import Verdict

MAX_CODE_CHARS = 256_000  # a longer "program" is a degenerate completion, not a solution
MAX_REPORT_BYTES = 16 << 20  # assert reports from one run
MEMORY_MB = 1024
NPROC = 32  # processes + threads of one run (its own uid), enough for a thread pool, not for a fork bomb
FSIZE_MB = 16
VIOLATION_EXIT = 97

_FENCE = re.compile(r"```([^\n`]*)\n(.*?)```", re.DOTALL)
_PY_LANGS = {"", "python", "py", "python3", "py3"}


def extract_code(completion: str) -> str | None:
    """The last fenced block tagged python (or untagged); None if there is none."""
    blocks = [m.group(2) for m in _FENCE.finditer(completion) if m.group(1).strip().lower() in _PY_LANGS]
    return blocks[-1] if blocks else None


# ---------------------------------------------------------------- the harness (runs inside the sandbox)

# Sent with `python -I -X utf8 -c`. It is PID 1 of the namespace; it forks one child per run and only reads
# what children write, so nothing the program does can change what the harness tells the caller.
_HARNESS = r'''
import builtins, json, os, resource, select, signal, sys, time

def read_all(fd):
    parts = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            return b"".join(parts)
        parts.append(b)

def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]

def describe(e):
    try:
        return (type(e).__name__ + ": " + str(e))[:300]
    except BaseException:
        return "error"

def enc(v, depth=0, _type=type, _hex=hex, _len=len):
    # plain builtins only; exact type checks so subclasses and user objects cannot pose as values
    t = _type(v)
    if depth > 100:
        raise ValueError("value nested too deeply")
    if v is None:
        return ["N"]
    if t is bool:
        return ["b", v]
    if t is int:
        return ["i", _hex(v)]
    if t is float:
        return ["f", v.hex()]
    if t is complex:
        return ["c", v.real.hex(), v.imag.hex()]
    if t is str:
        return ["s", v]
    if t is bytes:
        return ["y", v.hex()]
    if t is list or t is tuple or t is set or t is frozenset:
        tag = {list: "l", tuple: "t", set: "S", frozenset: "F"}[t]
        return [tag, [enc(x, depth + 1) for x in v]]
    if t is dict:
        return ["d", [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in v.items()]]
    raise TypeError("not a plain builtin value: " + str(t.__name__)[:60])

def audit_hook(root, pid_ok, nofork):
    # fallback fence when namespaces are unavailable; ends the process on the first violation
    blocked = ("socket.", "ctypes.", "subprocess.", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
               "os.fork_exec", "pty.") + (("os.fork", "os.forkpty") if nofork else ())
    writes = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate",
              "os.symlink", "os.link", "os.utime", "shutil.rmtree", "os.replace", "os.unlink"}
    rp, ex, wr = os.path.realpath, os._exit, os.write
    def inside(p):
        try:
            p = os.fsdecode(p) if not isinstance(p, int) else None
        except Exception:
            return False
        if p is None:
            return True
        r = rp(p)
        return r == root or r.startswith(root + "/")
    def hook(event, args):
        bad = event.startswith(blocked)
        if event in ("os.kill", "os.killpg") and args and args[0] not in pid_ok():
            bad = True
        elif event == "import" and args and args[0] in ("_posixsubprocess", "_ctypes"):
            bad = True
        elif event == "open" and len(args) >= 2:
            mode, flags = args[1], args[2] if len(args) > 2 else 0
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))
            if writing and not inside(args[0]):
                bad = True
        elif event in writes and args and not all(inside(a) for a in args[:2] if isinstance(a, (str, bytes))):
            bad = True
        if bad:
            try:
                wr(2, ("ponder-sandbox-violation: " + event + "\n").encode())
            finally:
                ex(97)
    return hook

def run_program(spec):
    B = builtins
    code = spec["code"]
    g = {"__name__": "__main__", "__builtins__": B}
    if spec["mode"] == "stdio":
        status = 0
        out = sys.stdout
        try:
            exec(compile(code, "<solution>", "exec"), g)
        except SystemExit as e:
            c = e.code
            if c is None:
                status = 0
            elif type(c) is int:
                status = c & 0xFF
            else:
                status = 1
        except BaseException as e:
            write_all(2, (describe(e) + "\n").encode("utf-8", "replace"))
            status = 1
        for f in (sys.stdout, out):
            try:
                f.flush()
            except BaseException:
                status = status or 1
        os._exit(status)
    # assert mode: reports go to fd 3, whose reader is the harness
    wr, dumps, ex = os.write, json.dumps, os._exit
    def emit(obj):
        data = (dumps(obj) + "\n").encode()
        while data:
            data = data[wr(3, data):]
    saved = dict(B.__dict__)
    try:
        exec(compile(code, "<solution>", "exec"), g)
    except BaseException as e:
        emit({"crash": describe(e)})
        ex(1)
    def check(i, *leaves):
        vals = []
        for f in leaves:
            try:
                vals.append(["ok", enc(f())])
            except BaseException as e:
                vals.append(["err", describe(e)])
        emit({"t": i, "v": vals})
    for k, src in enumerate(spec["stmts"]):
        # undo monkeypatching of builtins (print, AssertionError, isinstance...) before every test statement
        B.__dict__.clear()
        B.__dict__.update(saved)
        g["__ponder_check__"] = check
        try:
            exec(compile(src, "<test>", "exec"), g)
        except BaseException as e:
            emit({"stmt": k, "err": describe(e)})
    emit({"done": True})
    ex(0)

def child(spec, fd_in, w_out, w_err, w_rep):
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(fd_in, 0)
    os.dup2(w_out if w_out is not None else null, 1)
    os.dup2(w_err, 2)
    keep = 3
    if w_rep is not None:
        os.dup2(w_rep, 3)
        keep = 4
    os.closerange(keep, 1 << 16)  # includes the harness's channel to the caller: unreachable from here on
    os.setsid()
    cpu = spec["cpu"]
    for lim, val in ((resource.RLIMIT_CPU, (cpu, cpu + 1)), (resource.RLIMIT_AS, (spec["mem"],) * 2),
                     (resource.RLIMIT_NPROC, (spec["nproc"],) * 2), (resource.RLIMIT_FSIZE, (spec["fsize"],) * 2),
                     (resource.RLIMIT_NOFILE, (256, 256)), (resource.RLIMIT_CORE, (0, 0))):
        resource.setrlimit(lim, val)
    uid = spec["uid"]
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    if not spec["pidns"]:
        try:  # a credential change clears the parent-death signal; set it again so the child dies with us
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
        except Exception:
            pass
    if spec["audit"]:
        root = os.path.realpath(os.getcwd())
        me = os.getpid()
        sys.addaudithook(audit_hook(root, lambda: (me, os.getpid(), 0, -me), spec["nofork"]))
    run_program(spec)

def expose_python(extra):
    # The unprivileged child must reach the interpreter's files. A directory such as /root (0700) on the way
    # is covered, in this private mount namespace only, by a 0755 tmpfs into which exactly the needed
    # directories are bind-mounted back (through /proc/self/fd, since the tmpfs hides their old paths).
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    def mount(src, dst, fstype, flags, data):
        args = [x.encode() if x is not None else None for x in (src, dst, fstype)]
        if libc.mount(args[0], args[1], args[2], flags, data.encode() if data else None) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e) + ": mount " + dst)
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path, *extra]
    needed = sorted({os.path.abspath(p) for p in paths if p and os.path.isdir(p)})
    tops = []
    for p in needed:
        if not any(p == t or p.startswith(t + "/") for t in tops):
            tops.append(p)
    blockers = set()
    for p in tops:
        parts = p.split("/")
        for i in range(2, len(parts)):  # strict ancestors only
            a = "/".join(parts[:i])
            if not os.stat(a).st_mode & 0o001:
                blockers.add(a)
                break
    blockers = [b for b in blockers if not any(b.startswith(o + "/") for o in blockers)]
    moved = [p for p in tops if any(p.startswith(b + "/") for b in blockers)]
    if not moved:
        return
    fds = [os.open(p, os.O_PATH | os.O_DIRECTORY) for p in moved]
    for b in blockers:
        mount("tmpfs", b, "tmpfs", 2 | 4, "mode=755,size=1m")  # MS_NOSUID | MS_NODEV
    for p, fd in zip(moved, fds):
        os.makedirs(p, 0o755, exist_ok=True)
        mount("/proc/self/fd/%d" % fd, p, None, 4096 | 16384, None)  # MS_BIND | MS_REC
        os.close(fd)

def kill_all(spec, pid):
    if spec["pidns"] and os.getpid() == 1:  # never kill(-1) unless we really are init of our own namespace
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
    elif spec["uid"] is not None:
        h = os.fork()
        if h == 0:
            try:
                os.setgid(spec["uid"])
                os.setuid(spec["uid"])
                os.kill(-1, signal.SIGKILL)  # every process of the sandbox uid, and nothing else
            finally:
                os._exit(0)
        os.waitpid(h, 0)
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass

def run_case(spec, case):
    stdio = spec["mode"] == "stdio"
    r_err, w_err = os.pipe()
    r_out, w_out = os.pipe() if stdio else (None, None)
    r_rep, w_rep = (None, None) if stdio else os.pipe()
    if case.get("input") is not None:
        fd_in = os.memfd_create("stdin")
        write_all(fd_in, case["input"].encode("utf-8", "replace"))
        os.lseek(fd_in, 0, 0)
    else:
        fd_in = os.open(os.devnull, os.O_RDONLY)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            child(spec, fd_in, w_out, w_err, w_rep)
        finally:
            os._exit(70)
    for fd in (w_err, w_out, w_rep, fd_in):
        if fd is not None:
            os.close(fd)
    caps = {r_err: 4096, r_out: case.get("cap", 0), r_rep: spec["report_cap"]}
    bufs = {fd: [] for fd in (r_err, r_out, r_rep) if fd is not None}
    sizes = dict.fromkeys(bufs, 0)
    over = set()
    live = set(bufs)
    deadline = start + spec["timeout"]
    status, timed_out = None, False

    def drain(wait):
        ready = select.select(list(live), [], [], wait)[0] if live else []
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                live.discard(fd)
            elif sizes[fd] < caps[fd] or fd == r_err:
                bufs[fd].append(chunk)
                sizes[fd] += len(chunk)
                if fd == r_err and sizes[fd] > 8192:  # keep the tail of stderr only
                    tail = b"".join(bufs[fd])[-4096:]
                    bufs[fd], sizes[fd] = [tail], len(tail)
                elif sizes[fd] > caps[fd] and fd != r_err:
                    over.add(fd)
            else:
                over.add(fd)
        return ready

    while True:
        now = time.monotonic()
        if now >= deadline:
            timed_out = True
            break
        if live:
            drain(min(deadline - now, 0.05))
        else:
            time.sleep(min(deadline - now, 0.005))
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid:
            status = st
            break
    while live and time.monotonic() < deadline and drain(0):  # what the child wrote before it ended
        pass
    kill_all(spec, pid)
    if status is None:
        status = os.waitpid(pid, 0)[1]
    if spec["pidns"] and os.getpid() == 1:
        while True:  # reap orphans re-parented to us
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
    for fd in bufs:
        os.close(fd)
    code = os.waitstatus_to_exitcode(status)
    if code == -signal.SIGXCPU:
        timed_out = True
    text = lambda fd: b"".join(bufs[fd]).decode("utf-8", "replace") if fd is not None else None
    return {"status": code, "timeout": timed_out, "seconds": round(time.monotonic() - start, 4),
            "stdout": text(r_out), "stderr": text(r_err)[-2000:], "report": text(r_rep),
            "overflow": bool(over - {r_err})}

def main():
    spec = json.loads(read_all(0))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    if spec["uid"] is not None and spec["pidns"]:
        expose_python([spec["cwd"]])
    os.chdir(spec["cwd"])
    runs = []
    for case in spec["cases"]:
        r = run_case(spec, case)
        runs.append(r)
        if r["timeout"] or r["status"] != 0:
            break  # a failed case decides the verdict; do not spend the time on the rest
    write_all(1, json.dumps({"nonce": spec["nonce"], "runs": runs}).encode())

main()
'''


# ---------------------------------------------------------------- isolation detection

_ROOT_FLAGS = ["--net", "--pid", "--mount-proc", "--fork", "--kill-child"]
_USER_FLAGS = ["--user", "--map-root-user", *_ROOT_FLAGS]
_iso_lock = threading.Lock()
_iso: dict | None = None


def _candidates() -> list[dict]:
    root = os.geteuid() == 0
    unshare = shutil.which("unshare")
    out = []
    if unshare:
        flags = _ROOT_FLAGS if root else _USER_FLAGS
        desc = "network+PID+mount namespaces (unshare" + ("" if root else ", user namespace") + ")"
        out.append({"name": "namespaces", "prefix": [unshare, *flags], "pidns": True, "audit": False,
                    "uid_drop": root, "description": desc})
    # without a mount namespace an unprivileged child can only run if it can reach the interpreter's files
    out.append({"name": "audit", "prefix": [], "pidns": False, "audit": True,
                "uid_drop": root and _python_reachable(), "description": "sys.addaudithook fence (no namespaces)"})
    for c in out:
        if c["uid_drop"]:
            c["description"] += ", unprivileged random uid"
    return out


def _python_reachable() -> bool:
    """Whether a process of another uid can traverse to every directory the interpreter imports from."""
    for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path}:
        p = os.path.abspath(p or ".")
        parts = p.split("/")
        for i in range(2, len(parts) + 1):
            try:
                if not os.stat("/".join(parts[:i])).st_mode & 0o001:
                    return False
            except OSError:
                break
    return True


def _isolation(name: str = "auto") -> dict:
    """The isolation to use: probed once per process by running a tiny real check in each candidate."""
    global _iso
    cands = _candidates()
    if name != "auto":
        for c in cands:
            if c["name"] == name:
                return c
        raise PonderError(f"code sandbox: isolation {name!r} is not available here; "
                          f"choose from {['auto'] + [c['name'] for c in cands]}")
    with _iso_lock:
        if _iso is None:
            for c in cands:
                # a real run, including an import the harness has not made: it proves the child reaches the stdlib
                v = _run_checked("import fractions\nx = int(fractions.Fraction(41))\n", "assert x + 1 == 42",
                                 timeout=10.0, iso=c)
                if v.correct:
                    _iso = c
                    break
            else:
                raise PonderError(f"code sandbox: no isolation works on this machine "
                                  f"(tried {[c['name'] for c in cands]}; last: {v.reason})")
        return _iso


def sandbox_info() -> dict:
    """Which isolation `check_code` uses on this machine (probes on first call)."""
    c = _isolation()
    return {"isolation": c["name"], "description": c["description"], "pid_namespace": c["pidns"],
            "audit_hook": c["audit"], "uid_drop": c["uid_drop"]}


# ---------------------------------------------------------------- tests: rewriting and judging

_OPS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
        ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not}
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
# Pure builtins the CALLER applies to rebuilt plain values, so `abs(f(x) - 2.0) < 1e-6` or
# `sorted(f(x)) == [1, 2]` is decided outside the sandbox: an object whose `__sub__` returns 0.0 never gets
# that far, because f(x) alone must serialise as a plain value.
_FUNCS = {"abs": abs, "len": len, "sorted": sorted, "set": set, "frozenset": frozenset, "list": list,
          "tuple": tuple, "min": min, "max": max, "sum": sum, "round": round, "int": int, "float": float,
          "str": str, "bool": bool, "any": any, "all": all, "math.isclose": math.isclose, "math.fabs": math.fabs,
          "math.floor": math.floor, "math.ceil": math.ceil}
_SINGLETONS = (None, True, False)
_MAX_BITS = 1 << 20  # caller-side arithmetic on values the program chose: keep it cheap
_MAX_LEN = 10_000_000


def _literal(expr: ast.expr):
    try:
        return True, ast.literal_eval(expr)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _is_singleton(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and any(expr.value is s for s in _SINGLETONS)


def _func_name(e: ast.expr) -> str | None:
    if isinstance(e, ast.Name):
        return e.id
    if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name):
        return f"{e.value.id}.{e.attr}"
    return None


class _AssertRewriter(ast.NodeTransformer):
    """Replaces every `assert` with a report call; the caller keeps the literal parts and the logic."""

    def __init__(self, first_index: int):
        self.index = first_index
        self.trees: list = []

    def visit_Assert(self, node: ast.Assert):
        leaves: list[ast.expr] = []
        tree = self._expr(node.test, leaves)
        self.trees.append(tree)
        lam = [ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[],
                                             defaults=[]), body=leaf) for leaf in leaves]
        call = ast.Call(func=ast.Name("__ponder_check__", ast.Load()),
                        args=[ast.Constant(self.index), *lam], keywords=[])
        self.index += 1
        return ast.copy_location(ast.Expr(call), node)

    def _expr(self, e: ast.expr, leaves: list):
        ok, value = _literal(e)
        if ok:
            return ("const", value)
        if isinstance(e, ast.BoolOp):
            return ("and" if isinstance(e.op, ast.And) else "or", [self._expr(v, leaves) for v in e.values])
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            return ("not", self._expr(e.operand, leaves))
        if isinstance(e, ast.UnaryOp) and type(e.op) in _UNARY:
            return ("unary", type(e.op), self._expr(e.operand, leaves))
        if isinstance(e, ast.BinOp) and type(e.op) in _BINOPS:
            return ("bin", type(e.op), self._expr(e.left, leaves), self._expr(e.right, leaves))
        if isinstance(e, ast.Compare):
            parts = [e.left, *e.comparators]
            identity_ok = all(
                not isinstance(op, (ast.Is, ast.IsNot)) or _is_singleton(parts[i]) or _is_singleton(parts[i + 1])
                for i, op in enumerate(e.ops))
            if identity_ok:  # `is` on rebuilt values is only meaningful against None/True/False
                return ("cmp", [self._expr(p, leaves) for p in parts], [type(op) for op in e.ops])
        if (isinstance(e, ast.Call) and _func_name(e.func) in _FUNCS
                and not any(isinstance(a, ast.Starred) for a in e.args)
                and all(k.arg is not None and _literal(k.value)[0] for k in e.keywords)):
            kwargs = {k.arg: ast.literal_eval(k.value) for k in e.keywords}
            return ("call", _func_name(e.func), [self._expr(a, leaves) for a in e.args], kwargs)
        if isinstance(e, ast.Subscript) and not isinstance(e.slice, ast.Slice):
            return ("sub", self._expr(e.value, leaves), self._expr(e.slice, leaves))
        leaves.append(e)
        return ("leaf", len(leaves) - 1)


def _decode(x, depth: int = 0):
    """Rebuild a value the child serialised; anything malformed raises ValueError (the test fails)."""
    if depth > 100 or not isinstance(x, list) or not x or not isinstance(x[0], str):
        raise ValueError("malformed value")
    tag = x[0]
    try:
        if tag == "N":
            return None
        if tag == "b" and isinstance(x[1], bool):
            return x[1]
        if tag == "i" and isinstance(x[1], str):
            return int(x[1], 16)
        if tag == "f" and isinstance(x[1], str):
            return float.fromhex(x[1])
        if tag == "c":
            return complex(float.fromhex(x[1]), float.fromhex(x[2]))
        if tag == "s" and isinstance(x[1], str):
            return x[1]
        if tag == "y" and isinstance(x[1], str):
            return bytes.fromhex(x[1])
        if tag in ("l", "t", "S", "F") and isinstance(x[1], list):
            items = [_decode(i, depth + 1) for i in x[1]]
            return {"l": list, "t": tuple, "S": set, "F": frozenset}[tag](items)
        if tag == "d" and isinstance(x[1], list):
            return {_decode(k, depth + 1): _decode(v, depth + 1) for k, v in x[1]}
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    raise ValueError("malformed value")


class _TestFailed(Exception):
    pass


def _apply(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # e.g. 1 < "a", 1 / 0, [1][5]: a failed test, as in Python
        raise _TestFailed(type(e).__name__) from None


def _guard_cost(op, a, b) -> None:
    for x in (a, b):
        if type(x) is int and x.bit_length() > _MAX_BITS:
            raise _TestFailed("integer too large")
    if op is ast.Mult:
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, (str, bytes, list, tuple)) and type(n) is int and len(seq) * n > _MAX_LEN:
                raise _TestFailed("product too large")


def _eval_tree(tree, values: list):
    kind = tree[0]
    if kind == "const":
        return tree[1]
    if kind == "leaf":
        i = tree[1]
        if i >= len(values) or not isinstance(values[i], list) or len(values[i]) != 2:
            raise _TestFailed("missing value")
        status, payload = values[i]
        if status != "ok":
            raise _TestFailed(str(payload)[:200])
        try:
            return _decode(payload)
        except ValueError as e:
            raise _TestFailed(str(e)) from None
    if kind == "not":
        return not _eval_tree(tree[1], values)
    if kind in ("and", "or"):
        v = None
        for sub in tree[1]:  # short-circuit like Python; an operand the test never needed may have raised
            v = _eval_tree(sub, values)
            if bool(v) != (kind == "and"):
                return v
        return v
    if kind == "cmp":
        operands, ops = tree[1], tree[2]
        left = _eval_tree(operands[0], values)
        for op, right_tree in zip(ops, operands[1:]):
            right = _eval_tree(right_tree, values)
            if not _apply(_OPS[op], left, right):
                return False
            left = right
        return True
    if kind == "unary":
        return _apply(_UNARY[tree[1]], _eval_tree(tree[2], values))
    if kind == "bin":
        a, b = _eval_tree(tree[2], values), _eval_tree(tree[3], values)
        _guard_cost(tree[1], a, b)
        return _apply(_BINOPS[tree[1]], a, b)
    if kind == "call":
        args = [_eval_tree(a, values) for a in tree[2]]
        return _apply(_FUNCS[tree[1]], *args, **tree[3])
    if kind == "sub":
        return _apply(operator.getitem, _eval_tree(tree[1], values), _eval_tree(tree[2], values))
    raise _TestFailed("bad tree")


def _plan(tests) -> dict:
    """Normalise `tests` into a sandbox plan. Bad test data is the caller's bug: PonderError."""
    if isinstance(tests, dict) and "inputs" in tests and "outputs" in tests:  # APPS-style columns
        ins, outs = tests["inputs"], tests["outputs"]
        if not isinstance(ins, list) or not isinstance(outs, list) or len(ins) != len(outs):
            raise PonderError("code tests: 'inputs' and 'outputs' must be lists of equal length")
        tests = [{"input": i, "output": o} for i, o in zip(ins, outs)]
    if isinstance(tests, list) and tests and all(isinstance(t, dict) for t in tests):
        cases = []
        for k, t in enumerate(tests):
            if not isinstance(t.get("input"), str) or not isinstance(t.get("output"), str):
                raise PonderError(f"code tests: case {k + 1} needs string 'input' and 'output', got keys {sorted(t)}")
            cases.append(t)
        return {"mode": "stdio", "cases": cases}
    if isinstance(tests, str):
        chunks = [tests]
    elif isinstance(tests, list) and tests and all(isinstance(t, str) for t in tests):
        chunks = tests
    else:
        raise PonderError(f"code tests: expected assert source (str or list of str) or a list of "
                          f"{{'input','output'}} cases, got {type(tests).__name__}")
    stmts: list[str] = []
    trees: list = []
    for k, chunk in enumerate(chunks):
        try:
            mod = ast.parse(chunk)
        except SyntaxError as e:
            raise PonderError(f"code tests: test {k + 1} is not valid Python ({e.msg}, line {e.lineno})") from None
        rw = _AssertRewriter(len(trees))
        mod = rw.visit(mod)
        trees.extend(rw.trees)
        for stmt in mod.body:
            stmts.append(ast.unparse(ast.fix_missing_locations(ast.Module(body=[stmt], type_ignores=[]))))
    if not trees:
        raise PonderError("code tests: no assert statements found (a test that cannot fail checks nothing)")
    return {"mode": "assert", "stmts": stmts, "trees": trees}


def _normalise_output(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _judge_asserts(plan: dict, run: dict, code: str) -> Verdict:
    if run["timeout"]:
        return Verdict(False, code, "timeout")
    records = []
    for line in (run["report"] or "").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            records.append(rec)
    if run["status"] == VIOLATION_EXIT and "ponder-sandbox-violation" in run["stderr"]:
        return Verdict(False, code, "sandbox violation")
    if run["overflow"]:
        return Verdict(False, code, "output limit exceeded")
    if any("crash" in r for r in records) or not any(r.get("done") is True for r in records):
        return Verdict(False, code, "crashed")
    n = len(plan["trees"])
    seen = [0] * n
    ok = [True] * n
    for r in records:
        i = r.get("t")
        if type(i) is not int or not 0 <= i < n or not isinstance(r.get("v"), list):
            continue
        seen[i] += 1
        try:
            ok[i] = ok[i] and bool(_eval_tree(plan["trees"][i], r["v"]))
        except _TestFailed:
            ok[i] = False
    passed = [s > 0 and o for s, o in zip(seen, ok)]
    if not all(passed):
        return Verdict(False, code, f"failed test {passed.index(False) + 1}")
    if any("stmt" in r for r in records):
        return Verdict(False, code, "error in test code")
    return Verdict(True, code, f"passed {n}/{n}")


def _judge_stdio(plan: dict, runs: list, code: str) -> Verdict:
    n = len(plan["cases"])
    for k, case in enumerate(plan["cases"]):
        if k >= len(runs):
            return Verdict(False, code, f"failed test {k + 1}")
        run = runs[k]
        if run["timeout"]:
            return Verdict(False, code, "timeout")
        if run["status"] == VIOLATION_EXIT and "ponder-sandbox-violation" in run["stderr"]:
            return Verdict(False, code, "sandbox violation")
        if run["status"] != 0:
            return Verdict(False, code, "crashed")
        if run["overflow"] or _normalise_output(run["stdout"] or "") != _normalise_output(case["output"]):
            return Verdict(False, code, f"failed test {k + 1}")
    return Verdict(True, code, f"passed {n}/{n}")


# ---------------------------------------------------------------- running

def _sandbox_uid() -> int:
    # a fresh uid per run: no other process has it, so RLIMIT_NPROC and the uid-wide kill touch only this run
    return secrets.randbelow(1 << 29) + (1 << 20)


def _run_plan(code: str, plan: dict, *, timeout: float, iso: dict, memory_mb: int) -> Verdict:
    nonce = secrets.token_hex(16)
    uid = _sandbox_uid() if iso["uid_drop"] else None
    workdir = tempfile.mkdtemp(prefix="ponder-sbx-")
    if plan["mode"] == "stdio":
        cases = [{"input": c["input"], "cap": 2 * len(c["output"].encode("utf-8", "replace")) + 65536}
                 for c in plan["cases"]]
    else:
        cases = [{"input": None}]
    spec = {"nonce": nonce, "mode": plan["mode"], "code": code, "stmts": plan.get("stmts", []), "cases": cases,
            "timeout": float(timeout), "cpu": int(timeout) + 1, "mem": int(memory_mb) << 20, "nproc": NPROC,
            "fsize": FSIZE_MB << 20, "uid": uid, "pidns": iso["pidns"], "audit": iso["audit"],
            # root keeping its uid is exempt from RLIMIT_NPROC: then the audit fence refuses fork instead
            "nofork": iso["audit"] and uid is None and os.geteuid() == 0,
            "report_cap": MAX_REPORT_BYTES, "cwd": workdir}
    payload = json.dumps(spec).encode()
    # the caller's own deadline only matters if the harness itself wedges (e.g. a starved machine)
    wall = (float(timeout) + 1.0) * len(cases) + 30.0
    proc = None
    try:
        if uid is not None:
            os.chown(workdir, uid, uid)
        cmd = [*iso["prefix"], sys.executable, "-I", "-X", "utf8", "-c", _HARNESS]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={}, cwd=workdir, start_new_session=True, close_fds=True)
        try:
            out, err = proc.communicate(payload, timeout=wall)
        except subprocess.TimeoutExpired:
            return Verdict(False, code, "timeout")
    finally:
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    try:
        result = json.loads(out)
        assert result["nonce"] == nonce and isinstance(result["runs"], list) and result["runs"]
    except Exception:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return Verdict(False, code, f"sandbox error: {tail[0][:200]}")
    if plan["mode"] == "stdio":
        return _judge_stdio(plan, result["runs"], code)
    return _judge_asserts(plan, result["runs"][0], code)


def _run_checked(code: str, tests, *, timeout: float, iso: dict, memory_mb: int = MEMORY_MB) -> Verdict:
    return _run_plan(code, _plan(tests), timeout=timeout, iso=iso, memory_mb=memory_mb)


def check_code(completion, tests, *, timeout: float = 5.0, memory_mb: int = MEMORY_MB,
               isolation: str = "auto") -> Verdict:
    """Run the last ```python block of `completion` against `tests` in a sandbox.

    `tests`: assert source (a str, or a list of str, one or more statements each; every `assert` is one test) or
    stdin/stdout cases `[{"input": ..., "output": ...}]` (or APPS-style `{"inputs": [...], "outputs": [...]}`).
    `timeout` is wall-clock seconds per run: the whole assert program, or each stdio case. Bad completions give a
    Verdict with a reason, never an exception; bad `tests` raise PonderError. Reasons: "passed N/N",
    "failed test K", "timeout", "crashed", "sandbox violation", "no code block", "syntax error", "too long",
    "invalid completion", "output limit exceeded", "error in test code", "sandbox error: ...".
    """
    if not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        raise PonderError(f"check_code: timeout must be in (0, 600] seconds, got {timeout!r}")
    plan = _plan(tests)
    if not isinstance(completion, str):
        return Verdict(False, None, "invalid completion")
    code = extract_code(completion)
    if code is None:
        return Verdict(False, None, "no code block")
    if len(code) > MAX_CODE_CHARS:
        return Verdict(False, None, "too long")
    try:  # compiling is safe (nothing runs) and saves a sandbox start for code that cannot run
        compile(code, "<solution>", "exec", dont_inherit=True)
    except Exception:
        return Verdict(False, code, "syntax error")
    iso = _isolation(isolation)
    return _run_plan(code, plan, timeout=timeout, iso=iso, memory_mb=memory_mb)
