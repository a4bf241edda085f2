"""A readable decoder-only transformer for the Qwen3 family, with Qwen2 and Llama 3 as config flags.

Parameter names match Hugging Face's (`model.layers.0.self_attn.q_proj.weight`, ...) so a checkpoint maps
one-to-one; `ModelConfig` maps to and from HF `config.json`. Logits match transformers' to 1e-4 in fp32
(tests/test_model.py checks it in both directions).

The same forward serves training (full sequences, optional padding mask) and sampling (a preallocated
`KVCache` written in place; see engine.py).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import torch
import torch.nn.functional as F
from torch import nn

from .errors import PonderError

ARCHITECTURES = {"qwen3": "Qwen3ForCausalLM", "qwen2": "Qwen2ForCausalLM", "llama": "LlamaForCausalLM"}


@dataclass
class ModelConfig:
    model_type: str = "qwen3"  # qwen3 | qwen2 | llama
    vocab_size: int = 512
    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int | None = None  # default hidden_size // num_attention_heads
    max_position_embeddings: int = 2048
    rope_theta: float = 10000.0
    rope_scaling: dict | None = None  # {"rope_type": "linear"|"yarn"|"llama3", "factor": ..., ...}
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = True
    attention_bias: bool | None = None  # q/k/v(/o for llama) biases; default: on for Qwen2 (q/k/v) only
    qk_norm: bool | None = None  # Qwen3's per-head RMSNorm on queries and keys; default: on for Qwen3 only
    mlp_bias: bool = False
    attention_dropout: float = 0.0  # on the attention probabilities, in training mode only (as transformers)
    bos_token_id: int | None = None
    eos_token_id: int | list[int] | None = None
    pad_token_id: int | None = None
    torch_dtype: str = "float32"
    extra: dict = field(default_factory=dict, repr=False)  # unknown HF keys, written back on save

    def __post_init__(self):
        if not isinstance(self.model_type, str) or self.model_type not in ARCHITECTURES:
            raise PonderError(
                f"unsupported model_type {_short(self.model_type)}; supported: {', '.join(ARCHITECTURES)}"
            )
        self._check_types()
        if self.head_dim is None:
            self.head_dim = self.hidden_size // self.num_attention_heads
            if self.head_dim < 1:
                raise PonderError(f"head_dim = hidden_size // num_attention_heads = {self.hidden_size} // "
                                  f"{self.num_attention_heads} = 0; give head_dim or fewer heads")
        if self.qk_norm is None:  # each family's own layout unless asked otherwise
            self.qk_norm = self.model_type == "qwen3"
        if self.attention_bias is None:
            self.attention_bias = self.model_type == "qwen2"
        if self.num_attention_heads % self.num_key_value_heads:
            raise PonderError(
                f"num_attention_heads={self.num_attention_heads} is not a multiple of "
                f"num_key_value_heads={self.num_key_value_heads}"
            )
        if self.head_dim % 2:
            raise PonderError(f"head_dim={self.head_dim} must be even for RoPE")
        # a window in extra (written back on save) that transformers would use: refused here as from_hf refuses
        # it, since this model runs full attention; a config built in Python used to be saved as one that
        # transformers runs with the window (from_hf wraps this message with the file's name)
        _check_sliding_window(_sliding_window_in_use(self._hf_window_fields(), self.model_type), self)

    # ---- HF config.json <-> ModelConfig -------------------------------------------------------
    @classmethod
    def from_hf(cls, d: dict, source: str = "config.json") -> ModelConfig:
        if not isinstance(d, dict):
            raise PonderError(f"{source}: expected a JSON object, got {_json_type(d)}")
        mt = d.get("model_type")
        archs = d.get("architectures") or []
        if not isinstance(mt, str) or mt not in ARCHITECTURES:
            raise PonderError(
                f"{source}: unsupported architecture model_type={_short(mt)} {_short(archs)}; "
                f"supported: {', '.join(ARCHITECTURES.values())}"
            )
        _refuse_unimplemented(d, mt, source)
        window = _sliding_window_in_use(d, mt)
        act = d.get("hidden_act", "silu")
        if act not in ("silu", "swish"):  # (transformers' "swish" is torch's SiLU: the same function)
            raise PonderError(f"{source}: hidden_act={_short(act)} is not supported (only silu)")
        rope_theta = d.get("rope_theta")
        scaling = d.get("rope_scaling")
        params = d.get("rope_parameters")  # transformers >= 5 keeps theta and scaling together here
        for k, v in (("rope_parameters", params), ("rope_scaling", scaling)):
            if v is not None and not isinstance(v, dict):  # (a rope_parameters that is no object was skipped)
                raise PonderError(f"{source}: {k} must be an object or null, got {_short(v)}")
        nested = [k for k, v in params.items() if isinstance(v, dict)] if isinstance(params, dict) else []
        if nested:  # one RoPE per layer type (Gemma 3 style): read as a flat object it would be default RoPE
            raise PonderError(f"{source}: rope_parameters per layer type ({', '.join(map(str, nested))}) "
                              "are not supported; give one rope_parameters object")
        if isinstance(params, dict) and scaling and _rope_key(params, d) != _rope_key(scaling, d):
            # transformers lets rope_scaling replace rope_parameters wholesale (theta then from the top-level
            # rope_theta, else 10000), which is rarely what whoever added it meant: ask for one of them
            raise PonderError(f"{source}: rope_parameters and rope_scaling disagree ({_short(params, 80)} vs "
                              f"{_short(scaling, 80)}); keep one of them")
        if isinstance(params, dict):
            rope_theta = params.get("rope_theta", rope_theta)
            if params.get("rope_type", params.get("type", "default")) != "default":
                scaling = {k: v for k, v in params.items() if k != "rope_theta"}
        if scaling is not None:
            scaling = dict(scaling)
            # a rope_theta inside the object wins, as it does in rope_parameters (transformers reads
            # rope_scaling as its rope_parameters and fills in the top-level rope_theta only when missing)
            rope_theta = scaling.pop("rope_theta", rope_theta)
            kind = scaling.get("rope_type", scaling.get("type", "default"))
            if kind not in ("default", "linear", "yarn", "llama3"):
                # (name the field and the choices: "rope scaling type 'dynamic'" alone left a user guessing which
                # object to edit and to what; dynamic NTK changes with the batch's length, longrope per position)
                field = "rope_scaling" if d.get("rope_scaling") else "rope_parameters"
                raise PonderError(f"{source}: {field}.rope_type {_short(kind)} is not supported; "
                                  "supported: default, linear, yarn, llama3")
            scaling["rope_type"] = kind
            scaling.pop("type", None)
            if kind == "default":
                scaling = None
            elif kind in ("yarn", "llama3") and d.get("original_max_position_embeddings") is not None:
                # a top-level original_max_position_embeddings (Phi-3 style) wins in transformers, 32768.0 too
                top = d["original_max_position_embeddings"]
                if not _is_number(top) or not 0 < top < math.inf:  # (it used to be passed over unless an int)
                    raise PonderError(f"{source}: original_max_position_embeddings must be a positive number, "
                                      f"got {_short(top)}")
                scaling["original_max_position_embeddings"] = top
        required = ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"]
        for k in required:
            if k not in d:
                raise PonderError(f"{source}: missing field {k!r}")
        known = {f.name for f in fields(cls)}
        kw = {k: d[k] for k in known if k in d and k not in ("extra", "rope_scaling", "rope_theta", "qk_norm")}
        kw["model_type"] = mt
        given = (d, params, d.get("rope_scaling"))
        if rope_theta is None and any(isinstance(r, dict) and "rope_theta" in r for r in given):
            # (absent everywhere: transformers' default 10000; null: its RoPE fails on None)
            raise PonderError(f"{source}: rope_theta=null is not supported (transformers cannot build the model); "
                              "give rope_theta or leave it out")
        kw["rope_theta"] = rope_theta if rope_theta is not None else 10000.0  # checked in __post_init__
        kw["rope_scaling"] = scaling
        if "num_key_value_heads" not in d and mt != "llama":  # transformers' Qwen2/Qwen3 class default, 32
            kw["num_key_value_heads"] = 32  # (64 heads -> 32 key/value heads there: the same model here)
            if not _is_int(d["num_attention_heads"]) or d["num_attention_heads"] % 32:
                raise PonderError(f"{source}: missing field 'num_key_value_heads' (transformers takes 32 for "
                                  f"{mt}, which does not divide num_attention_heads={_short(d['num_attention_heads'])})")
        elif kw.get("num_key_value_heads") is None:  # (transformers: null means one per attention head)
            kw["num_key_value_heads"] = d["num_attention_heads"]
        if kw.get("attention_dropout", 0.0) is None:  # transformers' eval forward ignores it; no dropout then
            kw["attention_dropout"] = 0.0
        # transformers >= 5 takes "dtype" over "torch_dtype" when both are there (checked in _check_types)
        dtype = d.get("dtype") if d.get("dtype") is not None else d.get("torch_dtype")
        kw["torch_dtype"] = "float32" if dtype is None else dtype
        if "max_position_embeddings" not in d:  # transformers' per-family default (it sizes llama3/YaRN RoPE)
            kw["max_position_embeddings"] = 2048 if mt == "llama" else 32768
        if mt == "qwen3":
            kw["qk_norm"] = True
        elif mt == "qwen2":
            kw["qk_norm"], kw["attention_bias"] = False, True
        else:
            kw["qk_norm"] = False
        if mt != "llama":  # transformers' Qwen2/Qwen3 MLPs have no biases whatever mlp_bias says
            kw["mlp_bias"] = False
        if "head_dim" in d and d["head_dim"] is None and mt != "llama":  # (Llama's reads it as hidden / heads)
            # transformers' Qwen3Config refuses null, and Qwen2's attention takes it as is (None ** -0.5)
            raise PonderError(f"{source}: head_dim=null is not supported for {mt} (transformers cannot load it); "
                              "give head_dim or leave it out")
        if kw.get("head_dim") is None and mt == "qwen3":  # transformers' defaults: Qwen3Config's 128,
            kw["head_dim"] = 128  # else hidden / heads (__post_init__, once the sizes are checked)
        kw.setdefault("tie_word_embeddings", False if mt == "llama" else kw.get("tie_word_embeddings", False))
        # "dtype" (transformers >= 5) is read into torch_dtype above: kept as well, a stale copy would win
        kw["extra"] = {k: v for k, v in d.items() if k not in known and k not in ("rope_parameters", "dtype")}
        try:
            cfg = cls(**kw)
        except PonderError as e:  # the field's name and value; the file here
            raise PonderError(f"{source}: {e}") from None
        _check_sliding_window(window, cfg, source)
        return cfg

    def _check_types(self) -> None:
        """Every field of the type the model needs, so a bad config.json fails here with the field's name and
        value, not deep inside torch (a float size, a zero head count, a string where a number belongs)."""
        for k in _SIZE_FIELDS:
            v = getattr(self, k)
            if v is None and k == "head_dim":
                continue
            if not _is_int(v) or v < 1:
                raise PonderError(f"{k} must be a positive integer, got {_short(v)}")
        for k in ("rope_theta", "rms_norm_eps"):
            v = getattr(self, k)
            if not _is_number(v) or not 0 < v < math.inf:
                raise PonderError(f"{k} must be a positive number, got {_short(v)}")
            setattr(self, k, float(v))
        for k in ("tie_word_embeddings", "mlp_bias", "attention_bias", "qk_norm"):
            v = getattr(self, k)
            if not isinstance(v, bool) and not (v is None and k in ("attention_bias", "qk_norm")):
                raise PonderError(f"{k} must be true or false, got {_short(v)}")
        for k in ("bos_token_id", "pad_token_id", "eos_token_id"):
            v = getattr(self, k)
            ids = v if k == "eos_token_id" and isinstance(v, list) else [v]
            if v is not None and not all(_is_int(i) for i in ids):
                want = "an integer or null"
                if k == "eos_token_id":
                    want = "an integer, a list of integers or null"
                raise PonderError(f"{k} must be {want}, got {_short(v)}")
        p = self.attention_dropout
        if not _is_number(p) or not 0 <= p < 1:
            raise PonderError(f"attention_dropout must be a number in [0, 1), got {_short(p)}")
        self.attention_dropout = float(p)
        # transformers refuses a name that is no torch dtype; here it fell back to fp32 (even on a GPU)
        # (a floating one: weights of an integer dtype would be truncated on loading)
        dt = getattr(torch, self.torch_dtype, None) if isinstance(self.torch_dtype, str) else None
        if not isinstance(dt, torch.dtype) or not dt.is_floating_point:
            raise PonderError(f"dtype (torch_dtype) must name a floating-point torch dtype such as float32, bfloat16 "
                              f"or float16, got {_short(self.torch_dtype)}")
        s = self.rope_scaling
        if s is not None:
            if not isinstance(s, dict):
                raise PonderError(f"rope_scaling must be a dict (a JSON object) or None, got {_short(s)}")
            kind = s.get("rope_type", s.get("type", "default"))
            if not isinstance(kind, str) or kind not in ("default", "linear", "yarn", "llama3"):
                raise PonderError(f"rope_scaling: rope type {_short(kind)} is not supported; "
                                  "supported: default, linear, yarn, llama3")
            if kind == "yarn" and s.get("factor") is None and "factor" in s:
                # transformers (DeepSeek-V3 style): null is the context extension, max_position_embeddings over
                # original_max_position_embeddings (absent: max_position_embeddings, so 1); it used to be refused
                orig = s.get("original_max_position_embeddings") or self.max_position_embeddings
                if not _is_number(orig) or not 0 < orig < math.inf:
                    raise PonderError(f"rope_scaling: original_max_position_embeddings must be a positive number, "
                                      f"got {_short(orig)}")
                s = {**s, "factor": self.max_position_embeddings / orig}
            if kind != "default" and s.get("factor") is None:  # (transformers refuses it too)
                raise PonderError(f"rope_scaling: rope type {kind!r} needs a factor")
            for k in _ROPE_NUMBERS:
                v = s.get(k)
                if v is not None and (not _is_number(v) or not 0 < v < math.inf):
                    raise PonderError(f"rope_scaling: {k} must be a positive number, got {_short(v)}")
            if "rope_theta" in s:  # the RoPE here reads the field; transformers would read this one
                raise PonderError(f"rope_scaling: rope_theta={_short(s['rope_theta'])} belongs in the rope_theta field")
            if kind == "llama3":  # the factors rope_inv_freq takes when absent or null (Llama 3.1's), written
                # out: transformers refuses a config.json without them
                s = {**s, **{k: v for k, v in (("low_freq_factor", 1.0), ("high_freq_factor", 4.0)) if s.get(k) is None}}
            self.rope_scaling = None if kind == "default" else {**s, "rope_type": kind}

    def _hf_window_fields(self) -> dict:
        """The sliding-window fields of the config.json `to_hf` writes (its defaults: no layer slides)."""
        d = {**self.extra, "num_hidden_layers": self.num_hidden_layers}
        if self.model_type in ("qwen2", "qwen3"):
            d.setdefault("use_sliding_window", False)
            d.setdefault("sliding_window", None)
            d.setdefault("max_window_layers", self.num_hidden_layers)
        return d

    def to_hf(self) -> dict:
        """The config.json of this model, which transformers reads as the same model; PonderError for a layout
        transformers' class for this model_type cannot hold (it would drop or invent weights)."""
        mt = self.model_type
        bad = None
        if self.qk_norm != (mt == "qwen3"):
            bad = f"qk_norm={self.qk_norm}"
        elif mt == "qwen2" and not self.attention_bias:
            bad = "attention_bias=False (Qwen2 always has q/k/v biases)"
        elif mt != "llama" and self.mlp_bias:
            bad = "mlp_bias=True (only Llama has MLP biases)"
        if bad:
            raise PonderError(f"cannot write a {ARCHITECTURES[mt]} config.json for {bad}: transformers would "
                              f"load different weights; use that family's layout or another model_type")
        d = asdict(self)
        extra = d.pop("extra")
        d.pop("qk_norm")
        dropout = d.pop("attention_dropout")  # written after hidden_act, where it always stood in config.json
        if self.model_type == "qwen2":
            d.pop("attention_bias")
            if self.head_dim == self.hidden_size // self.num_attention_heads:
                d.pop("head_dim")
        out = dict(extra)
        types = out.get("layer_types")
        if isinstance(types, list) and len(types) != self.num_hidden_layers:
            # one per layer, read back from the checkpoint this config came from: a config with other layer counts
            # (a model pruned or grown, num_hidden_layers set to it) wrote the old list, which transformers refuses
            if len(set(map(str, types))) != 1:
                raise PonderError(f"layer_types lists {len(types)} layers ({_short(types)}) but num_hidden_layers="
                                  f"{self.num_hidden_layers}; set config.extra['layer_types'] to one per layer")
            out["layer_types"] = [types[0]] * self.num_hidden_layers
        out.update(d)
        out["architectures"] = [ARCHITECTURES[self.model_type]]
        out["hidden_act"] = "silu"
        out["attention_dropout"] = dropout
        out.setdefault("initializer_range", 0.02)
        out.setdefault("use_cache", True)
        if self.model_type in ("qwen2", "qwen3"):
            out.setdefault("use_sliding_window", False)
            out.setdefault("sliding_window", None)
            out.setdefault("max_window_layers", self.num_hidden_layers)
        if self.rope_scaling is None:
            out.pop("rope_scaling")
        # (again here: a field changed since construction, num_hidden_layers past max_window_layers say)
        _check_sliding_window(_sliding_window_in_use(out, mt), self)
        return out

    @property
    def context_length(self) -> int:
        """The positions the model takes (prompt plus new tokens), as vLLM derives its max_model_len: with YaRN
        original_max_position_embeddings x factor (Qwen3's model cards leave max_position_embeddings at 40960
        under a 4 x 32768 YaRN), with linear RoPE max_position_embeddings x factor; else max_position_embeddings."""
        return model_context(self)[0]

    def num_params(self) -> int:
        h, i, L, v = self.hidden_size, self.intermediate_size, self.num_hidden_layers, self.vocab_size
        q = self.num_attention_heads * self.head_dim
        kv = self.num_key_value_heads * self.head_dim
        per_layer = h * q + 2 * h * kv + q * h + 3 * h * i + 2 * h
        if self.qk_norm:
            per_layer += 2 * self.head_dim
        if self.attention_bias:
            per_layer += q + 2 * kv + (h if self.model_type != "qwen2" else 0)
        if self.mlp_bias:
            per_layer += 2 * i + h
        emb = v * h * (1 if self.tie_word_embeddings else 2)
        return L * per_layer + emb + h


