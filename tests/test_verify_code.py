"""Sandboxed code verifier: correct programs pass, every attack scores 0, the caller is never harmed."""

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ponder.errors import PonderError
from ponder.verify.code import check_code, extract_code, sandbox_info
from ponder.verify.verdict import Verdict

TESTS = "assert add(1, 2) == 3\nassert add(-4, 10) == 6\nassert add(0, 0) == 0"
IO = [{"input": "1 2\n", "output": "3\n"}, {"input": "40 2", "output": "42"}]


def blk(src: str) -> str:
    return f"Let me write it.\n```python\n{src}\n```\nDone."


def _verdicts(calls) -> list[Verdict]:
    """check_code(completion, tests, **kw) for each (completion, tests[, kw]) of `calls`, in order. Most of a check
    is the start of its sandboxed interpreter: run side by side, a test of dozens of checks takes a fraction of the
    time it took one after another (check_code is thread-safe: test_calls_from_worker_threads)."""
    calls = list(calls)
    with ThreadPoolExecutor(4) as ex:
        return list(ex.map(lambda c: check_code(c[0], c[1], **(c[2] if len(c) > 2 else {})), calls))


def _fails_in_bounded_memory(program: str, tests) -> bool:
    """The program fails the tests ("failed test 1") while the caller's side stays under 100 MiB: an expected
    value past the caller's bounds is refused, never built (each case holds in Python, given gigabytes)."""
    tracemalloc.start()
    try:
        v = check_code(blk(program), tests)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (v.correct, v.reason, peak < 100 << 20) == (False, "failed test 1", True)


def test_correct_program_scores_one_and_wrong_scores_zero():
    v = check_code(blk("def add(a, b):\n    return a + b"), TESTS)
    assert (v.correct, v.value, v.reason) == (True, 1.0, "passed 3/3")
    v = check_code(blk("def add(a, b):\n    return a + b if a >= 0 else 0"), TESTS)
    assert (v.correct, v.value, v.reason) == (False, 0.0, "failed test 2")


def test_stdio_cases_compare_whole_output():
    prog = "a, b = map(int, input().split())\nprint(a + b)"
    assert check_code(blk(prog), IO).reason == "passed 2/2"
    # trailing whitespace per line and trailing blank lines are normalised (and spacing, see below)
    assert check_code(blk("print('3   ')\nprint()\nprint()"), [{"input": "", "output": "3"}]).correct
    assert check_code(blk("print(1)"), [{"input": "", "output": "1\n2"}]).reason == "failed test 1"  # prefix
    assert check_code(blk("print(1)\nprint(2)"), [{"input": "", "output": "1"}]).reason == "failed test 1"
    assert check_code(blk("print(3)\nraise SystemExit(0)"), [{"input": "", "output": "3"}]).correct
    assert check_code(blk("print(3)\nraise ValueError"), [{"input": "", "output": "3"}]).reason == "crashed"
    # CPython exits with the int value of a bool or other int subclass: sys.exit(False) is status 0
    assert check_code(blk("print(3)\nraise SystemExit(False)"), [{"input": "", "output": "3"}]).correct
    assert check_code(blk("print(3)\nraise SystemExit(True)"), [{"input": "", "output": "3"}]).reason == "crashed"
    # closing stdout at the end flushes it; Python then exits 0 (it flushes only streams still open)
    assert check_code(blk("import sys\nprint(3)\nsys.stdout.close()"), [{"input": "", "output": "3"}]).correct
    apps = {"inputs": ["2 2", "1 1"], "outputs": ["4", "3"]}
    assert check_code(blk(prog), apps).reason == "failed test 2"


def test_tests_given_as_a_json_string_are_read_as_the_json():
    # APPS and TACO keep `input_output` as JSON text ('{"inputs": [...], "outputs": [...]}'), and a list of asserts
    # saved through CSV or a string column is '["assert ..."]': read as Python source, each was "no assert
    # statements found", naming nothing of the JSON it is; decoded, they are the dict and list they hold
    prog = "a, b = map(int, input().split())\nprint(a * b)"
    apps = json.dumps({"inputs": ["2 2\n", "1 3\n"], "outputs": ["4\n", "3\n"]})
    call = json.dumps({"fn_name": "mul", "inputs": [[2, 2], [1, 3]], "outputs": [[4], [3]]})
    listed = json.dumps(["assert mul(2, 2) == 4", "assert mul(1, 3) == 3"])
    fn = "def mul(a, b):\n    return a * b"
    verdicts = _verdicts([(blk(prog), apps), (blk(fn), call), (blk(fn), listed), (blk(fn), " " + listed + "\n")])
    assert [v.reason for v in verdicts] == ["passed 2/2"] * 4
    assert check_code(blk("def mul(a, b):\n    return a + b"), listed).reason == "failed test 2"
    with pytest.raises(PonderError, match="got a list holding int"):  # JSON of no tests is still refused
        check_code(blk(fn), "[1, 2]")


def test_stdio_whitespace_between_tokens_is_normalised_line_by_line():
    # as LiveCodeBench (each line stripped, then its whitespace tokens) and Codeforces/CodeContests checkers
    # (whitespace-separated tokens): spacing within a line is no part of the answer; line structure is
    ok = [("print('1  2')", "1 2\n"), ("print('  1 2')", "1 2"), ("print('1\\t2\\t')", "1 2"),
          ("import sys\nsys.stdout.write('1 2\\r\\n3\\r\\n')", "1 2\n3\n"), ("print('1 2')", "1\t 2\r\n"),
          ("print()\nprint(' 3')", "3"), ("print('a  b')", "a b")]
    bad = [("print('12')", "1 2"), ("print('1 2')", "12"), ("print('1')\nprint('2')", "1 2"),
           ("print('1 2')", "1\n2"), ("print('1\\n\\n2')", "1\n2")]
    verdicts = _verdicts((blk(p), [{"input": "", "output": out}]) for p, out in ok + bad)
    assert [v.reason for v in verdicts] == ["passed 1/1"] * len(ok) + ["failed test 1"] * len(bad)


def test_apps_call_based_problems_call_the_function_or_solution_method():
    # {"fn_name": ..., "inputs": [[args]], "outputs": [...]} (APPS/TACO's LeetCode-style problems) was refused
    tests = {"fn_name": "add", "inputs": [[1, 2], [[1], [2]]], "outputs": [3, [[1, 2]]]}
    ok = ["def add(a, b):\n    return a + b", "class Solution:\n    def add(self, a, b):\n        return a + b",
          "def add(a, b):\n    return tuple(a + b) if isinstance(a, list) else a + b"]  # a tuple is its list, as APPS
    bad = ["def add(a, b):\n    return a * 2 if isinstance(a, int) else a + b", "def add(a, b):\n    return [3]"]
    verdicts = _verdicts([(blk(p), tests) for p in ok + bad])
    assert [v.reason for v in verdicts] == ["passed 2/2"] * len(ok) + ["failed test 1", "failed test 1"]
    with pytest.raises(PonderError, match="'fn_name' must be a function's name"):
        check_code(blk(ok[0]), {**tests, "fn_name": "1x"})
    with pytest.raises(PonderError, match="'input' must be a string"):  # an empty fn_name: stdio cases, as before
        check_code(blk(ok[0]), {**tests, "fn_name": ""})


def test_apps_call_based_result_of_tuples_matches_json_lists_as_in_apps():
    # JSON has no tuples: APPS compares `[list(x) for x in result]` with the (wrapped) expected list of lists, so
    # a function returning a list of pairs as tuples passes there; it failed here
    tests = {"fn_name": "pairs", "inputs": [["ab"], [""]], "outputs": [[[["a", 0], ["b", 1]]], [[]]]}
    ok = ["def pairs(s):\n    return list(zip(s, range(len(s))))", "def pairs(s):\n    return [[c, i] for i, c in enumerate(s)]",
          "def pairs(s):\n    return tuple(zip(s, range(len(s))))"]
    bad = ["def pairs(s):\n    return [(c, i + 1) for i, c in enumerate(s)]", "def pairs(s):\n    return [tuple(s)]"]
    verdicts = _verdicts([(blk(p), tests) for p in ok + bad])
    assert [v.reason for v in verdicts] == ["passed 2/2"] * len(ok) + ["failed test 1"] * len(bad)


def test_apps_call_based_a_solution_class_without_the_method_leaves_the_function():
    # a program with its own helper `class Solution` (no method of that name) and the top-level function: the
    # call went to Solution().add, an AttributeError, and the right program failed
    tests = {"fn_name": "add", "inputs": [[1, 2]], "outputs": [3]}
    helper = "class Solution:\n    pass\ndef add(a, b):\n    return a + b"
    both = "class Solution:\n    def add(self, a, b):\n        return a + b\ndef add(a, b):\n    return 0"
    assert [v.reason for v in _verdicts([(blk(helper), tests), (blk(both), tests)])] == ["passed 1/1"] * 2


def test_apps_call_based_only_a_one_element_list_is_the_wrapper_of_a_result():
    # APPS wraps a result as `[result]`; a longer expected list is the result itself: returning its first item
    # passed (`[1, 2, 3]` accepted 1), and one whose first item is a dict was cut to that dict (`[{}, {'a': 1}]`
    # failed the right answer and accepted `{}`)
    tests = {"fn_name": "f", "inputs": [[3]], "outputs": [[1, 2, 3]]}
    dicts = {"fn_name": "g", "inputs": [[0]], "outputs": [[{}, {"a": 1}]]}
    pairs = {"fn_name": "h", "inputs": [[0]], "outputs": [[[[1]], [[2]]]]}
    calls = [(blk("def f(n):\n    return [1, 2, 3]"), tests), (blk("def f(n):\n    return (1, 2, 3)"), tests),
             (blk("def f(n):\n    return 1"), tests),
             (blk("def g(n):\n    return [{}, {'a': 1}]"), dicts), (blk("def g(n):\n    return {}"), dicts),
             (blk("def h(n):\n    return [[[1]], [[2]]]"), pairs), (blk("def h(n):\n    return [(1,)]"), pairs)]
    assert [v.reason for v in _verdicts(calls)] == ["passed 1/1", "passed 1/1", "failed test 1",
                                                    "passed 1/1", "failed test 1", "passed 1/1", "failed test 1"]


def test_apps_call_based_dicts_get_back_the_int_keys_json_made_strings_as_in_apps():
    # JSON keeps only string keys: APPS gives a dict argument or result whose keys all read as ints int keys again
    # (a Codewars problem over {1: 'a'}); a correct solution indexing d[1] failed here, and one returning {1: ...}
    tests = {"fn_name": "inverse", "inputs": [[{"1": "a", "2": "b"}], [{}]],
             "outputs": [[{"1": "a", "2": "b"}], {}]}
    ok = "def inverse(d):\n    return {k: d[k] for k in (1, 2) if k in d}"
    as_text = "def inverse(d):\n    return {str(k): v for k, v in d.items()}"  # the JSON text, not APPS's value
    named = {"fn_name": "f", "inputs": [[{"a": 1}, 2]], "outputs": [{"a": 3}]}  # not ints: kept as they are
    real = {"fn_name": "g", "inputs": [[{1.5: 1}]], "outputs": [1.5]}  # no JSON text: a 1.5 is no 1
    calls = [(blk(ok), tests), (blk(as_text), tests), (blk("def f(d, x):\n    return {'a': d['a'] + x}"), named),
             (blk("def g(d):\n    return min(d)"), real)]
    assert [v.reason for v in _verdicts(calls)] == ["passed 2/2", "failed test 1", "passed 1/1", "passed 1/1"]


def test_apps_stdio_cases_written_as_lists_of_lines_are_joined():
    # APPS's testing_util joins a stdio case's input (and output) given as a list of lines with "\n"; such
    # problems were refused with "'input' must be a string"
    prog = "a = int(input())\nb = int(input())\nprint(a + b)\nprint(a * b)"
    apps = {"inputs": [["2", "3"], "4\n5\n"], "outputs": [["5", "6"], "9\n20\n"]}
    assert check_code(blk(prog), apps).reason == "passed 2/2"
    assert check_code(blk(prog), {**apps, "outputs": [["5", "7"], "9\n20\n"]}).reason == "failed test 1"
    with pytest.raises(PonderError, match="'input' must be a string"):  # a list of other things is still refused
        check_code(blk(prog), {"inputs": [[2, 3]], "outputs": ["5"]})


def test_livecodebench_functional_cases_are_refused_not_run_as_stdio():
    # LiveCodeBench's test cases carry a "testtype": a "functional" one's input is the call's arguments (JSON
    # lines); run as stdin, a correct `class Solution` printed nothing and every such problem scored 0, silently
    lcb = [{"input": "[2, 7, 11, 15]\n9", "output": "[0, 1]", "testtype": "functional"}]
    with pytest.raises(PonderError, match="case 1 is a LiveCodeBench functional case"):
        check_code(blk("class Solution:\n    def twoSum(self, a, t):\n        return [0, 1]"), lcb)
    stdin = [{"input": "2 3\n", "output": "5\n", "testtype": "stdin"}]  # its stdin cases run as before
    assert check_code(blk("print(sum(map(int, input().split())))"), stdin).reason == "passed 1/1"


def test_stdio_output_past_the_fixed_cap_is_reported_as_such():
    flood = "import sys\nsys.stdout.write('x' * (17 << 20))"  # past MAX_STDOUT_BYTES (16 MiB)
    assert check_code(blk(flood), [{"input": "", "output": "x"}]).reason == "output limit exceeded"
    # an endless print loop (or report flood) ends at the cap, not at the timeout, and says so (the cap is met in
    # under a second, ~0.7 s on a loaded 2-core box: the timeout leaves it a wide margin)
    endless = "import os\nwhile True:\n    os.write({fd}, b'x' * 65536)"
    assert check_code(blk(endless.format(fd=1)), [{"input": "", "output": "x"}], timeout=10).reason == \
        "output limit exceeded"
    assert check_code(blk(endless.format(fd=3)), "assert 1 == 1", timeout=10).reason == "output limit exceeded"
    # under the cap but far longer than the expected output: a wrong answer
    assert check_code(blk("print('x' * 100000)"), [{"input": "", "output": "x"}]).reason == "failed test 1"


# (program, expected output, check_code keywords, reason): each a stdio case of its own
_FLOAT_CASES = [
    # within abs-or-rel 1e-6 of an expected real number: passes, as CodeContests/Codeforces checkers accept
    ("print('0.3333333333')", "0.333333333333\n", {}, "passed 1/1"),
    ("print(1 / 3)", "0.333333", {}, "passed 1/1"),
    ("print('1000000.5')", "1000000.0", {}, "passed 1/1"),  # relative: 5e-7 of 1e6
    ("print('1')", "1.0", {}, "passed 1/1"),  # an integer token for an expected real number
    ("print('2 -1.5e-7')", "2 0.0", {}, "passed 1/1"),  # each token on its own: 2 exact, the other within 1e-6
    ("print('0.50000001   ')\nprint()\nprint()", "0.5\n", {}, "passed 1/1"),  # trailing whitespace normalised
    ("print('0.3334')", "0.3333", {"float_tol": 1e-3}, "passed 1/1"),  # a tolerance of the caller's choosing
    ("print('0.5')", "0.5", {"float_tol": 0}, "passed 1/1"),  # exact output: the digest, tolerance or not
    # outside it, or not a real number expected: fails
    ("print('1000002.0')", "1000000.0", {}, "failed test 1"),
    ("print('0.3334')", "0.3333", {}, "failed test 1"),
    ("print('0.3333333333')", "0.333333333333", {"float_tol": 0}, "failed test 1"),  # 0 turns it off
    ("print('3.0000001')", "3", {}, "failed test 1"),  # an integer answer stays exact
    ("print('3.0')", "3", {}, "failed test 1"),
    ("print('0.5 0.5')", "0.5", {}, "failed test 1"),  # a token count that differs
    ("print('0.5')", "0.5 0.5", {}, "failed test 1"),
    # line structure counts here too, as for an answer of integers: "1 2" on two lines is not "1 2"
    ("print('0.5')\nprint('2')", "0.5 2", {}, "failed test 1"),
    ("print('0.5 2')", "0.5\n2", {}, "failed test 1"),
    ("print('0.5\\n\\n2')", "0.50000001\n2", {}, "failed test 1"),
    ("print(' 0.50000001\\t 2\\r')\nprint('3')", "\n0.5 2\n3\n", {}, "passed 1/1"),
    ("print('nan')", "0.5", {}, "failed test 1"),
    ("print('1e999')", "1.0e308", {}, "failed test 1"),  # no finite float
    ("print('1_0.0')", "10.0", {}, "failed test 1"),  # float() reads it, no checker does
    ("print('\\u0661.5')", "1.5", {}, "failed test 1"),  # (an Arabic-Indic digit: float() reads it too)
    ("print('x')", "0.5", {}, "failed test 1"),
    # huge output still fails on its size, before any token is compared
    ("import sys\nsys.stdout.write('0.5 ' * (5 << 20))", "0.5", {}, "output limit exceeded"),
    ("print('0.5 ' * 100000)", "0.5", {}, "failed test 1"),  # past 2 * expected + 64 KiB
    ("print('0.50000001' + ' ' * 200000)", "0.5", {}, "failed test 1"),  # padded past 2 * its own tokens too
    # a long answer of real numbers written with more digits than the expected ones (13 bytes a line for 4):
    # past 2 * expected + 64 KiB, yet all answer, no padding; it failed on its size
    ("print('\\n'.join(['0.5000000000'] * 30000))", "0.5\n" * 30000, {}, "passed 1/1"),
    # within 2 * expected but past what the harness sends back for tokens (4 MiB): the digest alone decides
    ("print('0.50000001\\n' * 400000)", "0.50000000\n" * 400000, {}, "failed test 1"),
]


@pytest.mark.parametrize("batch", [_FLOAT_CASES])
def test_stdio_real_numbers_compare_within_a_tolerance(batch):
    verdicts = _verdicts((blk(p), [{"input": "", "output": out}], kw) for p, out, kw, _ in batch)
    assert [v.reason for v in verdicts] == [r for *_, r in batch]


def test_a_report_flood_past_the_cap_is_judged_without_reading_it():
    # 16 MiB of `{}` lines on fd 3: the verdict is the cap's, and it comes as fast as the cap is met (the report
    # was decoded line by line first, ~40 s of the caller's time on a loaded 2-core box, for nothing)
    flood = "import os\nwhile True:\n    os.write(3, b'{}\\n' * 65536)"
    start = time.monotonic()
    assert check_code(blk(flood), "assert 1 == 1", timeout=10).reason == "output limit exceeded"
    assert time.monotonic() - start < 10

def test_a_report_of_more_lines_than_a_capped_report_holds_is_over_the_cap():
    # a million `{}` lines (3 MiB, under the byte cap) on fd 3 before a right program: each line was decoded by
    # the caller (~7 s here; 16 MiB of them ~40 s), a cost the program chose; past MAX_REPORT_LINES it is over the
    # cap as more bytes would be. (Lines are "\n"-separated, as the harness counts them: "\x1c", which
    # str.splitlines() splits on too, separates none.)
    flood = "import os\nfor _ in range(16):\n    os.write(3, b'{}\\n' * 65536)\ndef f(x):\n    return 2 * x"
    assert check_code(blk(flood), "assert f(1) == 2", timeout=30).reason == "output limit exceeded"
    sep = "import os\nos.write(3, b'{}\\x1c' * 1000000 + b'\\n')\ndef f(x):\n    return 2 * x"
    assert check_code(blk(sep), "assert f(1) == 2", timeout=30).reason == "passed 1/1"

def test_an_assert_in_a_long_loop_reports_each_distinct_report_once():
    # `for i in range(500000): assert is_even(2 * i)`: one report per iteration, all alike, passed the 16 MiB cap
    # ("output limit exceeded") for a right program; a report the same as an earlier one is decided the same, and
    # is sent once (the caller needs only that each assert was reported, and every report's verdict)
    good = "def is_even(n):\n    return n % 2 == 0"
    calls = [(blk(good), "for i in range(500000):\n    assert is_even(2 * i)\n", {"timeout": 60}),
             # one iteration that differs is still reported, and decided
             (blk(good), "for i in range(500000):\n    assert is_even(2 * i + (i == 499999))\n", {"timeout": 60}),
             (blk(good), "def test_a():\n    for _ in range(500000):\n        assert is_even(4)\n"
              "    assert is_even(3) is False\n", {"timeout": 60})]
    assert [v.reason for v in _verdicts(calls)] == ["passed 1/1", "failed test 1", "passed 1/1"]

def test_stdio_tolerant_comparison_is_bounded_in_the_caller():
    from ponder.verify import code
    assert code._tokens_match("0.5 2", "0.5000001 2", 1e-6)
    assert not code._tokens_match("0.5 2", "0.5000001 2", 0)
    assert not code._tokens_match("0.5 2", None, 1e-6)  # the harness sent no tokens (past its bounds)
    assert not code._tokens_match("0.5\n2", "0.5000001 2", 1e-6)  # lines of tokens, as the digest
    assert not code._tokens_match("0.5 2", "0.5000001\n2", 1e-6)
    assert code._tokens_match(" 0.5\t2\r\n\n3\n", "0.5000001 2\n\n3", 1e-6)
    # a number past MAX_NUMBER_CHARS characters only as text; past MAX_TOKENS tokens, not at all
    long = "0." + "0" * code.MAX_NUMBER_CHARS
    assert code._tokens_match(long + " 0.5", long + " 0.50000001", 1e-6)
    assert not code._tokens_match("0.0 0.5", long + " 0.5", 1e-6)
    many = " ".join(["0.5"] * (code.MAX_TOKENS + 1))
    assert not code._tokens_match(many, many.replace("0.5", "0.50000001"), 1e-6)


def test_stdio_float_tolerance_is_checked():
    for bad in (-1e-6, float("nan"), float("inf"), 2, 10**400, True, "1e-6", None):
        with pytest.raises(PonderError, match="float_tol must be"):
            check_code(blk("print(1)"), IO, float_tol=bad)


def test_stdio_program_ends_as_the_interpreter_does():
    # Python waits for non-daemon threads and runs atexit functions before it exits; competitive-programming
    # solutions rely on both (`main` in a thread with a bigger stack, output buffered and written at exit)
    thread = ("import threading\n"
              "def main():\n"
              "    threading.main_thread().join()  # prints only once the main thread has finished\n"
              "    print(int(input()) * 2)\n"
              "threading.Thread(target=main).start()")
    assert check_code(blk(thread), [{"input": "21\n", "output": "42"}]).reason == "passed 1/1"
    buffered = ("import atexit, io, sys\n"
                "buf = io.StringIO()\n"
                "atexit.register(lambda: sys.__stdout__.write(buf.getvalue()))\n"
                "buf.write(str(int(input()) * 2) + '\\n')")
    assert check_code(blk(buffered), [{"input": "21\n", "output": "42"}]).reason == "passed 1/1"
    assert check_code(blk(buffered), [{"input": "20\n", "output": "42"}]).reason == "failed test 1"


def test_a_program_sees_the_callers_site_packages_a_venvs_and_their_pth_directories(tmp_path):
    """The sandbox's interpreter starts with -S (site's .pth start-up code took half of its start): a program still
    imports what the caller's interpreter can, from a venv's site-packages (which Python 3.10 finds only through
    site), the base's where the venv includes them (numpy here), and a .pth file's directory line."""
    import sys

    if sandbox_info()["isolation"] != "namespaces":
        pytest.skip("the audit fence refuses files under the temporary directory that holds the venv")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True,
                   timeout=300)
    py = venv / "bin" / "python"
    site_dir = subprocess.run([str(py), "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True,
                              text=True, check=True, timeout=300).stdout.strip()
    (Path(site_dir) / "venv_only.py").write_text("VALUE = 7\n")
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "pth_only.py").write_text("VALUE = 5\n")
    (Path(site_dir) / "extra.pth").write_text(f"# a comment\nimport os\n{tmp_path / 'extra'}\n")
    prog = ("import numpy, venv_only, pth_only\ndef add(a, b):\n    return a + b + venv_only.VALUE - pth_only.VALUE - 2"
            "\nhelp, copyright, quit")
    code = f"from ponder.verify.code import check_code\nprint(check_code({blk(prog)!r}, {TESTS!r}).reason)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    p = subprocess.run([str(py), "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert p.stdout.strip() == "passed 3/3", p.stderr[-2000:]


def test_assert_mode_program_that_exits_0_at_the_end_of_its_top_level_is_tested():
    # `main(); sys.exit(0)` at the top level: it ended with status 0, the tests then run
    ok = "import sys\ndef add(a, b):\n    return a + b\nprint(add(1, 2))\n"
    assert check_code(blk(ok + "sys.exit(0)"), TESTS).reason == "passed 3/3"
    assert check_code(blk(ok + "sys.exit(False)"), TESTS).reason == "passed 3/3"
    assert check_code(blk(ok + "exit()"), TESTS).reason == "passed 3/3"
    assert check_code(blk(ok + "sys.exit(1)"), TESTS).reason == "crashed"
    assert check_code(blk(ok + "sys.exit('bad input')"), TESTS).reason == "crashed"
    # the tests still run: a wrong function fails, and so does one defined after the exit
    wrong = "import sys\ndef add(a, b):\n    return a - b\nsys.exit(0)"
    assert check_code(blk(wrong), TESTS).reason == "failed test 1"
    assert check_code(blk("import sys\nsys.exit(0)\ndef add(a, b): return a + b"), TESTS).reason == "failed test 1"


def test_assert_mode_runs_the_program_as_a_module_not_main():
    # a solution that demos its function on stdin under `if __name__ == "__main__":` crashed on EOF (stdin is
    # empty in assert mode): the block is a demo, not a test, and HumanEval/LiveCodeBench harnesses skip it
    demo = ("def add(a, b):\n    return a + b\nif __name__ == '__main__':\n"
            "    a, b = map(int, input().split())\n    print(add(a, b))\n")
    assert check_code(blk(demo), TESTS).reason == "passed 3/3"
    assert check_code(blk(demo.replace("a + b", "a - b")), TESTS).reason == "failed test 1"
    # top-level code still runs, and stdio programs still run as __main__
    assert check_code(blk("x = input()\ndef add(a, b):\n    return a + b"), TESTS).reason == "crashed"
    main_only = "if __name__ == '__main__':\n    print(int(input()) * 2)"
    assert check_code(blk(main_only), [{"input": "21\n", "output": "42"}]).reason == "passed 1/1"


def test_asserts_in_a_function_the_tests_never_call_are_refused_not_failed():
    # HumanEval's `test` field defines check(candidate) and leaves the call `check(entry_point)` to the harness:
    # passed as it is, its asserts never ran and every program, right or wrong, got "failed test 1"
    prog = blk("def add(a, b):\n    return a + b")
    for tests in ["def check(candidate):\n    assert candidate(1, 2) == 3\n",
                  "def check(candidate):\n    assert candidate(1, 2) == 3\n"
                  "if __name__ == '__main__':\n    check(add)\n",  # (the tests run in the module solution)
                  ["def helper(x):\n    assert add(x, 0) == x", "assert add(1, 2) == 3"]]:
        with pytest.raises(PonderError, match=r"function '(check|helper)' .*never call"):
            check_code(prog, tests)
    # a function they call, by name or through another name, a fixture or a test function are run
    ok = ["def check(candidate):\n    assert candidate(1, 2) == 3\ncheck(add)",
          "def check(candidate):\n    assert candidate(1, 2) == 3\nfor c in [check]:\n    c(add)",
          "def test_add():\n    assert add(1, 2) == 3",
          "import pytest\n@pytest.fixture\ndef two():\n    assert add(1, 1) == 2\n    return 2\n"
          "def test_two(two):\n    assert add(two, 1) == 3"]
    assert [v.reason for v in _verdicts([(prog, t) for t in ok])] == ["passed 1/1", "passed 1/1", "passed 1/1",
                                                                      "passed 2/2"]


def test_asserts_in_a_function_the_tests_call_by_lookup_are_run_not_refused():
    # a call that names its function nowhere as code (through globals(), sys.modules, inspect or an eval'd string)
    # was taken for no call: tests that graded right and wrong programs were refused as "never call it"
    check = "def check_add():\n    assert add(1, 2) == 3\n"
    tests = [check + "for name, f in list(globals().items()):\n    if name.startswith('check_'):\n        f()\n",
             "import sys\n" + check + "sys.modules[__name__].check_add()\n",
             check + "eval('check_add()')\n",
             "import inspect, sys\n" + check + "for n, f in inspect.getmembers(sys.modules[__name__], "
             "inspect.isfunction):\n    if n.startswith('check'):\n        f()\n"]
    right, wrong = blk("def add(a, b):\n    return a + b"), blk("def add(a, b):\n    return a - b")
    assert [v.reason for v in _verdicts([(p, t) for t in tests for p in (right, wrong)])] == [
        "passed 1/1", "failed test 1"] * len(tests)


def test_humaneval_style_check_function_and_tolerance_asserts():
    tests = ("import math\n"
             "def check(candidate):\n"
             "    assert candidate([1, 2, 3]) == 6\n"
             "    assert abs(candidate([0.1, 0.2]) - 0.3) < 1e-9\n"
             "    assert math.isclose(candidate([2.5]), 2.5)\n"
             "    assert sorted([candidate([2]), candidate([1])]) == [1, 2]\n"
             "    for n in range(5):\n"
             "        assert candidate([n]) == n\n"
             "check(total)\n")
    # the loop over range(5) is written out by the caller, one test per item
    assert check_code(blk("def total(xs):\n    return sum(xs)"), tests).reason == "passed 9/9"
    assert check_code(blk("def total(xs):\n    return sum(xs) if len(xs) != 1 or xs[0] != 3 else 0"),
                      tests).reason == "failed test 8"


