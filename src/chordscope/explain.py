"""What each kernel of a model's first convolution layer learned, measured.

Conventions
-----------
For every kernel ``k`` of the first ``Conv2d`` layer, :func:`explain` measures, on probes and on
a labelled test set:

- **pooled activation**: ``relu(max over positions of the feature map)``, what the dense layer of
  the tutorial's network sees. Feature maps are the layer's own output (cross-correlation, valid
  mode), never recomputed with a flipped kernel.
- **interval tuning**: mean pooled activation on clean sine probes built with the package's own
  synthesis and features: single tones (interval 0), two-note intervals of 1..12 semitones over
  every root, and four triads (maj, min, dim, aug) over every root.
- **where it looks**: where the kernel's lowest row lies, relative to the chord's root, when its
  feature map is highest (the map's row less the layer's padding), most often over the test
  inputs on which the kernel is active; the kernel's rows are then semitones
  ``offset .. offset + kh - 1`` above (or below, if negative) the root. A first layer over the
  finer transform (three bins a semitone, :data:`~chordscope.features.FINE_CQT`) is read a
  semitone, three rows, at a time.
- **selectivity**: per class, the distribution of the pooled activation; d′ and ROC AUC between
  the two classes (positive class = class 1); the fraction of inputs on which it is above 0.
- **ablation**: test accuracy and loss with the kernel set to zero, and with only this kernel left.
- **contribution**: the dense weights of the kernel per class times its mean activation per class,
  and the class its activation votes for.

For a ``ChordCNN`` (:func:`explain_chordcnn`) the same measurements read its first layer (8
kernels of 5 semitones × 3 frames by default) on its own features: the probes become log-CQT
context windows (:func:`chord_probes`), the test set is clean additive chords of the model's
vocabulary, selectivity compares major with minor chords, and the pooled activation is of the raw
convolution (batch norm follows it in the network). There is no contribution: its dense layer
reads the whole stack, not the pooled kernels, so roles rest on selectivity and ablation.

Roles, derived only from those numbers, checked in this order (thresholds are module constants):

1. ``dead``: never above 0 on the test set (``active_fraction == 0``).
2. ``unused``: its dense weights are the same for every class, so it cannot change a decision.
3. ``redundant``: setting it to zero changes test accuracy by less than ``REDUNDANT_ACCURACY``.
4. ``<class> detector``: ``max(AUC, 1 - AUC) >= DETECTOR_AUC`` and it votes for the class on which
   it fires more.
5. ``mixed``: anything else (it matters, but is not cleanly selective or votes against its
   preference).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .chords import PITCH_NAMES, chord_frequencies, root_frequencies
from .datasets import ChordDataConfig, chord_examples, split_rng
from .errors import ChordscopeError, ParameterError
from .features import (
    CHORD_CQT,
    LOG_GAIN,
    TUTORIAL_CQT,
    CQTConfig,
    RecogniserInput,
    bins_per_semitone,
    context_frames,
    log_cqt,
    tutorial_features,
)
from .io import load_model
from .synth import sine_chord
from .tutorial_data import test_set, tutorial_inputs

__all__ = [
    "Probes",
    "tutorial_probes",
    "chord_probes",
    "first_conv",
    "bins_per_semitone_of",
    "first_kernels",
    "feature_maps",
    "pooled_activations",
    "explain",
    "explain_tutorial",
    "explain_chordcnn",
    "explain_file",
    "DETECTOR_AUC",
    "REDUNDANT_ACCURACY",
    "DUPLICATE_COSINE",
]

#: A kernel is a detector if it separates the classes with at least this ROC AUC (or 1 - AUC).
DETECTOR_AUC = 0.9
#: Below this AUC a kernel's sentence says it prefers neither class (0.5 is chance).
CHANCE_AUC = 0.55
#: A kernel is redundant if zeroing it changes test accuracy by less than this.
REDUNDANT_ACCURACY = 0.01
#: Two kernels are duplicates if their flattened weights have at least this cosine similarity.
DUPLICATE_COSINE = 0.99
INTERVALS = tuple(range(13))  # 0 = single tone, 1..12 = two-note intervals
TRIADS = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8)}


@dataclass(frozen=True)
class Probes:
    """Labelled probe inputs.

    Attributes
    ----------
    x : np.ndarray [shape=(n, 1, n_bins, n_frames)], float32
    kind : np.ndarray [shape=(n,)] of str  ``"interval"`` (0 = single tone) or ``"triad"``
    name : np.ndarray [shape=(n,)] of str  interval size as text, or the triad quality
    root_bin : np.ndarray [shape=(n,)], int  CQT bin of the root
    """

    x: np.ndarray
    kind: np.ndarray
    name: np.ndarray
    root_bin: np.ndarray


def _probe_chords(config, n_roots: int, base_hz: float):
    """Sine probe audio (tones, intervals 1..12, triads, all roots) with kind, name, root bin."""
    roots = root_frequencies(n_roots, base_hz=base_hz)
    root_bins = np.round(config.bins_per_octave * np.log2(roots / config.fmin)).astype(int)
    chords, kind, name, rbin = [], [], [], []
    for i in INTERVALS:
        for r, b in zip(roots, root_bins, strict=True):
            notes = (0,) if i == 0 else (0, i)
            chords.append(chord_frequencies(r, notes))
            kind.append("interval")
            name.append(str(i))
            rbin.append(b)
    for q, notes in TRIADS.items():
        for r, b in zip(roots, root_bins, strict=True):
            chords.append(chord_frequencies(r, notes))
            kind.append("triad")
            name.append(q)
            rbin.append(b)
    sr, dur = config.sr, 1.0
    y = np.zeros((len(chords), int(sr * dur)))
    for j, f in enumerate(chords):  # chords of 1, 2 or 3 notes: pad by summing per chord
        y[j] = sine_chord(f, duration=dur, sr=sr)
    return y, np.array(kind), np.array(name), np.array(rbin)


def tutorial_probes(config=None, *, n_roots: int = 12, base_hz: float = 440.0) -> Probes:
    """Clean sine probes for the tutorial's input: tones, intervals 1..12, triads, all roots.

    Examples
    --------
    >>> p = tutorial_probes()
    >>> p.x.shape
    (204, 1, 36, 3)
    """
    config = config or TUTORIAL_CQT
    y, kind, name, rbin = _probe_chords(config, n_roots, base_hz)
    x = tutorial_features(y, config=config)[:, None]
    return Probes(x=x, kind=kind, name=name, root_bin=rbin)


def chord_probes(
    config=None,
    *,
    n_context: int = 3,
    n_roots: int = 12,
    base_hz: float = 220.0,
    gain: float | None = None,
) -> Probes:
    """Return the same sine probes as :func:`tutorial_probes`, as ``ChordCNN`` inputs.

    The input of each is its log-CQT (:data:`~chordscope.features.CHORD_CQT`), centre frame with
    ``n_context`` frames on each side.

    Examples
    --------
    >>> chord_probes().x.shape
    (204, 1, 73, 7)
    """
    config = config or CHORD_CQT
    y, kind, name, rbin = _probe_chords(config, n_roots, base_hz)
    with warnings.catch_warnings():  # the finer transform's lowest octaves outlast a 1 s probe
        warnings.filterwarnings("ignore", message="n_fft=.*is too large for input signal")
        F = log_cqt(y, config=config, gain=gain or LOG_GAIN)
    x = context_frames(F, n_context)[:, F.shape[-1] // 2][:, None]
    return Probes(x=x.astype(np.float32), kind=kind, name=name, root_bin=rbin)


def first_conv(model: nn.Module) -> nn.Conv2d:
    """Return the first ``Conv2d`` layer of ``model`` (the one :func:`explain` reads)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m
    raise ChordscopeError(f"model {type(model).__name__} has no convolution layer to explain")


