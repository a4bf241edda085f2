"""Run a function in a persistent helper process with a hard wall-clock bound.

Why a helper process: symbolic algebra (SymPy) has no cancellation points; a single `simplify`
or a power tower can run for minutes or exhaust memory. Signals (SIGALRM) only work in the main
thread and would clobber the caller's handlers; threads cannot be killed. A child process can
always be killed, so the caller waits at most its deadline and then kills and replaces the child.

Why `subprocess` and not `multiprocessing`: multiprocessing refuses to start children from a
daemonic process (e.g. a `multiprocessing.Pool` worker), and its fork start method is unsafe in
threaded callers. A plain `Popen` of `python -c ...` works from any thread, any process, any
event loop, and never touches signal handlers. Frames on the pipes are length-prefixed pickles;
only our own child writes them.

A worker announces itself ready after importing its `preload` modules (SymPy takes ~0.5 s), so a
call's deadline includes waiting for a cold worker: the bound is hard, and `WorkerPool.warmup`
exists for callers that want the start-up paid up front. A call that times out while its worker
is still starting leaves that worker starting (it is not mid-job), so later calls get it ready.
"""

from __future__ import annotations

import atexit
import math
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
import weakref

_HEADER = struct.Struct("!I")
_MAX_FRAME = 64 * 1024 * 1024
# Address-space cap for a worker, so a runaway big-integer computation fails with MemoryError
# instead of pushing the machine into swap before the deadline kills it.
_WORKER_MEMORY_BYTES = 4 * 1024**3
# One wait's longest sleep: select and Condition.wait overflow past ~292 years (1e10 s, an "unlimited" timeout
# failed every call with OverflowError); a longer timeout waits in turns.
_MAX_WAIT = 86400.0


def _seconds(timeout) -> float:
    # an int past float's range (10**400) is no limit, as float("inf") is: float() raised OverflowError on it;
    # NaN is no time (select raised ValueError on a NaN deadline)
    try:
        t = float(timeout)
    except OverflowError:
        return float("inf") if timeout > 0 else float("-inf")
    return 0.0 if math.isnan(t) else t


# The child imports this module without running `ponder/__init__.py` (which imports torch and
# would add seconds to every worker start): the two parent packages are stubbed as bare namespaces.
# `-c` puts the caller's working directory first on the path: a sympy.py, random.py or select.py there (a
# user's folder) broke the worker, and every symbolic comparison came back as an error. It is dropped.
_CHILD_CODE = """
import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
import types
root = sys.argv[1]
for name, sub in (("ponder", "ponder"), ("ponder.verify", "ponder/verify")):
    m = types.ModuleType(name)
    m.__path__ = [root + "/" + sub]
    sys.modules[name] = m
from ponder.verify.bounded import _serve
_serve()
"""


def _package_root() -> str:
    # The directory that contains the `ponder` package, so the child imports the same code even
    # when ponder is not installed (tests run from a checkout).
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _Worker:
    """One child process plus the pipe ends the parent uses to talk to it."""

    def __init__(self, preload: tuple[str, ...]):
        env = dict(os.environ)
        root = _package_root()
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        # start_new_session: a Ctrl-C in the caller's terminal must not kill idle workers mid-frame.
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD_CODE, root, *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
            start_new_session=True,
        )
        self.rfd = self.proc.stdout.fileno()
        self.ready = False
        self.buf = bytearray()  # appended to in place: a bytes buffer rebuilt per 64 KiB chunk made a large reply quadratic

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, OSError):
            pass

    def send(self, data: bytes) -> None:
        self.proc.stdin.write(_HEADER.pack(len(data)) + data)
        self.proc.stdin.flush()

    def recv(self, deadline: float):
        """Next frame, or raise TimeoutError at the deadline / EOFError if the child died."""
        need = None
        # poll, not select: select refuses a descriptor numbered 1024 or more (ValueError), so in a process with
        # that many files open (a long training run) every call failed as "worker failed: ValueError"
        poller = select.poll()
        poller.register(self.rfd, select.POLLIN)
        while True:
            if need is None and len(self.buf) >= _HEADER.size:
                (need,) = _HEADER.unpack_from(self.buf)
                if need > _MAX_FRAME:
                    raise EOFError("frame too large")
            if need is not None and len(self.buf) >= _HEADER.size + need:
                data = bytes(self.buf[_HEADER.size : _HEADER.size + need])
                del self.buf[: _HEADER.size + need]
                return pickle.loads(data)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if not poller.poll(math.ceil(min(left, _MAX_WAIT) * 1000)):
                continue  # (the deadline is checked above)
            chunk = os.read(self.rfd, 1 << 16)
            if not chunk:
                raise EOFError("worker exited")
            self.buf += chunk