ATTACKS = {
    "sys.exit before tests": "import sys\nsys.exit(0)\ndef add(a, b): return a + b",
    "os._exit before tests": "import os\nos._exit(0)",
    "os._exit inside the call": "import os\ndef add(a, b): os._exit(0)",
    "always-true __eq__": "class A:\n    def __eq__(self, o): return True\n    __hash__ = None\n"
                          "def add(a, b): return A()",
    "int subclass with __eq__": "class I(int):\n    def __eq__(self, o): return True\ndef add(a, b): return I(0)",
    "monkeypatch builtins and json": "import builtins, json\nbuiltins.print = lambda *a, **k: None\n"
                                     "builtins.AssertionError = Exception\nbuiltins.isinstance = lambda *a: True\n"
                                     "json.dumps = lambda *a, **k: '{\"done\": true}'\ndef add(a, b): return 0",
    "fake success marker on every fd": "import os\nmsg = b'passed 3/3\\n{\"done\": true}\\n'\n"
                                       "msg += b''.join(b'{\"t\": %d, \"v\": [[\"ok\", [\"i\", \"0x0\"]]]}\\n' % i "
                                       "for i in range(3))\nfor fd in range(0, 64):\n    try: os.write(fd, msg)\n"
                                       "    except OSError: pass\nprint('passed 3/3')\nos._exit(0)",
    "kill the parent": "import os\nos.kill(os.getppid(), 9)\ndef add(a, b): return a + b",
    "kill everything": "import os\nos.kill(-1, 9)\ndef add(a, b): return a + b",
    "infinite loop": "while True:\n    pass",
    "fork bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    "memory bomb": "x = []\nwhile True:\n    x.append(bytearray(1 << 24))",
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_scores_zero(name):
    t0 = time.monotonic()
    v = check_code(blk(ATTACKS[name]), TESTS, timeout=1.5, memory_mb=256)
    assert isinstance(v, Verdict) and v.correct is False and v.value == 0.0, (name, v)
    assert time.monotonic() - t0 < 20
    if name in ("infinite loop",):
        assert v.reason == "timeout"
    # the caller is alive and its threads still work
    assert check_code(blk("def add(a, b):\n    return a + b"), "assert add(2, 2) == 4").correct


def test_subclasses_of_plain_types_pass_as_their_plain_value():
    # MBPP 88's own reference solution returns a Counter for `== {10: 4, ...}`; Python says equal, so must we
    counter = "import collections\ndef freq(xs):\n    return collections.Counter(xs)"
    assert check_code(blk(counter), "assert freq([10, 10, 20]) == {10: 2, 20: 1}").correct
    assert not check_code(blk(counter), "assert freq([10, 10, 20]) == {10: 1, 20: 1}").correct
    prog = ("import collections, enum\nP = collections.namedtuple('P', 'x y')\nclass E(enum.IntEnum):\n    A = 3\n"
            "class S(str):\n    pass\ndef f():\n    d = collections.defaultdict(list)\n    d[1].append(P(1, 2))\n"
            "    return d, E.A, S('ab'), collections.OrderedDict(a=2.5), b'x'\n")
    assert check_code(blk(prog), "assert f() == ({1: [(1, 2)]}, 3, 'ab', {'a': 2.5}, b'x')").correct
    # what the base type holds, not what the subclass's own methods say
    liar = ("class L(list):\n    def __iter__(self): return iter([1, 2])\n    def __eq__(self, o): return True\n"
            "class I(int):\n    def __index__(self): return 3\n    def __int__(self): return 3\n"
            "def f():\n    return L([9]), I(0)\n")
    assert check_code(blk(liar), "assert f() == ([9], 0)").correct
    assert not check_code(blk(liar), "assert f() == ([1, 2], 3)").correct


def test_fractions_and_decimals_pass_as_the_exact_values_they_hold():
    # an exact answer (`Fraction(1, 3)`) was no plain value to send: every honest program failed
    frac = "from fractions import Fraction\ndef f(a, b):\n    return Fraction(a, b)"
    dec = "from decimal import Decimal\ndef g(s):\n    return Decimal(s)"
    ok = [(frac, "from fractions import Fraction\nassert f(2, 6) == Fraction(1, 3)"),
          (frac, "assert f(1, 2) == 0.5\nassert f(4, 2) == 2\nassert str(f(1, 3)) == '1/3'"),
          (frac, "import fractions as fr\nassert f(1, 3) + fr.Fraction(2, 3) == 1"),
          (dec, "from decimal import Decimal\nassert g('1.10') == Decimal('1.1')\nassert g('2') == 2"),
          (dec, "assert str(g('1.10')) == '1.10'")]
    # what the real class holds, not what a subclass or a look-alike says; the test's Fraction is the caller's
    liars = [("from fractions import Fraction\nclass L(Fraction):\n    def __eq__(self, o): return True\n"
              "    numerator = 1\ndef f(a, b):\n    return L(7)", "assert f(1, 3) == 1/3"),
             ("class Fraction:\n    def __eq__(self, o): return True\n    numerator, denominator = 1, 3\n"
              "def f(a, b):\n    return Fraction()", "from fractions import Fraction\nassert f(1, 3) == Fraction(1, 3)"),
             ("import fractions\nfractions.Fraction = lambda *a: 'x'\ndef f(a, b):\n    return 'x'",
              "from fractions import Fraction\nassert f(1, 3) == Fraction(1, 3)"),
             ("from fractions import Fraction\ndef f(a, b):\n    x = Fraction(1, 3)\n    x._numerator = 'a'\n"
              "    return x", "assert f(1, 3) == 1/3 or True and f(1, 3) is not None"),
             ("from decimal import Decimal\nclass L(Decimal):\n    def __str__(self): return '1.1'\n"
              "    def __eq__(self, o): return True\ndef g(s):\n    return L(7)", "assert str(g('1.1')) == '1.1'")]
    verdicts = _verdicts([(blk(p), t) for p, t in ok + liars])
    assert [v.correct for v in verdicts] == [True] * len(ok) + [False] * len(liars), verdicts
    # past the caller's bounds: refused, never worked on
    big = "from fractions import Fraction\ndef f():\n    return Fraction(3 ** 50000, 2)"
    assert check_code(blk(big), "assert f() == 1").reason == "failed test 1"
    assert check_code(blk(frac), "assert pow(f(3, 2), 10 ** 9) > 0").reason == "failed test 1"
    assert check_code(blk(frac), "assert round(f(1, 3), 10 ** 8) > 0").reason == "failed test 1"


def test_caller_work_on_a_programs_fractions_is_bounded():
    # an integral Fraction as exponent is an int's power (2 ** Fraction(10 ** 9) built a 10 ** 9-bit number), and a
    # sum of 1/p over many primes grows its denominator at every step: refused, never computed
    prog = ("from fractions import Fraction\nfrom decimal import Decimal\ndef f(k):\n    return Fraction(k)\n"
            "def inverses(n):\n    out, k = [], 2\n    while len(out) < n:\n        if all(k % p for p in out if p * p <= k):\n"
            "            out.append(k)\n        k += 1\n    return [Fraction(1, p) for p in out]\n"
            "def g():\n    return Decimal('1e4000')")
    heavy = ["assert pow(2, f(10 ** 9)) > 0", "assert 2 ** f(10 ** 9) > 0", "assert 2 ** -f(10 ** 9) > 0",
             "assert sum(inverses(3000)) > 0", "from fractions import Fraction\nassert Fraction(g() * g() * g()) > 0",
             "from fractions import Fraction\nassert Fraction((1, 2)) > 0"]
    light = ["assert f(2) ** 3 == 8 and 2 ** f(3) == 8", "assert sum(inverses(3)) == f(31) / 30"]
    verdicts = _verdicts([(blk(prog), t) for t in heavy + light])
    assert [v.reason for v in verdicts] == ["failed test 1"] * len(heavy) + ["passed 1/1"] * len(light)


def test_deques_pass_as_the_deques_they_are():
    # `assert f() == deque([1, 2])` failed every honest program: a deque was no plain value, the test's deque the
    # sandbox's to build
    prog = "from collections import deque\ndef f(n):\n    return deque(range(n), maxlen=5)"
    ok = ["from collections import deque\nassert f(2) == deque([0, 1])", "import collections\n"
          "assert f(7) == collections.deque([2, 3, 4, 5, 6])\nassert f(7).maxlen == 5\nassert list(f(2)) == [0, 1]"]
    bad = ["from collections import deque\nassert f(2) == [0, 1]",  # a deque is no list, as in Python
           "from collections import deque\nassert f(2) * 10 ** 9 == deque()"]  # refused, never built
    liars = [("from collections import deque\nclass L(deque):\n    def __eq__(self, o):\n        return True\n"
              "    def __iter__(self):\n        return iter([0, 1])\ndef f(n):\n    return L([9])", ok[0]),
             ("import collections\nreal = collections.deque\ncollections.deque = lambda *a, **k: real([7])\n"
              "def f(n):\n    return real([7])", ok[0])]
    verdicts = _verdicts([(blk(prog), t) for t in ok + bad] + [(blk(p), t) for p, t in liars])
    assert [v.correct for v in verdicts] == [True] * len(ok) + [False] * (len(bad) + len(liars)), verdicts


def test_dates_and_durations_pass_as_the_values_they_hold():
    # `assert f(x) == date(2020, 1, 2)` failed every honest program (a date was no plain value to send), and the
    # test's date was the sandbox's to build: a program that replaced datetime.date passed
    imp = "from datetime import datetime, date, time, timedelta, timezone\n"
    prog = imp + "def f(x):\n    return date(2020, 1, x)\ndef g(x):\n    return datetime(2020, 1, x, tzinfo=timezone.utc)"
    ok = ["from datetime import date, timedelta\nassert f(2) == date(2020, 1, 1) + timedelta(days=1)\n"
          "assert f(2) == date.fromisoformat('2020-01-02')\nassert f(2) > date.min\nassert [f(2)] == [f(2)]",
          "import datetime\nassert f(2) == datetime.date(2020, 1, 2)\nassert str(f(2)) == '2020-01-02'",
          "from datetime import datetime, timezone\nassert g(2) == datetime(2020, 1, 2, tzinfo=timezone.utc)",
          "import datetime as dt\nassert g(2) - dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc) == dt.timedelta(1)"]
    bad = ["from datetime import date\nassert f(2) == date(2020, 1, 3)",
           "from datetime import datetime\nassert g(2) == datetime(2020, 1, 2)"]  # aware is not naive
    liars = [imp + "class D(date):\n    year = 2020\n    def __eq__(self, o):\n        return True\n"
             "def f(x):\n    return D(1999, 9, 9)",
             "import datetime\nclass Z(datetime.tzinfo):\n    def utcoffset(self, d):\n        return None\n"
             "def g(x):\n    return datetime.datetime(2020, 1, x, tzinfo=Z())",
             "import datetime\ndatetime.date = lambda *a: 7\ndef f(x):\n    return 7",
             "import datetime, sys\nclass M:\n    date = staticmethod(lambda *a: 7)\nsys.modules['datetime'] = M\n"
             "def f(x):\n    return 7"]
    tests = "from datetime import date\nassert f(2) == date(2020, 1, 2)"
    # the tests' `from datetime import datetime` leaves the program's own `datetime` alone
    own = ["from datetime import datetime\nassert f(2) == 2\nassert datetime.now().year > 2000",
           "import datetime as dt\nassert f(2) == dt.date(2020, 1, 2).day"]
    verdicts = _verdicts([(blk(prog), t) for t in ok + bad] +
                         [(blk(p), tests if "def f" in p else ok[2]) for p in liars] +
                         [(blk("from datetime import datetime\ndef f(x):\n    return datetime(2020, 1, x).day"),
                           t) for t in own])
    want = [True] * len(ok) + [False] * (len(bad) + len(liars)) + [True] * len(own)
    assert [v.correct for v in verdicts] == want, verdicts


def test_caller_work_on_a_programs_date_texts_is_bounded():
    # datetime.strptime(f(), g()) is the caller's (see above): a format of 800,000 characters the program chose
    # became a regex compiled here, 109 s of the caller's time; refused, as a text past the caller's bounds is
    from ponder.verify.code import _FUNCS, _TestFailed

    strptime = _FUNCS["datetime.datetime.strptime"]
    assert strptime("2020-01-02", "%Y-%m-%d").day == 2
    for args in [("2020" * 300, "%Y" * 300), ("2020", "%Y" + "-" * 1000), ("1" * 1001, "%Y")]:
        with pytest.raises(_TestFailed):
            strptime(*args)


def test_caller_sets_of_a_programs_items_sharing_a_hash_are_bounded():
    # set(f()), dict(g()), {x for x in f()} or assertCountEqual of ints that share a hash (i * (2 ** 61 - 1))
    # compared them pairwise in the caller: 20,000 took 2.8 s, a report's worth hours. Past the bound the test
    # fails; equal items, or few per hash, are as before.
    from ponder.verify.code import _COLLECT, _FUNCS, _TestFailed

    colliding = [i * (2**61 - 1) for i in range(12_000)]
    builders = [_FUNCS["set"], _FUNCS["frozenset"], _FUNCS["collections.Counter"], _COLLECT["set"],
                lambda xs: _FUNCS["dict"]((x, 0) for x in xs), lambda xs: _COLLECT["dict"]((x, 0) for x in xs)]
    for build in builders:
        with pytest.raises(_TestFailed):
            build(iter(colliding))
        assert len(build(colliding[:60] * 100 + [1] * 10**5 + list(range(10**5)))) == 10**5 + 59
    with pytest.raises(_TestFailed):
        _FUNCS["__ponder_count_equal__"](colliding, colliding)
    assert _FUNCS["collections.Counter"]("aab", b=2) == {"a": 2, "b": 3}
    assert _FUNCS["set"]() == set() and _FUNCS["frozenset"]({1: 2}) == {1} and _FUNCS["dict"]([(1, 2)], a=3) == {
        1: 2, "a": 3}


def test_caller_sets_of_a_programs_objects_hash_by_their_fields():
    # a set of 20,000 of one class's objects (a frozen dataclass) went into the caller's set under one hash, their
    # type's: 2 * 10 ** 8 comparisons of their fields; and crafted fields sharing a hash must be bounded as ints are
    from ponder.verify.code import _TestFailed, _unstruct

    def objects(values):
        return ["c", "S", [["O", "0x10", [[["s", "x"], ["p", ["i", hex(v)]]]]] for v in values]]

    structs = _unstruct(objects(range(1000)))
    assert len(structs) == 1000 and len({hash(x) for x in structs}) == 1000
    assert _unstruct(objects([1, 1, 2])) == _unstruct(objects([2, 1]))
    with pytest.raises(_TestFailed):
        _unstruct(objects(i * (2**61 - 1) for i in range(12_000)))


def test_a_tests_import_leaves_the_programs_names_alone():
    # `from copy import copy` (`import copy as cp`, `from string import digits`) in the tests was run as `import
    # copy`, rebinding the program's own `copy` (in the namespace they share) to the module: honest programs failed
    progs = ["from copy import copy\ndef f(x):\n    return copy(x)",
             "from copy import copy\ndef f(x):\n    return copy(x)",
             "string = 'ab'\ndef f(x):\n    return string * x"]
    tests = ["from copy import copy\nassert f([2]) == copy([2])",
             "import copy as cp\nassert f([2]) == cp.deepcopy([2])",
             "from string import digits\nassert f(1) == 'ab'\nassert f(1) != digits"]
    verdicts = _verdicts([(blk(p), t) for p, t in zip(progs, tests)])
    assert [v.reason for v in verdicts] == ["passed 1/1", "passed 1/1", "passed 2/2"]


def test_a_programs_objects_compare_by_type_and_fields_and_answer_in_themselves():
    # `assert f(2) == Point(2)`, `assert [f(1)] == [Point(1)]`, `f(2) in [Point(1), Point(2)]` and `3 in stack` failed
    # every honest program, its object being no plain value; its own __eq__ (or __contains__) saying True to
    # anything must not pass
    point = ("from dataclasses import dataclass\nfrom enum import Enum\n@dataclass\nclass P:\n    x: int\n"
             "    y: int = 0\nclass C(Enum):\n    RED = 1\n    BLUE = 2\ndef f(x):\n    return P(x)\n"
             "def c(x):\n    return C(x)\n")
    node = ("class Node:\n    def __init__(self, v, nxt=None):\n        self.v, self.next = v, nxt\n"
            "    def __eq__(self, o):\n        return isinstance(o, Node) and (self.v, self.next) == (o.v, o.next)\n"
            "def f(x):\n    return Node(x, Node(x + 1))\n")
    plain = "class P:\n    def __init__(self, x):\n        self.x = x\ndef f(x):\n    return P(x)\nq = P(1)\n"
    stack = ("class S:\n    def __init__(self):\n        self.d = []\n    def __contains__(self, x):\n"
             "        return x in self.d\n")
    ok = [(point, "assert f(2) == P(2)\nassert f(2) != P(3)\nassert [f(1), f(2)] == [P(1), P(2)]\n"
                  "assert f(2) in [P(1), P(2)]\nassert f(2) not in [P(3)]\nassert c(1) == C.RED != c(2)"),
          (node, "assert f(1) == Node(1, Node(2))"),
          (plain, "assert f(2) != P(2)\nassert q == q"),  # no __eq__ of its own: by identity, as Python
          (stack, "s = S()\ns.d.append(3)\nassert 3 in s\nassert 4 not in s"),
          (point.replace("@dataclass", "@dataclass(slots=True, frozen=True)")
           + "def g():\n    return [{'a': P(1)}, {P(2)}]", "assert g() == [{'a': P(1)}, {P(2)}]\nassert f(1) is not None\nassert not f(1) is None")]
    bad = [(point, "assert f(2) == P(3)"), (point, "assert f(2) == [2, 0]"), (node, "assert f(1) == Node(1, Node(3))"),
           (plain, "assert f(2) == P(2)"), (stack, "s = S()\nassert 4 in s"),
           ("def f():\n    return bytearray(b'zz')", "assert f() == bytearray(b'ab')"),
           (point + "def g():\n    return [P(1)]", "assert g() == [P(2)]")]
    liar = ("class P:\n    def __init__(self, x):\n        self.x = x\n    def __eq__(self, o):\n        return True\n"
            "    def __contains__(self, o):\n        return True\n    __hash__ = object.__hash__\n"
            "def f(x):\n    return P(x)\n")
    liars = [(liar, t) for t in ("assert f(2) == P(3)", "assert f(2) == [1, 2]", "assert f(2) in [P(3)]",
                                 "assert f(2) in {P(3)}", "s = P(0)\nassert 3 in s")]
    verdicts = _verdicts([(blk(p), t) for p, t in ok + bad + liars])
    assert [v.correct for v in verdicts] == [True] * len(ok) + [False] * (len(bad) + len(liars)), verdicts


def test_bytearrays_and_ranges_travel_as_their_values():
    # a bytearray or range was "not a plain builtin value": an honest program returning one failed every test
    ba, rg = "def f():\n    return bytearray(b'ab')", "def f(n=3):\n    return range(n)"
    ok = [(ba, "assert f() == bytearray(b'ab')\nassert f() == b'ab'\nassert isinstance(f(), bytearray)\n"
               "assert list(f()) == [97, 98]\nassert [f()] == [bytearray(b'ab')]"),
          (rg, "assert f() == range(3)\nassert f() == range(0, 3, 1)\nassert isinstance(f(), range)\n"
               "assert list(f()) == [0, 1, 2]\nassert sum(f()) == 3 and 2 in f()\nassert {f(): 1} == {range(3): 1}"),
          # one too long for the caller to iterate: len and an index still applied in the sandbox
          (rg, "assert len(f(2 * 10 ** 6)) == 2 * 10 ** 6\nassert f(2 * 10 ** 6)[5] == 5")]
    bad = [(ba, "assert f() == bytearray(b'ac')"), (rg, "assert f() == range(4)"), (rg, "assert f() == [0, 1, 2]"),
           # the caller builds the expected bytearray, not the program's rebound builtin
           ("import builtins\nbuiltins.bytearray = lambda *a: 'x'\ndef f():\n    return 'x'",
            "assert f() == bytearray(b'ab')"),
           ("class B(bytearray):\n    def __eq__(self, o):\n        return True\ndef f():\n    return B(b'z')",
            "assert f() == bytearray(b'ab')"),
           # a few bytes standing for more items than the caller may iterate, or a bytearray repeated past its bounds
           (rg, "assert len(list(f(10 ** 18))) == 10 ** 18"), (ba, "assert len(f() * 10 ** 9) == 2 * 10 ** 9"),
           ("def f():\n    return bytearray(b'%999999999d')", "assert len(f() % 1) == 999999999")]
    verdicts = _verdicts([(blk(p), t) for p, t in ok + bad])
    assert [v.correct for v in verdicts] == [True] * len(ok) + [False] * len(bad), verdicts


def test_deep_values_and_long_linked_lists_compare():
    # past 50 (plain: 100) levels a value was "nested too deeply": a linked list of 100 nodes failed every test
    node = ("from dataclasses import dataclass\n@dataclass\nclass Node:\n    val: int\n    next: 'Node' = None\n"
            "def build(xs):\n    head = None\n    for x in reversed(xs):\n        head = Node(x, head)\n    return head\n"
            "def rev(h):\n    p = None\n    while h:\n        h.next, p, h = p, h, h.next\n    return p\n")
    nested = "def nest(n, x=1):\n    for _ in range(n):\n        x = [x, {n: (n,)}]\n    return x\n"
    deep = "[" * 60 + "1" + "]" * 60
    ok = [(node, "assert rev(build(list(range(1000)))) == build(list(range(999, -1, -1)))\n"
                 "assert [rev(build([1, 2]))] == [build([2, 1])]"),
          (nested, f"assert nest(300) == nest(300)\nx = 1\nfor _ in range(60):\n    x = [x]\nassert x == {deep}"),
          ("def f(n):\n    x = 1\n    for _ in range(n):\n        x = [x]\n    return x", f"assert f(60) == {deep}"),
          # a plain list deep enough to go in pieces, an object at its bottom: compared as the object it holds
          (node + "def g(n, x=1):\n    v = [Node(x)]\n    for _ in range(n):\n        v = [v, {'k': 1}]\n    return v",
           "assert g(30) == g(30)\nassert g(80) != g(80, 2)")]
    bad = [(node, "assert rev(build(list(range(1000)))) == build(list(range(1000)))"),
           (nested, "assert nest(300) == nest(300, 2)"),
           # a value that holds itself fails, as Python's == of it does
           ("class D:\n    def __init__(self):\n        self.prev = self.next = None\n    def __eq__(self, o):\n"
            "        return self is o\ndef f():\n    a, b = D(), D()\n    a.next, b.prev = b, a\n    return a",
            "assert f() == f()"),
           ("def f():\n    a = []\n    a.append(a)\n    return a", "assert f() == [[]]")]
    verdicts = _verdicts([(blk(p), t) for p, t in ok + bad])
    assert [v.correct for v in verdicts] == [True] * len(ok) + [False] * len(bad), verdicts


def test_a_forged_chain_of_pieces_is_refused_before_it_nests_deeper_than_the_callers_stack():
    # the program can write reports (fd 3): a chain of pieces, one tuple level each, rebuilt as one tuple
    # millions deep, would crash the caller in hash(), which recurses in C with no limit
    from ponder.verify.code import _MAX_PIECE_CHAIN, _decode, _with_pieces

    def chain(n):
        table = [["e", ["t", [["@", k + 1]]]] for k in range(n)] + [["e", ["N"]]]
        return _with_pieces([["ok", ["@", 0]]], table)[0][1]

    assert type(_decode(chain(_MAX_PIECE_CHAIN - 1))) is tuple  # as deep as an honest report may go
    with pytest.raises(ValueError):
        _decode(chain(_MAX_PIECE_CHAIN))


def test_reports_without_deep_values_carry_no_pieces(monkeypatch):
    # every report carried an empty "g" (the pieces of deep values): 9 bytes each, 20% more for small asserts,
    # so a loop of many of them reached MAX_REPORT_BYTES sooner. 200 of them fit in 9,000 bytes, as before.
    import ponder.verify.code as code

    monkeypatch.setattr(code, "MAX_REPORT_BYTES", 9000)
    v = check_code(blk("def f(x):\n    return x"), "for i in range(200):\n    assert f(i) == i")
    assert v.reason == "passed 200/200"


def test_dict_keys_and_items_views_travel_set_like_and_in_order():
    # `return d.keys()` was "not a plain builtin value": `f() == {'a', 'b'}`, true in Python, failed
    prog = "def f():\n    return {'b': 1, 'a': [2]}.keys()\ndef g():\n    return {'b': 1, 'a': 2}.items()\n"
    ok = ["assert f() == {'a', 'b'}", "assert g() == {('a', 2), ('b', 1)}", "assert f() | {'c'} == {'a', 'b', 'c'}",
          "assert list(f()) == ['b', 'a'] and list(g()) == [('b', 1), ('a', 2)]"]
    bad = ["assert f() == ['b', 'a']", "assert f() == {'a'}", "assert g() == {('a', 2)}",
           "assert list(f()) == ['a', 'b']"]
    verdicts = _verdicts([(blk(prog), t) for t in ok + bad])
    assert [v.correct for v in verdicts] == [True] * len(ok) + [False] * len(bad), verdicts


def test_re_match_of_a_programs_text_is_decided_by_the_caller():
    # a match object is no plain value to send: `assert re.fullmatch(..., f(x))` failed every honest program
    prog = "def f(n):\n    return 'ab' * n"
    ok = ["import re\nassert re.fullmatch(r'(ab)+', f(2))", "import re\nassert re.match('ab', f(2)) is not None",
          "from re import search\nassert search(r'b$', f(3))", "import re\nassert not re.search(r'\\d', f(2))",
          "import re\nassert re.fullmatch(r'(ab)+', f(0)) is None"]
    bad = ["import re\nassert re.fullmatch(r'(ab)+', f(0))", "import re\nassert re.match('b', f(2))",
           "import re\nassert re.search(r'[', f(2)) is None",  # does not compile: fails, as in Python
           "import re\nassert re.search(r'\\d', str(f(2)).encode()) is None"]  # no text
    # the program cannot make the match pass: `re` patched in the sandbox is not the one the caller applies
    patched = "import re\nre.fullmatch = lambda *a: True\ndef f(n):\n    return 'x'"
    verdicts = _verdicts([(blk(prog), t) for t in ok + bad] + [(blk(patched), ok[0])])
    assert [v.correct for v in verdicts] == [True] * len(ok) + [False] * (len(bad) + 1), verdicts
    # a text too long for the pattern's bound fails, even where the test expects no match
    long = "def f(n):\n    return 'a' * 10 ** 6"
    assert check_code(blk(long), "import re\nassert re.search(r'a*a*a*b', f(0)) is None").reason == "failed test 1"
    assert "unsupported" in check_code(blk(prog), "import re\nassert re.fullmatch(r'(a+)+', f(1))").reason


def test_len_str_truth_and_index_of_a_programs_object_are_its_own():
    # class-design tasks (a Stack, a linked list's node): len(s), str(node), `assert s`, s[0] of the program's object
    # failed every honest program, as the caller applied them and the object is no plain value
    stack = ("class Stack:\n    def __init__(self):\n        self.items = []\n    def push(self, x):\n"
             "        self.items.append(x)\n    def __len__(self):\n        return len(self.items)\n"
             "    def __str__(self):\n        return str(self.items)\n    def __getitem__(self, i):\n"
             "        return self.items[i]\n    def __bool__(self):\n        return bool(self.items)\n")
    ok = ["s = Stack()\nassert not s\nassert len(s) == 0\ns.push(7)\nassert s\nassert len(s) == 1\n"
          "assert str(s) == '[7]'\nassert s[0] == 7 and s[-1] == 7\nassert bool(s) is True and int(len(s)) == 1",
          "import pytest\ndef test_empty():\n    s = Stack()\n    with pytest.raises(IndexError):\n"
          "        assert s[0] == 0\n    assert all(len(x) == 0 for x in [s, Stack()])\n"]
    bad = ["s = Stack()\nassert s", "s = Stack()\nassert len(s) == 1", "s = Stack()\ns.push(1)\nassert str(s) == '1'",
           "s = Stack()\ns.push(1)\nassert s[0] == 2", "s = Stack()\nassert not not s"]
    verdicts = _verdicts([(blk(stack), t) for t in ok + bad])
    assert [v.correct for v in verdicts] == [True] * len(ok) + [False] * len(bad), verdicts
    # the expected length stays in the caller: an object that searches for it never finds it
    spy = _oracle_attacker("9876543210123").replace("def add(a, b):", "class S:\n    def __len__(self):\n"
                                                      "        return add(1, 2)\ndef add(a, b):")
    assert check_code(blk(spy), "assert len(S()) == 9876543210123", timeout=10).reason == "failed test 1"


def test_an_assert_false_after_a_call_that_must_raise_may_go_unreached():
    # an exception test whose handler does more than `pass`: rewritten like `except Negative: pass` (see the
    # tests below), the handler run after the report; a correct program raises before `assert False`
    tests = "assert f(1) == 2\ntry:\n    f(-1)\n    assert False\nexcept Negative:\n    caught = True\n"
    good = "class Negative(ValueError):\n    pass\ndef f(x):\n    if x < 0:\n        raise Negative(x)\n    return 2 * x"
    assert check_code(blk(good), tests).reason == "passed 2/2"
    assert not check_code(blk("def f(x):\n    return 2 * x"), tests).correct  # no raise: assert False runs
    # the program's TypeError is not the class the test expects: its exception check fails
    assert check_code(blk(good.replace("raise Negative", "raise TypeError")), tests).reason == "failed test 2"
    assert check_code(blk(good), "x = f(-1)\nassert f(1) == 2").reason == "error in test statement 1"
    # a program that forges the end of the run skips nothing: the assert with a value must still report
    forge = "import os\nos.write(3, b'{\"done\": true}\\n')\nos._exit(0)"
    assert not check_code(blk(forge), tests).correct
    # an assert that reads the program's values only inside a comprehension (`result` there is a ("top", i)
    # record, no leaf) must report too: a program that ends the run after the first report skipped it
    tests2 = "result = f(5)\nassert len(result) == 3\nassert all(x in result for x in [1, 2, 3])\n"
    cut = ("import json, os\nclass E(json.JSONEncoder):\n    def encode(self, o):\n"
           "        s = json.JSONEncoder().encode(o)\n        if isinstance(o, dict) and 't' in o:\n"
           "            os.write(3, (s + '\\n{\"done\": true}\\n').encode())\n            os._exit(0)\n"
           "        return s\njson._default_encoder = E()\ndef f(n):\n    return [0, 0, 0]\n")
    assert check_code(blk("def f(n):\n    return [1, 2, 3]"), tests2).reason == "passed 2/2"
    assert not check_code(blk(cut), tests2).correct
    # the exception check alone is a test: how the call ended is reported, whatever the handler does
    alone = "try:\n    f(-1)\n    assert False\nexcept Negative:\n    caught = True\n"
    assert check_code(blk(good), alone).reason == "passed 1/1"
    assert not check_code(blk(forge), alone).correct


def test_a_check_written_as_an_if_that_fails_is_an_assert():
    # `if add(2, 2) != 4: raise AssertionError` (pytest.fail, self.fail, assert False) is `assert not (...)`: left as
    # an `if`, a wrong program that forged the end of the run when the check came passed it, and a right one failed
    # the unittest form (its `assert False` never reported)
    good, wrong = "def add(a, b):\n    return a + b", "def add(a, b):\n    return 3"
    forge = ("import os\ndef add(a, b):\n    if a == 2:\n        os.write(3, b'{\"done\": true}\\n')\n"
             "        os._exit(0)\n    return 3")
    forms = {
        "def test_a():\n    assert add(1, 2) == 3\n\ndef test_b():\n    if add(2, 2) != 4:\n"
        "        raise AssertionError('bad')\n": "passed 2/2",
        "import pytest\ndef test_a():\n    assert add(1, 2) == 3\n\ndef test_b():\n    if add(2, 2) != 4:\n"
        "        pytest.fail('bad')\n": "passed 2/2",
        "assert add(1, 2) == 3\nr = add(2, 2)\nif r != 4:\n    raise AssertionError\n": "passed 2/2",
        "import unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n        if add(2, 2) != 4:\n"
        "            self.fail('x')\n": "passed 1/1",
        "def test_b():\n    if add(2, 2) != 4:\n        assert False\n": "passed 1/1",
        "def test_a():\n    assert add(1, 2) == 3\n\ndef test_b():\n    if add(2, 2) != 4:\n        raise AssertionError\n"
        "    elif add(0, 0) != 0:\n        raise AssertionError\n    else:\n        x = 1\n": "passed 2/2",
    }
    calls = [(blk(p), t) for t in forms for p in (good, wrong, forge)]
    verdicts = _verdicts(calls)
    for k, (t, want) in enumerate(forms.items()):
        v, w, f = verdicts[3 * k:3 * k + 3]
        assert v.reason == want, (t, v)
        assert not w.correct and not f.correct, (t, w, f)


def test_a_check_written_as_an_if_that_raises_another_exception_or_exits_is_an_assert():
    # `if add(2, 2) != 4: raise ValueError` (or SystemExit(1), sys.exit(1), exit(1)) where the exception can only
    # fail the test is `assert not (...)` too: left as an `if`, a program that forged the end of the run (its done
    # record on fd 3, then os._exit) when the check came passed it unrun, and the 4 was the sandbox's to read
    good, wrong = "def add(a, b):\n    return a + b", "def add(a, b):\n    return 3"
    forge = ("import os\ndef add(a, b):\n    if a == 2:\n        os.write(3, b'{\"done\": true}\\n')\n"
             "        os._exit(0)\n    return 3")
    forms = {
        "assert add(1, 2) == 3\nif add(2, 2) != 4:\n    raise ValueError('bad')\n": "passed 2/2",
        "assert add(1, 2) == 3\nif add(2, 2) != 4:\n    raise SystemExit(1)\n": "passed 2/2",
        "import sys\nassert add(1, 2) == 3\nif add(2, 2) != 4:\n    print('FAIL')\n    sys.exit(1)\n": "passed 2/2",
        "def test_a():\n    assert add(1, 2) == 3\n\ndef test_b():\n    if add(2, 2) != 4:\n        raise Exception\n"
        "    elif add(0, 0) != 0:\n        exit(1)\n": "passed 2/2",
        "def check(candidate):\n    assert candidate(1, 2) == 3\n    if candidate(2, 2) != 4:\n"
        "        raise RuntimeError('wrong')\n\ncheck(add)\n": "passed 2/2",
    }
    # where a `try` or `with` of the tests may catch the exception, the `if` is control flow, run as written
    kept = {
        "try:\n    if add(2, 2) != 5:\n        raise ValueError\nexcept ValueError:\n    pass\nassert add(1, 2) == 3\n":
        "passed 1/1",
        "import pytest\ndef need_pos(x):\n    if x < 0:\n        raise ValueError('neg')\n    return x\n"
        "def test_a():\n    with pytest.raises(ValueError):\n        need_pos(add(-2, 1))\n"
        "    assert need_pos(add(1, 2)) == 3\n": "passed 1/1",
    }
    calls = [(blk(p), t) for t in forms for p in (good, wrong, forge)] + [(blk(good), t) for t in kept]
    verdicts = _verdicts(calls)
    for k, (t, want) in enumerate(forms.items()):
        v, w, f = verdicts[3 * k:3 * k + 3]
        assert v.reason == want, (t, v)
        assert not w.correct and not f.correct, (t, w, f)
    for v, (t, want) in zip(verdicts[3 * len(forms):], kept.items()):
        assert v.reason == want, (t, v)


def test_an_if_that_raises_in_code_the_program_may_run_is_left_as_written():
    # an `if ...: raise` in a method of a class of the tests (an iterator's `__next__`, a reader's `readline`, an
    # account's `withdraw`, an `__init__` under pytest.raises), a generator function or a function a lambda calls
    # raises to whoever runs it, the program too, which may catch it: rewritten as an assert, a right program
    # failed (a `__getitem__` sequence never ended: 'output limit exceeded')
    total = "def total(it):\n    s = 0\n    for x in it:\n        s += x\n    return s"
    guarded = ("def keep_valid(f, xs):\n    out = []\n    for x in xs:\n        try:\n            out.append(f(x))\n"
               "        except ValueError:\n            pass\n    return out")
    cases = [
        (total, "class Numbers:\n    def __init__(self, data):\n        self.data, self.i = data, 0\n"
                "    def __iter__(self):\n        return self\n    def __next__(self):\n"
                "        if self.i >= len(self.data):\n            raise StopIteration\n"
                "        self.i += 1\n        return self.data[self.i - 1]\n"
                "assert total(Numbers([1, 2, 3])) == 6\n"),
        (total, "class Seq:\n    def __getitem__(self, i):\n        if i >= 4:\n            raise IndexError(i)\n"
                "        return i\nassert total(Seq()) == 6\n"),
        ("def try_withdraw(acc, amt):\n    try:\n        acc.withdraw(amt)\n        return True\n"
         "    except ValueError:\n        return False",
         "class Account:\n    def __init__(self, balance):\n        self.balance = balance\n"
         "    def withdraw(self, amt):\n        if amt > self.balance:\n            raise ValueError('insufficient')\n"
         "        self.balance -= amt\nassert try_withdraw(Account(10), 20) is False\n"),
        ("def add(a, b):\n    return a + b",
         "import pytest\nclass Box:\n    def __init__(self, v):\n        if v < 0:\n            raise ValueError\n"
         "        self.v = v\ndef test_box():\n    with pytest.raises(ValueError):\n        Box(add(-5, 1))\n"
         "    assert Box(add(1, 1)).v == 2\n"),
        (total.replace("for x in it:", "try:\n        for x in it:\n            s += x\n    except ValueError:\n"
                                        "        pass\n    return s\n    for x in it:"),
         "def source():\n    for x in [1, 2, -1, 4]:\n        if x < 0:\n            raise ValueError\n"
         "        yield x\nassert total(source()) == 3\n"),
        (guarded, "def validate(x):\n    if x < 0:\n        raise ValueError\n    return x\n"
                  "assert keep_valid(lambda v: validate(v), [1, -2, 3]) == [1, 3]\n"),
    ]
    for v, (_, t) in zip(_verdicts((blk(p), t) for p, t in cases), cases):
        assert v.correct, (t, v)
    # a test method of a TestCase class is the runner's alone: its `if` is still an assert, unforgeable
    forge = ("import os\ndef add(a, b):\n    if a == 2:\n        os.write(3, b'{\"done\": true}\\n')\n"
             "        os._exit(0)\n    return 3")
    ut = ("import unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(add(1, 2), 3)\n"
          "    def test_b(self):\n        if add(2, 2) != 4:\n            raise ValueError\n")
    good, bad = _verdicts([(blk("def add(a, b):\n    return a + b"), ut), (blk(forge), ut)])
    assert (good.reason, bad.correct) == ("passed 2/2", False), (good, bad)


def test_an_if_that_raises_and_binds_a_name_with_walrus_still_binds_it():
    # `if (r := f(x)) != 3: raise ValueError(r)` rewritten as an assert evaluated `r := ...` in a lambda of the
    # sandbox's, so `r` was unbound for the statements after it and a right program failed; it runs as written
    t = "if (r := add(1, 2)) != 3:\n    raise ValueError(r)\nassert r == 3\n"
    v, w = _verdicts([(blk("def add(a, b):\n    return a + b"), t), (blk("def add(a, b):\n    return 4"), t)])
    assert (v.reason, w.correct) == ("passed 1/1", False), (v, w)


def test_a_walrus_in_an_assert_binds_its_name_for_the_statements_after_it():
    # an assert's operands run in lambdas of the sandbox's, so `assert (r := add(1, 2)) == 3` bound `r` in a lambda
    # and a right program failed `assert r == 3` ('failed test 2'); at the top level, in a test function, in a
    # comprehension (its last item's, as Python binds it), read again in the same assert, in a rewritten
    # `if ...: raise AssertionError`
    tests = ["assert (r := add(1, 2)) == 3\nassert r == 3\n",
             "def test_a():\n    assert (r := add(1, 2)) == 3 and r + 1 == 4\n    assert add(r, 1) == 4\n",
             "assert all((y := add(i, 1)) == i + 1 for i in range(3))\nassert y == 3\n",
             "if (r := add(1, 2)) != 3:\n    raise AssertionError(r)\nassert r == 3\n",
             "r = 0\nassert (r := add(1, 2)) == 3\nassert r == 3\n"]
    good, bad = "def add(a, b):\n    return a + b", "def add(a, b):\n    return a + b + (a == 1)"
    vs = _verdicts([(blk(good), t) for t in tests] + [(blk(bad), t) for t in tests])
    assert [v.correct for v in vs] == [True] * len(tests) + [False] * len(tests), vs


def test_a_table_passed_to_a_helper_or_stored_on_a_unittest_class_cannot_be_cut_short_or_read():
    # `check([(1, 2), ...])` with `def check(cases): for x, want in cases:`, and a unittest table set in setUp
    # (`self.cases = [...]`) or in the class's body (`cases = [...]`) read as `for x, want in self.cases:`: the
    # loop ran as written, the sandbox holding the table (a program read `want` from its caller's frame) and its
    # assert reported once per iteration (a program that forged the end after the first passed the rest)
    good, wrong, cut = DOUBLE, DOUBLE_WRONG, DOUBLE_CUT
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        if 'want' in f.f_locals:\n            return f.f_locals['want']\n"
            "        f = f.f_back\n    return 0\n")
    loop = "        for x, want in self.cases:\n            self.assertEqual(double(x), want)\n"
    forms = {"helper": "def check(cases):\n    for x, want in cases:\n        assert double(x) == want\n"
                       "check([(1, 2), (3, 6), (5, 10)])\n",
             "helper method": "import unittest\nclass T(unittest.TestCase):\n    def check(self, cases):\n"
                              "        for x, want in cases:\n            self.assertEqual(double(x), want)\n"
                              "    def test_d(self):\n        self.check([(1, 2), (3, 6), (5, 10)])\n",
             "setUp": "import unittest\nclass T(unittest.TestCase):\n    def setUp(self):\n"
                      "        self.cases = [(1, 2), (3, 6), (5, 10)]\n    def test_d(self):\n" + loop,
             "class attribute": "import unittest\nclass T(unittest.TestCase):\n    cases = [(1, 2), (3, 6), (5, 10)]\n"
                                "    def test_d(self):\n" + loop,
             "read by two tests": "import unittest\nclass T(unittest.TestCase):\n    cases = [(1, 2), (3, 6), (5, 10)]\n"
                                  "    def test_a(self):\n" + loop + "    def test_b(self):\n" + loop
                                  + "        self.assertEqual(len(self.cases), 3)\n",
             "pytest class": "class TestD:\n    cases = [(1, 2), (3, 6), (5, 10)]\n    def test_d(self):\n"
                             "        for x, want in self.cases:\n            assert double(x) == want\n"}
    for name, tests in forms.items():
        assert _none_pass(tests, wrong, cut, peek, passing=good).correct, name
    # kept as written, and still passing a right program: a table the test also changes, a class's mutable
    # table read by two tests (they share its object: the first one's change is the second one's input), a
    # helper's table read again after the loop
    srt = "def srt(xs):\n    xs.sort()\n    return xs\n"
    kept = ["import unittest\nclass T(unittest.TestCase):\n    def setUp(self):\n        self.cases = [([2, 1], [1, 2])]\n"
            "    def test_d(self):\n        self.cases.append(([3, 1], [1, 3]))\n"
            "        for xs, want in self.cases:\n            self.assertEqual(srt(xs), want)\n",
            "import unittest\nclass T(unittest.TestCase):\n    cases = [[2, 1], [3, 1, 2]]\n    def test_a(self):\n"
            "        for xs in self.cases:\n            srt(xs)\n        self.assertEqual(1, 1)\n    def test_b(self):\n"
            "        for xs in self.cases:\n            self.assertIs(srt(xs), xs)\n            self.assertEqual(xs[0], 1)\n",
            "def check(cases):\n    for xs, want in cases:\n        assert srt(xs) == want\n    assert cases[0][0] == [1, 2]\n"
            "check([([2, 1], [1, 2])])\n"]
    vs = _verdicts([(blk(srt), t) for t in kept] + [(blk("def srt(xs):\n    return sorted(xs)\n"), kept[1])])
    assert [v.reason for v in vs] == ["passed 1/1", "passed 2/2", "passed 2/2", "failed test 2 (T::test_b)"], vs
    # a class attribute computed from one before it (`more = cases + [...]`) is the caller's too, and written out;
    # one a kept statement reads as a name stays assigned (dropped, `n = len(more)` was a NameError), the others
    # it reads with it
    tests = ("import unittest\nclass T(unittest.TestCase):\n    cases = [(1, 2)]\n    more = cases + [(3, 6)]\n"
             "    def test_d(self):\n        for x, want in self.more:\n            self.assertEqual(double(x), want)\n")
    assert _none_pass(tests, wrong, cut, peek, passing=good).reason == "passed 1/1"
    kept = tests.replace("    def", "    n = len(more)\n    def") + "        self.assertEqual(double(self.n), 4)\n"
    vs = _verdicts([(blk(good), kept), (blk(wrong), kept)])
    assert [v.reason for v in vs] == ["passed 1/1", "failed test 1 (T::test_d)"], vs


