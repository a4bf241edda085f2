"""Checkpoint files: round trip, atomic save, and clear errors for broken checkpoints."""

import json
import os
import re

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
    assert t2.encode("12 + 3", add_special_tokens=False) == tok.encode("12 + 3", add_special_tokens=False) and t2.eos_token_id == tok.eos_token_id
    m3, _ = ponder.load(tmp_path / "ck", dtype="bf16")
    assert m3.dtype == torch.bfloat16 and m3.lm_head.weight is m3.embed_tokens.weight



@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_a_config_naming_no_dtype_takes_the_weights_dtype_as_transformers_does(tmp_path, tiny_random, dtype):
    """config.json without dtype/torch_dtype: transformers' default dtype="auto" then takes the weights' (the
    first floating tensor's); Ponder took float32, so a bf16 checkpoint loaded on a GPU (and `ponder info`) at twice
    its memory, reported as float32. A dtype the config names still wins."""
    from ponder.checkpoint import check_loadable, checkpoint_dtype, load_config

    transformers = pytest.importorskip("transformers")
    model, tok = tiny_random
    ponder.save(ponder.Transformer(model.config).to(dtype), tok, tmp_path / "ck")
    raw = json.loads((tmp_path / "ck" / "config.json").read_text())
    for k in ("torch_dtype", "dtype"):
        raw.pop(k, None)
    (tmp_path / "ck" / "config.json").write_text(json.dumps(raw))
    assert transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "ck").dtype == dtype
    assert check_loadable(tmp_path / "ck", device="meta")[4] == dtype  # (a device that is not the CPU)
    assert checkpoint_dtype(load_config(tmp_path / "ck"), tmp_path / "ck") == dtype  # (what `ponder info` loads in)
    assert check_loadable(tmp_path / "ck")[4] == torch.float32  # (the CPU's default, as before)
    (tmp_path / "ck" / "config.json").write_text(json.dumps({**raw, "torch_dtype": "float32"}))
    assert check_loadable(tmp_path / "ck", device="meta")[4] == torch.float32


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


def test_a_tensor_the_index_places_in_a_shard_that_lacks_it_names_the_index_and_shard(tmp_path, tiny_random):
    """A shard replaced by another download's (or rewritten without a tensor) under an index that still names the
    tensor in it said only "CKPT: missing tensors [...]": not which file was wrong. It names the index, the
    tensor and the shard the index places it in now."""
    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    state = load_file(ck / "model.safetensors")
    names = sorted(state)
    lost = "model.layers.0.mlp.up_proj.weight"
    shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
              "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    for fname, keys in shards.items():
        save_file({k: state[k] for k in keys if k != lost}, ck / fname)
    (ck / "model.safetensors").unlink()
    wm = {k: f for f, ks in shards.items() for k in ks}
    (ck / "model.safetensors.index.json").write_text(json.dumps({"weight_map": wm}))
    with pytest.raises(PonderError) as e:
        ponder.load(ck)
    msg = _one_line_naming(e, ck / "model.safetensors.index.json")
    assert lost in msg and f"{wm[lost]}, which does not hold it" in msg, msg


def test_save_is_atomic(tmp_path, tiny_random, monkeypatch):
    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    before = (ck / "model.safetensors").read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("ponder.checkpoint.save_file", boom)
    with pytest.raises(OSError, match="disk full"):
        ponder.save(model, tok, tmp_path / "ck")
    assert (ck / "model.safetensors").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]  # no temporary directory left behind



def test_save_syncs_every_file_before_the_swap_and_the_renames_before_deleting_the_old(tmp_path, tiny_random,
                                                                                        monkeypatch):
    """Nothing was fsynced: after a power loss the journaled renames could persist over data still in the page
    cache, leaving the new checkpoint's names on empty files with the old checkpoint deleted."""
    import os

    model, tok = tiny_random
    monkeypatch.delenv("PONDER_FSYNC", raising=False)  # (the suite's conftest turns the syncs off)
    ponder.save(model, tok, tmp_path / "ck")
    events, real_fsync, real_replace = [], os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.fspath(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    ck = ponder.save(model, tok, tmp_path / "ck", extra={"state.pt": lambda p: p.write_bytes(b"s")})
    monkeypatch.setattr(os, "fsync", real_fsync)
    monkeypatch.setattr(os, "replace", real_replace)
    swap = next(i for i, e in enumerate(events) if e[0] == "replace" and os.path.basename(e[1]) == "ck")
    tmp = next(e[1] for e in events[swap:] if e[0] == "replace" and ".ck.tmp-" in e[1])
    synced = {e[1] for e in events[:swap] if e[0] == "fsync"}
    assert {os.path.join(tmp, f.name) for f in ck.iterdir()} | {tmp} <= synced  # every file, the state's too
    assert ("fsync", str(tmp_path)) in events[events.index(("replace", tmp)):]  # the renames, after both
    monkeypatch.setenv("PONDER_FSYNC", "0")  # (a scratch disk, a test suite: no syncs)
    monkeypatch.setattr(os, "fsync", lambda fd: pytest.fail("synced with PONDER_FSYNC=0"))
    ponder.save(model, tok, tmp_path / "ck")


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

def test_a_save_killed_mid_write_leaves_no_temporary_checkpoint_behind(tmp_path, tiny_random):
    """kill -9 during a save leaves its temporary directory (a whole checkpoint's size); the next save or resume
    removes it, but never the one of a save still running (its process alive)."""
    import os
    import subprocess
    import sys
    import time

    from ponder.checkpoint import recover

    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    before = (ck / "model.safetensors").read_bytes()
    started = tmp_path / "started"
    code = (f"import time, ponder\nm, t = ponder.load({str(ck)!r})\n"
            f"ponder.save(m, t, {str(ck)!r}, extra={{'state.pt': lambda p: (open({str(started)!r}, 'w').close(), "
            "time.sleep(120))})")
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.time() + 300  # (the save starts once python, torch and ponder have loaded: on a busy box, slow)
        while not started.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    assert started.exists() and len(list(tmp_path.glob(".ck.tmp-*"))) == 1
    running = tmp_path / f".ck.tmp-{os.getppid()}-abcd"  # a save of a live process: left alone
    running.mkdir()
    recover(ck)
    assert sorted(p.name for p in tmp_path.glob(".ck*")) == [running.name]
    assert (ck / "model.safetensors").read_bytes() == before


def test_a_temporary_checkpoint_left_under_this_processs_id_is_removed(tmp_path, tiny_random):
    """A trainer killed mid-save and restarted in a fresh container gets the same process id (pid 1): its
    leftover, named by that id, was taken for a live save and kept at every save and resume, a checkpoint's size
    each time. No save of this process runs while it saves again or resumes: the leftover goes; a save under
    another live process's id stays."""
    import os

    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    mine = tmp_path / f".ck.tmp-{os.getpid()}-abcd"  # what the killed earlier process of this id left
    mine.mkdir()
    (mine / "model.safetensors").write_bytes(b"partial")
    running = tmp_path / f".ck.tmp-{os.getppid()}-abcd"
    running.mkdir()
    ponder.save(model, tok, ck)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([running.name, "ck"])
    mine.mkdir()
    ponder.checkpoint.recover(ck)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([running.name, "ck"])


def test_a_temporary_checkpoint_of_another_host_is_judged_by_its_age_not_by_a_process_id_here(tmp_path, tiny_random):
    """A run directory on shared storage, the job requeued on another node: a killed save's leftover was judged by
    whether its process id was alive on this machine, so it was kept for good when some process here had that id,
    and a live save of another node was deleted when none had. save's temporary directory now names its host: this
    host's are judged by their process, another's only by age (no write for a day: a dead save's)."""
    import os
    import time

    from ponder.checkpoint import _host, recover

    model, tok = tiny_random
    seen = []
    ck = ponder.save(model, tok, tmp_path / "ck", extra={"s": lambda p: (seen.append(p.parent.name), p.touch())})
    assert seen[0].startswith(f".ck.tmp-{os.getpid()}@{_host()}-")
    running = tmp_path / ".ck.tmp-999999999@othernode-abcd1234"  # writing on another node; no such process here
    dead = tmp_path / f".ck.tmp-{os.getppid()}@othernode-efgh5678"  # killed there a week ago; its id is alive here
    mine = tmp_path / f".ck.tmp-999999999@{_host()}-ijkl9012"  # killed here, no such process any more
    for d in (running, dead, mine):
        d.mkdir()
        (d / "model.safetensors").write_bytes(b"partial")
    (dead / "tokenizer.json").symlink_to(tmp_path / "gone")  # (a dangling link's own time is the one to read)
    week_ago = time.time() - 7 * 86400
    for f in (dead / "model.safetensors", dead / "tokenizer.json", dead):
        os.utime(f, (week_ago, week_ago), follow_symlinks=False)
    recover(ck)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ck", running.name])


def test_hosts_with_long_names_differing_at_the_end_are_told_apart(monkeypatch):
    """A long host name was cut to fit a temporary directory's name: cluster nodes whose names differ only in their
    last characters (...-node-0001, ...-node-0002) read as one host, and one judged the other's save by a process id
    of its own. Each name stays distinct, short, and free of the "-" that ends the field."""
    import socket

    from ponder.checkpoint import _host

    names = ["gpu-" + "x" * 40 + f"-node-{i:04d}.cluster.example.com" for i in range(3)] + ["vm", "my-box.lan"]
    seen = []
    for name in names:
        monkeypatch.setattr(socket, "gethostname", lambda name=name: name)
        seen.append(_host())
    assert len(set(seen)) == len(names) and all(0 < len(h) <= 32 and "-" not in h for h in seen), seen
    assert seen[-2:] == ["vm", "my_box"]


def test_recover_takes_a_name_with_brackets_as_it_is(tmp_path, tiny_random):
    """recover() found a killed save's leftovers by a glob of the checkpoint's name: "ck[1]" was a pattern
    matching "ck1", so the checkpoint set aside was never put back (and a dead save's temporary not removed)."""
    import os

    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck[1]")
    before = (ck / "model.safetensors").read_bytes()
    os.replace(ck, tmp_path / ".ck[1].old-4242")  # what a kill -9 between the renames leaves
    (tmp_path / ".ck[1].tmp-999999999-abcd").mkdir()  # a save killed mid-write (no such process)
    ponder.checkpoint.recover(ck)
    assert (ck / "model.safetensors").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ck[1]"]


def test_a_failed_save_names_the_checkpoint_not_its_temporary_directory(tmp_path, tiny_random):
    """A save the OS refuses is one line naming the checkpoint asked for: the OS error named the temporary
    sibling (".NAME.tmp-PID-XXXX"), gone by then. A 250-character name fits, its temporary sibling does not."""
    from ponder.fileio import OutputError

    model, tok = tiny_random
    ck = tmp_path / ("c" * 250)
    with pytest.raises(OutputError, match=r"^\S+/c{250}: cannot save the checkpoint \(File name too long: .*"
                                          "give a shorter name\\)$") as e:
        ponder.save(model, tok, ck)
    assert ".tmp-" not in str(e.value).split(": ")[0] and list(tmp_path.iterdir()) == []


def test_weights_written_to_a_full_disk_are_one_line_and_keep_the_checkpoint(tmp_path, tiny_random, monkeypatch):
    """safetensors reports a full disk as SafetensorError, not an OSError (its message as measured on a full tmpfs):
    it failed as that bare error, never the line naming the checkpoint that other write errors get."""
    from safetensors import SafetensorError

    from ponder.fileio import OutputError

    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    before = (ck / "model.safetensors").read_bytes()

    def full_disk(*a, **k):
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr("ponder.checkpoint.save_file", full_disk)
    with pytest.raises(OutputError, match=r"/ck: cannot save the checkpoint \(No space left on device\)$") as e:
        ponder.save(model, tok, ck)
    assert e.value.errno == 28 and (ck / "model.safetensors").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_tokenizer_written_to_a_full_disk_names_the_checkpoint_not_its_temporary_directory(tmp_path, tiny_random,
                                                                                               monkeypatch):
    """The tokenizer's files are written by atomic writes whose error names the file written, one in save's
    temporary directory (".ck.tmp-PID-XXXX/tokenizer.json"), gone by the time the line is read. Here that file
    links to /dev/full: the disk is full."""
    import tempfile

    from ponder.fileio import OutputError

    model, tok = tiny_random
    real = tempfile.mkdtemp

    def mkdtemp(*a, **k):
        d = real(*a, **k)
        os.symlink("/dev/full", os.path.join(d, "tokenizer.json"))
        return d

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    with pytest.raises(OutputError, match=r"^\S+/ck: cannot save the checkpoint \(No space left on device\)$"):
        ponder.save(model, tok, tmp_path / "ck")
    assert list(tmp_path.iterdir()) == []


def test_weights_left_as_a_git_lfs_pointer_are_named_so(tmp_path, tiny_random):
    """A hub repository cloned without git-lfs has a 130-byte text file for model.safetensors: loading it said
    "header too large", nothing of the pointer."""
    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    (ck / "model.safetensors").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64
                                          + "\nsize 123456\n")
    with pytest.raises(PonderError, match=re.escape(f"{ck / 'model.safetensors'}: not a readable safetensors file "
                                                    "(a Git LFS pointer, not the weights: fetch them with `git lfs "
                                                    "pull`")):
        ponder.load(ck)


