"""`ponder` command line: parses arguments and calls library functions; nothing else lives here."""

from __future__ import annotations

import argparse
import json
import sys

from .errors import PonderError


def _add_sampling(p: argparse.ArgumentParser, max_new: int = 256, temperature: float = 0.0):
    g = p.add_argument_group("sampling")
    g.add_argument("--max-new-tokens", type=int, default=max_new, help="tokens to generate at most (default %(default)s)")
    g.add_argument("--temperature", type=float, default=temperature,
                   help="0 = greedy (default %(default)s)")
    g.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (default 1.0 = off)")
    g.add_argument("--top-k", type=int, default=0, help="keep the k most likely tokens (default 0 = off)")
    g.add_argument("--min-p", type=float, default=0.0, help="drop tokens below min_p x the top probability")
    g.add_argument("--stop", action="append", default=None, help="stop string (repeatable)")
    g.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same samples")


def _model_arg(p, default="tiny"):
    p.add_argument("--model", "-m", default=default,
                   help="checkpoint directory in HF format, or 'tiny' for the built-in model (default %(default)s)")
    p.add_argument("--dtype", default=None, help="float32 | bfloat16 (default: fp32 on CPU, checkpoint's on GPU)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:1 ... (default %(default)s)")


# ---- commands ------------------------------------------------------------------------------------
def cmd_generate(a):
    from . import checkpoint, engine

    model, tok = checkpoint.load(a.model, dtype=a.dtype, device=a.device)
    prompts = list(a.prompt)
    if a.chat:
        prompts = [[{"role": "user", "content": p}] for p in prompts]
    out = engine.sample(model, tok, prompts, n=a.n, max_new_tokens=a.max_new_tokens, temperature=a.temperature,
                        top_p=a.top_p, top_k=a.top_k, min_p=a.min_p, stop=a.stop, seed=a.seed)
    if a.json:
        rows = [{"prompt": p if isinstance(p, str) else p[-1]["content"], "samples": [
            {"text": s.text, "tokens": s.num_tokens, "finish_reason": s.finish_reason,
             "logprob_sum": sum(s.logprobs)} for s in group]} for p, group in zip(a.prompt, out)]
        print(json.dumps(rows if len(rows) > 1 else rows[0]))
        return
    for p, group in zip(a.prompt, out):
        for i, s in enumerate(group):
            head = f"--- sample {i + 1}/{len(group)} ({s.num_tokens} tokens, {s.finish_reason})" if a.n > 1 else ""
            if head:
                print(head)
            print(p + s.text if not a.chat and not a.completion_only else s.text)


def cmd_chat(a):
    from . import checkpoint
    from .engine import stream_chat

    model, tok = checkpoint.load(a.model, dtype=a.dtype, device=a.device)
    messages = [{"role": "system", "content": a.system}] if a.system else []
    print("ponder chat — empty line or Ctrl-D to quit", file=sys.stderr)
    while True:
        try:
            line = input("you> ")
        except EOFError:
            break
        if not line.strip():
            break
        messages.append({"role": "user", "content": line})
        print("model> ", end="", flush=True)
        reply = stream_chat(model, tok, messages, max_new_tokens=a.max_new_tokens, temperature=a.temperature,
                            top_p=a.top_p, top_k=a.top_k, min_p=a.min_p, seed=a.seed,
                            on_text=lambda t: print(t, end="", flush=True))
        print()
        messages.append({"role": "assistant", "content": reply})


def cmd_info(a):
    from .checkpoint import load, resolve

    model, tok = load(a.path, dtype=a.dtype)
    c = model.config
    info = {
        "path": str(resolve(a.path)),
        "architecture": c.model_type,
        "parameters": sum(p.numel() for p in model.parameters()),
        "dtype": str(model.dtype).removeprefix("torch."),
        "layers": c.num_hidden_layers, "hidden_size": c.hidden_size, "intermediate_size": c.intermediate_size,
        "heads": c.num_attention_heads, "kv_heads": c.num_key_value_heads, "head_dim": c.head_dim,
        "qk_norm": c.qk_norm, "attention_bias": c.attention_bias, "tied_embeddings": c.tie_word_embeddings,
        "rope_theta": c.rope_theta, "rope_scaling": c.rope_scaling,
        "max_position_embeddings": c.max_position_embeddings,
        "vocab_size": c.vocab_size, "tokenizer_vocab": tok.vocab_size, "eos_token": tok.eos_token,
    }
    if a.json:
        print(json.dumps(info))
    else:
        w = max(map(len, info))
        for k, v in info.items():
            print(f"{k:<{w}}  {v:,}" if isinstance(v, int) and not isinstance(v, bool) else f"{k:<{w}}  {v}")


# ---- parser --------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ponder",
        description="Build reasoning language models: pretrain, SFT, RL with verifiable rewards (GRPO family), "
                    "test-time scaling and honest evaluation. Every command takes --help.",
    )
    p.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    g = sub.add_parser("generate", help="sample completions from a model",
                       description="Sample completions for one or more prompts. Prompts are used exactly as given "
                                   "unless --chat wraps each in the chat template as a user message.")
    g.add_argument("prompt", nargs="+", help="prompt text (repeat for a batch)")
    _model_arg(g)
    _add_sampling(g, max_new=128)
    g.add_argument("-n", type=int, default=1, help="samples per prompt (default 1)")
    g.add_argument("--chat", action="store_true", help="render each prompt as a user chat message")
    g.add_argument("--completion-only", action="store_true", help="print only the completion, not the prompt")
    g.add_argument("--json", action="store_true", help="print results as JSON")
    g.set_defaults(fn=cmd_generate)

    c = sub.add_parser("chat", help="interactive chat that streams tokens",
                       description="Chat with a model in the terminal; tokens stream as they are generated.")
    _model_arg(c)
    _add_sampling(c, max_new=512, temperature=0.7)
    c.add_argument("--system", default=None, help="system prompt")
    c.set_defaults(fn=cmd_chat)

    i = sub.add_parser("info", help="architecture, parameter count, dtype and vocabulary of a checkpoint",
                       description="Describe a checkpoint directory (or 'tiny').")
    i.add_argument("path", nargs="?", default="tiny", help="checkpoint directory or 'tiny'")
    i.add_argument("--dtype", default=None, help="load in this dtype")
    i.add_argument("--json", action="store_true", help="print as one JSON object")
    i.set_defaults(fn=cmd_info)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    if not getattr(a, "fn", None):
        parser.print_help()
        return 0
    try:
        a.fn(a)
    except PonderError as e:
        if a.debug:
            raise
        print(f"ponder {a.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