def bins_per_semitone_of(model: nn.Module) -> int:
    """Return the input bins a semitone of ``model``: its first layer's stride over frequency.

    1 for the tutorial's network and the plain recognisers, 3 for a recogniser on
    :data:`chordscope.features.FINE_CQT` (its ``conv1`` steps a semitone at a time).
    """
    return int(first_conv(model).stride[0])


def first_kernels(model: nn.Module) -> np.ndarray:
    """Return the first layer's kernels on the input itself: ``(K, 1, kh, kw)``.

    A model with a harmonic stack (``harmonic_shifts``) has one input channel per shift; its
    first channel is the unshifted input, and that is the one read here.
    """
    return first_conv(model).weight.detach().numpy()[:, :1]


@torch.no_grad()
def feature_maps(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """Compute the first layer's feature maps of ``x`` as the model does: ``(n, K, P, W)``.

    Fixed steps before the layer (a recogniser's ``first_layer_input``) are applied first.
    """
    x = torch.as_tensor(x)
    prepare = getattr(model, "first_layer_input", None)
    return first_conv(model)(prepare(x) if prepare is not None else x).numpy()


def pooled_activations(maps: np.ndarray) -> np.ndarray:
    """``relu(global max)`` of each feature map: ``(n, K)``."""
    return np.maximum(maps.max(axis=(-2, -1)), 0.0)


def _auc(neg: np.ndarray, pos: np.ndarray) -> float:
    """ROC AUC of ``pos`` against ``neg`` (Mann–Whitney; ties count one half)."""
    allv = np.concatenate([neg, pos])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv))
    sorted_v = allv[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_v, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    r_pos = ranks[len(neg) :].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg)))


