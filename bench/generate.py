"""Ponder's sampling engine vs transformers' `generate` on the same weights, side by side in one run.

A small Qwen3-shaped model (random weights), CPU, 32 prompts x 64 new tokens with sampling; EOS is
disabled on both sides so every row generates exactly 64 tokens. Prints one JSON line.

    python bench/generate.py [--prompts 32] [--new 64] [--repeats 3] [--dtype float32|bfloat16]

`--dtype bfloat16` runs both sides on the same bf16 weights (worth it on CPUs with bf16 units: AVX512-BF16
or AMX; elsewhere bf16 matmuls are emulated and slower than fp32).
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ponder  # noqa: E402
from ponder.cli import _positive_int as positive  # noqa: E402  (argparse's type for a count >= 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=positive, default=32)
    ap.add_argument("--new", type=positive, default=64)
    ap.add_argument("--repeats", type=positive, default=3)
    ap.add_argument("--threads", type=positive, default=2)
    ap.add_argument("--hidden", type=positive, default=256)
    ap.add_argument("--layers", type=positive, default=4)
    ap.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    try:
        import transformers
    except ImportError as e:  # an optional opponent (`pip install -e '.[bench]'`): one line, not a traceback
        raise SystemExit(f"{Path(__file__).name}: the side compared against cannot be imported ({e}); "
                         "install it with: pip install -e '.[bench]'") from None

    words = "the cat sat on a mat while numbers like 12 and 345 add up to more than you think".split()
    texts = [" ".join(words[i % len(words):] + words[: i % len(words)]) for i in range(200)]
    tok = ponder.train_tokenizer(texts, vocab_size=1024)
    cfg = ponder.ModelConfig(vocab_size=1024, hidden_size=a.hidden, intermediate_size=3 * a.hidden,
                             num_hidden_layers=a.layers, num_attention_heads=a.hidden // 64,
                             num_key_value_heads=max(1, a.hidden // 128), head_dim=64)
    dtype = getattr(torch, a.dtype)
    model = ponder.Transformer(cfg).init_weights(0).eval().to(dtype)
    with tempfile.TemporaryDirectory() as d:
        ponder.save(model, tok, d)
        hf = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=dtype).eval()
    ours = model.state_dict()
    assert all(torch.equal(p, ours[k.removeprefix("model.")]) for k, p in hf.state_dict().items()
               if k.removeprefix("model.") in ours)  # the same weights on both sides
    rng = torch.Generator().manual_seed(0)
    prompts = [" ".join(words[j] for j in torch.randint(0, len(words), (int(torch.randint(4, 24, (1,), generator=rng)),),
                                                         generator=rng).tolist()) for _ in range(a.prompts)]
    ids = [tok.encode(p, add_special_tokens=False) for p in prompts]
    L = max(map(len, ids))
    pad = tok.pad_token_id
    inp = torch.tensor([[pad] * (L - len(x)) + x for x in ids])
    att = torch.tensor([[0] * (L - len(x)) + [1] * len(x) for x in ids])
    n_tokens = a.prompts * a.new

    def run_ponder():
        out = ponder.sample(model, tok, prompts, max_new_tokens=a.new, temperature=1.0, seed=0, stop_at_eos=False)
        assert all(len(g[0].token_ids) == a.new for g in out)

    def run_hf():
        with torch.no_grad():
            out = hf.generate(input_ids=inp, attention_mask=att, do_sample=True, temperature=1.0, top_k=0,
                              max_new_tokens=a.new, min_new_tokens=a.new, pad_token_id=pad)
        assert out.shape[1] == L + a.new

    times = {"ponder": [], "transformers": []}
    run_ponder(), run_hf()  # warm-up
    for _ in range(a.repeats):  # interleaved so drift on a noisy machine hits both sides alike
        for name, fn in (("ponder", run_ponder), ("transformers", run_hf)):
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    tps = {k: n_tokens / statistics.median(v) for k, v in times.items()}
    print(json.dumps({
        "bench": "generate", "device": "cpu", "dtype": a.dtype, "threads": a.threads, "params": cfg.num_params(),
        "prompts": a.prompts, "new_tokens": a.new, "repeats": a.repeats,
        "ponder_tokens_per_s": round(tps["ponder"], 1), "transformers_tokens_per_s": round(tps["transformers"], 1),
        "ratio": round(tps["ponder"] / tps["transformers"], 2), "transformers_version": transformers.__version__,
    }))


if __name__ == "__main__":
    main()
