from __future__ import annotations

import base64
import csv
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ponder.errors import PonderError
from ponder.report import plot_heatmap, plot_scaling, plot_training, write_html_report

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _rows(n=30):
    return [{"step": s, "reward": s / n, "accuracy": 0.2 + s / (2 * n), "response_length": 100 + s,
             **({"heldout_accuracy": 0.3} if s % 10 == 0 else {})} for s in range(n)]


def _png_pixels(path):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_plot_training_writes_png_and_rejects_empty(tmp_path):
    p = plot_training(_rows(), tmp_path / "sub" / "train.png")
    assert p.read_bytes()[:8] == PNG_MAGIC
    assert len(np.unique(_png_pixels(p).reshape(-1, 3), axis=0)) > 10
    assert not list((tmp_path / "sub").glob("*.tmp"))  # atomic write leaves no temp file
    # Unknown keys still plot (generic fallback); no numbers at all is an error.
    plot_training([{"step": 1, "foo": 2.0}, {"step": 2, "foo": 3.0}], tmp_path / "generic.png")
    with pytest.raises(PonderError, match="no metric rows"):
        plot_training([], tmp_path / "x.png")
    with pytest.raises(PonderError, match="no numeric metrics"):
        plot_training([{"step": 1, "name": "a"}], tmp_path / "x.png")
    # a run diverged from its first step: its loss is there, NaN (null in metrics.jsonl) in every row, which
    # "no numeric metrics in rows (keys: ['loss', 'step'])" denied
    with pytest.raises(PonderError, match=r"nothing to plot: loss, grad_norm are NaN, infinite or null in every row"):
        plot_training([{"step": 1, "loss": math.nan, "grad_norm": None}, {"step": 2, "loss": None, "grad_norm": math.inf}],
                      tmp_path / "x.png")


