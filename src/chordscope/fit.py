"""Training larger recognisers (``ChordCNN``) on realistic chords, on one process or many.

Conventions
-----------
- A :class:`TrainConfig` holds every choice (a comment per default); it can be read from TOML
  (:func:`load_config`, unknown keys and wrong types are named) and is saved in the run folder.
- Step ``t`` of rank ``r`` draws its batch from ``SeedSequence([seed, 20, t, r])``: a run can stop
  and resume anywhere and give the same weights, and ranks never share examples. With
  ``shards=k``, shard ``s`` of rank ``r`` draws stream ``r * k + s``. Validation and
  test sets come from the dataset's own ``validation`` and ``test`` splits.
- ``data = "songs"`` trains on the frames of ``n_songs`` rendered training songs
  (:func:`chordscope.songs.training_song`: chord changes, bass, drums, rests, noise), built
  once per process (:func:`song_pool`); step ``t`` then draws frame indices from the same
  stream. These models label recordings (:mod:`chordscope.recognise`). ``n_pool > 0`` does the
  same with a fixed set of chord clips (:func:`chord_pool`), for slow synthesis kinds.
- Under ``torchrun`` (``RANK`` set) training uses DistributedDataParallel (gloo on CPU, nccl on
  GPU); each rank takes ``batch_size // world_size`` examples of the global batch; only rank 0
  writes files. ``shards=k`` on one process computes the same gradient as ``k`` ranks (each
  shard normalised by its own batch statistics, as DDP does).
- :func:`train_chords` writes only ``checkpoint/checkpoint.safetensors`` + ``checkpoint.json``
  (every ``checkpoint_every`` steps, on Ctrl-C and at the end; the sub-folder keeps the finished
  run folder tidy, ``--resume`` reads it) and returns a :class:`FitResult`;
  :func:`chordscope.runs.train_recogniser` then writes the rest of the run folder (model,
  metrics, history, figures, report).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from safetensors import SafetensorError
from safetensors.torch import load, save

from .augment import augment
from .chords import get_vocabulary
from .datasets import ChordDataConfig, chord_examples, song_frames, split_rng
from .errors import (
    ModelFileError,
    OutputError,
    ParameterError,
    valid_non_negative_int,
    valid_positive_int,
)
from .features import chord_cqt
from .heldout import HELD_OUT_BASS_PROGRAMS, HELD_OUT_CHORD_PROGRAMS, HELD_OUT_LEAD_PROGRAMS
from .io import atomic_write_bytes, read_json, write_json
from .models import (
    RECOGNISERS,
    build_model,
    check_architecture,
    n_params,
    recogniser_architecture,
)
from .musicdata import excerpt_structure, excerpts
from .musicdata import song_pool as music_pool
from .threads import choose_threads, using_threads

__all__ = [
    "TrainConfig",
    "FitResult",
    "load_config",
    "train_chords",
    "song_pool",
    "checkpoint_folder",
    "chord_pool",
    "SONG_SPLITS",
    "change_weights",
]


_DATA = ChordDataConfig()  # the data settings' defaults, written once (in datasets)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a ``chordscope train`` run.

    Every field is checked when the config is made, before any data or model exists: types
    (integers where counts are meant, finite numbers), ranges (probabilities in 0..1, a noise
    range ``[low, high]`` with low <= high, General-MIDI programs 0..127, octaves 0..8, a
    model of at most :data:`chordscope.models.MAX_PARAMS` weights, ...), and upper bounds that
    protect memory: a batch, validation or test set whose estimated size
    (:meth:`estimated_bytes`) exceeds half of this machine's memory is refused, with the
    estimate in the message.
    """

    vocab: str = "majmin"  # chord vocabulary: majmin or sevenths (or triads)
    data: str = "chords"  # chords: chord clips; songs: frames of rendered songs; music: excerpts
    #   of musical songs (chordscope.songs: progressions, voicings, bass lines, layering)
    model: str = "ChordCNN"  # architecture: ChordCNN (7 frames) or ChordTCN (+ 2 s of context)
    embed: int = 64  # ChordTCN: width of the temporal blocks
    dilations: tuple = (1, 2, 4, 8, 16, 32)  # ChordTCN: one residual temporal block per dilation
    seq_frames: int = 128  # data = music: labelled frames per excerpt (batch_size excerpts)
    pitch_shift: int = 0  # data = music: CQT-domain pitch shift up to this many semitones
    gain_db: tuple = ()  # data = music: overall gain range in dB (plus a ±3 dB ramp)
    eq_db: float = 0.0  # data = music: random equaliser tilt and bump, up to ± this many dB
    harmonics: float = 0.0  # data = music: probability of extra upper harmonics per excerpt
    smear: float = 0.0  # data = music: probability of a blur into the neighbouring semitones
    bass_harmonics: float = 0.0  # data = music: probability of extra harmonics of the bass alone
    freq_mask: float = 0.0  # data = music: probability of a silenced band (up to an octave)
    counter_voice: float = 0.0  # data = music: share of songs with a counter-voice
    fm: float = 0.0  # data = music: share of songs with FM-synthesised bass, chords or lead
    ring_out_db: float = 0.0  # data = music: single chords labelled until this many dB down
    ring_out_songs: bool = False  # data = music, with ring_out_db: every song's last chord too
    inversions: float = 0.0  # data = music: share of chords inverted beyond the writers' 15 %
    extra_programs: tuple = ()  # data = music: GM programs added to the chord instruments' draw
    mp3: float = 0.0  # data = music: probability of an mp3 round trip per song
    tuning_cents: float = 0.0  # data = music: residual tuning offset per song, ± cents
    bins_per_semitone: int = 1  # data = music: 3 for the finer transform (features.FINE_CQT)
    cqt_gamma: float = 0.0  # data = music: Hz added to every filter's bandwidth (librosa.vqt)
    cqt_filter_scale: float = 0.0  # data = music: the filters' length; 0: the transform's own
    n_songs: int = 300  # training songs when data = "songs" (FluidSynth, see evalset)
    synths: tuple = _DATA.synths  # synthesis kinds drawn per example
    programs: tuple = _DATA.programs  # GM programs for synth "soundfont"
    soundfonts: tuple = _DATA.soundfonts  # training SoundFonts
    roots: tuple = _DATA.roots  # chord roots drawn (pitch classes; hold some out to test)
    octaves: tuple = _DATA.octaves  # octaves of the voicings' roots
    n_pool: int = 0  # > 0: render this many chord clips once and draw batches from them
    steps: int = 3000  # optimiser steps
    epochs: float = 0.0  # > 0: passes over a fixed training set (songs or n_pool) instead of steps
    batch_size: int = 256  # global batch (split over ranks)
    lr: float = 3e-3  # Adam learning rate (cosine decay to 0)
    weight_decay: float = 1e-4  # AdamW weight decay
    seed: int = 0  # seeds the weights and every data stream
    song_seed: int = -1  # data = songs or music: selects the songs alone (-1: the same as seed)
    channels: tuple = (8, 16, 32)  # ChordCNN conv channels
    whiten: int = 0  # odd number of bins: local standardisation across frequency before conv1
    harmonic_shifts: tuple = ()  # [0, 12, 19, ...]: the input and its harmonics' bins as channels
    structure: float = 0.0  # ChordTCN, data = music: weight of the bass and chord-tone losses
    change_weight: float = 0.0  # data = music: extra loss weight of the frames at a chord change
    change_frames: float = 3.0  # data = music: how fast that extra weight decays (frames, 1/e)
    snr_db: tuple = _DATA.snr_db  # noise range; [] for clean
    reverb: float = 0.0  # reverb probability (0, not the data default 0.2: the fast additive path)
    no_chord: float = _DATA.no_chord  # probability of an N example
    n_context: int = _DATA.n_context  # context frames on each side
    n_val: int = 1024  # validation examples (fixed)
    n_test: int = 2048  # test examples (fixed)
    eval_every: int = 250  # steps between validations
    checkpoint_every: int = 500  # steps between checkpoints
    device: str = "auto"  # auto, cpu or cuda
    #: The dataset these settings describe (made from them, never set directly; not saved):
    #: every consumer of the data settings reads this value, which holds the CQT settings.
    dataset: ChordDataConfig = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        for f in fields(self):  # lists become tuples: a config is hashable (pools are cached by it)
            if f.init and isinstance(getattr(self, f.name), list):
                object.__setattr__(self, f.name, tuple(getattr(self, f.name)))
        for name in (
            "steps",
            "batch_size",
            "n_songs",
            "n_val",
            "n_test",
            "eval_every",
            "checkpoint_every",
        ):
            valid_positive_int(name, getattr(self, name))
        for name in ("seed", "n_pool", "n_context", "pitch_shift", "embed", "bins_per_semitone"):
            valid_non_negative_int(name, getattr(self, name))
        if self.vocab not in ("majmin", "triads", "sevenths"):
            raise ParameterError(f"vocab={self.vocab!r} must be majmin, triads or sevenths")
        self._check_numbers()
        if self.n_pool < 0:
            raise ParameterError(f"n_pool={self.n_pool!r} must be >= 0")
        if self.epochs < 0:
            raise ParameterError(f"epochs={self.epochs!r} must be >= 0")
        if self.epochs and self.data == "chords" and not self.n_pool:
            raise ParameterError(
                "epochs need a fixed training set: data = 'songs' or n_pool > 0 "
                "(chord clips drawn afresh at every step have no epochs; use steps)"
            )
        if self.data not in ("chords", "songs", "music"):
            raise ParameterError(f"data={self.data!r} must be chords, songs or music")
        self.architecture(n_classes=25)  # checks the name (any recogniser of models.py)
        if getattr(RECOGNISERS[self.model], "learns_from_excerpts", False) and self.data != "music":
            raise ParameterError(f"model = {self.model!r} learns from excerpts: use data = 'music'")
        valid_positive_int("seq_frames", self.seq_frames)
        if self.change_weight and self.data != "music":
            raise ParameterError("change_weight needs data = 'music' (excerpts hold the changes)")
        if self.structure and (self.model != "ChordTCN" or self.data != "music"):
            raise ParameterError("structure needs model = 'ChordTCN' and data = 'music'")
        if self.bins_per_semitone != 1:
            chord_cqt(self.bins_per_semitone)  # 1 or 3
            semitone_steps = ("harmonics", "smear", "bass_harmonics", "freq_mask")
            on = [n for n in semitone_steps if getattr(self, n)]
            if self.data != "music" or on:
                raise ParameterError(
                    "bins_per_semitone = 3 needs data = 'music' and none of "
                    f"{', '.join(semitone_steps)} (they count semitone bins)"
                )
        if (self.cqt_gamma or self.cqt_filter_scale) and self.data != "music":
            raise ParameterError("cqt_gamma and cqt_filter_scale need data = 'music'")
        if self.pitch_shift < 0 or self.pitch_shift > 6:
            raise ParameterError(f"pitch_shift={self.pitch_shift!r} must be in 0..6")
        if self.gain_db and (len(self.gain_db) != 2 or self.gain_db[0] > self.gain_db[1]):
            raise ParameterError(f"gain_db={list(self.gain_db)!r} must be [low, high] dB")
        if not 0 <= self.eq_db <= 24 or not 0 <= self.mp3 <= 1 or not 0 <= self.tuning_cents <= 50:
            raise ParameterError("eq_db must be in 0..24, mp3 in 0..1, tuning_cents in 0..50")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ParameterError(f"device={self.device!r} must be auto, cpu or cuda")
        if not self.lr > 0:
            raise ParameterError(f"lr={self.lr!r} must be positive")
        object.__setattr__(self, "dataset", self._make_dataset())  # checks synths, programs, ...
        self._check_memory()

    def _check_numbers(self) -> None:
        """Types and ranges of the numbers a TOML file or the command line may get wrong."""

        def number(v):
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

        def ints(name, lo, hi, *, empty=False):
            v = getattr(self, name)
            ok = isinstance(v, (tuple, list)) and (empty or len(v) > 0)
            if not ok or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
                raise ParameterError(f"{name}={list(v) if ok else v!r} must be a list of integers")
            if any(not lo <= x <= hi for x in v):
                raise ParameterError(f"{name}={list(v)!r} must be integers in {lo}..{hi}")

        limits = {"steps": 10**8, "n_songs": 100_000, "seq_frames": 100_000}
        for name, hi in limits.items():
            if getattr(self, name) > hi:
                raise ParameterError(f"{name}={getattr(self, name)!r} must be at most {hi}")
        for name, lo, hi in (
            ("epochs", 0, 10_000),
            ("lr", 0, 10),
            ("weight_decay", 0, 10),
            ("no_chord", 0, 1),
            ("reverb", 0, 1),
            ("eq_db", 0, 24),
            ("harmonics", 0, 1),
            ("counter_voice", 0, 1),
            ("fm", 0, 1),
            ("inversions", 0, 1),
            ("ring_out_db", 0, 80),
            ("bass_harmonics", 0, 1),
            ("smear", 0, 1),
            ("freq_mask", 0, 1),
            ("mp3", 0, 1),
            ("tuning_cents", 0, 50),
            ("cqt_gamma", 0, 20),
            ("cqt_filter_scale", 0, 4),
            ("structure", 0, 10),
            ("change_weight", 0, 20),
            ("change_frames", 0.5, 64),
        ):
            v = getattr(self, name)
            if not (number(v) and lo <= v <= hi):
                raise ParameterError(f"{name}={v!r} must be a number in {lo}..{hi}")
        ints("programs", 0, 127)
        ints("extra_programs", 0, 127, empty=True)
        held = set(HELD_OUT_CHORD_PROGRAMS + HELD_OUT_BASS_PROGRAMS + HELD_OUT_LEAD_PROGRAMS)
        if set(self.extra_programs) & held:
            bad = sorted(set(self.extra_programs) & held)
            raise ParameterError(
                f"extra_programs {bad} are held out for evaluation (chordscope.heldout): "
                "training on them would flatter the held-out scores"
            )
        if self.extra_programs and self.data != "music":
            raise ParameterError("extra_programs needs data = 'music'")
        ints("roots", 0, 11)
        ints("octaves", 0, 8)
        ints("dilations", 1, 4096)
        ints("channels", 1, 1024)
        for name in ("snr_db", "gain_db"):
            v = getattr(self, name)
            if v and not (
                isinstance(v, (tuple, list))
                and len(v) == 2
                and all(number(x) for x in v)
                and v[0] <= v[1]
            ):
                raise ParameterError(f"{name}={v!r} must be [low, high] dB with low <= high")
        if not isinstance(self.ring_out_songs, bool):
            raise ParameterError(f"ring_out_songs={self.ring_out_songs!r} must be true or false")
        if self.ring_out_songs and not self.ring_out_db:
            raise ParameterError("ring_out_songs needs ring_out_db > 0 (how far a chord dies away)")
        if self.n_context < 3:
            raise ParameterError(
                f"n_context={self.n_context!r} must be at least 3 (the network sees 7 frames)"
            )
        if (
            not isinstance(self.song_seed, int)
            or isinstance(self.song_seed, bool)
            or not (-1 <= self.song_seed <= 2**31)
        ):
            raise ParameterError(f"song_seed={self.song_seed!r} must be -1 (as seed) or >= 0")
        if len(self.channels) != 3:
            raise ParameterError(f"channels={list(self.channels)!r} must be 3 integers")
        try:
            check_architecture(self.architecture(n_classes=get_vocabulary(self.vocab).n_classes))
        except ModelFileError as exc:
            raise ParameterError(str(exc).removeprefix("architecture ")) from None

    def estimated_bytes(self) -> dict:
        """Rough memory (bytes) of one batch, the validation set and the test set.

        One example holds its rendered audio (a second of chord, or an excerpt of a song) and
        its frames of features; a batch of ``music`` excerpts is ``seq_frames`` frames long.
        """
        n_frames = 2 * self.n_context + 1
        cqt = self.dataset.cqt
        if self.data == "music":
            frames = self.seq_frames + n_frames
            per = frames * (cqt.hop_length + cqt.n_bins) * 4
        else:
            per = (cqt.sr + cqt.n_bins * n_frames) * 4
        pool = self.n_pool if self.data == "chords" else 0
        return {
            "batch_size": self.batch_size * per,
            "n_val": self.n_val * per,
            "n_test": self.n_test * per,
            "n_pool": pool * per,
        }

    def _check_memory(self) -> None:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):  # not on this system: assume 16 GB
            total = 16 * 2**30
        for name, need in self.estimated_bytes().items():
            if need > total / 2:
                raise ParameterError(
                    f"{name}={getattr(self, name)!r} needs about {need / 1e9:,.1f} GB of memory; "
                    f"this machine has {total / 1e9:.1f} GB"
                )

    def architecture(self, n_classes: int) -> dict:
        """Return the model's ``architecture`` dict.

        See :func:`chordscope.models.recogniser_architecture`.
        """
        return recogniser_architecture(
            self.model,
            n_classes=n_classes,
            n_frames=2 * self.n_context + 1,
            channels=self.channels,
            embed=self.embed,
            dilations=self.dilations,
            whiten=self.whiten,
            harmonic_shifts=self.harmonic_shifts,
            structure=int(self.structure > 0),
            n_bins=chord_cqt(self.bins_per_semitone).n_bins,
            bins_per_semitone=self.bins_per_semitone,
        )

    @property
    def songs_seed(self) -> int:
        """The seed that selects the songs of every split: ``song_seed``, or ``seed`` if it is -1.

        Runs that differ only in ``seed`` can share their songs (and a render cache).
        """
        return self.seed if self.song_seed < 0 else self.song_seed

    def _make_dataset(self) -> ChordDataConfig:
        return ChordDataConfig(
            vocab=self.vocab,
            synths=tuple(self.synths),
            programs=tuple(int(p) for p in self.programs),
            soundfonts=tuple(self.soundfonts),
            roots=tuple(int(r) for r in self.roots),
            octaves=tuple(int(o) for o in self.octaves),
            snr_db=tuple(self.snr_db) if self.snr_db else None,
            reverb=self.reverb,
            no_chord=self.no_chord,
            n_context=self.n_context,
            cqt=chord_cqt(self.bins_per_semitone, self.cqt_gamma, self.cqt_filter_scale),
        )

    def to_json(self) -> dict:
        """JSON-ready dict of the settings (tuples become lists; ``dataset`` is made from them)."""
        return {
            f.name: list(v) if isinstance(v, tuple) else v
            for f in fields(self)
            if f.init
            for v in [getattr(self, f.name)]
        }


