"""Scaling out: data-parallel ranks (gloo) and Ray actors give the single-process results; faults lose nothing.

Invariants checked: the gradient of 2 ranks (each half a batch, normalizers all-reduced) equals the whole-batch
gradient; 2-rank GRPO equals 1-process GRPO; Ray-sharded samples, scores and evaluations equal local ones; a
killed actor is replaced and its prompts re-issued (0 samples lost or duplicated); stale weights are refused;
one-step off-policy generation uses the weights from one step back and ratios against their log-probs.
"""

import json
import re
import signal
import time
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

import ponder
from ponder.distributed import ddp
from ponder.errors import PonderError
from ponder.rl import objective as obj
from ponder.rl.trainer import GRPOConfig, build_batch, shared_prefix_logprobs, token_logprobs, train

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


# A run whose rows split unevenly over 2 ranks, under an objective other than GRPO's, with gradient accumulation
UNEVEN = dict(preset="dapo", objective={"group_filter": False, "minibatches": 2}, prompts_per_step=3, group_size=3,
              micro_batch=2, micro_batch_tokens=15)
# DAPO's dynamic sampling (groups all right or all wrong dropped, refilled over rounds) and its 16 minibatches: each
# minibatch is one of the few kept rows, so rank 1 holds no row of any minibatch and sums in zeros
FILTERED = dict(preset="dapo", objective={}, steps=1, prompts_per_step=3, group_size=3, micro_batch=1)


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


def _shared_prefix_grads(model, rows_):
    """Backward of a made-up loss over rows rows_ of a fixed batch of 5 completions of 2 prompts, through the
    trainer's shared_prefix_logprobs."""
    g = torch.Generator().manual_seed(1)
    prompts = [torch.randint(3, 300, (n,), generator=g).tolist() for n in (4, 7)]
    owner = [0, 0, 1, 1, 1]
    comps = [torch.randint(3, 300, (3 + 2 * i,), generator=g).tolist() for i in range(5)]
    w = torch.randn(5, 11, generator=g)
    a, b = rows_
    model.zero_grad(set_to_none=True)
    logp, _ = shared_prefix_logprobs(model, prompts, torch.tensor(owner[a:b]), comps[a:b], 1.0)
    mask = torch.zeros(logp.shape, dtype=torch.bool)
    for i, c in enumerate(comps[a:b]):
        mask[i, : len(c)] = True
    (logp * w[a:b, : logp.shape[1]] * mask).sum().backward()


def _rank(dp, state, batch, cfg, run_dir, swapped, log_dir, alarm_cfg):
    """One rank: the gradient of each objective on this rank's rows, then the 2-rank GRPO runs; then (the tests of
    a resumed run and of an alarm, sharing this spawn: each rank is a process importing torch) the resume of
    `swapped`, a run whose checkpoint a kill left set aside, the --stop-on-alarm run, and a bad input's errors."""
    # (conftest's plot-once patch is the test process's: each of the ranks' ~7 runs drew its training.png, ~1.5 s
    # of matplotlib each on the fixture's critical path)
    from conftest import plot_each_kind_of_rows_once

    plot_each_kind_of_rows_once(pytest.MonkeyPatch())
    model = ponder.Transformer(ponder.ModelConfig(**MCFG))
    model.load_state_dict(state)
    ids, attn, comp, adv, noise = batch
    grads = []
    for o in OBJECTIVES:
        ocfg = obj.bind(obj.preset(o["preset"]), 12)
        a, b = dp.share(0, ids.shape[0])
        norms = dp.sum_counts(obj.normalizers(comp[a:b]))  # counts over both ranks' rows
        _grads(model, ids, attn, comp, adv, noise, ocfg, (a, b), norms)
        # (the tiny model fits one all-reduce bucket: for one objective, buckets of a few thousand elements)
        ddp.BUCKET_NUMEL = 5000 if o["preset"] == "dapo" else 1 << 24
        dp.sync_grads(model)
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    # FSDP2: the same gradient (first objective) with the parameters sharded over the two ranks
    from torch.distributed.tensor import DTensor

    sharded = ponder.Transformer(ponder.ModelConfig(**MCFG))
    sharded.load_state_dict(state)
    ddp.apply_fsdp2(sharded, dp)  # shards the loaded weights in place
    full = ddp.full_state_dict(sharded)
    ocfg = obj.bind(obj.preset(OBJECTIVES[0]["preset"]), 12)
    a, b = dp.share(0, ids.shape[0])
    # one backward per rank: FSDP2's reduce-scatters need the same number of passes on every rank
    _grads(sharded, ids, attn, comp, adv, noise, ocfg, (a, b), dp.sum_counts(obj.normalizers(comp[a:b])), micro=5)
    fsdp = {n: p.grad.full_tensor() if isinstance(p.grad, DTensor) else p.grad for n, p in sharded.named_parameters()}
    two = ddp._train_rank(dp, cfg, run_dir, False, False)
    # DAPO's token-mean over 9 rows (shares 5/4, minibatches of 5 and 4 rows: 3/2 and 2/2), accumulated over
    # micro-batches of at most 2 rows and 15 tokens
    ddp._train_rank(dp, GRPOConfig(**{**asdict(cfg), **UNEVEN}), str(Path(run_dir).parent / "uneven"), False, False)
    ddp._train_rank(dp, GRPOConfig(**{**asdict(cfg), **FILTERED}), str(Path(run_dir).parent / "filtered"), False,
                    False)
    # The same run with FSDP2 (sharded learner, full replica generating), stopped after step 1 and resumed
    sharded_run = str(Path(run_dir).parent / "fsdp")
    ddp._train_rank(dp, GRPOConfig(**{**asdict(cfg), "fsdp": True, "steps": 1, "save_every": 1}), sharded_run,
                    False, False)
    ddp._train_rank(dp, GRPOConfig(steps=cfg.steps), sharded_run, True, False)
    # FSDP2 with the vocabulary projection in blocks of 4 rows, recomputed in backward (activation
    # checkpointing under FSDP2: the tied head's weights must be unsharded when the blocks are recomputed)
    from ponder.rl import trainer

    budget, trainer.LOGIT_BUDGET = trainer.LOGIT_BUDGET, MCFG["vocab_size"] * 4
    try:
        _shared_prefix_grads(sharded, dp.share(0, 5))
    finally:
        trainer.LOGIT_BUDGET = budget
    blocked = {n: p.grad.full_tensor() for n, p in sharded.named_parameters()}
    # a step skipped for one rank's reason is skipped on every rank, with that reason (the row rank 0 writes)
    assert dp.agree("non-finite loss" if dp.rank == 1 else None) == "non-finite loss"
    assert dp.agree(None) is None
    resumed = _resume_recording_recovers(dp, swapped, log_dir)
    _with_stderr_in(Path(log_dir) / f"alarm{dp.rank}.err", lambda: ddp._train_rank(
        dp, alarm_cfg, str(Path(run_dir).parent / "alarm"), False, False))
    partly_used = _partly_used_step((2 * dp.rank, 2 * dp.rank + 2), dp.sync_grads)
    _cli_json(dp, cfg.model, Path(log_dir))
    _cli_errors(dp, cfg.model, Path(log_dir))
    return grads, two, fsdp, full, blocked, resumed, partly_used


def _cli_json(dp, model, logs):
    """`ponder grpo --json` in this torchrun-style rank, as `torchrun --nproc_per_node 2 -m ponder.cli grpo ... --json`
    runs it on each rank (test_grpo_under_torchrun_prints_its_result_once; [exit code, stdout] in logs/jsonN.json)."""
    import contextlib
    import io

    from ponder.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["grpo", "--model", model, "--steps", "1", "--prompts-per-step", "2", "--group-size", "2",
                   "--max-new-tokens", "2", "--eval-n", "2", "--quiet", "--json", "--out", str(logs / "json")])
    (logs / f"json{dp.rank}.json").write_text(json.dumps([rc, out.getvalue()]))


def _cli_errors(dp, model, logs):
    """`ponder grpo` on a bad --data file in this torchrun-style rank: every rank given the same file, then rank 1
    another (test_an_error_every_torchrun_rank_meets_is_said_once_by_rank_0; [[exit code, stderr], ...] in
    logs/cliN.json). Both fail before any collective."""
    import contextlib
    import io
    import os

    from ponder.cli import main

    said = []
    for run, data in (("same", "bad"), ("own", "bad" if dp.rank == 0 else "other")):
        # (spawn's store stands in for torchrun's agent's; each run a torchrun of its own)
        os.environ.update(TORCHELASTIC_USE_AGENT_STORE="True", TORCHELASTIC_RUN_ID=run)
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                said.append([main(["grpo", "--model", model, "--data", str(logs / f"{data}.jsonl"), "--steps", "1",
                                   "--quiet", "--out", str(logs / run)]), err.getvalue()])
        finally:
            del os.environ["TORCHELASTIC_USE_AGENT_STORE"], os.environ["TORCHELASTIC_RUN_ID"]
    (logs / f"cli{dp.rank}.json").write_text(json.dumps(said))


def _partly_used_layers():
    torch.manual_seed(2)
    return torch.nn.ModuleDict({k: torch.nn.Linear(3, 2) for k in "abc"})


def _partly_used_step(rows_, sync=None):
    """One AdamW step (weight decay on) of three linear layers over rows rows_ of 4: "a" used by every row, "b" by
    rows 0-1 only (rank 1 has no gradient for it), "c" by none; -> the weights after the step."""
    m = _partly_used_layers()
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(3))
    opt = torch.optim.AdamW(m.parameters(), lr=0.1, weight_decay=0.5)
    a, b = rows_
    loss = m["a"](x[a:b]).square().sum()
    if a < 2:
        loss = loss + m["b"](x[a:min(b, 2)]).sum()
    loss.backward()
    if sync:
        sync(m)
    opt.step()
    return {n: p.detach().clone() for n, p in m.named_parameters()}


def _with_stderr_in(path, fn):
    """fn(), with this process's stderr (file descriptor 2) in the file `path` meanwhile."""
    import os
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "w") as f:
        os.dup2(f.fileno(), 2)
    try:
        return fn()
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


# The single-process runs the 2-rank ones of the shared spawn are compared with
SWAP = dict(SMALL, save_every=1)
ALARM = dict(SMALL, steps=4, max_new_tokens=1, stop_on_alarm=True, prompts_per_step=2, group_size=2)


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory, tokenizer, ckpt, data):
    """One spawn of 2 gloo ranks (_rank) for the tests comparing 2 ranks with one process: the model and batch of
    the gradient checks, and the directory of the ranks' runs ("two", "uneven", "fsdp", "swap", "alarm", and
    "logs": what the resume recovered, each rank's stderr in the alarm run, what the command line said on each
    rank). (Each spawn of 2 ranks costs ~10 s of CPU, each rank importing torch: the tests of 2 ranks that can
    share one do.)"""
    tmp = tmp_path_factory.mktemp("two_ranks")
    model = ponder.Transformer(ponder.ModelConfig(**MCFG)).init_weights(3, std=0.1)
    batch = _batch(tokenizer)
    cfg = dict(SMALL, model=str(ckpt), data=str(data), objective={"minibatches": 2})
    swapped = train(GRPOConfig(**dict(SWAP, model=str(ckpt), data=str(data), steps=1)), tmp / "swap", progress=False)
    (swapped / "checkpoint").rename(swapped / ".checkpoint.old-999999999")  # a kill -9 between the swap's renames
    (tmp / "logs").mkdir()
    (tmp / "logs" / "bad.jsonl").write_text('{"prompt": "x"\n')  # (_cli_errors' files)
    (tmp / "logs" / "other.jsonl").write_text('{"prompt": "x", "answer": "1"}\n{"prompt": \n')
    ranks = ddp.spawn(_rank, 2, model.state_dict(), batch, GRPOConfig(**cfg), str(tmp / "two"), str(swapped),
                      str(tmp / "logs"), GRPOConfig(**dict(ALARM, model=str(ckpt), data=str(data))), threads=1)
    return model, batch, cfg, ranks, tmp


def test_two_ranks_equal_one_process(tmp_path, two_ranks):
    """(1) the gradient of 2 gloo ranks, each with part of a batch and the normalizers all-reduced, equals the
    whole-batch gradient for every aggregation, also sharded with FSDP2, and with FSDP2 and the vocabulary
    projection in checkpointed blocks; (2) GRPO on 2 ranks equals GRPO in one process, as does DAPO over rows
    that split unevenly, accumulated over micro-batches."""
    model, batch, cfg, ranks, shared = two_ranks
    ids, attn, comp, adv, noise = batch
    for k, o in enumerate(OBJECTIVES):
        ocfg = obj.bind(obj.preset(o["preset"]), 12)
        _grads(model, ids, attn, comp, adv, noise, ocfg, (0, 5), obj.normalizers(comp), micro=5)
        total = 0.0
        for n, p in model.named_parameters():
            total += float(p.grad.abs().sum())
            for grads, *_ in ranks:  # both ranks hold the summed gradient, equal to the single-process one
                torch.testing.assert_close(grads[k][n], p.grad, rtol=1e-5, atol=1e-7, msg=f"{o} {n}")
            if k == 0:
                for _, _, fsdp, *_ in ranks:
                    torch.testing.assert_close(fsdp[n], p.grad, rtol=1e-5, atol=1e-7, msg=f"fsdp2 {n}")
                torch.testing.assert_close(ranks[0][3][n], model.state_dict()[n])  # gathered on rank 0
        assert total > 1e-3, o  # the comparison is not between zeros
    _shared_prefix_grads(model, (0, 5))  # one process, the head in one block
    for n, p in model.named_parameters():
        for *_, blocked, _resumed, _partly in ranks:
            torch.testing.assert_close(blocked[n], p.grad, rtol=1e-5, atol=1e-6 * float(p.grad.abs().max()),
                                       msg=f"fsdp2 head blocks {n}")

    one = train(GRPOConfig(**cfg), tmp_path / "one", progress=False)
    two = shared / "two"
    assert ranks[0][1] == str(two) and not (two / "rank1").exists()
    a, b = rows(one), rows(two)
    assert all(x["samples"] == 12 for x in b) and all(x["grad_norm"] > 0 for x in a)
    assert_rows_close(a, b)
    wa = ponder.load(one / "checkpoint")[0].state_dict()
    wb = ponder.load(two / "checkpoint")[0].state_dict()
    for n in wa:
        torch.testing.assert_close(wa[n], wb[n], rtol=1e-4, atol=1e-6)
    uneven = train(GRPOConfig(**{**cfg, **UNEVEN}), tmp_path / "one_uneven", progress=False)
    assert [x["samples"] for x in rows(uneven)] == [9, 9] and all(x["grad_norm"] > 0 for x in rows(uneven))
    assert_rows_close(rows(uneven), rows(shared / "uneven"))
    wu, wv = (ponder.load(r / "checkpoint")[0].state_dict() for r in (uneven, shared / "uneven"))
    for n in wu:
        torch.testing.assert_close(wu[n], wv[n], rtol=1e-4, atol=1e-6)
    filtered = train(GRPOConfig(**{**cfg, **FILTERED}), tmp_path / "one_filtered", progress=False)
    (x,) = rows(filtered)
    assert x["gen_rounds"] > 1 and 0 < x["groups_trained"] < 3 and x["grad_norm"] > 0, x  # refilled, filtered
    assert_rows_close(rows(filtered), rows(shared / "filtered"))
    wf, wg = (ponder.load(r / "checkpoint")[0].state_dict() for r in (filtered, shared / "filtered"))
    for n in wf:
        torch.testing.assert_close(wf[n], wg[n], rtol=1e-4, atol=1e-6)
    # (3) FSDP2 on 2 ranks, killed-and-resumed style (1 step, then --resume to 2), equals the one process too
    sharded = shared / "fsdp"
    assert json.loads((sharded / "config.json").read_text())["grpo"]["fsdp"]
    assert_rows_close(a, rows(sharded))
    wc = ponder.load(sharded / "checkpoint")[0].state_dict()
    for n in wa:
        torch.testing.assert_close(wa[n], wc[n], rtol=1e-4, atol=1e-6)


def test_ddp_bad_input(tmp_path, ckpt, data):
    cfg = GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data)))
    t = time.perf_counter()
    with pytest.raises(PonderError, match="13 ranks but only 12 samples"):
        ddp.train_ddp(cfg, tmp_path / "x", nproc=13, progress=False)
    assert time.perf_counter() - t < 1  # refused before any process starts
    with pytest.raises(PonderError, match="off_policy with several data-parallel ranks"):
        ddp.train_ddp(GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data), off_policy=True)), tmp_path / "y",
                      nproc=2, progress=False)
    with pytest.raises(PonderError, match="nproc must be a positive integer"):
        ddp.spawn(_rank, 0)
    # --device cuda: the gloo ranks spawned here each loaded the whole model onto cuda:0 (torchrun gives one GPU each)
    with pytest.raises(PonderError, match=r"^--nproc 2 spawns CPU ranks \(gloo\), which would all train on cuda; for "
                                          r"GPU ranks launch with torchrun --nproc_per_node 2"):
        ddp.train_ddp(GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data), device="cuda")), tmp_path / "c",
                      nproc=2, progress=False)
    assert not (tmp_path / "c").exists()
    # train_ddp's own nproc: 0, a negative count or True trained in one process as if nproc were 1, and "2" was a
    # TypeError from the world-size check
    for bad in (0, -2, True, 2.5, "2"):
        with pytest.raises(PonderError, match=re.escape(f"nproc must be a positive integer, got {bad!r}")):
            ddp.train_ddp(cfg, tmp_path / "z", nproc=bad, progress=False)
        assert not (tmp_path / "z").exists()


def test_torchrun_rank_of_a_cpu_learner_uses_gloo_where_cuda_is_available(tmp_path, ckpt, data, monkeypatch):
    """Under torchrun the backend was NCCL whenever CUDA was available, also for a --device cpu learner (the
    default), whose CPU gradients NCCL cannot all-reduce: the run failed at its first update."""
    import torch.distributed as dist

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a GPU machine
    monkeypatch.setattr(ddp, "_train_rank", lambda dp, *a: dist.get_backend())
    for k, v in dict(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                     MASTER_PORT=str(ddp.free_port())).items():
        monkeypatch.setenv(k, v)
    cfg = GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data)))
    assert cfg.device == "cpu" and str(ddp.train_ddp(cfg, tmp_path / "r", progress=False)) == "gloo"
    assert not dist.is_initialized()



