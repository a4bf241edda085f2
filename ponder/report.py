"""Plots (PNG) and a single self-contained HTML report for a training run or an evaluation directory.

Plots use matplotlib's object API (``Figure``) rather than pyplot, so no global backend is switched
and nothing leaks between calls; PNGs are rendered by Agg. Every file is written atomically (temp
file in the same directory, then ``os.replace``), so a reader never sees half a PNG or HTML file.

The HTML report contains no JavaScript and loads nothing: images are base64 ``data:`` URIs, CSS is
inline, and every piece of text taken from the run directory is HTML-escaped.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import numbers
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from ponder.errors import PonderError
from ponder.fileio import MODEL_WEIGHT_FILES, counted, json_safe
from ponder.fileio import atomic_write_bytes as _atomic_write_bytes

# ------------------------------------------------------------------------------------------ file io

def _fig_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _plain(text) -> str:
    """Text from the data (a metric key, a model name) as matplotlib draws it literally: between two '$' it is
    parsed as math, which fails the whole figure on an unknown command ('$\\x$') or sets a name in italics. A lone
    surrogate (JSON's "\\ud83d", half an emoji) is drawn as that escape: the font code failed the figure on it."""
    return _no_surrogates(str(text)).replace("$", r"\$")


def _no_surrogates(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _is_num(v) -> bool:
    if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:  # an int past float's range (10 ** 400): no number a table or a plot can show as one
        return False


# Beyond this a plot's axis arithmetic overflows (limits of -1.7e308 and 1.7e308 failed the whole report in
# matplotlib's tick code): such a value is a gap in its curve, as a NaN is; tables still print it.
_PLOT_MAX = 1e300


def _plottable(v) -> bool:
    return _is_num(v) and abs(float(v)) <= _PLOT_MAX


# ------------------------------------------------------------------------------------ training plot

# Panel title -> list of series (label, accepted metric names). The first name present in the rows
# is used. Keys a trainer should log: step, reward, accuracy, heldout_accuracy, response_length.
TRAINING_PANELS: list[tuple[str, list[tuple[str, list[str]]]]] = [
    ("reward", [("reward", ["reward", "reward_mean", "mean_reward", "train/reward"])]),
    ("accuracy", [
        ("raw accuracy", ["accuracy", "raw_accuracy", "acc", "train/accuracy", "correct_rate"]),
        ("held-out accuracy", ["heldout_accuracy", "held_out_accuracy", "eval_accuracy", "val_accuracy",
                               "eval/accuracy", "heldout/accuracy"]),
    ]),
    ("response length (tokens)", [("response length", ["response_length", "mean_response_tokens",
                                                        "response_tokens", "completion_tokens", "mean_tokens",
                                                        "train/response_length"])]),
    ("KL", [("kl", ["kl", "kl_mean", "train/kl"])]),
    ("entropy", [("entropy", ["entropy", "train/entropy"])]),
    ("loss", [("train loss", ["loss", "train/loss"]),
              ("held-out loss", ["heldout_loss", "val_loss", "eval_loss", "eval/loss"])]),
    ("clip fraction", [("clip fraction", ["clip_frac", "clip_fraction"])]),
    ("grad norm", [("grad norm", ["grad_norm"])]),
    ("learning rate", [("lr", ["lr", "learning_rate"])]),
]
_X_KEYS = ("step", "iteration", "iter", "global_step")


def _series(rows: Sequence[dict], key: str, xs: list[float]) -> tuple[list, list, list | None]:
    """(x, y, band) for the rows where key is a finite number; band from key_lo / key_hi if logged.

    A row that logged the key as NaN or inf (null in metrics.jsonl) is a NaN point, a gap in the line: dropped,
    the line was drawn straight over the step where the value went bad. A row without the key (held-out
    accuracy logged every N steps) is left out, and the line joins across it."""
    x, y, lo, hi, null = [], [], [], [], []
    for xv, r in zip(xs, rows):
        v = r.get(key)
        if _plottable(v):
            x.append(xv)
            y.append(float(v))
            lo.append(r.get(f"{key}_lo"))
            hi.append(r.get(f"{key}_hi"))
            null.append(False)
        elif key in r and (v is None or isinstance(v, (int, float, np.integer, np.floating))
                           and not isinstance(v, bool)):  # null, NaN, inf or past the plotting range: a gap
            x.append(xv)
            y.append(math.nan)
            lo.append(math.nan)
            hi.append(math.nan)
            null.append(v is None)
    # A step logged again (a run resumed from an earlier checkpoint by another tool, or two logs concatenated)
    # supersedes what was logged at it and after it: the line went back in x and drew a zig-zag over both runs.
    # A null at a step that already has a value is no value logged again (pandas' to_json: the eval row's "loss"
    # null beside the train row's), as _latest_rows reads it: it made a gap of the train row's loss at every eval
    # step, which the table beside the plot showed.
    keep: list[int] = []
    for i, xv in enumerate(x):
        if null[i] and keep and x[keep[-1]] == xv:
            continue
        while keep and x[keep[-1]] >= xv:
            keep.pop()
        keep.append(i)
    x, y, lo, hi = ([s[i] for i in keep] for s in (x, y, lo, hi))
    band = None
    if x and all(_plottable(a) and _plottable(b) or math.isnan(v) for a, b, v in zip(lo, hi, y)):
        band = [lo, hi]
    return x, y, band


def _x_key(rows: Sequence[dict]) -> str | None:
    return next((k for k in _X_KEYS if all(_is_num(r.get(k)) for r in rows)), None)


def _abandoned_dropped(rows: Sequence[dict], xkey: str) -> list[dict]:
    """The rows without those of steps a resume abandoned: a row logging a key at a step before one where that key
    was logged already (a resume from an earlier checkpoint by another tool, not trimmed as Ponder's --resume trims)
    drops every row of a later step, whatever keys it logged. Per-key superseding (``_series``, ``_latest_rows``)
    left the abandoned run's held-out accuracy at step 10 in a log resumed from step 5 that reached step 8: a point
    past the other curves' end, a table row between steps 5 and 6, the run's last step. A key of its own logged
    late (an eval row after the next step's train row) drops nothing."""
    out: list[dict] = []
    last: dict[str, float] = {}  # key -> the latest step a kept row logged it at (a null is no value)
    for r in rows:
        x = float(r[xkey])
        if any(v is not None and k != xkey and last.get(k, -math.inf) > x for k, v in r.items()):
            out = [o for o in out if float(o[xkey]) <= x]
            last = {}
            for o in out:
                for k, v in o.items():
                    if v is not None:
                        last[k] = max(last.get(k, -math.inf), float(o[xkey]))
        out.append(r)
        for k, v in r.items():
            if v is not None:
                last[k] = max(last.get(k, -math.inf), x)
    return out


def _latest_rows(rows: list[dict]) -> list[dict]:
    """The rows with each value logged again later at the same or an earlier step (a run resumed from an earlier
    checkpoint by another tool, two logs concatenated) taken out, as the curves take it (``_series``): the later
    value wins. Per key, so that two rows of one step logging different keys (a trainer's train row and its eval
    row) both stay; a row left with no value is dropped. A null is no value logged again at its own step (a log
    written by pandas' to_json has every key in every row, the eval row's "loss" null): it supersedes only the
    values logged at later steps, else each train row of an eval step lost its loss, "left out" as if resumed."""
    xkey = _x_key(rows)
    if xkey is None:
        return list(rows)
    rows = _abandoned_dropped(rows, xkey)
    stacks: dict[str, list[int]] = {}
    gone: dict[int, set[str]] = {}
    for j, r in enumerate(rows):
        x = float(r[xkey])
        for k, v in r.items():
            if k == xkey:
                continue
            st = stacks.setdefault(k, [])
            while st and (float(rows[st[-1]][xkey]) >= x if v is not None else float(rows[st[-1]][xkey]) > x):
                gone.setdefault(st.pop(), set()).add(k)
            if v is not None:
                st.append(j)
    out = []
    for j, r in enumerate(rows):
        if j in gone:
            r = {k: v for k, v in r.items() if k not in gone[j]}
            if all(v is None for k, v in r.items() if k != xkey):  # (nothing left but nulls)
                continue
        out.append(r)
    return out


def _never_finite(rows: Sequence[dict], key: str) -> bool:
    """Whether `key` is logged as a number or null in some row but is a finite number in none."""
    vals = [r[key] for r in rows if key in r]
    return bool(vals) and all(v is None or isinstance(v, (int, float, np.integer, np.floating))
                              and not isinstance(v, bool) and not _is_num(v) for v in vals)


def _training_figure(rows: Sequence[dict]) -> Figure:
    if not rows:
        raise PonderError("plot_training: no metric rows")
    xkey = _x_key(rows)
    rows = _abandoned_dropped(rows, xkey) if xkey else rows
    xs = [float(r[xkey]) for r in rows] if xkey else list(range(len(rows)))
    panels = []
    unsaid = None
    empty = set()  # keys logged, but NaN, infinite or null in every row
    for title, series in TRAINING_PANELS:
        found = []
        for label, names in series:
            key = next((k for k in names if any(_is_num(r.get(k)) for r in rows)), None)
            if key is None:
                # a metric that diverged from its first step (a NaN loss, null in metrics.jsonl) lost its panel, no
                # word said, beside the others' curves: its panel says so
                key = next((k for k in names if _never_finite(rows, k)), None)
                if key:
                    empty.add(key)
            if key:
                found.append((label, key))
        if found:
            panels.append((title, found))
    if panels and all(k in empty for _, found in panels for _, k in found):
        gone = [k for _, found in panels for _, k in found]
        raise PonderError(f"plot_training: nothing to plot: {', '.join(gone[:8])} "
                          f"{'is' if len(gone) == 1 else 'are'} NaN, infinite or null in every row")
    if not panels:
        # Unknown schema: plot whatever numeric columns there are rather than nothing.
        skip = set(_X_KEYS) | {"time", "timestamp", "wall", "elapsed"}
        keys = []
        for r in rows:
            for k, v in r.items():
                if k not in skip and k not in keys and _is_num(v) and not k.endswith(("_lo", "_hi")):
                    keys.append(k)
        if not keys:
            # a run diverged from its first step (every loss NaN, null in metrics.jsonl) has its metrics: said so,
            # not "no numeric metrics"
            gone = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in skip and all(
                r[k] is None or isinstance(r[k], (int, float, np.integer, np.floating)) and not isinstance(r[k], bool)
                for r in rows if k in r)]
            if gone:
                raise PonderError(f"plot_training: nothing to plot: {', '.join(gone[:8])} "
                                  f"{'is' if len(gone) == 1 else 'are'} NaN, infinite or null in every row")
            raise PonderError(f"plot_training: no numeric metrics in rows (keys: {sorted(rows[0])[:12]})")
        panels = [(k, [(k, k)]) for k in keys[:8]]
        # (the ninth and later were left out, no word said; the report's table has them)
        unsaid = (f"{', '.join(keys[8:14])}{', ...' if len(keys) > 14 else ''} not drawn (only the first 8 "
                  f"of {len(keys)} metrics are)") if len(keys) > 8 else None
    ncols = 2 if len(panels) > 1 else 1
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(6.2 * ncols, 3.0 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, (title, found) in zip(axes, panels):
        for label, key in found:
            x, y, band = _series(rows, key, xs)
            # markers on every point of a short series; on a long one only where a point stands alone between gaps
            # (NaN), which no line segment would show (a column null but every N rows: pandas' to_json)
            alone = [i for i, v in enumerate(y) if math.isfinite(v) and (i == 0 or math.isnan(y[i - 1]))
                     and (i == len(y) - 1 or math.isnan(y[i + 1]))]
            (line,) = ax.plot(x, y, marker="o", markevery=None if len(x) <= 30 else alone, markersize=3,
                              linewidth=1.4, label=_plain(f"{label} ({key})" + (": NaN, inf or null at every step"
                                                                               if key in empty else "")))
            if band:
                ax.fill_between(x, band[0], band[1], color=line.get_color(), alpha=0.2, linewidth=0)
        if all(key in empty for _, key in found):
            ax.text(0.5, 0.5, "NaN, infinite or null in every row", transform=ax.transAxes, ha="center",
                    va="center", fontsize=9, color="#9b1c1c")
            ax.set_xlim(min(xs) - 1, max(xs) + 1)  # (no point to scale to: the axis read 0 to 1)
            ax.set_yticks([])  # (nor values: ticks of -0.04 .. 0.04 read as a flat zero curve)
        ax.set_title(_plain(title), fontsize=10)  # (an unknown schema's panels are titled by their keys)
        ax.set_xlabel(xkey or "row", fontsize=9)
        if xkey is None or all(float(r[xkey]).is_integer() for r in rows):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps: no tick at 0.96, 1.02 for a short run
            if len(set(xs)) == 1:  # one step: matplotlib's +-5% margin is under one step, ticked at 0.975, ...
                ax.set_xlim(xs[0] - 1, xs[0] + 1)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        if len(found) > 1:
            ax.legend(fontsize=8)
        else:
            ax.set_ylabel(_plain(found[0][1]), fontsize=9)  # the logged key, so the reader can find it in the table
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    if unsaid:
        fig.suptitle(_plain(unsaid), fontsize=9, color="#9b1c1c")
    fig.tight_layout()
    return fig


def plot_training(metrics_rows: Sequence[dict], path: str | Path) -> Path:
    """Training curves over steps: reward, raw and held-out accuracy, response length (+ KL, entropy,
    loss, clip fraction, grad norm, lr when logged). Names accepted per curve: ``TRAINING_PANELS``;
    ``<key>_lo``/``<key>_hi`` columns draw an interval band. Returns the PNG path."""
    return _atomic_write_bytes(path, _fig_png(_training_figure(metrics_rows)))


# ------------------------------------------------------------------------------------- scaling plot

_SCALING_FIELDS = ("model", "method", "kind", "budget", "tokens", "latency", "accuracy", "lo", "hi")


def _check_curves(curves: Sequence[dict]) -> list[dict]:
    if not curves:
        raise PonderError("plot_scaling: no curves")
    out = []
    for i, c in enumerate(curves):
        if not isinstance(c, dict):
            raise PonderError(f"plot_scaling: curve {i} is a {type(c).__name__}, expected a dict with model, method "
                              "and points")
        for f in ("model", "method", "points"):
            if f not in c:
                raise PonderError(f"plot_scaling: curve {i} has no {f!r} field")
        if not isinstance(c["points"], (list, tuple)):  # (a dict of one point iterated its keys: an AttributeError)
            raise PonderError(f"plot_scaling: curve {i} ({c['model']}/{c['method']}) points is a "
                              f"{type(c['points']).__name__}, expected a list of dicts")
        kind = c.get("kind", "parallel")
        if kind not in ("sequential", "parallel"):
            raise PonderError(f"plot_scaling: curve {i} kind={kind!r}, expected 'sequential' or 'parallel'")
        pts = []
        for j, p in enumerate(c["points"]):
            if not isinstance(p, dict):
                raise PonderError(f"plot_scaling: curve {i} ({c['model']}/{c['method']}) point {j} is a "
                                  f"{type(p).__name__}, expected a dict with tokens and accuracy")
            for f in ("tokens", "accuracy"):
                if not _is_num(p.get(f)):
                    raise PonderError(f"plot_scaling: curve {i} ({c['model']}/{c['method']}) point {j} "
                                      f"{f}={p.get(f)!r} is not a finite number")
            if p["tokens"] <= 0:
                raise PonderError(f"plot_scaling: curve {i} point {j} tokens={p['tokens']} must be > 0 (log axis)")
            # (an effort sweep's level, low/medium/high beside its budget, was left out of scaling.json)
            pts.append({k: p.get(k) for k in ("budget", "tokens", "latency", "accuracy", "lo", "hi")}
                       | ({"level": p["level"]} if "level" in p else {}))
        if not pts:
            raise PonderError(f"plot_scaling: curve {i} ({c['model']}/{c['method']}) has no points")
        pts.sort(key=lambda p: p["tokens"])
        out.append({"model": str(c["model"]), "method": str(c["method"]), "kind": kind, "points": pts})
    return out


def _scaling_figure(curves: list[dict], xfield: str, xlabel: str) -> Figure | None:
    fig = Figure(figsize=(8.0, 5.0))
    ax = fig.subplots()
    # a curve of the same model, method and kind as an earlier one (two runs' scaling.json together) is that
    # model's #2: its own colour and legend entry, where it drew the same line under the same label
    seen: dict[tuple, int] = {}
    owners = []
    for c in curves:
        n = seen[(c["model"], c["method"], c["kind"])] = seen.get((c["model"], c["method"], c["kind"]), 0) + 1
        owners.append(c["model"] if n == 1 else f"{c['model']} #{n}")
    models = sorted(set(owners))
    methods = sorted({c["method"] for c in curves})
    # colour tells the models apart; with one model it tells the methods apart (every line was the same blue, the
    # curves told apart by their small markers alone)
    hues = methods if len(models) == 1 else models
    colors = [f"C{i % 10}" for i in range(len(hues))]
    markers = "osD^v<>Pp*hX"
    drawn, bars = [], False
    for c, owner in zip(curves, owners):
        # in order along this plot's axis: latency need not grow with tokens (a warm-up, a busy machine), and a line
        # through the points in token order went back and forth across the latency plot
        pts = sorted((p for p in c["points"] if _is_num(p.get(xfield)) and p[xfield] > 0), key=lambda p: p[xfield])
        if not pts:
            continue
        x = [p[xfield] for p in pts]
        y = [p["accuracy"] for p in pts]
        yerr = None
        if all(_is_num(p.get("lo")) and _is_num(p.get("hi")) for p in pts):
            yerr = [[max(0.0, p["accuracy"] - p["lo"]) for p in pts], [max(0.0, p["hi"] - p["accuracy"]) for p in pts]]
            bars = True
        ax.errorbar(
            x, y, yerr=yerr, color=colors[hues.index(c["method"] if len(models) == 1 else owner)], marker=markers[methods.index(c["method"]) % len(markers)],
            linestyle="-" if c["kind"] == "sequential" else "--", capsize=3, markersize=5, linewidth=1.5,
            label=_plain(f"{owner} · {c['method']} ({c['kind']})"),
        )
        drawn.append(c)
    if not drawn:
        return None
    ax.set_xscale("log")
    # Plain numbers at 1-2-5 steps instead of matplotlib's default "3x10^2" log labels.
    # a range inside one 1-2-5 step (tokens of 1000 to 1900) had a single tick, 1000, and no x value to read:
    # finer ticks until at least two are in view
    lo, hi = ax.get_xlim()
    for loc in (LogLocator(base=10, subs=(1.0, 2.0, 5.0)), LogLocator(base=10, subs=np.arange(1.0, 10.0)),
                MaxNLocator(5)):
        if sum(lo <= t <= hi for t in loc.tick_values(lo, hi)) >= 2:
            break
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="best")
    # the key names only the line styles and bars this plot draws (the latency plot leaves out curves without
    # latencies: it keyed their dashes, and bars where no curve had an interval)
    kinds = {c["kind"] for c in drawn}
    styles = "; ".join(s for k, s in (("sequential", "solid: sequential"), ("parallel", "dashed: parallel")) if k in kinds)
    ax.set_title(f"accuracy vs {xlabel}  ({styles}{'; bars: 95% CI' if bars else ''})", fontsize=10)
    fig.tight_layout()
    return fig


def plot_scaling(curves: Sequence[dict], path_prefix: str | Path) -> dict[str, Path]:
    """Test-time scaling curves: accuracy vs mean generated tokens (log x) and vs wall-clock latency.

    ``curves``: ``[{"model", "method", "kind": "sequential"|"parallel", "points": [{"budget",
    "tokens", "latency", "accuracy", "lo", "hi"}]}]`` (lo/hi: CI of accuracy, drawn as error bars;
    latency optional). One line per (model, method): colour = model, marker = method, solid =
    sequential, dashed = parallel, all on the same axes. Writes ``<prefix>_tokens.png``,
    ``<prefix>_latency.png`` (only if some curve has latencies), ``<prefix>.csv`` and
    ``<prefix>.json``; returns their paths by key ("tokens_png", "latency_png", "csv", "json").
    """
    curves = _check_curves(curves)
    prefix = Path(path_prefix)
    out: dict[str, Path] = {}
    fig = _scaling_figure(curves, "tokens", "mean generated tokens per problem")
    out["tokens_png"] = _atomic_write_bytes(prefix.with_name(prefix.name + "_tokens.png"), _fig_png(fig))
    fig = _scaling_figure(curves, "latency", "wall-clock seconds per problem (batch time / problems)")
    if fig is not None:
        out["latency_png"] = _atomic_write_bytes(prefix.with_name(prefix.name + "_latency.png"), _fig_png(fig))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_SCALING_FIELDS)
    for c in curves:
        for p in c["points"]:
            w.writerow([c["model"], c["method"], c["kind"]] + ["" if p.get(k) is None else p[k] for k in _SCALING_FIELDS[3:]])
    out["csv"] = _atomic_write_bytes(prefix.with_name(prefix.name + ".csv"), buf.getvalue().encode())
    out["json"] = _atomic_write_bytes(
        prefix.with_name(prefix.name + ".json"), json.dumps(json_safe({"curves": curves}), indent=1,
                                                            allow_nan=False).encode()
    )
    return out


