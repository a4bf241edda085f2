"""Evaluation math: pass@k, majority voting (maj@k, self-consistency), bootstrap intervals, summaries.

Everything here is a pure function of its inputs (seeded randomness only), so an evaluation can be
re-scored from its saved per-sample records without re-running a model.

Conventions
-----------
* A *problem* has n sampled completions; each sample has a correctness label and (optionally) an
  extracted answer. ``None`` means "no answer could be extracted".
* Intervals are over *problems* (the unit we want to generalise over): the Wilson score interval when
  every problem's value is 0 or 1 (greedy accuracy) or all are the same, else an expanded percentile bootstrap; a
  metric is reported as ``{"mean": m, "lo": lo, "hi": hi}``.
* Majority-vote tie rule (fixed, used everywhere in Ponder): among the clusters with the highest vote,
  the one whose earliest member comes first in sample order wins. Sample order is the order the
  sampler produced them, so the rule is deterministic and does not favour any answer's content.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from itertools import combinations

import numpy as np

from ponder.errors import PonderError

Equal = Callable[[str, str], bool]

# Exact enumeration of all k-subsets is used when there are at most this many of them; above it we
# average over this many seeded random subsets (the Monte-Carlo error is then ~0.5/sqrt(256) ~ 3%
# per problem, and much smaller once averaged over a benchmark).
DEFAULT_N_SUBSETS = 256

# Relative tolerance under which two summed vote weights count as a tie (majority_vote and maj_at_k alike):
# relative to the top vote only, so tiny weights (exp of a very negative mean log-prob) still compare.
_TIE_TOL = 1e-9


# ----------------------------------------------------------------------------------------------- pass@k


_EXACT_FACTORS = 256  # pass_at_k in integers up to this many factors (under 0.2 ms a call at n = 10**6)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k estimator of Chen et al. (2021): 1 - C(n-c, k) / C(n, k).

    C(n-c, k) / C(n, k) is prod_{i<c} (n-k-i)/(n-i), also prod_{i<k} (n-c-i)/(n-i): with the shorter one at most
    _EXACT_FACTORS factors, it is taken in integers and the result rounded once (in floats, 1 - (1 - 1/5) made
    pass@1 of 1 correct in 5 0.19999999999999996, not the mean 0.2, and pass@1 no longer equal to maj@1); past
    that, as 1 - prod_{i=n-c+1}^{n} (1 - k / i) in floats, which never forms the huge binomials.
    """
    for name, v in (("n", n), ("c", c), ("k", k)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise PonderError(f"pass_at_k: {name}={v!r} must be an integer")
    if n < 1:
        raise PonderError(f"pass_at_k: n={n} must be >= 1 sample")
    if not 0 <= c <= n:
        raise PonderError(f"pass_at_k: c={c} correct must be between 0 and n={n}")
    if k < 1:
        raise PonderError(f"pass_at_k: k={k} must be >= 1")
    if k > n:
        raise PonderError(f"pass_at_k: k={k} > n={n} samples")
    if n - c < k:
        return 1.0  # every k-subset contains a correct sample
    n, c, k = int(n), int(c), int(k)
    if min(c, k) <= _EXACT_FACTORS:
        if c <= k:
            fail, total = math.prod(range(n - k - c + 1, n - k + 1)), math.prod(range(n - c + 1, n + 1))
        else:
            fail, total = math.prod(range(n - c - k + 1, n - c + 1)), math.prod(range(n - k + 1, n + 1))
        return (total - fail) / total  # (int / int: correctly rounded)
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)))


# ------------------------------------------------------------------------------------------- clustering


def _default_equal(a: str, b: str) -> bool:
    return str(a).strip() == str(b).strip()


def _check_answer(a, where: str, j: int, equal: Equal | None) -> None:
    """An answer is text, a number (read as its text by the default equality) or None (no answer); a custom
    ``equal`` may take other objects. A NaN (pandas' missing value) voted as the answer "nan" and counted as
    answered; a number failed majority_vote as a bare AttributeError ('strip')."""
    if a is None or isinstance(a, str):
        return
    number = isinstance(a, (int, float, np.integer, np.floating))
    if (number and not math.isfinite(a)) or (equal is None and not number):
        raise PonderError(f"{where}: sample {j} has answer={a!r}, need text, a finite number or None (no answer)")


