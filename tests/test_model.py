"""Logit parity with transformers (the oracle) in both directions, for Qwen3, Qwen2 and Llama configs."""

import json
from pathlib import Path

import pytest
import torch

import ponder
from ponder.errors import PonderError
from ponder.model import ModelConfig, Transformer

transformers = pytest.importorskip("transformers")

BASE = dict(vocab_size=320, hidden_size=64, intermediate_size=112, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-6)

CASES = {
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", dict(head_dim=24, tie_word_embeddings=True, rope_theta=1e6)),
    "qwen3_untied_yarn": ("Qwen3Config", "Qwen3ForCausalLM", dict(
        head_dim=16, tie_word_embeddings=False,
        rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128})),
    "qwen3_linear_bias": ("Qwen3Config", "Qwen3ForCausalLM", dict(
        attention_bias=True, rope_scaling={"rope_type": "linear", "factor": 2.0})),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", dict(tie_word_embeddings=False)),
    "llama3": ("LlamaConfig", "LlamaForCausalLM", dict(
        rope_theta=500000.0, rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                           "high_freq_factor": 4.0, "original_max_position_embeddings": 64})),
}


def hf_model(name, seed=0):
    cfg_cls, model_cls, extra = CASES[name]
    cfg = getattr(transformers, cfg_cls)(**BASE, **extra)
    torch.manual_seed(seed)
    m = getattr(transformers, model_cls)(cfg).eval()
    with torch.no_grad():  # HF zero-inits biases; make them count
        for n, p in m.named_parameters():
            if n.endswith("bias") or "norm" in n:
                p.add_(torch.randn_like(p) * 0.1)
    return m


def fixed_tokenizer():
    return ponder.train_tokenizer(["ab cd ef " * 10, "12 + 34 = 46"], vocab_size=280)


@pytest.mark.parametrize("name", list(CASES))
def test_hf_to_ponder_logits(tmp_path, name):
    hf = hf_model(name)
    hf.save_pretrained(tmp_path)
    fixed_tokenizer().save(tmp_path)
    model, _ = ponder.load(tmp_path)
    x = torch.randint(0, 320, (2, 300))  # long enough to reach the scaled RoPE range
    with torch.no_grad():
        ref, ours = hf(x).logits, model(x)
    assert ours.shape == (2, 300, 320)
    assert (ref - ours).abs().max().item() < 1e-4


@pytest.mark.parametrize("name", list(CASES))
def test_ponder_to_hf_logits(tmp_path, name):
    cfg = ModelConfig.from_hf(hf_model(name).config.to_dict())
    model = Transformer(cfg).init_weights(seed=3, std=0.05).eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n or n.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)
    ponder.save(model, fixed_tokenizer(), tmp_path / "ck")
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "ck", dtype=torch.float32).eval()
    x = torch.randint(0, 320, (2, 200))
    with torch.no_grad():
        assert (hf(x).logits - model(x)).abs().max().item() < 1e-4


def test_padding_mask_matches_unpadded(tiny_random):
    model, _ = tiny_random
    x = torch.randint(0, 300, (1, 12))
    padded = torch.cat([torch.zeros(1, 5, dtype=torch.long), x], 1)
    mask = torch.cat([torch.zeros(1, 5), torch.ones(1, 12)], 1)
    with torch.no_grad():
        a = model(x)
        b = model(padded, attention_mask=mask)[:, 5:]
    assert torch.isfinite(model(padded, attention_mask=mask)).all()
    assert (a - b).abs().max().item() < 1e-4


@pytest.mark.parametrize("with_cache", [False, True])
def test_unpadded_layers_equal_the_padded_grid(tiny_random, monkeypatch, with_cache):
    """Token-wise layers on the real tokens only (the default when padding is heavy) give the logits and
    the gradients of running them on the whole padded grid; padding rows of the output are zeros."""
    from ponder.model import KVCache
    model, _ = tiny_random
    g = torch.Generator().manual_seed(3)
    lengths = [3, 12, 7, 1]
    ids = torch.randint(0, 300, (4, 12), generator=g)
    am = torch.tensor([[1] * n + [0] * (12 - n) for n in lengths])  # right padding, as completions are

    def run(unpad_below):
        monkeypatch.setattr(ponder.model, "UNPAD_BELOW", unpad_below)
        model.zero_grad()
        if with_cache:  # a 2-slot prefix in the cache, then the ragged rows on top (the trainer's layout)
            cache = KVCache.empty(model.config, 4, 14, torch.float32, "cpu")
            cache.valid[:, :2] = True
            model(torch.randint(0, 300, (4, 2), generator=torch.Generator().manual_seed(4)), cache=cache)
            cache = cache.select(torch.arange(4))  # a copy, as the trainer fans prompts out to rows
            cache.valid[:, 2:] = am.bool()
            out = model(ids, cache=cache)
        else:
            out = model(ids, attention_mask=am)
        (out * am[..., None]).square().sum().backward()
        return out.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}

    a, ga = run(0.0)  # never unpad
    b, gb = run(1.0)  # unpad whenever there is padding
    real = am.bool()
    assert (a[real] - b[real]).abs().max() < 1e-5
    for n in ga:
        torch.testing.assert_close(ga[n], gb[n], rtol=1e-4, atol=1e-5, msg=n)
    model.zero_grad()


def test_bf16_runs_and_tracks_fp32(tiny_random):
    model, _ = tiny_random
    x = torch.randint(0, 300, (2, 16))
    with torch.no_grad():
        ref = model(x)
        low = Transformer(model.config).to(torch.bfloat16)
        low.load_state_dict(model.state_dict())
        out = low(x).float()
    assert out.dtype == torch.float32
    assert (out - ref).abs().max().item() < 0.5
    assert low.inv_freq.dtype == torch.float32  # RoPE frequencies are never rounded to bf16


def test_param_count_matches(tiny_random):
    model, _ = tiny_random
    assert model.config.num_params() == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("kw", [dict(model_type="llama", mlp_bias=True, attention_bias=True), dict(model_type="qwen2"),
                                dict(model_type="qwen3", attention_bias=True, tie_word_embeddings=False, head_dim=24)])
def test_param_count_matches_every_layout(kw):
    """Used to leave out Llama's MLP biases."""
    model = Transformer(ModelConfig(**BASE, **kw))
    assert model.config.num_params() == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("bad, msg", [
    ({"model_type": "gpt2"}, "unsupported architecture"),
    ({"model_type": "qwen3", "hidden_size": 64}, "missing field"),
    ({"model_type": "llama", "hidden_act": "gelu", **BASE}, "hidden_act"),
])
def test_bad_configs(bad, msg):
    with pytest.raises(PonderError, match=msg):
        ModelConfig.from_hf(bad)


