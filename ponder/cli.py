"""`ponder` command line: parses arguments and calls library functions; nothing else lives here."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shlex
import signal
import sys
import threading
from pathlib import Path

from . import __version__
from .errors import PonderError, headline
from .fileio import counted, json_safe


# ---- argument types: a bad number is one line naming its flag (argparse adds "argument --steps: ") -------
def _int(text: str, lo: int, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if v < lo:
        raise argparse.ArgumentTypeError(f"must be {what}, got {v}")
    return v


RAY_WORKERS_HELP = ("Ray actors for --ray; they must be running within PONDER_RAY_START_TIMEOUT_S seconds "
                    "(environment variable; 120 if unset), else the command stops, saying how many CPUs are free; "
                    "an actor that does not answer a call within PONDER_RAY_CALL_TIMEOUT_S seconds (86400 if unset; "
                    "'none': no limit) is stopped, and so is the command")


def _dtype(text: str) -> str:
    # checked at parsing (it said "unknown dtype", the keyword, after the command had started)
    from .checkpoint import DTYPES

    if text not in DTYPES:
        raise argparse.ArgumentTypeError(f"unknown dtype {text!r}; choose from {', '.join(DTYPES)}")
    return text


def _reward_spec(text: str) -> str:
    # an empty --reward (an unset shell variable, --reward "$R") was taken as no --reward: distill silently used
    # the default reward, eval loaded its model before the spec was refused
    if not text.strip():
        raise argparse.ArgumentTypeError("empty; name a verifier, e.g. math or 'math+0.1*format'")
    return text


def _positive_int(text: str) -> int:
    return _int(text, 1, "a positive integer")


def _nonneg_int(text: str) -> int:
    return _int(text, 0, "an integer >= 0")


def _seed(text: str) -> int:
    v = _int(text, 0, "an integer >= 0")
    if v >= 2**32:
        raise argparse.ArgumentTypeError(f"must be below 2**32, got {v}")
    return v


def _finite_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return v


def _temperature(text: str) -> float:
    v = _finite_float(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return v


def _positive_temperature(text: str) -> float:  # (where samples are compared: greedy ones are all alike)
    v = _finite_float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return v


def _top_p(text: str) -> float:  # (a range error said top_p, the keyword, and at temperature 0 only "not used")
    v = _finite_float(text)
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return v


def _min_p(text: str) -> float:
    v = _finite_float(text)
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return v


def _positive_float(text: str) -> float:
    v = _finite_float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return v


FP32_MAX = 3.4028234663852886e38  # torch.finfo(torch.float32).max, without importing torch to parse a line


def _lr(text: str) -> float:  # (the configs' own check said "lr must be at most", the field, not the flag)
    v = _positive_float(text)
    if v > FP32_MAX:
        raise argparse.ArgumentTypeError(f"must be at most {FP32_MAX:.4g} (fp32's largest number), got {text}")
    return v


_STOP_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def _stop_string(text: str) -> str:
    """A --stop value with its backslash escapes read: a shell passes '\\n' as a backslash and an n, so a stop at
    a newline never matched (llama.cpp reads its reverse prompts so too); an unknown escape stays as typed."""
    if not text:  # (an empty stop was accepted and silently ignored: the user meant some stop)
        raise argparse.ArgumentTypeError("an empty stop string stops nothing: give the text to stop at")
    return re.sub(r"\\(.)", lambda m: _STOP_ESCAPES.get(m[1], m[0]), text, flags=re.S)


_FROM_CHECKPOINT = "(default: the {} in the checkpoint's generation_config.json if it sets do_sample true, else {})"


def _add_sampling(p: argparse.ArgumentParser, max_new: int = 256, temperature: float = 0.0):
    """generate's and chat's options; the four sampling settings not given come from the checkpoint, as in
    transformers and vLLM (see _sampling)."""
    g = p.add_argument_group("sampling")
    g.add_argument("--max-new-tokens", type=_positive_int, default=max_new, help="tokens to generate at most")
    g.add_argument("--temperature", type=_temperature, default=temperature, help="sampling temperature; 0 = greedy "
                   + _FROM_CHECKPOINT.format("temperature", f"{temperature}{' = greedy' * (temperature == 0)}; with do_sample true "
                                             "and no temperature: 1.0"))
    g.add_argument("--top-p", type=_top_p, default=1.0,
                   help="nucleus sampling mass, in (0, 1]; 1.0 = off " + _FROM_CHECKPOINT.format("top_p", "1.0"))
    g.add_argument("--top-k", type=_nonneg_int, default=0,
                   help="keep the k most likely tokens; 0 = off " + _FROM_CHECKPOINT.format("top_k", "0"))
    g.add_argument("--min-p", type=_min_p, default=0.0,
                   help="drop tokens below min_p x the top probability; 0 = off " + _FROM_CHECKPOINT.format("min_p", "0.0"))
    g.add_argument("--stop", action="append", default=None, type=_stop_string,
                   help="stop string (repeatable): the text ends before it; backslash escapes \\n (newline), "
                        "\\t, \\r, \\\\ (a backslash), \\' and \\\" are read as in llama.cpp's reverse prompts "
                        "(--stop '\\n' stops at a newline; '\\\\n' at a backslash and an n); any other backslash "
                        "is kept")
    g.add_argument("--seed", type=_seed, default=0, help="random seed; the same seed gives the same samples")


_STREAMS_HELP = ("CPU: run each micro-batch as N shards at the same time, one thread each, N cores in all whatever "
                 "--threads says: at small widths one op cannot keep several cores busy (the tiny recipe's shape on "
                 "2 cores: --streams 2 1.5-1.6x the tokens/s of --threads 1 and 1.0-1.16x that of --threads 2; "
                 "README); and a stream of one thread never spin-waits on a core another job holds (2.1x "
                 "--threads 2 there); rounds differently from 1 stream (gradients summed per shard), "
                 "reproducible run to run; recorded, --resume keeps it")
_BF16_HELP = ("mixed precision: matmuls and attention in bf16 under autocast, weights, norms, softmax and the "
              "optimizer in fp32 (on CPUs with AVX512-BF16 or AMX about 1.6x the fp32 tokens/s, bench/train.py; "
              "without them emulated and ~13x slower, with a warning; not bit-identical to fp32); held-out and "
              "validation losses are still measured in fp32")
# what load_dataset reads (ponder/tasks/data.py): every --data names it
_DATA_FILE = "JSONL (or .jsonl.gz), a JSON array or Parquet"
# a --data of task items (eval, grpo, distill): the gold is read by the math verifier only
_TASK_DATA = f"{_DATA_FILE} with prompt (or problem) and answer (the math reward's gold; other rewards read their own fields)"


def _data_fields_args(p, files="--data"):
    """--prompt-field/--answer-field: the rows' own field names (load_dataset's prompt_field/answer_field), for a
    dataset in another layout than prompt/answer, which was otherwise loaded only after editing the file."""
    p.add_argument("--prompt-field", default=None,
                   help=f"the field of the {files} rows holding the prompt (default: prompt, else problem), e.g. "
                        "question (GSM8K), Problem (AIME); a dotted name reads a nested one: extra_info.question")
    p.add_argument("--answer-field", default=None,
                   help=f"the field of the {files} rows holding the gold answer (default: answer, else verl's "
                        "reward_model.ground_truth), e.g. Answer (AIME) or solution (MATH: the math verifier reads "
                        "a worked solution's last \\boxed{} (adjacent boxes as one list), and GSM8K's '#### 72' as 72)")


# what every training run directory holds (train.py, rl/trainer.py): named by each training command's --out
_RUN_FILES = "config.json, metrics.jsonl, tensorboard/, training.png, checkpoint/ with the optimizer state"
# a training command's --chat-template-kwargs where every prompt is text used as given: nothing renders them
_TEXT_PROMPTS_KWARGS = ("--chat-template-kwargs: the prompts of {} are text, used as given through no chat "
                        "template{}; or drop --chat-template-kwargs")
_DTYPE_HELP = "weights' dtype: float32 | bfloat16 | float16 (default: fp32 on CPU, the checkpoint's own on GPU)"
_DEVICE_HELP = "cpu | cuda | cuda:1 ..."


def _threads_arg(p, where="in this process (default: torch's, one per core)"):
    p.add_argument("--threads", type=_positive_int, default=None,
                   help=f"torch CPU threads {where}; on a machine busy "
                        "with other work fewer threads than cores avoid OpenMP spin-waits (20 SFT steps of "
                        "the tiny model on a loaded 2-core machine: 19.8 s with 2 threads, 1.0 s with 1; README)")


def _refuse_judge_reward(spec: str | None, command: str) -> None:
    """A --reward with the judge verifier, for a training command that has no judge model to give it (the
    library's own message named a Python call, get_reward(..., judge=make_judge(...)))."""
    if not spec:
        return
    from .verify.registry import _parse

    if "judge" in [t for t, _ in _parse(spec)]:
        raise PonderError(f"--reward {spec}: the judge verifier needs a model to score with, and {command} takes "
                          "none; use a verifier that checks answers (math, countdown, code, constraints)")


def _template_kwargs(text: str) -> dict:
    from .tokenizer import check_template_kwargs

    try:
        return check_template_kwargs(json.loads(text), "")
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not JSON ({e.msg} at character {e.pos}): {text!r:.60}") from None
    except PonderError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix(": ")) from None


# what --chat-template-kwargs does with --resume, where a command has it (generate, chat and probe have none)
_TEMPLATE_TRAIN = "; the run records them and --resume reuses them"
_TEMPLATE_EVAL = "; recorded in config.json, and --resume must be given the same"


def _template_arg(p, resume_note=""):
    p.add_argument("--chat-template-kwargs", type=_template_kwargs, default={}, metavar="JSON",
                   help="extra variables for the checkpoint's chat template at every render, as a JSON object, "
                        "e.g. '{\"enable_thinking\": false}' for Qwen3's non-thinking mode (vLLM's and TRL's "
                        "chat_template_kwargs)" + resume_note)


def _model_arg(p, default="tiny", resume_note=""):
    p.add_argument("--model", "-m", default=default,
                   help="checkpoint directory in HF format, or 'tiny' for the built-in model")
    p.add_argument("--dtype", type=_dtype, default=None, help=_DTYPE_HELP)
    p.add_argument("--device", default="cpu", help=_DEVICE_HELP)
    _template_arg(p, resume_note)


def _load(a, path):
    """(model, tok) from a checkpoint with the command's --dtype, --device and --chat-template-kwargs."""
    from . import checkpoint

    model, tok = checkpoint.load(path, dtype=a.dtype, device=a.device)
    tok.template_kwargs = dict(getattr(a, "chat_template_kwargs", None) or {})
    return model, tok


# ---- commands ------------------------------------------------------------------------------------
def _sampling(a) -> None:
    """Set a.temperature, a.top_p, a.top_k and a.min_p not given on the command line from the checkpoint's
    generation_config.json, field by field as transformers merges a caller's settings with the file's (a flag wins
    for its own setting only: --top-k 5 on a Qwen3 checkpoint samples at its temperature 0.6 and top_p 0.95),
    and say so once on stderr. A file without do_sample true leaves the command's defaults. Settings of the file
    that Ponder cannot apply (a repetition_penalty) are named on stderr too. --quiet says neither."""
    from .checkpoint import SAMPLING_FIELDS, sampling_defaults, unapplied_generation_settings

    given = getattr(a, "given", set())
    if not all(k in given for k in SAMPLING_FIELDS):  # (else the file could change nothing)
        taken, f = sampling_defaults(a.model, given)
        for k, v in taken.items():
            setattr(a, k, v)
        if taken and a.temperature != 0 and not getattr(a, "quiet", False):  # (greedy: the others change nothing)
            print(f"sampling settings from {f}: " + ", ".join(f"{k} {v}" for k, v in taken.items())
                  + "; pass --temperature 0 for greedy", file=sys.stderr)
    # what the file sets that transformers would apply and Ponder cannot: said, not dropped silently beside the
    # note above (a user comparing with transformers read that as the whole file)
    unapplied, f = unapplied_generation_settings(a.model)
    if unapplied and not getattr(a, "quiet", False):
        print(f"not applied from {f} (transformers' generate() applies them; Ponder's sampling has no such "
              f"setting): {', '.join(unapplied)}", file=sys.stderr)


def _check_greedy_unused(a) -> None:
    """--top-p, --top-k and --min-p shape a sampled distribution: given with temperature 0 (greedy, after the
    checkpoint's own settings were taken) they changed nothing, silently (eval refuses top_p with greedy)."""
    off = {"top_p": 1.0, "top_k": 0, "min_p": 0.0}  # (given at these values they filter nothing anyway)
    given = [f"--{k.replace('_', '-')} {getattr(a, k):g}" for k in off
             if k in getattr(a, "given", ()) and getattr(a, k) != off[k]]
    if a.temperature == 0 and given:
        why = "--temperature 0" if "temperature" in getattr(a, "given", ()) else "temperature 0, the default"
        raise PonderError(f"{', '.join(given)}: not used at {why} (greedy decoding takes the most likely token); "
                          "pass --temperature > 0 to sample")


def cmd_generate(a):
    from . import engine

    if a.chat_template_kwargs and not a.chat:  # (a prompt used as given renders no template: they went unused)
        raise PonderError("--chat-template-kwargs: used only with --chat (without it the prompts are used exactly "
                          "as given, through no chat template)")
    if a.system is not None and not a.chat:  # (a prompt used as given has no system turn to put it in; said
        # before the model loads, not after)
        raise PonderError("--system: used only with --chat (without it the prompts are used exactly as given)")
    _sampling(a)
    _check_greedy_unused(a)
    if a.n > 1 and a.temperature == 0:  # (eval refuses it too) greedy draws are all the same
        why = "greedy" if "temperature" in getattr(a, "given", ()) else "greedy, the default"
        raise PonderError(f"-n {a.n} at --temperature 0 ({why}) gives {a.n} identical samples; "
                          "pass --temperature > 0 to sample")
    model, tok = _load(a, a.model)
    prompts = list(a.prompt)
    # an empty prompt, named as the output below numbers them (the engine said "prompt 0", its 0-based index)
    empty = [j for j, p in enumerate(prompts) if not p]
    if empty and not a.chat and tok.bos_token_id is None:
        which = f"prompt {empty[0] + 1}/{len(prompts)}" if len(prompts) > 1 else "the prompt"
        raise PonderError(f"{which} is empty: the model has nothing to continue from (its tokenizer has no BOS "
                          "token); give some text, or pass --chat to send it as a user message")
    if a.chat:
        system = [{"role": "system", "content": a.system}] if a.system is not None else []
        prompts = [[*system, {"role": "user", "content": p}] for p in prompts]
    # a prompt too long for the context, named as the output below numbers them (the engine's index is 0-based)
    engine.check_context(model, engine.render_prompts(tok, prompts), a.max_new_tokens, what="--max-new-tokens",
                         names=[f"prompt {j + 1}/{len(prompts)}" for j in range(len(prompts))] if len(prompts) > 1
                         else None)
    # a bar only on a terminal: generate's stderr, piped, holds its notes and nothing else
    bar = None
    if not a.quiet and sys.stderr.isatty():
        from .progress import progress_bar

        bar = progress_bar(total=len(prompts) * a.n, desc="generate", unit="sample", dynamic_ncols=True,
                           leave=False)
    try:
        out = engine.sample(model, tok, prompts, n=a.n, max_new_tokens=a.max_new_tokens, temperature=a.temperature,
                            top_p=a.top_p, top_k=a.top_k, min_p=a.min_p, stop=a.stop, seed=a.seed,
                            progress=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    if a.json:
        rows = [{"prompt": p if isinstance(p, str) else p[-1]["content"], "samples": [
            {"text": s.text, "tokens": s.num_tokens, "finish_reason": s.finish_reason,
             "logprob_sum": sum(s.logprobs)} for s in group]} for p, group in zip(a.prompt, out)]
        # one JSON object of one shape whatever the number of prompts: a script reads out["results"][i] always
        print(json.dumps(json_safe({"results": rows})))
        return
    several = len(a.prompt) > 1  # (completions of several prompts, run together, said nothing of whose they were)
    for j, (p, group) in enumerate(zip(a.prompt, out)):
        for i, s in enumerate(group):
            if a.n > 1 or several:
                which = ", ".join(([f"prompt {j + 1}/{len(out)}"] if several else [])
                                  + ([f"sample {i + 1}/{len(group)}"] if a.n > 1 else []))
                print(f"--- {which} ({counted(s.num_tokens, 'token')}, {s.finish_reason})")
            print(p + s.text if not a.chat and not a.completion_only else s.text)
            if s.finish_reason == "length" and not (a.n > 1 or several or a.quiet):  # (no header says it: a text
                # cut mid-sentence read as the model's whole answer, as chat's did)
                print(f"(this completion was cut at {counted(s.num_tokens, 'token')}: --max-new-tokens "
                      f"{a.max_new_tokens})", file=sys.stderr)


def _to_end(gen, end: dict):
    """The items of generator `gen`; its return value is put in end["value"] once it has run out."""
    end["value"] = yield from gen


def cmd_chat(a):
    from .engine import check_sampling, render_prompts, stream
    from .model import model_context

    # bad settings before the model loads and the first line is typed, not after it
    _sampling(a)
    _check_greedy_unused(a)
    check_sampling(max_new_tokens=a.max_new_tokens, temperature=a.temperature, top_p=a.top_p, top_k=a.top_k,
                   min_p=a.min_p, seed=a.seed)
    model, tok = _load(a, a.model)
    # an empty --system is sent as given, as generate --chat does: a template renders an empty system turn
    # differently from none (Qwen's puts its default system prompt in where there is none)
    messages = [{"role": "system", "content": a.system}] if a.system is not None else []
    limit, how = model_context(model)
    how = f" ({how})" if how else ""  # where a context other than max_position_embeddings comes from
    # rendered once before the first line: a checkpoint without a chat template failed at the first message typed
    # (the session over), and a system prompt that fills the context refused every line, blaming the line
    least = len(render_prompts(tok, [messages + [{"role": "user", "content": ""}]])[0])
    if a.system and least >= limit:
        raise PonderError(f"--system: the system prompt leaves no room for a message and a reply ({least} tokens "
                          f"with an empty message, the model's context {limit}{how})")
    print("ponder chat — empty line, Ctrl-D or /exit to quit; /reset starts the conversation over; Ctrl-C stops "
          "a reply", file=sys.stderr)
    turn = 0  # replies drawn this session: each its own random stream (0, 1, ...), a retry after /reset too
    while True:
        try:
            line = input("you> ")
        except EOFError:  # Ctrl-D: end the "you> " line (the shell's prompt went on after it)
            print()
            break
        except KeyboardInterrupt:  # at the prompt: quit ("interrupted" on a line of its own, not after "you> ")
            print(file=sys.stderr)
            raise
        if not line.strip() or line.strip() in ("/exit", "/quit"):
            break
        if line.strip() == "/reset":  # (the system prompt stays: it is the session's, not the conversation's)
            messages = messages[:1] if a.system is not None else []
            print("(conversation cleared)", file=sys.stderr)
            continue
        try:  # a byte that is not UTF-8 (decoded as a lone surrogate) failed the render: the whole chat ended
            line.encode("utf-8")
        except UnicodeEncodeError as e:
            print(f"(not sent: the line is not valid UTF-8 text at character {e.start + 1}; an empty line ends this "
                  "chat)", file=sys.stderr)
            continue
        messages.append({"role": "user", "content": line})
        # The conversation grows each turn: past the context with --max-new-tokens it ended the whole session (at
        # once with the default 512 on a 512-position model). A reply is capped to the room left instead (said on
        # stderr when --max-new-tokens was given), and a message that leaves no room is not sent.
        used = len(render_prompts(tok, [messages])[0])
        room = min(a.max_new_tokens, limit - used)
        if room <= 0:
            messages.pop()
            print(f"(not sent: the conversation with it is {used} tokens, the model's context "
                  f"{limit}{how}; /reset starts the conversation over, an empty line "
                  "ends this chat)", file=sys.stderr)
            continue
        if room < a.max_new_tokens and "max_new_tokens" in getattr(a, "given", ()):  # (the default: silently)
            print(f"(this reply is capped at {room} tokens: the conversation takes {used} of the model's "
                  f"{limit} positions{how})", file=sys.stderr)
        print("model> ", end="", flush=True)
        reply, shown = "", 0  # shown: characters of the reply printed so far
        stops = [x for x in a.stop or [] if x]
        end = {}  # stream()'s finish reason, once it has run to its end
        try:
            for piece in _to_end(stream(model, tok, messages, max_new_tokens=room, temperature=a.temperature,
                                        top_p=a.top_p, top_k=a.top_k, min_p=a.min_p, seed=a.seed, index=turn), end):
                reply += piece
                cut = min((i for i in (reply.find(x) for x in stops) if i >= 0), default=-1)
                if cut >= 0:  # a --stop string: the reply ends before it
                    reply = reply[:cut]
                    break
                # A stop string can span pieces: the end of the reply that could begin one waits for the next
                # piece (printed at once, the start of a stop string showed although the reply ended before it)
                held = max((k for x in stops for k in range(1, len(x)) if reply.endswith(x[:k])), default=0)
                print(reply[shown:len(reply) - held], end="", flush=True)
                shown = len(reply) - held
        except Terminated:  # SIGTERM (a scheduler, `timeout`), SIGHUP: the session ends, not only the reply
            print()
            raise
        except KeyboardInterrupt:  # during a reply: that reply stops (kept as far as it went), the chat goes on
            print(reply[shown:] + " [stopped]", end="", flush=True)
            shown = len(reply)
        print(reply[shown:])
        if end.get("value") == "length":  # (a reply cut mid-sentence read as the model's whole answer)
            why = (f"--max-new-tokens {room}" if room == a.max_new_tokens else
                   f"the conversation fills the model's {limit} positions{how}")
            print(f"(this reply was cut at {room} tokens: {why})", file=sys.stderr)
        messages.append({"role": "assistant", "content": reply})
        turn += 1


def cmd_info(a):
    from .checkpoint import checkpoint_dtype, describe, load_config, resolve

    if a.path is not None and a.model is not None:
        raise PonderError(f"--model {a.model}: the checkpoint is already given as {a.path!r}; give one of the two")
    a.path = a.model or a.path or "tiny"

    # the checkpoint's own dtype unless --dtype says otherwise (load()'s CPU default, fp32, reported float32
    # for a bf16 checkpoint, and took twice its memory to say so)
    dtype = a.dtype or checkpoint_dtype(load_config(resolve(a.path)), resolve(a.path))
    # what load() would give, from the config and the weights' headers: loading a 70B model's weights to count
    # them took minutes and its size in memory
    c, tok, parameters, dtype = describe(a.path, dtype=dtype)
    info = {
        "path": str(resolve(a.path)),
        "architecture": c.model_type,
        "parameters": parameters,
        "dtype": str(dtype).removeprefix("torch."),
        "layers": c.num_hidden_layers, "hidden_size": c.hidden_size, "intermediate_size": c.intermediate_size,
        "heads": c.num_attention_heads, "kv_heads": c.num_key_value_heads, "head_dim": c.head_dim,
        "qk_norm": c.qk_norm, "attention_bias": c.attention_bias, "tied_embeddings": c.tie_word_embeddings,
        "rope_theta": c.rope_theta, "rope_scaling": c.rope_scaling,
        "max_position_embeddings": c.max_position_embeddings,
        # tokenizer_vocab: the bound of its ids (1 + the largest), as the model's vocab_size is; tokenizer_tokens:
        # how many it has (fewer where ids are unused, a tiktoken conversion's)
        "vocab_size": c.vocab_size, "tokenizer_vocab": tok.vocab_size, "tokenizer_tokens": tok.num_tokens,
        "eos_token": tok.eos_token,
    }
    if a.json:
        print(json.dumps(json_safe(info)))  # (a NaN in rope_scaling is no JSON)
    else:
        w = max(map(len, info))
        for k, v in info.items():
            print(f"{k:<{w}}  {v:,}" if isinstance(v, int) and not isinstance(v, bool) else f"{k:<{w}}  {v}")


def _vocab(text: str) -> int:
    """argparse type for --vocab: the library's range, said by the flag (it said vocab_size=100, its keyword)."""
    from .tokenizer import SPECIAL_TOKENS
    from .train import MAX_VOCAB, MIN_VOCAB

    v = _int(text, MIN_VOCAB, f"at least {MIN_VOCAB} (256 bytes and {len(SPECIAL_TOKENS)} special tokens)")
    if v > MAX_VOCAB:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_VOCAB:,} (2**20), got {v}")
    return v