# ------------------------------------------------------------------------------------------ heatmap


def _heatmap_figure(m: np.ndarray, labels: Sequence[str], title: str | None, vmin: float | None,
                    vmax: float | None) -> Figure:
    k = m.shape[0]
    size = max(4.0, 0.8 * k + 2.5)
    fig = Figure(figsize=(size + 1.0, size))
    ax = fig.subplots()
    im = ax.imshow(np.ma.masked_invalid(m), cmap="viridis", vmin=vmin, vmax=vmax)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), labels=[_plain(s) for s in labels], rotation=45, ha="right", fontsize=9)
    ax.set_yticks(range(k), labels=[_plain(s) for s in labels], fontsize=9)
    for i in range(k):
        for j in range(k):
            if np.isfinite(m[i, j]):
                # the text colour from the cell's own colour: with vmin/vmax fixed (0..1 for similarities) a
                # midpoint of the data's range put black text on dark cells when every value was low
                r, g, b, _ = im.cmap(im.norm(m[i, j]))
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color="black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white")
    if title:
        ax.set_title(_plain(title), fontsize=10)
    fig.tight_layout()
    return fig


def plot_heatmap(
    matrix, labels: Sequence[str], path: str | Path, *, title: str | None = None,
    vmin: float | None = None, vmax: float | None = None,
) -> Path:
    """Annotated square heatmap (e.g. ``inter_model_homogeneity``'s matrix); NaN cells are blank."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise PonderError(f"plot_heatmap: matrix must be square, got shape {m.shape}")
    if len(labels) != m.shape[0]:
        raise PonderError(f"plot_heatmap: {len(labels)} labels for a {m.shape[0]}x{m.shape[0]} matrix")
    return _atomic_write_bytes(path, _fig_png(_heatmap_figure(m, labels, title, vmin, vmax)))


# -------------------------------------------------------------------------------------- HTML report

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
header .sub{color:#aeb6c4;font-size:13px;margin-top:4px}
nav{padding:8px 32px;background:#e8ebf0;font-size:13px}nav a{margin-right:14px;color:#2a5bd7;text-decoration:none}
main{padding:8px 32px 40px;max-width:1200px}
section{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:14px 20px;margin:16px 0}
h2{font-size:17px;margin:2px 0 10px}h3{font-size:14px;margin:12px 0 6px;color:#444}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
th,td{border-bottom:1px solid #e3e6eb;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto;max-width:100%}
.ci{color:#6b7280;font-size:12px}
img{max-width:100%;height:auto;border:1px solid #e3e6eb;border-radius:4px;background:#fff}
figure{margin:10px 0 18px}figcaption{font-size:12px;color:#6b7280}
pre{background:#f7f7f9;border:1px solid #e3e6eb;border-radius:4px;padding:8px 10px;white-space:pre-wrap;
word-break:break-word;font-size:12.5px;max-height:360px;overflow:auto;margin:4px 0}
.sample{border:1px solid #e3e6eb;border-left:4px solid #9aa3af;border-radius:6px;padding:8px 12px;margin:10px 0}
.sample.ok{border-left-color:#1f9d55}.sample.bad{border-left-color:#d64545}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;margin-right:6px}
.badge.ok{background:#dff5e7;color:#17693b}.badge.bad{background:#fde2e2;color:#9b1c1c}
.badge.na{background:#eceff3;color:#4b5563}
.kv{font-size:12.5px;color:#374151;margin:2px 0 4px}.kv span{margin-right:14px}.kv b{color:#111827}
.alarm td{background:#fff7e6}.note{font-size:12.5px;color:#6b7280}
details summary{cursor:pointer;font-size:12.5px;color:#374151}
"""