def test_a_loop_variable_read_again_after_the_loop_stays_in_the_caller():
    # `for x, want in CASES:` twice (or `want` read after the loop): the copies assigned `want` at their top and
    # their asserts read the sandbox's variable, so a program returned the `want` it found in its caller's frame;
    # now written in, and assigned after the copy's check (the program sees only answers already checked)
    good, wrong = DOUBLE, DOUBLE_WRONG
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        if 'want' in f.f_locals:\n            return f.f_locals['want']\n"
            "        f = f.f_back\n    return 0\n")
    loop = "for x, want in CASES:\n    assert double(x) == want\n"
    forms = ["CASES = [(1, 2), (3, 6)]\n" + loop + loop,
             "def test_d():\n    for x, want in [(1, 2), (3, 6)]:\n        assert double(x) == want\n"
             "    for x, want in [(5, 10)]:\n        assert double(x) == want\n    assert want == 10\n"]
    for tests in forms:
        assert _none_pass(tests, wrong, peek, passing=good).correct, tests
    # the variable as Python leaves it: read after the loop, by a closure, after a `break`, a mutable item
    kept = ["for x, want in [(1, 2), (3, 6)]:\n    assert double(x) == want\nassert (x, want) == (3, 6)\n",
            "fs = []\nfor x, want in [(1, 2), (3, 6)]:\n    fs.append(lambda: want)\n    assert double(x) == want\n"
            "assert [f() for f in fs] == [6, 6]\nassert want == 6\n",
            "for x, want in [(1, 2), (3, 6), (5, 0)]:\n    assert double(x) == want\n    if x == 3:\n        break\n"
            "assert want == 6\n",
            "for xs, want in [([2, 1], [1, 2])]:\n    xs.sort()\n    assert double(len(xs)) == 2 * len(want)\n"
            "assert xs == want\n"]
    vs = _verdicts([(blk(good), t) for t in kept])
    assert [v.reason for v in vs] == ["passed 3/3", "passed 4/4", "passed 3/3", "passed 2/2"], vs


def test_a_walrus_of_an_expected_value_stays_out_of_the_sandbox():
    # `assert (w := 4) == f(2)` stored the 4 in the assert's walrus cell, a global of the sandbox's, before f(2) ran:
    # a program returning what the cell held passed without computing anything; a walrus of a value the caller
    # computes keeps it here (its later reads in the assert too), its name bound after the report; also past a short
    # circuit, which the caller decides, the sandbox running every operand
    forge = ("import sys\ndef f(x):\n    fr = sys._getframe(1)\n    while fr:\n"
             "        for k, d in [*fr.f_locals.items(), *fr.f_globals.items()]:\n"
             "            if k.startswith('__ponder_walrus') and d:\n                return list(d.values())[0]\n"
             "        fr = fr.f_back\n    return 0\n")
    good = "def f(x):\n    return 2 * x\n"
    tests = ["assert (w := 4) == f(2)\nassert w == 4\n", "assert f(2) == (w := 2 ** 2) and f(w) == w * 2\nassert w == 4\n",
             "def test_a():\n    assert [f(2)] == [(w := 4)]\n    assert f(w) == 8\n",
             "class C:\n    assert f(2) == (w := 4)\nassert C.w == 4\n", "assert f(2) < 9 and (w := 4) == f(2)\n"]
    vs = _verdicts([(blk(good), t) for t in tests] + [(blk(forge), t) for t in tests])
    assert [v.reason for v in vs] == ["passed 2/2", "passed 2/2", "passed 1/1", "passed 2/2", "passed 1/1"] + ["failed test 1"] * 2 + [
        "failed test 1 (test_a)", "failed test 1", "failed test 1"], vs


def test_an_assert_in_a_class_body_sees_the_class_names():
    # a class body's names are not seen by the lambdas an assert's operands are evaluated in: `N = add(1, 2)` then
    # `assert N == 3` in the body failed a right program ('failed test 1'); they are the lambdas' defaults now
    t = ("K = 1\nclass Cfg:\n    N = add(1, 2)\n    assert N == 3\n    assert add(N, K) == 4 and [N] == [3]\n"
         "    M = [add(i, 3) for i in range(2)]\n    assert M == [3, 4]\n"
         "    assert (r := add(1, 2)) == 3 and r == N or unbound_name\nassert Cfg.N == 3\nassert Cfg.r == 3\n")
    v, w = _verdicts([(blk("def add(a, b):\n    return a + b"), t), (blk("def add(a, b):\n    return 4"), t)])
    assert (v.reason, w.reason) == ("passed 6/6", "failed test 1"), (v, w)


def test_a_class_body_assert_reads_a_class_name_before_its_walrus_binds_it():
    # `n = 1` then `assert (n := f(n)) == 2` in a class body: the walrus's name was no default of the report's
    # lambdas (it may be bound nowhere yet), so f(n) read the global n (NameError) and a right program failed; a name
    # read before its walrus is the class's where the class binds it, else the global, as Python reads it
    tests = ["class C:\n    n = 1\n    assert (n := f(n)) == 2\nassert C.n == 2\n",
             "n = 5\nclass C:\n    assert (n := f(n)) == 6 and n == 6\nassert C.n == 6 and n == 5\n"]
    vs = _verdicts([(blk("def f(x):\n    return x + 1"), t) for t in tests] + [(blk("def f(x):\n    return 3"), t)
                                                                            for t in tests])
    assert [v.reason for v in vs] == ["passed 2/2", "passed 2/2", "failed test 1", "failed test 1"], vs


def test_len_and_truth_of_a_growing_builtin_container_in_a_loop_stay_within_the_report():
    # `len(s.items)` of a plain list sent the list whole on every iteration: 2000 pushes overflowed the report
    # ('output limit exceeded') for a right program; the length or truth of an exact builtin container is applied
    # by the sandbox's real len now, a subclass's own __len__ still plays no part
    t = ("s = Stack()\nassert not s.items\nfor i in range(2000):\n    s.push(i)\n    assert len(s.items) == i + 1\n"
         "    assert s.items\n    assert bool(s.text) and len(s.text) == i + 1\n")
    good = ("class Stack:\n    def __init__(self):\n        self.items, self.text = [], ''\n"
            "    def push(self, x):\n        self.items.append(x)\n        self.text += 'x'\n")
    bad = good + "    def __getattribute__(self, k):\n        v = object.__getattribute__(self, k)\n" \
        "        return v[:1500] if k == 'items' else v\n"
    liar = ("class L(list):\n    def __len__(self):\n        return 3\n    def __bool__(self):\n        return True\n"
            "def f():\n    return L([1])\n")
    vs = _verdicts([(blk(good), t), (blk(bad), t), (blk(liar), "assert len(f()) == 3"),
                    (blk(liar.replace("L([1])", "L()")), "assert f()")])
    assert [v.reason for v in vs] == ["passed 4/4", "failed test 2", "failed test 1", "failed test 1"], vs


def test_membership_in_a_big_builtin_container_in_a_loop_stays_within_the_report():
    # `i in big` of two values of the program's sent `big` whole on every iteration: 2000 of them overflowed the
    # report ('output limit exceeded') for a right program; a container of an exact builtin type whose items are
    # exact builtin scalars, as the left operand is, is asked there by the real `in` now (an item whose __eq__
    # says True to anything still goes as before, and fails)
    t2 = "big = f(5000)\nfor i in range(2000):\n    j = -1 - i\n    assert j not in big\n    assert i in big\n"
    eq = "class E:\n    def __eq__(self, o):\n        return True\n    __hash__ = None\ndef f(n):\n    return [E()]\n"
    vs = _verdicts([(blk("def f(n):\n    return list(range(n))"), t2), (blk("def f(n):\n    return set(range(n))"), t2),
                    (blk("def f(n):\n    return list(range(n))[2:]"), t2), (blk(eq), "for i in range(3):\n    "
                                                                             "assert i in f(1)\n"),
                    (blk("def f(n):\n    return 'abc'"), "for c in ('a', 'b', 'z'):\n    x = c\n    assert x in f(1)\n")])
    assert [v.reason for v in vs] == ["passed 2/2", "passed 2/2", "failed test 2", "failed test 1",
                                      "failed test 3"], vs


def test_a_big_container_asked_of_in_a_loop_of_the_tests_is_sent_once():
    # `b = big(250)` then `for i in range(250): assert i in b`: the loop is unrolled here, each `assert 7 in b` keeping
    # its 7, so b went whole in every report: 250 of them overflowed it ('output limit exceeded') for a right program;
    # a big record sent before goes as a reference to it now (a reference to nothing sent fails)
    t = "b = big(250)\nfor i in range(250):\n    assert i in b\n"
    good = "def big(n):\n    return list(range(n)) + [k << 400 for k in range(1, 1001)]\n"  # ~110 KiB a report
    forge = ("import os\ndef big(n):\n    os.write(3, b'{\"t\": 0, \"v\": [[\"same\", 0]]}\\n{\"done\": true}\\n')\n"
             "    os._exit(0)\n")
    vs = _verdicts([(blk(good), t), (blk(good.replace("range(n))", "range(n))[1:]")), t),
                    (blk(forge), "assert 5 in big(1)")])
    assert [v.reason for v in vs] == ["passed 250/250", "failed test 1", "failed test 1"], vs


def test_a_membership_answer_written_by_the_program_needs_a_left_operand_of_the_sandbox():
    # the caller took the sandbox's one-bool answer to `in` (meant for `i in big` of two sandbox values) for any
    # `in` whose container is a value of the program's: a program that rewrote its report's container record as
    # that answer passed `assert 5 in f(1)` without knowing 5; it is taken only where the rewriter asked for it
    forge = ("def f(x):\n    chk = globals()['__ponder_check__']\n    for c in chk.__closure__:\n"
             "        e = c.cell_contents\n        if getattr(e, '__name__', '') == 'emit':\n"
             "            def emit(obj, once=False, _e=e):\n                if isinstance(obj, dict) and 'v' in obj:\n"
             "                    obj = dict(obj, v=[['ok', ['R', ['H', True]]] for r in obj['v']])\n"
             "                return _e(obj, once)\n            c.cell_contents = emit\n    return []\n")
    vs = _verdicts([(blk(forge), "assert 5 in f(1)"), (blk(forge), "assert 'needle' in f(1)"),
                    (blk("def f(x):\n    return [4, 5]"), "assert 5 in f(1)")])
    assert [v.reason for v in vs] == ["failed test 1", "failed test 1", "passed 1/1"], vs


def test_len_of_a_builtin_container_is_not_decided_by_a_builtin_the_program_replaced():
    # the sandbox's check that an operand of len() is of an exact builtin type called `any` from the builtins, which
    # the program may replace while the operand runs: a list subclass whose __len__ says 3 passed
    # `assert len(f()) == 3` once f set builtins.any to say True; the builtins it uses are taken before the program
    liar = ("import builtins\nclass L(list):\n    def __len__(self):\n        return 3\n"
            "def f():\n    builtins.any = lambda it: True\n    return L([1])\n")
    vs = _verdicts([(blk(liar), "assert len(f()) == 3"), (blk(liar.replace("L([1])", "[1, 2, 3]")), "assert len(f()) == 3")])
    assert [v.reason for v in vs] == ["failed test 1", "passed 1/1"], vs


def test_an_if_that_exits_with_status_0_is_no_failed_check():
    # `if ok: print('PASS'); sys.exit(0)` (or sys.exit(), raise SystemExit, exit(False)) ends the script as a
    # success: rewritten as `assert not ok`, a right program was said to fail the check ('failed test 2'); such an
    # `if` runs as written (the tests' own exit is an error of a test statement, as before)
    good = "def add(a, b):\n    return a + b"
    tests = ["import sys\nassert add(0, 0) == 0\nif add(1, 2) == 3:\n    print('PASS')\n    sys.exit(0)\n"
             "else:\n    print('FAIL')\n    sys.exit(1)\n",
             "import sys\nassert add(0, 0) == 0\nif add(1, 2) == 3:\n    sys.exit()\nraise SystemExit(1)\n",
             "assert add(0, 0) == 0\nif add(1, 2) == 3:\n    raise SystemExit\nraise ValueError\n"]
    for v, t in zip(_verdicts((blk(good), t) for t in tests), tests):
        assert v.reason.startswith("error in test statement"), (t, v)


def test_an_if_that_raises_in_a_class_body_is_left_as_written():
    # a class body's names are not seen by the lambdas an assert's operands are evaluated in: `N = add(1, 2)`
    # then `if N != 3: raise ValueError` rewritten as an assert failed a right program (NameError: N)
    t = "class Cfg:\n    N = add(1, 2)\n    if N != 3:\n        raise ValueError(N)\nassert Cfg.N == 3\n"
    v, w = _verdicts([(blk("def add(a, b):\n    return a + b"), t), (blk("def add(a, b):\n    return 4"), t)])
    assert (v.reason, w.correct) == ("passed 1/1", False), (v, w)


def test_an_exception_test_passes_only_when_its_body_raised_an_expected_builtin_exception():
    # tests made only of exception checks (MBPP/HumanEval style): nothing else reports, so how the body ended is
    # reported, and the caller decides it against the handlers' classes
    good = "def f(x):\n    if x < 0:\n        raise ValueError(x)\n    return 2 * x"
    forms = ["try:\n    f(-1)\n    assert False\nexcept ValueError:\n    pass\n",
             "try:\n    y = f(-1)\n    assert False, 'no raise'\nexcept (TypeError, ValueError) as e:\n    pass\n",
             "try:\n    f(-1)\nexcept KeyError:\n    pass\nexcept Exception:\n    ...\nelse:\n    assert False\n",
             "def check(candidate):\n    for x in (-1, -2):\n        try:\n            candidate(x)\n"
             "        except ValueError:\n            pass\n        else:\n            assert False\ncheck(f)\n"]
    for tests in forms:
        v, w = _verdicts([(blk(good), tests),
                          (blk("class E(ValueError):\n    pass\n" + good.replace("ValueError(x)", "E()")), tests)])
        assert v.reason == "passed 1/1" and w.correct, tests  # a subclass is a ValueError, as `except` sees it
    tests = forms[0]
    assert check_code(blk(good), "assert f(1) == 2\n" + tests).reason == "passed 2/2"
    assert check_code(blk(good), tests, isolation="audit").correct
    bad = {
        "returns": "def f(x):\n    return 2 * x",
        "another type": "def f(x):\n    raise TypeError(x)",
        "exits in the call": "import os\ndef f(x):\n    os._exit(0)",
        "forges the end": "import os\ndef f(x):\n    os.write(3, b'{\"done\": true}\\n')\n    os._exit(0)",
        "sys.exit": "import sys\ndef f(x):\n    sys.exit(0)",
        "a class named ValueError": "class ValueError(Exception):\n    pass\ndef f(x):\n    raise ValueError(x)",
        "rebinds the name": "ValueError = Exception\ndef f(x):\n    raise KeyError(x)",
        "patches issubclass": "import builtins\ndef f(x):\n    builtins.issubclass = lambda *a: True\n"
                              "    raise KeyError(x)",
        # the report of a body that returned sits outside the try: its ValueError is not the body's
        "reporting raises": "def f(x):\n    def boom(*a):\n        raise ValueError\n"
                            "    globals()['__ponder_check__'] = boom\n    return 0",
        # the expected class is not in the sandbox: raising only where the test's text names it finds nothing
        "reads the tests": "import sys\ndef f(x):\n    fr = sys._getframe()\n    while fr:\n"
                           "        spec = fr.f_locals.get('spec')\n"
                           "        if isinstance(spec, dict) and 'ValueError' in str(spec.get('stmts')):\n"
                           "            raise ValueError(x)\n        fr = fr.f_back\n    return 0",
    }
    vs = _verdicts((blk(prog), t) for prog in bad.values() for t in (tests, forms[3]))
    for name, v, w in zip(bad, vs[::2], vs[1::2]):
        assert not v.correct and not w.correct, name


def test_an_exception_test_on_a_class_of_the_programs_is_decided_by_the_real_type_of_what_was_raised():
    # the program defines its exception (KodCode / APPS class-based tasks); the tests name it
    good = ("class InsufficientFunds(Exception):\n    pass\n\n"
            "class Account:\n    def __init__(self, balance):\n        self.balance = balance\n"
            "    def withdraw(self, amount):\n        if amount > self.balance:\n"
            "            raise InsufficientFunds(f'cannot withdraw {amount}')\n"
            "        self.balance -= amount\n        return self.balance\n")
    forms = [
        "import pytest\nfrom solution import Account, InsufficientFunds\n\n"
        "def test_ok():\n    assert Account(10).withdraw(3) == 7\n\n"
        "def test_overdraw():\n    with pytest.raises(InsufficientFunds):\n        Account(1).withdraw(5)\n",
        "import pytest\nimport solution\n\ndef test_ok():\n    assert solution.Account(10).withdraw(3) == 7\n\n"
        "def test_overdraw():\n    with pytest.raises((TypeError, solution.InsufficientFunds), match=r'withdraw \\d+') as e:\n"
        "        solution.Account(1).withdraw(5)\n    assert 'withdraw 5' in str(e.value)\n",
        "assert Account(10).withdraw(3) == 7\ntry:\n    Account(1).withdraw(5)\n    assert False\n"
        "except InsufficientFunds:\n    pass\n",
        "import unittest\nclass T(unittest.TestCase):\n    def test_ok(self):\n"
        "        self.assertEqual(Account(10).withdraw(3), 7)\n    def test_overdraw(self):\n"
        "        with self.assertRaises(InsufficientFunds):\n            Account(1).withdraw(5)\n",
    ]
    raise_other = good.replace("raise InsufficientFunds(", "raise ValueError(")
    bad = {
        "returns": good.replace("raise InsufficientFunds(f'cannot withdraw {amount}')", "pass"),
        "another class": raise_other,
        "no such class": raise_other.replace("class InsufficientFunds(Exception):\n    pass\n", ""),
        # the name bound to a builtin class would make any exception of it pass
        "alias of Exception": raise_other.replace("class InsufficientFunds(Exception):\n    pass\n",
                                                  "InsufficientFunds = Exception\n"),
        "alias of BaseException": raise_other.replace("class InsufficientFunds(Exception):\n    pass\n",
                                                      "InsufficientFunds = BaseException\n"),
        # pytest.raises asks issubclass, which a metaclass answers; `except` (and the sandbox) walk the real MRO
        "lying metaclass": "class Meta(type):\n    def __subclasscheck__(cls, sub):\n        return True\n"
                           "    def __instancecheck__(cls, obj):\n        return True\n"
                           + raise_other.replace("(Exception):", "(Exception, metaclass=Meta):"),
        "lying __class__": raise_other.replace("    pass\n", "    pass\nclass Other(ValueError):\n"
                                               "    __class__ = property(lambda self: InsufficientFunds)\n", 1
                                               ).replace("raise ValueError(", "raise Other("),
        # the classes are taken before the body runs, as pytest.raises(E) takes E: rebinding them then is late
        "rebinds in the call": good.replace("raise InsufficientFunds(f'cannot withdraw {amount}')",
                                            "globals()['InsufficientFunds'] = BaseException\n"
                                            "            raise ValueError(amount)"),
        "forges the classes": good.replace("raise InsufficientFunds(f'cannot withdraw {amount}')",
                                           "globals()['__ponder_classes__'] = lambda fn: (BaseException,)\n"
                                           "            raise ValueError(amount)"),
    }
    subclass = good.replace("    pass\n", "    pass\nclass Overdraft(InsufficientFunds):\n    pass\n", 1
                            ).replace("raise InsufficientFunds(", "raise Overdraft(")
    for tests in forms:
        v, w, *vs = _verdicts((blk(p), tests) for p in [good, subclass, *bad.values()])
        assert v.reason.startswith("passed 2/2") and w.correct, tests
        for name, v in zip(bad, vs):
            assert v.reason.startswith("failed test 2"), (tests, name)
    # a class of another module the tests import may be a builtin one (socket.timeout is TimeoutError), which
    # a program's class must not be: that test runs as written, as before
    prog = "import socket\ndef f(x):\n    if x < 0:\n        raise socket.timeout(x)\n    return 2 * x\n"
    for tests in ("import socket\nassert f(1) == 2\ntry:\n    f(-1)\n    assert False\nexcept socket.timeout:\n    pass\n",
                  "from socket import timeout\nassert f(1) == 2\ntry:\n    f(-1)\n    assert False\nexcept timeout:\n    pass\n"):
        v, w = _verdicts([(blk(prog), tests), (blk("def f(x):\n    return 2 * x\n"), tests)])
        assert v.reason == "passed 2/2" and not w.correct


def test_an_assert_in_the_body_of_an_exception_test_lets_its_operands_exception_through():
    # `with pytest.raises(ZeroDivisionError): assert div(1, 0) == 0` (KodCode writes it): the call is to raise
    tests = ["import pytest\ndef test_ok():\n    assert div(4, 2) == 2\ndef test_zero():\n"
             "    with pytest.raises(ZeroDivisionError):\n        assert div(1, 0) == 0\n",
             "assert div(4, 2) == 2\ntry:\n    assert div(1, 0) == 0\n    assert False\nexcept ZeroDivisionError:\n    pass\n",
             "import pytest\ndef test_ok():\n    assert div(4, 2) == 2\ndef test_zero():\n"
             "    with pytest.raises(ZeroDivisionError):\n        assert list(div(1, 0)) == []\n"]
    good = "def div(a, b):\n    return a / b\n"
    lazy = "def div(a, b):\n    if b:\n        return a / b\n    return (a / b for _ in range(1))\n"
    for t in tests:
        assert check_code(blk(good), t).reason.startswith("passed 2/2"), t
        for bad in ("def div(a, b):\n    return a / b if b else 0\n", "def div(a, b):\n    return a / b if b else []\n",
                    "def div(a, b):\n    return a // b if b else int('x')\n"):
            assert not check_code(blk(bad), t).correct, (t, bad)
    assert check_code(blk(lazy), tests[2]).reason == "passed 2/2"  # what iterating it raises counts too
    # an assert the body reaches before it raises is still decided here, on the value the sandbox sends
    t = ("import pytest\ndef test_overdraw():\n    with pytest.raises(ValueError):\n        a = Account(10)\n"
         "        assert a.balance == 10\n        a.withdraw(20)\n")
    good = ("class Account:\n    def __init__(self, balance):\n        self.balance = balance\n"
            "    def withdraw(self, amount):\n        if amount > self.balance:\n            raise ValueError(amount)\n")
    assert check_code(blk(good), t).reason == "passed 1/1"
    always_equal = "class Eq:\n    def __eq__(self, other):\n        return True\n" + good.replace(
        "self.balance = balance", "self.balance = Eq()").replace("if amount > self.balance:", "if True:")
    for bad in (good.replace("self.balance = balance", "self.balance = balance + 1"), always_equal):
        assert check_code(blk(bad), t).reason == "failed test 1 (test_overdraw)"


def test_exception_tests_written_with_raise_assertionerror_or_assert_true_are_the_same_test():
    good = "def f(x):\n    if x < 0:\n        raise ValueError(x)\n    return 2 * x"
    forms = ["try:\n    f(-1)\nexcept ValueError:\n    pass\nelse:\n    raise AssertionError('no raise')\n",
             "try:\n    f(-1)\n    raise AssertionError\nexcept ValueError:\n    pass\n",
             "try:\n    f(-1)\n    assert False\nexcept ValueError:\n    assert True\n"]
    for tests in forms:
        assert check_code(blk(good), tests).reason == "passed 1/1", tests
        for bad in ("def f(x):\n    return 2 * x", "def f(x):\n    raise TypeError(x)",
                    "import os\ndef f(x):\n    os._exit(0)"):
            assert not check_code(blk(bad), tests).correct, (tests, bad)


def test_an_exception_test_whose_handler_returns_before_an_assert_false_is_the_else_form():
    # `except ValueError: return` then `assert False` is `else: assert False`: the assert, which a correct program
    # never reaches, went unreported and every program failed; `continue` in a loop likewise
    good = blk("def div(a, b):\n    if b == 0:\n        raise ValueError('zero')\n    return a / b")
    bad = blk("def div(a, b):\n    return a / b")
    forge = blk("import os\nos.write(3, b'{\"done\": true}\\n')\nos._exit(0)")
    tests = ["def test_z():\n    try:\n        div(1, 0)\n    except ValueError:\n        return\n    assert False\n",
             "def test_z():\n    for b in [0, 0]:\n        try:\n            div(1, b)\n        except ValueError:\n"
             "            continue\n        assert False, 'no raise'\n",
             "def test_z():\n    try:\n        div(1, 0)\n    except ValueError as e:\n        assert str(e) == 'zero'\n"
             "        return\n    assert False\n"]
    verdicts = _verdicts([(p, t) for t in tests for p in (good, bad, forge)])
    assert [v.correct for v in verdicts] == [True, False, False] * len(tests)


def test_pytest_raises_is_decided_by_the_caller_not_by_the_sandboxs_pytest():
    good = "def f(x):\n    if x < 0:\n        raise ValueError(x)\n    return 2 * x"
    tests = "import pytest\nassert f(1) == 2\nwith pytest.raises((KeyError, ValueError)):\n    f(-1)\n"
    assert check_code(blk(good), tests).reason == "passed 2/2"
    assert check_code(blk(good), "import pytest\nwith pytest.raises(ValueError):\n    f(-1)\n").correct
    # run in the sandbox, pytest.raises is the program's to replace with a context that suppresses nothing
    cheat = "import contextlib, pytest\npytest.raises = lambda *a, **k: contextlib.suppress()\ndef f(x):\n    return 2 * x"
    _none_pass(tests, cheat, "def f(x):\n    return 2 * x", "def f(x):\n    raise TypeError(x)")
    # match= of plain text: the message must hold it
    matching = "import pytest\nassert f(1) == 2\nwith pytest.raises(ValueError, match='must be >= 0'):\n    f(-1)\n"
    assert check_code(blk(good.replace("ValueError(x)", "ValueError('x must be >= 0')")), matching).correct
    assert not check_code(blk(good), matching).correct
    assert not check_code(blk(cheat), matching).correct
    # match= is a regex, searched here: '^-1$' is no substring of '-1' but matches it
    assert check_code(blk(good), "import pytest\nassert f(1) == 2\nwith pytest.raises(ValueError, match='^-1$'):\n"
                                 "    f(-1)\n").reason == "passed 2/2"


def test_pytest_raises_called_with_the_function_is_the_with_form():
    # pytest.raises(E, f, *args): run as written it is the sandbox's pytest.raises, the program's to replace
    good = "def f(x, scale=2):\n    if x < 0:\n        raise ValueError(x)\n    return scale * x"
    tests = ("import pytest\ndef test_ok():\n    assert f(1) == 2\n\n"
             "def test_neg():\n    pytest.raises(ValueError, f, -1, scale=3)\n")
    assert check_code(blk(good), tests).reason == "passed 2/2"
    cheat = ("import pytest\npytest.raises = lambda *a, **k: None\n"
             "def f(x, scale=2):\n    return scale * x")
    for bad in (cheat, "def f(x, scale=2):\n    return scale * x", good.replace("raise ValueError", "raise KeyError")):
        assert check_code(blk(bad), tests).reason == "failed test 2 (test_neg)", bad


def test_pytest_raises_match_is_a_regex_the_caller_searches():
    # KodCode style: a message checked with a real regex, as pytest does it (re.search on str(exception))
    tests = ("import pytest\nfrom solution import withdraw\n\n"
             "def test_ok():\n    assert withdraw(10, 3) == 7\n\n"
             "def test_overdraw():\n    with pytest.raises(ValueError, match=r'^insufficient funds: \\d+ > \\d+$'):\n"
             "        withdraw(1, 5)\n")
    good = ("def withdraw(balance, amount):\n    if amount > balance:\n"
            "        raise ValueError(f'insufficient funds: {amount} > {balance}')\n    return balance - amount\n")
    assert check_code(blk(good), tests).reason == "passed 2/2"
    wrong_message = good.replace("f'insufficient funds: {amount} > {balance}'", "'insufficient funds'")
    assert check_code(blk(wrong_message), tests).reason == "failed test 2 (test_overdraw)"
    assert check_code(blk("def withdraw(b, a):\n    return b - a\n"), tests).reason == "failed test 2 (test_overdraw)"
    # the pattern never enters the sandbox: run there, pytest.raises is the program's to replace, and the
    # program could read the pattern out of the tests' source and raise a message that matches it
    cheat = ("import contextlib, pytest, sys\npytest.raises = lambda *a, **k: contextlib.suppress()\n"
             "def withdraw(b, a):\n    src = str(sys._getframe(1).f_code.co_consts)\n"
             "    if 'insufficient' in src:\n        raise ValueError('insufficient funds: 5 > 1')\n    return b - a\n")
    assert not check_code(blk(cheat), tests).correct
    # a message the program makes too long to search within the caller's bound fails rather than being searched
    huge = good.replace("f'insufficient funds: {amount} > {balance}'", "'insufficient funds: 5 > ' + '1' * 10**6")
    assert check_code(blk(huge), tests).reason == "failed test 2 (test_overdraw)"
    # and the caller's searches are charged their worst case against one budget per run: eight messages each as
    # long as that bound allows are more than one run may search
    def many(n):
        return "import pytest\n" + "".join(
            f"def test_{k}():\n    with pytest.raises(ValueError, match=r'\\d+ > \\d+'):\n        withdraw(1, 5)\n"
            for k in range(n)) + "def test_ok():\n    assert withdraw(10, 3) == 7\n"
    long = good.replace("f'insufficient funds: {amount} > {balance}'", "'1' * 100 + ' > 1' + ' ' * 150")
    assert check_code(blk(long), many(2)).reason == "passed 3/3"
    assert not check_code(blk(long), many(8)).correct
    # a pattern that does not compile fails the test, as in pytest; one that could backtrack exponentially on a
    # message of the program's is refused with a reason
    bad = tests.replace(r"match=r'^insufficient", "match=r'(insufficient")
    assert check_code(blk(good), bad).reason == "failed test 2 (test_overdraw)"
    exp = tests.replace("\\d+ > \\d+$'", "(\\d+)+ >'")
    assert check_code(blk(good), exp).reason == ("unsupported pytest.raises match= pattern "
                                                 "'^insufficient funds: (\\\\d+)+ >'")


