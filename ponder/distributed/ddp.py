"""Learner data parallelism with torch.distributed: every rank trains on its share of each batch.

The RL trainer (rl/trainer.py) takes a `DataParallel` as `dp=` and then, per optimizer step:
  * generates its contiguous share of the step's prompts with the engine's global `index_offset` and
    all-gathers the samples (`generate_fn`), and scores its share of the completions likewise
    (`score_fn`): every rank ends up holding exactly the rollout the single process would have drawn, so
    rewards, advantages, the curriculum and dynamic sampling are computed identically everywhere;
  * trains on its share of every minibatch (`share`); the loss divisors are counts over the whole
    minibatch, obtained by all-reducing each rank's `objective.normalizers` (`sum_counts`), so each rank's
    loss is its share of the global loss and the SUM of the ranks' gradients (`sync_grads`, before
    clipping) is the single-process gradient of the whole batch. Every rank then takes the same optimizer
    step on the same gradient, so the replicas stay identical without broadcasting weights.
    Equal to one process up to fp32 summation order, not bit for bit: the rollouts (token ids, rewards) are the
    same, the gradient is summed in another order (per-rank micro-batches, then the all-reduce), so losses and
    gradient norms agree to ~1e-6 relative and the weights to ~1e-6 absolute (`ponder grpo --model tiny` on 2 gloo
    ranks vs one process, 3 and 8 steps: max |dw| 9.1e-7); tests/test_distributed.py holds them to rtol 1e-4.
    Ranks spawned here and torchrun's give the same bits, and a resumed 2-rank run the uninterrupted one's.
  * only rank 0 writes the run directory (metrics, checkpoints) and runs the held-out evaluation.

Backends: gloo on CPU (tested here with 2 ranks), NCCL on GPU (the same code with tensors on the rank's
device; untested here: no GPU on the development machine).

FSDP2 (`ponder grpo --nproc N --fsdp`, `GRPOConfig.fsdp`): the learner's parameters, gradients and AdamW
state are sharded with `torch.distributed.fsdp.fully_shard` (`apply_fsdp2`). A sharded forward is a
collective, which ragged rank-sharded generation cannot be, so every rank also keeps an unsharded replica:
after each update the shards are all-gathered into it (`gather_weights`), and the replica generates,
evaluates (rank 0) and is saved; the optimizer state is gathered to rank 0 for the checkpoint
(`optimizer_state`) and sharded back on resume. Every rank makes as many forward/backward passes as the
busiest one (`reduce_ints` with MAX; the extra ones are zero-loss passes). Tested on CPU/gloo with 2 ranks: equal to
the single process, through a resume.

Launching: `ponder grpo --nproc N` spawns N local ranks (torch.multiprocessing, 127.0.0.1, meeting in a store
the driver serves); under `torchrun` (RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT set) the process is one rank
already. A process group the caller initialised before `train_ddp` is used and left initialised; Ponder destroys
only the groups it created.
A rank waits in a collective at most PONDER_DIST_TIMEOUT_S seconds (default 1800) for the others: raise it when
rank 0's held-out evaluation (--eval-n, long generations) or checkpoint takes longer.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

from ..errors import PonderError, headline
from ..verify.registry import score_input

# Gradients are summed in flat buckets of at most this many elements (one all-reduce per bucket).
BUCKET_NUMEL = 1 << 24


@dataclass
class DataParallel:
    """This process's place in the process group and the collectives the trainer needs."""

    rank: int
    world: int
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    # ---- how a batch is split -------------------------------------------------------------------------
    def share(self, lo: int, hi: int) -> tuple[int, int]:
        """This rank's contiguous share [a, b) of rows [lo, hi); shares differ in size by at most one."""
        q, r = divmod(hi - lo, self.world)
        a = lo + self.rank * q + min(self.rank, r)
        return a, a + q + (self.rank < r)

    # ---- collectives -----------------------------------------------------------------------------------
    def reduce_ints(self, values: list[int], op: str = "sum") -> list[int]:
        """Element-wise sum (or "max") of integers over ranks."""
        t = torch.tensor(values, dtype=torch.int64, device=self.device)
        dist.all_reduce(t, op={"sum": dist.ReduceOp.SUM, "max": dist.ReduceOp.MAX}[op])
        return t.tolist()

    def sum_counts(self, norms: dict) -> dict:
        """objective.normalizers of this rank's rows -> the same counts over every rank's rows."""
        keys = ("total_tokens", "total_seqs", "total_rows")
        return dict(zip(keys, self.reduce_ints([norms[k] for k in keys])))

    def agree(self, reason: str | None) -> str | None:
        """A reason to skip the step on any rank skips it on every rank (else they would deadlock), all with the
        first rank's reason: rank 0 logs it, as the single process would ("non-finite loss on another rank" was
        rank 0's row where the single process's said "non-finite loss")."""
        return next((r for r in self.gather(reason) if r), None)

    def broadcast_flag(self, flag: bool) -> bool:
        t = torch.tensor([1 if flag else 0], device=self.device)
        dist.broadcast(t, 0)
        return bool(int(t))

    def barrier(self) -> None:
        dist.barrier()

    def sync_grads(self, model) -> None:
        """Sum the gradients over ranks. Each rank's loss is already its share of the global loss (global
        divisors), so the sum, not the mean, is the whole-batch gradient. A rank with no rows this minibatch
        contributes zeros. A parameter no rank has a gradient for (unused in the forward) keeps .grad None, as in
        one process: a zero gradient had AdamW decay it and move its moments."""
        params = [p for p in model.parameters() if p.requires_grad]
        had = self.reduce_ints([int(p.grad is not None) for p in params], "max")
        params = [p for p, h in zip(params, had) if h]
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        buckets, cur, size = [], [], 0
        for p in params:
            if cur and size + p.numel() > BUCKET_NUMEL:
                buckets.append(cur)
                cur, size = [], 0
            cur.append(p)
            size += p.numel()
        for bucket in buckets + [cur]:
            if not bucket:
                continue
            flat = torch.cat([q.grad.reshape(-1) for q in bucket])
            dist.all_reduce(flat)
            off = 0
            for q in bucket:
                q.grad.copy_(flat[off:off + q.numel()].view_as(q.grad))
                off += q.numel()

    def gather(self, obj) -> list:
        """[obj of rank 0, obj of rank 1, ...] on every rank (pickled Python objects)."""
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def gather_stats(self, parts: list, ents: list) -> tuple[list, list]:
        got = self.gather((parts, ents))
        return [p for ps, _ in got for p in ps], [e for _, es in got for e in es]

    # ---- the trainer's rollout hooks ---------------------------------------------------------------------
    def generate_fn(self) -> Callable:
        """engine.sample over this rank's share of the prompts, all-gathered: the single-process draw."""
        from ..engine import sample

        def generate(model, tok, prompts, *, version=None, **kw):
            a, b = self.share(0, len(prompts))
            mine = sample(model, tok, prompts[a:b], index_offset=a, **kw) if b > a else []
            return [g for part in self.gather(mine) for g in part]

        return generate

    def score_fn(self) -> Callable:
        """Score this rank's share of the completions, all-gathered in order."""

        def score(reward, completions, items):
            a, b = self.share(0, len(completions))
            # (a scorer's error names the input among the step's completions and its item, as on Ray)
            mine = [score_input(reward, completions[i], items[i], i, len(completions)) for i in range(a, b)]
            return [r for part in self.gather(mine) for r in part]

        return score


