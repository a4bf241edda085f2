"""The command line: every command explains itself, errors are one line, --json is machine-readable."""

import argparse
import copy
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import ponder
from ponder.cli import build_parser, main

COMMANDS = ["generate", "chat", "info", "pretrain", "sft", "distill", "data", "grpo", "demo", "verify", "eval",
            "probe", "report"]


def run(*args, check=False):
    p = subprocess.run([sys.executable, "-m", "ponder.cli", *args], capture_output=True, text=True, timeout=300)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_every_command_has_help(capsys):
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(COMMANDS) <= set(sub.choices)
    for c in COMMANDS:
        assert main([c, "--help"]) == 0
        assert len(capsys.readouterr().out) > 200, c


def test_version_names_the_package_version(capsys):
    assert main(["--version"]) == 0 and capsys.readouterr().out.strip() == f"ponder {ponder.__version__}"


def _options(parser, name="ponder"):
    """(command, parser, action) for every option of every parser, nested subcommands (data export) included."""
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for sub_name, sub in a.choices.items():
                yield from _options(sub, f"{name} {sub_name}")
        elif a.option_strings and a.dest != "help":
            yield name, parser, a


def test_every_option_has_help_and_shows_its_default():
    """Each option says what it does; one with a default worth showing (not None or False) shows it once."""
    opts = list(_options(build_parser()))
    assert len(opts) > 150 and any(name == "ponder data export" for name, _, _ in opts)
    assert not [f"{name} {a.option_strings[0]}" for name, _, a in opts if not (a.help or "").strip()]
    for name, parser, a in opts:
        shown = parser._get_formatter()._expand_help(a)
        assert shown.lower().count("(default") <= 1, (name, a.option_strings, shown)
        if a.default is not None and a.default is not False and a.default != argparse.SUPPRESS:  # (--version)
            # (grpo --nproc's help named another default, its timeout's, and so showed none of its own)
            assert "(default" in shown and str(a.default) in shown, (name, a.option_strings, shown)


def test_every_option_is_accepted_as_the_errors_name_it():
    """Errors name an option by its setting, as --<dest> (--resume's "drop --k"): each must be an option the
    command takes (distill's -k had no --k, so its resume refusal named an option that does not exist)."""
    opts = list(_options(build_parser()))
    assert not [f"{name} --{a.dest.replace('_', '-')}" for name, _, a in opts
                if f"--{a.dest.replace('_', '-')}" not in a.option_strings]


