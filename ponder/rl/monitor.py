"""Training-health alarms for RL runs.

Each rule looks at the per-step metric rows and names a failure mode the field keeps meeting:
entropy collapse, runaway length, zero-variance groups dominating, exploding importance ratios, a policy running
away from its KL reference, a reward that rose and then collapsed, rewards the code sandbox failed to give
(scored 0: a machine failure read as a wrong model), and the
reward-hacking signature (training reward rising while held-out accuracy stays flat). Alarms are printed,
written to `alarms.jsonl`, and with `--stop-on-alarm` end the run after a checkpoint.

A condition's alarm is raised once, when the condition starts holding (for the step rules: when it has held
`patience` steps in a row), and again only after it has cleared and come back; a run stuck in one failure mode
logs it once, not at every step or evaluation. "In a row" counts the steps that measured the rule's metric: a step
that logs none (a skipped step's statistics are discarded with its update) neither extends nor breaks the run, as
a ratio that blew up the loss skips its step, and breaking the run there would hide the explosion. `non_finite`
and `skipped_step` are events, not conditions: each names a step whose update was discarded, so each is raised.
The state (streaks, evaluations) is checkpointed, so a resumed run raises exactly the alarms the uninterrupted one
does.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


@dataclass
class MonitorConfig:
    entropy_floor_ratio: float = 0.1  # entropy below 10% of its first-steps value
    length_runaway: float = 0.9  # mean length above 90% of max_new_tokens ...
    truncation_max: float = 0.5  # ... or more than half the completions truncated
    zero_var_max: float = 0.8  # more than 80% of groups carry no signal
    ratio_max: float = 10.0  # any token ratio above this
    # mean per-token KL to the reference (nats) above this: the KL term has lost its hold (GRPO runs sit near 0.01-0.1;
    # the tiny demo's peaks at 0.05)
    kl_max: float = 1.0
    # reward_collapse: the mean reward of the last `reward_window` steps this far (in units of Monitor.reward_scale)
    # below the best such mean of the last `reward_lookback` steps. A run that learned and then falls apart (a blown-up
    # update, training-inference mismatch under low precision, the policy degenerating into repetition) loses its
    # reward first, and can do so with no other alarm: the KL term may be off, the entropy may rise. The window mean,
    # not one step's: a step's reward is noisy, mostly by which prompts it drew, so the trainer sets the window to
    # cover 64 prompts (collapse_window; the tiny demo's 8 steps of 8, whose mean falls at most 0.06 below its best,
    # while single steps swing 0.23). The best is of a bounded past: a collapse is sudden, while a slow drift is what
    # a curriculum does (from its second pass over the pool it skips the prompts the policy always solves). A run
    # stuck at a reward of 0 from the start is zero_variance_groups' case.
    reward_window: int = 8
    reward_drop: float = 0.3
    reward_lookback: int = 80
    patience: int = 3  # consecutive measured steps a condition must hold (one bad step is noise)
    hack_window: int = 3  # held-out evaluations compared for the reward-hacking rule
    hack_reward_rise: float = 0.15  # in units of the reward's scale (Monitor.reward_scale)
    hack_heldout_flat: float = 0.02


def collapse_window(prompts_per_step: int) -> int:
    """reward_collapse's window in steps: enough to cover 64 prompts, and at least 5 steps. Over fewer, the spread
    of the prompts' difficulty alone (per-prompt accuracies spread evenly over [0, 1]) took a healthy run's mean
    0.25 below its best: 1 prompt a step raised the alarm every ~20 steps over a 5-step window."""
    return max(5, math.ceil(64 / max(1, prompts_per_step)))


def reward_scale(reward) -> float:
    """A Reward's unit: its largest |weight| (every verifier's value lies in [0, 1]). 1 for `math`,
    `math+0.1*format` and any other spec whose largest weight is 1; c times that for the spec scaled by c > 0.
    1 for a reward without terms (a user's callable)."""
    terms = getattr(reward, "terms", None)
    s = max((abs(w) for _, w in terms), default=0.0) if terms else 0.0
    return s if s > 0 else 1.0


@dataclass
class Monitor:
    cfg: MonitorConfig = field(default_factory=MonitorConfig)
    max_new_tokens: int = 256
    hints: dict = field(default_factory=dict)  # the run's remedies not yet in use, by alarm (see update)
    # The reward's unit (reward_scale(spec)): the rise threshold scales with it, so `2*math` alarms as `math` does
    reward_scale: float = 1.0
    # The run drops groups whose answers are all right or all wrong and draws more (DAPO's dynamic sampling): its
    # zero_var_frac counts the groups drawn, so a high one means refill work, not a batch without signal
    group_filter: bool = False
    entropy_ref: float | None = None
    streaks: dict = field(default_factory=dict)
    evals: list = field(default_factory=list)  # (step, train reward mean since last eval, heldout acc)
    reward_since_eval: list = field(default_factory=list)
    reward_recent: list = field(default_factory=list)  # the last reward_window finite step rewards
    reward_levels: list = field(default_factory=list)  # those means over the last reward_lookback steps
    raised: list = field(default_factory=list)

    def _streak(self, name: str, cond: bool) -> bool:
        self.streaks[name] = self.streaks.get(name, 0) + 1 if cond else 0
        return self.streaks[name] == max(1, self.cfg.patience)  # raise once, when the streak reaches patience

    def _hacking(self, evals: list) -> tuple[float, float] | None:
        """(reward rise, held-out change) over the last `hack_window` evaluations if they show the signature."""
        c = self.cfg
        if c.hack_window < 2 or len(evals) < c.hack_window:
            return None
        w = evals[-c.hack_window:]
        dr, da = w[-1][1] - w[0][1], w[-1][2] - w[0][2]
        # held-out accuracy staying at its ceiling cannot rise: a healthy run of an easy task (greedy answers all
        # right, sampled ones sharpening) read as hacking. One that falls from there still can be.
        if w[0][2] > 1 - c.hack_heldout_flat and da > -c.hack_heldout_flat:
            return None
        return (dr, da) if dr > c.hack_reward_rise * self.reward_scale and da < c.hack_heldout_flat else None

    def update(self, row: dict) -> list[dict]:
        """Feed one step's metrics; returns the alarms raised at this step."""
        c, step, out = self.cfg, row["step"], []

        def alarm(kind, msg):
            out.append({"step": step, "alarm": kind, "message": msg})

        for k in ("loss", "reward_mean"):
            if k in row and not math.isfinite(row[k]):
                alarm("non_finite", f"{k} is {row[k]}; the step was skipped")
        if row.get("skipped"):
            alarm("skipped_step", row.get("skip_reason", "step skipped"))
        # Rewards the grader failed to give (scored 0): a sandbox that failed (the machine's failure, not the
        # model's), or a response too long for the judge's context (ungraded). A condition raised when it starts,
        # with no patience (one step of them already biases the update): a sandbox that stays broken logs it once,
        # not at every step. (The held-out evaluation's too: its accuracy, lowered by them, is what reward_hacking
        # compares.)
        for kind, key, why in (
                ("sandbox_error", "sandbox_errors", "for a sandbox error (the machine, not the program: see the "
                                                    "verifier's message on stderr, e.g. fork refused or a full disk)"),
                ("judge_overflow", "judge_overflow", "as too long for the judge's context (ungraded: a judge with a "
                                                     "longer context, or a smaller max_new_tokens)")):
            n, held = row.get(key), row.get(f"heldout_{key}")
            if n is None and held is None:
                continue
            self.streaks[kind] = self.streaks.get(kind, 0) + 1 if (n or 0) + (held or 0) > 0 else 0
            if self.streaks[kind] == 1:
                what = [f"{n} of {row.get('samples', '?')} completions" if n else "",
                        f"{held} held-out completions" if held else ""]
                alarm(kind, f"{' and '.join(w for w in what if w)} were scored 0 {why}")
        ent = row.get("entropy")
        if ent is not None and math.isfinite(ent):
            if self.entropy_ref is None:
                self.entropy_ref = ent
            if self._streak("entropy", ent < c.entropy_floor_ratio * self.entropy_ref):
                alarm("entropy_collapse", f"entropy {ent:.3f} < {c.entropy_floor_ratio:.0%} of initial "
                                          f"{self.entropy_ref:.3f}: the policy stopped exploring")
        length, trunc = row.get("response_length"), row.get("truncated_frac", 0.0)
        if length is not None and self._streak(
                "length", length > c.length_runaway * self.max_new_tokens or trunc > c.truncation_max):
            alarm("length_runaway", f"mean response length {length:.0f} of max {self.max_new_tokens}, "
                                    f"{trunc:.0%} truncated")
        zv = row.get("zero_var_frac")
        if zv is not None and self._streak("zero_var", zv > c.zero_var_max):
            hint = self.hints.get("zero_variance_groups", "try --group-filter or a harder/easier task")
            if not self.group_filter:
                alarm("zero_variance_groups", f"{zv:.0%} of groups have equal rewards: no learning signal ({hint})")
            else:
                alarm("zero_variance_groups", f"{zv:.0%} of the groups drawn had equal rewards: dynamic sampling "
                                              f"dropped them and drew more ({row.get('gen_rounds', '?')} generation "
                                              f"rounds, {row.get('groups_trained', '?')} groups trained) ({hint})")
        rmax = row.get("ratio_max")
        if rmax is not None and self._streak("ratio", rmax > c.ratio_max):
            alarm("ratio_explosion", f"importance ratio reached {rmax:.1f} (> {c.ratio_max})")
        kl = row.get("kl_mean")
        if kl is not None and math.isfinite(kl) and self._streak("kl", kl > c.kl_max):
            alarm("kl_blowup", f"KL to the reference {kl:.3f} nats per token (> {c.kl_max}): the policy is running "
                               "away from it (raise beta, lower lr)")
        r = row.get("reward_mean")
        if r is not None and math.isfinite(r) and c.reward_window >= 1:  # (a NaN reward would poison the mean)
            self.reward_recent = [*self.reward_recent, r][-c.reward_window:]
            if len(self.reward_recent) == c.reward_window:
                level = sum(self.reward_recent) / c.reward_window
                self.reward_levels = [*self.reward_levels, level][-max(1, c.reward_lookback):]
                best = max(self.reward_levels)
                if self._streak("reward", level < best - c.reward_drop * self.reward_scale):
                    alarm("reward_collapse", f"mean reward of the last {c.reward_window} steps {level:.3f}, down from "
                                             f"{best:.3f} within the last {c.reward_lookback}: the policy is losing "
                                             "what it learned (lower lr)")
        # A non-finite reward (a skipped step's) would make the mean NaN and hide the signature for the next
        # hack_window evaluations: NaN compares false
        if "reward_mean" in row and math.isfinite(row["reward_mean"]):
            self.reward_since_eval.append(row["reward_mean"])
        # An evaluation with no finite training reward since the last one (every step between skipped for a
        # non-finite reward) has no reward to pair with: left out of the comparison, as a 0 it faked a rise
        if "heldout_accuracy" in row and self.reward_since_eval:
            r = sum(self.reward_since_eval) / len(self.reward_since_eval)
            self.evals.append((step, r, row["heldout_accuracy"]))
            self.reward_since_eval = []
            hacking = self._hacking(self.evals)
            # raise on the transition: the condition at the previous evaluation is a function of the evaluations
            # kept in the state, so it needs no flag of its own and an older state dict resumes exactly
            if hacking and not self._hacking(self.evals[:-1]):
                dr, da = hacking
                alarm("reward_hacking", f"training reward rose {dr:+.2f} over the last {c.hack_window} evaluations "
                                        f"while held-out accuracy moved {da:+.2f}")
        self.raised += out
        return out

    def state_dict(self) -> dict:
        d = asdict(self)
        d.pop("cfg")
        d.pop("reward_scale")  # the run's reward spec gives it (config, not state)
        d.pop("group_filter")  # and its objective this
        return d

    def load_state_dict(self, d: dict):
        for k, v in d.items():
            setattr(self, k, v)
        # (a checkpoint from before judge_overflow named the sandbox errors' streak "sandbox": a resumed run whose
        # sandbox still failed raised sandbox_error again)
        if isinstance(self.streaks, dict) and "sandbox" in self.streaks:
            self.streaks = dict(self.streaks)
            self.streaks.setdefault("sandbox_error", self.streaks.pop("sandbox"))
