"""Pretraining and SFT: loss goes down, resume reproduces the uninterrupted run, response-only loss."""

import copy
import json
import math
import os
import re
from pathlib import Path

import pytest
import torch

import ponder
from ponder.errors import PonderError
from ponder.model import ModelConfig
from ponder.train import TrainConfig, encode_sft, pretrain, response_loss, sft, token_loss

DOCS = [f"Problem: {a} + {b} = ?\nSolution: {a} + {b} = {a + b}. The answer is \\boxed{{{a + b}}}.<|endoftext|>"
        for a in range(1, 13) for b in range(1, 13)]
SMALL = dict(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=2,
             num_key_value_heads=1, head_dim=24, vocab_size=300)


def _train(**kw):
    return TrainConfig(**{**dict(steps=12, batch_size=8, seq_len=64, lr=3e-3, warmup=2, save_every=6,
                                 eval_every=6), **kw})


def test_pretrain_lowers_loss_and_writes_run(tmp_path, plots):
    run = pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=30),
                   vocab_size=300, heldout_docs=DOCS[:16], progress=False)
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 30 and rows[-1]["loss"] < rows[0]["loss"] - 1.0
    assert "heldout_loss" in rows[-1]
    assert (run / "training.png").read_bytes()[:4] == b"\x89PNG"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(run / "tensorboard"))
    ea.Reload()
    assert [e.value for e in ea.Scalars("pretrain/loss")] == pytest.approx([r["loss"] for r in rows])
    # the held-out loss is an evaluation: under eval/ (it was pretrain/heldout_loss, among the training curves)
    assert "pretrain/heldout_loss" not in ea.Tags()["scalars"]
    held = [r for r in rows if "heldout_loss" in r]
    assert [e.step for e in ea.Scalars("eval/heldout_loss")] == [r["step"] for r in held]
    assert [e.value for e in ea.Scalars("eval/heldout_loss")] == pytest.approx([r["heldout_loss"] for r in held])
    model, tok = ponder.load(run / "checkpoint")
    assert tok.encode("12 + 3", add_special_tokens=False) and model.config.num_hidden_layers == 2


def test_resume_equals_uninterrupted(tmp_path):
    """A run killed between checkpoints and resumed is the uninterrupted run bit for bit: the same weights and the
    same metrics rows (held-out loss included; only the throughput differs), with gradient accumulation and
    attention dropout drawing from the restored RNG."""
    cfg = dict(SMALL, attention_dropout=0.1)
    train = _train(batch_size=6, grad_accum=4, eval_every=4)
    straight = pretrain(tmp_path / "a", DOCS, model_config=ModelConfig(**cfg), train=train, vocab_size=300,
                        heldout_docs=DOCS[:10], progress=False)
    def die(row):  # a crash after the step-6 checkpoint; rows 7-8 (8 with its held-out loss) are trimmed
        if row["step"] == 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pretrain(tmp_path / "b", DOCS, model_config=ModelConfig(**cfg), train=train, vocab_size=300,
                 heldout_docs=DOCS[:10], progress=False, on_log=die)
    half = tmp_path / "b"
    pretrain(half, DOCS, train=_train(), resume=True, heldout_docs=DOCS[:10], progress=False)
    ra, rb = ([{k: v for k, v in json.loads(x).items() if k != "tokens_per_s"}
               for x in (r / "metrics.jsonl").read_text().splitlines()] for r in (straight, half))
    assert ra == rb and [r["step"] for r in ra if "heldout_loss" in r] == [4, 8, 12]
    ma, _ = ponder.load(straight / "checkpoint")
    mb, _ = ponder.load(half / "checkpoint")
    for (n, p), q in zip(ma.state_dict().items(), mb.state_dict().values()):
        assert torch.equal(p, q), n



def test_evaluating_and_saving_more_often_trains_the_same_weights(tmp_path):
    """The held-out loss and the checkpoints read the model and draw nothing: under attention dropout (which draws
    from the RNG in training mode) runs differing only in eval_every and save_every train the same losses and
    weights bit for bit."""
    runs = [pretrain(tmp_path / str(i), DOCS, model_config=ModelConfig(**SMALL, attention_dropout=0.1),
                     train=_train(steps=4, eval_every=e, save_every=s), vocab_size=300, heldout_docs=DOCS[:8],
                     progress=False) for i, (e, s) in enumerate(((1, 1), (100, 100)))]
    la, lb = ([json.loads(x)["loss"] for x in (r / "metrics.jsonl").read_text().splitlines()] for r in runs)
    assert la == lb
    ma, mb = (ponder.load(r / "checkpoint")[0] for r in runs)
    for (n, p), q in zip(ma.state_dict().items(), mb.state_dict().values()):
        assert torch.equal(p, q), n

def test_compiled_pretraining_follows_eager(tmp_path):
    """--compile runs the same training: the same losses to float tolerance (fused kernels round differently)."""
    runs = [pretrain(tmp_path / name, DOCS, model_config=ModelConfig(**SMALL), vocab_size=300, progress=False,
                     train=_train(steps=4, compile=flag)) for name, flag in (("eager", False), ("compiled", True))]
    la, lb = ([json.loads(x)["loss"] for x in (r / "metrics.jsonl").read_text().splitlines()] for r in runs)
    assert la == pytest.approx(lb, rel=1e-3) and la[-1] < la[0]
    assert json.loads((runs[1] / "config.json").read_text())["train"]["compile"] is True


def test_pretrain_errors(tmp_path):
    with pytest.raises(PonderError, match="empty"):
        pretrain(tmp_path / "x", [], progress=False)
    run = pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2),
                   vocab_size=300, progress=False)
    with pytest.raises(PonderError, match="already holds a run"):
        pretrain(run, DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2), progress=False)
    (tmp_path / "notrun").mkdir()
    with pytest.raises(PonderError, match="not a resumable run"):
        pretrain(tmp_path / "notrun", DOCS, resume=True, progress=False)


def test_a_new_run_over_another_commands_run_is_not_told_to_resume_it(tmp_path):
    """`ponder pretrain --out DIR` over an sft run said "already holds a run; pass --resume to continue it", and
    --resume then refused it as an sft run."""
    for kind, said in (("sft", "an 'sft' run"), ("grpo", "a 'grpo' run")):
        run = tmp_path / kind
        (run / "checkpoint").mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({"kind": kind}))
        with pytest.raises(PonderError, match=f"already holds {said}, not a 'pretrain' run to continue; choose "
                                              "another --out$"):
            pretrain(run, DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=1), vocab_size=300,
                     progress=False)
    # distill over a pretraining run was told to pass --resume too, which then refused it; over a grpo run it was
    # told the run was no 'sft' run (distill's is named 'distill'), and over a plain sft run to pass --resume, which
    # `distill --resume` then refused as "not a distillation run"
    from ponder.train import check_distill_inputs, fresh_run_dir

    item = [{"prompt": "1 + 1 =", "answer": "2"}]
    for kind, saved, said in (("pretrain", {}, "a 'pretrain' run"), ("grpo", {}, "a 'grpo' run"),
                              ("sft", {"data": {"data": "d.jsonl"}}, "an 'sft' run")):
        run = tmp_path / f"d-{kind}"
        (run / "checkpoint").mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({"kind": kind, **saved}))
        with pytest.raises(PonderError, match=f"already holds {said}, not a 'distill' run to continue; choose "
                                              "another --out$"):
            check_distill_inputs(item, "math", run_dir=run)
    # a distillation's own run is one `distill --resume` continues (and `sft --resume` too: an sft run)
    run = tmp_path / "d-distill"
    (run / "checkpoint").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"kind": "sft", "data": {"distilled": "distilled.jsonl"}}))
    with pytest.raises(PonderError, match="already holds a run; pass --resume to continue it"):
        check_distill_inputs(item, "math", run_dir=run)
    with pytest.raises(PonderError, match="already holds a run; pass --resume to continue it"):
        fresh_run_dir(run, kind="sft")


@pytest.mark.parametrize("docs, held, msg", [
    ("12 + 3 = 15", None, r"pretrain: docs must be a list of strings \(one per document\), got str"),
    (DOCS, "1 + 1 = 2", r"pretrain: heldout_docs must be a list of strings"),
    (DOCS + [None], None, r"pretrain: docs\[144\] must be a string, got null$"),
    (DOCS, [7], r"pretrain: heldout_docs\[0\] must be a string, got a number 7"),
    (DOCS + ["1 + 1 = 2\ud800"], None, r"pretrain: docs\[144\]: .*lone surrogate '\\ud800' at character 9"),
])
def test_pretrain_documents_must_be_a_list_of_strings(tmp_path, docs, held, msg):
    """A string given as the documents was trained on one character per document (the held-out loss measured on
    one-character documents too); a non-string or a lone surrogate failed in the tokenizer trainer with a bare
    TypeError or UnicodeEncodeError. Each is one line naming the document, before anything is written."""
    run = tmp_path / "r"
    with pytest.raises(PonderError, match=msg):
        pretrain(run, docs, model_config=ModelConfig(**SMALL), train=_train(steps=1), vocab_size=300,
                 heldout_docs=held, progress=False)
    assert not run.exists()


@pytest.mark.parametrize("vocab, msg", [("300", "vocab_size must be an integer, got '300'"),
                                        (300.5, "vocab_size must be an integer, got 300.5"),
                                        (10**12, "vocab_size=1000000000000: at most 1,048,576")])
def test_pretrain_refuses_a_vocab_size_the_tokenizer_trainer_cannot_take(tmp_path, vocab, msg):
    """A vocab_size that is no integer failed with a TypeError inside the tokenizer trainer, and 10**12 (a typo of
    --vocab) aborted the whole process there (a failed allocation in Rust: no message, no exit code to read)."""
    run = tmp_path / "r"
    with pytest.raises(PonderError, match=re.escape(msg)):
        pretrain(run, DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=1), vocab_size=vocab,
                 progress=False)
    assert not run.exists()


def test_pretrain_compile_without_a_compiler_is_refused_before_writing(tmp_path, monkeypatch):
    """--compile on a machine without a C++ compiler was refused only after config.json was written, leaving a
    run directory that "stopped before its first checkpoint" (and, from the CLI, after the corpus was built)."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no g++, c++ or clang++ to be found
    monkeypatch.setenv("CXX", "no-such-compiler")
    run = tmp_path / "r"
    with pytest.raises(PonderError, match="--compile: torch.compile needs a C\\+\\+ compiler"):
        pretrain(run, DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=1, compile=True),
                 vocab_size=300, progress=False)
    assert not run.exists()


def test_sft_masks_prompt_and_learns(tiny_random):
    model, tok = tiny_random
    ids, mask = encode_sft(tok, {"prompt": "Problem: 2 + 2 = ?\nSolution:", "response": " 4"})
    n_prompt = len(tok.encode("Problem: 2 + 2 = ?\nSolution:", add_special_tokens=False))
    assert mask[:n_prompt] == [0] * n_prompt and all(mask[n_prompt:]) and ids[-1] == tok.eos_token_id
    with pytest.raises(PonderError, match="missing field 'response'"):
        encode_sft(tok, {"prompt": "x"})
    m = ponder.Transformer(model.config)
    m.load_state_dict(model.state_dict())
    ex = [{"prompt": f"Problem: {a} + 1 = ?\nSolution:", "response": f" {a + 1}"} for a in range(10)]
    first = sft(m, tok, ex, train=TrainConfig(steps=1, lr=1e-3, warmup=1, batch_size=10), progress=False)
    last = sft(m, tok, ex, train=TrainConfig(steps=40, lr=3e-3, warmup=2, batch_size=10), progress=False)
    assert last["loss"] < first["loss"] * 0.5



def test_packed_examples_train_exactly_as_alone(tiny_random):
    """Packed rows number their examples in the attention mask: each sees only itself with positions from 0,
    so the packed loss and gradients are those of the examples one row each (the third starts a new row)."""
    from ponder.train import sft_batches

    model, tok = tiny_random
    enc = [encode_sft(tok, {"prompt": f"Problem: {a} + {a} = ?" * (a + 1), "response": f" {2 * a} ok"})
           for a in range(3)]
    packed, alone = sft_batches(enc, 48, tok.pad_token_id, True), sft_batches(enc, 48, tok.pad_token_id, False)
    assert packed[0].shape[0] == 2 and packed[2][0].max() == 2 and alone[0].shape[0] == 3
    grads = []
    for ids, lm, am in (packed, alone):
        model.zero_grad()
        loss, n = response_loss(model, ids, lm, am)
        loss.backward()
        grads.append((loss.item(), n, [p.grad.clone() for p in model.parameters()]))
    (lp, n_p, gp), (la, n_a, ga) = grads
    assert n_p == n_a and lp == pytest.approx(la, rel=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(gp, ga))
    model.zero_grad()


def _pad_added_after_the_model(tokenizer):
    """A tokenizer with a "<pad>" added (add_special_tokens) past the embedding of a model made for `tokenizer`."""
    from tokenizers import Tokenizer as HFTokenizer

    hf = HFTokenizer.from_str(tokenizer.tok.to_str())
    hf.add_special_tokens(["<pad>"])
    tok = ponder.Tokenizer(hf, eos_token=tokenizer.eos_token, pad_token="<pad>")
    cfg = ponder.ModelConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, intermediate_size=32,
                             num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1)
    assert tok.pad_token_id >= cfg.vocab_size
    return tok, cfg


def test_sft_with_a_pad_token_past_the_model_embedding_trains_as_with_an_in_range_one(tokenizer):
    """A pad token added to the tokenizer after the model was made (add_special_tokens) has an id past the
    embedding: an unpacked batch of near-equal lengths (too little padding to unpad) failed in the embedding as a
    bare IndexError. Padding is masked out of attention and loss: training and val_loss are those of an in-range
    pad id."""
    tok, cfg = _pad_added_after_the_model(tokenizer)
    ex = [{"prompt": f"Problem: {a} + 1 = ?", "response": f" {a + 1}"} for a in range(6, 12)]
    out = []
    for t in (tok, tokenizer):
        m = ponder.Transformer(cfg).init_weights(0, std=0.2)
        out.append(sft(m, t, ex, val_examples=ex[:3], train=TrainConfig(steps=2, lr=1e-3, warmup=1, batch_size=6,
                                                                         eval_every=2), progress=False))
    assert out[0]["loss"] == pytest.approx(out[1]["loss"]) and out[0]["val_loss"] == pytest.approx(out[1]["val_loss"])


def test_sft_and_distill_with_a_run_refuse_a_tokenizer_past_the_embedding_before_training(tokenizer, tmp_path):
    """checkpoint.save refuses a tokenizer with more tokens than the model's embedding (its checkpoint would not
    load): a run trained --save-every steps, then failed with nothing saved. Refused before any step (and before
    the teacher samples), the run directory not made."""
    tok, cfg = _pad_added_after_the_model(tokenizer)
    model = ponder.Transformer(cfg).init_weights(0, std=0.2)
    ex = [{"prompt": f"Problem: {a} + 1 = ?", "response": f" {a + 1}"} for a in range(6, 12)]
    said = (rf"the tokenizer has token ids up to {tok.vocab_size - 1} but the model's embedding only "
             rf"{cfg.vocab_size} rows")
    with pytest.raises(PonderError, match=f"^sft: {said}"):
        sft(model, tok, ex, tmp_path / "r", train=TrainConfig(steps=4, lr=1e-3, warmup=1, batch_size=6, save_every=2),
            progress=False, on_log=lambda row: pytest.fail("trained a step"))
    with pytest.raises(PonderError, match=f"^distill: {said}"):
        ponder.train.distill(model, tokenizer, model, tok, [{"prompt": "1 + 1 =", "answer": "2"}], lambda t, it: True,
                             k=1, max_new_tokens=2, run_dir=tmp_path / "d", progress=False)
    assert not (tmp_path / "r").exists() and not (tmp_path / "d").exists()


def test_chat_examples_end_the_turn_as_the_template_does(tiny_random):
    """A chat example trains the assistant turn the template renders (ChatML: `<|im_end|>`, what `ponder chat`
    feeds back in the history), not EOS; a string prompt's response still closes with EOS."""
    _, tok = tiny_random
    msgs = [{"role": "user", "content": "2 + 3?"}, {"role": "assistant", "content": "5"}]
    for ex in ({"messages": msgs}, {"prompt": msgs[:1], "response": "5"}):
        ids, mask = encode_sft(tok, ex)
        n = mask.index(1)
        assert tok.decode(ids[:n], skip_special_tokens=False) == tok.apply_chat_template(msgs[:1], add_generation_prompt=True)
        assert tok.decode(ids[n:], skip_special_tokens=False) == "5<|im_end|>" and all(mask[n:])


# ChatML with tool calling in Qwen's manner: an assistant's calls after its content, a tool's output in a user turn
TOOL_TEMPLATE = ("{% if tools %}<|im_start|>system\n{% for t in tools %}{{ t | tojson }}{% endfor %}<|im_end|>\n"
                 "{% endif %}{% for m in messages %}<|im_start|>{{ 'user' if m.role == 'tool' else m.role }}\n"
                 "{% if m.role == 'tool' %}<tool_response>{{ m.content }}</tool_response>{% else %}{{ m.content or '' }}"
                 "{% endif %}{% for c in m.tool_calls or [] %}<tool_call>{{ c.function | tojson }}</tool_call>"
                 "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def test_sft_trains_a_tool_call_turn_and_never_a_tools_output(tiny_random, tmp_path):
    """Agentic rows (an assistant's tool_calls with content null, the tool's output, the final answer) were
    refused ("messages[1] must be an object with a 'role' ... and a string 'content'"). The loss is on the last
    assistant turn as for any chat row: a tool call when the row ends with one, the answer after the tool's
    output otherwise; the tool's output (and the row's `tools`, as TRL passes them) is context, never a target."""
    from ponder.train import load_sft_examples

    model, tok = tiny_random
    tok = copy.copy(tok)
    tok.chat_template = TOOL_TEMPLATE
    call = {"type": "function", "function": {"name": "add", "arguments": {"a": 2, "b": 3}}}
    tools = [{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]
    msgs = [{"role": "user", "content": "2 + 3?"}, {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "content": "5", "tool_call_id": "c0"}, {"role": "assistant", "content": "It is 5."}]
    rows = [{"messages": msgs[:2], "tools": tools}, {"messages": msgs}, {"prompt": msgs[:3], "response": "It is 5."}]
    f = tmp_path / "d.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rows = load_sft_examples(f)
    trained = []
    for row in rows:
        ids, mask = encode_sft(tok, row, turns="last")
        n = mask.index(1)
        assert all(mask[n:]) and not any(mask[:n])
        history = [*row["prompt"]] if "prompt" in row else row["messages"][:-1]
        assert tok.decode(ids[:n], skip_special_tokens=False) == tok.apply_chat_template(history, tools=row.get("tools"), add_generation_prompt=True)
        trained.append(tok.decode(ids[n:], skip_special_tokens=False))
    assert trained == ['<tool_call>{"name": "add", "arguments": {"a": 2, "b": 3}}</tool_call><|im_end|>',
                       "It is 5.<|im_end|>", "It is 5.<|im_end|>"]
    assert "<tool_response>5</tool_response>" in tok.decode(encode_sft(tok, rows[1])[0], skip_special_tokens=False)
    assert '"parameters"' in tok.apply_chat_template(rows[0]["messages"][:1], tools=tools, add_generation_prompt=True)  # the tools are shown
    sft(_copy(model), tok, rows, train=TrainConfig(steps=1), progress=False)
    # A template that does not render tool calls would train the turn as empty: refused, naming the row.
    tok = copy.copy(tiny_random[1])  # its ChatML template: content only
    call_turn = {"messages": [msgs[0], {**msgs[1], "content": ""}]}
    with pytest.raises(PonderError, match=r"^example 0: the chat template does not render the last assistant turn's "
                                          r"tool_calls \(no 'add' in its text"):
        encode_sft(tok, call_turn, "example 0")


def test_sft_parquet_tool_call_arguments_and_tools_render_as_written(tiny_random, tmp_path):
    """A Parquet struct column has the union of every row's keys: a call's arguments {"city": "Paris"} in a file
    where another call also passes "unit" read back as {"city": "Paris", "unit": null}, and that null was in the
    trained text; a tool's schema got the other tools' properties as nulls in the prompt the same way. They
    render as the JSONL twin of the file does."""
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    from ponder.train import load_sft_examples

    tok = copy.copy(tiny_random[1])
    tok.chat_template = TOOL_TEMPLATE

    def row(args, props):
        call = {"type": "function", "function": {"name": "weather", "arguments": args}}
        tools = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object",
                                                                                      "properties": props}}}]
        return {"messages": [{"role": "user", "content": "Weather?"},
                             {"role": "assistant", "content": None, "tool_calls": [call]}], "tools": tools}

    rows = [row({"city": "Paris"}, {"city": {"type": "string"}}),
            row({"city": "Rome", "unit": "F", "days": [1, 2]}, {"city": {"type": "string"},
                                                                 "unit": {"type": "string", "enum": ["C", "F"]}})]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    texts = [[tok.decode(encode_sft(tok, r)[0], skip_special_tokens=False) for r in load_sft_examples(tmp_path / f)]
             for f in ("d.parquet", "d.jsonl")]
    assert texts[0] == texts[1]
    assert "null" not in texts[0][0] and '"arguments": {"city": "Paris"}' in texts[0][0]
    assert '"arguments": {"city": "Rome", "unit": "F", "days": [1, 2]}' in texts[0][1]
    # a null argument written in JSON Lines is kept (Parquet cannot tell one from an absent key)
    (tmp_path / "n.jsonl").write_text(json.dumps(row({"city": "Oslo", "unit": None}, {})) + "\n")
    text = tok.decode(encode_sft(tok, load_sft_examples(tmp_path / "n.jsonl")[0])[0], skip_special_tokens=False)
    assert '"arguments": {"city": "Oslo", "unit": null}' in text
    # a call without "type" (optional) or "id" beside one with them: read back as "type": null, it was refused
    calls = [{"type": "function", "id": "call_1", "function": {"name": "f", "arguments": "{}"}},
             {"function": {"name": "g", "arguments": "{}"}}]
    rows = [{"messages": [{"role": "user", "content": "Weather?"},
                          {"role": "assistant", "content": None, "tool_calls": [c]}]} for c in calls]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "c.parquet")
    assert [r["messages"][1]["tool_calls"] for r in load_sft_examples(tmp_path / "c.parquet")] == [[c] for c in calls]