_SIZE_FIELDS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                "num_key_value_heads", "head_dim", "max_position_embeddings")
_ROPE_NUMBERS = ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings",
                 "attention_factor", "beta_fast", "beta_slow", "mscale", "mscale_all_dim")


# config.json fields of sister architectures that change the math, with the value that leaves it unchanged:
# none is implemented here, so a checkpoint setting one is refused rather than silently run without it
_UNIMPLEMENTED = {"attn_logit_softcapping": None, "final_logit_softcapping": None, "partial_rotary_factor": 1.0,
                  "query_pre_attn_scalar": None, "embedding_multiplier": 1.0, "logits_scaling": 1.0,
                  "residual_multiplier": 1.0, "attention_multiplier": None}


def _refuse_unimplemented(d: dict, mt: str, source: str) -> None:
    """PonderError naming the file and the field for a config.json setting something this model does not do."""
    for key in ("quantization_config", "compression_config"):  # (compressed-tensors' older name for it)
        q = d.get(key)
        if q:  # (FP8, AWQ, GPTQ, bitsandbytes: weights in other dtypes beside scales, which were "unexpected tensors")
            method = q.get("quant_method") if isinstance(q, dict) else q
            raise PonderError(f"{source}: {key} (quant_method={_short(method)}) is not supported; "
                              "give a checkpoint with unquantized float32, bfloat16 or float16 weights")
    rope = [r for r in (d.get("rope_parameters"), d.get("rope_scaling")) if isinstance(r, dict)]
    for k, neutral in _UNIMPLEMENTED.items():
        for v in [d.get(k, neutral)] + [r.get(k, neutral) for r in rope]:
            if v is not None and v != neutral:
                raise PonderError(f"{source}: {k}={_short(v)} is not supported")
    types = d.get("layer_types")
    if mt != "llama" and isinstance(types, list):  # (a "chunked_attention" or "linear_attention" layer ran as full
        # attention, silently)
        other = [(i, t) for i, t in enumerate(types) if t not in ("full_attention", "sliding_attention")]
        if other:
            raise PonderError(f"{source}: layer_types[{other[0][0]}]={_short(other[0][1])} is not supported; "
                              "supported: full_attention, and sliding_attention (a window in use only if no shorter than the "
                              "context)")


