from __future__ import annotations

import math
import re
from collections import Counter
from itertools import combinations

import numpy as np
import pytest

from ponder.errors import PonderError
from ponder.metrics import (
    bootstrap_ci,
    cluster_answers,
    logprob_weights,
    maj_at_k,
    maj_at_k_per_problem,
    majority_vote,
    mean_ci,
    pass_at_k,
    summarize,
    vote_decided,
)

# --------------------------------------------------------------------------------------------- pass@k


@pytest.mark.parametrize("n", range(1, 9))
def test_pass_at_k_matches_brute_force_enumeration(n):
    for c in range(n + 1):
        labels = [1] * c + [0] * (n - c)
        for k in range(1, n + 1):
            subsets = list(combinations(range(n), k))
            brute = sum(any(labels[j] for j in s) for s in subsets) / len(subsets)
            assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12), (n, c, k)


def test_pass_at_k_large_n_is_stable_and_monotone():
    vals = [pass_at_k(1000, 3, k) for k in (1, 10, 100, 500, 998)]
    assert vals[0] == pytest.approx(0.003)
    assert all(a < b for a, b in zip(vals, vals[1:]))
    assert vals[-1] == 1.0
    assert pass_at_k(1000, 0, 1000) == 0.0


def test_pass_at_k_is_the_exact_ratio_correctly_rounded():
    # 1 - C(n-c, k) / C(n, k) rounded once: pass@1 is the mean label (1 of 5 right: 0.2, not 0.19999999999999996)
    from fractions import Fraction
    from math import comb

    for n in (3, 5, 7, 16, 100, 10**6):
        for c in {0, 1, 2, 3, n // 3, n - 1, n}:  # (all <= n: n >= 3)
            for k in {k for k in (1, 2, 3, 8, 50) if k <= n}:
                assert pass_at_k(n, c, k) == float(1 - Fraction(comb(n - c, k), comb(n, k))), (n, c, k)
    recs = [[{"correct": j == 0, "answer": str(j)} for j in range(5)]]
    m = summarize(recs, ks=[1])["metrics"]
    assert m["pass@1"]["mean"] == m["maj@1"]["mean"] == 0.2


@pytest.mark.parametrize("args, why", [((8, 2, 16), "k=16 > n=8"), ((4, 5, 1), "c=5 correct must be between 0 and n=4"),
                                       ((4, 1, 0), "k=0 must be >= 1"), ((0, 0, 1), "n=0 must be >= 1"),
                                       ((4.0, 1, 1), "n=4.0 must be an integer")])
def test_pass_at_k_rejects_bad_arguments(args, why):
    with pytest.raises(PonderError, match=re.escape(why)):
        pass_at_k(*args)


def test_pass_at_k_error_names_k_and_n():
    with pytest.raises(PonderError, match="k=16 > n=8"):
        pass_at_k(8, 2, 16)


# ------------------------------------------------------------------------------------- majority vote


def _brute_maj(answers, labels, k, key=lambda a: a):
    """Reference maj@k: enumerate subsets, plain Counter voting with first-in-order tie rule."""
    vals = []
    for s in combinations(range(len(answers)), k):
        counts: Counter = Counter()
        first = {}
        for j in s:
            a = answers[j]
            if a is None:
                continue
            counts[key(a)] += 1
            first.setdefault(key(a), j)
        if not counts:
            vals.append(0.0)
            continue
        top = max(counts.values())
        win = min(first[a] for a in counts if counts[a] == top)
        vals.append(float(labels[win]))
    return float(np.mean(vals))


def test_majority_vote_clear_majority():
    ans, used, sizes = majority_vote(["7", "3", "7", " 7 ", "5"])
    assert ans == "7" and used == 5
    assert sizes == {"7": 3, "3": 1, "5": 1}


def test_majority_vote_tie_goes_to_first_in_sample_order():
    assert majority_vote(["3", "7", "7", "3"])[0] == "3"
    assert majority_vote(["7", "3", "3", "7"])[0] == "7"
    assert majority_vote(["1", "2", "3"])[0] == "1"


def test_majority_vote_none_never_wins_unless_all_none():
    ans, used, sizes = majority_vote([None, None, None, "4"])
    assert ans == "4" and sizes[None] == 3
    ans, used, sizes = majority_vote([None, None])
    assert ans is None and used == 2


def test_majority_vote_equivalence_callable_groups_answers():
    def eq(a, b):
        def val(s):
            s = s.strip()
            if "/" in s:
                p, q = s.split("/")
                return float(p) / float(q)
            return float(s)

        return math.isclose(val(a), val(b))

    ans, _, sizes = majority_vote(["0.3", "0.5", "1/2", "2/4", "0.3"], equal=eq)
    assert ans == "0.5"
    assert sizes == {"0.3": 2, "0.5": 3}
    # Without the equivalence the three spellings split and "0.3" wins.
    assert majority_vote(["0.3", "0.5", "1/2", "2/4", "0.3"])[0] == "0.3"


def test_majority_vote_weighted():
    # Two confident votes beat three unsure ones.
    ans, _, sizes = majority_vote(["a", "b", "b", "a", "b"], weights=[0.9, 0.1, 0.1, 0.9, 0.1])
    assert ans == "a" and sizes["a"] == pytest.approx(1.8)
    assert logprob_weights([0.0, -1.0]) == [1.0, pytest.approx(math.exp(-1))]
    with pytest.raises(PonderError, match="weights must be finite and >= 0"):
        majority_vote(["a", "b"], weights=[1.0, -1.0])
    with pytest.raises(PonderError, match="weights has 1 entries for 2 answers"):
        majority_vote(["a", "b"], weights=[1.0])


def test_majority_vote_early_stop_at_strict_majority():
    consumed = []

    def lazy(seq):
        for a in seq:
            consumed.append(a)
            yield a

    # "5" has 3 votes after 4 samples: not > 8/2, so voting goes on and "9" overtakes it.
    ans, used, _ = majority_vote(lazy(["5", "5", "2", "5", "9", "9", "9", "9"]), early_stop=True, n_planned=8)
    assert (ans, used, len(consumed)) == ("9", 8, 8)
    consumed.clear()
    ans, used, _ = majority_vote(lazy(["5", "2", "5", "5", "5", "5", "9", "9"]), early_stop=True, n_planned=8)
    # after 5 samples "5" has 4, "2" 1 and 3 votes remain: "2" (later) or a new cluster reach 4 at most,
    # and ties go to the earlier "5", so the generator stops at sample 5
    assert (ans, used, len(consumed)) == ("5", 5, 5)
    ans, used, _ = majority_vote(["5"] * 5 + ["1"] * 3, early_stop=True)
    assert (ans, used) == ("5", 4)  # 4 of 8 with 4 to come: a rival can only tie, and loses the tie
    # The early-stopped answer always equals the full vote's answer.
    rng = np.random.default_rng(0)
    for _ in range(200):
        seq = [str(x) for x in rng.integers(0, 3, size=int(rng.integers(1, 12)))]
        full = majority_vote(seq)[0]
        early, used, _ = majority_vote(seq, early_stop=True)
        assert early == full and 1 <= used <= len(seq)
    with pytest.raises(PonderError, match="early_stop needs unweighted votes"):
        majority_vote(["a"], early_stop=True, weights=[1.0])
    with pytest.raises(PonderError, match="pass n_planned= for a lazy iterator"):
        majority_vote(iter(["a"]))


@pytest.mark.parametrize("bad", ["no", "false", 0, None])
def test_majority_vote_early_stop_must_be_true_or_false(bad):
    """early_stop was taken by truthiness: "no" stopped the vote early (and with weights refused them as "early_stop
    needs unweighted votes"), as self-consistency's own option did."""
    with pytest.raises(PonderError, match=f"majority_vote: early_stop must be True or False, got {bad!r}"):
        majority_vote(["5"] * 3 + ["1"] * 2, early_stop=bad)


@pytest.mark.parametrize("alpha", [1.5, 95, 0, "0.05", None])
def test_an_alpha_outside_0_1_is_refused_also_where_the_interval_does_not_read_it(alpha):
    """One problem's sampled accuracy has the interval [0, 1] whatever alpha is: mean_ci and summarize took
    alpha=95 (a confidence level for a tail probability) and wrote it in the summary, where the report labels it."""
    with pytest.raises(PonderError, match=r"^mean_ci: alpha=.* must be a number in \(0, 1\)"):
        mean_ci([0.5], alpha=alpha)
    with pytest.raises(PonderError, match=r"^summarize: alpha=.* must be a number in \(0, 1\)"):
        summarize([[{"correct": True}, {"correct": False}]], alpha=alpha)


def test_numbers_vote_as_their_text_in_majority_vote_as_in_maj_at_k():
    """majority_vote merged 2 and 2.0 (Python's 2 == 2.0) where cluster_answers, and so maj@k and summarize, count
    them apart by their text: the vote over all n answers disagreed with maj@n."""
    answers = [2, 2.0, 3, 3]
    win, _, sizes = majority_vote(answers)
    assert win == 3 and list(sizes.values()) == [1.0, 1.0, 2.0]  # (2.0 is keyed by its repr: 2.0 == 2 as a key)
    assert cluster_answers(answers) == [0, 1, 2, 2]
    assert maj_at_k([answers], [[a == 3 for a in answers]], 4) == 1.0
    assert list(majority_vote([1, True, "x"])[2].values()) == [1.0, 1.0, 1.0]


def test_cluster_answers_default_and_callable_agree_on_exact_strings():
    answers = ["1", None, " 2", "1 ", "3", None, "2"]
    assert cluster_answers(answers) == [0, -1, 1, 0, 2, -1, 1]
    assert cluster_answers(answers, lambda a, b: a.strip() == b.strip()) == cluster_answers(answers)


def test_answers_must_be_text_a_number_or_none():
    """A NaN answer (pandas' missing value) was voted as the answer "nan" and counted as answered; a number failed
    majority_vote as a bare AttributeError. Numbers vote as their text wherever the default equality is used."""
    assert majority_vote(["1", 5, 5])[0] == 5
    assert cluster_answers(["5", 5, None]) == [0, 0, -1]
    assert majority_vote([("a",), ("a",)], equal=lambda x, y: x == y)[0] == ("a",)  # (a custom equal's own objects)
    for bad in (float("nan"), np.float32("inf"), ["5"]):
        with pytest.raises(PonderError, match=r"majority_vote: sample 1 has answer="):
            majority_vote(["1", bad, "1"])
        with pytest.raises(PonderError, match=r"maj_at_k: problem 0: sample 1 has answer="):
            maj_at_k([["1", bad, "1"]], [[True, False, True]], 2)
        with pytest.raises(PonderError, match=r"summarize: problem 1: sample 1 has answer="):
            summarize([[{"correct": True, "answer": "1"}]] * 1
                      + [[{"correct": True, "answer": "1"}, {"correct": False, "answer": bad}]])


# ---------------------------------------------------------------------------------------------- maj@k


def test_maj_at_k_matches_brute_force_on_random_cases():
    rng = np.random.default_rng(1)
    for _ in range(40):
        n = int(rng.integers(1, 8))
        pool = ["a", "b", "c", None]
        answers = [pool[int(x)] for x in rng.integers(0, 4, size=n)]
        labels = [a == "a" for a in answers]
        for k in range(1, n + 1):
            got = maj_at_k([answers], [labels], k)
            assert got == pytest.approx(_brute_maj(answers, labels, k)), (answers, k)


def test_maj_at_k_constructed_cases():
    # Clear majority of the correct answer: every 5-subset of 7 has at least 3 "4"s... check exactly.
    answers = ["4", "4", "4", "4", "4", "1", "2"]
    labels = [a == "4" for a in answers]
    assert maj_at_k([answers], [labels], 7) == 1.0
    assert maj_at_k([answers], [labels], 1) == pytest.approx(5 / 7)
    # Tie at k=2 between a wrong first answer and a right second one: the first wins.
    assert maj_at_k([["9", "4"]], [[False, True]], 2) == 0.0
    assert maj_at_k([["4", "9"]], [[True, False]], 2) == 1.0
    # All None: "no answer" is incorrect even if the labels say otherwise.
    assert maj_at_k([[None, None, None]], [[True, True, True]], 2) == 0.0
    # None loses to a single real answer.
    assert maj_at_k([[None, None, "4"]], [[False, False, True]], 3) == 1.0


def test_maj_at_1_is_exact_past_n_subsets():
    # maj@1 votes on one sample, so it is the mean label where answers decide correctness: the n singletons are
    # enumerated even when n > n_subsets (random ones made maj@1 != pass@1 at n=300, 0.4016 vs 0.3913).
    rng = np.random.default_rng(0)
    labels = [bool(x) for x in rng.random(300) < 0.4]
    answers = ["1" if c else "2" for c in labels]
    assert maj_at_k([answers], [labels], 1) == pytest.approx(np.mean(labels))
    recs = [[{"correct": c, "answer": a} for c, a in zip(labels, answers)]]
    m = summarize(recs, ks=[1])["metrics"]
    assert m["maj@1"]["mean"] == pytest.approx(m["pass@1"]["mean"])


def test_maj_at_k_with_callable_and_equivalence():
    def eq(a, b):
        return {"0.5": "h", "1/2": "h"}.get(a, a) == {"0.5": "h", "1/2": "h"}.get(b, b)

    answers = [["0.3", "0.5", "1/2", "0.3", "1/2"]]
    calls = []

    def correct(i, a):
        calls.append((i, a))
        return a in ("0.5", "1/2")

    assert maj_at_k(answers, correct, 5, equal=eq) == 1.0
    assert maj_at_k(answers, correct, 5) == 0.0  # 2-2-1 split: "0.3" wins the tie by coming first
    assert all(i == 0 for i, _ in calls)


def test_maj_at_k_weighted_vote():
    answers = [["a", "b", "b"]]
    labels = [[True, False, False]]
    assert maj_at_k(answers, labels, 3) == 0.0
    assert maj_at_k(answers, labels, 3, weights=[[0.9, 0.3, 0.3]]) == 1.0
    # Equal total weight is a tie: the earlier cluster wins.
    assert maj_at_k(answers, labels, 3, weights=[[0.5, 0.25, 0.25]]) == 1.0


def test_weighted_tie_in_exact_arithmetic_is_a_tie_for_the_vote_and_for_maj_at_k():
    # 0.1 + 0.2 != 0.3 in floats; in exact arithmetic the clusters tie and the earlier one ("b") wins.
    # Before, majority_vote (what self-consistency runs) picked "a" by round-off while maj_at_k picked "b".
    answers, weights = ["b", "a", "a"], [0.3, 0.1, 0.2]
    assert majority_vote(answers, weights=weights)[0] == "b"
    assert maj_at_k([answers], [[True, False, False]], 3, weights=[weights]) == 1.0
    # The same on many random weighted cases: the vote over every k-subset is what maj_at_k averages.
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 7))
        k = int(rng.integers(1, n + 1))
        ans = [[None, "1", "2", "3"][int(i)] for i in rng.integers(0, 4, n)]
        w = [float(x) for x in rng.choice([0.1, 0.2, 0.3, 0.5], n)]
        lab = [a == "1" for a in ans]
        acc = []
        for sub in combinations(range(n), k):
            win = majority_vote([ans[j] for j in sub], weights=[w[j] for j in sub])[0]
            acc.append(False if win is None else lab[next(j for j in sub if ans[j] == win)])
        assert maj_at_k([ans], [lab], k, weights=[w]) == pytest.approx(np.mean(acc)), (ans, w, k)