def _terse_share(text: str):
    """argparse type for --terse-share: "0.7" or "2:0.15,3:0.85"."""
    try:
        if ":" not in text:
            v = float(text)
            if not 0 <= v <= 1:  # (nan too)
                raise argparse.ArgumentTypeError(f"the share must be between 0 and 1, got {text}")
            return v
        pairs = [(int(k), float(v)) for k, v in (part.split(":") for part in text.split(","))]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share like 0.7 or N:SHARE pairs like 2:0.15,3:0.85, "
                                         f"got {text!r}") from None
    twice = sorted({k for k, _ in pairs if [n for n, _ in pairs].count(k) > 1})
    if twice:  # (a dict kept the last one silently)
        raise argparse.ArgumentTypeError(f"{twice[0]} operations given two shares in {text!r}; give each once")
    # (the corpus builder's messages named its keyword, "terse_share[2] must be between 0 and 1")
    bad = next((f"{k}:{v:g}" for k, v in pairs if not 0 <= v <= 1), None)
    if bad:
        raise argparse.ArgumentTypeError(f"each share must be between 0 and 1, got {bad} in {text!r}")
    low = next((k for k, _ in pairs if k < 1), None)
    if low is not None:
        raise argparse.ArgumentTypeError(f"a number of operations is 1 or more, got {low} in {text!r}")
    return dict(pairs)


def cmd_pretrain(a):
    from .train import (
        MIN_VOCAB,
        TINY_CORPUS,
        TINY_TRAIN,
        TrainConfig,
        check_pretrain_settings,
        config_from,
        kind_phrase,
        pretrain,
        tiny_model_config,
    )

    run = a.out
    if a.resume:
        from .train import check_steps_left, read_run_config, saved_step

        saved = read_run_config(run)
        if saved.get("kind") != "pretrain":  # (an sft run's config.json has its "train" settings too)
            raise PonderError(f"{run}: holds {kind_phrase(saved)}, not a 'pretrain' run")
        if not isinstance(saved.get("train"), dict):
            raise PonderError(f"{run}: not a pretraining run (its config.json has no pretraining settings)")
        if not isinstance(saved.get("corpus"), dict):  # made by train.pretrain() on documents of its caller's
            raise PonderError(f"{run}: the run was made by the Python API on its own documents (its config.json "
                              "records no corpus settings); resume it with ponder.train.pretrain(..., resume=True) "
                              "and the same documents")
        corpus = saved["corpus"]
        for k, v in ({} if "file" in corpus else corpus).items():  # (a hand-edited config.json: one line, not a TypeError from the generator)
            if k not in TINY_CORPUS or (k in ("n_docs", "seed") and (isinstance(v, bool) or not isinstance(v, int))):
                raise PonderError(f"{Path(run) / 'config.json'}: corpus.{k}: " + (
                    "expected an integer" if k in TINY_CORPUS else "unknown setting") + f", got {json.dumps(v)[:60]}")
        was = config_from(TrainConfig, saved["train"], f"{Path(run) / 'config.json'}: train")  # before the corpus
        at = saved_step(Path(run))
        if at is not None:  # (a finished run resumed without a higher --steps was told so after its ~10 s corpus)
            check_steps_left(run, at, a.steps or was.steps)
        if "file" in corpus or a.corpus or a.heldout_corpus:  # a run on a corpus file (--corpus)
            docs, held, moved = _file_corpus_of_run(run, corpus, a)
        else:
            (docs, held), moved = _pretrain_corpus({**TINY_CORPUS, **corpus}, a.quiet), None
        # (--threads: another count than the run's own, which it resumes at otherwise)
        pretrain(run, docs, train=TrainConfig(steps=a.steps, threads=a.threads), resume=True, heldout_docs=held,
                 progress=not a.quiet, corpus=moved)
        _print_run(run, a.json)
        return
    if a.corpus:
        mixed = [f for f, v in (("--docs", a.docs), ("--terse-share", a.terse_share)) if v is not None]
        if mixed:
            raise PonderError(f"{' and '.join(mixed)}: settings of the synthetic corpus; not with --corpus")
    elif a.heldout_corpus:
        raise PonderError("--heldout-corpus: the held-out documents of a --corpus FILE; pass --corpus too")
    corpus = {**TINY_CORPUS, **{k: v for k, v in (("n_docs", a.docs), ("seed", a.seed),
                                                 ("terse_share", a.terse_share)) if v is not None}}
    train = TrainConfig(**{**TINY_TRAIN.__dict__, **{k: v for k, v in (
        ("steps", a.steps), ("batch_size", a.batch_size), ("lr", a.lr), ("seq_len", a.seq_len),
        ("seed", a.seed), ("threads", a.threads), ("compile", a.compile or None), ("bf16", a.bf16 or None),
        ("streams", a.streams), ("save_every", a.save_every), ("eval_every", a.eval_every))
        if v is not None}}).validate()
    mc = tiny_model_config(a.hidden, a.layers)  # (a --hidden whose derived shape is invalid: refused here)
    # pretrain() widens the model's vocabulary to the tokenizer's: from the smallest any tokenizer has, the model's
    # is the tokenizer's (from the recipe's 512, --vocab 300 kept 512 rows; the recipe's tokenizer has 512 tokens)
    mc.vocab_size = MIN_VOCAB
    check_pretrain_settings(Path(run), train, mc, a.vocab)  # before the corpus, which takes ~10 s to build
    if a.corpus:
        corpus = {"file": str(Path(a.corpus).resolve()), "sha256": None,
                  "heldout_file": str(Path(a.heldout_corpus).resolve()) if a.heldout_corpus else None,
                  "heldout_sha256": None}
        docs, held = _read_corpus_files(corpus, a.corpus, a.heldout_corpus)
    else:
        docs, held = _pretrain_corpus(corpus, a.quiet)
    pretrain(run, docs, model_config=mc, train=train, vocab_size=a.vocab, heldout_docs=held,
             progress=not a.quiet, corpus=corpus)
    _print_run(run, a.json)


def _read_corpus_files(corpus: dict, path, heldout_path) -> tuple[list[str], list[str] | None]:
    """(training documents, held-out documents) of a --corpus FILE (and --heldout-corpus FILE, else the corpus's
    split by hash); fills in `corpus`'s sha256 of each file, read before its documents."""
    from .train import file_sha256, load_corpus, split_corpus

    docs = load_corpus(path)  # (first: a missing or bad file is said as the corpus's)
    corpus["sha256"] = file_sha256(path)
    if heldout_path:
        held = load_corpus(heldout_path)
        corpus["heldout_sha256"] = file_sha256(heldout_path)
        return docs, held
    docs, held = split_corpus(docs)
    return docs, held or None


def _file_corpus_of_run(run, corpus: dict, a) -> tuple[list[str], list[str] | None, dict | None]:
    """The documents of a run made with --corpus, from its recorded files (or --corpus/--heldout-corpus where they
    moved), refused in one line when a file is not the one the run recorded (its sha256); and the run's corpus
    settings with the new paths where a file moved (else None), for pretrain() to record."""
    from .train import file_sha256

    conf = Path(run) / "config.json"
    if "file" not in corpus:
        raise PonderError(f"{run}: the run trains on the synthetic corpus; drop --corpus/--heldout-corpus")
    for k in ("file", "sha256", "heldout_file", "heldout_sha256"):
        v = corpus.get(k)
        if not (isinstance(v, str) or (k.startswith("heldout") and v is None)):
            raise PonderError(f"{conf}: corpus.{k}: expected a string, got {json.dumps(v)[:60]}")
    if a.heldout_corpus and not corpus["heldout_file"]:
        raise PonderError(f"{run}: the run holds out part of its corpus (it had no --heldout-corpus); drop "
                          "--heldout-corpus")
    got = {}
    for flag, key, given in (("--corpus", "file", a.corpus), ("--heldout-corpus", "heldout_file", a.heldout_corpus)):
        path = given or corpus[key]
        if path is None:
            continue
        if not given and not Path(path).exists():
            raise PonderError(f"{run}: its corpus file {path} (recorded in its config.json): no such file; if it "
                              f"moved, pass its new path as {flag} (the run checks the file's sha256, not its path)")
        want = corpus["sha256" if key == "file" else "heldout_sha256"]
        have = file_sha256(path)
        if have != want:
            raise PonderError(f"{path}: not the corpus the run was trained on (sha256 {have[:12]}, the run's "
                              f"{want[:12]}); resume with the same file, or start a new run")
        got[key] = path
    # a file given at a new path (its sha256 matched): recorded, so that the next --resume finds it without the flag
    # (by pretrain(), once the resume's every check has passed and it holds the run's lock: a refused resume leaves
    # config.json as it was)
    moved = {key: str(Path(got[key]).resolve()) for key, given in (("file", a.corpus), ("heldout_file", a.heldout_corpus))
             if given and str(Path(given).resolve()) != corpus[key]}
    return (*_read_corpus_files(dict(corpus), got["file"], got.get("heldout_file")),
            {**corpus, **moved} if moved else None)


def _print_run(run, as_json: bool, **extra):
    """A training command's result: the run summary as one JSON object, or as lines for a person."""
    from .train import format_run_summary, summarize_run
    s = {**summarize_run(run), **extra}
    print(json.dumps(json_safe(s)) if as_json else format_run_summary(s))


def _out_dir(out) -> str | None:
    """The directory --out wrote, as every --json names it ("run_dir", as the training commands' and demo's
    summaries do), or None without --out: a script finds it under one key, present whatever the options."""
    return None if out is None else str(Path(out))


def _pretrain_corpus(corpus: dict, quiet: bool = False) -> tuple[list[str], list[str]]:
    """(training documents, held-out documents): 500 drawn with another seed, less any that is also a
    training document (short terse answers repeat: about one in eight would otherwise be seen in training)."""
    from .tasks.corpus import build_corpus

    if not quiet:  # (the recipe's corpus takes seconds to tens of seconds, before any progress bar)
        print(f"pretrain: building the corpus ({corpus['n_docs']:,} documents)", file=sys.stderr)

    docs = build_corpus(**corpus)
    seen = set(docs)
    held = [d for d in build_corpus(**{**corpus, "n_docs": 500, "seed": corpus["seed"] + 10_000}) if d not in seen]
    return docs, held


