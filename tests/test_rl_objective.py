"""The GRPO-family objective: exactness under gradient accumulation, agreement with plainly written paper
formulas, advantage arithmetic on hand-computed cases, and rejection of bad settings."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from ponder.errors import PonderError
from ponder.rl.objective import (
    ADVANTAGES,
    AGGREGATIONS,
    CLIPS,
    PRESETS,
    Curriculum,
    ObjectiveConfig,
    bind,
    compute_advantages,
    explain,
    group_filter_mask,
    loss_mask,
    merge_stats,
    normalizers,
    overlong_penalty,
    policy_loss,
    preset,
    shape_rewards,
)

B, T, D, V, G = 8, 7, 5, 11, 4
LENGTHS = [7, 3, 5, 0, 6, 2, 7, 4]  # ragged, one sequence with no loss token at all
# Per-sequence size of the behaviour-policy drift: some sequences stay inside GSPO's 3e-4/4e-4 range,
# some leave it, and the large ones push token ratios outside 0.2 so PPO clipping is exercised too.
DRIFT = [0.0, 1e-4, 3e-3, 0.5, 5e-4, 0.6, 1.0, 0.7]
SPLITS = [[8], [1] * 8, [2] * 4, [3, 1, 4], [5, 3]]
ADVANTAGE_KINDS = tuple(ADVANTAGES)


def _problem(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(B, T, D, generator=g)
    tokens = torch.randint(V, (B, T), generator=g)
    mask = torch.arange(T)[None, :] < torch.tensor(LENGTHS)[:, None]
    W0 = torch.randn(D, V, generator=g) * 0.7
    old = _logp(W0, X, tokens).detach() + torch.randn(B, T, generator=g) * torch.tensor(DRIFT)[:, None]
    ref = _logp(W0 + 0.3 * torch.randn(D, V, generator=g), X, tokens).detach()
    rewards = torch.rand(B, generator=g)
    return X, tokens, mask, W0, old, ref, rewards


def _logp(W, X, tokens):
    return torch.log_softmax(X @ W, -1).gather(-1, tokens[..., None]).squeeze(-1)


def _grad(W0, fn):
    W = W0.clone().requires_grad_(True)
    loss = fn(W)
    loss.backward()
    return loss.detach(), W.grad.clone()


def _accumulated(W0, X, tokens, mask, old, ref, adv, cfg, split):
    """Micro-batches with step normalizers, gradients accumulated by repeated backward()."""
    norm = normalizers(mask)
    W = W0.clone().requires_grad_(True)
    total, start, parts = 0.0, 0, []
    for size in split:
        sl = slice(start, start + size)
        start += size
        loss, stats = policy_loss(_logp(W, X[sl], tokens[sl]), old[sl], ref[sl], adv[sl], mask[sl], cfg, **norm)
        loss.backward()
        total += loss.item()
        parts.append(stats)
    return total, W.grad.clone(), merge_stats(parts)


def _cfgs():
    """Every preset, each with every aggregation."""
    out = []
    for name in PRESETS:
        for agg in AGGREGATIONS:
            out.append((name, agg, bind(preset(name, aggregation=agg, overlong_cache=2), T)))
    return out


# ----------------------------------------------------------------------------------- 1. exactness


@pytest.mark.parametrize("name,agg,cfg", _cfgs(), ids=[f"{n}-{a}" for n, a, _ in _cfgs()])
def test_microbatch_accumulation_is_exact(name, agg, cfg):
    X, tokens, mask, W0, old, ref, rewards = _problem()
    if cfg.kl == "off":  # also exercise the KL term on presets that have it off
        cfg = bind(preset(name, aggregation=agg, kl="k3", beta=0.1, overlong_cache=2), T)
    adv = compute_advantages(rewards, G, cfg)
    whole_loss, whole_grad = _grad(W0, lambda W: policy_loss(_logp(W, X, tokens), old, ref, adv, mask, cfg)[0])
    assert whole_grad.abs().max() > 1e-4  # a zero gradient would make the comparison vacuous
    for split in SPLITS:
        loss, grad, _ = _accumulated(W0, X, tokens, mask, old, ref, adv, cfg, split)
        assert loss == pytest.approx(whole_loss.item(), abs=1e-6), split
        torch.testing.assert_close(grad, whole_grad, atol=1e-6, rtol=0, msg=f"split {split}")


@pytest.mark.parametrize("ratio", ["token", "sequence"])
@pytest.mark.parametrize("clip", CLIPS)
@pytest.mark.parametrize("kl", ["off", "k1", "k3"])
def test_microbatch_exact_for_every_clip_and_kl(ratio, clip, kl):
    eps = (0.2, 0.28) if ratio == "token" else (3e-4, 4e-4)
    eps = (eps[0], eps[0]) if clip == "symmetric" else eps
    X, tokens, mask, W0, old, ref, rewards = _problem(1)
    for agg in AGGREGATIONS:
        cfg = ObjectiveConfig(ratio=ratio, clip=clip, eps_low=eps[0], eps_high=eps[1], kl=kl,
                              beta=0.0 if kl == "off" else 0.05, aggregation=agg, max_len_norm=T + 3)
        adv = compute_advantages(rewards, G, cfg)
        _, whole = _grad(W0, lambda W, c=cfg, a=adv: policy_loss(_logp(W, X, tokens), old, ref, a, mask, c)[0])
        for split in ([1] * 8, [3, 1, 4]):
            _, grad, _ = _accumulated(W0, X, tokens, mask, old, ref, adv, cfg, split)
            torch.testing.assert_close(grad, whole, atol=1e-6, rtol=0)


def test_local_normalizers_would_break_accumulation():
    """The check above can fail: dividing by each micro-batch's own count is not the whole-batch loss."""
    X, tokens, mask, W0, old, ref, rewards = _problem()
    for agg in ("token_mean", "seq_mean_token_mean"):
        cfg = preset("dapo", aggregation=agg)
        adv = compute_advantages(rewards, G, cfg)
        _, whole = _grad(W0, lambda W, c=cfg, a=adv: policy_loss(_logp(W, X, tokens), old, ref, a, mask, c)[0])
        W = W0.clone().requires_grad_(True)
        for sl in (slice(0, 3), slice(3, 4), slice(4, 8)):
            policy_loss(_logp(W, X[sl], tokens[sl]), old[sl], ref[sl], adv[sl], mask[sl], cfg)[0].backward()
        assert (W.grad - whole).abs().max() > 1e-3


def test_merged_stats_equal_whole_batch_stats():
    X, tokens, mask, W0, old, ref, rewards = _problem()
    cfg = preset("grpo", clip="dual", eps_high=0.2)
    adv = compute_advantages(rewards, G, cfg)
    _, whole = policy_loss(_logp(W0, X, tokens), old, ref, adv, mask, cfg)
    _, _, merged = _accumulated(W0, X, tokens, mask, old, ref, adv, cfg, [3, 1, 4])
    assert set(merged) == set(whole)
    for key, value in whole.items():
        assert merged[key] == pytest.approx(value, abs=1e-6), key
    assert whole["tokens"] == sum(LENGTHS) and whole["seqs"] == 7
    assert 0 < whole["clip_frac"] < 1
    assert whole["loss"] == pytest.approx(whole["pg_loss"] + whole["kl_loss"], abs=1e-6)


@pytest.mark.parametrize("shift", [0.1, -0.1])
def test_merged_ratio_extremes_ignore_a_micro_batch_without_loss_tokens(shift):
    """Every ratio is e^0.1 (or e^-0.1); the micro-batch [3] holds only row 3, which has no loss token and
    reports the placeholder ratio 1.0: the merged min/max must still be the whole batch's, not 1.0."""
    X, tokens, mask, W0, _, ref, rewards = _problem()
    old = _logp(W0, X, tokens).detach() - shift
    cfg = preset("grpo")
    adv = compute_advantages(rewards, G, cfg)
    _, whole = policy_loss(_logp(W0, X, tokens), old, ref, adv, mask, cfg)
    _, _, merged = _accumulated(W0, X, tokens, mask, old, ref, adv, cfg, [3, 1, 4])
    for key in ("ratio_min", "ratio_max", "ratio_mean"):
        assert whole[key] == pytest.approx(math.exp(shift), abs=1e-5), key
        assert merged[key] == pytest.approx(whole[key], abs=1e-6), key


# --------------------------------------------------------------------- 2. the papers' formulas, plainly


def _naive_advantages(rewards: list[float], kind: str) -> list[float]:
    def std(xs):
        m = sum(xs) / len(xs)
        return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))

    def norm(xs):
        if max(xs) == min(xs):
            return [0.0] * len(xs)
        m, s = sum(xs) / len(xs), std(xs)
        return [(x - m) / (s + 1e-6) for x in xs]

    groups = [rewards[i : i + G] for i in range(0, len(rewards), G)]
    if kind == "batch_norm":
        return norm(rewards)
    out = []
    for grp in groups:
        mean = sum(grp) / G
        if kind == "group_mean_std":
            out += norm(grp)
        elif kind == "group_mean":
            out += [r - mean for r in grp]
        elif kind == "rloo":
            out += [r - (sum(grp) - r) / (G - 1) for r in grp]
        else:
            out += [r - mean for r in grp]
    return norm(out) if kind == "group_mean_batch_std" else out