def recover_checkpoint(dp: DataParallel, path: Path) -> None:
    """Rank 0 puts back the checkpoint a save killed between its two renames left set aside (checkpoint.recover)
    while the other ranks wait, then all read it. Every rank recovering at once raced on the same renames: one
    rank's failed (FileNotFoundError), or a rank found no checkpoint while another had it renamed aside."""
    from .. import checkpoint

    err = None
    if dp.rank == 0:
        try:
            checkpoint.recover(path)
        except Exception as e:  # raised below, once the other ranks are told (else they wait in the collective)
            err = e
    if not dp.broadcast_flag(err is None):
        if err is not None:
            raise err
        raise PonderError(f"{path}: rank 0 failed to put back the checkpoint a killed save left (see its error)")


# ---- process groups ------------------------------------------------------------------------------------
def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def env_int(name: str, low: int = 0, high: int | None = None) -> int:
    """An integer from torchrun's environment (RANK=abc was a bare ValueError from int())."""
    v = os.environ.get(name, "")
    try:
        n = int(v)
    except ValueError:
        n = None
    if n is None or n < low or (high is not None and n > high):
        want = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        raise PonderError(f"distributed: environment variable {name}={v!r} must be {want}")
    return n


# How long a rank waits in a collective before the run fails. Rank 0 alone runs the held-out evaluation and writes
# checkpoints while the other ranks wait in the next collective, so a large --eval-n with long generations needs
# more than the default: PONDER_DIST_TIMEOUT_S raises it (read by every rank: spawned ranks and torchrun's inherit it).
TIMEOUT_ENV = "PONDER_DIST_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 1800.0
MAX_TIMEOUT_S = 1e7  # 115 days


