"""Pretraining and supervised fine-tuning: the loops, and the run-directory plumbing they share.

A run directory holds `config.json` (the arguments), `metrics.jsonl` (one row per logged step; the same
scalars in `tensorboard/`, and the curves in `training.png` at the end) and `checkpoint/` (HF-format model +
tokenizer, loadable by `ponder.load`, and `trainer_state.pt`: optimizer, step, RNG). The checkpoint
directory is written beside the old one and swapped in with one rename, so a crash or a full disk at any
point leaves the previous consistent checkpoint. Batches are a pure function of (seed, step), so resuming
needs no data cursor and a resumed run reproduces the uninterrupted one.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
import random
import shlex
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from . import checkpoint
from .errors import PonderError, headline
from .fileio import (
    _write_error,
    atomic_write_text,
    cannot_create_in,
    counted,
    json_safe,
    locks_run,
    refuse_git_lfs_pointer,
    run_kind,
    take_run_lock,
)
from .model import LOW_PRECISION, ModelConfig, Transformer, _json_type, model_context
from .tasks.data import _check_text, _format, _open_binary, _read_jsonl, _read_parquet, _texts, field_names
from .tensorboard import SummaryWriter, scalar_tags
from .tokenizer import (
    REASONING_FIELDS,
    SPECIAL_TOKENS,
    Tokenizer,
    check_template_kwargs,
    message_problem,
    train_tokenizer,
)

if TYPE_CHECKING:
    from .verify.registry import Reward


@dataclass
class TrainConfig:
    # None: 1000 for a new run, the run's own target on resume (a default of 1000 there retargeted the run and
    # rewrote its config.json); a number given is the target either way
    steps: int | None = None
    batch_size: int = 32  # sequences per optimizer step (split into micro-batches by grad_accum)
    grad_accum: int = 1
    seq_len: int = 128
    lr: float = 3e-3
    min_lr_ratio: float = 0.1
    warmup: int = 50
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    betas: tuple = (0.9, 0.95)
    seed: int = 0
    eval_every: int = 100
    save_every: int = 200
    bf16: bool = False  # autocast matmuls and attention to bf16 (GPUs; CPUs with AVX512-BF16 or AMX: bench/train.py)
    threads: int | None = None
    # CPU: each micro-batch runs as this many shards at once, one thread each (backward_streams): at the tiny
    # recipe's widths one op cannot keep two cores busy. Changes rounding only (gradients summed per shard), so
    # like `threads` it is not part of the run's record; the recipe keeps 1 (its model reproduces bit for bit).
    streams: int = 1
    # torch.compile the training forward (pretraining: fixed-shape packed batches, one compilation). Fuses the
    # elementwise work around the matmuls (RMSNorm, RoPE, SwiGLU): measured 1.3x tokens/s on CPU
    # (bench/train.py), after a one-off compilation of about a minute. Not bit-identical to eager.
    compile: bool = False
    extra: dict = field(default_factory=dict)

    def validate(self) -> TrainConfig:
        """One line per bad setting, before anything is written."""
        if self.steps is None:  # (a new run's; a resume reads None as the run's own target before this)
            self.steps = 1000
        for name in ("steps", "batch_size", "grad_accum", "seq_len", "eval_every", "save_every", "streams"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise PonderError(f"{name} must be a positive integer, got {v!r}")
        # warmup counts steps: 2.5 took the lr to 1.2x its peak at step 2, and a float (even 2.0) in config.json
        # is refused by --resume (config_from wants an int)
        if isinstance(self.warmup, bool) or not isinstance(self.warmup, int) or self.warmup < 0:
            raise PonderError(f"warmup must be a whole number of steps (>= 0), got {self.warmup!r}")
        for name in ("bf16", "compile"):  # (a truthy 1 or "no" trained, then --resume refused config.json)
            if not isinstance(getattr(self, name), bool):
                raise PonderError(f"{name} must be True or False, got {getattr(self, name)!r}")
        for name, lo in (("lr", 0.0), ("grad_clip", 0.0)):  # (True trained, then --resume refused config.json)
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= lo:
                raise PonderError(f"{name} must be a positive finite number, got {v!r}")
            if name == "lr" and v > torch.finfo(torch.float32).max:  # (AdamW's fp32 step failed: "cannot be converted to type float")
                raise PonderError(f"{name} must be at most {torch.finfo(torch.float32).max:.4g} (fp32's largest "
                                  f"number), got {v!r}")
        for name in ("min_lr_ratio", "weight_decay"):  # (an infinite weight decay trained to NaN)
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise PonderError(f"{name} must be a finite number, got {v!r}")
        for name in ("seed", "threads"):  # (a float failed in torch after the run directory was made)
            v = getattr(self, name)
            if (v is not None or name == "seed") and (isinstance(v, bool) or not isinstance(v, int)):
                raise PonderError(f"{name} must be an integer, got {v!r}")
        if not 0 <= self.warmup or not 0 <= self.min_lr_ratio <= 1 or not 0 <= self.weight_decay:
            raise PonderError(f"warmup >= 0, 0 <= min_lr_ratio <= 1 and weight_decay >= 0 expected, got "
                              f"{self.warmup}, {self.min_lr_ratio}, {self.weight_decay}")
        if not 0 <= self.seed < 2**32:  # (mixed with step numbers into 64-bit seeds)
            raise PonderError(f"seed must be in [0, 2**32), got {self.seed}")
        betas = self.betas  # (one number failed in len() with a TypeError)
        if (not isinstance(betas, (list, tuple)) or len(betas) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas)):
            raise PonderError(f"betas must be two numbers in [0, 1), got {betas!r:.60}")
        if self.threads is not None and self.threads < 1:
            raise PonderError(f"threads must be at least 1, got {self.threads}")
        return self


# The recipe of the built-in tiny model: `ponder pretrain --out DIR` with no other flags reproduces it.
# One thread: on a busy 2-core machine two threads spin against each other (measured 5-25x slower).
TINY_MODEL = ModelConfig(hidden_size=128, intermediate_size=384, num_hidden_layers=4, num_attention_heads=4,
                         num_key_value_heads=2, head_dim=32, vocab_size=512, max_position_embeddings=512)
TINY_TRAIN = TrainConfig(steps=3000, batch_size=16, seq_len=128, lr=2e-3, warmup=100, save_every=250,
                         eval_every=250, seed=0, threads=1)
# arith only (plus drills and filler): the demo's task; word and countdown text would dilute the 6M tokens.
# Terse answers all open with "The answer is" (boxed or not) so that one opening outweighs the step-by-step
# one ("Ġ" + digit): measured, the model over-predicts the step opening (~46% sampled for 30% of documents).
# The style depends on the problem's size: 2- and 3-operation problems are answered tersely in 85% of their
# documents, 4-operation ones worked step by step in 85%. Greedy decoding follows the majority per problem,
# so the base model works the long problems (mostly right) and blurts the short ones (mostly wrong): 35%
# greedy, with the short problems left for RL to fix. One global share instead makes greedy all-or-nothing:
# measured 9.5% (every answer terse) or 61% (every answer worked), never in between.
TINY_CORPUS = dict(n_docs=200_000, seed=0, tasks=("arith",), filler_share=0.2, terse_share={2: 0.85, 3: 0.85, 4: 0.15},
                   terse_endings=(("The answer is \\boxed{X}.", 0.75), ("The answer is X.", 0.25)))


def tiny_model_config(hidden: int | None = None, layers: int | None = None) -> ModelConfig:
    """The model `ponder pretrain` builds: TINY_MODEL, with `layers` as given and `hidden` (--hidden H) deriving
    the rest as the recipe's own shape scales (H=128 gives the recipe back): H/32 attention heads of the recipe's
    head_dim 32, half as many key/value heads (at least one: max(1, H/64)), MLP intermediate size 3H."""
    mc = dict(TINY_MODEL.__dict__)
    if layers is not None:
        mc["num_hidden_layers"] = layers
    if hidden is not None:
        hd = TINY_MODEL.head_dim
        # Qwen3 (the recipe's model_type) does not need heads x head_dim = hidden (Qwen3-0.6B: 16 x 128 = 2048
        # over a hidden size of 1024), so another H is a valid model, but not the one this derivation means: heads
        # that tile the hidden size, as 4 x 32 = 128 does. H = 48 (or 63) attended through one head 32 wide, as H
        # = 32 does; H = 16 got one head twice as wide as the stream it reads (q, k, v of rank 16 over 32 dims).
        if hidden % hd:
            heads = max(1, hidden // hd)
            raise PonderError(f"--hidden {hidden}: must be a multiple of {hd}, the width of each derived attention "
                              f"head ({hidden} would get {heads} head{'s' * (heads > 1)}, {heads * hd} wide); for "
                              "other shapes give train.pretrain a ModelConfig")
        heads = hidden // hd
        kv = max(1, heads // 2)
        if heads % kv:  # (H/32 odd above 3: 160 -> 5 heads over 2, which no grouped attention can share)
            raise PonderError(f"--hidden {hidden}: its {heads} attention heads (hidden/{hd}) are no multiple of its "
                              f"{kv} key/value heads (heads/2); use a hidden size whose hidden/{hd} is 1, 3 or even")
        mc.update(hidden_size=hidden, num_attention_heads=heads, num_key_value_heads=kv, head_dim=hd,
                  intermediate_size=3 * hidden)
    return ModelConfig(**mc)


# ---- optimisation pieces -------------------------------------------------------------------------
def lr_at(step: int, cfg: TrainConfig) -> float:
    """The lr of 0-based `step`: linear warmup from lr / warmup at step 0 to lr at step warmup - 1 (never 0: no
    step is spent at lr 0), then cosine decay from lr at step warmup towards min_lr_ratio * lr, which it would
    reach at step `steps`, one past the last (the last step trains just above it)."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


def cpu_has_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool | None:
    """Whether this CPU does bf16 arithmetic (x86 AVX512-BF16 or AMX-BF16, Arm BF16), read from its flags; None
    where they cannot be read (not Linux)."""
    try:
        lines = Path(cpuinfo).read_text(errors="replace").splitlines()
    except OSError:
        return None
    flags = {f for ln in lines if ln.startswith(("flags", "Features")) and ":" in ln for f in ln.split(":", 1)[1].split()}
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"}) if flags else None


def warn_emulated_bf16(cfg: TrainConfig, device, what: str) -> None:
    """--bf16 pays on CPUs with bf16 units (1.6-2x fp32 on a Zen 4 EPYC) and costs a lot without them, where the
    matmuls are emulated: bench/train.py measured 820 vs 10,941 tokens/s (13x slower) on a Zen 3 EPYC (AVX2 only)."""
    if cfg.bf16 and torch.device(device).type == "cpu" and cpu_has_bf16() is False:
        print(f"{what}: --bf16 on a CPU without bf16 instructions (no avx512_bf16 or amx_bf16 in /proc/cpuinfo): its "
              "matmuls are emulated, about 13x slower than fp32 on a Zen 3 EPYC (bench/train.py); leave out --bf16 "
              "here", file=sys.stderr)


def warn_short_schedule(cfg: TrainConfig, what: str) -> None:
    """A run shorter than its warmup never reaches its peak lr nor decays (`ponder pretrain --steps 50` under the
    recipe's 100-step warmup: 0.001 of 0.002 at the last step), which nothing said: the schedule stays the recipe's
    (its runs must not change), so it is said on stderr."""
    if cfg.steps < cfg.warmup:
        print(f"{what}: a run of {counted(cfg.steps, 'step')} ends inside the {cfg.warmup}-step lr warmup: the lr "
              f"climbs only to {lr_at(cfg.steps - 1, cfg):.3g} of its {cfg.lr:g} peak and never decays (train more "
              f"than {cfg.warmup} steps for the whole schedule)", file=sys.stderr)