def test_a_metric_never_finite_has_its_panel_saying_so():
    """A loss NaN from the first step (null in metrics.jsonl) beside a reward that was logged: the loss panel was
    left out, no word said, as if the run logged no loss; it is there, saying the loss is NaN, inf or null
    throughout, over the run's steps (not an axis of 0 to 1)."""
    from ponder.report import _training_figure

    rows = [{"step": s, "loss": None if s % 2 else math.nan, "reward_mean": 0.1 * s} for s in range(1, 6)]
    axes = [ax for ax in _training_figure(rows).axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["reward", "loss"]
    loss = axes[1]
    assert [t.get_text() for t in loss.texts] == ["NaN, infinite or null in every row"]
    assert loss.get_xlim() == (0.0, 6.0) and not axes[0].texts


def _curves():
    out = []
    for model in ("a", "b"):
        for method, kind in (("sc", "parallel"), ("bf", "sequential")):
            out.append({"model": model, "method": method, "kind": kind,
                        "points": [{"budget": b, "tokens": 100 * b, "latency": 0.1 * b, "accuracy": 0.3 + 0.05 * b,
                                    "lo": 0.25 + 0.05 * b, "hi": 0.35 + 0.05 * b} for b in (1, 2, 4)]})
    return out


def test_plot_scaling_outputs(tmp_path):
    paths = plot_scaling(_curves(), tmp_path / "scaling")
    assert set(paths) == {"tokens_png", "latency_png", "csv", "json"}
    for k in ("tokens_png", "latency_png"):
        assert paths[k].read_bytes()[:8] == PNG_MAGIC
    with open(paths["csv"]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12 and rows[0]["model"] == "a" and float(rows[0]["tokens"]) == 100
    data = json.loads(paths["json"].read_text())
    assert len(data["curves"]) == 4
    # No latencies: only the tokens plot.
    no_lat = [{**c, "points": [{k: v for k, v in p.items() if k != "latency"} for p in c["points"]]} for c in _curves()]
    assert "latency_png" not in plot_scaling(no_lat, tmp_path / "nolat")
    with pytest.raises(PonderError, match="kind="):
        plot_scaling([{**_curves()[0], "kind": "diagonal"}], tmp_path / "bad")
    with pytest.raises(PonderError, match="tokens=0"):
        plot_scaling([{"model": "a", "method": "m", "points": [{"tokens": 0, "accuracy": 0.5}]}], tmp_path / "bad")
    # an interval that could not be computed is null in the JSON (strict JSON has no NaN)
    nan_ci = [{**c, "points": [{**p, "lo": float("nan")} for p in c["points"]]} for c in _curves()]
    text = plot_scaling(nan_ci, tmp_path / "nan")["json"].read_text()
    assert "NaN" not in text and json.loads(text)["curves"][0]["points"][0]["lo"] is None


def test_scaling_title_keys_only_the_line_styles_drawn():
    from ponder.report import _check_curves, _scaling_figure
    title = lambda curves: _scaling_figure(_check_curves(curves), "tokens", "t").axes[0].get_title()  # noqa: E731
    assert "solid: sequential; dashed: parallel" in title(_curves())
    parallel = [c for c in _curves() if c["kind"] == "parallel"]
    assert "dashed: parallel" in title(parallel) and "sequential" not in title(parallel)


def test_curves_of_the_same_model_and_method_from_two_runs_are_told_apart():
    """Two runs' scaling.json curves together, both "tiny · majority (parallel)": same label, colour, marker and
    line style, so nothing told the two lines apart."""
    from ponder.report import _check_curves, _scaling_figure
    run = [c for c in _curves() if c["kind"] == "parallel"]
    ax = _scaling_figure(_check_curves(run + run), "tokens", "t").axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(set(labels)) == len(labels) == 2 * len(run)
    styles = {(c.get_label(), c.get_color()) for c in ax.get_lines()}
    assert len({col for _, col in styles}) == 2 * len({c["model"] for c in run})


@pytest.mark.parametrize("tokens", [[1000, 1500, 1900], [100, 120], [130], [64, 128, 256]])
def test_a_scaling_plots_x_axis_has_at_least_two_labelled_ticks(tokens):
    """Tokens of 1000 to 1900 lie inside one step of the 1-2-5 log ticks: the axis read "1000" alone."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from ponder.report import _check_curves, _scaling_figure
    curve = [{"model": "m", "method": "x", "kind": "sequential",
              "points": [{"tokens": t, "accuracy": 0.5} for t in tokens]}]
    fig = _scaling_figure(_check_curves(curve), "tokens", "t")
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    labels = [t.label1.get_text() for t in ax.xaxis.get_major_ticks() if lo <= t.get_loc() <= hi]
    assert len([s for s in labels if s]) >= 2, labels


def test_plot_heatmap(tmp_path):
    p = plot_heatmap([[1.0, 0.5], [0.5, float("nan")]], ["x", "y"], tmp_path / "h.png", title="t")
    assert p.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(PonderError, match="square"):
        plot_heatmap([[1, 2, 3]], ["a"], tmp_path / "h2.png")
    with pytest.raises(PonderError, match="labels"):
        plot_heatmap([[1.0]], ["a", "b"], tmp_path / "h3.png")


def _write_run(d: Path):
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps({"rl": {"lr": 1e-5, "name": "<b>cfg</b>"}}))
    (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _rows()) + '{"step": 30, "rew')
    (d / "alarms.jsonl").write_text(json.dumps({"step": 5, "message": "<img src=x onerror=alert(1)>"}) + "\n")
    (d / "summary.json").write_text(json.dumps(
        {"n_problems": 10, "metrics": {"pass@1": {"mean": 0.4, "lo": 0.3, "hi": 0.5}}}))
    (d / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in [
        {"prompt": "what is 2+2?", "completion": "<script>alert('pwned')</script> the answer is 5",
         "correct": False, "extracted": "5", "gold": "4", "reason": "wrong"},
        {"prompt": "p", "completion": "ok", "verdict": {"correct": True, "extracted": "4", "reason": "ok"}},
    ]))


def test_html_report_escapes_and_is_self_contained(tmp_path):
    d = tmp_path / "run"
    _write_run(d)
    out = write_html_report(d)
    assert out == d / "report.html"
    doc = out.read_text()
    # Nothing from the run directory becomes markup: no script/img tags from the data, only escaped text.
    assert "<script" not in doc.lower()
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in doc
    assert "<img src=x" not in doc and "&lt;img src=x onerror=alert(1)&gt;" in doc
    assert "<b>cfg</b>" not in doc and "&lt;b&gt;cfg&lt;/b&gt;" in doc
    # No external resources: every src/href is a data: URI or an in-page anchor.
    for attr in re.findall(r'(?:src|href)="([^"]*)"', doc):
        assert attr.startswith(("data:image/png;base64,", "#")), attr
    assert "<link" not in doc and "@import" not in doc and "url(" not in doc
    # The training curves were generated (no PNG in the dir) and embedded as a valid PNG.
    imgs = re.findall(r'src="data:image/png;base64,([^"]+)"', doc)
    assert len(imgs) == 1 and base64.b64decode(imgs[0])[:8] == PNG_MAGIC
    assert "incomplete last line" in doc
    assert "0.4000" in doc and "[0.3000, 0.5000]" in doc  # interval rendered
    assert "1 of 2 judged correct" in doc  # nested and flat verdicts both read


def test_html_report_shows_a_contamination_verdict_of_too_few_items_as_insufficient(tmp_path):
    """A contamination.json whose probe had too few items to decide (insufficient_evidence) was badged "no
    contamination signal", the clean bill the verdict withholds; files saved before the key read as before."""
    from ponder.probes import contamination_verdict, prefix_completion_probe

    problem = "Mia buys 4 packs of stickers. How many stickers does Mia have now?"
    res = contamination_verdict(prefix=prefix_completion_probe(lambda ps: [problem[len(p):] for p in ps], [problem]))
    assert res["insufficient_evidence"] and not res["contaminated"]
    (tmp_path / "contamination.json").write_text(json.dumps(res))
    assert '<span class="badge na">insufficient evidence</span>' in write_html_report(tmp_path).read_text()
    (tmp_path / "contamination.json").write_text(json.dumps({"contaminated": False, "reasons": []}))
    assert '<span class="badge ok">no contamination signal</span>' in write_html_report(tmp_path).read_text()


def test_html_report_embeds_existing_pngs(tmp_path):
    d = tmp_path / "eval"
    d.mkdir()
    plot_scaling(_curves(), d / "scaling")
    (d / "eval_math.json").write_text(json.dumps({"maj@4": {"mean": 0.5, "lo": 0.4, "hi": 0.6}}))
    out = write_html_report(d, tmp_path / "elsewhere" / "r.html")
    doc = out.read_text()
    pngs = {p.name: base64.b64encode(p.read_bytes()).decode() for p in d.glob("*.png")}
    assert len(pngs) == 2
    for name, b64 in pngs.items():
        assert b64 in doc and name in doc


def test_html_report_errors(tmp_path):
    with pytest.raises(PonderError, match="nothing to report"):
        write_html_report(tmp_path)
    # a mistyped path said "not a directory", as if a file stood there
    with pytest.raises(PonderError, match=r"missing: no such directory$"):
        write_html_report(tmp_path / "missing")
    (tmp_path / "file").write_text("")
    with pytest.raises(PonderError, match=r"file: is a file, not a run or evaluation directory$"):
        write_html_report(tmp_path / "file")
    (tmp_path / "samples.jsonl").write_text('{"a": 1}\nnot json\n{"a": 2}\n')
    with pytest.raises(PonderError, match=r"samples.jsonl:2"):
        write_html_report(tmp_path)


def test_a_model_checkpoint_is_not_reported_as_a_run(tmp_path):
    """`ponder report RUN/checkpoint` (the model, not its run) wrote a "report" of the model's config.json alone
    into the checkpoint; it is refused in one line pointing at the run directory, and nothing is written."""
    import shutil

    import ponder

    ck = tmp_path / "run" / "checkpoint"
    shutil.copytree(Path(ponder.__file__).parent / "assets" / "tiny", ck)
    with pytest.raises(PonderError, match=r"checkpoint: is a model checkpoint \(model.safetensors\), not a run or an "
                                          r"evaluation; `ponder info .*` describes it$"):
        write_html_report(ck)
    (tmp_path / "run" / "metrics.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    with pytest.raises(PonderError, match=f"report on its run directory, {re.escape(str(tmp_path / 'run'))}$"):
        write_html_report(ck)
    assert not (ck / "report.html").exists()
    write_html_report(tmp_path / "run")  # (the run itself: reported)


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_headless_screenshot_of_report(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "screenshot_report.py"), "--out", str(tmp_path),
                           "--height", "1600"], capture_output=True, text=True, timeout=180)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["ok"], res
    png = Path(res["screenshot"])
    assert png.stat().st_size > 20_000
    px = _png_pixels(png)
    assert px.shape[:2] == (1600, 1280)
    colours = np.unique(px.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 50  # text, plots and tables, not a blank page
    # The dark header band is at the top: the page really rendered our CSS.
    assert px[:40].mean() < 100 < px[200:600].mean()


def test_report_never_overwrites_the_runs_own_files(tmp_path):
    from ponder.errors import PonderError

    (tmp_path / "summary.json").write_text('{"kind": "eval"}')
    with pytest.raises(PonderError, match="give a path ending in .html"):
        write_html_report(tmp_path, tmp_path / "summary.json")
    assert (tmp_path / "summary.json").read_text() == '{"kind": "eval"}'


def test_report_shows_a_sweep_points_tokens_and_latency_beside_its_interval(tmp_path):
    # sweep's summary.json keeps {"mean", "lo", "hi", "tokens", "latency"} per point; the interval row used
    # to swallow the whole dict, so the report showed no tokens or latency at all.
    point = {"mean": 0.5, "lo": 0.2, "hi": 0.8, "tokens": 123.5, "latency": 0.25}
    (tmp_path / "summary.json").write_text(json.dumps({"kind": "sweep", "accuracy": {"tiny/majority@4": point}}))
    text = re.sub(r"<[^>]+>", " ", write_html_report(tmp_path).read_text())
    assert re.search(r"tiny/majority@4\s+0\.5000\s+\[0\.2000, 0\.8000\]", text)
    assert re.search(r"tiny/majority@4\.tokens\s+123\.5", text)
    assert re.search(r"tiny/majority@4\.latency\s+0\.2500", text)


def test_report_results_table_past_its_row_limit_says_so(tmp_path):
    # The table used to end silently at 300 rows; a 150-point sweep (3 rows a point) must still fit whole.
    acc = {f"m/majority@{i}": {"mean": 0.5, "lo": 0.2, "hi": 0.8, "tokens": float(i), "latency": 0.1}
           for i in range(1, 151)}
    (tmp_path / "summary.json").write_text(json.dumps({"kind": "sweep", "accuracy": acc}))
    doc = write_html_report(tmp_path).read_text()
    assert "m/majority@150.latency" in doc and "only the first" not in doc
    (tmp_path / "summary.json").write_text(json.dumps({f"k{i}": i for i in range(1000)}))
    doc = write_html_report(tmp_path).read_text()
    assert "k899<" in doc and "k900<" not in doc and "only the first 900 entries are shown" in doc


def test_report_labels_intervals_with_the_summarys_own_level(tmp_path):
    """A summary computed at alpha = 0.1 shows a 90% interval; the column said 95% whatever the level."""
    import json

    for alpha, label in ((0.1, "90% CI"), (None, "95% CI")):
        d = tmp_path / f"e{alpha}"
        d.mkdir()
        summary = {"metrics": {"pass@1": {"mean": 0.4, "lo": 0.3, "hi": 0.5}}}
        if alpha is not None:
            summary["alpha"] = alpha
        (d / "summary.json").write_text(json.dumps(summary))
        doc = write_html_report(d).read_text()
        assert f"<th>{label}</th>" in doc and "[0.3000, 0.5000]" in doc


def test_report_shows_an_interval_of_one_problem_as_none(tmp_path):
    """One problem has no interval over problems: summary.json holds null bounds, shown as a dash in the
    interval column beside the mean (they were rows of their own, "lo: None")."""
    import json

    from ponder.fileio import json_safe
    from ponder.metrics import summarize

    s = summarize([[{"correct": True, "tokens": 5}, {"correct": False, "tokens": 9}]], ks=(1,))
    (tmp_path / "summary.json").write_text(json.dumps(json_safe(s), allow_nan=False))
    doc = write_html_report(tmp_path).read_text()
    assert "mean_tokens" in doc and "—</td>" in doc and "None" not in doc


def test_report_shows_an_undefined_metric_as_one_row_saying_so(tmp_path):
    """distinct-2 of samples all shorter than 2 words is undefined: diversity.json holds null mean and bounds,
    which were three rows of "None" (distinct_2.mean, .lo, .hi) instead of one row."""
    from ponder.fileio import json_safe
    from ponder.probes import intra_model_homogeneity

    h = intra_model_homogeneity([["63", "7"], ["12", "12"]])
    (tmp_path / "diversity.json").write_text(json.dumps(json_safe({"intra": {"m": h}}), allow_nan=False))
    doc = write_html_report(tmp_path).read_text()
    assert re.search(r"<td>intra\.m\.distinct_2</td><td class=\"num\">undefined</td><td class=\"num ci\">—</td>", doc)
    assert "distinct_2.mean" not in doc and "None" not in doc


def test_report_reads_samples_holding_unicode_line_separators(tmp_path):
    """evaluate writes samples.jsonl with ensure_ascii=False, so a completion's U+2028 or U+0085 is written as it
    is, inside its JSON string; the report split lines there too and refused the file as invalid JSON."""
    rows = [{"prompt": "p", "completion": "a\u2028b", "correct": True},
            {"prompt": "q", "completion": "c\u0085d\u2029e", "correct": False}]
    (tmp_path / "samples.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                            encoding="utf-8")
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    assert "2 samples, 1 of 2 judged correct" in doc and "a\u2028b" in doc


def test_heatmap_numbers_contrast_with_their_cells():
    """The text colour was chosen against the midpoint of the data, not the colour scale: with the diversity
    probe's fixed 0..1 scale and every similarity low, half the numbers were black on dark purple."""
    from matplotlib.colors import to_rgb

    from ponder.report import _heatmap_figure

    def lum(c):
        r, g, b = to_rgb(c)
        return 0.299 * r + 0.587 * g + 0.114 * b

    for m, lo, hi in (([[0.05, 0.15], [0.15, 0.1]], 0.0, 1.0), ([[0.9, 0.95], [0.95, 0.85]], 0.0, 1.0),
                      ([[1.0, 0.2], [0.2, 0.6]], None, None)):
        ax = _heatmap_figure(np.array(m), ["a", "b"], None, lo, hi).axes[0]
        im = ax.images[0]
        assert len(ax.texts) == 4
        for t in ax.texts:
            j, i = (round(v) for v in t.get_position())
            assert abs(lum(t.get_color()) - lum(im.cmap(im.norm(m[i][j])))) > 0.4, (m, i, j, t.get_color())


def test_report_reads_files_that_start_with_a_byte_order_mark(tmp_path):
    """A file saved by an editor that writes a UTF-8 BOM (Notepad, PowerShell) is read as Ponder's data loaders
    read it: a one-line samples.jsonl with a BOM was skipped as 'an incomplete last line' and the report said
    there were 0 samples; a summary.json with one was refused as invalid JSON."""
    bom = "\ufeff"
    (tmp_path / "samples.jsonl").write_text(bom + json.dumps({"prompt": "p", "completion": "c", "correct": True})
                                            + "\n", encoding="utf-8")
    (tmp_path / "summary.json").write_text(bom + json.dumps({"accuracy": {"mean": 0.5, "lo": 0.25, "hi": 0.75}}),
                                           encoding="utf-8")
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    assert "1 sample, 1 of 1 judged correct" in doc and "incomplete" not in doc
    assert "[0.2500, 0.7500]" in doc


def test_dollar_signs_in_names_are_text_not_matplotlib_math(tmp_path):
    """Metric keys and model names are drawn as they are written: between two '$' matplotlib parsed them as math,
    so a name such as '$\\dollar$' failed the whole plot (and report) with a mathtext ValueError and 'a$b$c'
    was drawn as an italic formula."""
    name = "run$\\dollar$"
    plot_training([{"step": 1, name: 1.0}, {"step": 2, name: 2.0}], tmp_path / "t.png")
    plot_scaling([{"model": name, "method": "majority", "points": [{"tokens": 10, "accuracy": 0.5}]}],
                 tmp_path / "s")
    plot_heatmap([[1.0, 0.5], [0.5, 1.0]], [name, "a$b$c"], tmp_path / "h.png", title=name)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.jsonl").write_text(json.dumps({"step": 1, name: 1.0}) + "\n")
    assert "Training metrics (1 row)" in write_html_report(tmp_path / "run").read_text()


def test_a_logged_nan_breaks_the_training_curve_and_an_unlogged_step_does_not():
    """A step that logged its loss as NaN (null in metrics.jsonl) was dropped and the line drawn straight over it,
    so the curve hid the step where the loss went bad; it is a gap now. A metric not logged at a step (held-out
    accuracy every N steps) is still joined across."""
    from ponder.report import _training_figure

    rows = [{"step": 1, "loss": 2.0, "loss_lo": 1.5, "loss_hi": 2.5, "heldout_loss": 3.0},
            {"step": 2, "loss": None},
            {"step": 3, "loss": float("nan"), "loss_lo": None, "loss_hi": None},
            {"step": 4, "loss": 1.0, "loss_lo": 0.5, "loss_hi": 1.5, "heldout_loss": 2.0}]
    ax = _training_figure(rows).axes[0]
    loss, heldout = ax.lines
    assert list(loss.get_xdata()) == [1, 2, 3, 4] and np.isnan(loss.get_ydata()[1:3]).all()
    assert list(heldout.get_xdata()) == [1, 4] and not np.isnan(heldout.get_ydata()).any()
    assert len(ax.collections) == 1  # the loss interval is still drawn where the loss is
    # a column null but every 10 rows (pandas' to_json of sparse evals): its points stand alone, marked
    rows = [{"step": s, "loss": 1.0 / s, "heldout_loss": 2.0 / s if s % 10 == 0 else None} for s in range(1, 41)]
    loss, heldout = _training_figure(rows).axes[0].lines
    assert loss.get_markevery() == [] and heldout.get_markevery() == [9, 19, 29, 39]


def test_values_past_the_plotting_range_are_gaps_and_the_report_is_written(tmp_path):
    """A metric of -1.7e308 and 1.7e308 (a diverged run) failed the whole report in matplotlib's tick code, and an
    integer past float's range (10 ** 400) with a bare OverflowError; both are gaps in the curve now, and the
    table still prints them."""
    from ponder.report import _training_figure

    rows = [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 1.7e308}, {"step": 3, "loss": -1.7e308},
            {"step": 4, "loss": 10 ** 400}, {"step": 5, "loss": 0.5}]
    (line,) = _training_figure(rows).axes[0].lines
    assert list(line.get_xdata()) == [1, 2, 3, 4, 5] and np.isnan(line.get_ydata()[1:4]).all()
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    assert "Training metrics (5 rows)" in doc


def test_training_plot_ticks_of_integer_steps_are_integers():
    """A short run's step axis was ticked at 0.96, 1.02, ... (matplotlib's default locator)."""
    from ponder.report import _training_figure

    ax = _training_figure([{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.5}]).axes[0]
    ax.figure.canvas.draw()
    assert all(float(t).is_integer() for t in ax.get_xticks())


def test_report_says_a_run_stopped_by_an_alarm_stopped_there(tmp_path):
    """A run ended by --stop-on-alarm (its last metrics row names the alarm) read in the report like a finished
    one; a run resumed past that step (later rows) is not called stopped."""
    stop = {"alarm": "length_runaway", "message": "mean response length 1 of max 1, 100% truncated"}
    rows = [{"step": 1, "reward_mean": 0.0}, {"step": 2, "reward_mean": 0.0, "stopped_early": stop}]
    d = tmp_path / "r"
    d.mkdir()
    (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    page = write_html_report(d).read_text()
    assert ('<span class="badge bad">stopped early</span>at step 2 by alarm length_runaway: mean response length 1 '
            "of max 1, 100% truncated (--stop-on-alarm)") in page
    (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [*rows, {"step": 3, "reward_mean": 0.0}]))
    assert "stopped early" not in write_html_report(d).read_text()


def test_a_single_step_runs_axis_is_ticked_at_whole_steps():
    """One logged step (a run stopped after its first step, `--steps 1`): matplotlib widens the axis to
    0.945..1.055, where the integer locator falls back to ticks at 0.960, 0.975, ..."""
    from ponder.report import _training_figure

    ax = _training_figure([{"step": 1, "loss": 1.0}]).axes[0]
    ax.figure.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert 1.0 in ticks and all(float(t).is_integer() for t in ticks)


@pytest.mark.parametrize("name", ["summary.json", "metrics.jsonl"])
def test_json_nested_past_the_parsers_depth_is_an_error_naming_the_file(tmp_path, name):
    """A file of 100000 nested arrays failed with a bare RecursionError, naming no file."""
    (tmp_path / name).write_text("[" * 100000 + "]" * 100000 + "\n")
    with pytest.raises(PonderError, match=rf"{name}(:1)?: .*nested too deeply"):
        write_html_report(tmp_path)


@pytest.mark.parametrize("name", ["summary.json", "metrics.jsonl", "samples.jsonl", "config.json"])
def test_an_integer_past_pythons_digit_limit_is_an_error_naming_the_file(tmp_path, name):
    """An integer of over 4300 digits failed the report with a bare ValueError ("Exceeds the limit ... for integer
    string conversion"), naming no file or line, as the data loaders and probes no longer do."""
    (tmp_path / name).write_text('{"a": ' + "9" * 5000 + "}\n" + ('{"a": 1}\n' if name.endswith("l") else ""))
    with pytest.raises(PonderError, match=rf"{name}(:1)?: invalid JSON \(Exceeds the limit"):
        write_html_report(tmp_path)


def test_report_draws_the_curves_of_every_logged_step_not_a_stale_training_png(tmp_path):
    """training.png is written when a run ends: a run resumed to more steps (in progress, or killed) has one of
    its earlier end, and the report showed those curves only, 3 steps beside a table of 5 rows."""
    rows = [{"step": s, "loss": 1.0 / s} for s in range(1, 6)]
    plot_training(rows[:3], tmp_path / "training.png")
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "eval_curve.png").write_bytes((tmp_path / "training.png").read_bytes())  # not the run's own plot
    doc = write_html_report(tmp_path).read_text()
    assert "training curves (from metrics.jsonl)" in doc
    assert "<figcaption>training.png</figcaption>" not in doc and "<figcaption>eval_curve.png</figcaption>" in doc
    # a row whose step is not a number: the curves go by row number, and the report says why
    bad = [*rows[:2], {"step": "three", "loss": 0.3}, *rows[3:]]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in bad))
    doc = write_html_report(tmp_path).read_text()
    assert "metrics.jsonl: row 3&#x27;s step is &quot;three&quot;, not a number" in doc  # (HTML-escaped)
    # nor beside an empty log: its curves are of steps the log no longer holds
    (tmp_path / "metrics.jsonl").write_text("")
    doc = write_html_report(tmp_path).read_text()
    assert "<figcaption>training.png</figcaption>" not in doc and "metrics.jsonl is empty" in doc