def test_sft_row_without_tools_renders_the_template_kwargs_tools(tiny_random):
    """Tools given for every render (chat_template_kwargs {"tools": [...]}, as vLLM takes them) are in the prompt a
    row without its own `tools` is trained on, as they are in every prompt at inference (they were replaced by the
    row's absent tools: trained on prompts without the tools list); a row's own tools replace them."""
    tok = copy.copy(tiny_random[1])
    tok.chat_template = TOOL_TEMPLATE
    tools = [{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]
    own = [{"type": "function", "function": {"name": "mul", "parameters": {"type": "object"}}}]
    tok.template_kwargs = {"tools": tools}
    msgs = [{"role": "user", "content": "2 + 3?"}, {"role": "assistant", "content": "5"}]
    for row, shown in (({"messages": msgs}, tools), ({"prompt": msgs[:1], "response": "5"}, tools),
                       ({"messages": msgs, "tools": own}, own)):
        for turns in ("all", "last"):
            ids, mask = encode_sft(tok, row, turns=turns)
            n = mask.index(1)
            assert tok.decode(ids[:n], skip_special_tokens=False) == tok.apply_chat_template(msgs[:1], tools=shown, add_generation_prompt=True)


def _trained(tok, ids, mask):
    """The text of each run of loss-masked tokens."""
    runs, cur = [], []
    for i, m in [*zip(ids, mask), (None, 0)]:
        if m:
            cur.append(i)
        elif cur:
            runs.append(tok.decode(cur, skip_special_tokens=False))
            cur = []
    return runs


def test_sft_assistant_turns_of_weight_0_are_context_as_in_openais_fine_tuning_format(tiny_random):
    """OpenAI's fine-tuning rows mark the assistant turns not to learn from with "weight": 0 (a wrong answer the
    user then corrects): they were trained on like any other. They are context now, at any place in the row; a row
    left with no trained turn, or a weight other than 0 or 1, is one line naming the row."""
    tok = tiny_random[1]
    user, wrong, right = ({"role": "user", "content": "1 + 1?"}, {"role": "assistant", "content": "3", "weight": 0},
                          {"role": "assistant", "content": "2", "weight": 1})
    again = {"role": "user", "content": "Sure?"}
    for msgs in ([user, wrong, again, right], [user, right, again, wrong]):
        ids, mask = encode_sft(tok, {"messages": msgs})
        assert _trained(tok, ids, mask) == ["2<|im_end|>"]
        n = mask.index(1)
        assert tok.decode(ids[:n], skip_special_tokens=False) == tok.apply_chat_template(msgs[:msgs.index(right)], add_generation_prompt=True)
    for msgs, turns in (([user, wrong], "all"), ([user, right, again, wrong], "last")):
        with pytest.raises(PonderError, match=r"^r\.jsonl:3: the last assistant turn has weight 0 \(not trained on\) "
                                              "and no other turn is trained"):
            encode_sft(tok, {"messages": msgs}, "r.jsonl:3", turns)
    with pytest.raises(PonderError, match=r"^r\.jsonl:3: messages\[1\]\.weight must be 0 \(not trained on\) or 1, "
                                          "got 0.5"):
        encode_sft(tok, {"messages": [user, {**wrong, "weight": 0.5}]}, "r.jsonl:3")


# Qwen3's template in brief: a tool's output in a user turn, the thinking of an assistant turn shown only after the
# last user message (on the last turn always, empty if none; before it, on a turn that has some), else dropped
QWEN3_LIKE = (
    "{% set ns = namespace(q=-1) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.q = loop.index0 %}"
    "{% endif %}{% endfor %}{% for m in messages %}{{ '<|im_start|>' + ('user' if m.role == 'tool' else m.role) }}"
    "{{ '\n' }}{% if m.role == 'assistant' and loop.index0 > ns.q and (loop.last or m.reasoning_content) %}"
    "{{ '<think>\n' + (m.reasoning_content or '') + '\n</think>\n\n' }}{% endif %}{% if m.role == 'tool' %}"
    "{{ '<tool_response>\n' + m.content + '\n</tool_response>' }}{% else %}{{ m.content or '' }}{% endif %}"
    "{% for c in m.tool_calls or [] %}{{ '<tool_call>' + (c.function | tojson) + '</tool_call>' }}{% endfor %}"
    "{{ '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
CALL = {"type": "function", "function": {"name": "add", "arguments": {"a": 4, "b": 4}}}
TURNS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2 + 3?"},
         {"role": "assistant", "content": "It is 5.", "reasoning_content": "2 + 3 = 5"},
         {"role": "user", "content": "And 4 + 4?"},
         {"role": "assistant", "content": "Adding.", "reasoning_content": "a tool", "tool_calls": [CALL]},
         {"role": "tool", "content": "8"}, {"role": "assistant", "content": "It is 8.", "reasoning_content": "done"}]


@pytest.mark.parametrize("template, want", [
    (None, ["It is 5.<|im_end|>", "Adding.<|im_end|>", "It is 8.<|im_end|>"]),  # the tiny model's ChatML: no calls
    (TOOL_TEMPLATE, ["It is 5.<|im_end|>", 'Adding.<tool_call>{"name": "add", "arguments": {"a": 4, "b": 4}}'
                     "</tool_call><|im_end|>", "It is 8.<|im_end|>"]),
    (QWEN3_LIKE, ["It is 5.<|im_end|>",  # (thinking dropped: before the last user message)
                  '<think>\na tool\n</think>\n\nAdding.<tool_call>{"name": "add", "arguments": {"a": 4, "b": 4}}'
                  "</tool_call><|im_end|>", "<think>\ndone\n</think>\n\nIt is 8.<|im_end|>"]),
], ids=["chatml", "tool-calling", "qwen3-like"])
def test_sft_trains_every_assistant_turn_of_a_conversation(tiny_random, template, want):
    """turns="all" (the default) trains every assistant turn of a messages row, as TRL's assistant_only_loss and
    open-instruct do, each as the template renders it in the whole conversation and ended by its end of turn;
    system, user and tool messages stay context. The ids are those of the whole rendering encoded at once (no
    artefact at the seams), and turns="last" trains the last turn only, as before."""
    tok = copy.copy(tiny_random[1])
    tok.chat_template, tok._jinja = template, None
    msgs = TURNS if template else [{k: v for k, v in m.items() if k != "tool_calls"} for m in TURNS]
    tools = [{"type": "function", "function": {"name": "add"}}] if template == TOOL_TEMPLATE else None
    row = {"messages": msgs, "tools": tools}
    ids, mask = encode_sft(tok, row)
    assert _trained(tok, ids, mask) == want
    full = tok.apply_chat_template(msgs, add_generation_prompt=False, tools=tools)
    assert ids == tok.encode(full.rstrip("\n"), add_special_tokens=False)
    # turns="last": today's encoding, the last turn after the rest as the model is prompted with it
    prompt = tok.apply_chat_template(msgs[:-1], tools=tools, add_generation_prompt=True)
    last_ids, last_mask = encode_sft(tok, row, turns="last")
    assert last_ids == tok.encode(prompt, add_special_tokens=False) + tok.encode_continuation(prompt, full[len(prompt):].rstrip("\n"))
    assert last_mask == [0] * len(tok.encode(prompt, add_special_tokens=False)) + [1] * (len(last_ids) - len(tok.encode(prompt, add_special_tokens=False)))
    assert _trained(tok, last_ids, last_mask) == want[-1:]
    # a row of one assistant turn (or whose earlier ones are empty: context) encodes the same either way
    emptied = [{**m, "content": " ", "tool_calls": None} if m["role"] == "assistant" else m for m in msgs[:-1]]
    for one in (msgs[:3], [*emptied, msgs[-1]]):
        one = {"messages": one, "tools": tools}
        assert encode_sft(tok, one) == encode_sft(tok, one, turns="last")


def test_sft_split_special_tokens_trains_a_turn_holding_end_of_turn_text_whole(tiny_random):
    """With split_special_tokens (the fix the end-of-turn refusal names), "<|im_end|>" in an assistant turn's text
    is text: turns="all" ended the turn there, the rest of it (" to close<|im_end|>") silently made context."""
    tok = copy.deepcopy(tiny_random[1])
    tok.config = {**tok.config, "split_special_tokens": True}
    tok._split_special()
    turn = "use <|im_end|> to close"
    msgs = [{"role": "user", "content": "q"}, {"role": "assistant", "content": turn},
            {"role": "user", "content": "q2"}, {"role": "assistant", "content": "A2"}]
    ids, mask = encode_sft(tok, {"messages": msgs})
    assert _trained(tok, ids, mask)[0] == turn + "<|im_end|>"
    assert ids[:-1] == tok.encode(tok.apply_chat_template(msgs, add_generation_prompt=False).rstrip("\n"), add_special_tokens=False)
    # the reasoning a template renders in the turn, before its text (here a turn of a tool call alone)
    tok.chat_template, tok._jinja = QWEN3_LIKE, None
    msgs = [msgs[0], {"role": "assistant", "content": "", "reasoning_content": turn, "tool_calls": [CALL]},
            {"role": "tool", "content": "8"}, msgs[3]]
    ids, mask = encode_sft(tok, {"messages": msgs})
    assert _trained(tok, ids, mask)[0].startswith(f"<think>\n{turn}\n</think>") and "<tool_call>" in \
        _trained(tok, ids, mask)[0]
    # a text with no end-of-turn string is not looked for (a blank reasoning the template drops was found past
    # the turn's end, at the newline after it: "does not end this assistant turn")
    msgs = [msgs[0], {"role": "assistant", "content": "It is 5.", "reasoning_content": "\n"}, *msgs[2:]]
    msgs[2] = {"role": "user", "content": "q2"}
    ids, mask = encode_sft(tok, {"messages": msgs})
    assert _trained(tok, ids, mask)[0] == "It is 5.<|im_end|>"


def test_sft_says_when_the_template_drops_the_last_turns_reasoning(tiny_random, capsys):
    """A last assistant turn's reasoning_content that the template does not render (ChatML) was left out of
    training silently, as TRL and transformers leave it: SFT on reasoning traces trained the answers alone."""
    from ponder.train import _encode_examples

    tok = copy.copy(tiny_random[1])
    rows = [{"messages": TURNS[:3]}, {"messages": TURNS[:2] + [{"role": "assistant", "content": "5"}]}]
    _encode_examples(tok, rows, 64, 512, "example", "all")
    assert "sft: 1 of 2 examples has reasoning in the last assistant turn" in capsys.readouterr().err
    tok.chat_template, tok._jinja = QWEN3_LIKE, None  # renders it: trained, nothing to say
    _encode_examples(tok, rows, 64, 512, "example", "all")
    assert capsys.readouterr().err == ""


# ChatML with transformers' {% generation %} markers around what an assistant turn trains
GENERATION_CHATML = ("{% for m in messages %}{{ '<|im_start|>' + m.role + '\n' }}{% if m.role == 'assistant' %}"
                     "{% generation %}{{ m.content + '<|im_end|>' }}{% endgeneration %}{% else %}"
                     "{{ m.content + '<|im_end|>' }}{% endif %}{{ '\n' }}{% endfor %}"
                     "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def test_sft_every_turn_mask_is_transformers_assistant_tokens_mask(tiny_random):
    """An independent oracle: transformers' return_assistant_tokens_mask on a template marking each assistant
    turn with {% generation %} gives the same ids and mask as turns="all"."""
    transformers = pytest.importorskip("transformers")
    tok = copy.copy(tiny_random[1])
    tok.chat_template, tok._jinja = GENERATION_CHATML, None
    hf = transformers.PreTrainedTokenizerFast(tokenizer_object=tok.tok, eos_token=tok.eos_token)
    hf.chat_template = GENERATION_CHATML
    msgs = [{"role": m["role"], "content": m["content"]} for m in TURNS if m["role"] != "tool"]
    want = hf.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = encode_sft(tok, {"messages": msgs})
    n = len(ids)  # (transformers keeps the newline after the last <|im_end|>: context, never trained)
    assert ids == list(want["input_ids"][:n]) and mask == list(want["assistant_masks"][:n])
    assert not any(want["assistant_masks"][n:]) and sum(mask) > 3 * 2


# ChatML whose assistant turns end with no end-of-turn token (the next user message's would end them)
OPEN_TURNS = ("{% for m in messages %}{{ '<|im_start|>' + m.role + '\n' + m.content }}{% if m.role != 'assistant' %}"
              "{{ '<|im_end|>' }}{% endif %}{{ '\n' }}{% endfor %}"
              "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


# ChatML marking the last user message of what it renders: the history before a turn renders otherwise alone
NOW_TEMPLATE = ("{% set ns = namespace(q=-1) %}{% for m in messages %}{% if m.role == 'user' %}"
                "{% set ns.q = loop.index0 %}{% endif %}{% endfor %}{% for m in messages %}"
                "{{ '<|im_start|>' + m.role + '\n' + m.content }}{% if loop.index0 == ns.q %}{{ ' (now)' }}{% endif %}"
                "{{ '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def test_sft_every_turn_of_qwen3_non_thinking_is_trained_as_its_history_renders_it(tiny_random):
    """Qwen3's non-thinking prompt opens an empty think block that the turns of its history lack: those turns
    were refused (the prompt for them is not a prefix of the whole). They start after their header, as the
    whole conversation renders them; the last turn, whose rendering has the block, trains what follows it, as the
    model is prompted at inference and as turns="last" trains it."""
    from test_tokenizer import QWEN3_THINKING

    tok = copy.copy(tiny_random[1])
    msgs = [m for m in TURNS if m["role"] in ("user", "assistant") and "tool_calls" not in m]
    tok.chat_template, tok._jinja, tok.template_kwargs = QWEN3_THINKING, None, {"enable_thinking": False}
    ids, mask = encode_sft(tok, {"messages": msgs}, "d.jsonl:3")
    assert _trained(tok, ids, mask) == ["It is 5.<|im_end|>", "It is 8.<|im_end|>"]
    assert ids == encode_sft(tok, {"messages": msgs}, turns="last")[0]  # (the same tokens, more of them trained)
    assert ids == tok.encode(tok.apply_chat_template(msgs, add_generation_prompt=False).rstrip("\n"), add_special_tokens=False)
    # a turn whose text starts like the think block is not cut: the turn starts at its text at the latest
    starts = [{**m, "content": "<think>" + m["content"]} if m["role"] == "assistant" else m for m in msgs]
    ids, mask = encode_sft(tok, {"messages": starts})
    assert _trained(tok, ids, mask)[0] == "<think>It is 5.<|im_end|>"


def test_sft_refuses_reasoning_turns_under_a_prompt_that_prefills_an_empty_think_block_as_turns_last_does(
        tiny_random):
    """Qwen3's template renders a turn's reasoning (after the last user message), and with enable_thinking false its
    prompt ends with an empty think block. A row whose assistant turn has reasoning then renders "<think>\nREASONING"
    where the prompt has "<think>\n\n</think>": turns="last" refused it, but turns="all" (the default) trained a
    target that began inside the think block ("2 + 3 = 5\n</think>\n\nIt is 5."), after a "<think>\n" context no
    prompt at inference has. Both refuse it in one line that says why; with thinking on the turn trains whole."""
    tok = copy.copy(tiny_random[1])
    tok.chat_template, tok._jinja = QWEN3_LIKE.replace(
        "{{ '<|im_start|>assistant\n' }}{% endif %}",
        "{{ '<|im_start|>assistant\n' }}{% if enable_thinking is false %}{{ '<think>\n\n</think>\n\n' }}{% endif %}"
        "{% endif %}"), None
    one = {"messages": [TURNS[1], TURNS[2]]}  # (a user message, an answer with reasoning_content)
    tools = {"messages": [TURNS[3], {**TURNS[4], "content": ""}, TURNS[5], TURNS[6]]}  # (a tool call with reasoning)
    assert _trained(tok, *encode_sft(tok, one)) == ["<think>\n2 + 3 = 5\n</think>\n\nIt is 5.<|im_end|>"]
    assert _trained(tok, *encode_sft(tok, tools))[0].startswith("<think>\na tool\n</think>")
    tok.template_kwargs = {"enable_thinking": False}
    why = (r": it has reasoning, which the prompt \(chat_template_kwargs \{\"enable_thinking\": false\}\) does not let the "
           r"model write \(an empty think block, as Qwen3's with enable_thinking false\); remove the reasoning from "
           r"the data, or train with thinking on$")
    for turns in ("all", "last"):
        with pytest.raises(PonderError, match=r"^d.jsonl:2: the chat template renders the conversation without its "
                                              r"own prompt as a prefix; cannot tell the response's tokens apart" + why):
            encode_sft(tok, one, "d.jsonl:2", turns)
    with pytest.raises(PonderError, match=r"^d.jsonl:3: messages\[1\]: the chat template's prompt for this assistant "
                                          r"turn is not a prefix of the whole conversation's rendering" + why):
        encode_sft(tok, tools, "d.jsonl:3")
    # without reasoning the turns train as the non-thinking prompt has them
    plain = {"messages": [TURNS[1], {"role": "assistant", "content": "It is 5."}]}
    assert _trained(tok, *encode_sft(tok, plain)) == ["It is 5.<|im_end|>"]


def test_sft_every_turn_refuses_turns_it_cannot_tell_apart_in_one_line(tiny_random):
    """A template that renders the history before a turn otherwise than the whole conversation does (here the
    last user message is marked), or whose assistant turns end with no end-of-turn token before the next
    message: one line naming the row and the turn, never a target that runs into the user's next message."""
    tok = copy.copy(tiny_random[1])
    msgs = [m for m in TURNS if m["role"] in ("user", "assistant") and "tool_calls" not in m]
    tok.chat_template, tok._jinja = NOW_TEMPLATE, None
    with pytest.raises(PonderError, match=r"^d.jsonl:3: messages\[1\]: the chat template's prompt for this "
                                          r"assistant turn is not a prefix .*train turns='last' \(--turns last\), "
                                          r"one row per turn$"):
        encode_sft(tok, {"messages": msgs}, "d.jsonl:3")
    encode_sft(tok, {"messages": msgs}, "d.jsonl:3", turns="last")
    # (the second marks the last message: the conversation up to a turn is no prefix of the whole, so the turn's
    # end is found only when the next turn's prompt starts inside it)
    marked = OPEN_TURNS.replace("m.content }}", "m.content + ('!' if loop.last and m.role == 'assistant' else '') }}")
    for template in (OPEN_TURNS, marked):
        tok.chat_template, tok._jinja, tok.template_kwargs = template, None, {}
        with pytest.raises(PonderError, match=r"^e: messages\[1\]: the chat template does not end this assistant "
                                              r"turn with an end-of-turn token \(<\|endoftext\|>, <\|im_end\|>\) "
                                              r"before the next message; .*train turns='last' \(--turns last\)"):
            encode_sft(tok, {"messages": msgs}, "e")
    tok.chat_template, tok._jinja = OPEN_TURNS, None
    ids, mask = encode_sft(tok, {"messages": msgs}, "e", turns="last")
    assert _trained(tok, ids, mask) == ["It is 8.<|endoftext|>"]  # (closed with EOS, as before)


_Q = {"role": "user", "content": "2 + 2?"}
_ENDS = [  # a trained response that holds an end-of-turn token's text (EOS, ChatML's <|im_end|>) before its end
    ({"prompt": "2 + 2?", "response": "4<|endoftext|>5"}, "all", r"^r:1: 'response' holds '<\|endoftext\|>'"),
    ({"prompt": [_Q], "response": "4<|im_end|>5"}, "all", r"^r:1: 'response' holds '<\|im_end\|>'"),
    ({"messages": [_Q, {"role": "assistant", "content": "4<|im_end|>5"}, _Q, {"role": "assistant", "content": "4"}]},
     "all", r"^r:1: messages\[1\].content holds '<\|im_end\|>'"),
    ({"messages": [_Q, {"role": "assistant", "content": "4"}, _Q,
                   {"role": "assistant", "content": "4", "reasoning_content": "<|endoftext|>"}]},
     "last", r"^r:1: messages\[3\].reasoning_content holds '<\|endoftext\|>'"),
]


@pytest.mark.parametrize("row,turns,said", _ENDS)
def test_sft_refuses_a_trained_response_holding_an_end_of_turn_token(tiny_random, row, turns, said):
    """Text is encoded with its special-token strings as those tokens (as transformers and vLLM encode a prompt),
    so "<|im_end|>" in a response was a stop token inside the trained response: a turn before the last was cut
    there (the rest of it trained as context), the last one trained on the stop token and on text past it,
    which generation, stopping at it, never reaches. Refused in one line naming the row and the field; the same
    text in a turn that is only context (turns="last") is the prompt's, encoded as it is served."""
    tok = tiny_random[1]
    with pytest.raises(PonderError, match=said + r".*remove it"):
        encode_sft(tok, row, "r:1", turns)
    if "messages" in row and turns == "all":
        ids, mask = encode_sft(tok, row, "r:1", "last")  # (messages[1] is context there)
        trained = [i for i, m in zip(ids, mask) if m]
        assert [i for i in trained if i in tok.stop_token_ids] == trained[-1:]


@pytest.mark.parametrize("turns", ["first", None, "ALL", ["all"]])
def test_sft_turns_must_be_all_or_last(tmp_path, tiny_random, turns):
    model, tok = tiny_random
    with pytest.raises(PonderError, match=f"^e: turns must be 'all' .* or 'last' .*, got {re.escape(repr(turns))}$"):
        encode_sft(tok, {"messages": TURNS[1:3]}, "e", turns=turns)
    with pytest.raises(PonderError, match="^sft: turns must be 'all'"):
        sft(_copy(model), tok, SFT_EX, tmp_path / "s", train=TrainConfig(steps=1, batch_size=4, seq_len=64),
            turns=turns, progress=False)
    assert not (tmp_path / "s").exists()


def test_sft_resumes_a_run_saved_before_turns_existed_as_last(tmp_path, tiny_random):
    """config.json records `turns` and a resumed run trains with its own; a run directory saved before the option
    existed has none and trained the last turn of each conversation: it resumes so, not with the new default
    (which trains other tokens: another loss)."""
    model, tok = tiny_random
    rows = [{"messages": [{"role": "user", "content": f"{a} + 1?"}, {"role": "assistant", "content": f"{a + 1}"},
                          {"role": "user", "content": "Twice that?"}, {"role": "assistant", "content": f"{2 * a + 2}"}]}
            for a in range(6)]
    cfg = TrainConfig(steps=4, batch_size=4, lr=1e-3, warmup=1, save_every=2, seq_len=64)
    for d, turns in (("a", "last"), ("c", "all")):
        sft(_copy(model), tok, rows, tmp_path / d, train=cfg, turns=turns, progress=False)

    def die(row):
        if row["step"] == 3:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        sft(_copy(model), tok, rows, tmp_path / "b", train=cfg, turns="last", progress=False, on_log=die)
    conf = tmp_path / "b" / "config.json"
    saved = json.loads(conf.read_text())
    assert saved.pop("turns") == "last"
    conf.write_text(json.dumps(saved))
    sft(None, None, rows, tmp_path / "b", resume=True, turns="all", progress=False)  # (the run's own, not this)
    loss = {d: [json.loads(r)["loss"] for r in (tmp_path / d / "metrics.jsonl").read_text().splitlines()]
            for d in "abc"}
    assert loss["a"] == loss["b"] and loss["a"] != loss["c"]
    saved["turns"] = "every"  # hand-edited: one line
    conf.write_text(json.dumps(saved))
    with pytest.raises(PonderError, match=r"config.json: turns must be 'all' .*, got 'every'$"):
        sft(None, None, rows, tmp_path / "b", train=TrainConfig(steps=5), resume=True, progress=False)


@pytest.mark.parametrize("key,value,said", [("packing", "no", r"packing: expected bool, got \"no\""),
                                             ("packing", 1, "packing: expected bool, got 1"),
                                             ("chat_template_kwargs", "x", "chat_template_kwargs: expected a JSON object"),
                                             ("sft", "cuda", "sft: expected a JSON object"),
                                             ("sft", {"dtype": ["bf16"]}, r"sft.dtype: expected a string, got \["),
                                             ("sft", {"dtype": "int8"}, "sft.dtype: unknown dtype 'int8'")])
def test_sft_resume_refuses_hand_edited_top_level_settings(tmp_path, tiny_random, key, value, said):
    """config.json's packing and chat_template_kwargs are settings the resumed run trains with: a hand-edited
    "no" for packing was truthy (the resumed run packed its rows: another loss) and a string was taken as the
    template's variables; each is one line naming the file and the setting, and nothing is trained. The "sft"
    section (where the run trained: device and dtype) not an object failed with an AttributeError, a dtype not a
    string with a TypeError, and an unknown one named no file."""
    model, tok = tiny_random
    run = tmp_path / "r"
    sft(_copy(model), tok, SFT_EX, run, train=TrainConfig(steps=1, batch_size=4, seq_len=64), progress=False)
    conf = run / "config.json"
    saved = json.loads(conf.read_text())
    conf.write_text(json.dumps({**saved, key: value}))
    with pytest.raises(PonderError, match=f"^{re.escape(str(conf))}: {said}"):
        sft(None, None, SFT_EX, run, train=TrainConfig(steps=2), resume=True, progress=False)
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1


# ChatML that refuses a system turn, as Mistral's template does
NO_SYSTEM_TEMPLATE = ("{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}"
                      "{% endif %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                      "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def test_a_chat_template_refusing_an_example_names_it(tiny_random):
    """A template's raise_exception (Mistral's "roles must alternate", no system role) used to surface as
    "chat template: ..." alone, naming no example of thousands."""
    model, tok = tiny_random
    tok = copy.copy(tok)
    tok.chat_template = NO_SYSTEM_TEMPLATE
    turn = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    ex = [{"messages": turn}] * 3 + [{"messages": [{"role": "system", "content": "s"}, *turn]}]
    with pytest.raises(PonderError, match=r"^example 3: \S+: chat template: no system role$"):
        sft(_copy(model), tok, ex, train=TrainConfig(steps=1), progress=False)


def test_an_example_the_chat_template_refuses_is_named_by_file_and_line(tiny_random, tmp_path):
    """Rows of a data file are named FILE:LINE when the template refuses them at encoding time too, as when they
    are loaded: "example 2" counted from 0 and skipped blank lines, so it pointed at another line of the file."""
    from ponder.train import load_sft_examples

    model, tok = tiny_random
    tok = copy.copy(tok)
    tok.chat_template = NO_SYSTEM_TEMPLATE
    turn = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    f = tmp_path / "d.jsonl"
    rows = [{"messages": turn}, {"messages": turn}, {"messages": [{"role": "system", "content": "s"}, *turn]}]
    f.write_text(json.dumps(rows[0]) + "\n" + json.dumps(rows[1]) + "\n\n" + json.dumps(rows[2]) + "\n")
    with pytest.raises(PonderError, match=r"d.jsonl:4: \S+: chat template: no system role$"):
        sft(_copy(model), tok, load_sft_examples(f), train=TrainConfig(steps=1), progress=False)
    with pytest.raises(PonderError, match=r"d.jsonl:4: \S+: chat template: no system role$"):
        sft(_copy(model), tok, SFT_EX, train=TrainConfig(steps=1), val_examples=load_sft_examples(f), progress=False)


@pytest.mark.parametrize("row, msg", [
    ({"messages": ["hi", "there"]}, r"messages\[0\]: expected an object with a 'role'"),
    ({"prompt": "x", "response": None}, "'response' must be a string, got null"),
    ({"prompt": [{"role": "robot", "content": "x"}], "response": "y"}, r"prompt\[0\]: unknown role 'robot'"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": None}]},
     r"messages\[1\]: 'content' must be text \(None only on an assistant message with tool_calls\)"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "",
                                                       "tool_calls": [{"function": {"name": "f", "arguments": 2}}]}]},
     r"messages\[1\]: 'tool_calls\[0\]' must be \{'type': 'function'"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}], "tools": {"a": 1}},
     "'tools' must be a list of tool objects"),
    ({"messages": [{"role": "user", "content": "x"}]}, "must end with an assistant turn"),
    ({"prompt": "x"}, "missing field 'response'"),
    # nothing to train on, or nothing to predict the response's first token from
    ({"prompt": "x", "response": " \n"}, "'response' is empty"),
    ({"prompt": "", "response": "y"}, "'prompt' is empty"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": ""}]},
     "last assistant turn of 'messages' is empty"),
    ({"prompt": 5, "response": "y"}, "'prompt' must be a string or a list of chat messages, got a number"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}], "prompt": "z",
      "response": "w"}, "has both 'messages' and 'prompt'"),
    ({"prompt": "x", "response": "y\udc80"}, "field 'response' holds a lone surrogate"),
    ({"messages": [{"role": "user", "content": "\ud800"}, {"role": "assistant", "content": "y"}]},
     r"field 'messages\[0\].content' holds a lone surrogate"),
    # every text the template renders: these failed at encoding as "text to encode holds a lone surrogate", no row
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "reasoning": "\ud800"}]},
     r"field 'messages\[1\].reasoning' holds a lone surrogate"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": {"q": ["\udc80"]}}}]}]},
     r"field 'messages\[1\].tool_calls\[0\].function.arguments.q\[0\]' holds a lone surrogate"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "1", "name": "f\ud800"},
                   {"role": "assistant", "content": "y"}]}, r"field 'messages\[1\].name' holds a lone surrogate"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}],
      "tools": [{"type": "function", "function": {"name": "f", "description": "\ud800"}}]},
     r"field 'tools\[0\].function.description' holds a lone surrogate"),
])
def test_bad_sft_rows_name_file_and_line(tmp_path, row, msg):
    from ponder.train import load_sft_examples

    f = tmp_path / "d.jsonl"
    f.write_text(json.dumps({"prompt": "a", "response": "b"}) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(PonderError, match=f"d.jsonl:2: .*{msg}"):
        load_sft_examples(f)

def test_sft_data_may_be_parquet(tmp_path):
    """A Parquet file of prompt/response (or messages) rows loads as its JSONL twin does; it used to be read as
    JSON Lines and fail with "FILE:1: invalid JSON"."""
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    from ponder.train import load_sft_examples

    rows = [{"prompt": "1 + 1 =", "response": " 2 ✓"}, {"prompt": "2 + 2 =", "response": " 4"}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    assert load_sft_examples(tmp_path / "d.parquet") == rows
    chat = [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}]
    pq.write_table(pa.Table.from_pylist(chat), tmp_path / "c.parquet")
    assert load_sft_examples(tmp_path / "c.parquet") == chat
    pq.write_table(pa.Table.from_pylist([rows[0], {"prompt": "x", "response": None}]), tmp_path / "b.parquet")
    with pytest.raises(PonderError, match=r"b.parquet:row 2: missing field 'response'"):
        load_sft_examples(tmp_path / "b.parquet")
    # both row formats in one file: each row's columns of the other format are null, not fields it has
    mixed = {"prompt": [rows[0]["prompt"], None], "response": [rows[0]["response"], None],
             "messages": [None, chat[0]["messages"]]}
    pq.write_table(pa.Table.from_pydict(mixed), tmp_path / "m.parquet")
    assert load_sft_examples(tmp_path / "m.parquet") == [rows[0], *chat]


def test_sft_jsonl_of_both_row_formats_loads_as_its_parquet_twin(tmp_path):
    """A JSONL export of a dataset mixing both row formats (datasets' and pandas' to_json) holds the other
    format's fields as null, as Parquet does: those rows were refused as having both 'messages' and 'prompt'."""
    from ponder.train import load_sft_examples

    rows = [{"prompt": "1 + 1 =", "response": " 2", "messages": None},
            {"prompt": None, "response": None,
             "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert load_sft_examples(tmp_path / "m.jsonl") == [{"prompt": "1 + 1 =", "response": " 2"},
                                                     {"messages": rows[1]["messages"]}]
    (tmp_path / "b.jsonl").write_text(json.dumps({"prompt": "x", "response": None, "messages": None}) + "\n")
    with pytest.raises(PonderError, match=r"b.jsonl:1: 'response' must be a string, got null"):
        load_sft_examples(tmp_path / "b.jsonl")



def test_sft_on_parquet_rows_with_timestamp_and_decimal_columns_records_and_resumes(tmp_path, tiny_random):
    """Other columns of a Parquet dataset (a timestamp, a decimal, bytes) come through as Python objects that JSON
    cannot hold: the data digest in config.json failed on them with a TypeError; it is stable, so --resume on the
    same file is accepted."""
    pq = pytest.importorskip("pyarrow.parquet")
    import datetime
    import decimal

    import pyarrow as pa

    from ponder.train import load_sft_examples

    model, tok = tiny_random
    rows = [{"prompt": f"Problem: {a} + 1 = ?", "response": f" {a + 1}", "created": datetime.datetime(2024, 1, a + 1),
             "score": decimal.Decimal("0.50"), "raw": bytes([a])} for a in range(4)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    cfg = TrainConfig(steps=1, batch_size=2, lr=1e-3, warmup=1, seq_len=32)
    sft(_copy(model), tok, load_sft_examples(tmp_path / "d.parquet"), tmp_path / "r", train=cfg, progress=False)
    out = sft(None, None, load_sft_examples(tmp_path / "d.parquet"), tmp_path / "r", train=TrainConfig(steps=2),
              resume=True, progress=False)
    assert out["step"] == 2

@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_blockwise_head_loss_equals_full_logits(dtype):
    """The SFT loss's vocabulary projection, a block of rows at a time with gradients in the same pass, gives
    the sum and the gradients of plain cross-entropy over the full logits (blocks of 8 rows force several
    blocks and a ragged last one); without grad it computes the same sum."""
    from ponder.train import _head_cross_entropy, _HeadCrossEntropy

    g = torch.Generator().manual_seed(0)
    h = torch.randn(37, 16, generator=g).to(dtype).requires_grad_()
    w = torch.randn(50, 16, generator=g).to(dtype).requires_grad_()
    tgt = torch.randint(0, 50, (37,), generator=g)
    ref = torch.nn.functional.cross_entropy((h @ w.t()).float(), tgt, reduction="sum")
    ref_h, ref_w = torch.autograd.grad(3 * ref, (h, w))
    ours = _HeadCrossEntropy.apply(h, w, tgt, 8)
    got_h, got_w = torch.autograd.grad(3 * ours, (h, w))
    tol = dict(atol=1e-5, rtol=1e-5) if dtype == torch.float32 else dict(atol=2e-2, rtol=2e-2)
    assert torch.allclose(ours, ref, **tol)
    assert got_h.dtype == dtype and got_w.dtype == dtype
    assert torch.allclose(got_h.float(), ref_h.float(), **tol) and torch.allclose(got_w.float(), ref_w.float(), **tol)
    with torch.no_grad():
        assert torch.allclose(_head_cross_entropy(h, w, tgt, 8, grads=False)[0], ref, **tol)


@pytest.mark.parametrize("bf16", [False, True])
def test_response_loss_equals_full_token_loss(tiny_random, bf16):
    """SFT's loss (head on response rows only, in blocks) = pretraining's (full logits, masked): same sum,
    count and gradients, also under bf16 autocast."""
    model, tok = tiny_random
    enc = [encode_sft(tok, {"prompt": "Problem: 1 + 1 = ?" * (i + 1), "response": " 2" * (3 * i + 1)})
           for i in range(4)]
    from ponder.train import sft_batches

    ids, lm, am = sft_batches(enc, 128, tok.pad_token_id, packing=False)

    def run(fn, **kw):
        model.zero_grad()
        s, n = fn(model, ids, lm, am, bf16, **kw)
        s.backward()
        return s.detach(), n, torch.cat([p.grad.flatten() for p in model.parameters()])

    s0, n0, g0 = run(token_loss)
    for block in (None, 5):
        s1, n1, g1 = run(response_loss, block_rows=block)
        assert n1 == n0 == int(lm[:, 1:].sum())
        tol = 1e-5 if not bf16 else 2e-2
        assert torch.allclose(s1, s0, rtol=tol) and torch.allclose(g1, g0, atol=tol * g0.abs().max().item())


def test_loss_is_split_invariant(tiny_random):
    """Normalising by the whole batch's token count makes gradient accumulation exact."""
    model, tok = tiny_random
    enc = [encode_sft(tok, {"prompt": "Problem: 1 + 1 = ?" * (i + 1), "response": " 2" * (3 * i + 1)})
           for i in range(4)]
    from ponder.train import sft_batches

    ids, lm, am = sft_batches(enc, 128, tok.pad_token_id, packing=False)
    total = int(lm[:, 1:].sum())

    def grads(splits):
        model.zero_grad()
        for b in splits:
            s, _ = response_loss(model, ids[b], lm[b], am[b])
            (s / total).backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])

    whole = grads([slice(0, 4)])
    for split in ([slice(0, 1), slice(1, 4)], [slice(i, i + 1) for i in range(4)]):
        assert torch.allclose(whole, grads(split), atol=1e-6)


@pytest.mark.parametrize("bf16", [False, True])
def test_streams_give_the_one_stream_gradient_the_same_every_run(tiny_random, bf16):
    """backward_streams: shards run at once on pool threads give one stream's loss and gradients to float
    rounding (SFT's blockwise head, a custom autograd Function, included; autocast entered in each thread),
    the same bits run to run whichever thread ends first, accumulated onto gradients already there; frozen
    parameters get none, and the caller's thread count is back afterwards."""
    from ponder.train import backward_streams, sft_batches

    base, tok = tiny_random
    model = copy.deepcopy(base).train()
    model.norm.weight.requires_grad_(False)
    enc = [encode_sft(tok, {"prompt": "Problem: 1 + 1 = ?" * (i + 1), "response": " 2" * (3 * i + 1)})
           for i in range(5)]
    ids, lm, am = sft_batches(enc, 128, tok.pad_token_id, packing=False)
    total = int(lm[:, 1:].sum())
    params = [p for p in model.parameters() if p.requires_grad]
    threads = torch.get_num_threads()

    def grads(streams, loss_fn, start=None):
        model.zero_grad(set_to_none=True)
        if start is not None:
            for p, g in zip(params, start):
                p.grad = g.clone()
        s = backward_streams(lambda b: loss_fn(model, ids[b], lm[b], am[b], bf16)[0], torch.arange(5), total,
                             streams, params)
        assert torch.get_num_threads() == threads and model.norm.weight.grad is None
        return s, [p.grad.clone() for p in params]

    for loss_fn in (token_loss, response_loss):
        s1, g1 = grads(1, loss_fn)
        for streams in (2, 3, 8):  # 3: shards of 2, 2 and 1 rows; 8: more streams than rows (5 shards)
            s, g = grads(streams, loss_fn)
            tol = 1e-5 if not bf16 else 2e-2
            assert s == pytest.approx(s1, rel=tol)
            for a, b in zip(g, g1):
                assert torch.allclose(a, b, atol=tol * g1[0].abs().max().item())
            again = grads(streams, loss_fn)
            assert again[0] == s and all(torch.equal(a, b) for a, b in zip(again[1], g))
        g2 = grads(2, loss_fn)[1]
        onto = grads(2, loss_fn, start=g1)[1]
        assert all(torch.equal(a, b + c) for a, b, c in zip(onto, g1, g2))


def test_a_failing_shard_raises_and_gives_back_the_thread_count(tiny_random):
    from ponder.train import backward_streams

    model = copy.deepcopy(tiny_random[0]).train()
    params = list(model.parameters())
    threads = torch.get_num_threads()

    def loss_of(rows):
        if 3 in rows:
            raise ValueError("shard with row 3")
        return model(torch.ones(len(rows), 4, dtype=torch.long)).sum()

    for rows in (torch.arange(4), torch.tensor([3, 0, 1, 2])):  # the pool's shard, then the caller's
        with pytest.raises(ValueError, match="row 3"):
            backward_streams(loss_of, rows, 1, 2, params)
        assert torch.get_num_threads() == threads


def test_pretraining_on_two_streams_follows_one_and_resumes_as_uninterrupted(tmp_path):
    """streams=2: the one-stream run's losses to float tolerance, config.json records it, and a run killed
    between checkpoints resumes bit for bit as the uninterrupted one (the shards' sum has a fixed order)."""
    train = _train(batch_size=6, grad_accum=2, streams=2)
    one = pretrain(tmp_path / "one", DOCS, model_config=ModelConfig(**SMALL), train=_train(batch_size=6, grad_accum=2),
                   vocab_size=300, progress=False)
    straight = pretrain(tmp_path / "a", DOCS, model_config=ModelConfig(**SMALL), train=train, vocab_size=300,
                        progress=False)
    assert json.loads((straight / "config.json").read_text())["train"]["streams"] == 2

    def die(row):
        if row["step"] == 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pretrain(tmp_path / "b", DOCS, model_config=ModelConfig(**SMALL), train=train, vocab_size=300,
                 progress=False, on_log=die)
    pretrain(tmp_path / "b", DOCS, train=_train(), resume=True, progress=False)
    l1, la, lb = ([json.loads(x)["loss"] for x in (r / "metrics.jsonl").read_text().splitlines()]
                  for r in (one, straight, tmp_path / "b"))
    assert la == lb and la == pytest.approx(l1, rel=1e-4) and la != l1
    ma, mb = (ponder.load(r / "checkpoint")[0] for r in (straight, tmp_path / "b"))
    for (n, p), q in zip(ma.state_dict().items(), mb.state_dict().values()):
        assert torch.equal(p, q), n


def test_streams_are_refused_with_attention_dropout_or_off_the_cpu(tmp_path):
    from ponder.train import check_streams

    with pytest.raises(PonderError, match=r"pretrain: streams=2 with attention_dropout=0.1: .* a seed would not"):
        pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL, attention_dropout=0.1),
                 train=_train(streams=2), vocab_size=300, progress=False)
    assert not (tmp_path / "r").exists()
    with pytest.raises(PonderError, match="sft: streams=2 splits each micro-batch between CPU threads; this run "
                                          r"trains on cuda:0 \(use streams=1\)"):
        check_streams(_train(streams=2), ModelConfig(**SMALL), "cuda:0", "sft")
    check_streams(_train(streams=1), ModelConfig(**SMALL), "cuda:0", "sft")
    with pytest.raises(PonderError, match="streams must be a positive integer, got 0"):
        _train(streams=0).validate()