def timeout_from_env() -> float:
    """Seconds from PONDER_DIST_TIMEOUT_S (default 1800); a malformed value is one line naming it."""
    v = os.environ.get(TIMEOUT_ENV)
    if v is None or not v.strip():
        return DEFAULT_TIMEOUT_S
    try:
        t = float(v)
    except ValueError:
        t = math.nan
    if not 0 < t <= MAX_TIMEOUT_S:  # (NaN fails too; gloo refuses a timeout past ~1e9 s as "Invalid timeout")
        raise PonderError(f"distributed: environment variable {TIMEOUT_ENV}={v!r} must be a number of seconds in "
                          f"(0, {MAX_TIMEOUT_S:.0f}] (how long a rank waits in a collective, e.g. while rank 0 "
                          "evaluates)")
    return t


def init_from_env(backend: str | None = None, timeout_s: float | None = None, store=None) -> DataParallel:
    """Join the process group described by RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (torchrun's env).

    backend None: NCCL when CUDA is available, else gloo. Each NCCL rank uses cuda:LOCAL_RANK. timeout_s: how
    long a collective waits for the other ranks; None reads PONDER_DIST_TIMEOUT_S (default 1800 s). store: the
    rendezvous store to meet in (spawn's ranks: the driver serves it), instead of one rank 0 serves. A process
    group already initialised (the caller's) is used as it is, if its rank and size are RANK's and WORLD_SIZE's."""
    for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        if k not in os.environ:
            raise PonderError(f"distributed: environment variable {k} is not set (launch with torchrun, or "
                              "use --nproc N to let Ponder start the ranks)")
    if not os.environ["MASTER_ADDR"].strip():  # (torch: a ValueError saying it is "not set")
        raise PonderError("distributed: environment variable MASTER_ADDR is empty (the host of rank 0, e.g. "
                          "127.0.0.1 on one machine)")
    rank, world = env_int("RANK"), env_int("WORLD_SIZE", 1)
    env_int("MASTER_PORT", 1, 65535)  # (torch's rendezvous: a bare ValueError from int(), not naming the variable)
    if rank >= world:
        raise PonderError(f"distributed: RANK={rank} is not below WORLD_SIZE={world}")
    if timeout_s is None:
        timeout_s = timeout_from_env()
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    device = torch.device("cpu")
    if backend == "nccl":
        from ..checkpoint import parse_device

        local = env_int("LOCAL_RANK") if "LOCAL_RANK" in os.environ else rank
        try:  # (no GPU, or LOCAL_RANK past the GPUs: torch's AttributeError / invalid device ordinal)
            device = parse_device(f"cuda:{local}")
        except PonderError as e:
            raise PonderError(f"distributed: NCCL rank {rank} (LOCAL_RANK={local}): {e}") from None
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=rank, world_size=world, timeout=timedelta(seconds=timeout_s),
                                store=store)
    elif (dist.get_rank(), dist.get_world_size()) != (rank, world):
        # the caller's group, used as found: batches are shared out by rank and world, which must be the group's
        # (in a smaller one the ranks waited for shares of ranks that do not exist: a bare TypeError)
        raise PonderError(f"distributed: the process group this process already has is rank {dist.get_rank()} of "
                          f"{dist.get_world_size()}, but RANK={rank} WORLD_SIZE={world} say rank {rank} of {world}; "
                          "initialise it with torchrun's RANK and WORLD_SIZE (dist.init_process_group's defaults)")
    elif device.type == "cpu" and dist.get_backend() == "nccl":
        # (a CPU learner's counts and gradients in the caller's NCCL group: "No backend type associated with device
        # type cpu" at the first all-reduce, after the model loaded and the step's rollout was generated)
        raise PonderError("distributed: the process group this process already has is NCCL, which cannot reduce the "
                          "CPU learner's tensors; train on the GPU (--device cuda), or initialise the group with "
                          "gloo (or 'cpu:gloo,cuda:nccl')")
    return DataParallel(rank, world, device)


def shutdown(finished: bool = False) -> None:
    """Destroy the process group. finished: this rank ended cleanly, and so (the run's collectives being
    lock-step) do the others: wait for them first, so that no rank closes its gloo connections while a peer is
    still in its last collective with it. Without the barrier a 2-rank test rank once aborted at exit
    ("terminate called without an active exception"); a failed rank skips it, not to wait for peers that
    will never arrive."""
    if dist.is_available() and dist.is_initialized():
        if finished:
            with contextlib.suppress(Exception):
                dist.barrier()
        dist.destroy_process_group()


