"""Engine invariants: cached == naive, batch == one by one, seeds reproduce, stop rules, bad input."""

import re

import pytest
import torch

import ponder
from ponder.engine import PackedDecoder, choose_tokens, naive_greedy, prefill, uniform
from ponder.errors import PonderError

PROMPTS = ["Problem: 3 + 4", "hello", "the quick brown fox jumps over", "12 + 30 ="]


def test_cached_greedy_equals_naive_recompute(tiny_random):
    model, tok = tiny_random
    out = ponder.sample(model, tok, PROMPTS, max_new_tokens=24, temperature=0)
    for p, o in zip(PROMPTS, out, strict=True):
        assert o[0].token_ids == naive_greedy(model, tok, p, 24)



def test_cached_sampling_equals_naive_recompute(tiny_random):
    """Sampled (n > 1, ragged left-padded batch, truncated distribution): each sample's tokens and log-probs are
    those of a full recompute per step drawing the same counter-based uniforms (sample j of prompt i)."""
    from ponder.engine import _mix

    model, tok = tiny_random
    kw = dict(temperature=0.8, top_k=20, top_p=0.9, min_p=0.02)
    out = ponder.sample(model, tok, PROMPTS[1:3], n=2, max_new_tokens=10, seed=5, index_offset=1, **kw)
    assert [len(g) for g in out] == [2, 2]
    for i, (p, group) in enumerate(zip(PROMPTS[1:3], out, strict=True), start=1):
        ids = tok.encode(p, add_special_tokens=True)
        for j, s in enumerate(group):
            key = _mix(_mix(torch.tensor(5)) + i * (1 << 32) + j).view(1)
            toks, lps = [], []
            for step in range(len(s.token_ids)):
                with torch.no_grad():
                    logits = model(torch.tensor([ids + toks]))[0, -1:]
                t, lp = choose_tokens(logits, key, step, kw["temperature"], kw["top_k"], kw["top_p"], kw["min_p"])
                toks.append(int(t))
                lps.append(float(lp))
            assert s.token_ids == toks
            assert max(abs(a - b) for a, b in zip(s.logprobs, lps)) < 1e-4

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


def test_first_sample_draws_a_slice_of_the_samples_one_call_draws(tiny_random):
    """first_sample=j, n=m: samples j .. j+m-1 of a call drawing more per prompt (chunked self-consistency),
    also when max_batch_rows splits a prompt's samples; a bad first_sample is named."""
    model, tok = tiny_random
    kw = dict(max_new_tokens=12, seed=3, temperature=1.2)
    whole = ponder.sample(model, tok, PROMPTS[:3], n=7, **kw)
    for j, m, cap in ((0, 3, 512), (3, 4, 512), (2, 5, 2)):
        part = ponder.sample(model, tok, PROMPTS[:3], n=m, first_sample=j, max_batch_rows=cap, **kw)
        assert [[s.token_ids for s in g] for g in part] == [[s.token_ids for s in g[j: j + m]] for g in whole]
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(PonderError, match="first_sample must be a non-negative integer"):
            ponder.sample(model, tok, PROMPTS[:1], n=1, first_sample=bad, **kw)


def test_a_first_sample_past_64_bits_is_named_not_an_overflow(tiny_random):
    """Sample indices are hashed as signed 64-bit integers, as seeds and index_offset are: a first_sample of 2**64
    failed after the prefill as a bare OverflowError."""
    model, tok = tiny_random
    for bad in (2**63, 2**64, 2**70):
        with pytest.raises(PonderError, match=r"first_sample must be a non-negative integer below 2\*\*63, got"):
            ponder.sample(model, tok, PROMPTS[:1], max_new_tokens=2, seed=1, first_sample=bad)


def test_max_batch_rows_bounds_the_rows_of_a_prompt_with_more_samples(tiny_random, monkeypatch):
    """n > max_batch_rows: a prompt's n samples were decoded all at once (a cap of 4 rows ran 6), its cache fanned
    out to n rows. Now its samples run max_batch_rows at a time, each on its own stream: the same draws."""
    import ponder.engine as engine

    model, tok = tiny_random
    kw = dict(n=6, max_new_tokens=12, seed=3, temperature=1.2)
    whole = ponder.sample(model, tok, PROMPTS[:2], **kw)
    rows, real = [], engine.decoder

    def counting(m):
        decode = real(m)

        def step(t, cache):
            rows.append(max(t.shape[0], cache.k[0].shape[0]))
            return decode(t, cache)
        return step

    monkeypatch.setattr(engine, "decoder", counting)
    for cap in (4, 1):
        rows.clear()
        capped = ponder.sample(model, tok, PROMPTS[:2], max_batch_rows=cap, **kw)
        assert rows and max(rows) <= cap
        assert [[(s.token_ids, s.text, s.finish_reason) for s in g] for g in capped] == \
            [[(s.token_ids, s.text, s.finish_reason) for s in g] for g in whole]
        assert [x for g in capped for s in g for x in s.logprobs] == \
            pytest.approx([x for g in whole for s in g for x in s.logprobs], abs=1e-5)


def test_greedy_leaves_the_global_generator_alone(tiny_random):
    """An evaluation inside a training run must not move the run's random stream (TRL's sampling draws
    from torch's global generator; an unseeded greedy eval used to draw a seed from it)."""
    model, tok = tiny_random
    torch.manual_seed(123)
    state = torch.get_rng_state()
    ponder.sample(model, tok, PROMPTS, max_new_tokens=4, temperature=0.0)
    assert torch.equal(torch.get_rng_state(), state)
    ponder.sample(model, tok, PROMPTS, max_new_tokens=4, temperature=1.0)  # unseeded sampling draws its seed
    assert not torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("cut", [{}, dict(top_k=6, top_p=0.6, min_p=0.1)])
def test_logprobs_match_model_distribution(tiny_random, cut):
    """Log-probs of the tempered distribution, the one the learner computes: before any top-k/top-p/min-p cut (the
    truncated, renormalised one differs, which the second case checks it is not)."""
    model, tok = tiny_random
    s = ponder.sample(model, tok, [PROMPTS[0]], max_new_tokens=8, temperature=0.7, seed=1, **cut)[0][0]
    ids = tok.encode(PROMPTS[0], add_special_tokens=False) + s.token_ids
    with torch.no_grad():
        logits = model(torch.tensor([ids]))[0, len(ids) - len(s.token_ids) - 1:-1] / 0.7
    ref = torch.log_softmax(logits, -1).gather(-1, torch.tensor(s.token_ids)[:, None])[:, 0]
    assert torch.allclose(ref, torch.tensor(s.logprobs), atol=1e-4)
    assert s.finish_reason in ("stop", "length") and len(s.logprobs) == len(s.token_ids)
    if cut:
        kept = torch.log_softmax(logits.masked_fill(logits < logits.topk(6, -1).values[:, -1:], float("-inf")), -1)
        assert not torch.allclose(kept.gather(-1, torch.tensor(s.token_ids)[:, None])[:, 0], ref, atol=1e-2)


def test_a_shorter_max_new_tokens_draws_a_prefix_of_the_longer_samples(tiny_random):
    """max_new_tokens only cuts: the uniforms are a function of (seed, prompt, sample, step), so each sample of a
    shorter call is the longer call's cut there (tokens, log-probs, text), ending "length" where it was cut."""
    model, tok = tiny_random
    kw = dict(n=2, seed=4, temperature=1.0, top_p=0.9)
    long = ponder.sample(model, tok, PROMPTS, max_new_tokens=16, **kw)
    for k in (1, 5):
        short = ponder.sample(model, tok, PROMPTS, max_new_tokens=k, **kw)
        for g, h in zip(short, long, strict=True):
            for s, full in zip(g, h, strict=True):
                assert s.token_ids == full.token_ids[:k]
                assert s.logprobs == pytest.approx(full.logprobs[:k], abs=1e-5)
                assert s.finish_reason == ("length" if len(full.token_ids) > k else full.finish_reason)
                assert s.text == tok.decode_continuation(s.prompt_ids, s.token_ids)


def test_sampling_distribution_is_exact():
    """Inverse-CDF sampling with counter-based uniforms draws from softmax(logits / T) restricted by top-k/top-p."""
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
    # top-k then top-p on the renormalised rest (transformers, vLLM): 0.5 / 0.8 = 0.625 >= 0.6 alone
    tok, _ = choose_tokens(logits, keys, 0, 1.0, 2, 0.6, 0.0)
    assert set(tok.tolist()) == {0}
    u = uniform(keys, 3)
    assert torch.equal(uniform(keys[:, None], torch.arange(5)[None])[:, 3], u)  # drawn ahead == drawn per step
    assert 0 < u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01 and len(set(u.tolist())) > 19900


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
    text = tok.apply_chat_template(msgs, add_generation_prompt=True)
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


def test_a_chat_prompt_that_cannot_render_is_named_by_its_index(tokenizer):
    """Of several chat prompts, a malformed message or a template's own raise_exception ("only supports single
    tool-calls") said "chat message 0: ..." or "tokenizer: chat template: ..." and named no prompt; render_prompts
    and prompts_think_state name it by its index (index_offset + i for a shard), as their other errors do."""
    from ponder.engine import prompts_think_state, render_prompts
    from ponder.tokenizer import Tokenizer

    ok, bad = [{"role": "user", "content": "hi"}], [{"role": "robot", "content": "x"}]
    for call in (lambda ps: render_prompts(tokenizer, ps), lambda ps: prompts_think_state(tokenizer, ps),
                 lambda ps: render_prompts(tokenizer, ps[1:], first=40)):
        with pytest.raises(PonderError, match=r"^prompt (2|41): chat message 0: unknown role 'robot'"):
            call([ok, "text", bad])
    tok = Tokenizer(tokenizer.tok, eos_token="<|endoftext|>",
                    chat_template="{% if messages | length > 1 %}{{ raise_exception('one message only') }}{% endif %}x")
    with pytest.raises(PonderError, match=r"^prompt 1: tokenizer: chat template: one message only$"):
        render_prompts(tok, [ok, ok + ok])
    with pytest.raises(PonderError, match=r"^tokenizer: chat template: one message only$"):  # one: no index to give
        render_prompts(tok, [ok + ok])
    for bad in ("a\ud800", [{"role": "user", "content": "a\ud800"}]):  # text that is no UTF-8 (not checked at load)
        with pytest.raises(PonderError, match=r"^prompt 1: text to encode holds a lone surrogate"):
            render_prompts(tokenizer, [ok, bad])