def load_config(path, **overrides) -> TrainConfig:
    """Read a TOML file of :class:`TrainConfig` keys, then apply ``overrides``.

    Raises :class:`ParameterError` naming an unknown key or a value of the wrong type.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ParameterError(f"{path}: not a valid TOML file ({exc})") from None
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    for key, value in data.items():
        if key not in defaults:
            raise ParameterError(f"{path}: unknown key {key!r}")
        want = type(defaults[key])
        ok = isinstance(value, list) if want is tuple else isinstance(value, want)
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if want is not bool and isinstance(value, bool):
            ok = False
        if not ok:
            raise ParameterError(
                f"{path}: key {key!r} must be {want.__name__ if want is not tuple else 'a list'}, "
                f"got {type(value).__name__}"
            )
    data = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return replace(TrainConfig(**data), **overrides)


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ParameterError("device='cuda' but no GPU is available")
    return torch.device(name)


#: First song index of each split of the training songs (the splits never share a song).
SONG_SPLITS = {"train": 0, "validation": 1_000_000, "test": 2_000_000}


@lru_cache(maxsize=4)
def song_pool(config: TrainConfig, split: str = "train", cache: str | None = None):
    """Return the :class:`~chordscope.datasets.FramePool` of a split of ``config``'s songs.

    ``train`` holds ``n_songs`` songs, ``validation`` and ``test`` ``max(2, n_songs // 20)``
    each, drawn from :func:`chordscope.songs.training_song` at disjoint indices
    (:data:`SONG_SPLITS`); never the evaluation set (it uses another seed). With ``cache`` (a
    folder), ``data = "music"`` songs rendered before with the same settings are read from it
    (:func:`chordscope.musicdata.song_pool`).
    """
    n = config.n_songs if split == "train" else max(2, config.n_songs // 20)
    first, data = SONG_SPLITS[split], config.dataset
    if config.data == "music":
        train = split == "train"
        return music_pool(
            data.vocab,
            range(first, first + n),
            seed=1000 + config.songs_seed,
            soundfonts=data.soundfonts,
            snr_db=data.snr_db,
            reverb_p=data.reverb if train else 0.0,
            mp3_p=config.mp3 if train else 0.0,
            tuning_cents=config.tuning_cents if train else 0.0,
            counter=config.counter_voice,
            fm=config.fm,
            ring_out_db=config.ring_out_db,
            ring_out_songs=config.ring_out_songs,
            inversions=config.inversions,
            extra_programs=config.extra_programs,
            cqt=data.cqt,
            cache=cache,
        )
    return song_frames(
        data.vocab,
        range(first, first + n),
        seed=1000 + config.songs_seed,
        programs=data.programs,
        soundfonts=data.soundfonts,
        snr_db=data.snr_db,
        roots=data.roots,
        octaves=data.octaves,
        n_context=data.n_context,
        cqt=data.cqt,
    )


@lru_cache(maxsize=2)
def chord_pool(config: TrainConfig):
    """``n_pool`` chord clips of the ``train`` split, rendered once per process: ``(x, y)``.

    For synthesis kinds too slow to render afresh at every step (SoundFont, pluck).
    """
    x, y, _ = chord_examples(config.dataset, config.n_pool, split_rng(config.seed, "train"))
    return x, y


def _batch(config: TrainConfig, t: int, rank: int, n: int, cache=None):
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 20, t, rank]))
    if config.data == "music":
        pool, ctx = song_pool(config, cache=cache), 2 * config.n_context + 1
        starts = rng.integers(0, len(pool) - config.seq_frames - ctx, size=n)
        X, Y = excerpts(pool, starts, config.seq_frames, ctx)
        S = excerpt_structure(pool, starts, config.seq_frames, ctx) if config.structure else None
        X, Y, *S = augment(
            X, Y, get_vocabulary(config.vocab), rng, pitch_shift=config.pitch_shift,
            gain_db=tuple(config.gain_db), eq_db=config.eq_db, harmonics=config.harmonics,
            smear=config.smear, bass_harmonics=config.bass_harmonics,
            freq_mask=config.freq_mask, structure=S,
            bins_per_semitone=config.bins_per_semitone,
        )  # fmt: skip
        X, Y = torch.from_numpy(X[:, None]), torch.from_numpy(Y)
        return (X, Y, torch.from_numpy(S[0])) if S else (X, Y)
    if config.data == "songs":
        pool = song_pool(config)
        idx = rng.integers(len(pool), size=n)
        return torch.from_numpy(pool.windows(idx)), torch.from_numpy(pool.y[idx])
    if config.n_pool:
        x, y = chord_pool(config)
        idx = rng.integers(len(y), size=n)
        return torch.from_numpy(x[idx]), torch.from_numpy(y[idx])
    x, y, _ = chord_examples(config.dataset, n, rng)
    return torch.from_numpy(x), torch.from_numpy(y)


def _fixed_set(config: TrainConfig, split: str, n: int, cache=None):
    if config.data == "music":  # the split's songs cut into consecutive excerpts, unchanged
        pool, ctx = song_pool(config, split, cache), 2 * config.n_context + 1
        starts = np.arange(0, len(pool) - config.seq_frames - ctx, config.seq_frames)
        X, Y = excerpts(pool, starts, config.seq_frames, ctx)
        return torch.from_numpy(X[:, None]), torch.from_numpy(Y)
    if config.data == "songs":
        pool = song_pool(config, split)
        rng = split_rng(config.songs_seed, split)
        idx = np.sort(rng.choice(len(pool), size=min(n, len(pool)), replace=False))
        return torch.from_numpy(pool.windows(idx)), torch.from_numpy(pool.y[idx])
    x, y, _ = chord_examples(config.dataset, n, split_rng(config.seed, split))
    return torch.from_numpy(x), torch.from_numpy(y)


class _Sequences(torch.nn.Module):
    """``model.sequence_logits`` as a forward pass (what DDP wraps for excerpt training).

    With ``structured``, ``model.sequence_structure``: classes, chord tones and bass.
    """

    def __init__(self, model, structured: bool = False):
        super().__init__()
        self.model, self.structured = model, structured

    def forward(self, x):
        m = self.model
        return m.sequence_structure(x) if self.structured else m.sequence_logits(x)


def change_weights(y, weight: float, frames: float):
    """Per-frame loss weights of excerpts' labels ``y`` ``(b, m)``: more weight at the changes.

    A frame ``d`` frames from the nearest label change of its excerpt (the two frames either
    side of a change have ``d = 0``) weighs ``1 + weight * exp(-d / frames)``; an excerpt
    without a change weighs 1 throughout.

    Examples
    --------
    >>> import torch
    >>> w = change_weights(torch.tensor([[0, 0, 0, 5, 5]]), 2.0, 1.0)
    >>> [round(v, 2) for v in w[0].tolist()]
    [1.27, 1.74, 3.0, 3.0, 1.74]
    """
    m = y.shape[-1]
    if m < 2:  # no room for a change
        return torch.ones(y.shape, device=y.device)
    at = y[:, 1:] != y[:, :-1]  # (b, m - 1): a change between frame j and j + 1
    i = torch.arange(m, dtype=torch.float32, device=y.device)
    gap = (i[:, None] - (i[None, :-1] + 0.5)).abs() - 0.5  # (m, m - 1): frame to change j
    d = torch.where(at[:, None, :], gap[None], torch.inf).amin(-1)
    return 1 + weight * torch.exp(-d / frames)


def _loss(net, x, y, s=None, weight: float = 0.0, change: tuple = (0.0, 3.0)):
    """Cross-entropy of windows ``(b,)`` or excerpts ``(b, m)`` (class -1 is left out).

    With ``change = (weight, frames)`` and ``weight > 0``, the excerpts' frames are weighted
    by :func:`change_weights` (a weighted mean over the labelled frames).

    With structure codes ``s`` (:func:`chordscope.musicdata.structure_code`, ``(b, m)``),
    ``weight`` times the structure losses is added: binary cross-entropy of the twelve chord
    tones and cross-entropy of the bass (12 pitch classes or none), both over the frames whose
    code is known (-1 left out), so a chord the vocabulary leaves out (``C:sus4`` in
    ``majmin``) still teaches its notes.
    """
    out = net(x)
    logits = out[0] if s is not None else out
    if change[0] > 0 and y.dim() == 2:
        frame = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-1, reduction="none"
        )
        w = change_weights(y, *change).reshape(-1) * (y.reshape(-1) >= 0)
        loss = (frame * w).sum() / w.sum().clamp_min(1e-9)
    else:
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-1
        )
    if s is None:
        return loss
    tones, bass = out[1].reshape(-1, 12), out[2].reshape(-1, 13)
    s = s.reshape(-1)
    known = s >= 0
    if not known.any():  # only gaps and unknown chords in this batch
        return loss
    bits = (s[known, None] >> torch.arange(12, device=s.device)) & 1
    tone_loss = torch.nn.functional.binary_cross_entropy_with_logits(
        tones[known], bits.to(tones.dtype)
    )
    bass_loss = torch.nn.functional.cross_entropy(bass[known], s[known] // 4096)
    return loss + weight * (tone_loss + bass_loss)


@torch.no_grad()
def _scores(model, x, y, device) -> dict:
    model.eval()
    f = model.sequence_logits if y.dim() == 2 else model
    step = 2048 if y.dim() == 1 else 64
    logits = torch.cat([f(x[i : i + step].to(device)).cpu() for i in range(0, len(x), step)])
    model.train()
    logits, y = logits.reshape(-1, logits.shape[-1]), y.reshape(-1)
    keep = y >= 0
    logits, y = logits[keep], y[keep]
    return {
        "accuracy": (logits.argmax(-1) == y).double().mean().item(),
        "loss": torch.nn.functional.cross_entropy(logits, y).item(),
    }


def _lr(config: TrainConfig, t: int) -> float:
    return config.lr * 0.5 * (1 + math.cos(math.pi * t / config.steps))


def checkpoint_folder(out) -> Path:
    """Return the sub-folder of a run folder that holds its checkpoint (what ``--resume`` reads)."""
    return Path(out) / "checkpoint"


def _save_checkpoint(out: Path, model, opt, step: int, config: TrainConfig, history: list):
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    scalars = {}
    for pid, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v) and v.dim() > 0:
                tensors[f"opt.{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{k}"] = float(v)
    folder = checkpoint_folder(out)
    folder.mkdir(exist_ok=True)
    atomic_write_bytes(folder / "checkpoint.safetensors", save(tensors))
    write_json(
        folder / "checkpoint.json",
        {
            "step": step,
            "config": config.to_json(),
            "architecture": model.architecture,
            "optimizer_scalars": scalars,
            "history": history,
        },
    )


def _load_checkpoint(out: Path, model, opt, config: TrainConfig):
    folder = checkpoint_folder(out)
    if not (folder / "checkpoint.json").is_file() and (out / "checkpoint.json").is_file():
        folder = out  # a run folder written before checkpoints had their own sub-folder
    path = folder / "checkpoint.safetensors"
    if not path.is_file() or not (folder / "checkpoint.json").is_file():
        raise ParameterError(f"--resume: no checkpoint in {out}")
    meta = read_json(folder / "checkpoint.json")
    if meta.get("architecture") != model.architecture:
        raise ParameterError(f"--resume: the checkpoint in {out} is from a different model")
    try:
        tensors = load(path.read_bytes())
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ParameterError(f"--resume: {path} is corrupt ({exc})") from None
    try:
        return _restore(meta, tensors, model, opt)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        reason = (str(exc).splitlines() or [""])[0][:200] or type(exc).__name__
        raise ParameterError(
            f"--resume: the checkpoint in {out} is corrupt ({type(exc).__name__}: {reason})"
        ) from None


def _restore(meta: dict, tensors: dict, model, opt) -> tuple[int, list]:
    """Load a checkpoint's weights and optimiser state; return its step and history."""
    step = meta["step"]
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise ValueError(f"step={step!r} must be a non-negative integer")
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state = opt.state_dict()
    for pid in range(len(state["param_groups"][0]["params"])):
        st = {}
        for k, v in tensors.items():
            if k.startswith(f"opt.{pid}."):
                st[k.split(".", 2)[2]] = v
        for k, v in meta["optimizer_scalars"].items():
            p, name = k.split(".", 1)
            if int(p) == pid:
                st[name] = torch.tensor(v)
        if st:
            state["state"][pid] = st
    opt.load_state_dict(state)
    return step, list(meta.get("history", []))


@dataclass
class FitResult:
    """What :func:`train_chords` hands back; :func:`chordscope.runs.train_recogniser` writes it.

    Attributes
    ----------
    config : TrainConfig  the run's settings (``steps`` resolved when ``epochs`` were given)
    model : torch.nn.Module  the trained model (on rank 0: on the CPU, in eval mode)
    history : list of dict  ``step``, ``train_loss``, ``val_accuracy``, ``val_loss`` per validation
    test : dict or None  ``accuracy`` and ``loss`` on the test split (rank 0; None elsewhere)
    seconds : float  training time of this call
    steps_done : int  steps trained by this call (a resumed run counts from its checkpoint)
    out : Path  the run folder (it holds the checkpoint)
    rank : int  this process's rank (0 without DDP)
    """

    config: TrainConfig
    model: torch.nn.Module
    history: list
    test: dict | None
    seconds: float
    steps_done: int
    out: Path
    rank: int = 0

    def model_metadata(self) -> dict:
        """Return what ``model.json`` says about the model besides its architecture."""
        config = self.config
        return {
            "vocabulary": get_vocabulary(config.vocab).to_json(),
            "features": config.dataset.features.to_json(),
            "train_config": config.to_json(),
            "seed": config.seed,
        }

    def metrics(self) -> dict:
        """Return the run's ``metrics.json``."""
        config, seconds = self.config, self.seconds
        return {
            "test_accuracy": self.test["accuracy"],
            "test_loss": self.test["loss"],
            "n_test": config.n_test,
            "n_params": n_params(self.model),
            "recipe": f"train-{config.vocab}",
            "seed": config.seed,
            "steps": config.steps,
            "train_seconds": round(seconds, 3),
            "examples_per_second": round(
                self.steps_done * config.batch_size / max(seconds, 1e-9), 1
            ),
        }


def train_chords(
    config: TrainConfig,
    out,
    *,
    resume: bool = False,
    force: bool = False,
    shards: int = 1,
    progress=None,
    threads: int | None = None,
    render_cache=None,
) -> FitResult:
    """Train a recogniser (``config.model``), checkpointing into ``out`` (see module docs).

    Writes only ``checkpoint/`` (:func:`checkpoint_folder`); the run folder's model,
    metrics, history, figures and report are written by :func:`chordscope.runs.train_recogniser`
    (which calls this function).

    Parameters
    ----------
    config : TrainConfig
    out : path-like  the run folder (created; with ``resume`` it must hold a checkpoint)
    resume : bool  continue from ``out/checkpoint.*``
    force : bool  replace a finished run in ``out``
    shards : int  split each batch into this many shards, as that many DDP ranks would
    progress : callable, optional  called as ``progress(1, loss=..., [val_accuracy=...])``
        after each step and as ``progress(0, phase=...)`` when a set-up stage begins
    threads : int, optional  torch threads (default: the free cores, see
        :mod:`chordscope.threads`; the environment wins)
    render_cache : path-like, optional  a folder that keeps rendered ``data = "music"`` songs
        between runs (:func:`chordscope.musicdata.song_pool`); the weights do not depend on it

    Returns
    -------
    FitResult
    """
    with using_threads(choose_threads("fit", threads)):
        cache = None if render_cache is None else str(render_cache)
        return _train(config, out, resume, force, shards, progress, cache)


def _train(config, out, resume, force, shards, progress, cache=None) -> FitResult:
    out = Path(out)
    shards = valid_positive_int("shards", shards)
    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    device = _device(config.device)
    rank, world = 0, 1
    if distributed:
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    if config.batch_size % (world * shards):
        raise ParameterError(
            f"batch_size={config.batch_size} must divide evenly over {world * shards} ranks/shards"
        )
    # every rank checks (and fails alike) before rank 0 creates anything
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a folder")
    if not resume and out.exists() and any(out.iterdir()) and not force:
        raise OutputError(f"output folder {out} exists; pass --force to replace it or --resume")
    if cache is not None and Path(cache).exists() and not Path(cache).is_dir():
        raise OutputError(f"render cache {cache} exists and is not a folder")
    if distributed:
        dist.barrier()
    if rank == 0:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write to {out}: {exc.strerror or exc}") from None
    if config.epochs:  # resolve epochs into steps over the fixed training set
        n = {"songs": lambda: len(song_pool(config)),
             "music": lambda: len(song_pool(config, cache=cache)) // config.seq_frames,
             }.get(config.data, lambda: config.n_pool)()  # fmt: skip
        config = replace(config, steps=max(1, math.ceil(config.epochs * n / config.batch_size)))
    if device.type == "cuda":  # same seed, same weights on a GPU too (cuDNN's own choices vary)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    vocab = get_vocabulary(config.vocab)
    torch.manual_seed(config.seed)  # the weights' initialisation (torch's own draws)
    model = build_model(config.architecture(vocab.n_classes)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    start, history = 0, []
    if resume:
        start, history = _load_checkpoint(out, model, opt, config)
    net = _Sequences(model, config.structure > 0) if config.data == "music" else model
    if distributed:
        net = torch.nn.parallel.DistributedDataParallel(net)
    if progress is not None:
        rendered = f"rendering {config.n_songs} training songs (FluidSynth), then validation"
        progress(0, phase=rendered if config.data in ("songs", "music") else "the validation set")
    if config.data in ("songs", "music"):
        song_pool(config, cache=cache)  # rendered once (cached), before the first step's clock
    val = _fixed_set(config, "validation", config.n_val, cache) if rank == 0 else None
    local = config.batch_size // world
    t0 = time.perf_counter()
    done = start
    try:
        for t in range(start, config.steps):
            for g in opt.param_groups:
                g["lr"] = _lr(config, t)
            opt.zero_grad(set_to_none=True)
            n_sh = local // shards
            loss_sum = 0.0
            for s in range(shards):  # shard s of rank r draws stream r * shards + s
                xs, ys, *ss = _batch(config, t, rank * shards + s, n_sh, cache)
                ss = ss[0].to(device) if ss else None
                change = (config.change_weight, config.change_frames)
                loss = _loss(net, xs.to(device), ys.to(device), ss, config.structure, change)
                (loss / shards).backward()
                loss_sum += loss.item() / shards
            opt.step()
            done = t + 1
            numbers = {"loss": loss_sum}
            if rank == 0 and ((t + 1) % config.eval_every == 0 or t + 1 == config.steps):
                history.append(
                    {
                        "step": t + 1,
                        "train_loss": loss_sum,
                        **{f"val_{k}": v for k, v in _scores(model, *val, device).items()},
                    }
                )
                numbers["val_accuracy"] = history[-1]["val_accuracy"]
            if rank == 0 and (t + 1) % config.checkpoint_every == 0:
                _save_checkpoint(out, model, opt, t + 1, config, history)
            if progress is not None:
                progress(1, **numbers)
    except KeyboardInterrupt:
        if rank == 0:
            _save_checkpoint(out, model, opt, done, config, history)
        raise
    seconds = time.perf_counter() - t0
    test = None
    if rank == 0:
        # a final checkpoint (fresh optimiser state) so that --resume finds the finished run
        _save_checkpoint(
            out, model, torch.optim.AdamW(model.parameters()), config.steps, config, history
        )
        if progress is not None:
            progress(0, phase=f"testing on {config.n_test} examples")
        test = _scores(model, *_fixed_set(config, "test", config.n_test, cache), device)
        model = model.cpu().eval()
    if distributed:
        dist.barrier()
    return FitResult(config, model, history, test, seconds, config.steps - start, out, rank)