def test_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    run = pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=6),
                   vocab_size=300, progress=False)
    before = {p.name: p.read_bytes() for p in (run / "checkpoint").iterdir()}

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)  # the trainer state is the last file of the swap
    with pytest.raises(PonderError, match=r"writing the step-\d+ checkpoint failed \(No space left on device\); "
                                          "the previous checkpoint is intact"):
        pretrain(run, DOCS, train=_train(steps=12), resume=True, progress=False)
    after = {p.name: p.read_bytes() for p in (run / "checkpoint").iterdir()}
    assert after == before  # weights and trainer state both still those of step 6
    assert not [p for p in run.iterdir() if p.name.startswith(".checkpoint.tmp")]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_trainer_state_written_to_a_full_disk_is_one_line_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    """torch.save reports a full disk as a RuntimeError ("[enforce fail at inline_container.cc:672] . unexpected
    pos ..."), not an OSError: a run whose disk filled while checkpointing failed with that, never the line saying
    the previous checkpoint is intact. Here the state's file in save's temporary directory links to /dev/full."""
    import tempfile

    run = pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2, save_every=1),
                   vocab_size=300, progress=False)
    before = {p.name: p.read_bytes() for p in (run / "checkpoint").iterdir()}
    real = tempfile.mkdtemp

    def mkdtemp(*a, **k):
        d = real(*a, **k)
        os.symlink("/dev/full", os.path.join(d, "trainer_state.pt"))
        return d

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    with pytest.raises(PonderError, match=r"writing the step-3 checkpoint failed \(No space left on device\); "
                                          "the previous checkpoint is intact"):
        pretrain(run, DOCS, train=_train(steps=3), resume=True, progress=False)
    assert {p.name: p.read_bytes() for p in (run / "checkpoint").iterdir()} == before


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_metrics_row_written_to_a_full_disk_names_the_file():
    """A full disk fails the line's write at its flush, with an OSError that names no file: the command said only
    "error: No space left on device"."""
    from ponder.train import append_jsonl

    with pytest.raises(PonderError, match=r"^/dev/full: cannot write \(No space left on device\)$"):
        append_jsonl("/dev/full", {"step": 1, "loss": 2.5})


def test_pretraining_says_how_many_documents_it_cuts(tmp_path, capsys):
    from ponder.train import pack_documents

    ids, mask = pack_documents([list(range(1, 8)), list(range(10, 30)), [40, 41]], seq_len=6, pad=0)
    assert ids.tolist()[1] == list(range(10, 17)) and int(mask.sum()) == 7 + 7 + 2
    docs = DOCS + ["word " * 80]
    run = pretrain(tmp_path / "r", docs, model_config=ModelConfig(**SMALL), train=_train(steps=1),
                   vocab_size=300, progress=False)
    err = capsys.readouterr().err
    assert f"1 of {len(DOCS) + 1} documents are longer than seq_len + 1" in err
    # and how many of the corpus's tokens that loses: "1 of N documents" said nothing of most of the corpus lost
    tok = ponder.Tokenizer.load(run / "checkpoint")
    lens = [len(tok.encode(d, add_special_tokens=False)) for d in docs]
    lost = sum(max(0, n - 65) for n in lens)
    assert lost > 0 and f": {lost:,} of the corpus's {sum(lens):,} tokens ({lost / sum(lens):.1%}) are never " in err
    # held-out documents are cut as training ones are (their loss read only their first tokens, with nothing said)
    pretrain(tmp_path / "h", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=1), vocab_size=300,
             heldout_docs=["word " * 80, "w " * 80, "word"], progress=False)
    err = capsys.readouterr().err
    assert "pretrain: 2 of 3 held-out documents are longer than seq_len + 1 = 65 tokens and are cut there" in err
    assert " documents are longer" not in err.replace("held-out documents are longer", "")


def test_a_document_longer_than_the_context_is_not_told_to_raise_seq_len(tmp_path, capsys):
    """A .txt corpus of one line per sentence and no blank line is one document of 200,000 tokens: 99.98% of it was
    never trained on, and the warning said "raise --seq-len to keep them whole", which the model's context (512 for
    the tiny recipe) refuses. Found by `ponder pretrain --corpus huge.txt --seq-len 32`. Past the context, the
    warning now says the documents must be split."""
    cfg = ModelConfig(**{**SMALL, "max_position_embeddings": 64})
    pretrain(tmp_path / "r", DOCS + ["word " * 10], model_config=cfg, train=_train(steps=1, seq_len=32),
             vocab_size=300, progress=False)
    err = capsys.readouterr().err
    assert "raise --seq-len to keep them whole" in err and "split" not in err  # (50 tokens: within the context)
    pretrain(tmp_path / "h", DOCS + ["word " * 200], model_config=cfg, train=_train(steps=1, seq_len=32),
             vocab_size=300, progress=False)
    err = capsys.readouterr().err
    assert "raise --seq-len" not in err
    assert ("1 of them is longer than the model's context of 64 positions, which --seq-len cannot exceed: split "
            "documents that long (a .txt file's documents are separated by blank lines)") in err


def test_pretraining_says_what_it_does_before_its_first_progress_bar(tmp_path, capsys):
    """The tokenizer's training and the documents' encoding came before the first bar with nothing on stderr: the
    recipe's 200,000 documents sat silent for tens of seconds. With progress each stage says itself; without, not."""
    pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=1), vocab_size=300,
             progress=True)
    err = capsys.readouterr().err
    tokenizer, encoding = err.find("training a 300-token tokenizer"), err.find(f"encoding {len(DOCS):,} documents")
    assert -1 < tokenizer < encoding < err.find("pretrain: ", encoding + 1)  # (the bar comes after both)
    pretrain(tmp_path / "q", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=1), vocab_size=300,
             progress=False)
    assert "tokenizer" not in capsys.readouterr().err


def test_sft_says_when_its_validation_examples_are_training_examples(tiny_random, capsys):
    """--val-data naming --data's file (or rows of it) gave a val_loss of examples the run trains on, with nothing
    said; the start of the run says how many are shared, and nothing where none is."""
    model, tok = tiny_random
    other = [{"prompt": "Problem: 7 * 2 = ?\nSolution:", "response": " 14"}]
    for val, said in ((SFT_EX[:3] + other, "3 of the 4 validation examples"), (other, None)):
        m = ponder.Transformer(model.config)
        m.load_state_dict(model.state_dict())
        sft(m, tok, SFT_EX, val_examples=val, train=TrainConfig(steps=1, batch_size=2, seq_len=32), progress=False)
        err = capsys.readouterr().err
        assert (f"sft: {said} (--val-data) are also training examples" in err) if said else "--val-data" not in err


def test_a_run_summary_names_the_alarms_it_counts(tmp_path):
    """`grpo: 60 steps, 2 alarms` (and --json's "alarms": 2) did not say which: a script, or a person whose terminal
    had scrolled past the ALARM lines, had to read alarms.jsonl. The summary names them, each once."""
    from ponder.train import format_run_summary, summarize_run

    (tmp_path / "config.json").write_text(json.dumps({"kind": "grpo", "grpo": {"steps": 3}}))
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps({"step": i, "loss": 0.0}) + "\n" for i in (1, 2, 3)))
    (tmp_path / "alarms.jsonl").write_text("".join(json.dumps({"step": i, "alarm": a, "message": "m"}) + "\n" for i, a in
                                                   ((1, "zero_variance_groups"), (2, "length_runaway"),
                                                    (3, "zero_variance_groups"))))
    s = summarize_run(tmp_path)
    assert s["alarms"] == 3 and s["alarm_names"] == ["length_runaway", "zero_variance_groups"]
    assert format_run_summary(s).startswith("grpo: 3 steps, 3 alarms (length_runaway, zero_variance_groups); ")
    (tmp_path / "alarms.jsonl").unlink()
    s = summarize_run(tmp_path)
    assert s["alarm_names"] == [] and format_run_summary(s).startswith("grpo: 3 steps, 0 alarms; ")


def test_a_run_summary_names_the_steps_of_a_metric_first_logged_later(tmp_path):
    """`heldout_accuracy   37.5% -> 25.0%` read as RL lowering held-out accuracy, where 37.5% was measured after
    --eval-every steps of training (the starting model's was 0%): the summary printed a metric logged every
    --eval-every steps (heldout_accuracy, val_loss) as if it were first measured where the others were. Such a
    metric names its steps; one logged from the first step does not."""
    from ponder.train import format_run_summary, summarize_run

    (tmp_path / "config.json").write_text(json.dumps({"kind": "grpo", "grpo": {"steps": 6}}))
    (tmp_path / "metrics.jsonl").write_text("".join(
        json.dumps({"step": i, "loss": 0.5 / i, **({"heldout_accuracy": {3: 0.375, 6: 0.25}[i]} if i % 3 == 0 else {})})
        + "\n" for i in range(1, 7)))
    s = summarize_run(tmp_path)
    assert s["metrics"]["heldout_accuracy"] == {"first": 0.375, "last": 0.25, "first_step": 3, "last_step": 6}
    lines = format_run_summary(s).splitlines()
    assert "  heldout_accuracy   37.5% (step 3) -> 25.0% (step 6)" in lines
    assert "  loss               0.5 -> 0.08333" in lines
    (tmp_path / "metrics.jsonl").write_text("".join(
        json.dumps({"step": i, "loss": 0.5, **({"heldout_accuracy": 0.25} if i == 2 else {})}) + "\n" for i in (1, 2)))
    assert "  heldout_accuracy   25.0% (step 2)" in format_run_summary(summarize_run(tmp_path)).splitlines()


def test_sft_says_when_no_response_fits_and_counts_cut_examples(tiny_random):
    model, tok = tiny_random
    long = {"prompt": "Problem: 1 + 1 = ?" * 20, "response": " 2"}
    with pytest.raises(PonderError, match=r"no response token within seq_len=16 \(1 of 1 examples are longer\)"):
        sft(model, tok, [long], train=TrainConfig(steps=1, seq_len=16), progress=False)
    m = ponder.Transformer(model.config)
    m.load_state_dict(model.state_dict())
    out = sft(m, tok, [long, {"prompt": "1 + 1 =", "response": " 2"}], train=TrainConfig(steps=1, seq_len=16),
              progress=False)
    assert out["examples_cut"] == 1


def test_sft_never_steps_on_a_batch_without_a_response_token(tiny_random):
    """Examples whose response lies wholly past seq_len have no target. Drawn alone into a step they used to
    log loss 0.0 (grad_norm 0) while AdamW still moved the weights; they are left out of the schedule."""
    model, tok = tiny_random
    ex = [{"prompt": "Problem: 1 + 1 = ?" * k, "response": " 2 and more text" * 3} for k in (1, 2, 3, 6)]
    fits = [encode_sft(tok, e)[1][1:25].count(1) > 0 for e in ex]  # (the targets within 24 + 1 tokens)
    assert fits.count(False) == 2
    rows = []
    out = sft(_copy(model), tok, ex, train=TrainConfig(steps=8, batch_size=1, seq_len=24, warmup=1),
              progress=False, on_log=rows.append)
    assert out["examples_cut"] == 4 and len(rows) == 8
    assert all(r["loss"] > 0 and r["grad_norm"] > 0 for r in rows)
    assert rows[-1]["epoch"] == 8 / 2  # an epoch is the two rows with a target


def test_broken_run_directories_get_one_line(tmp_path, tiny_random):
    from ponder.train import load_run, trim_metrics

    run = pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2, save_every=1),
                   vocab_size=300, progress=False)
    (run / "metrics.jsonl").write_text('{"step": 1}\nnot json\n')
    with pytest.raises(PonderError, match=r"metrics.jsonl:2: not a metrics row"):
        trim_metrics(run, 1)
    state = run / "checkpoint" / "trainer_state.pt"
    state.write_bytes(state.read_bytes()[:100])
    with pytest.raises(PonderError, match="cannot read the trainer state"):
        load_run(run, "pretrain")
    (run / "config.json").write_text("[1, 2]")
    with pytest.raises(PonderError, match="expected a JSON object"):
        load_run(run, "pretrain")
    model, tok = tiny_random
    long = {"prompt": "1 + 1 = " * 400, "response": " 2"}
    with pytest.raises(PonderError, match="exceed the model's context of 2048 positions"):
        sft(model, tok, [long], train=TrainConfig(steps=1, seq_len=4000), progress=False)


def _copy(model):
    m = ponder.Transformer(model.config)
    m.load_state_dict(model.state_dict())
    return m


SFT_EX = [{"prompt": f"Problem: {a} + 1 = ?\nSolution:", "response": f" {a + 1}"} for a in range(11)]


