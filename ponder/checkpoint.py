"""Hugging Face-format checkpoints: `load(path) -> (model, tokenizer)` and `save(model, tokenizer, path)`.

A directory holds config.json, model.safetensors (or shards with model.safetensors.index.json),
tokenizer.json and tokenizer_config.json. What `save` writes, `transformers.AutoModelForCausalLM`
loads; what HF writes, `load` reads. `save` is atomic: it writes a sibling temporary directory and
renames it into place, so an interrupted save never leaves a half-written checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import glob
import hashlib
import json
import math
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .errors import PonderError
from .fileio import OutputError, dir_mode, file_mode, git_lfs_pointer, make_parent, read_text
from .model import ModelConfig, Transformer, _json_type
from .tokenizer import Tokenizer

DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
          "float16": torch.float16, "fp16": torch.float16}
ASSETS = Path(__file__).parent / "assets"


def resolve(path: str | os.PathLike) -> Path:
    """A checkpoint directory; the name `tiny` means the base model shipped in the package."""
    if str(path) == "tiny":
        p = ASSETS / "tiny"
        if not (p / "config.json").is_file():
            raise PonderError("the built-in tiny model is missing from the package (assets/tiny); "
                              "rebuild it with the command in README 'The tiny base model'")
        return p
    p = Path(path)
    if not p.exists():
        _put_back(p)
    if not p.exists():
        # "Qwen/Qwen3-0.6B", as transformers takes it: a Hub id, which is not fetched here (said, not only "no such")
        hub = (re.fullmatch(r"[\w.-]+/[\w.-]+", str(path)) and not p.parent.exists()
               and " (a Hugging Face Hub id is not downloaded here: fetch it first, e.g. huggingface-cli download "
               f"{path} --local-dir DIR, and pass DIR)")
        raise PonderError(f"{p}: no such checkpoint directory{hub or ''}")
    try:  # a directory the user may not enter (another user's, mode 700) failed below on a path inside it
        (p / "config.json").stat()
    except PermissionError as e:
        raise PonderError(f"{p}: cannot read the directory ({e.strerror or e})") from None
    except OSError:
        pass
    if (p / "checkpoint" / "config.json").is_file() and not any((p / f).exists() for f in (
            "model.safetensors", "model.safetensors.index.json")):
        raise PonderError(f"{p}: is a training run directory; its model is {p / 'checkpoint'}")
    if not p.is_dir() or not (p / "config.json").is_file():
        if (p / "config.json").is_symlink():  # (said "expected a directory with config.json", one in ls)
            raise PonderError(f"{p / 'config.json'}: {_dangling(p / 'config.json')}")
        snap = _hub_cache_snapshot(p)
        if snap is not None:  # ~/.cache/huggingface/hub/models--ORG--NAME: the files are one level below
            raise PonderError(f"{p}: is a Hugging Face cache entry, not a checkpoint; its checkpoint is {snap}")
        raise PonderError(f"{p}: not a checkpoint (expected a directory with config.json)")
    return p


def _put_back(p: Path) -> None:
    """A checkpoint missing because a save was killed between its two renames (the previous one set aside as
    .NAME.old-PID) is put back, as the next save would: loading it said "no such checkpoint directory"."""
    real = Path(os.path.realpath(p))
    olds = list(real.parent.glob(f".{glob.escape(real.name)}.old-*")) if real.parent.is_dir() else []
    # A save is between its renames for an instant: one set aside a minute ago (the rename set its ctime) is a
    # killed save's, whatever process has its id now (a container's pid 1 is alive at every restart)
    live = [pid for o in olds if (pid := o.name.rsplit("-", 1)[-1]).isdigit() and int(pid) != os.getpid()
            and _alive(int(pid)) and time.time() - _ctime(o) < 60]
    if live:  # that process is between its renames this instant: moving its old one back would fail its save
        raise PonderError(f"{p}: is being replaced by a save in progress (pid {live[0]}); try again")
    if olds:
        try:
            recover(p)
        except OSError as e:
            if p.exists():  # another process put it back first
                return
            raise PonderError(f"{p}: missing after an interrupted save; the previous checkpoint is {olds[0]}, "
                              f"which could not be put back ({e.strerror or e})") from None


def _ctime(f: Path) -> float:
    try:
        return f.stat().st_ctime
    except OSError:  # (another process put it back just now)
        return 0.0


def _hub_cache_snapshot(p: Path) -> Path | None:
    """The snapshot directory holding the checkpoint of a Hugging Face hub cache entry `p` (models--ORG--NAME):
    the one refs/main names, else the newest with a config.json; None if `p` is no such entry."""
    snaps = p / "snapshots"
    if not snaps.is_dir():
        return None
    main = p / "refs" / "main"
    ref = main.read_text(errors="replace").strip() if main.is_file() else ""
    if ref and (snaps / ref / "config.json").is_file():
        return snaps / ref
    found = [d for d in snaps.iterdir() if (d / "config.json").is_file()]
    return max(found, key=lambda d: d.stat().st_mtime) if found else None


def parse_dtype(dtype) -> torch.dtype | None:
    if dtype is None:
        return dtype
    if isinstance(dtype, torch.dtype):  # (int8 failed in nn.Module.to; float8 loaded a model no forward runs in)
        if dtype not in (*DTYPES.values(), torch.float64):
            raise PonderError(f"dtype {dtype}: not a dtype a model loads in; choose from float32, bfloat16, "
                              "float16, float64")
        return dtype
    if dtype not in DTYPES:
        raise PonderError(f"unknown dtype {dtype!r}; choose from {', '.join(DTYPES)}")
    return DTYPES[dtype]


def parse_device(device: str | torch.device) -> torch.device:
    """A torch.device that exists here; PonderError naming the device and what there is otherwise."""
    name = str(device)
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise PonderError(f"unknown device {name!r}; available: {', '.join(_available_devices())}") from None
    if dev.type == "cpu" and dev.index not in (None, 0):  # (torch takes "cpu:1" and puts every tensor on the one
        # CPU device: the index did nothing, silently; cpu:0 is that device)
        raise PonderError(f"device {name!r}: the CPU is one device, with no index to choose (--threads sets how "
                          "many of its cores run); use --device cpu")
    if dev.type in ("cpu", "meta"):
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            built = torch.version.cuda is not None or getattr(torch.version, "hip", None) is not None
            why = "no GPU found" if built else "torch was built without CUDA"
            raise PonderError(f"device {name!r} is not available ({why}); use --device cpu")
        n = torch.cuda.device_count()
        if dev.index is not None and dev.index >= n:
            raise PonderError(f"device {name!r} is not available: {n} GPU{'s' * (n != 1)} here; "
                              f"available: {', '.join(_available_devices())}")
        return dev
    mps = getattr(torch.backends, "mps", None)
    if dev.type == "mps" and not (mps is not None and mps.is_available()):
        raise PonderError(f"device {name!r} is not available (no Apple GPU, or torch built without MPS); "
                          f"available: {', '.join(_available_devices())}")
    try:  # xpu, ...: a backend torch knows by name, which may still be missing here
        torch.empty(0, device=dev)
    except Exception as e:  # (each backend raises its own type)
        why = " ".join(str(e).split()).split(". ")[0][:120]  # its first sentence
        raise PonderError(f"device {name!r} is not available ({why}); "
                          f"available: {', '.join(_available_devices())}") from None
    return dev


def _available_devices() -> list[str]:
    out = ["cpu"]
    if torch.cuda.is_available():
        out += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def read_json_object(f: Path, unique_keys: bool = False) -> dict:
    """The JSON object in `f`; PonderError naming the file if it is unreadable, not UTF-8, not JSON or not
    an object. `unique_keys`: a key given twice in one object is refused too (a hand-edited run config.json, where
    json keeps the last value silently)."""
    text = read_text(f, "utf-8-sig")
    try:
        if unique_keys:
            from ponder.tasks.data import DuplicateKey
            from ponder.tasks.data import unique_keys as hook

            try:
                d = json.loads(text, object_pairs_hook=hook)
            except DuplicateKey as e:
                raise PonderError(e.message(str(f))) from None
        else:
            d = json.loads(text)
    except ValueError as e:
        raise PonderError(f"{f}: invalid JSON: {e}") from None
    except RecursionError:
        raise PonderError(f"{f}: invalid JSON: nested too deeply") from None
    if not isinstance(d, dict):
        raise PonderError(f"{f}: expected a JSON object, got {_json_type(d)}")
    return d


def load_config(path: Path) -> ModelConfig:
    f = path / "config.json"
    cfg = read_json_object(f)
    if isinstance(cfg.get("kind"), str) and "model_type" not in cfg and "architectures" not in cfg:
        # Ponder's own record of a result or run (an eval's --out): "unsupported architecture model_type=None"
        from ponder.train import kind_phrase

        raise PonderError(f"{path}: holds {kind_phrase(cfg)}, not a model checkpoint")
    return ModelConfig.from_hf(cfg, source=str(f))


def _weight_files(path: Path) -> list[Path]:
    single = path / "model.safetensors"
    if single.is_file():
        return [single]
    if single.is_symlink():  # (a hub cache snapshot whose blob is gone was "no model.safetensors")
        raise PonderError(f"{single}: {_dangling(single)}")
    index = path / "model.safetensors.index.json"
    if index.is_file():
        wm = read_json_object(index).get("weight_map")
        if not isinstance(wm, dict) or not all(isinstance(v, str) and v for v in wm.values()):
            got = "missing" if wm is None else _json_type(wm) if not isinstance(wm, dict) else "not all names"
            raise PonderError(f"{index}: expected {{\"weight_map\": {{tensor name: shard file name}}}}; "
                              f"weight_map is {got}")
        if not wm:  # (the dtype of "the first shard" and a resume's weights digest read nothing: an IndexError)
            raise PonderError(f"{index}: weight_map names no tensor")
        for f in wm.values():  # a shard is a file of this checkpoint: "../other/x.safetensors" would load another's
            if Path(f).is_absolute() or ".." in Path(f).parts:
                raise PonderError(f"{index}: shard {f!r} is outside the checkpoint directory")
        files = [path / f for f in dict.fromkeys(map(os.path.normpath, wm.values()))]  # (./a and a: one shard)
        for f in files:
            if not f.is_file():
                link = f" ({_dangling(f)})" if f.is_symlink() else ""
                raise PonderError(f"{index}: shard {f.name} is missing{link}")
        return files
    for name in ("pytorch_model.bin.index.json", "pytorch_model.bin"):  # older hub repositories hold only these
        if (path / name).is_file():
            raise PonderError(f"{path}: holds {name} (PyTorch's pickle format, not read here: unpickling can run "
                              f"code), no model.safetensors; convert it with transformers: "
                              f"AutoModelForCausalLM.from_pretrained(dir).save_pretrained(dir)")
    raise PonderError(f"{path}: no model.safetensors or model.safetensors.index.json")


def _dangling(f: Path) -> str:
    return f"a link to {os.readlink(f)}, which does not exist (a download cut short, or a copy without its target)"


def _unreadable(f: Path, e: Exception) -> PonderError:
    if isinstance(e, OSError):  # safetensors raises FileNotFoundError for a file it may not open (EACCES), too
        try:
            open(f, "rb").close()
        except OSError as oe:
            return PonderError(f"{f}: cannot read ({oe.strerror or oe})")
    why = " ".join(str(e).split()) if isinstance(e, SafetensorError) else (e.strerror or str(e))
    if git_lfs_pointer(f):  # a hub repository cloned without git-lfs: "header too large" said nothing of that
        why = "a Git LFS pointer, not the weights: fetch them with `git lfs pull` in the checkpoint's repository"
    elif (want := _safetensors_size(f)) and want[0] > f.stat().st_size:  # safetensors: "incomplete metadata"
        of = f"of the {want[0]} its header describes" if want[1] else f"where its header alone is {want[0]}"
        why = f"cut short: {f.stat().st_size} bytes {of}; a download or copy that did not finish"
    return PonderError(f"{f}: not a readable safetensors file ({why})")


def _safetensors_size(f: Path) -> tuple[int, bool] | None:
    """(size, whole): the size in bytes a safetensors file's header says the file has (8-byte header length, the
    JSON header, then the tensors' data), or with whole False only the header's end when the file stops inside
    it; None if the header cannot be read. A file cut short, a download that stopped, was "Error while
    deserializing header: incomplete metadata, file not fully covered" (or "invalid header length")."""
    try:
        with open(f, "rb") as fh:
            head = fh.read(8)
            n = int.from_bytes(head, "little")
            if len(head) < 8 or not 2 <= n <= 100 << 20:  # (safetensors' own limit on a header: 100 MB)
                return None
            text = fh.read(n)
            if len(text) < n and text.startswith(b"{"):
                return 8 + n, False
            header = json.loads(text)
        ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
        return 8 + n + max(ends, default=0), True
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None


