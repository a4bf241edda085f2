"""The command line: every command explains itself, errors are one line, --json is machine-readable."""

import json
import subprocess
import sys

import pytest

import ponder
from ponder.cli import build_parser, main

COMMANDS = ["generate", "chat", "info", "pretrain", "sft", "distill", "data", "grpo", "demo", "verify", "eval",
            "probe", "report"]


def run(*args, check=False):
    p = subprocess.run([sys.executable, "-m", "ponder.cli", *args], capture_output=True, text=True, timeout=120)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_every_command_has_help(capsys):
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(COMMANDS) <= set(sub.choices)
    for c in COMMANDS:
        with pytest.raises(SystemExit) as e:
            main([c, "--help"])
        assert e.value.code == 0
        assert len(capsys.readouterr().out) > 200, c


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, tiny_random):
    path = tmp_path_factory.mktemp("cli") / "ck"
    ponder.save(*tiny_random, path)
    return path


def test_generate_and_info_json(ckpt, capsys):
    assert main(["generate", "Problem: 1 + 2", "--model", str(ckpt), "-n", "2", "--temperature", "1",
                 "--max-new-tokens", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["samples"]) == 2 and all(s["tokens"] <= 5 for s in out["samples"])
    assert main(["info", str(ckpt), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["architecture"] == "qwen3" and info["parameters"] > 0


def test_errors_are_one_line_and_debug_shows_traceback(tmp_path):
    p = run("generate", "hi", "--model", str(tmp_path / "missing"))
    assert p.returncode == 2 and p.stderr.strip().count("\n") == 0
    assert "no such checkpoint directory" in p.stderr
    p = run("--debug", "generate", "hi", "--model", str(tmp_path / "missing"))
    assert p.returncode != 0 and "Traceback" in p.stderr


@pytest.mark.parametrize("args, msg", [
    (["grpo", "--preset", "ppo2", "--explain"], "unknown preset"),
    (["grpo", "--set", "clip=weird", "--explain"], "unknown clip"),
    (["data", "export", "algebra", "-o", "x.jsonl"], "unknown task"),
    (["data", "export", "arith", "--n", "0", "-o", "x.jsonl"], "n must be a positive integer"),
])
def test_bad_input_messages(args, msg, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert msg in err and err.strip().count("\n") == 0


def test_os_errors_are_one_line_naming_the_file(tmp_path, capsys):
    """A write the OS refuses (here: a directory path through a regular file) is one line, not a traceback."""
    (tmp_path / "plain").write_text("")
    assert main(["data", "export", "arith", "--n", "2", "-o", str(tmp_path / "plain" / "x.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ponder data: error: ") and str(tmp_path / "plain") in err and err.strip().count("\n") == 0
    with pytest.raises(OSError):
        main(["--debug", "data", "export", "arith", "--n", "2", "-o", str(tmp_path / "plain" / "x.jsonl")])


def test_explain_prints_formula(capsys):
    assert main(["grpo", "--preset", "dapo", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "clip-higher" in out and "DAPO" in out


def test_data_export_and_verify(tmp_path, capsys):
    out = tmp_path / "t.jsonl"
    assert main(["data", "export", "arith", "--n", "5", "-o", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 5 and all(r["split"] == "test" for r in rows)
    comp = tmp_path / "c.jsonl"
    comp.write_text("".join(json.dumps({"completion": f"so \\boxed{{{r['answer']}}}", "gold": r["answer"]}) + "\n"
                            for r in rows))
    capsys.readouterr()
    assert main(["verify", "math", str(comp), "-o", str(tmp_path / "v.jsonl"), "--json", "--workers", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["correct"] == 5
    comp.write_text('{"completion": "1", "gold": "1"}\n{broken\n')
    assert main(["verify", "math", str(comp)]) == 2
    assert f"{comp}:2" in capsys.readouterr().err


def test_chat_reads_stdin_and_answers(ckpt):
    p = subprocess.run([sys.executable, "-m", "ponder.cli", "chat", "--model", str(ckpt), "--max-new-tokens", "6",
                        "--temperature", "0"], input="hello\n\n", capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "model> " in p.stdout


def test_pretrain_resumed_from_the_command_line_equals_uninterrupted(tmp_path):
    """Metrics of a run stopped and resumed by `ponder pretrain --resume` equal the straight run's, held-out
    loss included (the held-out documents are rebuilt on resume, and none is also a training document)."""
    small = ["--docs", "300", "--hidden", "32", "--layers", "1", "--seq-len", "64", "--batch-size", "4", "--quiet"]
    main(["pretrain", "--out", str(tmp_path / "a"), "--steps", "6", *small])
    main(["pretrain", "--out", str(tmp_path / "b"), "--steps", "3", *small])
    main(["pretrain", "--out", str(tmp_path / "b"), "--resume", "--steps", "6", "--quiet"])
    a, b = ([json.loads(x) for x in (tmp_path / r / "metrics.jsonl").read_text().splitlines()] for r in "ab")
    assert [x["step"] for x in b] == [x["step"] for x in a] and a[-1].get("heldout_loss") is not None
    assert [x["loss"] for x in a] == [x["loss"] for x in b]
    # (the stopped run also evaluated at its own last step, 3)
    assert [x.get("heldout_loss") for x in a if "heldout_loss" in x] == [
        y.get("heldout_loss") for x, y in zip(a, b) if "heldout_loss" in x]
