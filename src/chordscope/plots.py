"""Figures: one function per figure, each takes plain arrays and returns a matplotlib Figure.

Conventions
-----------
matplotlib is imported here only, inside the functions, with the non-interactive Agg canvas, so
importing chordscope never needs a display. CQT-like images put low frequencies at the bottom
(``origin="lower"``). Signed weights use a diverging map centred at 0 (``RdBu_r``: red > 0,
blue < 0). :func:`save_figure` is the only function that touches the disk.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np

from .io import publish_mode

__all__ = [
    "inputs_figure",
    "curves_figure",
    "kernels_figure",
    "feature_maps_figure",
    "dense_figure",
    "sweep_figure",
    "tuning_figure",
    "selectivity_figure",
    "semitone_kernels_figure",
    "census_figure",
    "prediction_figure",
    "save_figure",
    "generalisation_figure",
    "interval_name",
]


def _figure(figsize):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


_PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def _note_names(lowest: str, n: int) -> list[str]:
    """Names of the ``n`` semitones from the note ``lowest`` up.

    Examples
    --------
    >>> _note_names("A3", 4)
    ['A3', 'A#3', 'B3', 'C4']
    """
    m = re.fullmatch(r"([A-G]#?)(-?\d+)", lowest)
    if m is None:
        raise ValueError(f"not a note name like 'A3' or 'C#4': {lowest!r}")
    midi = _PITCHES.index(m[1]) + 12 * (int(m[2]) + 1)
    return [f"{_PITCHES[(midi + i) % 12]}{(midi + i) // 12 - 1}" for i in range(n)]


#: Weights of linear R, G, B in relative luminance (sRGB, WCAG 2).
_LUMA = np.array([0.2126, 0.7152, 0.0722])


def _ink(rgba) -> str:
    """``"black"`` or ``"white"``: the text colour that contrasts more with the colour ``rgba``.

    Compares WCAG contrast ratios from the relative luminance, so either choice reaches 4.5:1.
    """
    c = np.asarray(rgba, dtype=float)[:3]
    lum = float(np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4) @ _LUMA)
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def _annotate(ax, im, values, fmt: str, **kwargs) -> None:
    """Write each value of ``values`` on its cell of the image ``im``, black or white by cell."""
    for (i, j), v in np.ndenumerate(np.asarray(values)):
        if v != v:  # an empty cell (NaN): a dash on the colour map's "bad" colour
            ax.text(j, i, "—", ha="center", va="center", color="black", **kwargs)
            continue
        ink = _ink(im.cmap(im.norm(v)))
        ax.text(j, i, format(v, fmt), ha="center", va="center", color=ink, **kwargs)


def inputs_figure(x_major, x_minor, *, root_names=None, n: int = 4, lowest_note: str = "A3"):
    """Plot the first ``n`` major inputs (left) and minor inputs (right), as in the tutorial.

    Parameters
    ----------
    x_major, x_minor : np.ndarray [shape=(n_examples, n_bins, n_frames)]
        The tutorial's inputs: ``|CQT|`` in dB above its minimum, divided by the maximum (0 .. 1).
    root_names : list of str, optional
        Root of each example (the same roots for both halves).
    lowest_note : str
        Note of CQT bin 0, one bin per semitone (the tutorial's ``fmin``: 220 Hz, A3).
    """
    n_bins, n_frames = np.shape(x_major)[1:]
    ticks = list(range(0, n_bins, 6))
    notes = _note_names(lowest_note, n_bins)
    fig = _figure((13, 5))
    axes = fig.subplots(1, 2 * n + 1)
    axes[n].axis("off")
    for i in range(n):
        for ax, x, q in ((axes[i], x_major[i], "maj"), (axes[n + 1 + i], x_minor[i], "min")):
            im = ax.imshow(x, cmap="Blues", origin="lower", aspect="auto", vmin=0, vmax=1)
            ax.set_title(f"{root_names[i]}:{q}" if root_names is not None else q, fontsize=9)
            ax.set_xticks(range(x.shape[1]))
            ax.set_xlabel("frame")
            ax.set_yticks(ticks, [notes[t] for t in ticks])
            if ax is not axes[0]:
                ax.tick_params(labelleft=False)
    axes[0].set_ylabel("CQT bin, one per semitone (note)")
    data_axes = [a for k, a in enumerate(axes) if k != n]
    label = "log-compressed CQT magnitude\n(dB above the minimum, / maximum)"
    fig.colorbar(im, ax=data_axes, shrink=0.8, label=label)
    fig.suptitle(f"major (left) and minor (right) inputs: CQT, {n_frames} frames")
    return fig


def curves_figure(history, *, x: str = "epoch"):
    """Plot accuracy and loss per epoch, training and validation (the tutorial's two panels).

    Parameters
    ----------
    history : list of dict
        Keys ``x`` (``epoch`` or ``step``), ``train_loss``, ``val_loss``, ``val_accuracy`` and
        ``train_accuracy`` (NaN where not measured: not drawn).
    x : str  the key and the label of the x axis
    """
    fig = _figure((11, 4))
    axes = fig.subplots(1, 2)
    epochs = [h[x] for h in history]
    for ax, key, title in ((axes[0], "accuracy", "Accuracy"), (axes[1], "loss", "Loss")):
        train = [h.get(f"train_{key}", float("nan")) for h in history]
        if not all(v != v for v in train):  # NaN: not measured
            ax.plot(epochs, train, "o-", label="training")
        ax.plot(epochs, [h[f"val_{key}"] for h in history], "s-", label="validation", alpha=0.7)
        ax.set_title(title)
        ax.set_xlabel("optimiser step" if x == "step" else x)
        ax.legend()
    axes[1].set_yscale("log")
    return fig


def kernels_figure(conv, *, titles=None, row_labels=None, ylabel="semitones (relative)"):
    """Plot the first layer's kernels on their grid: semitones (up) × frames (right).

    Parameters
    ----------
    conv : np.ndarray [shape=(n_kernels, 1, kh, kw)]
    titles : list of str, optional
    row_labels : list of list of str, optional
        Tick labels of each kernel's rows (default ``0 .. kh - 1``).
    """
    conv = np.asarray(conv)
    K, _, kh, kw = conv.shape
    vmax = float(np.abs(conv).max()) or 1.0
    cols = min(K, 4)  # a grid, four kernels a row: wide kernel sets stay legible
    rows = int(np.ceil(K / cols))
    fig = _figure((3 * cols, 4 * rows))
    grid = np.atleast_1d(fig.subplots(rows, cols)).reshape(-1)
    for ax in grid[K:]:
        ax.axis("off")
    axes = grid[:K]
    for k, ax in enumerate(axes):
        im = ax.imshow(conv[k, 0], cmap="RdBu_r", vmin=-vmax, vmax=vmax, origin="lower")
        _annotate(ax, im, conv[k, 0], ".2f", fontsize=7)  # white on dark cells
        ax.set_title(titles[k] if titles else f"kernel {k + 1}", fontsize=9 if titles else None)
        ax.set_yticks(range(kh), row_labels[k] if row_labels else list(range(kh)))
        ax.set_xticks(range(kw))
        ax.set_xlabel("frames")
        if k % cols == 0:
            ax.set_ylabel(ylabel)
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="weight")
    return fig


def feature_maps_figure(x, maps, *, title=None):
    """Plot an input and the first layer's feature maps, each titled with its maximum.

    The maps are the layer's own output, a cross-correlation in valid mode; the tutorial plotted
    ``scipy.signal.convolve2d``, which flips the kernel and pads the input.

    Parameters
    ----------
    x : np.ndarray [shape=(n_bins, n_frames)]
    maps : np.ndarray [shape=(n_kernels, n_positions, width)]
    """
    maps = np.asarray(maps)
    K = len(maps)
    fig = _figure((2.2 * (K + 1), 5))
    axes = fig.subplots(1, K + 1)
    axes[0].imshow(x, cmap="Blues", origin="lower", aspect="auto")
    axes[0].set_title("input")
    axes[0].set_ylabel("CQT bin")
    vmax = float(np.abs(maps).max()) or 1.0
    for k in range(K):
        ax = axes[k + 1]
        im = ax.imshow(maps[k], cmap="RdBu_r", vmin=-vmax, vmax=vmax, origin="lower", aspect="auto")
        i, j = np.unravel_index(np.argmax(maps[k]), maps[k].shape)
        ax.plot(j, i, marker="*", color="gold", markeredgecolor="black", markersize=12)
        ax.set_title(f"max: {maps[k].max():4.2f}")
        ax.set_xlabel(f"kernel {k + 1}")
        ax.set_xticks([])
    fig.colorbar(im, ax=list(axes[1:]), shrink=0.8, label="activation (before ReLU)")
    if title:
        fig.suptitle(title)
    return fig


def dense_figure(dense, *, class_names=("maj", "min")):
    """Plot the dense weights as the tutorial prints them: a row per kernel, a column per class.

    The figure widens with the classes; names longer than four characters are set upright.

    Parameters
    ----------
    dense : np.ndarray [shape=(n_classes, n_kernels)]  (``nn.Linear`` layout, transposed here)
    class_names : sequence of str  one per class
    """
    w = np.asarray(dense).T
    names = [str(c) for c in class_names]
    vmax = float(np.abs(w).max()) or 1.0
    fig = _figure((max(4.0, 2.5 + 0.6 * w.shape[1]), 1 + 0.8 * len(w)))
    ax = fig.subplots()
    im = ax.imshow(w, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    _annotate(ax, im, w, "+.2f", fontsize=11)
    ax.set_xticks(range(w.shape[1]), names, rotation=0 if max(map(len, names)) <= 4 else 90)
    ax.set_yticks(range(w.shape[0]), [f"kernel {k + 1}" for k in range(w.shape[0])])
    ax.set_xlabel("output class")
    ax.set_title("dense weights")
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def sweep_figure(test_accuracy, steps_to_perfect, *, recipe: str, steps_total: int):
    """Distribution over seeds of the final test accuracy and of the steps to reach 100 %.

    Parameters
    ----------
    test_accuracy : np.ndarray [shape=(n_seeds,)]
    steps_to_perfect : list of int or None  (None: the seed never stays at 100 %)
    """
    acc = np.asarray(test_accuracy, dtype=float)
    n_ok = int((acc >= 1.0).sum())
    fig = _figure((11, 4))
    axes = fig.subplots(1, 2)
    axes[0].hist(np.clip(acc, 0.45, 1.0), bins=np.linspace(0.45, 1.0, 23), color="tab:blue")
    axes[0].set_xlabel("final test accuracy")
    axes[0].set_ylabel("seeds")
    axes[0].set_title(f"recipe {recipe}: {n_ok}/{len(acc)} seeds at 100 %")
    reached = np.sort([s for s in steps_to_perfect if s is not None])
    never = len(steps_to_perfect) - len(reached)
    if len(reached):
        axes[1].step(
            np.concatenate([[0], reached, [steps_total]]),
            np.concatenate([[0], np.arange(1, len(reached) + 1), [len(reached)]]) / len(acc),
            where="post",
        )
    axes[1].set_xlim(0, steps_total)
    axes[1].set_ylim(0, 1.02)
    axes[1].set_xlabel("training steps")
    axes[1].set_ylabel("fraction of seeds at 100 % from then on")
    axes[1].set_title(f"steps to perfect test accuracy ({never} never)")
    return fig


def tuning_figure(explanation: dict):
    """Per kernel: mean pooled activation against interval size (0 = one tone), and triads."""
    ks = explanation["kernels"]
    fig = _figure((3 * len(ks), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(ks), sharey=True))
    for ax, e in zip(axes, ks, strict=True):
        iv = e["tuning"]["intervals"]
        xs = [int(i) for i in iv]
        ax.bar(xs, [iv[str(i)] for i in xs], color="tab:gray")
        for i, c in ((3, "tab:blue"), (4, "tab:red")):
            ax.bar([i], [iv[str(i)]], color=c)
        tri = e["tuning"]["triads"]
        ax.plot(range(14, 14 + len(tri)), list(tri.values()), "D", color="black")
        ax.set_xticks(
            list(range(0, 13, 2)) + list(range(14, 14 + len(tri))),
            [str(i) for i in range(0, 13, 2)] + list(tri),
            fontsize=7,
        )
        for label in ax.get_xticklabels()[7:]:  # triad names one unit apart: upright
            label.set_rotation(90)
        ax.set_title(f"kernel {e['kernel']}: {e['role']}", fontsize=9)
        ax.set_xlabel("interval (semitones) | triads")
    axes[0].set_ylabel("mean pooled activation")
    fig.suptitle("interval tuning on clean sine probes (blue: minor third, red: major third)")
    return fig


def selectivity_figure(explanation: dict):
    """Per kernel: histograms of the pooled activation for each class on the test set."""
    ks = explanation["kernels"]
    fig = _figure((3 * len(ks), 3.4))
    axes = np.atleast_1d(fig.subplots(1, len(ks)))
    for ax, e in zip(axes, ks, strict=True):
        s = e["selectivity"]
        edges = np.array(s["histogram_edges"], dtype=float)
        for (lab, counts), c in zip(s["histogram"].items(), ("tab:red", "tab:blue"), strict=False):
            ax.stairs(counts, edges, label=lab, color=c, fill=True, alpha=0.5)
        ax.set_title(f"kernel {e['kernel']}: AUC {s['auc_preferred']:.2f}", fontsize=9)
        ax.set_xlabel("pooled activation")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("test inputs")
    return fig


def semitone_kernels_figure(conv, explanation: dict, per_semitone: int = 1):
    """Plot the kernels with their rows labelled in semitones relative to the chord root.

    Row ``j`` of kernel ``k`` is placed at ``typical_offset + j``: where, on the test set, the
    kernel's lowest row most often lies relative to the root when it fires most. With
    ``per_semitone = 3`` (a first layer over the finer transform) each semitone is three rows,
    named at the middle one.
    """
    kh = np.asarray(conv).shape[2]
    rows, titles = [], []
    for e in explanation["kernels"]:
        off = e["where"]["typical_offset"]
        title = f"kernel {e['kernel']}: {e['role']}"
        if off is None:  # it never fires on the test set: it has no place relative to the root
            rows.append([f"row {j}" for j in range(kh)])
            title += "\n(no typical position)"
        else:
            rows.append(
                [
                    interval_name(off + j // per_semitone) if j % per_semitone == per_semitone // 2
                    else ""
                    for j in range(kh)
                ]
            )  # fmt: skip
        titles.append(title)
    return kernels_figure(
        conv, titles=titles, row_labels=rows, ylabel="interval to the chord root (semitones)"
    )


INTERVAL_NAMES = ("R", "m2", "M2", "m3", "M3", "P4", "TT", "P5", "m6", "M6", "m7", "M7")


def interval_name(semitones: int) -> str:
    """Name a distance from the root: its interval class and, in brackets, the signed distance.

    Examples
    --------
    >>> interval_name(4), interval_name(-10), interval_name(0)
    ('M3 (+4)', 'M2 (-10)', 'R (+0)')
    """
    return f"{INTERVAL_NAMES[semitones % 12]} ({semitones:+d})"


def census_figure(census: dict):
    """Roles over the seeds of a sweep, split by success, and the mean kernel of each cluster.

    Every number printed is a count of kernels by role (``roles_by_outcome``, and each cluster's
    ``roles``), the numbers the bars show; a series with no kernel is left out of the legend.

    Parameters
    ----------
    census : dict  :func:`chordscope.runs.census`
    """
    by = census["roles_by_outcome"]
    names = sorted(set(census["roles"]) | set(by["perfect"]) | set(by["failed"]))
    fig = _figure((12, 4.2))
    n_cl = len(census["clusters"])
    gs = fig.add_gridspec(1, 1 + n_cl, width_ratios=[2.5] + [1] * n_cl)
    ax = fig.add_subplot(gs[0, 0])
    ok = np.array([by["perfect"].get(n, 0) for n in names], dtype=int)
    bad = np.array([by["failed"].get(n, 0) for n in names], dtype=int)
    seeds = {k: census.get(f"n_{k}") for k in ("perfect", "failed")}
    for counts, left, colour, key, what in (
        (ok, 0, "tab:green", "perfect", "seeds at 100 %"),
        (bad, ok, "tab:orange", "failed", "failed seeds"),
    ):
        if counts.any():
            n_s = f" ({seeds[key]})" if seeds[key] is not None else ""
            ax.barh(names, counts, left=left, color=colour, label=f"{what}{n_s}")
    total = ok + bad
    for y, t in enumerate(total):
        ax.text(t, y, f" {t}", va="center", fontsize=8)
    ax.set_xlim(0, 1.12 * max(int(total.max(initial=0)), 1))  # room for the totals
    ax.set_xlabel("kernels")
    ax.set_title(f"kernel roles over {census['n_seeds']} seeds")
    handles, labels = ax.get_legend_handles_labels()
    if handles:  # below the bars, outside every axes
        fig.legend(handles, labels, loc="outside lower left", ncols=2, fontsize=8)
    clusters = census["clusters"]
    vmax = max((float(np.abs(np.array(c["centroid"])).max()) for c in clusters), default=0)
    vmax = vmax or 1.0
    for i, c in enumerate(clusters):
        a = fig.add_subplot(gs[0, i + 1])
        a.imshow(np.array(c["centroid"]), cmap="RdBu_r", vmin=-vmax, vmax=vmax, origin="lower")
        size = sum(c["roles"].values())
        top = c["roles"][c["top_role"]]
        a.set_title(f"{size} kernel{'s' * (size != 1)}:\n{top} {c['top_role']}", fontsize=8)
        a.set_xticks([])
        a.set_yticks(range(len(c["centroid"])))
    return fig


def generalisation_figure(matrix, train_names, test_names):
    """Heat-map of the generalisation matrix: one row per training condition, one column per test.

    The colour scale is fixed to chance (1/25 for majmin) .. 1, so two matrices compare by eye;
    an empty cell (``None`` or NaN: not held out for that row) is light grey with a dash.
    """
    matrix = np.array([[np.nan if v is None else v for v in r] for r in matrix], dtype=float)
    fig = _figure((1.0 + 0.85 * len(test_names), 1.6 + 0.5 * len(train_names)))
    ax = fig.add_subplot(1, 1, 1)
    from matplotlib import colormaps

    cmap = colormaps["viridis"].with_extremes(bad="#dddddd")
    im = ax.imshow(matrix, cmap=cmap, vmin=1 / 25, vmax=1.0, aspect="auto")
    _annotate(ax, im, matrix, ".2f", fontsize=8)
    ax.set_xticks(range(len(test_names)))
    ax.set_xticklabels(test_names, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(len(train_names)))
    ax.set_yticklabels(train_names, fontsize=9)
    ax.set_xlabel("tested on")
    ax.set_ylabel("trained on")
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label="accuracy")
    return fig


def prediction_figure(picture, estimate, *, duration: float, reference=None, title=None):
    """Plot the static version of the prediction page: chromagram, chord lanes, errors.

    Parameters
    ----------
    picture : np.ndarray [shape=(12, n_columns)]  :func:`chordscope.page.chroma_picture`
    estimate, reference : list of ``(start, end, label, ...)``  chord lanes (reference optional)
    duration : float  seconds the picture spans
    """
    from .page import disagreements

    lanes = [("estimate", estimate)] + ([("reference", reference)] if reference else [])
    fig = _figure((12, 2.2 + 0.45 * len(lanes)))
    axes = fig.subplots(
        1 + len(lanes), 1, sharex=True, height_ratios=[3] + [0.6] * len(lanes)
    )  # fmt: skip
    ax = axes[0]
    ax.imshow(
        picture, origin="lower", aspect="auto", cmap="magma", vmin=0, vmax=1,
        extent=(0, duration, -0.5, 11.5), interpolation="nearest",
    )  # fmt: skip
    ax.set_yticks(range(12), ["C", "", "D", "", "E", "F", "", "G", "", "A", "", "B"])
    ax.set_ylabel("pitch class")
    if title:
        ax.set_title(title)
    for lane_ax, (name, segs) in zip(axes[1:], lanes, strict=True):
        for start, end, label, *_ in segs:
            minor = any(q in label for q in (":min", ":dim", ":hdim"))
            colour = "0.75" if label == "N" else ("tab:blue" if minor else "tab:orange")
            lane_ax.broken_barh([(start, end - start)], (0, 1), color=colour, edgecolor="white")
            if end - start > duration / 60:
                lane_ax.text(start + 0.01 * duration / 10, 0.5, label, va="center", fontsize=7)
        lane_ax.set_yticks([0.5], [name])
        lane_ax.set_ylim(0, 1)
    if reference:
        for start, end in disagreements(estimate, reference):
            axes[-1].axvspan(start, end, ymin=0, ymax=0.15, color="tab:red")
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(0, duration)
    return fig


def save_figure(fig, path, *, dpi: int = 100) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, format="png")
        publish_mode(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