def test_a_config_that_does_not_describe_its_weights_is_named_before_anything_is_allocated(tmp_path, tiny_random):
    """Names and shapes are checked from the safetensors headers before the model is built and allocated: a
    vocab_size of 10**12 failed in torch's allocator ("can't allocate memory: 512000000000000 bytes"), one past
    int64 with torch's "Overflow when unpacking long long" (tracebacks both), and 10**6 layers spent minutes being
    built before any tensor was compared."""
    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    good = json.loads((ck / "config.json").read_text())
    v, h, n = good["vocab_size"], good["hidden_size"], good["num_hidden_layers"]
    for edit, message in (
            ({"vocab_size": 10**12}, f"{ck / 'model.safetensors'}: tensor 'model.embed_tokens.weight' has shape "
                                     f"({v}, {h}), config implies ({10**12}, {h})"),
            ({"vocab_size": 2**63}, f"{ck / 'config.json'}: cannot build the model it describes ("),
            ({"num_hidden_layers": 10**6}, f"{ck / 'config.json'}: num_hidden_layers is {10**6}, but the weights hold "
                                           f"{n} layers (model.layers.0 to model.layers.{n - 1})")):
        (ck / "config.json").write_text(json.dumps({**good, **edit}))
        with pytest.raises(PonderError, match="^" + re.escape(message)):
            ponder.load(ck)


