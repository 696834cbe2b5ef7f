"""One self-contained HTML page per run or sweep folder.

Conventions
-----------
The page is built only from the files of the folder (``metrics.json``, ``model.json``,
``history.csv``, ``figures/*.png``, optionally ``explanation.json``), so ``chordscope report``
can rebuild it at any time. Figures are embedded as base64 data URIs and the style is inline:
the page needs no network and no other file. All text is HTML-escaped.
"""

from __future__ import annotations

import base64
import csv
import html
from pathlib import Path

from .errors import InputError, OutputError
from .io import atomic_write_text, read_json

__all__ = [
    "render_report",
    "write_report",
    "render_sweep_report",
    "write_sweep_report",
    "render_generalisation_report",
    "write_generalisation_report",
]

_FIGURE_ORDER = ["inputs", "curves", "kernels", "feature_maps_major", "feature_maps_minor", "dense"]
_CAPTIONS = {
    "inputs": "Inputs of one training batch: CQT in dB above the clip's minimum, divided by its "
    "maximum (major on the left, minor on the right), with the batch's shared noise.",
    "curves": "Accuracy and loss per epoch, on the training batches and on the validation "
    "batches (drawn from their own stream).",
    "kernels": "The learned kernels: semitones (bottom = lowest) × frames; red > 0, blue < 0.",
    "feature_maps_major": "Feature maps of a test example (A major): the layer's cross-correlation "
    "in valid mode; the star marks the maximum that global max pooling keeps.",
    "feature_maps_minor": "Feature maps of a test example (A minor).",
    "dense": "Dense weights: one row per kernel, one column per class, "
    "as the tutorial prints them.",
    "explain_tuning": "Interval tuning: mean pooled activation of each kernel on clean sine probes "
    "(single tones = 0, intervals of 1..12 semitones over all 12 roots; diamonds: triads).",
    "explain_selectivity": "Pooled activation per class on the test set; AUC of the class the "
    "kernel prefers.",
    "explain_kernels": "The kernels with rows labelled in semitones above the chord root, at the "
    "position where each kernel most often fires on the test set.",
    "census": "Kernel roles over the seeds, split by whether the seed reached 100 %, and the "
    "mean shape of each cluster of normalised kernels.",
    "generalisation": "Accuracy of each model (rows: what it was trained on) on each test "
    "condition (columns); the last column is mir_eval majmin on the evaluation songs.",
    "sweep": "Left: final test accuracy over seeds. Right: fraction of seeds that stay at 100 % "
    "test accuracy from a given step on.",
}

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.5em 0;display:block;overflow-x:auto;max-width:100%}
td,th{border:1px solid #ddd;padding:.25em .6em;
text-align:left;font-size:.92em}th{background:#f4f4f4}
figure{margin:1em 0}img{max-width:100%;border:1px solid #eee}figcaption{font-size:.9em;color:#555}
.summary{font-size:1.15em;background:#f6f8fa;padding:.6em 1em;border-radius:6px}
code{background:#f4f4f4;padding:0 .2em}
"""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise OutputError(f"{path}: no such file; is {path.parent} a chordscope run folder?")
    return read_json(path, error=OutputError)


def _rendered(path: Path, render, *args, **kwargs) -> str:
    """Return ``render(*args, **kwargs)``, a bad result file as :class:`InputError`.

    A ``path`` that lacks a key or has one of the wrong type is an error naming it (not a
    traceback, not a near-empty page).
    """
    try:
        return render(*args, **kwargs)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        reason = (str(exc).splitlines() or [""])[0][:120]
        raise InputError(
            f"{path}: not a chordscope result file ({type(exc).__name__}: {reason})"
        ) from None


def _fmt(v) -> str:
    """Format a value for people: floats rounded, lists and dicts as plain text."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return str(v)
        return f"{v:.4f}" if abs(v) <= 1 else f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) or "(none)"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v) or "(none)"
    return str(v)


def _table(d: dict) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_fmt(v))}</td></tr>" for k, v in d.items())
    return f"<table>{rows}</table>"


