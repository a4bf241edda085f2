"""Ray actors for rollouts, verification and evaluation: `--ray [ADDRESS]` of grpo, eval and verify.

A `RayPool` holds N actors (`Worker`), each with a replica of the model and the tokenizer. The learner
pushes its weights after every update through the object store (`ray.put(state_dict)`, one copy shared by
all actors on a node) tagged with a version: the number of learner updates they have seen. Every call
carries the version the caller expects; an actor holding another one refuses it (`StaleWeightsError`) and
the pool refreshes that actor and re-issues the call, so a stale actor is detected, never sampled from.

Prompts are split into contiguous shards, one per actor, each drawn with its global `index_offset`: the
engine's counter-based sampling makes sample j of prompt i a function of (seed, i, j, step) only, so the
shards reproduce the single-process draw exactly (token ids equal; log-probs up to float differences from
batch composition, ~1e-6). The same holds when an actor dies mid-rollout: the pool starts a replacement,
pushes the current weights and re-issues the dead actor's shard, which redraws identical samples; nothing
is lost or duplicated, and a call returns all of its samples or raises. An actor that dies while its weights
are refreshed (a push, or a stale actor brought up to date) is replaced the same way, and so is a replacement
that dies while starting; after `max_replacements` deaths the pool gives up with a PonderError naming the
worker (a grpo run then continues from its last checkpoint with `--resume`).

Verification runs on the same actors (the bounded verifiers are process-safe: each actor keeps its own
worker process), and evaluation shards problems over them with global offsets (`evaluate_ray`).

`ray_session(address)` connects to a cluster (probing the address first, so an unreachable one fails in
seconds with a PonderError) or, with no address, starts a local instance and shuts it down on exit,
Ctrl-C included. Workers must run the driver's ponder, torch and Python versions: they are compared on
start and a mismatch is a PonderError naming both. Actors that are not running within PONDER_RAY_START_TIMEOUT_S
seconds (default 120; RayPool's start_timeout_s), e.g. on a cluster whose CPUs other jobs hold, are killed and
start() raises a PonderError saying what the cluster has free; so does the replacement of a dead actor. A call to
an actor (a shard of a rollout, evaluation or scoring; a weight push) that has not answered within
PONDER_RAY_CALL_TIMEOUT_S seconds (default 86400, one day, so that an evaluation's whole shard on a slow CPU is not
cut short; "none": no limit; RayPool's call_timeout_s), e.g. a deadlocked worker or a node that stopped answering,
is a PonderError naming the worker: that actor is killed (the next call replaces it) and the pool stays usable.
A call running while the pool is closed (from another thread) ends with a PonderError instead of replacing the
actors the close killed, and a generate_fn does not restart a pool closed since it first used it; an off-policy
grpo run that ends (an error, Ctrl-C) with its rollout running ahead halts that rollout's calls
(generate_fn().halt(), score_fn().halt()) and joins its thread before it returns.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import importlib.metadata
import json
import math
import os
import platform
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from ..errors import PonderError, headline
from ..verify.registry import item_id

PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the directory holding the ponder package


class StaleWeightsError(PonderError):
    """An actor asked to work with weights it does not hold."""


def _ray():
    try:
        import ray
    except ImportError:
        raise PonderError("--ray needs the ray package: pip install ray") from None
    return ray


def versions() -> dict:
    """What must match between the driver and every worker."""
    import ponder

    return {"ponder": ponder.__version__, "torch": _torch_version(), "python": platform.python_version(),
            "ray": _ray().__version__}


def _torch_version() -> str:
    """torch's version without importing it (a verifier-only actor never does): its installed metadata, which is
    the __version__ it would import with; a torch without any (built in place) is imported for it."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        import torch

        return torch.__version__


def check_versions(local: dict, remote: Sequence[dict], first: int = 0) -> None:
    """remote[i]: the versions of worker first + i."""
    for i, r in enumerate(remote, first):
        diff = [f"{k} {local[k]} on the driver vs {r.get(k)} on worker {i} ({r.get('host', '?')})"
                for k in local if r.get(k) != local[k]]
        if diff:
            raise PonderError("Ray worker runs different package versions: " + "; ".join(diff))


# ---- connecting -------------------------------------------------------------------------------------------
def _host_port(address: str) -> tuple[str, int]:
    scheme, sep, rest = address.partition("://")
    if not sep:
        rest = address
    elif scheme != "ray":  # (http://HOST:8265, the dashboard's: ray.init's refusal spoke of RAY_ADDRESS, late)
        raise PonderError(f"--ray {address!r}: expected HOST:PORT, ray://HOST:PORT or auto, not a {scheme}:// "
                          "address (the dashboard's http://HOST:8265 is for job submission; the head's is "
                          "HOST:6379)")
    host, colon, port = rest.rpartition(":")
    if not colon or rest.endswith("]"):  # no port given ("[::1]": the IPv6 host's colons): Ray's default (GCS 6379,
        # client server 10001)
        host, port = rest, str(10001 if address.startswith("ray://") else 6379)
    # (":6379" was probed as host ":6379"; port 99999 was "Connection refused", -1 "Servname not supported")
    n = int(port) if port.isascii() and port.isdigit() else -1
    if not host.strip("[]") or not 1 <= n <= 65535:
        raise PonderError(f"--ray {address!r}: expected HOST:PORT (PORT in 1..65535), ray://HOST:PORT or auto")
    try:  # (an empty or over-long label, "head..example.com": the idna codec's UnicodeError as the probe connected)
        host.strip("[]").encode("idna")
    except UnicodeError:
        raise PonderError(f"--ray {address!r}: {host!r} is not a valid host name (an empty or over-long "
                          "label)") from None
    return host.strip("[]"), n


def _with_port(address: str) -> str:
    """address with the port probe() takes for it: ray.init refuses a GCS address without one ("Invalid address
    format: head"), and the Ray client's default is not the client server's 10001."""
    host, port = _host_port(address)
    host = f"[{host}]" if ":" in host else host
    return ("ray://" if address.startswith("ray://") else "") + f"{host}:{port}"


def check_address(address: str | None) -> None:
    """Refuse a malformed --ray ADDRESS, or PONDER_RAY_START_TIMEOUT_S / PONDER_RAY_CALL_TIMEOUT_S, as the arguments
    are checked, not after a model is loaded for the run; None, "local" (the CLI's bare --ray) and "auto" pass."""
    if address not in (None, "local", "auto"):
        _host_port(address)
    start_timeout()
    call_timeout()