def test_maj_at_k_memory_does_not_grow_with_subsets_times_clusters():
    """maj@k kept an (subsets x clusters) table: at k=1 every sample is a subset, so n samples of distinct answers
    took n^2 floats (several 72 MB tables at n=3,000, 800 MB each at 10,000). Now one entry per answer voted on; the
    vote still matches brute force where answers are mostly distinct."""
    import tracemalloc

    n = 3000
    answers = [[None if j % 7 == 0 else str(j) for j in range(n)]]
    labels = [[j % 3 == 0 for j in range(n)]]
    tracemalloc.start()
    try:
        got = maj_at_k(answers, labels, 1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == pytest.approx(sum(lab for a, lab in zip(answers[0], labels[0]) if a is not None) / n)
    assert peak < 8 * n * n / 4, peak  # a quarter of one n x n float table
    rng = np.random.default_rng(11)
    for _ in range(30):
        m = int(rng.integers(1, 9))
        ans = [None if x == 0 else str(x) for x in rng.integers(0, 12, m)]
        lab = [bool(x) for x in rng.integers(0, 2, m)]
        for k in range(1, m + 1):
            assert maj_at_k([ans], [lab], k) == pytest.approx(_brute_maj(ans, lab, k)), (ans, k)


def test_maj_at_k_sampled_subsets_are_seeded_and_close_to_exact():
    rng = np.random.default_rng(3)
    answers = [[str(x) for x in rng.integers(0, 3, size=16)] for _ in range(5)]
    labels = [[a == "0" for a in ans] for ans in answers]
    exact = maj_at_k_per_problem(answers, labels, 8, n_subsets=20_000)  # C(16,8)=12870: exact
    approx = maj_at_k_per_problem(answers, labels, 8, n_subsets=2000, seed=5)
    again = maj_at_k_per_problem(answers, labels, 8, n_subsets=2000, seed=5)
    assert np.array_equal(approx, again)
    assert np.max(np.abs(approx - exact)) < 0.06


def test_maj_at_k_errors():
    with pytest.raises(PonderError, match="k=4 > n=3"):
        maj_at_k([["a", "b", "c"]], [[True] * 3], 4)
    with pytest.raises(PonderError, match="problem 0 has 1 labels for 2 answers"):
        maj_at_k([["a", "b"]], [[True]], 1)
    with pytest.raises(PonderError, match="no problems"):
        maj_at_k([], [], 1)


def test_maj_at_k_refuses_a_label_that_is_not_true_or_false():
    """bool() of a label counted anything: a correct() that returns the verifier's Verdict (no __bool__) scored every
    vote right, so maj@k was 1.0 for all-wrong answers; the text "false" was right, None wrong."""
    from ponder.verify.math import check_math

    gold = ["4", "9"]
    answers = [["5", "5", "4"], ["1", "9", "1"]]
    assert maj_at_k(answers, lambda i, a: check_math(a, gold[i]).correct, 3) == 0.0
    with pytest.raises(PonderError, match=r"correct\(\) returned Verdict\(.*problem 0 sample 0, need True or False"):
        maj_at_k(answers, lambda i, a: check_math(a, gold[i]), 3)
    for bad in ("false", None, 2, 0.5):
        with pytest.raises(PonderError, match=f"problem 1 sample 2 has label {bad!r}, need True or False"):
            maj_at_k(answers, [[False, False, True], [True, False, bad]], 2)
    assert maj_at_k(answers, [[0, 0, 1], np.array([True, False, True])], 3) == 0.5  # 0/1 and numpy booleans


# ------------------------------------------------------------------------------------------ bootstrap


def test_bootstrap_ci_contains_mean_and_shrinks_with_more_problems():
    rng = np.random.default_rng(0)
    small = rng.random(20) < 0.6
    big = rng.random(2000) < 0.6
    m1, lo1, hi1 = bootstrap_ci(small)
    m2, lo2, hi2 = bootstrap_ci(big)
    assert lo1 <= m1 <= hi1 and lo2 <= m2 <= hi2
    assert (hi2 - lo2) < (hi1 - lo1) / 4
    # Normal-approximation width for p=0.6, m=2000 is 2*1.96*sqrt(.24/2000) ~ 0.043.
    assert 0.03 < hi2 - lo2 < 0.06
    assert bootstrap_ci(big, seed=3) == bootstrap_ci(big, seed=3)


def test_bootstrap_interval_covers_near_nominal_at_ten_problems():
    """Fractional per-problem values (accuracy over 16 samples) at 10 problems: the plain percentile bootstrap
    covered the true mean 87-89% of the time here; the expanded percentile interval >= 91%."""
    rng = np.random.default_rng(1)
    for a, b in ((1, 5), (5, 1), (2, 2)):
        hits = 0
        for r in range(1000):
            _, lo, hi = bootstrap_ci(rng.binomial(16, rng.beta(a, b, 10)) / 16, seed=r)
            hits += lo <= a / (a + b) <= hi
        assert hits >= 910, (a, b, hits)


def test_mean_ci_covers_at_two_to_four_problems():
    """With 2-4 problems the expanded bootstrap cannot reach its level (its extreme resample has probability
    n^(1-n) > alpha'/2): its "95%" interval was [min, max] of the values and covered 65% at 2 problems, 81% at 3,
    89% at 4 here. mean_ci widens it to the Student-t interval, clipped to [0, 1]; from 5 problems on it is the
    bootstrap's, unchanged (README figures)."""
    rng = np.random.default_rng(0)
    for n in (2, 3, 4):
        for a, b in ((2, 2), (20, 20)):
            hits = 0
            for r in range(300):
                m, lo, hi = mean_ci(rng.binomial(16, rng.beta(a, b, n)) / 16, n_boot=200, seed=r)
                assert 0.0 <= lo <= m <= hi <= 1.0
                hits += lo <= a / (a + b) <= hi
            assert hits >= 0.9 * 300, (n, a, b, hits)
    x = [0.25, 0.5, 0.5625, 0.75, 0.9375]
    assert mean_ci(x, seed=3) == bootstrap_ci(x, seed=3)  # n = 5: the bootstrap's own interval
    m, lo, hi = mean_ci([100.0, 400.0], proportion=False)  # token counts: the t interval, not clipped to [0, 1]
    assert m == 250.0 and lo < 0 and hi > 500
    # ... but a floor no value can pass below (token counts, latencies: 0) clips it: "[-13.5, 57.0]" tokens was shown
    assert mean_ci([100.0, 400.0], proportion=False, floor=0)[1:] == (0.0, hi)
    assert mean_ci([11, 11, 11, 60], proportion=False, floor=0)[1] == 0.0
    rows = [[{"answer": "1", "correct": True, "tokens": t, "latency": t / 10}] for t in (11, 11, 11, 60)]
    got = summarize(rows, ks=[1])["metrics"]
    assert got["mean_tokens"]["lo"] == 0.0 == got["mean_latency"]["lo"] and got["mean_tokens"]["hi"] > 60


def test_student_t_quantiles_and_the_expansion():
    from ponder.metrics import expanded_alpha, student_t_quantile

    for p, df, t in ((0.975, 1, 12.706205), (0.975, 9, 2.262157), (0.95, 4, 2.131847), (0.995, 30, 2.749996)):
        assert student_t_quantile(p, df) == pytest.approx(t, abs=1e-6)
    assert expanded_alpha(0.05, 10) == pytest.approx(0.0171, abs=1e-4)
    assert 0.048 < expanded_alpha(0.05, 200) < 0.05


def test_student_t_quantile_below_the_median_and_outside_its_domain():
    """The bisection searched t >= 0 only: p = 0.3 (or df = 0) returned 0 instead of a negative quantile (or an
    error), and expanded_alpha of one value was a ZeroDivisionError. Checked against the closed forms at df = 1
    (Cauchy: tan(pi (p - 1/2))) and df = 2 ((2p - 1) / sqrt(2 p (1 - p)))."""
    from ponder.metrics import expanded_alpha, student_t_quantile

    for p in (0.01, 0.025, 0.3, 0.5, 0.7, 0.975):
        assert student_t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), abs=1e-9)
        assert student_t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), abs=1e-9)
    for p, df in ((0.0, 3), (1.0, 3), (-0.5, 3), (float("nan"), 3), (0.9, 0), (0.9, -2), (0.9, math.inf)):
        with pytest.raises(PonderError, match="student_t_quantile"):
            student_t_quantile(p, df)
    for n in (1, 0):
        with pytest.raises(PonderError, match=f"expanded_alpha: n={n} values, need an integer >= 2"):
            expanded_alpha(0.05, n)