def _rows_table(rows: list[dict]) -> str:
    if not rows:
        return "<p>(empty)</p>"
    head = "".join(f"<th>{_e(k)}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(_fmt(v))}</td>" for v in r.values()) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _figures(folder: Path, captions: dict | None = None) -> str:
    captions = {**_CAPTIONS, **(captions or {})}
    pngs = {p.stem: p for p in sorted((folder / "figures").glob("*.png"))}
    order = [n for n in _FIGURE_ORDER if n in pngs] + sorted(set(pngs) - set(_FIGURE_ORDER))
    parts = []
    for name in order:
        data = base64.b64encode(pngs[name].read_bytes()).decode("ascii")
        caption = captions.get(name, name.replace("_", " "))
        parts.append(
            f'<figure><img alt="{_e(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption><b>{_e(name)}.png</b>: {_e(caption)}</figcaption></figure>"
        )
    return "\n".join(parts)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def _recogniser_captions(meta: dict) -> dict:
    """Captions of a recogniser run (``chordscope train``), from its own settings."""
    config = meta.get("train_config", {}) if isinstance(meta.get("train_config"), dict) else {}
    arch = meta.get("architecture", {}) if isinstance(meta.get("architecture"), dict) else {}
    channels = arch.get("channels") or [0]
    n = channels[0] if isinstance(channels, list) and channels else 0
    return {
        "curves": f"Validation accuracy and loss every {config.get('eval_every', '?')} steps, "
        f"on {config.get('n_val', '?')} fixed validation examples (x axis: optimiser steps); "
        "the training loss is that of the batch at that step.",
        "kernels": f"The first {min(8, n)} of the first layer's {n} kernels: semitones (bottom "
        "= lowest) × frames; red > 0, blue < 0.",
    }


def render_report(run_dir, *, name: str | None = None) -> str:
    """Return the HTML of a run folder's report (the module docstring says what it reads).

    ``name`` is the run's name in the title (default: the folder's; a run is written in a
    temporary folder and renamed, so the writer passes the final name).
    """
    folder = Path(run_dir)
    name = name or folder.resolve().name
    metrics = _read_json(folder / "metrics.json")
    meta = _read_json(folder / "model.json")
    recogniser = "train_config" in meta
    history = []
    if (folder / "history.csv").is_file():
        with (folder / "history.csv").open(newline="") as f:
            history = list(csv.DictReader(f))
    acc = metrics.get("test_accuracy")
    summary = (
        f"Test accuracy <b>{_e(_fmt(acc))}</b> and loss {_e(_fmt(metrics.get('test_loss')))} on "
        f"{_e(metrics.get('n_test', '?'))} held-out examples; "
        f"recipe <code>{_e(metrics.get('recipe'))}"
        f"</code>, seed {_e(metrics.get('seed'))}, {_e(metrics.get('steps'))} steps in "
        f"{_e(_fmt(metrics.get('train_seconds')))} s."
    )
    parts = [
        f"<h1>chordscope run: {_e(name)}</h1>",
        f"<p class='summary'>{summary}</p>",
    ]
    parts += ["<h2>Metrics</h2>", _table(metrics)]
    parts += [
        "<h2>Figures</h2>",
        _figures(folder, _recogniser_captions(meta) if recogniser else None),
    ]
    explanation = folder / "explanation.json"
    if explanation.is_file():
        exp = _read_json(explanation)
        items = "".join(
            f"<li>{_e(k.get('sentence', ''))}</li>"
            for k in exp.get("kernels", [])
            if isinstance(k, dict)
        )
        parts += ["<h2>What the network learned</h2>", f"<ul>{items}</ul>"]
    parts += ["<h2>Training history</h2>", _rows_table(history)]
    if recogniser:
        parts += ["<h2>Training configuration</h2>", _table(meta.get("train_config", {}))]
    else:
        parts += ["<h2>Recipe</h2>", _table(meta.get("recipe", {}))]
    config = {k: meta[k] for k in ("architecture", "vocabulary", "features", "seed") if k in meta}
    parts += ["<h2>Configuration</h2>", _table(config)]
    parts += [
        "<h2>Machine and versions</h2>",
        _table({**meta.get("machine", {}), **meta.get("versions", {})}),
    ]
    return _page(f"chordscope run {name}", "\n".join(parts))


