"""On-policy RL with verifiable rewards: rollout -> verify -> advantages -> clipped objective -> update.

One step:
  1. draw prompts (a pure function of (seed, step, attempt): resuming needs no data cursor);
  2. `engine.sample` n completions per prompt; the reward registry scores them, keeping the raw
     correctness apart from the shaped reward;
  3. optional dynamic sampling drops groups all correct or all wrong (DAPO) and draws more prompts;
  4. advantages, then mu passes x minibatches optimizer steps of the composed objective (objective.py),
     every minibatch normalised by its whole-batch token/sequence counts so micro-batching is exact;
     log-probs run each group's prompt once and share its KV cache with the group's completions
     (`shared_prefix_logprobs`), in length-sorted micro-batches under a token budget (`micro_batches`);
  5. metrics to metrics.jsonl and TensorBoard, alarms from the monitor, an atomic checkpoint every K steps.
"""

from __future__ import annotations

import concurrent.futures
import copy
import functools
import hashlib
import json
import math
import os
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch

from .. import checkpoint
from ..engine import TINY_TEMPERATURE, Sample, check_sampling, prompts_think_state, sample
from ..errors import PonderError
from ..fileio import locks_run, take_run_lock
from ..tokenizer import check_template_kwargs
from ..train import (
    LOW_PRECISION,
    adamw,
    append_jsonl,
    atomic_write_text,
    check_not_fp16,
    check_run_record,
    check_savable,
    check_steps_left,
    clip_grad_norm,
    config_from,
    fresh_run_dir,
    load_run,
    plot_run,
    read_run_config,
    restore_rng,
    resume_threads,
    run_threads,
    save_run,
    save_run_config,
    trim_metrics,
)
from ..verify.judge import JUDGE_OVERFLOW
from ..verify.registry import Reward, ScoringError, score_here, score_input, score_split, with_think_open
from . import objective as obj
from .monitor import Monitor, MonitorConfig, collapse_window, reward_scale

# A verifier's reason for a completion it found no answer in (math, countdown: "no answer"; code: "no code block"):
# counted in no_answer_frac.
NO_ANSWER_REASONS = ("no answer", "no code block")
# A verdict of a sandbox that failed (could not start: fork refused, a full disk; or broke), scored 0: counted in
# sandbox_errors, so that a run whose rewards were the machine's failures does not read as a model that was wrong
SANDBOX_ERROR = "sandbox error"
# alarms that end no run under --stop-on-alarm: the step already dealt with what they name (a skipped update; a
# machine failure scored 0, as the code verifier returns it so that one transient failure does not end a long run;
# a response too long for the judge, scored 0 as the judge returns it, so that a few long responses end no run)
NON_STOPPING_ALARMS = ("skipped_step", "sandbox_error", "judge_overflow")
# Dynamic sampling's extra rounds per step at most: rollout seeds are (seed * 1_000_003 + step) * 101 + round, so a
# 101st round would repeat the next step's first.
MAX_REFILL = 100
DEFAULT_STEPS = 60  # a new run's target where GRPOConfig.steps is None


