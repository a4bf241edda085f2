"""Ponder's GRPO vs TRL's GRPOTrainer: same model, prompts, reward and settings, side by side (CPU, fp32).

Both sides start from the same weights (Ponder's checkpoint exported to HF format), train for the same
number of steps on the same prompts in the same order (each step: P prompts x G samples, one optimizer
step), with the same reward (Ponder's math verifier), objective (GRPO: group mean/std advantage, token
ratio clipped at 0.2, per-sequence token mean then batch mean, k3 KL with beta 0.04, one update per batch;
checked first: both sides' loss and gradient on one identical batch, `objective_parity` in the output)
and optimizer (AdamW betas 0.9/0.99, Ponder's linear warmup, grad-norm clip 1.0). Held-out accuracy
before and after is measured the same way for both: greedy decoding with Ponder's engine on the arith
test split, scored by the math verifier; TRL's trained model is read back through save_pretrained ->
ponder.load. Seconds per step = wall time of each training loop / steps (model loading, held-out evals and
Ponder's metrics plot excluded; Ponder's still counts its trainer's setup and its reference and final
checkpoint writes, about 1 s a run, TRL's not its trainer's construction: `step_s_mean` is the loop alone). Prints one JSON object on stdout; progress goes to stderr.

    python bench/grpo_vs_trl.py [--model tiny] [--steps 30] [--prompts-per-step 8] [--group-size 8]
                                [--lr 2e-4] [--max-new-tokens 96] [--eval-n 200] [--threads 1] [--seeds 1]

One RL run is noisy (which problems a 30-step run happens to fix moves held-out accuracy by several points),
so `--seeds N` repeats both sides on N seeds (each its own prompt order and sampling streams) and compares
the mean gains; every run is also reported. `--combine A.json B.json ...` pools saved outputs of several
invocations (same settings, disjoint seeds) into one summary without training anything.
"""

import argparse
import contextlib
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ponder  # noqa: E402
from ponder.cli import _positive_int as positive  # noqa: E402  (argparse's type for a count >= 1)
from ponder.rl import trainer as ponder_rl  # noqa: E402
from ponder.tasks import generate  # noqa: E402
from ponder.tasks.data import load_dataset  # noqa: E402
from ponder.verify.registry import get_reward  # noqa: E402

BETA, EPSILON = 0.04, 0.2  # Ponder's `grpo` preset (objective.PRESETS["grpo"]); TRL gets the same values


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def heldout(model, tok, items, reward, max_new_tokens: int) -> float:
    """Greedy accuracy with Ponder's engine: the one yardstick for both sides (training quality only)."""
    return ponder_rl.greedy_accuracy(model, tok, items, reward, ponder_rl.GRPOConfig(max_new_tokens=max_new_tokens))


def step_prompts(pool, a) -> list[list[dict]]:
    """The prompts Ponder's trainer draws at each step (no curriculum, no dynamic sampling: one round)."""
    # (_draw returns indices into the pool; it returned the items themselves before dynamic-sampling refills)
    return [[pool[i] for i in ponder_rl._draw(pool, a.prompts_per_step, a.seed, step, 0, None)]
            for step in range(a.steps)]


class Trajectory:
    """Held-out accuracy every `a.eval_every` steps (`--eval-every`), timed apart so that seconds per step
    leave it out. Greedy decoding draws no random numbers, so the runs train exactly as without it."""

    def __init__(self, a, test, reward):
        self.a, self.test, self.reward, self.points, self.seconds = a, test, reward, [], 0.0

    def due(self, step: int) -> bool:
        return bool(self.a.eval_every) and step % self.a.eval_every == 0

    def __call__(self, step: int, model, tok) -> None:
        if self.due(step):
            t = time.perf_counter()
            self.points.append([step, heldout(model, tok, self.test, self.reward, self.a.max_new_tokens)])
            self.seconds += time.perf_counter() - t


