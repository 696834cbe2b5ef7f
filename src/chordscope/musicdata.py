"""Recogniser training data from musical songs: render, degrade, CQT, pool, excerpts.

Conventions
-----------
- Song ``i`` of a pool is :func:`chordscope.songs.music_song` ``(i, seed=seed)``, rendered with
  SoundFont ``soundfonts[i % len(soundfonts)]``; in a quarter of the songs (:data:`ADDITIVE`) the
  first chord instrument is an additive synthesiser with a drawn harmonic spectrum instead
  (:func:`chordscope.songs.additive_track`); with ``fm``, a share of the songs have their bass,
  first chord instrument or lead played by a two-operator FM synthesiser
  (:func:`chordscope.songs.fm_track`, tracks chosen by :func:`fm_tracks` from their own
  stream). Its degradations are drawn from
  ``SeedSequence([seed, 41, i])`` (so a pool does not depend on how many threads render it):
  white or pink noise in half of the songs, a room reverb (RT60 0.2–1.5 s) with probability
  ``reverb``, a compressor (threshold −30 to −10 dB, ratio 2–8) in 30 % of them, an mp3 round
  trip (libsndfile, compression level 0.3–0.9) with probability ``mp3``, and a CQT tuning
  offset drawn in ``±tuning_cents`` (the error left after tuning estimation: a recording
  detuned by δ is labelled with its bins moved by the estimate of δ, so only the estimate's
  error reaches the network).
- Frame targets are each chord's class in the vocabulary (MIREX reduction); a chord the
  vocabulary cannot hold falls back to its root and third (:func:`target_label`: ``B:dim`` is
  learnt as ``B:min`` by a ``majmin`` model), chords without a third are left out.
- A :class:`SongPool` keeps the log-CQTs of all songs as one spectrogram, songs separated by
  ``gap`` columns of silence labelled ``-1``; an excerpt is any run of columns, so an excerpt may
  cross from one song into the next, as a playlist would.
- Excerpts are augmented in the CQT domain by :mod:`chordscope.augment`, outside the modules
  the render cache's name is made from.
- Beside its class, every column keeps the *structure* of the full label it lies under
  (:func:`structure_code`: its bass and the pitch classes it holds, before any reduction to the
  vocabulary), for structured training (``TrainConfig.structure``); a pitch shift rotates it
  with the class (:func:`chordscope.augment.rotate_structure`).
"""

from __future__ import annotations

import copy
import io
import json
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np

from .chords import PITCH_NAMES, Vocabulary, get_vocabulary, parse_label
from .datasets import frame_values, label_frames
from .errors import OutputError, ParameterError
from .features import CHORD_CQT, LOG_GAIN, CQTConfig, log_cqt
from .io import atomic_write_bytes, atomic_write_text
from .songs import music_song, render_music, ring_out
from .synth import add_noise, reverb

__all__ = [
    "SongPool",
    "RenderSettings",
    "song_pool",
    "code_digest",
    "render_cache_folder",
    "fm_tracks",
    "excerpts",
    "structure_code",
    "NO_BASS",
    "excerpt_structure",
    "mp3_round_trip",
    "compress",
    "target_label",
]

ADDITIVE = 0.25  # share of songs whose first chord instrument is an additive synthesiser
GAIN = LOG_GAIN  # log_cqt's compression gain: F = log1p(GAIN * |CQT|)


@dataclass(frozen=True)
class SongPool:
    """Log-CQT columns of many songs with the class of every column.

    Attributes
    ----------
    F : np.ndarray [shape=(n_bins, n)], float16
    y : np.ndarray [shape=(n,)], int16  class, -1 where unlabelled (gaps, chords out of vocab)
    s : np.ndarray [shape=(n,)], int32 or None  :func:`structure_code` of the full label, -1
        where unlabelled (gaps, ``X``); ``None`` for a pool made without it
    """

    F: np.ndarray
    y: np.ndarray
    s: np.ndarray | None = None

    def __len__(self) -> int:
        return self.F.shape[1]