def test_bootstrap_ci_degenerate_and_errors():
    assert bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0, 1.0)
    # one problem: no spread over problems to read, so no interval (it was [0.25, 0.25]); an accuracy's is [0, 1]
    assert bootstrap_ci([0.25]) == (0.25, -math.inf, math.inf)
    assert mean_ci([0.25]) == (0.25, 0.0, 1.0)
    assert mean_ci([7.0], proportion=False) == (7.0, -math.inf, math.inf)
    assert mean_ci([1.0])[1:] == pytest.approx((0.2065, 1.0), abs=1e-4)  # 1 of 1 correct: Wilson's interval
    s = summarize([[{"correct": True}, {"correct": False}, {"correct": True}]], ks=(1,))
    assert s["metrics"]["pass@1"]["mean"] == pytest.approx(2 / 3)
    assert (s["metrics"]["pass@1"]["lo"], s["metrics"]["pass@1"]["hi"]) == (0.0, 1.0)
    with pytest.raises(PonderError, match="no values"):
        bootstrap_ci([])
    with pytest.raises(PonderError, match="value 1 is nan"):
        bootstrap_ci([0.1, float("nan")])


# ------------------------------------------------------------------------------------------ summarize


def _records(rng, n_problems, n, p):
    out = []
    for _ in range(n_problems):
        recs = []
        for _ in range(n):
            ok = bool(rng.random() < p)
            ans = None if rng.random() < 0.1 else ("42" if ok else str(int(rng.integers(0, 5))))
            recs.append(
                {
                    "correct": ok and ans is not None,
                    "answer": ans,
                    "tokens": int(rng.integers(10, 100)),
                    "finish_reason": "length" if rng.random() < 0.2 else "stop",
                    "latency": float(rng.random()),
                    "logprob_mean": float(-rng.random()),
                }
            )
        out.append(recs)
    return out