def _dprime(neg: np.ndarray, pos: np.ndarray) -> float:
    sd = np.sqrt(0.5 * (neg.var() + pos.var()))
    diff = pos.mean() - neg.mean()
    if sd < 1e-12:
        return 0.0 if abs(diff) < 1e-12 else float(np.sign(diff) * np.inf)
    return float(diff / sd)


@torch.no_grad()
def _scores(model: nn.Module, x: torch.Tensor, y: torch.Tensor, keep: torch.Tensor | None):
    """Accuracy and loss with the first layer's kernels multiplied by ``keep`` (K,)."""
    conv = first_conv(model)
    saved = conv.weight.clone()
    try:
        if keep is not None:
            conv.weight.mul_(keep.view(-1, *([1] * (conv.weight.dim() - 1))))
        logits = model(x)
    finally:
        conv.weight.copy_(saved)
    loss = torch.nn.functional.cross_entropy(logits, y).item()
    acc = (logits.argmax(-1) == y).double().mean().item()
    return acc, loss


def _r(v, nd=4):
    """Round for JSON (keeps explanations identical across runs and short)."""
    if v is None or isinstance(v, str):
        return v
    v = float(v)
    if not np.isfinite(v):
        return None
    return round(v, nd)


def explain(
    model: nn.Module,
    *,
    test_x: np.ndarray,
    test_y: np.ndarray,
    test_root_bin: np.ndarray,
    probes: Probes,
    labels=("maj", "min"),
    groups: np.ndarray | None = None,
) -> dict:
    """Measure what every kernel of ``model``'s first convolution layer does.

    Parameters
    ----------
    model : torch.nn.Module
        A chordscope model returning logits. Contributions need a ``dense`` layer fed by the
        pooled first-layer activations (the tutorial's ``SeedCNN``); without one they are omitted.
    test_x : np.ndarray [shape=(n, 1, n_bins, n_frames)]
    test_y : np.ndarray [shape=(n,)], int class indices
    test_root_bin : np.ndarray [shape=(n,)], int  CQT bin of each test chord's root
    probes : Probes
    labels : sequence of str  class names (two classes: selectivity is class 1 against class 0)
    groups : np.ndarray [shape=(n,)], int, optional
        The two-class label (0 or 1, named by ``labels``) of each test input for selectivity and
        "where it looks", when the model has more classes than two (a ``ChordCNN``: 0 = maj,
        1 = min); accuracy and ablation always use ``test_y``. Default: ``test_y``.

    Returns
    -------
    explanation : dict (JSON-ready)
        ``{"model": {...}, "baseline": {...}, "thresholds": {...}, "kernels": [per kernel]}``;
        each kernel entry has ``tuning``, ``where``, ``selectivity``, ``ablation``,
        ``contribution``, ``role`` and ``sentence``.

    Raises
    ------
    ParameterError
        If the probe set or the test set is empty, or their shapes do not fit the model.
    """
    if len(probes.x) == 0:
        raise ParameterError("the probe set is empty")
    if len(test_x) == 0 or len(test_x) != len(test_y) or len(test_x) != len(test_root_bin):
        raise ParameterError("the test set is empty or its arrays differ in length")
    if len(labels) != 2:
        raise ParameterError(f"explain needs two classes, got {len(labels)} labels")
    model = model.eval()
    W = first_kernels(model)
    per = bins_per_semitone_of(model)
    K, kh = W.shape[0], W.shape[2] // per  # kh: the semitones a kernel spans
    below = first_conv(model).padding[0] // per  # semitones a map row's kernel reaches below it
    try:
        maps = feature_maps(model, test_x)
        pmaps = feature_maps(model, probes.x)
    except RuntimeError as exc:
        raise ParameterError(f"inputs do not fit the model: {str(exc).splitlines()[0]}") from None
    g = np.asarray(test_y if groups is None else groups)
    if len(g) != len(test_x):
        raise ParameterError("groups must give one label per test input")
    act = pooled_activations(maps)  # (n, K)
    pact = pooled_activations(pmaps)
    x_t = torch.as_tensor(test_x)
    y_t = torch.as_tensor(np.asarray(test_y), dtype=torch.long)
    base_acc, base_loss = _scores(model, x_t, y_t, None)
    dense = getattr(model, "dense", None)
    D = (
        dense.weight.detach().numpy()
        if isinstance(dense, nn.Linear) and dense.in_features == K
        else None
    )
    flat = W.reshape(K, -1)
    norms = np.linalg.norm(flat, axis=1)
    cos = flat @ flat.T / np.maximum(np.outer(norms, norms), 1e-12)

    kernels = []
    for k in range(K):
        entry = {"kernel": k + 1}
        # --- tuning on probes
        is_iv = probes.kind == "interval"
        curve = {str(i): _r(pact[is_iv & (probes.name == str(i)), k].mean()) for i in INTERVALS}
        triads = {
            q: _r(pact[(probes.kind == "triad") & (probes.name == q), k].mean()) for q in TRIADS
        }
        vals = np.array([curve[str(i)] for i in INTERVALS[1:]], dtype=float)
        best = int(INTERVALS[1:][int(np.argmax(vals))]) if vals.max() > 0 else None
        entry["tuning"] = {
            "intervals": curve,
            "preferred_interval": best,
            "preferred_intervals": [
                int(i)
                for i, v in zip(INTERVALS[1:], vals, strict=True)
                if vals.max() > 0 and v >= 0.9 * vals.max()
            ],
            "triads": triads,
        }
        # --- where it looks (test inputs on which it is active)
        active = act[:, k] > 0
        pos = maps[:, k].max(axis=-1).argmax(axis=-1)  # row of the maximum
        offsets = pos - below - np.asarray(test_root_bin)  # of the kernel's lowest row
        where = {"typical_offset": None, "offsets": {}, "offset_by_class": {}}
        if active.any():
            vals_o, counts = np.unique(offsets[active], return_counts=True)
            where["offsets"] = {str(int(o)): int(c) for o, c in zip(vals_o, counts, strict=True)}
            mode = int(vals_o[np.argmax(counts)])
            where["typical_offset"] = mode
            where["semitones"] = [mode + j for j in range(kh)]
            where["weight_by_semitone"] = {
                str(mode + j): _r(W[k, :, per * j : per * (j + 1)].mean()) for j in range(kh)
            }
            for c, lab in enumerate(labels):
                sel = active & (g == c)
                if sel.any():
                    v, n = np.unique(offsets[sel], return_counts=True)
                    where["offset_by_class"][lab] = int(v[np.argmax(n)])
        entry["where"] = where
        # --- selectivity
        a0, a1 = act[g == 0, k], act[g == 1, k]
        auc = _auc(a0, a1)
        prefers = labels[1] if a1.mean() > a0.mean() else labels[0]
        hist_edges = np.linspace(0.0, max(float(act[:, k].max()), 1e-6), 21)
        entry["selectivity"] = {
            "mean": {labels[0]: _r(a0.mean()), labels[1]: _r(a1.mean())},
            "std": {labels[0]: _r(a0.std()), labels[1]: _r(a1.std())},
            "histogram_edges": [_r(e) for e in hist_edges],
            "histogram": {
                lab: np.histogram(a, bins=hist_edges)[0].tolist()
                for lab, a in ((labels[0], a0), (labels[1], a1))
            },
            "auc": _r(auc),
            "auc_preferred": _r(max(auc, 1 - auc)),
            "d_prime": _r(_dprime(a0, a1)),
            "prefers": prefers,
            "active_fraction": _r(active.mean()),
        }
        # --- ablation
        keep = torch.ones(K)
        keep[k] = 0
        acc_wo, loss_wo = _scores(model, x_t, y_t, keep)
        acc_only, loss_only = _scores(
            model, x_t, y_t, torch.nn.functional.one_hot(torch.tensor(k), K).float()
        )
        entry["ablation"] = {
            "accuracy_without": _r(acc_wo),
            "loss_without": _r(loss_wo),
            "accuracy_change": _r(acc_wo - base_acc),
            "loss_change": _r(loss_wo - base_loss),
            "accuracy_only_this": _r(acc_only),
        }
        # --- contribution through the dense layer
        votes = None
        if D is not None:
            means = np.array([a0.mean(), a1.mean()])
            rel = D[:, k] - D[:, k].mean()
            votes_i = int(np.argmax(rel))
            votes = labels[votes_i] if np.abs(rel).max() > 1e-6 * (1 + np.abs(D).max()) else None
            entry["contribution"] = {
                "dense_weights": {lab: _r(D[c, k]) for c, lab in enumerate(labels)},
                "logits_by_class": {
                    labels[t]: {labels[c]: _r(D[c, k] * means[t]) for c in range(2)}
                    for t in range(2)
                },
                "votes_for": votes,
                "vote_margin": _r((D[votes_i, k] - D[1 - votes_i, k]) * means[votes_i])
                if votes
                else 0.0,
            }
        dup = [j + 1 for j in range(K) if j != k and cos[k, j] >= DUPLICATE_COSINE]
        entry["duplicates"] = dup
        entry["role"] = _role(entry, D is not None)
        entry["sentence"] = _sentence(entry, len(test_x))
        kernels.append(entry)
    return {
        "model": {
            "architecture": getattr(model, "architecture", {"name": type(model).__name__}),
            "n_kernels": K,
            "bins_per_semitone": per,
        },
        "baseline": {
            "accuracy": _r(base_acc),
            "loss": _r(base_loss),
            "n_test": int(len(test_x)),
            "n_probes": int(len(probes.x)),
        },
        "labels": list(labels),
        "thresholds": {
            "detector_auc": DETECTOR_AUC,
            "redundant_accuracy": REDUNDANT_ACCURACY,
            "duplicate_cosine": DUPLICATE_COSINE,
        },
        "kernels": kernels,
    }


