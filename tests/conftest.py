import contextlib
import fcntl
import json
import math
import os
import signal
import sys
from pathlib import Path

import pytest
import torch

import ponder

torch.set_num_threads(1)  # one thread: two spin against each other on a busy 2-core box
# Checkpoints are not fsynced in the suite (subprocesses inherit it): thousands of saves, and an fsync behind a
# disk's backlog of dirty pages can take seconds. test_checkpoint checks the synced saves with it unset.
os.environ.setdefault("PONDER_FSYNC", "0")
# The suite's own deadlines, not a caller's environment's: a PONDER_DIST_TIMEOUT_S or PONDER_RAY_*_TIMEOUT_S set
# where the tests run would change what the tests that wait on them see (the tests that read them set their own).
for _name in ("PONDER_DIST_TIMEOUT_S", "PONDER_RAY_START_TIMEOUT_S", "PONDER_RAY_CALL_TIMEOUT_S"):
    os.environ.pop(_name, None)
# A suite started in the background from a script (`pytest &`: SIGINT ignored) or under nohup (SIGHUP ignored)
# passes those ignored signals on to every command a test starts, which then rightly keeps ignoring them: the
# tests that stop a command with them would wait on it. The suite runs with them at their usual handling.
for _sig, _handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGHUP, signal.SIG_DFL)):
    if signal.getsignal(_sig) == signal.SIG_IGN:
        signal.signal(_sig, _handler)

# Bytecode is cached while the suite runs, PYTHONDONTWRITEBYTECODE or not (the CI machines set it): the suite starts
# hundreds of Python processes that import ponder (the CLI's, Ray actors, gloo ranks, each xdist worker), and without
# __pycache__ each one compiled ponder's modules from source again, ~1 s of CPU a process on a 2-core AMD EPYC, and
# each worker's collection took 26 s instead of 10 s (pytest caches its rewritten test modules only where bytecode is
# written). The files go where Python puts them, __pycache__/ (ignored by git); subprocesses inherit the setting.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
    sys.dont_write_bytecode = False

# The test files that take longest, longest first (one process, clean-clone run on a 2-core AMD EPYC, 2026-12-07:
# 383, 205, 193, 105, 48, 45, 41, 32, 29 s; every other file under 20 s). The 2 workers (pyproject's addopts) take
# whole files in this order - the longest first, then the short ones fill in - which ends them together;
# --no-loadscope-reorder keeps it (xdist's default orders files by their number of tests, which queued
# test_distributed.py's few long Ray and gloo runs late and left one worker idle for minutes at the end).
LONGEST_FIRST = ["test_distributed.py", "test_verify_code.py", "test_cli.py", "test_rl_trainer.py", "test_evaluate.py",
                 "test_train.py", "test_scale.py", "test_verify_math.py", "test_probes.py"]


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # (stable: each file's own order kept)


CORPUS = [
    "Problem: 3 + 4 * 2 = ?\nSolution: 4 * 2 = 8. 3 + 8 = 11. The answer is \\boxed{11}.<|endoftext|>",
    "Problem: (7 - 2) * 3 = ?\nSolution: Answer: 15<|endoftext|>",
    "the quick brown fox jumps over the lazy dog. 12 + 30 = 42.",
] * 20


@pytest.fixture(scope="session")
def tokenizer():
    return ponder.train_tokenizer(CORPUS, vocab_size=300)


@pytest.fixture(scope="session")
def tiny_random(tokenizer):
    """A random tiny Qwen3 with a real tokenizer; weights large enough that outputs vary."""
    cfg = ponder.ModelConfig(vocab_size=320, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2)
    return ponder.Transformer(cfg).init_weights(0, std=0.2).eval(), tokenizer