def test_config_roundtrip():
    cfg = ModelConfig(model_type="llama", rope_scaling={"rope_type": "llama3", "factor": 8.0}, head_dim=32)
    again = ModelConfig.from_hf(json.loads(json.dumps(cfg.to_hf())))
    assert again.rope_scaling == cfg.rope_scaling and again.head_dim == 32 and again.model_type == "llama"


def test_llama3_rope_without_its_frequency_factors_saves_a_config_transformers_reads(tmp_path):
    """A llama3 rope_scaling given only its factor ran with Llama 3.1's low/high frequency factors (1 and 4), but
    the config.json saved wrote it as given, which transformers refuses ("Missing required keys"): the factors
    are now written out, and transformers' logits are Ponder's."""
    cfg = ModelConfig(**{**BASE, "max_position_embeddings": 64}, model_type="llama", rope_theta=500000.0,
                      rope_scaling={"rope_type": "llama3", "factor": 8.0})
    model = Transformer(cfg).init_weights(seed=3, std=0.05).eval()
    ponder.save(model, fixed_tokenizer(), tmp_path / "ck")
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "ck", dtype=torch.float32).eval()
    x = torch.randint(0, 320, (1, 200))
    with torch.no_grad():
        assert (hf(x).logits - model(x)).abs().max().item() < 1e-4


@pytest.mark.parametrize("name, drop, extra", [
    ("qwen3", "head_dim", {}),  # transformers' Qwen3Config default is 128, not hidden / heads
    ("qwen2", None, {"head_dim": 32}),  # an explicit head_dim (hidden / heads would be 16)
    ("llama3", "original_max_position_embeddings", {}),  # llama3 RoPE then uses max_position_embeddings
])
def test_hand_written_configs_read_as_transformers_reads_them(tmp_path, name, drop, extra):
    cfg_cls, model_cls, base_extra = CASES[name]
    kw = {**BASE, **base_extra, **extra}
    if name == "qwen3":
        kw.pop("head_dim")
    if name == "llama3":
        kw["rope_scaling"] = {**kw["rope_scaling"], "original_max_position_embeddings": 512}
    torch.manual_seed(0)
    hf = getattr(transformers, model_cls)(getattr(transformers, cfg_cls)(**kw)).eval()
    hf.save_pretrained(tmp_path)
    fixed_tokenizer().save(tmp_path)
    raw = json.loads((tmp_path / "config.json").read_text())
    if drop:  # a config.json as some exporters write it, without the key
        raw.pop(drop, None)
        for rope in (raw.get("rope_parameters"), raw.get("rope_scaling")):
            if isinstance(rope, dict):
                rope.pop(drop, None)
        (tmp_path / "config.json").write_text(json.dumps(raw))
    model, _ = ponder.load(tmp_path)
    x = torch.randint(0, 320, (1, 300))
    with torch.no_grad():
        assert (hf(x).logits - model(x)).abs().max().item() < 1e-4


@pytest.mark.parametrize("orig", [128, None])
def test_yarn_null_factor_is_the_context_extension_as_in_transformers(tmp_path, orig):
    """YaRN "factor": null (DeepSeek-V3 style): transformers takes max_position_embeddings over
    original_max_position_embeddings (absent: 1). It was refused ("needs a factor"); now the logits match, and
    the config.json saved (the factor written out) reads back in transformers as the same model."""
    rope = {"rope_type": "yarn", "factor": 4.0, **({"original_max_position_embeddings": orig} if orig else {})}
    torch.manual_seed(0)
    hf = transformers.Qwen3ForCausalLM(transformers.Qwen3Config(**BASE, head_dim=16, rope_scaling=rope)).eval()
    hf.save_pretrained(tmp_path)
    fixed_tokenizer().save(tmp_path)
    raw = json.loads((tmp_path / "config.json").read_text())
    for k in ("rope_parameters", "rope_scaling"):
        if isinstance(raw.get(k), dict):
            raw[k]["factor"] = None
    (tmp_path / "config.json").write_text(json.dumps(raw))
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path, dtype=torch.float32).eval()
    model, tok = ponder.load(tmp_path)
    assert model.config.rope_scaling["factor"] == (512 / orig if orig else 1.0)
    x = torch.randint(0, 320, (1, 300))
    with torch.no_grad():
        ref = hf(x).logits
        assert (ref - model(x)).abs().max().item() < 1e-4
        ponder.save(model, tok, tmp_path / "again")
        back = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "again", dtype=torch.float32).eval()
        assert (ref - back(x).logits).abs().max().item() < 1e-4


def test_hidden_act_swish_is_silu_as_in_transformers(tmp_path):
    """"hidden_act": "swish" is transformers' name for SiLU too (its ACT2FN maps it to torch's SiLU): such a
    config.json was refused ("only silu"); it now loads with transformers' logits."""
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(**BASE, hidden_act="swish")
    transformers.LlamaForCausalLM(cfg).save_pretrained(tmp_path)
    fixed_tokenizer().save(tmp_path)
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path, dtype=torch.float32).eval()
    model, _ = ponder.load(tmp_path)
    x = torch.randint(0, 320, (1, 20))
    with torch.no_grad():
        assert (hf(x).logits - model(x)).abs().max().item() < 1e-4


@pytest.mark.parametrize("name", ["qwen3", "qwen2", "llama3"])
def test_config_null_head_dim_as_transformers_reads_it(tmp_path, name):
    """"head_dim": null in config.json: Llama's config reads it as hidden / heads (logits match); Qwen3's
    config refuses it and Qwen2's model fails to build (None ** -0.5), so it is refused here too. It used to
    be Qwen3's class default 128 (Qwen2's hidden / heads): a model transformers cannot load."""
    cfg_cls, model_cls, extra = CASES[name]
    hf_model(name).save_pretrained(tmp_path)
    fixed_tokenizer().save(tmp_path)
    raw = json.loads((tmp_path / "config.json").read_text())
    raw["head_dim"] = None
    (tmp_path / "config.json").write_text(json.dumps(raw))
    if name == "llama3":
        hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path, dtype=torch.float32).eval()
        model, _ = ponder.load(tmp_path)
        x = torch.randint(0, 320, (1, 50))
        with torch.no_grad():
            assert (hf(x).logits - model(x)).abs().max().item() < 1e-4
        return
    with pytest.raises(Exception):  # noqa: B017 (the oracle refuses it: a validation error, a TypeError)
        transformers.AutoModelForCausalLM.from_pretrained(tmp_path, dtype=torch.float32)
    with pytest.raises(PonderError) as e:
        ModelConfig.from_hf(raw, source="ck/config.json")
    msg = str(e.value)
    assert msg.startswith("ck/config.json: head_dim") and "null" in msg and "\n" not in msg


@pytest.mark.parametrize("edit", [{"rope_theta": None}, {"rope_theta": None, "rope_parameters": None},
                                  {"rope_parameters": {"rope_type": "default", "rope_theta": None}}])