def test_summarize_metrics_and_invariants():
    rng = np.random.default_rng(0)
    recs = _records(rng, 30, 8, 0.5)
    s = summarize(recs, ks=[1, 4, 8])
    m = s["metrics"]
    assert s["n_problems"] == 30 and s["n_samples"] == 8 and s["ks"] == [1, 4, 8]
    for name in ["pass@1", "pass@4", "pass@8", "maj@1", "maj@4", "maj@8", "wmaj@4", "wmaj@8",
                 "mean_tokens", "mean_latency", "truncation_rate", "no_answer_rate"]:
        assert m[name]["lo"] <= m[name]["mean"] <= m[name]["hi"], name
    flat = [r for p in recs for r in p]
    assert m["pass@1"]["mean"] == pytest.approx(np.mean([r["correct"] for r in flat]))
    assert m["mean_tokens"]["mean"] == pytest.approx(np.mean([r["tokens"] for r in flat]))
    assert m["truncation_rate"]["mean"] == pytest.approx(np.mean([r["finish_reason"] == "length" for r in flat]))
    assert m["no_answer_rate"]["mean"] == pytest.approx(np.mean([r["answer"] is None for r in flat]))
    assert m["pass@1"]["mean"] <= m["pass@4"]["mean"] <= m["pass@8"]["mean"]
    assert m["maj@1"]["mean"] == pytest.approx(m["pass@1"]["mean"])
    assert m["maj@8"]["mean"] <= m["pass@8"]["mean"]


