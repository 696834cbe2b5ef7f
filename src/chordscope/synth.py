"""Note sets to waveforms.

Conventions
-----------
Waveforms are float64 NumPy arrays with time on the last axis. ``duration`` is in seconds and the
number of samples is ``int(sr * duration)``, as in the tutorial (``np.arange(sr * secs)``). Each
note of a chord is a sine of amplitude ``gain``; notes add, so a dyad peaks near ``2 * gain``.
"""

from __future__ import annotations

import numpy as np

from .errors import ParameterError

__all__ = ["sine", "sine_chord"]


def _time(duration: float, sr: int) -> np.ndarray:
    if not duration > 0:
        raise ParameterError(f"duration={duration!r} must be a positive number of seconds")
    if not sr > 0:
        raise ParameterError(f"sr={sr!r} must be a positive sample rate")
    return np.arange(int(sr * duration))


def sine(frequency: float, *, duration: float = 1.0, sr: int = 16000, gain: float = 0.5):
    """A sine tone ``gain * sin(2 pi f t / sr)``, starting at phase 0.

    Returns
    -------
    y : np.ndarray [shape=(int(sr * duration),)]

    Examples
    --------
    >>> sine(440.0, duration=0.01, sr=8000).shape
    (80,)
    """
    t = _time(duration, sr)
    return gain * np.sin(2.0 * np.pi * frequency * t / sr)


def sine_chord(frequencies, *, duration: float = 1.0, sr: int = 16000, gain: float = 0.5):
    """Sum of one sine per frequency, each of amplitude ``gain`` (the tutorial's ``chord_wave``).

    Parameters
    ----------
    frequencies : array_like [shape=(..., n_notes)]
        Note frequencies in Hz; leading axes give a batch of chords.

    Returns
    -------
    y : np.ndarray [shape=(..., int(sr * duration))]

    Examples
    --------
    >>> sine_chord([[440.0, 554.4], [440.0, 523.3]], duration=0.5).shape
    (2, 8000)
    """
    t = _time(duration, sr)
    f = np.asarray(frequencies, dtype=float)[..., None]
    return (gain * np.sin(2.0 * np.pi * f * t / sr)).sum(axis=-2)