class WorkerPool:
    """A small set of persistent worker processes; `call` never outlives its timeout.

    Thread-safe: each call takes an idle worker (starting one if fewer than `max_workers` exist),
    so up to `max_workers` calls run in parallel and further callers wait, their wait counting
    against their own deadline.
    """

    def __init__(self, preload: tuple[str, ...] = (), max_workers: int | None = None):
        self.preload = tuple(preload)
        self.max_workers = max(1, max_workers or min(4, os.cpu_count() or 1))
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()  # handed to a call; close() must reach these too
        self._count = 0
        self._pid = os.getpid()
        atexit.register(self.close)
        _POOLS.add(self)

    def _check_fork(self) -> None:
        # A forked child inherits our pipes to the parent's workers; using them would interleave
        # frames with the parent. Forget them (they belong to the parent) and start afresh.
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._idle = []
            self._busy = set()
            self._count = 0
            self._cond = threading.Condition()

    def _acquire(self, deadline: float) -> _Worker | OSError | None:
        """An idle or new worker; None at the deadline; the OSError when a new one could not be started."""
        with self._cond:
            self._check_fork()
            while True:
                while self._idle:
                    w = self._idle.pop()
                    if w.proc.poll() is not None:
                        # died while idle (the OOM killer, a kill by hand): its pipe is broken, and sending it
                        # the job failed the call with an error verdict; start a fresh one instead
                        w.kill()  # (already reaped: this only closes its pipes)
                        self._count -= 1
                        continue
                    self._busy.add(w)
                    return w
                if self._count < self.max_workers:
                    self._count += 1
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, _MAX_WAIT))
        try:
            w = _Worker(self.preload)
        except OSError as e:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            return e
        with self._cond:
            self._busy.add(w)
        return w

    def _release(self, w: _Worker, ok: bool) -> None:
        if ok and w.proc.poll() is not None:  # killed by close() just after it answered: not reusable
            ok = False
        if not ok:
            w.kill()
        with self._cond:
            if os.getpid() != self._pid:
                return
            self._busy.discard(w)
            if ok:
                self._idle.append(w)
            else:
                self._count -= 1
            self._cond.notify()

    def call(self, target: str, args: tuple, timeout: float) -> tuple[str, object]:
        """Run `module:function(*args)` in a worker. Returns ("ok", result), ("timeout", None)
        or ("error", message). Never raises for worker failures; never waits past `timeout`."""
        deadline = time.monotonic() + max(0.0, _seconds(timeout))
        # Replies are capped at _MAX_FRAME; arguments are too: writing them is not bounded by the deadline
        # (the write blocks until the child has read it all), so a huge one made the call overrun its timeout.
        data = pickle.dumps((target, args), protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) > _MAX_FRAME:
            return ("error", f"arguments too large ({len(data)} bytes pickled, at most {_MAX_FRAME})")
        w = self._acquire(deadline)
        if w is None:
            return ("timeout", None)
        if isinstance(w, OSError):  # (it was a "timeout": a user raised the timeout, not the open-files limit)
            return ("error", f"could not start a worker: {w.strerror or w}")
        ok = False
        try:
            if not w.ready:
                try:
                    tag, _ = w.recv(deadline)
                except TimeoutError:
                    # Still starting, not mid-job: keep it so the next call finds it further along.
                    # Killing it here meant a timeout shorter than the start-up never succeeded.
                    ok = True
                    raise
                if tag != "ready":
                    return ("error", "worker did not start")
                w.ready = True
            if deadline <= time.monotonic():  # out of time before the job is sent: the worker stays idle, kept
                ok = True
                return ("timeout", None)
            w.send(data)
            tag, value = w.recv(deadline)
            ok = True
            return (tag, value)
        except TimeoutError:
            return ("timeout", None)
        except Exception as e:  # unpickling a reply can raise anything (a class the caller lacks: AttributeError)
            return ("error", f"worker failed: {type(e).__name__}")
        finally:
            # Any exit without a complete answer (timeout, crash, KeyboardInterrupt) leaves the
            # worker mid-job: kill it rather than reuse it.
            self._release(w, ok)

    def warmup(self, n: int = 1, timeout: float = 30.0) -> bool:
        """Start up to `n` workers and wait until they have imported their preload modules."""
        deadline = time.monotonic() + _seconds(timeout)
        got: list[_Worker] = []
        try:
            for _ in range(min(n, self.max_workers)):
                w = self._acquire(deadline)
                if w is None or isinstance(w, OSError):
                    return False
                got.append(w)
            for w in got:
                if not w.ready:
                    tag, _ = w.recv(deadline)
                    w.ready = tag == "ready"
            return all(w.ready for w in got)
        except (TimeoutError, EOFError, OSError, pickle.UnpicklingError):
            for w in got:
                w.ready = False
            return False
        finally:
            for w in got:
                self._release(w, w.ready)

    def close(self) -> None:
        with self._cond:
            if os.getpid() != self._pid:
                return
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            busy = list(self._busy)
        for w in idle:
            w.kill()
        # A call still in flight at exit (a daemon thread's) must not leave its worker computing
        # after we are gone; the call itself sees the worker die and cleans up after it.
        for w in busy:
            try:
                w.proc.kill()
            except OSError:
                pass