def test_token_id_prompts_sample_as_the_prompts_they_encode(tiny_random):
    """A prompt given as token ids (how test-time scaling continues a chat prompt: as a string it would be
    encoded with special tokens) is used as it is: it samples exactly as the string or chat prompt whose ids
    they are, tuples and numpy ints alike."""
    import numpy as np

    from ponder.engine import render_prompts

    model, tok = tiny_random
    msgs = [{"role": "user", "content": "hi"}]
    strs, chats = render_prompts(tok, ["12 + 30 =", "the fox"]), render_prompts(tok, [msgs])
    assert render_prompts(tok, [strs[0], tuple(strs[1]), list(np.array(chats[0]))]) == strs + chats
    a = ponder.sample(model, tok, ["12 + 30 =", "the fox", msgs], n=2, max_new_tokens=6, temperature=1.0, seed=3)
    b = ponder.sample(model, tok, strs + chats, n=2, max_new_tokens=6, temperature=1.0, seed=3)
    assert [[(s.token_ids, s.text, s.prompt_ids) for s in g] for g in a] == \
        [[(s.token_ids, s.text, s.prompt_ids) for s in g] for g in b]
    assert render_prompts(tok, [[]]) == render_prompts(tok, [tok.apply_chat_template([], add_generation_prompt=True)])  # an empty chat



def test_prompt_ids_past_a_smaller_model_embedding_name_the_id(tokenizer):
    """A tokenizer with more tokens than the model's embedding (a ModelConfig built with too small a vocab_size,
    tokens added after the model was made): a prompt holding such an id failed in the embedding as a bare
    IndexError ("index out of range in self"; on a GPU a device-side assert). Refused by id and position."""
    from ponder.engine import stream

    cfg = ponder.ModelConfig(vocab_size=64, hidden_size=32, intermediate_size=32, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1)
    model = ponder.Transformer(cfg).init_weights(0).eval()
    ids = tokenizer.encode("the quick", add_special_tokens=True)
    j = next(j for j, x in enumerate(ids) if x >= 64)
    msg = rf"^prompt 0: token id {ids[j]} at position {j} is past the model's embedding \(vocab_size 64; the " \
          rf"tokenizer's ids go up to {tokenizer.vocab_size - 1}\)$"
    for prompt in ("the quick", ids):
        with pytest.raises(PonderError, match=msg):
            ponder.sample(model, tokenizer, [prompt], max_new_tokens=2)
        with pytest.raises(PonderError, match=msg):
            next(stream(model, tokenizer, prompt, max_new_tokens=2))
    ok = [x % 64 for x in ids]  # ids the embedding holds still sample
    assert ponder.sample(model, tokenizer, [ok], max_new_tokens=2, temperature=0)[0][0].num_tokens == 2

def test_a_pad_token_past_the_model_embedding_still_pads_a_ragged_batch(tokenizer):
    """A pad token added to the tokenizer after the model was made (tokenizer.add_special_tokens) has an id past
    the embedding: each prompt sampled alone, but a ragged batch of them failed in the embedding as a bare
    IndexError. Padding slots are never read: the batch samples what each prompt does alone."""
    from tokenizers import Tokenizer as HFTokenizer

    hf = HFTokenizer.from_str(tokenizer.tok.to_str())
    hf.add_special_tokens(["<pad>"])
    tok = ponder.Tokenizer(hf, eos_token=tokenizer.eos_token, pad_token="<pad>")
    cfg = ponder.ModelConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, intermediate_size=32,
                             num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1)
    model = ponder.Transformer(cfg).init_weights(0, std=0.2).eval()
    assert tok.pad_token_id >= cfg.vocab_size
    prompts = ["the quick brown fox jumps over", "the quick brown fox jumps"]  # little padding: the padded grid
    batch = ponder.sample(model, tok, prompts, max_new_tokens=3, temperature=0)
    assert [g[0].token_ids for g in batch] == \
        [ponder.sample(model, tok, [p], max_new_tokens=3, temperature=0)[0][0].token_ids for p in prompts]


def test_stream_index_draws_picked_prompts_as_the_full_call_does(tiny_random):
    """stream_index keys each prompt's stream by its index in a longer list: prompts picked from it (early-stopped
    self-consistency's survivors, scattered) draw in one call what the full call draws for them; errors name a
    prompt by that index; a list of the wrong length or a bad index is refused."""
    model, tok = tiny_random
    kw = dict(n=3, max_new_tokens=12, seed=7, temperature=1.0)
    ids = lambda r: [[s.token_ids for s in g] for g in r]  # noqa: E731
    full = ids(ponder.sample(model, tok, PROMPTS, **kw))
    pick = [3, 0, 2]
    want = [full[i] for i in pick]
    assert ids(ponder.sample(model, tok, [PROMPTS[i] for i in pick], stream_index=pick, **kw)) == want
    # one prompt per batch (row-limit chunking), and more samples than rows: the same streams
    for rows in (3, 2):
        got = ponder.sample(model, tok, [PROMPTS[i] for i in pick], stream_index=pick, max_batch_rows=rows, **kw)
        assert ids(got) == want
    off = ids(ponder.sample(model, tok, PROMPTS[1:], **kw, index_offset=1))  # index_offset adds to each index
    assert ids(ponder.sample(model, tok, [PROMPTS[2]], stream_index=[1], index_offset=1, **kw)) == [off[1]]
    with pytest.raises(PonderError, match=r"^prompt 5: token id 1000000 at position 1 "):
        ponder.sample(model, tok, ["hello", [5, 10**6]], stream_index=[2, 5], max_new_tokens=2)
    with pytest.raises(PonderError, match=r"^stream_index: 1 indices for 2 prompts$"):
        ponder.sample(model, tok, ["a", "b"], stream_index=[0], max_new_tokens=2)
    with pytest.raises(PonderError, match=r"^stream_index must be an integer >= 0 .*got -1"):
        ponder.sample(model, tok, ["a", "b"], stream_index=[0, -1], max_new_tokens=2)
    with pytest.raises(PonderError, match=r"^stream_index must be a list of prompt indices, got int$"):
        ponder.sample(model, tok, ["a"], stream_index=0, max_new_tokens=2)

@pytest.mark.parametrize("prompt, msg", [
    ([5, 10**6], r"prompt 0: token id 1000000 at position 1 is not in the tokenizer's vocabulary \(ids 0\.\.\d+\)"),
    ([5, -1], r"prompt 0: token id -1 at position 1 is not in the tokenizer's vocabulary"),
    ([5, 2.0], r"prompt 0: token ids must be integers, got 2\.0 at position 1$"),
    ([5, True], r"prompt 0: token ids must be integers, got True at position 1$"),
    ([5, {"role": "user", "content": "x"}], r"token ids must be integers, got \{'role'"),
])
def test_bad_token_ids_name_the_id_and_position(tiny_random, prompt, msg):
    model, tok = tiny_random
    with pytest.raises(PonderError, match=msg) as e:
        ponder.sample(model, tok, [prompt], max_new_tokens=2)
    assert "\n" not in str(e.value)


def test_a_shard_names_a_bad_prompt_by_its_global_index(tiny_random):
    """index_offset is the first prompt's index in the whole list (RayPool and DataParallel shard a step's prompts,
    scale's draw_subset a run of problems): a bad prompt of a shard was named by its index in the shard ("prompt
    0" for the caller's prompt 40). Every message names index_offset + i; index_offset=0 names i as before."""
    model, tok = tiny_random
    bad_id, long = [5, 10**6], "the quick brown fox jumps over"
    for offset, shard, at in ((40, ["hello", bad_id], 41), (40, [bad_id], 40), (0, ["hello", bad_id], 1)):
        with pytest.raises(PonderError, match=rf"^prompt {at}: token id 1000000 at position 1 "):
            ponder.sample(model, tok, shard, max_new_tokens=2, index_offset=offset)
    for offset, shard, at in ((40, ["hello", long], 41), (40, [long], 40), (0, ["hello", long], 1)):
        with pytest.raises(PonderError, match=rf"^prompt {at}: prompt of \d+ tokens \+ max_new_tokens 1000000 "):
            ponder.sample(model, tok, shard, max_new_tokens=10**6, index_offset=offset)
    with pytest.raises(PonderError, match=r"^prompt of \d+ tokens \+ max_new_tokens"):  # one prompt: no index to give
        ponder.sample(model, tok, [long], max_new_tokens=10**6)


def test_token_ids_the_model_generated_past_the_tokenizer_are_a_valid_prompt(tiny_random):
    """A model whose embedding is padded past the tokenizer's vocabulary (Qwen's; here 320 rows for 300 tokens)
    can generate a padding id; continuing it on the ids it wrote (budget forcing) was refused as "not in the
    tokenizer's vocabulary". Ids the model embeds are taken; ids past the embedding are still refused."""
    model, tok = tiny_random
    assert tok.vocab_size < model.config.vocab_size  # the seam this is about
    prompt = tok.encode("the quick", add_special_tokens=True) + [model.config.vocab_size - 1]
    a = ponder.sample(model, tok, [prompt], max_new_tokens=4, temperature=1.0, seed=1)[0][0]
    assert a.prompt_ids == prompt and a.num_tokens == 4
    with pytest.raises(PonderError, match=rf"^prompt 0: token id {model.config.vocab_size} at position 3 is not in "
                                          rf"the tokenizer's vocabulary \(ids 0\.\.{tok.vocab_size - 1}\) or the "
                                          rf"model's embedding \(ids 0\.\.{model.config.vocab_size - 1}\)$"):
        ponder.sample(model, tok, [prompt[:3] + [model.config.vocab_size]], max_new_tokens=2)
    # stream() takes the same prompts (it refused the padded id sample() takes) and draws the same text
    from ponder.engine import stream

    assert "".join(stream(model, tok, prompt, max_new_tokens=4, temperature=1.0, seed=1)) == a.text

