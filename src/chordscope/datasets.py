"""Datasets for chord recognisers: chord clips and the labelled frames of rendered songs.

Conventions
-----------
- :class:`ChordDataConfig` says what a chord-clip dataset draws from (vocabulary, synthesis
  kinds, GM programs, SoundFonts, roots, octaves, noise, reverb); :func:`chord_examples` draws
  labelled context windows from it with a generator of :func:`split_rng` (train, validation and
  test never share a stream).
- :func:`song_frames` renders the simple training songs of :func:`chordscope.songs.training_song`
  and keeps every labelled frame in a :class:`FramePool`; :func:`label_frames` turns timed labels
  into frame classes (-1 where the vocabulary has no class).
- The musical training songs (``data = "music"``) have their own pool in
  :mod:`chordscope.musicdata`. The tutorial's data are in :mod:`chordscope.tutorial_data`.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .chords import get_vocabulary, voicing
from .errors import ParameterError, valid_choice, valid_positive_int
from .features import (
    CHORD_CQT,
    LOG_GAIN,
    CQTConfig,
    RecogniserInput,
    context_frames,
    log_cqt,
    sinusoid_cqt,
    sinusoid_response,
)
from .songs import render_song, training_song
from .synth import (
    SYNTHS,
    add_noise,
    additive_envelope,
    additive_partials,
    midi_notes,
    midi_to_hz,
    render,
    render_midi,
    reverb,
)

__all__ = [
    "ChordDataConfig",
    "chord_examples",
    "split_rng",
    "cache_examples",
    "label_frames",
    "frame_values",
    "FramePool",
    "song_frames",
]

_SPLITS = {"train": 10, "validation": 11, "test": 12}
_NOISE_SEED = 20171129  # seeds the measured noise bank (the tutorial data's TEST_SEED)


@dataclass(frozen=True)
class ChordDataConfig:
    """What a realistic chord dataset draws from. Every field has a documented default.

    Held-out tests: train with ``roots=(0..9)`` and test with ``roots=(10, 11)``, or the same with
    ``octaves``, ``programs`` or ``soundfonts``.
    """

    vocab: str = "majmin"  # chord vocabulary (chords.VOCABULARIES)
    synths: tuple[str, ...] = ("additive",)  # drawn uniformly per example
    programs: tuple[int, ...] = (0, 24, 48)  # GM programs for synth "soundfont"
    soundfonts: tuple[str, ...] = ("fluidr3", "timgm6mb")  # the two training SoundFonts
    roots: tuple[int, ...] = tuple(range(12))  # pitch classes the chords are built on
    octaves: tuple[int, ...] = (3, 4)  # octave of the voicing's root (C4 = MIDI 60)
    duration: float = 1.0  # seconds per example
    no_chord: float = 0.05  # probability of an N example (silence or noise only)
    snr_db: tuple[float, float] | None = (10.0, 40.0)  # uniform range; None: no noise
    reverb: float = 0.2  # probability of reverb (RT60 drawn in 0.2..1.0 s)
    n_context: int = 3  # frames on each side of the centre frame
    fast_additive: bool = True  # additive without reverb: compute the CQT without rendering
    cqt: CQTConfig = CHORD_CQT  # the transform of every example
    gain: float = LOG_GAIN  # log compression: log(1 + gain * |CQT|)

    @property
    def features(self) -> RecogniserInput:
        """The input a model trained on these examples expects (its ``model.json`` entry)."""
        return RecogniserInput(self.cqt, self.n_context, self.gain)

    def __post_init__(self):
        RecogniserInput(self.cqt, self.n_context, self.gain)  # checks n_context and gain
        get_vocabulary(self.vocab)
        if self.vocab == "seed":
            raise ParameterError("vocab='seed' is the tutorial's task: use tutorial_inputs")
        for s in self.synths:
            if s not in SYNTHS:
                raise ParameterError(f"synth={s!r} must be one of {', '.join(SYNTHS)}")
        if not self.synths:
            raise ParameterError("synths must name at least one synthesis kind")
        for p in self.programs:
            if not 0 <= int(p) <= 127:
                raise ParameterError(f"program={p!r} must be a General-MIDI program 0..127")
        if not self.roots or any(not 0 <= r < 12 for r in self.roots):
            raise ParameterError(f"roots={self.roots!r} must be pitch classes 0..11")


def chord_examples(config: ChordDataConfig, n: int, rng: np.random.Generator):
    """Draw ``n`` labelled examples: audio rendered and turned into context windows.

    Each example draws from its own child generator (seeded from ``rng``), so the result does not
    depend on rendering order. SoundFont examples of one (program, SoundFont) are rendered in a
    single FluidSynth call, one after another with gaps, then cut apart.

    Returns
    -------
    x : np.ndarray [shape=(n, 1, n_bins, 2 * n_context + 1)], float32
        The centre frame of each clip's log-CQT with its context.
    y : np.ndarray [shape=(n,)], int64  class index in the vocabulary (0 = N)
    labels : list of str  the Harte label of each example
    """
    n = valid_positive_int("n", n)
    vocab = get_vocabulary(config.vocab)
    n_q = (vocab.n_classes - 1) // 12
    sr = config.cqt.sr
    plans = []
    for _ in range(n):
        r = np.random.default_rng(int(rng.integers(2**63)))
        if r.random() < config.no_chord:
            label, notes = "N", []
        else:
            root = int(config.roots[r.integers(len(config.roots))])
            label = vocab.labels[1 + root * n_q + int(r.integers(n_q))]
            octave = int(config.octaves[r.integers(len(config.octaves))])
            notes = voicing(label, rng=r, octave=octave)
        plans.append(
            {
                "label": label,
                "notes": notes,
                "synth": config.synths[int(r.integers(len(config.synths)))],
                "program": int(config.programs[int(r.integers(len(config.programs)))]),
                "soundfont": config.soundfonts[int(r.integers(len(config.soundfonts)))],
                "rng": r,
            }
        )
    if set(config.synths) == {"additive"} and config.reverb == 0 and config.fast_additive:
        return _additive_examples_fast(config, plans, vocab)
    clips = [None] * n
    groups = {}
    for i, p in enumerate(plans):
        if p["synth"] == "soundfont" and p["notes"]:
            groups.setdefault((p["program"], p["soundfont"]), []).append(i)
        else:
            clips[i] = render(
                p["notes"], synth=p["synth"], duration=config.duration, sr=sr, rng=p["rng"]
            )
    for (program, sf), idx in groups.items():
        for i, y in zip(
            idx,
            _render_soundfont_batch(
                [plans[i]["notes"] for i in idx], program, sf, config.duration, sr
            ),
            strict=True,
        ):
            clips[i] = y
    for i, p in enumerate(plans):
        r = p["rng"]
        if p["notes"] and r.random() < config.reverb:
            clips[i] = reverb(clips[i], sr=sr, rt60=float(r.uniform(0.2, 1.0)), rng=r)
        if config.snr_db is not None:
            snr = float(r.uniform(*config.snr_db))
            clips[i] = add_noise(clips[i], snr, kind="pink" if r.random() < 0.5 else "white", rng=r)
    F = log_cqt(np.stack(clips), config=config.cqt, gain=config.gain)  # one batched CQT
    centre = F.shape[-1] // 2
    W = context_frames(F, config.n_context)[:, centre]  # (n, n_bins, 2k + 1)
    labels = [p["label"] for p in plans]
    y = np.array([vocab.index(lab) for lab in labels], dtype=np.int64)
    return W[:, None].astype(np.float32), y, labels


@lru_cache(maxsize=2)
def _noise_bank(kind: str, n_context: int, c: CQTConfig, size: int = 256):
    """Complex CQT context frames of ``size`` unit-power noise clips (white or pink), once."""
    import librosa

    _, _, _, centre = sinusoid_response(c)
    rng = np.random.default_rng(np.random.SeedSequence([_NOISE_SEED, 99, kind == "pink"]))
    sr = c.sr
    w = np.stack([add_noise(np.zeros(sr), 0.0, kind=kind, rng=rng) for _ in range(size)])
    w /= np.sqrt(np.mean(w**2, axis=-1, keepdims=True))
    C = librosa.cqt(
        w,
        sr=sr,
        hop_length=c.hop_length,
        fmin=c.fmin,
        n_bins=c.n_bins,
        bins_per_octave=c.bins_per_octave,
        filter_scale=c.filter_scale,
    )
    return C[..., centre - n_context : centre + n_context + 1]


def _additive_examples_fast(config, plans, vocab):
    """Compute the ``additive`` examples of ``plans`` in the CQT domain (no audio).

    Draws exactly what :func:`chordscope.synth.render` would draw for each note (partials,
    envelope), evaluates every partial's amplitude and phase at the centre of each context frame
    and sums the bins' measured responses (:func:`chordscope.features.sinusoid_cqt`). Noise comes
    from a bank of 256 measured white and 256 pink noise CQTs, scaled to the drawn SNR. Exact for
    steady partials; the envelope is taken at each frame's centre.
    """
    sr, hop = config.cqt.sr, config.cqt.hop_length
    _, _, _, centre = sinusoid_response(config.cqt)
    k = config.n_context
    offsets = np.arange(-k, k + 1)
    tau = (centre + offsets) * hop / sr  # frame centres, s
    gain = 0.5
    rows, powers, noise = [], [], []
    t_grid = np.linspace(0, config.duration, 200, endpoint=False)
    for p in plans:
        r = p["rng"]
        f_all, a_all, ph_all, power = [], [], [], 0.0
        for pitch, onset, velocity in p["notes"]:
            o = round(onset * sr) / sr
            part = additive_partials(float(midi_to_hz(pitch)), sr, r)
            env = additive_envelope(tau - o, part["attack"], part["decay"])  # (frames,)
            f = part["freqs"][:, None]
            f_all.append(part["freqs"])
            a_all.append(gain * velocity * part["amps"][:, None] * env[None])
            ph_all.append(2 * np.pi * f * (tau - o)[None] + part["phases"][:, None] - np.pi / 2)
            env2 = np.mean(additive_envelope(t_grid - o, part["attack"], part["decay"]) ** 2)
            power += (gain * velocity) ** 2 * np.sum(part["amps"] ** 2) / 2 * env2
        if p["notes"]:
            r.random()  # the reverb draw of the audio path (reverb is 0 here)
        rows.append((f_all, a_all, ph_all))
        powers.append(power)
        if config.snr_db is not None:
            snr = float(r.uniform(*config.snr_db))
            kind = "pink" if r.random() < 0.5 else "white"
            noise.append((snr, kind, int(r.integers(256))))
    P = max(1, max(sum(len(f) for f in fa) for fa, _, _ in rows))
    F = np.full((len(rows), P), 100.0)
    A = np.zeros((len(rows), P, len(tau)))
    PH = np.zeros_like(A)
    for i, (fa, aa, pa) in enumerate(rows):
        if fa:
            m = sum(len(f) for f in fa)
            F[i, :m], A[i, :m], PH[i, :m] = (
                np.concatenate(fa),
                np.concatenate(aa),
                np.concatenate(pa),
            )
    C = sinusoid_cqt(F, A, PH, config=config.cqt)
    if config.snr_db is not None:
        for i, (snr, kind, j) in enumerate(noise):
            sigma = np.sqrt(powers[i] / 10.0 ** (snr / 10.0)) if powers[i] > 0 else 1e-3
            C[i] += sigma * _noise_bank(kind, k, config.cqt)[j]
    x = np.log1p(config.gain * np.abs(C)).astype(np.float32)[:, None]
    labels = [p["label"] for p in plans]
    y = np.array([vocab.index(lab) for lab in labels], dtype=np.int64)
    return x, y, labels


def _render_soundfont_batch(note_lists, program, soundfont, duration, sr, gap=1.0):
    """Render many clips of one GM program in one FluidSynth call; each peak-normalised to 1."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    step = duration + gap
    clips = [
        midi_notes([(p, o, duration, v) for p, o, v in notes], program=program, offset=k * step)
        for k, notes in enumerate(note_lists)
    ]
    inst = clips[0]
    for other in clips[1:]:
        inst.notes.extend(other.notes)
    pm.instruments.append(inst)
    y = render_midi(pm, duration=len(note_lists) * step, sr=sr, soundfont=soundfont)
    n = int(sr * duration)
    out = []
    for k in range(len(note_lists)):
        start = int(round(k * step * sr))
        clip = y[start : start + n]
        peak = np.abs(clip).max()
        out.append(clip / peak if peak > 0 else clip)
    return out