def _naive_loss(W, X, tokens, mask, old, ref, rewards, cfg):
    """Loops over sequences and tokens, following each paper's formula as written."""
    lp = _logp(W, X, tokens)
    adv = _naive_advantages(rewards.tolist(), cfg.advantage)
    lo, hi = 1 - cfg.eps_low, 1 + cfg.eps_high
    seq_losses, token_losses = [], []  # per sequence: list of per-token losses
    for i in range(B):
        idx = [t for t in range(T) if mask[i, t]]
        A = adv[i]
        if cfg.ratio == "sequence":  # GSPO: s_i = (π_θ(y|x)/π_old(y|x))^(1/|y|); token form sg[s_i]·π/sg[π]
            s_i = torch.exp(sum(lp[i, t] - old[i, t] for t in idx) / len(idx)) if idx else None
        losses = []
        for t in idx:
            if cfg.ratio == "none":
                pg = -A * lp[i, t]
            else:
                if cfg.ratio == "token":
                    r = torch.exp(lp[i, t] - old[i, t])
                else:
                    r = s_i.detach() * torch.exp(lp[i, t] - lp[i, t].detach())
                if cfg.clip == "none":
                    obj = r * A
                else:
                    unclipped, clipped = r * A, torch.clamp(r, lo, hi) * A
                    obj = unclipped if unclipped.item() <= clipped.item() else clipped
                    if cfg.clip == "dual" and A < 0 and obj.item() < cfg.dual_clip_c * A:
                        obj = obj * 0 + cfg.dual_clip_c * A  # Ye et al.: max(min(rA, clip·A), cA)
                pg = -obj
            if cfg.kl == "k3":
                x = ref[i, t] - lp[i, t]
                pg = pg + cfg.beta * (torch.exp(x) - x - 1)
            elif cfg.kl == "k1":
                pg = pg + cfg.beta * (lp[i, t] - ref[i, t])
            losses.append(pg)
        token_losses.append(losses)
        if losses:
            seq_losses.append(sum(losses) / len(losses))
    nonempty = [ls for ls in token_losses if ls]
    if cfg.aggregation == "seq_mean_token_mean":  # GRPO: 1/G Σ_i 1/|o_i| Σ_t
        return sum(seq_losses) / len(seq_losses)
    if cfg.aggregation == "token_mean":  # DAPO: 1/Σ|o_i| Σ_i Σ_t
        return sum(sum(ls) for ls in nonempty) / sum(len(ls) for ls in nonempty)
    if cfg.aggregation == "seq_mean_token_sum":
        return sum(sum(ls) for ls in nonempty) / len(nonempty)
    return sum(sum(ls) for ls in nonempty) / (len(token_losses) * cfg.max_len_norm)  # Dr. GRPO: every row


def _naive_cases():
    cases = []
    for name in PRESETS:
        cases.append((name, bind(preset(name, overlong_cache=2), T)))
        if PRESETS[name]["config"]["ratio"] != "none" and PRESETS[name]["config"]["kl"] == "off":
            cases.append((f"{name}+k3", bind(preset(name, kl="k3", beta=0.04, overlong_cache=2), T)))
    cases.append(("grpo+k1", preset("grpo", kl="k1")))
    cases.append(("grpo+dual", preset("grpo", clip="dual", eps_low=0.2, eps_high=0.28, dual_clip_c=1.5)))
    cases.append(("gspo+dual", preset("gspo", clip="dual", dual_clip_c=1.0005)))
    cases.append(("batch_norm", preset("grpo", advantage="batch_norm")))
    cases.append(("rpp_baseline", preset("grpo", advantage="group_mean_batch_std")))
    cases.append(("dapo+noclip", preset("dapo", clip="none")))
    return cases


@pytest.mark.parametrize("name,cfg", _naive_cases(), ids=[n for n, _ in _naive_cases()])
def test_loss_and_gradient_match_naive_reference(name, cfg):
    X, tokens, mask, W0, old, ref, rewards = _problem(2)
    adv = compute_advantages(rewards, G, cfg)
    assert adv.tolist() == pytest.approx(_naive_advantages(rewards.tolist(), cfg.advantage), abs=1e-6)
    loss, grad = _grad(W0, lambda W: policy_loss(_logp(W, X, tokens), old, ref, adv, mask, cfg)[0])
    ref_loss, ref_grad = _grad(W0, lambda W: _naive_loss(W, X, tokens, mask, old, ref, rewards, cfg))
    assert loss.item() == pytest.approx(ref_loss.item(), abs=1e-6)
    torch.testing.assert_close(grad, ref_grad, atol=1e-6, rtol=0)
    if cfg.clip != "none":
        stats = policy_loss(_logp(W0, X, tokens), old, ref, adv, mask, cfg)[1]
        assert 0 < stats["clip_frac"] < 1, "the clip must be active on some tokens and not all"
        if cfg.clip == "dual":
            assert stats["dual_clip_frac"] > 0


def test_gspo_token_form_equals_sequence_level_gspo():
    """GSPO paper: with one advantage per sequence, GSPO-token has GSPO's value and gradient."""
    X, tokens, mask, W0, old, ref, rewards = _problem(3)
    cfg = preset("gspo")
    adv = compute_advantages(rewards, G, cfg)

    def sequence_level(W):
        lp = _logp(W, X, tokens)
        total, n = 0.0, 0
        for i in range(B):
            idx = mask[i].nonzero().flatten()
            if len(idx) == 0:
                continue
            s = torch.exp((lp[i, idx] - old[i, idx]).mean())  # gradient flows through s itself
            A = adv[i]
            total = total - torch.minimum(s * A, s.clamp(1 - 3e-4, 1 + 4e-4) * A)
            n += 1
        return total / n

    loss, grad = _grad(W0, lambda W: policy_loss(_logp(W, X, tokens), old, None, adv, mask, cfg)[0])
    ref_loss, ref_grad = _grad(W0, sequence_level)
    assert loss.item() == pytest.approx(ref_loss.item(), abs=1e-6)
    torch.testing.assert_close(grad, ref_grad, atol=1e-6, rtol=0)
    assert grad.abs().max() > 1e-4


@pytest.mark.parametrize("agg", AGGREGATIONS)
def test_on_policy_ratio_and_clip_do_not_change_the_gradient(agg):
    """At π_θ = π_old every ratio is 1: PPO-clip, GSPO and plain REINFORCE share one gradient."""
    X, tokens, mask, W0, _, ref, rewards = _problem(4)
    old = _logp(W0, X, tokens).detach()
    base = ObjectiveConfig(advantage="group_mean", ratio="none", clip="none", aggregation=agg, max_len_norm=9)
    adv = compute_advantages(rewards, G, base)
    _, want = _grad(W0, lambda W: policy_loss(_logp(W, X, tokens), None, None, adv, mask, base)[0])
    for ratio in ("token", "sequence"):
        for clip in CLIPS:
            eps_high = 0.28 if clip == "clip_higher" else 0.2
            cfg = ObjectiveConfig(advantage="group_mean", ratio=ratio, clip=clip, eps_high=eps_high,
                                  aggregation=agg, max_len_norm=9)
            _, grad = _grad(W0, lambda W, c=cfg: policy_loss(_logp(W, X, tokens), old, None, adv, mask, c)[0])
            torch.testing.assert_close(grad, want, atol=1e-6, rtol=0)


def test_clip_hand_cases():
    lp = torch.tensor([[0.0, 0.0]], requires_grad=True)
    mask = torch.tensor([[True, False]])

    def run(cfg, log_r, a):
        old = torch.tensor([[-log_r, 0.0]])
        loss, stats = policy_loss(lp, old, None, torch.tensor([a]), mask, cfg)
        (g,) = torch.autograd.grad(loss, lp)
        return loss.item(), g[0, 0].item(), stats

    sym = preset("grpo", kl="off", beta=0.0)
    # Â > 0, r = 1.25 > 1 + 0.2: the loss is the clipped constant −1.2, no gradient.
    loss, g, stats = run(sym, math.log(1.25), 1.0)
    assert loss == pytest.approx(-1.2) and g == 0 and stats["clip_frac"] == 1.0
    # Clip-higher ε_high = 0.28 lets r = 1.25 through: loss −r·Â, gradient −r.
    loss, g, _ = run(preset("dapo"), math.log(1.25), 1.0)
    assert loss == pytest.approx(-1.25) and g == pytest.approx(-1.25)
    # Â < 0 with r = 5: PPO's max(−rÂ, −clip(r)Â) = 5 grows with r; dual-clip caps it at −c·Â = 3.
    loss, g, _ = run(sym, math.log(5.0), -1.0)
    assert loss == pytest.approx(5.0) and g == pytest.approx(5.0)
    loss, g, stats = run(preset("grpo", kl="off", beta=0.0, clip="dual"), math.log(5.0), -1.0)
    assert loss == pytest.approx(3.0) and g == 0 and stats["dual_clip_frac"] == 1.0
    # Â < 0 with r = 0.5 < 1 − 0.2: clipped at 0.8, no gradient.
    loss, g, _ = run(sym, math.log(0.5), -1.0)
    assert loss == pytest.approx(0.8) and g == 0