def _header_shapes(files: list[Path]) -> dict[str, tuple[Path, tuple[int, ...], str]]:
    """Every tensor's file, shape and safetensors dtype ("BF16"), from the headers alone (no tensor is read)."""
    out = {}
    for f in files:
        try:  # a truncated, empty or foreign file: SafetensorError at open (the header)
            with safe_open(str(f), framework="pt") as sf:
                for name in sf.keys():
                    if name in out:  # which of two copies is the weight? (the last read won, silently)
                        raise PonderError(f"{f}: tensor {name!r} is also in {out[name][0].name}; a tensor must be "
                                          "in one shard")
                    sl = sf.get_slice(name)
                    out[name] = (f, tuple(sl.get_shape()), sl.get_dtype())
        except (SafetensorError, OSError) as e:
            raise _unreadable(f, e) from None
    return out


def _model_names(shapes: dict) -> dict[str, str]:
    """Each tensor's name in the model's layout, by its name in the file. A checkpoint saved from the base model
    (AutoModel, Qwen3-Embedding) names its tensors without the "model." prefix; transformers adds it on loading,
    here they were "unexpected tensor 'embed_tokens.weight'"."""
    if any(n.startswith("model.") for n in shapes) or not any(n.startswith(("embed_tokens.", "layers.")) for n in shapes):
        return {n: n for n in shapes}
    return {n: n if n.startswith("lm_head.") else f"model.{n}" for n in shapes}


