"""Chords as pitch sets: roots, intervals and vocabularies.

Conventions
-----------
- Intervals are counted in semitones above the root (0 = root, 3 = minor third, 4 = major third).
- The tutorial's roots are the twelve equal-tempered pitches from A4 upwards:
  ``440 * 2 ** (k / 12)`` Hz for ``k = 0 .. 11``.
- A vocabulary is an ordered list of class labels; the class index of a label is its position.
  ``model.json`` stores the labels, so a model file says what its outputs mean.
- The ``seed`` vocabulary is the tutorial's: a root plus its major third (class 0, ``maj``) or
  its minor third (class 1, ``min``), with no fifth. In Harte syntax those dyads are
  ``A:(1,3)`` and ``A:(1,b3)``.
- The other vocabularies are sets of Harte labels (``C:maj``, ``A#:hdim7``, ``N``), parsed and
  validated with :mod:`mir_eval.chord` only. Class 0 is ``N`` (no chord); then the qualities of
  the vocabulary for each root, roots counted from C as mir_eval does:
  ``majmin`` = N + 12 × {maj, min} (25 classes, the MIREX standard),
  ``triads`` = N + 12 × {maj, min, dim, aug, sus2, sus4} (73),
  ``sevenths`` = the triads' qualities + 12 × {7, maj7, min7, hdim7, dim7} (133).
- Any Harte label maps to a vocabulary class the way the MIREX reductions do: the inversion
  (bass) is ignored, and the chord goes to the largest quality of the vocabulary whose notes it
  contains (``C:maj7/3`` → ``C:maj`` in ``majmin``, ``C:9`` → ``C:7`` in ``sevenths``); a chord
  that contains none (``C:5``, ``C:sus4`` in ``majmin``) maps to ``None``: it is left out of
  training and scoring, as MIREX leaves it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import ParameterError, valid_choice

__all__ = [
    "Vocabulary",
    "VOCABULARIES",
    "PITCH_NAMES",
    "get_vocabulary",
    "root_frequencies",
    "chord_frequencies",
    "parse_label",
    "quality_intervals",
    "voicing",
]

#: Root names of the Harte labels chordscope writes, pitch class 0 = C (mir_eval's convention).
PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_QUALITIES = {
    "majmin": ("maj", "min"),
    "triads": ("maj", "min", "dim", "aug", "sus2", "sus4"),
}
_QUALITIES["sevenths"] = _QUALITIES["triads"] + ("7", "maj7", "min7", "hdim7", "dim7")

A4_HZ = 440.0


@dataclass(frozen=True)
class Vocabulary:
    """An ordered set of chord classes.

    Parameters
    ----------
    name : str
        Short name used on the command line and in ``model.json``.
    labels : tuple of str
        Class labels, in output order.
    intervals : tuple of tuple of int
        For each class, the semitones above the root that sound.
    """

    name: str
    labels: tuple[str, ...]
    intervals: tuple[tuple[int, ...], ...]

    def index(self, label: str) -> int | None:
        """Class of any Harte ``label`` under this vocabulary (MIREX-style reduction).

        Returns ``None`` for a chord the vocabulary cannot represent (and for ``X``).
        Raises :class:`~chordscope.errors.ParameterError` for a label that is not valid Harte
        syntax.

        Examples
        --------
        >>> v = get_vocabulary("majmin")
        >>> v.labels[v.index("C:maj7/3")], v.labels[v.index("A:min")], v.index("N")
        ('C:maj', 'A:min', 0)
        """
        if self.name == "seed":
            raise ParameterError("the seed vocabulary has no Harte labels (it is maj/min dyads)")
        root, bitmap, _ = parse_label(label)
        if label.strip() == "X":
            return None
        if root < 0:
            return 0
        return _reduce(self.name, root, tuple(int(b) for b in bitmap))

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.labels)

    def to_json(self) -> dict:
        """Return a JSON-ready description (name, labels, intervals)."""
        return {
            "name": self.name,
            "labels": list(self.labels),
            "intervals": [list(i) for i in self.intervals],
        }


def quality_intervals(quality: str) -> tuple[int, ...]:
    """Semitones above the root of a Harte quality, read from ``mir_eval.chord.QUALITIES``.

    Examples
    --------
    >>> quality_intervals("hdim7")
    (0, 3, 6, 10)
    """
    import mir_eval.chord

    if quality not in mir_eval.chord.QUALITIES:
        raise ParameterError(f"unknown chord quality {quality!r}")
    return tuple(int(i) for i in np.flatnonzero(mir_eval.chord.QUALITIES[quality]))


def parse_label(label: str):
    """``(root, bitmap, bass)`` of a Harte label via ``mir_eval.chord.encode``.

    Raises :class:`~chordscope.errors.ParameterError` naming the label if it is invalid.

    Examples
    --------
    >>> parse_label("C:maj7/3")[0]
    0
    """
    import mir_eval.chord

    if not isinstance(label, str) or not label.strip():
        raise ParameterError(f"invalid chord label {label!r}: empty")
    try:
        return mir_eval.chord.encode(label.strip())
    except mir_eval.chord.InvalidChordException:
        raise ParameterError(f"invalid chord label {label!r}: {_what_is_wrong(label)}") from None


def _what_is_wrong(label: str) -> str:
    """Name the part of a Harte label that mir_eval rejects."""
    import mir_eval.chord

    head = label.strip().split("/")[0]
    root, _, rest = head.partition(":")
    try:
        mir_eval.chord.pitch_class_to_semitone(root)
    except Exception:
        return f"unknown root {root!r}"
    quality = rest.split("(")[0]
    if quality and quality not in mir_eval.chord.QUALITIES:
        return f"unknown quality {quality!r}"
    return "not valid Harte syntax (e.g. C:maj, A:min7/b3, N)"


def _harte_vocabulary(name: str) -> Vocabulary:
    quals = _QUALITIES[name]
    labels = ["N"] + [f"{r}:{q}" for r in PITCH_NAMES for q in quals]
    intervals = [()] + [quality_intervals(q) for _ in PITCH_NAMES for q in quals]
    return Vocabulary(name, tuple(labels), tuple(intervals))


@lru_cache(maxsize=None)
def _reduce(name: str, root: int, bitmap: tuple[int, ...]) -> int | None:
    """Largest quality of vocabulary ``name`` whose notes ``bitmap`` contains, or None."""
    quals = _QUALITIES[name]
    have = set(np.flatnonzero(bitmap).tolist())
    best, best_size = None, 0
    for qi, q in enumerate(quals):
        need = set(quality_intervals(q))
        if need <= have and len(need) > best_size:
            best, best_size = qi, len(need)
    return None if best is None else 1 + root * len(quals) + best


class _Vocabularies(dict):
    """The vocabularies, built on first use (the Harte ones need mir_eval)."""

    def __missing__(self, name):
        if name not in _QUALITIES:
            raise KeyError(name)
        v = self[name] = _harte_vocabulary(name)
        return v

    def __contains__(self, name):
        return name == "seed" or name in _QUALITIES

    def __iter__(self):
        return iter(("seed", *_QUALITIES))


VOCABULARIES = _Vocabularies(seed=Vocabulary("seed", ("maj", "min"), ((0, 4), (0, 3))))


def get_vocabulary(name: str) -> Vocabulary:
    """Return the vocabulary called ``name``.

    Examples
    --------
    >>> get_vocabulary("seed").labels
    ('maj', 'min')
    """
    valid_choice("vocabulary", name, list(VOCABULARIES))
    return VOCABULARIES[name]


def root_frequencies(n_roots: int = 12, *, base_hz: float = A4_HZ) -> np.ndarray:
    """Equal-tempered root frequencies ``base_hz * 2 ** (k / 12)``, ``k = 0 .. n_roots - 1``.

    Returns
    -------
    freqs : np.ndarray [shape=(n_roots,)]

    Examples
    --------
    >>> root_frequencies(3).round(1)
    array([440. , 466.2, 493.9])
    """
    return base_hz * 2.0 ** (np.arange(n_roots) / 12.0)


def chord_frequencies(root_hz: float, intervals) -> np.ndarray:
    """Frequencies of the notes of a chord: ``root_hz * 2 ** (interval / 12)``.

    Examples
    --------
    >>> chord_frequencies(440.0, (0, 12))
    array([440., 880.])
    """
    return root_hz * 2.0 ** (np.asarray(intervals, dtype=float) / 12.0)


def voicing(
    label: str,
    *,
    octave: int = 4,
    rng: np.random.Generator | None = None,
    inversions: bool = True,
    spread: bool = True,
    doubling: bool = True,
    bass: bool = True,
    strum: float = 0.03,
) -> list[tuple[float, float, float]]:
    """Return the notes ``(midi_pitch, onset_s, velocity)`` that sound the chord ``label``.

    Without ``rng``: close position from the root in ``octave`` (C4 = MIDI 60), all at onset 0,
    velocity 1, with the label's own bass note (``/3``) moved to the bottom. With ``rng``, each
    option switched on is drawn: a random inversion, notes spread over two octaves, a doubled
    chord tone, an extra bass note an octave or two below the root (or the label's bass), onsets
    strummed over up to ``strum`` seconds, velocities in [0.6, 1]. ``N`` gives no notes.

    Examples
    --------
    >>> [int(p) for p, _, _ in voicing("C:maj")]
    [60, 64, 67]
    >>> [int(p) for p, _, _ in voicing("C:maj/3")]
    [64, 67, 72]
    """
    root, bitmap, bass_iv = parse_label(label)
    if root < 0:
        return []
    ivs = [int(i) for i in np.flatnonzero(bitmap)]
    pitches = [12 * (octave + 1) + root + i for i in ivs]
    if bass_iv > 0:  # the label's inversion: raise every note below the bass by an octave
        bass_pitch = 12 * (octave + 1) + root + bass_iv
        pitches = sorted(p + 12 if p < bass_pitch else p for p in pitches)
        if bass_pitch not in pitches:
            pitches = [bass_pitch] + pitches
    if rng is None:
        return [(float(p), 0.0, 1.0) for p in pitches]
    if inversions and bass_iv <= 0:
        for _ in range(rng.integers(0, len(pitches))):
            pitches = pitches[1:] + [pitches[0] + 12]
    if spread and len(pitches) > 2 and rng.random() < 0.5:
        i = int(rng.integers(1, len(pitches)))
        pitches[i] += 12
    if doubling and rng.random() < 0.5:
        pitches.append(pitches[int(rng.integers(len(pitches)))] + 12)
    if bass and rng.random() < 0.5:
        b = root + (bass_iv if bass_iv > 0 else 0)
        pitches.append(12 * octave + b - 12 * int(rng.integers(0, 2)))  # 1 or 2 octaves down
    pitches = sorted(pitches)
    onsets = np.sort(rng.uniform(0, strum, len(pitches))) if strum > 0 else np.zeros(len(pitches))
    vel = rng.uniform(0.6, 1.0, len(pitches))
    return [(float(p), float(o), float(v)) for p, o, v in zip(pitches, onsets, vel, strict=True)]
