"""Engine invariants: cached == naive, batch == one by one, seeds reproduce, stop rules, bad input."""

import pytest
import torch

import ponder
from ponder.engine import choose_tokens, gumbel_noise, naive_greedy
from ponder.errors import PonderError

PROMPTS = ["Problem: 3 + 4", "hello", "the quick brown fox jumps over", "12 + 30 ="]


def test_cached_greedy_equals_naive_recompute(tiny_random):
    model, tok = tiny_random
    out = ponder.sample(model, tok, PROMPTS, max_new_tokens=24, temperature=0)
    for p, o in zip(PROMPTS, out):
        assert o[0].token_ids == naive_greedy(model, tok, p, 24)


def test_batch_equals_one_by_one(tiny_random):
    model, tok = tiny_random
    batch = ponder.sample(model, tok, PROMPTS, max_new_tokens=24, temperature=0)
    for i, p in enumerate(PROMPTS):
        assert ponder.sample(model, tok, [p], max_new_tokens=24, temperature=0)[0][0].token_ids == \
            batch[i][0].token_ids


def test_seed_reproduces_and_is_batch_invariant(tiny_random):
    model, tok = tiny_random
    a = ponder.sample(model, tok, PROMPTS, n=4, max_new_tokens=16, seed=7)
    b = ponder.sample(model, tok, PROMPTS, n=4, max_new_tokens=16, seed=7)
    c = ponder.sample(model, tok, PROMPTS, n=4, max_new_tokens=16, seed=8)
    ids = lambda r: [[s.token_ids for s in g] for g in r]  # noqa: E731
    assert ids(a) == ids(b) and ids(a) != ids(c)
    # a shard drawn alone (as a Ray actor would) reproduces the same samples
    shard = ponder.sample(model, tok, PROMPTS[2:], n=4, max_new_tokens=16, seed=7, index_offset=2)
    assert ids(shard) == ids(a)[2:]
    # small batches (row-limit chunking) change nothing either
    chunked = ponder.sample(model, tok, PROMPTS, n=4, max_new_tokens=16, seed=7, max_batch_rows=4)
    assert ids(chunked) == ids(a)
    # the n samples of one prompt differ from each other
    assert len({tuple(s.token_ids) for s in a[0]}) > 1


def test_logprobs_match_model_distribution(tiny_random):
    model, tok = tiny_random
    s = ponder.sample(model, tok, [PROMPTS[0]], max_new_tokens=8, temperature=0.7, seed=1)[0][0]
    ids = tok.encode(PROMPTS[0]) + s.token_ids
    with torch.no_grad():
        logits = model(torch.tensor([ids]))[0, len(ids) - len(s.token_ids) - 1:-1] / 0.7
    ref = torch.log_softmax(logits, -1).gather(-1, torch.tensor(s.token_ids)[:, None])[:, 0]
    assert torch.allclose(ref, torch.tensor(s.logprobs), atol=1e-4)
    assert s.finish_reason in ("stop", "length") and len(s.logprobs) == len(s.token_ids)


def test_sampling_distribution_is_exact():
    """Gumbel-max with counter-based noise draws from softmax(logits / T) restricted by top-k/top-p."""
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])).repeat(20000, 1)
    keys = torch.arange(20000, dtype=torch.int64)
    tok, _ = choose_tokens(logits, keys, 0, 1.0, 0, 1.0, 0.0)
    freq = torch.bincount(tok, minlength=4).float() / 20000
    assert torch.allclose(freq, torch.tensor([0.5, 0.3, 0.15, 0.05]), atol=0.015)
    tok, _ = choose_tokens(logits, keys, 0, 1.0, 2, 1.0, 0.0)  # top-k=2
    assert set(tok.tolist()) == {0, 1}
    tok, _ = choose_tokens(logits, keys, 0, 1.0, 0, 0.7, 0.0)  # top-p: {0.5, 0.3} reaches 0.7
    assert set(tok.tolist()) == {0, 1}
    tok, _ = choose_tokens(logits, keys, 0, 1.0, 0, 1.0, 0.5)  # min-p: p >= 0.25
    assert set(tok.tolist()) == {0, 1}
    u = gumbel_noise(keys[:4], 3, 1000)
    assert torch.isfinite(u).all() and not torch.equal(u[0], u[1])


def test_stop_strings_and_length(tiny_random):
    model, tok = tiny_random
    free = ponder.sample(model, tok, PROMPTS, max_new_tokens=30, temperature=0)
    for p, o in zip(PROMPTS, free):
        text = o[0].text
        if len(text) < 4 or o[0].finish_reason != "length":
            continue
        stop = text[2:4]
        got = ponder.sample(model, tok, [p], max_new_tokens=30, temperature=0, stop=[stop])[0][0]
        assert got.finish_reason == "stop"
        assert got.text == text[: text.find(stop)]
        assert got.token_ids == o[0].token_ids[: len(got.token_ids)]
        break
    else:
        pytest.fail("no prompt produced a long enough completion")
    one = ponder.sample(model, tok, PROMPTS, max_new_tokens=1, temperature=0)
    assert all(len(o[0].token_ids) == 1 for o in one)


def test_chat_messages_rendered_with_template(tiny_random):
    model, tok = tiny_random
    msgs = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    text = tok.apply_chat_template(msgs)
    assert text == "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    a = ponder.sample(model, tok, [msgs], max_new_tokens=8, temperature=0)[0][0]
    b = ponder.sample(model, tok, [text], max_new_tokens=8, temperature=0)[0][0]
    assert a.token_ids == b.token_ids


@pytest.mark.parametrize("kw, msg", [
    (dict(prompts=[]), "empty"),
    (dict(prompts="just a string"), "list"),
    (dict(max_new_tokens=0), "max_new_tokens"),
    (dict(n=0), "n must be"),
    (dict(temperature=-1.0), "temperature"),
    (dict(top_p=0.0), "top_p"),
    (dict(prompts=[""]), "empty"),
    (dict(prompts=[[{"role": "robot", "content": "x"}]]), "chat message 0"),
])
def test_bad_input(tiny_random, kw, msg):
    model, tok = tiny_random
    args = dict(prompts=["hi"], max_new_tokens=4)
    args.update(kw)
    with pytest.raises(PonderError, match=msg):
        ponder.sample(model, tok, **args)


def test_stream_yields_the_same_text_as_sample(tiny_random):
    from ponder.engine import stream_chat

    model, tok = tiny_random
    msgs = [{"role": "user", "content": "hello"}]
    pieces = []
    text = stream_chat(model, tok, msgs, on_text=pieces.append, max_new_tokens=12, temperature=0.0)
    ref = ponder.sample(model, tok, [msgs], max_new_tokens=12, temperature=0.0)[0][0]
    assert "".join(pieces) == text
    assert ref.text.startswith(text) and len(pieces) >= 1