def make_optimizer(model: Transformer, cfg: TrainConfig) -> torch.optim.AdamW:
    # No weight decay on norms, biases and embeddings (GPT-style practice).
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (decay if p.ndim >= 2 and "embed" not in n else no_decay).append(p)
    return adamw([{"params": decay, "weight_decay": cfg.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=cfg.betas, foreach=True)


def adamw(params, **kw) -> torch.optim.AdamW:
    """AdamW for `params` (tensors or param groups): plain when every parameter is fp32, else `MasterAdamW`."""
    groups = list(params)
    tensors = [p for g in groups for p in (g["params"] if isinstance(g, dict) else [g])]
    return (MasterAdamW if any(p.dtype in LOW_PRECISION for p in tensors) else torch.optim.AdamW)(groups, **kw)


class MasterAdamW(torch.optim.AdamW):
    """AdamW that steps fp32 master copies of bf16/fp16 parameters and writes them back rounded: the
    weight-update half of mixed-precision training (Micikevicius et al. 2018, "Mixed Precision Training").

    The model keeps its low-precision weights for forward, backward and generation. Stepped directly, a
    bf16 weight cannot take an update below half its spacing (a weight of 0.03 moves in steps of 1.2e-4,
    AdamW at lr 1e-6 moves it ~1e-6): at RL's usual lr 1e-6, 200 steady steps of plain AdamW moved under 5%
    of the bf16 weights of a test matrix. Here the updates accumulate in fp32, and the masters follow exactly the
    trajectory of fp32 AdamW fed the same gradients (tests/test_train.py). The masters travel in the
    optimizer's state_dict ("master_weights"), so a resumed run continues from them, not from the rounded
    weights. Memory: 4 bytes per low-precision parameter on top of AdamW's 8."""

    def __init__(self, params, **kw):
        groups = list(params)
        if groups and not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self._pairs: list[tuple[torch.Tensor, torch.Tensor]] = []  # (model parameter, its fp32 master)
        master_groups = []
        for g in groups:
            ps = []
            for p in g["params"]:
                if p.dtype in LOW_PRECISION:
                    m = p.detach().to(torch.float32, copy=True)
                    self._pairs.append((p, m))
                    p = m
                ps.append(p)
            master_groups.append({**g, "params": ps})
        super().__init__(master_groups, **kw)

    @torch.no_grad()
    def step(self, closure=None):
        for p, m in self._pairs:
            m.grad = None if p.grad is None else p.grad.to(torch.float32)
        loss = super().step(closure)
        for p, m in self._pairs:
            p.copy_(m)
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        super().zero_grad(set_to_none)
        for p, _ in self._pairs:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def state_dict(self) -> dict:
        return {**super().state_dict(), "master_weights": [m for _, m in self._pairs]}

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        masters = state_dict.pop("master_weights", None)  # None: saved by plain AdamW (an fp32 run)
        super().load_state_dict(state_dict)
        if masters is None:
            return
        if len(masters) != len(self._pairs) or any(a.shape != m.shape for a, (_, m) in zip(masters, self._pairs)):
            raise PonderError("optimizer state: its master weights do not match the model's low-precision "
                              "parameters (a state from another model?)")
        with torch.no_grad():
            for (p, m), saved in zip(self._pairs, masters):
                m.copy_(saved)
                p.copy_(m)


# Worker threads of `backward_streams`, each with one torch thread: {"pool": executor, "size": its threads},
# made at the first call with more than one shard and kept for the process (replaced when more are asked for).
_STREAM_POOL: dict = {"pool": None, "size": 0}


def backward_streams(loss_of: Callable, rows: torch.Tensor, total: int, streams: int, params: list) -> float:
    """Backward of loss_of(rows) / total, the rows split into `streams` shards that run at the same time, one CPU
    thread each; returns the summed loss. Why: at a small model's widths (the tiny recipe's 128) one op cannot keep
    two cores busy (a forward and backward on 2 threads ran 1.5x faster than on one, not 2x); two half-batches on
    one core each keep both busy (bench/train.py). Each shard's gradients come back from autograd.grad and are
    summed in shard order, so the result does not depend on which thread finishes first (a seed reproduces);
    it equals the one-stream gradient up to float rounding (tests/test_train.py). Autocast and grad mode are
    per thread: `loss_of` sets its own autocast (token_loss and response_loss do)."""
    shards = [s for s in rows.tensor_split(streams) if len(s)]
    if len(shards) < 2:
        s = loss_of(rows)
        (s / total).backward()
        return s.item()
    if _STREAM_POOL["size"] < len(shards) - 1:
        if _STREAM_POOL["pool"] is not None:
            _STREAM_POOL["pool"].shutdown(wait=False)
        _STREAM_POOL.update(size=len(shards) - 1, pool=ThreadPoolExecutor(
            len(shards) - 1, thread_name_prefix="ponder-stream", initializer=torch.set_num_threads, initargs=(1,)))
    pool = _STREAM_POOL["pool"]

    def work(shard):
        s = loss_of(shard)
        return s.detach(), torch.autograd.grad(s / total, params, allow_unused=True)

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # (this thread runs the first shard; the pool's threads were made with one each)
    futures = [pool.submit(work, sh) for sh in shards[1:]]
    try:
        done = [work(shards[0])]
    finally:  # (every shard has finished before the thread count is restored, an error or not)
        wait(futures)
        torch.set_num_threads(before)
    done += [f.result() for f in futures]
    with torch.no_grad():
        for i, p in enumerate(params):
            gs = [grads[i] for _, grads in done if grads[i] is not None]
            if not gs:
                continue
            # out of place first: autograd may hand back a view or an expanded tensor (not writable in place)
            g = gs[0] + gs[1] if len(gs) > 1 else gs[0].clone()
            for x in gs[2:]:
                g.add_(x)
            if p.grad is None:
                p.grad = g
            else:
                p.grad.add_(g)
    return sum(float(s) for s, _ in done)


def check_streams(train: TrainConfig, cfg: ModelConfig | None, device, who: str) -> None:
    """streams > 1 splits CPU work between threads: refused on another device, and with attention dropout, whose
    draws from the one global generator would come in whatever order the threads reach them (a seed would no
    longer reproduce the run)."""
    if train.streams == 1:
        return
    if torch.device(device).type != "cpu":
        raise PonderError(f"{who}: streams={train.streams} splits each micro-batch between CPU threads; this run "
                          f"trains on {device} (use streams=1)")
    if cfg is not None and cfg.attention_dropout:
        raise PonderError(f"{who}: streams={train.streams} with attention_dropout={cfg.attention_dropout}: the "
                          "threads would draw the dropout masks in no fixed order, and a seed would not reproduce "
                          "the run (use streams=1)")


def optimizer_step(model: Transformer, opt, train: TrainConfig, step: int, total: int, loss_of: Callable,
                   micro_rows) -> tuple:
    """One AdamW step at step's learning rate over the summed losses loss_of(rows) of the micro-batches
    `micro_rows` (row indices), each divided by the whole batch's token count `total` before backward, so the
    gradient does not depend on the split; with train.streams > 1 each micro-batch runs as that many shards at
    once (backward_streams). Returns
    (mean loss per token, gradient norm before clipping). A non-finite loss or gradient norm takes no step
    (stop_if_diverged then stops the run): AdamW stepped on a NaN gradient made every weight NaN, the caller's
    model passed to sft() included, where the last finite weights could have been kept."""
    for group in opt.param_groups:
        group["lr"] = lr_at(step, train)
    loss_sum = 0.0
    params = [p for p in model.parameters() if p.requires_grad]
    for rows in micro_rows:  # each micro-batch's graph is freed before the next is built
        loss_sum += backward_streams(loss_of, rows, total, train.streams, params)
    gn = float(clip_grad_norm(model.parameters(), train.grad_clip))
    if math.isfinite(loss_sum) and math.isfinite(gn):
        opt.step()
    opt.zero_grad(set_to_none=True)
    return loss_sum / total, gn


def clip_grad_norm(params, max_norm: float) -> torch.Tensor:
    """torch's clip_grad_norm_, with the norm of bf16/fp16 gradients taken in fp32: torch returns it in their own
    dtype (bf16: 3 significant digits, 27.375 logged for 27.43; fp16: inf above 65504, read as divergence), and
    scales by a clip coefficient computed from that. fp32 gradients take torch's own path, unchanged."""
    params = [p for p in params if p.grad is not None]
    if all(p.grad.dtype not in LOW_PRECISION for p in params):
        return torch.nn.utils.clip_grad_norm_(params, max_norm)
    norms = [torch.linalg.vector_norm(p.grad, dtype=torch.float32) for p in params]
    total = torch.linalg.vector_norm(torch.stack([n.to(norms[0].device) for n in norms]))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for p in params:
        p.grad.mul_(coef.to(p.grad.device))
    return total


def token_loss(model: Transformer, ids: torch.Tensor, loss_mask: torch.Tensor, attn: torch.Tensor | None,
               bf16: bool = False) -> tuple[torch.Tensor, int]:
    """Sum of next-token cross-entropy over positions where loss_mask (of the *target*) is 1, and the count."""
    with torch.autocast(ids.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(ids[:, :-1], attention_mask=None if attn is None else attn[:, :-1])
    tgt = ids[:, 1:]
    m = loss_mask[:, 1:].float()
    ce = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="none")
    return (ce * m.reshape(-1)).sum(), int(m.sum().item())


# Rows of the vocabulary projection held at once by `response_loss`: at Qwen3's 151,936-token vocabulary the
# full fp32 logits cost 0.6 MB per token (5 GB for an 8k-token micro-batch, and as much again for the
# log-softmax and its gradient); 256-row blocks hold 155 MB. Small vocabularies take 2^22 logits per block.
HEAD_BLOCK_LOGITS = 2**22
HEAD_BLOCK_MIN_ROWS = 256


def response_loss(model: Transformer, ids: torch.Tensor, loss_mask: torch.Tensor, attn: torch.Tensor | None,
                  bf16: bool = False, block_rows: int | None = None) -> tuple[torch.Tensor, int]:
    """`token_loss` for SFT: the vocabulary projection and cross-entropy run on the loss-masked (response)
    positions only, a block of rows at a time, so neither the prompt's logits nor a [tokens, vocab] tensor
    for the whole micro-batch is ever built. Same sum, same gradients (tests/test_train.py)."""
    with torch.autocast(ids.device.type, dtype=torch.bfloat16, enabled=bf16):
        hidden = model(ids[:, :-1], attention_mask=None if attn is None else attn[:, :-1], return_hidden=True)
        rows = loss_mask[:, 1:].reshape(-1).nonzero()[:, 0]
        hidden = hidden.reshape(-1, hidden.shape[-1]).index_select(0, rows)
        w = model.lm_head.weight
        block = block_rows or max(HEAD_BLOCK_MIN_ROWS, HEAD_BLOCK_LOGITS // w.shape[0])
        target = ids[:, 1:].reshape(-1)[rows]
        if torch.is_grad_enabled() and (hidden.requires_grad or w.requires_grad):
            loss = _HeadCrossEntropy.apply(hidden, w, target, block)
        else:
            loss = _head_cross_entropy(hidden, w, target, block, grads=False)[0]
    return loss, len(rows)


def _head_cross_entropy(h, w, target, block: int, grads: bool):
    """Summed cross-entropy of the logits h @ w.T, one block of rows at a time, with (optionally) its
    gradients computed in the same pass: d(sum CE)/d logits = softmax - onehot (the fused linear
    cross-entropy of Liger-Kernel, Hsu et al. 2024). Matmuls follow the ambient autocast; softmax in fp32."""
    loss = torch.zeros((), dtype=torch.float32, device=h.device)
    gh = torch.empty_like(h) if grads else None
    gw = torch.zeros(w.shape, dtype=torch.float32, device=w.device) if grads else None
    for s in range(0, h.shape[0], block):
        hb, tb = h[s : s + block], target[s : s + block]
        z = (hb @ w.t()).float()
        lse = torch.logsumexp(z, -1)
        loss += (lse - z.gather(1, tb[:, None])[:, 0]).sum()
        if grads:
            p = z.sub_(lse[:, None]).exp_()  # softmax, in place of the logits
            p[torch.arange(len(tb), device=p.device), tb] -= 1
            p = p.to(h.dtype)  # what autograd would hand the projection's backward
            gh[s : s + block] = p @ w
            gw += (p.t() @ hb).float()
    return loss, gh, gw


class _HeadCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, w, target, block):
        loss, gh, gw = _head_cross_entropy(h, w, target, block, grads=True)
        ctx.save_for_backward(gh, gw)
        ctx.w_dtype = w.dtype
        return loss

    @staticmethod
    def backward(ctx, g):
        gh, gw = ctx.saved_tensors
        return gh * g.to(gh.dtype), (gw * g).to(ctx.w_dtype), None, None


def check_compiler(device_type: str) -> None:
    """One clear line where torch.compile would lack its compiler toolchain (CPU kernels need a C++ compiler)."""
    import shutil

    if device_type == "cpu" and not any(shutil.which(c) for c in (os.environ.get("CXX", "g++"), "c++", "clang++")):
        raise PonderError("--compile: torch.compile needs a C++ compiler for CPU kernels (none found: install "
                          "g++ or set CXX), or train without --compile")


def compiled(model: Transformer):
    """torch.compile(model), failing with one clear line if the compiler toolchain is missing."""
    check_compiler(model.device.type)
    return torch.compile(model)


# ---- run directory -------------------------------------------------------------------------------
STATE = "trainer_state.pt"  # optimizer, step and RNG, saved inside checkpoint/ with the weights


def append_jsonl(path: Path, row: dict):
    """One strict-JSON line (a NaN loss is logged as null)."""
    line = json.dumps(json_safe(row), allow_nan=False) + "\n"
    try:
        with open(path, "a") as f:
            f.write(line)
    except OSError as e:  # a full disk fails at the flush, with an OSError that names no file
        raise _write_error(Path(path), e) from e


def log_row(run: Path | None, tb, kind: str, row: dict, on_log=None, bar=None, **postfix):
    """One step's metrics: a metrics.jsonl line and TensorBoard scalars (with a run directory), the caller's
    callback, the progress bar's counter and its loss (plus `postfix`)."""
    if run is not None:
        append_jsonl(run / "metrics.jsonl", row)
        tb.add_scalars(row["step"], scalar_tags(kind, row))  # (heldout_loss under eval/)
    if on_log:
        on_log(row)
    if bar:
        bar.update(1)
        bar.set_postfix(loss=f"{row['loss']:.3f}", **postfix)


def rng_state() -> dict:
    """The RNG states a resumed run needs to draw what the uninterrupted one would: torch's CPU generator,
    Python's, and — when this process has used CUDA — every visible GPU's (attention dropout on a GPU draws from
    the GPU's generator). A CPU run does not start CUDA just to save its untouched state."""
    state = {"torch_rng": torch.get_rng_state(), "python_rng": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    """Puts back torch's generators and Python's `random` as rng_state saved them (Ponder draws nothing from
    the latter, but a reward function or data hook of the user's may: its draws resume too). A state without "cuda_rng" (a CPU run's, or one saved before GPU states were kept) leaves the GPUs'
    generators as seeded. On a machine with another GPU count the states go back by device index to the GPUs
    both have and the others keep their seed: such a run resumes, though not bit-exactly (it would not be on
    other hardware anyway). Only the saving process's states are kept (under torchrun rank 0's: the other ranks'
    GPU draws do not resume bit-exactly). Setting a GPU state before CUDA starts is deferred by torch, so a CPU
    resume on a GPU machine does not start CUDA."""
    torch.set_rng_state(state["torch_rng"])
    py = state.get("python_rng")
    if py is not None:  # (torch.save may keep the state's tuples as lists: setstate wants tuples)
        random.setstate((py[0], tuple(py[1]), py[2]))
    cuda = state.get("cuda_rng")
    if cuda and torch.cuda.is_available():
        for i, s in enumerate(cuda[:torch.cuda.device_count()]):
            torch.cuda.set_rng_state(s, i)


def save_run(run: Path, model, tok, opt, step: int, extra: dict | None = None, optimizer_state: dict | None = None):
    """Weights, tokenizer and trainer state in one atomic directory swap: all new or all old.
    `optimizer_state` replaces opt.state_dict() (FSDP2: the whole state gathered from every rank)."""
    state = {"step": step, "optimizer": opt.state_dict() if optimizer_state is None else optimizer_state,
             **rng_state(), "extra": extra or {}}
    digest = {}  # the weights' sha256, filled in by save once they are written: the resume checks it
    try:
        checkpoint.save(model, tok, run / "checkpoint", extra={STATE: lambda p: write_state({**state, **digest}, p)},
                        digest=digest)
    except OSError as e:  # e.g. a full disk: checkpoint.save swaps directories only once all is written
        e = e.__cause__ if isinstance(e.__cause__, OSError) else e  # (save's own line names the path again)
        raise PonderError(f"{run / 'checkpoint'}: writing the step-{step} checkpoint failed ({e.strerror or e}); "
                          "the previous checkpoint is intact") from e


class _Writes:
    """A file whose write errors are kept: torch.save reports anything raised in a write as a RuntimeError
    ("[enforce fail at inline_container.cc] unexpected pos ..."): a full disk's OSError lost, and a Ctrl-C or
    SIGTERM arriving mid-write (its KeyboardInterrupt raised here) turned into a crash that exits 2 with no word
    on resuming instead of the interrupt it was."""

    def __init__(self, f):
        self.f, self.error = f, None

    def write(self, b):
        # torch's archive writer, kept alive by an interrupted save's exception, finishes its archive in its
        # destructor, after `write_state` closed the file: raised there, the ValueError ("write to closed file")
        # ended the process in C++'s terminate (SIGABRT, exit -6, instead of SIGTERM's 143 and its resume hint). The
        # file is abandoned already (a temp file never renamed): its late bytes are dropped
        if self.f.closed:
            return len(b)
        try:
            return self.f.write(b)
        except (OSError, KeyboardInterrupt) as e:
            self.error = e
            raise

    def flush(self):
        if not self.f.closed:
            self.f.flush()


def write_state(state: dict, path) -> None:
    """torch.save(state, path), failing with the OSError (or the interrupt) behind a failed write."""
    with open(path, "wb") as f:
        w = _Writes(f)
        try:
            torch.save(state, w)
        except RuntimeError as e:
            # the error or interrupt it hides: raised in a write (kept there), or before its first line (a signal's
            # handler runs between any two bytecodes), and then torch's cleanup failed while handling it
            hidden = w.error or next((c for c in _contexts(e) if isinstance(c, (OSError, KeyboardInterrupt))), None)
            if hidden is not None:
                raise hidden from None
            raise


def _contexts(e: BaseException):
    seen = set()
    while e.__context__ is not None and id(e.__context__) not in seen:
        e = e.__context__
        seen.add(id(e))
        yield e


MODEL_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


def _article(word) -> str:
    # (by sound: "an 'sft' run", an initialism read letter by letter, "ess-eff-tee")
    return "an" if str(word)[:1] in ("a", "e", "i", "o", "u") or str(word) == "sft" else "a"


def kind_phrase(kind) -> str:
    """What a config.json's "kind" holds, for messages: "a 'grpo' run", "an 'eval' result"; given the whole
    config.json, "a 'distill' run" for a distillation's (see ``run_kind``)."""
    if isinstance(kind, dict):
        kind = run_kind(kind)
    if not isinstance(kind, str):
        return "no Ponder run (its config.json names no kind)"
    return f"{_article(kind)} {kind!r} {'result' if kind in ('eval', 'sweep') else 'run'}"


def fresh_run_dir(run: Path, model_path=None, kind: str | None = None) -> None:
    """Refuse a run directory that would overwrite something: an earlier run (its checkpoint, metrics or
    config), any model checkpoint (a run writes its own config.json over the model's), or the very checkpoint
    the run starts from. `kind`: the run's own ("pretrain", "sft", "grpo", or "distill": an sft run that
    names its distilled.jsonl, see ``run_kind``), so that another kind's run is not met with "pass --resume",
    which would refuse it (`distill --resume` continues a distillation only, not a plain sft run)."""
    if str(run) in ("", "."):
        raise PonderError("--out: give a run directory (an empty path would write into the current one)")
    if run.exists() and not run.is_dir():
        raise PonderError(f"--out {run}: is a file, not a directory")
    # The run's first write comes after the work: distill's teacher sampling (lost with a bare OSError).
    for a in run.parents:  # the nearest folder that exists must be one we may create the run in
        if os.path.lexists(a):
            if not a.is_dir():
                raise PonderError(f"--out {run}: {a} is not a directory")
            # a file made there and removed at once (os.access says yes to root for /proc, a read-only mount)
            e = None if run.exists() else cannot_create_in(a)
            if e is not None:
                raise PonderError(f"--out {run}: cannot create it in {a} ({e.strerror or e})")
            break
    e = cannot_create_in(run) if run.is_dir() else None
    if e is not None:
        raise PonderError(f"--out {run}: cannot write into it ({e.strerror or e})")
    if model_path is not None:
        src = checkpoint.resolve(model_path) if isinstance(model_path, (str, os.PathLike)) else None
        if src is not None and run.resolve() == Path(src).resolve():
            raise PonderError(f"--out {run} is the model's own directory ({model_path}); choose another --out")
    # (a checkpoint a save killed between its two renames set aside is the run's: --resume puts it back, where
    # "stopped before its first checkpoint; remove the directory" below would have the run deleted)
    if (run / "checkpoint").exists() or any(run.glob(".checkpoint.old-*")):
        try:
            saved = json.loads((run / "config.json").read_text(encoding="utf-8"))
            held = run_kind(saved) if kind == "distill" else saved.get("kind")
        except (OSError, ValueError, AttributeError):
            saved = held = None
        if kind is not None and isinstance(held, str) and held != kind:
            raise PonderError(f"{run}: already holds {kind_phrase(saved)}, not {_article(kind)} {kind!r} run to "
                              "continue; choose another --out")
        raise PonderError(f"{run}: already holds a run; pass --resume to continue it or choose another --out")
    held = next((f for f in MODEL_FILES if (run / f).exists()), None)
    if held is not None:
        raise PonderError(f"--out {run}: holds a model checkpoint ({held}) that the run's config.json would "
                          "overwrite; choose another --out")
    result = _result_kind(run)
    if result is not None:  # an evaluation's results, not a dead run: "remove the directory" would lose them
        raise PonderError(f"--out {run}: holds {result}, whose config.json the run would overwrite; choose another "
                          "--out")
    if (run / "summary.json").exists() and not (run / "config.json").exists():  # (a demo's: no run or eval has one)
        raise PonderError(f"--out {run}: holds a summary.json with no config.json beside it (a demo's results), "
                          "whose training.png the run would overwrite; choose another --out")
    from .evaluate import _probe_result

    probe = _probe_result(run)
    if probe is not None:  # (the probes refuse a run's directory; a run took a probe's: `ponder report` then showed
        # the run's config.json as the probe results' configuration)
        raise PonderError(f"--out {run}: holds probe results ({probe}), beside which the run's config.json would be "
                          "read as theirs (`ponder report` shows it as their configuration); choose another --out")
    if (run / "metrics.jsonl").exists() or (run / "config.json").exists():
        try:
            held = json.loads((run / "config.json").read_text(encoding="utf-8")).get("kind")
        except (OSError, ValueError, AttributeError):
            held = None
        if not isinstance(held, str):  # a folder of the user's own files: "remove the directory" would lose them
            names = " and ".join(f for f in ("config.json", "metrics.jsonl") if (run / f).exists())
            raise PonderError(f"--out {run}: holds a {names} of no Ponder run, which the run would overwrite; "
                              "choose another --out")
        kept = _kept_rows(run / DISTILLED)
        if kept:  # a distillation's teacher samples: "remove the directory" would delete them
            model = saved.get("model_path") if isinstance(saved := _saved_config(run), dict) else None
            data = shlex.quote(str(run / DISTILLED))
            raise PonderError(f"{run}: holds a run that stopped before its first checkpoint (nothing to resume); its "
                              f"{counted(kept, 'kept teacher sample')} {'is' if kept == 1 else 'are'} in {data}: fine-tune on them with "
                              f"`ponder sft --model {shlex.quote(model) if isinstance(model, str) else 'STUDENT'} "
                              f"--data {data} --out NEW_DIR`, or choose another --out")
        raise PonderError(f"{run}: holds a run that stopped before its first checkpoint (nothing to resume); "
                          "remove the directory or choose another --out")


def _saved_config(run: Path):
    """run/config.json's JSON value, or None where it cannot be read."""
    try:
        return json.loads((run / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _kept_rows(path: Path) -> int:
    """How many non-blank lines `path` (a distilled.jsonl) holds; 0 where it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def _result_kind(run: Path) -> str | None:
    """"an 'eval' result" (or 'sweep') when run/config.json is that of `ponder eval --out`, else None."""
    try:
        kind = json.loads((run / "config.json").read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        return None
    return kind_phrase(kind) if kind in ("eval", "sweep") else None


def check_resumable(run: Path, kind: str, device: str | None = None, recover: bool = True) -> dict:
    """load_run's checks of a run directory, before the model is read (`grpo --nproc N` makes them before
    spawning its ranks); returns the saved config. Puts back a checkpoint a killed save set aside, unless
    `recover` is False (data-parallel ranks: rank 0 has done it, see ddp.recover_checkpoint)."""
    run = Path(run)
    cfg_f = run / "config.json"
    if recover:
        checkpoint.recover(run / "checkpoint")
    result = _result_kind(run)
    if result is not None:  # not "the run stopped before its first checkpoint; remove the directory"
        raise PonderError(f"{run}: holds {result}, not {_article(kind)} {kind!r} run to resume")
    if cfg_f.is_file() and not (run / "checkpoint").exists():
        raise PonderError(f"{run}: the run stopped before its first checkpoint (nothing to resume); remove the "
                          "directory and start again")
    if not cfg_f.is_file() or not (run / "checkpoint" / STATE).is_file():
        raise PonderError(f"{run}: not a resumable run directory (needs config.json and checkpoint/{STATE})")
    saved = read_run_config(run)
    if saved.get("kind") != kind:
        raise PonderError(f"{run}: holds {kind_phrase(saved)}, not {_article(kind)} {kind!r} run")
    demo = run.resolve().parent  # a finished demo's RL run (DEMO/grpo beside its summary.json, no config.json)
    if run.resolve().name == "grpo" and not (demo / "config.json").exists() and _demo_summary(demo):
        # (resumed in place, it trained on: the demo's summary.json, table and plots then described a checkpoint
        # and metrics.jsonl that were no longer there)
        raise PonderError(f"{run}: is the RL run of the finished demo in {demo}, whose summary.json and plots "
                          f"describe this checkpoint; continue a copy of it instead (cp -r {shlex.quote(str(run))} "
                          "NEW_DIR, then --resume NEW_DIR)")
    section = {"pretrain": "train", "sft": "train"}.get(kind, kind)
    if not isinstance(saved.get(section), dict):
        raise PonderError(f"{cfg_f}: no {section!r} settings to resume from")
    where = saved.get(kind) or {}  # a GRPO run's device and dtype (a resumed run continues where it ran)
    if not isinstance(where, dict):  # (sft's own section, hand-edited: an AttributeError)
        raise PonderError(f"{cfg_f}: {kind}: expected a JSON object (the run's device and dtype), got "
                          f"{json.dumps(where)[:60]}")
    for k in ("device", "dtype"):  # (a list failed as a TypeError, and an unknown dtype named no file)
        v = where.get(k)
        if v is not None and not isinstance(v, str):
            raise PonderError(f"{cfg_f}: {kind}.{k}: expected a string, got {json.dumps(v)[:60]}")
    try:
        checkpoint.parse_dtype(where.get("dtype"))
    except PonderError as e:
        raise PonderError(f"{cfg_f}: {kind}.dtype: {e}") from None
    if device is None:  # a run that trained on a GPU, resumed where there is none: say what to do about it
        try:
            checkpoint.parse_device(where.get("device") or "cpu")
        except PonderError:
            how = ("resume with --device cpu (or another device)" if kind == "sft"
                   else "resume it on a machine that has it")
            raise PonderError(f"{run}: the run trained on {where.get('device')!r}, which is not available here; "
                              f"{how}") from None
    return saved


def _demo_summary(d: Path) -> bool:
    """Whether d/summary.json is a demo's (`ponder demo`'s keys), not a file of the user's own of that name."""
    try:
        s = json.loads((d / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(s, dict) and all(k in s for k in ("accuracy_before", "accuracy_after", "checkpoint"))


def load_run(run: Path, kind: str, device: str | None = None, recover: bool = True):
    """(model, tokenizer, state, saved config) of a run directory made by `kind` ('pretrain', 'sft', 'grpo').
    `device`: where to continue (sft); None: where the run trained, as its config.json records. recover=False:
    the caller has already put back a checkpoint a killed save left (see check_resumable)."""
    saved = check_resumable(run, kind, device, recover)
    where = saved.get(kind) or {}
    model, tok = checkpoint.load(run / "checkpoint", dtype=where.get("dtype"),
                                 device=device or where.get("device") or "cpu")
    sf = run / "checkpoint" / STATE
    try:  # weights_only: tensors and plain data, never code (a shared run directory must not run anything)
        # Always onto the CPU: its tensors may name a GPU that is not here, and on the run's own device every
        # torchrun rank would otherwise load rank 0's optimizer state onto cuda:0. The optimizer's load_state_dict
        # moves it to its parameters' device; the RNG state must be a CPU tensor; the rest is plain data.
        state = torch.load(sf, weights_only=True, map_location="cpu")
    except Exception as e:  # truncated, not a torch file, or holding objects: name it, say what it was
        raise PonderError(f"{sf}: cannot read the trainer state "
                          f"({type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''})") from None
    missing = [k for k in ("step", "optimizer", "torch_rng", "python_rng") if not isinstance(state, dict) or k not in state]
    if missing:
        raise PonderError(f"{sf}: not a trainer state (missing {', '.join(missing)})")
    # (each of the wrong type failed deep inside the resume with a TypeError or IndexError; a negative step trained
    # at a negative learning rate)
    step, py, rng = state["step"], state["python_rng"], state["torch_rng"]
    wrong = [k for k, ok in (("step", isinstance(step, int) and not isinstance(step, bool) and step >= 0),
                             ("optimizer", isinstance(state["optimizer"], dict)),
                             ("torch_rng", isinstance(rng, torch.Tensor) and rng.dtype == torch.uint8),
                             ("python_rng", py is None or isinstance(py, (list, tuple)) and len(py) == 3)) if not ok]
    if wrong:
        raise PonderError(f"{sf}: not a trainer state ({', '.join(wrong)} of the wrong type or value)")
    # the parameters the run kept frozen (a GRPO run given a model with some requires_grad=False): loaded trainable,
    # they trained on, or their absence from the optimizer state read as another model's
    frozen = state["extra"].get("frozen") if isinstance(state.get("extra"), dict) else None
    if isinstance(frozen, list):
        for n, p in model.named_parameters():
            if n in frozen:
                p.requires_grad_(False)
    check_resumed_model(run, model, state, saved)
    check_resumed_weights(run, state)
    return model, tok, state, saved


_ARCH = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
         "num_key_value_heads", "head_dim")


def check_resumed_model(run: Path, model: Transformer, state: dict, saved: dict) -> None:
    """The checkpoint, its trainer state and the run's config.json must describe one model: a checkpoint/ copied
    in from another run would otherwise train on silently (or fail inside AdamW, after metrics were trimmed)."""
    cfg = asdict(model.config)
    arch = saved.get("model") if isinstance(saved.get("model"), dict) else {}  # pretraining records its model
    diff = [f"{k} {arch[k]} vs {cfg[k]}" for k in _ARCH if k in arch and arch[k] != cfg[k]]
    if diff:
        raise PonderError(f"{run}: checkpoint/ holds another model than config.json describes ({'; '.join(diff)})")
    opt = state["optimizer"].get("state", {}) if isinstance(state["optimizer"], dict) else {}
    have = sorted(tuple(v["exp_avg"].shape) for v in opt.values() if isinstance(v, dict) and "exp_avg" in v)
    want = sorted(tuple(p.shape) for p in model.parameters() if p.requires_grad)
    if have and have != want:
        raise PonderError(f"{run / 'checkpoint' / STATE}: the optimizer state is for another model "
                          f"({len(have)} tensors, not the checkpoint's {len(want)} parameters of these shapes)")


def check_resumed_weights(run: Path, state: dict) -> None:
    """The checkpoint's weights must be those its trainer state was saved with (the sha256 save_run records): a
    checkpoint/ of another run of the same shapes, or weights replaced by hand, would otherwise train on with
    another model's optimizer moments and history. A state saved before the digest was recorded is not checked."""
    want = state.get("weights_sha256")
    if want is None:
        return
    ck = Path(run) / "checkpoint"
    have = checkpoint.weights_sha256(ck)
    if have != want:
        f = ck / "model.safetensors" if (ck / "model.safetensors").is_file() else ck / "model.safetensors.index.json"
        raise PonderError(f"{f}: not the weights {STATE} was saved with (sha256 {have[:12]}, recorded "
                          f"{str(want)[:12]}); put the run's own checkpoint back, or start a new run from these "
                          "weights")


def _run_record(train: dict, data_sha256) -> dict:
    """A pretraining or SFT run's settings as config.json holds them and its data's digest: what its trainer states
    record. Less the step target (a resume may raise it) and what only sets the cadence of held-out losses and
    checkpoints or the thread count and streams (they change rounding only: a hand edit of those is fine)."""
    keep = {k: v for k, v in train.items() if k not in ("steps", "eval_every", "save_every", "threads", "streams")}
    return {"train": keep, "data_sha256": data_sha256}


def check_run_record(run: Path, state: dict, want: dict) -> None:
    """The trainer state must be the run's own: a checkpoint/ of another run of the same model (its weights and
    state together, which check_resumed_weights passes) trained on silently under this run's settings and history.
    A state saved before the record was kept is not checked."""
    have = (state.get("extra") or {}).get("run") if isinstance(state.get("extra"), dict) else None
    if not isinstance(have, dict) or have == want:
        return
    a, b = have.get("train") or {}, want["train"]
    # (the settings both know: one that a later version adds is in neither the older record nor its run's config)
    diff = [f"{k} {json.dumps(a[k])} vs {json.dumps(b[k])}" for k in sorted(set(a) & set(b)) if a[k] != b[k]]
    if None not in (have.get("data_sha256"), want["data_sha256"]) and have["data_sha256"] != want["data_sha256"]:
        diff.append("the documents' sha256")  # (None: a config.json from before the digest was recorded)
    if None not in (have.get("eval_data_sha256"), want.get("eval_data_sha256")) \
            and have["eval_data_sha256"] != want["eval_data_sha256"]:  # (grpo --eval-data; absent: an older state)
        diff.append("the held-out items' sha256 (--eval-data)")
    if not diff:
        return
    raise PonderError(f"{run / 'checkpoint' / STATE}: saved by a run of other settings or documents than "
                      f"config.json's ({'; '.join(diff)[:200]}); put the run's own checkpoint back (or the settings "
                      "it was saved with)")


def check_steps_left(run, at: int, steps: int) -> None:
    """A resumed run at step `at` must have steps left before its target."""
    if at >= steps:  # (a --steps behind the run is named as such: "at step 10 of 5" read as a miscount)
        where = f"step {at} of {steps}" if at == steps else f"step {at}, past the target of {steps} steps"
        # (a run killed after its last checkpoint, before its plot: nothing said how to get the curves)
        plot = "" if (Path(run) / "training.png").exists() else f"; `ponder report {shlex.quote(str(run))}` draws its plots"
        raise PonderError(f"{run}: the run is at {where}; pass --steps N (N > {at}) to train further{plot}")


def saved_step(run: Path) -> int | None:
    """The step a run's checkpoint is at, read without loading its tensors (mmap: not the optimizer state's
    memory and time), for a check before the run is loaded; None where it cannot be read so (load_run says why)."""
    try:
        state = torch.load(Path(run) / "checkpoint" / STATE, weights_only=True, mmap=True, map_location="cpu")
    except Exception:
        return None
    step = state.get("step") if isinstance(state, dict) else None
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def saved_train_config(run: Path, saved: dict, steps: int | None, at: int) -> TrainConfig:
    """The TrainConfig a run directory's config.json holds, to resume at step `at` with: `steps` (when given)
    replaces the run's own and is written back, so that a resume interrupted again continues to the same
    target."""
    train = config_from(TrainConfig, saved["train"], f"{Path(run) / 'config.json'}: train")
    train.steps = train.steps if steps is None else steps
    train.validate()  # the new target too: sft's was never checked (7.5 was written here, then failed in range())
    check_steps_left(run, at, train.steps)
    old = saved["train"].get("steps")
    if train.steps != old:
        save_run_config(run, {**saved, "train": {**saved["train"], "steps": train.steps}})
        if isinstance(old, int) and at >= train.warmup:  # the cosine stretches over the new target: said, as a jump
            was = lr_at(at, dataclasses.replace(train, steps=old))  # of the lr (0.1x to 0.24x of the peak) is
            now, was = f"{lr_at(at, train):.3g}", f"{was:.3g}"  # no small change; one that rounds away is none
            if now != was:  # ("is 0.003, not 0.003" said nothing)
                print(f"resume: the cosine schedule now runs to step {train.steps} (was {old}): the learning rate "
                      f"at step {at + 1} is {now}, not {was}", file=sys.stderr)
    return train


def run_threads(threads: int | None) -> int:
    """The torch thread count a new run trains with and records in its config.json: `threads` (set here), or
    torch's current count. CPU matmuls split their reductions by thread, so a resume at another count rounds
    differently (loss ~1e-7 apart from its first step; a sampled token can flip later): --resume reuses it."""
    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def resume_threads(run: Path, recorded, given: int | None, say: bool = True, section: str | None = None) -> int | None:
    """Set the thread count a resumed run continues with: `given` (an explicit --threads: the user's choice, said
    in one line where it is not the run's own) or the one config.json records (`recorded`; None for a run from
    before it was recorded, which resumes at the process's count as before). Returns the count set, or None.
    say=False: no note and no write (a data-parallel rank other than 0: the note is said once). `section`: the
    config.json section ("train", "grpo") whose `threads` then records `given` (atomically): the run's count is
    the last one used, which a later plain --resume continues at (it went back to the run's first count)."""
    if recorded is not None and (isinstance(recorded, bool) or not isinstance(recorded, int) or recorded < 1):
        raise PonderError(f"{Path(run) / 'config.json'}: threads: expected a positive integer, got "
                          f"{json.dumps(recorded)[:40]}")
    if say and given is not None and recorded is not None and given != recorded:
        print(f"resume: --threads {given}: the run trained on {recorded} torch thread{'s' * (recorded != 1)}; CPU "
              "reductions round differently with another count, so the resumed run may not be bit-identical to "
              f"an uninterrupted one; the run now records {given} (a later --resume continues at it)",
              file=sys.stderr)
    if say and section is not None and given is not None and given != recorded:
        saved = read_run_config(run)
        save_run_config(run, {**saved, section: {**saved[section], "threads": given}})
    threads = given or recorded
    if threads:
        torch.set_num_threads(threads)
    return threads


def config_from(cls, d: dict, where: str):
    """A settings dataclass from a config.json section, or one line naming the setting that is wrong: a
    hand-edited run directory must not fail with a TypeError from deep inside the trainer."""
    kinds = {"int": int, "float": (int, float), "bool": bool, "str": str, "tuple": (list, tuple), "dict": dict}
    known = {f.name: f for f in fields(cls)}
    for k, v in d.items():
        if k not in known:
            raise PonderError(f"{where}: unknown setting {k!r}")
        names = [t.strip() for t in str(known[k].type).split("|")]
        if v is None and "None" in names:
            continue
        ok = [kinds[t] for t in names if t in kinds]
        if ok and (not isinstance(v, tuple(x for o in ok for x in (o if isinstance(o, tuple) else (o,))))
                   or (isinstance(v, bool) and "bool" not in names)):
            raise PonderError(f"{where}.{k}: expected {' or '.join(names)}, got {json.dumps(v)[:60]}")
    c = cls(**{k: tuple(v) if isinstance(v, list) and str(known[k].type) == "tuple" else v for k, v in d.items()})
    try:
        return c.validate() or c
    except PonderError as e:
        raise PonderError(f"{where}: {e}") from None


def save_run_config(run: Path, saved: dict) -> None:
    atomic_write_text(Path(run) / "config.json", json.dumps(saved, indent=2))


def read_run_config(run: Path) -> dict:
    """A run directory's config.json, or one line saying what is wrong with it."""
    f = Path(run) / "config.json"
    if not f.is_file():
        raise PonderError(f"{run}: not a resumable run directory (no config.json)")
    return checkpoint.read_json_object(f, unique_keys=True)


def trim_metrics(run: Path, step: int):
    """Drop the metric and alarm rows logged after `step` (by a run that died after its last checkpoint), and
    a last line cut short by the kill (no newline: its write never finished)."""
    for f in (run / "metrics.jsonl", run / "alarms.jsonl"):
        if not f.is_file():
            continue
        text = f.read_text()
        lines = text.split("\n")
        lines = lines[:-1]  # after the final newline: "" if the last write finished, else the cut-short row
        rows = []
        for i, ln in enumerate(lines, 1):
            if not ln.strip():
                continue
            try:
                row_step = json.loads(ln).get("step", 0)
            except (json.JSONDecodeError, AttributeError):
                row_step = None
            if isinstance(row_step, bool) or not isinstance(row_step, int):  # (a hand-edited "7": a TypeError below)
                raise PonderError(f"{f}:{i}: not a metrics row (JSON object with an integer step); repair or "
                                  "remove the line")
            if row_step <= step:
                rows.append(ln)
        atomic_write_text(f, "".join(r + "\n" for r in rows))


def _progress(total: int, initial: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from .progress import progress_bar

    return progress_bar(total=total, initial=initial, desc=desc, dynamic_ncols=True)


# ---- pretraining ---------------------------------------------------------------------------------
def pack_documents(docs_ids: list[list[int]], seq_len: int, pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy document-aligned packing: each row starts at a document start (as prompts do at inference).
    A document longer than a row is cut at seq_len + 1 tokens (pretrain() says how many were): carrying it
    on into the next row would train on fragments that start without their context (measured on the test
    suite's micro model: it no longer stopped after a long solution). Unlike SFT packing, documents in a row are
    not isolated: they attend to the ones before them (GPT-style packing; each ends with <|endoftext|>, from which
    the next one's first token is predicted)."""
    rows, cur = [], []
    for d in docs_ids:
        d = d[: seq_len + 1]
        if cur and len(cur) + len(d) > seq_len + 1:
            rows.append(cur)
            cur = []
        cur = cur + d
    if cur:
        rows.append(cur)
    ids = torch.full((len(rows), seq_len + 1), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), seq_len + 1), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def check_documents(docs, what: str) -> None:
    """Pretraining documents are a list of strings: a single string was trained on as one document per
    character (and held-out loss measured so), and a non-string or a lone surrogate failed inside the tokenizer
    trainer with a bare TypeError or UnicodeEncodeError."""
    if isinstance(docs, (str, bytes)) or not isinstance(docs, (list, tuple)):
        raise PonderError(f"pretrain: {what} must be a list of strings (one per document), got "
                          f"{type(docs).__name__}")
    for i, d in enumerate(docs):
        if not isinstance(d, str):
            raise PonderError(f"pretrain: {what}[{i}] must be a string, got {_json_type(d)}"
                              + ("" if d is None else f" {d!r:.60}"))  # (None: "got null None")
        _check_text(f"pretrain: {what}[{i}]", "text", d)


MAX_VOCAB = 2**20  # pretrain's tokenizer: 7x Qwen3's 151,936 tokens (the trainer allocates ~72 bytes per token)
MIN_VOCAB = 256 + len(SPECIAL_TOKENS)  # a byte-level tokenizer's smallest: every byte and the special tokens


CORPUS_FORMATS = (".txt", ".txt.gz", ".jsonl", ".jsonl.gz", ".json", ".json.gz", ".parquet")
END_OF_TEXT = "<|endoftext|>"
HELDOUT_SHARE, HELDOUT_MAX = 100, 500  # a split corpus holds out 1 in 100 of its distinct documents, at most 500


def file_sha256(path) -> str:
    """The sha256 of a file's bytes (what a run records of the corpus file it was trained on)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as e:
        raise PonderError(f"{path}: cannot read ({e.strerror})") from None
    return h.hexdigest()


def load_corpus(path) -> list[str]:
    """The documents of a pretraining corpus file, each ended with <|endoftext|> (unless it already is).

    .txt (or .txt.gz): UTF-8 text, one document per block of lines, blocks separated by one or more blank lines
    (as Hugging Face datasets' text loader reads with sample_by="paragraph"); .jsonl, .jsonl.gz, .json, .parquet:
    one document per row, its `text` field (as nanochat's and most hub pretraining corpora hold it). Rows whose
    text is blank are left out. Errors name the file and line (or row) and the field."""
    p = Path(path)
    if p.is_dir():
        raise PonderError(f"{p}: is a directory")
    if not p.is_file():
        raise PonderError(f"{p}: " + ("not a regular file" if p.exists() else "no such file"))
    fmt = _format(p)
    if fmt not in CORPUS_FORMATS:
        raise PonderError(f"{p}: a corpus is a {', '.join(CORPUS_FORMATS)} file, not {fmt or 'a file without suffix'}")
    refuse_git_lfs_pointer(p)
    docs = []
    if fmt.removesuffix(".gz") == ".txt":
        import re
        import zlib

        try:  # (the data readers' opener: gzip by its magic bytes, errors in their words)
            with _open_binary(p) as f:
                raw = f.read()
        except (OSError, EOFError, zlib.error) as e:
            raise PonderError(f"{p}: cannot read ({getattr(e, 'strerror', None) or e})") from None
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise PonderError(f"{p}: UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8: save it as UTF-8")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[:e.start].count(b"\n") + 1
            raise PonderError(f"{p}:{line}: not UTF-8 text (byte {e.start})") from None
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        docs = [b.strip("\n") for b in re.split(r"\n[ \t]*\n", text)]
    else:
        for where, row in (_read_parquet if fmt == ".parquet" else _read_jsonl)(p):
            if not isinstance(row, dict):
                raise PonderError(f"{where}: expected a JSON object with a 'text' field, got {_json_type(row)}")
            if "text" not in row:
                raise PonderError(f"{where}: no 'text' field (the row has " + (
                    ", ".join(repr(k) for k in list(row)[:8]) or "no fields") + ")")
            if row["text"] is None:  # (said "got null null")
                raise PonderError(f"{where}: field 'text' is null")
            if not isinstance(row["text"], str):
                raise PonderError(f"{where}: field 'text' must be a string, got {_json_type(row['text'])} "
                                  f"{json.dumps(row['text'], default=repr)[:40]}")
            _check_text(where, "text", row["text"])
            docs.append(row["text"])
    docs = [d if d.endswith(END_OF_TEXT) else d + END_OF_TEXT for d in docs if d.strip()]
    if not docs:
        raise PonderError(f"{p}: no documents (the corpus is empty or blank)")
    return docs


def split_corpus(docs: list[str]) -> tuple[list[str], list[str]]:
    """(training documents, held-out documents) of one corpus, deterministically: its distinct documents ranked
    by the sha256 of their text, the first 1 in 100 (at least 1, at most 500) are held out, and every copy of
    them is left out of training. A corpus of one distinct document holds out none."""
    distinct = sorted(set(docs), key=lambda d: hashlib.sha256(d.encode()).hexdigest())
    k = 0 if len(distinct) < 2 else min(HELDOUT_MAX, max(1, len(distinct) // HELDOUT_SHARE))
    held = distinct[:k]
    out = set(held)
    return [d for d in docs if d not in out], held


def check_pretrain_settings(run: Path, train: TrainConfig, model_config: ModelConfig | None, vocab_size: int):
    """What a fresh pretraining run would refuse, checked before the corpus is built (the CLI's takes ~10 s)."""
    fresh_run_dir(run, kind="pretrain")
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):  # (a TypeError inside the trainer)
        raise PonderError(f"vocab_size must be an integer, got {vocab_size!r}")
    if vocab_size > MAX_VOCAB:  # the tokenizers trainer allocates for it up front: 10**12 aborted the process
        raise PonderError(f"vocab_size={vocab_size}: at most {MAX_VOCAB:,} (2**20) tokens for a tokenizer trained "
                          "here")
    if vocab_size < MIN_VOCAB:
        raise PonderError(f"vocab_size={vocab_size}: a byte-level tokenizer needs at least "
                          f"{MIN_VOCAB} (256 bytes and {len(SPECIAL_TOKENS)} special tokens)")
    ctx, how = model_context(model_config or ModelConfig())
    if train.seq_len > ctx:
        raise PonderError(f"seq_len={train.seq_len} exceeds the model's context of {ctx} positions "
                          f"({how or 'max_position_embeddings'}); use --seq-len {ctx} or less")
    if train.compile:  # (found missing only after config.json was written: a run that stopped before it began)
        check_compiler("cpu")  # (a new pretraining model is built on the CPU)


@locks_run("run_dir")
def pretrain(
    run_dir: str | os.PathLike,
    docs: list[str] | None = None,
    *,
    model_config: ModelConfig | None = None,
    train: TrainConfig | None = None,
    vocab_size: int = 512,
    heldout_docs: list[str] | None = None,
    resume: bool = False,
    progress: bool = True,
    on_log: Callable[[dict], None] | None = None,
    corpus: dict | None = None,
) -> Path:
    """Train a tokenizer and a model from scratch on `docs`; returns the run directory.

    With resume=True the caller passes the same documents (the CLI rebuilds them from the saved corpus
    settings); the run's own settings come from its config.json, and only `train.steps` is taken from `train`
    (None, its default, or no `train`: the run's own step count; a number: the new target), and `train.threads`
    (None: the thread count config.json records, which a new run sets to `train.threads` or torch's current one;
    another count is allowed, said on stderr: the resumed run may then not be bit-identical). `corpus` on resume:
    the run's corpus settings with a file's new path (the CLI's --corpus at a moved file, its sha256 matched),
    recorded in config.json once every check has passed; None keeps config.json's.

    metrics.jsonl's `tokens_per_s` is the training throughput: tokens trained on per second spent in training
    steps (batch, forward, backward, optimizer step) since this process started or resumed the run, held-out
    evaluation, logging and checkpoint saves left out.
    """
    run = Path(run_dir)
    steps = train.steps if train else None  # (before validate makes a None the new run's 1000)
    threads = train.threads if train else None  # (on resume: an explicit count instead of the run's own)
    train = (train or TrainConfig()).validate()
    if not resume:  # recorded (config.json), so that a resume continues at the same count
        train = dataclasses.replace(train, threads=run_threads(train.threads))  # (not the caller's object)
    if not docs:
        raise PonderError("pretrain: the corpus is empty")
    check_documents(docs, "docs")
    if heldout_docs is not None:
        check_documents(heldout_docs, "heldout_docs")
    if not resume:
        check_pretrain_settings(run, train, model_config, vocab_size)
        check_streams(train, model_config, "cpu", "pretrain")
    docs_sha256 = _digest(docs)  # (once: config.json, the resume check and every trainer state's record)
    if resume:
        model, tok, state, saved = load_run(run, "pretrain")
        # Other documents would train on silently: the batches are drawn by row number from whatever is packed
        # (runs from before the digest was recorded have none to check).
        if saved.get("data_sha256") not in (None, docs_sha256):
            raise PonderError(f"{run}: the documents differ from the run's own (sha256 "
                              f"{str(saved['data_sha256'])[:12]}); resume with the same documents")
        # The held-out loss too is one set's throughout (runs from before it was recorded have no key to check).
        held_saved = saved.get("heldout_sha256", "unrecorded")
        if held_saved not in ("unrecorded", _digest(heldout_docs) if heldout_docs else None):
            raise PonderError(f"{run}: the held-out documents differ from the run's own (" + (
                f"sha256 {str(held_saved)[:12]}" if held_saved else "it had none") + "); resume with the same "
                "held-out documents")
        # (a bad setting gets its own line first; and a config.json from before a setting existed has no key for
        # it, where the record saved since has its default)
        was = config_from(TrainConfig, saved["train"], f"{run / 'config.json'}: train")
        check_run_record(run, state, _run_record(json.loads(json.dumps(asdict(was))), saved.get("data_sha256")))
        start = state["step"]
        train = saved_train_config(run, saved, steps, start)
        resume_threads(run, train.threads, threads, section="train")
        if corpus is not None and corpus != saved.get("corpus"):  # a corpus file at a new path (its sha256 matched):
            saved = read_run_config(run)  # recorded after the checks, under the run's lock (as resume_threads left it)
            save_run_config(run, {**saved, "corpus": corpus})
        trim_metrics(run, start)
    else:
        random.seed(train.seed)
        torch.manual_seed(train.seed)
        if progress:  # (the recipe's 200,000 documents: tens of seconds with no bar yet)
            print(f"pretrain: training a {vocab_size}-token tokenizer on {len(docs):,} documents", file=sys.stderr)
        tok = train_tokenizer(docs, vocab_size=vocab_size)
        # A copy: the model keeps (and checkpoint.save rewrites) its config, and the vocabulary may grow here;
        # on the caller's object that widened every later model built from it.
        mc = copy.deepcopy(model_config) if model_config is not None else ModelConfig()
        mc.vocab_size = max(mc.vocab_size, tok.vocab_size)
        model = Transformer(mc).init_weights(train.seed)
        start, state = 0, None
    opt = make_optimizer(model, train)
    warn_emulated_bf16(train, model.device, "pretrain")
    warn_short_schedule(train, "pretrain")
    if state is not None:
        opt.load_state_dict(state["optimizer"])
        restore_rng(state)
    if progress:
        print(f"pretrain: encoding {len(docs):,} documents", file=sys.stderr)
    encoded = [tok.encode(d, add_special_tokens=False) for d in docs]
    # Documents carry their own end (the corpus's end with <|endoftext|>): plain text packed several to a row ran
    # each into the next with nothing between them, and the model never saw EOS, so it never learnt to stop
    unended = sum(bool(d) and d[-1] != tok.eos_token_id for d in encoded)
    if unended:
        eos = tok.tok.id_to_token(tok.eos_token_id)
        print(f"pretrain: {unended} of {counted(len(docs), 'document')} do not end with {eos}: packed into one row, "
              f"each runs on into the next with nothing between them, and the model never learns to stop (end each "
              f"document with {eos})", file=sys.stderr)
    cut = sum(len(d) > train.seq_len + 1 for d in encoded)
    if cut:  # (with how much of the corpus is lost: "230 of 297 documents" said nothing of 80% of its tokens)
        lost, whole = sum(max(0, len(d) - train.seq_len - 1) for d in encoded), sum(map(len, encoded))
        # past the context no --seq-len keeps them (a .txt of lines with no blank one is one document): "raise
        # --seq-len" led to a refused one
        ctx = model_context(model)[0]
        over = 0 if ctx is None else sum(len(d) > ctx + 1 for d in encoded)
        fix = ("raise --seq-len to keep them whole" if not over else
               f"{'1 of them is' if over == 1 else f'{over} of them are'} longer than the model's context of {ctx} "
               "positions, which --seq-len cannot exceed: split documents that long (a .txt file's documents are "
               "separated by blank lines)")
        print(f"pretrain: {cut} of {len(docs)} documents are longer than seq_len + 1 = {train.seq_len + 1} tokens "
              f"and are cut there: {lost:,} of the corpus's {whole:,} tokens ({lost / whole:.1%}) are never trained "
              f"on ({fix})", file=sys.stderr)
    ids, mask = pack_documents(encoded, train.seq_len, tok.pad_token_id)
    # A row holding one single-token document (the next one did not fit) has no target: a batch drawing only
    # such rows divided by zero tokens. Left out, as SFT leaves out rows whose response was cut away.
    has_target = mask[:, 1:].any(1)
    if not bool(has_target.any()):
        raise PonderError("pretrain: no document has two tokens (nothing to predict); the corpus is empty text")
    ids, mask = ids[has_target], mask[has_target]
    held = None
    if heldout_docs:
        held_encoded = [tok.encode(d, add_special_tokens=False) for d in heldout_docs]
        held_cut = sum(len(d) > train.seq_len + 1 for d in held_encoded)
        if held_cut:  # (as the training documents' cut is said: heldout_loss reads only their first tokens)
            print(f"pretrain: {held_cut} of {len(heldout_docs)} held-out documents are longer than seq_len + 1 = "
                  f"{train.seq_len + 1} tokens and are cut there: heldout_loss measures their first "
                  f"{train.seq_len + 1} tokens only", file=sys.stderr)
        held = pack_documents(held_encoded, train.seq_len, tok.pad_token_id)
        if not bool(held[1][:, 1:].any()):
            raise PonderError("pretrain: no held-out document has two tokens (no held-out loss to measure)")
        if not resume:  # (a slice of docs given as heldout_docs: heldout_loss is then a training loss, said by sft)
            seen = set(docs)
            shared = sum(d in seen for d in heldout_docs)
            if shared:
                print(f"pretrain: {shared} of the {len(heldout_docs)} held-out documents are also training documents: "
                      "heldout_loss measures them after training on them (hold them out of docs)", file=sys.stderr)
    if not resume:  # (after the checks above: a refused corpus leaves no run that stopped before it began, nor
        run.mkdir(parents=True, exist_ok=True)  # an empty folder)
        take_run_lock(run)
        atomic_write_text(run / "config.json", json.dumps(
            {"kind": "pretrain", "train": asdict(train), "model": asdict(mc), "vocab_size": vocab_size,
             "corpus": corpus, "data_sha256": docs_sha256,
             "heldout_sha256": _digest(heldout_docs) if heldout_docs else None}, indent=2))
    # what the trainer state records of its run: a checkpoint/ copied in from another run of the same model
    # (other settings or documents) resumes only where it is the run's own
    record = _run_record(json.loads(json.dumps(asdict(train))), docs_sha256)
    model.train()
    fwd = compiled(model) if train.compile else model
    tb = SummaryWriter(run / "tensorboard", purge_step=start + 1 if start else None)
    bar = _progress(train.steps, start, "pretrain", progress)
    # tokens_per_s: the tokens trained on per second of training steps (drawing the batch, forward, backward, the
    # optimizer step) since this process started the run or resumed it; held-out evaluation, logging and
    # checkpoint saves are left out (counted in, the rate fell from 8,737 to 1,193 at the first save)
    train_s, tokens, saved_at = 0.0, 0, start
    micro = -(-train.batch_size // train.grad_accum)  # ceil: grad_accum micro-batches (16 by 3: 6, 6, 4; not 5, 5, 5, 1)
    try:
        for step in range(start, train.steps):
            t0 = time.perf_counter()
            g = torch.Generator().manual_seed(train.seed * 1_000_003 + step)  # batch = f(seed, step)
            idx = torch.randint(0, ids.shape[0], (train.batch_size,), generator=g)
            total = int(mask[idx, 1:].sum())
            loss, gn = optimizer_step(model, opt, train, step, total,
                                      lambda b: token_loss(fwd, ids[b], mask[b], mask[b], train.bf16)[0],
                                      idx.split(micro))
            train_s += time.perf_counter() - t0
            tokens += total
            row = {"step": step + 1, "loss": loss, "lr": lr_at(step, train), "grad_norm": gn,
                   "tokens_per_s": tokens / train_s}
            if held is not None and ((step + 1) % train.eval_every == 0 or step + 1 == train.steps):
                # split as --grad-accum splits the training batch (as sft's val_loss): 64 rows at once could exhaust
                # the memory the split was made to fit (unsplit, as before: the recipe's figures stay as they were)
                row["heldout_loss"] = evaluate_loss(model, *held, batch=64 if train.grad_accum == 1 else min(64, micro))
            log_row(run, tb, "pretrain", row, on_log, bar, tok_s=f"{row['tokens_per_s']:.0f}")
            stop_if_diverged(row, run, saved_at)
            if (step + 1) % train.save_every == 0 or step + 1 == train.steps:
                model.eval()
                save_run(run, model, tok, opt, step + 1, extra={"run": record})
                saved_at = step + 1
                model.train()
    finally:
        if bar:
            bar.close()
        tb.close()
    model.eval()
    plot_run(run)
    return run


def stop_if_diverged(row: dict, run: Path | None, saved_at: int) -> None:
    """A non-finite loss or gradient norm would poison the weights for good (AdamW spreads the NaN into every
    moment; optimizer_step has not stepped on it): stop at once; the row stays in metrics.jsonl, and training.png
    is drawn from it (a finished run's end draws it: a diverged run, whose curves one needs most, had none)."""
    if math.isfinite(row["loss"]) and math.isfinite(row["grad_norm"]):
        return
    unplotted = ""
    if run is not None:
        try:
            plot_run(run)
        except Exception as e:  # (a failed plot, its OutputError or a matplotlib error, took the divergence's place)
            unplotted = f" (training.png not drawn: {headline(e) or type(e).__name__})"
    kept = f"; the step-{saved_at} checkpoint in {run} is kept" if run is not None and saved_at else ""
    raise PonderError(f"step {row['step']}: training diverged (loss {row['loss']:.4g}, gradient norm "
                      f"{row['grad_norm']:.4g}){kept}; lower --lr in a new run (another --out: --resume keeps "
                      f"this run's settings){unplotted}")


@torch.no_grad()
def evaluate_loss(model: Transformer, ids: torch.Tensor, mask: torch.Tensor, attn: torch.Tensor | None = None,
                  batch: int = 64, loss_fn=token_loss) -> float:
    """Mean cross-entropy per loss-masked token of held-out rows (attention: `attn`, else `mask`);
    `loss_fn=response_loss` for SFT's validation rows."""
    was = model.training
    model.eval()
    attn = mask if attn is None else attn
    tot, n = 0.0, 0
    for i in range(0, ids.shape[0], batch):
        s, c = loss_fn(model, ids[i : i + batch], mask[i : i + batch], attn[i : i + batch])
        tot, n = tot + s.item(), n + c
    model.train(was)
    return tot / max(n, 1)


# ---- supervised fine-tuning ----------------------------------------------------------------------
class SFTRows(list):
    """The rows of a data file, with `where` ("FILE:LINE") per row: sft() names a row the chat template refuses
    by it. (A list for everything else: its digest, which resume checks, is the plain rows'.)"""

    def __init__(self, rows=()):
        super().__init__(rows)
        self.where: list[str] = []


def load_sft_examples(path) -> list[dict]:
    """Rows of a JSONL (gzipped or not), JSON-array or Parquet file with `prompt` and `response` (or `messages`);
    errors name file and line. A row of MATH's layout (`problem`, `solution`, as MATH-500) trains its problem as
    the prompt and its solution as the response (one note on stderr says so)."""
    p = Path(path)
    if p.is_dir():
        raise PonderError(f"{p}: is a directory")
    if not p.is_file():
        raise PonderError(f"{p}: " + ("not a regular file" if p.exists() else "no such file"))
    refuse_git_lfs_pointer(p)  # (a hub dataset cloned without git-lfs)
    rows = SFTRows()
    mapped = 0  # rows of MATH's layout (problem, solution) read as prompt/response
    # A Parquet file (what `distill --data` and most hub datasets take) read as JSON Lines failed with
    # "FILE:1: invalid JSON", which says nothing of the format.
    parquet = _format(p) == ".parquet"
    for where, row in (_read_parquet if parquet else _read_jsonl)(p):
        if isinstance(row, list) and not rows and _format(p).removesuffix(".gz") != ".json":  # json.dump(rows, f)
            raise PonderError(f"{where}: expected a JSON object, got an array; the file looks like a JSON array "
                              "of rows, not JSON Lines (one object a line): name it .json")
        if parquet and isinstance(row, dict):  # a column another row format fills is null in this row
            row = {k: v for k, v in row.items() if v is not None}
        elif isinstance(row, dict):  # JSONL of both formats (datasets' and pandas' to_json) writes those nulls too
            other = ("prompt", "response") if row.get("messages") is not None else ("messages",)
            row = {k: v for k, v in row.items() if not (k in other and v is None)}
        if isinstance(row, dict) and _math_layout(row):
            row = _math_row(row, where)
            if not mapped:
                print(f"sft: {p}: rows of MATH's layout (no prompt/response): reading `problem` as the prompt "
                      "and `solution` as the response", file=sys.stderr)  # (said "training on" of --val-data's too)
            mapped += 1
        check_sft_example(row, where)
        rows.append(row)
        rows.where.append(where)
    if not rows:
        raise PonderError(f"{p}: empty dataset")
    return rows


def _math_layout(row: dict) -> bool:
    """A row of MATH's (MATH-500's) layout: `problem` and `solution` (worked text ending in \\boxed{...}), and
    neither of the SFT formats' fields, so the eval loader's `problem` is the prompt here too."""
    return "problem" in row and "solution" in row and not any(k in row for k in ("prompt", "response", "messages"))


def _math_row(row: dict, where: str) -> dict:
    """A MATH-layout row as a prompt/response example (its other fields kept), its fields checked under their
    own names: the file has no 'prompt' or 'response' for an error to name."""
    for k in ("problem", "solution"):
        v = row[k]
        if not isinstance(v, str):
            raise PonderError(f"{where}: {k!r} must be a string, got {_json_type(v)}")
        _check_text(where, k, v)
        if not v.strip():
            raise PonderError(f"{where}: {k!r} is empty" + (" (nothing to train on)" if k == "solution" else ""))
    rest = {k: v for k, v in row.items() if k not in ("problem", "solution")}
    return {"prompt": row["problem"], "response": row["solution"], **rest}


def _check_messages(msgs, where: str, field: str):
    """Chat messages as the template takes them (tokenizer.message_problem: tool messages and an assistant's
    tool_calls included), each named by FILE:LINE and its index when it is not."""
    if not isinstance(msgs, list) or not msgs:
        raise PonderError(f"{where}: {field!r} must be a non-empty list of chat messages")
    for j, m in enumerate(msgs):
        if (problem := message_problem(m)) is not None:
            raise PonderError(f"{where}: {field}[{j}]: {problem}")
        w = m.get("weight")  # OpenAI's fine-tuning format: an assistant turn of weight 0 is not trained on
        if w is not None and (isinstance(w, bool) or w not in (0, 1)):
            raise PonderError(f"{where}: {field}[{j}].weight must be 0 (not trained on) or 1, got {w!r:.40}")
        # every text the template may render (reasoning under any of its names, a tool's name, the calls' names
        # and arguments): a lone surrogate in one failed at encoding, naming no row of the file
        for path, text in _texts(m, f"{field}[{j}]"):
            _check_text(where, path, text)


def check_sft_example(ex, where: str = "example"):
    """One clear line for a malformed example: `prompt` (a string or chat messages) with a string `response`,
    or `messages` ending with an assistant turn. The text trained on must be there: an empty response (or
    last assistant turn) would train only the end-of-turn token, and an empty prompt leaves the response's
    first token with nothing to be predicted from (packed, the previous example's last token would)."""
    if not isinstance(ex, dict):
        raise PonderError(f"{where}: expected a JSON object, got {_json_type(ex)}")
    if "messages" in ex and ("prompt" in ex or "response" in ex):  # which one to train on? (one was ignored)
        both = "prompt" if "prompt" in ex else "response"
        raise PonderError(f"{where}: has both 'messages' and {both!r}; give one format per row (messages, or "
                          "prompt and response)")
    if ex.get("tools") is not None:  # the tools a tool-calling row's template lists (TRL passes them the same)
        check_template_kwargs({"tools": ex["tools"]}, f"{where}: field 'tools'")
        for path, text in _texts(ex["tools"], "tools"):
            _check_text(where, path, text)
    if "messages" in ex and "prompt" not in ex:
        _check_messages(ex["messages"], where, "messages")
        last = ex["messages"][-1]
        if last["role"] != "assistant":
            raise PonderError(f"{where}: 'messages' must end with an assistant turn")
        if not (last.get("content") or "").strip() and not last.get("tool_calls"):
            raise PonderError(f"{where}: the last assistant turn of 'messages' is empty (nothing to train on)")
        return
    for k in ("prompt", "response"):
        if k not in ex:
            # (a MATH-layout row lacking its solution was told "missing field 'prompt'", though it has a problem)
            hint = ("; a row of MATH's layout needs 'solution' beside 'problem' (the response trained on)"
                    if "problem" in ex and "prompt" not in ex and "solution" not in ex else "")
            # (GSM8K's layout was told the same, with no word of what sft reads instead: eval and grpo read it by
            # --prompt-field, sft has no such flag)
            if "question" in ex and "prompt" not in ex and "problem" not in ex:
                hint = ("; sft reads prompt/response, messages or MATH's problem/solution rows: write GSM8K's "
                        "layout as {\"prompt\": question, \"response\": answer}")
            raise PonderError(f"{where}: missing field {k!r} (have: {field_names(ex, 'none')}){hint}")
    if isinstance(ex["prompt"], str):
        _check_text(where, "prompt", ex["prompt"])
        if not ex["prompt"].strip():
            raise PonderError(f"{where}: 'prompt' is empty")
    elif isinstance(ex["prompt"], list):
        _check_messages(ex["prompt"], where, "prompt")
    else:
        raise PonderError(f"{where}: 'prompt' must be a string or a list of chat messages, "
                          f"got {_json_type(ex['prompt'])}")
    if not isinstance(ex["response"], str):
        raise PonderError(f"{where}: 'response' must be a string, got {_json_type(ex['response'])}")
    _check_text(where, "response", ex["response"])
    if not ex["response"].strip():
        raise PonderError(f"{where}: 'response' is empty (nothing to train on)")


# What sft() trains of a row of `messages` (encode_sft): every assistant turn, or the last one only.
SFT_TURNS = ("all", "last")


def check_turns(turns, where: str = "sft") -> str:
    if not isinstance(turns, str) or turns not in SFT_TURNS:
        raise PonderError(f"{where}: turns must be 'all' (every assistant turn of a messages row) or 'last' (its "
                          f"last assistant turn), got {turns!r:.60}")
    return turns


def check_sft_chat(chat, system, where: str = "sft") -> None:
    """sft's chat and system (`ponder sft --chat --system S`): a switch, and text or None, given with chat."""
    if not isinstance(chat, bool):  # ("no" is truthy: every prompt was wrapped, and "no" recorded)
        raise PonderError(f"{where}: chat must be True or False, got {chat!r:.60}")
    if system is not None and not isinstance(system, str):  # (a list of messages went into the content)
        raise PonderError(f"{where}: system must be text (the system message), got {type(system).__name__} "
                          f"{system!r:.60}")
    if system is not None and not chat:  # (a text prompt is used as given: it has no turn to put it in)
        raise PonderError(f"{where}: system is the system message of chat prompts: set chat=True, or drop system")


def chat_examples(examples: list[dict], system: str | None = None, flag: str = "system") -> list[dict]:
    """sft's chat=True: each text prompt as a user message (after `system`; "" is an empty system turn, as eval
    renders it), the response its assistant turn, so the model is fine-tuned on the prompt that eval, grpo and
    distill --chat give it at inference (the text prompt alone was trained, and a model fine-tuned so was scored
    after a chat template it had never seen). A row already of chat messages (`messages`, or a `prompt` of
    messages) is kept as it is; `system` on top of it would be a second system message, and is refused, naming
    the row (by FILE:LINE, as load_sft_examples gives them; `flag`: the option named, --system on the CLI)."""
    where = getattr(examples, "where", None)
    where = where if where is not None and len(where) == len(examples) else None  # (unless edited since)
    out = SFTRows()
    for i, ex in enumerate(examples):
        w = where[i] if where else f"example {i}"
        check_sft_example(ex, w)  # (a malformed row is said as such, not as one of chat messages)
        if isinstance(ex.get("prompt"), str):
            sys_msg = [{"role": "system", "content": system}] if system is not None else []
            ex = {**ex, "prompt": [*sys_msg, {"role": "user", "content": ex["prompt"]}]}
        elif system is not None:
            field = "prompt" if "prompt" in ex else "messages"
            raise PonderError(f"{w}: the row's {field!r} is a list of chat messages, which {flag} would be added on "
                              f"top of; put the system message in its {field!r}, or drop {flag}")
        out.append(ex)
        out.where.append(w)
    return out


def _render(tok: Tokenizer, msgs: list, where: str, tools, add_generation_prompt: bool = True) -> str:
    # a row without tools renders with the run's template_kwargs' tools, as inference prompts do (tools=None
    # replaced them: trained without the tools list that every prompt at inference shows)
    kwargs = {} if tools is None else {"tools": tools}
    try:
        return tok.apply_chat_template(msgs, add_generation_prompt=add_generation_prompt, **kwargs)
    except PonderError as e:  # a template's raise_exception ("roles must alternate") must name the example
        raise PonderError(f"{where}: {e}") from None


def _check_calls_rendered(msg: dict, text: str, where: str, turn: str) -> None:
    for call in msg.get("tool_calls") or []:  # a template without tool calling drops them: an empty target
        if (name := call["function"]["name"]) not in text:
            raise PonderError(f"{where}: the chat template does not render the {turn}'s tool_calls (no "
                              f"{name!r} in its text); use a template with tool calling, such as Qwen3's")


def _check_last_turn_rendered(tok: Tokenizer, msg: dict, text: str, where: str) -> None:
    """The last assistant turn must render as more than its end of turn: a template that drops part of it
    (DeepSeek-R1's drops everything up to "</think>") left a row that trained the end-of-turn token alone, as an
    empty response would (check_sft_example refuses that one)."""
    for i in tok.stop_token_ids:
        if (t := tok.tok.id_to_token(i)) is not None:
            text = text.replace(t, "")
    if not text.strip() and not msg.get("tool_calls"):  # (tool calls not rendered: _check_calls_rendered says so)
        raise PonderError(f"{where}: the chat template renders the last assistant turn as nothing but its end of "
                          f"turn (it drops its text {msg.get('content')!r:.60}); nothing to train on")


def encode_sft(tok: Tokenizer, ex: dict, where: str = "example", turns: str = "all") -> tuple[list[int], list[int]]:
    """(ids, loss_mask) with loss on the response tokens (and the token that ends them) only.

    The prompt's tokens are exactly those the model is prompted with at inference (`ponder.sample` encodes the
    prompt alone: `tok.encode(prompt, add_special_tokens=True)` for a string, the rendered chat prompt without
    special tokens for messages). The response's tokens are what generation must produce after them
    (`Tokenizer.encode_continuation`): the tail of `encode(prompt + response)` when the prompt's own tokens
    are its prefix; otherwise (a BPE merge across the seam: "is " + "4" is one token " 4" jointly, never
    seen at inference) the response encoded alone from a fresh token boundary, without a sentencepiece
    tokenizer's dummy-prefix "▁" (Llama 2, Mistral), which would train on a space the text does not have.

    A string `prompt` is used as-is and the response closed with EOS. Chat examples (`messages`, or a
    `prompt` of messages) render the whole conversation with the chat template. A `prompt`/`response` row
    trains the response alone (the prompt is context, as TRL's prompt-completion rows). A `messages` row trains
    every assistant turn with turns="all" (TRL's assistant_only_loss, open-instruct), the last one only with
    turns="last" (earlier turns are context). A tool's output (a `tool` message) is always context, never a
    target; an assistant turn of `weight` 0 (OpenAI's fine-tuning format; 1 or absent: trained) is context; an
    assistant turn of tool_calls is a target (the template must render the calls), and a row's
    `tools` are the template's `tools`, as TRL passes them. A response ends the way the template ends an
    assistant turn (ChatML's <|im_end|>, not EOS) — the same rendering `ponder.sample` and `ponder chat` use,
    so the model is trained on what it will be prompted with.

    turns="all": each trained turn's tokens start where the template's prompt for it (the messages before it,
    with the generation prompt) ends, when that is a prefix of the whole rendering (else after the turn's header,
    `_history_turn_start`), and end with the first
    end-of-turn token (one of `tok.stop_token_ids`) after it, which must come before the next message; the last
    turn is trained as turns="last" trains it. The conversation is encoded piece by piece (context, turn,
    context, ...) with `encode_continuation`, so a turn's tokens are those generation produces after the
    history before it. An empty assistant turn (no text, no tool_calls) before the last is context: nothing
    to train on. Earlier turns are trained as the template renders them in the whole conversation: Qwen3's
    drops the thinking (reasoning_content) of turns before the last user message, so those are trained
    without it, and Qwen3's non-thinking prompt opens an empty think block that its history lacks, so those
    turns are trained without one; a template that renders the history before a turn otherwise than its
    prompt does is refused, naming the turn.
    turns="last" with one row per turn trains each turn exactly as inference renders it.
    """
    check_turns(turns, where)
    check_sft_example(ex, where)
    if "messages" in ex and "prompt" not in ex:
        msgs = ex["messages"]
        if msgs[-1].get("weight") == 0:  # (trained on regardless, as were the earlier turns of weight 0)
            if turns == "last" or not any(_trained_turn(m, i, len(msgs) - 1) for i, m in enumerate(msgs)):
                raise PonderError(f"{where}: the last assistant turn has weight 0 (not trained on) and no other "
                                  "turn is trained" + (" (--turns last trains the last one only)" if turns == "last"
                                                       else "") + ": nothing to train on")
            msgs = msgs[:-1]  # context for no trained turn after it
        last = len(msgs) - 1
        for i, m in enumerate(msgs):
            if m["role"] == "assistant" and m.get("weight") != 0 and (i == last or turns == "all"):
                _check_no_turn_end(tok, m, where, f"messages[{i}].")
        if turns == "all":
            return _encode_every_turn(tok, msgs, ex.get("tools"), where)
    elif isinstance(ex["prompt"], str):
        _check_no_turn_end(tok, {"response": ex["response"]}, where, "")
        prompt_ids = tok.encode(ex["prompt"], add_special_tokens=True)
        resp_ids = tok.encode_continuation(ex["prompt"], ex["response"]) + [tok.eos_token_id]
        return prompt_ids + resp_ids, [0] * len(prompt_ids) + [1] * len(resp_ids)
    else:
        _check_no_turn_end(tok, {"response": ex["response"]}, where, "")
        msgs = [*ex["prompt"], {"role": "assistant", "content": ex["response"]}]
    prompt = _render(tok, msgs[:-1], where, ex.get("tools"))
    full = _render(tok, msgs, where, ex.get("tools"), add_generation_prompt=False)
    if not full.startswith(prompt):
        raise PonderError(f"{where}: the chat template renders the conversation without its own prompt as a "
                          "prefix; cannot tell the response's tokens apart" + _prefilled_think(tok, msgs[-1]))
    _check_calls_rendered(msgs[-1], full[len(prompt):], where, "last assistant turn")
    _check_last_turn_rendered(tok, msgs[-1], full[len(prompt):], where)
    prompt_ids = tok.encode(prompt, add_special_tokens=False)
    resp_ids = tok.encode_continuation(prompt, full[len(prompt):].rstrip("\n"))
    if not resp_ids or resp_ids[-1] not in tok.stop_token_ids:  # a template that does not end the turn
        resp_ids.append(tok.eos_token_id)
    return prompt_ids + resp_ids, [0] * len(prompt_ids) + [1] * len(resp_ids)


def _turn_end_in(tok: Tokenizer, text: str) -> str | None:
    """The end-of-turn token (a stop token) that `text` holds as its string and encodes to, or None."""
    if tok.config.get("split_special_tokens") is True:  # (encoded as text, then)
        return None
    for i in tok.stop_token_ids:
        t = tok.tok.id_to_token(i)
        if t and t in text and i in tok.encode(text, add_special_tokens=False):
            return t
    return None


def _check_no_turn_end(tok: Tokenizer, m: dict, where: str, field: str) -> None:
    """A trained turn's text (content, reasoning, tool calls) must not hold an end-of-turn token's string: text is
    encoded with special-token strings as those tokens, so the response would hold a stop token before its end,
    where generation stops (a turn before the last was cut there, the rest of it trained as context)."""
    calls = [json.dumps(c, ensure_ascii=False) for c in m.get("tool_calls") or []]
    texts = [(k, m.get(k)) for k in ("response", "content", *REASONING_FIELDS)] + [("tool_calls", c) for c in calls]
    for k, text in texts:
        if isinstance(text, str) and (t := _turn_end_in(tok, text)):
            raise PonderError(f"{where}: {f'{field}{k}' if field else repr(k)} holds {t!r}, an end-of-turn token: "
                              "encoded as that token, the trained response would stop there at inference and go on "
                              "past it in training; remove it from the data (or set split_special_tokens in "
                              "tokenizer_config.json to encode such text as text)")


def _history_turn_start(tok: Tokenizer, msgs: list, i: int, full: str, prompt: str, tools, where: str) -> int:
    """Where assistant turn i starts in `full` when the template's prompt for it is not a prefix of the whole
    rendering: Qwen3's non-thinking prompt ends with an empty think block ("<think>\n\n</think>\n\n") that the
    turns of its history lack. The history before the turn (rendered without the generation prompt) must be a
    prefix of the whole; the turn then starts where the prompt and the whole part, after the turn's header
    ("<|im_start|>assistant\n") but never inside the turn's own text, located with a marker in its place.
    Anything else cannot be told apart: refused, naming the turn."""
    hist = _render(tok, msgs[:i], where, tools, add_generation_prompt=False)
    mark = "\x00this turn\x00"
    marked = _render(tok, [*msgs[:i], {**msgs[i], "content": mark}, *msgs[i + 1:]], where, tools,
                     add_generation_prompt=False)
    at = marked.find(mark)
    start = min(len(os.path.commonprefix([prompt, full])), at)
    if not full.startswith(hist) or at < 0 or marked[:at] != full[:at] or start <= len(hist):
        raise PonderError(f"{where}: messages[{i}]: the chat template's prompt for this assistant turn is not a "
                          "prefix of the whole conversation's rendering (it renders the history otherwise); "
                          "cannot tell the turn's tokens apart; train turns='last' (--turns last), one "
                          "row per turn")
    return start


def _text_end(full: str, text: str, start: int, bound: int) -> int:
    """Where `text` (as it is, or stripped as templates trim it) ends in full[start:bound]; `start` if not found."""
    for t in (text, text.strip()):
        if t and (k := full.find(t, start, bound)) >= 0:
            return k + len(t)
    return start


def _thoughts(m: dict) -> list[str]:
    """An assistant turn's reasoning texts: its reasoning fields, or a think block written into its content."""
    out = [t.strip() for k in REASONING_FIELDS if isinstance(t := m.get(k), str) and t.strip()]
    c = m.get("content")
    if isinstance(c, str) and "</think>" in c and (t := c.split("</think>")[0].split("<think>")[-1].strip()):
        out.append(t)
    return out


def _prefilled_think(tok: Tokenizer, m: dict) -> str:
    """Why a turn with reasoning cannot be trained where the template's prompt pre-fills an empty think block
    (Qwen3's with enable_thinking false), said after an error; "" for a turn without reasoning."""
    if not _thoughts(m):
        return ""
    flags = {k: v for k, v in tok.template_kwargs.items() if isinstance(v, bool)}  # (not a tools list's schemas)
    kw = f" (chat_template_kwargs {json.dumps(flags)})" if flags else ""
    return (f": it has reasoning, which the prompt{kw} does not let the model write (an empty think block, as "
            "Qwen3's with enable_thinking false); remove the reasoning from the data, or train with thinking on")


def _trained_turn(m: dict, i: int, last: int) -> bool:
    """Whether turns="all" trains message i of a row's messages: an assistant turn, not of weight 0, and not empty
    (an empty turn before the last is only context; an empty last one check_sft_example refuses)."""
    empty = not (m.get("content") or "").strip() and not m.get("tool_calls")
    return m["role"] == "assistant" and m.get("weight") != 0 and not (empty and i < last)


def _encode_every_turn(tok: Tokenizer, msgs: list, tools, where: str) -> tuple[list[int], list[int]]:
    """encode_sft's turns="all" for a `messages` row (its docstring): the loss on every assistant turn."""
    full = _render(tok, msgs, where, tools, add_generation_prompt=False)
    stops = sorted({t for i in tok.stop_token_ids if (t := tok.tok.id_to_token(i))})
    last = len(msgs) - 1
    spans = []  # (start, end) of each trained turn in `full`

    def no_end(i):
        return PonderError(f"{where}: messages[{i}]: the chat template does not end this assistant turn with an "
                           f"end-of-turn token ({', '.join(stops)}) before the next message; cannot tell the turn's "
                           "tokens apart; train turns='last' (--turns last), one row per turn")
    prev = None
    for i, m in enumerate(msgs):
        if not _trained_turn(m, i, last):
            continue
        prompt = _render(tok, msgs[:i], where, tools)
        prefix = full.startswith(prompt)
        if not prefix and i == last:  # refused as turns="last" refuses it (this path trained a target that began
            # inside the turn's think block, after a "<think>\n" the prompt at inference never has: Qwen3's with
            # enable_thinking false and a reasoning_content, whose prompt ends with an empty think block)
            raise PonderError(f"{where}: the chat template renders the conversation without its own prompt as a "
                              "prefix; cannot tell the response's tokens apart" + _prefilled_think(tok, m))
        start = len(prompt) if prefix else _history_turn_start(tok, msgs, i, full, prompt, tools, where)
        if spans and start < spans[-1][1]:  # (the turn before ran into this one: no end-of-turn there)
            raise no_end(prev)
        if i == last:  # as turns="last" trains it (rows of one assistant turn encode the same either way)
            end = start + len(full[start:].rstrip("\n"))
        else:
            # the turn ends at its first end-of-turn token, within the conversation up to this turn when the
            # template renders that as a prefix of the whole (Qwen3's does not: it shows the last turn's thinking),
            # else before the next message's text: where the whole rendered with a marker for it has the marker
            upto = _render(tok, msgs[: i + 1], where, tools, add_generation_prompt=False)
            bound = len(upto)
            if not full.startswith(upto):
                mark = "\x00next message\x00"
                marked = _render(tok, [*msgs[: i + 1], {**msgs[i + 1], "content": mark}, *msgs[i + 2:]], where, tools,
                                 add_generation_prompt=False)
                bound = marked.find(mark)
                if bound < 0 or marked[:bound] != full[:bound]:
                    raise PonderError(f"{where}: messages[{i}]: the chat template renders this assistant turn "
                                      "differently with another next message; cannot tell where the turn ends; "
                                      "train turns='last' (--turns last), one row per turn")
            # searched after the turn's own text: text holding an end-of-turn string (encoded as text with
            # split_special_tokens) is not where the template ends the turn (the rest of it was cut to context)
            texts = [t for k in ("content", *REASONING_FIELDS) if isinstance(t := m.get(k), str) and
                     any(s in t for s in stops)]
            after = max([start, *(_text_end(full, t, start, bound) for t in texts)])
            found = [(k, k + len(s)) for s in stops if (k := full.find(s, after, bound)) >= 0]
            if not found:
                raise no_end(i)
            end = min(found)[1]
        if not prefix and (said := _prefilled_think(tok, m)) and any(t in full[start:end] for t in _thoughts(m)):
            # (its target began inside the think block the whole renders for it, "<think>\n" left as context)
            raise PonderError(f"{where}: messages[{i}]: the chat template's prompt for this assistant turn is not a "
                              f"prefix of the whole conversation's rendering{said}")
        _check_calls_rendered(m, full[start:end], where,
                              "last assistant turn" if i == last else f"assistant turn messages[{i}]")
        if i == last:
            _check_last_turn_rendered(tok, m, full[start:end], where)
        spans.append((start, end))
        prev = i
    # Each piece is encoded after the text before it (encode_continuation), from the last added token (ChatML's
    # <|im_start|>, <|im_end|>) there on: the tokenizer splits text at those before anything else, so the text
    # before one encodes the same on its own, and a row of many turns costs one encoding, not one per turn.
    splits = [t.content for t in tok.tok.get_added_tokens_decoder().values()
              if t.content and not (t.normalized or t.lstrip or t.single_word)]
    ids, mask, pos, cut = [], [], 0, 0
    for start, end in spans:
        for a, b, target in ((pos, start, 0), (start, end, 1)):
            if a < b:  # (a template may render nothing between two turns)
                cut = max([cut, *(full.rfind(t, cut, a) for t in splits)])
                piece = tok.encode_continuation(full[cut:a], full[a:b]) if a else tok.encode(full[a:b], add_special_tokens=False)
                ids += piece
                mask += [target] * len(piece)
        pos = end
    if ids[-1] not in tok.stop_token_ids:  # a template that does not end the last turn (as turns="last")
        ids.append(tok.eos_token_id)
        mask.append(1)
    return ids, mask


def sft_batches(encoded, seq_len: int, pad: int, packing: bool):
    """(ids, loss mask, attention mask) rows of at most seq_len + 1 tokens, right-padded. With `packing`,
    examples share rows and the attention mask numbers them 1, 2, ...: each attends only to itself, with
    positions from 0, so a packed example trains exactly as it would alone (tests/test_train.py)."""
    rows = []  # (ids, loss mask, document number per token)
    for i, m in encoded:
        # A document's first token has no token of its own before it to be predicted from: never a target
        # (packed, the previous document's last token would predict it).
        i, m = i[: seq_len + 1], [0, *m[1 : seq_len + 1]]
        if packing and rows and len(rows[-1][0]) + len(i) <= seq_len + 1:
            last = rows[-1]
            rows[-1] = (last[0] + i, last[1] + m, last[2] + [last[2][-1] + 1] * len(i))
        else:
            rows.append((i, m, [1] * len(i)))
    L = max(len(i) for i, _, _ in rows)
    ids = torch.full((len(rows), L), pad, dtype=torch.long)
    lm = torch.zeros((len(rows), L), dtype=torch.long)
    am = torch.zeros((len(rows), L), dtype=torch.long)
    for r, (i, m, d) in enumerate(rows):
        ids[r, : len(i)], lm[r, : len(m)], am[r, : len(i)] = torch.tensor(i), torch.tensor(m), torch.tensor(d)
    return ids, lm, am


def sft_schedule(n_rows: int, batch: int, seed: int, step: int) -> torch.Tensor:
    """The rows of step `step`: consecutive slices of one random permutation per epoch, so every row is seen
    once per epoch (not drawn with replacement), and a pure function of (seed, step): resuming needs no data
    cursor."""
    out, pos, end = [], step * batch, (step + 1) * batch
    while pos < end:
        epoch, off = divmod(pos, n_rows)
        perm = torch.randperm(n_rows, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
        take = perm[off : off + end - pos]
        out.append(take)
        pos += len(take)
    return torch.cat(out)


def _digest(rows) -> str:
    # default=repr: a Parquet row's other columns may hold timestamps, decimals or bytes, which json.dumps refused
    # (a TypeError after the model had loaded); rows JSON can hold keep the digest they always had.
    return hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False, default=repr).encode()).hexdigest()


def _warn_unrendered_reasoning(tok: Tokenizer, examples: list[dict], encoded: list, what: str) -> None:
    """A last assistant turn's reasoning (reasoning_content, thinking or reasoning) that the chat template does not
    render (ChatML, Llama 3's) is not trained on, as in TRL and transformers: said, since SFT on reasoning traces
    then silently trains the answers alone."""
    lost = 0
    for ex, (ids, mask) in zip(examples, encoded):
        msgs = ex.get("messages") if "prompt" not in ex else None
        last = msgs[-1] if isinstance(msgs, list) and msgs and isinstance(msgs[-1], dict) else None
        last = None if last and last.get("weight") == 0 else last  # (not trained on, reasoning or not)
        text = next((last[k] for k in REASONING_FIELDS if k in last), None) if last else None
        if isinstance(text, str) and text.strip():
            trained = tok.decode([i for i, m in zip(ids, mask) if m], skip_special_tokens=True)
            lost += text.strip() not in trained
    if lost:
        print(f"sft: {lost} of {counted(len(examples), what)} {'has' if lost == 1 else 'have'} reasoning in the last "
              "assistant turn that the chat template does not render: it is not trained on (write it into the "
              "content as <think>...</think>, or use a template that renders reasoning_content)", file=sys.stderr)


def _encode_examples(tok: Tokenizer, examples: list[dict], seq_len: int, ctx: int, what: str, turns: str,
                     how: str = ""):
    where = getattr(examples, "where", None)  # FILE:LINE of rows from load_sft_examples
    where = where if where is not None and len(where) == len(examples) else None  # (unless edited since)
    encoded = [encode_sft(tok, ex, where[i] if where else f"{what} {i}", turns) for i, ex in enumerate(examples)]
    _warn_unrendered_reasoning(tok, examples, encoded, what)
    # examples cut at seq_len + 1 tokens lose the end of their response, or all of it where the prompt fills them
    # (dropped: no target left, as sft_batches masks a row's first token)
    cut = sum(len(i) > seq_len + 1 for i, _ in encoded)
    dropped = sum(not any(m[1 : seq_len + 1]) for _, m in encoded)
    # A row of seq_len + 1 tokens feeds the model its first seq_len (the last one is only a target).
    longest = min(seq_len, max(len(i) for i, _ in encoded) - 1)
    if longest > ctx:
        raise PonderError(f"sft: {what}s of up to {longest + 1} tokens exceed the model's context of {ctx} positions "
                          f"{f'({how}; ' if how else '('}one more token than the context, the last only a target); use --seq-len {ctx} or less")
    return encoded, cut, dropped


def _sft_record(train: TrainConfig, packing: bool, turns: str, template_kwargs, data_sha256, chat: bool = False,
                system: str | None = None) -> dict:
    """What an sft run's trainer states record of it (check_run_record): its settings as config.json holds them,
    with those of config.json's top level that change what it trains on (a sweep over --packing or the template's
    enable_thinking is as much a neighbour run as an lr sweep), and its data's digest. (chat and system: absent
    from a state saved before they existed, which check_run_record then does not compare.)"""
    settings = {**asdict(train), "packing": packing, "turns": turns, "chat_template_kwargs": template_kwargs,
                "chat": chat, "system": system}
    return _run_record(json.loads(json.dumps(settings)), data_sha256)


def check_not_fp16(model: Transformer, what: str, run: Path | None = None) -> None:
    """fp16 weights train here without loss scaling: gradients below fp16's smallest number (6e-8) flush to zero,
    more of them the more tokens a batch holds (its loss is a mean over them), so such a run silently learnt less.
    `run`: a resumed run's directory (its dtype is config.json's, which --dtype cannot change)."""
    if any(p.requires_grad and p.dtype == torch.float16 for p in model.parameters()):
        how = (f"start a new run from {run / 'checkpoint'} with --dtype bfloat16 (or float32)" if run is not None
               else "load it with --dtype bfloat16 (or float32)")
        raise PonderError(f"{what}: the model's weights are float16, which trains without loss scaling here (its "
                          f"small gradients underflow to zero); {how}")


def check_savable(model: Transformer, tok: Tokenizer, what: str) -> None:
    """A run's checkpoints hold the model with its tokenizer, and checkpoint.save refuses a tokenizer with more
    tokens than the model's embedding rows (one added after the model was made: it would not load). Said before
    training: the run trained to its first checkpoint (--save-every steps) and then failed, nothing saved."""
    if tok.vocab_size > model.config.vocab_size:
        raise PonderError(f"{what}: the tokenizer has token ids up to {tok.vocab_size - 1} but the model's "
                          f"embedding only {model.config.vocab_size} rows (tokens added to the tokenizer after the model was made): "
                          f"its checkpoints would not load; give the model an embedding of {tok.vocab_size} rows or "
                          "more, or use the model's own tokenizer")


def check_not_compiled(train: TrainConfig) -> None:
    """sft (and distill's fine-tuning) trains eagerly: compile=True was recorded in config.json and ignored."""
    if train.compile:
        raise PonderError("sft: compile=True is for pretraining (its packed rows have one shape); fine-tuning "
                          "trains without torch.compile: leave it False")


@locks_run("run_dir")
def sft(
    model: Transformer | None,
    tok: Tokenizer | None,
    examples: list[dict],
    run_dir: str | os.PathLike | None = None,
    *,
    train: TrainConfig | None = None,
    packing: bool = False,
    turns: str = "all",
    chat: bool = False,
    system: str | None = None,
    progress: bool = True,
    model_path=None,
    resume: bool = False,
    val_examples: list[dict] | None = None,
    data: dict | None = None,
    on_log: Callable[[dict], None] | None = None,
    device: str | None = None,
    on_cut: Callable[[dict], None] | None = None,
) -> dict:
    """Fine-tune on prompt/response examples, loss on response tokens only. Returns the last metrics row
    (plus `examples_cut` and `val_examples_cut`: examples cut at seq_len + 1 tokens; `examples_dropped` and
    `val_examples_dropped`: those of them whose prompt fills seq_len + 1 tokens, no response token left).

    `turns`: what a row of `messages` trains, "all" its assistant turns or the "last" one only (`encode_sft`);
    a prompt/response row trains its response either way. Recorded in config.json; a resumed run keeps its own
    (one saved before the option existed trained "last", and resumes so).

    `chat`: each text prompt is a user message (after `system`, when given), the response its assistant turn,
    rendered by the chat template as a `prompt` of messages is (`chat_examples`): the prompt the model is then
    trained after is the one `ponder eval --chat --system S` gives it. Rows already of chat messages are as they
    are (`system` is refused with them). Recorded in config.json, beside the data's digest (that of the rows as
    given); a resumed run keeps its own.

    Each epoch visits every example once in a fresh random order (`sft_schedule`). With a run directory:
    metrics.jsonl and TensorBoard scalars every step, a checkpoint with the trainer state every
    `train.save_every` steps and at the end, training.png. `val_examples`: mean response-token loss on them
    every `train.eval_every` steps and at the end (`val_loss`). `model_path`: where the model was loaded
    from, so that run_dir cannot be it. `data`: recorded in config.json (the CLI stores the file names, so
    `--resume` can read them again).

    resume=True continues the run in run_dir (pass model=tok=None: both come from its checkpoint) and equals
    the uninterrupted run; `examples` (and `val_examples`) must be the run's own, checked by digest. Only
    `train.steps` is taken from `train`, to train further (None, its default, or no `train`: the run's own), and
    `train.threads` as pretrain's (None: the thread count the run recorded). `on_cut`: called once the examples
    are encoded, before the first step, with the counts the result holds (examples_cut, examples_dropped,
    val_examples_cut, val_examples_dropped) and `examples`, `val_examples` (how many): the CLI says them then, not
    only after the last step. `device` (with resume): continue on that device
    instead of the one the run trained on (a run from a GPU on the CPU, or back); weights and optimizer state
    move with it, and config.json records it for the next resume.
    """
    run = Path(run_dir) if run_dir is not None else None
    for name, rows in (("examples", examples), ("val_examples", val_examples)):
        # (a file's path, or one row, was read character by character or key by key: "example 0: expected a JSON
        # object", as if the file's first row were broken)
        if isinstance(rows, (str, bytes, os.PathLike, dict)):
            raise PonderError(f"sft: {name} must be a list of rows ({{prompt, response}} or {{messages}}), got "
                              f"{type(rows).__name__} {rows!r:.60}" + ("" if isinstance(rows, dict) else
                                                                      " (load_sft_examples(path) reads a file)"))
    # Rows given as a datasets.Dataset (or another iterable of them) are read as a list: the digest the resume
    # checks was their repr's ("Dataset({features: ..., num_rows: N})"), so other rows of that shape resumed
    examples = examples if examples is None or isinstance(examples, list) else list(examples)
    val_examples = val_examples if val_examples is None or isinstance(val_examples, list) else list(val_examples)
    if not examples:
        raise PonderError("sft: no training examples")
    if not isinstance(packing, bool):  # ("no" is truthy: it packed, and config.json recorded "no")
        raise PonderError(f"sft: packing must be True or False, got {packing!r}")
    check_turns(turns)
    check_sft_chat(chat, system)
    data_sha256 = _digest(examples)  # (once: the resume check, config.json and every trainer state's record)
    state = None
    # the command its warnings name: distill() fine-tunes through sft(), and `ponder distill --batch-size 16` was
    # told "sft: --batch-size 16 is more than ..." of an option it was given as distill's
    who = "distill" if isinstance(data, dict) and "distilled" in data else "sft"
    if resume:
        if run is None:
            raise PonderError("sft: resume needs the run directory")
        model, tok, state, saved = load_run(run, "sft", device)
        check_not_fp16(model, "sft", run)  # (before config.json is rewritten for a new step target)
        moved = str(model.lm_head.weight.device)
        relocated = device is not None and moved != (saved.get("sft") or {}).get("device")
        conf = str(run / "config.json")
        # the run's prompts render as before
        kwargs = saved.get("chat_template_kwargs")
        tok.template_kwargs = {} if kwargs is None else check_template_kwargs(kwargs, f"{conf}: chat_template_kwargs")
        packing = saved.get("packing", False)
        if not isinstance(packing, bool):  # (a hand-edited "no" is truthy: the resumed run packed)
            raise PonderError(f"{conf}: packing: expected bool, got {json.dumps(packing)[:60]}")
        # a run saved before `turns` existed trained the last assistant turn of each messages row
        turns = check_turns(saved.get("turns", "last"), conf)
        chat, system = saved.get("chat", False), saved.get("system")  # (absent: a run from before they existed)
        check_sft_chat(chat, system, conf)
        for name, rows in (("training", examples), ("validation", val_examples)):
            key = "data_sha256" if name == "training" else "val_data_sha256"
            if saved.get(key) != (data_sha256 if name == "training" else _digest(rows) if rows else None):
                if saved.get(key) is None:  # ("differs from the run's own (sha256 None)": there is none to match)
                    raise PonderError(f"{run}: the run has no {name} data (it measures no val_loss); resume "
                                      "without it (drop --val-data), or start a new run to measure val_loss")
                raise PonderError(f"{run}: the {name} data differs from the run's own (sha256 "
                                  f"{str(saved.get(key))[:12]}); resume with the same data")
        # a checkpoint/ copied in from another sft run of the same model (an lr sweep's neighbour: weights and
        # trainer state together) resumed silently under this run's settings, as pretrain's once did
        was = config_from(TrainConfig, saved["train"], f"{conf}: train")
        check_run_record(run, state, _sft_record(was, packing, turns, tok.template_kwargs, saved.get("data_sha256"),
                                                 chat, system))
        who = "distill" if "distilled" in (saved.get("data") or {}) else "sft"
        given_threads = train.threads if train else None  # (an explicit count instead of the run's own)
        train = saved_train_config(run, saved, train.steps if train else None, state["step"])
        train.threads = resume_threads(run, train.threads, given_threads, section="train")
        warn_short_schedule(train, who)  # (the run's warmup stays: a shorter --steps could end inside it)
        if data is not None and data != saved.get("data"):  # a data file at a new path (its examples' digest
            saved = read_run_config(run)  # matched): recorded, so that the next resume finds it without --data
            save_run_config(run, {**saved, "data": data})
        if relocated:  # recorded once every check has passed: a refused resume leaves config.json as it was
            saved = read_run_config(run)  # (as resume_threads left it: a --threads given is kept)
            saved = {**saved, "sft": {**(saved.get("sft") or {}), "device": moved},
                     "train": {**saved["train"], "steps": train.steps}}
            save_run_config(run, saved)
        trim_metrics(run, state["step"])
    else:
        if device is not None:
            raise PonderError("sft: device= moves a resumed run; a new run trains where its model is")
        train = (train or TrainConfig(steps=100, lr=1e-3, warmup=10, batch_size=16)).validate()
        check_not_compiled(train)
        warn_short_schedule(train, who)  # (TrainConfig(steps=20) keeps the 50-step default warmup)
        if run is not None:
            fresh_run_dir(run, model_path, kind="sft")
    if chat:  # (after the digest: the run's data is its rows as given, chat and system recorded beside them)
        examples = chat_examples(examples, system)
        val_examples = chat_examples(val_examples, system) if val_examples else val_examples
    if model is None or tok is None:
        raise PonderError("sft: give a model and its tokenizer (or resume=True with a run directory)")
    if not any(p.requires_grad for p in model.parameters()):  # (torch's "element 0 of tensors does not require
        # grad" at the first backward, the run directory made)
        raise PonderError("sft: every parameter of the model is frozen (requires_grad=False): nothing to train; "
                          "unfreeze some, e.g. model.requires_grad_(True)")
    check_streams(train, model.config, model.device, "sft")
    if not resume:
        check_not_fp16(model, "sft")
        if run is not None:
            check_savable(model, tok, "sft")
    if not resume:  # the count it trains with, recorded in config.json: a resume continues at it
        train = dataclasses.replace(train, threads=run_threads(train.threads))  # (not the caller's object)
    torch.manual_seed(train.seed)
    ctx, how = model_context(model)
    encoded, cut, dropped = _encode_examples(tok, examples, train.seq_len, ctx, "example", turns, how)
    # Padding is masked out of attention and loss, so any id the embedding holds pads: a pad token added to the
    # tokenizer after the model was made (add_special_tokens) is past it and failed in the embedding (IndexError)
    pad = tok.pad_token_id if 0 <= tok.pad_token_id < model.config.vocab_size else 0
    ids, lm, am = sft_batches(encoded, train.seq_len, pad, packing)
    # Rows whose response was cut away entirely (a prompt of seq_len + 1 tokens or more) have no target: a
    # step drawing only such rows logged loss 0.0 and still stepped AdamW (momentum and weight decay moved
    # the weights on no data). They are left out of the schedule (examples_cut still counts them).
    has_target = lm[:, 1:].any(1)
    ids, lm, am = ids[has_target], lm[has_target], am[has_target]
    if not bool(lm[:, 1:].any()):
        raise PonderError(f"sft: no response token within seq_len={train.seq_len} ({cut} of {len(encoded)} examples "
                          "are longer); raise --seq-len")
    val, val_cut, val_dropped = None, 0, 0
    if val_examples:
        val_encoded, val_cut, val_dropped = _encode_examples(tok, val_examples, train.seq_len, ctx,
                                                             "validation example", turns, how)
        val = sft_batches(val_encoded, train.seq_len, pad, False)
        if not bool(val[1][:, 1:].any()):
            raise PonderError(f"sft: no validation response token within seq_len={train.seq_len} ({val_cut} of "
                              f"{len(val_encoded)} validation examples are longer); raise --seq-len")
        if not resume:  # (the same file given twice: val_loss is then a training loss, not a held-out one)
            seen = {json.dumps(r, sort_keys=True, default=repr) for r in examples}
            shared = sum(json.dumps(r, sort_keys=True, default=repr) in seen for r in val_examples)
            if shared:
                print(f"sft: {shared} of the {len(val_examples)} validation examples (--val-data) are also training "
                      "examples: val_loss measures them after training on them", file=sys.stderr)
    if on_cut is not None:  # (said at the end only, a run of hours, or one that failed, said it late or never)
        on_cut({"examples_cut": cut, "examples_dropped": dropped, "val_examples_cut": val_cut,
                "val_examples_dropped": val_dropped, "examples": len(examples), "val_examples": len(val_examples or ())})
    device = model.lm_head.weight.device
    ids, lm, am = ids.to(device), lm.to(device), am.to(device)
    if val is not None:
        val = tuple(t.to(device) for t in val)
    if run is not None and state is None:
        run.mkdir(parents=True, exist_ok=True)
        take_run_lock(run)
        atomic_write_text(run / "config.json", json.dumps(
            {"kind": "sft", "train": asdict(train), "examples": len(examples), "examples_cut": cut,
             "model_path": str(model_path) if isinstance(model_path, (str, os.PathLike)) else None,
             "val_examples_cut": val_cut,
             "packing": packing, "turns": turns, "chat": chat, "system": system, "data": data,
             "data_sha256": data_sha256,
             "chat_template_kwargs": tok.template_kwargs,
             "val_data_sha256": _digest(val_examples) if val_examples else None,
             "sft": {"dtype": str(model.lm_head.weight.dtype).removeprefix("torch."), "device": str(device)}},
            indent=2))
    opt = make_optimizer(model, train)
    warn_emulated_bf16(train, device, who)
    # what the trainer state records of its run (check_run_record): settings as config.json holds them, and data
    record = _sft_record(train, packing, turns, tok.template_kwargs, data_sha256, chat, system)
    # parameters the caller froze stay frozen after a resume (load_run reads them back, as grpo's): loaded
    # trainable, the resume was refused as "the optimizer state is for another model"
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    start = 0
    if state is not None:
        opt.load_state_dict(state["optimizer"])
        restore_rng(state)
        start = state["step"]
    tb = None
    if run is not None:
        tb = SummaryWriter(run / "tensorboard", purge_step=start + 1 if start else None)
    model.train()
    bar = _progress(train.steps, start, "sft", progress)
    per_step = min(train.batch_size, ids.shape[0])
    if per_step < train.batch_size and state is None:  # (said once, when the run starts: not silently smaller)
        # packed, a batch counts rows, not examples ("more than the 4 examples" was said of 11 packed into 4 rows)
        what = (f"{counted(ids.shape[0], 'row')} that the {counted(len(examples), 'example')} pack into"
                if packing else counted(ids.shape[0], 'example'))
        print(f"{who}: --batch-size {train.batch_size} is more than the {what}: each step trains on all "
              f"{ids.shape[0]} of them", file=sys.stderr)
    micro = -(-per_step // train.grad_accum)  # ceil: at most grad_accum micro-batches (see pretrain)
    row, saved_at = {}, start
    try:
        for step in range(start, train.steps):
            idx = sft_schedule(ids.shape[0], per_step, train.seed, step).to(device)
            total = max(1, int(lm[idx, 1:].sum()))
            loss, gn = optimizer_step(model, opt, train, step, total,
                                      lambda b: response_loss(model, ids[b], lm[b], am[b], train.bf16)[0],
                                      idx.split(micro))
            row = {"step": step + 1, "loss": loss, "lr": lr_at(step, train), "grad_norm": gn,
                   "epoch": (step + 1) * per_step / ids.shape[0]}
            last = step + 1 == train.steps
            if val is not None and ((step + 1) % train.eval_every == 0 or last):
                # in the training's micro-batches: --grad-accum's memory bound holds for the evaluation too
                row["val_loss"] = evaluate_loss(model, *val, batch=micro, loss_fn=response_loss)
            log_row(run, tb, "sft", row, on_log, bar)
            stop_if_diverged(row, run, saved_at)
            if run is not None and ((step + 1) % train.save_every == 0 or last):
                model.eval()
                save_run(run, model, tok, opt, step + 1, extra={"run": record, **({"frozen": frozen} if frozen else {})})
                saved_at = step + 1
                model.train()
    finally:
        if bar:
            bar.close()
        if tb:
            tb.close()
        # (the caller's model, in eval mode as a finished run leaves it: a failed run left it training, its dropout
        # on in whatever the caller did next)
        model.eval()
    if run is not None:
        plot_run(run)
    return {**row, "examples_cut": cut, "val_examples_cut": val_cut, "examples_dropped": dropped,
            "val_examples_dropped": val_dropped}


# Metrics whose first and last values say how a run went, by kind of run.
_HEADLINE = ("loss", "heldout_loss", "val_loss", "reward_mean", "accuracy", "heldout_accuracy", "response_length")


def summarize_run(run: str | os.PathLike) -> dict:
    """What a finished (or stopped) run did, from its run directory: kind, steps, the first and last value of
    each headline metric it logged, the alarms it raised, and where its files are. `--json` prints this."""
    run = Path(run)
    f = run / "metrics.jsonl"
    rows = [json.loads(ln) for ln in f.read_text().splitlines() if ln.strip()] if f.is_file() else []
    alarms = run / "alarms.jsonl"
    raised = [json.loads(ln) for ln in alarms.read_text().splitlines() if ln.strip()] if alarms.is_file() else []
    # (a distillation's run, an sft run on its kept samples, is "distill": `distill --json` said "sft")
    out = {"run_dir": str(run), "kind": run_kind(read_run_config(run)), "steps": rows[-1]["step"] if rows else 0,
           "checkpoint": str(run / "checkpoint"), "metrics": {}, "alarms": len(raised),
           # which ones: the count alone sent a script (and a person whose terminal scrolled) to alarms.jsonl
           "alarm_names": sorted({str(r.get("alarm")) for r in raised if isinstance(r, dict)})}
    for k in _HEADLINE:
        # The last value logged, even when it is not a number (NaN is written as null): a diverged run must
        # not be summarised by its last finite loss.
        seen = [r[k] if isinstance(r[k], (int, float)) else float("nan") for r in rows if k in r]
        if seen:
            # the steps too: a held-out figure first measured at step --eval-every read as the starting model's
            at = [r.get("step") for r in rows if k in r]
            out["metrics"][k] = {"first": seen[0], "last": seen[-1], "first_step": at[0], "last_step": at[-1]}
    if out["kind"] == "grpo":  # (None: the run went to its last step; a script tells the two apart by this key)
        out["stopped_early"] = stopped_early(run, rows)
    for name in ("training.png", "tensorboard"):
        if (run / name).exists():
            out[name.split(".")[0]] = str(run / name)
    return out


def stopped_early(run: Path, rows: list[dict]) -> dict | None:
    """{"step", "of", "alarm", "message"} when the run's last logged step was ended by an alarm (--stop-on-alarm
    writes `stopped_early` into that step's metrics row), else None: a run resumed past the alarm has moved on."""
    if not rows or not isinstance(rows[-1].get("stopped_early"), dict):
        return None
    of = (read_run_config(run).get("grpo") or {}).get("steps")
    return {"step": rows[-1]["step"], "of": of, **rows[-1]["stopped_early"]}


def format_run_summary(s: dict) -> str:
    """One line per headline metric: first -> last."""
    names = f" ({', '.join(s['alarm_names'])})" if s.get("alarm_names") else ""
    alarms = f", {counted(s['alarms'], 'alarm')}{names}" if s["kind"] == "grpo" else ""
    lines = [f"{s['kind']}: {counted(s['steps'], 'step')}{alarms}; run directory {s['run_dir']}"]
    if s.get("stopped_early"):  # said at the top: the metrics below are of a run that did not finish
        e = s["stopped_early"]
        lines.append(f"  stopped at step {e['step']} of {e['of']} by alarm {e['alarm']}: {e['message']} "
                     "(--stop-on-alarm; --resume continues past it)")
    firsts = [v.get("first_step") for v in s["metrics"].values()]
    start = min((f for f in firsts if isinstance(f, int)), default=None)
    for k, v in s["metrics"].items():
        fmt = "{:.1%}" if "accuracy" in k else "{:.4g}"
        # a metric logged from a later step than the others (heldout_accuracy, val_loss: every --eval-every steps)
        # names its steps: "37.5% -> 25.0%" read as the starting model's accuracy, then the trained one's
        a, b = v.get("first_step"), v.get("last_step")
        steps = isinstance(a, int) and isinstance(b, int) and start is not None and a != start
        first = fmt.format(v["first"]) + (f" (step {a})" if steps else "")
        last = fmt.format(v["last"]) + (f" (step {b})" if steps else "")
        lines.append(f"  {k:<18} {first}" if steps and a == b else f"  {k:<18} {first} -> {last}")  # (one measure)
    lines.append(f"  checkpoint {s['checkpoint']}" + ("; curves training.png, tensorboard/" if "training" in s else ""))
    return "\n".join(lines)


def plot_run(run: Path):
    """training.png from the run's metrics.jsonl (the curves `ponder report` shows too)."""
    from .report import plot_training

    rows = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines() if ln.strip()]
    if rows:
        plot_training(rows, run / "training.png")


DISTILLED = "distilled.jsonl"  # a distillation run's kept teacher samples: prompt/response rows


def check_distill_sampling(k, temperature, max_new_tokens=1, seed=0) -> None:
    """The teacher's sampling settings, as sample() would refuse them but before anything loads or samples
    (a negative temperature was refused once both models had loaded; max_new_tokens=None failed with a
    TypeError); and k samples per prompt, refused where they would all be the same: at temperature 0 (greedy) the
    teacher draws k identical samples, so only one could ever be kept and kept_fraction read k times too low (as
    `generate -n` and `eval` refuse N > 1 at temperature 0)."""
    from .engine import check_sampling

    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise PonderError(f"distill: k (samples per prompt) must be a positive integer, got {k!r}")
    try:
        check_sampling(k, max_new_tokens, temperature, seed=seed)
    except PonderError as e:
        raise PonderError(f"distill: {e}") from None
    if k > 1 and temperature == 0:
        raise PonderError(f"distill: -k {k} at temperature 0 (greedy) gives {k} identical teacher samples per "
                          "prompt; pass a temperature > 0 or -k 1")


def check_distill_inputs(items, reward, train: TrainConfig | None = None, run_dir=None, model_path=None):
    """distill()'s checks that need no model: the reward (a spec resolved: the Reward is returned), the items, the
    fine-tuning settings and the run directory. The CLI makes them before loading the teacher and the student (a
    taken --out or a --reward the items cannot be judged by was said only once both models had loaded)."""
    from .verify.registry import Reward, get_reward

    # (a spec, as GRPOConfig.reward takes it, was called after the teacher had sampled: a bare TypeError)
    if isinstance(reward, (str, dict)):
        reward = get_reward(reward)
    elif not callable(reward):
        raise PonderError(f"distill: reward must be a callable(text, item) or a verifier spec such as 'math', got "
                          f"{type(reward).__name__} {reward!r:.60}")
    # (a string was read as items and failed with a TypeError, an item without a prompt with a KeyError)
    if isinstance(items, (str, dict)) or not isinstance(items, (list, tuple)) or not items:
        raise PonderError(f"distill: items must be a non-empty list of dicts with a 'prompt', got "
                          f"{type(items).__name__} {items!r:.60}")
    for i, it in enumerate(items):
        if not isinstance(it, dict) or "prompt" not in it:
            raise PonderError(f"distill: items[{i}] must be a dict with a 'prompt', got {it!r:.60}")
        p = it["prompt"]  # what a kept row's prompt must be for sft (token ids were sampled, then refused there)
        if not (isinstance(p, str) or isinstance(p, list) and p and all(isinstance(m, dict) for m in p)):
            raise PonderError(f"distill: items[{i}]: 'prompt' must be a string or a list of chat messages (what "
                              f"the student is fine-tuned on), got {p!r:.60}")
        # the rest of sft's check of a row's prompt (a blank one was sampled, then sft refused its kept rows)
        check_sft_example({"prompt": p, "response": "-"}, f"distill: items[{i}]")
        # the fields its verifiers read, as grpo checks them (--task arith --reward countdown failed at the first
        # sample, every prompt sampled); format and judge read none
        if isinstance(reward, Reward):
            try:
                reward.check(it)
            except PonderError as e:
                raise PonderError(f"distill: items[{i}]: {e}") from None
        # math decides a countdown item by value: a bare "\boxed{96}" (no expression) is kept and trained on
        if isinstance(reward, Reward) and reward.primary == "math" and it.get("task") == "countdown":
            raise PonderError(f"distill: items[{i}] is a countdown item, which the math verifier would judge by its "
                              "target alone (a bare number with no expression is kept); use --reward countdown")
    check_not_compiled((train or TrainConfig()).validate())  # (before the sampling, not after it)
    if run_dir is not None:  # (over another command's run, a plain sft run's included: not "pass --resume")
        fresh_run_dir(Path(run_dir), model_path, kind="distill")
        # no run is there (fresh_run_dir): a distilled.jsonl is the user's own, replaced by the kept samples
        # silently (`--data DIR/distilled.jsonl --out DIR` wrote them over the prompts the teacher had sampled)
        if (Path(run_dir) / DISTILLED).exists():
            raise PonderError(f"--out {run_dir}: holds a {DISTILLED} of no run, which this distillation would "
                              "replace with its kept samples; choose another --out")
    return reward


@locks_run("run_dir")
def distill(
    teacher: Transformer,
    teacher_tok: Tokenizer,
    student: Transformer,
    student_tok: Tokenizer,
    items: list[dict],
    reward: Callable[[str, dict], bool] | Reward | str | dict,
    *,
    k: int = 4,
    temperature: float = 0.8,
    max_new_tokens: int = 256,
    seed: int = 0,
    run_dir=None,
    train: TrainConfig | None = None,
    progress: bool = True,
    model_path=None,
    teacher_path=None,
    on_cut: Callable[[dict], None] | None = None,
) -> dict:
    """Distillation by rejection sampling: sample k responses per prompt from the teacher, keep those the
    verifier accepts (one copy of each distinct response: `duplicates` counts the copies left out), fine-tune the
    student on them. With a run directory the kept samples are saved as distilled.jsonl first:
    `sft(..., resume=True)` on them continues an interrupted run. `reward` is a callable(text, item) -> bool (a RewardResult it returns is read by its
    `correct`), or a Reward or verifier spec ("math", "math+0.1*format", {"math": 1.0}: ponder.verify.get_reward),
    which keeps a sample when its primary verifier says correct and is told which prompts end with "<think>"
    (the format reward then wants completions that do not open the thinking again, as GRPO's rollouts do).
    config.json records how distilled.jsonl was made (`sampling`: the teacher, `teacher_path` where it was loaded
    from, the verifier's terms, k, temperature, max_new_tokens, seed and the items' digest).
    `on_cut`: sft()'s, for the fine-tuning on the kept samples."""
    from .engine import prompts_think_state, render_prompts, sample
    from .verify.registry import Reward, RewardResult, item_id

    check_distill_sampling(k, temperature, max_new_tokens, seed)
    check_not_fp16(student, "distill")  # (before the teacher samples, not after)
    if run_dir is not None:
        check_savable(student, student_tok, "distill")
    reward = check_distill_inputs(items, reward, train, run_dir, model_path)
    seq_len = (train or TrainConfig()).seq_len
    # What sft() would refuse after the sampling, refused before it: kept samples that could outgrow the
    # student's context (prompt + max_new_tokens + EOS, fed up to seq_len tokens).
    ctx, how = model_context(student)
    lengths = list(map(len, render_prompts(student_tok, [it["prompt"] for it in items])))
    longest = max(lengths) + max_new_tokens
    if min(lengths) > seq_len:  # every kept sample would be dropped by sft, its response past seq_len + 1 tokens
        raise PonderError(f"distill: every prompt is {min(lengths)} or more of the student's tokens: at --seq-len "
                          f"{seq_len} no response token would be trained on; raise --seq-len")
    if min(seq_len, longest) > ctx:
        raise PonderError(f"distill: prompts of up to {longest - max_new_tokens} tokens plus --max-new-tokens "
                          f"{max_new_tokens} can exceed the student's context of {ctx} positions"
                          f"{f' ({how})' if how else ''}; use --seq-len "
                          f"{ctx} or less, or lower --max-new-tokens")
    bar = _progress(len(items) * k, 0, "distill: teacher samples", progress)
    try:
        outs = sample(teacher, teacher_tok, [it["prompt"] for it in items], n=k, max_new_tokens=max_new_tokens,
                      temperature=temperature, seed=seed, progress=bar.update if bar else None)
    finally:
        if bar:
            bar.close()
    is_reward = isinstance(reward, Reward)  # a user's callable takes no think_open keyword
    opens = prompts_think_state(teacher_tok, [it["prompt"] for it in items]) if is_reward else [False] * len(items)

    def correct(text, it, opened, i) -> bool:
        # a reward's error (a custom callable's bug, an item it cannot read) names the sample and its item, as grpo's
        # and eval's scoring does: it was a bare traceback ("KeyError: 'answer'") naming none of the samples
        try:
            v = reward(text, it, think_open=opened) if is_reward else reward(text, it)
        except PonderError:  # (one that names itself, as score_input keeps it)
            raise
        except Exception as e:
            name = f" (item {name})" if (name := item_id(it)) is not None else ""
            raise PonderError(f"distill: judging teacher sample {i + 1} of {len(items) * k}{name}: "
                              f"{type(e).__name__}: {headline(str(e).strip())}") from e
        # (a RewardResult is truthy whatever it says: every sample was kept)
        return v.correct if isinstance(v, RewardResult) else bool(v)
    kept, prompts_with_any = [], 0
    cut = empty = rejected = copies = ended = 0  # why samples were not kept: said when none was
    for p_i, (it, group, opened) in enumerate(zip(items, outs, opens)):
        seen, any_ok = set(), False
        for s_i, s in enumerate(group):
            # cut off, empty (an immediate EOS: sft() has nothing to train on), or a copy of one kept
            if s.finish_reason != "stop":
                cut += 1
            elif not s.text.strip():
                empty += 1
            elif _turn_end_in(student_tok, s.text):  # (written in pieces: sft() refuses it, after all the sampling)
                ended += 1
            elif s.text in seen:
                copies += 1
            elif correct(s.text, it, opened, p_i * k + s_i):
                seen.add(s.text)
                kept.append({"prompt": it["prompt"], "response": s.text})
                any_ok = True
            else:
                rejected += 1
        prompts_with_any += any_ok
    report = {"prompts": len(items), "sampled": len(items) * k, "kept": len(kept),
              "kept_fraction": len(kept) / max(1, len(items) * k), "prompts_with_a_kept_sample": prompts_with_any,
              # accepted but not kept: kept_fraction alone read them as rejected (k copies of one right answer: 1/k)
              "duplicates": copies,
              # and why the others were not kept: kept_fraction read as the teacher's accuracy where most samples
              # were cut at max_new_tokens, never judged ("kept 1 of 32" of which 19 were cut: tiny at 24 tokens)
              "rejected": rejected, "cut": cut, "empty": empty, "end_of_turn": ended}
    if not kept:  # "the verifier accepted none" was said of samples it never saw (all cut at max_new_tokens)
        why = [f"{cut} cut at max_new_tokens={max_new_tokens} before they ended (raise --max-new-tokens)" if cut else "",
               f"{empty} empty" if empty else "", f"{rejected} rejected by the verifier" if rejected else "",
               f"{ended} holding an end-of-turn token's text" if ended else ""]
        raise PonderError(f"distill: kept none of {counted(len(items) * k, 'teacher sample')}: "
                          + ", ".join(w for w in why if w))
    data = None
    if run_dir is not None:  # the distilled dataset is an artifact of its own (and what --resume trains on)
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        take_run_lock(run_dir)
        data = Path(run_dir) / DISTILLED
        atomic_write_text(data, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))
        # (a name inside the run directory) and how its samples were made: the run directory held the kept counts
        # and the student, not which teacher, verifier or sampling settings produced them
        terms = [[n, w] for n, w in reward.terms] if isinstance(reward, Reward) else getattr(reward, "__name__", None)
        items_sha256 = hashlib.sha256(json.dumps([[it["prompt"], it.get("answer")] for it in items],
                                                 sort_keys=True, default=str).encode()).hexdigest()
        data = {"distilled": DISTILLED, "distill": report,
                "sampling": {"teacher": None if teacher_path is None else str(teacher_path), "reward": terms,
                             # (numbers as JSON takes them: a numpy one, from a grid, passed the sampling checks)
                             "k": k, "temperature": float(temperature), "max_new_tokens": int(max_new_tokens),
                             "seed": None if seed is None else int(seed),
                             "items": len(items), "items_sha256": items_sha256}}
    try:
        report["final"] = sft(student, student_tok, kept, run_dir, train=train, progress=progress,
                              model_path=model_path, data=data, on_cut=on_cut)
    except PonderError as e:  # the teacher's samples are not lost with the fine-tuning: say where they are
        if run_dir is None:
            raise
        raise PonderError(f"{e} (the {len(kept)} kept teacher samples are in {Path(run_dir) / DISTILLED}: "
                          "`ponder sft --data` trains on them)") from None
    return report