def free_port() -> int:
    """A port free now, for a torchrun-style rank to serve its store on (tests). Taken by then maybe: spawn does
    not use it (its driver serves the ranks' store itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: this rank gets SIGTERM when the driver dies (kill -9, a scheduler's timeout), instead of training
    on alone, writing the run directory a --resume would write too."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


_TIMED_OUT = "the other ranks did not join a collective within"  # (how _timeout_hint says a collective timed out)


def _timeout_hint(text: str, rank: int) -> str:
    """'; ...' naming PONDER_DIST_TIMEOUT_S, for a collective's timeout: gloo's "Timed out waiting 1800000ms for recv
    operation to complete", NCCL's watchdog's "collective operation timeout", named neither the setting nor why."""
    if not re.search(r"Timed out waiting \d+ms|collective operation timeout", text):
        return ""
    head = f"; {_TIMED_OUT} {TIMEOUT_ENV}={timeout_from_env():g} s: "
    if rank == 0:  # rank 0 was the one waiting, so not evaluating: it was told to raise it for its own evaluation
        return head + f"another rank is slower, stuck or gone (see its error); if it is only slower, raise {TIMEOUT_ENV}"
    return head + f"if rank 0's held-out evaluation (--eval-n) or checkpoint takes longer, raise {TIMEOUT_ENV}"


def _write_error(outdir, x: dict) -> None:
    # Whole or absent: the driver stops the other ranks (SIGTERM) as soon as one fails, maybe mid-write.
    from ..fileio import atomic_write_text

    atomic_write_text(Path(outdir) / f"rank{x['rank']}.error", json.dumps(x))


class RankInterrupted(KeyboardInterrupt):
    """A spawned rank was interrupted alone (SIGINT to its pid): the run stops as at Ctrl-C, naming the rank."""

    signum = signal.SIGINT

    def __init__(self, said: str):
        super().__init__(said)
        self.said = said


def _entry(rank, fn, args, world, port, backend, threads, outdir):
    _die_with_parent()
    (Path(outdir) / f"rank{rank}.started").touch()  # (one that exits before this failed as its process started)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    if threads:
        torch.set_num_threads(threads)
    # tqdm's first bar (rank 0's progress) makes a multiprocessing lock, a named semaphore registered with the
    # driver's resource tracker. A rank stopped by a signal (torch's join SIGTERMs the others once one dies) never
    # unregisters it, and the tracker printed "UserWarning: resource_tracker: There appear to be 1 leaked semaphore
    # objects" (2 lines) under the run's one-line error. A rank's bars are its own process's: a thread lock will do.
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
    finished = False
    try:
        # a client of the store the driver serves (rank 0 serving it would bind the port again: see spawn)
        store = dist.TCPStore("127.0.0.1", port, None, False, timeout=timedelta(seconds=timeout_from_env()))
        dp = init_from_env(backend, store=store)
        result = fn(dp, *args)
        tmp = Path(outdir) / f".rank{rank}.tmp"
        torch.save(result, tmp)
        os.replace(tmp, Path(outdir) / f"rank{rank}.pt")
        finished = True
    except Exception as e:
        # The driver sees only torch's ProcessRaisedException, whose message is this rank's whole traceback: leave it
        # one line (a PonderError's message; anything else its type and first line) and when this rank failed.
        text = str(e).strip()
        msg = text if isinstance(e, PonderError) else f"{type(e).__name__}: {headline(text)}"
        if not isinstance(e, PonderError):
            msg += _timeout_hint(text, rank)
        _write_error(outdir, {"rank": rank, "message": msg, "at": time.time()})
        raise
    except KeyboardInterrupt:
        # torch's wrapper takes an interrupt for the driver's stop and exits 0: a rank interrupted alone (kill -INT)
        # then looked like a rank that finished. Say so (before the group is destroyed, so before the errors of the
        # ranks left in a collective with this one) and exit as an interrupted command does.
        _write_error(outdir, {"rank": rank, "message": "interrupted", "at": time.time(), "interrupted": True})
        sys.exit(128 + signal.SIGINT)
    finally:
        shutdown(finished)


def _stop_ranks(procs, grace_s: float = 5.0) -> None:
    """Ctrl-C: the ranks got SIGINT too when it came from the terminal; give them time to unwind (destroy
    their process groups), forward SIGINT to any that did not get it, and only then terminate stragglers.
    Only the processes started here are signalled."""
    deadline = time.monotonic() + grace_s
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            with contextlib.suppress(OSError):
                os.kill(p.pid, signal.SIGINT)
    for p in procs:
        p.join(2 * grace_s)
    for p in procs:
        if p.is_alive():
            p.terminate()
            p.join(grace_s)


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM / SIGHUP (a scheduler's stop, a closed terminal) to the driver end the ranks as Ctrl-C does: the
    default action would kill the driver alone, leaving its ranks training on. Only a signal left at its default:
    a caller's own handler (the CLI's for SIGTERM) already stops the same way, and an ignored one (nohup) stays
    ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    old = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGHUP)
           if signal.getsignal(s) == signal.SIG_DFL}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextlib.contextmanager
