"""Augmentation of training excerpts in the CQT domain: each draw from the given generator.

- A pitch shift of up to ``pitch_shift`` semitones: bins move (``bins_per_semitone`` of them
  a semitone), and the classes
  (:func:`rotate_classes`) and structure codes (:func:`rotate_structure`) rotate with them.
- An overall gain (``gain_db``), a smooth random equaliser (``eq_db``: a tilt and a bump) and a
  slow level ramp over the excerpt (dynamics). Gains act on the magnitude before the log, so
  the result is what the log-CQT of the changed audio would be.
- With ``harmonics``, copies of an excerpt's spectrum at the 2nd–6th harmonics' intervals
  (:func:`add_harmonics`); with ``smear``, a blur into the neighbouring semitones
  (:func:`smear_semitones`); with ``bass_harmonics``, copies of the bass register alone
  (:data:`BASS_BINS`) at those intervals.
- With ``freq_mask``, a band of up to an octave silenced across the whole excerpt
  (:func:`mask_band`, the frequency masking of SpecAugment), drawn last, after the pitch shift.

Nothing here renders a song, so changing it leaves the render cache
(:func:`chordscope.musicdata.render_cache_folder`) valid.
"""

from __future__ import annotations

import numpy as np

from .chords import Vocabulary
from .musicdata import NO_BASS

__all__ = [
    "augment",
    "add_harmonics",
    "BASS_BINS",
    "HARMONIC_SHIFTS",
    "smear_semitones",
    "mask_band",
    "MASK_BINS",
    "rotate_classes",
    "rotate_structure",
]