def test_an_interrupted_evaluation_is_named_as_such(tmp_path):
    """A `ponder eval --out DIR` stopped before its summary leaves only its progress file: the report said "nothing
    to report (no config.json, ...)", as of a directory that was never an evaluation. It names the interrupted
    evaluation and how to continue it."""
    from ponder.evaluate import PROGRESS

    (tmp_path / PROGRESS).write_text("{}\n")
    with pytest.raises(PonderError, match=f"an evaluation interrupted before its summary .*--out {tmp_path} --resume"):
        write_html_report(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [PROGRESS]


def test_results_beside_an_interrupted_rerun_say_they_are_the_earlier_runs(tmp_path):
    """A re-run of `ponder eval --out DIR` keeps the earlier results until it finishes: stopped before, the
    directory holds the earlier summary.json beside the later run's progress file, and the report showed the
    earlier numbers with no word that a later evaluation there had not finished."""
    from ponder.evaluate import PROGRESS

    (tmp_path / "config.json").write_text(json.dumps({"kind": "eval"}))
    (tmp_path / "summary.json").write_text(json.dumps({"metrics": {"pass@1": {"mean": 0.5, "lo": 0.2, "hi": 0.8}}}))
    assert "interrupted evaluation" not in write_html_report(tmp_path).read_text()
    (tmp_path / PROGRESS).write_text("{}\n")
    html = write_html_report(tmp_path).read_text()
    assert "interrupted evaluation" in html and "the results below are those of the run before it" in html


def test_an_interrupted_sweep_says_which_files_are_its_and_which_the_earlier_sweeps(tmp_path):
    """A sweep writes each part's samples_PART.jsonl as the part ends, its config.json and scaling plots at the end.
    Re-run into a finished sweep's directory (another seed) and stopped after its first part, the directory held the
    new samples beside the old sweep's plots and settings, and the report showed them as one run, no word said;
    stopped before any part, it said "nothing to report", as of a directory that was never a sweep."""
    from ponder.evaluate import SWEEP_PROGRESS

    (tmp_path / SWEEP_PROGRESS).write_text("{}\n")
    with pytest.raises(PonderError, match=f"a sweep interrupted before its summary .*--out {tmp_path} --resume"):
        write_html_report(tmp_path)
    sample = {"prompt": "1 + 1 = ?", "completion": "2", "correct": True, "method": "parallel"}
    (tmp_path / "samples_parallel.jsonl").write_text(json.dumps(sample) + "\n")
    doc = write_html_report(tmp_path).read_text()
    assert "interrupted sweep" in doc and "the samples below are of the parts it finished" in doc
    assert "of the sweep before it" not in doc  # (no earlier sweep's files there)
    (tmp_path / "config.json").write_text(json.dumps({"kind": "sweep", "seed": 0}))
    (tmp_path / "scaling_tokens.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    doc = write_html_report(tmp_path).read_text()
    assert "config.json, scaling_tokens.png are of the sweep before it, not of these samples" in doc
    (tmp_path / SWEEP_PROGRESS).unlink()  # (a finished sweep: no such word)
    assert "interrupted sweep" not in write_html_report(tmp_path).read_text()


def test_a_run_that_did_not_reach_its_last_step_is_said_unfinished(tmp_path):
    """A run killed (or still running) after 5 of its 8 steps: its report read as a finished run's, its last row as
    the final result, where --stop-on-alarm's stop is said; the step it reached and its target are said now."""
    (tmp_path / "config.json").write_text(json.dumps({"kind": "grpo", "grpo": {"steps": 8}}))
    rows = [{"step": s, "reward_mean": 0.1 * s} for s in range(1, 6)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    doc = write_html_report(tmp_path).read_text()
    assert "unfinished run" in doc and "the run logged steps to 5 of its 8" in doc
    rows += [{"step": s, "reward_mean": 0.1 * s} for s in range(6, 9)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert "unfinished run" not in write_html_report(tmp_path).read_text()
    (tmp_path / "config.json").write_text(json.dumps({"kind": "sft", "train": {"steps": 10}}))
    assert "the run logged steps to 8 of its 10" in write_html_report(tmp_path).read_text()
    (tmp_path / "config.json").write_text(json.dumps({"kind": "eval", "train": {"steps": 10}}))  # (not a run's)
    assert "unfinished run" not in write_html_report(tmp_path).read_text()


def test_config_settings_of_an_empty_dict_are_rows_not_left_out(tmp_path):
    """A config value of {} (chat_template_kwargs, a sweep's per-model kwargs) had no row at all, as if it were
    never set, while an empty list showed as []."""
    (tmp_path / "config.json").write_text(json.dumps({"chat_template_kwargs": {}, "per_model": {"tiny": {}},
                                                      "stop": []}))
    doc = write_html_report(tmp_path).read_text()
    for key, shown in (("chat_template_kwargs", "{}"), ("per_model.tiny", "{}"), ("stop", "[]")):
        assert f"<tr><td>{key}</td><td>{shown}</td></tr>" in doc


def test_a_lone_surrogate_in_the_data_is_shown_escaped_not_a_crash(tmp_path):
    """JSON may escape half an emoji ("\\ud83d"), which json reads as a lone surrogate: the report failed with a
    UnicodeEncodeError writing the page, and a metric key so named failed the training figure in the font code."""
    (tmp_path / "config.json").write_text('{"name": "a\\udc80b"}')
    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "odd\\ud83d": 1}\n{"step": 2, "odd\\ud83d": 2}\n')
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    assert "a\\udc80b" in doc and "odd\\ud83d" in doc
    assert "training curves" in doc and "no numeric metrics" not in doc


def test_a_completion_that_opens_with_a_newline_keeps_it_in_the_html(tmp_path):
    """HTML drops one newline right after <pre>: the tiny model's completions open with one ("\\nSolution:"),
    which the report showed one line short. Each <pre> opens with a newline of its own."""
    d = tmp_path / "run"
    d.mkdir()
    (d / "samples.jsonl").write_text(json.dumps({"prompt": "p", "completion": "\nSolution: 4", "correct": True}) + "\n")
    doc = write_html_report(d).read_text()
    assert "<pre>\n\nSolution: 4</pre>" in doc and "<pre>\nSolution" not in doc


def test_integer_verdicts_from_another_tool_count_as_verdicts(tmp_path):
    """A samples.jsonl written by another tool with correct 1/0 showed every sample as 'no verdict' while counting
    it judged: '0 of 3 judged correct'. 1/0 read as true/false; a value that is no verdict is not counted."""
    d = tmp_path / "run"
    d.mkdir()
    rows = [{"completion": "a", "correct": 1}, {"completion": "b", "correct": 0}, {"completion": "c", "correct": "yes"}]
    (d / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    doc = write_html_report(d).read_text()
    assert "1 of 2 judged correct" in doc
    assert doc.count('badge ok">correct') == 1 and doc.count('badge bad">wrong') == 1 and doc.count("no verdict") == 1


def test_a_scaling_plots_title_keys_only_what_that_plot_draws():
    """The latency plot of sequential curves with latencies beside parallel ones without drew solid lines only, and
    its title keyed "dashed: parallel" too; a plot without intervals drew no bars, and its title keyed "bars"."""
    from ponder.report import _check_curves, _scaling_figure
    seq = {"model": "m", "method": "budget", "kind": "sequential",
           "points": [{"tokens": t, "accuracy": 0.5, "latency": t / 100} for t in (100, 200)]}
    par = {"model": "m", "method": "vote", "kind": "parallel",
           "points": [{"tokens": t, "accuracy": 0.6, "lo": 0.5, "hi": 0.7} for t in (100, 200)]}
    curves = _check_curves([seq, par])
    latency = _scaling_figure(curves, "latency", "s").axes[0].get_title()
    assert "solid: sequential" in latency and "parallel" not in latency and "bars" not in latency
    tokens = _scaling_figure(curves, "tokens", "t").axes[0].get_title()
    assert "solid: sequential; dashed: parallel" in tokens and "bars: 95% CI" in tokens


def test_the_thinned_metrics_table_has_a_column_for_every_logged_key(tmp_path):
    """A metric logged at a few steps (an evaluation every N steps) fell between the rows a long run's table shows
    and its column was left out: neither the plot (not a known curve) nor the table said it was logged."""
    rows = [{"step": s, "loss": 1.0 / s} for s in range(1, 101)]
    rows[6]["eval/pass_at_8"] = 0.25
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    # (its one row is shown beside the 15 evenly spaced ones)
    assert "showing 16 of 100 rows" in doc and "<th>eval/pass_at_8</th>" in doc and ">0.2500</td>" in doc


def test_a_step_logged_again_after_a_resume_supersedes_the_earlier_rows_not_a_zig_zag():
    """Steps 1-5, then a resume from step 2 logging 3-7: the curve is 1, 2 of the first run and 3-7 of the second,
    x strictly increasing (it went 1..5 then back to 3)."""
    from ponder.report import _training_figure

    rows = [{"step": s, "loss": 1.0} for s in range(1, 6)] + [{"step": s, "loss": 2.0} for s in range(3, 8)]
    (line,) = _training_figure(rows).axes[0].lines
    assert list(line.get_xdata()) == [1, 2, 3, 4, 5, 6, 7]
    assert list(line.get_ydata()) == [1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0]


def test_a_scaling_plot_of_one_model_colours_its_methods_apart():
    """With one model (the usual `ponder eval --sweep`) colour was by model alone: every curve the same blue, the
    methods told apart only by their small markers where they overlap."""
    from ponder.report import _check_curves, _scaling_figure
    curves = [c for c in _curves() if c["model"] == "a"]
    ax = _scaling_figure(_check_curves(curves), "tokens", "t").axes[0]
    assert len({line.get_color() for line in ax.get_lines()}) == len(curves)


def test_a_scaling_plots_lines_run_along_its_own_axis():
    """Points were kept in token order on the latency plot too: a budget measured slower than a larger one (warm-up,
    a busy machine) drew the line back and forth across the axis."""
    from ponder.report import _check_curves, _scaling_figure
    curve = [{"model": "a", "method": "bf", "kind": "sequential",
              "points": [{"budget": b, "tokens": t, "latency": s, "accuracy": 0.1 * b}
                         for b, t, s in ((1, 10, 0.9), (2, 20, 0.5), (4, 40, 1.3))]}]
    for field in ("tokens", "latency"):
        xs = [list(line.get_xdata()) for line in _scaling_figure(_check_curves(curve), field, "x").axes[0].get_lines()]
        assert all(x == sorted(x) for x in xs) and any(len(x) == 3 for x in xs)


@pytest.mark.parametrize("curve", [
    {"model": "m", "method": "sc", "points": [(1, 100, 0.5)]},  # a point as a tuple, not a dict
    {"model": "m", "method": "sc", "points": {"tokens": 100, "accuracy": 0.5}},  # one point, not a list of them
    {"model": "m", "method": "sc", "points": None},
    "m/sc",  # a curve that is not a dict
])
def test_malformed_scaling_curves_are_one_line_errors_naming_the_curve(tmp_path, curve):
    """plot_scaling names a missing field or a bad kind in one line; a point that was no dict (AttributeError: 'tuple'
    object has no attribute 'get'), points that were no list, or a curve that was no dict failed with a traceback."""
    with pytest.raises(PonderError, match=r"^plot_scaling: curve 0 "):
        plot_scaling([curve], tmp_path / "s")
    assert not list(tmp_path.iterdir())



def test_a_numpy_integer_is_a_valid_max_samples(tmp_path):
    """max_samples=np.int64(1) (a count computed with numpy) was refused as "must be an integer"."""
    (tmp_path / "samples.jsonl").write_text('{"completion": "a"}\n{"completion": "b"}\n')
    doc = write_html_report(tmp_path, max_samples=np.int64(1)).read_text()
    assert "showing the first 1<" in doc
    with pytest.raises(PonderError, match="max_samples must be an integer >= 0"):
        write_html_report(tmp_path, max_samples=np.int64(-1))


def test_a_multiline_verdict_field_keeps_its_lines(tmp_path):
    """The code verifier's `extracted` is the program it ran: shown inline beside the badge, HTML folded its lines
    and indentation into one line of text. A verdict field of several lines (or a long one) is a block, as the
    record's own text fields are."""
    program = "def f(x):\n    if x:\n        return 1\n    return 0"
    rec = {"completion": "```python\n" + program + "\n```", "correct": False,
           "verdict": {"correct": False, "extracted": program, "reason": "failed test 1", "score": None}}
    (tmp_path / "samples.jsonl").write_text(json.dumps(rec) + "\n")
    doc = write_html_report(tmp_path).read_text()
    shown = re.findall(r"<pre>\n(.*?)</pre>", doc, re.S)
    assert program in shown  # its own block, lines and indentation as they are
    assert "<b>reason:</b> failed test 1</span>" in doc  # (a one-line field stays beside the badge)
    assert not re.search(r"<span><b>extracted:</b>", doc)


def test_a_sample_cards_list_and_dict_fields_are_shown_not_dropped(tmp_path):
    """A countdown record's card showed its target but not its numbers (a list: dropped, with the constraints items'
    constraints and a record's info), so the completion could not be checked by eye."""
    rec = {"completion": "(8 / (3 - 8 / 3))", "correct": True, "numbers": [3, 3, 8, 8], "target": 24,
           "info": {"thinking_ended": "length"}, "constraints": [{"type": "max_words", "n": 50}] * 4}
    (tmp_path / "samples.jsonl").write_text(json.dumps(rec) + "\n")
    doc = write_html_report(tmp_path).read_text()
    assert "<b>numbers:</b> [3, 3, 8, 8]</span>" in doc
    assert "<b>info:</b> {&quot;thinking_ended&quot;: &quot;length&quot;}</span>" in doc
    assert re.search(r"<b>constraints</b></div><pre>\n\[\{&quot;type&quot;: &quot;max_words&quot;", doc)  # (long: a block)
    # another tool's per-token data: collapsed, and cut (50 cards of it were megabytes of HTML)
    (tmp_path / "samples.jsonl").write_text(json.dumps({"completion": "x", "logprobs": [-0.123456] * 5000}) + "\n")
    doc = write_html_report(tmp_path).read_text()
    assert "<details><summary>logprobs (55000 chars)</summary><pre>" in doc and len(doc) < 30_000


def test_strings_in_a_listed_setting_are_shown_quoted_and_escaped(tmp_path):
    """`--stop '\\n' --stop '\\n\\n'` is config.json's "stop": ["\\n", "\\n\\n"]: the table joined the raw strings and
    HTML folded the newlines into spaces, a row reading " , " (which stops? none?). A comma inside a string read as
    two items, too."""
    (tmp_path / "config.json").write_text(json.dumps({"stop": ["\n", "\n\n"], "tags": ["a, b", "c"], "ks": [1, 4]}))
    text = re.sub(r"<[^>]+>", " ", write_html_report(tmp_path).read_text())
    assert re.search(r'stop\s+&quot;\\n&quot;, &quot;\\n\\n&quot;', text)
    assert re.search(r'tags\s+&quot;a, b&quot;, &quot;c&quot;', text)
    assert re.search(r"ks\s+1, 4\s", text)  # (numbers as they were)


def test_a_demo_runs_self_consistency_points_and_examples_are_shown_not_counted(tmp_path):
    """A demo's summary.json holds its maj@N points before and after and its example completions as lists of
    dicts: the report showed "[list of 3]" for each, the demo's main results in its PNG alone."""
    def pts(accs):
        return [{"budget": n, "tokens": 10.5 * n, "latency": 0.01 * n, "accuracy": a, "lo": a - 0.1, "hi": a + 0.1}
                for n, a in zip((1, 2, 4), accs)]

    examples = [{"prompt": "What is 3 < 4 & 2?", "completion": "3 + 4 = 7. <b>answer</b> 7", "gold": "7",
                 "correct": True},
                {"prompt": "What is 9 - 2?", "completion": "The answer is 6.", "gold": "7", "correct": False}]
    summary = {"model": "tiny", "task": "arith", "preset": "grpo", "steps": 4,
               "accuracy_before": {"accuracy": 0.25, "lo": 0.125, "hi": 0.375, "n": 40},
               "accuracy_after": {"accuracy": 0.5, "lo": 0.375, "hi": 0.625, "n": 40},
               "gain_points": 25.0, "self_consistency_problems": 16,
               "step_by_step_share": {"before": 0.1, "after": 0.9},
               "mean_greedy_tokens": {"before": 12.0, "after": 20.0},
               "self_consistency": {"before": pts((0.2, 0.3, 0.35)), "after": pts((0.55, 0.6, 0.65))},
               "rl_seconds": 3.0, "seconds": 9.0, "run_dir": str(tmp_path), "checkpoint": "c",
               "plots": {"training": "training.png"}, "examples_after": examples}
    (tmp_path / "summary.json").write_text(json.dumps(summary, indent=2))
    doc = write_html_report(tmp_path).read_text()
    assert "list of 3" not in doc and "list of 2" not in doc
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", doc))
    # every point's N, tokens and accuracy with its interval, in a row of its own, before and after
    for label, accs in (("before", (0.2, 0.3, 0.35)), ("after", (0.55, 0.6, 0.65))):
        part = text[text.index(f"self_consistency.{label} ("):]
        for n, tokens, a in zip((1, 2, 4), ("10.5", "21.0", "42.0"), accs):
            assert f" {n} {tokens} {0.01 * n:.4f} {a:.4f} {a - 0.1:.4f} {a + 0.1:.4f} " in part[:600], (label, n)
    # the examples as sample cards, their text escaped
    assert "3 + 4 = 7. &lt;b&gt;answer&lt;/b&gt; 7" in doc and "<b>answer</b>" not in doc
    assert "What is 3 &lt; 4 &amp; 2?" in doc and "The answer is 6." in doc
    assert doc.count('<div class="sample ok">') == 1 and doc.count('<div class="sample bad">') == 1


def test_a_metric_logged_at_a_few_steps_of_a_long_run_shows_its_values_in_the_table(tmp_path):
    """The table thinned a long run to evenly spaced rows: a metric logged at a few steps between them (a held-out
    evaluation every 50 steps, a pass@k at one step) kept its column but no row showed a value of it."""
    import html as _html

    rows = [{"step": s, "loss": 1.0 / s} for s in range(1, 1001)]
    rows[6]["eval/pass_at_8"] = 0.123456  # one step only, between kept rows
    for s in range(49, 1000, 50):  # every 50 steps, off the evenly spaced rows
        rows[s]["heldout_accuracy"] = s / 1000 + 1e-4
    for s, r in enumerate(rows):  # in every row, null but every 100 steps (pandas' to_json of a sparse column)
        r["eval_loss"] = s / 1000 + 2e-4 if s % 100 == 17 else None
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    table = doc[doc.index('id="training"'):]
    table = table[:table.index("</table>")]
    cells = [_html.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", table)]
    assert "0.1235" in cells
    held = [s for s in range(49, 1000, 50) if f"{s / 1000 + 1e-4:.4f}" in cells]
    assert 49 in held and 999 in held and len(held) >= 5, held
    evals = [s for s in range(17, 1000, 100) if f"{s / 1000 + 2e-4:.4f}" in cells]
    assert 17 in evals and 917 in evals and len(evals) >= 5, evals
    m = re.search(r"showing (\d+) of 1000 rows", doc)
    assert m and int(m.group(1)) <= 25  # still a thinned table


def _metrics_table_cells(doc):
    import html as _html

    t = doc[doc.index('id="training"'):]
    t = t[t.index("<table"):t.index("</table>")]
    head = [_html.unescape(c) for c in re.findall(r"<th>([^<]*)</th>", t)]
    return [dict(zip(head, (_html.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", r))))
            for r in re.findall(r"<tr class=[^>]*>(.*?)</tr>", t)]


def test_the_metrics_table_shows_a_resumed_runs_values_for_the_steps_it_logged_again(tmp_path):
    """Steps 1-5 logged, then a resume from step 2 logging 3-7 (two logs concatenated, another tool's resume): the
    table showed steps 3-5 twice, the abandoned run's values first, where the curve (and TensorBoard's purge) took
    the later ones. Two rows of one step logging different keys (a trainer's train and eval rows) both stay."""
    rows = [{"step": s, "loss": 1.0} for s in range(1, 6)] + [{"step": s, "loss": 2.0} for s in range(3, 8)]
    rows.insert(2, {"step": 2, "eval_loss": 0.5})
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    cells = _metrics_table_cells(doc)
    assert [(c["step"], c["loss"], c["eval_loss"]) for c in cells] == [
        ("1", "1.0000", ""), ("2", "1.0000", ""), ("2", "", "0.5000"), ("3", "2.0000", ""), ("4", "2.0000", ""),
        ("5", "2.0000", ""), ("6", "2.0000", ""), ("7", "2.0000", "")]
    assert "Training metrics (8 rows)" in doc and "3 rows" in doc  # and it says it left out the 3 logged again


def test_a_null_at_a_step_logged_twice_does_not_supersede_the_value_logged_there(tmp_path):
    """A log written by pandas' to_json (every key in every row, null where a row has none): a trainer's train row
    and its eval row of one step, the eval row's loss null. The null superseded the train row's loss, the row was
    left out as "logged again later (a resumed run)", so the table had no training loss at any eval step. A resume
    in that form still drops the abandoned run's rows."""
    rows = [{"step": 1, "loss": 1.5, "eval_loss": None}, {"step": 2, "loss": 1.25, "eval_loss": None},
            {"step": 2, "loss": None, "eval_loss": 0.5}, {"step": 3, "loss": 1.0, "eval_loss": None}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    cells = _metrics_table_cells(doc)
    assert [(c["step"], c["loss"], c["eval_loss"]) for c in cells] == [
        ("1", "1.5000", "—"), ("2", "1.2500", "—"), ("2", "—", "0.5000"), ("3", "1.0000", "—")]
    assert "logged again" not in doc
    # steps 1-3 then a resume from step 1 (pandas' form): the abandoned steps 2-3 are left out, eval row and all
    resumed = rows + [{"step": 2, "loss": 2.25, "eval_loss": None}, {"step": 2, "loss": None, "eval_loss": 0.75},
                      {"step": 3, "loss": 2.0, "eval_loss": None}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in resumed))
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    cells = _metrics_table_cells(doc)
    assert [(c["step"], c["loss"], c["eval_loss"]) for c in cells] == [
        ("1", "1.5000", "—"), ("2", "2.2500", "—"), ("2", "—", "0.7500"), ("3", "2.0000", "—")]
    assert "3 rows of steps logged again" in doc


def test_a_null_at_a_step_logged_twice_leaves_no_gap_in_the_curve():
    """The curves read such a log as the table does: the eval row's null loss at step 2 superseded the train row's
    1.25 there, a gap at every eval step (steps 1 and 3 drawn as lone points); a resumed run's rows still win."""
    from ponder.report import _training_figure

    rows = [{"step": 1, "loss": 1.5, "eval_loss": None}, {"step": 2, "loss": 1.25, "eval_loss": None},
            {"step": 2, "loss": None, "eval_loss": 0.5}, {"step": 3, "loss": 1.0, "eval_loss": None}]
    train, held = _training_figure(rows).axes[0].lines
    assert list(train.get_xdata()) == [1, 2, 3] and list(train.get_ydata()) == [1.5, 1.25, 1.0]
    assert list(held.get_xdata())[1] == 2 and held.get_ydata()[1] == 0.5  # (the eval row's value, after a null)
    resumed = [*rows, {"step": 2, "loss": 2.25, "eval_loss": None}, {"step": 2, "loss": None, "eval_loss": 0.75}]
    train, held = _training_figure(resumed).axes[0].lines
    assert list(train.get_xdata()) == [1, 2] and list(train.get_ydata()) == [1.5, 2.25]
    assert list(held.get_xdata())[1] == 2 and held.get_ydata()[1] == 0.75


def test_report_shows_a_nan_metric_as_a_dash_said_below_the_table(tmp_path):
    """Ponder writes a NaN (a diverged loss) or an infinity as null: the metrics and alarms tables showed it as
    "None", as if nothing had been logged by a Python bug."""
    from ponder.train import append_jsonl

    for step, loss in ((1, 2.5), (2, math.nan)):
        append_jsonl(tmp_path / "metrics.jsonl", {"step": step, "loss": loss, "grad_norm": 1.0})
    append_jsonl(tmp_path / "alarms.jsonl", {"step": 2, "alarm": "nan_loss", "value": math.inf})
    doc = write_html_report(tmp_path).read_text()
    assert "None" not in doc
    assert doc.count('<td class="">—</td>') == 2  # the loss, the alarm's value
    assert doc.count("— : null in the file (Ponder logs a NaN or infinite value as null; other tools, a key a row lacks)") == 2


def test_report_refuses_a_corrupt_last_line_that_was_written_whole(tmp_path):
    """A last line ending with a newline was written completely: corrupt, it was skipped as 'an incomplete last
    line' (a row silently lost); it is refused naming the file and line, as a corrupt line elsewhere is. A last line
    with no newline after it (a write cut short) is still skipped with a note."""
    good = json.dumps({"prompt": "p", "completion": "c", "correct": True}) + "\n"
    (tmp_path / "samples.jsonl").write_text(good + '{"prompt": "p", "completion": c}\n\n')
    with pytest.raises(PonderError, match=rf"^{re.escape(str(tmp_path / 'samples.jsonl'))}:2: invalid JSON "):
        write_html_report(tmp_path)
    (tmp_path / "samples.jsonl").write_text(good + '{"prompt": "p", "compl')
    doc = write_html_report(tmp_path).read_text()
    assert "samples.jsonl: skipped an incomplete last line (2)" in doc and "1 sample, 1 of 1 judged correct" in doc


def test_report_shows_a_sweeps_samples(tmp_path):
    """`eval --sweep` writes its samples per method (samples_parallel.jsonl, samples_budget_forcing.jsonl), no
    samples.jsonl: the report showed none of them. Each file is its own section; a lone samples.jsonl keeps its title."""
    row = {"prompt": "Problem: 1 + 1 = ?", "completion": " \\boxed{2}", "correct": True}
    (tmp_path / "summary.json").write_text(json.dumps({"accuracy": 0.5}))
    (tmp_path / "samples_parallel.jsonl").write_text(json.dumps(row) + "\n" + json.dumps({**row, "correct": False}) + "\n")
    (tmp_path / "samples_budget_forcing.jsonl").write_text(json.dumps(row) + "\n")
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    assert "Sample completions: samples_parallel.jsonl" in doc and "2 samples, 1 of 2 judged correct" in doc
    assert "Sample completions: samples_budget_forcing.jsonl" in doc and "1 sample, 1 of 1 judged correct" in doc
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "samples_parallel.jsonl").write_text(json.dumps(row) + "\n")  # samples alone are something to report
    assert "1 of 1 judged correct" in write_html_report(alone).read_text(encoding="utf-8")
    (tmp_path / "samples_parallel.jsonl").unlink()
    (tmp_path / "samples_budget_forcing.jsonl").unlink()
    (tmp_path / "samples.jsonl").write_text(json.dumps(row) + "\n")
    assert "<h2>Sample completions</h2>" in write_html_report(tmp_path).read_text(encoding="utf-8")


def test_a_resume_drops_every_metric_the_abandoned_steps_logged_not_only_those_logged_again(tmp_path):
    """Steps 1-10 with a held-out accuracy every 5 steps, then a resume from step 5 (another tool's log, not trimmed)
    that reached step 8: the abandoned run's held-out 1.0 at step 10 stayed, in the curve beside a loss ending at 8,
    in the table between steps 5 and 6, and as the last step logged (no "unfinished run" of 10). A row logging a
    key of its own at an earlier step (an eval row written after the next train row) drops nothing."""
    from ponder.report import _training_figure

    rows = [{"step": s, "loss": 1.0, **({"heldout_accuracy": s / 10} if s % 5 == 0 else {})} for s in range(1, 11)]
    rows += [{"step": s, "loss": 2.0} for s in range(6, 9)]
    fig = _training_figure(rows)
    (held,) = fig.axes[0].lines
    assert list(held.get_xdata()) == [5] and list(held.get_ydata()) == [0.5]
    (loss,) = fig.axes[1].lines
    assert list(loss.get_xdata()) == list(range(1, 9)) and list(loss.get_ydata()) == [1.0] * 5 + [2.0] * 3
    (tmp_path / "config.json").write_text(json.dumps({"kind": "sft", "train": {"steps": 10}}))
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    assert [c["step"] for c in _metrics_table_cells(doc)] == [str(s) for s in range(1, 9)]
    assert "5 rows of steps logged again" in doc and "logged steps to 8 of its 10" in doc
    late_eval = [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.5}, {"step": 1, "eval_loss": 0.75}]
    loss, ev = _training_figure(late_eval).axes[0].lines
    assert list(loss.get_xdata()) == [1, 2] and list(ev.get_xdata()) == [1]


def test_an_unknown_schemas_metrics_past_the_panels_drawn_are_named_not_dropped_unsaid():
    """Another tool's log of 10 metrics none of TRAINING_PANELS names: 8 panels drawn, m8 and m9 left out, no
    word said on the figure."""
    from ponder.report import _training_figure

    rows = [{"step": s, **{f"m{i}": s * i for i in range(10)}} for s in range(1, 5)]
    fig = _training_figure(rows)
    assert [a.get_title() for a in fig.axes if a.get_visible()] == [f"m{i}" for i in range(8)]
    said = fig._suptitle.get_text() if fig._suptitle else ""
    assert "m8, m9" in said and "8 of 10" in said
    assert _training_figure([{k: v for k, v in r.items() if k in ("step", "m1")} for r in rows])._suptitle is None


def test_a_long_list_or_dict_in_a_table_cell_says_it_is_cut(tmp_path):
    """A metrics row's dict (--stop-on-alarm's stopped_early, its message) past 200 characters was cut there, no word
    said, the message read as if it ended mid-word; its non-ASCII text showed as \\u escapes."""
    msg = "é" + "x" * 300
    rows = [{"step": 1, "loss": 1.0, "stopped_early": {"alarm": "a", "message": msg}}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    (cell,) = [c["stopped_early"] for c in _metrics_table_cells(doc)]
    full = json.dumps(rows[0]["stopped_early"], ensure_ascii=False)
    assert cell.startswith(full[:200]) and cell.endswith(f"... ({len(full)} characters in all)")


def test_an_effort_sweeps_levels_are_kept_in_its_scaling_json(tmp_path):
    """`ponder eval --sweep --methods effort` passes each point's level (low, medium, high) beside its budget: the
    JSON kept only budget, tokens, latency, accuracy, lo and hi, the levels named nowhere but in the samples."""
    curves = [{"model": "a", "method": "effort", "kind": "sequential",
               "points": [{"budget": b, "level": lv, "tokens": 10.0 * b, "accuracy": 0.5, "lo": 0.4, "hi": 0.6}
                          for b, lv in ((32, "low"), (128, "medium"))]}]
    data = json.loads(plot_scaling(curves, tmp_path / "scaling")["json"].read_text())
    assert [p["level"] for p in data["curves"][0]["points"]] == ["low", "medium"]
    assert "level" not in json.loads(plot_scaling(_curves(), tmp_path / "s2")["json"].read_text())["curves"][0]["points"][0]


def test_configuration_settings_are_shown_exactly_not_rounded(tmp_path):
    """The configuration table rounded floats to 4 figures as a metric is: top_p 0.99999 read "1.0000" (sampling
    off) and lr 1.23456e-05 read "1.235e-05", a setting no rerun copied from the report would reproduce."""
    (tmp_path / "config.json").write_text(json.dumps({"kind": "grpo", "grpo": {"top_p": 0.99999, "lr": 1.23456e-05,
                                                                               "steps": 3, "beta": 0.04}}))
    doc = write_html_report(tmp_path).read_text(encoding="utf-8")
    cfg = doc[doc.index('id="config"'):]
    cells = dict(re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>", cfg))
    assert cells == {"kind": "grpo", "grpo.top_p": "0.99999", "grpo.lr": "1.23456e-05", "grpo.steps": "3",
                     "grpo.beta": "0.04"}


def test_a_run_that_logged_no_step_is_said_to_have_logged_none(tmp_path):
    """An empty metrics.jsonl (a run killed in its first step) read "the run logged steps to 0 of its 4"."""
    (tmp_path / "config.json").write_text(json.dumps({"kind": "grpo", "grpo": {"steps": 4}}))
    (tmp_path / "metrics.jsonl").write_text("")
    doc = write_html_report(tmp_path).read_text()
    assert "the run logged no step of its 4" in doc and "steps to 0" not in doc


@pytest.mark.parametrize("text, kind", [("[1, 2, 3]", "a list"), ("3", "a number"), ("null", "null")])
def test_a_summary_that_is_not_an_object_is_refused_naming_it(tmp_path, text, kind):
    """A summary.json holding a list was reported as one value ("value: 3 rows"), as if it were the result."""
    from ponder.errors import PonderError

    (tmp_path / "summary.json").write_text(text)
    with pytest.raises(PonderError, match=rf"^{re.escape(str(tmp_path / 'summary.json'))}: expected a JSON object "
                                          rf"\(a run's or evaluation's summary\), got {kind}$"):
        write_html_report(tmp_path)
