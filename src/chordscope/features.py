"""Waveforms to network inputs: CQT magnitude, decibels, normalisation, frame selection.

Conventions
-----------
Frequency is the second-to-last axis and time the last (librosa's layout). Every function takes a
batch with any number of leading axes and computes it in one call, never clip by clip.
The tutorial's input is ``amplitude_to_db(|CQT|, ref=np.min)`` of frames 2..4, divided by its
own maximum, so each example lies in ``[0, 1]`` with its loudest bin at 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .errors import ParameterError

__all__ = [
    "CQTConfig",
    "TUTORIAL_CQT",
    "CHORD_CQT",
    "cqt",
    "db_normalised",
    "tutorial_features",
    "log_cqt",
    "context_frames",
]


@dataclass(frozen=True)
class CQTConfig:
    """Parameters of the constant-Q transform and of the frames kept.

    The defaults are the tutorial's.
    """

    sr: int = 16000  # sample rate of the audio, Hz
    fmin: float = 220.0  # centre frequency of the lowest bin (A3), Hz
    n_bins: int = 36  # three octaves: A3 .. G#6
    bins_per_octave: int = 12  # one bin per semitone
    filter_scale: float = 2.0  # longer filters, sharper frequency resolution
    hop_length: int = 512  # samples between frames (32 ms)
    first_frame: int = 2  # frames [first_frame, first_frame + n_frames) are kept
    n_frames: int = 3
    top_db: float = 80.0  # floor of the dB scale below its maximum (librosa's default)

    def to_json(self) -> dict:
        """Return the parameters as a JSON-ready dict."""
        return asdict(self)


TUTORIAL_CQT = CQTConfig()

#: Features for real audio: C1 (32.7 Hz) to C7 (2093 Hz), 12 bins per octave, log-compressed.
CHORD_CQT = CQTConfig(
    sr=16000,
    fmin=32.703195662574764,  # C1
    n_bins=73,  # C1 .. C7 inclusive
    bins_per_octave=12,
    filter_scale=1.0,
    hop_length=512,
    first_frame=0,
    n_frames=0,  # 0: keep every frame
)


def cqt(y: np.ndarray, *, config: CQTConfig = TUTORIAL_CQT) -> np.ndarray:
    """Magnitude constant-Q transform of a batch of waveforms (``librosa.cqt``).

    Parameters
    ----------
    y : np.ndarray [shape=(..., n_samples)]
    config : CQTConfig

    Returns
    -------
    C : np.ndarray [shape=(..., n_bins, n_frames_total)]
        ``|librosa.cqt(y)|`` for every leading index.

    Examples
    --------
    >>> cqt(np.zeros((2, 16000))).shape
    (2, 36, 32)
    """
    import librosa

    y = np.asarray(y, dtype=float)
    if y.ndim < 1 or y.shape[-1] == 0:
        raise ParameterError("y must hold at least one sample per clip")
    if not np.all(np.isfinite(y)):
        raise ParameterError("y must be finite (no NaN or inf samples)")
    C = librosa.cqt(
        y,
        sr=config.sr,
        hop_length=config.hop_length,
        fmin=config.fmin,
        n_bins=config.n_bins,
        bins_per_octave=config.bins_per_octave,
        filter_scale=config.filter_scale,
    )
    return np.abs(C)


def db_normalised(S: np.ndarray, *, top_db: float = 80.0, amin: float = 1e-5) -> np.ndarray:
    """Per example: ``amplitude_to_db(S, ref=np.min, top_db=top_db) / max``.

    The last two axes form one example; leading axes are a batch, each normalised by its own
    minimum and maximum, as the tutorial does clip by clip.

    Parameters
    ----------
    S : np.ndarray [shape=(..., n_bins, n_frames)], non-negative magnitudes
    top_db : float
        The dB values are floored at ``max - top_db`` before normalisation.
    amin : float
        Magnitudes below ``amin`` count as ``amin`` (librosa's default).

    Returns
    -------
    X : np.ndarray [shape=S.shape], values in [0, 1]

    Examples
    --------
    >>> db_normalised(np.array([[1.0, 10.0], [100.0, 1.0]]))
    array([[0. , 0.5],
           [1. , 0. ]])
    """
    S = np.asarray(S, dtype=float)
    power = np.maximum(S, amin) ** 2
    ref = np.maximum(S.min(axis=(-2, -1), keepdims=True), amin) ** 2
    db = 10.0 * np.log10(np.maximum(1e-10, power)) - 10.0 * np.log10(np.maximum(1e-10, ref))
    db = np.maximum(db, db.max(axis=(-2, -1), keepdims=True) - top_db)
    peak = db.max(axis=(-2, -1), keepdims=True)
    if np.any(peak <= 0):
        raise ParameterError(
            "cannot normalise a flat spectrogram (its maximum is 0 dB above its minimum)"
        )
    return db / peak


def tutorial_features(y: np.ndarray, *, config: CQTConfig = TUTORIAL_CQT) -> np.ndarray:
    """The tutorial's network input for a batch of waveforms.

    ``|CQT|`` → keep ``config.n_frames`` frames from ``config.first_frame`` → dB with
    ``ref=np.min`` → divide by the maximum, all per clip.

    Returns
    -------
    X : np.ndarray [shape=(..., n_bins, n_frames)], float32

    Examples
    --------
    >>> from chordscope.synth import sine_chord
    >>> tutorial_features(sine_chord([440.0, 554.4])).shape
    (36, 3)
    """
    C = cqt(y, config=config)
    C = C[..., config.first_frame : config.first_frame + config.n_frames]
    return db_normalised(C, top_db=config.top_db).astype(np.float32)


def log_cqt(y: np.ndarray, *, config: CQTConfig = CHORD_CQT, gain: float = 100.0) -> np.ndarray:
    """``log(1 + gain * |CQT|)`` of a batch of waveforms, in one librosa call.

    Configure the range with ``config`` (e.g. ``bins_per_octave=36, n_bins=217`` for C1–C7 at
    a third of a semitone). ``config.n_frames > 0`` keeps only frames
    ``[first_frame, first_frame + n_frames)``.

    Returns
    -------
    F : np.ndarray [shape=(..., n_bins, n_frames)], float32

    Examples
    --------
    >>> log_cqt(np.zeros((3, 16000))).shape
    (3, 73, 32)
    """
    if not gain > 0:
        raise ParameterError(f"gain={gain!r} must be positive")
    C = cqt(y, config=config)
    if config.n_frames > 0:
        C = C[..., config.first_frame : config.first_frame + config.n_frames]
    return np.log1p(gain * C).astype(np.float32)


def context_frames(F: np.ndarray, n_context: int = 3) -> np.ndarray:
    """Every frame with ``n_context`` frames on each side (edges repeat the first/last frame).

    Parameters
    ----------
    F : np.ndarray [shape=(..., n_bins, n_frames)]

    Returns
    -------
    W : np.ndarray [shape=(..., n_frames, n_bins, 2 * n_context + 1)]  (a copy)

    Examples
    --------
    >>> context_frames(np.zeros((73, 10)), 2).shape
    (10, 73, 5)
    """
    if n_context < 0:
        raise ParameterError(f"n_context={n_context!r} must be >= 0")
    pad = [(0, 0)] * (F.ndim - 1) + [(n_context, n_context)]
    P = np.pad(F, pad, mode="edge")
    win = np.lib.stride_tricks.sliding_window_view(P, 2 * n_context + 1, axis=-1)
    return np.ascontiguousarray(np.moveaxis(win, -3, -2))