def test_config_null_rope_theta_is_refused_as_transformers_cannot_build_it(tmp_path, edit):
    """"rope_theta": null (with no theta elsewhere) was read as 10000; transformers' RoPE fails on it
    (None ** ...), and a model meant for another theta gave other logits, unannounced."""
    raw = {**HF_OK, **edit}
    if "rope_theta" not in edit:
        raw.pop("rope_theta")
    (tmp_path / "config.json").write_text(json.dumps(raw))
    cfg = transformers.AutoConfig.from_pretrained(tmp_path)
    with pytest.raises(TypeError):
        transformers.AutoModelForCausalLM.from_config(cfg)
    with pytest.raises(PonderError) as e:
        ModelConfig.from_hf(raw, source="ck/config.json")
    assert str(e.value).startswith("ck/config.json: rope_theta") and "null" in str(e.value)
    # a theta given elsewhere still wins over a null one, as in transformers
    assert ModelConfig.from_hf({**raw, "rope_theta": None, "rope_parameters": {"rope_theta": 1e6}}).rope_theta == 1e6


@pytest.mark.parametrize("model_type, hf_cls", [("qwen2", "Qwen2ForCausalLM"), ("llama", "LlamaForCausalLM")])
def test_config_built_directly_has_the_familys_layout(tmp_path, model_type, hf_cls):
    """ModelConfig(model_type=...) defaults to that family's QK-norm and biases, so what it saves is what
    transformers builds for the same config.json (also with a head_dim that is not hidden / heads)."""
    cfg = ModelConfig(model_type=model_type, **BASE, head_dim=32)
    assert cfg.qk_norm is False and cfg.attention_bias is (model_type == "qwen2")
    model = Transformer(cfg).init_weights(seed=3, std=0.05).eval()
    ponder.save(model, fixed_tokenizer(), tmp_path / "ck")
    hf = getattr(transformers, hf_cls).from_pretrained(tmp_path / "ck", dtype=torch.float32).eval()
    x = torch.randint(0, 320, (2, 50))
    with torch.no_grad():
        assert (hf(x).logits - model(x)).abs().max().item() < 1e-4
    assert ponder.load(tmp_path / "ck")[0].config.head_dim == 32


# ---- bad config values: one PonderError naming the file, the field and the value ---------------------------
HF_OK = {"model_type": "qwen3", **BASE, "head_dim": 16, "rope_theta": 10000.0, "tie_word_embeddings": True}


@pytest.mark.parametrize("field, value", [
    ("hidden_size", "abc"), ("hidden_size", 128.0), ("hidden_size", True), ("intermediate_size", None),
    ("num_key_value_heads", 0), ("num_attention_heads", 0), ("vocab_size", 0), ("num_hidden_layers", -1),
    ("max_position_embeddings", -5), ("head_dim", 0), ("rope_theta", "abc"), ("rope_theta", -1),
    ("rms_norm_eps", [1]), ("tie_word_embeddings", "yes"), ("eos_token_id", "x"), ("pad_token_id", 1.5),
    ("attention_dropout", 1.0), ("attention_dropout", -0.1), ("attention_dropout", "0.1"), ("attention_dropout", True),
])
def test_config_fields_of_the_wrong_type_are_named(field, value):
    with pytest.raises(PonderError) as e:
        ModelConfig.from_hf({**HF_OK, field: value}, source="ck/config.json")
    msg = str(e.value)
    assert msg.startswith("ck/config.json: ") and field in msg and repr(value)[:20] in msg and "\n" not in msg



@pytest.mark.parametrize("fields", [{"torch_dtype": "bfloat61"}, {"dtype": "float16x"}, {"dtype": 16},
                                    {"torch_dtype": "float32", "dtype": "bf16"}, {"dtype": "int8"}, {"dtype": "bool"}])
def test_config_dtype_that_names_no_torch_dtype_is_refused(fields):
    """transformers refuses a config.json whose dtype names no torch dtype (getattr(torch, name)); it used to
    load here as fp32, silently, also on a GPU where the checkpoint's own dtype is the default."""
    with pytest.raises(PonderError) as e:
        ModelConfig.from_hf({**HF_OK, **fields}, source="ck/config.json")
    bad = fields.get("dtype", fields.get("torch_dtype"))
    assert str(e.value).startswith("ck/config.json: ") and repr(bad) in str(e.value) and "\n" not in str(e.value)
    for ok in ("float32", "bfloat16", "float16", "float64", "half"):  # every floating torch dtype name loads
        assert ModelConfig.from_hf({**HF_OK, "torch_dtype": ok}).torch_dtype == ok

@pytest.mark.parametrize("scaling, msg", [
    ("abc", "rope_scaling must be an object"), ([1, 2], "rope_scaling must be an object"),
    ({"rope_type": "linear", "factor": "x"}, "factor must be a positive number"),
    ({"rope_type": "yarn", "factor": 4.0, "beta_fast": "fast"}, "beta_fast must be a positive number"),
])
def test_config_rope_scaling_must_be_an_object_of_numbers(scaling, msg):
    with pytest.raises(PonderError, match=msg):
        ModelConfig.from_hf({**HF_OK, "rope_scaling": scaling})


@pytest.mark.parametrize("scaling", ["abc", [1, 2], 3])
def test_config_rope_scaling_beside_rope_parameters_must_be_an_object(scaling):
    """Used to fail with a ValueError or TypeError traceback from comparing the two."""
    with pytest.raises(PonderError) as e:
        ModelConfig.from_hf({**HF_OK, "rope_parameters": {"rope_type": "default", "rope_theta": 1e6},
                             "rope_scaling": scaling}, source="ck/config.json")
    assert str(e.value).startswith("ck/config.json: rope_scaling must be an object or null")


@pytest.mark.parametrize("params", ["abc", [1e6], 1e6, True])
def test_config_rope_parameters_must_be_an_object(params):
    """A rope_parameters that is no object was skipped: the model ran default RoPE at the top-level (or default)
    theta, with no word that the field was not read."""
    with pytest.raises(PonderError) as e:
        ModelConfig.from_hf({**HF_OK, "rope_parameters": params}, source="ck/config.json")
    assert str(e.value).startswith(f"ck/config.json: rope_parameters must be an object or null, got {params!r}")


@pytest.mark.parametrize("d, kind", [([1, 2], "an array"), ("x", "a string"), (None, "null")])
def test_config_that_is_not_an_object(d, kind):
    with pytest.raises(PonderError, match=f"ck/config.json: expected a JSON object, got {kind}"):
        ModelConfig.from_hf(d, source="ck/config.json")


def test_config_model_type_of_the_wrong_type():
    with pytest.raises(PonderError, match="unsupported architecture"):
        ModelConfig.from_hf({**HF_OK, "model_type": ["qwen3"]})


def test_config_null_kv_heads_means_one_per_head():
    """transformers reads num_key_value_heads: null as num_attention_heads; so does ModelConfig."""
    assert ModelConfig.from_hf({**HF_OK, "num_key_value_heads": None}).num_key_value_heads == 4