def test_torchrun_rank_in_a_callers_group_of_another_size_is_one_line(tmp_path, ckpt, data, monkeypatch):
    """A process group the caller initialised is trained in as found, but each rank's share of a batch came from
    RANK / WORLD_SIZE: in a group of another size (a script's own init_process_group arguments) the ranks split
    the batch for ranks that do not exist, and trained on part of it. The mismatch is refused, the group left."""
    import torch.distributed as dist

    for k, v in dict(RANK="0", WORLD_SIZE="2", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                     MASTER_PORT=str(ddp.free_port())).items():
        monkeypatch.setenv(k, v)
    cfg = GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data), steps=1, prompts_per_step=2, group_size=2,
                            max_new_tokens=4))
    dist.init_process_group("gloo", rank=0, world_size=1)
    try:
        with pytest.raises(PonderError, match=r"^distributed: the process group this process already has is rank 0 "
                                              r"of 1, but RANK=0 WORLD_SIZE=2 say rank 0 of 2"):
            ddp.train_ddp(cfg, tmp_path / "r", progress=False)
        assert dist.is_initialized() and not (tmp_path / "r").exists()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_cpu_learner_in_a_callers_nccl_group_is_one_line(tmp_path, ckpt, data, monkeypatch):
    """A script's own dist.init_process_group("nccl") and a CPU learner (GRPOConfig's default device): the run loaded
    the model and generated the step's rollout, then failed at its first all-reduce of CPU tensors ("No backend type
    associated with device type cpu"). Refused first, the group left. (No GPU here: a gloo group reporting itself as
    NCCL stands in for one.)"""
    import torch.distributed as dist

    for k, v in dict(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                     MASTER_PORT=str(ddp.free_port())).items():
        monkeypatch.setenv(k, v)
    cfg = GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data), steps=1, prompts_per_step=2, group_size=2,
                            max_new_tokens=4))
    dist.init_process_group("gloo", rank=0, world_size=1)
    try:
        monkeypatch.setattr(ddp.dist, "get_backend", lambda *a: "nccl")
        with pytest.raises(PonderError, match=r"^distributed: the process group this process already has is NCCL, "
                                              r"which cannot reduce the CPU learner's tensors; train on the GPU"):
            ddp.train_ddp(cfg, tmp_path / "r", progress=False)
        assert dist.is_initialized() and not (tmp_path / "r").exists()
    finally:
        monkeypatch.undo()
        if dist.is_initialized():
            dist.destroy_process_group()


def _collective_timeout(dp, *a):
    import torch.distributed as dist

    return str(dist.distributed_c10d._get_default_group()._get_backend(torch.device("cpu")).options._timeout)


@pytest.mark.parametrize("value,seconds", [(None, 1800), ("7200", 7200), ("90.5", 90.5)])
def test_collective_timeout_is_set_by_the_environment(tmp_path, ckpt, data, monkeypatch, value, seconds):
    """Rank 0 alone runs the held-out evaluation while the other ranks wait in a collective: a long evaluation hit
    the fixed 1800 s timeout and ended the run. PONDER_DIST_TIMEOUT_S sets it."""
    from datetime import timedelta

    monkeypatch.setattr(ddp, "_train_rank", _collective_timeout)
    for k, v in dict(RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(ddp.free_port())).items():
        monkeypatch.setenv(k, v)
    if value is None:
        monkeypatch.delenv("PONDER_DIST_TIMEOUT_S", raising=False)
    else:
        monkeypatch.setenv("PONDER_DIST_TIMEOUT_S", value)
    cfg = GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data)))
    assert ddp.train_ddp(cfg, tmp_path / "r", progress=False) == Path(str(timedelta(seconds=seconds)))


def _timed_out(dp, *a):
    raise RuntimeError("[/__w/pytorch/pytorch/third_party/gloo/gloo/transport/tcp/unbound_buffer.cc:78] Timed out "
                       "waiting 1800000ms for recv operation to complete")


def test_torchrun_rank_whose_collective_timed_out_names_the_setting(tmp_path, ckpt, data, monkeypatch):
    """Under torchrun a rank that waited past the collective timeout printed gloo's line alone ('RuntimeError: [...]
    Timed out waiting 1800000ms for recv operation to complete'), not which setting allows longer."""
    monkeypatch.setattr(ddp, "_train_rank", _timed_out)
    for k, v in dict(RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(ddp.free_port())).items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("PONDER_DIST_TIMEOUT_S", raising=False)
    with pytest.raises(PonderError, match=r"^data-parallel rank 0: RuntimeError: .*Timed out waiting 1800000ms .*; "
                                          r"the other ranks did not join a collective within "
                                          r"PONDER_DIST_TIMEOUT_S=1800 s: .*raise PONDER_DIST_TIMEOUT_S$"):
        ddp.train_ddp(GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data))), tmp_path / "r", progress=False)


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "inf", "1e12"])
def test_malformed_collective_timeout_is_one_line_before_any_rank_starts(tmp_path, ckpt, data, monkeypatch, value):
    monkeypatch.setenv("PONDER_DIST_TIMEOUT_S", value)
    with pytest.raises(PonderError, match=rf"PONDER_DIST_TIMEOUT_S='{re.escape(value)}' must be a number of seconds"):
        ddp.train_ddp(GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data))), tmp_path / "r", nproc=2,
                      progress=False)
    assert not (tmp_path / "r").exists()  # refused before any rank starts


@pytest.mark.parametrize("env,match", [(dict(RANK="x"), r"RANK='x' must be an integer >= 0"),
                                       (dict(WORLD_SIZE="0"), r"WORLD_SIZE='0' must be an integer >= 1"),
                                       (dict(RANK="2"), r"RANK=2 is not below WORLD_SIZE=2"),
                                       (dict(MASTER_PORT="29500x"), r"MASTER_PORT='29500x' must be an integer in "
                                                                    r"\[1, 65535\]"),
                                       (dict(MASTER_PORT="70000"), r"MASTER_PORT='70000' must be an integer in"),
                                       # (torch's ValueError: "MASTER_ADDR expected, but not set", of one set empty)
                                       (dict(MASTER_ADDR=""), r"environment variable MASTER_ADDR is empty")])
def test_torchrun_environment_that_is_not_integers_is_one_line(tmp_path, ckpt, data, monkeypatch, env, match):
    """A malformed RANK/WORLD_SIZE/MASTER_PORT from a launcher was a bare ValueError from int() (or a hang in the rendezvous
    for a rank past the world), not a line naming the variable."""
    for k, v in {**dict(RANK="0", WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT="1"), **env}.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(PonderError, match=match):
        ddp.train_ddp(GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data), prompts_per_step=2)),
                      tmp_path / "r", progress=False)


@pytest.mark.parametrize("nproc", [2, 3])
def test_nproc_under_torchrun_is_refused_not_ignored(tmp_path, ckpt, data, monkeypatch, nproc):
    """`torchrun --nproc_per_node 1 -m ponder.cli grpo --nproc 2` trained on one rank, the --nproc 2 asked for
    silently ignored (as was a --nproc other than torchrun's world size); it is refused before the rank joins."""
    for k, v in dict(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                     MASTER_PORT=str(ddp.free_port())).items():
        monkeypatch.setenv(k, v)
    with pytest.raises(PonderError, match=rf"^nproc={nproc} spawns ranks here, but torchrun started this process as "
                                          r"rank 0 of WORLD_SIZE=1: drop --nproc \(torchrun's --nproc_per_node"):
        ddp.train_ddp(GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data))), tmp_path / "r", nproc=nproc,
                      progress=False)
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA learner under torchrun where there is no GPU")
def test_torchrun_rank_of_a_cuda_learner_without_a_gpu_is_one_line(tmp_path, ckpt, data, monkeypatch):
    """--device cuda under torchrun picks NCCL; with no GPU the rank failed in torch.cuda.set_device with
    "AttributeError: module 'torch._C' has no attribute '_cuda_setDevice'"."""
    for k, v in dict(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                     MASTER_PORT=str(ddp.free_port())).items():
        monkeypatch.setenv(k, v)
    cfg = GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data), device="cuda"))
    with pytest.raises(PonderError, match=r"^distributed: NCCL rank 0 \(LOCAL_RANK=0\): device 'cuda:0' is not "
                                          r"available \(.*\); use --device cpu$"):
        ddp.train_ddp(cfg, tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("device,refused", [("cuda:0", True), ("cuda", False), ("cuda:1", False)])
def test_nccl_rank_whose_learner_names_another_gpu_is_one_line(tmp_path, ckpt, data, monkeypatch, device, refused):
    """Every NCCL rank reduces on cuda:LOCAL_RANK; --device cuda:0 under torchrun loaded every rank's model onto GPU
    0, where NCCL failed after the model loaded. Rank 1 (cuda:1) now refuses it first; --device cuda (the rank's own
    GPU) or its own index goes on to train() (here, with no GPU, no further: stopped in place of train)."""
    from ponder.rl import trainer

    monkeypatch.setattr(trainer, "train", lambda *a, **k: "trained")
    cfg = GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data), device=device))
    dp = ddp.DataParallel(1, 2, torch.device("cuda:1"))  # (a device object only: no GPU needed)
    if refused:
        with pytest.raises(PonderError, match=r"^--device cuda:0: under torchrun each rank trains on its own GPU "
                                              r"\(rank 1: cuda:1, from LOCAL_RANK\), not all on one; use --device cuda$"):
            ddp._train_rank(dp, cfg, str(tmp_path / "r"), False, False)
    else:
        assert ddp._train_rank(dp, cfg, str(tmp_path / "r"), False, False) == "trained"
    assert not (tmp_path / "r").exists()
    if refused:  # a resumed run's device is its config.json's (no --device to change it): resume it as one process
        with pytest.raises(PonderError, match=r"^\S+/r/config.json: the run trains on cuda:0, but under torchrun each "
                                              r"rank trains on its own GPU \(rank 1: cuda:1, from LOCAL_RANK\); resume "
                                              r"it as one process$"):
            ddp._train_rank(dp, cfg, str(tmp_path / "r"), True, False)


@pytest.mark.parametrize("text,match", [('{"kind": "grpo", "grpo": {', r"config.json: invalid JSON"),
                                        ('{"kind": "grpo", "grpo": {"group_size": "x"}}', r"grpo.group_size: expected int"),
                                        ('[]', r"config.json: expected a JSON object")])
def test_ddp_resume_of_a_broken_config_is_one_line(tmp_path, text, match):
    """--resume --nproc N reads the run's config.json to check N against it: a broken one used to escape as a raw
    JSONDecodeError / TypeError / AttributeError instead of the one line the single-process resume gives."""
    (tmp_path / "config.json").write_text(text)
    t = time.perf_counter()
    with pytest.raises(PonderError, match=match):
        ddp.train_ddp(GRPOConfig(steps=0), tmp_path, nproc=2, resume=True, progress=False)
    assert time.perf_counter() - t < 1  # refused before any rank starts


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
    # trained on one-step-old samples: the per-token ratios see it (their mean may still sit near 1)
    assert max(b[1]["ratio_max"] - 1.0, 1.0 - b[1]["ratio_min"]) > 1e-3
    assert max(b[0]["ratio_max"] - 1.0, 1.0 - b[0]["ratio_min"]) < 1e-4
    assert a[0]["loss"] == pytest.approx(b[0]["loss"], rel=1e-3, abs=1e-6)
    with pytest.raises(PonderError, match="off_policy needs an importance ratio"):
        train(GRPOConfig(**dict(cfg, preset="rloo", objective={}), off_policy=True), tmp_path / "x",
              progress=False)


def test_behaviour_logprobs_are_the_trainers_logprobs(tiny_random):
    from ponder.rl.trainer import behaviour_logprobs

    model, tok = tiny_random
    groups = ponder.sample(model, tok, ["Problem: 3 + 4", "hello there"], n=3, max_new_tokens=10, seed=1,
                           temperature=0.7)
    samples = [s for g in groups for s in g]
    comps = [s.token_ids for s in samples]
    with torch.no_grad():  # the trainer's log-probs: prompts shared, completion frame
        lp = shared_prefix_logprobs(model, [g[0].prompt_ids for g in groups], torch.tensor([0] * 3 + [1] * 3),
                                    comps, 0.7)[0]
    got = behaviour_logprobs(groups, lp.shape)
    comp = torch.zeros(lp.shape, dtype=torch.bool)
    for i, c in enumerate(comps):
        comp[i, : len(c)] = True
    torch.testing.assert_close(got[comp], lp[comp], rtol=1e-4, atol=1e-4)
    assert (got[~comp] == 0).all()


# ---- Ray (a local cluster with 2 CPUs, 2 actors, shared by the tests below) ------------------------------
PROMPTS = ["Problem: 3 + 4", "hello", "the quick brown fox jumps over", "12 + 30 =", "Problem: (7 - 2) * 3 = ?"]


def test_unreachable_ray_address_fails_fast():
    pytest.importorskip("ray")
    from ponder.distributed.ray_workers import ray_session

    t = time.perf_counter()
    with pytest.raises(PonderError, match="cannot reach a Ray cluster at 127.0.0.1:1"):
        with ray_session("127.0.0.1:1", timeout_s=2):
            pass
    assert time.perf_counter() - t < 10


def test_ray_address_whose_host_name_lookup_hangs_fails_within_the_probe_timeout(monkeypatch):
    """The probe's timeout bounded the TCP connect only: the name lookup before it (a DNS server that does not answer)
    took the resolver's own time, 10 to 30 s and more, before the "fast" failure. Here the lookup answers (a listening
    port) only after a while; the probe must have given up at its timeout by then."""
    import socket
    import threading

    from ponder.distributed.ray_workers import probe

    release, real = threading.Event(), socket.getaddrinfo
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]

        def slow(host, *a, **kw):
            if host == "slow.invalid":
                release.wait(5)  # (bounded: the unbounded probe waits it out, then connects)
                host = "127.0.0.1"
            return real(host, *a, **kw)

        monkeypatch.setattr(socket, "getaddrinfo", slow)
        try:
            with pytest.raises(PonderError, match=rf"^--ray slow.invalid:{port}: cannot reach .*slow.invalid.* 0.1 s"):
                probe(f"slow.invalid:{port}", 0.1)
        finally:
            release.set()


def test_ray_probe_tries_each_address_of_the_host(monkeypatch):
    """As create_connection does: "localhost" may resolve to ::1 first, where a head listening on 127.0.0.1 is not."""
    import socket

    from ponder.distributed.ray_workers import probe

    real = socket.getaddrinfo
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **kw: real("127.0.0.2", *a, **kw) + real(
            "127.0.0.1", *a, **kw) if host == "two.invalid" else real(host, *a, **kw))
        probe(f"two.invalid:{port}", 1)


@pytest.mark.parametrize("address", ["127.0.0.1:99999", "127.0.0.1:-1", ":6379", "ray://:10001", "h:", "h:6379x"])
def test_malformed_ray_address_is_refused_as_such(address):
    """A port out of range or a missing host was probed as given: "cannot reach a Ray cluster at 127.0.0.1:99999
    (Connection refused)", "... at :6379:6379": a cluster that is down, not an address that cannot be one."""
    from ponder.distributed.ray_workers import probe

    with pytest.raises(PonderError, match=rf"^--ray '{re.escape(address)}': expected HOST:PORT \(PORT in 1..65535\)"):
        probe(address, 1)


@pytest.mark.parametrize("address", ["head..example.com:6379", "ray://" + "x" * 64 + ":10001"])
def test_ray_address_whose_host_cannot_be_a_host_name_is_one_line(address):
    """A host with an empty or over-long label (a typo's double dot) was a UnicodeError traceback from the idna
    codec as the address was probed, and check_address, run as the arguments are checked, passed it."""
    from ponder.distributed.ray_workers import check_address, probe

    for check in (check_address, lambda a: probe(a, 1)):
        with pytest.raises(PonderError, match=rf"^--ray '{re.escape(address)}': .*not a valid host name"):
            check(address)


@pytest.mark.parametrize("address", ["http://127.0.0.1:8265", "https://head:443", "tcp://head:6379"])
def test_ray_address_of_another_scheme_is_refused_as_the_arguments_are_checked(address):
    """The dashboard's http:// address (the one `ray start --head` prints for job submission) passed check_address,
    so the model loaded first; then ray.init refused it with a line about RAY_ADDRESS, which was never set."""
    from ponder.distributed.ray_workers import check_address

    with pytest.raises(PonderError, match=rf"^--ray '{re.escape(address)}': expected HOST:PORT.*ray://HOST:PORT"):
        check_address(address)


@pytest.mark.parametrize("env", ["PONDER_RAY_START_TIMEOUT_S", "PONDER_RAY_CALL_TIMEOUT_S"])
def test_malformed_ray_timeout_is_refused_as_the_arguments_are_checked(monkeypatch, env):
    """The CLI checks --ray as it checks its arguments (check_address); a malformed timeout was said only as the
    pool was made: `ponder eval --ray` had loaded its model (and judge) by then."""
    from ponder.distributed.ray_workers import check_address

    monkeypatch.setenv(env, "2m")
    for address in (None, "local", "127.0.0.1:6379"):
        with pytest.raises(PonderError, match=rf"^Ray: environment variable {env}='2m' must be a number of seconds"):
            check_address(address)


def test_ray_address_without_a_port_takes_rays_default():
    from ponder.distributed.ray_workers import _host_port

    assert _host_port("head") == ("head", 6379) and _host_port("ray://head") == ("head", 10001)
    assert _host_port("ray://head:10002") == ("head", 10002) and _host_port("[::1]:6380") == ("::1", 6380)


@pytest.mark.parametrize("address, joined", [("head", "head:6379"), ("ray://head", "ray://head:10001"),
                                              ("[::1]", "[::1]:6379"), ("head:6380", "head:6380")])
def test_ray_address_without_a_port_is_joined_at_rays_default(monkeypatch, address, joined):
    """--ray head was probed at head:6379, then handed to ray.init as given, which refuses a GCS address without a
    port ("Invalid address format: head"); the Ray client would take another default port than the probed one."""
    ray = pytest.importorskip("ray")
    from ponder.distributed import ray_workers

    asked = []
    monkeypatch.setattr(ray_workers, "probe", lambda a, t: None)
    monkeypatch.setattr(ray_workers, "probe_gcs", lambda a, t: asked.append(a))
    monkeypatch.setattr(ray, "is_initialized", lambda: False)

    def init(address=None, **kw):
        asked.append(address)
        raise ConnectionError("stop here")

    monkeypatch.setattr(ray, "init", init)
    with pytest.raises(PonderError, match="stop here"):
        with ray_workers.ray_session(address):
            pass
    assert asked == ([joined] if "://" in address else [joined, joined])


# The Ray scenarios that need a Ray session (or a process) of their own run in one process, one after another: a
# local Ray start costs seconds, and a process importing torch and ponder more. The sessions are those the scenarios
# describe: a ray_session started pinned to one core ("pinned"), none ("too_many"), a caller's own ray.init that the
# CPU-held scenarios share ("users_ray", "held", "interrupted", "taken", each leaving its CPU free) and where a
# pool's actors import another ponder ("other_ponder"), a ray_session that SIGTERM stops ("sigterm"), and one
# that fails to start ("failed_start"). Each scenario prints its lines after "== NAME" (on stdout and stderr); the
# runner then shuts down a session it left, and puts back the affinity and SIGTERM's default handler.
_PINNED = """
def pinned():  # started pinned to one core: counts the cores the process may use, and ends normally
    before = signal.getsignal(signal.SIGTERM)
    with ray_session() as session:
        print(session.cluster_resources().get("CPU"))
        try:
            RayPool(2).start().close()
            print("started")
        except PonderError as e:
            print(e)
    print(signal.getsignal(signal.SIGTERM) == before)
"""


_TOO_MANY = """
def too_many():
    cores = len(os.sched_getaffinity(0))
    try:
        train_ray(GRPOConfig(**ARGS["too_many"]), ARGS["out"] + "/run", workers=cores + 1, progress=False)
    except PonderError as e:
        print(cores, e)
"""


_USERS_RAY = """
def caller_init():  # a caller's own session, of 1 CPU, which the scenarios after it share
    ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)


def users_ray():  # in the caller's own ray.init (the runner's, of 1 CPU)
    from conftest import plot_each_kind_of_rows_once  # (the session's: the runs' training.png drawn once a kind)

    plot_each_kind_of_rows_once(pytest.MonkeyPatch())
    for run in ("a", "b"):  # b: the CPU a's actor held is free again
        train_ray(GRPOConfig(**ARGS["users_ray"]), ARGS["out"] + "/" + run, workers=1, progress=False)
        print(run, ray.is_initialized(), flush=True)
"""