def test_a_quantized_checkpoint_is_refused_by_its_quantization_config(tmp_path, tiny_random):
    """A hub FP8/AWQ/GPTQ checkpoint (Qwen3-*-FP8) stores its weights beside scales: loading it said "unexpected
    tensor 'model.layers.0.mlp.down_proj.weight_scale_inv' for qwen3 config", nothing of the quantization; and
    quantized weights under the usual names would be cast to float without their scales."""
    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    sd = load_file(ck / "model.safetensors")
    name = next(k for k in sd if k.endswith("down_proj.weight"))
    sd[name] = sd[name].to(torch.float8_e4m3fn)
    sd[name + "_scale_inv"] = torch.ones(1, 1)
    save_file(sd, ck / "model.safetensors", metadata={"format": "pt"})
    cfg = json.loads((ck / "config.json").read_text())
    cfg["quantization_config"] = {"quant_method": "fp8", "activation_scheme": "dynamic", "weight_block_size": [128, 128]}
    (ck / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(PonderError, match="^" + re.escape(f"{ck / 'config.json'}: quantization_config "
                                                          "(quant_method='fp8') is not supported")) as e:
        ponder.load(ck)
    _one_line_naming(e, ck / "config.json")
    del cfg["quantization_config"]  # compressed-tensors' older name for it
    cfg["compression_config"] = {"quant_method": "compressed-tensors", "format": "float-quantized"}
    (ck / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(PonderError, match=re.escape("compression_config (quant_method='compressed-tensors') is not")):
        ponder.load(ck)


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
    run = tmp_path / "run"  # a training run's directory: its config.json is the run's, its model in checkpoint/
    ponder.save(*tiny_random, run / "checkpoint")
    (run / "config.json").write_text('{"kind": "sft"}')
    with pytest.raises(PonderError, match=f"is a training run directory; its model is {run / 'checkpoint'}"):
        ponder.load(run)

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
    # the file's path: "model.safetensors: ..." did not say which of two checkpoints (distill's teacher, student)
    with pytest.raises(PonderError, match=re.escape(f"{tmp_path / 'b' / 'ck' / 'model.safetensors'}: tensor ") + ".* has shape"):
        ponder.load(_broken(tmp_path / "b", tiny_random, shape))

    def name(ck):
        s = load_file(ck / "model.safetensors")
        s["model.layers.0.extra.weight"] = torch.zeros(1)
        save_file(s, ck / "model.safetensors")
    with pytest.raises(PonderError, match=re.escape(f"{tmp_path / 'c' / 'ck' / 'model.safetensors'}: unexpected tensor")):
        ponder.load(_broken(tmp_path / "c", tiny_random, name))

    def eos(ck):
        c = json.loads((ck / "tokenizer_config.json").read_text())
        c["eos_token"] = "<missing>"  # (naming none takes config.json's eos_token_id: test_tokenizer.py)
        (ck / "tokenizer_config.json").write_text(json.dumps(c))
    with pytest.raises(PonderError, match="no EOS token"):
        ponder.load(_broken(tmp_path / "d", tiny_random, eos))


# ---- corrupt checkpoints: one PonderError naming the file ------------------------------------------------
def _same_weights(loaded, model):
    """What load gave back is the saved model, every tensor (not merely a load that did not raise)."""
    want, got = model.state_dict(), loaded.state_dict()
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


def _one_line_naming(e, f):
    msg = str(e.value)
    assert str(f) in msg and "\n" not in msg, msg
    return msg


@pytest.mark.parametrize("size", [1000, 0, 7])
def test_truncated_or_empty_weights_name_the_file(tmp_path, tiny_random, size):
    ck = _broken(tmp_path, tiny_random, lambda ck: None)
    f = ck / "model.safetensors"
    f.write_bytes(f.read_bytes()[:size])
    with pytest.raises(PonderError, match="not a readable safetensors file") as e:
        ponder.load(ck)
    _one_line_naming(e, f)


def test_weights_cut_after_the_header_name_the_file(tmp_path, tiny_random):
    ck = _broken(tmp_path, tiny_random, lambda ck: None)
    f = ck / "model.safetensors"
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(PonderError) as e:
        ponder.load(ck)
    _one_line_naming(e, f)


@pytest.mark.parametrize("in_header", [False, True])
def test_weights_cut_short_say_so_with_the_sizes(tmp_path, tiny_random, in_header):
    """A model.safetensors whose download stopped said "Error while deserializing header: incomplete metadata, file
    not fully covered" (or "invalid header length", cut inside the header): a broken header, not a partial file."""
    ck = _broken(tmp_path, tiny_random, lambda ck: None)
    f = ck / "model.safetensors"
    data = f.read_bytes()
    header_end = 8 + int.from_bytes(data[:8], "little")
    keep = 100 if in_header else len(data) - 100
    f.write_bytes(data[:keep])
    want = f"where its header alone is {header_end}" if in_header else f"of the {len(data)} its header describes"
    with pytest.raises(PonderError, match=f"cut short: {keep} bytes {want}; a download") as e:
        ponder.load(ck)
    _one_line_naming(e, f)


def test_weights_without_read_permission_say_so_not_no_such_file(tmp_path, tiny_random, monkeypatch):
    """A model.safetensors (or a shard) the user may not read said "not a readable safetensors file (No such file
    or directory: ...)": safetensors' safe_open raises FileNotFoundError for EACCES. The file is there; what is
    wrong is its permission. (Simulated: the suite may run as root, who reads any file.)"""
    import builtins

    import ponder.checkpoint as checkpoint

    ck = _broken(tmp_path, tiny_random, lambda ck: None)
    f = ck / "model.safetensors"
    real_open, real_safe_open = builtins.open, checkpoint.safe_open

    def guarded_open(file, *a, **kw):
        if os.fspath(file) == str(f):
            raise PermissionError(13, "Permission denied", str(f))
        return real_open(file, *a, **kw)

    def guarded_safe_open(file, *a, **kw):
        if os.fspath(file) == str(f):  # what safetensors raises for a file it may not open
            raise FileNotFoundError(f"No such file or directory: {f}")
        return real_safe_open(file, *a, **kw)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(checkpoint, "safe_open", guarded_safe_open)
    for call in (ponder.load, checkpoint.describe):
        with pytest.raises(PonderError, match=r"cannot read \(Permission denied\)") as e:
            call(ck)
        assert "No such file" not in _one_line_naming(e, f)


def test_a_checkpoint_directory_without_permission_names_it_not_a_path_inside(tmp_path, tiny_random, monkeypatch):
    """A checkpoint directory the user may not enter (another user's, mode 700) said "DIR/checkpoint/config.json:
    Permission denied", naming a path that never existed (resolve's check for a training run directory's
    checkpoint/ raised it). (Simulated: the suite may run as root, who enters any directory.)"""
    import pathlib

    ck = _broken(tmp_path, tiny_random, lambda ck: None)
    real_stat = pathlib.Path.stat

    def guarded_stat(self, *a, **kw):
        if ck in self.parents:
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *a, **kw)

    monkeypatch.setattr(pathlib.Path, "stat", guarded_stat)
    with pytest.raises(PonderError, match="cannot read the directory \\(Permission denied\\)") as e:
        ponder.load(ck)
    assert str(e.value).startswith(f"{ck}: ") and "checkpoint/" not in str(e.value), str(e.value)


@pytest.mark.parametrize("content, msg", [
    (b"[1, 2]", "expected a JSON object, got an array"),
    (b"17", "expected a JSON object, got a number"),
    ('{"model_type": "qwen3"}'.encode("utf-16"), "not UTF-8"),
    (b"{\"model_type\": \xff}", "not UTF-8"),
    (b"[" * 100000, "invalid JSON: nested too deeply"),
], ids=["array", "number", "utf16", "latin1", "deep"])
def test_config_json_that_is_not_an_object_names_the_file(tmp_path, tiny_random, content, msg):
    ck = _broken(tmp_path, tiny_random, lambda ck: (ck / "config.json").write_bytes(content))
    with pytest.raises(PonderError, match=msg) as e:
        ponder.load(ck)
    _one_line_naming(e, ck / "config.json")


@pytest.mark.parametrize("field, value", [
    ("hidden_size", "abc"), ("hidden_size", 64.0), ("num_key_value_heads", 0), ("num_attention_heads", 0),
    ("vocab_size", 0), ("num_hidden_layers", -1), ("rope_scaling", "abc"), ("rope_theta", "abc"),
])
def test_config_fields_of_the_wrong_type_name_the_file_and_field(tmp_path, tiny_random, field, value):
    def edit(ck):
        c = json.loads((ck / "config.json").read_text())
        c[field] = value
        (ck / "config.json").write_text(json.dumps(c))
    ck = _broken(tmp_path, tiny_random, edit)
    with pytest.raises(PonderError, match=field) as e:
        ponder.load(ck)
    _one_line_naming(e, ck / "config.json")


@pytest.mark.parametrize("content, msg", [
    ("[1, 2]", "expected a JSON object, got an array"), ("[1", "invalid JSON"), ('"x"', "got a string"),
])
def test_generation_config_that_is_not_an_object_names_the_file(tmp_path, tiny_random, content, msg):
    """transformers refuses such a file too; ignoring it would let save() drop it without a word."""
    ck = _broken(tmp_path, tiny_random, lambda ck: (ck / "generation_config.json").write_text(content))
    with pytest.raises(PonderError, match=msg) as e:
        ponder.load(ck)
    _one_line_naming(e, ck / "generation_config.json")



@pytest.mark.parametrize("eos", ["2", ["0", 2], [0, 1.0], True, {"id": 2}])
def test_generation_config_eos_ids_of_the_wrong_type_name_the_file(tmp_path, tiny_random, eos):
    """Stop ids that are not integers were dropped without a word (generation ran past the stop the file
    meant; transformers' generate fails on them). Like config.json's eos_token_id: one line, file and value."""
    def edit(ck):
        gen = json.loads((ck / "generation_config.json").read_text())
        (ck / "generation_config.json").write_text(json.dumps({**gen, "eos_token_id": eos}))
    ck = _broken(tmp_path, tiny_random, edit)
    with pytest.raises(PonderError, match="eos_token_id") as e:
        ponder.load(ck)
    assert json.dumps(eos) in _one_line_naming(e, ck / "generation_config.json")

def test_sampling_defaults_are_the_generation_configs_when_it_samples(tmp_path, tiny_random):
    """The authors' sampling settings (what transformers and vLLM use when the caller gives none) come from the
    file load() reads: none unless do_sample is true, temperature 1.0 when it samples without one."""
    from ponder.checkpoint import sampling_defaults

    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    f = ck / "generation_config.json"
    eos = json.loads(f.read_text())["eos_token_id"]
    for gen, want in [({}, {}), ({"do_sample": False, "temperature": 0.6}, {}), ({"temperature": 0.6}, {}),
                      ({"do_sample": True}, {"temperature": 1.0}),
                      ({"do_sample": True, "temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": None},
                       {"temperature": 0.6, "top_p": 0.95, "top_k": 20})]:
        f.write_text(json.dumps({"eos_token_id": eos, **gen}))
        assert sampling_defaults(ck) == (want, f), gen
    assert sampling_defaults("tiny")[0] == {}  # (its file has only eos_token_id: greedy as before)


@pytest.mark.parametrize("field, value", [("do_sample", "true"), ("do_sample", 1), ("temperature", -0.5),
                                          ("temperature", "0.6"), ("top_p", 0), ("top_p", 1.5), ("top_k", 2.5),
                                          ("top_k", -1), ("min_p", 1), ("min_p", [0.1])])
def test_sampling_defaults_of_the_wrong_type_or_range_name_the_file_and_field(tmp_path, tiny_random, field, value):
    """One line naming the file and the field; load() itself (eval, sft, ...: settings of their own) still reads
    the checkpoint."""
    from ponder.checkpoint import sampling_defaults

    def edit(ck):
        gen = json.loads((ck / "generation_config.json").read_text())
        (ck / "generation_config.json").write_text(json.dumps({**gen, "do_sample": True, field: value}))
    ck = _broken(tmp_path, tiny_random, edit)
    with pytest.raises(PonderError, match=field) as e:
        sampling_defaults(ck)
    _one_line_naming(e, ck / "generation_config.json")
    ponder.load(ck)


@pytest.mark.parametrize("index, msg", [
    ({"weight_map": [1]}, "weight_map is an array"),
    ([1], "expected a JSON object, got an array"),
    ({"weight_map": {"model.norm.weight": 3}}, "weight_map is not all names"),
    ({}, "weight_map is missing"),
    ({"weight_map": "model.safetensors"}, "weight_map is a string"),
    ({"weight_map": {"model.norm.weight": "../ck/model.safetensors"}}, "'../ck/model.safetensors' is outside"),
    ({"weight_map": {"model.norm.weight": "/etc/passwd"}}, "'/etc/passwd' is outside"),
])
def test_bad_shard_index_names_the_file(tmp_path, tiny_random, index, msg):
    def edit(ck):
        (ck / "model.safetensors").unlink()
        (ck / "model.safetensors.index.json").write_text(json.dumps(index))
    ck = _broken(tmp_path, tiny_random, edit)
    with pytest.raises(PonderError, match=msg) as e:
        ponder.load(ck)
    _one_line_naming(e, ck / "model.safetensors.index.json")


# ---- devices ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("device", ["banana", "cuda:x", "CPU"])
def test_unknown_device_is_named(device):
    with pytest.raises(PonderError, match=f"unknown device '{device}'; available: cpu"):
        ponder.load("tiny", device=device)


def test_an_index_on_the_cpu_is_refused(capsys):
    """`--device cpu:1` was taken silently: torch puts every tensor of "cpu:1" on the one CPU device, so the index
    did nothing (a user asking for a second socket or core got the same run). Refused in one line, before loading;
    cpu and cpu:0 (the same device) load."""
    from ponder.cli import main

    with pytest.raises(PonderError, match=r"^device 'cpu:1': the CPU is one device, with no index to choose"):
        ponder.load("tiny", device="cpu:1")
    assert main(["generate", "--device", "cpu:2", "1 + 1 =", "--max-new-tokens", "2"]) == 2
    err = capsys.readouterr().err
    assert err == ("ponder generate: error: device 'cpu:2': the CPU is one device, with no index to choose (--threads "
                   "sets how many of its cores run); use --device cpu\n")
    for device in ("cpu", "cpu:0"):
        assert ponder.load("tiny", device=device)[0].device == torch.device("cpu")


@pytest.mark.parametrize("built", [True, False])
def test_cuda_without_a_gpu_says_so(monkeypatch, built):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", "12.4" if built else None)
    monkeypatch.setattr(torch.version, "hip", None, raising=False)
    why = "no GPU found" if built else "torch was built without CUDA"
    with pytest.raises(PonderError, match=rf"device 'cuda' is not available \({why}\); use --device cpu"):
        ponder.load("tiny", device="cuda")


def test_cuda_index_past_the_gpus_is_named(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(PonderError, match=r"device 'cuda:5' is not available: 2 GPUs here; available: cpu, cuda:0"):
        ponder.load("tiny", device="cuda:5")


def test_cpu_device_still_loads():
    model, _ = ponder.load("tiny", device=torch.device("cpu"))
    assert model.embed_tokens.weight.device.type == "cpu"


# ---- permissions and paths of a saved checkpoint ---------------------------------------------------------
def test_saved_checkpoint_has_the_usual_permissions(tmp_path, tiny_random):
    """mkdtemp makes 0700 and safetensors writes 0600; a checkpoint gets what mkdir/open would give."""
    import os
    import stat

    old = os.umask(0o022)
    os.umask(old)
    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    assert stat.S_IMODE(ck.stat().st_mode) == 0o777 & ~old
    for f in ck.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~old, f.name
    os.chmod(ck, 0o700)  # a checkpoint made private stays private when it is saved again
    assert stat.S_IMODE(ponder.save(model, tok, ck).stat().st_mode) == 0o700


def test_save_under_a_file_or_over_a_file_is_refused(tmp_path, tiny_random):
    model, tok = tiny_random
    (tmp_path / "plain").write_text("keep")
    with pytest.raises(PonderError, match="plain is not a directory"):
        ponder.save(model, tok, tmp_path / "plain" / "ck")
    with pytest.raises(PonderError, match="exists and is not a directory"):
        ponder.save(model, tok, tmp_path / "plain")
    assert (tmp_path / "plain").read_text() == "keep" and [p.name for p in tmp_path.iterdir()] == ["plain"]


def test_save_over_a_checkpoint_keeps_the_files_that_are_not_a_checkpoints_own(tmp_path, tiny_random):
    """Saved over a hub clone (load, edit, save back to the same directory), the swap deleted its README.md model
    card, LICENSE, .gitattributes and .git, silently (transformers' save_pretrained keeps them). They stay now,
    unchanged; the old checkpoint's own files (shards and index of other weights, a stale chat_template.jinja and
    special_tokens_map.json) are not carried over, and what was saved loads as saved."""
    model, tok = tiny_random
    ck = tmp_path / "clone"
    ponder.save(model, tok, ck)
    (ck / "README.md").write_text("# model card")
    (ck / "LICENSE").write_text("apache-2.0")
    (ck / ".gitattributes").write_text("*.safetensors filter=lfs")
    (ck / ".git" / "refs").mkdir(parents=True)
    (ck / ".git" / "HEAD").write_text("ref: refs/heads/main")
    (ck / "model-00001-of-00002.safetensors").write_bytes(b"stale")
    (ck / "model.safetensors.index.json").write_text("{}")
    (ck / "chat_template.jinja").write_text("stale {{ messages }}")
    (ck / "special_tokens_map.json").write_text('{"eos_token": "<stale>"}')
    with torch.no_grad():
        model.embed_tokens.weight.add_(1.0)
    try:
        ponder.save(model, tok, ck)
    finally:
        with torch.no_grad():
            model.embed_tokens.weight.sub_(1.0)
    assert (ck / "README.md").read_text() == "# model card" and (ck / "LICENSE").read_text() == "apache-2.0"
    assert (ck / ".gitattributes").is_file() and (ck / ".git" / "HEAD").read_text() == "ref: refs/heads/main"
    assert (ck / ".git" / "refs").is_dir()
    for stale in ("model-00001-of-00002.safetensors", "model.safetensors.index.json", "chat_template.jinja",
                  "special_tokens_map.json"):
        assert not (ck / stale).exists(), stale
    loaded, tok2 = ponder.load(ck)
    assert torch.equal(loaded.embed_tokens.weight, model.embed_tokens.weight + 1.0)
    assert tok2.eos_token == tok.eos_token
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clone"]  # (no leftover beside it)


def test_save_never_replaces_a_directory_that_is_not_a_checkpoint(tmp_path, tiny_random):
    """save() swaps a whole directory in: over a folder of the user's (or a run directory, whose config.json
    sits beside checkpoint/) it deleted every file there. Refused, with nothing touched; an empty directory
    and an existing checkpoint are still replaced."""
    model, tok = tiny_random
    mine, run = tmp_path / "mine", tmp_path / "run"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    ponder.save(model, tok, run / "checkpoint")
    (run / "config.json").write_text("{}")
    for d in (mine, run):
        before = sorted(str(f.relative_to(d)) for f in d.rglob("*"))
        with pytest.raises(PonderError, match=f"{d.name}: exists and is not a checkpoint"):
            ponder.save(model, tok, d)
        assert sorted(str(f.relative_to(d)) for f in d.rglob("*")) == before
    assert (mine / "notes.txt").read_text() == "keep"
    (tmp_path / "empty").mkdir()
    ponder.save(model, tok, tmp_path / "empty")
    ponder.save(model, tok, run / "checkpoint")
    for d in (tmp_path / "empty", run / "checkpoint"):
        assert ponder.load(d)[0].config.hidden_size == model.config.hidden_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "mine", "run"]


def test_save_through_a_symlink_replaces_the_checkpoint_it_points_at(tmp_path, tiny_random):
    """A link to a checkpoint kept elsewhere: the target is replaced and the link stays (the link itself was
    renamed aside, left behind, and the next save failed on it with a raw NotADirectoryError)."""
    model, tok = tiny_random
    (tmp_path / "disk").mkdir()
    (tmp_path / "ck").symlink_to(tmp_path / "disk" / "ck")
    for _ in range(3):
        ponder.save(model, tok, tmp_path / "ck")
        assert (tmp_path / "ck").is_symlink() and (tmp_path / "disk" / "ck" / "model.safetensors").is_file()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["ck", "disk"]
        assert [p.name for p in (tmp_path / "disk").iterdir()] == ["ck"]
    assert ponder.load(tmp_path / "ck")[0].config.hidden_size == model.config.hidden_size
    # killed between its renames, the save left the target set aside beside it: recover() through the link (what
    # a resume does) looked beside the link, found nothing, and the run had "no checkpoint"
    import os

    os.replace(tmp_path / "disk" / "ck", tmp_path / "disk" / ".ck.old-4242")
    ponder.checkpoint.recover(tmp_path / "ck")
    assert [p.name for p in (tmp_path / "disk").iterdir()] == ["ck"] and (tmp_path / "ck" / "config.json").is_file()


def test_loading_in_bf16_never_makes_a_float32_copy_of_the_weights(tmp_path, tiny_random):
    """A bf16 checkpoint loaded in bf16 needs bf16 memory only: a float32 model built first and cast after
    doubled the peak (an 8B model: 32 GB on the GPU instead of 16)."""
    import copy

    from torch.utils._python_dispatch import TorchDispatchMode

    model, tok = tiny_random
    ck = ponder.save(copy.deepcopy(model).to(torch.bfloat16), tok, tmp_path / "ck")
    big = {p.numel() for p in model.parameters() if p.dim() == 2}

    class Allocations(TorchDispatchMode):
        float32 = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, (list, tuple)) else [out]:
                if isinstance(t, torch.Tensor) and t.dtype == torch.float32 and t.numel() in big \
                        and t.device.type != "meta":
                    self.float32.append(str(func))
            return out

    with Allocations() as seen:
        m, _ = ponder.load(ck, dtype="bf16")
    assert m.dtype == torch.bfloat16 and m.lm_head.weight is m.embed_tokens.weight
    assert seen.float32 == []