def _help(capsys, *command):
    assert main([*command, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())  # (argparse wraps help to the terminal's width)


def test_generate_help_says_what_the_json_token_count_and_logprob_sum_are(capsys):
    """--json's "tokens" and "logprob_sum" were named only: a user re-deriving them from the text (which a stop
    string is cut from) or from the model's raw log-probs (they are of the tempered distribution) got other numbers."""
    json_help = _help(capsys, "generate").split("--json ", 1)[1].split(" --quiet", 1)[0]
    assert "the EOS or the stop string's cut from the text included" in json_help
    assert "under the distribution scaled by --temperature (before --top-k, --top-p and --min-p cut it" in json_help


def test_help_ends_with_the_default(capsys):
    grpo = _help(capsys, "grpo")
    assert grpo.split("--group-size GROUP_SIZE ", 1)[1].split(" --", 1)[0].endswith("(default: 8)")
    assert "AdamW" in grpo.split("--lr LR ", 1)[1].split(" --", 1)[0]
    assert grpo.split("--out OUT, -o OUT ", 1)[1].split(" --", 1)[0].endswith("(default: runs/grpo)")
    export = _help(capsys, "data", "export")
    assert export.split("--n N ", 1)[1].split(" --", 1)[0].endswith("(default: 100)")
    for command in ([c] for c in COMMANDS if c != "data"):
        out = _help(capsys, *command)
        assert "(default: None)" not in out and "(default: False)" not in out, command


def test_chat_template_kwargs_help_mentions_resume_only_where_the_command_has_it():
    """generate, chat and probe said "--resume reuses them", an option none of them has."""
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name, sub in commands.items():
        helps = {a.dest: a.help for a in sub._actions}
        if "chat_template_kwargs" in helps:
            assert ("--resume" in helps["chat_template_kwargs"]) == ("resume" in helps), name


def test_pretrain_help_states_the_tiny_recipe():
    """pretrain's options default to None (the recipe's value); their help names the recipe's values."""
    from ponder.train import TINY_CORPUS, TINY_MODEL, TINY_TRAIN

    pt = next(a for a in build_parser()._actions if a.dest == "command").choices["pretrain"]
    helps = {a.dest: a.help for a in pt._actions}
    expect = {"steps": TINY_TRAIN.steps, "docs": TINY_CORPUS["n_docs"], "batch_size": TINY_TRAIN.batch_size,
              "seq_len": TINY_TRAIN.seq_len, "lr": TINY_TRAIN.lr, "hidden": TINY_MODEL.hidden_size,
              "layers": TINY_MODEL.num_hidden_layers, "seed": TINY_TRAIN.seed, "threads": TINY_TRAIN.threads,
              "terse_share": ",".join(f"{k}:{v}" for k, v in TINY_CORPUS["terse_share"].items()),
              "save_every": TINY_TRAIN.save_every, "eval_every": TINY_TRAIN.eval_every}
    for dest, value in expect.items():
        assert f"(default: the tiny recipe's {value}" in helps[dest], dest
    assert TINY_TRAIN.seed == TINY_CORPUS["seed"]
    assert f"warmup over the recipe's {TINY_TRAIN.warmup} steps" in helps["lr"]
    assert f"decay to {TINY_TRAIN.min_lr_ratio}x" in helps["lr"]
    assert TINY_MODEL.intermediate_size == 3 * TINY_MODEL.hidden_size
    assert TINY_MODEL.num_attention_heads == TINY_MODEL.hidden_size // 32


def test_pretrain_help_states_what_hidden_derives_and_a_bad_hidden_is_refused(tmp_path, capsys):
    """--hidden's help said "heads = hidden/32" while the code took max(1, hidden // 32) heads and half as many
    key/value heads: --hidden 16 trained one 32-dim head wider than the hidden size, unwarned. The help states
    each derived size, which is what is built, and a hidden size they do not fit is refused before anything."""
    small = ["--steps", "1", "--docs", "300", "--layers", "1", "--seq-len", "64", "--batch-size", "4", "--quiet"]
    for h, msg in (("16", "--hidden 16: must be a multiple of 32"), ("160", "--hidden 160: its 5 attention heads")):
        assert main(["pretrain", "--out", str(tmp_path / h), "--hidden", h, *small]) == 2
        err = capsys.readouterr().err
        assert msg in err and err.strip().count("\n") == 0
        assert not (tmp_path / h).exists()
    from ponder.train import tiny_model_config

    pt = next(a for a in build_parser()._actions if a.dest == "command").choices["pretrain"]
    helps = {a.dest: a.help for a in pt._actions}
    assert ("H/32 attention heads of head_dim 32, max(1, H/64) key/value heads, MLP intermediate size 3H"
            in helps["hidden"]) and "a multiple of 32" in helps["hidden"]
    for h in (32, 64, 96, 128, 256):
        mc = tiny_model_config(h)
        assert (mc.num_attention_heads, mc.head_dim, mc.num_key_value_heads, mc.intermediate_size) == (
            h // 32, 32, max(1, h // 64), 3 * h)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, tiny_random):
    path = tmp_path_factory.mktemp("cli") / "ck"
    ponder.save(*tiny_random, path)
    return path


def test_generate_names_the_prompt_of_each_completion_when_given_several(ckpt, capsys):
    """Several prompts (with --completion-only, or -n > 1) printed completions, or "--- sample 1/2" headers, that
    said nothing of which prompt each answered; one prompt at n=1 still prints its text alone."""
    args = ["generate", "1 +", "2 +", "--model", str(ckpt), "--max-new-tokens", "3", "--completion-only"]
    assert main(args) == 0
    heads = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("--- ")]
    assert [h.split(" (")[0] for h in heads] == ["--- prompt 1/2", "--- prompt 2/2"]
    assert main([*args, "-n", "2", "--temperature", "1"]) == 0
    heads = [ln.split(" (")[0] for ln in capsys.readouterr().out.splitlines() if ln.startswith("--- ")]
    assert heads == [f"--- prompt {j}/2, sample {i}/2" for j in (1, 2) for i in (1, 2)]
    assert main(["generate", "1 +", "--model", str(ckpt), "--max-new-tokens", "3"]) == 0
    assert "---" not in capsys.readouterr().out


def test_generate_says_on_stderr_when_its_one_completion_was_cut(ckpt, capsys):
    """One prompt at n=1 prints its text alone, with no header saying its finish reason: a completion cut by
    --max-new-tokens mid-sentence read as the model's whole answer (chat says so on stderr). A note says it now,
    --quiet silences it, and stdout is unchanged."""
    args = ["generate", "Problem: 1 + 2", "--model", str(ckpt), "--max-new-tokens", "3", "--seed", "1"]
    assert main([*args, "--json"]) == 0
    (s,) = json.loads(capsys.readouterr().out)["results"][0]["samples"]
    assert s["finish_reason"] == "length"  # (random weights: no EOS in 3 tokens)
    assert main(args) == 0
    loud = capsys.readouterr()
    assert loud.err == "(this completion was cut at 3 tokens: --max-new-tokens 3)\n"
    assert main([*args, "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out == loud.out


def test_generate_and_info_json(ckpt, capsys):
    assert main(["generate", "Problem: 1 + 2", "--model", str(ckpt), "-n", "2", "--temperature", "1",
                 "--max-new-tokens", "5", "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    # one shape whatever the number of prompts (one prompt printed its row bare): a row per prompt, in order
    assert set(one) == {"results"} and [r["prompt"] for r in one["results"]] == ["Problem: 1 + 2"]
    samples = one["results"][0]["samples"]
    assert len(samples) == 2 and all(s["tokens"] <= 5 for s in samples)
    assert main(["generate", "1 +", "2 +", "--model", str(ckpt), "--max-new-tokens", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"results"} and [r["prompt"] for r in out["results"]] == ["1 +", "2 +"]
    assert set(out["results"][0]) == set(one["results"][0]) == {"prompt", "samples"}
    assert main(["info", str(ckpt), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["architecture"] == "qwen3" and info["parameters"] > 0



def _sampling_checkpoint(path, tiny_random, **gen):
    """A checkpoint whose generation_config.json carries its authors' sampling settings (as Qwen3's does)."""
    ck = ponder.save(*tiny_random, path)
    f = ck / "generation_config.json"
    f.write_text(json.dumps({**json.loads(f.read_text()), **gen}))
    return ck


def test_arguments_after_double_dash_are_prompts_not_flags(tmp_path, tiny_random, capsys):
    """After --, every token is a prompt: "--debug" there was dropped (missing prompt) and turned --debug on, and a
    prompt "--top-k" counted as the flag given, so the checkpoint's own top_k went unused without a word."""
    assert main(["generate", "--max-new-tokens", "1", "--json", "--", "--debug"]) == 0
    assert [r["prompt"] for r in json.loads(capsys.readouterr().out)["results"]] == ["--debug"]
    ck = _sampling_checkpoint(tmp_path / "ck", tiny_random, do_sample=True, temperature=1.3, top_k=40)
    assert main(["generate", "--model", str(ck), "--max-new-tokens", "1", "--json", "--", "--top-k"]) == 0
    assert "temperature 1.3, top_k 40" in capsys.readouterr().err


def test_generate_samples_with_the_checkpoints_generation_config(tmp_path, tiny_random, ckpt, capsys):
    """With no --temperature/--top-p/--top-k/--min-p, `generate` decoded greedily whatever the checkpoint's
    generation_config.json said (Qwen3's thinking then repeats); it samples with the file's settings now, as
    transformers and vLLM do, says so on stderr, and a flag wins for its own setting only."""
    ck = _sampling_checkpoint(tmp_path / "ck", tiny_random, do_sample=True, temperature=1.3, top_k=40)

    def gen(model, *flags):
        assert main(["generate", "Problem: 1 + 2", "--model", str(model), "--max-new-tokens", "12", "--seed", "3",
                     "--json", *flags]) == 0
        std = capsys.readouterr()
        return json.loads(std.out)["results"][0]["samples"], std.err

    got, note = gen(ck, "-n", "3")
    assert got == gen(ckpt, "-n", "3", "--temperature", "1.3", "--top-k", "40")[0]
    assert note == f"sampling settings from {ck / 'generation_config.json'}: temperature 1.3, top_k 40; pass " \
                   "--temperature 0 for greedy\n"
    greedy = gen(ckpt)[0]
    assert len({s["text"] for s in got}) > 1 and gen(ck, "--temperature", "0") == (greedy, "")
    assert gen(ck, "--top-k", "5")[0] == gen(ckpt, "--temperature", "1.3", "--top-k", "5")[0]
    for command in ("generate", "chat"):
        shown = _help(capsys, command)
        for opt in ("--temperature TEMPERATURE", "--top-p TOP_P", "--top-k TOP_K", "--min-p MIN_P"):
            assert "checkpoint's generation_config.json" in shown.split(opt + " ", 1)[1].split(" --", 1)[0], opt


def test_eval_names_the_sampling_settings_a_checkpoint_recommends(tmp_path, tiny_random, capsys):
    """eval samples at its own settings (recorded in config.json), not at a checkpoint's generation_config.json's
    as generate does: a Qwen3-like checkpoint asking for temperature 0.6 and top_p 0.95 was evaluated at 1.0 with
    nothing said. A note names them when eval samples; none when its settings are the file's, or when greedy."""
    ck = _sampling_checkpoint(tmp_path / "ck", tiny_random, do_sample=True, temperature=0.6, top_p=0.95, top_k=20)
    run = ["eval", "--model", str(ck), "--task", "arith", "--limit", "2", "--max-new-tokens", "2"]
    assert main([*run, "-n", "2", "--k", "1"]) == 0
    note = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("note:")]
    assert note == [f"note: {ck / 'generation_config.json'} recommends temperature 0.6, top_p 0.95, top_k 20; eval "
                    "samples at temperature 1, top_p 1, top_k 0 (off) (recorded in config.json); --temperature, "
                    "--top-p, --top-k and --min-p set them"]
    recommended = ["--temperature", "0.6", "--top-p", "0.95"]
    # (top_k had no eval flag: the note was said whatever was given)
    for flags, said in ((["--method", "greedy"], False), (["-n", "2", *recommended], True),
                        (["-n", "2", *recommended, "--top-k", "20"], False)):
        assert main([*run, *flags]) == 0
        assert ("recommends" in capsys.readouterr().err) == said, flags
    assert main([*run, "-n", "2", "--min-p", "0.05"]) == 0  # (eval's own given ones are said too)
    assert "eval samples at temperature 1, top_p 1, top_k 0 (off), min_p 0.05 (recorded" in capsys.readouterr().err
    shown = _help(capsys, "eval")  # (the policy, said where each setting is: not applied, named in the note)
    for opt, nxt in (("--temperature TEMPERATURE", "--top-p"), ("--top-p TOP_P", "--top-k"),
                     ("--top-k TOP_K", "--min-p"), ("--min-p MIN_P", "--seed")):
        assert "not taken from the checkpoint's generation_config.json" in shown.split(opt + " ", 1)[1].split(
            f" {nxt} ", 1)[0], opt
    # (a sweep of budget forcing alone decodes greedily: its note said it sampled at temperature 0.8)
    assert main([*run[:-2], "--sweep", "--methods", "budget_forcing", "--budgets", "2", "--answer-tokens", "2"]) == 0
    assert "recommends" not in capsys.readouterr().err
    assert main([*run, "--sweep", "--methods", "majority", "--ns", "1"]) == 0
    assert "eval samples at temperature 0.8, top_p 1, top_k 0 (off)" in capsys.readouterr().err
    assert main([*run, "-n", "2", "--quiet"]) == 0 and capsys.readouterr().err == ""
    same = _sampling_checkpoint(tmp_path / "same", tiny_random, do_sample=True, temperature=0.6, top_p=0.95)
    assert main([*run[:2], str(same), *run[3:], "-n", "2", "--temperature", "0.6", "--top-p", "0.95"]) == 0
    assert "recommends" not in capsys.readouterr().err
    # a checkpoint that does not load says that alone: the note came first, the error second
    (ck / "tokenizer.json").unlink()
    assert main([*run, "-n", "2"]) == 2
    assert capsys.readouterr().err == f"ponder eval: error: {ck}: no tokenizer.json\n"


def test_generate_says_which_generation_config_settings_it_does_not_apply(tmp_path, tiny_random, ckpt, capsys):
    """A generation_config.json's repetition_penalty (Qwen2.5-Instruct's 1.05) or no_repeat_ngram_size, which
    transformers' generate() applies (greedy too) and Ponder has not, was dropped silently beside the note listing
    the settings taken: a user comparing with transformers read it as the whole file. Named on stderr now; a
    neutral value (1.0, 0) says nothing, and the samples are those of the settings taken."""
    ck = _sampling_checkpoint(tmp_path / "ck", tiny_random, do_sample=True, temperature=1.3, top_k=40,
                              repetition_penalty=1.05, no_repeat_ngram_size=3, typical_p=1.0)
    flags = ["--max-new-tokens", "6", "--seed", "3", "--json"]
    assert main(["generate", "Problem: 1 + 2", "--model", str(ck), *flags]) == 0
    got = capsys.readouterr()
    f = ck / "generation_config.json"
    assert got.err.splitlines() == [
        f"sampling settings from {f}: temperature 1.3, top_k 40; pass --temperature 0 for greedy",
        f"not applied from {f} (transformers' generate() applies them; Ponder's sampling has no such setting): "
        "repetition_penalty 1.05, no_repeat_ngram_size 3"]
    assert main(["generate", "Problem: 1 + 2", "--model", str(ckpt), *flags, "--temperature", "1.3", "--top-k",
                 "40"]) == 0
    assert capsys.readouterr().out == got.out
    neutral = _sampling_checkpoint(tmp_path / "n", tiny_random, repetition_penalty=1.0, no_repeat_ngram_size=0)
    assert main(["generate", "Problem: 1 + 2", "--model", str(neutral), *flags]) == 0
    assert capsys.readouterr().err == ""


def test_generate_quiet_says_no_notes_and_samples_the_same(tmp_path, tiny_random, capsys):
    """`generate` alone of the non-interactive commands refused --quiet (a script passing it everywhere failed);
    it silences the notes on stderr about the checkpoint's sampling settings, and the samples are unchanged."""
    ck = _sampling_checkpoint(tmp_path / "ck", tiny_random, do_sample=True, temperature=1.3, repetition_penalty=1.05)
    args = ["generate", "Problem: 1 + 2", "--model", str(ck), "--max-new-tokens", "6", "--seed", "3"]
    assert main(args) == 0
    loud = capsys.readouterr()
    assert main([*args, "--quiet"]) == 0
    quiet = capsys.readouterr()
    notes = [x for x in loud.err.splitlines() if "was cut at 6 tokens" not in x]  # (random weights: 6 tokens)
    assert len(notes) == 2 and quiet.err == "" and quiet.out == loud.out


def test_generate_shows_a_progress_bar_on_a_terminal_only(monkeypatch, capsys):
    """README: long work shows a progress bar on stderr; generate showed none. On a terminal it does (not with
    --quiet); piped, its stderr stays as it was, and the samples are the same either way."""
    args = ["generate", "Problem: 1 + 2", "Problem: 3 + 4", "--max-new-tokens", "6"]
    assert main(args) == 0
    piped = capsys.readouterr()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(args) == 0
    tty = capsys.readouterr()
    assert main([*args, "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert piped.err == "" and "generate" in tty.err and "sample" in tty.err and quiet.err == ""
    assert piped.out == tty.out == quiet.out


def test_a_progress_bar_written_to_a_file_is_redrawn_rarely_and_ends_at_its_count(tmp_path, monkeypatch):
    """Off a terminal (CI logs, nohup, `2> log`) tqdm redrew every 0.1 s, each redraw a "\r" and a line more in
    the file: thousands in one line of a log. Now a bar there shows its start and its end (a redraw at most every
    30 s between), and on a terminal it is as it was."""
    import time

    from ponder.progress import LOG_INTERVAL, progress_bar

    log = tmp_path / "stderr.txt"
    with open(log, "w", encoding="utf-8") as f:
        monkeypatch.setattr(sys, "stderr", f)
        assert main(["data", "export", "arith", "--split", "test", "--n", "300", "-o", str(tmp_path / "a.jsonl")]) == 0
        bar = progress_bar(total=20, desc="slow", unit="step")
        for _ in range(20):  # 0.4 s: tqdm's default would have redrawn about 4 times
            time.sleep(0.02)
            bar.update(1)
        bar.close()
        assert bar.mininterval == LOG_INTERVAL
    tty = io.StringIO()
    tty.isatty = lambda: True
    with progress_bar(total=1, file=tty) as shown:
        assert shown.mininterval == 0.1  # (tqdm's own)
    text = log.read_text(encoding="utf-8")
    export, slow = text.split("slow", 1)
    assert export.count("\r") <= 3 and "300/300" in export
    assert slow.count("\r") <= 2 and "20/20" in slow and text.endswith("\n")


def test_tiny_generate_and_chat_are_greedy_and_silent_as_before(monkeypatch, capsys):
    """The built-in model's generation_config.json has only EOS ids: its output stays the greedy one (chat's
    temperature 0.7) and nothing is printed about sampling settings."""
    flags = ["--max-new-tokens", "6"]
    assert main(["generate", "Problem: 1 + 2", *flags]) == 0
    plain = capsys.readouterr()
    assert main(["generate", "Problem: 1 + 2", *flags, "--temperature", "0", "--top-p", "1", "--top-k", "0",
                 "--min-p", "0"]) == 0
    assert capsys.readouterr() == plain and plain.err in ("", "(this completion was cut at 6 tokens: "
                                                          "--max-new-tokens 6)\n")
    outs = []
    for extra in ([], ["--temperature", "0.7", "--top-p", "1", "--top-k", "0", "--min-p", "0"]):
        monkeypatch.setattr("sys.stdin", io.StringIO("Problem: 1 + 2 = ?\n\n"))
        assert main(["chat", "--seed", "1", *flags, *extra]) in (0, None)
        outs.append(capsys.readouterr())
    assert outs[0] == outs[1] and "sampling settings" not in outs[0].err


def test_chat_samples_with_the_checkpoints_generation_config(tmp_path, tiny_random, ckpt, monkeypatch, capsys):
    ck = _sampling_checkpoint(tmp_path / "ck", tiny_random, do_sample=True, temperature=1.3, top_p=0.9)

    def reply(model, *flags):
        monkeypatch.setattr("sys.stdin", io.StringIO("Problem: 1 + 2 = ?\n\n"))
        assert main(["chat", "--model", str(model), "--max-new-tokens", "12", "--seed", "4", *flags]) in (0, None)
        std = capsys.readouterr()
        return std.out, "sampling settings from" in std.err

    assert reply(ck) == (reply(ckpt, "--temperature", "1.3", "--top-p", "0.9")[0], True)
    assert reply(ck, "--temperature", "0") == (reply(ckpt, "--temperature", "0")[0], False)


def test_generate_names_a_bad_sampling_setting_in_generation_config(tmp_path, tiny_random, capsys):
    ck = _sampling_checkpoint(tmp_path / "ck", tiny_random, do_sample=True, top_p=1.5)
    assert main(["generate", "1 +", "--model", str(ck)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(ck / "generation_config.json") in err and "top_p" in err and "1.5" in err
    assert main(["generate", "1 +", "--model", str(ck), "--top-p", "0.5", "--max-new-tokens", "2"]) == 0


def test_info_reports_the_checkpoints_own_dtype(tmp_path, tiny_random, capsys):
    """`ponder info` on a bf16 checkpoint said float32 (the dtype it had loaded the weights in on the CPU, at
    twice the checkpoint's memory); --dtype still loads and reports the dtype asked for."""
    model, tok = tiny_random
    ponder.save(copy.deepcopy(model).to(torch.bfloat16), tok, tmp_path / "bf16")
    assert main(["info", str(tmp_path / "bf16"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dtype"] == "bfloat16"
    assert main(["info", str(tmp_path / "bf16"), "--json", "--dtype", "float32"]) == 0
    assert json.loads(capsys.readouterr().out)["dtype"] == "float32"
    # a dtype name beyond the six short ones ("half": transformers loads it as float16) said float32 too
    cfg_f = tmp_path / "bf16" / "config.json"
    cfg_f.write_text(json.dumps({**json.loads(cfg_f.read_text()), "torch_dtype": "half", "dtype": "half"}))
    assert main(["info", str(tmp_path / "bf16"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dtype"] == "float16"


def test_info_takes_the_checkpoint_as_model_too(tmp_path, tiny_random, capsys):
    """Every other command names its checkpoint with --model/-m; `ponder info --model X` was refused as an
    unrecognized argument. Both spellings now work; both at once is refused in one line."""
    model, tok = tiny_random
    ponder.save(model, tok, tmp_path / "ck")
    for argv in (["info", str(tmp_path / "ck")], ["info", "--model", str(tmp_path / "ck")], ["info", "-m", str(tmp_path / "ck")]):
        assert main([*argv, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["path"] == str((tmp_path / "ck").resolve())
    assert main(["info", "--json"]) == 0 and json.loads(capsys.readouterr().out)["parameters"] == 853376  # (tiny)
    assert main(["info", str(tmp_path / "ck"), "--model", "tiny"]) == 2
    err = capsys.readouterr().err
    assert "--model tiny: the checkpoint is already given as" in err and err.count("\n") == 1

def test_errors_are_one_line_and_debug_shows_traceback(tmp_path, capsys):
    assert main(["generate", "hi", "--model", str(tmp_path / "missing")]) == 2  # (in-process: --debug's below runs
    err = capsys.readouterr().err  # the command as a process, its traceback printed by the interpreter)
    assert err.strip().count("\n") == 0 and "no such checkpoint directory" in err
    p = run("--debug", "generate", "hi", "--model", str(tmp_path / "missing"))
    assert p.returncode != 0 and "Traceback" in p.stderr


@pytest.mark.parametrize("args, msg", [
    (["grpo", "--preset", "ppo2", "--explain"], "unknown preset"),
    (["grpo", "--set", "clip=weird", "--explain"], "unknown clip"),
    (["data", "export", "algebra", "-o", "x.jsonl"], "unknown task"),
    (["data", "export", "arith", "--n", "0", "-o", "x.jsonl"], "argument --n: must be a positive integer, got 0"),
    (["grpo", "--steps", "0", "--explain"], "argument --steps: must be a positive integer, got 0"),
    (["sft", "--data", "x.jsonl", "--lr", "nan"], "argument --lr: must be a finite number, got nan"),
    (["generate", "hi", "--seed", "99999999999999999999"], "argument --seed: must be below 2**32"),
    (["generate", "hi", "-n", "3"], "-n 3 at --temperature 0 (greedy, the default) gives 3 identical samples"),
    (["distill", "--teacher", "missing", "--temperature", "0", "-k", "3", "--out", "r"],
     "-k 3 at temperature 0 (greedy) gives 3 identical teacher samples"),
    (["eval", "--votes", "0"], "argument --votes: must be a positive integer, got 0"),
    (["report", "r", "--max-samples", "-1"], "argument --max-samples: must be an integer >= 0, got -1"),
    (["grpo", "--nproc", "0"], "argument --nproc: must be a positive integer, got 0"),
    (["eval", "--out", ""], "--out: empty path"),
    # an empty --data ("$DATA" unset) ran on the default task, arith, silently; an empty --eval-data was none
    (["eval", "--data", ""], "--data: empty path"),
    (["grpo", "--data", "", "--explain"], "--data: empty path"),
    # (--resume "$RUN", unset, was no --resume: --explain explained the default preset, a run started afresh)
    (["grpo", "--resume", "", "--explain"], "--resume: empty path"),
    (["grpo", "--data", "d.jsonl", "--eval-data", ""], "--eval-data: empty path"),
    (["distill", "--teacher", "t", "--data", "", "--out", "r"], "--data: empty path"),
    (["probe", "diversity", "--data", ""], "--data: empty path"),
    (["probe", "contamination", "--train-file", ""], "--train-file: empty path"),
    (["sft", "--data", "d.jsonl", "--val-data", "", "--out", "r"], "--val-data: empty path"),
    (["generate", "\udcff"], "error: prompt: not valid UTF-8 text"),
    (["grpo", "--resume", "r", "--lr", "1", "--model", "m"], "drop --model, --lr"),
    (["pretrain", "--out", "r", "--resume", "--hidden", "64"], "drop --hidden"),
    # --vocab out of range was named vocab_size (the library's keyword), and a word "invalid int value"
    (["pretrain", "--out", "r", "--vocab", "100"],
     "argument --vocab: must be at least 261 (256 bytes and 5 special tokens), got 100"),
    (["pretrain", "--out", "r", "--vocab", "9999999"], "argument --vocab: must be at most 1,048,576 (2**20), got"),
    (["pretrain", "--out", "r", "--vocab", "x"], "argument --vocab: expected an integer, got 'x'"),
    # a kept setting given at its default value is still given (it used to pass, and be ignored)
    (["grpo", "--out", "r", "--resume", "--group-size", "8", "--model", "tiny"], "drop --model, --group-size"),
    (["grpo", "--out", "r", "--resume", "--group-s=8"], "drop --group-size"),
    (["grpo", "--eval-data", "e.jsonl", "--steps", "1"], "eval_data (--eval-data) needs --data"),
    # settings that would be ignored (and recorded as if used)
    (["eval", "--method", "greedy", "--judge-model", "tiny"], "--judge-model is used only by --scorer judge"),
    (["eval", "--method", "effort", "--max-new-tokens", "999"], "--max-new-tokens is not used by --method effort"),
    # --budget replaces --max-new-tokens as budget forcing's cap: a given --max-new-tokens 16 capped nothing
    (["eval", "--method", "budget_forcing", "--budget", "30", "--max-new-tokens", "16"],
     "--max-new-tokens is not used by --method budget_forcing with --budget"),
    # a judge reward without a judge: the library's message named a Python call
    (["eval", "--reward", "math+0.5*judge"], "--reward math+0.5*judge: the judge verifier needs a model to score "
                                             "with: give --judge-model CHECKPOINT"),
    (["eval", "--sweep", "--reward", "judge"], "--reward judge: the judge verifier needs a model to score with: "
                                               "--sweep takes none"),
    (["grpo", "--steps", "1", "--reward", "math+0.1*judge"],
     "--reward math+0.1*judge: the judge verifier needs a model to score with, and grpo takes none"),
    (["eval", "--method", "budget", "--budget", "30", "--max-new-tokens", "16"],  # (its alias: it capped nothing)
     "--max-new-tokens is not used by --method budget_forcing with --budget"),
    (["eval", "--sweep", "--methods", "oracle", "--budgets", "4", "--waits", "3"],
     "--budgets, --waits: not used by --methods oracle"),
    (["eval", "--sweep", "--methods", "budget_forcing", "--ns", "1,2"], "--ns: not used by --methods budget_forcing"),
    # a mistyped method or level was blamed on an option it does not use ("--max-new-tokens: not used by
    # --methods majorty"), after every model had loaded
    (["eval", "--sweep", "--methods", "majorty", "--max-new-tokens", "8", "-m", "no/such/model"],
     "--methods: unknown method 'majorty' (parallel: majority,"),
    (["eval", "--sweep", "--methods", "majority,budget_forcng", "--budgets", "16"],
     "--methods: unknown method 'budget_forcng'"),
    # comma lists: an empty item was skipped silently and --ns 0 was named parallel_ns (the library's keyword),
    # after every model had loaded; said by the flag now, before any model loads
    (["eval", "--sweep", "--ns", "1,,2", "-m", "no/such/model"], "--ns '1,,2': an empty item (a comma doubled"),
    (["eval", "--sweep", "--ns", "0", "-m", "no/such/model"], "--ns '0': 0 is not a positive integer"),
    (["eval", "--sweep", "--budgets", "16,32,", "-m", "no/such/model"], "--budgets '16,32,': an empty item"),
    (["eval", "--sweep", "--methods", "majority,,oracle", "-m", "no/such/model"],
     "--methods 'majority,,oracle': an empty item"),
    (["eval", "-n", "2", "--k", "1,,2", "-m", "no/such/model"], "--k '1,,2': an empty item"),
    (["eval", "--k", "0", "-m", "no/such/model"], "--k '0': 0 is not a positive integer"),
    (["eval", "--method", "effort", "--effort", "hgih", "--max-new-tokens", "8", "-m", "no/such/model"],
     "--effort: unknown reasoning effort 'hgih' (known: low, medium, high)"),
    # effort's budgets are its levels'; the sequential methods decode greedily within their budgets: --budgets,
    # --temperature and --max-new-tokens were taken, ignored and recorded in config.json as if used
    (["eval", "--sweep", "--methods", "effort", "--budgets", "4,8"], "--budgets: not used by --methods effort"),
    (["eval", "--sweep", "--methods", "budget_forcing,effort", "--temperature", "0.5", "--max-new-tokens", "9"],
     "--temperature, --max-new-tokens: not used by --methods budget_forcing,effort"),
    (["eval", "--sweep", "--methods", "budget_forcing", "--top-p", "0.9", "--top-k", "5", "--min-p", "0.1"],
     "--top-p, --top-k, --min-p: not used by --methods budget_forcing"),
    (["probe", "diversity", "--train-file", "x.txt", "--ngram", "3"], "--train-file, --ngram: not used by the diversity"),
    (["probe", "contamination", "--n", "4", "--method", "rouge_l"], "--n, --method: not used by the contamination"),
    (["probe", "diversity", "--method", "bogus"], "unknown similarity method 'bogus'"),
    (["probe", "contamination", "--ngram", "8"], "--ngram: used only with --train-file"),
    # a part set twice: the last was taken silently (and --group-filter replaced --set group_filter=false)
    (["grpo", "--explain", "--set", "beta=0.1", "--set", "clip=dual", "--set", "beta=0.2"],
     "--set beta: given twice (beta=0.1 and beta=0.2)"),
    (["grpo", "--explain", "--set", "group_filter=false", "--group-filter"],
     "--group-filter and --set group_filter=false: give one"),
    # greedy decoding takes the most likely token: a nucleus or top-k filter changed nothing, silently
    (["generate", "hi", "--top-p", "0.5", "--top-k", "5"],
     "--top-p 0.5, --top-k 5: not used at temperature 0, the default (greedy decoding"),
    (["chat", "--temperature", "0", "--min-p", "0.1"], "--min-p 0.1: not used at --temperature 0 (greedy"),
    # out of range: said first by the flag (at temperature 0 --top-p 1.5 was "not used", elsewhere "top_p must")
    (["generate", "hi", "--top-p", "1.5"], "argument --top-p: must be in (0, 1], got 1.5"),
    (["generate", "hi", "--temperature", "1", "--min-p", "1"], "argument --min-p: must be in [0, 1), got 1"),
    (["eval", "--top-p", "0"], "argument --top-p: must be in (0, 1], got 0"),
    (["eval", "--top-k", "-1"], "argument --top-k: must be an integer >= 0, got -1"),
    (["eval", "--top-k", "2.5"], "argument --top-k: expected an integer, got '2.5'"),
    (["eval", "--min-p", "1"], "argument --min-p: must be in [0, 1), got 1"),
    (["generate", "hi", "--temperature", "-1"], "argument --temperature: must be a number >= 0, got -1"),
    (["grpo", "--temperature", "-0.5"], "argument --temperature: must be a number > 0, got -0.5"),
    # grpo samples its groups (help: "> 0", ">= 2"): the trainer's messages named its keywords, not the flags
    (["grpo", "--temperature", "0"], "argument --temperature: must be a number > 0, got 0"),
    (["grpo", "--group-size", "1"], "argument --group-size: must be an integer >= 2"),
    (["generate", "hi", "--chat-template-kwargs", "{enable_thinking: false}"],
     "argument --chat-template-kwargs: not JSON (Expecting property name enclosed in double quotes at character 1)"),
    (["eval", "--chat-template-kwargs", "[1]"], "argument --chat-template-kwargs: expected a JSON object"),
    (["sft", "--chat-template-kwargs", '{"add_generation_prompt": false}'],
     "'add_generation_prompt' is set by the renderer itself"),
    (["grpo", "--resume", "r", "--chat-template-kwargs", '{"enable_thinking": false}'],
     "drop --chat-template-kwargs"),
    (["probe", "diversity", "--n", "1"], "argument --n: must be an integer >= 2 (diversity compares samples)"),
    # text prompts without --chat go through no chat template: the variables were unused (and eval recorded them)
    (["generate", "hi", "--chat-template-kwargs", '{"enable_thinking": false}'],
     "--chat-template-kwargs: used only with --chat"),
    (["eval", "--limit", "1", "--chat-template-kwargs", '{"enable_thinking": false}'],
     "--chat-template-kwargs: these prompts are text, used as given without --chat"),
    (["eval", "--sweep", "--limit", "1", "--chat-template-kwargs", '{"enable_thinking": false}'],
     "--chat-template-kwargs: these prompts are text, used as given without --chat"),
    (["grpo", "--steps", "1", "--chat-template-kwargs", '{"enable_thinking": false}'],
     "--chat-template-kwargs: the prompts of --task arith are text, used as given through no chat template; give "
     "--chat"),
    (["distill", "--teacher", "tiny", "--out", "d", "--chat-template-kwargs", '{"enable_thinking": false}'],
     "--chat-template-kwargs: the prompts of --task arith are text, used as given through no chat template; give "
     "--chat"),
    # a model given twice was one dict key: the comparison showed one model, eval ran as if it was given once
    (["probe", "diversity", "-m", "tiny", "-m", "tiny"], "--model tiny: given twice"),
    (["eval", "--sweep", "-m", "tiny", "--model", "tiny"], "--model tiny: given twice"),
    # one checkpoint under two spellings was compared with itself as two models
    (["probe", "diversity", "-m", "tiny", "-m", str(ponder.checkpoint.ASSETS / "tiny") + "/"],
     f"--model {ponder.checkpoint.ASSETS / 'tiny'}/: the same checkpoint as --model tiny"),
    (["eval", "--sweep", "-m", str(ponder.checkpoint.ASSETS / "tiny"), "-m", "tiny"],
     "--model tiny: the same checkpoint as --model "),
    # (said before any model loads: a second model that does not load was the error, after the first had loaded)
    (["eval", "-m", "tiny", "-m", "no/such/model"], "several --model values are only for --sweep"),
])
def test_bad_input_messages(args, msg, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert msg in err and err.strip().count("\n") == 0


def test_pretrain_model_vocabulary_is_the_tokenizers(tmp_path, capsys):
    """--vocab 300 trained a 300-token tokenizer under a 512-row embedding (the recipe's size was a floor): a
    smaller --vocab never gave a smaller model. The model's vocabulary is the tokenizer's now (the recipe's
    tokenizer has 512 tokens: its model is unchanged)."""
    small = ["--docs", "50", "--hidden", "32", "--layers", "1", "--seq-len", "64", "--batch-size", "2", "--steps",
             "1", "--quiet", "--json"]
    assert main(["pretrain", "--out", str(tmp_path / "r"), "--vocab", "300", *small]) == 0
    model, tok = ponder.load(tmp_path / "r" / "checkpoint")
    assert tok.vocab_size == 300 and model.config.vocab_size == 300
    assert model.embed_tokens.weight.shape[0] == 300
    assert "the model's vocabulary, its embedding and output rows, is the tokenizer's" in _help(capsys, "pretrain")


@pytest.mark.parametrize("args,msg", [
    (["verify"], "ponder verify: error: missing verifier (math | code | countdown | constraints | format), input "),
    (["verify", "mat", "in.jsonl"], "ponder verify: error: argument verifier: invalid choice: 'mat'"),
    (["probe"], "ponder probe: error: missing probe (contamination | diversity) "),
    (["data", "export"], "ponder data export: error: missing task, --output "),
])
def test_a_missing_argument_is_named_as_usage_and_help_show_it(args, msg, capsys):
    """`ponder verify` alone said "required: kind, input", where its usage shows {math,code,...} and its help
    "verifier": a positional of choices is named by its help and its choices, an option by its long name."""
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(msg) and err.count("\n") == 1


def test_pretrain_terse_share_given_twice_for_one_size_is_refused(tmp_path, capsys):
    """--terse-share 2:0.5,...,2:0.9 trained with 0.9 for 2-operation problems, the first share dropped silently."""
    args = ["pretrain", "--out", str(tmp_path / "r"), "--docs", "10", "--steps", "1", "--quiet",
            "--terse-share", "2:0.5,3:0.8,4:0.1,2:0.9"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "argument --terse-share: 2 operations given two shares in '2:0.5,3:0.8,4:0.1,2:0.9'" in err
    assert err.count("\n") == 1 and not (tmp_path / "r").exists()


@pytest.mark.parametrize("share, said", [("2", "the share must be between 0 and 1, got 2"),
                                         ("nan", "the share must be between 0 and 1, got nan"),
                                         ("2:0.5,3:1.5", "each share must be between 0 and 1, got 3:1.5"),
                                         ("0:0.5", "a number of operations is 1 or more, got 0")])
def test_pretrain_terse_share_out_of_range_is_named_by_its_flag(tmp_path, share, said, capsys):
    """A share outside [0, 1] was refused by the corpus builder by its keyword ("terse_share[3] must be between
    0 and 1"), after the note that the corpus was being built."""
    assert main(["pretrain", "--out", str(tmp_path / "r"), "--docs", "10", "--steps", "1", "--terse-share", share]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ponder pretrain: error: argument --terse-share: {said}") and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name, text", [("empty.jsonl", ""), ("blank.txt", "\n\n"), ("nostrings.jsonl", '{"a": 1}\n')])
def test_probe_contamination_refuses_a_train_file_with_no_text(tmp_path, name, text, capsys):
    """An empty --train-file was compared with all the same: '0 of N problems share a 13-gram where their copies do
    not' (as the line then read), no sign of contamination, when the file (a wrong path, a failed export) held nothing."""
    f = tmp_path / name
    f.write_text(text)
    out = tmp_path / "o"
    assert main(["probe", "contamination", "--limit", "2", "--quiet", "--train-file", str(f), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ponder probe: error: --train-file {f}: holds no text") and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("flags, said", [
    (["--methods", "majority", "--temperature", "0"],
     "--temperature 0: the parallel methods (majority) draw N samples per problem"),
    (["--methods", "budget_forcing", "--ns", "1,2"], "--ns: not used by --methods budget_forcing"),
])
def test_eval_sweep_option_errors_come_before_any_model_loads(flags, said, capsys):
    """--sweep's checks of its options ran once every --model had loaded (minutes for large ones); a model that
    does not load is the error only after them now. --temperature 0 was 'sweep: parallel methods need
    temperature > 0', no flag named."""
    assert main(["eval", "--sweep", "--model", "no/such/model", "--limit", "1", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ponder eval: error: {said}") and err.count("\n") == 1


@pytest.mark.parametrize("flags, said", [
    (["--effort", "high"], "--effort is for --method effort, not sampling"),
    (["--judge-model", "tiny"], "--judge-model is used only by --scorer judge"),
    (["--method", "effort", "--max-new-tokens", "8"], "--max-new-tokens is not used by --method effort"),
    # (said by the library's keywords: "early_stop needs unweighted votes")
    (["--method", "self_consistency", "--weighted", "--early-stop"], "--early-stop and --weighted: "),
    (["--method", "greedy", "--top-p", "0.5"], "--top-p 0.5: not used by --method greedy"),
    (["--method", "greedy", "--temperature", "0.7"], "--temperature 0.7: not used by --method greedy"),
    (["--method", "self_refine", "--top-p", "0.9"],
     "--top-p 0.9: not used at temperature 0, --method self_refine's default (greedy"),
    (["--method", "budget_forcing", "--top-p", "0.9"],
     "--top-p 0.9: not used at temperature 0, --method budget_forcing's default (greedy"),
    (["--temperature", "0", "--top-p", "0.9"], "--top-p 0.9: not used at --temperature 0 (greedy"),
    (["--method", "greedy", "--top-k", "5"], "--top-k 5: not used by --method greedy"),
    (["--temperature", "0", "--top-k", "5"], "--top-k 5: not used at --temperature 0 (greedy"),
    (["--method", "self_consistency", "--temperature", "0", "--votes", "1", "--min-p", "0.1"],
     "--min-p 0.1: not used at --temperature 0 (greedy"),
    (["--method", "greedy", "-n", "2", "--k", "2"], "-n 2: --method greedy (deterministic) gives 2 identical runs"),
    (["--temperature", "0", "-n", "2"], "-n 2: greedy decoding (temperature 0) gives 2 identical runs"),
    (["-n", "2", "--k", "1,4"], "--k 1,4: 4 is more than -n 2 (samples or runs per problem)"),
    (["--method", "self_consistency", "--temperature", "0"],
     "--temperature 0: --method self_consistency draws 8 samples per run (--votes), all alike when greedy"),
    (["--method", "best_of_n", "--scorer", "logprb"],
     "--scorer logprb: neither logprob, likelihood, judge nor a reward spec (reward spec 'logprb': unknown"),
    (["--method", "self_refine", "--scorer", "logprob"], "--scorer logprob: not for --method self_refine"),
    (["--method", "best_of_n", "--candidates", "3", "--temperature", "0"],
     "--temperature 0: --method best_of_n draws 3 samples per run (--candidates)"),
])
def test_eval_method_option_errors_come_before_the_model_loads(flags, said, capsys):
    """An option of another method (or a --judge-model nothing uses) was said only once the model, minutes for a
    large one, had loaded: a model that does not load was the error first, then, fixed, this one."""
    assert main(["eval", "--model", "no/such/model", "--limit", "1", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ponder eval: error: {said}") and err.count("\n") == 1


def test_eval_scorer_spec_with_the_judge_verifier_takes_judge_model(capsys):
    """--scorer takes a reward spec, and one with the judge verifier ('math+0.5*judge') scores with --judge-model
    as --reward does: --judge-model was refused ("used only by --scorer judge or a reward with the judge
    verifier"), and without it the library's "use get_reward(..., judge=make_judge(...))" came after the model
    loaded, so such a scorer could not be used from the command line at all."""
    base = ["eval", "--limit", "1", "--method", "best_of_n", "--candidates", "2", "--max-new-tokens", "4", "--quiet"]
    assert main([*base, "--scorer", "math+0.5*judge", "--judge-model", "tiny", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["method_kwargs"]["scorer"] == "math+0.5*judge"
    for scorer in ("math+0.5*judge", "judge"):  # said before any model loads, by the flag to give
        assert main([*base, "--model", "no/such/model", "--scorer", scorer]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"ponder eval: error: --scorer {scorer}: ") and "give --judge-model" in err, err
        assert err.count("\n") == 1


@pytest.mark.parametrize("flags, said", [
    (["--reward", "nosuch"], "reward spec 'nosuch': unknown verifier 'nosuch'"),
    (["--reward", "code"], "item arith-"),  # (arith items carry no tests)
    (["--sweep", "--reward", "countdown"], "item arith-"),
])
def test_eval_reward_errors_come_before_the_model_loads(flags, said, capsys):
    """An unknown verifier in --reward, or items without the fields its verifiers read, were said only once every
    --model had loaded (grpo and distill say them first)."""
    assert main(["eval", "--model", "no/such/model", "--limit", "1", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ponder eval: error: {said}") and err.count("\n") == 1, err


def test_generate_system_without_chat_is_refused_before_the_model_loads(capsys):
    """--system without --chat was refused only once the model had loaded (a model that does not load was the
    error first)."""
    assert main(["generate", "hi", "--system", "be brief", "--model", "no/such/model"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ponder generate: error: --system: used only with --chat") and err.count("\n") == 1


def test_os_errors_are_one_line_naming_the_file(tmp_path, capsys):
    """A write the OS refuses (here: a directory path through a regular file) is one line, not a traceback."""
    (tmp_path / "plain").write_text("")
    # 10**6 countdown problems would take minutes: the unwritable output is refused before any is drawn
    assert main(["data", "export", "countdown", "--n", "1000000", "-o", str(tmp_path / "plain" / "x.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ponder data export: error: ") and str(tmp_path / "plain") in err and err.strip().count("\n") == 0
    with pytest.raises(OSError, match="plain is not a directory"):
        main(["--debug", "data", "export", "arith", "--n", "2", "-o", str(tmp_path / "plain" / "x.jsonl")])


def test_data_export_names_formats_and_refuses_what_it_cannot_write_before_generating(tmp_path, capsys):
    """The output's name says its format: .jsonl.gz is gzipped, - is standard output (the summary then goes to
    stderr), a name of another format is refused, and so is a directory: all before any problem is drawn
    (10**6 arith problems would take minutes), creating nothing."""
    from ponder.tasks.data import load_dataset

    for out, msg in ((tmp_path, "is a directory"), (tmp_path / "new" / "x.parquet", "export writes JSON Lines")):
        assert main(["data", "export", "arith", "--n", "1000000", "-o", str(out), "--quiet"]) == 2
        assert msg in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
    assert main(["data", "export", "arith", "--n", "4", "-o", str(tmp_path / "a.jsonl.gz"), "--quiet"]) == 0
    assert (tmp_path / "a.jsonl.gz").read_bytes()[:2] == b"\x1f\x8b"
    capsys.readouterr()
    assert main(["data", "export", "arith", "--n", "4", "-o", "-", "--quiet"]) == 0
    std = capsys.readouterr()
    assert "wrote 4 arith test items to stdout" in std.err
    assert [json.loads(x) for x in std.out.splitlines()] == load_dataset(tmp_path / "a.jsonl.gz")


def test_explain_prints_formula(capsys):
    assert main(["grpo", "--preset", "dapo", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "clip-higher" in out and "DAPO" in out


def test_explain_with_json_prints_one_json_object(capsys):
    """--explain --json: the formula and its settings as one JSON object, not the formula's text on stdout."""
    assert main(["grpo", "--preset", "dapo", "--explain", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["preset"] == "dapo" and "clip" in out["objective"] and "clip-higher" in out["explain"]


def test_explain_with_resume_explains_the_runs_own_objective(tmp_path, capsys):
    """`grpo --out RUN --resume --explain` explained the default preset (grpo, beta 0.04), whatever the run trains
    with; it explains the run's saved objective (here DAPO with a --set part, at the run's --max-new-tokens)."""
    from dataclasses import asdict

    from ponder.rl.trainer import GRPOConfig, objective_for

    run = tmp_path / "run"
    run.mkdir()
    saved = asdict(GRPOConfig(preset="dapo", objective={"eps_high": 0.3}, max_new_tokens=40))
    (run / "config.json").write_text(json.dumps({"kind": "grpo", "grpo": saved}))
    for args in (["--out", str(run), "--resume"], ["--resume", str(run)]):
        assert main(["grpo", *args, "--explain", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["preset"] == "dapo" and out["objective"] == asdict(objective_for("dapo", {"eps_high": 0.3}, 40))
    (run / "config.json").write_text(json.dumps({"kind": "sft"}))
    assert main(["grpo", "--out", str(run), "--resume", "--explain"]) == 2
    assert "'sft' run, not a 'grpo' run" in capsys.readouterr().err


def test_data_export_and_verify(tmp_path, capsys):
    out = tmp_path / "t.jsonl"
    capsys.readouterr()
    assert main(["data", "export", "arith", "--n", "5", "-o", str(out)]) == 0
    assert "5/5" in capsys.readouterr().err  # the progress bar, on stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 5 and all(r["split"] == "test" for r in rows)
    assert main(["data", "export", "arith", "--n", "5", "-o", str(tmp_path / "q.jsonl"), "--quiet"]) == 0
    assert capsys.readouterr().err == "" and (tmp_path / "q.jsonl").read_bytes() == out.read_bytes()
    comp = tmp_path / "c.jsonl"
    comp.write_text("".join(json.dumps({"completion": f"so \\boxed{{{r['answer']}}}", "gold": r["answer"]}) + "\n"
                            for r in rows))
    capsys.readouterr()
    # a missing output directory is made, as data export and eval --out make theirs (it used to be an error)
    assert main(["verify", "math", str(comp), "-o", str(tmp_path / "new" / "v.jsonl"), "--json", "--workers", "1"]) == 0
    std = capsys.readouterr()
    summary = json.loads(std.out)
    assert summary["correct"] == 5 and (tmp_path / "new" / "v.jsonl").is_file()
    assert "5/5" in std.err  # the progress bar stays on, on stderr, as pretrain's and grpo's do under --json
    assert main(["verify", "math", str(comp), "--json", "--quiet", "--workers", "1"]) == 0
    std = capsys.readouterr()
    assert json.loads(std.out)["correct"] == 5 and std.err == ""
    comp.write_text('{"completion": "1", "gold": "1"}\n{broken\n')
    assert main(["verify", "math", str(comp)]) == 2
    assert f"{comp}:2" in capsys.readouterr().err


def test_chat_reads_stdin_and_answers(ckpt, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("hello\n\n"))  # (in-process: reading stdin needs no process)
    assert main(["chat", "--model", str(ckpt), "--max-new-tokens", "6", "--temperature", "0"]) in (0, None)
    assert "model> " in capsys.readouterr().out


def test_chat_ctrl_c_stops_the_reply_not_the_chat(monkeypatch, capsys):
    """Ctrl-C during a reply ended the whole session (and printed "interrupted" after the half reply); it stops
    that reply now, which stays in the history as far as it went, and the next line is answered."""
    import ponder.engine as engine

    real, seen = engine.stream, []

    def interrupted(model, tok, messages, **kw):  # the user presses Ctrl-C after the second piece of reply 1
        seen.append([dict(m) for m in messages])
        for i, piece in enumerate(real(model, tok, messages, **kw)):
            if i == 2 and len(seen) == 1:
                raise KeyboardInterrupt
            yield piece

    monkeypatch.setattr(engine, "stream", interrupted)
    monkeypatch.setattr("sys.stdin", io.StringIO("Problem: 1 + 2 = ?\nProblem: 3 + 4 = ?\n\n"))
    assert main(["chat", "--max-new-tokens", "8", "--temperature", "0"]) in (0, None)
    out = capsys.readouterr().out
    assert out.count(" [stopped]") == 1 and out.count("model> ") == 2
    first = seen[1][1]
    assert first["role"] == "assistant" and first["content"] == out.split("model> ")[1].split(" [stopped]")[0]


def test_chat_replies_each_draw_their_own_random_stream(monkeypatch, capsys):
    """Every reply of a chat was drawn with the session's --seed as if it were the first: the same uniforms step
    by step at each turn. Reply k is now sample()'s draw of the conversation so far as prompt k (index_offset)."""
    import ponder.engine as engine

    real, seen = engine.stream, []

    def recording(model, tok, messages, **kw):
        seen.append(([dict(m) for m in messages], kw))
        yield from real(model, tok, messages, **kw)

    monkeypatch.setattr(engine, "stream", recording)
    monkeypatch.setattr("sys.stdin", io.StringIO("Problem: 1 + 2 = ?\nagain\nand again\n\n"))
    assert main(["chat", "--max-new-tokens", "10", "--temperature", "1", "--seed", "3"]) in (0, None)
    model, tok = ponder.load("tiny")
    assert [kw["index"] for _, kw in seen] == [0, 1, 2]
    for k in range(2):  # (each reply as the next turn's conversation holds it)
        want = ponder.sample(model, tok, [seen[k][0]], max_new_tokens=10, temperature=1.0, seed=3, index_offset=k)
        assert seen[k + 1][0][-2] == {"role": "assistant", "content": want[0][0].text}


def test_chat_prints_no_part_of_a_stop_string_that_spans_pieces(monkeypatch, capsys):
    """A stop string spanning two streamed pieces (" repeated", " addition") had its first piece printed before
    the second showed it was a stop: the terminal read " repeated" while the reply kept in the conversation
    ended before it. What is printed is the reply the model is given back."""
    import ponder.engine as engine

    real, seen = engine.stream, []

    def recording(model, tok, messages, **kw):
        seen.append([dict(m) for m in messages])
        yield from real(model, tok, messages, **kw)

    monkeypatch.setattr(engine, "stream", recording)

    def chat(*stops):
        seen.clear()
        monkeypatch.setattr("sys.stdin", io.StringIO("Problem: 1 + 2 = ?\nagain\n\n"))
        assert main(["chat", "--max-new-tokens", "12", "--temperature", "0", *stops]) in (0, None)
        kept = seen[1][1]
        assert kept["role"] == "assistant"
        return capsys.readouterr().out.split("model> ")[1].split("\n")[0], kept["content"]

    printed, kept = chat("--stop", "repeated addition")
    assert printed == kept and "repeated" not in printed
    # an end that only looked like the start of a stop string ('.' of '.!') is printed when the reply ends
    free, _ = chat()
    assert chat("--stop", ".!", "--stop", " addition?") == (free, free) and free.endswith(" addition.")


def test_chat_stopped_by_sigterm_ends_not_only_the_reply(monkeypatch, capsys):
    """SIGTERM is handled as Ctrl-C is, but a chat's Ctrl-C during a reply stops only that reply: SIGTERM stopped the
    reply and the chat read on. It ends the session (exit 143)."""
    import os
    import signal
    import threading

    import ponder.engine as engine

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are the main thread's")
    real, replies = engine.stream, []

    def terminated(model, tok, messages, **kw):  # a scheduler stops the session during the first reply
        replies.append(messages[-1])
        for i, piece in enumerate(real(model, tok, messages, **kw)):
            if i == 2 and len(replies) == 1:  # (once: a second SIGTERM would end this process, as by default)
                os.kill(os.getpid(), signal.SIGTERM)
            yield piece

    monkeypatch.setattr(engine, "stream", terminated)
    monkeypatch.setattr("sys.stdin", io.StringIO("Problem: 1 + 2 = ?\nProblem: 3 + 4 = ?\n\n"))
    assert main(["chat", "--max-new-tokens", "8", "--temperature", "0"]) == 143
    out, err = capsys.readouterr()
    assert len(replies) == 1 and out.count("model> ") == 1 and " [stopped]" not in out
    assert err.splitlines()[-1] == "terminated (SIGTERM)"


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



def test_pretrain_checkpoints_and_evaluates_every_n_steps_as_asked(tmp_path, capsys):
    """pretrain had no --save-every or --eval-every: a run saved (and measured its held-out loss) only every 250
    steps, so a stopped long run lost up to 249 steps. They are options of a new run, refused with --resume."""
    small = ["--docs", "300", "--hidden", "32", "--layers", "1", "--seq-len", "64", "--batch-size", "4", "--quiet"]
    run = tmp_path / "r"
    assert main(["pretrain", "--out", str(run), "--steps", "5", "--save-every", "2", "--eval-every", "2", *small]) == 0
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in rows if "heldout_loss" in x] == [2, 4, 5]
    assert {k: json.loads((run / "config.json").read_text())["train"][k] for k in ("save_every", "eval_every")} == {
        "save_every": 2, "eval_every": 2}
    capsys.readouterr()
    assert main(["pretrain", "--out", str(run), "--resume", "--steps", "6", "--save-every", "3", "--quiet"]) == 2
    assert "drop --save-every" in capsys.readouterr().err


def test_pretrain_resume_of_a_finished_run_is_refused_before_building_its_corpus(tmp_path, monkeypatch, capsys):
    """`ponder pretrain --out DIR --resume` on a finished run built its corpus (~10 s for the recipe's 200,000
    documents) before saying the run was at its last step."""
    import ponder.cli as cli

    small = ["--docs", "60", "--hidden", "32", "--layers", "1", "--seq-len", "32", "--batch-size", "2", "--quiet"]
    main(["pretrain", "--out", str(tmp_path / "r"), "--steps", "1", *small])
    built = []
    monkeypatch.setattr(cli, "_pretrain_corpus", lambda corpus: built.append(corpus))
    for steps in ([], ["--steps", "1"]):
        assert main(["pretrain", "--out", str(tmp_path / "r"), "--resume", *steps]) == 2
        assert (f"{tmp_path / 'r'}: the run is at step 1 of 1; pass --steps N (N > 1) to train further"
                in capsys.readouterr().err) and not built

def test_pretrain_and_sft_bf16_train_under_autocast_and_resume_so(tmp_path, ckpt, capsys):
    """--bf16 is recorded with the run, its loss follows fp32's, and --resume keeps it (giving it again is refused
    as every kept option is)."""
    small = ["--docs", "300", "--hidden", "32", "--layers", "1", "--seq-len", "64", "--batch-size", "4", "--quiet"]
    main(["pretrain", "--out", str(tmp_path / "a"), "--steps", "3", *small])
    main(["pretrain", "--out", str(tmp_path / "b"), "--steps", "3", "--bf16", *small])
    assert json.loads((tmp_path / "b" / "config.json").read_text())["train"]["bf16"] is True
    la, lb = ([json.loads(x)["loss"] for x in (tmp_path / r / "metrics.jsonl").read_text().splitlines()] for r in "ab")
    assert la != lb and lb == pytest.approx(la, rel=0.02)
    assert main(["pretrain", "--out", str(tmp_path / "b"), "--resume", "--steps", "4", "--bf16"]) == 2
    assert "--bf16" in capsys.readouterr().err
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"prompt": "1 + 1 =", "response": " 2"}) + "\n")
    main(["sft", "--model", str(ckpt), "--data", str(data), "--steps", "1", "--seq-len", "32", "--quiet", "--bf16",
          "--out", str(tmp_path / "s")])
    assert json.loads((tmp_path / "s" / "config.json").read_text())["train"]["bf16"] is True


def test_runs_never_overwrite_a_run_or_their_own_model(tmp_path, ckpt, capsys):
    """A second sft into a finished run's directory, or any run into the directory of the model it starts from,
    stops before writing; nothing of the first run or of the model changes."""
    import shutil

    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"prompt": "1 + 1 =", "response": " 2"}) + "\n")
    sft = ["sft", "--model", str(ckpt), "--data", str(data), "--steps", "1", "--seq-len", "32", "--quiet"]
    assert main([*sft, "--out", str(tmp_path / "run")]) == 0
    before = {f: f.read_bytes() for f in (tmp_path / "run").rglob("*") if f.is_file()}
    assert main([*sft, "--out", str(tmp_path / "run")]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert {f: f.read_bytes() for f in (tmp_path / "run").rglob("*") if f.is_file()} == before
    model = tmp_path / "model"
    shutil.copytree(ckpt, model)
    config = (model / "config.json").read_bytes()
    for args in ([*sft[:2], str(model), *sft[3:], "--out", str(model)],
                 ["grpo", "--model", str(model), "--steps", "1", "--out", str(model), "--quiet"]):
        assert main(args) == 2
        assert "the model's own directory" in capsys.readouterr().err
    assert (model / "config.json").read_bytes() == config
    # over another command's run: not told to pass --resume, which then refused it as that command's
    other = tmp_path / "pretrain"
    (other / "checkpoint").mkdir(parents=True)
    (other / "config.json").write_text(json.dumps({"kind": "pretrain"}))
    assert main([*sft, "--out", str(other)]) == 2
    assert (f"{other}: already holds a 'pretrain' run, not an 'sft' run to continue; choose another --out"
            in capsys.readouterr().err)


def test_countdown_runs_default_to_the_countdown_verifier(tmp_path):
    """The math verifier would accept the bare target number, with no expression built."""
    from ponder.rl.trainer import GRPOConfig, train
    from ponder.verify.registry import get_reward

    item = {"numbers": [3, 5, 9, 14], "target": 144, "answer": "9 * (14 - 3 + 5)"}
    assert get_reward("math")("\\boxed{144}", item).correct  # why countdown needs its own verifier
    assert not get_reward("countdown")("\\boxed{144}", item).correct
    run = train(GRPOConfig(model="tiny", task="countdown", steps=1, prompts_per_step=2, group_size=2,
                           max_new_tokens=4, eval_every=5, train_pool=10, tensorboard=False), tmp_path / "r",
                progress=False)
    assert json.loads((run / "config.json").read_text())["grpo"]["reward"] == "countdown"


def test_an_exported_countdown_file_is_scored_by_the_countdown_verifier(tmp_path):
    """`--data` of exported countdown items used to get the math verifier (no task name to go by): a bare
    \\boxed{target} scored as solved. The items' own task decides now (eval, distill and grpo ask
    default_reward); a file that mixes countdown with other items needs --reward."""
    from ponder.errors import PonderError
    from ponder.rl.trainer import GRPOConfig, train
    from ponder.tasks import default_reward

    f = tmp_path / "cd.jsonl"
    assert main(["data", "export", "countdown", "-n", "6", "-o", str(f), "--quiet"]) == 0
    items = [json.loads(x) for x in f.read_text().splitlines()]
    assert default_reward(None, items) == "countdown" and default_reward(None, [{"task": "math"}]) == "math"
    with pytest.raises(PonderError, match="mixes countdown items with others"):
        default_reward(None, [*items, {"task": "math"}])
    run = train(GRPOConfig(model="tiny", task=None, data=str(f), steps=1, prompts_per_step=2, group_size=2,
                           max_new_tokens=4, eval_every=5, tensorboard=False), tmp_path / "r", progress=False)
    assert json.loads((run / "config.json").read_text())["grpo"]["reward"] == "countdown"


def test_chat_honours_stop_strings(monkeypatch, capsys):
    def reply(*extra):  # (in-process: test_chat_reads_stdin_and_answers runs the command with a real stdin)
        monkeypatch.setattr("sys.stdin", io.StringIO("Problem: 12 + 30 * 2 = ?\n\n"))
        assert main(["chat", "--max-new-tokens", "40", "--temperature", "1", "--seed", "5", *extra]) in (0, None)
        out = capsys.readouterr().out
        return out.split("model> ", 1)[1].rsplit("you> ", 1)[0].strip()

    free, stopped = reply(), reply("--stop", "=")
    assert "=" in free and stopped == free[: free.index("=")].strip()


def test_demo_checks_its_settings_before_writing(tmp_path, capsys):
    for args in (["--preset", "bogus"], ["--task", "algebra"], ["--model", str(tmp_path / "none")]):
        assert main(["demo", "--quick", "--out", str(tmp_path / "d"), *args]) == 2
        assert capsys.readouterr().err.count("\n") == 1
        assert not (tmp_path / "d").exists()
    (tmp_path / "d" / "grpo").mkdir(parents=True)  # an interrupted demo: refused before its first evaluation
    assert main(["demo", "--quick", "--out", str(tmp_path / "d")]) == 2
    assert "holds an interrupted demo" in capsys.readouterr().err
    (tmp_path / "own").mkdir()  # a user's own file of one of the demo's names was written over
    (tmp_path / "own" / "training.png").write_bytes(b"mine")
    assert main(["demo", "--quick", "--out", str(tmp_path / "own")]) == 2
    assert "own: holds training.png, which the demo would replace" in capsys.readouterr().err
    assert (tmp_path / "own" / "training.png").read_bytes() == b"mine"
    # a run's or an evaluation's directory: the demo wrote its training.png, scaling files and summary.json over
    # theirs (an eval's summary.json was refused as "a finished demo")
    for kind, what in (("grpo", "a 'grpo' run"), ("eval", "an 'eval' result")):
        (tmp_path / kind).mkdir()
        (tmp_path / kind / "config.json").write_text(json.dumps({"kind": kind}))
        (tmp_path / kind / "summary.json").write_text("{}")
        assert main(["demo", "--quick", "--out", str(tmp_path / kind)]) == 2
        err = capsys.readouterr().err
        assert f"{tmp_path / kind}: holds {what}, whose files the demo would replace" in err and err.count("\n") == 1
        assert sorted(os.listdir(tmp_path / kind)) == ["config.json", "summary.json"]


def test_sft_and_distill_refuse_chat_template_kwargs_that_no_prompt_renders(tmp_path, capsys):
    """Rows of text prompts are used as they are, through no chat template: --chat-template-kwargs was unused and
    recorded in the run's config.json as applied. Refused before the models load; a row of messages takes them."""
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"prompt": "1 + 1 =", "response": " 2", "answer": "2"}) + "\n")
    kw = ["--chat-template-kwargs", '{"enable_thinking": false}']
    for cmd in (["sft"], ["distill", "--teacher", "tiny"]):  # (distill: its teacher's prompts too)
        assert main([*cmd, "--data", str(data), "--out", str(tmp_path / "r"), *kw]) == 2
        err = capsys.readouterr().err
        assert f"the prompts of {data} are text, used as given through no chat template" in err, cmd
        assert err.count("\n") == 1 and not (tmp_path / "r").exists()


def test_grpo_refuses_chat_template_kwargs_that_no_prompt_of_its_data_renders(tmp_path, capsys):
    """grpo --data of text prompts without --chat uses them as they are, through no chat template:
    --chat-template-kwargs was unused and recorded in config.json as applied (only a --task was refused). A file
    with a row of chat messages, or --chat, renders them."""
    text, chat = tmp_path / "t.jsonl", tmp_path / "c.jsonl"
    text.write_text(json.dumps({"prompt": "1 + 1 =", "answer": "2"}) + "\n")
    chat.write_text(json.dumps({"prompt": [{"role": "user", "content": "1 + 1 ="}], "answer": "2"}) + "\n")
    kw = ["--chat-template-kwargs", '{"enable_thinking": false}', "--model", str(tmp_path / "no-model")]
    assert main(["grpo", "--data", str(text), "--out", str(tmp_path / "r"), *kw]) == 2
    err = capsys.readouterr().err
    assert f"the prompts of {text} are text, used as given through no chat template" in err
    assert err.count("\n") == 1 and not (tmp_path / "r").exists()
    for extra in (["--data", str(chat)], ["--data", str(text), "--chat"],  # (rendered: refused for the model alone)
                  ["--data", str(text), "--eval-data", str(chat)]):
        assert main(["grpo", *extra, "--out", str(tmp_path / "r"), *kw]) == 2
        assert "no chat template" not in capsys.readouterr().err, extra


def test_sft_from_the_command_line_resumes_and_keeps_its_settings(tmp_path, ckpt, capsys, plots):
    """`ponder sft --resume` reads the run's own data file again (checked by digest) and continues to the
    uninterrupted run's weights; options the run keeps are refused; a changed data file is refused."""
    data, val = tmp_path / "d.jsonl", tmp_path / "v.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"{a} + 1 =", "response": f" {a + 1}"}) + "\n" for a in range(9)))
    val.write_text(json.dumps({"prompt": "9 + 1 =", "response": " 10"}) + "\n")
    sft = ["sft", "--model", str(ckpt), "--data", str(data), "--val-data", str(val), "--seq-len", "32",
           "--batch-size", "4", "--save-every", "2", "--eval-every", "2", "--quiet"]
    plots.only(tmp_path / "a")  # (the one training.png read below; b's and c's are of the same kind of rows)
    assert main([*sft, "--steps", "5", "--out", str(tmp_path / "a")]) == 0
    assert main([*sft, "--steps", "5", "--out", str(tmp_path / "b")]) == 0
    assert main([*sft, "--steps", "3", "--out", str(tmp_path / "c")]) == 0  # stopped at 3
    capsys.readouterr()
    assert main(["sft", "--out", str(tmp_path / "c"), "--resume", "--lr", "0.1"]) == 2
    assert "drop --lr" in capsys.readouterr().err
    assert main(["sft", "--out", str(tmp_path / "c"), "--resume", "--steps", "5", "--quiet"]) == 0
    rows = [(tmp_path / d / "metrics.jsonl").read_text() for d in "abc"]
    assert rows[0] == rows[1]  # the same run twice: the same bits
    a, c = ([json.loads(x) for x in r.splitlines()] for r in (rows[0], rows[2]))
    assert [x["step"] for x in c] == [1, 2, 3, 4, 5] and [x["loss"] for x in a[:3]] == [x["loss"] for x in c[:3]]
    assert "val_loss" in a[-1] and (tmp_path / "a" / "training.png").is_file()
    data.write_text(data.read_text() + json.dumps({"prompt": "x", "response": " y"}) + "\n")
    assert main(["sft", "--out", str(tmp_path / "b"), "--resume", "--steps", "6", "--quiet"]) == 2
    assert "training data differs" in capsys.readouterr().err


def test_sft_turns_from_the_command_line_is_recorded_and_kept_on_resume(tmp_path, ckpt, capsys):
    """`--turns` (default all) is recorded in the run's config.json; --resume keeps the run's own (giving it
    again is refused, as every kept setting), and rows with no `messages` refuse it: it would be unused."""
    data = tmp_path / "d.jsonl"
    turns = [{"role": "user", "content": "1 + 1?"}, {"role": "assistant", "content": "2"},
             {"role": "user", "content": "And 2 + 2?"}, {"role": "assistant", "content": "4"}]
    data.write_text(json.dumps({"messages": turns}) + "\n" + json.dumps({"prompt": "1 + 1 =", "response": " 2"}) + "\n")
    sft = ["sft", "--model", str(ckpt), "--data", str(data), "--seq-len", "48", "--batch-size", "2", "--steps", "1",
           "--quiet"]
    for out, extra, want in (("a", [], "all"), ("b", ["--turns", "last"], "last"), ("c", ["--turns=all"], "all")):
        assert main([*sft, "--out", str(tmp_path / out), *extra]) == 0
        assert json.loads((tmp_path / out / "config.json").read_text())["turns"] == want
    capsys.readouterr()
    assert main(["sft", "--out", str(tmp_path / "b"), "--resume", "--steps", "2", "--turns", "last"]) == 2
    assert "drop --turns" in capsys.readouterr().err
    assert main(["sft", "--out", str(tmp_path / "b"), "--resume", "--steps", "2", "--quiet"]) == 0
    assert json.loads((tmp_path / "b" / "config.json").read_text())["turns"] == "last"
    assert main([*sft, "--out", str(tmp_path / "d"), "--turns", "first"]) == 2
    assert "argument --turns: invalid choice: 'first'" in capsys.readouterr().err
    data.write_text(json.dumps({"prompt": "1 + 1 =", "response": " 2"}) + "\n")
    assert main([*sft, "--out", str(tmp_path / "d"), "--turns", "last"]) == 2
    err = capsys.readouterr().err
    assert f"--turns: {data} has no row of `messages`" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "d").exists()


def test_sft_chat_from_the_command_line_trains_after_the_prompt_eval_chat_gives(tmp_path, tiny_random, monkeypatch,
                                                                              capsys):
    """`ponder sft` had no --chat: MATH's problems were trained bare, and `ponder eval --chat` then prompted the
    model after a template it was never fine-tuned after (a 6-row MATH file: greedy 100% without --chat, 0% with
    it). With a Qwen3-style checkpoint, `sft --chat --system S --chat-template-kwargs` trains each problem after
    exactly the token ids `eval --chat --system S` with the same kwargs feeds the model; the run records chat and
    system, and --resume refuses either given again, as every setting the run keeps."""
    from test_train import MATH_ROWS, qwen3_style_checkpoint

    import ponder.engine as engine
    import ponder.train as train
    from ponder.tokenizer import Tokenizer

    ck = qwen3_style_checkpoint(tmp_path / "ck", tiny_random)
    data, run = tmp_path / "math.jsonl", tmp_path / "r"
    data.write_text("".join(json.dumps(r) + "\n" for r in MATH_ROWS))
    trained, fed = [], []
    batches, render = train.sft_batches, engine.render_prompts
    monkeypatch.setattr(train, "sft_batches", lambda enc, *a: trained.append(enc) or batches(enc, *a))
    monkeypatch.setattr(engine, "render_prompts", lambda *a, **k: fed.append(out := render(*a, **k)) or out)
    chat = ["--chat", "--system", "Answer in \\boxed{}.", "--chat-template-kwargs", '{"enable_thinking": false}']
    assert main(["sft", "--model", str(ck), "--data", str(data), *chat, "--steps", "1", "--seq-len", "96",
                 "--batch-size", "3", "--quiet", "--out", str(run)]) == 0
    assert main(["eval", "--model", str(run / "checkpoint"), "--data", str(data), "--answer-field", "solution", *chat,
                 "--method", "greedy", "--max-new-tokens", "2", "--quiet"]) == 0
    prompts = [ids[:mask.index(1)] for ids, mask in trained[0]]
    assert fed and all(f == prompts for f in fed)  # (the prompts eval rendered, each time it did)
    text = Tokenizer.load(ck).decode(prompts[0], skip_special_tokens=False)
    assert text.startswith("<|im_start|>system\nAnswer in \\boxed{}.<|im_end|>") and text.endswith("</think>\n\n")
    saved = json.loads((run / "config.json").read_text())
    assert (saved["chat"], saved["system"]) == (True, "Answer in \\boxed{}.")
    capsys.readouterr()
    for again in (["--chat"], ["--system", "S"]):
        assert main(["sft", "--out", str(run), "--resume", "--steps", "2", *again]) == 2
        assert f"drop {again[0]}" in capsys.readouterr().err  # (a resume trains with the run's own: test_train)


def test_sft_chat_and_system_are_refused_in_one_line_where_they_cannot_apply(tmp_path, capsys):
    """--system without --chat (a text prompt has no turn to put it in), and --system on top of a row already of
    chat messages (`messages`, or a `prompt` of messages; of --val-data too: a second system message), are one
    line each, naming the row, before the model loads; --chat-template-kwargs with text rows is taken with --chat
    (they are rendered), and the line refusing it without --chat says to give --chat."""
    text, msgs, pmsgs = tmp_path / "t.jsonl", tmp_path / "m.jsonl", tmp_path / "p.jsonl"
    text.write_text(json.dumps({"prompt": "1 + 1 =", "response": " 2"}) + "\n")
    turns = [{"role": "user", "content": "1 + 1?"}, {"role": "assistant", "content": "2"}]
    msgs.write_text(json.dumps({"prompt": "2 + 2 =", "response": " 4"}) + "\n" + json.dumps({"messages": turns}) + "\n")
    pmsgs.write_text(json.dumps({"prompt": turns[:1], "response": "2"}) + "\n")
    sft = ["sft", "--model", str(tmp_path / "no-model"), "--out", str(tmp_path / "r")]
    on_top = "is a list of chat messages, which --system would be added on top of; put the system message in its"
    kw = ["--chat-template-kwargs", '{"enable_thinking": false}']
    for args, said in (
            (["--data", str(text), "--system", "S"],
             "--system is the system message of chat prompts: add --chat, or drop --system"),
            (["--data", str(text), "--system", "", "--chat-template-kwargs", "{}"], "add --chat, or drop --system"),
            (["--data", str(msgs), "--chat", "--system", "S"], f"{msgs}:2: the row's 'messages' {on_top} 'messages'"),
            (["--data", str(pmsgs), "--chat", "--system", "S"], f"{pmsgs}:1: the row's 'prompt' {on_top} 'prompt'"),
            (["--data", str(text), "--val-data", str(msgs), "--chat", "--system", "S"], f"{msgs}:2: the row's"),
            (["--data", str(text), *kw], "used as given through no chat template; give --chat to render them"),
            (["--data", str(text), "--chat", *kw], f"{tmp_path / 'no-model'}"),  # (taken: refused for the model)
            (["--data", str(msgs), "--chat"], f"{tmp_path / 'no-model'}")):
        assert main([*sft, *args]) == 2
        err = capsys.readouterr().err
        assert said in err and err.count("\n") == 1 and not (tmp_path / "r").exists(), args


def test_sft_resume_says_a_moved_data_file_can_be_passed_as_data(tmp_path, ckpt, capsys):
    """`ponder sft --resume` whose recorded data file had moved said only "d.jsonl: no such file": --data (and
    --val-data) take the file's new path, checked by digest; the error now says so."""
    data, val = tmp_path / "d.jsonl", tmp_path / "v.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"{a} + 1 =", "response": f" {a + 1}"}) + "\n"
                            for a in range(4)))
    val.write_text(json.dumps({"prompt": "9 + 1 =", "response": " 10"}) + "\n")
    run = tmp_path / "r"
    assert main(["sft", "--model", str(ckpt), "--data", str(data), "--val-data", str(val), "--seq-len", "32",
                 "--batch-size", "2", "--save-every", "1", "--steps", "1", "--out", str(run), "--quiet"]) == 0
    moved = tmp_path / "moved"
    moved.mkdir()
    data.rename(moved / data.name)
    val.rename(moved / val.name)
    capsys.readouterr()
    resume = ["sft", "--out", str(run), "--resume", "--steps", "2", "--quiet"]
    assert main(resume) == 2
    err = capsys.readouterr().err
    assert f"its data file {data} (recorded in its config.json): no such file; if it moved, pass its new " \
           "path as --data" in err and len(err.splitlines()) == 1
    assert main([*resume, "--data", str(moved / data.name)]) == 2
    assert f"its validation data file {val} (recorded in its config.json): no such file; if it moved, pass " \
           "its new path as --val-data" in capsys.readouterr().err
    assert main([*resume, "--data", str(moved / data.name), "--val-data", str(moved / val.name),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 2
    # the new paths are recorded: the next resume finds the files without --data/--val-data again
    assert json.loads((run / "config.json").read_text())["data"] == {"data": str((moved / data.name).resolve()),
                                                                     "val_data": str((moved / val.name).resolve())}
    assert main(["sft", "--out", str(run), "--resume", "--steps", "3", "--quiet", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 3


def _as_if_trained_on_a_gpu(run):
    """Make a CPU run's directory what a run on cuda:0 leaves: config.json records the device and the trainer
    state's tensors are tagged as CUDA storage (what torch.save writes for them), with no GPU needed here."""
    from test_train import tag_tensors_as_cuda

    cfg = json.loads((run / "config.json").read_text())
    cfg["sft"]["device"] = "cuda:0"
    (run / "config.json").write_text(json.dumps(cfg))
    tag_tensors_as_cuda(run / "checkpoint" / "trainer_state.pt")


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates resuming a GPU run where there is no GPU")
def test_sft_run_from_a_gpu_resumes_on_the_cpu_with_device(tmp_path, ckpt, capsys):
    """A run that trained on cuda could not continue on the CPU: --resume reloaded it onto the recorded device
    (unavailable), the error said "use --device cpu", and --device with --resume was refused ("drop --device");
    the trainer state's CUDA tensors could not be read either. --device now continues it elsewhere."""
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"{a} + 1 =", "response": f" {a + 1}"}) + "\n" for a in range(9)))
    sft = ["sft", "--model", str(ckpt), "--data", str(data), "--seq-len", "32", "--batch-size", "4",
           "--save-every", "3", "--quiet"]
    for d in "ab":  # stopped at 3: "a" resumes where it ran, "b" as if it had run on a GPU
        assert main([*sft, "--steps", "3", "--out", str(tmp_path / d)]) == 0
    assert main(["sft", "--out", str(tmp_path / "a"), "--resume", "--steps", "5", "--quiet"]) == 0
    _as_if_trained_on_a_gpu(tmp_path / "b")
    capsys.readouterr()
    assert main(["sft", "--out", str(tmp_path / "b"), "--resume", "--steps", "5", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "trained on 'cuda:0', which is not available here; resume with " \
        "--device cpu" in err
    assert main(["sft", "--out", str(tmp_path / "b"), "--resume", "--steps", "5", "--device", "cpu", "--quiet"]) == 0
    assert json.loads((tmp_path / "b" / "config.json").read_text())["sft"]["device"] == "cpu"  # the next resume's
    rows = [(tmp_path / d / "metrics.jsonl").read_text() for d in "ab"]
    assert rows[0] == rows[1] and len(rows[0].splitlines()) == 5  # the optimizer state came along
    a, b = (ponder.load(tmp_path / d / "checkpoint")[0].state_dict() for d in "ab")
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates resuming a GPU run where there is no GPU")
def test_distillation_from_a_gpu_resumes_on_the_cpu_with_device(tmp_path, ckpt, capsys):
    """A distillation's fine-tuning resumes through sft: from a GPU it was told "resume with --device cpu", which
    `ponder distill --resume` refused ("drop --device")."""
    import shutil

    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"{a} + 1 =", "response": f" {a + 1}"}) + "\n" for a in range(9)))
    run = tmp_path / "r"
    assert main(["sft", "--model", str(ckpt), "--data", str(data), "--seq-len", "32", "--batch-size", "4",
                 "--save-every", "3", "--steps", "3", "--quiet", "--out", str(run)]) == 0
    shutil.copy(data, run / "distilled.jsonl")  # as `ponder distill` leaves it: its kept samples in the run
    cfg = json.loads((run / "config.json").read_text())
    report = {"kept": 9, "sampled": 9, "kept_fraction": 1.0, "prompts_with_a_kept_sample": 9, "prompts": 9}
    (run / "config.json").write_text(json.dumps({**cfg, "data": {"distilled": "distilled.jsonl", "distill": report}}))
    _as_if_trained_on_a_gpu(run)
    capsys.readouterr()
    assert main(["distill", "--out", str(run), "--resume", "--steps", "4", "--quiet"]) == 2
    assert "resume with --device cpu" in capsys.readouterr().err
    assert main(["distill", "--out", str(run), "--resume", "--steps", "4", "--device", "cpu", "--quiet"]) == 0
    assert [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3, 4]


def test_distill_prints_the_fine_tunings_summary_as_sft_does(tmp_path, ckpt, capsys):
    """distill's text output said only "kept N of M teacher samples ...; checkpoint: ..." where --json (and sft's
    text) gave the steps and the loss first -> last: it now prints sft's run summary, named distill, then the
    sampling's counts."""
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"{a} + 1 =", "response": f" {a + 1}"}) + "\n" for a in range(9)))
    run = tmp_path / "r"
    assert main(["sft", "--model", str(ckpt), "--data", str(data), "--seq-len", "32", "--batch-size", "4",
                 "--steps", "2", "--quiet", "--out", str(run)]) == 0
    (run / "distilled.jsonl").write_text(data.read_text())  # as `ponder distill` leaves it: its kept samples
    cfg = json.loads((run / "config.json").read_text())
    report = {"kept": 9, "sampled": 12, "kept_fraction": 0.75, "prompts_with_a_kept_sample": 9, "prompts": 9}
    (run / "config.json").write_text(json.dumps({**cfg, "data": {"distilled": "distilled.jsonl", "distill": report}}))
    capsys.readouterr()
    assert main(["distill", "--out", str(run), "--resume", "--steps", "3", "--quiet"]) == 0
    text = capsys.readouterr().out.splitlines()
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert text[0] == f"distill: 3 steps; run directory {run}", text
    assert re.fullmatch(r"  loss +(\S+) -> (\S+)", text[1]) and text[1].split()[1] == f"{rows[0]['loss']:.4g}"
    assert text[1].split()[3] == f"{rows[-1]['loss']:.4g}" and text[2].startswith(f"  checkpoint {run / 'checkpoint'}")
    assert text[3] == f"  kept 9 of 12 teacher samples (75.0%), 9/9 prompts: {run / 'distilled.jsonl'}"


def test_distill_keeps_its_samples_and_resumes_on_them(tmp_path, ckpt, capsys, plots):
    out = tmp_path / "d"
    args = ["distill", "--teacher", "tiny", "--model", "tiny", "-n", "8", "-k", "2", "--steps", "2",
            "--save-every", "1", "--seq-len", "96", "--out", str(out), "--quiet", "--json"]
    assert main(args) == 0
    rep = json.loads(capsys.readouterr().out)
    kept = [json.loads(x) for x in (out / "distilled.jsonl").read_text().splitlines()]
    assert len(kept) == rep["kept"] > 0 and all(set(r) == {"prompt", "response"} for r in kept)
    # the text names the checkpoint; --json named neither it nor the run directory
    assert rep["run_dir"] == str(out) and rep["checkpoint"] == str(out / "checkpoint")
    assert (out / "checkpoint" / "model.safetensors").is_file()
    # every field sft --json prints (its fine-tuning is an sft run), then the sampling's counts; it had no kind,
    # steps, metrics, alarms, examples or the curves' files
    from ponder.train import summarize_run

    assert set(summarize_run(out)) | {"examples", "examples_cut", "val_examples_cut",
                                                                            "examples_dropped", "val_examples_dropped"} <= set(rep)
    # and nothing else: an undocumented "final" (sft's last metrics row, which sft --json does not print) is
    # gone; the sampling's counts are the ones --json's help names
    counts = {"prompts", "sampled", "kept", "kept_fraction", "prompts_with_a_kept_sample", "duplicates", "rejected",
              "cut", "empty", "end_of_turn"}
    assert set(rep) == set(summarize_run(out)) | {"examples", "examples_cut", "val_examples_cut",
                                                                            "examples_dropped", "val_examples_dropped"} | counts
    # its kind is "distill", as the text's first line and every refusal name it ("sft", config.json's, was said)
    assert rep["kind"] == "distill" and rep["steps"] == 2 and rep["alarms"] == 0 and rep["examples"] == rep["kept"]
    assert json.loads((out / "config.json").read_text())["kind"] == "sft"  # (the file's, which older runs hold)
    assert rep["training"] == str(out / "training.png") and "loss" in rep["metrics"]
    made = json.loads((out / "config.json").read_text())["data"]["sampling"]  # (which teacher made the samples)
    assert (made["teacher"], made["k"], made["items"]) == ("tiny", 2, 8)
    assert main(["distill", "--out", str(out), "--resume", "--steps", "3", "--quiet", "--json"]) == 0
    assert json.loads((out / "config.json").read_text())["data"]["sampling"] == made  # (kept by the resume)
    again = json.loads(capsys.readouterr().out)
    assert again["kept"] == rep["kept"] and again["steps"] == 3 and again["kind"] == "distill"
    assert set(again) == set(rep)
    assert main(["distill", "--out", str(out), "--resume", "--teacher", "x"]) == 2
    assert "drop --teacher" in capsys.readouterr().err
    # killed after sampling, before the first checkpoint: --resume points at the kept samples, not "remove it"
    import shutil

    shutil.rmtree(out / "checkpoint")
    assert main(["distill", "--out", str(out), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "stopped before its first checkpoint" in err and "ponder sft --model tiny --data" in err
    assert err.count("\n") == 1 and (out / "distilled.jsonl").is_file()


def test_sft_with_a_template_without_tool_calling_says_so_for_a_tool_call_of_null_content(tmp_path, capsys):
    """`sft --model tiny` on a row whose assistant calls a tool with content null (the OpenAI format) said
    "chat template: UndefinedError: 'dict object' has no attribute 'content'": the tiny model's plain ChatML template
    reads message['content'], which a null content is passed without (as transformers passes it). The fault is that
    the template cannot show tool calls at all, said as for a call with content "" (test_train's tool-call test)."""
    call = {"type": "function", "function": {"name": "calc", "arguments": '{"e": "2+2"}'}}
    row = {"messages": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": None,
           "tool_calls": [call]}, {"role": "tool", "content": "4"}, {"role": "assistant", "content": "\\boxed{4}"}]}
    data = tmp_path / "f.jsonl"
    data.write_text(json.dumps(row) + "\n")
    assert main(["sft", "--model", "tiny", "--data", str(data), "--steps", "1", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith(
        f"{data}:1: {Path(ponder.__file__).parent / 'assets' / 'tiny'}: the chat template does not render the "
        "tool_calls of chat message 1 (no 'calc' in its text, and it fails on their null content); use a template "
        "with tool calling, such as Qwen3's\n"), err


def test_out_holding_a_distillation_stopped_before_its_first_checkpoint_points_at_its_samples(tmp_path, capsys):
    """distill (or sft) --out D, D a distillation stopped before its first checkpoint (config.json naming its
    distilled.jsonl, no checkpoint/), said "remove the directory or choose another --out": the advice deleted the
    kept teacher samples. It gives distill --resume's hint (`ponder sft --data D/distilled.jsonl --out NEW_DIR`)."""
    from ponder.cli import main

    out = tmp_path / "D"
    out.mkdir()
    (out / "config.json").write_text('{"kind": "sft", "model_path": "tiny", "data": {"distilled": "distilled.jsonl"}}')
    rows = '{"prompt": "1+1=", "response": " 2"}\n{"prompt": "2+2=", "response": " 4"}\n'
    (out / "distilled.jsonl").write_text(rows)
    for cmd in (["distill", "--teacher", "tiny", "--task", "arith"], ["sft", "--data", str(out / "distilled.jsonl")]):
        assert main([*cmd, "--model", "tiny", "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "remove the directory" not in err, err
        assert err.endswith(f"{out}: holds a run that stopped before its first checkpoint (nothing to resume); its "
                            f"2 kept teacher samples are in {out / 'distilled.jsonl'}: fine-tune on them with `ponder "
                            f"sft --model tiny --data {out / 'distilled.jsonl'} --out NEW_DIR`, or choose another "
                            "--out\n"), err
    assert (out / "distilled.jsonl").read_text() == rows and sorted(p.name for p in out.iterdir()) == [
        "config.json", "distilled.jsonl"]
    (out / "distilled.jsonl").write_text("\n")  # no samples kept: nothing to lose, the general advice
    assert main(["distill", "--teacher", "tiny", "--model", "tiny", "--task", "arith", "--out", str(out)]) == 2
    assert "stopped before its first checkpoint (nothing to resume); remove the directory" in capsys.readouterr().err


def test_training_commands_print_a_run_summary_and_json_for_scripts(tmp_path, ckpt, capsys, plots):
    """sft and grpo end with what the run did (first -> last of each headline metric); with --json stdout is one
    JSON object and nothing else (alarms and progress go to stderr)."""
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"{a} + 1 =", "response": f" {a + 1}"}) + "\n" for a in range(6)))
    sft = ["sft", "--model", str(ckpt), "--data", str(data), "--val-data", str(data), "--seq-len", "32",
           "--steps", "3", "--quiet"]
    plots.only(tmp_path / "b")  # (the run whose --json names its training.png)
    assert main([*sft, "--out", str(tmp_path / "a")]) == 0
    text = capsys.readouterr().out
    assert text.startswith("sft: 3 steps") and "val_loss" in text and "->" in text
    assert main([*sft, "--out", str(tmp_path / "b"), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    rows = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert s["kind"] == "sft" and s["steps"] == 3 and s["examples"] == 6 and s["alarms"] == 0
    assert s["metrics"]["loss"] == {"first": rows[0]["loss"], "last": rows[-1]["loss"], "first_step": 1,
                                    "last_step": 3}
    assert s["training"].endswith("training.png") and "val_loss" in s["metrics"]
    grpo = ["grpo", "--model", str(ckpt), "--steps", "2", "--prompts-per-step", "2", "--group-size", "2",
            "--max-new-tokens", "8", "--eval-every", "2", "--eval-n", "4", "--quiet", "--json",
            "--out", str(tmp_path / "g")]
    assert main(grpo) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["kind"] == "grpo" and s["steps"] == 2 and {"reward_mean", "heldout_accuracy"} <= set(s["metrics"])


def test_eval_answer_tokens_reach_budget_forcing_and_are_refused_elsewhere(capsys):
    base = ["eval", "--model", "tiny", "--task", "arith", "--limit", "3", "--method", "budget_forcing",
            "--budget", "8", "--json"]
    tokens = {}
    for t in (1, 16):
        assert main([*base, "--answer-tokens", str(t)]) == 0
        s = json.loads(capsys.readouterr().out)
        assert s["method_kwargs"]["answer_tokens"] == t
        tokens[t] = s["generated_tokens"]
    assert tokens[1] < tokens[16]  # every problem's forced answer was cut at one token
    assert main(["eval", "--method", "greedy", "--answer-tokens", "3"]) == 2
    assert "--answer-tokens is for --method budget_forcing" in capsys.readouterr().err


def test_eval_of_one_problem_prints_no_interval_for_its_token_count(capsys):
    """One problem has no spread over problems: its sampled accuracy's interval is [0, 1] and its mean token
    count has none (it printed "[-inf, inf]"; the JSON says null)."""
    args = ["eval", "--model", "tiny", "--task", "arith", "--limit", "1", "--method", "sampling", "--n", "2",
            "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "inf" not in out and "mean_tokens" in out and "(no interval: one problem)" in out
    assert main([*args, "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["metrics"]["mean_tokens"]["lo"] is None and s["metrics"]["mean_tokens"]["hi"] is None


def test_eval_prints_the_breakdown_its_json_has(capsys):
    """arith's problems by number of operations: each value's accuracies as text, the same figures as --json's."""
    args = ["eval", "--model", "tiny", "--task", "arith", "--limit", "6", "--method", "greedy", "--max-new-tokens",
            "24", "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    by = json.loads(capsys.readouterr().out)["by"]["n_ops"]
    assert "  by n_ops:" in out and sum(g["n_problems"] for g in by.values()) == 6
    for value, g in by.items():
        assert f"pass@1 {g['metrics']['pass@1']['mean']:.3f}, maj@1 {g['metrics']['maj@1']['mean']:.3f}" in next(
            line for line in out.splitlines() if line.strip().startswith(value + " "))


def test_eval_says_a_breakdown_left_out_because_rows_lack_the_field(tmp_path, capsys):
    """A dataset where one row lacks `subject` dropped the per-subject breakdown with nothing said: a one-line note
    on stderr names how many rows lack it, and --json's "by_missing" counts them ({} where none does)."""
    rows = [{"prompt": f"{a} + 1 =", "answer": str(a + 1), "subject": "add" if a % 2 else "plus"} for a in range(4)]
    del rows[2]["subject"]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ["eval", "--model", "tiny", "--data", str(tmp_path / "d.jsonl"), "--method", "greedy",
            "--max-new-tokens", "4", "--quiet", "--json"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    s = json.loads(out)
    assert s["by"] == {} and s["by_missing"] == {"subject": 1}
    assert err.strip() == "eval: 1 of 4 problems lacks a 'subject' (text or integer): no breakdown by subject"
    rows[2]["subject"] = "add"
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["by_missing"] == {} and "subject" in json.loads(out)["by"] and "lack" not in err


def test_eval_breakdown_rows_stay_aligned_for_long_values(tmp_path, capsys):
    """MATH-500's subjects "Intermediate Algebra" and "Counting & Probability" are longer than the 16-character
    column: their rows printed out of line with the others ("Intermediate Algebra   2 problems: ...")."""
    subjects = ["Algebra", "Intermediate Algebra", "Counting & Probability", "Algebra"]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps({"problem": f"Problem: {i} + 1 = ?\nSolution:", "answer": str(
        i + 1), "subject": s, "level": 1 + i % 2, "unique_id": f"t/{i}.json"}) + "\n" for i, s in enumerate(subjects)))
    assert main(["eval", "--model", "tiny", "--data", str(tmp_path / "m.jsonl"), "--method", "greedy",
                 "--max-new-tokens", "8", "--quiet"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("    ")]
    assert len(rows) == 5 and len({line.index(":") for line in rows}) == 1, rows
    assert any(line.startswith("    Counting & Probability ") for line in rows)


def test_eval_prints_the_method_by_the_name_its_json_has(capsys):
    """--method sc printed "method sc" while --json and summary.json said self_consistency."""
    args = ["eval", "--model", "tiny", "--limit", "1", "--method", "sc", "--votes", "2", "--max-new-tokens", "4",
            "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "self_consistency"
    assert out.splitlines()[0] == "tiny on 1 problem, method self_consistency, n=1"


def test_data_named_like_a_task_is_read_as_the_file(tmp_path, monkeypatch, capsys):
    """`--data arith` (a file meant, its extension forgotten) silently evaluated the arith task, a file ./arith
    there or not. --data is a file whatever its name."""
    monkeypatch.chdir(tmp_path)
    args = ["eval", "--model", "tiny", "--data", "arith", "--limit", "3", "--method", "greedy", "--max-new-tokens",
            "4", "--quiet", "--json"]
    assert main(args) == 2 and "arith: no such file" in capsys.readouterr().err
    (tmp_path / "arith").write_text(json.dumps({"prompt": "1 + 1 =", "answer": "2"}) + "\n")
    assert main(args) == 2 and "arith: unsupported format '(no extension)'" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["generate", "hi", "--model", "", "--max-new-tokens", "1"], ["info", ""],
                                  ["eval", "--model", "tiny", "--model", "", "--sweep"],
                                  ["distill", "--teacher", "", "--out", "r"]])
def test_an_empty_checkpoint_path_is_refused_not_read_as_the_current_directory(args, monkeypatch, capsys):
    """`--model "$CKPT"` with the variable unset is Path("."): in a checkpoint directory it loaded that one
    silently, elsewhere it said ".: not a checkpoint"."""
    monkeypatch.chdir(Path(ponder.__file__).parent / "assets" / "tiny")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ": empty; name a checkpoint directory or 'tiny'" in err, err


def test_an_empty_run_dir_or_input_is_refused_not_read_as_the_current_directory(tmp_path, monkeypatch, capsys):
    """`ponder report "$RUN"` with the variable unset reported on the current directory (a run there: its
    report.html written); `ponder verify math ""` said ".: is a directory"."""
    (tmp_path / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss": 1.0}) + "\n")
    monkeypatch.chdir(tmp_path)
    for args, said in ((["report", ""], "run_dir: empty path"), (["verify", "math", ""], "input: empty path")):
        assert main(args) == 2 and said in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


def test_a_file_given_as_task_is_read_as_data(tmp_path, capsys):
    """`--task FILE` (accepted: "neither a task nor an existing file") judged an exported countdown file with the
    math verifier, which accepts a bare target, where `--data FILE` judged it by countdown; --split was ignored."""
    f = str(tmp_path / "cd.jsonl")
    assert main(["data", "export", "countdown", "-n", "2", "-o", f, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["eval", "--task", f, "--limit", "1", "--method", "greedy", "--max-new-tokens", "2", "--quiet",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["reward"] == "countdown"
    assert main(["eval", "--task", f, "--split", "train", "--limit", "1"]) == 2
    assert "--split: not used with --task FILE" in capsys.readouterr().err


def test_eval_prints_latency_to_three_significant_digits(tmp_path, capsys):
    """Latency is seconds: a sample of the tiny model takes under a millisecond, printed at 3 decimals as
    "0.001  [0.001, 0.001]" whatever it was; now its 3 significant digits, as summary.json has them."""
    assert main(["eval", "--model", "tiny", "--task", "arith", "--limit", "3", "--n", "2", "--max-new-tokens", "8",
                 "--quiet", "--out", str(tmp_path)]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.strip().startswith("mean_latency"))
    v = json.loads((tmp_path / "summary.json").read_text())["metrics"]["mean_latency"]
    assert line.split()[1:] == [f"{v['mean']:.3g}", f"[{v['lo']:.3g},", f"{v['hi']:.3g}]"]


def test_eval_resume_says_what_it_found_kept(tmp_path, capsys):
    """--resume on a directory with nothing kept (a mistyped --out) evaluated from the start without a word;
    a finished one says so, and --json's standard output stays the summary alone either way."""
    args = ["eval", "--model", "tiny", "--task", "arith", "--limit", "2", "--method", "greedy", "--max-new-tokens",
            "8", "--quiet", "--resume", "--json", "--out", str(tmp_path / "typo")]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "--resume found nothing kept there; evaluated from the start" in err and "resumed" not in json.loads(out)
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "this evaluation had finished" in err and "resumed" not in json.loads(out)


@pytest.mark.parametrize("args,match", [
    (["--sweep", "--votes", "3"], "--votes: not used with --sweep"),
    (["--sweep", "--method", "greedy", "--n", "4"], "--method, --n: not used with --sweep"),
    (["--ns", "1,2"], "--ns: used only with --sweep"),
    (["--method", "budget_forcing", "--waits", "1"], "--waits: used only with --sweep"),
    (["--ray-workers", "4"], "--ray-workers: used only with --ray"),
    # given at its default value it is given all the same (verify and grpo refused it; eval let it pass)
    (["--ray-workers", "2"], "--ray-workers: used only with --ray"),
    # (so is the other mode's option at its default: --method sampling, --ns 1,2,4,8,16 were silently ignored)
    (["--sweep", "--method", "sampling", "--max-new-tokens", "2"], "--method: not used with --sweep"),
    (["--ns", "1,2,4,8,16", "--max-new-tokens", "2"], "--ns: used only with --sweep"),
])
def test_eval_refuses_options_its_mode_would_ignore(capsys, args, match):
    assert main(["eval", "--limit", "1", *args]) == 2
    assert match in capsys.readouterr().err


@pytest.mark.parametrize("args,twin", [
    (["--method", "budget_forcing", "--waits", "1"], "a single --method takes --waits-bf"),
    (["--method", "budget_forcing", "--budgets", "16"], "a single --method takes --budget"),
    (["--sweep", "--waits-bf", "1"], "--sweep takes --waits"),
    (["--sweep", "--budget", "16", "--n", "2"], "--sweep takes --ns, --budgets"),
])
def test_eval_names_the_other_modes_flag_for_the_same_setting(capsys, args, twin):
    """Budget forcing's Wait extensions are --waits-bf for one method and --waits in a sweep (its budget --budget
    and --budgets, N --n and --ns): the refusal of one in the other mode said only "used only with --sweep", leaving
    a user of --method budget_forcing with no flag to turn to; it names the twin."""
    assert main(["eval", "--limit", "1", *args]) == 2
    err = capsys.readouterr().err
    assert twin in err and err.count("\n") == 1


def test_chat_refuses_bad_sampling_settings_before_the_first_line(monkeypatch, capsys):
    """A bad --top-p is one error line before the conversation starts, not after the user has typed."""
    monkeypatch.setattr("builtins.input", lambda prompt="": pytest.fail("asked for input with a bad --top-p"))
    assert main(["chat", "--top-p", "3"]) == 2
    std = capsys.readouterr()
    assert "argument --top-p: must be in (0, 1], got 3" in std.err and std.out == ""


@pytest.mark.parametrize("args,match", [
    (["verify", "math", "in.jsonl", "--ray-workers", "4"], "--ray-workers: used only with --ray"),
    (["grpo", "--explain", "--ray-workers", "4"], "--ray-workers: used only with --ray"),
    (["verify", "math", "in.jsonl", "--ray", "--workers", "3"], "--workers: not used with --ray"),
    (["eval", "--limit", "1", "--rubric", "be strict"], "--rubric: used only with --judge-model"),
    (["sft", "--data", "in.jsonl", "--out", "r", "--eval-every", "5"], "--eval-every: used only with --val-data"),
])
def test_options_are_refused_where_they_would_be_ignored(tmp_path, capsys, args, match):
    (tmp_path / "in.jsonl").write_text('{"completion": "42", "gold": "42"}\n')
    assert main([str(tmp_path / a) if a in ("in.jsonl", "r") else a for a in args]) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "in.verified.jsonl").exists() and not (tmp_path / "r").exists()


@pytest.mark.parametrize("cmd", [["grpo", "--model", "missing", "--data", "missing.jsonl", "--out", "r"],
                                 ["eval", "--model", "missing", "--data", "missing.jsonl"],
                                 ["verify", "math", "missing.jsonl"]])
def test_malformed_ray_address_is_refused_before_anything_is_loaded(tmp_path, capsys, cmd):
    """`--ray h:6379x` was refused only once the run connected to Ray: after its model (minutes for a large
    one) and data were loaded, and behind any error of theirs."""
    pytest.importorskip("ray")
    args = [str(tmp_path / a) if a in ("missing", "missing.jsonl", "r") else a for a in cmd]
    assert main([*args, "--ray", "h:6379x"]) == 2
    err = capsys.readouterr().err
    assert err.endswith("error: --ray 'h:6379x': expected HOST:PORT (PORT in 1..65535), ray://HOST:PORT or auto\n")
    assert not (tmp_path / "r").exists()


def test_grpo_ray_gpus_reach_the_actors(tmp_path, ckpt, capsys):
    """README's GPU recipe (`--ray HEAD:6379 --ray-workers 8`) put the actors on CPUs: the CLI never asked Ray for
    GPUs (train_ray's num_gpus_per_worker was unreachable). --ray-gpus G asks G per actor: on a machine without
    GPUs the pool is refused, naming them; without --ray it is refused as ignored."""
    import torch

    pytest.importorskip("ray")
    assert main(["grpo", "--explain", "--ray-gpus", "1"]) == 2
    assert "--ray-gpus: used only with --ray" in capsys.readouterr().err
    if torch.cuda.is_available():
        pytest.skip("a machine with GPUs would start the actors")
    run = ["grpo", "--model", str(ckpt), "--steps", "1", "--prompts-per-step", "2", "--group-size", "2",
           "--max-new-tokens", "4", "--quiet", "--out", str(tmp_path / "g"), "--ray", "--ray-workers", "1",
           "--ray-gpus", "1"]
    assert main(run) == 2
    assert "1 Ray workers x 1 GPU each need 1 GPUs, but the Ray cluster has 0" in capsys.readouterr().err
    assert not (tmp_path / "g" / "config.json").exists()


def test_threads_option_sets_torch_threads_for_the_command(ckpt, capsys):
    import torch

    before = torch.get_num_threads()
    try:
        assert main(["generate", "--model", str(ckpt), "--threads", "1", "--max-new-tokens", "2", "--json", "1 +"]) == 0
        assert torch.get_num_threads() == 1
        json.loads(capsys.readouterr().out)
    finally:
        torch.set_num_threads(before)
    for cmd in ("generate", "chat", "sft", "distill", "grpo", "demo", "eval", "probe"):
        assert "--threads" in _help(capsys, cmd), cmd


def test_chat_template_kwargs_reach_the_template_and_the_eval_record(tmp_path, capsys):
    """`--chat-template-kwargs` renders every prompt with them and the evaluation records them."""
    from test_tokenizer import QWEN3_THINKING

    model, tok = ponder.load("tiny")
    tok.chat_template = QWEN3_THINKING
    ponder.save(model, tok, tmp_path / "ck")
    out = {}
    for kw in ("{}", '{"enable_thinking": false}'):
        args = ["eval", "--model", str(tmp_path / "ck"), "--task", "arith", "--limit", "4", "--method", "greedy",
                "--max-new-tokens", "16", "--chat", "--chat-template-kwargs", kw, "--out", str(tmp_path / kw)]
        assert main(args) == 0
        capsys.readouterr()
        assert json.loads((tmp_path / kw / "config.json").read_text())["chat_template_kwargs"] == json.loads(kw)
        out[kw] = [json.loads(x)["completion"] for x in (tmp_path / kw / "samples.jsonl").read_text().splitlines()]
    assert out["{}"] != out['{"enable_thinking": false}']  # the pre-filled empty think block changes the prompt


def test_probe_takes_chat_template_kwargs_for_chat_prompts(tmp_path, capsys):
    """The probes sample prompts of chat messages (verl's layout) through the chat template, yet `ponder probe`
    had no --chat-template-kwargs (Qwen3's thinking could not be turned off there); they now reach the template,
    and text prompts, which render through none, refuse them in one line."""
    from test_tokenizer import QWEN3_THINKING

    model, tok = ponder.load("tiny")
    tok.chat_template = QWEN3_THINKING
    ponder.save(model, tok, tmp_path / "ck")
    data = tmp_path / "chat.jsonl"
    data.write_text("".join(json.dumps({"prompt": [{"role": "user", "content": f"What is {i} + 1?"}],
                                        "reward_model": {"ground_truth": str(i + 1)}}) + "\n" for i in range(2)))
    intra = {}
    for kw in ("{}", '{"enable_thinking": false}'):
        args = ["probe", "diversity", "--model", str(tmp_path / "ck"), "--data", str(data), "-n", "2", "--quiet",
                "--json", "--threads", "1", "--chat-template-kwargs", kw]
        assert main(args) == 0
        intra[kw] = json.loads(capsys.readouterr().out)["intra"]
    assert intra["{}"] != intra['{"enable_thinking": false}']  # the pre-filled empty think block changes the prompt
    assert main(["probe", "diversity", "--limit", "2", "--chat-template-kwargs", '{"enable_thinking": false}']) == 2
    err = capsys.readouterr().err
    assert "--chat-template-kwargs: these prompts are text" in err and err.count("\n") == 1


def test_verify_and_export_outputs_never_replace_a_checkpoints_or_runs_files(tmp_path, capsys):
    """`ponder verify -o` and `ponder data export -o` replaced any file: a checkpoint's tokenizer.json or
    config.json (the model then no longer loaded) or a run's metrics.jsonl. Those are refused in one line, the
    files left as they were; a new file in such a directory, or an output of its own, is written."""
    import shutil

    ck = Path(shutil.copytree(Path(ponder.__file__).parent / "assets" / "tiny", tmp_path / "ck"))
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"kind": "grpo"}))
    (run / "metrics.jsonl").write_text('{"step": 1}\n')
    rows = tmp_path / "in.jsonl"
    rows.write_text(json.dumps({"completion": "\\boxed{4}", "answer": "4"}) + "\n")
    before = {p: p.read_bytes() for d in (ck, run) for p in d.iterdir()}
    for out in (ck / "tokenizer.json", ck / "config.json", run / "metrics.jsonl"):
        for args in (["verify", "math", str(rows), "-o", str(out), "--workers", "1", "--quiet"],
                     ["data", "export", "arith", "-n", "2", "-o", str(out), "--quiet"]):
            assert main(args) == 2
            err = capsys.readouterr().err
            assert f"{out}: is a file of a " in err and err.count("\n") == 1, err
    assert {p: p.read_bytes() for d in (ck, run) for p in d.iterdir()} == before
    for out in (run / "verified.jsonl", run / "verified.jsonl"):  # (twice: its own output is replaced)
        assert main(["verify", "math", str(rows), "-o", str(out), "--workers", "1", "--quiet"]) == 0
    assert main(["data", "export", "arith", "-n", "2", "-o", str(ck / "problems.jsonl"), "--quiet"]) == 0
    capsys.readouterr()


def test_a_reader_that_stops_early_is_not_an_error():
    """`ponder info --json | head -c 1` used to end with 'ponder info: error: Broken pipe' and exit 2."""
    import os

    r, w = os.pipe()
    os.close(r)  # the reader is gone before the command writes
    try:
        p = subprocess.run([sys.executable, "-m", "ponder.cli", "info", "tiny", "--json"], stdout=w,
                           stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        os.close(w)
    assert p.returncode == 141 and p.stderr == "", p.stderr


@pytest.mark.parametrize("args, prog", [(["eval", "--bogus", "1"], "ponder eval"),
                                        (["data", "export", "arith", "-o", "x", "--bogus"], "ponder data export")])
def test_unknown_options_are_blamed_on_their_command(args, prog, capsys):
    """An unknown option used to be reported as 'ponder: error: ... (see ponder --help)', not by its command."""
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err == f"{prog}: error: unrecognized arguments: {' '.join(args[-2 if args[0] == 'eval' else -1:])} " \
                  f"(see {prog} --help)\n"


def test_probes_print_their_evidence_for_people(capsys):
    """`ponder probe diversity` used to print its JSON cut at 4000 characters (invalid, mid-record) and
    `probe contamination` only 'contaminated: False', none of the evidence behind the verdict, after minutes of
    generation with no progress bar."""
    assert main(["probe", "diversity", "--limit", "40", "--n", "3", "--threads", "1"]) == 0
    out, err = capsys.readouterr()
    assert "diversity probe: 100%" in err and "| 120/120 " in err  # 40 prompts x 3 samples (it had no bar)
    assert out.startswith("diversity: 3 samples per prompt, 40 prompts") and "{" not in out
    assert out.splitlines()[2].split()[0] == "tiny" and out.count("[") == 4
    assert main(["probe", "contamination", "--limit", "4", "--threads", "1"]) == 0
    out, err = capsys.readouterr()
    assert "contamination probe: 100%" in err and "| 32/32 " in err  # 4 x 3 prefixes, twice; 4 + 4 answers
    lines = out.splitlines()
    # 4 problems: no test could reject whatever the model did, so no clean bill
    assert lines[0].startswith("contaminated: insufficient evidence (too few items to decide: ")
    assert "exact match 0.00 (flagged at 0.2)" in lines[1]
    assert lines[2].startswith("  perturbed numbers: accuracy")


def test_text_output_says_one_problem_in_the_singular(capsys):
    """`ponder eval --limit 1` printed "tiny on 1 problems"; sft and distill "1 of 1 examples were cut"."""
    from ponder.cli import _warn_cut

    assert main(["eval", "--limit", "1", "--max-new-tokens", "4", "--quiet", "--threads", "1"]) == 0
    assert capsys.readouterr().out.startswith("tiny on 1 problem, method sampling")
    _warn_cut("sft", {"examples_cut": 1, "val_examples_cut": 2}, 1, 3)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("sft: 1 of 1 example was cut at --seq-len")
    assert err[1].startswith("sft: 2 of 3 validation examples were cut at --seq-len")


def test_probe_contamination_reads_a_chat_message_data_file(tmp_path, capsys):
    """`probe contamination --data F` on rows whose prompt is chat messages (verl's / open-r1's layout, which
    eval and grpo read) failed: "chat prompts cannot be prefix-probed". It probes the last user message's
    text; rows without a word template are answered but not perturbed, and the output says why."""
    from ponder.tasks import generate

    items = generate("word", "test", 2, seed=0)
    rows = [{"prompt": [{"role": "user", "content": it["prompt"]}],
             "reward_model": {"ground_truth": it["answer"]}} for it in items]
    data = tmp_path / "chat.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["probe", "contamination", "--data", str(data), "--quiet", "--threads", "1", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    # the raw problem text is continued, with no chat template around it
    assert len(res["prefix"]["items"]) == 6 and all(
        items[r["index"]]["prompt"].startswith(r["prefix"] + " ") for r in res["prefix"]["items"])
    assert res["perturbation"] is None and "no number re-sampler" in res["perturbation_skipped"]
    assert res["settings"]["model"] == "tiny"  # (which model was probed: it was nowhere in the result)
    assert main(["probe", "contamination", "--data", str(data), "--quiet", "--threads", "1"]) == 0
    assert "perturbed numbers: not run (no number re-sampler" in capsys.readouterr().out


def test_the_same_concept_has_the_same_option_in_every_command():
    """The count of samples/items was `-n` in generate and distill but `--n` in eval, probe and data export (each
    refusing the other spelling), and the output file `-o/--output` in verify and data export but `--out`
    elsewhere; every command now takes both spellings."""
    parser = build_parser()
    for name, _, a in _options(parser):
        if a.dest == "n":
            assert {"-n", "--n"} <= set(a.option_strings), name
        if a.dest in ("out", "output"):
            assert {"-o", "--out"} <= set(a.option_strings), name
    ns = parser.parse_args(["data", "export", "arith", "-n", "3", "--out", "x.jsonl"])
    assert (ns.n, ns.output) == (3, "x.jsonl")
    assert parser.parse_args(["generate", "hi", "--n", "2"]).n == parser.parse_args(["eval", "-n", "2"]).n == 2


def test_grpo_resumes_the_run_in_out_as_the_other_training_commands_do(tmp_path, capsys):
    """`ponder grpo --out DIR --resume` (the form of sft, distill and pretrain) used to be a usage error: grpo
    wanted `--resume DIR` and refused --out beside it."""
    run = tmp_path / "g"
    base = ["grpo", "--prompts-per-step", "2", "--group-size", "2", "--max-new-tokens", "8", "--eval-every", "5",
            "--eval-n", "2", "--quiet", "--json"]
    assert main([*base, "--steps", "1", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["grpo", "--out", str(run), "--resume", "--steps", "2", "--quiet", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["steps"] == 2 and "Ray" not in err
    # a run that sampled on Ray actors (config.json "ray", as train_ray records it) resumed without --ray went on in
    # this process with nothing said
    cfg = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**cfg, "ray": {"threads": 1, "workers": 1}}))
    assert main(["grpo", "--out", str(run), "--resume", "--steps", "3", "--quiet", "--json"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == (f"resume: {run} sampled on Ray actors; it continues in this process, "
                                               "which draws the same samples (pass --ray [ADDRESS] to sample on "
                                               "actors again)")
    # with --nproc it goes on on the ranks, not "in this process"
    from argparse import Namespace

    from ponder.cli import _ray_run_resumed_note

    assert "it continues on 2 data-parallel ranks, which draw the same samples" in _ray_run_resumed_note(
        run, Namespace(nproc=2))
    (run / "config.json").write_text(json.dumps(cfg))
    assert main(["grpo", "--resume", str(run), "--out", str(run), "--steps", "4", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["grpo", "--resume", str(run), "--out", str(tmp_path / "other"), "--steps", "5"]) == 2
    assert "name two different runs" in capsys.readouterr().err


@pytest.mark.parametrize("args, msg", [
    (["--effort", "low"], "--effort is for --method effort, not sampling"),
    (["--votes", "3", "--method", "greedy"], "--votes is for --method self_consistency, not greedy"),
    (["--scorer", "logprob"], "--scorer is for --method best_of_n or self_refine, not sampling"),
    (["--method", "effort", "--budget", "8"], "--budget is for --method budget_forcing, not effort"),
])
def test_eval_names_the_flag_another_method_takes(args, msg, capsys):
    """An option of another method used to be refused by its internal keyword ("method 'sampling' has no
    option(s) ['level']"), or (effort's --budget) only after the progress bar had started."""
    assert main(["eval", "--limit", "1", "--max-new-tokens", "4", *args]) == 2
    assert capsys.readouterr().err == f"ponder eval: error: {msg}\n"


def test_inputs_that_are_not_what_they_should_be_are_named(tmp_path, capsys):
    """`probe contamination -m A -m B` used to probe A and silently ignore B; `sft --data DIR` said 'no such
    file' of a directory that exists."""
    assert main(["probe", "contamination", "-m", "tiny", "-m", "tiny", "--limit", "1"]) == 2
    assert "contamination probes one model; got 2 --model values" in capsys.readouterr().err
    assert main(["sft", "--data", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err == f"ponder sft: error: {tmp_path}: is a directory\n"


def test_sft_resume_of_another_commands_directory_says_what_it_is(tmp_path, capsys):
    """It used to say "its config.json names no data file; pass --data", as if --data would help."""
    (tmp_path / "config.json").write_text(json.dumps({"kind": "eval"}))
    assert main(["sft", "--out", str(tmp_path), "--resume"]) == 2
    assert f"{tmp_path}: holds an 'eval' result, not an 'sft' run" in capsys.readouterr().err
    (tmp_path / "config.json").write_text(json.dumps({"kind": "grpo"}))
    assert main(["sft", "--out", str(tmp_path), "--resume"]) == 2
    assert f"{tmp_path}: holds a 'grpo' run, not an 'sft' run" in capsys.readouterr().err


def test_pretrain_resume_of_another_commands_directory_says_what_it_is(tmp_path, capsys):
    """An sft run was "not a pretraining run (its config.json has no pretraining settings)", though its config.json
    has the same "train" settings: it says what the directory holds, as sft --resume does."""
    for kind, said in (("sft", "an 'sft' run"), ("grpo", "a 'grpo' run"), ("eval", "an 'eval' result")):
        (tmp_path / "config.json").write_text(json.dumps({"kind": kind, "train": {"steps": 5}}))
        assert main(["pretrain", "--out", str(tmp_path), "--resume"]) == 2
        assert f"{tmp_path}: holds {said}, not a 'pretrain' run" in capsys.readouterr().err


def test_ctrl_c_in_a_training_command_says_how_to_continue(tmp_path, monkeypatch, capsys):
    """An interrupted run with a checkpoint names the command that resumes it; before, only "interrupted"."""
    import ponder.cli as cli
    from ponder.train import STATE

    def interrupted(a):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "cmd_sft", interrupted)
    run = tmp_path / "my run"
    assert main(["sft", "--data", "x.jsonl", "--out", str(run)]) == 130
    assert capsys.readouterr().err == ("interrupted; nothing was saved yet, so --resume has nothing to continue: "
                                       "run the command again\n")
    (run / "checkpoint").mkdir(parents=True)
    (run / "checkpoint" / STATE).write_bytes(b"")
    assert main(["sft", "--data", "x.jsonl", "--out", str(run)]) == 130
    assert capsys.readouterr().err == f"interrupted; continue with: ponder sft --out '{run}' --resume\n"
    # a distillation stopped after its samples were saved, before a checkpoint: --resume cannot continue it,
    # the samples can be fine-tuned on (it said only "interrupted")
    monkeypatch.setattr(cli, "cmd_distill", interrupted)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "distilled.jsonl").write_text("")
    assert main(["distill", "--teacher", "t", "--model", "tiny", "--out", str(tmp_path / "d")]) == 130
    kept = tmp_path / "d" / "distilled.jsonl"
    assert capsys.readouterr().err == (f"interrupted; the kept teacher samples are in {kept}: fine-tune on them "
                                       f"with ponder sft --model tiny --data {kept} --out NEW_DIR\n")


def test_ctrl_c_after_the_last_checkpoint_says_the_run_finished_not_to_resume_it(tmp_path, monkeypatch, capsys):
    """Ctrl-C once the final checkpoint was saved (while training.png was drawn: the bar at 100% and the process
    still busy for seconds) said "continue with: ponder sft --out RUN --resume", which was then refused ("the run is
    at step 6 of 6"). Found by interrupting `ponder sft --steps 6` once its step-6 trainer state was on disk."""
    import ponder.cli as cli
    from ponder.train import STATE

    run = tmp_path / "r"
    (run / "checkpoint").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"kind": "sft", "train": {"steps": 6}}))

    def interrupted(a):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "cmd_sft", interrupted)
    for at, said in ((4, f"interrupted; continue with: ponder sft --out {run} --resume"),
                     (6, f"interrupted after the run's last checkpoint: it is finished (step 6 of 6); `ponder report "
                         f"{run}` draws its plots")):
        torch.save({"step": at}, run / "checkpoint" / STATE)
        assert main(["sft", "--data", "x.jsonl", "--out", str(run)]) == 130
        assert capsys.readouterr().err == said + "\n"
    # a resume to a further target stopped before config.json took it: continued to that target, not "finished"
    assert main(["sft", "--out", str(run), "--resume", "--steps", "10"]) == 130
    assert capsys.readouterr().err == f"interrupted; continue with: ponder sft --out {run} --resume --steps 10\n"


def test_ctrl_c_while_the_command_line_is_read_is_no_traceback(monkeypatch, capsys):
    """--vocab's check imports torch (seconds on a busy machine): Ctrl-C then printed a 60-line traceback of
    argparse and torch's import. Found by `timeout -s INT 5 ponder pretrain --vocab 300 ...` on a loaded machine."""
    import ponder.cli as cli

    def slow_import(text):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "_vocab", slow_import)
    assert main(["pretrain", "--out", "x", "--vocab", "300"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


@pytest.mark.parametrize("argv", [["info"], ["grpo", "--out", "RUN"], ["eval", "--out", "RUN"]])
def test_ctrl_c_while_a_command_imports_torch_is_one_line(argv, tmp_path, monkeypatch, capsys):
    """Ctrl-C in a command's first seconds (inside `import torch`) left torch half imported; the handler, importing
    it again to look for a run to continue (distributed.ddp, train, evaluate), raised ImportError: a 40-line
    traceback of torch's internals. Found by `ponder info` signalled 1.5 s after it started."""
    import sys

    import ponder.cli as cli

    def interrupted_in_an_import(a):
        for mod in ("torch", "ponder.distributed.ddp", "ponder.train", "ponder.evaluate"):
            monkeypatch.setitem(sys.modules, mod, None)  # importing it raises ImportError, as half-imported torch did
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, f"cmd_{argv[0]}", interrupted_in_an_import)
    argv = [str(tmp_path / x) if x == "RUN" else x for x in argv]
    assert main(argv) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_ctrl_c_inside_torchs_import_waits_for_it_to_finish(tmp_path, monkeypatch, capsys):
    """Ctrl-C in a command's first second landed inside torch's import (its and numpy's C extensions): the command
    died of a segmentation fault, aborted in C++, failed with "module 'numpy' has no attribute 'multiply'", or the
    interrupt was swallowed and `ponder grpo` trained on to its end. The import now finishes first; the interrupt
    then stops the command with its one line. (A stand-in module that presses Ctrl-C as it is imported.)"""
    import signal
    import sys

    import ponder.cli as cli

    (tmp_path / "heavy_stand_in.py").write_text(
        "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(0.05)\nFINISHED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "heavy_stand_in", raising=False)
    monkeypatch.setattr(cli, "_HEAVY", "heavy_stand_in")
    ran = []
    monkeypatch.setattr(cli, "cmd_info", lambda a: ran.append(a))
    held = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert main(["info"]) == 130
    finally:
        signal.signal(signal.SIGINT, held)
    assert capsys.readouterr().err == "interrupted\n"
    assert sys.modules["heavy_stand_in"].FINISHED and not ran  # imported whole, and the command never ran
    monkeypatch.delitem(sys.modules, "heavy_stand_in")


def test_pretrain_says_it_builds_the_corpus_unless_quiet(tmp_path, monkeypatch, capsys):
    """The corpus (the recipe's 200,000 documents) was built with nothing on stderr, before any progress bar."""
    def built(**corpus):
        raise SystemExit(7)  # (what comes after the corpus is another test's)

    monkeypatch.setattr("ponder.tasks.corpus.build_corpus", built)
    args = ["pretrain", "--out", str(tmp_path / "r"), "--docs", "50", "--hidden", "32", "--layers", "1"]
    with pytest.raises(SystemExit):
        main(args)
    assert "pretrain: building the corpus (50 documents)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*args, "--quiet"])
    assert capsys.readouterr().err == ""


def test_pretrain_streams_is_recorded_and_kept_by_resume(tmp_path, capsys):
    """--streams N trains on N shards at once and is recorded; --resume keeps the run's own (given again: refused,
    not ignored)."""
    run = tmp_path / "r"
    args = ["pretrain", "--out", str(run), "--docs", "50", "--hidden", "32", "--layers", "1", "--seq-len", "64",
            "--batch-size", "4", "--steps", "2", "--streams", "2", "--quiet"]
    assert main(args) == 0
    assert json.loads((run / "config.json").read_text())["train"]["streams"] == 2
    capsys.readouterr()
    assert main(["pretrain", "--out", str(run), "--resume", "--streams", "2", "--steps", "3"]) == 2
    assert "drop --streams (or start a new run)" in capsys.readouterr().err
    assert main(["pretrain", "--out", str(run), "--resume", "--steps", "3", "--quiet"]) == 0
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 3


def test_pretrain_stopped_before_its_first_checkpoint_says_to_run_it_again(tmp_path, monkeypatch, capsys):
    """SIGTERM before the first checkpoint printed "terminated (SIGTERM)" alone, and --resume then refused the
    run; the line says nothing was saved, so --resume has nothing to continue, and how to start again."""
    import signal

    import ponder.cli as cli
    import ponder.train

    def stopped(*args, **kwargs):
        raise cli.Terminated(signal.SIGTERM)

    monkeypatch.setattr(ponder.train, "optimizer_step", stopped)
    run = tmp_path / "r"
    args = ["pretrain", "--out", str(run), "--docs", "50", "--hidden", "32", "--layers", "1", "--seq-len", "64",
            "--batch-size", "2", "--steps", "3", "--quiet"]
    assert main(args) == 143
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"terminated (SIGTERM); nothing was saved yet (it stopped before its first checkpoint), so --resume has "
        f"nothing to continue: remove {run} and run the command again")
    assert main(["pretrain", "--out", str(run), "--resume"]) == 2 and "nothing to resume" in capsys.readouterr().err
    monkeypatch.setattr(cli, "_pretrain_corpus", stopped)  # stopped before the run directory was written
    assert main([*args[:2], str(tmp_path / "s"), *args[3:]]) == 143
    assert capsys.readouterr().err == ("terminated (SIGTERM); nothing was saved yet, so --resume has nothing to "
                                       "continue: run the command again\n")


def test_a_run_stopped_under_torchrun_says_how_to_continue_once(tmp_path, monkeypatch, capsys):
    """`torchrun --nproc_per_node N -m ponder.cli grpo ...` stopped (Ctrl-C, a scheduler's SIGTERM): every rank
    printed the resume hint, N copies of one command. Rank 0, the rank that wrote the run and prints its summary,
    gives it; the others say only how they stopped."""
    import signal

    import ponder.cli as cli
    from ponder.train import STATE

    def stopped(a):
        raise cli.Terminated(signal.SIGTERM)
    monkeypatch.setattr(cli, "cmd_grpo", stopped)
    run = tmp_path / "r"
    (run / "checkpoint").mkdir(parents=True)
    (run / "checkpoint" / STATE).write_bytes(b"")
    for k, v in dict(WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT="29500").items():
        monkeypatch.setenv(k, v)
    # (and it names torchrun's command: 'ponder grpo --out RUN --resume' continued the ranks' run in one process)
    for rank, said in (("0", f"terminated (SIGTERM); continue with: torchrun --nproc_per_node 2 -m ponder.cli grpo "
                             f"--out {run} --resume\n"),
                       ("1", "terminated (SIGTERM)\n")):
        monkeypatch.setenv("RANK", rank)
        monkeypatch.setenv("LOCAL_RANK", rank)
        assert main(["grpo", "--out", str(run)]) == 143
        assert capsys.readouterr().err == said
    monkeypatch.setenv("RANK", "0")  # 2 machines of 2 ranks
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert main(["grpo", "--out", str(run)]) == 143
    assert capsys.readouterr().err == (f"terminated (SIGTERM); continue with: torchrun --nproc_per_node 2 -m ponder.cli "
                                       f"grpo --out {run} --resume on each of the run's 2 machines\n")


_SIGNALS = [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated (SIGTERM)"),
            ("SIGHUP", 129, "terminated (SIGHUP)")]


def _sft_argv(ckpt, data):
    # warmup past every step: the learning rate of step s does not depend on --steps, so the run stopped on its
    # way to a million steps and resumed to step n is the run trained straight to n
    return ["sft", "--model", str(ckpt), "--data", str(data), "--seq-len", "32", "--batch-size", "4",
            "--warmup", "1000000", "--save-every", "1", "--threads", "1", "--quiet"]


@pytest.fixture(scope="module")
def signalled(tmp_path_factory, ckpt):
    """For each signal: (its run directory, the command's exit status, its stderr), the command stopped by it once
    its first checkpoint was in place. The three commands run side by side (each spends seconds on its imports),
    each signalled when its own checkpoint is there: a condition, not a time."""
    import signal
    import time

    from ponder.train import STATE

    root = tmp_path_factory.mktemp("signalled")
    data = root / "d.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"{a} + 1 =", "response": f" {a + 1}"}) + "\n" for a in range(9)))
    procs = {}
    # the commands start as from a terminal: a test run launched in the background (`&` ignores SIGINT) or under
    # nohup (SIGHUP) passed its ignored signals on, which the commands rightly leave ignored: they ran on
    held = {signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
            signal.SIGHUP: signal.signal(signal.SIGHUP, signal.SIG_DFL)}
    try:
        for sig, _, _ in _SIGNALS:
            run = root / sig
            procs[sig] = run, subprocess.Popen(
                [sys.executable, "-m", "ponder", *_sft_argv(ckpt, data), "--steps", "1000000", "--out", str(run)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        for s, h in held.items():
            signal.signal(s, h)
        deadline = time.monotonic() + 600  # (only a wedged command meets it: the test then fails, saying so)
        waiting = dict(procs)
        while waiting:
            for sig, (run, p) in list(waiting.items()):
                if (run / "checkpoint" / STATE).is_file() or p.poll() is not None:
                    assert p.poll() is None, p.stderr.read()[-2000:]
                    p.send_signal(getattr(signal, sig))
                    del waiting[sig]
            assert time.monotonic() < deadline, f"no checkpoint from {sorted(waiting)} in 600 s"
            time.sleep(0.05)
        result = {}
        for sig, (run, p) in procs.items():
            _, err = p.communicate(timeout=300)
            result[sig] = run, p.returncode, err
        return data, result
    finally:  # never leave a training run behind
        for s, h in held.items():
            signal.signal(s, h)
        for _, p in procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


@pytest.mark.parametrize("sig, code, said", _SIGNALS)
def test_a_training_command_stopped_by_a_signal_says_how_to_continue_and_resumes_exactly(tmp_path, ckpt, signalled,
                                                                                        sig, code, said):
    """SIGTERM (a scheduler's preemption, Kubernetes, `timeout`) killed a training command outright: exit -15, no
    word on how to resume, no cleanup. It now stops the run as Ctrl-C does, exiting 128 + 15, and the run
    directory resumes to the uninterrupted run's metrics."""
    import shlex

    from ponder.train import STATE

    data, result = signalled
    run, returncode, err = result[sig]
    assert returncode == code, err[-2000:]
    assert err.splitlines()[-1] == f"{said}; continue with: ponder sft --out {shlex.quote(str(run))} --resume"
    at = torch.load(run / "checkpoint" / STATE, weights_only=False)["step"]
    assert main(["sft", "--out", str(run), "--resume", "--steps", str(at + 2), "--quiet"]) == 0
    assert main([*_sft_argv(ckpt, data), "--steps", str(at + 2), "--out", str(tmp_path / "a")]) == 0
    a, b = ([json.loads(x) for x in (r / "metrics.jsonl").read_text().splitlines()] for r in (tmp_path / "a", run))
    assert [x["step"] for x in b] == list(range(1, at + 3))
    assert [x["loss"] for x in a] == [x["loss"] for x in b]


def test_a_ctrl_c_arriving_as_the_trainer_state_write_begins_stays_an_interrupt(tmp_path, ckpt, capsys):
    """Python runs a signal's handler between two bytecodes: one arriving just as torch.save called the state
    file's write (before the write's own `try`) raised its KeyboardInterrupt there, and torch.save turned it
    into a RuntimeError: the command exited 2 with no resume hint (a race of the test above). Signals that
    arrive during torch.save are handled once it returns: 130, the hint, and the previous checkpoint kept."""
    import signal
    import threading

    from ponder.train import STATE, _Writes

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are the main thread's")
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"{a} + 1 =", "response": f" {a + 1}"}) + "\n" for a in range(9)))
    sft = ["sft", "--model", str(ckpt), "--data", str(data), "--seq-len", "32", "--batch-size", "4", "--steps", "3",
           "--save-every", "1", "--quiet", "--out", str(tmp_path / "r")]
    writes = []

    def ctrl_c_as_a_write_of_step_2s_state_begins(frame, event, arg):  # (step 1's checkpoint is in place)
        if event == "call" and frame.f_code is _Writes.write.__code__ \
                and (tmp_path / "r" / "checkpoint" / STATE).is_file():
            writes.append(1)
            if len(writes) == 2:  # (torch.save's first write gave the interrupt back as it was)
                os.kill(os.getpid(), signal.SIGINT)
        return None

    tracer = sys.gettrace()
    sigint = signal.signal(signal.SIGINT, signal.default_int_handler)  # (a test run in the background ignores it)
    sys.settrace(ctrl_c_as_a_write_of_step_2s_state_begins)
    try:
        code = main(sft)
    finally:
        sys.settrace(tracer)
        signal.signal(signal.SIGINT, sigint)
    err = capsys.readouterr().err
    assert code == 130, err
    assert err.splitlines()[-1].startswith("interrupted; continue with: ponder sft --out")
    assert len(writes) >= 2 and torch.load(tmp_path / "r" / "checkpoint" / STATE, weights_only=False)["step"] == 1


def test_sigterm_while_a_checkpoint_moves_in_keeps_the_previous_one_and_resumes_exactly(tmp_path, ckpt, monkeypatch,
                                                                                       capsys):
    """SIGTERM between the two renames of a checkpoint swap (the old one aside, the new one not yet in): the
    previous checkpoint is back in place, the resume hint names the run, and --resume ends where a straight run
    does."""
    import os
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are the main thread's")
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"{a} + 1 =", "response": f" {a + 1}"}) + "\n" for a in range(9)))
    sft = ["sft", "--model", str(ckpt), "--data", str(data), "--seq-len", "32", "--batch-size", "4", "--steps", "3",
           "--save-every", "1", "--quiet"]
    assert main([*sft, "--out", str(tmp_path / "a")]) == 0
    real, asides = os.replace, []

    def replace(src, dst):
        real(src, dst)
        if Path(dst).name.startswith(".checkpoint.old-"):
            asides.append(dst)
            if len(asides) == 1:  # the step-1 checkpoint set aside for step 2's
                os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(os, "replace", replace)
    run = tmp_path / "b"
    assert main([*sft, "--out", str(run)]) == 143
    monkeypatch.setattr(os, "replace", real)
    assert capsys.readouterr().err.splitlines()[-1] == f"terminated (SIGTERM); continue with: ponder sft --out {run} --resume"
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []  # no temporary or set-aside copy
    assert torch.load(run / "checkpoint" / "trainer_state.pt", weights_only=False)["step"] == 1
    assert main(["sft", "--out", str(run), "--resume", "--quiet"]) == 0
    a, b = ([json.loads(x) for x in (tmp_path / r / "metrics.jsonl").read_text().splitlines()] for r in "ab")
    assert [(x["step"], x["loss"]) for x in a] == [(x["step"], x["loss"]) for x in b]


def test_an_ignored_sigterm_stays_ignored(monkeypatch, capsys):
    """A launcher that ignores SIGTERM (as nohup does SIGHUP) had the CLI stop on it anyway; ignored, it is left
    ignored, as Python leaves an ignored SIGINT."""
    import os
    import signal
    import threading

    import ponder.cli as cli

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are the main thread's")
    monkeypatch.setattr(cli, "cmd_sft", lambda a: os.kill(os.getpid(), signal.SIGTERM))
    old = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        assert main(["sft", "--data", "x.jsonl", "--out", "r"]) == 0
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, old)
    assert capsys.readouterr().err == ""


_SECOND_SIGTERM = '''
import os, signal, time
from ponder.cli import _sigterm_as_interrupt
with _sigterm_as_interrupt():
    r, w = os.pipe()
    child = os.fork()
    if child == 0:  # a forked worker (a scoring process): SIGTERM ends it as by default
        os.write(w, b"1")  # (a signal that arrives before Python's after-fork reset is dropped)
        time.sleep(60)
        os._exit(0)
    os.read(r, 1)
    os.kill(child, signal.SIGTERM)
    status = os.waitpid(child, 0)[1]
    print(os.WIFSIGNALED(status) and os.WTERMSIG(status), flush=True)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(60)
    except KeyboardInterrupt as e:
        print(type(e).__name__, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)  # a second SIGTERM during the cleanup ends the process
        time.sleep(60)
        print("survived", flush=True)
'''


def test_sigterm_handling_ends_forked_workers_and_a_second_sigterm_as_by_default():
    """The CLI's SIGTERM handler is inherited by forked children: there it must not raise into the parent's code
    (the child would run on as a copy of its parent); in the main process a second SIGTERM ends a slow cleanup."""
    import signal

    p = subprocess.run([sys.executable, "-c", _SECOND_SIGTERM], capture_output=True, text=True, timeout=300)
    assert (p.stdout, p.returncode) == (f"{int(signal.SIGTERM)}\nTerminated\n", -signal.SIGTERM), p.stderr[-2000:]


def test_every_command_that_reports_results_takes_json(tmp_path, capsys):
    """The README's promise; `data export` and `report` used to print text only."""
    leaves = {name for name, _, a in _options(build_parser()) if name != "ponder"}
    with_json = {name for name, _, a in _options(build_parser()) if "--json" in a.option_strings}
    assert leaves - with_json == {"ponder chat"}  # interactive
    out = tmp_path / "t.jsonl"
    assert main(["data", "export", "arith", "--n", "3", "-o", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"task": "arith", "split": "test", "n": 3, "seed": 0,
                                                   "output": str(out)}
    # -o -: standard output holds the problems, so the JSON goes to standard error, as its --help says
    assert main(["data", "export", "arith", "--n", "3", "-o", "-", "--json", "--quiet"]) == 0
    res = capsys.readouterr()
    assert [json.loads(x)["task"] for x in res.out.splitlines()] == ["arith"] * 3
    assert json.loads(res.err)["output"] == "-"
    assert "on standard error with -o -" in _help(capsys, "data", "export").split("--json ", 1)[1]


def test_set_none_unsets_the_parts_that_take_none(capsys):
    """--set max_len_norm=none / overlong_cache=none mean "derive it from --max-new-tokens" (bind); the string
    "none" used to reach the objective and be refused, while clip=none stays the clip named "none"."""
    assert main(["grpo", "--preset", "dr_grpo", "--set", "max_len_norm=none", "--max-new-tokens", "40",
                 "--explain"]) == 0
    assert "L_norm = 40" in capsys.readouterr().out
    assert main(["grpo", "--preset", "dapo", "--set", "overlong_cache=none", "--set", "clip=none", "--explain"]) == 0
    assert "clip='none'" in capsys.readouterr().out


def test_set_none_as_the_objective_error_writes_it(capsys):
    """The objective's own message says "overlong_cache >= 1 ..., or None for max_new_tokens // 5"; --set
    overlong_cache=None, as it reads, was then refused as "overlong_cache='None' must be an integer"."""
    assert main(["grpo", "--set", "overlong_penalty=true", "--explain"]) == 2
    assert "or None for max_new_tokens // 5" in capsys.readouterr().err
    assert main(["grpo", "--set", "overlong_penalty=true", "--set", "overlong_cache=None", "--max-new-tokens", "40",
                 "--explain"]) == 0
    assert "L_cache = 8" in capsys.readouterr().out


def test_set_a_switch_as_the_trainer_error_writes_it(capsys):
    """grpo's message for max_refill without a group filter says "set objective group_filter=True"; --set
    group_filter=True, as it reads, was refused as "group_filter='True' must be true or false"."""
    assert main(["grpo", "--set", "group_filter=True", "--explain"]) == 0
    assert "group_filter=on" in capsys.readouterr().out
    assert main(["grpo", "--preset", "dapo", "--set", "group_filter=False", "--explain"]) == 0


def test_every_command_and_subcommand_help_says_what_it_does(capsys):
    """`ponder data export --help` showed only its usage and options, without a sentence saying what it does."""
    def parsers(p, name):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for sub_name, sub in a.choices.items():
                    yield f"{name} {sub_name}", sub
                    yield from parsers(sub, f"{name} {sub_name}")
    found = dict(parsers(build_parser(), "ponder"))
    assert "ponder data export" in found
    assert not [n for n, p in found.items() if len((p.description or "").split()) < 4]
    text = _help(capsys, "data", "export")
    assert found["ponder data export"].description.split()[0] in text


def test_python_dash_m_ponder_runs_the_cli():
    """`python -m ponder` failed ("No module named ponder.__main__") where the console script is not on PATH."""
    ok, bad = (subprocess.Popen([sys.executable, "-m", "ponder", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # (both started at once: each waits on imports)
               for args in (["--help"], ["data", "export", "nope", "-o", "-"]))
    (ok_out, _), (_, bad_err) = ok.communicate(timeout=300), bad.communicate(timeout=300)
    assert ok.returncode == 0 and ok_out.startswith("usage: ponder ")
    assert bad.returncode == 2 and "unknown task 'nope'" in bad_err and "Traceback" not in bad_err


def test_the_cli_the_verifiers_and_a_verifier_only_ray_actor_start_without_torch():
    """`import ponder` imported torch (~3 s of CPU on a 2-core box) for every process: `ponder --help`, `ponder
    verify`, a scoring-only Ray actor, a script using ponder.verify alone. Its model, sampling and checkpoint names
    import it when first read."""
    code = ("import sys, ponder, ponder.cli, ponder.verify.registry, ponder.verify.run, ponder.tasks.data\n"
            "from ponder.distributed.ray_workers import Worker, versions\n"
            "from ponder.cli import main\n"
            "assert main(['data', 'export', 'arith', '--split', 'test', '-n', '1', '-o', '-']) == 0\n"
            "Worker(threads=2)\n"
            "print('torch' in sys.modules, versions()['torch'], ponder.Transformer.__module__, 'torch' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == f"False {torch.__version__} ponder.model True"
    assert "load" in dir(ponder) and ponder.load is ponder.checkpoint.load
    p = subprocess.run([sys.executable, "-c", "import ponder; print(ponder.model.Transformer.__name__, ponder.rl.ObjectiveConfig.__name__)"],
                       capture_output=True, text=True, timeout=300)
    assert p.stdout.split() == ["Transformer", "ObjectiveConfig"], p.stderr  # a submodule by attribute, as before
    with pytest.raises(AttributeError, match="module 'ponder' has no attribute 'nope'"):
        ponder.nope  # noqa: B018


def test_grpo_stopped_by_an_alarm_says_which_and_where(tmp_path, ckpt, capsys):
    """A run ended by --stop-on-alarm printed only "grpo: 3 steps" (and its --json the same as a finished run's),
    so a sweep could not tell it from a completed one. One-token completions are all truncated: length_runaway
    fires at step 3 of 5. The exit status stays 0 (a designed stop, as --help says); the text and --json name it."""
    base = ["grpo", "--model", str(ckpt), "--steps", "5", "--prompts-per-step", "2", "--group-size", "2",
            "--max-new-tokens", "1", "--eval-every", "5", "--eval-n", "2", "--stop-on-alarm", "--quiet"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "\n  stopped at step 3 of 5 by alarm length_runaway: mean response length 1 of max 1" in out
    assert main([*base, "--out", str(tmp_path / "b"), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["steps"] == 3 and s["stopped_early"]["step"] == 3 and s["stopped_early"]["alarm"] == "length_runaway"
    assert "exit status 0" in _help(capsys, "grpo").split("--stop-on-alarm ", 1)[1].split(" --", 1)[0]
    assert main(["grpo", "--resume", str(tmp_path / "b"), "--quiet", "--json"]) == 0  # on to step 5
    s = json.loads(capsys.readouterr().out)
    assert s["steps"] == 5 and s["stopped_early"] is None


def test_verify_help_names_the_output_it_writes_without_o(tmp_path, capsys):
    """`ponder verify KIND IN.jsonl` without -o writes IN.verified.jsonl beside the input, but -o's help said
    only "output JSONL (written atomically)": a user could not tell a file would appear next to the input."""
    shown = _help(capsys, "verify").split("--output OUTPUT, --out OUTPUT ", 1)[1].split(" --", 1)[0]
    src = tmp_path / "done.jsonl"
    src.write_text(json.dumps({"completion": "\\boxed{4}", "gold": "4"}) + "\n")
    assert main(["verify", "math", str(src), "--quiet", "--json", "--workers", "1"]) == 0
    written = Path(json.loads(capsys.readouterr().out)["output"])
    assert written == tmp_path / "done.verified.jsonl" and written.exists()
    assert ".verified.jsonl" in shown and "next to it" in shown


def test_readme_layout_names_every_module():
    """README's Layout is the map of ponder/; errors.py (PonderError, the one-line errors) and fileio.py (atomic
    writes) were missing from it."""
    root = Path(ponder.__file__).parent
    readme = root.parent / "README.md"
    if not readme.exists():  # an installed package without its checkout
        pytest.skip("README.md is not beside the package")
    layout = readme.read_text(encoding="utf-8").split("## Layout", 1)[1].split("```", 2)[1]
    names = {line.split()[0] for line in layout.splitlines()[2:] if line.startswith("  ") and line.split()}
    modules = {p.name for p in root.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    packages = {f"{p.name}/" for p in root.iterdir() if (p / "__init__.py").exists()}
    assert modules | packages <= names, sorted((modules | packages) - names)


def test_readme_names_every_step_ci_runs():
    """README said CI runs "exactly" its test command, while .ci/run also runs `ruff check .`: a change that
    passed the README's command could still fail CI. Every step of .ci/run is now named in README's opening."""
    root = Path(ponder.__file__).parent.parent
    if not (root / ".ci" / "run").exists() or not (root / "README.md").exists():
        pytest.skip("not a checkout")
    intro = (root / "README.md").read_text(encoding="utf-8").split("## Quickstart", 1)[0]
    steps = [line.split(" -m ", 1)[1] for line in (root / ".ci" / "run").read_text().splitlines()
             if line.startswith("python3 -m ")]
    tools = set()
    for step in steps:  # each step's tool and subcommand, up to its first option (-q, -p: CI's own)
        words = step.split()
        tools.add(" ".join(words[:next((i for i, w in enumerate(words) if w.startswith("-")), len(words))]))
    assert {"pip install", "ruff check .", "pytest"} <= tools
    assert not [t for t in tools if not re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", intro)], tools


def test_eval_method_options_help_shows_the_methods_defaults(capsys):
    """--rounds, --waits-bf, --effort and --scorer default to None in argparse (the method's own default
    applies), so their help showed no default at all: a user could not tell how many self-refine rounds or
    which scorer a run used. The help now names the defaults ponder.scale applies."""
    import inspect

    from ponder import scale
    out = _help(capsys, "eval")

    def shown(flag):
        return out.split(f"{flag} ", 1)[1].split(" --", 1)[0]  # (the usage line has "[--flag METAVAR]")
    sig = {m: inspect.signature(getattr(scale, m)).parameters for m in ("self_refine", "budget_forcing", "effort",
                                                                        "best_of_n")}
    assert f"(default: {sig['self_refine']['rounds'].default})" in shown("--rounds ROUNDS")
    assert f"(default: {sig['budget_forcing']['waits'].default})" in shown("--waits-bf WAITS_BF")
    assert f"(default: {sig['effort']['level'].default})" in shown("--effort EFFORT")
    scorer = re.sub(r"-\s+", "-", shown("--scorer SCORER"))  # (argparse may wrap after a hyphen: "self- refine")
    assert f"{sig['best_of_n']['scorer'].default} for best-of-N" in scorer
    assert f"{sig['self_refine']['scorer'].default} for self-refine" in scorer
    # (argparse may wrap the help inside "--max-new-tokens", after a hyphen)
    assert "thinking token cap (default: the --max-new-tokens value)" in out.replace("- ", "-")


def test_every_data_option_help_names_the_formats_it_reads(tmp_path):
    """--data said "JSONL/Parquet" (sft: "JSONL (or Parquet)", --val-data: "JSONL"), while the reader takes
    gzipped JSONL and a JSON array of rows as well (as README says): the help now names them all."""
    import gzip

    from ponder.train import load_sft_examples
    helps = {(name, a.option_strings[0]): parser._get_formatter()._expand_help(a)
             for name, parser, a in _options(build_parser()) if a.dest in ("data", "val_data")}
    assert {("ponder sft", "--data"), ("ponder sft", "--val-data"), ("ponder eval", "--data")} <= set(helps)
    assert not [k for k, h in helps.items() if not all(f in h for f in ("JSONL", ".jsonl.gz", "JSON array",
                                                                         "Parquet"))]
    row = {"prompt": "Problem: 1 + 1 = ?\nSolution:", "response": " 2"}
    (tmp_path / "a.json").write_text(json.dumps([row]))
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress((json.dumps(row) + "\n").encode()))
    for name in ("a.json", "a.jsonl.gz"):  # what the help promises is read
        assert [dict(r) for r in load_sft_examples(tmp_path / name)] == [row]


def test_demo_json_holds_every_figure_the_text_prints(tmp_path, capsys):
    """`ponder demo --json` printed a fixed subset of the summary: no self-consistency sweep and no mean greedy
    tokens, both rows of the text table (and of README's demo). It now prints summary.json's figures, less the
    sample completions (examples_after), which summary.json keeps."""
    out = tmp_path / "d"
    assert main(["demo", "--quick", "--steps", "1", "--out", str(out), "--json", "--quiet", "--threads", "1"]) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads((out / "summary.json").read_text())
    assert set(printed) == set(saved) - {"examples_after"}
    for key in ("self_consistency", "self_consistency_problems", "mean_greedy_tokens", "accuracy_before",
                "accuracy_after", "step_by_step_share", "plots"):
        assert printed[key] == saved[key], key
    assert [r["budget"] for r in printed["self_consistency"]["after"]] == [1, 2, 4]


def test_training_commands_out_help_names_the_files_a_run_writes(capsys):
    """pretrain's and distill's --out help listed config, metrics.jsonl and checkpoint/ but not tensorboard/ and
    training.png, which every run directory gets (README); grpo's and sft's --out said only "run directory"."""
    for cmd in ("pretrain", "sft", "distill", "grpo"):
        shown = _help(capsys, cmd).split("--out OUT, -o OUT ", 1)[1].split(" --", 1)[0]
        for f in ("config.json", "metrics.jsonl", "tensorboard/", "training.png", "checkpoint/"):
            assert f in shown, (cmd, f, shown)


def test_json_names_the_out_directory_run_dir_in_every_command(tmp_path, capsys):
    """The directory --out wrote is "run_dir" in every --json, as in the training commands' and demo's (eval
    printed it as out_dir, eval --sweep and probe not at all); null without --out, so the key is always there."""
    runs = {"ev": ["eval", "--model", "tiny", "--task", "arith", "--limit", "1", "--max-new-tokens", "4"],
            "sw": ["eval", "--model", "tiny", "--task", "arith", "--limit", "1", "--sweep", "--ns", "1",
                   "--methods", "majority", "--max-new-tokens", "4"],
            "pd": ["probe", "diversity", "--model", "tiny", "--task", "arith", "--limit", "1", "-n", "2"]}
    for name, args in runs.items():
        for out in (tmp_path / name, None):
            assert main([*args, "--quiet", "--json", *(["--out", str(out)] if out else [])]) == 0, name
            s = json.loads(capsys.readouterr().out)
            assert s["run_dir"] == (str(out) if out else None) and "out_dir" not in s, name


def test_eval_sweep_json_has_every_field_of_the_sweep(tmp_path, capsys):
    """eval --sweep --json left out the number of problems (n_problems, as eval's --json has it): it prints
    sweep()'s whole result, the files' paths as strings. It also left out the sampling settings the curves depend
    on (temperature, token cap, seed, waits: eval's --json has them as "settings")."""
    args = ["eval", "--model", "tiny", "--task", "arith", "--limit", "2", "--sweep", "--ns", "1", "--methods",
            "majority", "--max-new-tokens", "4", "--quiet", "--json", "--out", str(tmp_path / "sw")]
    assert main(args) == 0
    s = json.loads(capsys.readouterr().out)
    saved = json.loads((tmp_path / "sw" / "summary.json").read_text())
    assert s["n_problems"] == saved["n_problems"] == 2 and set(s) == {"curves", "seconds", "n_problems", "settings",
                                                                           "files", "run_dir", "task_seed"}
    # the settings the curves depend on (as eval's --json has them): without --out there is no config.json
    assert s["settings"] == saved["settings"] and {k: s["settings"][k] for k in (
        "max_new_tokens", "temperature", "seed", "waits")} == {"max_new_tokens": 4, "temperature": 0.8, "seed": 0,
                                                               "waits": 0}
    assert s["files"] and all(isinstance(v, str) and Path(v).is_file() for v in s["files"].values())


def test_eval_sweep_methods_are_read_as_the_other_lists_are(capsys):
    """--methods "majority, oracle" failed on the method ' oracle' (--ns "1, 2" and the check of which options
    the methods use read it stripped), and a method named twice drew its curve twice."""
    args = ["eval", "--limit", "1", "--sweep", "--ns", "1", "--methods", "majority, oracle,majority",
            "--max-new-tokens", "4", "--quiet", "--json"]
    assert main(args) == 0
    assert [c["method"] for c in json.loads(capsys.readouterr().out)["curves"]] == ["majority", "oracle"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_verify_refuses_an_unwritable_output_before_verifying(tmp_path, capsys):
    """`verify math IN -o /proc/y.jsonl` verified every row and only then failed at the write (os.access says
    yes to root for /proc), and `-o /proc/new/y.jsonl` said "/proc/new: No such file or directory", naming
    neither the output nor what was wrong. Both are refused in one line naming the output, before any row is
    scored, as data export refuses its output."""
    from ponder.errors import PonderError
    from ponder.verify.run import verify_file

    src = tmp_path / "c.jsonl"
    src.write_text(json.dumps({"completion": "\\boxed{4}", "gold": "4"}) + "\n")
    scored = []

    def score(verifier, completions, rows):  # the scoring step verify_file runs after its checks
        scored.append(len(rows))
        return [verifier(c, r) for c, r in zip(completions, rows)]

    for out in ("/proc/ponder-y.jsonl", "/proc/ponder-new/y.jsonl"):
        with pytest.raises(PonderError, match=rf"^{re.escape(out)}: cannot write into /proc \("):
            verify_file("math", str(src), out, score_fn=score)
        assert main(["verify", "math", str(src), "-o", out, "--quiet", "--workers", "1"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"ponder verify: error: {out}: ") and err.strip().count("\n") == 0
    assert scored == []
    assert verify_file("math", str(src), str(tmp_path / "new" / "v.jsonl"), score_fn=score)["correct"] == 1
    assert scored == [1]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_demo_refuses_an_out_it_cannot_write_before_its_first_evaluation(tmp_path, capsys):
    """`demo --out FILE` and `--out /proc/new` failed as bare OSErrors ("dq.json: File exists"), and `--out /proc`
    ran the whole held-out evaluation and sweep before train() refused its grpo/ run there. Each is one line
    naming the summary it could not write, before any stage starts."""
    (tmp_path / "plain").write_text("")
    for out, why in ((tmp_path / "plain", f"{tmp_path / 'plain'} is not a directory"),
                     (Path("/proc/ponder-demo"), "cannot write into /proc ("),
                     (Path("/proc"), "cannot write into /proc (")):
        assert main(["demo", "--quick", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"ponder demo: error: {out / 'summary.json'}: {why}"), err
        assert err.strip().count("\n") == 0 and "[1/4]" not in err  # (the first stage's note)
    assert (tmp_path / "plain").is_file()


def test_grpo_data_without_eval_data_refuses_held_out_settings_it_would_not_use(tmp_path, capsys):
    """A --data run measures held-out accuracy only on --eval-data; without it, `--eval-n 50` or `--eval-every 5`
    trained with no held-out evaluation at all and said nothing. Given there, they are refused in one line that
    names them and --eval-data, before the run directory is made."""
    data = tmp_path / "train.jsonl"
    assert main(["data", "export", "arith", "--split", "train", "--n", "4", "-o", str(data), "--quiet"]) == 0
    small = ["--steps", "1", "--prompts-per-step", "2", "--group-size", "2", "--max-new-tokens", "8", "--quiet",
             "--threads", "1"]
    for flag in (["--eval-n", "5"], ["--eval-every", "1"], ["--eval-n", "5", "--eval-every", "1"]):
        out = tmp_path / "run"
        assert main(["grpo", "--data", str(data), *flag, "--out", str(out), *small]) == 2
        err = capsys.readouterr().err
        assert err.startswith("ponder grpo: error: ") and err.strip().count("\n") == 0
        assert all(f in err for f in flag[::2]) and "--eval-data" in err and not out.exists()
    assert main(["grpo", "--data", str(data), "--eval-data", str(data), "--eval-n", "2", "--out",
                 str(tmp_path / "ok"), *small]) == 0


def test_out_help_names_every_file_eval_and_grpo_write(tmp_path, capsys):
    """--out's help is where a user learns what lands in the directory: eval's said "summary.json, samples.jsonl,
    plots" (config.json unnamed, no plots without --sweep, the sweep's scaling.json/.csv unnamed) and grpo's left
    out reference/, a full copy of the starting model (the KL term's reference) as large as the checkpoint."""
    def named(help_text, out):
        written = {p.name + ("/" if p.is_dir() else "") for p in out.iterdir()}
        return {w for w in written if w not in help_text and w.split(".")[0] not in help_text}

    ev = _help(capsys, "eval").split("--out OUT, -o OUT ", 1)[1].split(" --", 1)[0]
    assert main(["eval", "--limit", "1", "--max-new-tokens", "8", "--out", str(tmp_path / "e"), "--quiet"]) == 0
    assert main(["eval", "--sweep", "--limit", "1", "--max-new-tokens", "8", "--ns", "1", "--methods", "majority",
                 "--out", str(tmp_path / "s"), "--quiet"]) == 0
    assert named(ev, tmp_path / "e") == set() and named(ev, tmp_path / "s") == set(), ev
    gr = _help(capsys, "grpo").split("--out OUT, -o OUT ", 1)[1].split(" --", 1)[0]
    assert main(["grpo", "--steps", "1", "--prompts-per-step", "2", "--group-size", "2", "--max-new-tokens", "8",
                 "--eval-n", "2", "--out", str(tmp_path / "g"), "--quiet", "--threads", "1"]) == 0
    assert named(gr, tmp_path / "g") == set(), gr


def test_generate_names_the_prompt_too_long_for_the_context_as_its_output_does(capsys):
    """Of several prompts, the one too long for --max-new-tokens was named by the engine's 0-based index ("prompt 1"
    for the second) or not at all, while generate's own output numbers them from 1 ("prompt 2/2"); and the setting
    was named max_new_tokens, not the flag."""
    long = " ".join(["word"] * 300)
    assert main(["generate", "Problem: 1 + 2", long, "--max-new-tokens", "300"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(r"prompt 2/2: prompt of \d+ tokens \+ --max-new-tokens 300 exceeds the "
                                               r"model's context of 512 positions", err), err
    assert main(["generate", long, "--max-new-tokens", "300"]) == 2
    assert re.search(r"error: prompt of \d+ tokens \+ --max-new-tokens 300 exceeds", capsys.readouterr().err)


def test_generate_names_an_empty_prompt_as_its_output_does(capsys):
    """An empty prompt (the tiny tokenizer has no BOS) was refused as "prompt 0 is empty", the engine's 0-based
    index: the first of one prompt, the first of two for the second one's fault never."""
    assert main(["generate", "Problem: 1 + 2", "", "--max-new-tokens", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "prompt 2/2 is empty" in err and "--chat" in err, err
    assert main(["generate", "", "--max-new-tokens", "3"]) == 2
    err = capsys.readouterr().err
    assert "the prompt is empty" in err and "prompt 0" not in err, err


def test_chat_ended_by_ctrl_d_ends_its_prompt_line(monkeypatch, capsys):
    """Ctrl-D at "you> " left the line open: the shell's prompt was printed after "you> "."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["chat", "--temperature", "0"]) in (0, None)
    assert capsys.readouterr().out == "you> \n"


def test_chat_skips_a_line_that_is_not_utf8_and_goes_on(monkeypatch, capsys):
    """A line with a byte that is not UTF-8 (read as a lone surrogate) ended the whole chat with an encoding error
    (exit 2), the conversation lost; it is not sent, said in one line on stderr, and the chat goes on."""
    monkeypatch.setattr("sys.stdin", io.StringIO("hi \udcff there\nProblem: 1 + 2 = ?\n\n"))
    assert main(["chat", "--max-new-tokens", "4", "--temperature", "0"]) in (0, None)
    std = capsys.readouterr()
    assert std.out.count("model> ") == 1 and std.out.count("you> ") == 3
    notes = [x for x in std.err.splitlines() if not x.startswith("ponder chat —")]
    assert len(notes) == 1 and "not valid UTF-8" in notes[0] and "character 4" in notes[0], std.err


def test_text_that_is_not_utf8_is_named_by_its_argument_as_usage_shows_it(capsys):
    """A positional argument holding a byte that is not UTF-8 was named as a flag, "--prompt", that generate
    does not have; a flag keeps its name."""
    assert main(["generate", "a\udcffb"]) == 2
    err = capsys.readouterr().err
    assert "error: prompt: not valid UTF-8" in err and "--prompt" not in err, err
    assert main(["generate", "x", "--stop", "a\udcffb"]) == 2
    assert "error: --stop: not valid UTF-8" in capsys.readouterr().err


def test_chat_refuses_a_system_prompt_that_leaves_no_room_for_a_message(monkeypatch, capsys):
    """A --system prompt longer than the context started the chat, then refused every line as "not sent: the
    conversation with it is N tokens", blaming the line; it is refused before the first line now."""
    monkeypatch.setattr("sys.stdin", io.StringIO("hi\n\n"))
    assert main(["chat", "--system", " ".join(["word"] * 600), "--max-new-tokens", "4"]) == 2
    std = capsys.readouterr()
    assert std.out == "" and std.err.count("\n") == 1 and "error: --system:" in std.err and "512" in std.err, std


def test_chat_without_a_chat_template_is_refused_before_the_first_line(monkeypatch, capsys):
    """A checkpoint whose tokenizer renders no chat template was refused only when the first message was sent:
    the user typed it, and the session ended. It is refused before "you> " now."""
    from ponder.errors import PonderError
    from ponder.tokenizer import Tokenizer

    def no_template(self, messages, **kw):
        raise PonderError("ck: no chat template")

    monkeypatch.setattr(Tokenizer, "apply_chat_template", no_template)
    monkeypatch.setattr("sys.stdin", io.StringIO("hi\n\n"))
    assert main(["chat", "--max-new-tokens", "4"]) == 2
    std = capsys.readouterr()
    assert std.out == "" and "error: ck: no chat template" in std.err, std


def test_a_prompt_read_as_an_unknown_option_is_named_not_only_missing(capsys):
    """`ponder generate -x`: argparse read the prompt -x as an option and said only "missing prompt"; the message
    names -x and how to pass it. A negative number, text with a space and a known option are not named."""
    assert main(["generate", "-x", "--max-new-tokens", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing prompt (-x is not an option of ponder generate" in err, err
    assert "goes after --" in err
    assert main(["generate", "--max-new-tokens", "3", "-n2"]) == 2
    assert "missing prompt (prompts are arguments" in capsys.readouterr().err


def test_generate_without_a_prompt_says_standard_input_is_not_read(capsys):
    """`cat q.txt | ponder generate`: the piped prompt was not read and the error said only "missing prompt"; it
    says that prompts are arguments, and how to send a file's text. Other commands' missing arguments are as
    they were."""
    assert main(["generate", "--max-new-tokens", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing prompt (prompts are arguments; standard input is not read" in err, err
    assert '"$(cat FILE)"' in err
    assert main(["verify"]) == 2
    assert "standard input" not in capsys.readouterr().err


def test_chat_outgrowing_the_context_caps_or_skips_a_turn_and_goes_on(monkeypatch, capsys):
    """A conversation grows every turn: once it plus --max-new-tokens passed the model's 512 positions, `chat`
    ended the whole session with "prompt of N tokens + max_new_tokens M exceeds the model's context" (exit 2),
    the conversation lost. Now a reply that would not fit is capped to the room left, and a message that leaves
    no room is not sent; each says so in one line on stderr and the chat goes on. With the default --max-new-tokens
    (512, the tiny model's whole context: `ponder chat` failed at its first message) the cap is silent."""
    long = " ".join(["word"] * 600)
    monkeypatch.setattr("sys.stdin", io.StringIO(f"Problem: 1 + 2 = ?\n{long}\nProblem: 3 + 4 = ?\n\n"))
    assert main(["chat", "--max-new-tokens", "500", "--temperature", "0"]) in (0, None)
    std = capsys.readouterr()
    assert std.out.count("model> ") == 2 and std.out.count("you> ") == 4
    notes = [x for x in std.err.splitlines() if not x.startswith("ponder chat —")]
    assert len(notes) == 3, std.err
    assert "capped at" in notes[0] and "not sent" in notes[1] and "capped at" in notes[2]
    assert all("512" in x for x in notes) and "/reset" in notes[1]  # (the way on, short of leaving)
    # chat's default --max-new-tokens is 512, the tiny model's whole context: its first reply failed that way
    monkeypatch.setattr("sys.stdin", io.StringIO("Problem: 1 + 2 = ?\n\n"))
    assert main(["chat", "--temperature", "0"]) in (0, None)
    std = capsys.readouterr()
    assert std.out.count("model> ") == 1 and std.err.count("\n") == 1  # (only the banner: the cap is the default's)


def test_verify_help_names_every_field_it_adds(tmp_path, capsys):
    """verify's help said it adds `correct`, `extracted`, `reason`; each row also gets `score` (the graded value:
    the constraints' share met, else 1.0 or 0.0), which the summary's mean_score averages."""
    shown = _help(capsys, "verify")
    src = tmp_path / "c.jsonl"
    src.write_text(json.dumps({"completion": "\\boxed{4}", "gold": "4"}) + "\n")
    assert main(["verify", "math", str(src), "-o", str(tmp_path / "v.jsonl"), "--quiet", "--workers", "1"]) == 0
    added = set(json.loads((tmp_path / "v.jsonl").read_text())) - {"completion", "gold"}
    assert added and all(f"`{k}`" in shown for k in added), (added, shown)


def test_split_with_data_is_refused_not_ignored(tmp_path, capsys):
    """`eval --data F --split train` (and probe's) evaluated F's rows as they are, the --split silently unused, as
    its help says; the other options a mode ignores (sft's --eval-every without --val-data, eval's --ns without
    --sweep) are refused in one line, and so is this one now."""
    data = tmp_path / "d.jsonl"
    assert main(["data", "export", "arith", "--n", "2", "-o", str(data), "--quiet"]) == 0
    for cmd in (["eval"], ["probe", "contamination"], ["probe", "diversity"]):
        assert main([*cmd, "--data", str(data), "--split", "train", "--limit", "1", "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "--split: not used with --data" in err and err.strip().count("\n") == 0, err


def test_a_file_given_as_task_is_named_by_task_in_the_data_messages(tmp_path, capsys):
    """A file given as `--task FILE` is read as --data, and its --split refusal and row-limit note said "--data",
    a flag never written: they name --task, as given."""
    data = tmp_path / "d.jsonl"
    assert main(["data", "export", "arith", "--n", "3", "-o", str(data), "--quiet"]) == 0
    for cmd in (["eval"], ["probe", "diversity"]):
        assert main([*cmd, "--task", str(data), "--split", "train", "--limit", "1", "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "--split: not used with --task FILE" in err and "--data" not in err, err
    from ponder.cli import _load_items

    a = argparse.Namespace(task=str(data), data=str(data), seed=0, quiet=False, given=set(), limit=2)
    assert len(_load_items(a, "limit", split="test", require_answer=True)) == 2
    assert capsys.readouterr().err.startswith(f"note: --task {data}: only its first 2 rows are used")


def test_eval_interrupted_prints_the_resume_line_which_finishes_it(tmp_path, capsys, monkeypatch):
    """Ctrl-C during `ponder eval --out DIR` says how to continue (the same line with --resume); that line
    writes what the uninterrupted command writes (latencies aside, being measured), and run again once finished
    prints the saved summary."""
    import functools
    import shlex

    from ponder import scale

    args = ["eval", "--model", "tiny", "--task", "arith", "--limit", "3", "--n", "2", "--max-new-tokens", "8",
            "--quiet"]
    assert main([*args, "--out", str(tmp_path / "full")]) == 0
    capsys.readouterr()
    real = scale.METHODS["sampling"]

    @functools.wraps(real)
    def stopped(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setitem(scale.METHODS, "sampling", stopped)
    assert main([*args, "--out", str(tmp_path / "cut")]) == 130
    err = capsys.readouterr().err.strip()
    assert err.startswith("interrupted; continue with: ponder eval ") and err.endswith(" --resume")
    monkeypatch.setitem(scale.METHODS, "sampling", real)
    again = shlex.split(err.split("continue with: ponder ", 1)[1])
    assert main(again) == 0

    def samples(d):
        return [{k: v for k, v in json.loads(line).items() if k != "latency"}
                for line in (tmp_path / d / "samples.jsonl").read_text().splitlines()]

    assert samples("cut") == samples("full")
    out = capsys.readouterr().out
    assert main(again) == 0  # finished: its summary again, said on stderr
    std = capsys.readouterr()
    assert std.out == out and "this evaluation had finished; its saved summary" in std.err
    assert main([*again, "--seed", "1"]) == 2
    assert "holds a finished evaluation: its --seed is 0, this evaluation's 1" in capsys.readouterr().err


def test_eval_sweep_interrupted_says_what_it_kept_and_its_resume_line_finishes_it(tmp_path, capsys, monkeypatch):
    """Ctrl-C during `ponder eval --sweep --out DIR` said only "interrupted": nothing was saved and --resume was
    refused. What was drawn is kept; the message says what and gives the line that continues it, which prints the
    curves of the uninterrupted sweep (each method's samples saved beside them)."""
    import functools
    import shlex

    from ponder import scale

    args = ["eval", "--model", "tiny", "--sweep", "--task", "arith", "--limit", "3", "--ns", "1,2", "--budgets",
            "4,8", "--max-new-tokens", "8", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "full")]) == 0
    full = capsys.readouterr().out
    real = scale.budget_forcing
    calls = []

    @functools.wraps(real)
    def stopped(*a, **k):
        calls.append(1)
        if len(calls) == 2:  # at budget 8: the parallel draw and budget 4 are kept
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(scale, "budget_forcing", stopped)
    assert main([*args, "--out", str(tmp_path / "cut")]) == 130
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"interrupted; kept in {tmp_path / 'cut'}: tiny parallel 3/3, tiny budget_forcing@4 3/3 "
                          "problems; continue with: ponder eval ") and err.endswith(" --resume")
    assert main([*args, "--out", str(tmp_path / "cut")]) == 2  # without --resume: refused, not started afresh
    assert "holds an interrupted sweep" in capsys.readouterr().err
    monkeypatch.setattr(scale, "budget_forcing", real)
    again = shlex.split(err.split("continue with: ponder ", 1)[1])
    assert main(again) == 0
    std = capsys.readouterr()
    assert std.out.replace(str(tmp_path / "cut"), "D") == full.replace(str(tmp_path / "full"), "D")
    assert "resumed with 2 chunks kept from before" in std.err
    assert (tmp_path / "cut" / "samples_parallel.jsonl").is_file()
    assert (tmp_path / "cut" / "samples_budget_forcing.jsonl").is_file()


def test_a_stopped_demo_names_its_directory(tmp_path, monkeypatch, capsys):
    """Ctrl-C during `ponder demo` printed only "interrupted": its default --out (runs/demo-<time>) was named nowhere
    before the final table, so the partial run could not be found, and nothing said a demo does not resume."""
    import ponder.demo as demo

    def stopped_in_stage_2(cfg, out, **k):
        Path(out, "grpo").mkdir(parents=True)
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(demo, "run_demo", stopped_in_stage_2)
    assert main(["demo", "--quick"]) == 130
    err = capsys.readouterr().err
    run = next((tmp_path / "runs").iterdir())
    assert err == (f"interrupted; its stages so far are in runs/{run.name} (a demo does not resume: run it again "
                   "with another --out)\n")
    monkeypatch.setattr(demo, "run_demo", lambda cfg, out, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    assert main(["demo", "--quick", "--out", str(tmp_path / "d")]) == 130
    assert capsys.readouterr().err == "interrupted; nothing was kept: run it again\n"


def test_eval_interrupted_without_out_says_nothing_was_kept_and_how_to_keep_it(tmp_path, capsys, monkeypatch):
    """Ctrl-C during `ponder eval --sweep` (or a plain eval) without --out printed only "interrupted": it now says
    nothing was kept and that --out DIR makes the run one --resume continues."""
    import functools

    from ponder import scale

    real = scale.budget_forcing

    @functools.wraps(real)
    def stopped(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(scale, "budget_forcing", stopped)
    assert main(["eval", "--model", "tiny", "--sweep", "--task", "arith", "--limit", "2", "--methods",
                 "budget_forcing", "--budgets", "4", "--quiet"]) == 130
    assert capsys.readouterr().err == ("interrupted; nothing was kept (no --out): with --out DIR a sweep keeps each "
                                       "chunk it draws, and the same command with --resume continues it\n")
    monkeypatch.setitem(scale.METHODS, "greedy", stopped)
    assert main(["eval", "--model", "tiny", "--task", "arith", "--limit", "2", "--method", "greedy",
                 "--max-new-tokens", "8", "--quiet"]) == 130
    assert capsys.readouterr().err == ("interrupted; nothing was kept (no --out): with --out DIR an evaluation keeps "
                                       "each chunk it draws, and the same command with --resume continues it\n")


@pytest.mark.parametrize("sweep", [True, False])
def test_eval_interrupted_ends_with_its_message_not_a_redrawn_progress_bar(tmp_path, capsys, monkeypatch, sweep):
    """Ctrl-C during `ponder eval` (--sweep or not): the progress bar, left open, was drawn again after the
    "interrupted; ..." line (when the bar was collected), so that line was not the last the user saw. Bars are
    closed before the message."""
    import functools
    import gc

    from ponder import scale

    real = scale.METHODS["sampling"] if not sweep else scale.budget_forcing
    calls = []

    @functools.wraps(real)
    def stopped(*a, **k):
        calls.append(1)
        if len(calls) == 2:  # after the first chunk: the bar has drawn progress
            raise KeyboardInterrupt
        return real(*a, **k)

    if sweep:
        monkeypatch.setattr(scale, "budget_forcing", stopped)
        args = ["--sweep", "--methods", "budget_forcing", "--budgets", "4,8"]
    else:  # (256 samples a problem: chunks of 2 problems)
        monkeypatch.setitem(scale.METHODS, "sampling", stopped)
        args = ["--method", "sampling", "--n", "256", "--max-new-tokens", "4"]
    assert main(["eval", "--model", "tiny", "--task", "arith", "--limit", "4", *args,
                 "--out", str(tmp_path / "o")]) == 130
    gc.collect()  # (what the interpreter does to the stopped command's frames, at some point)
    err = capsys.readouterr().err
    assert "it/s" in err or "s/it" in err  # (a bar was drawn)
    last = err.rstrip("\n").split("\n")[-1]
    assert last.startswith("interrupted; ") and "\r" not in last, repr(err[-400:])


def test_eval_resume_after_the_checkpoint_was_retrained_is_refused(tmp_path, capsys):
    """eval, train more into the same checkpoint, eval --resume into the same --out: the finished evaluation of
    the old weights was printed as the new weights' summary. Now refused in one line naming the checkpoint."""
    model, tok = ponder.load("tiny")
    ck = tmp_path / "ck"
    ponder.save(model, tok, ck)
    args = ["eval", "--model", str(ck), "--task", "arith", "--limit", "2", "--method", "greedy", "--max-new-tokens",
            "4", "--quiet", "--out", str(tmp_path / "ev")]
    assert main(args) == 0
    with torch.no_grad():
        model.norm.weight[0] += 1e-3
    ponder.save(model, tok, ck)
    capsys.readouterr()
    assert main([*args, "--resume"]) == 2
    err = capsys.readouterr().err
    assert f"holds a finished evaluation: the weights of model '{ck}' differ from those it was started with" in err
    assert len(err.strip().splitlines()) == 1, err


def test_eval_top_k_1_is_greedy_and_a_resume_with_another_top_k_is_refused(tmp_path, capsys):
    """eval had no --top-k or --min-p (generate has them; a Qwen3 checkpoint recommends top_k 20, which eval's note
    named with no flag to set it). --top-k 1 keeps the most likely token alone: sampled at temperature 1 it draws
    greedy's completions. --top-k and --min-p are recorded, and a resume with others is refused by the flag; --sweep
    takes them (and --top-p, refused there before) for its parallel draw."""
    base = ["eval", "--model", "tiny", "--task", "arith", "--limit", "2", "--max-new-tokens", "6", "--quiet"]

    def completions(d):
        return [json.loads(line)["completion"] for line in (d / "samples.jsonl").read_text().splitlines()]

    assert main([*base, "--method", "greedy", "--out", str(tmp_path / "greedy")]) == 0
    args = [*base, "--temperature", "1", "--top-k", "1", "--min-p", "0.01", "--out", str(tmp_path / "k1")]
    assert main(args) == 0
    assert completions(tmp_path / "k1") == completions(tmp_path / "greedy")
    cfg = json.loads((tmp_path / "k1" / "config.json").read_text())
    assert (cfg["top_k"], cfg["min_p"]) == (1, 0.01)
    capsys.readouterr()
    assert main([*args[:-5], "2", *args[-4:], "--resume"]) == 2
    err = capsys.readouterr().err
    assert err == (f"ponder eval: error: --resume {tmp_path / 'k1'}: holds a finished evaluation: its --top-k is 1, "
                   "this evaluation's 2; give the same settings, or another --out for a new evaluation\n")
    assert main([*base, "--sweep", "--ns", "1,2", "--methods", "majority", "--top-p", "0.9", "--top-k", "1",
                 "--json"]) == 0
    settings = json.loads(capsys.readouterr().out)["settings"]
    assert {k: settings[k] for k in ("top_p", "top_k", "min_p")} == {"top_p": 0.9, "top_k": 1, "min_p": 0.0}


def test_eval_resume_with_another_judge_rubric_is_refused(tmp_path, capsys):
    """best-of-N chooses by the judge's scores: a resume (or a finished evaluation asked again) with another
    --rubric or --judge-model was taken as the same evaluation, its summary returned or its chunks mixed in;
    config.json did not say which judge scored it."""
    args = ["eval", "--model", "tiny", "--task", "arith", "--limit", "1", "--method", "best_of_n", "--candidates",
            "2", "--scorer", "judge", "--judge-model", "tiny", "--rubric", "be strict", "--max-new-tokens", "4",
            "--quiet", "--out", str(tmp_path / "ev")]
    assert main(args) == 0
    cfg = json.loads((tmp_path / "ev" / "config.json").read_text())
    assert (cfg["judge_model"], cfg["rubric"]) == ("tiny", "be strict")
    capsys.readouterr()
    assert main([*args[:-6], "be lenient", *args[-5:], "--resume"]) == 2
    err = capsys.readouterr().err
    assert "holds a finished evaluation: its --rubric is 'be strict', this evaluation's 'be lenient'" in err, err


@pytest.mark.parametrize("args,match", [
    (["--resume"], "--resume: needs --out DIR"),
    (["--resume", "--out", "d", "--ray"], "--resume: not with --ray"),
])
def test_eval_resume_is_refused_where_it_cannot_apply(capsys, args, match):
    assert main(["eval", "--limit", "1", *args]) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args,said", [
    (["--task", "arithh"], "--task 'arithh': neither a task (arith, word, countdown) nor an existing file"),
    (["--prompt-field", "question"], "--prompt-field: used only with --data"),
])
def test_eval_resume_checks_its_options_as_the_first_run_does(tmp_path, capsys, args, said):
    """eval's --resume is the same command line again, so its --task and field options are checked as they are
    without it (they were taken for a training run's saved settings: a mistyped task was "arithh: no such file",
    a field option the library's "prompt_field and answer_field are for a dataset file")."""
    for resume in ([], ["--resume"]):
        assert main(["eval", "--limit", "1", *args, "--out", str(tmp_path / "ev"), *resume]) == 2
        err = capsys.readouterr().err
        assert said in err and len(err.strip().splitlines()) == 1, (resume, err)


def test_probe_diversity_takes_a_file_of_prompts_alone(tmp_path, capsys):
    """The diversity probe never reads a gold answer, but its --data was refused without one ("missing field
    'answer'"), though a prompts-only file is its natural input; contamination still needs the answers."""
    data = tmp_path / "p.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"Problem: {i} + 2 =\nSolution:"}) + "\n" for i in range(2)))
    assert main(["probe", "diversity", "--data", str(data), "--n", "2", "--quiet", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_prompts"] == 2
    assert main(["probe", "contamination", "--data", str(data), "--quiet"]) == 2
    assert "missing field 'answer'" in capsys.readouterr().err


def test_probe_refuses_another_commands_run_as_out_before_loading(tmp_path, capsys):
    """`ponder probe diversity --out RUNS/SFT` wrote diversity.json and its heatmap into the sft run's directory
    and deleted its report.html; refused now, naming what the directory holds, before any model loads (--model
    names no checkpoint here: loading it would fail with another error)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"kind": "grpo", "train": {}}))
    (run / "report.html").write_text("<html></html>")
    for probe in ("diversity", "contamination"):
        assert main(["probe", probe, "--model", str(tmp_path / "absent"), "--out", str(run), "--quiet"]) == 2
        assert f"--out {run}: holds a 'grpo' run, not probe results" in capsys.readouterr().err
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "report.html"]


def test_probe_diversity_takes_the_sampling_temperature_and_length(tmp_path, capsys):
    """Diversity depends on the temperature above all, yet the probe sampled at 1.0 and 128 tokens with no flag to
    change them (the library took both): --temperature and --max-new-tokens reach the samples and the result;
    contamination, which samples no diversity, refuses them, and a temperature of 0 (n identical samples) is refused."""
    data = tmp_path / "p.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"Problem: {i} + 2 =\nSolution:"}) + "\n" for i in range(2)))
    args = ["probe", "diversity", "--data", str(data), "--n", "2", "--quiet", "--json", "--threads", "1"]
    assert main([*args, "--temperature", "0.5", "--max-new-tokens", "4"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["temperature"] == 0.5 and res["max_new_tokens"] == 4
    assert main([*args, "--temperature", "0"]) == 2 and "must be a number > 0" in capsys.readouterr().err
    assert main(["probe", "contamination", "--temperature", "0.5", "--quiet"]) == 2
    assert "--temperature: not used by the contamination probe" in capsys.readouterr().err


def test_probe_contamination_takes_max_new_tokens(tmp_path, capsys):
    """The contamination probe answers the original and perturbed problems greedily within max_new_tokens, and the
    command refused --max-new-tokens, so every answer was cut at 128 tokens: a model that reasons longer scored 0 on
    both, no drop, "no evidence of contamination". The flag reaches the probe and its recorded settings."""
    args = ["probe", "contamination", "--task", "word", "--limit", "2", "--quiet", "--json", "--threads", "1"]
    assert main([*args, "--max-new-tokens", "3"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["settings"]["max_new_tokens"] == 3 and res["perturbation"] is not None


@pytest.mark.parametrize("command", [["pretrain", "--resume"], ["sft", "--data", "d.jsonl"],
                                     ["distill", "--resume"], ["eval", "--data", "d.jsonl"],
                                     ["demo", "--model", "missing"], ["probe", "diversity", "--data", "d.jsonl"]])
def test_training_commands_that_are_not_data_parallel_refuse_torchruns_ranks(tmp_path, monkeypatch, capsys, command):
    """Under `torchrun --nproc_per_node 2 -m ponder.cli sft ...` (RANK and WORLD_SIZE set) only grpo shards its
    work over the ranks: sft, pretrain, distill, eval, demo and probe ran once per rank, each the whole job, all into
    the same --out (their checkpoint swaps and files racing). They now refuse in one line before anything is read
    or written."""
    monkeypatch.chdir(tmp_path)
    for k, v in dict(RANK="1", WORLD_SIZE="2", LOCAL_RANK="1", MASTER_ADDR="127.0.0.1", MASTER_PORT="29500").items():
        monkeypatch.setenv(k, v)
    assert main([*command, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err == (f"ponder {command[0]}: error: {command[0]} is not data-parallel: under torchrun (WORLD_SIZE=2) "
                   "each rank would run all of it into the same --out; run it as one process (only grpo shards "
                   "its batch over ranks)\n")
    assert not (tmp_path / "r").exists()
    monkeypatch.setenv("WORLD_SIZE", "1")  # one rank: the command itself, as without torchrun
    monkeypatch.setenv("RANK", "0")
    assert main([*command, "--out", str(tmp_path / "r")]) == 2
    assert "not data-parallel" not in capsys.readouterr().err


def test_distill_refuses_a_negative_temperature_before_loading_its_models(tmp_path, capsys):
    """--temperature takes any finite number: -1 was refused by the sampler only after both models had loaded
    (here the missing teacher was said instead); it is refused first, as -k 2 --temperature 0 is."""
    assert main(["distill", "--teacher", str(tmp_path / "no-such-teacher"), "--temperature", "-1", "--out",
                 str(tmp_path / "d"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "argument --temperature: must be a number >= 0, got -1" in err and "no-such-teacher" not in err
    assert not (tmp_path / "d").exists()


def test_sft_says_when_a_cut_example_lost_all_of_its_response(tmp_path, ckpt, capsys):
    """An example whose prompt fills --seq-len keeps no response token: it is not trained on at all (sft leaves it
    out), yet the warning said only that "the end of their response is not trained on". The count of such
    examples is said apart (TRL truncates them silently, each a row of zero loss tokens)."""
    data = tmp_path / "d.jsonl"
    rows = [{"prompt": "1 + 1 =", "response": " 2"}, {"prompt": "1 + 1 =", "response": " 2" * 40},
            {"prompt": "1 + 1 = " * 20, "response": " 2"}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["sft", "--model", str(ckpt), "--data", str(data), "--seq-len", "24", "--steps", "1", "--out",
                 str(tmp_path / "r"), "--quiet", "--batch-size", "2"]) == 0
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("sft: ")]
    assert len(err) == 1 and err[0].startswith("sft: 2 of 3 examples were cut at --seq-len (the end of their "
                                               "response is not trained on; 1 of them keeps none of it")
    # --json: the counts (a script could not tell a row had been left out), and the warning on stderr as ever (it
    # was said only as those counts, at the end: nothing told a person watching the run); stdout is the JSON alone
    run = tmp_path / "r2"
    assert main(["sft", "--model", str(ckpt), "--data", str(data), "--seq-len", "24", "--steps", "1", "--out",
                 str(run), "--quiet", "--json"]) == 0
    out, err = capsys.readouterr()
    rep = json.loads(out)
    assert (rep["examples"], rep["examples_cut"], rep["examples_dropped"], rep["val_examples_dropped"]) == (3, 2, 1, 0)
    warned = [ln for ln in err.splitlines() if ln.startswith("sft: 2 of 3 examples were cut at --seq-len")]
    assert len(warned) == 1 and "1 of them keeps none of it" in warned[0], err
    # distill --json as well (its fine-tuning resumed here on the same rows, as `ponder distill` leaves them)
    (run / "distilled.jsonl").write_text(data.read_text())
    cfg = json.loads((run / "config.json").read_text())
    report = {"kept": 3, "sampled": 3, "kept_fraction": 1.0, "prompts_with_a_kept_sample": 3, "prompts": 3}
    (run / "config.json").write_text(json.dumps({**cfg, "data": {"distilled": "distilled.jsonl", "distill": report}}))
    assert main(["distill", "--out", str(run), "--resume", "--steps", "2", "--quiet", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["examples_cut"] == 2
    assert len([ln for ln in err.splitlines() if ln.startswith("distill: 2 of 3 examples were cut at --seq-len")]) == 1, err
    from ponder.cli import _warn_cut

    _warn_cut("sft", {"examples_cut": 2, "examples_dropped": 0, "val_examples_cut": 1}, 3, 1)
    err = capsys.readouterr().err.splitlines()
    assert "keeps none" not in err[0] and "validation example was cut" in err[1]


def test_sft_says_the_examples_it_cuts_before_it_trains(tmp_path, ckpt, capsys):
    """The examples cut at --seq-len were said after the last step only: a run of hours said them then, and a run
    that failed (here: diverged at step 2) or was stopped never did. They are said before the first step."""
    data = tmp_path / "d.jsonl"
    rows = [{"prompt": "1 + 1 =", "response": " 2"}, {"prompt": "1 + 1 =", "response": " 2" * 40}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["sft", "--model", str(ckpt), "--data", str(data), "--seq-len", "24", "--steps", "3", "--lr", "1e30",
                 "--warmup", "1", "--out", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "training diverged" in err
    assert "sft: 1 of 2 examples was cut at --seq-len (the end of their response is not trained on;" in err


def test_sft_and_distill_refuse_a_taken_out_or_an_unjudgeable_reward_before_loading_models(tmp_path, monkeypatch,
                                                                                          capsys):
    """A taken --out (and for distill, items its --reward cannot judge) was refused only once the model (the teacher
    and the student) had loaded: minutes for a large checkpoint, to be told of a flag. Said before any loading."""
    import ponder.cli as cli

    loaded = []
    monkeypatch.setattr(cli, "_load", lambda a, path: loaded.append(path))
    taken = tmp_path / "taken"
    (taken / "checkpoint").mkdir(parents=True)
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"prompt": "1 + 1 =", "response": " 2"}) + "\n")
    for argv, said in (
            (["sft", "--data", str(data), "--out", str(taken)], "already holds a run"),
            (["distill", "--teacher", "tiny", "-n", "2", "--out", str(taken)], "already holds a run"),
            (["distill", "--teacher", "tiny", "-n", "2", "--reward", "countdown", "--out", str(tmp_path / "d")],
             "reward 'countdown'"),
            # (it named a Python call: get_reward(..., judge=make_judge(...)); distill has no --judge-model)
            (["distill", "--teacher", "tiny", "-n", "2", "--reward", "math+0.5*judge", "--out", str(tmp_path / "d")],
             "--reward math+0.5*judge: the judge verifier needs a model to score with, and distill takes none")):
        assert main([*argv, "--quiet"]) == 2
        assert said in capsys.readouterr().err and loaded == []
    assert not (tmp_path / "d").exists()


def test_sft_and_distill_chat_on_a_checkpoint_without_a_chat_template_are_refused_before_its_weights(tmp_path,
                                                                                                     capsys):
    """`sft --chat` (and distill --chat, for its teacher or student) on a checkpoint with no chat template and no
    ChatML tokens was refused only once the model had loaded (minutes for a real one): the same one-line error now
    comes before any weight is read (the weights file is gone here, and is never asked for)."""
    tok = ponder.train_tokenizer(["the quick brown fox. 12 + 30 = 42."] * 20, vocab_size=300,
                                 special_tokens=("</s>",))
    cfg = ponder.ModelConfig(vocab_size=320, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1)
    ck = ponder.save(ponder.Transformer(cfg).init_weights(0), tok, tmp_path / "ck")
    (ck / "model.safetensors").unlink()
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"prompt": "1 + 1 =", "response": " 2"}) + "\n")
    said = f"{ck}: no chat template (tokenizer_config.json chat_template or chat_template.jinja) and no ChatML tokens"
    for argv, where in ((["sft", "--model", str(ck), "--data", str(data), "--chat"], f"{data}:1: "),
                        (["sft", "--model", str(ck), "--data", str(data), "--chat", "--system", "S"], f"{data}:1: "),
                        (["distill", "--teacher", str(ck), "-n", "2", "--chat"], "prompt 0: "),
                        (["distill", "--teacher", "tiny", "--model", str(ck), "-n", "2", "--chat"], "prompt 0: ")):
        assert main([*argv, "--out", str(tmp_path / "r"), "--quiet"]) == 2, argv
        err = capsys.readouterr().err
        assert err == f"ponder {argv[0]}: error: {where}{said} (<|im_start|>, <|im_end|>) to fall back on; add a " \
                      "chat template, or prompt with plain text\n", err
        assert not (tmp_path / "r").exists()
    # text prompts need no template: the weights are what is missing then
    assert main(["sft", "--model", str(ck), "--data", str(data), "--out", str(tmp_path / "r"), "--quiet"]) == 2
    assert "model.safetensors" in capsys.readouterr().err


def test_generate_chat_takes_a_system_message(capsys):
    """generate had no --system (chat has one): a chat prompt could not carry a system message from the command line.
    It is rendered into each prompt (a system message longer than the context is refused as the prompt's length)."""
    args = ["generate", "--model", "tiny", "--chat", "1 + 1 =", "--max-new-tokens", "4", "--temperature", "0",
            "--quiet"]
    assert main([*args, "--system", "Be brief."]) == 0
    capsys.readouterr()
    assert main([*args, "--system", "word " * 600]) == 2
    assert "exceeds the model's context" in capsys.readouterr().err
    assert main(["generate", "--model", "tiny", "1 + 1 =", "--system", "x"]) == 2
    assert "--system: used only with --chat" in capsys.readouterr().err


def test_distill_resume_leaves_the_checkpoint_of_a_run_saving_in_another_process_alone(tmp_path, capsys, hold_run):
    """`ponder distill --resume` put back a checkpoint set aside before it checked the run directory's lock: a run
    training there, between the two renames of its save, had the old checkpoint moved back under its new one (its
    save then failed). Refused first, nothing moved."""
    run = tmp_path / "r"
    (run / ".checkpoint.old-999999999").mkdir(parents=True)  # the live save's old checkpoint, set aside
    (run / "distilled.jsonl").write_text(json.dumps({"prompt": "1 + 1 =", "response": " 2"}) + "\n")
    (run / "config.json").write_text(json.dumps({"kind": "sft", "train": {}, "data": {"distilled": "distilled.jsonl"}}))
    held = hold_run(run)
    try:
        assert main(["distill", "--out", str(run), "--resume", "--quiet"]) == 2
    finally:
        held.close()
    assert f"{run} is in use by another ponder process (pid 4242)" in capsys.readouterr().err
    assert (run / ".checkpoint.old-999999999").is_dir() and not (run / "checkpoint").exists()


def test_stop_reads_backslash_escapes_as_llama_cpp_does(capsys):
    """`--stop '\\n'` from a shell is a backslash and an n: a stop at a newline never matched. Every --stop
    (generate's, chat's) reads \\n, \\t, \\r and \\\\ (a literal backslash-n is written '\\\\n')."""
    def gen(*stop):
        assert main(["generate", "Problem: 12 + 30 * 2 = ?", "--max-new-tokens", "20", "--json", *stop]) == 0
        return json.loads(capsys.readouterr().out)["results"][0]["samples"][0]

    free = gen()["text"]
    assert free.startswith("\nSolution:") and "\\boxed" in free
    assert gen("--stop", "\\n")["text"] == "" == gen("--stop", "\n")["text"]  # typed '\n' = a newline
    cut = gen("--stop", "\\\\boxed")  # an escaped backslash is one backslash, matching the text's own
    assert cut["text"] == free[: free.index("\\boxed")] and cut["finish_reason"] == "stop"
    p = build_parser()
    for c, args in (("generate", ["x"]), ("chat", [])):  # one parser for every --stop
        assert p.parse_args([c, *args, "--stop", "a\\tb\\\\\\q"]).stop == ["a\tb\\\\q"]
    # (an empty one was taken and ignored: no stop at all where the user meant one)
    with pytest.raises(SystemExit):
        p.parse_args(["generate", "x", "--stop", ""])
    assert "argument --stop: an empty stop string stops nothing" in capsys.readouterr().err


def test_chat_reset_clears_the_conversation_and_exit_quits(monkeypatch, capsys):
    """chat had no commands: "/reset" and "/exit" were sent to the model as messages. /reset now starts the
    conversation over (the --system prompt kept), /exit and /quit end the chat with status 0, and any other
    line, one starting with / too, is sent as text."""
    import ponder.engine as engine

    real, seen = engine.stream, []

    def recording(model, tok, messages, **kw):
        seen.append(([dict(m) for m in messages], kw["index"]))
        yield from real(model, tok, messages, **kw)

    monkeypatch.setattr(engine, "stream", recording)
    system = {"role": "system", "content": "Be brief."}
    for quit_ in ("/exit", " /quit "):
        seen.clear()
        monkeypatch.setattr("sys.stdin", io.StringIO(f"hello\n/reset\n/help me\n{quit_}\nnever sent\n"))
        assert main(["chat", "--max-new-tokens", "3", "--temperature", "0", "--system", "Be brief."]) == 0
        std = capsys.readouterr()
        assert [m for m, _ in seen] == [[system, {"role": "user", "content": "hello"}],
                                        [system, {"role": "user", "content": "/help me"}]]
        assert [i for _, i in seen] == [0, 1]  # (a retry after /reset is a new draw, not the first one again)
        assert "/reset" in std.err and "/exit" in std.err and std.out.count("model> ") == 2
    assert "/reset" in _help(capsys, "chat") and "/exit" in _help(capsys, "chat")


def test_info_dtype_and_verify_kind_help_say_what_they_take(capsys):
    """`ponder info --help` said "--dtype: load in this dtype" (no dtypes named, nor that the default is the
    checkpoint's own) and `ponder verify --help` named its verifiers without a word on each (what `format`
    checks was nowhere)."""
    shown = _help(capsys, "info")
    assert "bfloat16" in shown and "the checkpoint's own" in shown
    shown = _help(capsys, "verify")
    for kind in ("math (", "code (", "countdown (", "constraints (", "format (", "<think>"):
        assert kind in shown, kind


def test_a_flag_value_starting_with_a_dash_is_refused_with_the_way_to_give_it(capsys):
    """`--stop ---` (a Markdown rule, a stop string people use) was refused as "argument --stop: expected one
    argument", though one was given: argparse reads "---" as an option. The line now says how to give it; a flag
    whose value was forgotten (`--stop --seed 2`) gets no such hint."""
    assert main(["generate", "hi", "--stop", "---"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--stop=---" in err
    assert main(["eval", "-m", "-x"]) == 2 and "--model=-x" in capsys.readouterr().err
    assert main(["generate", "hi", "--stop", "--seed", "2"]) == 2 and "=" not in capsys.readouterr().err
    assert build_parser().parse_args(["generate", "hi", "--stop=---"]).stop == ["---"]  # (the way given works)


def test_probe_chat_and_system_wrap_text_prompts_as_eval_does(tmp_path, capsys):
    """probe had no --chat/--system (eval, sft, distill and grpo have them): a chat model was probed on the bare
    problem text. They wrap each text prompt as a user message after the system message, as eval --chat --system
    does (the samples are those of the same prompts given as chat messages), and the result records them."""
    items = ponder.tasks.data.load_items("arith", split="test", n=2, seed=0)
    data = tmp_path / "chat.jsonl"
    data.write_text("".join(json.dumps({"prompt": [{"role": "system", "content": "Be brief."},
                                                   {"role": "user", "content": it["prompt"]}],
                                        "answer": it["answer"]}) + "\n" for it in items))
    base = ["probe", "diversity", "--limit", "2", "-n", "2", "--max-new-tokens", "6", "--json", "--quiet"]
    runs = {}
    for name, extra in (("wrapped", ["--task", "arith", "--chat", "--system", "Be brief."]),
                        ("given", ["--data", str(data)]), ("bare", ["--task", "arith"])):
        assert main([*base, *extra]) == 0
        runs[name] = json.loads(capsys.readouterr().out)
    assert runs["wrapped"]["intra"] == runs["given"]["intra"] != runs["bare"]["intra"]
    assert [(r["chat"], r["system"]) for r in runs.values()] == [(True, "Be brief."), (False, None), (False, None)]
    # --system on top of items of chat messages (a second system message), and without --chat: refused in one line
    for extra in (["--chat", "--system", "S"], ["--system", "S"]):
        assert main(["probe", "contamination", "--data", str(data), *extra]) == 2
        assert "error: --system: " in (err := capsys.readouterr().err) and err.count("\n") == 1, err


def test_a_flag_the_command_lacks_read_as_the_option_it_abbreviates_is_named(capsys):
    """`ponder sft --chat` (TRL's habit; generate, eval and grpo had --chat, sft has it now) said only "argument
    --chat-template-kwargs: expected one argument", an option the user never wrote: argparse took --chat as its
    abbreviation. The line now names what was written and that the command has no such flag (`ponder chat`, whose
    every message is chat, has none; probe has it now)."""
    for cmd in (["chat", "--chat"], ["chat", "--max-new-tokens", "4", "--chat"]):
        assert main(cmd) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "expected one argument" in err
        assert f"--chat was read as --chat-template-kwargs, which it abbreviates; ponder {cmd[0]} has no --chat" in err
    assert main(["generate", "hi", "--stop", "--seed", "2"]) == 2 and "abbreviates" not in capsys.readouterr().err


def test_an_abbreviated_option_missing_its_value_is_not_said_to_be_missing_from_the_command(capsys):
    """`ponder eval --answer-tok` (a valid abbreviation of --answer-tokens, its value forgotten) was told "ponder eval
    has no --answer-tok", as if the flag were wrong: the note is for a flag of another command (chat --chat) only."""
    assert main(["eval", "--answer-tok"]) == 2
    err = capsys.readouterr().err
    assert "expected one argument" in err and "has no" not in err and "abbreviates" not in err
    assert main(["chat", "--chat"]) == 2 and "ponder chat has no --chat" in capsys.readouterr().err


def test_info_json_is_strict_json_for_a_config_with_a_nan(tmp_path, capsys):
    """`ponder info --json` printed a checkpoint's rope_scaling as read: a NaN there came out as the bare token
    NaN, which is no JSON (jq, JavaScript refuse it). Non-finite numbers print as null, as generate's do."""
    import shutil

    ck = tmp_path / "ck"
    shutil.copytree(Path(ponder.__file__).parent / "assets" / "tiny", ck)
    cfg = json.loads((ck / "config.json").read_text())
    cfg["rope_scaling"] = {"rope_type": "linear", "factor": 2.0, "note": float("nan")}
    (ck / "config.json").write_text(json.dumps(cfg))
    assert main(["info", str(ck), "--json"]) == 0

    def refuse(token):
        raise ValueError(f"not JSON: {token}")

    info = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert info["rope_scaling"]["factor"] == 2.0 and info["rope_scaling"]["note"] is None


def test_an_unforeseen_error_whose_first_line_is_a_heading_keeps_its_reason(monkeypatch, capsys):
    """A failure nobody foresaw is one line: torch's 'Error(s) in loading state_dict for X:' alone said nothing of
    why, so a heading's reason follows it, with how many more lines were left out."""
    def boom(a):
        raise RuntimeError("Error(s) in loading state_dict for Transformer:\n\tsize mismatch for a: [2] vs [3].\n"
                           "\tsize mismatch for b: [4] vs [5].")

    monkeypatch.setattr("ponder.cli.cmd_info", boom)
    assert main(["info", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.rstrip().endswith(
        "RuntimeError: Error(s) in loading state_dict for Transformer: size mismatch for a: [2] vs [3]. (and 1 more) "
        "(--debug shows where)")


@pytest.mark.parametrize("cmd", [["distill", "--teacher", "tiny", "-n", "2"], ["eval", "--model", "tiny", "-n", "1"],
                                 ["grpo", "--model", "tiny", "--steps", "1"]])
def test_an_empty_reward_is_refused_before_anything_loads(cmd, tmp_path, monkeypatch, capsys):
    """--reward "" (an unset shell variable) was taken as no --reward: distill silently trained on the default
    reward, and eval loaded its model before the empty spec was refused. One line, before any loading."""
    import ponder.cli as cli

    loaded = []
    monkeypatch.setattr(cli, "_load", lambda a, path: loaded.append(path))
    for spec in ("", "  "):
        assert main([*cmd, "--reward", spec, "--out", str(tmp_path / "o"), "--quiet"]) == 2
        assert "argument --reward: empty" in capsys.readouterr().err and loaded == []


def test_verify_code_names_what_is_wrong_in_a_tests_field(tmp_path, capsys):
    """A stdio case with numbers was refused as "needs string 'input' and 'output', got keys ['input',
    'output']" (both keys there), and a list of ints or an empty list as "got list" (a list is allowed):
    the message names the wrong value's type, or what the list holds."""
    for tests, want in (([{"input": 5, "output": "6"}], "case 1: 'input' must be a string"),
                        ([{"input": "5", "output": 6}], "case 1: 'output' must be a string"),
                        ([5], "got a list holding int"), ([], "got an empty list")):
        rows = tmp_path / "in.jsonl"
        rows.write_text(json.dumps({"completion": "print(1)", "tests": tests}) + "\n")
        assert main(["verify", "code", str(rows), "--workers", "1", "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "in.jsonl:1: field 'tests': " in err and want in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["pretrain", "--steps", "1", "--docs", "10"], ["sft", "--data", "d.jsonl"],
                                     ["distill", "--teacher", "tiny"], ["grpo", "--steps", "1"],
                                     ["demo", "--quick"], ["probe", "diversity"], ["probe", "contamination"]])
def test_a_result_directory_of_dash_is_refused_as_evals_is(command, tmp_path, monkeypatch, capsys):
    """`--out -` is standard output elsewhere (data export): a directory named "-" was made in the cwd, silently."""
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--out", "-", "--json", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--out -: " in err and err.strip().count("\n") == 0
    assert not (tmp_path / "-").exists()


def test_eval_json_has_the_same_keys_with_or_without_a_breakdown(capsys):
    """"by" was left out where the problems take one value of each field (one problem, a file without them): a
    script reading out["by"] failed on some runs only. It is {} there."""
    keys = []
    for limit in ("1", "6"):
        assert main(["eval", "--limit", limit, "--method", "greedy", "--max-new-tokens", "4", "--json",
                     "--quiet"]) == 0
        s = json.loads(capsys.readouterr().out)
        keys.append(set(s))
    assert keys[0] == keys[1] and s["by"]
    assert main(["eval", "--limit", "1", "--method", "greedy", "--max-new-tokens", "4", "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["by"] == {}


def test_a_data_file_cut_at_the_limits_default_is_said(tmp_path, capsys):
    """`ponder eval --data math500.jsonl` scored the file's first 200 problems (--limit's default), and nothing
    said the rest were left out; a note on stderr says so now. A --limit given or a file that fits leave it as it
    was; a bad row past the limit is never read (no error), but the note is given."""
    from ponder.cli import _load_items
    from ponder.errors import PonderError

    rows = [json.dumps({"prompt": f"p{i}", "answer": str(i)}) for i in range(5)]
    (tmp_path / "d.jsonl").write_text("\n".join(rows) + "\n")
    (tmp_path / "bad.jsonl").write_text("\n".join(rows[:3]) + "\n{oops\n")

    def load(data, limit, given=(), quiet=False, opt="limit"):
        a = argparse.Namespace(task="arith", data=str(tmp_path / data), seed=0, quiet=quiet, given=set(given),
                               **{opt: limit})
        return [it["prompt"] for it in _load_items(a, opt, split="test", require_answer=True)]

    assert load("d.jsonl", 3) == ["p0", "p1", "p2"]
    assert capsys.readouterr().err == (f"note: --data {tmp_path / 'd.jsonl'}: only its first 3 rows are used "
                                       "(--limit's default); pass --limit N for more\n")
    assert load("d.jsonl", 2, opt="n") == ["p0", "p1"] and "(-n's default); pass -n N" in capsys.readouterr().err
    for data, limit, given, quiet in (("d.jsonl", 3, {"limit"}, False), ("d.jsonl", 5, (), False),
                                      ("d.jsonl", 3, (), True)):
        assert load(data, limit, given, quiet) == [f"p{i}" for i in range(3 if limit == 3 else 5)]
        assert capsys.readouterr().err == ""
    # a bad row right past the limit is not read, but the file has more rows than are used: said as well (the
    # note went missing, and every row after the bad one was left out unsaid)
    assert load("bad.jsonl", 3) == ["p0", "p1", "p2"]
    assert "only its first 3 rows are used" in capsys.readouterr().err
    with pytest.raises(PonderError, match="bad.jsonl:4: invalid JSON"):
        load("bad.jsonl", 4)


@pytest.mark.parametrize("args,msg", [
    (["generate", "hi", "--dtype", "int8"], "argument --dtype: unknown dtype 'int8'"),
    (["info", "--dtype", "int8"], "argument --dtype: unknown dtype 'int8'"),
    (["eval", "--method", "foo"], "--method: unknown method 'foo'"),
    (["eval", "--task", "foo"], "--task 'foo': neither a task"),
    (["distill", "--task", "foo", "--teacher", "tiny", "--out", "{out}"], "--task 'foo': neither a task"),
    (["grpo", "--task", "foo", "--out", "{out}"], "--task 'foo': unknown task"),
    (["grpo", "--preset", "rloo", "--off-policy", "--out", "{out}"], "--off-policy: needs an importance ratio"),
    # (said "off_policy needs an importance ratio, but preset 'grpo' has ratio=none": grpo's is token, --set's none)
    (["grpo", "--off-policy", "--set", "ratio=none", "--set", "clip=none", "--out", "{out}"],
     "--off-policy: needs an importance ratio, but --set ratio=none makes the objective on-policy"),
    (["eval", "--max-new-tokens", "600", "--limit", "1"], "+ --max-new-tokens 600 exceeds the model's context"),
    # (grpo's and distill's said "+ max_new_tokens 600 exceeds", the keyword, as eval's did)
    (["grpo", "--max-new-tokens", "600", "--quiet", "--out", "{out}"], "+ --max-new-tokens 600 exceeds the model's"),
    (["distill", "--teacher", "tiny", "-n", "2", "--max-new-tokens", "600", "--quiet", "--out", "{out}"],
     "+ --max-new-tokens 600 exceeds the model's context"),
])
def test_bad_values_are_named_by_the_flag_given_not_the_library_keyword(args, msg, tmp_path, capsys):
    # "unknown dtype 'int8'", "max_new_tokens 600 exceeds", "off_policy needs": keywords the user never typed
    out = tmp_path / "run"
    assert main([x.format(out=out) for x in args]) == 2
    err = capsys.readouterr().err
    assert msg in err and "\n" not in err.strip(), err
    assert "Traceback" not in err and not out.exists()


def test_seq_len_help_says_an_example_whose_prompt_fills_it_is_left_out():
    """sft's and distill's --seq-len help said a longer example "is cut", not that one whose prompt alone fills
    --seq-len is left out whole (as the run's warning then says)."""
    helps = {name: parser._get_formatter()._expand_help(a) for name, parser, a in _options(build_parser())
             if a.dest == "seq_len" and name in ("ponder sft", "ponder distill")}
    assert set(helps) == {"ponder sft", "ponder distill"}
    for name, h in helps.items():
        assert "cut" in h and "prompt alone fills it is left out" in h, (name, h)


def _gsm8k(tmp_path):
    """Rows in GSM8K's layout: the problem in `question`, the gold a worked solution ending "#### 72"."""
    data = tmp_path / "gsm8k.jsonl"
    data.write_text(json.dumps({"question": "Natalia sold 48 clips in April and half as many in May. How many in all?",
                                "answer": "She sold 48/2 = <<48/2=24>>24 in May.\n48+24 = <<48+24=72>>72\n#### 72"})
                    + "\n")
    return data


def test_eval_reads_a_dataset_s_own_prompt_and_answer_fields(tmp_path, capsys):
    """GSM8K (question), AIME (Problem, Answer), MATH (problem, solution) could not be given to eval, grpo, distill
    or probe without editing the file: load_dataset's prompt_field/answer_field had no option. --prompt-field and
    --answer-field name them; the gold is read as the math verifier reads it (GSM8K's "#### 72" is 72)."""
    from ponder.verify.math import check_math

    data = _gsm8k(tmp_path)
    assert main(["eval", "--model", "tiny", "--data", str(data), "--prompt-field", "question", "--limit", "1",
                 "--method", "greedy", "--max-new-tokens", "4", "--quiet", "--out", str(tmp_path / "ev")]) == 0
    rec = json.loads((tmp_path / "ev" / "samples.jsonl").read_text().split("\n")[0])
    assert rec["prompt"].startswith("Natalia sold") and check_math("\\boxed{72}", rec["gold"]).correct
    # (a file given as --task, as eval has always taken it, too)
    assert main(["eval", "--model", "tiny", "--task", str(data), "--prompt-field", "question", "--limit", "1",
                 "--method", "greedy", "--max-new-tokens", "4", "--quiet", "--json"]) == 0
    aime = tmp_path / "aime.jsonl"
    aime.write_text(json.dumps({"ID": "2024-I-1", "Problem": "Find x.", "Answer": 204}) + "\n")
    for cmd in (["eval", "--model", "tiny", "--limit", "1"], ["probe", "contamination", "--limit", "1"],
                ["distill", "--teacher", "tiny", "--out", str(tmp_path / "r")],
                ["grpo", "--model", "tiny", "--out", str(tmp_path / "r")]):
        # a field the rows do not have is named, with the fields they do have
        assert main([*cmd, "--data", str(aime), "--prompt-field", "problem", "--quiet"]) == 2
        assert f"{aime}:1: missing field 'problem' (have: ID, Problem, Answer)" in capsys.readouterr().err
        assert main([*cmd, "--data", str(aime), "--prompt-field", "Problem", "--answer-field", "answer",
                     "--quiet"]) == 2
        assert f"{aime}:1: missing field 'answer' (have: ID, Problem, Answer)" in capsys.readouterr().err
        assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("cmd", [["eval"], ["grpo"], ["distill", "--teacher", "t"], ["probe", "diversity"]])
def test_field_options_need_data(tmp_path, capsys, cmd):
    assert main([*cmd, "--prompt-field", "question", "--out", str(tmp_path / "r")]) == 2
    assert "--prompt-field: used only with --data" in capsys.readouterr().err
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[cmd[0]]
    assert "--answer-field" in sub.format_help() and "--prompt-field" in sub.format_help()


def test_grpo_loads_its_data_and_eval_data_by_the_field_options(tmp_path):
    from ponder.errors import PonderError
    from ponder.rl.trainer import GRPOConfig, load_items

    data = _gsm8k(tmp_path)
    cfg = GRPOConfig(task=None, data=str(data), eval_data=str(data), prompt_field="question")
    train, test = load_items(cfg)
    assert [it["prompt"][:7] for it in train + test] == ["Natalia", "Natalia"]
    with pytest.raises(PonderError, match="prompt_field must be text"):
        GRPOConfig(task=None, data=str(data), prompt_field=1).validate()
    with pytest.raises(PonderError, match="prompt_field .*needs --data"):
        GRPOConfig(prompt_field="question").validate()


def test_chat_sends_an_empty_system_prompt_as_given_as_generate_does(monkeypatch, capsys):
    """`ponder chat --system ""` dropped the system turn (`generate --chat --system ""` sends it): templates render
    an empty system turn differently from none (Qwen's puts its default system prompt in where there is none)."""
    import ponder.engine as engine

    real, seen = engine.stream, []

    def recording(model, tok, messages, **kw):
        seen.append([dict(m) for m in messages])
        yield from real(model, tok, messages, **kw)

    monkeypatch.setattr(engine, "stream", recording)
    monkeypatch.setattr("sys.stdin", io.StringIO("hello\n/reset\nagain\n\n"))
    assert main(["chat", "--max-new-tokens", "2", "--temperature", "0", "--system", ""]) == 0
    system = {"role": "system", "content": ""}
    assert seen == [[system, {"role": "user", "content": "hello"}], [system, {"role": "user", "content": "again"}]]


def test_set_errors_quote_the_value_as_typed(capsys):
    """`--set kl=true` was refused as "unknown kl True" (the value read as a bool before the objective saw it), and
    `--set mu=true` as "mu=True": an error quotes the text given; a number given to kl still points at beta."""
    for kv, said in (("kl=true", "unknown kl 'true'; valid: off, k1, k3\n"), ("mu=true", "mu='true' must be"),
                     ("clip=1", "unknown clip '1'"), ("group_filter=1", "group_filter='1' must be true or false"),
                     ("kl=0.1", "unknown kl '0.1'; valid: off, k1, k3 (the KL coefficient is beta: beta=0.1)")):
        assert main(["grpo", "--explain", "--set", kv]) == 2
        err = capsys.readouterr().err
        assert said in err and "True" not in err, (kv, err)
    assert main(["grpo", "--explain", "--set", "group_filter=true", "--set", "eps_low=0.1", "--set",
                 "clip=clip_higher", "--set", "mu=2", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["objective"]
    assert (got["group_filter"], got["eps_low"], got["clip"], got["mu"]) == (True, 0.1, "clip_higher", 2)


def test_chat_gives_a_yarn_model_its_whole_context(monkeypatch, capsys):
    """A YaRN model takes original_max_position_embeddings x factor positions (as vLLM and sample() do): chat
    capped replies, and skipped messages, at max_position_embeddings; a note names the context's source."""
    import dataclasses

    import ponder.cli as cli
    import ponder.engine as engine
    from ponder.engine import render_prompts

    model, tok = ponder.load("tiny")
    cfg = dataclasses.replace(model.config, max_position_embeddings=24, rope_scaling={
        "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16})
    yarn = ponder.Transformer(cfg).init_weights(0).eval()
    monkeypatch.setattr(cli, "_load", lambda a, path: (yarn, tok))
    used = len(render_prompts(tok, [[{"role": "user", "content": "Problem: 1 + 2 = ?"}]])[0])
    assert 24 - 10 < used < 64 - 10
    real, seen = engine.stream, []
    monkeypatch.setattr(engine, "stream", lambda *a, **kw: seen.append(kw["max_new_tokens"]) or real(*a, **kw))
    monkeypatch.setattr("sys.stdin", io.StringIO("Problem: 1 + 2 = ?\n" + "word " * 70 + "\n\n"))
    assert main(["chat", "--max-new-tokens", "10", "--temperature", "0"]) in (0, None)
    assert seen == [10]
    notes = [x for x in capsys.readouterr().err.splitlines() if not x.startswith("ponder chat —")]
    notes = [x for x in notes if "was cut at 10 tokens" not in x]  # (random weights: the reply runs to its 10)
    assert len(notes) == 1 and "the model's context 64 (64 = original_max_position_embeddings 16 x yarn factor 4)" \
        in notes[0], notes


def test_a_distill_run_is_named_distill_in_refusals(tmp_path, capsys):
    """A distillation's run directory (an sft run on the teacher's kept samples) was called an 'sft' run in every
    refusal ("is a file of a Ponder 'sft' directory", "holds an 'sft' run, whose config.json this eval would
    replace"): the user who made it with `ponder distill` looked for an sft run. A plain sft run stays 'sft'."""
    run = tmp_path / "dist"
    (run / "checkpoint").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"kind": "sft", "train": {}, "data": {"distilled": "distilled.jsonl"}}))
    (run / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss": 1.0}) + "\n")
    rows = tmp_path / "v.jsonl"
    rows.write_text(json.dumps({"completion": "\\boxed{3}", "answer": "3"}) + "\n")
    for argv, said in ((["verify", "math", str(rows), "-o", str(run / "metrics.jsonl")],
                        f"{run / 'metrics.jsonl'}: is a file of a Ponder 'distill' directory"),
                       (["eval", "--model", str(tmp_path / "absent"), "--out", str(run)],
                        f"--out {run}: holds a 'distill' run, whose config.json this eval would replace"),
                       (["grpo", "--out", str(run)],
                        f"{run}: already holds a 'distill' run, not a 'grpo' run to continue"),
                       (["pretrain", "--resume", "--out", str(run)], f"{run}: holds a 'distill' run, not a 'pretrain'")):
        assert main([*argv, "--quiet"]) == 2, argv
        assert said in capsys.readouterr().err, argv
    cfg = json.loads((run / "config.json").read_text())
    del cfg["data"]  # an sft run's
    (run / "config.json").write_text(json.dumps(cfg))
    assert main(["eval", "--model", str(tmp_path / "absent"), "--out", str(run), "--quiet"]) == 2
    assert f"--out {run}: holds an 'sft' run, whose" in capsys.readouterr().err


def test_distill_says_how_many_samples_it_left_out_and_why(tmp_path, capsys):
    """`ponder distill --teacher tiny -n 8 -k 4 --max-new-tokens 24` said "kept 1 of 32 teacher samples (3.1%)",
    read as the teacher's accuracy, where most of them were cut at --max-new-tokens and never judged: the line
    (and --json) now count the samples rejected by the verifier and those cut, and say to raise the limit."""
    out = tmp_path / "d"
    assert main(["distill", "--teacher", "tiny", "-n", "8", "-k", "4", "--max-new-tokens", "24", "--steps", "1",
                 "--seq-len", "96", "--out", str(out), "--quiet"]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    rep = json.loads((out / "config.json").read_text())["data"]["distill"]
    assert rep["cut"] > 0 and rep["rejected"] > 0
    assert sum(rep[k] for k in ("kept", "duplicates", "rejected", "cut", "empty", "end_of_turn")) == 32
    assert (f"{rep['rejected']} rejected by the verifier; {rep['cut']} cut at --max-new-tokens 24 before they ended "
            "(raise it)") in line, line


def test_distill_summary_counts_one_duplicate_in_the_singular(tmp_path, monkeypatch, capsys):
    """distill's summary line read "1 accepted copies of a kept one left out"."""
    import ponder.cli as cli
    import ponder.train as train

    monkeypatch.setattr(cli, "_load", lambda a, path: (None, None))
    rep = {"kept": 3, "sampled": 8, "kept_fraction": 3 / 8, "prompts_with_a_kept_sample": 2, "prompts": 2,
           "final": {"examples_cut": 0}}

    def distill(*x, dup, run_dir, **k):  # the run directory it leaves, which the summary reads
        Path(run_dir).mkdir()
        (Path(run_dir) / "config.json").write_text(json.dumps({"kind": "sft", "data": {"distilled": "d.jsonl"}}))
        return {**rep, "duplicates": dup}

    for dup, said in ((1, "1 accepted copy of a kept one left out"), (2, "2 accepted copies of a kept one left out")):
        monkeypatch.setattr(train, "distill", lambda *x, dup=dup, **k: distill(*x, dup=dup, **k))
        assert main(["distill", "--teacher", "tiny", "-n", "2", "--quiet", "--out", str(tmp_path / f"d{dup}")]) == 0
        assert said in capsys.readouterr().out


def test_distill_chat_samples_the_teacher_through_its_chat_template(tmp_path, monkeypatch, capsys):
    """distill had no --chat: a chat teacher (Qwen3's thinking template) was sampled on the bare problem text, and
    --chat-template-kwargs was refused for want of it. --chat sends each text prompt as a user message (after
    --system), as eval --chat does, so the kept rows train the student on those messages; --system alone and
    --system on top of a prompt of messages are refused before any model loads."""
    import ponder.cli as cli
    import ponder.train as train
    from ponder.errors import PonderError

    seen = {}
    monkeypatch.setattr(cli, "_load", lambda a, path: (None, None))

    def distill(teacher, ttok, student, stok, items, reward, **k):
        seen["items"] = items
        raise PonderError("stop here")  # (the sampling and fine-tuning are distill's own, tested there)

    monkeypatch.setattr(train, "distill", distill)
    base = ["distill", "--teacher", "tiny", "-n", "2", "--quiet", "--out", str(tmp_path / "d")]
    assert main([*base, "--chat", "--system", "Think first."]) == 2 and "stop here" in capsys.readouterr().err
    assert [it["prompt"] for it in seen["items"]] == [
        [{"role": "system", "content": "Think first."}, {"role": "user", "content": it["prompt"]}]
        for it in ponder.tasks.data.load_items("arith", split="train", n=2, seed=0)]
    assert main([*base, "--chat", "--chat-template-kwargs", '{"enable_thinking": false}']) == 2
    assert "stop here" in capsys.readouterr().err and seen["items"][0]["prompt"][0]["role"] == "user"
    seen.clear()
    assert main([*base, "--system", "Think first."]) == 2
    assert capsys.readouterr().err.count("\n") == 1 and not seen  # (refused before the sampling)
    data = tmp_path / "chat.jsonl"
    data.write_text(json.dumps({"prompt": [{"role": "user", "content": "1 + 1 = ?"}], "answer": "2"}) + "\n")
    assert main(["distill", "--teacher", "tiny", "--data", str(data), "--chat", "--system", "S", "--quiet",
                 "--out", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err
    assert "--system would be added on top" in err and err.count("\n") == 1 and not seen


@pytest.mark.parametrize("args, said", [
    (["grpo", "--preset", "ppo2", "--explain"], "--preset 'ppo2': unknown preset (known: grpo, dr_grpo, dapo"),
    (["grpo", "--preset", "ppo2", "--out", "r"], "--preset 'ppo2': unknown preset (known: grpo, dr_grpo, dapo"),
    (["demo", "--quick", "--preset", "ppo2", "--out", "r"], "--preset 'ppo2': unknown preset (known: grpo"),
    (["grpo", "--set", "betta=0.1", "--explain"], "--set betta=0.1: unknown part 'betta'; valid: advantage, "),
])
def test_an_unknown_preset_or_objective_part_is_named_by_its_flag(tmp_path, monkeypatch, capsys, args, said):
    """They said "objective: unknown preset 'ppo2'" and "objective: unknown setting 'betta'", the library's words
    (ObjectiveConfig's), where the user typed --preset and --set."""
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1 and not (tmp_path / "r").exists()


def test_eval_resume_names_the_limit_where_the_number_of_problems_differs(tmp_path, capsys):
    """A finished evaluation resumed with another --limit said "its n_problems is 2, this evaluation's 1", a field
    of config.json; with another --task (the default --limit, 200) the same, pointing at no flag the user changed."""
    args = ["eval", "--limit", "2", "--max-new-tokens", "2", "--quiet", "--json", "--out", str(tmp_path / "e")]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args[:2], "1", *args[3:], "--resume"]) == 2
    err = capsys.readouterr().err
    assert "n_problems" not in err and "it has 2 problems, this evaluation 1 (another --limit, --task, --split" in err


@pytest.mark.parametrize("preset, advice", [("grpo", "try --preset dapo"), ("dapo", "try a harder/easier --task")])
def test_demo_alarm_advice_names_the_demos_own_options(tmp_path, monkeypatch, capsys, preset, advice):
    """The demo's zero_variance_groups alarm said "try --group-filter" (or "try --curriculum"), grpo's flags, which
    `ponder demo` does not have: its advice names what the demo offers."""
    import ponder.demo as demo
    import ponder.rl.trainer as trainer
    from ponder.rl.monitor import Monitor

    given = {}

    def fake_train(cfg, run_dir, **kw):
        given.update(kw)
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "greedy_eval", lambda *x, **k: {"accuracy": 0.0, "lo": 0.0, "hi": 0.0})
    monkeypatch.setattr(demo, "self_consistency", lambda *x, **k: {})
    monkeypatch.setattr(trainer, "train", fake_train)
    assert main(["demo", "--quick", "--quiet", "--preset", preset, "--out", str(tmp_path / "d")]) != 0
    capsys.readouterr()
    m = Monitor(max_new_tokens=64, hints=given.get("hints") or {}, group_filter=preset == "dapo")
    said = [a["message"] for step in range(3) for a in m.update({"step": step, "zero_var_frac": 1.0})]
    assert len(said) == 1 and advice in said[0]
    assert "--group-filter" not in said[0] and "--curriculum" not in said[0]


@pytest.mark.parametrize("preset, name", [("grpo", "GRPO"), ("rloo", "RLOO"), ("reinforce", "REINFORCE")])
def test_demo_names_its_rl_method_truthfully(tmp_path, monkeypatch, capsys, preset, name):
    """The demo's RL step said "GRPO (rloo)" and "GRPO (reinforce)": RLOO and REINFORCE are no GRPO."""
    import ponder.demo as demo
    import ponder.rl.trainer as trainer

    def fake_train(cfg, run_dir, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "greedy_eval", lambda *x, **k: {"accuracy": 0.0, "lo": 0.0, "hi": 0.0})
    monkeypatch.setattr(demo, "self_consistency", lambda *x, **k: {})
    monkeypatch.setattr(trainer, "train", fake_train)
    assert main(["demo", "--quick", "--preset", preset, "--out", str(tmp_path / "d")]) != 0
    out = capsys.readouterr()
    line = next(x for x in (out.out + out.err).splitlines() if x.startswith("[2/4]"))
    assert line.startswith(f"[2/4] RL, {name} (preset {preset}),") and ("GRPO" in line) == (preset == "grpo")


@pytest.mark.parametrize("cmd", [["pretrain"], ["sft", "--data", "x.jsonl"], ["distill", "--teacher", "tiny"],
                                 ["grpo"]])
def test_an_lr_beyond_float32_is_named_by_its_flag(tmp_path, capsys, cmd):
    """--lr 1e40 said "lr must be at most 3.403e+38", the config's field (grpo's ran into a RuntimeError)."""
    assert main([*cmd, "--lr", "1e40", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "argument --lr: must be at most 3.403e+38 (fp32's largest number), got 1e40" in err, err
    assert err.count("\n") == 1 and not (tmp_path / "r").exists()


def test_eval_resume_names_the_method_option_that_differs_by_its_flag(tmp_path, capsys):
    """Another --votes said "its method_kwargs is {'n_votes': 2}, this evaluation's {'n_votes': 3}", the library's
    keyword inside a dict; it names the option and its flag."""
    args = ["eval", "--limit", "1", "--max-new-tokens", "2", "--method", "self_consistency", "--quiet", "--json",
            "--out", str(tmp_path / "e"), "--votes"]
    assert main([*args, "2"]) == 0
    capsys.readouterr()
    assert main([*args, "3", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "its --votes is 2, this evaluation's 3" in err and "method_kwargs" not in err, err


def test_grpo_errors_other_than_the_context_check_propagate_as_raised(tmp_path, monkeypatch):
    """grpo (as eval and distill) rewords the context check's "+ max_new_tokens" as the flag; every other error of
    the run was rebuilt as a plain PonderError `from None`, so --debug showed the CLI's line, not where it came from."""
    import ponder.rl.trainer as trainer
    from ponder.errors import PonderError

    class Deep(PonderError):
        pass

    def boom(*args, **kwargs):
        raise Deep("from deep inside the run")

    monkeypatch.setattr(trainer, "train", boom)
    with pytest.raises(Deep, match="from deep inside the run"):
        main(["--debug", "grpo", "--model", "tiny", "--task", "arith", "--steps", "1", "--threads", "1",
              "--out", str(tmp_path / "r")])


def test_grpo_system_is_the_system_message_of_its_chat_prompts_as_evals(tmp_path, monkeypatch, capsys):
    """grpo had --chat but no --system (GRPOConfig.system had no flag): a model evaluated with `eval --chat --system
    S` could not be trained on the prompts it was evaluated on. --system reaches the run's config, and its prompts
    render as eval's: an empty one is an empty system turn (the trainer had dropped it, where eval keeps it). Without
    --chat it is refused; a --resume keeps the run's own."""
    import ponder.rl.trainer as trainer
    from ponder.errors import PonderError
    from ponder.evaluate import _prompt_of

    seen = {}

    def capture(cfg, *a, **k):
        cfg.validate()
        seen["cfg"] = cfg
        raise PonderError("stop here")

    monkeypatch.setattr(trainer, "train", capture)
    base = ["grpo", "--task", "arith", "--steps", "1", "--out", str(tmp_path / "r")]
    item = {"prompt": "1 + 1 = ?"}
    for system in ("Think first.", ""):
        assert main([*base, "--chat", "--system", system]) == 2 and "stop here" in capsys.readouterr().err
        assert seen["cfg"].system == system
        assert trainer.render(seen["cfg"], item) == _prompt_of(item, True, system) == [
            {"role": "system", "content": system}, {"role": "user", "content": "1 + 1 = ?"}]
    seen.clear()
    assert main([*base, "--system", "Think first."]) == 2 and not seen
    assert "system is the system message of chat prompts" in capsys.readouterr().err
    assert main(["grpo", "--out", str(tmp_path / "r"), "--resume", "--system", "S"]) == 2
    assert "drop --system" in capsys.readouterr().err


def test_chat_says_when_a_reply_is_cut_by_max_new_tokens(monkeypatch, capsys):
    """A reply that ran out of --max-new-tokens ended mid-sentence with nothing said: it read as the model's whole
    answer (and went into the conversation so). Now one line on stderr says it was cut; a reply the model ended
    itself says nothing."""
    monkeypatch.setattr("sys.stdin", io.StringIO("hello\n\n"))
    assert main(["chat", "--max-new-tokens", "3", "--temperature", "0"]) == 0
    cut = [x for x in capsys.readouterr().err.splitlines() if not x.startswith("ponder chat —")]
    assert len(cut) == 1 and "cut at 3 tokens" in cut[0] and "--max-new-tokens" in cut[0], cut
    monkeypatch.setattr("sys.stdin", io.StringIO("hello\n\n"))
    assert main(["chat", "--max-new-tokens", "200", "--temperature", "0"]) == 0  # (24 tokens, then EOS)
    assert "cut" not in capsys.readouterr().err


def test_verify_summary_names_the_most_common_reasons_not_every_one(tmp_path, capsys):
    """verify's summary line listed every distinct reason in name order: code's "failed test 7" / "error in f(3)"
    and constraints' "failed: json, title" make hundreds on a real file, a line of kilobytes with the common
    reasons lost in it. It lists the most common few, most common first, and says how many more --json has."""
    import itertools

    kinds = ["lowercase", "uppercase", "no_commas", "quotation", "json", "title"]  # (all fail on "Hi, there")
    sets = [*itertools.combinations(kinds, 1), *itertools.combinations(kinds, 2), ("title",), ("title",)]
    data = tmp_path / "c.jsonl"
    data.write_text("".join(json.dumps({"completion": "Hi, there", "constraints": [{"type": t} for t in s]}) + "\n"
                            for s in sets))
    assert main(["verify", "constraints", str(data), "--quiet", "--workers", "1", "--json"]) == 0
    reasons = json.loads(capsys.readouterr().out)["reasons"]
    assert len(reasons) == 21 and reasons["failed: title"] == 3
    assert main(["verify", "constraints", str(data), "--quiet", "--workers", "1"]) == 0
    line = capsys.readouterr().out
    assert "; reasons: failed: title: 3, " in line and line.count(": 1") <= 4 and "16 more" in line, line


def test_every_model_option_help_names_the_model_used_without_it():
    """eval's and probe's --model (append, so its argparse default is None) said "checkpoint or 'tiny'" with no
    default, while both ran the built-in tiny model without it (generate's and sft's say "(default: tiny)")."""
    opts = [(name, parser, a) for name, parser, a in _options(build_parser()) if "--model" in a.option_strings]
    assert {"ponder eval", "ponder probe", "ponder generate"} <= {name for name, _, _ in opts}
    for name, parser, a in opts:
        shown = parser._get_formatter()._expand_help(a)
        assert re.search(r"\(default: (tiny|the built-in tiny model)\)", shown), (name, shown)


def test_eval_methods_help_names_every_method_sweep_takes(capsys):
    """--methods' help said only "--sweep: methods": nothing named weighted_majority, oracle or effort, and
    --method's list (self_consistency, ...) is not what --sweep takes (majority)."""
    from ponder.evaluate import PARALLEL_METHODS, SEQUENTIAL_METHODS

    shown = _help(capsys, "eval").split("--methods METHODS ", 1)[1].split(" --answer-tokens", 1)[0]
    assert not [m for m in PARALLEL_METHODS + SEQUENTIAL_METHODS if m not in shown.replace("- ", "-")]


def test_grpo_set_help_names_every_part_it_overrides(capsys):
    """--set PART=VALUE's help named two parts by example (clip, beta) and no others: which parts exist was
    learned only from the error a wrong one gives."""
    from dataclasses import fields

    from ponder.rl.objective import ObjectiveConfig

    shown = _help(capsys, "grpo").split("--set PART=VALUE ", 1)[1].split(" --group-filter", 1)[0]
    assert not [f.name for f in fields(ObjectiveConfig) if not re.search(rf"\b{f.name}\b", shown)]


def test_distill_lr_help_states_the_warmup_it_trains_with(capsys):
    """distill warms up over max(1, steps // 10) steps; its --lr help said "steps/10" (0.5 steps at --steps 5,
    where it warms up over 1), where sft's --warmup states the rule whole."""
    sft = _help(capsys, "sft").split("--warmup WARMUP ", 1)[1].split(" --", 1)[0]
    distill = _help(capsys, "distill").split("--lr LR ", 1)[1].split(" --", 1)[0]
    assert "steps/10 rounded down, at least 1" in sft and "steps/10 rounded down, at least 1" in distill


def _info_by_loading(path, dtype=None):
    """What `ponder info` reported when it loaded the weights (its code before it read only the headers)."""
    from ponder.checkpoint import checkpoint_dtype, load_config, resolve

    model, tok = ponder.load(path, dtype=dtype or checkpoint_dtype(load_config(resolve(path)), resolve(path)))
    c = model.config
    return {"parameters": sum(p.numel() for p in model.parameters()), "dtype": str(model.dtype).removeprefix("torch."),
            "tied_embeddings": c.tie_word_embeddings, "vocab_size": c.vocab_size, "layers": c.num_hidden_layers,
            "tokenizer_vocab": tok.vocab_size, "eos_token": tok.eos_token, "architecture": c.model_type}


def _no_tensor_reads(monkeypatch):
    """Headers may be read, tensor data not: safe_open's get_tensor and a slice's rows fail the test."""
    import safetensors.torch

    import ponder.checkpoint as ck

    real = ck.safe_open

    class Slice:
        def __init__(self, sl):
            self.get_shape, self.get_dtype = sl.get_shape, sl.get_dtype

        def __getitem__(self, i):
            pytest.fail("tensor data read")

    class Opened:
        def __init__(self, *a, **k):
            self.f = real(*a, **k)

        def __enter__(self):
            self.f.__enter__()
            return self

        def __exit__(self, *exc):
            return self.f.__exit__(*exc)

        def keys(self):
            return self.f.keys()

        def get_slice(self, name):
            return Slice(self.f.get_slice(name))

        def get_tensor(self, name):
            pytest.fail("tensor data read")

    monkeypatch.setattr(ck, "safe_open", Opened)
    monkeypatch.setattr(safetensors.torch, "load_file", lambda *a, **k: pytest.fail("tensor data read"))


@pytest.mark.parametrize("case", ["tiny", "tied", "untied", "sharded", "bf16", "bf16_as_fp16", "unprefixed",
                                  "tied_equal_head", "tied_different_head", "head_without_embedding"])
def test_info_reads_the_headers_not_the_weights_and_reports_what_loading_does(tmp_path, tiny_random, monkeypatch,
                                                                              capsys, case):
    """`ponder info` loaded every weight to report the architecture, parameter count and dtype: for a 70B checkpoint
    minutes and ~140 GB of memory. It reads the config and the safetensors headers now, and reports what loading
    does (a tied head counted once; a tied config's head in the file that differs from the embedding is untied, as
    load unties it: the one case that reads tensors, those two)."""
    from safetensors.torch import load_file, save_file

    model, tok = tiny_random
    m = copy.deepcopy(model)
    if case == "untied":
        m = ponder.Transformer(ponder.ModelConfig(**{**vars(model.config), "tie_word_embeddings": False}))
        m.init_weights(1)
    ck = tmp_path / "ck" if case != "tiny" else "tiny"
    dtype = None
    if case != "tiny":
        ponder.save(m.to(torch.bfloat16) if case.startswith("bf16") else m, tok, ck)
        dtype = "float16" if case == "bf16_as_fp16" else None
        s = load_file(ck / "model.safetensors")
        if case == "sharded":
            names = sorted(s)
            (ck / "model.safetensors").unlink()
            wm = {k: f"model-{i % 2}.safetensors" for i, k in enumerate(names)}
            for f in set(wm.values()):
                save_file({k: s[k] for k in names if wm[k] == f}, ck / f)
            (ck / "model.safetensors.index.json").write_text(json.dumps({"weight_map": wm}))
        elif case == "unprefixed":
            save_file({k.removeprefix("model."): v for k, v in s.items()}, ck / "model.safetensors")
        elif case.startswith(("tied_", "head_")):
            s["lm_head.weight"] = s["model.embed_tokens.weight"].clone()
            if case == "tied_different_head":
                s["lm_head.weight"][-1, 0] += 1
            if case == "head_without_embedding":
                del s["model.embed_tokens.weight"]
            save_file(s, ck / "model.safetensors")
    want = _info_by_loading(ck, dtype)
    if case not in ("tied_equal_head", "tied_different_head"):  # (whether load unties the head is in their data)
        _no_tensor_reads(monkeypatch)
    assert main(["info", str(ck), "--json"] + (["--dtype", dtype] if dtype else [])) == 0
    info = json.loads(capsys.readouterr().out)
    assert {k: info[k] for k in want} == want
    assert info["tied_embeddings"] == (case not in ("untied", "tied_different_head"))


def _break(ck: Path, case: str, tok) -> None:
    from safetensors.torch import load_file, save_file

    cfg = json.loads((ck / "config.json").read_text())
    s = load_file(ck / "model.safetensors")
    if case == "config_field":
        cfg["hidden_act"] = "gelu"
    elif case == "layers":
        cfg["num_hidden_layers"] = 3
    elif case == "shape":
        cfg["intermediate_size"] = 96
    elif case == "vocab":
        cfg["vocab_size"] = tok.vocab_size - 1
    elif case == "missing_tensor":
        del s["model.norm.weight"]
    elif case == "unexpected_tensor":
        s["model.extra.weight"] = torch.zeros(2)
    elif case == "int_tensor":
        s["model.norm.weight"] = s["model.norm.weight"].to(torch.int32)
    elif case == "missing_shard":
        (ck / "model.safetensors").unlink()
        (ck / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {k: "a.safetensors" for k in s}}))
    elif case == "no_tokenizer":
        (ck / "tokenizer.json").unlink()
    elif case == "huge_vocab":
        cfg["vocab_size"] = 10**12
    (ck / "config.json").write_text(json.dumps(cfg))
    if case in ("missing_tensor", "unexpected_tensor", "int_tensor"):
        save_file(s, ck / "model.safetensors")


@pytest.mark.parametrize("case", ["config_field", "layers", "shape", "vocab", "missing_tensor", "unexpected_tensor",
                                  "int_tensor", "missing_shard", "no_tokenizer", "huge_vocab"])
def test_info_refuses_what_loading_refuses_in_the_same_words(tmp_path, tiny_random, capsys, case):
    """Reading the headers alone, `ponder info` still refuses every checkpoint that load() refuses before reading a
    tensor, with load's own one line."""
    from ponder.checkpoint import checkpoint_dtype, load_config, resolve

    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    _break(ck, case, tok)
    with pytest.raises(ponder.PonderError) as e:
        ponder.load(ck, dtype=checkpoint_dtype(load_config(resolve(ck)), resolve(ck)))
    assert main(["info", str(ck)]) == 2
    assert capsys.readouterr().err == f"ponder info: error: {e.value}\n"


def test_eval_takes_a_system_prompt_recorded_and_kept_on_resume(tmp_path, capsys):
    """`ponder eval` had no --system (generate and chat have one): a chat model could not be evaluated under the
    system prompt it is used with. With --chat it goes before each prompt, as evaluate(system=...) puts it, is
    recorded in config.json and summary.json, and --resume with another one is refused."""
    from ponder.checkpoint import load
    from ponder.cli import _load_items
    from ponder.evaluate import evaluate

    base = ["eval", "--model", "tiny", "--task", "arith", "--limit", "3", "--method", "greedy", "--max-new-tokens",
            "12", "--chat", "--quiet"]
    out = tmp_path / "sys"
    assert main([*base, "--system", "Answer briefly.", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["system"] == "Answer briefly."
    assert json.loads((out / "summary.json").read_text())["settings"]["system"] == "Answer briefly."
    got = [json.loads(line)["completion"] for line in (out / "samples.jsonl").read_text().splitlines()]
    items = _load_items(build_parser().parse_args([*base, "--out", str(out)]), "limit", split="test",
                        require_answer=True)
    model, tok = load("tiny")
    lib = evaluate(model, tok, items, method="greedy", max_new_tokens=12, chat=True, system="Answer briefly.",
                   out_dir=tmp_path / "lib", progress=False)
    assert lib["settings"]["system"] == "Answer briefly."
    assert got == [json.loads(line)["completion"] for line in (tmp_path / "lib" / "samples.jsonl").read_text()
                   .splitlines()]
    plain = evaluate(model, tok, items, method="greedy", max_new_tokens=12, chat=True, out_dir=tmp_path / "plain",
                     progress=False)  # (the system turn reached the model: greedy completions without it differ)
    assert plain["settings"]["system"] is None
    assert got != [json.loads(line)["completion"] for line in (tmp_path / "plain" / "samples.jsonl").read_text()
                   .splitlines()]
    capsys.readouterr()
    for other in (["--system", "Think hard."], []):  # another system prompt, or none: not this evaluation
        assert main([*base, *other, "--out", str(out), "--resume"]) == 2
        assert "its --system is 'Answer briefly.'" in capsys.readouterr().err
    assert main([*base[:-2], "--quiet", "--system", "x"]) == 2  # without --chat a text prompt has no system turn
    assert "--system: used only with --chat" in capsys.readouterr().err
    data = tmp_path / "msgs.jsonl"
    data.write_text(json.dumps({"id": "q1", "prompt": [{"role": "user", "content": "1+1?"}], "answer": "2"}) + "\n")
    assert main(["eval", "--data", str(data), "--chat", "--system", "x", "--method", "greedy", "--quiet"]) == 2
    assert "--system: item q1's prompt is a list of chat messages" in capsys.readouterr().err


@pytest.mark.parametrize("scorer, said", [("math", "gold answer"), ("format+math", "gold answer"), ("likelihood", None),
                                          ("format", None)])
def test_eval_best_of_n_scored_by_the_gold_answer_is_noted_as_an_oracle(scorer, said, capsys):
    """--method best_of_n --scorer math picks a candidate by reading each problem's gold answer: its accuracy is an
    oracle bound (near pass@N; 0.80 where the likelihood scorer got 0.40 on the tiny model), and was reported as a
    method's with no word. Said on stderr before the model loads (not with --quiet)."""
    base = ["eval", "--model", "no/such/model", "--limit", "1", "--method", "best_of_n", "--scorer", scorer]
    assert main(base) == 2
    err = capsys.readouterr().err
    assert (f"note: --scorer {scorer} reads each problem's {said}: best_of_n then picks a right candidate" in err) \
        == (said is not None), err
    assert main([*base, "--quiet"]) == 2
    assert "note:" not in capsys.readouterr().err


@pytest.mark.parametrize("cmd", ["sft", "pretrain", "distill"])
def test_resume_given_a_directory_where_only_grpo_takes_one_says_how(cmd, capsys):
    """`ponder sft --resume DIR` (grpo's form, whose --resume takes the run directory) said only "missing --out"."""
    assert main([cmd, "--resume", "runs/r1"]) == 2
    err = capsys.readouterr().err
    assert f"--resume takes no directory in ponder {cmd}: give the run as --out runs/r1 --resume" in err, err
    assert err.count("\n") == 1


@pytest.mark.parametrize("sweep, name", [(False, "samples.jsonl"), (True, "scaling.json")])
def test_eval_out_holding_a_users_file_it_would_write_is_refused(tmp_path, capsys, sweep, name):
    """`ponder eval --data DIR/samples.jsonl --out DIR` wrote the evaluation's samples over its own dataset, and
    any file of the user's under a name eval (or --sweep: scaling.json, scaling.csv, ...) writes was replaced
    silently where no config.json marks the directory as a result. Refused, the file left as it was."""
    d = tmp_path / "data"
    d.mkdir()
    f = d / name
    f.write_text(json.dumps({"prompt": "Problem: 1 + 1 = ?\nSolution:", "answer": "2"}) + "\n")
    before = f.read_bytes()
    mode = ["--sweep", "--ns", "1", "--methods", "majority"] if sweep else ["--method", "greedy"]
    assert main(["eval", "--data", str(f), "--out", str(d), *mode, "--max-new-tokens", "4", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"--out {d}: holds a {name} that no {'sweep' if sweep else 'eval'} wrote" in err and len(err.splitlines()) == 1
    assert f.read_bytes() == before and sorted(os.listdir(d)) == [name]


def test_distill_out_holding_a_users_distilled_jsonl_is_refused(tmp_path, capsys):
    """`ponder distill --data DIR/distilled.jsonl --out DIR` wrote the kept teacher samples over the prompts it had
    sampled (a distilled.jsonl of no run: the user's own). Refused before any sampling, the file left as it was."""
    d = tmp_path / "data"
    d.mkdir()
    f = d / "distilled.jsonl"
    assert main(["data", "export", "arith", "--split", "train", "-n", "20", "-o", str(f), "--quiet"]) == 0
    before = f.read_bytes()  # (problems the tiny teacher solves some of: without the check, a run that keeps some)
    assert main(["distill", "--teacher", "tiny", "--data", str(f), "-k", "2", "--max-new-tokens", "128", "--steps",
                 "1", "--out", str(d), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"--out {d}: holds a distilled.jsonl of no run" in err and len(err.splitlines()) == 1
    assert f.read_bytes() == before and sorted(os.listdir(d)) == ["distilled.jsonl"]


def test_eval_refuses_a_taken_out_before_loading_models(tmp_path, monkeypatch, capsys):
    """A taken --out (another command's run, an interrupted evaluation that a run without --resume would drop) was
    refused by evaluate() or sweep() only once the model had loaded: minutes for a large checkpoint, to be told of
    a flag. Said before any loading."""
    import ponder.cli as cli

    loaded = []
    monkeypatch.setattr(cli, "_load", lambda a, path: loaded.append(path))
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"kind": "sft", "train": {}}))
    stopped = tmp_path / "stopped"
    stopped.mkdir()
    (stopped / ".samples.partial.jsonl").write_text('{"n_problems": 2}\n{"start": 0, "seconds": 1, "outcomes": [[]]}\n')
    for argv, said in ((["--out", str(run)], "holds an 'sft' run, whose config.json this eval would replace"),
                       (["--out", str(run), "--sweep"], "whose config.json this sweep would replace"),
                       (["--out", str(stopped)], "holds an interrupted evaluation (1 problem kept)")):
        assert main(["eval", "--limit", "2", *argv, "--quiet"]) == 2
        assert said in capsys.readouterr().err and loaded == []


def test_a_missing_command_is_a_usage_error_at_every_level(capsys):
    """`ponder` with no command printed the help and exited 0 (a script that lost its command "succeeded"), where
    `ponder data`, `ponder probe` and `ponder verify` with none are usage errors (exit 2, one line): all alike now,
    the one line naming the commands. --help and --version still exit 0."""
    for argv, said in (([], "ponder: error: missing COMMAND (generate | chat | "),
                       (["--debug"], "ponder: error: missing COMMAND ("),
                       (["data"], "ponder data: error: missing SUBCOMMAND (export)"),
                       (["probe"], "ponder probe: error: missing probe (contamination | diversity)"),
                       (["verify"], "ponder verify: error: missing verifier (math | ")):
        assert main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert out == "" and err.startswith(said) and err.count("\n") == 1, (argv, err)
    assert "| probe | report) (see ponder --help)" in (main([]), capsys.readouterr().err)[1]
    assert main(["--version"]) == 0 and capsys.readouterr().out.startswith("ponder ")
    assert main(["--help"]) == 0 and capsys.readouterr().out.startswith("usage: ponder")


def test_eval_task_seed_keeps_the_test_set_while_seed_changes_the_samples(tmp_path, capsys):
    """--seed also picked which problems a built-in task generated: evaluations with several sampling seeds (to
    measure the variance) each scored another test set. --task-seed (default: --seed) fixes the problems."""
    def ev(seed, out, *more):
        assert main(["eval", "--model", "tiny", "--task", "arith", "--limit", "3", "--method", "sampling", "-n", "2",
                     "--temperature", "1.0", "--max-new-tokens", "8", "--quiet", "--seed", str(seed),
                     "--out", str(tmp_path / out), *more]) == 0
        rows = [json.loads(x) for x in (tmp_path / out / "samples.jsonl").read_text().splitlines()]
        return ([(r["id"], r["prompt"]) for r in rows], [r["completion"] for r in rows],
                json.loads((tmp_path / out / "config.json").read_text()))

    p1, c1, cfg1 = ev(1, "a", "--task-seed", "7")
    p2, c2, cfg2 = ev(2, "b", "--task-seed", "7")
    assert p1 == p2 and c1 != c2
    assert (cfg1["seed"], cfg1["task_seed"], cfg2["seed"], cfg2["task_seed"]) == (1, 7, 2, 7)
    p3, _, cfg3 = ev(1, "c")  # (default: --seed's value, the problems every earlier run evaluated)
    assert cfg3["task_seed"] == 1 and p3 != p1
    capsys.readouterr()
    # resumed with another --task-seed: refused by name, not taken as the same evaluation
    assert main(["eval", "--model", "tiny", "--task", "arith", "--limit", "3", "--method", "sampling", "-n", "2",
                 "--temperature", "1.0", "--max-new-tokens", "8", "--quiet", "--seed", "1", "--task-seed", "7",
                 "--out", str(tmp_path / "c"), "--resume"]) == 2
    assert "its --task-seed is 1, this evaluation's 7" in capsys.readouterr().err
    # a run saved before --task-seed existed (no key) resumes as if its task_seed were its seed
    cfg3.pop("task_seed")
    (tmp_path / "c" / "config.json").write_text(json.dumps(cfg3))
    assert main(["eval", "--model", "tiny", "--task", "arith", "--limit", "3", "--method", "sampling", "-n", "2",
                 "--temperature", "1.0", "--max-new-tokens", "8", "--quiet", "--seed", "1", "--out",
                 str(tmp_path / "c"), "--resume"]) == 0
    assert "this evaluation had finished" in capsys.readouterr().err


def test_eval_task_seed_in_sweep_and_refused_with_data(tmp_path, capsys):
    assert main(["eval", "--sweep", "--model", "tiny", "--task", "arith", "--limit", "1", "--ns", "1",
                 "--methods", "majority", "--max-new-tokens", "4", "--quiet", "--seed", "3",
                 "--task-seed", "5", "--out", str(tmp_path / "sw")]) == 0
    cfg = json.loads((tmp_path / "sw" / "config.json").read_text())
    assert (cfg["seed"], cfg["task_seed"]) == (3, 5)
    data = tmp_path / "d.jsonl"
    data.write_text('{"prompt": "1+1=", "answer": "2"}\n')
    capsys.readouterr()
    assert main(["eval", "--data", str(data), "--task-seed", "5", "--limit", "1"]) == 2
    assert f"--task-seed 5: the problems of --data {data} are its rows" in capsys.readouterr().err


def test_pretrain_resume_records_the_new_path_of_a_moved_corpus(tmp_path, capsys, hold_run):
    """`ponder pretrain --resume --corpus NEWPATH` on a run whose corpus file moved resumed (same sha256) but kept
    the old path in config.json, so every later resume needed --corpus again: the new path is recorded."""
    text = "\n\n".join(f"Problem: {a} + {b} = ?\nSolution: {a + b}." for a in range(1, 9) for b in range(1, 9))
    (tmp_path / "c.txt").write_text(text + "\n")
    run = tmp_path / "r"
    assert main(["pretrain", "--out", str(run), "--steps", "1", "--corpus", str(tmp_path / "c.txt"), "--hidden", "32",
                 "--layers", "1", "--seq-len", "32", "--batch-size", "2", "--vocab", "300", "--quiet"]) == 0
    (tmp_path / "moved").mkdir()
    new = (tmp_path / "moved" / "c.txt")
    (tmp_path / "c.txt").rename(new)
    before = (run / "config.json").read_bytes()
    held = hold_run(run)  # a resume refused (the run in use by another process) leaves config.json as it was: the
    try:  # new path was written before the lock was checked, into the directory of the run training there
        assert main(["pretrain", "--out", str(run), "--resume", "--steps", "2", "--corpus", str(new), "--quiet"]) == 2
    finally:
        held.close()
    assert "is in use by another ponder process" in capsys.readouterr().err
    assert (run / "config.json").read_bytes() == before
    assert main(["pretrain", "--out", str(run), "--resume", "--steps", "2", "--corpus", str(new), "--quiet"]) == 0
    assert json.loads((run / "config.json").read_text())["corpus"]["file"] == str(new.resolve())
    capsys.readouterr()
    assert main(["pretrain", "--out", str(run), "--resume", "--steps", "3", "--quiet", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 3


def test_pretrain_on_a_corpus_file_resumes_as_uninterrupted_and_refuses_an_edited_corpus(tmp_path, capsys):
    """`ponder pretrain --corpus FILE` trains on the user's text (held out by hash), records the file's path and
    sha256, resumes to the uninterrupted run's metrics, and refuses an edited file in one line; a bad corpus file
    is one line with nothing written."""
    text = "\n\n".join(f"Problem: {a} + {b} = ?\nSolution: {a + b}." for a in range(1, 15) for b in range(1, 15))
    (tmp_path / "c.txt").write_text(text + "\n")
    small = ["--corpus", str(tmp_path / "c.txt"), "--hidden", "32", "--layers", "1", "--seq-len", "32",
             "--batch-size", "2", "--vocab", "300", "--quiet"]
    assert main(["pretrain", "--out", str(tmp_path / "a"), "--steps", "4", *small]) == 0
    assert main(["pretrain", "--out", str(tmp_path / "b"), "--steps", "2", *small]) == 0
    conf = json.loads((tmp_path / "b" / "config.json").read_text())
    assert conf["corpus"]["file"] == str((tmp_path / "c.txt").resolve()) and conf["heldout_sha256"]
    assert main(["pretrain", "--out", str(tmp_path / "b"), "--resume", "--steps", "4", "--quiet"]) == 0
    a, b = ([json.loads(x) for x in (tmp_path / r / "metrics.jsonl").read_text().splitlines()] for r in "ab")
    assert [x["loss"] for x in a] == [x["loss"] for x in b] and a[-1]["heldout_loss"] == b[-1]["heldout_loss"]
    capsys.readouterr()
    (tmp_path / "c.txt").write_text(text.replace("15", "16") + "\n")
    assert main(["pretrain", "--out", str(tmp_path / "b"), "--resume", "--steps", "5", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "c.txt: not the corpus the run was trained on" in err and len(err.splitlines()) == 1
    (tmp_path / "bad.jsonl").write_text('{"text": "a"}\n{"content": "b"}\n')
    assert main(["pretrain", "--out", str(tmp_path / "c"), *small[2:], "--corpus", str(tmp_path / "bad.jsonl")]) == 2
    assert "bad.jsonl:2: no 'text' field" in capsys.readouterr().err and not (tmp_path / "c").exists()


@pytest.mark.parametrize("flags, workers", [([], None), (["--ray-workers", "2"], 2), (["--ray-workers", "3"], 3)])
def test_grpo_resume_on_ray_without_ray_workers_leaves_the_count_to_the_run(flags, workers):
    """`grpo --resume --ray` without --ray-workers started the default 2 actors, whatever the run used: the count
    goes to train_ray only when given (None: the run's recorded one, config.json "ray": {"workers"})."""
    from ponder.cli import _command_parser, _grpo_trainer, _options_given, build_parser

    argv = ["grpo", "--resume", "run", "--ray", *flags]
    parser = build_parser()
    a = parser.parse_args(argv)
    a.given = _options_given(_command_parser(parser, a), argv)
    assert _grpo_trainer(a).keywords["workers"] == workers


def test_grpo_resume_takes_a_moved_data_file_at_its_new_path_and_records_it(tmp_path, ckpt, capsys):
    """`grpo --resume` with its --data file moved said only "no such file", and `--resume --data NEWPATH` was refused
    ("drop --data"): the run could not continue at all. The error names --data; the file at its new path is taken
    when its items are the run's (digest), recorded in config.json once every check has passed (a refused resume
    leaves config.json byte-identical), and a later plain --resume reads it there. Another file (or the same renamed:
    its ids come from its name) was blamed on the checkpoint ("saved by a run of other ... documents"): --data is."""
    old, new, other = tmp_path / "a" / "d.jsonl", tmp_path / "b" / "d.jsonl", tmp_path / "c" / "d.jsonl"
    for f, shift in ((old, 0), (new, 0), (other, 1)):
        f.parent.mkdir()
        f.write_text("".join(json.dumps({"prompt": f"What is {i}+{i}? Answer:", "answer": str(2 * i + shift)}) + "\n"
                             for i in range(6)))
    run = tmp_path / "g"
    assert main(["grpo", "--model", str(ckpt), "--data", str(old), "--reward", "math", "--steps", "1",
                 "--prompts-per-step", "2", "--group-size", "2", "--max-new-tokens", "4", "--quiet",
                 "--out", str(run)]) == 0
    old.unlink()
    before = (run / "config.json").read_bytes()
    assert main(["grpo", "--resume", str(run), "--steps", "2", "--quiet"]) == 2
    assert "if it moved, pass its new path as --data" in capsys.readouterr().err
    assert main(["grpo", "--resume", str(run), "--data", str(other), "--steps", "2", "--quiet"]) == 2
    assert f"--data {other}: its items are not the run's" in capsys.readouterr().err
    renamed = new.with_name("e.jsonl")  # (its rows' ids come from the file's name: e-1, not d-1)
    renamed.write_bytes(new.read_bytes())
    assert main(["grpo", "--resume", str(run), "--data", str(renamed), "--steps", "2", "--quiet"]) == 2
    assert "so a renamed file differs too" in capsys.readouterr().err
    assert (run / "config.json").read_bytes() == before
    assert main(["grpo", "--resume", str(run), "--data", str(new), "--steps", "2", "--quiet"]) == 0
    assert json.loads((run / "config.json").read_text())["grpo"]["data"] == str(new.resolve())
    assert main(["grpo", "--resume", str(run), "--steps", "3", "--quiet"]) == 0
    assert [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]


@pytest.mark.parametrize("args, advice", [
    (["--sweep"], "give --methods best_of_n,budget_forcing (methods that need no final answer: best_of_n, oracle, "
                  "budget_forcing, effort)"),
    (["--sweep", "--methods", "weighted_majority,effort"], "give --methods effort "),
    (["--method", "self_consistency"], "use --method best_of_n (a --scorer picks one candidate) or sampling")])
def test_eval_voting_on_a_reward_without_final_answers_names_what_the_cli_can_do(capsys, args, advice):
    """`eval --sweep --reward format` (its default --methods hold majority) was refused with advice to pass an answer
    extractor "in Python: extract=...", which a CLI user cannot do: the CLI names the methods that need no final
    answer, before the model loads."""
    assert main(["eval", "--model", "tiny", "--task", "arith", "--limit", "2", "--reward", "format", *args]) == 2
    err = capsys.readouterr().err
    assert advice in err and "extract=" not in err and "--reward format (primary verifier 'format')" in err


def test_grpo_prompts_per_step_help_does_not_call_a_rollout_batch_one_optimizer_step(capsys):
    """--prompts-per-step was "prompts per optimizer step", while an objective with minibatches or mu > 1 (dapo's
    16 minibatches, gspo's 4) takes several optimizer steps on each rollout batch of that many prompts."""
    text = _help(capsys, "grpo").split("--prompts-per-step PROMPTS_PER_STEP ", 1)[1].split(" --group-size GROUP", 1)[0]
    assert "per optimizer step" not in text and "rollout batch" in text and "minibatches" in text


def test_json_on_an_error_prints_nothing_on_stdout(tmp_path, capsys):
    """README: under --json a command that fails prints nothing on stdout (its one line on stderr) and exits 2, so a
    script reading stdout as JSON checks the exit status first: a usage error, a missing file, a bad row."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a"}\n')
    for argv in (["info", str(tmp_path / "nosuch"), "--json"], ["data", "export", "arith", "-n", "0", "-o", "-", "--json"],
                 ["verify", "math", str(bad), "--json"], ["sft", "--data", str(bad), "--out", str(tmp_path / "o"), "--json"]):
        assert main(argv) == 2, argv
        std = capsys.readouterr()
        assert std.out == "" and std.err.count("\n") == 1 and "error: " in std.err, (argv, std)
    assert not (tmp_path / "o").exists()


def test_eval_refuses_an_out_holding_probe_results(tmp_path, capsys):
    """The probes refuse an evaluation's --out; `ponder eval --out DIR` into a directory of probe results took it,
    and `ponder report DIR` then showed the eval's config.json as the probe results' configuration. Refused before
    anything is written, --sweep too; the probe's files stay as they were."""
    d = tmp_path / "probes"
    d.mkdir()
    (d / "diversity.json").write_text(json.dumps({"intra": {}, "inter": {}}))
    for extra in ([], ["--sweep"]):
        assert main(["eval", "--task", "arith", "--limit", "2", "--max-new-tokens", "2", "--out", str(d), *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "holds probe results (diversity.json)" in err, err
        assert sorted(p.name for p in d.iterdir()) == ["diversity.json"]


def test_a_training_run_refuses_an_out_holding_probe_results(tmp_path, capsys):
    """As eval: `ponder sft --out DIR` (grpo's too) took a directory of probe results, whose report then showed the
    run's config.json as theirs; refused before the model loads, the directory left as it was."""
    d = tmp_path / "probes"
    d.mkdir()
    (d / "contamination.json").write_text(json.dumps({"contaminated": False, "evidence": {}}))
    data = tmp_path / "d.jsonl"
    data.write_text('{"prompt": "a", "response": "b"}\n')
    for argv in (["sft", "--data", str(data)], ["grpo", "--task", "arith"]):
        assert main([*argv, "--out", str(d), "--steps", "1"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "holds probe results (contamination.json)" in err, err
        assert sorted(p.name for p in d.iterdir()) == ["contamination.json"]


def test_eval_resume_takes_budget_forcings_budget_spelled_either_way(tmp_path, capsys):
    """`--method budget_forcing --max-new-tokens 8` and `--budget 8` draw the same samples (the budget defaults to
    --max-new-tokens, which caps nothing else there), yet --resume with the other spelling was refused: "its
    max_new_tokens is 8, this evaluation's None", a key of config.json and no difference. It resumes (an interrupted
    one: test_evaluate); another budget is refused by its flag, in one line."""
    base = ["eval", "--model", "tiny", "--task", "arith", "--limit", "1", "--method", "budget_forcing", "--quiet",
            "--json", "--answer-tokens", "4"]
    assert main([*base, "--max-new-tokens", "8", "--out", str(tmp_path / "full")]) == 0
    full = capsys.readouterr().out
    assert main([*base, "--budget", "8", "--out", str(tmp_path / "full"), "--resume"]) == 0
    std = capsys.readouterr()
    assert "this evaluation had finished" in std.err and json.loads(std.out)["metrics"] == json.loads(full)["metrics"]
    assert main([*base, "--budget", "9", "--out", str(tmp_path / "full"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "holds a finished evaluation: its --budget is 8, this evaluation's 9 (budget forcing's thinking budget: " \
           "--budget, else --max-new-tokens)" in err and err.count("\n") == 1, err


def test_eval_sweep_resume_names_flags_and_takes_its_methods_in_any_order(tmp_path, capsys):
    """A sweep resumed with another --ns said "its parallel_ns is [1, 2], this evaluation's [1, 4]": a key of
    config.json, and not an evaluation. It names --ns and the sweep. The same --methods in another order are the same
    sweep: a finished one gives its curves, in the order asked."""
    base = ["eval", "--sweep", "--model", "tiny", "--task", "arith", "--limit", "2", "--max-new-tokens", "4",
            "--quiet", "--json", "--out", str(tmp_path / "s")]
    assert main([*base, "--ns", "1,2", "--methods", "majority,best_of_n"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main([*base, "--ns", "1,4", "--methods", "majority,best_of_n", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "holds a finished sweep: its --ns is 1,2, this sweep's 1,4;" in err and err.count("\n") == 1, err
    assert main([*base, "--ns", "2,1", "--methods", "best_of_n,majority", "--resume"]) == 0
    std = capsys.readouterr()
    assert "this sweep had finished" in std.err
    assert json.loads(std.out)["curves"] == first["curves"][::-1]


def test_eval_sampling_filter_help_names_the_methods_that_ignore_them():
    """`ponder eval --help` said --top-k and --min-p were "not for self_refine", yet self_refine samples its draft,
    critiques and revisions with them (--method self_refine --temperature 1 --top-k 1 decoded exactly as greedy,
    recorded top_k 1): found comparing the help with a self-refine run. Each filter's help names as "not for" only
    methods whose options lack it."""
    from ponder.evaluate import method_options
    from ponder.scale import METHODS

    ev = next(a for a in build_parser()._actions if a.dest == "command").choices["eval"]
    for a in ev._actions:
        if a.dest in ("top_p", "top_k", "min_p"):
            said = set(re.findall(r"not for ([a-z_]+)", a.help))
            assert said <= {m for m in METHODS if a.dest not in method_options(m)}, (a.dest, a.help)


def test_pretrain_hidden_help_says_which_sizes_it_takes(capsys):
    """--help said "hidden size H, a multiple of 32", and --hidden 160 (a multiple of 32) was refused: its 5 heads
    cannot share 2 key/value heads. Found by trying the sizes the help allows. It now says which multiples work."""
    from ponder.train import tiny_model_config

    hidden = _help(capsys, "pretrain").split("--hidden HIDDEN ", 1)[1].split(" --", 1)[0]
    assert "a multiple of 32 whose H/32 is 1, 3 or even" in hidden
    for h in range(32, 641, 32):
        if h // 32 in (1, 3) or h // 32 % 2 == 0:
            tiny_model_config(hidden=h)
        else:
            with pytest.raises(ponder.PonderError, match="1, 3 or even"):
                tiny_model_config(hidden=h)
