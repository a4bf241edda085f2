"""`ponder demo`: the whole story on the built-in tiny model in a few CPU minutes.

1. measure held-out greedy pass@1 (with a bootstrap interval) on the task's test split;
2. run RL (GRPO, or the objective preset given) with live progress;
3. measure again;
4. sweep self-consistency (majority vote, answers grouped by the math verifier's equivalence) at
   N = 1, 2, 4, 8, 16 before and after: accuracy vs generated tokens;
5. write runs/<name>/: metrics, final checkpoint, PNG plots, summary.json — and print a summary table.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import checkpoint
from .errors import PonderError


@dataclass
class DemoConfig:
    model: str = "tiny"
    task: str = "arith"
    preset: str = "grpo"
    objective: dict = field(default_factory=dict)
    steps: int = 60
    prompts_per_step: int = 8
    group_size: int = 8
    lr: float = 5e-5  # Adam moves every weight ~lr per step even on noisy gradients: keep RL steps small
    max_new_tokens: int = 64
    eval_n: int = 200
    sweep_n: int = 100  # problems in the self-consistency sweep
    sweep_ns: tuple = (1, 2, 4, 8, 16)
    sweep_temperature: float = 1.0
    seed: int = 0

    @classmethod
    def quick(cls, **kw) -> DemoConfig:
        """A CI-sized run: the same code path, a fraction of the work."""
        return cls(**{**dict(steps=4, prompts_per_step=4, group_size=4, eval_n=40, sweep_n=16, sweep_ns=(1, 2, 4)),
                      **kw})


def greedy_eval(model, tok, items, reward, max_new_tokens: int, seed: int = 0) -> dict:
    """Greedy pass@1 with its 95% interval over problems (Wilson: each problem is right or wrong)."""
    from .engine import sample
    from .metrics import mean_ci

    outs = sample(model, tok, [it["prompt"] for it in items], n=1, max_new_tokens=max_new_tokens, temperature=0.0)
    correct = [float(reward(o[0].text, it).correct) for o, it in zip(outs, items)]
    mean, lo, hi = mean_ci(correct, seed=seed)
    steps_share = sum(_works_steps(o[0].text) for o in outs) / len(outs)
    return {"accuracy": mean, "lo": lo, "hi": hi, "n": len(items), "step_by_step_share": steps_share,
            "mean_tokens": sum(o[0].num_tokens for o in outs) / len(outs),
            "examples": [{"prompt": it["prompt"], "completion": o[0].text, "gold": it["answer"],
                          "correct": bool(c)} for o, it, c in list(zip(outs, items, correct))[:5]]}


def _works_steps(text: str) -> bool:
    """A completion that starts with a computation (`3 + 4 = 7.`) rather than an answer phrase."""
    t = text.lstrip()
    return bool(t) and (t[0].isdigit() or (t[0] == "-" and t[1:2].isdigit()))


def self_consistency(model, tok, items, cfg: DemoConfig, label: str) -> dict:
    """maj@N curve for N in cfg.sweep_ns from one draw of the largest N (evaluate.sweep), judged by the task's
    verifier as the greedy accuracy is (sweep's default, math, accepts a countdown's bare target)."""
    from .evaluate import sweep
    from .tasks import default_reward

    res = sweep({label: (model, tok)}, items, parallel_ns=cfg.sweep_ns, methods=("majority",),
                max_new_tokens=cfg.max_new_tokens, temperature=cfg.sweep_temperature, seed=cfg.seed,
                reward=default_reward(cfg.task), progress=False)
    return res["curves"][0]


def run_demo(cfg: DemoConfig, out_dir: str | Path, *, progress: bool = True, log=print) -> dict:
    from .fileio import check_writable
    from .report import plot_scaling, plot_training
    from .rl.trainer import GRPOConfig, objective_config, train
    from .tasks import default_reward, generate
    from .train import atomic_write_text
    from .verify.registry import get_reward

    t_start = time.perf_counter()
    out = Path(out_dir)
    if str(out) in ("", "."):
        raise PonderError("--out: give a directory for the demo's run")
    if (out / "config.json").exists():  # (a run's training.png and an eval's summary.json were written over)
        raise PonderError(f"{out}: holds {_holder(out / 'config.json')}, whose files the demo would replace; "
                          "choose another --out")
    if (out / "summary.json").exists():
        raise PonderError(f"{out}: already holds a finished demo; choose another --out")
    if (out / "grpo").exists():  # (train() would refuse it only after the first evaluations)
        raise PonderError(f"{out}: holds an interrupted demo (its grpo/ run); the demo does not resume: "
                          "remove the directory or choose another --out")
    # a user's own file of one of the demo's names (its plots, scaling.csv/json) was written over
    taken = [f for f in ("training.png", "scaling_tokens.png", "scaling_latency.png", "scaling.csv", "scaling.json")
             if (out / f).exists()]
    if taken:
        raise PonderError(f"{out}: holds {taken[0]}, which the demo would replace; choose another --out")
    # everything checked before the first file is written or the first minute spent: the folder too (a file, or
    # one that takes no files, failed at its mkdir as a bare OSError or at train() after the first stages)
    check_writable(out / "summary.json")
    reward = get_reward(default_reward(cfg.task))
    gcfg = GRPOConfig(model=cfg.model, task=cfg.task, reward=default_reward(cfg.task), preset=cfg.preset,
                      objective=dict(cfg.objective), steps=cfg.steps, prompts_per_step=cfg.prompts_per_step,
                      group_size=cfg.group_size, max_new_tokens=cfg.max_new_tokens, lr=cfg.lr, seed=cfg.seed,
                      eval_every=10**9, eval_n=cfg.eval_n, save_every=max(1, cfg.steps), tensorboard=True)
    gcfg.validate()
    filtered = objective_config(gcfg).group_filter  # (an unknown preset fails here)
    # the trainer's advice names grpo's --group-filter and --curriculum, which the demo does not have
    hints = {"zero_variance_groups": "try a harder/easier --task" if filtered else
             "try --preset dapo (it drops such groups and draws more) or a harder/easier --task"}
    model, tok = checkpoint.load(cfg.model)
    test = generate(cfg.task, "test", max(cfg.eval_n, cfg.sweep_n), seed=0)
    eval_items, sweep_items = test[: cfg.eval_n], test[: cfg.sweep_n]
    out.mkdir(parents=True, exist_ok=True)

    log(f"[1/4] held-out greedy pass@1 before RL ({cfg.eval_n} {cfg.task} test problems)")
    before = greedy_eval(model, tok, eval_items, reward, cfg.max_new_tokens, cfg.seed)
    sweep_before = self_consistency(model, tok, sweep_items, cfg, "before RL")
    log(f"      {before['accuracy']:.1%} [{before['lo']:.1%}, {before['hi']:.1%}]")

    # (the method by its name: RLOO and REINFORCE are no GRPO, "GRPO (rloo)" said they were)
    method = {"grpo": "GRPO", "dr_grpo": "Dr. GRPO", "dapo": "DAPO", "gspo": "GSPO", "rloo": "RLOO",
              "reinforce": "REINFORCE"}.get(cfg.preset, cfg.preset)
    log(f"[2/4] RL, {method} (preset {cfg.preset}), for {cfg.steps} steps, {cfg.prompts_per_step} prompts x "
        f"{cfg.group_size}")
    t_rl = time.perf_counter()
    run = train(gcfg, out / "grpo", progress=progress, model=model, tok=tok, hints=hints)
    rl_seconds = time.perf_counter() - t_rl

    log("[3/4] held-out greedy pass@1 after RL")
    after = greedy_eval(model, tok, eval_items, reward, cfg.max_new_tokens, cfg.seed)
    log(f"      {after['accuracy']:.1%} [{after['lo']:.1%}, {after['hi']:.1%}]")

    log(f"[4/4] self-consistency sweep N={list(cfg.sweep_ns)} on {cfg.sweep_n} problems, before and after")
    sweep_after = self_consistency(model, tok, sweep_items, cfg, "after RL")
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    plots = {"training": str(plot_training(rows, out / "training.png"))}
    plots.update({k: str(v) for k, v in plot_scaling([sweep_before, sweep_after], out / "scaling").items()})
    summary = {
        "model": cfg.model, "task": cfg.task, "preset": cfg.preset, "steps": cfg.steps,
        "accuracy_before": {k: before[k] for k in ("accuracy", "lo", "hi", "n")},
        "accuracy_after": {k: after[k] for k in ("accuracy", "lo", "hi", "n")},
        "gain_points": round(100 * (after["accuracy"] - before["accuracy"]), 9),  # (not 53.499999999999986)
        "self_consistency_problems": len(sweep_items),
        "step_by_step_share": {"before": before["step_by_step_share"], "after": after["step_by_step_share"]},
        "mean_greedy_tokens": {"before": before["mean_tokens"], "after": after["mean_tokens"]},
        "self_consistency": {"before": sweep_before["points"], "after": sweep_after["points"]},
        "rl_seconds": rl_seconds, "seconds": time.perf_counter() - t_start,
        "run_dir": str(out), "checkpoint": str(run / "checkpoint"), "plots": plots,
        "examples_after": after["examples"],
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    return summary


def _holder(config: Path) -> str:
    """What a directory's config.json says it holds, for messages ("a 'grpo' run", "a model checkpoint")."""
    from .train import kind_phrase

    try:
        saved = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = None
    if isinstance(saved, dict) and isinstance(saved.get("kind"), str):
        return kind_phrase(saved)
    return "a model checkpoint" if isinstance(saved, dict) and "model_type" in saved else "a config.json"


