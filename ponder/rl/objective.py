"""The GRPO-family policy objective as a composition of named parts.

Every algorithm here (GRPO, Dr. GRPO, DAPO, GSPO, RLOO, nanochat-style REINFORCE) is one choice per part:

    advantage    how a completion's scalar reward becomes its advantage Â_i
    ratio        token-level importance ratio, sequence-level (GSPO), or none (on-policy REINFORCE)
    clip         symmetric ε, clip-higher (ε_low < ε_high), dual-clip, or none
    aggregation  how per-token losses become one number (the part that decides length bias)
    kl           k1 / k3 estimator of KL(π_θ‖π_ref) added per token with coefficient β, or off
    data parts   group filter (dynamic sampling), overlong masking / soft penalty, μ passes, minibatches

`preset(name)` expands a paper's algorithm to exact settings; `explain(cfg)` prints the formula.

Exactness under gradient accumulation. The divisor of every aggregation is a count over the whole
optimizer-step batch (valid tokens, or sequences), never over the micro-batch in hand. The trainer computes
`normalizers(mask)` once per optimizer step (summing the counts over data-parallel ranks if any) and passes
them to every `policy_loss` call; each call returns that micro-batch's *share* of the step loss, so the plain
sum of micro-batch losses equals the whole-batch loss and their accumulated gradients equal its gradient.
A sequence is never split across micro-batches, which is what lets the sequence-level parts (GSPO's ratio,
seq-mean-token-mean) be computed locally.

Shapes: logp, old_logp, ref_logp, mask are [B, T] over completion tokens (mask true on real completion
tokens, false on padding and prompt); advantages [B]. Values at masked positions are never read, so padding
may hold anything, including inf or NaN.
"""

from __future__ import annotations

import math
import random
import textwrap
from dataclasses import asdict, dataclass, field, fields, replace

import torch
from torch import Tensor

from ..errors import PonderError

ADVANTAGES = {
    "group_mean_std": "(R_i − mean_g R) / (std_g R + 1e-6)",
    "group_mean": "R_i − mean_g R",
    "rloo": "R_i − (1/(G−1)) Σ_{j≠i, j∈g} R_j",
    "batch_norm": "(R_i − mean_B R) / (std_B R + 1e-6),  mean/std over the batch's loss tokens",
    "group_mean_batch_std": "(Ã_i − mean_B Ã) / (std_B Ã + 1e-6),  Ã_i = R_i − mean_g R, batch stats over tokens",
}
RATIOS = ("token", "sequence", "none")
CLIPS = ("symmetric", "clip_higher", "dual", "none")
AGGREGATIONS = ("seq_mean_token_mean", "token_mean", "seq_mean_token_sum", "seq_mean_token_sum_norm")
KLS = ("off", "k1", "k3")

# Added to a standard deviation before dividing, as verl does; groups (or batches) whose rewards are all
# equal get advantage exactly 0 by an explicit test instead, so the epsilon only matters for tiny spreads.
STD_EPS = 1e-6

CITATIONS = {
    "ppo": 'Schulman et al. 2017, "Proximal Policy Optimization Algorithms", arXiv:1707.06347',
    "grpo": 'Shao et al. 2024, "DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open '
    'Language Models", arXiv:2402.03300',
    "dr_grpo": 'Liu et al. 2025, "Understanding R1-Zero-Like Training: A Critical Perspective", '
    "arXiv:2503.20783",
    "dapo": 'Yu et al. 2025, "DAPO: An Open-Source LLM Reinforcement Learning System at Scale", '
    "arXiv:2503.14476",
    "gspo": 'Zheng et al. 2025, "Group Sequence Policy Optimization", arXiv:2507.18071',
    "rloo": 'Ahmadian et al. 2024, "Back to Basics: Revisiting REINFORCE Style Optimization for Learning '
    'from Human Feedback in LLMs", arXiv:2402.14740 (leave-one-out baseline: Kool et al. 2019, "Buy 4 '
    'REINFORCE Samples, Get a Baseline for Free!")',
    "reinforce_pp": 'Hu et al. 2025, "REINFORCE++: Stabilizing Critic-Free Policy Optimization with Global '
    'Advantage Normalization", arXiv:2501.03262',
    "dual_clip": 'Ye et al. 2020, "Mastering Complex Control in MOBA Games with Deep Reinforcement '
    'Learning", AAAI 2020, arXiv:1912.09729',
    "k3": 'Schulman 2020, "Approximating KL Divergence", http://joschu.net/blog/kl-approx.html',
    "reinforce": 'Williams 1992, "Simple Statistical Gradient-Following Algorithms for Connectionist '
    'Reinforcement Learning"; Karpathy 2025, nanochat scripts/chat_rl.py',
}


