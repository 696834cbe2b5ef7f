"""chordscope's own evaluation set: short songs rendered by FluidSynth, with ``.lab`` references.

Conventions
-----------
- A song is a chord progression in a random key (diatonic chords with sevenths, the occasional
  borrowed, suspended or diminished chord), at a tempo of 60–160 bpm, one chord per bar or
  half-bar, played by a General-MIDI chord instrument (block chords or arpeggios, with drawn
  voicings), a bass line on the roots and, in about half of the songs, drums. It starts and ends
  with ``N`` (silence, then only the drums if there are any). The last chord is labelled
  while it sounds: into the final ``N`` until its chord and bass parts have died away by
  :data:`~chordscope.songs.RING_OUT_DB` (:func:`sounding_chords`; format 2, 2026-12-01; format 1
  labelled ``N`` from the last note-off).
- Everything is drawn from ``numpy.random.SeedSequence([EVAL_SEED, i])`` for song ``i``: training
  streams (``SeedSequence([run_seed, k])`` with small ``run_seed``) never use ``EVAL_SEED``.
  The same seed gives byte-identical files (FluidSynth renders offline with reverb and chorus
  off).
- Files per song: ``songNNN.wav`` (16-bit mono), ``songNNN.lab`` (MIREX: start, end, Harte label),
  ``songNNN.json`` (tempo, key, programs, seed, ``ring_out_db``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .chords import PITCH_NAMES
from .errors import ParameterError, valid_non_negative_int, valid_positive_int
from .io import write_json, write_lab, write_wav
from .songs import (
    BASS_PROGRAMS,
    CHORD_PROGRAMS,
    EVAL_SEED,
    RING_OUT_DB,
    Song,
    play_song,
    render_song,
    ring_out,
)
from .synth import SR, soundfont_path

__all__ = [
    "Song",
    "compose_song",
    "render_song",
    "sounding_chords",
    "write_evalset",
    "EVAL_SEED",
    "EVALSET_FORMAT",
]

#: Version of the files :func:`write_evalset` writes; 2: a chord is labelled while it sounds.
EVALSET_FORMAT = 2

# diatonic degrees of a major key: (semitones above the tonic, triad, seventh)
MAJOR_DEGREES = [
    (0, "maj", "maj7"),
    (2, "min", "min7"),
    (4, "min", "min7"),
    (5, "maj", "maj7"),
    (7, "maj", "7"),
    (9, "min", "min7"),
    (11, "dim", "hdim7"),
]
MINOR_DEGREES = [
    (0, "min", "min7"),
    (2, "dim", "hdim7"),
    (3, "maj", "maj7"),
    (5, "min", "min7"),
    (7, "maj", "7"),
    (8, "maj", "maj7"),
    (10, "maj", "7"),
]
COLOURS = ["sus4", "sus2", "aug", "dim7"]


def compose_song(index: int, *, seed: int = EVAL_SEED, n_bars: int = 8) -> Song:
    """Compose song ``index`` of the evaluation set drawn from ``seed`` (see module docstring)."""
    index = valid_non_negative_int("index", index)
    n_bars = valid_positive_int("n_bars", n_bars)
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    tempo = float(rng.uniform(60, 160))
    beat = 60.0 / tempo
    tonic = int(rng.integers(12))
    minor = bool(rng.random() < 0.4)
    degrees = MINOR_DEGREES if minor else MAJOR_DEGREES
    key = f"{PITCH_NAMES[tonic]}:{'min' if minor else 'maj'}"
    lead_in = float(rng.uniform(0.5, 1.5))
    labels, lengths = [], []
    for _ in range(n_bars):
        for _ in range(1 if rng.random() < 0.6 else 2):  # one chord per bar or two
            iv, triad, seventh = degrees[int(rng.integers(len(degrees)))]
            r = rng.random()
            quality = seventh if r < 0.45 else triad
            if r > 0.92:
                quality = COLOURS[int(rng.integers(len(COLOURS)))]
            labels.append(f"{PITCH_NAMES[(tonic + iv) % 12]}:{quality}")
        lengths += [4 * beat / (len(labels) - len(lengths))] * (len(labels) - len(lengths))
    chords = [(0.0, lead_in, "N")]
    t = lead_in
    for lab, d in zip(labels, lengths, strict=True):
        chords.append((t, t + d, lab))
        t += d
    tail = float(rng.uniform(0.5, 1.5))
    chords.append((t, t + tail, "N"))
    song = Song(
        seed=[int(seed), int(index)],
        tempo=tempo,
        key=key,
        chords=chords,
        chord_program=int(CHORD_PROGRAMS[int(rng.integers(len(CHORD_PROGRAMS)))]),
        bass_program=int(BASS_PROGRAMS[int(rng.integers(len(BASS_PROGRAMS)))]),
        drums=bool(rng.random() < 0.5),
        style="arpeggio" if rng.random() < 0.3 else "block",
        duration=t + tail,
    )
    return play_song(song, rng, lead_in=lead_in, tail=tail)


def sounding_chords(song: Song, y: np.ndarray, *, sr: int, soundfont: str) -> list:
    """Return the reference of ``song`` rendered as ``y``: its chords, labelled while they sound.

    The last chord is labelled into the final ``N`` until the chord and bass parts have fallen
    :data:`~chordscope.songs.RING_OUT_DB` below their loudest (:func:`chordscope.songs.ring_out`),
    measured without the drums, which play on into the silence.
    """
    if song.drums:
        y = render_song(song, sr=sr, soundfont=soundfont, parts=("chords", "bass"))
    return ring_out(song.chords, y, sr, drop_db=RING_OUT_DB)


def write_evalset(
    out,
    *,
    n_songs: int = 20,
    seed: int = EVAL_SEED,
    n_bars: int = 8,
    sr: int = SR,
    soundfont: str = "fluidr3",
    progress=None,
) -> list[Path]:
    """Compose, render and write ``n_songs`` songs (``.wav``, ``.lab``, ``.json``) into ``out``.

    Returns
    -------
    list of Path  the ``.wav`` files.
    """
    n_songs = valid_positive_int("songs", n_songs)
    seed = valid_non_negative_int("seed", seed)
    soundfont_path(soundfont)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"output path {out} exists and is not a folder")
    paths = []
    for i in range(n_songs):
        song = compose_song(i, seed=seed, n_bars=n_bars)
        y = render_song(song, sr=sr, soundfont=soundfont)
        segments = sounding_chords(song, y, sr=sr, soundfont=soundfont)
        stem = out / f"song{i:03d}"
        write_lab(stem.with_suffix(".lab"), [s[:2] for s in segments], [s[2] for s in segments])
        meta = {**song.to_json(), "sr": sr, "soundfont": soundfont, "ring_out_db": RING_OUT_DB}
        write_json(stem.with_suffix(".json"), meta)
        paths.append(write_wav(stem.with_suffix(".wav"), y, sr))
        if progress is not None:
            progress(1)
    return paths