def test_stream_yields_the_same_text_as_sample(tiny_random):
    from ponder.engine import stream_chat

    model, tok = tiny_random
    msgs = [{"role": "user", "content": "hello"}]
    pieces = []
    text = stream_chat(model, tok, msgs, on_text=pieces.append, max_new_tokens=12, temperature=0.0)
    ref = ponder.sample(model, tok, [msgs], max_new_tokens=12, temperature=0.0)[0][0]
    assert "".join(pieces) == text
    assert ref.text.startswith(text) and len(pieces) >= 1


def test_stream_draws_as_sample_does(tiny_random):
    """stream(seed=s) is sample(seed=s)'s first sample; with no seed it draws a fresh one as sample() does (it used
    to replay seed 0 every time: a chat gave the same reply to the same message)."""
    from ponder.engine import stream

    model, tok = tiny_random
    kw = dict(max_new_tokens=12, temperature=1.0)
    assert "".join(stream(model, tok, "hello", seed=5, **kw)) == ponder.sample(model, tok, ["hello"], seed=5, **kw)[0][0].text
    torch.manual_seed(0)
    texts = {"".join(stream(model, tok, "hello", **kw)) for _ in range(4)}
    assert len(texts) > 1


def test_stream_of_a_later_prompt_draws_its_own_stream(tiny_random):
    """stream(index=i) draws as sample(index_offset=i) does: the turns of a chat, each with the session's seed,
    read the same uniforms step by step before (index 0 is the stream it always drew)."""
    from ponder.engine import stream

    model, tok = tiny_random
    kw = dict(max_new_tokens=12, temperature=1.0, seed=5)
    for i in (0, 1, 7):
        want = ponder.sample(model, tok, ["hello"], index_offset=i, **kw)[0][0].text
        assert "".join(stream(model, tok, "hello", index=i, **kw)) == want
    assert len({"".join(stream(model, tok, "hello", index=i, **kw)) for i in range(4)}) > 1
    # a bad index is named as stream() takes it (it has no index_offset argument)
    with pytest.raises(PonderError, match=r"^index must be an integer >= 0 .*got -1$"):
        next(stream(model, tok, "hello", index=-1, **kw))


DECODE_CONFIGS = {
    "qwen3": dict(),
    "qwen3_mha_bias": dict(num_key_value_heads=4, attention_bias=True, mlp_bias=True),
    "qwen2": dict(model_type="qwen2", qk_norm=False, attention_bias=True, tie_word_embeddings=False),
    "llama3": dict(model_type="llama", qk_norm=False, num_key_value_heads=1, rope_theta=500000.0,
                   rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 8}),
}


@pytest.mark.parametrize("onednn", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("name", list(DECODE_CONFIGS))
def test_packed_decoder_equals_model_forward(name, dtype, onednn, monkeypatch):
    """The engine's CPU decode step (fused weights, oneDNN-reordered or pre-transposed; baddbmm attention)
    computes the model's forward: same logits step after step on a left-padded, ragged batch, also after
    rows leave the batch, and the same cache."""
    if onednn and not ponder.engine._ONEDNN:
        pytest.skip("this torch has no oneDNN linear")
    monkeypatch.setattr(ponder.engine, "_ONEDNN", onednn)
    cfg = ponder.ModelConfig(**{**dict(vocab_size=96, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=2), **DECODE_CONFIGS[name]})
    model = ponder.Transformer(cfg).init_weights(0, std=0.2).to(dtype).eval()
    with torch.no_grad():  # non-trivial norm weights and biases
        for n, p in model.named_parameters():
            if n.endswith("bias") or "norm" in n:
                p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)).to(dtype) * 0.3)
    ids = [[5, 9, 11], [7] * 9, [3, 4, 5, 6, 7, 8]]
    with torch.inference_mode():
        caches = [prefill(model, ids, 0, 20)[0] for _ in range(2)]
        dec = PackedDecoder.for_model(model)
        assert dec.lm_head.onednn == (onednn and (dtype == torch.float32 or torch.ops.mkldnn._is_mkldnn_bf16_supported()))
        t = torch.tensor([1, 2, 3])
        for step in range(7):
            if step == 5:  # two rows finish: both caches drop row 1
                caches = [c.select(torch.tensor([0, 2])) for c in caches]
                t = t[[0, 2]]
            for c in caches:
                c.valid[:, c.length] = True
            ref = model(t[:, None], cache=caches[0])[:, -1]
            ours = dec(t, caches[1])
            tol = 1e-5 if dtype == torch.float32 else 0.1 * ref.abs().max().item()
            assert (ref.float() - ours.float()).abs().max().item() <= tol
            t = ref.float().argmax(-1)
        assert caches[0].length == caches[1].length
        for a, b in zip(caches[0].k + caches[0].v, caches[1].k + caches[1].v):
            tol = 1e-5 if dtype == torch.float32 else 0.03 * a.float().abs().max().item()  # bf16: a few ulps
            assert (a.float() - b.float()).abs().max().item() <= tol


def test_packed_decoder_follows_weight_updates(tiny_random):
    model, _ = tiny_random
    a = PackedDecoder.for_model(model)
    assert PackedDecoder.for_model(model) is a  # nothing changed: reused
    with torch.no_grad():
        model.layers[0].mlp.up_proj.weight.mul_(1.0)  # an in-place update moves the version counter
    assert PackedDecoder.for_model(model) is not a


def test_a_model_made_under_inference_mode_samples_and_follows_its_updates(tiny_random):
    """A model built or loaded inside torch.inference_mode has weights without a version counter: sample() failed
    with "RuntimeError: Inference tensors do not track version counter". Its samples are the same model's, and
    an in-place update made there (unseen by any counter) is decoded with."""
    model, tok = tiny_random
    with torch.inference_mode():
        m = ponder.Transformer(model.config).eval()
        m.load_state_dict(model.state_dict())
        assert ponder.sample(m, tok, PROMPTS, max_new_tokens=8, temperature=0) == \
            ponder.sample(model, tok, PROMPTS, max_new_tokens=8, temperature=0)
        m.layers[0].mlp.up_proj.weight.mul_(3.0)
        for p, o in zip(PROMPTS, ponder.sample(m, tok, PROMPTS, max_new_tokens=8, temperature=0), strict=True):
            assert o[0].token_ids == naive_greedy(m, tok, p, 8)


def test_ragged_prefill_equals_prompts_alone(tiny_random):
    """A left-padded ragged batch (token-wise layers unpadded) gives each prompt's logits and cache."""
    model, tok = tiny_random
    ids = [[5] * 3, [6] * 30, [7] * 4, [8] * 29, [9] * 3]
    with torch.inference_mode():
        cache, logits = prefill(model, ids, tok.pad_token_id, 40)
        for i, x in enumerate(ids):  # each prompt alone
            c1, l1 = prefill(model, [x], tok.pad_token_id, 40 - 30 + len(x))
            assert (l1[0] - logits[i]).abs().max() < 1e-5
            assert torch.equal(cache.valid[i, :30], torch.arange(30) >= 30 - len(x))
            for a, b in zip(cache.k, c1.k):
                assert (a[i, :, 30 - len(x):30] - b[0, :, :len(x)]).abs().max() < 1e-5


def test_packed_decoder_is_not_carried_by_the_model(tiny_random):
    """The packed weights live beside the model: copies of the model do not carry them, and they go when
    the model goes."""
    import copy
    import gc

    from ponder.engine import _PACKED
    model, _ = tiny_random
    m2 = copy.deepcopy(model)
    PackedDecoder.for_model(m2)
    copy.deepcopy(m2)  # MKL-packed tensors cannot be copied: they must not be reachable from the model
    n = len(_PACKED)
    del m2
    gc.collect()
    assert len(_PACKED) == n - 1


def bigram_model(vocab: int, chain: list[int], then: int) -> ponder.Transformer:
    """A model whose greedy continuation of token chain[i] is chain[i + 1] (and `then` after the last): the
    attention and MLP write nothing, so the last hidden state is the current token's one-hot embedding."""
    cfg = ponder.ModelConfig(vocab_size=vocab, hidden_size=vocab, intermediate_size=16, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False)
    m = ponder.Transformer(cfg).init_weights(0).eval()
    nxt = {a: then for a in range(vocab)} | dict(zip(chain, chain[1:]))
    with torch.no_grad():
        m.layers[0].self_attn.o_proj.weight.zero_()
        m.layers[0].mlp.down_proj.weight.zero_()
        m.embed_tokens.weight.copy_(torch.eye(vocab))
        m.lm_head.weight.zero_()
        for a, b in nxt.items():
            m.lm_head.weight[b, a] = 10.0
    return m


def scripted(tok, prompt: str, text: str, then: str = "9"):
    """(model, prompt): greedy decoding of `prompt` writes exactly the tokens of `text`, then `then` forever."""
    p, ids = tok.encode(prompt, add_special_tokens=False), tok.encode(text, add_special_tokens=False)
    assert len(set(p[-1:] + ids)) == len(ids) + 1, "a bigram chain needs distinct tokens"
    vocab = tok.vocab_size + (-tok.vocab_size) % 8
    return bigram_model(vocab, p[-1:] + ids, tok.encode(then, add_special_tokens=False)[0]), prompt


@pytest.mark.parametrize("text,stop", [("中文", "中文"), ("a😀", "😀"), ("ab c", "b c")])
def test_stop_strings_of_several_tokens_per_character(tokenizer, text, stop):
    """Byte-level BPE spends up to 4 tokens on one character: the stop check must look back far enough."""
    model, prompt = scripted(tokenizer, "q", text)
    s = ponder.sample(model, tokenizer, [prompt], max_new_tokens=12, temperature=0, stop=[stop])[0][0]
    assert (s.finish_reason, s.text) == ("stop", text[: text.find(stop)])
    assert len(s.token_ids) == len(tokenizer.encode(text, add_special_tokens=False))


@pytest.mark.parametrize("text,stop", [("한中文", "中文"), ("한中文", "文"), ("é😀中", "😀中")])
def test_stop_strings_after_a_character_of_byte_tokens(byte_fallback_tokenizer, text, stop):
    """Llama 2 / Mistral write a character their vocabulary lacks byte by byte (<0xE4><0xB8><0xAD> for "中"). The
    stop check's window of the last len(stop) + 2 tokens could start inside the character before the stop string,
    and the ByteFallback decoder turns every byte of such an invalid run into "\ufffd": the stop string was read
    as "\ufffd"s and found only tokens later (token_ids ran past the text's cut)."""
    tok = byte_fallback_tokenizer
    model, prompt = scripted(tok, "q", text, then="the")
    full = tok.decode_continuation(tok.encode(prompt, True), tok.encode(text, add_special_tokens=False))  # (" " + text: the dummy prefix)
    s = ponder.sample(model, tok, [prompt], max_new_tokens=16, temperature=0, stop=[stop])[0][0]
    assert (s.finish_reason, s.text) == ("stop", full[: full.find(stop)])
    assert len(s.token_ids) == len(tok.encode(text, add_special_tokens=False))