def split_rng(seed: int, split: str) -> np.random.Generator:
    """Return the generator of one split (``train``, ``validation``, ``test``) of a dataset seed.

    Splits never share a stream, and none shares one with :func:`streams` (different keys).
    """
    valid_choice("split", split, _SPLITS)
    return np.random.default_rng(np.random.SeedSequence([seed, _SPLITS[split]]))


def cache_examples(
    config: ChordDataConfig, n: int, path, *, seed: int, split: str = "train", chunk: int = 512
):
    """Generate ``n`` examples in chunks into memory-mapped ``.npy`` files for long training.

    Writes ``PATH.x.npy`` and ``PATH.y.npy`` (through temporary names, renamed when complete)
    and returns them opened read-only with ``mmap_mode="r"``.
    """
    n = valid_positive_int("n", n)
    path = Path(path)
    rng = split_rng(seed, split)
    x0, y0, _ = chord_examples(config, min(chunk, n), rng)
    tmp_x = path.with_name(path.name + ".x.tmp.npy")
    tmp_y = path.with_name(path.name + ".y.tmp.npy")
    X = np.lib.format.open_memmap(tmp_x, mode="w+", dtype=np.float32, shape=(n, *x0.shape[1:]))
    Y = np.lib.format.open_memmap(tmp_y, mode="w+", dtype=np.int64, shape=(n,))
    X[: len(x0)], Y[: len(y0)] = x0, y0
    done = len(x0)
    while done < n:
        xb, yb, _ = chord_examples(config, min(chunk, n - done), rng)
        X[done : done + len(xb)], Y[done : done + len(yb)] = xb, yb
        done += len(xb)
    X.flush()
    Y.flush()
    del X, Y
    final_x, final_y = path.with_name(path.name + ".x.npy"), path.with_name(path.name + ".y.npy")
    os.replace(tmp_x, final_x)
    os.replace(tmp_y, final_y)
    return np.load(final_x, mmap_mode="r"), np.load(final_y, mmap_mode="r")


