"""The sampling engine: the hot path of RL and of test-time scaling.

`sample(model, tokenizer, prompts, n=...)` renders prompts, left-pads them into one batch, prefills once
into a KV cache preallocated for the whole generation, fans the cache out to n samples per prompt, then
decodes one token per step writing keys/values in place (no torch.cat per step). Finished rows are
dropped from the batch as they accumulate, so long stragglers do not drag the short ones along.

Randomness is counter-based: the Gumbel noise for (seed, prompt index, sample index, step, token) is a
hash of those numbers, not a draw from a stateful generator. So a sample does not depend on which other
prompts share its batch, on the batch size, or on which worker drew it: one prompt alone, the same prompt
in a batch of 32, or on a Ray actor gives the same tokens (up to float differences in the logits).

Log-probabilities are those of the chosen tokens under the temperature-scaled distribution, before
top-k/top-p/min-p truncation (greedy: the raw distribution) — the quantity an RL ratio needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .errors import PonderError
from .model import KVCache, Transformer
from .tokenizer import Tokenizer


@dataclass
class Sample:
    text: str
    token_ids: list[int]
    logprobs: list[float]
    finish_reason: str  # "stop" (EOS or a stop string) | "length"
    prompt_ids: list[int] = field(default_factory=list, repr=False)

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)


# ---- counter-based random numbers ----------------------------------------------------------------
_M1, _M2 = -4658895280553007687, -7723592293110705685  # splitmix64 constants as signed int64


def _mix(x: torch.Tensor) -> torch.Tensor:
    """splitmix64's finaliser on int64 tensors (wrapping multiply, logical shifts via masks)."""
    x = x ^ ((x >> 30) & ((1 << 34) - 1))
    x = x * _M1
    x = x ^ ((x >> 27) & ((1 << 37) - 1))
    x = x * _M2
    return x ^ ((x >> 31) & ((1 << 33) - 1))


def gumbel_noise(row_keys: torch.Tensor, step: int, vocab: int) -> torch.Tensor:
    """[rows, vocab] Gumbel(0, 1) noise, a pure function of (row key, step, token id)."""
    base = _mix(row_keys * 1_000_003 + step)
    ids = torch.arange(vocab, device=row_keys.device, dtype=torch.int64)
    bits = _mix(base[:, None] ^ (ids[None] * 0x9E3779B97F4A7C15 % (1 << 62)))
    u = ((bits >> 40) & ((1 << 24) - 1)).float().add_(0.5).mul_(1.0 / (1 << 24))  # (0, 1)
    return -torch.log(-torch.log(u))


def choose_tokens(logits, row_keys, step, temperature, top_k, top_p, min_p):
    """Pick one token per row; returns (tokens [rows], logprobs [rows])."""
    logits = logits.float()
    if temperature == 0:
        tok = logits.argmax(-1)
        return tok, torch.log_softmax(logits, -1).gather(-1, tok[:, None])[:, 0]
    logits = logits / temperature
    logp = torch.log_softmax(logits, -1)
    keep = None
    if top_k and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        keep = logits >= kth
    if top_p < 1.0:
        sp, idx = logp.exp().sort(-1, descending=True)
        # keep the smallest prefix whose mass reaches top_p (the token crossing the line stays)
        drop_sorted = (sp.cumsum(-1) - sp) >= top_p
        drop = torch.zeros_like(drop_sorted).scatter_(-1, idx, drop_sorted)
        keep = ~drop if keep is None else keep & ~drop
    if min_p > 0.0:
        p = logp.exp()
        k = p >= min_p * p.max(-1, keepdim=True).values
        keep = k if keep is None else keep & k
    scores = logits if keep is None else logits.masked_fill(~keep, float("-inf"))
    tok = (scores + gumbel_noise(row_keys, step, logits.shape[-1])).argmax(-1)
    return tok, logp.gather(-1, tok[:, None])[:, 0]


def render_prompts(tokenizer: Tokenizer, prompts) -> list[list[int]]:
    """Strings are used exactly as given; lists of chat messages go through the chat template."""
    if isinstance(prompts, (str, dict)) or not isinstance(prompts, (list, tuple)):
        raise PonderError("prompts must be a list of strings or of chat-message lists")
    if len(prompts) == 0:
        raise PonderError("prompts is empty: nothing to sample")
    out = []
    for i, p in enumerate(prompts):
        if isinstance(p, str):
            ids = tokenizer.encode(p, add_special_tokens=True)
        elif isinstance(p, (list, tuple)):
            ids = tokenizer.encode(tokenizer.apply_chat_template(list(p)), add_special_tokens=False)
        else:
            raise PonderError(f"prompt {i}: expected a string or a list of chat messages, got {type(p).__name__}")
        if not ids:
            if tokenizer.bos_token_id is None:
                raise PonderError(f"prompt {i} is empty (and the tokenizer has no BOS token to start from)")
            ids = [tokenizer.bos_token_id]
        out.append(ids)
    return out