def test_kl_estimators_hand_values():
    lp = torch.tensor([[math.log(0.25)]], requires_grad=True)
    ref = torch.tensor([[math.log(0.5)]])
    mask = torch.ones(1, 1, dtype=torch.bool)
    k3 = ObjectiveConfig(ratio="none", clip="none", kl="k3", beta=1.0)
    _, stats = policy_loss(lp, None, ref, torch.zeros(1), mask, k3)
    assert stats["kl_mean"] == pytest.approx(2 - math.log(2) - 1)  # π_ref/π = 2
    k1 = ObjectiveConfig(ratio="none", clip="none", kl="k1", beta=1.0)
    _, stats = policy_loss(lp, None, ref, torch.zeros(1), mask, k1)
    assert stats["kl_mean"] == pytest.approx(-math.log(2))


def test_kl_losses_expected_gradients_on_policy_are_as_explain_says():
    """--explain's claims, exactly on a 5-token categorical π_θ = softmax(θ): the k3 loss's gradient, averaged over
    tokens drawn from π_θ, is the gradient of KL(π_ref‖π_θ) (not of the KL(π_θ‖π_ref) its value estimates), and the
    k1 loss's is zero."""
    theta = torch.tensor([0.3, -1.2, 2.0, 0.1, -0.4], dtype=torch.float64, requires_grad=True)
    ref = torch.log_softmax(torch.tensor([1.0, 0.2, -0.5, 0.7, 0.0], dtype=torch.float64), 0)
    mask = torch.ones(1, 1, dtype=torch.bool)

    def expected_grad(kl):
        cfg = ObjectiveConfig(ratio="none", clip="none", kl=kl, beta=1.0)
        logp = torch.log_softmax(theta, 0)
        total = torch.zeros_like(theta)
        for x in range(5):  # E_{x~π_θ}[∇ loss(x)]: the sampling weight π_θ(x) is a constant
            loss, _ = policy_loss(logp[x].view(1, 1), None, ref[x].view(1, 1), torch.zeros(1), mask, cfg)
            (g,) = torch.autograd.grad(loss, theta, retain_graph=True)
            total += logp[x].exp().detach() * g
        return total

    p = torch.log_softmax(theta, 0)
    reverse = (ref.exp() * (ref - p)).sum()  # KL(π_ref‖π_θ)
    forward = (p.exp() * (p - ref)).sum()  # KL(π_θ‖π_ref)
    (g_reverse,) = torch.autograd.grad(reverse, theta, retain_graph=True)
    (g_forward,) = torch.autograd.grad(forward, theta)
    k3 = expected_grad("k3")
    assert torch.allclose(k3, g_reverse, atol=1e-6) and not torch.allclose(k3, g_forward, atol=1e-2)
    assert torch.allclose(expected_grad("k1"), torch.zeros(5, dtype=torch.float64), atol=1e-6)


def test_k3_near_on_policy_keeps_its_value():
    """k3 = e^d − d − 1 ≈ d²/2 for a small log-ratio d: written as exp(d) − d − 1 it cancelled to exactly 0 in
    float32 at |d| = 1e-4 and was 5% off at 1e-3 (the KL logged and added near on-policy)."""
    k3 = ObjectiveConfig(ratio="none", clip="none", kl="k3", beta=1.0)
    mask = torch.ones(1, 1, dtype=torch.bool)
    for d in (1e-4, -1e-4, 1e-3, -1e-3):
        lp = torch.tensor([[-1.0]])
        ref = lp + d
        _, stats = policy_loss(lp, None, ref, torch.zeros(1), mask, k3)
        exact = math.expm1(float(ref - lp)) - float(ref - lp)
        assert stats["kl_mean"] == pytest.approx(exact, rel=1e-3)


def test_k3_of_an_extreme_log_ratio_is_finite():
    """A token the policy has all but ruled out (log π_θ = −100, log π_ref = −1): exp(99) overflowed float32, the
    loss was inf and the gradient NaN. The log-ratio is capped at 20 (verl's low_var_kl); below it the value is the
    plain k3."""
    k3 = ObjectiveConfig(ratio="none", clip="none", kl="k3", beta=1.0)
    mask = torch.ones(1, 2, dtype=torch.bool)
    lp = torch.tensor([[-100.0, -1.0]], requires_grad=True)
    ref = torch.tensor([[-1.0, -100.0]])
    loss, stats = policy_loss(lp, None, ref, torch.zeros(1), mask, k3)
    loss.backward()
    assert math.isfinite(float(loss.detach())) and torch.isfinite(lp.grad).all()
    assert stats["kl_mean"] == pytest.approx((math.expm1(20) - 20 + 98 + math.exp(-99)) / 2, rel=1e-5)
    for d in (-19.5, -3.0, 2.0, 19.5):  # in range: unchanged
        lp = torch.tensor([[-30.0]])
        _, stats = policy_loss(lp, None, lp + d, torch.zeros(1), torch.ones(1, 1, dtype=torch.bool), k3)
        assert stats["kl_mean"] == pytest.approx(math.expm1(d) - d, rel=1e-5)


def test_k3_keeps_its_value_and_pull_where_the_policy_far_exceeds_the_reference():
    """DeepSeekMath's k3 = π_ref/π_θ − log(π_ref/π_θ) − 1 has no floor: a token the policy gives e^-1 and the
    reference e^-31 has KL 29 and loss gradient 1 − π_ref/π_θ ≈ 1 (pull log π_θ down). The log-ratio was clamped
    below at −20 too: the KL read 19 and its gradient was 0, so the KL term let go of exactly the tokens that
    drifted furthest from the reference."""
    k3 = ObjectiveConfig(ratio="none", clip="none", kl="k3", beta=1.0)
    lp = torch.tensor([[-1.0]], requires_grad=True)
    ref = torch.tensor([[-31.0]])
    loss, stats = policy_loss(lp, None, ref, torch.zeros(1), torch.ones(1, 1, dtype=torch.bool), k3)
    loss.backward()
    d = -31.0 - -1.0  # log(π_ref/π_θ)
    assert stats["kl_mean"] == pytest.approx(math.exp(d) - d - 1, rel=1e-6)
    assert float(lp.grad) == pytest.approx(1 - math.exp(d), rel=1e-6)  # ∂/∂log π_θ of e^d − d − 1


def test_padding_values_are_never_read():
    X, tokens, mask, W0, old, ref, rewards = _problem(5)
    cfg = preset("grpo")
    adv = compute_advantages(rewards, G, cfg)
    garbage = torch.where(mask, 0.0, torch.tensor([math.inf, -math.inf, math.nan]).repeat(B, 3)[:, :T])
    clean_loss, clean = _grad(W0, lambda W: policy_loss(_logp(W, X, tokens), old, ref, adv, mask, cfg)[0])
    dirty_loss, dirty = _grad(
        W0, lambda W: policy_loss(_logp(W, X, tokens) + garbage, old + garbage, ref - garbage, adv, mask, cfg)[0]
    )
    assert torch.isfinite(dirty).all() and dirty_loss.item() == pytest.approx(clean_loss.item(), abs=0)
    torch.testing.assert_close(dirty, clean, atol=0, rtol=0)
    # Extra padding columns change nothing either, for every aggregation.
    for agg in AGGREGATIONS:
        c = bind(preset("grpo", aggregation=agg), T)
        pad = lambda x: torch.cat([x, torch.full((B, 3), math.nan)], 1)  # noqa: E731
        m2 = torch.cat([mask, torch.zeros(B, 3, dtype=torch.bool)], 1)
        a = policy_loss(_logp(W0, X, tokens), old, ref, adv, mask, c)[0]
        b = policy_loss(pad(_logp(W0, X, tokens)), pad(old), pad(ref), adv, m2, c)[0]
        assert b.item() == pytest.approx(a.item(), abs=1e-7)  # only the summation order differs


def test_bf16_logp_computes_in_float32():
    X, tokens, mask, W0, old, ref, rewards = _problem()
    cfg = preset("dapo")
    adv = compute_advantages(rewards, G, cfg)
    loss, _ = policy_loss(_logp(W0, X, tokens).bfloat16(), old, ref, adv, mask, cfg)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)


# ------------------------------------------------------------------------- 3. advantages and data parts


R = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0])