def test_a_stop_string_read_inside_a_run_of_byte_tokens_that_is_no_utf8_does_not_stop(byte_fallback_tokenizer):
    """The ByteFallback decoder turns every byte token of a run that is no UTF-8 as a whole into "\ufffd" (as an
    untrained model writes them): the stop check's window, starting inside <0xF5><0x24><0x25><0x26><0x6C>, read
    "%&l" and stopped on "l", a stop string the sample's text ("\ufffd" x 5) lacks. A stop is what the text shows."""
    tok = byte_fallback_tokenizer
    run = [tok.tok.token_to_id(f"<0x{b:02X}>") for b in (0xF5, 0x24, 0x25, 0x26, 0x6C)]
    model = bigram_model(tok.vocab_size + (-tok.vocab_size) % 8, tok.encode("q", True)[-1:] + run,
                         then=tok.encode("the", add_special_tokens=False)[0])
    free = ponder.sample(model, tok, ["q"], max_new_tokens=8, temperature=0)[0][0]
    s = ponder.sample(model, tok, ["q"], max_new_tokens=8, temperature=0, stop=["l"])[0][0]
    assert free.text.startswith("\ufffd" * 5) and "l" not in free.text
    assert (s.token_ids, s.text, s.finish_reason) == (free.token_ids, free.text, "length")


def test_stream_after_a_prompt_ending_in_byte_tokens_shows_the_characters(byte_fallback_tokenizer):
    """A prompt ending in a character written in byte tokens ("中": <0xE4><0xB8><0xAD>) left the reply's own
    byte-token characters read as "\ufffd": decoded behind the prompt's last byte token alone, whose invalid run
    the ByteFallback decoder replaced whole. stream() and sample() showed "\ufffd\ufffd..." for "文😀"."""
    tok = byte_fallback_tokenizer
    prompt, reply = tok.encode("q中", add_special_tokens=False), tok.encode("文😀", add_special_tokens=False)[1:]  # (the reply without its dummy-prefix "▁")
    model = bigram_model(tok.vocab_size + (-tok.vocab_size) % 8, prompt[-1:] + reply, then=tok.eos_token_id)
    pieces = list(ponder.engine.stream(model, tok, "q中", max_new_tokens=len(reply) + 1, temperature=0))
    s = ponder.sample(model, tok, ["q中"], max_new_tokens=len(reply) + 1, temperature=0)[0][0]
    assert "".join(pieces) == s.text == "文😀" and s.finish_reason == "stop"


@pytest.mark.parametrize("text,stop,n_tokens", [
    ("a<|im_start|><|endoftext|><|im_end|>b", "ab", 5),
    ("xa<|im_start|><|endoftext|>b<|im_end|>c", "abc", 7),
])
def test_stop_strings_split_by_tokens_without_text(tokenizer, text, stop, n_tokens):
    """Special tokens decode to no text: the stop check's window of the last len(stop) + 2 tokens used to
    count them, so a stop string whose characters they separate was missed (the sample ran on to "length"
    with token_ids past the text's cut)."""
    model, prompt = scripted(tokenizer, "q", text)
    s = ponder.sample(model, tokenizer, [prompt], max_new_tokens=12, temperature=0, stop=[stop],
                      stop_at_eos=False)[0][0]
    assert (s.finish_reason, s.text, len(s.token_ids)) == ("stop", text[: text.find(stop[0])], n_tokens)


def test_stop_strings_split_by_ids_past_the_tokenizers_vocabulary(tokenizer):
    """Ids of a padded embedding past the tokenizer's vocabulary (Qwen's), which a model can draw, decode to no
    text, as special tokens: they took the stop check's window slots, so "a", 3 of them, "b" missed the stop "ab"
    and ran on to "length" with "ab999" uncut."""
    V, enc = tokenizer.vocab_size, lambda s: tokenizer.encode(s, add_special_tokens=False)[-1]
    model = bigram_model(V + 8 + (-V) % 8, [enc("q"), enc("a"), V, V + 1, V + 2, enc("b")], then=enc("9"))
    s = ponder.sample(model, tokenizer, ["q"], max_new_tokens=8, temperature=0, stop=["ab"])[0][0]
    assert (s.token_ids, s.text, s.finish_reason) == ([enc("a"), V, V + 1, V + 2, enc("b")], "", "stop")


def test_reasoning_tags_stay_in_the_text_and_can_stop(tokenizer):
    """<think> tags are added tokens but not special ones (as in Qwen3): completions keep them, so the format
    verifier sees them, and "</think>" works as a stop string."""
    text = "<think>ij</think>\\boxed{7}"
    model, prompt = scripted(tokenizer, "q", text)
    full = ponder.sample(model, tokenizer, [prompt], max_new_tokens=len(tokenizer.encode(text, add_special_tokens=False)), temperature=0)[0][0]
    assert full.text == text
    assert ponder.verify.check_format(full.text).correct
    cut = ponder.sample(model, tokenizer, [prompt], max_new_tokens=9, temperature=0, stop=["</think>"])[0][0]
    assert (cut.finish_reason, cut.text, len(cut.token_ids)) == ("stop", "<think>ij", 4)


def test_a_stop_on_the_first_or_the_last_allowed_token_is_a_stop(tokenizer):
    """A stop string or EOS completed by the last token max_new_tokens allows ends "stop" (vLLM's reason too), one
    token short "length"; a stop string in the first token's text ends with no text."""
    model, prompt = scripted(tokenizer, "q", "ab cd<|endoftext|>")  # (tokens: a, b, " ", c, d, EOS)

    def run(k, stop):
        s = ponder.sample(model, tokenizer, [prompt], max_new_tokens=k, temperature=0, stop=stop)[0][0]
        return s.text, len(s.token_ids), s.finish_reason

    assert run(5, ["cd"]) == ("ab ", 5, "stop")
    assert run(4, ["cd"]) == ("ab c", 4, "length")
    assert run(1, ["a"]) == run(12, ["a", "b"]) == ("", 1, "stop")
    assert run(1, ["b"]) == ("a", 1, "length")
    assert run(6, None) == run(12, ["zz"]) == ("ab cd", 6, "stop")
    assert run(5, None) == ("ab cd", 5, "length")


def test_progress_counts_every_row_once(tokenizer):
    model, prompt = scripted(tokenizer, "x", "ab<|endoftext|>")
    done = []
    # 2 of 10 rows end early and stay in the batch (it shrinks only below 75%): each is counted once
    out = ponder.sample(model, tokenizer, [prompt, "q", "zz", "w", "v"], n=2, max_new_tokens=6, temperature=1.0,
                        seed=0, progress=done.append)
    assert [s.finish_reason for g in out for s in g].count("stop") == 2
    assert sum(done) == 10


def test_a_stop_token_that_is_not_special_stays_out_of_the_text(tokenizer):
    """EOS ids from a checkpoint's generation_config may name a plain token: generation stops there, the
    token is kept in token_ids, and its text is left out, as stream() leaves it out (sample's text was
    "ab cd9" where stream's was "ab cd")."""
    from ponder.engine import stream
    from ponder.tokenizer import Tokenizer

    nine = tokenizer.encode("9", add_special_tokens=False)[0]
    tok = Tokenizer(tokenizer.tok, eos_token=tokenizer.eos_token, extra_eos_ids=[nine])
    model, prompt = scripted(tokenizer, "q", "ab cd", then="9")
    s = ponder.sample(model, tok, [prompt], n=2, max_new_tokens=12, temperature=0, stop=["zz"])[0]
    assert [(x.text, x.finish_reason, x.token_ids[-1]) for x in s] == [("ab cd", "stop", nine)] * 2
    assert "".join(stream(model, tok, prompt, max_new_tokens=12, temperature=0)) == "ab cd"


# ---- sampling settings and the context limit: one PonderError naming the setting and its value -----------


@pytest.mark.parametrize("kw, msg", [
    (dict(temperature=float("nan")), "temperature must be a number, got nan"),
    (dict(temperature=float("inf")), "temperature must be a finite number >= 0, got inf"),
    (dict(temperature=-0.5), "temperature must be a finite number >= 0, got -0.5"),
    (dict(temperature="1"), "temperature must be a number, got '1'"),
    (dict(top_p=float("nan")), "top_p must be a number, got nan"),
    (dict(top_p=1.5), r"top_p must be in \(0, 1\], got 1.5"),
    (dict(min_p=float("nan")), "min_p must be a number, got nan"),
    (dict(min_p=1.0), r"min_p must be in \[0, 1\), got 1.0"),
    (dict(min_p=-0.1), r"min_p must be in \[0, 1\), got -0.1"),
    (dict(top_k=-1), "top_k must be an integer >= 0"),
    (dict(top_k=2.5), "top_k must be an integer >= 0"),
    (dict(seed=-1), r"seed must be an integer in \[0, 2\*\*63\), got -1"),
    (dict(seed=2**63), r"seed must be an integer in \[0, 2\*\*63\), got 9223372036854775808"),
    (dict(seed=99999999999999999999), r"seed must be an integer in \[0, 2\*\*63\), got 99999999999999999999"),
    (dict(seed=1.5), r"seed must be an integer in \[0, 2\*\*63\), got 1.5"),
])
def test_bad_sampling_settings_name_the_value(tiny_random, kw, msg):
    from ponder.engine import stream

    model, tok = tiny_random
    with pytest.raises(PonderError, match=msg):
        ponder.sample(model, tok, ["hi"], max_new_tokens=4, **kw)
    with pytest.raises(PonderError, match=msg):
        list(stream(model, tok, "hi", max_new_tokens=4, **kw))