def test_resume_refuses_weights_of_the_same_shapes_its_trainer_state_was_not_saved_with(tmp_path, tiny_random):
    """The shape checks pass a checkpoint of another run of the same model: the trainer state records the sha256 of
    the weights saved with it, and a resume (pretrain, sft, distill, grpo: load_run) refuses others, naming the
    weights file. The run's own weights resume, in one file or in shards, and so does a run saved before the digest
    was recorded."""
    import shutil

    from safetensors.torch import load_file, save_file

    from ponder.train import load_run

    model, tok = tiny_random
    a = tmp_path / "a"
    sft(_copy(model), tok, SFT_EX, a, progress=False, train=TrainConfig(steps=1, seq_len=32, warmup=1, save_every=1))
    weights = "checkpoint/model.safetensors"
    swapped = shutil.copytree(a, tmp_path / "swapped")  # another model's weights, of the same shapes
    tensors = load_file(a / weights)
    save_file({k: v + 1e-3 * (k == "model.norm.weight") for k, v in tensors.items()}, swapped / weights,
              metadata={"format": "pt"})
    metrics = (swapped / "metrics.jsonl").read_bytes()
    with pytest.raises(PonderError, match=rf"^{re.escape(str(swapped / weights))}: not the weights "
                                          r"trainer_state.pt was saved with \(sha256 \w{12}, recorded \w{12}\)"):
        sft(None, None, SFT_EX, swapped, train=TrainConfig(steps=2), resume=True, progress=False)
    assert (swapped / "metrics.jsonl").read_bytes() == metrics

    sharded = shutil.copytree(a, tmp_path / "sharded")  # the same weights in two shards: the same digest
    names = sorted(tensors)
    for i, part in enumerate((names[:2], names[2:])):
        save_file({k: tensors[k] for k in part}, sharded / f"checkpoint/s{i}.safetensors", metadata={"format": "pt"})
    (sharded / "checkpoint/model.safetensors.index.json").write_text(json.dumps(
        {"weight_map": {k: f"s{int(k not in names[:2])}.safetensors" for k in names}}))
    (sharded / weights).unlink()
    old = shutil.copytree(swapped, tmp_path / "old")  # saved before the digest was recorded: not checked
    state = torch.load(old / "checkpoint/trainer_state.pt", weights_only=True)
    del state["weights_sha256"]
    torch.save(state, old / "checkpoint/trainer_state.pt")
    for run in (a, old):
        assert load_run(run, "sft")[2]["step"] == 1
    sft(None, None, SFT_EX, sharded, train=TrainConfig(steps=2), resume=True, progress=False)
    assert json.loads((sharded / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 2


def test_a_new_run_over_one_killed_mid_swap_is_told_to_resume_not_to_remove_it(tmp_path, tiny_random):
    """A run killed between the two renames of a checkpoint save has its checkpoint set aside (.checkpoint.old-PID,
    put back by --resume). Started again without --resume it was called a run that stopped before its first
    checkpoint, with the advice to remove the directory: the run and its checkpoint lost."""
    model, tok = tiny_random
    run = tmp_path / "r"
    cfg = TrainConfig(steps=1, seq_len=32, warmup=1, save_every=1)
    sft(_copy(model), tok, SFT_EX, run, train=cfg, progress=False)
    (run / "checkpoint").rename(run / ".checkpoint.old-999999999")  # what a kill -9 between the renames leaves
    with pytest.raises(PonderError, match=r"already holds a run; pass --resume"):
        sft(_copy(model), tok, SFT_EX, run, train=cfg, progress=False)
    sft(None, None, SFT_EX, run, train=TrainConfig(steps=2), resume=True, progress=False)
    assert [json.loads(r)["step"] for r in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2]


def test_sft_schedule_sees_every_example_once_per_epoch():
    from ponder.train import sft_schedule

    n, b = 11, 4
    seen = torch.cat([sft_schedule(n, b, 3, s) for s in range(11)])  # 44 rows = 4 epochs
    for e in range(4):
        assert sorted(seen[e * n : (e + 1) * n].tolist()) == list(range(n))
    assert not torch.equal(seen[:n], seen[n : 2 * n])  # each epoch its own order
    assert torch.equal(sft_schedule(n, b, 3, 5), sft_schedule(n, b, 3, 5))  # a pure function of (seed, step)


@pytest.mark.parametrize("kw, said", [
    ({"examples": "data.jsonl"}, "examples must be a list of rows ({prompt, response} or {messages}), got str "
                                 "'data.jsonl' (load_sft_examples(path) reads a file)"),
    ({"val_examples": Path("val.jsonl")}, "val_examples must be a list of rows ({prompt, response} or {messages}), "
                                          "got PosixPath"),
    ({"examples": SFT_EX[0]}, "examples must be a list of rows ({prompt, response} or {messages}), got dict"),
])
def test_sft_given_a_file_name_or_one_row_for_its_rows_says_so(tiny_random, kw, said):
    """A data file's path (or a single row) where the rows go was read character by character (key by key): "example
    0: expected a JSON object", as if the file's first row were broken."""
    model, tok = tiny_random
    with pytest.raises(PonderError, match="^sft: " + re.escape(said)):
        sft(_copy(model), tok, **{"examples": SFT_EX, **kw}, train=TrainConfig(steps=1), progress=False)


def test_sft_of_a_model_with_every_parameter_frozen_is_one_line_before_the_run_directory(tmp_path, tiny_random):
    model, tok = tiny_random
    m = _copy(model).requires_grad_(False)
    with pytest.raises(PonderError, match=r"^sft: every parameter of the model is frozen \(requires_grad=False\): "
                                          "nothing to train"):
        sft(m, tok, SFT_EX, tmp_path / "r", train=TrainConfig(steps=1), progress=False)
    assert not (tmp_path / "r").exists()


def test_sft_with_frozen_parameters_resumes_them_frozen(tmp_path, tiny_random):
    """A model given with some parameters frozen (requires_grad=False: the first layer) trains them frozen after a
    resume too, and the resumed run equals the uninterrupted one (the resume was refused: "the optimizer state is
    for another model", its state having no moments for the frozen parameters the loaded model had trainable)."""
    model, tok = tiny_random
    cfg = TrainConfig(steps=4, batch_size=4, lr=1e-3, warmup=1, save_every=2, seq_len=64)

    def frozen_copy():
        m = _copy(model)
        for n, p in m.named_parameters():
            p.requires_grad_(not n.startswith("layers.0."))
        return m

    def die(row):
        if row["step"] == 3:
            raise KeyboardInterrupt
    sft(frozen_copy(), tok, SFT_EX, tmp_path / "a", train=cfg, progress=False)
    with pytest.raises(KeyboardInterrupt):
        sft(frozen_copy(), tok, SFT_EX, tmp_path / "b", train=cfg, progress=False, on_log=die)
    sft(None, None, SFT_EX, tmp_path / "b", resume=True, progress=False)
    a, b = (ponder.load(tmp_path / r / "checkpoint")[0].state_dict() for r in "ab")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(torch.equal(b[k], v) for k, v in model.state_dict().items() if k.startswith("layers.0."))


def test_sft_resume_equals_uninterrupted_and_checks_the_data(tmp_path, tiny_random, plots):
    model, tok = tiny_random
    cfg = TrainConfig(steps=8, batch_size=4, lr=1e-3, warmup=2, save_every=3, eval_every=4, seq_len=64)
    val = SFT_EX[:3]
    sft(_copy(model), tok, SFT_EX, tmp_path / "a", train=cfg, val_examples=val, progress=False)

    def die(row):  # a crash after the step-6 checkpoint, with row 7 logged past it
        if row["step"] == 7:
            with open(tmp_path / "b" / "metrics.jsonl", "a") as f:
                f.write('{"step": 8, "lo')  # and a row the kill cut short
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        sft(_copy(model), tok, SFT_EX, tmp_path / "b", train=cfg, val_examples=val, progress=False, on_log=die)
    with pytest.raises(PonderError, match="training data differs"):
        sft(None, None, SFT_EX[:-1], tmp_path / "b", resume=True, val_examples=val, progress=False)
    with pytest.raises(PonderError, match="validation data differs"):
        sft(None, None, SFT_EX, tmp_path / "b", resume=True, progress=False)
    sft(None, None, SFT_EX, tmp_path / "b", resume=True, val_examples=val, progress=False)
    rows = [(tmp_path / d / "metrics.jsonl").read_text().splitlines() for d in "ab"]
    assert len(rows[0]) == 8 and rows[0] == rows[1]
    assert [json.loads(r)["step"] for r in rows[0] if "val_loss" in json.loads(r)] == [4, 8]
    a, b = (ponder.load(tmp_path / d / "checkpoint")[0].state_dict() for d in "ab")
    assert all(torch.equal(a[k], b[k]) for k in a)
    for d in "ab":
        assert (tmp_path / d / "training.png").stat().st_size > 1000
        assert any((tmp_path / d / "tensorboard").iterdir())
    with pytest.raises(PonderError, match="at step 8 of 8"):
        sft(None, None, SFT_EX, tmp_path / "b", resume=True, val_examples=val, progress=False)


def test_sft_and_distill_refuse_compile_they_would_ignore(tmp_path, tiny_random, capsys):
    """TrainConfig.compile is pretraining's: sft recorded compile=True in config.json and trained eagerly; distill
    found nothing wrong with it either. Refused in one line, before any sampling or writing."""
    from ponder.train import distill

    model, tok = tiny_random
    cfg = TrainConfig(steps=1, batch_size=4, seq_len=64, compile=True)
    with pytest.raises(PonderError, match="^sft: compile=True is for pretraining"):
        sft(_copy(model), tok, SFT_EX, tmp_path / "s", train=cfg, progress=False)
    with pytest.raises(PonderError, match="^sft: compile=True is for pretraining"):
        distill(model, tok, _copy(model), tok, [{"prompt": "1 + 1 ="}], lambda t, it: True, k=1, temperature=0,
                run_dir=tmp_path / "d", train=cfg, progress=True)
    assert "teacher samples" not in capsys.readouterr().err
    assert not (tmp_path / "s").exists() and not (tmp_path / "d").exists()


@pytest.mark.parametrize("packing", ["no", 1, None])
def test_sft_packing_must_be_a_bool(tmp_path, tiny_random, packing):
    """packing="no" is truthy: the run packed and config.json recorded "no"; refused before anything is written."""
    model, tok = tiny_random
    with pytest.raises(PonderError, match=f"^sft: packing must be True or False, got {packing!r}$"):
        sft(_copy(model), tok, SFT_EX, tmp_path / "s", train=TrainConfig(steps=1, batch_size=4, seq_len=64),
            packing=packing, progress=False)
    assert not (tmp_path / "s").exists()


def test_sft_runs_on_the_threads_its_config_names(tmp_path, tiny_random):
    """TrainConfig.threads was applied by pretrain only: sft recorded it in config.json and ran on whatever the
    process had, its resume too."""
    model, tok = tiny_random
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        cfg = TrainConfig(steps=2, batch_size=4, seq_len=64, save_every=1, threads=1)
        sft(_copy(model), tok, SFT_EX, tmp_path / "r", train=cfg, progress=False)
        assert torch.get_num_threads() == 1
        torch.set_num_threads(2)
        sft(None, None, SFT_EX, tmp_path / "r", train=TrainConfig(steps=3), resume=True, progress=False)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("steps", [7.5, "9", True])
def test_sft_resume_refuses_a_bad_step_target_before_writing(tmp_path, tiny_random, steps):
    """sft(resume=True, train=...) takes only train.steps, which was never validated: 7.5 was written into
    config.json and then failed in range() with a TypeError, leaving a run every later resume refused."""
    model, tok = tiny_random
    run = tmp_path / "r"
    sft(_copy(model), tok, SFT_EX, run, train=TrainConfig(steps=2, batch_size=4, seq_len=64, save_every=1),
        progress=False)
    before = {f: (run / f).read_bytes() for f in ("config.json", "metrics.jsonl")}
    with pytest.raises(PonderError, match="steps must be a positive integer"):
        sft(None, None, SFT_EX, run, train=TrainConfig(steps=steps), resume=True, progress=False)
    assert {f: (run / f).read_bytes() for f in before} == before
    sft(None, None, SFT_EX, run, train=TrainConfig(steps=3), resume=True, progress=False)
    assert json.loads((run / "config.json").read_text())["train"]["steps"] == 3


def test_sft_renders_with_the_runs_chat_template_kwargs_and_resume_keeps_them(tmp_path, tiny_random):
    """Chat-template kwargs (Qwen3's enable_thinking) shape what SFT trains on, are recorded in config.json
    and a resumed run renders with them again; before, they could not be passed at all."""
    import copy

    from test_tokenizer import QWEN3_THINKING

    model, base = tiny_random
    tok = copy.copy(base)
    tok.chat_template, tok._jinja = QWEN3_THINKING, None
    chat = [{"prompt": [{"role": "user", "content": ex["prompt"]}], "response": ex["response"]} for ex in SFT_EX]
    cfg = TrainConfig(steps=6, batch_size=4, lr=1e-3, warmup=2, save_every=3, seq_len=64)
    tok.template_kwargs = {"enable_thinking": False}
    sft(_copy(model), tok, chat, tmp_path / "a", train=cfg, progress=False)
    assert json.loads((tmp_path / "a" / "config.json").read_text())["chat_template_kwargs"] == {
        "enable_thinking": False}

    def die(row):
        if row["step"] == 4:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        sft(_copy(model), tok, chat, tmp_path / "b", train=cfg, progress=False, on_log=die)
    sft(None, None, chat, tmp_path / "b", resume=True, progress=False)
    tok.template_kwargs = {}
    sft(_copy(model), tok, chat, tmp_path / "c", train=cfg, progress=False)
    rows = [[json.loads(r)["loss"] for r in (tmp_path / d / "metrics.jsonl").read_text().splitlines()] for d in "abc"]
    assert rows[0] == rows[1] and rows[0] != rows[2]  # the empty think block is prompt in a, b; a target in c


def test_master_adamw_steps_fp32_masters_exactly_as_fp32_adamw():
    """bf16 weights stepped through fp32 masters follow fp32 AdamW bit for bit (rounded on the way back);
    plain AdamW on the bf16 weights rounds lr-1e-6 updates away and leaves them where they were."""
    from ponder.train import MasterAdamW, adamw

    torch.manual_seed(0)
    w = torch.randn(64, 32) * 0.03
    p, plain = (torch.nn.Parameter(w.to(torch.bfloat16)) for _ in range(2))
    q = torch.nn.Parameter(p.detach().float())
    kw = dict(lr=1e-6, betas=(0.9, 0.99), weight_decay=0.01)
    opts = [adamw([p], **kw), torch.optim.AdamW([q], **kw), torch.optim.AdamW([plain], **kw)]
    assert type(opts[0]) is MasterAdamW and type(adamw([q], **kw)) is torch.optim.AdamW
    drift = torch.randn(64, 32)
    for _ in range(200):  # a steady gradient: fp32 AdamW moves each weight ~2e-4, more than half a bf16 step
        g = (drift + 0.3 * torch.randn(64, 32)).to(torch.bfloat16)
        p.grad, q.grad, plain.grad = g.clone(), g.float(), g.clone()
        for o in opts:
            o.step()
            o.zero_grad()
    assert torch.equal(opts[0]._pairs[0][1], q.detach()) and torch.equal(p.detach(), q.detach().bfloat16())
    assert p.grad is None
    start = w.to(torch.bfloat16)
    assert (p.detach() != start).float().mean() > 0.5 and (plain.detach() != start).float().mean() < 0.05


def test_bf16_sft_accumulates_small_updates_and_resumes_from_its_masters(tmp_path, tiny_random):
    """An SFT run of a bf16 model moves its weights at a small lr and a resumed run equals the uninterrupted one
    (the fp32 masters are in the checkpoint's optimizer state, not recomputed from the rounded weights)."""
    model, tok = tiny_random
    bf16 = _copy(model).to(torch.bfloat16)
    cfg = TrainConfig(steps=6, batch_size=4, lr=2e-4, warmup=1, save_every=3, seq_len=64)

    def fresh():
        m = _copy(model).to(torch.bfloat16)
        m.load_state_dict(bf16.state_dict())
        return m
    sft(fresh(), tok, SFT_EX, tmp_path / "a", train=cfg, progress=False)

    def die(row):
        if row["step"] == 4:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        sft(fresh(), tok, SFT_EX, tmp_path / "b", train=cfg, progress=False, on_log=die)
    sft(None, None, SFT_EX, tmp_path / "b", resume=True, progress=False)
    rows = [(tmp_path / d / "metrics.jsonl").read_text().splitlines() for d in "ab"]
    assert rows[0] == rows[1]
    a, b = (ponder.load(tmp_path / d / "checkpoint", dtype="bfloat16")[0].state_dict() for d in "ab")
    assert all(torch.equal(a[k], b[k]) for k in a)
    moved = [float((a[k] != v).float().mean()) for k, v in bf16.state_dict().items() if v.ndim == 2]
    assert min(moved) > 0.4  # 59-70% of each matrix; plain AdamW on the bf16 weights moved 22-25%


def test_trim_metrics_keeps_rows_up_to_the_checkpoint_in_both_logs(tmp_path):
    from ponder.train import trim_metrics

    (tmp_path / "metrics.jsonl").write_text('{"step": 1}\n{"step": 2}\n{"step": 3}\n{"step": 4, "lo')
    (tmp_path / "alarms.jsonl").write_text('{"step": 2, "alarm": "a"}\n{"step": 3, "alarm": "b"}\n')
    trim_metrics(tmp_path, 2)
    assert (tmp_path / "metrics.jsonl").read_text() == '{"step": 1}\n{"step": 2}\n'
    assert (tmp_path / "alarms.jsonl").read_text() == '{"step": 2, "alarm": "a"}\n'
    (tmp_path / "metrics.jsonl").write_text('{"step": 1}\nnot json\n{"step": 2}\n')
    with pytest.raises(PonderError, match=r"metrics.jsonl:2: not a metrics row"):
        trim_metrics(tmp_path, 2)
    for bad in ('{"step": "2"}', '{"step": null}', '{"step": true}'):  # (a TypeError comparing it to the step)
        (tmp_path / "metrics.jsonl").write_text('{"step": 1}\n' + bad + '\n')
        with pytest.raises(PonderError, match=r"metrics.jsonl:2: not a metrics row"):
            trim_metrics(tmp_path, 2)


def test_sft_response_tokens_are_what_generation_produces_after_the_prompt(sentencepiece_tokenizer, tiny_random):
    """A sentencepiece tokenizer (Llama 2, Mistral) encoding the response alone put its dummy-prefix "▁" at
    the seam: " 4" after "Solution:" trained as "▁", "▁4" (two spaces), "The" after a newline as "▁The", text
    that generation never produces. The prompt keeps exactly the tokens inference prompts with."""
    from ponder.tokenizer import Tokenizer

    template = ("{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}[INST] {{ m.content }} [/INST]"
                "{% else %} {{ m.content }}{{ eos_token }}{% endif %}{% endfor %}")
    tok = Tokenizer(sentencepiece_tokenizer(), eos_token="</s>", bos_token="<s>", chat_template=template)
    for prompt, response in [("Problem: 2 + 2 = ?\nSolution:", " 4"), ("Problem: 2 + 2 = ?\nSolution:\n", "The answer is 4")]:
        ids, mask = encode_sft(tok, {"prompt": prompt, "response": response})
        n = mask.index(1)
        assert ids[:n] == tok.encode(prompt, add_special_tokens=True) and all(mask[n:]) and sum(mask) == len(ids) - n
        assert ids[-1] == tok.eos_token_id and tok.decode_continuation(ids[:n], ids[n:-1]) == response
        assert tok.decode(ids, skip_special_tokens=True) == prompt + response
    msgs = [{"role": "user", "content": "2 + 2?"}, {"role": "assistant", "content": "4"}]
    ids, mask = encode_sft(tok, {"messages": msgs})
    n = mask.index(1)
    assert ids[:n] == tok.encode(tok.apply_chat_template(msgs[:1], add_generation_prompt=True), add_special_tokens=False) and ids[-1] == tok.eos_token_id
    assert tok.decode_continuation(ids[:n], ids[n:]) == " 4"  # was "  4"
    # byte-level BPE (Ponder's own, Qwen): across a merge at the seam ("is " + "4" is " 4" jointly) the prompt
    # keeps its own tokens, what ponder.sample prompts with, and the response is "4" after them
    _, bl = tiny_random
    for prompt, response in [("The answer is ", "4"), ("Problem: 2 + 2 = ?\nSolution:", " 4")]:
        ids, mask = encode_sft(bl, {"prompt": prompt, "response": response})
        n = mask.index(1)
        assert ids[:n] == bl.encode(prompt, add_special_tokens=True) and mask[n:] == [1] * (len(ids) - n)
        assert ids[n:] == bl.encode(response, add_special_tokens=False) + [bl.eos_token_id]


def test_metrics_rows_are_strict_json(tmp_path):
    from ponder.train import append_jsonl

    append_jsonl(tmp_path / "m.jsonl", {"step": 1, "loss": float("nan"), "grad_norm": float("inf")})
    assert json.loads((tmp_path / "m.jsonl").read_text()) == {"step": 1, "loss": None, "grad_norm": None}


def test_distill_shows_progress_while_the_teacher_samples(tiny_random, capsys):
    """Distillation's teacher sampling (its long part with a real teacher) used to run with no progress bar:
    only the fine-tuning after it had one."""
    from ponder.train import distill

    model, tok = tiny_random
    items = [{"prompt": f"{a} + 1 =", "answer": str(a + 1)} for a in range(3)]
    with pytest.raises(PonderError, match="kept none of 6 teacher samples"):
        distill(model, tok, model, tok, items, lambda text, it: False, k=2, max_new_tokens=4, progress=True)
    err = capsys.readouterr().err
    assert "distill: teacher samples: 100%" in err and "6/6" in err


def test_packing_edge_lengths_train_as_alone(tiny_random):
    """The lengths where packing could go wrong: examples longer than a row (cut at seq_len + 1 on the right: the
    response's end is lost, a response wholly past it leaves no target), one of exactly seq_len + 1 tokens (a row
    to itself, uncut) and one of seq_len, next to short ones that share rows. Packed or one row each: the
    same targets, the same loss."""
    from ponder.train import sft_batches

    model, tok = tiny_random
    S = 24

    def ex(n_p, n_r, end=""):
        return encode_sft(tok, {"prompt": "Problem:" + " 1" * n_p, "response": " 2" * n_r + end})

    by_len = {len(e[0]): e for e in (ex(3, r, end) for r in range(1, 12) for end in ("", "."))}
    enc = [ex(3, 2), ex(40, 3), ex(5, 30), ex(2, 1), by_len[S + 1], by_len[S], ex(1, 1), ex(2, 2)]
    assert sorted(len(i) > S + 1 for i, _ in enc).count(True) == 2
    packed, alone = sft_batches(enc, S, tok.pad_token_id, True), sft_batches(enc, S, tok.pad_token_id, False)
    assert packed[0].shape[0] < alone[0].shape[0] == len(enc) and packed[0].shape[1] == S + 1
    assert int(packed[2].max()) == 2  # (some row holds two examples)
    with torch.no_grad():
        (lp, n_p), (la, n_a) = (response_loss(model, *t) for t in (packed, alone))
    assert n_p == n_a == sum(sum(m[1 : S + 1]) for _, m in enc)
    assert lp.item() == pytest.approx(la.item(), rel=1e-5)


def test_packing_never_makes_a_documents_first_token_a_target(tiny_random):
    """A document's first token has nothing of its own before it. An encoded example whose loss mask starts at 1
    (a prompt of no tokens) packed after another would be predicted from that one's last token; packed and
    alone must count the same tokens and give the same loss."""
    from ponder.train import sft_batches

    model, tok = tiny_random
    a = encode_sft(tok, {"prompt": "Problem: 1 + 2 = ?\nSolution:", "response": " 3"})
    ids = tok.encode("Hello 3", add_special_tokens=False) + [tok.eos_token_id]
    enc = [a, (ids, [1] * len(ids))]
    packed, alone = sft_batches(enc, 48, tok.pad_token_id, True), sft_batches(enc, 48, tok.pad_token_id, False)
    assert packed[0].shape[0] == 1 and alone[0].shape[0] == 2
    with torch.no_grad():
        (lp, n_p), (la, n_a) = (response_loss(model, *t) for t in (packed, alone))
    assert n_p == n_a == len(ids) - 1 + sum(a[1])
    assert lp.item() == pytest.approx(la.item(), rel=1e-5)


def test_context_check_counts_the_inputs_not_the_last_target(tiny_random):
    """A row of seq_len + 1 tokens feeds the model seq_len of them: an example of context + 1 tokens fits whole
    at --seq-len = context; one token more is refused with the --seq-len that fits."""
    from dataclasses import asdict

    model, tok = tiny_random
    small = ponder.Transformer(ModelConfig(**{**asdict(model.config), "max_position_embeddings": 12}))
    small.load_state_dict(model.state_dict())
    ex = next(e for e in ({"prompt": "1 + 1 =" + " +" * k, "response": " 2"} for k in range(20))
              if len(encode_sft(tok, e)[0]) == 13)
    out = sft(small, tok, [ex], train=TrainConfig(steps=1, seq_len=12, warmup=1), progress=False)
    assert out["examples_cut"] == 0
    longer = {**ex, "prompt": ex["prompt"] + " +"}
    with pytest.raises(PonderError, match=r"up to 14 tokens exceed the model's context of 12 .*--seq-len 12 or less"):
        sft(small, tok, [longer], train=TrainConfig(steps=1, seq_len=13, warmup=1), progress=False)


def test_validation_with_no_response_in_reach_is_refused(tiny_random):
    """It used to report val_loss 0 (a mean over no tokens)."""
    model, tok = tiny_random
    long = {"prompt": "Problem: 1 + 1 = ?" * 20, "response": " 2"}
    with pytest.raises(PonderError, match=r"no validation response token within seq_len=16 \(1 of 1 validation"):
        sft(_copy(model), tok, SFT_EX[:2], train=TrainConfig(steps=1, seq_len=16, warmup=1), progress=False,
            val_examples=[long])
    out = sft(_copy(model), tok, SFT_EX[:2], train=TrainConfig(steps=1, seq_len=16, warmup=1), progress=False,
              val_examples=[long, SFT_EX[3]])
    assert out["val_examples_cut"] == 1 and out["val_loss"] > 0


def test_run_directories_that_hold_a_model_or_a_run_stopped_before_its_first_checkpoint(tmp_path, tiny_random):
    """--out on any model checkpoint (a distillation's teacher, an earlier run's checkpoint/) would replace its
    config.json; a run killed before its first checkpoint can be neither resumed nor silently restarted: both
    sides say so, and nothing is written."""
    from ponder import checkpoint
    from ponder.train import load_run

    model, tok = tiny_random
    ckpt = tmp_path / "teacher"
    checkpoint.save(model, tok, ckpt)
    before = {f: f.read_bytes() for f in ckpt.rglob("*") if f.is_file()}
    with pytest.raises(PonderError, match=r"holds a model checkpoint \(model.safetensors\)"):
        sft(_copy(model), tok, SFT_EX[:2], ckpt, train=TrainConfig(steps=1, seq_len=32, warmup=1), progress=False)
    assert {f: f.read_bytes() for f in ckpt.rglob("*") if f.is_file()} == before
    run = tmp_path / "stopped"
    run.mkdir()
    (run / "config.json").write_text('{"kind": "sft", "train": {}}')
    (run / "metrics.jsonl").write_text('{"step": 1, "loss": 2.0}\n')
    with pytest.raises(PonderError, match="stopped before its first checkpoint"):
        sft(_copy(model), tok, SFT_EX[:2], run, train=TrainConfig(steps=1, seq_len=32, warmup=1), progress=False)
    with pytest.raises(PonderError, match="stopped before its first checkpoint"):
        load_run(run, "sft")


def test_an_evaluation_directory_is_not_called_a_stopped_run(tmp_path, tiny_random):
    """--out (or --resume) on the directory of `ponder eval --out` or a sweep said "holds a run that stopped before
    its first checkpoint (nothing to resume); remove the directory": the advice would delete the evaluation's
    results. It is named as the result it is, and nothing in it changes."""
    from ponder.train import load_run

    model, tok = tiny_random
    for kind, what in (("eval", "an 'eval' result"), ("sweep", "a 'sweep' result")):
        res = tmp_path / kind
        res.mkdir()
        (res / "config.json").write_text(json.dumps({"kind": kind, "model": "tiny"}))
        (res / "summary.json").write_text("{}")
        before = {f.name: f.read_bytes() for f in res.iterdir()}
        with pytest.raises(PonderError) as e:
            sft(_copy(model), tok, SFT_EX[:2], res, train=TrainConfig(steps=1, seq_len=32, warmup=1), progress=False)
        assert what in str(e.value) and "choose another --out" in str(e.value) and "remove" not in str(e.value)
        with pytest.raises(PonderError) as e:
            load_run(res, "grpo")
        assert what in str(e.value) and "remove" not in str(e.value)
        assert {f.name: f.read_bytes() for f in res.iterdir()} == before


def test_a_run_never_writes_into_a_demos_directory(tiny_random, tmp_path):
    """A demo's directory (summary.json, training.png, its GRPO run in grpo/, no config.json) was taken as a
    fresh run directory: the run wrote its training.png over the demo's curves. Refused, nothing changed."""
    model, tok = tiny_random
    demo = tmp_path / "demo"
    (demo / "grpo").mkdir(parents=True)
    (demo / "summary.json").write_text("{}")
    (demo / "training.png").write_bytes(b"png")
    before = {f.name: f.read_bytes() for f in demo.iterdir() if f.is_file()}
    with pytest.raises(PonderError, match="holds a summary.json with no config.json beside it"):
        sft(_copy(model), tok, SFT_EX[:2], demo, train=TrainConfig(steps=1, seq_len=32, warmup=1), progress=False)
    assert {f.name: f.read_bytes() for f in demo.iterdir() if f.is_file()} == before
    assert sorted(os.listdir(demo)) == ["grpo", "summary.json", "training.png"]


def test_distill_refuses_k_identical_greedy_samples(tiny_random, tmp_path):
    """At temperature 0 the teacher's k samples of a prompt are all the same: at most one was kept, and the
    report's kept_fraction read k times too low. Refused before anything is sampled or written."""
    from ponder.train import distill

    model, tok = tiny_random
    items = [{"prompt": "1 + 1 =", "answer": "2"}]
    with pytest.raises(PonderError, match="-k 2 at temperature 0"):
        distill(model, tok, model, tok, items, lambda t, it: True, k=2, temperature=0.0, run_dir=tmp_path / "r",
                progress=False)
    assert not (tmp_path / "r").exists()


def test_distill_refuses_a_student_context_it_could_outgrow_before_sampling(tiny_random, capsys):
    from dataclasses import asdict

    from ponder.train import distill

    model, tok = tiny_random
    small = ponder.Transformer(ModelConfig(**{**asdict(model.config), "max_position_embeddings": 16}))
    items = [{"prompt": f"{a} + 1 =", "answer": str(a + 1)} for a in range(3)]
    with pytest.raises(PonderError, match=r"--max-new-tokens 32 can exceed the student's context of 16 "
                                          r"positions; use --seq-len 16 or less"):
        distill(model, tok, small, tok, items, lambda text, it: True, k=2, max_new_tokens=32, progress=True,
                train=TrainConfig(steps=1, seq_len=64))
    assert "teacher samples" not in capsys.readouterr().err  # refused before the teacher sampled


def test_distill_that_fails_while_fine_tuning_says_where_its_samples_are(tiny_random, tmp_path):
    from ponder.train import DISTILLED, distill, load_sft_examples

    model, tok = tiny_random
    items = [{"prompt": f"{a} + 1 =", "answer": str(a + 1)} for a in range(3)]
    with pytest.raises(PonderError, match="kept none of 6 teacher samples: 6 cut at max_new_tokens=8 before they "
                                          r"ended \(raise --max-new-tokens\)$"):
        distill(model, tok, copy.deepcopy(model), tok, items, lambda text, it: True, k=2, max_new_tokens=8,
                progress=False, run_dir=tmp_path / "e", train=TrainConfig(steps=2, seq_len=32))
    teacher, tok = ponder.load("tiny")
    items = ponder.tasks.generate("arith", "test", n=3)
    with pytest.raises(PonderError, match=r"training diverged.* \(the \d+ kept teacher samples are in "
                                          r".*distilled.jsonl: `ponder sft --data` trains on them\)"):
        distill(teacher, tok, copy.deepcopy(teacher), tok, items, lambda text, it: True, k=2, max_new_tokens=64,
                progress=False, run_dir=tmp_path / "r", train=TrainConfig(steps=2, seq_len=128, lr=1e30))
    assert len(load_sft_examples(tmp_path / "r" / DISTILLED)) >= 1


def test_distill_that_keeps_nothing_says_why(tokenizer, tmp_path):
    """Samples cut at max_new_tokens are never shown to the verifier, yet a distillation that kept none of them
    said "the verifier accepted none", even of a verifier that accepts everything: the advice it needed was to
    raise --max-new-tokens. It now counts them apart from those the verifier rejected; nothing is written."""
    from test_scale import think_tag_model

    from ponder.train import distill

    tok = tokenizer
    teacher = think_tag_model(tok, [("p", "1234567"), ("q", "89")])  # (prompted "z", no path: an immediate EOS)
    items, train = [{"prompt": "p"}, {"prompt": "q"}], TrainConfig(steps=1, batch_size=1, seq_len=32)
    with pytest.raises(PonderError, match=r"^distill: kept none of 3 teacher samples: 1 cut at max_new_tokens=3 "
                                          r"before they ended \(raise --max-new-tokens\), 1 empty, 1 rejected by "
                                          r"the verifier$"):
        distill(teacher, tok, copy.deepcopy(teacher), tok, items + [{"prompt": "z"}], lambda text, it: text != "89",
                k=1, temperature=0, max_new_tokens=3, run_dir=tmp_path / "r", train=train, progress=False)
    assert not (tmp_path / "r").exists()
    rep = distill(teacher, tok, copy.deepcopy(teacher), tok, items, lambda text, it: True, k=1, temperature=0,
                  max_new_tokens=12, train=train, progress=False)
    assert (rep["sampled"], rep["kept"], rep["prompts_with_a_kept_sample"]) == (2, 2, 2)


def test_distill_that_keeps_some_says_why_it_left_the_others_out(tokenizer, tmp_path):
    """A distillation that kept some samples reported kept / sampled alone: `ponder distill --max-new-tokens 24` of
    the tiny teacher said "kept 1 of 32 teacher samples (3.1%)", read as the teacher's accuracy, where 19 of the 32
    were cut at --max-new-tokens, never shown to the verifier. The report counts every sample: kept, duplicates,
    rejected, cut, empty, end_of_turn; config.json records them."""
    from test_scale import think_tag_model

    from ponder.train import distill

    tok = tokenizer
    teacher = think_tag_model(tok, [("p", "1234567"), ("q", "89"), ("r", "xy")])  # ("z": an immediate EOS)
    items = [{"prompt": "p"}, {"prompt": "q"}, {"prompt": "r"}, {"prompt": "z"}]
    rep = distill(teacher, tok, copy.deepcopy(teacher), tok, items, lambda text, it: text != "89", k=1,
                  temperature=0, max_new_tokens=3, run_dir=tmp_path / "r",
                  train=TrainConfig(steps=1, batch_size=1, seq_len=32), progress=False)
    counts = {k: rep[k] for k in ("sampled", "kept", "duplicates", "rejected", "cut", "empty", "end_of_turn")}
    assert counts == {"sampled": 4, "kept": 1, "duplicates": 0, "rejected": 1, "cut": 1, "empty": 1, "end_of_turn": 0}
    assert json.loads((tmp_path / "r" / "config.json").read_text())["data"]["distill"]["cut"] == 1


def test_distill_names_itself_in_the_warnings_of_its_fine_tuning(tokenizer, tmp_path, capsys):
    """distill() fine-tunes through sft(): `ponder distill --batch-size 4` on one kept sample was told "sft:
    --batch-size 4 is more than the 1 example", and of its short schedule "sft: a run of 1 step ...", options it
    was given as distill's; a resume of the distillation too."""
    from test_scale import think_tag_model

    from ponder.train import distill

    teacher = think_tag_model(tokenizer, [("p", "12")])
    distill(teacher, tokenizer, copy.deepcopy(teacher), tokenizer, [{"prompt": "p"}], lambda text, it: True, k=1,
            temperature=0, max_new_tokens=3, run_dir=tmp_path / "r",
            train=TrainConfig(steps=1, batch_size=4, seq_len=32, warmup=5), progress=False)
    err = capsys.readouterr().err
    assert "distill: --batch-size 4 is more than the 1 example" in err and "distill: a run of 1 step" in err, err
    assert "sft:" not in err
    kept = [json.loads(line) for line in (tmp_path / "r" / "distilled.jsonl").read_text().splitlines()]
    sft(None, None, kept, tmp_path / "r", train=TrainConfig(steps=2), resume=True, progress=False)
    err = capsys.readouterr().err
    assert "distill: a run of 2 steps" in err and "sft:" not in err, err


def test_distill_names_the_sample_and_item_a_reward_failed_on(tokenizer, tmp_path):
    """A reward callable's error (a bug, an item it cannot read) was a bare traceback, "KeyError: 'answer'", naming
    none of the teacher's samples; it now names the sample and its item's id in one line, as grpo's scoring does."""
    from test_scale import think_tag_model

    from ponder.train import distill

    tok = tokenizer
    teacher = think_tag_model(tok, [("p", "89"), ("q", "xy")])
    items = [{"prompt": "p", "answer": "89"}, {"prompt": "q", "id": "q7"}]
    with pytest.raises(PonderError, match=r"^distill: judging teacher sample 3 of 4 \(item q7\): KeyError: 'answer'$"):
        distill(teacher, tok, copy.deepcopy(teacher), tok, items, lambda text, it: text == it["answer"], k=2,
                temperature=0.05, max_new_tokens=4, run_dir=tmp_path / "r",
                train=TrainConfig(steps=1, batch_size=1, seq_len=32), progress=False)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("items, msg", [
    ("1 + 1 =", r"items must be a non-empty list of dicts with a 'prompt', got str '1 \+ 1 ='"),
    ([], r"items must be a non-empty list"),
    ([{"prompt": "1 + 1 ="}, {"question": "2 + 2 ="}], r"items\[1\] must be a dict with a 'prompt', got "
                                                      r"\{'question'"),
    ([{"prompt": [5, 6, 7]}], r"items\[0\]: 'prompt' must be a string or a list of chat messages"),
])
def test_distill_items_without_prompts_get_one_line(tiny_random, tmp_path, items, msg):
    """distill(items=...) given a string failed with a TypeError, an item without a 'prompt' with a KeyError."""
    from ponder.train import distill

    model, tok = tiny_random
    with pytest.raises(PonderError, match=r"^distill: " + msg):
        distill(model, tok, model, tok, items, lambda text, it: True, k=1, temperature=0, max_new_tokens=2,
                run_dir=tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_an_out_dir_under_a_file_is_refused_before_any_work(tiny_random, tmp_path):
    """--out below a file cannot be created: distill found out only after the teacher had sampled (its samples
    lost, a bare NotADirectoryError); pretrain and sft raised the same bare error. Refused up front, one line."""
    from ponder.train import distill

    model, tok = tiny_random
    (tmp_path / "f").write_text("a file")
    out = tmp_path / "f" / "run"
    sampled = []
    teacher, ttok = ponder.load("tiny")  # (its samples stop and are kept: the write came after them)
    with pytest.raises(PonderError, match=r"^--out .*f/run: .*f is not a directory"):
        distill(teacher, ttok, teacher, ttok, ponder.tasks.generate("arith", "test", n=2),
                lambda t, it: sampled.append(t) or True, k=1, max_new_tokens=64, run_dir=out, progress=False)
    assert not sampled
    with pytest.raises(PonderError, match=r"^--out .*f/run: .*f is not a directory"):
        sft(_copy(model), tok, SFT_EX, out, train=TrainConfig(steps=1, seq_len=32, warmup=1), progress=False)
    with pytest.raises(PonderError, match=r"^--out .*f/run: .*f is not a directory"):
        pretrain(out, DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=1), vocab_size=300, progress=False)
    assert (tmp_path / "f").read_text() == "a file"


class _Payload:  # what a hostile trainer_state.pt could hold: unpickling it would run code
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_resume_refuses_a_foreign_checkpoint_or_state_and_never_runs_code_from_it(tmp_path):
    import shutil

    a = pretrain(tmp_path / "a", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2, save_every=1),
                 vocab_size=300, progress=False)
    b = pretrain(tmp_path / "b", DOCS, model_config=ModelConfig(**{**SMALL, "hidden_size": 64}),
                 train=_train(steps=2, save_every=1), vocab_size=300, progress=False)
    state = "checkpoint/trainer_state.pt"

    def copy_of_a(name, edit):
        d = tmp_path / name
        shutil.copytree(a, d)
        edit(d)
        return d, (d / "metrics.jsonl").read_bytes()

    cases = [
        (lambda d: (shutil.rmtree(d / "checkpoint"), shutil.copytree(b / "checkpoint", d / "checkpoint")),
         r"checkpoint/ holds another model than config.json describes \(hidden_size 48 vs 64\)"),
        (lambda d: shutil.copy(b / state, d / state), "the optimizer state is for another model"),
        (lambda d: torch.save({}, d / state), "not a trainer state \\(missing step, optimizer"),
        (lambda d: torch.save({**torch.load(d / state, weights_only=True), "step": "2", "python_rng": [1]}, d / state),
         r"not a trainer state \(step, python_rng of the wrong type or value\)"),
        (lambda d: torch.save({**torch.load(d / state, weights_only=True), "step": -1, "optimizer": [],
                               "torch_rng": torch.zeros(3)}, d / state),
         r"not a trainer state \(step, optimizer, torch_rng of the wrong type or value\)"),
        (lambda d: torch.save({**torch.load(d / state, weights_only=True), "extra": _Payload(str(tmp_path / "ran"))},
                              d / state), "cannot read the trainer state"),
    ]
    for i, (edit, msg) in enumerate(cases):
        d, metrics = copy_of_a(f"d{i}", edit)
        with pytest.raises(PonderError, match=msg):
            pretrain(d, DOCS, train=_train(steps=4), resume=True, progress=False)
        assert (d / "metrics.jsonl").read_bytes() == metrics  # refused before the metrics were trimmed
    assert not (tmp_path / "ran").exists()


def test_resume_refuses_the_whole_checkpoint_of_another_run_of_the_same_model(tmp_path):
    """checkpoint/ copied from another run of the same model (an lr sweep's neighbour: its weights and trainer state
    together) passed every check and trained on silently under this run's settings and metrics. A hand edit of what
    only sets the cadence of checkpoints and held-out losses still resumes."""
    import shutil

    runs = [pretrain(tmp_path / name, DOCS, model_config=ModelConfig(**SMALL), vocab_size=300, progress=False,
                     train=_train(steps=1, lr=lr)) for name, lr in (("a", 3e-3), ("b", 1e-2))]
    a, b = runs
    shutil.rmtree(a / "checkpoint")
    shutil.copytree(b / "checkpoint", a / "checkpoint")
    metrics = (a / "metrics.jsonl").read_bytes()
    with pytest.raises(PonderError, match=r"checkpoint/trainer_state.pt: saved by a run of other settings or "
                                          r"documents than config.json's \(lr 0.01 vs 0.003\); put the run's own"):
        pretrain(a, DOCS, train=_train(steps=2), resume=True, progress=False)
    assert (a / "metrics.jsonl").read_bytes() == metrics
    # a config.json written before `compile` existed (no key: its default), resumed since: the state records False
    cfg = json.loads((b / "config.json").read_text())
    del cfg["train"]["compile"], cfg["data_sha256"]  # (and one from before the documents' digest was recorded)
    (b / "config.json").write_text(json.dumps({**cfg, "train": {**cfg["train"], "save_every": 5, "eval_every": 5}}))
    pretrain(b, DOCS, train=_train(steps=2), resume=True, progress=False)


def test_sft_resume_refuses_the_whole_checkpoint_of_another_sft_run_of_the_same_model(tmp_path, tiny_random):
    """As pretrain's: checkpoint/ copied from another sft run of the same model (its weights and trainer state
    together, past this run's own step target) resumed silently under this run's lr, config.json and metrics."""
    import shutil

    model, tok = tiny_random
    for name, lr, data, packing in (("a", 1e-3, SFT_EX, False), ("b", 5e-3, SFT_EX, False),
                                    ("c", 1e-3, SFT_EX[:-1], False), ("d", 1e-3, SFT_EX, True)):
        sft(_copy(model), tok, data, tmp_path / name, progress=False, packing=packing,
            train=TrainConfig(steps=1, batch_size=4, lr=lr, warmup=1, seq_len=64))
    for other, said in (("b", r"\(lr 0.005 vs 0.001\)"), ("c", r"\(the documents' sha256\)"),
                        ("d", r"\(packing true vs false\)")):  # (a sweep over --packing: a neighbour too)
        shutil.rmtree(tmp_path / "a" / "checkpoint")
        shutil.copytree(tmp_path / other / "checkpoint", tmp_path / "a" / "checkpoint")
        config = (tmp_path / "a" / "config.json").read_bytes()
        with pytest.raises(PonderError, match=r"checkpoint/trainer_state.pt: saved by a run of other settings or "
                                              r"documents than config.json's " + said):
            sft(None, None, SFT_EX, tmp_path / "a", resume=True, train=TrainConfig(steps=2), progress=False)
        assert (tmp_path / "a" / "config.json").read_bytes() == config
    sft(None, None, SFT_EX, tmp_path / "b", resume=True, train=TrainConfig(steps=2), progress=False)  # its own


def test_sft_hashes_its_training_data_once_per_start(tmp_path, tiny_random, monkeypatch):
    """The data's sha256 (config.json, the resume check, the trainer states' record) is taken once: a large dataset
    is hashed in seconds."""
    import ponder.train as train_mod

    model, tok = tiny_random
    digest, hashed = train_mod._digest, []
    monkeypatch.setattr(train_mod, "_digest", lambda rows: hashed.append(rows is SFT_EX) or digest(rows))
    sft(_copy(model), tok, SFT_EX, tmp_path / "r", train=TrainConfig(steps=1, batch_size=4, seq_len=32),
        progress=False)
    sft(None, None, SFT_EX, tmp_path / "r", train=TrainConfig(steps=2), resume=True, progress=False)
    assert hashed.count(True) == 2  # once per start


def test_resume_with_a_config_at_its_default_steps_keeps_the_runs_own_target(tmp_path, tiny_random):
    """pretrain/sft(train=TrainConfig(...), resume=True) with steps left out took the dataclass default of 1000 as the
    new target, rewriting config.json: a run aiming for 3 steps trained on to 1000. steps left at its default (None)
    is the run's own target, as no TrainConfig is; a number given retargets it, 1000 included; a new run trains 1000."""
    class Stop(Exception):
        pass

    def stop(row):
        raise Stop

    assert TrainConfig().validate().steps == 1000
    model, tok = tiny_random
    pretrain(tmp_path / "p", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=1), vocab_size=300,
             progress=False)
    sft(_copy(model), tok, SFT_EX, tmp_path / "s", train=TrainConfig(steps=1, batch_size=4, seq_len=32),
        progress=False)
    for name in ("p", "s"):  # runs at step 1 of 3 (steps is no setting the trainer state records)
        saved = json.loads((tmp_path / name / "config.json").read_text())
        (tmp_path / name / "config.json").write_text(json.dumps({**saved, "train": {**saved["train"], "steps": 3}}))
    resume = {"p": lambda t: pretrain(tmp_path / "p", DOCS, train=t, resume=True, progress=False, on_log=stop),
              "s": lambda t: sft(None, None, SFT_EX, tmp_path / "s", train=t, resume=True, progress=False, on_log=stop)}
    for name, go in resume.items():
        for given, target in ((TrainConfig(lr=1e-3), 3), (None, 3), (TrainConfig(steps=1000), 1000)):
            with pytest.raises(Stop):  # (the target is set before the first step)
                go(given)
            assert json.loads((tmp_path / name / "config.json").read_text())["train"]["steps"] == target, name