def run_ponder(base_dir: Path, pool_file: Path, work: Path, a, traj: Trajectory) -> tuple[dict, object, object]:
    # `data=` (the same pool the task would draw from) rather than `task=`: with no eval_data the trainer
    # has no held-out items, so no evaluation runs inside the timed loop.
    cfg = ponder_rl.GRPOConfig(
        model=str(base_dir), task=None, data=str(pool_file), reward="math", preset="grpo", steps=a.steps,
        prompts_per_step=a.prompts_per_step, group_size=a.group_size, max_new_tokens=a.max_new_tokens,
        temperature=1.0, top_p=1.0, lr=a.lr, warmup=a.warmup, weight_decay=0.0, grad_clip=1.0,
        micro_batch=a.prompts_per_step * a.group_size, seed=a.seed, train_pool=a.train_pool,
        eval_every=a.steps, save_every=a.steps, tensorboard=False,
    )
    model, tok = ponder.load(base_dir)
    rows = []

    def on_log(row):
        rows.append(row)
        log(f"  ponder step {row['step']}/{a.steps}: reward {row.get('reward_mean', float('nan')):.3f} "
            f"len {row.get('response_length', 0):.1f} gen {row.get('gen_s', 0):.2f}s "
            f"train {row.get('train_s', 0):.2f}s")
        traj(row["step"], model, tok)  # the model is trained in place: this is the step's policy

    # The run's metrics plot (a PNG drawn after the last step, 2-3 s of matplotlib a run; added to train() after
    # the README's figures were measured) is left out, as TRL writes none.
    plot, plot_s = ponder_rl.plot_run, [0.0]

    def timed_plot(*x, **kw):
        t = time.perf_counter()
        try:
            return plot(*x, **kw)
        finally:
            plot_s[0] += time.perf_counter() - t

    ponder_rl.plot_run = timed_plot
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        ponder_rl.train(cfg, work / "ponder_run", progress=False, on_log=on_log, model=model, tok=tok)
    finally:
        ponder_rl.plot_run = plot
    left_out = traj.seconds + plot_s[0]
    wall, cpu = time.perf_counter() - t0 - left_out, time.process_time() - c0 - left_out
    n = len(rows)
    out = {
        "sec_per_step": wall / a.steps,
        "cpu_s_per_step": cpu / a.steps,
        "step_s_mean": sum(r["step_s"] for r in rows) / n,
        "gen_s_per_step": sum(r["gen_s"] for r in rows) / n,
        "train_s_per_step": sum(r["train_s"] for r in rows) / n,
        "train_reward_mean": sum(r["reward_mean"] for r in rows) / n,
        "skipped_steps": sum(bool(r.get("skipped")) for r in rows),
        "trajectory": traj.points,
    }
    return out, model, tok


