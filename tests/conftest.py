import pytest
import torch

import ponder

torch.set_num_threads(1)  # one thread: two spin against each other on a busy 2-core box

CORPUS = [
    "Problem: 3 + 4 * 2 = ?\nSolution: 4 * 2 = 8. 3 + 8 = 11. The answer is \\boxed{11}.<|endoftext|>",
    "Problem: (7 - 2) * 3 = ?\nSolution: Answer: 15<|endoftext|>",
    "the quick brown fox jumps over the lazy dog. 12 + 30 = 42.",
] * 20


@pytest.fixture(scope="session")
def tokenizer():
    return ponder.train_tokenizer(CORPUS, vocab_size=300)


@pytest.fixture(scope="session")
def tiny_random(tokenizer):
    """A random tiny Qwen3 with a real tokenizer; weights large enough that outputs vary."""
    cfg = ponder.ModelConfig(vocab_size=320, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2)
    return ponder.Transformer(cfg).init_weights(0, std=0.2).eval(), tokenizer