def cluster_answers(answers: Sequence[str | None], equal: Equal | None = None, *,
                    where: str = "cluster_answers") -> list[int]:
    """Cluster id per answer (-1 for None), ids numbered in order of first appearance.

    An answer joins the first existing cluster whose *representative* (earliest member) it equals.
    With a non-transitive ``equal`` (e.g. numeric tolerance) this is greedy, but deterministic.
    """
    answers = list(answers)  # (a generator is read twice: checked, then clustered)
    for j, a in enumerate(answers):
        _check_answer(a, where, j, equal)
    ids: list[int] = []
    if equal is None:
        # Fast path: default equality is exact match after strip, so a dict is enough.
        seen: dict[str, int] = {}
        for a in answers:
            if a is None:
                ids.append(-1)
                continue
            key = str(a).strip()
            if key not in seen:
                seen[key] = len(seen)
            ids.append(seen[key])
        return ids
    reps: list[str] = []
    for a in answers:
        if a is None:
            ids.append(-1)
            continue
        for cid, rep in enumerate(reps):
            # Identical strings always share a cluster: an ``equal`` need not be reflexive (answers_equal is
            # False for two identical answers over its length cap), which would split one answer's votes.
            if rep == a or equal(rep, a):
                ids.append(cid)
                break
        else:
            ids.append(len(reps))
            reps.append(a)
    return ids


