"""The sampling engine: the hot path of RL and of test-time scaling.

`sample(model, tokenizer, prompts, n=...)` renders prompts, left-pads them into one batch, prefills once
into a KV cache preallocated for the whole generation, fans the cache out to n samples per prompt, then
decodes one token per step writing keys/values in place (no torch.cat per step). Finished rows are
dropped from the batch as they accumulate, so long stragglers do not drag the short ones along.

Randomness is counter-based: the uniform number behind each token choice is a hash of (seed, prompt
index, sample index, step), not a draw from a stateful generator. So a sample does not depend on which other
prompts share its batch, on the batch size, on max_new_tokens (a shorter call draws a prefix), or on which
worker drew it: one prompt alone at its index (index_offset, stream_index), the same prompt in a batch of 32, or
on a Ray actor gives the same tokens, up to float differences in the logits. (Those are ~1e-5 in float32, where
the tests find the same tokens; in bfloat16 padding moves a logit by bf16 rounding, 0.09 on the tiny model, and
11 of 24 of its 64-token samples drawn alone and in a padded batch parted, the first at the second token.)

Log-probabilities are those of the chosen tokens under the temperature-scaled distribution, before
top-k/top-p/min-p truncation (greedy: the raw distribution) — the quantity an RL ratio needs.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import platform
import weakref
from dataclasses import dataclass, field

import torch

from .errors import PonderError
from .model import KVCache, Transformer, model_context, rms_norm
from .tokenizer import Tokenizer


@dataclass
class Sample:
    text: str
    token_ids: list[int]
    # log softmax(logits / T) of each chosen token: the full tempered distribution, before any top-k /
    # top-p / min-p cut (the learner's convention too, so the two compare; not the truncated sampler's)
    logprobs: list[float]
    finish_reason: str  # "stop" (EOS or a stop string) | "length"
    prompt_ids: list[int] = field(default_factory=list, repr=False)

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)


# ---- counter-based random numbers ----------------------------------------------------------------
_M1, _M2 = -4658895280553007687, -7723592293110705685  # splitmix64 constants as signed int64
_ZERO_KEY = -7046029254386353131  # 0x9E3779B97F4A7C15 (splitmix64's increment) as signed int64: what input 0 hashes as


def _mix(x: torch.Tensor) -> torch.Tensor:
    """splitmix64's finaliser on int64 tensors (wrapping multiply, logical shifts via masks)."""
    x = x ^ ((x >> 30) & ((1 << 34) - 1))
    x = x * _M1
    x = x ^ ((x >> 27) & ((1 << 37) - 1))
    x = x * _M2
    return x ^ ((x >> 31) & ((1 << 33) - 1))


def uniform(row_keys: torch.Tensor, step) -> torch.Tensor:
    """[rows] uniform numbers in (0, 1], a pure function of (row key, step): 24 hashed bits each, (k + 0.5) / 2**24
    rounded to float32 (which reaches 1.0 for the top k; harmless: 1.0 still picks the last token of positive
    probability). `step` may be a tensor that broadcasts against the keys (a whole generation's draws at once)."""
    x = row_keys * 1_000_003 + step
    # splitmix64's finaliser maps 0 to 0, the smallest uniform: seed 0's first row (prompt 0, sample 0) drew the
    # lowest-id token of positive probability at step 0 in every run (the tiny model's EOS: an empty first sample,
    # an empty first `ponder chat` reply). The input 0 is hashed as another value instead
    bits = _mix(torch.where(x == 0, torch.full_like(x, _ZERO_KEY), x))
    return ((bits >> 40) & ((1 << 24) - 1)).float().add_(0.5).mul_(1.0 / (1 << 24))


# Below this temperature the sampler divides the logits' gaps to their max in float64 (logits / T overflows float32);
# the GRPO learner divides logits / T directly, so it refuses a temperature below it.
TINY_TEMPERATURE = 1e-20


def choose_tokens(logits, row_keys, step, temperature, top_k, top_p, min_p, u=None):
    """Pick one token per row; returns (tokens [rows], logprobs [rows]). `u`: the rows' uniforms for this
    step when drawn ahead (`uniform(keys[:, None], arange(steps))[:, step]`, the same numbers).

    Inverse-CDF sampling: one hashed uniform per row, located in the cumulative distribution (float64,
    so the tail of a 150k vocabulary keeps its mass in the sum). The uniform has 24 bits: a token is drawn
    with its probability rounded to a multiple of 2^-24 (one below ~6e-8 is drawn at rate 0 or 2^-24; the
    total mass stays exact to 2^-24). Gumbel-max would need a hashed number per row
    *and token*, which cost 3x the whole choice on a 1k vocabulary (measured, CPU).
    """
    logits = logits.float()
    if temperature == 0:
        tok = logits.argmax(-1)
        return tok, torch.log_softmax(logits, -1).gather(-1, tok[:, None])[:, 0]
    if temperature != 1.0:
        if temperature < TINY_TEMPERATURE:  # logits / T would overflow to inf (NaN probabilities): divide the gaps to the
            # max instead (softmax ignores shifts), in float64, where a T that rounds to 0 in float32 does not
            logits = ((logits - logits.max(-1, keepdim=True).values).double() / temperature).float()
        else:
            logits = logits / temperature
    logp = torch.log_softmax(logits, -1)
    p = logp.exp()
    keep = None
    if top_k and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        keep = logits >= kth
    if top_p < 1.0:  # on the distribution left by top-k, renormalised (transformers' and vLLM's order)
        pk = p if keep is None else p.masked_fill(~keep, 0.0)
        sp, idx = (pk / pk.sum(-1, keepdim=True)).sort(-1, descending=True)
        # keep the smallest prefix whose mass reaches top_p (the token crossing the line stays). The mass before a
        # token is the previous cumulative sum itself: cumsum - sp rounded below it, so a prefix whose mass was
        # exactly top_p kept one token more
        cum = sp.cumsum(-1)
        drop_sorted = torch.cat([torch.zeros_like(cum[:, :1]), cum[:, :-1]], -1) >= top_p
        # the most likely token always stays: a top_p below float32's smallest number compared as 0 (0 >= 0), and
        # with every token cut the draw fell on token 0
        drop_sorted[:, 0] = False
        drop = torch.zeros_like(drop_sorted).scatter_(-1, idx, drop_sorted)
        keep = ~drop if keep is None else keep & ~drop
    if min_p > 0.0:
        k = p >= min_p * p.max(-1, keepdim=True).values
        keep = k if keep is None else keep & k
    if keep is not None:
        p = p.masked_fill(~keep, 0.0)
    cdf = p.cumsum(-1, dtype=torch.float64)
    # the first token whose cumulative mass reaches u * total; tokens with zero mass are never chosen
    target = (uniform(row_keys, step) if u is None else u).to(cdf.dtype).mul_(cdf[:, -1])
    tok = torch.searchsorted(cdf, target[:, None]).clamp_(max=logits.shape[-1] - 1)[:, 0]
    return tok, logp.gather(-1, tok[:, None])[:, 0]


