"""Tokenizer: a thin wrapper over the `tokenizers` library (tokenizer.json), one chat template, training.

Every stage (SFT, RL, evaluation, the CLI) renders chat messages through `Tokenizer.apply_chat_template`,
so a model is always prompted the way it was trained. A checkpoint's own Jinja template
(tokenizer_config.json `chat_template`) is used when present; otherwise ChatML, the format of Qwen models.
`Tokenizer.template_kwargs` are extra variables for that template at every render — the knob vLLM and TRL
call chat_template_kwargs, e.g. `{"enable_thinking": False}` for Qwen3's non-thinking mode — so a run's
prompts, its training targets and its evaluation all render the same way.
"""

from __future__ import annotations

import codecs
import json
import operator
import os
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, pre_tokenizers, trainers

from .errors import PonderError
from .fileio import atomic_write_text, read_text

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# The roles chat messages may have: a `tool` message is a tool's output fed back (Qwen3's template renders it
# inside a user turn), answering an assistant message's `tool_calls`.
ROLES = ("system", "user", "assistant", "tool")
# The tokens chat templates end a turn with (ChatML, Llama 3): stop tokens wherever the vocabulary has them.
TURN_END_TOKENS = ("<|im_end|>", "<|eot_id|>")
# Variables a chat template gets from the renderer itself; template_kwargs may not replace them.
RESERVED_TEMPLATE_VARS = ("messages", "add_generation_prompt", "bos_token", "eos_token")
# The names a message's reasoning comes under, the one chat templates read first (transformers' _REASONING_FIELDS)
REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")


# The special tokens besides BOS/EOS/PAD that transformers names (its SPECIAL_TOKENS_ATTRIBUTES): chat templates
# see them as variables
NAMED_TOKENS = ("unk_token", "sep_token", "cls_token", "mask_token")


def _template_tokens(config: dict, pad_token: str | None) -> dict:
    """The special tokens a chat template sees as variables beside bos_token and eos_token, as transformers (5)
    passes them (its special_tokens_map): pad_token as given (not the EOS padding falls back to), the other named
    ones the tokenizer config sets, and the model-specific ones (extra_special_tokens given as an object, any
    other "*_token" string such as image_token). A template's {{ pad_token }} used to render empty."""
    out = {"pad_token": pad_token, **{k: _token_content(config.get(k)) for k in NAMED_TOKENS}}
    out.update((k, v) for k, v in config.items() if k.endswith("_token") and k not in out and isinstance(v, str))
    for k in ("extra_special_tokens", "model_specific_special_tokens"):  # (a list of extra tokens is not passed)
        if isinstance(config.get(k), dict):
            out.update((n, _token_content(v)) for n, v in config[k].items() if isinstance(n, str))
    return {k: v for k, v in out.items() if isinstance(v, str) and k not in ("bos_token", "eos_token")}


def _token_content(t) -> str | None:
    if isinstance(t, dict):
        return t.get("content")
    return t