_OTHER_PONDER = """
def other_ponder():
    # the actors import another ponder (the copy in ARGS["other"], version 9.9): a node with another install (in
    # the caller's session of 1 CPU, free again after the scenarios before: a Ray start of its own is ~6 s of CPU)
    pool = RayPool(1)
    pool.options["runtime_env"] = {"env_vars": {"PYTHONPATH": ARGS["other"]}}  # (given to its actors' ray.remote)
    try:
        pool.start()
    except PonderError as e:
        print(len(pool.actors), str(e).split(":")[0], flush=True)
    print(ray.available_resources().get("CPU", 0.0) if ray.wait([ray.remote(num_cpus=1)(lambda: 1).remote()],
                                                                timeout=120)[0] else "held", flush=True)
"""


# ray.init sets its handler at every start, this session's included: here the CLI's handler is fired by a SIGTERM.
_SIGTERM = """
def sigterm():
    with _sigterm_as_interrupt():
        try:
            with ray_session(num_cpus=1):
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(60)
        except KeyboardInterrupt as e:  # the CLI's handler fired: a second SIGTERM in the cleanup is the default's
            print(signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
            print(type(e).__name__, ray.is_initialized())
"""


_FAILED_START = """
def mine(signum, frame):
    pass


def failed_start():
    import psutil  # (Ray's copy, on the path once ray is imported)

    def children():
        return {(p.pid, p.name()) for p in psutil.Process().children(recursive=True) if p.status() != "zombie"}

    signal.signal(signal.SIGTERM, mine)
    before, init = children(), ray.init
    # Ray's own refusal of -1 CPUs, which comes after its GCS has started (ray_session refuses -1 before Ray starts)
    ray.init = lambda **kw: init(**{**kw, "num_cpus": -1})
    try:
        with ray_session(num_cpus=1):
            print("'started'")
    except PonderError as e:
        print(repr(str(e)))
    except Exception as e:
        print(repr("raw " + type(e).__name__))
    finally:
        ray.init = init
    print(signal.getsignal(signal.SIGTERM) is mine)
    print(sorted(name for _, name in children() - before))  # what the failed start left running
"""


# Three scenarios on a cluster whose only CPU another job's actor holds, run one after another in one local Ray
# instance of 1 CPU (not the Ray tests' shared instance below, whose CPUs their pool holds). Each ends by running a
# later task needing that CPU once it is free, which a pending actor it left behind would take (a task, not a later
# pool: no actor to start, importing torch); so each scenario's leak shows in its own "later task ran" line, and the
# next one starts on a free cluster.
_HELD = """
def later():
    print("later task ran" if ray.wait([ray.remote(num_cpus=1)(lambda: 1).remote()], timeout=120)[0] else
          "later task waited 120 s for the CPU", flush=True)


def held():
    holder = ray.remote(num_cpus=1)(type("Holder", (), {"ping": lambda self: 1})).remote()  # another job's actor
    ray.get(holder.ping.remote())
    try:
        RayPool(1, start_timeout_s=1).start()  # (never placed while the holder lives: the deadline is waited out)
        print("started")
    except PonderError as e:
        print(repr(str(e)))
    ray.kill(holder)
    later()  # a pending actor left by the failed start would take the CPU
"""


_INTERRUPTED = """
def interrupted():
    holder = ray.remote(num_cpus=1)(type("Holder", (), {"ping": lambda self: 1})).remote()  # another job's actor
    ray.get(holder.ping.remote())
    pool = RayPool(1, start_timeout_s=600)
    waiting, wait = threading.Event(), ray.wait

    def waits(*a, **kw):  # start() waits for its actor (a second after the actor existed was assumed: on a loaded
        waiting.set()     # machine start() could be short of its wait then, and a Ctrl-C there another case)
        return wait(*a, **kw)

    def ctrl_c():  # Ctrl-C while start() waits: its actor exists, and cannot be placed while the holder lives
        if waiting.wait(300):  # (one that lands before wait() is entered is raised in waits(), inside the same wait)
            os.kill(os.getpid(), signal.SIGINT)

    ray.wait = waits
    threading.Thread(target=ctrl_c, daemon=True).start()
    try:
        pool.start()
        print("'started'")
    except KeyboardInterrupt:
        print(repr(f"interrupted, {len(pool.actors)} actors left"))
    finally:
        ray.wait = wait
    ray.kill(holder)
    later()  # a pending actor left by the interrupted start would take the CPU
"""


_TAKEN = """
def taken():
    pool = RayPool(1, start_timeout_s=120).start()
    pool.start_timeout_s = 1  # the replacement's deadline, waited out below: the holder takes the only CPU
    ray.kill(pool.actors[0])
    holder = ray.remote(num_cpus=1)(type("Holder", (), {"ping": lambda self: 1})).remote()  # takes the freed CPU
    ray.get(holder.ping.remote())
    try:
        pool.score(lambda c, it: c, ["a"], [{}])
        print("scored")
    except PonderError as e:
        print(repr(str(e)))
    pool.close()
    ray.kill(holder)
    later()  # a pending replacement left behind would take the CPU
"""


_RAY_SCENARIOS = """
import os, signal, sys, threading, time
import pytest
CORES = os.sched_getaffinity(0)
os.sched_setaffinity(0, {min(CORES)})  # (for "pinned", the first)
import ray
from ponder.cli import _sigterm_as_interrupt
from ponder.distributed.ray_workers import RayPool, ray_session, train_ray
from ponder.errors import PonderError
from ponder.rl.trainer import GRPOConfig
ARGS = eval(sys.argv[1])
sys.path.append(ARGS["tests"])  # (conftest's plot_each_kind_of_rows_once)
""" + _PINNED + _TOO_MANY + _USERS_RAY + _OTHER_PONDER + _SIGTERM + _FAILED_START + _HELD + _INTERRUPTED + _TAKEN + """

def run(name):
    for f in (sys.stdout, sys.stderr):
        print("==", name, file=f, flush=True)
    try:
        globals()[name]()
    except BaseException as e:  # (the next scenario still runs; this one's lines say what went wrong)
        print(repr(f"{type(e).__name__}: {e}"), flush=True)
    sys.stdout.flush()


run("pinned")
os.sched_setaffinity(0, CORES)
run("too_many")
run("caller_init")
for name in ("users_ray", "held", "interrupted", "taken", "other_ponder"):
    run(name)
ray.shutdown()
signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (ray.init's, which ray.shutdown leaves)
for name in ("sigterm", "failed_start"):
    run(name)
    if ray.is_initialized():
        ray.shutdown()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
"""


@pytest.fixture(scope="module")
def ray_scenarios(tmp_path_factory, ckpt, data):
    """The lines each _RAY_SCENARIOS scenario printed on stdout and on stderr, by name, the script's exit status
    (None: it ran past its deadline), and the directory it wrote its runs in."""
    import os
    import shutil
    import subprocess
    import sys

    pytest.importorskip("ray")
    tmp = tmp_path_factory.mktemp("ray_scenarios")
    copy = tmp / "other"
    shutil.copytree(Path(ponder.__file__).parent, copy / "ponder", ignore=shutil.ignore_patterns("__pycache__"))
    init = copy / "ponder" / "__init__.py"
    init.write_text(init.read_text().replace(f'__version__ = "{ponder.__version__}"', '__version__ = "9.9"'))
    args = dict(out=str(tmp), other=str(copy), tests=str(Path(__file__).parent),
                too_many=dict(SMALL, model=str(ckpt), data=str(data)),
                users_ray=dict(SMALL, model=str(ckpt), data=str(data), steps=1, prompts_per_step=2, group_size=2,
                               max_new_tokens=6))
    returncode = None
    try:  # (run from tmp: Ray puts the driver's working directory on the actors' path, ahead of PYTHONPATH)
        out = subprocess.run([sys.executable, "-c", _RAY_SCENARIOS, repr(args)], capture_output=True, text=True,
                             timeout=600, cwd=tmp, env={**os.environ, "PYTHONPATH": str(Path(ponder.__file__).parents[1])})
        stdout, stderr, returncode = out.stdout, out.stderr, out.returncode
    except subprocess.TimeoutExpired as e:  # a scenario that hangs fails its own test, not the others' silently
        stdout, stderr = (x.decode() if isinstance(x, bytes) else x or "" for x in (e.stdout, e.stderr))

    def split(text):
        lines: dict = {}
        name = None
        for line in text.splitlines():
            if line.startswith("== "):
                name = line[3:]
                lines[name] = []
            elif name is not None:
                lines[name].append(line)
        return lines

    return split(stdout), split(stderr), returncode, tmp


def _scenario(ray_scenarios, name: str) -> tuple[list, str]:
    """The stdout lines of scenario `name`, and its stderr's tail (for an assertion's message)."""
    out, err, *_ = ray_scenarios
    return out.get(name, []), "\n".join(err.get(name, []))[-2000:]


def test_more_ray_workers_than_local_cores_are_refused_before_ray_starts(ray_scenarios):
    """`grpo --ray --ray-workers N` with more workers than the local instance would have CPUs started Ray (seconds)
    and only then refused them; the local instance's CPUs are known beforehand (the cores this process may use)."""
    lines, stderr = _scenario(ray_scenarios, "too_many")
    assert len(lines) == 1, (lines, stderr)
    cores, msg = lines[0].split(" ", 1)
    n = int(cores) + 1
    assert msg == (f"{n} Ray workers x 1 CPU each need {n} CPUs, but a local Ray instance has {cores} (the cores this "
                   f"process may use); use --ray-workers {cores} or fewer, or --ray ADDRESS of a larger cluster")
    assert "Ray instance" not in stderr and not (ray_scenarios[3] / "run").exists()


def test_grpo_on_a_ray_session_the_caller_started_leaves_it_running(ray_scenarios):
    """A caller's own ray.init: train_ray runs its actors there, closes them, and leaves the session up."""
    lines, stderr = _scenario(ray_scenarios, "users_ray")
    assert " ".join(lines).split() == ["a", "True", "b", "True"], stderr


def test_ray_workers_of_another_version_are_refused_and_stopped(ray_scenarios):
    """Actors refused for running other package versions were left running: in the caller's own Ray session they
    held their CPUs (a task needing one waited forever)."""
    lines, stderr = _scenario(ray_scenarios, "other_ponder")
    assert lines[:1] == ["0 Ray worker runs different package versions"], (lines, stderr)
    assert len(lines) == 2 and lines[1] != "held"  # the refused actor's CPU was free for the task


def test_local_ray_counts_the_cores_this_process_may_use(ray_scenarios):
    """A local Ray instance counted the machine's cores (os.cpu_count), not those the process may use (taskset, a
    scheduler's cpuset): pinned to one core, `--ray-workers 2` started two actors on it, as --nproc no longer does."""
    import os

    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs a machine with 2 cores to pin to 1")
    # (the scenarios' process, pinned for this one: the Ray tests below share one instance, started unpinned)
    lines, stderr = _scenario(ray_scenarios, "pinned")
    assert lines[:1] == ["1.0"], (lines, stderr)
    assert "2 Ray workers x 1 CPU each need 2 CPUs, but the Ray cluster has 1" in lines[1]


def test_sigterm_in_a_ray_session_stops_the_cli_as_ctrl_c_does(ray_scenarios):
    """ray.init sets its own SIGTERM handler (sys.exit(15)) over the CLI's: `ponder grpo --ray` stopped by SIGTERM
    exited 15, saying nothing of --resume. The session keeps a handler its caller set; Ray is still shut down."""
    lines, stderr = _scenario(ray_scenarios, "sigterm")
    assert (lines[-1:], ray_scenarios[2]) == (["Terminated False"], 0), (lines, stderr)


def test_local_ray_instance_that_fails_to_start_is_one_line_and_leaves_sigterm_to_the_caller(ray_scenarios):
    """A local ray.init that failed (here: a negative num_cpus) escaped as Ray's raw error, and left Ray's SIGTERM
    handler (sys.exit(15)) in place of the caller's (the CLI's, which says how to resume). It also left the GCS and
    Ray's agents it had started running until the caller's process exited (no ray.shutdown reaches them)."""
    import ast

    lines, stderr = _scenario(ray_scenarios, "failed_start")
    assert len(lines) == 3, (lines, stderr)
    assert lines[2] == "[]", (lines, stderr)  # no process of the failed start left
    msg = ast.literal_eval(lines[0])
    assert msg.startswith("Ray: the local instance failed to start: ValueError: Resource quantities must be "
                          "nonnegative") and "\n" not in msg, msg
    assert lines[1] == "True"  # the caller's handler


def test_ray_session_leaves_sigterm_as_it_found_it(ray_scenarios):
    """ray.init sets SIGTERM to sys.exit(15) and ray.shutdown leaves it there: a library caller that left SIGTERM
    at its default had it turned into SystemExit for the rest of the process, long after the session ended. A
    handler that changed during the session (the CLI's, fired: the default until the command ends) is kept."""
    pinned, stderr = _scenario(ray_scenarios, "pinned")
    sigterm, stderr2 = _scenario(ray_scenarios, "sigterm")
    assert (pinned[-1:], sigterm[:1]) == (["True"], ["True"]), (pinned, sigterm, stderr, stderr2)


def _ray_script_message(ray_scenarios, name: str) -> str:
    """Scenario `name` printed the error it got, then "later task ran": the error."""
    import ast

    got, stderr = _scenario(ray_scenarios, name)
    assert len(got) == 2 and got[1] == "later task ran", (got, stderr)
    return ast.literal_eval(got[0])


def test_ray_pool_whose_cpus_other_actors_hold_fails_at_its_deadline_without_leaking_actors(ray_scenarios):
    """start() checked the workers' CPUs against the cluster's total, not against those other actors leave free: on a
    cluster whose CPUs another job held, the actors were never placed and start() waited forever, saying nothing."""
    msg = _ray_script_message(ray_scenarios, "held")
    assert "\n" not in msg
    assert msg.startswith("Ray workers did not start within 1 s (0 of 1 running): they need 1 CPU (1 each), the Ray "
                          "cluster has 0 of 1 free"), msg
    assert "PONDER_RAY_START_TIMEOUT_S" in msg


def test_ray_pool_start_interrupted_while_its_actors_wait_for_cpus_leaves_none_pending(ray_scenarios):
    """Ctrl-C while start() waited for CPUs other actors held left its actor pending: once the CPUs were free it
    took them, and held them for the rest of the session (a later pool, or task, could not start)."""
    assert _ray_script_message(ray_scenarios, "interrupted") == "interrupted, 0 actors left"


def test_ray_replacement_the_cluster_has_no_cpus_for_fails_at_the_deadline(ray_scenarios):
    """A dead actor's replacement waited forever, silently, when another job took the CPUs the dead one freed."""
    msg = _ray_script_message(ray_scenarios, "taken")
    assert re.fullmatch(r"Ray worker 0 \(pid \d+ on .+\) died mid-call, and its replacement did not start within 1 s: "
                        r"it needs 1 CPU \(1 each\), the Ray cluster has 0 of 1 free .*PONDER_RAY_START_TIMEOUT_S.*",
                        msg), msg


@pytest.mark.parametrize("value", ["0", "-3", "abc", "nan"])
def test_ray_start_timeout_from_the_environment_is_checked(monkeypatch, value):
    from ponder.distributed.ray_workers import RayPool

    monkeypatch.setenv("PONDER_RAY_START_TIMEOUT_S", value)
    with pytest.raises(PonderError, match=rf"^Ray: environment variable PONDER_RAY_START_TIMEOUT_S='{value}' must be"):
        RayPool(1)
    assert RayPool(1, start_timeout_s=7).start_timeout_s == 7


@pytest.mark.parametrize("field, value, match", [
    ("max_replacements", -1, "max_replacements must be an integer >= 0, got -1"),
    ("max_replacements", "3", "max_replacements must be an integer >= 0, got '3'"),
    ("threads", 0, "threads must be an integer >= 1, got 0"),
    ("num_cpus", -1, r"num_cpus \(per worker\) must be a finite number >= 0, got -1"),
    ("num_gpus", float("nan"), r"num_gpus \(per worker\) must be a finite number >= 0, got nan"),
])
def test_ray_pool_settings_are_checked_as_it_is_made(field, value, match):
    """A bad max_replacements was a TypeError (or, negative, an immediate give-up) only when the first actor died,
    mid-run; a negative num_cpus passed check_fits and failed in Ray's own code. Each is one line up front."""
    from ponder.distributed.ray_workers import RayPool

    with pytest.raises(PonderError, match=rf"^RayPool: {match}$"):
        RayPool(1, **{field: value})


@pytest.mark.parametrize("value", [-1, 0, 1.5, True, "2"])
def test_ray_session_refuses_bad_num_cpus_before_ray_starts(monkeypatch, value):
    """ray_session(num_cpus=-1) (or 1.5, True) was refused by Ray only after its GCS had started, which then ran until
    the caller's process exited; 0 started an instance on which no actor runs. One line, before ray.init."""
    ray = pytest.importorskip("ray")
    from ponder.distributed.ray_workers import local_cpus, ray_session

    def init(**kw):
        raise AssertionError("ray.init called")

    monkeypatch.setattr(ray, "init", init)
    msg = rf"^Ray: num_cpus of the local instance must be a positive integer, got {value!r}$"
    with pytest.raises(PonderError, match=msg), ray_session(num_cpus=value):
        pass
    with pytest.raises(PonderError, match=msg):  # (train_ray's check that its workers fit, made before the session)
        local_cpus(value)


def test_a_failed_local_ray_start_is_one_line_whatever_its_cleanup_meets(monkeypatch):
    """The cleanup of a failed local ray.init (ray.shutdown, then the processes it left) must not replace its one line
    with a traceback of its own: a shutdown that raises, or no psutil to list the processes with."""
    import sys

    from ponder.distributed import ray_workers

    class FakeRay:
        def is_initialized(self):
            return False

        def init(self, **kw):
            raise ValueError("no CPUs\n(details)")

        def shutdown(self):
            raise RuntimeError("nothing to shut down")

    monkeypatch.setattr(ray_workers, "_ray", lambda: FakeRay())
    monkeypatch.setitem(sys.modules, "psutil", None)  # (import psutil: ImportError)
    with pytest.raises(PonderError, match=r"^Ray: the local instance failed to start: ValueError: no CPUs$"):
        with ray_workers.ray_session(num_cpus=1):
            pass


@pytest.mark.parametrize("value", ["0", "-3", "abc", "nan"])
def test_ray_call_timeout_from_the_environment_is_checked(monkeypatch, value):
    import math

    from ponder.distributed.ray_workers import RayPool

    monkeypatch.setenv("PONDER_RAY_CALL_TIMEOUT_S", value)
    with pytest.raises(PonderError, match=rf"^Ray: environment variable PONDER_RAY_CALL_TIMEOUT_S='{value}' must be "
                                          r"a number of seconds in \(0, 10000000\] or 'none' \(no limit\)"):
        RayPool(1)
    assert RayPool(1, call_timeout_s=7).call_timeout_s == 7
    monkeypatch.setenv("PONDER_RAY_CALL_TIMEOUT_S", "None")
    assert RayPool(1).call_timeout_s == math.inf
    monkeypatch.delenv("PONDER_RAY_CALL_TIMEOUT_S")
    assert RayPool(1).call_timeout_s == 86400


