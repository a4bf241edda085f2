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