class Tokenizer:
    def __init__(
        self,
        tok: HFTokenizer,
        *,
        eos_token: str | None,
        bos_token: str | None = None,
        pad_token: str | None = None,
        chat_template: str | None = None,
        extra_eos_ids: Iterable[int] = (),
        source: str = "tokenizer",
        named_templates: list | None = None,
        config: dict | None = None,
    ):
        # tokenizer.json's truncation and padding (left there by a `tokenizer(..., truncation=True, padding=...)`
        # call before a save) apply to every encode; transformers turns them off unless a call asks for them
        tok.no_truncation()
        tok.no_padding()
        self.tok = tok
        # the rest of the tokenizer_config.json it was loaded from (model_max_length, add_bos_token,
        # padding_side...): save() writes it back with the fields above, so a fine-tuned checkpoint keeps them
        self.config = dict(config or {})
        if "auto_map" in self.config:  # its custom tokenizer code is not copied: plain fast tokenizer instead
            self.config.pop("auto_map")
            self.config["tokenizer_class"] = "PreTrainedTokenizerFast"
        if not eos_token or tok.token_to_id(eos_token) is None:
            raise PonderError(f"{source}: tokenizer has no EOS token (eos_token={eos_token!r} not in vocabulary)")
        self.eos_token = eos_token
        self.bos_token = bos_token if bos_token and tok.token_to_id(bos_token) is not None else None
        self.pad_token = pad_token if pad_token and tok.token_to_id(pad_token) is not None else eos_token
        self.template_tokens = _template_tokens(self.config, pad_token)
        # tokenizer_config.json split_special_tokens: special-token strings in the text are encoded as text, as
        # transformers sets it on the backend (its apply_chat_template(tokenize=True) included); the backend's
        # flag survives neither to_str nor pickling, so it is set again from the config (_split_special)
        if tok.encode_special_tokens and "split_special_tokens" not in self.config:  # (set on `tok` by its caller)
            self.config["split_special_tokens"] = True
        self._split_special()
        self.chat_template = chat_template
        # tokenizer_config.json's list of named templates when none is "default": nothing to render chats with
        # (transformers refuses too), kept so that save() writes it back
        self.named_templates = named_templates if chat_template is None else None
        self.template_kwargs: dict = {}  # extra template variables (module docstring); check_template_kwargs
        self.source = source
        self.eos_token_id = tok.token_to_id(eos_token)
        # Generation stops at any of these (a chat model ends turns with <|im_end|> or Llama 3's <|eot_id|>, a
        # base model with EOS). A Llama 3 checkpoint whose configs name only <|end_of_text|> (the first
        # Llama-3-Instruct release; a base model fine-tuned on the chat template) would otherwise run on past
        # the end of its turn into a made-up next one.
        ids = {self.eos_token_id, *extra_eos_ids, *map(tok.token_to_id, TURN_END_TOKENS)}
        self.stop_token_ids = frozenset(i for i in ids if i is not None)
        self._jinja = None  # (template text, compiled template), built at the first render
        self._bare = None  # the tokenizer without its dummy prefix (encode_continuation)
        self._template_file = None  # (path, text) of the chat_template.jinja it was loaded from

    def __getstate__(self):
        # A compiled template holds local functions, which do not pickle; Ray actors and spawned ranks
        # receive the tokenizer pickled and compile it again at their first render.
        return {**self.__dict__, "_jinja": None}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._split_special()

    def _split_special(self) -> None:
        for t in (self.tok, getattr(self, "_bare", None)):
            if t is not None:
                t.encode_special_tokens = self.config.get("split_special_tokens") is True

    # ---- basics ----------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """The bound of the token ids (every id is below it): 1 + the largest id, added tokens included. The token
        count where the ids have no holes; a vocabulary with unused ids (a tiktoken conversion's) has fewer tokens
        than that, and an id at or past the count was taken for no token: its text was left out of the stop-string
        check (a stop string on it never stopped the sample) and a token-id prompt holding it was refused."""
        n = self.tok.get_vocab_size(with_added_tokens=True)  # (cheap; the vocabulary itself is a copy: cached)
        cached = self.__dict__.get("_id_bound")
        if cached is None or cached[0] != n:
            cached = self._id_bound = (n, max(n, 1 + max(self.tok.get_vocab(with_added_tokens=True).values(),
                                                         default=-1)))
        return cached[1]

    @property
    def num_tokens(self) -> int:
        """How many tokens the vocabulary has, added tokens included: vocab_size less the unused ids."""
        return self.tok.get_vocab_size(with_added_tokens=True)

    @property
    def pad_token_id(self) -> int:
        return self.tok.token_to_id(self.pad_token)

    @property
    def bos_token_id(self) -> int | None:
        return None if self.bos_token is None else self.tok.token_to_id(self.bos_token)

    @property
    def skipped_token_ids(self) -> frozenset[int]:
        """Ids that `decode(..., skip_special_tokens=True)` leaves out (the special added tokens): they contribute no
        text to sampled text."""
        return frozenset(i for i, t in self.tok.get_added_tokens_decoder().items() if t.special)

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """The ids of `text`, with the special tokens the tokenizer adds (Llama 3's BOS) unless add_special_tokens
        is False: transformers' default. (Text that continues a prompt: add_special_tokens=False, or
        encode_continuation.)"""
        try:
            return self.tok.encode(text, add_special_tokens=add_special_tokens).ids
        except TypeError:
            _check_text(text)
            raise

    def encode_batch(self, texts: list[str], add_special_tokens: bool = True) -> list[list[int]]:
        # (default as encode's, transformers' batch call's and the tokenizers library's: it left Llama 3's BOS out)
        # the library takes only a list or tuple: a generator (`x["text"] for x in rows`) failed as a bare
        # TypeError ("'generator' object is not an instance of 'Sequence'"); any other iterable is read into a list
        if not isinstance(texts, (list, tuple, str)) and hasattr(texts, "__iter__"):
            texts = list(texts)
        try:
            return [e.ids for e in self.tok.encode_batch(texts, add_special_tokens=add_special_tokens)]
        except TypeError:
            if isinstance(texts, str):  # ("Can't extract `str` to `Vec`", a traceback naming no argument)
                raise PonderError(f"encode_batch takes a list of texts, got one string {texts!r:.40} (use encode, "
                                  "or pass [text])") from None
            for t in texts:
                _check_text(t)
            raise

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        """The text of `ids`, special tokens kept unless skipped: transformers' default (a turn's <|im_end|>, a
        template's <think> written as a special token are text the model wrote)."""
        try:
            return self.tok.decode(list(ids), skip_special_tokens=skip_special_tokens)
        except (OverflowError, TypeError):
            _check_decode_ids(ids)
            raise

    def decode_continuation(self, context_ids, ids) -> str:
        """The text of `ids` as it reads after `context_ids` (a prompt, or the tokens before them): decoded
        behind the context's last token, whose own text is then cut. A sentencepiece decoder (Llama 2, Mistral)
        drops the leading space of the first token it decodes, so `decode(ids)` alone turns "4 we" into
        "4we" at the seam."""
        context_ids, ids = list(context_ids), list(ids)
        # A context cut inside a character written in byte-fallback tokens (a token-id prompt cut at a length,
        # "😀€" as ...<0x80><0xE2><0x82> | <0xAC>): the ByteFallback decoder reads every byte of the run as "\ufffd"
        # when it is not UTF-8 as a whole, so the context's text shows the whole run as "\ufffd", and no head below
        # reached the run's start past 8 tokens ("\ufffd12" for "😀😀😀€12"). The run is the ids' text, as below:
        # the context's text less its "\ufffd" and the ids' text make the whole text; unless the ids do not
        # complete the character.
        m = self._cut_run_tokens(context_ids) if ids else 0
        if m:
            text = self._continuation(context_ids[:-m], context_ids[-m:] + ids)
            if not text.startswith("\ufffd"):
                return text
        return self._continuation(context_ids, ids)

    def _cut_run_tokens(self, context_ids: list, most: int = 4096) -> int:
        """How many of the last tokens of `context_ids` are a run of byte-fallback tokens (<0xE2>) that ends inside
        a character: its length (up to `most`: past it, 0), or 0 when the run ends a character (or there is none)."""
        values = getattr(self, "_byte_values", None)
        if values is None:  # (built once: 256 look-ups)
            values = {i: b for b in range(256) if (i := self.tok.token_to_id(f"<0x{b:02X}>")) is not None}
            self._byte_values = values
        run = []  # the run's bytes, last first
        for t in reversed(context_ids[-most - 1:]):
            try:  # (a 0-d torch integer hashes by identity: as an int)
                b = values.get(operator.index(t))
            except TypeError:  # (decode names what is not an id)
                return 0
            if b is None:
                break
            run.append(b)
        if len(run) > most:
            return 0
        for n, b in enumerate(run[:3], 1):
            if b < 0x80:  # ASCII: a whole character
                return 0
            if b >= 0xC0:  # the first byte of a character of 2, 3 or 4 bytes
                return len(run) if (2 if b < 0xE0 else 3 if b < 0xF0 else 4) > n else 0
        return 0

    def _ends_inside_character(self, ids) -> bool:
        """Whether the text of `ids` ends inside a character written in byte-level tokens (a ByteLevel decoder's
        vocabulary: "中" in three byte tokens, cut after two), so that the tokens after them may complete it: its
        "\ufffd" is no character yet. False for a "\ufffd" that is one (U+FFFD written whole, a byte no token can
        complete), and for a decoder that is not byte-level, whose tokens are whole characters (a run of
        byte-fallback tokens <0xE4> is one the caller reads whole: engine.text_pieces)."""
        byte_level = self.__dict__.get("_byte_level")
        if byte_level is None:  # (read once from tokenizer.json)
            byte_level = self._byte_level = _has_decoder(json.loads(self.tok.to_str()).get("decoder"), "ByteLevel")
        if not byte_level:
            return False
        tail, skipped = b"", self.skipped_token_ids
        for i in reversed(ids):  # the bytes of the last text tokens: a character's first byte is in its last 4
            if len(tail) >= 4:
                break
            try:  # (a 0-d torch integer hashes by identity: as an int)
                i = operator.index(i)
            except TypeError:  # (decode names what is not an id)
                return False
            t = None if i in skipped else self.tok.id_to_token(i)  # (None: an id past the vocabulary, no text)
            if t is not None:
                # as the ByteLevel decoder reads a token: its characters' bytes when all are in the byte alphabet
                tail = (bytes(BYTE_OF_CHAR[c] for c in t) if all(c in BYTE_OF_CHAR for c in t) else t.encode()) + tail
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        decoder.decode(tail, final=False)
        return bool(decoder.getstate()[0])  # (the bytes of a character begun and not finished, held back)

    def _continuation(self, context_ids: list, ids: list) -> str:
        # The head reaches back to a token that starts a character: a last token that ends one (a byte-fallback
        # <0xB2> of "²", a byte-level piece of an emoji) decodes to "\ufffd" alone, and the ByteFallback decoder
        # turns every byte of a run that is not UTF-8 into one, so the text's own leading byte tokens would
        # read as "\ufffd" too. (A character is at most 4 bytes, so at most 4 tokens.) It also reaches back past
        # tokens with no text of their own: a special token (Mistral's [/INST], a turn's end) is skipped, and the
        # sentencepiece decoder then dropped the leading space of the text's first token; a lone "▁" (a prompt's
        # trailing space) decodes to "" by itself. (A few of them: the bound keeps each call short.)
        def decode(x):
            return self.decode(x, skip_special_tokens=True)

        k, head = 1, decode(context_ids[-1:])  # (head: the text of context_ids[-k:], each decoded once)
        while k < min(len(context_ids), 8) and (not head or head.startswith("\ufffd")):
            k += 1
            head = decode(context_ids[-k:])
        full = decode(context_ids[-k:] + ids)
        if full.startswith(head):
            return full[len(head):]
        # A context cut inside a character (a token-id prompt ending at a length cut: "中" as <E4><B8> | <AD>) reads
        # "\ufffd" there, and the ids complete the character: it is theirs ("中文", not "\ufffd\ufffd文" from ids
        # decoded alone, nor one "\ufffd" streamed). In byte-level tokens that character is the one last "\ufffd" (the
        # ones before it, bytes that are no UTF-8, stay the context's); a run of byte-fallback tokens that is no UTF-8
        # as a whole is a "\ufffd" for each of its bytes
        whole = head[:-1] if self._ends_inside_character(context_ids) else head.rstrip("\ufffd")
        return full[len(whole):] if whole != head and full.startswith(whole) else decode(ids)

    def encode_continuation(self, context: str, text: str) -> list[int]:
        """The tokens of `text` as they follow the tokens of `context` (`encode(context)`): what a model
        prompted with `context` generates to write `text` after it. The encode-side mirror of
        `decode_continuation`. `encode(text)` alone is wrong at the seam for a sentencepiece-style tokenizer
        (Llama 2, Mistral): it puts its dummy prefix "▁" before the first word, so after "Solution:" the
        response " 4" reads "▁▁4" (two spaces) and "The" after a newline reads "▁The" (a space the text lacks).

        The rule: encode `context + text` whole; when `encode(context)` is a prefix of that, the rest are
        `text`'s tokens (as they read in running text). When it is not — a merge across the seam (byte-level
        BPE: "is " + "4" is one token " 4" jointly; a sentencepiece merge of ":▁4") — the context's own
        tokens are still what the model is prompted with, so `text` is encoded on its own, without the dummy
        prefix, from a fresh token boundary. Special tokens (BOS) are not added; they belong to the context.
        """
        _check_text(context)  # (each named at its own position, not the joined text's)
        _check_text(text)
        ctx = self.encode(context, add_special_tokens=False)
        whole = self.encode(context + text, add_special_tokens=False)
        if whole[: len(ctx)] == ctx:
            return whole[len(ctx):]
        if self._bare is None:
            self._bare = _without_dummy_prefix(self.tok)
            self._split_special()
        return self._bare.encode(text, add_special_tokens=False).ids

    def token_to_id(self, token: str) -> int | None:
        return self.tok.token_to_id(token)

    # ---- chat ------------------------------------------------------------------------------
    def apply_chat_template(self, messages: list[dict], add_generation_prompt: bool = False, **kwargs) -> str:
        """The template's text for `messages`; `kwargs` are template variables on top of `template_kwargs`.
        Without the generation prompt unless asked for, as transformers' method of the same name (a prompt to sample
        from passes add_generation_prompt=True, as Ponder's own callers do).

        Message text is put in as it is: a special-token string inside it ("<|im_end|>" in a user's message) is
        encoded as that special token, as transformers' apply_chat_template(tokenize=True) and vLLM encode it,
        so the model is prompted as it is served (with split_special_tokens set, as text: so are the template's).
        Text that must not end a turn has to be cleaned before."""
        extra = {**check_template_kwargs(self.template_kwargs), **check_template_kwargs(kwargs)}
        check_messages(messages)
        tool_use = self._tool_use_template(extra.get("tools"))
        if self.named_templates and self.chat_template is None and tool_use is None:  # (none set since)
            names = [t.get("name") for t in self.named_templates]
            raise PonderError(f"{self.source}: tokenizer_config.json chat_template lists named templates {names} and "
                              "none is 'default'; add a 'default' one or a chat_template.jinja, or prompt with plain "
                              "text")
        if self.chat_template is None and not self.has_chatml_tokens:
            # ChatML's markers would be encoded as plain text, and no turn would end on a stop token
            raise PonderError(f"{self.source}: no chat template (tokenizer_config.json chat_template or "
                              "chat_template.jinja) and no ChatML tokens (<|im_start|>, <|im_end|>) to fall back "
                              "on; add a chat template, or prompt with plain text")
        import jinja2

        template = tool_use or self.chat_template or CHATML
        if template != CHATML:  # (Ponder's own template is no untrusted code)
            _check_jinja_version(jinja2.__version__, self.source)
        try:
            # compiled again when chat_template was set since (the template that was compiled rendered on)
            if self._jinja is None or self._jinja[0] != template:
                self._jinja = (template, _compile_template(template))
            # as transformers renders it: tools and documents None, not undefined
            return self._jinja[1].render({
                "tools": None, "documents": None, **self.template_tokens, **extra,
                "messages": [_template_message(m) for m in messages],
                "add_generation_prompt": add_generation_prompt,
                # no BOS: bos_token undefined, as transformers leaves it (`bos_token | default(...)`, `is defined`)
                **({"bos_token": self.bos_token} if self.bos_token else {}),
                "eos_token": self.eos_token,
            })
        except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, AttributeError, LookupError,
                RecursionError, PonderError) as e:
            # (Python's own errors come through a template's expressions as they are: 'text' + 1, x / 0, a filter
            # given data of another shape, '{1}'.format(x), a macro calling itself without end)
            where = f" (line {e.lineno})" if getattr(e, "lineno", None) else ""
            # a template read from chat_template.jinja names that file: its line numbers are the file's, and the
            # directory's tokenizer_config.json may hold another (unused) template to be mistaken for it
            file, text = self._template_file or (None, None)
            src = file if file and text == self.chat_template else self.source
            if (dropped := self._unrendered_call(messages, add_generation_prompt, extra)) is not None:
                i, name = dropped
                raise PonderError(f"{src}: the chat template does not render the tool_calls of chat message {i} "
                                  f"(no {name!r} in its text, and it fails on their null content); use a template "
                                  "with tool calling, such as Qwen3's") from None
            # the template's own raise_exception (PonderError, "roles must alternate") is its message alone
            kind = "" if isinstance(e, PonderError) else f"{type(e).__name__}{where}: "
            raise PonderError(f"{src}: chat template: {kind}{' '.join(str(e).split())}") from None

    def _unrendered_call(self, messages, add_generation_prompt, extra) -> tuple[int, str] | None:
        """(index, name) of a tool call the template leaves out, for a render that failed on a message of tool_calls
        with content null (passed without it, as transformers does): a template without tool calling (plain ChatML's
        `message['content']`) fails there, where the fault is that it cannot show the calls at all. None when the
        render fails with content "" too, or shows every call's name (then the failure is the template's own)."""
        bare = [i for i, m in enumerate(messages) if m.get("tool_calls") and m.get("content") is None]
        if not bare:
            return None
        filled = [{**m, "content": ""} if i in bare else m for i, m in enumerate(messages)]
        try:  # (no recursion: `filled` has no such message)
            text = self.apply_chat_template(filled, add_generation_prompt, **extra)
        except PonderError:
            return None
        return next(((i, c["function"]["name"]) for i in bare for c in messages[i]["tool_calls"]
                     if c["function"]["name"] not in text), None)

    def _tool_use_template(self, tools) -> str | None:
        """The checkpoint's named "tool_use" template when a render is given tools (an empty list too), as
        transformers picks it over the default one (Hermes 2 Pro / 3, Command R: their default template leaves the
        tools out of the prompt); None otherwise, or once another chat_template was set than the list's default."""
        named = self.config.get("chat_template")
        if tools is None or not isinstance(named, list):
            return None
        by_name = {t.get("name"): t.get("template") for t in named if isinstance(t, dict)}
        if self.chat_template != by_name.get("default") or not isinstance(by_name.get("tool_use"), str):
            return None
        return by_name["tool_use"]

    @property
    def has_chatml_tokens(self) -> bool:
        return self.tok.token_to_id("<|im_start|>") is not None and self.tok.token_to_id("<|im_end|>") is not None

    # ---- files -----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        # each file written whole or not at all, and the directory made (the library's own save left a half-written
        # tokenizer.json behind when interrupted, and said only "No such file or directory" for a new directory)
        path = Path(path)
        atomic_write_text(path / "tokenizer.json", self.tok.to_str(pretty=True))
        template = self.chat_template or self.named_templates or (CHATML if self.has_chatml_tokens else None)
        named = self.config.get("chat_template")
        if isinstance(named, list) and {"name": "default", "template": template} in [
                {"name": t.get("name"), "template": t.get("template")} for t in named]:
            template = named  # the whole list of named templates it came from, "default" unchanged
        # the pad token the files named: none is written as none (padding with EOS is load's fallback; written as the
        # pad token, the checkpoint's template saw a pad_token its base's had not, and transformers padded with EOS)
        pad = self.template_tokens.get("pad_token")
        cfg = {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "eos_token": self.eos_token,
            "pad_token": pad if pad and self.tok.token_to_id(pad) is not None else None,
            "bos_token": self.bos_token,
            "chat_template": template,
            "model_max_length": 32768,
            "clean_up_tokenization_spaces": False,
        }
        cfg.update({k: v for k, v in self.config.items() if k not in ("eos_token", "pad_token", "bos_token",
                                                                          "chat_template")})
        atomic_write_text(path / "tokenizer_config.json", json.dumps(cfg, indent=2, ensure_ascii=False))
        stm = path / "special_tokens_map.json"
        if stm.is_file():  # (another checkpoint's, left in the directory): load lets its tokens win over
            # tokenizer_config.json's, so it is rewritten with the tokens just saved, as transformers writes it
            keys = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token",
                    "additional_special_tokens", "extra_special_tokens")
            atomic_write_text(stm, json.dumps({k: cfg[k] for k in keys if cfg.get(k) is not None}, indent=2,
                                              ensure_ascii=False))
        jt = path / "chat_template.jinja"
        if jt.is_file():  # a directory's chat_template.jinja wins over tokenizer_config.json's (load, transformers):
            # a stale one would replace the template just written, so it gets the same one (or goes, for none)
            if isinstance(template, str):
                atomic_write_text(jt, template)
            else:
                jt.unlink()
        # the same for the other named templates' files (load reads them over tokenizer_config.json's list, which
        # holds them all as written here)
        for f in (path / "additional_chat_templates").glob("*.jinja"):
            f.unlink()

    @classmethod
    def load(cls, path: str | os.PathLike, extra_eos_ids: Iterable[int] = ()) -> Tokenizer:
        path = Path(path)
        tj = path / "tokenizer.json"
        if not tj.is_file():
            if tj.is_symlink():  # a hub cache snapshot whose blob is gone: "no tokenizer.json" hid the link
                from .checkpoint import _dangling  # (checkpoint imports this module)

                raise PonderError(f"{tj}: {_dangling(tj)}")
            # a checkpoint with only the slow tokenizer's files (Llama 2's tokenizer.model, GPT-2/Qwen's vocab.json
            # and merges.txt): "no tokenizer.json" said nothing of how to get one
            slow = [f for f in ("tokenizer.model", "vocab.json", "merges.txt") if (path / f).is_file()]
            how = (f" (it has {', '.join(slow)}, a slow tokenizer's files, which Ponder does not read: write "
                   "tokenizer.json with transformers, AutoTokenizer.from_pretrained(DIR).save_pretrained(DIR))"
                   if slow else "")
            raise PonderError(f"{path}: no tokenizer.json{how}")
        try:
            tok = HFTokenizer.from_file(str(tj))
        except Exception as e:  # the library's message is informative; keep it on one line
            fault = _json_fault(tj)  # (its message for a file cut short said "not valid UTF-8" or "EOF while ...")
            if fault:
                raise PonderError(f"{tj}: {fault}") from None
            unknown = _unknown_component(tj)  # (its message for a type it lacks names neither field nor type)
            if unknown:
                import tokenizers

                raise PonderError(f"{tj}: {unknown} (a typo, or a file written by a newer tokenizers than the "
                                  f"installed {tokenizers.__version__}: pip install -U tokenizers)") from None
            raise PonderError(f"{tj}: cannot read tokenizer: {str(e).splitlines()[0]}") from None
        from .checkpoint import read_json_object  # (checkpoint imports this module)

        tc = path / "tokenizer_config.json"
        cfg = read_json_object(tc) if tc.is_file() else {}
        # Older checkpoints name their special tokens in special_tokens_map.json (too). transformers reads it only
        # beside a tokenizer_config.json without added_tokens_decoder (what it has written since 4.34), and then
        # its entries win over tokenizer_config.json's (its extra_special_tokens list is added to that one's)
        stm = path / "special_tokens_map.json"
        special = read_json_object(stm) if stm.is_file() and "added_tokens_decoder" not in cfg else {}
        for k, v in special.items():
            if k == "extra_special_tokens" and isinstance(v, list) and isinstance(cfg.get(k), list):
                v = cfg[k] + [t for t in v if t not in cfg[k]]
            cfg[k] = v
        for k in ("eos_token", "bos_token", "pad_token"):
            src = stm if k in special else tc
            v = cfg.get(k)
            if v is not None and not isinstance(_token_content(v), str):
                raise PonderError(f"{src}: {k} must be a token string (or an object with a string 'content'), "
                                  f"got {json.dumps(v)[:60]}")
        _apply_added_tokens_decoder(tok, cfg.get("added_tokens_decoder"), tc)
        _add_named_special_tokens(tok, cfg)
        bos = _token_content(cfg.get("bos_token"))  # (checked with added_tokens_decoder's tokens added: one may be it)
        if bos is not None and tok.token_to_id(bos) is None:
            # (dropped, chat templates rendered bos_token as "" and save() wrote null over the typo)
            raise PonderError(f"{stm if 'bos_token' in special else tc}: bos_token={bos!r} is not in the vocabulary "
                              f"of {tj.name} (nor in added_tokens_decoder)")
        if "split_special_tokens" in cfg and not isinstance(cfg["split_special_tokens"], bool):
            raise PonderError(f"{tc}: split_special_tokens must be true or false, "
                              f"got {json.dumps(cfg['split_special_tokens'])[:60]}")
        template, named = cfg.get("chat_template"), None
        if isinstance(template, list):  # named templates: take the default one
            if not all(isinstance(t, dict) and isinstance(t.get("template"), str) for t in template):
                raise PonderError(f"{tc}: chat_template must be a string or a list of {{name, template}} objects")
            named, template = template, next((t["template"] for t in template if t.get("name") == "default"), None)
        elif template is not None and not isinstance(template, str):
            raise PonderError(f"{tc}: chat_template must be a string or a list of {{name, template}} objects, "
                              f"got {json.dumps(template)[:60]}")
        jt, template_file = path / "chat_template.jinja", None
        if jt.is_file():  # transformers' newer home for the template: it wins over tokenizer_config.json's
            template, template_file = read_text(jt), str(jt)
            if not template.strip():  # rendered ChatML in its place (transformers renders it: every chat empty)
                raise PonderError(f"{jt} is empty; write the chat template into it or remove the file")
        elif isinstance(template, str) and not template.strip():  # the same, from tokenizer_config.json
            raise PonderError(f"{tc}: chat_template is empty; write the chat template or remove the field")
        extra = sorted((path / "additional_chat_templates").glob("*.jinja"))
        if extra:  # transformers' home for the other named templates (tool_use, rag): kept as tokenizer_config.json's
            # list of named templates, which save() writes on (they were lost); the default one is chat_template.jinja
            named = [{"name": "default", "template": template}] if template_file else []
            named += [{"name": f.name.removesuffix(".jinja"), "template": read_text(f)} for f in extra]
            cfg["chat_template"] = named
            template = next((t["template"] for t in named if t["name"] == "default"), None)
        eos = _token_content(cfg.get("eos_token"))
        if eos is None:  # no tokenizer file names one: the model config's EOS id, as generation uses it
            eos = next((t for t in map(tok.id_to_token, extra_eos_ids) if t is not None), None)
        out = cls(
            tok,
            eos_token=eos,
            bos_token=_token_content(cfg.get("bos_token")),
            pad_token=_token_content(cfg.get("pad_token")),
            chat_template=template,
            extra_eos_ids=extra_eos_ids,
            source=str(path),
            named_templates=named,
            config=cfg,
        )
        if template_file:
            out._template_file = (template_file, template)
        return out


