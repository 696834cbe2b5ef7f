"""Waveforms to network inputs: CQT magnitude, decibels, normalisation, frame selection.

Conventions
-----------
Frequency is the second-to-last axis and time the last (librosa's layout). Every function takes a
batch with any number of leading axes and computes it in one call, never clip by clip.
The tutorial's input is ``amplitude_to_db(|CQT|, ref=np.min)`` of frames 2..4, divided by its
own maximum, so each example lies in ``[0, 1]`` with its loudest bin at 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from functools import lru_cache

import numpy as np

from .errors import ParameterError

__all__ = [
    "SR",
    "LOG_GAIN",
    "INPUT_PEAK",
    "CQTConfig",
    "RecogniserInput",
    "TUTORIAL_CQT",
    "CHORD_CQT",
    "FINE_CQT",
    "chord_cqt",
    "bins_per_semitone",
    "cqt",
    "db_normalised",
    "tutorial_features",
    "log_cqt",
    "context_frames",
    "sinusoid_response",
    "sinusoid_cqt",
]


#: Sample rate of everything chordscope renders and analyses, Hz.
SR = 16000
#: Compression of a recogniser's input: ``log(1 + LOG_GAIN * |CQT|)`` (:func:`log_cqt`).
LOG_GAIN = 100.0
#: Peak level a waveform is scaled to before a recogniser sees it (the evaluation songs' level).
INPUT_PEAK = 0.9


@dataclass(frozen=True)
class CQTConfig:
    """Parameters of the constant-Q transform and of the frames kept.

    The defaults are the tutorial's.
    """

    sr: int = SR  # sample rate of the audio, Hz
    fmin: float = 220.0  # centre frequency of the lowest bin (A3), Hz
    n_bins: int = 36  # three octaves: A3 .. G#6
    bins_per_octave: int = 12  # one bin per semitone
    filter_scale: float = 2.0  # longer filters, sharper frequency resolution
    hop_length: int = 512  # samples between frames (32 ms)
    first_frame: int = 2  # frames [first_frame, first_frame + n_frames) are kept
    n_frames: int = 3
    top_db: float = 80.0  # floor of the dB scale below its maximum (librosa's default)
    gamma: float = 0.0  # Hz added to every filter's bandwidth (librosa.vqt); 0: constant Q

    def __post_init__(self):
        # gamma (Hz) may be 0, filter_scale may not: (name, lowest, highest, lowest allowed)
        for name, lo, hi, lo_ok in (("gamma", 0, 20, True), ("filter_scale", 0, 4, False)):
            v = getattr(self, name)
            number = isinstance(v, (int, float)) and not isinstance(v, bool)
            if not (number and (lo <= v if lo_ok else lo < v) and v <= hi):
                span = f"{lo}..{hi}" if lo_ok else f"({lo}, {hi}]"
                raise ParameterError(f"{name}={v!r} must be a number in {span}")
        object.__setattr__(self, "gamma", float(self.gamma))  # 1 and 1.0: one transform, one cache

    def to_json(self) -> dict:
        """Return the parameters as a JSON-ready dict (``gamma`` only where it is not 0)."""
        d = asdict(self)
        if not self.gamma:
            del d["gamma"]  # the files written before it existed stay the same
        return d


TUTORIAL_CQT = CQTConfig()

#: Features for real audio: C1 (32.7 Hz) to C7 (2093 Hz), 12 bins per octave, log-compressed.
CHORD_CQT = CQTConfig(
    sr=SR,
    fmin=32.703195662574764,  # C1
    n_bins=73,  # C1 .. C7 inclusive
    bins_per_octave=12,
    filter_scale=1.0,
    hop_length=512,
    first_frame=0,
    n_frames=0,  # 0: keep every frame
)

#: The same range at three bins per semitone, each semitone's middle bin on its note (so the
#: lowest bin lies a third of a semitone below C1), with filters two thirds of a semitone wide
#: instead of :data:`CHORD_CQT`'s one (Q 25.7 against 16.8), so 1.5 times as long.
FINE_CQT = CQTConfig(
    sr=SR,
    fmin=32.703195662574764 * 2 ** (-1 / 36),
    n_bins=219,  # 73 semitones x 3
    bins_per_octave=36,
    filter_scale=0.5,
    hop_length=512,
    first_frame=0,
    n_frames=0,
)


def chord_cqt(per_semitone: int = 1, gamma: float = 0.0, filter_scale: float = 0.0) -> CQTConfig:
    """Return the recognisers' transform at ``per_semitone`` bins a semitone (1 or 3).

    ``gamma`` (Hz, 0 to 20) widens every filter by that much (a variable-Q transform,
    ``librosa.vqt``): it shortens the long bass filters and leaves the treble almost as it was.
    At three bins a semitone, ``gamma = 0.3`` makes the filter at C1 as long as the plain
    transform's (0.54 s against 0.79 s at 16 kHz) and C4's 6 % shorter. ``filter_scale``, where
    it is not 0, replaces the transform's own (1 for a bin a semitone, 0.5 for three): at three
    bins a semitone, ``1/3`` gives the plain transform's filters sampled three times as densely.

    Examples
    --------
    >>> chord_cqt(3).n_bins, chord_cqt(1) == CHORD_CQT, chord_cqt(3, gamma=0.3).gamma
    (219, True, 0.3)
    >>> chord_cqt(3, filter_scale=1 / 3).filter_scale == 1 / 3
    True
    """
    if per_semitone not in (1, 3):
        raise ParameterError(f"bins_per_semitone={per_semitone!r} must be 1 or 3")
    config = CHORD_CQT if per_semitone == 1 else FINE_CQT
    if gamma:
        config = replace(config, gamma=gamma)  # CQTConfig checks gamma
    if filter_scale:
        config = replace(config, filter_scale=filter_scale)
    return config


def bins_per_semitone(config: CQTConfig) -> int:
    """Bins a semitone of ``config`` (``bins_per_octave / 12``; 1 for :data:`CHORD_CQT`).

    Examples
    --------
    >>> bins_per_semitone(FINE_CQT)
    3
    """
    b, rest = divmod(config.bins_per_octave, 12)
    if rest or b < 1:
        raise ParameterError(f"bins_per_octave={config.bins_per_octave} is not a multiple of 12")
    return b


@dataclass(frozen=True)
class RecogniserInput:
    """What a recogniser's input is: the ``"features"`` entry of its ``model.json``.

    Every consumer of a trained recogniser (``predict``, ``explain``) reads this from the model
    file rather than from the module's constants, so a model keeps working when the defaults
    change. Files written before ``gain`` and ``peak`` were recorded get today's values.

    Attributes
    ----------
    cqt : CQTConfig  the transform (:data:`CHORD_CQT` for every model chordscope trains)
    n_context : int  frames on each side of the centre frame
    gain : float  compression gain of :func:`log_cqt`
    peak : float  peak level the waveform is scaled to first

    Examples
    --------
    >>> f = RecogniserInput(n_context=3)
    >>> RecogniserInput.from_json(f.to_json()) == f
    True
    >>> f.to_json()["n_bins"], f.to_json()["gain"]
    (73, 100.0)
    """

    cqt: CQTConfig = CHORD_CQT
    n_context: int = 3
    gain: float = LOG_GAIN
    peak: float = INPUT_PEAK

    def __post_init__(self):
        if not (isinstance(self.n_context, int) and 0 <= self.n_context <= 1000):
            raise ParameterError(f"n_context={self.n_context!r} must be an integer in 0..1000")
        if not self.gain > 0 or not 0 < self.peak <= 1:
            raise ParameterError(f"gain={self.gain!r} must be > 0 and peak={self.peak!r} in (0, 1]")

    def to_json(self) -> dict:
        """Return the ``model.json`` entry: the CQT fields, ``n_context``, ``gain``, ``peak``."""
        return {
            **self.cqt.to_json(),
            "n_context": self.n_context,
            "gain": self.gain,
            "peak": self.peak,
        }

    @classmethod
    def from_json(cls, entry: dict) -> RecogniserInput:
        """Read a ``model.json`` ``"features"`` entry (raises ``KeyError``, ``TypeError``)."""
        entry = dict(entry)
        n_context = int(entry.pop("n_context"))
        gain = float(entry.pop("gain", LOG_GAIN))
        peak = float(entry.pop("peak", INPUT_PEAK))
        return cls(CQTConfig(**entry), n_context, gain, peak)


def cqt(y: np.ndarray, *, config: CQTConfig = TUTORIAL_CQT, tuning: float = 0.0) -> np.ndarray:
    """Magnitude constant-Q transform of a batch of waveforms (``librosa.vqt``).

    ``config.gamma`` is 0 for a constant Q (``librosa.cqt``), more for a variable Q.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n_samples)]
    config : CQTConfig
    tuning : float  offset of the recording's tuning from A440, in semitones, whatever the bins
        a semitone (librosa counts it in bins): every bin's centre moves by this much, so an
        out-of-tune recording lands on the bins

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
    C = librosa.vqt(  # with gamma = 0 this is what librosa.cqt calls
        y,
        sr=config.sr,
        hop_length=config.hop_length,
        fmin=config.fmin,
        n_bins=config.n_bins,
        bins_per_octave=config.bins_per_octave,
        filter_scale=config.filter_scale,
        tuning=tuning * bins_per_semitone(config) if tuning else 0.0,
        gamma=config.gamma,
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
    """Compute the tutorial's network input for a batch of waveforms.

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


def log_cqt(
    y: np.ndarray, *, config: CQTConfig = CHORD_CQT, gain: float = LOG_GAIN, tuning: float = 0.0
) -> np.ndarray:
    """``log(1 + gain * |CQT|)`` of a batch of waveforms, in one librosa call.

    Configure the range with ``config`` (e.g. ``bins_per_octave=36, n_bins=217`` for C1–C7 at
    a third of a semitone); ``tuning`` shifts every bin (see :func:`cqt`).
    ``config.n_frames > 0`` keeps only frames ``[first_frame, first_frame + n_frames)``.

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
    C = cqt(y, config=config, tuning=tuning)
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


# ------------------------------------------------------------------------------------------------
# The CQT of sums of sinusoids without rendering them: the transform is linear, so each bin's
# response to a sinusoid of a given frequency and phase, measured once with librosa on a fine
# frequency grid, adds up to the CQT of any sum of (slowly varying) sinusoids.


@lru_cache(maxsize=4)
def sinusoid_response(
    config: CQTConfig = CHORD_CQT, *, duration: float = 1.0, per_semitone: int = 16
):
    """Complex response of every CQT bin at a clip's centre frame to unit sinusoids.

    Returns ``(grid_hz, Rc, Rs, centre)``: for ``x(t) = cos(2 pi f (t - t_c))`` the centre frame's
    CQT is ``Rc[:, g]`` (``f = grid_hz[g]``), for ``sin`` it is ``Rs[:, g]``; ``centre`` is the
    frame index and ``t_c`` its time. Computed with ``librosa.cqt`` (about 3 s, once).
    """
    import librosa

    sr, hop = config.sr, config.hop_length
    n = int(sr * duration)
    centre = (1 + n // hop) // 2
    t = np.arange(n) / sr - centre * hop / sr
    lo, hi = config.fmin / 2, 0.98 * sr / 2
    steps = 12 * per_semitone
    grid = lo * 2.0 ** (np.arange(int(np.ceil(steps * np.log2(hi / lo))) + 1) / steps)
    out_c, out_s = [], []
    for i in range(0, len(grid), 256):
        phase = 2 * np.pi * grid[i : i + 256, None] * t
        for fn, out in ((np.cos, out_c), (np.sin, out_s)):
            C = librosa.cqt(
                fn(phase),
                sr=sr,
                hop_length=hop,
                fmin=config.fmin,
                n_bins=config.n_bins,
                bins_per_octave=config.bins_per_octave,
                filter_scale=config.filter_scale,
            )
            out.append(C[..., centre])
    Rc = np.concatenate(out_c).T  # (n_bins, n_grid)
    Rs = np.concatenate(out_s).T
    return grid, Rc, Rs, centre


def sinusoid_cqt(freqs, amps, phases, *, config: CQTConfig = CHORD_CQT, chunk: int = 256):
    """Complex CQT frames of sums of sinusoids ``amp * cos(2 pi f (t - t_d) + phase)``.

    Parameters
    ----------
    freqs : np.ndarray [shape=(n_clips, n_partials)]
        Frequency of every partial (Hz); pad with any frequency and amplitude 0.
    amps, phases : np.ndarray [shape=(n_clips, n_partials, n_frames)]
        Amplitude and phase of every partial at every frame ``d``, the phase taken at that
        frame's centre ``t_d`` (the response is the same at every frame away from the edges).

    Returns
    -------
    C : np.ndarray [shape=(n_clips, n_bins, n_frames)], complex64
    """
    grid, Rc, Rs, _ = sinusoid_response(config)
    if amps.shape != phases.shape or amps.shape[:2] != freqs.shape:
        raise ParameterError("amps and phases must be (n_clips, n_partials, n_frames) of freqs")
    step = np.log2(grid[1] / grid[0])
    Rc64, Rs64 = Rc.astype(np.complex64), Rs.astype(np.complex64)
    out = np.empty((freqs.shape[0], Rc.shape[0], amps.shape[-1]), dtype=np.complex64)
    for c0 in range(0, len(freqs), chunk):
        f = freqs[c0 : c0 + chunk]
        pos = np.clip(np.log2(np.maximum(f, grid[0]) / grid[0]) / step, 0, len(grid) - 1.001)
        i0 = pos.astype(int)
        w = (pos - i0).astype(np.float32)[:, None, :]  # (clips, 1, partials)
        # cos(theta + phi) = cos(phi) cos(theta) - sin(phi) sin(theta)
        a, ph = amps[c0 : c0 + chunk], phases[c0 : c0 + chunk]
        a_c = (a * np.cos(ph)).astype(np.complex64)
        a_s = (-a * np.sin(ph)).astype(np.complex64)
        acc = 0
        for R, coef in ((Rc64, a_c), (Rs64, a_s)):
            resp = R.T[i0] * (1 - w.transpose(0, 2, 1)) + R.T[i0 + 1] * w.transpose(0, 2, 1)
            acc = acc + np.matmul(resp.transpose(0, 2, 1), coef)  # (clips, bins, frames)
        out[c0 : c0 + chunk] = acc
    return out
