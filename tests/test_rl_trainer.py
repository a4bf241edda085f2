"""The RL trainer end to end on a small random model: metrics, exact resume after kill -9, bad input."""

import json
import math
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import plot_each_kind_of_rows_once

import ponder
from ponder.errors import PonderError
from ponder.rl.monitor import Monitor
from ponder.rl.trainer import GRPOConfig, train

SMALL = dict(steps=4, prompts_per_step=3, group_size=4, max_new_tokens=12, eval_every=2, eval_n=6,
             save_every=2, train_pool=40, lr=1e-3, tensorboard=False)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, tokenizer):
    cfg = ponder.ModelConfig(vocab_size=320, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                             num_attention_heads=2, num_key_value_heads=1, head_dim=24)
    path = tmp_path_factory.mktemp("m") / "ck"
    ponder.save(ponder.Transformer(cfg).init_weights(1, std=0.08), tokenizer, path)
    return path


def rows(run):
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


ONE_STEP = {**SMALL, "steps": 1, "eval_every": 5, "save_every": 1}


@pytest.fixture(scope="module")
def _one_step_run(tmp_path_factory, ckpt):
    with pytest.MonkeyPatch.context() as mp:
        plot_each_kind_of_rows_once(mp)
        return train(GRPOConfig(model=str(ckpt), **ONE_STEP), tmp_path_factory.mktemp("one") / "r", progress=False)


@pytest.fixture
def one_step_run(_one_step_run, tmp_path):
    """A finished 1-step run of ONE_STEP, this test's own copy (one run trained for the module, not one a test)."""
    import shutil

    return Path(shutil.copytree(_one_step_run, tmp_path / "r"))


def test_grpo_runs_and_logs(tmp_path, ckpt, plots):
    run = train(GRPOConfig(model=str(ckpt), **{**SMALL, "tensorboard": True}), tmp_path / "r", progress=False)
    r = rows(run)
    assert [x["step"] for x in r] == [1, 2, 3, 4]
    for k in ("reward_mean", "accuracy", "response_length", "entropy", "zero_var_frac", "grad_norm",
              "gen_s", "train_s", "tokens_per_s"):
        assert k in r[0], k
    assert "heldout_accuracy" in r[1] and "kl_mean" in r[0]  # grpo preset: k3 KL against the reference
    assert (run / "checkpoint" / "model.safetensors").is_file() and list((run / "tensorboard").iterdir())
    assert (run / "training.png").read_bytes()[:4] == b"\x89PNG"
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["kind"] == "grpo" and "DeepSeekMath" in cfg["explain"]
    # the held-out accuracy is an evaluation: under eval/ in TensorBoard (it was train/heldout_accuracy), at the
    # steps metrics.jsonl has it, with its values; every other tag is a training one
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    acc = ea_mod.EventAccumulator(str(run / "tensorboard"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert "eval/heldout_accuracy" in tags and not any(t.endswith("heldout_accuracy") for t in tags - {
        "eval/heldout_accuracy"})
    # (the evaluation's, as its accuracy)
    evals = {"eval/heldout_accuracy", "eval/heldout_sandbox_errors", "eval/heldout_judge_overflow"}
    assert all(t.startswith("train/") for t in tags - evals) and "train/reward_mean" in tags
    ev = acc.Scalars("eval/heldout_accuracy")
    assert [(e.step, round(e.value, 6)) for e in ev] == [
        (x["step"], round(x["heldout_accuracy"], 6)) for x in r if "heldout_accuracy" in x]


# a DeepSeek-R1 distill's chat template: the generation prompt ends with "<think>\n", so the model starts inside it
R1_TEMPLATE = ("{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}{{ '<|User|>' + m['content'] }}"
               "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|Assistant|><think>\n' }}{% endif %}")


# (the template, its kwargs, the rendered prompt's end, three well-formed completions and one that is not)
THINK_PREFILLS = {
    # a template that prefills "<think>\n" (DeepSeek-R1's): a completion that opens the thinking again is not formed
    "open": (lambda: R1_TEMPLATE, None, "<|Assistant|><think>\n", "add them</think>\nAnswer: 5",
             "<think>add them</think>\nAnswer: 5"),
    # Qwen3's with enable_thinking=False ends the prompt with a closed block: one that closes it again is not formed
    "closed": (lambda: __import__("test_tokenizer").QWEN3_THINKING, {"enable_thinking": False},
               "<|im_start|>assistant\n<think>\n\n</think>\n\n", "Answer: 5", "add them</think>\nAnswer: 5"),
}


@pytest.mark.parametrize("scorer", ["here", "score_fn"])
@pytest.mark.parametrize("prefill", list(THINK_PREFILLS))
def test_format_reward_counts_the_think_tags_the_chat_template_prefilled(tmp_path, ckpt, scorer, prefill):
    """A template that prefills "<think>\n", or a whole closed block (Qwen3 without thinking), leaves a well-formed
    completion without the opening tag: the format reward was 0 for every sample, so RL had no format signal.
    The rollout now scores it as formatted, in the trainer's own loop and through a score_fn (the Ray /
    DataParallel path); a completion that repeats the prefilled tag is not."""
    import shutil

    from ponder.engine import Sample, render_prompts
    from ponder.verify.registry import parallel_map

    template, kwargs, prompt_end, good, bad = THINK_PREFILLS[prefill]
    path = tmp_path / "ck"
    shutil.copytree(ckpt, path)
    tc = path / "tokenizer_config.json"
    tc.write_text(json.dumps({**json.loads(tc.read_text()), "chat_template": template()}))
    seen = []

    def generate(model, tok, prompts, *, version, n, **kw):  # one completion of 4 repeats the prefilled tag
        seen.extend(tok.apply_chat_template(p, add_generation_prompt=True) for p in prompts)
        texts = [good] * 3 + [bad]
        return [[Sample(texts[j % 4], ids := tok.encode(texts[j % 4], add_special_tokens=False), [-1.0] * len(ids), "stop", p_ids)
                 for j in range(n)] for p_ids in render_prompts(tok, prompts)]

    score = (lambda reward, texts, items: parallel_map(reward, texts, items, workers=2)) if scorer == "score_fn" \
        else None
    cfg = GRPOConfig(model=str(path), **{**SMALL, "steps": 1, "eval_every": 5}, chat=True, reward="format",
                     **({"chat_template_kwargs": kwargs} if kwargs else {}))
    r = rows(train(cfg, tmp_path / "r", progress=False, generate_fn=generate, score_fn=score))[0]
    assert seen and all(p.endswith(prompt_end) for p in seen)
    assert r["reward_mean"] == 0.75 and r["accuracy"] == 0.75  # before: 0.25 (open: the repeated tag's alone), 0


def test_chat_template_kwargs_render_every_rollout_and_survive_resume(tmp_path, ckpt):
    """GRPOConfig.chat_template_kwargs (Qwen3's enable_thinking) reach every rollout prompt, are recorded in
    config.json and render the resumed steps too; the tokenizer handed in is left as it was."""
    import shutil

    from test_tokenizer import QWEN3_THINKING

    path = tmp_path / "ck"
    shutil.copytree(ckpt, path)
    tc = path / "tokenizer_config.json"
    tc.write_text(json.dumps({**json.loads(tc.read_text()), "chat_template": QWEN3_THINKING}))
    seen = []

    def generate(model, tok, prompts, *, version, **kw):
        seen.append(tok.apply_chat_template(prompts[0], add_generation_prompt=True))
        return ponder.sample(model, tok, prompts, **kw)
    cfg = dict(SMALL, model=str(path), chat=True, chat_template_kwargs={"enable_thinking": False}, steps=2,
               eval_every=5)
    run = train(GRPOConfig(**cfg), tmp_path / "r", progress=False, generate_fn=generate)
    assert json.loads((run / "config.json").read_text())["grpo"]["chat_template_kwargs"] == {"enable_thinking": False}
    train(GRPOConfig(steps=3), run, resume=True, progress=False, generate_fn=generate)
    assert len(seen) == 3 and all(p.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n") for p in seen)
    model, tok = ponder.load(path)
    train(GRPOConfig(**{**cfg, "chat_template_kwargs": {}}), tmp_path / "plain", progress=False, model=model,
          tok=tok, generate_fn=generate)
    assert tok.template_kwargs == {} and seen[-1].endswith("<|im_start|>assistant\n")
    with pytest.raises(PonderError, match="'messages' is set by the renderer"):
        train(GRPOConfig(**{**cfg, "chat_template_kwargs": {"messages": []}}), tmp_path / "bad", progress=False)
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("preset", ["dr_grpo", "dapo", "gspo", "rloo", "reinforce"])
def test_every_preset_trains(tmp_path, ckpt, preset):
    run = train(GRPOConfig(model=str(ckpt), preset=preset, **{**SMALL, "steps": 1, "eval_every": 5}),
                tmp_path / preset, progress=False)
    assert rows(run)[0]["step"] == 1


def test_non_finite_reward_skips_the_step_and_poisons_nothing(tmp_path, ckpt, _one_step_run, monkeypatch):
    """A reward of NaN or inf at step 2: that step is skipped with an alarm, the weights are those of step 1,
    and training goes on to a finite checkpoint."""
    import ponder.rl.trainer as trainer

    real = trainer._rollout

    def poisoned(*a, step, **k):
        ro = real(*a, step=step, **k)
        if step == 1:
            ro["rewards"] = [torch.full_like(r, math.nan if i % 2 else math.inf) for i, r in enumerate(ro["rewards"])]
        return ro

    cfg = {**SMALL, "steps": 2, "save_every": 1, "eval_every": 5}
    run1 = _one_step_run  # the run of step 1 alone (read only)
    monkeypatch.setattr(trainer, "_rollout", poisoned)
    run = train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / "r", progress=False)
    r = rows(run)
    assert [x["step"] for x in r] == [1, 2] and not r[0].get("skipped")
    assert r[1]["skipped"] and r[1]["skip_reason"] == "non-finite reward" and "skipped_step" in r[1]["alarms"]
    assert r[1]["groups_trained"] == 0  # (it said 3: the groups drawn, none trained on)
    assert [json.loads(x)["alarm"] for x in (run / "alarms.jsonl").read_text().splitlines()] == ["skipped_step"]
    after, one = ponder.load(run / "checkpoint")[0].state_dict(), ponder.load(run1 / "checkpoint")[0].state_dict()
    assert all(torch.isfinite(v).all() and torch.equal(v, one[k]) for k, v in after.items())


def test_full_disk_while_checkpointing_keeps_the_previous_checkpoint(ckpt, one_step_run, monkeypatch):
    cfg, run = ONE_STEP, one_step_run
    before = {p.name: p.read_bytes() for p in (run / "checkpoint").iterdir()}

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)  # the trainer state is written last, inside the swap
    with pytest.raises(PonderError, match=r"step-2 checkpoint failed \(No space left on device\)"):
        train(GRPOConfig(model=str(ckpt), **{**cfg, "steps": 2}), run, resume=True, progress=False)
    assert {p.name: p.read_bytes() for p in (run / "checkpoint").iterdir()} == before
    assert not [p for p in run.iterdir() if p.name.startswith(".checkpoint.tmp")]


def test_resume_after_kill_9_equals_uninterrupted(tmp_path, ckpt):
    import threading

    # 4 steps, a checkpoint and a held-out evaluation every 2: killed at its first checkpoint (step 2), the resumed
    # run trains across an evaluation and a checkpoint (step 4) as the uninterrupted one does
    args = [sys.executable, "-m", "ponder.cli", "grpo", "--model", str(ckpt), "--steps", "4", "--prompts-per-step",
            "3", "--group-size", "4", "--max-new-tokens", "12", "--eval-every", "2", "--eval-n", "6",
            "--save-every", "2", "--lr", "1e-3", "--quiet", "--threads", "1"]
    killed = tmp_path / "killed"
    p = subprocess.Popen(args + ["--out", str(killed)])

    def kill_at_its_first_checkpoint():
        deadline = time.time() + 300
        while p.poll() is None and time.time() < deadline and not (killed / "checkpoint" / "trainer_state.pt").exists():
            time.sleep(0.05)
        p.send_signal(signal.SIGKILL)

    watcher = threading.Thread(target=kill_at_its_first_checkpoint, daemon=True)
    watcher.start()
    try:  # the uninterrupted run meanwhile, in this process (one thread, as the CLI's): the wall time of one run
        straight = train(GRPOConfig(model=str(ckpt), steps=4, prompts_per_step=3, group_size=4, max_new_tokens=12,
                                    eval_every=2, eval_n=6, save_every=2, lr=1e-3), tmp_path / "straight",
                         progress=False)
    finally:
        watcher.join()
        p.wait()
    assert torch.get_num_threads() == 1  # (conftest's)
    # the same run as the command line's
    assert json.loads((straight / "config.json").read_text())["grpo"] == \
        json.loads((killed / "config.json").read_text())["grpo"]
    state = torch.load(killed / "checkpoint" / "trainer_state.pt", weights_only=False)
    assert state["step"] in (2, 4)
    subprocess.run([sys.executable, "-m", "ponder.cli", "grpo", "--resume", str(killed), "--steps", "4", "--quiet",
                    "--threads", "1"], check=True, timeout=300)
    a, b = rows(straight), rows(killed)
    assert [x["step"] for x in b] == list(range(1, 5))
    for x, y in zip(a, b):
        for k in ("reward_mean", "accuracy", "response_length", "loss", "grad_norm", "entropy"):
            assert x[k] == pytest.approx(y[k], rel=1e-5, abs=1e-7), (x["step"], k)
    assert [x["alarms"] for x in a] == [y["alarms"] for y in b]  # the monitor's state resumed with the weights
    alarms = [[(r["step"], r["alarm"]) for r in map(json.loads, (d / "alarms.jsonl").read_text().splitlines())]
              if (d / "alarms.jsonl").exists() else [] for d in (straight, killed)]
    assert alarms[0] == alarms[1]


def test_bad_input(tmp_path, ckpt):
    with pytest.raises(PonderError, match="unknown preset"):
        train(GRPOConfig(model=str(ckpt), preset="ppo2", **SMALL), tmp_path / "a", progress=False)
    with pytest.raises(PonderError, match="not a resumable run"):
        train(GRPOConfig(), tmp_path, resume=True, progress=False)
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"prompt": "1+1=", "solution": "2"}) + "\n")
    with pytest.raises(PonderError, match="answer"):
        train(GRPOConfig(model=str(ckpt), task=None, data=str(data), **SMALL), tmp_path / "b", progress=False)
    with pytest.raises(PonderError, match="group_size"):
        train(GRPOConfig(model=str(ckpt), **{**SMALL, "group_size": 1}), tmp_path / "c", progress=False)
    with pytest.raises(PonderError, match="micro_batch_tokens"):
        train(GRPOConfig(model=str(ckpt), **{**SMALL, "micro_batch_tokens": -1}), tmp_path / "e", progress=False)
    with pytest.raises(PonderError, match="--nproc"):  # FSDP2 needs ranks to shard over
        train(GRPOConfig(model=str(ckpt), **SMALL, fsdp=True), tmp_path / "f", progress=False)
    assert not (tmp_path / "f").exists() and not (tmp_path / "e").exists()  # nothing half-written


@pytest.mark.parametrize("bad", [dict(grad_clip=-1.0), dict(grad_clip=0.0), dict(grad_clip=math.nan),
                                 dict(weight_decay=-0.1), dict(weight_decay=math.inf), dict(max_refill=-1),
                                 dict(warmup=-1), dict(train_pool=0), dict(lr="1e-3"), dict(temperature=None),
                                 dict(seed=1.5), dict(eval_n=0), dict(objective=None), dict(objective={1: 0.1}),
                                 dict(micro_batch_tokens=True), dict(max_refill=101)])
def test_bad_optimisation_settings_are_refused_in_one_line(tmp_path, ckpt, bad):
    """A negative grad_clip made clip_grad_norm_ scale every gradient by a negative factor (gradient ascent), 0
    erased every update, a negative weight decay grew the weights, max_refill < 0 generated nothing (every step
    skipped): all trained on silently. A string lr failed with a TypeError, a float seed with a RuntimeError after
    config.json and reference/ were written."""
    (name, value), = bad.items()
    with pytest.raises(PonderError, match=f"^{name} must be"):
        train(GRPOConfig(model=str(ckpt), **{**SMALL, "steps": 1, "eval_every": 5, **bad}), tmp_path / "r",
              progress=False)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("bad", [dict(curriculum="no"), dict(off_policy=1), dict(tensorboard=None),
                                 dict(stop_on_alarm="false"), dict(chat=0), dict(preset=None), dict(device=0),
                                 dict(model=5), dict(dtype=16)])
def test_flags_and_names_of_the_wrong_type_are_refused_in_one_line(tmp_path, ckpt, bad):
    """curriculum="no" trained WITH a curriculum (a non-empty string is true), and the run's config.json was then
    refused by its own --resume (grpo.curriculum: expected bool); a number for a name failed deep in the run."""
    (name, value), = bad.items()
    with pytest.raises(PonderError, match=f"^{name} must be"):
        train(GRPOConfig(**{"model": str(ckpt), **SMALL, "steps": 1, "eval_every": 5, **bad}), tmp_path / "r",
              progress=False)
    assert not (tmp_path / "r").exists()