def _resolve(host: str, port: int, timeout_s: float) -> list[str]:
    """host's addresses, looked up within timeout_s: create_connection's timeout bounds the connect, not the
    name lookup, which a DNS server that does not answer holds for the resolver's own time (10 to 30 s and more)."""
    result: dict = {}

    def ask():
        try:
            result["ok"] = [a[4][0] for a in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
        except OSError as e:
            result["error"] = e

    t = threading.Thread(target=ask, daemon=True)  # daemon: a lookup that never ends cannot hold the process
    t.start()
    t.join(timeout_s)
    if "error" in result:
        raise result["error"]
    if "ok" not in result:
        raise OSError(errno.ETIMEDOUT, f"looking up {host} took over {timeout_s:g} s")
    return result["ok"]


def probe(address: str, timeout_s: float = 5.0) -> None:
    """A TCP connect to the cluster's GCS (or client) port, so an unreachable address fails fast."""
    host, port = _host_port(address)
    try:
        err = None
        for ip in _resolve(host, port, timeout_s):  # each, as create_connection tries them ("localhost": ::1 first)
            try:
                with socket.create_connection((ip, port), timeout=timeout_s):
                    return
            except OSError as e:
                err = e
        raise err or OSError(errno.EADDRNOTAVAIL, f"{host} has no address")
    except OSError as e:
        raise PonderError(f"--ray {address}: cannot reach a Ray cluster at {host}:{port} "
                          f"({e.strerror or type(e).__name__}); is `ray start --head` running there?") from None


def probe_gcs(address: str, timeout_s: float = 5.0) -> None:
    """Ask the GCS at HOST:PORT for a key, bounded by timeout_s: a TCP port that accepts connections may still
    not be a Ray head (a proxy, another service), and ray.init would then retry for tens of seconds. Uses
    ray._raylet.GcsClient (not public API): if that interface is missing or changed, this check is skipped."""
    try:
        from ray._raylet import GcsClient
    except ImportError:
        return
    result: dict = {}

    def ask():
        try:
            GcsClient(address=address).internal_kv_get(b"ponder-probe", None, timeout=timeout_s)
            result["ok"] = True
        except (TypeError, AttributeError) as e:  # an interface change, not an answer: skip the check
            result["skip"] = e
        except Exception as e:
            result["error"] = e

    t = threading.Thread(target=ask, daemon=True)  # daemon: a hung RPC cannot hold the process
    t.start()
    t.join(timeout_s)
    if "ok" in result or "skip" in result:
        return
    why = str(result["error"]).splitlines()[0][:120] if "error" in result else f"no answer in {timeout_s:g} s"
    raise PonderError(f"--ray {address}: no Ray cluster answers there ({why}); is `ray start --head` running?")


def local_cpus(num_cpus: int | None = None) -> int:
    """The most CPUs ray_session's local instance has: num_cpus, else the cores this process may use (Ray's own
    detection, which ray_session leaves to it when those are the machine's, may count fewer: a docker CPU quota)."""
    if num_cpus is not None:
        check_num_cpus(num_cpus)
        return num_cpus
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def check_num_cpus(num_cpus) -> None:
    """A local instance's CPUs: a positive integer (Ray refused -1 or 1.5 only after its GCS had started, and left
    that process running until the caller's process exited; 0 CPUs runs no actor)."""
    if isinstance(num_cpus, bool) or not isinstance(num_cpus, int) or num_cpus < 1:
        raise PonderError(f"Ray: num_cpus of the local instance must be a positive integer, got {num_cpus!r}")


def _children() -> set:
    """This process's child processes (psutil, which Ray ships); empty if it cannot be had."""
    try:
        import psutil

        return set(psutil.Process().children(recursive=True))
    except Exception:
        return set()


def _rays(procs: set) -> set:
    """Those of `procs` that are Ray's (gcs_server, raylet, its python agents), not what another thread started."""
    out = set()
    for p in procs:
        with contextlib.suppress(Exception):
            if "ray" in " ".join(p.cmdline()):
                out.add(p)
    return out


def _stop(procs: set) -> None:
    """Stop what a failed local ray.init left running: it raises from inside the constructor of its node, whose
    processes (gcs_server, raylet, ...) no ray.shutdown() reaches, and they ran until the caller's process exited."""
    if not procs:  # (none found: psutil missing too, maybe)
        return
    import psutil

    for p in procs:  # (killed, not terminated: one of them ignores SIGTERM, and they hold nothing worth a wait)
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(procs, timeout=5)  # reaped: not left as zombies


@contextlib.contextmanager
def _ray_messages_to_stderr():
    """Ray's driver prints the cluster's error messages ("(raylet) A worker died or was killed while executing a
    task...", from a background thread, as a dead actor is replaced and the command goes on) on sys.stdout: the one
    JSON object `--json` prints there (grpo, eval, verify --ray) was preceded by them, so a script's json.load of the
    output failed although the run succeeded. Meanwhile they go to stderr, with Ray's other diagnostics. (Ray's
    private printer, looked up by that thread at each message; left as it is where this Ray has none.)"""
    try:
        from ray._private import worker as rw

        printer = rw.print_to_stdstream
    except (ImportError, AttributeError):
        yield
        return

    def to_stderr(data, *args, **kw):
        return printer({**data, "is_err": True}, *args, **kw) if isinstance(data, dict) else printer(data, *args, **kw)

    rw.print_to_stdstream = to_stderr
    try:
        yield
    finally:
        if rw.print_to_stdstream is to_stderr:  # (not if something else replaced it meanwhile)
            rw.print_to_stdstream = printer


@contextlib.contextmanager
def ray_session(address: str | None = None, *, num_cpus: int | None = None, timeout_s: float = 5.0):
    """Connect to `address` ("HOST:PORT", "ray://HOST:PORT", "auto") or start a local Ray instance (None, "local"), and
    disconnect (local: shut it down) on exit. Inside an existing session (ray.is_initialized()) it is a
    no-op, so callers compose. Meanwhile Ray's messages on the cluster (a worker that died...) go to stderr, not
    stdout, which holds a command's --json output."""
    with _ray_messages_to_stderr(), _ray_session(address, num_cpus=num_cpus, timeout_s=timeout_s) as ray:
        yield ray


@contextlib.contextmanager
def _ray_session(address: str | None, *, num_cpus: int | None, timeout_s: float):
    ray = _ray()
    if num_cpus is not None:
        check_num_cpus(num_cpus)
    if address == "local":  # Ray's own name for a new local instance (the CLI's bare --ray), not a host to probe
        address = None
    if address is not None and address != "auto":
        probe(address, timeout_s)
        address = _with_port(address)
        if "://" not in address:  # a GCS address (ray:// is the client server: the TCP probe must do)
            probe_gcs(address, timeout_s)
    if ray.is_initialized():
        yield ray
        return
    # ray.init sets SIGTERM to sys.exit(15), and ray.shutdown leaves it so: a caller's own handler (the CLI's: a run
    # stopped as by Ctrl-C, with the line saying how to resume it) is put back at once, any other (the default, for
    # a library caller) when the session ends if Ray's is still there (the CLI's, once fired, leaves the default
    # for the rest of the cleanup). (None: a handler not set from Python, which cannot be put back.)
    sigterm = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
    if address is None:
        if num_cpus is None and local_cpus() < (os.cpu_count() or 0):
            # The cores this process may use (taskset, a scheduler's cpuset), as --nproc counts them: Ray counts the
            # whole machine's, and would start more actors than there are cores to run them (a docker CPU quota
            # without a cpuset leaves the affinity whole: Ray's own detection then applies).
            num_cpus = local_cpus()
        # Local workers import ponder from the driver's tree, installed or not.
        path = os.pathsep.join(p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p)
        # address="local": always a new instance of our own; a bare ray.init() would attach to whatever
        # cluster /tmp/ray/ray_current_cluster names (another user's test run, say) and share its CPUs.
        before = _children()
        try:
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": path}})
        except Exception as e:  # (a failed start left Ray's SIGTERM handler in place of the caller's)
            with contextlib.suppress(Exception):  # (the cleanup's own failure must not hide why the start failed)
                ray.shutdown()
            _stop(_rays(_children() - before))
            if sigterm is not None:
                signal.signal(signal.SIGTERM, sigterm)
            line = (str(e).strip().splitlines() or [""])[0]
            raise PonderError(f"Ray: the local instance failed to start: {type(e).__name__}: "
                              f"{line[:200]}{'...' if len(line) > 200 else ''}") from e
    else:
        try:
            ray.init(address=address, log_to_driver=False)
        except Exception as e:  # ConnectionError (no cluster), RuntimeError (a cluster of another Ray version), ...
            if sigterm is not None:
                signal.signal(signal.SIGTERM, sigterm)
            line = (str(e).strip().splitlines() or [""])[0]
            what = "" if isinstance(e, ConnectionError) else f"{type(e).__name__}: "
            raise PonderError(f"--ray {address}: {what}{line[:200]}{'...' if len(line) > 200 else ''}") from None
    rays = signal.getsignal(signal.SIGTERM)
    if callable(sigterm):
        signal.signal(signal.SIGTERM, sigterm)
    try:
        yield ray
    finally:
        ray.shutdown()
        if sigterm is not None and signal.getsignal(signal.SIGTERM) is rays:
            signal.signal(signal.SIGTERM, sigterm)


# How long RayPool.start waits for its actors to be placed and running. The check against the cluster's total CPUs
# cannot see CPUs held by other actors (another pool, another job): without a deadline start() waited forever. Free
# CPUs are not refused up front: Ray releases a closed pool's resources some time after its actors are killed.
START_TIMEOUT_ENV = "PONDER_RAY_START_TIMEOUT_S"
DEFAULT_START_TIMEOUT_S = 120.0
MAX_START_TIMEOUT_S = 1e7


# How long one call to an actor (a shard of a rollout, an evaluation or a scoring; a weight push) may take before the
# actor is taken for hung (a deadlocked worker, a node that stopped answering without Ray noticing) and killed:
# without a deadline the caller waited forever. Generous by default: an evaluation sends each actor its whole shard
# of problems in one call, which on a slow CPU may take hours; "none" (or "inf") sets no limit.
CALL_TIMEOUT_ENV = "PONDER_RAY_CALL_TIMEOUT_S"
DEFAULT_CALL_TIMEOUT_S = 24 * 3600.0


def _seconds(value, env: str, name: str, default: float, purpose: str, unlimited: bool = False) -> float:
    """`value` seconds, else those of environment variable `env`, else `default`; unlimited: "none"/"inf" is
    math.inf. A malformed one is one line naming it."""
    where = name if value is not None else f"environment variable {env}"
    v = value if value is not None else os.environ.get(env)
    if v is None or (isinstance(v, str) and not v.strip()):
        return default
    if unlimited and (v == math.inf or (isinstance(v, str) and v.strip().lower() in ("none", "inf"))):
        return math.inf
    try:
        t = float(v) if not isinstance(v, bool) else math.nan
    except (TypeError, ValueError):
        t = math.nan
    if not 0 < t <= MAX_START_TIMEOUT_S:  # (NaN fails too)
        raise PonderError(f"Ray: {where}={v!r} must be a number of seconds in (0, {MAX_START_TIMEOUT_S:.0f}]"
                          + (" or 'none' (no limit)" if unlimited else "") + f" ({purpose})")
    return t


def start_timeout(value: float | None = None) -> float:
    """Seconds RayPool.start waits for its actors: `value`, else PONDER_RAY_START_TIMEOUT_S (default 120); a
    malformed one is one line naming it."""
    return _seconds(value, START_TIMEOUT_ENV, "start_timeout_s", DEFAULT_START_TIMEOUT_S,
                    "how long starting the Ray workers may take")


def call_timeout(value: float | str | None = None) -> float:
    """Seconds one actor call may take: `value`, else PONDER_RAY_CALL_TIMEOUT_S, else one day; "none" or math.inf:
    no limit. A malformed one is one line naming it."""
    return _seconds(value, CALL_TIMEOUT_ENV, "call_timeout_s", DEFAULT_CALL_TIMEOUT_S,
                    "how long one call to a Ray worker may take", unlimited=True)


# ---- the actor ---------------------------------------------------------------------------------------------
class Worker:
    """One Ray actor: a model replica (optional: verification needs none) plus the tokenizer."""

    def __init__(self, model_config=None, tok=None, device: str = "cpu", threads: int = 1, dtype: str = "float32"):
        # torch is imported where a model is held: a verifier-only actor never imports it (~3 s of CPU a start);
        # one a scoring function imports later starts with `threads` threads (OMP_NUM_THREADS, read at its import)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        if model_config is not None or "torch" in sys.modules:
            import torch

            torch.set_num_threads(threads)
        self.model, self.tok, self.version = None, tok, None
        if model_config is not None:
            from ..model import Transformer

            # the learner's dtype: a bf16 learner's weights sampled in fp32 would draw other tokens
            self.model = Transformer(model_config).to(device=device, dtype=getattr(torch, dtype))
            self.model.eval().requires_grad_(False)

    def info(self) -> dict:
        return {**versions(), "host": socket.gethostname(), "pid": os.getpid()}

    def set_weights(self, version: int, state: dict) -> int:
        # a load that fails part way (weights of another shape) has copied some tensors: never the old version then
        self.version = None
        self.model.load_state_dict(state)
        self.version = version
        return version

    def _check(self, version):
        if self.model is None:
            raise PonderError("this Ray worker holds no model (a verifier-only pool)")
        if version != self.version:
            raise StaleWeightsError(f"Ray worker {os.getpid()} holds weights version {self.version}, "
                                    f"the learner's is {version}")

    def run(self, version: int, fn: Callable, prompts: list, kwargs: dict):
        """fn(model, tok, prompts, **kwargs): engine.sample or a ponder.scale method."""
        self._check(version)
        return fn(self.model, self.tok, prompts, **kwargs)

    def score(self, fn: Callable, completions: list, items: list) -> list:
        out = []
        for i, (c, it) in enumerate(zip(completions, items)):
            try:
                out.append(fn(c, it))
            except PonderError:  # (the local path's own line: a bad item names itself)
                raise
            except Exception as e:  # which input of the shard raised, said by the pool with the whole call's index
                raise ScoringFailed(i, item_id(it), type(e).__name__, headline(str(e).strip())) from None
        return out


class ScoringFailed(Exception):
    """A scorer raised on input `index` of an actor's shard (strings only: pickled back to the driver whatever the
    scorer's exception holds)."""

    def __init__(self, index: int, item_id, kind: str, message: str):
        super().__init__(index, item_id, kind, message)
        self.index, self.item_id, self.kind, self.message = index, item_id, kind, message

    def __str__(self):
        return f"input {self.index}: {self.kind}: {self.message}"


def _died(ray) -> tuple:
    """The exceptions of a call to an actor that died (its process exited, was killed, or its node was lost)."""
    return ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RAISED = re.compile(r"[A-Za-z_][\w.]*: \S")  # "ModuleNotFoundError: No module named 'x'"


def _cause(e) -> str:
    """The line naming the exception of an actor error (Ray's message is the actor's whole traceback, in terminal
    colours, under a line naming the actor's pid, ip and id), plus ' on IP' where it says the node."""
    text = _ANSI.sub("", str(e)).strip()
    lines = text.splitlines() or [type(e).__name__]
    line = next((ln for ln in reversed(lines) if _RAISED.match(ln) and not ln.startswith("traceback:")), lines[0])
    ip = re.search(r"\bip=([\w.:\[\]-]+)", lines[0])
    return f"{' on ' + ip.group(1) if ip else ''}: {line}"


def _sample(model, tok, prompts, **kw):
    from ..engine import sample

    return sample(model, tok, prompts, **kw)


# ModelConfig fields the forward does not read (the sampler stops on the tokenizer's EOS, not the config's)
_NOT_FORWARD = ("bos_token_id", "eos_token_id", "pad_token_id", "torch_dtype", "extra")


def _check_replica(config, dtype: str, model) -> None:
    """The actors' replicas (built at start() from `config` in `dtype`) must compute what `model` computes: its
    weights loaded into another dtype were cast silently (a bf16 replica rounding an fp32 learner's update), and into
    a config of the same shapes (another rope_theta, rms_norm_eps, rope_scaling) sampled from another policy."""
    have, want = asdict(config), asdict(model.config)
    diff = [f"{k} {have[k]!r} vs {want[k]!r}" for k in have if k not in _NOT_FORWARD and have[k] != want.get(k)]
    given = str(model.dtype).removeprefix("torch.")
    if given != dtype:
        diff.append(f"dtype {dtype} vs {given}")
    if diff:
        raise PonderError(f"RayPool.push: the pool's actors hold replicas of another model than the one pushed "
                          f"({'; '.join(diff[:3])}: started with vs pushed), which would sample from another policy "
                          "than the learner's; close() the pool and start() it with this model")


def _check_renderer(have, tok) -> None:
    """The actors render chat prompts with the tokenizer the pool started with: one of another chat template or
    other template variables than the caller's (a run's chat_template_kwargs, {"enable_thinking": False}) sampled
    from prompts the run's config.json does not describe, while the caller read their think state its own way."""
    if have is None or tok is None or have is tok:
        return
    a, b = getattr(have, "template_kwargs", None), getattr(tok, "template_kwargs", None)
    if a != b:
        what = f"template variables {a!r:.60}, the caller's {b!r:.60}"
    elif getattr(have, "chat_template", None) != getattr(tok, "chat_template", None):
        what = "another chat template than the caller's"
    else:
        return
    raise PonderError(f"RayPool: the pool's actors render chat prompts with {what}; close() the pool and start() it "
                      "with the caller's tokenizer")


def _bounds(n: int, parts: int) -> list[tuple[int, int]]:
    q, r = divmod(n, parts)
    out, lo = [], 0
    for k in range(parts):
        hi = lo + q + (k < r)
        if hi > lo:
            out.append((lo, hi))
        lo = hi
    return out


class RayPool:
    """N Ray actors for sampling, test-time methods and scoring, with versioned weights and fault recovery.

    Use inside `ray_session()`. `start(model, tok)` creates the actors (model None: a verifier-only pool);
    `push(model, version)` ships weights; `sample(prompts, **engine_kwargs)` equals engine.sample on the
    learner's model; `run(fn, prompts, **kw)` runs a ponder.scale method; `score(fn, completions, items)`
    maps a verifier. `replaced` counts actors replaced after dying."""

    def __init__(self, num_workers: int = 2, *, num_cpus: float = 1, num_gpus: float = 0, threads: int = 1,
                 max_replacements: int = 8, start_timeout_s: float | None = None,
                 call_timeout_s: float | str | None = None):
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 1:
            raise PonderError(f"Ray workers must be a positive integer, got {num_workers!r}")
        # (checked here: a bad one failed later as a raw error, max_replacements only as the first actor died)
        for name, v, least in (("threads", threads, 1), ("max_replacements", max_replacements, 0)):
            if isinstance(v, bool) or not isinstance(v, int) or v < least:
                raise PonderError(f"RayPool: {name} must be an integer >= {least}, got {v!r}")
        for name, v in (("num_cpus", num_cpus), ("num_gpus", num_gpus)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v >= 0):
                raise PonderError(f"RayPool: {name} (per worker) must be a finite number >= 0, got {v!r}")
        self.start_timeout_s = start_timeout(start_timeout_s)  # checked here, before any actor is created
        self.call_timeout_s = call_timeout(call_timeout_s)
        self.num_workers, self.threads, self.max_replacements = num_workers, threads, max_replacements
        self.options = {"num_cpus": num_cpus, "num_gpus": num_gpus}
        self.actors: list = []
        self.version = None
        self.replaced = 0
        self._args = None
        self._state = None
        self._push_failed = None  # why the last push failed, if it did (the pool then holds no current weights)
        self._where: list[str] = []  # "pid P on HOST" of each actor, for the message naming a dead one
        self._closes = 0  # close() calls so far: a call running across one (from another thread) stops

    # ---- lifecycle --------------------------------------------------------------------------------------
    def start(self, model=None, tok=None) -> RayPool:
        ray = _ray()
        if not ray.is_initialized():
            raise PonderError("RayPool.start: no Ray session (use ponder.distributed.ray_workers.ray_session)")
        if self.actors:  # new actors beside the running ones: those leak, holding the CPUs the new ones wait for
            raise PonderError(f"RayPool.start: the pool already runs {len(self.actors)} actors; close() it first")
        device = "cuda" if self.options["num_gpus"] else "cpu"
        self._args = (model.config if model is not None else None, tok, device, self.threads,
                      str(model.dtype).removeprefix("torch.") if model is not None else "float32")
        self.check_fits(ray.cluster_resources())  # an actor never placed would make ray.get below wait forever
        self._cls = ray.remote(**self.options)(Worker)
        self.replaced = 0  # max_replacements bounds the deaths of this start's actors, not of a closed pool's
        # Any way out but a start: its actors killed (a pending one left behind takes the CPUs once they free up;
        # refused ones hold theirs for as long as the caller's Ray session lasts). The try covers their creation,
        # one at a time, and the wait for their infos: a Ctrl-C there left the actors made so far running.
        self.actors = []
        try:
            for _ in range(self.num_workers):
                self.actors.append(self._cls.remote(*self._args))
            refs = [a.info.remote() for a in self.actors]
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=self.start_timeout_s)
            if len(ready) < len(refs):
                raise self._not_placed(ray, len(ready))
            infos = []
            for k, ref in enumerate(refs):
                try:
                    infos.append(ray.get(ref))
                except _died(ray) as e:  # its creation raised: a module the driver has and a Ray node lacks, say
                    raise PonderError(f"Ray worker {k} failed to start{_cause(e)}") from None
            check_versions(versions(), infos)
        except BaseException:
            self.close()
            raise
        self._where = [f"pid {i['pid']} on {i['host']}" for i in infos]
        return self

    def check_fits(self, have: dict, local: bool = False) -> None:
        """Refuse a pool whose actors need more CPUs or GPUs than `have` (a cluster's resources) holds in all.
        local: `have` is the CPUs a local instance would get, checked before it starts (its GPUs are not counted)."""
        for res, each in (("CPU", self.options["num_cpus"]), ("GPU", self.options["num_gpus"])):
            n = have.get(res, 0)
            if each and not (local and res == "GPU") and self.num_workers * each > n + 1e-9:
                fewer = f"--ray-workers {int(n // each)} or fewer"
                if res == "CPU" and self.threads > 1 and each == self.threads:  # (--threads T: T CPUs an actor)
                    fewer = (f"{fewer}, or fewer --threads" if n >= each else f"--threads {int(n)} or fewer") + \
                        " (each actor reserves a CPU per thread)"
                raise PonderError(
                    f"{self.num_workers} Ray workers x {each:g} {res} each need {self.num_workers * each:g} {res}s, but "
                    + (f"a local Ray instance has {n:g} (the cores this process may use); use {fewer}, or --ray "
                       "ADDRESS of a larger cluster" if local else
                       f"the Ray cluster has {n:g}; use {fewer} (or add nodes first)"))

    def _not_placed(self, ray, started: int) -> PonderError:
        """Actors not running by the deadline: kill every actor start() created (a pending one would take the CPUs
        when they free up, and hold them) and say what the cluster has free."""
        need = self._need(ray, self.num_workers, started)
        self.close()
        return PonderError(
            f"Ray workers did not start within {self.start_timeout_s:g} s ({started} of {self.num_workers} running): "
            f"they need {need} (other actors or jobs hold the rest); use fewer --ray-workers, free the cluster "
            f"(`ray status`), or raise {START_TIMEOUT_ENV}")

    def _need(self, ray, n: int, started: int) -> str:
        """'N CPUs (E each), the Ray cluster has F of T free' for n actors, counting as free what `started` of them
        hold (read before they are killed: Ray releases a killed actor's resources late)."""
        free, total = ray.available_resources(), ray.cluster_resources()
        need = []
        for res, each in (("CPU", self.options["num_cpus"]), ("GPU", self.options["num_gpus"])):
            if each:
                have = min(free.get(res, 0) + started * each, total.get(res, 0))
                need.append(f"{n * each:g} {res}{'s' if n * each != 1 else ''} ({each:g} each), the Ray cluster has "
                            f"{have:g} of {total.get(res, 0):g} free")
        return "; ".join(need)

    def close(self) -> None:
        ray = _ray()
        self._closes += 1  # first: a call in another thread must see the close before its actors' deaths
        for a in self.actors:
            with contextlib.suppress(Exception):
                ray.kill(a)
        # the weights go with the actors: kept, a pool started again (with another model, or in another session)
        # would refresh its new actors with these instead of refusing to sample before a push
        self.actors, self._state, self.version, self._push_failed = [], None, None, None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def push(self, model, version: int) -> None:
        """Make `model`'s weights, tagged `version`, the ones every actor samples with."""
        ray = _ray()
        if not self.actors or self._args[0] is None:
            raise PonderError("RayPool.push: start the pool with a model first")
        _check_replica(self._args[0], self._args[4], model)
        state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        self._state, self.version = ray.put(state), version  # (a replacement started below loads these)
        self._push_failed = None
        refs = [a.set_weights.remote(version, self._state) for a in self.actors]
        deadline, closes = self._deadline(), self._closes
        try:
            for k, (actor, ref) in enumerate(zip(list(self.actors), refs)):
                try:
                    ray.get(ref, timeout=self._left(deadline))
                except ray.exceptions.GetTimeoutError:
                    raise self._hung(ray, k, actor, "loading new weights") from None
                except _died(ray):
                    if self._closes != closes:  # (killed by close() in another thread: the pool is empty now)
                        raise PonderError("RayPool: closed (by another thread) while a push of weights ran on "
                                          "it") from None
                    if self.actors[k] is actor:
                        self._replace(k, "while loading new weights")  # the replacement starts with them
                except ray.exceptions.RayTaskError as e:  # e.g. weights of another architecture than the replicas'
                    raise self._actor_error(k, e) from e
        except BaseException as e:
            # Not every actor holds them (some may hold the new ones, one half-loaded ones): the pool holds no
            # weights it could call current, so a later call is refused until a push succeeds, instead of sampling
            # from actors of different weights, or of weights the pool says they hold and they lack.
            self._state, self.version = None, None
            self._push_failed = str(e) or type(e).__name__
            raise

    def _replace(self, k: int, during: str) -> None:
        """Start a new actor in place of dead actor k, with the current weights. A replacement that dies while
        starting is replaced in turn; past max_replacements deaths in all, a PonderError names worker k."""
        ray = _ray()
        where, then = self._where[k] if k < len(self._where) else "?", ""
        while True:
            self.replaced += 1
            if self.replaced > self.max_replacements:
                raise PonderError(
                    f"Ray worker {k} ({where}) died {during}{then}; giving up after {self.replaced} actor deaths "
                    f"(max_replacements={self.max_replacements}): check the Ray nodes (`ray status`, memory) and "
                    "rerun; a grpo run continues from its last checkpoint, which is intact, with --resume RUN_DIR")
            with contextlib.suppress(Exception):
                ray.kill(self.actors[k])
            actor = self._cls.remote(*self._args)
            self.actors[k] = actor  # a replacement that dies below is the one killed on the next round
            try:
                # (bounded as start() is: CPUs another job took since the death would leave it pending forever)
                info = ray.get(actor.info.remote(), timeout=self.start_timeout_s)
                try:
                    check_versions(versions(), [info], first=k)
                except PonderError:  # refused, never to be used: the next call's replacement is checked again
                    with contextlib.suppress(Exception):
                        ray.kill(actor)
                    raise
                if self._state is not None:
                    try:
                        ray.get(actor.set_weights.remote(self.version, self._state), timeout=self._left(
                            self._deadline()))
                    except ray.exceptions.GetTimeoutError:  # (not the start deadline's: it is running)
                        raise self._hung(ray, k, actor, "loading the weights as a replacement") from None
                    except ray.exceptions.RayTaskError as e:  # (an out-of-memory: Ray's whole traceback otherwise)
                        raise self._actor_error(k, e) from e
            except _died(ray) as e:  # (its creation's error, where it raised one, is said if the pool gives up)
                then = ", then its replacement while starting" + (
                    f" (it failed{_cause(e)})" if getattr(e, "actor_init_failed", False) else "")
                continue
            except ray.exceptions.GetTimeoutError:
                need = self._need(ray, 1, 0)
                with contextlib.suppress(Exception):
                    ray.kill(actor)  # pending, it would take the CPUs once they free up
                raise PonderError(
                    f"Ray worker {k} ({where}) died {during}{then}, and its replacement did not start within "
                    f"{self.start_timeout_s:g} s: it needs {need} (other actors or jobs hold the rest); free the "
                    f"cluster (`ray status`) or raise {START_TIMEOUT_ENV}, and rerun; a grpo run continues from its "
                    "last checkpoint, which is intact, with --resume RUN_DIR") from None
            if k < len(self._where):
                self._where[k] = f"pid {info['pid']} on {info['host']}"
            return

    def _deadline(self) -> float:
        return time.monotonic() + self.call_timeout_s

    @staticmethod
    def _left(deadline: float) -> float | None:
        """ray.wait/ray.get's timeout up to `deadline` (None: no limit)."""
        return None if deadline == math.inf else max(0.0, deadline - time.monotonic())

    def _hung(self, ray, k: int, actor, what: str) -> PonderError:
        """Actor k did not answer a call within call_timeout_s: kill it (its CPUs freed, nothing left to answer
        late; the next call replaces it as a dead actor) and say which worker, how long, and how to allow more."""
        with contextlib.suppress(Exception):
            ray.kill(actor)
        where = self._where[k] if k < len(self._where) else "?"
        return PonderError(
            f"Ray worker {k} ({where}) did not answer within {self.call_timeout_s:g} s ({what}) and was stopped: a "
            f"hung worker or a node that stopped answering; if calls this long are expected, raise {CALL_TIMEOUT_ENV} "
            "(RayPool's call_timeout_s; 'none': no limit); a grpo run continues from its last checkpoint with "
            "--resume RUN_DIR")

    def _actor_error(self, k: int, e, lo: int = 0, n: int | None = None, what: str = "",
                     hi: int | None = None) -> PonderError:
        """An exception raised on actor k as one line: Ray's wrapper's message is the actor's whole traceback (in
        terminal colours), which the CLI would cut to its first line, 'ray::Worker.score() (pid=..., ...)'. A
        PonderError (a bad item, a scorer's NaN) stays the local path's own line; anything else names the worker,
        and a scorer's error the input it raised on (its index in the call, lo the shard's start, of n; its item's
        id): 'Ray worker 1 (...): ValueError: ...' named none of the call's thousands of completions. A sampling
        (or scale method's) call names the prompts of its shard, lo..hi (hi: the shard's end) of n, 1-based."""
        cause = getattr(e, "cause", None)
        if isinstance(cause, PonderError):
            return cause
        where = self._where[k] if k < len(self._where) else "?"
        if isinstance(cause, ScoringFailed):  # (in parts: score_split says the index in the whole call)
            from ..verify.registry import ScoringError

            return ScoringError(lo + cause.index, n, cause.item_id, cause.kind, cause.message,
                                f"Ray worker {k} ({where}): ", what or "scoring")
        text = str(cause if cause is not None else e).strip()
        kind = f"{type(cause).__name__}: " if cause is not None else ""
        if what == "sampling" and n is not None and hi is not None:  # (as the hang's "sampling inputs a..b of n")
            kind = (f"prompt {hi} of {n}: " if hi == lo + 1 else f"prompts {lo + 1}..{hi} of {n}: ") + kind
        return PonderError(f"Ray worker {k} ({where}): {kind}{headline(text)}")

    # ---- sharded work -----------------------------------------------------------------------------------
    def _sharded(self, n: int, call: Callable, version=None, what: str = "sampling",
                 halt: threading.Event | None = None) -> list:
        """call(actor, lo, hi) -> ObjectRef of a list of hi - lo results, over contiguous shards of range(n);
        a dead actor is replaced and a stale one refreshed, and their shard re-issued. `version`: the weights the
        calls expect. A call unanswered within call_timeout_s is a PonderError, its actor killed; so is the pool's
        close() (from another thread) or `halt` set while the calls run (checked every _POLL_S s): the other
        shards' calls are left to finish on their actors, their results unused."""
        ray = _ray()
        if halt is not None and halt.is_set():
            raise _halted_error(what)
        if not self.actors:
            raise PonderError("RayPool: no actors (call start() or push() first)")
        closes = self._closes

        def closed():  # (a dead actor of a closed pool is not replaced: that would start actors nobody closes)
            return PonderError(f"RayPool: closed (by another thread) while a {what} call ran on it; its results "
                               "are lost")
        shards = _bounds(n, len(self.actors))
        results: list = [None] * len(shards)
        pending = {}

        def submit(s, k):
            actor = self.actors[k]
            pending[call(actor, *shards[s])] = (s, k, actor, self._deadline())

        for s in range(len(shards)):
            submit(s, s)
        while pending:
            first = min(pending, key=lambda r: pending[r][3])  # the call whose deadline comes first
            wait = self._left(pending[first][3])
            if halt is not None:
                wait = _POLL_S if wait is None else min(wait, _POLL_S)
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=wait)
            if halt is not None and halt.is_set():
                raise _halted_error(what)
            if self._closes != closes:
                raise closed()
            if not ready:
                if time.monotonic() < pending[first][3]:  # a poll for `halt`, not the deadline
                    continue
                s, k, actor, _ = pending[first]
                lo, hi = shards[s]
                raise self._hung(ray, k, actor, f"{what} inputs {lo + 1}..{hi} of {n}")
            ref = ready[0]
            s, k, actor, _ = pending.pop(ref)
            try:
                results[s] = ray.get(ref)
            except StaleWeightsError:
                if self._state is None:
                    raise
                if version != self.version:  # refreshed to the pool's weights, the call would be refused forever
                    raise PonderError(f"RayPool: weights version {self.version} were pushed while a call expecting "
                                      f"version {version} ran (the pool shared by two callers: another thread, an "
                                      "interrupted run's rollout); use one pool per caller") from None
                try:
                    ray.get(actor.set_weights.remote(self.version, self._state), timeout=self._left(
                        self._deadline()))
                except ray.exceptions.GetTimeoutError:
                    raise self._hung(ray, k, actor, "refreshing its stale weights") from None
                except _died(ray):  # died while being refreshed: as a death mid-rollout
                    if self._closes != closes:
                        raise closed() from None
                    if self.actors[k] is actor:
                        self._replace(k, "while its stale weights were refreshed")
                except ray.exceptions.RayTaskError as e:  # (raised in this handler: the one below never sees it)
                    raise self._actor_error(k, e) from e
                submit(s, k)
            except _died(ray):
                if self._closes != closes:
                    raise closed() from None
                if self.actors[k] is actor:  # not replaced yet by another failed shard of the same actor
                    self._replace(k, "mid-call")
                submit(s, k)
            except ray.exceptions.RayTaskError as e:
                raise self._actor_error(k, e, shards[s][0], n, what, shards[s][1]) from e
        out = [x for part in results for x in part]
        if len(out) != n:  # never hand back fewer (or more) results than asked for
            raise PonderError(f"Ray pool returned {len(out)} results for {n} inputs")
        return out

    def run(self, fn: Callable, prompts: Sequence, *, index_offset: int = 0, halt: threading.Event | None = None,
            **kw) -> list:
        """fn(model, tok, shard, index_offset=global start, **kw) over the actors, results in prompt order.
        `halt`: an Event whose setting (from another thread) makes the call raise a PonderError at once."""
        prompts = list(prompts)
        if self.actors and self._args[0] is None:  # (it said "call push(model, version)", which push then refused)
            raise PonderError("RayPool: the pool was started without a model (a verifier-only pool: score() only); "
                              "close() it and start(model, tok) to sample")
        if self.actors and self._state is None:  # the actors' replicas hold the random weights they were built with
            if self._push_failed:
                raise PonderError(f"RayPool: the last push of weights failed ({self._push_failed}); push them again "
                                  "before sampling")
            raise PonderError("RayPool: no weights pushed yet; call push(model, version) before sampling")
        version = self.version
        return self._sharded(len(prompts), lambda a, lo, hi: a.run.remote(
            version, fn, prompts[lo:hi], {**kw, "index_offset": index_offset + lo}), version, halt=halt)

    def sample(self, prompts: Sequence, *, n: int = 1, halt: threading.Event | None = None, **kw) -> list:
        """engine.sample(learner model, tok, prompts, n=n, **kw), drawn on the actors; `halt` as run's."""
        out = self.run(_sample, prompts, n=n, halt=halt, **kw)
        if any(len(g) != n for g in out):
            raise PonderError(f"Ray pool returned groups of sizes {[len(g) for g in out]}, expected {n}")
        return out

    def score(self, fn: Callable, completions: Sequence, items: Sequence, *,
              halt: threading.Event | None = None) -> list:
        """[fn(c, item) ...] on the actors, in order (a verifier: Reward, Verdict function, judge); `halt` as
        run's."""
        if len(completions) != len(items):
            raise PonderError(f"score: {len(completions)} completions but {len(items)} items")
        completions, items = list(completions), list(items)
        return self._sharded(len(items), lambda a, lo, hi: a.score.remote(fn, completions[lo:hi], items[lo:hi]),
                             what="scoring", halt=halt)

    # ---- the trainer's hooks ------------------------------------------------------------------------------
    def generate_fn(self) -> Callable:
        """rl.trainer's generate_fn: pushes the learner's weights when their version changed, then samples.
        One per training run (train_ray makes one each time): versions count the updates of one run, so a
        function kept from an earlier run on the same model would take that run's step 0 for this one's.
        Its halt() (the trainer's, as a run ends with a rollout running ahead) makes a call in flight and every
        later one raise at once; a call after the pool was closed raises rather than start new actors."""

        pushed, seen, halt = [None], [], threading.Event()

        def generate(model, tok, prompts, *, version, **kw):
            if halt.is_set():
                raise _halted_error("sampling")
            if seen and seen[0] != self._closes:  # (a late call of an ended run: its actors would leak)
                raise PonderError("RayPool: closed during the training run this generate_fn is for; make a new "
                                  "one (pool.generate_fn()) for a new run")
            if not self.actors:
                self.start(model, tok)
            seen[:] = [self._closes]
            if pushed[0] != (id(model), version) or self.version != version:  # new weights since the last push
                _check_renderer(self._args[1], tok)  # (the run's tokenizer: the same each call)
                self.push(model, version)
                pushed[0] = (id(model), version)
            return self.sample(prompts, halt=halt, **kw)

        generate.halt = halt.set
        return generate

    def score_fn(self) -> Callable:
        """rl.trainer's score_fn, with halt() as generate_fn's: one per training run (once halted, it stays so)."""
        halt = threading.Event()

        def score(reward, completions, items):
            return self.score(reward, completions, items, halt=halt)

        score.halt = halt.set
        return score