@pytest.mark.parametrize("kw, msg", [
    (dict(index_offset=1.5), r"index_offset must be an integer >= 0 .*got 1.5"),
    (dict(index_offset=-1), r"index_offset must be an integer >= 0 .*got -1"),
    (dict(index_offset=None), r"index_offset must be an integer >= 0 .*got None"),
    (dict(index_offset=2**70), r"index_offset must be an integer >= 0 and < 2\*\*63 .*got 1180591620717411303424"),
    (dict(max_batch_rows=0), "max_batch_rows must be a positive integer, got 0"),
    (dict(max_batch_rows=2.5), "max_batch_rows must be a positive integer, got 2.5"),
    (dict(progress=3), r"progress must be a callable\(done_rows\) or None, got 3"),
    (dict(stop_at_eos="no"), r"^stop_at_eos must be True or False, got 'no'$"),
    (dict(stop_at_eos=0), r"^stop_at_eos must be True or False, got 0$"),
    (dict(stop_at_eos=None), r"^stop_at_eos must be True or False, got None$"),
])
def test_bad_batching_settings_name_the_value(tiny_random, kw, msg):
    """index_offset and max_batch_rows failed as bare torch/Python errors (a float offset: '"rshift_cpu" not
    implemented for 'Float''; one past int64: 'int too big to convert'; a progress that is no callable: "'int'
    object is not callable", after the prefill), or were taken silently (a negative offset, a row limit of 0, a
    stop_at_eos of "no", which counted as true)."""
    model, tok = tiny_random
    with pytest.raises(PonderError, match=msg):
        ponder.sample(model, tok, ["hi"], max_new_tokens=4, seed=0, **kw)


def test_numpy_integer_counts_are_taken_as_their_ints(tiny_random):
    """n and max_new_tokens refused numpy integers ("n must be a positive integer, got 2" for np.int64(2)) while
    top_k and seed took them: all four now take any integer, drawing as the plain int does; bools, floats and
    values below 1 are still refused by name."""
    import numpy as np

    from ponder.engine import stream

    model, tok = tiny_random
    kw = dict(temperature=1.0, top_k=np.int64(50), seed=np.int64(3))
    want = ponder.sample(model, tok, ["hi", "the"], n=2, max_new_tokens=5, **kw)
    got = ponder.sample(model, tok, ["hi", "the"], n=np.int64(2), max_new_tokens=np.int32(5), **kw)
    assert [[s.token_ids for s in g] for g in got] == [[s.token_ids for s in g] for g in want]
    assert all(type(t) is int for g in got for s in g for t in s.token_ids)
    assert "".join(stream(model, tok, "hi", max_new_tokens=np.int64(5), **kw)) == want[0][0].text
    for name, bad in (("n", True), ("n", np.int64(0)), ("n", 2.0), ("max_new_tokens", np.int64(-1)),
                      ("max_new_tokens", np.float64(4)), ("max_new_tokens", False)):
        with pytest.raises(PonderError, match=rf"^{name} must be a positive integer, got "):
            ponder.sample(model, tok, ["hi"], **{"n": 1, "max_new_tokens": 4, name: bad})


def test_largest_seed_still_samples(tiny_random):
    model, tok = tiny_random
    a = ponder.sample(model, tok, ["hi"], max_new_tokens=4, seed=2**63 - 1)[0][0]
    assert a.num_tokens >= 1


def test_prompt_plus_max_new_tokens_must_fit_the_context(tokenizer, monkeypatch):
    import ponder.engine as engine
    from ponder.engine import render_prompts, stream

    cfg = ponder.ModelConfig(vocab_size=320, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=48)
    model = ponder.Transformer(cfg).init_weights(0, std=0.2).eval()
    chat = [{"role": "user", "content": "hello there"}]
    short, long = "hi", "the quick brown fox jumps over"
    n_short, n_long, n_chat = (len(render_prompts(tokenizer, [p])[0]) for p in (short, long, chat))
    assert n_short < n_long < 48 and n_chat < 48
    # exactly at the limit is fine
    assert ponder.sample(model, tokenizer, [short, long], max_new_tokens=48 - n_long, temperature=0,
                         stop_at_eos=False)[1][0].num_tokens == 48 - n_long
    # one more is refused, before any KV cache is allocated, naming both numbers (the longest prompt counts;
    # chat prompts count with their template) and, of several prompts, which one (a batch of a thousand said
    # only "prompt of N tokens")
    monkeypatch.setattr(engine.KVCache, "empty", lambda *a, **k: pytest.fail("KV cache allocated"))
    msg = f"prompt of {n_long} tokens + max_new_tokens {49 - n_long} exceeds the model's context of 48 positions"
    with pytest.raises(PonderError, match="^" + re.escape(f"prompt 1: {msg}") + "$"):
        ponder.sample(model, tokenizer, [short, long], max_new_tokens=49 - n_long)
    with pytest.raises(PonderError, match="^" + re.escape(msg) + "$"):
        ponder.sample(model, tokenizer, [long], max_new_tokens=49 - n_long)
    with pytest.raises(PonderError, match=f"^prompt of {n_chat} tokens \\+ max_new_tokens 100000 exceeds"):
        ponder.sample(model, tokenizer, [chat], max_new_tokens=100_000, n=2)
    with pytest.raises(PonderError, match=f"prompt of {n_short} tokens \\+ max_new_tokens 48 exceeds"):
        list(stream(model, tokenizer, short, max_new_tokens=48))