def _check_seed(seed, where: str) -> None:
    """Everything here is seeded (module docstring): None drew fresh random numbers on every call, and a negative,
    fractional or text seed was a bare numpy error."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise PonderError(f"{where}: seed={seed!r} must be an integer >= 0")


def logprob_weights(logprob_means: Sequence[float]) -> list[float]:
    """Vote weights exp(mean token log-prob): a confident sample counts more, each weight in (0, 1]."""
    out = []
    for i, lp in enumerate(logprob_means):  # (float("x") was a bare ValueError, True a weight like a log-prob of 0)
        if (isinstance(lp, bool) or not isinstance(lp, (int, float, np.integer, np.floating))
                or not math.isfinite(float(lp))):
            raise PonderError(f"logprob_weights: sample {i} has logprob_mean={lp!r}, need a finite number")
        out.append(math.exp(min(float(lp), 0.0)))
    return out


def _check_weights(weights: Sequence[float] | None, n: int, where: str) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    weights = list(weights)
    for j, v in enumerate(weights):  # (text or a list was a bare numpy ValueError, "0.5" and True taken as numbers)
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise PonderError(f"{where}: weight {j} is {v!r}, need a number")
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise PonderError(f"{where}: weights has {w.size} entries for {n} answers")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise PonderError(f"{where}: weights must be finite and >= 0, got {w.tolist()[:8]}")
    return w


# --------------------------------------------------------------------------------------- majority vote


def majority_vote(
    answers: Iterable[str | None],
    *,
    equal: Equal | None = None,
    weights: Sequence[float] | None = None,
    early_stop: bool = False,
    n_planned: int | None = None,
) -> tuple[str | None, int, dict[str | None, float]]:
    """Self-consistency vote. Returns (answer, votes_used, cluster_sizes).

    * ``answer`` is the representative (earliest member) of the winning cluster, or None when every
      consumed answer was None. None answers never win otherwise.
    * Ties: the cluster whose earliest member came first wins (module docstring).
    * ``early_stop``: answers are consumed in order and voting stops as soon as the remaining
      ``n_planned - used`` votes cannot change the winner (``vote_decided``: no other cluster, existing
      or new, could overtake the leader or tie it while coming earlier in sample order), so the caller
      may skip generating them. A strict majority of n is one such case; a leader at exactly n/2 (ties
      go to it) or one whose rivals are None answers is decided sooner. ``answers`` may then be a lazy
      iterator; pass ``n_planned`` if it has no len(). ``votes_used`` is how many answers were consumed.
    * ``cluster_sizes`` maps each representative to its vote (count or summed weight); None answers
      are counted under the key None when present.
    """
    if not isinstance(early_stop, (bool, np.bool_)):  # (by truthiness "no" stopped the vote early)
        raise PonderError(f"majority_vote: early_stop must be True or False, got {early_stop!r}")
    if early_stop and weights is not None:
        # With weights the future samples' weights are unknown, so no prefix can guarantee the win.
        raise PonderError("majority_vote: early_stop needs unweighted votes (future weights are unknown)")
    if n_planned is None:
        if not hasattr(answers, "__len__"):
            raise PonderError("majority_vote: answers has no len(); pass n_planned= for a lazy iterator")
        n_planned = len(answers)  # type: ignore[arg-type]
    elif isinstance(n_planned, bool) or not isinstance(n_planned, (int, np.integer)):  # (True voted on 1 answer)
        raise PonderError(f"majority_vote: n_planned={n_planned!r} must be an integer")
    if n_planned < 1:
        raise PonderError("majority_vote: no answers to vote on")
    w = _check_weights(weights, n_planned, "majority_vote") if weights is not None else None

    eq = equal or _default_equal
    reps: list[str] = []
    votes: list[float] = []
    none_votes = 0.0
    used = 0
    for i, a in enumerate(answers):
        if i >= n_planned:
            raise PonderError(f"majority_vote: got more answers than n_planned={n_planned}")
        _check_answer(a, "majority_vote", i, equal)
        used += 1
        wi = 1.0 if w is None else float(w[i])
        if a is None:
            none_votes += wi
        else:
            for cid, rep in enumerate(reps):
                # identical answers vote together (cluster_answers); under the default equality by their text alone:
                # 2 == 2.0 (and 1 == True) merged two answers that maj_at_k and summarize count apart
                if (equal is not None and rep == a) or eq(rep, a):
                    votes[cid] += wi
                    break
            else:
                reps.append(a)
                votes.append(wi)
        if early_stop and vote_decided(votes, n_planned - used):
            break
    if used == 0:
        raise PonderError("majority_vote: no answers to vote on")
    sizes: dict[str | None, float] = {}
    for rep, v in zip(reps, votes):
        # a custom equal's list or dict answer is no dict key (a bare "unhashable type"): keyed by its repr, kept
        # apart from a text cluster written the same (two clusters equal as keys are one: `rep == a` merged them)
        try:
            key = rep if rep not in sizes else None
        except TypeError:
            key = None
        if key is None:
            key = repr(rep)
            while key in sizes:
                key += "'"
        sizes[key] = v
    if none_votes:
        sizes[None] = none_votes
    if not reps:
        return None, used, sizes
    # Clusters are numbered in order of first appearance, so the first one within float tolerance of the
    # top vote is the earliest tied cluster: the tie rule. The tolerance is maj_at_k's, so summed weights
    # that are equal in exact arithmetic (0.1 + 0.2 vs 0.3) tie here too and both agree on the winner.
    return reps[_leader(votes)], used, sizes


def _leader(votes: Sequence[float]) -> int:
    """Index of the winning cluster (clusters in order of first appearance): the first one within
    relative float tolerance of the top vote, i.e. the earliest of the tied clusters (the tie rule)."""
    top = max(votes)
    return next(c for c, v in enumerate(votes) if v >= top - _TIE_TOL * abs(top))


def vote_decided(votes: Sequence[float], remaining: int) -> bool:
    """Whether an unweighted vote is settled: ``votes`` are the clusters' counts in order of first
    appearance, ``remaining`` the votes still to come (each adds 1 to one cluster, possibly a new one,
    or is None). Settled when no other cluster can reach the leader's count, or only reach it while
    coming later in sample order (ties go to the earliest cluster); a new cluster comes after the leader.
    """
    if not votes:
        return remaining <= 0
    if remaining <= 0:
        return True
    lead = _leader(votes)
    v = votes[lead]
    if remaining > v:  # a new cluster (later than the leader) could overtake it
        return False
    return all(c == lead or votes[c] + remaining < v or (votes[c] + remaining == v and c > lead)
               for c in range(len(votes)))


# ---------------------------------------------------------------------------------------------- maj@k


def _subsets(n: int, k: int, n_subsets: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted k-subsets of range(n): all of them if few enough, else n_subsets random ones."""
    # k=1 has only n subsets (n indices in all): enumerating them keeps maj@1 exact, equal to pass@1 where the
    # answers decide correctness, however large n is; random ones made it a Monte-Carlo estimate past n_subsets.
    if k == 1 or math.comb(n, k) <= n_subsets:
        return np.array(list(combinations(range(n), k)), dtype=np.int64).reshape(-1, k)
    # argsort of uniform noise gives a uniformly random permutation per row; keep the first k, sorted
    # so that "earliest in the subset" means "earliest in sample order".
    return np.sort(np.argsort(rng.random((n_subsets, n)), axis=1)[:, :k], axis=1)


def _is_label(v) -> bool:
    """True/False (or 0/1): bool() of anything else counts it silently, a Verdict (no __bool__) or the text "false"
    as right, None or NaN as wrong."""
    return isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, np.integer)) and v in (0, 1))