# tokenizer.json's components: the library's module of their types, and the key of a Sequence's parts
_COMPONENTS = {"normalizer": ("normalizers", "normalizers"), "pre_tokenizer": ("pre_tokenizers", "pretokenizers"),
               "post_processor": ("processors", "processors"), "decoder": ("decoders", "decoders"),
               "model": ("models", None)}


def _json_fault(tj: Path) -> str | None:
    """Why `tj` is no JSON text, as a phrase with the line and column, or None (it is one, or cannot be read).

    A file cut short (an interrupted download or copy) is named as that: the tokenizers library said "stream did
    not contain valid UTF-8" when the cut fell inside a multi-byte character, as a cut tokenizer.json's often does
    (its byte-level vocabulary is full of them), and "EOF while parsing a string" otherwise."""
    try:
        data = tj.read_bytes()
    except OSError:
        return None
    cut = False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.end < len(data):  # bytes that are no UTF-8 before the end: the file really is not UTF-8
            return f"not UTF-8 text ({e.reason} at byte {e.start})"
        text, cut = data[:e.start].decode("utf-8"), True  # (the end holds the first bytes of a character)
    if not text.strip() and not cut:
        return f"empty ({len(data)} bytes), no JSON"
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        # A string running to the end of the file (a JSON string cannot hold a raw line break, so it ran there),
        # or a parse that needed more than there is: the file ends inside a value
        if cut or e.msg.startswith("Unterminated string") or e.pos >= len(text.rstrip()):
            line, col = text.count("\n") + 1, len(text) - text.rfind("\n")
            return (f"not complete JSON: it stops at line {line} column {col}, inside a value ({len(data)} bytes; "
                    "cut short, e.g. by an interrupted download or copy: fetch it again)")
        return f"invalid JSON: {e}"
    except RecursionError:
        return "invalid JSON: nested too deeply"
    return None