@dataclass
class GRPOConfig:
    model: str = "tiny"
    task: str | None = "arith"
    data: str | None = None  # a JSONL/Parquet file instead of a built-in task
    eval_data: str | None = None
    # "math+0.1*format" or {"math": 1.0, "format": 0.1} (get_reward's forms); None: tasks.default_reward(task)
    # (countdown's own verifier, else math)
    reward: str | dict | None = None
    preset: str = "grpo"
    objective: dict = field(default_factory=dict)  # overrides of the preset's parts
    # None: DEFAULT_STEPS for a new run, the run's own target on resume (a default of 60 there retargeted a run
    # that aimed for another number of steps, rewriting its config.json); a number given is the target either way
    steps: int | None = None
    prompts_per_step: int = 8
    group_size: int = 8
    max_new_tokens: int = 96
    temperature: float = 1.0
    # Python API only (no CLI flag). The learner's log-probs, and the sampler's recorded ones an off-policy ratio
    # divides by, are of the whole softmax(logits / T), not of the top-p-truncated distribution the tokens were
    # drawn from (as in TRL and verl): below 1 the policy gradient is the untruncated policy's, and the behaviour
    # log-probs are low by log(kept mass), measured on the tiny model at T=1 as 0.007 nats a token on average
    # (at most 0.10) for top_p=0.9 and 0.029 (at most 0.35) for top_p=0.7
    top_p: float = 1.0
    lr: float = 2e-4
    warmup: int = 5
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    micro_batch: int = 64  # sequences per forward/backward at most
    # Completion tokens per forward/backward at most, counted as rows x the longest completion (0: no limit).
    # Rows are sorted by length and each micro-batch is padded only to its own longest row (the idea of
    # verl's dynamic batch size); the loss is unchanged (normalisers span the whole batch). Token-wise layers
    # skip padding anyway (model.UNPAD_BELOW), so this budget is for memory (attention grid, logits): fewer,
    # larger passes were 6% faster on the tiny model (2048 -> no limit, 64 x 96-token rollouts).
    micro_batch_tokens: int = 8192
    seed: int = 0
    train_pool: int = 5000  # training prompts drawn from the task's train split
    eval_every: int = 20
    eval_n: int = 200  # held-out problems (test split) for greedy accuracy
    save_every: int = 20
    max_refill: int = 4  # dynamic sampling: extra generation rounds per step at most (MAX_REFILL)
    curriculum: bool = False
    chat: bool = False  # wrap prompts as a user chat message (instruct models)
    system: str | None = None
    # Extra chat-template variables for every prompt of the run, e.g. {"enable_thinking": False} (Qwen3)
    chat_template_kwargs: dict = field(default_factory=dict)
    stop_on_alarm: bool = False
    tensorboard: bool = True
    device: str = "cpu"
    dtype: str | None = None
    # One-step off-policy: step t+1's rollouts are generated (in a background thread, or on Ray actors) by a
    # copy of the weights from before step t's update, while step t trains; the ratio is taken against the
    # sampler's own log-probs (the behaviour policy). Needs an objective with an importance ratio.
    off_policy: bool = False
    # FSDP2 (torch.distributed.fsdp.fully_shard) over the data-parallel ranks: the learner's parameters,
    # gradients and optimizer state are sharded; each rank keeps an unsharded replica, refreshed after every
    # update by an all-gather, that generates, evaluates and is saved. Needs --nproc N or torchrun.
    fsdp: bool = False
    # The --data (and eval_data) rows' fields of the prompt and the gold (load_dataset's): GSM8K's "question"
    prompt_field: str | None = None
    answer_field: str | None = None
    # torch CPU threads of the learner's process (None: torch's current count); a new run records the count it
    # trains with, and a resume continues at it (CPU reductions round differently with another count)
    threads: int | None = None

    def validate(self):
        if self.steps is None:  # (a new run's: on resume, train() reads None as the run's own target first)
            self.steps = DEFAULT_STEPS
        # config.json keeps them as they are and --resume reads them back by type: curriculum="no" trained WITH a
        # curriculum (a non-empty string is true) and its run was then refused by its own --resume
        for k in ("chat", "curriculum", "stop_on_alarm", "tensorboard", "off_policy", "fsdp"):
            if not isinstance(getattr(self, k), bool):
                raise PonderError(f"{k} must be true or false, got {getattr(self, k)!r}")
        for k in ("model", "preset", "device", "task", "data", "eval_data", "system", "dtype", "prompt_field",
                  "answer_field"):
            v = getattr(self, k)  # (paths may be os.PathLike: resolve_data makes them text)
            if not (isinstance(v, str) or (v is None and k not in ("model", "preset", "device"))
                    or (isinstance(v, os.PathLike) and k in ("model", "data", "eval_data"))):
                raise PonderError(f"{k} must be {'a path or ' if k in ('model', 'data', 'eval_data') else ''}"
                                  f"text, got {v!r}")
        if (self.task is None) == (self.data is None):
            raise PonderError("give exactly one of --task and --data")
        from ..tasks import TASKS

        # (task="" passed the check above and then read as no task: load_items opened data=None, a TypeError)
        if self.task is not None and self.task not in TASKS:
            raise PonderError(f"unknown task {self.task!r} (known: {', '.join(TASKS)})")
        for k in ("steps", "prompts_per_step", "group_size", "max_new_tokens", "micro_batch", "save_every",
                  "eval_every", "eval_n"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise PonderError(f"{k} must be a positive integer, got {v!r}")
        # (None, or a key not text ({1: 0.1}), was a TypeError in objective_for's preset(**overrides))
        if not isinstance(self.objective, dict) or not all(isinstance(k, str) for k in self.objective):
            raise PonderError(f"objective must be a dict of overrides of the preset, by setting name, got "
                              f"{self.objective!r}")
        # (True passed as 1, and the run's config.json was then refused by its own --resume)
        mbt = self.micro_batch_tokens
        if isinstance(mbt, bool) or not isinstance(mbt, int) or mbt < 0:
            raise PonderError(f"micro_batch_tokens must be an integer >= 0 (0: no limit), "
                              f"got {self.micro_batch_tokens!r}")
        t = self.threads
        if t is not None and (isinstance(t, bool) or not isinstance(t, int) or t < 1):
            raise PonderError(f"threads must be a positive integer, got {t!r}")
        for k in ("train_pool", "max_refill", "warmup"):  # (max_refill < 0 generated nothing: every step skipped)
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < (1 if k == "train_pool" else 0):
                raise PonderError(f"{k} must be an integer >= {1 if k == 'train_pool' else 0}, got {v!r}")
        if self.max_refill > MAX_REFILL:  # (a round's seed is (seed * 1_000_003 + step) * 101 + round)
            raise PonderError(f"max_refill must be at most {MAX_REFILL}, got {self.max_refill}: round 101 of a step "
                              "would draw the prompts and samples of the next step's first round")
        if self.group_size < 2:
            raise PonderError("group_size must be >= 2: group-relative advantages need a group")
        # clip_grad_norm_ scales by grad_clip / norm: a negative grad_clip flipped the gradient (ascent), 0 erased it
        for k in ("lr", "grad_clip", "temperature"):  # (grad_clip=inf: measure the norm, clip nothing)
            v = getattr(self, k)
            if (isinstance(v, bool) or not isinstance(v, (int, float))
                    or not (v > 0 and (math.isfinite(v) or (k == "grad_clip" and v == math.inf)))):
                raise PonderError(f"{k} must be a finite number > 0, got {v!r}")
        if self.lr > torch.finfo(torch.float32).max:  # (AdamW's fp32 step failed: "cannot be converted to type float")
            raise PonderError(f"lr must be at most {torch.finfo(torch.float32).max:.4g} (fp32's largest number), "
                              f"got {self.lr!r}")
        if self.temperature < TINY_TEMPERATURE:  # (the learner's logits / T overflowed: NaN log-probs and weights)
            raise PonderError(f"temperature must be at least {TINY_TEMPERATURE:g} (the learner's logits / T "
                              f"overflow below it), got {self.temperature!r}")
        wd = self.weight_decay  # (a negative decay grows every weight)
        if isinstance(wd, bool) or not isinstance(wd, (int, float)) or not (wd >= 0 and math.isfinite(wd)):
            raise PonderError(f"weight_decay must be a finite number >= 0, got {wd!r}")
        check_sampling(n=self.group_size, max_new_tokens=self.max_new_tokens, temperature=self.temperature,
                       top_p=self.top_p)
        if self.eval_data is not None and self.data is None:
            raise PonderError("eval_data (--eval-data) needs --data: a task is evaluated on its own test split")
        for k in ("prompt_field", "answer_field"):
            if getattr(self, k) is not None and self.data is None:
                raise PonderError(f"{k} (--{k.replace('_', '-')}) needs --data: a task's items have their own fields")
        # (mixed with step numbers into 64-bit seeds; a float one failed in torch.manual_seed after config.json and
        # reference/ were written)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise PonderError(f"seed must be an integer in [0, 2**32), got {self.seed!r}")
        check_template_kwargs(self.chat_template_kwargs, "chat_template_kwargs")
        if self.system is not None and not self.chat:  # (text prompts are used as they are: silently dropped)
            raise PonderError("system is the system message of chat prompts: set chat=True (--chat), or drop system")
        # composed here, not first in the trainer: a hand-edited objective in config.json failed a --resume (and
        # --explain --resume) with "objective: unknown setting ..." naming no file (config_from names it)
        objective_config(self)


def objective_config(cfg: GRPOConfig) -> obj.ObjectiveConfig:
    return objective_for(cfg.preset, cfg.objective, cfg.max_new_tokens)


def check_mode(cfg: GRPOConfig, dp=None) -> obj.ObjectiveConfig:
    """The run's objective, and the modes it and the process can run in: checked before the model loads."""
    ocfg = objective_config(cfg)
    if cfg.off_policy and ocfg.ratio == "none":  # (an override's none was blamed on the preset, whose ratio is token)
        base = obj.PRESETS[cfg.preset]["config"]["ratio"]
        why = (f"objective ratio='none' (overriding preset {cfg.preset!r}'s {base!r})" if base != "none"
               else f"preset {cfg.preset!r} has ratio=none")
        raise PonderError(f"off_policy needs an importance ratio, but {why}")
    if cfg.fsdp and dp is None:
        raise PonderError("fsdp shards the model over data-parallel ranks: run with --nproc N (N >= 2) or "
                          "under torchrun")
    return ocfg


def check_refill(cfg: GRPOConfig, ocfg: obj.ObjectiveConfig) -> None:
    """Only dynamic sampling refills: a max_refill without it was silently unused (checked for new runs only: a
    recorded one would brick a resume)."""
    if not ocfg.group_filter and cfg.max_refill != GRPOConfig.max_refill:
        # (an override's off was blamed on the preset: "preset 'dapo', which does not filter groups")
        why = (f"objective group_filter=False (overriding preset {cfg.preset!r}'s True)"
               if obj.PRESETS[cfg.preset]["config"]["group_filter"] else
               f"preset {cfg.preset!r}, which does not filter groups (group_filter off)")
        raise PonderError(f"max_refill={cfg.max_refill} has no effect with {why}; drop it, or set objective "
                          "group_filter=True")


def objective_for(preset: str, overrides: dict, max_new_tokens: int) -> obj.ObjectiveConfig:
    cfg = obj.preset(preset, **overrides)
    # A run's override (--set) of a part the composed objective never reads trained as if it had not been given,
    # and explain listed it as a difference from the preset (beta without kl is refused by ObjectiveConfig)
    idle = {"dual_clip_c": (cfg.clip != "dual", f"clip={cfg.clip}"),
            "overlong_cache": (not cfg.overlong_penalty, "overlong_penalty off"),
            "max_len_norm": (cfg.aggregation != "seq_mean_token_sum_norm", f"aggregation={cfg.aggregation}"),
            "eps_low": (cfg.clip == "none", "clip=none"), "eps_high": (cfg.clip == "none", "clip=none")}
    for key, (unread, why) in idle.items():
        if unread and overrides.get(key) is not None:  # (None: "derive it", no value given)
            raise PonderError(f"objective: {key}={overrides[key]!r} has no effect with {why}; drop it")
    return obj.bind(cfg, max_new_tokens)


# Settings that change no update of the run: the step target (a resume may raise it), the cadence of evaluations and
# checkpoints, where the run's files are or it runs, and how its batch is cut into passes; a hand edit of these
# resumes, where one of the others (or a checkpoint/ copied from another run) is refused by check_run_record.
UNRECORDED = ("steps", "eval_every", "eval_n", "save_every", "tensorboard", "stop_on_alarm", "device", "model", "data",
              "eval_data", "micro_batch", "micro_batch_tokens", "fsdp",
              "prompt_field", "answer_field", "threads")  # (what they read is in the data's digest, and runs before them resume)


def _items_sha256(items: list[dict]) -> str:
    return hashlib.sha256(json.dumps(items, sort_keys=True, ensure_ascii=False, default=repr).encode()).hexdigest()


def run_record(cfg: GRPOConfig, train_items: list[dict] | None = None, test_items: list[dict] | None = None) -> dict:
    """What every trainer state of the run records of its settings: a checkpoint/ copied from another GRPO run of
    the same model (an lr sweep's neighbour), or a hand-edited preset or lr, resumed silently under the settings of
    config.json and the other run's optimizer state and history. With --data, the digest of its training items:
    steps draw prompts by index into them, so a file edited (rows added, reordered) between a kill and --resume
    trained on other prompts than the uninterrupted run, silently (a task's items follow from the settings). With
    --eval-data, the digest of the held-out items too: a file edited between a kill and --resume measured the rest of
    the run's heldout_accuracy on other problems, and its summary compared the two sets' accuracies, silently."""
    digest = None
    if cfg.data is not None and train_items is not None:
        digest = _items_sha256(train_items)
    record = {"train": {k: v for k, v in json.loads(json.dumps(asdict(cfg))).items() if k not in UNRECORDED},
              "data_sha256": digest}
    if cfg.eval_data is not None and test_items is not None:
        record["eval_data_sha256"] = _items_sha256(test_items)
    return record


def check_resumed_settings(run: Path, given: GRPOConfig, saved: GRPOConfig) -> None:
    """A resumed run trains with its config.json's settings; only `steps` is taken from the config it is given. A
    setting given otherwise than both its default and the run's own (train(replace(cfg, lr=1e-5), run,
    resume=True)) was ignored silently: refused, as the command line refuses it."""
    default = GRPOConfig()
    for f in fields(GRPOConfig):
        v = getattr(given, f.name)
        if f.name in ("model", "data", "eval_data") and v is not None:  # (recorded resolved, as text)
            v = os.fspath(v) if f.name == "model" else str(Path(v).resolve())
        if f.name in ("data", "eval_data") and v is not None and getattr(saved, f.name) is not None:
            continue  # (a file at a new path: train checks its items' digest against the run's, moved_data)
        if f.name not in ("steps", "threads") and v != getattr(default, f.name) and v != getattr(saved, f.name):
            raise PonderError(f"train: resume continues the run with the settings of {run / 'config.json'}, "
                              f"where {f.name} is {getattr(saved, f.name)!r}, not {v!r}; give only steps "
                              "(or start a new run)")


def moved_data(given: GRPOConfig, cfg: GRPOConfig) -> dict:
    """The run's data files given at new paths on resume (`--resume --data NEWPATH`: the file moved), resolved, by
    field ("data", "eval_data"); the run then reads them there, its items checked by digest (check_moved_data)."""
    moved = {}
    for k in ("data", "eval_data"):
        v, was = getattr(given, k), getattr(cfg, k)
        if v is not None and was is not None and str(Path(v).resolve()) != was:
            moved[k] = str(Path(v).resolve())
    return moved


def check_moved_data(run: Path, state: dict, moved: dict, saved: GRPOConfig) -> None:
    """A file given at a new path is taken only where the run's trainer state records its items' digest, which
    check_run_record compares (a state saved before the digest was kept could not tell another file from it)."""
    have = (state.get("extra") or {}).get("run") if isinstance(state.get("extra"), dict) else None
    for k, path in moved.items():
        if not isinstance(have, dict) or have.get(f"{k}_sha256") is None:
            raise PonderError(f"{path}: the run's checkpoint ({run / 'checkpoint'}) records no digest of its "
                              f"{k.replace('_', ' ')} to check a file at a new path against; put the file back at "
                              f"{getattr(saved, k)} (recorded in {run / 'config.json'})")


# ---- data ----------------------------------------------------------------------------------------
def load_items(cfg: GRPOConfig):
    from ..tasks import generate
    from ..tasks.data import load_dataset, reward_reads_answer

    if cfg.task:
        train = generate(cfg.task, "train", cfg.train_pool, seed=cfg.seed)
        test = generate(cfg.task, "test", cfg.eval_n, seed=0)
    else:  # (check_items then checks the fields each verifier reads)
        need = reward_reads_answer(cfg.reward)
        kw = {"require_answer": need, "prompt_field": cfg.prompt_field, "answer_field": cfg.answer_field}
        train = load_dataset(cfg.data, **kw)
        test = load_dataset(cfg.eval_data, **kw)[: cfg.eval_n] if cfg.eval_data else []
    return train, test


def check_items(cfg: GRPOConfig, config, tok, reward, train_items: list[dict], test_items: list[dict]) -> None:
    """What would stop the run later, refused before its directory is written: an item the reward cannot
    judge (a missing gold or countdown field), and a prompt that cannot take max_new_tokens more tokens (the
    held-out ones fail only at the first evaluation, and again at every resume). config: the model's."""
    from ..engine import check_context, render_prompts

    if len(train_items) < cfg.prompts_per_step:  # (each step would silently train on fewer groups)
        raise PonderError(f"{cfg.data or cfg.task}: {len(train_items)} training prompts, fewer than prompts_per_step="
                          f"{cfg.prompts_per_step}; lower --prompts-per-step")
    for name, items in (("train", train_items), ("eval", test_items)):
        src = (cfg.data if name == "train" else cfg.eval_data) or f"task {cfg.task} ({name} split)"
        chat_item = next((it for it in items if not isinstance(it["prompt"], str)), None)
        if cfg.system is not None and chat_item is not None:  # on top: a second system message, or silently lost
            raise PonderError(f"{src}: item {chat_item.get('id')}: the prompt is a list of chat messages, which "
                              "system would be added on top of; put the system message in the data, or drop system")
        for it in items if cfg.data else items[:1]:  # (generated task items are well formed)
            try:
                _check_reward_fields(reward, it)
            except PonderError as e:
                raise PonderError(f"{src}: item {it.get('id')}: {e}") from None
        if items and isinstance(getattr(config, "max_position_embeddings", None), int):
            check_context(config, render_prompts(tok, [render(cfg, it) for it in items]), cfg.max_new_tokens,
                          names=[f"{src}: item {it.get('id')}" for it in items])


def note_heldout_overlap(train_items: list[dict], test_items: list[dict]) -> None:
    """--eval-data problems that are also --data training prompts (the same file given twice, a split that leaks):
    their accuracy, logged and summarised as heldout_accuracy, is not held out. Said on stderr, once at the start.
    (A task's splits never overlap: the split is a hash of the problem.)"""
    seen = {json.dumps(it["prompt"], sort_keys=True) for it in train_items}
    shared = sum(json.dumps(it["prompt"], sort_keys=True) in seen for it in test_items)
    if shared:
        print(f"grpo: {shared} of the {len(test_items)} held-out problems (--eval-data) are also training prompts "
              "(--data): heldout_accuracy measures them after training on them", file=sys.stderr)


def _check_reward_fields(reward, item: dict) -> None:
    """The fields each verifier of `reward` reads from `item`, checked without verifying anything: judging the
    item's own answer ran every reference solution of a code dataset in the sandbox (0.14 s each: 25 minutes
    for 10,000 items, before the first step and again at every resume). A reward other than a Reward is called
    on the item's answer, as before."""
    from ..verify.registry import Reward

    if isinstance(reward, Reward):
        reward.check(item)
    else:
        reward(item.get("answer", ""), item)


def resolve_data(cfg: GRPOConfig) -> None:
    """The run records where its data is, so that --resume finds it from any working directory (and a model given
    as a Path, as text: config.json is JSON)."""
    cfg.data, cfg.eval_data = (str(Path(f).resolve()) if f else f for f in (cfg.data, cfg.eval_data))
    cfg.model = os.fspath(cfg.model)


def check_not_fp16_dtype(dtype: torch.dtype | None, run: Path | None = None) -> None:
    """train.check_not_fp16's refusal for weights not loaded yet, which would load in `dtype`."""
    if dtype == torch.float16:
        check_not_fp16(torch.nn.ParameterList([torch.empty(0, dtype=dtype)]), "grpo", run)


def check_inputs(cfg: GRPOConfig, run_dir: str | Path, *, resume: bool = False) -> None:
    """train()'s checks of what it is given that need no weights, made as train() makes them: `grpo --nproc N`
    calls this before spawning N ranks, each of which would load the model only to refuse the same input
    (the error then said by rank, after torch's "Terminating process" lines). Nothing is written; cfg is not
    changed. resume: cfg is the run's saved config (train_ddp reads it), whose run directory is checked already."""
    from ..tasks import default_reward
    from ..tokenizer import Tokenizer
    from ..verify.registry import get_reward

    cfg = copy.deepcopy(cfg)
    if not resume:
        cfg.validate()
        resolve_data(cfg)
        fresh_run_dir(Path(run_dir), cfg.model, kind="grpo")
    # checkpoint.load's checks up to the weights; the tokenizer renders the prompts
    _, path, config, _, want = checkpoint.check_loadable(Path(run_dir) / "checkpoint" if resume else cfg.model,
                                                         dtype=cfg.dtype, device=cfg.device)
    if not cfg.fsdp:  # (fsdp refuses bf16 too: check_world says so)
        check_not_fp16_dtype(want, Path(run_dir) if resume else None)
    tok = Tokenizer.load(path)
    if cfg.chat_template_kwargs:  # (else the tokenizer's own, which the run records)
        tok.template_kwargs = dict(cfg.chat_template_kwargs)
    ocfg = objective_config(cfg)
    if not resume:  # (as train() checks it: `grpo --nproc N` failed on each rank, once it had loaded the model)
        check_refill(cfg, ocfg)
    train_items, test_items = load_items(cfg)
    reward = get_reward(cfg.reward if cfg.reward is not None
                        else default_reward(cfg.task, None if cfg.task else train_items + test_items))
    check_items(cfg, config, tok, reward, train_items, test_items)


def render(cfg: GRPOConfig, item: dict):
    """A text prompt as it is, or with `chat` as a user message (after `system`); a prompt of chat messages
    (a dataset's) as it is, `chat` or not: wrapped, the list would be one user message's content."""
    if not cfg.chat or not isinstance(item["prompt"], str):
        return item["prompt"]
    # (an empty system is one, as eval --system "" sends it: a template renders an empty system turn otherwise than
    # none, Qwen's putting its default system prompt where there is none)
    msgs = [{"role": "system", "content": cfg.system}] if cfg.system is not None else []
    return msgs + [{"role": "user", "content": item["prompt"]}]


# ---- log-probs -----------------------------------------------------------------------------------
def build_batch(groups, pad_id: int):
    """Right-padded prompt+completion ids, attention mask, and the completion mask over targets [B, T-1]:
    every row on its own, the layout `token_logprobs` (the reference for shared_prefix_logprobs) reads."""
    seqs = [(s.prompt_ids, s.token_ids) for g in groups for s in g]
    T = max(len(p) + len(c) for p, c in seqs)
    ids = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    attn = torch.zeros((len(seqs), T), dtype=torch.long)
    comp = torch.zeros((len(seqs), T - 1), dtype=torch.bool)
    for i, (p, c) in enumerate(seqs):
        ids[i, : len(p) + len(c)] = torch.tensor(p + c)
        attn[i, : len(p) + len(c)] = 1
        comp[i, len(p) - 1 : len(p) + len(c) - 1] = True  # target t+1 is a completion token
    return ids, attn, comp


def micro_batches(lo: int, hi: int, lengths: list[int], max_rows: int, max_tokens: int = 0) -> list[list[int]]:
    """Rows lo..hi-1 grouped for forward/backward: sorted by length (ascending), each group at most
    `max_rows` rows and, when `max_tokens` > 0, at most `max_tokens` tokens once padded to its longest row
    (a row longer than the budget goes alone)."""
    order = sorted(range(lo, hi), key=lambda r: lengths[r])
    groups: list[list[int]] = []
    cur: list[int] = []
    for r in order:  # ascending, so the row being added is the group's longest
        if cur and (len(cur) >= max_rows or (max_tokens and (len(cur) + 1) * lengths[r] > max_tokens)):
            groups.append(cur)
            cur = []
        cur.append(r)
    if cur:
        groups.append(cur)
    return groups


def behaviour_logprobs(groups, shape) -> torch.Tensor:
    """The sampler's log-probs in the completion frame [B, Lc] (column t = completion token t; zeros after).

    engine.sample records log softmax(logits / T) of each chosen token, exactly what shared_prefix_logprobs
    computes for the same weights, so these are the behaviour policy's log-probs for an off-policy ratio.
    Both are of the full tempered distribution: with top_p < 1 the sampler's own (truncated, renormalised)
    probabilities differ, and the ratio leaves that gap uncorrected, as verl's and TRL's do."""
    out = torch.zeros(shape)
    for i, s in enumerate(x for g in groups for x in g):
        out[i, : len(s.logprobs)] = torch.tensor(s.logprobs, dtype=torch.float32)
    return out


def shared_prefix_logprobs(model, prompts: list[list[int]], owner: torch.Tensor, completions: list[list[int]],
                           temperature: float, with_entropy: bool = False):
    """log pi(completion token t) under softmax(logits / T) for rows that share prompts: [R, Lc] (columns past
    a row's end hold 0: mask them), and the entropy at each position when asked.

    Each distinct prompt (`prompts`, token ids) is run ONCE, left-padded, into a KV cache; the cache is then
    fanned out to the rows (`owner[i]` = index of row i's prompt) and the completions (right-padded) run on
    top of it. A GRPO group's G samples share one prompt, so its tokens are computed once instead of G times,
    forward and backward (the idea of Prefix Grouper, arXiv 2506.05433). Same function as running every
    row's prompt + completion separately (`token_logprobs`); tests/test_rl_trainer.py checks values and
    gradients against it."""
    from ..model import KVCache

    dev = model.device
    lp, lc = max(map(len, prompts)), max(map(len, completions))
    inp = torch.zeros((len(prompts), lp), dtype=torch.long)
    cache = KVCache.empty(model.config, len(prompts), lp + lc, model.dtype, dev)
    for i, p in enumerate(prompts):  # left padding: every prompt ends at slot lp-1
        inp[i, lp - len(p):] = torch.tensor(p)
        cache.valid[i, lp - len(p): lp] = True
    last = model(inp.to(dev), cache=cache, return_hidden=True)[:, -1]  # predicts completion token 0
    owner = owner.to(dev)
    cache = cache.select(owner)
    ids = torch.zeros((len(completions), lc), dtype=torch.long)
    for j, c in enumerate(completions):
        ids[j, : len(c)] = torch.tensor(c)
        cache.valid[j, lp: lp + len(c)] = True
    ids = ids.to(dev)
    hidden = model(ids, cache=cache, return_hidden=True)  # position t predicts completion token t+1
    # ([:, :lc]: a micro-batch of empty completions, a generate_fn's, has no column, where the cat made one)
    hidden = torch.cat([last.index_select(0, owner)[:, None], hidden[:, :-1]], 1)[:, :lc]
    # the vocabulary projection and softmax on real completion tokens only (padding columns stay 0)
    R = len(completions)
    real = (torch.arange(lc)[None] < torch.tensor(list(map(len, completions)))[:, None]).reshape(-1)
    idx = real.nonzero()[:, 0].to(dev)
    logp, ent = head_logprobs(model.lm_head, hidden.reshape(R * lc, hidden.shape[-1])[idx], ids.reshape(-1)[idx],
                              temperature, with_entropy)
    logp = logp.new_zeros(R * lc).index_copy(0, idx, logp).view(R, lc)
    if ent is not None:
        ent = ent.new_zeros(R * lc).index_copy(0, idx, ent).view(R, lc).cpu()
    return logp, ent


# Logits the policy's log-probs hold at once (256 MB in fp32). At Qwen3's 151,936-token vocabulary an
# 8k-token micro-batch would otherwise hold ~15 GB for the head alone (the logits, their fp32 copy, the
# log-softmax kept for backward); above the budget, blocks of rows run under activation checkpointing, so
# each block's logits are recomputed in backward instead of kept. The recomputation costs a second head
# forward: measured at that vocabulary (hidden 256, 1,024 rows, CPU) 4.98 s for forward + backward in
# 441-row blocks vs 4.17 s in one block, and 5.82 s in 110-row blocks (a 2^24 budget). Every tiny-model
# batch fits in one block: the plain graph, bit for bit.
LOGIT_BUDGET = 2**26


def head_logprobs(head, h, targets, temperature: float, with_entropy: bool = False):
    """log softmax(head(h) / T)[target] for each row of h [N, hidden], and the entropy of each row's
    distribution when asked (no gradient), at most LOGIT_BUDGET logits at a time."""
    rows = max(1, LOGIT_BUDGET // head.out_features)
    if h.shape[0] <= rows:
        return _head_logprobs(head, h, targets, temperature, with_entropy)
    from torch.utils.checkpoint import checkpoint

    parts = [checkpoint(_head_logprobs, head, h[s : s + rows], targets[s : s + rows], temperature, with_entropy,
                        use_reentrant=False) for s in range(0, h.shape[0], rows)]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]) if with_entropy else None