def test_advantages_hand_computed():
    s3 = math.sqrt(3)
    cases = {
        # group 1: mean 1/4, sample std 1/2; group 2: mean 1/2, sample std 1/√3
        "group_mean_std": [1.5, -0.5, -0.5, -0.5, s3 / 2, s3 / 2, -s3 / 2, -s3 / 2],
        "group_mean": [0.75, -0.25, -0.25, -0.25, 0.5, 0.5, -0.5, -0.5],
        "rloo": [1.0, -1 / 3, -1 / 3, -1 / 3, 2 / 3, 2 / 3, -2 / 3, -2 / 3],
        # batch: mean 3/8, sample std √(15/56)
        "batch_norm": [0.625 / math.sqrt(15 / 56) if r else -0.375 / math.sqrt(15 / 56) for r in R.tolist()],
        # group-centred: [.75,-.25,-.25,-.25,.5,.5,-.5,-.5], batch mean 0, sample std 1/2
        "group_mean_batch_std": [1.5, -0.5, -0.5, -0.5, 1.0, 1.0, -1.0, -1.0],
    }
    for kind, want in cases.items():
        got = compute_advantages(R, G, ObjectiveConfig(advantage=kind))
        assert got.dtype == torch.float32
        assert got.tolist() == pytest.approx(want, abs=1e-5), kind


def test_rloo_is_scaled_group_mean():
    r = torch.rand(24, generator=torch.Generator().manual_seed(0))
    for g in (2, 3, 6):
        rloo = compute_advantages(r, g, ObjectiveConfig(advantage="rloo"))
        mean = compute_advantages(r, g, ObjectiveConfig(advantage="group_mean"))
        torch.testing.assert_close(rloo, mean * g / (g - 1))


def test_zero_variance_gives_exact_zero():
    r = torch.tensor([0.1, 0.1, 0.1, 0.7, 0.7, 0.7, 0.3, 0.9, 0.3])
    for kind in ("group_mean_std", "group_mean", "rloo"):
        adv = compute_advantages(r, 3, ObjectiveConfig(advantage=kind))
        assert adv[:6].tolist() == [0.0] * 6, kind
        assert adv[6:].abs().min() > 0.1
    for kind in ("batch_norm", "group_mean_batch_std"):
        adv = compute_advantages(torch.full((6,), 0.3), 3, ObjectiveConfig(advantage=kind))
        assert adv.tolist() == [0.0] * 6


def test_zero_variance_gives_exact_zero_for_float64_rewards_too():
    """compute_advantages takes float64 rewards and computes in float64 (the trainer's are float32, whose group
    sums are exact there). A group of equal float64 rewards (0.1 three times: their sum rounds) got a baseline one
    ulp off its rewards: Dr. GRPO's and RLOO's advantages were ±1e-17, not 0, and batch-normalising them gave
    ±6e-11 to groups that all tie. An advantage of 0 makes the loss a constant (policy_loss keeps an overflowing
    ratio off the gradient path only where Â = 0); a tie is now exactly 0 for every kind."""
    r = torch.tensor([0.1, 0.1, 0.1, 0.7, 0.7, 0.7, 1 / 3, 1 / 3, 1 / 3], dtype=torch.float64)
    for kind in set(ADVANTAGE_KINDS) - {"batch_norm"}:  # (batch_norm has no groups: these rewards differ)
        for lengths in (None, torch.tensor([3, 4, 5, 6, 7, 8, 1, 2, 9])):
            adv = compute_advantages(r, 3, ObjectiveConfig(advantage=kind), lengths=lengths)
            assert adv.dtype == torch.float64 and adv.tolist() == [0.0] * 9, (kind, adv)
    mixed = torch.cat([r[:6], torch.tensor([0.3, 0.9, 0.3], dtype=torch.float64)])
    for kind in ("group_mean", "rloo"):  # the tie is 0 beside a group that does not tie
        adv = compute_advantages(mixed, 3, ObjectiveConfig(advantage=kind))
        assert adv[:6].tolist() == [0.0] * 6 and adv[6:].abs().min() > 0.1, kind


def test_nonfinite_and_malformed_rewards_raise():
    cfg = ObjectiveConfig()
    with pytest.raises(PonderError, match=r"non-finite reward at index 2 \(value nan\)"):
        compute_advantages(torch.tensor([0.0, 1.0, math.nan, 1.0]), 2, cfg)
    with pytest.raises(PonderError, match="non-finite reward at index 0"):
        compute_advantages(torch.tensor([math.inf, 1.0]), 2, ObjectiveConfig(advantage="batch_norm"))
    with pytest.raises(PonderError, match="not a multiple of group_size=3"):
        compute_advantages(torch.zeros(8), 3, cfg)
    with pytest.raises(PonderError, match="group_size=1"):
        compute_advantages(torch.zeros(8), 1, cfg)
    with pytest.raises(PonderError, match="1-D"):
        compute_advantages(torch.zeros(2, 4), 4, cfg)
    with pytest.raises(PonderError, match="non-finite"):
        group_filter_mask(torch.tensor([1.0, math.nan]), 2)


def test_group_filter_mask():
    r = torch.tensor([1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0.5, 0.5, 0.5, 0.25], dtype=torch.float32)
    keep = group_filter_mask(r, 4)
    assert keep.tolist() == [False] * 4 + [True] * 4 + [False] * 4 + [True] * 4
    # Invariant: a kept group has a non-zero advantage somewhere, a dropped one has none.
    adv = compute_advantages(r, 4, ObjectiveConfig()).view(4, 4)
    assert ((adv != 0).any(1) == keep.view(4, 4)[:, 0]).all()


def test_overlong_penalty_values():
    pen = overlong_penalty(torch.tensor([10, 16, 17, 18, 20, 21]), max_len=20, cache_len=4)
    assert pen.tolist() == pytest.approx([0, 0, -0.25, -0.5, -1, -1])
    # DAPO's own numbers: 16384 expected + 4096 cache = 20480.
    assert overlong_penalty(torch.tensor([16384, 18432, 20480]), 20480, 4096).tolist() == [0.0, -0.5, -1.0]
    with pytest.raises(PonderError, match="cache_len"):
        overlong_penalty(torch.tensor([3]), 10, 11)
    cfg = bind(preset("dapo", overlong_cache=4), 20)
    shaped = shape_rewards(torch.tensor([1.0, 1.0, 0.0]), torch.tensor([5, 18, 20]), 20, cfg)
    assert shaped.tolist() == pytest.approx([1.0, 0.5, -1.0])
    off = preset("grpo")
    assert shape_rewards(torch.tensor([1.0]), torch.tensor([20]), 20, off).tolist() == [1.0]


def test_dapo_notes_say_its_reward_is_plus_minus_one_and_how_to_match_it():
    """DAPO's correctness reward is +1/-1 (Yu et al. 2025, rule-based reward); Ponder's verifiers score 1/0, so the
    same overlong penalty (0 down to -1) weighs twice as much against correctness: a correct answer at the end of
    the window scored as a wrong short one, where DAPO still ranks it a full point above. The preset's notes said
    nothing of it. Group-normalised advantages ignore a shift, so a 2*math reward gives DAPO's advantages
    exactly."""
    cfg = bind(preset("dapo", overlong_cache=4), 20)
    correct = torch.tensor([1.0, 1.0, 0.0, 0.0])
    lengths = torch.tensor([5, 20, 5, 20])  # short and at the limit, right and wrong
    pen = torch.tensor([0.0, -1.0, 0.0, -1.0])  # R_length by hand: 0 up to 16 tokens, -1 at L_max = 20
    paper = (2 * correct - 1 + pen).double()  # DAPO: R = ±1 + R_length = [1, 0, -1, -2]
    mean, std = paper.mean(), paper.std()  # one group of 4: mean -1/2, Bessel std sqrt(5/3)
    want = ((paper - mean) / (std + 1e-6)).float()
    assert want.tolist() == pytest.approx([x / math.sqrt(5 / 3) for x in (1.5, 0.5, -0.5, -1.5)], abs=1e-5)
    got = compute_advantages(shape_rewards(2 * correct, lengths, 20, cfg), 4, cfg)
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)
    ones = compute_advantages(shape_rewards(correct, lengths, 20, cfg), 4, cfg)
    assert ones[1] == ones[2]  # 1/0 scoring: right at the limit ties wrong and short
    notes = " ".join(explain(bind(preset("dapo"), 20480)).split())
    assert "+1/-1" in notes and "--reward 2*math" in notes


def test_dapo_token_mean_divides_by_the_batchs_tokens_and_its_notes_say_so():
    """DAPO's objective prints 1/Σ_i|o_i| over one question's G outputs, inside the expectation over questions; its
    verl code (loss_agg_mode=token-mean) averages over the tokens of the batch it is given. Ponder averages over the
    optimizer minibatch's tokens; the preset said only "token-level loss"."""
    cfg = bind(preset("dapo"), 20)
    mask = torch.tensor([[1, 0, 0], [1, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=torch.bool)  # groups of 2: 1+3, 1+1
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0])
    logp = torch.full((4, 3), -1.0)
    loss, _ = policy_loss(logp, logp, None, adv, mask, cfg)  # on-policy: ratio 1, each token's loss -Â_i
    # whole batch: -(1·1 - 1·3 + 1·1 - 1·1) / 6 = 1/3; per question it would be mean(2/4, 0/2) = 1/4
    assert loss.item() == pytest.approx(1 / 3, abs=1e-7)
    notes = " ".join(explain(cfg, 20).split())
    assert "inside the expectation over questions" in notes and "loss_agg_mode=token-mean" in notes