def test_pytest_raises_as_excinfo_binds_the_exception_for_the_checks_after_it():
    # KodCode style: the exception is bound and its message, args or type checked after the block
    base = ("import pytest\nfrom solution import withdraw\n\n"
            "def test_ok():\n    assert withdraw(10, 3) == 7\n\n"
            "def test_overdraw():\n    with pytest.raises(ValueError) as excinfo:\n        withdraw(1, 5)\n    CHECK\n")
    good = ("def withdraw(balance, amount):\n    if amount > balance:\n"
            "        raise ValueError(f'insufficient funds: {amount} > {balance}', amount)\n"
            "    return balance - amount\n")
    subclass = "class Overdraft(ValueError):\n    pass\n" + good.replace("raise ValueError", "raise Overdraft")
    checks = {  # check -> whether the subclass passes it, as in pytest
        "assert 'insufficient funds' in str(excinfo.value)": True,
        "assert str(excinfo.value.args[0]) == 'insufficient funds: 5 > 1'": True,
        "assert excinfo.value.args[1] == 5": True,
        "assert excinfo.type is ValueError": False,
        "assert excinfo.type == ValueError": False,
        "assert excinfo.typename == 'ValueError'": False,
        "excinfo.match(r'funds: \\d+ > \\d+')": True,
        # a pattern the tests hold in a variable is the sandbox's already: matched there (so a program that
        # reads the tests' values can match it, as with any assert whose operands are all the sandbox's)
        "pattern = 'funds: 5'\n    assert excinfo.match(pattern)": True,
    }
    wrong = {
        "returns": "def withdraw(b, a):\n    return b - a\n",
        "another type": good.replace("raise ValueError", "raise KeyError"),
        "another message": good.replace("insufficient funds: {amount} > {balance}", "no: {amount} > {balance}"),
        # the literals the checks compare with stay in the caller: a message made of every string constant of
        # the code that called the program holds none of them
        "reads the tests": "import sys\ndef consts(code):\n    for c in code.co_consts:\n"
                           "        yield from consts(c) if hasattr(c, 'co_consts') else [str(c)]\n"
                           "def withdraw(b, a):\n    if a <= b:\n        return b - a\n"
                           "    fr, seen = sys._getframe(1), []\n    while fr:\n"
                           "        seen.extend(consts(fr.f_code))\n        fr = fr.f_back\n"
                           "    raise ValueError(' '.join(seen), 5)\n",
        # what it binds as excinfo is the sandbox's, but a fake one still does not know what is expected
        "fakes excinfo": "class Fake:\n    value = ValueError('x', 5)\n    type = ValueError\n"
                         "    typename = 'ValueError'\n"
                         "def withdraw(b, a):\n    if a <= b:\n        return b - a\n"
                         "    g = globals()\n    g['__ponder_excinfo__'] = lambda e: Fake()\n"
                         "    g['__ponder_exc_type__'] = lambda i: ['ok', ['s', 'ValueError']]\n    raise KeyError(a)\n",
    }
    for check, sub_passes in checks.items():
        tests = base.replace("CHECK", check)
        failing = [name for name in wrong
                   # a ValueError(..., 5): right for the checks that do not read the message
                   if not (name in ("another message", "reads the tests") and ("args[1]" in check or "type" in check))
                   and not (name == "reads the tests" and "pattern =" in check)]
        v, w, *vs = _verdicts((blk(p), tests) for p in [good, subclass, *(wrong[name] for name in failing)])
        assert v.reason == "passed 2/2" and w.correct == sub_passes, check
        for name, v in zip(failing, vs):
            assert v.reason == "failed test 2 (test_overdraw)", (check, name)


# pytest-style tests (KodCode and most code-RL sets): test functions the verifier calls as pytest would
PYTEST_STYLE = ("from solution import add\n\n"
                "def test_add():\n    assert add(1, 2) == 3\n\n"
                "def test_neg():\n    assert add(-1, 1) == 0\n")
ADD = "def add(a, b):\n    return a + b"
ADD_WRONG = "def add(a, b):\n    return a + b if a >= 0 else a - b"


def test_pytest_style_test_functions_are_called_each_one_test():
    assert check_code(blk(ADD), PYTEST_STYLE).reason == "passed 2/2"
    assert check_code(blk(ADD_WRONG), PYTEST_STYLE).reason == "failed test 2 (test_neg)"
    bare = PYTEST_STYLE.replace("from solution import add\n", "")
    assert check_code(blk(ADD), bare).reason == "passed 2/2"
    assert not check_code(blk(ADD_WRONG), bare).correct
    star = PYTEST_STYLE.replace("from solution import add", "from solution import *")
    assert check_code(blk(ADD), star).reason == "passed 2/2"
    module = PYTEST_STYLE.replace("from solution import add", "import solution").replace(" add(", " solution.add(")
    assert check_code(blk(ADD), module).reason == "passed 2/2"
    assert check_code(blk(ADD_WRONG), module).reason == "failed test 2 (test_neg)"
    # methods test* of a class Test*, an instance per call as pytest makes
    cls = ("class TestAdd:\n    def test_pos(self):\n        assert add(1, 2) == 3\n"
           "    def test_neg(self):\n        assert add(-1, 1) == 0\n")
    assert check_code(blk(ADD), cls).reason == "passed 2/2"
    assert check_code(blk(ADD_WRONG), cls).reason == "failed test 2 (TestAdd::test_neg)"
    # a test function that raises fails as that test; one without an assert is run (its exception fails the
    # run) but is no test of its own: its reaching its end is nothing the caller could trust
    raising = "def add(a, b):\n    if a == 5:\n        raise ValueError(a)\n    return a + b"
    assert check_code(blk(raising), PYTEST_STYLE + "def test_five():\n    assert add(5, 1) == 6\n").reason == (
        "failed test 3 (test_five)")
    smoke = PYTEST_STYLE + "def test_smoke():\n    add(5, 5)\n"
    assert check_code(blk(ADD), smoke).reason == "passed 2/2"
    assert check_code(blk(raising), smoke).reason == "error in test_smoke"
    # functions the tests call themselves are not called again; a call under `__main__` does not run
    assert check_code(blk(ADD), "def test():\n    assert add(1, 2) == 3\ntest()\n").reason == "passed 1/1"
    used = "def test_double(n):\n    return 2 * n\nassert list(map(f, [1, 2])) == list(map(test_double, [1, 2]))\n"
    assert check_code(blk("def f(n):\n    return n + n"), used).reason == "passed 1/1"
    main = PYTEST_STYLE + "if __name__ == '__main__':\n    test_add()\n    test_neg()\n"
    assert check_code(blk(ADD), main).reason == "passed 2/2"
    # a test defined twice is its last definition, as in pytest (the first is never run)
    twice = PYTEST_STYLE + "def test_add():\n    assert add(2, 2) == 4\nclass TestT:\n    def test_a(self):\n" \
                           "        assert add(1, 1) == 5\n    def test_a(self):\n        assert add(1, 1) == 2\n"
    assert check_code(blk(ADD), twice).reason == "passed 3/3"
    # a program's own test functions are not collected, even when the tests import all it defines
    own = ADD + "\ndef test_mine():\n    raise ValueError\n"
    assert check_code(blk(own), star).reason == "passed 2/2"


def test_pytest_parametrize_is_expanded_by_the_caller():
    param = ("import pytest\nfrom solution import add\n\n"
             "@pytest.mark.parametrize('a, b, expected', [(1, 2, 3), (-1, 1, 0), pytest.param(2, 2, 4, id='x')])\n"
             "def test_add(a, b, expected):\n    assert add(a, b) == expected\n")
    assert check_code(blk(ADD), param).reason == "passed 3/3"
    assert check_code(blk(ADD_WRONG), param).reason == "failed test 2 (test_add[2])"
    # with its marks taken apart by the caller, the tests' `import pytest` is not run: where the sandbox has no
    # pytest (here: a program that makes the import fail), the tests still run
    no_pytest = "import sys\nsys.modules['pytest'] = None\n" + ADD
    assert check_code(blk(no_pytest), param).reason == "passed 3/3"
    # stacked decorators give every combination; a table bound at the top level works as a literal list
    stacked = ("import pytest\nCASES = [(1, 1), (2, 4), (3, 9)]\n"
               "@pytest.mark.parametrize('x, y', CASES)\n@pytest.mark.parametrize('k', [0, 1])\n"
               "def test_sq(x, y, k):\n    assert sq(x) + k == y + k\n")
    assert check_code(blk("def sq(x):\n    return x * x"), stacked).reason == "passed 6/6"
    assert not check_code(blk("def sq(x):\n    return x * x if x < 3 else 0"), stacked).correct
    # a list the test mutates is the same object at each use, as pytest passes it
    inplace = ("@pytest.mark.parametrize('xs, expected', [([3, 1, 2], [1, 2, 3]), ([], [])])\n"
               "def test_sort(xs, expected):\n    sort_in_place(xs)\n    assert xs == expected\n")
    assert check_code(blk("def sort_in_place(xs):\n    xs.sort()"), inplace).reason == "passed 2/2"
    assert not check_code(blk("def sort_in_place(xs):\n    return sorted(xs)"), inplace).correct
    # the expected values stay in the caller: an oracle finds nothing to return (the control, a value the
    # test itself sends into the sandbox, shows that it would)
    secret = "9876543210123"
    hidden = f"@pytest.mark.parametrize('a, b, expected', [(1, 2, {secret})])\n" \
             "def test_add(a, b, expected):\n    assert add(a, b) == expected\n"
    assert check_code(blk(_oracle_attacker(secret)), hidden, timeout=10).reason == "failed test 1 (test_add[1])"
    table = f"CASES = [(1, 2, {secret})]\n" + hidden.replace(f"[(1, 2, {secret})]", "CASES")
    assert check_code(blk(_oracle_attacker(secret)), table, timeout=10).reason == "failed test 1 (test_add[1])"
    named = f"EXPECTED = {secret}\n" + hidden.replace(f"{secret})]", "EXPECTED)]")  # a name bound once stays here
    assert check_code(blk(_oracle_attacker(secret)), named, timeout=10).reason == "failed test 1 (test_add[1])"
    control = "EXPECTED = 0\n" + named  # bound twice: the sandbox's variable
    assert check_code(blk(_oracle_attacker(secret)), control, timeout=10).correct


def test_pytest_approx_is_decided_by_the_caller():
    # KodCode's float tests: pytest.approx in the sandbox is no plain value (every program failed), and would be
    # the program's pytest; built by the caller, it compares as pytest does
    tests = ("import pytest\n"
             "def test_mean():\n    assert mean([0.1, 0.2]) == pytest.approx(0.15)\n"
             "def test_halves():\n    assert halves([1, 3]) == pytest.approx([0.5, 1.5])\n"
             "def test_tolerances():\n    assert mean([100, 110]) == pytest.approx(100, rel=0.1)\n"
             "    assert mean([0, 0.002]) == pytest.approx(0.0, abs=1e-2)\n"
             "    assert mean([1, 2]) != pytest.approx(1.6)\n")
    good = "def mean(xs):\n    return sum(xs) / len(xs)\ndef halves(xs):\n    return [x / 2 for x in xs]"
    assert check_code(blk(good), tests).reason == "passed 3/3"
    assert check_code(blk("import sys\nsys.modules['pytest'] = None\n" + good), tests).reason == "passed 3/3"
    assert check_code(blk(good.replace("/ len(xs)", "/ len(xs) * 1.01")), tests).reason == "failed test 1 (test_mean)"
    assert check_code(blk(good.replace("x / 2", "x // 2")), tests).reason == "failed test 2 (test_halves)"
    liar = good + "\nclass Any:\n    def __eq__(self, o): return True\nhalves = lambda xs: Any()"
    assert check_code(blk(liar), tests).reason == "failed test 2 (test_halves)"
    secret = "9876543210123"
    approx = f"import pytest\ndef test_add():\n    assert add(1, 2) == pytest.approx({secret})\n"
    assert check_code(blk(_oracle_attacker(secret)), approx, timeout=10).reason == "failed test 1 (test_add)"


def test_functions_imported_by_another_name_are_the_callers_too():
    # `from math import isclose`, `import math as m`, `from pytest import approx`: the caller applies them as it
    # does math.isclose and pytest.approx; in the sandbox they were what the program had put in their modules
    fake = ("import math, sys, types\nmath.isclose = lambda *a, **k: True\n"
            "sys.modules['pytest'] = types.SimpleNamespace(approx=lambda *a, **k: 0)\ndef f(x):\n    return 0\n")
    tests = ["from math import isclose\nassert isclose(f(2), 0.5)", "import math as m\nassert m.isclose(f(2), 0.5)",
             "from pytest import approx\nassert f(2) == approx(0.5)", "from math import *\nassert isclose(f(2), 0.5)"]
    assert [v.reason for v in _verdicts((blk(fake), t) for t in tests)] == ["failed test 1"] * 4
    good = "def f(x):\n    return x / 4"
    assert [v.reason for v in _verdicts((blk(good), t) for t in tests)] == ["passed 1/1"] * 4


def test_docstrings_of_the_tests_stay_out_of_the_sandbox():
    # a docstring (or other bare string) of the tests that states the expected value was sandbox code: an oracle
    # found it in memory; it does nothing, so it is dropped (a body of only a docstring still runs, as `pass`)
    secret = "9876543210123"
    tests = f'"""add(1, 2) is {secret}"""\ndef test_add():\n    """add(1, 2) is {secret}"""\n' \
            f'    assert add(1, 2) == {secret}\ndef test_doc():\n    """only this"""\n'
    assert check_code(blk(_oracle_attacker(secret)), tests, timeout=10).reason == "failed test 1 (test_add)"


def test_pytest_fixtures_of_the_tests_own_are_made_for_each_test():
    tests = ("import pytest\n"
             "@pytest.fixture\ndef test_data():\n    return [3, 1, 2]\n"  # a fixture named test* is no test
             "@pytest.fixture(scope='module')\ndef expected(test_data):\n    return sorted(test_data)\n"
             "def test_sort(test_data, expected):\n    assert my_sort(test_data) == expected\n"
             "class TestLen:\n    def test_len(self, test_data):\n        assert len(my_sort(test_data)) == 3\n")
    assert check_code(blk("def my_sort(xs):\n    return sorted(xs)"), tests).reason == "passed 2/2"
    # each test gets its own value: sorting in place in one test changes nothing for the next
    assert check_code(blk("def my_sort(xs):\n    xs.sort()\n    return xs"), tests).reason == "passed 2/2"
    assert check_code(blk("def my_sort(xs):\n    return xs"), tests).reason == "failed test 1 (test_sort)"


def test_pytest_capsys_monkeypatch_and_tmp_path_are_provided():
    # KodCode's tests of printing and input-reading functions request them: every program got "unsupported"
    show = "def f():\n    print('hi')\ndef main():\n    n = int(input())\n    print(n + 1)"
    tests = ("def test_f(capsys):\n    f()\n    out, err = capsys.readouterr()\n    assert out == 'hi\\n'\n"
             "    f()\n    assert capsys.readouterr().out.strip() == 'hi'\n"
             "def test_main(monkeypatch, capsys):\n    monkeypatch.setattr('builtins.input', lambda: '4')\n"
             "    main()\n    assert capsys.readouterr().out == '5\\n'\n")
    read = "import os, sys\ndef g():\n    return sys.stdin.readline().strip(), os.environ.get('X')"
    # what a test patched is undone before the next: test_after reads the real (empty) stdin and no X
    patched = ("import io, sys\ndef test_g(monkeypatch):\n    monkeypatch.setattr(sys, 'stdin', io.StringIO('a\\nb\\n'))\n"
               "    monkeypatch.setenv('X', '1')\n    assert g() == ('a', '1')\n"
               "def test_after():\n    assert g() == ('', None)\n")
    files = ("import pytest\n@pytest.fixture\ndef path(tmp_path):\n    p = tmp_path / 'a.txt'\n    p.write_text('hey')\n"
             "    return p\ndef test_read(path):\n    assert h(path) == 'hey'\n")
    verdicts = _verdicts([(blk(show), tests), (blk(show.replace("'hi'", "'ho'")), tests), (blk(read), patched),
                          (blk("def h(p):\n    return open(p).read()"), files),
                          (blk("def h(p):\n    return open(p).read()"), files, {"isolation": "audit"})])
    assert [v.reason for v in verdicts] == ["passed 2/2", "failed test 1 (test_f)", "passed 2/2", "passed 1/1",
                                            "passed 1/1"]


# a Stack whose module holds a LOG the tests' teardowns append to (setup/teardown and yield-fixture tests)
_LOGGED_STACK = ("LOG = []\nclass Stack:\n    def __init__(self):\n        self.items = []\n    def push(self, x):\n"
                 "        self.items.append(x)\n    def size(self):\n        return len(self.items)\n")


def test_pytest_class_setup_method_and_teardown_method_run_around_each_test():
    # a fresh object per test from setup_method (KodCode's class-design tests): every program got "unsupported"
    tests = ("import solution\nfrom solution import Stack\nclass TestStack:\n    def setup_method(self, method):\n"
             "        self.s = Stack()\n    def teardown_method(self):\n        solution.LOG.append(1)\n"
             "    def test_push(self):\n        self.s.push(1)\n        assert self.s.size() == 1\n"
             "    def test_empty(self):\n        assert self.s.size() == 0\n"
             "def test_torn_down_twice():\n    assert len(solution.LOG) == 2\n")
    good = _LOGGED_STACK
    verdicts = _verdicts([(blk(good), tests), (blk(good.replace("append(x)", "extend([x, x])")), tests)])
    assert [v.reason for v in verdicts] == ["passed 3/3", "failed test 1 (TestStack::test_push)"]


def test_pytest_yield_fixture_gives_its_value_and_tears_down_after_the_test():
    # a fixture with a teardown after its `yield` gave every program an "unsupported yield fixture" verdict
    tests = ("import pytest\nimport solution\n@pytest.fixture\ndef stack():\n    s = solution.Stack()\n    yield s\n"
             "    solution.LOG.append(s.size())\n"
             "def test_a(stack):\n    stack.push(1)\n    assert stack.size() == 1\n"
             "def test_b(stack):\n    assert stack.size() == 0\n"
             "def test_log():\n    assert solution.LOG == [1, 0]\n")
    good = _LOGGED_STACK
    verdicts = _verdicts([(blk(good), tests), (blk(good.replace("append(x)", "extend([x, x])")), tests)])
    assert [v.reason for v in verdicts] == ["passed 3/3", "failed test 1 (test_a)"]


def test_parametrize_over_a_comprehension_of_the_tests_values_is_expanded_by_the_caller():
    # `[(i, 2 * i) for i in range(5)]` gave every program an "unsupported parametrize values" verdict
    double = blk("def f(x):\n    return 2 * x")
    head = "import pytest\n@pytest.mark.parametrize('x,y', {})\ndef test_f(x, y):\n    assert f(x) == y\n"
    cases = {"[(i, 2 * i) for i in range(5)]": "passed 5/5", "[(i, 3 * i) for i in range(5)]": "failed test 2 (test_f[2])",
             "[(i, j) for i in range(2) for j in [i * 2]]": "passed 2/2",
             # a value of the program's, or more cases than the caller writes out: as before
             "[(i, f(i)) for i in range(3)]": "unsupported parametrize values (not a list written in the tests) on test_f",
             "[(i, i) for i in range(10 ** 6)]":
                 "unsupported parametrize values (not a list written in the tests) on test_f"}
    verdicts = _verdicts([(double, head.format(values)) for values in cases])
    assert [v.reason for v in verdicts] == list(cases.values())


def test_pytest_features_the_verifier_cannot_run_give_a_reason():
    cases = {"def test_x(request):\n    assert add(1, 2) == 3\n": "unsupported pytest fixture 'request' in test_x",
             "import pytest\n@pytest.mark.xfail\ndef test_x():\n    assert add(1, 2) == 3\n":
                 "unsupported pytest mark 'xfail' on test_x",
             "import functools\n@functools.lru_cache\ndef test_x():\n    assert add(1, 2) == 3\n":
                 "unsupported decorator on test_x",
             "class TestX:\n    def setup_class(cls):\n        cls.k = 1\n    def test_x(self):\n"
             "        assert add(1, 2) == 3\n": "unsupported setup_class in TestX",
             "import pytest\n@pytest.fixture\ndef k():\n    yield from [1]\ndef test_x(k):\n    assert add(k, 2) == 3\n":
                 "unsupported yield fixture 'k' in test_x",
             "import pytest\n@pytest.fixture(autouse=True)\ndef reset():\n    return None\n"
             "def test_x():\n    assert add(1, 2) == 3\n": "unsupported autouse fixture reset"}
    for tests, reason in cases.items():
        v = check_code(blk(ADD), tests)
        assert (v.correct, v.reason) == (False, reason), tests
    # skipped tests are not run, as pytest skips them
    skip = PYTEST_STYLE + "@pytest.mark.skip(reason='slow')\ndef test_slow():\n    assert add(1, 1) == 5\n"
    assert check_code(blk(ADD), "import pytest\n" + skip).reason == "passed 2/2"


def test_a_program_cannot_pass_pytest_style_tests_by_tampering_with_their_collection():
    cheats = {
        # its own test functions are replaced by the tests' definitions, which run after the program
        "own tests": "def add(a, b):\n    return 0\ndef test_add():\n    pass\ndef test_neg():\n    pass",
        # rebinds the tests still to come: their asserts are never reported
        "rebinds later tests": "def add(a, b):\n    globals()['test_neg'] = lambda: None\n    return abs(a) + b",
        "rebinds in solution": ("import sys\ndef add(a, b):\n    sys.modules['solution'].test_neg = lambda: None\n"
                                "    return abs(a) + b"),
        # ends the run early with a forged "done" record before the failing test reports
        "ends early": ("import os\ndef add(a, b):\n    if a < 0:\n        os.write(3, b'{\"done\": true}\\n')\n"
                       "        os._exit(0)\n    return a + b"),
    }
    for name, prog in cheats.items():
        assert not check_code(blk(prog), PYTEST_STYLE).correct, name


# unittest.TestCase files (several code sets): test methods collected like pytest's, the assertion methods
# rewritten by the caller into the asserts it decides
UNITTEST_STYLE = ("import unittest\nfrom solution import add\n\n"
                  "class TestAdd(unittest.TestCase):\n"
                  "    def test_pos(self):\n        self.assertEqual(add(1, 2), 3)\n"
                  "    def test_raises(self):\n        with self.assertRaises(ValueError):\n            add('a', None)\n\n"
                  "if __name__ == '__main__':\n    unittest.main()\n")
ADD_CHECKED = "def add(a, b):\n    if not isinstance(a, int):\n        raise ValueError(a)\n    return a + b"


def test_unittest_testcase_methods_are_collected_each_one_test():
    assert check_code(blk(ADD_CHECKED), UNITTEST_STYLE).reason == "passed 2/2"
    assert check_code(blk(ADD_CHECKED.replace("a + b", "a - b")), UNITTEST_STYLE).reason == (
        "failed test 1 (TestAdd::test_pos)")
    assert check_code(blk(ADD), UNITTEST_STYLE).reason == "failed test 2 (TestAdd::test_raises)"
    # other spellings of the base, any class name (as unittest collects), `unittest.main()` run unguarded
    spellings = [UNITTEST_STYLE.replace("import unittest\n", "import unittest as ut\n").replace(
                     "(unittest.TestCase)", "(ut.TestCase)").replace("    unittest.main()", "    ut.main()"),
                 UNITTEST_STYLE.replace("import unittest\n", "from unittest import TestCase\nimport unittest\n")
                 .replace("(unittest.TestCase)", "(TestCase)").replace("class TestAdd", "class AddChecks"),
                 UNITTEST_STYLE.replace("if __name__ == '__main__':\n    unittest.main()\n", "unittest.main()\n")]
    for tests in spellings:
        v, w = _verdicts([(blk(ADD_CHECKED), tests), (blk(ADD), tests)])
        assert v.reason == "passed 2/2" and not w.correct, tests
    # setUp and tearDown run around each test, on a fresh instance per test (test_b sees no item of test_a's)
    hooks = ("import unittest\nLOG = []\n"
             "class TestStack(unittest.TestCase):\n"
             "    def setUp(self):\n        super(TestStack, self).setUp()\n        self.items = make()\n"
             "    def tearDown(self):\n        LOG.append('down')\n        super().tearDown()\n"
             "    def test_a(self):\n        self.items.append(1)\n        self.assertEqual(self.items, [1])\n"
             "    def test_b(self):\n        self.assertEqual(self.items, [])\n        self.assertEqual(LOG, ['down'])\n")
    assert check_code(blk("def make():\n    return []"), hooks).reason == "passed 2/2"
    assert check_code(blk("SHARED = []\ndef make():\n    return SHARED"), hooks).reason == (
        "failed test 2 (TestStack::test_b)")
    # skipped tests are not run, as unittest skips them
    skipped = UNITTEST_STYLE.replace("    def test_raises", "    @unittest.skip('slow')\n    def test_raises")
    assert check_code(blk(ADD), skipped).reason == "passed 1/1"
    # a helper method's assertion methods are rewritten too (its asserts are tests of their own, as in pytest;
    # written out at each call, one per call)
    helper = ("import unittest\nclass TestAdd(unittest.TestCase):\n    def check(self, a, b):\n"
              "        self.assertEqual(add(a, b), a + b)\n"
              "    def test_x(self):\n        for a in [1, -1]:\n            self.check(a, 2)\n")
    assert check_code(blk(ADD), helper).reason == "passed 2/2"
    assert not check_code(blk(ADD_WRONG), helper).correct


SUBTESTS = ("import unittest\nclass TestAdd(unittest.TestCase):\n"
            "    def test_zero(self):\n        for i in range(3):\n            with self.subTest(i=i, msg='zero'):\n"
            "                with self.subTest('nested'):\n                    self.assertEqual(add(i, 0), i)\n"
            "    def test_pos(self):\n        self.assertEqual(add(1, 2), 3)\n")


def test_unittest_subtests_run_their_body_and_any_failing_one_fails_the_test():
    assert check_code(blk(ADD), SUBTESTS).reason == "passed 2/2"
    # one failing sub-test (i == 2), or one raising (i == 1), fails its test, as unittest reports it
    for prog in ("def add(a, b):\n    return a + b if a < 2 else 0",
                 "def add(a, b):\n    if a == 1:\n        raise ValueError(a)\n    return a + b"):
        assert check_code(blk(prog), SUBTESTS).reason == "failed test 1 (TestAdd::test_zero)", prog


CLASS_HOOKS = ("import unittest\nLOG = []\n"
               "def setUpModule():\n    LOG.append('module')\n"
               "class TestStack(unittest.TestCase):\n"
               "    @classmethod\n    def setUpClass(cls):\n        super().setUpClass()\n"
               "        cls.items = make()\n        LOG.append('up')\n"
               "    @classmethod\n    def tearDownClass(cls):\n        LOG.append('down')\n"
               "    def test_a(self):\n        self.items.append(1)\n"
               "        self.assertEqual(LOG, ['module', 'up'])\n"
               "    def test_b(self):\n        self.assertEqual(self.items, [1])\n"
               "class TestAfter(unittest.TestCase):\n"
               "    def test_log(self):\n        self.assertEqual(LOG, ['module', 'up', 'down'])\n")


def test_unittest_class_and_module_hooks_run_once_around_their_tests():
    # setUpClass once before the class's tests (test_b sees what test_a added), tearDownClass once after them,
    # setUpModule once before all tests
    assert check_code(blk("def make():\n    return []"), CLASS_HOOKS).reason == "passed 3/3"
    assert check_code(blk("def make():\n    return [0]"), CLASS_HOOKS).reason == "failed test 2 (TestStack::test_b)"
    # a hook that raises fails the run, as unittest reports it as an error
    assert check_code(blk("def make():\n    raise ValueError"), CLASS_HOOKS).reason == "error in TestStack::setUpClass"
    down = CLASS_HOOKS.replace("LOG.append('down')", "LOG.append('down')\n        raise ValueError(make())")
    assert check_code(blk("def make():\n    return []"), down).reason == "error in TestStack::tearDownClass"
    module_down = CLASS_HOOKS + "def tearDownModule():\n    raise ValueError(make())\n"
    assert check_code(blk("def make():\n    return []"), module_down).reason == "error in tearDownModule"


# Each assertion method: a line that holds and one that does not, for `f` the identity
UNITTEST_ASSERTS = [
    ("assertEqual(f(3), 3, 'msg')", "assertEqual(f(3), 4)"), ("assertNotEqual(f(3), 4)", "assertNotEqual(f(3), 3)"),
    ("assertTrue(f(1))", "assertTrue(f(0))"), ("assertFalse(f(0))", "assertFalse(f(1), msg='m')"),
    ("assertIs(f(None), None)", "assertIs(f(0), None)"), ("assertIsNot(f(0), None)", "assertIsNot(f(None), None)"),
    ("assertIsNone(f(None))", "assertIsNone(f(0))"), ("assertIsNotNone(f(0))", "assertIsNotNone(f(None))"),
    ("assertIn(f(2), [1, 2])", "assertIn(f(3), [1, 2])"), ("assertNotIn(f(3), [1, 2])", "assertNotIn(f(2), [1, 2])"),
    ("assertIsInstance(f(1), int)", "assertIsInstance(f('1'), int)"),
    ("assertNotIsInstance(f('1'), int)", "assertNotIsInstance(f(1), int)"),
    ("assertGreater(f(2), 1)", "assertGreater(f(1), 1)"), ("assertGreaterEqual(f(1), 1)", "assertGreaterEqual(f(0), 1)"),
    ("assertLess(f(1), 2)", "assertLess(f(2), 2)"), ("assertLessEqual(f(2), 2)", "assertLessEqual(f(3), 2)"),
    ("assertAlmostEqual(f(0.1 + 0.2), 0.3)", "assertAlmostEqual(f(0.3001), 0.3)"),
    ("assertAlmostEqual(f(0.31), 0.3, 1)", "assertAlmostEqual(f(0.36), 0.3, places=1)"),
    ("assertAlmostEqual(f(0.1 + 0.2), 0.3, None, delta=None)", "assertAlmostEqual(f(0.3001), 0.3, places=None)"),
    ("assertAlmostEqual(f(0.35), 0.3, delta=0.1)", "assertAlmostEqual(f(0.45), 0.3, delta=0.1)"),
    ("assertNotAlmostEqual(f(0.4), 0.3)", "assertNotAlmostEqual(f(0.1 + 0.2), 0.3)"),
    ("assertNotAlmostEqual(f(0.45), 0.3, delta=0.1)", "assertNotAlmostEqual(f(0.35), 0.3, delta=0.1)"),
    ("assertCountEqual(f([3, 1, 1]), [1, 1, 3])", "assertCountEqual(f([3, 1]), [1, 1, 3])"),
    # as unittest: equal values are almost equal (infinities, lists); items unorderable or unhashable are counted
    ("assertAlmostEqual(f(float('inf')), float('inf'))", "assertAlmostEqual(f(float('inf')), 1e308)"),
    ("assertAlmostEqual(f([1.5]), [1.5])", "assertAlmostEqual(f([1.5]), [2.5])"),
    ("assertNotAlmostEqual(f(float('inf')), 1.0)", "assertNotAlmostEqual(f(float('inf')), float('inf'))"),
    ("assertCountEqual(f([{'a': 1}, [2]]), [[2], {'a': 1}])", "assertCountEqual(f([{'a': 1}, [2]]), [[2], {'a': 2}])"),
    ("assertCountEqual(f([1, 'a']), ['a', 1])", "assertCountEqual(f([1, 'a']), ['a', 'a'])"),
    ("assertCountEqual(f([{1}, {2}]), [{2}, {1}])", "assertCountEqual(f([{1}, {2}]), [{2}, {2}])"),
    ("assertCountEqual(f(iter([2, 1])), [1, 2])", "assertCountEqual(f(iter([2, 1])), [1, 2, 2])"),
    ("assertListEqual(f([1, 2]), [1, 2])", "assertListEqual(f([2, 1]), [1, 2])"),
    ("assertTupleEqual(f((1, 2)), (1, 2))", "assertTupleEqual(f((1,)), (1, 2))"),
    ("assertDictEqual(f({'a': 1}), {'a': 1})", "assertDictEqual(f({'a': 2}), {'a': 1})"),
    ("assertSetEqual(f({1, 2}), {1, 2})", "assertSetEqual(f({1}), {1, 2})"),
    ("assertSequenceEqual(f((1, 2)), [1, 2])", "assertSequenceEqual(f((2, 1)), [1, 2])"),
    ("assertRaises(KeyError, f({}).__getitem__, 'k')", "assertRaises(KeyError, f({'k': 1}).__getitem__, 'k')"),
]


def test_unittest_assertion_methods_are_decided_by_the_caller():
    def tests(lines):
        return "import unittest\nclass TestF(unittest.TestCase):\n" + "".join(
            f"    def test_{k}(self):\n        self.{line}\n" for k, line in enumerate(lines))
    good = [g for g, _ in UNITTEST_ASSERTS]
    identity = blk("def f(x):\n    return x")
    v, *vs = _verdicts([(identity, tests(good)), *((identity, tests(good[:k] + [bad] + good[k + 1:]))
                                                     for k, (_, bad) in enumerate(UNITTEST_ASSERTS))])
    assert v.reason == f"passed {len(good)}/{len(good)}"
    for k, ((_, bad), v) in enumerate(zip(UNITTEST_ASSERTS, vs)):
        assert v.reason == f"failed test {k + 1} (TestF::test_{k})", bad
    # self.fail() fails where it is reached; with an assertion before it, unreached it passes
    fail = "import unittest\nclass TestF(unittest.TestCase):\n    def test_f(self):\n" \
           "        self.assertEqual(f(1), 1)\n        if f(0):\n            self.fail('no')\n"
    # the expected values stay in the caller, as with assert
    secret = "9876543210123"
    lines = (f"assertEqual(add(1, 2), {secret})", f"assertAlmostEqual(add(1, 2), {secret}, delta=0.5)",
             f"assertIn(add(1, 2), [{secret}])")
    v, w, *vs = _verdicts([(identity, fail), (blk("def f(x):\n    return 1"), fail), *(
        (blk(_oracle_attacker(secret)), "import unittest\nclass TestAdd(unittest.TestCase):\n    def test_add(self):\n"
         f"        self.{line}\n", {"timeout": 10}) for line in lines)])
    assert v.reason == "passed 1/1" and not w.correct
    for line, v in zip(lines, vs):
        assert v.reason == "failed test 1 (TestAdd::test_add)", line