_TEXT_KEYS = ("prompt", "problem", "question", "input", "completion", "response", "text", "output", "solution")
_VERDICT_KEYS = ("correct", "extracted", "gold", "reason", "score", "finish_reason")


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _fmt(v) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            return str(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
            return f"{v:.3e}"
        return f"{v:.4f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def _exact(v) -> str:
    """A setting as written: a float to as many figures as it has (shortest round trip), not _fmt's 4."""
    if isinstance(v, (float, np.floating)) and math.isfinite(v):
        return repr(float(v))
    return _fmt(v)


def _is_interval(d) -> bool:
    # lo/hi null: no interval (one problem's spread over problems is unknown; JSON has no infinities); all three
    # null: an undefined metric (distinct-n of samples with no n-grams), one row saying so, not three of "None"
    return (isinstance(d, dict) and (_is_num(d.get("mean")) or d.get("mean", 0) is None) and "lo" in d
            and "hi" in d and all(d[k] is None or _is_num(d[k]) for k in ("lo", "hi")))


def _read_json(path: Path):
    try:
        # utf-8-sig: a BOM (Notepad, PowerShell) is dropped, as Ponder's data loaders drop it
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as e:
        raise PonderError(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None
    except UnicodeDecodeError:
        raise PonderError(f"{path}: not UTF-8 text") from None
    except RecursionError:  # (the parser's own limit: a bare RecursionError named no file)
        raise PonderError(f"{path}: invalid JSON (nested too deeply to read)") from None
    except ValueError as e:  # an integer past Python's 4300-digit conversion limit: a bare ValueError, no file
        raise PonderError(f"{path}: invalid JSON ({str(e).split(';')[0]})") from None


def _json_kind(v) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(v), "a number")


def _read_jsonl(path: Path) -> tuple[list[dict], str | None]:
    """Rows of a JSONL file. A broken last line with no newline after it is skipped with a note (a run may be
    mid-write, or was killed in one: train.trim_metrics's rule); a broken line ending with a newline was written
    whole, so it is corrupt, an error naming it, wherever it is."""
    rows: list[dict] = []
    # lines end at "\n" only: splitlines() also splits at U+2028, U+0085 ..., which a JSON string written with
    # ensure_ascii=False (evaluate's samples.jsonl) holds as they are
    # (utf-8-sig: a BOM before the first row is dropped; it made that row invalid JSON, skipped as cut short when
    # it was the only one)
    lines = path.read_text(encoding="utf-8-sig", errors="replace").split("\n")
    # (the line after the final newline: "" once the last write finished, else the row it was cutting short; a
    # broken line followed by a newline was written whole, and skipping it as "incomplete" hid a corrupt row)
    last = len(lines) - 1
    note = None
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            if i == last:
                note = f"{path.name}: skipped an incomplete last line ({i + 1})"
                continue
            raise PonderError(f"{path}:{i + 1}: invalid JSON ({e.msg})") from None
        except RecursionError:
            raise PonderError(f"{path}:{i + 1}: invalid JSON (nested too deeply to read)") from None
        except ValueError as e:  # (an integer past Python's 4300-digit limit, not a line cut short)
            raise PonderError(f"{path}:{i + 1}: invalid JSON ({str(e).split(';')[0]})") from None
        if not isinstance(row, dict):
            raise PonderError(f"{path}:{i + 1}: expected a JSON object, got {type(row).__name__}")
        rows.append(row)
    return rows, note


def _flatten(obj, prefix: str = "", out: list | None = None, limit: int = 900,
             lists: list | None = None, fmt=_fmt) -> list[tuple[str, object]]:
    """(dotted key, value) pairs; interval dicts stay whole (their other keys, such as a sweep point's tokens
    and latency, follow as their own rows), long lists are summarised. Past ``limit`` pairs one last row
    says so, rather than the table silently ending. Given ``lists``, a list of dicts (a demo's maj@N points, its
    example completions) is appended to it as (dotted key, rows) to be shown below the table, and its row says so."""
    out = [] if out is None else out
    if len(out) >= limit:
        if len(out) == limit:
            out.append(("...", f"only the first {limit} entries are shown; the JSON file has the rest"))
        return out
    if _is_interval(obj):
        out.append((prefix or "value", obj))
        for k, v in obj.items():
            if k not in ("mean", "lo", "hi"):
                _flatten(v, f"{prefix}.{k}" if prefix else str(k), out, limit, lists, fmt)
    elif not isinstance(obj, (dict, list)):
        out.append((prefix or "value", obj))
    elif isinstance(obj, dict):
        if not obj:  # (a setting of {}, chat_template_kwargs, was left out of the table, as if never set)
            out.append((prefix or "value", "{}"))
        for k, v in obj.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out, limit, lists, fmt)
    elif all(not isinstance(v, (dict, list)) for v in obj) and len(obj) <= 12:
        # strings quoted, escapes shown: a stop list ["\n", "\n\n"] read " , " (HTML folds newlines), and a comma
        # inside a string read as two items
        out.append((prefix, ", ".join(json.dumps(v, ensure_ascii=False) if isinstance(v, str) else fmt(v)
                                      for v in obj) if obj else "[]"))
    elif lists is not None and _shown_below(obj):
        lists.append((prefix or "value", obj))
        out.append((prefix or "value", f"{counted(len(obj), 'sample' if _is_samples(obj) else 'row')}, shown below the table"))
    else:
        out.append((prefix, f"[list of {len(obj)}]"))
    return out