@pytest.mark.parametrize("model_type, heads", [("qwen3", 64), ("qwen2", 64), ("llama", 64), ("qwen3", 32)])
def test_config_absent_kv_heads_follow_transformers(model_type, heads):
    """An absent num_key_value_heads takes the family's class default in transformers (32 for Qwen2/Qwen3,
    one per head for Llama); it used to be one per head everywhere, a different model for a 64-head Qwen."""
    import transformers
    d = {**HF_OK, "model_type": model_type, "hidden_size": heads * 16, "num_attention_heads": heads}
    del d["num_key_value_heads"]
    cls = {"qwen3": transformers.Qwen3Config, "qwen2": transformers.Qwen2Config, "llama": transformers.LlamaConfig}
    assert ModelConfig.from_hf(d).num_key_value_heads == cls[model_type](**d).num_key_value_heads
    if model_type != "llama":
        with pytest.raises(PonderError, match="ck/config.json: missing field 'num_key_value_heads' .*takes 32"):
            ModelConfig.from_hf({**d, "num_attention_heads": 4, "hidden_size": 64}, source="ck/config.json")


@pytest.mark.parametrize("kw, field", [
    (dict(num_hidden_layers=0), "num_hidden_layers"), (dict(hidden_size=64.0), "hidden_size"),
    (dict(num_key_value_heads=0), "num_key_value_heads"), (dict(hidden_size=2, num_attention_heads=4), "head_dim"),
    (dict(rope_scaling="linear"), "rope_scaling"),
    (dict(rope_scaling={"rope_type": "linear", "factor": 2.0, "rope_theta": 1e6}), "rope_theta"),
])
def test_config_built_directly_checks_its_fields(kw, field):
    with pytest.raises(PonderError, match=field):
        ModelConfig(**kw)


# ---- config.json fields as transformers reads them ---------------------------------------------------------
def _hf_checkpoint(tmp_path, name, edit):
    """A transformers-saved checkpoint of CASES[name] with config.json edited by `edit(raw)`, and transformers'
    own model loaded back from that edited file (the oracle)."""
    hf_model(name).save_pretrained(tmp_path)
    fixed_tokenizer().save(tmp_path)
    raw = json.loads((tmp_path / "config.json").read_text())
    edit(raw)
    (tmp_path / "config.json").write_text(json.dumps(raw))
    return transformers.AutoModelForCausalLM.from_pretrained(tmp_path, dtype=torch.float32).eval()


def _no_max_positions(raw):
    raw.pop("max_position_embeddings")
    raw["rope_parameters"].pop("original_max_position_embeddings")


@pytest.mark.parametrize("name, edit", [
    ("qwen3", lambda raw: raw.update(mlp_bias=True)),
    ("qwen2", lambda raw: raw.update(mlp_bias=True, attention_bias=False)),
    ("qwen3_untied_yarn", lambda raw: raw.update(original_max_position_embeddings=32)),
    ("llama3", lambda raw: raw.update(original_max_position_embeddings=16)),
    ("qwen3_untied_yarn", lambda raw: raw.update(original_max_position_embeddings=32.0)),
    ("llama3", lambda raw: raw.update(original_max_position_embeddings=16.0)),
    ("qwen3_untied_yarn", _no_max_positions),
    ("qwen2", lambda raw: raw.update(use_sliding_window=True, sliding_window=8, max_window_layers=2,
                                     layer_types=None)),
    ("qwen3_linear_bias", lambda raw: raw.update(rope_parameters=None, rope_scaling={
        "rope_type": "linear", "factor": 2.0, "rope_theta": 1e6})),
    ("qwen3", lambda raw: raw.update(rope_parameters=None, rope_scaling={"rope_type": "default", "rope_theta": 50.0})),
    ("qwen2", lambda raw: raw.update(use_sliding_window=True, sliding_window=512, max_window_layers=0,
                                     layer_types=None)),
    ("qwen3_untied_yarn", lambda raw: raw.update(use_sliding_window=True, sliding_window=600, max_window_layers=1,
                                                 layer_types=None)),
    ("llama3", lambda raw: raw.update(use_sliding_window=True, sliding_window=8)),
], ids=["qwen3_mlp_bias", "qwen2_biases", "yarn_top_level_original", "llama3_top_level_original",
        "yarn_top_level_original_float", "llama3_top_level_original_float",
        "yarn_no_max_positions", "sliding_window_on_no_layer", "rope_theta_in_rope_scaling",
        "rope_theta_in_default_rope_scaling",
        "sliding_window_equal_to_context", "sliding_window_past_yarn_context", "llama_sliding_window_unread"])
def test_config_fields_read_as_transformers_reads_them(tmp_path, name, edit, request):
    """Fields transformers reads its own way for these families. Used to fail: mlp_bias=true in a Qwen
    config.json (transformers' Qwen MLPs have no biases and ignore it) stopped load with "missing tensors"; a
    top-level original_max_position_embeddings (which transformers puts first for YaRN and llama3 RoPE) was
    ignored, and without max_position_embeddings YaRN fell back to 2048 positions instead of Qwen's 32768:
    logits off by 2-3; use_sliding_window=true was refused even when max_window_layers leaves no layer
    sliding, where transformers computes full attention; a rope_theta inside rope_scaling (where transformers
    takes it from) was passed over for the top-level one or 10000: logits off by 0.2; use_sliding_window=true with
    a window no shorter than the context (Qwen2.5 ships sliding_window == max_position_embeddings) was refused,
    where transformers' window masks nothing (checked over the whole context, 512 positions; YaRN's too); a Llama
    config.json with use_sliding_window=true and an 8-token window was refused, where transformers' Llama never
    reads either field and attends over the whole context."""
    hf = _hf_checkpoint(tmp_path, name, edit)
    model, _ = ponder.load(tmp_path)
    x = torch.randint(0, 320, (1, 512 if "sliding_window_" in request.node.name else 300))  # (the whole context)
    with torch.no_grad():
        assert (hf(x).logits - model(x)).abs().max().item() < 1e-4