# A fork while another thread held a pool's lock (a call starting or ending) left that lock held forever in the
# child: its first call hung, past any timeout. The child resets its pools as the fork returns, before it runs on.
_POOLS: weakref.WeakSet = weakref.WeakSet()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: [p._check_fork() for p in list(_POOLS)])


def _serve() -> None:
    """Child main loop: preload modules, say ready, then answer (target, args) frames forever."""
    import importlib

    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_WORKER_MEMORY_BYTES, _WORKER_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass
    out_fd = os.dup(1)
    # Library prints must not corrupt the frame stream: point fd 1 at stderr (/dev/null).
    os.dup2(2, 1)
    inp = sys.stdin.buffer
    out = os.fdopen(out_fd, "wb")

    def send(obj) -> None:
        try:
            data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # an unpicklable result is the worker's failure, not the caller's
            data = pickle.dumps(("error", f"unpicklable result: {type(e).__name__}"))
        out.write(_HEADER.pack(len(data)) + data)
        out.flush()

    parent = os.getppid()

    def watchdog() -> None:
        # If the caller dies while we compute, nobody will kill us: exit on our own.
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    for name in sys.argv[2:]:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    send(("ready", None))
    while True:
        head = inp.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        (n,) = _HEADER.unpack(head)
        data = inp.read(n)
        if len(data) < n:
            return
        try:
            target, args = pickle.loads(data)
            mod_name, fn_name = target.split(":")
            fn = getattr(importlib.import_module(mod_name), fn_name)
            send(("ok", fn(*args)))
        except MemoryError:
            send(("error", "MemoryError"))
        except Exception as e:
            send(("error", f"{type(e).__name__}: {str(e)[:200]}"))
