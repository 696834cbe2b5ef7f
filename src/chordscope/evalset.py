"""chordscope's own evaluation set: short songs rendered by FluidSynth, with ``.lab`` references.

Conventions
-----------
- A song is a chord progression in a random key (diatonic chords with sevenths, the occasional
  borrowed, suspended or diminished chord), at a tempo of 60–160 bpm, one chord per bar or
  half-bar, played by a General-MIDI chord instrument (block chords or arpeggios, with drawn
  voicings), a bass line on the roots and, in about half of the songs, drums. It starts and ends
  with ``N`` (silence, then only the drums if there are any).
- Everything is drawn from ``numpy.random.SeedSequence([EVAL_SEED, i])`` for song ``i``: training
  streams (``SeedSequence([run_seed, k])`` with small ``run_seed``) never use ``EVAL_SEED``.
  The same seed gives byte-identical files (FluidSynth renders offline with reverb and chorus
  off).
- Files per song: ``songNNN.wav`` (16-bit mono), ``songNNN.lab`` (MIREX: start, end, Harte label),
  ``songNNN.json`` (tempo, key, programs, seed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ParameterError, valid_non_negative_int, valid_positive_int

__all__ = ["Song", "compose_song", "render_song", "write_evalset", "EVAL_SEED"]

EVAL_SEED = 7_770_001
CHORD_PROGRAMS = (
    0,
    2,
    4,
    16,
    19,
    24,
    25,
    26,
    48,
    49,
    88,
    89,
)  # pianos, organs, guitars, strings, pads
BASS_PROGRAMS = (32, 33, 34, 35, 38)
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


@dataclass
class Song:
    """A composed song: its chords (with times) and how it is played."""

    seed: list
    tempo: float
    key: str
    chords: list  # [(start_s, end_s, label)]
    chord_program: int
    bass_program: int
    drums: bool
    style: str  # "block" or "arpeggio"
    duration: float
    notes: dict = field(default_factory=dict)  # program/"drums" -> [(pitch, start, end, velocity)]
    octaves: tuple = (4,)  # the chord instrument's octave: fixed, or drawn per chord in lo..hi

    def to_json(self) -> dict:
        """Metadata (no notes)."""
        return {
            "seed": self.seed,
            "tempo": round(self.tempo, 3),
            "key": self.key,
            "chord_program": self.chord_program,
            "bass_program": self.bass_program,
            "drums": self.drums,
            "style": self.style,
            "duration": round(self.duration, 6),
            "n_chords": sum(1 for c in self.chords if c[2] != "N"),
        }


def compose_song(index: int, *, seed: int = EVAL_SEED, n_bars: int = 8) -> Song:
    """Compose song ``index`` of the evaluation set drawn from ``seed`` (see module docstring)."""
    from .chords import PITCH_NAMES

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
    return _arrange(song, rng, lead_in=lead_in, tail=tail)


def _arrange(song: Song, rng: np.random.Generator, *, lead_in: float, tail: float) -> Song:
    """Fill ``song.notes``: the chord instrument (block or arpeggio), a bass line on the roots
    (if ``song.bass_program`` is not ``None``) and, if ``song.drums``, kick, snare and hi-hat."""
    from .chords import voicing

    beat = 60.0 / song.tempo
    chords = song.chords
    chord_notes, bass_notes, drum_notes = [], [], []
    for start, end, lab in chords[1:-1]:
        if lab == "N":  # a rest inside a training song
            continue
        notes = voicing(
            lab,
            rng=rng,
            octave=(
                song.octaves[0]
                if len(song.octaves) == 1
                else int(rng.integers(song.octaves[0], song.octaves[-1] + 1))
            ),
            bass=False,
            strum=0.02,
        )
        if song.style == "block":
            chord_notes += [(p, start + o, end, v) for p, o, v in notes]
        else:
            step = beat / 2
            k = 0
            while start + k * step < end - 1e-9:
                p, _, v = notes[k % len(notes)]
                chord_notes.append((p, start + k * step, end, v))
                k += 1
        root = int(round(min(p for p, _, _ in voicing(lab)))) % 12
        n_beats = max(1, int(round((end - start) / beat)))
        for b in range(n_beats if song.bass_program is not None else 0):
            bass_notes.append((36 + root, start + b * beat, start + (b + 1) * beat, 0.8))
    if song.drums:
        n_beats = int((song.duration - 0.5) / beat)
        for b in range(n_beats):
            tb = lead_in * 0.5 + b * beat
            if tb + beat > song.duration - tail * 0.5:
                break
            drum_notes.append((36 if b % 2 == 0 else 38, tb, tb + 0.1, 0.7))  # kick / snare
            drum_notes.append((42, tb, tb + 0.05, 0.5))  # closed hi-hat
            drum_notes.append((42, tb + beat / 2, tb + beat / 2 + 0.05, 0.4))
    song.notes = {"chords": chord_notes, "bass": bass_notes, "drums": drum_notes}
    return song


#: Qualities of random training songs and how often each is drawn (common ones more often).
TRAINING_QUALITIES = {
    "maj": 4,
    "min": 4,
    "7": 2,
    "maj7": 2,
    "min7": 2,
    "dim": 1,
    "aug": 0.5,
    "sus2": 0.5,
    "sus4": 1,
    "hdim7": 1,
    "dim7": 0.5,
}


def training_song(
    index: int,
    *,
    seed: int,
    programs=CHORD_PROGRAMS,
    n_chords: int = 16,
    qualities: dict | None = None,
    roots=tuple(range(12)),
    octaves=(3, 4),
) -> Song:
    """A random song for training: chords drawn uniformly over roots and by weight over
    qualities (not a key), played like an evaluation song.

    Compared with :func:`compose_song`: any root and quality in any order, chords of 1 to 8
    beats, rests (``N``) inside the song, the chord instrument in one of ``octaves`` per chord,
    a bass line in 70 % of songs, drums in half. ``seed`` must differ from :data:`EVAL_SEED`
    (it is checked).

    Examples
    --------
    >>> s = training_song(0, seed=1, n_chords=4)
    >>> s.chords[0][2], s.chords[-1][2], len(s.chords) >= 6
    ('N', 'N', True)
    """
    from .chords import PITCH_NAMES

    index = valid_non_negative_int("index", index)
    n_chords = valid_positive_int("n_chords", n_chords)
    if seed == EVAL_SEED:
        raise ParameterError("training songs must not use the evaluation set's seed")
    octaves = tuple(int(o) for o in octaves)
    if not octaves or octaves != tuple(range(octaves[0], octaves[0] + len(octaves))):
        raise ParameterError(f"octaves={octaves!r} must be consecutive octaves, lowest first")
    qualities = dict(qualities or TRAINING_QUALITIES)
    names = list(qualities)
    weights = np.array([qualities[q] for q in names], dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 30, index]))
    tempo = float(rng.uniform(60, 180))
    beat = 60.0 / tempo
    lead_in, tail = float(rng.uniform(0.3, 1.5)), float(rng.uniform(0.3, 1.5))
    chords = [(0.0, lead_in, "N")]
    t = lead_in
    for _ in range(n_chords):
        d = beat * float(rng.choice([1, 2, 2, 4, 4, 4, 8]))
        if rng.random() < 0.05:
            lab = "N"
        else:
            root = int(roots[int(rng.integers(len(roots)))])
            quality = names[int(rng.choice(len(names), p=weights / weights.sum()))]
            lab = f"{PITCH_NAMES[root]}:{quality}"
        chords.append((t, t + d, lab))
        t += d
    chords.append((t, t + tail, "N"))
    song = Song(
        seed=[int(seed), 30, int(index)],
        tempo=tempo,
        key="random",
        chords=chords,
        chord_program=int(programs[int(rng.integers(len(programs)))]),
        bass_program=(
            int(BASS_PROGRAMS[int(rng.integers(len(BASS_PROGRAMS)))])
            if rng.random() < 0.7
            else None
        ),
        drums=bool(rng.random() < 0.5),
        style="arpeggio" if rng.random() < 0.3 else "block",
        duration=t + tail,
        octaves=octaves,
    )
    return _arrange(song, rng, lead_in=lead_in, tail=tail)


def render_song(song: Song, *, sr: int = 16000, soundfont: str = "fluidr3") -> np.ndarray:
    """Render a composed song to mono audio with FluidSynth (peak normalised to 0.9)."""
    import pretty_midi

    from .synth import midi_notes, normalise_peak, render_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=song.tempo)
    for name, program, is_drum in (
        ("chords", song.chord_program, False),
        ("bass", song.bass_program or 0, False),
        ("drums", 0, True),
    ):
        if not song.notes.get(name):
            continue
        inst = midi_notes(song.notes[name], program=program, is_drum=is_drum)
        inst.name = name
        pm.instruments.append(inst)
    return normalise_peak(render_midi(pm, duration=song.duration, sr=sr, soundfont=soundfont))


def write_evalset(
    out,
    *,
    n_songs: int = 20,
    seed: int = EVAL_SEED,
    n_bars: int = 8,
    sr: int = 16000,
    soundfont: str = "fluidr3",
    progress=None,
) -> list[Path]:
    """Compose, render and write ``n_songs`` songs (``.wav``, ``.lab``, ``.json``) into ``out``.

    Returns
    -------
    list of Path  the ``.wav`` files.
    """
    from .io import write_json, write_lab, write_wav
    from .synth import soundfont_path

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
        stem = out / f"song{i:03d}"
        write_lab(
            stem.with_suffix(".lab"),
            [(s, e) for s, e, _ in song.chords],
            [c[2] for c in song.chords],
        )
        write_json(stem.with_suffix(".json"), {**song.to_json(), "sr": sr, "soundfont": soundfont})
        paths.append(write_wav(stem.with_suffix(".wav"), y, sr))
        if progress is not None:
            progress(1)
    return paths