@pytest.mark.parametrize("edit, field", [
    (lambda raw: raw.update(partial_rotary_factor=0.5), "partial_rotary_factor"),
    (lambda raw: raw["rope_parameters"].update(partial_rotary_factor=0.5), "partial_rotary_factor"),
    (lambda raw: raw.update(attn_logit_softcapping=50.0), "attn_logit_softcapping"),
    (lambda raw: raw.update(final_logit_softcapping=30.0), "final_logit_softcapping"),
    (lambda raw: raw.update(use_sliding_window=True, sliding_window=8, max_window_layers=1, layer_types=None),
     "use_sliding_window"),
    (lambda raw: raw.update(use_sliding_window=True, sliding_window=8,
                            layer_types=["full_attention", "sliding_attention"]), "use_sliding_window"),
    (lambda raw: (raw.update(use_sliding_window=True, max_window_layers=0, layer_types=None,
                             max_position_embeddings=8192), raw.pop("sliding_window")), "sliding_window=4096"),
    (lambda raw: raw.update(use_sliding_window=True, sliding_window=511, max_window_layers=0, layer_types=None),
     "sliding_window=511"),
    (lambda raw: raw.update(rope_scaling={"rope_type": "linear", "factor": 2.0}), "rope_scaling"),
    (lambda raw: raw.update(layer_types=["full_attention", "chunked_attention"]),
     "layer_types[1]='chunked_attention'"),
    (lambda raw: raw.update(rope_parameters={"rope_type": "yarn", "rope_theta": 1e6}), "factor"),
    (lambda raw: raw.update(rope_parameters={"full_attention": {"rope_type": "yarn", "factor": 4.0, "rope_theta": 1e4,
                                                                "original_max_position_embeddings": 64}}),
     "rope_parameters per layer type (full_attention)"),
])
def test_config_fields_that_change_the_math_are_refused(tmp_path, edit, field):
    """A config.json field that changes the model and that Ponder does not implement is one error line naming
    the file and the field. Used to be ignored silently: partial_rotary_factor (rotating part of each head),
    logit soft-capping, rope_scaling added beside transformers-5 rope_parameters (transformers uses
    rope_scaling, Ponder used rope_parameters: logits off by 4), YaRN without a factor (transformers refuses
    it, Ponder ran it as factor 1). The sliding-window rows guard that a window some layer uses (by
    max_window_layers or by layer_types) stays refused now that a window no layer uses is accepted; with
    sliding_window absent transformers takes its default 4096 (Ponder used to run full attention). RoPE
    parameters nested per layer type (which transformers' Qwen and Llama cannot read) ran as default RoPE. A layer
    type other than full or sliding attention (chunked_attention, which transformers' Qwen3 fails on) ran as full
    attention."""
    raw = hf_model("qwen2").config.to_dict()
    edit(raw)
    (tmp_path / "config.json").write_text(json.dumps(raw))
    with pytest.raises(PonderError) as e:
        ponder.checkpoint.load_config(tmp_path)
    msg = str(e.value)
    assert msg.startswith(str(tmp_path / "config.json")) and field in msg and "\n" not in msg


def test_rope_scaling_beside_rope_parameters_that_agree_is_read(tmp_path):
    """Both keys present and saying the same: read, as transformers reads it."""
    hf = _hf_checkpoint(tmp_path, "qwen3_linear_bias", lambda raw: raw.update(
        rope_scaling={"type": "linear", "factor": 2.0}))
    model, _ = ponder.load(tmp_path)
    x = torch.randint(0, 320, (1, 50))
    with torch.no_grad():
        assert (hf(x).logits - model(x)).abs().max().item() < 1e-4


@pytest.mark.parametrize("kw, field", [
    (dict(model_type="qwen3", mlp_bias=True), "mlp_bias"),
    (dict(model_type="qwen3", qk_norm=False), "qk_norm"),
    (dict(model_type="qwen2", attention_bias=False), "attention_bias"),
    (dict(model_type="llama", qk_norm=True), "qk_norm"),
])
def test_save_refuses_layouts_transformers_cannot_hold(tmp_path, kw, field):
    """A layout that transformers' class for the model_type does not have is refused at save, before anything
    is written. Used to be saved: transformers then dropped the Qwen3 MLP biases or the Llama q/k norms, or
    added Qwen3 q/k norms of ones (logits off by 5-10), and ponder.load of the same directory failed with
    "missing tensors" or "unexpected tensor"."""
    model = Transformer(ModelConfig(**BASE, **kw))
    with pytest.raises(PonderError, match=field):
        ponder.save(model, fixed_tokenizer(), tmp_path / "ck")
    assert list(tmp_path.iterdir()) == []


def test_a_sliding_window_built_in_python_is_refused_as_on_load(tmp_path):
    """A window shorter than the context that some layer would use (here max_window_layers=1 of 2) is refused
    when the config is built, as from_hf refuses it in a config.json. Used to be accepted and saved: Ponder ran full
    attention, transformers ran the saved config.json with the 8-token window (logits off by 3-6), and ponder.load
    refused the directory. A window no layer uses stays accepted; a config changed after it was built so that a
    layer would use it is refused at save, before anything is written."""
    window = {"use_sliding_window": True, "sliding_window": 8}
    with pytest.raises(PonderError, match=r"^use_sliding_window=true \(sliding_window=8\) is not supported below"):
        ModelConfig(**BASE, model_type="qwen2", extra={**window, "max_window_layers": 1})
    cfg = ModelConfig(**BASE, model_type="qwen2", extra={**window, "max_window_layers": 2})
    assert ModelConfig.from_hf(cfg.to_hf()).to_hf() == cfg.to_hf()
    cfg.num_hidden_layers = 3
    with pytest.raises(PonderError, match=r"sliding_window=8"):
        ponder.save(Transformer(cfg), fixed_tokenizer(), tmp_path / "ck")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["qwen3", "qwen2"])
def test_a_config_from_a_checkpoint_with_other_layer_counts_saves_a_config_transformers_reads(tmp_path, name):
    """A Qwen config.json saved by transformers lists layer_types, one per layer, which ModelConfig keeps in extra
    and writes back. A model made from that config with num_hidden_layers changed (pruned, or a smaller draft
    model) saved the old list, and transformers refused the checkpoint ("num_hidden_layers (1) must be equal to the
    number of layer_types (2)"). The list now follows num_hidden_layers; one mixing layer types is refused at save."""
    hf_model(name).save_pretrained(tmp_path / "src")
    fixed_tokenizer().save(tmp_path / "src")
    cfg = ponder.load(tmp_path / "src")[0].config
    assert len(cfg.extra["layer_types"]) == 2
    for n in (1, 3):
        model = Transformer(ModelConfig(**{**cfg.__dict__, "num_hidden_layers": n})).init_weights(seed=3, std=0.05)
        ponder.save(model.eval(), fixed_tokenizer(), tmp_path / f"ck{n}")
        hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / f"ck{n}", dtype=torch.float32).eval()
        x = torch.randint(0, 320, (1, 30))
        with torch.no_grad():
            assert (hf(x).logits - model(x)).abs().max().item() < 1e-4
    mixed = ModelConfig(**{**cfg.__dict__, "num_hidden_layers": 1,
                           "extra": {**cfg.extra, "layer_types": ["full_attention", "sliding_attention"]}})
    with pytest.raises(PonderError, match=r"^layer_types lists 2 layers [^\n]*num_hidden_layers=1"):
        ponder.save(Transformer(mixed), fixed_tokenizer(), tmp_path / "mixed")
    assert not (tmp_path / "mixed").exists()


