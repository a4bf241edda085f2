"""Build a small synthetic run directory, write its HTML report and screenshot it with headless Chromium.

    python3 bench/screenshot_report.py [--out DIR] [--install] [--chromium PATH]

Prints one JSON line: {"ok": bool, "screenshot": path, "report": path, "seconds": s, "error": ...}.
``--install`` runs ``apt-get install -y chromium`` when no browser is found (Debian package name).
The page makes no network requests (the report is self-contained); the flags below also keep
Chromium itself from phoning home, so the run works offline.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ponder.metrics import summarize  # noqa: E402
from ponder.report import plot_heatmap, plot_scaling, write_html_report  # noqa: E402

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def build_run_dir(d: Path, seed: int = 0) -> Path:
    """A training-plus-eval directory with every kind of file the report reads."""
    rng = random.Random(seed)
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps({
        "model": {"d_model": 256, "n_layers": 8, "n_heads": 4, "vocab": 4096},
        "rl": {"algo": "grpo", "group_size": 8, "lr": 1e-5, "kl_coef": 0.0, "clip": [0.2, 0.28]},
        "task": "word", "seed": seed,
    }, indent=1))
    rows = []
    for step in range(0, 200, 2):
        acc = 0.25 + 0.5 * (1 - math.exp(-step / 60)) + rng.gauss(0, 0.03)
        row = {"step": step, "reward": acc - 0.05 + rng.gauss(0, 0.02), "accuracy": acc,
               "response_length": 120 + 0.6 * step + rng.gauss(0, 8), "kl": 0.001 * step, "entropy": 1.2 - 0.003 * step}
        if step % 20 == 0:
            h = acc - 0.04
            row.update(heldout_accuracy=h, heldout_accuracy_lo=h - 0.05, heldout_accuracy_hi=h + 0.05)
        rows.append(row)
    (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (d / "alarms.jsonl").write_text(
        json.dumps({"step": 84, "kind": "reward_hacking", "message": "accuracy flat while reward rose 0.2"}) + "\n"
        + json.dumps({"step": 150, "kind": "length_blowup", "message": "mean response length > 2x start"}) + "\n"
    )
    recs = []
    for _ in range(40):
        p = rng.random()
        recs.append([{"correct": ok, "answer": "42" if ok else str(rng.randint(0, 9)), "tokens": rng.randint(80, 300),
                      "finish_reason": "length" if rng.random() < 0.1 else "stop", "latency": rng.uniform(0.2, 1.5),
                      "logprob_mean": -rng.random()} for ok in (rng.random() < p for _ in range(8))])
    (d / "summary.json").write_text(json.dumps(summarize(recs, ks=[1, 4, 8]), indent=1))
    samples = [
        {"prompt": "Problem: Mia buys 4 packs of stickers with 6 stickers in each pack. Then Mia gives away 5 "
                   "stickers. How many stickers does Mia have now?\nSolution:",
         "completion": "4 packs of 6 is 4 * 6 = 24 stickers. She gives away 5, so 24 - 5 = 19.\nThe answer is 19.",
         "correct": True, "extracted": "19", "gold": "19", "reason": "ok"},
        {"prompt": "Problem: what is 12 * 13?\nSolution:",
         "completion": "<script>alert('xss')</script> 12 * 13 = 146 </pre><b>not bold</b>",
         "correct": False, "extracted": "146", "gold": "156", "reason": "wrong"},
        {"prompt": "Problem: Noah has 30 marbles...", "completion": "Let me think " + "step by step " * 60,
         "correct": False, "extracted": None, "gold": "35", "reason": "no answer", "finish_reason": "length"},
    ]
    (d / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    curves = []
    for model in ("tiny-rl", "tiny-sft"):
        base = 0.5 if model == "tiny-rl" else 0.35
        for method, kind, mult in (("self-consistency", "parallel", 1.0), ("budget-forcing", "sequential", 1.1)):
            pts = []
            for b in (1, 2, 4, 8, 16):
                acc = min(0.95, base + 0.08 * math.log2(b) * mult)
                pts.append({"budget": b, "tokens": 150 * b, "latency": 0.3 * b ** (0.8 if kind == "parallel" else 1.0),
                            "accuracy": acc, "lo": acc - 0.04, "hi": acc + 0.04})
            curves.append({"model": model, "method": method, "kind": kind, "points": pts})
    plot_scaling(curves, d / "scaling")
    plot_heatmap([[1.0, 0.42, 0.3], [0.42, 0.9, 0.35], [0.3, 0.35, 0.8]], ["base", "sft", "rl"],
                 d / "homogeneity.png", title="cross-model similarity")
    return d


def find_chromium(explicit: str | None = None) -> str | None:
    if explicit:
        return explicit if Path(explicit).exists() else None
    for c in CANDIDATES:
        if Path(c).exists():
            return c
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(html_path: Path, png_path: Path, chromium: str, width: int = 1280, height: int = 2000) -> None:
    with tempfile.TemporaryDirectory(prefix="ponder-chromium-") as profile:
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png_path}",
               f"--window-size={width},{height}", html_path.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0 or not png_path.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"chromium exited {proc.returncode}: {' | '.join(tail)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="directory for the run dir, report and screenshot")
    ap.add_argument("--install", action="store_true", help="apt-get install -y chromium if it is missing")
    ap.add_argument("--chromium", default=None, help="browser binary (default: search the usual paths)")
    ap.add_argument("--height", type=int, default=2000)
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="ponder-report-"))
    t0 = time.time()
    res: dict = {"ok": False, "screenshot": None, "report": None}
    try:
        run_dir = build_run_dir(out / "run")
        report = write_html_report(run_dir, out / "report.html")
        res["report"] = str(report)
        browser = find_chromium(args.chromium)
        if browser is None and args.install:
            subprocess.run(["apt-get", "install", "-y", "chromium"], check=False, capture_output=True, timeout=900,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            browser = find_chromium(args.chromium)
        if browser is None:
            raise RuntimeError("no chromium found (pass --install to apt-get install it, or --chromium PATH)")
        png = out / "report.png"
        screenshot(report, png, browser, height=args.height)
        res.update(ok=True, screenshot=str(png), bytes=png.stat().st_size)
    except Exception as e:  # report any failure as JSON: this is a smoke check, not a library call
        res["error"] = f"{type(e).__name__}: {e}"
    res["seconds"] = round(time.time() - t0, 2)
    print(json.dumps(res))
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