def _shown_below(rows: list) -> bool:
    """A list of dicts shown as a table (scalar fields) or as sample cards (a text field): not a dict nested in."""
    if not rows or not all(isinstance(r, dict) and r for r in rows):
        return False
    return _is_samples(rows) or all(not isinstance(v, (dict, list)) for r in rows for v in r.values())


def _is_samples(rows: list[dict]) -> bool:
    return any(isinstance(r.get(k), str) for r in rows for k in _TEXT_KEYS)


def _list_block(key: str, rows: list[dict], max_samples: int) -> str:
    if _is_samples(rows):
        shown = rows[:max_samples]
        head = f"<h3>{_e(key)} ({counted(len(rows), 'sample')}" + (
            f", showing the first {len(shown)})</h3>" if len(shown) < len(rows) else ")</h3>")
        return head + "".join(_sample_card(i, r) for i, r in enumerate(shown))
    # (null: a value undefined for that row, a NaN written by json_safe, as the interval rows above show it)
    return f"<h3>{_e(key)} ({counted(len(rows), 'row')})</h3>" + _rows_table(rows, 50)


def _value_cell(v) -> str:
    if _is_interval(v):
        ci = "—" if v["lo"] is None or v["hi"] is None else f'[{_fmt(v["lo"])}, {_fmt(v["hi"])}]'
        mean = "undefined" if v["mean"] is None else _fmt(v["mean"])
        return f'<td class="num">{_e(mean)}</td><td class="num ci">{_e(ci)}</td>'
    cls = "num" if _is_num(v) else ""
    return f'<td class="{cls}">{_e(_fmt(v))}</td><td></td>'