def test_a_model_given_with_frozen_parameters_resumes_with_them_frozen(tmp_path, ckpt):
    """A model handed in with some parameters frozen trained them frozen, and its own --resume then loaded them all
    trainable and refused the run ('the optimizer state is for another model'); one with every parameter frozen
    failed as AdamW's bare ValueError after config.json was written."""
    def given(frozen=("embed_tokens.weight",)):
        model, tok = ponder.load(ckpt)
        for n, p in model.named_parameters():
            p.requires_grad_(n not in frozen)
        return model, tok

    cfg = {**SMALL, "steps": 2, "save_every": 1, "eval_every": 5}
    straight = train(GRPOConfig(**cfg), tmp_path / "a", progress=False, **dict(zip(("model", "tok"), given())))
    part = train(GRPOConfig(**{**cfg, "steps": 1}), tmp_path / "b", progress=False,
                 **dict(zip(("model", "tok"), given())))
    train(GRPOConfig(steps=2), part, resume=True, progress=False)
    assert [r["loss"] for r in rows(straight)] == [r["loss"] for r in rows(part)]
    start, a, b = (ponder.load(p)[0].state_dict() for p in (ckpt, straight / "checkpoint", part / "checkpoint"))
    assert all(torch.equal(a[k], b[k]) for k in a) and torch.equal(b["embed_tokens.weight"], start["embed_tokens.weight"])
    model, tok = given(frozen=[n for n, _ in ponder.load(ckpt)[0].named_parameters()])
    with pytest.raises(PonderError, match="^train: every parameter of the model given has requires_grad=False"):
        train(GRPOConfig(**cfg), tmp_path / "c", progress=False, model=model, tok=tok)
    assert not (tmp_path / "c").exists()


def test_a_finished_demos_rl_run_is_not_resumed_in_place(one_step_run, tmp_path):
    """`ponder grpo --resume DEMO/grpo --steps N` trained a finished demo's RL run on in place: the demo's
    summary.json, table and plots then described a checkpoint and metrics.jsonl no longer there. Refused, nothing
    changed; a copy of the run continues."""
    import shutil

    demo = tmp_path / "demo"
    demo.mkdir()
    run = Path(shutil.move(one_step_run, demo / "grpo"))
    acc = {"accuracy": 0.5, "lo": 0.1, "hi": 0.9, "n": 6}  # (the demo's keys; its other figures left out)
    (demo / "summary.json").write_text(json.dumps({"steps": 1, "accuracy_before": acc, "accuracy_after": acc,
                                                   "checkpoint": str(run / "checkpoint")}))
    before = {f: (run / f).read_bytes() for f in ("metrics.jsonl", "checkpoint/model.safetensors")}
    with pytest.raises(PonderError, match=r"is the RL run of the finished demo in .*demo, whose summary.json"):
        train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert {f: (run / f).read_bytes() for f in before} == before
    # a copy continues, beside a summary.json of the user's own too
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "summary.json").write_text(json.dumps({"notes": "lr 1e-3", "checkpoint": "grpo"}))
    more = Path(shutil.copytree(run, tmp_path / "mine" / "grpo"))
    train(GRPOConfig(steps=2), more, resume=True, progress=False)
    assert [x["step"] for x in rows(more)] == [1, 2]


def test_a_model_given_as_a_path_trains_and_resumes(tmp_path, ckpt):
    """A pathlib.Path model failed with a TypeError writing config.json, in a run directory already made."""
    run = train(GRPOConfig(model=ckpt, **{**SMALL, "steps": 1, "eval_every": 5}), tmp_path / "r", progress=False)
    train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert [x["step"] for x in rows(run)] == [1, 2]
    assert json.loads((run / "config.json").read_text())["grpo"]["model"] == str(ckpt)


def test_resume_with_a_default_config_keeps_the_runs_own_step_target(tmp_path, ckpt):
    """train(GRPOConfig(), run, resume=True) took the dataclass default of 60 steps as the new target, rewriting
    config.json: a run aiming for 70 steps was cut short. steps left at its default (None) is the run's own target,
    as every other setting at its default is; a number given retargets it, 60 included; a new run trains 60."""
    class Stop(Exception):
        pass

    def stop(row):
        raise Stop

    cfg = GRPOConfig()
    cfg.validate()
    assert cfg.steps == 60
    run = train(GRPOConfig(model=ckpt, **{**SMALL, "steps": 1, "eval_every": 5}), tmp_path / "r", progress=False)
    saved = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**saved, "grpo": {**saved["grpo"], "steps": 70}}))
    for given, target in ((GRPOConfig(), 70), (GRPOConfig(steps=0), 70), (GRPOConfig(steps=60), 60)):
        with pytest.raises(Stop):  # (stopped at its first step: the target is set before it)
            train(given, run, resume=True, progress=False, on_log=stop)
        assert json.loads((run / "config.json").read_text())["grpo"]["steps"] == target


def test_an_empty_or_unknown_task_is_refused_by_validate():
    """task="" (ponder grpo --task '') passed validate and was then read as no task: the run failed with
    "TypeError: expected str, bytes or os.PathLike object, not NoneType" opening data=None."""
    for task in ("", "gsm"):
        with pytest.raises(PonderError, match=f"^unknown task {task!r} \\(known: arith, word, countdown\\)"):
            GRPOConfig(model="tiny", task=task).validate()


def test_an_lr_beyond_float32_is_refused_by_validate(tmp_path):
    """lr=1e40 (ponder grpo --lr 1e40) passed validate; the run wrote config.json and reference/, then failed at
    its first AdamW step with "RuntimeError: value cannot be converted to type float without overflow" (sft's
    TrainConfig refuses it)."""
    with pytest.raises(PonderError, match=r"^lr must be at most 3.403e\+38 \(fp32's largest number\), got 1e\+40"):
        GRPOConfig(model="tiny", task="arith", lr=1e40).validate()


def test_off_policy_with_an_overridden_ratio_none_blames_the_override_not_the_preset():
    """It said "but preset 'grpo' has ratio=none", false: grpo's ratio is token, the override made it none."""
    from ponder.rl.trainer import check_mode

    with pytest.raises(PonderError, match=r"^off_policy needs an importance ratio, but objective ratio='none' "
                                          r"\(overriding preset 'grpo''s 'token'\)"):
        check_mode(GRPOConfig(model="tiny", task="arith", off_policy=True,
                              objective={"ratio": "none", "clip": "none"}))


def test_max_refill_with_group_filter_turned_off_blames_the_override_not_the_preset(tmp_path):
    """It said "no effect with preset 'dapo', which does not filter groups", false: dapo's does; the override not."""
    cfg = GRPOConfig(model="tiny", task="arith", preset="dapo", objective={"group_filter": False}, max_refill=2)
    with pytest.raises(PonderError, match=r"^max_refill=2 has no effect with objective group_filter=False "
                                          r"\(overriding preset 'dapo''s True\)"):
        train(cfg, tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_grad_clip_inf_measures_the_norm_and_clips_nothing():
    from ponder.rl.trainer import clip_grad_norm

    GRPOConfig(model="tiny", grad_clip=math.inf).validate()  # (no clipping is a setting, not bad input)
    for dtype in (torch.float32, torch.bfloat16):  # (torch's path and the low-precision one)
        p = torch.nn.Parameter(torch.zeros(2, dtype=dtype))
        p.grad = torch.tensor([30.0, 40.0], dtype=dtype)
        assert clip_grad_norm([p], math.inf).item() == 50.0, dtype
        assert p.grad.tolist() == [30.0, 40.0], dtype


def test_what_would_fail_mid_run_is_refused_before_the_run_directory_is_written(tmp_path, ckpt):
    """A held-out prompt too long for max_new_tokens used to fail at the first evaluation (and at every resume);
    a bad row after the first, or top_p outside (0, 1], after config.json and reference/ were written: a
    directory neither a rerun nor --resume would take."""
    good = json.dumps({"prompt": "Problem: 1 + 1 = ?\nSolution:", "answer": "2"}) + "\n"
    data, long_eval, cd = tmp_path / "d.jsonl", tmp_path / "e.jsonl", tmp_path / "cd.jsonl"
    data.write_text(good * 3)
    long_eval.write_text(good + json.dumps({"id": "long", "prompt": "1 + 1 = " * 600, "answer": "2"}) + "\n")
    cd.write_text(json.dumps({"task": "countdown", "prompt": "x", "answer": "1+2", "numbers": [1, 2], "target": 3})
                  + "\n" + json.dumps({"task": "countdown", "id": "c2", "prompt": "y", "answer": "3", "target": 3})
                  + "\n")
    base = dict(model=str(ckpt), task=None, **{**SMALL, "max_new_tokens": 100})
    cases = [(dict(data=str(data), eval_data=str(long_eval)), r"e.jsonl: item long: prompt of \d+ tokens \+ "
              r"max_new_tokens 100 exceeds the model's context of"),
             (dict(data=str(cd), prompts_per_step=2), "cd.jsonl: item c2: .*numbers"),
             (dict(data=str(data), top_p=1.5), r"top_p must be in \(0, 1\]"),
             (dict(data=str(data), prompts_per_step=5), "3 training prompts, fewer than prompts_per_step=5")]
    for i, (kw, msg) in enumerate(cases):
        with pytest.raises(PonderError, match=msg):
            train(GRPOConfig(**{**base, **kw}), tmp_path / f"r{i}", progress=False)
        assert not (tmp_path / f"r{i}").exists()


def test_the_up_front_check_of_a_code_dataset_runs_no_program(tmp_path, ckpt, monkeypatch):
    """check_items judged each item's own answer with the reward to find items the reward cannot read: for the code
    reward that ran every reference solution in the sandbox (0.14 s each: 25 minutes for 10,000 items before the
    first step, again at every resume and for --nproc's own check). The fields are checked without running
    anything; a broken test case is still refused, naming the item."""
    from ponder.rl.trainer import check_items
    from ponder.tokenizer import Tokenizer
    from ponder.verify import code
    from ponder.verify.registry import get_reward

    ran = []
    real = code.check_code
    monkeypatch.setattr(code, "check_code", lambda c, *a, **k: ran.append(c) or real(c, *a, **k))
    rows_ = [{"id": f"c{i}", "prompt": "f(x) = x + 1", "answer": "```python\ndef f(x):\n    return x + 1\n```",
              "tests": ["assert f(1) == 2"]} for i in range(3)]
    cfg = GRPOConfig(model=str(ckpt), task=None, data="d.jsonl", prompts_per_step=2, max_new_tokens=8)
    model_cfg, tok = ponder.load(ckpt)[0].config, Tokenizer.load(ckpt)
    check_items(cfg, model_cfg, tok, get_reward("code"), rows_, [])
    assert all(c is None for c in ran)  # the tests were parsed (completion None), no solution was run
    with pytest.raises(PonderError, match=r"^d.jsonl: item c1: reward 'code': field 'tests'"):
        check_items(cfg, model_cfg, tok, get_reward("code"), [rows_[0], {**rows_[1], "tests": "assert ("}], [])


def test_a_placeholder_gold_is_refused_before_the_first_step(ckpt):
    """A gold the math verifier reads no answer from ("####", "?": a placeholder) loaded: every sample of its prompt
    scored 0 (its group gave no gradient) and, in --eval-data, it deflated the held-out accuracy, unsaid; refused up
    front as `ponder eval` refuses it, naming the item and the field."""
    from ponder.rl.trainer import check_items
    from ponder.tokenizer import Tokenizer
    from ponder.verify.registry import get_reward

    rows_ = [{"id": f"m{i}", "prompt": "1 + 1 =", "answer": "2"} for i in range(2)]
    cfg = GRPOConfig(model=str(ckpt), task=None, data="d.jsonl", prompts_per_step=2, max_new_tokens=8)
    model_cfg, tok = ponder.load(ckpt)[0].config, Tokenizer.load(ckpt)
    check_items(cfg, model_cfg, tok, get_reward("math"), rows_, rows_)
    for bad in ("####", "?"):
        with pytest.raises(PonderError, match=r"^d.jsonl: item m1: reward 'math': field 'answer' is "):
            check_items(cfg, model_cfg, tok, get_reward("math"), [rows_[0], {**rows_[1], "answer": bad}], [])


def test_no_answer_frac_counts_completions_without_a_code_block(tmp_path, ckpt):
    """no_answer_frac counted only the reason "no answer" (math, countdown): the code verifier's "no code block"
    was never counted, so a code run's completions without any program logged 0."""
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"id": f"c{i}", "prompt": f"Write f(x) = x + {i}.", "answer": "-",
                                        "tests": [f"assert f(1) == {i + 1}"]}) + "\n" for i in range(4)))
    cfg = GRPOConfig(model=str(ckpt), task=None, data=str(data), reward="code",
                     **{**SMALL, "steps": 1, "eval_every": 5, "save_every": 1, "prompts_per_step": 2})
    r = rows(train(cfg, tmp_path / "r", progress=False))
    assert r[0]["no_answer_frac"] == 1.0  # (a random model writes no ``` block)


def test_train_takes_model_and_tok_together_and_not_on_resume(tmp_path, ckpt):
    """model= without tok= failed as an AttributeError after the run directory was made; given on resume they
    were ignored silently (the run's checkpoint is what it trains)."""
    model, tok = ponder.load(ckpt)
    cfg = GRPOConfig(model=str(ckpt), **{**SMALL, "steps": 1, "eval_every": 5, "save_every": 1})
    with pytest.raises(PonderError, match="^train: give model and tok together"):
        train(cfg, tmp_path / "a", progress=False, model=model)
    assert not (tmp_path / "a").exists()
    run = train(cfg, tmp_path / "b", progress=False)
    with pytest.raises(PonderError, match="^train: resume continues the run's own checkpoint"):
        train(GRPOConfig(steps=2), run, resume=True, progress=False, model=model, tok=tok)


def test_minibatches_step_the_optimizer_as_often_as_the_objective_says(tmp_path, ckpt, monkeypatch):
    """DAPO's minibatches=16 over a batch of 20 rows used to take ceil-sized spans: 10 optimizer steps, not 16."""
    from ponder.train import MasterAdamW

    steps = []
    for cls in (torch.optim.AdamW, MasterAdamW):
        real = cls.step
        monkeypatch.setattr(cls, "step", lambda self, *a, _real=real, **k: steps.append(1) or _real(self, *a, **k))
    train(GRPOConfig(model=str(ckpt), **{**SMALL, "steps": 1, "prompts_per_step": 5, "group_size": 4,
                                         "eval_every": 10, "tensorboard": False},
                     objective={"minibatches": 16}), tmp_path / "r", progress=False)
    rows = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert rows[0].get("skipped") or rows[0]["samples"] == 20
    assert len(steps) == (0 if rows[0].get("skipped") else 16)


def test_passes_after_the_first_take_the_ratio_against_the_behaviour_policy_fixed_for_the_step(tmp_path, ckpt,
                                                                                              monkeypatch):
    """mu=2 passes x 2 minibatches (PPO-style reuse of one rollout): every update's ratio is against the log-probs
    of the weights that generated the rollouts, computed once before the first update and the same in every pass;
    the first update's own log-probs are those weights'. A trainer that re-read them from the moving weights (each
    pass, or each minibatch) would make every ratio 1 and clip nothing."""
    from ponder.rl import objective
    from ponder.verify.registry import RewardResult

    calls, real = [], objective.policy_loss

    def spy(logp, old, *a, **k):
        calls.append((logp.detach().clone(), old.clone()))
        return real(logp, old, *a, **k)

    def score(reward, texts, items):  # rewards that differ within a group: advantages, so the weights move
        return [RewardResult(reward=float(j % 2), correct=bool(j % 2)) for j, _ in enumerate(texts)]

    monkeypatch.setattr(objective, "policy_loss", spy)
    train(GRPOConfig(model=str(ckpt), **{**SMALL, "steps": 1, "prompts_per_step": 2, "group_size": 4,
                                         "eval_every": 10, "lr": 1e-2}, objective={"mu": 2, "minibatches": 2}),
          tmp_path / "r", progress=False, score_fn=score)
    half = len(calls) // 2
    assert half >= 2 and len(calls) == 2 * half  # the same micro-batches in each pass, in the same order
    first, second = calls[:half], calls[half:]
    logp0, old0 = first[0]
    assert torch.equal(old0, logp0)  # the first update: the behaviour policy's own log-probs, ratio 1
    assert torch.equal(second[0][1], logp0)  # ... and still the ratio's denominator in the second pass
    assert not torch.allclose(second[0][0], logp0)  # while the weights have moved (two updates taken)
    for (_, a), (_, b) in zip(first[1:], second[1:]):
        assert torch.equal(a, b)  # the later minibatches: one fixed set of old log-probs for both passes


