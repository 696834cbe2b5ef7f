"""Harmony written by a composer and labelled by analysts: Bach chorales from music21's corpus.

chordscope's own songs are composed by its own code, so a recogniser can learn their habits.
The music21 package ships the four-part scores of Bach's chorales together with Roman-numeral
analyses of twenty of them (Riemenschneider numbers 1-20, by Andrew Jones and others, proof-read
by Dmitri Tymoczko and Hamish Robb: ``music21/corpus/bach/choraleAnalyses``). A chorale is a
hard, fair test of chord recognition: four independent voices, passing and neighbour notes on
weak beats, suspensions, a chord on nearly every beat, and labels by people who did not know
chordscope exists. :func:`chorale` reads one piece into notes and Harte labels;
:mod:`chordscope.heldout` renders it (condition ``chorales``) with held-out instruments.

Conventions
-----------
- Each Roman numeral lasts until the next one; the analysis's measure and beat place it in the
  score (the score's own measure offsets, so pickup measures line up). Fermatas are not held.
- Consecutive numerals with the same label (a chord restated in the next measure) are one
  segment.
  The scores of chorales 14 and 17 in the corpus are in other keys than their analyses; their
  labels are transposed to the score (a fifth up, a whole tone up).
- A numeral becomes a Harte label by its root, the intervals of its pitches above the root
  and its bass (:func:`roman_to_harte`): ``V6/5`` in C is ``G:7/3``; a chord none of the
  shorthands names (an augmented sixth) is written with its degrees, ``F:(3,#4,b7)``.
- music21 is imported only here, when a chorale is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .chords import PITCH_NAMES, parse_label
from .errors import ParameterError

__all__ = ["CHORALE_NUMBERS", "Chorale", "chorale", "roman_to_harte"]

#: The Riemenschneider numbers of the chorales whose analysis lines up with music21's score:
#: of the twenty analysed, 11 (BWV 41.6) and 15 (BWV 277) are left out, their analyses
#: following another version of the chorale than the score (after every shift of up to four
#: beats and every transposition, a third of the notes or more are no tones of the chord).
CHORALE_NUMBERS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 16, 17, 18, 19, 20)

#: Where an analysis's BWV number is not the score's name in music21's corpus.
_SCORE_NAMES = {"248(2).12": "248.12-2"}

#: Semitones from an analysis's key to its score's, where the corpus's score is transposed.
_TRANSPOSED = {14: 7, 17: 2}

#: Harte shorthands by the pitch classes above the root.
_SHORTHANDS = {
    (0, 4, 7): "maj",
    (0, 3, 7): "min",
    (0, 3, 6): "dim",
    (0, 4, 8): "aug",
    (0, 4, 7, 10): "7",
    (0, 4, 7, 11): "maj7",
    (0, 3, 7, 10): "min7",
    (0, 3, 7, 11): "minmaj7",
    (0, 3, 6, 10): "hdim7",
    (0, 3, 6, 9): "dim7",
}
#: Harte degrees by semitones above the root (the spelling a chord tone most often has).
_DEGREES = ("1", "b2", "2", "b3", "3", "4", "#4", "5", "#5", "6", "b7", "7")


@dataclass
class Chorale:
    """One chorale: its voices' notes and its analysis, in quarter notes from the start.

    ``notes``: ``(midi_pitch, start_q, end_q, voice)`` with voice 0 (soprano) .. 3 (bass);
    ``chords``: ``(start_q, end_q, harte_label)`` tiling ``[0, length_q]``.
    """

    number: int
    bwv: str
    title: str
    notes: list = field(default_factory=list)
    chords: list = field(default_factory=list)
    length_q: float = 0.0


def _pitch_name(name: str) -> str:
    return name.replace("-", "b")


def roman_to_harte(rn) -> str:
    """Return the Harte label of a music21 ``RomanNumeral`` (or ``Chord``): root, quality, bass.

    Examples
    --------
    >>> from music21 import roman
    >>> roman_to_harte(roman.RomanNumeral("V65", "C"))
    'G:7/3'
    >>> roman_to_harte(roman.RomanNumeral("iio", "a"))
    'B:dim'
    >>> roman_to_harte(roman.RomanNumeral("iv6", "a"))
    'D:min/b3'
    """
    root = rn.root()
    steps = sorted({(p.pitchClass - root.pitchClass) % 12 for p in rn.pitches})
    quality = _SHORTHANDS.get(tuple(steps))
    if quality is None:
        quality = "(" + ",".join(_DEGREES[s] for s in steps if s) + ")"
    label = f"{_pitch_name(root.name)}:{quality}"
    bass = (rn.bass().pitchClass - root.pitchClass) % 12
    return label if bass == 0 else f"{label}/{_DEGREES[bass]}"


def _transposed(label: str, semitones: int) -> str:
    """``label`` with its root moved up by ``semitones`` (sharps spelling)."""
    if not semitones:
        return label
    root, rest = label.split(":", 1)
    return f"{PITCH_NAMES[(parse_label(root + ':maj')[0] + semitones) % 12]}:{rest}"


def _read(number: int):
    """Read the analysis (a music21 stream), its BWV number and title, and the score."""
    try:
        import music21
        from music21 import corpus
    except ImportError:
        raise ParameterError("the chorales need music21 (pip install music21)") from None
    if number not in CHORALE_NUMBERS:
        raise ParameterError(
            f"number={number!r} must be one of the analysed chorales {CHORALE_NUMBERS}"
        )
    path = corpus.getWork(f"bach/choraleAnalyses/riemenschneider{number:03d}.rntxt")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    bwv = re.search(r"^BWV:\s*(\S+)", text, re.M).group(1)
    title = re.search(r"^Title:\s*(.+)$", text, re.M).group(1).strip()
    # from the source files every time: music21 would otherwise keep parsed files as pickles in
    # a shared temporary folder and unpickle them later
    source = {"forceSource": True, "storePickle": False}
    analysis = music21.converter.parse(path, format="romanText", **source)
    score_path = corpus.getWork(f"bach/bwv{_SCORE_NAMES.get(bwv, bwv)}")
    if isinstance(score_path, list):  # two encodings of one score: the first, as music21 takes
        score_path = score_path[0]
    score = music21.converter.parse(score_path, **source)
    return analysis, bwv, title, score


def chorale(number: int) -> Chorale:
    """Read chorale ``number`` (Riemenschneider) from music21's corpus: notes and chord labels.

    Examples
    --------
    >>> c = chorale(1)
    >>> c.bwv, c.chords[:3]
    ('269', [(0.0, 2.0, 'G:maj'), (2.0, 3.0, 'C:maj/3'), (3.0, 4.0, 'D:maj/3')])
    >>> sorted({v for *_, v in c.notes}), c.length_q
    ([0, 1, 2, 3], 63.0)
    """
    analysis, bwv, title, score = _read(number)
    parts = list(score.parts)[:4]
    measures = {m.number: m for m in parts[0].getElementsByClass("Measure")}
    length = float(parts[0].highestTime)
    starts, labels = [], []
    for rn in analysis.recurse().getElementsByClass("RomanNumeral"):
        m = measures.get(rn.measureNumber)
        if m is None:
            continue
        beat = float(rn.beatDuration.quarterLength)  # the analysis's time signature
        start = float(m.offset) + (float(rn.beat) - 1.0) * beat - float(m.paddingLeft)
        start = min(max(0.0, start), length)
        label = _transposed(roman_to_harte(rn), _TRANSPOSED.get(number, 0))
        if starts and abs(start - starts[-1]) < 1e-9:  # a later numeral on the same beat wins
            labels[-1] = label
        elif not starts or start > starts[-1]:
            starts.append(start)
            labels.append(label)
    if not starts:
        raise ParameterError(f"chorale {number}: no Roman numerals line up with the score")
    starts[0] = 0.0
    chords = []
    for a, b, lab in zip(starts, starts[1:] + [length], labels, strict=True):
        if chords and chords[-1][2] == lab:  # the same chord again: one segment
            chords[-1] = (chords[-1][0], round(b, 6), lab)
        else:
            chords.append((round(a, 6), round(b, 6), lab))
    notes = []
    for voice, part in enumerate(parts):
        for n in part.stripTies().recurse().notes:
            start = float(n.getOffsetInHierarchy(part))
            end = start + float(n.quarterLength)
            for p in n.pitches:  # a chord in one voice (rare): every pitch sounds
                notes.append((int(p.midi), start, end, voice))
    return Chorale(number, bwv, title, notes, chords, length)