@dataclass
class ObjectiveConfig:
    advantage: str = "group_mean_std"  # group_mean_std | group_mean | rloo | batch_norm | group_mean_batch_std
    ratio: str = "token"  # token | sequence | none
    clip: str = "symmetric"  # symmetric | clip_higher | dual | none
    eps_low: float = 0.2
    eps_high: float = 0.2
    dual_clip_c: float = 3.0  # used by clip="dual" only
    aggregation: str = "seq_mean_token_mean"  # | token_mean | seq_mean_token_sum | seq_mean_token_sum_norm
    kl: str = "off"  # off | k1 | k3
    beta: float = 0.0
    group_filter: bool = False  # drop groups all correct or all wrong (DAPO dynamic sampling; trainer refills)
    overlong_mask: bool = False  # truncated completions get loss mask 0
    overlong_penalty: bool = False  # DAPO soft overlong punishment added to the reward
    overlong_cache: int | None = 0  # L_cache, the penalty ramp; None: bind() sets max_new_tokens // 5 (DAPO's ratio)
    mu: int = 1  # optimisation passes over each batch of rollouts
    minibatches: int = 1  # optimizer steps per pass (each a minibatch of the rollout batch)
    max_len_norm: int | None = None  # Dr. GRPO's constant; bind() sets it to max_new_tokens

    def __post_init__(self):
        _check_choice("advantage", self.advantage, tuple(ADVANTAGES))
        _check_choice("ratio", self.ratio, RATIOS)
        _check_choice("clip", self.clip, CLIPS)
        _check_choice("aggregation", self.aggregation, AGGREGATIONS)
        _check_choice("kl", self.kl, KLS)
        for name in ("eps_low", "eps_high", "dual_clip_c", "beta"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise PonderError(f"objective: {name}={value!r} must be a finite number")
            if value < 0:
                raise PonderError(f"objective: {name}={value} must be >= 0")
        for name in ("group_filter", "overlong_mask", "overlong_penalty"):
            if not isinstance(getattr(self, name), bool):
                raise PonderError(f"objective: {name}={getattr(self, name)!r} must be true or false")
        for name, low in (("mu", 1), ("minibatches", 1), ("overlong_cache", 0)):
            value = getattr(self, name)
            if name == "overlong_cache" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise PonderError(f"objective: {name}={value!r} must be an integer >= {low}")
        if self.max_len_norm is not None and (
            isinstance(self.max_len_norm, bool) or not isinstance(self.max_len_norm, int) or self.max_len_norm < 1
        ):
            raise PonderError(f"objective: max_len_norm={self.max_len_norm!r} must be a positive integer")

        # Contradictions: settings that would silently do something other than what was asked.
        if self.clip != "none":
            if self.ratio == "none":
                raise PonderError(f"objective: clip={self.clip} needs an importance ratio, but ratio=none")
            if self.eps_low <= 0 or self.eps_high <= 0:
                raise PonderError(
                    f"objective: clip={self.clip} needs eps_low, eps_high > 0 "
                    f"(got {self.eps_low}, {self.eps_high}); use clip=none for an unclipped ratio"
                )
            if self.eps_low >= 1:
                raise PonderError(f"objective: eps_low={self.eps_low} must be < 1 (the lower bound 1-eps_low > 0)")
        if self.clip == "symmetric" and self.eps_low != self.eps_high:
            # (one ε changed, as TRL's epsilon or verl's clip_ratio set both, was pointed at clip_higher only)
            raise PonderError(
                f"objective: clip=symmetric but eps_low={self.eps_low} != eps_high={self.eps_high}; "
                "give both the same value, or use clip=clip_higher for asymmetric ranges"
            )
        if self.clip == "clip_higher" and not self.eps_high > self.eps_low:
            raise PonderError(
                f"objective: clip=clip_higher needs eps_high > eps_low (got {self.eps_high} <= {self.eps_low})"
            )
        if self.clip == "dual" and self.dual_clip_c <= 1:
            raise PonderError(f"objective: dual_clip_c={self.dual_clip_c} must be > 1 (Ye et al. 2020)")
        if self.ratio == "none" and (self.mu != 1 or self.minibatches != 1):
            # Without a ratio the loss is only correct while the policy equals the behaviour policy, i.e.
            # for the first and only optimizer step on each rollout batch.
            raise PonderError(
                f"objective: ratio=none is on-policy only, so mu and minibatches must be 1 "
                f"(got mu={self.mu}, minibatches={self.minibatches})"
            )
        if self.kl == "off" and self.beta != 0:
            raise PonderError(f"objective: beta={self.beta} but kl=off; set kl=k1|k3 or beta=0")
        if self.kl != "off" and self.beta <= 0:
            raise PonderError(f"objective: kl={self.kl} needs beta > 0 (got {self.beta}); or set kl=off")
        if self.overlong_penalty and self.overlong_cache is not None and self.overlong_cache < 1:
            raise PonderError(
                "objective: overlong_penalty needs overlong_cache >= 1 (the L_cache ramp length), or None for "
                "max_new_tokens // 5"
            )


def _check_choice(part: str, value, valid) -> None:
    if value not in valid:
        # (kl=0.1, verl's kl_coef or TRL's beta by habit: the number belongs to beta, kl names the estimator)
        coef = part == "kl" and _number(value)
        raise PonderError(f"objective: unknown {part} {value!r}; valid: {', '.join(valid)}"
                          + (f" (the KL coefficient is beta: beta={value})" if coef else ""))


def _number(value) -> bool:
    """A number, or text that reads as one (--set kl=0.1 reaches the objective as typed)."""
    if isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------------------------- presets

_BOUND = ("max_len_norm", "overlong_cache")  # fields bind() fills from max_new_tokens when None

# Each preset lists every field, so a preset never changes when a dataclass default does.
_BASE = dict(
    eps_low=0.2, eps_high=0.2, dual_clip_c=3.0, kl="off", beta=0.0, group_filter=False, overlong_mask=False,
    overlong_penalty=False, overlong_cache=0, mu=1, minibatches=1, max_len_norm=None,
)
PRESETS: dict[str, dict] = {
    "grpo": dict(
        config=dict(_BASE, advantage="group_mean_std", ratio="token", clip="symmetric",
                    aggregation="seq_mean_token_mean", kl="k3", beta=0.04),
        cite=("grpo", "ppo", "k3"),
        notes="β=0.04 and one policy update per exploration stage (μ=1) are DeepSeekMath's settings; "
        "ε=0.2 is PPO's customary range (DeepSeekMath does not print ε). std is the Bessel-corrected "
        "sample std, as in verl/TRL.",
    ),
    "dr_grpo": dict(
        config=dict(_BASE, advantage="group_mean", ratio="token", clip="symmetric",
                    aggregation="seq_mean_token_sum_norm"),
        cite=("dr_grpo", "ppo"),
        notes="Removes GRPO's two biases: no std division, and the per-sequence 1/|o_i| replaced by one "
        "constant, the number of sequences (masked ones too) × max_len_norm (the paper's code divides each "
        "sequence's token sum by generate_max_length, then averages over the batch); bind() sets max_len_norm = "
        "max_new_tokens. β=0 as in the paper's released scripts (--beta 0), one PPO epoch.",
    ),
    "dapo": dict(
        config=dict(_BASE, advantage="group_mean_std", ratio="token", clip="clip_higher", eps_low=0.2,
                    eps_high=0.28, aggregation="token_mean", group_filter=True, overlong_penalty=True,
                    overlong_cache=None, minibatches=16),
        cite=("dapo", "grpo"),
        notes="Clip-Higher ε_low=0.2/ε_high=0.28, token-level loss over the minibatch's tokens (the paper prints "
        "1/Σ_i|o_i| over one question's G outputs inside the expectation over questions; its verl code, "
        "loss_agg_mode=token-mean, averages over the tokens of the batch it is given; here over every token of "
        "the optimizer minibatch, across micro-batches and ranks), no KL, dynamic "
        "sampling (drop groups whose accuracy is all 0 or all 1, judged on correctness, not the shaped "
        "reward), soft overlong punishment with L_cache = max_new_tokens // 5, the paper's proportion "
        "(L_cache 4096 of a 20480-token budget, which this reproduces exactly at max_new_tokens=20480). "
        "minibatches=16: the paper's 16 gradient updates per rollout step (512 prompts × 16 samples, "
        "minibatch 512). The paper's overlong *filtering* (overlong_mask) was an intermediate step, off here."
        " DAPO's correctness reward is +1/-1, Ponder's verifiers score 1/0: the same penalty (0 to -1) then "
        "weighs twice as much against correctness (a right answer at the limit ties a wrong short one); "
        "advantages ignore a shift, so --reward 2*math gives DAPO's exactly.",
    ),
    "gspo": dict(
        config=dict(_BASE, advantage="group_mean_std", ratio="sequence", clip="clip_higher", eps_low=3e-4,
                    eps_high=4e-4, aggregation="seq_mean_token_mean", minibatches=4),
        cite=("gspo", "grpo"),
        notes="Length-normalised sequence ratio s_i = exp(mean_t log(π_θ/π_old)), clip ranges 3e-4/4e-4, "
        "implemented in the GSPO-token form s_i,t = sg[s_i]·π_θ(o_i,t)/sg[π_θ(o_i,t)], which with one "
        "advantage per sequence and seq_mean_token_mean equals sequence-level GSPO in value and gradient. "
        "The paper writes the objective without a KL term (off here); each rollout batch is split into 4 "
        "minibatches as in its experiments.",
    ),
    "rloo": dict(
        config=dict(_BASE, advantage="rloo", ratio="none", clip="none", aggregation="seq_mean_token_sum"),
        cite=("rloo", "reinforce"),
        notes="On-policy REINFORCE with the leave-one-out baseline; the whole completion is one action, so "
        "token log-probs are summed (seq_mean_token_sum): ∇ = (1/k) Σ_i (R_i − mean_{j≠i} R_j) ∇log π(o_i|q). "
        "No ratio, no clipping, μ=1 (enforced). The paper folds a sequence-level KL penalty into the reward "
        "(R = r − β·Σ_t log(π_old/π_ref)); Ponder has no KL-in-reward option and the trainer adds none, so "
        "this preset trains without a KL term (kl off, as is usual with verifiable rewards).",
    ),
    "reinforce": dict(
        config=dict(_BASE, advantage="group_mean", ratio="none", clip="none", aggregation="token_mean"),
        cite=("reinforce",),
        notes="What nanochat's chat_rl.py calls GRPO: advantage R_i − mean of the samples of the same prompt, "
        "loss −Σ Â·log π / #valid tokens, no ratio, no clip, no KL, on-policy. nanochat divides by the valid "
        "tokens of each device micro-batch (× passes × examples), which depends on how the batch is split; "
        "here the divisor is the whole step's valid tokens (DAPO's token-mean), so accumulation is exact.",
    ),
}


def preset(name: str, **overrides) -> ObjectiveConfig:
    """The exact settings of a published algorithm, optionally with some fields overridden."""
    if name not in PRESETS:
        raise PonderError(f"objective: unknown preset {name!r}; valid: {', '.join(PRESETS)}")
    valid = [f.name for f in fields(ObjectiveConfig)]
    for key in overrides:
        if key not in valid:
            raise PonderError(f"objective: unknown setting {key!r}; valid: {', '.join(valid)}")
    return ObjectiveConfig(**{**PRESETS[name]["config"], **overrides})


def bind(cfg: ObjectiveConfig, max_new_tokens: int) -> ObjectiveConfig:
    """Fill the settings that depend on the generation budget; the trainer calls this once.

    Dr. GRPO's constant defaults to max_new_tokens; the overlong ramp must fit inside the budget.
    """
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise PonderError(f"objective: max_new_tokens={max_new_tokens!r} must be a positive integer")
    if cfg.overlong_cache is None:
        # DAPO: 4096 cache tokens of a 20480-token budget. A fixed 4096 would not fit Ponder's short budgets.
        cfg = replace(cfg, overlong_cache=max(1, max_new_tokens // 5))
    if cfg.overlong_penalty and cfg.overlong_cache > max_new_tokens:
        raise PonderError(
            f"objective: overlong_cache={cfg.overlong_cache} exceeds max_new_tokens={max_new_tokens}; "
            f"set overlong_cache <= {max_new_tokens} (DAPO used 4096 of 20480, i.e. 20%)"
        )
    if cfg.max_len_norm is None:
        cfg = replace(cfg, max_len_norm=max_new_tokens)
    return cfg


# ------------------------------------------------------------------------------------- rewards → advantages


def _check_rewards(rewards: Tensor, what: str = "reward") -> Tensor:
    if not isinstance(rewards, Tensor) or rewards.dim() != 1:
        shape = tuple(rewards.shape) if isinstance(rewards, Tensor) else type(rewards).__name__
        raise PonderError(f"objective: {what}s must be a 1-D tensor, got {shape}")
    bad = (~torch.isfinite(rewards.double())).nonzero()
    if len(bad):
        i = int(bad[0])
        raise PonderError(
            f"objective: non-finite {what} at index {i} (value {rewards[i].item()}); "
            f"{len(bad)} of {len(rewards)} non-finite"
        )
    return rewards.double()


def _groups(rewards: Tensor, group_size: int) -> Tensor:
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 2:
        raise PonderError(f"objective: group_size={group_size!r} must be an integer >= 2 for a group baseline")
    if len(rewards) % group_size:
        raise PonderError(
            f"objective: {len(rewards)} rewards is not a multiple of group_size={group_size} "
            "(rewards must be laid out group after group)"
        )
    return rewards.view(-1, group_size)


def _standardise(x: Tensor) -> Tensor:
    """(x − mean) / (std + eps) along the last dim; rows whose values are all equal give exactly 0."""
    centred = x - x.mean(-1, keepdim=True)
    out = centred / (x.std(-1, keepdim=True) + STD_EPS)  # Bessel-corrected std (torch default, as verl/TRL)
    constant = x.amax(-1, keepdim=True) == x.amin(-1, keepdim=True)
    return torch.where(constant, torch.zeros_like(out), out)


def _standardise_tokens(x: Tensor, weight: Tensor) -> Tensor:
    """(x − mean) / (std + eps) over a batch in which completion i stands for weight[i] tokens that share
    its value: the mean and Bessel-corrected std of the token-level advantages (REINFORCE++ Eq. 10). With
    every weight 1 this is `_standardise`. Completions with weight 0 (no loss token) do not enter the
    statistics; all live tokens equal, or fewer than 2 of them, gives exactly 0."""
    n = weight.sum()
    live = weight > 0
    if n < 2 or x[live].amax() == x[live].amin():
        return torch.zeros_like(x)
    mean = (weight * x).sum() / n
    std = ((weight * (x - mean) ** 2).sum() / (n - 1)).sqrt()
    return (x - mean) / (std + STD_EPS)


def _check_lengths(lengths, n: int) -> Tensor:
    if not isinstance(lengths, Tensor) or tuple(lengths.shape) != (n,):
        shape = tuple(lengths.shape) if isinstance(lengths, Tensor) else type(lengths).__name__
        raise PonderError(f"objective: lengths must be a 1-D tensor of {n} token counts, got {shape}")
    w = lengths.double()
    if not torch.isfinite(w).all() or (w < 0).any():
        raise PonderError("objective: lengths must be finite token counts >= 0")
    return w


def compute_advantages(rewards: Tensor, group_size: int, cfg: ObjectiveConfig,
                       lengths: Tensor | None = None) -> Tensor:
    """One advantage per completion from one scalar reward per completion.

    rewards: [num_groups × G], the G completions of each prompt contiguous. Computed in float64, returned as
    float32 (float64 if rewards are float64). A non-finite reward raises PonderError: the trainer should skip
    the step and raise an alarm rather than train on it.

    lengths: each completion's number of loss tokens (the trainer passes them). Only the batch-normalised
    advantages (batch_norm, group_mean_batch_std) read them: REINFORCE++ normalises the *token-level*
    advantages over the batch, so a completion counts once per token. Left None, every completion counts once.
    """
    r = _check_rewards(rewards)
    out_dtype = torch.float64 if rewards.dtype == torch.float64 else torch.float32
    kind = cfg.advantage
    weight = None
    if lengths is not None and kind in ("batch_norm", "group_mean_batch_std"):
        weight = _check_lengths(lengths, len(r))
    if kind == "batch_norm":
        # REINFORCE++ (Hu et al. 2025, arXiv:2501.03262, Eq. 10): A_norm = (A − mean_{D_batch} A) / std_{D_batch} A
        # over the token-level advantages of the global batch, no per-prompt baseline; OpenRLHF computes the
        # same statistics as masked means over all action tokens. With one outcome reward per completion and
        # KL kept out of the reward, every token of a completion shares its value, so the token statistics
        # are the completion statistics weighted by length (`lengths`).
        if len(r) < 2:
            raise PonderError("objective: batch_norm advantage needs at least 2 rewards in the batch")
        return (_standardise(r) if weight is None else _standardise_tokens(r, weight)).to(out_dtype)
    g = _groups(r, group_size)
    # A group whose rewards tie gets exactly 0, as _standardise gives: a float64 group's mean can round one ulp
    # off its rewards (0.1 three times), and a tiny non-zero Â is not the constant loss Â = 0 is (policy_loss).
    tie = g.amax(-1, keepdim=True) == g.amin(-1, keepdim=True)
    if kind == "group_mean_std":
        adv = _standardise(g)
    elif kind == "group_mean":
        adv = torch.where(tie, 0.0, g - g.mean(-1, keepdim=True))
    elif kind == "rloo":
        # Baseline = mean of the other G−1 rewards of the group.
        adv = torch.where(tie, 0.0, g - (g.sum(-1, keepdim=True) - g) / (group_size - 1))
    else:  # group_mean_batch_std: REINFORCE++ with baseline (k > 1 samples per prompt), batch stats as above
        centred = torch.where(tie, 0.0, g - g.mean(-1, keepdim=True)).reshape(-1)
        return (_standardise(centred) if weight is None else _standardise_tokens(centred, weight)).to(out_dtype)
    return adv.reshape(-1).to(out_dtype)


def group_filter_mask(rewards: Tensor, group_size: int) -> Tensor:
    """DAPO dynamic sampling: True for every completion of a group whose values are not all equal.

    DAPO passes correctness (keep 0 < #correct < G, as the trainer does): a group all right or all wrong has
    zero advantage under an accuracy reward and only dilutes the batch; the trainer drops such groups and
    samples more prompts until the batch is full.
    """
    g = _groups(_check_rewards(rewards), group_size)
    keep = g.amax(-1) != g.amin(-1)
    return keep.repeat_interleave(group_size)


def overlong_penalty(lengths: Tensor, max_len: int, cache_len: int) -> Tensor:
    """DAPO's soft overlong punishment R_length(|y|), added to the reward:

    0 if |y| <= L_max − L_cache;  ((L_max − L_cache) − |y|) / L_cache within the last L_cache tokens;
    −1 if |y| > L_max.  With generation capped at L_max, a truncated completion gets −1.
    """
    if not (isinstance(cache_len, int) and isinstance(max_len, int) and 0 < cache_len <= max_len):
        raise PonderError(
            f"objective: overlong penalty needs 0 < cache_len <= max_len (got cache_len={cache_len}, "
            f"max_len={max_len})"
        )
    length = torch.as_tensor(lengths).double()
    if not torch.isfinite(length).all() or (length < 0).any():  # (a negative length scored as a short completion)
        raise PonderError("objective: lengths must be finite token counts >= 0")
    expected = max_len - cache_len
    ramp = (expected - length) / cache_len
    pen = torch.where(length <= expected, torch.zeros_like(length), ramp)
    return torch.where(length > max_len, torch.full_like(length, -1.0), pen).float()


def shape_rewards(rewards: Tensor, lengths: Tensor, max_len: int, cfg: ObjectiveConfig) -> Tensor:
    """Rewards with the overlong penalty added when cfg.overlong_penalty is on (unchanged otherwise)."""
    if not cfg.overlong_penalty:
        return rewards
    if not isinstance(rewards, Tensor):  # (a list was an AttributeError from is_floating_point)
        raise PonderError(f"objective: rewards must be a 1-D tensor, got {type(rewards).__name__}")
    if cfg.overlong_cache is None:
        raise PonderError("objective: overlong_cache is unset; call bind(cfg, max_new_tokens) first")
    if not rewards.is_floating_point():  # 0/1 correctness as int or bool: the ramp's fractions would truncate
        rewards = rewards.float()
    if rewards.dim() != 1:
        raise PonderError(f"objective: rewards must be a 1-D tensor, got {tuple(rewards.shape)}")
    _check_lengths(lengths, len(rewards))  # (one length of another count broadcast over every reward)
    return rewards + overlong_penalty(lengths, max_len, cfg.overlong_cache).to(rewards.dtype)


def loss_mask(mask: Tensor, truncated: Tensor, cfg: ObjectiveConfig) -> Tensor:
    """The loss mask with truncated completions zeroed when cfg.overlong_mask is on (DAPO overlong filtering)."""
    _check_mask(mask)
    mask = mask.bool()
    if not cfg.overlong_mask:
        return mask
    if not isinstance(truncated, Tensor) or tuple(truncated.shape) != (mask.shape[0],):
        # (one flag broadcast over every row: a single truncated completion masked the whole batch)
        got = tuple(truncated.shape) if isinstance(truncated, Tensor) else type(truncated).__name__
        raise PonderError(f"objective: truncated must be a 1-D tensor of {mask.shape[0]} flags (one per row of "
                          f"mask), got {got}")
    return mask & ~truncated.bool().view(-1, 1)


# ------------------------------------------------------------------------------------------------ the loss


def normalizers(mask: Tensor) -> dict[str, int]:
    """The divisors of one optimizer step, from the loss mask of the step's whole batch.

    total_tokens: valid completion tokens; total_seqs: sequences with at least one valid token (a
    sequence with none has no mean, so it counts nowhere); total_rows: every sequence, masked or not (Dr.
    GRPO's constant counts them all: it must not depend on which completions were masked). All are counts,
    hence additive: over several data-parallel ranks, all-reduce their SUM and pass the sums.
    """
    _check_mask(mask)
    m = mask.bool()
    return {"total_tokens": int(m.sum()), "total_seqs": int(m.any(-1).sum()), "total_rows": int(m.shape[0])}


def _check_mask(mask) -> None:
    # (one row's 1-D mask counted its tokens as rows, and a list was an AttributeError)
    if not isinstance(mask, Tensor) or mask.dim() != 2:
        got = tuple(mask.shape) if isinstance(mask, Tensor) else type(mask).__name__
        raise PonderError(f"objective: mask must be a [B, T] tensor, got {got}")


def _divisor(cfg: ObjectiveConfig, total_tokens: int, total_seqs: int, total_rows: int) -> float:
    if cfg.aggregation == "token_mean":
        return max(total_tokens, 1)
    if cfg.aggregation == "seq_mean_token_sum_norm":
        if cfg.max_len_norm is None:
            raise PonderError(
                "objective: aggregation seq_mean_token_sum_norm needs max_len_norm; call "
                "bind(cfg, max_new_tokens) or set max_len_norm"
            )
        return max(total_rows, 1) * cfg.max_len_norm
    return max(total_seqs, 1)


def _aggregate(tok: Tensor, mf: Tensor, cfg: ObjectiveConfig, divisor: float) -> Tensor:
    """Sum-contribution of this micro-batch to the step loss; tok is already zero at masked positions."""
    if cfg.aggregation == "seq_mean_token_mean":
        return (tok.sum(-1) / mf.sum(-1).clamp(min=1)).sum() / divisor
    return tok.sum() / divisor


def _check_bt(name: str, x, shape) -> None:
    if not isinstance(x, Tensor) or tuple(x.shape) != tuple(shape):
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise PonderError(f"objective: {name} must have shape {tuple(shape)} like mask, got {got}")


def policy_loss(
    logp: Tensor,
    old_logp: Tensor | None,
    ref_logp: Tensor | None,
    advantages: Tensor,
    mask: Tensor,
    cfg: ObjectiveConfig,
    *,
    total_tokens: int | None = None,
    total_seqs: int | None = None,
    total_rows: int | None = None,
) -> tuple[Tensor, dict]:
    """This micro-batch's share of the step loss (to minimise), and detached statistics.

    logp carries the gradient; old_logp (behaviour policy, needed unless ratio=none), ref_logp (needed when
    kl is on) and advantages are treated as constants. total_tokens / total_seqs / total_rows are the step's
    `normalizers`; left None they are taken from this call's mask, which is right only when this call sees
    the whole optimizer-step batch. Computed in float32 whatever logp's dtype.
    """
    _check_mask(mask)
    shape = mask.shape
    _check_bt("logp", logp, shape)
    if cfg.ratio != "none":
        if old_logp is None:
            raise PonderError(f"objective: ratio={cfg.ratio} needs old_logp (behaviour-policy log-probs)")
        _check_bt("old_logp", old_logp, shape)
    if cfg.kl != "off":
        if ref_logp is None:
            raise PonderError(f"objective: kl={cfg.kl} needs ref_logp (reference-model log-probs)")
        _check_bt("ref_logp", ref_logp, shape)
    if not isinstance(advantages, Tensor) or tuple(advantages.shape) != (shape[0],):
        got = tuple(advantages.shape) if isinstance(advantages, Tensor) else type(advantages).__name__
        raise PonderError(f"objective: advantages must have shape ({shape[0]},), got {got}")

    m = mask.bool()
    mf = m.float()
    local = normalizers(m)
    total_tokens = local["total_tokens"] if total_tokens is None else int(total_tokens)
    total_seqs = local["total_seqs"] if total_seqs is None else int(total_seqs)
    total_rows = local["total_rows"] if total_rows is None else int(total_rows)
    if total_tokens < local["total_tokens"] or total_seqs < local["total_seqs"] or total_rows < local["total_rows"]:
        raise PonderError(
            f"objective: step normalizers (tokens={total_tokens}, seqs={total_seqs}, rows={total_rows}) are "
            f"smaller than this micro-batch's own counts ({local['total_tokens']}, {local['total_seqs']}, "
            f"{local['total_rows']}); pass normalizers(mask of the whole optimizer-step batch)"
        )
    divisor = _divisor(cfg, total_tokens, total_seqs, total_rows)

    zero = torch.zeros((), dtype=torch.float32, device=logp.device)
    # Masked positions are replaced *before* any arithmetic, so garbage there cannot reach the loss or, via
    # 0·inf in the backward pass, the gradient.
    lp = torch.where(m, logp.float(), zero)
    adv = advantages.detach().float().view(-1, 1)

    if cfg.ratio == "none":
        ratio = None
        pg = -adv * lp  # REINFORCE: on-policy, the gradient is −Â ∇log π
    else:
        old = torch.where(m, old_logp.detach().float(), zero)
        log_ratio = lp - old
        if cfg.ratio == "sequence":
            # GSPO-token: value s_i = exp(mean_t log ratio) on every token, gradient s_i·∇log π_θ(o_i,t).
            seq = log_ratio.sum(-1) / mf.sum(-1).clamp(min=1)
            log_ratio = seq.detach().view(-1, 1) + lp - lp.detach()
        # Where the objective does not depend on r (Â = 0; Â > 0 above 1+ε_high; dual-clip Â < 0 above c)
        # the token's loss is a constant with no gradient, but exp of a log-ratio above ~88 is inf in
        # float32, and inf·0 made the loss (Â = 0) or exp's backward NaN: one far-off-policy token cost the
        # whole step. There r enters only by its (finite) value, off the gradient path, as padding does above.
        r_val = torch.exp(log_ratio.detach())
        flat = (adv == 0).expand_as(r_val)
        if cfg.clip != "none":
            flat = flat | ((adv > 0) & (r_val > 1 + cfg.eps_high))
            if cfg.clip == "dual":
                flat = flat | ((adv < 0) & (r_val > cfg.dual_clip_c))
        live = torch.exp(torch.where(flat, zero, log_ratio))
        ratio = torch.where(flat, r_val.clamp(max=torch.finfo(torch.float32).max), live)
        pg = -adv * ratio
        if cfg.clip != "none":
            clipped = ratio.clamp(1 - cfg.eps_low, 1 + cfg.eps_high)
            pg = torch.maximum(pg, -adv * clipped)  # = −min(r·Â, clip(r)·Â), the pessimistic bound
            if cfg.clip == "dual":
                # For Â < 0 the clipped loss −r·Â grows without bound in r; cap it at −c·Â.
                pg = torch.where(adv < 0, torch.minimum(pg, -adv * cfg.dual_clip_c), pg)

    if cfg.kl == "off":
        kl_tok = None
        tok = pg
    else:
        ref = torch.where(m, ref_logp.detach().float(), zero)
        if cfg.kl == "k1":
            kl_tok = lp - ref
        else:  # k3 = π_ref/π_θ − log(π_ref/π_θ) − 1  (≥ 0, unbiased for KL(π_θ‖π_ref) on samples from π_θ)
            # the log-ratio capped at 20 as verl's low_var_kl does: one token the policy has all but ruled out
            # (lp = -100, the reference's -1) made exp(d) inf, the loss inf and every gradient NaN. Below, exp(d) only
            # underflows to 0, so d is left as it is: verl's floor at -20 (and its cap of the estimate at 10) zeroed
            # the KL pull, gradient 1 - e^d ≈ 1, on exactly the tokens the policy made e^20 times likelier than π_ref
            # (TRL and DeepSeekMath's k3 have neither)
            d = (ref - lp).clamp(max=20.0)
            kl_tok = torch.expm1(d) - d  # exp(d) - 1 - d cancels to 0 in float32 for |d| < ~1e-4, the on-policy case
        tok = pg + cfg.beta * kl_tok
    tok = torch.where(m, tok, zero)
    loss = _aggregate(tok, mf, cfg, divisor)

    with torch.no_grad():
        n = local["total_tokens"]
        stats = {
            "loss": float(loss),
            "pg_loss": float(_aggregate(torch.where(m, pg, zero), mf, cfg, divisor)),
            "tokens": n,
            "seqs": local["total_seqs"],
        }
        if ratio is not None:
            r = r_val[m]  # the true ratios (inf where one overflowed), not the values the loss needed
            a = adv.expand_as(ratio)[m]
            stats["ratio_mean"] = float(r.mean()) if n else 1.0
            stats["ratio_min"] = float(r.min()) if n else 1.0
            stats["ratio_max"] = float(r.max()) if n else 1.0
            if cfg.clip != "none":
                # Tokens whose gradient the clip removed (the pessimistic branch is the clipped constant).
                hi = (a > 0) & (r > 1 + cfg.eps_high)
                lo = (a < 0) & (r < 1 - cfg.eps_low)
                stats["clip_frac"] = float((hi | lo).float().mean()) if n else 0.0
                if cfg.clip == "dual":
                    stats["dual_clip_frac"] = float(((a < 0) & (r > cfg.dual_clip_c)).float().mean()) if n else 0.0
        if kl_tok is not None:
            stats["kl_mean"] = float(kl_tok[m].mean()) if n else 0.0
            stats["kl_loss"] = float(_aggregate(torch.where(m, cfg.beta * kl_tok, zero), mf, cfg, divisor))
    return loss, stats


def merge_stats(parts: list[dict]) -> dict:
    """Combine the stats of the micro-batches (or ranks) of one step: losses and counts add, means are
    weighted by tokens, min/max are taken over all."""
    if not parts:
        return {}
    out: dict = {}
    tokens = sum(p["tokens"] for p in parts)
    # A part without loss tokens (a micro-batch of fully masked rows: overlong_mask, a rank's empty share)
    # reports placeholder extremes (ratio 1.0) that no token has; they must not enter the min/max.
    live = [p for p in parts if p["tokens"]] or parts
    for key in parts[0]:
        values = [p[key] for p in parts]
        if key.endswith("_min"):
            out[key] = min(p[key] for p in live)
        elif key.endswith("_max"):
            out[key] = max(p[key] for p in live)
        elif key.endswith("_mean") or key.endswith("_frac"):
            out[key] = sum(v * p["tokens"] for v, p in zip(values, parts)) / tokens if tokens else values[0]
        else:
            out[key] = sum(values)
    return out


# ------------------------------------------------------------------------------------------------ explain


def _formula(cfg: ObjectiveConfig) -> tuple[list[str], list[str]]:
    lines: list[str] = []
    cites: list[str] = []

    agg = {
        "seq_mean_token_mean": ("L(θ) = 1/|S| · Σ_{i∈S} 1/|o_i| · Σ_t ℓ_i,t",
                                "seq-mean-token-mean (GRPO): S = sequences of the step with >= 1 loss token",
                                "grpo"),
        "token_mean": ("L(θ) = 1/N · Σ_i Σ_t ℓ_i,t",
                       "token-mean (DAPO): N = loss tokens in the whole optimizer-step batch", "dapo"),
        "seq_mean_token_sum": ("L(θ) = 1/|S| · Σ_{i∈S} Σ_t ℓ_i,t",
                               "seq-mean-token-sum (REINFORCE on the whole completion, RLOO): S = sequences "
                               "of the step with >= 1 loss token", "rloo"),
        "seq_mean_token_sum_norm": (
            f"L(θ) = 1/(B · L_norm) · Σ_i Σ_t ℓ_i,t,   L_norm = "
            f"{cfg.max_len_norm if cfg.max_len_norm is not None else 'max_new_tokens (set by bind)'}",
            "seq-mean-token-sum-norm (Dr. GRPO): a constant divisor, no length bias; B = every sequence of "
            "the step, masked ones too", "dr_grpo"),
    }[cfg.aggregation]
    lines.append(f"  {agg[0]}")
    lines.append(f"      aggregation={cfg.aggregation}: {agg[1]}")
    cites.append(agg[2])

    kl_term = f" + β·KL_i,t,  β = {cfg.beta:g}" if cfg.kl != "off" else ""
    if cfg.ratio == "none":
        lines.append(f"  ℓ_i,t = −Â_i · log π_θ(o_i,t | q, o_i,<t){kl_term}")
        lines.append("      ratio=none, clip=none: on-policy REINFORCE (μ = 1, one minibatch)")
        cites.append("reinforce")
    else:
        if cfg.clip == "none":
            lines.append(f"  ℓ_i,t = −r_i,t · Â_i{kl_term}")
            lines.append("      clip=none: unclipped importance-weighted policy gradient")
        else:
            lines.append(
                f"  ℓ_i,t = max(−r_i,t·Â_i, −clip(r_i,t, 1−ε_low, 1+ε_high)·Â_i){kl_term}"
            )
            desc = {
                "symmetric": f"symmetric ε = {cfg.eps_low:g} (PPO)",
                # (GSPO clips its sequence ratio in an asymmetric range of its own: not DAPO's clip-higher, which
                # --explain credited and cited for it)
                "clip_higher": (f"clip-higher ε_low = {cfg.eps_low:g}, ε_high = {cfg.eps_high:g} (DAPO)"
                                if cfg.ratio == "token" else
                                f"asymmetric range ε_low = {cfg.eps_low:g}, ε_high = {cfg.eps_high:g} on the "
                                "sequence ratio (GSPO)"),
                "dual": f"ε_low = {cfg.eps_low:g}, ε_high = {cfg.eps_high:g}, and for Â_i < 0 the policy "
                f"term max(…) is capped at −c·Â_i (before any KL term), c = {cfg.dual_clip_c:g} (dual-clip, "
                "Ye et al. 2020)",
            }[cfg.clip]
            lines.append(f"      clip={cfg.clip}: {desc}")
            cites.append("ppo")
            if cfg.clip == "clip_higher" and cfg.ratio == "token":
                cites.append("dapo")
            if cfg.clip == "dual":
                cites.append("dual_clip")
        if cfg.ratio == "token":
            lines.append("  r_i,t = π_θ(o_i,t | q, o_i,<t) / π_old(o_i,t | q, o_i,<t)")
            lines.append("      ratio=token: per-token importance ratio against the behaviour policy (PPO)")
        else:
            lines.append("  r_i,t = sg[s_i] · π_θ(o_i,t|·) / sg[π_θ(o_i,t|·)],   "
                         "s_i = exp( 1/|o_i| · Σ_t log(π_θ(o_i,t|·) / π_old(o_i,t|·)) )")
            lines.append("      ratio=sequence: GSPO's length-normalised sequence ratio in its token form "
                         "(value s_i, gradient s_i·∇log π_θ per token)")
            cites.append("gspo")
    if cfg.kl == "k3":
        lines.append("  KL_i,t = π_ref/π_θ − log(π_ref/π_θ) − 1   (k3 estimator, as in DeepSeekMath; log(π_ref/π_θ) capped at 20 as in verl)")
        # (E_πθ[∇k3] = E_πθ[(1 − π_ref/π_θ)·∇log π_θ] = −Σ π_ref ∇log π_θ: the reverse KL's gradient)
        lines.append("      as a loss its expected gradient on-policy is that of KL(π_ref‖π_θ), not of the "
                     "KL(π_θ‖π_ref) its value estimates (as in DeepSeekMath and TRL)")
        cites += ["k3", "grpo"]
    elif cfg.kl == "k1":
        lines.append("  KL_i,t = log π_θ − log π_ref   (k1 estimator; as a loss its gradient is ∇log π_θ, "
                     "zero in expectation on-policy)")
        cites.append("k3")

    adv = ADVANTAGES[cfg.advantage]
    lines.append(f"  Â_i = {adv}")
    adv_desc = {
        "group_mean_std": "per-prompt group of G completions, GRPO; groups with equal rewards give 0",
        "group_mean": "per-prompt group mean baseline, no std (Dr. GRPO)",
        "rloo": "leave-one-out baseline over the other G−1 completions (RLOO)",
        "batch_norm": "global batch mean/std, no group baseline (REINFORCE++)",
        "group_mean_batch_std": "group mean baseline then global batch normalisation (REINFORCE++ w/ baseline); "
                                "the batch mean is over tokens, so a group whose rewards tie (centred to 0) is "
                                "shifted by it when lengths differ: its completions get a common non-zero advantage, "
                                "as in OpenRLHF",
    }[cfg.advantage]
    if "std" in adv:
        adv_desc += "; std is Bessel-corrected"
    lines.append(f"      advantage={cfg.advantage}: {adv_desc}")
    cites.append({"group_mean_std": "grpo", "group_mean": "dr_grpo", "rloo": "rloo", "batch_norm": "reinforce_pp",
                  "group_mean_batch_std": "reinforce_pp"}[cfg.advantage])
    if cfg.overlong_penalty:
        lines.append("  R_i = reward_i + R_len(|o_i|),  R_len = 0 if |o| ≤ L_max−L_cache; "
                     "((L_max−L_cache)−|o|)/L_cache if within the last L_cache; −1 if |o| > L_max")
        lines.append(f"      overlong_penalty=on: DAPO soft overlong punishment, L_cache = "
                     f"{cfg.overlong_cache if cfg.overlong_cache is not None else 'max_new_tokens // 5 (set by bind)'}, "
                     "L_max = max_new_tokens")
        cites.append("dapo")
    else:
        lines.append("  R_i = reward_i")

    lines.append("  data:")
    lines.append(
        "      group_filter="
        + ("on: groups whose G completions are all correct or all wrong are dropped and resampled (DAPO dynamic sampling)"
           if cfg.group_filter else "off")
    )
    lines.append(
        "      overlong_mask="
        + ("on: truncated completions (no EOS within max_new_tokens) get loss mask 0 (DAPO overlong filtering)"
           if cfg.overlong_mask else "off")
    )
    if cfg.group_filter or cfg.overlong_mask:
        cites.append("dapo")
    lines.append(f"      mu={cfg.mu} optimisation pass(es) × minibatches={cfg.minibatches} optimizer steps per "
                 "rollout batch; π_old = the policy that sampled the batch")
    return lines, cites


def explain(cfg: ObjectiveConfig, max_new_tokens: int | None = None) -> str:
    """The objective as a readable multi-line formula with every setting and the papers it comes from.
    `max_new_tokens`: the budget `cfg` was bound with; a field a preset leaves to bind() then matches only
    the value bind() gives it (Dr. GRPO's max_len_norm = max_new_tokens), not any value. An unbound cfg is
    bound with that budget first, as training would (else its None fields differed from every bound preset)."""
    if max_new_tokens is not None:
        cfg = bind(cfg, max_new_tokens)  # a bound cfg is returned unchanged
    lines, cites = _formula(cfg)
    mine = asdict(cfg)
    best, best_diff = None, None
    for name, spec in PRESETS.items():
        theirs = spec["config"]
        if max_new_tokens is not None:
            try:
                theirs = asdict(bind(ObjectiveConfig(**theirs), max_new_tokens))
            except PonderError:  # (a preset whose own settings do not fit this budget)
                pass
        # A field the preset leaves to bind() (None there) matches whatever bind() filled in.
        diff = [
            f"{k}={mine[k]!r} (preset: {theirs[k]!r})"
            for k in mine
            if mine[k] != theirs[k] and not (k in _BOUND and theirs[k] is None)
        ]
        if best_diff is None or len(diff) < len(best_diff):
            best, best_diff = name, diff
    if not best_diff:
        head = f"Objective: preset {best}, {CITATIONS[PRESETS[best]['cite'][0]]}"
        note = textwrap.wrap(
            PRESETS[best]["notes"], 108, initial_indent="  preset notes: ", subsequent_indent="      "
        )
        cites = list(PRESETS[best]["cite"]) + cites
    else:
        head = f"Objective: custom (closest preset {best}; differs in {', '.join(best_diff)})"
        note = []
    out = [head, "  loss minimised; ℓ_i,t is the loss of token t of completion i (masked tokens excluded)"]
    out += lines + note + ["  references:"]
    seen = []
    for c in cites:
        if c not in seen:
            seen.append(c)
            out.append(f"    - {CITATIONS[c]}")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------- curriculum


@dataclass
class Curriculum:
    """Skip prompts the policy always or never solves, judged by an EMA of per-prompt accuracy.

    A prompt with fewer than `min_obs` observations is always kept. After that it is skipped when its EMA is
    within `tol` of 0 or 1 (its group would have zero advantage anyway), except with probability
    `retry_prob`, so a skipped prompt is retried now and then and can come back as the policy changes.
    """

    alpha: float = 0.3  # EMA weight of the newest accuracy
    min_obs: int = 2
    tol: float = 0.02
    retry_prob: float = 0.1
    seed: int = 0
    stats: dict = field(default_factory=dict)  # prompt_id -> [ema, observations]

    def __post_init__(self):
        # (a string or None here was a bare TypeError from the comparison; a bool passed as a number)
        for name in ("alpha", "tol", "retry_prob"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise PonderError(f"curriculum: {name}={v!r} must be a number")
        if not 0 < self.alpha <= 1:
            raise PonderError(f"curriculum: alpha={self.alpha} must be in (0, 1]")
        if isinstance(self.min_obs, bool) or not isinstance(self.min_obs, int) or self.min_obs < 1:
            raise PonderError(f"curriculum: min_obs={self.min_obs!r} must be an integer >= 1")
        if not 0 <= self.tol < 0.5:
            raise PonderError(f"curriculum: tol={self.tol} must be in [0, 0.5)")
        if not 0 <= self.retry_prob <= 1:
            raise PonderError(f"curriculum: retry_prob={self.retry_prob} must be in [0, 1]")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise PonderError(f"curriculum: seed={self.seed!r} must be an integer")
        self._rng = random.Random(self.seed)

    def update(self, prompt_id, accuracy: float) -> None:
        """Record the fraction of this prompt's completions that were correct in the latest rollout."""
        accuracy = float(accuracy)
        if not 0 <= accuracy <= 1:  # also rejects NaN
            raise PonderError(f"curriculum: accuracy {accuracy} for prompt {prompt_id!r} must be in [0, 1]")
        if prompt_id in self.stats:
            ema, n = self.stats[prompt_id]
            self.stats[prompt_id] = [(1 - self.alpha) * ema + self.alpha * accuracy, n + 1]
        else:
            self.stats[prompt_id] = [accuracy, 1]  # first observation starts the EMA (no prior pull to 0.5)

    def keep(self, prompt_id) -> bool:
        ema, n = self.stats.get(prompt_id, (0.5, 0))
        if n < self.min_obs or self.tol < ema < 1 - self.tol:
            return True
        return self._rng.random() < self.retry_prob

    def state_dict(self) -> dict:
        version, internal, gauss = self._rng.getstate()
        return {"stats": {k: list(v) for k, v in self.stats.items()}, "rng": [version, list(internal), gauss]}

    def load_state_dict(self, state: dict) -> None:
        self.stats = {k: list(v) for k, v in state["stats"].items()}
        version, internal, gauss = state["rng"]
        self._rng.setstate((version, tuple(internal), gauss))