def _sliding_window_in_use(d: dict, mt: str):
    """The sliding window some layer of this config.json attends through (transformers' reading), or None."""
    if not d.get("use_sliding_window"):
        return None
    if mt == "llama":  # transformers' Llama attends over the whole context whatever these fields say (its
        return None    # config keeps them, its attention and mask never read them): so does Ponder
    # Qwen2/Qwen3 (transformers): layers with layer_type "sliding_attention" (by default those from
    # max_window_layers on) see only the last sliding_window tokens, and only if use_sliding_window is true;
    # a sliding_window absent from the file is their class default, 4096 (null means no window)
    window = d.get("sliding_window", 4096)
    if window is None:
        return None
    types = d.get("layer_types")
    n = d.get("num_hidden_layers")
    if not isinstance(types, list) and _is_int(n) and _is_int(d.get("max_window_layers", 28)):
        types = ["sliding_attention" if i >= d.get("max_window_layers", 28) else "full_attention"
                 for i in range(n)]
    return window if not isinstance(types, list) or "sliding_attention" in types else None


def _check_sliding_window(window, cfg: ModelConfig, source: str | None = None) -> None:
    """A window no sequence outgrows is full attention: transformers' mask lets a query see the keys at most
    window - 1 positions back, so a window >= the context length (Ponder's longest sequence, as the engine and
    trainers refuse longer ones) masks nothing. Real configs ship that (Qwen2.5's sliding_window equal to
    max_position_embeddings); a window shorter than the context is refused (not implemented)."""
    if window is None:
        return
    where = f"{source}: " if source else ""
    if not _is_int(window):  # (transformers' mask arithmetic takes a count of positions)
        raise PonderError(f"{where}sliding_window must be an integer or null, got {_short(window)}")
    ctx = cfg.context_length
    if window >= ctx:
        return
    raise PonderError(f"{where}use_sliding_window=true (sliding_window={_short(window)}) is not supported "
                      f"below the context length {ctx} (a window at least that long masks nothing and is accepted)")