def _kv_table(pairs: list[tuple[str, object]], with_ci: bool, level: str = "95%", fmt=_fmt) -> str:
    head = (f"<tr><th>name</th><th>value</th><th>{_e(level)} CI</th></tr>" if with_ci
            else "<tr><th>key</th><th>value</th></tr>")
    rows = []
    for k, v in pairs:
        if with_ci:
            rows.append(f"<tr><td>{_e(k)}</td>{_value_cell(v)}</tr>")
        else:
            rows.append(f"<tr><td>{_e(k)}</td><td>{_e(fmt(v))}</td></tr>")
    return f'<div class="scroll"><table>{head}{"".join(rows)}</table></div>'


def _rows_table(rows: list[dict], max_rows: int, cls: str = "") -> str:
    """A table of JSON rows (union of all rows' keys as columns), evenly thinned to max_rows incl. first and last,
    plus, for a column logged in a few rows only, rows of its own (its first and last, up to ``max_rows // 3``
    evenly spaced). A null value is shown as a dash, said in a note below the table: Ponder writes a NaN or an
    infinity as null (fileio.json_safe), so a diverged loss read "None"."""
    # every row's keys (in first-seen order): a metric logged at a few steps (evaluations) lost its column when
    # thinned out
    cols = list(dict.fromkeys(k for r in rows for k in r))
    if len(rows) > max_rows:
        idx = {round(i) for i in np.linspace(0, len(rows) - 1, max_rows)}
        # a metric logged at a few steps (a held-out evaluation every 50 steps, a pass@k once) fell between the
        # evenly spaced rows: its column was there, no value of it in any row shown
        per_col = max(2, max_rows // 3)
        for c in cols:
            # (a null is no value: a column written in every row, null but every N rows, is pandas' to_json's)
            logged = [i for i, r in enumerate(rows) if r.get(c) is not None]
            want = min(len(logged), per_col)
            if sum(i in idx for i in logged) < want:
                idx.update(logged[round(j)] for j in np.linspace(0, len(logged) - 1, want))
        shown = [rows[i] for i in sorted(idx)]
    else:
        shown = list(rows)
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body, nulls = [], False
    for r in shown:
        cells = []
        for c in cols:
            v = r.get(c, "")
            if v is None:
                v, nulls = "—", True
            elif isinstance(v, (dict, list)):
                # (cut at 200 characters, no word said: a stopped_early message read as if it ended mid-word)
                v = json.dumps(v, ensure_ascii=False)
                v = f"{v[:200]} ... ({len(v)} characters in all)" if len(v) > 200 else v
            cells.append(f'<td class="{"num" if _is_num(v) else ""}">{_e(_fmt(v))}</td>')
        body.append(f'<tr class="{cls}">{"".join(cells)}</tr>')
    note = f'<p class="note">showing {len(shown)} of {len(rows)} rows</p>' if len(shown) < len(rows) else ""
    if nulls:
        note += '<p class="note">— : null in the file (Ponder logs a NaN or infinite value as null; other tools, a key a row lacks)</p>'
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>{note}'


def _target_steps(cfg) -> int | None:
    """The step a Ponder training run's config.json says it trains to (grpo: grpo.steps; sft and pretrain:
    train.steps), else None."""
    part = {"grpo": "grpo", "sft": "train", "pretrain": "train"}.get(cfg.get("kind")) if isinstance(cfg, dict) else None
    steps = cfg.get(part) if part else None
    steps = steps.get("steps") if isinstance(steps, dict) else None
    return steps if isinstance(steps, int) and not isinstance(steps, bool) else None


def _img(png: bytes, caption: str) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _verdict_of(s: dict) -> dict:
    v = dict(s.get("verdict") or {}) if isinstance(s.get("verdict"), dict) else {}
    for k in _VERDICT_KEYS:
        if k in s and k not in v:
            v[k] = s[k]
    c = v.get("correct")  # 1/0 from another tool's file is a verdict too; anything else but a bool is none
    if "correct" in v and not isinstance(c, bool):
        v["correct"] = bool(c) if isinstance(c, (int, float)) and c in (0, 1) else None
    return v


def _is_block(val) -> bool:
    """Text shown as a <pre> block rather than inline: several lines, or too long for one."""
    return isinstance(val, str) and ("\n" in val or len(val) > 80)


def _sample_card(i: int, s: dict) -> str:
    v = _verdict_of(s)
    correct = v.get("correct")
    if correct is True:
        badge, cls = '<span class="badge ok">correct</span>', "ok"
    elif correct is False:
        badge, cls = '<span class="badge bad">wrong</span>', "bad"
    else:
        badge, cls = '<span class="badge na">no verdict</span>', ""
    kv, tail = [], []
    for k in _VERDICT_KEYS:
        if k == "correct" or k not in v:
            continue
        if _is_block(v[k]):  # (the code verifier's `extracted` is the program: inline, its lines folded into one)
            tail.append(f'<div class="kv"><b>{_e(k)}</b></div><pre>\n{_e(v[k])}</pre>')
        else:
            kv.append(f"<span><b>{_e(k)}:</b> {_e(_fmt(v[k]))}</span>")
    blocks = []
    for k, val in s.items():
        if k in _VERDICT_KEYS or k == "verdict":
            continue
        data = isinstance(val, (dict, list))
        if data:  # (dropped: a countdown card showed its target but not its numbers)
            val = json.dumps(val, ensure_ascii=False)
        if isinstance(val, str) and (k in _TEXT_KEYS or _is_block(val)):
            n = len(val)
            if data and n > 2000:  # (another tool's per-token logprobs or ids: megabytes over 50 cards)
                val = f"{val[:2000]} ... ({n} characters in all)"
            text = f"<pre>\n{_e(val)}</pre>"  # (HTML drops a newline right after <pre>: a completion's own stays)
            if (data or k in ("prompt", "problem", "question", "input")) and n > 300:
                blocks.append(f"<details><summary>{_e(k)} ({n} chars)</summary>{text}</details>")
            else:
                blocks.append(f'<div class="kv"><b>{_e(k)}</b></div>{text}')
        else:
            kv.append(f"<span><b>{_e(k)}:</b> {_e(_fmt(val))}</span>")
    return (f'<div class="sample {cls}"><div class="kv">#{i} {badge}{"".join(kv)}</div>'
            f'{"".join(blocks + tail)}</div>')


def write_html_report(run_dir: str | Path, out_path: str | Path | None = None, *, max_samples: int = 50) -> Path:
    """Render a run/eval directory as one self-contained HTML file (default ``<run_dir>/report.html``).

    Reads what exists: ``config.json`` (configuration), ``metrics.jsonl`` (per-step training metrics:
    curves + thinned table; curves drawn here in place of the run's ``training.png``, unless another
    ``train*.png`` is there),
    ``alarms.jsonl``, ``summary.json`` / ``eval*.json`` / ``*probe*.json`` / ``contamination*.json``
    / ``diversity*.json`` (metrics; ``{"mean","lo","hi"}`` dicts shown with their interval),
    ``samples.jsonl`` and a sweep's ``samples_*.jsonl`` (first ``max_samples`` completions of each with their
    verdict fields) and ``*.png``.
    Raises PonderError if the directory has none of these.
    """
    d = Path(run_dir)
    if not d.is_dir():  # (a mistyped path was "not a directory", as if a file stood there)
        raise PonderError(f"{d}: " + ("is a file, not a run or evaluation directory" if d.exists() else
                                      "no such directory"))
    out = Path(out_path) if out_path is not None else d / "report.html"
    if out.suffix.lower() not in (".html", ".htm"):  # never one of the run's own files (summary.json, ...)
        raise PonderError(f"{out}: the report is an HTML file; give a path ending in .html")
    # (numbers.Integral: a numpy integer, a count computed with numpy, was refused as "must be an integer")
    if isinstance(max_samples, bool) or not isinstance(max_samples, numbers.Integral) or max_samples < 0:
        raise PonderError(f"max_samples must be an integer >= 0, got {max_samples!r}")
    max_samples = int(max_samples)
    found = {
        "config": d / "config.json" if (d / "config.json").is_file() else None,
        "metrics": d / "metrics.jsonl" if (d / "metrics.jsonl").is_file() else None,
        "alarms": d / "alarms.jsonl" if (d / "alarms.jsonl").is_file() else None,
    }
    # an eval's samples.jsonl; a sweep's samples_PART.jsonl per method (samples_K_PART.jsonl with several models)
    sample_files = [p for p in [d / "samples.jsonl", *sorted(d.glob("samples_*.jsonl"))] if p.is_file()]
    result_files: list[Path] = []
    for pat in ("summary.json", "eval*.json", "*probe*.json", "contamination*.json", "diversity*.json"):
        for p in sorted(d.glob(pat)):
            if p.is_file() and p not in result_files:
                result_files.append(p)
    pngs = sorted(p for p in d.glob("*.png") if p.is_file())
    weights = next((w for w in MODEL_WEIGHT_FILES if (d / w).exists()), None)
    if weights is not None and not (result_files or found["metrics"] or sample_files or found["alarms"]):
        # (it reported the model's config.json alone, written into the checkpoint, which a resume's swap replaces)
        run = d.parent if (d.parent / "metrics.jsonl").is_file() else None
        raise PonderError(f"{d}: is a model checkpoint ({weights}), not a run or an evaluation; "
                          + (f"report on its run directory, {run}" if run else f"`ponder info {d}` describes it"))
    from ponder.evaluate import PROGRESS, SWEEP_PROGRESS

    if not any(found.values()) and not result_files and not pngs and not sample_files:
        if (d / PROGRESS).is_file():  # ("nothing to report" named no reason and no way on)
            raise PonderError(f"{d}: an evaluation interrupted before its summary (its {PROGRESS} keeps the problems "
                              f"drawn): nothing finished to report; continue it with its `ponder eval` command "
                              f"line and --out {d} --resume")
        if (d / SWEEP_PROGRESS).is_file():
            raise PonderError(f"{d}: a sweep interrupted before its summary (its {SWEEP_PROGRESS} keeps the draws "
                              f"made): nothing finished to report; continue it with its `ponder eval --sweep` "
                              f"command line and --out {d} --resume")
        raise PonderError(
            f"{d}: nothing to report (no config.json, metrics.jsonl, alarms.jsonl, summary.json, eval*.json, "
            "samples.jsonl or *.png)"
        )

    sections: list[tuple[str, str, str]] = []  # (anchor, title, html)
    notes: list[str] = []
    banner = ""  # what the reader must know before the numbers: the run did not reach its last step
    if (d / PROGRESS).is_file():  # a re-run of `ponder eval --out DIR` stopped before it replaced these results
        why = (f"a later evaluation into this directory was interrupted ({PROGRESS}): the results below are those "
               "of the run before it; its command line with --resume continues the later one")
        banner = f'<p><span class="badge bad">interrupted evaluation</span>{_e(why)}</p>'
    if (d / SWEEP_PROGRESS).is_file():
        # a sweep writes each part's samples_PART.jsonl as the part ends, its config.json and scaling files at the
        # end: one interrupted showed its parts' samples beside the figures and settings of the sweep before it
        # (another seed, other budgets), nothing saying they were not one run's
        older = [p.name for p in (found["config"], *pngs) if p is not None
                 and (p.name == "config.json" or p.name.startswith("scaling"))]
        why = (f"a sweep into this directory was interrupted before its summary ({SWEEP_PROGRESS}): "
               + ("the samples below are of the parts it finished" if sample_files else "it finished no part")
               + (f"; {', '.join(older)} are of the sweep before it, not of these samples" if older else "")
               + "; its `ponder eval --sweep` command line with --resume finishes it")
        banner += f'<p><span class="badge bad">interrupted sweep</span>{_e(why)}</p>'

    for p in result_files:
        data = _read_json(p)
        if p.name == "summary.json" and not isinstance(data, dict):  # (Ponder's own summary is an object: a list
            # was shown as one value, "value: 3 rows", as if it were the result; other *.json may be a user's list)
            raise PonderError(f"{p}: expected a JSON object (a run's or evaluation's summary), got {_json_kind(data)}")
        lists: list[tuple[str, list]] = []
        pairs = _flatten(data, lists=lists)
        pairs = [(k.replace("metrics.", "", 1) if k.startswith("metrics.") else k, v) for k, v in pairs]
        with_ci = any(_is_interval(v) for _, v in pairs)
        alpha = data.get("alpha") if isinstance(data, dict) else None  # a summary's own level (summarize(alpha=))
        level = f"{100 * (1 - alpha):g}%" if _is_num(alpha) and 0 < alpha < 1 else "95%"
        body = _kv_table(pairs, with_ci, level)
        if isinstance(data, dict) and "contaminated" in data:
            # too few items to decide is no clean bill (insufficient_evidence: absent from files saved before it)
            verdict, cls = (("CONTAMINATED", "bad") if data["contaminated"] else
                            ("insufficient evidence", "na") if data.get("insufficient_evidence") else
                            ("no contamination signal", "ok"))
            body = f'<p><span class="badge {cls}">{_e(verdict)}</span></p>' + body
        body += "".join(_list_block(k.replace("metrics.", "", 1) if k.startswith("metrics.") else k, rows,
                                    max_samples) for k, rows in lists)
        sections.append((f"res-{p.stem}", f"Results: {p.name}", body))

    if found["alarms"]:
        rows, note = _read_jsonl(found["alarms"])
        if note:
            notes.append(note)
        body = _rows_table(rows, 200, "alarm") if rows else '<p class="note">no alarms</p>'
        sections.append(("alarms", f"Alarms ({len(rows)})", body))

    if found["metrics"]:
        rows, note = _read_jsonl(found["metrics"])
        if note:
            notes.append(note)
        # a step logged again (a resumed run's log after the abandoned one's): the table showed both, the abandoned
        # values first, where the curves take the later ones
        stop = rows[-1].get("stopped_early") if rows else None
        latest = _latest_rows(rows)
        if len(latest) < len(rows):
            notes.append(f"{found['metrics'].name}: {counted(len(rows) - len(latest), 'row')} of steps logged again "
                         "later, or past the step a resume went back to (a resumed run), left out; the later values "
                         "are shown")
        rows = latest
        parts = []
        # a row whose step is not a number (a hand-edited or another tool's log) moved every curve onto the row
        # number, said only by the axis label: named here
        bad = next(((i, k, r[k]) for k in _X_KEYS if any(_is_num(r.get(k)) for r in rows)
                    for i, r in enumerate(rows, 1) if not _is_num(r.get(k))), None)
        if bad is not None and _x_key(rows) is None:
            i, k, v = bad
            notes.append(f"{found['metrics'].name}: row {i}'s {k} is {json.dumps(v)[:40]}, not a number: the curves "
                         "are drawn against the row number")
        # training.png is these curves as of the run's last end: a resumed run's is of an earlier one, and beside an
        # empty log (a resume went back to before its first logged step) it showed curves the log no longer holds
        pngs = [p for p in pngs if p.name != "training.png"]
        if rows and not any(p.name.startswith("train") for p in pngs):
            try:
                parts.append(_img(_fig_png(_training_figure(rows)), "training curves (from metrics.jsonl)"))
            except PonderError as e:
                parts.append(f'<p class="note">{_e(e)}</p>')
        parts.append(_rows_table(rows, 15) if rows else '<p class="note">metrics.jsonl is empty</p>')
        # --stop-on-alarm marks the step it stopped at; a run resumed past it logged later rows and is not stopped
        if isinstance(stop, dict):
            why = f"at step {rows[-1].get('step')} by alarm {stop.get('alarm')}: {stop.get('message')} (--stop-on-alarm)"
            banner += f'<p><span class="badge bad">stopped early</span>{_e(why)}</p>'
        else:
            # a run killed (or failed, or still running) before its last step: its curves and table read as a
            # finished run's, its last row as the final result
            target = _target_steps(_read_json(found["config"])) if found["config"] else None
            last = max((r["step"] for r in rows if _is_num(r.get("step"))), default=0)
            if target is not None and last < target:
                reached = f"steps to {last:g}" if rows else "no step"  # (an empty log read "steps to 0")
                why = (f"the run logged {reached} of its {target}: it is still running, or it stopped before its "
                       "last step (killed or failed); its command line with --resume continues it")
                banner += f'<p><span class="badge bad">unfinished run</span>{_e(why)}</p>'
        sections.append(("training", f"Training metrics ({counted(len(rows), 'row')})", "".join(parts)))

    if pngs:
        sections.append(("plots", "Plots", "".join(_img(p.read_bytes(), p.name) for p in pngs)))

    for path in sample_files:
        rows, note = _read_jsonl(path)
        if note:
            notes.append(note)
        verdicts = [_verdict_of(r).get("correct") for r in rows]
        n_ok = sum(v is True for v in verdicts)
        n_judged = sum(v is not None for v in verdicts)
        head = (f'<p class="note">{counted(len(rows), "sample")}, {n_ok} of {n_judged} judged correct; '
                f"showing the first {min(len(rows), max_samples)}</p>")
        cards = "".join(_sample_card(i, r) for i, r in enumerate(rows[:max_samples]))
        # (a sweep's samples were left out: it writes samples_PART.jsonl, one file per method, no samples.jsonl)
        title = "Sample completions" + ("" if len(sample_files) == 1 and path.name == "samples.jsonl"
                                        else f": {path.name}")
        sections.append((f"samples-{path.stem}" if path.name != "samples.jsonl" else "samples", title, head + cards))

    if found["config"]:
        cfg = _read_json(found["config"])
        # settings as written (rounded as metrics are, top_p 0.99999 read "1.0000")
        sections.append(("config", "Configuration", _kv_table(_flatten(cfg, fmt=_exact), with_ci=False, fmt=_exact)))

    nav = "".join(f'<a href="#{_e(a)}">{_e(t)}</a>' for a, t, _ in sections)
    body = "".join(f'<section id="{_e(a)}"><h2>{_e(t)}</h2>{h}</section>' for a, t, h in sections)
    note_html = "".join(f'<p class="note">{_e(n)}</p>' for n in notes)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    doc = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Ponder report: {_e(d.resolve().name)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>Ponder report: {_e(d.resolve().name)}</h1>"
        f'<div class="sub">{_e(d.resolve())} &middot; generated {_e(stamp)}</div></header>'
        f"<nav>{nav}</nav><main>{banner}{note_html}{body}</main></body></html>\n"
    )
    # (a lone surrogate from a JSON "\\ud83d" escape, valid JSON, failed the report as a UnicodeEncodeError)
    return _atomic_write_bytes(out, _no_surrogates(doc).encode("utf-8"))
