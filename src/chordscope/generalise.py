"""The generalisation matrix: what a recogniser trained on one kind of sound can label.

Conventions
-----------
- One ``majmin`` :class:`~chordscope.models.ChordCNN` per training condition
  (:data:`TRAINING`: sine, additive, pluck, SoundFont, all four together), each trained by
  :func:`chordscope.fit.train_chords` on a fixed pool of clean 1-second chord clips with roots
  :data:`TRAIN_ROOTS`, octaves :data:`TRAIN_OCTAVES` and GM programs :data:`TRAIN_PROGRAMS` of
  FluidR3; and one (``songs``) on the frames of clean rendered songs with the same roots,
  octave, programs and SoundFont; and one (``music``) on excerpts of the clean musical training
  songs (:mod:`chordscope.songs`: progressions, voicings, bass lines; FluidR3; no noise, reverb
  or mp3; a ``ChordCNN``, whose 7 frames fit a clip), which play every
  root, 35 GM programs and several octaves, so its held-out programs, roots and octaves cells
  are not held out and stay empty (:data:`NOT_HELD_OUT`; ``None`` in the JSON).
  :func:`chordscope.runs.run_generalisation` writes each
  model as a normal run folder (``models/<condition>/``: report, kernels, ``chordscope
  explain`` works on it) beside the matrix (``generalisation.json``, its figure and report).
- Every model is tested on every column of :func:`test_conditions`: the four sounds; SoundFont
  with held-out programs; the other SoundFont (TimGM6mb); then, on the model's own training
  sound, held-out roots (scored on the chord quality only: their classes never occur in
  training), held-out octaves and white or pink noise at 20, 10 and 0 dB SNR; and the
  evaluation set (:mod:`chordscope.evalset`), labelled by :func:`chordscope.recognise.predict`
  and scored ``majmin`` by mir_eval, duration-weighted.
- Test clips come from the dataset's ``test`` split, the same seed for every model, so each
  column is one fixed set of clips (the own-sound columns are one set per model).
- ``quick=True`` shrinks everything (pools, steps, test sets, songs) so the whole matrix takes
  a few minutes on 2 cores; its numbers are not meant to be quoted.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .datasets import ChordDataConfig, chord_examples, split_rng
from .evaluate import classification_scores, pool, score_segments
from .fit import TrainConfig
from .recognise import load_recogniser, predict

__all__ = [
    "TRAINING",
    "TRAIN_PROGRAMS",
    "HELD_OUT_PROGRAMS",
    "TRAIN_ROOTS",
    "HELD_OUT_ROOTS",
    "TRAIN_OCTAVES",
    "HELD_OUT_OCTAVES",
    "SIZES",
    "NOT_HELD_OUT",
    "test_conditions",
    "generalisation_matrix",
    "summarise",
]

TRAIN_PROGRAMS = (0, 24, 48)  # acoustic grand piano, nylon guitar, string ensemble
HELD_OUT_PROGRAMS = (4, 19, 56, 73)  # electric piano, church organ, trumpet, flute
TRAIN_ROOTS = tuple(range(10))  # C .. A
HELD_OUT_ROOTS = (10, 11)  # A#, B
TRAIN_OCTAVES = (3,)  # voicings rooted in octave 3 (bass, spread and doublings reach further)
HELD_OUT_OCTAVES = (4,)  # every voicing an octave higher (octave 5 would pass 8 kHz)

#: Training conditions: the synthesis kinds of each model's clips. ``songs`` trains on the frames
#: of rendered songs instead (bass, drums, chord changes, rests), played by the same three
#: SoundFont programs with the same roots and octave: the one difference from ``soundfont`` is
#: musical context, so the two rows compare clips with songs at equal timbre.
TRAINING = {
    "sine": ("sine",),
    "additive": ("additive",),
    "pluck": ("pluck",),
    "soundfont": ("soundfont",),
    "all": ("sine", "additive", "pluck", "soundfont"),
    "songs": ("soundfont",),
    "music": ("soundfont",),  # its own-sound columns: SoundFont clips
}
SONGS = "songs"
MUSIC = "music"

#: Sizes of the full and the quick matrix.
SIZES = {
    "full": {
        "n_pool": 12000,
        "n_songs": 300,
        "steps": 3000,
        "batch_size": 128,
        "n_test": 1000,
        "songs": 20,
    },
    "quick": {
        "n_pool": 400,
        "n_songs": 3,
        "steps": 60,
        "batch_size": 64,
        "n_test": 48,
        "songs": 1,
    },
}

EVALSET = "evaluation set"
ROOTS_COLUMN = "held-out roots (quality)"  # scored on N / maj / min only (see _accuracy)

#: Cells that are not held out for a row, left empty: the musical songs play every root, the
#: held-out programs are among their 35 chord programs, and their voicings span octaves 2–5.
NOT_HELD_OUT = {MUSIC: ("held-out programs", ROOTS_COLUMN, "held-out octaves")}


def _base():
    return ChordDataConfig(
        vocab="majmin",
        programs=TRAIN_PROGRAMS,
        soundfonts=("fluidr3",),
        roots=TRAIN_ROOTS,
        octaves=TRAIN_OCTAVES,
        snr_db=None,
        reverb=0.0,
    )


def test_conditions(train: str) -> dict:
    """Test columns for the model trained on ``train``: name → ``(ChordDataConfig, noise)``.

    ``noise`` is ``None`` or an SNR in dB (white or pink noise, drawn per clip, is added at that
    SNR). The evaluation set is a separate column (not a clip set).
    """
    base = _base()
    own = replace(base, synths=TRAINING[train])
    return {
        "sine": (replace(base, synths=("sine",)), None),
        "additive": (replace(base, synths=("additive",)), None),
        "pluck": (replace(base, synths=("pluck",)), None),
        "soundfont": (replace(base, synths=("soundfont",)), None),
        "held-out programs": (
            replace(base, synths=("soundfont",), programs=HELD_OUT_PROGRAMS),
            None,
        ),
        "other SoundFont": (replace(base, synths=("soundfont",), soundfonts=("timgm6mb",)), None),
        ROOTS_COLUMN: (replace(own, roots=HELD_OUT_ROOTS), None),
        "held-out octaves": (replace(own, octaves=HELD_OUT_OCTAVES), None),
        "noise 20 dB": (own, 20.0),
        "noise 10 dB": (own, 10.0),
        "noise 0 dB": (own, 0.0),
    }


def _config(train: str, size: dict, seed: int):
    if train == MUSIC:  # a ChordCNN (7 frames, so it labels clips) on excerpts of clean songs
        kind = {
            "data": "music",
            "model": "ChordCNN",
            "batch_size": max(2, size["batch_size"] // 8),  # excerpts of 128 frames
        }
    else:
        kind = {"data": "songs" if train == SONGS else "chords", "batch_size": size["batch_size"]}
    return TrainConfig(
        vocab="majmin",
        synths=TRAINING[train],
        programs=TRAIN_PROGRAMS,
        soundfonts=("fluidr3",),
        roots=TRAIN_ROOTS,
        octaves=TRAIN_OCTAVES,
        snr_db=(),
        reverb=0.0,
        n_songs=size["n_songs"],
        n_pool=size["n_pool"] if kind["data"] == "chords" else 0,
        steps=size["steps"],
        **kind,
        n_val=min(512, size["n_test"]),
        n_test=size["n_test"],
        eval_every=max(1, size["steps"] // 6),
        checkpoint_every=size["steps"],
        seed=seed,
        device="cpu",
    )


def _test_set(config, noise, n: int, seed: int):
    """Clips of ``config``'s ``test`` split, with noise at ``noise`` dB SNR if given."""
    if noise is not None:  # the dataset adds it to the audio, at an SNR drawn from [noise, noise]
        config = replace(config, snr_db=(noise, noise))
    x, y, _ = chord_examples(config, n, split_rng(seed, "test"))
    return x, y