def test_resume_targets_are_written_back_and_hand_edited_settings_get_one_line(tmp_path):
    """A resume with more steps records them, so `--resume` alone after another interruption continues to the same
    target (the CLI's hint) and the library's resume with no TrainConfig keeps the run's own; a hand-edited
    config.json names the setting that is wrong."""
    from ponder.train import summarize_run

    run = pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2, save_every=1),
                   vocab_size=300, progress=False)
    with pytest.raises(PonderError, match="at step 2 of 2"):  # (it used to train on to TrainConfig()'s 1000)
        pretrain(run, DOCS, resume=True, progress=False)
    pretrain(run, DOCS, train=_train(steps=3), resume=True, progress=False)
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["train"]["steps"] == 3 and summarize_run(run)["steps"] == 3
    with pytest.raises(PonderError, match="at step 3 of 3"):
        pretrain(run, DOCS, resume=True, progress=False)
    for edit, msg in (({"foo": 1}, "config.json: train: unknown setting 'foo'"),
                      ({"warmup": "5"}, r"config.json: train.warmup: expected int, got \"5\""),
                      ({"threads": 2.5}, r"train.threads: expected int or None, got 2.5"),
                      ({"betas": [0.9]}, r"config.json: train: betas must be two numbers in \[0, 1\)"),
                      ({"lr": "abc"}, "train.lr: expected float")):
        (run / "config.json").write_text(json.dumps({**cfg, "train": {**cfg["train"], **edit}}))
        with pytest.raises(PonderError, match=msg):
            pretrain(run, DOCS, train=_train(steps=5), resume=True, progress=False)
    assert json.loads((run / "config.json").read_text())["train"]["lr"] == "abc"  # refused: nothing written


def test_a_diverging_run_stops_before_checkpointing_nan_and_its_summary_says_nan(tmp_path):
    """It used to train on with NaN weights, checkpoint them, and summarise the run by its last finite loss. Its
    hint, "lower --lr", led to `--resume --lr` (refused: a resume keeps the run's settings) and then to the same
    --out (refused: it holds a run): it says a new run in another --out."""
    from ponder.train import summarize_run

    with pytest.raises(PonderError, match=r"step \d+: training diverged \(loss \S+, gradient norm \S+\); the "
                                          r"step-\d+ checkpoint in .* is kept; lower --lr in a new run \(another --out: "
                                          r"--resume keeps this run's settings\)$"):
        pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL),
                 train=_train(steps=8, save_every=1, lr=1e30, warmup=1), vocab_size=300, progress=False)
    run = tmp_path / "r"
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert None in (rows[-1]["loss"], rows[-1]["grad_norm"])  # NaN is written as null (strict JSON)
    model, _ = ponder.load(run / "checkpoint")
    assert all(torch.isfinite(p).all() for p in model.parameters())  # the last checkpoint is a good one
    (run / "metrics.jsonl").write_text('{"step": 1, "loss": 2.5}\n{"step": 2, "loss": null}\n')
    last = summarize_run(run)["metrics"]["loss"]
    assert last["first"] == 2.5 and last["last"] != last["last"]  # NaN, not the last finite loss


def test_a_diverged_run_still_draws_its_training_png(tmp_path, tiny_random, plots):
    """README: every training command writes training.png with the curves. A run that stopped on a non-finite loss
    or gradient, the run whose curves one most needs to see, ended without it: it was drawn only at a finished run's
    end. It is drawn before the run stops, the diverged step included."""
    with pytest.raises(PonderError, match="training diverged"):
        pretrain(tmp_path / "p", DOCS, model_config=ModelConfig(**SMALL),
                 train=_train(steps=8, save_every=1, lr=1e30, warmup=1), vocab_size=300, progress=False)
    assert (tmp_path / "p" / "training.png").is_file()
    model = copy.deepcopy(tiny_random[0])
    with torch.no_grad():
        model.lm_head.weight.mul_(1e37)  # finite weights whose gradient overflows to a NaN norm
    ex = [{"prompt": f"What is {a} + {a}?", "response": f" {2 * a}"} for a in range(1, 5)]
    with pytest.raises(PonderError, match=r"^step 1: training diverged"):
        sft(model, tiny_random[1], ex, tmp_path / "s", train=TrainConfig(steps=3, batch_size=2, warmup=0),
            progress=False)
    assert (tmp_path / "s" / "training.png").is_file()


def test_a_diverged_run_whose_training_png_cannot_be_drawn_still_says_it_diverged(tmp_path, plots):
    """227fc18 drew training.png before stopping a diverged run; a plot that failed (the PNG not writable: here a
    directory in its place, as a full disk would) raised its own error in place of the divergence's, so the run
    ended without "training diverged" or its advice. The divergence is said, the failed plot named after it."""
    run = tmp_path / "p"
    run.mkdir()
    (run / "training.png").mkdir()
    with pytest.raises(PonderError, match=r"training diverged .*lower --lr.*\(training\.png not drawn: .*\)$"):
        pretrain(run, DOCS, model_config=ModelConfig(**SMALL),
                 train=_train(steps=8, save_every=1, lr=1e30, warmup=1), vocab_size=300, progress=False)


def test_a_diverging_sft_step_leaves_the_callers_model_at_its_last_finite_weights(tiny_random):
    """A step whose gradient is not finite was taken: AdamW made every weight of the model sft() was given NaN
    (its optimizer moments too), then the run stopped. It stops without the step: the weights stay finite."""
    model = copy.deepcopy(tiny_random[0])
    with torch.no_grad():
        model.lm_head.weight.mul_(1e37)  # finite weights whose gradient overflows to a NaN norm
    before = [p.detach().clone() for p in model.parameters()]
    ex = [{"prompt": f"What is {a} + {a}?", "response": f" {2 * a}"} for a in range(1, 5)]
    with pytest.raises(PonderError, match=r"^step 1: training diverged \(loss \S+, gradient norm nan\)"):
        sft(model, tiny_random[1], ex, train=TrainConfig(steps=3, batch_size=2, warmup=0), progress=False)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))
    assert not model.training  # (left in eval mode, as a finished run leaves it: it was left training)


def test_pretrain_refuses_a_seq_len_beyond_the_models_context_before_writing(tmp_path):
    with pytest.raises(PonderError, match="seq_len=600 exceeds the model's context of 512 positions"):
        pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**{**SMALL, "max_position_embeddings": 512}),
                 train=_train(seq_len=600), vocab_size=300, progress=False)
    assert not (tmp_path / "r").exists()


def test_bf16_on_a_cpu_without_bf16_units_warns(tmp_path, monkeypatch, capsys):
    """bench/train.py on a Zen 3 EPYC (AVX2 only): bf16 training 13x slower than fp32; the user is told."""
    from ponder import train as T

    cases = {"zen3": ("processor\t: 0\nflags\t\t: fpu avx2 fma\n", False),
             "zen4": ("flags\t\t: avx2 avx512f avx512_bf16\n", True),
             "arm": ("Features\t: fp asimd bf16\n", True), "empty": ("", None)}
    for name, (text, want) in cases.items():
        (tmp_path / name).write_text(text)
        assert T.cpu_has_bf16(str(tmp_path / name)) is want, name
    assert T.cpu_has_bf16(str(tmp_path / "missing")) is None
    monkeypatch.setattr(T, "cpu_has_bf16", lambda: False)
    for bf16 in (False, True):
        pretrain(tmp_path / f"r{bf16}", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=1, bf16=bf16),
                 vocab_size=300, progress=False)
        assert ("pretrain: --bf16 on a CPU without bf16 instructions" in capsys.readouterr().err) is bf16


def test_grad_accum_splits_a_step_without_changing_it(tmp_path, tiny_random):
    """Gradient accumulation is a memory knob: the losses and the trained weights of pretrain and sft are those
    of the whole batch at once (to fp32 rounding), for a split that divides the batch and one that does not
    (16 rows by 3: micro-batches of 6, 6 and 4, not 5, 5, 5 and 1)."""
    losses = {}
    for ga in (1, 3, 4):
        rows = []
        run = pretrain(tmp_path / f"p{ga}", DOCS, model_config=ModelConfig(**SMALL),
                       train=_train(steps=4, batch_size=16, grad_accum=ga), vocab_size=300, progress=False,
                       on_log=rows.append)
        losses[ga] = [r["loss"] for r in rows], ponder.load(run / "checkpoint")[0].state_dict()
    for ga in (3, 4):
        assert losses[ga][0] == pytest.approx(losses[1][0], abs=1e-5)
        assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(losses[ga][1].values(), losses[1][1].values()))
    model, tok = tiny_random
    outs = {}
    for ga in (1, 3):
        m, rows = _copy(model), []
        sft(m, tok, SFT_EX, train=TrainConfig(steps=3, batch_size=8, seq_len=32, grad_accum=ga), progress=False,
            on_log=rows.append)
        outs[ga] = [r["loss"] for r in rows], m.state_dict()
    assert outs[3][0] == pytest.approx(outs[1][0], abs=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(outs[3][1].values(), outs[1][1].values()))


def test_pretrain_leaves_the_callers_model_config_as_it_was(tmp_path):
    """The config given is a recipe, not the model's own: training twice from one ModelConfig object builds the
    model a fresh copy of it would (the first run's tokenizer grew the caller's vocab_size, so every later model
    built from that object was wider)."""
    from dataclasses import asdict

    cfg = ModelConfig(**SMALL)
    before = asdict(cfg)
    pretrain(tmp_path / "a", DOCS, model_config=cfg, train=_train(steps=1), vocab_size=400, progress=False)
    again = pretrain(tmp_path / "b", DOCS, model_config=cfg, train=_train(steps=1), vocab_size=280, progress=False)
    fresh = pretrain(tmp_path / "c", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=1), vocab_size=280,
                     progress=False)
    assert ponder.load(again / "checkpoint")[0].config.vocab_size == SMALL["vocab_size"]
    ma, mb = ponder.load(again / "checkpoint")[0], ponder.load(fresh / "checkpoint")[0]
    for (n, p), q in zip(ma.state_dict().items(), mb.state_dict().values()):
        assert torch.equal(p, q), n
    assert asdict(cfg) == before


def test_pretrain_says_when_documents_do_not_end_with_eos(tmp_path, capsys):
    """Plain-text documents (no <|endoftext|>) packed several to a row ran on into each other with nothing between
    them, and the model never saw EOS: it never learnt to stop, with nothing said. Documents that end with it (the
    corpus's) say nothing."""
    for name, docs in (("plain", [d.removesuffix("<|endoftext|>") for d in DOCS[:30]] + DOCS[30:40]), ("ended", DOCS[:40])):
        pretrain(tmp_path / name, docs, model_config=ModelConfig(**SMALL), vocab_size=300, progress=False,
                 train=_train(steps=1))
        said = "pretrain: 30 of 40 documents do not end with <|endoftext|>: packed into one row, each runs on"
        assert (said in capsys.readouterr().err) == (name == "plain")


def test_pretrain_says_when_heldout_documents_are_training_documents(tmp_path, capsys):
    """heldout_docs=docs[:16] (a slice of the training documents) logged a heldout_loss of documents the run trains
    on, with nothing said (sft says so of its validation examples); held-out documents of their own say nothing."""
    for name, held, said in (("shared", DOCS[:16] + ["Problem: 99 + 1 = ?<|endoftext|>"], "16 of the 17"),
                             ("own", ["Problem: 99 + 1 = ?<|endoftext|>"], None)):
        pretrain(tmp_path / name, DOCS[16:] if said is None else DOCS, model_config=ModelConfig(**SMALL),
                 vocab_size=300, heldout_docs=held, progress=False, train=_train(steps=1))
        err = capsys.readouterr().err
        assert (f"pretrain: {said} held-out documents are also training documents" in err) if said else \
            "held-out" not in err


def test_pretraining_never_steps_on_rows_without_a_target(tmp_path):
    """A one-token document alone in its row (the next document did not fit) has nothing to predict: a batch of
    only such rows divided by zero tokens. Every step trains on tokens; a corpus of empty text is one line."""
    docs = [x for d in DOCS[:20] for x in ("7", d)]
    run = pretrain(tmp_path / "r", docs, model_config=ModelConfig(**SMALL), vocab_size=300, progress=False,
                   train=_train(steps=20, batch_size=1, seq_len=16))
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 20 and all(r["loss"] > 0 for r in rows)
    for docs, held in (([""] * 3, None), (DOCS, [""])):
        with pytest.raises(PonderError, match="no (held-out )?document has two tokens"):
            pretrain(tmp_path / f"e{len(docs)}", docs, model_config=ModelConfig(**SMALL), vocab_size=300,
                     heldout_docs=held, progress=False, train=_train(steps=1))
        assert not (tmp_path / f"e{len(docs)}").exists()  # nothing half-made, not even an empty folder


@pytest.mark.parametrize("bad", [dict(seed=1.5), dict(seed="0"), dict(threads=1.5), dict(warmup="10"),
                                 dict(min_lr_ratio=None), dict(weight_decay=float("inf")), dict(warmup=float("nan")),
                                 dict(warmup=2.5), dict(warmup=2.0), dict(bf16=1), dict(compile="no"),
                                 dict(lr=True), dict(grad_clip=True), dict(betas=0.9)])
def test_train_config_refuses_every_bad_setting_in_one_line_before_writing(tmp_path, bad):
    """validate() promises one line per bad setting before anything is written: a float seed or thread count
    failed inside torch, a text warmup with a TypeError, an infinite weight decay trained to NaN. A fractional
    warmup took the learning rate past its peak (warmup 2.5: 1.2x lr at step 2), and a float warmup (even 2.0),
    a bf16 of 1 or a compile of "no" trained a run whose config.json --resume then refused (an int, a bool wanted),
    as did an lr or grad_clip of True (a float wanted); betas of one number failed with a TypeError."""
    name = next(iter(bad))
    with pytest.raises(PonderError, match=name):
        pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2, **bad),
                 vocab_size=300, progress=False)
    assert not (tmp_path / "r").exists()


def test_pretrain_resume_refuses_other_documents(tmp_path):
    """Batches are row numbers into whatever is packed: resumed on other documents, a run trained on them silently
    (the command line rebuilt the tiny recipe's corpus for a run the Python API had made on its own documents)."""
    from ponder.cli import main

    run = pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2, save_every=1),
                   vocab_size=300, progress=False)
    before = {f: (run / f).read_bytes() for f in ("config.json", "metrics.jsonl")}
    with pytest.raises(PonderError, match="documents differ from the run's own"):
        pretrain(run, [d.replace("+", "*") for d in DOCS], train=_train(steps=4), resume=True, progress=False)
    assert main(["pretrain", "--out", str(run), "--resume", "--steps", "4", "--quiet"]) == 2
    assert {f: (run / f).read_bytes() for f in before} == before
    pretrain(run, DOCS, train=_train(steps=3), resume=True, progress=False)  # its own documents: continues
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 3


def test_pretrain_resume_refuses_other_heldout_documents(tmp_path):
    """The held-out loss is measured on one set throughout a run: resumed without its held-out documents the run
    silently stopped logging heldout_loss, resumed on others it logged a loss on another set (SFT refuses both
    for its validation data). Checked before anything is written; the run's own set resumes."""
    run = pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2, save_every=1,
                   eval_every=1), vocab_size=300, heldout_docs=DOCS[:8], progress=False)
    before = {f: (run / f).read_bytes() for f in ("config.json", "metrics.jsonl")}
    for held in (None, DOCS[8:16]):
        with pytest.raises(PonderError, match="held-out documents differ from the run's own"):
            pretrain(run, DOCS, train=_train(steps=3), resume=True, heldout_docs=held, progress=False)
    assert {f: (run / f).read_bytes() for f in before} == before
    pretrain(run, DOCS, train=_train(steps=3), resume=True, heldout_docs=DOCS[:8], progress=False)
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "heldout_loss" in r] == [1, 2, 3]
    plain = pretrain(tmp_path / "p", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=1), vocab_size=300,
                     progress=False)
    with pytest.raises(PonderError, match="held-out documents differ from the run's own"):
        pretrain(plain, DOCS, train=_train(steps=2), resume=True, heldout_docs=DOCS[:8], progress=False)