def test_loss_mask_drops_truncated_rows_only_when_asked():
    mask = torch.ones(3, 4, dtype=torch.bool)
    truncated = torch.tensor([False, True, False])
    assert loss_mask(mask, truncated, preset("grpo")).all()
    m = loss_mask(mask, truncated, preset("dapo", overlong_mask=True))
    assert m.sum(1).tolist() == [4, 0, 4]
    assert normalizers(m) == {"total_tokens": 8, "total_seqs": 2, "total_rows": 3}


def test_lengths_and_truncation_flags_of_another_shape_are_refused():
    """One length (or truncation flag) per completion: a tensor of another shape broadcast silently, so a single
    length penalised every reward of the batch, [N, 1] lengths made an [N, N] reward table, and one truncation
    flag masked every row; a negative length was taken as a short completion."""
    cfg = bind(preset("dapo", overlong_cache=4, overlong_mask=True), 20)
    rewards = torch.ones(4)
    for bad in (torch.tensor([20]), torch.tensor([20, 5, 5, 5]).view(4, 1), torch.tensor([5, 5, 5])):
        with pytest.raises(PonderError, match=r"^objective: lengths must be a 1-D tensor of 4 token counts, got"):
            shape_rewards(rewards, bad, 20, cfg)
    with pytest.raises(PonderError, match=r"^objective: lengths must be finite token counts >= 0"):
        shape_rewards(rewards, torch.tensor([5, -3, 5, 5]), 20, cfg)
    with pytest.raises(PonderError, match=r"^objective: lengths must be finite token counts >= 0"):
        overlong_penalty(torch.tensor([5.0, math.nan]), 20, 4)
    mask = torch.ones(4, 3, dtype=torch.bool)
    for bad in (torch.tensor([True]), torch.tensor([True, False])):
        with pytest.raises(PonderError, match=r"^objective: truncated must be a 1-D tensor of 4 flags \(one per "
                                              r"row of mask\), got \(\d,\)$"):
            loss_mask(mask, bad, cfg)
    assert shape_rewards(rewards, torch.tensor([5, 17, 18, 20]), 20, cfg).tolist() == [1.0, 0.75, 0.5, 0.0]
    assert loss_mask(mask, torch.tensor([False, True, False, False]), cfg).sum(1).tolist() == [3, 0, 3, 3]


def test_dr_grpo_constant_counts_masked_sequences():
    """Dr. GRPO divides by a constant, sequences x max_len_norm, whichever completions were masked (the paper's
    code: each row's token sum / generate_max_length, averaged over every row of the batch). A row masked by
    overlong filtering used to leave the count, so masking one of two rows doubled the other's weight."""
    L = 4
    logp = torch.full((2, L), -1.0, requires_grad=True)
    mask = torch.ones(2, L, dtype=torch.bool)
    adv = torch.tensor([1.0, -1.0])
    cfg = preset("dr_grpo", overlong_mask=True, max_len_norm=L)
    m = loss_mask(mask, torch.tensor([False, True]), cfg)
    loss, _ = policy_loss(logp, logp.detach(), None, adv, m, cfg)
    loss.backward()
    # ratio 1: d loss / d logp = -A / (rows x L) on the kept row's tokens, 0 on the masked row
    assert torch.allclose(logp.grad[0], torch.full((L,), -1.0 / (2 * L)))
    assert logp.grad[1].abs().sum() == 0
    # split into two micro-batches with the step's counts: the same gradient
    g = torch.zeros(2, L)
    for r in (0, 1):
        lp = logp.detach()[r:r + 1].clone().requires_grad_(True)
        part, _ = policy_loss(lp, lp.detach(), None, adv[r:r + 1], m[r:r + 1], cfg, **normalizers(m))
        part.backward()
        g[r] = lp.grad[0]
    assert torch.allclose(g, logp.grad)


def test_bind_sets_dr_grpo_constant_and_checks_cache():
    cfg = preset("dr_grpo")
    assert cfg.max_len_norm is None and bind(cfg, 512).max_len_norm == 512
    assert bind(preset("dr_grpo", max_len_norm=100), 512).max_len_norm == 100
    with pytest.raises(PonderError, match="overlong_cache=600 exceeds max_new_tokens=512"):
        bind(preset("dapo", overlong_cache=600), 512)
    # DAPO's proportion: L_cache 4096 of 20480, exactly the paper's at its budget.
    assert bind(preset("dapo"), 20480).overlong_cache == 4096
    assert bind(preset("dapo"), 512).overlong_cache == 102
    assert explain(bind(preset("dapo"), 512)).startswith("Objective: preset dapo")
    with pytest.raises(PonderError, match="call bind"):
        shape_rewards(torch.ones(2), torch.ones(2), 512, preset("dapo"))
    X, tokens, mask, W0, old, ref, rewards = _problem()
    with pytest.raises(PonderError, match="bind"):
        policy_loss(_logp(W0, X, tokens), old, ref, torch.zeros(B), mask, cfg)


def test_curriculum():
    c = Curriculum(alpha=0.5, min_obs=2, tol=0.02, retry_prob=0.1, seed=0)
    assert c.keep("new")
    c.update("never", 0.0)
    assert c.keep("never")  # one observation is not enough to skip
    c.update("never", 0.0)
    c.update("always", 1.0)
    c.update("always", 1.0)
    c.update("mid", 1.0)
    c.update("mid", 0.0)
    assert c.stats["mid"] == [0.5, 2]
    assert all(c.keep("mid") for _ in range(200))
    for pid in ("never", "always"):
        kept = sum(c.keep(pid) for _ in range(4000)) / 4000
        assert 0.08 < kept < 0.12, (pid, kept)  # skipped, but retried with probability 0.1
    # A skipped prompt comes back when the policy starts solving it.
    c.update("never", 0.5)
    assert c.stats["never"][0] == pytest.approx(0.25) and c.keep("never")
    # Never retried when retry_prob = 0; resumable from its state.
    strict = Curriculum(min_obs=1, retry_prob=0.0)
    strict.update(7, 1.0)
    assert not any(strict.keep(7) for _ in range(100))
    state = c.state_dict()
    twin = Curriculum(alpha=0.5, min_obs=2, tol=0.02, retry_prob=0.1, seed=123)
    twin.load_state_dict(state)
    assert [twin.keep("always") for _ in range(50)] == [c.keep("always") for _ in range(50)]
    with pytest.raises(PonderError, match="accuracy nan"):
        c.update("x", math.nan)
    with pytest.raises(PonderError, match="alpha"):
        Curriculum(alpha=0)


@pytest.mark.parametrize("bad,message", [
    (dict(alpha="0.3"), "alpha='0.3' must be a number"),
    (dict(tol=None), "tol=None must be a number"),
    (dict(retry_prob="x"), "retry_prob='x' must be a number"),
    (dict(alpha=True), "alpha=True must be a number"),
    (dict(min_obs=True), "min_obs=True must be an integer >= 1"),
    (dict(seed=1.5), "seed=1.5 must be an integer"),
])
def test_curriculum_bad_settings_are_one_line_errors(bad, message):
    with pytest.raises(PonderError) as err:
        Curriculum(**bad)
    assert message in str(err.value) and "\n" not in str(err.value)


# --------------------------------------------------------------------------------- presets and explain


def test_presets_expand_to_the_papers_settings():
    g = preset("grpo")
    assert (g.advantage, g.ratio, g.clip, g.eps_low, g.aggregation, g.kl, g.beta) == (
        "group_mean_std", "token", "symmetric", 0.2, "seq_mean_token_mean", "k3", 0.04)
    d = preset("dr_grpo")
    assert (d.advantage, d.aggregation, d.kl) == ("group_mean", "seq_mean_token_sum_norm", "off")
    a = preset("dapo")
    assert (a.clip, a.eps_low, a.eps_high, a.aggregation, a.kl) == ("clip_higher", 0.2, 0.28, "token_mean", "off")
    assert a.group_filter and a.overlong_penalty and a.overlong_cache is None and a.minibatches == 16
    s = preset("gspo")
    assert (s.ratio, s.eps_low, s.eps_high, s.aggregation) == ("sequence", 3e-4, 4e-4, "seq_mean_token_mean")
    r = preset("rloo")
    assert (r.advantage, r.ratio, r.clip, r.aggregation, r.mu) == ("rloo", "none", "none", "seq_mean_token_sum", 1)
    n = preset("reinforce")
    assert (n.advantage, n.ratio, n.clip, n.aggregation, n.kl) == ("group_mean", "none", "none", "token_mean", "off")
    assert preset("grpo", beta=0.01).beta == 0.01