def _unknown_component(tj: Path) -> str | None:
    """'field: unknown type X' for the first component of tokenizer.json `tj` (a Sequence's parts too) whose type the
    installed tokenizers library does not have, or None (none, or no JSON to read)."""
    import tokenizers

    try:
        d = json.loads(read_text(tj))
    except (OSError, ValueError, PonderError):
        return None

    def walk(node, path, known, parts):
        if not isinstance(node, dict):
            return None
        kind = node.get("type")
        if isinstance(kind, str) and kind not in known:
            return f"{path}: unknown type {kind!r}"
        for k, part in enumerate(node.get(parts) or [] if parts and kind == "Sequence" else []):
            if (found := walk(part, f"{path}.{parts}[{k}]", known, parts)) is not None:
                return found
        return None

    for field, (module, parts) in _COMPONENTS.items():
        mod = getattr(tokenizers, module)
        known = {n for n in dir(mod) if isinstance(getattr(mod, n), type)}
        if (found := walk(d.get(field) if isinstance(d, dict) else None, field, known, parts)) is not None:
            return found
    return None


def _apply_added_tokens_decoder(tok: HFTokenizer, decoder, source) -> None:
    """tokenizer_config.json's added_tokens_decoder entries that differ from tokenizer.json's added tokens (a token
    marked special in one only, other lstrip/rstrip flags) added to `tok` as transformers adds them when loading:
    a "<think>" special there only was left in decoded text here and skipped by transformers."""
    from tokenizers import AddedToken

    if not isinstance(decoder, dict):
        return
    have = {repr(t) for t in tok.get_added_tokens_decoder().values()}
    new = []
    for key, t in decoder.items():
        if not str(key).isdigit() or not isinstance(t, dict) or not isinstance(t.get("content"), str):
            raise PonderError(f"{source}: added_tokens_decoder: entry {key!r} must be a token id with an object "
                              f"holding a string 'content', got {json.dumps(t)[:60]}")
        flags = {k: v for k, v in t.items() if k in ("single_word", "lstrip", "rstrip", "normalized", "special")}
        if not all(isinstance(v, bool) for v in flags.values()):
            raise PonderError(f"{source}: added_tokens_decoder: entry {key!r}: flags must be true or false, "
                              f"got {json.dumps(flags)[:60]}")
        at = AddedToken(t["content"], **flags)
        if repr(at) not in have:
            new.append((int(key), at))
    if new:
        tok.add_tokens([at for _, at in sorted(new, key=lambda x: x[0])])