def test_sft_device_is_for_a_resumed_run(tmp_path, tiny_random):
    """sft(device=) moves a resumed run (`ponder sft --resume --device`); a new run trains where its model is,
    so device= there would be ignored: refused before any work."""
    model, tok = tiny_random
    with pytest.raises(PonderError, match="device= moves a resumed run"):
        sft(model, tok, SFT_EX, tmp_path / "r", train=TrainConfig(steps=1), device="cpu", progress=False)
    assert not (tmp_path / "r").exists()


def test_sft_resume_on_another_device_refused_leaves_config_json_as_it_was(tmp_path, tiny_random):
    """sft(resume=True, device=) recorded the new device in config.json before checking the data and the steps
    left: a refused resume (other data, a finished run) still moved the run, so the next plain --resume went to
    the device of the attempt that was refused."""
    model, tok = tiny_random
    run = tmp_path / "r"
    sft(_copy(model), tok, SFT_EX, run, train=TrainConfig(steps=1, batch_size=4, seq_len=64), progress=False)
    cfg = json.loads((run / "config.json").read_text())
    cfg["sft"] = {**(cfg.get("sft") or {}), "device": "meta"}  # (another device than the one it resumes on)
    (run / "config.json").write_text(json.dumps(cfg, indent=2))
    before = (run / "config.json").read_bytes()
    with pytest.raises(PonderError, match="training data differs"):
        sft(None, None, SFT_EX[:-1], run, resume=True, device="cpu", progress=False)
    with pytest.raises(PonderError, match="at step 1 of 1"):
        sft(None, None, SFT_EX, run, resume=True, device="cpu", progress=False)
    assert (run / "config.json").read_bytes() == before
    sft(None, None, SFT_EX, run, train=TrainConfig(steps=2), resume=True, device="cpu", progress=False)
    saved = json.loads((run / "config.json").read_text())
    assert (saved["sft"]["device"], saved["train"]["steps"]) == ("cpu", 2)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a run from a GPU, resumed where there is none")
def test_resuming_a_gpu_grpo_run_where_there_is_none_says_so_without_advising_a_refused_option(tmp_path):
    """A grpo run recorded on cuda:0, resumed without a GPU, said "use --device cpu", which --resume refuses (a
    grpo run continues on its own device): the one line now says what the run needs."""
    from ponder.train import load_run

    (tmp_path / "checkpoint").mkdir()
    (tmp_path / "checkpoint" / "trainer_state.pt").write_bytes(b"")
    (tmp_path / "config.json").write_text(json.dumps({"kind": "grpo", "grpo": {"device": "cuda:0"}}))
    with pytest.raises(PonderError, match=r"trained on 'cuda:0', which is not available here; resume it on a "
                                          r"machine that has it$"):
        load_run(tmp_path, "grpo")


def tag_tensors_as_cuda(f):
    """Re-save a torch file with its tensors tagged as CUDA storage (what torch.save writes for a GPU run's
    tensors): loading it without map_location fails here as a GPU run's file does where there is no GPU. Returns
    what the file holds."""
    import torch.serialization as ser

    state = torch.load(f, weights_only=True)
    tag = ser.location_tag
    ser.location_tag = lambda storage: "cuda:0"
    try:
        torch.save(state, f)
    finally:
        ser.location_tag = tag
    return state


def test_resumed_trainer_state_is_read_onto_the_cpu(tmp_path):
    """load_run read the trainer state onto the devices it was saved from when the run resumed where it trained:
    under torchrun on N GPUs every rank loaded rank 0's optimizer state onto cuda:0. It is now always read onto
    the CPU (the optimizer moves it to its parameters), and the resumed run is unchanged: a state tagged as CUDA
    storage (what a GPU run writes; no GPU needed) loads, and resumes exactly as the untouched one."""
    import shutil

    from ponder.train import load_run

    a = pretrain(tmp_path / "a", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2, save_every=2),
                 vocab_size=300, progress=False)
    b = tmp_path / "b"
    shutil.copytree(a, b)
    state = tag_tensors_as_cuda(b / "checkpoint" / "trainer_state.pt")
    loaded = load_run(b, "pretrain")[2]
    tensors = [t for t in torch.utils._pytree.tree_leaves(loaded) if isinstance(t, torch.Tensor)]
    assert len(tensors) > 2 and all(t.device.type == "cpu" for t in tensors)
    assert loaded.pop("weights_sha256") == state.pop("weights_sha256")  # (a str: assert_close compares tensors)
    assert loaded.pop("extra") == state.pop("extra")  # (the run's settings and documents' digest: strs too)
    torch.testing.assert_close(loaded, state, rtol=0, atol=0)
    for run in (a, b):
        pretrain(run, DOCS, train=_train(steps=4), resume=True, progress=False)
    rows = [[{k: v for k, v in json.loads(x).items() if not k.endswith("_per_s")}
             for x in (run / "metrics.jsonl").read_text().splitlines()] for run in (a, b)]
    assert rows[0] == rows[1] and [r["step"] for r in rows[0]] == [1, 2, 3, 4]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_fresh_run_dir_refuses_a_folder_that_takes_no_files_even_as_root(tmp_path):
    """fresh_run_dir trusted os.access, which says yes to root for /proc or a read-only mount: `distill --out
    /proc/run` sampled every teacher sample, then failed with a bare FileNotFoundError at the first write (as
    check_writable did before it tried the write). An ordinary folder keeps nothing of the check."""
    from pathlib import Path

    from ponder.train import fresh_run_dir

    with pytest.raises(PonderError, match=r"^--out /proc/ponder-run: cannot create it in /proc \("):
        fresh_run_dir(Path("/proc/ponder-run"))
    fresh_run_dir(tmp_path / "run")
    (tmp_path / "d").mkdir()
    fresh_run_dir(tmp_path / "d")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["d"]


def test_distill_scores_prompts_that_open_the_thinking_as_the_format_reward_wants(tokenizer):
    """A Reward is told which prompts end with "<think>" (as GRPO's rollouts tell it): with the format reward
    primary, a completion of "q<think>" that closes its thinking and answers was rejected for not opening it,
    so every sample of such prompts was. A prompt that does not open it still needs its completion to."""
    from test_scale import think_tag_model

    from ponder.train import distill
    from ponder.verify.registry import get_reward

    tok = tokenizer
    teacher = think_tag_model(tok, [("q<think>", "z</think>\\boxed{7}"), ("p", "w")])
    items = [{"prompt": "q<think>"}, {"prompt": "p"}]
    train = TrainConfig(steps=1, batch_size=1, seq_len=32)
    rep = distill(teacher, tok, copy.deepcopy(teacher), tok, items, get_reward("format"), k=2, max_new_tokens=12,
                  train=train, progress=False)
    assert (rep["kept"], rep["prompts_with_a_kept_sample"]) == (1, 1)
    # a user's callable(text, item) is called as it always was
    seen = []
    rep = distill(teacher, tok, copy.deepcopy(teacher), tok, items, lambda t, it: seen.append((t, it)) or True,
                  k=2, max_new_tokens=12, train=train, progress=False)
    assert sorted(t for t, _ in seen) == ["w", "z</think>\\boxed{7}"] and rep["kept"] == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU run's trainer state, resumed where there is none")
def test_a_trainer_state_with_gpu_rng_states_resumes_without_a_gpu(tmp_path):
    """The trainer state keeps every GPU's RNG state where the run used CUDA (attention dropout draws from it);
    a CPU run's state has none, and still resumes as it did. A state from a machine with 2 GPUs (its "cuda_rng"
    entry) resumes here, with no GPU, exactly as the same state without it: the GPU states go back only to GPUs
    that are there."""
    import shutil

    a = pretrain(tmp_path / "a", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2, save_every=2),
                 vocab_size=300, progress=False)
    sf = a / "checkpoint" / "trainer_state.pt"
    state = torch.load(sf, weights_only=True)
    assert "cuda_rng" not in state and {"torch_rng", "python_rng"} <= set(state)
    b = tmp_path / "b"
    shutil.copytree(a, b)
    torch.save({**state, "cuda_rng": [torch.zeros(16, dtype=torch.uint8)] * 2}, b / "checkpoint" / "trainer_state.pt")
    for run in (a, b):
        pretrain(run, DOCS, train=_train(steps=4), resume=True, progress=False)
    rows = [[{k: v for k, v in json.loads(x).items() if not k.endswith("_per_s")}
             for x in (run / "metrics.jsonl").read_text().splitlines()] for run in (a, b)]
    assert rows[0] == rows[1] and [r["step"] for r in rows[0]] == [1, 2, 3, 4]


def test_python_random_resumes_through_the_saved_trainer_state(tmp_path):
    """Python's `random` state was saved in the trainer state but never put back: a user's reward function or
    data hook drawing from it redrew from wherever the resuming process stood, not where the run stopped."""
    import random

    from ponder.train import restore_rng, rng_state

    random.seed(7)
    torch.save(rng_state(), tmp_path / "s.pt")
    want = [random.random() for _ in range(3)]
    random.seed(8)  # a fresh process: anything but the saved state
    restore_rng(torch.load(tmp_path / "s.pt", weights_only=True))
    assert [random.random() for _ in range(3)] == want


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_sft_with_attention_dropout_on_a_gpu_resumes_bit_exactly(tmp_path, tokenizer):
    """Attention dropout on a GPU draws from the GPU's generator: with only the CPU's RNG state saved, a resumed
    run redrew the masks from the seed and parted from the uninterrupted one."""
    cfg = ModelConfig(vocab_size=320, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, attention_dropout=0.3)
    model = ponder.Transformer(cfg).init_weights(0, std=0.2).to("cuda")
    train = TrainConfig(steps=6, batch_size=4, lr=1e-3, warmup=2, save_every=3, seq_len=64)
    sft(_copy(model).to("cuda"), tokenizer, SFT_EX, tmp_path / "a", train=train, progress=False)

    def die(row):  # a crash after the step-3 checkpoint
        if row["step"] == 4:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        sft(_copy(model).to("cuda"), tokenizer, SFT_EX, tmp_path / "b", train=train, progress=False, on_log=die)
    assert "cuda_rng" in torch.load(tmp_path / "b" / "checkpoint" / "trainer_state.pt", weights_only=True)
    sft(None, None, SFT_EX, tmp_path / "b", resume=True, progress=False)
    rows = [[{k: v for k, v in json.loads(x).items() if not k.endswith("_per_s")}
             for x in (tmp_path / d / "metrics.jsonl").read_text().splitlines()] for d in "ab"]
    assert len(rows[0]) == 5 and rows[0] == rows[1]


def test_a_resume_to_a_step_already_passed_says_so(tmp_path, monkeypatch):
    """`ponder sft --out RUN --resume --steps 5` on a run at step 10 said "the run is at step 10 of 5": a target
    behind the run is named as one, and a run at its own target keeps "step N of N"."""
    from ponder.train import check_steps_left

    monkeypatch.chdir(tmp_path)
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "training.png").write_bytes(b"")
    with pytest.raises(PonderError, match=r"^r: the run is at step 10, past the target of 5 steps; "
                                          r"pass --steps N \(N > 10\) to train further$"):
        check_steps_left("r", 10, 5)
    with pytest.raises(PonderError, match=r"^r: the run is at step 5 of 5; pass --steps N \(N > 5\)"):
        check_steps_left("r", 5, 5)
    check_steps_left("r", 4, 5)


def test_a_finished_run_killed_before_its_plot_says_how_to_draw_it(tmp_path):
    """A run killed after its last checkpoint but before training.png: --resume said only "pass --steps N", and
    nothing said how to get the run's curves."""
    from ponder.train import check_steps_left

    with pytest.raises(PonderError, match=rf"^{tmp_path}: the run is at step 8 of 8; pass --steps N \(N > 8\) to "
                                          rf"train further; `ponder report {tmp_path}` draws its plots$"):
        check_steps_left(tmp_path, 8, 8)


def test_the_report_hint_of_a_finished_run_quotes_its_path(tmp_path):
    """The hint "`ponder report RUN` draws its plots" named a run directory with a space bare (`ponder report
    runs/my run`), a command that, pasted, reports on 'runs/my' and fails on 'run'; it is quoted for the shell,
    as the CLI's 'continue with:' hints are."""
    import shlex

    from ponder.train import check_steps_left

    run = tmp_path / "my run"
    run.mkdir()
    with pytest.raises(PonderError) as e:
        check_steps_left(run, 8, 8)
    cmd = str(e.value).split("`")[1]
    assert shlex.split(cmd) == ["ponder", "report", str(run)]


def test_run_summary_says_one_step_in_the_singular():
    """A run's summary read "grpo: 1 steps, 1 alarm(s)"."""
    from ponder.train import format_run_summary

    s = {"kind": "grpo", "steps": 1, "alarms": 1, "run_dir": "r", "metrics": {}, "checkpoint": "r/checkpoint"}
    assert format_run_summary(s).startswith("grpo: 1 step, 1 alarm; run directory r")
    assert format_run_summary({**s, "steps": 2, "alarms": 0}).startswith("grpo: 2 steps, 0 alarms;")


