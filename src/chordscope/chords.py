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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import valid_choice

__all__ = ["Vocabulary", "VOCABULARIES", "get_vocabulary", "root_frequencies", "chord_frequencies"]

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


VOCABULARIES = {
    "seed": Vocabulary("seed", ("maj", "min"), ((0, 4), (0, 3))),
}


def get_vocabulary(name: str) -> Vocabulary:
    """Return the vocabulary called ``name``.

    Examples
    --------
    >>> get_vocabulary("seed").labels
    ('maj', 'min')
    """
    valid_choice("vocabulary", name, VOCABULARIES)
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