def _add_named_special_tokens(tok: HFTokenizer, cfg: dict) -> None:
    """The special tokens tokenizer_config.json names (eos_token, pad_token..., a model-specific "*_token" such as
    image_token, extra_special_tokens or additional_special_tokens) that tokenizer.json holds as plain vocabulary
    entries, made special added tokens as transformers makes them when loading: their text is then that one token
    (a chat template's "<|im_end|>" was split into byte-level pieces) and decoding skips them. (transformers also
    appends the ones missing from the vocabulary as new ids, past the model's embeddings; those are left out.)"""
    from tokenizers import AddedToken

    named = [cfg.get(k) for k in ("bos_token", "eos_token", "pad_token", *NAMED_TOKENS)]
    named += [v for k, v in cfg.items() if k.endswith("_token") and isinstance(v, str)]
    extra = cfg.get("extra_special_tokens", cfg.get("additional_special_tokens"))
    for k in ("extra_special_tokens", "model_specific_special_tokens"):
        if isinstance(cfg.get(k), dict):
            named += list(cfg[k].values())
    extra = extra if isinstance(extra, list) else []
    have = {t.content: t for t in tok.get_added_tokens_decoder().values()}
    new = []
    for t, is_named in [(t, True) for t in named] + [(t, False) for t in extra]:
        content = _token_content(t)
        if not isinstance(content, str) or tok.token_to_id(content) is None:
            continue
        old = have.get(content)
        if old is not None:
            # an added token tokenizer.json leaves non-special, named as a special one: transformers makes it
            # special, its flags kept (decoding skips it; split_special_tokens encodes it as text)
            if is_named and not old.special:
                new.append(AddedToken(content, single_word=old.single_word, lstrip=old.lstrip, rstrip=old.rstrip,
                                      normalized=old.normalized, special=True))
                have[content] = new[-1]
            continue
        flags = {k: v for k, v in t.items() if k in ("single_word", "lstrip", "rstrip", "normalized", "special")
                 and isinstance(v, bool)} if isinstance(t, dict) else {}
        if is_named or not isinstance(t, dict):  # (a named one is special whatever its object says)
            flags["special"] = True
        new.append(AddedToken(content, **flags))
        have[content] = new[-1]
    if new:
        tok.add_tokens(new)