def _check_layer_count(path: Path, cfg, shapes: dict) -> None:
    """num_hidden_layers against the layers the weights hold, before the model is built: a config that says
    10**6 layers spent minutes building them before any tensor was compared."""
    layers = {int(m.group(1)) for name in shapes if (m := re.match(r"model\.layers\.(\d+)\.", name))}
    if layers and cfg.num_hidden_layers != max(layers) + 1:
        raise PonderError(f"{path / 'config.json'}: num_hidden_layers is {cfg.num_hidden_layers}, but the weights "
                          f"hold {max(layers) + 1} layers (model.layers.0 to model.layers.{max(layers)})")


def read_generation_config(path: Path) -> dict | None:
    """The checkpoint directory's generation_config.json (None without one), its EOS ids checked; a broken
    file is an error naming it, as in transformers."""
    f = path / "generation_config.json"
    if not f.is_file():
        if f.is_symlink():  # taken as absent: the authors' sampling settings dropped silently
            raise PonderError(f"{f}: {_dangling(f)}")
        return None
    gen = read_json_object(f)
    g = gen.get("eos_token_id")  # ids not integers were dropped: generation ran past the stop meant
    if g is not None and not all(isinstance(i, int) and not isinstance(i, bool) for i in (g if isinstance(g, list) else [g])):
        raise PonderError(f"{f}: eos_token_id must be an integer, a list of integers or null, "
                          f"got {json.dumps(g)[:60]}")
    return gen


SAMPLING_FIELDS = ("temperature", "top_p", "top_k", "min_p")


def sampling_defaults(path: str | os.PathLike = "tiny", given=()) -> tuple[dict, Path]:
    """(settings, file): the sampling settings a checkpoint's authors wrote in its generation_config.json, which
    transformers' generate() and vLLM use when the caller gives none (Qwen3: temperature 0.6, top_p 0.95,
    top_k 20; greedy decoding makes its thinking repeat). Empty unless do_sample is true (false or absent is
    greedy in transformers); otherwise temperature (transformers' 1.0 if absent) and whichever of top_p, top_k
    and min_p the file sets (null or absent: not set, as in vLLM; transformers would add its top_k 50).
    Values are checked as `engine.check_sampling` checks flags: PonderError naming the file and field. Fields in
    `given` (the caller sets them itself) are left out, unchecked: a flag overrides a bad value."""
    from .engine import check_sampling

    f = resolve(path) / "generation_config.json"
    gen = read_generation_config(f.parent) or {}
    sample = gen.get("do_sample")
    if sample is not None and not isinstance(sample, bool):
        raise PonderError(f"{f}: do_sample must be true, false or null, got {json.dumps(sample)[:60]}")
    if not sample:
        return {}, f
    out = {k: gen[k] for k in SAMPLING_FIELDS if gen.get(k) is not None}
    out = {k: v for k, v in {"temperature": 1.0, **out}.items() if k not in given}
    try:
        check_sampling(**out)
    except PonderError as e:
        raise PonderError(f"{f}: {e}") from None
    return out, f



# generation_config.json settings transformers' generate() applies that Ponder's sampling has no counterpart for,
# each with the value that changes nothing; the last three only when do_sample is true (its sampling warpers)
UNAPPLIED_GENERATION = {"repetition_penalty": 1.0, "no_repeat_ngram_size": 0, "min_new_tokens": 0, "min_length": 0,
                        "bad_words_ids": None, "suppress_tokens": None, "begin_suppress_tokens": None,
                        "sequence_bias": None, "typical_p": 1.0, "epsilon_cutoff": 0.0, "eta_cutoff": 0.0}
_WHEN_SAMPLED = ("typical_p", "epsilon_cutoff", "eta_cutoff")


def unapplied_generation_settings(path: str | os.PathLike = "tiny") -> tuple[list[str], Path]:
    """(["field value", ...], file): the settings of a checkpoint's generation_config.json that transformers would
    apply and Ponder does not (Qwen2.5-Instruct's repetition_penalty 1.05), for commands to say so rather than drop
    them silently. Unset, null, empty or neutral values are left out."""
    f = resolve(path) / "generation_config.json"
    gen = read_generation_config(f.parent) or {}
    out = []
    for k, neutral in UNAPPLIED_GENERATION.items():
        v = gen.get(k)
        if v is None or v == neutral or v in ([], {}) or (k in _WHEN_SAMPLED and gen.get("do_sample") is not True):
            continue
        out.append(f"{k} {json.dumps(v)[:60]}")
    return out, f