def _rope_key(r: dict, d: dict) -> tuple:
    """What a rope_parameters / rope_scaling object means to transformers, for comparing the two."""
    r = dict(r)
    kind = r.pop("rope_type", r.pop("type", "default"))
    r.pop("type", None)
    theta = r.pop("rope_theta", d.get("rope_theta", 10000.0))
    return kind, theta, sorted(r.items()) if kind != "default" else []


def model_context(model) -> tuple[int | None, str]:
    """(context length, where it comes from) of a model or its config: the length as
    `ModelConfig.context_length`, and "64 = original_max_position_embeddings 16 x yarn factor 4" where RoPE
    scaling makes it other than max_position_embeddings ("" where it is that); (None, "") where no
    max_position_embeddings is known (nothing to refuse)."""
    cfg = getattr(model, "config", model)
    n = getattr(cfg, "max_position_embeddings", None)
    s = getattr(cfg, "rope_scaling", None)
    if not _is_int(n) or not isinstance(s, dict):
        return (n, "") if _is_int(n) else (None, "")
    kind, factor = s.get("rope_type", s.get("type")), s.get("factor")
    if kind not in ("linear", "yarn") or not _is_number(factor):  # (llama3 RoPE keeps max_position_embeddings)
        return n, ""
    base, name = n, "max_position_embeddings"
    orig = s.get("original_max_position_embeddings")
    if kind == "yarn" and _is_number(orig):  # vLLM's base for YaRN, whatever max_position_embeddings says
        base, name = orig, "original_max_position_embeddings"
    length = base * factor
    # (a null YaRN factor is max_position_embeddings / original: their product may round just below it)
    length = round(length) if abs(length - round(length)) < 1e-6 else math.floor(length)
    if length == n:
        return n, ""
    return length, f"{length} = {name} {_num(base)} x {kind} factor {_num(factor)}"