def _accuracy(model, x, y, *, quality_only: bool = False) -> float:
    """Clip accuracy; with ``quality_only``, whether N / maj / min is right, whatever the root.

    A class the model never saw in training (the held-out roots' chords) cannot be predicted,
    so on held-out roots the question is whether the chord *quality* transfers.
    """
    if not quality_only:
        return classification_scores(model, x, y)["accuracy"]
    with torch.no_grad():
        pred = torch.cat([model(torch.as_tensor(x[i : i + 4096])) for i in range(0, len(x), 4096)])
    pred = pred.argmax(-1).numpy()

    def quality(c):
        return np.where(c == 0, -1, (c - 1) % 2)  # majmin: N, then (maj, min) per root

    return float(np.mean(quality(pred) == quality(np.asarray(y))))


def _evalset_score(model_dir: Path, songs: Path, n_songs: int) -> float:
    rec = load_recogniser(model_dir)
    total = pool(
        score_segments(songs / f"song{i:03d}.lab", predict(songs / f"song{i:03d}.wav", rec))
        for i in range(n_songs)
    )["majmin"]
    return float("nan") if total is None else total


def generalisation_matrix(songs, *, train, quick: bool = False, seed: int = 0, progress=None):
    """Train one model per training condition and test each on every condition.

    Parameters
    ----------
    songs : path-like  a folder holding the evaluation set (``songNNN.wav`` / ``.lab``) of
        ``SIZES[...]["songs"]`` songs
    train : callable  ``train(condition, config)`` trains and saves one model and returns its
        :class:`~chordscope.fit.FitResult` (``out`` must be a loadable model folder);
        :func:`chordscope.runs.run_generalisation` passes one that writes a run folder
    quick : bool  the small matrix (minutes; for tests)
    seed : int  seeds the training data, the weights and the test clips
    progress : callable, optional  called with 1 after each model is trained and tested, and
        as ``progress(0, phase=...)`` before each

    Returns
    -------
    dict  ``train``, ``test``, ``accuracy`` (rows × columns), ``quick``, ``seed``,
    ``settings``, ``seconds`` and ``summary`` (the sentences of :func:`summarise`).
    """
    songs = Path(songs)
    size = SIZES["quick" if quick else "full"]
    t0 = time.perf_counter()
    shared = {}  # test sets that do not depend on the model
    rows = []
    for i, condition in enumerate(TRAINING):
        if progress is not None:
            progress(0, phase=f"training on {condition} ({i + 1} of {len(TRAINING)}), then testing")
        fitted = train(condition, _config(condition, size, seed))
        model = fitted.model.cpu().eval()
        row = {}
        for name, (data, noise) in test_conditions(condition).items():
            if name in NOT_HELD_OUT.get(condition, ()):
                row[name] = float("nan")
                continue
            own = name.startswith(("held-out roots", "held-out octaves", "noise"))
            key = (condition, name) if own else name
            if key not in shared:
                shared[key] = _test_set(data, noise, size["n_test"], seed)
            row[name] = _accuracy(model, *shared[key], quality_only=name == ROOTS_COLUMN)
            if own:
                del shared[key]
        row[EVALSET] = _evalset_score(fitted.out, songs, size["songs"])
        rows.append(row)
        if progress is not None:
            progress(1)
    columns = list(rows[0])
    matrix = np.array([[r[c] for c in columns] for r in rows])
    result = {
        "train": list(TRAINING),
        "test": columns,
        "accuracy": [[None if v != v else v for v in r] for r in matrix.round(4).tolist()],
        "quick": quick,
        "seed": seed,
        "settings": {
            **size,
            "vocab": "majmin",
            "train_programs": list(TRAIN_PROGRAMS),
            "held_out_programs": list(HELD_OUT_PROGRAMS),
            "train_roots": list(TRAIN_ROOTS),
            "held_out_roots": list(HELD_OUT_ROOTS),
            "train_octaves": list(TRAIN_OCTAVES),
            "held_out_octaves": list(HELD_OUT_OCTAVES),
            "not_held_out": {k: list(v) for k, v in NOT_HELD_OUT.items()},
            "metric": "clip accuracy (test split); evaluation set: mir_eval majmin, "
            "duration-weighted",
        },
        "seconds": round(time.perf_counter() - t0, 1),
    }
    result["summary"] = summarise(result)  # the report renders these sentences as they are
    return result