# safetensors' names of the floating dtypes a model here can be loaded in
SAFETENSORS_DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16, "F64": torch.float64}


def checkpoint_dtype(cfg, path: Path | None = None) -> torch.dtype:
    """The dtype a checkpoint's config.json names (any floating torch dtype, "half" and "float64" too: ModelConfig
    checked it), which loading on a GPU keeps. A config.json at `path` that names none (ModelConfig then says
    float32) gets its weights' dtype, as transformers' default dtype="auto" takes it: the first floating tensor
    of the first weight file (a bf16 checkpoint loaded in float32, at twice its memory)."""
    if path is not None:
        raw = read_json_object(path / "config.json")
        if raw.get("dtype") is None and raw.get("torch_dtype") is None:
            f = _weight_files(path)[0]
            try:
                with safe_open(str(f), framework="pt") as sf:
                    kinds = (sf.get_slice(name).get_dtype() for name in sf.keys())
                    return next((SAFETENSORS_DTYPES[k] for k in kinds if k in SAFETENSORS_DTYPES), torch.float32)
            except (SafetensorError, OSError) as e:
                raise _unreadable(f, e) from None
    return getattr(torch, cfg.torch_dtype)


def check_loadable(path: str | os.PathLike, dtype=None, device: str | torch.device = "cpu"):
    """load()'s checks before the weights are read: (device, directory, model config, generation config or None,
    dtype to load in). `grpo --nproc N` makes them before spawning ranks that each load the model."""
    device = parse_device(device)
    path = resolve(path)
    cfg = load_config(path)
    gen = read_generation_config(path)  # (checked before the weights are read)
    want = parse_dtype(dtype)
    if want is None:
        want = checkpoint_dtype(cfg, path) if device.type != "cpu" else torch.float32
    return device, path, cfg, gen, want


def _tokenizer(path: Path, cfg, gen: dict | None) -> Tokenizer:
    """The checkpoint's tokenizer, its stop ids those of config.json and generation_config.json, checked against
    the model's vocabulary."""
    eos_ids = list(cfg.eos_token_id) if isinstance(cfg.eos_token_id, list) else [cfg.eos_token_id]
    if gen is not None:
        g = gen.get("eos_token_id")
        eos_ids += g if isinstance(g, list) else [g]
    eos_ids = [i for i in eos_ids if isinstance(i, int) and not isinstance(i, bool)]
    tok = Tokenizer.load(path, extra_eos_ids=eos_ids)
    if tok.vocab_size > cfg.vocab_size:
        raise PonderError(f"{path}: tokenizer has token ids up to {tok.vocab_size - 1} but the model only "
                          f"{cfg.vocab_size} ids (vocab_size {cfg.vocab_size})")
    return tok


def load_tokenizer(path: str | os.PathLike = "tiny") -> Tokenizer:
    """The tokenizer load(path) gives, with load's checks up to the weights and none of the weights read: what a
    command renders its prompts with before it loads a model (a checkpoint without a chat template was refused
    only once the model had loaded, minutes for a large one)."""
    _, path, cfg, gen, _ = check_loadable(path)
    return _tokenizer(path, cfg, gen)


def _check_weights(path, dtype, device):
    """load()'s checks on everything but the tensors' data (config, tokenizer, the headers' names, shapes and dtypes
    against the model the config describes): (device, path, config, generation config, dtype, tokenizer, weight
    files, {file's tensor name: model's name}, the model on the meta device, {model's name: shape})."""
    device, path, cfg, gen, want = check_loadable(path, dtype, device)
    # The tokenizer before the weights: a checkpoint without one (or with one larger than the model) failed only
    # once every tensor had been read, minutes for a large model
    tok = _tokenizer(path, cfg, gen)
    files = _weight_files(path)
    shapes = _header_shapes(files)  # (the headers alone: nothing is allocated before they agree with the config)
    names = _model_names(shapes)
    shapes = {names[n]: v for n, v in shapes.items()}
    _check_layer_count(path, cfg, shapes)
    try:
        with torch.device("meta"):
            model = Transformer(cfg)
    except (RuntimeError, TypeError, ValueError, OverflowError) as e:  # a size past int64: torch's own traceback
        raise PonderError(f"{path / 'config.json'}: cannot build the model it describes "
                          f"({str(e).strip().splitlines()[0][:120]})") from None
    expected = {f"model.{k}" if not k.startswith("lm_head") else k: tuple(p.shape)
                for k, p in model.state_dict().items()}
    embed_shape = expected["model.embed_tokens.weight"]
    if cfg.tie_word_embeddings:
        expected.pop("lm_head.weight", None)
    # Names and shapes checked before the model's memory is allocated: a config.json that does not describe its
    # weights (a vocab_size of 10**12) failed in the allocator ("can't allocate memory: 512000000000000 bytes").
    for name, (f, shape, kind) in shapes.items():
        if name in expected:
            implied = expected[name]
        elif name == "lm_head.weight" and cfg.tie_word_embeddings:  # some exporters write the tied head anyway
            implied = embed_shape
        elif "rotary_emb" in name:
            continue
        else:
            raise PonderError(f"{f}: unexpected tensor {name!r} for {cfg.model_type} config")
        if shape != implied:
            raise PonderError(f"{f}: tensor {name!r} has shape {shape}, config implies {implied}")
        if not kind.startswith(("F", "BF")):  # I8, I32, BOOL: copied into a float parameter, cast silently
            raise PonderError(f"{f}: tensor {name!r} is stored as {kind}, not a floating-point dtype (F32, BF16, "
                              f"F16); a model's weights are floating-point")
    tied_head = cfg.tie_word_embeddings and "lm_head.weight" in shapes  # (the embedding, when the file has none)
    missing = [k for k in expected if k not in shapes and not (k == "model.embed_tokens.weight" and tied_head)]
    index = path / "model.safetensors.index.json"
    if missing and not (path / "model.safetensors").is_file() and index.is_file():
        # A shard swapped for another download's under an index that still places the tensor in it: which file
        wm = read_json_object(index)["weight_map"]
        placed = [(k, wm.get(k, wm.get(k.removeprefix("model.")))) for k in missing]
        placed = [(k, f) for k, f in placed if f]
        if placed:
            k, f = placed[0]
            raise PonderError(f"{index}: places tensor {k!r} in {f}, which does not hold it (a shard from "
                              f"another download or version of the checkpoint?)")
    if missing:
        raise PonderError(f"{path}: missing tensors {missing[:3]}{' ...' if len(missing) > 3 else ''}")
    return device, path, cfg, gen, want, tok, files, names, model, expected