def rotate_classes(y: np.ndarray, shift, vocab: Vocabulary) -> np.ndarray:
    """Classes of the chords ``shift`` semitones higher (``N`` and ``-1`` stay).

    Examples
    --------
    >>> from chordscope.chords import get_vocabulary
    >>> v = get_vocabulary("majmin")
    >>> v.labels[rotate_classes(np.array([v.index("A:min")]), 3, v)[0]]
    'C:min'
    """
    nq = (vocab.n_classes - 1) // 12
    y = np.asarray(y)
    shift = np.broadcast_to(np.asarray(shift), y.shape) if np.ndim(shift) < y.ndim else shift
    c = y - 1
    rolled = 1 + ((c // nq + shift) % 12) * nq + c % nq
    return np.where(y > 0, rolled, y)


def rotate_structure(codes: np.ndarray, shift) -> np.ndarray:
    """Structure codes of the chords ``shift`` semitones higher (``N`` and -1 stay).

    Examples
    --------
    >>> from chordscope.musicdata import structure_code
    >>> up = rotate_structure(np.array([structure_code("A:min/b3")]), 3)
    >>> bool(up[0] == structure_code("C:min/b3"))
    True
    """
    codes = np.asarray(codes)
    shift = np.broadcast_to(np.asarray(shift), codes.shape) % 12
    bass, tones = codes // 4096, codes % 4096
    rolled = ((tones << shift) | (tones >> (12 - shift))) & 0xFFF
    moved = np.where(bass < NO_BASS, (bass + shift) % 12, bass) * 4096 + rolled
    return np.where(codes >= 0, moved, codes)


HARMONIC_SHIFTS = tuple(int(round(12 * np.log2(k))) for k in (2, 3, 4, 5, 6))  # 12 19 24 28 31


#: Bins of the bass register (C1–B2 with the recognisers' CQT): the sources of ``bass_harmonics``.
BASS_BINS = 24


def add_harmonics(
    M: np.ndarray, rng: np.random.Generator, p: float, *, below: int | None = None
) -> np.ndarray:
    """Brighter timbres: add copies of the magnitudes ``M (b, n_bins, n)`` at harmonic intervals.

    Each excerpt, with probability ``p``, gets ``M`` moved up by the 2nd to 6th harmonics'
    intervals (:data:`HARMONIC_SHIFTS`: 12, 19, 24, 28, 31 semitones) with gains ``u**2``, ``u``
    uniform in 0..1 per harmonic: the spectrum of an instrument whose upper partials are
    stronger than the renders' (a bass whose 5th harmonic sounds a major third two octaves up,
    FM and overdriven sounds). The labels stay: the chord is what was played. With ``below``,
    only the bins under it are copied (a bass whose overtones reach the chord's register, and
    chord tones left as they are).

    Examples
    --------
    >>> M = np.zeros((1, 73, 2)); M[0, 7] = 1.0  # one note, G1
    >>> out = add_harmonics(M, np.random.default_rng(0), 1.0)
    >>> [int(i) for i in np.flatnonzero(out[0, :, 0])]  # G1 and its harmonics G2 D3 G3 B3 D4
    [7, 19, 26, 31, 35, 38]
    """
    b, n_bins, _ = M.shape
    out, src = M.copy(), M
    if below is not None:
        src = M.copy()
        src[:, below:] = 0
    for j in np.flatnonzero(rng.random(b) < p):
        for shift, g in zip(HARMONIC_SHIFTS, rng.random(len(HARMONIC_SHIFTS)) ** 2, strict=True):
            out[j, shift:] += g * src[j, : n_bins - shift]
    return out


def smear_semitones(M: np.ndarray, rng: np.random.Generator, p: float) -> np.ndarray:
    """Blur the magnitudes ``M (b, n_bins, n)`` into the neighbouring semitones.

    Each excerpt, with probability ``p``, gets ``a`` times its spectrum one bin up and one bin
    down added (``a`` uniform in 0..0.5): the spread of vibrato, chorus, detuned oscillators and
    FM voices, whose notes light the semitones beside them.

    Examples
    --------
    >>> M = np.zeros((1, 73, 1)); M[0, 40] = 1.0
    >>> out = smear_semitones(M, np.random.default_rng(0), 1.0)
    >>> [int(i) for i in np.flatnonzero(out[0, :, 0])], bool(out[0, 39, 0] == out[0, 41, 0] < 1)
    ([39, 40, 41], True)
    """
    out = M.copy()
    for j in np.flatnonzero(rng.random(M.shape[0]) < p):
        a = rng.uniform(0.0, 0.5)
        out[j, 1:] += a * M[j, :-1]
        out[j, :-1] += a * M[j, 1:]
    return out


#: Widest band :func:`mask_band` silences, in bins (an octave of the recognisers' CQT).
MASK_BINS = 12


def mask_band(X: np.ndarray, rng: np.random.Generator, p: float) -> np.ndarray:
    """Silence one band of the log-magnitudes ``X (b, n_bins, n)`` in a share ``p`` of excerpts.

    A chosen excerpt loses 2 to :data:`MASK_BINS` consecutive bins (width and place uniform)
    for its whole length, set to 0 (silence in ``log1p``): an instrument whose partials are
    missing there, or an equaliser notch. The labels stay, so the network has to name the chord
    from the notes, octaves and partials that are left.

    Examples
    --------
    >>> X = np.ones((1, 73, 3), np.float32)
    >>> out = mask_band(X, np.random.default_rng(0), 1.0)
    >>> gone = np.flatnonzero(out[0, :, 0] == 0)
    >>> 2 <= len(gone) <= 12, bool(np.all(np.diff(gone) == 1)), bool((out[0, :, 2] == 0).sum())
    (True, True, True)
    """
    out = X.copy()
    n_bins = X.shape[1]
    for j in np.flatnonzero(rng.random(X.shape[0]) < p):
        width = int(rng.integers(2, MASK_BINS + 1))
        lo = int(rng.integers(0, n_bins - width + 1))
        out[j, lo : lo + width] = 0
    return out


def augment(
    X: np.ndarray,
    Y: np.ndarray,
    vocab: Vocabulary,
    rng: np.random.Generator,
    *,
    pitch_shift: int = 0,
    gain_db=(),
    eq_db: float = 0.0,
    harmonics: float = 0.0,
    smear: float = 0.0,
    bass_harmonics: float = 0.0,
    freq_mask: float = 0.0,
    structure: np.ndarray | None = None,
    bins_per_semitone: int = 1,
) -> tuple:
    """Augment a batch of excerpts ``X (b, n_bins, n)``, ``Y (b, m)`` as the module docs say.

    Returns ``(X, Y)``, or ``(X, Y, structure)`` when the excerpts' structure codes
    ``structure (b, m)`` are given (rotated with the classes).

    Examples
    --------
    >>> from chordscope.chords import get_vocabulary
    >>> v = get_vocabulary("majmin")
    >>> X, Y = np.zeros((2, 73, 10), np.float32), np.ones((2, 4), np.int64)
    >>> X2, Y2 = augment(X, Y, v, np.random.default_rng(0), pitch_shift=2, gain_db=(-6, 6))
    >>> X2.shape, Y2.shape, bool((X2 == 0).all())
    ((2, 73, 10), (2, 4), True)
    """
    b, n_bins, n = X.shape
    if harmonics:
        X = np.log1p(add_harmonics(np.expm1(X), rng, harmonics)).astype(np.float32)
    if bass_harmonics:
        M = add_harmonics(np.expm1(X), rng, bass_harmonics, below=BASS_BINS)
        X = np.log1p(M).astype(np.float32)
    if smear:
        X = np.log1p(smear_semitones(np.expm1(X), rng, smear)).astype(np.float32)
    db = np.zeros((b, n_bins, n), np.float32)
    if len(gain_db):
        lo, hi = gain_db
        db += rng.uniform(lo, hi, (b, 1, 1)).astype(np.float32)
        ramp = rng.uniform(-3, 3, (b, 1, 1)) * np.linspace(-1, 1, n)[None, None]
        db += ramp.astype(np.float32)  # dynamics: a slow rise or fall over the excerpt
    if eq_db:
        f = np.linspace(-1, 1, n_bins)[None, :, None]
        tilt = rng.uniform(-eq_db, eq_db, (b, 1, 1)) * f
        centre, width = rng.uniform(-1, 1, (b, 1, 1)), rng.uniform(0.1, 0.5, (b, 1, 1))
        bump = rng.uniform(-eq_db, eq_db, (b, 1, 1)) * np.exp(-0.5 * ((f - centre) / width) ** 2)
        db += (tilt + bump).astype(np.float32)
    if db.any():
        X = np.log1p(np.expm1(X) * 10.0 ** (db / 20.0)).astype(np.float32)
    if pitch_shift:
        shifts = rng.integers(-pitch_shift, pitch_shift + 1, b)
        out = np.zeros_like(X)
        for j, s in enumerate(shifts * bins_per_semitone):
            if s >= 0:
                out[j, s:] = X[j, : n_bins - s]
            else:
                out[j, :s] = X[j, -s:]
        X, Y = out, rotate_classes(Y, shifts[:, None], vocab)
        if structure is not None:
            structure = rotate_structure(structure, shifts[:, None])
    if freq_mask:  # drawn last and only when on: recipes without it draw what they drew before
        X = mask_band(X, rng, freq_mask)
    return (X, Y) if structure is None else (X, Y, structure)