def test_ray_commands_check_their_inputs_before_ray_starts(tmp_path, ckpt, data):
    """verify/eval/grpo --ray entered the Ray session before the local path's checks of their inputs: a missing file,
    an --out that may not be written or a bad reward spec was said after seconds of Ray start-up, or, with an
    unreachable --ray address, not at all (the address's error came first). Each now fails as the local path does,
    Ray untouched: with an address nothing listens on, any use of Ray would be "cannot reach a Ray cluster"."""
    from functools import partial

    ray = pytest.importorskip("ray")
    from ponder.distributed.ray_workers import evaluate_ray, train_ray, verify_file_ray
    from ponder.evaluate import evaluate
    from ponder.verify.run import verify_file

    was = ray.is_initialized()  # (the shared pool's session, when the Ray tests below ran first)
    down = "127.0.0.1:1"
    missing = str(tmp_path / "missing.jsonl")

    def same(local, remote):
        with pytest.raises(PonderError) as a:
            local()
        with pytest.raises(PonderError) as b:
            remote()
        assert str(b.value) == str(a.value) and "\n" not in str(a.value)

    same(lambda: verify_file("math", missing), lambda: verify_file_ray("math", missing, address=down))
    same(lambda: verify_file("math", missing), lambda: verify_file_ray("math", missing))  # a local instance
    assert ray.is_initialized() == was

    model, tok = ponder.load(ckpt)
    items = [{"prompt": "Problem: 1 + 1 = ?\nSolution:", "answer": "2"}]
    (tmp_path / "file").write_text("x")
    for bad in (dict(out_dir=tmp_path / "file"), dict(reward="no-such-reward")):
        same(partial(evaluate, model, tok, items, progress=False, **bad),
             partial(evaluate_ray, model, tok, items, address=down, **bad))

    (tmp_path / "old" / "checkpoint").mkdir(parents=True)  # an earlier run's
    for run, bad in (("r1", dict(data=missing)), ("r2", dict(reward="no-such-reward")), ("old", {})):
        cfg = {**SMALL, "model": str(ckpt), "data": str(data), **bad}
        same(partial(train, GRPOConfig(**cfg), tmp_path / run, progress=False),
             partial(train_ray, GRPOConfig(**cfg), tmp_path / run, address=down, progress=False))
        assert not (tmp_path / run / "config.json").exists()
    assert ray.is_initialized() == was


def test_version_mismatch_names_both():
    pytest.importorskip("ray")
    from ponder.distributed.ray_workers import check_versions, versions

    local = versions()
    check_versions(local, [dict(local, host="a")])  # equal: fine
    with pytest.raises(PonderError, match=r"torch 2\.\S+ on the driver vs 9\.9 on worker 1 \(b\)"):
        check_versions(local, [dict(local), dict(local, torch="9.9", host="b")])


@pytest.fixture(scope="module")
def _ray_pool(ckpt):
    pytest.importorskip("ray")
    from ponder.distributed.ray_workers import RayPool, ray_session

    model, tok = ponder.load(ckpt)
    # (600 s to start, not the default 120: only a broken start meets it, a loaded 2-core box's slow one does not)
    with ray_session(num_cpus=2), RayPool(2, num_cpus=1, start_timeout_s=600).start(model, tok) as p:
        p.push(model, 0)
        yield p


@pytest.fixture
def pool(_ray_pool, ckpt):
    """The module's pool of 2 actors of 1 CPU (the session's 2) holding the checkpoint's weights (version 0), started
    again if a test before this one closed it, and given those weights again if one left it others (a training run
    on it pushes its updates: the tests after it, in another order, sampled from the trained weights)."""
    if not _ray_pool.actors:
        model, tok = ponder.load(ckpt)
        _ray_pool.start(model, tok)
        _ray_pool.push(model, 0)
    elif _ray_pool.version != 0:
        _ray_pool.push(ponder.load(ckpt)[0], 0)
    return _ray_pool


def ids(groups):
    return [[s.token_ids for s in g] for g in groups]


def test_ray_pool_start_interrupted_while_creating_its_actors_leaves_none_running(pool, monkeypatch):
    """A Ctrl-C while start() created its actors (before its wait) left those made so far running: they held their
    CPUs for the rest of the caller's Ray session. Here the second creation is where the interrupt lands."""
    import ray

    from ponder.distributed.ray_workers import RayPool

    made = []
    real = ray.remote

    class Interrupted:  # the actor class, whose second .remote() is where the signal's handler ran
        def __init__(self, cls):
            self.cls = cls

        def remote(self, *a, **k):
            if made:
                raise KeyboardInterrupt
            made.append(self.cls.remote(*a, **k))
            return made[-1]

    monkeypatch.setattr(ray, "remote", lambda **kw: (lambda cls: Interrupted(real(**kw)(cls))))
    p = RayPool(2, num_cpus=0)
    with pytest.raises(KeyboardInterrupt):
        p.start()
    monkeypatch.undo()
    assert len(made) == 1 and p.actors == []
    with pytest.raises(ray.exceptions.RayActorError):  # killed: no answer, ever
        ray.get(made[0].info.remote(), timeout=300)


def test_ray_samples_equal_local(pool, ckpt):
    model, tok = ponder.load(ckpt)
    kw = dict(n=3, max_new_tokens=16, seed=7, temperature=1.0)
    local = ponder.sample(model, tok, PROMPTS, **kw)
    remote = pool.sample(PROMPTS, **kw)
    assert ids(remote) == ids(local)
    for g, h in zip(remote, local):
        for s, t in zip(g, h):
            assert s.logprobs == pytest.approx(t.logprobs, abs=1e-5)


def test_ray_workers_the_cluster_cannot_place_are_refused(pool, ckpt):
    """3 actors of 1 CPU on a 2-CPU cluster: the third could never start, and the pool used to wait forever."""
    from ponder.distributed.ray_workers import RayPool

    model, tok = ponder.load(ckpt)
    with pytest.raises(PonderError, match="3 Ray workers x 1 CPU each need 3 CPUs, but the Ray cluster has 2; "
                                          "use --ray-workers 2 or fewer"):
        RayPool(3, num_cpus=1).start(model, tok)


def test_ray_session_local_is_a_local_instance_not_a_host(pool):
    """address="local" (Ray's name for a new local instance, and the CLI's bare --ray) was probed as a host:
    'cannot reach a Ray cluster at local:6379'. Inside a running session (the pool's) it joins that session."""
    from ponder.distributed.ray_workers import ray_session

    with ray_session("local") as ray:
        assert ray.is_initialized()
    assert ray.is_initialized() and len(pool.sample(PROMPTS[:1], n=1, max_new_tokens=2, seed=0)) == 1


def test_ray_pool_started_twice_is_refused(pool, ckpt):
    """start() on a running pool started a second set of actors beside the first: the first set leaked, and the
    new actors waited for CPUs the first set holds."""
    model, tok = ponder.load(ckpt)
    actors = list(pool.actors)
    with pytest.raises(PonderError, match="RayPool.start: the pool already runs 2 actors; close"):
        pool.start(model, tok)
    assert pool.actors == actors and len(pool.sample(PROMPTS[:1], n=1, max_new_tokens=2, seed=0)) == 1


def test_ray_samples_equal_local_in_bf16(pool, ckpt):
    """Actors build their replica in the learner's dtype: bf16 weights sampled in fp32 draw other tokens."""
    from ponder.distributed.ray_workers import RayPool

    model, tok = ponder.load(ckpt, dtype="bfloat16")
    kw = dict(n=3, max_new_tokens=16, seed=7, temperature=1.0)
    with RayPool(1, num_cpus=0).start(model, tok) as bf16:
        bf16.push(model, 0)
        assert ids(bf16.sample(PROMPTS, **kw)) == ids(ponder.sample(model, tok, PROMPTS, **kw))


def test_stale_actor_refused_then_refreshed(pool, ckpt):
    import ray

    from ponder.distributed.ray_workers import StaleWeightsError, _sample

    model, tok = ponder.load(ckpt)
    other = ponder.Transformer(model.config).init_weights(5, std=0.08)
    ray.get(pool.actors[0].set_weights.remote(pool.version - 1, other.state_dict()))  # an actor left behind
    with pytest.raises(StaleWeightsError, match="holds weights version -1, the learner's is 0"):
        ray.get(pool.actors[0].run.remote(pool.version, _sample, PROMPTS[:1], {"max_new_tokens": 4}))
    kw = dict(n=2, max_new_tokens=12, seed=3)
    assert ids(pool.sample(PROMPTS, **kw)) == ids(ponder.sample(model, tok, PROMPTS, **kw))  # refreshed


def test_ray_sampling_on_a_verifier_only_pool_says_it_holds_no_model(pool):
    """A pool started without a model (scoring only) asked to sample said "call push(model, version)", which push
    then refused ("start the pool with a model first"): the message names what is missing."""
    from ponder.distributed.ray_workers import RayPool

    p = RayPool(1, num_cpus=0).start()
    try:
        with pytest.raises(PonderError, match="started without a model"):
            p.sample(["Problem: x"], max_new_tokens=2)
    finally:
        p.close()


def test_ray_ponder_error_on_an_actor_is_the_local_one_line_error(pool):
    """A PonderError raised on an actor (a bad item, a scorer's NaN) used to surface as Ray's wrapper, whose message
    is the actor's whole traceback (with terminal colour codes): the CLI printed that instead of one line."""
    def refuses_item_2(completion, item):  # (a closure: pickled by value, the actors cannot import this module)
        if item == 2:
            raise PonderError("item 2: field 'constraints' must be a list")
        return completion

    with pytest.raises(PonderError) as e:
        pool.score(refuses_item_2, ["a", "b", "c"], [0, 1, 2])
    assert str(e.value) == "item 2: field 'constraints' must be a list"


def test_ray_actor_error_is_one_line_naming_the_worker(pool, ckpt):
    """Any other exception on an actor (a verifier's bug, weights of another architecture) escaped as Ray's wrapper,
    whose message is the actor's whole traceback in terminal colours: the CLI printed its first line,
    'RayTaskError(ValueError): ray::Worker.score() (pid=..., ip=..., actor_id=...)', and not the error."""

    def chokes_on_item_2(completion, item):  # (a closure: pickled by value)
        if item == 2:
            raise ValueError("could not convert string to float: 'x'\nmore detail")
        return completion

    with pytest.raises(PonderError) as e:
        pool.score(chokes_on_item_2, ["a", "b", "c"], [0, 1, 2])  # item 2 is worker 1's shard
    # (the input it raised on, by its index in the call: the worker alone named none of thousands of completions)
    assert re.fullmatch(r"Ray worker 1 \(pid \d+ on \S+\): scoring input 3 of 3: ValueError: could not convert "
                        r"string to float: 'x'", str(e.value))

    def needs_answer(completion, item):
        return item["answer"] == completion

    items = [{"id": f"q{i}", "answer": "a"} for i in range(5)]
    del items[3]["answer"]
    with pytest.raises(PonderError) as e:  # input 3 is worker 1's second: its index in the call, and its item's id
        pool.score(needs_answer, ["a"] * 5, items)
    assert re.fullmatch(r"Ray worker 1 \(pid \d+ on \S+\): scoring input 4 of 5 \(item q3\): KeyError: 'answer'",
                        str(e.value))
    # scored in parts (prompts that open the thinking apart): the index in the whole call, not in the part
    from ponder.verify.registry import score_split

    items = [{"id": f"q{i}", "answer": "a"} for i in range(6)]
    del items[5]["answer"]
    with pytest.raises(PonderError) as e:
        score_split(pool.score, lambda f: needs_answer, ["a"] * 6, items, [True, False] * 3)
    assert re.fullmatch(r"Ray worker \d \(pid \d+ on \S+\): scoring input 6 of 6 \(item q5\): KeyError: 'answer'",
                        str(e.value))
    # (the module's pool, left as the fixture made it: a pool of its own would start an actor, ~4 s of CPU)
    model, _ = ponder.load(ckpt)
    wider = ponder.Transformer(ponder.ModelConfig(**dict(MCFG, hidden_size=64, head_dim=32)))
    with pytest.raises(PonderError, match=r"^RayPool.push: the pool's actors hold replicas of another model than "
                                          r"the one pushed \(hidden_size 48 vs 64; "):
        pool.push(wider, 0)  # (refused before anything is shipped)
    actor = pool.actors[0]
    pool.actors[0] = _RejectsPush(actor, wider.state_dict())  # the actor given weights of that shape all the same
    try:
        with pytest.raises(PonderError) as e:
            pool.push(model, 0)
    finally:
        pool.actors[0] = actor
        pool.push(model, 0)  # (the pool as the fixture left it)
    # (with the reason, which Ray's message holds on the heading's next line)
    assert re.fullmatch(r"Ray worker 0 \(pid \d+ on \S+\): RuntimeError: Error\(s\) in loading state_dict for "
                        r"Transformer: size mismatch for \S+: copying a param with shape torch.Size\(\[\d+(, \d+)*\]\) "
                        r"from checkpoint, the shape in current model is torch.Size\(\[\d+(, \d+)*\]\)\. "
                        r"\(and \d+ more\)", str(e.value))


def test_ray_actor_error_in_a_sampling_call_names_the_prompts_of_its_shard(pool):
    """An exception (not a PonderError) in a sampling or scale method's call on an actor named the worker but none
    of the prompts of its shard: which of a run's prompts to look at was not said. It says them, 1-based inclusive,
    as the hang's "sampling inputs a..b of n" does."""
    def chokes_on_the_second_shard(model, tok, prompts, index_offset=0, **kw):  # (a closure: pickled by value)
        if index_offset:
            raise ValueError("bad prompt\nmore detail")
        return [p for p in prompts]

    with pytest.raises(PonderError) as e:  # 5 prompts: worker 0 has 1..3, worker 1 has 4..5
        pool.run(chokes_on_the_second_shard, ["a", "b", "c", "d", "e"])
    assert re.fullmatch(r"Ray worker 1 \(pid \d+ on \S+\): prompts 4\.\.5 of 5: ValueError: bad prompt",
                        str(e.value)), str(e.value)
    with pytest.raises(PonderError) as e:  # a shard of one prompt
        pool.run(chokes_on_the_second_shard, ["a", "b"])
    assert re.fullmatch(r"Ray worker 1 \(pid \d+ on \S+\): prompt 2 of 2: ValueError: bad prompt", str(e.value))
    assert pool.run(chokes_on_the_second_shard, ["a"]) == ["a"]  # (the pool stays usable)


class _RejectsPush:
    """An actor handle whose actor is given weights of another shape to load when the pool pushes (it fails part
    way: the tensors whose shapes match are copied)."""

    def __init__(self, actor, state):
        self.actor, self.state = actor, state

    def __getattr__(self, name):
        return getattr(self.actor, name)

    @property
    def set_weights(self):
        actor, state = self.actor, self.state

        class Method:
            @staticmethod
            def remote(version, _):
                return actor.set_weights.remote(version, state)
        return Method


def test_ray_push_one_actor_rejects_is_an_error_and_the_pool_never_calls_those_weights_current(pool, ckpt):
    """A push that one actor refused still recorded its version as the pool's: the actors that took the new weights
    and the one that did not (holding a half-loaded replica, under its old version) were then sampled from as if
    they held the pushed weights."""
    model, tok = ponder.load(ckpt)
    other = ponder.Transformer(model.config).init_weights(5, std=0.08)
    wider = ponder.Transformer(ponder.ModelConfig(**dict(MCFG, intermediate_size=128))).state_dict()
    kept = pool.actors[1]
    pool.actors[1] = _RejectsPush(kept, wider)
    try:
        with pytest.raises(PonderError) as e:
            pool.push(other, 1)
    finally:
        pool.actors[1] = kept
    assert re.match(r"Ray worker 1 \(pid \d+ on \S+\): RuntimeError: Error\(s\) in loading state_dict for "
                    r"Transformer: size mismatch for layers.0.mlp", str(e.value))
    assert pool.version is None
    with pytest.raises(PonderError, match="RayPool: the last push of weights failed .*Ray worker 1.*; push them "
                                          "again before sampling"):
        pool.sample(PROMPTS[:2], n=1, max_new_tokens=2, seed=0)
    pool.push(model, 0)  # (as the fixture left it) and nothing of the failed push is sampled from
    kw = dict(n=2, max_new_tokens=8, seed=3)
    assert ids(pool.sample(PROMPTS, **kw)) == ids(ponder.sample(model, tok, PROMPTS, **kw))


@pytest.mark.parametrize("change, said", [(dict(dtype=torch.bfloat16), "dtype float32 vs bfloat16"),
                                           (dict(rope_theta=1e6), "rope_theta 10000.0 vs 1000000.0"),
                                           (dict(rms_norm_eps=1e-5), "rms_norm_eps 1e-06 vs 1e-05")])
def test_ray_push_of_a_model_the_replicas_cannot_hold_is_refused(change, said):
    """The actors' replicas are built at start() in the started model's config and dtype; a push of another model of
    the same shapes loaded into them (weights cast: bf16 into fp32 replicas; another rope_theta or rms_norm_eps kept
    the replicas') and the pool sampled from another policy than the learner's, silently. (No actor is called: the
    push is refused before anything is shipped.)"""
    pytest.importorskip("ray")
    from ponder.distributed.ray_workers import RayPool

    started = ponder.Transformer(ponder.ModelConfig(**MCFG))
    cfg = dict(MCFG, **{k: v for k, v in change.items() if k != "dtype"})
    pushed = ponder.Transformer(ponder.ModelConfig(**cfg)).to(change.get("dtype", torch.float32))
    p = RayPool(1)
    p.actors, p._args = ["an actor"], (started.config, None, "cpu", 1, "float32")  # as start(started) leaves them
    with pytest.raises(PonderError, match=f"RayPool.push: the pool's actors hold replicas of another model than the "
                                          f"one pushed \\({re.escape(said)}: started with vs pushed\\)"):
        p.push(pushed, 1)
    assert p.version is None and p._state is None  # nothing was shipped, no version claimed
    same = ponder.Transformer(ponder.ModelConfig(**dict(MCFG, eos_token_id=7)))  # (the sampler reads the tokenizer's)
    from ponder.distributed import ray_workers

    ray_workers._check_replica(started.config, "float32", same)


def test_ray_pool_whose_actors_render_prompts_otherwise_than_the_run_is_refused(tokenizer):
    """The actors render chat prompts with the tokenizer the pool was started with; a run given that pool (train_ray's
    pool=) with its own chat_template_kwargs ({"enable_thinking": False}) sampled from prompts rendered without them,
    its config.json saying otherwise, silently. (No actor is called: it is refused before the first push.)"""
    import copy

    pytest.importorskip("ray")
    from ponder.distributed.ray_workers import RayPool

    model = ponder.Transformer(ponder.ModelConfig(**MCFG))
    run_tok = copy.copy(tokenizer)  # as train() makes the run's renderer
    run_tok.template_kwargs = {"enable_thinking": False}
    p = RayPool(1)
    p.actors, p._args = ["an actor"], (model.config, tokenizer, "cpu", 1, "float32")  # as start(model, tokenizer)
    with pytest.raises(PonderError, match=r"^RayPool: the pool's actors render chat prompts with template variables "
                                          r"\{\}, the caller's \{'enable_thinking': False\}; close\(\) the pool"):
        p.generate_fn()(model, run_tok, [[{"role": "user", "content": "hi"}]], version=0, n=2)
    assert p.version is None and p._state is None
    other = copy.copy(tokenizer)
    other.chat_template = "{{ messages[0]['content'] }}"
    with pytest.raises(PonderError, match="with another chat template than the caller's"):
        p.generate_fn()(model, other, ["hi"], version=0, n=2)