def _role(e: dict, has_dense: bool) -> str:
    sel, abl = e["selectivity"], e["ablation"]
    if sel["active_fraction"] == 0:
        return "dead"
    if has_dense and e["contribution"]["votes_for"] is None:
        return "unused"
    if abs(abl["accuracy_change"]) < REDUNDANT_ACCURACY:
        return "redundant"
    votes = e["contribution"]["votes_for"] if has_dense else sel["prefers"]
    if sel["auc_preferred"] >= DETECTOR_AUC and votes == sel["prefers"]:
        return f"{votes} detector"
    return "mixed"


def _sentence(e: dict, n_test: int) -> str:
    k, sel, abl, tun = e["kernel"], e["selectivity"], e["ablation"], e["tuning"]
    if e["role"] == "dead":
        return (
            f"kernel {k} is dead: its feature map never rises above 0 on the {n_test} test inputs, "
            "so it passes nothing to the dense layer."
        )
    parts = [f"kernel {k}"]
    if sel["active_fraction"] < 0.01:  # alive in name only: say so before anything else
        parts.append(
            f"almost never fires (on {100 * sel['active_fraction']:.2g} % of the test inputs)"
        )
    if tun["preferred_interval"] is not None:
        parts.append(f"fires most on {tun['preferred_interval']}-semitone intervals")
    dp = sel["d_prime"] if sel["d_prime"] is not None else float("inf")
    if sel["auc_preferred"] < CHANCE_AUC:  # no preference worth the word
        parts.append(f"tells {' from '.join(sel['mean'])} apart no better "
                     f"than chance (AUC {sel['auc_preferred']:.2f})")  # fmt: skip
    else:
        parts.append(f"prefers {sel['prefers']} (AUC {sel['auc_preferred']:.2f}, d′ {dp:.1f})")

    c = e.get("contribution")
    if c is not None:
        parts.append(
            "votes for no class (equal dense weights)"
            if c["votes_for"] is None
            else f"votes {c['votes_for']} ({c['vote_margin']:+.1f})"
        )
    if abs(abl["accuracy_change"]) < REDUNDANT_ACCURACY:
        parts.append(f"removing it leaves accuracy at {abl['accuracy_without']:.2f}")
    else:
        parts.append(f"removing it drops accuracy to {abl['accuracy_without']:.2f}")
    return ", ".join(parts) + f": {e['role']}."