def format_summary(s: dict) -> str:
    b, a = s["accuracy_before"], s["accuracy_after"]
    # no leading blank line: `ponder demo > table.txt` began with one (the CLI puts it on stderr, after its notes)
    lines = [
        f"Ponder demo — {s['model']} on {s['task']} ({b['n']} held-out problems), {s['preset']} x {s['steps']} steps",
        f"{'':28}{'before RL':>22}{'after RL':>22}",
        f"{'greedy pass@1 (95% CI)':28}{_pct(b):>22}{_pct(a):>22}",
        f"{'works step by step':28}{s['step_by_step_share']['before']:>22.0%}{s['step_by_step_share']['after']:>22.0%}",
        f"{'mean greedy tokens':28}{s['mean_greedy_tokens']['before']:>22.1f}{s['mean_greedy_tokens']['after']:>22.1f}",
    ]
    if s.get("self_consistency_problems", b["n"]) != b["n"]:  # the sweep runs on the first of them
        lines.append(f"self-consistency on the first {s['self_consistency_problems']} of them:")
    for pb, pa in zip(s["self_consistency"]["before"], s["self_consistency"]["after"]):
        lines.append(f"{'self-consistency maj@' + str(pb['budget']):28}{_pct(pb):>22}{_pct(pa):>22}")
    lines += [f"gain: {s['gain_points']:+.1f} points; RL {s['rl_seconds']:.0f} s, total {s['seconds']:.0f} s",
              f"run directory: {s['run_dir']}  (plots: training.png, scaling_tokens.png; "
              f"report: ponder report {s['run_dir']})"]
    return "\n".join(lines)


def _pct(d: dict) -> str:
    return f"{d['accuracy']:.1%} [{d['lo']:.0%}, {d['hi']:.0%}]"