def test_ray_stale_actor_whose_refresh_fails_is_one_line_naming_it(pool, ckpt):
    """A stale actor that failed to load the pool's weights as it was refreshed raised Ray's wrapper (the CLI printed
    'RayTaskError(RuntimeError): ray::Worker.set_weights() (pid=..., ...)'), not the one line naming the worker."""
    import ray

    model, tok = ponder.load(ckpt)
    other = ponder.Transformer(model.config).init_weights(5, std=0.08)
    wider = ponder.Transformer(ponder.ModelConfig(**dict(MCFG, intermediate_size=128))).state_dict()
    kept = pool.actors[0]
    ray.get(kept.set_weights.remote(pool.version - 1, other.state_dict()))  # left behind: refreshed on its next call
    pool.actors[0] = _RejectsPush(kept, wider)
    try:
        with pytest.raises(PonderError, match=r"Ray worker 0 \(pid \d+ on \S+\): RuntimeError: Error\(s\) in loading "
                                              "state_dict for Transformer: size mismatch"):
            pool.sample(PROMPTS[:2], n=1, max_new_tokens=2, seed=0)
    finally:
        pool.actors[0] = kept
    kw = dict(n=2, max_new_tokens=8, seed=3)  # its half-loaded replica is refreshed, never sampled from
    assert ids(pool.sample(PROMPTS, **kw)) == ids(ponder.sample(model, tok, PROMPTS, **kw))


class _DriverOnly:
    """A tokenizer stand-in of a module the actors cannot import (this test module: a custom tokenizer, or ponder
    itself, present on the driver and missing on a Ray node)."""


def test_ray_worker_that_fails_to_start_is_one_line_naming_it(pool):
    """An actor whose creation raised escaped start() as Ray's ActorDiedError, whose message is the actor's whole
    traceback in terminal colours: the CLI printed 'ActorDiedError: The actor died because of an error raised in
    its creation task, \\x1b[36mray::Worker.__init__()...', naming neither the worker nor the error."""
    from ponder.distributed.ray_workers import RayPool

    # (pools without a model: the actor's arguments fail to unpickle at the tokenizer, a model or not; a model's
    # replica would have each of the 3 actors import torch first, ~3 s of CPU apiece)
    p = RayPool(1, num_cpus=0)
    with pytest.raises(PonderError) as e:
        p.start(None, _DriverOnly())
    assert re.fullmatch(r"Ray worker 0 failed to start on \S+: ModuleNotFoundError: No module named "
                        rf"'{__name__}'", str(e.value))
    assert p.actors == []  # killed: none left holding the cluster's CPUs
    # replacements of a dead actor that fail so: the pool gives up naming the error, not only "while starting"
    # (a death mid-call is handled alike for every kind of call: RayPool._sharded)
    import ray

    with RayPool(1, num_cpus=0, max_replacements=1).start() as q:
        q._args = (q._args[0], _DriverOnly(), *q._args[2:])
        ray.kill(q.actors[0])
        with pytest.raises(PonderError) as e:
            q.score(lambda c, it: c, ["a"], [{}])
    assert re.search(r"died mid-call, then its replacement while starting \(it failed on \S+: ModuleNotFoundError: "
                     rf"No module named '{__name__}'\); giving up after 2 actor deaths", str(e.value))
    assert "\n" not in str(e.value)


def test_ray_call_that_hangs_is_stopped_at_its_deadline_naming_the_worker(pool, monkeypatch):
    """A call to an actor that never answered (a deadlocked worker, a node that stopped answering) held its caller
    forever. Past PONDER_RAY_CALL_TIMEOUT_S it is one line naming the worker, the hung actor is killed and the pool
    stays usable (the next call replaces it) and closes leaving no actor."""
    import threading

    from ponder.distributed.ray_workers import RayPool

    def stalls_on_hang(completion, item):  # a real hang on the actor (a closure: pickled by value)
        if item == "hang":
            import time

            time.sleep(3600)
        return completion

    monkeypatch.setenv("PONDER_RAY_CALL_TIMEOUT_S", "1")
    p = RayPool(2, num_cpus=0).start()
    try:
        hung = int(p._where[1].split()[1])
        # both actors answer once first (their first call's imports and unpickling): then worker 0's share of the
        # call below, beside the hang, takes milliseconds; the deadline is 5 s, not 1 s, as its deadline comes
        # first (worker 0, late by a loaded machine, would be the one named)
        p.call_timeout_s = 120
        assert p.score(stalls_on_hang, ["a", "b"], ["ok", "ok"]) == ["a", "b"]
        p.call_timeout_s = 5.0
        box = []
        t = threading.Thread(target=lambda: box.append(_catch(lambda: p.score(stalls_on_hang, ["a", "b"],
                                                                              ["ok", "hang"]))), daemon=True)
        t.start()
        t.join(300)  # (a guard: the call takes 5 s)
        assert not t.is_alive(), "the call hangs"
        msg = str(box[0])
        assert re.fullmatch(r"Ray worker 1 \(pid \d+ on \S+\) did not answer within 5 s \(scoring inputs 2\.\.2 of 2\) "
                            r"and was stopped: .*raise PONDER_RAY_CALL_TIMEOUT_S \(RayPool's call_timeout_s; 'none': "
                            r"no limit\).*", msg), msg
        assert isinstance(box[0], PonderError) and f"pid {hung} " in msg
        p.call_timeout_s = 120  # (the call below must answer: no 5 s deadline that a loaded machine could miss)
        assert p.score(stalls_on_hang, ["a", "b"], ["ok", "ok"]) == ["a", "b"] and p.replaced == 1
        pids = [int(w.split()[1]) for w in p._where]
    finally:
        p.close()
    assert p.actors == [] and hung not in pids
    for pid in [hung, *pids]:  # every actor's process ends: the hung one's and the live ones'
        for _ in range(3000):  # (a guard: 300 s)
            if not _alive(pid):
                break
            time.sleep(0.1)
        assert not _alive(pid), pid


def test_off_policy_run_on_ray_that_fails_leaves_no_rollout_calling_its_pool(pool, tmp_path, ckpt, data):
    """An off-policy run that raised (here from on_log) left its rollout running ahead on the pool, from its thread:
    the caller's close() then made it 'replace' the dead actor (an IndexError) or, between calls, start new actors
    nobody closed. The run halts the pool's call in flight and joins the thread before it returns."""
    import threading

    from ponder.distributed.ray_workers import RayPool

    model, tok = ponder.load(ckpt)
    flags = tmp_path / "flags"
    flags.mkdir()
    (flags / "hold").touch()

    def hold(done, d=str(flags)):  # engine progress callback, on the actor (a closure: pickled by value)
        import os
        import time

        while os.path.exists(f"{d}/hold"):  # the rollout running ahead stays in flight
            time.sleep(0.01)

    def on_log(row):
        raise RuntimeError("the learner failed")

    with RayPool(1, num_cpus=0).start(model, tok) as p:
        gen = p.generate_fn()

        def generate(model, tok, prompts, *, version, **kw):
            ahead = threading.current_thread() is not threading.main_thread()  # the rollout running ahead
            return gen(model, tok, prompts, version=version, **kw, **({"progress": hold} if ahead else {}))

        if hasattr(gen, "halt"):
            generate.halt = gen.halt
        score = p.score_fn()
        try:
            with pytest.raises(RuntimeError, match="the learner failed"):
                train(GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data), steps=3, off_policy=True)),
                      tmp_path / "r", progress=False, generate_fn=generate, score_fn=score, on_log=on_log)
            assert not [t for t in threading.enumerate() if t.name == "ponder-rollout"], "the rollout outlived its run"
            # the run's functions, kept for another run, say why they refuse
            with pytest.raises(PonderError, match=r"^RayPool: scoring call halted: the training run its generate_fn/"
                                                  r"score_fn was made for has ended \(make new ones for each run"):
                score(lambda c, it: c, ["a"], [{}])
        finally:
            (flags / "hold").unlink()
    assert p.actors == []


def _score_stalling_on(flag: str):
    def score(completion, item, flag=flag):  # (a closure: pickled by value)
        import os
        import time

        if item == "stall":
            open(flag + ".started", "a").close()
        while item == "stall" and os.path.exists(flag):
            time.sleep(0.01)
        return completion

    return score


def test_ray_pool_closed_during_a_call_fails_it_without_restarting_actors(pool, tmp_path):
    """close() from another thread while a call ran: the call took its killed actors for dead ones and 'replaced'
    them, failing with an IndexError (list index out of range) on the emptied pool. It is one line now, and the
    pool stays closed."""
    import threading

    from ponder.distributed.ray_workers import RayPool

    flag = tmp_path / "stall"
    flag.touch()
    p = RayPool(2, num_cpus=0).start()
    box = []
    t = threading.Thread(target=lambda: box.append(_catch(lambda: p.score(_score_stalling_on(str(flag)), ["a", "b"],
                                                                          ["ok", "stall"]))), daemon=True)
    t.start()
    try:
        for _ in range(6000):  # (a guard: 300 s) until the call is in flight on worker 1
            if (tmp_path / "stall.started").exists():
                break
            time.sleep(0.05)
        p.close()
        t.join(300)  # (a guard)
        assert not t.is_alive(), "the call hangs"
    finally:
        flag.unlink()
    assert str(box[0]) == "RayPool: closed (by another thread) while a scoring call ran on it; its results are lost"
    assert p.actors == [] and p.replaced == 0


class _StallsOnPush:
    """An actor handle whose weight load stays in flight until `flag` is removed (a large model's push)."""

    def __init__(self, actor, flag):
        self.actor, self.flag = actor, flag

    def __getattr__(self, name):
        return getattr(self.actor, name)

    @property
    def set_weights(self):
        actor, flag = self.actor, self.flag

        class Method:
            @staticmethod
            def remote(version, _):
                return actor.score.remote(_score_stalling_on(flag), ["a"], ["stall"])
        return Method


def test_ray_pool_closed_during_a_push_fails_it_in_one_line(pool, ckpt, tmp_path):
    """close() from another thread while push() waited for an actor to load the weights: the push took the killed
    actor for a dead one and 'replaced' it in the emptied pool, an IndexError (list index out of range). One line
    now, as a call's is, and nothing started."""
    import threading

    from ponder.distributed.ray_workers import RayPool

    model, tok = ponder.load(ckpt)
    flag = tmp_path / "stall"
    flag.touch()
    p = RayPool(1, num_cpus=0).start(model, tok)
    real = p.actors[0]
    p.actors[0] = _StallsOnPush(real, str(flag))
    box = []
    t = threading.Thread(target=lambda: box.append(_catch(lambda: p.push(model, 1))), daemon=True)
    t.start()
    try:
        for _ in range(6000):  # (a guard: 300 s) until the push is in flight
            if (tmp_path / "stall.started").exists():
                break
            time.sleep(0.05)
        p.actors[0] = real  # (the handle close() can kill)
        p.close()
        t.join(300)  # (a guard)
        assert not t.is_alive(), "the push hangs"
    finally:
        flag.unlink()
    assert str(box[0]) == "RayPool: closed (by another thread) while a push of weights ran on it"
    assert p.actors == [] and p.replaced == 0 and p.version is None


def test_ray_generate_fn_called_after_its_pool_closed_does_not_restart_it(pool, ckpt):
    """A generate_fn called after its pool was closed (a late call of a run that has ended) started new actors that
    nobody closed, holding their CPUs for the rest of the Ray session."""
    from ponder.distributed.ray_workers import RayPool

    model, tok = ponder.load(ckpt)
    p = RayPool(1, num_cpus=0)
    gen = p.generate_fn()
    kw = dict(n=1, max_new_tokens=2, seed=0)
    try:
        assert len(gen(model, tok, PROMPTS[:1], version=0, **kw)) == 1  # starts the pool
        p.close()
        with pytest.raises(PonderError, match=r"^RayPool: closed during the training run this generate_fn is for; "
                                              r"make a new one \(pool.generate_fn\(\)\) for a new run$"):
            gen(model, tok, PROMPTS[:1], version=1, **kw)
        assert p.actors == []
    finally:
        p.close()


