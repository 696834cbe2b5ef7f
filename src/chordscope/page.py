"""A page for one prediction: the chords of a recording over time, while it plays.

Conventions
-----------
- :func:`write_prediction_page` writes one self-contained HTML file: the audio in an
  ``<audio>`` player (embedded as a data URI, or linked by a relative path for large files),
  a picture of the log-CQT (pitch classes folded from it: a chromagram) under a chord lane, a
  cursor that follows playback, click-to-seek on any chord, and each segment's confidence in
  its tooltip and its opacity. With a reference, a second lane shows it, the stretches where the
  two disagree (``majmin``, as ``mir_eval`` compares) are marked in red, and the page lists the
  ``mir_eval`` scores and the most frequent confusions in seconds.
- Nothing is fetched: no script, font or style comes from a network, so the page works offline
  in any browser. The picture is downsampled to at most :data:`MAX_COLUMNS` columns, so a
  60-minute recording gives a page of a few hundred kilobytes plus its audio.
"""

from __future__ import annotations

import base64
import html
import io as _io
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np

from .chords import PITCH_NAMES
from .errors import OutputError, ParameterError
from .io import Segment, atomic_write_text

__all__ = ["MAX_COLUMNS", "EMBED_LIMIT", "chroma_picture", "disagreements", "write_prediction_page"]

#: Columns of the picture at most (the recording is max-pooled in time down to this).
MAX_COLUMNS = 1600
#: Audio files up to this many bytes are embedded in the page (``audio="auto"``); larger linked.
EMBED_LIMIT = 20 * 1024 * 1024
_MIME = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".m4a": "audio/mp4",
    ".aif": "audio/aiff",
    ".aiff": "audio/aiff",
}