def _check_args(n, max_new_tokens, temperature, top_p, top_k, min_p):
    if not isinstance(n, int) or n <= 0:
        raise PonderError(f"n must be a positive integer, got {n!r}")
    if not isinstance(max_new_tokens, int) or max_new_tokens <= 0:
        raise PonderError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}")
    if temperature < 0:
        raise PonderError(f"temperature must be >= 0, got {temperature}")
    if not 0.0 < top_p <= 1.0:
        raise PonderError(f"top_p must be in (0, 1], got {top_p}")
    if top_k < 0:
        raise PonderError(f"top_k must be >= 0 (0 disables it), got {top_k}")
    if not 0.0 <= min_p < 1.0:
        raise PonderError(f"min_p must be in [0, 1), got {min_p}")


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
) -> list[list[Sample]]:
    """Sample n completions per prompt. Returns one list of n `Sample`s per prompt, in order.

    `index_offset` shifts the prompt indices used for the random streams, so a shard of a prompt list
    drawn elsewhere (another process, a Ray actor) reproduces exactly what one big call would draw.
    `progress` is an optional callable(done_rows) for progress bars.
    """
    _check_args(n, max_new_tokens, temperature, top_p, top_k, min_p)
    if isinstance(stop, str):
        stop = [stop]
    stop = [s for s in (stop or []) if s]
    ids = render_prompts(tokenizer, prompts)
    if seed is None:
        seed = int(torch.randint(0, 2**62, (1,)).item())
    results: list[list[Sample]] = []
    chunk = max(1, max_batch_rows // n)
    for start in range(0, len(ids), chunk):
        results += _sample_batch(
            model, tokenizer, ids[start : start + chunk], n, max_new_tokens, temperature, top_p, top_k,
            min_p, stop, seed, index_offset + start, stop_at_eos, progress,
        )
    return results


def _sample_batch(model, tok, ids, n, max_new, temperature, top_p, top_k, min_p, stop, seed, offset,
                  stop_at_eos, progress):
    dev = model.device
    P = len(ids)
    L = max(len(x) for x in ids)
    pad = tok.pad_token_id
    inp = torch.full((P, L), pad, dtype=torch.long)
    cache = KVCache.empty(model.config, P, L + max_new, model.dtype, dev)
    for i, x in enumerate(ids):  # left padding: every prompt ends at slot L-1
        inp[i, L - len(x):] = torch.tensor(x)
        cache.valid[i, L - len(x): L] = True
    h = model(inp.to(dev), cache=cache, return_hidden=True)
    logits = model.lm_head(h[:, -1])
    cache = cache.repeat_interleave(n)  # prefill once, fan out to n samples per prompt
    logits = logits.repeat_interleave(n, dim=0)

    B = P * n
    # one stream per (seed, global prompt index, sample index): independent of n, batch and shard
    rows = torch.arange(B, dtype=torch.int64)
    keys = _mix(_mix(torch.tensor(seed, dtype=torch.int64)) + (offset + rows // n) * (1 << 32) + rows % n).to(dev)
    out_ids = [[] for _ in range(B)]
    out_lp = [[] for _ in range(B)]
    reason = [None] * B
    stops = tok.stop_token_ids if stop_at_eos else frozenset()
    max_stop = max((len(s) for s in stop), default=0)
    live = list(range(B))
    for step in range(max_new):
        t, lp = choose_tokens(logits, keys, step, temperature, top_k, top_p, min_p)
        t_list, lp_list = t.tolist(), lp.tolist()
        still = []
        for j, r in enumerate(live):
            if reason[r] is not None:
                continue
            out_ids[r].append(t_list[j])
            out_lp[r].append(lp_list[j])
            if t_list[j] in stops:
                reason[r] = "stop"
            elif stop and any(s in tok.decode(out_ids[r][-(max_stop + 2):]) for s in stop):
                reason[r] = "stop"
            elif len(out_ids[r]) >= max_new:
                reason[r] = "length"
            else:
                still.append(j)
        if progress is not None:
            progress(len(live) - len(still))
        if not still:
            break
        if len(still) < len(live):
            if len(still) <= 0.75 * len(live):  # drop finished rows from the batch (amortised copies)
                sel = torch.tensor(still, device=dev)
                cache = cache.select(sel)
                t, keys = t[sel], keys[sel]
                live = [live[j] for j in still]
            # rows kept but finished are ignored above (reason set); they cost compute until dropped
        cache.valid[:, cache.length] = True
        logits = model(t[:, None], cache=cache)[:, -1]
    samples = []
    for r in range(B):
        text = tok.decode(out_ids[r])
        if stop and reason[r] == "stop" and (out_ids[r][-1] not in stops):
            cut = min((text.find(s) for s in stop if s in text), default=-1)
            if cut >= 0:
                text = text[:cut]
        samples.append(Sample(text, out_ids[r], out_lp[r], reason[r] or "length", ids[r // n]))
    return [samples[i * n:(i + 1) * n] for i in range(P)]


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
           top_k=0, min_p=0.0, seed=None):
    """Yield text pieces for one prompt as tokens are generated (same sampling as `sample`)."""
    _check_args(1, max_new_tokens, temperature, top_p, top_k, min_p)
    ids = render_prompts(tokenizer, [prompt])[0]
    dev = model.device
    cache = KVCache.empty(model.config, 1, len(ids) + max_new_tokens, model.dtype, dev)
    cache.valid[:, : len(ids)] = True
    logits = model(torch.tensor([ids], device=dev), cache=cache)[:, -1]
    keys = _mix(_mix(torch.tensor([seed or 0], dtype=torch.int64))).to(dev)
    out, shown = [], ""
    for step in range(max_new_tokens):
        t, _ = choose_tokens(logits, keys, step, temperature, top_k, top_p, min_p)
        if int(t) in tokenizer.stop_token_ids:
            break
        out.append(int(t))
        text = tokenizer.decode(out)
        if not text.endswith("\ufffd"):  # wait for a complete UTF-8 character
            yield text[len(shown):]
            shown = text
        cache.valid[:, cache.length] = True
        logits = model(t[:, None], cache=cache)[:, -1]


def stream_chat(model, tokenizer, messages, on_text=None, **kw) -> str:
    """Stream a chat reply, calling on_text(piece) as text arrives; returns the whole reply."""
    pieces = []
    for piece in stream(model, tokenizer, messages, **kw):
        pieces.append(piece)
        if on_text:
            on_text(piece)
    return "".join(pieces)