def test_monitor_alarms():
    m = Monitor(max_new_tokens=100)
    raised = []
    for step in range(1, 8):
        raised += m.update({"step": step, "entropy": 2.0 if step < 3 else 0.05, "response_length": 95.0,
                            "truncated_frac": 0.9, "zero_var_frac": 0.95, "ratio_max": 50.0,
                            "reward_mean": 0.1 * step, "loss": float("nan") if step == 7 else 0.1})
    kinds = {a["alarm"] for a in raised}
    assert {"entropy_collapse", "length_runaway", "zero_variance_groups", "ratio_explosion", "non_finite"} <= kinds
    assert "try --group-filter" in next(a["message"] for a in raised if a["alarm"] == "zero_variance_groups")
    # a run that already filters groups is not told to filter them (the trainer passes its remaining remedies)
    m = Monitor(max_new_tokens=100, hints={"zero_variance_groups": "try --curriculum or a harder/easier task"})
    msgs = [a["message"] for s in range(1, 4) for a in m.update({"step": s, "zero_var_frac": 0.95})]
    assert len(msgs) == 1 and "group-filter" not in msgs[0] and "--curriculum" in msgs[0]
    m2 = Monitor(max_new_tokens=100)
    m2.load_state_dict(m.state_dict())  # a resumed run keeps the advice
    assert m2.hints == m.hints
    # reward hacking: training reward climbs, held-out accuracy flat
    m = Monitor(max_new_tokens=100)
    out = []
    for step in range(1, 10):
        row = {"step": step, "reward_mean": 0.1 * step}
        if step % 3 == 0:
            row["heldout_accuracy"] = 0.3
        out += m.update(row)
    assert any(a["alarm"] == "reward_hacking" for a in out)


def test_monitor_kl_blowup_alarm_fires_after_patience_steps_above_kl_max():
    """No rule watched kl_mean: a policy that ran away from its KL reference (beta too small, lr too high) raised
    nothing. Three steps in a row above kl_max raise it once; the demo's KL (<= 0.05) stays far below."""
    m = Monitor(max_new_tokens=100)
    kls = [0.02, 1.5, 2.0, 3.0, 4.0, 0.1, 2.0, 2.0, 2.0, float("nan")]
    out = [(a["step"], a["alarm"]) for s, kl in enumerate(kls, 1) for a in m.update({"step": s, "kl_mean": kl})]
    assert out == [(4, "kl_blowup"), (9, "kl_blowup")]
    m = Monitor(max_new_tokens=100)
    assert not [a for s in range(1, 30) for a in m.update({"step": s, "kl_mean": 0.05})]


def test_monitor_a_skipped_step_neither_extends_nor_breaks_a_run_of_bad_steps():
    """The documented reading of "patience steps in a row": steps that measured the metric. A step skipped for a
    non-finite loss (a blown-up ratio's, often) logs no ratio_max: the explosion around it is still raised."""
    m = Monitor(max_new_tokens=100)
    rows = [{"step": 1, "ratio_max": 50.0}, {"step": 2, "skipped": True, "skip_reason": "non-finite loss"},
            {"step": 3, "ratio_max": 50.0}, {"step": 4, "ratio_max": 50.0}]
    out = [(a["step"], a["alarm"]) for row in rows for a in m.update(row)]
    assert out == [(2, "skipped_step"), (4, "ratio_explosion")]


def _hacking_rows():
    """Held-out flat at 0.3 every 3 steps; training reward climbs (steps 1-15), drops back (16-21), climbs again."""
    for step in range(1, 34):
        r = 0.1 * step if step <= 15 else 0.0 if step <= 21 else 0.1 * (step - 21)
        row = {"step": step, "reward_mean": r, "entropy": 2.0 if step < 4 or 12 <= step < 16 else 0.05}
        if step % 3 == 0:
            row["heldout_accuracy"] = 0.3
        yield row


def test_monitor_alarm_fires_when_its_condition_starts_and_again_only_after_it_clears():
    m = Monitor(max_new_tokens=100)
    out = [(a["step"], a["alarm"]) for row in _hacking_rows() for a in m.update(row)]
    # reward hacking holds at evaluations 9, 12, 15 (before: an alarm at each), clears at 18 and 21 while the
    # reward falls back, returns at 24 and holds to 33; entropy collapses at 4-11, recovers, collapses from 16
    assert [s for s, k in out if k == "reward_hacking"] == [9, 24]
    assert [s for s, k in out if k == "entropy_collapse"] == [6, 18]


def test_monitor_a_skipped_steps_non_finite_reward_does_not_hide_reward_hacking():
    """A step skipped for a NaN reward logs reward_mean NaN; averaged into the evaluation's training reward, it
    made every comparison over the next hack_window evaluations false (the alarm came an evaluation late)."""
    m = Monitor(max_new_tokens=100)
    out = []
    for row in _hacking_rows():
        if row["step"] == 2:
            row = {**row, "reward_mean": float("nan"), "skipped": True, "skip_reason": "non-finite reward"}
        out += [(a["step"], a["alarm"]) for a in m.update(row)]
    assert [s for s, k in out if k == "reward_hacking"] == [9, 24]
    assert all(math.isfinite(r) for _, r, _ in m.evals)


def test_monitor_an_evaluation_after_only_skipped_steps_fakes_no_reward_rise():
    """Training reward flat at 0.5, held-out flat, an evaluation every step; step 2 is skipped for a NaN reward.
    Its evaluation had no finite training reward to average and entered as reward 0, so the next ones read a
    rise of +0.5 and raised reward_hacking on a run whose reward never moved."""
    m = Monitor(max_new_tokens=100)
    out = []
    for step in range(1, 7):
        r = math.nan if step == 2 else 0.5
        out += [a["alarm"] for a in m.update({"step": step, "reward_mean": r, "heldout_accuracy": 0.5,
                                              "skipped": step == 2})]
    assert "reward_hacking" not in out
    assert [s for s, _, _ in m.evals] == [1, 3, 4, 5, 6] and {r for _, r, _ in m.evals} == {0.5}


@pytest.mark.parametrize("cut", [5, 9, 10, 12, 18, 30])
def test_monitor_resumed_from_its_state_raises_exactly_the_uninterrupted_alarms(cut):
    straight = Monitor(max_new_tokens=100)
    a = [x for row in _hacking_rows() for x in straight.update(row)]
    first, rest = Monitor(max_new_tokens=100), Monitor(max_new_tokens=100)
    rows_ = list(_hacking_rows())
    b = [x for row in rows_[:cut] for x in first.update(row)]
    rest.load_state_dict(json.loads(json.dumps(first.state_dict())))  # what a checkpoint keeps
    b += [x for row in rows_[cut:] for x in rest.update(row)]
    assert a == b and rest.raised == straight.raised


def test_monitor_loads_an_older_state_dict():
    """A state dict written before the alarms became transitions (its fields only) resumes without a repeat."""
    m = Monitor(max_new_tokens=100)
    for row in list(_hacking_rows())[:10]:
        m.update(row)
    old = {k: m.state_dict()[k] for k in ("max_new_tokens", "entropy_ref", "streaks", "evals", "reward_since_eval",
                                          "raised")}
    resumed = Monitor(max_new_tokens=100)
    resumed.load_state_dict(old)
    later = [(a["step"], a["alarm"]) for row in list(_hacking_rows())[10:] for a in resumed.update(row)]
    assert [s for s, k in later if k == "reward_hacking"] == [24]


def _slow_rise_rows():
    """Training reward +0.02 a step, held-out flat: a rise of 0.12 over 3 evaluations, under the 0.15 threshold."""
    for step in range(1, 31):
        yield {"step": step, "reward_mean": 0.02 * step, **({"heldout_accuracy": 0.3} if step % 3 == 0 else {})}


@pytest.mark.parametrize("spec", ["math", "math+0.1*format"])
@pytest.mark.parametrize("trajectory", [_hacking_rows, _slow_rise_rows])
def test_reward_hacking_alarm_is_invariant_to_a_positive_scale_of_the_reward(spec, trajectory):
    """The rise threshold was absolute: under `2*math` the same run's doubled reward crossed it at half the rise
    (the slow rise raised reward_hacking under `2*math`, not under `math`)."""
    from ponder.rl.monitor import reward_scale
    from ponder.verify.registry import get_reward

    def scaled(c):
        return "+".join(f"{c * w}*{n}" for n, w in get_reward(spec).terms)

    def alarms(c):
        m = Monitor(max_new_tokens=100, reward_scale=reward_scale(get_reward(scaled(c))))
        return [(a["step"], a["alarm"]) for row in trajectory() for a in m.update(
            {**row, "reward_mean": c * row["reward_mean"]})]

    assert alarms(1) == alarms(2) == alarms(0.5)
    assert reward_scale(get_reward(spec)) == 1  # unscaled specs alarm as they always did


def test_zero_variance_alarm_under_a_group_filter_does_not_claim_no_learning_signal():
    """With dynamic sampling, zero_var_frac counts the groups drawn before the filter: an easy task raised "no
    learning signal" while every training batch was full of refilled groups. The message says what happened."""
    m = Monitor(max_new_tokens=100, group_filter=True, hints={"zero_variance_groups": "try a harder/easier task"})
    msgs = [a["message"] for s in range(1, 4)
            for a in m.update({"step": s, "zero_var_frac": 0.9, "gen_rounds": 3, "groups_trained": 8})]
    assert len(msgs) == 1 and "no learning signal" not in msgs[0]
    assert "90% of the groups drawn" in msgs[0] and "3 generation rounds, 8 groups trained" in msgs[0]
    assert "group_filter" not in m.state_dict()  # (the run's objective gives it, as reward_scale)
    # without a filter the drawn groups are the trained ones: no signal is what the alarm means
    m = Monitor(max_new_tokens=100)
    assert "no learning signal" in [a["message"] for s in range(1, 4) for a in m.update(
        {"step": s, "zero_var_frac": 0.9})][0]


def test_the_trainer_gives_its_monitor_the_runs_reward_scale(tmp_path, ckpt, monkeypatch):
    import ponder.rl.trainer as trainer_mod

    made = []
    monkeypatch.setattr(trainer_mod, "Monitor", lambda *a, **kw: made.append((a, kw)) or Monitor(*a, **kw))
    train(GRPOConfig(model=str(ckpt), **{**SMALL, "steps": 1, "eval_n": 2, "prompts_per_step": 1,
                                         "group_size": 2, "max_new_tokens": 4, "reward": "2*math+0.2*format"}),
          tmp_path / "r", progress=False)
    assert made[0][1]["reward_scale"] == 2
    assert made[0][1]["group_filter"] is False  # (grpo draws the groups it trains on: see the zero_variance alarm)
    # and reward_collapse's window covers 64 prompts (1 a step: 64 steps), its best of the last 10 windows
    mcfg = made[0][0][0]
    assert (mcfg.reward_window, mcfg.reward_lookback) == (64, 640)


@pytest.mark.parametrize("bad, msg", [({"preset": "nope"}, "unknown preset 'nope'"),
                                      ({"objective": {"clip": "bogus"}}, "unknown clip 'bogus'"),
                                      ({"objective": {"nonsense": 1}}, "unknown setting 'nonsense'"),
                                      ({"reward": "nope"}, "unknown verifier 'nope'"),
                                      ({"reward": "math+"}, "cannot parse"),
                                      ({"group_size": 1}, "group_size must be >= 2"),
                                      ({"preset": "rloo", "off_policy": True}, "off_policy needs an importance"),
                                      ({"fsdp": True}, "fsdp shards the model over data-parallel ranks"),
                                      ({"max_refill": 2}, "max_refill=2 has no effect with preset 'grpo'")])
