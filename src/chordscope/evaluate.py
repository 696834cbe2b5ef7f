"""Scores of trained models on labelled examples and of chord annotations against references.

Conventions
-----------
Scores are returned as dicts of named floats in a fixed order, ready for JSON (mir_eval's
``evaluate`` style). Predictions take the first class on ties, as ``argmax`` does.
Chord annotations are scored by ``mir_eval.chord.evaluate``; over several files a metric is
duration-weighted: each file counts with the seconds that metric compares in it (a ``sus4``
segment counts for ``root`` but not for ``majmin``), as if the files were one long recording.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from .errors import ChordscopeError, InputError
from .io import read_chords

__all__ = [
    "classification_scores",
    "confusion_matrix",
    "CHORD_METRICS",
    "chord_scores",
    "pair_files",
    "pool",
    "pool_interval",
    "score_segments",
    "score_files",
]

#: The mir_eval chord metrics chordscope reports, in this order: six label metrics, then
#: ``seg``, the segmentation quality (MIREX): 1 minus the larger of the over- and
#: under-segmentation, so it scores where the chords change, whatever their names.
CHORD_METRICS = ("root", "majmin", "thirds", "triads", "sevenths", "tetrads", "mirex", "seg")
_LABEL_METRICS = CHORD_METRICS[:-1]


@torch.no_grad()
def classification_scores(model, x: np.ndarray, y: np.ndarray, *, batch_size: int = 4096) -> dict:
    """Accuracy and mean cross-entropy of ``model`` on inputs ``x`` with class indices ``y``.

    Parameters
    ----------
    model : torch.nn.Module  returning logits
    x : np.ndarray [shape=(n, 1, n_bins, n_frames)]
    y : np.ndarray [shape=(n,)], int

    Returns
    -------
    scores : dict  ``{"accuracy": float, "loss": float, "n": int}``
    """
    model.eval()
    logits = torch.cat(
        [model(torch.as_tensor(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
    )
    target = torch.as_tensor(y)
    loss = torch.nn.functional.cross_entropy(logits, target).item()
    acc = (logits.argmax(-1) == target).double().mean().item()
    return {"accuracy": acc, "loss": loss, "n": int(len(y))}


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Count the examples of class ``i`` predicted as ``j``, as ``C[i, j]``.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2)
    array([[1, 0],
           [1, 1]])
    """
    idx = np.asarray(y_true) * n_classes + np.asarray(y_pred)
    return np.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _merge_labeled(x_intervals, x_labels, y_intervals, y_labels):
    """``mir_eval.util.merge_labeled_intervals`` in linear time (sorted intervals).

    mir_eval's own searches every interval for every boundary (quadratic: minutes for 200 000
    segments); the same labels come out of one ``searchsorted`` per sequence.
    """
    if x_intervals[0, 0] != y_intervals[0, 0] or x_intervals[-1, 1] != y_intervals[-1, 1]:
        raise ValueError("time intervals do not align")
    bounds = np.unique(np.concatenate([x_intervals, y_intervals], axis=0))
    merged = np.stack([bounds[:-1], bounds[1:]], axis=1)
    xi = np.searchsorted(x_intervals[:, 0], merged[:, 0], side="right") - 1
    yi = np.searchsorted(y_intervals[:, 0], merged[:, 0], side="right") - 1
    return merged, [x_labels[i] for i in xi], [y_labels[i] for i in yi]


def _merge_same(intervals: np.ndarray, labels) -> np.ndarray:
    """Join neighbouring intervals that hold the same chord (``mir_eval.chord`` spelling aside).

    As ``mir_eval.chord.merge_chord_intervals``: two labels are the same chord when root,
    notes and bass agree (``C:maj`` and ``C``), so a split that changes nothing is no change.
    """
    import mir_eval.chord

    if len(labels) == 0:
        return intervals.reshape(0, 2)
    names = sorted(set(labels))
    roots, notes, basses = mir_eval.chord.encode_many(names, True)
    chords = {}  # one number per chord: (root, notes, bass)
    number = {n: chords.setdefault((int(r), tuple(int(v) for v in s), int(b)), len(chords))
              for n, r, s, b in zip(names, roots, notes, basses, strict=True)}  # fmt: skip
    ids = np.array([number[lab] for lab in labels])
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)] - 1
    return np.stack([intervals[starts, 0], intervals[ends, 1]], axis=1)