def test_unittest_assertraises_as_cm_and_assertraisesregex_are_decided_like_pytest_raises():
    # `with self.assertRaises(E) as cm:` then `cm.exception`, and assertRaisesRegex: pytest.raises(E[, match=])
    head = "import unittest\nclass TestF(unittest.TestCase):\n    def test_ok(self):\n        self.assertEqual(f(1), 2)\n"
    checks = ["    def test_neg(self):\n        with self.assertRaises(ValueError) as cm:\n            f(-1)\n"
              "        self.assertEqual(str(cm.exception), 'negative: -1')\n",
              "    def test_neg(self):\n        with self.assertRaises(ValueError) as context:\n            f(-1)\n"
              "        self.assertTrue('negative' in str(context.exception))\n",
              "    def test_neg(self):\n        with self.assertRaisesRegex(ValueError, r'^negative: -\\d+$'):\n"
              "            f(-1)\n"]
    good = "def f(x):\n    if x < 0:\n        raise ValueError(f'negative: {x}')\n    return 2 * x\n"
    bad = {"returns": "def f(x):\n    return 2 * x\n",
           "another message": good.replace("negative", "bad"),
           "another class": good.replace("raise ValueError", "raise KeyError"),
           # the message the tests expect never enters the sandbox
           "reads the tests": "import sys\ndef consts(code):\n    for c in code.co_consts:\n"
                              "        yield from consts(c) if hasattr(c, 'co_consts') else [str(c)]\n"
                              "def f(x):\n    if x >= 0:\n        return 2 * x\n    fr, seen = sys._getframe(1), []\n"
                              "    while fr:\n        seen.extend(consts(fr.f_code))\n        fr = fr.f_back\n"
                              "    raise ValueError(' '.join(seen))\n"}
    for check in checks:
        v, *vs = _verdicts((blk(p), head + check) for p in [good, *bad.values()])
        assert v.reason == "passed 2/2", check
        for name, v in zip(bad, vs):
            assert v.reason == "failed test 2 (TestF::test_neg)", (check, name)


def test_unittest_features_the_verifier_cannot_run_give_a_reason():
    head = "import unittest\nclass TestX(unittest.TestCase):\n"
    cases = {"    def test_x(self):\n        self.assertRaisesRegex(ValueError, 'a', add, 1)\n":
                 "unsupported self.assertRaisesRegex in TestX::test_x",
             "    def test_x(self):\n        with self.assertLogs():\n            add(1, 2)\n":
                 "unsupported self.assertLogs in TestX::test_x",
             "    def test_x(self):\n        for i in range(3):\n            with self.subTest(i=i) as s:\n"
             "                self.assertEqual(add(i, 0), i)\n": "unsupported self.subTest in TestX::test_x",
             "    def subTest(self, **kw):\n        return open(__file__)\n    def test_x(self):\n"
             "        with self.subTest(i=1):\n            self.assertEqual(add(1, 0), 1)\n":
                 "unsupported subTest of its own in TestX",
             "    def test_x(self):\n        with self.assertRaisesRegex(ValueError, self.pattern) as cm:\n"
             "            add('a', 1)\n": "unsupported self.assertRaisesRegex in TestX::test_x",
             "    def test_x(self):\n        with self.assertRaises(self.error) as cm:\n            add('a', 1)\n":
                 "unsupported with self.assertRaises(...) of this form",
             "    def setUpClass(cls):\n        cls.k = 1\n    def test_x(self):\n"
             "        self.assertEqual(add(1, 2), 3)\n": "unsupported setUpClass in TestX",
             "    @unittest.expectedFailure\n    def test_x(self):\n        self.assertEqual(add(1, 2), 4)\n":
                 "unsupported decorator on TestX::test_x",
             "    def test_x(self):\n        eq = self.assertEqual\n        eq(add(1, 2), 3)\n":
                 "unsupported self.assertEqual in TestX::test_x"}
    for body, reason in cases.items():
        v = check_code(blk(ADD), head + body)
        assert (v.correct, v.reason) == (False, reason), body
    v = check_code(blk(ADD), "async def setUpModule():\n    pass\n" + head + "    def test_x(self):\n"
                                                                   "        self.assertEqual(add(1, 2), 3)\n")
    assert (v.correct, v.reason) == (False, "unsupported setUpModule"), v.reason
    for base in ("unittest.IsolatedAsyncioTestCase", "unittest.TestCase, Mixin"):
        v = check_code(blk(ADD), head.replace("unittest.TestCase", base) + "    def test_x(self):\n"
                                                                           "        self.assertEqual(add(1, 2), 3)\n")
        assert (v.correct, v.reason) == (False, "unsupported bases of TestX"), base
    # a helper class on another of unittest's classes is no test class
    for other in ("import unittest.mock\nclass Fake(unittest.mock.MagicMock):\n    pass\n",
                  "from unittest import TextTestResult\nclass Quiet(TextTestResult):\n    pass\n"):
        assert check_code(blk(ADD_CHECKED), other + UNITTEST_STYLE).reason == "passed 2/2", other
    runner = UNITTEST_STYLE + "unittest.TextTestRunner().run(unittest.makeSuite(TestAdd))\n"
    assert check_code(blk(ADD_CHECKED), runner).reason == "unsupported unittest class TestAdd used by the tests themselves"


def test_a_program_cannot_pass_unittest_tests_by_tampering_with_unittest():
    wrong = "def add(a, b):\n    return a - b"  # and raises nothing
    cheats = {
        "patches TestCase": ("import unittest, contextlib\nunittest.TestCase.assertEqual = lambda *a, **k: None\n"
                             "unittest.TestCase.assertRaises = lambda *a, **k: contextlib.suppress()\n" + wrong),
        "replaces TestCase": ("import unittest\nclass Lax:\n    def __init_subclass__(cls, **kw):\n"
                              "        cls.test_pos = cls.test_raises = lambda self: None\n"
                              "unittest.TestCase = Lax\n" + wrong),
        "fake module": ("import sys, types\nm = types.ModuleType('unittest')\nclass TestCase:\n"
                        "    def __getattr__(self, name):\n        return lambda *a, **k: None\n"
                        "m.TestCase = TestCase\nm.main = lambda *a, **k: None\nsys.modules['unittest'] = m\n" + wrong),
        "own TestAdd": ("import unittest\nclass TestAdd(unittest.TestCase):\n    def test_pos(self):\n        pass\n"
                        "    def test_raises(self):\n        pass\n" + wrong),
        "ends early": ("import os\ndef add(a, b):\n    os.write(3, b'{\"done\": true}\\n')\n    os._exit(0)"),
    }
    hooked = UNITTEST_STYLE.replace("    def test_pos(self):\n        self.assertEqual(add(1, 2), 3)\n",
                                    "    @classmethod\n    def setUpClass(cls):\n        cls.k = 1\n"
                                    "    def test_pos(self):\n        with self.subTest(k=self.k):\n"
                                    "            self.assertEqual(add(1, 2), 3)\n")
    assert check_code(blk(ADD_CHECKED), hooked).reason == "passed 2/2"
    cheats["patches subTest"] = ("import unittest, contextlib\n"
                                 "unittest.TestCase.subTest = lambda *a, **k: contextlib.suppress(Exception)\n"
                                 "unittest.TestCase.setUpClass = classmethod(lambda cls: None)\n" + cheats["patches TestCase"])
    runs = [(name, blk(prog), tests) for name, prog in cheats.items() for tests in (UNITTEST_STYLE, hooked)]
    for (name, _, _), v in zip(runs, _verdicts((prog, tests) for _, prog, tests in runs)):
        assert not v.correct, (name, v.reason)


def test_numpy_values_pass_as_the_plain_values_they_hold():
    # np.int64 is no int subclass; a program answering with NumPy is judged on the values, as Python's == would
    prog = ("import numpy as np\ndef f(n):\n    return np.int64(n) * 2\ndef g(n):\n    return np.arange(n)\n"
            "def h():\n    return {'m': np.float32(0.5), 'ok': np.bool_(True)}\n")
    assert check_code(blk(prog), "assert f(2) == 4 and list(g(3)) == [0, 1, 2] and len(g(3)) == 3").correct
    assert check_code(blk(prog), "assert h() == {'m': 0.5, 'ok': True}").correct
    assert not check_code(blk(prog), "assert f(2) == 5").correct
    assert not check_code(blk(prog), "assert list(g(3)) == [0, 1]").correct
    # an object calling itself numpy's is still judged by what it holds: a fake module changes nothing
    fake = ("import sys, types\nm = types.ModuleType('numpy')\nclass generic:\n    def tolist(self): return 4\n"
            "    def __eq__(self, o): return True\nm.generic = generic\nm.ndarray = generic\nsys.modules['numpy'] = m\n"
            "def f():\n    return generic()\n")
    assert not check_code(blk(fake), "assert f() == 5").correct


def test_library_checks_and_expected_values_cannot_be_patched_by_the_program():
    # np.allclose, np.testing's assertions, np.array, json.loads and Counter in a test are the program's to replace
    # in the sandbox (`numpy.allclose = lambda *a, **k: True`): the caller applies them, so a patch changes nothing
    np_tests = ("import numpy as np\nfrom numpy.testing import assert_array_equal\nimport numpy.testing as npt\n"
                "def test_a():\n    assert np.allclose(f(1), [1.0, 2.0])\n"
                "def test_b():\n    np.testing.assert_allclose(f(2), np.array([1, 2]) * 2)\n"
                "def test_c():\n    assert_array_equal(f(3), np.array([3, 6]))\n"
                "def test_d():\n    npt.assert_equal(f(1), [1, 2])\n"
                "def test_e():\n    assert np.array_equal(f(1), np.asarray([1, 2]))\n"
                "def test_f():\n    assert all(np.isclose(f(1), [1, 2 + 1e-12]))\n")
    patches = ["numpy.allclose = lambda *a, **k: True", "numpy.testing.assert_allclose = lambda *a, **k: None",
               "numpy.testing.assert_array_equal = lambda *a, **k: None",
               "numpy.testing.assert_equal = lambda *a, **k: None", "numpy.array_equal = lambda *a, **k: True",
               "numpy.isclose = lambda *a, **k: [True, True]"]
    cheat = ("import numpy, numpy.testing\n" + "\n".join(patches) +
             "\nnumpy.array = numpy.asarray = lambda *a, **k: [0]\ndef f(n):\n    return [0]")
    honest = "import numpy as np\ndef f(n):\n    return np.array([1.0, 2.0]) * n"
    lib_tests = "import json\nfrom collections import Counter\nassert f(1) == json.loads('[1, 2]')\n" \
                "assert f(2) == Counter('ab')\nassert Counter(f(3)) == Counter({'a': 2})"
    lib_cheat = ("import json, collections\njson.loads = json.dumps = lambda s: 0\nclass C(dict):\n"
                 "    def __init__(self, *a): super().__init__(z=1)\ncollections.Counter = C\n"
                 "def f(n):\n    return {1: 0, 2: {'z': 1}, 3: 'z'}[n]")
    lib_honest = "def f(n):\n    return {1: [1, 2], 2: {'a': 1, 'b': 1}, 3: 'aa'}[n]"
    got = [(v.correct, v.reason) for v in _verdicts([(blk(cheat), np_tests), (blk(honest), np_tests),
                                                     (blk(lib_cheat), lib_tests), (blk(lib_honest), lib_tests)])]
    assert got == [(False, "failed test 1 (test_a)"), (True, "passed 6/6"), (False, "failed test 1"),
                   (True, "passed 3/3")]
    dumps = "import json\nassert f(1) == json.dumps({'a': [1, 2]}, sort_keys=True)"
    got = [v.reason for v in _verdicts([(blk("import json\ndef f(x):\n    return json.dumps({'a': [1, 2]})"), dumps),
                                        (blk("import json\njson.dumps = lambda *a, **k: 'x'\ndef f(x):\n"
                                             "    return 'x'"), dumps)])]
    assert got == ["passed 1/1", "failed test 1"]
    # the caller's NumPy is bounded like its other work: a (n, 1) and a (1, n) of the program's never meet
    square = "def f():\n    return [[0.0]] * 20000\ndef g():\n    return [[0.0] * 20000]"
    assert check_code(blk(square), "import numpy as np\nassert np.allclose(f(), g())").reason == "failed test 1"


def test_numpy_testing_call_expected_to_fail_runs_as_written():
    # `with pytest.raises(AssertionError): np.testing.assert_allclose(...)` (or a try/except AssertionError)
    # expects the assertion to fail: made an assert of its own, it failed every right answer
    honest = "import numpy as np\ndef f(x):\n    return np.array([1.0, 2.0])"
    tests = ["import numpy as np\nimport pytest\ndef test_a():\n    with pytest.raises(AssertionError):\n"
             "        np.testing.assert_allclose(f(1), [5, 5])\n    assert f(1)[0] == 1",
             "import numpy as np\ndef test_a():\n    try:\n        np.testing.assert_allclose(f(1), [5, 5])\n"
             "    except AssertionError:\n        pass\n    assert f(1)[0] == 1"]
    assert [v.reason for v in _verdicts((blk(honest), t) for t in tests)] == ["passed 1/1", "passed 1/1"]


def test_numpy_reductions_of_a_tests_arrays_cannot_be_patched_by_the_program():
    # `np.isclose(...).all()`, `np.all(...)`, `(a == b).all()` ran whole in the sandbox, whose numpy the program
    # replaced (`numpy.isclose = lambda *a, **k: numpy.array([True])`): the caller applies them
    cheat = ("import numpy\nnumpy.isclose = lambda *a, **k: numpy.array([True])\nnumpy.all = lambda *a, **k: True\n"
             "def f(x):\n    return [0, 0]")
    honest = "import numpy as np\ndef f(x):\n    return np.array([1.0, 2.0])"
    tests = ("import numpy as np\nassert np.isclose(f(1), [1, 2]).all()\nassert np.all(np.isclose(f(1), [1, 2]))\n"
             "assert (np.array(f(1)) == np.array([1, 2])).all()\nassert np.all(f(1) == np.array([1, 2]))\n"
             "assert not np.isclose(f(1), [1, 3]).all() and np.isclose(f(1), [1, 3]).any()")
    got = [v.reason for v in _verdicts([(blk(cheat), tests), (blk(honest), tests)])]
    assert got == ["failed test 1", "passed 5/5"]


def test_numpy_arrays_in_a_tests_arithmetic_are_arrays_and_its_own_stay_in_the_caller():
    # an array the sandbox holds (the program's, or one the test keeps) is NumPy's in the caller's arithmetic:
    # `expected * 2` was the list repeated, failing a right answer
    honest = "import numpy as np\ndef f(x):\n    return np.array([1.0, 2.0]) * x"
    kept = ("import numpy as np\ndef test_a():\n    expected = np.array([1, 2])\n    expected[0] = 1\n"
            "    assert np.allclose(f(2), expected * 2) and list(f(1) + 1) == [2, 3] and f(1) * 2 == [2, 4]")
    # an expected array the test builds is the caller's: the program's numpy.array never builds it
    own = ("import numpy as np\nexpected = np.array([1, 2])\nassert np.allclose(f(1), expected)\n"
           "def test_b():\n    want = np.array([1, 2])\n    assert np.allclose(f(1), want)\n"
           "    assert np.allclose(f(2), want * 2)")
    cheat = "import numpy\nnumpy.array = lambda *a, **k: [0]\ndef f(x):\n    return [0]"
    got = [v.reason for v in _verdicts([(blk(honest), kept), (blk(honest), own), (blk(cheat), own)])]
    assert got == ["passed 1/1", "passed 2/2", "failed test 1"]


def test_caller_numpy_arithmetic_refuses_arrays_of_python_ints():
    # an array of ints past int64 holds Python ints: `f() ** g()` of the program's would build 2 ** 70 ** 10 ** 9
    # in the caller (it hung the verifier); refused before it runs, as the caller's other unbounded work is
    from ponder.verify.code import _Array, _TestFailed
    with pytest.raises(_TestFailed):
        _Array([2 ** 70, 3]) ** _Array([2, 2])
    assert _Array([1, 2]) ** 2 == [1, 4] and 1 / _Array([1, 0]) == [1, float("inf")]


def test_stdlib_expected_values_cannot_be_patched_by_the_program():
    # OrderedDict, copy, statistics and string's constants in an expected value were the sandbox's, which the
    # program patched to its answer first (`statistics.median = lambda x: 0`): the caller builds them
    tests = ("import copy, string\nfrom collections import OrderedDict\nfrom statistics import median, mean\n"
             "assert f(1) == OrderedDict([('a', 1)])\nassert f(2) == copy.copy([1, 2])\n"
             "assert f(3) == median([3, 1, 2])\nassert f(4) == string.ascii_lowercase[:3]\n"
             "assert mean(f(5)) == 2 and f(3) == mean(map(float, [1, 3]))")
    honest = "def f(x):\n    return {1: {'a': 1}, 2: [1, 2], 3: 2.0, 4: 'abc', 5: (i for i in [1, 3])}[x]"
    patches = ["import collections, copy, statistics, string", "collections.OrderedDict = lambda *a: 0",
               "copy.copy = lambda x: 0", "statistics.median = statistics.mean = lambda x: 0",
               "string.ascii_lowercase = [0, 0, 0]"]
    cheat = "\n".join(patches) + "\ndef f(x):\n    return [0] if x == 5 else 0"
    got = [v.reason for v in _verdicts([(blk(cheat), tests), (blk(honest), tests)])]
    assert got == ["failed test 1", "passed 5/5"]


def test_generators_iterated_by_the_test_pass_as_their_items():
    # `list(f(x))` and friends iterate what f returned in Python; a generator or map is not a failure there
    gen = "def evens(xs):\n    return (x for x in xs if x % 2 == 0)"
    assert check_code(blk(gen), "assert list(evens([1, 2, 3, 4])) == [2, 4]").correct
    assert check_code(blk("def f(xs):\n    return filter(None, xs)"), "assert sorted(f([3, 0, 1])) == [1, 3]").correct
    assert check_code(blk("def f():\n    return {2: 0, 4: 1}.keys()"), "assert set(f()) == {2, 4}").correct
    assert check_code(blk("def f():\n    return map(int, '12')"),
                      "assert max(f()) == 2 and sum(f()) == 3 and list(zip(f(), f())) == [(1, 1), (2, 2)]").correct
    assert not check_code(blk(gen), "assert list(evens([1, 2, 3, 4])) == [2]").correct
    assert not check_code(blk(gen), "assert evens([1, 2, 3, 4]) == [2, 4]").correct  # not a list, as in Python
    liar = "class A:\n    def __eq__(self, o): return True\ndef f():\n    return iter([A()])"
    assert not check_code(blk(liar), "assert list(f()) == [1]").correct


def test_membership_in_a_returned_generator_is_decided_on_its_items():
    # `x in gen` holds in Python when iterating the generator (map, dict values) reaches x; it failed as no plain
    # value
    gen = "def squares(n):\n    return (i * i for i in range(n))"
    calls = [(blk(gen), "assert 9 in squares(4)"), (blk(gen), "assert 5 not in squares(4)"),
             (blk(gen), "assert all(k in squares(4) for k in [0, 1, 4, 9])"),
             (blk("def f():\n    return map(int, '123')"), "assert 2 in f()"),
             (blk("def f():\n    return {'a': 2}.values()"), "assert 2 in f()"),
             (blk(gen), "assert 5 in squares(4)"), (blk(gen), "assert 4 not in squares(4)"),
             # the items are compared as any values of the program's: their own __eq__ plays no part
             (blk("class A:\n    def __init__(self, x): self.x = x\n    def __eq__(self, o): return True\n"
                  "def f():\n    return (A(i) for i in range(3))"), "assert A(1) in f() and A(7) not in f()"),
             (blk("class A:\n    def __eq__(self, o): return True\n"
                  "def f():\n    return (A() for i in range(3))"), "assert 5 in f()")]
    assert [v.correct for v in _verdicts(calls)] == [True] * 5 + [False] * 2 + [True, False]



def test_membership_does_not_drain_an_iterator_the_tests_hold():
    # `in` consumes an iterator only up to its match: drained whole, a generator of [1, 1] held by the tests passed
    # `1 in it` then `1 not in it` (Python fails it); one the tests cannot see again (a call's) is still drained
    gen = "def f(xs):\n    return (x for x in xs)"
    it_class = ("class C:\n    def __init__(self): self.i = 0\n    def __iter__(self): return self\n"
                "    def __next__(self):\n        self.i += 1\n        if self.i > 2: raise StopIteration\n"
                "        return 1")
    held = [(gen, "it = f([1, 1])\nassert 1 in it\nassert 1 not in it"),
            (gen, "it = f([1, 2])\nassert 1 in it\nassert list(it) == []"),
            (gen, "it = f([1, 1])\nassert '1' in map(str, it)\nassert 1 not in it"),
            (gen, "def h(x):\n    return x\nit = f([1, 1])\nassert 1 in h(it)\nassert 1 not in it"),
            (it_class, "c = C()\nassert 1 in c\nassert 1 not in c")]
    fresh = [(gen, "assert '1' in map(str, f([1, 2]))"), (gen, "def check(g):\n    assert 2 in g([1, 2])\ncheck(f)"),
             ("class C:\n    def __iter__(self): return iter([1, 2])", "c = C()\nassert 2 in c\nassert 3 not in c")]
    verdicts = _verdicts([(blk(p), t) for p, t in held + fresh])
    assert [v.correct for v in verdicts] == [False] * len(held) + [True] * len(fresh)

def test_membership_stops_at_its_match_as_python_does():
    # `in` stops at its first match: an endless iterator (itertools.count) or one that raises after the match
    # holds in Python; drained whole, it failed. An object with only __getitem__ (the old sequence protocol) is
    # looked through as Python does; it failed as no plain value
    big = "def f():\n    i = 0\n    while True:\n        yield 'x' * 100000 + str(i)\n        i += 1"
    raises = "def f():\n    yield 1\n    yield 2\n    raise ValueError('done')"
    seq = ("class S:\n    def __getitem__(self, i):\n        if i < 3:\n            return i * i\n"
           "        raise IndexError(i)\ndef f():\n    return S()")
    endless = "class S:\n    def __getitem__(self, i):\n        return 'y' * 100000 + str(i)\ndef f():\n    return S()"
    holds = [(big, "assert 'x' * 100000 + '3' in f()"), (raises, "assert 2 in f()"), (seq, "assert 4 in f()"),
             (seq, "assert 5 not in f()"), (seq, "s = f()\nassert 1 in s\nassert 0 in s"),
             (endless, "assert 'y' * 100000 + '7' in f()"),
             (raises, "import pytest\nwith pytest.raises(ValueError):\n    assert 3 in f()")]
    # past the match Python raises or never ends: those fail, as ever
    fails = [(raises, "assert 3 in f()"), (raises, "assert 3 not in f()"), (big, "assert 'x' not in f()"),
             (seq, "assert 5 in f()"), (seq, "assert 4 not in f()"), (endless, "assert 'z' in f()")]
    verdicts = _verdicts([(blk(p), t) for p, t in holds + fails])
    assert [v.correct for v in verdicts] == [True] * len(holds) + [False] * len(fails), verdicts


def _oracle_attacker(secret: str) -> str:
    """A program whose add() returns `secret` if it can find it anywhere in reach, else a + b."""
    return f"""
import gc, os, sys
def find():
    needle = ''.join([{secret[:6]!r}, {secret[6:]!r}])  # not constant-folded into co_consts
    target = int(needle)
    for o in gc.get_objects():
        try:
            vals = list(o.values()) if type(o) is dict else list(o) if type(o) in (list, tuple) else []
        except Exception:
            continue
        for v in vals:
            if (type(v) is str and needle in v) or (type(v) is int and v == target):
                return True
    f = sys._getframe(1)  # our own frame holds the needle
    while f is not None:
        for v in [*f.f_locals.values(), *f.f_code.co_consts]:
            if (type(v) is str and needle in v) or (type(v) is int and v == target):
                return True
        f = f.f_back
    for path in ['/proc/self/cmdline', '/proc/1/cmdline', '/proc/self/environ', *os.listdir('.')]:
        try:
            if needle.encode() in open(path, 'rb').read():
                return True
        except OSError:
            pass
    return False
def add(a, b):
    return int(''.join([{secret[:6]!r}, {secret[6:]!r}])) if find() else a + b
"""


def test_expected_values_never_enter_the_sandbox():
    # An oracle attacker that knows the secret looks for it in every live container, every frame up the stack,
    # files around it and the harness's command line; if it finds it anywhere, it returns it and passes.
    secret = "9876543210123"
    attacker = _oracle_attacker(secret)
    literal = f"assert add(1, 2) == {secret}"
    assert check_code(blk(attacker), literal, timeout=10).reason == "failed test 1"
    # control: the same attacker wins when a test puts the value inside the sandbox, so the search works (a
    # name bound once to it is written into the assert here: bound twice, it is the sandbox's variable)
    named = f"expected = {secret}\nassert add(1, 2) == expected"
    assert check_code(blk(attacker), named, timeout=10).reason == "failed test 1"
    control = "expected = 0\n" + named
    assert check_code(blk(attacker), control, timeout=10).reason == "passed 1/1"


# An operand the caller does not build goes to the sandbox as a lambda, which the program can find in the test's
# code object and run itself: it answered `2 ** 10`, `1 << 10`, `~3`, `{'a': 2 ** 3}` right for any x. A map,
# range or generator it gets is returned as its items, as the test would have iterated it.
OTHER_OPERAND_RUNNER = """
import sys, types
def run_the_other_operand():
    me = sys._getframe(2).f_code
    fr = sys._getframe(2)
    while fr is not None:
        if fr.f_code.co_filename == "<test>":
            for c in fr.f_code.co_consts:
                if type(c) is types.CodeType and c is not me and c.co_argcount == 0 and "f" not in c.co_names:
                    v = types.FunctionType(c, fr.f_globals)()
                    return v if type(v) in (int, float, str, bytes, list, tuple, set, dict) else list(v)
        fr = fr.f_back
def f(x):
    return run_the_other_operand()
"""


def test_expected_values_written_with_operators_or_math_stay_in_the_caller():
    runner = OTHER_OPERAND_RUNNER
    good = "def f(x):\n    return x"
    tests = [f"assert f({expected}) == {expected}"
             for expected in ["2 ** 10", "1 << 10", "~3", "6 | 1 ^ 8 & 12 >> 1", "{'a': 2 ** 3, 'b': [1]}", "{2 ** 3}"]]
    # the same for math and builtin calls an expected value is written with (the runner passed all of these)
    tests += ["import math\nassert f(3628800) == math.factorial(10)", "assert f((3, 1)) == divmod(7, 2)",
              "import math\nassert abs(f(2 ** 0.5) - math.sqrt(2)) < 1e-9", "assert f(1024) == pow(2, 10)",
              "import math\nassert abs(f(3.14159265) - math.pi) < 1e-6", "assert f({'a': 1}) == dict(a=1)"]
    vs = _verdicts((blk(p), test) for test in tests for p in (runner, good))
    for test, v, w in zip(tests, vs[::2], vs[1::2]):
        assert (v.reason, w.reason) == ("failed test 1", "passed 1/1"), test
    gen = "def g(n):\n    return ((i, i * i) for i in range(n))"
    assert check_code(blk(gen), "assert dict(g(3)) == {0: 0, 1: 1, 2: 4}").correct  # dict() iterates, as Python
    # control: a method call on a test's variable is still sandbox code, and the runner finds it
    # (a variable bound twice: one bound once to a value written in the tests is that value, here)
    assert check_code(blk(runner), "s = 'ab'\nassert f(2) == s.upper()").reason == "failed test 1"
    assert check_code(blk(runner), "s = ''\ns = 'ab'\nassert f(2) == s.upper()").reason == "passed 1/1"
    # powers and shifts of values the program chose are bounded in the caller
    t0 = time.monotonic()
    for test in ["assert f(3) ** f(10 ** 8) == 0", "assert f(1) << f(10 ** 9) == 0", "assert pow(f(3), f(10 ** 8)) == 0",
                 "import math\nassert math.comb(f(10 ** 6), f(5 * 10 ** 5)) == 0",
                 "assert pow(f(3), f((1 << (1 << 20)) - 1), f((1 << 2000) + 1)) == 0"]:
        assert check_code(blk(good), test).reason == "failed test 1", test
    assert check_code(blk(good), "assert f(-1) ** f(2 ** 64) == 1").correct
    assert time.monotonic() - t0 < 15
    assert check_code(blk(good), "assert f(2) ** f(-2) == 0.25 and ~f(0) == -1").correct


def _assert_computed_by_the_caller(expected, good, tests, wrong) -> None:
    """Each expected value is computed by the caller: OTHER_OPERAND_RUNNER (which answers by running the operand it
    finds in the test's code) fails it; `good` passes all of `tests`; each of `wrong` fails. Checked side by side."""
    vs = _verdicts([*((blk(OTHER_OPERAND_RUNNER), f"assert f({e}) == {e}") for e in expected), (blk(good), tests),
                    *((blk(good), test) for test in wrong)])
    for e, v in zip(expected, vs):
        assert v.reason == "failed test 1", e
    assert vs[len(expected)].reason == f"passed {len(tests)}/{len(tests)}"
    for test, v in zip(wrong, vs[len(expected) + 1:]):
        assert v.reason == "failed test 1", test


def test_expected_values_computed_from_a_kept_input_stay_in_the_caller():
    # `data` is read twice (the sandbox holds it), but `sorted(data)` right after its assignment is the caller's
    # to compute: in the sandbox the program read it from its caller's frame (or its globals) and returned it
    peek = ("import sys\ndef f(x):\n    fr = sys._getframe(1)\n    while fr:\n"
            "        if 'expected' in fr.f_locals:\n            return fr.f_locals['expected']\n"
            "        fr = fr.f_back\n    return 0")
    honest = "def f(xs):\n    xs.sort()\n    return xs"
    tests = ["data = [3, 1, 2]\nexpected = sorted(data)\nassert f(data) == expected",
             "def test_a():\n    data = [3, 1, 2]\n    n = 3\n    expected = sorted(data)\n"
             "    assert f(data) == expected and len(data) == n",
             # a name that would share the sandbox's object stays the sandbox's: f sorts `data` in place
             "def test_b():\n    data = [[3, 1, 2]]\n    inner = data[0]\n    f(data[0])\n    assert inner == [1, 2, 3]"]
    runs = [(blk(prog), t) for prog in (peek, honest) for t in tests]
    got = [v.reason for v in _verdicts(runs)]
    assert got == ["failed test 1", "failed test 1 (test_a)", "failed test 1 (test_b)",
                   "passed 1/1", "passed 1/1", "passed 1/1"]


def test_a_mutable_expected_value_read_only_by_comparisons_stays_in_the_caller():
    # a list read more than once stayed the sandbox's, where the program read it from its caller's frame (or
    # its globals); read only by asserts' comparisons (and messages), each read is the value written in
    peek = ("import sys\ndef f(x):\n    fr = sys._getframe(1)\n    while fr:\n"
            "        if 'expected' in fr.f_locals:\n            return fr.f_locals['expected']\n"
            "        fr = fr.f_back\n    return 0")
    honest = "def f(x):\n    return {1: [1, 2], 2: [1, 2], 'a': {'a': [1]}}.get(x, x) if x != [3] else [3]"
    tests = ["expected = [1, 2]\nassert f(1) == expected\nassert f(2) == expected",
             "def test_c():\n    expected = [1, 2]\n    assert f(1) == expected and len(expected) == 2\n"
             "    assert all(x in expected for x in f(2)) and sorted(expected)[0] == 1",
             "def test_a():\n    expected = {'a': [1]}\n    got = f('a')\n    assert got == expected, f'{got} != {expected}'",
             # read otherwise (passed to the program, which may change it), it stays the sandbox's object
             "def test_b():\n    expected = [3]\n    assert f(expected) == expected"]
    runs = [(blk(prog), t) for prog in (peek, honest) for t in tests]
    got = [v.reason for v in _verdicts(runs)]
    assert got == ["failed test 1", "failed test 1 (test_c)", "failed test 1 (test_a)", "passed 1/1",
                   "passed 2/2", "passed 1/1", "passed 1/1", "passed 1/1"]


def test_expected_values_a_unittest_method_assigns_stay_in_the_caller():
    # `expected = [1, 2]` then `self.assertEqual(f(1), expected)`: as in a pytest function, the value is written
    # in where it is read; in the sandbox the program read it from its caller's frame and returned it
    peek = ("import sys\ndef f(x):\n    fr = sys._getframe(1)\n    while fr:\n"
            "        if 'expected' in fr.f_locals:\n            return fr.f_locals['expected']\n"
            "        fr = fr.f_back\n    return 0")
    honest = "def f(x):\n    return [1, 2]"
    tests = ("import unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n        expected = [1, 2]\n"
             "        self.assertEqual(f(1), expected)\n    def test_b(self):\n        want = [1, 2]\n"
             "        self.assertListEqual(f(2), want, msg=f'{want}')\n        self.assertIn(1, want)")
    got = [v.reason for v in _verdicts([(blk(peek), tests), (blk(honest), tests)])]
    assert got == ["failed test 1 (T::test_a)", "passed 2/2"]


def test_expected_values_a_unittest_setup_stores_stay_in_the_caller():
    # `self.expected = [1, 2]` in setUp, read only by the tests' assertions: written in there, as the sandbox's
    # instance was the program's to read from its caller's frame (`self`)
    peek = ("import sys\ndef f(x):\n    fr = sys._getframe(1)\n    while fr:\n"
            "        me = fr.f_locals.get('self')\n        if hasattr(me, 'expected'):\n"
            "            return me.expected\n        fr = fr.f_back\n    return 0")
    honest = "def f(x):\n    return [1, 2]"
    tests = ("import unittest\nclass T(unittest.TestCase):\n    def setUp(self):\n        self.expected = [1, 2]\n"
             "        self.data = [3]\n    def test_a(self):\n        self.assertEqual(f(self.data), self.expected)\n"
             "    def test_b(self):\n        self.assertEqual(len(self.expected), 2)\n        self.assertIn(1, f(2))")
    # an attribute the tests change or hand to the program stays the instance's
    kept = ("import unittest\nclass T(unittest.TestCase):\n    def setUp(self):\n        self.expected = [1, 2]\n"
            "    def test_a(self):\n        self.expected.append(3)\n        self.assertEqual(f(1) + [3], self.expected)\n"
            "    def test_b(self):\n        self.assertEqual(f(self.expected), [1, 2])")
    got = [v.reason for v in _verdicts([(blk(peek), tests), (blk(honest), tests), (blk(honest), kept)])]
    assert got == ["failed test 1 (T::test_a)", "passed 2/2", "passed 2/2"]