@dataclass(frozen=True)
class RenderSettings:
    """How the songs of a pool are rendered and degraded (:func:`song_pool` says what each does).

    One value passed down to every song; it names the render cache's folder
    (:func:`render_cache_folder`), so two pools share cached songs only when all of it agrees.
    """

    seed: int
    soundfonts: tuple = ("fluidr3", "timgm6mb")
    snr_db: tuple | None = None
    reverb: float = 0.0
    mp3: float = 0.0
    tuning_cents: float = 0.0
    counter: float = 0.0
    fm: float = 0.0
    ring_out_db: float = 0.0
    ring_out_songs: bool = False
    inversions: float = 0.0
    extra_programs: tuple = ()
    cqt: CQTConfig = CHORD_CQT

    def cache_settings(self) -> dict:
        """Return the settings as JSON values, as the cache folder's ``settings.json`` keeps them.

        ``extra_programs`` is named only when there are any: settings without them read as they
        did before the option existed.
        """
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d.update(soundfonts=list(self.soundfonts), cqt=repr(self.cqt))
        if self.extra_programs:
            d["extra_programs"] = list(self.extra_programs)
        else:
            del d["extra_programs"]
        return d


def mp3_round_trip(y: np.ndarray, sr: int, quality: float) -> np.ndarray:
    """Encode ``y`` to mp3 in memory and decode it (libsndfile; ``quality`` 0 = best .. 1)."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(y, -1, 1), sr, format="MP3", compression_level=float(quality))
    buf.seek(0)
    z, _ = sf.read(buf, dtype="float64")
    out = np.zeros_like(y)
    out[: min(len(y), len(z))] = z[: len(y)]
    return out


def compress(y: np.ndarray, sr: int, *, threshold_db: float, ratio: float) -> np.ndarray:
    """Compress ``y`` with a feed-forward compressor.

    Above ``threshold_db`` (re the peak), level grows ``1/ratio`` as fast; the envelope follows
    ``|y|`` with 5 ms attack and 100 ms release (one-pole).

    Examples
    --------
    >>> y = np.r_[np.full(8000, 0.1), np.full(8000, 1.0)]
    >>> z = compress(y, 16000, threshold_db=-20.0, ratio=4.0)
    >>> bool(abs(z[-1]) < 0.5 and abs(z[100] - 0.1) < 1e-6)
    True
    """
    from scipy.signal import lfilter

    peak = float(np.abs(y).max())
    if peak == 0:
        return y
    x = np.abs(y) / peak
    attack, release = np.exp(-1 / (0.005 * sr)), np.exp(-1 / (0.1 * sr))
    fast = lfilter([1 - attack], [1, -attack], x)
    env = np.maximum(fast, lfilter([1 - release], [1, -release], x))
    over = 20 * np.log10(np.maximum(env, 1e-9)) - threshold_db
    gain_db = np.where(over > 0, -over * (1 - 1 / ratio), 0.0)
    return y * 10.0 ** (gain_db / 20)


def fm_tracks(song, seed: int, index: int, p: float) -> tuple:
    """Name the tracks of training song ``index`` that an FM synthesiser plays.

    ``p`` is the share of songs with FM tracks. Drawn from ``SeedSequence([seed, 44, index])``,
    nothing when ``p`` is 0: in a chosen song, the bass and the first chord instrument each with
    probability 0.6 (at least one of them) and the lead with 0.3.

    Examples
    --------
    >>> song = music_song(3, seed=1)
    >>> fm_tracks(song, 1, 3, 0.0), set(fm_tracks(song, 1, 3, 1.0)) <= {"bass", "chords0", "lead"}
    ((), True)
    """
    if not p:
        return ()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 44, index]))
    if rng.random() >= p:
        return ()
    names = {t[0] for t in song.tracks}
    chosen = [n for n, q in (("bass", 0.6), ("chords0", 0.6), ("lead", 0.3)) if rng.random() < q]
    chosen = [n for n in chosen if n in names]
    return tuple(chosen) if set(chosen) & {"bass", "chords0"} else (*chosen, "chords0")


def _one_song(i: int, r: RenderSettings):
    """Log-CQT of training song ``i`` after its degradations, and its chords."""
    song = music_song(i, seed=r.seed, counter=r.counter, inversions=r.inversions,
                      extra_programs=r.extra_programs)  # fmt: skip
    rng = np.random.default_rng(np.random.SeedSequence([r.seed, 41, i]))
    sr, ring_db, snr_db = r.cqt.sr, r.ring_out_db, r.snr_db
    additive = ("chords0",) if rng.random() < ADDITIVE else ()
    fm = fm_tracks(song, r.seed, i, r.fm)
    every = bool(ring_db and r.ring_out_songs)  # every song, measured on its harmony after the room
    soundfont = r.soundfonts[i % len(r.soundfonts)]
    y = render_music(song, sr=sr, soundfont=soundfont, additive=additive, rng=rng, fm=fm,
                     harmony=every)  # fmt: skip
    y, harmony = y if every else (y, None)
    clean, chords = y, song.chords
    if snr_db is not None and rng.random() < 0.5:
        kind = "pink" if rng.random() < 0.5 else "white"
        y = add_noise(y, float(rng.uniform(*snr_db)), kind=kind, rng=rng)
    floor = float(np.sqrt(np.mean((y - clean) ** 2)))  # the added noise's level
    if ring_db and song.writer == "isolated" and not every:  # no draw: the audio is the same
        chords = ring_out(chords, clean, sr, drop_db=ring_db, floor=floor)
    if rng.random() < r.reverb:
        rt60, wet = float(rng.uniform(0.2, 1.5)), float(rng.uniform(0.1, 0.5))
        if every:  # the same room (a copy of the stream draws the same response)
            harmony = reverb(harmony, sr=sr, rt60=rt60, wet=wet, rng=copy.deepcopy(rng))
        y = reverb(y, sr=sr, rt60=rt60, wet=wet, rng=rng)
    if every:
        chords = ring_out(chords, harmony, sr, drop_db=ring_db, floor=floor)
    if rng.random() < 0.3:
        y = compress(
            y, sr, threshold_db=float(rng.uniform(-30, -10)), ratio=float(rng.uniform(2, 8))
        )
    if rng.random() < r.mp3:
        y = mp3_round_trip(y, sr, float(rng.uniform(0.3, 0.9)))
    tuning = float(rng.uniform(-r.tuning_cents, r.tuning_cents)) / 100.0  # semitones
    return log_cqt(y, config=r.cqt, gain=GAIN, tuning=tuning).astype(np.float16), chords


#: The modules whose code decides a rendered song: a change to any of them starts a new cache.
_RENDER_MODULES = ("songs", "musicdata", "synth", "features", "chords", "datasets")


def code_digest(source: str) -> str:
    r"""Hash Python ``source`` by what it does: comments, docstrings and layout do not count.

    The render cache names its folders by this digest of the rendering modules
    (:func:`render_cache_folder`), so editing their prose keeps the songs already rendered,
    while any change to the code (a constant, a statement, a name) starts a new cache.

    Examples
    --------
    >>> plain = "def f(x):\n    return x + 1\n"
    >>> prose = "def f(x):\n    'Add one.'\n    return (x+1)  # one more\n"
    >>> code_digest(plain) == code_digest(prose)
    True
    >>> code_digest("x = 1") == code_digest("x = 2")
    False
    """
    import ast
    import hashlib

    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):  # a docstring
                    node.body = node.body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()


@lru_cache(maxsize=1)
def _rendering_code() -> str:
    """Return the digests of :data:`_RENDER_MODULES`, read once a process.

    So the cache is named by the code this process loaded, even if the files change while it
    renders.
    """
    here = Path(__file__).parent
    return "".join(
        code_digest((here / f"{name}.py").read_text(encoding="utf-8")) for name in _RENDER_MODULES
    )


def render_cache_folder(root, settings: dict) -> Path:
    """Return the folder of ``root`` that holds songs rendered with ``settings`` by this code.

    Its name is a hash of the settings, of the code of the modules that render a song
    (:data:`_RENDER_MODULES`, by :func:`code_digest`: their comments and docstrings do not
    count), of the SoundFont files' sizes and of the versions of the libraries that render and
    transform it (FluidSynth, libsndfile's mp3, librosa, NumPy, SciPy), so a cached song is only
    ever the one this code would render; ``settings.json`` in it says what they were.
    """
    import hashlib

    import librosa
    import scipy
    import soundfile

    from .synth import fluidsynth_version, soundfont_path

    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=repr).encode())
    h.update(_rendering_code().encode())
    for sf in settings["soundfonts"]:
        h.update(f"{sf}:{Path(soundfont_path(sf)).stat().st_size}".encode())
    libraries = (librosa.__version__, np.__version__, scipy.__version__,
                 soundfile.__libsndfile_version__, fluidsynth_version())  # fmt: skip
    h.update("|".join(libraries).encode())
    return Path(root) / h.hexdigest()[:16]


def _load_song(path: Path):
    """Read a cached song ``(F, chords)``; ``None`` where there is none or it is unreadable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            times = zip(z["start"], z["end"], z["label"], strict=True)
            return z["F"], [(float(a), float(b), str(c)) for a, b, c in times]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def _save_song(path: Path, F, chords) -> None:
    """Write a song to the cache (atomically: a reader never sees half a file)."""
    buf = io.BytesIO()
    np.savez(buf, F=F, start=np.array([c[0] for c in chords], float),
             end=np.array([c[1] for c in chords], float),
             label=np.array([c[2] for c in chords], str))  # fmt: skip
    atomic_write_bytes(path, buf.getvalue())


@lru_cache(maxsize=4)
def _rendered(indices, r: RenderSettings, workers: int, cache=None):
    """Render the songs of a pool, kept per process: pools of two vocabularies share them.

    With ``cache`` (a folder), each song is read from there when this code rendered it before
    with the same settings (:func:`render_cache_folder`), and written there once rendered.
    """
    folder = None
    if cache is not None:
        settings = r.cache_settings()
        folder = render_cache_folder(cache, settings)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"cannot use {cache} as a render cache: {exc.strerror or exc}"
            ) from None
        if not (folder / "settings.json").exists():
            text = json.dumps(settings, indent=1, default=repr)
            atomic_write_text(folder / "settings.json", text)

    def one(i):
        path = folder / f"{i}.npz" if folder is not None else None
        song = _load_song(path) if path is not None and path.exists() else None
        if song is None:
            song = _one_song(i, r)
            if path is not None:
                _save_song(path, *song)
        return song

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, indices))