def cmd_sft(a):
    from .train import (
        TrainConfig,
        chat_examples,
        fresh_run_dir,
        kind_phrase,
        load_sft_examples,
        read_run_config,
        sft,
    )

    val = load_sft_examples(a.val_data) if a.val_data else None
    if a.resume:
        saved = read_run_config(a.out)
        if saved.get("kind") != "sft":  # said before asking for its data
            raise PonderError(f"{a.out}: holds {kind_phrase(saved)}, not an 'sft' run")
        data = saved.get("data") or {}
        src = a.data or data.get("data") or (data.get("distilled") and Path(a.out) / data["distilled"])
        if not src:
            raise PonderError(f"{a.out}: its config.json names no data file; pass --data")
        # A recorded file that has moved said only "no such file", with no word of --data taking its new path
        # (the run checks the examples by digest, not by path).
        for flag, what, path, given in (("--data", "data", src, a.data),
                                        ("--val-data", "validation data", data.get("val_data"), a.val_data)):
            if path and not given and not Path(path).exists():
                raise PonderError(f"{a.out}: its {what} file {path} (recorded in its config.json): no "
                                  f"such file; if it moved, pass its new path as {flag} (the run checks the "
                                  "examples, not the path)")
        if val is None and data.get("val_data"):
            val = load_sft_examples(data["val_data"])
        rows = load_sft_examples(src)
        # a file given at a new path: recorded by sft() once its examples matched the run's (by digest)
        moved = {k: str(Path(v).resolve()) for k, v in (("data", a.data), ("val_data", a.val_data)) if v}
        final = sft(None, None, rows, a.out, train=TrainConfig(steps=a.steps, threads=a.threads), resume=True,
                    val_examples=val, progress=not a.quiet, device=a.device if "device" in a.given else None,
                    data={**data, **moved} if moved else None, on_cut=_cut_warner("sft"))
    else:
        if not a.data:
            raise PonderError("sft: --data FILE.jsonl is required (except with --resume)")
        if a.system is not None and not a.chat:  # (a text prompt is used as given: it had no turn to go in)
            raise PonderError("--system is the system message of chat prompts: add --chat, or drop --system")
        rows = load_sft_examples(a.data)
        chat_rows = rows
        if a.chat:  # --system on top of a row of chat messages, refused before the model loads (sft() wraps them)
            chat_rows = chat_examples(rows, a.system, "--system")
            chat_examples(val or (), a.system, "--system")
        if a.chat_template_kwargs and not a.chat and all(isinstance(r.get("prompt"), str) for r in rows):
            # (no messages: every row is a text prompt used as-is, through no chat template)
            raise PonderError(_TEXT_PROMPTS_KWARGS.format(a.data, "; give --chat to render them through the chat "
                                                          "template"))
        if "turns" in a.given and not any("messages" in r for r in rows):  # (it would be recorded, and unused)
            raise PonderError(f"--turns: {a.data} has no row of `messages` (a prompt/response row trains its "
                              "response); drop --turns")
        steps = a.steps or 200
        train = TrainConfig(steps=steps, batch_size=a.batch_size, grad_accum=a.grad_accum, lr=a.lr,
                            warmup=max(1, steps // 10) if a.warmup is None else a.warmup, seq_len=a.seq_len,
                            seed=a.seed, save_every=a.save_every, eval_every=a.eval_every, bf16=a.bf16,
                            streams=a.streams)
        fresh_run_dir(Path(a.out), a.model, kind="sft")  # before the model loads (a taken --out was said only after)
        _check_chat_renders(a, [a.model], chat_rows)
        model, tok = _load(a, a.model)
        data = {"data": str(Path(a.data).resolve()), "val_data": str(Path(a.val_data).resolve()) if val else None}
        # (there was no --chat: text prompts trained bare, and a model then evaluated with eval --chat was prompted
        # after a template it was never fine-tuned after)
        final = sft(model, tok, rows, a.out, train=train, packing=a.packing, turns=a.turns, chat=a.chat,
                    system=a.system, progress=not a.quiet, model_path=a.model, val_examples=val, data=data,
                    on_cut=_cut_warner("sft"))
    _print_run(a.out, a.json, **_cut_counts(final), examples=len(rows))


def _check_chat_renders(a, models: list, rows: list[dict], sampled: bool = False) -> None:
    """The first row of `rows` whose prompt is chat messages (a `messages` row, or one --chat wrapped), rendered by
    each of `models`' tokenizers alone, before any weights load: a checkpoint without a chat template (or whose
    template refuses the row) was refused with this same error only once the model had loaded, minutes for a
    large one. `rows`: sft's rows (prompt/response or messages), or with `sampled` the items distill samples."""
    from .checkpoint import load_tokenizer
    from .engine import render_prompts
    from .train import encode_sft

    first = next((i for i, r in enumerate(rows) if not isinstance(r.get("prompt"), str)), None)
    if first is None:  # (text prompts only: used as given, no template needed)
        return
    where = getattr(rows, "where", None)
    for path in models:
        tok = load_tokenizer(path)
        tok.template_kwargs = dict(getattr(a, "chat_template_kwargs", None) or {})
        if sampled:  # an item's prompt, to sample after
            render_prompts(tok, [rows[first]["prompt"]], index=[first])
        else:  # a row to train on: rendered as sft() renders it, named by FILE:LINE
            encode_sft(tok, rows[first], where[first] if where and len(where) == len(rows) else f"example {first}",
                       a.turns)


def _cut_counts(final: dict) -> dict:
    """--json's counts of examples cut at --seq-len and of those left out whole (for a script; the warning that
    says them goes to stderr under --json too)."""
    return {k: final.get(k, 0) for k in ("examples_cut", "examples_dropped", "val_examples_cut",
                                          "val_examples_dropped")}


def _cut_warner(cmd: str):
    """sft()'s on_cut for `cmd`: the examples cut at --seq-len said before the first step (said after the last one,
    a run of hours said them only then, and a run that failed or was stopped never did). Said under --json too, on
    stderr as ever: its counts come at the end only, and a person watching the run was told nothing."""
    return lambda c: _warn_cut(cmd, c, c["examples"], c["val_examples"])


def _warn_cut(cmd: str, final: dict, n: int, n_val: int = 0) -> None:
    """Examples cut at --seq-len lose the end of their response, or all of it where the prompt fills --seq-len
    (those are left out): say so, the latter apart."""
    for what, verb, cut, dropped, total in (
            ("example", "trained on", final["examples_cut"], final.get("examples_dropped", 0), n),
            ("validation example", "measured", final.get("val_examples_cut", 0), final.get("val_examples_dropped", 0),
             n_val)):
        if cut:
            none = (f"; {dropped} of them keep{'s' * (dropped == 1)} none of it (the prompt fills --seq-len) and "
                    f"{'is' if dropped == 1 else 'are'} left out") if dropped else ""
            print(f"{cmd}: {cut} of {counted(total, what)} {'was' if cut == 1 else 'were'} cut at --seq-len "
                  f"(the end of their response is not {verb}{none}; raise --seq-len to keep them whole)",
                  file=sys.stderr)


def _load_items(a, opt: str, *, split: str, require_answer: bool) -> list[dict]:
    """load_items for --task/--data, the first N items by option `opt` (--limit, -n). A --data file with more rows
    than N by that option's default is said on stderr: `ponder eval --data math500.jsonl` scored its first 200
    problems, and nothing said the other 300 were left out."""
    from .tasks.data import load_items

    n = getattr(a, opt)

    def load(n):
        seed = a.seed if getattr(a, "task_seed", None) is None else a.task_seed
        return load_items(a.task, split=split, n=n, seed=seed, require_answer=require_answer, data=a.data,
                          prompt_field=getattr(a, "prompt_field", None), answer_field=getattr(a, "answer_field", None))

    if a.data is None or opt in getattr(a, "given", ()):
        return load(n=n)
    try:
        items = load(n=n + 1)  # (one more row: whether the file has more)
        more = len(items) > n
    except PonderError:  # a bad row past the first N, which is not used: not an error, but the file has more rows
        items, more = load(n=n), True  # (and those after it went unsaid)
    if more and not getattr(a, "quiet", False):
        flag = "--limit" if opt == "limit" else "-n"
        given = "--task" if a.data == a.task else "--data"  # (a file given as --task is read as --data)
        print(f"note: {given} {a.data}: only its first {n} rows are used ({flag}'s default); pass {flag} N for more",
              file=sys.stderr)
    return items[:n]


def _distill_chat_items(items: list[dict], system: str | None, source: str) -> list[dict]:
    """distill --chat: each text prompt as a user message (after --system), as eval and grpo --chat send it, so
    the teacher samples after its chat template's generation prompt and the kept rows train the student on the
    same conversation (sft renders a prompt of messages through the student's template). A prompt that is already
    chat messages is kept as it is; --system on top of it would be a second system message, and is refused."""
    out = []
    for i, it in enumerate(items):
        p = it["prompt"]
        if not isinstance(p, str):
            if system is not None:
                raise PonderError(f"{source}: item {it.get('id', i)}: the prompt is a list of chat messages, which "
                                  "--system would be added on top of; put the system message in the prompt, or drop "
                                  "--system")
            out.append(it)
            continue
        sys_msg = [{"role": "system", "content": system}] if system is not None else []
        out.append({**it, "prompt": [*sys_msg, {"role": "user", "content": p}]})
    return out


def cmd_distill(a):
    from .tasks import default_reward
    from .tasks.data import reward_reads_answer
    from .train import (
        DISTILLED,
        TrainConfig,
        check_distill_inputs,
        check_distill_sampling,
        distill,
        load_sft_examples,
        read_run_config,
        sft,
    )
    from .verify.registry import get_reward

    if a.resume:
        from .fileio import run_lock

        kept = Path(a.out) / DISTILLED
        if not (Path(a.out) / "config.json").exists() and kept.is_file():
            # killed (kill -9, a lost node) after its samples were saved, before the fine-tuning wrote config.json:
            # "not a resumable run directory (no config.json)" said nothing of the samples it holds
            from .train import _kept_rows

            with run_lock(a.out):  # (a distillation still running there, about to write it: "in use" instead)
                pass
            n = _kept_rows(kept)
            raise PonderError(f"{a.out}: the distillation stopped before its fine-tuning began (no config.json), "
                              f"nothing to resume; its {counted(n, 'kept teacher sample')} {'is' if n == 1 else 'are'}"
                              f" in {shlex.quote(str(kept))}: fine-tune on them with `ponder sft --model STUDENT "
                              f"--data {shlex.quote(str(kept))} --out NEW_DIR`")
        saved = read_run_config(a.out)
        if not (saved.get("data") or {}).get("distilled"):
            raise PonderError(f"{a.out}: not a distillation run (its config.json names no {DISTILLED})")
        rows = load_sft_examples(Path(a.out) / saved["data"]["distilled"])
        from .checkpoint import recover

        with run_lock(a.out):  # (a run training there may be mid-save: its checkpoint set aside is not put back)
            recover(Path(a.out) / "checkpoint")  # (a swap cut short by a kill)
        if not (Path(a.out) / "checkpoint").exists():  # the general advice, "remove the directory", loses the samples
            model = saved.get("model_path") if isinstance(saved.get("model_path"), str) else None
            raise PonderError(f"{a.out}: the distillation stopped before its first checkpoint; its "
                              f"{counted(len(rows), 'kept teacher sample')} are in {Path(a.out) / DISTILLED}"
                              f": fine-tune on them with `ponder sft --model {model or 'STUDENT'} --data "
                              f"{Path(a.out) / DISTILLED} --out NEW_DIR`")
        rep = dict(saved["data"].get("distill") or {})
        rep["final"] = sft(None, None, rows, a.out, train=TrainConfig(steps=a.steps, threads=a.threads),
                           resume=True, progress=not a.quiet, device=a.device if "device" in a.given else None,
                           on_cut=_cut_warner("distill"))
    else:
        if not a.teacher:
            raise PonderError("distill: --teacher CHECKPOINT is required (except with --resume)")
        check_distill_sampling(a.k, a.temperature, a.max_new_tokens, a.seed)  # before the two models load
        if a.system is not None and not a.chat:  # (a text prompt is used as given: it had no turn to go in)
            raise PonderError("--system is the system message of chat prompts: add --chat, or drop --system")
        items = _load_items(a, "n", split="train", require_answer=reward_reads_answer(a.reward))
        if a.chat:  # (there was no --chat: a chat teacher, Qwen3's thinking included, was sampled on bare text)
            items = _distill_chat_items(items, a.system, a.data or f"--task {a.task}")
        if a.chat_template_kwargs and all(isinstance(it["prompt"], str) for it in items):
            raise PonderError(_TEXT_PROMPTS_KWARGS.format(a.data or f"--task {a.task}", "; give --chat to render them "
                                                          "through the chat template"))
        _refuse_judge_reward(a.reward, "distill")
        reward = get_reward(a.reward or default_reward(None if a.data else a.task, items))
        steps = a.steps or 100
        train = TrainConfig(steps=steps, batch_size=a.batch_size, lr=a.lr, warmup=max(1, steps // 10),
                            seq_len=a.seq_len, seed=a.seed, save_every=a.save_every)
        # before the two models load (a taken --out, or items the reward cannot judge, were said only after)
        check_distill_inputs(items, reward, train, a.out, a.model)
        _check_chat_renders(a, [a.model, a.teacher], items, sampled=True)  # (the student's first, as distill())
        teacher, ttok = _load(a, a.teacher)
        student, stok = _load(a, a.model)
        try:
            rep = distill(teacher, ttok, student, stok, items, reward, k=a.k,
                          temperature=a.temperature, max_new_tokens=a.max_new_tokens, seed=a.seed, run_dir=a.out,
                          train=train, progress=not a.quiet, model_path=a.model, teacher_path=a.teacher,
                          on_cut=_cut_warner("distill"))
        except PonderError as e:
            if " + max_new_tokens " not in str(e):  # (any other error as raised: --debug shows where)
                raise
            raise _max_new_tokens_flag(e) from None
    # sft's last metrics row: not printed, as sft --json does not print it (its headline values are the
    # summary's metrics' "last", its step "steps"); --json had it as an undocumented "final"
    final = rep.pop("final")
    if a.json:  # the fine-tuning's run summary, as sft's (kind "distill", steps, metrics, alarms, files), then the
        _print_run(a.out, True, **_cut_counts(final), examples=rep["kept"], **rep)  # sampling's counts
        return
    # the fine-tuning's summary, as sft prints it (--json had its steps and loss; the text only the kept count)
    _print_run(a.out, False)
    dup = rep.get("duplicates", 0)  # (a run distilled before they were counted has none recorded)
    copies = counted(dup, "accepted copy", "accepted copies")  # (it read "1 accepted copies")
    # why the others were not kept (a run distilled before they were counted has none recorded): "kept 1 of 32"
    # read as the teacher's accuracy where 19 of the 32 were cut at --max-new-tokens, never judged
    limit = ((read_run_config(a.out).get("data") or {}).get("sampling") or {}).get("max_new_tokens")
    why = [f"{rep['rejected']} rejected by the verifier" if rep.get("rejected") else "",
           f"{rep['cut']} cut at --max-new-tokens {limit} before they ended (raise it)" if rep.get("cut") else "",
           f"{rep['empty']} empty" if rep.get("empty") else "",
           f"{rep['end_of_turn']} holding an end-of-turn token's text" if rep.get("end_of_turn") else ""]
    why = "; ".join(w for w in why if w)
    print(f"  kept {rep['kept']} of {counted(rep['sampled'], 'teacher sample')} "
          f"({rep['kept_fraction']:.1%}{f'; {copies} of a kept one left out' if dup else ''}"
          f"{f'; {why}' if why else ''}), "
          f"{rep['prompts_with_a_kept_sample']}/{counted(rep['prompts'], 'prompt')}: {Path(a.out) / 'distilled.jsonl'}")


def cmd_data_export(a):
    from .fileio import check_not_run_file, check_writable
    from .tasks import SPLITS, TASKS, generate
    from .tasks.data import check_export_path, export

    if a.task in TASKS and a.split in SPLITS:  # (else generate names the known ones)
        if a.output != "-":  # an output that cannot be written fails before the generation, not after it
            check_writable(a.output)
            check_not_run_file(a.output)
        check_export_path(a.output)
    items = generate(a.task, a.split, a.n, seed=a.seed, progress=not a.quiet)
    path = export(items, a.output)
    print(json.dumps({"task": a.task, "split": a.split, "n": len(items), "seed": a.seed, "output": str(path)})
          if a.json else f"wrote {len(items)} {a.task} {a.split} items to {'stdout' if a.output == '-' else path}",
          file=sys.stderr if a.output == "-" else sys.stdout)  # (stdout holds the items)


# objective parts whose "unset" is None (bind() then derives them from --max-new-tokens)
_OPTIONAL_PARTS = ("overlong_cache", "max_len_norm")


def _objective_overrides(a) -> dict:
    from dataclasses import fields

    from .rl.objective import ObjectiveConfig

    # Each value is read as its part's kind (kl=true read as True was refused as "unknown kl True", not the
    # text typed): a choice (clip, kl, ...) stays text, true/false is read for a switch, a number for the rest
    kinds = {f.name: type(f.default) for f in fields(ObjectiveConfig)}
    over, typed = {}, {}
    for kv in a.set or []:
        if "=" not in kv:
            raise PonderError(f"--set {kv!r}: expected PART=VALUE (e.g. --set clip=dual)")
        k, v = kv.split("=", 1)
        if k in over:  # (the last one was taken, the first dropped silently)
            raise PonderError(f"--set {k}: given twice ({typed[k]} and {kv}); give each part once")
        typed[k] = kv
        if k not in kinds:  # (the library's "objective: unknown setting" named no flag)
            raise PonderError(f"--set {kv}: unknown part {k!r}; valid: {', '.join(kinds)}")
        kind = kinds.get(k)
        for conv in (int, float) if kind not in (str, bool) else ():
            try:
                v = conv(v)
                break
            except ValueError:
                pass
        if kind is bool and v.lower() in ("true", "false"):  # (any case, as the library's messages write True)
            v = v.lower() == "true"
        # "none" is a value of clip/ratio, None of these; any case, as the library's messages write None
        elif isinstance(v, str) and v.lower() in ("none", "null") and k in _OPTIONAL_PARTS:
            v = None
        over[k] = v
    for flag, key in (("group_filter", "group_filter"),):
        if getattr(a, flag):
            if key in over:  # (the flag replaced what --set said)
                raise PonderError(f"--{flag.replace('_', '-')} and --set {typed[key]}: give one")
            over[key] = True
    return over


def _unvoted(reward) -> str | None:
    """The primary verifier of an eval --reward with no final answer to vote on (evaluate.unvoted_reward: the CLI
    passes no answer extractor), else None."""
    from .evaluate import make_reward, unvoted_reward

    return unvoted_reward(make_reward(reward, judge=lambda *_: 0.0), None, None)


def _ray_run_resumed_note(run_dir, a) -> str:
    """What a --resume without --ray of a run that sampled on Ray actors does: it goes on where this command runs
    (it said "in this process" of one going on on --nproc ranks)."""
    from .distributed.ddp import launched_by_torchrun

    ranks = a.nproc > 1 or launched_by_torchrun()
    where = (f"on {a.nproc} data-parallel ranks" if a.nproc > 1 else "on torchrun's ranks") if ranks \
        else "in this process"
    return (f"resume: {run_dir} sampled on Ray actors; it continues {where}, which draw{'' if ranks else 's'} the "
            "same samples (pass --ray [ADDRESS] to sample on actors again)")


def _grpo_trainer(a):
    """train(cfg, run_dir, resume=, progress=) on Ray actors (--ray), on data-parallel ranks (--nproc, torchrun),
    or in this process."""
    from functools import partial

    from .distributed.ddp import launched_by_torchrun, train_ddp
    from .rl.trainer import train

    if a.ray is not None and (a.nproc > 1 or launched_by_torchrun()):
        raise PonderError("--ray and --nproc/torchrun are separate modes; choose one")
    if a.ray is not None:
        from .distributed.ray_workers import train_ray

        # (--ray-workers not given: None, the run's own count on --resume, else its default)
        workers = a.ray_workers if "ray_workers" in getattr(a, "given", ()) else None
        return partial(train_ray, address=None if a.ray == "local" else a.ray, workers=workers,
                       num_gpus_per_worker=a.ray_gpus, threads=a.threads)  # (None: the run's on --resume)
    if a.nproc > 1 or launched_by_torchrun():
        return partial(train_ddp, nproc=a.nproc, threads=a.threads)  # (spawned ranks: their own processes)
    return train


def _max_new_tokens_flag(e: PonderError) -> PonderError:
    """The context check's error ("prompt of N tokens + max_new_tokens M exceeds") naming the flag given."""
    return PonderError(str(e).replace(" + max_new_tokens ", " + --max-new-tokens ", 1))


def cmd_grpo(a):
    from .rl import objective as obj
    from .rl.trainer import GRPOConfig, objective_for

    over = _objective_overrides(a)
    if a.explain:
        preset, max_new = a.preset, a.max_new_tokens
        if a.resume:  # the run's own objective (it explained the default preset's, whatever the run trains with)
            from .rl.trainer import objective_config
            from .train import config_from, kind_phrase, read_run_config

            run = a.out if a.resume is True else a.resume
            saved = read_run_config(run)
            if saved.get("kind") != "grpo" or not isinstance(saved.get("grpo"), dict):
                raise PonderError(f"{run}: holds {kind_phrase(saved)}, not a 'grpo' run")
            run_cfg = config_from(GRPOConfig, saved["grpo"], f"{Path(run) / 'config.json'}: grpo")
            preset, max_new = run_cfg.preset, run_cfg.max_new_tokens
            cfg = objective_config(run_cfg)
        else:
            cfg = objective_for(preset, over, max_new)
        text = obj.explain(cfg, max_new)
        if a.json:  # (--json is one JSON object on stdout, here too: the settings and the formula's text)
            from dataclasses import asdict
            print(json.dumps(json_safe({"preset": preset, "objective": asdict(cfg), "explain": text})))
        else:
            print(text)
        return
    train = _grpo_trainer(a)
    if a.resume:  # steps 0: up to the saved run's own
        from .train import read_run_config

        run_dir = a.out if a.resume is True else a.resume
        whole = read_run_config(run_dir)
        saved = whole.get("grpo")
        if a.ray is None and isinstance(whole.get("ray"), dict):  # (it went on in-process, unsaid)
            print(_ray_run_resumed_note(run_dir, a), file=sys.stderr)
        # A recorded file that has moved said only "no such file", and --data at its new path was refused
        # (the run checks the items' digest, not the path: train records the new path once they matched)
        for flag, what, given in (("--data", "data", a.data), ("--eval-data", "eval_data", a.eval_data)):
            path = saved.get(what) if isinstance(saved, dict) else None
            if isinstance(path, str) and not given and not Path(path).exists():
                raise PonderError(f"{run_dir}: its {what.replace('_', ' ')} file {path} (recorded in its "
                                  f"config.json): no such file; if it moved, pass its new path as {flag} (the run "
                                  "checks the items, not the path)")
        run = train(GRPOConfig(steps=a.steps or 0, threads=a.threads, data=a.data, eval_data=a.eval_data), run_dir,
                    resume=True, progress=not a.quiet)
    else:
        unused = [f"--{k.replace('_', '-')}" for k in ("eval_n", "eval_every") if k in getattr(a, "given", ())]
        if a.chat_template_kwargs and not a.chat and not a.data:  # (a task's prompts are text)
            raise PonderError(_TEXT_PROMPTS_KWARGS.format(f"--task {a.task}", "; give --chat to render them "
                                                          "through the chat template"))
        if a.chat_template_kwargs and not a.chat and a.data:  # as sft and distill: a file of text prompts alone
            from .tasks.data import load_dataset  # (the trainer's rows: --eval-data's first --eval-n)

            kw = {"prompt_field": a.prompt_field, "answer_field": a.answer_field, "require_answer": False}
            items = load_dataset(a.data, **kw) + (load_dataset(a.eval_data, **kw)[: a.eval_n] if a.eval_data else [])
            if all(isinstance(it["prompt"], str) for it in items):
                raise PonderError(_TEXT_PROMPTS_KWARGS.format(a.data, "; give --chat to render them through the "
                                                              "chat template"))
        _refuse_judge_reward(a.reward, "grpo")
        if a.data and not a.eval_data and unused:  # (it trained with no held-out evaluation, saying nothing)
            raise PonderError(f"{', '.join(unused)}: a --data run measures held-out accuracy only on --eval-data "
                              "FILE; give it, or drop " + ", ".join(unused))
        if a.off_policy and objective_for(a.preset, over, a.max_new_tokens).ratio == "none":
            # (said "off_policy needs an importance ratio, but preset ...", the keywords)
            if obj.PRESETS[a.preset]["config"]["ratio"] != "none":  # --set's none, not the preset's (it was blamed)
                raise PonderError("--off-policy: needs an importance ratio, but --set ratio=none makes the objective "
                                  "on-policy; drop one of them")
            raise PonderError(f"--off-policy: needs an importance ratio, but --preset {a.preset} has ratio=none "
                              "(an on-policy objective); drop --off-policy or choose a preset with a ratio")
        cfg = GRPOConfig(model=a.model, task=None if a.data else a.task, data=a.data, eval_data=a.eval_data,
                         prompt_field=a.prompt_field, answer_field=a.answer_field,
                         reward=a.reward, preset=a.preset, objective=over, steps=60 if a.steps is None else a.steps,
                         prompts_per_step=a.prompts_per_step, group_size=a.group_size,
                         max_new_tokens=a.max_new_tokens, temperature=a.temperature, lr=a.lr, seed=a.seed,
                         eval_every=a.eval_every, eval_n=a.eval_n, save_every=a.save_every,
                         curriculum=a.curriculum, chat=a.chat, system=a.system,
                         chat_template_kwargs=a.chat_template_kwargs, stop_on_alarm=a.stop_on_alarm,
                         device=a.device, dtype=a.dtype, micro_batch=a.micro_batch,
                         micro_batch_tokens=a.micro_batch_tokens, off_policy=a.off_policy, fsdp=a.fsdp)
        try:
            run = train(cfg, a.out, progress=not a.quiet)
        except PonderError as e:
            if " + max_new_tokens " not in str(e):  # (any other error as raised: --debug shows where)
                raise
            raise _max_new_tokens_flag(e) from None
    from .distributed.ddp import env_int, launched_by_torchrun

    if launched_by_torchrun() and env_int("RANK") != 0:  # rank 0 wrote the run (on its own machine, maybe) and
        return  # says so, once: not one summary (one --json object) per rank
    _print_run(run, a.json)


def cmd_demo(a):
    import time as _time

    from .demo import DemoConfig, format_summary, run_demo

    kw = {k: v for k, v in (("model", a.model), ("task", a.task), ("preset", a.preset), ("steps", a.steps),
                            ("seed", a.seed)) if v is not None}
    cfg = DemoConfig.quick(**kw) if a.quick else DemoConfig(**kw)
    out = a.out = a.out or f"runs/demo-{_time.strftime('%Y%m%d-%H%M%S')}"  # (a stop names it: main's hint)
    log = (lambda *x, **k: None) if a.json or a.quiet else (lambda m: print(m, file=sys.stderr))
    s = run_demo(cfg, out, progress=not a.quiet, log=log)
    if a.json:  # every figure the text prints (the self-consistency sweep too); sample texts stay in summary.json
        print(json.dumps(json_safe({k: v for k, v in s.items() if k != "examples_after"})))
    else:
        log("")  # (stderr: a blank line between the stage notes and the table, standard output the table alone)
        print(format_summary(s))


VERIFY_REASONS_SHOWN = 5  # reasons on verify's summary line


def cmd_verify(a):
    from .verify.run import verify_file

    if a.ray is not None:
        from .distributed.ray_workers import verify_file_ray

        summary = verify_file_ray(a.kind, a.input, a.output, address=None if a.ray == "local" else a.ray,
                                  workers=a.ray_workers)
    else:
        summary = verify_file(a.kind, a.input, a.output, workers=a.workers, progress=not a.quiet)
    if a.json:
        print(json.dumps(json_safe(summary)))
    else:
        # the most common few, most common first (summary's order): every distinct one in name order (code's
        # "failed test 7", constraints' "failed: json, title") made a line of kilobytes
        top = list(summary.get("reasons", {}).items())
        reasons = ", ".join(f"{k}: {v}" for k, v in top[:VERIFY_REASONS_SHOWN])
        if len(top) > VERIFY_REASONS_SHOWN:
            reasons += f" and {len(top) - VERIFY_REASONS_SHOWN} more (--json lists them all)"
        print(f"{summary['correct']}/{summary['n']} correct ({summary['accuracy']:.1%}) in "
              f"{summary['seconds']:.1f} s" + (f"; reasons: {reasons}" if reasons else "")
              + f"; wrote {summary['output']}")


def _list_arg(text: str, flag: str, example: str) -> list[str]:
    """The items of a comma-separated option, each stripped; an empty one (1,,2) is refused, not skipped."""
    items = [x.strip() for x in text.split(",")]
    if "" in items:
        raise PonderError(f"{flag} {text!r}: " + ("empty" if not text.strip() else "an empty item (a comma doubled "
                          "or at an end)") + f"; expected comma-separated values, e.g. {example}")
    return items


def _ints_arg(text: str, flag: str) -> list[int]:
    """A comma-separated option of positive integers (--k, --ns, --budgets), refused by its flag (the library
    named --ns by its keyword, parallel_ns)."""
    try:
        values = [int(x) for x in _list_arg(text, flag, "1,4,16")]
    except ValueError:
        raise PonderError(f"{flag} {text!r}: expected comma-separated integers, e.g. 1,4,16") from None
    bad = next((v for v in values if v < 1), None)
    if bad is not None:
        raise PonderError(f"{flag} {text!r}: {bad} is not a positive integer")
    return values


def _load_models(a, names) -> dict:
    """{name: (model, tok)}; a name given twice is refused (the dict kept one: a comparison of two models
    showed one, and eval without --sweep ran on a model given twice as if it had been given once)."""
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise PonderError(f"--model {twice[0]}: given twice; each model is run once (give distinct checkpoints)")
    from .checkpoint import resolve

    # one checkpoint under two spellings (run/checkpoint and its absolute path, a trailing slash, tiny and the
    # package's assets/tiny) was compared with itself as two models
    where: dict[Path, str] = {}
    for name in names:
        try:
            p = resolve(name).resolve()
        except PonderError:  # (said by its load, below)
            continue
        if p in where:
            raise PonderError(f"--model {name}: the same checkpoint as --model {where[p]} ({p}); each model is run "
                              "once (give distinct checkpoints)")
        where[p] = name
    return {name: _load(a, name) for name in names}


def _check_system_flag(a, items: list[dict]) -> None:
    """eval's and probe's --system, by its flag, before any model loads (the library's messages, from
    evaluate._prompt_of, name no flag): it needs --chat, and is refused with an item of chat messages."""
    if a.system is not None and not a.chat:
        raise PonderError("--system: used only with --chat (without it the prompts are used exactly as given)")
    if a.system is not None:  # (a system message added on top of a chat-message item's own would be a second one)
        listed = next((it for it in items if not isinstance(it["prompt"], str)), None)
        if listed is not None:
            raise PonderError(f"--system: item {listed.get('id', '(no id)')}'s prompt is a list of chat messages, "
                              "which --system would be added on top of; put the system message in the data, or "
                              "drop --system")


# `ponder eval` flags of one test-time method -> the keyword of ponder.scale they set
_EVAL_METHOD_FLAGS = {"votes": "n_votes", "weighted": "weighted", "early_stop": "early_stop",
                      "candidates": "n_candidates", "scorer": "scorer", "rounds": "rounds", "budget": "budget",
                      "waits_bf": "waits", "effort": "level", "answer_tokens": "answer_tokens",
                      "forced_answer": "forced_answer"}


def cmd_eval(a):
    from .evaluate import evaluate, method_options, resolve_method, sweep
    from .scale import METHODS
    from .tasks.data import reward_reads_answer

    if a.data is not None and "task_seed" in getattr(a, "given", ()):  # (a file's rows are drawn by no seed)
        raise PonderError(f"--task-seed {a.task_seed}: the problems of {'--task' if a.data == a.task else '--data'} "
                          f"{a.data} are its rows, drawn by no seed; leave --task-seed out")
    if a.task_seed is None:  # (--seed's: the problems every run before --task-seed evaluated)
        a.task_seed = a.seed
    # which problems a built-in task generated, recorded (config.json, the summary) and checked by --resume
    task_seed = {} if a.data is not None else {"task_seed": a.task_seed}
    items = _load_items(a, "limit", split=a.split, require_answer=reward_reads_answer(a.reward))
    if a.reward is None:  # countdown answers are expressions checked by evaluation, not compared as values
        from .tasks import default_reward

        a.reward = default_reward(None if a.data else a.task, items)
    if isinstance(a.reward, str) and not a.judge_model:  # (before any model loads; the library's own message
        from .verify.registry import _parse  # named a Python call, get_reward(..., judge=make_judge(...)))

        if "judge" in [t for t, _ in _parse(a.reward)]:
            raise PonderError(f"--reward {a.reward}: the judge verifier needs a model to score with: "
                              + ("--sweep takes none (--judge-model is for eval without --sweep)" if a.sweep
                                 else "give --judge-model CHECKPOINT"))
    if isinstance(a.reward, str):  # its names and the fields its verifiers read, before any model loads (said
        # once every model had loaded; grpo and distill say them first). The stand-in judge is never called.
        from .evaluate import _check_reward_fields
        from .verify.registry import get_reward

        _check_reward_fields(get_reward(a.reward, judge=lambda *_: 0.0), items)
    if a.chat_template_kwargs and not a.chat and not a.judge_model and all(isinstance(it["prompt"], str)
                                                                           for it in items):
        # text prompts without --chat go through no template (and no judge renders one): they were unused, and
        # recorded in config.json as if they had been applied
        raise PonderError("--chat-template-kwargs: these prompts are text, used as given without --chat: give "
                          "--chat to render them through the chat template, or drop --chat-template-kwargs")
    _check_system_flag(a, items)
    if a.sweep and a.ray is not None:
        raise PonderError("--sweep does not run on Ray yet; drop --ray")
    if not a.sweep and len(a.model or ()) > 1:  # (said before every model was loaded, not after)
        raise PonderError("several --model values are only for --sweep")
    # An unknown --methods name or --effort level first, before any model loads: the checks of the options
    # each method uses said "--max-new-tokens: not used by --methods foo" instead
    from .evaluate import PARALLEL_METHODS, SEQUENTIAL_METHODS
    from .scale import EFFORT_LEVELS

    known = PARALLEL_METHODS + SEQUENTIAL_METHODS
    if a.sweep:  # the comma lists too, by their flags, before any model loads
        methods = list(dict.fromkeys(_list_arg(a.methods, "--methods", "majority,best_of_n")))
        ns, budgets = _ints_arg(a.ns, "--ns"), _ints_arg(a.budgets, "--budgets")
    else:
        ks = _ints_arg(a.k, "--k")
        # (by its alias, --method budget took --budget with --max-new-tokens, the latter silently unused)
        try:  # (named the keyword: "unknown method 'foo'")
            method = resolve_method(a.method)
        except PonderError as e:
            raise PonderError(f"--method: {e}") from None
    unknown = [m for m in methods if m not in known] if a.sweep else []
    if unknown:
        raise PonderError(f"--methods: unknown method {unknown[0]!r} (parallel: "
                          f"{', '.join(PARALLEL_METHODS)}; sequential: {', '.join(SEQUENTIAL_METHODS)})")
    if not a.sweep and method == "effort" and a.effort is not None and a.effort not in EFFORT_LEVELS:
        raise PonderError(f"--effort: unknown reasoning effort {a.effort!r} "
                          f"(known: {', '.join(EFFORT_LEVELS)})")
    if a.sweep:  # (before the models load: these were said once every model given had loaded)
        chosen = set(methods)
        # budgets are budget forcing's alone (effort's come with its levels); the sequential methods decode
        # greedily within their budgets, so temperature and max_new_tokens are the parallel methods' alone
        unused = [f"--{k.replace('_', '-')}" for k, kinds in (
            ("ns", PARALLEL_METHODS), ("budgets", ("budget_forcing",)), ("waits", ("budget_forcing",)),
            ("answer_tokens", SEQUENTIAL_METHODS), ("temperature", PARALLEL_METHODS), ("top_p", PARALLEL_METHODS),
            ("top_k", PARALLEL_METHODS), ("min_p", PARALLEL_METHODS), ("max_new_tokens", PARALLEL_METHODS))
            if k in getattr(a, "given", ()) and not chosen & set(kinds)]
        if unused:  # (they would be recorded in config.json as if they had been used)
            raise PonderError(f"{', '.join(unused)}: not used by --methods {a.methods}")
        parallel = [m for m in methods if m in PARALLEL_METHODS]
        # (the library's refusal advised an answer extractor "in Python: extract=...", which the CLI cannot pass)
        votes = ("majority", "weighted_majority")
        voting = [m for m in methods if m in votes]
        primary = _unvoted(a.reward) if voting else None
        if primary:
            rest = [m for m in methods if m not in votes]
            raise PonderError(f"--methods {a.methods}: {' and '.join(voting)} vote{'s' if len(voting) == 1 else ''} "
                              "on final answers, and --reward "
                              f"{a.reward} (primary verifier {primary!r}) has none to vote on; give --methods "
                              f"{','.join(rest) or 'best_of_n,budget_forcing'} (methods that need no final answer: "
                              f"{', '.join(m for m in known if m not in votes)}), or a --reward led by math or "
                              "countdown")
        if a.temperature == 0 and parallel:  # (sweep() said "parallel methods need temperature > 0", no flag)
            raise PonderError(f"--temperature 0: the parallel methods ({', '.join(parallel)}) draw N samples per "
                              "problem, all alike when greedy; give --temperature > 0")
    if not a.sweep:  # (before any model loads: these were said once the model, and a judge, had loaded)
        # --scorer judge, or a reward spec with the judge verifier ('math+0.5*judge'), as --reward may be one
        scorer_judges = "judge" in str(a.scorer or "")
        uses_judge = scorer_judges or "judge" in str(a.reward or "")
        if a.judge_model and not uses_judge:  # a second model loaded for nothing
            raise PonderError("--judge-model is used only by --scorer judge or a reward with the judge verifier")
        kw = {k: getattr(a, flag) for flag, k in _EVAL_METHOD_FLAGS.items()
              if getattr(a, flag) not in (None, False)}
        for flag, k in _EVAL_METHOD_FLAGS.items():  # an option of another method, by its flag, not its keyword
            if k in kw and k not in method_options(a.method):
                takes = [m for m in METHODS if k in method_options(m)]
                raise PonderError(f"--{flag.replace('_', '-')} is for --method {' or '.join(takes)}"
                                  f"{' (or --sweep)' if flag == 'answer_tokens' else ''}, not {a.method}")
        if scorer_judges and not a.judge_model:  # (the library's message, after the model loaded, named a Python call)
            raise PonderError(f"--scorer {a.scorer}: the judge verifier needs a model to score with: give "
                              "--judge-model CHECKPOINT")
        # (said by the library once the model had loaded)
        if a.scorer == "logprob" and method == "self_refine":
            raise PonderError("--scorer logprob: not for --method self_refine (a revision's and its draft's sampling "
                              "log-probs are read after other contexts); use likelihood (the default), judge or a "
                              "reward spec")
        if a.scorer is not None and a.scorer not in ("logprob", "likelihood", "judge"):
            from .verify.registry import get_reward

            try:  # (the stand-in judge is never called: --judge-model's scores)
                get_reward(a.scorer, judge=lambda *_: 0.0)
            except PonderError as e:
                raise PonderError(f"--scorer {a.scorer}: neither logprob, likelihood, judge nor a reward spec "
                                  f"({e})") from None
            from .evaluate import oracle_note

            oracle = oracle_note(method, a.scorer)  # (summary.json's note, said before the run)
            if oracle and not a.quiet:  # (its accuracy read as a method's: 0.80 where the likelihood scorer got 0.40)
                print(f"note: --{oracle}", file=sys.stderr)
        from .evaluate import DEFAULT_TEMPERATURE

        # (the library's "method 'greedy' does not use top_p", after the model loaded, named its keywords)
        filters = (("top_p", 1.0), ("top_k", 0), ("min_p", 0.0))
        for k, off in (("temperature", DEFAULT_TEMPERATURE[method]), *filters):
            if getattr(a, k) is not None and getattr(a, k) != off and k not in method_options(method):
                raise PonderError(f"--{k.replace('_', '-')} {getattr(a, k):g}: not used by --method {a.method}; "
                                  "leave it out")
        temp = DEFAULT_TEMPERATURE[method] if a.temperature is None else a.temperature
        why = "--temperature 0" if a.temperature is not None else f"temperature 0, --method {a.method}'s default"
        for k, off in filters:  # (greedy takes the most likely token: a nucleus, top-k or min-p filters nothing)
            if temp == 0 and getattr(a, k) != off:
                flag = f"--{k.replace('_', '-')}"
                raise PonderError(f"{flag} {getattr(a, k):g}: not used at {why} (greedy decoding takes the most "
                                  f"likely token); give --temperature > 0 to sample, or leave {flag} out")
        # (the library said these once the model had loaded: "method 'greedy' is deterministic: n must be 1")
        if a.n > 1 and (method == "greedy" or temp == 0):
            why = "--method greedy (deterministic)" if method == "greedy" else "greedy decoding (temperature 0)"
            raise PonderError(f"-n {a.n}: {why} gives {a.n} identical runs; give -n 1"
                              + ("" if method == "greedy" else " or --temperature > 0"))
        # (the library said it once the model had loaded and the first problem was drawn, naming no flag)
        flag = {"self_consistency": "votes", "best_of_n": "candidates"}.get(method)
        if flag and temp == 0 and (getattr(a, flag) is None or getattr(a, flag) > 1):  # (None: its default, 8)
            raise PonderError(f"--temperature 0: --method {a.method} draws {getattr(a, flag) or 8} samples per run "
                              f"(--{flag}), all alike when greedy; give --temperature > 0")
        if method == "self_consistency" and _unvoted(a.reward):  # (as --sweep's voting methods, above)
            raise PonderError(f"--method {a.method}: votes on final answers, and --reward {a.reward} (primary "
                              f"verifier {_unvoted(a.reward)!r}) has none to vote on; use --method best_of_n (a "
                              "--scorer picks one candidate) or sampling, or a --reward led by math or countdown")
        if max(ks) > a.n:
            raise PonderError(f"--k {a.k}: {max(ks)} is more than -n {a.n} (samples or runs per problem); pass@k "
                              "and maj@k need at least k, so raise -n")
        if a.weighted and a.early_stop:  # (the library's message, after the model loaded, named its keywords)
            raise PonderError("--early-stop and --weighted: an early stop needs unweighted votes (the weights of "
                              "the samples not yet drawn are unknown); give one")
        if method == "effort" and "max_new_tokens" in getattr(a, "given", ()):  # (its level sets the budget)
            raise PonderError("--max-new-tokens is not used by --method effort (its --effort level sets the "
                              "thinking budget); leave it out")
        if method == "budget_forcing" and a.budget is not None and "max_new_tokens" in getattr(a, "given", ()):
            # --max-new-tokens is only the default of --budget there: given both, it would cap nothing
            raise PonderError("--max-new-tokens is not used by --method budget_forcing with --budget (--budget "
                              "caps the thinking, --answer-tokens the forced answer); leave one out")
    if a.out is not None:  # a taken --out, before the models load (it was said only after: minutes for a large one)
        from .evaluate import _refuse_dropping_progress, check_out_dir

        check_out_dir(a.out, "sweep" if a.sweep else "eval")
        if not a.resume and not a.sweep:
            _refuse_dropping_progress(Path(a.out))
        elif not a.resume:  # (sweep() says it too, once the models have loaded)
            from .evaluate import SWEEP_PROGRESS, sweep_kept

            kept = sweep_kept(a.out)
            if kept:
                raise PonderError(f"--out {a.out}: holds an interrupted sweep ({kept} kept); continue it with --resume "
                                  f"(the same settings), or remove {Path(a.out) / SWEEP_PROGRESS} to start afresh")
    if a.sweep:  # the temperature the samples are drawn at: the parallel methods' (the sequential ones decode greedily)
        # (a sweep of sequential methods alone decodes greedily: its note said it sampled at 0.8)
        used = (0.8 if a.temperature is None else a.temperature) if parallel else 0.0
    else:
        from .evaluate import DEFAULT_TEMPERATURE

        used = DEFAULT_TEMPERATURE[method] if a.temperature is None else a.temperature
    models = _load_models(a, a.model or ["tiny"])
    _eval_sampling_note(a, used)  # (once they load: a checkpoint without its tokenizer printed it above the error)
    if a.sweep:
        res = sweep(models, items, parallel_ns=ns, budgets=budgets, methods=methods,
                    max_new_tokens=a.max_new_tokens,
                    temperature=0.8 if a.temperature is None else a.temperature, top_p=a.top_p, top_k=a.top_k,
                    min_p=a.min_p, seed=a.seed, reward=a.reward,
                    answer_tokens=a.answer_tokens, waits=a.waits, chat=a.chat, system=a.system, out_dir=a.out,
                    progress=not a.quiet, extra=task_seed, resume=a.resume)
        resumed = res.pop("resumed", None)
        if resumed == "finished":  # (stderr: --json's standard output stays the result alone)
            print(f"{a.out}: this sweep had finished; its saved curves:", file=sys.stderr)
        elif resumed == 0:
            print(f"{a.out}: --resume found nothing kept there; swept from the start", file=sys.stderr)
        elif resumed is not None:
            print(f"{a.out}: resumed with {counted(resumed, 'chunk')} kept from before", file=sys.stderr)
        if a.json:
            # sweep()'s whole result (n_problems too, as eval's summary has it; files' paths are strings)
            print(json.dumps(json_safe({**res, "run_dir": _out_dir(a.out)}), default=str))
        else:
            for c in res["curves"]:
                pts = ", ".join(f"{p['budget']}: {p['accuracy']:.1%} ({p['tokens']:.0f} tok)" for p in c["points"])
                print(f"{c['model']} / {c['method']} ({c['kind']}): {pts}")
            if a.out:
                print(f"plots and data in {a.out}")
        return
    (name, (model, tok)), = models.items()
    judge = None
    if a.judge_model:
        from .verify.judge import make_judge

        jm, jt = _load_models(a, [a.judge_model])[a.judge_model]
        judge = make_judge(jm, jt, rubric=a.rubric)
    ekw = dict(method=a.method, n=a.n, ks=ks, max_new_tokens=a.max_new_tokens,
               temperature=a.temperature, top_p=a.top_p, top_k=a.top_k, min_p=a.min_p, seed=a.seed, reward=a.reward,
               judge=judge,
               method_kwargs=kw, chat=a.chat, system=a.system, out_dir=a.out, model_name=name,
               extra=dict(task_seed))
    if judge is not None:  # recorded: a resume with another judge or rubric is refused, not mixed (config.json)
        ekw["extra"].update({"judge_model": a.judge_model, "rubric": a.rubric})
    if a.ray is not None:
        from .distributed.ray_workers import evaluate_ray

        summary = evaluate_ray(model, tok, items, address=None if a.ray == "local" else a.ray,
                               workers=a.ray_workers, threads=a.threads, **ekw)
    else:
        try:
            summary = evaluate(model, tok, items, progress=not a.quiet, resume=a.resume, **ekw)
        except PonderError as e:
            if " + max_new_tokens " not in str(e):  # (any other error as raised: --debug shows where)
                raise
            raise _max_new_tokens_flag(e) from None
    resumed = summary.pop("resumed", None)
    if resumed == "finished":  # (stderr: --json's standard output stays the summary alone)
        print(f"{a.out}: this evaluation had finished; its saved summary:", file=sys.stderr)
    elif resumed == 0:  # (a mistyped --out, or one stopped before its first chunk: said, not silent)
        print(f"{a.out}: --resume found nothing kept there; evaluated from the start", file=sys.stderr)
    elif resumed is not None:
        print(f"{a.out}: resumed with {counted(resumed, 'problem')} of {len(items)} kept from before", file=sys.stderr)
    for field, lacking in (summary.get("by_missing") or {}).items():  # (its breakdown left out: said, not silent)
        print(f"eval: {lacking} of {counted(len(items), 'problem')} {'lacks' if lacking == 1 else 'lack'} a "
              f"'{field}' (text or integer): no breakdown by {field}", file=sys.stderr)
    if a.json:  # (evaluate() names it out_dir, after its parameter)
        summary.pop("out_dir", None)
        # ("by" is {} where there is no breakdown: evaluate() writes it so, in summary.json too)
        print(json.dumps(json_safe({**summary, "run_dir": _out_dir(a.out)}), default=str))
        return
    m = summary["metrics"]
    print(f"{name} on {counted(len(items), 'problem')}, method {summary['method']}, n={a.n}")  # (JSON's name: not an alias)
    if summary.get("oracle"):  # (said on stderr before the run only, and not with --quiet: the figures below read
        print(f"  note: {summary['oracle']}")  # as a method's, 0.50 beside self-consistency's 0.375)
    for key, v in m.items():
        if isinstance(v, dict) and "mean" in v:
            # seconds to 3 significant digits: the tiny model's ~0.7 ms a sample printed as 0.001 [0.001, 0.001]
            f = ".3g" if key == "mean_latency" else ".3f"
            finite = all(isinstance(v.get(k), (int, float)) and math.isfinite(v[k]) for k in ("lo", "hi"))
            ci = f"  [{v['lo']:{f}}, {v['hi']:{f}}]" if finite else "  (no interval: one problem)"
            print(f"  {key:<18} {v['mean']:{f}}{ci}")
        else:
            print(f"  {key:<18} {v}")
    # (a column as wide as the longest value: MATH's "Intermediate Algebra" and "Counting & Probability" overran
    # 16 characters and pushed their rows out of line with the others)
    width = max([16, *(len(v) for groups in summary.get("by", {}).values() for v in groups)])
    for field, groups in summary.get("by", {}).items():  # (intervals in --json and summary.json)
        print(f"  by {field}:")
        for value, g in groups.items():
            cells = ", ".join(f"{k} {v['mean']:.3f}" for k, v in g["metrics"].items())
            print(f"    {value:<{width}} {counted(g['n_problems'], 'problem'):>12}: {cells}")
    if a.out:
        print(f"written to {a.out} (ponder report {a.out})")


def _eval_sampling_note(a, temperature: float) -> None:
    """eval samples at its own settings (a fixed protocol, recorded in config.json), not at those a checkpoint's
    generation_config.json recommends, as generate and chat do: a model whose authors ask for temperature 0.6 and
    top_p 0.95 (Qwen3) was evaluated at 1.0 with nothing said, unlike vLLM's or transformers' defaults. One stderr
    note per such model when eval samples (greedy takes the most likely token whatever they are)."""
    if temperature == 0 or getattr(a, "quiet", False):
        return
    from .checkpoint import sampling_defaults

    used = {"temperature": temperature, "top_p": a.top_p, "top_k": a.top_k, "min_p": a.min_p}
    off = {"top_k": 0, "min_p": 0.0}
    for m in a.model or ["tiny"]:
        try:
            rec, f = sampling_defaults(m)
        except PonderError:  # (a missing model or a bad file: loading says so; eval reads none of its values)
            continue
        if any(used[k] != v for k, v in rec.items()):
            # (the ones the file sets, or eval's given: top_k and min_p had no eval flag and were said as "no top_k")
            shown = [k for k in used if k not in off or k in rec or used[k] != off[k]]
            print(f"note: {f} recommends " + ", ".join(f"{k} {v}" for k, v in rec.items())
                  + "; eval samples at " + ", ".join(f"{k} {used[k]:g}" + (" (off)" if used[k] == off.get(k) else "")
                                                     for k in shown)
                  + " (recorded in config.json); --temperature, --top-p, --top-k and --min-p set them", file=sys.stderr)


def cmd_probe(a):
    from .probes import format_contamination, format_diversity, run_contamination_probe, run_diversity_probe

    # (--max-new-tokens is contamination's too: its answers to the original and perturbed problems were cut at a fixed
    # 128 tokens, so a model that reasons longer scored 0 on both and the drop read "no evidence")
    other = ("train_file", "ngram") if a.probe == "diversity" else ("n", "method", "temperature")
    unused = ["--" + k.replace("_", "-") for k in other if k in getattr(a, "given", ())]
    if unused:  # (options of the other probe: silently ignored otherwise)
        raise PonderError(f"{', '.join(unused)}: not used by the {a.probe} probe")
    if a.probe == "contamination" and "ngram" in a.given and a.train_file is None:  # (the overlap's n-gram length)
        raise PonderError("--ngram: used only with --train-file (the n-gram overlap with a training file)")
    if a.probe == "diversity":
        from .probes import _similarity_fn

        _similarity_fn(a.method, 2)  # an unknown method before any sampling, not after it
    from .probes import check_probe_out

    check_probe_out(a.out, a.probe)  # a file, another command's run or a checkpoint: before the models load
    if a.train_file is not None:  # (an empty file was compared with: "0 of N problems share a 13-gram", as if clean)
        from .probes import iter_texts

        if not any(t.strip() for t in iter_texts(a.train_file)):  # (stops at the first text)
            raise PonderError(f"--train-file {a.train_file}: holds no text to look for the problems' n-grams in")
    # (diversity samples the prompts and never reads a gold answer: a file of prompts alone is its natural input)
    items = _load_items(a, "limit", split=a.split, require_answer=a.probe == "contamination")
    if a.chat_template_kwargs and not a.chat and all(isinstance(it["prompt"], str) for it in items):  # (unused)
        raise PonderError("--chat-template-kwargs: these prompts are text, sampled as given without --chat: give "
                          "--chat to render them through the chat template, or drop --chat-template-kwargs")
    _check_system_flag(a, items)
    if a.probe == "contamination":
        if a.model and len(a.model) > 1:
            raise PonderError(f"contamination probes one model; got {len(a.model)} --model values (several are "
                              "for diversity)")
        name, (model, tok) = _load_models(a, [a.model[0] if a.model else "tiny"]).popitem()
        res = run_contamination_probe(model, tok, items, train_file=a.train_file, ngram_n=a.ngram,
                                      max_new_tokens=a.max_new_tokens, seed=a.seed, out_dir=a.out,
                                      progress=not a.quiet, model_name=name, chat=a.chat, system=a.system)
        print(json.dumps(json_safe({**res, "run_dir": _out_dir(a.out)}), default=str) if a.json
              else format_contamination(res))
        return
    models = _load_models(a, a.model or ["tiny"])
    res = run_diversity_probe(models, items, n_samples=a.n, seed=a.seed, method=a.method, out_dir=a.out,
                              temperature=a.temperature, max_new_tokens=a.max_new_tokens, progress=not a.quiet,
                              chat=a.chat, system=a.system)
    print(json.dumps(json_safe({**res, "run_dir": _out_dir(a.out)}), default=str) if a.json
          else format_diversity(res))


def cmd_report(a):
    from .report import write_html_report

    path = write_html_report(a.run_dir, a.out, max_samples=a.max_samples)
    print(json.dumps({"report": str(path)}) if a.json else path)


# ---- parser --------------------------------------------------------------------------------------
class _HelpFormatter(argparse.HelpFormatter):
    """Each option's help ends with its default, "(default: X)", unless the default is None, False or
    suppressed (nothing worth showing) or the help already says what the default is."""

    def _get_help_string(self, action):
        text = action.help or ""
        d = action.default
        if d is None or d is False or d is argparse.SUPPRESS or "default" in text.lower():
            return text
        if not action.option_strings and action.nargs not in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return text  # a required positional: its default is never used
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, like every other error (the usage itself is in --help); every parser,
    subcommands' included, shows defaults in its help."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        # "argument -n/--n: ..." -> "argument --n: ...": an option by its long name, however many spellings it has
        message = re.sub(r"^argument (\S+/\S+):", lambda m: "argument " + next(
            (o for o in m.group(1).split("/") if o.startswith("--")), m.group(1)) + ":", message)
        # argparse names a positional by its dest ("kind"), where usage shows its choices ({math,code,...}) and
        # --help their meaning ("verifier"): named by that, as the user knows it
        message = re.sub(r"^argument (\w+):", lambda m: f"argument {self._named(m.group(1))}:", message)
        required = "the following arguments are required: "
        if message.startswith(required):  # "kind, input" -> "verifier (math | code | ...), input"
            message = "missing " + ", ".join(self._named(name, choices=True)
                                             for name in message.removeprefix(required).split(", "))
            # `ponder generate -x`: argparse read the prompt as an unknown option, and said only "missing prompt"
            unknown = [t for t in _Parser.argv if self._unknown_option(t)]
            if unknown:
                message += (f" ({unknown[0]} is not an option of {self.prog}; an argument that starts with - goes "
                            "after --)")
            # `cat q.txt | ponder generate`: the prompt piped in was not read, and "missing prompt" said not why
            elif message == "missing prompt" and self.prog == "ponder generate":
                message += (" (prompts are arguments; standard input is not read: ponder generate "
                            "\"$(cat FILE)\" sends a file's text)")
            # `ponder sft --resume DIR` (grpo's form: its --resume takes the run directory) said only "missing --out"
            elif "--out" in message and "--resume" in _Parser.argv and (
                    k := _Parser.argv.index("--resume") + 1) < len(_Parser.argv) and not _Parser.argv[k].startswith("-"):
                message += (f" (--resume takes no directory in {self.prog}: give the run as --out "
                            f"{shlex.quote(_Parser.argv[k])} --resume)")
        # `--stop ---`: argparse read the value as an option and said the flag had none ("expected one argument")
        flag = re.fullmatch(r"argument (-\S+): expected one argument", message)
        if flag:
            act = self._option_string_actions.get(flag[1])
            names = act.option_strings if act else [flag[1]]
            value = next((v for o, v in zip(_Parser.argv, _Parser.argv[1:]) if self._unknown_option(v) and (
                o in names or (o.startswith("--") and len(o) > 2 and any(n.startswith(o) for n in names)))), None)
            if value is not None:
                message += (f" ({value} was read as an option; a value that starts with - is given as "
                            f"{flag[1]}={shlex.quote(value)})")
            else:
                # `ponder probe diversity --chat`: argparse took the flag this command lacks for the option it abbreviates
                # and named that one, which the user never wrote
                # (only a flag of another command: `eval --answer-tok` with its value forgotten abbreviates rightly)
                short = next((o for o in _Parser.argv if o.startswith("--") and o not in names
                              and any(n.startswith(o) for n in names) and o in _all_options()), None)
                if short is not None:
                    message += f" ({short} was read as {flag[1]}, which it abbreviates; {self.prog} has no {short})"
        _say_error_once(f"{self.prog}: error: {message} (see {self.prog} --help)")  # (once under torchrun)
        self.exit(2)

    argv: list[str] = []  # the command line main() parses, for error()

    def _unknown_option(self, tok: str) -> bool:
        """Whether argparse reads `tok` as an option this parser does not have (a negative number, or text with a
        space, it reads as an argument)."""
        if not tok.startswith("-") or tok in ("-", "--") or " " in tok or self._negative_number_matcher.match(tok):
            return False
        name, opts = tok.split("=", 1)[0], self._option_string_actions
        return not (name in opts or name[:2] in opts or (name.startswith("--") and any(map(
            lambda o: o.startswith(name), opts))))

    def _named(self, name: str, choices: bool = False) -> str:
        """An argument argparse named, as the user knows it: an option by its long name; a positional of
        choices by its help (and the choices); any other as usage shows it."""
        for act in self._actions:
            if act.option_strings and name == "/".join(act.option_strings):
                return next((o for o in act.option_strings if o.startswith("--")), name)
            if not act.option_strings and name == argparse._get_action_name(act) and act.choices:
                return (act.help or name) + (f" ({' | '.join(map(str, act.choices))})" if choices else "")
        return name


_ALL_OPTIONS: frozenset | None = None


def _all_options() -> frozenset:
    """Every option string of every ponder command (and subcommand)."""
    global _ALL_OPTIONS
    if _ALL_OPTIONS is None:
        out, todo = set(), [build_parser()]
        while todo:
            p = todo.pop()
            for act in p._actions:
                out.update(act.option_strings)
                if isinstance(act, argparse._SubParsersAction):
                    todo += act.choices.values()
        _ALL_OPTIONS = frozenset(out)
    return _ALL_OPTIONS


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="ponder",
        description="Build reasoning language models: pretrain, SFT, RL with verifiable rewards (GRPO family), "
                    "test-time scaling and honest evaluation. Every command takes --help.",
    )
    p.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    p.add_argument("--version", action="version", version=f"ponder {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    g = sub.add_parser("generate", help="sample completions from a model",
                       description="Sample completions for one or more prompts. Prompts are used exactly as given "
                                   "unless --chat wraps each in the chat template as a user message.")
    g.add_argument("prompt", nargs="+", help="prompt text (repeat for a batch)")
    _model_arg(g)
    _add_sampling(g, max_new=128)
    g.add_argument("-n", "--n", type=_positive_int, default=1, help="samples per prompt")
    g.add_argument("--chat", action="store_true", help="render each prompt as a user chat message")
    g.add_argument("--system", default=None, help="with --chat: a system message before each prompt")
    g.add_argument("--completion-only", action="store_true", help="print only the completion, not the prompt")
    g.add_argument("--json", action="store_true",
                   help='print {"results": [{"prompt", "samples": [{"text", "tokens", "finish_reason", '
                        '"logprob_sum"}]}]} as one JSON object, a row per prompt (one prompt too); tokens counts '
                        'every generated token, the EOS or the stop string\'s cut from the text included, and '
                        'logprob_sum sums their log-probabilities under the distribution scaled by --temperature '
                        '(before --top-k, --top-p and --min-p cut it; greedy: the model\'s own)')
    g.add_argument("--quiet", action="store_true",
                   help="no progress bar (shown on a terminal only) and no notes on stderr of the sampling "
                        "settings taken from, or not applied from, the checkpoint's generation_config.json (errors "
                        "are still printed)")
    _threads_arg(g)
    g.set_defaults(fn=cmd_generate)

    c = sub.add_parser("chat", help="interactive chat that streams tokens",
                       description="Chat with a model in the terminal; tokens stream as they are generated. A reply "
                                   "that would pass the model's context is capped to the room left, and a message "
                                   "that leaves none is not sent (each said on stderr). A line that is exactly "
                                   "/exit or /quit (or empty, or Ctrl-D) ends the chat; /reset clears the "
                                   "conversation (the --system prompt stays); any other line, one starting with "
                                   "/ included, is sent to the model as text.")
    _model_arg(c)
    _add_sampling(c, max_new=512, temperature=0.7)
    c.add_argument("--system", default=None, help="system prompt")
    _threads_arg(c)
    c.set_defaults(fn=cmd_chat)

    i = sub.add_parser("info", help="architecture, parameter count, dtype and vocabulary of a checkpoint",
                       description="Describe a checkpoint directory (or 'tiny').")
    i.add_argument("path", nargs="?", default=None, help="checkpoint directory or 'tiny' (default: tiny)")
    # (every other command names its checkpoint with --model: `ponder info --model X` was an unrecognized argument)
    i.add_argument("--model", "-m", default=None, help="the same, as other commands name it (default: tiny)")
    i.add_argument("--dtype", type=_dtype, default=None,
                   help="load and report in this dtype: float32 | bfloat16 | float16 (default: the checkpoint's own)")
    i.add_argument("--json", action="store_true", help="print as one JSON object")
    i.set_defaults(fn=cmd_info)

    pt = sub.add_parser("pretrain", help="train a tokenizer and a base model from scratch on the task corpus (or --corpus FILE)",
                        description="Pretrain a base model from scratch on Ponder's synthetic corpus (worked "
                                    "solutions in mixed styles, see ponder/tasks/corpus.py), or on your own text (--corpus "
                                    "FILE). Defaults are the "
                                    "recipe of the built-in tiny model.")
    pt.add_argument("--out", "-o", required=True, help=f"run directory ({_RUN_FILES})")
    pt.add_argument("--resume", action="store_true", help="continue the run in --out")
    pt.add_argument("--steps", type=_positive_int, default=None, help="optimizer steps; with --resume, the step to train to (default: the tiny recipe's 3000; "
                         "with --resume, the run's own)")
    pt.add_argument("--docs", type=_positive_int, default=None,
                    help="synthetic corpus documents to generate (default: the tiny recipe's 200000)")
    pt.add_argument("--corpus", default=None, metavar="FILE",
                    help="train on your own text instead of the synthetic corpus: a .txt (or .txt.gz) file of UTF-8 "
                         "text, one document per block of lines separated by blank lines (Hugging Face datasets' "
                         "sample_by=\"paragraph\"), or a .jsonl, .jsonl.gz, .json or .parquet file, one document per "
                         "row in its `text` field; each document is ended with <|endoftext|> (unless it already "
                         "is). The run records the file's path and sha256: --resume reads it again and refuses "
                         "an edited file (pass --corpus NEWPATH where it moved)")
    pt.add_argument("--heldout-corpus", default=None, metavar="FILE",
                    help="held-out documents for --corpus's heldout_loss, in the same formats (default: the "
                         "corpus's distinct documents ranked by the sha256 of their text, the first 1 in 100, "
                         "at least 1 and at most 500, are held out of training)")
    pt.add_argument("--terse-share", type=_terse_share, default=None, metavar="SHARE|N:SHARE,...",
                    help="share of task documents answered tersely: one number, or per number of operations "
                         "in the solution, e.g. 2:0.15,3:0.85,4:0.85 (default: the tiny recipe's "
                         "2:0.85,3:0.85,4:0.15)")
    pt.add_argument("--batch-size", type=_positive_int, default=None,
                    help="rows of packed documents per optimizer step (default: the tiny recipe's 16)")
    pt.add_argument("--seq-len", type=_positive_int, default=None,
                    help="tokens per training row; documents are packed into rows and one longer than a row "
                         "is cut (default: the tiny recipe's 128)")
    pt.add_argument("--lr", type=_lr, default=None,
                    help="AdamW's peak learning rate: linear warmup over the recipe's 100 steps (a run of fewer "
                         "--steps never reaches the peak), then cosine decay to 0.1x (default: the tiny recipe's 0.002)")
    pt.add_argument("--hidden", type=_positive_int, default=None,
                    help="hidden size H, a multiple of 32 whose H/32 is 1, 3 or even (160 is not: 5 heads over 2); "
                         "derived from it: H/32 attention heads of head_dim 32, max(1, H/64) key/value heads, MLP "
                         "intermediate size 3H (default: the tiny recipe's 128)")
    pt.add_argument("--layers", type=_positive_int, default=None,
                    help="transformer layers (default: the tiny recipe's 4)")
    pt.add_argument("--vocab", type=_vocab, default=512,
                    help="tokens the tokenizer learns at most (fewer if the corpus has fewer merges to learn); "
                         "the model's vocabulary, its embedding and output rows, is the tokenizer's "
                         "(default: the tiny recipe's 512)")
    pt.add_argument("--seed", type=_seed, default=None,
                    help="seeds the corpus (held-out documents: seed + 10000), the weight initialisation and "
                         "the batch drawn at each step, in [0, 2**32) (default: the tiny recipe's 0)")
    pt.add_argument("--save-every", type=_positive_int, default=None,
                    help="checkpoint every N steps (and at the end) (default: the tiny recipe's 250)")
    pt.add_argument("--eval-every", type=_positive_int, default=None,
                    help="held-out loss every N steps (and at the end) (default: the tiny recipe's 250)")
    pt.add_argument("--threads", type=_positive_int, default=None,
                    help="torch CPU threads (default: the tiny recipe's 1)")
    pt.add_argument("--compile", action="store_true",
                    help="torch.compile the training forward (about 1.3x faster on CPU after a minute of "
                         "compilation; not bit-identical to the shipped eager recipe)")
    pt.add_argument("--bf16", action="store_true", help=_BF16_HELP)
    pt.add_argument("--streams", type=_positive_int, default=None, metavar="N", help=_STREAMS_HELP + " (default: the tiny "
                    "recipe's 1)")
    pt.add_argument("--quiet", action="store_true", help="no progress bar")
    pt.add_argument("--json", action="store_true",
                    help="print the run summary (steps, first and last value of each headline metric, "
                         "alarms, files) as one JSON object")
    pt.set_defaults(fn=cmd_pretrain)

    sf = sub.add_parser("sft", help="supervised fine-tuning on prompt/response JSONL",
                        description="Fine-tune on a JSONL of {prompt, response} rows (or chat `messages`, or "
                                    "MATH's {problem, solution}: problem as the prompt, solution as the "
                                    "response); the "
                                    "loss covers response tokens only (with `messages`, every assistant turn, "
                                    "or the last with --turns last). Each epoch visits every row once, in a "
                                    "fresh order. The run directory gets config.json, metrics.jsonl, "
                                    "tensorboard/, training.png and checkpoint/ (with the optimizer state, so "
                                    "--resume continues exactly).")
    _model_arg(sf, resume_note=_TEMPLATE_TRAIN)
    sf.add_argument("--data", default=None, help=f"{_DATA_FILE} with prompt and response fields (or MATH's problem "
                                                 "and solution; required, "
                                                 "except with --resume: the run's own file, checked by digest)")
    sf.add_argument("--val-data", default=None,
                    help=f"{_DATA_FILE} of held-out rows: their mean response-token loss (val_loss) every --eval-every "
                         "steps and at the end")
    sf.add_argument("--out", "-o", required=True, help=f"run directory ({_RUN_FILES})")
    sf.add_argument("--resume", action="store_true",
                    help="continue the run in --out from its last checkpoint, with its saved settings (on the "
                         "device it trained on; --device continues it on another, e.g. a GPU run on the CPU)")
    sf.add_argument("--steps", type=_positive_int, default=None,
                    help="optimizer steps (default: 200; with --resume the run's own, or more to train further)")
    sf.add_argument("--batch-size", type=_positive_int, default=16,
                    help="rows per optimizer step (with --packing a row holds several examples)")
    sf.add_argument("--grad-accum", type=_positive_int, default=1,
                    help="split each step's rows into this many micro-batches (less memory, the same step)")
    sf.add_argument("--lr", type=_lr, default=1e-3,
                    help="AdamW's peak learning rate: linear warmup (--warmup), then cosine decay to 0.1x")
    sf.add_argument("--warmup", type=_nonneg_int, default=None, help="warmup steps (default: steps/10 rounded down, at least 1)")
    sf.add_argument("--seq-len", type=_positive_int, default=256,
                    help="tokens per row (prompt + response); a longer example is cut and loses the end of "
                         "its response, and one whose prompt alone fills it is left out (both are warned of)")
    sf.add_argument("--bf16", action="store_true", help=_BF16_HELP)
    sf.add_argument("--streams", type=_positive_int, default=1, metavar="N", help=_STREAMS_HELP + " (default: 1)")
    sf.add_argument("--packing", action="store_true", help="pack several examples into each row (each attends only to itself, positions from 0: "
                         "the same loss as unpacked, less padding)")
    sf.add_argument("--turns", choices=("all", "last"), default="all",
                    help="what a row of chat `messages` trains: all (default) every assistant turn, each ending "
                         "with the template's end of turn (earlier turns as the template renders them in the "
                         "whole conversation: Qwen3's drops their thinking); last: its last assistant turn only, "
                         "earlier ones context (one row per turn then trains each as inference renders it). A "
                         "prompt/response row trains its response either way; a tool's output is never trained")
    sf.add_argument("--chat", action="store_true", help="wrap text prompts (prompt/response rows, MATH's problem) "
                    "in the model's chat template as a user message, the response as the assistant turn, ended by "
                    "the template's end of turn: trained after the prompt eval --chat gives it (rows of chat "
                    "messages always go through it, as they are); recorded, and --resume keeps it")
    sf.add_argument("--system", default=None, help="with --chat: a system message before each text prompt (as "
                    "eval --chat --system sends it; refused with rows of chat messages)")
    sf.add_argument("--save-every", type=_positive_int, default=50, help="checkpoint every N steps (and at the end)")
    sf.add_argument("--eval-every", type=_positive_int, default=50, help="val_loss every N steps (with --val-data)")
    sf.add_argument("--seed", type=_seed, default=0, help="seeds the order in which rows are drawn, in [0, 2**32)")
    sf.add_argument("--quiet", action="store_true", help="no progress bar")
    sf.add_argument("--json", action="store_true",
                    help="print the run summary (steps, first and last value of each headline metric, "
                         "alarms, files) as one JSON object")
    _threads_arg(sf)
    sf.set_defaults(fn=cmd_sft)

    ds = sub.add_parser("distill", help="distillation by rejection sampling from a teacher",
                        description="Sample k responses per prompt from --teacher, keep those the verifier "
                                    "accepts, fine-tune --model on them, report how many were kept.")
    _model_arg(ds, resume_note=_TEMPLATE_TRAIN)
    ds.add_argument("--teacher", default=None, help="teacher checkpoint (required, except with --resume)")
    src = ds.add_mutually_exclusive_group()
    src.add_argument("--task", default="arith",
                     help="built-in task whose train split gives the prompts: arith | word | countdown")
    src.add_argument("--data", default=None, help=_TASK_DATA)
    _data_fields_args(ds)
    ds.add_argument("--reward", default=None, type=_reward_spec, help="verifier deciding what is kept (default: countdown for the "
                                                  "countdown task, else math)")
    ds.add_argument("--chat", action="store_true", help="wrap text prompts in the teacher's chat template as a user "
                    "message (as eval --chat does); the kept samples train the student on the same messages, through "
                    "its own template (prompts given as chat messages always go through it, as they are)")
    ds.add_argument("--system", default=None, help="with --chat: a system message before each text prompt")
    ds.add_argument("-n", "--n", type=_positive_int, default=200, help="prompts (with --data: its first N rows)")
    ds.add_argument("-k", "--k", type=_positive_int, default=4, help="teacher samples per prompt")
    ds.add_argument("--temperature", type=_temperature, default=0.8, help="teacher sampling temperature")
    ds.add_argument("--max-new-tokens", type=_positive_int, default=128,
                    help="teacher tokens per sample at most; a sample cut at this length is never kept")
    ds.add_argument("--out", "-o", required=True,
                    help=f"run directory (distilled.jsonl: the kept samples; {_RUN_FILES})")
    ds.add_argument("--resume", action="store_true",
                    help="continue the fine-tuning of the run in --out on its distilled.jsonl (no new sampling), "
                         "on the device it trained on (--device continues it on another)")
    ds.add_argument("--steps", type=_positive_int, default=None,
                    help="fine-tuning optimizer steps (default: 100; with --resume the run's own, or more)")
    ds.add_argument("--batch-size", type=_positive_int, default=16, help="kept samples per optimizer step")
    ds.add_argument("--lr", type=_lr, default=1e-3,
                    help="AdamW's peak learning rate: linear warmup over steps/10 rounded down, at least 1, then "
                         "cosine decay to 0.1x")
    ds.add_argument("--seq-len", type=_positive_int, default=256,
                    help="tokens per fine-tuning row (prompt + response); longer ones are cut, and one whose "
                         "prompt alone fills it is left out (both are warned of)")
    ds.add_argument("--save-every", type=_positive_int, default=50, help="checkpoint every N steps (and at the end)")
    ds.add_argument("--seed", type=_seed, default=0,
                    help="seeds the task's prompts, the teacher's samples and the fine-tuning batches, "
                         "in [0, 2**32)")
    ds.add_argument("--json", action="store_true", help="print the fine-tuning's run summary (as sft --json's, kind "
                    "\"distill\") and the sampling's counts (prompts, "
                    "sampled, kept, kept_fraction, prompts_with_a_kept_sample, duplicates: accepted copies of a kept sample, "
                    "left out; rejected: by the verifier; cut: at --max-new-tokens, not judged; empty; end_of_turn: "
                    "holding an end-of-turn token's text) as one JSON object")
    ds.add_argument("--quiet", action="store_true", help="no progress bar")
    _threads_arg(ds)
    ds.set_defaults(fn=cmd_distill)

    da = sub.add_parser("data", help="task data utilities", description="Export task problems as JSONL.")
    dsub = da.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    ex = dsub.add_parser("export", help="write N problems of a task split to JSONL",
                         description="Write N distinct problems of a task's split (with their answers) to a JSONL "
                                     "file that the --data of eval, grpo, distill and probe reads; the same task, "
                                     "split, N and seed give the same file.")
    ex.add_argument("task", help="arith | word | countdown")
    ex.add_argument("--split", default="test", help="train | test")
    ex.add_argument("-n", "--n", type=_positive_int, default=100, help="distinct problems to write")
    ex.add_argument("--seed", type=_seed, default=0,
                    help="which problems are drawn: the same task, split and seed give the same file, in [0, 2**32)")
    ex.add_argument("-o", "--output", "--out", required=True,
                    help="output .jsonl (.jsonl.gz: gzipped), written atomically; - for standard output")
    ex.add_argument("--json", action="store_true",
                    help="print what was written (task, split, n, seed, output) as JSON (on standard error with "
                         "-o -, where standard output holds the problems)")
    ex.add_argument("--quiet", action="store_true", help="no progress bar")
    ex.set_defaults(fn=cmd_data_export)

    gr = sub.add_parser("grpo", help="RL with verifiable rewards (GRPO family)",
                        description="On-policy RL with verifiable rewards. The objective is composed of named "
                                    "parts; --preset picks a published algorithm (grpo, dr_grpo, dapo, gspo, rloo, "
                                    "reinforce) and --set PART=VALUE overrides a part. --explain prints the "
                                    "objective as a formula and exits.")
    _model_arg(gr, resume_note=_TEMPLATE_TRAIN)
    src = gr.add_mutually_exclusive_group()
    src.add_argument("--task", default="arith", help="built-in task (arith | word | countdown)")
    src.add_argument("--data", default=None, help=_TASK_DATA)
    _data_fields_args(gr, "--data and --eval-data")
    gr.add_argument("--eval-data", default=None, help="held-out file for --data runs (without it a --data run measures no held-out "
                                                             "accuracy)")
    gr.add_argument("--reward", default=None, type=_reward_spec, help="reward spec, e.g. math or 'math+0.1*format' (default: countdown "
                                                  "for the countdown task, else math)")
    gr.add_argument("--preset", default="grpo", help="grpo | dr_grpo | dapo | gspo | rloo | reinforce")
    gr.add_argument("--set", action="append", metavar="PART=VALUE",
                    help="override an objective part, e.g. --set clip=dual --set beta=0.01 (repeatable); the "
                         "parts (ponder.rl.ObjectiveConfig's fields): advantage, ratio, clip, eps_low, eps_high, "
                         "dual_clip_c, aggregation, kl, beta, group_filter, overlong_mask, overlong_penalty, "
                         "overlong_cache, mu, minibatches, max_len_norm; --explain prints the objective they make")
    gr.add_argument("--group-filter", action="store_true",
                    help="DAPO dynamic sampling: drop groups all correct or all wrong (judged on correctness, not "
                         "the shaped reward) and draw more prompts")
    gr.add_argument("--curriculum", action="store_true", help="skip prompts always or never solved")
    gr.add_argument("--explain", action="store_true", help="print the objective and exit")
    gr.add_argument("--steps", type=_positive_int, default=None, help="train to this step (default: 60; with --resume, the run's own)")
    gr.add_argument("--prompts-per-step", type=_positive_int, default=8,
                    help="prompts per training step (one rollout batch), each sampled --group-size times; the "
                         "objective's mu passes x minibatches take that many optimizer steps on it (dapo: 16)")
    gr.add_argument("--group-size", type=lambda t: _int(t, 2, "an integer >= 2 (advantages are relative within "
                                                              "the group)"), default=8,
                    help="completions sampled per prompt; advantages are relative within the group (>= 2)")
    gr.add_argument("--max-new-tokens", type=_positive_int, default=96,
                    help="completion tokens per sample at most, in rollouts and held-out evaluation; also "
                         "Dr. GRPO's length normaliser and DAPO's overlong window (a fifth of it) unless --set "
                         "gives them")
    gr.add_argument("--temperature", type=_positive_temperature, default=1.0,
                    help="rollout sampling temperature (> 0); the loss's log-probs use the same temperature")
    gr.add_argument("--lr", type=_lr, default=2e-4,
                    help="AdamW's peak learning rate, reached by linear warmup over 5 steps, then constant")
    gr.add_argument("--micro-batch", type=_positive_int, default=64, help="sequences per forward/backward at most")
    gr.add_argument("--micro-batch-tokens", type=_nonneg_int, default=8192,
                    help="completion tokens (rows x longest completion) per forward/backward at most, to bound "
                         "memory; rows are sorted by length so each micro-batch pads only to its own longest "
                         "row (0: no limit)")
    gr.add_argument("--eval-every", type=_positive_int, default=20,
                    help="measure held-out greedy accuracy every N steps and at the last")
    gr.add_argument("--eval-n", type=_positive_int, default=200, help="held-out problems for greedy accuracy: the task's test split, or the first N rows of "
                         "--eval-data")
    gr.add_argument("--save-every", type=_positive_int, default=20,
                    help="checkpoint every N steps and at the last")
    gr.add_argument("--seed", type=_seed, default=0,
                    help="seeds the task's training problems, the prompts drawn at each step and the rollouts' "
                         "sampling, in [0, 2**32) (held-out problems are fixed)")
    gr.add_argument("--chat", action="store_true", help="wrap text prompts in the chat template as a user "
                    "message (prompts given as chat messages always go through it, as they are)")
    gr.add_argument("--system", default=None, help="with --chat: a system message before each text prompt, in "
                    "rollouts and the held-out evaluation (as eval --chat --system sends it; recorded in config.json)")
    # Exit status 0: the stop is what was asked for (as Keras' and Lightning's early stopping end normally); a
    # script reads the summary's stopped_early, as it reads the metrics, rather than an error status.
    gr.add_argument("--stop-on-alarm", action="store_true",
                    help="when an alarm (other than skipped_step, sandbox_error and judge_overflow) fires before the last step: "
                         "measure held-out accuracy, checkpoint and stop, with exit status 0 as a finished run; the summary says "
                         "'stopped at step N of M by alarm KIND' (--json: stopped_early, null for a run that went "
                         "to its last step) and --resume continues past it")
    gr.add_argument("--out", "-o", default="runs/grpo",
                    help=f"run directory ({_RUN_FILES}; reference/: a copy of the starting model, as large as the "
                         "checkpoint, kept for the KL term where the objective has one, as the grpo preset does)")
    gr.add_argument("--resume", nargs="?", const=True, default=None, metavar="RUN_DIR",
                    help="continue the run in RUN_DIR to --steps; with no RUN_DIR the run in --out, as "
                         "`ponder sft/distill/pretrain --out DIR --resume` take it")
    gr.add_argument("--off-policy", action="store_true",
                    help="one-step off-policy: generate step t+1 while step t trains (ratio vs the sampler)")
    gr.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                    help="rollouts and rewards on Ray actors; no ADDRESS starts a local Ray instance")
    gr.add_argument("--ray-workers", type=_positive_int, default=2,
                    help=RAY_WORKERS_HELP + "; a --resume without it starts as many as the run used")
    gr.add_argument("--ray-gpus", type=_positive_float, default=None, metavar="G",
                    help="GPUs per --ray actor, which then samples on CUDA (0.5: two actors share a GPU); without it "
                         "the actors sample on 1 CPU each (--threads T: T CPUs each)")
    gr.add_argument("--nproc", type=_positive_int, default=1,
                    help="data-parallel learner ranks spawned here (gloo on CPU); torchrun sets its own. The other "
                         "ranks wait for rank 0's held-out evaluation and checkpoints in a collective that fails "
                         "after PONDER_DIST_TIMEOUT_S seconds (environment variable; 1800 if unset): raise it for a "
                         "long evaluation")
    gr.add_argument("--fsdp", action="store_true",
                    help="with --nproc/torchrun: shard parameters, gradients and optimizer state (FSDP2); each "
                         "rank keeps a full replica for generation")
    gr.add_argument("--quiet", action="store_true", help="no progress bar (alarms are still printed)")
    gr.add_argument("--json", action="store_true",
                    help="print the run summary (steps, first and last value of each headline metric, "
                         "alarms, files) as one JSON object")
    _threads_arg(gr, "in this process, in each rank --nproc spawns and in each --ray actor, which then reserves "
                     "that many CPUs (default: torch's, one per core; a spawned rank's share of this process's "
                     "cores; 1 for a Ray actor)")
    gr.set_defaults(fn=cmd_grpo)

    de = sub.add_parser("demo", help="the whole story on the tiny model: evaluate, GRPO, evaluate, scaling sweep",
                        description="Measure held-out greedy accuracy of --model (the built-in tiny one by default), run GRPO with live "
                                    "progress, measure again, sweep self-consistency (N = 1..16) before and after, "
                                    "and write runs/<name>/ with metrics, checkpoint, PNG plots and summary.json.")
    de.add_argument("--model", default=None, help="checkpoint (default: the built-in tiny model)")
    de.add_argument("--task", default=None, help="arith | word | countdown (default: arith)")
    de.add_argument("--preset", default=None, help="RL preset, as for grpo --preset (default: grpo)")
    de.add_argument("--steps", type=_positive_int, default=None, help="RL steps (default: 60; 4 with --quick)")
    de.add_argument("--seed", type=_seed, default=None,
                    help="seeds the GRPO run (training problems, prompts, rollouts), the self-consistency "
                         "samples and the bootstrap intervals, in [0, 2**32); held-out problems are fixed "
                         "(default: 0)")
    de.add_argument("--out", "-o", default=None, help="run directory (default: runs/demo-<time>)")
    de.add_argument("--quick", action="store_true", help="a CI-sized run of the same code path: 4 RL steps of 4 "
                    "prompts x 4 samples, 40 held-out problems, self-consistency at N = 1, 2, 4")
    de.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    de.add_argument("--quiet", action="store_true", help="no progress bars or stage notes on stderr")
    _threads_arg(de)
    de.set_defaults(fn=cmd_demo)

    ve = sub.add_parser("verify", help="score completions in a JSONL file with a verifier",
                        description="Read rows with `completion` plus the gold (`gold`/`answer` for math, `tests` "
                                    "for code, `numbers`+`target` for countdown, `constraints`), add `correct`, "
                                    "`extracted`, `reason` and `score` (the graded value: the share of constraints "
                                    "met, else 1.0 or 0.0), and print a summary. Verifiers: math (the final answer "
                                    "equals the gold), code (the program passes `tests` in a sandbox), countdown (an "
                                    "expression of `numbers` reaching `target`), constraints (IFEval-style "
                                    "`constraints`: correct when all are met), format (reasoning in "
                                    "<think>...</think>, then a final answer: \\boxed{...}, an 'Answer:' line or "
                                    "<answer>...</answer>; no gold read).")
    ve.add_argument("kind", choices=["math", "code", "countdown", "constraints", "format"], help="verifier")
    ve.add_argument("input", help="input JSONL (gzip data, .jsonl.gz, read through)")
    ve.add_argument("-o", "--output", "--out", default=None,
                    help="output JSONL (.jsonl.gz: gzipped): the input rows plus the verdicts, written atomically (default: the "
                         "input's name with .jsonl or .jsonl.gz replaced by .verified.jsonl, next to it)")
    ve.add_argument("--workers", type=_positive_int, default=None, help="processes (default: all cores)")
    ve.add_argument("--json", action="store_true", help="print the summary as JSON")
    ve.add_argument("--quiet", action="store_true", help="no progress bar")
    ve.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                    help="run on Ray actors (no ADDRESS: a private local Ray instance)")
    ve.add_argument("--ray-workers", type=_positive_int, default=2, help=RAY_WORKERS_HELP)
    ve.set_defaults(fn=cmd_verify)

    ev = sub.add_parser("eval", help="evaluate with test-time methods; pass@k, maj@k with intervals; --sweep curves",
                        description="Evaluate a model on a task split or a dataset file. Reports pass@1, unbiased "
                                    "pass@k (Chen et al. 2021) and maj@k with 95% intervals over problems (Wilson where "
                                    "each problem is right or wrong, else an expanded percentile bootstrap), "
                                    "mean tokens, latency, truncation rate (the final completion cut at its token limit: "
                                    "for budget forcing the forced answer's; the budget's cuts of the thinking are "
                                    "thinking_cut_rate) and no-answer rate. --sweep draws test-time "
                                    "scaling curves (accuracy vs tokens and vs latency).")
    ev.add_argument("--model", "-m", action="append", help="checkpoint or 'tiny' (repeat to compare in --sweep) (default: tiny)")
    ev.add_argument("--dtype", type=_dtype, default=None, help=_DTYPE_HELP)
    ev.add_argument("--device", default="cpu", help=_DEVICE_HELP)
    src = ev.add_mutually_exclusive_group()
    src.add_argument("--task", default="arith", help="built-in task: arith | word | countdown")
    src.add_argument("--data", default=None, help=_TASK_DATA)
    _data_fields_args(ev)
    ev.add_argument("--split", default="test", help="task split: train | test (not used with --data)")
    ev.add_argument("--limit", type=_positive_int, default=200, help="problems (with --data: its first N rows)")
    ev.add_argument("--method", default="sampling",
                    help="greedy | sampling | self_consistency | best_of_n | self_refine | budget_forcing | effort")
    ev.add_argument("-n", "--n", type=_positive_int, default=1, help="samples (or runs) per problem")
    ev.add_argument("--k", default="1", help="k values for pass@k / maj@k, e.g. 1,4,16 (each <= n)")
    ev.add_argument("--max-new-tokens", type=_positive_int, default=128,
                    help="tokens generated per sample at most; budget_forcing also takes it as its thinking budget "
                         "when --budget is not given (--sweep: the parallel methods' cap; the sequential ones "
                         "keep to their budgets)")
    ev.add_argument("--temperature", type=_temperature, default=None,
                    help="sampling temperature; 0 = greedy (default: 1.0 for sampling, 0.8 for self_consistency, "
                         "best_of_n and --sweep's parallel methods, else 0: --sweep's sequential ones decode greedily; "
                         "not taken from the checkpoint's generation_config.json as generate does: a note names what "
                         "it recommends)")
    # (eval's protocol is its own flags: a checkpoint's recommended settings are named in a note, not applied)
    _eval_own = (" (--sweep: the parallel methods'); not taken from the checkpoint's generation_config.json as "
                 "generate does: a note names what it recommends")
    ev.add_argument("--top-p", type=_top_p, default=1.0, help="nucleus sampling mass, in (0, 1]; 1 = off" + _eval_own)
    ev.add_argument("--top-k", type=_nonneg_int, default=0,
                    help="keep the k most likely tokens; 0 = off" + _eval_own)
    ev.add_argument("--min-p", type=_min_p, default=0.0, help="drop tokens below min_p x the top probability, in "
                    "[0, 1); 0 = off" + _eval_own)
    ev.add_argument("--seed", type=_seed, default=0,
                    help="seeds the sampling, the bootstrap intervals and (without --task-seed) the task's "
                         "problems, in [0, 2**32)")
    ev.add_argument("--task-seed", type=_seed, default=None,
                    help="seeds which problems a built-in task generates (default: --seed's value), so evaluations "
                         "with several --seed values measure the sampling's variance on one test set; recorded in "
                         "config.json and the summary, and --resume must be given the same; not for --data")
    ev.add_argument("--reward", default=None, type=_reward_spec, help="verifier/reward spec (default: countdown for the countdown "
                                                  "task, else math)")
    ev.add_argument("--chat", action="store_true", help="wrap text prompts in the chat template as a user "
                    "message (prompts given as chat messages always go through it, as they are); recorded in "
                    "config.json, and --resume must be given the same unless every prompt is chat messages")
    ev.add_argument("--system", default=None,
                    help="with --chat: a system message before each text prompt (recorded in config.json and "
                         "summary.json, and --resume must be given the same)")
    _template_arg(ev, _TEMPLATE_EVAL)
    ev.add_argument("--votes", type=_positive_int, default=None, help="self-consistency: samples voted over in each run (default: 8)")
    ev.add_argument("--weighted", action="store_true", help="self-consistency: log-prob-weighted vote")
    ev.add_argument("--early-stop", action="store_true",
                    help="self-consistency: stop drawing once the remaining samples cannot change the vote (the "
                         "same answer as all N)")
    ev.add_argument("--candidates", type=_positive_int, default=None, help="best-of-N: candidates drawn in each run (default: 8)")
    ev.add_argument("--scorer", default=None, help="best-of-N scorer: logprob | likelihood | judge | reward spec; self-refine: the same less logprob "
                         "(default: logprob for best-of-N, likelihood for self-refine)")
    ev.add_argument("--judge-model", default=None, help="checkpoint used as rubric judge (--scorer judge, or a --scorer or --reward spec "
                    "with the judge verifier)")
    ev.add_argument("--rubric", default="Score the correctness and clarity of the answer.",
                    help="scorer judge: the rubric --judge-model scores each answer against")
    ev.add_argument("--rounds", type=_positive_int, default=None, help="self-refine rounds (default: 2)")
    ev.add_argument("--budget", type=_positive_int, default=None, help="budget forcing: thinking token cap (default: the --max-new-tokens value)")
    ev.add_argument("--waits-bf", type=_nonneg_int, default=None, help="budget forcing: 'Wait' extensions (default: 0)")
    ev.add_argument("--effort", default=None, help="effort level: low | medium | high (default: medium)")
    ev.add_argument("--sweep", action="store_true", help="draw test-time scaling curves instead")
    ev.add_argument("--ns", default="1,2,4,8,16", help="--sweep: N values for parallel methods")
    ev.add_argument("--budgets", default="16,32,64,128",
                    help="--sweep: budget forcing's thinking budgets (effort takes its levels' own)")
    ev.add_argument("--methods", default="majority,best_of_n,budget_forcing", help="--sweep: comma-separated methods, parallel (a point per --ns N): majority | "
                         "weighted_majority | best_of_n | oracle; sequential: budget_forcing (a point per --budgets "
                         "B) | effort (a point per level)")
    ev.add_argument("--answer-tokens", type=_positive_int, default=None,
                    help="answer tokens of budget forcing and effort, in --sweep too (default: 16; after "
                         "a </think> the model's own solution: 512, or the context's room)")
    ev.add_argument("--forced-answer", choices=("cue", "own"), default=None,
                    help="budget forcing and effort, think-tag models: what follows the </think> that closes a "
                         "thinking the budget cut: cue: '\\nFinal Answer:' and a one-line answer (s1's recipe); "
                         "own: a blank line ('</think>\\n\\n', the format of Qwen3 and the DeepSeek-R1 distills) "
                         "and the model's own answer, up to --answer-tokens (default: cue)")
    ev.add_argument("--waits", type=_nonneg_int, default=0, help="--sweep: Wait extensions for budget forcing")
    ev.add_argument("--out", "-o", default=None,
                    help="directory for config.json, summary.json and samples.jsonl (--sweep: config.json, "
                         "summary.json, scaling.json, scaling.csv, scaling_tokens.png, scaling_latency.png and "
                         "the samples drawn, kept as it goes: samples_parallel.jsonl (the draw the parallel methods "
                         "share), samples_budget_forcing.jsonl, samples_effort.jsonl); a "
                         "re-run of the same kind replaces them, anything else's config.json there, or a probe's results, is refused")
    ev.add_argument("--json", action="store_true", help="print the summary as JSON")
    ev.add_argument("--resume", action="store_true",
                    help="continue the evaluation (or --sweep) interrupted in --out, given again with the same "
                         "options (a finished one there: its summary is printed; nothing kept there: it starts "
                         "afresh)")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    ev.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                    help="run on Ray actors (no ADDRESS: a private local Ray instance)")
    ev.add_argument("--ray-workers", type=_positive_int, default=2, help=RAY_WORKERS_HELP)
    _threads_arg(ev, "in this process and in each --ray actor, which then reserves that many CPUs (default: torch's, "
                     "one per core; 1 for a Ray actor)")
    ev.set_defaults(fn=cmd_eval)

    pr = sub.add_parser("probe", help="contamination and diversity probes",
                        description="contamination: prefix completion, perturbation of templated problems and "
                                    "n-gram overlap with a training file, then a verdict with its evidence "
                                    "(not contaminated: no evidence at this sample size, not proof of none; too "
                                    "few items for a test to reject: insufficient evidence). "
                                    "diversity: intra- and inter-model homogeneity of samples (self-BLEU, "
                                    "distinct-n, n-gram similarity) and a heatmap.")
    pr.add_argument("probe", choices=["contamination", "diversity"], help="probe")
    pr.add_argument("--model", "-m", action="append", help="checkpoint(s) or 'tiny'; repeat for diversity across models (default: tiny)")
    pr.add_argument("--dtype", type=_dtype, default=None, help=_DTYPE_HELP)
    pr.add_argument("--device", default="cpu", help=_DEVICE_HELP)
    _template_arg(pr)  # (prompts of chat messages, verl's layout, render through the chat template)
    pr.add_argument("--chat", action="store_true", help="wrap text prompts in the chat template as a user message, "
                    "as eval --chat does: diversity's samples and contamination's answers to the original and "
                    "perturbed problems (its prefix completions continue the problem's raw text either way)")
    pr.add_argument("--system", default=None, help="with --chat: a system message before each text prompt "
                    "(recorded with --chat in contamination.json's settings, or in diversity.json)")
    src = pr.add_mutually_exclusive_group()
    src.add_argument("--task", default="word", help="benchmark task: arith | word | countdown (word is templated, so it can be perturbed)")
    src.add_argument("--data", default=None, help=f"{_DATA_FILE} with prompt (or problem), and answer for "
                                                   "contamination (diversity reads the prompts alone)")
    _data_fields_args(pr)
    pr.add_argument("--split", default="test", help="task split: train | test (not used with --data)")
    pr.add_argument("--limit", type=_positive_int, default=100, help="problems (with --data: its first N rows)")
    pr.add_argument("--train-file", default=None,
                    help="contamination: training file for the n-gram overlap: .jsonl, .json or .parquet (a text a "
                         "record) or plain text (a text per blank-line-separated paragraph), gzipped or not")
    pr.add_argument("--ngram", type=_positive_int, default=13,
                    help="contamination: words per n-gram in the --train-file overlap (GPT-3's analysis used 13)")
    pr.add_argument("-n", "--n", type=lambda t: _int(t, 2, "an integer >= 2 (diversity compares samples)"),
                    default=8, help="diversity: samples per prompt")
    pr.add_argument("--method", default="ngram", help="diversity similarity: ngram | rouge_l")
    pr.add_argument("--temperature", type=_positive_temperature, default=1.0,
                    help="diversity: sampling temperature, > 0 (0 would draw n identical samples)")
    pr.add_argument("--max-new-tokens", type=_positive_int, default=128, help="tokens per completion at most: diversity's samples; contamination's "
                         "greedy answers to the original and perturbed problems (its prefix completions decode at "
                         "least the tokens each problem's rest takes)")
    pr.add_argument("--seed", type=_seed, default=0,
                    help="seeds the task's problems, the perturbed copies, the diversity samples and the bootstrap "
                         "intervals, in [0, 2**32)")
    pr.add_argument("--out", "-o", default=None,
                    help="directory for contamination.json, or diversity.json and diversity_heatmap.png (an "
                         "earlier result of the same probe there is replaced; another command's run or result "
                         "directory, or a model checkpoint, is refused)")
    pr.add_argument("--json", action="store_true", help="print the whole result as one JSON object")
    pr.add_argument("--quiet", action="store_true", help="no progress bar")
    _threads_arg(pr)
    pr.set_defaults(fn=cmd_probe)

    rp = sub.add_parser("report", help="one self-contained HTML report for a run or evaluation directory",
                        description="Write RUN_DIR/report.html: configuration, metrics with intervals, curves, "
                                    "alarms and sample completions with verdicts (plots embedded).")
    rp.add_argument("run_dir", help="run or evaluation directory to report on")
    rp.add_argument("--out", "-o", default=None, help="output HTML path (default: RUN_DIR/report.html)")
    rp.add_argument("--max-samples", type=_nonneg_int, default=50,
                    help="sample completions shown at most: the first N of samples.jsonl (of each samples_PART.jsonl of a --sweep)")
    rp.add_argument("--json", action="store_true", help='print {"report": PATH} as JSON')
    rp.set_defaults(fn=cmd_report)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # After --, all are arguments: a prompt "--debug" was dropped (and turned --debug on), a prompt "--top-k" counted
    # as the flag given (the checkpoint's own top_k then went unused)
    head = argv[:argv.index("--")] if "--" in argv else argv
    debug = "--debug" in head  # anywhere before --, not only before the command
    _Parser.argv = head
    opts = [x for x in head if x != "--debug"]
    line = opts + argv[len(head):]  # the command line less --debug
    try:
        a, extra = parser.parse_known_args(line)
        if extra:  # named by the command they were given to (argparse would blame the top-level parser)
            _command_parser(parser, a).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as e:  # --help (0) or a usage error (2, its one line already printed)
        return int(e.code or 0)
    except KeyboardInterrupt:  # (a check that imports torch, --vocab's, takes seconds: a traceback of argparse)
        print("interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    a.debug = debug
    try:
        # the options written on the command line, whatever their value (one equal to the default is given too)
        a.given = _options_given(_command_parser(parser, a), opts)
        if a.command not in _NO_TORCH:
            _import_holding_sigint(_HEAVY)
        _check_args(a, parser)
        if getattr(a, "threads", None) and a.command != "pretrain":  # (pretrain: a setting of its recipe)
            import torch

            torch.set_num_threads(a.threads)
        with _sigterm_as_interrupt():
            a.fn(a)
        sys.stdout.flush()  # (a reader that went away is noticed here, not at interpreter exit)
    except KeyboardInterrupt as e:
        signum = getattr(e, "signum", signal.SIGINT)
        said = "interrupted" if signum == signal.SIGINT else f"terminated ({signal.Signals(signum).name})"
        said = getattr(e, "said", None) or said  # (a spawned rank interrupted alone: which one)
        if _torchrun_rank() not in (None, 0):  # rank 0 gives the hint, once, as it alone prints the run's summary
            print(said, file=sys.stderr)  # (every rank printed it: N copies of one command)
            return 128 + signum
        try:
            said, hint = _interrupted_hint(a, said, line)
        except Exception:  # (an interrupt inside an import, torch's in a command's first seconds, left it half
            # imported: the import again, to look for a run to continue, raised ImportError, and the line was a
            # 40-line traceback of torch's internals)
            hint = ""
        print(said + hint, file=sys.stderr)
        return 128 + signum  # what a shell reports for a command the signal ended: 130 Ctrl-C, 143 SIGTERM
    except BrokenPipeError:
        if not _stdout_closed():
            raise
        # `ponder ... | head`: the reader has what it wanted; nothing to report (and nothing more to flush)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # what a shell reports for a command stopped by SIGPIPE
    except Exception as e:  # one line; the traceback only with --debug
        if a.debug:
            raise
        if isinstance(e, OSError) and not isinstance(e, PonderError):  # a full disk, an unwritable path
            e = f"{e.filename}: {e.strerror}" if e.filename else (e.strerror or e)
        elif not isinstance(e, PonderError):  # a failure nobody foresaw: say what it was
            e = f"{type(e).__name__}: {headline(e)} (--debug shows where)"
        _say_error_once(f"{_command_parser(parser, a).prog}: error: {e}")
        return 2
    return 0


def _interrupted_hint(a, said: str, line: list[str]) -> tuple[str, str]:
    """(the interrupt line's head, what follows it): how to continue an interrupted command, or what it kept."""
    run = _resumable_run(a)
    hint = f"; continue with: {_continue_command(a, run)}" if run else ""
    target = _run_target(run) if run else None
    further = a.steps if getattr(a, "resume", False) and isinstance(getattr(a, "steps", None), int) else None
    if further is not None and target is not None and further > target:  # (stopped before config.json took it)
        hint += f" --steps {further}"
    if run and (done := _finished_run(run, further)):  # (its --resume is refused: "the run is at step N of N")
        plot = "" if (Path(run) / "training.png").exists() else f"; `ponder report {shlex.quote(run)}` draws its plots"
        said, hint = f"{said} after the run's last checkpoint: it is finished (step {done[0]} of {done[1]})", plot
    if _resumable_eval(a):  # its options are not saved: the same command line again, with --resume
        hint = f"; continue with: ponder {shlex.join(line + ([] if a.resume else ['--resume']))}"
    if a.command == "eval" and a.sweep and a.out is not None:
        from .evaluate import sweep_kept

        kept = sweep_kept(a.out)
        hint = (f"; kept in {shlex.quote(a.out)}: {kept}; continue with: ponder "
                f"{shlex.join(line + ([] if a.resume else ['--resume']))}" if kept else
                "; nothing was kept (stopped before its first chunk was drawn): run the command again")
    if a.command == "eval" and a.out is None and (a.sweep or a.ray is None):
        # (it said only "interrupted": whether anything could be continued, and how next time, was left unsaid)
        what = "a sweep" if a.sweep else "an evaluation"
        hint = (f"; nothing was kept (no --out): with --out DIR {what} keeps each chunk it draws, and the same "
                "command with --resume continues it")
    if not run and a.command in ("pretrain", "sft", "distill", "grpo") and not a.resume and getattr(a, "out", None):
        # stopped before its first checkpoint: the line said nothing, and --resume then refused the run
        out = Path(a.out)
        hint = ("; nothing was saved yet, so --resume has nothing to continue: run the command again"
                if not (out / "config.json").is_file() else  # (the run's own: fresh_run_dir refuses another)
                "; nothing was saved yet (it stopped before its first checkpoint), so --resume has nothing to "
                f"continue: remove {shlex.quote(str(out))} and run the command again")
    if not run and a.command == "distill" and getattr(a, "out", None):
        from .train import DISTILLED

        kept = Path(a.out) / DISTILLED  # sampled and saved, but no checkpoint yet: --resume cannot continue
        if kept.is_file():
            hint = (f"; the kept teacher samples are in {shlex.quote(str(kept))}: fine-tune on them with "
                    f"ponder sft --model {shlex.quote(a.model or 'STUDENT')} --data {shlex.quote(str(kept))} "
                    "--out NEW_DIR")
    if a.command == "demo" and getattr(a, "out", None):
        # (it said only "interrupted": the default --out, runs/demo-<time>, was named nowhere before the table)
        d = Path(a.out)
        hint = (f"; its stages so far are in {shlex.quote(a.out)} (a demo does not resume: run it again with "
                "another --out)" if d.is_dir() and any(d.iterdir()) else "; nothing was kept: run it again")
    return said, hint


# Commands that never import torch; every other one does, in its first seconds.
_NO_TORCH = ("data", "verify")
_HEAVY = "torch"


def _import_holding_sigint(module: str) -> None:
    """Import ``module`` (torch) with Ctrl-C held until the import is done, then raised: a KeyboardInterrupt
    raised inside the import of torch's and numpy's C extensions left them half initialised, and Ctrl-C in a
    command's first second then killed it with a segmentation fault (no message), aborted it in C++ ("cannot
    initialize type GradBucket"), ended it with "error: AttributeError: module 'numpy' has no attribute
    'multiply'", or was swallowed as a failed optional import: the training ran on to its end. Held, it stops the
    command as Ctrl-C does later on ("interrupted"). (Held by a handler that notes it, not by blocking the signal:
    any other thread may take a process's signal.)"""
    import importlib

    if (module in sys.modules or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):  # (ignored, or the caller's own)
        importlib.import_module(module)
        return
    pressed: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        importlib.import_module(module)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if pressed:
        raise KeyboardInterrupt


def _torchrun_rank() -> int | None:
    """This process's rank when torchrun started it (RANK, WORLD_SIZE set), else None. A RANK that is not an
    integer reads as None: this is asked while a command stops, where a second error would hide the first. (The
    environment is read here, not by distributed.ddp's launched_by_torchrun: importing that module imports torch,
    which an interrupt in torch's own import had left half imported: a traceback in place of the line.)"""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return None
    try:
        return int(os.environ["RANK"])
    except ValueError:
        return None


# How long a torchrun rank that failed waits for rank 0 to say the same error: on a bad input every rank fails at
# about the same point (the ranks meet at start), so past this the error is taken for this rank's own and said.
RANK0_SAYS_WAIT_S = 10.0


def _say_error_once(line: str) -> None:
    """Print error `line` on stderr; under torchrun once for all the ranks that failed with it, not N copies of one
    bad input's line. Rank 0 prints it, then posts it in the store of torchrun's agent (which outlives the ranks); a
    rank that failed with the same line says nothing, one that failed otherwise (a file missing on its machine, its
    GPU) says its own. No collective: the others may be in one, never to return. A rank 0 that did not fail posts
    nothing, so after RANK0_SAYS_WAIT_S the rank says its line, as it does where the store cannot be reached or the
    launcher is not torchrun's agent (its store then lives in rank 0, maybe gone)."""
    rank = _torchrun_rank()
    shared = rank is not None and os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
    if not shared or rank == 0:  # (rank 0 prints before it posts: another rank is quiet only once it is said)
        print(line, file=sys.stderr, flush=True)
    if not shared:
        return
    said = None
    with contextlib.suppress(Exception):
        import socket
        import time
        from datetime import timedelta

        import torch.distributed as dist

        deadline = time.monotonic() + RANK0_SAYS_WAIT_S  # (connecting counts: the store may be gone)
        host, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
        # (a store gone: TCPStore would retry for its timeout, logging pages of C++ frames above the error)
        socket.create_connection((host, port), timeout=2).close()
        store = dist.TCPStore(host, port, is_master=False, timeout=timedelta(seconds=RANK0_SAYS_WAIT_S),
                              wait_for_workers=False)
        # (a restarted group's ranks must not read the last attempt's line)
        key = f"ponder/error/{os.environ.get('TORCHELASTIC_RUN_ID')}/{os.environ.get('TORCHELASTIC_RESTART_COUNT')}"
        if rank == 0:
            store.set(key, line)
        else:  # (polled: a get that times out logs two lines of c10d warnings above the error)
            while not store.check([key]) and time.monotonic() < deadline:
                time.sleep(0.05)
            said = store.get(key).decode() if store.check([key]) else None
    if rank != 0 and said != line:
        print(line, file=sys.stderr, flush=True)


def _env_count(name: str) -> int | None:
    """A positive integer from the environment, else None."""
    v = os.environ.get(name, "")
    return int(v) if v.isdigit() and int(v) > 0 else None


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled as Ctrl-C is (the same cleanup and resume hint), remembering which signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a scheduler's preemption, Kubernetes, `timeout`) and SIGHUP (the terminal closed) stop the
    command as Ctrl-C does, instead of killing it outright: files are closed, ranks and workers stopped, and the
    resume hint printed. A second signal during that cleanup ends the process as by default. A forked child (a
    scoring worker) inherits the handler: there the signal keeps its default action, so `kill` and its parent's
    stop work as before. Spawned processes (ranks) start with the default handler. Only the main thread may set
    a handler; an ignored signal (the launcher's choice: nohup ignores SIGHUP) stays ignored, as Python leaves
    an ignored SIGINT."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pid = os.getpid()

    def stop(signum, frame):
        signal.signal(signum, signal.SIG_DFL)
        if os.getpid() != pid:
            os.kill(os.getpid(), signum)  # the default action, now that the handler is gone
            return
        raise Terminated(signum)

    sigs = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None))
            if s is not None and signal.getsignal(s) != signal.SIG_IGN]
    old = {s: signal.signal(s, stop) for s in sigs}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _resumable_run(a) -> str | None:
    """The run directory an interrupted training command left a checkpoint in, if any."""
    from .train import STATE

    if a.command not in ("pretrain", "sft", "distill", "grpo"):
        return None
    run = a.resume if isinstance(getattr(a, "resume", None), str) else getattr(a, "out", None)
    return run if run and (Path(run) / "checkpoint" / STATE).is_file() else None