def test_a_bad_preset_objective_or_reward_is_refused_before_the_model_loads(tmp_path, ckpt, monkeypatch, bad, msg):
    """An unknown preset, --set part or reward verifier, --off-policy with a preset without a ratio, or --fsdp without
    ranks was said only after checkpoint.load (a 7B model: minutes); max_refill with a preset that drops no group
    (nothing to refill) was not said at all."""
    import ponder.rl.trainer as trainer_mod

    def no_load(*a, **kw):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(trainer_mod.checkpoint, "load", no_load)
    with pytest.raises(PonderError, match=re.escape(msg)):
        train(GRPOConfig(model=str(ckpt), **{**SMALL, **bad}), tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("over, msg", [({"max_refill": 2}, "max_refill=2 has no effect with preset 'grpo'"),
                                       ({"preset": "dapo", "objective": {"group_filter": False}, "max_refill": 2},
                                        "max_refill=2 has no effect with objective group_filter=False")])
def test_check_inputs_refuses_a_max_refill_without_dynamic_sampling_as_train_does(tmp_path, ckpt, over, msg):
    """check_inputs (what `grpo --nproc N` checks before spawning N ranks) passed a max_refill that train() refuses:
    each rank loaded the model and the run failed as "data-parallel rank 0: max_refill=2 has no effect"."""
    import ponder.rl.trainer as rl_trainer

    with pytest.raises(PonderError, match="^" + re.escape(msg)):
        rl_trainer.check_inputs(GRPOConfig(model=str(ckpt), **{**ONE_STEP, **over}), tmp_path / "r")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("objective, msg", [({"clipp": "dual"}, "unknown setting 'clipp'"),
                                           ({"beta": 0.0}, "kl=k3 needs beta > 0")])
def test_a_hand_edited_objective_in_config_json_is_refused_naming_the_file(objective, msg):
    """--resume of a run whose config.json objective was mistyped said "objective: unknown setting 'clipp'",
    read as a --set error, naming no file."""
    from ponder.train import config_from

    with pytest.raises(PonderError, match=re.escape("run/config.json: grpo: objective: ") + ".*" + re.escape(msg)):
        config_from(GRPOConfig, {"objective": objective}, "run/config.json: grpo")


def test_micro_batches_partition_rows_sorted_within_budget():
    from ponder.rl.trainer import micro_batches

    lengths = [30, 5, 17, 17, 90, 2, 44, 60]
    groups = micro_batches(1, 8, lengths, max_rows=3, max_tokens=100)
    assert sorted(r for g in groups for r in g) == list(range(1, 8))  # every row once, row 0 not ours
    flat = [lengths[r] for g in groups for r in g]
    assert flat == sorted(flat)
    for g in groups:
        assert len(g) <= 3 and (len(g) == 1 or len(g) * max(lengths[r] for r in g) <= 100)
    assert [len(g) for g in micro_batches(0, 8, lengths, max_rows=64)] == [8]  # no token budget: one group


def test_token_budget_micro_batches_do_not_change_the_step(tmp_path, ckpt):
    """Sorting rows by length and padding each micro-batch only to its own longest row is the same step."""
    base = {**SMALL, "steps": 1, "eval_every": 5}
    whole = rows(train(GRPOConfig(model=str(ckpt), **base, micro_batch=64, micro_batch_tokens=0),
                       tmp_path / "whole", progress=False))[0]
    split = rows(train(GRPOConfig(model=str(ckpt), **base, micro_batch=3, micro_batch_tokens=60),
                       tmp_path / "split", progress=False))[0]
    assert split["pad_frac"] < whole["pad_frac"]
    for k in ("loss", "grad_norm", "kl_mean", "entropy", "clip_frac"):
        assert split[k] == pytest.approx(whole[k], rel=1e-5, abs=1e-8), k
    a = ponder.load(tmp_path / "whole" / "checkpoint")[0].state_dict()
    b = ponder.load(tmp_path / "split" / "checkpoint")[0].state_dict()
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-5


@pytest.mark.parametrize("budget", [None, 320 * 7])
@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_shared_prefix_logprobs_equal_separate_rows(tokenizer, temperature, budget, monkeypatch):
    """Running each distinct prompt once and fanning its KV cache out to its completions gives the log-probs,
    entropies and gradients of running every row's prompt + completion on its own (uneven prompt and
    completion lengths, grouped-query attention, QK-norm). With a logit budget of 7 rows the vocabulary
    projection runs in blocks (a ragged last one) that are recomputed in backward, not kept: same results,
    and the head runs twice per block."""
    from ponder.engine import Sample
    from ponder.rl import trainer
    from ponder.rl.trainer import build_batch, shared_prefix_logprobs, token_logprobs

    if budget:
        monkeypatch.setattr(trainer, "LOGIT_BUDGET", budget)

    cfg = ponder.ModelConfig(vocab_size=320, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, head_dim=16)
    model = ponder.Transformer(cfg).init_weights(2, std=0.1)
    g = torch.Generator().manual_seed(0)
    prompts = [torch.randint(3, 300, (n,), generator=g).tolist() for n in (5, 9, 2)]
    owner = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    comps = [torch.randint(3, 300, (int(torch.randint(1, 12, (1,), generator=g)),), generator=g).tolist()
             for _ in owner]
    w = torch.randn(len(owner), max(map(len, comps)), generator=g)  # weights of a made-up loss

    model.zero_grad()
    calls = []
    hook = model.lm_head.register_forward_hook(lambda m, i, o: calls.append(len(i[0])))
    logp, ent = shared_prefix_logprobs(model, prompts, torch.tensor(owner), comps, temperature, with_entropy=True)
    mask = torch.zeros(logp.shape, dtype=torch.bool)
    for i, c in enumerate(comps):
        mask[i, : len(c)] = True
    (logp * w * mask).sum().backward()
    hook.remove()
    shared = {n: p.grad.clone() for n, p in model.named_parameters()}
    n_real = sum(map(len, comps))
    blocks = -(-n_real // 7) if budget else 1
    assert len(calls) == (2 * blocks if budget else 1) and sum(calls) == n_real * (2 if budget else 1)

    model.zero_grad()
    rows = [[Sample("", c, [], "stop", prompts[o])] for c, o in zip(comps, owner)]
    ids, attn, comp = build_batch(rows, 0)
    ref, ref_ent = token_logprobs(model, ids, attn, temperature, with_entropy=True)
    # the separate rows' log-probs moved into the completion frame
    frame = torch.zeros(logp.shape)
    frame_ent = torch.zeros(logp.shape)
    for i, (c, o) in enumerate(zip(comps, owner)):
        s = len(prompts[o]) - 1
        frame[i, : len(c)] = ref[i, s: s + len(c)]
        frame_ent[i, : len(c)] = ref_ent[i, s: s + len(c)]
    torch.testing.assert_close(logp[mask], frame[mask].detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ent[mask], frame_ent[mask], rtol=1e-5, atol=1e-5)
    loss = sum((ref[i, len(prompts[o]) - 1: len(prompts[o]) - 1 + len(c)] * w[i, : len(c)]).sum()
               for i, (c, o) in enumerate(zip(comps, owner)))
    loss.backward()
    for n, p in model.named_parameters():
        torch.testing.assert_close(shared[n], p.grad, rtol=1e-4, atol=1e-5 * float(p.grad.abs().max()), msg=n)
    assert sum(float(p.grad.abs().sum()) for p in model.parameters()) > 1e-3


def test_logged_loss_is_the_mean_over_the_steps_updates(tmp_path, tokenizer):
    """With weights that cannot move (lr 1e-30), three minibatches of 4 sequences each log the loss of the
    one whole batch (Dr. GRPO's constant divisor): the step's loss is the mean over its updates, not their sum.
    The reward (completion length mod 3) gives groups non-zero advantages, and completions of unequal lengths
    make their loss non-zero: at ratio 1 it is -sum(A_i * len_i) / constant, 0 for the zero-sum advantages of a
    group whose completions are equally long. (The model's EOS row is scaled up so that it ends at varied steps;
    the test once drew its one short completion only from seed 0's first draw, which always took EOS: 500c62d.)"""
    from ponder.verify.registry import RewardResult

    cfg = ponder.ModelConfig(vocab_size=320, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                             num_attention_heads=2, num_key_value_heads=1, head_dim=24)
    model = ponder.Transformer(cfg).init_weights(1, std=0.08)
    with torch.no_grad():
        model.lm_head.weight[tokenizer.eos_token_id] = 3 * torch.randn(48, generator=torch.Generator().manual_seed(0))
    ponder.save(model, tokenizer, tmp_path / "ck")
    lengths = []

    def score(reward, texts, items):
        lengths.extend(len(t) for t in texts)
        return [RewardResult(reward=float(len(t) % 3), correct=len(t) % 3 == 0) for t in texts]

    cfg = {**SMALL, "steps": 1, "eval_every": 5, "lr": 1e-30, "preset": "dr_grpo"}
    one = rows(train(GRPOConfig(model=str(tmp_path / "ck"), **cfg), tmp_path / "one", progress=False,
                     score_fn=score))[0]
    three = rows(train(GRPOConfig(model=str(tmp_path / "ck"), **cfg, objective={"minibatches": 3}),
                       tmp_path / "three", progress=False, score_fn=score))[0]
    assert one["response_length"] < SMALL["max_new_tokens"] and len(set(lengths)) > 2
    assert abs(one["loss"]) > 1e-3
    assert three["loss"] == pytest.approx(one["loss"], rel=1e-4)


def test_dapo_dynamic_sampling_filters_on_correctness_not_shaped_reward(ckpt, tokenizer):
    """DAPO keeps a group when 0 < #correct < G: a format bonus that varies inside an all-correct group
    must not keep it, and a group with mixed correctness is kept even when its rewards tie."""
    from ponder.engine import Sample
    from ponder.rl.trainer import _rollout, objective_config
    from ponder.verify.registry import RewardResult

    cfg = GRPOConfig(preset="dapo", group_size=4, prompts_per_step=2, max_new_tokens=4, max_refill=0)
    pool = [{"id": str(i), "prompt": f"{i}+1=", "answer": str(i + 1)} for i in range(10)]

    def generate(model, tok, prompts, version=None, **kw):
        return [[Sample(f"t{j}", [1], [-0.1], "stop", [0]) for j in range(4)] for _ in prompts]

    def score(correct, rewards):
        return lambda reward, texts, items: [RewardResult(reward=r, correct=c) for c, r in zip(correct, rewards)]

    model = ponder.load(ckpt)[0]
    kw = dict(tok=tokenizer, cfg=cfg, ocfg=objective_config(cfg), reward=None, pool=pool, step=0,
              curriculum=None, generate_fn=generate)
    all_right = score([True] * 8, [1.0, 1.1] * 4)  # shaped rewards differ, correctness does not
    ro = _rollout(model, **kw, score_fn=all_right)
    assert ro["groups"] == [] and ro["stats"]["zero_var"] == 0
    mixed = score([True, False] * 4, [1.0] * 8)  # rewards tie, correctness differs
    assert len(_rollout(model, **kw, score_fn=mixed)["groups"]) == 2


def test_zero_var_frac_counts_the_groups_whose_advantages_are_zero(ckpt, tokenizer):
    """zero_var_frac is the share of drawn groups with no learning signal: rewards tied as the advantage reads
    them, DAPO's overlong penalty included. A group all wrong whose completions differ in length inside the
    penalty window has non-zero advantages; it was counted as zero-variance on the reward before the penalty."""
    from ponder.engine import Sample
    from ponder.rl import objective as obj
    from ponder.rl.trainer import _rollout, objective_for
    from ponder.verify.registry import RewardResult

    cfg = GRPOConfig(preset="dapo", group_size=4, prompts_per_step=2, max_new_tokens=10, max_refill=0,
                     objective={"group_filter": False})
    ocfg = objective_for(cfg.preset, cfg.objective, cfg.max_new_tokens)  # L_cache 2: penalised above 8 tokens
    pool = [{"id": str(i), "prompt": f"{i}+1=", "answer": str(i + 1)} for i in range(10)]
    lengths = [[3, 9, 10, 4], [3, 4, 5, 6]]  # first group: two completions in the penalty window

    def generate(model, tok, prompts, version=None, **kw):
        return [[Sample(f"t{j}", [1] * n, [-0.1] * n, "length" if n == 10 else "stop", [0])
                 for j, n in enumerate(ls)] for ls in lengths[: len(prompts)]]

    def score(reward, texts, items):  # all wrong: the raw rewards tie in both groups
        return [RewardResult(reward=0.0, correct=False) for _ in items]

    ro = _rollout(ponder.load(ckpt)[0], tok=tokenizer, cfg=cfg, ocfg=ocfg, reward=None, pool=pool, step=0,
                  curriculum=None, generate_fn=generate, score_fn=score)
    no_signal = 0
    for g, r in zip(ro["groups"], ro["rewards"]):
        shaped = obj.shape_rewards(r, torch.tensor([s.num_tokens for s in g]), cfg.max_new_tokens, ocfg)
        no_signal += bool((obj.compute_advantages(shaped, 4, ocfg) == 0).all())
    assert len(ro["groups"]) == 2 and no_signal == 1
    assert ro["stats"]["zero_var"] == no_signal


def test_dynamic_sampling_refills_draw_new_prompts(ckpt, tokenizer):
    """A refill round draws prompts the step has not tried yet: a step used to train on a prompt kept in an earlier
    round a second time (its seeded order restarts from the whole pool). A pool run out ends the refills."""
    from ponder.engine import Sample
    from ponder.rl.trainer import _rollout, objective_config
    from ponder.verify.registry import RewardResult

    pool = [{"id": str(i), "prompt": "?" * i, "answer": str(i + 1)} for i in range(12)]  # len(prompt): its index
    tried = []

    def generate(model, tok, prompts, version=None, **kw):
        tried.append(list(prompts))
        return [[Sample(f"t{j}", [1], [-0.1], "stop", [len(p)]) for j in range(4)] for p in prompts]

    def score(reward, texts, items):  # odd prompts have mixed correctness (kept), even ones are all wrong
        return [RewardResult(reward=float(j % 2), correct=bool(j % 2 and int(it["id"]) % 2))
                for j, it in enumerate(items)]

    model = ponder.load(ckpt)[0]
    for P, refill in ((4, 10), (6, 10), (8, 10)):
        tried.clear()
        cfg = GRPOConfig(preset="dapo", group_size=4, prompts_per_step=P, max_new_tokens=4, max_refill=refill)
        ro = _rollout(model, tok=tokenizer, cfg=cfg, ocfg=objective_config(cfg), reward=None, pool=pool, step=3,
                      curriculum=None, generate_fn=generate, score_fn=score)
        kept = [g[0].prompt_ids[0] for g in ro["groups"]]
        prompts = [p for r in tried for p in r]
        assert len(ro["groups"]) == min(P, 6) and len(prompts) == len(set(prompts)), tried
        assert len(set(kept)) == len(kept) and ro["rounds"] == len(tried) <= refill + 1
    assert len(prompts) == 12 and ro["rounds"] < 11  # P=8: the pool ran out before max_refill


@pytest.mark.parametrize("given", ["dtype", "model"])
def test_bf16_run_resumes_in_bf16_equal_to_uninterrupted(tmp_path, ckpt, given):
    """The resumed run loads its checkpoint in the run's own dtype (a CPU load would otherwise widen to fp32), also
    where the run was given a bf16 model (and dtype None): it resumed in fp32, its master weights dropped."""
    cfg = {**SMALL, "steps": 2, "save_every": 1, "eval_every": 5}

    def run(out, steps):
        if given == "dtype":
            return train(GRPOConfig(model=str(ckpt), **{**cfg, "steps": steps, "dtype": "bfloat16"}), out,
                         progress=False)
        model, tok = ponder.load(ckpt)
        return train(GRPOConfig(model=str(ckpt), **{**cfg, "steps": steps}), out, progress=False,
                     model=model.to(torch.bfloat16), tok=tok)

    straight, part = run(tmp_path / "s", 2), run(tmp_path / "r", 1)
    train(GRPOConfig(steps=2), part, resume=True, progress=False)
    a, b = rows(straight), rows(part)
    assert [x["step"] for x in b] == [1, 2]
    for k in ("reward_mean", "loss", "grad_norm", "entropy", "kl_mean"):
        assert a[1][k] == b[1][k], k


def test_ctrl_c_during_an_off_policy_run_exits_at_once(tmp_path, ckpt):
    """The rollout running ahead is on a daemon thread: an interrupted run does not wait it out at exit."""
    script = f"""
import threading, time
import ponder
from ponder.rl.trainer import GRPOConfig, train

def generate(model, tok, prompts, *, version, **kw):
    if threading.current_thread() is not threading.main_thread():
        time.sleep(3600)  # a generation in flight when Ctrl-C comes that never ends: exit must not wait for it
    return ponder.sample(model, tok, prompts, **kw)

def on_log(row):
    raise KeyboardInterrupt

try:
    train(GRPOConfig(model={str(ckpt)!r}, steps=3, prompts_per_step=2, group_size=2, max_new_tokens=8,
                     eval_every=100, save_every=100, train_pool=10, tensorboard=False, off_policy=True),
          {str(tmp_path / "r")!r}, progress=False, generate_fn=generate, on_log=on_log)
except KeyboardInterrupt:
    print("interrupted")
"""
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert p.stdout.strip() == "interrupted", p.stderr[-2000:]  # (waiting for the thread: TimeoutExpired)


def test_off_policy_rollout_running_ahead_is_halted_and_joined_when_its_run_fails(tmp_path, ckpt):
    """A run ending with an exception left its rollout running ahead on its thread, still calling generate_fn (a
    Ray pool the caller closed next: new actors started, or a dead one 'replaced'). The run now halts it
    (generate_fn.halt(), where there is one) and joins its thread before it returns."""
    import threading

    halted = threading.Event()

    def generate(model, tok, prompts, *, version, **kw):
        if threading.current_thread() is not threading.main_thread():  # the rollout running ahead
            halted.wait()  # in flight until halted (a Ray pool's call)
            raise PonderError("halted")
        return ponder.sample(model, tok, prompts, **kw)

    generate.halt = halted.set

    def on_log(row):
        raise RuntimeError("the learner failed")

    with pytest.raises(RuntimeError, match="the learner failed"):
        train(GRPOConfig(model=str(ckpt), **{**SMALL, "steps": 3, "eval_every": 100, "off_policy": True}),
              tmp_path / "r", progress=False, generate_fn=generate, on_log=on_log)
    left = [t for t in threading.enumerate() if t.name == "ponder-rollout"]
    halted.set()  # (before the fix: let the thread end)
    assert not left, "the rollout thread outlived its run"


def test_trainer_gives_batch_normalisation_the_loss_token_counts(tmp_path, ckpt, monkeypatch):
    """REINFORCE++'s global normalisation is over tokens, so the trainer must hand compute_advantages each
    row's number of loss tokens (after overlong masking). It used to pass no lengths: completions were
    weighted equally whatever their length."""
    from ponder.rl import objective as obj

    seen = []
    real = obj.compute_advantages

    def spy(rewards, group_size, cfg, lengths=None):
        seen.append(lengths)
        return real(rewards, group_size, cfg, lengths=lengths)

    monkeypatch.setattr(obj, "compute_advantages", spy)
    over = {"advantage": "batch_norm", "overlong_mask": True}
    run = train(GRPOConfig(model=str(ckpt), objective=over, **{**SMALL, "steps": 1, "eval_every": 5}),
                tmp_path / "r", progress=False)
    r = rows(run)[0]
    assert len(seen) == 1 and seen[0] is not None and len(seen[0]) == r["samples"]
    lengths = seen[0].tolist()
    # truncated rows are masked (0 loss tokens); the others count every completion token
    assert all(0 <= n <= SMALL["max_new_tokens"] for n in lengths)
    assert sum(n == 0 for n in lengths) == round(r["truncated_frac"] * r["samples"])


OFF_POLICY = {**SMALL, "steps": 4, "save_every": 2, "eval_every": 2, "off_policy": True}


@pytest.fixture(scope="module")
def off_policy_straight(tmp_path_factory, ckpt):
    """The uninterrupted off-policy run both cuts compare with (read only)."""
    with pytest.MonkeyPatch.context() as mp:
        plot_each_kind_of_rows_once(mp)
        return train(GRPOConfig(model=str(ckpt), **OFF_POLICY), tmp_path_factory.mktemp("s") / "s", progress=False)


@pytest.mark.parametrize("cut", ["mid_run", "last_step"])
def test_off_policy_resume_equals_uninterrupted(tmp_path, ckpt, off_policy_straight, cut):
    """The rollout running ahead when a checkpoint is written is saved with it (mid-run); a run that ended at its
    last step keeps the weights from before its last update, which sample the next step of a longer run. Either
    way the resumed run trains on exactly what the uninterrupted one does."""
    cfg, straight = OFF_POLICY, off_policy_straight
    part = tmp_path / "r"
    if cut == "mid_run":
        def stop(row):
            if row["step"] == 3:  # after the step-2 checkpoint, during step 3's bookkeeping
                raise KeyboardInterrupt
        with pytest.raises(KeyboardInterrupt):
            train(GRPOConfig(model=str(ckpt), **cfg), part, progress=False, on_log=stop)
    else:
        train(GRPOConfig(model=str(ckpt), **{**cfg, "steps": 2}), part, progress=False)
    state = torch.load(part / "checkpoint" / "trainer_state.pt", weights_only=True)
    assert state["step"] == 2
    assert list(state["extra"]["off_policy"]) == (["rollout"] if cut == "mid_run" else ["behaviour"])
    train(GRPOConfig(steps=4), part, resume=True, progress=False)
    a, b = rows(straight), rows(part)
    assert [x["step"] for x in b] == [1, 2, 3, 4]
    for x, y in zip(a, b):
        for k in ("reward_mean", "response_length", "loss", "grad_norm", "entropy", "ratio_max", "kl_mean"):
            assert x.get(k) == y.get(k), (x["step"], k)
    assert a[1]["ratio_max"] != 1.0 and "kl_mean" in a[1]  # off-policy ratios and a KL term are compared
    assert a[3]["heldout_accuracy"] == b[3]["heldout_accuracy"]
    wa, wb = (ponder.load(d / "checkpoint")[0].state_dict() for d in (straight, part))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_step_without_loss_tokens_leaves_the_weights_alone(tmp_path, ckpt):
    """Every completion cut at max_new_tokens and masked (overlong_mask): nothing to learn from, so no optimizer
    step (AdamW's decay and momentum used to move the weights on zero gradients), and the row logs no loss
    statistics of the update it did not take (it logged loss 0.0, ratio 1.0 and every group as trained)."""
    cfg = {**SMALL, "steps": 1, "eval_every": 5, "max_new_tokens": 2, "weight_decay": 0.1, "seed": 3}
    run = train(GRPOConfig(model=str(ckpt), objective={"overlong_mask": True}, **cfg), tmp_path / "r", progress=False)
    row = rows(run)[0]
    assert row["truncated_frac"] == 1.0  # (seed 3 draws no EOS in 2 tokens)
    assert not {"loss", "clip_frac", "ratio_mean", "ratio_min", "ratio_max", "kl_mean", "entropy"} & set(row)
    assert row["groups_trained"] == 0 and row["grad_norm"] is None  # (NaN: no update measured)
    before, _ = ponder.load(ckpt)
    after, _ = ponder.load(run / "checkpoint")
    assert all(torch.equal(a, b) for a, b in zip(before.state_dict().values(), after.state_dict().values()))


def test_a_run_stopped_by_an_alarm_says_so_evaluates_there_and_resumes_past_it(tmp_path, ckpt):
    """--stop-on-alarm used to end a run with nothing saying it stopped early or which alarm stopped it, and its
    last held-out accuracy was from an earlier step (or absent). One-token completions are all truncated, so
    length_runaway fires at step 3 (its patience) of 6: the stop step's row names the alarm and carries a held-out
    accuracy, the summary says so, and --resume continues past the alarm to the run's own end."""
    from ponder.train import summarize_run

    cfg = {**SMALL, "steps": 6, "max_new_tokens": 1, "eval_every": 5, "save_every": 5, "stop_on_alarm": True}
    run = train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / "r", progress=False)
    r = rows(run)
    assert [x["step"] for x in r] == [1, 2, 3] and "length_runaway" in r[-1]["alarms"]
    msg = next(json.loads(x)["message"] for x in (run / "alarms.jsonl").read_text().splitlines()
               if json.loads(x)["alarm"] == "length_runaway")
    assert r[-1]["stopped_early"] == {"alarm": "length_runaway", "message": msg}
    assert "heldout_accuracy" in r[-1] and not any("heldout_accuracy" in x for x in r[:-1])
    assert summarize_run(run)["stopped_early"] == {"step": 3, "of": 6, "alarm": "length_runaway", "message": msg}
    train(GRPOConfig(steps=0), run, resume=True, progress=False)  # the alarm's condition persists: no new alarm
    r = rows(run)
    assert [x["step"] for x in r] == [1, 2, 3, 4, 5, 6] and "heldout_accuracy" in r[4]
    assert summarize_run(run)["stopped_early"] is None
    # a run that does not stop logs the same steps (less the stop step's extras and timings)
    plain = rows(train(GRPOConfig(model=str(ckpt), **{**cfg, "stop_on_alarm": False}), tmp_path / "p",
                       progress=False))
    timing = ("gen_s", "train_s", "step_s", "tokens_per_s")
    assert [{k: v for k, v in x.items() if k not in timing} for x in plain] == [
        {k: v for k, v in x.items() if k not in timing and not (x["step"] == 3 and k in (
            "stopped_early", "heldout_accuracy", "heldout_sandbox_errors", "heldout_judge_overflow"))}
        for x in r]


def test_stop_on_alarm_without_a_heldout_evaluation_stops_with_its_row(tmp_path, ckpt):
    """--stop-on-alarm with --data and no --eval-data (no held-out evaluation): the stop step read the held-out
    counts of an evaluation that never ran, an UnboundLocalError on `held` in place of the run's stop; it stops as
    with one."""
    data = tmp_path / "d.jsonl"
    data.write_text((json.dumps({"prompt": "Problem: 1 + 1 = ?\nSolution:", "answer": "2"}) + "\n") * 3)
    cfg = {**SMALL, "steps": 6, "max_new_tokens": 1, "save_every": 5, "stop_on_alarm": True}
    r = rows(train(GRPOConfig(model=str(ckpt), task=None, data=str(data), **cfg), tmp_path / "r", progress=False))
    assert [x["step"] for x in r] == [1, 2, 3] and r[-1]["stopped_early"]["alarm"] == "length_runaway"
    assert not any(k.startswith("heldout_") for x in r for k in x)


def test_an_alarm_at_the_last_step_ends_nothing_early(tmp_path, ckpt):
    """length_runaway fires at step 3 of 3: the run went to its last step, so it is not called stopped early."""
    from ponder.train import summarize_run

    cfg = {**SMALL, "steps": 3, "max_new_tokens": 1, "eval_every": 5, "save_every": 5, "stop_on_alarm": True}
    run = train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / "r", progress=False)
    r = rows(run)
    assert "length_runaway" in r[-1]["alarms"] and "stopped_early" not in r[-1]
    assert summarize_run(run)["stopped_early"] is None