def song_pool(
    vocab: str,
    indices,
    *,
    seed: int,
    soundfonts=("fluidr3", "timgm6mb"),
    snr_db=(10.0, 40.0),
    reverb_p: float = 0.3,
    mp3_p: float = 0.15,
    tuning_cents: float = 15.0,
    counter: float = 0.0,
    fm: float = 0.0,
    ring_out_db: float = 0.0,
    ring_out_songs: bool = False,
    inversions: float = 0.0,
    extra_programs=(),
    cqt: CQTConfig = CHORD_CQT,
    gap: int = 8,
    workers: int | None = None,
    cache=None,
) -> SongPool:
    """Render, degrade and transform the training songs ``indices`` (see module docs).

    Songs render in threads (FluidSynth is a separate program); the result does not depend on
    ``workers``. The rendered songs are kept for the process's next pool of the same songs.
    ``counter`` is the share of songs with a counter-voice (:func:`chordscope.songs.music_song`);
    ``fm`` is the share of songs with instruments played by an FM synthesiser (:func:`fm_tracks`);
    with ``ring_out_db``, a song of single chords labels each chord until its sound has fallen that
    many dB (or under the added noise: :func:`chordscope.songs.ring_out`), not only until its
    notes end (0: until they end); with ``ring_out_songs`` as well, every song's chords followed
    by ``N`` (its last chord, a rest) are, measured on its chord and bass parts alone after the
    room reverb, as the evaluation sets' references are; ``inversions`` is the share of chords
    inverted beyond the writers' own and ``extra_programs`` the GM programs added to the chord
    instruments' draw (:func:`chordscope.songs.music_song`);
    the songs are rendered at ``cqt.sr`` and transformed by ``cqt``. With ``cache`` (a folder),
    each song is kept there once rendered and read back by any later pool of the same settings
    rendered by the same code (:func:`render_cache_folder`): rendering is most of the set-up time
    of a long training run.
    """
    v = get_vocabulary(vocab)
    if not 0 <= reverb_p <= 1 or not 0 <= mp3_p <= 1 or not 0 <= tuning_cents <= 50:
        raise ParameterError("reverb and mp3 are probabilities; tuning_cents must be in 0..50")
    if not 0 <= fm <= 1:
        raise ParameterError(f"fm={fm!r} must be a probability in 0..1")
    if not 0 <= ring_out_db <= 80:
        raise ParameterError(f"ring_out_db={ring_out_db!r} must be in 0..80 dB")
    if not 0 <= inversions <= 1:
        raise ParameterError(f"inversions={inversions!r} must be a probability in 0..1")
    if any(not 0 <= int(p) <= 127 for p in extra_programs):
        raise ParameterError(f"extra_programs={list(extra_programs)!r} must be GM programs 0..127")
    if ring_out_songs and not ring_out_db:
        raise ParameterError("ring_out_songs needs ring_out_db > 0 (how far a chord dies away)")
    settings = RenderSettings(
        seed=int(seed), soundfonts=tuple(soundfonts), snr_db=tuple(snr_db) if snr_db else None,
        reverb=float(reverb_p), mp3=float(mp3_p), tuning_cents=float(tuning_cents),
        counter=float(counter), fm=float(fm), ring_out_db=float(ring_out_db),
        ring_out_songs=bool(ring_out_songs), inversions=float(inversions),
        extra_programs=tuple(int(p) for p in extra_programs), cqt=cqt,
    )  # fmt: skip
    parts = _rendered(
        tuple(int(i) for i in indices),
        settings,
        workers or os.cpu_count() or 1,
        None if cache is None else str(cache),
    )
    hop_s = cqt.hop_length / cqt.sr
    cols, ys, ss = [], [], []
    for F, chords in parts:
        targets = [target_label(c[2], v) for c in chords]
        times = [c[:2] for c in chords]
        lab = label_frames(times, targets, F.shape[-1], v, hop_s=hop_s)
        codes = [structure_code(c[2]) for c in chords]
        struct = frame_values(times, codes, F.shape[-1], hop_s=hop_s)
        cols += [F, np.zeros((F.shape[0], gap), np.float16)]
        ys += [lab.astype(np.int16), np.full(gap, -1, np.int16)]
        ss += [struct.astype(np.int32), np.full(gap, -1, np.int32)]
    return SongPool(F=np.concatenate(cols, axis=1), y=np.concatenate(ys), s=np.concatenate(ss))