def test_loading_streams_the_weights_into_the_model(tmp_path):
    """A bf16 checkpoint loaded in fp32 (the CPU default) peaks at the model plus the mapped file: the
    weights are copied into the model tensor by tensor. Reading them all into a dict first held a second
    fp32 copy (peak growth 1.6 GB against 1.0 GB now for a 640 MB fp32 model)."""
    import subprocess
    import sys

    cfg = ponder.ModelConfig(vocab_size=8192, hidden_size=512, intermediate_size=1536, num_hidden_layers=6,
                             num_attention_heads=8, num_key_value_heads=4, tie_word_embeddings=False)
    m = ponder.Transformer(cfg).to(torch.bfloat16)
    fp32_mb = sum(p.numel() for p in m.parameters()) * 4 / 2**20
    _, tok = ponder.load("tiny")
    ponder.save(m, tok, tmp_path / "ck")
    del m
    code = ("import resource, ponder; b = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            f"m, _ = ponder.load({str(tmp_path / 'ck')!r}, dtype='float32'); "
            "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - b) / 1024)")
    grew = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert grew < 1.3 * fp32_mb, (grew, fp32_mb)  # measured 0.8x; reading into a dict first: 1.8x


def test_transformers_sharded_checkpoint_loads_and_resaves(tmp_path, tokenizer):
    """A checkpoint as transformers writes a large model (shards + model.safetensors.index.json, a v5
    config.json with rope_parameters and layer_types) loads with transformers' logits, and what ponder saves
    from it transformers loads back with the same logits."""
    transformers = pytest.importorskip("transformers")
    cfg = transformers.Qwen3Config(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                   num_attention_heads=4, num_key_value_heads=1, head_dim=32,
                                   tie_word_embeddings=False, rope_parameters={
                                       "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32,
                                       "rope_theta": 1e6})
    torch.manual_seed(0)
    hf = transformers.Qwen3ForCausalLM(cfg).eval()
    hf.save_pretrained(tmp_path / "hf", max_shard_size="50KB")
    tokenizer.save(tmp_path / "hf")
    assert (tmp_path / "hf" / "model.safetensors.index.json").is_file()
    assert not (tmp_path / "hf" / "model.safetensors").exists()
    model, tok = ponder.load(tmp_path / "hf")
    x = torch.randint(0, 300, (2, 120))
    with torch.no_grad():
        ref = hf(x).logits
        assert (ref - model(x)).abs().max().item() < 1e-4
        ponder.save(model, tok, tmp_path / "again")
        back = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "again", dtype=torch.float32).eval()
        assert (ref - back(x).logits).abs().max().item() < 1e-4