def test_summarize_wmaj_with_an_empty_sample():
    # An empty completion has no log-prob (evaluate records None) and no answer; a None answer never gets a vote,
    # so its weight is irrelevant: one such sample must not drop wmaj@k from the whole summary.
    rng = np.random.default_rng(3)
    recs = _records(rng, 6, 4, 0.5)
    recs[2][1] = {**recs[2][1], "answer": None, "logprob_mean": None, "tokens": 0}
    m = summarize(recs, ks=[4])["metrics"]
    assert "wmaj@4" in m
    any_weight = [[{**r, "logprob_mean": -7.0} if r["logprob_mean"] is None else r for r in p] for p in recs]
    assert m["wmaj@4"] == summarize(any_weight, ks=[4])["metrics"]["wmaj@4"]
    # a sample WITH an answer but no log-prob has no known weight: no wmaj@k then
    recs[3][0] = {**recs[3][0], "answer": "5", "logprob_mean": None}
    assert "wmaj@4" not in summarize(recs, ks=[4])["metrics"]


def test_summarize_ks_from_a_generator():
    # ks was iterated twice (checked, then collected): a generator's second pass was empty, so pass@2 vanished
    recs = [[{"correct": True}, {"correct": False}], [{"correct": False}, {"correct": False}]]
    s = summarize(recs, ks=(k for k in [2]))
    assert s["ks"] == [1, 2] and "pass@2" in s["metrics"]


def test_summarize_optional_fields_and_errors():
    s = summarize([[{"correct": True}, {"correct": False}]], ks=[2])
    assert set(s["metrics"]) == {"pass@1", "pass@2"}
    with pytest.raises(PonderError, match="k=16 > n=8 samples"):
        summarize([[{"correct": True}] * 8], ks=[16])
    with pytest.raises(PonderError, match="empty benchmark"):
        summarize([], ks=[1])
    with pytest.raises(PonderError, match="problem 1 sample 0"):
        summarize([[{"correct": True}], [{"answer": "1"}]])


@pytest.mark.parametrize("recs, ks, msg", [
    # int(k) read k=2.5 as pass@2 / maj@2; "a" was a ValueError
    ([[{"correct": True}] * 4], [2.5], r"summarize: k=2\.5 must be a positive integer"),
    ([[{"correct": True}] * 4], ["a"], r"summarize: k='a' must be a positive integer"),
    # bool() counted a malformed label silently: "false" as right, None as wrong
    ([[{"correct": True}, {"correct": "false"}]], [1], r"problem 0 sample 1 has correct='false', need true or false"),
    ([[{"correct": None}]], [1], r"problem 0 sample 0 has correct=None"),
    # float(None) was a TypeError; NaN a "bootstrap_ci: value 0 is nan" that named no record
    ([[{"correct": True, "tokens": 3}], [{"correct": True, "tokens": None}]], [1],
     r"problem 1 sample 0 has tokens=None, need a finite number"),
    ([[{"correct": True, "latency": float("nan")}]], [1], r"problem 0 sample 0 has latency=nan"),
])
def test_summarize_rejects_malformed_records_and_ks_by_name(recs, ks, msg):
    with pytest.raises(PonderError, match=msg):
        summarize(recs, ks=ks)
    with pytest.raises(PonderError, match=r"maj_at_k: k=1\.5 must be a positive integer"):
        maj_at_k([["a", "b"]], [[True, False]], 1.5)