def test_a_checkpoint_with_attention_dropout_trains_on_the_sampling_policy(tmp_path, tokenizer):
    """The policy's log-probs are the sampler's function even when config.json sets attention_dropout: at the
    first step the policy is the reference, so their KL is 0 (dropout in the training forward made it noise)."""
    cfg = ponder.ModelConfig(vocab_size=320, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                             num_attention_heads=2, num_key_value_heads=1, head_dim=24, attention_dropout=0.5)
    ck = tmp_path / "ck"
    ponder.save(ponder.Transformer(cfg).init_weights(1, std=0.08), tokenizer, ck)
    row = rows(train(GRPOConfig(model=str(ck), **{**SMALL, "steps": 1, "eval_every": 5}), tmp_path / "r",
                     progress=False))[0]
    assert row["kl_mean"] == pytest.approx(0.0, abs=1e-6)


def test_grpo_on_a_dataset_of_chat_message_prompts(tmp_path, ckpt):
    """--data rows may give the prompt as chat messages (verl's layout); the loader refused them, and with chat
    the trainer wrapped the list as one user message's content. They are rendered as given, in rollouts and in
    the held-out evaluation: the run equals one on text prompts that chat=True with that system prompt wraps the
    same; a system setting on top of them is refused before the run directory is written."""
    from ponder.rl.trainer import greedy_accuracy
    from ponder.verify.verdict import Verdict

    system = "Reason step by step."
    texts = [f"Problem: {a} + {b} = ?\nSolution:" for a, b in ((1, 1), (2, 3), (4, 1), (3, 3))]
    text_rows = [{"id": f"p{i}", "prompt": t, "answer": str(eval(t[9:14]))} for i, t in enumerate(texts)]
    chat_rows = [{**r, "prompt": [{"role": "system", "content": system}, {"role": "user", "content": r["prompt"]}]}
                 for r in text_rows]
    files = {}
    for name, rs in (("text", text_rows), ("chat", chat_rows)):
        files[name] = tmp_path / f"{name}.jsonl"
        files[name].write_text("".join(json.dumps(r) + "\n" for r in rs))
    base = dict(model=str(ckpt), task=None, **{**SMALL, "steps": 2, "eval_every": 2, "save_every": 2})
    runs = {}
    for name, kw in (("text", dict(chat=True, system=system)), ("chat", dict(chat=False)),
                     ("chat-chat", dict(chat=True))):
        f = str(files[name.split("-")[0]])
        runs[name] = train(GRPOConfig(**base, **kw, data=f, eval_data=f), tmp_path / name, progress=False)
    def figures(run):  # what the rollouts drew (lengths, entropy, answers, padding), timings aside
        return [{k: v for k, v in r.items() if not k.endswith("_s")} for r in rows(run)]
    want = figures(runs["text"])
    assert "heldout_accuracy" in want[1] and "entropy" in want[0]
    for name in ("chat", "chat-chat"):
        assert figures(runs[name]) == want, name
    # the held-out evaluation's completions: the same for the messages as for the wrapped text
    model, tok = ponder.load(ckpt)
    seen = {}

    def reward(completion, item, think_open=False):
        seen.setdefault(item["id"] + str(isinstance(item["prompt"], list)), completion)
        return Verdict(False, None, "wrong")
    greedy_accuracy(model, tok, text_rows, reward, GRPOConfig(chat=True, system=system, max_new_tokens=8))
    greedy_accuracy(model, tok, chat_rows, reward, GRPOConfig(max_new_tokens=8))
    assert len(seen) == 8 and all(seen[f"p{i}True"] == seen[f"p{i}False"] for i in range(4))
    with pytest.raises(PonderError, match="chat.jsonl: item p0: the prompt is a list of chat messages, which system"):
        train(GRPOConfig(**base, chat=True, system="Be brief.", data=str(files["chat"])), tmp_path / "sys",
              progress=False)
    assert not (tmp_path / "sys").exists()


def test_a_system_prompt_without_chat_is_refused(tmp_path, ckpt):
    """Text prompts are used as they are without chat: the system prompt was dropped without a word (and
    recorded in config.json as if the rollouts had it)."""
    with pytest.raises(PonderError, match=r"system is the system message of chat prompts: set chat=True"):
        train(GRPOConfig(model=str(ckpt), system="Be brief.", **SMALL), tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_a_non_finite_reward_in_a_group_dynamic_sampling_drops_still_skips_the_step(tmp_path, ckpt):
    """DAPO drops a group whose completions are all wrong; one such group's rewards are NaN. The step trained on
    the other groups anyway, logged reward_mean NaN, and the monitor's alarm said the step was skipped: a
    non-finite reward skips the step wherever it is, as it does in a kept group."""
    from ponder.verify.registry import RewardResult

    def score(reward, texts, items):
        bad = items[0]["id"]  # the first prompt's group: all wrong, rewards NaN (dropped by the filter)
        return [RewardResult(reward=math.nan, correct=False) if it["id"] == bad
                else RewardResult(reward=float(k % 2), correct=bool(k % 2)) for k, it in enumerate(items)]

    cfg = {**SMALL, "steps": 1, "eval_every": 5, "preset": "dapo", "max_refill": 0}
    run = train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / "r", progress=False, score_fn=score)
    r = rows(run)[0]
    assert r["skipped"] and r["skip_reason"] == "non-finite reward" and "skipped_step" in r["alarms"]
    before, after = ponder.load(ckpt)[0].state_dict(), ponder.load(run / "checkpoint")[0].state_dict()
    assert all(torch.equal(before[k], v) for k, v in after.items())


def test_a_step_dynamic_sampling_left_without_groups_says_why(tmp_path, ckpt):
    """Every completion correct, shaped rewards varying (a format bonus): DAPO's filter, on correctness, keeps no
    group. The skip reason said "every group had equal rewards", which these groups did not have."""
    from ponder.verify.registry import RewardResult

    def score(reward, texts, items):
        return [RewardResult(reward=1.0 + 0.1 * (k % 2), correct=True) for k in range(len(items))]

    cfg = {**SMALL, "steps": 1, "eval_every": 5, "preset": "dapo", "max_refill": 1}
    r = rows(train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / "r", progress=False, score_fn=score))[0]
    assert r["skipped"] and r["gen_rounds"] == 2 and r["zero_var_frac"] == 0.0
    assert r["skip_reason"] == "dynamic sampling kept no group (each was all correct or all wrong)"


def test_a_run_with_a_reward_given_as_a_dict_of_weights_resumes(tmp_path, ckpt):
    """get_reward takes {"math": 1.0, "format": 0.1} as it takes "math+0.1*format": such a run trained, and its
    own config.json was then refused by --resume ("grpo.reward: expected str or None")."""
    cfg = {**SMALL, "steps": 1, "eval_every": 5, "reward": {"math": 1.0, "format": 0.1}}
    run = train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / "r", progress=False)
    train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert [x["step"] for x in rows(run)] == [1, 2]
    assert json.loads((run / "config.json").read_text())["grpo"]["reward"] == {"math": 1.0, "format": 0.1}


@pytest.mark.parametrize("steps", [2.5, "3", True, -1])
def test_resume_refuses_a_bad_steps_target_before_changing_the_run(one_step_run, steps):
    """steps=2.5 (or "3") on resume was written into the run's config.json as its new target before the loop failed
    with a TypeError; from then on --resume refused the run's own config.json (grpo.steps: expected int)."""
    run = one_step_run
    before = (run / "config.json").read_text()
    with pytest.raises(PonderError, match="^steps must be"):
        train(GRPOConfig(steps=steps), run, resume=True, progress=False)
    assert (run / "config.json").read_text() == before
    train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert [x["step"] for x in rows(run)] == [1, 2]


@pytest.mark.parametrize("over, msg", [
    (dict(dual_clip_c=5.0), "dual_clip_c=5.0 has no effect with clip=symmetric"),
    (dict(overlong_cache=8), "overlong_cache=8 has no effect with overlong_penalty off"),
    (dict(max_len_norm=100), "max_len_norm=100 has no effect with aggregation=seq_mean_token_mean"),
    (dict(clip="none", eps_low=0.1, eps_high=0.1), "eps_low=0.1 has no effect with clip=none"),
])
def test_a_runs_override_the_objective_never_reads_is_refused(over, msg):
    """--set dual_clip_c=5 on a symmetric clip (or an overlong ramp without the penalty, Dr. GRPO's constant under
    another aggregation, a clip range without a clip) trained as if it had not been given, and explain listed it
    as a difference from the preset; beta without kl was already refused."""
    from ponder.rl.trainer import objective_for

    with pytest.raises(PonderError, match="^objective: " + re.escape(msg)):
        objective_for("grpo", over, 96)
    objective_for("grpo", dict(clip="dual", dual_clip_c=5.0), 96)  # where the part reads them, they are taken
    objective_for("grpo", dict(overlong_penalty=True, overlong_cache=8), 96)
    objective_for("dr_grpo", dict(max_len_norm=100), 96)
    objective_for("dapo", dict(overlong_cache=None), 96)  # (None: "derive it", no value given)


@pytest.mark.parametrize("field, bad", [("reward", None), ("reward", "0.5"), ("reward", [1.0]), ("correct", None)])
def test_a_score_fn_result_without_a_numeric_reward_is_refused_naming_the_item(tmp_path, ckpt, field, bad):
    """A score_fn (the Ray / data-parallel hook, or a caller's own scorer) whose result for one completion had
    reward None (or text, or a list) failed in torch.tensor with a bare TypeError naming nothing."""
    from ponder.verify.registry import RewardResult

    def score(reward, texts, items):
        return [RewardResult(**{"reward": 0.0, "correct": False, **({field: bad} if k == 5 else {})})
                for k in range(len(items))]

    cfg = {**SMALL, "steps": 1, "eval_every": 5}
    with pytest.raises(PonderError, match=rf"^step 1: the score of completion 2 of 4 of item \S+ has {field} "
                                          + re.escape(repr(bad)) + ", not a number$"):
        train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / "r", progress=False, score_fn=score)


@pytest.mark.parametrize("bad", [0.5, 2, math.nan, -1.0])
def test_a_score_fn_result_whose_correct_is_not_a_truth_value_is_refused_naming_the_item(ckpt, tokenizer, bad):
    """correct is the verifier's right/wrong (accuracy, DAPO's filter, the curriculum): a score_fn's 0.5 or 2 was
    averaged into the logged accuracy (above 1 for 2) and its NaN made it NaN, silently; under dynamic sampling a
    NaN failed as "non-finite reward at index 1", naming neither the item nor correct."""
    from ponder.engine import Sample
    from ponder.rl.trainer import _rollout, objective_config
    from ponder.verify.registry import RewardResult

    pool = [{"id": f"q{i}", "prompt": f"{i}+1=", "answer": str(i + 1)} for i in range(10)]

    def generate(model, tok, prompts, version=None, **kw):
        return [[Sample(f"t{j}", [1], [-0.1], "stop", [0]) for j in range(4)] for _ in prompts]

    def score(reward, texts, items):
        return [RewardResult(reward=0.0, correct=bad if k == 5 else True) for k in range(len(items))]

    model = ponder.load(ckpt)[0]
    for preset in ("grpo", "dapo"):
        cfg = GRPOConfig(preset=preset, group_size=4, prompts_per_step=2, max_new_tokens=4, max_refill=0)
        with pytest.raises(PonderError, match=r"^step 1: the score of completion 2 of 4 of item q\d has correct "
                                              + re.escape(repr(bad)) + r", not true or false \(1 or 0\)$"):
            _rollout(model, tok=tokenizer, cfg=cfg, ocfg=objective_config(cfg), reward=None, pool=pool, step=0,
                     curriculum=None, generate_fn=generate, score_fn=score)


def test_a_minibatch_without_loss_tokens_does_not_dilute_the_logged_loss(tmp_path, ckpt):
    """overlong_mask, two minibatches: the first group's completions are all cut at max_new_tokens (masked), so the
    first minibatch has no loss token and takes no optimizer step. The step's loss was still averaged over both
    minibatches, half the loss of the one update taken; it equals the one-minibatch step's (same normaliser:
    the sequences with loss tokens; weights that cannot move, lr 1e-30)."""
    from dataclasses import replace

    from ponder.verify.registry import RewardResult

    def generate(model, tok, prompts, *, version, **kw):  # the second group: completions of 2, 3, 4, 5 tokens
        outs = ponder.sample(model, tok, prompts, **kw)
        return [[replace(s, finish_reason="length") if i == 0 else
                 replace(s, token_ids=s.token_ids[:j + 2], logprobs=s.logprobs[:j + 2], finish_reason="stop")
                 for j, s in enumerate(g)] for i, g in enumerate(outs)]

    def score(reward, texts, items):
        return [RewardResult(reward=float(k % 2), correct=bool(k % 2)) for k in range(len(items))]

    cfg = {**SMALL, "steps": 1, "eval_every": 5, "prompts_per_step": 2, "lr": 1e-30}
    over = {"overlong_mask": True, "aggregation": "token_mean"}  # (a token mean: the loss of unequal lengths is not 0)
    one, two = (rows(train(GRPOConfig(model=str(ckpt), **cfg, objective={**over, "minibatches": m}),
                           tmp_path / str(m), progress=False, generate_fn=generate, score_fn=score))[0]
                for m in (1, 2))
    assert abs(one["loss"]) > 1e-3
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-4)