def test_completion_text_keeps_its_leading_space_with_a_sentencepiece_decoder():
    """A sentencepiece decoder (Llama 2, Mistral) drops the leading space of the first token it decodes: a
    completion decoded alone read "4we" after "4"; a stop string at its start (" we") was never seen."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, pre_tokenizers

    from ponder.engine import stream
    from ponder.tokenizer import Tokenizer

    words = ["the", "answer", "is", "4", "we", "fox", "12", "+", "30", "=", "hello"]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, **{"▁" + w: i + 3 for i, w in enumerate(words)}}
    hf = HFTokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    hf.pre_tokenizer, hf.decoder = pre_tokenizers.Metaspace(), decoders.Metaspace()
    hf.add_special_tokens(["<unk>", "<s>", "</s>"])
    tok = Tokenizer(hf, eos_token="</s>", bos_token="<s>")
    assert tok.decode(tok.encode("the answer", add_special_tokens=False), skip_special_tokens=True) == "the answer"  # (decoded alone: no leading space)
    cfg = ponder.ModelConfig(vocab_size=14, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1)
    model = ponder.Transformer(cfg).init_weights(0, std=0.5).eval()
    prompts = ["the answer is", "12 + 30 =", "hello fox"]
    for group in ponder.sample(model, tok, prompts, n=3, max_new_tokens=4, temperature=1.0, seed=0):
        for s in group:
            assert tok.decode(s.prompt_ids, skip_special_tokens=True) + s.text == tok.decode(s.prompt_ids + s.token_ids, skip_special_tokens=True)
            assert s.text.startswith(" ") or s.token_ids[0] < 3
    s = ponder.sample(model, tok, ["the answer is"], max_new_tokens=4, temperature=0)[0][0]
    first = tok.decode(s.token_ids[:2], skip_special_tokens=True)  # two words: " is 4", say
    first = " " + first if s.token_ids[0] >= 3 else first
    assert "".join(stream(model, tok, "the answer is", max_new_tokens=4, temperature=0)) == s.text
    cut = ponder.sample(model, tok, ["the answer is"], max_new_tokens=4, temperature=0, stop=[first])[0][0]
    assert (cut.text, cut.finish_reason, len(cut.token_ids)) == ("", "stop", 2)


HF_GREEDY = {
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", dict(head_dim=24, num_key_value_heads=2, rope_theta=1e6)),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", dict(num_key_value_heads=4, tie_word_embeddings=True)),
    "llama3": ("LlamaConfig", "LlamaForCausalLM", dict(
        num_key_value_heads=1, attention_bias=True, mlp_bias=True, rope_parameters={
            "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 16, "rope_theta": 5e5})),
    # YaRN's attention scale (cos and sin times 1.14 here) in the packed decode step, past the original context
    "qwen3_yarn": ("Qwen3Config", "Qwen3ForCausalLM", dict(head_dim=16, num_key_value_heads=2, attention_bias=True, rope_parameters={
        "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 8, "rope_theta": 1e4})),
}


@pytest.mark.parametrize("name", list(HF_GREEDY))
def test_greedy_equals_transformers_generate(tmp_path, name):
    """Greedy sampling of a transformers-saved checkpoint gives the tokens of transformers' generate
    (do_sample=False) on the same left-padded batch of prompts of different lengths, stopping at the EOS id
    its config.json names (the packed CPU decode path against transformers' own cache)."""
    transformers = pytest.importorskip("transformers")
    cfg_cls, model_cls, kw = HF_GREEDY[name]
    cfg = getattr(transformers, cfg_cls)(vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                         num_attention_heads=4, max_position_embeddings=256, **kw)
    torch.manual_seed(0)
    hf = getattr(transformers, model_cls)(cfg).eval()
    with torch.no_grad():  # outputs that vary, and biases and norms that count
        for n, p in hf.named_parameters():
            p.add_(torch.randn_like(p) * 0.1) if n.endswith("bias") or "norm" in n else p.mul_(5)
    tok = ponder.train_tokenizer(["ab cd ef " * 10, "12 + 34 = 46", "the quick brown fox"], vocab_size=280)
    prompts = ["ab cd", "the quick brown fox ab cd ef 12", "1"]
    ids = [tok.encode(p, add_special_tokens=True) for p in prompts]
    L, pad = max(map(len, ids)), tok.pad_token_id
    inp = torch.tensor([[pad] * (L - len(x)) + x for x in ids])
    mask = torch.tensor([[0] * (L - len(x)) + [1] * len(x) for x in ids])

    def generate(eos):
        out = hf.generate(inp, attention_mask=mask, max_new_tokens=16, do_sample=False, pad_token_id=pad,
                          eos_token_id=eos)[:, L:].tolist()
        return [r[: next((j + 1 for j, t in enumerate(r) if t in (eos or [])), len(r))] for r in out]

    eos = generate(None)[1][4]  # a token the long prompt's continuation reaches: that row stops early
    hf.config.eos_token_id = hf.generation_config.eos_token_id = eos
    hf.save_pretrained(tmp_path)
    tok.save(tmp_path)
    model, tok2 = ponder.load(tmp_path)
    ref = generate(sorted(tok2.stop_token_ids))
    ours = ponder.sample(model, tok2, prompts, max_new_tokens=16, temperature=0)
    assert [s[0].token_ids for s in ours] == ref
    assert ours[1][0].finish_reason == "stop" and len(ref[1]) <= 5


def test_a_tiny_temperature_is_greedy_not_nan(tiny_random):
    """logits / T overflowed to inf below T ~ 1e-37 (NaN probabilities: the last token, NaN log-probs)."""
    model, tok = tiny_random
    greedy = ponder.sample(model, tok, PROMPTS, max_new_tokens=8, temperature=0)
    for t in (1e-39, 5e-324):
        out = ponder.sample(model, tok, PROMPTS, max_new_tokens=8, temperature=t, seed=0)
        assert [o[0].token_ids for o in out] == [g[0].token_ids for g in greedy]
        assert all(lp == 0.0 for o in out for lp in o[0].logprobs)
    logits = torch.tensor([[1.0, 3.0, 2.0]])
    assert choose_tokens(logits, torch.tensor([0]), 0, 1e-45, 2, 0.5, 0.1)[0].tolist() == [1]


@pytest.mark.parametrize("stop", [5, [5], ["a", None, 3], [b"x"]])
def test_stop_that_is_not_strings_names_the_value(tiny_random, stop):
    model, tok = tiny_random
    with pytest.raises(PonderError, match=r"stop must be a string or a list of strings, got"):
        ponder.sample(model, tok, ["hi"], max_new_tokens=4, stop=stop)


def test_stream_ending_inside_a_character_yields_what_sample_returns(tiny_random):
    """A reply cut by max_new_tokens inside a multi-byte character ended the stream one piece short of
    sample()'s text (the held-back partial character was never yielded)."""
    from ponder.engine import stream

    model, tok = tiny_random
    kw = dict(max_new_tokens=1, temperature=1.0)
    cut = 0
    for seed in range(40):
        ref = ponder.sample(model, tok, ["hello"], seed=seed, **kw)[0][0].text
        assert "".join(stream(model, tok, "hello", seed=seed, **kw)) == ref
        cut += ref.endswith("\ufffd")
    assert cut > 0  # some seeds did end inside a character


def test_prompts_open_think_reads_token_id_prompts_as_their_text(tokenizer):
    """A token-id prompt opens the thinking exactly when the text its ids decode to (special tokens kept: the
    text the model reads) ends with "<think>", as the string or chat prompt it was encoded from says."""
    from ponder.engine import prompts_open_think, render_prompts

    tok = tokenizer
    msgs = [{"role": "user", "content": "hi"}]
    prompts = ["q<think>", "q<think>\n", "q", "q<think>z</think>", msgs]
    ids = render_prompts(tok, prompts)
    assert prompts_open_think(tok, ids) == prompts_open_think(tok, prompts) == [True, True, False, False, False]
    assert prompts_open_think(tok, [tuple(ids[0]), ids[2]]) == [True, False]
    with pytest.raises(PonderError, match="token id 1000000 at position 1"):
        prompts_open_think(tok, [[5, 10**6]])


@pytest.mark.parametrize("stop, msg", [
    ("\ud800", r"^stop string 0: holds a lone surrogate '\\ud800' at character 0, not UTF-8 text: "),
    (["ok", "", "a\udcff"], r"^stop string 2: holds a lone surrogate '\\udcff' at character 1, not UTF-8 text: "),
])
def test_stop_string_that_is_not_utf8_names_it(tiny_random, stop, msg):
    """A stop string holding a lone surrogate (JSON's "\\ud800", a byte read with surrogateescape) failed after
    the prefill as a bare UnicodeEncodeError; prompts holding one are refused in one line already."""
    model, tok = tiny_random
    with pytest.raises(PonderError, match=msg):
        ponder.sample(model, tok, ["hi"], max_new_tokens=4, stop=stop)



def test_rational_sampling_settings_sample_as_their_floats(tiny_random):
    """check_sampling takes any real number (a Fraction too); sample() and stream() then divided and compared
    tensors by the Fraction itself, a bare TypeError. They sample as the float it is."""
    from fractions import Fraction

    from ponder.engine import stream

    model, tok = tiny_random
    kw = dict(max_new_tokens=6, seed=3, top_k=40)
    frac = dict(temperature=Fraction(7, 10), top_p=Fraction(9, 10), min_p=Fraction(1, 20))
    ref = ponder.sample(model, tok, ["hi"], temperature=0.7, top_p=0.9, min_p=0.05, **kw)[0][0]
    got = ponder.sample(model, tok, ["hi"], **frac, **kw)[0][0]
    assert (got.token_ids, got.logprobs) == (ref.token_ids, ref.logprobs)
    assert "".join(stream(model, tok, "hi", **frac, **kw)) == ref.text


def test_stream_decodes_only_the_tokens_not_yet_shown(tiny_random, byte_fallback_tokenizer, monkeypatch):
    """stream() decoded the whole reply at every token (quadratic: minutes of decoding over a 32k-token thinking
    trace); each decode now reads the unshown tokens behind at most 8 shown ones, and the pieces still join to
    sample()'s text, sentencepiece seams and byte-token characters included."""
    from ponder.engine import stream

    model, tok = tiny_random
    longest, lengths = [], 0
    real = type(tok).decode
    monkeypatch.setattr(type(tok), "decode", lambda self, ids, *a, **k: longest.append(len(ids)) or real(self, ids, *a, **k))
    for seed in range(6):
        kw = dict(max_new_tokens=40, temperature=1.0, seed=seed)
        longest.clear()
        text = "".join(stream(model, tok, "hello", **kw))
        assert max(longest, default=0) <= 16
        lengths += len(text)
        assert text == ponder.sample(model, tok, ["hello"], **kw)[0][0].text
    assert lengths > 100  # (replies long enough to matter)
    bf = byte_fallback_tokenizer
    reply = bf.encode("q 文😀 we 4 é", add_special_tokens=False)[2:]
    m = bigram_model(bf.vocab_size + (-bf.vocab_size) % 8, bf.encode("q", add_special_tokens=False)[-1:] + reply, then=bf.eos_token_id)
    pieces = list(stream(m, bf, "q", max_new_tokens=len(reply) + 1, temperature=0))
    assert "".join(pieces) == ponder.sample(m, bf, ["q"], max_new_tokens=len(reply) + 1, temperature=0)[0][0].text


def test_stream_projects_only_the_last_prompt_position_to_the_vocabulary(tiny_random):
    """stream() prefilled through the model's forward, which projects every prompt position to the vocabulary:
    [prompt tokens, vocab] logits of which it read one row (a chat of 8k tokens on a 152k vocabulary: 5 GB in
    fp32, each turn). sample()'s prefill projects the last position alone; stream() uses it too."""
    from ponder.engine import stream

    model, tok = tiny_random
    prompt = " ".join(["the quick brown fox"] * 10)
    rows = []
    h = model.lm_head.register_forward_hook(lambda m, args, out: rows.append(args[0].shape[:-1].numel()))
    try:
        text = "".join(stream(model, tok, prompt, max_new_tokens=3, temperature=1.0, seed=2))
    finally:
        h.remove()
    assert len(tok.encode(prompt, add_special_tokens=False)) > 30 and rows and max(rows) == 1
    assert text == ponder.sample(model, tok, [prompt], max_new_tokens=3, temperature=1.0, seed=2)[0][0].text


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_logits_that_are_not_finite_are_an_error_not_samples(tiny_random, temperature):
    """A model whose logits are NaN (diverged weights, an fp16 overflow) was sampled silently: greedy took token 0
    (argmax reads NaN as the largest: here EOS, an empty "stop" completion), sampling the vocabulary's last id,
    with NaN log-probs for RL. transformers' sampling refuses such probabilities; here one line names the token."""
    import copy

    from ponder.engine import stream

    model, tok = tiny_random
    bad = copy.deepcopy(model)
    with torch.no_grad():
        bad.layers[1].mlp.down_proj.weight[0, 0] = float("nan")
    msg = r"^the model's logits are not finite \(NaN\) at new token 1 of prompt 1: "  # (index_offset + 0)
    with pytest.raises(PonderError, match=msg):
        ponder.sample(bad, tok, PROMPTS[:2], max_new_tokens=4, temperature=temperature, seed=0, index_offset=1)
    with pytest.raises(PonderError, match=msg.replace("prompt 1", "the prompt")):
        list(stream(bad, tok, PROMPTS[0], max_new_tokens=4, temperature=temperature, seed=0))


def test_sampling_a_model_in_training_mode_is_not_dropped_out(tiny_random):
    """A model left in training mode with an attention_dropout (a checkpoint's, in a user's own training loop) was
    sampled with dropout in the prefill (and, on a GPU, in every decode step): greedy decoding gave other tokens at
    each call, a seed did not reproduce, and torch's global generator moved. Sampling is inference: no dropout,
    and every module's mode is left as it was."""
    import dataclasses

    from ponder.engine import _forward_decoder, stream

    model, tok = tiny_random
    drop = ponder.Transformer(dataclasses.replace(model.config, attention_dropout=0.5))
    drop.load_state_dict(model.state_dict())
    drop.train()
    drop.layers[1].eval()  # (a module in its own mode keeps it)
    modes = [m.training for m in drop.modules()]
    ref = ponder.sample(model, tok, PROMPTS, max_new_tokens=8, temperature=0)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    for _ in range(2):
        got = ponder.sample(drop, tok, PROMPTS, max_new_tokens=8, temperature=0)
        assert [g[0].token_ids for g in got] == [r[0].token_ids for r in ref]
    assert "".join(stream(drop, tok, PROMPTS[0], max_new_tokens=8, temperature=0)) == ref[0][0].text
    assert torch.equal(torch.get_rng_state(), state) and [m.training for m in drop.modules()] == modes
    # the decode step off the CPU (the model's own forward) too
    with torch.inference_mode():
        cache, logits = prefill(model, [tok.encode(PROMPTS[0], add_special_tokens=False)], tok.pad_token_id, 20)
        cache2, _ = prefill(drop, [tok.encode(PROMPTS[0], add_special_tokens=False)], tok.pad_token_id, 20)
        t = logits.argmax(-1)
        for c in (cache, cache2):
            c.valid[:, c.length] = True
        assert torch.equal(_forward_decoder(drop)(t, cache2), _forward_decoder(model)(t, cache))
    assert torch.equal(torch.get_rng_state(), state) and [m.training for m in drop.modules()] == modes


def test_top_p_keeps_no_token_past_a_prefix_whose_mass_is_exactly_top_p():
    """The nucleus is the smallest prefix (by probability) whose mass reaches top_p: with top_p equal to the mass
    of the first k + 1 tokens, token k is the last one drawable. The mass before a token was cumsum - p, rounded
    below the prefix's own sum at some ties: the next token was kept too."""
    g = torch.Generator().manual_seed(0)
    for _ in range(30):
        logits = torch.randn(1, 7, generator=g).sort(-1, descending=True).values  # token order = probability order
        p = torch.log_softmax(logits, -1).exp()
        mass = (p / p.sum(-1, keepdim=True)).cumsum(-1)[0]  # the engine's float32 masses
        for k in range(6):
            # u = 1: the last token that has probability left after the cut
            tok, _ = choose_tokens(logits, torch.tensor([0]), 0, 1.0, 0, float(mass[k]), 0.0, u=torch.tensor([1.0]))
            assert int(tok) == k


def test_filters_draw_from_what_transformers_warpers_keep():
    """temperature, top-k, top-p and min-p together keep the tokens transformers' logits warpers keep, applied in
    generate()'s order (temperature, top-k, top-p, min-p), and the draw is the inverse CDF of that kept
    distribution at the row's uniform: checked on random logits (no ties: a tie at a cut is broken either way)."""
    transformers = pytest.importorskip("transformers")
    g = torch.Generator().manual_seed(0)
    for trial in range(12):
        V = [7, 50, 333][trial % 3]
        logits = torch.randn(16, V, generator=g) * (0.5 + trial / 3)
        keys = torch.arange(16, dtype=torch.int64) + 100 * trial
        for T, k, p, m in [(1.0, 0, 0.9, 0.0), (0.7, 5, 1.0, 0.1), (1.3, 20, 0.5, 0.05), (0.5, 3, 0.3, 0.3),
                           (1.0, 0, 1.0, 0.2), (2.0, 40, 0.95, 0.0)]:
            warpers = [transformers.TemperatureLogitsWarper(T)] + (
                [transformers.TopKLogitsWarper(k)] if k else []) + (
                [transformers.TopPLogitsWarper(p)] if p < 1 else []) + (
                [transformers.MinPLogitsWarper(m)] if m else [])
            scores = logits.clone()
            for w in warpers:
                scores = w(None, scores)
            probs = torch.softmax(logits.double() / T, -1).masked_fill(~torch.isfinite(scores), 0.0)
            cdf = probs.cumsum(-1)
            want = torch.searchsorted(cdf, (uniform(keys, 2).double() * cdf[:, -1])[:, None])[:, 0]
            tok, _ = choose_tokens(logits, keys, 2, T, k, p, m)
            assert torch.equal(tok, want), (trial, T, k, p, m)


@pytest.mark.parametrize("top_p", [1e-46, 1e-300, 5e-324])
def test_a_top_p_below_float32s_smallest_keeps_the_most_likely_token(top_p):
    """top_p in (0, 1) always leaves the most likely token drawable (the nucleus is never empty). A top_p below
    float32's smallest number (a valid setting: check_sampling takes any top_p in (0, 1]) rounded to 0 against the
    float32 masses, every token was cut, and the draw fell on token 0, of probability ~0, at every step."""
    logits = torch.tensor([[-30.0, 1.0, 3.0, 2.0], [5.0, -1.0, 0.0, 4.0]])
    for u in (1e-6, 0.5, 1.0):
        tok, _ = choose_tokens(logits, torch.tensor([0, 1]), 0, 1.0, 0, top_p, 0.0, u=torch.tensor([u, u]))
        assert tok.tolist() == logits.argmax(-1).tolist()


@pytest.mark.parametrize("which", ["tokenizer", "byte_fallback_tokenizer"])
def test_streamed_pieces_join_to_the_text_sample_returns(which, request):
    """stream()'s pieces join to exactly sample()'s text, decode_continuation(prompt, tokens), for any tokens:
    random ones, heavy in byte tokens (runs that are no UTF-8, runs cut inside a character) and special ones. A run
    of byte-fallback tokens is one to the ByteFallback decoder, "\ufffd" for every byte when invalid as a whole:
    stream() showed "中" (or "V" for <0x56>) before the byte that made its run invalid, sample() "\ufffd"s."""
    import random

    from ponder.engine import _byte_token_ids, text_pieces

    tok = request.getfixturevalue(which)
    rng = random.Random(0)
    byte_like = sorted(_byte_token_ids(tok)) or [i for i in range(tok.vocab_size) if tok.decode([i], skip_special_tokens=True) == "\ufffd"]
    special = sorted(tok.skipped_token_ids)
    for _ in range(400):
        prompt = tok.encode(rng.choice(["q", "q中", "the fox "]), add_special_tokens=True)
        # (ids past the vocabulary too: a padded embedding's, which decode to nothing)
        ids = [rng.choice(byte_like) if r < 0.6 else rng.choice(special) if r < 0.65 else tok.vocab_size + 1
               if r < 0.68 else rng.randrange(tok.vocab_size) for r in (rng.random() for _ in range(rng.randrange(1, 12)))]
        pieces = list(text_pieces(tok, prompt, iter(ids)))
        assert "".join(pieces) == tok.decode_continuation(prompt, ids), (prompt, ids)
        assert all(pieces)  # (no empty pieces)


def test_a_reply_of_replacement_characters_streams_as_it_is_written(tokenizer):
    """U+FFFD is a character a model can write (web text holds it; Qwen's vocabulary has a token for it), not only a
    character cut short. stream() held its text while it ended in "\ufffd", so a reply of them showed nothing
    before its end and was decoded whole at every token: quadratic (27 s for 4,000 of them). A character cut short
    is still held: "中" and "😀" written in byte-level tokens are not shown as "\ufffd" before their last byte."""
    from ponder.engine import text_pieces

    tok = tokenizer
    read = []  # how many characters the model had written when each piece came out

    def tokens():
        for k, ch in enumerate("\ufffd" * 30 + "中\ufffd😀\ufffd"):
            yield from tok.encode(ch, add_special_tokens=False)
            read.append(k)

    pieces = [(p, len(read)) for p in text_pieces(tok, tok.encode("q", add_special_tokens=True), tokens())]
    assert len(tok.encode("\ufffd", add_special_tokens=False)) > 1  # (U+FFFD's bytes in several tokens)
    assert [p for p, _ in pieces] == list("\ufffd" * 30 + "中\ufffd😀\ufffd")  # each character once whole
    assert [n for _, n in pieces] == list(range(34))  # ...as soon as its last token is read


def test_stream_holds_a_run_of_byte_tokens_until_it_ends(byte_fallback_tokenizer):
    """<0x56> ("V") then <0x96>: the run is no UTF-8 as a whole, and the ByteFallback decoder reads each of its bytes
    as "\ufffd" (sample()'s text); stream() had shown "V" already."""
    tok = byte_fallback_tokenizer
    reply = [tok.token_to_id("<0x56>"), tok.token_to_id("<0x96>"), tok.encode("the", add_special_tokens=False)[-1]]
    model = bigram_model(tok.vocab_size + (-tok.vocab_size) % 8, tok.encode("q", add_special_tokens=False)[-1:] + reply, then=tok.eos_token_id)
    pieces = list(ponder.engine.stream(model, tok, "q", max_new_tokens=len(reply) + 1, temperature=0))
    s = ponder.sample(model, tok, ["q"], max_new_tokens=len(reply) + 1, temperature=0)[0][0]
    assert s.token_ids == reply + [tok.eos_token_id]
    assert "".join(pieces) == s.text and s.text.startswith("\ufffd\ufffd")


@pytest.mark.parametrize("which", ["tokenizer", "byte_fallback_tokenizer"])
def test_a_token_id_prompt_cut_inside_a_character_gives_the_reply_the_character(which, request):
    """A token-id prompt ending inside a character (a length-cut sample continued: "中" as <E4><B8> | <AD>) decodes
    to "\ufffd" there; the reply that completes it read "\ufffd\ufffd文x" in sample() and "\ufffd文x" in stream().
    The character is the reply's: the prompt's text less its "\ufffd" + the reply's is the whole text."""
    tok = request.getfixturevalue(which)
    full = tok.encode("q中文x", add_special_tokens=True)
    for cut in range(1, len(full)):
        prompt, reply = full[:cut], full[cut:]
        head = tok.decode(prompt, skip_special_tokens=True)
        if not head.endswith("\ufffd"):
            continue
        model = bigram_model(tok.vocab_size + (-tok.vocab_size) % 8, prompt[-1:] + reply, then=tok.eos_token_id)
        if len(set(prompt[-1:] + reply)) < len(reply) + 1:  # (a bigram chain needs distinct tokens)
            continue
        s = ponder.sample(model, tok, [prompt], max_new_tokens=len(reply) + 1, temperature=0)[0][0]
        pieces = list(ponder.engine.stream(model, tok, prompt, max_new_tokens=len(reply) + 1, temperature=0))
        assert s.token_ids == reply + [tok.eos_token_id]
        assert head.rstrip("\ufffd") + s.text == tok.decode(full, skip_special_tokens=True) and "".join(pieces) == s.text, (cut, s.text, pieces)


def test_on_stop_goes_on_as_a_fresh_call_on_the_context_would(tokenizer):
    """on_stop's seed continues a sample stopped on a stop string from the cache: the same ids, log-probs, text and
    finish reason as a new call on the prompt + the ids so far with that seed (its stream from its first step), for
    each sample of n, with the rows capped per call or not; a seed that is no seed is refused by name."""
    tok = tokenizer
    nl, eight, eos = tok.encode("\n", add_special_tokens=False)[0], tok.encode("8", add_special_tokens=False)[0], tok.encode("<|endoftext|>", add_special_tokens=False)[0]
    vocab = tok.vocab_size + (-tok.vocab_size) % 8
    m = bigram_model(vocab, [], eos)
    with torch.no_grad():  # after a newline: another or "8" (one as likely as the other); after "8" a newline
        m.lm_head.weight[:, nl] = 0.0
        m.lm_head.weight[nl, nl] = m.lm_head.weight[eight, nl] = m.lm_head.weight[nl, eight] = 10.0
    prompt = tok.encode("q\n", add_special_tokens=False)
    kw = dict(n=3, temperature=1.0, stop="\n", max_new_tokens=12, index_offset=2)

    def go_on(p, j, s):  # three more samples at most, each on a seed of its own
        seen.append((p, j, s))
        return 40 + sum(x[1] == j for x in seen) if sum(x[1] == j for x in seen) <= 3 else None

    for rows in (512, 1):
        seen = []
        got = ponder.sample(m, tok, [prompt], seed=7, on_stop=go_on, max_batch_rows=rows, **kw)[0]
        for j in range(3):  # the same samples, one call each
            mine = [(p, s) for p, k, s in seen if k == j]
            ctx, seed, left = prompt, 7, 12
            for k in range(min(len(mine), 3) + 1):
                s = ponder.sample(m, tok, [ctx], seed=seed, **{**kw, "n": j + 1, "max_new_tokens": left})[0][j]
                assert k == len(mine) or mine[k] == (0, s)
                ctx, seed, left = ctx + s.token_ids, 41 + k, left - s.num_tokens
            assert got[j] == s and got[j].prompt_ids == ctx[:len(ctx) - s.num_tokens]
        assert len(seen) > 3
    with pytest.raises(PonderError, match="seed must be an integer"):
        ponder.sample(m, tok, [prompt], seed=7, on_stop=lambda *a: -1, **kw)
    with pytest.raises(PonderError, match="on_stop must be a callable"):
        ponder.sample(m, tok, [prompt], seed=7, on_stop=3, **kw)


def test_on_stop_returning_no_seed_is_named_as_on_stops(tokenizer):
    """A value on_stop returns that is no seed is refused naming on_stop, the prompt and the sample (as the sample
    index the caller sees, split calls too): 'seed must be an integer ..., got -1' read as the call's own seed=7."""
    tok = tokenizer
    nl, eos = tok.encode("\n", add_special_tokens=False)[0], tok.encode("<|endoftext|>", add_special_tokens=False)[0]
    m = bigram_model(tok.vocab_size + (-tok.vocab_size) % 8, [], eos)
    with torch.no_grad():  # newlines only
        m.lm_head.weight[:, nl] = 0.0
        m.lm_head.weight[nl, nl] = 10.0
    for rows in (512, 1):
        for bad in (-1, 1.5, "3", True):
            with pytest.raises(PonderError, match=rf"on_stop returned {re.escape(repr(bad))} for prompt 1, sample 2: "
                                                  r"seed must be an integer in \[0, 2\*\*63\)$"):
                ponder.sample(m, tok, ["q", "q\n"], n=3, seed=7, stop="\n", max_new_tokens=4, max_batch_rows=rows,
                              on_stop=lambda p, j, s, bad=bad: bad if (p, j) == (1, 2) else 5)


def test_on_stop_rows_keep_their_streams_as_others_finish_and_leave_the_batch(tokenizer):
    """Several prompts, n of each, some rows ending at once (EOS) so the batch drops them while others go on after
    stops (their keys and draws move to other batch positions): each sample still equals the chain of fresh calls
    on its context, with the rows capped per call or not."""
    tok = tokenizer
    nl, eight, eos = tok.encode("\n", add_special_tokens=False)[0], tok.encode("8", add_special_tokens=False)[0], tok.encode("<|endoftext|>", add_special_tokens=False)[0]
    m = bigram_model(tok.vocab_size + (-tok.vocab_size) % 8, [], eos)
    with torch.no_grad():  # after a newline: another or "8"; after "8" a newline; anything else EOS
        m.lm_head.weight[:, nl] = 0.0
        m.lm_head.weight[nl, nl] = m.lm_head.weight[eight, nl] = m.lm_head.weight[nl, eight] = 10.0
    prompts = [tok.encode(p, add_special_tokens=False) for p in ("z", "q\n", "z", "q\n", "q\n")]
    kw = dict(n=2, temperature=1.0, stop="\n", max_new_tokens=10, index_offset=3)

    def seed_of(p, j, k):  # the k-th sample after the first of (p, j); prompt 1's sample 0 never goes on
        return None if (p, j) == (1, 0) or k > 2 + p else 100 * p + 10 * j + k

    for rows in (512, 3, 1):
        went_on = {}

        def on_stop(p, j, s, went_on=went_on):
            nxt = seed_of(p, j, len(went_on.get((p, j), [])) + 1)
            if nxt is not None:
                went_on.setdefault((p, j), []).append(s)
            return nxt

        got = ponder.sample(m, tok, prompts, seed=7, on_stop=on_stop, max_batch_rows=rows, **kw)
        for p, j in [(p, j) for p in range(5) for j in range(2)]:
            ctx, seed, left = prompts[p], 7, 10
            for k, s_then in enumerate(went_on.get((p, j), []) + [got[p][j]]):
                s = ponder.sample(m, tok, [ctx], seed=seed, **{**kw, "n": j + 1, "max_new_tokens": left,
                                                               "index_offset": 3 + p})[0][j]
                assert s == s_then and s.prompt_ids == s_then.prompt_ids, (rows, p, j, k)
                ctx, seed, left = ctx + s.token_ids, seed_of(p, j, k + 1), left - s.num_tokens
        assert sum(map(len, went_on.values())) >= 6


def test_a_yarn_model_takes_original_max_position_embeddings_times_factor(tokenizer):
    """Qwen3 with YaRN as its model cards enable it (factor 4 over original_max_position_embeddings, with
    max_position_embeddings left as it was) takes original x factor positions, as vLLM does: prompts past
    max_position_embeddings were refused as past "the model's context"; the limit named says where it comes from."""
    from ponder.engine import check_context

    cfg = ponder.ModelConfig(vocab_size=320, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=20,
                             rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16})
    model = ponder.Transformer(cfg).init_weights(0, std=0.2).eval()
    check_context(model, [[1] * 50], 14)  # 64 positions: fits
    out = ponder.sample(model, tokenizer, [[5] * 50], max_new_tokens=14, temperature=0, stop_at_eos=False)
    assert out[0][0].num_tokens == 14
    with pytest.raises(PonderError, match="^" + re.escape(
            "prompt of 50 tokens + max_new_tokens 15 exceeds the model's context of 64 positions "
            "(64 = original_max_position_embeddings 16 x yarn factor 4)") + "$"):
        check_context(model, [[1] * 50], 15)