_POLL_S = 0.1  # how often a call that can be halted looks at its Event


def _halted_error(what: str) -> PonderError:
    return PonderError(f"RayPool: {what} call halted: the training run its generate_fn/score_fn was made for has "
                       "ended (make new ones for each run: pool.generate_fn(), pool.score_fn())")


# ---- commands -----------------------------------------------------------------------------------------------
# The commands enter the Ray session and start their actors only once the local path's own checks of the inputs
# have passed (a missing file, an --out that may not be written, a bad reward spec): those used to fail after
# seconds of Ray start-up (or, with an unreachable --ray address, as that error instead of the input's).
def _connect(stack: contextlib.ExitStack, address, num_cpus, pool: RayPool, own: bool,
             start: Callable[[RayPool], None]) -> Callable[[], RayPool]:
    """get() -> `pool`, on its first call entering the Ray session (on `stack`) and, if the pool is ours (`own`),
    starting it with start(pool), to be closed on exit."""
    done = []

    def get() -> RayPool:
        if not done:
            if own and address in (None, "local") and not _ray().is_initialized():  # refused before Ray starts
                pool.check_fits({"CPU": local_cpus(num_cpus)}, local=True)
            stack.enter_context(ray_session(address, num_cpus=num_cpus))
            if own:
                stack.callback(pool.close)
                start(pool)
            done.append(True)
        return pool

    return get