def load(path: str | os.PathLike = "tiny", dtype=None, device: str | torch.device = "cpu"):
    """Read an HF-format directory; returns (model, tokenizer). dtype defaults to the checkpoint's
    own on GPU and fp32 on CPU (bf16 matmuls are slow on most CPUs)."""
    device, path, cfg, gen, want, tok, files, names, model, expected = _check_weights(path, dtype, device)
    # Weights stream from the file into the model's own storage one tensor at a time (cast on meta first:
    # never a float32 copy of bf16 weights), so peak memory is the model plus one tensor, not two models.
    model = model.to(want).to_empty(device=device)
    params = model.state_dict()
    loaded = set()
    head = None  # a tied model's lm_head.weight found in the file (see below)
    for f in files:
        try:  # a tensor cut off or corrupt: SafetensorError when it is read
            with safe_open(str(f), framework="pt") as sf:
                for key in sf.keys():
                    name = names[key]
                    if name not in expected:
                        if name == "lm_head.weight" and cfg.tie_word_embeddings:
                            head = sf.get_tensor(key)
                        continue  # (rotary_emb buffers: the model computes its own)
                    t = sf.get_tensor(key)
                    with torch.no_grad():
                        params[name.removeprefix("model.")].copy_(t)
                    loaded.add(name.removeprefix("model."))
                    del t
        except (SafetensorError, OSError) as e:
            raise _unreadable(f, e) from None
    if head is not None:
        # transformers ties only a head equal to the embedding; a different one is used as written (untied), and
        # a head without an embedding is tied the other way round (the embedding is the head)
        embed = params["embed_tokens.weight"]
        head = head.to(device=embed.device, dtype=embed.dtype)  # (torch.equal needs both on one device)
        if "embed_tokens.weight" not in loaded:
            with torch.no_grad():
                embed.copy_(head)
            loaded.add("embed_tokens.weight")
        elif not torch.equal(head, embed):
            cfg.tie_word_embeddings = False
            model.lm_head.weight = torch.nn.Parameter(head)
        del head
    missing = [k for k in expected if k.removeprefix("model.") not in loaded]
    if missing:
        raise PonderError(f"{path}: missing tensors {missing[:3]}{' ...' if len(missing) > 3 else ''}")
    if cfg.tie_word_embeddings:
        model.lm_head.weight = model.embed_tokens.weight
    model.eval()
    if gen is not None:
        model.generation_config = gen  # written back by save()
    return model, tok


def describe(path: str | os.PathLike = "tiny", dtype=None):
    """(model config, tokenizer, parameter count, dtype): what load(path, dtype) gives as model.config, its tokenizer,
    sum(p.numel() for p in model.parameters()) and model.dtype, with load's own checks but no weights read (`ponder
    info` loaded them all: minutes and the checkpoint's size in memory for a 70B model). Only a tied config whose
    file holds a head as well reads those two tensors, a block of rows at a time: load unties a head that differs."""
    _, path, cfg, _, want, tok, files, names, model, _ = _check_weights(path, dtype, "cpu")
    key = {v: k for k, v in names.items()}  # the file's name of each tensor
    if cfg.tie_word_embeddings and "lm_head.weight" in key and "model.embed_tokens.weight" in key and _differ(
            files, key["model.embed_tokens.weight"], key["lm_head.weight"], want):
        cfg.tie_word_embeddings = False
        model.lm_head.weight = torch.nn.Parameter(torch.empty_like(model.embed_tokens.weight))  # (on meta)
    return cfg, tok, sum(p.numel() for p in model.parameters()), want