@pytest.mark.parametrize("head", ["different", "equal", "without_embedding"])
def test_tied_config_with_an_lm_head_in_the_file_loads_as_transformers_loads_it(tmp_path, tokenizer, head):
    """tie_word_embeddings=true but lm_head.weight written too: transformers ties only a head equal to the
    embedding, uses a different one as written (untied) and, with no embedding in the file, ties the other
    way round. Used to be: the head in the file ignored (logits off by 30), and a head without an embedding
    refused as a missing tensor."""
    transformers = pytest.importorskip("transformers")
    cfg = transformers.Qwen3Config(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=1,
                                   num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                                   tie_word_embeddings=True)
    torch.manual_seed(0)
    transformers.Qwen3ForCausalLM(cfg).save_pretrained(tmp_path / "ck")
    tokenizer.save(tmp_path / "ck")
    f = tmp_path / "ck" / "model.safetensors"
    s = load_file(f)
    s["lm_head.weight"] = s["model.embed_tokens.weight"].clone() if head == "equal" else torch.randn(320, 64)
    if head == "without_embedding":
        del s["model.embed_tokens.weight"]
    save_file(s, f, metadata={"format": "pt"})
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "ck", dtype=torch.float32).eval()
    model, tok = ponder.load(tmp_path / "ck")
    assert (model.lm_head.weight is model.embed_tokens.weight) == (head != "different")
    x = torch.randint(0, 300, (1, 20))
    with torch.no_grad():
        ref = hf(x).logits
        assert (ref - model(x)).abs().max().item() < 1e-4
        ponder.save(model, tok, tmp_path / "again")  # and what is saved from it reads back the same
        assert (ref - ponder.load(tmp_path / "again")[0](x)).abs().max().item() < 1e-4


@pytest.mark.parametrize("tied", [True, False])
def test_base_model_tensor_names_without_the_model_prefix_load_as_transformers_loads_them(tmp_path, tiny_random, tied):
    """A checkpoint saved from the base model (AutoModel; Qwen3-Embedding's files) names its tensors
    "embed_tokens.weight", "layers.0...", without "model.": transformers adds the prefix, here it was refused as
    "unexpected tensor 'embed_tokens.weight'". An lm_head beside them keeps its name."""
    model, tok = tiny_random
    m = ponder.Transformer(model.config).init_weights(1, std=0.2).eval()
    if not tied:
        m.config = ponder.ModelConfig(**{**vars(model.config), "tie_word_embeddings": False})
        m.lm_head = torch.nn.Linear(64, 320, bias=False)
    ck = ponder.save(m, tok, tmp_path / "ck")
    f = ck / "model.safetensors"
    save_file({k.removeprefix("model."): v for k, v in load_file(f).items()}, f, metadata={"format": "pt"})
    back, _ = ponder.load(ck)
    assert (back.lm_head.weight is back.embed_tokens.weight) == tied
    x = torch.randint(0, 300, (1, 12))
    with torch.no_grad():
        assert torch.equal(back(x), m(x))


@pytest.mark.parametrize("name", ["pytorch_model.bin", "pytorch_model.bin.index.json"])
def test_pickle_weights_only_are_named_and_never_unpickled(tmp_path, tiny_random, name, monkeypatch):
    """A checkpoint with only pytorch_model.bin (older hub repositories) said "no model.safetensors or
    model.safetensors.index.json", as if it held no weights: it now names the file, why it is not read (a pickle
    can run code) and how to convert it; torch.load is never called."""
    model, tok = tiny_random
    ponder.save(model, tok, tmp_path / "ck")
    (tmp_path / "ck" / "model.safetensors").rename(tmp_path / "ck" / name)
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(PonderError) as e:
        ponder.load(tmp_path / "ck")
    msg = str(e.value)
    assert "\n" not in msg and f"holds {name}" in msg and "pickle" in msg and "save_pretrained" in msg


def test_a_hub_cache_entry_names_its_snapshot(tmp_path, tiny_random):
    """A model in the Hugging Face cache (models--ORG--NAME, its files in snapshots/HASH, refs/main naming the
    hash) said only "not a checkpoint (expected a directory with config.json)": it now names the snapshot."""
    model, tok = tiny_random
    entry = tmp_path / "models--org--tiny"
    ponder.save(model, tok, entry / "snapshots" / "abc123")
    (entry / "snapshots" / "old").mkdir()
    (entry / "refs").mkdir()
    (entry / "refs" / "main").write_text("abc123")
    with pytest.raises(PonderError, match=rf"^{re.escape(str(entry))}: is a Hugging Face cache entry, not a "
                                          rf"checkpoint; its checkpoint is {re.escape(str(entry / 'snapshots' / 'abc123'))}$"):
        ponder.load(entry)