def test_summarize_groups_equivalent_answers_for_maj():
    recs = [[{"correct": a in ("0.5", "1/2"), "answer": a} for a in ["0.3", "0.5", "1/2", "0.3", "1/2"]]]
    spell = {"0.5": "h", "1/2": "h"}
    plain = summarize(recs, ks=[5], n_boot=10)["metrics"]["maj@5"]["mean"]
    grouped = summarize(recs, ks=[5], n_boot=10, equal=lambda a, b: spell.get(a, a) == spell.get(b, b))
    assert plain == 0.0 and grouped["metrics"]["maj@5"]["mean"] == 1.0


def test_identical_answers_vote_together_even_where_equal_is_not_reflexive():
    """answers_equal is False for two identical answers over its length cap; the vote split them, so the
    one-off "5" beat the answer given twice."""
    from ponder.verify.math import MAX_ANSWER_CHARS, answers_equal

    long = "1" * (MAX_ANSWER_CHARS + 1)
    answers = ["5", long, long]
    assert not answers_equal(long, long)  # the premise: the verifier's equality is not reflexive here
    assert cluster_answers(answers, answers_equal) == [0, 1, 1]
    win, _, sizes = majority_vote(answers, equal=answers_equal)
    assert win == long and sizes[long] == 2
    assert maj_at_k([answers], [[True, False, False]], 3, equal=answers_equal) == 0.0
    recs = [[{"correct": a == "5", "answer": a} for a in answers]]
    assert summarize(recs, ks=[3], n_boot=10, equal=answers_equal)["metrics"]["maj@3"]["mean"] == 0.0


def test_accuracy_intervals_cover_at_small_n_and_extreme_accuracy():
    """Exact coverage (sum over the binomial) of the nominal 95% interval that summaries give 0/1 per-problem
    values: at least 92% everywhere on the grid. The percentile bootstrap it replaces covered 18% at n=10,
    p=0.02, and gave 10/10 a zero-width interval."""
    import math

    from ponder.metrics import mean_ci, wilson_ci

    def coverage(n, p):
        cis = [mean_ci([1.0] * k + [0.0] * (n - k)) for k in range(n + 1)]
        return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k, (_, lo, hi) in enumerate(cis) if lo <= p <= hi)
    worst = min(coverage(n, p) for n in (10, 20, 50, 200) for p in (0.02, 0.1, 0.3, 0.5, 0.9, 0.98))
    assert worst >= 0.92, worst
    m, lo, hi = mean_ci([1.0] * 10)
    assert m == hi == 1.0 and 0.6 < lo < 0.75
    assert wilson_ci(70, 200) == pytest.approx((0.35, 0.2873, 0.4184), abs=1e-4)  # by hand from the formula
    assert mean_ci([0.5, 1.0, 0.0, 0.25, 0.75]) == bootstrap_ci([0.5, 1.0, 0.0, 0.25, 0.75])  # fractions: bootstrap
    with pytest.raises(PonderError, match="successes"):
        wilson_ci(3, 2)


def test_identical_fractional_accuracies_get_a_non_zero_width_interval():
    """Every problem at 0.5 (1 of 2 samples right) resampled to [0.5, 0.5]: certainty from 5 problems. Like 0/1
    values (Wilson), identical fractions take the Wilson interval of their mean over the n problems; it narrows as
    n grows and stays in [0, 1]; values that differ keep their bootstrap interval."""
    from ponder.metrics import mean_ci, wilson_ci

    for c, n in ((0.5, 5), (0.25, 8), (0.999, 10), (0.5, 200)):
        m, lo, hi = mean_ci([c] * n)
        assert m == c and 0 <= lo < c < hi <= 1, (c, n)
    assert mean_ci([0.5] * 10) == wilson_ci(5, 10)  # the same width as half of 10 problems right
    assert mean_ci([0.5] * 10)[2] - mean_ci([0.5] * 10)[1] > mean_ci([0.5] * 100)[2] - mean_ci([0.5] * 100)[1]
    assert mean_ci([0.5, 0.5, 0.75, 0.5, 0.5]) == bootstrap_ci([0.5, 0.5, 0.75, 0.5, 0.5])
    assert mean_ci([64.0] * 5, proportion=False) == (64.0, 64.0, 64.0)  # token counts: not an accuracy


def test_wilson_bounds_solve_the_score_equation_and_counts_must_be_integers():
    """Wilson's bounds are the two p where the score statistic |phat - p| / sqrt(p (1 - p) / n) equals z, solved
    here by bisection (0 and 1 themselves at 0 and n successes). A fractional count (2.5 of 10: a sum of accuracies)
    was given an interval as if it were a binomial count."""
    from statistics import NormalDist

    from ponder.metrics import wilson_ci

    z = NormalDist().inv_cdf(0.975)

    def root(phat, n, a, b):  # the p in [a, b] where the score statistic crosses z (monotone there)
        def f(p):
            return abs(phat - p) - z * math.sqrt(p * (1 - p) / n)

        for _ in range(80):
            m = (a + b) / 2
            a, b = (m, b) if (f(m) > 0) == (f(a) > 0) else (a, m)
        return (a + b) / 2

    for n in (1, 2, 5, 10, 37):
        for s in range(n + 1):
            phat, lo, hi = wilson_ci(s, n)
            assert lo == (0.0 if s == 0 else pytest.approx(root(phat, n, 0.0, phat), abs=1e-9)), (s, n)
            assert hi == (1.0 if s == n else pytest.approx(root(phat, n, phat, 1.0), abs=1e-9)), (s, n)
    assert wilson_ci(np.int64(3), np.int64(10)) == wilson_ci(3, 10)
    for args in ((2.5, 10), (3, 10.0), (True, 1), ("3", 10)):
        with pytest.raises(PonderError, match=r"wilson_ci: (successes|n)=.* must be an integer count"):
            wilson_ci(*args)