def test_expected_values_written_with_methods_slices_or_fstrings_stay_in_the_caller():
    # `'ab'.upper()`, `', '.join([...])`, `f'{3}x'`, `'abc'[::-1]` went to the sandbox as a lambda: the runner
    # passed every one of these without computing anything
    expected = ["'ab'.upper()", "', '.join(['a', 'b'])", "f'{3}x'", "'abc'[::-1]", "'a,b'.split(',')",
                "'{:>5}'.format(1)", "f'{3.14159:.2f}|{\"a\"!r:>4}|{255:#x}'", "(255).to_bytes(2, 'big')",
                "'\u00e9'.encode()", "[1, 2, 3][1:]", "'x'.center(5, '*')"]
    good = "def f(x):\n    return x"
    tests = [f"assert f({e}) == {e}" for e in expected] + ["assert all(f(w) == w for w in 'a bb'.split())"]
    wrong = ["assert f('ab') == 'ab'.upper()", "assert f(3) == f'{3}x'", "assert f('abc') == 'abc'[::-1]",
             "assert f(['a', 'b']) == ', '.join(['a', 'b'])"]
    _assert_computed_by_the_caller(expected, good, tests, wrong)
    # a method, slice or f-string of the program's value stays in the sandbox, as before: its object's own
    # upper() is called there
    own = "class S:\n    def upper(self):\n        return 'AB'\ndef g():\n    return S()\ndef h():\n    return 'ab'"
    tests = ["assert g().upper() == 'AB'", "assert h().upper() == 'AB'", "assert '-'.join(h()) == 'a-b'",
             "assert h()[::-1] == 'ba'", "assert f'{h()}!' == 'ab!'", "assert '{}'.format(h()) == 'ab'"]
    assert check_code(blk(own), tests).reason == f"passed {len(tests)}/{len(tests)}"
    # the caller's own work is bounded: past the bounds the test fails, nothing gigabytes long is built
    for e in ["'a'.center(10 ** 9)", "'x'.zfill(10 ** 12)", "' '.join(['a'] * 10 ** 8)", "f'{1:>1000000000}'",
              "'{:>1000000000}'.format(1)", "'{:{}}'.format(1, 10 ** 9)", "'a'.replace('', 'b' * 10 ** 7)",
              "(1).to_bytes(10 ** 9, 'big')", "(' ' * 10 ** 6).join(['a'] * 10 ** 6)"]:
        assert _fails_in_bounded_memory(good, f"assert f(1) == {e}"), e


def test_expected_values_written_with_comprehensions_map_or_filter_stay_in_the_caller():
    # a comprehension of the test's own values went to the sandbox as code (whole under a method, slice or
    # f-string, or as its iterable), and map/filter as a lambda: the runner passed every one of these
    expected = ["', '.join(str(i) for i in range(3))", "{x for x in {3, 1}}", "[x for x in range(20000)]",
                "[i * i for i in range(5)][1:]", "f'{[i for i in range(3)]}'", "list(map(str, [1, 2]))",
                "list(filter(None, [0, 1, 2]))", "'-'.join(map(str, range(4)))"]
    for e, v in zip(expected, _verdicts((blk(OTHER_OPERAND_RUNNER), f"assert f({e}) == {e}") for e in expected)):
        assert v.reason == "failed test 1", e
    good = "def f(x):\n    return x"
    expected += ["[i * i for i in range(5)]", "{k: len(k) for k in ['a', 'bb']}", "sum(x for x in [1, 2, 3])",
                 "[(i, j) for i in range(3) for j in range(i) if i + j != 2]", "tuple(c.upper() for c in 'ab')",
                 "list(map(lambda a, b: a * b, [1, 2, 3], (4, 5)))", "sorted(map(abs, [-3, 2]))",
                 "list(filter(lambda s: s.isdigit(), ['1', 'a']))", "list(map(math.sqrt, [4, 9]))",
                 "[[j for j in range(i)] for i in range(3)]"]
    tests = [f"import math\nassert f({e}) == {e}" for e in expected]
    wrong = ["assert f([0, 1]) == [i * i for i in range(3)]",
             "assert f('0,1') == ', '.join(str(i) for i in range(2))", "assert f({1}) == {x for x in {3, 1}}",
             "assert f(['1']) == list(map(str, [1, 2]))", "assert f(3) == sum(x for x in [1, 2, 3])",
             "assert f([1]) == [a for a, b in [1, 2]]"]
    v, *vs = _verdicts((blk(good), t) for t in [tests, *wrong])
    assert v.reason == f"passed {len(tests)}/{len(tests)}"
    for test, v in zip(wrong, vs):
        assert v.reason == "failed test 1", test
    # a comprehension that reads a program's value is still taken apart per item, as before: the object's own
    # upper() runs in the sandbox, the caller decides the rest
    own = ("class S:\n    def upper(self):\n        return 'AB'\ndef g(i):\n    return S()\n"
           "def h(n):\n    return list(range(n))")
    tests = ["assert [g(i).upper() for i in range(2)] == ['AB', 'AB']",
             "assert [h(i) for i in range(3)] == [[], [0], [0, 1]]",
             "assert all(h(i) == [j for j in range(i)] for i in range(4))", "assert sum(x for x in h(4)) == 6",
             "assert list(map(str, h(2))) == ['0', '1']",
             "assert all(h(x) == list(range(y)) for x, y in [(1, 1), (2, 2)])"]
    v, w = _verdicts([(blk(own), tests), (blk(own), "assert [h(i) for i in range(3)] == [[], [0], [1]]")])
    assert v.reason == f"passed {len(tests)}/{len(tests)}" and w.reason == "failed test 1"
    # the caller's own work is bounded: past the bounds the test fails (it holds in Python, given hours and
    # gigabytes), nothing gigabytes long is built
    for e, n in [("[0 for _ in range(10 ** 9)]", 10 ** 9), ("[[0] * 10 ** 6 for _ in range(100)]", 100),
                 ("[0 for i in range(10 ** 5) for j in range(10 ** 5)]", 10 ** 10)]:
        assert _fails_in_bounded_memory(good, f"assert f({n}) == len({e})"), e


def test_comprehensions_the_caller_builds_have_pythons_scopes():
    # Python gives a comprehension one variable per name, rebound item by item, which a generator made for an
    # item reads when it runs (after the loop moved on, the last value); its first iterable is evaluated at
    # once. The caller copied the variables for each item: these expected values were the other way round.
    good = "def f(x):\n    return x"
    cases = {"[list(g) for g in [(x for _ in range(1)) for x in range(3)]]": [[0], [1], [2]],
             "[list(g) for g in [(y for y in range(x)) for x in range(3)]]": [[0, 1], [0, 1], [0, 1]],
             "[list(m) for m in [map(lambda y: x + y, [0]) for x in range(3)]]": [[0], [1], [2]],
             "[list(m) for m in [filter(lambda y: x, [5]) for x in range(3)]]": [[], [5], [5]],
             "[g() for g in [(lambda: x) for x in range(3)]]": [0, 1, 2]}  # (lambdas run in the sandbox)
    for e, wrong in cases.items():
        assert eval(e) != wrong, e
    tests = [f"assert f({eval(e)!r}) == {e}" for e in cases]
    assert check_code(blk(good), tests).reason == f"passed {len(tests)}/{len(tests)}"
    for e, wrong in cases.items():
        assert check_code(blk(good), f"assert f({wrong!r}) == {e}").reason == "failed test 1", e
    # a variable of the comprehension read before its `for` binds it is unbound, not the outer one of its name
    unbound = "[[x for _ in range(1) for x in [x]] for x in range(2)]"
    with pytest.raises(UnboundLocalError):
        eval(unbound)
    assert check_code(blk(good), f"assert f([[0], [1]]) == {unbound}").reason == "failed test 1"


def test_a_generator_outliving_its_item_with_sandbox_values_gets_an_unsupported_verdict():
    # the sandbox reports a comprehension's operands at once, item by item, each seeing that item's variables;
    # Python runs a generator expression's body when it is iterated: after the loop around it moved on, with
    # the last one. The caller used the sandbox's per-item values: this passed with [0] and failed with [2]
    good = "def f(x):\n    return x"
    e = "list([(f(x) for _ in range(1)) for x in range(3)][0])"
    assert eval(e, {"f": lambda x: x}) == [2]
    for want in ([0], [2]):
        reason = check_code(blk(good), f"assert f({want}) == {e}").reason
        assert reason == "unsupported generator expression reading 'x' of a comprehension around it", want
    # iterated where it stands (by a builtin, or `in`), or run whole in the sandbox, it is decided as before
    cases = ["[all(f(x) == x for _ in range(2)) for x in range(3)]", "[sum(f(x) for _ in range(2)) for x in range(3)]",
             "[list(g) for g in [(f(x) for _ in range(1)) for x in range(3)]]",
             "[x in (f(x) + i for i in range(1)) for x in range(3)]"]
    want = [eval(c, {"f": lambda x: x}) for c in cases]
    tests = [f"assert f({w!r}) == {c}" for w, c in zip(want, cases)]
    assert check_code(blk(good), tests).reason == f"passed {len(tests)}/{len(tests)}"
    assert check_code(blk(good), f"assert f([[0], [1], [2]]) == {cases[2]}").reason == "failed test 1"


def test_expected_values_written_with_hex_repr_format_or_unbound_str_methods_stay_in_the_caller():
    # hex/bin/oct/repr/ascii/format and `map(str.upper, ...)` of the test's own values went to the sandbox as
    # code: the runner passed every one of these
    expected = ["hex(255)", "bin(5)", "oct(8)", "repr('a')", "ascii('\u00e9')", "format(3.14159, '.2f')",
                "format(5)", "repr([1, 'a'])", "list(map(str.upper, ['a']))",
                "list(map(str.strip, [' a ', 'b ']))", "str.upper('ab')", "list(map(bytes.upper, [b'a']))",
                "[hex(i) for i in range(3)]"]
    good = "def f(x):\n    return x"
    tests = [f"assert f({e}) == {e}" for e in expected]
    tests += ["assert f(['a b']) == list(map(str.strip, ['a b ']))",
              "assert f(['a', 'b']) == str.split('a b', maxsplit=1)"]
    # wrong values fail, and so do calls Python refuses (a str method given bytes, a spec that is not a str)
    wrong = ["assert f('0xf') == hex(255)", "assert f('a') == repr('a')",
             "assert f('3.14') == format(3.14159, '.3f')",
             "assert f(['a']) == list(map(str.upper, ['a']))", "assert f(b'A') == str.upper(b'a')",
             "assert f(['A']) == list(map(str.upper, [b'a']))", "assert f('    1') == format(1, 5)",
             "assert f('0x1') == hex(1.0)"]
    _assert_computed_by_the_caller(expected, good, tests, wrong)
    # of a program's value they run in the sandbox, as before: its object's own __repr__ or __index__
    prog = ("def g():\n    return 255\ndef h():\n    return '0xff'\ndef s():\n    return ['a', 'b']\n"
            "class P:\n    def __repr__(self):\n        return 'P()'\n"
            "    def __index__(self):\n        return 3\n"
            "    def __format__(self, spec):\n        return 'p' + spec\ndef p():\n    return P()")
    tests = ["assert h() == hex(g())", "assert repr(h()) == \"'0xff'\"", "assert format(g(), 'x') == 'ff'",
             "assert list(map(str.upper, s())) == ['A', 'B']", "assert str.upper(h()) == '0XFF'",
             "assert repr(p()) == 'P()' and ascii([p()]) == '[P()]'",
             "assert hex(p()) == '0x3' and bin(p()) == '0b11'",
             "assert format(p(), 'x') == 'px'"]
    assert check_code(blk(prog), tests).reason == f"passed {len(tests)}/{len(tests)}"
    assert check_code(blk(prog), "assert h() == hex(g() + 1)").reason == "failed test 1"
    # a name the test binds is its own
    assert check_code(blk(good), "hex = lambda x: 'z'\nassert f('z') == hex(1)").correct
    assert check_code(blk(good), "str = bytes\nassert f(b'A') == str.upper(b'a')").correct
    # the caller's own work is bounded: past the bounds the test fails, nothing gigabytes long is built
    for e in ["format(1, '>1000000000')", "format(1.5, '.1000000000f')", "repr('a' * 10 ** 7)",
              "ascii(['ab'] * 10 ** 6)", "hex(10 ** 1000000)", "bin(1 << (1 << 20))"]:
        assert _fails_in_bounded_memory(good, f"assert f(1) == {e}"), e


def test_stdio_expected_output_length_never_enters_the_sandbox():
    # The child is forked from the harness and can read its frames (run_case(spec, case)) and objects. A per-case
    # output cap of 2 * len(expected) + 65536 there told the program the expected length: "YES\n" or "NO\n".
    attacker = """
import gc, sys
def leaked_length():
    seen, f = [], sys._getframe()
    while f is not None:
        seen.append(f.f_locals)
        f = f.f_back
    for d in seen + [o for o in gc.get_objects() if type(o) is dict]:
        for case in [d, *(d.get("cases") or [] if type(d.get("cases")) is list else [])]:
            if type(case) is dict and type(case.get("cap")) is int:
                return (case["cap"] - 65536) // 2
        for v in d.values():
            if type(v) is int and v in (2 * 3 + 65536, 2 * 4 + 65536):
                return (v - 65536) // 2
    return None
print("NO" if leaked_length() == len("NO\\n") else "YES")
"""
    verdicts = [check_code(blk(attacker), [{"input": "5 7\n", "output": out}]).correct for out in ("YES\n", "NO\n")]
    assert verdicts == [True, False]  # it found nothing and printed its default, so it cannot pass both
    # the caller still fails output flooded far past the expected length, and output past the fixed cap
    assert check_code(blk("print('1' + ' ' * 200000)"), [{"input": "", "output": "1"}]).reason == "failed test 1"
    assert check_code(blk("print('1' + ' ' * 200000)"), [{"input": "", "output": "1" + " " * 100000}]).correct
    assert check_code(blk("import sys\nsys.stdout.write('x' * (20 << 20))"),
                      [{"input": "", "output": "x" * (20 << 20)}]).reason == "output limit exceeded"
    assert check_code(blk("print('caf\\xe9 \\r')\nprint('\\t')"), [{"input": "", "output": "caf\xe9\r\n"}]).correct


def test_caller_side_work_on_program_values_is_bounded():
    # `%` and `sum` run in the caller on values the program chose: a 400 MB string or a quadratic sum there hurts
    # the trainer, not the sandbox
    for prog, test in [("def f(x):\n    return '%400000000d'", "assert f(2) % 7 == 3"),
                       ("def f(x):\n    return (400000000, 1)", "assert '%*d' % f(2) == ' 1'"),
                       ("def f(x):\n    return '%.400000000f'", "assert f(2) % 1.5 == '1.5'")]:
        assert _fails_in_bounded_memory(prog, test), test
    # quadratic: ~140 s; linear: ~2 s (~5 s on a loaded 2-core box), mostly reading the report. 300000 lists, not
    # 100000 (quadratic ~15 s, linear ~1-2 s): a bound under the one with a margin over the other for a busy box.
    t0 = time.monotonic()
    v = check_code(blk("def f(x):\n    return [[1]] * 300000"), "assert sum(f(2), []) == [1]", timeout=30)
    assert (v.correct, v.reason) == (False, "failed test 1") and time.monotonic() - t0 < 30
    # ordinary formatting and sums still work
    assert check_code(blk("def f(x):\n    return 3.14159"), "assert '%.2f' % f(2) == '3.14'").correct
    assert check_code(blk("def f(x):\n    return [[1], [2, 3]]"), "assert sum(f(2), []) == [1, 2, 3]").correct
    assert check_code(blk("def f(x):\n    return [(1,), [2]]"), "assert sum(f(2), []) == [1, 2]").reason == \
        "failed test 1"  # TypeError in Python too


# a fake report for tests 1 and 2 in which a comprehension iterated nothing
FORGED = "".join(json.dumps({"t": t, "v": [["ok", []]]}) + "\n" for t in (0, 1)).encode() + b'{"done": true}\n'


def test_comprehensions_in_asserts_are_decided_by_the_caller():
    double = "def f(x):\n    return 2 * x"
    tests = ["assert all(f(i) == 2 * i for i in range(5))",
             "assert any(f(i) == 6 for i in range(5))",
             "assert sum(f(i) for i in range(4)) == 12",
             "assert [f(i) for i in range(3)] == [0, 2, 4]",
             "assert {i: f(i) for i in range(3)} == {0: 0, 1: 2, 2: 4}",
             "assert all(f(x) == y for x, y in [(1, 2), (3, 6)])",
             "assert all(f(6 // x) == 12 // x for x in range(-3, 4) if x != 0)",  # f(6 // 0) raised, unjudged
             "assert all(all(f(i) * j == 2 * i * j for j in range(3)) for i in range(3))",
             "assert all(isinstance(x, int) for x in [f(1), f(2)])",
             "assert all(b == 2 * a for a, b in zip(range(3), f([0, 2, 4])[:3]))",
             "assert sorted({f(s) for s in {'a', 'b'}}) == ['aa', 'bb']"]
    assert check_code(blk(double), tests).reason == f"passed {len(tests)}/{len(tests)}"
    assert check_code(blk("def f(x):\n    return 2 * x if x != 3 else 0"),
                      "assert all(f(i) == 2 * i for i in range(5))").reason == "failed test 1"
    attacks = {
        # an always-true __eq__ used to win once the comparison ran inside the sandbox (the list form)
        "always-true __eq__": "class A:\n    def __eq__(self, o): return True\n    __hash__ = None\n"
                              "def f(x): return A()",
        "shadowed range": "def range(n):\n    return []\ndef f(x): return 0",
        # a fake report that iterated nothing: all([]) is True, but the caller knows there are 5 items
        "vacuous report": f"import os\nos.write(3, {FORGED!r})\nos._exit(0)",
    }
    for name, prog in attacks.items():
        v = check_code(blk(prog), ["assert all(f(i) == 2 * i for i in range(5))",
                                   "assert all([f(i) == 2 * i for i in range(5)])"])
        assert not v.correct, name
    # the expected y's of a table never enter the sandbox: only the x's are sent
    reader = ("import sys\ndef f(x):\n    fr = sys._getframe(1)\n    while fr is not None:\n"
              "        if 'y' in fr.f_locals:\n            return fr.f_locals['y']\n        fr = fr.f_back")
    assert check_code(blk(reader), "assert all(f(x) == y for x, y in [(1, 7), (3, 9)])").reason == "failed test 1"


def test_zip_of_the_programs_iterators_takes_their_items_in_turn():
    # each of zip's arguments was sent whole, the first drained before the second was read: zip(it, it) of
    # one iterator was empty, where Python's pairs its items
    prog = "def f(n):\n    return (i for i in range(n))\ndef g(n):\n    return list(range(n))"
    for test, holds in [("it = f(4)\nassert list(zip(it, it)) == [(0, 1), (2, 3)]", True),
                        ("it = f(4)\nassert list(zip(it, it)) == [(0, 0), (1, 1), (2, 2), (3, 3)]", False),
                        ("assert dict(zip(g(2), f(3))) == {0: 0, 1: 1}", True)]:
        ns: dict = {}
        exec(prog, ns)
        try:
            exec(test, ns)
        except AssertionError:
            assert not holds, test
        else:
            assert holds, test
        assert check_code(blk(prog), test).correct == holds, test


def test_builtin_names_in_tests_mean_the_real_builtins():
    shadow = "def isinstance(*a):\n    return True\ndef type(x):\n    return int\ndef f(x):\n    return 'nope'"
    for test in ["assert isinstance(f(2), int)", "assert isinstance(f(2), (int, float))",
                 "assert type(f(2)) is int", "assert type(f(2)) == int"]:
        assert check_code(blk(shadow), test).reason == "failed test 1", test
        assert check_code(blk("def f(x):\n    return 3"), test).correct, test
    # a class of the program's own keeps isinstance in the sandbox, where the name still means the builtin
    classes = "class Node:\n    pass\nclass Other:\n    pass\n"
    assert check_code(blk(classes + "def make():\n    return Node()"), "assert isinstance(make(), Node)").correct
    assert check_code(blk(classes + "def isinstance(*a):\n    return True\ndef make():\n    return Other()"),
                      "assert isinstance(make(), Node)").reason == "failed test 1"
    # a test that means the program's function of a builtin's name says so: check(max), or its own binding
    check_max = "def check(candidate):\n    assert candidate([1, 3]) == 3\ncheck(max)"
    assert check_code(blk("def max(xs):\n    return 0"), check_max).reason == "failed test 1"
    assert check_code(blk("def max(xs):\n    return sorted(xs)[-1]"), check_max).correct
    assert check_code(blk("def f(x):\n    return [3, 1]"),
                      "def sorted(x):\n    return 'mine'\nassert sorted(f(1)) == 'mine'").correct


def test_no_network_from_the_sandbox():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.setblocking(False)
    port = srv.getsockname()[1]
    prog = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\ns.sendall(b'x')\n" \
           "def add(a, b): return a + b"
    try:
        v = check_code(blk(prog), TESTS)
        assert not v.correct
        with pytest.raises(BlockingIOError):
            srv.accept()
    finally:
        srv.close()


def test_files_outside_the_sandbox_do_not_change_and_cwd_is_fresh():
    outside = tempfile.mkdtemp()
    target = os.path.join(outside, "keep.txt")
    with open(target, "w") as f:
        f.write("original")
    prog = (f"import os\ntry:\n    open({target!r}, 'w').write('changed')\nexcept OSError:\n    pass\n"
            f"try:\n    os.remove({target!r})\nexcept OSError:\n    pass\n"
            "def probe():\n    return (os.listdir('.'), sorted(k for k in os.environ if k != 'LC_CTYPE'), os.getcwd())")
    v = check_code(blk(prog), f"cwd = probe()[2]\nassert probe()[:2] == ([], [])\nassert cwd != {os.getcwd()!r}")
    assert v.reason == "passed 2/2"
    with open(target) as f:
        assert f.read() == "original"


def test_files_the_program_writes_are_bounded_and_gone_after_the_run():
    """Files left in /tmp, /var/tmp, /dev/shm or /run/lock outlived the run (16 MiB a file, any number of them: a training
    run's disk filled by its rollouts); with namespaces each is a tmpfs of TMPFS_MB, as is the run's directory."""
    if not sandbox_info()["pid_namespace"]:
        pytest.skip("the bound needs a mount namespace")
    tag = f"ponder-leftover-{os.getpid()}"
    dirs = [d for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/crash")
            if os.path.isdir(d) and os.stat(d).st_mode & 0o002]
    prog = (f"import os\nfor d in {dirs!r}:\n    open(os.path.join(d, {tag!r}), 'w').write('x')\n"
            "def fill():\n    n = 0\n    try:\n        for i in range(20):\n"
            "            with open('f%d' % i, 'wb') as f:\n                for _ in range(16):\n"
            "                    f.write(bytes(1 << 20))\n                    n += 1 << 20\n"
            "    except OSError:\n        pass\n    return n")
    v = check_code(blk(prog), "assert fill() < 320 << 20", timeout=10)  # it tries 20 files of 16 MiB
    assert v.reason == "passed 1/1"
    assert [d for d in dirs if os.path.exists(os.path.join(d, tag))] == []


def test_the_runs_processes_together_are_held_to_memory_mb():
    """RLIMIT_AS bounds each process: forks of memory_mb each held NPROC times it (32 GiB at the default), and the
    OOM killer then takes the largest process, the trainer. With namespaces the harness bounds their sum."""
    if not sandbox_info()["pid_namespace"]:
        pytest.skip("the sum is read from the run's own /proc")
    prog = ("import os, time\ndef add(a, b):\n    r, w = os.pipe()\n    for _ in range(3):\n"
            "        if os.fork() == 0:\n            x = b'x' * (150 << 20)\n            os.write(w, b'.')\n"
            "            time.sleep(30)\n            os._exit(0)\n"
            "    for _ in range(3):\n        os.read(r, 1)\n    return a + b")
    # (the sum is seen in under a second, ~0.7 s on a loaded box; the timeout leaves it a wide margin)
    v = check_code(blk(prog), "assert add(1, 2) == 3", memory_mb=256, timeout=15)
    assert (v.correct, v.reason) == (False, "memory limit exceeded (256 MiB)")
    assert check_code(blk(prog.replace("range(3)", "range(1)")), "assert add(1, 2) == 3", memory_mb=256).correct


def test_a_program_past_its_address_space_limit_is_told_from_a_crash():
    """A program that ran out of memory under RLIMIT_AS (a MemoryError, its resident memory having peaked at half
    the limit or more: the kernel's count, not the program's word) was "crashed", a verdict a user reads as a bug.
    Saying "MemoryError" changes nothing: a program that raises it with little memory held has crashed."""
    grow = "x = []\nwhile True:\n    x.append(list(range(1000)))"
    calls = [(blk(grow), [{"input": "", "output": "3"}], {"memory_mb": 128}),
             (blk(grow + "\ndef add(a, b):\n    return a + b"), TESTS, {"memory_mb": 128}),
             (blk("import sys\nprint('MemoryError', file=sys.stderr)\nraise MemoryError"), TESTS, {"memory_mb": 128}),
             (blk("import sys\nprint('MemoryError', file=sys.stderr)\nprint(3)"), [{"input": "", "output": "3"}])]
    assert [(v.correct, v.value, v.reason) for v in _verdicts(calls)] == [
        (False, 0.0, "memory limit exceeded (128 MiB)"), (False, 0.0, "memory limit exceeded (128 MiB)"),
        (False, 0.0, "crashed"), (True, 1.0, "passed 1/1")]


def test_through_a_user_namespace_the_program_holds_no_capabilities(monkeypatch):
    """A caller that is not root runs the sandbox through a user namespace, whose root the child was, with all its
    capabilities: it umounted the private /tmp and wrote to the real one (and could ptrace the harness)."""
    from ponder.verify import code

    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # as root, the same path a non-root caller takes
    if "--user" not in code._candidates()[0]["prefix"]:
        pytest.skip("no unshare here")
    leftover = f"/tmp/ponder-caps-leftover-{os.getpid()}"
    prog = (f"import ctypes\nctypes.CDLL(None).umount2(b'/tmp', 2)\nopen({leftover!r}, 'w')\n"
            "def caps():\n    st = open('/proc/self/status').read().split('\\n')\n"
            "    return [ln.split()[1] for ln in st if ln.startswith(('CapEff', 'CapPrm', 'CapBnd', 'CapAmb'))]")
    try:
        v = check_code(blk(prog), "assert caps() == ['0000000000000000'] * 4", isolation="namespaces")
        assert (v.reason, os.path.exists(leftover)) == ("passed 1/1", False)
    finally:
        if os.path.exists(leftover):
            os.remove(leftover)


def test_shared_memory_the_program_makes_goes_with_the_run():
    """A System V shared memory segment outlives its processes: made in the host's IPC namespace, a run's segments
    (any size) held the machine's memory until reboot."""
    if not sandbox_info()["pid_namespace"]:
        pytest.skip("needs namespaces")
    key = 0x50000000 + os.getpid()
    prog = (f"import ctypes\nmade = ctypes.CDLL(None).shmget({key}, 4096, 0o1600) >= 0\n"
            "def add(a, b): return a + b if made else 0")
    v = check_code(blk(prog), "assert add(1, 2) == 3")
    with open("/proc/sysvipc/shm") as f:
        left = [ln.split()[1] for ln in f.read().splitlines()[1:] if int(ln.split()[0]) == key]
    for shmid in left:
        subprocess.run(["ipcrm", "-m", shmid], check=False)
    assert (v.reason, left) == ("passed 1/1", [])


def test_the_program_cannot_hold_memory_in_memfds():
    """A memfd's memory is counted by no limit (RLIMIT_AS counts it only mapped): 256 fds of 16 MiB were 4 GiB a
    process past memory_mb, 128 GiB a run of NPROC processes. memfd_create is refused (seccomp)."""
    import platform

    if platform.machine() not in ("x86_64", "aarch64"):
        pytest.skip("the filter knows these architectures' syscall numbers")
    prog = ("import os\ndef made():\n    try:\n        os.memfd_create('x')\n        return True\n"
            "    except PermissionError:\n        return False")
    for isolation in ("auto", "audit"):
        assert check_code(blk(prog), "assert made() is False", isolation=isolation).correct, isolation


def test_calls_from_worker_threads():
    progs = [("def add(a, b):\n    return a + b", True), ("def add(a, b):\n    return a - b", False)] * 3
    with ThreadPoolExecutor(6) as ex:
        verdicts = list(ex.map(lambda p: check_code(blk(p[0]), TESTS), progs))
    assert [v.correct for v in verdicts] == [ok for _, ok in progs]


@pytest.mark.parametrize("completion,reason", [
    (None, "invalid completion"), (123, "invalid completion"), (b"```python\nx=1\n```", "invalid completion"),
    ("no fence here", "no code block"), ("```bash\nrm -rf /\n```", "no code block"),
    ("```python\ndef add(:\n```", "syntax error"), ("```python\nx = 1\x00\n```", "syntax error"),
    ("\x00\xff\ud800garbage" * 1000, "no code block"), ("x" * (1 << 20), "no code block"),
    ("```python\n" + "x = 1\n" * 60000 + "```", "too long"),
], ids=lambda v: repr(v)[:40] if isinstance(v, (str, bytes)) else None)  # (not 1.5 MB of test ids)
def test_bad_completions_give_a_reason_not_an_exception(completion, reason):
    t0 = time.monotonic()
    v = check_code(completion, TESTS)
    assert (v.correct, v.reason) == (False, reason)
    assert time.monotonic() - t0 < 5


def test_deeply_nested_junk_on_the_report_fd_is_a_verdict_not_an_exception():
    # the program shares fd 3 with the reporting code; json.loads of "[[[..." raises RecursionError
    junk = "import os\nos.write(3, b'[' * 100000 + b'\\n')\n"
    assert check_code(blk(junk + "def add(a, b):\n    return 0"), TESTS).correct is False
    assert check_code(blk(junk + "def add(a, b):\n    return a + b"), TESTS).reason == "passed 3/3"


def test_megabyte_completion_with_code_at_the_end():
    v = check_code("blah " * 200_000 + blk("def add(a, b):\n    return a + b"), TESTS)
    assert v.correct


@pytest.mark.parametrize("tests", [None, 5, [], [1, 2], "x = 1", "assert (", [{"input": "1"}], {"inputs": [1]},
                                   "assert f(" + "-" * 3000 + "1) == 1"])
def test_bad_tests_raise_ponder_error(tests):
    """(A deeply nested expression raised RecursionError from the parser or the rewriters.)"""
    with pytest.raises(PonderError, match="^code tests: "):
        check_code(blk("x = 1"), tests)


@pytest.mark.parametrize("memory_mb", [float("inf"), 10**400, 1 << 50, -1, 0, "512", True, 1.5, None])
def test_bad_memory_limit_raises_ponder_error(memory_mb):
    """memory_mb is the sandbox's address-space limit: inf raised OverflowError, a value past 2**63 bytes made every
    run "crashed" (every completion scored 0), and a negative one was RLIM_INFINITY, a sandbox with no memory limit."""
    with pytest.raises(PonderError, match=r"^check_code: memory_mb must be a whole number of MiB in \[1, "):
        check_code(blk("x = 1"), "assert x == 1", memory_mb=memory_mb)


def test_extract_code_takes_the_last_python_block():
    text = "```python\na = 1\n```\n```bash\nls\n```\n```py\nb = 2\n```\n```\nc = 3\n```\n```text\nd\n```"
    assert extract_code(text) == "c = 3\n"
    assert extract_code("```python\nx\n") is None  # unterminated


def test_extract_code_reads_the_answer_after_the_thinking():
    """As check_math reads answers: a block drafted in the thinking is not the answer, and a completion cut off
    while thinking has none (its draft passed the tests: truncated output was rewarded). A "</think>" or "<think>"
    inside a code block is code (a parser of think tags), not the thinking's end."""
    draft, final = "```python\ndef f(): return 1\n```", "```python\ndef f(): return 2\n```"
    assert extract_code(f"<think>try {draft}</think>\nNo code, sorry.") is None
    assert extract_code(f"<think>try {draft}</think>\n{final}") == "def f(): return 2\n"
    assert extract_code(f"<think>so far {draft} and") is None
    assert extract_code(f"draft {draft}</think>\n{final}") == "def f(): return 2\n"  # the prompt opened the thinking
    parser = '```python\ndef strip(s):\n    return s.split("</think>")[-1].replace("<think>", "")\n```'
    assert extract_code(parser) == parser[10:-3]
    assert extract_code(f"<think>x</think>{parser}") == parser[10:-3]
    assert extract_code(f"<think>{parser} no") is None
    assert extract_code(f"{draft}\n{final}") == "def f(): return 2\n"


def test_sandbox_info_names_a_working_isolation():
    info = sandbox_info()
    assert info["isolation"] in ("namespaces", "audit")
    assert info["pid_namespace"] == (info["isolation"] == "namespaces")


def test_the_audit_fallback_is_chosen_with_a_warning(monkeypatch, capsys):
    """Where namespaces are refused the weaker fence is all there is: the user is told once, with its known gaps."""
    from ponder.verify import code

    monkeypatch.setattr(code, "_iso", None)
    monkeypatch.setattr(code, "_candidates", lambda real=code._candidates: [c for c in real() if c["audit"]])
    assert code._isolation()["name"] == "audit"
    assert "Python audit-hook fence only" in capsys.readouterr().err
    code._isolation()
    assert capsys.readouterr().err == ""