def run_trl(base_dir: Path, per_step: list[list[dict]], work: Path, reward, a, traj: Trajectory) -> tuple[dict, Path]:
    import transformers
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    model = transformers.AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    tok = transformers.PreTrainedTokenizerFast.from_pretrained(base_dir)
    if tok.pad_token_id is None or tok.eos_token_id is None:
        raise SystemExit(f"{base_dir}/tokenizer_config.json: needs eos_token and pad_token for TRL")
    P, G = a.prompts_per_step, a.group_size
    # The dataset is Ponder's prompt sequence laid out step by step and read in order (shuffle_dataset=False):
    # TRL's RepeatSampler then hands step k exactly Ponder's step-k prompts, each repeated G times.
    ds = Dataset.from_list([{"prompt": it["prompt"], "answer": str(it["answer"])} for step in per_step
                            for it in step])

    expected = [[it["prompt"] for it in step for _ in range(G)] for step in per_step]
    seen = []

    def math_reward(completions, answer, prompts, **_):
        seen.append(list(prompts))
        if seen[-1] != expected[len(seen) - 1]:  # the side-by-side is void unless both sides see the same data
            raise SystemExit(f"TRL step {len(seen)}: prompts differ from Ponder's for that step")
        return [float(reward(c, {"answer": g}).reward) for c, g in zip(completions, answer)]

    args = GRPOConfig(
        output_dir=str(work / "trl_run"), use_cpu=True, bf16=False, fp16=False, report_to="none",
        save_strategy="no", logging_steps=1, disable_tqdm=True, seed=a.seed, data_seed=a.seed,
        max_steps=a.steps, shuffle_dataset=False, dataloader_num_workers=0, dataloader_pin_memory=False,
        # one optimizer step = one generation batch of P prompts x G completions, in one micro-batch
        per_device_train_batch_size=P * G, gradient_accumulation_steps=1, steps_per_generation=1,
        num_generations=G, num_iterations=1, max_completion_length=a.max_new_tokens,
        temperature=1.0, top_p=1.0, top_k=0, repetition_penalty=1.0,
        # TRL's defaults differ from Ponder's grpo preset: loss_type "dapo" (token mean over the batch) and
        # beta 0; "grpo" is the per-sequence token mean averaged over sequences, i.e. seq_mean_token_mean.
        loss_type="grpo", beta=BETA, epsilon=EPSILON, scale_rewards="group", importance_sampling_level="token",
        # Ponder's k3 term is not weighted by the importance ratio (TRL's default since 1.x weights it).
        use_bias_correction_kl=False,
        mask_truncated_completions=False, gradient_checkpointing=False, disable_dropout=True,
        max_grad_norm=1.0, weight_decay=0.0, log_completions=False, use_vllm=False,
    )
    # Ponder's optimizer and schedule, handed to TRL so the update rule is identical: AdamW(0.9, 0.99) and
    # lr * min(1, (step + 1) / warmup) (LambdaLR evaluates the lambda at 0 before the first step).
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.99), weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, a.warmup)))
    rows, marks = [], {}

    class Progress(transformers.TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            marks["t"] = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            marks.setdefault("steps", []).append(time.perf_counter() - marks["t"])

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "reward" in logs:
                rows.append(logs)
                log(f"  trl step {state.global_step}/{a.steps}: reward {logs['reward']:.3f} "
                    f"len {logs.get('completions/mean_length', float('nan')):.1f} "
                    f"step {marks['steps'][-1] if marks.get('steps') else float('nan'):.2f}s")

    class Evaluate(transformers.TrainerCallback):  # TRL's policy read into a Ponder model, same yardstick
        def __init__(self):
            # Built now, before the trainer seeds torch: building a model draws initial weights from torch's
            # generator, which TRL samples from (a model built mid-run changed TRL's samples, measured).
            self.model, self.tok = ponder.load(base_dir) if a.eval_every else (None, None)

        def on_step_end(self, args, state, control, model=None, **kw):
            if not traj.due(state.global_step):
                return
            self.model.load_state_dict({k.removeprefix("model."): v for k, v in model.state_dict().items()})
            traj(state.global_step, self.model, self.tok)

    trainer = GRPOTrainer(model=model, reward_funcs=math_reward, args=args, train_dataset=ds,
                          processing_class=tok, callbacks=[Progress(), Evaluate()], optimizers=(opt, sched))
    torch.set_num_threads(a.threads)  # in case accelerate's CPU setup changed it
    gen_times = []
    inner = trainer._generate_and_score_completions

    def timed(*x, **kw):  # generation + reward + old/ref log-probs, TRL's counterpart of Ponder's gen_s
        t = time.perf_counter()
        try:
            return inner(*x, **kw)
        finally:
            gen_times.append(time.perf_counter() - t)

    trainer._generate_and_score_completions = timed
    t0, c0 = time.perf_counter(), time.process_time()
    trainer.train()
    wall, cpu = time.perf_counter() - t0 - traj.seconds, time.process_time() - c0 - traj.seconds
    steps_t = marks.get("steps", [])
    if trainer.state.global_step != a.steps or len(gen_times) != a.steps:
        raise SystemExit(f"TRL ran {trainer.state.global_step} optimizer steps and {len(gen_times)} "
                         f"generations, expected {a.steps} of each")
    out = {
        "sec_per_step": wall / a.steps,
        "cpu_s_per_step": cpu / a.steps,
        "step_s_mean": sum(steps_t) / max(1, len(steps_t)),
        "gen_s_per_step": sum(gen_times) / a.steps,
        "train_s_per_step": (sum(steps_t) - sum(gen_times)) / a.steps,
        "train_reward_mean": sum(r["reward"] for r in rows) / max(1, len(rows)),
        "trajectory": traj.points,
    }
    final = work / "trl_final"
    trainer.model.save_pretrained(final)
    tok.save_pretrained(final)
    return out, final


def worst_of(diffs: list[float]) -> float:
    """The largest difference, NaN if any is NaN: max() keeps its first argument over a NaN, so a NaN gradient
    on one side passed the parity check."""
    return max(diffs, key=lambda d: (math.isnan(d), d))


def objective_parity(base_dir: Path, work: Path, reward, a) -> dict:
    """Both sides' loss and gradient on one identical batch: the side-by-side is void unless they agree.

    A policy a little off the reference (so the KL term has a gradient), 3 prompts x 4 completions
    sampled by Ponder, Ponder's advantages and reference log-probs handed to TRL's `_compute_loss` on
    an HF copy of the policy; Ponder's side is what its trainer runs (shared-prefix log-probs + policy_loss).
    """
    import transformers
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from ponder.rl import objective as obj

    model, tok = ponder.load(base_dir)
    ref, _ = ponder.load(base_dir)
    g = torch.Generator().manual_seed(a.seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.01)
    policy_dir = ponder.save(model, tok, work / "parity_policy")
    G, items = 4, generate("arith", "train", 3, seed=a.seed + 17)
    outs = ponder.sample(model, tok, [it["prompt"] for it in items], n=G, max_new_tokens=a.max_new_tokens, seed=a.seed)
    rewards = torch.tensor([float(reward(s.text, {"answer": it["answer"]}).reward) for it, grp in zip(items, outs)
                            for s in grp])
    rewards[0], rewards[1] = 1.0, 0.0  # at least one group with a non-zero advantage
    prompts, comps = [grp[0].prompt_ids for grp in outs], [s.token_ids for grp in outs for s in grp]
    owner = torch.arange(len(items)).repeat_interleave(G)
    ocfg = ponder_rl.objective_for("grpo", {}, a.max_new_tokens)
    adv = obj.compute_advantages(rewards, G, ocfg)
    lc, lp = max(map(len, comps)), max(map(len, prompts))
    mask = torch.zeros(len(comps), lc, dtype=torch.bool)
    for i, c in enumerate(comps):
        mask[i, : len(c)] = True
    logp, _ = ponder_rl.shared_prefix_logprobs(model, prompts, owner, comps, 1.0)
    with torch.no_grad():
        refl, _ = ponder_rl.shared_prefix_logprobs(ref, prompts, owner, comps, 1.0)
    loss, _ = obj.policy_loss(logp, logp.detach(), refl, adv, mask, ocfg, **obj.normalizers(mask))
    loss.backward()

    hf = transformers.AutoModelForCausalLM.from_pretrained(policy_dir, dtype=torch.float32)
    htok = transformers.PreTrainedTokenizerFast.from_pretrained(policy_dir)
    args = GRPOConfig(output_dir=str(work / "parity_trl"), use_cpu=True, bf16=False, fp16=False, report_to="none",
                      per_device_train_batch_size=len(comps), num_generations=G, max_completion_length=a.max_new_tokens,
                      loss_type="grpo", beta=BETA, epsilon=EPSILON, scale_rewards="group",
                      importance_sampling_level="token", use_bias_correction_kl=False,
                      mask_truncated_completions=False, disable_dropout=True, max_steps=1)
    trainer = GRPOTrainer(model=hf, reward_funcs=lambda completions, **_: [0.0] * len(completions), args=args,
                          train_dataset=Dataset.from_list([{"prompt": it["prompt"]} for it in items]),
                          processing_class=htok)
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer.train(), which is not running here
    pad = htok.pad_token_id
    P, PM = torch.full((len(comps), lp), pad), torch.zeros(len(comps), lp, dtype=torch.long)
    C = torch.full((len(comps), lc), pad)
    for i, c in enumerate(comps):  # TRL's layout: prompts left-padded, completions right-padded
        pr = prompts[owner[i]]
        P[i, lp - len(pr):], PM[i, lp - len(pr):] = torch.tensor(pr), 1
        C[i, : len(c)] = torch.tensor(c)
    hf.train()
    t_loss = trainer._compute_loss(hf, dict(prompt_ids=P, prompt_mask=PM, completion_ids=C, completion_mask=mask.long(),
                                            advantages=adv, old_per_token_logps=None, ref_per_token_logps=refl,
                                            num_items_in_batch=mask.sum()))
    t_loss.backward()
    hf_params = dict(hf.named_parameters())
    diffs = []
    for n, p in model.named_parameters():
        h = hf_params.get(n if n.startswith("lm_head") else "model." + n)
        h = h if h is not None and h.grad is not None else hf_params["model.embed_tokens.weight"]  # tied head
        diffs.append(float((p.grad - h.grad).norm() / p.grad.norm().clamp(min=1e-12)))
    return {"loss_ponder": float(loss), "loss_trl": float(t_loss), "max_rel_grad_diff": worst_of(diffs),
            "rows": len(comps), "completion_tokens": int(mask.sum())}


# two-sided 95% Student-t quantiles by degrees of freedom (1..30); beyond, the Cornish-Fisher expansion
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042]


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t (table to 30 degrees of freedom, then within 1e-4 of it)."""
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def paired(diffs: list[float]) -> dict:
    """Mean of the per-seed differences with its 95% t-interval (the seeds pair the two sides: same prompts)."""
    n = len(diffs)
    m = sum(diffs) / n
    if n < 2:
        return {"mean": m, "ci95": None, "n": n}
    sd = math.sqrt(sum((d - m) ** 2 for d in diffs) / (n - 1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return {"mean": m, "ci95": [m - half, m + half], "sd": sd, "n": n}


def summarize(runs: list[dict]) -> dict:
    """Both sides' means over the runs (one per seed), the speed ratio, and the paired gain comparison."""
    def mean(side, key):
        return sum(r[side][key] for r in runs) / len(runs)

    keys = ("sec_per_step", "gen_s_per_step", "train_s_per_step", "heldout_after", "gain")
    p_mean = {k: mean("ponder", k) for k in keys}
    t_mean = {k: mean("trl", k) for k in keys}
    ratio = p_mean["sec_per_step"] / t_mean["sec_per_step"]
    diffs = [r["ponder"]["gain"] - r["trl"]["gain"] for r in runs]
    return {
        "ponder": p_mean, "trl": t_mean, "sec_per_step_ratio": ratio,
        "ratio_per_seed": [r["ponder"]["sec_per_step"] / r["trl"]["sec_per_step"] for r in runs],
        "gain_diff_per_seed": diffs,
        # One 30-step run's held-out accuracy swings by several points (greedy answers flip style), so the
        # gain comparison is the paired mean over seeds with its interval, and each side's spread.
        "gain_diff": paired(diffs),
        "gain_sd": {side: statistics.stdev(r[side]["gain"] for r in runs) if len(runs) > 1 else None
                    for side in ("ponder", "trl")},
        "speed_target_met": ratio <= 0.5,
        "gain_target_met": p_mean["gain"] >= t_mean["gain"] and not math.isnan(p_mean["gain"]),
    }


