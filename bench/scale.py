"""Scaling out on CPU: rollout throughput and GRPO step time with 1 vs 2 workers. Prints one JSON line.

Rollouts: the same prompts x n samples drawn (a) in this process, (b) on 1 Ray actor, (c) on 2 Ray actors
(each actor 1 torch thread, local Ray instance with 2 CPUs); EOS disabled so every row has exactly --new
tokens. The samples of (b) and (c) are checked equal to (a) (counter-based sampling). Step time: GRPO
steps (tiny-model shape, random weights, graded constraint rewards) in one process vs 2 gloo ranks
(`--nproc 2`, 1 thread each), the median step_s of the steps after the first. The single process gets
--threads torch threads (default 1: one worker against two, each with one thread).

    python bench/scale.py [--prompts 16] [--n 4] [--new 48] [--steps 4] [--threads 1]

On a 2-core machine expect little speedup: two workers share the same two cores (with whatever else runs),
and Ray / gloo add serialisation, weight pushes and process start-up. The ratios say what they are. On a
loaded machine, more torch threads than free cores is much slower than one thread (spinning OpenMP
threads), which is why the default is 1.
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
from ponder.distributed import ddp  # noqa: E402
from ponder.distributed.ray_workers import RayPool, ray_session  # noqa: E402
from ponder.rl.trainer import GRPOConfig, train  # noqa: E402
from ponder.train import TINY_MODEL  # noqa: E402

WORDS = "the cat sat on a mat while numbers like 12 and 345 add up to more than you think".split()
CONSTRAINTS = [{"type": "letter_frequency", "letter": "e", "min": 1}, {"type": "no_commas"},
               {"type": "word_count", "min": 3}, {"type": "lowercase"}]


def timed(fn, repeats):
    times = []
    out = None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, min(times)



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=positive, default=16)
    ap.add_argument("--n", type=positive, default=4)
    ap.add_argument("--new", type=positive, default=48)
    ap.add_argument("--repeats", type=positive, default=2)
    ap.add_argument("--steps", type=positive, default=4)
    ap.add_argument("--threads", type=positive, default=1, help="torch threads of the single process")
    a = ap.parse_args()
    if a.prompts < 8:  # the GRPO steps below train 8 of these prompts each (the trainer refused fewer, after Ray)
        ap.error(f"--prompts {a.prompts}: at least 8 (the GRPO step time trains 8 prompts per step)")
    torch.set_num_threads(a.threads)

    texts = [" ".join(WORDS[i % len(WORDS):] + WORDS[: i % len(WORDS)]) for i in range(200)]
    tok = ponder.train_tokenizer(texts, vocab_size=TINY_MODEL.vocab_size)
    model = ponder.Transformer(TINY_MODEL).init_weights(0, std=0.05).eval()
    g = torch.Generator().manual_seed(0)
    prompts = [" ".join(WORDS[j] for j in torch.randint(0, len(WORDS), (int(torch.randint(4, 16, (1,), generator=g)),),
                                                         generator=g).tolist()) for _ in range(a.prompts)]
    kw = dict(n=a.n, max_new_tokens=a.new, temperature=1.0, seed=0, stop_at_eos=False)
    tokens = a.prompts * a.n * a.new
    ids = lambda out: [[s.token_ids for s in grp] for grp in out]  # noqa: E731

    res = {"threads_single_process": a.threads, "model": {"hidden": TINY_MODEL.hidden_size, "layers": TINY_MODEL.num_hidden_layers,
                     "params": sum(p.numel() for p in model.parameters())},
           "rollout": {"prompts": a.prompts, "n": a.n, "new_tokens": a.new}}
    local, t_local = timed(lambda: ponder.sample(model, tok, prompts, **kw), a.repeats)
    res["rollout"]["local_tokens_per_s"] = round(tokens / t_local, 1)
    with ray_session(num_cpus=2):
        for workers in (1, 2):
            t0 = time.perf_counter()
            with RayPool(workers, num_cpus=1, threads=1).start(model, tok) as pool:
                pool.push(model, 0)
                start_s = time.perf_counter() - t0
                out, t = timed(lambda: pool.sample(prompts, **kw), a.repeats)
                assert ids(out) == ids(local), "Ray samples differ from the local ones"
                t_push = timed(lambda: pool.push(model, 1), 1)[1]
            res["rollout"][f"ray{workers}_tokens_per_s"] = round(tokens / t, 1)
            res["rollout"][f"ray{workers}_start_s"] = round(start_s, 2)
            res["rollout"][f"ray{workers}_weight_push_s"] = round(t_push, 4)
    r = res["rollout"]
    r["ray2_over_ray1"] = round(r["ray2_tokens_per_s"] / r["ray1_tokens_per_s"], 3)
    r["ray2_over_local"] = round(r["ray2_tokens_per_s"] / r["local_tokens_per_s"], 3)

    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        ponder.save(model, tok, d / "ck")
        (d / "data.jsonl").write_text("".join(json.dumps({"prompt": p, "answer": "x", "constraints": CONSTRAINTS})
                                              + "\n" for p in prompts))
        cfg = dict(model=str(d / "ck"), task=None, data=str(d / "data.jsonl"), reward="constraints",
                   preset="dapo", objective={"group_filter": False, "minibatches": 1}, steps=a.steps,
                   prompts_per_step=8, group_size=4, max_new_tokens=32, eval_every=1000, save_every=1000,
                   tensorboard=False, micro_batch=16)
        step = {}
        for name, run in (("one_process", lambda c, o: train(c, o, progress=False)),
                          # 1 thread per rank, as documented (train_ddp's default shares out all the cores: on a
                          # 16-core machine, 8 threads per rank against the single process's --threads)
                          ("two_ranks", lambda c, o: ddp.train_ddp(c, o, nproc=2, progress=False, threads=1))):
            t = time.perf_counter()
            out = run(GRPOConfig(**cfg), d / name)
            wall = time.perf_counter() - t
            rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
            step[f"{name}_step_s"] = round(statistics.median(x["step_s"] for x in rows[1:] or rows), 3)
            step[f"{name}_wall_s"] = round(wall, 2)
        step["two_ranks_speedup"] = round(step["one_process_step_s"] / step["two_ranks_step_s"], 3)
        res["grpo_step"] = {"prompts_per_step": 8, "group_size": 4, "max_new_tokens": 32, "steps": a.steps, **step}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
