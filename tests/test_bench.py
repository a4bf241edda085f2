"""The benchmark scripts' pure helpers (bench/ itself is never run by the tests: see bench/*.py)."""

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench_module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_verify_public_rounding_cases_give_math_verify_the_rounding_ponder_gets(tmp_path):
    """A public case that allows rounding to p decimals gave Ponder a tolerance but math-verify its default
    6-decimal rounding: the README's 262/270 counted 3 such cases (0.3333 vs 1/3 at precision 4, ...) against
    math-verify only."""
    pytest.importorskip("math_verify")
    bv = bench_module("verify")
    (tmp_path / "mathverify_cases.json").write_text(json.dumps([
        {"gold": "$\\frac{1}{3}$", "pred": "0.3333$", "expected": True,
         "options": {"harness": "compare_strings", "precision": 4}},
        {"gold": "$\\frac{1}{3}$", "pred": "0.3333$", "expected": False, "options": {"harness": "compare_strings"}},
    ]))
    cases = bv.public_cases(tmp_path)
    ponder_got = bv.run_ponder(cases)[0]
    mv_got = bv.run_mv(cases)[0]
    assert ponder_got == mv_got == [True, False]


def test_grpo_vs_trl_parity_check_fails_on_a_nan_gradient():
    """max(worst, nan) is worst: a NaN relative gradient difference (one side's loss NaN) was dropped, so the
    objective parity check, `not worst < 1e-3`, passed and the run went on to time two different objectives."""
    g = bench_module("grpo_vs_trl")
    nan = float("nan")
    assert g.worst_of([1e-7, 2e-6]) == 2e-6
    for diffs in ([0.0, nan, 1e-6], [nan, 1e-6], [1e-6, nan]):
        worst = g.worst_of(diffs)
        assert not worst < 1e-3  # what main() checks


@pytest.mark.parametrize("script,argv", [
    ("train", ["--rounds", "0"]), ("train", ["--steps", "0"]), ("generate", ["--repeats", "0"]),
    ("grpo_vs_trl", ["--seeds", "0"]), ("eval_sweep", ["--problems", "0"]), ("tiny_styles", ["--n-problems", "0"]),
    ("scale", ["--repeats", "0"]), ("sft_loss", ["--repeats", "0"]), ("sft_loss", ["--response-share", "-0.5"]),
    ("verify", ["--easy", "0"]),
])
def test_bench_refuses_a_zero_count_before_any_work(script, argv, tmp_path, monkeypatch, capsys):
    """A zero count (--rounds 0, --repeats 0, ...) ran the setup and warm-up, minutes for bench/train.py, then
    ended in a traceback (no median for empty data, division by zero): now argparse's one-line error."""
    import multiprocessing

    import torch

    def started(*_, **__):
        raise AssertionError(f"{script}.py {' '.join(argv)}: started working instead of refusing the argument")

    mod = bench_module(script)
    monkeypatch.setattr(torch, "set_num_threads", started)  # the first thing every bench does after parsing
    monkeypatch.setattr(multiprocessing, "get_context", started)  # sft_loss's sides
    monkeypatch.setattr(mod, "warmup", started, raising=False)  # verify's
    (tmp_path / "mathverify_cases.json").write_text("[]")
    extra = ["--data", str(tmp_path)] if script == "verify" else []
    monkeypatch.setattr("sys.argv", [f"{script}.py", *argv, *extra])
    with pytest.raises(SystemExit) as e:
        mod.main(argv + extra) if script == "verify" else mod.main()
    assert e.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_grpo_vs_trl_ponder_seconds_per_step_leave_out_the_run_plot(monkeypatch, tmp_path):
    """Ponder's seconds per step counted the metrics plot train() draws after its last step (2-3 s of matplotlib
    per run, ~0.1 s a step over 30 steps), which TRL's side has no counterpart of."""
    import argparse

    g = bench_module("grpo_vs_trl")
    clock = [0.0]
    monkeypatch.setattr(g.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(g.time, "process_time", lambda: clock[0])
    monkeypatch.setattr(g.ponder, "load", lambda d: (None, None))

    def plot(run):
        clock[0] += 100.0

    def train(cfg, run, *, on_log, **_):
        for s in range(cfg.steps):
            clock[0] += 1.0
            on_log({"step": s + 1, "step_s": 1.0, "gen_s": 0.5, "train_s": 0.5, "reward_mean": 0.0})
        g.ponder_rl.plot_run(run)

    monkeypatch.setattr(g.ponder_rl, "plot_run", plot)
    monkeypatch.setattr(g.ponder_rl, "train", train)
    a = argparse.Namespace(steps=3, prompts_per_step=2, group_size=2, max_new_tokens=8, lr=1e-4, warmup=1, seed=0,
                           train_pool=10, eval_every=0)
    out, _, _ = g.run_ponder(tmp_path, tmp_path / "pool.jsonl", tmp_path, a, g.Trajectory(a, [], None))
    assert out["sec_per_step"] == out["cpu_s_per_step"] == out["step_s_mean"] == 1.0
    assert g.ponder_rl.plot_run is plot  # put back