def _settled_by_brute_force(prefix, n):
    """Every way the remaining n - len(prefix) votes could go (an existing answer, a new one or None)
    gives the prefix's leader as the full vote's winner."""
    from itertools import product

    seen = sorted({a for a in prefix if a is not None})
    lead = majority_vote(prefix)[0]
    for rest in product(seen + ["<new1>", "<new2>", "<new3>", None], repeat=n - len(prefix)):
        if majority_vote(list(prefix) + list(rest))[0] != lead:
            return False
    return lead is not None or len(prefix) == n


def test_early_stop_stops_as_soon_as_the_remaining_votes_cannot_change_the_winner():
    """Early stop used to wait for a strict majority (> n/2), drawing samples that could not change the
    winner: 4 "a" of 8 (ties go to the earlier cluster) drew all 8; "a", None, None of 4 drew the 4th. It
    now stops at the first prefix whose winner every continuation keeps (brute force over continuations)."""
    assert majority_vote(["a"] * 4 + ["b"] * 4, early_stop=True)[:2] == ("a", 4)
    assert majority_vote(["a", None, None, "b"], early_stop=True)[:2] == ("a", 3)
    assert majority_vote(["b", "a", "a", "a"], early_stop=True)[:2] == ("a", 4)  # "b" is earlier: 2-2 would be b's
    assert majority_vote([None, None, None], early_stop=True)[:2] == (None, 3)
    assert vote_decided([2, 1], 0) and not vote_decided([], 1) and vote_decided([2, 1], 1)
    assert not vote_decided([1, 2], 1) and not vote_decided([1], 2)
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.integers(1, 7))
        seq = [None if x == 3 else "abc"[x] for x in rng.integers(0, 4, size=n)]
        ans, used, _ = majority_vote(seq, early_stop=True)
        assert ans == majority_vote(seq)[0]
        want = next(m for m in range(1, n + 1) if _settled_by_brute_force(seq[:m], n))
        assert used == want, (seq, used, want)


def test_tie_tolerance_is_relative_so_tiny_weights_still_compare():
    """The tie tolerance was 1e-9 * max(|top|, 1): absolute for weights below 1, so exp(mean log-prob)
    weights of very unsure samples (mean log-prob -28 vs -27, weights ~1e-12) all "tied" and the earliest
    cluster won even when another had three times its weight. Ties are now relative to the top vote."""
    w = logprob_weights([-28.0, -27.0])
    assert majority_vote(["a", "b"], weights=w)[0] == "b"  # was "a"
    assert maj_at_k([["a", "b"]], [[False, True]], 2, weights=[w]) == 1.0  # was 0.0
    assert majority_vote(["a", "b"], weights=[1e-12, 3e-12])[0] == "b"
    # equal in exact arithmetic (0.1 + 0.2 vs 0.3) is still a tie, for tiny weights too
    assert majority_vote(["a", "b", "a"], weights=[0.1e-12, 0.3e-12, 0.2e-12])[0] == "a"
    assert maj_at_k([["a", "b", "a"]], [[True, False, True]], 3, weights=[[0.1e-12, 0.3e-12, 0.2e-12]]) == 1.0
    assert majority_vote(["a", "b"], weights=[0.0, 0.0])[0] == "a"  # all-zero weights: an exact tie


def test_pass_at_k_and_maj_at_k_against_brute_force_with_ties_none_and_weights():
    """Independent brute force over all k-subsets: pass@k = share of subsets with a correct sample; maj@k =
    share whose vote (exact rational weights, ties to the earliest cluster, None never wins, an all-None
    subset wrong) picks a correct representative."""
    from fractions import Fraction

    rng = np.random.default_rng(7)
    for _ in range(400):
        n = int(rng.integers(1, 7))
        k = int(rng.integers(1, n + 1))
        answers = [None if x == 3 else "abc"[x] for x in rng.integers(0, 4, size=n)]
        labels = [bool(x) for x in rng.integers(0, 2, size=n)]
        w = [float(x) for x in rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], size=n)] if rng.random() < 0.5 else None
        subs = list(combinations(range(n), k))
        assert pass_at_k(n, sum(labels), k) == pytest.approx(np.mean([any(labels[j] for j in s) for s in subs]),
                                                             abs=1e-12)
        hits = []
        for s in subs:
            tally: dict[str, Fraction] = {}
            first: dict[str, int] = {}
            for j in s:
                if answers[j] is not None:
                    tally[answers[j]] = tally.get(answers[j], Fraction(0)) + Fraction(1 if w is None else w[j])
                    first.setdefault(answers[j], j)
            if not tally:
                hits.append(False)
                continue
            top = max(tally.values())
            hits.append(labels[min(first[a] for a, v in tally.items() if v == top)])
        got = maj_at_k([answers], [labels], k, weights=None if w is None else [w])
        assert got == pytest.approx(float(np.mean(hits)), abs=1e-12), (answers, labels, k, w)


def test_token_counts_get_a_bootstrap_interval_not_wilsons():
    """One token per sample is not a success rate: mean_tokens used to get Wilson's [0.72, 1] around its 1.0."""
    from ponder.metrics import summarize

    recs = [[{"correct": i % 2 == 0, "answer": "1", "tokens": 1, "latency": 1.0, "finish_reason": "stop"}]
            for i in range(10)]
    m = summarize(recs, (1,))["metrics"]
    assert m["mean_tokens"] == {"mean": 1.0, "lo": 1.0, "hi": 1.0}
    assert m["mean_latency"]["lo"] == 1.0
    assert m["pass@1"]["lo"] < 0.5 < m["pass@1"]["hi"]  # a proportion: Wilson


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_maj_at_k_n_subsets_must_be_a_positive_integer(bad):
    with pytest.raises(PonderError, match="n_subsets must be a positive integer"):
        maj_at_k([["1", "2", "1"]], [[True, False, True]], 2, n_subsets=bad)