#: The bass "class" of a structure code whose label is ``N`` (no chord: no bass, no tones).
NO_BASS = 12


def structure_code(label: str) -> int:
    """Pack a label's bass and pitch classes into one integer: ``bass * 4096 + tones``.

    ``tones`` is a 12-bit mask of the pitch classes the chord holds (bit ``k``: pitch class
    ``k``, C = 0), ``bass`` the pitch class of its bass; ``N`` is ``NO_BASS * 4096`` (no tones),
    ``X`` (unknown) is -1. Nothing is reduced: ``C:min7`` keeps its seventh, ``C:maj/3`` its E
    in the bass.

    Examples
    --------
    >>> code = structure_code("C:min7/b7")
    >>> code // 4096, [k for k in range(12) if code >> k & 1]  # bass B-flat; C E-flat G B-flat
    (10, [0, 3, 7, 10])
    >>> structure_code("N") == NO_BASS * 4096, structure_code("X")
    (True, -1)
    """
    root, bitmap, bass = parse_label(label)
    if root < 0:
        return -1 if bitmap[0] < 0 else NO_BASS * 4096
    tones = sum(1 << ((root + k) % 12) for k in np.flatnonzero(bitmap))
    return int((root + bass) % 12) * 4096 + int(tones)


def excerpt_structure(pool: SongPool, starts, length: int, context: int) -> np.ndarray:
    """Return the structure codes ``(b, length)`` of the columns :func:`excerpts` labels."""
    if pool.s is None:
        raise ParameterError("this pool was made without structure codes")
    k = context // 2
    cols = np.asarray(starts, dtype=np.int64)[:, None] + k + np.arange(length)[None]
    return pool.s[cols].astype(np.int64)