# what must agree for runs from several invocations to be pooled
_SETTINGS = ("model", "steps", "prompts_per_step", "group_size", "lr", "warmup", "max_new_tokens", "temperature",
             "beta", "epsilon", "eval_n", "heldout_before", "trl_version", "transformers_version", "threads")


def combine(files: list[str]) -> dict:
    """Pool the runs of several saved outputs of this bench (the same settings, different seeds)."""
    outs = []
    for f in files:
        try:
            outs.append(json.loads(Path(f).read_text()))
        except (OSError, ValueError) as e:
            raise SystemExit(f"{f}: not a saved output of this bench ({e})") from None
        missing = [k for k in (*_SETTINGS, "runs", "objective_parity") if k not in outs[-1]]
        if missing:
            raise SystemExit(f"{f}: not a saved output of this bench (no {', '.join(missing)})")
    for f, o in zip(files[1:], outs[1:]):
        for k in _SETTINGS:
            if o[k] != outs[0][k]:
                raise SystemExit(f"{f}: {k} = {o[k]!r}, but {files[0]} has {outs[0][k]!r}: runs not comparable")
    runs = [r for o in outs for r in o["runs"]]
    seeds = [r["seed"] for r in runs]
    dup = sorted({x for x in seeds if seeds.count(x) > 1})
    if dup:
        raise SystemExit(f"seed(s) {dup} appear in more than one file: each run may count once")
    return {**{k: outs[0][k] for k in _SETTINGS}, "files": list(files), "seeds": seeds,
            "objective_parity": [o["objective_parity"] for o in outs], **summarize(runs), "runs": runs}