def chroma_picture(F: np.ndarray, bins_per_octave: int = 12, max_columns: int = MAX_COLUMNS):
    """Fold a log-CQT into 12 pitch classes and max-pool it in time to ``max_columns`` at most.

    ``F`` is ``(n_bins, n_frames)`` with bin 0 on a C (as :data:`chordscope.features.CHORD_CQT`);
    the result is ``(12, columns)`` in ``[0, 1]``, C at row 0.

    Examples
    --------
    >>> F = np.zeros((73, 5000)); F[9::12] = 1.0  # every A
    >>> P = chroma_picture(F)
    >>> P.shape, float(P[9].min()), float(P[0].max())
    ((12, 1250), 1.0, 0.0)
    """
    F = np.asarray(F, dtype=np.float32)
    if F.ndim != 2 or F.shape[1] == 0:
        raise ParameterError(f"features of shape {F.shape} are not (n_bins, n_frames)")
    step = max(1, bins_per_octave // 12)  # bins per semitone
    T = F.shape[1]
    n = (F.shape[0] // (12 * step)) * 12 * step  # whole octaves
    if n == 0:
        raise ParameterError(f"features with {F.shape[0]} bins hold no whole octave")
    semitones = F[:n].reshape(n // step, step, T).max(axis=1)
    C = semitones.reshape(-1, 12, T).sum(axis=0)
    pool = int(np.ceil(F.shape[1] / max_columns))
    cols = int(np.ceil(F.shape[1] / pool))
    padded = np.pad(C, [(0, 0), (0, cols * pool - C.shape[1])], mode="edge")
    C = padded.reshape(12, cols, pool).max(axis=-1)
    top = C.max(axis=0, keepdims=True)
    return np.where(top > 0, C / np.maximum(top, 1e-9), 0.0)


def _png(picture: np.ndarray) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    buf = _io.BytesIO()
    rows = np.repeat(picture[::-1], 8, axis=0)  # B at the top, 8 pixels a pitch class
    plt.imsave(buf, rows, cmap="magma", vmin=0.0, vmax=1.0, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def disagreements(estimate, reference) -> list[tuple[float, float]]:
    """Return the stretches ``(start, end)`` where estimate and reference name other chords.

    Compared as ``mir_eval.chord.majmin`` compares (root and third); stretches the reference
    leaves out of that comparison (``X``, chords outside maj/min) do not count.

    Examples
    --------
    >>> disagreements([(0, 2, "C:maj"), (2, 4, "A:min")], [(0, 3, "C:maj7"), (3, 4, "A:min")])
    [(2.0, 3.0)]
    """
    import mir_eval

    cuts = sorted({float(t) for s in [*estimate, *reference] for t in s[:2]})
    mids = [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=False) if b > a]

    def at(segs, t):
        for s, e, lab, *_ in segs:
            if s <= t < e:
                return lab
        return "N"

    ref = [at(reference, (a + b) / 2) for a, b in mids]
    est = [at(estimate, (a + b) / 2) for a, b in mids]
    if not mids:
        return []
    ok = mir_eval.chord.majmin(ref, est)
    out = []
    for (a, b), score in zip(mids, ok, strict=True):
        if score == 0:
            if out and abs(out[-1][1] - a) < 1e-9:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
    return out


def _confusions(estimate, reference, most: int = 8) -> list[tuple[str, str, float]]:
    """Return the most frequent (reference, estimate) label pairs that disagree, in seconds."""
    cuts = sorted({float(t) for s in [*estimate, *reference] for t in s[:2]})
    seconds = Counter()
    for a, b in zip(cuts[:-1], cuts[1:], strict=False):
        t = (a + b) / 2
        r = next((lab for s, e, lab, *_ in reference if s <= t < e), "N")
        e_ = next((lab for s, e, lab, *_ in estimate if s <= t < e), "N")
        if r != e_:
            seconds[r, e_] += b - a
    return [(r, e, round(s, 2)) for (r, e), s in seconds.most_common(most)]


def _audio_source(audio: Path, page: Path, mode: str) -> tuple[str, bool]:
    if mode not in ("auto", "embed", "link"):
        raise ParameterError(f"audio={mode!r} must be auto, embed or link")
    size = audio.stat().st_size
    if mode == "embed" or (mode == "auto" and size <= EMBED_LIMIT):
        mime = _MIME.get(audio.suffix.lower(), "application/octet-stream")
        return f"data:{mime};base64," + base64.b64encode(audio.read_bytes()).decode("ascii"), True
    rel = os.path.relpath(audio.resolve(), page.resolve().parent)
    return Path(rel).as_posix(), False


def _lane(segments) -> list[dict]:
    return [
        {
            "s": round(float(s.start), 3),
            "e": round(float(s.end), 3),
            "l": s.label,
            "c": None if s.confidence is None else round(float(s.confidence), 3),
        }
        for s in (Segment(*seg) for seg in segments)
    ]


def write_prediction_page(
    path,
    audio,
    segments,
    *,
    features: np.ndarray | None = None,
    reference=None,
    scores: dict | None = None,
    duration: float | None = None,
    audio_mode: str = "auto",
    title: str | None = None,
    labelled_by: str | None = None,
) -> Path:
    """Write the page of one prediction (see the module docs); return its path.

    Parameters
    ----------
    path : path-like  the ``.html`` file to write (atomically)
    audio : path-like  the recording (embedded or linked, see ``audio_mode``)
    segments : list of Segment  the estimate ``(start, end, label[, confidence])``
    features : np.ndarray, optional  its log-CQT ``(n_bins, n_frames)`` for the picture
    reference : list of Segment, optional  the reference chords
    scores : dict, optional  ``mir_eval`` scores of the estimate against the reference
    duration : float, optional  seconds (default: the end of the last segment)
    audio_mode : str  ``auto`` (embed files up to :data:`EMBED_LIMIT`), ``embed`` or ``link``
    title : str, optional  default: the audio file's name
    labelled_by : str, optional  what made the estimate, shown under the title (``predict
        --html`` writes the model, its qualities model and the settings)
    """
    path, audio = Path(path), Path(audio)
    if not audio.is_file():
        raise OutputError(f"{audio}: no such audio file for the page")
    segments = list(segments)
    ends = [float(s[1]) for s in [*segments, *(reference or [])]]
    duration = float(duration if duration is not None else max(ends, default=0.0))
    if not duration > 0:
        raise ParameterError("the page needs a recording longer than zero seconds")
    src, embedded = _audio_source(audio, path, audio_mode)
    data = {
        "duration": round(duration, 3),
        "estimate": _lane(segments),
        "reference": _lane(reference) if reference is not None else None,
        "errors": [list(x) for x in disagreements(segments, reference)] if reference else [],
    }
    picture = ""
    if features is not None:
        png = _png(chroma_picture(features))
        picture = f'<img id="picture" alt="chromagram" src="data:image/png;base64,{png}">'
    table = ""
    if reference is not None:
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v:.3f}</td></tr>" for k, v in (scores or {}).items()
        )
        conf = "".join(
            f"<tr><td>{html.escape(r)}</td><td>{html.escape(e)}</td><td>{s:.2f}</td></tr>"
            for r, e, s in _confusions(segments, reference)
        )
        table = (
            '<section id="scores"><h2>Against the reference</h2>'
            f"<table><tr><th>mir_eval metric</th><th>score</th></tr>{rows}</table>"
            "<h3>Most frequent confusions</h3><table><tr><th>reference</th><th>estimate</th>"
            f"<th>seconds</th></tr>{conf}</table></section>"
        )
    name = html.escape(title or audio.name)
    page = _TEMPLATE.format(
        title=name,
        audio=html.escape(src, quote=True),
        note=("" if embedded else f"<p class=note>Audio linked: {html.escape(src)}</p>")
        + (f"<p class=note>Labelled by {html.escape(labelled_by)}</p>" if labelled_by else ""),
        picture=picture,
        ref_lane='<div class="lane" id="reference"></div>' if reference is not None else "",
        ref_label="<span>reference</span>" if reference is not None else "",
        table=table,
        roots=json.dumps(list(PITCH_NAMES)),
        data=json.dumps(data, allow_nan=False).replace("</", "<\\/"),
    )
    try:
        return atomic_write_text(path, page)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: chords</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1rem; color: #222; }}
h1 {{ font-size: 1.2rem; word-break: break-all; }}
audio {{ width: 100%; }}
#board {{ position: relative; margin-top: .5rem; }}
#picture {{ display: block; width: 100%; height: 96px; image-rendering: pixelated; }}
.lane {{ position: relative; height: 34px; margin-top: 2px; background: #f3f3f3; }}
.seg {{ position: absolute; top: 0; bottom: 0; overflow: hidden; white-space: nowrap;
  font-size: 12px; line-height: 34px; padding-left: 2px; border-left: 1px solid #fff;
  cursor: pointer; color: #fff; box-sizing: border-box; }}
.seg.N {{ background: #bbb !important; color: #333; }}
.err {{ position: absolute; height: 6px; background: #d62728; }}
#errors {{ position: relative; height: 6px; }}
#cursor {{ position: absolute; top: 0; bottom: 0; width: 2px; background: #e00;
  pointer-events: none; left: 0; }}
.labels span {{ display: inline-block; margin-right: 1rem; font-size: 12px; color: #666; }}
table {{ border-collapse: collapse; margin: .5rem 0; }}
td, th {{ border: 1px solid #ccc; padding: 2px 8px; text-align: left; }}
#now {{ font-size: 1.4rem; font-weight: bold; margin: .5rem 0; }}
.note {{ color: #666; font-size: 12px; }}
</style></head>
<body>
<h1>{title}</h1>
<audio id="player" controls preload="auto" src="{audio}"></audio>
{note}
<div id="now">&nbsp;</div>
<div class="labels"><span>estimate (opacity: confidence)</span>{ref_label}
<span>red: disagreement</span></div>
<div id="board">
{picture}
<div class="lane" id="estimate"></div>
{ref_lane}
<div id="errors"></div>
<div id="cursor"></div>
</div>
{table}
<script>
"use strict";
const DATA = {data};
const ROOTS = {roots};
const player = document.getElementById("player");
const pct = t => (100 * t / DATA.duration) + "%";
function colour(label) {{
  const root = label.split(/[:/]/)[0];
  const i = ROOTS.indexOf(root.replace("Db", "C#").replace("Eb", "D#").replace("Gb", "F#")
    .replace("Ab", "G#").replace("Bb", "A#"));
  const minor = /:(min|dim|hdim)/.test(label);
  return i < 0 ? "#888" : `hsl(${{i * 30}}, ${{minor ? 45 : 70}}%, ${{minor ? 35 : 45}}%)`;
}}
function lane(id, segs) {{
  const el = document.getElementById(id);
  for (const s of segs) {{
    const d = document.createElement("div");
    d.className = "seg" + (s.l === "N" ? " N" : "");
    d.style.left = pct(s.s);
    d.style.width = pct(s.e - s.s);
    d.style.background = colour(s.l);
    if (s.c !== null) d.style.opacity = 0.35 + 0.65 * s.c;
    d.textContent = s.l;
    d.title = `${{s.l}}  ${{s.s.toFixed(2)}}–${{s.e.toFixed(2)}} s` +
      (s.c !== null ? `  confidence ${{s.c.toFixed(2)}}` : "");
    d.dataset.start = s.s;
    d.addEventListener("click", () => {{ player.currentTime = s.s; }});
    el.appendChild(d);
  }}
}}
lane("estimate", DATA.estimate);
if (DATA.reference) lane("reference", DATA.reference);
const errs = document.getElementById("errors");
for (const [a, b] of DATA.errors) {{
  const d = document.createElement("div");
  d.className = "err"; d.style.left = pct(a); d.style.width = pct(b - a);
  errs.appendChild(d);
}}
const cursor = document.getElementById("cursor");
const now = document.getElementById("now");
function at(t) {{
  for (const s of DATA.estimate) if (s.s <= t && t < s.e) return s.l;
  return "";
}}
function tick() {{
  const t = player.currentTime;
  cursor.style.left = pct(Math.min(t, DATA.duration));
  now.textContent = at(t) || "\\u00a0";
  if (!player.paused) requestAnimationFrame(tick);
}}
player.addEventListener("play", tick);
player.addEventListener("seeked", tick);
player.addEventListener("timeupdate", tick);
document.getElementById("board").addEventListener("click", ev => {{
  if (ev.target.classList.contains("seg")) return;
  const r = ev.currentTarget.getBoundingClientRect();
  player.currentTime = DATA.duration * (ev.clientX - r.left) / r.width;
}});
</script>
</body></html>
"""