# ---- low-precision training paths (bf16/fp16 weights or autocast) ----------------------------------------
@pytest.mark.parametrize("H, KV, Tq, Tk, kind", [
    (4, 2, 7, 7, "causal"), (4, 4, 5, 9, "causal"), (4, 2, 7, 7, "mask"), (4, 1, 1, 9, "decode"),
    (6, 2, 5, 9, "mask"), (4, 2, 6, 6, "none")])
def test_math_attention_equals_sdpa(H, KV, Tq, Tk, kind):
    """The matmul form of attention (CPU bf16 training) gives SDPA's values and gradients: causal (top-left when
    Tq < Tk, as SDPA), padding/packing masks [B, 1, Tq, Tk], decoding masks [B, 1, 1, Tk], grouped queries."""
    from ponder.model import math_attention

    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, h, t, 8, generator=g, dtype=torch.float64, requires_grad=True)
               for h, t in ((H, Tq), (KV, Tk), (KV, Tk)))
    mask = None
    if kind == "mask":
        mask = torch.rand(3, 1, Tq, Tk, generator=g) > 0.4
        mask[..., 0] = True
    elif kind == "decode":
        mask = torch.rand(3, 1, 1, Tk, generator=g) > 0.3
        mask[..., -1] = True
    a = math_attention(q, k, v, mask, kind == "causal")
    b = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=kind == "causal",
                                                         enable_gqa=H != KV)
    torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    up = torch.randn(a.shape, generator=g, dtype=torch.float64)
    for x, y in zip(torch.autograd.grad(a, (q, k, v), up), torch.autograd.grad(b, (q, k, v), up)):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-12)


def test_attend_takes_the_matmul_form_only_for_short_low_precision_cpu_attention(monkeypatch):
    import ponder.model as M

    q, k, v = (torch.randn(2, h, 6, 8).to(torch.bfloat16) for h in (4, 2, 2))
    sdpa = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    assert torch.equal(M.attend(q, k, v, None, True), M.math_attention(q, k, v, None, True))
    monkeypatch.setattr(M, "MATH_ATTENTION_MAX", 2 * 4 * 6 * 6 - 1)  # the scores no longer fit: SDPA
    assert torch.equal(M.attend(q, k, v, None, True), sdpa)
    q, k, v = q.float(), k.float(), v.float()  # fp32: always SDPA
    monkeypatch.setattr(M, "MATH_ATTENTION_MAX", 2**40)
    assert torch.equal(M.attend(q, k, v, None, True),
                       torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True))


def test_config_attention_dropout_round_trips():
    """config.json's attention_dropout used to land in `extra`, unread by the model; it is a field now, written
    back where it stood (after hidden_act) and read as transformers reads it (null: no dropout)."""
    hf = transformers.Qwen3Config(**BASE, attention_dropout=0.25).to_dict()
    cfg = ModelConfig.from_hf(hf)
    assert cfg.attention_dropout == 0.25 and "attention_dropout" not in cfg.extra
    out = cfg.to_hf()
    assert out["attention_dropout"] == 0.25
    assert ModelConfig.from_hf(json.loads(json.dumps(out))).attention_dropout == 0.25
    assert ModelConfig.from_hf({**HF_OK, "attention_dropout": None}).attention_dropout == 0.0
    shipped = json.loads((Path(ponder.__file__).parent / "assets" / "tiny" / "config.json").read_text())
    built = {k: v for k, v in shipped.items() if k in ModelConfig.__dataclass_fields__}
    assert list(ModelConfig(**built).to_hf().items()) == list(shipped.items())  # written as it always was


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])  # SDPA; the matmul form (CPU bf16)
def test_attention_dropout_applies_in_training_mode_only(dtype):
    """transformers drops attention probabilities with config.attention_dropout while model.training; Ponder
    ignored the field. Now: eval mode is unchanged by the rate, training mode with a rate drops (reproducibly
    under one seed), and a zero rate trains on exactly the eval-mode numbers."""
    plain = Transformer(ModelConfig.from_hf(HF_OK)).init_weights(0).to(dtype)
    drop = Transformer(ModelConfig.from_hf({**HF_OK, "attention_dropout": 0.5})).to(dtype)
    drop.load_state_dict(plain.state_dict())
    ids = torch.randint(0, 320, (2, 9), generator=torch.Generator().manual_seed(0))
    mask = torch.ones(2, 9)
    mask[1, :3] = 0
    for kw in ({}, {"attention_mask": mask}):
        with torch.no_grad():
            ref = plain.eval()(ids, **kw)
            assert torch.equal(drop.eval()(ids, **kw), ref)
            assert torch.equal(plain.train()(ids, **kw), ref)
            drop.train()
            torch.manual_seed(1)
            a = drop(ids, **kw)
            torch.manual_seed(1)
            b = drop(ids, **kw)
        assert torch.equal(a, b) and not torch.allclose(a.float(), ref.float(), atol=1e-2)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16, torch.float16])
def test_rms_norm_function_gradients(dtype):
    """The written-out RMSNorm backward (LayerNorm's kernel with mean 0, plus the centring term): in fp64 the
    derivative itself (finite differences); for fp32, bf16 and fp16 inputs the gradients of rms_norm under autograd, as
    autocast feeds them (bf16 output gradient); the forward within one bf16 rounding of rms_norm."""
    from ponder.model import _RMSNormFn, rms_norm

    g = torch.Generator().manual_seed(0)
    if dtype == torch.float64:
        x = torch.randn(3, 5, 16, generator=g, dtype=dtype, requires_grad=True)
        w = torch.randn(16, generator=g, dtype=dtype, requires_grad=True)
        assert torch.autograd.gradcheck(lambda x, w: _RMSNormFn.apply(x, w, 1e-6, None), (x, w))
        return
    x = (torch.randn(4, 7, 64, generator=g) * 3).to(dtype).requires_grad_()
    w = (torch.rand(64, generator=g) + 0.5).requires_grad_()
    gy = torch.randn(4, 7, 64, generator=g).bfloat16()
    ours = _RMSNormFn.apply(x, w, 1e-6, torch.bfloat16)
    ref = rms_norm(x, w, 1e-6).to(torch.bfloat16)
    assert ours.dtype == ref.dtype == torch.bfloat16
    assert (ours.float() - ref.float()).abs().max() <= 2**-7 * ref.float().abs().max()  # at most 1 bf16 ulp
    gx, gw = torch.autograd.grad(ours, (x, w), gy)
    rx, rw = torch.autograd.grad(ref, (x, w), gy)
    assert gx.dtype == x.dtype and gw.dtype == w.dtype
    tol = 1e-5 if dtype == torch.float32 else 2e-2
    assert (gx.float() - rx.float()).norm() <= tol * rx.float().norm()
    assert (gw - rw).norm() <= tol * rw.norm()


