"""The helper-process pool (most of its tests are in test_verify_math.py, which uses it)."""

import os

from ponder.verify import bounded
from ponder.verify.bounded import WorkerPool


def test_worker_pool_works_with_descriptors_numbered_past_1024():
    """select() refuses a descriptor numbered 1024 or more: in a process with that many files open (a long
    training run), every call came back ("error", "worker failed: ValueError") and every math check with it."""
    fds = []
    try:
        while not fds or fds[-1] < 1100:
            fds.append(os.open(os.devnull, os.O_RDONLY))
        pool = WorkerPool(max_workers=1)
        try:
            assert pool.call("os:getpid", (), 30)[0] == "ok"
            assert pool.call("time:sleep", (5,), 0.2) == ("timeout", None)  # still bounded
        finally:
            pool.close()
    finally:
        for fd in fds:
            os.close(fd)


def test_a_worker_that_cannot_start_is_an_error_not_a_timeout(monkeypatch):
    """A worker the system refuses to start (out of processes or open files) was reported as a "timeout": the
    verdicts said to raise the timeout, which could never help."""
    def refuse(*args, **kwargs):
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(bounded.subprocess, "Popen", refuse)
    pool = WorkerPool(max_workers=1)
    try:
        assert pool.call("os:getpid", (), 5) == ("error", "could not start a worker: Too many open files")
        assert pool.warmup(1, timeout=5) is False
    finally:
        pool.close()


def test_a_reply_the_caller_cannot_unpickle_is_an_error_not_an_exception():
    """`call` never raises for worker failures, yet a reply of a class only the worker has (a version or module
    that differs between the two interpreters) raised AttributeError out of pickle.loads into the caller."""
    only_in_worker = ("[setattr(__import__('__main__'), 'OnlyInWorker', type('OnlyInWorker', (), "
                      "{'__module__': '__main__'})), __import__('__main__').OnlyInWorker()][1]")
    pool = WorkerPool(max_workers=1)
    try:
        assert pool.call("builtins:eval", (only_in_worker,), 30) == ("error", "worker failed: AttributeError")
        assert pool.call("operator:add", (1, 2), 30) == ("ok", 3)  # and the pool goes on
    finally:
        pool.close()


def test_a_call_out_of_time_before_its_job_is_sent_keeps_the_worker():
    """A call whose deadline had passed by the time it got a worker (a zero timeout, or a long wait for a busy pool)
    still sent the job and killed the idle worker as "mid-job": under contention every late caller killed a worker,
    and each restart (seconds of SymPy import) made more calls time out."""
    pool = WorkerPool(max_workers=1)
    try:
        pid = pool.call("os:getpid", (), 30)[1]
        assert pool.call("os:getpid", (), 0) == ("timeout", None)
        assert pool.call("os:getpid", (), 30) == ("ok", pid)  # the same worker, not a restarted one
    finally:
        pool.close()