def _check_text(text) -> None:
    """A one-line PonderError for text the tokenizers library refuses as "TextInputSequence must be str": a str
    holding a lone surrogate (JSON's "\\ud800", an undecodable byte read with surrogateescape), no UTF-8 text."""
    if not isinstance(text, str):
        raise PonderError(f"text to encode must be a string, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise PonderError(f"text to encode holds a lone surrogate {text[e.start]!r} at character {e.start}, not "
                          f"UTF-8 text: {text[max(0, e.start - 30):e.start + 30]!r}") from None


def _check_decode_ids(ids) -> None:
    """A one-line PonderError for ids the tokenizers library fails on as a bare OverflowError or TypeError ("number
    too small to fit in target type" for SFT labels' -100 ignore index, naming no id)."""
    import operator

    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
        raise PonderError(f"decode takes a list of token ids, got {type(ids).__name__} {ids!r:.40}")
    for j, x in enumerate(ids):
        try:
            i = operator.index(x)  # (numpy and 0-d torch integers too, as the library takes them)
        except TypeError:
            raise PonderError(f"decode: token ids must be integers, got {x!r:.40} at position {j}") from None
        if i < 0:
            raise PonderError(f"decode: token id {i} at position {j} is negative (a label's -100 ignore index is no "
                              "token: mask it out before decoding)")
        if i >= 2**32:  # (the library's ids are 32-bit)
            raise PonderError(f"decode: token id {i} at position {j} is past any vocabulary")