@pytest.mark.parametrize("preset", ["grpo", "dr_grpo", "dapo", "gspo", "rloo", "reinforce"])
def test_micro_batching_does_not_change_any_presets_step(tmp_path, ckpt, preset):
    """Every preset's step (each of its updates: mu passes x minibatches) is the same whether the rows go through
    forward/backward all at once or one or two at a time under a token budget: the normalisers span the optimizer
    step's whole minibatch, never the micro-batch in hand. Weights that cannot move (lr 1e-30), so each update is
    compared, not only the first; rewards that differ inside groups, so the gradient is not zero."""
    from ponder.verify.registry import RewardResult

    def score(reward, texts, items):
        return [RewardResult(reward=float(len(t) % 3), correct=len(t) % 3 == 0) for t in texts]

    over = {"dapo": {"minibatches": 3}, "grpo": {"mu": 2}}.get(preset, {})  # (dapo's 16: one row per minibatch)
    cfg = {**SMALL, "steps": 1, "eval_every": 5, "lr": 1e-30, "preset": preset, "objective": over}
    whole, split = (rows(train(GRPOConfig(model=str(ckpt), **cfg, micro_batch=mb, micro_batch_tokens=budget),
                               tmp_path / str(mb), progress=False, score_fn=score))[0]
                    for mb, budget in ((64, 0), (2, 15)))
    assert whole["groups_trained"] == 3 and whole["grad_norm"] > 1e-3  # (GRPO's on-policy loss is 0: mean Â = 0)
    for k in ("loss", "grad_norm", "entropy", "kl_mean", "clip_frac", "ratio_max"):
        assert split.get(k) == pytest.approx(whole.get(k), rel=1e-5, abs=1e-7), k


@pytest.mark.parametrize("failing", ["first", "second"])
def test_an_update_discarded_for_a_non_finite_loss_leaves_no_statistics_in_the_row(tmp_path, ckpt, failing):
    """Two minibatches (one group each); a sampler's log-prob of -inf on the longest completion of one group makes
    that update's loss infinite (an Â < 0 token's ratio is inf), so the update is discarded and the step skipped.
    The row logged the statistics of the discarded update's micro-batches that came before the bad row (one row
    per micro-batch: all but the longest), and divided the loss by the updates counted, the discarded one too: the
    first update failing logged a loss though nothing was optimised, the second failing logged a loss that
    changed with the micro-batching (half the first update's, all at once). Now the row's loss, entropy, ratios
    and clip fraction are the updates taken's, as grad_norm's are. lr 1e-30: weights that cannot move."""
    from dataclasses import replace

    from ponder.verify.registry import RewardResult

    bad = 0 if failing == "first" else 1

    def generate(model, tok, prompts, *, version, **kw):  # completions of 2..5 tokens; the longest is wrong
        outs = ponder.sample(model, tok, prompts, **kw)
        return [[replace(s, token_ids=[s.token_ids[0]] * (j + 2), finish_reason="stop",
                         logprobs=[-1.0] * (j + 1) + [-math.inf if (i, j) == (bad, 3) else -1.0])
                 for j, s in enumerate(g)] for i, g in enumerate(outs)]

    def score(reward, texts, items):
        return [RewardResult(reward=float(k % 4 != 3), correct=k % 4 != 3) for k in range(len(items))]

    cfg = {**SMALL, "steps": 1, "eval_every": 5, "prompts_per_step": 2, "lr": 1e-30, "off_policy": True,
           "objective": {"minibatches": 2}}
    whole, split = (rows(train(GRPOConfig(model=str(ckpt), **cfg, micro_batch=mb), tmp_path / str(mb),
                               progress=False, generate_fn=generate, score_fn=score))[0] for mb in (64, 1))
    for row in (whole, split):
        assert row["skipped"] and row["skip_reason"].startswith("non-finite loss")
        assert row["updates_applied"] == bad and row["groups_trained"] == bad  # (the first minibatch's group)
    if failing == "first":  # nothing was optimised
        for row in (whole, split):
            assert not {"loss", "entropy", "clip_frac", "ratio_max"} & set(row), row
    else:
        assert abs(whole["loss"]) > 1e-3 and math.isfinite(whole["ratio_max"])
        for k in ("loss", "entropy", "clip_frac", "ratio_mean", "ratio_max", "kl_mean", "grad_norm"):
            assert split[k] == pytest.approx(whole[k], rel=1e-5, abs=1e-8), k


@pytest.mark.parametrize("broken", ["no prompt_ids", "prompt_ids differ in a group", "no log-probs (off-policy)"])
def test_a_generate_fn_sample_the_learner_cannot_train_on_is_refused(tmp_path, ckpt, broken):
    """The learner computes a group's log-probs on its first sample's prompt_ids and, off-policy, takes the ratio
    against each sample's own log-probs. A generate_fn (the hook Ray and --nproc use) that left prompt_ids empty,
    gave a group's samples different prompts, or recorded no log-probs trained silently: on completions
    conditioned on padding or on another sample's prompt, or with a ratio π_θ/1 (every token clipped)."""
    from dataclasses import replace

    def generate(model, tok, prompts, *, version, **kw):
        outs = ponder.sample(model, tok, prompts, **kw)
        if broken == "no prompt_ids":
            return [[replace(s, prompt_ids=[]) if i == 1 else s for s in g] for i, g in enumerate(outs)]
        if broken == "prompt_ids differ in a group":
            return [[replace(s, prompt_ids=outs[0][0].prompt_ids) if (i, j) == (1, 2) else s for j, s in enumerate(g)]
                    for i, g in enumerate(outs)]
        return [[replace(s, logprobs=[]) for s in g] for g in outs]

    cfg = {**SMALL, "steps": 1, "eval_every": 5, "off_policy": broken.endswith("(off-policy)")}
    with pytest.raises(PonderError, match=r"^step 1: completion \d of \d of item .*: (no prompt_ids|its prompt_ids "
                                          r"differ from completion 1's|0 log-probs for \d+ tokens)"):
        train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / "r", progress=False, generate_fn=generate)


def test_a_generate_fn_s_empty_completions_train_in_a_micro_batch_of_their_own(tmp_path, ckpt):
    """A generate_fn may return a completion with no token (a sampler that leaves the stop token out). Rows are
    sorted by length, so with --micro-batch 1 such a row is a micro-batch alone: shared_prefix_logprobs failed on
    it with a RuntimeError (reshape of 0 elements). It holds no loss token: the step is the one of micro-batch 8."""
    from dataclasses import replace

    def generate(model, tok, prompts, *, version, **kw):
        return [[replace(s, token_ids=[], logprobs=[], text="") if j == 0 else s for j, s in enumerate(g)]
                for g in ponder.sample(model, tok, prompts, **kw)]

    cfg = {**SMALL, "steps": 1, "eval_every": 5}
    whole, split = (rows(train(GRPOConfig(model=str(ckpt), **cfg, micro_batch=mb), tmp_path / str(mb),
                               progress=False, generate_fn=generate))[0] for mb in (8, 1))
    for k in ("loss", "entropy", "kl_mean", "grad_norm"):
        assert split[k] == pytest.approx(whole[k], rel=1e-5, abs=1e-8), k


def test_train_leaves_the_callers_config_as_it_was(tmp_path, ckpt):
    """train() filled its default reward ("math" for arith) into the caller's GRPOConfig: a second run made from it
    with dataclasses.replace(cfg, task="countdown") trained countdown with the math verifier, which accepts a bare
    target number without any expression."""
    from dataclasses import replace

    cfg = GRPOConfig(model=str(ckpt), **{**SMALL, "steps": 1, "eval_every": 5, "eval_n": 1, "group_size": 2})
    before = replace(cfg)
    train(cfg, tmp_path / "a", progress=False)
    assert cfg == before  # (reward None: each run made from it takes its own task's default)


def test_a_dapo_run_with_a_curriculum_resumes_equal_to_uninterrupted(tmp_path, ckpt):
    """The resume tests ran the grpo preset only; DAPO with a curriculum carries the most per-step state: dynamic
    sampling's refill rounds (their seeds and the prompts already drawn), the curriculum's statistics and its
    random skips, one minibatch per row (16 at most), the overlong penalty. Stopped after step 2 and resumed: the
    same rows and weights, bit for bit (a resume that did not put the curriculum's state back fails here)."""
    from ponder.verify.registry import RewardResult

    def score(reward, texts, items):  # by the prompt: always right, never right (both dropped, then skipped by the
        def right(t, p):  # curriculum), or right for some completions (kept)
            return len(p) % 3 == 0 or (len(p) % 3 == 1 and len(t) % 2 == 0)
        return [RewardResult(reward=float(right(t, it["prompt"])), correct=right(t, it["prompt"]))
                for t, it in zip(texts, items)]

    # a pool of 12 prompts: each is seen often enough for the curriculum to skip some
    cfg = {**SMALL, "preset": "dapo", "curriculum": True, "save_every": 2, "lr": 1e-4, "train_pool": 12}
    straight = train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / "s", progress=False, score_fn=score)
    part = train(GRPOConfig(model=str(ckpt), **{**cfg, "steps": 2}), tmp_path / "r", progress=False, score_fn=score)
    train(GRPOConfig(steps=4), part, resume=True, progress=False, score_fn=score)
    a, b = rows(straight), rows(part)
    assert any(x["gen_rounds"] > 1 for x in a) and all(x["groups_trained"] for x in a)
    timing = ("gen_s", "train_s", "step_s", "tokens_per_s")
    assert [{k: v for k, v in x.items() if k not in timing} for x in a] == \
        [{k: v for k, v in x.items() if k not in timing} for x in b]
    wa, wb = (ponder.load(d / "checkpoint")[0].state_dict() for d in (straight, part))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize("seed", [0, 7])
def test_the_curriculums_retries_draw_from_the_runs_seed(tmp_path, ckpt, seed):
    """The curriculum's random retries were seeded 0 whatever --seed was: every seed retried the same skipped
    prompts. After one step (no prompt observed twice yet, so no draw) its saved generator is Random(seed)'s."""
    import random

    cfg = {**SMALL, "steps": 1, "eval_every": 5, "save_every": 1, "curriculum": True, "seed": seed}
    run = train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / "r", progress=False)
    state = torch.load(run / "checkpoint" / "trainer_state.pt", weights_only=True)
    version, internal, gauss = state["extra"]["curriculum"]["rng"]
    assert (version, tuple(internal), gauss) == random.Random(seed).getstate()


def test_a_data_file_for_a_reward_that_reads_no_gold_needs_no_answer(tmp_path):
    """Only the math verifier reads a gold answer, but every --data file was refused without one ("missing field
    'answer'"): a constraints or code dataset needed a dummy answer column. The fields the reward does read are
    still checked (check_items), and a math reward still needs the answer."""
    from ponder.rl.trainer import load_items

    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"Write {i} words.", "constraints": [{"type": "word_count",
                                                                                       "min": i, "max": i}]}) + "\n"
                            for i in range(1, 4)))
    train_items, test_items = load_items(GRPOConfig(task=None, data=str(data), eval_data=str(data),
                                                    reward="constraints+0.1*format"))
    assert [it["answer"] for it in train_items] == [None] * 3 and len(test_items) == 3
    with pytest.raises(PonderError, match="d.jsonl:1: missing field 'answer'"):
        load_items(GRPOConfig(task=None, data=str(data), reward="math"))


def test_eval_data_shared_with_the_training_data_is_said_at_the_start(tmp_path, ckpt, capsys):
    """--eval-data naming --data's file (or problems of it) logged heldout_accuracy on problems the run trains on,
    with nothing said; the start of the run now says how many are shared, and nothing where none is."""
    rows = [{"id": f"p{i}", "prompt": f"Problem: {i} + 1 = ?\nSolution:", "answer": str(i + 1)} for i in range(4)]
    data, other = tmp_path / "d.jsonl", tmp_path / "e.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    other.write_text("".join(json.dumps({**r, "id": f"e{i}", "prompt": r["prompt"].replace("+ 1", "+ 2")}) + "\n"
                             for i, r in enumerate(rows[:3])) + json.dumps(rows[0]) + "\n")

    class Checked(Exception):
        pass

    def stop(model, tok):  # (the note comes before the first step: no step is needed)
        raise Checked

    base = dict(model=str(ckpt), task=None, data=str(data), **{**SMALL, "steps": 1})
    for f, said in ((data, "4 of the 4 held-out problems"), (other, "1 of the 4 held-out problems")):
        with pytest.raises(Checked):
            train(GRPOConfig(**base, eval_data=str(f)), tmp_path / f.stem, progress=False, on_checked=stop)
        assert f"grpo: {said} (--eval-data) are also training prompts" in capsys.readouterr().err
    with pytest.raises(Checked):
        train(GRPOConfig(**base), tmp_path / "none", progress=False, on_checked=stop)
    assert "held-out" not in capsys.readouterr().err


def test_a_run_in_use_by_another_process_is_refused_and_left_as_it_is(one_step_run, hold_run):
    """A second `ponder grpo --resume` while the run still trains interleaved checkpoints and metrics.jsonl:
    refused in one line, the run as it was; it resumes once the first process has ended."""
    run = one_step_run
    held = hold_run(run)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with pytest.raises(PonderError) as e:
        train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert str(e.value) == f"{run} is in use by another ponder process (pid 4242); wait for it or choose another --out"
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    held.close()
    train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert [x["step"] for x in rows(run)] == [1, 2] and not (run / ".lock").exists()


@pytest.mark.parametrize("edit", ["copied checkpoint", "preset", "lr", "eval_every"])
def test_a_checkpoint_of_other_settings_than_config_json_is_refused_on_resume(tmp_path, ckpt, one_step_run, edit):
    """A checkpoint/ copied from another run of the same model (an lr sweep's neighbour: weights and trainer state
    together), or a hand-edited preset or lr, resumed silently under config.json's settings with the other run's
    optimizer state and history. Refused in one line naming what differs, the run left as it was; an edit of what
    changes no update (the evaluation cadence) still resumes."""
    run = one_step_run
    if edit == "copied checkpoint":
        other = train(GRPOConfig(model=str(ckpt), **{**ONE_STEP, "lr": 1e-4}), tmp_path / "o", progress=False)
        for p in (run / "checkpoint").iterdir():
            p.write_bytes((other / "checkpoint" / p.name).read_bytes())
    else:
        saved = json.loads((run / "config.json").read_text())
        saved["grpo"][edit] = {"preset": "dr_grpo", "lr": 1e-4, "eval_every": 1}[edit]
        (run / "config.json").write_text(json.dumps(saved))
    if edit == "eval_every":
        train(GRPOConfig(steps=2), run, resume=True, progress=False)
        assert "heldout_accuracy" in rows(run)[1]
        return
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with pytest.raises(PonderError, match=r"trainer_state.pt: saved by a run of other settings .*\((preset "
                                          r"\"grpo\" vs \"dr_grpo\"|lr 0.001 vs 0.0001|lr 0.0001 vs 0.001)\)"):
        train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_an_edit_of_the_objective_record_is_refused_on_resume(one_step_run):
    """config.json's top-level objective records what grpo.preset and grpo.objective make: an edit of it (beta 0.1)
    resumed silently with the objective of the grpo section. Refused, naming the key; the run as it was."""
    run = one_step_run
    saved = json.loads((run / "config.json").read_text())
    saved["objective"]["beta"] = saved["objective"]["beta"] + 0.1
    (run / "config.json").write_text(json.dumps(saved))
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with pytest.raises(PonderError, match=r"config.json: objective.beta is .*, but the run's grpo.preset and "
                                          r"grpo.objective make it .*: start a new run for another objective$"):
        train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("given", [dict(lr=1e-5), dict(preset="dr_grpo"), dict(model="other"), dict(lr=1e-3),
                                   dict(model="ck")])