# ------------------------------------------------------------------------------------------------
# Frames of rendered training songs (chord changes, bass, drums, rests), for recognisers that
# label real recordings frame by frame.


def label_frames(intervals, labels, n_frames: int, vocab, *, hop_s: float) -> np.ndarray:
    """Return the class of every frame (centre ``k * hop_s``) under ``vocab``.

    The class is -1 where the chord at that time has no class in the vocabulary (``C:sus4`` in
    ``majmin``, ``X``) or no label covers it.

    Examples
    --------
    >>> from chordscope.chords import get_vocabulary
    >>> label_frames([(0, 1), (1, 2)], ["N", "C:min7"], 5, get_vocabulary("majmin"), hop_s=0.5)
    array([ 0,  0,  2,  2, -1])
    """
    classes = [-1 if (c := vocab.index(lab)) is None else c for lab in labels]
    return frame_values(intervals, classes, n_frames, hop_s=hop_s)


def frame_values(intervals, values, n_frames: int, *, hop_s: float) -> np.ndarray:
    """Return, for every frame (centre ``k * hop_s``), the integer of the interval it lies in.

    ``values[j]`` belongs to ``intervals[j]`` (sorted, not overlapping); -1 where no interval
    covers the frame.

    Examples
    --------
    >>> frame_values([(0, 1), (1, 2)], [7, 9], 5, hop_s=0.5)
    array([ 7,  7,  9,  9, -1])
    """
    intervals = np.asarray(intervals, dtype=float).reshape(-1, 2)
    values = np.asarray(values, dtype=np.int64).reshape(-1)
    t = np.arange(n_frames) * hop_s
    i = np.searchsorted(intervals[:, 0], t, side="right") - 1
    ok = (i >= 0) & (t < intervals[np.clip(i, 0, None), 1])
    return np.where(ok, values[np.clip(i, 0, None)] if len(values) else -1, -1).astype(np.int64)