def _run_target(run: str) -> int | None:
    """The step a run trains to (config.json's steps), None where it cannot be read."""
    from .train import read_run_config

    try:
        saved = read_run_config(Path(run))
    except Exception:  # (asked while the command stops: a second error would hide the interrupt)
        return None
    steps = next((v.get("steps") for k in ("train", "grpo") if isinstance(v := saved.get(k), dict)), None)
    return steps if isinstance(steps, int) and not isinstance(steps, bool) else None


def _finished_run(run: str, further: int | None = None) -> tuple[int, int] | None:
    """(step, target) where a run's checkpoint is at its target (config.json's steps, or `further`, a resume's
    --steps beyond it): interrupted after its last checkpoint (while its plots were drawn), it has nothing left to
    resume."""
    from .train import saved_step

    steps = _run_target(run)
    if steps is None:
        return None
    steps = max(steps, further or 0)
    at = saved_step(Path(run))
    return (at, steps) if at is not None and at >= steps else None


def _continue_command(a, run: str) -> str:
    """The command that continues an interrupted run on the ranks or actors it ran on. Under torchrun, torchrun's:
    the line said 'ponder grpo --out RUN --resume', one process taking the whole batch where N ranks (N GPUs) had
    shared it (and rounding otherwise than they did)."""
    cmd = f"{a.command} --out {shlex.quote(run)} --resume"
    # (asked while the command stops: a malformed variable reads as absent, where a second error would hide the first)
    world = _env_count("WORLD_SIZE") if a.command == "grpo" and _torchrun_rank() is not None else None
    if world is not None and world > 1:
        local = _env_count("LOCAL_WORLD_SIZE") or world
        machines = f" on each of the run's {world // local} machines" if local < world else ""
        return f"torchrun --nproc_per_node {local} -m ponder.cli {cmd}{machines}"
    return f"ponder {cmd}{_scale_out(a)}"