def _alive(pid: int) -> bool:
    """Process pid runs (a zombie has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_ray_replacement_running_other_versions_is_refused_naming_its_worker_and_never_used(pool):
    """A dead actor's replacement that started on a node with another install was refused naming 'worker 0' (its
    place in a list of one) whatever worker it replaced, and stayed in the pool: the next call sampled on it."""
    import ray

    from ponder.distributed.ray_workers import RayPool, Worker

    class OtherInstall(Worker):  # a node with another ponder (a class of this test: pickled by value)
        def info(self):
            return {**super().info(), "ponder": "9.9"}

    # (actors without a model: a dead actor is replaced, and its replacement checked, alike for every kind of call
    # (RayPool._sharded); 4 replicas would each import torch, ~3 s of CPU apiece)
    with RayPool(2, num_cpus=0).start() as p:
        p._cls = ray.remote(num_cpus=0)(OtherInstall)  # where replacements start from now on
        ray.kill(p.actors[1])
        for _ in range(2):  # the next call does not run on the refused actor: it tries another replacement
            with pytest.raises(PonderError) as e:
                p.score(lambda c, it: c, ["a", "b"], [{}, {}])
            assert re.fullmatch(r"Ray worker runs different package versions: ponder \S+ on the driver vs 9\.9 on "
                                r"worker 1 \(\S+\)", str(e.value)), str(e.value)
        assert p.replaced == 2


def test_ray_pool_needs_weights_pushed_after_each_start_and_has_its_whole_replacement_budget(pool, ckpt):
    """(1) start() builds each actor's replica with random weights (version None, which a call expecting version None
    passed): sampling before push() drew from them, silently unlike the learner's model. (2) close() kept the pushed
    weights: started again with another model, the pool passed the 'no weights pushed' check and refreshed its new
    actors with the old model's weights, sampling from a model it was not given. (3) max_replacements bounds the
    deaths of one start's actors: a pool closed and started again counted the deaths of its earlier actors too, and
    gave up at the first death of the new ones. (One pool's life: each actor start costs seconds.)"""
    import ray

    from ponder.distributed.ray_workers import RayPool

    model, tok = ponder.load(ckpt)
    other = ponder.Transformer(model.config).init_weights(5, std=0.08)
    p = RayPool(1, num_cpus=0, max_replacements=1)
    with p.start(model, tok):
        with pytest.raises(PonderError, match=r"no weights pushed yet; call push\(model, version\)"):
            p.sample(PROMPTS[:2], n=1, max_new_tokens=4, seed=0)
        p.push(model, 0)
        kw = dict(n=1, max_new_tokens=4, seed=0)
        assert ids(p.sample(PROMPTS[:2], **kw)) == ids(ponder.sample(model, tok, PROMPTS[:2], **kw))
        ray.kill(p.actors[0])
        kw = dict(n=1, max_new_tokens=4, seed=3)
        assert ids(p.sample(PROMPTS[:2], **kw)) == ids(ponder.sample(model, tok, PROMPTS[:2], **kw))
        assert p.replaced == 1
    with p.start(other, tok):
        assert p.replaced == 0  # a death now is the new actors' first: replaced, not the pool's second (refused)
        with pytest.raises(PonderError, match=r"no weights pushed yet; call push\(model, version\)"):
            p.sample(PROMPTS[:2], n=1, max_new_tokens=4, seed=0)
        p.push(other, 0)
        kw = dict(n=1, max_new_tokens=6, seed=0)
        assert ids(p.sample(PROMPTS[:2], **kw)) == ids(ponder.sample(other, tok, PROMPTS[:2], **kw))


class _KilledOnRefresh:
    """An actor handle whose actor is killed (ray.kill) the moment the pool refreshes its weights."""

    def __init__(self, actor):
        self.actor = actor

    def __getattr__(self, name):
        return getattr(self.actor, name)

    @property
    def set_weights(self):
        import ray

        ray.kill(self.actor)
        return self.actor.set_weights


class _KilledOnStart:
    """The pool's actor class with the next `n` actors it starts killed at once (ray.kill)."""

    def __init__(self, cls, n):
        self.cls, self.n = cls, n

    def remote(self, *args):
        import ray

        actor = self.cls.remote(*args)
        if self.n > 0:
            self.n -= 1
            ray.kill(actor)
        return actor


class _PushedOnCall:
    """An actor handle that, as a call is sent to it, has new weights pushed to its pool first (another caller)."""

    def __init__(self, pool, actor, model, version):
        self.pool, self.actor, self.model, self.version = pool, actor, model, version

    def __getattr__(self, name):
        return getattr(self.actor, name)

    @property
    def run(self):
        self.pool.actors[0] = self.actor  # (once)
        self.pool.push(self.model, self.version)
        return self.actor.run


def test_ray_call_whose_weights_another_caller_replaced_fails_instead_of_looping(pool, ckpt):
    """A call expecting version v on a pool another caller has pushed v + 1 to: its actor, refreshed to the
    pool's weights (v + 1), refused it again, and so on forever."""
    import threading

    # (the module's pool, its weights put back after: a pool of its own would start an actor, ~4 s of CPU; one
    # prompt is one shard, worker 0's)
    model, _ = ponder.load(ckpt)
    other = ponder.Transformer(model.config).init_weights(5, std=0.08)
    actor = pool.actors[0]
    pool.actors[0] = _PushedOnCall(pool, actor, other, 1)
    box = []
    t = threading.Thread(target=lambda: box.append(_catch(lambda: pool.sample(PROMPTS[:1], n=1, max_new_tokens=4,
                                                                             seed=0))), daemon=True)
    t.start()
    try:
        t.join(300)  # (a guard: the call takes a second)
        assert not t.is_alive(), "the call loops"
    finally:
        pool.actors[0] = actor
        pool.push(model, 0)  # (the pool as the fixture left it)
    assert isinstance(box[0], PonderError)
    assert str(box[0]).startswith("RayPool: weights version 1 were pushed while a call expecting version 0 ran")


def _catch(fn):
    try:
        return fn()
    except Exception as e:
        return e


def test_ray_actor_dying_while_its_weights_are_refreshed_is_replaced(pool, ckpt):
    """A stale actor that dies while the pool refreshes it is replaced and its prompts re-issued, as a death
    mid-rollout is (before: the refresh's RayActorError escaped as a raw traceback)."""
    import ray

    # (the module's pool, which this leaves as the fixture made it: actor 0 a replacement holding its weights; a pool
    # of its own would start 2 more actors, ~8 s of CPU)
    model, tok = ponder.load(ckpt)
    other = ponder.Transformer(model.config).init_weights(5, std=0.08)
    kw = dict(n=2, max_new_tokens=8, seed=3)
    local = ids(ponder.sample(model, tok, PROMPTS, **kw))
    before = pool.replaced
    ray.get(pool.actors[0].set_weights.remote(-1, other.state_dict()))  # left behind: refreshed on its next call
    pool.actors[0] = _KilledOnRefresh(pool.actors[0])
    assert ids(pool.sample(PROMPTS, **kw)) == local
    assert pool.replaced == before + 1 and not isinstance(pool.actors[0], _KilledOnRefresh)


def test_ray_replacement_dying_as_it_starts_is_replaced_then_bounded_by_a_ponder_error(pool, ckpt):
    import ray

    from ponder.distributed.ray_workers import RayPool

    model, tok = ponder.load(ckpt)
    kw = dict(n=2, max_new_tokens=8, seed=3)
    local = ids(ponder.sample(model, tok, PROMPTS, **kw))
    with RayPool(1, num_cpus=0, max_replacements=3).start(model, tok) as p:
        p.push(model, 0)
        cls = p._cls
        p._cls = _KilledOnStart(cls, 1)  # the first replacement dies while starting; the next one works
        ray.kill(p.actors[0])
        assert ids(p.sample(PROMPTS, **kw)) == local
        assert p.replaced == 2
        p._cls = _KilledOnStart(cls, 99)  # every replacement dies: the pool gives up with one line
        ray.kill(p.actors[0])
        with pytest.raises(PonderError) as e:
            p.push(model, 1)  # a weight refresh finding the actor dead
        msg = str(e.value)
        assert "\n" not in msg and p.replaced == 4
        assert msg.startswith("Ray worker 0 (pid ") and "died while loading new weights, then its replacement " \
            "while starting; giving up after 4 actor deaths (max_replacements=3)" in msg and "--resume" in msg


def test_ray_cluster_refusing_the_connection_is_one_line(monkeypatch):
    """ray.init(address=...) failing otherwise than with a ConnectionError (a cluster started by another Ray
    version raises RuntimeError) escaped as a raw traceback; the caller's SIGTERM handler is put back."""
    pytest.importorskip("ray")
    import ray

    from ponder.distributed.ray_workers import ray_session

    def init(**kw):
        raise RuntimeError("Version mismatch: The cluster was started with:\n    Ray: 2.0.0\n...")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # (the module's pool holds a session)
    monkeypatch.setattr(ray, "init", init)
    handler = signal.getsignal(signal.SIGTERM)
    with pytest.raises(PonderError) as e:
        with ray_session("auto"):
            pass
    assert str(e.value) == "--ray auto: RuntimeError: Version mismatch: The cluster was started with:"
    assert signal.getsignal(signal.SIGTERM) is handler


def test_grpo_on_ray_equals_local_when_an_actor_dies_mid_rollout(pool, tmp_path, ckpt, data, capfd):
    """(and Ray's message on the dead actor goes to stderr: on stdout it came before the --json object of grpo, eval
    and verify --ray, which then failed to parse although the run went on and succeeded)"""
    import os
    import threading

    import ray

    from ponder.distributed.ray_workers import train_ray

    cfg = dict(SMALL, model=str(ckpt), data=str(data))
    seen = {"local": [], "ray": []}

    def recording(gen, key):
        def generate(model, tok, prompts, *, version, **kw):
            out = gen(model, tok, prompts, version=version, **kw)
            seen[key].append(ids(out))
            return out
        return generate

    local = train(GRPOConfig(**cfg), tmp_path / "local", progress=False,
                  generate_fn=recording(lambda m, t, p, version, **kw: ponder.sample(m, t, p, **kw), "local"))
    gen = pool.generate_fn()
    flags = tmp_path / "flags"
    flags.mkdir()

    def killing(model, tok, prompts, *, version, **kw):
        if version != 1:
            return gen(model, tok, prompts, version=version, **kw)
        # step 2: every actor stops at its first decode step until the victim has been killed
        victim = ray.get(pool.actors[1].info.remote())["pid"]
        (flags / "hold").touch()

        def kill():
            while not (flags / str(victim)).exists():
                time.sleep(0.01)
            os.kill(victim, signal.SIGKILL)  # (as the OOM killer would: ray.kill, expected by Ray, prints nothing)
            (flags / "hold").unlink()

        def hold(done, d=str(flags)):  # engine progress callback, on the actors (a closure: pickled by value)
            import os

            open(f"{d}/{os.getpid()}", "a").close()  # this actor is mid-rollout
            while os.path.exists(f"{d}/hold"):
                time.sleep(0.01)

        th = threading.Thread(target=kill)
        th.start()
        out = gen(model, tok, prompts, version=version, progress=hold, **kw)
        th.join()
        return out

    before = pool.replaced
    remote = train(GRPOConfig(**cfg), tmp_path / "ray", progress=False, generate_fn=recording(killing, "ray"),
                   score_fn=pool.score_fn())
    assert pool.replaced == before + 1
    assert seen["ray"] == seen["local"]  # the same samples, none lost or duplicated
    out = err = ""
    for _ in range(150):  # (Ray's listener thread prints it when the cluster reports the death: within seconds)
        o, e = capfd.readouterr()
        out, err = out + o, err + e
        if "worker died" in out + err:
            break
        time.sleep(0.1)
    assert "worker died" in err and "worker died" not in out, (out[-300:], err[-300:])
    a, b = rows(local), rows(remote)
    assert [x["samples"] for x in b] == [12, 12]
    assert_rows_close(a, b)
    # the packaged entry point, with the shared pool
    again = train_ray(GRPOConfig(**dict(cfg, steps=1)), tmp_path / "ray2", pool=pool, progress=False)
    assert_rows_close(a[:1], rows(again))


def test_off_policy_grpo_on_ray_stopped_and_resumed_equals_local_uninterrupted(pool, tmp_path, ckpt, data):
    """--off-policy --ray: the actors sample each step with the weights one update back (pushed with that version,
    never the learner's newer ones), and a run stopped mid-run (the rollout running ahead saved with the
    checkpoint) and resumed trains on exactly the samples of the uninterrupted single-process run. How far behind
    each step's samples are (policy_lag) was not logged: a run's rows did not say it trained off-policy."""
    from ponder.distributed.ray_workers import train_ray

    cfg = dict(SMALL, model=str(ckpt), data=str(data), steps=4, save_every=2, off_policy=True)
    straight = train(GRPOConfig(**cfg), tmp_path / "local", progress=False)
    train(GRPOConfig(**dict(cfg, steps=2, off_policy=False)), tmp_path / "local_on", progress=False)
    pushed = []
    push = pool.push

    def recording_push(model, version):
        pushed.append(version)
        push(model, version)

    def stop(row):
        if row["step"] == 3:  # after the step-2 checkpoint, with step 4's rollout running ahead on the actors
            raise KeyboardInterrupt

    pool.push = recording_push
    try:
        with pytest.raises(KeyboardInterrupt):
            train_ray(GRPOConfig(**cfg), tmp_path / "ray", pool=pool, progress=False, on_log=stop)
        train_ray(GRPOConfig(steps=4), tmp_path / "ray", pool=pool, resume=True, progress=False)
    finally:
        del pool.push
    # steps 1, 2 sample with the starting weights (version 0), step 3 with those after step 1's update, step 4
    # (interrupted) with those after step 2's; the resumed run takes step 4's rollout from the checkpoint
    assert pushed[:3] == [0, 1, 2]
    a, b = rows(straight), rows(tmp_path / "ray")
    assert [x["step"] for x in b] == [1, 2, 3, 4]
    assert_rows_close(a, b)
    assert a[1]["ratio_max"] != 1.0  # off-policy ratios are compared
    # the staleness of each step's samples is logged (step 3's rollout came from the checkpoint)
    assert [x["policy_lag"] for x in a] == [x["policy_lag"] for x in b] == [0, 1, 1, 1]
    assert [x["policy_lag"] for x in rows(tmp_path / "local_on")] == [0, 0]


def test_a_ray_evaluation_says_where_it_ran_as_a_local_one_does(monkeypatch):
    """`ponder eval --ray --json` (and its config.json) had no "ran_on", which the local path's has: its actors'
    device and threads under the same keys. (evaluate stubbed: no Ray started.)"""
    import ponder.evaluate as ev
    from ponder.distributed import ray_workers as rw

    seen = []
    monkeypatch.setattr(ev, "evaluate", lambda model, tok, items, **kw: seen.append(kw["extra"]) or {})
    rw.evaluate_ray(None, None, [], pool=rw.RayPool(2, threads=3, num_cpus=3), extra={"judge_model": "j"})
    rw.evaluate_ray(None, None, [], pool=rw.RayPool(1, num_gpus=0.5))
    assert seen[0] == {"judge_model": "j", "ray_workers": 2, "ran_on": {
        "device": "cpu", "threads": 3, "torch": torch.__version__, "ponder": ponder.__version__}}
    assert seen[1]["ran_on"]["device"] == "cuda" and seen[1]["ran_on"]["threads"] == 1
    assert seen[0]["ran_on"].keys() == ev.ran_on_dict("cpu", 1).keys()  # (the local path's keys)


def test_ray_verify_and_eval_equal_local(pool, tmp_path, ckpt):

    from ponder.distributed.ray_workers import evaluate_ray, verify_file_ray
    from ponder.evaluate import evaluate
    from ponder.verify.run import verify_file

    src = tmp_path / "v.jsonl"
    src.write_text("".join(json.dumps({"completion": c, "gold": g}) + "\n" for c, g in
                           [("The answer is \\boxed{11}.", "11"), ("so 2/4", "1/2"), ("x = 3", "4"), ("", "1")]))
    a = verify_file("math", str(src), str(tmp_path / "a.jsonl"), workers=1, progress=False)
    b = verify_file_ray("math", str(src), str(tmp_path / "b.jsonl"), pool=pool)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert {k: v for k, v in a.items() if k not in ("seconds", "output")} == \
        {k: v for k, v in b.items() if k not in ("seconds", "output")}

    model, tok = ponder.load(ckpt)
    items = [{"prompt": f"Problem: {i} + 1 = ?\nSolution:", "answer": str(i + 1), "id": str(i)} for i in range(5)]
    # (top_k and min_p too: the actors draw with every filter the local run does)
    kw = dict(method="sampling", n=3, ks=[1, 2], max_new_tokens=10, seed=4, n_boot=50, top_k=20, min_p=0.02)
    loc = evaluate(model, tok, items, progress=False, out_dir=tmp_path / "el", **kw)
    ray_ = evaluate_ray(model, tok, items, pool=pool, out_dir=tmp_path / "er", **kw)
    assert ray_["generated_tokens"] == loc["generated_tokens"]
    assert ray_["ran_on"].keys() == loc["ran_on"].keys()  # (--json scripts read the same keys on either path)
    assert ray_["setup_seconds"] >= 0 and "setup_seconds" not in loc  # (pushing the weights: not generation time)
    for m in ray_["metrics"]:  # latencies are the actors' own
        assert m == "mean_latency" or ray_["metrics"][m] == pytest.approx(loc["metrics"][m], rel=1e-6), m
    # config.json names the weights that drew it on either path (the driver's, pushed to the actors)
    cfgs = [json.loads((tmp_path / d / "config.json").read_text()) for d in ("el", "er")]
    assert cfgs[0]["weights_sha256"] == cfgs[1]["weights_sha256"] and len(cfgs[0]["weights_sha256"]) == 64
    assert [(c["top_k"], c["min_p"]) for c in cfgs] == [(20, 0.02)] * 2
    recs = [[json.loads(x) for x in (tmp_path / d / "samples.jsonl").read_text().splitlines()] for d in ("el", "er")]
    assert len(recs[0]) == len(recs[1]) == 15
    for x, y in zip(*recs):  # the same samples and verdicts; log-probs up to float noise of batch composition
        assert x.pop("logprob_mean") == pytest.approx(y.pop("logprob_mean"), abs=1e-5)
        x.pop("latency"), y.pop("latency")
        assert x == y



# The two tests below close the module's pool (their actors need its CPUs), so they come after every other test of
# it: a test using the pool after them started it again, ~15 s of its 2 actors' start.
def test_grpo_and_eval_ray_actors_run_with_the_threads_asked_for(pool, tmp_path, ckpt, data, monkeypatch, capsys):
    """`ponder grpo --ray --threads T` (and `eval`): --threads set the learner's torch threads alone; each actor,
    which runs the model, kept 1 thread. It runs T now and reserves T CPUs, so that Ray puts no more threads on a
    node than it has CPUs. The actors are started as the commands start them, each reporting its threads instead
    of working; the fixture's pool is closed meanwhile (its actors hold the session's 2 CPUs; the next test using it
    starts it again)."""
    from ponder.cli import main
    from ponder.distributed import ray_workers as rw

    def threads(completion, item):  # (a closure: pickled by value)
        return torch.get_num_threads()

    seen = []

    class Reporting(rw.RayPool):
        def start(self, model=None, tok=None):
            super().start(model, tok)
            seen.append((self.options["num_cpus"], self.score(threads, [None], [None])))
            raise PonderError("actors started")

    monkeypatch.setattr(rw, "RayPool", Reporting)
    mine = torch.get_num_threads()  # (main sets this process's threads to --threads)
    pool.close()
    try:
        common = ["--model", str(ckpt), "--data", str(data), "--ray", "--ray-workers", "1", "--threads", "2"]
        assert main(["grpo", *common, "--reward", "constraints", "--steps", "1", "--quiet", "--out",
                     str(tmp_path / "r")]) == 2
        assert main(["eval", *common, "-n", "1", "--quiet"]) == 2
        assert capsys.readouterr().err.count("actors started") == 2
    finally:
        torch.set_num_threads(mine)
    assert seen == [(2, [2])] * 2
    # T threads per actor that the cluster has no CPUs for: said with --threads, before any actor starts
    with pytest.raises(PonderError, match=r"^1 Ray workers x 4 CPU each need 4 CPUs, but the Ray cluster has 2; use "
                                          r"--threads 2 or fewer \(each actor reserves a CPU per thread\)"):
        rw.train_ray(GRPOConfig(**SMALL, model=str(ckpt), data=str(data)), tmp_path / "z", workers=1, threads=4,
                     progress=False)
    assert not (tmp_path / "z").exists()


def test_grpo_on_ray_records_its_actors_threads_and_a_plain_resume_reuses_them(_ray_pool, tmp_path, ckpt, data):
    """`grpo --ray --threads 2`'s actors sampled on 2 threads, but the run recorded only the learner's count: a plain
    --resume sampled on 1-thread actors. config.json records the actors' count ("ray": {"threads"}), written from
    the pool a resume makes, which takes it again. So for --ray-workers: a plain --resume started the default 2
    actors whatever the run used ("ray": {"workers"}); and for --ray-gpus ("ray": {"gpus"})."""
    from ponder.distributed.ray_workers import train_ray

    _ray_pool.close()  # (its 2 actors hold the session's 2 CPUs; the `pool` fixture starts them again)
    cfg = dict(SMALL, model=str(ckpt), data=str(data), steps=1, prompts_per_step=2, group_size=2, max_new_tokens=4)
    was = torch.get_num_threads()
    try:
        run = train_ray(GRPOConfig(**cfg), tmp_path / "r", workers=1, threads=2, progress=False)
        assert json.loads((run / "config.json").read_text())["ray"] == {"threads": 2, "workers": 1, "gpus": 0}
        # a resume refused when its pool starts (--threads 3: more CPUs than the session's 2) leaves config.json as
        # it was: the learner's --threads was recorded before the pool's start, which then refused
        before = (run / "config.json").read_bytes()
        with pytest.raises(PonderError, match="CPU"):
            train_ray(GRPOConfig(steps=2, threads=3), run, workers=1, threads=3, resume=True, progress=False)
        assert (run / "config.json").read_bytes() == before
        # a resume without workers starts the run's 1 actor again (it started the default 2: 2 x 2 threads need
        # more CPUs than the session's 2, refused)
        train_ray(GRPOConfig(steps=2), run, resume=True, progress=False)
        conf = json.loads((run / "config.json").read_text())
        assert conf["ray"] == {"threads": 2, "workers": 1, "gpus": 0} and conf["grpo"]["steps"] == 2
        # and for --ray-gpus: a plain --resume of a run whose actors sampled on GPUs ("ray": {"gpus": 0.5}; none
        # here, so that run is its config.json) started CPU actors, sampling in other arithmetic than the run's
        conf["ray"]["gpus"] = 0.5
        (run / "config.json").write_text(json.dumps(conf))
        with pytest.raises(PonderError, match=r"1 Ray workers x 0\.5 GPU each need 0\.5 GPUs, but the Ray cluster "
                                              r"has 0"):
            train_ray(GRPOConfig(steps=3), run, resume=True, progress=False)
    finally:
        torch.set_num_threads(was)


def _threads(dp):
    return torch.get_num_threads()


def test_ddp_ranks_share_the_cores_this_process_may_use_and_meet_on_a_port_nothing_can_take_first(monkeypatch):
    """(1) Each rank's torch threads come from the cores the driver may run on (taskset, a cpuset): os.cpu_count()
    counts the whole machine, so ranks pinned to 1 core each ran cpu_count() threads on it. (2) spawn picked the
    ranks' rendezvous port by binding port 0 and closing it (free_port), and rank 0 bound it again once started: a
    port taken in between (another run's ranks, any program) failed the run with "address already in use", or let
    the ranks meet another run's store. Here the port free_port finds is taken at once. (One spawn for both.)"""
    import os
    import socket

    before = os.sched_getaffinity(0)  # (a machine of 1 core: (1) holds trivially, (2) is still checked)
    os.sched_setaffinity(0, {min(before)})  # the spawned rank inherits it
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            monkeypatch.setattr(ddp, "free_port", lambda: taken.getsockname()[1])
            assert ddp.spawn(_threads, 1) == [1]
    finally:
        os.sched_setaffinity(0, before)


def test_grpo_nproc_ranks_run_with_the_threads_asked_for(tmp_path, ckpt, data, monkeypatch, capsys):
    """`ponder grpo --nproc 2 --threads T`: --threads set the driver's torch threads alone; the ranks it spawned
    ran their default share of the cores. The ranks are spawned as the command spawns them, each reporting its
    torch threads instead of training (one rank of the two: enough to read the setting, at half the cost)."""
    import os

    from ponder.cli import main

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("--nproc 2 needs 2 cores")
    real, seen = ddp.spawn, []

    def spawn(fn, nproc, *args, **kw):
        seen.append(real(_threads, 1, **kw))
        raise PonderError("ranks spawned")

    monkeypatch.setattr(ddp, "spawn", spawn)
    argv = ["grpo", "--model", str(ckpt), "--data", str(data), "--reward", "constraints", "--nproc", "2",
            "--threads", "1", "--steps", "1", "--quiet", "--out", str(tmp_path / "r")]
    assert main(argv) == 2 and "ranks spawned" in capsys.readouterr().err
    assert seen == [[1]]  # the default share of one rank on 2 or more cores is 2 or more
    with pytest.raises(PonderError, match=r"^threads must be a positive integer, got 0$"):
        ddp.train_ddp(GRPOConfig(**SMALL, model=str(ckpt), data=str(data)), tmp_path / "z", nproc=2, threads=0)


def _killed(dp):
    import os
    import signal

    if dp.rank == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(600)


def _fsdp_warnings(dp):
    """The warnings of an FSDP2 learner's forward and backward over a padded batch (the trainer's)."""
    import warnings

    model = ponder.Transformer(ponder.ModelConfig(**MCFG)).init_weights(3, std=0.1)
    ddp.apply_fsdp2(model, dp)
    ids = torch.tensor([[5, 6, 7, 8], [5, 6, 0, 0]])
    with warnings.catch_warnings(record=True) as seen:
        hidden = model(ids, attention_mask=(ids > 0).long(), return_hidden=True)
        model.lm_head(hidden).float().logsumexp(-1).sum().backward()
    return [str(w.message) for w in seen]


def _one_rank(dp):
    """What the tests of one spawned rank read, from one spawn: the FSDP2 learner's warnings, and the module of each
    lock a tqdm bar takes on a rank (once a bar was made, as rank 0's progress bar is)."""
    from tqdm.auto import tqdm

    tqdm(total=1, disable=True).close()
    lock = tqdm.get_lock()
    return {"fsdp_warnings": _fsdp_warnings(dp), "bar_lock": [type(x).__module__ for x in getattr(lock, "locks", [lock])]}


@pytest.fixture(scope="module")
def one_rank():
    (said,) = ddp.spawn(_one_rank, 1, threads=1)
    return said


def test_a_spawned_ranks_progress_bar_holds_no_semaphore_a_killed_rank_would_leak(one_rank):
    """A rank's first tqdm bar made a multiprocessing lock (a semaphore registered with the driver's resource
    tracker): when a rank was killed, torch stopped rank 0 with SIGTERM, its bar's semaphore was never unregistered,
    and `ponder grpo --nproc 2` ended with "UserWarning: resource_tracker: There appear to be 1 leaked semaphore
    objects" (2 lines) under its one-line error."""
    assert one_rank["bar_lock"] and not [m for m in one_rank["bar_lock"] if m.startswith("multiprocessing")], one_rank


def test_fsdp_learner_prints_no_warning_of_wrong_gradients(one_rank):
    """Every rank of a --fsdp run printed torch's 'FSDP2-wrapped module (FSDPTransformer) returned a view tensor. An
    in-place op on this view ... can cause backward to fail or produce wrong gradients' (2 lines): the trainer changes
    no output in place, and the gradients equal the single process's (test_two_ranks_equal_one_process)."""
    said = one_rank["fsdp_warnings"]
    assert not [w for w in said if "view tensor" in w], said


def _dies_after_step(dp, cfg, run_dir, resume, progress, after):
    """ddp._train_rank, but rank 1 is killed (SIGKILL) once its step `after` is trained (rank 0 then waits in step
    after + 1's first collective, any checkpoint of step `after` written)."""
    import os
    import signal

    from ponder.rl import trainer

    real, done = trainer._step, []

    def step(*a, **k):
        out = real(*a, **k)
        done.append(1)
        if dp.rank == 1 and len(done) == after:
            os.kill(os.getpid(), signal.SIGKILL)
        return out

    trainer._step = step
    return ddp._train_rank(dp, cfg, run_dir, resume, progress)


@pytest.mark.parametrize("after,save_every,said", [
    (1, 100, "it died before the run's first checkpoint, so --resume has nothing to continue: remove {out} and run "
             "the command again"),
    (2, 1, "the run's last checkpoint is intact: continue with --resume --nproc 2")])
def test_grpo_rank_killed_says_what_is_left_to_resume(tmp_path, ckpt, data, monkeypatch, capsys, after, save_every,
                                                      said):
    """A rank killed (kill -9, the OOM killer) before the run's first checkpoint was said to leave "a grpo run's last
    checkpoint" intact, to continue with --resume, which then refused the directory (nothing to resume). The ranks
    train as the command spawns them; rank 1 is killed after its first (second) step."""
    import functools
    import os

    from ponder.cli import main

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("--nproc 2 needs 2 cores")
    real = ddp.spawn
    monkeypatch.setattr(ddp, "spawn", lambda fn, *a, **kw: real(functools.partial(_dies_after_step, after=after),
                                                                 *a, **kw))
    out = tmp_path / "r"
    argv = ["grpo", "--model", str(ckpt), "--data", str(data), "--reward", "constraints", "--nproc", "2", "--threads",
            "1", "--steps", "3", "--prompts-per-step", "2", "--group-size", "2", "--max-new-tokens", "6",
            "--save-every", str(save_every), "--quiet", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r"ponder grpo: error: data-parallel rank 1 \(pid \d+\) was killed by SIGKILL; the other "
                        r"ranks were stopped; " + re.escape(said.format(out=out)) + "\n", err), err
    # as said: --resume refuses the run (one process: its checks come first), or has its checkpoint
    if after == 1:
        assert main(["grpo", "--resume", str(out), "--quiet"]) == 2
        assert "stopped before its first checkpoint (nothing to resume)" in capsys.readouterr().err
    else:  # (resuming such a run equals the uninterrupted one: test_two_ranks_equal_one_process, the fsdp run)
        assert (out / "checkpoint" / "trainer_state.pt").is_file()


def test_ddp_more_ranks_than_cores_and_a_killed_rank_get_one_line():
    import logging
    import os

    cores = len(os.sched_getaffinity(0))
    with pytest.raises(PonderError, match=f"nproc {cores + 1} exceeds the {cores} cores"):
        ddp.spawn(_killed, cores + 1)
    if cores < 2:
        pytest.skip("a 2-rank group needs 2 cores")
    t = time.perf_counter()
    logged = []  # (torch logged 'Terminating process N via signal SIGTERM' as it stopped rank 0, ahead of the line)
    handler = logging.Handler()
    handler.emit = logged.append
    logging.getLogger("torch.multiprocessing.spawn").addHandler(handler)
    try:
        with pytest.raises(PonderError, match=r"data-parallel rank 1 \(pid \d+\) was killed by SIGKILL; the other "
                                              "ranks were stopped.*--resume"):
            ddp.spawn(_killed, 2, threads=1)
    finally:
        logging.getLogger("torch.multiprocessing.spawn").removeHandler(handler)
    # rank 0 was stopped, not waited for (its 600 s: starting the two ranks on a loaded 2-core machine can take
    # tens of seconds, which the bound, 50 s under a 60 s sleep before, left little room for)
    assert time.perf_counter() - t < 300
    assert [r.getMessage() for r in logged] == []


def _fails(dp, kind):
    import os
    import signal

    if dp.rank == 1:
        if kind == "ponder":
            raise PonderError("item 3: field 'answer' is missing")
        if kind == "killed":  # (once rank 0 waits in the barrier, which then fails with a gloo error of its own)
            time.sleep(2)
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB\nsee the documentation")
    dp.barrier()  # rank 0 waits in a collective that rank 1 never joins: its own error follows rank 1's


@pytest.mark.parametrize("kind,msg", [("ponder", "item 3: field 'answer' is missing"),
                                      ("other", "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"),
                                      ("killed", r"\(pid \d+\) was killed by SIGKILL; the other ranks were stopped")])
def test_ddp_rank_error_is_one_line_naming_the_rank(kind, msg):
    """A rank's error used to reach the driver as torch's ProcessRaisedException (a non-PonderError), whose message is
    the rank's whole traceback: the CLI printed 'ProcessRaisedException: -- Process 1 terminated with the following
    error:' and nothing of the error; a PonderError did not say which rank raised it. A rank killed outright is named
    as the cause, not the rank whose collective then failed."""
    import os

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("a 2-rank group needs 2 cores")
    with pytest.raises(PonderError) as e:
        ddp.spawn(_fails, 2, kind, threads=1)
    if kind == "killed":
        assert re.fullmatch(f"data-parallel rank 1 {msg}.*--resume", str(e.value))
    else:
        assert str(e.value) == f"data-parallel rank 1: {msg}"


def _late(dp):
    import os
    from datetime import timedelta

    import torch.distributed as dist

    # The 1 s collective timeout from here on, once both ranks have met: set from the start, it also bounded their
    # rendezvous, and a rank that started over 1 s after the other on a loaded machine failed there instead
    # ('DistStoreError: wait timeout after 1000ms').
    os.environ["PONDER_DIST_TIMEOUT_S"] = "1"
    dist.distributed_c10d._set_pg_timeout(timedelta(seconds=1))
    if dp.rank == 1:  # (rank 0's long held-out evaluation, say: the driver stops this rank once rank 0 fails)
        time.sleep(60)
    dp.barrier()


def test_ddp_collective_timeout_names_the_setting_that_raises_it(monkeypatch):
    """A rank that waited past the collective timeout for the others said only gloo's 'Timed out waiting 1000ms for
    recv operation to complete', not which setting allows longer."""
    import os

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("a 2-rank group needs 2 cores")
    monkeypatch.setenv("PONDER_DIST_TIMEOUT_S", "300")  # (the ranks' rendezvous: _late sets the 1 s)
    with pytest.raises(PonderError) as e:
        ddp.spawn(_late, 2, threads=1)
    # (rank 0 waited for rank 1: it was told to raise the setting if its own held-out evaluation takes longer)
    assert re.fullmatch(r"data-parallel rank 0: RuntimeError: .*Timed out waiting 1000ms.*; the other ranks did not "
                        r"join a collective within PONDER_DIST_TIMEOUT_S=1 s: another rank is slower, stuck or gone "
                        r"\(see its error\); if it is only slower, raise PONDER_DIST_TIMEOUT_S", str(e.value))


def test_collective_timeout_hint_blames_rank_0_s_evaluation_only_on_the_ranks_that_wait_for_it(monkeypatch):
    """Rank 0 timing out in a collective was told 'if rank 0's held-out evaluation (--eval-n) or checkpoint takes
    longer': rank 0 was the one waiting, so its own evaluation was not what it waited for."""
    monkeypatch.setenv("PONDER_DIST_TIMEOUT_S", "5")
    text = "[gloo/transport/tcp/unbound_buffer.cc:78] Timed out waiting 5000ms for recv operation to complete"
    assert "rank 0's held-out evaluation" in ddp._timeout_hint(text, 1)
    hint0 = ddp._timeout_hint(text, 0)
    assert "rank 0's" not in hint0 and "another rank is slower, stuck or gone" in hint0
    assert hint0.endswith("raise PONDER_DIST_TIMEOUT_S") and "PONDER_DIST_TIMEOUT_S=5 s" in hint0
    assert ddp._timeout_hint("Connection closed by peer", 0) == ""


def test_a_rank_error_file_cut_short_by_the_stop_does_not_hide_the_first_failure(tmp_path):
    """When one rank fails the driver stops the others, which may be writing their own error file: a file cut
    short made the driver's report a JSONDecodeError instead of the failing rank's line."""
    (tmp_path / "rank0.error").write_text('{"rank": 0, "message": "RuntimeError: Connection closed by peer", "at": 2')
    (tmp_path / "rank1.error").write_text(json.dumps({"rank": 1, "message": "item 3: bad", "at": 1.0}))
    assert ddp._first_failure(RuntimeError("x"), [], tmp_path) == "data-parallel rank 1: item 3: bad"
    (tmp_path / "rank1.error").unlink()
    assert ddp._first_failure(RuntimeError("x"), [], tmp_path) is None  # the caller re-raises the original


def test_a_rank_stuck_until_its_peer_timed_out_is_not_said_to_have_been_killed(tmp_path, monkeypatch):
    """A rank stuck outside the collectives (SIGSTOP here, by hand: a deadlock, a hung file system) made its peer
    time out after PONDER_DIST_TIMEOUT_S; torch's join then stops the stuck rank with SIGKILL, and the run said only
    "data-parallel rank 1 (pid N) was killed by SIGKILL", a signal nobody sent (as of the OOM killer). A rank killed
    before its peer's error (the peer's wait then fails at once, not by the timeout) is still named so."""
    from types import SimpleNamespace

    monkeypatch.setenv("PONDER_DIST_TIMEOUT_S", "10")
    gloo = "RuntimeError: [unbound_buffer.cc:129] Timed out waiting 10000ms for send operation to complete"
    (tmp_path / "rank0.error").write_text(json.dumps({"rank": 0, "message": gloo + ddp._timeout_hint(gloo, 0),
                                                      "at": 1.0}))
    procs = [SimpleNamespace(pid=10, exitcode=1), SimpleNamespace(pid=11, exitcode=-signal.SIGKILL)]
    said = ddp._first_failure(RuntimeError("x"), procs, tmp_path, lambda: "; resume")
    assert said.startswith("data-parallel rank 0: RuntimeError: ") and "Timed out waiting 10000ms" in said, said
    assert said.endswith("stuck, never joining it: rank 1 (pid 11), stopped with SIGKILL; resume"), said
    (tmp_path / "rank0.error").write_text(json.dumps({"rank": 0, "message": "RuntimeError: Connection closed by peer",
                                                      "at": 1.0}))
    assert ddp._first_failure(RuntimeError("x"), procs, tmp_path, lambda: "; resume") == (
        "data-parallel rank 1 (pid 11) was killed by SIGKILL; the other ranks were stopped; resume")


def test_ddp_spawn_from_a_script_without_a_main_guard_says_so(tmp_path):
    """Each spawned rank imports the caller's script first: one calling ddp.spawn at its top level had every rank
    fail in multiprocessing's bootstrap check, and the run said 'rank 0 (pid N) exited with code 1; ... continue
    with --resume', not why."""
    import os
    import subprocess
    import sys

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("a 2-rank group needs 2 cores")
    script = tmp_path / "train.py"
    script.write_text("from ponder.distributed import ddp\n\ndef fn(dp):\n    return dp.rank\n\n"
                      "ddp.spawn(fn, 2, threads=1)\n")
    root = str(Path(ponder.__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": root})
    last = out.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"ponder\.errors\.PonderError: data-parallel rank \d \(pid \d+\) exited with code 1 before it "
                        r"started \(its error is above\); a script that starts ranks .* must do so under "
                        r"`if __name__ == \"__main__\":`, as each rank imports the script first", last), last


_SLEEPER = '''
import os, sys, time
def sleeper(dp, d):
    open(os.path.join(d, f"pid{dp.rank}"), "w").write(str(os.getpid()))
    time.sleep(300)
'''


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGKILL"])
def test_ddp_ranks_never_outlive_their_driver(tmp_path, sig):
    """A scheduler's SIGTERM used to kill the driver alone: its ranks trained on, writing the run directory. Now
    SIGTERM ends them as Ctrl-C does (temporary files removed), and a driver killed outright takes its ranks
    with it (PR_SET_PDEATHSIG)."""
    import os
    import signal
    import subprocess
    import sys

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("a 2-rank group needs 2 cores")
    (tmp_path / "rankfns.py").write_text(_SLEEPER)
    (tmp_path / "tmp").mkdir()
    driver = subprocess.Popen(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import rankfns; "
                               "from ponder.distributed import ddp; ddp._stop_ranks.__defaults__ = (1.0,); "
                               f"ddp.spawn(rankfns.sleeper, 2, {str(tmp_path)!r}, threads=1)"],
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp"), "PYTHONPATH": str(tmp_path)})
    # (SIGTERM: the driver gives its ranks, which sleep on, a grace to unwind that is waited out in full before
    # it signals them; 1 s of it, not 5, takes the same path: then SIGINT, then a terminate for stragglers)
    pidfiles = [tmp_path / f"pid{r}" for r in range(2)]
    deadline = time.monotonic() + 300
    while not all(f.exists() and f.read_text() for f in pidfiles) and time.monotonic() < deadline:
        time.sleep(0.2)
    pids = [int(f.read_text()) for f in pidfiles]
    driver.send_signal(getattr(signal, sig))
    driver.wait(300)

    def alive(pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return not open(f"/proc/{pid}/stat").read().split(") ")[1].startswith("Z")  # (a zombie is gone)

    deadline = time.monotonic() + 120
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in pids)
    if sig == "SIGTERM":
        assert list((tmp_path / "tmp").glob("ponder-ranks-*")) == []


_SPAWN_UNDER_THE_CLI = '''
import signal, sys
sys.path.insert(0, sys.argv[1])
import rankfns
from ponder.cli import _sigterm_as_interrupt
from ponder.distributed import ddp
ddp._stop_ranks.__defaults__ = (1.0,)  # the grace for the sleeping ranks to unwind, waited out in full: 1 s, not 5
signal.signal(signal.SIGHUP, signal.SIG_IGN)  # nohup
with _sigterm_as_interrupt():
    try:
        ddp.spawn(rankfns.sleeper, 2, sys.argv[1], threads=1)
    except KeyboardInterrupt as e:
        print(type(e).__name__, flush=True)
'''


def test_ddp_spawn_keeps_its_callers_signal_handling(tmp_path):
    """spawn turns SIGTERM and SIGHUP into Ctrl-C for a caller that left them at their default. It also replaced
    the handlers of one that had its own: `ponder grpo --nproc 2` stopped by SIGTERM reported an interrupt
    (exit 130, "interrupted") instead of SIGTERM (143), and under nohup (SIGHUP ignored) a closed terminal
    stopped the run. Now a handler already set, or an ignored signal, is kept."""
    import os
    import signal
    import subprocess
    import sys

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("a 2-rank group needs 2 cores")
    (tmp_path / "rankfns.py").write_text(_SLEEPER)
    (tmp_path / "tmp").mkdir()
    driver = subprocess.Popen([sys.executable, "-c", _SPAWN_UNDER_THE_CLI, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "TMPDIR": str(tmp_path / "tmp")}, start_new_session=True)
    try:
        pidfiles = [tmp_path / f"pid{r}" for r in range(2)]
        deadline = time.monotonic() + 300
        while not all(f.exists() and f.read_text() for f in pidfiles) and time.monotonic() < deadline:
            time.sleep(0.2)
        driver.send_signal(signal.SIGHUP)  # ignored, as the caller asked
        driver.send_signal(signal.SIGTERM)
        out = driver.communicate(timeout=300)[0]
    finally:  # never leave the driver or its ranks behind
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
    assert out == "Terminated\n"
    assert list((tmp_path / "tmp").glob("ponder-ranks-*")) == []


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_fsdp_with_a_low_precision_dtype_is_refused_before_ranks_are_spawned(dtype):
    """`grpo --nproc 2 --fsdp --dtype bfloat16` spawned both ranks, each loaded the model, and only then did a
    rank refuse it (torch printing "Terminating process ... via signal SIGTERM" beside the error). check_world,
    run before the spawn, now refuses it in the same words; float32 and the checkpoint's own dtype pass."""
    cfg = GRPOConfig(fsdp=True, dtype=dtype)
    with pytest.raises(PonderError, match=f"^fsdp: the learner's weights are {dtype}, .*use --dtype float32$"):
        ddp.check_world(cfg, 2)
    ddp.check_world(GRPOConfig(fsdp=True, dtype="float32"), 2)
    ddp.check_world(GRPOConfig(fsdp=True), 2)
    ddp.check_world(GRPOConfig(dtype=dtype), 2)  # (without fsdp, MasterAdamW keeps the masters)


@pytest.mark.parametrize("bad,match", [
    (dict(prompts_per_step=0), r"^prompts_per_step must be a positive integer, got 0$"),
    (dict(group_size="4"), r"^group_size must be a positive integer, got '4'$"),
    (dict(prompts_per_step=1, group_size=1), r"^group_size must be >= 2: "),
])
def test_ddp_bad_batch_size_is_refused_as_one_process_refuses_it(tmp_path, bad, match):
    """The world-size check read the batch before it was validated: prompts_per_step=0 was "2 ranks but only 0 samples
    per step ...; use at most 0 ranks", group_size="4" a TypeError, group_size=1 "use at most 1 ranks". Now the
    single process's own line, before any rank is spawned (nothing written)."""
    with pytest.raises(PonderError, match=match):
        ddp.train_ddp(GRPOConfig(**bad), tmp_path / "r", nproc=2)
    assert not (tmp_path / "r").exists()


def _refusal(fn) -> str:
    with pytest.raises(PonderError) as e:
        fn()
    return str(e.value)


@pytest.mark.parametrize("bad,match", [
    (dict(data="{tmp}/missing.jsonl"), r"^{tmp}/missing.jsonl: no such file$"),
    (dict(eval_data="{tmp}/missing.jsonl"), r"^{tmp}/missing.jsonl: no such file$"),
    (dict(reward="nosuch"), r"^reward spec 'nosuch': unknown verifier 'nosuch'; valid: math, "),
    (dict(preset="grpoo"), r"^objective: unknown preset 'grpoo'; valid: grpo, "),
    (dict(objective={"clip": "bogus"}), r"^objective: unknown clip 'bogus'; valid: symmetric, "),
    (dict(data=None, task="nope"), r"^unknown task 'nope'"),
    (dict(model="{tmp}/no-model"), r"^{tmp}/no-model: no such checkpoint directory$"),
    (dict(dtype="float8"), r"^unknown dtype 'float8'; choose from "),
    (dict(device="nope"), r"^unknown device 'nope'; available: "),
    (dict(prompts_per_step=11), r"c.jsonl: 10 training prompts, fewer than prompts_per_step=11; lower "
                                r"--prompts-per-step$"),
    (dict(eval_n=0), r"^eval_n must be a positive integer, got 0$"),
    (dict(max_new_tokens=2040), r"^\S+/c.jsonl: item c-1: prompt of 24 tokens \+ max_new_tokens 2040 exceeds the "
                                r"model's context of 2048 positions$"),
    ("old", r"^{tmp}/r: already holds a run; pass --resume to continue it or choose another --out$"),
    ("gen", r"^{tmp}/m/generation_config.json: eos_token_id must be an integer, a list of integers or null, "
            r"got \"x\"$"),
])
def test_ddp_bad_input_is_refused_before_any_rank_is_spawned(tmp_path, ckpt, data, bad, match):
    """`grpo --nproc 2` checked nothing of its input but the world size before spawning: a missing --data file, a
    bad reward, preset, --set, task, model, dtype or device, an earlier run in --out, a prompt too long for the
    model, a broken generation_config.json... each rank loaded the model, then refused it ("data-parallel rank 0:
    ...", after torch's "Terminating process" lines). Now the driver says it before the spawn, in the single
    process's words, and writes nothing."""
    run = tmp_path / "r"
    if bad == "old":  # an earlier run's directory
        (run / "checkpoint").mkdir(parents=True)
        bad = {}
    elif bad == "gen":  # a model whose generation_config.json is broken
        import shutil

        shutil.copytree(ckpt, tmp_path / "m")
        (tmp_path / "m" / "generation_config.json").write_text('{"eos_token_id": "x"}')
        bad = {"model": str(tmp_path / "m")}
    bad = {k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in bad.items()}
    cfg = {**SMALL, "model": str(ckpt), "data": str(data), **bad}
    before = sorted(tmp_path.rglob("*"))
    one = _refusal(lambda: train(GRPOConfig(**cfg), run, progress=False))
    assert re.search(match.format(tmp=re.escape(str(tmp_path))), one), one
    two = _refusal(lambda: ddp.train_ddp(GRPOConfig(**cfg), run, nproc=2, progress=False))
    assert two == one  # (a rank's error would read "data-parallel rank N: ...")
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


@pytest.mark.parametrize("case,match", [
    ("missing", r"^{run}: not a resumable run directory \(needs config.json and checkpoint/trainer_state.pt\)$"),
    ("sft", r"^{run}: holds an? .*'sft'.*, not a 'grpo' run$"),
    ("unstarted", r"^{run}: the run stopped before its first checkpoint \(nothing to resume\); remove the directory "
                  r"and start again$"),
    ("data_gone", r"^{tmp}/moved.jsonl: no such file$"),
    ("finished", r"^{run}: the run is at step 1 of 1; pass --steps N \(N > 1\) to train further$"),
])
def test_ddp_resume_of_a_bad_run_is_refused_before_any_rank_is_spawned(tmp_path, ckpt, data, case, match, plots):
    """`grpo --nproc 2 --resume DIR` of a missing directory, another kind of run, a run without a checkpoint, one
    whose --data file has gone, or a finished one (no higher --steps) spawned both ranks, which refused it in
    load_run / load_items / train. The driver now refuses it first, in the single process's words, and changes
    nothing."""
    run = tmp_path / "run"
    if case == "sft":
        (run / "checkpoint").mkdir(parents=True)
        (run / "checkpoint" / "trainer_state.pt").write_bytes(b"x")
        (run / "config.json").write_text(json.dumps({"kind": "sft", "train": {}}))
    elif case == "unstarted":
        run.mkdir()
        (run / "config.json").write_text(json.dumps({"kind": "grpo", "grpo": {}}))
    elif case == "data_gone":
        moved = tmp_path / "moved.jsonl"
        moved.write_text(data.read_text())
        train(GRPOConfig(**{**SMALL, "model": str(ckpt), "data": str(moved), "steps": 1}), run, progress=False)
        moved.unlink()
    elif case == "finished":  # resumed with its own target (steps 0), which it has reached
        train(GRPOConfig(**{**SMALL, "model": str(ckpt), "data": str(data), "steps": 1}), run, progress=False)
    steps = 0 if case == "finished" else 2
    before = {f: f.read_bytes() if f.is_file() else None for f in tmp_path.rglob("*")}
    one = _refusal(lambda: train(GRPOConfig(steps=steps), run, resume=True, progress=False))
    assert re.search(match.format(run=re.escape(str(run)), tmp=re.escape(str(tmp_path))), one), one
    two = _refusal(lambda: ddp.train_ddp(GRPOConfig(steps=steps), run, nproc=2, resume=True, progress=False))
    assert two == one  # (a rank's error would read "data-parallel rank N: ...")
    assert {f: f.read_bytes() if f.is_file() else None for f in tmp_path.rglob("*")} == before


def test_ddp_resume_with_another_setting_is_refused_as_one_process_refuses_it(tmp_path, ckpt, data):
    """train_ddp(GRPOConfig(lr=..., steps=2), run, resume=True, nproc=2) handed its ranks the run's saved config, so
    the lr given was dropped silently where train() refuses it. Refused the same way, before any rank starts."""
    run = train(GRPOConfig(**{**SMALL, "model": str(ckpt), "data": str(data), "steps": 1}), tmp_path / "r",
                progress=False)
    given = GRPOConfig(steps=2, lr=1e-5)
    one = _refusal(lambda: train(given, run, resume=True, progress=False))
    assert "where lr is 0.001, not 1e-05" in one
    assert _refusal(lambda: ddp.train_ddp(given, run, nproc=2, resume=True, progress=False)) == one


def test_ddp_resume_leaves_the_checkpoint_of_a_run_saving_in_another_process_alone(tmp_path, hold_run):
    """`grpo --nproc 2 --resume` checked the run (putting back a checkpoint set aside) in the driver, which held
    no lock: a run training there, between the two renames of its save, had its old checkpoint moved back under its
    new one. Refused first, nothing moved."""
    run = tmp_path / "r"
    (run / ".checkpoint.old-999999999").mkdir(parents=True)  # the live save's old checkpoint, set aside
    (run / "config.json").write_text(json.dumps({"kind": "grpo", "grpo": {}}))
    held = hold_run(run)
    try:
        with pytest.raises(PonderError, match="is in use by another ponder process"):
            ddp.train_ddp(GRPOConfig(steps=2), run, nproc=2, resume=True, progress=False)
    finally:
        held.close()
    assert (run / ".checkpoint.old-999999999").is_dir() and not (run / "checkpoint").exists()


def _resume_recording_recovers(dp, run_dir, log_dir):
    """A torchrun rank resuming `run_dir` (no driver recovered it first), noting each checkpoint.recover it calls."""
    from ponder import checkpoint

    real = checkpoint.recover

    def recover(path):
        with open(Path(log_dir) / f"rank{dp.rank}.recover", "a") as f:
            f.write(f"{path}\n")
        return real(path)

    checkpoint.recover = recover
    try:
        return ddp._train_rank(dp, GRPOConfig(steps=2), run_dir, True, False)
    finally:
        checkpoint.recover = real


def test_parameter_no_rank_has_a_gradient_for_is_left_to_adamw_as_in_one_process(two_ranks):
    """A parameter unused in the forward has no gradient in one process, and AdamW skips it (no decay, no moments);
    on 2 ranks sync_grads gave it a zero gradient, and AdamW's weight decay shrank it. A parameter only one rank
    has a gradient for still gets the other rank's zeros."""
    *_, ranks, _ = two_ranks
    one = _partly_used_step((0, 4))
    start = {n: p.detach() for n, p in _partly_used_layers().named_parameters()}
    assert torch.equal(one["c.weight"], start["c.weight"]) and not torch.equal(one["b.weight"], start["b.weight"])
    for r in ranks:
        for n in one:
            torch.testing.assert_close(r[6][n], one[n], rtol=1e-5, atol=1e-7, msg=n)


def test_ranks_resuming_a_checkpoint_left_mid_swap_recover_it_once(tmp_path, ckpt, data, two_ranks):
    """Under torchrun every rank resumed at once, each putting back the checkpoint a save killed between its two
    renames had set aside: they raced on the same renames (one's failed with FileNotFoundError, or a rank found no
    checkpoint while another had it renamed aside). Rank 0 alone now recovers it while the others wait; the 2-rank
    resume equals the uninterrupted single process."""
    one = train(GRPOConfig(**dict(SWAP, model=str(ckpt), data=str(data))), tmp_path / "one", progress=False)
    *_, ranks, shared = two_ranks  # (the run "swap", 1 step, its checkpoint set aside, resumed to 2 by the ranks)
    run, logs = shared / "swap", shared / "logs"
    assert [r[5] for r in ranks] == [str(run)] * 2
    assert not (logs / "rank1.recover").exists()
    assert (logs / "rank0.recover").read_text().splitlines()[0] == str(run / "checkpoint")
    assert not list(run.glob(".checkpoint.*"))
    assert_rows_close(rows(one), rows(run))
    wa = ponder.load(one / "checkpoint")[0].state_dict()
    wb = ponder.load(run / "checkpoint")[0].state_dict()
    for n in wa:
        torch.testing.assert_close(wa[n], wb[n], rtol=1e-4, atol=1e-6)


def test_grpo_under_torchrun_prints_its_result_once(two_ranks):
    """`torchrun --nproc_per_node 2 -m ponder.cli grpo ... --json` printed the run summary on every rank: stdout
    held one JSON object per rank, which a script reading one could not parse. Rank 0, the rank that wrote the
    run, prints it; the others print nothing. (The command runs on the two_ranks spawn's ranks, _cli_json.)"""
    logs = two_ranks[4] / "logs"
    (rc0, out0), (rc1, out1) = (json.loads((logs / f"json{r}.json").read_text()) for r in range(2))
    assert rc0 == rc1 == 0
    assert json.loads(out0)["steps"] == 1 and out1 == ""


def test_ranks_stopped_by_an_alarm_stop_as_one_process_and_say_it_once(tmp_path, ckpt, data, two_ranks, capfd):
    """--stop-on-alarm on 2 ranks: rank 0's decision (broadcast) stops both at the step the single process stops at,
    with the same rows; the "stopping after step N" line was printed by every rank (alarms by rank 0 alone). (The
    ranks run as train_ddp spawns them, _train_rank, in the shared spawn: each rank's stderr is in logs/alarmN.err.)"""
    one = train(GRPOConfig(**dict(ALARM, model=str(ckpt), data=str(data))), tmp_path / "one", progress=False)
    assert capfd.readouterr().err.count("stopping after step 3 (--stop-on-alarm)") == 1
    shared = two_ranks[-1]
    two = shared / "alarm"
    err = "".join((shared / "logs" / f"alarm{r}.err").read_text() for r in range(2))
    assert err.count("stopping after step 3 (--stop-on-alarm)") == 1, err
    assert err.count("ALARM step 3: length_runaway") == 1
    assert rows(two)[-1]["stopped_early"]["alarm"] == "length_runaway"
    assert_rows_close(rows(one), rows(two))



def test_an_error_every_torchrun_rank_meets_is_said_once_by_rank_0(two_ranks):
    """Under torchrun every rank printed the same line for one bad input, N copies. Rank 0 says it, the others exit
    as it does, quietly; a rank that failed otherwise (a file of its own machine's, its GPU) says its own line.
    (The ranks run the command line in the shared spawn: _cli_errors.)"""
    logs = two_ranks[-1] / "logs"
    (same0, own0), (same1, own1) = (json.loads((logs / f"cli{r}.json").read_text()) for r in range(2))
    line = f"ponder grpo: error: {logs / 'bad.jsonl'}:1: invalid JSON: Expecting ',' delimiter (column 15)\n"
    assert same0 == own0 == [2, line]
    assert same1 == [2, ""]
    assert own1[0] == 2 and own1[1].startswith(f"ponder grpo: error: {logs / 'other.jsonl'}:2: invalid JSON")
    assert own1[1].count("\n") == 1


def test_torchrun_training_leaves_the_callers_process_group_usable(tmp_path, ckpt, data, monkeypatch):
    """train_ddp under torchrun destroyed the process group on return even when the caller had initialised it, so
    the caller's next collective (its own evaluation, a second training call) failed. A group it found is left
    as found; one it made is still destroyed (test_torchrun_rank_of_a_cpu_learner_uses_gloo_where_cuda_is_available).
    Here this process is a torchrun-style rank whose script made its own gloo group before training."""
    import torch.distributed as dist

    for k, v in dict(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                     MASTER_PORT=str(ddp.free_port())).items():
        monkeypatch.setenv(k, v)
    cfg = GRPOConfig(**dict(SMALL, model=str(ckpt), data=str(data), steps=1, prompts_per_step=2, group_size=2,
                            max_new_tokens=4))
    dist.init_process_group("gloo")
    try:
        assert ddp.train_ddp(cfg, tmp_path / "r", progress=False) == tmp_path / "r"
        assert dist.is_initialized() and len(rows(tmp_path / "r")) == 1
        t = torch.tensor([2.0])
        dist.all_reduce(t)  # the caller's own collective after the training
        assert float(t) == 2.0
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _interrupted(dp):
    import os
    import signal

    if dp.rank == 1:  # (kill -INT of this rank alone)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(60)
    dp.barrier()  # rank 0 waits for rank 1, whose exit then fails it with a gloo error of its own


def test_ddp_rank_interrupted_alone_stops_the_run_as_an_interrupt_naming_the_rank(tmp_path, monkeypatch, capsys):
    """torch's wrapper takes a rank's KeyboardInterrupt for the driver's stop and exits 0: a rank interrupted alone
    was reported as rank 0's 'Connection closed by peer' (or, after the last collective, as a FileNotFoundError of
    its missing result), not as an interrupt. Now the run stops as at Ctrl-C (130), naming the rank."""
    import os

    import ponder.cli as cli

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("a 2-rank group needs 2 cores")
    monkeypatch.setattr(cli, "cmd_grpo", lambda a: ddp.spawn(_interrupted, 2, threads=1))
    assert cli.main(["grpo", "--out", str(tmp_path / "run")]) == 130
    err = capsys.readouterr().err
    assert err.startswith("data-parallel rank 1 was interrupted; the other ranks were stopped"), err
    assert err.count("\n") == 1


@pytest.mark.parametrize("flags", [["--nproc", "2"], ["--ray"], ["--ray", "10.0.0.5:6379", "--ray-gpus", "0.5"]])
def test_interrupted_grpo_on_ranks_or_actors_says_to_continue_on_them(tmp_path, ckpt, data, monkeypatch, capsys,
                                                                      flags):
    """Ctrl-C of `grpo --nproc 2` / `--ray` said 'continue with: ponder grpo --out RUN --resume', which continued the
    run in one process (config.json records neither the ranks nor the actors' GPUs). The run is stopped as it resumes
    from its checkpoint (the ranks' or actors' trainer interrupted as it starts)."""
    from ponder.cli import main
    from ponder.distributed import ray_workers

    run = train(GRPOConfig(**{**SMALL, "model": str(ckpt), "data": str(data), "steps": 1, "save_every": 1}),
                tmp_path / "run", progress=False)

    def interrupted(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(ddp, "train_ddp", interrupted)
    monkeypatch.setattr(ray_workers, "train_ray", interrupted)
    assert main(["grpo", "--resume", str(run), "--steps", "2", "--quiet", *flags]) == 130
    # (--steps 2 kept: stopped before config.json took it, a plain --resume was refused as a finished run)
    assert capsys.readouterr().err == (f"interrupted; continue with: ponder grpo --out {run} --resume "
                                       f"{' '.join(flags)} --steps 2\n")


def test_a_ranks_bad_prompt_is_named_by_its_index_in_the_steps_prompts(tiny_random):
    """Each rank samples its share of the step's prompts with index_offset = the share's start: rank 1's bad prompt
    (the caller's prompt 3) was named "prompt 1", its index in the share. No process group needed: the sample
    raises before the gather."""
    model, tok = tiny_random
    generate = ddp.DataParallel(1, 2).generate_fn()
    with pytest.raises(PonderError, match=r"^prompt 3: token id 1000000 at position 1 "):
        generate(model, tok, ["hello", "hi", "one", [5, 10**6]], version=0, max_new_tokens=2)


def test_a_ranks_scorer_error_names_the_input_and_its_item():
    """A reward raising on rank 1's share of a step's completions reached the driver as 'data-parallel rank 1:
    KeyError: ...', naming none of them: the input's index among the step's and its item's id are said, as on Ray.
    No process group needed: the scorer raises before the gather."""
    score = ddp.DataParallel(1, 2).score_fn()
    items = [{"id": f"q{i}", "answer": "a"} for i in range(5)]
    del items[4]["answer"]
    with pytest.raises(PonderError, match=r"^scoring input 5 of 5 \(item q4\): KeyError: 'answer'$"):
        score(lambda c, it: it["answer"] == c, ["a"] * 5, items)
    with pytest.raises(PonderError, match=r"^item 3: bad$"):  # a PonderError is the single process's own line
        score(lambda c, it: (_ for _ in ()).throw(PonderError("item 3: bad")), ["a"] * 5, items)


def test_a_run_resumed_on_another_number_of_ranks_says_it_is_not_bit_identical(tmp_path, ckpt, data, capsys):
    """A plain --resume of a `--nproc 2` (or torchrun) run continued in one process without a word: one process sums
    the gradient in another order than 2 ranks (~1e-6 apart), so the resumed run is not the uninterrupted one bit for
    bit. The checkpoint records the ranks it was trained on (here a 2-rank run's, as the ranks write it: its record
    set to 2) and a resume on another count says so, once."""
    run = train(GRPOConfig(**{**SMALL, "model": str(ckpt), "data": str(data), "steps": 1, "save_every": 1}),
                tmp_path / "run", progress=False)
    f = run / "checkpoint" / "trainer_state.pt"
    state = torch.load(f, weights_only=True)
    assert state["extra"]["world"] == 1  # one process's
    state["extra"]["world"] = 2
    torch.save(state, f)
    capsys.readouterr()
    train(GRPOConfig(**{**SMALL, "model": str(ckpt), "data": str(data), "steps": 2, "save_every": 1}), run, resume=True,
          progress=False)
    err = capsys.readouterr().err
    assert err.count("resume: the run trained on 2 data-parallel ranks and continues in one process: ") == 1, err
    assert "--nproc 2" in err
    assert torch.load(f, weights_only=True)["extra"]["world"] == 1