def _directional_hamming(ref: np.ndarray, est: np.ndarray) -> float:
    """``mir_eval.chord.directional_hamming_distance`` in time linear in the segments.

    For every reference interval, the part outside its longest piece once cut at the
    estimate's boundaries, summed and divided by the reference's span.
    """
    if len(ref) == 0:
        return 0.0
    ts = np.unique(est.ravel())
    s, e = ref[:, 0], ref[:, 1]
    lo = np.searchsorted(ts, s, "left")  # the estimate's boundaries in [s, e): ts[lo:hi]
    hi = np.searchsorted(ts, e, "left")
    has = hi > lo
    longest = np.where(has, ts[np.minimum(lo, len(ts) - 1)] - s, e - s)  # before the first
    longest = np.maximum(longest, np.where(has, e - ts[np.maximum(hi - 1, 0)], 0.0))  # after
    inner = hi - lo >= 2  # pieces between boundaries: gaps[lo : hi - 1]
    if inner.any():
        gaps = np.r_[np.diff(ts), 0.0]
        at = np.empty(2 * int(inner.sum()), dtype=np.intp)
        at[0::2], at[1::2] = lo[inner], hi[inner] - 1
        longest[inner] = np.maximum(longest[inner], np.maximum.reduceat(gaps, at)[0::2])
    span = ref[-1, 1] - ref[0, 0]
    return float(((e - s) - longest).sum() / span) if span > 0 else 0.0


def chord_scores(ref_intervals, ref_labels, est_intervals, est_labels) -> tuple[dict, dict]:
    """``mir_eval.chord.evaluate`` of one estimate, with the seconds each metric compares.

    The same scores as ``mir_eval.chord.evaluate`` for the metrics of :data:`CHORD_METRICS`,
    computed in time linear in the number of segments; the intervals of each annotation must
    be sorted and must not overlap (as :func:`chordscope.io.read_chords` checks).

    Returns
    -------
    scores : dict  metric → weighted accuracy (:data:`CHORD_METRICS`; ``seg``: the
        segmentation quality)
    seconds : dict  metric → duration of the reference that the metric scores (its weight when
        files are pooled); 0 where the metric skips every segment; ``seg``: the reference's span
    """
    import mir_eval.chord
    import mir_eval.util

    ref_intervals = np.asarray(ref_intervals, dtype=float).reshape(-1, 2)
    est_intervals = np.asarray(est_intervals, dtype=float).reshape(-1, 2)
    ref_labels, est_labels = list(ref_labels), list(est_labels)
    for intervals in (ref_intervals, est_intervals):
        mir_eval.util.validate_intervals(intervals)
        if (intervals[1:, 0] < intervals[:-1, 1]).any():
            raise ValueError("chord intervals must be sorted and must not overlap")
    scores, seconds = {}, {}
    with warnings.catch_warnings():  # "no reference chords were comparable": weight 0 below
        warnings.simplefilter("ignore")
        # as mir_eval.chord.evaluate: the estimate cut or padded (N) to the reference's span
        lo, hi = ref_intervals.min(), ref_intervals.max()
        est_i, est_l = mir_eval.util.adjust_intervals(
            est_intervals, est_labels, lo, hi, mir_eval.chord.NO_CHORD, mir_eval.chord.NO_CHORD
        )
        merged, refs, ests = _merge_labeled(ref_intervals, ref_labels, np.asarray(est_i), est_l)
        durations = mir_eval.util.intervals_to_durations(merged)
        for metric in _LABEL_METRICS:
            comparison = getattr(mir_eval.chord, metric)(refs, ests)
            scores[metric] = float(mir_eval.chord.weighted_accuracy(comparison, durations))
            seconds[metric] = float(durations[comparison >= 0].sum())
        # segmentation: where the chords change, as mir_eval.chord.evaluate's "seg"
        ref_chords = _merge_same(ref_intervals, ref_labels)
        est_chords = _merge_same(np.asarray(est_i, dtype=float), est_l)
        worse = max(_directional_hamming(ref_chords, est_chords),  # over-segmentation
                    _directional_hamming(est_chords, ref_chords))  # fmt: skip
        scores["seg"], seconds["seg"] = 1.0 - float(worse), float(hi - lo)
    return scores, seconds


def pair_files(ref, est, *, suffixes=(".lab", ".jams", ".csv")) -> list[tuple[str, Path, Path]]:
    """Match reference and estimate files: two files, or two folders matched by file stem.

    Returns
    -------
    pairs : list of ``(name, ref_path, est_path)``, sorted by name

    Raises
    ------
    InputError  if a path is missing, a file and a folder are mixed, or no names match (the
        names without a partner are listed).
    """
    ref, est = Path(ref), Path(est)
    for p in (ref, est):
        if not p.exists():
            raise InputError(f"{p}: no such file or folder")
    if ref.is_file() and est.is_file():
        return [(ref.stem, ref, est)]
    if ref.is_file() != est.is_file():
        raise InputError(f"{ref} and {est} must both be files or both be folders")

    def listing(folder):
        found = {}
        for p in sorted(folder.iterdir()):
            if p.is_file() and p.suffix.lower() in suffixes:
                if p.stem in found:
                    raise InputError(f"{folder}: two annotations named {p.stem!r}")
                found[p.stem] = p
        return found

    refs, ests = listing(ref), listing(est)
    names = sorted(set(refs) & set(ests))
    if not names:
        raise InputError(
            f"no annotation in {est} has the name of one in {ref} "
            f"({len(refs)} references, {len(ests)} estimates)"
        )
    return [(n, refs[n], ests[n]) for n in names]