def write_report(run_dir, *, name: str | None = None) -> Path:
    """Write ``report.html`` into a run folder, atomically; return its path."""
    folder = Path(run_dir)
    html_ = _rendered(folder / "metrics.json", render_report, folder, name=name)
    return atomic_write_text(folder / "report.html", html_)


def render_sweep_report(sweep_dir, *, name: str | None = None) -> str:
    """Return the HTML of a sweep folder's report (``sweep.json`` and ``figures/sweep.png``)."""
    folder = Path(sweep_dir)
    name = name or folder.resolve().name
    sweep = _read_json(folder / "sweep.json")
    n = sweep.get("n_seeds", 0)
    ok = round(sweep.get("success_rate", 0) * n)
    summary = (
        f"Recipe <code>{_e(sweep.get('recipe'))}</code>: <b>{ok}/{_e(n)}</b> seeds reach 100 % "
        f"test accuracy; {_e(n)} seeds trained as one batched model in "
        f"{_e(_fmt(sweep.get('train_seconds')))} s."
    )
    overview = {
        k: v
        for k, v in sweep.items()
        if k not in ("per_seed", "recipe_config", "versions", "machine")
    }
    parts = [
        f"<h1>chordscope sweep: {_e(name)}</h1>",
        f"<p class='summary'>{summary}</p>",
    ]
    parts += ["<h2>Summary</h2>", _table(overview), "<h2>Figures</h2>", _figures(folder)]
    if (folder / "census.json").is_file():
        cen = _read_json(folder / "census.json")
        overview_c = {k: v for k, v in cen.items() if k not in ("per_seed", "clusters")}
        parts += ["<h2>Census of kernel roles</h2>", _table(overview_c)]
    parts += ["<h2>Recipe</h2>", _table(sweep.get("recipe_config", {}))]
    parts += ["<h2>Per seed</h2>", _rows_table(sweep.get("per_seed", []))]
    parts += [
        "<h2>Machine and versions</h2>",
        _table({**sweep.get("machine", {}), **sweep.get("versions", {})}),
    ]
    return _page(f"chordscope sweep {name}", "\n".join(parts))


def write_sweep_report(sweep_dir, *, name: str | None = None) -> Path:
    """Write ``report.html`` into a sweep folder, atomically; return its path."""
    folder = Path(sweep_dir)
    html_ = _rendered(folder / "sweep.json", render_sweep_report, folder, name=name)
    return atomic_write_text(folder / "report.html", html_)


def render_generalisation_report(folder) -> str:
    """HTML of a ``chordscope generalise`` folder (``generalisation.json`` and its heat-map).

    The plain-words summary is the ``summary`` list that ``chordscope generalise`` stores in the
    JSON (this module does not compute it, so it imports nothing from the trainers).
    """
    folder = Path(folder)
    g = _read_json(folder / "generalisation.json")
    rows = [  # an empty cell (None): not held out for that row
        {"trained on": t, **{c: "—" if v is None else v for c, v in zip(g["test"], r, strict=True)}}
        for t, r in zip(g["train"], g["accuracy"], strict=True)
    ]
    kind = "quick (not for quoting)" if g.get("quick") else "full"
    parts = [
        f"<h1>chordscope generalisation matrix ({_e(kind)})</h1>",
        "<ul>" + "".join(f"<li>{_e(s)}</li>" for s in g.get("summary", [])) + "</ul>",
        "<h2>Figure</h2>",
        _figures(folder),
        "<h2>Matrix</h2>",
        _rows_table(rows),
        "<h2>Settings</h2>",
        _table({**g.get("settings", {}), "seed": g.get("seed"), "seconds": g.get("seconds")}),
        "<h2>Models</h2><p>"
        + " ".join(f"<a href='models/{_e(t)}/report.html'>{_e(t)}</a>" for t in g["train"])
        + "</p>",
        "<h2>Machine and versions</h2>",
        _table({**g.get("machine", {}), **g.get("versions", {})}),
    ]
    return _page("chordscope generalisation matrix", "\n".join(parts))


def write_generalisation_report(folder) -> Path:
    """Write ``report.html`` into a ``chordscope generalise`` folder, atomically."""
    folder = Path(folder)
    html_ = _rendered(folder / "generalisation.json", render_generalisation_report, folder)
    return atomic_write_text(folder / "report.html", html_)