def test_rope_function_gradients():
    from ponder.model import _RoPE, rotate_half

    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 5, 3, 8, generator=g, dtype=torch.float64, requires_grad=True)
    f = torch.randn(2, 5, 1, 4, generator=g, dtype=torch.float64)
    cos, sin = (torch.cat((f, f), -1).cos() * 1.3, torch.cat((f, f), -1).sin() * 1.3)  # halves share frequencies
    assert torch.autograd.gradcheck(lambda x: _RoPE.apply(x, cos, sin), (x,))
    torch.testing.assert_close(_RoPE.apply(x, cos, sin), x * cos + rotate_half(x) * sin, rtol=0, atol=1e-14)


def _graph_names(t):
    seen, todo, names = set(), [t.grad_fn], set()
    while todo:
        fn = todo.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        names.add(type(fn).__name__)
        todo.extend(f for f, _ in fn.next_functions)
    return names


def test_fp32_training_keeps_autograds_own_backward(tiny_random):
    """fp32 runs (the tiny model's recipe) never take the low-precision paths, so they round as before;
    autocast runs do."""
    model, _ = tiny_random
    x = torch.randint(0, 300, (2, 16))
    fp32 = _graph_names(model(x))
    assert not any(n.startswith(("_RMSNormFn", "_RoPE")) for n in fp32)
    with torch.autocast("cpu", torch.bfloat16):
        mixed = _graph_names(model(x))
    assert {"_RMSNormFnBackward", "_RoPEBackward"} <= mixed


@pytest.mark.parametrize("attn_mask", [False, True])
def test_bf16_autocast_training_tracks_fp32_and_transformers(attn_mask):
    """Under bf16 autocast Ponder's logits and gradients stay as close to fp32 as transformers' own under the
    same autocast (its eager attention, the same math in another order), padded batches included."""
    hf = hf_model("qwen3")
    ours = Transformer(ModelConfig.from_hf(hf.config.to_dict()))
    ours.load_state_dict({k.removeprefix("model."): v for k, v in hf.state_dict().items()}, strict=False)
    hf.config._attn_implementation = "eager"
    x = torch.randint(0, 320, (3, 24), generator=torch.Generator().manual_seed(1))
    am = torch.ones_like(x)
    if attn_mask:
        am[0, :5] = 0
        am[2, -3:] = 0

    def run(model, is_hf, bf16):
        model.zero_grad()
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            out = model(x, attention_mask=am if attn_mask else None)
        logits = (out.logits if is_hf else out).float()
        logits[am.bool()].square().mean().backward()
        grads = {n.removeprefix("model."): p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        return logits.detach()[am.bool()], grads

    ref, gref = run(ours, False, False)
    lo, glo = run(ours, False, True)
    hl, ghl = run(hf, True, True)
    assert (lo - ref).abs().max() <= 2 * (hl - ref).abs().max() + 1e-3
    for n, g in gref.items():
        err, hf_err = (glo[n] - g).norm() / g.norm(), (ghl[n] - g).norm() / g.norm()
        assert err < 0.05 and err <= 2 * hf_err + 1e-3, (n, err.item(), hf_err.item())


def test_packed_documents_are_runs_of_one_id_not_every_token_of_that_id(tiny_random):
    """A packed row [1,1,2,2,1,1] holds three documents: the second run of id 1 sees only itself (comparing ids
    let it attend to the first), so each document's logits equal that document run alone."""
    model, _ = tiny_random
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, model.config.vocab_size, (1, 6), generator=g)
    with torch.no_grad():
        packed = model(ids, attention_mask=torch.tensor([[1, 1, 2, 2, 1, 1]]))
        for a in (0, 2, 4):
            alone = model(ids[:, a:a + 2])
            assert torch.allclose(packed[:, a:a + 2], alone, atol=1e-5)


@pytest.mark.parametrize("shape", ["T", "1T"])
def test_positions_shared_by_every_row_with_heavy_padding(tiny_random, shape):
    """positions of shape [T] or [1, T] (HF's position_ids often are) broadcast over the rows; with padding heavy
    enough that the layers run unpadded they indexed the [B*T] grid: IndexError."""
    model, _ = tiny_random
    x = torch.randint(0, 300, (3, 10))
    am = torch.tensor([[1] * 10, [1] * 6 + [0] * 4, [1] * 3 + [0] * 7])  # right padding: positions 0, 1, 2, ...
    pos = torch.arange(10) if shape == "T" else torch.arange(10)[None]
    with torch.no_grad():
        ref, out = model(x, attention_mask=am), model(x, attention_mask=am, positions=pos)
    assert (ref - out)[am.bool()].abs().max().item() < 1e-6


@pytest.mark.parametrize("rows, slots, filled, T", [(2, 8, 0, 10), (2, 6, 6, 1), (3, 20, 0, 10), (1, 20, 0, 10)])
def test_kv_cache_too_small_or_of_other_rows_is_one_error(tiny_random, rows, slots, filled, T):
    """Input that does not fit the cache (more tokens than free slots, another row count) failed deep inside
    attention with a shape error ("The size of tensor a (10) must match..."); now one line naming both sizes."""
    from ponder.model import KVCache
    model, _ = tiny_random
    cache = KVCache.empty(model.config, rows, slots, torch.float32, "cpu")
    cache.valid[:] = True
    cache.length = filled
    with pytest.raises(PonderError) as e, torch.no_grad():
        model(torch.randint(0, 300, (2, T)), cache=cache)
    assert f"{rows} rows and {slots} slots" in str(e.value) and f"2 rows x {T} tokens" in str(e.value)
    assert cache.length == filled


def test_attention_mask_beside_a_kv_cache_is_refused(tiny_random):
    """With a cache, cache.valid decides what is visible; an attention_mask passed as well (as with transformers'
    past_key_values) was ignored, so the padding it marked was attended to: different logits, no word."""
    from ponder.model import KVCache
    model, _ = tiny_random
    cache = KVCache.empty(model.config, 1, 8, torch.float32, "cpu")
    cache.valid[:] = True
    with pytest.raises(PonderError, match="attention_mask is not read with a KVCache.*cache.valid"), torch.no_grad():
        model(torch.randint(0, 300, (1, 8)), attention_mask=torch.tensor([[0, 0, 1, 1, 1, 1, 1, 1]]), cache=cache)
    assert cache.length == 0


def test_config_top_level_original_max_positions_of_the_wrong_type_is_named():
    """A top-level original_max_position_embeddings that was no integer (32768.0, which transformers reads, or
    "32768") was passed over for the one in rope_scaling; a float is now read, anything else refused."""
    rope = {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64}
    assert ModelConfig.from_hf({**HF_OK, "original_max_position_embeddings": 32.0, "rope_scaling": rope}
                               ).rope_scaling["original_max_position_embeddings"] == 32.0
    with pytest.raises(PonderError) as e:
        ModelConfig.from_hf({**HF_OK, "original_max_position_embeddings": "32", "rope_scaling": rope}, source="ck/config.json")
    assert str(e.value) == "ck/config.json: original_max_position_embeddings must be a positive number, got '32'"


