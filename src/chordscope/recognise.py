"""Chords out of an audio file: decode → log-CQT → posteriors → Viterbi → labelled segments.

Conventions
-----------
- Each step is a function that can be run and tested alone (madmom's processor chain, without
  the classes): :func:`load_audio`, :func:`estimate_tuning`, :func:`audio_features`,
  :func:`posteriors`, :func:`decode`, :func:`segments`; :func:`predict` chains them and
  :func:`predict_files` runs :func:`predict` over files and folders and writes the results.
- Segments are :class:`chordscope.io.Segment` s, tuples ``(start, end, label)`` or
  ``(start, end, label, confidence)`` with names, from :func:`segments` to the file writers.
- Audio is read in blocks (``soundfile``: wav, flac, ogg, mp3, ...; other formats through
  ``librosa.load``), mixed down to mono and resampled to the model's rate as it streams, then
  scaled to a peak of 0.9 (the level of chordscope's evaluation songs). A file of silence gives
  one ``N`` segment, not an error.
- The CQT and the network run over blocks of ``block_seconds`` with margins wider than the
  longest CQT filter, so a long file needs memory for its 16 kHz waveform and its frames only.
- Frame ``k`` is centred at ``k * hop / sr`` seconds; segments run from the first frame's
  centre minus half a hop to the last frame's centre plus half a hop, clipped to the file.
- Recordings are rarely at exactly A440: the tuning is estimated (``librosa.estimate_tuning`` on
  excerpts) and every CQT bin moved by it, so the chords land on the bins the models know.
- The network hears every spectrogram also moved up and down by 1 .. ``shift_average``
  semitones (default 1); each answer is moved back to the original key and the answers are
  averaged (:func:`posteriors`): a transposition ensemble at test time, sound for models
  trained on all twelve roots. ``shift_average=0`` runs the network once.
- A second recogniser over the same labels can name the qualities (``qualities``): each frame's
  root then comes from the first and its quality, given the root, from the second
  (:func:`roots_and_qualities`), each network on its own transform of the same audio.
- Temporal decoding is ``librosa.sequence.viterbi_discriminative`` with a uniform
  self-transition probability, in overlapping blocks for long files; segments shorter than
  ``min_duration`` are merged into the longer neighbour.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ChordscopeError, InputError, ModelFileError, OutputError, ParameterError
from .features import INPUT_PEAK, LOG_GAIN, SR, RecogniserInput, bins_per_semitone, log_cqt
from .io import Segment, chord_format, load_model
from .page import write_prediction_page
from .threads import choose_threads, cpu_reading, using_threads

__all__ = [
    "Recogniser",
    "load_recogniser",
    "pretrained_models",
    "default_qualities",
    "load_audio",
    "estimate_tuning",
    "audio_features",
    "posteriors",
    "roots_and_qualities",
    "shifted_classes",
    "decode",
    "segments",
    "silent_frames",
    "segment_confidence",
    "predict",
    "FileResult",
    "predict_files",
    "PEAK",
]

PEAK = INPUT_PEAK  # the level a file is scaled to unless its model says otherwise
#: Extensions read with soundfile; anything else goes through ``librosa.load`` (audioread).
SOUNDFILE_EXTENSIONS = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".au", ".w64"}


@dataclass
class Recogniser:
    """A trained recogniser with what :func:`predict` needs to run it.

    Attributes
    ----------
    model : torch.nn.Module  (eval mode, returns logits)
    labels : tuple of str  the Harte label of every output
    config : chordscope.features.CQTConfig  the features it was trained on
    n_context : int  frames on each side of the centre frame
    name : str  ``majmin``, ``sevenths`` or the path it was loaded from
    gain, peak : float  the input's compression gain and peak level (from ``model.json``)
    qualities : Recogniser or None  a second recogniser over the same labels, the same sample
        rate, hop and peak, that names each chord's quality once this one has named its root
        (:func:`roots_and_qualities`; ``load_recogniser(model, qualities=...)``)
    """

    model: object
    labels: tuple
    config: object
    n_context: int
    name: str
    gain: float = LOG_GAIN
    peak: float = INPUT_PEAK
    qualities: Recogniser | None = None


def pretrained_models() -> dict:
    """Names of the models shipped in ``chordscope/pretrained`` → their ``.safetensors`` path."""
    from importlib.resources import files

    folder = files("chordscope") / "pretrained"
    if not folder.is_dir():
        return {}
    return {
        Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".safetensors")
    }


@lru_cache(maxsize=8)
def _load_cached(path: str):
    model, meta = load_model(path)
    arch = meta.get("architecture", {})
    if not hasattr(model, "frame_logits"):
        raise ModelFileError(
            f"{path}: a {arch.get('name')} cannot label audio (it has no frame_logits: "
            "train one with chordscope train)"
        )
    try:
        labels = tuple(meta["vocabulary"]["labels"])
        features = RecogniserInput.from_json(meta["features"])
    except (KeyError, TypeError, ValueError, ParameterError) as exc:
        raise ModelFileError(f"{path}: model.json lacks vocabulary or features ({exc})") from None
    if len(labels) != arch.get("n_classes") or 2 * features.n_context + 1 != arch.get("n_frames"):
        raise ModelFileError(f"{path}: vocabulary or context does not fit the architecture")
    c = features.cqt
    try:
        per = bins_per_semitone(c)
    except ParameterError:  # an octave that is not whole semitones fits no recogniser
        per = None
    if c.n_bins != arch.get("n_bins", 73) or per != arch.get("bins_per_semitone", 1):
        raise ModelFileError(
            f"{path}: the transform ({c.n_bins} bins, {c.bins_per_octave} an octave) does not "
            "fit the architecture"
        )
    return model, labels, features


def load_recogniser(model="majmin", qualities=None) -> Recogniser:
    """Load a shipped model by name (``majmin``, ``sevenths``) or a trained one by path.

    Parameters
    ----------
    model : str or path-like or Recogniser
        A pretrained name, a run folder of ``chordscope train``, a ``.safetensors`` file (with
        its ``.json`` beside it), or an already loaded :class:`Recogniser` (returned as is).
    qualities : str or path-like or Recogniser, optional
        A second model, loaded the same way, to name each chord's quality once ``model`` has
        named its root (:func:`roots_and_qualities`; e.g. ``majmin-fine``, whose finer
        transform tells a minor third from a major one better): it must have ``model``'s
        labels, sample rate, hop and peak. ``"auto"``: :func:`default_qualities` of ``model``.

    Raises
    ------
    ModelFileError  for an unknown name, a missing or corrupt file, a model that is not a
        ``ChordCNN`` with a vocabulary (safetensors only: nothing in the file is executed), or
        a ``qualities`` model that does not fit ``model``.

    Examples
    --------
    >>> rec = load_recogniser("majmin", qualities="majmin-fine")
    >>> rec.name, rec.qualities.name, rec.qualities.config.bins_per_octave
    ('majmin', 'majmin-fine', 36)
    """
    if isinstance(qualities, str) and qualities == "auto":
        qualities = default_qualities(model)
    if qualities is not None:
        return _with_qualities(load_recogniser(model), load_recogniser(qualities))
    if isinstance(model, Recogniser):
        return model
    shipped = pretrained_models()
    if isinstance(model, str) and model in shipped:
        path, name = shipped[model], model
    else:
        path, name = Path(model), str(model)
        if not path.exists():
            known = ", ".join(sorted(shipped)) or "none shipped"
            raise ModelFileError(
                f"model {name!r} is neither a pretrained name ({known}) nor a path"
            )
    net, labels, f = _load_cached(str(Path(path).resolve()))
    return Recogniser(net, labels, f.cqt, f.n_context, name, gain=f.gain, peak=f.peak)


def default_qualities(model) -> str | None:
    """Name the shipped model that names the qualities of ``model`` when ``qualities="auto"``.

    ``NAME-fine`` for a shipped ``NAME`` where both are shipped (the same recipe on the finer
    transform: README, *Roots from one transform, qualities from the other*); ``None`` for
    anything else (a model file, a loaded :class:`Recogniser`, a fine model itself).

    Examples
    --------
    >>> default_qualities("majmin"), default_qualities("majmin-fine")
    ('majmin-fine', None)
    """
    shipped = pretrained_models()
    if isinstance(model, str) and model in shipped and f"{model}-fine" in shipped:
        return f"{model}-fine"
    return None


def _with_qualities(rec: Recogniser, q: Recogniser) -> Recogniser:
    """``rec`` with ``q`` naming its qualities, where ``q`` fits it (else ModelFileError)."""
    from dataclasses import replace

    def frames(r):
        return r.config.sr, r.config.hop_length, r.peak

    why = ""
    if q.qualities is not None:
        why = "itself takes its qualities from another model"
    elif q.labels != rec.labels:
        why = "has other labels"
    elif frames(q) != frames(rec):
        why = "has another sample rate, hop or peak"
    if why:
        raise ModelFileError(f"{q.name} cannot name the qualities of {rec.name}: it {why}")
    return replace(rec, qualities=q)


def _check_finite(block: np.ndarray, path: Path) -> None:
    if not np.all(np.isfinite(block)):
        raise InputError(f"{path}: the audio holds NaN or infinite samples")


def load_audio(
    path, *, sr: int = SR, block_seconds: float = 30.0, peak: float = INPUT_PEAK
) -> np.ndarray:
    """Decode an audio file to a mono float32 waveform at ``sr``, scaled to a peak of ``peak``.

    Reads in blocks of ``block_seconds`` and resamples as it goes (``soxr`` streaming), so the
    memory is the output's plus one block. Stereo and multichannel audio is averaged.

    Raises
    ------
    InputError  naming the file: missing, not audio, no samples, NaN or infinite samples.

    Examples
    --------
    >>> y = load_audio("song000.wav")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    if path.suffix.lower() in SOUNDFILE_EXTENSIONS:
        y = _load_soundfile(path, sr, block_seconds)
    else:
        y = _load_librosa(path, sr)
    if y.size == 0:
        raise InputError(f"{path}: the file holds no audio samples")
    top = max(float(y.max()), -float(y.min()))  # not np.abs(y): no copy of a long waveform
    if top > 0:
        y *= peak / top
    return y