@pytest.mark.parametrize("seed", [-1, None, 1.5, "3", True])
def test_a_bad_seed_is_named_and_none_is_not_a_fresh_random_one(seed):
    """Everything here is seeded: bootstrap_ci(seed=None) drew fresh random intervals on every call, and -1, 1.5 or
    "3" were bare ValueErrors and TypeErrors from numpy (or, for maj_at_k's enumerated subsets, taken)."""
    recs = [[{"correct": True, "answer": "1"}, {"correct": False, "answer": "2"}]] * 3
    for call in (lambda: bootstrap_ci([0.1, 0.5, 0.9], seed=seed),
                 lambda: maj_at_k([["1", "2", "1"]], [[True, False, True]], 2, seed=seed),
                 lambda: summarize(recs, seed=seed)):
        with pytest.raises(PonderError, match=f"seed={seed!r} must be an integer >= 0"):
            call()


def test_maj_at_k_takes_a_numpy_n_subsets():
    """k, n_boot and the rest take a numpy integer (a grid of settings); n_subsets was refused as "must be a positive
    integer, got 4"."""
    import numpy as np

    args = ([["1", "2", "1", "3", "1", "2"]], [[True, False, True, False, True, False]], 3)
    assert maj_at_k(*args, n_subsets=np.int64(4), seed=1) == maj_at_k(*args, n_subsets=4, seed=1)


@pytest.mark.parametrize("bad", ["x", True])
def test_summarize_names_a_malformed_logprob_mean(bad):
    recs = [[{"correct": True, "answer": "a", "logprob_mean": bad}, {"correct": False, "answer": "b", "logprob_mean": -1.0}]]
    with pytest.raises(PonderError, match=r"problem 0 sample 0 has logprob_mean="):
        summarize(recs, ks=[2])


@pytest.mark.parametrize("bad", ["x", "-1.0", True, None, float("nan"), -math.inf])
def test_logprob_weights_names_a_malformed_logprob_mean(bad):
    """float("x") was a bare ValueError, and True (or the text "-1.0") was taken as a number."""
    assert logprob_weights([-0.5, np.float32(0.0), 2]) == [math.exp(-0.5), 1.0, 1.0]
    with pytest.raises(PonderError, match=f"sample 1 has logprob_mean={bad!r}, need a finite number"):
        logprob_weights([-0.5, bad])


@pytest.mark.parametrize("n_boot", [2.5, True, "100", 0])
def test_bootstrap_ci_names_a_bad_n_boot(n_boot):
    with pytest.raises(PonderError, match=f"n_boot={n_boot!r} must be an integer >= 1"):
        bootstrap_ci([0.5, 0.2, 0.9], n_boot=n_boot)


def test_accuracy_intervals_contain_the_estimate_and_are_monotone():
    """The Wilson interval summaries give 0/1 per-problem values: it contains the point estimate, both bounds
    rise with the number right at fixed n, it stays in [0, 1] (0% and 100% included), and at a fixed accuracy it
    narrows as n grows; a narrower alpha never gives a wider interval."""
    from ponder.metrics import wilson_ci

    for n in range(1, 41):
        bounds = [mean_ci([1.0] * s + [0.0] * (n - s)) for s in range(n + 1)]
        for s, (m, lo, hi) in enumerate(bounds):
            assert 0.0 <= lo <= m == s / n <= hi <= 1.0
        assert bounds[0][1] == 0.0 and bounds[n][2] == 1.0
        assert all(a[1] <= b[1] and a[2] <= b[2] for a, b in zip(bounds, bounds[1:])), n
        for s in range(n + 1):
            _, lo90, hi90 = wilson_ci(s, n, alpha=0.10)
            _, lo95, hi95 = wilson_ci(s, n, alpha=0.05)
            assert lo95 <= lo90 and hi90 <= hi95
    for p in (0.0, 0.25, 0.5, 0.75, 1.0):
        widths = [wilson_ci(round(p * n), n)[2] - wilson_ci(round(p * n), n)[1] for n in (4, 8, 16, 32, 64, 128)]
        assert all(a > b for a, b in zip(widths, widths[1:])), (p, widths)


def test_majority_vote_sizes_keep_every_cluster_of_unhashable_answers():
    # a custom equal's list answers failed as a bare "unhashable type"
    ans, used, sizes = majority_vote([[1, 2], [3], [1, 2]], equal=lambda a, b: a == b)
    assert ans == [1, 2] and used == 3 and sizes == {"[1, 2]": 2, "[3]": 1}
    ans, _, sizes = majority_vote(["[3]", [3], [3]], equal=lambda a, b: a == b)  # a text cluster written the same
    assert ans == [3] and sorted(sizes.values()) == [1, 2]
    assert majority_vote(["7", "3", "7"])[2] == {"7": 2, "3": 1}  # text answers keep their own keys


@pytest.mark.parametrize("w", [["x", 1.0], [[1.0], [1.0, 2.0]], [True, 1.0], ["0.5", 1.0]])
def test_a_weight_that_is_no_number_is_named(w):
    """Weights that are no numbers were a bare numpy ValueError (text, a ragged list) or read as numbers ("0.5",
    True as 1.0), as logprob_weights refuses them."""
    with pytest.raises(PonderError, match=r"^majority_vote: weight 0 is .*, need a number$"):
        majority_vote(["a", "b"], weights=w)
    with pytest.raises(PonderError, match=r"^maj_at_k problem 0: weight 0 is .*, need a number$"):
        maj_at_k([["a", "b"]], [[True, False]], 2, weights=[w])


@pytest.mark.parametrize("n", ["3", 2.5, True])
def test_n_planned_that_is_no_integer_is_named(n):
    """n_planned="3" was a bare TypeError, True voted on the first answer alone and 2.5 on three."""
    with pytest.raises(PonderError, match=r"^majority_vote: n_planned=.* must be an integer$"):
        majority_vote(iter(["a", "b", "a"]), early_stop=True, n_planned=n)