def test_tiny_model_config_derives_a_valid_shape_from_hidden_or_refuses_it():
    """`ponder pretrain --hidden H` set max(1, H // 32) heads of the recipe's 32 dims and half as many key/value
    heads, unchecked: --hidden 16 built one head twice as wide as the hidden size, --hidden 48 one head 32 wide
    (as --hidden 32), --hidden 160 five heads over two key/value heads (a torch RuntimeError in attention, the
    run's directory already written). Every hidden size taken now gets heads that tile it, as the recipe's
    4 x 32 = 128; the others are refused in one line."""
    from ponder.train import TINY_MODEL, tiny_model_config

    assert tiny_model_config() == TINY_MODEL == tiny_model_config(TINY_MODEL.hidden_size)  # the recipe, unchanged
    assert tiny_model_config(layers=2) == ModelConfig(**{**TINY_MODEL.__dict__, "num_hidden_layers": 2})
    taken = 0
    for h in range(1, 1025):
        try:
            mc = tiny_model_config(h)
        except PonderError as e:
            assert str(e).startswith(f"--hidden {h}: ") and "\n" not in str(e)
            continue
        taken += 1
        assert mc.num_attention_heads * mc.head_dim == mc.hidden_size == h and mc.head_dim == TINY_MODEL.head_dim
        assert mc.num_attention_heads % mc.num_key_value_heads == 0 and mc.intermediate_size == 3 * h
        assert mc.num_key_value_heads == max(1, mc.num_attention_heads // 2)
        ModelConfig(**mc.__dict__)  # (a shape the model validates)
    assert taken == len([h for h in range(32, 1025, 32) if (h // 32) in (1, 3) or h // 32 % 2 == 0])
    for h, msg in ((16, "must be a multiple of 32, the width of each derived attention head (16 would get 1 head, "
                        "32 wide)"),
                   (48, "must be a multiple of 32"),
                   (160, "its 5 attention heads (hidden/32) are no multiple of its 2 key/value heads")):
        with pytest.raises(PonderError, match=f"^--hidden {h}: " + re.escape(msg)):
            tiny_model_config(h)


@pytest.mark.parametrize("name", ["sft.jsonl", "sft.parquet"])
def test_sft_data_left_as_a_git_lfs_pointer_is_named_so(tmp_path, name):
    """A hub dataset cloned without git-lfs: its SFT file failed as "invalid JSON" or "magic bytes not found"."""
    from ponder.train import load_sft_examples

    p = tmp_path / name
    p.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 123456\n")
    with pytest.raises(PonderError, match="a Git LFS pointer, not the data: fetch it with `git lfs pull`"):
        load_sft_examples(p)


def test_distill_takes_a_reward_spec_as_grpo_does_and_refuses_a_non_callable_before_sampling(tokenizer, tmp_path,
                                                                                          capsys):
    """distill(reward="math") (a verifier spec, as GRPOConfig.reward and `--reward` take) sampled the teacher, then
    failed with "TypeError: 'str' object is not callable"; a callable returning a RewardResult (a Reward wrapped)
    kept every sample, the result being truthy whatever its verdict. A spec is built into a Reward, a RewardResult
    is read by its `correct`, and what is neither callable nor a spec is refused before the teacher samples."""
    from test_scale import think_tag_model

    from ponder.train import distill
    from ponder.verify.registry import get_reward

    tok = tokenizer
    teacher = think_tag_model(tok, [("p", "\\boxed{2}"), ("q", "9")])
    items = [{"prompt": "p", "answer": "2"}, {"prompt": "q", "answer": "4"}]  # p's sample is right, q's wrong
    train = TrainConfig(steps=1, batch_size=1, seq_len=32)
    math = get_reward("math")
    for reward in ("math", {"math": 1.0}, lambda text, it: math(text, it)):
        rep = distill(teacher, tok, copy.deepcopy(teacher), tok, items, reward, k=1, temperature=0,
                      max_new_tokens=12, train=train, progress=False)
        assert (rep["kept"], rep["prompts_with_a_kept_sample"]) == (1, 1)
    for reward, msg in ((5, r"reward must be a callable\(text, item\) or a verifier spec such as 'math', got int 5"),
                        ("nonesuch", "unknown verifier 'nonesuch'")):
        with pytest.raises(PonderError, match=msg):
            distill(teacher, tok, copy.deepcopy(teacher), tok, items, reward, k=1, temperature=0, max_new_tokens=12,
                    run_dir=tmp_path / "r", train=train, progress=True)
        assert "teacher samples" not in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_distill_refuses_prompts_sft_would_refuse_before_sampling(tokenizer, tmp_path, capsys):
    """A blank prompt (or malformed chat messages) passed distill's item check: the teacher sampled it, and sft then
    refused every kept row of it ("'prompt' is empty"), the sampling lost. Checked as sft checks a row, up front,
    naming the item."""
    from test_scale import think_tag_model

    from ponder.train import distill

    tok = tokenizer
    teacher = think_tag_model(tok, [("p", "\\boxed{2}"), ("  ", "7")])
    train = TrainConfig(steps=1, batch_size=1, seq_len=32)
    for prompt, msg in (("  ", r"items\[1\]: 'prompt' is empty"),
                        ([{"role": "human", "content": "hi"}], r"items\[1\]: prompt\[0\]: unknown role 'human'")):
        with pytest.raises(PonderError, match=r"^distill: " + msg):
            distill(teacher, tok, copy.deepcopy(teacher), tok, [{"prompt": "p"}, {"prompt": prompt}],
                    lambda text, it: True, k=1, temperature=0, max_new_tokens=12, run_dir=tmp_path / "r",
                    train=train, progress=True)
        assert "teacher samples" not in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_distill_refuses_items_its_verifier_cannot_judge_before_sampling(tokenizer, tmp_path, capsys):
    """An item without the fields its verifier reads (`ponder distill --task arith --reward countdown`: no
    numbers; an item without an answer under math) failed at the verifier, after the teacher had sampled every
    prompt. Checked up front as grpo checks its items, naming the item; a plain callable is not asked."""
    from test_scale import think_tag_model

    from ponder.train import distill

    tok = tokenizer
    teacher = think_tag_model(tok, [("p", "\\boxed{2}"), ("q", "9")])
    train = TrainConfig(steps=1, batch_size=1, seq_len=32)
    items = [{"prompt": "p", "answer": "2"}, {"prompt": "q"}]
    for reward, msg, its in (("math", r"items\[1\]: reward 'math': field 'answer' is missing or null", items),
                             ("countdown", r"items\[0\]: reward 'countdown': field 'numbers'", items),
                             # (a placeholder gold: nothing of its prompt kept, unsaid)
                             ("math", r"items\[1\]: reward 'math': field 'answer' is '####'",
                              [items[0], {"prompt": "q", "answer": "####"}])):
        with pytest.raises(PonderError, match=r"^distill: " + msg):
            distill(teacher, tok, copy.deepcopy(teacher), tok, its, reward, k=1, temperature=0,
                    max_new_tokens=12, run_dir=tmp_path / "r", train=train, progress=True)
        assert "teacher samples" not in capsys.readouterr().err and not (tmp_path / "r").exists()
    rep = distill(teacher, tok, copy.deepcopy(teacher), tok, items, lambda text, it: text == "9", k=1, temperature=0,
                  max_new_tokens=12, train=train, progress=False)
    assert rep["kept"] == 1


def test_distill_refuses_prompts_that_fill_seq_len_before_sampling(tokenizer, tmp_path, capsys):
    """Prompts of seq_len + 1 tokens or more leave a kept sample no response token to train on: the teacher sampled
    every prompt, then sft refused ("no response token within seq_len"). Refused before sampling when every prompt
    does; a prompt of seq_len tokens still trains on its response's first token."""
    from test_scale import think_tag_model

    from ponder.train import distill

    tok = tokenizer
    prompt = "1 + 2 + 3 ="
    teacher = think_tag_model(tok, [(prompt, "\\boxed{6}")])
    n = len(tok.encode(prompt, add_special_tokens=True))
    with pytest.raises(PonderError, match=rf"^distill: every prompt is {n} or more of the student's tokens: at "
                                          rf"--seq-len {n - 1} no response token would be trained on"):
        distill(teacher, tok, copy.deepcopy(teacher), tok, [{"prompt": prompt}], lambda t, it: True, k=1,
                temperature=0, max_new_tokens=12, run_dir=tmp_path / "r",
                train=TrainConfig(steps=1, batch_size=1, seq_len=n - 1), progress=True)
    assert "teacher samples" not in capsys.readouterr().err and not (tmp_path / "r").exists()
    rep = distill(teacher, tok, copy.deepcopy(teacher), tok, [{"prompt": prompt}], lambda t, it: True, k=1,
                  temperature=0, max_new_tokens=12, train=TrainConfig(steps=1, batch_size=1, seq_len=n), progress=False)
    assert rep["kept"] == 1 and rep["final"]["examples_dropped"] == 0


def test_distill_counts_the_accepted_copies_it_leaves_out(tokenizer, tmp_path):
    """k samples that all give the same right answer keep one copy: the report said "kept 1 of 3 (33.3%)", read as
    two rejected by the verifier. Every sample is kept, cut, empty, rejected or a counted copy of a kept one; the
    counts are in the run's config.json as --json prints them."""
    from test_scale import think_tag_model

    from ponder.train import distill

    tok = tokenizer
    teacher = think_tag_model(tok, [("p", "\\boxed{2}"), ("q", "9")])
    items = [{"prompt": "p", "answer": "2"}, {"prompt": "q", "answer": "4"}]
    rep = distill(teacher, tok, copy.deepcopy(teacher), tok, items, "math", k=3, temperature=0.05,
                  max_new_tokens=12, run_dir=tmp_path / "r", train=TrainConfig(steps=1, batch_size=1, seq_len=32),
                  progress=False)
    assert (rep["sampled"], rep["kept"], rep["duplicates"], rep["prompts_with_a_kept_sample"]) == (6, 1, 2, 1)
    data = json.loads((tmp_path / "r" / "config.json").read_text())["data"]
    assert data["distill"] == {k: v for k, v in rep.items() if k != "final"}
    # and how distilled.jsonl was made: the run directory named neither the verifier nor the sampling settings
    made = data["sampling"]
    assert {k: made[k] for k in ("teacher", "reward", "k", "temperature", "max_new_tokens", "seed", "items")} == {
        "teacher": None, "reward": [["math", 1.0]], "k": 3, "temperature": 0.05, "max_new_tokens": 12, "seed": 0,
        "items": 2}
    assert len(made["items_sha256"]) == 64


def test_distill_records_numpy_sampling_settings_it_accepted(tokenizer, tmp_path):
    """A numpy temperature, max_new_tokens or seed (a grid of settings) passes the sampling checks; the run's record
    of them failed json.dumps with a bare TypeError once the teacher had sampled: they are recorded as numbers."""
    import numpy as np
    from test_scale import think_tag_model

    from ponder.train import distill

    teacher = think_tag_model(tokenizer, [("p", "\\boxed{2}")])
    distill(teacher, tokenizer, copy.deepcopy(teacher), tokenizer, [{"prompt": "p", "answer": "2"}], "math", k=2,
            temperature=np.float32(0.5), max_new_tokens=np.int64(12), seed=np.int64(1), run_dir=tmp_path / "r",
            train=TrainConfig(steps=1, batch_size=1, seq_len=32), progress=False)
    made = json.loads((tmp_path / "r" / "config.json").read_text())["data"]["sampling"]
    assert (made["temperature"], made["max_new_tokens"], made["seed"]) == (0.5, 12, 1)


def test_distill_refuses_countdown_items_judged_by_math_before_sampling(tokenizer, tmp_path, capsys):
    """`ponder distill --task countdown --reward math`: the math verifier compares values, so a teacher sample that
    only wrote the target ("\\boxed{96}", no expression) was kept and the student trained on it. Refused before
    the teacher samples; math as a secondary term (correct is the primary's) and countdown itself are fine."""
    from test_scale import think_tag_model

    from ponder.train import distill
    from ponder.verify.registry import get_reward

    tok = tokenizer
    teacher = think_tag_model(tok, [("p", "\\boxed{96}")])
    item = {"prompt": "p", "task": "countdown", "numbers": [3, 8, 9], "target": 96, "answer": "8 * (3 + 9)"}
    assert get_reward("math")("\\boxed{96}", item).correct  # what would have been kept
    train = TrainConfig(steps=1, batch_size=1, seq_len=32)
    for reward in ("math", "math+0.1*format"):
        with pytest.raises(PonderError, match=r"^distill: items\[0\] is a countdown item.*use --reward countdown$"):
            distill(teacher, tok, copy.deepcopy(teacher), tok, [item], reward, k=1, temperature=0,
                    max_new_tokens=12, run_dir=tmp_path / "r", train=train, progress=True)
        assert "teacher samples" not in capsys.readouterr().err and not (tmp_path / "r").exists()
    with pytest.raises(PonderError, match="kept none of 1 teacher sample: 1 rejected by the verifier"):
        distill(teacher, tok, copy.deepcopy(teacher), tok, [item], "countdown+0.1*math", k=1, temperature=0,
                max_new_tokens=12, train=train, progress=False)


@pytest.mark.parametrize("kw, msg", [(dict(max_new_tokens=None), "max_new_tokens must be a positive integer, got None"),
                                     (dict(max_new_tokens="64"), "max_new_tokens must be a positive integer"),
                                     (dict(temperature=-1.0), r"temperature must be a finite number >= 0, got -1.0"),
                                     (dict(seed=-1), r"seed must be an integer in \[0, 2\*\*63\)")])
def test_distill_refuses_bad_sampling_settings_in_one_line_before_anything(tiny_random, tmp_path, capsys, kw, msg):
    """max_new_tokens=None (or "64") failed with a bare TypeError in distill's context check; a negative
    temperature or seed reached sample() only once the progress bar was up (`ponder distill --temperature -1`:
    after both models had loaded). check_distill_sampling checks them all, first."""
    from ponder.train import distill

    model, tok = tiny_random
    with pytest.raises(PonderError, match=r"^distill: " + msg):
        distill(model, tok, model, tok, [{"prompt": "1 + 1 ="}], lambda text, it: True,
                **{"k": 1, "max_new_tokens": 4, **kw}, run_dir=tmp_path / "r", progress=True)
    assert "teacher samples" not in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_sft_resume_with_validation_data_the_run_never_had_says_so(tmp_path, tiny_random):
    """Validation rows given to the resume of a run made without any were refused as "the validation data differs
    from the run's own (sha256 None); resume with the same data": there is no such data to resume with."""
    model, tok = tiny_random
    sft(_copy(model), tok, SFT_EX, tmp_path / "r", train=TrainConfig(steps=1, batch_size=2, seq_len=32),
        progress=False)
    with pytest.raises(PonderError, match=r"^\S+: the run has no validation data \(it measures no val_loss\); resume "
                                          r"without it \(drop --val-data\)"):
        sft(None, None, SFT_EX, tmp_path / "r", resume=True, val_examples=SFT_EX[:2], progress=False)


def test_sft_measures_val_loss_in_micro_batches_no_larger_than_trainings(tiny_random, monkeypatch):
    """--grad-accum splits a step into micro-batches to fit memory, but val_loss ran 32 rows at a time whatever the
    split: a run that trained fine ran out of memory at its first evaluation. It runs in the training's micro-batches
    (the same mean over every validation response token)."""
    import ponder.train as train_mod

    model, tok = tiny_random
    want = sft(_copy(model), tok, SFT_EX, train=TrainConfig(steps=1, batch_size=4, seq_len=32), val_examples=SFT_EX,
               progress=False)["val_loss"]
    rows, loss = [], train_mod.response_loss
    monkeypatch.setattr(train_mod, "response_loss", lambda m, ids, *a, **k: rows.append(ids.shape[0]) or loss(m, ids, *a, **k))
    got = sft(_copy(model), tok, SFT_EX, train=TrainConfig(steps=1, batch_size=4, grad_accum=4, seq_len=32),
              val_examples=SFT_EX, progress=False)["val_loss"]
    assert max(rows) == 1 and got == pytest.approx(want, rel=1e-5)


def test_pretrain_measures_heldout_loss_in_micro_batches_no_larger_than_trainings(tmp_path, monkeypatch):
    """As sft's val_loss: --grad-accum splits a step to fit memory, but the held-out loss ran 64 rows at a time
    whatever the split, and could run out of the memory the split was made to fit. Split, it runs in the training's
    micro-batches, to the same mean."""
    loss, rows = {}, {}
    forward = ponder.Transformer.forward
    for ga in (1, 4):
        out, rows[ga] = [], []
        monkeypatch.setattr(ponder.Transformer, "forward", lambda self, ids, *a, _r=rows[ga], **k:
                            _r.append(ids.shape[0]) or forward(self, ids, *a, **k))
        pretrain(tmp_path / f"r{ga}", DOCS, model_config=ModelConfig(**SMALL), vocab_size=300, progress=False,
                 heldout_docs=DOCS[:40], train=_train(steps=1, batch_size=8, grad_accum=ga), on_log=out.append)
        loss[ga] = out[-1]["heldout_loss"]
    assert max(rows[1]) > 8 and max(rows[4]) == 2  # (unsplit: 64 held-out rows at most at a time, as before)
    assert loss[4] == pytest.approx(loss[1], rel=1e-5)


# DeepSeek-R1's template in brief: an assistant turn's content is rendered from its last "</think>" on
DROPS_THINKING = ("{% for m in messages %}{{ '<|im_start|>' + m.role + '\n' }}{% if m.role == 'assistant' %}"
                  "{{ m.content.split('</think>')[-1] }}{% else %}{{ m.content }}{% endif %}{{ '<|im_end|>\n' }}"
                  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


@pytest.mark.parametrize("turns", ["all", "last"])
@pytest.mark.parametrize("row", [
    {"messages": [{"role": "user", "content": "2 + 3?"}, {"role": "assistant", "content": "<think>2 + 3 = 5</think>"}]},
    {"prompt": [{"role": "user", "content": "2 + 3?"}], "response": "<think>2 + 3 = 5</think>\n"},
])
def test_a_last_turn_the_chat_template_renders_as_nothing_is_refused_in_one_line(tiny_random, row, turns):
    """A template that drops part of an assistant turn (DeepSeek-R1's drops everything up to "</think>") can leave
    the last turn with no text but its end of turn: the row trained the end-of-turn token alone, silently, as an
    empty response would (which is refused). Refused the same way, naming the row."""
    tok = copy.copy(tiny_random[1])
    tok.chat_template, tok._jinja = DROPS_THINKING, None
    with pytest.raises(PonderError, match=r"^d.jsonl:4: the chat template renders the last assistant turn as nothing "
                                          r"but its end of turn \(it drops its text '<think>2 \+ 3 = 5</think>"):
        encode_sft(tok, row, "d.jsonl:4", turns=turns)
    kept = {"messages": [{"role": "user", "content": "2 + 3?"}, {"role": "assistant", "content": "<think>x</think>5"}]}
    ids, mask = encode_sft(tok, kept, "d.jsonl:4", turns=turns)
    assert _trained(tok, ids, mask) == ["5<|im_end|>"]


def test_a_resume_that_moves_the_step_target_says_the_learning_rate_jumps(tmp_path, capsys):
    """--resume --steps N recomputes the cosine over the new target: a finished 3000-step run extended to 4000
    went from 0.1x to 0.24x of the peak lr at once, and nothing said so."""
    from dataclasses import asdict

    from ponder.train import TrainConfig, lr_at, saved_train_config

    saved = {"kind": "pretrain", "train": asdict(TrainConfig(steps=3000, warmup=100, lr=1e-3))}
    (tmp_path / "config.json").write_text(json.dumps(saved))
    train = saved_train_config(tmp_path, saved, 4000, 3000)
    assert train.steps == 4000 and json.loads((tmp_path / "config.json").read_text())["train"]["steps"] == 4000
    err = capsys.readouterr().err
    assert (f"the cosine schedule now runs to step 4000 (was 3000): the learning rate at step 3001 is "
            f"{lr_at(3000, train):.3g}, not 0.0001") in err
    saved_train_config(tmp_path, {**saved, "train": {**saved["train"], "steps": 4000}}, None, 3000)
    assert capsys.readouterr().err == ""
    # a move the lr does not show ("is 0.0001, not 0.0001") is no jump: nothing said
    saved_train_config(tmp_path, {**saved, "train": {**saved["train"], "steps": 3000}}, 3001, 3000)
    assert capsys.readouterr().err == ""



def test_a_pretraining_run_shorter_than_its_warmup_says_its_lr_never_peaks(tmp_path, capsys):
    """`ponder pretrain --steps 50` under the recipe's 100-step warmup trained at half the peak lr at most and never
    decayed, and nothing said so (the schedule itself is the recipe's and stays)."""
    rows = []
    pretrain(tmp_path / "a", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2, warmup=5),
             vocab_size=300, progress=False, on_log=rows.append)
    assert rows[-1]["lr"] == pytest.approx(3e-3 * 2 / 5)
    assert ("pretrain: a run of 2 steps ends inside the 5-step lr warmup: the lr climbs only to 0.0012 of its "
            "0.003 peak and never decays") in capsys.readouterr().err
    pretrain(tmp_path / "b", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2, warmup=2),
             vocab_size=300, progress=False)
    assert "warmup" not in capsys.readouterr().err

def test_an_sft_run_shorter_than_its_warmup_says_so(tiny_random, capsys):
    """sft(train=TrainConfig(steps=2)) keeps TrainConfig's 50-step default warmup: it trained at 2/50 of its lr and
    nothing said so (pretrain says it; the CLI's warmup is a tenth of --steps)."""
    model, tok = tiny_random
    sft(_copy(model), tok, SFT_EX, train=TrainConfig(steps=2, batch_size=4, seq_len=64), progress=False)
    assert "sft: a run of 2 steps ends inside the 50-step lr warmup" in capsys.readouterr().err


def test_a_resumed_sft_run_whose_target_ends_inside_its_warmup_says_so(tiny_random, tmp_path, capsys):
    """A resume keeps the run's warmup (the CLI's is a tenth of the first --steps): `ponder sft --steps 100000`
    resumed with --steps 5000 never left its 10000-step warmup, and nothing said so (a new run says it, and so
    does a resumed pretraining run)."""
    model, tok = tiny_random
    run = tmp_path / "run"
    sft(_copy(model), tok, SFT_EX, run, train=TrainConfig(steps=2, batch_size=4, seq_len=64, warmup=2),
        progress=False)
    capsys.readouterr()
    sft(None, None, SFT_EX, run, train=TrainConfig(steps=3), resume=True, progress=False)
    assert "sft: a run of 3 steps ends inside the 2-step lr warmup" not in capsys.readouterr().err
    run2 = tmp_path / "run2"
    sft(_copy(model), tok, SFT_EX, run2, train=TrainConfig(steps=2, batch_size=4, seq_len=64, warmup=10),
        progress=False)
    assert "sft: a run of 2 steps ends inside the 10-step lr warmup" in capsys.readouterr().err
    sft(None, None, SFT_EX, run2, train=TrainConfig(steps=3), resume=True, progress=False)
    assert "sft: a run of 3 steps ends inside the 10-step lr warmup" in capsys.readouterr().err


def _files(d):
    return {p: p.read_bytes() for p in d.rglob("*") if p.is_file()}


def test_a_run_in_use_by_another_process_is_refused_and_left_as_it_is(tmp_path, tiny_random, hold_run):
    """Two processes on one run directory (a --resume while the run trains) interleaved checkpoints and
    metrics.jsonl: the second is refused in one line, writing nothing, and runs once the first has ended."""
    model, tok = tiny_random
    run = tmp_path / "r"
    cfg = TrainConfig(steps=2, batch_size=2, lr=1e-3, warmup=1, seq_len=32)
    sft(_copy(model), tok, SFT_EX, run, train=cfg, progress=False)
    held = hold_run(run)
    before = _files(run)
    said = f"{run} is in use by another ponder process (pid 4242); wait for it or choose another --out"
    with pytest.raises(PonderError) as e:
        sft(None, None, SFT_EX, run, train=TrainConfig(steps=3), resume=True, progress=False)
    assert str(e.value) == said and _files(run) == before
    (tmp_path / "p").mkdir()
    p_held = hold_run(tmp_path / "p")
    with pytest.raises(PonderError, match="is in use by another ponder process"):  # a new run into it too
        pretrain(tmp_path / "p", DOCS[:8], model_config=ModelConfig(**SMALL), train=_train(steps=1), vocab_size=300,
                 progress=False)
    assert [p.name for p in (tmp_path / "p").iterdir()] == [".lock"]
    p_held.close()
    held.close()
    sft(None, None, SFT_EX, run, train=TrainConfig(steps=3), resume=True, progress=False)
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 3 and not (run / ".lock").exists()


@pytest.mark.parametrize("where", ["in the file's write", "before the write's first line"])
def test_an_interrupt_arriving_while_the_trainer_state_is_written_stays_an_interrupt(tmp_path, monkeypatch, where):
    """A Ctrl-C or SIGTERM whose KeyboardInterrupt was raised inside torch.save's write came out as a RuntimeError
    ("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0"): the command crashed with exit 2 and no
    resume hint instead of stopping as interrupted (seen in CI). It now stays the interrupt, wherever in the write
    the signal's handler ran, and the previous checkpoint is kept whole."""
    import builtins

    from ponder import train as train_mod

    run = pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), train=_train(steps=2, save_every=1),
                   vocab_size=300, progress=False)
    before = {p.name: p.read_bytes() for p in (run / "checkpoint").iterdir()}
    calls = []

    def second_call_interrupted(write):
        def wrapped(self, b):
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return write(self, b)
        return wrapped

    if where == "in the file's write":
        class File:
            def __init__(self, f):
                self.f = f

            write = second_call_interrupted(lambda self, b: self.f.write(b))

            def __getattr__(self, name):
                return getattr(self.f, name)

            def __enter__(self):
                return self

            def __exit__(self, *a):
                self.f.close()

        monkeypatch.setattr(train_mod, "open", lambda p, mode: File(builtins.open(p, mode)), raising=False)
    else:  # (a signal's handler runs between any two bytecodes: here before _Writes.write's try)
        monkeypatch.setattr(train_mod._Writes, "write", second_call_interrupted(train_mod._Writes.write))
    with pytest.raises(KeyboardInterrupt):
        pretrain(run, DOCS, train=_train(steps=3), resume=True, progress=False)
    assert calls
    assert {p.name: p.read_bytes() for p in (run / "checkpoint").iterdir()} == before
    assert not [p for p in run.iterdir() if p.name.startswith(".checkpoint.tmp")]


def test_a_late_write_of_an_interrupted_state_save_after_its_file_closed_is_dropped(tmp_path):
    """torch's archive writer, kept alive by an interrupted save's exception, finishes the archive in its destructor
    after write_state closed the file: the ValueError raised there ended `ponder sft` under SIGTERM in C++'s
    terminate (exit -6, no resume hint; seen once in CI). A write or flush after the close is dropped."""
    from ponder import train as train_mod

    with open(tmp_path / "state.pt", "wb") as f:
        w = train_mod._Writes(f)
        w.write(b"ab")
    assert w.write(b"late") == 4 and w.flush() is None and w.error is None
    assert (tmp_path / "state.pt").read_bytes() == b"ab"


def test_sft_says_when_its_batch_is_more_than_its_examples(tiny_random, tmp_path, capsys):
    """--batch-size 16 on 3 examples trained batches of 3, recorded as 16, with nothing said. The start of the run
    says it (not a resume again), and a batch the examples fill says nothing."""
    model, tok = tiny_random
    for batch, said in ((16, True), (3, False)):
        m = ponder.Transformer(model.config)
        m.load_state_dict(model.state_dict())
        sft(m, tok, SFT_EX[:3], tmp_path / f"r{batch}", train=TrainConfig(steps=1, batch_size=batch, seq_len=32),
            progress=False)
        err = capsys.readouterr().err
        assert ("sft: --batch-size 16 is more than the 3 examples: each step trains on all 3 of them" in err) == said
    sft(None, None, SFT_EX[:3], tmp_path / "r16", train=TrainConfig(steps=2), resume=True, progress=False)
    assert "--batch-size" not in capsys.readouterr().err
    # packed, the batch counts rows: 11 examples packed into a few rows were "more than the N examples"
    sft(_copy(model), tok, SFT_EX, tmp_path / "p", train=TrainConfig(steps=1, batch_size=16, seq_len=64),
        packing=True, progress=False)
    assert re.search(r"--batch-size 16 is more than the (\d+) rows that the 11 examples pack into: each step "
                     r"trains on all \1 of them", capsys.readouterr().err)


def test_distill_leaves_out_teacher_samples_holding_an_end_of_turn_token_and_says_so(tokenizer, tmp_path,
                                                                                      monkeypatch):
    """A teacher can write "<|im_end|>" as text pieces (or in a vocabulary of its own); the student encodes it as
    its stop token, which sft() refuses in a response: the whole distillation failed after all its sampling. Such
    samples are left out and counted; one that keeps none says why."""
    import ponder.engine as engine
    from ponder.engine import Sample
    from ponder.train import distill

    texts = iter(["4<|im_end|>5", "4", "6<|endoftext|>"])

    def sample(model, tok, prompts, *, n, **kw):
        return [[Sample(next(texts), [1], [0.0], "stop") for _ in range(n)] for _ in prompts]

    monkeypatch.setattr(engine, "sample", sample)
    tok = tokenizer
    model = ponder.Transformer(ModelConfig(vocab_size=320, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                           num_attention_heads=2, num_key_value_heads=1)).init_weights(0)
    train = TrainConfig(steps=1, batch_size=1, seq_len=32)
    rep = distill(model, tok, model, tok, [{"prompt": "p"}, {"prompt": "q"}], lambda text, it: True, k=1,
                  temperature=0, train=train, progress=False)
    assert (rep["sampled"], rep["kept"]) == (2, 1)
    with pytest.raises(PonderError, match=r"^distill: kept none of 1 teacher sample: 1 holding an end-of-turn "
                                          r"token's text$"):
        distill(model, tok, model, tok, [{"prompt": "p"}], lambda text, it: True, k=1, temperature=0, train=train,
                progress=False)


def test_sft_data_of_a_json_array_in_a_jsonl_file_says_what_it_is(tmp_path):
    """json.dump(rows, f) into train.jsonl was "train.jsonl:1: expected a JSON object", naming no cause."""
    from ponder.train import load_sft_examples
    rows = [{"prompt": "1 + 1 = ", "response": "2"}]
    (tmp_path / "d.jsonl").write_text(json.dumps(rows) + "\n")
    with pytest.raises(PonderError, match=r"d.jsonl:1: expected a JSON object, got an array; the file looks like a "
                                          r"JSON array of rows, not JSON Lines .*name it \.json$"):
        load_sft_examples(tmp_path / "d.jsonl")
    (tmp_path / "d.json").write_text(json.dumps(rows))
    assert load_sft_examples(tmp_path / "d.json") == rows
    (tmp_path / "n.jsonl").write_text(json.dumps(rows[0]) + "\n5\n")
    with pytest.raises(PonderError, match=r"n.jsonl:2: expected a JSON object, got a number$"):
        load_sft_examples(tmp_path / "n.jsonl")


def test_train_config_lr_beyond_fp32_range_is_one_line():
    """--lr 1e300 passed every check, made the run directory, then failed in AdamW's step with torch's
    "RuntimeError: value cannot be converted to type float without overflow"."""
    with pytest.raises(PonderError, match=r"^lr must be at most 3\.403e\+38 \(fp32's largest number\), got 1e\+300$"):
        TrainConfig(steps=1, lr=1e300).validate()
    assert TrainConfig(steps=1, lr=1e30).validate().lr == 1e30  # (diverges, and says so, as any lr too large)


@pytest.mark.parametrize("files", [{"metrics.jsonl": "my notes\n"}, {"config.json": '{"lr": 1}'},
                                   {"config.json": "[1]", "metrics.jsonl": ""}])
def test_out_holding_someone_elses_config_or_metrics_is_not_called_a_dead_run(tmp_path, files):
    """A folder of the user's own files with a metrics.jsonl (or a config.json of no Ponder run) was refused as
    "holds a run that stopped before its first checkpoint; remove the directory": advice that deletes them."""
    from ponder.train import fresh_run_dir
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(PonderError, match=rf"^--out {re.escape(str(tmp_path))}: holds a .* of no Ponder run, which "
                                          "the run would overwrite; choose another --out$"):
        fresh_run_dir(tmp_path, kind="sft")
    assert {f.name: f.read_text() for f in tmp_path.iterdir()} == files
    (tmp_path / "config.json").write_text('{"kind": "sft"}')  # a run's own, stopped early: it may be removed
    with pytest.raises(PonderError, match="holds a run that stopped before its first checkpoint"):
        fresh_run_dir(tmp_path, kind="sft")


def _hand_sft_grads(model, tok, examples, keep=None):
    """The full-batch SFT gradient computed independently of the trainer: each example alone (its first `keep`
    tokens), one unpadded row, the full logits, cross-entropy on its response tokens, summed over the batch and
    divided by the batch's response-token count."""
    model.zero_grad()
    total, loss = 0, 0.0
    for ex in examples:
        ids, mask = encode_sft(tok, ex)
        ids, mask = torch.tensor(ids[:keep]), mask[:keep]
        tgt, m = ids[1:], torch.tensor(mask[1:], dtype=torch.bool)
        logits = model(ids[None, :-1])[0]
        loss = loss + torch.nn.functional.cross_entropy(logits[m], tgt[m], reduction="sum")
        total += int(m.sum())
    (loss / total).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    return grads, loss.item() / total


@pytest.mark.parametrize("packing", [False, True])
def test_one_sft_step_of_any_grad_accum_takes_the_hand_computed_full_batch_gradient_clipped_globally(
        tiny_random, monkeypatch, packing):
    """Checked against a computation that shares nothing with the trainer: one step of grad_accum 1, 3 or 5 (of
    examples of very different response lengths, so a mean of micro-batch means would differ) hands the optimizer
    the gradient of the whole batch's summed response-token loss over its token count, clipped once, after
    accumulation, by the global norm over every parameter."""
    model, tok = tiny_random
    ex = [{"prompt": f"Problem: {a} + 1 = ?\nSolution:", "response": " ok" * (1 + 3 * (a % 3))} for a in range(5)]
    want, want_loss = _hand_sft_grads(_copy(model).train(), tok, ex)
    norm = torch.cat([g.flatten() for g in want.values()]).norm().item()
    clip = norm / 3
    seen = []
    real_clip = torch.nn.utils.clip_grad_norm_

    def spy(params, max_norm, *a, **kw):
        params = list(params)
        before = {id(p): p.grad.clone() for p in params}
        gn = real_clip(params, max_norm, *a, **kw)
        seen.append((before, {id(p): p.grad.clone() for p in params}, float(gn)))
        return gn
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    for ga in (1, 3, 5):
        seen.clear()
        m = _copy(model)
        row = sft(m, tok, ex, train=TrainConfig(steps=1, batch_size=5, grad_accum=ga, seq_len=64, warmup=0,
                                                grad_clip=clip), packing=packing, progress=False)
        (before, after, gn), = seen
        assert row["loss"] == pytest.approx(want_loss, rel=1e-5) and gn == pytest.approx(norm, rel=1e-5)
        assert row["grad_norm"] == pytest.approx(norm, rel=1e-5)
        for n, p in m.named_parameters():
            assert torch.allclose(before[id(p)], want[n], atol=1e-6), (ga, n)
            assert torch.allclose(after[id(p)], want[n] * clip / norm, atol=1e-6), (ga, n)


def test_packed_sft_is_each_example_alone_and_an_example_past_seq_len_is_cut_not_split(tiny_random):
    """Packing checked by hand: the loss and gradient of one packed step are those of each example alone in its own
    row, positions from 0. An example longer than seq_len + 1 tokens is cut there (its tail is dropped, never
    carried into the next row), and one that does not fit in a row's room starts the next row whole."""
    from ponder.train import sft_batches

    model, tok = tiny_random
    ex = [{"prompt": f"Problem: {a} + 1 = ?\nSolution:", "response": " ok" * n} for a, n in enumerate((1, 1, 14, 6, 1))]
    seq_len = 40
    enc = [encode_sft(tok, e) for e in ex]
    assert max(len(i) for i, _ in enc) > seq_len + 1 and min(len(i) for i, _ in enc) < seq_len // 2
    ids, lm, am = sft_batches(enc, seq_len, tok.pad_token_id, packing=True)
    assert ids.shape[0] < len(ex) and am.max() > 1  # packed, some rows hold two examples
    # every example is in one row, whole up to seq_len + 1 tokens
    got = sorted(tuple(ids[r][am[r] == d].tolist()) for r in range(ids.shape[0]) for d in am[r].unique().tolist() if d)
    assert got == sorted(tuple(i[: seq_len + 1]) for i, _ in enc)
    want, want_loss = _hand_sft_grads(_copy(model).train(), tok, ex, keep=seq_len + 1)
    m = _copy(model).train()
    loss, n = response_loss(m, ids, lm, am)
    (loss / n).backward()
    assert (loss / n).item() == pytest.approx(want_loss, rel=1e-5)
    assert all(torch.allclose(p.grad, want[k], atol=1e-6) for k, p in m.named_parameters())


def test_packed_accumulated_sft_with_dropout_resumes_bit_exactly_and_its_val_loss_is_the_eval_mode_token_mean(
        tmp_path, tiny_random):
    """A packed, grad-accumulated sft run with attention dropout, killed at a step boundary after a checkpoint
    and resumed, logs and saves exactly what the uninterrupted run does (data order across epochs, dropout draws).
    Its val_loss is checked by hand: dropout off (eval mode), every validation example, weighted by tokens."""
    model, tok = tiny_random
    cfg = model.config.__class__(**{**model.config.__dict__, "attention_dropout": 0.3})
    base = ponder.Transformer(cfg)
    base.load_state_dict(model.state_dict())
    ex = [{"prompt": f"Problem: {a} + 1 = ?\nSolution:", "response": " ok" * (1 + a % 4)} for a in range(7)]
    val = [{"prompt": f"Problem: {a} * 2 = ?\nSolution:", "response": " 2" * (1 + 3 * a)} for a in range(3)]
    train = TrainConfig(steps=5, batch_size=3, grad_accum=2, seq_len=40, lr=1e-2, warmup=2, save_every=3,
                        eval_every=5)
    sft(_copy(base), tok, ex, tmp_path / "a", train=train, packing=True, val_examples=val, progress=False)

    def die(row):  # killed in step 4, after the step-3 checkpoint
        if row["step"] == 4:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        sft(_copy(base), tok, ex, tmp_path / "b", train=train, packing=True, val_examples=val, progress=False,
            on_log=die)
    last = sft(None, None, ex, tmp_path / "b", resume=True, val_examples=val, progress=False)
    rows = [(tmp_path / d / "metrics.jsonl").read_text().splitlines() for d in "ab"]
    assert len(rows[0]) == 5 and rows[0] == rows[1]
    (a, _), (b, _) = (ponder.load(tmp_path / d / "checkpoint") for d in "ab")
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    # the logged val_loss: the trained model in eval mode over every validation example, per response token
    a.config.attention_dropout = 0.3
    with torch.no_grad():
        s = n = 0
        for e in val:
            ids, mask = encode_sft(tok, e)
            ids, m = torch.tensor(ids), torch.tensor(mask[1:], dtype=torch.bool)
            logits = a.eval()(ids[None, :-1])[0]
            s += torch.nn.functional.cross_entropy(logits[m], ids[1:][m], reduction="sum").item()
            n += int(m.sum())
    assert last["val_loss"] == pytest.approx(s / n, rel=1e-5)


def test_the_lr_each_step_trains_at_is_the_documented_schedule_through_a_resume_mid_warmup(tmp_path, tiny_random,
                                                                                          monkeypatch):
    """Written out by hand: step k (1-based) of a warmup of W steps trains at lr * k / W (lr / W first, the peak at
    step W, never 0), then step k > W at min + (lr - min) * (1 + cos(pi * (k - 1 - W) / (T - W))) / 2 with min =
    min_lr_ratio * lr, the cosine's end (min itself) falling one step past the last of the T steps. What AdamW
    steps with is what metrics.jsonl logs, and a run resumed inside its warmup continues the same schedule."""
    model, tok = tiny_random
    T, W, lr, ratio = 9, 4, 1e-2, 0.2
    train = TrainConfig(steps=T, batch_size=2, seq_len=32, lr=lr, warmup=W, min_lr_ratio=ratio, save_every=2)
    want = [lr * k / W if k <= W else
            ratio * lr + (lr - ratio * lr) * (1 + math.cos(math.pi * (k - 1 - W) / (T - W))) / 2 for k in range(1, T + 1)]
    used = []
    real_step = torch.optim.AdamW.step

    def spy(self, *a, **kw):
        used.append([g["lr"] for g in self.param_groups])
        return real_step(self, *a, **kw)
    monkeypatch.setattr(torch.optim.AdamW, "step", spy)

    def die(row):  # killed inside the warmup, after the step-2 checkpoint
        if row["step"] == 3:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        sft(_copy(model), tok, SFT_EX, tmp_path / "r", train=train, progress=False, on_log=die)
    sft(None, None, SFT_EX, tmp_path / "r", resume=True, progress=False)
    logged = [json.loads(r)["lr"] for r in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert logged == pytest.approx(want, rel=1e-12, abs=0)
    assert [u[0] for u in used[:2] + used[3:]] == pytest.approx(want, rel=1e-12, abs=0)  # (step 3 ran twice)
    assert all(len(set(u)) == 1 for u in used)  # every parameter group at the step's lr


def test_one_pretraining_step_of_grad_accum_3_takes_the_hand_computed_gradient_of_its_packed_rows(tmp_path,
                                                                                                 monkeypatch):
    """Pretraining checked by hand: documents packed greedily (each cut at seq_len + 1 tokens, one that does not
    fit starting the next row), rows drawn as a function of (seed, step), every row attending across its documents
    (GPT-style) with positions running on, and the step's gradient that of the summed next-token loss over the
    drawn rows' token count, whatever the micro-batches (7 rows by 3)."""
    seen = []
    real_clip = torch.nn.utils.clip_grad_norm_

    def spy(params, *a, **kw):
        params = list(params)
        seen.append([p.grad.clone() for p in params])
        return real_clip(params, *a, **kw)
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    rows, seq = [], 48
    run = pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), vocab_size=300, progress=False,
                   train=TrainConfig(steps=1, batch_size=7, grad_accum=3, seq_len=seq, warmup=0), on_log=rows.append)
    tok = ponder.load(run / "checkpoint")[1]
    mc = ModelConfig(**{**SMALL, "vocab_size": max(SMALL["vocab_size"], tok.vocab_size)})
    model = ponder.Transformer(mc).init_weights(0).train()
    packed = [[]]
    for d in DOCS:
        e = tok.encode(d, add_special_tokens=False)[: seq + 1]
        if packed[-1] and len(packed[-1]) + len(e) > seq + 1:
            packed.append([])
        packed[-1] += e
    drawn = torch.randint(0, len(packed), (7,), generator=torch.Generator().manual_seed(0))
    loss, n = 0.0, 0
    for i in drawn.tolist():
        r = torch.tensor(packed[i])
        loss = loss + torch.nn.functional.cross_entropy(model(r[None, :-1])[0], r[1:], reduction="sum")
        n += len(r) - 1
    (loss / n).backward()
    assert rows[0]["loss"] == pytest.approx((loss / n).item(), rel=1e-6)
    assert all(torch.allclose(p.grad, g, atol=1e-6) for p, g in zip(model.parameters(), seen[0]))