def test_streamed_pieces_after_a_prompt_cut_inside_a_long_byte_token_run(byte_fallback_tokenizer):
    """A token-id prompt cut inside a character that ends a run of byte-fallback tokens longer than 8 ("😀😀😀€" cut
    inside "€"): sample()'s text takes the whole run (decode_continuation of the whole prompt), and stream() read
    the prompt's last 8 tokens only, a run cut at its start: "\ufffd\ufffd12 fox" for "😀😀😀€12 fox"."""
    from ponder.engine import text_pieces

    tok = byte_fallback_tokenizer
    for text in ("😀😀😀€12 fox", "中文中文中文中文 fox"):
        ids = tok.encode(text, add_special_tokens=True)
        for cut in range(1, len(ids)):
            prompt, reply = ids[:cut], ids[cut:]
            assert "".join(text_pieces(tok, prompt, iter(reply))) == tok.decode_continuation(prompt, reply), cut


def test_a_stop_string_on_a_token_past_a_hole_in_the_vocabulary_stops():
    """A vocabulary with unused ids (a tiktoken conversion's) has fewer tokens than its largest id + 1: vocab_size
    was the token count, and an id at or past it was taken for one past the vocabulary, with no text. A stop
    string written by such a token never stopped the sample ("length", the text uncut), and a token-id prompt
    holding it was refused as not in the vocabulary."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, pre_tokenizers

    from ponder.tokenizer import Tokenizer

    vocab = {"<unk>": 0, "</s>": 1, "▁a": 2, "▁b": 3, "▁q": 4, "▁z": 9}  # ids 5..8 unused
    hf = HFTokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    hf.pre_tokenizer, hf.decoder = pre_tokenizers.Metaspace(), decoders.Metaspace()
    hf.add_special_tokens(["<unk>", "</s>"])
    tok = Tokenizer(hf, eos_token="</s>")
    assert tok.vocab_size == 10
    model = bigram_model(16, [4, 2, 9, 3], then=2)
    s = ponder.sample(model, tok, ["q"], max_new_tokens=6, temperature=0, stop=["z"])[0][0]
    assert (s.finish_reason, s.text, s.token_ids) == ("stop", " a ", [2, 9])
    s = ponder.sample(model, tok, [[4, 2, 9]], max_new_tokens=1, temperature=0)[0][0]
    assert s.token_ids == [3]
    assert "".join(ponder.engine.stream(model, tok, "q", max_new_tokens=3, temperature=0)) == " a z b"


def test_seed_zero_first_draw_is_not_pinned_to_the_lowest_token():
    """splitmix64's finaliser maps 0 to 0: seed 0 (every command's default) gave prompt 0's sample 0 the smallest
    uniform at step 0, so it drew the lowest-id token of positive probability in every run: the shipped tiny
    model's EOS (probability ~1e-4 after an arith prompt), an empty first sample in the README's quickstart, an
    empty first `ponder chat` reply, and one forced wrong sample in every seed-0 evaluation and GRPO run."""
    from ponder.engine import _mix, stream

    keys = _mix(_mix(torch.tensor(0, dtype=torch.int64)) + torch.arange(4))  # seed 0, prompt 0, samples 0..3
    assert uniform(keys, 0).min() > 1e-3  # was 2**-25 for sample 0
    model, tok = ponder.load("tiny")
    prompt = "Problem: 8 * 9 - 17 + 18 - 10 = ?\nSolution:"
    first = ponder.sample(model, tok, [prompt], n=8, max_new_tokens=4, temperature=1.0, seed=0)[0][0]
    assert first.token_ids[0] != 0 and first.logprobs[0] > -6.0, (first.token_ids, first.logprobs)
    assert "".join(stream(model, tok, prompt, max_new_tokens=4, temperature=1.0, seed=0, index=0)) != ""