def _quiet_join():
    """torch's join logs 'Terminating process N via signal SIGTERM' for every rank it stops after one failed: a
    line of torch's log format ahead of the one-line error that names the failure."""
    log = logging.getLogger("torch.multiprocessing.spawn")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


DIED_HINT = "; a grpo run's last checkpoint is intact: continue with --resume"


def _first_failure(e: Exception, procs, outdir: Path, died_hint: Callable[[], str] | None = None) -> str | None:
    """One line on the rank whose failure ended the run. A rank that died without a Python error (the OOM killer,
    kill -9, a crash) comes first: the others then fail in a collective whose peer left, and may be the ones join
    reports. Otherwise the rank whose error was written first. died_hint() ends the line of a rank that died (what
    is left to resume; default DIED_HINT)."""
    import torch.multiprocessing as mp

    errors = []
    for f in outdir.glob("rank*.error"):  # (one cut short by the stop would hide the first failure behind a
        with contextlib.suppress(ValueError, OSError):  # JSONDecodeError)
            x = json.loads(f.read_text())
            if isinstance(x, dict) and {"rank", "message", "at"} <= x.keys():
                errors.append(x)
    # A rank that timed out in a collective waited the whole timeout for a peer that was alive (a peer that died
    # closes its connections: the wait fails at once) but stuck. join stops the stuck peer with SIGKILL (it cannot
    # handle SIGTERM): the run was said to have died of "rank 1 was killed by SIGKILL", which no one had sent.
    stuck = []
    died = None
    if isinstance(e, mp.ProcessExitedException) and not (outdir / f"rank{e.error_index}.error").exists():
        died = (e.error_index, e.error_pid, e.exit_code)
    else:
        timed_out = any(_TIMED_OUT in str(x["message"]) for x in errors)
        for r, p in enumerate(procs):  # (SIGTERM is how join stops the ranks still running)
            if p.exitcode is not None and p.exitcode < 0 and p.exitcode != -signal.SIGTERM \
                    and not (outdir / f"rank{r}.error").exists():
                if timed_out and p.exitcode == -signal.SIGKILL:
                    stuck.append(f"rank {r} (pid {p.pid})")
                    continue
                died = (r, p.pid, p.exitcode)
                break
    if died is not None:
        r, pid, code = died
        with contextlib.suppress(ValueError):
            code = signal.Signals(-code).name if code < 0 else code
        how = f"was killed by {code}" if isinstance(code, str) else f"exited with code {code}"
        if not isinstance(code, str) and not (outdir / f"rank{r}.started").exists():
            # A spawned rank first imports the program's main module: a script calling spawn/train_ddp at its top
            # level starts ranks again from there, which multiprocessing refuses (a rank then said only its code)
            return (f"data-parallel rank {r} (pid {pid}) {how} before it started (its error is above); a script "
                    "that starts ranks (ddp.spawn, train_ddp with nproc) must do so under "
                    "`if __name__ == \"__main__\":`, as each rank imports the script first")
        return f"data-parallel rank {r} (pid {pid}) {how}; the other ranks were stopped" + (
            died_hint() if died_hint is not None else DIED_HINT)
    if not errors:
        return None
    first = min(errors, key=lambda x: x["at"])
    if first.get("interrupted"):
        raise RankInterrupted(f"data-parallel rank {first['rank']} was interrupted; the other ranks were stopped")
    if stuck:
        return (f"data-parallel rank {first['rank']}: {first['message']}; stuck, never joining it: "
                f"{', '.join(stuck)}, stopped with SIGKILL" + (died_hint() if died_hint is not None else DIED_HINT))
    return f"data-parallel rank {first['rank']}: {first['message']}"