def test_sft_and_distill_refuse_fp16_weights_they_would_train_without_loss_scaling(tmp_path, tiny_random):
    """fp16 weights trained with no loss scaling: gradients below 6e-8 flushed to zero (on the tiny model, 7% of the
    matrices' gradients at a 1024x larger batch), silently. One line naming the fix, before the run directory or the
    teacher's sampling."""
    model, tok = tiny_random
    half = _copy(model).to(torch.float16)
    with pytest.raises(PonderError, match=r"^sft: the model's weights are float16, .* --dtype bfloat16"):
        sft(half, tok, SFT_EX, tmp_path / "r", train=TrainConfig(steps=1), progress=False)
    assert not (tmp_path / "r").exists()
    with pytest.raises(PonderError, match=r"^distill: the model's weights are float16"):
        ponder.train.distill(model, tok, half, tok, [{"prompt": "1+1?", "answer": "2"}], "math", k=1,
                             temperature=0.0, max_new_tokens=4, progress=False)
    # a run trained in float16 before this was refused: its resume names what --dtype cannot do there
    sft(_copy(model).to(torch.bfloat16), tok, SFT_EX, tmp_path / "r", train=TrainConfig(steps=1), progress=False)
    conf = json.loads((tmp_path / "r" / "config.json").read_text())
    (tmp_path / "r" / "config.json").write_text(json.dumps({**conf, "sft": {**conf["sft"], "dtype": "float16"}}))
    before = (tmp_path / "r" / "config.json").read_text()
    with pytest.raises(PonderError, match=r"^sft: the model's weights are float16, .*; start a new run from "
                                          + re.escape(str(tmp_path / "r" / "checkpoint")) + " with --dtype bfloat16"):
        sft(None, None, SFT_EX, tmp_path / "r", train=TrainConfig(steps=2), resume=True, progress=False)
    assert (tmp_path / "r" / "config.json").read_text() == before  # (its step target is not rewritten)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32])
def test_the_logged_grad_norm_of_low_precision_weights_is_their_gradients_norm_in_fp32(tiny_random, dtype):
    """optimizer_step's grad_norm is the norm of the gradients as they are, taken in fp32: for bf16 weights torch's
    clip_grad_norm_ returned it rounded to bf16 (3 significant digits), and clipped by that; fp32 is torch's own."""
    from ponder.train import make_optimizer, optimizer_step

    model, tok = tiny_random
    ids, lm, am = ponder.train.sft_batches([encode_sft(tok, ex) for ex in SFT_EX[:4]], 64, tok.pad_token_id, False)
    m = _copy(model).to(dtype).train()
    ref = copy.deepcopy(m)
    response_loss(ref, ids, lm, am)[0].backward()
    grads = [p.grad.double() for p in ref.parameters()]
    exact = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))
    cfg = TrainConfig(steps=1, warmup=0, grad_clip=0.5)
    captured = []
    opt = make_optimizer(m, cfg)
    opt.step = lambda: captured.extend(p.grad.double() for p in m.parameters())  # the gradients stepped on
    _, gn = optimizer_step(m, opt, cfg, 0, 1, lambda b: response_loss(m, ids[b], lm[b], am[b])[0],
                           [torch.arange(len(ids))])
    assert gn == pytest.approx(exact, rel=1e-6) and exact > 1
    clipped = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in captured])))
    assert clipped == pytest.approx(0.5, rel=1e-2 if dtype == torch.bfloat16 else 1e-5)


def test_the_sft_loss_bench_reports_the_response_tokens_its_loss_covers():
    """bench/sft_loss.py printed response_tokens 1,024 at its defaults while both losses covered 1,028 (each row's
    mask, over seq + 1 ids, holds one more response target than seq - prompt): the label is the loss's count."""
    import importlib.util
    import types

    path = Path(__file__).resolve().parents[1] / "bench" / "sft_loss.py"
    spec = importlib.util.spec_from_file_location("bench_sft_loss", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    model = ponder.model.Transformer(ModelConfig(**SMALL)).init_weights(0)
    for batch, seq, share in ((2, 16, 0.5), (3, 10, 1.0), (2, 9, 0.3), (1, 8, 0.0)):
        a = types.SimpleNamespace(vocab=SMALL["vocab_size"], batch=batch, seq=seq, response_share=share)
        ids, mask = bench.inputs(a)
        _, n = token_loss(model, ids, mask, None)
        assert bench.response_tokens(a) == n, (batch, seq, share)
    assert bench.response_tokens(types.SimpleNamespace(vocab=151936, batch=4, seq=512, response_share=0.5)) == 1028


class _DatasetLike:
    """Rows as a datasets.Dataset holds them: a sequence of dicts whose repr names its shape, not its rows."""

    def __init__(self, rows):
        self.rows = list(rows)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    def __iter__(self):
        return iter(self.rows)

    def __repr__(self):
        return f"Dataset({{features: ['prompt', 'response'], num_rows: {len(self.rows)}}})"


def test_sft_rows_given_as_a_dataset_are_digested_by_their_rows_not_their_repr(tmp_path, tiny_random):
    """A datasets.Dataset (or any sequence of rows other than a list) was digested by its repr, which names only
    its columns and length: a resume with other rows of the same shape passed the data check and trained on them,
    and config.json's data_sha256 said nothing of the data. It is the digest of its rows, as a list's."""
    model, tok = tiny_random
    cfg = TrainConfig(steps=1, batch_size=4, lr=1e-3, warmup=1, seq_len=64)
    sft(_copy(model), tok, _DatasetLike(SFT_EX[:4]), tmp_path / "r", train=cfg, progress=False)
    saved = json.loads((tmp_path / "r" / "config.json").read_text())
    sft(_copy(model), tok, SFT_EX[:4], tmp_path / "l", train=cfg, progress=False)
    assert saved["data_sha256"] == json.loads((tmp_path / "l" / "config.json").read_text())["data_sha256"]
    with pytest.raises(PonderError, match="training data differs"):
        sft(None, None, _DatasetLike(SFT_EX[4:8]), tmp_path / "r", resume=True, progress=False,
            train=TrainConfig(steps=2))


def test_a_yarn_model_trains_past_max_position_embeddings(tiny_random, tmp_path):
    """A YaRN model takes original_max_position_embeddings x factor positions (as vLLM and sampling do): sft
    refused examples past max_position_embeddings, and pretraining a --seq-len past it; a refusal says where its
    context comes from."""
    from dataclasses import asdict

    from ponder.train import check_pretrain_settings

    yarn = {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 8}
    model, tok = tiny_random
    small = ponder.Transformer(ModelConfig(**{**asdict(model.config), "max_position_embeddings": 12,
                                              "rope_scaling": yarn}))
    small.load_state_dict(model.state_dict())
    ex = next(e for e in ({"prompt": "1 + 1 =" + " +" * k, "response": " 2"} for k in range(20))
              if len(encode_sft(tok, e)[0]) == 21)
    out = sft(small, tok, [ex], train=TrainConfig(steps=1, seq_len=20, warmup=1), progress=False)
    assert out["examples_cut"] == 0
    big = {**ex, "prompt": ex["prompt"] + " +" * 20}
    with pytest.raises(PonderError, match=re.escape("exceed the model's context of 32 positions (32 = "
                                                    "original_max_position_embeddings 8 x yarn factor 4; one more")):
        sft(small, tok, [big], train=TrainConfig(steps=1, seq_len=40, warmup=1), progress=False)
    cfg = ModelConfig(**{**SMALL, "max_position_embeddings": 12, "rope_scaling": yarn})
    check_pretrain_settings(tmp_path / "r", _train(seq_len=32), cfg, 300)
    with pytest.raises(PonderError, match=re.escape("seq_len=33 exceeds the model's context of 32 positions (32 = "
                                                    "original_max_position_embeddings 8 x yarn factor 4); use")):
        check_pretrain_settings(tmp_path / "r", _train(seq_len=33), cfg, 300)
    from ponder.train import distill  # the student's context, checked before the teacher samples

    items = [{"prompt": "1 + 1 =", "answer": "2"}]
    with pytest.raises(PonderError, match=re.escape("--max-new-tokens 40 can exceed the student's context of 32 "
                                                    "positions (32 = original_max_position_embeddings 8 x yarn")):
        distill(model, tok, small, tok, items, lambda text, it: True, k=2, max_new_tokens=40, progress=False,
                train=TrainConfig(steps=1, seq_len=64), run_dir=tmp_path / "d")


def test_pretrain_tokens_per_s_counts_training_steps_only(tmp_path):
    """tokens_per_s was tokens over the wall time since the loop began, held-out evaluation and checkpoint saves
    counted in: a run that evaluates and saves every 2 steps read 1/10 of its training rate after the first of them
    (8,737 to 1,193 tokens/s in a small CLI run). Here evaluating the held-out set takes ~20 training steps: the
    rate after three evaluations and saves stays the training steps' own."""
    rows = []
    pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), vocab_size=300, progress=False,
             heldout_docs=DOCS * 8, on_log=rows.append, train=_train(steps=6, batch_size=2, eval_every=2, save_every=2))
    tps = [r["tokens_per_s"] for r in rows]
    assert all(t > 0 and math.isfinite(t) for t in tps)
    assert tps[5] > tps[1] / 3, tps  # (counted in, about 1/13)


def test_a_run_config_with_a_key_given_twice_is_refused(tmp_path):
    """A hand-edited config.json with "lr" twice in its train section resumed with the last one, the first edit
    dropped without a word: refused, naming the file and the key (one key in two sections is no repeat)."""
    from ponder.train import read_run_config

    (tmp_path / "config.json").write_text('{"kind": "sft",\n "train": {"lr": 0.001,\n  "lr": 0.01, "steps": 2},'
                                          '\n "grpo": {"steps": 3}}\n')
    with pytest.raises(PonderError, match=re.escape(f"{tmp_path / 'config.json'}: duplicate key 'lr' in one JSON "
                                                    "object")):
        read_run_config(tmp_path)
    (tmp_path / "config.json").write_text('{"kind": "sft", "train": {"steps": 2}, "grpo": {"steps": 3}}')
    assert read_run_config(tmp_path)["grpo"] == {"steps": 3}


def test_sft_records_its_thread_count_and_resume_continues_at_it(tmp_path, tiny_random, capsys):
    """CPU matmuls split their reductions by thread: a run trained on 1 thread and resumed (as the stop hint says,
    no --threads) at torch's default count rounded differently from its first resumed step. config.json records the
    count the run trained with (torch's own where none was given) and a resume sets it; another count given is
    allowed and said."""
    model, tok = tiny_random
    rows = [{"prompt": f"{a} + 1 =", "response": f" {a + 1}"} for a in range(6)]
    was = torch.get_num_threads()
    seen = []
    try:
        torch.set_num_threads(1)
        cfg = TrainConfig(steps=2, batch_size=4, lr=1e-3, warmup=1, save_every=1, seq_len=32)
        sft(_copy(model), tok, rows, tmp_path / "r", train=cfg, progress=False)
        assert json.loads((tmp_path / "r" / "config.json").read_text())["train"]["threads"] == 1
        assert cfg.threads is None  # (the caller's settings are not changed)
        torch.set_num_threads(2)  # (a new process: torch's default)
        sft(None, None, rows, tmp_path / "r", train=TrainConfig(steps=3), resume=True, progress=False,
            on_log=lambda row: seen.append(torch.get_num_threads()))
        assert seen == [1] and "bit-identical" not in capsys.readouterr().err
        sft(None, None, rows, tmp_path / "r", train=TrainConfig(steps=4, threads=2), resume=True, progress=False,
            on_log=lambda row: seen.append(torch.get_num_threads()))
        assert seen == [1, 2] and "resume: --threads 2: the run trained on 1 torch thread;" in capsys.readouterr().err
        # the run's count is the last one used: a later plain resume continues at 2 (it went back to 1)
        assert json.loads((tmp_path / "r" / "config.json").read_text())["train"]["threads"] == 2
        torch.set_num_threads(1)
        sft(None, None, rows, tmp_path / "r", train=TrainConfig(steps=5), resume=True, progress=False,
            on_log=lambda row: seen.append(torch.get_num_threads()))
        assert seen == [1, 2, 2] and "bit-identical" not in capsys.readouterr().err
    finally:
        torch.set_num_threads(was)


def test_pretrain_resume_with_threads_records_them_for_the_next_resume(tmp_path, capsys):
    """A one-off `pretrain --resume --threads 2` was not recorded: the next plain --resume went back to the run's
    first count. The count recorded is the last one used, and the note says so."""
    was = torch.get_num_threads()
    seen = []
    try:
        run = pretrain(tmp_path / "r", DOCS, model_config=ModelConfig(**SMALL), vocab_size=300, progress=False,
                       train=_train(steps=1, threads=1, batch_size=2, seq_len=32))
        pretrain(run, DOCS, train=TrainConfig(steps=2, threads=2), resume=True, progress=False)
        assert "the run now records 2 (a later --resume continues at it)" in capsys.readouterr().err
        assert json.loads((run / "config.json").read_text())["train"]["threads"] == 2
        torch.set_num_threads(1)
        pretrain(run, DOCS, train=TrainConfig(steps=3), resume=True, progress=False,
                 on_log=lambda row: seen.append(torch.get_num_threads()))
        assert seen == [2] and "bit-identical" not in capsys.readouterr().err
    finally:
        torch.set_num_threads(was)


def test_load_corpus_reads_text_blocks_and_text_fields_and_refuses_bad_files_in_one_line(tmp_path):
    """A user's corpus file: .txt is one document per blank-line-separated block, JSONL/Parquet one per row's
    `text`; each ends with <|endoftext|> once. Bad files are one-line errors naming file, line and field."""
    import pandas as pd

    from ponder.train import load_corpus, split_corpus

    (tmp_path / "c.txt").write_bytes(b"\xef\xbb\xbfone\nline two\r\n\r\n  \n\nthree<|endoftext|>\n\n")
    assert load_corpus(tmp_path / "c.txt") == ["one\nline two<|endoftext|>", "three<|endoftext|>"]
    (tmp_path / "c.jsonl").write_text('{"text": "a b"}\n\n{"text": "  ", "id": 2}\n{"text": "c\\n\\nd"}\n')
    assert load_corpus(tmp_path / "c.jsonl") == ["a b<|endoftext|>", "c\n\nd<|endoftext|>"]
    pd.DataFrame({"text": ["x", "y"]}).to_parquet(tmp_path / "c.parquet")
    assert load_corpus(tmp_path / "c.parquet") == ["x<|endoftext|>", "y<|endoftext|>"]
    (tmp_path / "e.txt").write_text("\n \n\n")
    (tmp_path / "u.txt").write_bytes(b"ok\n\nbad \xff\n")
    (tmp_path / "f.jsonl").write_text('{"text": "a"}\n{"body": "b"}\n')
    (tmp_path / "n.jsonl").write_text('{"text": "a"}\n{"text": 3}\n')
    (tmp_path / "z.jsonl").write_text('{"text": null}\n')
    (tmp_path / "c.csv").write_text("text\na\n")
    for name, msg in (("z.jsonl", "z.jsonl:1: field 'text' is null"), ("missing.txt", "missing.txt: no such file"), ("e.txt", "e.txt: no documents"),
                      ("u.txt", "u.txt:3: not UTF-8 text (byte 8)"), ("f.jsonl", "f.jsonl:2: no 'text' field (the row has 'body')"),
                      ("n.jsonl", "n.jsonl:2: field 'text' must be a string, got a number 3"),
                      ("c.csv", "c.csv: a corpus is a .txt")):
        with pytest.raises(PonderError, match=re.escape(msg)):
            load_corpus(tmp_path / name)
    # the held-out split: by hash, whatever the order; every copy of a held-out document is out of training
    docs = [f"doc {i}<|endoftext|>" for i in range(250)] + ["doc 7<|endoftext|>"]
    train, held = split_corpus(docs)
    assert len(held) == 2 and not set(held) & set(train) and len(train) + len(held) + docs.count(held[0]) - 1 \
        + docs.count(held[1]) - 1 == len(docs)
    assert split_corpus(docs[::-1])[1] == held and split_corpus(["a", "a"]) == (["a", "a"], [])
    assert split_corpus(["a"]) == (["a"], [])


def test_sft_reads_math500_layout_problem_as_prompt_and_solution_as_response(tmp_path, capsys, tiny_random):
    """MATH-500's rows (problem, solution, answer, subject, level, unique_id), which `ponder eval --data` reads,
    were refused by `ponder sft --data` as "missing field 'prompt'": the problem is the prompt, the worked
    solution the response, said once on stderr; a bad solution is named by its own field."""
    from ponder.train import load_sft_examples
    rows = [{"problem": f"What is {a} + 1?", "solution": f"It is $\\boxed{{{a + 1}}}$.", "answer": str(a + 1),
             "subject": "Prealgebra", "level": 1, "unique_id": f"test/prealgebra/{a}.json"} for a in range(3)]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    got = load_sft_examples(tmp_path / "m.jsonl")
    assert [(r["prompt"], r["response"]) for r in got] == [(r["problem"], r["solution"]) for r in rows]
    assert all("problem" not in r and "solution" not in r and r["unique_id"] == s["unique_id"]
               for r, s in zip(got, rows))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`problem` as the prompt and `solution` as the response" in err
    _, tok = tiny_random
    ids = encode_sft(tok, got[0])[0]
    assert tok.decode(ids, skip_special_tokens=True) == rows[0]["problem"] + rows[0]["solution"]
    (tmp_path / "e.jsonl").write_text(json.dumps({**rows[0], "solution": "  "}) + "\n")
    with pytest.raises(PonderError, match=r"e.jsonl:1: 'solution' is empty \(nothing to train on\)$"):
        load_sft_examples(tmp_path / "e.jsonl")
    (tmp_path / "n.jsonl").write_text(json.dumps({**rows[0], "problem": 3}) + "\n")
    with pytest.raises(PonderError, match=r"n.jsonl:1: 'problem' must be a string, got a number$"):
        load_sft_examples(tmp_path / "n.jsonl")
    (tmp_path / "s.jsonl").write_text(json.dumps({k: v for k, v in rows[0].items() if k != "solution"}) + "\n")
    with pytest.raises(PonderError, match=r"s.jsonl:1: missing field 'prompt' \(have: problem, answer, .*\); a row "
                                          r"of MATH's layout needs 'solution' beside 'problem'"):
        load_sft_examples(tmp_path / "s.jsonl")
    (tmp_path / "p.jsonl").write_text(json.dumps({**rows[0], "prompt": "Q", "response": "A"}) + "\n")
    assert load_sft_examples(tmp_path / "p.jsonl")[0]["prompt"] == "Q"  # (its own prompt/response win)
    # GSM8K's layout was told "missing field 'prompt' (have: question, answer)", which eval and grpo read by
    # --prompt-field, a flag sft has not: the line says what to write instead
    (tmp_path / "g.jsonl").write_text(json.dumps({"question": "Q?", "answer": "1 + 1 = 2\n#### 2"}) + "\n")
    with pytest.raises(PonderError, match=r"g.jsonl:1: missing field 'prompt' \(have: question, answer\); sft reads "
                                          r"prompt/response, messages or MATH's problem/solution rows: write GSM8K's "
                                          r'layout as \{"prompt": question, "response": answer\}$'):
        load_sft_examples(tmp_path / "g.jsonl")


def test_distill_resume_of_one_killed_before_its_fine_tuning_began_points_at_its_samples(tmp_path, capsys,
                                                                                        hold_run):
    """distill saves its kept teacher samples (distilled.jsonl), then its fine-tuning writes config.json: killed
    between the two (kill -9), `ponder distill --resume` said only "not a resumable run directory (no config.json)",
    nothing of the samples the directory holds nor how to train on them. (A distillation still running there is
    said to be, not to have stopped.)"""
    from ponder.cli import main

    out = tmp_path / "D"
    out.mkdir()
    rows = '{"prompt": "1+1=", "response": " 2"}\n{"prompt": "2+2=", "response": " 4"}\n'
    (out / "distilled.jsonl").write_text(rows)
    held = hold_run(out)
    try:
        assert main(["distill", "--out", str(out), "--resume", "--quiet"]) == 2
    finally:
        held.close()
    assert f"{out} is in use by another ponder process (pid 4242)" in capsys.readouterr().err
    (out / ".lock").write_text("123\n")  # (what the killed process left beside them)
    assert main(["distill", "--out", str(out), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    kept = out / "distilled.jsonl"
    assert err.count("\n") == 1 and err.endswith(
        f"{out}: the distillation stopped before its fine-tuning began (no config.json), nothing to resume; its 2 kept "
        f"teacher samples are in {kept}: fine-tune on them with `ponder sft --model STUDENT --data {kept} --out "
        "NEW_DIR`\n"), err
    assert kept.read_text() == rows
    (out / "distilled.jsonl").unlink()  # no samples either: nothing of a distillation there
    assert main(["distill", "--out", str(out), "--resume", "--quiet"]) == 2
    assert "not a resumable run directory (no config.json)" in capsys.readouterr().err


def qwen3_style_checkpoint(path: Path, tiny_random) -> Path:
    """A checkpoint of a Qwen-style tokenizer.json (byte-level BPE, <|im_start|>/<|im_end|>, <think>) with a
    Qwen3-like chat template (enable_thinking false pre-fills an empty think block) over a tiny random model."""
    from test_tokenizer import QWEN3_LIKE, _hf_tokenizer

    from ponder.tokenizer import Tokenizer

    files = path.with_name(path.name + "-tokenizer")
    files.mkdir(parents=True)
    _hf_tokenizer("qwen").save(str(files / "tokenizer.json"))
    (files / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "Qwen2Tokenizer", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
         "bos_token": None, "chat_template": QWEN3_LIKE}))
    tok = Tokenizer.load(files)
    model = ponder.Transformer(ModelConfig(**{**SMALL, "vocab_size": tok.vocab_size})).init_weights(0, std=0.2)
    ponder.save(model, tok, path)
    return path


MATH_ROWS = [{"problem": f"What is {a} + {a}?", "solution": f"{a} + {a} = {2 * a}, so $\\boxed{{{2 * a}}}$."}
             for a in (3, 14, 25)]


@pytest.mark.parametrize("kind, kwargs", [("tiny", {}), ("qwen3", {}), ("qwen3", {"enable_thinking": False})])
def test_sft_chat_trains_each_text_prompt_after_the_prompt_eval_chat_gives(tmp_path, tiny_random, monkeypatch, kind,
                                                                          kwargs):
    """sft had no chat: a text prompt (prompt/response, MATH's problem/solution) was trained bare, so a model then
    evaluated with eval --chat (or trained on by grpo --chat) was prompted after a template it had never been
    fine-tuned after (a 6-row MATH file: greedy 100% without --chat, 0% with it). chat=True trains each as a user
    message after `system`, the response as the assistant turn ended by the template's end of turn: the prompt's
    token ids are those eval gives the model (`_prompt_of` then `render_prompts`, what `ponder eval --chat
    --system S` does), validation rows too; without chat, those of eval without --chat, as before."""
    import ponder.train as train_mod
    from ponder.engine import render_prompts
    from ponder.evaluate import _prompt_of
    from ponder.tasks.data import load_items
    from ponder.train import load_sft_examples

    if kind == "tiny":
        model, tok = _copy(tiny_random[0]), copy.copy(tiny_random[1])  # (Ponder's ChatML, as the tiny model's)
    else:
        model, tok = ponder.load(qwen3_style_checkpoint(tmp_path / "ck", tiny_random))
    tok.template_kwargs = kwargs
    data = tmp_path / "math.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in MATH_ROWS))
    rows, items = load_sft_examples(data), load_items("", data=str(data), answer_field="solution")
    seen = []
    batches = train_mod.sft_batches
    monkeypatch.setattr(train_mod, "sft_batches", lambda enc, *a: seen.append(enc) or batches(enc, *a))
    end = tok.token_to_id("<|im_end|>")
    for chat, system in ((True, None), (True, ""), (True, "Reason, then answer in \\boxed{}."), (False, None)):
        seen.clear()
        sft(_copy(model), tok, rows, train=TrainConfig(steps=1, batch_size=3, seq_len=128), chat=chat, system=system,
            val_examples=rows[:1], progress=False)
        assert len(seen) == 2  # (the training rows, then the validation one)
        for it, row, (ids, mask) in zip([*items, items[0]], [*rows, rows[0]], seen[0] + seen[1], strict=True):
            start = mask.index(1)
            assert ids[:start] == render_prompts(tok, [_prompt_of(it, chat, system)])[0]  # what eval feeds it
            assert all(mask[start:])  # (then the response, every token trained)
            trained = tok.decode(ids[start:], skip_special_tokens=False)
            if chat:
                assert ids[-1] == end and trained.endswith(row["response"] + "<|im_end|>")
                assert trained.startswith("<think>") == (kind == "qwen3" and not kwargs)  # (the template's own)
            else:
                assert trained == row["response"] + tok.eos_token and "<|im_start|>" not in tok.decode(ids[:start])


def test_sft_chat_is_recorded_kept_on_resume_and_checked(tmp_path, tiny_random, monkeypatch):
    """chat and system are recorded in config.json and in the trainer state's record: a resume trains the run's
    own (the chat wrapping included: it is applied after the data's digest, the rows' as given), and a checkpoint
    of a run without chat is refused; bad values, system without chat, and system on top of a row of chat
    messages are one line each, before any run directory is made."""
    import shutil

    import ponder.train as train_mod

    model, tok = tiny_random
    seen = []
    batches = train_mod.sft_batches
    monkeypatch.setattr(train_mod, "sft_batches", lambda enc, *a: seen.append(enc) or batches(enc, *a))
    cfg = TrainConfig(steps=2, batch_size=4, seq_len=64, save_every=1)
    sft(_copy(model), tok, SFT_EX, tmp_path / "a", train=cfg, chat=True, system="S", progress=False)
    sft(_copy(model), tok, SFT_EX, tmp_path / "b", train=cfg, progress=False)
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    assert (saved["chat"], saved["system"]) == (True, "S")
    assert json.loads((tmp_path / "b" / "config.json").read_text())["chat"] is False
    chat_ids = seen[0]
    seen.clear()
    sft(None, None, SFT_EX, tmp_path / "a", train=TrainConfig(steps=3), resume=True, progress=False)
    assert seen == [chat_ids] and tok.decode(chat_ids[0][0]).startswith("<|im_start|>system\nS<|im_end|>")
    shutil.rmtree(tmp_path / "b" / "checkpoint")
    shutil.copytree(tmp_path / "a" / "checkpoint", tmp_path / "b" / "checkpoint")
    with pytest.raises(PonderError, match=r"saved by a run of other settings .*chat true vs false; system \"S\" vs "
                                          "null"):
        sft(None, None, SFT_EX, tmp_path / "b", train=TrainConfig(steps=4), resume=True, progress=False)
    conf = tmp_path / "a" / "config.json"
    conf.write_text(json.dumps({**json.loads(conf.read_text()), "chat": "yes"}))
    with pytest.raises(PonderError, match=f"^{re.escape(str(conf))}: chat must be True or False, got 'yes'$"):
        sft(None, None, SFT_EX, tmp_path / "a", train=TrainConfig(steps=4), resume=True, progress=False)
    msgs = {"messages": [{"role": "user", "content": "1 + 1?"}, {"role": "assistant", "content": "2"}]}
    for kw, said in (({"chat": "no"}, "^sft: chat must be True or False, got 'no'$"),
                     ({"chat": True, "system": ["S"]}, r"^sft: system must be text \(the system message\), got list"),
                     ({"system": "S"}, "^sft: system is the system message of chat prompts: set chat=True, or drop "
                                       "system$"),
                     ({"chat": True, "system": "S", "examples": [*SFT_EX[:2], msgs]},
                      r"^example 2: the row's 'messages' is a list of chat messages, which system would be added on "
                      r"top of; put the system message in its 'messages', or drop system$")):
        with pytest.raises(PonderError, match=said):
            sft(_copy(model), tok, kw.pop("examples", SFT_EX), tmp_path / "c", train=cfg, progress=False, **kw)
        assert not (tmp_path / "c").exists()
    seen.clear()  # a row of chat messages is as it is with chat (no system): the same ids as without
    sft(_copy(model), tok, [msgs], train=TrainConfig(steps=1, seq_len=64), chat=True, progress=False)
    sft(_copy(model), tok, [msgs], train=TrainConfig(steps=1, seq_len=64), progress=False)
    assert seen[0] == seen[1]