def _song_features(index, seed, vocab, programs, soundfont, snr_db, roots, octaves, cqt):
    song = training_song(index, seed=seed, programs=programs, roots=roots, octaves=octaves)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 31, index]))
    y = render_song(song, sr=cqt.sr, soundfont=soundfont)
    if snr_db is not None and rng.random() < 0.5:
        kind = "pink" if rng.random() < 0.5 else "white"
        y = add_noise(y, float(rng.uniform(*snr_db)), kind=kind, rng=rng)
    F = log_cqt(y, config=cqt)
    labels = label_frames(
        [c[:2] for c in song.chords],
        [c[2] for c in song.chords],
        F.shape[-1],
        vocab,
        hop_s=cqt.hop_length / cqt.sr,
    )
    return F, labels


@dataclass(frozen=True)
class FramePool:
    """Labelled frames of many songs, kept as one spectrogram so that a context window is a view.

    Attributes
    ----------
    F : np.ndarray [shape=(n_bins, n_columns)], float32
        The songs' log-CQTs one after another, each padded with ``n_context`` copies of its
        first and last frame (as :func:`chordscope.features.context_frames` pads).
    centres : np.ndarray [shape=(n,)], int  column of every labelled frame
    y : np.ndarray [shape=(n,)], int64  its class
    n_context : int
    """

    F: np.ndarray
    centres: np.ndarray
    y: np.ndarray
    n_context: int

    def __len__(self) -> int:
        return len(self.y)

    def windows(self, idx) -> np.ndarray:
        """Return the inputs ``(len(idx), 1, n_bins, 2 * n_context + 1)`` of the frames ``idx``."""
        k = self.n_context
        win = np.lib.stride_tricks.sliding_window_view(self.F, 2 * k + 1, axis=1)
        return np.ascontiguousarray(win[:, self.centres[idx] - k].transpose(1, 0, 2))[:, None]