def _differ(files: list[Path], a: str, b: str, dtype: torch.dtype) -> bool:
    """Whether tensors `a` and `b` of the weight files differ once cast to `dtype` (as load compares them), read a
    block of rows at a time."""
    with contextlib.ExitStack() as stack:
        slices = {}
        for f in files:
            try:
                sf = stack.enter_context(safe_open(str(f), framework="pt"))
                slices.update({k: (f, sf.get_slice(k)) for k in sf.keys() if k in (a, b)})
            except (SafetensorError, OSError) as e:
                raise _unreadable(f, e) from None
        (fa, sa), (fb, sb) = slices[a], slices[b]
        shape = sa.get_shape()
        rows = max(1, (1 << 24) // max(1, math.prod(shape[1:])))
        for i in range(0, shape[0], rows):
            try:
                x = sa[i:i + rows].to(dtype)
            except (SafetensorError, OSError) as e:
                raise _unreadable(fa, e) from None
            try:
                y = sb[i:i + rows].to(dtype)
            except (SafetensorError, OSError) as e:
                raise _unreadable(fb, e) from None
            if not torch.equal(x, y):
                return True
    return False


def _written_fields(model: Transformer, tokenizer: Tokenizer | None) -> dict:
    """The config fields save writes from the model and the tokenizer, whatever the config held: the weights'
    dtype, and the tokenizer's ids, without dropping what the config knows beyond them. Not pad_token_id: the
    config's stays (the tokenizer's pad is in tokenizer_config.json), as transformers' models make it their
    embedding's padding_idx, whose row a fine-tune never trains. The tokenizer's pad, which falls back to EOS, was
    written in a config naming none (Qwen's, Llama 3's): the EOS embedding frozen in a transformers fine-tune of
    the checkpoint re-saved."""
    cfg = model.config
    out = {"torch_dtype": str(model.dtype).removeprefix("torch.")}
    if tokenizer is not None:
        # config.json's EOS ids stay as the checkpoint has them (a tuple written as a list); a config naming none
        # takes the tokenizer's. (Replacing ids that leave out the tokenizer's EOS lost them on a load -> save round
        # trip, as Llama 3 Instruct's 128001 under a tokenizer ending on <|eot_id|>: the tokenizer's stop ids are
        # generation_config.json's, which transformers' generate() stops at.)
        if cfg.eos_token_id is None:
            out["eos_token_id"] = tokenizer.eos_token_id
        elif isinstance(cfg.eos_token_id, tuple):
            out["eos_token_id"] = list(cfg.eos_token_id)
        if tokenizer.bos_token_id is not None:  # (Qwen's tokenizers have none; their configs do)
            out["bos_token_id"] = tokenizer.bos_token_id
    return out


def _generation_eos(eos, tokenizer: Tokenizer | None):
    """generation_config.json's eos_token_id: the checkpoint's own (or config.json's) ids as they were, in their
    order and form, then the tokenizer's stop ids Ponder samples to that they leave out. They were written sorted
    in their place: Qwen3's [151645, 151643] came back [151643, 151645] (transformers pads with the first)."""
    if tokenizer is None:
        return eos
    ids = [] if eos is None else list(eos) if isinstance(eos, list | tuple) else [eos]
    more = [i for i in [tokenizer.eos_token_id, *sorted(tokenizer.stop_token_ids)] if i not in ids]
    if not more and isinstance(eos, int):
        return eos
    return ids + list(dict.fromkeys(more))


def save(model: Transformer, tokenizer: Tokenizer | None, path: str | os.PathLike, extra=None,
         digest: dict | None = None) -> Path:
    """Write an HF-format checkpoint atomically (temporary sibling directory, then rename).

    `extra` maps file names to writers `fn(path)` for files that must land together with the weights
    (a training run's optimizer state), so a crash or a full disk never pairs new weights with old state.
    `digest` (a dict) gets "weights_sha256", `weights_sha256` of the weights written, before `extra` is written:
    a run's trainer state records it, and a resume refuses other weights.

    Saved over a checkpoint, the files that are not a checkpoint's own (README.md, LICENSE, a hub clone's .git) stay
    (`_carry_over`); its weights, config and tokenizer files are replaced by those written."""
    if not os.fspath(path) or Path(path).name in ("", ".", ".."):
        raise PonderError(f"checkpoint path {os.fspath(path)!r}: give a directory name")
    # torch.compile(model): its state_dict names every tensor "_orig_mod.*" (a tied model failed in safetensors,
    # an untied one wrote a checkpoint that nothing loads); the weights are the wrapped model's
    model = getattr(model, "_orig_mod", model)
    # the config's own checks, as load runs them on the config.json written: a config edited after the model was
    # built (num_hidden_layers = 0, a float or negative size, rms_norm_eps = 0) was saved, then refused by every
    # load (a float size was a bare TypeError from torch here). Run on a copy: the model's config is left as it is.
    # The fields the save writes itself are checked as written: a torch_dtype held as a torch.dtype (transformers'
    # configs hold torch.bfloat16) or a tuple eos_token_id the tokenizer's id replaces was refused, though the
    # config.json written from them loads
    try:
        dataclasses.replace(model.config, **_written_fields(model, tokenizer))
    except PonderError as e:
        raise PonderError(f"{path}: model.config: {e} (a checkpoint that would not load); not saved") from None
    model.config.to_hf()  # a layout transformers cannot read is refused before anything is written
    _check_sizes(model, path)
    if tokenizer is not None and tokenizer.vocab_size > model.config.vocab_size:  # (load refuses it: see load)
        raise PonderError(f"{path}: tokenizer has token ids up to {tokenizer.vocab_size - 1} but the model only "
                          f"{model.config.vocab_size} ids (vocab_size {model.config.vocab_size}; a checkpoint that "
                          "would not load); not saved")
    path = make_parent(path)
    if path.is_symlink():  # a link to a checkpoint kept elsewhere: that one is replaced and the link stays
        # (renaming the link itself aside failed the next save on the leftover and never updated the target)
        path = make_parent(os.path.realpath(path))
    if path.exists() and not path.is_dir():
        raise PonderError(f"{path}: exists and is not a directory (a checkpoint is a directory)")
    recover(path)
    if path.is_dir() and not _replaceable(path):  # the swap below deletes whatever the directory held
        raise PonderError(f"{path}: exists and is not a checkpoint (no config.json with model weights); saving "
                          "would delete its files: give a new or empty directory")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(path), dir=path.parent))
    except OSError as e:
        raise _save_error(path, e) from e
    try:
        # mkdtemp makes 0700; a new checkpoint gets the usual permissions, a replaced one keeps its own (one made
        # private with chmod 700 was world-readable after the next save)
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode) if path.is_dir() else dir_mode())
        cfg = model.config
        for k, v in _written_fields(model, tokenizer).items():
            setattr(cfg, k, v)
        head, embed = model.lm_head.weight, model.embed_tokens.weight
        if cfg.tie_word_embeddings and head is not embed and not torch.equal(head.to(embed.device), embed):
            # a head untied in code (model.lm_head replaced) under a tied config: written, not dropped, as load
            # reads a head that differs from the embedding
            cfg.tie_word_embeddings = False
        (tmp / "config.json").write_text(json.dumps(cfg.to_hf(), indent=2))
        state = {}
        shared = embed.untyped_storage().data_ptr() == head.untyped_storage().data_ptr()
        for k, v in model.state_dict().items():
            if k == "lm_head.weight" and cfg.tie_word_embeddings:
                continue
            v = v.detach().contiguous().cpu()
            if k == "lm_head.weight" and shared and v.device == embed.device:
                v = v.clone()  # a head tied in code under an untied config: safetensors refuses shared tensors
            state[k if k.startswith("lm_head") else f"model.{k}"] = v
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        if digest is not None:  # (the CPU tensors just written: no copy from a GPU again)
            digest["weights_sha256"] = _combine_digests({k: _tensor_digest(v) for k, v in state.items()})
        os.chmod(tmp / "model.safetensors", file_mode())  # (safetensors writes it 0600)
        if tokenizer is not None:
            tokenizer.save(tmp)
        # the loaded checkpoint's sampling defaults (temperature, top_p, ...) travel on; EOS ids updated
        gen = dict(getattr(model, "generation_config", None) or {})
        # (without a tokenizer, the file's own ids stay: config.json's one id dropped the rest, Qwen's <|im_end|>)
        gen["eos_token_id"] = _generation_eos(gen.get("eos_token_id", cfg.eos_token_id), tokenizer)
        (tmp / "generation_config.json").write_text(json.dumps(gen))
        for name, write in (extra or {}).items():
            write(tmp / name)
        if path.is_dir():
            _carry_over(path, tmp)
        durable = os.environ.get(FSYNC_ENV, "1") != "0"
        if durable:  # on disk before the swap: after a power loss the renames may persist, the data not
            _sync_tree(tmp)
        old = None
        if path.exists():  # two renames (a directory cannot be swapped in one): old aside, then new in
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
        os.replace(tmp, path)
        if durable:
            _fsync(path.parent)  # the renames themselves, before the old checkpoint is deleted
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        recover(path)  # interrupted between the renames: the previous checkpoint goes back
        cause = _os_error(e)
        if cause is not None:
            raise _save_error(path, cause) from cause
        raise
    return path