def _load_soundfile(path: Path, sr: int, block_seconds: float) -> np.ndarray:
    import soundfile as sf
    import soxr

    try:
        f = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise InputError(f"{path}: not an audio file that can be read ({exc})") from None
    with f:
        native = f.samplerate
        if not 1 <= native <= 1_000_000 or not 1 <= f.channels <= 1024:
            raise InputError(
                f"{path}: {native} Hz and {f.channels} channels: not audio chordscope can read"
            )
        # float files may hold any value (1e38, 1e300): find the peak first, scale to 1
        floating = f.subtype in ("FLOAT", "DOUBLE")
        scale = _float_file_scale(f, path, int(block_seconds * native)) if floating else 1.0
        stream = None if native == sr else soxr.ResampleStream(native, sr, 1, dtype="float32")
        # one buffer for the whole output (no list of blocks to concatenate: half the memory)
        out = np.empty(int(np.ceil(max(f.frames, 0) * sr / native)) + 4096, dtype=np.float32)
        pos = 0
        block = max(1, int(block_seconds * native))
        try:
            while True:
                x = f.read(block, dtype="float64" if floating else "float32", always_2d=True)
                last = len(x) < block
                _check_finite(x, path)
                if floating:
                    mono = (x.mean(axis=1) * scale).astype(np.float32)
                else:
                    mono = x.mean(axis=1, dtype=np.float32)
                part = mono if stream is None else stream.resample_chunk(mono, last=last)
                if pos + len(part) > len(out):  # a header that under-counts its frames
                    out = np.concatenate([out[:pos], np.empty(2 * len(part) + 4096, np.float32)])
                out[pos : pos + len(part)] = part
                pos += len(part)
                if last:
                    break
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise InputError(f"{path}: the audio could not be decoded ({exc})") from None
    return out[:pos]