def _head_logprobs(head, h, targets, temperature, with_entropy):
    logp_all = torch.log_softmax(head(h).float() / temperature, -1)
    logp = logp_all.gather(-1, targets[:, None])[:, 0]
    ent = None
    if with_entropy:
        with torch.no_grad():
            ent = -(logp_all.exp() * logp_all).sum(-1)
    return logp, ent


def token_logprobs(model, ids, attn, temperature: float, with_entropy: bool = False):
    """log pi(target) under softmax(logits / T) for every target position of `build_batch`'s rows [B, T-1]:
    each row's prompt and completion computed on their own. The trainer uses shared_prefix_logprobs; this
    is its reference (tests) and the plain form of the computation."""
    hidden = model(ids[:, :-1], attention_mask=attn[:, :-1], return_hidden=True)
    logits = model.lm_head(hidden).float() / temperature
    logp_all = torch.log_softmax(logits, -1)
    logp = logp_all.gather(-1, ids[:, 1:, None])[..., 0]
    ent = None
    if with_entropy:
        with torch.no_grad():
            ent = -(logp_all.exp() * logp_all).sum(-1)
    return logp, ent


# ---- evaluation used during training -------------------------------------------------------------
def _reason_starts(result, prefix: str) -> bool:
    """Whether a score (a RewardResult's parts, or a caller's Verdict) holds a verdict whose reason starts with
    `prefix`: SANDBOX_ERROR (a sandbox that failed) or JUDGE_OVERFLOW (a response too long for the judge's context,
    scored 0 ungraded), each counted per step so that a reward they lowered does not read as the policy's."""
    parts = getattr(result, "parts", None)
    reasons = [p.get("reason") for p in parts.values()] if parts else [getattr(result, "reason", None)]
    return any(str(r).startswith(prefix) for r in reasons if r is not None)


