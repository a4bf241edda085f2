"""Ponder: build reasoning language models — pretrain, SFT, RLVR (GRPO family), test-time scaling, evaluation.

    import ponder
    model, tok = ponder.load("tiny")
    out = ponder.sample(model, tok, ["Problem: 3 + 4 * 2 = ?\nSolution:"], n=4, max_new_tokens=64)
"""

import importlib
import importlib.util

from . import tasks, verify
from .errors import PonderError

__version__ = "0.1.0"
__all__ = ["tasks", "verify", "load", "save", "sample", "Sample", "PonderError", "ModelConfig", "Transformer", "Tokenizer",
           "train_tokenizer", "__version__"]

# Imported on first use (PEP 562): `import ponder` (the CLI, `import ponder.verify`, a scoring-only Ray actor, a
# process scoring code) does not import torch, ~3 s of CPU a process; the model, sampling and checkpoint names
# below import it when first read.
_LAZY = {"load": "checkpoint", "save": "checkpoint", "sample": "engine", "Sample": "engine", "ModelConfig": "model",
         "Transformer": "model", "Tokenizer": "tokenizer", "train_tokenizer": "tokenizer"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f".{name}", __name__)  # `ponder.model.X` after a bare `import ponder`, as before
    else:
        raise AttributeError(f"module 'ponder' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_LAZY})