def _float_file_scale(f, path: Path, block: int) -> float:
    """Return 1 / the peak of an open float sound file if above 1 (else 1); rewind it.

    Checks every sample is finite on the way, so huge or non-finite values never reach the
    resampler.
    """
    top = 0.0
    for x in f.blocks(max(1, block), dtype="float64", always_2d=True):
        _check_finite(x, path)
        if x.size:
            top = max(top, float(np.abs(x).max()))
    f.seek(0)
    return 1.0 / top if top > 1 else 1.0


def _load_librosa(path: Path, sr: int) -> np.ndarray:
    import librosa

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y, _ = librosa.load(str(path), sr=sr, mono=True, dtype=np.float32)
    except Exception as exc:  # audioread raises many unrelated types; the message is kept
        raise InputError(f"{path}: not an audio file that can be read ({exc})") from None
    _check_finite(y, path)
    return y


def estimate_tuning(y: np.ndarray, sr: int, *, excerpts: int = 12, seconds: float = 10.0) -> float:
    """Tuning of a recording relative to A440, in semitones (-0.5 .. 0.5).

    ``librosa.estimate_tuning`` on up to ``excerpts`` excerpts of ``seconds`` spread over the
    file (a whole hour need not be analysed to find its tuning). Silence, or less than a second
    of audio, gives 0.

    Examples
    --------
    >>> estimate_tuning(np.zeros(16000), 16000)
    0.0
    """
    import librosa

    n = int(seconds * sr)
    if len(y) <= excerpts * n:
        part = y
    else:
        starts = np.linspace(0, len(y) - n, excerpts).astype(int)
        part = np.concatenate([y[s : s + n] for s in starts])
    if len(part) < sr or not np.any(part):  # under a second, or silence: nothing to measure
        return 0.0
    return float(librosa.estimate_tuning(y=part, sr=sr, bins_per_octave=12))