def greedy_accuracy(model, tok, items, reward, cfg: GRPOConfig, counts: dict | None = None) -> float:
    """Greedy accuracy on `items`; `counts`, when given, gets "sandbox_errors" and "judge_overflow": the completions
    scored 0 for a sandbox that failed or as too long for the judge (a held-out accuracy lowered by the grader, not
    the model)."""
    if not items:
        return float("nan")
    was = model.training
    model.eval()
    prompts = [render(cfg, it) for it in items]
    outs = sample(model, tok, prompts, n=1, max_new_tokens=cfg.max_new_tokens, temperature=0.0)
    model.train(was)
    opens = prompts_think_state(tok, prompts)  # a template that prefills "<think>" (or a closed block): see format
    if not isinstance(reward, Reward):  # a caller's own callable gets the True/False it always got
        opens = [f is True for f in opens]
    # (a custom reward's error names the held-out input and its item, as the rollouts' scoring does)
    res = [score_input(functools.partial(reward, think_open=f), o[0].text, it, i, len(items))
           for i, (o, it, f) in enumerate(zip(outs, items, opens))]
    if counts is not None:
        counts["sandbox_errors"] = sum(_reason_starts(r, SANDBOX_ERROR) for r in res)
        counts["judge_overflow"] = sum(_reason_starts(r, JUDGE_OVERFLOW) for r in res)
    return sum(r.correct for r in res) / len(items)


# ---- the loop ------------------------------------------------------------------------------------
def _draw(pool, n, seed, step, attempt, curriculum, drawn=frozenset()) -> list[int]:
    """Indices into `pool` of n prompts for one generation round, in a seeded order, none of those `drawn` earlier
    in the step: a dynamic-sampling refill asks for new prompts (as verl's DAPO draws a new batch), so a step never
    trains on a prompt twice. Fewer than n (none) once the pool runs out."""
    g = torch.Generator().manual_seed((seed * 1_000_003 + step) * 101 + attempt)
    order = [i for i in torch.randperm(len(pool), generator=g).tolist() if i not in drawn]
    picked = [i for i in order if curriculum is None or curriculum.keep(pool[i]["id"])][:n]
    if len(picked) < n:  # the curriculum skipped too much: fill up rather than train on less
        picked += [i for i in order if i not in picked][: n - len(picked)]
    return picked


def note_world(state, world: int) -> None:
    """Say so when a run resumes on another number of data-parallel ranks than its checkpoint was trained on: N ranks
    sum the gradient in another order than one process (~1e-6 apart, distributed/ddp.py), so the resumed run is
    close to, not bit-identical with, the uninterrupted one. A plain --resume of a `--nproc 2` or torchrun run
    continued in one process without a word. (A checkpoint from before the count was recorded: nothing to say.)"""
    had = (state.get("extra") or {}).get("world") if isinstance(state.get("extra"), dict) else None
    if isinstance(had, int) and not isinstance(had, bool) and had >= 1 and had != world:
        def where(n):
            return "in one process" if n == 1 else f"on {n} data-parallel ranks"

        back = f"; resume on its {had} ranks (--nproc {had}, or torchrun's) for that" if had > 1 else ""
        print(f"resume: the run trained {where(had)} and continues {where(world)}: the gradient is summed in another "
              "order, so the resumed run is close to (~1e-6), not bit-identical with, an uninterrupted one" + back,
              file=sys.stderr)