def target_label(label: str, vocab: Vocabulary) -> str:
    """Return the label a recogniser of ``vocab`` learns for ``label``.

    That is ``label`` itself, or — for a chord the vocabulary cannot hold — its root with its
    third (``B:dim`` → ``B:min``, ``C:aug`` → ``C:maj`` in ``majmin``, as mir_eval's ``thirds``
    comparison reads them). Chords without a third (``C:sus4``, ``C:5``) stay as they are and
    are left out.

    Examples
    --------
    >>> v = get_vocabulary("majmin")
    >>> target_label("B:hdim7", v), target_label("E:aug", v), target_label("G:sus4", v)
    ('B:min', 'E:maj', 'G:sus4')
    """
    if vocab.index(label) is not None:
        return label
    root, bitmap, _ = parse_label(label)
    if root < 0 or bitmap[3] == bitmap[4]:
        return label
    fallback = f"{PITCH_NAMES[root]}:{'min' if bitmap[3] else 'maj'}"
    return fallback if vocab.index(fallback) is not None else label


def excerpts(pool: SongPool, starts, length: int, context: int):
    """Cut excerpts: inputs ``(b, n_bins, length + context - 1)`` and classes ``(b, length)``.

    Excerpt ``j`` labels the columns ``starts[j] + context // 2 ...`` (its first and last
    ``context // 2`` columns are input only).
    """
    k = context // 2
    starts = np.asarray(starts, dtype=np.int64)
    cols = starts[:, None] + np.arange(length + 2 * k)[None]
    X = pool.F[:, cols].transpose(1, 0, 2).astype(np.float32)
    Y = pool.y[cols[:, k : k + length]].astype(np.int64)
    return X, Y