def test_a_sandbox_that_cannot_start_is_a_verdict_not_an_exception(monkeypatch, capsys):
    """fork refused (EAGAIN: out of processes), a full disk: the machine's failure, not the program's. It raised
    OSError out of check_code, ending a long RL run at one transient failure; it is a verdict whose reason says so
    (and stderr), and the isolation probe meeting it does not fall back to the weaker audit fence for good."""
    import errno

    from ponder.verify import code

    sandbox_info()
    code._parent_death_prefix()  # (cached before Popen fails)

    def refused(*args, **kwargs):
        raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))

    with monkeypatch.context() as m:
        m.setattr(code.subprocess, "Popen", refused)
        v = check_code(blk("def add(a, b):\n    return a + b"), TESTS)
        assert (v.correct, v.reason) == (False, "sandbox error: could not start the sandbox: "
                                                + os.strerror(errno.EAGAIN))
        assert "could not start the sandbox" in capsys.readouterr().err
        m.setattr(code, "_iso", None)  # the first check of a process probes the isolation
        v = check_code(blk("def add(a, b):\n    return a + b"), TESTS)
        assert v.reason.startswith("sandbox error: could not start the sandbox") and code._iso is None
        with pytest.raises(PonderError, match="could not start the sandbox"):
            sandbox_info()
        m.setattr(code.tempfile, "mkdtemp", lambda **k: refused())
        m.setattr(code, "_iso", code._candidates()[0])
        assert check_code(blk("def add(a, b):\n    return a + b"), TESTS).reason.startswith("sandbox error: could")
    assert check_code(blk("def add(a, b):\n    return a + b"), TESTS).correct  # and it starts again


AUDIT_ATTACKS = {
    "network": "import socket\nsocket.socket()",
    "kill the parent": "import os\nos.kill(os.getppid(), 9)",
    "write outside": "open('/tmp/ponder-audit-probe', 'w')",
    "subprocess": "import subprocess\nsubprocess.run(['true'])",
    "ctypes": "import ctypes\nctypes.CDLL(None).getpid()",
}


@pytest.mark.parametrize("name", list(AUDIT_ATTACKS))
def test_audit_fallback_fence(name):
    # the fallback used where namespaces are refused: forced here so it is tested on every machine
    v = check_code(blk(AUDIT_ATTACKS[name] + "\ndef add(a, b): return a + b"), TESTS, isolation="audit")
    assert (v.correct, v.reason) == (False, "sandbox violation")
    assert not os.path.exists("/tmp/ponder-audit-probe")