# only rank 0 writes the run directory: the other ranks of its run take no lock
@locks_run("run_dir", when=lambda a: a.get("dp") is None or a["dp"].rank == 0)
def train(
    cfg: GRPOConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    on_log: Callable[[dict], None] | None = None,
    model=None,
    tok=None,
    generate_fn: Callable | None = None,
    score_fn: Callable | None = None,
    dp=None,
    on_checked: Callable | None = None,
    hints: dict | None = None,
    extra_config: dict | None = None,
) -> Path:
    """Run (or resume) GRPO-family training; returns the run directory.

    resume=True continues the run in run_dir with the settings of its config.json. Of ``cfg`` only ``steps`` is
    taken: None (the default) or 0 trains to the run's own target, a number sets a new target (written to
    config.json, to train further or stop earlier); any other setting must be its default or the run's own.

    Hooks for scaling out (ponder/distributed), all None for the single-process path:
    generate_fn(model, tok, prompts, *, version, **sample_kwargs) -> list[list[Sample]] replaces
    engine.sample (version = learner updates the weights have seen); score_fn(reward, completions, items)
    -> list[RewardResult] replaces the in-process reward loop; dp (ponder.distributed.ddp.DataParallel)
    trains this rank's share of every minibatch, with counts and gradients summed over ranks; only rank 0
    writes the run directory. on_checked(model, tok) is called once the inputs are checked, before the run
    directory is written (the Ray path connects and starts its actors there). A generate_fn or score_fn with a
    `halt()` method (RayPool's) can be stopped mid-call: a run that ends (an exception, Ctrl-C) with an off-policy
    rollout running ahead halts it and joins its thread before returning, so nothing of the run is left calling
    the functions (or a pool the caller closes next); without one, the rollout's thread is left to end on its own.
    hints: the alarms' advice by alarm name (Monitor.hints), for a front end whose options are not grpo's (the
    demo has no --group-filter or --curriculum, which the run's own advice names). extra_config: top-level config.json
    entries of the caller's (train_ray: {"ray": {"threads": T, "workers": W}}, its actors), written with a new run's
    config.json and, on resume, where they changed (once every check has passed), so a later resume reuses them."""
    from ..verify.registry import get_reward

    run = Path(run_dir)
    if (model is None) != (tok is None):  # (one without the other failed as an AttributeError, or was dropped)
        raise PonderError("train: give model and tok together (or neither: cfg.model is loaded)")
    if resume and model is not None:  # (ignored: the run's checkpoint is what a resumed run trains)
        raise PonderError("train: resume continues the run's own checkpoint; model and tok are not used with it")
    if model is not None and not any(p.requires_grad for p in model.parameters()):  # (AdamW's bare ValueError)
        raise PonderError("train: every parameter of the model given has requires_grad=False, so there is nothing to "
                          "train; call model.requires_grad_(True) first")
    if resume:
        steps = cfg.steps  # (a float or text target was written into config.json, which --resume then refused)
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
            raise PonderError(f"steps must be an integer >= 0 (None or 0: the run's own target), got {steps!r}")
        if dp is not None:  # all ranks resume at once: one of them puts back a checkpoint a killed save left
            from ..distributed import ddp

            ddp.recover_checkpoint(dp, run / "checkpoint")
        model, tok, state, saved = load_run(run, "grpo", recover=dp is None)
        given, cfg = cfg, config_from(GRPOConfig, saved["grpo"], f"{run / 'config.json'}: grpo")
        if not cfg.fsdp:  # (no loss scaling here: fp16's small gradients flush to zero; fsdp refuses any low
            check_not_fp16(model, "grpo", run)  # precision below, naming float32)
        check_resumed_settings(run, given, cfg)
        moved = moved_data(given, cfg)  # (read there; recorded once every check has passed)
        check_moved_data(run, state, moved, cfg)
        for k, v in moved.items():
            setattr(cfg, k, v)
        cfg.steps = steps or cfg.steps  # None or 0: the saved run's
        start = state["step"]
        check_steps_left(run, start, cfg.steps)
    else:
        # the run's own: it fills in reward, chat_template_kwargs and data paths, which the caller's config kept,
        # so a run made from it by dataclasses.replace(cfg, task="countdown") trained with the first one's reward
        cfg = copy.copy(cfg)
        cfg.validate()
        cfg.threads = run_threads(cfg.threads)  # recorded in config.json: a resume continues at this count
        # an unknown preset, objective part or reward verifier, or a mode the objective or the ranks cannot
        # run: said before the model loads (a 7B one: minutes)
        ocfg = check_mode(cfg, dp)
        if model is None and not cfg.fsdp:  # (said before the model loads; a model given trains in its own dtype)
            check_not_fp16_dtype(checkpoint.parse_dtype(cfg.dtype))
        check_refill(cfg, ocfg)
        if cfg.reward is not None:
            get_reward(cfg.reward)
        resolve_data(cfg)
        if model is not None:  # (a checkpoint loaded has its own tokenizer, which load checks): save would refuse
            check_savable(model, tok, "grpo")  # the reference or the first checkpoint, the run half written
        if dp is None or dp.rank == 0:
            fresh_run_dir(run, cfg.model if model is None else None, kind="grpo")
        if model is None:
            model, tok = checkpoint.load(cfg.model, dtype=cfg.dtype, device=cfg.device)
        else:  # the run records the dtype it trains in, which --resume loads its checkpoint in: a bf16 model handed
            # in with dtype None resumed in fp32 (a CPU load widens it), its master weights dropped
            cfg.dtype = next((k for k, v in checkpoint.DTYPES.items() if v == model.dtype), cfg.dtype)
            if cfg.device.split(":")[0] != model.device.type:  # and where it trains: a GPU model handed in
                cfg.device = str(model.device)  # with the default device resumed on the CPU
        if not cfg.fsdp:  # (a float16 checkpoint loads as it is on a GPU with dtype None)
            check_not_fp16(model, "grpo")
        state, start = None, 0
        # the generators a resume restores (a caller's generate_fn or score_fn may draw from them), as the run's seed
        # makes them: left as the process had them (torch seeds at random), two runs of one seed differed there
        random.seed(cfg.seed)
        torch.manual_seed(cfg.seed)
        if not cfg.chat_template_kwargs:  # a tokenizer handed in with its own: the run records them
            cfg.chat_template_kwargs = dict(tok.template_kwargs)
    tok = copy.copy(tok)  # the run's own renderer: every prompt of the run, resumed ones included; not the caller's
    tok.template_kwargs = dict(cfg.chat_template_kwargs)
    ocfg = check_mode(cfg, dp)
    if cfg.fsdp and model.dtype in LOW_PRECISION:  # MasterAdamW's masters are not FSDP2 parameters
        raise PonderError(f"fsdp: the learner's weights are {str(model.dtype).removeprefix('torch.')}, and the sharded "
                          "optimizer keeps no fp32 master copies, so small updates would be rounded away; "
                          "use --dtype float32")
    main = dp is None or dp.rank == 0
    train_items, test_items = load_items(cfg)
    if cfg.reward is None:
        from ..tasks import default_reward

        cfg.reward = default_reward(cfg.task, None if cfg.task else train_items + test_items)
    reward = get_reward(cfg.reward)
    record = run_record(cfg, train_items, test_items)
    if resume:  # (before the run directory changes: a refused resume leaves it as it was)
        have = ((state.get("extra") or {}).get("run") or {}) if isinstance(state.get("extra"), dict) else {}
        for k in moved:  # (a file given at a new path whose items are not the run's: named, not the checkpoint)
            if isinstance(have, dict) and have.get(f"{k}_sha256") not in (None, record.get(f"{k}_sha256")):
                raise PonderError(f"--{k.replace('_', '-')} {moved[k]}: its items are not the run's (recorded from "
                                  f"{saved['grpo'].get(k)}; sha256 {str(have[f'{k}_sha256'])[:12]}); rows without an "
                                  "id are named by the file's name (d.jsonl's d-1, ...), so a renamed file differs "
                                  "too: give the run's own file, under its own name")
        check_run_record(run, state, record)
    if resume and isinstance(saved.get("objective"), dict):
        # config.json's top-level objective records what grpo.preset and grpo.objective make; an edit of it (beta)
        # was ignored silently, the run training on with the objective its grpo section gives
        made = json.loads(json.dumps(asdict(ocfg)))
        edited = [k for k in saved["objective"] if k in made and saved["objective"][k] != made[k]]
        if edited:
            k = edited[0]
            raise PonderError(f"{run / 'config.json'}: objective.{k} is {json.dumps(saved['objective'][k])[:40]}, but "
                              f"the run's grpo.preset and grpo.objective make it {json.dumps(made[k])[:40]}: the "
                              "objective block only records them, and a resume trains with the run's own: start a new run for another "
                              "objective")
    check_items(cfg, model.config, tok, reward, train_items, test_items)
    if resume:  # (given: the caller's choice, said where not the run's own; after every refusal, which is one line)
        # (a --threads given is recorded below, with the steps: on_checked (the Ray pool's start) may still refuse)
        resume_threads(run, cfg.threads, given.threads, say=dp is None or dp.rank == 0)
    if main and not resume:
        note_heldout_overlap(train_items, test_items)
    if on_checked is not None:
        on_checked(model, tok)
    ahead = (state or {}).get("extra", {}).get("off_policy") if cfg.off_policy else None
    if resume and cfg.off_policy and not isinstance(ahead, dict) and main:  # an older run's checkpoint
        print(f"grpo: resuming an off-policy run from a checkpoint without its rollout in flight: step {start + 1} "
              "samples with the checkpoint's weights (the uninterrupted run would use the copy one update older), "
              "so the run continues close to, not equal to, the uninterrupted one", file=sys.stderr)
    if resume and main:  # the learner's ranks (config.json does not record them): another count resumes, rounding
        note_world(state, 1 if dp is None else dp.world)  # otherwise; said, as another --threads is
    if resume and main:  # all checked: now the run directory may change
        changed = {k: v for k, v in (extra_config or {}).items() if saved.get(k) != v}
        # a --threads given: the run's count from now on, which a later plain --resume continues at
        threads = {"threads": given.threads} if given.threads is not None and given.threads != cfg.threads else {}
        # (and a data file given at its new path, its items the run's: a later plain --resume reads it there)
        if cfg.steps != saved["grpo"].get("steps") or changed or threads or moved:  # a resume interrupted again
            saved = read_run_config(run)  # continues to this target
            save_run_config(run, {**saved, **changed,
                                  "grpo": {**saved["grpo"], "steps": cfg.steps, **threads, **moved}})
        trim_metrics(run, start)
    run.mkdir(parents=True, exist_ok=True)
    take_run_lock(run)
    if not resume and main:
        atomic_write_text(run / "config.json", json.dumps(
            {"kind": "grpo", "grpo": asdict(cfg), "objective": asdict(ocfg), "explain": obj.explain(ocfg, cfg.max_new_tokens),
             **(extra_config or {})}, indent=2))
    ref = copy.deepcopy(model).eval().requires_grad_(False) if ocfg.kl != "off" else None
    replica = None
    if cfg.fsdp:  # the replica generates, evaluates and is saved; `model` becomes the sharded learner
        from ..distributed import ddp

        replica = copy.deepcopy(model).eval().requires_grad_(False)
        ddp.apply_fsdp2(model, dp)
    # parameters a model given kept frozen stay so after a resume (load_run reads them from the trainer state)
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    # bf16/fp16 weights are stepped through fp32 master copies (train.MasterAdamW): plain AdamW would round
    # RL's small updates away
    opt = adamw([p for p in model.parameters() if p.requires_grad], lr=cfg.lr, betas=(0.9, 0.99),
                weight_decay=cfg.weight_decay)
    # the alarm's advice names only what the run does not already do (zero_var_frac counts the groups drawn,
    # before any filter: with one, a high share is refill work; with a curriculum too, the task's difficulty)
    hint = ("try --curriculum or a harder/easier task" if not cfg.curriculum else "try a harder/easier task")
    window = collapse_window(cfg.prompts_per_step)
    monitor = Monitor(MonitorConfig(reward_window=window, reward_lookback=10 * window),
                      max_new_tokens=cfg.max_new_tokens, reward_scale=reward_scale(reward),
                      hints={**({} if not ocfg.group_filter else {"zero_variance_groups": hint}), **(hints or {})},
                      group_filter=ocfg.group_filter)
    # its retries draw from the run's seed (seeded 0 whatever --seed was, every seed skipped and retried the same
    # prompts); the default seed 0 draws as before
    curriculum = obj.Curriculum(seed=cfg.seed) if cfg.curriculum else None
    if state is not None:
        if cfg.fsdp:
            ddp.load_optimizer_state(model, opt, state["optimizer"])
        else:
            opt.load_state_dict(state["optimizer"])
        restore_rng(state)
        monitor.load_state_dict(state["extra"]["monitor"])
        if curriculum is not None and state["extra"].get("curriculum"):
            curriculum.load_state_dict(state["extra"]["curriculum"])
        if ref is not None:  # the reference is the run's starting model, kept beside the checkpoint
            ref = checkpoint.load(run / "reference", dtype=cfg.dtype, device=cfg.device)[0].requires_grad_(False)
    elif ref is not None and main:
        checkpoint.save(ref, tok, run / "reference")
    tb = None
    if cfg.tensorboard and main:
        from ..tensorboard import SummaryWriter, scalar_tags

        tb = SummaryWriter(run / "tensorboard", purge_step=start + 1 if start else None)
    bar = None
    if progress and main:
        from ..progress import progress_bar

        bar = progress_bar(total=cfg.steps, initial=start, desc=f"grpo[{cfg.preset}]", dynamic_ncols=True)
    # The policy trains in eval mode: dropout (a checkpoint's attention_dropout) would make its log-probs a
    # different, random function from the one that sampled the rollouts (in eval mode), so the on-policy ratio
    # would not be 1 and the clipped objective would clip noise. verl overrides attention_dropout to 0 for this.
    model.eval()
    stop = False
    rollout = functools.partial(_rollout, tok=tok, cfg=cfg, ocfg=ocfg, reward=reward, pool=train_items,
                                curriculum=curriculum, generate_fn=generate_fn, score_fn=score_fn)
    behaviour = future = None
    behaviour_version = start
    halt = threading.Event()  # set: the rollout running ahead stops at its next generation or scoring call
    if cfg.off_policy:  # the first batch is on-policy; from then on, generation runs one step ahead
        behaviour = copy.deepcopy(model).eval().requires_grad_(False)
        # A resumed run continues as the uninterrupted one would: with the rollout that was running ahead when
        # the checkpoint was written, or else (the run's last step, or a failed rollout) with the weights from
        # before the last update, which would have sampled it.
        if isinstance(ahead, dict) and ahead.get("rollout") is not None:
            future = concurrent.futures.Future()
            future.set_result(_unpack_rollout(ahead["rollout"]))
        elif isinstance(ahead, dict) and ahead.get("behaviour") is not None:
            behaviour.load_state_dict(ahead["behaviour"])
            behaviour_version = start - 1
    try:
        for step in range(start, cfg.steps):
            if replica is not None:
                ro = rollout(replica, step=step)  # on-policy: the replica holds the current weights
            elif behaviour is None:
                ro = None  # _step generates on-policy
            else:
                ro = future.result() if future else rollout(behaviour, step=step, version=behaviour_version)
                # step t+1's rollouts from the weights before step t's update (kept at the last step too: a
                # checkpoint holds them, for a resume with more steps)
                behaviour.load_state_dict(model.state_dict())
                future = (_in_background(rollout, behaviour, step=step + 1, version=step, halt=halt)
                          if step + 1 < cfg.steps else None)
            row = _step(model, tok, ref, opt, cfg, ocfg, reward, train_items, step, curriculum, ro=ro,
                        rollout=rollout, dp=dp)
            if replica is not None:  # every rank: all-gather the updated shards into the replica
                replica.load_state_dict(ddp.gather_weights(model))
            full = replica if replica is not None else model  # the whole current weights
            if main and cfg.eval_every and ((step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps) \
                    and test_items:
                held = {}
                row["heldout_accuracy"] = greedy_accuracy(full, tok, test_items, reward, cfg, held)
                row["heldout_sandbox_errors"] = held["sandbox_errors"]
                row["heldout_judge_overflow"] = held["judge_overflow"]
            alarms = monitor.update(row)
            row["alarms"] = [a["alarm"] for a in alarms]
            # (an alarm at the last step ends nothing early: the run is complete)
            stop = (cfg.stop_on_alarm and step + 1 < cfg.steps
                    and any(a["alarm"] not in NON_STOPPING_ALARMS for a in alarms))
            if dp is not None:  # rank 0 alone saw the held-out accuracy: its decision binds every rank
                stop = dp.broadcast_flag(stop)
            if stop and main:
                # The stop step's row says which alarm ended the run (summarize_run and `ponder report` read it),
                # and the run's last held-out accuracy is measured on the weights it stops with. That evaluation
                # is not fed to the monitor: a resumed run raises the alarms it would have without the stop.
                first = next(a for a in alarms if a["alarm"] not in NON_STOPPING_ALARMS)
                row["stopped_early"] = {"alarm": first["alarm"], "message": first["message"]}
                if "heldout_accuracy" not in row and cfg.eval_every and test_items:
                    held = {}
                    row["heldout_accuracy"] = greedy_accuracy(full, tok, test_items, reward, cfg, held)
                    row["heldout_sandbox_errors"] = held["sandbox_errors"]
                    row["heldout_judge_overflow"] = held["judge_overflow"]
            if main:
                append_jsonl(run / "metrics.jsonl", row)
            for a in alarms if main else ():
                append_jsonl(run / "alarms.jsonl", a)
                msg = f"ALARM step {a['step']}: {a['alarm']}: {a['message']}"
                _say(bar, msg)
            if tb:
                tb.add_scalars(row["step"], scalar_tags("train", row))
            if on_log:
                on_log(row)
            if bar:
                bar.update(1)
                bar.set_postfix(reward=f"{row.get('reward_mean', float('nan')):.2f}",
                                acc=f"{row.get('accuracy', float('nan')):.2f}",
                                len=f"{row.get('response_length', 0):.0f}")
            save = (step + 1) % cfg.save_every == 0 or step + 1 == cfg.steps or stop
            optimizer_state = None
            if save and replica is not None:  # every rank takes part; rank 0 receives the whole state
                optimizer_state = ddp.optimizer_state(model, opt)
            if main and save:
                if not all(torch.isfinite(p).all() for p in full.parameters()):
                    raise PonderError(f"step {step + 1}: non-finite weights; the last good checkpoint is kept")
                if future is not None:  # the rollout running ahead updates the curriculum: let it finish
                    concurrent.futures.wait([future])
                full.eval()
                extra = {"monitor": monitor.state_dict(), "run": record, "world": 1 if dp is None else dp.world,
                         "curriculum": curriculum.state_dict() if curriculum else None, **({"frozen": frozen} if frozen else {})}
                if behaviour is not None:  # what the next step trains on: the rollout itself, or its sampler
                    done = future is not None and future.exception() is None
                    extra["off_policy"] = ({"rollout": _pack_rollout(future.result())} if done
                                           else {"behaviour": behaviour.state_dict()})
                save_run(run, full, tok, opt, step + 1, extra, optimizer_state=optimizer_state)
            if stop:
                if main:  # (said once, as the alarm that stops every rank is)
                    _say(bar, f"stopping after step {step + 1} (--stop-on-alarm)")
                break
    finally:
        if future is not None and not future.done():  # the run ended (an exception) with a rollout running ahead
            _halt(future, halt, generate_fn, score_fn)
        if bar:
            bar.close()
        if tb:
            tb.close()
    if dp is not None:  # rank 0 may still be writing the last checkpoint: return when the run is complete
        dp.barrier()
    model.eval()
    if main:
        plot_run(run)
    return run


def _say(bar, msg: str):
    """A message for the person watching, on stderr (stdout is for results: --json), above the progress bar."""
    if bar:
        bar.write(msg, file=sys.stderr)
    else:
        print(msg, file=sys.stderr)


def _in_background(fn, *args, **kwargs) -> concurrent.futures.Future:
    """fn(*args, **kwargs) on a daemon thread. Not a ThreadPoolExecutor: the interpreter joins its threads at
    exit, so Ctrl-C during an off-policy run would wait out the whole rollout in flight."""
    future: concurrent.futures.Future = concurrent.futures.Future()

    def work():
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as e:  # handed to whoever waits on the result
                future.set_exception(e)

    future.thread = threading.Thread(target=work, name="ponder-rollout", daemon=True)
    future.thread.start()
    return future


class _Halted(Exception):
    """The rollout running ahead was halted: its run has ended."""


def _halt(future, halt: threading.Event, generate_fn, score_fn) -> None:
    """Stop the rollout running ahead of a run that has ended: it must not go on calling generate_fn/score_fn (a
    Ray pool its caller closes next, restarting its actors) nor burn the CPUs after the run returned. Its thread
    is joined where the calls in flight can be halted (the local engine, between decode steps; functions with a
    halt() method, RayPool's); another generate_fn may take its time, and its daemon thread is left to end."""
    halt.set()
    for fn in (generate_fn, score_fn):
        if callable(getattr(fn, "halt", None)):
            fn.halt()
    # (a scoring call in flight is waited for: the verifiers are bounded)
    if generate_fn is None or callable(getattr(generate_fn, "halt", None)):
        future.thread.join()


def _pack_rollout(ro: dict) -> dict:
    """A rollout as plain data, for the trainer state (read back with torch.load(weights_only=True))."""
    return {**ro, "groups": [[asdict(s) for s in g] for g in ro["groups"]]}


def _unpack_rollout(d: dict) -> dict:
    return {**d, "groups": [[Sample(**s) for s in g] for g in d["groups"]]}


def _is_scalar(v) -> bool:
    """Whether torch takes v as one number (a float, an int, a bool, numpy's or torch's scalars)."""
    if isinstance(v, (str, bytes)):
        return False
    try:
        return torch.as_tensor(v).dim() == 0
    except (TypeError, ValueError, RuntimeError):
        return False


def _check_samples(outs, items, step: int, off_policy: bool) -> None:
    """What the learner reads of a rollout's samples, checked: a generate_fn's samples that left prompt_ids empty,
    gave a group's samples different prompts (the learner runs each group on its first sample's) or, off-policy,
    recorded no log-prob per token (the ratio's denominator) trained silently on the wrong thing."""
    for group, it in zip(outs, items):
        for j, s in enumerate(group):
            where = f"step {step + 1}: completion {j + 1} of {len(group)} of item {it.get('id')}"
            if not s.prompt_ids:
                raise PonderError(f"{where}: no prompt_ids (the prompt's token ids the learner's log-probs are "
                                  "computed on)")
            if s.prompt_ids != group[0].prompt_ids:
                raise PonderError(f"{where}: its prompt_ids differ from completion 1's (a group shares its prompt)")
            if off_policy and len(s.logprobs) != len(s.token_ids):
                raise PonderError(f"{where}: {len(s.logprobs)} log-probs for {len(s.token_ids)} tokens (an off-policy "
                                  "ratio needs the sampler's log-prob of every completion token)")


def _rollout(model, *, tok, cfg, ocfg, reward, pool, step, curriculum, generate_fn=None, score_fn=None,
             version=None, halt: threading.Event | None = None) -> dict:
    """Generate and score one step's groups (with dynamic-sampling refills); `model` is the behaviour policy,
    whose weights have seen `version` learner updates. `halt` set: raise _Halted at the next call (and, with the
    local engine, at its next decode step)."""

    def halted(*_):
        if halt is not None and halt.is_set():
            raise _Halted()

    t0 = time.perf_counter()
    version = step if version is None else version  # on-policy: the weights have seen the `step` updates so far
    G, P = cfg.group_size, cfg.prompts_per_step
    kept_groups, kept_rewards, rounds, drawn = [], [], 0, set()
    stats_all = {"zero_var": 0, "groups": 0, "samples": 0, "no_answer": 0, "sandbox_error": 0, "judge_overflow": 0,
                 "gen_tokens": 0,
                 "truncated": 0, "correct": 0, "reward": 0.0}
    while len(kept_groups) < P and rounds <= (cfg.max_refill if ocfg.group_filter else 0):
        picked = _draw(pool, P - len(kept_groups) if ocfg.group_filter else P, cfg.seed, step, rounds, curriculum,
                       drawn)
        if not picked:  # every prompt of the pool tried this step
            break
        drawn.update(picked)
        items = [pool[i] for i in picked]
        was = model.training
        model.eval()
        kw = dict(n=G, max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, top_p=cfg.top_p,
                  seed=(cfg.seed * 1_000_003 + step) * 101 + rounds)
        prompts = [render(cfg, it) for it in items]
        halted()
        outs = (sample(model, tok, prompts, **kw, **({"progress": halted} if halt is not None else {}))
                if generate_fn is None else generate_fn(model, tok, prompts, version=version, **kw))
        model.train(was)
        if len(outs) != len(items) or any(len(g) != G for g in outs):  # never train on fewer than configured
            raise PonderError(f"step {step + 1}: the rollout returned {[len(g) for g in outs]} samples for "
                              f"{len(items)} prompts x group_size {G}")
        _check_samples(outs, items, step, cfg.off_policy)
        rounds += 1
        texts, flat_items = [s.text for g in outs for s in g], [it for it in items for _ in range(G)]
        # a prompt rendered to end with "<think>" (DeepSeek-R1's template) has completions that must not open it
        opens = [f for f in prompts_think_state(tok, prompts) for _ in range(G)]  # (or a closed block: Qwen3)
        halted()
        try:
            results = score_split(score_fn or score_here, functools.partial(with_think_open, reward), texts,
                                  flat_items, opens)
        except ScoringError as e:  # a refill's inputs are counted in its own round, not from the step's first
            if rounds == 1:
                raise
            raise ScoringError(e.index, e.n, e.item, e.kind, e.message,
                               f"step {step + 1}, dynamic-sampling refill {rounds - 1}: {e.prefix}",
                               e.what).with_traceback(e.__traceback__) from e.__cause__
        for k, x in enumerate(results):  # (a score_fn's None was a bare TypeError from torch.tensor, naming nothing)
            for name in ("reward", "correct"):
                if not _is_scalar(v := getattr(x, name, None)):
                    raise PonderError(f"step {step + 1}: the score of completion {k % G + 1} of {G} of item "
                                      f"{flat_items[k].get('id')} has {name} {v!r}, not a number")
                # (a correct of 0.5 or 2 was averaged into the logged accuracy, NaN made it NaN, silently)
                if name == "correct" and float(v) not in (0.0, 1.0):
                    raise PonderError(f"step {step + 1}: the score of completion {k % G + 1} of {G} of item "
                                      f"{flat_items[k].get('id')} has correct {v!r}, not true or false (1 or 0)")
        for k, (it, group) in enumerate(zip(items, outs)):
            res = results[k * G:(k + 1) * G]
            r = torch.tensor([x.reward for x in res], dtype=torch.float32)
            c = torch.tensor([float(x.correct) for x in res])
            stats_all["groups"] += 1
            stats_all["samples"] += G
            stats_all["correct"] += float(c.sum())
            stats_all["reward"] += float(r.sum())
            stats_all["no_answer"] += sum(
                1 for x in res if any(p.get("reason") in NO_ANSWER_REASONS for p in x.parts.values()))
            stats_all["sandbox_error"] += sum(_reason_starts(r, SANDBOX_ERROR) for r in res)
            stats_all["judge_overflow"] += sum(_reason_starts(r, JUDGE_OVERFLOW) for r in res)
            stats_all["gen_tokens"] += sum(s.num_tokens for s in group)
            stats_all["truncated"] += sum(s.finish_reason == "length" for s in group)
            # no learning signal: the rewards tie as the advantage reads them, DAPO's overlong penalty included
            # (an all-wrong group whose lengths differ inside the penalty window still has non-zero advantages)
            shaped = obj.shape_rewards(r, torch.tensor([s.num_tokens for s in group]), cfg.max_new_tokens, ocfg)
            stats_all["zero_var"] += bool((shaped == shaped[0]).all())
            if curriculum is not None:
                curriculum.update(it["id"], float(c.mean()))
            # DAPO's dynamic sampling keeps a group when 0 < #correct < G (verl's filter_groups metric "acc"):
            # on correctness, not on the shaped reward, which a format bonus can vary in an all-correct group.
            if ocfg.group_filter and not bool(obj.group_filter_mask(c, G)[0]):
                continue
            kept_groups.append(group)
            kept_rewards.append(r)
    return {"stats": stats_all, "groups": kept_groups, "rewards": kept_rewards, "rounds": rounds,
            "gen_s": time.perf_counter() - t0, "version": version}


def _step(model, tok, ref, opt, cfg, ocfg, reward, pool, step, curriculum, *, ro=None, rollout=None,
          dp=None) -> dict:
    t0 = time.perf_counter()
    G, P = cfg.group_size, cfg.prompts_per_step
    if ro is None:
        ro = (rollout or functools.partial(_rollout, tok=tok, cfg=cfg, ocfg=ocfg, reward=reward, pool=pool,
                                           curriculum=curriculum))(model, step=step)
    stats_all, kept_groups, kept_rewards = ro["stats"], ro["groups"], ro["rewards"]
    rounds, gen_s = ro["rounds"], ro["gen_s"]
    n = max(1, stats_all["samples"])
    row = {"step": step + 1, "reward_mean": stats_all["reward"] / n, "accuracy": stats_all["correct"] / n,
           "response_length": stats_all["gen_tokens"] / n, "truncated_frac": stats_all["truncated"] / n,
           "no_answer_frac": stats_all["no_answer"] / n,
           # (a rollout an older ponder saved with its checkpoint did not count them)
           **({"sandbox_errors": stats_all["sandbox_error"]} if "sandbox_error" in stats_all else {}),
           **({"judge_overflow": stats_all["judge_overflow"]} if "judge_overflow" in stats_all else {}),
           "zero_var_frac": stats_all["zero_var"] / max(1, stats_all["groups"]), "gen_rounds": rounds,
           "groups_trained": len(kept_groups), "samples": stats_all["samples"], "gen_s": gen_s}
    # how many updates the weights that sampled this step are behind the learner's: 0 on-policy, 1 off-policy (after
    # the first step); not known for a rollout an older ponder saved with its checkpoint
    if "version" in ro:
        row["policy_lag"] = step - ro["version"]
    lr = cfg.lr * min(1.0, (step + 1) / max(1, cfg.warmup))
    for g in opt.param_groups:
        g["lr"] = lr
    row["lr"] = lr
    # any reward the step drew, in a group dynamic sampling dropped too (it trained on the others, its row's
    # reward_mean NaN, and the monitor's alarm said the step was skipped); the kept ones are checked below
    if not math.isfinite(stats_all["reward"]):
        row.update(skipped=True, skip_reason="non-finite reward", groups_trained=0, train_s=0.0,
                   step_s=time.perf_counter() - t0)
        return row
    if not kept_groups:  # (only a filter drops groups: on correctness, so their shaped rewards may differ)
        row.update(skipped=True, skip_reason="dynamic sampling kept no group (each was all correct or all wrong)",
                   train_s=0.0, step_s=time.perf_counter() - t0)
        return row
    kept_groups, kept_rewards = kept_groups[:P], kept_rewards[:P]
    rewards = torch.cat(kept_rewards)
    if not torch.isfinite(rewards).all():
        row.update(skipped=True, skip_reason="non-finite reward", groups_trained=0, train_s=0.0,
                   step_s=time.perf_counter() - t0)
        return row
    samples = [s for g in kept_groups for s in g]
    lengths = torch.tensor([s.num_tokens for s in samples])
    truncated = torch.tensor([s.finish_reason == "length" for s in samples])
    shaped = obj.shape_rewards(rewards, lengths, cfg.max_new_tokens, ocfg)
    # The completion frame: column t of row i is completion token t (prompts are not columns at all: each
    # distinct prompt is run once per micro-batch and shared by its rows, see shared_prefix_logprobs).
    comps = [s.token_ids for s in samples]
    owner_of = [gi for gi, g in enumerate(kept_groups) for _ in g]  # row -> its group (prompt)
    prompts = [g[0].prompt_ids for g in kept_groups]
    comp = torch.zeros((len(samples), max(map(len, comps))), dtype=torch.bool)
    for i, c in enumerate(comps):
        comp[i, : len(c)] = True
    mask = obj.loss_mask(comp, truncated, ocfg)
    # loss tokens per row: REINFORCE++'s batch statistics are over tokens (read by batch-normalised kinds only)
    adv = obj.compute_advantages(shaped, G, ocfg, lengths=mask.sum(-1))
    t1 = time.perf_counter()
    B = len(samples)
    # `minibatches` near-equal spans (the first B % k one row longer), so that the optimizer steps as often as
    # the objective says; at most one span per row (dynamic sampling can keep fewer rows than minibatches).
    k = min(ocfg.minibatches, B)
    q, extra = divmod(B, k)
    ends = [(i + 1) * q + min(i + 1, extra) for i in range(k)]
    # The rows of each minibatch this process trains on: all of them, or this rank's contiguous share.
    spans = bounds = list(zip([0, *ends[:-1]], ends))
    if dp is not None:
        spans = [dp.share(lo, hi) for lo, hi in spans]

    # Each micro-batch: (rows, its distinct prompts, each row's index into them, its completion length)
    clen = [len(c) for c in comps]
    mbs = []  # per span
    real = computed = 0
    for lo, hi in spans:
        mbs.append([])
        for rows in micro_batches(lo, hi, clen, cfg.micro_batch, cfg.micro_batch_tokens):
            groups = sorted({owner_of[r] for r in rows})
            where = {g: j for j, g in enumerate(groups)}
            mb_prompts = [prompts[g] for g in groups]
            owner = torch.tensor([where[owner_of[r]] for r in rows])
            lc = max(clen[r] for r in rows)
            mbs[-1].append((torch.tensor(rows), mb_prompts, owner, [comps[r] for r in rows], lc))
            real += sum(map(len, mb_prompts)) + sum(clen[r] for r in rows)
            computed += len(groups) * max(map(len, mb_prompts)) + len(rows) * lc
    # FSDP2: every forward/backward of the sharded model is a collective, so every rank makes as many passes
    # as the busiest one; the extra passes (None) contribute exactly zero.
    if cfg.fsdp and dp is not None:
        most = dp.reduce_ints([len(v) for v in mbs], op="max")
        mbs = [v + [None] * (n - len(v)) for v, n in zip(mbs, most)]
    if dp is not None:  # over every rank's rows
        real, computed = dp.reduce_ints([real, computed])
    # padding share of the grids attention sees (token-wise layers skip padding: model.UNPAD_BELOW)
    row["pad_frac"] = 1 - real / max(1, computed)

    def idle_pass(m):  # a forward (and backward) of one token that changes nothing: FSDP2 padding
        logp = shared_prefix_logprobs(m, [prompts[0][:1]], torch.tensor([0]), [comps[0][:1] or [0]],
                                      cfg.temperature)[0]
        if torch.is_grad_enabled():
            (logp.sum() * 0.0).backward()

    @torch.no_grad()
    def logprobs_of(m, skip_first=False):  # [B, Lc] log-probs under m on this process's rows (others: unread)
        out = torch.zeros(comp.shape)
        for v in mbs[1:] if skip_first else mbs:
            for mb in v:
                if mb is None:
                    idle_pass(m)
                    continue
                r, mb_prompts, owner, mb_comps, lc = mb
                out[r, :lc] = shared_prefix_logprobs(m, mb_prompts, owner, mb_comps, cfg.temperature)[0].cpu()
        return out

    old = None
    if cfg.off_policy:  # rollouts came from older weights: the ratio is against the sampler's log-probs
        old = behaviour_logprobs(kept_groups, comp.shape)
    elif ocfg.ratio != "none" and (ocfg.mu > 1 or ocfg.minibatches > 1):
        # behaviour policy = the weights that generated the rollouts; with one pass, the first minibatch's
        # update reads its own log-probs (`fresh` below) and never these
        old = logprobs_of(model, skip_first=ocfg.mu == 1)
    refl = logprobs_of(ref) if ref is not None else None
    parts, gnorms, ents, skipped, updates = [], [], [], None, 0
    stepped = set()  # the minibatches an optimizer step was taken on (a skipped step logs their groups only)
    for epoch in range(ocfg.mu):
        for span, ((lo, hi), span_mbs) in enumerate(zip(spans, mbs)):
            # the first update's weights ARE the behaviour policy: its own log-probs make the ratio exactly 1
            # (the separate no-grad pass agrees bit for bit on CPU, not necessarily on a GPU's kernels)
            fresh = epoch == 0 and span == 0 and not cfg.off_policy
            norms = obj.normalizers(mask[lo:hi])
            if dp is not None:  # the whole minibatch's counts: every rank's share summed
                norms = dp.sum_counts(norms)
            # The row's statistics are the updates taken's, as grad_norm's are: an update discarded below (a
            # non-finite loss or gradient) is cut back to this mark; it logged the micro-batches before the bad one.
            mark = len(parts), len(ents), updates
            # the logged loss is the mean over the updates taken: a minibatch without loss tokens takes none (below)
            # and counted, it halved a two-minibatch step's loss
            updates += int(norms["total_tokens"] > 0)
            for mb in span_mbs:
                if mb is None:
                    idle_pass(model)
                    continue
                r, mb_prompts, owner, mb_comps, lc = mb
                logp, ent = shared_prefix_logprobs(model, mb_prompts, owner, mb_comps, cfg.temperature,
                                                   with_entropy=True)
                on = logp.device  # the loss is computed where the model runs
                loss, st = obj.policy_loss(
                    logp, None if ocfg.ratio == "none" else (
                        old[r, :lc].to(on) if old is not None and not fresh else logp.detach()),
                    None if refl is None else refl[r, :lc].to(on), adv[r].to(on), mask[r, :lc].to(on), ocfg, **norms)
                if not torch.isfinite(loss):
                    skipped = "non-finite loss"
                    if not cfg.fsdp:  # (under FSDP2 the other ranks expect this rank's remaining passes)
                        break
                loss.backward()
                parts.append(st)
                m = mask[r, :lc]
                if m.any():
                    ents.append((float(ent[m].sum()), int(m.sum())))
            if dp is not None:  # a non-finite loss on any rank skips the step on all; else sum the gradients
                skipped = dp.agree(skipped)
                if not skipped and not cfg.fsdp:  # FSDP2 reduce-scattered the gradients during backward
                    dp.sync_grads(model)
            if skipped:
                break
            if norms["total_tokens"] == 0:  # every row masked (overlong_mask): no loss token on any rank, and
                opt.zero_grad(set_to_none=True)  # AdamW's momentum and decay would still move the weights
                continue
            # (bf16 gradients' norm taken in fp32: torch's was rounded to bf16, and clipped by that)
            gn = clip_grad_norm(model.parameters(), cfg.grad_clip)
            if hasattr(gn, "full_tensor"):  # FSDP2: a DTensor (already the norm over every shard)
                gn = gn.full_tensor()
            if not torch.isfinite(gn):
                skipped = "non-finite gradient"
                break
            opt.step()
            opt.zero_grad(set_to_none=True)
            gnorms.append(float(gn))
            stepped.add(span)
        if skipped:
            opt.zero_grad(set_to_none=True)
            parts, ents, updates = parts[:mark[0]], ents[:mark[1]], mark[2]
            break
    train_s = time.perf_counter() - t1
    if dp is not None:  # every rank reports the whole step's statistics
        parts, ents = dp.gather_stats(parts, ents)
    # a step that took no optimizer step (no loss token in any minibatch: every completion masked by overlong_mask)
    # logged a loss of 0.0 and the placeholder ratio 1.0 of its empty micro-batches, as if it had trained
    st = obj.merge_stats(parts) if parts and updates else {}
    if "loss" in st:  # merge_stats adds micro-batches (one update's loss); report the mean over updates
        st["loss"] /= max(1, updates)
    row.update({k: v for k, v in st.items() if k in ("loss", "clip_frac", "ratio_mean", "ratio_min", "ratio_max",
                                                    "kl_mean", "dual_clip_frac")})
    if ents:
        row["entropy"] = sum(e for e, _ in ents) / sum(c for _, c in ents)
    row.update(grad_norm=(sum(gnorms) / len(gnorms)) if gnorms else float("nan"), train_s=train_s,
               step_s=time.perf_counter() - t0, tokens_per_s=stats_all["gen_tokens"] / max(gen_s, 1e-9),
               groups_trained=len({owner_of[r] for s in stepped for r in range(*bounds[s])}))
    if skipped:
        # An update of an earlier minibatch (or pass) of this step already changed the weights: say so.
        done = f" after {len(gnorms)} of {ocfg.mu * len(spans)} optimizer updates" if gnorms else ""
        row.update(skipped=True, skip_reason=skipped + done, updates_applied=len(gnorms))
    return row


def config_from_args(**kw) -> GRPOConfig:
    valid = {f.name for f in fields(GRPOConfig)}
    bad = [k for k in kw if k not in valid]
    if bad:
        raise PonderError(f"unknown GRPO setting(s) {bad}; valid: {', '.join(sorted(valid))}")
    return GRPOConfig(**kw)