def pool(results) -> dict:
    """Duration-weighted totals of ``(scores, seconds)`` pairs from :func:`chord_scores`.

    Returns ``{metric: score or None}`` (``None`` where no file compares any second).
    """
    sums, weights = dict.fromkeys(CHORD_METRICS, 0.0), dict.fromkeys(CHORD_METRICS, 0.0)
    for scores, seconds in results:
        for m in CHORD_METRICS:
            sums[m] += scores[m] * seconds[m]
            weights[m] += seconds[m]
    return {m: (sums[m] / weights[m] if weights[m] > 0 else None) for m in CHORD_METRICS}


def pool_interval(
    results, metric: str = "majmin", *, level: float = 0.95, n_resamples: int = 2000, seed=0
) -> tuple[float, float] | None:
    """Bootstrap interval of a score pooled by :func:`pool`, resampling whole files.

    The files are drawn with replacement ``n_resamples`` times (from a generator seeded with
    ``seed``); each draw is pooled duration-weighted, as :func:`pool` does, and the interval is
    the central ``level`` share of those totals. It says how far a score over a few songs could
    move with other songs of the same kind, not how well the references were made.

    Returns ``(low, high)``, or ``None`` where no file compares any second of ``metric``.

    Examples
    --------
    >>> same = [({"majmin": 0.9}, {"majmin": 10.0})] * 5
    >>> pool_interval(same)
    (0.9, 0.9)
    >>> two = [({"majmin": 1.0}, {"majmin": 10.0}), ({"majmin": 0.5}, {"majmin": 10.0})]
    >>> lo, hi = pool_interval(two)
    >>> 0.5 <= lo < 0.75 < hi <= 1.0
    True
    """
    if metric not in CHORD_METRICS:
        raise InputError(f"unknown metric {metric!r}; choose from {', '.join(CHORD_METRICS)}")
    if not 0.0 < level < 1.0:
        raise InputError(f"level must lie between 0 and 1, got {level!r}")
    pairs = [(s[metric], w[metric]) for s, w in results if w[metric] > 0]
    if not pairs:
        return None
    x = np.array([score for score, _ in pairs], dtype=np.float64)
    w = np.array([seconds for _, seconds in pairs], dtype=np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(x), size=(n_resamples, len(x)))
    totals = (x[draws] * w[draws]).sum(axis=1) / w[draws].sum(axis=1)
    low, high = np.quantile(totals, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return round(float(low), 6), round(float(high), 6)


def score_segments(ref_path, segments) -> tuple[dict, dict]:
    """:func:`chord_scores` of ``(start, end, label)`` segments against a reference file."""
    ref_i, ref_l = read_chords(ref_path)
    return chord_scores(ref_i, ref_l, [s[:2] for s in segments], [s[2] for s in segments])


def score_files(pairs) -> dict:
    """Score each ``(name, ref_path, est_path)`` and pool them, duration-weighted.

    A pair whose files cannot be read (a :class:`~chordscope.errors.ChordscopeError`: missing,
    malformed, unsorted, ...) does not stop the others: its one-line reason is kept under
    ``errors`` and it is left out of the total.

    Returns
    -------
    result : dict
        ``{"files": {name: {metric: score}}, "total": {metric: score or None},
        "interval_95": {metric: (low, high) or None}, "seconds": {metric: seconds compared},
        "errors": {name: reason}}``; a metric no file compares has a total of ``None``. The
        interval (:func:`pool_interval`, seed 0) needs two files or more.
    """
    files, results, errors = {}, [], {}
    for name, ref_path, est_path in pairs:
        try:
            ref_i, ref_l = read_chords(ref_path)
            est_i, est_l = read_chords(est_path)
        except ChordscopeError as exc:
            errors[name] = str(exc)
            continue
        scores, seconds = chord_scores(ref_i, ref_l, est_i, est_l)
        files[name] = scores
        results.append((scores, seconds))
    seconds = {m: sum(w[m] for _, w in results) for m in CHORD_METRICS}
    intervals = {m: pool_interval(results, m) if len(results) > 1 else None for m in CHORD_METRICS}
    return {
        "files": files,
        "total": pool(results),
        "interval_95": intervals,
        "seconds": seconds,
        "errors": errors,
    }