def test_resume_refuses_settings_other_than_the_runs_own_it_would_ignore(ckpt, one_step_run, given):
    """train(replace(cfg, lr=1e-5), run, resume=True) trained on at the run's own lr, silently (the CLI refuses
    --lr on --resume). A setting other than its default and the run's own is refused, the run left as it was; the
    run's own settings (or the defaults) resume, and steps raises the target."""
    cfg, run = ONE_STEP, one_step_run
    given = {**given, "model": str(ckpt)} if given.get("model") == "ck" else given
    if given.get("lr") == 1e-3 or given.get("model") == str(ckpt):  # the run's own
        train(GRPOConfig(**{**cfg, **given, "steps": 2}), run, resume=True, progress=False)
        assert [x["step"] for x in rows(run)] == [1, 2]
        return
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    (k, v), = given.items()
    with pytest.raises(PonderError, match=f"^train: resume continues the run with the settings of .*config.json, "
                                          f"where {k} is .*, not {v!r}; give only steps"):
        train(GRPOConfig(steps=2, **given), run, resume=True, progress=False)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_a_run_given_a_model_records_the_device_it_trains_on(tmp_path, ckpt):
    """A model handed in trains where it is, but the run recorded cfg.device: a GPU model with the default "cpu"
    resumed on the CPU, and (as here) a CPU model with device="cuda" left a run --resume refused on a CPU machine
    ("the run trained on 'cuda', which is not available here")."""
    model, tok = ponder.load(ckpt)
    cfg = {**SMALL, "steps": 1, "eval_every": 5, "save_every": 1, "device": "cuda"}
    run = train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / "r", progress=False, model=model, tok=tok)
    assert json.loads((run / "config.json").read_text())["grpo"]["device"] == str(model.device) == "cpu"
    train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert [x["step"] for x in rows(run)] == [1, 2]


def test_the_learner_trains_the_sampled_ids_not_a_re_encoding_of_their_text(tmp_path, ckpt, monkeypatch):
    """A sampler may write a text in other tokens than its encoding ("Ġthe" as "Ġ" "t" "h" "e"); the learner must
    compute log-probs and the off-policy ratio on the ids sampled, with the sampler's log-prob of each of them in
    line, never on encode(text) (a sequence the policy never produced)."""
    from dataclasses import replace

    import ponder.rl.objective as objective
    import ponder.rl.trainer as trainer

    changed = []

    def spelled(tok, ids):  # the first multi-character token written one byte-level character at a time
        for k, t in enumerate(ids):
            piece = tok.tok.id_to_token(t)
            if t not in tok.tok.get_added_tokens_decoder() and piece and len(piece) > 1:
                parts = [tok.token_to_id(c) for c in piece]
                if None not in parts:
                    return ids[:k] + parts + ids[k + 1:]
        return ids

    def generate(model, tok, prompts, *, version, **kw):
        out = []
        for g in ponder.sample(model, tok, prompts, **kw):
            row = []
            for s in g:
                ids = spelled(tok, s.token_ids)
                assert tok.decode(ids, skip_special_tokens=True) == tok.decode(s.token_ids, skip_special_tokens=True)
                if ids != s.token_ids:
                    changed.append(ids)
                row.append(replace(s, token_ids=ids, logprobs=[-1e-3 * (1 + t) for t in ids]))
            out.append(row)
        return out

    seen, olds = [], []
    spl, loss = trainer.shared_prefix_logprobs, objective.policy_loss

    def spy_logprobs(model, prompts, owner, comps, *a, **k):
        seen.append([list(c) for c in comps])
        return spl(model, prompts, owner, comps, *a, **k)

    def spy_loss(logp, old, *a, **k):
        olds.append((seen[-1], old))
        return loss(logp, old, *a, **k)

    monkeypatch.setattr(trainer, "shared_prefix_logprobs", spy_logprobs)
    monkeypatch.setattr(trainer.obj, "policy_loss", spy_loss)
    cfg = {**SMALL, "steps": 1, "eval_every": 5, "off_policy": True}
    train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / "r", progress=False, generate_fn=generate)
    tok = ponder.Tokenizer.load(ckpt)
    assert changed and all(tok.encode(tok.decode(c, skip_special_tokens=True), add_special_tokens=False) != c for c in changed[:1])  # (re-encoding differs)
    trained = [c for comps in seen for c in comps]
    assert all(any(c == t for t in trained) for c in changed)
    assert olds
    for comps, old in olds:
        for c, row in zip(comps, old):
            assert row[: len(c)].tolist() == pytest.approx([-1e-3 * (1 + t) for t in c])


# The shipped demo's per-step reward (ponder demo, 60 steps): a healthy, noisy rise from 0.2 to 0.8
DEMO_REWARDS = [0.23, 0.11, 0.33, 0.17, 0.41, 0.39, 0.42, 0.3, 0.39, 0.62, 0.45, 0.42, 0.39, 0.45, 0.44, 0.3, 0.41, 0.59,
                0.42, 0.33, 0.64, 0.48, 0.42, 0.55, 0.64, 0.52, 0.59, 0.67, 0.5, 0.72, 0.69, 0.55, 0.86, 0.61, 0.61,
                0.69, 0.61, 0.58, 0.75, 0.73, 0.53, 0.81, 0.81, 0.58, 0.89, 0.64, 0.67, 0.62, 0.92, 0.58, 0.7, 0.73,
                0.73, 0.53, 0.64, 0.75, 0.83, 0.81, 0.77, 0.8]


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_monitor_reward_collapse_fires_on_a_run_that_learned_and_fell_apart_not_on_a_healthy_one(scale):
    """No rule watched the reward itself: a run whose reward rose and then fell to nothing (a blown-up update) with
    the KL term off and entropy rising raised no alarm. The 8-step mean (the demo's 8 prompts a step) 0.3 reward units
    below its best, 3 steps in a row, raises it once; the demo's noisy rise (single steps 0.23 below the best) raises
    nothing."""
    def alarms(rewards):
        m = Monitor(max_new_tokens=100, reward_scale=scale)
        return [(a["step"], a["alarm"]) for s, r in enumerate(rewards, 1)
                for a in m.update({"step": s, "reward_mean": scale * r, "entropy": 1.0 + s / 100})
                if a["alarm"] != "non_finite"]

    assert alarms(DEMO_REWARDS) == []
    assert alarms([0.5 + (0.1 if s % 2 else -0.1) for s in range(60)]) == []  # a noisy plateau
    # the demo's run, then its reward gone (a NaN step between is skipped, not a reset)
    collapsed = [*DEMO_REWARDS, 0.3, float("nan"), 0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert alarms(collapsed) == [(68, "reward_collapse")]
    # raised once while it holds; again after the reward recovered and fell again
    assert alarms([*collapsed, *[0.9] * 10, *[0.0] * 10]) == [(68, "reward_collapse"), (84, "reward_collapse")]

    # a slow drift down is not a collapse: a curriculum's second pass over its pool skips the prompts the policy always
    # solves, and the reward of the prompts drawn falls 0.4 over 200 steps
    assert alarms([*DEMO_REWARDS, *[0.8 - 0.002 * s for s in range(200)]]) == []


@pytest.mark.parametrize("prompts", [1, 3, 8])
def test_monitor_reward_collapse_stays_silent_on_a_healthy_run_of_few_prompts_a_step(prompts):
    """A step's reward varies mostly by which prompts it drew: with 1 prompt a step (difficulties spread over [0, 1])
    a healthy run's 5-step mean fell 0.25 below its best every ~20 steps. The trainer's window covers 64 prompts."""
    import random

    from ponder.rl.monitor import MonitorConfig, collapse_window

    w = collapse_window(prompts)
    assert w * prompts >= 64 and w >= 5 and collapse_window(8) == MonitorConfig().reward_window
    m = Monitor(MonitorConfig(reward_window=w, reward_lookback=10 * w), max_new_tokens=100)
    rng = random.Random(0)
    rewards = [sum(sum(rng.random() < p for _ in range(8)) / 8 for p in [rng.random() for _ in range(prompts)])
               / prompts for _ in range(400)]
    assert not [a for s, r in enumerate(rewards, 1) for a in m.update({"step": s, "reward_mean": r})]


def test_monitor_reward_hacking_stays_silent_while_heldout_accuracy_is_at_its_ceiling():
    """A healthy run of an easy task: greedy held-out accuracy 1.0 from the start (it cannot rise), the sampled
    training reward sharpening 0.5 -> 0.95. The rule read the flat 1.0 as 'held-out did not follow' and raised
    reward_hacking; a held-out accuracy with room to rise still raises it."""
    def alarms(acc):
        m = Monitor(max_new_tokens=100)
        return [a["alarm"] for s in range(1, 31) for a in m.update(
            {"step": s, "reward_mean": 0.5 + 0.015 * s, **({"heldout_accuracy": acc(s)} if s % 5 == 0 else {})})]

    assert "reward_hacking" not in alarms(lambda s: 1.0)
    assert "reward_hacking" in alarms(lambda s: 0.9)


def test_monitor_reward_hacking_fires_when_heldout_accuracy_falls_from_its_ceiling():
    """The ceiling exemption (above) is for a held-out accuracy that stays at 1.0: one that falls from there while
    the training reward climbs is the signature, and was let through."""
    m = Monitor(max_new_tokens=100)
    acc = {5: 1.0, 10: 0.9, 15: 0.8}
    out = [(a["step"], a["alarm"]) for s in range(1, 16) for a in m.update(
        {"step": s, "reward_mean": 0.5 + 0.015 * s, **({"heldout_accuracy": acc[s]} if s in acc else {})})]
    assert out == [(15, "reward_hacking")]


def test_a_data_file_edited_before_resume_is_refused(tmp_path, ckpt):
    """Steps draw prompts by index into the --data items: a file edited between a kill and --resume (rows
    reordered, added) trained on other prompts than the uninterrupted run, silently. The trainer state records the
    items' digest; a resume with other items is refused, the run left as it was; the same items resume."""
    data = tmp_path / "d.jsonl"
    items = [{"id": f"p{i}", "prompt": f"Problem: {i} + 1 = ?\nSolution:", "answer": str(i + 1)} for i in range(5)]
    data.write_text("".join(json.dumps(r) + "\n" for r in items))
    run = train(GRPOConfig(model=str(ckpt), task=None, data=str(data), **ONE_STEP), tmp_path / "r", progress=False)
    data.write_text("".join(json.dumps(r) + "\n" for r in items[::-1]))
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with pytest.raises(PonderError, match=r"trainer_state.pt: saved by a run of other settings or documents .*"
                                          r"the documents' sha256"):
        train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    data.write_text("".join(json.dumps(r) + "\n" for r in items))
    train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert [r["step"] for r in rows(run)] == [1, 2]


def test_an_eval_data_file_edited_before_resume_is_refused(tmp_path, ckpt):
    """--eval-data's rows were read afresh at --resume and in no record: a file edited between a kill and the resume
    measured the rest of the run's heldout_accuracy on other problems (its summary then compared 8 problems'
    accuracy with 3 others'), silently. The trainer state records the held-out items' digest; other items are
    refused, the run left as it was; the same items resume."""
    data, held = tmp_path / "d.jsonl", tmp_path / "h.jsonl"
    items = [{"id": f"p{i}", "prompt": f"Problem: {i} + 1 = ?\nSolution:", "answer": str(i + 1)} for i in range(6)]
    data.write_text("".join(json.dumps(r) + "\n" for r in items[:4]))
    held.write_text("".join(json.dumps(r) + "\n" for r in items[4:]))
    run = train(GRPOConfig(model=str(ckpt), task=None, data=str(data), eval_data=str(held), **ONE_STEP),
                tmp_path / "r", progress=False)
    held.write_text("".join(json.dumps(r) + "\n" for r in items[:2]))
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with pytest.raises(PonderError, match=r"trainer_state.pt: saved by a run of other settings or documents .*"
                                          r"held-out items' sha256 \(--eval-data\)"):
        train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    held.write_text("".join(json.dumps(r) + "\n" for r in items[4:]))
    train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert [r["step"] for r in rows(run)] == [1, 2]


def test_a_temperature_the_learner_would_overflow_on_is_refused():
    """temperature=1e-38 passed validation: the sampler divides the logits' gaps in float64 below 1e-20 (its
    samples and log-probs were fine) but the learner's logits / T overflowed float32 to inf, and every log-prob,
    loss and weight became NaN. The smallest accepted temperature gives the learner the sampler's log-probs."""
    from ponder.engine import TINY_TEMPERATURE, choose_tokens
    from ponder.rl.trainer import head_logprobs

    with pytest.raises(PonderError, match=r"^temperature must be at least 1e-20 .*got 1e-38$"):
        GRPOConfig(temperature=1e-38).validate()
    GRPOConfig(temperature=TINY_TEMPERATURE).validate()
    head = torch.nn.Linear(8, 16, bias=False)
    with torch.no_grad():
        head.weight.copy_(torch.linspace(-30, 30, 128).view(16, 8))  # logits of up to ~1000
    h = torch.linspace(-1, 1, 24).view(3, 8)
    t, lp = choose_tokens(head(h).detach(), torch.arange(3), 0, TINY_TEMPERATURE, 0, 1.0, 0.0)
    assert torch.equal(head_logprobs(head, h, t, TINY_TEMPERATURE)[0].detach(), lp)


@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_the_logged_grad_norm_of_low_precision_weights_is_their_gradients_norm_in_fp32(tmp_path, ckpt, monkeypatch,
                                                                                        dtype):
    """grad_norm is the norm of the gradients the optimizer steps on (grad_clip=inf: unclipped), taken in fp32: for
    bf16 weights torch's clip_grad_norm_ returned it rounded to bf16 (3 significant digits), and clipped by that."""
    from ponder.train import MasterAdamW

    model, tok = ponder.load(ckpt)
    seen = []
    cls = MasterAdamW if dtype == "bfloat16" else torch.optim.AdamW
    real = cls.step

    def step(self, *a, **k):  # the norm of the model's gradients as they are stepped on
        grads = [p.grad.double() for p in model.parameters()]
        seen.append(float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))))
        return real(self, *a, **k)
    monkeypatch.setattr(cls, "step", step)
    from ponder.verify.registry import RewardResult

    def score(reward, texts, items):  # rewards that differ inside groups: a gradient that is not zero
        return [RewardResult(reward=float(len(t) % 3), correct=len(t) % 3 == 0) for t in texts]

    run = train(GRPOConfig(model=str(ckpt), grad_clip=math.inf, **ONE_STEP), tmp_path / "r", progress=False,
                model=model.to(getattr(torch, dtype)), tok=tok, score_fn=score)
    assert len(seen) == 1 and seen[0] > 0
    assert rows(run)[0]["grad_norm"] == pytest.approx(seen[0], rel=1e-6)


def test_fp16_weights_are_refused_before_the_run_is_written(tmp_path, ckpt, monkeypatch):
    """fp16 weights trained with no loss scaling (their small gradients flush to zero, silently): refused in one line
    naming --dtype bfloat16, before anything is sampled or written (a model given, --dtype float16 before the model
    loads, a resume, and the up-front check of --nproc)."""
    import ponder.rl.trainer as rl_trainer

    monkeypatch.setattr(rl_trainer, "sample", lambda *a, **k: pytest.fail("sampled"))
    model, tok = ponder.load(ckpt)
    with pytest.raises(PonderError, match=r"^grpo: the model's weights are float16, .* --dtype bfloat16"):
        train(GRPOConfig(model=str(ckpt), **ONE_STEP), tmp_path / "a", progress=False,
              model=model.to(torch.float16), tok=tok)
    monkeypatch.setattr(ponder.checkpoint, "load", lambda *a, **k: pytest.fail("loaded"))  # (a 7B one: minutes)
    with pytest.raises(PonderError, match=r"^grpo: the model's weights are float16, .* --dtype bfloat16"):
        train(GRPOConfig(model=str(ckpt), dtype="float16", **ONE_STEP), tmp_path / "a", progress=False)
    with pytest.raises(PonderError, match=r"^grpo: the model's weights are float16, .* --dtype bfloat16"):
        rl_trainer.check_inputs(GRPOConfig(model=str(ckpt), dtype="float16", **ONE_STEP), tmp_path / "a")
    assert not (tmp_path / "a").exists()
    monkeypatch.undo()
    run = train(GRPOConfig(model=str(ckpt), **ONE_STEP), tmp_path / "r", progress=False)
    cfg = json.loads((run / "config.json").read_text())
    cfg["grpo"]["dtype"] = "float16"  # (a run recorded in float16 by an older ponder)
    (run / "config.json").write_text(json.dumps(cfg))
    before = {f.name: f.read_bytes() for f in run.iterdir() if f.is_file()}
    with pytest.raises(PonderError, match=rf"^grpo: the model's weights are float16, .* from {run / 'checkpoint'} "
                                          "with --dtype bfloat16"):
        train(GRPOConfig(steps=2), run, resume=True, progress=False)
    assert {f.name: f.read_bytes() for f in run.iterdir() if f.is_file()} == before