def explain_tutorial(model: nn.Module, config=None, *, n_test_patterns: int = 100) -> dict:
    """:func:`explain` on the tutorial's fixed test set and sine probes (for ``SeedCNN`` models).

    Parameters
    ----------
    model : torch.nn.Module
    config : CQTConfig, optional
        The model's feature parameters (``model.json`` ``features``); default the tutorial's.
    """
    config = config or TUTORIAL_CQT
    inputs = tutorial_inputs(config=config)
    x, y = test_set(inputs, n_test_patterns)
    bins = np.round(config.bins_per_octave * np.log2(inputs.roots_hz / config.fmin)).astype(int)
    C = inputs.x.shape[0]
    root_bin = np.tile(np.tile(bins, C), n_test_patterns)
    return explain(
        model, test_x=x, test_y=y, test_root_bin=root_bin, probes=tutorial_probes(config)
    )


def explain_chordcnn(model: nn.Module, meta: dict, *, n_test: int = 1200, seed: int = 0) -> dict:
    """:func:`explain` for a ``ChordCNN`` (``chordscope train``): its first layer, on maj / min.

    The test set is ``n_test`` clean additive chords of the model's vocabulary, roots in
    octave 3 (the root bin is then known), drawn from the dataset's ``test`` split; selectivity
    compares major with minor chords (other qualities and ``N`` count for accuracy only).
    """
    vocab = meta.get("vocabulary", {}).get("name", "majmin")
    try:  # the model's own input, as predict reads it
        features = RecogniserInput.from_json(meta["features"])
    except (KeyError, TypeError, ValueError, ChordscopeError) as exc:
        raise ChordscopeError(f"model.json lacks usable features ({exc})") from None
    n_context, c = features.n_context, features.cqt
    data = ChordDataConfig(
        cqt=c,
        gain=features.gain,
        vocab=vocab,
        synths=("additive",),
        octaves=(3,),
        snr_db=None,
        reverb=0.0,
        n_context=n_context,
    )
    with warnings.catch_warnings():  # as in chord_probes
        warnings.filterwarnings("ignore", message="n_fft=.*is too large for input signal")
        x, y, labels = chord_examples(data, n_test, split_rng(seed, "test"))
    quality = [lab.split(":")[1] if ":" in lab else "N" for lab in labels]
    keep = np.array([q in ("maj", "min") for q in quality])
    if not keep.any():
        raise ChordscopeError(f"vocabulary {vocab!r} has no maj or min chords to explain")
    groups = np.array([1 if q == "min" else 0 for q in quality])
    pc = np.array([PITCH_NAMES.index(lab.split(":")[0]) if ":" in lab else 0 for lab in labels])
    root_hz = 440.0 * 2.0 ** ((48 + pc - 69) / 12)  # octave 3: MIDI 48 (C3) + pitch class
    root_bin = np.round(c.bins_per_octave * np.log2(root_hz / c.fmin)).astype(int)
    root_bin //= bins_per_semitone(c)  # the row of the feature maps, which are in semitones
    probes = chord_probes(c, n_context=n_context, gain=features.gain)
    return explain(
        model,
        test_x=x[keep],
        test_y=y[keep],
        test_root_bin=root_bin[keep],
        probes=probes,
        groups=groups[keep],
    )


def explain_file(path) -> tuple[dict, nn.Module, dict]:
    """Load a model (run folder or ``.safetensors``) and explain it.

    Returns ``(explanation, model, meta)``.

    Raises :class:`~chordscope.errors.ModelFileError` for a missing or corrupt model and
    :class:`ChordscopeError` for a model this function cannot probe.
    """
    model, meta = load_model(path)
    if hasattr(model, "frame_logits"):  # a recogniser (ChordCNN, ChordTCN): read conv1
        return explain_chordcnn(model, meta), model, meta
    try:
        config = CQTConfig(**meta["features"]) if "features" in meta else None
    except TypeError as exc:
        raise ChordscopeError(
            f"{path}: model.json has unknown feature parameters ({exc})"
        ) from None
    labels = tuple(meta.get("vocabulary", {}).get("labels", ("maj", "min")))
    if labels != ("maj", "min"):
        raise ChordscopeError(
            f"{path}: explain probes the tutorial's maj/min task; this model's classes are {labels}"
        )
    return explain_tutorial(model, config), model, meta