def test_audit_fallback_without_a_uid_of_its_own_refuses_fork(monkeypatch):
    """Not root (no uid drop), a forked process that left the run's session (setsid) outlived the verdict: the
    harness's kill reached only the child's process group."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    prog = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(5)\ndef add(a, b): return a + b"
    v = check_code(blk(prog), TESTS, isolation="audit")
    assert (v.correct, v.reason) == (False, "sandbox violation")


def test_audit_fallback_without_a_uid_of_its_own_keeps_the_callers_process_limit(monkeypatch):
    """RLIMIT_NPROC counts all the processes and threads of the uid: with the caller's, a trainer's own 32 threads
    made every program that starts a thread crash. Fork is refused there; threads are bounded by RLIMIT_AS."""
    import resource

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    prog = "import resource\ndef nproc():\n    return list(resource.getrlimit(resource.RLIMIT_NPROC))"
    want = list(resource.getrlimit(resource.RLIMIT_NPROC))
    assert check_code(blk(prog), f"assert nproc() == {want}", isolation="audit").correct


def test_audit_fallback_runs_correct_programs():
    assert check_code(blk("import collections\ndef add(a, b): return a + b"), TESTS, isolation="audit").correct


def test_caller_survives_and_threads_keep_running():
    alive = threading.Event()
    t = threading.Thread(target=lambda: (time.sleep(0.2), alive.set()))
    t.start()
    v = check_code(blk("import os, signal\nfor p in range(2, 400):\n    try: os.kill(p, 9)\n    except OSError: pass"
                       "\nos.kill(os.getppid(), 9)\nos.kill(1, 9)"), TESTS)
    t.join()
    assert alive.is_set() and not v.correct


def _none_pass(tests, *programs, passing=None) -> Verdict | None:
    """Each of `programs` (wrong, or forging the end of the run, or reading the expected value) fails `tests`;
    `passing` is checked alongside, its Verdict returned for the caller to assert on."""
    vs = _verdicts((blk(p), tests) for p in (*programs, *([passing] if passing is not None else [])))
    for p, v in zip(programs, vs):
        assert not v.correct, (tests, p)
    return vs[-1] if passing is not None else None

# For the reward-hacking tests of written-out loops and helpers: a right and a wrong `double`, and a wrong one
# that forges the end of the run (the harness's done record on fd 3, then exit) at its second call.
DOUBLE = "def double(x):\n    return 2 * x"
DOUBLE_WRONG = "def double(x):\n    return 2 if x == 1 else 0"
DOUBLE_CUT = ("import os\nn = [0]\ndef double(x):\n    n[0] += 1\n    if n[0] == 2:\n"
              "        os.write(3, b'{\"done\": true}\\n')\n        os._exit(0)\n    return 2 * x\n")


def test_a_loop_over_test_data_cannot_be_cut_short_or_read():
    # `for x, want in cases: assert f(x) == want` (HumanEval's check, KodCode's tables, unittest's subTest):
    # the caller writes the loop out, one copy of its body per item, so each iteration's asserts must be
    # reported and its expected values stay here. Run as written, the sandbox held `want` and the assert was
    # one test reported once per iteration: a program that forged the end after the first went unnoticed.
    good = "def double(x):\n    if x < 0:\n        raise ValueError('neg')\n    return 2 * x"
    wrong = "def double(x):\n    if x < 0:\n        raise ValueError('neg')\n    return 2 if x == 1 else 0"
    cut = DOUBLE_CUT
    forms = {
        "humaneval": "def check(candidate):\n    for x, want in [(1, 2), (3, 6), (5, 10)]:\n"
                     "        assert candidate(x) == want\n    for x in (-1, -2):\n        try:\n"
                     "            candidate(x)\n            assert False\n        except ValueError:\n"
                     "            pass\ncheck(double)\n",
        "kodcode table": "import pytest\nCASES = [(1, 2), (3, 6), (5, 10)]\ndef test_double():\n"
                         "    for x, want in CASES:\n        result = double(x)\n"
                         "        assert result == want\n"
                         "def test_neg():\n    for x in [-1, -2]:\n        with pytest.raises(ValueError):\n"
                         "            double(x)\n",
        "module level": "for x, want in [(1, 2), (3, 6), (5, 10)]:\n    assert double(x) == want\n",
        "dict table": "CASES = {1: 2, 3: 6, 5: 10}\ndef test_double():\n    for x, want in CASES.items():\n"
                      "        assert double(x) == want\n",
        "zipped tables": "INPUTS = [1, 3, 5]\nEXPECTED = [2, 6, 10]\ndef test_double():\n"
                         "    for x, expected in zip(INPUTS, EXPECTED):\n"
                         "        assert double(x) == expected\n",
        "checks some items": "for x in range(6):\n    if x % 2 == 1:\n"
                             "        assert double(x) == 2 * x\n",
        "nested range": "def test_grid():\n    for a in range(1, 3):\n        for b in [1, 2, 5]:\n"
                        "            assert double(a * b) == 2 * a * b\n",
        "unittest": "import unittest\nclass TestDouble(unittest.TestCase):\n    def test_cases(self):\n"
                    "        for x, want in [(1, 2), (3, 6), (5, 10)]:\n            with self.subTest(x=x):\n"
                    "                self.assertEqual(double(x), want)\n",
    }
    # ends the run (its end record forged) at its second call, after answering the first right
    # answers with the expected value it finds in the test's frame or globals
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        for k in ('want', 'expected'):\n            if k in f.f_locals:\n"
            "                return f.f_locals[k]\n        f = f.f_back\n    return 0\n")
    for name, tests in forms.items():
        assert _none_pass(tests, wrong, cut, peek, passing=good).correct, name
    # a loop the caller leaves as written still passes a correct program: a check under an `if` on a value
    # of the program's, a break (written out since it is on the loop's values), a loop variable read after the
    # loop or by a helper of the tests, an item the body mutates
    kept = ["for x in range(3):\n    y = double(x)\n    if y >= 0:\n        assert y == 2 * x\n",
            "for x in [1, 2, 3]:\n    assert double(x) == 2 * x\n    if x == 2:\n        break\n",
            "for x, want in [(1, 2), (3, 6)]:\n    assert double(x) == want\nassert double(x) == want\n",
            "def ok():\n    return double(x) == want\nfor x, want in [(1, 2), (3, 6)]:\n    assert ok()\n",
            "def test_m():\n    for xs in [[1, 2], [3]]:\n        xs.append(0)\n"
            "        assert double(len(xs)) == 2 * len(xs)\n",
            "for x in [1, 2]:\n    assert double(x) == 2 * x\nelse:\n    assert double(5) == 10\n"]
    for tests in kept:
        v, w = _verdicts([(blk(good), tests), (blk(wrong.replace("x == 1", "x in (1, 4)")), tests)])
        assert v.correct and not w.correct, tests



def test_a_loop_over_a_table_a_test_function_binds_itself_cannot_be_cut_short_or_read():
    # `cases = [(1, 2), ...]` in the test function's own body, then `for x, want in cases:` (KodCode's most common
    # form): the local table stands for its value as a top-level one does, so the loop is written out, and the
    # table, read nowhere else, is dropped from what the sandbox runs. Before, the loop ran as written: the
    # sandbox held the expected values (a program read them from the test's frame) and a program that forged
    # the end after the first iteration passed the rest.
    good, wrong, cut = DOUBLE, DOUBLE_WRONG, DOUBLE_CUT
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        for k, v in f.f_locals.items():\n            if k.startswith('case'):\n"
            "                return dict(v)[x]\n        f = f.f_back\n    return 0\n")
    forms = {"pytest": "def test_double():\n    cases = [(1, 2), (3, 6), (5, 10)]\n    for x, want in cases:\n"
                       "        assert double(x) == want\n",
             "dict": "def test_double():\n    cases = {1: 2, 3: 6, 5: 10}\n    for x, want in cases.items():\n"
                     "        assert double(x) == want\n",
             "humaneval": "def check(candidate):\n    cases = [(1, 2), (3, 6), (5, 10)]\n"
                          "    for x, want in cases:\n        assert candidate(x) == want\ncheck(double)\n",
             "unittest": "import unittest\nclass T(unittest.TestCase):\n    def test_d(self):\n"
                         "        cases = [(1, 2), (3, 6), (5, 10)]\n        for x, want in cases:\n"
                         "            with self.subTest(x=x):\n                self.assertEqual(double(x), want)\n"}
    for name, tests in forms.items():
        assert _none_pass(tests, wrong, cut, peek, passing=good).correct, name
    # a table the test also reads otherwise, binds again, or reads before binding stays the sandbox's, as written
    kept = ["def test_d():\n    cases = [(1, 2), (3, 6)]\n    assert len(cases) == 2\n    for x, w in cases:\n"
            "        assert double(x) == w\n",
            "def test_d():\n    cases = [(1, 2)]\n    cases = cases + [(3, 6)]\n    for x, w in cases:\n"
            "        assert double(x) == w\n",
            "def test_d():\n    cases = [(1, 2), (3, 6)]\n    def inner(cases):\n        for x, w in cases:\n"
            "            assert double(x) == w\n    inner(cases[:1])\n    inner([(3, 6)])\n"]
    for tests in kept:
        assert check_code(blk(good), tests).correct, tests
        assert not check_code(blk(wrong), tests).correct, tests


def test_expected_values_a_written_out_loop_unpacks_in_its_body_stay_in_the_caller():
    # `for case in cases: x, want = case` or `case['expected']`: the copy's assignment of the item (or of an item
    # of it) is bound into the rest of the copy as the loop variables are, so `want` stays here. Before, the
    # sandbox ran `x, want = (1, 2)` (or held the whole dict) and a program read its answer from the frame.
    good, wrong = DOUBLE, DOUBLE_WRONG
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        for k, v in f.f_locals.items():\n            if k in ('want', 'expected'):\n"
            "                return v\n            if k in ('case', 'c'):\n                return v['expected']\n"
            "        f = f.f_back\n    return 0\n")
    forms = ["def test_cases():\n    cases = [{'input': 1, 'expected': 2}, {'input': 3, 'expected': 6}]\n"
             "    for case in cases:\n        assert double(case['input']) == case['expected']\n",
             "def test_unpack():\n    cases = [(1, 2), (3, 6)]\n    for case in cases:\n        x, want = case\n"
             "        assert double(x) == want\n",
             "CASES = [{'in': 1, 'expected': 2}, {'in': 3, 'expected': 6}]\ndef test_t():\n    for c in CASES:\n"
             "        inp = c['in']\n        expected = c['expected']\n        result = double(inp)\n"
             "        assert result == expected, inp\n"]
    for tests in forms:
        assert _none_pass(tests, wrong, peek, passing=good).reason == "passed 1/1", tests
    # a parametrized case or a helper's argument the body unpacks alike
    for tests in ["import pytest\n@pytest.mark.parametrize('case', [(1, 2), (3, 6)])\ndef test_d(case):\n"
                  "    x, want = case\n    assert double(x) == want\n",
                  "def check(case):\n    x, want = case\n    assert double(x) == want\ncheck((1, 2))\ncheck((3, 6))\n"]:
        assert _none_pass(tests, wrong, peek, passing=good).correct, tests
    # an expected value a test function assigns after other statements (an import first) alike
    later = "def test_l():\n    from solution import double\n    want = 6\n    assert double(3) == want\n"
    assert _none_pass(later, wrong, peek, passing=good).correct
    # and a module-level name the tests bind once to such a value (`expected = 6`, HumanEval-style setup), in
    # every statement that reads it: immutable, or a list read once
    module = "want = 6\nassert double(3) == want\nN = 3\nfor i in range(N):\n    assert double(i) == 2 * i\n"
    assert _none_pass(module, wrong, peek, passing=good).reason == "passed 4/4"
    # an item the body reads whole, mutates, or rebinds is assigned in the sandbox as before: a correct
    # program passes
    size = "def size(c):\n    return len(c['xs'])\ndef push(xs):\n    xs.append(0)\n"
    kept = ["for c in [{'xs': [1], 'n': 1}, {'xs': [1, 2], 'n': 2}]:\n    assert size(c) == c['n']\n",
            "for case in [([1], 2), ([], 1)]:\n    xs, n = case\n    push(xs)\n    assert len(xs) == n\n",
            "def test_r():\n    for case in [(1, 2), (3, 6)]:\n        x, want = case\n        want = want + 0\n"
            "        assert double(x) == want\n    assert x == 3\n",
            "def test_c():\n    def get():\n        return want\n    want = 10\n    assert double(5) == get()\n",
            "data = [[1], []]\npush(data[0])\nassert len(data[0]) == double(1)\n"]
    broken = size.replace("len(c['xs'])", "0").replace("xs.append(0)", "pass")
    for tests in kept:
        v, w = _verdicts([(blk(good + "\n" + size), tests), (blk(wrong + "\n" + broken), tests)])
        assert v.correct and not w.correct, tests


def test_a_while_loop_that_counts_through_a_table_cannot_be_cut_short_or_read():
    # `i = 0` / `while i < len(cases):` / `x, want = cases[i]` ... `i += 1` is the `for i in range(len(cases))`
    # loop it runs as, and is written out as that one is. Run as written, the sandbox held the table (a program
    # read `want` from the test's frame) and the assert was one test reported once per iteration (a program that
    # forged the end of the run after the first passed the rest).
    good, wrong, cut = DOUBLE, DOUBLE_WRONG, DOUBLE_CUT
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        if 'want' in f.f_locals:\n            return f.f_locals['want']\n"
            "        f = f.f_back\n    return 0\n")
    forms = ["def test_w():\n    cases = [(1, 2), (3, 6), (5, 10)]\n    i = 0\n    while i < len(cases):\n"
             "        x, want = cases[i]\n        assert double(x) == want\n        i += 1\n",
             "CASES = [(1, 2), (3, 6)]\nk = 1\nwhile k <= 2:\n    x, want = CASES[k - 1]\n    assert double(x) == want\n"
             "    k = k + 1\n"]
    for tests in forms:
        assert _none_pass(tests, wrong, cut, peek, passing=good).correct, tests
    # a counter read after the loop (the `for` would leave it one less), a `continue`, a table the loop changes,
    # or a break on a value of the program's: as written, a right program passes and a wrong one fails
    kept = ["i = 0\nwhile i < 3:\n    assert double(i) == 2 * i\n    i += 1\nassert i == 3\n",
            "def test_c():\n    xs = [1, 2, 3]\n    i = 0\n    while i < len(xs):\n        if len(xs) < 5:\n"
            "            xs.append(0)\n        assert double(xs[i]) == 2 * xs[i]\n        i += 1\n",
            "def test_b():\n    xs = [1, 2, 3, 4]\n    i = 0\n    while i < len(xs):\n        if double(xs[i]) > 4:\n"
            "            break\n        assert double(xs[i]) == 2 * xs[i]\n        i += 1\n    else:\n        assert False\n"]
    vs = _verdicts([(blk(p), t) for t in kept for p in (good, wrong)])
    assert [v.correct for v in vs] == [True, False] * len(kept), [v.reason for v in vs]



def test_a_while_loop_over_a_table_that_grows_while_it_runs_keeps_running_as_written():
    # the `while` re-reads len(cases) each time round, `range` read it once: a table an alias (`more = cases`)
    # or a function of the tests (`grow()`) lengthens during the loop stays a `while`. As a `for`, the item
    # appended went unchecked, so a program wrong on it passed (and one that exited at its call too).
    tests = ["def test_al():\n    cases = [(1, 2)]\n    more = cases\n    i = 0\n    while i < len(cases):\n"
             "        x, want = cases[i]\n        assert double(x) == want\n        if x == 1:\n"
             "            more.append((3, 6))\n        i += 1\n",
             "CASES = [(1, 2)]\ndef grow():\n    CASES.append((3, 6))\ndef test_g():\n    i = 0\n"
             "    while i < len(CASES):\n        x, want = CASES[i]\n        assert double(x) == want\n"
             "        if i == 0:\n            grow()\n        i += 1\n"]
    vs = _verdicts([(blk(p), t) for t in tests for p in (DOUBLE, DOUBLE_WRONG)])
    assert [v.correct for v in vs] == [True, False] * len(tests), [v.reason for v in vs]

def test_an_expected_value_counted_from_one_iteration_to_the_next_stays_in_the_caller():
    # `want = 0` / `for x in xs:` / `want += 2` / `assert f(x) == want`: the written-out copies give `want` its
    # next value from the one before, which the caller evaluates in turn. Before, `want` was the sandbox's
    # variable (a program read it from the test's frame).
    good, wrong = DOUBLE, DOUBLE_WRONG
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        if 'want' in f.f_locals:\n            return f.f_locals['want']\n"
            "        f = f.f_back\n    return 0\n")
    forms = ["def test_a():\n    want = 0\n    for x in [1, 2, 3]:\n        want += 2\n        assert double(x) == want\n",
             "def test_b():\n    want = 0\n    for x in [1, 2]:\n        want = want + 2\n"
             "        assert double(x) == want\n    want *= 3\n    assert double(6) == want\n"]
    for tests in forms:
        assert _none_pass(tests, wrong, peek, passing=good).correct, tests
    # a value of the program's counted on, a list grown in place, a closure that reads the later value: as written
    kept = ["def test_t():\n    total = 0\n    for x in [1, 2, 3]:\n        total += double(x)\n    assert total == 12\n",
            "def test_l():\n    acc = []\n    for x in [1, 2]:\n        acc += [double(x)]\n        assert acc == [2, 4][:x]\n",
            "def test_g():\n    n = 1\n    def g():\n        return n\n    n += 1\n    assert double(g()) == 4\n"]
    vs = _verdicts([(blk(p), t) for t in kept for p in (good, wrong)])
    assert [v.correct for v in vs] == [True, False] * len(kept), [v.reason for v in vs]


def test_a_walrus_in_an_if_or_a_comprehensions_item_keeps_its_expected_value_in_the_caller():
    # `if (want := table[k]) is not None:` is `want = table[k]` then `if want is not None:`, which a written-out
    # copy binds and decides here; `all((w := 2 * x) == f(x) for x in ...)`, `w` read nowhere else, is `2 * x`.
    # Before, the sandbox held `want` (and the comprehension's walrus cell), where a program read it.
    good, wrong, cut = DOUBLE, DOUBLE_WRONG, DOUBLE_CUT
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        for k, v in list(f.f_locals.items()):\n            if k == 'want':\n                return v\n"
            "            if k.startswith('__ponder_walrus') and 'w' in v:\n                return v['w']\n"
            "        f = f.f_back\n    return 0\n")
    forms = ["table = {1: 2, 3: 6, 5: None}\ndef test_k():\n    for k in [1, 3, 5]:\n"
             "        if (want := table[k]) is not None:\n            assert double(k) == want\n",
             "def test_c():\n    assert all((w := 2 * x) == double(x) and w > 0 for x in [1, 3, 5])\n"]
    for tests in forms:
        assert _none_pass(tests, wrong, cut, peek, passing=good).correct, tests
    # a walrus of the program's value, or one read after: a right program passes, a wrong one fails
    kept = ["def test_a():\n    for x in [1, 2, 3]:\n        if (r := double(x)) > 0:\n            assert r == 2 * x\n"
            "        else:\n            assert False\n",
            "def test_c():\n    xs = [1, 2, 3]\n    if (n := len(xs)) > 2 and (k := n * 2):\n        assert double(n) == k\n"
            "    assert n == 3\n"]
    vs = _verdicts([(blk(p), t) for t in kept for p in (good, wrong)])
    assert [v.correct for v in vs] == [True, False] * len(kept), [v.reason for v in vs]


def test_a_helper_that_returns_an_expression_of_its_arguments_is_written_in_where_a_value_is_assigned():
    # `x, want = ident(case)`, `want = expected(x)`, `for x, want in cases():` of a function of the tests that
    # only returns an expression of its parameters: the call is that expression, as in an assert, so the caller
    # binds the value and writes the loop out; the function, read nowhere else then, is left out of the sandbox.
    # Before, it ran there, returning the expected values where the program read them (or called `cases()`).
    good, wrong = DOUBLE, DOUBLE_WRONG
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        if 'want' in f.f_locals:\n            return f.f_locals['want']\n"
            "        f = f.f_back\n    c = f_globals = sys._getframe(1).f_globals.get('cases')\n"
            "    return dict(c())[x] if c else 0\n")
    forms = ["def ident(v):\n    return v\ndef test_h():\n    for case in [(1, 2), (3, 6), (5, 10)]:\n"
             "        x, want = ident(case)\n        assert double(x) == want\n",
             "def expected(x):\n    return 2 * x\ndef test_t():\n    for x in [1, 3, 5]:\n        want = expected(x)\n"
             "        assert double(x) == want\n",
             "def cases():\n    return [(1, 2), (3, 6), (5, 10)]\ndef test_t():\n    for x, want in cases():\n"
             "        assert double(x) == want\n",
             # a test function's own helper, read by the statements after it, and a lambda bound once, alike
             "def test_h():\n    def ident(v):\n        return v\n    for case in [(1, 2), (3, 6), (5, 10)]:\n"
             "        x, want = ident(case)\n        assert double(x) == want\n",
             "ident = lambda v: v\ndef test_h():\n    for case in [(1, 2), (3, 6), (5, 10)]:\n"
             "        x, want = ident(case)\n        assert double(x) == want\n",
             # a class's method of that kind called on the object (`self.want_for(x)`)
             "import unittest\nclass T(unittest.TestCase):\n    def want_for(self, x):\n        return 2 * x\n"
             "    def test_h(self):\n        for x in [1, 3, 5]:\n            want = self.want_for(x)\n"
             "            self.assertEqual(double(x), want)\n"]
    # (a program that forges the end of the run is the loops' own test, above: each written-out copy's asserts
    # are required alike)
    for tests in forms:
        assert _none_pass(tests, wrong, peek, passing=good).correct, tests
    # one also read otherwise, or given a value of the program's: a right program passes, a wrong one fails
    kept = ["def expected(x):\n    return 2 * x\ndef test_t():\n    want = expected(double(1))\n    assert want == 4\n"
            "    assert list(map(expected, [1, 2])) == [double(1), double(2)]\n",
            "def test_k():\n    key = lambda v: -v\n    assert sorted([double(1), double(2)], key=key) == [4, 2]\n"
            "    assert key(double(3)) == -6\n",
            "import unittest\nclass T(unittest.TestCase):\n    def setUp(self):\n        self.k = 2\n"
            "    def want_for(self, x):\n        return self.k * x\n    def test_h(self):\n        for x in [1, 3]:\n"
            "            self.assertEqual(double(x), self.want_for(x))\n"]
    vs = _verdicts([(blk(p), t) for t in kept for p in (good, wrong)])
    assert [v.correct for v in vs] == [True, False] * len(kept), [v.reason for v in vs]



def test_a_helper_written_in_stays_defined_where_the_tests_reach_it_otherwise():
    # every call of `ident` is written in, but the tests also reach it through the module or globals(): left
    # out of the sandbox (a `pass` in its place), that read failed a right program
    tests = ["import solution\ndef ident(v):\n    return v\ndef test_h():\n    for c in [(1, 2), (3, 6)]:\n"
             "        x, want = ident(c)\n        assert double(x) == want\n    assert solution.ident(5) == 5\n",
             "def ident(v):\n    return v\ndef test_h():\n    for c in [(1, 2), (3, 6)]:\n"
             "        x, want = ident(c)\n        assert double(x) == want\n    assert globals()['ident'](4) == 4\n"]
    vs = _verdicts([(blk(p), t) for t in tests for p in (DOUBLE, DOUBLE_WRONG)])
    assert [v.correct for v in vs] == [True, False] * len(tests), [v.reason for v in vs]

def test_a_loop_that_indexes_tables_cannot_be_cut_short_or_read():
    # `for i in range(len(inputs)): assert f(inputs[i]) == expected[i]`: a table read only in loops' iterables
    # and by item stands for its value too, and each copy's `expected[0]` is that item, here. Before, the loop
    # ran as written over tables the sandbox held.
    good, wrong, cut = DOUBLE, DOUBLE_WRONG, DOUBLE_CUT
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        for k in ('expected', 'EXPECTED', 'cases'):\n            v = f.f_locals.get(k, f.f_globals.get(k))\n"
            "            if v is not None:\n                return dict(v)[x] if k == 'cases' else v[[1, 3, 5].index(x)]\n"
            "        f = f.f_back\n    return 0\n")
    forms = ["def test_idx():\n    inputs = [1, 3, 5]\n    expected = [2, 6, 10]\n"
             "    for i in range(len(inputs)):\n        assert double(inputs[i]) == expected[i]\n",
             "INPUTS = [1, 3, 5]\nEXPECTED = [2, 6, 10]\ndef test_idx():\n    for i in range(len(INPUTS)):\n"
             "        result = double(INPUTS[i])\n        assert result == EXPECTED[i], f'case {i}'\n",
             "def test_pairs():\n    cases = [(1, 2), (3, 6), (5, 10)]\n    for i in range(3):\n"
             "        assert double(cases[i][0]) == cases[i][1]\n"]
    for tests in forms:
        assert _none_pass(tests, wrong, cut, peek, passing=good).reason == "passed 1/1", tests
    # an item the test mutates through the program and reads again stays the sandbox's table's
    sort = "def sort_in_place(xs):\n    xs.sort()\n"
    kept = ("def test_sort():\n    inputs = [[3, 1], [2, 1]]\n    expected = [[1, 3], [1, 2]]\n"
            "    for i in range(len(inputs)):\n        sort_in_place(inputs[i])\n        assert inputs[i] == expected[i]\n")
    assert check_code(blk(sort), kept).correct
    assert not check_code(blk(sort.replace("xs.sort()", "pass")), kept).correct


def test_a_large_input_a_test_builds_stays_the_sandboxs_to_build():
    # `data = list(range(10 ** 5))` is bound into the code after it only when small: written out as a literal,
    # a large input cost the caller its memory and time (and the sandbox a source of megabytes)
    total = "def total(xs):\n    return sum(xs)"
    for tests in ["def test_big():\n    data = list(range(10 ** 5))\n    assert total(data) == 4999950000\n",
                  "big = [1] * 10 ** 5\nassert total(big) == 10 ** 5\n"]:
        tracemalloc.start()
        try:
            v = check_code(blk(total), tests)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert v.correct and peak < 20 << 20, (tests, v.reason, peak)


def test_a_written_out_loops_else_reads_its_variables_as_the_last_item_left_them():
    # the `else:` counted as the loop's inside, so the copies wrote the variable in and never bound it: the
    # `else:` read an unbound name, and every program failed
    good = "def f(x):\n    return x"
    test = "def test_a():\n    for x in range(3):\n        assert f(x) == x\n    else:\n        assert f(x) == {}\n"
    ns = {"f": lambda x: x}
    exec(test.format(2), ns)
    ns["test_a"]()
    assert check_code(blk(good), test.format(2)).reason == "passed 1/1"
    assert check_code(blk(good), test.format(1)).reason == "failed test 1 (test_a)"


def test_closures_made_in_a_written_out_loop_read_its_variable_as_python_does():
    # a lambda or generator made in each iteration and run after the loop reads the variable's last value; the
    # copies wrote each item's value into it, so these failed with the right values and passed with the wrong
    good = "def f(x):\n    return x"
    tests = {"def test_a():\n    gs = []\n    for x in range(3):\n        gs.append(lambda: x)\n"
             "        assert f(x) == x\n    assert [g() for g in gs] == {}\n": ([2, 2, 2], [0, 1, 2]),
             "def test_b():\n    gs = []\n    for x, y in [(1, 2), (3, 4)]:\n        gs.append(f(i) + y for i in [x])\n"
             "        assert f(x) == y - 1\n    assert [list(g) for g in gs] == {}\n": ([[5], [7]], [[3], [7]])}
    for test, (right, wrong) in tests.items():
        ns = {"f": lambda x: x}
        exec(test.format(right), ns)
        ns[test[4:10]]()
        assert check_code(blk(good), test.format(right)).reason == "passed 1/1", test
        assert check_code(blk(good), test.format(wrong)).reason.startswith("failed test 1"), test
        # the copies' own asserts keep their expected values in the caller: a program that answers every call
        # with the loop's variable as the closure holds it fails them
        assert not check_code(blk("def f(x):\n    return 0"), test.format(right)).correct, test


def test_a_loop_that_breaks_or_continues_on_test_values_cannot_be_cut_short():
    # `break`/`continue` under an `if` on the loop's own values (`if x == 2: break`) is decided here in each
    # written-out copy: the copies end where the loop would. Run as written (any `break` kept the loop so), the
    # assert was one test reported once per iteration: a program that forged the end after the first passed.
    good, wrong, cut = DOUBLE, DOUBLE_WRONG, DOUBLE_CUT
    forms = {"break": ("for x in [1, 2, 3]:\n    assert double(x) == 2 * x\n    if x == 2:\n        break\n", 2),
             "continue": ("for x in range(4):\n    if x == 0:\n        continue\n    assert double(x) == 2 * x\n", 3),
             "break before": ("def test_d():\n    for x in [1, 3, 5, -1, 7]:\n        if x < 0:\n            break\n"
                              "        assert double(x) == 2 * x\n    else:\n        assert double(0) == 1\n", 1),
             "inner loop's break": ("for a in [1, 3]:\n    for b in [1, 2]:\n        if b == a:\n"
                                    "            break\n    assert double(a) == 2 * a\n", 2)}
    for name, (tests, n) in forms.items():
        v = _none_pass(tests, wrong, cut, passing=good)
        assert (v.correct, v.reason) == (True, f"passed {n}/{n}" if "def " not in tests else "passed 1/1"), name
    # a `return` that ends the test function inside the loop is decided alike: the copies end there, the
    # `return` kept (what follows the loop is not run, as in Python)
    ret = ("def test_d():\n    for x in [1, 3, 5, -1, 7]:\n        if x < 0:\n            return\n"
           "        assert double(x) == 2 * x\n")
    assert _none_pass(ret, wrong, cut, passing=good).correct
    # a `break` on a value of the program's leaves the loop as written: a correct program still passes
    kept = ["for x in [1, 2, 3]:\n    y = double(x)\n    if y > 4:\n        break\n    assert y == 2 * x\n",
            "def test_d():\n    for a in [1, 2]:\n        assert double(a) == 2 * a\n        for b in [3, a]:\n"
            "            if double(b) == 4:\n                return\n"]
    for tests in kept:
        assert check_code(blk(good), tests).correct, tests
        assert not check_code(blk(wrong), tests).correct, tests


def test_a_helper_that_returns_early_on_test_values_cannot_be_cut_short():
    # `def check(x, want): if want is None: return` then `assert f(x) == want`: the `if` is decided here in each
    # call's copy, which ends at the `return` it leads to, so each other call's assert must be reported. Run as
    # written (any early `return` kept the helper so), its assert was one test reported once per call: a
    # program that forged the end of the run after the first call passed the others.
    good, wrong, cut = DOUBLE, DOUBLE_WRONG, DOUBLE_CUT
    forms = ["def check(x, want):\n    if want is None:\n        return\n    assert double(x) == want\n"
             "check(1, 2)\ncheck(2, None)\ncheck(3, 6)\n",
             "CASES = [(1, 2), (-1, None), (3, 6)]\ndef check(x, want):\n    if x < 0:\n        return None\n"
             "    else:\n        result = double(x)\n    assert result == want\n    return result\n"
             "def test_all():\n    for x, want in CASES:\n        check(x, want)\n"]
    for tests in forms:
        assert _none_pass(tests, wrong, cut, passing=good).correct, tests
    # a helper given the program's function by name (`run(double, 3, 6)`, a name the tests never bind) is
    # written out alike: the copy reads that name where the helper is defined, the same global. Before, such
    # a call ran as written
    by_name = "def run(fn, x, want):\n    assert fn(x) == want\nrun(double, 1, 2)\nrun(double, 3, 6)\n"
    assert _none_pass(by_name, wrong, cut, passing=good).reason == "passed 2/2"
    # one of its calls with a value of the program's, or a `return` on one, leaves the helper as written
    kept = ["def check(x, want):\n    if want is None:\n        return\n    assert double(x) == want\n"
            "check(1, 2)\ncheck(2, double(None) if False else None)\ncheck(3, 6)\n",
            "def check(x, want):\n    r = double(x)\n    if r > 4:\n        return\n    assert r == want\n"
            "check(1, 2)\ncheck(2, 4)\ncheck(3, 0)\n"]
    for tests in kept:
        assert check_code(blk(good), tests).correct, tests
        assert not check_code(blk(wrong), tests).correct, tests


def test_a_helper_method_of_a_test_class_called_with_test_values_cannot_be_cut_short_or_read():
    # `def check(self, x, want): self.assertEqual(double(x), want)` then `self.check(3, 6)`: each call is
    # written out as a method of its own with its values, as a helper function's is. Before, the method ran
    # as written, its assert one test reported per call (a program that forged the end after the first call
    # passed the others) with `want` in the sandbox.
    good, wrong, cut = DOUBLE, DOUBLE_WRONG, DOUBLE_CUT
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        if 'want' in f.f_locals:\n            return f.f_locals['want']\n"
            "        f = f.f_back\n    return 0\n")
    forms = ["import unittest\nclass T(unittest.TestCase):\n    def check(self, x, want):\n"
             "        self.assertEqual(double(x), want)\n    def test_a(self):\n        self.check(1, 2)\n"
             "        self.check(3, 6)\n    def test_b(self):\n        for x, want in [(5, 10), (0, 0)]:\n"
             "            self.check(x, want)\n",
             "class TestD:\n    def _check(self, x, want=None):\n        if want is None:\n            return\n"
             "        assert double(x) == want\n    def test_a(self):\n        self._check(1, 2)\n"
             "        self._check(2)\n        self._check(3, 6)\n"]
    for tests in forms:
        assert _none_pass(tests, wrong, cut, peek, passing=good).correct, tests
    # a method also called with a value of the program's runs as written, and a correct program passes
    kept = ("import unittest\nclass T(unittest.TestCase):\n    def check(self, x, want):\n"
            "        if want is None:\n            return\n        self.assertEqual(double(x), want)\n"
            "    def test_a(self):\n        self.check(1, 2)\n        self.check(double(3) // 2, 6)\n")
    assert check_code(blk(good), kept).correct
    assert not check_code(blk(wrong), kept).correct


def test_an_exception_test_with_handler_code_or_a_bare_except_is_decided_by_the_caller():
    # `except ValueError as e: assert str(e) == "neg"`, a handler that logs, a bare `except:` (MBPP/HumanEval
    # style): how the body ended is reported and decided here, then the handlers run as written. As written,
    # `str(e)` (an exception is no plain value) failed every program, and the `assert False`, with no value of
    # the program's, passed a program that ended the run inside the call.
    good = "def f(x):\n    if x < 0:\n        raise ValueError('neg')\n    return 2 * x"
    forms = {
        "message": "assert f(1) == 2\ntry:\n    f(-1)\n    assert False\nexcept ValueError as e:\n"
                   "    assert str(e) == 'neg'\n",
        "logs": "assert f(1) == 2\ntry:\n    f(-1)\n    assert False\nexcept ValueError:\n    print('ok')\n",
        "bare": "assert f(1) == 2\ntry:\n    f(-1)\nexcept:\n    caught = True\nelse:\n    assert False\n",
        "humaneval": "def check(candidate):\n    assert candidate(1) == 2\n    for x in [-1, -2]:\n"
                     "        try:\n"
                     "            candidate(x)\n        except ValueError as err:\n"
                     "            assert err.args[0] == 'neg' and 'neg' in repr(err)\n        else:\n"
                     "            raise AssertionError('no raise')\ncheck(f)\n",
        "pytest": "def test_neg():\n    try:\n        f(-1)\n        assert False, 'no raise'\n"
                  "    except ValueError as e:\n        assert 'neg' in str(e)\n",
    }
    bad = {
        "returns": "def f(x):\n    return 2 * x",
        "forges the end": "import os\ndef f(x):\n    if x < 0:\n        os.write(3, b'{\"done\": true}\\n')\n"
                          "        os._exit(0)\n    return 2 * x",
        "its message ends the run": "import os\nclass E(ValueError):\n    def __str__(self):\n"
                                    "        os.write(3, b'{\"done\": true}\\n')\n        os._exit(0)\n"
                                    "    __repr__ = __str__\n"
                                    + good.replace("ValueError('neg')", "E('neg')"),
    }
    for name, tests in forms.items():
        # (nothing reads the message in "logs" and "bare": raising E('neg') is a correct program there)
        failing = {why: program for why, program in bad.items()
                   if not (name in ("logs", "bare") and why == "its message ends the run")}
        if name != "bare":  # any exception passes a bare except
            failing["wrong class"] = good.replace("ValueError('neg')", "TypeError('neg')")
        v, *vs = _verdicts((blk(p), tests) for p in [good, *failing.values()])
        assert v.correct, name
        for why, v in zip(failing, vs):
            assert not v.correct, (name, why)
    wrong_message = good.replace("'neg'", "'negative'")
    assert not check_code(blk(wrong_message), forms["message"]).correct


def test_the_handler_an_exception_enters_of_several_must_report_its_asserts():
    # of several handlers, the one `except` enters is decided here from the class the sandbox reported, so its
    # asserts must be reported; the others' stay unreached. Before, all were optional: a program whose
    # exception's str ended the run (its end forged) passed `assert str(e) == 'neg'` unrun.
    good = ("def f(x):\n    if x < 0:\n        raise ValueError('neg')\n    if x == 0:\n"
            "        raise TypeError('zero')\n    return 2 * x")
    ends = ("import os\nclass E(ValueError):\n    def __str__(self):\n        os.write(3, b'{\"done\": true}\\n')\n"
            "        os._exit(0)\n    __repr__ = __str__\n" + good.replace("ValueError('neg')", "E('wrong')"))
    forms = ["assert f(1) == 2\ntry:\n    f(-1)\n    assert False\nexcept ValueError as e:\n"
             "    assert str(e) == 'neg'\nexcept TypeError as e:\n    assert str(e) == 'zero'\n",
             "def test_neg():\n    assert f(1) == 2\n    try:\n        f(-1)\n    except (KeyError, TypeError):\n"
             "        pass\n    except Exception as e:\n        assert 'neg' in str(e)\n    else:\n"
             "        assert False\n",
             "assert f(1) == 2\nfor x, msg in [(-1, 'neg'), (0, 'zero')]:\n    try:\n        f(x)\n"
             "        assert False\n    except ValueError as e:\n        assert str(e) == msg\n"
             "    except TypeError as e:\n        assert str(e) == msg\n"]
    for tests in forms:
        assert check_code(blk(good), tests).correct, tests
        assert not check_code(blk(ends), tests).correct, tests
        assert not check_code(blk(good.replace("'neg'", "'bad'")), tests).correct, tests
    # a forged report naming a class beside junk (a list among the names) is a verdict, not the caller's error
    junk = {"t": 1, "v": [["ok", ["l", [["l", [["l", []], ["s", "ValueError"]]], ["N"], ["l", []]]]]]}
    forged = ("import os, json\ndef f(x):\n    if x < 0:\n"
              f"        os.write(3, (json.dumps({junk!r}) + '\\n' + '{{\"done\": true}}\\n').encode())\n"
              "        os._exit(0)\n    return 2 * x\n")
    assert not check_code(blk(forged), forms[0]).correct
    # the other handler's asserts stay unreached: a program raising what it names passes
    zero = forms[0].replace("f(-1)", "f(0)")
    assert check_code(blk(good), zero).correct
    assert not check_code(blk(good.replace("'zero'", "'0'")), zero).correct


def test_an_exception_test_written_with_a_flag_is_decided_by_the_caller():
    # `raised = False; try: f(-1) except ValueError: raised = True; assert raised` is the exception test
    # `try: f(-1); assert False except ValueError: pass`, and is decided as that one is. As written, the
    # handler's class was looked up in the sandbox (a program's `ValueError = Exception` caught its KeyError)
    # and an exception of every builtin class passed.
    good = "def f(x):\n    if x < 0:\n        raise ValueError('neg')\n    return 2 * x"
    every = ("class Any(ValueError, TypeError, KeyError, IndexError):\n    pass\n"
             + good.replace("ValueError('neg')", "Any('neg')"))
    rebind = "ValueError = Exception\n" + good.replace("ValueError('neg')", "KeyError('neg')")
    forms = ["assert f(1) == 2\nraised = False\ntry:\n    f(-1)\nexcept ValueError:\n    raised = True\n"
             "assert raised\n",
             "def test_neg():\n    assert f(1) == 2\n    try:\n        f(-1)\n        ok = False\n"
             "    except (ValueError, ZeroDivisionError) as e:\n        ok = True\n    assert ok is True, 'no raise'\n",
             "import unittest\nclass T(unittest.TestCase):\n    def test_neg(self):\n        self.assertEqual(f(1), 2)\n"
             "        raised = False\n        try:\n            f(-1)\n        except ValueError:\n"
             "            raised = True\n        self.assertTrue(raised)\n"]
    for tests in forms:
        assert _none_pass(tests, every, rebind, "def f(x):\n    return 2 * x", passing=good).correct, tests
    # a flag read otherwise too, or a handler that does more, runs as written: a correct program passes
    kept = ["raised = False\ntry:\n    f(-1)\nexcept ValueError:\n    raised = True\nassert raised\n"
            "assert raised or f(1) == 3\n",
            "raised = 0\ntry:\n    f(-1)\nexcept ValueError:\n    raised = f(2)\nassert raised == 4\n"]
    for tests in kept:
        assert _none_pass(tests, "def f(x):\n    return 2 * x", passing=good).correct, tests


def test_an_exception_of_many_unrelated_builtin_classes_fails_the_check():
    # a class made to be ValueError, TypeError, KeyError... at once (raised where the program guesses it is
    # being checked) passed every check of those; a real exception is one, or two (io.UnsupportedOperation:
    # OSError and ValueError), and still passes
    tests = {"LookupError": "import pytest\ndef test_miss():\n    with pytest.raises(LookupError):\n"
                            "        get({}, 'a')\n",
             "KeyError": "assert get({'a': 1}, 'a') == 1\ntry:\n    get({}, 'a')\n    assert False\n"
                         "except KeyError:\n    pass\n",
             "ValueError": "import pytest\ndef test_v():\n    with pytest.raises(ValueError, match='a'):\n"
                           "        get({}, 'a')\n"}
    every = ("class Any(ValueError, TypeError, KeyError, IndexError, ZeroDivisionError):\n    pass\n"
             "def get(d, k):\n    if k not in d:\n        raise Any(k)\n    return d[k]\n")
    two = every.replace("ValueError, TypeError, KeyError, IndexError, ZeroDivisionError",
                        "KeyError, ValueError")
    unsupported = ("import io\ndef get(d, k):\n    if k not in d:\n"
                   "        raise io.UnsupportedOperation(k)\n    return d[k]\n")
    for expected, src in tests.items():
        assert not check_code(blk(every), src).correct, expected
        assert check_code(blk(two), src).correct, expected
        assert check_code(blk(unsupported), src).correct == (expected == "ValueError"), expected
    assert check_code(blk("def get(d, k):\n    return d[k]"), tests["KeyError"]).correct


def test_a_helper_of_the_tests_called_with_test_values_cannot_be_cut_short_or_read():
    # `def check(x, want): assert f(x) == want` called once per case: each call is written out with its
    # values, so each call's asserts must be reported and `want` stays here. Run as written, the helper's
    # assert was one test the sandbox reported per call: a program that forged the end of the run after the
    # first call passed the calls it never ran (with a wrong answer in them).
    good, wrong, cut = DOUBLE, DOUBLE_WRONG, DOUBLE_CUT
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        if 'want' in f.f_locals:\n            return f.f_locals['want']\n"
            "        f = f.f_back\n    return 0\n")
    forms = ["def check(x, want):\n    assert double(x) == want\ncheck(1, 2)\ncheck(3, 6)\n"
             "check(x=5, want=10)\n",
             "CASES = [(1, 2), (3, 6), (5, 10)]\ndef check(x, want=None):\n    result = double(x)\n"
             "    assert result == want, x\n    return result\ndef test_all():\n    for x, want in CASES:\n"
             "        check(x, want)\n"]
    for tests in forms:
        assert _none_pass(tests, wrong, cut, peek, passing=good).reason == "passed 3/3", tests
    # a helper whose check runs only on some calls, or one called with a value of the program's, runs as
    # written and still passes a correct program
    for tests in ["def check(x, want):\n    if want is None:\n        return\n    assert double(x) == want\n"
                  "check(1, None)\ncheck(2, 4)\n",
                  "def check(x, want):\n    assert double(x) == want\ncheck(1, double(1))\ncheck(3, 6)\n"]:
        assert check_code(blk(good), tests).correct, tests
        assert not check_code(blk(wrong), tests).correct, tests


def test_a_fork_while_another_thread_probes_the_sandbox_does_not_hang_the_child():
    """The isolation probe holds a lock for seconds; a fork then (a DataLoader, a scoring pool) left it held forever
    in the child, whose first check_code hung past any timeout."""
    import ponder.verify.code as code

    held, done = threading.Event(), threading.Event()

    def hold():
        with code._iso_lock:
            held.set()
            done.wait(30)

    threading.Thread(target=hold, daemon=True).start()
    assert held.wait(10)
    try:
        pid = os.fork()
        if pid == 0:
            os._exit(0 if code._iso_lock.acquire(timeout=5) else 1)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    finally:
        done.set()


def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        try:
            status = open(f"/proc/{d}/status").read()
        except OSError:
            continue
        if d.isdigit() and f"\nPPid:\t{pid}\n" in status and "\nState:\tZ" not in status:
            out.append(int(d))
    return out


def _alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in open(f"/proc/{pid}/status").read()
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="/proc and the parent-death signal are Linux's")
def test_a_sandbox_dies_with_the_process_that_started_it():
    """A scoring worker SIGKILLed (Ctrl-C in a parallel reward, the OOM killer) left its sandbox running the
    program until the program's own timeout (up to 600 s a case): the sandbox now has a parent-death signal."""
    import multiprocessing
    import signal

    sandbox_info()  # (the isolation probe runs here: the worker's only child is the sandbox)
    ctx = multiprocessing.get_context("fork")
    # (the program's own timeout, 600 s, is far past the wait for its death below: only the signal ends it there;
    # both waits end as soon as what they wait for is seen, and are long for a loaded machine)
    worker = ctx.Process(target=check_code, args=(blk("while True:\n    pass"), "assert True"),
                         kwargs={"timeout": 600})
    worker.start()
    sandbox = []
    try:
        deadline = time.monotonic() + 300
        while not (sandbox := _children(worker.pid)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sandbox, "no sandbox started"
    finally:
        worker.kill()
        worker.join()
    try:
        deadline = time.monotonic() + 120
        while any(map(_alive, sandbox)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(map(_alive, sandbox))
    finally:  # (a failed check leaves no 600 s loop behind)
        for pid in filter(_alive, sandbox):
            os.kill(pid, signal.SIGKILL)


def test_the_tests_prints_do_not_show_the_program_the_expected_values():
    # A print of the tests' (`print(x, r, want)` in a loop of a table, whose `want` each written-out copy holds as a
    # literal; `print(f'expecting {want}')` before the call) was sandbox code: a program that did not compute
    # anything passed by reading the constant after its argument in its caller's code, by reading what it had
    # made sys.stdout, or through a `print` of its own the tests called
    loop = "cases = [(2, 4), (3, 6), (10, 20)]\nfor x, want in cases:\n    r = f(x)\n    print(x, r, want)\n    assert r == want\n"
    before = ("def test_f():\n    for x, want in [(2, 4), (3, 6), (10, 20)]:\n"
              "        print('Testing {}, expecting {}'.format(x, want))\n        assert f(x) == want\n")
    fail_if = "for x, want in [(2, 4), (3, 6)]:\n    r = f(x)\n    if r != want:\n        print('FAIL', r, want)\n    assert r == want\n"
    consts = "import sys\ndef f(x):\n    c = sys._getframe(1).f_code.co_consts\n    return c[c.index(x) + 1]"
    stdout = ("import sys, io, re\nsys.stdout = buf = io.StringIO()\n"
              "def f(x):\n    return int(re.findall(r'expecting (\\d+)', buf.getvalue())[-1])")
    own_print = "seen = []\ndef print(*a, **k):\n    seen.append(a)\ndef f(x):\n    return seen[-1][-1] if seen else 0"
    cond = "import sys\ndef f(x):\n    return 0\nclass R(int):\n    pass\n"
    right = "def f(x):\n    return 2 * x"
    # a print that changes what the tests check next still runs
    stack = ("s = Stack()\ns.push(1)\ns.push(2)\nprint('popped', s.pop())\nassert s.size() == 1\n"
             "assert s.peek() == 1\n")
    stack_prog = ("class Stack:\n    def __init__(self):\n        self.items = []\n    def push(self, x):\n"
                  "        self.items.append(x)\n    def pop(self):\n        return self.items.pop()\n"
                  "    def size(self):\n        return len(self.items)\n    def peek(self):\n        return self.items[-1]")
    capture = "def test_f(capsys):\n    print('x')\n    f(2)\n    assert capsys.readouterr().out == 'x\\n4\\n'\n"
    got = [v.reason for v in _verdicts([
        (blk(consts), loop), (blk(stdout), before), (blk(own_print), loop), (blk(own_print), fail_if),
        (blk(consts), fail_if), (blk(cond), fail_if),
        (blk(right), loop), (blk(right), before), (blk(right), fail_if), (blk(stack_prog), stack),
        (blk("def f(x):\n    print(2 * x)"), capture)])]
    assert got == ["failed test 1", "failed test 1 (test_f)", "failed test 1", "failed test 1", "failed test 1",
                   "failed test 1", "passed 3/3", "passed 1/1", "passed 2/2", "passed 2/2", "passed 1/1"]


def test_a_table_read_by_an_asserts_comprehension_stays_in_the_caller():
    # `assert all(f(x) == want for x, want in CASES)` with CASES a top-level table read nowhere else: the table
    # was the sandbox's (a name, not the literal the caller knows the items of), so a program computing nothing
    # passed by returning its caller's `want`
    frames = ("import sys\ndef f(x):\n    fr = sys._getframe(1)\n    while fr:\n"
              "        if 'want' in fr.f_locals:\n            return fr.f_locals['want']\n        fr = fr.f_back")
    named = "CASES = [(2, 4), (3, 6)]\nassert all(f(x) == want for x, want in CASES)\n"
    pytest_style = ("INS = [2, 3]\nOUTS = [4, 6]\ndef test_all():\n    assert all(f(a) == want for a, want in zip(INS, OUTS))\n"
                    "def test_each():\n    for a, want in zip(INS, OUTS):\n        assert f(a) == want\n")
    # a parameter of that name is not the table: it runs as before
    shadow = "CASES = [(2, 4)]\ndef chk(CASES):\n    assert all(f(x) == want for x, want in CASES)\nchk(CASES)\n"
    right = "def f(x):\n    return 2 * x"
    got = [v.reason for v in _verdicts([(blk(frames), named), (blk(frames), pytest_style), (blk(right), named),
                                        (blk(right), pytest_style), (blk(right), shadow),
                                        (blk("def f(x):\n    return 4"), named)])]
    assert got == ["failed test 1", "failed test 1 (test_all)", "passed 1/1", "passed 2/2", "passed 1/1",
                   "failed test 1"]


def test_a_predicate_helper_of_the_tests_is_decided_in_the_caller():
    # `def close(a, b, eps=1e-6): return abs(a - b) < eps` then `assert close(f(2), 4.0)`: the helper ran in the
    # sandbox with the expected value as its argument, so a program computing nothing passed by returning the
    # float constant of its caller's code, and one whose object says True to == passed `same`
    tests = ("def close(a, b, eps=1e-6):\n    return abs(a - b) < eps\ndef same(a, b):\n    return a == b\n"
             "assert close(f(2), 4.0)\nassert close(f(3), 6.0, eps=1e-3)\nassert same(f(10), 20)\n")
    consts = ("import sys\ndef f(x):\n    c = [k for k in sys._getframe(1).f_code.co_consts if type(k) in (int, float)"
              " and k > 3 and k != 10]\n    return c[0] if c else 0")
    always = "class A:\n    def __eq__(self, o):\n        return True\n    def __sub__(self, o):\n        return 0\ndef f(x):\n    return A()"
    # a helper whose argument would run twice (`a` read twice) runs as written, as before
    twice = "def near(a, b):\n    return a == b or abs(a - b) < 1e-9\nassert near(f(2), 4)\n"
    right, off = "def f(x):\n    return 2 * x", "def f(x):\n    return 2 * x + 0.01"
    got = [v.reason for v in _verdicts([(blk(consts), tests), (blk(always), tests), (blk(right), tests),
                                        (blk(off), tests), (blk(right), twice)])]
    assert got == ["failed test 1", "failed test 1", "passed 3/3", "failed test 1", "passed 1/1"]


def test_a_top_level_tuple_assignment_of_expected_values_stays_in_the_caller():
    # `x, want = 2, 4` then `assert f(x) == want`: written in as `want = 4` alone is, where it was the sandbox's
    # global, returned by a program that computed nothing
    tests = "x, want = 2, 4\nassert f(x) == want\ny, want2 = 3, (6, 'b')\nassert f(y) == want2[0]\n"
    # a mutable value read twice (the program could change it in place) stays the sandbox's, as alone
    kept = "nums, target = [2, 7], 9\nassert g(nums, target) == 9\nassert nums == [2, 7]\n"
    cheat = "def f(x):\n    g = globals()\n    return g['want'] if x == 2 else g['want2'][0]"
    right = "def f(x):\n    return 2 * x"
    got = [v.reason for v in _verdicts([(blk(cheat), tests), (blk(right), tests),
                                        (blk("def g(n, t):\n    return sum(n)"), kept),
                                        (blk("def g(n, t):\n    n.append(0)\n    return 9"), kept)])]
    assert got == ["failed test 1", "passed 2/2", "passed 2/2", "failed test 2"]


def test_a_check_on_the_else_side_of_an_if_is_an_assert():
    # `if r == want: print('ok')` / `else: raise AssertionError` (or print and sys.exit(1)) held no assert: the
    # tests were refused ("no assert statements found"), though Python decides them
    tests = ("import sys\nif f(2) == 4:\n    pass\nelse:\n    raise AssertionError\nif f(3) == 6:\n    print('ok')\n"
             "else:\n    print('FAIL')\n    sys.exit(1)\nfor x, want in [(10, 20)]:\n    r = f(x)\n"
             "    if r == want:\n        print('Test passed')\n    else:\n        raise ValueError(r)\n")
    # the end of the run forged where the check would come: no report, no pass
    forge = "import os\ndef f(x):\n    os.write(3, b'{\"done\": true}\\n')\n    os._exit(0)"
    got = [v.reason for v in _verdicts([(blk("def f(x):\n    return 2 * x"), tests),
                                        (blk("def f(x):\n    return 2 * x if x < 5 else 0"), tests),
                                        (blk(forge), tests)])]
    assert got == ["passed 3/3", "failed test 3", "failed test 1"]


def test_an_elif_chain_ending_in_a_raise_is_not_an_assert_under_the_else():
    # `if r == 4: print('ok')` / `elif r == 5: print('close')` / `else: raise AssertionError`: the elif made an
    # assert `r == 5` under the first if's else, a test a right program returning 4 never reached (so failed)
    tests = ("assert f(1) == 2\nr = f(2)\nif r == 4:\n    print('ok')\nelif r == 5:\n    print('close')\n"
             "else:\n    raise AssertionError(r)\n")
    got = [v.reason for v in _verdicts([(blk("def f(x):\n    return 2 * x"), tests),
                                        (blk("def f(x):\n    return 2 * x + (x == 2)"), tests),
                                        (blk("def f(x):\n    return 2 * x + 2 * (x == 2)"), tests)])]
    assert got[:2] == ["passed 1/1", "passed 1/1"] and got[2] != "passed 1/1"


def test_a_print_that_raises_what_the_tests_expect_is_kept():
    # `with pytest.raises(KeyError): print(d['x'])` (or a try/except IndexError around a print): the print became
    # `pass`, nothing was raised, and a right program failed
    tests = [("import pytest\ndef test_a():\n    d = mk()\n    with pytest.raises(KeyError):\n        print(d['x'])\n"
              "    assert d['a'] == 1\n"),
             "d = mk()\ntry:\n    print(d['x'])\n    ok = False\nexcept KeyError:\n    ok = True\nassert ok\n"]
    right, wrong = blk("def mk():\n    return {'a': 1}"), blk("def mk():\n    return {'a': 1, 'x': 0}")
    got = [v.reason for v in _verdicts([(p, t) for t in tests for p in (right, wrong)])]
    assert got == ["passed 1/1", "failed test 1 (test_a)", "passed 1/1", "failed test 1"]


def test_a_table_of_lists_read_again_keeps_what_the_program_changed_in_place():
    # `assert all(f(x) == w for x, w in CASES)` then a loop checking the same items: a literal per read undid an
    # in-place sort of the program's, and a right one failed
    tests = ("CASES = [([3, 1, 2], [1, 2, 3]), ([2, 1], [1, 2])]\nassert all(f(x) == w for x, w in CASES)\n"
             "for x, w in CASES:\n    assert x == w\n")
    got = [v.reason for v in _verdicts([(blk("def f(xs):\n    xs.sort()\n    return xs"), tests),
                                        (blk("def f(xs):\n    return sorted(xs)"), tests)])]
    assert got == ["passed 2/2", "failed test 2"]


# EvalPlus's helper as HumanEval+ and MBPP+ tests hold it (its is_floats, then `assertion` in one of its forms)
_EP_FLOATS = ("def is_floats(x) -> bool:\n    # check if it is float; List[float]; Tuple[float]\n"
              "    if isinstance(x, float):\n        return True\n    if isinstance(x, (list, tuple)):\n"
              "        return all(isinstance(i, float) for i in x)\n    if isinstance(x, np.ndarray):\n"
              "        return x.dtype == np.float64 or x.dtype == np.float32\n    return False\n\n")
_EP_EXACT = ("def assertion(out, exp, atol):\n    exact_match = out == exp\n\n    if atol == 0 and is_floats(exp):\n"
             "        atol = 1e-6\n    if not exact_match and atol != 0:\n        {close}\n    else:\n"
             "        assert exact_match\n\n")
_EP_MBPP = ("def assertion(out, exp, atol):\n    if atol == 0 and is_floats(exp):\n        atol = 1e-6\n"
            "    if out != exp and atol != 0:\n        assert np.allclose(out, exp, rtol=1e-07, atol=atol)\n"
            "    else:\n        assert out == exp, f\"out: {out}, exp: {exp}\"\n\n")
_EP_CASES = "inputs = [[1], [3], [0.25], [5]]\nresults = [2, 6, 0.5, 10]\n"


def test_evalplus_tests_pass_a_right_program_and_decide_the_comparison_in_the_caller():
    # HumanEval+/MBPP+: `assertion(candidate(*inp), exp, 0)` over `zip(inputs, results)`, the helper's two asserts one
    # per branch of `if not exact_match and atol != 0:`. Each was a test that had to be reported: every program,
    # a right one too, failed the branch it never reached ("failed test 1"); and `out == exp` was the sandbox's,
    # with the program's own __eq__. Now each call is an assert the caller decides as EvalPlus does (floats
    # within atol 1e-6), its expected value written in from the table.
    loop = "for i, (inp, exp) in enumerate(zip(inputs, results)):\n"
    forms = {
        "humaneval+": ("import numpy as np\n\n" + _EP_FLOATS
                       + _EP_EXACT.replace("{close}", "np.testing.assert_allclose(out, exp, atol=atol)")
                       + "def check(candidate):\n" + "".join("    " + s for s in (_EP_CASES + loop).splitlines(True))
                       + "        assertion(candidate(*inp), exp, 0)\n\n\ncheck(double)\n"),
        "mbpp+": ("import numpy as np\nfrom math import inf\n\n" + _EP_FLOATS + _EP_MBPP + _EP_CASES + loop
                  + "    assertion(double(*inp), exp, 0)\n"),
    }
    near = "def double(x):\n    return 2 * x + (1e-9 if isinstance(x, float) else 0)"
    far = "def double(x):\n    return 2 * x + (1e-3 if isinstance(x, float) else 0)"
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        if 'exp' in f.f_locals:\n            return f.f_locals['exp']\n        f = f.f_back\n    return 0\n")
    always = "class A:\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n        return False\n" \
             "def double(x):\n    return A()\n"
    for name, tests in forms.items():
        got = [v.reason for v in _verdicts((blk(p), tests) for p in (DOUBLE, near, far, DOUBLE_WRONG, DOUBLE_CUT, peek,
                                                                       always))]
        assert got[:2] == ["passed 4/4"] * 2, (name, got)
        assert not any(r.startswith("passed") for r in got[2:]), (name, got)
    # an expected value a function of the tests computes (HumanEval+'s long outputs) is the sandbox's: the call runs
    # as written (sent here with the program's, 36 MB of outputs overflowed the report: "output limit exceeded")
    seq = "def {}(n):\n    return 'ab' * n + {!r}\n"
    tests = ("import numpy as np\n\n" + _EP_FLOATS + _EP_EXACT.replace("{close}", "np.testing.assert_allclose(out, exp, atol=atol)")
             + seq.format("ref_func", "") + "def check(candidate):\n    inputs = [[0], [3], [6000000], [6000001], [6000002]]\n"
             "    for i, inp in enumerate(inputs):\n        assertion(candidate(*inp), ref_func(*inp), 0)\ncheck(seq)\n")
    got = [v.reason for v in _verdicts([(blk(seq.format("seq", "")), tests), (blk(seq.format("seq", "c")), tests)])]
    assert got[0].startswith("passed") and not got[1].startswith("passed"), got


def _ep_unknown_form(close: str) -> str:
    """EvalPlus's top-level layout with its helper in a form _evalplus_asserts does not know (is_floats cut short),
    `close` its tolerance line: run as written in the sandbox."""
    return ("import numpy as np\ndef is_floats(x):\n    return isinstance(x, float)\n"
            + _EP_EXACT.replace("{close}", close)
            + _EP_CASES + "for i, (inp, exp) in enumerate(zip(inputs, results)):\n    assertion(double(*inp), exp, 0)\n")


def test_an_assert_in_each_branch_of_an_if_on_the_programs_value_needs_only_the_branch_taken():
    # EvalPlus's helper in a form _evalplus_asserts does not know (here its is_floats cut short) runs as written:
    # its asserts, one per branch of `if not exact_match and atol != 0:`, each had to be reported, so a right
    # program failed the branch it never took; an assert of one branch now passes unreached once the other ran
    helper = _ep_unknown_form("assert np.allclose(out, exp, rtol=1e-07, atol=atol)")
    plain = "r = double(2)\nif r > 0:\n    assert r == 4\nelse:\n    assert r == -4\n"
    near = "def double(x):\n    return 2 * x + (1e-9 if isinstance(x, float) else 0)"
    neg = "def double(x):\n    return -2 * x"
    forge = "import os\ndef double(x):\n    os.write(3, b'{\"done\": true}\\n')\n    os._exit(0)"
    got = [v.reason for v in _verdicts([(blk(DOUBLE), helper), (blk(near), helper), (blk(DOUBLE_WRONG), helper),
                                        (blk(DOUBLE), plain), (blk(neg), plain), (blk(DOUBLE_WRONG), plain),
                                        (blk(forge), plain)])]
    assert got == ["passed 2/2", "passed 2/2", "failed test 1", "passed 2/2", "passed 2/2", "failed test 2",
                   "failed test 1"]


def test_an_np_testing_assertion_the_sandbox_runs_whole_passes_when_it_returns():
    # `np.testing.assert_allclose(out, exp, atol=atol)` with a keyword the sandbox holds (EvalPlus's helper in a form
    # _evalplus_asserts does not know: here its is_floats cut short) ran whole there as `assert <its value>`: it
    # returns None when it holds, so every program, a right one too, failed the float cases ("failed test 1")
    tests = _ep_unknown_form("np.testing.assert_allclose(out, exp, rtol=1e-07, atol=atol)")
    near = "def double(x):\n    return 2 * x + (1e-9 if isinstance(x, float) else 0)"
    far = "def double(x):\n    return 2 * x + (1e-3 if isinstance(x, float) else 0)"
    got = [v.reason for v in _verdicts([(blk(p), tests) for p in (DOUBLE, near, far, DOUBLE_WRONG)])]
    assert got == ["passed 2/2", "passed 2/2", "failed test 1", "failed test 1"], got


def test_a_loop_variable_named_as_a_helpers_parameter_stays_in_the_caller():
    # `def check(out, want)` then `for x, want in CASES: check(double(x), want)`: the helper's own `want` counted as a
    # read of the loop's, so each copy assigned `want` first and a program returned it from its caller's frame
    # (EvalPlus's `exp` at the top level, with its helper in a form not recognised, alike)
    peek = ("import sys\ndef double(x):\n    f = sys._getframe(1)\n    while f is not None:\n"
            "        if 'want' in f.f_locals:\n            return f.f_locals['want']\n        f = f.f_back\n    return 0\n")
    forms = ["def check(out, want):\n    assert out == want\nCASES = [(1, 2), (3, 6)]\n"
             "for x, want in CASES:\n    check(double(x), want)\n",
             "def check(out, want):\n    if out != want:\n        assert out == want\n    else:\n        assert True\n"
             "for x, want in [(1, 2), (3, 6)]:\n    check(double(x), want)\n"]
    for tests in forms:
        assert _none_pass(tests, DOUBLE_WRONG, peek, passing=DOUBLE).correct, tests
    # a helper that reads the loop's variable itself (a global) still sees it as Python binds it
    tests = "def check(x):\n    assert double(x) == want\nfor x, want in [(1, 2), (3, 6)]:\n    check(x)\n"
    assert check_code(blk(DOUBLE), tests).correct


def test_checks_of_the_same_tests_plan_them_once(monkeypatch):
    # an RL step checks G completions against one item's tests: each check planned them again, ~1 s a check for
    # HumanEval+'s table of a few hundred cases (each written out, twice). Now a plan is kept per tests text.
    from ponder.verify import code

    made = []
    real = code._make_plan
    monkeypatch.setattr(code, "_make_plan", lambda t: made.append(t) or real(t))
    tests = "# test_checks_of_the_same_tests_plan_them_once\nfor x in [1, 2]:\n    assert f(x) == 2 * x\n"
    for tt in (tests, [tests, "assert f(3) == 6"]):
        for _ in range(3):
            assert check_code("no code block here", tt).reason == "no code block"
    assert made == [tests, [tests, "assert f(3) == 6"]]
    assert code._cached_plan(tests) is code._cached_plan(tests)
    for _ in range(2):  # bad tests are refused at every check, not kept
        with pytest.raises(PonderError):
            check_code("x", "# test_checks_of_the_same_tests_plan_them_once\nassert (")
    assert len(made) == 4
    stdio = [{"input": "1\n", "output": "2\n"}]  # (not kept: cheap to plan, and a dict can change)
    check_code("x", stdio)
    check_code("x", stdio)
    assert len(made) == 6
    # and the kept plan judges: a right program passes, a wrong one fails, one after the other
    assert [v.reason for v in _verdicts([(blk("def f(x):\n    return 2 * x"), tests),
                                        (blk("def f(x):\n    return x + 1"), tests),
                                        (blk("def f(x):\n    return 2 * x"), tests)])] == \
        ["passed 2/2", "failed test 2", "passed 2/2"]