def audio_features(
    y: np.ndarray,
    config,
    *,
    block_seconds: float = 60.0,
    tuning: float = 0.0,
    gain: float = LOG_GAIN,
    progress: Callable | None = None,
) -> np.ndarray:
    """``log(1 + gain |CQT|)`` of a whole waveform, computed over blocks with margins.

    Equal to :func:`chordscope.features.log_cqt` of the whole signal (to float precision) while
    holding only one block's transform at a time. ``tuning`` is the recording's offset from
    A440 in semitones (:func:`estimate_tuning`), whatever the transform's bins a semitone.
    ``progress``, if given, is called as ``progress(0, audio="120/840 s")`` after each block
    (long files on a terminal).

    Returns
    -------
    F : np.ndarray [shape=(n_bins, n_frames)], float32, ``n_frames = 1 + len(y) // hop``
    """
    hop = config.hop_length
    n_frames = 1 + len(y) // hop
    per_block = max(1, int(block_seconds * config.sr) // hop)
    margin = int(np.ceil(2.0 * config.sr / hop))  # 2 s: longer than the longest CQT filter
    out = np.empty((config.n_bins, n_frames), dtype=np.float32)
    for f0 in range(0, n_frames, per_block):
        f1 = min(n_frames, f0 + per_block)
        a, b = max(0, f0 - margin), min(n_frames, f1 + margin)
        seg = y[a * hop : len(y) if b == n_frames else (b - 1) * hop + 1]
        # librosa pads the ends of a segment; margins make that padding irrelevant inside
        with warnings.catch_warnings():  # very short files: librosa's lowest octaves warn
            warnings.filterwarnings("ignore", message="n_fft=.*is too large for input signal")
            F = log_cqt(seg, config=config, tuning=tuning, gain=gain)
        out[:, f0:f1] = F[:, f0 - a : f1 - a]
        if progress is not None:
            progress(0, audio=f"{f1 * hop / config.sr:.0f}/{n_frames * hop / config.sr:.0f} s")
    return out


def _prefixed(progress: Callable, prefix: str) -> Callable:
    """``progress`` with ``prefix`` put before each number it is told (a second pass's reports)."""
    return lambda n=0, **numbers: progress(n, **{k: f"{prefix}{v}" for k, v in numbers.items()})


def _check_shift(shift_average) -> None:
    ok = isinstance(shift_average, (int, np.integer)) and not isinstance(shift_average, bool)
    if not (ok and 0 <= shift_average <= 6):
        raise ParameterError(f"shift_average={shift_average!r} must be a whole number in 0 .. 6")


def shifted_classes(labels, shift: int) -> np.ndarray:
    """Return ``i`` such that ``labels[i[j]]`` is ``labels[j]`` moved up ``shift`` semitones.

    ``N`` and any label without a root (the ``seed`` vocabulary's ``maj`` and ``min``) stay
    where they are. Raises
    :class:`~chordscope.errors.ParameterError` when a moved label is not in ``labels``.

    Examples
    --------
    >>> from chordscope.chords import get_vocabulary
    >>> labels = get_vocabulary("majmin").labels  # N, C:maj, C:min, C#:maj, ..., B:min
    >>> [labels[i] for i in shifted_classes(labels, 1)[:3]]
    ['N', 'C#:maj', 'C#:min']
    """
    from .chords import PITCH_NAMES, parse_label

    where = {lab: i for i, lab in enumerate(labels)}
    out = np.arange(len(labels))
    for j, lab in enumerate(labels):
        if ":" not in lab:
            continue
        root = parse_label(lab)[0]
        moved = PITCH_NAMES[(root + shift) % 12] + lab[lab.index(":") :]
        if moved not in where:
            raise ParameterError(f"{lab} moved by {shift} semitones ({moved}) is not a class")
        out[j] = where[moved]
    return out


def _shifted_bins(F: np.ndarray, shift: int) -> np.ndarray:
    """``F (n_bins, n)`` moved up ``shift`` bins (down when negative); silence comes in."""
    out = np.zeros_like(F)
    if shift >= 0:
        out[shift:] = F[: F.shape[0] - shift]
    else:
        out[:shift] = F[-shift:]
    return out


def posteriors(
    rec: Recogniser, F: np.ndarray, *, batch_frames: int = 8192, shift_average: int = 0
) -> np.ndarray:
    """Softmax of the network over every frame of ``F`` (with its context), in blocks.

    Each block of ``batch_frames`` frames goes through the model's ``frame_logits`` with the
    model's ``margin`` (``n_context`` for a ChordCNN, seconds for a ChordTCN) of real frames on
    each side, so the result equals running the network on the whole spectrogram at once.

    With ``shift_average = K > 0`` the network also hears each block moved by ±1 .. ±K
    semitones (their bins; silence enters at the edge); the answer to the block moved by ``s`` is
    moved back by ``s`` classes (:func:`shifted_classes`), and the ``2K + 1`` answers are
    averaged. A recogniser trained on all twelve roots (the pretrained ``majmin`` and
    ``sevenths`` also with these very moves, ``pitch_shift``) hears a transposed chord as that
    chord, so each pass is as fair a question; their mean is a small ensemble at ``2K + 1``
    times the network's cost.

    Returns
    -------
    P : np.ndarray [shape=(n_frames, n_classes)], float32
    """
    import torch

    _check_shift(shift_average)
    shifts = list(range(-shift_average, shift_average + 1))
    moves = {s: shifted_classes(rec.labels, s) for s in shifts if s}
    k = getattr(rec.model, "margin", rec.n_context)
    per = bins_per_semitone(rec.config)
    n = F.shape[-1]
    P = np.empty((n, len(rec.labels)), dtype=np.float32)
    with torch.inference_mode():
        for i in range(0, n, batch_frames):
            j = min(n, i + batch_frames)
            a, b = max(0, i - k), min(n, j + k)
            block = np.ascontiguousarray(F[:, a:b])
            total = None
            for s in shifts:
                x = block if s == 0 else _shifted_bins(block, s * per)
                logits = rec.model.frame_logits(torch.from_numpy(x))
                p = torch.softmax(logits[i - a : j - a], -1).numpy()
                p = p if s == 0 else p[:, moves[s]]
                total = p if total is None else total + p
            P[i:j] = total / len(shifts)
    return P


def roots_and_qualities(P_roots: np.ndarray, P_qualities: np.ndarray, labels) -> np.ndarray:
    """Posteriors with each root as ``P_roots`` has it and its qualities as ``P_qualities`` does.

    Per frame, the chance of root ``r`` (the sum over ``r``'s chords) is taken from
    ``P_roots`` and shared among ``r``'s chords in the proportions ``P_qualities`` gives them;
    ``N`` gets the mean of the two, and the chords share the rest in those proportions. With
    the plain transform for roots and the finer one for qualities (``majmin`` with
    ``majmin-fine``) this keeps the plain network's roots and the fine one's thirds (README,
    *Roots from one transform, qualities from the other*).

    Parameters
    ----------
    P_roots, P_qualities : np.ndarray [shape=(n_frames, n_labels)]  rows that sum to 1
    labels : sequence of str  the Harte label of each column (``N`` and chords with a root)

    Returns
    -------
    P : np.ndarray [shape=(n_frames, n_labels)], float32, rows that sum to 1

    Examples
    --------
    >>> labels = ("N", "C:maj", "C:min", "D:maj", "D:min")
    >>> roots = np.array([[0.1, 0.5, 0.1, 0.2, 0.1]])  # C 0.6, D 0.3: C major
    >>> qualities = np.array([[0.3, 0.1, 0.3, 0.2, 0.1]])  # C minor
    >>> roots_and_qualities(roots, qualities, labels).round(3)
    array([[0.2  , 0.133, 0.4  , 0.178, 0.089]], dtype=float32)
    """
    from .chords import parse_label

    A = np.asarray(P_roots, dtype=np.float64)
    B = np.asarray(P_qualities, dtype=np.float64)
    if A.shape != B.shape or A.shape[-1] != len(labels):
        raise ParameterError(
            f"posteriors of shapes {A.shape} and {B.shape} for {len(labels)} labels"
        )
    roots = np.array([parse_label(lab)[0] for lab in labels])  # N: -1
    P = np.zeros_like(A)
    for r in np.unique(roots[roots >= 0]):
        cols = np.flatnonzero(roots == r)
        share = B[:, cols] / np.maximum(B[:, cols].sum(1, keepdims=True), 1e-30)
        P[:, cols] = A[:, cols].sum(1, keepdims=True) * share
    chords = roots >= 0
    P[:, ~chords] = (A[:, ~chords] + B[:, ~chords]) / 2
    rest = 1 - P[:, ~chords].sum(1)  # what the chords share
    P[:, chords] *= (rest / np.maximum(P[:, chords].sum(1), 1e-30))[:, None]
    return (P / P.sum(1, keepdims=True)).astype(np.float32)


#: A frame is silent when no CQT bin reaches this ``log(1 + 100 |C|)`` (|C| < 1e-5 everywhere).
SILENCE = 1e-3


def silent_frames(P: np.ndarray, F: np.ndarray, labels) -> np.ndarray:
    """Set the posteriors of silent frames of ``F`` to certain ``N`` (in place); return the mask.

    Digital silence says nothing about chords, whatever the network answers for it.
    """
    silent = F.max(axis=0) < SILENCE
    if "N" in labels and silent.any():
        P[silent] = 0.0
        P[silent, list(labels).index("N")] = 1.0
    return silent


def decode(
    P: np.ndarray,
    *,
    self_transition: float = 0.97,
    block_frames: int = 16384,
    overlap: int = 1024,
) -> np.ndarray:
    """Decode the most likely class path through the posteriors ``P`` (``librosa.sequence``).

    Every class stays with probability ``self_transition`` and moves to each other class with an
    equal share of the rest. Long inputs are decoded in blocks of ``block_frames`` with
    ``overlap`` frames of context on each side (33 s at the default hop), keeping each block's
    centre: Viterbi's memory grows with frames × classes, and with a self-transition prior the
    best path through a block's centre does not depend on frames half a minute away (tested
    against decoding the whole input).

    Returns
    -------
    path : np.ndarray [shape=(n_frames,)], int
    """
    import librosa

    if not 0 < self_transition < 1:
        raise ParameterError(f"self_transition={self_transition!r} must be in (0, 1)")
    n, n_classes = P.shape
    trans = librosa.sequence.transition_loop(n_classes, self_transition)

    def viterbi(part):
        probs = np.clip(part.T.astype(np.float64), 1e-10, 1.0)
        return librosa.sequence.viterbi_discriminative(probs, trans)

    if n <= block_frames + 2 * overlap:
        return viterbi(P)
    path = np.empty(n, dtype=np.int64)
    for s in range(0, n, block_frames):
        e = min(n, s + block_frames)
        a, b = max(0, s - overlap), min(n, e + overlap)
        path[s:e] = viterbi(P[a:b])[s - a : e - a]
    return path


def segments(
    path_classes: np.ndarray,
    labels,
    *,
    hop_s: float,
    duration: float,
    min_duration: float = 0.0,
) -> list[Segment]:
    """Turn a frame path into ``(start, end, label)`` segments that tile ``[0, duration]``.

    Runs of one class become one segment; a segment shorter than ``min_duration`` joins its
    longer neighbour (repeated until none is shorter, or only one is left).

    Examples
    --------
    >>> segments(np.array([0, 1, 1, 1, 2, 1, 1]), ["N", "C:maj", "A:min"], hop_s=1.0,
    ...          duration=7.0, min_duration=1.5)
    [(0.0, 7.0, 'C:maj')]
    """
    if min_duration < 0:
        raise ParameterError(f"min_duration={min_duration!r} must be >= 0")
    path_classes = np.asarray(path_classes)
    if len(path_classes) == 0 or duration <= 0:
        return [Segment(0.0, max(0.0, float(duration)), "N")]
    change = np.flatnonzero(np.diff(path_classes)) + 1
    starts = np.concatenate([[0], change])
    bounds = [0.0] + [min(duration, (s - 0.5) * hop_s) for s in change] + [float(duration)]
    segs = [[bounds[i], bounds[i + 1], int(path_classes[s])] for i, s in enumerate(starts)]
    while len(segs) > 1:
        lengths = [e - s for s, e, _ in segs]
        i = int(np.argmin(lengths))
        if lengths[i] >= min_duration:
            break
        left = lengths[i - 1] if i > 0 else -1.0
        right = lengths[i + 1] if i + 1 < len(segs) else -1.0
        j = i - 1 if left >= right else i + 1
        segs[j] = [min(segs[i][0], segs[j][0]), max(segs[i][1], segs[j][1]), segs[j][2]]
        del segs[i]
        merged = [segs[0]]  # neighbours that now carry the same class become one
        for s in segs[1:]:
            if s[2] == merged[-1][2]:
                merged[-1][1] = s[1]
            else:
                merged.append(s)
        segs = merged
    return [Segment(round(float(s), 6), round(float(e), 6), labels[c]) for s, e, c in segs]


def segment_confidence(segs, P: np.ndarray, labels, *, hop_s: float) -> list[Segment]:
    """Return the segments with their confidence: ``(start, end, label, confidence)``.

    The confidence is the mean posterior of ``label`` over the frames whose centres
    (``k * hop_s``) fall in the segment (the nearest frame for a segment shorter than a hop),
    rounded to 4 decimals.

    Examples
    --------
    >>> P = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]])
    >>> segment_confidence([(0.0, 1.5, "N"), (1.5, 4.0, "C:maj")], P, ["N", "C:maj"], hop_s=1.0)
    [(0.0, 1.5, 'N', 0.85), (1.5, 4.0, 'C:maj', 0.8)]
    """
    index = {lab: i for i, lab in enumerate(labels)}
    out = []
    for start, end, label, *_ in segs:
        a = int(np.ceil(start / hop_s))
        b = max(a + 1, int(np.ceil(end / hop_s)))
        a, b = min(a, len(P) - 1), min(b, len(P))
        out.append(Segment(start, end, label, round(float(P[a:b, index[label]].mean()), 4)))
    return out


def _check_settings(self_transition, min_duration, tuning, shift_average) -> None:
    """Raise :class:`~chordscope.errors.ParameterError` for a decoding setting out of range."""
    if not 0 < self_transition < 1:
        raise ParameterError(f"self_transition={self_transition!r} must be in (0, 1)")
    if not min_duration >= 0:
        raise ParameterError(f"min_duration={min_duration!r} must be >= 0")
    if tuning != "auto" and not (isinstance(tuning, (int, float)) and -0.5 <= tuning <= 0.5):
        raise ParameterError(f"tuning={tuning!r} must be 'auto' or semitones in -0.5 .. 0.5")
    _check_shift(shift_average)


def predict(
    path,
    model="majmin",
    *,
    qualities="auto",
    self_transition: float = 0.97,
    min_duration: float = 0.25,
    tuning="auto",
    shift_average: int = 1,
    return_confidence: bool = False,
    return_timing: bool = False,
    threads: int | None = None,
    keep_features: Callable[[np.ndarray], object] | None = None,
    progress: Callable | None = None,
):
    """Chord segments of an audio file.

    Parameters
    ----------
    path : path-like  an audio file (wav, flac, ogg, mp3, ...)
    model : str or path-like or Recogniser  ``"majmin"``, ``"sevenths"`` or a trained model
    qualities : str or path-like or Recogniser or None  a second model that names each
        chord's quality once ``model`` has named its root (:func:`load_recogniser`): it hears
        its own transform of the same audio. ``"auto"`` (default): :func:`default_qualities`
        (``"majmin-fine"`` for ``"majmin"``, none for a model file); ``None``: ``model`` alone
    self_transition : float  the Viterbi self-transition probability per frame (32 ms)
    min_duration : float  shortest segment kept, seconds
    tuning : "auto" or float  the recording's offset from A440 in semitones (-0.5 .. 0.5);
        ``"auto"`` estimates it (:func:`estimate_tuning`), ``0`` assumes A440
    shift_average : int  average the network's answers over the spectrogram moved by
        -K .. K semitones (:func:`posteriors`); 1 (default) runs the network 3 times, 0 once
    return_confidence : bool  add each segment's confidence: the mean posterior of its label
        over its frames (what JAMS and CSV outputs store)
    return_timing : bool  also return the seconds spent per stage
    threads : int, optional  torch threads for the network (default: the free cores, see
        :mod:`chordscope.threads`; the environment wins)
    keep_features : callable, optional  called with the log-CQT ``(n_bins, n_frames)`` the
        network saw (for a picture of it: :func:`chordscope.page.write_prediction_page`)
    progress : callable, optional  told how far the features of a long file have come
        (:func:`audio_features`); with ``qualities``, the second transform reports as
        ``audio="qualities 120/840 s"``

    Returns
    -------
    segments : list of :class:`~chordscope.io.Segment`
        ``(start, end, label)`` (``(start, end, label, confidence)`` with
        ``return_confidence``), seconds and Harte labels, tiling the file; with
        ``return_timing``, ``(segments, seconds per stage)``

    Examples
    --------
    >>> import chordscope
    >>> chordscope.predict("song.wav")  # doctest: +SKIP
    [(0.0, 0.992, 'N'), (0.992, 3.456, 'C:maj'), ...]
    """
    _check_settings(self_transition, min_duration, tuning, shift_average)
    rec = load_recogniser(model, qualities)
    t = [time.perf_counter()]
    mark = cpu_reading()  # who else is busy while we read: measured at no cost (threads)
    y = load_audio(path, sr=rec.config.sr, peak=rec.peak)
    t.append(time.perf_counter())
    if tuning == "auto":
        tuning = estimate_tuning(y, rec.config.sr)
    t.append(time.perf_counter())
    F = audio_features(y, rec.config, tuning=tuning, gain=rec.gain, progress=progress)
    if keep_features is not None:
        keep_features(F)
    q = rec.qualities
    if q is not None:  # the second transform reports as "qualities 120/840 s"
        told = None if progress is None else _prefixed(progress, "qualities ")
        Fq = audio_features(y, q.config, tuning=tuning, gain=q.gain, progress=told)
    duration = len(y) / rec.config.sr
    del y  # the waveform is not needed any more: free it before the network and Viterbi
    t.append(time.perf_counter())
    with using_threads(choose_threads("predict", threads, since=mark)):
        P = posteriors(rec, F, shift_average=shift_average)
        if q is not None:
            P = roots_and_qualities(P, posteriors(q, Fq, shift_average=shift_average), rec.labels)
    silent_frames(P, F, rec.labels)
    t.append(time.perf_counter())
    best = decode(P, self_transition=self_transition)
    segs = segments(
        best,
        rec.labels,
        hop_s=rec.config.hop_length / rec.config.sr,
        duration=duration,
        min_duration=min_duration,
    )
    if return_confidence:
        segs = segment_confidence(segs, P, rec.labels, hop_s=rec.config.hop_length / rec.config.sr)
    t.append(time.perf_counter())
    if return_timing:
        names = ("decode_audio", "tuning", "features", "network", "viterbi")
        return segs, {k: t[i + 1] - t[i] for i, k in enumerate(names)}
    return segs


@dataclass
class FileResult:
    """What :func:`predict_files` did with one input.

    Attributes
    ----------
    source : Path  the audio file (or the folder without audio files)
    destination : Path or None  the chord file written; ``None`` when nothing was written
    segments : list of Segment or None  what was written
    error : ChordscopeError or None  why nothing was written (one line, naming the file)
    page : Path or None  the prediction page (``html=True``)
    """

    source: Path
    destination: Path | None = None
    segments: list | None = None
    error: ChordscopeError | None = None
    page: Path | None = None

    @property
    def ok(self) -> bool:
        """Whether the chord file was written (``error`` is ``None``)."""
        return self.error is None


def _made_by(settings: dict) -> str:
    """One line naming the model(s) and settings of a prediction, for its page.

    >>> _made_by({"model": "majmin", "qualities": "majmin-fine", "tuning": 0.1, "audio": "a.wav"})
    'chordscope majmin (qualities: majmin-fine), tuning 0.1'
    """
    words = [f"chordscope {settings['model']}"]
    if settings.get("qualities"):
        words[0] += f" (qualities: {settings['qualities']})"
    words += [f"{k.replace('_', ' ')} {v}" for k, v in settings.items()
              if k not in ("model", "qualities", "audio")]  # fmt: skip
    return ", ".join(words)


def _audio_inputs(paths):
    """Yield ``(path, None)`` for each file to label.

    Each path is taken as given, a folder as its audio files (sorted, not recursive); a folder
    without any yields ``(folder, InputError)``.
    """
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(
                f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SOUNDFILE_EXTENSIONS
            )
            if not found:
                yield p, InputError(f"{p}: a folder without audio files")
            for f in found:
                yield f, None
        else:
            yield p, None


def predict_files(
    inputs,
    *,
    model="majmin",
    qualities="auto",
    out_dir=None,
    format: str = "lab",
    self_transition: float = 0.97,
    min_duration: float = 0.25,
    tuning="auto",
    shift_average: int = 1,
    metadata: dict | None = None,
    on_result: Callable[[FileResult], object] | None = None,
    threads: int | None = None,
    html: bool = False,
    audio_mode: str = "auto",
    progress: Callable | None = None,
) -> list[FileResult]:
    """Label the chords of audio files and write each to a chord file.

    This is what ``chordscope predict`` does. Every file is labelled by :func:`predict` and
    written to ``<out_dir>/<stem><suffix>`` (``out_dir`` defaults to the audio's own folder) by
    the format's writer in :data:`chordscope.io.CHORD_FORMATS`. A file that cannot be read,
    decoded or written does not stop the others: its :class:`~chordscope.errors.ChordscopeError`
    is kept in its :class:`FileResult`. Mistakes that concern every file (a setting, the model,
    ``out_dir``) raise before any file is read.

    Parameters
    ----------
    inputs : path-like or iterable of path-like
        Audio files (wav, flac, ogg, mp3, ...) and folders; a folder stands for its audio
        files (:data:`SOUNDFILE_EXTENSIONS`, sorted by name, not its subfolders), and one
        without any gives a failed result.
    model, qualities : str or path-like or Recogniser  as for :func:`predict` (loaded once)
    out_dir : path-like, optional  created if missing; default: beside each audio file
    format : str or chordscope.io.ChordFormat  ``"lab"`` (MIREX), ``"jams"`` or ``"csv"``;
        JAMS and CSV keep each segment's confidence
    self_transition, min_duration, tuning, shift_average  as for :func:`predict`
    metadata : dict, optional  JSON-ready values stored by formats with room for them (JAMS:
        see :func:`chordscope.io.write_jams`), over the settings recorded by default:
        ``model``, ``audio`` (the file name), ``tuning``, ``self_transition``, ``min_duration``,
        ``shift_average`` and, where one is given, ``qualities``
    on_result : callable, optional  called with each :class:`FileResult` as soon as its file
        is done (to print progress)
    threads : int, optional  as for :func:`predict` (each file measures the free cores anew)
    html : bool  also write ``<stem>.html`` beside each chord file: the prediction page of
        :func:`chordscope.page.write_prediction_page` (audio, chromagram, chords, confidence)
    audio_mode : str  how the page holds the audio: ``auto``, ``embed`` or ``link``
    progress : callable, optional  called as ``progress(0, phase="NAME (k of n)")`` as each file
        begins, ``progress(0, audio=...)`` as its features advance, ``progress(1)`` when it is done

    Returns
    -------
    results : list of FileResult  one per audio file (and per folder without audio), in order

    Raises
    ------
    ParameterError  for an unknown format or a setting out of range
    ModelFileError  for a model that cannot be loaded
    OutputError  for an ``out_dir`` that cannot be created or written, or two inputs that would
        write the same file (``a.wav`` and ``a.flac``): nothing is written then

    Examples
    --------
    >>> import chordscope
    >>> results = chordscope.predict_files(["a.wav", "music/"], out_dir="labels")  # doctest: +SKIP
    >>> [(r.destination.name, len(r.segments)) for r in results if r.ok]  # doctest: +SKIP
    [('a.lab', 41), ('b.lab', 87)]
    >>> [str(r.error) for r in results if not r.ok]  # doctest: +SKIP
    []
    """
    fmt = chord_format(format)
    _check_settings(self_transition, min_duration, tuning, shift_average)
    rec = load_recogniser(model, qualities)
    out_dir = Path(out_dir) if out_dir is not None else None
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    if audio_mode not in ("auto", "embed", "link"):
        raise ParameterError(f"audio_mode={audio_mode!r} must be auto, embed or link")
    choose_threads("predict", threads, since=cpu_reading())  # a bad count fails here, at once
    work = list(_audio_inputs(inputs))
    claimed = {}
    for src, error in work:  # two inputs must not write one file (a.wav and a.flac)
        if error is None:
            dest = (out_dir if out_dir is not None else src.parent) / f"{src.stem}{fmt.suffix}"
            if dest in claimed:
                raise OutputError(
                    f"{claimed[dest]} and {src} would both be written to {dest}; "
                    "label them into different folders (-o)"
                )
            claimed[dest] = src
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write to {out_dir}: {exc.strerror or exc}") from None
        if not os.access(out_dir, os.W_OK):
            raise OutputError(f"cannot write to {out_dir}: permission denied")
    results = []
    for k, (src, error) in enumerate(work):
        if progress is not None:
            progress(0, phase=f"{src.name} ({k + 1} of {len(work)})")
        if error is not None:  # a folder without audio files
            result = FileResult(source=src, error=error)
        else:
            dest = (out_dir if out_dir is not None else src.parent) / f"{src.stem}{fmt.suffix}"
            settings = {
                "model": rec.name,
                "audio": src.name,
                "tuning": tuning,
                "self_transition": self_transition,
                "min_duration": min_duration,
                "shift_average": shift_average,
            }
            if rec.qualities is not None:
                settings["qualities"] = rec.qualities.name
            settings.update(metadata or {})
            kept = []
            try:
                segs = predict(
                    src,
                    rec,
                    self_transition=self_transition,
                    min_duration=min_duration,
                    tuning=tuning,
                    shift_average=shift_average,
                    return_confidence=fmt.confidence or html,
                    threads=threads,
                    keep_features=kept.append if html else None,
                    progress=progress,
                )
                page = None
                if html:
                    page = write_prediction_page(
                        dest.with_suffix(".html"), src, segs, features=kept[0],
                        audio_mode=audio_mode, title=src.name, labelled_by=_made_by(settings),
                    )  # fmt: skip
                    if not fmt.confidence:
                        segs = [Segment(*s[:3]) for s in segs]
                fmt.write(dest, segs, metadata=settings)
            except ChordscopeError as exc:
                result = FileResult(source=src, error=exc)
            else:
                result = FileResult(source=src, destination=dest, segments=segs, page=page)
        if on_result is not None:
            on_result(result)
        results.append(result)
        if progress is not None:
            progress(1)
    return results