def test_explain_names_every_setting_and_citation():
    arxiv = {"grpo": "2402.03300", "dr_grpo": "2503.20783", "dapo": "2503.14476", "gspo": "2507.18071",
             "rloo": "2402.14740", "reinforce": "nanochat"}
    for name in PRESETS:
        text = explain(preset(name))
        assert text.startswith(f"Objective: preset {name}") and arxiv[name] in text
        cfg = preset(name)
        for part in ("advantage", "ratio" if cfg.ratio != "none" else "clip", "aggregation"):
            assert f"{part}={getattr(cfg, part)}" in text
        assert f"mu={cfg.mu}" in text and f"minibatches={cfg.minibatches}" in text
    assert "max_new_tokens // 5" in explain(preset("dapo"))
    dapo = explain(bind(preset("dapo"), 20480))
    for s in ("ε_low = 0.2", "ε_high = 0.28", "L_cache = 4096", "group_filter=on", "1/N"):
        assert s in dapo
    assert "β = 0.04" in explain(preset("grpo")) and "k3" in explain(preset("grpo"))
    custom = explain(preset("dapo", clip="dual"))
    assert "custom (closest preset dapo; differs in clip='dual'" in custom and "c = 3" in custom
    assert "1912.09729" in custom  # dual-clip cites Ye et al.


def test_a_number_given_to_kl_points_at_beta():
    """--set kl=0.1 (verl's kl_coef, TRL's beta, by habit) said only "unknown kl 0.1; valid: off, k1, k3", with
    nothing on where the coefficient goes; a word given to kl is told as before."""
    with pytest.raises(PonderError, match=r"unknown kl 0\.1; valid: off, k1, k3 \(the KL coefficient is beta: "
                                          r"beta=0\.1\)$"):
        preset("grpo", kl=0.1)
    with pytest.raises(PonderError, match=r"unknown kl 'k2'; valid: off, k1, k3$"):
        preset("grpo", kl="k2")


def test_bad_settings_raise_one_line_errors():
    bad = [
        (lambda: preset("ppo"), "unknown preset 'ppo'; valid: grpo, dr_grpo, dapo, gspo, rloo, reinforce"),
        (lambda: preset("grpo", advantage="zscore"), "unknown advantage 'zscore'; valid: group_mean_std"),
        (lambda: preset("grpo", ratio="tok"), "unknown ratio 'tok'; valid: token, sequence, none"),
        (lambda: preset("grpo", clip="ppo"), "unknown clip 'ppo'; valid: symmetric, clip_higher, dual, none"),
        (lambda: preset("grpo", aggregation="mean"), "unknown aggregation 'mean'; valid: seq_mean_token_mean"),
        (lambda: preset("grpo", kl="k2"), "unknown kl 'k2'; valid: off, k1, k3"),
        (lambda: preset("grpo", epsilon=0.1), "unknown setting 'epsilon'; valid: advantage, ratio"),
        (lambda: preset("grpo", ratio="none"), "clip=symmetric needs an importance ratio, but ratio=none"),
        (lambda: preset("grpo", kl="k3", beta=0.0), "kl=k3 needs beta > 0"),
        (lambda: preset("dapo", beta=0.1), "beta=0.1 but kl=off"),
        (lambda: preset("grpo", eps_low=-0.1, eps_high=-0.1), "eps_low=-0.1 must be >= 0"),
        (lambda: preset("grpo", eps_low=0.0, eps_high=0.0), "needs eps_low, eps_high > 0"),
        (lambda: preset("grpo", clip="dual", dual_clip_c=1.0), "dual_clip_c=1.0 must be > 1"),
        (lambda: preset("grpo", eps_high=0.3), "clip=symmetric but eps_low=0.2 != eps_high=0.3"),
        (lambda: preset("dapo", eps_high=0.2), "clip_higher needs eps_high > eps_low"),
        (lambda: preset("grpo", clip="clip_higher", eps_low=1.0, eps_high=1.5), "eps_low=1.0 must be < 1"),
        (lambda: preset("reinforce", mu=2), "ratio=none is on-policy only"),
        (lambda: preset("rloo", minibatches=4), "ratio=none is on-policy only"),
        (lambda: preset("grpo", mu=0), "mu=0 must be an integer >= 1"),
        (lambda: preset("dapo", overlong_cache=0), "overlong_penalty needs overlong_cache >= 1"),
        (lambda: preset("grpo", beta=math.nan), "beta=nan must be a finite number"),
        (lambda: preset("grpo", group_filter="yes"), "group_filter='yes' must be true or false"),
        (lambda: preset("dr_grpo", max_len_norm=0), "max_len_norm=0 must be a positive integer"),
    ]
    for fn, message in bad:
        with pytest.raises(PonderError) as err:
            fn()
        assert message in str(err.value), (message, str(err.value))
        assert "\n" not in str(err.value)


def test_a_symmetric_clip_given_one_eps_says_to_give_both():
    """--set eps_low=0.1 on grpo (one ε, as TRL's epsilon or verl's clip_ratio sets both) was told only to use
    clip=clip_higher, an asymmetric range, not how to get the symmetric ε=0.1 asked for."""
    for one in ({"eps_low": 0.1}, {"eps_high": 0.1}):
        with pytest.raises(PonderError, match=r"give both the same value, or use clip=clip_higher"):
            preset("grpo", **one)
    assert preset("grpo", eps_low=0.1, eps_high=0.1).eps_high == 0.1


def test_policy_loss_rejects_bad_inputs():
    X, tokens, mask, W0, old, ref, rewards = _problem()
    lp = _logp(W0, X, tokens)
    adv = torch.zeros(B)
    cfg = preset("grpo")
    with pytest.raises(PonderError, match="needs old_logp"):
        policy_loss(lp, None, ref, adv, mask, cfg)
    with pytest.raises(PonderError, match="needs ref_logp"):
        policy_loss(lp, old, None, adv, mask, cfg)
    with pytest.raises(PonderError, match=r"old_logp must have shape \(8, 7\)"):
        policy_loss(lp, old[:, :3], ref, adv, mask, cfg)
    with pytest.raises(PonderError, match=r"advantages must have shape \(8,\)"):
        policy_loss(lp, old, ref, adv[:4], mask, cfg)
    with pytest.raises(PonderError, match="smaller than this micro-batch's own counts"):
        policy_loss(lp, old, ref, adv, mask, cfg, total_tokens=5, total_seqs=7)
    # An all-masked micro-batch contributes exactly zero, not NaN.
    empty = torch.zeros_like(mask)
    loss, stats = policy_loss(lp, old, ref, adv, empty, cfg, total_tokens=10, total_seqs=2)
    assert loss.item() == 0.0 and stats["tokens"] == 0


def test_batch_norm_statistics_are_over_tokens_as_in_reinforce_pp():
    """REINFORCE++ (Hu et al. 2025, arXiv:2501.03262, Eq. 10) normalises the token-level advantages over the
    global batch (OpenRLHF: masked means over all action tokens), so a long completion weighs more in the
    mean and std. Ponder used to weight every completion once whatever its length (and took no lengths)."""
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0])
    lengths = torch.tensor([3, 1, 0, 0])  # tokens 1,1,1,0; the last two rows have no loss token
    # token mean 3/4, token sample std sqrt((3·(1/4)² + (3/4)²) / 3) = 1/2
    adv = compute_advantages(rewards, 2, ObjectiveConfig(advantage="batch_norm"), lengths=lengths)
    assert adv[:2].tolist() == pytest.approx([0.5, -1.5], abs=1e-5)
    # the same with a group baseline first (REINFORCE++ w/ baseline): centred [.5,-.5,-.5,.5], token mean 1/4
    adv = compute_advantages(rewards, 2, ObjectiveConfig(advantage="group_mean_batch_std"), lengths=lengths)
    assert adv[:2].tolist() == pytest.approx([0.5, -1.5], abs=1e-5)
    # all lengths 1: exactly the per-completion statistics; group kinds ignore lengths
    for kind in ADVANTAGE_KINDS:
        cfg = ObjectiveConfig(advantage=kind)
        torch.testing.assert_close(compute_advantages(R, G, cfg, lengths=torch.ones(8)), compute_advantages(R, G, cfg))
    # live tokens all equal: exactly 0
    same = compute_advantages(torch.tensor([1.0, 0.0, 1.0, 1.0]), 2, ObjectiveConfig(advantage="batch_norm"),
                              lengths=torch.tensor([2, 0, 5, 1]))
    assert same.tolist() == [0.0] * 4
    with pytest.raises(PonderError, match="lengths"):
        compute_advantages(rewards, 2, ObjectiveConfig(advantage="batch_norm"), lengths=torch.ones(3))