def spawn(fn: Callable, nproc: int, *args, backend: str = "gloo", threads: int | None = None,
          died_hint: Callable[[], str] | None = None) -> list:
    """Run fn(dp, *args) in `nproc` fresh local processes forming one process group; returns each rank's
    result, rank order. fn must be importable (a module-level function). An exception on a rank is raised
    here as a one-line PonderError naming the rank (the first to fail); Ctrl-C (SIGINT reaches every rank of
    the terminal's process group) ends every rank, each destroying its process group on the way out. A rank
    interrupted alone raises RankInterrupted (a KeyboardInterrupt) naming it. died_hint() ends the line of a rank
    that died (kill -9, the OOM killer): what of the run is left to resume (default DIED_HINT)."""
    import torch.multiprocessing as mp

    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise PonderError(f"nproc must be a positive integer, got {nproc!r}")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if nproc > cores:  # each rank is a whole process with its own model: more ranks than cores only contend
        raise PonderError(f"nproc {nproc} exceeds the {cores} cores this process may use; use at most {cores} "
                          "(ranks on several machines: start them with torchrun)")
    if threads is None:  # ranks must not fight over the same cores: those this process may use (taskset, a
        threads = max(1, cores // nproc)  # scheduler's cpuset), not all the machine's (os.cpu_count)
    # The ranks meet in a store served here, on the port the OS gives it as it binds (port 0), held from before the
    # ranks start to after they end. A port found free (bound, then closed: free_port) for rank 0 to bind again
    # could be taken in between, by another run's ranks or any program: the run failed with "address already in
    # use", or the ranks met another run's store.
    store = dist.TCPStore("127.0.0.1", 0, None, True, wait_for_workers=False)
    outdir = tempfile.mkdtemp(prefix="ponder-ranks-")
    try:
        ctx = mp.start_processes(_entry, args=(fn, args, nproc, store.port, backend, threads, outdir),
                                 nprocs=nproc, join=False, start_method="spawn")
        try:
            with _terminate_as_interrupt(), _quiet_join():
                while not ctx.join():
                    pass
        except KeyboardInterrupt:
            _stop_ranks(ctx.processes)
            raise
        except Exception as e:
            failed = _first_failure(e, ctx.processes, Path(outdir), died_hint)
            if failed is None:
                raise
            raise PonderError(failed) from e
        return [torch.load(Path(outdir) / f"rank{r}.pt", weights_only=False) for r in range(nproc)]
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
        del store  # (its server stops with it)


# ---- the RL trainer on N ranks ---------------------------------------------------------------------------
def check_world(cfg, world: int) -> None:
    """More ranks than samples per step would leave ranks with nothing to train on; off-policy generation runs
    in a background thread, whose sample all-gathers would interleave with the learner's all-reduces."""
    if world > 1 and getattr(cfg, "off_policy", False):
        raise PonderError("off_policy with several data-parallel ranks is not supported (the rollout thread's "
                          "collectives would interleave with the learner's); use --ray --off-policy")
    # fsdp with bf16/fp16 weights: said before N ranks are spawned, each loading the model (a dtype of None, the
    # checkpoint's own, is checked on the ranks, once the model is loaded)
    if world > 1 and getattr(cfg, "fsdp", False):
        from ..checkpoint import parse_dtype
        from ..model import LOW_PRECISION

        dtype = parse_dtype(getattr(cfg, "dtype", None))
        if dtype in LOW_PRECISION:
            raise PonderError(f"fsdp: the learner's weights are {str(dtype).removeprefix('torch.')}, and the "
                              "sharded optimizer keeps no fp32 master copies, so small updates would be rounded "
                              "away; use --dtype float32")
    P, G = cfg.prompts_per_step, cfg.group_size
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= least for v, least in ((P, 1), (G, 2))):
        # GRPOConfig.validate says what is wrong, as one process does (prompts_per_step=0 was "use at most 0
        # ranks", group_size="4" a TypeError)
        return
    samples = P * G
    if world > samples:
        raise PonderError(f"{world} ranks but only {samples} samples per step (prompts_per_step="
                          f"{cfg.prompts_per_step} x group_size={cfg.group_size}); use at most {samples} ranks")


def check_rank_device(cfg, dp: DataParallel, run_dir=None) -> None:
    """An NCCL rank reduces on its own GPU (cuda:LOCAL_RANK): a learner on a GPU named by index (--device cuda:0)
    put every rank's model on that one GPU, where NCCL then failed (or memory ran out) after the model loaded.
    --device cuda is each rank's own GPU. run_dir: a resumed run's, whose config.json set the device."""
    if dp.device.type != "cuda":
        return
    try:  # (a misspelt device: train() names it)
        want = torch.device(str(cfg.device))
    except (RuntimeError, TypeError, ValueError):
        return
    if want.type == "cuda" and want.index is not None and want.index != dp.device.index:
        own = f"under torchrun each rank trains on its own GPU (rank {dp.rank}: {dp.device}, from LOCAL_RANK)"
        if run_dir is not None:
            raise PonderError(f"{Path(run_dir) / 'config.json'}: the run trains on {cfg.device}, but {own}; resume "
                              "it as one process")
        raise PonderError(f"--device {cfg.device}: {own}, not all on one; use --device cuda")


def _train_rank(dp: DataParallel, cfg, run_dir: str, resume: bool, progress: bool) -> str:
    from ..rl.trainer import train

    check_world(cfg, dp.world)  # on resume, cfg is the saved one (train_ddp passes it)
    check_rank_device(cfg, dp, run_dir if resume else None)
    run = train(cfg, run_dir, resume=resume, progress=progress and dp.rank == 0, generate_fn=dp.generate_fn(),
                score_fn=dp.score_fn(), dp=dp)
    return str(run)