def _check_sizes(model: Transformer, path) -> None:
    """PonderError if a tensor's shape is not what model.config implies (embedding and head grown for added tokens,
    vocab_size left as it was): the config.json written would not describe the weights, and no load would read them."""
    cfg = model.config
    with torch.device("meta"):  # (shapes only: nothing allocated)
        want = {k: tuple(v.shape) for k, v in Transformer(cfg).state_dict().items()}
    state = model.state_dict()
    sizes = ", ".join(f"{f}={getattr(cfg, f)}" for f in ("vocab_size", "hidden_size", "intermediate_size",
                                                         "num_attention_heads", "num_key_value_heads", "head_dim"))
    missing = [k for k in want if k not in state]
    if missing:  # (layers removed, num_hidden_layers left as it was; tensors beyond the config's, a value head, are
        # written: transformers loads the model past them)
        raise PonderError(f"{path}: the model has no tensor {missing[0]!r}, which model.config (num_hidden_layers="
                          f"{cfg.num_hidden_layers}, {sizes}) implies; set the config to the model's layout (a "
                          "checkpoint that would not load); not saved")
    # layers appended with num_hidden_layers left as it was: written, they made a checkpoint every load refused
    # ("the weights hold 3 layers") and transformers silently dropped the extra one (a value head's tensors stay)
    extra = [k for k in state if (m := re.match(r"layers\.(\d+)\.", k)) and int(m.group(1)) >= cfg.num_hidden_layers]
    if extra:
        raise PonderError(f"{path}: the model has tensor {extra[0]!r}, beyond the num_hidden_layers={cfg.num_hidden_layers} "
                          "of model.config; set the config to the model's layout (a checkpoint that would not load); "
                          "not saved")
    for k, v in state.items():
        if k in want and tuple(v.shape) != want[k]:
            raise PonderError(f"{path}: tensor {k!r} has shape {tuple(v.shape)}, but model.config ({sizes}) implies "
                              f"{want[k]}; set the config to the model's sizes (a checkpoint that would not load); not saved")


def _os_error(e: BaseException) -> OSError | None:
    """The OSError behind a failed write: `e` itself, or the one a Rust writer gives as text (safetensors on a full
    disk raises SafetensorError "Error while serializing: I/O error: No space left on device (os error 28)")."""
    if isinstance(e, OSError):  # (an OutputError names a file of the temporary directory: its cause is the error)
        return (e.__cause__ if isinstance(e.__cause__, OSError) else None) if isinstance(e, PonderError) else e
    m = re.search(r"\(os error (\d+)\)", str(e)) if isinstance(e, Exception) else None
    return OSError(int(m[1]), os.strerror(int(m[1]))) if m else None


def _tensor_digest(t: torch.Tensor) -> str:
    """A tensor as stored: dtype, shape and the sha256 of its raw bytes (bf16 too)."""
    data = t.detach().contiguous().reshape(-1).view(torch.uint8).numpy()
    return f"{str(t.dtype).removeprefix('torch.')}\0{tuple(t.shape)}\0{hashlib.sha256(data).hexdigest()}"