def test_reinforce_pp_baseline_shifts_a_tied_group_and_explain_says_so():
    """REINFORCE++ with a group baseline centres each group (a tied group to 0) and then subtracts the batch mean
    over *tokens*: with unequal lengths that mean is not 0, so a tied group's completions get a common non-zero
    advantage (OpenRLHF's behaviour). --explain used to describe the kind without saying so."""
    cfg = ObjectiveConfig(advantage="group_mean_batch_std")
    rewards = torch.tensor([1.0, 1.0, 0.0, 1.0])  # group 0 ties
    adv = compute_advantages(rewards, 2, cfg, lengths=torch.tensor([10.0, 10.0, 5.0, 40.0]))
    assert adv[0] == adv[1] and adv[0] != 0
    assert compute_advantages(rewards, 2, cfg)[:2].tolist() == [0.0, 0.0]  # equal weights: the mean is 0
    assert "tie" in explain(cfg, 96) and "OpenRLHF" in explain(cfg, 96)


def test_explain_calls_a_preset_with_a_changed_bound_setting_custom():
    """Dr. GRPO's constant and DAPO's overlong cache are bound from max_new_tokens: another value is not the
    paper's setting, and --explain used to print it under the preset's name."""
    from ponder.rl.trainer import objective_for

    assert explain(objective_for("dr_grpo", {}, 96), 96).startswith("Objective: preset dr_grpo")
    assert explain(objective_for("dapo", {}, 96), 96).startswith("Objective: preset dapo")
    assert explain(objective_for("dr_grpo", {"max_len_norm": 7}, 96), 96).startswith(
        "Objective: custom (closest preset dr_grpo; differs in max_len_norm=7 (preset: 96))")
    assert explain(objective_for("dapo", {"overlong_cache": 50}, 96), 96).startswith("Objective: custom")


# ------------------------------------------------------- 4. each paper's objective, written independently


def _paper_problem(seed: int):
    """Leaf log-probs [B, T] (the gradient is compared per token), a behaviour policy that drifts enough for
    every clip to act, a reference, 0/1-ish rewards in groups of G, and ragged masks with one empty row."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([5, 1, 7, 0, 3, 6, 2, 4])
    mask = torch.arange(T)[None, :] < lengths[:, None]
    logp = -torch.rand(B, T, generator=g) * 3 - 0.05
    old = logp + torch.randn(B, T, generator=g) * 0.3
    ref = logp + torch.randn(B, T, generator=g) * 0.5
    rewards = torch.tensor([1.0, 0.0, 0.5, 0.0, 0.0, 1.0, 1.0, 0.25])
    return logp, old, ref, rewards, mask


def _paper_advantages(rewards, kind):
    g = rewards.double().view(-1, G)
    mean = g.mean(1, keepdim=True)
    if kind == "group_mean_std":  # DeepSeekMath: (r − mean(r)) / std(r)
        return ((g - mean) / (g.std(1, keepdim=True) + 1e-6)).view(-1).float()
    if kind == "group_mean":  # Dr. GRPO: r − mean(r)
        return (g - mean).view(-1).float()
    # RLOO: r_i − 1/(k−1) Σ_{j≠i} r_j
    return torch.stack([g[:, i] - (g.sum(1) - g[:, i]) / (G - 1) for i in range(G)], 1).view(-1).float()


def _paper_objective(name, logp, old, ref, A, mask, cfg):
    """J(θ) to maximise, as each paper prints it; rows without a loss token are not samples of the batch."""
    live = mask.any(1)
    m = mask.float()
    n_tok = m.sum(1)
    r = torch.exp(logp - old)
    if name in ("grpo", "dr_grpo", "dapo", "dual"):
        a = A[:, None]
        clipped = torch.clamp(r, 1 - cfg.eps_low, 1 + cfg.eps_high)
        surr = torch.minimum(r * a, clipped * a)
        if name == "dual":  # Ye et al. 2020: for Â < 0, max(min(r·Â, clip(r)·Â), c·Â)
            surr = torch.where(a < 0, torch.maximum(surr, cfg.dual_clip_c * a), surr)
        if name in ("grpo", "dual"):  # DeepSeekMath Eq. 3 with the k3 estimator Eq. 4
            kl = torch.exp(ref - logp) - (ref - logp) - 1 if cfg.kl == "k3" else 0 * logp
            per_seq = ((surr - cfg.beta * kl) * m).sum(1) / n_tok.clamp(min=1)
            return per_seq[live].mean()
        if name == "dr_grpo":  # Σ_t without 1/|o_i|, a constant L_max instead, mean over the G samples
            return ((surr * m).sum(1) / cfg.max_len_norm).mean()
        return (surr * m).sum() / m.sum()  # DAPO Eq. 8: 1/Σ|o_i| Σ_i Σ_t
    if name == "gspo":  # GSPO Eq. 5-7: s_i = (π_θ(y_i|x) / π_old(y_i|x))^(1/|y_i|), the gradient through s_i
        s = torch.exp(((logp - old) * m).sum(1)[live] / n_tok[live])
        a = A[live]
        return torch.minimum(s * a, torch.clamp(s, 1 - cfg.eps_low, 1 + cfg.eps_high) * a).mean()
    if name == "rloo":  # Ahmadian et al.: 1/k Σ_i (R_i − mean_{j≠i} R_j) log π(y_i|x), log π(y|x) = Σ_t
        return (A * (logp * m).sum(1))[live].mean()
    # nanochat's REINFORCE: Σ Â·log π over the valid tokens / #valid tokens
    return (A[:, None] * logp * m).sum() / m.sum()


@pytest.mark.parametrize("name", ["grpo", "dr_grpo", "dapo", "dual", "gspo", "rloo", "reinforce"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_policy_loss_is_minus_each_papers_objective(name, seed):
    """Value and per-token gradient of policy_loss = −J(θ) of the paper, for the whole batch and for every
    split into micro-batches with the step's normalizers."""
    cfg = {"dual": preset("grpo", kl="off", beta=0.0, clip="dual", dual_clip_c=1.3)}.get(name)
    cfg = bind(cfg or preset(name), T)
    logp, old, ref, rewards, mask = _paper_problem(seed)
    if name == "gspo":  # sequence ratios spread around GSPO's 3e-4 / 4e-4 range
        old = logp + torch.linspace(-1e-3, 1e-3, B)[:, None]
    A = compute_advantages(rewards, G, cfg)
    torch.testing.assert_close(A, _paper_advantages(rewards, cfg.advantage), atol=1e-6, rtol=0)

    x = logp.clone().requires_grad_(True)
    want = -_paper_objective(name, x, old, ref, A, mask, cfg)
    (want_grad,) = torch.autograd.grad(want, x)
    assert want_grad.abs().max() > 1e-3 and (want_grad[~mask] == 0).all()

    x = logp.clone().requires_grad_(True)
    loss, stats = policy_loss(x, None if cfg.ratio == "none" else old, ref, A, mask, cfg)
    (grad,) = torch.autograd.grad(loss, x)
    assert loss.item() == pytest.approx(want.item(), abs=1e-6)
    torch.testing.assert_close(grad, want_grad, atol=1e-6, rtol=0)
    if cfg.clip != "none":  # the comparison covers clipped and unclipped tokens
        assert 0 < stats["clip_frac"] < 1 or stats.get("dual_clip_frac", 0) > 0

    norms = normalizers(mask)
    for split in ([3, 5], [1, 2, 1, 4], [1] * B):
        x = logp.clone().requires_grad_(True)
        total, start = 0.0, 0
        for size in split:
            sl = slice(start, start + size)
            start += size
            part, _ = policy_loss(x[sl], None if cfg.ratio == "none" else old[sl], ref[sl], A[sl], mask[sl], cfg,
                                  **norms)
            part.backward()
            total += part.item()
        assert total == pytest.approx(want.item(), abs=1e-6), split
        torch.testing.assert_close(x.grad, want_grad, atol=1e-6, rtol=0)