def _template_message(m: dict) -> dict:
    """Message `m` as transformers' apply_chat_template gives it to the template: without the fields set to None
    (a template testing `'tool_calls' in message` would take a `tool_calls: null` for a tool call) and with its
    reasoning, under whichever of REASONING_FIELDS it came, as `reasoning_content` and `thinking` (gpt-oss's)."""
    m = {k: v for k, v in m.items() if v is not None}
    reasoning = next((m[k] for k in REASONING_FIELDS if k in m), None)
    return m if reasoning is None else {"thinking": reasoning, **m, "reasoning_content": reasoning}


def check_messages(messages) -> None:
    """Each chat message one `message_problem` accepts (one PonderError line naming the first that is not, and
    its field)."""
    # (one message, a string or None was read as a list: "chat message 0: ... got str 'role'" named a key of the
    # one message, or a bare TypeError)
    if isinstance(messages, (str, bytes, dict)) or not hasattr(messages, "__iter__"):  # (a numpy array of them is fine)
        hint = " (one message: pass [message])" if isinstance(messages, dict) else ""
        raise PonderError(f"chat messages must be a list of {{'role', 'content'}} objects{hint}, got "
                          f"{type(messages).__name__} {messages!r:.60}")
    for i, m in enumerate(messages):
        if (problem := message_problem(m)) is not None:
            raise PonderError(f"chat message {i}: {problem}")


def message_problem(m) -> str | None:
    """What is wrong with chat message `m` (naming its field), or None. A message is {'role': one of ROLES,
    'content': str} as the OpenAI format and transformers' chat templates take it, plus the fields templates read:
    an assistant's `tool_calls` ([{'type': 'function', 'function': {'name': str, 'arguments': str or object}}],
    when its content may be None or absent) and `reasoning_content` (str; or `thinking`, `reasoning`), a tool message's `tool_call_id` and
    `name` (str). A field set to None counts as absent: a Parquet column of messages holds every message's
    fields, null where a message has none. Checked here, not left to the template: Jinja renders a malformed
    call or a None content as "None", or drops it, and a run would train on that."""
    if not isinstance(m, dict):
        return (f"expected an object with a 'role' ({', '.join(ROLES)}) and a string 'content', "
                f"got {type(m).__name__} {m!r:.60}")
    role = m.get("role")
    if role not in ROLES:
        return f"unknown role {role!r:.40} (use {', '.join(ROLES)})"
    calls = m.get("tool_calls")
    if calls is not None:
        if role != "assistant":
            return f"'tool_calls' on a {role} message (only an assistant message calls tools)"
        if not isinstance(calls, list):
            return f"'tool_calls' must be a list, got {type(calls).__name__} {calls!r:.60}"
        for k, call in enumerate(calls):
            f = call.get("function") if isinstance(call, dict) else None
            if (not isinstance(f, dict) or not isinstance(f.get("name"), str)
                    or not isinstance(f.get("arguments"), (str, dict))
                    or call.get("type", "function") != "function"):
                return (f"'tool_calls[{k}]' must be {{'type': 'function', 'function': {{'name': str, 'arguments': "
                        f"str or object}}}}, got {call!r:.80}")
    content = m.get("content")
    if not isinstance(content, str) and not (content is None and calls):
        return (f"'content' must be text (None only on an assistant message with tool_calls), "
                f"got {type(content).__name__} {content!r:.60}")
    for k in (*REASONING_FIELDS, "tool_call_id", "name"):
        if m.get(k) is not None and not isinstance(m[k], str):
            return f"{k!r} must be text, got {type(m[k]).__name__} {m[k]!r:.60}"
    return None


# Template switches that are booleans: Qwen3's enable_thinking, DeepSeek-V3.1's thinking.
_BOOL_TEMPLATE_VARS = ("enable_thinking", "thinking")


def check_template_kwargs(kwargs, where: str = "chat template kwargs") -> dict:
    """`kwargs` if it can be extra chat-template variables (a dict with identifier keys, none the renderer's
    own), else a one-line PonderError naming `where` and the key at fault."""
    if not isinstance(kwargs, dict):
        raise PonderError(f"{where}: expected a JSON object such as {{\"enable_thinking\": false}}, "
                          f"got {type(kwargs).__name__}")
    for k in kwargs:
        if not isinstance(k, str) or not k.isidentifier():
            raise PonderError(f"{where}: {k!r} is not a template variable name")
        if k in RESERVED_TEMPLATE_VARS:
            raise PonderError(f"{where}: {k!r} is set by the renderer itself and cannot be given here")
    for k in _BOOL_TEMPLATE_VARS:  # (Jinja reads the text "false" as true: thinking stayed on)
        if k in kwargs and not isinstance(kwargs[k], bool):
            raise PonderError(f"{where}: {k!r} must be true or false, got {type(kwargs[k]).__name__} "
                              f"{kwargs[k]!r:.60}")
    tools = kwargs.get("tools")  # (the JSON schemas templates list, {"type": "function", "function": {...}})
    if tools is not None and (not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools)):
        raise PonderError(f"{where}: 'tools' must be a list of tool objects (JSON schemas), got {tools!r:.80}")
    return kwargs


def _without_dummy_prefix(tok: HFTokenizer) -> HFTokenizer:
    """`tok` without the prefix it puts before a sequence's first word: a Prepend("▁") normalizer (Llama 2's
    and Mistral's legacy tokenizer.json), a Metaspace pre-tokenizer's prepend_scheme, a ByteLevel
    add_prefix_space. `tok` itself when it has none (Ponder's and Qwen's byte-level BPE)."""
    d = json.loads(tok.to_str())
    changed = False

    def normalizer(n):
        nonlocal changed
        if not isinstance(n, dict):
            return n
        if n.get("type") == "Prepend":
            changed = True
            return None
        if n.get("type") == "Sequence":
            n["normalizers"] = [m for m in map(normalizer, n.get("normalizers") or []) if m is not None]
        return n

    def pre_tokenizer(p):
        nonlocal changed
        if not isinstance(p, dict):
            return
        if p.get("type") == "Sequence":
            for q in p.get("pretokenizers") or []:
                pre_tokenizer(q)
        elif p.get("type") == "Metaspace":
            if p.get("prepend_scheme", "always") != "never" or p.get("add_prefix_space"):
                changed = True
                p["prepend_scheme"] = "never"
                if "add_prefix_space" in p:
                    p["add_prefix_space"] = False
        elif p.get("type") == "ByteLevel" and p.get("add_prefix_space"):
            changed = True
            p["add_prefix_space"] = False

    d["normalizer"] = normalizer(d.get("normalizer"))
    pre_tokenizer(d.get("pre_tokenizer"))
    return HFTokenizer.from_str(json.dumps(d)) if changed else tok