@pytest.mark.parametrize("model_dtype, cache_dtype", [(torch.bfloat16, torch.float32), (torch.float32, torch.bfloat16)])
def test_kv_cache_of_another_dtype_than_the_model_is_one_error(tiny_random, model_dtype, cache_dtype):
    """A cache made in another dtype than the model's (fp32 for a model ponder.load gave in bf16 on a GPU) failed
    inside attention ("expected scalar type Float but found BFloat16"); under autocast both work and still do."""
    from ponder.model import KVCache
    model = Transformer(tiny_random[0].config).to(model_dtype).eval()
    x = torch.randint(0, 300, (1, 4))
    cache = KVCache.empty(model.config, 1, 4, cache_dtype, "cpu")
    cache.valid[:] = True
    with pytest.raises(PonderError, match="KVCache of torch.* for a model in torch.*model.dtype"), torch.no_grad():
        model(x, cache=cache)
    if model_dtype == torch.float32:
        with torch.autocast("cpu", dtype=torch.bfloat16), torch.no_grad():
            assert torch.isfinite(model(x, cache=cache)).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_left_padded_prompt_fed_token_by_token_stays_finite(tiny_random, dtype):
    """One-token steps over a left-padded prompt: a padding query with no visible slot got a NaN row in bf16 on CPU
    (attention as matmuls), whose NaN keys/values later layers wrote to the cache; the row's real tokens then
    read NaN (masked weights are 0, but 0 * NaN is NaN). Each row must give its logits alone."""
    from ponder.model import KVCache
    model = Transformer(tiny_random[0].config).to(dtype).eval()
    model.load_state_dict(tiny_random[0].state_dict())
    ids = torch.randint(0, 300, (2, 5))
    real = torch.ones(2, 5, dtype=torch.bool)
    real[0, :3] = False  # row 0: two real tokens after three of padding
    cache = KVCache.empty(model.config, 2, 5, dtype, "cpu")
    with torch.no_grad():
        steps = []
        for t in range(5):
            cache.valid[:, t] = real[:, t]
            steps.append(model(ids[:, t:t + 1], cache=cache))
        out = torch.cat(steps, 1)
        alone = model(ids[:1, 3:])
    assert all(torch.isfinite(k).all() for k in cache.k + cache.v)
    assert (out[0, 3:].float() - alone[0].float()).abs().max().item() < (1e-5 if dtype == torch.float32 else 0.1)


@pytest.mark.parametrize("rope,ctx,how", [
    (None, 20, ""),
    ({"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16}, 64,
     "64 = original_max_position_embeddings 16 x yarn factor 4"),
    ({"rope_type": "yarn", "factor": 2.5}, 50, "50 = max_position_embeddings 20 x yarn factor 2.5"),
    ({"rope_type": "linear", "factor": 2.0}, 40, "40 = max_position_embeddings 20 x linear factor 2"),
    ({"rope_type": "llama3", "factor": 8.0, "original_max_position_embeddings": 4}, 20, ""),
])
def test_context_length_is_what_vllm_derives(rope, ctx, how):
    """The usable context is vLLM's max_model_len: a YaRN model (Qwen3's model cards: factor 4 over
    original_max_position_embeddings 32768, max_position_embeddings left at 40960) takes original x factor
    positions, a linear one max_position_embeddings x factor; llama3 RoPE keeps max_position_embeddings. It was
    max_position_embeddings everywhere, refusing Qwen3's 131072-token YaRN context past 40960."""
    from ponder.model import model_context

    cfg = ModelConfig(**{**BASE, "max_position_embeddings": 20}, head_dim=16, rope_scaling=rope)
    assert cfg.context_length == ctx
    assert model_context(Transformer(cfg)) == model_context(cfg) == (ctx, how)
    assert model_context(object()) == (None, "")  # (no limit known: nothing refused)
    # DeepSeek-V3's null factor: max_position_embeddings over original, so the context stays max_position_embeddings
    null = ModelConfig(**{**BASE, "max_position_embeddings": 30}, rope_scaling={
        "rope_type": "yarn", "factor": None, "original_max_position_embeddings": 7})
    assert null.context_length == 30


def test_yarn_logits_past_max_position_embeddings_match_transformers():
    """Positions past max_position_embeddings (within YaRN's original x factor) are the model's own: the logits
    there match transformers' (RoPE is computed per position, with no table sized to max_position_embeddings)."""
    rope = {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16}
    torch.manual_seed(0)
    hf = transformers.Qwen3ForCausalLM(transformers.Qwen3Config(
        **{**BASE, "max_position_embeddings": 20}, head_dim=16, rope_scaling=rope)).eval()
    model = Transformer(ModelConfig.from_hf(hf.config.to_dict())).eval()
    model.load_state_dict({k.removeprefix("model."): v for k, v in hf.state_dict().items()})
    assert model.config.context_length == 64
    x = torch.randint(0, 320, (1, 60))
    with torch.no_grad():
        assert (hf(x).logits - model(x)).abs().max().item() < 1e-4


@pytest.mark.parametrize("what, shape", [("attention_mask", (1, 10)), ("attention_mask", (4, 11)),
                                         ("attention_mask", (10,)), ("positions", (4, 9)), ("positions", (2, 10))])
def test_attention_mask_or_positions_of_another_shape_than_input_ids_is_one_error(tiny_random, what, shape):
    """A mask of shape [1, T] for [B, T] input_ids (padding heavy enough to unpad) gave rows 1.. all-zero logits,
    silently; other shapes failed deep inside attention ("The size of tensor a (10) must match ..."). Now one
    line naming both shapes."""
    model, _ = tiny_random
    x = torch.randint(0, 300, (4, 10))
    arg = torch.ones(shape, dtype=torch.long)
    if what == "attention_mask":
        arg[..., :2] = 0  # shared left padding
    else:
        arg = arg.cumsum(-1) - 1
    with pytest.raises(PonderError, match=rf"{what} of shape \[{', '.join(map(str, shape))}\] .*input_ids of shape \[4, 10\]"), torch.no_grad():
        model(x, **{what: arg})


@pytest.mark.parametrize("field", ["rope_scaling", "rope_parameters"])
@pytest.mark.parametrize("kind", ["dynamic", "longrope"])
def test_an_unsupported_rope_type_is_refused_naming_its_field_and_the_supported_ones(field, kind):
    """"rope scaling type 'dynamic' is not supported" named neither the object to edit nor what it may hold."""
    raw = {**BASE, "model_type": "qwen3", field: {"rope_type": kind, "factor": 2.0, "rope_theta": 10000.0}}
    with pytest.raises(PonderError, match=rf"ck/config.json: {field}.rope_type '{kind}' is not supported; "
                                          "supported: default, linear, yarn, llama3"):
        ModelConfig.from_hf(raw, source="ck/config.json")