@pytest.fixture(scope="session")
def sentencepiece_tokenizer():
    """A Llama 2 / Mistral style tokenizer.json (the legacy sentencepiece conversion): BPE with byte fallback,
    a Prepend("▁") normalizer that puts a dummy prefix before a sequence's first word, the Metaspace-like
    decoder that strips it, and a post-processor that adds BOS. Returns a fresh `tokenizers.Tokenizer`."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, normalizers, trainers
    from tokenizers.processors import TemplateProcessing

    hf = HFTokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    hf.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    hf.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                    decoders.Strip(" ", 1, 0)])
    texts = ["the quick brown fox jumps over the lazy dog. 12 + 30 = 42.", "Problem: 2 + 2 = ?\nSolution: 4",
             "The answer is 4", "[INST] 2 + 2? [/INST] 4"] * 20
    hf.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=200, special_tokens=["<unk>", "<s>", "</s>"],
                                                      show_progress=False))
    hf.post_processor = TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    text = hf.to_str()
    return lambda: HFTokenizer.from_str(text)


@pytest.fixture(scope="session")
def byte_fallback_tokenizer():
    """A Llama 2 / Mistral style tokenizer.json whose vocabulary holds the 256 byte tokens <0x00>..<0xFF>, as the
    real ones do: a character the BPE vocabulary lacks (an emoji, a rare CJK one, "²") is written byte by byte."""
    import json

    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, normalizers, trainers
    from tokenizers.processors import TemplateProcessing

    hf = HFTokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    hf.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    hf.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                    decoders.Strip(" ", 1, 0)])
    hf.train_from_iterator(["the quick brown fox jumps over the lazy dog. 12 + 30 = 42.", "café naïve"] * 20,
                           trainers.BpeTrainer(vocab_size=400, show_progress=False, special_tokens=[
                               "<unk>", "<s>", "</s>", *(f"<0x{i:02X}>" for i in range(256))]))
    d = json.loads(hf.to_str())  # the byte tokens are plain vocabulary, not added (special) tokens
    d["added_tokens"] = [t for t in d["added_tokens"] if not t["content"].startswith("<0x")]
    hf = HFTokenizer.from_str(json.dumps(d))
    hf.post_processor = TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return ponder.Tokenizer(hf, eos_token="</s>", bos_token="<s>")


@pytest.fixture
def hold_run():
    """hold(d): DIR/.lock flocked as another ponder process (pid 4242) running in d holds it; returns the open
    file, whose close() lets go (any still open are closed at the test's end)."""
    held = []

    def hold(d):
        f = open(Path(d) / ".lock", "w")
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        f.write("4242\n")
        f.flush()
        held.append(f)
        return f

    yield hold
    for f in held:
        f.close()


# The kinds of metric rows training.png was drawn for in this session, in every process of it: the xdist workers,
# and the ranks and scripts a test starts that draw through plot_each_kind_of_rows_once (they inherit the
# variable). One repr a line in PLOTTED_ENV's file, appended under an flock; each process caches what it has read.
# A kind drawn by one worker is not drawn again by the other (3 kinds, ~7 s of matplotlib), nor by a spawned rank
# (the two_ranks spawn's rank 0 drew 6).
PLOTTED_ENV = "PONDER_TEST_PLOTTED"
_PLOTTED = set()


def pytest_configure(config):
    """The session's file of kinds drawn: made by the first process (xdist's controller, or the one process of
    -n 0), before the workers start, so that they and everything they start inherit its path."""
    if PLOTTED_ENV not in os.environ:
        import tempfile

        fd, path = tempfile.mkstemp(prefix="ponder-test-plotted-")
        os.close(fd)
        os.environ[PLOTTED_ENV] = path
        config._ponder_plotted = path


def pytest_unconfigure(config):
    path = getattr(config, "_ponder_plotted", None)
    if path is not None:
        os.environ.pop(PLOTTED_ENV, None)
        with contextlib.suppress(OSError):
            os.unlink(path)


def _plotted(kind: str) -> bool:
    """Whether training.png was drawn for `kind` in this session (by any of its processes)."""
    path = os.environ.get(PLOTTED_ENV)
    if kind not in _PLOTTED and path is not None:
        with contextlib.suppress(OSError), open(path) as f:
            _PLOTTED.update(f.read().splitlines())
    return kind in _PLOTTED


def _drawn(kind: str) -> None:
    _PLOTTED.add(kind)
    path = os.environ.get(PLOTTED_ENV)
    if path is not None:
        with contextlib.suppress(OSError), open(path, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # (one line at a time; released as the file closes)
            f.write(kind + "\n")


def _kind(v):
    if isinstance(v, float):
        return "nan" if math.isnan(v) else "inf" if math.isinf(v) else "huge" if abs(v) > 1e300 else "float"
    return type(v).__name__


def plot_each_kind_of_rows_once(monkeypatch, always=()):
    """A run's training.png is ~1.5 s of matplotlib (3 s for 170 rows), most of an in-process run's time in these
    tests. It is drawn once for each kind of metric rows (each key with the kinds of value it takes, missing
    included; one row, several or over 30) in the whole session, so a plot failing on some kind of row still fails
    the first test that makes it. `always`: run directories whose training.png is drawn whatever their kind."""
    import ponder.rl.trainer as rl_trainer
    import ponder.train as sft_trainer

    real = sft_trainer.plot_run
    always = {Path(r).resolve() for r in always}

    def plot_once(run):
        r = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x.strip()]
        keys = sorted({k for x in r for k in x})
        kind = repr((len(r) == 1, len(r) > 30, tuple((k, tuple(sorted({_kind(x[k]) if k in x else "-" for x in r})))
                                                     for k in keys)))
        if Path(run).resolve() in always or not _plotted(kind):
            real(run)
            _drawn(kind)
    monkeypatch.setattr(rl_trainer, "plot_run", plot_once)
    monkeypatch.setattr(sft_trainer, "plot_run", plot_once)


@pytest.fixture(autouse=True)
def _plot_each_kind_of_rows_once(request, monkeypatch):
    """plot_each_kind_of_rows_once for every test of every file; one that reads training.png asks for the fixture
    `plots` and gets it drawn for every run, or for the runs it names with plots.only(...). (Runs in other
    processes, the CLI's, draw theirs; spawned ranks that call plot_each_kind_of_rows_once share the session's.)"""
    if "plots" not in request.fixturenames:
        plot_each_kind_of_rows_once(monkeypatch)


class _Plots:
    def __init__(self, monkeypatch):
        self._monkeypatch = monkeypatch

    def only(self, *runs):
        """training.png drawn for these run directories alone; the test's other runs draw theirs as every other
        test's do (once for each kind of rows)."""
        plot_each_kind_of_rows_once(self._monkeypatch, always=runs)


@pytest.fixture
def plots(monkeypatch):
    """training.png drawn for every run of the test (see _plot_each_kind_of_rows_once), or for the runs named
    with plots.only(run, ...)."""
    return _Plots(monkeypatch)