def _combine_digests(parts: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(parts):
        h.update(f"{name}\0{parts[name]}\n".encode())
    return h.hexdigest()


def weights_sha256(path: str | os.PathLike) -> str:
    """sha256 of a checkpoint's weights as its files store them: every tensor by name, dtype, shape and raw bytes,
    so the same weights give the same digest in one file or in shards, and loading them in another dtype or on
    another device changes nothing. save(digest=...) gives the same value for what it writes. Read one tensor at a
    time (memory stays one tensor); sha256 runs at ~1.2 GB/s on a loaded 2-core CPU (0.09 s for 100 MB)."""
    path = Path(path)
    parts = {}
    for f in _weight_files(path):
        try:
            with safe_open(str(f), framework="pt") as sf:
                for name in sf.keys():
                    parts[name] = _tensor_digest(sf.get_tensor(name))
        except (SafetensorError, OSError) as e:
            raise _unreadable(f, e) from None
    return _combine_digests(parts)


# "0": checkpoints are not fsynced (a test suite's thousands of saves, a scratch disk); anything else, or unset: they are.
FSYNC_ENV = "PONDER_FSYNC"


def _fsync(p: Path) -> None:
    fd = os.open(p, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as e:  # some filesystems (network, FUSE) cannot sync a directory: their renames are theirs
        if not (os.path.isdir(p) and e.errno in (errno.EINVAL, errno.ENOTSUP, errno.EBADF)):
            raise
    finally:
        os.close(fd)


def _sync_tree(d: Path) -> None:
    """fsync every file under `d` and the directories holding them (torch.distributed.checkpoint's default
    too): a rename is journaled ahead of data written just before it, so a machine that lost power after the
    swap could come back with the new checkpoint's names over empty or partial files, the old one deleted."""
    for root, _dirs, files in os.walk(d):
        for f in files:
            _fsync(Path(root) / f)
        _fsync(Path(root))


def _save_error(path: Path, e: OSError) -> OutputError:
    """A failed save as one line naming the checkpoint asked for: the OS names the temporary directory or a file
    in it (".ck.tmp-PID@HOST-XXXX/model.safetensors"), which is gone by the time the user reads it."""
    why = e.strerror or str(e)
    if e.errno == errno.ENAMETOOLONG:  # the name fits, its temporary sibling ".NAME.tmp-PID@HOST-XXXXXXXX" does not
        why += (f": save first writes a temporary directory beside it, a name of "
                f"{len(_tmp_prefix(path)) + 8} characters; give a shorter name")
    err = OutputError(f"{path}: cannot save the checkpoint ({why})")
    err.errno = e.errno
    return err


# What a checkpoint's save writes whole: its weights (any shards, index or trainer state: by suffix), config and
# generation config, and its tokenizer's files (a stale one would be read over the tokenizer just written)
SAVED_NAMES = frozenset({"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                         "special_tokens_map.json", "added_tokens.json", "chat_template.jinja", "chat_template.json",
                         "additional_chat_templates", "vocab.json", "merges.txt", "vocab.txt", "tokenizer.model",
                         "spiece.model"})
SAVED_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".index.json", ".gguf", ".h5", ".msgpack")


def _carry_over(old: Path, new: Path) -> None:
    """Hard-link into the new checkpoint `new` the entries of the checkpoint `old` it replaces that are not a
    checkpoint's own files (SAVED_NAMES, SAVED_SUFFIXES) nor written anew: a model card (README.md), LICENSE, a hub
    clone's .git and .gitattributes, a user's notes. The swap deleted them, silently (transformers' save_pretrained
    keeps them). A run's own checkpoint (its trainer state beside the weights) holds nothing else: left as it is."""
    if (old / "trainer_state.pt").exists():
        return
    for entry in old.iterdir():
        name = entry.name
        if name in SAVED_NAMES or name.endswith(SAVED_SUFFIXES) or os.path.lexists(new / name):
            continue
        if entry.is_symlink():  # (a hub snapshot's links to its blobs stay links)
            os.symlink(os.readlink(entry), new / name)
        elif entry.is_dir():
            shutil.copytree(entry, new / name, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, new / name)


def _link_or_copy(src, dst) -> None:
    """A hard link (no data copied: the new checkpoint is a sibling on the same filesystem), else a copy."""
    try:
        os.link(src, dst)
    except OSError:  # a filesystem without hard links
        shutil.copy2(src, dst)


WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")


def _replaceable(path: Path) -> bool:
    """Whether save() may replace the existing directory `path` wholesale: empty, or a model checkpoint (not a
    run directory, whose config.json sits beside checkpoint/, nor any other folder of the user's)."""
    if not any(path.iterdir()):
        return True
    return (path / "config.json").is_file() and any((path / f).is_file() for f in WEIGHT_FILES)


def recover(path: Path) -> None:
    """Put back the previous checkpoint if a save was killed between its two renames (`path` missing, the
    old one set aside as .NAME.old-PID), and remove what saves killed mid-write left (.NAME.tmp-PID@HOST-*: of this
    host's processes gone, or of another host's untouched for a day); save() and resuming a run call this first."""
    path = Path(path)
    if path.is_symlink():  # save() swapped the directory linked to, beside it: its leftovers are there
        path = Path(os.path.realpath(path))
    name = glob.escape(path.name)  # a name like "ck[1]" is not a pattern: "[1]" would match "1", never "[1]"
    olds = list(path.parent.glob(f".{name}.old-*"))
    if not path.exists() and olds:  # (one at most: the leftovers of a finished save are removed below)
        os.replace(max(olds, key=lambda f: f.stat().st_mtime), path)
    elif path.exists():
        for f in olds:  # a save killed while removing the replaced checkpoint
            shutil.rmtree(f, ignore_errors=True)
    for f in path.parent.glob(f".{name}.tmp-*-*"):  # a whole checkpoint's worth, left by a killed save
        # .NAME.tmp-PID@HOST-XXXXXXXX, or .NAME.tmp-PID-XXXXXXXX as earlier versions named it (taken for this host's)
        pid, _, host = f.name.removeprefix(f".{path.name}.tmp-").rpartition("-")[0].partition("@")
        if not pid.isdigit():
            continue
        if host and host != _host():
            # Another node's (a run directory on shared storage, a job requeued elsewhere): its process id means
            # nothing here (judged here, a live save of that node was deleted, or a dead one's kept for good). A save
            # writes its files until it renames them in: one whose files no write touched for a day is a dead one.
            if time.time() - _newest_mtime(f) > FOREIGN_TMP_STALE_S:
                shutil.rmtree(f, ignore_errors=True)
            continue
        # One with this process's id is no save of ours (none runs while another begins or a run resumes): an
        # earlier process's, given the same id (in a container the trainer is pid 1 at every restart, and its
        # leftovers, each a checkpoint's size, were kept for good as those of a live save).
        if int(pid) == os.getpid() or not _alive(int(pid)):
            shutil.rmtree(f, ignore_errors=True)


FOREIGN_TMP_STALE_S = 86400.0  # (a day: far beyond any pause in a live save's writes, its final fsyncs included)


def _host() -> str:
    """This machine's short name as save's temporary directories carry it (no "-", which ends the field); a long one
    cut to 32 characters with a digest of the whole (nodes differ in their last characters: node-0001, node-0002)."""
    name = re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname().split(".")[0]) or "_"
    return name if len(name) <= 32 else name[:23] + "_" + hashlib.sha256(name.encode()).hexdigest()[:8]


def _tmp_prefix(path: Path) -> str:
    """The name of save's temporary directory before mkdtemp's 8 random characters: the process id means something
    only on its host, which the name carries (recover() judges the saves of this host's processes alone)."""
    return f".{path.name}.tmp-{os.getpid()}@{_host()}-"


def _newest_mtime(d: Path) -> float:
    """When anything under `d` (the directory, its files) was last written; now if it cannot be read."""
    try:
        newest = d.stat().st_mtime
        for root, _dirs, files in os.walk(d):
            for name in files:
                newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
        return newest
    except OSError:  # (removed as it was read: its save finished or was cleaned up)
        return time.time()


def _alive(pid: int) -> bool:
    """Whether a process of this machine has this id (its save may still be writing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
