"""Ponder: build reasoning language models — pretrain, SFT, RLVR (GRPO family), test-time scaling, evaluation.

    import ponder
    model, tok = ponder.load("tiny")
    out = ponder.sample(model, tok, ["Problem: 3 + 4 * 2 = ?\nSolution:"], n=4, max_new_tokens=64)
"""

from . import tasks, verify
from .checkpoint import load, save
from .engine import Sample, sample
from .errors import PonderError
from .model import ModelConfig, Transformer
from .tokenizer import Tokenizer, train_tokenizer

__version__ = "0.1.0"
__all__ = ["tasks", "verify", "load", "save", "sample", "Sample", "PonderError", "ModelConfig", "Transformer", "Tokenizer",
           "train_tokenizer", "__version__"]