def song_frames(
    vocab: str,
    indices,
    *,
    seed: int,
    programs=(0, 24, 48),
    soundfonts=("fluidr3",),
    snr_db=(10.0, 40.0),
    roots=tuple(range(12)),
    octaves=(3, 4),
    n_context: int = 3,
    cqt: CQTConfig = CHORD_CQT,
    workers: int | None = None,
    progress=None,
) -> FramePool:
    """Render the training songs ``indices`` by FluidSynth and pool their labelled frames.

    The songs are rendered at ``cqt.sr`` and transformed by ``cqt`` (the dataset's
    :attr:`ChordDataConfig.cqt`).

    The songs are those of :func:`chordscope.songs.training_song`. Song ``i`` is played with
    SoundFont ``soundfonts[i % len(soundfonts)]``; half the songs get white or pink noise at an
    SNR drawn from ``snr_db``; chords are built on ``roots`` with the chord instrument in
    ``octaves``. Frames whose chord has no class in the vocabulary are left out. Songs render in
    parallel threads (FluidSynth runs as a separate program); the result does not depend on
    ``workers``.
    """
    v = get_vocabulary(vocab)
    indices = [int(i) for i in indices]
    workers = workers or os.cpu_count() or 1

    def one(i):
        sf = soundfonts[i % len(soundfonts)]
        out = _song_features(
            i, seed, v, tuple(programs), sf, snr_db, tuple(roots), tuple(octaves), cqt
        )
        if progress is not None:
            progress(1)
        return out

    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(one, indices))
    k = n_context
    cols, centres, ys, offset = [], [], [], 0
    for F, lab in parts:
        cols.append(np.pad(F, [(0, 0), (k, k)], mode="edge"))
        keep = np.flatnonzero(lab >= 0)
        centres.append(offset + k + keep)
        ys.append(lab[keep])
        offset += F.shape[-1] + 2 * k
    return FramePool(
        F=np.concatenate(cols, axis=1),
        centres=np.concatenate(centres),
        y=np.concatenate(ys),
        n_context=k,
    )