def _byte_alphabet() -> dict[str, int]:
    """The byte-level alphabet (GPT-2's bytes_to_unicode, the ByteLevel pre-tokenizer's and decoder's): the byte each
    character of a byte-level vocabulary's tokens stands for."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    rest = [b for b in range(256) if b not in printable]
    return {**{chr(b): b for b in printable}, **{chr(256 + k): b for k, b in enumerate(rest)}}


BYTE_OF_CHAR = _byte_alphabet()


def _has_decoder(d, kind: str) -> bool:
    """Whether tokenizer.json's decoder `d` is of type `kind` or a Sequence holding one."""
    if not isinstance(d, dict):
        return False
    return d.get("type") == kind or any(_has_decoder(x, kind) for x in d.get("decoders") or [])


# A checkpoint's chat template is untrusted code. Older jinja2 sandboxes leak: under 3.1.5 a template's
# `'{0.__init__.__globals__[os].environ}'|attr('format')` reads the environment (an HF_TOKEN) into the prompt
# (CVE-2025-27516; CVE-2024-56326 before it). transformers refuses them too.
MIN_JINJA2 = (3, 1, 6)


def _check_jinja_version(version: str, source: str) -> None:
    import re

    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if m and tuple(int(x or 0) for x in m.groups()) < MIN_JINJA2:
        raise PonderError(f"{source}: its chat template needs jinja2>={'.'.join(map(str, MIN_JINJA2))} to render (jinja2 "
                          f"{version} has known sandbox escapes, and a checkpoint's template is untrusted code): pip "
                          "install -U jinja2")


def _compile_template(template: str):
    """A checkpoint's Jinja chat template in the environment transformers renders it in: sandboxed,
    trim_blocks and lstrip_blocks, loop controls ({% break %}), its {% generation %} tag (only marks
    the assistant's text; rendered as its body), raise_exception, strftime_now, a tojson that keeps
    non-ASCII text and a namespace() without underscore-prefixed attributes."""
    from datetime import datetime

    import jinja2
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Generation(Extension):
        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
            return jinja2.nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

        def _body(self, caller):
            return caller()

    def raise_exception(msg):  # (apply_chat_template names the template's file, on one line)
        raise PonderError(str(msg))

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    class Namespace(jinja2.utils.Namespace):
        """transformers' namespace(): no underscore-prefixed attributes (SecurityError), which rendered here as
        undefined, so a template transformers refuses trained and evaluated on other text."""

        def __init__(*args, **kwargs):  # (jinja2's signature trick: namespace(self=...) still works)
            self, args = args[0], args[1:]
            attrs = dict(*args, **kwargs)
            for name in attrs:
                Namespace._check(name)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, name, value):
            Namespace._check(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check(name):
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(
                    f"Chat templates cannot store underscore-prefixed attributes on a namespace, but got {name!r}")

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[Generation, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    env.globals["namespace"] = Namespace
    return env.from_string(template)


SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>")
# Added tokens that decoded text keeps (not "special"), as in Qwen3's tokenizer: a completion's reasoning
# tags must reach the format verifier and stop strings such as "</think>".
VISIBLE_TOKENS = ("<think>", "</think>")


def train_tokenizer(texts: Iterable[str], vocab_size: int = 512, special_tokens=SPECIAL_TOKENS) -> Tokenizer:
    """Byte-level BPE with one token per digit (as Qwen does: arithmetic sees digits, not chunks)."""
    _check_training(texts, vocab_size, special_tokens)
    texts = _checked_documents(texts)
    tok = HFTokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    d = json.loads(tok.to_str())  # the trainer marks every added token special; the ids stay as they are
    for t in d["added_tokens"]:
        t["special"] = t["content"] not in VISIBLE_TOKENS
    return Tokenizer(HFTokenizer.from_str(json.dumps(d)), eos_token=special_tokens[0], pad_token=special_tokens[0])


def _checked_documents(texts):
    """`texts` with each document checked as the trainer reads it: a non-string (a None from a missing field) or a
    lone surrogate failed inside the tokenizers trainer with a bare TypeError or UnicodeEncodeError, naming no
    document. A list or tuple is checked whole and passed on as it is; another iterable one document at a time."""
    def check(i, t):
        if not isinstance(t, str):
            raise PonderError(f"train_tokenizer: texts[{i}] must be a string (one document), got "
                              f"{type(t).__name__} {t!r:.40}")
        try:
            t.encode("utf-8")
        except UnicodeEncodeError as e:
            raise PonderError(f"train_tokenizer: texts[{i}] holds a lone surrogate {t[e.start]!r} at character "
                              f"{e.start}, not UTF-8 text") from None

    if isinstance(texts, (list, tuple)):
        for i, t in enumerate(texts):
            check(i, t)
        return texts
    try:
        it = iter(texts)
    except TypeError:
        what = type(texts).__name__
        raise PonderError(f"train_tokenizer: texts must be an iterable of documents, got {what}") from None

    def checked():
        for i, t in enumerate(it):
            check(i, t)
            yield t
    return checked()


def _check_training(texts, vocab_size, special_tokens) -> None:
    """A one-line PonderError for what the tokenizers trainer would take wrongly: a vocab_size below every byte
    and special token (it trained a larger vocabulary, silently), one past MAX_VOCAB (its allocation aborted the
    process), special_tokens or texts given as one string (each character a special token, the first EOS; each
    character a document)."""
    from .train import MAX_VOCAB  # (train imports this module)

    if isinstance(texts, (str, bytes)):
        raise PonderError(f"train_tokenizer: texts must be an iterable of documents, got one string {texts!r:.40} "
                          "(pass [text])")
    if (isinstance(special_tokens, str) or not isinstance(special_tokens, (list, tuple)) or not special_tokens
            or not all(isinstance(t, str) and t for t in special_tokens)):
        raise PonderError("train_tokenizer: special_tokens must be a non-empty list of token strings (the first is "
                          f"EOS), got {special_tokens!r:.80}")
    least = 256 + len(set(special_tokens))
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
        raise PonderError(f"train_tokenizer: vocab_size must be an integer, got {vocab_size!r:.40}")
    if not least <= vocab_size <= MAX_VOCAB:
        raise PonderError(f"train_tokenizer: vocab_size={vocab_size}: a byte-level tokenizer with "
                          f"{least - 256} special tokens needs from {least} (256 bytes and the special tokens) "
                          f"to {MAX_VOCAB:,} (2**20)")