def _scale_out(a) -> str:
    """' --nproc N' / ' --ray [ADDRESS] [--ray-gpus G]' of an interrupted grpo command, for the line saying how to
    continue it: a run's config.json records neither the ranks nor the actors' GPUs, and the plain --resume the line
    gave continued a 2-rank or Ray run in one process."""
    if a.command != "grpo":
        return ""
    if a.ray is not None:
        gpus = f" --ray-gpus {a.ray_gpus:g}" if a.ray_gpus else ""
        return " --ray" + ("" if a.ray == "local" else f" {shlex.quote(a.ray)}") + gpus
    return f" --nproc {a.nproc}" if a.nproc > 1 else ""


def _resumable_eval(a) -> bool:
    """Whether an interrupted `ponder eval --out DIR` kept chunks of its problems there to continue from."""
    from .evaluate import PROGRESS

    return (a.command == "eval" and not a.sweep and a.ray is None and a.out is not None
            and (Path(a.out) / PROGRESS).is_file())


def _command_parser(parser, a) -> argparse.ArgumentParser:
    """The parser of the command that ran: `ponder data export`'s for that command, not `ponder data`'s."""
    for dest in ("command", "data_command"):
        sub = next((x for x in parser._actions if isinstance(x, argparse._SubParsersAction)), None)
        if sub is None or getattr(a, dest, None) not in sub.choices:
            break
        parser = sub.choices[getattr(a, dest)]
    return parser