@pytest.mark.parametrize("ratio", ["token", "sequence"])
def test_an_overflowing_ratio_on_a_token_the_clip_makes_constant_is_not_nan(ratio):
    """exp of a log-ratio above ~88 is inf in float32. Where the objective does not depend on r there
    (Â > 0 above 1+ε_high, Â = 0, dual-clip Â < 0 above c) the loss is the paper's finite constant with no
    gradient; inf·0 used to make the loss (Â = 0) or the gradient NaN, and the trainer skipped the step."""
    old = torch.tensor([[-100.0, -1.0], [-100.0, -1.0], [-100.0, -1.0]])
    mask = torch.tensor([[True, True]] * 3)
    if ratio == "sequence":  # the sequence ratio is the mean log-ratio: put the whole row off-policy
        old = torch.full((3, 2), -200.0)
    adv = torch.tensor([1.0, 0.0, -1.0])
    cfg = ObjectiveConfig(ratio=ratio, clip="dual", eps_low=0.2, eps_high=0.28, dual_clip_c=3.0)
    lp = torch.full((3, 2), -1.0, requires_grad=True)
    loss, stats = policy_loss(lp, old, None, adv, mask, cfg, total_seqs=3)
    (grad,) = torch.autograd.grad(loss, lp)
    # token ratio: row 0 = (−1.28 − 1)/2, row 1 = 0, row 2 = (3 + 1)/2; sequence ratio: −1.28, 0, 3
    want = (-1.14 + 0 + 2.0) / 3 if ratio == "token" else (-1.28 + 0 + 3.0) / 3
    assert loss.item() == pytest.approx(want, abs=1e-6)
    assert torch.isfinite(grad).all()
    if ratio == "token":  # the on-policy second tokens keep their gradient −Â / (|o| · 3)
        assert grad[:, 1].tolist() == pytest.approx([-1 / 6, 0.0, 1 / 6])
    assert (grad[:, 0] == 0).all() and stats["ratio_max"] == math.inf
    # PPO's plain clip: same for Â ≥ 0 (for Â < 0 the unclipped −r·Â is genuinely unbounded)
    cfg = ObjectiveConfig(ratio=ratio, clip="clip_higher", eps_low=0.2, eps_high=0.28)
    loss, _ = policy_loss(lp[:2], old[:2], None, adv[:2], mask[:2], cfg, total_seqs=2)
    (grad,) = torch.autograd.grad(loss, lp)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()


def test_shape_rewards_keeps_the_fractional_penalty_of_integer_rewards():
    """0/1 correctness as an integer or bool tensor: the penalty was cast to the rewards' dtype, so −0.5
    became 0 (int) and the soft ramp vanished; compute_advantages takes such rewards as they are."""
    cfg = bind(preset("dapo", overlong_cache=4), 20)
    want = [1.0, 0.5, -0.25, -1.0]
    lengths = torch.tensor([5, 18, 17, 20])
    for rewards in (torch.tensor([1, 1, 0, 0]), torch.tensor([True, True, False, False])):
        shaped = shape_rewards(rewards, lengths, 20, cfg)
        assert shaped.is_floating_point() and shaped.tolist() == pytest.approx(want), rewards.dtype
    assert shape_rewards(torch.tensor([1, 0]), lengths[:2], 20, preset("grpo")).tolist() == [1, 0]
    double = shape_rewards(torch.tensor([1.0, 1.0], dtype=torch.float64), torch.tensor([5, 18]), 20, cfg)
    assert double.dtype == torch.float64 and double.tolist() == [1.0, 0.5]


def test_explain_states_the_divisors_and_the_dual_cap_the_code_uses():
    """Dr. GRPO divides by every sequence × L_norm, masked ones too (explain said |S|, the sequences with a
    loss token, and defined no S); seq-mean-token-sum's S was undefined; the dual-clip cap applies to the
    policy term before β·KL is added (explain capped ℓ, which includes the KL)."""
    dr = explain(bind(preset("dr_grpo"), 16))
    assert "1/(B · L_norm)" in dr and "|S|" not in dr
    assert "B = every sequence of the step, masked ones too" in dr
    assert "S = sequences of the step with >= 1 loss token" in explain(preset("rloo"))
    # the code: one row masked out of two still divides by 2 rows × L_norm
    cfg = bind(preset("dr_grpo"), 4)
    lp = torch.zeros(2, 4)
    half = torch.tensor([[True] * 4, [False] * 4])
    loss, _ = policy_loss(lp, lp, None, torch.tensor([1.0, 5.0]), half, cfg)
    assert loss.item() == pytest.approx(-4 / (2 * 4))
    # the dual cap: r = 5, Â = −1, c = 3, k3 KL at π_ref/π = e: ℓ = min(5, 3) + β·(e − 2),
    # not min(5 + β·KL, 3)
    dual = preset("grpo", clip="dual", beta=1.0)
    assert "capped at −c·Â_i (before any KL term)" in explain(dual)
    lp = torch.zeros(1, 1)
    one = torch.ones(1, 1, dtype=torch.bool)
    loss, _ = policy_loss(lp, lp - math.log(5), lp + 1, torch.tensor([-1.0]), one, dual)
    assert loss.item() == pytest.approx(3 + (math.e - 2), abs=1e-6)


def test_explain_with_a_budget_binds_an_unbound_config():
    """explain(preset(name), max_new_tokens) compared the unbound preset (max_len_norm None) with the bound
    presets and called every preset, GRPO's too, custom; it now binds cfg with that budget as training does."""
    for name in PRESETS:
        text = explain(preset(name), 96)
        assert text.startswith(f"Objective: preset {name}"), text.splitlines()[0]
        assert text == explain(bind(preset(name), 96), 96)
    assert "L_norm = 96" in explain(preset("dr_grpo"), 96)
    assert explain(preset("dr_grpo", max_len_norm=7), 96).startswith("Objective: custom")


def test_the_helpers_refuse_a_mask_or_rewards_that_is_not_a_tensor_of_their_shape_in_one_line():
    """normalizers, loss_mask and shape_rewards are the trainer's steps a hand-written loop calls too. A list was an
    AttributeError ('list' object has no attribute 'bool'); one row's 1-D mask counted its T tokens as T rows and
    one sequence (Dr. GRPO's divisor T x max_len_norm), and under overlong_mask broadcast to a [T, T] mask."""
    cfg = bind(preset("dapo", overlong_cache=4, overlong_mask=True), 20)
    row = torch.tensor([True, True, False])
    for call in (lambda m: normalizers(m), lambda m: loss_mask(m, torch.tensor([False, True, False]), cfg)):
        for bad in ([[True, False]], row):
            with pytest.raises(PonderError, match=r"^objective: mask must be a \[B, T\] tensor, got "):
                call(bad)
    with pytest.raises(PonderError, match=r"^objective: rewards must be a 1-D tensor, got list$"):
        shape_rewards([1.0, 0.0], torch.tensor([5, 20]), 20, cfg)
    assert normalizers(row[None]) == {"total_tokens": 2, "total_seqs": 1, "total_rows": 1}


@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.parametrize("agg", AGGREGATIONS)
@pytest.mark.parametrize("kind", ["group_mean_std", "group_mean", "rloo"])
def test_a_group_of_equal_rewards_contributes_no_gradient(name, agg, kind):
    """With a group baseline, a group whose rewards tie has no learning signal: its rows get exactly zero
    gradient under every preset, aggregation and clip, off-policy too (ratios far from 1, one that overflows),
    while the other groups' rows do get one. With a KL term, the tie group's gradient is the KL's alone."""
    X, tokens, mask, W0, old, ref, _ = _problem(5)
    old = old.clone()
    old[1, 0] = -200.0  # a ratio e^(~200): inf in float32, in the tie group
    rewards = torch.tensor([0.7, 0.7, 0.7, 0.7, 1.0, 0.0, 0.0, 1.0])  # group 0 ties, group 1 does not
    cfg = bind(preset(name, advantage=kind, aggregation=agg, overlong_cache=2), T)
    adv = compute_advantages(rewards, G, cfg)
    assert adv[:G].tolist() == [0.0] * G
    lp0 = _logp(W0, X, tokens).detach()
    for kl in ("off", "k3"):
        c = replace(cfg, kl=kl, beta=0.0 if kl == "off" else 0.1)
        x = lp0.clone().requires_grad_(True)
        loss, _ = policy_loss(x, None if c.ratio == "none" else old, ref, adv, mask, c)
        (grad,) = torch.autograd.grad(loss, x)
        assert torch.isfinite(grad).all()
        assert grad[G:][mask[G:]].abs().max() > 1e-4, "the non-tie group must get a gradient"
        if kl == "off":
            assert (grad[:G] == 0).all(), (name, agg, kind)
        else:  # only the KL term's gradient: the same with every advantage zeroed
            y = lp0.clone().requires_grad_(True)
            kl_only, _ = policy_loss(y, None if c.ratio == "none" else old, ref, torch.zeros_like(adv), mask, c,
                                     **normalizers(mask))
            (want,) = torch.autograd.grad(kl_only, y)
            torch.testing.assert_close(grad[:G], want[:G], atol=1e-7, rtol=0)


def test_explain_credits_gspos_asymmetric_range_to_gspo_and_dapos_to_dapo():
    """GSPO clips its sequence ratio in a range of its own (3e-4/4e-4): --explain called it "clip-higher ... (DAPO)"
    and listed DAPO among GSPO's references. A token ratio with clip_higher is DAPO's (cited); GSPO's is not."""
    gspo = explain(ObjectiveConfig(**PRESETS["gspo"]["config"]))
    assert "on the sequence ratio (GSPO)" in gspo and "(DAPO)" not in gspo and "DAPO" not in gspo.split("references:")[1]
    dapo = explain(ObjectiveConfig(**PRESETS["dapo"]["config"]))
    assert "clip-higher ε_low = 0.2, ε_high = 0.28 (DAPO)" in dapo and "DAPO" in dapo.split("references:")[1]