def summarise(result: dict) -> list[str]:
    """Say what a generalisation matrix shows, in plain sentences computed from its numbers."""
    train, test = result["train"], result["test"]
    A = np.asarray(result["accuracy"], dtype=float)
    col = {name: j for j, name in enumerate(test)}
    lines = []
    for i, t in enumerate(train):
        if t == SONGS and "soundfont" in train and EVALSET in col:
            j, k = col[EVALSET], train.index("soundfont")
            lines.append(
                f"Same timbre, clips or songs: trained on the frames of songs played by the "
                f"SoundFont programs, a model labels the evaluation songs at {A[i, j]:.2f}, "
                f"against {A[k, j]:.2f} when trained on isolated clips of the same programs; "
                f"on the clips themselves it gets {A[i, col['soundfont']]:.2f} "
                f"(against {A[k, col['soundfont']]:.2f})."
            )
        if t in col:
            others = [A[i, col[s]] for s in TRAINING if s in col and s != t]
            lines.append(
                f"Trained on {t}: {A[i, col[t]]:.2f} on its own sound, "
                f"{np.mean(others):.2f} on average over the other three sounds."
            )
    if EVALSET in col:
        j = col[EVALSET]
        best = int(np.argmax(A[:, j]))
        lines.append(
            f"On the rendered evaluation songs (mir_eval majmin) the model trained on "
            f"{train[best]} does best ({A[best, j]:.2f}); "
            + ", ".join(f"{t} {A[i, j]:.2f}" for i, t in enumerate(train) if i != best)
            + "."
        )
    if MUSIC in train and EVALSET in col:
        i = train.index(MUSIC)
        sounds = [col[s] for s in ("sine", "additive", "pluck", "soundfont") if s in col]
        songs = ""
        if SONGS in train:
            songs = f" (the songs row: {A[train.index(SONGS), col[EVALSET]]:.2f})"
        other = (
            f", {A[i, col['other SoundFont']]:.2f} on the other SoundFont"
            if "other SoundFont" in col
            else ""
        )
        lines.append(
            f"Trained on musical songs (every root, 35 programs, voicings and bass lines), a "
            f"7-frame model labels the evaluation songs at {A[i, col[EVALSET]]:.2f}{songs}; on "
            f"isolated clips it gets {np.mean(A[i, sounds]):.2f} over the four sounds{other}."
        )
    means = {name: float(np.nanmean(A[:, j])) for name, j in col.items() if name != EVALSET}
    hardest = min(means, key=means.get)
    lines.append(
        f"The hardest test condition over all models is {hardest} (mean {means[hardest]:.2f})."
    )
    if ROOTS_COLUMN in col:
        own = [A[i, col[t]] for i, t in enumerate(train) if t in col]
        held = [A[i, col[ROOTS_COLUMN]] for i, t in enumerate(train) if t in col]
        drop = float(np.mean(own) - np.mean(held))
        lines.append(
            f"On roots never seen in training (A#, B) the chord quality (N, maj or min) is right "
            f"for {np.mean(held):.2f} of the clips on average; the same models get "
            f"{np.mean(own):.2f} of the full labels right on the training roots ({-drop:+.2f})."
        )
    return lines