def _stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (POLLERR), as opposed to some other pipe."""
    import select

    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLERR)
        return bool(poll.poll(0))
    except (AttributeError, OSError, ValueError):
        return False


# `ponder eval` options of one mode only: a single method's, or --sweep's.
_EVAL_METHOD_ONLY = ("method", "n", "k", "votes", "weighted", "early_stop", "candidates", "scorer",
                     "judge_model", "rubric", "rounds", "budget", "waits_bf", "effort", "forced_answer")
_EVAL_SWEEP_ONLY = ("ns", "budgets", "methods", "waits")
_EVAL_TWINS = {"ns": "n", "budgets": "budget", "methods": "method", "waits": "waits_bf"}
_EVAL_TWINS.update({v: k for k, v in _EVAL_TWINS.items()})


# Options a resumed run keeps from its saved settings: giving them again would be silently ignored.
_RESUME_KEEPS = {"sft": ("model", "dtype", "batch_size", "grad_accum", "lr", "warmup", "seq_len",
                         "packing", "turns", "chat", "system", "save_every", "eval_every", "seed",
                         "chat_template_kwargs", "bf16", "streams"),
                 "distill": ("model", "teacher", "dtype", "task", "data", "prompt_field", "answer_field", "reward",
                             "chat", "system", "n", "k",
                             "temperature", "max_new_tokens", "batch_size", "lr", "seq_len", "save_every", "seed",
                             "chat_template_kwargs"),
                 "pretrain": ("docs", "batch_size", "seq_len", "lr", "hidden", "layers", "vocab", "seed",
                              "terse_share", "compile", "bf16", "streams", "save_every", "eval_every"),
                 "grpo": ("model", "task", "prompt_field", "answer_field", "reward", "preset", "set", "group_filter",
                          "prompts_per_step", "group_size", "max_new_tokens", "temperature", "lr", "seed",
                          "eval_every", "eval_n", "save_every", "curriculum", "chat", "system", "stop_on_alarm",
                          "device",
                          "dtype", "micro_batch", "micro_batch_tokens", "off_policy", "fsdp",
                          "chat_template_kwargs")}


def _options_given(sub: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """The dests of `sub`'s options written on the command line (exact, `--opt=value`, a unique prefix as
    argparse accepts it, or a short option with its value attached)."""
    opts = {o: act.dest for act in sub._actions for o in act.option_strings}
    out = set()
    for tok in argv:
        if not tok.startswith("-") or tok in ("-", "--"):
            continue
        name = tok.split("=", 1)[0]
        if name in opts:
            out.add(opts[name])
        elif name.startswith("--"):
            cands = [o for o in opts if o.startswith(name)]
            if len(cands) == 1:
                out.add(opts[cands[0]])
        elif name[:2] in opts:
            out.add(opts[name[:2]])
    return out


def _task_names() -> tuple:
    from .tasks import TASKS

    return tuple(TASKS)


def _check_args(a, parser):
    """What argparse cannot check: text that is not UTF-8, an empty output path, options --resume ignores."""
    # a positional argument by its name in usage ("prompt"): "--prompt" named a flag the command does not have
    positional = {act.dest for act in _command_parser(parser, a)._actions if not act.option_strings}
    for k, v in vars(a).items():
        for x in v if isinstance(v, list) else [v]:
            if isinstance(x, str):
                try:
                    x.encode("utf-8")
                except UnicodeEncodeError:
                    name = k if k in positional else f"--{k.replace('_', '-')}"
                    raise PonderError(f"{name}: not valid UTF-8 text: {x!r:.60}") from None
    # (an empty --data, as "$DATA" with the variable unset writes it, fell back on the default --task silently:
    # eval, grpo, distill and probe ran on arith problems; an empty --eval-data, --val-data or --train-file was none)
    # (grpo --resume "" was no --resume: a fresh run started in the default --out)
    for k in ("out", "output", "data", "eval_data", "val_data", "train_file", "resume"):
        if getattr(a, k, None) == "":
            raise PonderError(f"--{k.replace('_', '-')}: empty path")
    for k in ("run_dir", "input"):  # report's and verify's (Path("") is ".": report wrote the current directory's)
        if getattr(a, k, None) == "":
            raise PonderError(f"{k}: empty path")
    # an empty checkpoint ("$CKPT" unset) is Path("."): "not a checkpoint" named ".", and a run started in a
    # checkpoint directory silently loaded it
    for k in ("model", "teacher", "judge_model", "path"):
        v = getattr(a, k, None)
        if "" in (v if isinstance(v, list) else [v]):
            raise PonderError(f"{'--' + k.replace('_', '-') if k != 'path' else 'path'}: empty; name a checkpoint "
                              "directory or 'tiny'")
    # "-" is standard output to data export: a run's or a probe's --out - made a directory named "-" (eval refuses it)
    if a.command not in ("report", "eval") and getattr(a, "out", None) == "-":
        raise PonderError("--out -: a run or result directory cannot be standard output; name a directory (--json "
                          "prints the summary to standard output)")
    if a.command in ("pretrain", "sft", "distill", "eval", "demo", "probe"):  # (grpo alone shards its batch:
        from .distributed.ddp import env_int, launched_by_torchrun  # distributed/ddp.py)

        world = env_int("WORLD_SIZE", 1) if launched_by_torchrun() else 1
        if world > 1:  # every rank would run the whole job, their checkpoint swaps and files racing in one --out
            raise PonderError(f"{a.command} is not data-parallel: under torchrun (WORLD_SIZE={world}) each rank "
                              "would run all of it" + (" into the same --out" if getattr(a, "out", None) else "")
                              + "; run it as one process (only grpo shards its batch over ranks)")
    if a.command in ("grpo", "demo") and getattr(a, "preset", None) is not None:  # (the library's message,
        from .rl.objective import PRESETS  # "objective: unknown preset", named no flag)

        if a.preset not in PRESETS:
            raise PonderError(f"--preset {a.preset!r}: unknown preset (known: {', '.join(PRESETS)})")
    task = getattr(a, "task", None)  # (named the keyword: "'foo' is neither a task...", "unknown task 'foo'")
    # a --resume that continues with the run's saved settings (grpo, distill); eval's is the same command line
    # again, checked as without it (a mistyped --task said "arithh: no such file")
    saved = getattr(a, "resume", None) and a.command != "eval"
    if a.command in ("eval", "distill", "probe", "grpo") and task is not None and not getattr(a, "data", None) \
            and not saved:
        from .tasks import TASKS

        if task not in TASKS and (a.command == "grpo" or not task or not Path(task).exists()):
            raise PonderError(f"--task {task!r}: " + (f"unknown task (known: {', '.join(TASKS)})" if a.command == "grpo"
                              else f"neither a task ({', '.join(TASKS)}) nor an existing file"))
    if a.command in ("eval", "distill", "probe") and task is not None and not getattr(a, "data", None) \
            and not (a.command == "distill" and a.resume):  # (eval's --resume is the same command line again)
        from .tasks import TASKS

        if task not in TASKS:  # a file given as --task is read as --data: its rows' own `task` picks the default
            # reward (math judged an exported countdown file, accepting a bare target), --split is refused, not
            # ignored, and a --limit cutting the file short is said
            a.data = task
    for k in ("prompt_field", "answer_field"):  # (load_dataset reads "" as no field given: the default one)
        if getattr(a, k, None) == "":
            raise PonderError(f"--{k.replace('_', '-')}: empty field name")
    if a.command in ("eval", "distill", "probe", "grpo") and not getattr(a, "data", None) \
            and not saved and (a.command == "grpo" or task in _task_names()):
        # (a task's items have their own fields; --resume says its own; eval's --task FILE is a file too)
        for k in ("prompt_field", "answer_field"):
            if getattr(a, k) is not None:
                raise PonderError(f"--{k.replace('_', '-')}: used only with --data (a task's items have their own "
                                  "fields)")
    if a.command == "eval":  # options of the other mode would be silently ignored
        # (by whether it was written, not by its value: one given at its default was silently ignored)
        given = [k for k in (_EVAL_METHOD_ONLY if a.sweep else _EVAL_SWEEP_ONLY) if k in a.given]
        if a.ray is None and "ray_workers" in a.given:  # (given at its default, 2, it is given all the same)
            given.append("ray_workers")
        if given:
            opts = ", ".join("--" + k.replace("_", "-") for k in given)
            # the other mode's name for the same setting (--waits-bf and --waits, --budget and --budgets...)
            twins = [f"--{t.replace('_', '-')}" for k in given for t in [_EVAL_TWINS.get(k)] if t]
            use = f"; {'--sweep' if a.sweep else 'a single --method'} takes {', '.join(twins)}" if twins else ""
            raise PonderError(f"{opts}: not used with --sweep (it sets its own methods, N and budgets){use}" if a.sweep
                              else f"{opts}: used only with {'--ray' if given == ['ray_workers'] else '--sweep'}{use}")
    if a.command == "eval" and a.resume:
        if a.out is None:
            raise PonderError("--resume: needs --out DIR, the directory of the interrupted evaluation")
        if a.ray is not None:  # Ray's workers draw every problem in one call: nothing is kept to continue from
            raise PonderError("--resume: not with --ray (a Ray evaluation keeps no progress to continue from); "
                              "drop --ray")
    if a.command == "eval" and "rubric" in a.given and not a.judge_model:  # (no judge, no rubric to score by)
        raise PonderError("--rubric: used only with --judge-model (the judge scores answers against it)")
    if a.command in ("eval", "probe") and a.data and "split" in a.given:  # (a file's rows are taken as they are)
        given = "--task FILE" if a.data == a.task else "--data"  # (as written: a --task FILE is read as --data)
        raise PonderError(f"--split: not used with {given} (its rows are used as they are; --limit takes the first "
                          "N)")
    if a.command == "sft" and not a.resume and not a.val_data and "eval_every" in a.given:
        raise PonderError("--eval-every: used only with --val-data (it sets how often val_loss is measured)")
    if a.command in ("verify", "grpo") and a.ray is None and "ray_workers" in a.given:  # (eval: checked above)
        raise PonderError("--ray-workers: used only with --ray")
    if a.command == "grpo" and a.ray is None and a.ray_gpus is not None:
        raise PonderError("--ray-gpus: used only with --ray")
    if getattr(a, "ray", None) is not None:  # a malformed address is said before any model or data is loaded
        from .distributed.ray_workers import check_address

        check_address(a.ray)
    if a.command == "verify" and a.ray is not None and "workers" in a.given:  # Ray's actors are --ray-workers
        raise PonderError("--workers: not used with --ray (it runs --ray-workers actors); use --ray-workers")
    if a.command == "grpo" and isinstance(a.resume, str):  # --resume RUN_DIR: --out may only name the same run
        sub = parser._subparsers._group_actions[0].choices["grpo"]
        if a.out != sub.get_default("out") and Path(a.out).resolve() != Path(a.resume).resolve():
            raise PonderError(f"--resume {a.resume} and --out {a.out} name two different runs; give one "
                              "(--out DIR --resume, or --resume DIR)")
    if getattr(a, "resume", None) and a.command in _RESUME_KEEPS:
        sub = parser._subparsers._group_actions[0].choices[a.command]
        given = [k for k in _RESUME_KEEPS[a.command]
                 if hasattr(a, k) and (k in a.given or getattr(a, k) != sub.get_default(k))]
        if given:
            raise PonderError("--resume continues the run with its saved settings; drop "
                              + ", ".join("--" + k.replace("_", "-") for k in given) + " (or start a new run)")


if __name__ == "__main__":
    sys.exit(main())