def _labels_for(
    i: int, answers: Sequence[str | None], correct_fn_or_labels
) -> Callable[[int], bool]:
    """Return a function sample_index -> correctness for problem i (callable results cached)."""
    if callable(correct_fn_or_labels):
        cache: dict[int, bool] = {}

        def f(j: int) -> bool:
            if j not in cache:
                v = correct_fn_or_labels(i, answers[j])
                if not _is_label(v):
                    raise PonderError(f"maj_at_k: correct() returned {v!r} for problem {i} sample {j}, need True "
                                      "or False (a Verdict's .correct)")
                cache[j] = bool(v)
            return cache[j]

        return f
    labels = correct_fn_or_labels[i]
    if len(labels) != len(answers):
        raise PonderError(f"maj_at_k: problem {i} has {len(labels)} labels for {len(answers)} answers")
    for j, v in enumerate(labels):
        if not _is_label(v):
            raise PonderError(f"maj_at_k: problem {i} sample {j} has label {v!r}, need True or False")
    return lambda j: bool(labels[j])


def maj_at_k_per_problem(
    answers_per_problem: Sequence[Sequence[str | None]],
    correct_fn_or_labels,
    k: int,
    *,
    n_subsets: int = DEFAULT_N_SUBSETS,
    seed: int = 0,
    equal: Equal | None = None,
    weights: Sequence[Sequence[float]] | None = None,
) -> np.ndarray:
    """Per-problem expected accuracy of a k-sample majority vote (see ``maj_at_k``)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise PonderError(f"maj_at_k: k={k!r} must be a positive integer")
    if isinstance(n_subsets, bool) or not isinstance(n_subsets, (int, np.integer)) or n_subsets < 1:
        raise PonderError(f"maj_at_k: n_subsets must be a positive integer, got {n_subsets!r}")
    _check_seed(seed, "maj_at_k")
    if not callable(correct_fn_or_labels) and len(correct_fn_or_labels) != len(answers_per_problem):
        raise PonderError(
            f"maj_at_k: {len(correct_fn_or_labels)} label lists for {len(answers_per_problem)} problems"
        )
    if weights is not None and len(weights) != len(answers_per_problem):
        raise PonderError(f"maj_at_k: {len(weights)} weight lists for {len(answers_per_problem)} problems")
    out = np.zeros(len(answers_per_problem))
    for i, answers in enumerate(answers_per_problem):
        n = len(answers)
        if k > n:
            raise PonderError(f"maj_at_k: k={k} > n={n} samples (problem {i})")
        w = _check_weights(None if weights is None else weights[i], n, f"maj_at_k problem {i}")
        label = _labels_for(i, answers, correct_fn_or_labels)
        ids = np.asarray(cluster_answers(answers, equal, where=f"maj_at_k: problem {i}"), dtype=np.int64)
        n_clusters = int(ids.max()) + 1 if n else 0
        if n_clusters == 0:
            continue  # every answer None: the vote is "no answer", counted incorrect
        rng = np.random.default_rng([seed, i])
        subs = _subsets(n, k, n_subsets, rng)  # (S, k) sample indices, sorted
        s = subs.shape[0]
        cid = ids[subs].ravel()  # (S·k,) row-major: subset by subset, each in sample order
        m = cid >= 0
        # One entry per (subset, cluster) present in it, not an (S, clusters) table: at k=1 S is n, and n samples
        # of distinct answers made it n², 800 MB at n = 10,000
        key = np.repeat(np.arange(s), k)[m] * n_clusters + cid[m]
        uniq, first_pos, inv = np.unique(key, return_index=True, return_inverse=True)
        votes = np.bincount(inv.ravel(), weights=w[subs].ravel()[m], minlength=uniq.size)
        first = subs.ravel()[m][first_pos]  # earliest sample index of the cluster in the subset
        row = uniq // n_clusters
        top = np.full(s, -np.inf)
        np.maximum.at(top, row, votes)
        # Tolerance so summed float weights that are equal in exact arithmetic still count as a tie.
        tied = votes >= top[row] - _TIE_TOL * np.abs(top[row])
        winner_first = np.full(s, n, dtype=np.int64)
        np.minimum.at(winner_first, row[tied], first[tied])  # earliest member of the tied clusters
        acc = sum(label(int(j)) for j in winner_first if j < n)  # (n: a subset of None answers only)
        out[i] = acc / s
    return out


def maj_at_k(
    answers_per_problem: Sequence[Sequence[str | None]],
    correct_fn_or_labels,
    k: int,
    *,
    n_subsets: int = DEFAULT_N_SUBSETS,
    seed: int = 0,
    equal: Equal | None = None,
    weights: Sequence[Sequence[float]] | None = None,
) -> float:
    """maj@k: accuracy of a majority vote over k of the n samples, averaged over k-subsets and problems.

    ``correct_fn_or_labels`` is either ``correct(problem_index, answer) -> bool`` or per-problem lists
    of per-sample booleans aligned with the answers. The winning cluster is judged by its earliest
    member in the subset (its representative). Equivalent answers are grouped with ``equal(a, b)``
    (default: string equality after strip; pass the math verifier's ``answers_equal`` to group "0.5"
    with "1/2"). None answers never win; an all-None subset counts as incorrect. ``weights`` (per
    problem, per sample, e.g. ``logprob_weights``) turn it into a weighted vote. Subsets are all
    C(n, k) of them when at most ``n_subsets`` (and always for k=1), else ``n_subsets`` random ones
    seeded by (seed, problem).
    """
    per = maj_at_k_per_problem(
        answers_per_problem, correct_fn_or_labels, k, n_subsets=n_subsets, seed=seed, equal=equal,
        weights=weights,
    )
    if per.size == 0:
        raise PonderError("maj_at_k: no problems")
    return float(per.mean())


# ------------------------------------------------------------------------------------------ bootstrap


def bootstrap_ci(
    per_problem_values: Sequence[float], *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float, float]:
    """(mean, lo, hi): expanded percentile bootstrap of the mean, resampling problems with replacement.

    The plain percentile interval is too narrow at few problems: its spread is that of the resampled means,
    sqrt((n-1)/n) of the standard error, read off normal rather than Student-t quantiles, so nominal 95%
    covered 80-86% at 5 problems and 87-93% at 10 (values k/16, per-problem accuracy from Beta(1,5), (2,2),
    (5,1), (0.3,0.3); 1,000 draws each). The expanded percentile interval (Hesterberg 2015, "What teachers
    should know about the bootstrap", sec. 4.1) reads the bootstrap quantiles at alpha' with
    z(alpha'/2) = sqrt(n/(n-1)) t(n-1, alpha/2): the same simulation covers 87-93% at 5 and 91-96% at 10,
    and at 200 problems it is within 0.5% of the plain interval. It stays inside the bootstrap distribution,
    so an accuracy's interval stays within [0, 1]. One problem says nothing about the spread between problems:
    its interval is (-inf, inf), written as null in JSON (`mean_ci` bounds an accuracy's to [0, 1])."""
    x = np.asarray(per_problem_values, dtype=np.float64).ravel()
    if x.size == 0:
        raise PonderError("bootstrap_ci: no values (empty benchmark?)")
    if not np.all(np.isfinite(x)):
        bad = int(np.flatnonzero(~np.isfinite(x))[0])
        raise PonderError(f"bootstrap_ci: value {bad} is {x[bad]}, need finite numbers")
    if not 0 < alpha < 1:
        raise PonderError(f"bootstrap_ci: alpha={alpha} must be in (0, 1)")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise PonderError(f"bootstrap_ci: n_boot={n_boot!r} must be an integer >= 1")
    _check_seed(seed, "bootstrap_ci")
    mean = float(x.mean())
    if x.size == 1:
        return mean, -math.inf, math.inf
    rng = np.random.default_rng(seed)
    # Chunk the (n_boot, m) index matrix so memory stays ~64 MB even for huge benchmarks.
    rows_per_chunk = max(1, 8_000_000 // x.size)
    means = np.empty(n_boot)
    for start in range(0, n_boot, rows_per_chunk):
        stop = min(n_boot, start + rows_per_chunk)
        means[start:stop] = x[rng.integers(0, x.size, size=(stop - start, x.size))].mean(axis=1)
    a = expanded_alpha(alpha, x.size)
    lo, hi = np.quantile(means, [a / 2, 1 - a / 2])
    # Guard against float round-off putting the mean a hair outside a degenerate interval.
    return mean, float(min(lo, mean)), float(max(hi, mean))


def expanded_alpha(alpha: float, n: int) -> float:
    """The tail level at which the expanded percentile bootstrap (``bootstrap_ci``) reads its quantiles:
    2 Phi(-sqrt(n/(n-1)) t(n-1, 1-alpha/2)); below alpha, and -> alpha as n grows. Needs n >= 2 values (one has no
    spread to expand: it was a ZeroDivisionError)."""
    from statistics import NormalDist

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise PonderError(f"expanded_alpha: n={n!r} values, need an integer >= 2")
    if not 0 < alpha < 1:
        raise PonderError(f"expanded_alpha: alpha={alpha} must be in (0, 1)")
    return 2 * NormalDist().cdf(-math.sqrt(n / (n - 1)) * student_t_quantile(1 - alpha / 2, n - 1))


@functools.lru_cache(maxsize=256)
def student_t_quantile(p: float, df: int) -> float:
    """Student-t quantile for p in (0, 1) with df > 0 degrees of freedom: bisection on the CDF through the regularized
    incomplete beta function of mpmath (which SymPy, a dependency, brings); exact to ~1e-12. Below p = 0.5 by
    symmetry (the bisection searches t >= 0: p = 0.3, or df = 0, returned 0 instead of a negative quantile or an
    error)."""
    import mpmath

    real = (int, float, np.integer, np.floating)
    if isinstance(p, bool) or not isinstance(p, real) or not 0 < p < 1:
        raise PonderError(f"student_t_quantile: p={p!r} must be in (0, 1)")
    if isinstance(df, bool) or not isinstance(df, real) or not 0 < df < math.inf:
        raise PonderError(f"student_t_quantile: df={df!r} degrees of freedom, need a finite number > 0")
    if p < 0.5:
        return -student_t_quantile(1 - p, df)

    def upper(t):  # P(T > t) for t >= 0
        return 0.5 * float(mpmath.betainc(df / 2, 0.5, 0, df / (df + t * t), regularized=True))

    lo, hi = 0.0, 1.0
    while upper(hi) > 1 - p:
        lo, hi = hi, hi * 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if upper(mid) > 1 - p else (lo, mid)
    return (lo + hi) / 2


def wilson_ci(successes: int, n: int, *, alpha: float = 0.05) -> tuple[float, float, float]:
    """(mean, lo, hi): the Wilson score interval of a binomial proportion (Wilson 1927). Its coverage stays
    near nominal at small n and at accuracies near 0 or 1, where a percentile bootstrap of 0/1 values
    collapses (exact coverage of a nominal 95% interval at n=10, p=0.9: Wilson 93%, bootstrap 65%; at
    10/10 correct the bootstrap's interval has zero width, Wilson's is [72%, 100%]). Counts only: a fractional
    "successes" (a sum of per-problem accuracies, 2.5 of 10) got an interval as if it were a binomial count."""
    for name, v in (("successes", successes), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise PonderError(f"wilson_ci: {name}={v!r} must be an integer count")
    if n < 1 or not 0 <= successes <= n:
        raise PonderError(f"wilson_ci: need 0 <= successes <= n and n >= 1, got {successes}/{n}")
    if not 0 < alpha < 1:
        raise PonderError(f"wilson_ci: alpha={alpha} must be in (0, 1)")
    return _wilson(successes / n, n, alpha)


def _wilson(p: float, n: int, alpha: float) -> tuple[float, float, float]:
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - alpha / 2)
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z / d * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return p, max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def mean_ci(values: Sequence[float], *, n_boot: int = 1000, alpha: float = 0.05,
            seed: int = 0, proportion: bool = True, floor: float | None = None) -> tuple[float, float, float]:
    """(mean, lo, hi) over problems: the Wilson interval when every per-problem value is 0 or 1 (greedy
    accuracy, a maj@k or pass@k that is the same for every draw), else the expanded percentile bootstrap.
    `proportion=False` (token counts, latencies) never takes Wilson: 1 token per sample is not a success rate.
    A single problem's sampled accuracy (say 0.6 of 16 samples) has no interval over problems: [0, 1]. Problems that
    all score the same fraction (0.5 each) show no spread to resample, yet accuracies differ between problems:
    the bootstrap's [0.5, 0.5] claimed the exact value from 5 problems. They take the Wilson interval of that
    accuracy over n problems, the widest spread values in [0, 1] with that mean can have (as 0/1 values do).
    Below 5 problems (2 to 4) the bootstrap cannot reach its level: its most extreme resample (every draw the
    smallest value) has probability n^(1-n) > alpha'/2, so its "95%" interval is [min, max] of the values and covered
    50-67% at 2 problems, 73-87% at 3, 85-92% at 4 (values k/16, accuracy from Beta(2,2), (1,5), (5,1), (0.3,0.3),
    (20,20); 1,000 draws each: `python bench/intervals.py`). There the interval is the union with the Student-t
    interval mean +- t(n-1, 1-alpha/2) s/sqrt(n), clipped to [0, 1] for accuracies (not for `proportion=False`
    values, whose range mean_ci does not know): 91-100% at 2, 88-97% at 3, 91-96% at 4, as the bootstrap covers at
    5 (87-93%) and 10 (92-96%).
    From 5 problems on the bootstrap interval is returned unchanged. `floor`: a bound no value can pass below
    (0 for token counts and latencies), where the Student-t widening is clipped: "mean_tokens 21.8 [-13.5, 57.0]"
    named counts no model can have."""
    # (checked before every branch: one problem's [0, 1] took alpha=1.5 or 95 without a word)
    _check_alpha(alpha, "mean_ci")
    x = np.asarray(values, dtype=np.float64).ravel()
    if proportion and x.size and np.all((x == 0) | (x == 1)):
        return wilson_ci(int(x.sum()), int(x.size), alpha=alpha)
    if proportion and x.size == 1 and 0 <= x[0] <= 1:
        return float(x[0]), 0.0, 1.0
    if proportion and x.size > 1 and np.all(x == x[0]) and 0 <= x[0] <= 1:
        return _wilson(float(x[0]), int(x.size), alpha)
    mean, lo, hi = bootstrap_ci(x, n_boot=n_boot, alpha=alpha, seed=seed)
    if 2 <= x.size < _SMALL_N:  # the bootstrap's [min, max] under-covers: widen to the Student-t interval
        half = student_t_quantile(1 - alpha / 2, int(x.size) - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)
        lo, hi = min(lo, mean - half), max(hi, mean + half)
        if proportion and np.all((x >= 0) & (x <= 1)):
            lo, hi = max(0.0, lo), min(1.0, hi)
        if floor is not None:
            lo = max(float(floor), lo)
    return mean, lo, hi


_SMALL_N = 5  # mean_ci: below this many values the bootstrap interval is widened to the Student-t one


def _check_alpha(alpha, where: str) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) or not 0 < alpha < 1:
        raise PonderError(f"{where}: alpha={alpha!r} must be a number in (0, 1) (0.05 for 95% intervals)")


def _ci_dict(values, n_boot: int, alpha: float, seed: int, proportion: bool = True,
             floor: float | None = None) -> dict[str, float]:
    mean, lo, hi = mean_ci(values, n_boot=n_boot, alpha=alpha, seed=seed, proportion=proportion, floor=floor)
    return {"mean": mean, "lo": lo, "hi": hi}


# ------------------------------------------------------------------------------------------ summarize


def summarize(
    records_per_problem: Sequence[Sequence[dict]],
    ks: Sequence[int] = (1,),
    *,
    equal: Equal | None = None,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    n_subsets: int = DEFAULT_N_SUBSETS,
) -> dict:
    """Benchmark summary from per-problem lists of per-sample records.

    Each record: ``{correct: bool, answer: str | None, tokens: int, finish_reason: str,
    latency: float, logprob_mean: float}``; only ``correct`` is required, the others enable their
    metrics when present in every record (maj@k needs ``answer``, weighted maj@k needs
    ``logprob_mean`` too).

    Returns ``{"n_problems", "n_samples", "ks", "alpha", "metrics": {name: {"mean", "lo", "hi"}}}``
    with pass@1 (mean over samples), pass@k and maj@k for every k in ``ks`` (k <= n), wmaj@k
    (exp(mean log-prob) weighted vote), mean_tokens, mean_latency, truncation_rate
    (finish_reason == "length") and no_answer_rate (answer is None). Intervals (`mean_ci`): Wilson for
    0/1 per-problem values, else expanded percentile bootstrap over problems, same seed for every metric so they
    are resampled identically.
    """
    if len(records_per_problem) == 0:
        raise PonderError("summarize: empty benchmark (0 problems)")
    _check_seed(seed, "summarize")  # (before any metric: the intervals and maj@k's subsets are keyed by it)
    _check_alpha(alpha, "summarize")  # (a single problem's intervals never read it: alpha=95 was written as given)
    ks = list(ks)  # iterated twice below: a generator's second pass would be empty and drop its k's silently
    for k in ks:  # int() would quietly report k=2.5 as pass@2
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise PonderError(f"summarize: k={k!r} must be a positive integer")
    ks = sorted({int(k) for k in ks} | {1})
    ns = []
    for i, recs in enumerate(records_per_problem):
        if len(recs) == 0:
            raise PonderError(f"summarize: problem {i} has 0 samples")
        for j, r in enumerate(recs):
            if not isinstance(r, dict) or "correct" not in r:
                raise PonderError(f"summarize: problem {i} sample {j} has no 'correct' field")
            # bool() of a malformed label ("false", None, NaN) would count it silently, as right or wrong
            c = r["correct"]
            if not isinstance(c, (bool, np.bool_)) and not (isinstance(c, (int, np.integer)) and c in (0, 1)):
                raise PonderError(f"summarize: problem {i} sample {j} has correct={c!r}, need true or false")
        ns.append(len(recs))
    n_min = min(ns)
    for k in ks:
        if k > n_min:
            raise PonderError(f"summarize: k={k} > n={n_min} samples")

    def has(field: str) -> bool:
        return all(field in r for recs in records_per_problem for r in recs)

    def per_problem_mean(fn) -> np.ndarray:
        return np.array([np.mean([fn(r) for r in recs]) for recs in records_per_problem], dtype=np.float64)

    def per_problem_number(field: str) -> np.ndarray:
        for i, recs in enumerate(records_per_problem):  # float(None) would be a TypeError, NaN a vague one
            for j, r in enumerate(recs):
                v = r[field]
                if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
                    raise PonderError(f"summarize: problem {i} sample {j} has {field}={v!r}, need a finite number")
        return per_problem_mean(lambda r: float(r[field]))

    boot = {"n_boot": n_boot, "alpha": alpha, "seed": seed}
    labels = [[bool(r["correct"]) for r in recs] for recs in records_per_problem]
    metrics: dict[str, dict[str, float]] = {}
    for k in ks:
        per = np.array([pass_at_k(len(lab), sum(lab), k) for lab in labels])
        metrics[f"pass@{k}"] = _ci_dict(per, **boot)
    if has("answer"):
        # Cluster once (the equivalence check may be an expensive symbolic comparison) and vote on
        # cluster ids with plain string equality for every k; None stays None.
        answers = [
            [None if c < 0 else str(c) for c in cluster_answers([r["answer"] for r in recs], equal,
                                                                 where=f"summarize: problem {i}")]
            for i, recs in enumerate(records_per_problem)
        ]
        for k in ks:
            per = maj_at_k_per_problem(answers, labels, k, n_subsets=n_subsets, seed=seed)
            metrics[f"maj@{k}"] = _ci_dict(per, **boot)
        # A None answer never gets a vote, so its weight is irrelevant: an empty completion (no answer, and no
        # log-prob to record) must not drop wmaj@k from the whole benchmark. It stands in with weight 1.
        for i, recs in enumerate(records_per_problem):  # float("x") was a bare ValueError, True a weight of e
            for j, r in enumerate(recs):
                v = r.get("logprob_mean")
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))):
                    raise PonderError(f"summarize: problem {i} sample {j} has logprob_mean={v!r}, need a number or null")
        lp_ok = has("logprob_mean") and all(
            r["answer"] is None or (r["logprob_mean"] is not None and math.isfinite(float(r["logprob_mean"])))
            for recs in records_per_problem
            for r in recs
        )
        if lp_ok:
            weights = [logprob_weights([0.0 if r["answer"] is None else r["logprob_mean"] for r in recs])
                       for recs in records_per_problem]
            for k in ks:
                if k == 1:
                    continue  # a one-sample weighted vote is the unweighted one
                per = maj_at_k_per_problem(answers, labels, k, n_subsets=n_subsets, seed=seed, weights=weights)
                metrics[f"wmaj@{k}"] = _ci_dict(per, **boot)
        metrics["no_answer_rate"] = _ci_dict(per_problem_mean(lambda r: r["answer"] is None), **boot)
    if has("tokens"):
        metrics["mean_tokens"] = _ci_dict(per_problem_number("tokens"), **boot, proportion=False, floor=0)
    if has("latency"):
        metrics["mean_latency"] = _ci_dict(per_problem_number("latency"), **boot, proportion=False, floor=0)
    if has("finish_reason"):
        metrics["truncation_rate"] = _ci_dict(
            per_problem_mean(lambda r: r["finish_reason"] == "length"), **boot
        )
    return {
        "n_problems": len(records_per_problem),
        "n_samples": n_min if min(ns) == max(ns) else {"min": n_min, "max": max(ns)},
        "ks": ks,
        "alpha": alpha,
        "metrics": metrics,
    }