# ---- the decode step, packed for CPU -----------------------------------------------------------
# oneDNN's linear on a weight reordered once into its blocked layout: the fastest decode matmul measured
# on CPU (bench/generate.py's model, 32 rows, 2-core AVX-512 EPYC: the five weight shapes of a step in 424
# us vs 672 us through MKL's packed GEMM and 687 us as `x @ W_t`). It has no autograd; decoding needs none.
# x86-64 only: that is where it was measured (ARM builds route oneDNN through other kernels).
_ONEDNN = (platform.machine().lower() in ("x86_64", "amd64") and torch.backends.mkldnn.is_available()
           and hasattr(torch.ops.mkldnn, "_linear_pointwise"))
_PACKED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> (weights' versions, PackedDecoder)


class _Linear:
    """x [rows, in] -> x @ W.T for a decode-time weight, in the fastest layout available on CPU.

    fp32, or bf16 where oneDNN has bf16 kernels: oneDNN's linear on the reordered weight (any row count,
    no repacking when finished rows leave the batch). Otherwise `x @ W_t` with W_t a contiguous [in, out]
    copy, itself 15-60% faster than `F.linear(x, W)` at 32 rows (measured on a 2-core Xeon).
    """

    def __init__(self, w: torch.Tensor):  # [out, in]
        self.onednn = _ONEDNN and w.device.type == "cpu" and (
            w.dtype == torch.float32 or (w.dtype == torch.bfloat16 and torch.ops.mkldnn._is_mkldnn_bf16_supported()))
        self.w = torch.ops.mkldnn._reorder_linear_weight(w.contiguous(), None) if self.onednn else w.t().contiguous()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.onednn:
            return torch.ops.mkldnn._linear_pointwise(x, self.w, None, "none", [-1], "")
        return x @ self.w


@dataclass
class _PackedLayer:
    norm1: torch.Tensor
    qkv: _Linear  # q|k|v fused: [(heads + 2 kv_heads) * head_dim] outputs
    bqkv: torch.Tensor | None
    qk_norm: torch.Tensor | None  # [heads + kv_heads, head_dim]: q_norm's weight per q head, then k_norm's
    o: _Linear
    bo: torch.Tensor | None
    norm2: torch.Tensor
    gu: _Linear  # gate|up fused: [2 * intermediate] outputs
    bgu: torch.Tensor | None
    down: _Linear
    bd: torch.Tensor | None


class PackedDecoder:
    """One-token decode steps with the weights laid out for CPU matmuls.

    Why: at decode time a CPU step is a few dozen tiny ops per layer and a handful of matmuls with few
    rows, and both cost more than they need to through the model's modules. Measured on 2-core CPUs
    (32 rows): matmuls through `_Linear` (oneDNN on reordered weights, or pre-transposed ones); q|k|v and
    gate|up fused into one matmul each; q and k normalised and rotated together (RoPE as x*cos + flip(x)*sin'
    with the sign folded into sin'); in fp32 the RMSNorm weights folded into the matmuls they feed;
    attention as baddbmm-softmax-bmm instead of SDPA's flash kernel, which is slow for one query. About
    20 ops per layer instead of ~50. Prefill still runs the model's forward. Same math as
    `Transformer.forward`: tests check logits and caches equal to the model's own path, and greedy
    decoding equal to full recompute.

    The packed copy costs one extra set of weights; it is rebuilt only when a parameter changed (its
    version counter moved or its storage was replaced), i.e. once per RL update. In-place writes through
    `p.data` bypass the version counter: update weights with `load_state_dict` or under `torch.no_grad()`.
    """

    def __init__(self, model: Transformer):
        cfg = model.config
        self.cfg = cfg
        self.model = weakref.ref(model)  # a strong reference would keep the model alive in _PACKED
        self.nh, self.nkv, self.d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        self.eps = cfg.rms_norm_eps
        # fp32: fold each RMSNorm's weight into the matmul it feeds and scale the product's rows by the
        # reciprocal RMS instead (rms(x) * w @ W.T == (x @ (W diag(w)).T) * r): fewer ops around the matmul.
        # bf16 keeps the reference's fp32 normalise-then-cast path (folding would round W diag(w)).
        self.fold = model.dtype == torch.float32

        def lin(ws, norm=None):  # weights [out, in] concatenated along out, the norm folded in
            w = torch.cat([x.detach() for x in ws])
            return _Linear(w * norm[None, :] if self.fold and norm is not None else w)

        def bias(*mods):
            return None if mods[0].bias is None else torch.cat([m.bias.detach() for m in mods])

        self.layers = []
        for blk in model.layers:
            a, m = blk.self_attn, blk.mlp
            n1, n2 = blk.input_layernorm.weight.detach(), blk.post_attention_layernorm.weight.detach()
            qkn = None
            if cfg.qk_norm:
                qkn = torch.cat([a.q_norm.weight.detach().expand(self.nh, self.d),
                                 a.k_norm.weight.detach().expand(self.nkv, self.d)])
            self.layers.append(_PackedLayer(
                n1, lin([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight], n1), bias(a.q_proj, a.k_proj, a.v_proj),
                qkn, lin([a.o_proj.weight]), bias(a.o_proj),
                n2, lin([m.gate_proj.weight, m.up_proj.weight], n2), bias(m.gate_proj, m.up_proj),
                lin([m.down_proj.weight]), bias(m.down_proj),
            ))
        self.norm = model.norm.weight.detach()
        self.embed = model.embed_tokens.weight.detach()
        self.lm_head = lin([model.lm_head.weight], self.norm)
        half = torch.ones(self.d // 2, dtype=model.dtype, device=model.device)
        self.sign = torch.cat([-half, half])  # rotate_half's sign, folded into sin
        self.cos = self.sin = half[:0]  # rotary tables by position, grown on demand

    @staticmethod
    def _version(model):
        # A weight made under torch.inference_mode (a model built or loaded inside one) has no version counter
        # (reading it raised RuntimeError) and can be written in place there unseen: such a model is repacked
        # at every call (object() equals nothing).
        return tuple((id(p), p.data_ptr(), object() if p.is_inference() else p._version) for p in model.parameters())

    @classmethod
    def for_model(cls, model: Transformer) -> PackedDecoder:
        """The model's packed decoder, rebuilt only if a weight changed since the last call. Kept beside the
        model (a weak mapping), not on it: copies and pickles of the model must not carry packed weights."""
        key = cls._version(model)
        cached = _PACKED.get(model)
        if cached is None or cached[0] != key:
            cached = _PACKED[model] = (key, cls(model))
        return cached[1]

    def __call__(self, tokens: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Logits [rows, vocab] for one new token per row, appended at slot `cache.length` (whose
        `valid` entry the caller has set, as for the model's forward)."""
        nh, nkv, d = self.nh, self.nkv, self.d
        B, s = tokens.shape[0], cache.length
        S = s + 1
        valid = cache.valid[:, :S]
        pos = valid.sum(-1) - 1  # rotary position = real tokens before this one (prompts are left-padded)
        if self.cos.shape[0] < cache.valid.shape[1]:  # positions never exceed the cache's slots
            cos, sin = self.model().rope(torch.arange(cache.valid.shape[1], device=pos.device)[None], self.embed.dtype)
            self.cos, self.sin = cos[0, :, 0], sin[0, :, 0] * self.sign
        cos, sin = self.cos[pos].view(B, 1, d), self.sin[pos].view(B, 1, d)
        bias = None
        if not bool(valid.all()):  # padding slots get -inf, one row per (row, kv head)
            bias = torch.zeros(B, 1, 1, S, dtype=self.embed.dtype, device=valid.device)
            bias = bias.masked_fill_(~valid[:, None, None], float("-inf")).expand(B, nkv, 1, S).reshape(B * nkv, 1, S)
        scale = d ** -0.5
        x = torch.nn.functional.embedding(tokens, self.embed)
        for i, L in enumerate(self.layers):
            qkv = self._norm_linear(x, L.norm1, L.qkv, L.bqkv).view(B, nh + 2 * nkv, d)
            qk = qkv[:, : nh + nkv]
            if L.qk_norm is not None:
                qk = rms_norm(qk, L.qk_norm, self.eps)
            qk = torch.addcmul(qk * cos, qk.view(B, nh + nkv, 2, d // 2).flip(2).view(B, nh + nkv, d), sin)
            cache.k[i][:, :, s] = qk[:, nh:]
            cache.v[i][:, :, s] = qkv[:, nh + nkv:]
            q = qk[:, :nh].reshape(B * nkv, nh // nkv, d)  # query head j reads kv head j // group
            k = cache.k[i][:, :, :S].reshape(B * nkv, S, d)
            v = cache.v[i][:, :, :S].reshape(B * nkv, S, d)
            if bias is None:
                att = torch.bmm(q, k.transpose(1, 2)).mul_(scale)
            else:
                att = torch.baddbmm(bias, q, k.transpose(1, 2), alpha=scale)
            out = torch.bmm(torch.softmax(att, -1), v).view(B, nh * d)
            x = L.o(out).add_(x) if L.bo is None else L.o(out).add_(x).add_(L.bo)
            gu = self._norm_linear(x, L.norm2, L.gu, L.bgu)
            i_ = gu.shape[1] // 2
            act = torch.nn.functional.silu(gu[:, :i_]).mul_(gu[:, i_:])
            x = L.down(act).add_(x) if L.bd is None else L.down(act).add_(x).add_(L.bd)
        cache.length += 1
        return self._norm_linear(x, self.norm, self.lm_head, None)

    def _norm_linear(self, x, norm_w, lin: _Linear, b):
        """lin(rms_norm(x) * norm_w) + b, with norm_w folded into lin's weight when self.fold."""
        if not self.fold:
            out = lin(rms_norm(x, norm_w, self.eps))
            return out if b is None else out.add_(b)
        r = x.pow(2).mean(-1, keepdim=True).add_(self.eps).rsqrt_()
        out = lin(x).mul_(r)
        return out if b is None else out.add_(b)


def decoder(model: Transformer):
    """decode(tokens [rows], cache) -> logits [rows, vocab]: the packed path on CPU, where it was
    measured faster; elsewhere the model's own forward."""
    if model.device.type == "cpu":
        return PackedDecoder.for_model(model)
    return _forward_decoder(model)


def _forward_decoder(model: Transformer):
    """decode(tokens [rows], cache) -> logits [rows, vocab] through the model's own forward."""
    def decode(t, cache):
        with _no_dropout(model):
            return model(t[:, None], cache=cache)[:, -1]
    return decode


@contextlib.contextmanager
def _no_dropout(model):
    """The model in eval mode for one call, each module's own mode back after it. Sampling is inference: a model
    left in training mode with an attention_dropout (a user's training loop) was sampled with dropout, drawn from
    torch's global generator (greedy decoding changed from call to call, a seed did not reproduce). Set per call,
    not around a whole stream(), whose caller may train between the pieces it reads."""
    # (a model in eval mode, as checkpoint.load and the trainers leave it: nothing to walk, each decode step off the
    # CPU calls this; its modules are taken as in eval mode too, as model.eval() leaves them)
    on = [m for m in model.modules() if m.training] if model.training else []
    for m in on:
        m.training = False
    try:
        yield
    finally:
        for m in on:
            m.training = True


def prompts_open_think(tokenizer: Tokenizer, prompts) -> list[bool]:
    """For each prompt, whether the text render_prompts encodes for it (a string as given, chat messages through
    the chat template) ends with "<think>": its completions start inside the thinking, and the format reward
    must not ask them to open it (ponder.verify.fmt.prompt_opens_think). A token-id prompt is read as the text
    its ids decode to, special tokens kept (they are what the model reads: a template's "<think>" may be one)."""
    return [s is True for s in prompts_think_state(tokenizer, prompts)]


def prompts_think_state(tokenizer: Tokenizer, prompts) -> list:
    """prompts_open_think, but "closed" for a prompt whose text ends with a whole think block (Qwen3's template
    with enable_thinking=False): the reward's think_open (ponder.verify.fmt.prompt_think_state)."""
    from ponder.verify.fmt import prompt_think_state

    def text(i, p):
        if isinstance(p, str):
            return p
        if isinstance(p, (list, tuple)) and p and _is_id(p[0]):
            return tokenizer.decode(_check_ids(tokenizer, i, p), skip_special_tokens=False)
        return _named(i, tokenizer.apply_chat_template, list(p), add_generation_prompt=True)

    return [prompt_think_state(text(i, p)) for i, p in enumerate(prompts)]


def render_prompts(tokenizer: Tokenizer, prompts, model_vocab: int | None = None, first: int = 0,
                   index=None) -> list[list[int]]:
    """Strings are encoded with special tokens (a BOS the tokenizer adds); lists of chat messages go through
    the chat template, encoded without (the template writes its own); lists of token ids are used as they
    are — a continuation of a chat prompt (test-time scaling) is built as ids, since as a string it would
    gain a BOS the chat prompt never had. An empty list is an empty conversation, not empty ids. `model_vocab`:
    the model's embedding rows, when more than the tokenizer's vocabulary (padded, as Qwen's): ids up to it
    are taken too, for a model that generated one is continued on what it wrote. `first`: the first prompt's
    index in messages (sample()'s index_offset: a shard names a prompt by its index in the whole list); `index`:
    each prompt's own index in messages instead (sample()'s stream_index, prompts picked from a longer list)."""
    if isinstance(prompts, (str, dict)) or not isinstance(prompts, (list, tuple)):
        raise PonderError("prompts must be a list of strings, of chat-message lists or of token-id lists")
    if len(prompts) == 0:
        raise PonderError("prompts is empty: nothing to sample")
    out = []
    for i, p in zip(range(first, first + len(prompts)) if index is None else index, prompts):
        name = i if len(prompts) > 1 or first or index is not None else None
        if isinstance(p, str):
            ids = _named(name, tokenizer.encode, p, add_special_tokens=True)
        elif isinstance(p, (list, tuple)) and p and _is_id(p[0]):
            ids = _check_ids(tokenizer, i, p, model_vocab)
        elif isinstance(p, (list, tuple)):
            text = _named(name, tokenizer.apply_chat_template, list(p), add_generation_prompt=True)
            ids = _named(name, tokenizer.encode, text, add_special_tokens=False)
        else:
            raise PonderError(f"prompt {i}: expected a string, a list of chat messages or a list of token "
                              f"ids, got {type(p).__name__}")
        if not ids:
            if tokenizer.bos_token_id is None:
                raise PonderError(f"prompt {i} is empty (and the tokenizer has no BOS token to start from)")
            ids = [tokenizer.bos_token_id]
        if model_vocab is not None and max(ids) >= model_vocab:  # (else a bare IndexError in the embedding)
            j = next(j for j, x in enumerate(ids) if x >= model_vocab)
            raise PonderError(f"prompt {i}: token id {ids[j]} at position {j} is past the model's embedding "
                              f"(vocab_size {model_vocab}; the tokenizer's ids go up to {tokenizer.vocab_size - 1})")
        out.append(ids)
    return out


def _named(i: int | None, render, *args, **kwargs):
    # a malformed message, a template's raise_exception ("chat message 2: unknown role", "only supports single
    # tool-calls") or a lone surrogate in the text named no prompt: which of a thousand was at fault? (one alone
    # has no index to give, as in check_context: `ponder chat`'s conversation)
    try:
        return render(*args, **kwargs)
    except PonderError as e:
        raise PonderError(f"prompt {i}: {e}" if i is not None else str(e)) from None


def _model_vocab(model) -> int | None:
    """The model's embedding rows (config.vocab_size: more than the tokenizer's vocabulary where padded, as
    Qwen's), None for a model without one: render_prompts' `model_vocab`."""
    return getattr(getattr(model, "config", None), "vocab_size", None)


def _is_id(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _check_ids(tokenizer: Tokenizer, i: int, p, model_vocab: int | None = None) -> list[int]:
    """A token-id prompt as a list of ints, each an id of the tokenizer's vocabulary (an id past it would
    index past the embedding, or decode to nothing), or of the model's larger (padded) embedding: an id the
    model itself can generate (test-time scaling continues a model on the ids it wrote)."""
    vocab = max(tokenizer.vocab_size, model_vocab or 0)
    padded = f" or the model's embedding (ids 0..{vocab - 1})" if vocab > tokenizer.vocab_size else ""
    for j, x in enumerate(p):
        if not _is_id(x):
            raise PonderError(f"prompt {i}: token ids must be integers, got {x!r} at position {j}")
        if not 0 <= x < vocab:
            raise PonderError(f"prompt {i}: token id {int(x)} at position {j} is not in the tokenizer's "
                              f"vocabulary (ids 0..{tokenizer.vocab_size - 1}){padded}")
    return [int(x) for x in p]


def _number(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise PonderError(f"{name} must be a number, got {v!r}")
    v = float(v)
    if math.isnan(v):
        raise PonderError(f"{name} must be a number, got nan")
    return v


MAX_SEED = 2**63  # seeds are hashed as signed 64-bit integers


def check_sampling(n=1, max_new_tokens=1, temperature=1.0, top_p=1.0, top_k=0, min_p=0.0, seed=None):
    """Bad sampling settings as one PonderError line naming the setting and its value (also used by
    `ponder.evaluate` to check them before any work starts)."""
    # any integer (numpy's too, as top_k and seed take them); sample() and stream() use them as ints
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
        raise PonderError(f"n must be a positive integer, got {n!r}")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, numbers.Integral) or max_new_tokens <= 0:
        raise PonderError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}")
    t = _number("temperature", temperature)
    if not (math.isfinite(t) and t >= 0):
        raise PonderError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if not 0.0 < _number("top_p", top_p) <= 1.0:
        raise PonderError(f"top_p must be in (0, 1], got {top_p!r}")
    if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 0:
        raise PonderError(f"top_k must be an integer >= 0 (0 disables it), got {top_k!r}")
    if not 0.0 <= _number("min_p", min_p) < 1.0:
        raise PonderError(f"min_p must be in [0, 1), got {min_p!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                             or not 0 <= seed < MAX_SEED):
        raise PonderError(f"seed must be an integer in [0, 2**63), got {seed!r}")


def check_index_offset(index_offset, name: str = "index_offset") -> None:
    """A bad index_offset as one PonderError line (also used by methods whose greedy draws pass none); `name`: the
    argument as the caller spells it (stream()'s `index`)."""
    # (a float here failed deep in the key hashing or the chunking with a bare torch/Python error)
    # (and hashed as a signed 64-bit integer, as seeds are: one past that failed as 'int too big to convert')
    if (isinstance(index_offset, bool) or not isinstance(index_offset, numbers.Integral)
            or not 0 <= index_offset < MAX_SEED):
        raise PonderError(f"{name} must be an integer >= 0 and < 2**63 (the first prompt's global index), "
                          f"got {index_offset!r}")


def check_context(model, ids: list[list[int]], max_new_tokens: int, what: str = "max_new_tokens",
                  names=None, parts: str | None = None) -> None:
    """The longest prompt plus max_new_tokens must fit the model's positions (checked before any cache is
    allocated: a cache of prompt + max_new_tokens slots is what the call would allocate). `what` names the
    new tokens in the message; `parts` instead spells them as a sum ("budget 8 + answer cue 3"), shown with the
    whole total; `names` (one per prompt, e.g. item ids) the prompt at fault. `model` may be the
    model's config itself (checks made before the weights are loaded)."""
    limit, how = model_context(model)
    i = max(range(len(ids)), key=lambda j: len(ids[j]))
    longest = len(ids[i])
    if isinstance(limit, int) and longest + max_new_tokens > limit:
        # (a sum's "=" gives prompt + parts: "41 + 60 + 12 + 16 = 88" left the prompt out, 88 fitting 128)
        new = f"{parts} = {longest + max_new_tokens}" if parts else f"{what} {max_new_tokens}"
        raise PonderError(f"{f'{names[i]}: ' if names else ''}prompt of {longest} tokens + {new} "
                          f"exceeds the model's context of {limit} positions{f' ({how})' if how else ''}")


@torch.inference_mode()
def sample(
    model: Transformer,
    tokenizer: Tokenizer,
    prompts,
    n: int = 1,
    max_new_tokens: int = 256,
    temperature: float = 1.0,
    top_p: float = 1.0,
    top_k: int = 0,
    min_p: float = 0.0,
    stop: list[str] | str | None = None,
    seed: int | None = None,
    *,
    max_batch_rows: int = 512,
    index_offset: int = 0,
    stop_at_eos: bool = True,
    progress=None,
    first_sample: int = 0,
    on_stop=None,
    stream_index=None,
) -> list[list[Sample]]:
    """Sample n completions per prompt. Returns one list of n `Sample`s per prompt, in order. Prompts are
    strings, chat-message lists or token-id lists (`render_prompts`).

    `index_offset` shifts the prompt indices used for the random streams, so a shard of a prompt list
    drawn elsewhere (another process, a Ray actor) reproduces exactly what one big call would draw;
    `first_sample` does the same for samples: the n drawn are samples first_sample .. first_sample + n - 1 of
    what one call with more samples per prompt would draw (chunked self-consistency). `stream_index`, optional:
    each prompt's index for its random stream instead of its position (plus index_offset), so prompts picked
    from a longer list (the ones early-stopped self-consistency still draws for) are drawn in one batch, each
    as that longer list's call draws it.
    `progress` is an optional callable(done_rows) for progress bars.
    `on_stop(prompt_index, sample_index, sample)`, optional, is called when a sample stops on a stop string with
    tokens left: returning a seed goes on as a new sample of the prompt + the tokens so far, on that seed's stream
    from its first step (what a fresh call on that context would draw, without its prefill), up to max_new_tokens
    in all; None ends it. The sample returned is the last one (its prompt_ids: the prompt + earlier tokens).
    """
    check_sampling(n, max_new_tokens, temperature, top_p, top_k, min_p, seed)
    n, max_new_tokens = int(n), int(max_new_tokens)
    # as floats: any real number passed the check, and torch divides or compares by none but ints and floats
    # (a Fraction failed as a bare TypeError at the first token)
    temperature, top_p, min_p = float(temperature), float(top_p), float(min_p)
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and (not isinstance(stop, (list, tuple)) or not all(isinstance(s, str) for s in stop)):
        raise PonderError(f"stop must be a string or a list of strings, got {stop!r}")
    for i, s in enumerate(stop or []):  # (else a bare UnicodeEncodeError after the prefill, sizing the check's window)
        try:
            s.encode("utf-8")
        except UnicodeEncodeError as e:
            raise PonderError(f"stop string {i}: holds a lone surrogate {s[e.start]!r} at character {e.start}, "
                              f"not UTF-8 text: {s[:60]!r}") from None
    stop = [s for s in (stop or []) if s]
    check_index_offset(index_offset)
    if stream_index is not None:
        if isinstance(stream_index, (str, bytes)) or not isinstance(stream_index, (list, tuple, range)):
            raise PonderError(f"stream_index must be a list of prompt indices, got {type(stream_index).__name__}")
        if isinstance(prompts, (list, tuple)) and len(stream_index) != len(prompts):
            raise PonderError(f"stream_index: {len(stream_index)} indices for {len(prompts)} prompts")
        for i in stream_index:
            check_index_offset(i, "stream_index")
            if i + index_offset >= MAX_SEED:
                check_index_offset(i + index_offset, "stream_index + index_offset")
        stream_index = [index_offset + int(i) for i in stream_index]
    # (hashed as a signed 64-bit integer, as seeds are: one of 2**64 or more failed as 'int too big to convert')
    if (isinstance(first_sample, bool) or not isinstance(first_sample, numbers.Integral)
            or not 0 <= first_sample < MAX_SEED):
        raise PonderError(f"first_sample must be a non-negative integer below 2**63, got {first_sample!r}")
    first_sample = int(first_sample)
    if isinstance(max_batch_rows, bool) or not isinstance(max_batch_rows, numbers.Integral) or max_batch_rows <= 0:
        raise PonderError(f"max_batch_rows must be a positive integer, got {max_batch_rows!r}")
    if not isinstance(stop_at_eos, bool):  # (a truthiness test took "no" as True)
        raise PonderError(f"stop_at_eos must be True or False, got {stop_at_eos!r}")
    if progress is not None and not callable(progress):  # (else a TypeError after the prefill)
        raise PonderError(f"progress must be a callable(done_rows) or None, got {progress!r}")
    if on_stop is not None and not callable(on_stop):
        raise PonderError(f"on_stop must be a callable(prompt_index, sample_index, sample) or None, got {on_stop!r}")
    if on_stop is not None:
        on_stop = _checked_on_stop(on_stop)
    # (a bad prompt of a shard (RayPool, DataParallel, scale's draw_subset) is named by its index in the whole
    # list, index_offset + i: "prompt 0" named the first of every shard)
    ids = render_prompts(tokenizer, prompts, _model_vocab(model), index_offset, stream_index)
    pidx = stream_index or list(range(index_offset, index_offset + len(ids)))  # each prompt's stream (and name)
    # of several prompts, the one at fault by its index (as render_prompts names one)
    names = ([f"prompt {i}" for i in pidx] if len(ids) > 1 or index_offset or stream_index is not None
             else None)
    check_context(model, ids, max_new_tokens, names=names)
    if seed is None:  # greedy draws nothing: leave torch's generator alone (evaluations inside a run)
        seed = 0 if temperature == 0 else int(torch.randint(0, 2**62, (1,)).item())
    results: list[list[Sample]] = []
    args = (max_new_tokens, temperature, top_p, top_k, min_p, stop, seed)
    if n <= max_batch_rows:  # whole prompts, as many as fit
        chunk = max_batch_rows // n
        for start in range(0, len(ids), chunk):
            results += _sample_batch(model, tokenizer, ids[start: start + chunk], n, *args, pidx[start: start + chunk],
                                     stop_at_eos, progress, start, first_sample=first_sample, on_stop=on_stop)
        return results
    # more samples per prompt than rows allowed: a prompt's samples max_batch_rows at a time (one prompt of all
    # its n fanned out at once ran past the cap), sample j on its own stream as ever (`first_sample`)
    for i in range(len(ids)):
        group = []
        for j in range(0, n, max_batch_rows):
            group += _sample_batch(model, tokenizer, ids[i: i + 1], min(max_batch_rows, n - j), *args,
                                   pidx[i: i + 1], stop_at_eos, progress, i, first_sample=first_sample + j,
                                   on_stop=None if on_stop is None else
                                   lambda pi, k, smp, j=j: on_stop(pi, j + k, smp))[0]
        results.append(group)
    return results


def _checked_on_stop(on_stop):
    """on_stop, its seeds refused naming it ('seed must be an integer, got -1' read as the call's own seed)."""
    def checked(p, j, s):
        nxt = on_stop(p, j, s)
        try:
            check_sampling(seed=nxt)
        except PonderError:
            raise PonderError(f"on_stop returned {nxt!r} for prompt {p}, sample {j}: seed must be an integer in "
                              "[0, 2**63)") from None
        return nxt
    return checked


def prefill(model: Transformer, ids: list[list[int]], pad: int, max_len: int) -> tuple[KVCache, torch.Tensor]:
    """Prefill a cache of `max_len` slots with left-padded prompts (every prompt ends at slot L-1);
    returns (cache, next-token logits [prompts, vocab]).

    Ragged prompts cost little padding: the model runs its token-wise layers on the real tokens only
    (model.UNPAD_BELOW) and only attention sees the padded grid. (Prefilling runs of similar length
    separately, tried first, was slower once that was in: 70 ms in 4 runs vs 54 ms in one, 32 prompts
    of 5-29 tokens.)
    """
    dev, L = model.device, max(len(x) for x in ids)
    if not 0 <= pad < model.config.vocab_size:  # padding slots are masked, never read: any id the embedding holds
        # (a pad token added to the tokenizer after the model was made is past it: each prompt alone sampled, a
        # ragged batch of them failed in the embedding as a bare IndexError)
        pad = 0
    cache = KVCache.empty(model.config, len(ids), max_len, model.dtype, dev)
    inp = torch.full((len(ids), L), pad, dtype=torch.long)
    for i, x in enumerate(ids):
        inp[i, L - len(x):] = torch.tensor(x)
        cache.valid[i, L - len(x): L] = True
    with _no_dropout(model):
        return cache, model.lm_head(model(inp.to(dev), cache=cache, return_hidden=True)[:, -1])


def _sample_batch(model, tok, ids, n, max_new, temperature, top_p, top_k, min_p, stop, seed, pidx,
                  stop_at_eos, progress, first=0, first_sample=0, on_stop=None):
    # pidx: each prompt's index for the random streams (index_offset included); first: the first in the caller's list;
    # first_sample: the index of each prompt's first sample here (its samples first_sample .. first_sample + n - 1)
    dev = model.device
    P = len(ids)
    cache, logits = prefill(model, ids, tok.pad_token_id, max(len(x) for x in ids) + max_new)
    cache = cache.repeat_interleave(n)  # prefill once, fan out to n samples per prompt
    logits = logits.repeat_interleave(n, dim=0)

    B = P * n
    decode = decoder(model)
    # one stream per (seed, global prompt index, sample index): independent of n, batch and shard
    rows = torch.arange(B, dtype=torch.int64)
    sample_ix = first_sample + rows % n
    stream = torch.tensor(pidx, dtype=torch.int64)

    def key(seed, rows):
        return _mix(_mix(torch.tensor(seed, dtype=torch.int64)) + stream[rows // n] * (1 << 32) + sample_ix[rows])

    keys = key(seed, rows).to(dev)
    u = uniform(keys[:, None], torch.arange(max_new, device=dev)[None])  # every step's draw, hashed at once
    out_ids = [[] for _ in range(B)]
    out_lp = [[] for _ in range(B)]
    reason = [None] * B
    stops = tok.stop_token_ids if stop_at_eos else frozenset()
    # a stop string spans at most one token per UTF-8 byte (byte-level BPE: a CJK character or an emoji
    # can take 3-4 tokens), plus a token on either side
    max_stop = max((len(s.encode()) for s in stop), default=0)
    # ...counting only tokens with text: special tokens decode to nothing, and any number of them can sit
    # between a stop string's characters. So the check reads each row's text tokens alone (the same text:
    # decoding skips the others), a window of bounded length however many specials came in between.
    skipped = tok.skipped_token_ids if stop else frozenset()
    # (so do ids past the tokenizer's vocabulary, a padded embedding's rows (Qwen's) that a model can still draw)
    vocab = tok.vocab_size
    texty = [[] for _ in range(B)]
    seg = [0] * B  # where each row's current sample starts in out_ids (on_stop goes on after a stop)
    live = list(range(B))

    def prompt_of(r):  # the context of row r's current sample
        return ids[r // n] + out_ids[r][:seg[r]] if seg[r] else ids[r // n]

    for step in range(max_new):
        t, lp = choose_tokens(logits, keys, step, temperature, top_k, top_p, min_p, u[:, step])
        t_list, lp_list = t.tolist(), lp.tolist()
        still, done = [], 0
        for j, r in enumerate(live):
            if reason[r] is not None:
                continue
            done += 1  # finishes now unless kept below
            if math.isnan(lp_list[j]):  # (NaN log-probs: NaN logits, their argmax and inverse CDF meaningless)
                raise _not_finite(step, f"prompt {pidx[r // n]}")  # (its global index, as render_prompts')
            out_ids[r].append(t_list[j])
            out_lp[r].append(lp_list[j])
            has_text = bool(stop) and t_list[j] not in skipped and t_list[j] < vocab
            if has_text:
                texty[r].append(t_list[j])
            if t_list[j] in stops:
                reason[r] = "stop"
            elif has_text and _stop_ends_here(tok, prompt_of(r), out_ids[r][seg[r]:], texty[r], stop, max_stop + 2):
                reason[r] = "stop"
                if on_stop is not None and len(out_ids[r]) < max_new:
                    nxt = on_stop(first + r // n, r % n, _finished(tok, prompt_of(r), out_ids[r][seg[r]:],
                                                                  out_lp[r][seg[r]:], "stop", stops, stop))
                    if nxt is not None:  # a new sample from here: its own stream, from its first step
                        keys[j] = key(int(nxt), torch.tensor(r)).to(dev)
                        u[j, step + 1:] = uniform(keys[j], torch.arange(max_new - step - 1, device=dev))
                        reason[r], seg[r], texty[r] = None, len(out_ids[r]), []
                        still.append(j)
                        done -= 1
            elif len(out_ids[r]) >= max_new:
                reason[r] = "length"
            else:
                still.append(j)
                done -= 1
        if progress is not None:
            progress(done)
        if not still:
            break
        if len(still) < len(live):
            if len(still) <= 0.75 * len(live):  # drop finished rows from the batch (amortised copies)
                sel = torch.tensor(still, device=dev)
                cache = cache.select(sel)
                t, keys, u = t[sel], keys[sel], u[sel]
                live = [live[j] for j in still]
            # rows kept but finished are ignored above (reason set); they cost compute until dropped
        cache.valid[:, cache.length] = True
        logits = decode(t, cache)
    samples = [_finished(tok, prompt_of(r), out_ids[r][seg[r]:], out_lp[r][seg[r]:], reason[r] or "length", stops,
                         stop) for r in range(B)]
    return [samples[i * n:(i + 1) * n] for i in range(P)]


def _finished(tok, prompt_ids, out, lps, reason, stops, stop) -> Sample:
    """The Sample of tokens `out` drawn after `prompt_ids`."""
    ended_by_token = reason == "stop" and out[-1] in stops
    # the stop token stays in token_ids but not in the text (as stream() and vLLM do): decoding skips a
    # special EOS anyway, but a non-special one (a generation_config EOS id of a plain token) would show
    text = tok.decode_continuation(prompt_ids, out[:-1] if ended_by_token else out)
    if stop and reason == "stop" and not ended_by_token:
        cut = min((text.find(s) for s in stop if s in text), default=-1)
        if cut >= 0:
            text = text[:cut]
    return Sample(text, out, lps, reason, prompt_ids)


def _not_finite(step: int, which: str) -> PonderError:
    # a diverged model or an fp16 overflow: greedy read NaN as the largest logit (token 0), sampling took the
    # vocabulary's last id, both with NaN log-probs (transformers' sampling refuses such probabilities too)
    return PonderError(f"the model's logits are not finite (NaN) at new token {step + 1} of {which}: its weights or "
                       "activations overflowed or diverged (an fp16 model? a diverged training run?)")


def _stop_ends_here(tok: Tokenizer, prompt_ids: list[int], out: list[int], texty: list[int], stop: list[str],
                    k: int) -> bool:
    """Whether a stop string has appeared with the last token: looked for in the text of the last k text tokens
    (`texty`), a hit confirmed in the whole completion's text, which is what the sample's text is cut on."""
    # (the window alone could read what the whole text has not: the ByteFallback decoder turns every byte token of
    # a run that is no UTF-8 as a whole into "\ufffd", and a window starting inside such a run read its tail as
    # characters, "l" from <0xF5><0x24><0x6C>: the sample stopped on a stop string that its text lacks)
    tail = _tail_text(tok, prompt_ids, texty, k)
    hits = [s for s in stop if s in tail]
    return bool(hits) and any(s in tok.decode_continuation(prompt_ids, out) for s in hits)


def _tail_text(tok: Tokenizer, prompt_ids: list[int], out: list[int], k: int) -> str:
    """The text of the last k tokens of `out` (from the first byte of the character the first of them is in), as
    it reads after the tokens before them."""
    # A window starting inside a character written in byte tokens (Llama 2's <0xB8><0xAD> of "中") reads "\ufffd"
    # there, and the ByteFallback decoder turns every byte of that invalid run into one: a stop string written in
    # byte tokens right after it was missed. The window starts up to 3 tokens earlier, where the character does.
    k, most = min(k, len(out)), min(k + 3, len(out))
    while k < most and tok.decode(out[-k:], skip_special_tokens=True).startswith("\ufffd"):
        k += 1
    # (4 tokens before it: decode_continuation reads back to where the last character before it starts)
    before = out[-k - 4:-k] if len(out) >= k + 4 else list(prompt_ids[-4:]) + out[:-k]
    return tok.decode_continuation(before, out[-k:])


@torch.inference_mode()
def naive_greedy(model: Transformer, tokenizer: Tokenizer, prompt: str, max_new_tokens: int) -> list[int]:
    """Reference decoder: full recompute every step, no cache. Used by tests as the oracle."""
    ids = tokenizer.encode(prompt, add_special_tokens=True)
    out = []
    for _ in range(max_new_tokens):
        logits = model(torch.tensor([ids + out], device=model.device))[0, -1]
        t = int(logits.float().argmax())
        out.append(t)
        if t in tokenizer.stop_token_ids:
            break
    return out


@torch.inference_mode()
def stream(model: Transformer, tokenizer: Tokenizer, prompt, max_new_tokens=256, temperature=1.0, top_p=1.0,
           top_k=0, min_p=0.0, seed=None, index=0):
    """Yield text pieces for one prompt as tokens are generated: the draws of `sample([prompt], seed=seed,
    index_offset=index)`. `index` numbers the prompts of a session (`ponder chat`'s turns), so that each draws
    its own random stream: with one seed for all, every reply read the same uniforms step by step. The generator
    returns (StopIteration.value, `x = yield from stream(...)`) sample()'s finish_reason: "stop" at EOS, "length"
    after max_new_tokens."""
    check_sampling(1, max_new_tokens, temperature, top_p, top_k, min_p, seed)
    check_index_offset(index, "index")  # (named as stream() takes it: it has no index_offset)
    max_new_tokens = int(max_new_tokens)
    temperature, top_p, min_p = float(temperature), float(top_p), float(min_p)  # (as sample() takes them)
    ids = render_prompts(tokenizer, [prompt], _model_vocab(model))[0]  # (sample()'s prompts, padded ids too)
    check_context(model, [ids], max_new_tokens)
    dev = model.device
    # sample()'s prefill: the model's forward projects every prompt position to the vocabulary (a long chat's
    # [tokens, vocab] logits, gigabytes, for the one row read); this projects the last position alone
    cache, logits = prefill(model, [ids], tokenizer.pad_token_id, len(ids) + max_new_tokens)
    if seed is None:  # as sample() draws: a fresh seed from torch's generator (a chat reply is not replayed)
        seed = 0 if temperature == 0 else int(torch.randint(0, 2**62, (1,)).item())
    # sample()'s key of prompt `index`, sample 0
    keys = _mix(_mix(torch.tensor([seed], dtype=torch.int64)) + torch.tensor([int(index)]) * (1 << 32)).to(dev)
    decode = decoder(model)
    finish = "length"

    def tokens():
        nonlocal logits, finish
        for step in range(max_new_tokens):
            t, lp = choose_tokens(logits, keys, step, temperature, top_k, top_p, min_p)
            if math.isnan(float(lp)):
                raise _not_finite(step, "the prompt")
            if int(t) in tokenizer.stop_token_ids:
                finish = "stop"
                return
            yield int(t)
            cache.valid[:, cache.length] = True
            logits = decode(t, cache)

    yield from text_pieces(tokenizer, ids, tokens())
    return finish


def text_pieces(tokenizer: Tokenizer, prompt_ids: list[int], tokens):
    """Yield the text of `tokens` (an iterable of ids, read lazily) piece by piece as it becomes final: the pieces
    join to `decode_continuation(prompt_ids, all of them)`, sample()'s text.

    Only the tokens not yet shown are decoded, behind the last few shown (decode_continuation reads at most 8 of
    its context): decoding the whole reply at every token made a 32k-token reply quadratic. A piece is held while
    it ends inside a character ("\ufffd"), and while it ends in a byte-fallback token (<0xE4>): the ByteFallback
    decoder reads a run of them as one, and a run that is no UTF-8 as a whole is "\ufffd" for every byte, the
    characters shown before its last byte included ("中" then <0xB8>: sample()'s text had four "\ufffd")."""
    byte_ids = _byte_token_ids(tokenizer)
    # (no text: a run of byte tokens goes on across them, as across ids past the vocabulary, a padded embedding's)
    skipped, vocab = tokenizer.skipped_token_ids, tokenizer.vocab_size
    # (and the prompt's last run of byte tokens when it ends inside a character: decode_continuation gives the reply
    # that whole run, past 8 tokens too)
    ctx, pending, in_run = list(prompt_ids[-8 - tokenizer._cut_run_tokens(list(prompt_ids)):]), [], False
    for t in tokens:
        pending.append(t)
        if t not in skipped and t < vocab:
            in_run = t in byte_ids
        if in_run:
            continue  # (not decoded: its text is not final before the run ends)
        text = tokenizer.decode_continuation(ctx, pending)
        # wait for a complete UTF-8 character: a "\ufffd" the next tokens may still complete (a character written
        # whole as U+FFFD is not held: a reply of them showed nothing before its end, decoded whole at every token)
        if not text.endswith("\ufffd") or not tokenizer._ends_inside_character(ctx + pending):
            if text:
                yield text
            ctx, pending = (ctx + pending)[-8:], []
    if pending:  # ended inside a character or a run of byte tokens: its text as sample()'s has it
        text = tokenizer.decode_continuation(ctx, pending)
        if text:
            yield text


def _byte_token_ids(tokenizer: Tokenizer) -> frozenset[int]:
    """The ids of the vocabulary's byte-fallback tokens <0x00>..<0xFF> (Llama 2, Mistral); none in byte-level BPE."""
    ids = (tokenizer.token_to_id(f"<0x{b:02X}>") for b in range(256))
    return frozenset(i for i in ids if i is not None)


def stream_chat(model, tokenizer, messages, on_text=None, **kw) -> str:
    """Stream a chat reply, calling on_text(piece) as text arrives; returns the whole reply."""
    pieces = []
    for piece in stream(model, tokenizer, messages, **kw):
        pieces.append(piece)
        if on_text:
            on_text(piece)
    return "".join(pieces)