def test_the_grpo_vs_trl_bench_draws_the_prompts_the_trainer_draws():
    """bench/grpo_vs_trl.py feeds TRL the prompts Ponder's trainer draws at each step; when _draw began returning
    positions in the pool, the bench crashed before TRL's run ('int' object is not subscriptable)."""
    import importlib.util
    import types
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "grpo_vs_trl.py"
    spec = importlib.util.spec_from_file_location("bench_grpo_vs_trl", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    pool = [{"id": f"p{i}", "prompt": f"q{i}", "answer": str(i)} for i in range(10)]
    a = types.SimpleNamespace(prompts_per_step=3, seed=0, steps=2)
    steps = bench.step_prompts(pool, a)
    from ponder.rl.trainer import _draw

    assert steps == [[pool[i] for i in _draw(pool, 3, 0, s, 0, None)] for s in range(2)]
    assert all(len(s) == 3 and all(isinstance(it, dict) for it in s) for s in steps)


def test_rewards_lost_to_sandbox_errors_are_counted_and_raise_an_alarm_that_stops_nothing(tmp_path, ckpt, monkeypatch):
    """The code verifier scores a program whose sandbox failed (could not start: fork refused, a full disk) 0 with
    the reason "sandbox error: ...". The step's row counted only "no answer" reasons, so a run whose rewards were
    the machine's failures read as a model that was wrong. Counted in sandbox_errors, raised once as an alarm;
    --stop-on-alarm goes on (the verifier returns it so that one transient failure does not end a run)."""
    from ponder.verify import code
    from ponder.verify.verdict import Verdict

    real = code.check_code
    calls = []

    def no_start(c, *a, **k):
        if c is None:  # check_items parses the tests
            return real(c, *a, **k)
        calls.append(c)
        return Verdict(False, c, "sandbox error: could not start the sandbox: Resource temporarily unavailable")

    monkeypatch.setattr(code, "check_code", no_start)
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"id": f"c{i}", "prompt": f"Write f(x) = x + {i}.", "answer": "-",
                                        "tests": [f"assert f(1) == {i + 1}"]}) + "\n" for i in range(4)))
    cfg = GRPOConfig(model=str(ckpt), task=None, data=str(data), eval_data=str(data), reward="code",
                     stop_on_alarm=True, **{**SMALL, "steps": 2, "eval_every": 2, "save_every": 2,
                                            "prompts_per_step": 2})
    run = train(cfg, tmp_path / "r", progress=False)
    r = rows(run)
    assert [x["step"] for x in r] == [1, 2] and "stopped_early" not in r[0]
    assert r[0]["sandbox_errors"] == r[0]["samples"] == 8 and r[1]["sandbox_errors"] == 8
    # the held-out accuracy (0) says how much of it the machine took: every one of its 4 completions
    assert "heldout_sandbox_errors" not in r[0] and r[1]["heldout_sandbox_errors"] == 4
    alarms = [json.loads(x) for x in (run / "alarms.jsonl").read_text().splitlines()]
    assert [(a["step"], a["alarm"]) for a in alarms if a["alarm"] == "sandbox_error"] == [(1, "sandbox_error")]


def test_monitor_raises_sandbox_errors_when_they_start_and_again_after_they_clear():
    m = Monitor(max_new_tokens=100)
    counts = [0, 3, 5, 0, 0, 1]
    out = [(a["step"], a["alarm"]) for s, n in enumerate(counts, 1)
           for a in m.update({"step": s, "sandbox_errors": n, "samples": 8})]
    assert out == [(2, "sandbox_error"), (6, "sandbox_error")]
    assert "3 of 8 completions" in m.raised[0]["message"]
    # an evaluation's alone counts too (its held-out accuracy is what reward_hacking compares)
    m = Monitor(max_new_tokens=100)
    out = m.update({"step": 1, "sandbox_errors": 0, "samples": 8, "heldout_sandbox_errors": 2,
                    "heldout_accuracy": 0.0})
    assert [a["alarm"] for a in out] == ["sandbox_error"] and out[0]["message"].startswith("2 held-out completions")


def test_monitor_resumed_from_a_checkpoint_before_the_streak_rename_raises_no_second_sandbox_alarm():
    """The sandbox errors' streak was saved as streaks["sandbox"] before judge_overflow joined it (now
    streaks["sandbox_error"]): a run resumed from such a checkpoint while its sandbox still failed raised
    sandbox_error a second time, where the uninterrupted run raises it once."""
    m = Monitor(max_new_tokens=100)
    m.update({"step": 1, "sandbox_errors": 3, "samples": 8})
    old = m.state_dict()
    old["streaks"] = {("sandbox" if k == "sandbox_error" else k): v for k, v in old["streaks"].items()}
    resumed = Monitor(max_new_tokens=100)
    resumed.load_state_dict(old)
    assert [a["alarm"] for a in resumed.update({"step": 2, "sandbox_errors": 2, "samples": 8})] == []


def test_judge_verdicts_on_responses_past_its_context_are_counted_per_step(tmp_path, ckpt, tokenizer):
    """A local judge scores a response too long for its context 0 (the item's verdict, not an error that ends the
    run): the step's row counts them in judge_overflow, so that a reward lowered by the judge's context does not
    read as a policy that was wrong."""
    from ponder.engine import render_prompts
    from ponder.verify.judge import JUDGE_OVERFLOW, PROMPT_TEMPLATE, make_judge
    from ponder.verify.registry import get_reward

    empty = len(render_prompts(tokenizer, [PROMPT_TEMPLATE.format(rubric="r", prompt="", completion="",
                                                                  max_score=10)])[0])
    mcfg = ponder.ModelConfig(vocab_size=320, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                              num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=empty + 13)
    judge = make_judge(ponder.Transformer(mcfg).init_weights(0).eval(), tokenizer, rubric="r")
    graded, overflows = get_reward("judge", judge=judge), []

    def score(reward, texts, items):
        res = [graded(t, it) for t, it in zip(texts, items)]
        overflows.extend(r.parts["judge"]["reason"].startswith(JUDGE_OVERFLOW) for r in res)
        return res

    run = train(GRPOConfig(model=str(ckpt), **ONE_STEP), tmp_path / "r", progress=False, score_fn=score)
    r = rows(run)
    assert r[0]["judge_overflow"] == sum(overflows) > 0 and r[0]["sandbox_errors"] == 0
    # raised as an alarm too, as rewards lost to a sandbox are (the held-out evaluation's reward has no judge: 0)
    assert r[0]["heldout_judge_overflow"] == 0 and "judge_overflow" in r[0]["alarms"]
    alarms = [json.loads(x) for x in (run / "alarms.jsonl").read_text().splitlines()]
    msg = next(a["message"] for a in alarms if a["alarm"] == "judge_overflow")
    assert msg.startswith(f"{sum(overflows)} of {r[0]['samples']} completions were scored 0 as too long for the judge")

    # the held-out evaluation counts its own (its accuracy, lowered by them, is what reward_hacking compares)
    from ponder.rl.trainer import greedy_accuracy
    model, tok = ponder.load(ckpt)
    items = ponder.tasks.generate("arith", "test", n=3)
    counts = {}
    acc = greedy_accuracy(model, tok, items, graded, GRPOConfig(model=str(ckpt), **ONE_STEP), counts)
    assert acc == 0 and counts == {"sandbox_errors": 0, "judge_overflow": 3}


def test_monitor_raises_judge_overflow_when_it_starts_and_again_after_it_clears():
    m = Monitor(max_new_tokens=100)
    counts = [0, 2, 4, 0, 1]
    out = [(a["step"], a["alarm"]) for s, n in enumerate(counts, 1)
           for a in m.update({"step": s, "judge_overflow": n, "sandbox_errors": 0, "samples": 8})]
    assert out == [(2, "judge_overflow"), (5, "judge_overflow")]
    assert m.raised[0]["message"].startswith("2 of 8 completions were scored 0 as too long for the judge's context")
    m = Monitor(max_new_tokens=100)
    out = m.update({"step": 1, "judge_overflow": 0, "heldout_judge_overflow": 3, "heldout_accuracy": 0.0})
    assert [a["alarm"] for a in out] == ["judge_overflow"] and out[0]["message"].startswith("3 held-out completions")


def test_a_tokenizer_past_the_model_embedding_is_refused_before_the_run_is_written(tmp_path, tokenizer, monkeypatch):
    """checkpoint.save refuses a tokenizer with more tokens than the model's embedding (a "<pad>" added after the
    model was made: its checkpoint would not load). A model given with one sampled and trained to its first save
    (kl off) or failed saving the reference, its run directory half written; refused first, as sft and distill."""
    from tokenizers import Tokenizer as HFTokenizer

    import ponder.rl.trainer as rl_trainer

    hf = HFTokenizer.from_str(tokenizer.tok.to_str())
    hf.add_special_tokens(["<pad>"])
    tok = ponder.Tokenizer(hf, eos_token=tokenizer.eos_token, pad_token="<pad>")
    cfg = ponder.ModelConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, intermediate_size=32,
                             num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1)
    monkeypatch.setattr(rl_trainer, "sample", lambda *a, **k: pytest.fail("sampled"))
    for preset in ("grpo", "dapo"):
        with pytest.raises(PonderError, match=rf"^grpo: the tokenizer has token ids up to {tok.vocab_size - 1} but the model's "
                                              rf"embedding only {cfg.vocab_size} rows"):
            train(GRPOConfig(model="given", preset=preset, **ONE_STEP), tmp_path / "r", progress=False,
                  model=ponder.Transformer(cfg).init_weights(0), tok=tok)
        assert not (tmp_path / "r").exists()


def test_a_custom_verifier_raising_in_the_single_process_names_the_input_and_its_item(tmp_path, ckpt, monkeypatch):
    """A custom verifier raising on one completion was a bare "KeyError: 'gold'" in the single process (the Ray and
    data-parallel paths name the input and its item): the rollouts' scoring and the held-out accuracy name them."""
    from ponder.rl.trainer import greedy_accuracy
    from ponder.verify.registry import VERIFIERS, get_reward
    from ponder.verify.verdict import Verdict

    def needs_gold(completion, item, judge=None, think_open=False):
        return Verdict(item["gold"] == completion, None, "")

    monkeypatch.setitem(VERIFIERS, "needs_gold", needs_gold)
    with pytest.raises(PonderError, match=r"^scoring input 1 of 12 \(item \S+\): KeyError: 'gold'$"):
        train(GRPOConfig(model=str(ckpt), **{**SMALL, "steps": 1, "eval_every": 5}, reward="needs_gold"),
              tmp_path / "r", progress=False)
    model, tok = ponder.load(ckpt)
    items = [{"id": "h0", "prompt": "1+1=", "answer": "2", "gold": "x"}, {"id": "h1", "prompt": "2+2=", "answer": "4"}]
    with pytest.raises(PonderError, match=r"^scoring input 2 of 2 \(item h1\): KeyError: 'gold'$"):
        greedy_accuracy(model, tok, items, get_reward("needs_gold"), GRPOConfig(max_new_tokens=4))


def test_a_scorer_error_in_a_dynamic_sampling_refill_says_it_counts_the_refills_inputs(tmp_path, ckpt, monkeypatch):
    """A refill round's completions are scored together, apart from the step's first round: a scorer's error said
    "scoring input 6 of 12", read as the step's sixth completion (the first round's). It says the refill."""
    from ponder.verify.registry import VERIFIERS
    from ponder.verify.verdict import Verdict

    calls = []

    def flat_then_needs_gold(completion, item, judge=None, think_open=False):  # every group flat: all refilled
        calls.append(item)
        if len(calls) == 12 + 6:  # the refill's sixth input
            return Verdict(item["gold"] == completion, None, "")
        return Verdict(False, None, "")

    monkeypatch.setitem(VERIFIERS, "flat_then_needs_gold", flat_then_needs_gold)
    with pytest.raises(PonderError, match=r"^step 1, dynamic-sampling refill 1: scoring input 6 of 12 \(item \S+\): "
                                          r"KeyError: 'gold'$"):
        train(GRPOConfig(model=str(ckpt), **{**SMALL, "steps": 1, "eval_every": 5}, preset="dapo", max_refill=2,
                         reward="flat_then_needs_gold"), tmp_path / "r", progress=False)


def test_readme_names_every_field_of_grpo_metrics_jsonl(tmp_path, ckpt):
    """README lists what metrics.jsonl holds per step, but heldout_accuracy (the run's headline figure), grad_norm,
    lr, gen_rounds, groups_trained, samples, pad_frac and the timings were in no document: a researcher reading a
    field could not learn what it measures (grad_norm before or after clipping?). Every field a run writes is named."""
    readme = Path(ponder.__file__).parent.parent / "README.md"
    if not readme.exists():  # an installed package without its checkout
        pytest.skip("README.md is not beside the package")
    run = train(GRPOConfig(model=str(ckpt), **{**ONE_STEP, "eval_every": 1}), tmp_path / "r", progress=False)
    fields = {k for r in rows(run) for k in r} - {"step"}
    assert "heldout_accuracy" in fields
    text = readme.read_text(encoding="utf-8")
    assert sorted(k for k in fields if f"`{k}`" not in text) == []


def test_grpo_records_its_thread_count_and_resume_continues_at_it(tmp_path, ckpt, capsys):
    """As sft's: a run resumed without --threads continued at torch's default count, not the one it trained with
    (its losses and ratios ~1e-7 apart from the first resumed step). config.json records the count and a resume
    sets it; another given is allowed, and said."""
    was = torch.get_num_threads()
    seen = []
    try:
        torch.set_num_threads(1)
        run = train(GRPOConfig(model=str(ckpt), **ONE_STEP), tmp_path / "r", progress=False)
        assert json.loads((run / "config.json").read_text())["grpo"]["threads"] == 1
        torch.set_num_threads(2)
        train(GRPOConfig(steps=2), run, resume=True, progress=False,
              on_log=lambda row: seen.append(torch.get_num_threads()))
        assert seen == [1] and "bit-identical" not in capsys.readouterr().err
        train(GRPOConfig(steps=3, threads=2), run, resume=True, progress=False,
              on_log=lambda row: seen.append(torch.get_num_threads()))
        assert seen == [1, 2] and "resume: --threads 2: the run trained on 1 torch thread;" in capsys.readouterr().err
        # recorded (with the new step target): the next plain resume continues at 2, not the run's first 1
        conf = json.loads((run / "config.json").read_text())["grpo"]
        assert (conf["threads"], conf["steps"]) == (2, 3)
        torch.set_num_threads(1)
        train(GRPOConfig(steps=4), run, resume=True, progress=False,
              on_log=lambda row: seen.append(torch.get_num_threads()))
        assert seen == [1, 2, 2]
    finally:
        torch.set_num_threads(was)


def test_grpo_resume_refused_with_another_threads_is_one_line(tmp_path, ckpt, capsys):
    """A finished run resumed with --threads 2 (it trained on 1) printed the 'may not be bit-identical' note and
    then the refusal: two lines for a resume that never ran. The note is said only once the resume passed its
    checks."""
    was = torch.get_num_threads()
    try:
        run = train(GRPOConfig(model=str(ckpt), threads=1, **ONE_STEP), tmp_path / "r", progress=False)
        capsys.readouterr()
        with pytest.raises(PonderError, match="the run is at step 1 of 1"):
            train(GRPOConfig(steps=1, threads=2), run, resume=True, progress=False)
        assert capsys.readouterr().err == ""
    finally:
        torch.set_num_threads(was)


@pytest.mark.parametrize("ratio,clip", [("token", "symmetric"), ("token", "dual"), ("sequence", "clip_higher")])
def test_an_on_policy_step_with_a_clipped_ratio_is_the_reinforce_step(tmp_path, ckpt, ratio, clip):
    """One pass, one minibatch: the policy that trains is the one that sampled, every ratio is 1, no clip acts,
    so the update is REINFORCE's (ratio=none, clip=none) with the same advantages and aggregation, weight for
    weight; a GSPO sequence ratio too."""
    from ponder.verify.registry import RewardResult

    def score(reward, texts, items):
        return [RewardResult(reward=float(len(t) % 3), correct=len(t) % 3 == 0) for t in texts]

    eps = {"symmetric": (0.2, 0.2), "dual": (0.2, 0.2), "clip_higher": (3e-4, 4e-4)}[clip]
    objectives = {"clipped": {"ratio": ratio, "clip": clip, "eps_low": eps[0], "eps_high": eps[1]},
                  "reinforce": {"ratio": "none", "clip": "none"}}
    weights = {}
    for name, over in objectives.items():
        cfg = {**ONE_STEP, "preset": "grpo", "objective": {"kl": "off", "beta": 0.0, **over}}
        run = train(GRPOConfig(model=str(ckpt), **cfg), tmp_path / name, progress=False, score_fn=score)
        assert rows(run)[0]["grad_norm"] > 1e-3
        weights[name] = ponder.load(run / "checkpoint")[0].state_dict()
    start = ponder.load(ckpt)[0].state_dict()
    assert any((weights["reinforce"][k] - start[k]).abs().max() > 1e-6 for k in start)
    for k, v in weights["reinforce"].items():
        torch.testing.assert_close(weights["clipped"][k], v, atol=1e-7, rtol=0, msg=k)


def test_a_new_run_seeds_the_global_generators_from_its_seed(tmp_path, ckpt, one_step_run):
    """A run's torch and Python generators (what a resume restores; a caller's generate_fn or score_fn that draws
    from them draws the same) were left as the process had them, seeded at random: two runs of one seed saved
    other RNG states in their checkpoints, so no resumed run could equal an uninterrupted one there."""
    import random

    random.seed(12345)
    torch.manual_seed(12345)
    run = train(GRPOConfig(model=str(ckpt), **ONE_STEP), tmp_path / "again", progress=False)
    a, b = (torch.load(r / "checkpoint" / "trainer_state.pt", weights_only=True) for r in (one_step_run, run))
    assert torch.equal(a["torch_rng"], b["torch_rng"])
    assert list(a["python_rng"][1]) == list(b["python_rng"][1])