def _num(v) -> str:
    """A config number as written by a person: 4.0 as 4, 2.5 as 2.5."""
    return str(int(v)) if float(v).is_integer() else repr(v)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _short(v, n: int = 60) -> str:
    r = repr(v)
    return r if len(r) <= n else r[: n - 3] + "..."


def _json_type(v) -> str:
    """The JSON name of a parsed value's type, for messages about config files."""
    for t, name in ((bool, "a boolean"), (dict, "an object"), (list, "an array"), (str, "a string"),
                    ((int, float), "a number")):
        if isinstance(v, t):
            return name
    return "null" if v is None else type(v).__name__


# ---- RoPE ------------------------------------------------------------------------------------
def rope_inv_freq(cfg: ModelConfig) -> tuple[torch.Tensor, float]:
    """Inverse frequencies and the attention scale factor (YaRN's mscale; 1.0 otherwise)."""
    dim, base = cfg.head_dim, cfg.rope_theta
    # Always on CPU in fp32 (also when the model is built on the meta device); moved lazily in rope().
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64, device="cpu").float() / dim))
    s = cfg.rope_scaling
    if not s:
        return inv, 1.0
    kind, factor = s["rope_type"], float(s.get("factor", 1.0))
    if kind == "linear":
        return inv / factor, 1.0
    if kind == "llama3":  # Llama 3.1: keep high frequencies, divide low ones, smooth in between
        lo, hi = float(s.get("low_freq_factor", 1.0)), float(s.get("high_freq_factor", 4.0))
        old = float(s.get("original_max_position_embeddings") or cfg.max_position_embeddings)  # as transformers
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old / lo, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < old / hi) & ~(wavelen > old / lo)
        return torch.where(medium, smoothed, scaled), 1.0
    # YaRN (Peng et al. 2023): interpolate low frequencies, extrapolate high ones, ramp between.
    orig = s.get("original_max_position_embeddings") or cfg.max_position_embeddings

    def mscale(scale, m=1.0):
        return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

    att = s.get("attention_factor")
    if att is None:
        if s.get("mscale") and s.get("mscale_all_dim"):
            att = mscale(factor, s["mscale"]) / mscale(factor, s["mscale_all_dim"])
        else:
            att = mscale(factor)
    beta_fast, beta_slow = s.get("beta_fast") or 32, s.get("beta_slow") or 1

    def corr_dim(rot):
        return (dim * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))

    low, high = corr_dim(beta_fast), corr_dim(beta_slow)
    if s.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    ramp = ((torch.arange(dim // 2, dtype=torch.float32, device="cpu") - low) / (high - low)).clamp(0, 1)
    extrap = 1 - ramp
    pos = base ** (torch.arange(0, dim, 2, device="cpu").float() / dim)
    inv = (1.0 / (factor * pos)) * (1 - extrap) + (1.0 / pos) * extrap
    return inv, float(att)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


# ---- layers ----------------------------------------------------------------------------------
class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        # Under autocast a norm's output only feeds matmuls (or RoPE, then attention's matmuls): cast it
        # once here instead of once per projection that reads it, in forward and in backward.
        dt = autocast_dtype(x)
        low = dt is not None or x.dtype in LOW_PRECISION
        # CPU only: PyTorch's GPU builds have fused RMSNorm kernels of their own, and this path is measured on CPU.
        grad = torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad)
        if low and grad and x.device.type == "cpu":
            return _RMSNormFn.apply(x, self.weight, self.eps, dt)
        out = rms_norm(x, self.weight, self.eps)
        return out if dt is None else out.to(dt)


# Low-precision training (bf16/fp16 weights or autocast) takes the faster paths below: on CPU a written-out
# RMSNorm backward and attention as matmuls, on any device a RoPE with fewer kernels. fp32 training keeps autograd's own
# backward, so fp32 runs (the tiny model's recipe among them) round exactly as they always have.
LOW_PRECISION = (torch.bfloat16, torch.float16)


class _RMSNormFn(torch.autograd.Function):
    """rms_norm (1-D weight) with a written-out backward: one training step has two norms per layer, plus q/k
    norms, and autograd's backward through pow, mean, rsqrt and two muls runs ~15 kernels per norm, each a pass
    over the activations (the step's elementwise work is bound by memory traffic). The gradients, in fp32:
    dx = r * (g*w - xn * mean(g*w * xn)), dw = sum(g * xn), with r the reciprocal RMS and xn = x * r.
    `out_dtype`: the output's dtype (autocast's), cast inside."""

    @staticmethod
    def forward(ctx, x, weight, eps, out_dtype):
        acc = torch.promote_types(x.dtype, torch.float32)
        # One read of x and no x**2 tensor; r may differ from rms_norm's in its last bit.
        ms = torch.linalg.vector_norm(x, dim=-1, keepdim=True, dtype=acc).square_().div_(x.shape[-1])
        r = torch.rsqrt(ms.add_(eps))
        y = weight * (x * r).to(x.dtype)  # rms_norm's rounding: normalise in fp32, cast, then scale
        ctx.save_for_backward(x, weight, r)
        return y if out_dtype is None else y.to(out_dtype)

    @staticmethod
    def backward(ctx, g):
        # LayerNorm's fused backward kernel with mean 0 (RMSNorm is LayerNorm without centring) computes dx and dw
        # in one pass; add back the centring term it subtracts, r * mean(g*w). In fp32 for every input dtype: the
        # kernel's bf16 form (q/k norms under autocast) was no faster and gave a 10x larger weight-gradient error.
        x, weight, r = ctx.saved_tensors
        w, d, xf, g = weight.to(r.dtype), x.shape[-1], x.to(r.dtype), g.to(r.dtype)
        dx, dw, _ = torch.ops.aten.native_layer_norm_backward(
            g, xf, [d], torch.zeros_like(r), r, w, None, [True, ctx.needs_input_grad[1], False])
        dx.add_((g @ w).unsqueeze(-1).mul_(r).div_(d))
        return dx.to(x.dtype), None if dw is None else dw.to(weight.dtype), None, None


def autocast_dtype(x: torch.Tensor) -> torch.dtype | None:
    """The dtype autocast runs matmuls in on x's device, or None when autocast is off."""
    kind = x.device.type
    return torch.get_autocast_dtype(kind) if torch.is_autocast_enabled(kind) else None


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm over the last dim; `weight` may also be [heads, head_dim] (stacked q/k norms, engine.py)."""
    if x.dtype == torch.float32:  # one kernel; same math as below when nothing is cast
        if weight.dim() == 1:
            return F.rms_norm(x, (x.shape[-1],), weight, eps)
        return F.rms_norm(x, (x.shape[-1],), None, eps) * weight
    # Normalise in fp32 like the reference, then cast back: matters for bf16 parity.
    dt = x.dtype
    x = x.float()
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return weight * x.to(dt)


# Attention on CPU in bf16/fp16 runs as two batched matmuls while the scores fit this many elements
# (bf16: 64 MiB per layer, kept for backward). PyTorch's CPU flash kernel is 3-4x slower than this math
# form there (fwd+bwd, [32 rows, 4 heads, 128 tokens, head_dim 32]: measured 32-40 ms vs 9-11 ms); in fp32 the
# two are equally fast and SDPA keeps its O(T) memory. bench/train.py measures the whole training step.
MATH_ATTENTION_MAX = 2**25


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, is_causal: bool,
           dropout_p: float = 0.0) -> torch.Tensor:
    """Scaled dot-product attention: q [B, H, Tq, d], k/v [B, KV, Tk, d] (H a multiple of KV: grouped-query),
    mask bool, True = visible, broadcastable to [B, 1, Tq, Tk]; is_causal aligns top-left as SDPA does;
    dropout_p drops attention probabilities (the caller passes 0 outside training)."""
    B, H, Tq, d = q.shape
    KV, Tk = k.shape[1], k.shape[2]
    if q.device.type != "cpu" or q.dtype not in LOW_PRECISION or B * H * Tq * Tk > MATH_ATTENTION_MAX:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal, dropout_p=dropout_p,
                                              enable_gqa=H != KV)
    return math_attention(q, k, v, mask, is_causal, dropout_p)


def math_attention(q, k, v, mask, is_causal, dropout_p: float = 0.0) -> torch.Tensor:
    """attend() as matmuls. Query heads are grouped by the key/value head they read ([B*KV, G*Tq, d] @
    [B*KV, d, Tk]), so grouped-query attention needs no copy of k and v. Softmax on bf16 accumulates in
    fp32 inside the kernel (as FlashAttention's does); the scores are rounded to the dtype first, as in
    transformers' eager attention."""
    B, H, Tq, d = q.shape
    KV, Tk = k.shape[1], k.shape[2]
    G = H // KV
    q, kt = q.reshape(B * KV, G * Tq, d), k.reshape(B * KV, Tk, d).transpose(1, 2)

    def bias(visible):  # 0 where visible, -inf elsewhere
        return torch.zeros(visible.shape, dtype=q.dtype, device=q.device).masked_fill_(~visible, float("-inf"))

    if is_causal:  # the same bias for every row and head: the matmul accumulates onto it
        causal = bias(torch.ones(Tq, Tk, dtype=torch.bool, device=q.device).tril()).repeat(G, 1)
        s = torch.baddbmm(causal.expand(B * KV, -1, -1), q, kt, alpha=d**-0.5)
    else:
        s = torch.bmm(q, kt).view(B, KV, G, Tq, Tk)
        # bias + scale * scores in one kernel; the mask is [B, 1, 1, Tq|1, Tk]: the same for every head
        s = s * d**-0.5 if mask is None else torch.add(bias(mask[:, :, None]), s, alpha=d**-0.5)
    p = torch.softmax(s, -1)
    if dropout_p:  # (skipped at 0: F.dropout would still launch a kernel)
        p = F.dropout(p, dropout_p)
    return torch.bmm(p.view(B * KV, G * Tq, Tk), v.reshape(B * KV, Tk, d)).view(B, H, Tq, d)


class KVCache:
    """Preallocated keys/values, one [batch, kv_heads, max_len, head_dim] tensor per layer, zeroed (a
    masked slot must hold a finite number: -inf times garbage is NaN).

    `length` slots are filled; all rows share slot indices (prompts are left-padded), and `valid`
    marks which slots hold real tokens so padding is never attended to. One tensor per layer rather than
    one stacked tensor: writing layer i+1's slots must not touch a tensor layer i saved for backward
    (the trainer differentiates through a cache when prompts are shared, see rl/trainer.py). A plain class,
    not a dataclass: FSDP2 rebuilds dataclass arguments with its hooks' views of their tensors, and the
    in-place writes below must land in the cache itself.
    """

    def __init__(self, k: list[torch.Tensor], v: list[torch.Tensor], valid: torch.Tensor, length: int = 0):
        self.k, self.v = k, v
        self.valid = valid  # [batch, max_len] bool
        self.length = length

    @classmethod
    def empty(cls, cfg: ModelConfig, batch: int, max_len: int, dtype, device) -> KVCache:
        shape = (batch, cfg.num_key_value_heads, max_len, cfg.head_dim)
        layers = range(cfg.num_hidden_layers)
        return cls(
            [torch.zeros(shape, dtype=dtype, device=device) for _ in layers],
            [torch.zeros(shape, dtype=dtype, device=device) for _ in layers],
            torch.zeros(batch, max_len, dtype=torch.bool, device=device),
        )

    def select(self, rows: torch.Tensor) -> KVCache:
        """The cache of rows `rows` (indices may repeat: a prompt's cache fanned out to its samples)."""
        rows = rows.to(self.valid.device)
        return KVCache([t.index_select(0, rows) for t in self.k], [t.index_select(0, rows) for t in self.v],
                       self.valid.index_select(0, rows), self.length)

    def repeat_interleave(self, n: int) -> KVCache:
        """Fan a prefilled cache out to n copies per row (prefill once, sample n)."""
        if n == 1:
            return self
        return self.select(torch.arange(self.valid.shape[0]).repeat_interleave(n))


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        h, d = cfg.hidden_size, cfg.head_dim
        self.nh, self.nkv = cfg.num_attention_heads, cfg.num_key_value_heads
        bias = cfg.attention_bias
        self.q_proj = nn.Linear(h, self.nh * d, bias=bias)
        self.k_proj = nn.Linear(h, self.nkv * d, bias=bias)
        self.v_proj = nn.Linear(h, self.nkv * d, bias=bias)
        # Qwen2 has biases on q/k/v only; in Qwen3 and Llama attention_bias covers o_proj too.
        self.o_proj = nn.Linear(self.nh * d, h, bias=bias and cfg.model_type != "qwen2")
        if cfg.qk_norm:
            self.q_norm = RMSNorm(d, cfg.rms_norm_eps)
            self.k_norm = RMSNorm(d, cfg.rms_norm_eps)

    def forward(self, x, cos, sin, mask, cache: KVCache | None, layer: int, is_causal: bool, rows=None):
        """x: [B, T, hidden], or [N, hidden] real tokens only with rows = (their indices in the flattened
        [B*T] grid, B, T): then only attention itself sees the padded grid (see Transformer.forward)."""
        d = self.cfg.head_dim
        q = self.q_proj(x).unflatten(-1, (self.nh, d))  # [..., heads, d]
        k = self.k_proj(x).unflatten(-1, (self.nkv, d))
        v = self.v_proj(x).unflatten(-1, (self.nkv, d))
        if self.cfg.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        if q.dtype in LOW_PRECISION:  # cos, sin: [..., 1, d]
            q, k = _RoPE.apply(q, cos, sin), _RoPE.apply(k, cos, sin)
        else:
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        if rows is None:
            B, T = x.shape[:2]
        else:
            idx, B, T = rows
        q, k, v = (to_grid(t, rows).transpose(1, 2) for t in (q, k, v))  # [B, heads, T, d]
        if cache is not None:  # write in place into the preallocated buffers: no torch.cat per step
            s = cache.length
            cache.k[layer][:, :, s : s + T] = k
            cache.v[layer][:, :, s : s + T] = v
            k, v = cache.k[layer][:, :, : s + T], cache.v[layer][:, :, : s + T]
        # dropout only while training, as transformers (its eager/SDPA attention pass 0.0 in eval mode)
        drop = self.cfg.attention_dropout if self.training else 0.0
        out = attend(q, k, v, mask, is_causal and mask is None, drop)
        out = out.transpose(1, 2).reshape(B, T, self.nh * d)
        return self.o_proj(out if rows is None else out.view(B * T, -1).index_select(0, idx))


class _RoPE(torch.autograd.Function):
    """x * cos + rotate_half(x) * sin with a written-out backward: rotate_half(x) is x with its halves swapped
    times (-1, +1), and since both halves of cos and sin hold the same frequencies, the backward is the same
    rotation with sin negated: 4 kernels each way where autograd runs 5 (two calls per layer: q and k)."""

    @staticmethod
    def forward(ctx, x, cos, sin):
        ctx.save_for_backward(cos, sin)
        return torch.addcmul(x * cos, rotate_half(x), sin)

    @staticmethod
    def backward(ctx, g):
        cos, sin = ctx.saved_tensors
        return torch.addcmul(g * cos, rotate_half(g), sin, value=-1), None, None


def to_grid(t: torch.Tensor, rows) -> torch.Tensor:
    """[N, ...] real tokens -> [B, T, ...] with zeros at the padding (identity when rows is None)."""
    if rows is None:
        return t
    idx, B, T = rows
    return t.new_zeros((B * T, *t.shape[1:])).index_copy(0, idx, t).view(B, T, *t.shape[1:])


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        h, i, b = cfg.hidden_size, cfg.intermediate_size, cfg.mlp_bias
        self.gate_proj = nn.Linear(h, i, bias=b)
        self.up_proj = nn.Linear(h, i, bias=b)
        self.down_proj = nn.Linear(i, h, bias=b)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))  # SwiGLU


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x, cos, sin, mask, cache, layer, is_causal, rows=None):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, cache, layer, is_causal, rows)
        return x + self.mlp(self.post_attention_layernorm(x))