@pytest.mark.parametrize("case", ["no_tokenizer", "tokenizer_larger"])
def test_a_tokenizer_that_cannot_serve_is_refused_before_any_weight_is_read(tmp_path, tiny_random, monkeypatch, case):
    """A checkpoint without tokenizer.json (a model saved alone), or whose tokenizer has more tokens than the
    model, failed only after all its weights were read: minutes for a large model. Now before the first header."""
    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    if case == "no_tokenizer":
        (ck / "tokenizer.json").unlink()
    else:
        cfg = json.loads((ck / "config.json").read_text())
        (ck / "config.json").write_text(json.dumps({**cfg, "vocab_size": tok.vocab_size - 1}))
    monkeypatch.setattr("ponder.checkpoint.safe_open", lambda *a, **k: pytest.fail("weights read"))
    with pytest.raises(PonderError, match="no tokenizer.json" if case == "no_tokenizer" else "tokenizer has"):
        ponder.load(ck)


def test_a_result_or_run_directory_is_not_taken_for_an_unknown_architecture(tmp_path):
    """`ponder info EVAL_DIR` (or --model pointing at an eval/sweep result, or at a run stopped before its first
    checkpoint) said "config.json: unsupported architecture model_type=None []": that config.json is Ponder's own
    record of the result or run, and the message now says which."""
    for kind, what in (("eval", "an 'eval' result"), ("sweep", "a 'sweep' result"), ("sft", "an 'sft' run")):
        d = tmp_path / kind
        d.mkdir()
        (d / "config.json").write_text(json.dumps({"kind": kind, "model": "tiny", "seed": 0}))
        with pytest.raises(PonderError, match=rf"^{re.escape(str(d))}: holds {what}, not a model checkpoint"):
            ponder.load(d)


def test_a_hub_id_that_is_not_a_local_directory_says_how_to_fetch_it(tmp_path, monkeypatch):
    """`--model Qwen/Qwen3-0.6B`, as transformers takes it, said only "no such checkpoint directory": nothing
    said that Ponder reads local directories and fetches nothing. A path whose folder exists is a plain miss."""
    from ponder.checkpoint import resolve

    monkeypatch.chdir(tmp_path)
    with pytest.raises(PonderError, match=r"^Qwen/Qwen3-0\.6B: no such checkpoint directory \(a Hugging Face Hub id "
                                          r"is not downloaded here: .*download Qwen/Qwen3-0\.6B --local-dir DIR"):
        resolve("Qwen/Qwen3-0.6B")
    (tmp_path / "runs").mkdir()
    for miss in ("runs/typo", str(tmp_path / "x"), "nothing"):
        with pytest.raises(PonderError, match=r"no such checkpoint directory$"):
            resolve(miss)


def test_a_checkpoint_whose_save_was_killed_between_its_renames_still_loads(tmp_path, tiny_random, monkeypatch):
    """kill -9 between save's two renames leaves the previous checkpoint aside as .NAME.old-PID: loading it said
    "no such checkpoint directory" until a save or a resume put it back. Loading puts it back; while that save's
    process still runs (between its renames this instant) it is left alone and the load says so."""
    from ponder import checkpoint

    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    before = (ck / "model.safetensors").read_bytes()
    os.replace(ck, tmp_path / ".ck.old-4242")
    monkeypatch.setattr(checkpoint, "_alive", lambda pid: pid == 4242)
    with pytest.raises(PonderError, match=r"ck: is being replaced by a save in progress \(pid 4242\)"):
        ponder.load(ck)
    assert [p.name for p in tmp_path.iterdir()] == [".ck.old-4242"]
    monkeypatch.setattr(checkpoint, "_alive", lambda pid: False)
    ponder.load(ck)
    assert (ck / "model.safetensors").read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["ck"]


def test_a_save_killed_between_its_renames_under_a_pid_alive_again_still_loads(tmp_path, tiny_random, monkeypatch):
    """The killed save's pid belongs to a live process again (a container's pid 1 after a restart): the old
    checkpoint, set aside long before, is no save in progress. It was 'being replaced by a save in progress'
    for good; put back."""
    import time

    from ponder import checkpoint

    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    os.replace(ck, tmp_path / ".ck.old-1")
    monkeypatch.setattr(checkpoint, "_alive", lambda pid: True)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 3600)  # an hour after the kill
    ponder.load(ck)
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]


def test_a_shard_index_naming_no_tensor_is_named(tmp_path, tiny_random):
    """An index with an empty weight_map: `ponder info` (and a GPU load) of a config naming no dtype failed with an
    IndexError traceback looking for the first shard's dtype; the weights digest was that of no tensor."""
    from ponder import checkpoint

    def edit(ck):
        (ck / "model.safetensors").unlink()
        (ck / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": {}}))
        cfg = json.loads((ck / "config.json").read_text())
        del cfg["torch_dtype"]
        (ck / "config.json").write_text(json.dumps(cfg))
    ck = _broken(tmp_path, tiny_random, edit)
    for read in (lambda: checkpoint.checkpoint_dtype(checkpoint.load_config(ck), ck), lambda: ponder.load(ck),
                 lambda: checkpoint.weights_sha256(ck)):
        with pytest.raises(PonderError, match="weight_map names no tensor") as e:
            read()
        _one_line_naming(e, ck / "model.safetensors.index.json")


@pytest.mark.parametrize("dtype", [torch.int8, torch.int32, torch.bool])
def test_a_weight_stored_in_an_integer_dtype_is_named(tmp_path, tiny_random, dtype):
    """A weight of an integer or bool dtype (quantized by hand, an export gone wrong) was cast into the float
    parameter silently: a model of rounded or 0/1 weights. One line naming the file, tensor and dtype."""
    def edit(ck):
        s = load_file(ck / "model.safetensors")
        s["model.norm.weight"] = s["model.norm.weight"].to(dtype)
        save_file(s, ck / "model.safetensors", metadata={"format": "pt"})
    ck = _broken(tmp_path, tiny_random, edit)
    with pytest.raises(PonderError, match=r"tensor 'model.norm.weight' is stored as (I8|I32|BOOL), not a floating"):
        ponder.load(ck)


def test_a_tensor_in_two_shards_is_named(tmp_path, tiny_random):
    """The same tensor in two shards (a hand-merged or re-sharded checkpoint): whichever shard was read last won
    silently, whatever the other copy held. One line naming both shards."""
    def edit(ck):
        s = load_file(ck / "model.safetensors")
        a = {k: v for i, (k, v) in enumerate(s.items()) if i % 2 == 0}
        b = {k: v for k, v in s.items() if k not in a} | {"model.norm.weight": torch.zeros_like(s["model.norm.weight"])}
        save_file(a | {"model.norm.weight": s["model.norm.weight"]}, ck / "a.safetensors", metadata={"format": "pt"})
        save_file(b, ck / "b.safetensors", metadata={"format": "pt"})
        (ck / "model.safetensors").unlink()
        wm = {k: "a.safetensors" if k in a or k == "model.norm.weight" else "b.safetensors" for k in s}
        (ck / "model.safetensors.index.json").write_text(json.dumps({"weight_map": wm}))
    ck = _broken(tmp_path, tiny_random, edit)
    with pytest.raises(PonderError, match=r"b.safetensors: tensor 'model.norm.weight' is also in a.safetensors") as e:
        ponder.load(ck)
    _one_line_naming(e, ck / "b.safetensors")


def test_two_loads_putting_back_an_interrupted_save_at_once_both_load(tmp_path, tiny_random, monkeypatch):
    """Two processes loading the checkpoint a killed save left aside: the one whose rename lost the race found the
    old directory gone, and must load the checkpoint the other put back, not say it 'could not be put back'."""
    from ponder import checkpoint

    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    os.replace(ck, tmp_path / ".ck.old-4242")
    monkeypatch.setattr(checkpoint, "_alive", lambda pid: False)
    real = checkpoint.recover

    def raced(path):  # the other process's rename lands first
        real(path)
        raise FileNotFoundError(2, "No such file or directory")
    monkeypatch.setattr(checkpoint, "recover", raced)
    _same_weights(ponder.load(ck)[0], model)


@pytest.mark.parametrize("sharded", [False, True])
def test_weights_left_as_a_broken_link_are_named_so(tmp_path, tiny_random, sharded):
    """A hub cache snapshot links its files to ../../blobs; a blob deleted or never fetched left a weights file
    there, shown by ls, yet the load said "no model.safetensors or model.safetensors.index.json" (or the shard is
    "missing"). One line naming the link and where it points."""
    def edit(ck):
        name = "model.safetensors"
        if sharded:
            name = "model-00001-of-00001.safetensors"
            (ck / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {
                k: name for k in load_file(ck / "model.safetensors")}}))
        (ck / "model.safetensors").unlink()
        (ck / name).symlink_to("../../blobs/0123abcd")
    ck = _broken(tmp_path, tiny_random, edit)
    with pytest.raises(PonderError, match=r"a link to \.\./\.\./blobs/0123abcd, which does not exist") as e:
        ponder.load(ck)
    _one_line_naming(e, ck)


