"""Checkpoint files: round trip, atomic save, and clear errors for broken checkpoints."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

import ponder
from ponder.errors import PonderError


def test_roundtrip_and_dtype(tmp_path, tiny_random):
    model, tok = tiny_random
    ponder.save(model, tok, tmp_path / "ck")
    m2, t2 = ponder.load(tmp_path / "ck")
    x = torch.randint(0, 300, (1, 10))
    with torch.no_grad():
        assert torch.equal(model(x), m2(x))
    assert t2.encode("12 + 3") == tok.encode("12 + 3") and t2.eos_token_id == tok.eos_token_id
    m3, _ = ponder.load(tmp_path / "ck", dtype="bf16")
    assert m3.dtype == torch.bfloat16 and m3.lm_head.weight is m3.embed_tokens.weight



def test_resave_keeps_what_the_checkpoint_says(tmp_path, tiny_random):
    """A hub checkpoint loaded and saved again keeps its EOS list, its BOS id (Qwen's tokenizers have no BOS
    token; their configs name one), its sampling defaults and no stale transformers-5 "dtype" field; loading
    twice does not grow the EOS list."""
    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "hub")
    cfg = json.loads((ck / "config.json").read_text())
    cfg.update(eos_token_id=[0, 2], bos_token_id=1, torch_dtype="bfloat16", dtype="bfloat16")
    (ck / "config.json").write_text(json.dumps(cfg))
    gen = {"eos_token_id": [0, 2], "bos_token_id": 1, "do_sample": True, "temperature": 0.6, "top_p": 0.95,
           "top_k": 20}
    (ck / "generation_config.json").write_text(json.dumps(gen))
    m, t = ponder.load(ck)
    ponder.load(ck)
    assert m.config.eos_token_id == [0, 2] and {0, 2} <= t.stop_token_ids
    again = ponder.save(m, t, tmp_path / "again")
    cfg2 = json.loads((again / "config.json").read_text())
    assert (cfg2["eos_token_id"], cfg2["bos_token_id"], cfg2["torch_dtype"]) == ([0, 2], 1, "float32")
    assert "dtype" not in cfg2  # it would override torch_dtype in transformers >= 5
    gen2 = json.loads((again / "generation_config.json").read_text())
    assert {k: gen2[k] for k in gen if k != "eos_token_id"} == {k: gen[k] for k in gen if k != "eos_token_id"}
    assert set(gen2["eos_token_id"]) == set(t.stop_token_ids)
    transformers = pytest.importorskip("transformers")
    assert transformers.AutoModelForCausalLM.from_pretrained(again).dtype == torch.float32


def test_sharded_checkpoint(tmp_path, tiny_random):
    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    state = load_file(ck / "model.safetensors")
    names = sorted(state)
    half = len(names) // 2
    shards = {"model-00001-of-00002.safetensors": names[:half], "model-00002-of-00002.safetensors": names[half:]}
    for fname, keys in shards.items():
        save_file({k: state[k] for k in keys}, ck / fname)
    (ck / "model.safetensors").unlink()
    wm = {k: f for f, ks in shards.items() for k in ks}
    (ck / "model.safetensors.index.json").write_text(json.dumps({"weight_map": wm}))
    m2, _ = ponder.load(ck)
    assert torch.equal(m2.embed_tokens.weight, model.embed_tokens.weight)


def test_save_is_atomic(tmp_path, tiny_random, monkeypatch):
    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    before = (ck / "model.safetensors").read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("ponder.checkpoint.save_file", boom)
    with pytest.raises(OSError):
        ponder.save(model, tok, tmp_path / "ck")
    assert (ck / "model.safetensors").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]  # no temporary directory left behind



def test_save_interrupted_between_its_renames_keeps_the_previous_checkpoint(tmp_path, tiny_random, monkeypatch):
    """The old directory goes aside before the new one moves in. Interrupted there (Ctrl-C) the old one comes
    back at once; killed there (kill -9), the next save or resume puts it back first."""
    import os

    from ponder.checkpoint import recover

    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    before = (ck / "model.safetensors").read_bytes()
    real, calls = os.replace, []

    def interrupted(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the new checkpoint moving in
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ponder.save(model, tok, ck)
    monkeypatch.setattr(os, "replace", real)
    assert (ck / "model.safetensors").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]
    os.replace(ck, tmp_path / ".ck.old-4242")  # what a kill -9 between the renames leaves
    recover(ck)
    assert (ck / "model.safetensors").read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["ck"]

def _broken(tmp_path, tiny_random, edit):
    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    edit(ck)
    return ck


def test_errors(tmp_path, tiny_random):
    with pytest.raises(PonderError, match="no such checkpoint"):
        ponder.load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PonderError, match="not a checkpoint"):
        ponder.load(tmp_path / "empty")

    def arch(ck):
        c = json.loads((ck / "config.json").read_text())
        c["model_type"] = "mamba"
        (ck / "config.json").write_text(json.dumps(c))
    with pytest.raises(PonderError, match="unsupported architecture"):
        ponder.load(_broken(tmp_path / "a", tiny_random, arch))

    def shape(ck):
        c = json.loads((ck / "config.json").read_text())
        c["intermediate_size"] = 100
        (ck / "config.json").write_text(json.dumps(c))
    with pytest.raises(PonderError, match="has shape"):
        ponder.load(_broken(tmp_path / "b", tiny_random, shape))

    def name(ck):
        s = load_file(ck / "model.safetensors")
        s["model.layers.0.extra.weight"] = torch.zeros(1)
        save_file(s, ck / "model.safetensors")
    with pytest.raises(PonderError, match="unexpected tensor"):
        ponder.load(_broken(tmp_path / "c", tiny_random, name))

    def eos(ck):
        c = json.loads((ck / "tokenizer_config.json").read_text())
        c["eos_token"] = None
        (ck / "tokenizer_config.json").write_text(json.dumps(c))
    with pytest.raises(PonderError, match="no EOS token"):
        ponder.load(_broken(tmp_path / "d", tiny_random, eos))