def _actor_threads(threads: int | None) -> dict:
    """RayPool's settings for actors that run the model with `threads` torch threads (`--threads`; None: 1): each
    reserves a CPU per thread, so that Ray places no more threads on a node than it has CPUs."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise PonderError(f"threads must be a positive integer, got {threads!r}")
    return {"threads": threads or 1, "num_cpus": threads or 1}


def _recorded_ray(run_dir, key: str):
    """(config.json's path, the value of `key` in its "ray" section or None): None too where there is no
    config.json to read (train says what is wrong)."""
    f = Path(run_dir) / "config.json"
    try:
        saved = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f, None
    ray = saved.get("ray") if isinstance(saved, dict) else None
    return f, (ray.get(key) if isinstance(ray, dict) else None)


def _run_ray(run_dir, key: str) -> int | None:
    """A positive count a `grpo --ray` run records in its config.json's "ray" section (key "threads" or
    "workers"); None where none is recorded (a run made without Ray, or before it was recorded) or there is no
    config.json to read (train says what is wrong)."""
    f, t = _recorded_ray(run_dir, key)
    if t is not None and (isinstance(t, bool) or not isinstance(t, int) or t < 1):
        raise PonderError(f"{f}: ray.{key}: expected a positive integer, got {json.dumps(t)[:40]}")
    return t


def run_actor_threads(run_dir) -> int | None:
    """The actors' threads a `grpo --ray` run records in its config.json ("ray": {"threads": T}), which a resume
    without --threads samples with again (it sampled on 1-thread actors); None where none is recorded (a run made
    without Ray, or before it was recorded) or there is no config.json to read (train says what is wrong)."""
    return _run_ray(run_dir, "threads")


def run_ray_workers(run_dir) -> int | None:
    """The actors a `grpo --ray` run records in its config.json ("ray": {"workers": W}), which a resume without
    --ray-workers starts again (it started the default 2 whatever the run used); None where none is recorded."""
    return _run_ray(run_dir, "workers")


def run_ray_gpus(run_dir) -> float | None:
    """The GPUs per actor a `grpo --ray --ray-gpus G` run records in its config.json ("ray": {"gpus": G}), which a
    resume without --ray-gpus takes again (its actors sampled on the CPU, in another precision's arithmetic than the
    run's); None where none is recorded or there is no config.json to read."""
    f, g = _recorded_ray(run_dir, "gpus")
    if g is not None and (isinstance(g, bool) or not isinstance(g, (int, float)) or not (math.isfinite(g) and g >= 0)):
        raise PonderError(f"{f}: ray.gpus: expected a number >= 0, got {json.dumps(g)[:40]}")
    return g


def train_ray(cfg, run_dir, *, address: str | None = None, workers: int | None = None, resume: bool = False,
              progress: bool = True, num_cpus: int | None = None, num_gpus_per_worker: float | None = None,
              threads: int | None = None, pool: RayPool | None = None, **train_kw) -> Path:
    """`ponder grpo --ray [ADDRESS]`: rollouts and rewards on `workers` Ray actors, the learner here (None: 2, or
    on resume the count the run recorded, config.json's "ray": {"workers"}). threads: each actor's torch threads (`--threads`), and the CPUs it reserves (None: 1). num_gpus_per_worker (`--ray-gpus`; None: 0, or on
    resume the run's "ray": {"gpus"}). `pool`: an already
    started pool to use (and leave running) instead of new actors."""
    from ..rl.trainer import train

    own = pool is None
    # (--threads set the learner's threads alone: the actors, which sample, kept 1 each; and a resume without it
    # sampled on 1-thread actors whatever the run's had: their count is recorded and reused)
    if own and resume and threads is None:
        threads = run_actor_threads(run_dir)
    if own and resume and workers is None:  # (a plain --resume started 2 actors, whatever the run had)
        workers = run_ray_workers(run_dir)
    if own and resume and num_gpus_per_worker is None:  # (a plain --resume of a --ray-gpus run sampled on CPUs)
        num_gpus_per_worker = run_ray_gpus(run_dir)
    workers = 2 if workers is None else workers
    pool = RayPool(workers, num_gpus=num_gpus_per_worker or 0, **_actor_threads(threads)) if own else pool
    with contextlib.ExitStack() as stack:
        get = _connect(stack, address, num_cpus, pool, own, lambda p: None)

        def checked(model, tok):  # train's inputs are checked, its run directory not written yet
            if not get().actors:
                pool.start(model, tok)  # (a pool that cannot start fails here, not after the run's first writes)

        return train(cfg, run_dir, resume=resume, progress=progress, generate_fn=pool.generate_fn(),
                     score_fn=pool.score_fn(), on_checked=checked, extra_config={"ray": {"threads": pool.threads, "workers": pool.num_workers,
                                                               "gpus": pool.options["num_gpus"]}},
                     **train_kw)


def verify_file_ray(kind: str, input_path: str, output_path: str | None = None, *, address: str | None = None,
                    workers: int = 2, num_cpus: int | None = None, pool: RayPool | None = None) -> dict:
    """`ponder verify KIND FILE --ray [ADDRESS]`: ponder.verify.run.verify_file with the rows scored on Ray
    actors. Same checks, output rows and summary as the local path (tests compare them byte for byte)."""
    from ..verify.run import verify_file

    own = pool is None
    pool = RayPool(workers) if own else pool
    with contextlib.ExitStack() as stack:
        get = _connect(stack, address, num_cpus, pool, own, lambda p: p.start())
        return verify_file(kind, input_path, output_path, progress=False,
                           score_fn=lambda fn, completions, rows: get().score(fn, completions, rows))


def _eval_shard(model, tok, prompts, *, name, n, mk, common, seed, chunk, index_offset):
    """evaluate()'s generation loop over one shard of problems, every call keyed by global indices."""
    from .. import scale
    from ..evaluate import draw_chunk

    fn, outcomes = scale.METHODS[name], []
    for start in range(0, len(prompts), chunk):
        outcomes += draw_chunk(fn, model, tok, prompts[start:start + chunk], sampling=name == "sampling", n=n,
                               seed=seed, offset=index_offset + start, kwargs={**common, **mk})
    return outcomes


def evaluate_ray(model, tok, items, *, address: str | None = None, workers: int = 2, num_cpus: int | None = None,
                 threads: int | None = None, pool: RayPool | None = None, **kwargs) -> dict:
    """`ponder eval --ray [ADDRESS]`: ponder.evaluate.evaluate with the problems sharded over Ray actors and
    the verdicts computed there (`kwargs` are evaluate's, without `progress`). Every test-time method keys
    its random streams by global problem index, so samples, verdicts and metrics equal the local run's
    (tests compare them) up to float differences from batch composition: each actor batches its own share from
    its start, as the local run batches from problem 0 (the tests, fp32 on CPU, find the same tokens; in bf16 a greedy
    token can differ where two logits tie within rounding); latencies are the actors'. threads: as train_ray's."""
    from .. import evaluate as ev

    own = pool is None
    pool = RayPool(workers, **_actor_threads(threads)) if own else pool
    with contextlib.ExitStack() as stack:
        get = _connect(stack, address, num_cpus, pool, own, lambda p: p.start(model, tok))

        def setup():  # after evaluate's checks (bad input is refused before Ray starts), before its clock
            p = get()
            _check_renderer(p._args[1] if p._args else None, tok)  # (a pool never started: push says so)
            p.push(model, (p.version or 0) + 1)  # a version no earlier push used: these weights

        def generate(*, fn, name, prompts, n, mk, common, seed, chunk):
            return get().run(functools.partial(_eval_shard, name=name, n=n, mk=mk, common=common, seed=seed,
                                               chunk=chunk), prompts)

        return ev.evaluate(model, tok, items, progress=False, generate_fn=generate, setup_fn=setup,
                           score_fn=lambda fn, completions, its: get().score(fn, completions, its),
                           extra={**(kwargs.pop("extra", None) or {}), "ray_workers": pool.num_workers,
                                  "ran_on": _ran_on(pool)}, **kwargs)


def _ran_on(pool: RayPool) -> dict:
    """evaluate's "ran_on" for samples drawn on `pool`'s actors (the local path's keys: --json scripts read them):
    their device type and torch threads; their torch and ponder are the driver's (start() refuses others)."""
    from ..evaluate import ran_on_dict

    return ran_on_dict("cuda" if pool.options["num_gpus"] else "cpu", pool.threads)