def test_a_shard_named_two_ways_in_the_index_is_one_shard(tmp_path, tiny_random):
    """weight_map naming one shard as "a.safetensors" and "./a.safetensors": read once, not taken for two shards
    holding the same tensors."""
    def edit(ck):
        names = list(load_file(ck / "model.safetensors"))
        os.replace(ck / "model.safetensors", ck / "a.safetensors")
        wm = {k: ("./" if i % 2 else "") + "a.safetensors" for i, k in enumerate(names)}
        (ck / "model.safetensors.index.json").write_text(json.dumps({"weight_map": wm}))
    _same_weights(ponder.load(_broken(tmp_path, tiny_random, edit))[0], tiny_random[0])


@pytest.mark.parametrize("name", ["config.json", "generation_config.json"])
def test_a_config_left_as_a_broken_link_is_named_so(tmp_path, tiny_random, name):
    """A hub cache snapshot's config.json linking to a blob that is gone was "not a checkpoint (expected a directory
    with config.json)", with config.json there in ls; such a generation_config.json was taken as absent, the
    authors' sampling settings dropped silently. One line naming the link and where it points."""
    def edit(ck):
        (ck / name).unlink()
        (ck / name).symlink_to("../../blobs/0123abcd")
    ck = _broken(tmp_path, tiny_random, edit)
    with pytest.raises(PonderError, match=r"a link to \.\./\.\./blobs/0123abcd, which does not exist") as e:
        ponder.load(ck)
    _one_line_naming(e, ck / name)


def test_a_save_without_a_tokenizer_keeps_the_generation_configs_stop_ids(tmp_path, tiny_random):
    """save(model, None, path): generation_config.json's eos_token_id was replaced by config.json's one id, so the
    other stop ids (Qwen2.5-Instruct's [<|im_end|>, <|endoftext|>]) were lost and generation ran past them."""
    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    gen = json.loads((ck / "generation_config.json").read_text())
    (ck / "generation_config.json").write_text(json.dumps({**gen, "eos_token_id": [tok.eos_token_id, 7]}))
    m, _ = ponder.load(ck)
    again = ponder.save(m, None, tmp_path / "again")
    assert json.loads((again / "generation_config.json").read_text())["eos_token_id"] == [tok.eos_token_id, 7]


def test_a_load_racing_another_that_puts_the_checkpoint_back_loads_it(tmp_path, tiny_random, monkeypatch):
    """The old checkpoint put back by another loader while this one looks at it: its ctime was read from a
    directory gone by then, a FileNotFoundError traceback."""
    from ponder import checkpoint

    model, tok = tiny_random
    ck = ponder.save(model, tok, tmp_path / "ck")
    os.replace(ck, tmp_path / ".ck.old-4242")

    def other_loader_first(pid):  # (the other loader's rename lands as this one checks the pid)
        if not ck.exists():
            os.replace(tmp_path / ".ck.old-4242", ck)
        return True
    monkeypatch.setattr(checkpoint, "_alive", other_loader_first)
    _same_weights(ponder.load(ck)[0], model)
    assert not (tmp_path / ".ck.old-4242").exists()


class _Compiled(torch.nn.Module):
    """What torch.compile(model) gives (an OptimizedModule: the model as its _orig_mod, attributes forwarded),
    without importing torch._dynamo (seconds)."""

    def __init__(self, model):
        super().__init__()
        self._orig_mod = model

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._orig_mod, name)


@pytest.mark.parametrize("tied", [True, False])
def test_a_compiled_model_saves_as_the_model_it_wraps(tmp_path, tiny_random, tied):
    """`model = torch.compile(model)` then save: its state_dict names every tensor "_orig_mod.*", so a tied model
    failed in safetensors ("Some tensors share memory", a multi-line RuntimeError) and an untied one wrote
    "model._orig_mod.embed_tokens.weight", a checkpoint that neither load nor transformers reads."""
    model, tok = tiny_random
    if not tied:
        model = ponder.Transformer(ponder.ModelConfig(**{**model.config.__dict__, "tie_word_embeddings": False}))
        model.init_weights(1)
    ck = ponder.save(_Compiled(model), tok, tmp_path / "ck")
    assert set(load_file(ck / "model.safetensors")) == set(load_file(ponder.save(model, tok, tmp_path / "plain")
                                                                     / "model.safetensors"))
    _same_weights(ponder.load(ck)[0], model)


def test_a_tokenizer_larger_than_the_model_is_refused_before_the_save_not_at_the_load(tmp_path, tiny_random):
    """A tokenizer with tokens past the model's embedding (tokens added, the model not resized) was saved with it
    without a word: the checkpoint, possibly a run's final one, then failed every load ("tokenizer has N tokens but
    the model only M"). The save refuses it in that line, before anything is written."""
    model, tok = tiny_random
    small = ponder.Transformer(ponder.ModelConfig(**{**model.config.__dict__, "vocab_size": tok.vocab_size - 1}))
    with pytest.raises(PonderError, match=rf"^{re.escape(str(tmp_path / 'ck'))}: tokenizer has token ids up to "
                                          rf"{tok.vocab_size - 1} but the model only {tok.vocab_size - 1} ids "
                                          rf"\(vocab_size {tok.vocab_size - 1}\b[^\n]*$"):
        ponder.save(small, tok, tmp_path / "ck")
    assert list(tmp_path.iterdir()) == []
    ponder.save(small, None, tmp_path / "ck")  # (without a tokenizer there is nothing to disagree)


@pytest.mark.parametrize("dtype", [torch.int8, torch.float8_e4m3fn, torch.complex64])
def test_a_torch_dtype_a_model_cannot_run_in_is_named(dtype):
    """load(dtype=torch.int8) failed in nn.Module.to with a TypeError traceback, and torch.float8_e4m3fn loaded a
    model whose first forward failed ('"neg_cpu" not implemented'): refused in one line, as an unknown name is."""
    from ponder.checkpoint import parse_dtype

    with pytest.raises(PonderError, match=rf"^dtype {re.escape(str(dtype))}: not a dtype a model loads in; "
                                          r"choose from float32, .*float64$"):
        parse_dtype(dtype)
    assert [parse_dtype(d) for d in (torch.float32, torch.bfloat16, torch.float16, torch.float64, "bf16")] == [
        torch.float32, torch.bfloat16, torch.float16, torch.float64, torch.bfloat16]


@pytest.mark.parametrize("config_tied", [True, False])
def test_the_head_is_saved_as_the_model_holds_it_whatever_the_config_says(tmp_path, tiny_random, config_tied):
    """A head untied in code (model.lm_head = nn.Linear(...) before fine-tuning) under a config still saying
    tie_word_embeddings=true was dropped by save without a word: the checkpoint loaded with the embedding as its
    head (logits off by 2). A head tied in code under an untied config failed in safetensors ("Some tensors share
    memory", a multi-line RuntimeError). Both now load back with the model's own logits."""
    model, tok = tiny_random
    m = ponder.Transformer(ponder.ModelConfig(**{**model.config.__dict__, "tie_word_embeddings": config_tied}))
    m.init_weights(1, std=0.2).eval()
    if config_tied:
        m.lm_head = torch.nn.Linear(64, 320, bias=False)
    else:
        m.lm_head.weight = m.embed_tokens.weight
    x = torch.randint(0, 300, (1, 12))
    with torch.no_grad():
        want = m(x)
        back = ponder.load(ponder.save(m, tok, tmp_path / "ck"))[0]
        assert torch.equal(back(x), want)


def test_a_model_resized_without_its_config_is_refused_before_the_save_not_at_the_load(tmp_path, tiny_random):
    """Embedding and head grown for added tokens (model.embed_tokens = nn.Embedding(400, 64), ...) with
    config.vocab_size left at 320: the save wrote a config.json that does not describe its weights, and every load
    of the checkpoint then failed ("tensor ... has shape (400, 64), config implies (320, 64)"). The save refuses it
    in one line naming the tensor, before anything is written."""
    model, tok = tiny_random
    m = ponder.Transformer(ponder.ModelConfig(**model.config.__dict__))
    m.embed_tokens = torch.nn.Embedding(400, 64)
    m.lm_head = torch.nn.Linear(64, 400, bias=False)
    m.lm_head.weight = m.embed_tokens.weight
    with pytest.raises(PonderError, match=r"^[^\n]*'embed_tokens.weight' has shape \(400, 64\)[^\n]*vocab_size[^\n]*$"):
        ponder.save(m, tok, tmp_path / "ck")
    assert list(tmp_path.iterdir()) == []