UNPAD_BELOW = 0.9  # run token-wise layers unpadded when real tokens are below this share of the grid


class Transformer(nn.Module):
    """`model(input_ids)` -> logits [batch, seq, vocab]."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.embed_tokens.weight
        # A plain attribute, not a buffer: model.to(bfloat16) must not round the frequencies.
        self.inv_freq, self.attention_scaling = rope_inv_freq(cfg)

    @property
    def device(self) -> torch.device:
        return self.embed_tokens.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.embed_tokens.weight.dtype

    def init_weights(self, seed: int = 0, std: float = 0.02):
        g = torch.Generator().manual_seed(seed)
        for name, p in self.named_parameters():
            with torch.no_grad():
                if name.endswith("norm.weight"):
                    p.fill_(1.0)
                elif name.endswith("bias"):
                    p.zero_()
                else:
                    p.copy_(torch.randn(p.shape, generator=g) * std)
        return self

    def rope(self, positions: torch.Tensor, dtype):
        if self.inv_freq.device != positions.device:
            self.inv_freq = self.inv_freq.to(positions.device)
        freqs = positions[..., None].float() * self.inv_freq  # [..., d/2]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos() * self.attention_scaling, emb.sin() * self.attention_scaling
        return cos[..., None, :].to(dtype), sin[..., None, :].to(dtype)  # [..., 1, d]: broadcast over heads

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
        cache: KVCache | None = None,
        return_hidden: bool = False,
    ) -> torch.Tensor:
        """Logits for every position.

        attention_mask: [B, T] 1 for real tokens, 0 for padding (training batches); positions then
        count real tokens only. Packed rows number their documents 1, 2, 3, ...: each document then sees
        only itself and its positions start at 0 (packed SFT). With `cache`, input_ids are appended at
        slot `cache.length` and the cache's `valid` mask (already updated by the caller for these slots)
        decides what is visible.
        """
        B, T = input_ids.shape
        # (a [1, T] mask unpadded by row 0's tokens only: the other rows' logits were zeros; others failed deep inside)
        if attention_mask is not None and attention_mask.shape != (B, T):
            raise PonderError(f"attention_mask of shape {list(attention_mask.shape)} does not match input_ids of "
                              f"shape [{B}, {T}]")
        if positions is not None and (positions.shape[-1:] != (T,) or positions.shape[:-1] not in ((), (1,), (B,))):
            raise PonderError(f"positions of shape {list(positions.shape)} does not match input_ids of shape "
                              f"[{B}, {T}] (give [{B}, {T}], [1, {T}] or [{T}])")
        mask, is_causal, real = None, True, None
        if cache is not None:
            if attention_mask is not None:  # (it was ignored: padding it marked was attended to)
                raise PonderError("attention_mask is not read with a KVCache: mark padding slots False in cache.valid")
            s = cache.length
            rows_, slots = cache.valid.shape
            if B != rows_ or s + T > slots:  # (else a shape error from deep inside attention)
                raise PonderError(f"KVCache of {rows_} rows and {slots} slots ({s} filled) cannot take input_ids of "
                                  f"{B} rows x {T} tokens; make it with KVCache.empty(cfg, {B}, >= {s + T}, ...)")
            kv_dtype = cache.k[0].dtype
            if kv_dtype != self.dtype and autocast_dtype(self.embed_tokens.weight) is None:  # (autocast casts)
                raise PonderError(f"KVCache of {kv_dtype} for a model in {self.dtype} (attention would fail on the "
                                  "mixed dtypes); make it with KVCache.empty(cfg, rows, slots, model.dtype, device)")
            valid = cache.valid[:, : s + T]
            real = valid[:, s:]
            if positions is None:
                positions = (valid.long().cumsum(-1) - 1).clamp(min=0)[:, s:]
            if T == 1:  # decoding: one query sees every valid slot (is_causal would align top-left)
                is_causal = False
                if not bool(valid.all()):  # a padding query (a left-padded prompt fed token by token) sees itself:
                    mask = valid.clone()  # with no slot visible its row is NaN (bf16 on CPU) and so are the k/v
                    mask[:, s] = True  # the next layers write to the cache, which masking does not undo (0 * NaN)
                    mask = mask[:, None, None, :]
            elif s > 0 or not bool(valid.all()):
                causal = torch.ones(T, s + T, dtype=torch.bool, device=valid.device).tril(s)
                # A padded query sees itself so its (unused) row stays finite rather than NaN.
                eye = torch.zeros_like(causal)
                eye[:, s:] = torch.eye(T, dtype=torch.bool, device=valid.device)
                mask = ((causal[None] & valid[:, None, :]) | eye[None])[:, None]
        elif attention_mask is not None:
            am = real = attention_mask.bool()
            packed = bool((attention_mask > 1).any())
            if packed:
                seg, idx = attention_mask.long(), torch.arange(T, device=am.device)
                first = torch.ones_like(am)  # a document starts where the id changes
                first[:, 1:] = seg[:, 1:] != seg[:, :-1]
                run = first.long().cumsum(-1)  # documents by run, not by id: [1,1,2,2,1,1] is three documents
            if positions is None and packed:  # count from each document's first token
                positions = idx - torch.where(first, idx, 0).cummax(-1).values
            elif positions is None:
                positions = (am.long().cumsum(-1) - 1).clamp(min=0)
            if packed or not bool(am.all()):
                causal = torch.ones(T, T, dtype=torch.bool, device=am.device).tril()
                eye = torch.eye(T, dtype=torch.bool, device=am.device)
                see = causal[None] & am[:, None, :]
                if packed:
                    see = see & (run[:, :, None] == run[:, None, :])
                mask = (see | eye[None])[:, None]
        if positions is None:
            positions = torch.arange(T, device=input_ids.device)[None].expand(B, T)
        rows = None
        if T > 1 and real is not None and mask is not None:
            n_real = int(real.sum())
            if n_real < UNPAD_BELOW * B * T:
                # Unpadded: norms, projections, RoPE and the MLP run on the real tokens only; attention alone
                # sees the [B, T] grid (what FlashAttention's varlen "unpad" does). In RL batches of ragged
                # completions a third of the grid is padding (measured on the tiny model's rollouts).
                idx = real.reshape(-1).nonzero()[:, 0]
                rows = (idx, B, T)
                # (positions of shape [T] or [1, T], as HF's position_ids often are, index the [B*T] grid too)
                positions = positions.expand(B, T).reshape(-1)[idx]
                input_ids = input_ids.reshape(-1)[idx]
        x = self.embed_tokens(input_ids)
        cos, sin = self.rope(positions, autocast_dtype(x) or x.dtype)  # RoPE in the dtype q and k come in
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, mask, cache, i, is_causal, rows)
        if cache is not None:
            cache.length += T
        x = to_grid(self.norm(x), rows)
        if return_hidden:
            return x
        return self.lm_head(x)