def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="tiny", help="Ponder checkpoint (directory or 'tiny')")
    ap.add_argument("--steps", type=positive, default=30)
    ap.add_argument("--prompts-per-step", type=positive, default=8)
    ap.add_argument("--group-size", type=positive, default=8)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=5, help="linear warmup steps (Ponder's default schedule)")
    ap.add_argument("--max-new-tokens", type=positive, default=96)
    ap.add_argument("--eval-n", type=positive, default=200, help="held-out problems (arith test split)")
    ap.add_argument("--train-pool", type=positive, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=positive, default=1,
                    help="independent runs per side (seed, seed+1, ...); gains and times are averaged over them")
    ap.add_argument("--threads", type=positive, default=1)
    ap.add_argument("--eval-every", type=int, default=0,
                    help="also measure held-out accuracy every K steps on both sides (`trajectory` in each run; "
                         "evaluation time is left out of seconds per step)")
    ap.add_argument("--combine", nargs="+", metavar="FILE",
                    help="pool saved outputs of earlier runs (same settings, different seeds) into one summary "
                         "and exit; nothing is trained")
    a = ap.parse_args(argv)
    if a.combine:
        result = combine(a.combine)
        print(json.dumps(result), flush=True)
        return result
    torch.set_num_threads(a.threads)
    try:
        import transformers
        import trl
    except ImportError as e:  # an optional opponent (`pip install -e '.[bench]'`): one line, not a traceback
        raise SystemExit(f"{Path(__file__).name}: the side compared against cannot be imported ({e}); "
                         "install it with: pip install -e '.[bench]'") from None

    reward = get_reward("math")
    out = sys.stdout
    seeds = [a.seed + i for i in range(a.seeds)]
    # Both trainers print (TRL its log dicts, Ponder its alarms): stdout is kept for the one JSON object.
    with tempfile.TemporaryDirectory(prefix="grpo_vs_trl-") as d, contextlib.redirect_stdout(sys.stderr):
        root = Path(d)
        model, tok = ponder.load(a.model)
        base_dir = ponder.save(model, tok, root / "base")  # the HF-format export both sides start from
        test = generate("arith", "test", a.eval_n, seed=0)

        # The export must be faithful, or the two sides would not start from the same policy.
        hf = transformers.AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()
        ids = torch.tensor([tok.encode(test[0]["prompt"], add_special_tokens=True)])
        with torch.no_grad():
            diff = float((model(ids) - hf(ids).logits).abs().max())
        if not diff < 1e-4:
            raise SystemExit(f"{base_dir}: HF logits differ from Ponder's by {diff:.2e}")
        del hf

        log("objective parity: both sides' loss and gradient on one batch...")
        parity = objective_parity(base_dir, root, reward, a)
        log(f"  loss {parity['loss_ponder']:.6g} vs {parity['loss_trl']:.6g}, "
            f"max relative gradient difference {parity['max_rel_grad_diff']:.1e}")
        if not parity["max_rel_grad_diff"] < 1e-3:
            raise SystemExit(f"the two objectives differ (gradients {parity['max_rel_grad_diff']:.1e} apart)")

        log(f"held-out before ({a.eval_n} problems, greedy)...")
        before = heldout(model, tok, test, reward, a.max_new_tokens)
        log(f"  {before:.3f}")
        del model

        runs = []
        for seed in seeds:  # one seed: its own prompt pool and order, sampling streams and TRL seed
            sa = argparse.Namespace(**{**vars(a), "seed": seed})
            work = root / f"seed{seed}"
            work.mkdir()
            pool = generate("arith", "train", a.train_pool, seed=seed)
            pool_file = work / "pool.jsonl"
            pool_file.write_text("".join(json.dumps(it) + "\n" for it in pool))
            if [it["prompt"] for it in load_dataset(pool_file)] != [it["prompt"] for it in pool]:
                raise SystemExit(f"{pool_file}: the prompt pool did not round-trip through load_dataset")
            per_step = step_prompts(pool, sa)

            log(f"seed {seed}: Ponder GRPO, {a.steps} steps x {a.prompts_per_step} prompts x {a.group_size} samples")
            p_out, p_model, p_tok = run_ponder(base_dir, pool_file, work, sa, Trajectory(sa, test, reward))
            p_after = heldout(p_model, p_tok, test, reward, a.max_new_tokens)
            del p_model
            log(f"  Ponder {p_out['sec_per_step']:.2f} s/step, held-out after {p_after:.3f}")

            log(f"seed {seed}: TRL {trl.__version__} GRPOTrainer, same settings")
            t_out, t_dir = run_trl(base_dir, per_step, work, reward, sa, Trajectory(sa, test, reward))
            t_model, t_tok = ponder.load(t_dir)
            t_after = heldout(t_model, t_tok, test, reward, a.max_new_tokens)
            log(f"  TRL {t_out['sec_per_step']:.2f} s/step, held-out after {t_after:.3f}")
            p_out.update(heldout_after=p_after, gain=p_after - before)
            t_out.update(heldout_after=t_after, gain=t_after - before)
            runs.append({"seed": seed, "ponder": p_out, "trl": t_out})

    result = {
        "model": a.model, "steps": a.steps, "prompts_per_step": a.prompts_per_step, "group_size": a.group_size,
        "lr": a.lr, "warmup": a.warmup, "max_new_tokens": a.max_new_tokens, "temperature": 1.0, "beta": BETA,
        "epsilon": EPSILON, "eval_n": a.eval_n, "seeds": seeds, "objective_parity": parity, "heldout_before": before,
        **summarize(runs), "runs": runs,
        "trl_version": trl.__version__, "transformers_version": transformers.__version__,
        "torch_version": torch.__version__, "threads": torch.get_num_threads(),
    }
    print(json.dumps(result), file=out, flush=True)
    return result


if __name__ == "__main__":
    main()