def test_a_model_with_layers_added_without_its_config_is_refused_before_the_save(tmp_path, tiny_random):
    """A layer appended (model.layers.append(...)) with num_hidden_layers left at 2: the save wrote it, every load
    then refused it ("the weights hold 3 layers") and transformers silently dropped the layer. Refused in one line
    naming the extra tensor and the field, nothing written."""
    model, tok = tiny_random
    m = ponder.Transformer(ponder.ModelConfig(**model.config.__dict__))
    m.layers.append(ponder.Transformer(m.config).layers[0])
    with pytest.raises(PonderError, match=r"^[^\n]*'layers\.2\.[^\n]*num_hidden_layers=2[^\n]*$"):
        ponder.save(m, tok, tmp_path / "ck")
    assert list(tmp_path.iterdir()) == []


def test_a_model_with_layers_removed_without_its_config_is_refused_before_the_save(tmp_path, tiny_random):
    """Layers pruned (model.layers = model.layers[:1]) with num_hidden_layers left at 2: the save wrote it, and every
    load then failed ("num_hidden_layers is 2, but the weights hold 1 layers"; transformers would fill the missing
    layer with random weights). Refused in one line naming a missing tensor and the field, nothing written."""
    model, tok = tiny_random
    m = ponder.Transformer(ponder.ModelConfig(**model.config.__dict__))
    m.layers = m.layers[:1]
    with pytest.raises(PonderError, match=r"^[^\n]*'layers\.1\.[^\n]*num_hidden_layers=2[^\n]*$"):
        ponder.save(m, tok, tmp_path / "ck")
    assert list(tmp_path.iterdir()) == []


def _holey_tokenizer():
    """6 tokens with ids up to 9 (5..8 unused, as in a tiktoken conversion): vocab_size 10."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, pre_tokenizers

    vocab = {"<unk>": 0, "</s>": 1, "▁a": 2, "▁b": 3, "▁q": 4, "▁z": 9}
    hf = HFTokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    hf.pre_tokenizer, hf.decoder = pre_tokenizers.Metaspace(), decoders.Metaspace()
    hf.add_special_tokens(["<unk>", "</s>"])
    return ponder.Tokenizer(hf, eos_token="</s>")


def test_a_tokenizer_past_the_model_is_named_by_its_ids_not_a_token_count(tmp_path, capsys):
    """vocab_size is the bound of the ids (87f5207), not the token count: a vocabulary of 6 tokens with ids up to 9
    was said to have "10 tokens" where a model of 8 ids could not hold it. The ids are said, and `ponder info` says
    both numbers."""
    from ponder.cli import main

    tok = _holey_tokenizer()
    cfg = dict(hidden_size=16, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1)
    small = ponder.Transformer(ponder.ModelConfig(vocab_size=8, **cfg))
    with pytest.raises(PonderError, match=r"tokenizer has token ids up to 9 but the model only 8 ids \(vocab_size 8;"):
        ponder.save(small, tok, tmp_path / "small")
    ponder.save(ponder.Transformer(ponder.ModelConfig(vocab_size=16, **cfg)), tok, tmp_path / "ck")
    capsys.readouterr()
    assert main(["info", str(tmp_path / "ck"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["vocab_size"], info["tokenizer_vocab"], info["tokenizer_tokens"]) == (16, 10, 6)


@pytest.mark.parametrize("field, value, said", [("num_hidden_layers", 0, "must be a positive integer, got 0"),
                                                ("intermediate_size", 16.0, "must be a positive integer, got 16.0"),
                                                ("rms_norm_eps", 0.0, "must be a positive number, got 0.0")])
def test_save_refuses_a_config_edited_past_its_own_checks_before_writing(tmp_path, field, value, said):
    """A config edited after the model was built (its layers removed and num_hidden_layers = 0, a float size, a zero
    epsilon) was saved without a word, and every load then refused the config.json (a float size was a bare
    TypeError from torch). The save runs the config's own checks first, naming the field; nothing is written."""
    cfg = dict(vocab_size=32, hidden_size=16, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
               num_key_value_heads=1)
    model = ponder.Transformer(ponder.ModelConfig(**cfg))
    if field == "num_hidden_layers":
        model.layers = torch.nn.ModuleList()
    setattr(model.config, field, value)
    with pytest.raises(PonderError, match=rf"^{re.escape(str(tmp_path / 'ck'))}: model.config: "
                                          rf"{re.escape(field)}[^\n]*"
                                          rf"{re.escape(said)}[^\n]*not saved$"):
        ponder.save(model, None, tmp_path / "ck")
    assert list(tmp_path.iterdir()) == []
    assert getattr(model.config, field) == value  # (checked on a copy)


@pytest.mark.parametrize("field, value", [("torch_dtype", torch.bfloat16), ("torch_dtype", "int8"),
                                          ("eos_token_id", (1, 2))])
def test_save_checks_the_fields_it_writes_itself_as_written(tmp_path, tokenizer, field, value):
    """save writes torch_dtype from the weights' dtype (and eos_token_id from the tokenizer when the config has none);
    its config check ran on the config as held, so a torch_dtype kept as a torch.dtype (as transformers' configs
    hold it) or a tuple eos_token_id was refused, 'not saved', though the config.json written loads."""
    cfg = dict(vocab_size=320, hidden_size=16, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
               num_key_value_heads=1)
    model = ponder.Transformer(ponder.ModelConfig(**cfg))
    setattr(model.config, field, value)
    ponder.save(model, tokenizer, tmp_path / "ck")
    written = json.loads((tmp_path / "ck" / "config.json").read_text())
    assert written["torch_dtype"] == "float32"
    assert written["eos_token_id"] == ([1, 2] if field == "eos_token_id" else tokenizer.eos_token_id)
    m, _ = ponder.load(tmp_path / "ck")
    assert m.config.torch_dtype == "float32"


@pytest.mark.parametrize("config_eos, gen_eos", [(7, [9, 7]), (7, 7), (0, [2, 0]), ([7, 9], None)])
def test_a_load_save_round_trip_keeps_the_eos_ids_as_transformers_does(tmp_path, tokenizer, config_eos, gen_eos):
    """config.json's eos_token_id was replaced by the tokenizer's when it did not name it (Llama 3 Instruct's
    128001 under a tokenizer ending on <|eot_id|>), and generation_config.json's list was written sorted
    (Qwen3's [151645, 151643] came back [151643, 151645]). Both stay as transformers' save_pretrained writes them;
    the tokenizer's stop ids they leave out come after generation_config.json's own."""
    transformers = pytest.importorskip("transformers")
    cfg = transformers.Qwen3Config(vocab_size=320, hidden_size=32, intermediate_size=48, num_hidden_layers=1,
                                   num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                                   eos_token_id=config_eos)
    hf = transformers.Qwen3ForCausalLM(cfg)
    if gen_eos is not None:
        hf.generation_config.eos_token_id = gen_eos
    hf.save_pretrained(tmp_path / "hf")
    tokenizer.save(tmp_path / "hf")
    transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "hf").save_pretrained(tmp_path / "ref")
    model, tok = ponder.load(tmp_path / "hf")
    ponder.save(model, tok, tmp_path / "ours")

    def eos(d, f):
        return json.loads((tmp_path / d / f).read_text()).get("eos_token_id")

    assert eos("ours", "config.json") == eos("ref", "config.json") == config_eos
    ref = eos("ref", "generation_config.json")
    ids = ref if isinstance(ref, list) else [ref]
    more = [i for i in [tok.eos_token_id, *sorted(tok.stop_token_ids)] if i not in ids]
    assert eos("ours", "generation_config.json") == (ids + list(dict.fromkeys(more)) if more else ref)
    assert ponder.load(tmp_path / "ours")[1].stop_token_ids == tok.stop_token_ids


@pytest.mark.parametrize("pad", [None, 5])
def test_a_load_save_round_trip_keeps_the_configs_pad_id_so_transformers_trains_the_eos_row(tmp_path, tokenizer, pad):
    """save wrote the tokenizer's pad id (its EOS, when it has no pad token) into a config.json naming none, as
    Qwen's and Llama 3's do; transformers makes config.pad_token_id its embedding's padding_idx, whose row gets no
    gradient: a transformers fine-tune of the re-saved checkpoint never trained the EOS embedding. The config's
    own pad_token_id stays, as transformers' save_pretrained keeps it."""
    transformers = pytest.importorskip("transformers")
    cfg = transformers.Qwen3Config(vocab_size=320, hidden_size=32, intermediate_size=48, num_hidden_layers=1,
                                   num_attention_heads=2, num_key_value_heads=1, head_dim=16, pad_token_id=pad,
                                   eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False)
    transformers.Qwen3ForCausalLM(cfg).save_pretrained(tmp_path / "hf")
    tokenizer.save(tmp_path / "hf")
    ponder.save(*ponder.load(tmp_path / "hf"), tmp_path / "ours")
    assert json.loads((tmp_path / "ours" / "config.json").read_text()).get("pad_token_id") == pad
    back = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "ours")
    assert back.model.embed_tokens.padding_idx == pad
    x = torch.tensor([[3, tokenizer.eos_token_id, 4, tokenizer.eos_token_id]])
    back(x, labels=x).loss.backward()
    assert back.model.embed_tokens.weight.grad[tokenizer.eos_token_id].abs().sum() > 0