def train_ddp(cfg, run_dir, *, nproc: int | None = None, resume: bool = False, progress: bool = True,
              backend: str | None = None, threads: int | None = None) -> Path:
    """`ponder grpo --nproc N`: the GRPO trainer with its batch sharded over N ranks. Under torchrun this
    process is one rank (nproc: None, 1 or torchrun's WORLD_SIZE); otherwise N local ranks are spawned (gloo on
    CPU). nproc=1 is the plain single-process trainer. threads: each spawned rank's torch threads (`--threads`;
    None: the cores this process may use, shared out); torchrun's ranks and a single process keep their own.
    Under torchrun a process group this process already has (the caller's `dist.init_process_group`) is trained
    in and left initialised on return, for the caller to use further; one created here is destroyed."""
    from ..rl.trainer import GRPOConfig, check_inputs, check_resumed_settings, moved_data, train
    from ..train import check_resumable, check_steps_left, config_from, read_run_config, saved_step

    # (0, a negative count or True trained in one process as if nproc were 1; "2" was a TypeError below)
    if nproc is not None and (isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1):
        raise PonderError(f"nproc must be a positive integer, got {nproc!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise PonderError(f"threads must be a positive integer, got {threads!r}")
    if resume:  # the ranks train with the run's own config: check the world size against that one
        f = Path(run_dir) / "config.json"
        if f.is_file():  # (read as train() reads it: a broken file is one line naming it, not a JSON traceback)
            saved = read_run_config(run_dir).get("grpo")
            if isinstance(saved, dict):
                given, cfg = cfg, config_from(GRPOConfig, saved, f"{f}: grpo")
                # (the ranks get the saved config: a setting given otherwise, lr=1e-5, was dropped silently where
                # train() refuses it)
                check_resumed_settings(Path(run_dir), given, cfg)
                cfg.steps = given.steps or cfg.steps  # 0: the saved run's (as train() takes it)
                for k, v in moved_data(given, cfg).items():  # a data file at a new path (each rank's train()
                    setattr(cfg, k, v)  # checks its digest; rank 0 records it)
    if launched_by_torchrun() and nproc not in (None, 1, env_int("WORLD_SIZE", 1)):  # (it was silently ignored)
        raise PonderError(f"nproc={nproc} spawns ranks here, but torchrun started this process as rank "
                          f"{os.environ['RANK']} of WORLD_SIZE={env_int('WORLD_SIZE', 1)}: drop --nproc (torchrun's "
                          "--nproc_per_node sets the ranks)")
    check_world(cfg, env_int("WORLD_SIZE", 1) if launched_by_torchrun() else (nproc or 1))
    if launched_by_torchrun() or (nproc or 1) > 1:  # a malformed timeout: refused before any rank starts
        timeout_from_env()
    if launched_by_torchrun():
        if backend is None:  # the learner's device decides: NCCL cannot reduce the CPU gradients of a --device cpu
            backend = "nccl" if str(cfg.device).startswith("cuda") else "gloo"  # run on a machine with CUDA
        # A process group the caller initialised (a script under torchrun that evaluates, or trains again, after
        # this returns) is used and left as found: destroying it broke the caller's next collective. Only a group
        # made here is destroyed on the way out.
        own = not (dist.is_available() and dist.is_initialized())
        dp = init_from_env(backend)
        finished = False
        try:
            out = Path(_train_rank(dp, cfg, str(run_dir), resume, progress))
            finished = True
            return out
        except RuntimeError as e:  # (torchrun's ranks: the CLI printed gloo's or NCCL's line alone)
            hint = _timeout_hint(str(e), dp.rank)
            if not hint:
                raise
            raise PonderError(f"data-parallel rank {dp.rank}: {type(e).__name__}: {headline(e)}{hint}") from e
        finally:
            if own:
                shutdown(finished)
    if nproc is None or nproc == 1:
        return train(cfg, run_dir, resume=resume, progress=progress)
    if backend not in (None, "gloo"):
        raise PonderError(f"--nproc spawns CPU ranks with gloo; for {backend} launch with torchrun")
    if str(cfg.device).split(":")[0] in ("cuda", "xpu", "mps"):  # (a misspelt one: check_inputs names it)
        # gloo ranks spawned here would each load the whole model onto that one accelerator
        raise PonderError(f"--nproc {nproc} spawns CPU ranks (gloo), which would all train on {cfg.device}; for GPU "
                          f"ranks launch with torchrun --nproc_per_node {nproc} (one GPU each, NCCL)")
    # A missing --data file, a bad reward spec, an earlier run in --out...: one line here, as the single process
    # says it, not N ranks each loading the model to refuse it
    if resume:  # (a missing or foreign directory: its config.json was not read above)
        from ..fileio import run_lock

        with run_lock(run_dir):  # (a run training there may be mid-save: its checkpoint set aside is not put back)
            check_resumable(Path(run_dir), "grpo")
        at = saved_step(Path(run_dir))
        if at is not None:  # (a finished run resumed without a higher --steps)
            check_steps_left(Path(run_dir), at, cfg.steps)
    check_inputs(cfg, run_dir, resume=resume)
    # (--threads set the driver's threads alone: the ranks, fresh processes, ran their default share of the cores)
    return Path(spawn(_train_rank, nproc, cfg, str(run_dir), resume, progress, backend="gloo", threads=threads,
                      died_hint=functools.partial(_left_to_resume, Path(run_dir), nproc))[0])


def _left_to_resume(run: Path, nproc: int) -> str:
    """What a grpo run whose rank died left to continue from, for the line naming the rank: a rank killed before the
    first checkpoint was said to leave an intact checkpoint to --resume, which then refused the directory. The
    ranks are named with it: a plain --resume continues in one process (config.json does not record the ranks)."""
    from ..train import STATE

    # (a save killed between its renames left the checkpoint set aside, which --resume puts back)
    if (run / "checkpoint" / STATE).is_file() or any(run.glob(".checkpoint.old-*")):
        return f"; the run's last checkpoint is intact: continue with --resume --nproc {nproc}"
    if (run / "config.json").is_file():  # (the run's own: a new run refuses the directory)
        return (f"; it died before the run's first checkpoint, so --resume has nothing to continue: remove {run} and "
                "run the command again")
    return "; nothing of the run was saved yet: run the command again"


# ---- FSDP2 -------------------------------------------------------------------------------------------------
def apply_fsdp2(model, dp: DataParallel):
    """Shard `model`'s parameters over the ranks with FSDP2 (`fully_shard` per transformer block, then the
    root, which holds the tied embedding / LM head). Gradients are reduce-scattered during backward as a
    plain SUM (divide factor 1), matching the trainer's global-divisor losses, so `sync_grads` must not be
    called on top. On CUDA ranks the model is moved to the rank's device first (NCCL); on CPU ranks (gloo,
    which has no PREMUL_SUM) the same code runs, which is how tests/test_distributed.py checks the gradients
    and the trainer. CUDA/NCCL is untested here (no GPU on the development machine)."""
    import warnings

    from torch.distributed.fsdp import fully_shard

    # The root's output (hidden states, a padded batch's rows put back on the [B, T] grid by a view) is never changed in
    # place (the trainer's logits are a new tensor): torch's warning that an in-place op on it would drop the
    # pre-backward hook "and produce wrong gradients", printed by every rank of every --fsdp run, was noise (the
    # gradients equal the single process's: tests/test_distributed.py)
    warnings.filterwarnings("ignore", message=r"FSDP2-wrapped module \(\w+\) returned a view tensor",
                            category=UserWarning)
    if dp.device.type == "cuda":
        model.to(dp.device)
    elif dp.device.type != "cpu":
        raise PonderError(f"FSDP2: unsupported device {dp.device} (use CUDA ranks with NCCL, or CPU with gloo)")
    units = [*model.layers, model]
    for unit in units:
        fully_shard(unit)
    for unit in units:  # per FSDP unit: the root's settings do not reach the blocks
        unit.set_force_sum_reduction_for_comms(True)
        unit.set_gradient_divide_factor(1.0)
    return model


def gather_weights(model) -> dict:
    """Every rank: the whole state dict of an FSDP2 model as plain tensors (a collective). The trainer loads
    it into each rank's unsharded replica, which generates, evaluates and is saved."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=False))


def optimizer_state(model, opt) -> dict:
    """The whole optimizer state of an FSDP2 model, keyed by parameter name, on rank 0 (a collective)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    return get_optimizer_state_dict(model, opt, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def load_optimizer_state(model, opt, state: dict) -> None:
    """Shard a whole optimizer state (from `optimizer_state`, read by every rank) into `opt`."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    set_optimizer_state_dict(model, opt, optim_state_dict=state, options=StateDictOptions(full_state_dict=True))


def full_state_dict(model) -> dict:
    """The whole (unsharded) state dict of an FSDP2 model, on rank 0's CPU (other ranks get {}); a collective:
    call it on every rank."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if getattr(model.config, "tie_word_embeddings", False):  # one name of the tied pair may be dropped
        for a, b in (("embed_tokens.weight", "lm_head.weight"), ("lm_head.weight", "embed_tokens.weight")):
            if a not in state and b in state:
                state[a] = state[b]
    return state
