"""Seeded data for the tutorial's experiment.

Conventions
-----------
- The tutorial's data are 24 clean inputs (12 roots × {maj, min}) plus noise. They are computed
  once (:func:`tutorial_inputs`); batches only add noise and pick roots.
- A batch of ``batch_size`` examples holds ``batch_size // 2`` roots drawn with replacement,
  the major dyads of those roots first and then the minor dyads of the same roots, and ONE
  noise pattern ``g * U(-1, 1)`` (shape of one input) added to all of them, with
  ``g = noise_scale * U(0, 1)`` drawn per batch — the tutorial's ``DataGen.__next__``.
- Randomness comes from streams derived from the run seed with :class:`numpy.random.SeedSequence`:
  training, validation and initialisation never share a stream (the tutorial's validation
  generator reused the training stream). The test set is fixed: it does not depend on the run
  seed, so every run is scored on the same examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .chords import chord_frequencies, get_vocabulary, root_frequencies
from .errors import valid_positive_int
from .features import TUTORIAL_CQT, CQTConfig, tutorial_features
from .synth import sine_chord

__all__ = [
    "TutorialInputs",
    "BatchPlan",
    "tutorial_inputs",
    "draw_batches",
    "make_batch",
    "streams",
    "test_noise",
    "test_set",
    "TEST_SEED",
]

#: Seed of the fixed test set (never used for training or validation streams).
TEST_SEED = 20171129
_STREAMS = {"train": 0, "validation": 1, "init": 2}


@dataclass(frozen=True)
class TutorialInputs:
    """The tutorial's clean inputs.

    Attributes
    ----------
    x : np.ndarray [shape=(n_classes, n_roots, n_bins, n_frames)], float32
        ``x[c, r]`` is the input for class ``c`` (0 = maj, 1 = min) on root ``r``.
    roots_hz : np.ndarray [shape=(n_roots,)]
    config : CQTConfig
    """

    x: np.ndarray
    roots_hz: np.ndarray
    config: CQTConfig

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of one input, ``(n_bins, n_frames)``."""
        return self.x.shape[-2:]


@lru_cache(maxsize=4)
def tutorial_inputs(
    *, duration: float = 1.0, gain: float = 0.5, config: CQTConfig = TUTORIAL_CQT
) -> TutorialInputs:
    """Synthesise the 24 sine dyads and compute their inputs, once (cached).

    Examples
    --------
    >>> tutorial_inputs().x.shape
    (2, 12, 36, 3)
    """
    vocab = get_vocabulary("seed")
    roots = root_frequencies(12)
    freqs = np.array([[chord_frequencies(r, iv) for r in roots] for iv in vocab.intervals])
    y = sine_chord(freqs, duration=duration, sr=config.sr, gain=gain)
    x = tutorial_features(y, config=config)
    x.setflags(write=False)
    return TutorialInputs(x=x, roots_hz=roots, config=config)


@dataclass(frozen=True)
class BatchPlan:
    """The random part of ``n`` tutorial batches.

    Attributes
    ----------
    roots : np.ndarray [shape=(n, batch_size // 2)], int
        Root indices of each batch (used for the major and for the minor half).
    noise : np.ndarray [shape=(n, n_bins, n_frames)], float32
        The noise pattern of each batch, already scaled by its gain.
    """

    roots: np.ndarray
    noise: np.ndarray

    def __len__(self) -> int:
        return len(self.roots)


def draw_batches(
    rng: np.random.Generator,
    n_batches: int,
    *,
    batch_size: int = 128,
    shape: tuple[int, int] = (36, 3),
    n_roots: int = 12,
    noise_scale: float = 0.1,
) -> BatchPlan:
    """Draw the roots and noise of ``n_batches`` tutorial batches from ``rng``.

    The draws happen in a fixed order (all roots, then all gains, then all noise), so the same
    generator state always gives the same plan.

    Examples
    --------
    >>> plan = draw_batches(np.random.default_rng(0), 5)
    >>> plan.roots.shape, plan.noise.shape
    ((5, 64), (5, 36, 3))
    """
    n_batches = valid_positive_int("n_batches", n_batches)
    batch_size = valid_positive_int("batch_size", batch_size)
    roots = rng.integers(0, n_roots, size=(n_batches, batch_size // 2))
    gains = noise_scale * rng.random(n_batches, dtype=np.float32)
    noise = 2.0 * rng.random((n_batches, *shape), dtype=np.float32) - 1.0  # U(-1, 1)
    return BatchPlan(roots=roots, noise=gains[:, None, None] * noise)


def make_batch(inputs: TutorialInputs, plan: BatchPlan, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Build batch ``i`` of ``plan`` example by example, as the tutorial's generator does.

    Returns
    -------
    x : np.ndarray [shape=(batch_size, 1, n_bins, n_frames)], float32
    y : np.ndarray [shape=(batch_size,)], int64 class indices (0 = maj, 1 = min)

    Examples
    --------
    >>> x, y = make_batch(tutorial_inputs(), draw_batches(np.random.default_rng(0), 1), 0)
    >>> x.shape, y[:2].tolist(), y[-2:].tolist()
    ((128, 1, 36, 3), [0, 0], [1, 1])
    """
    noise = plan.noise[i]
    xs = [noise + inputs.x[0, r] for r in plan.roots[i]]
    xs += [noise + inputs.x[1, r] for r in plan.roots[i]]
    half = len(plan.roots[i])
    y = np.concatenate([np.zeros(half, dtype=np.int64), np.ones(half, dtype=np.int64)])
    return np.array(xs, dtype=np.float32)[:, None], y


def streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators for one run: ``train``, ``validation`` and ``init``.

    Examples
    --------
    >>> sorted(streams(0))
    ['init', 'train', 'validation']
    """
    return {
        name: np.random.default_rng(np.random.SeedSequence([seed, key]))
        for name, key in _STREAMS.items()
    }


def test_noise(
    n_patterns: int = 100, *, shape: tuple[int, int] = (36, 3), noise_scale: float = 0.1
) -> np.ndarray:
    """The fixed test set's noise patterns, drawn like training noise from :data:`TEST_SEED`.

    The test set is every clean input (24) under every pattern: ``24 * n_patterns`` examples.

    Returns
    -------
    noise : np.ndarray [shape=(n_patterns, n_bins, n_frames)], float32
    """
    rng = np.random.default_rng(TEST_SEED)
    return draw_batches(rng, n_patterns, shape=shape, noise_scale=noise_scale).noise


def test_set(
    inputs: TutorialInputs | None = None, n_patterns: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """The fixed test set as arrays: every clean input under every test noise pattern.

    Returns
    -------
    x : np.ndarray [shape=(n_patterns * 24, 1, n_bins, n_frames)], float32
        Pattern-major: the 24 inputs (12 maj then 12 min) under pattern 0, then pattern 1, ...
    y : np.ndarray [shape=(n_patterns * 24,)], int64
    """
    inputs = inputs or tutorial_inputs()
    C, R = inputs.x.shape[:2]
    clean = inputs.x.reshape(C * R, *inputs.shape)
    noise = test_noise(n_patterns, shape=inputs.shape)
    x = (noise[:, None] + clean[None]).reshape(-1, 1, *inputs.shape)
    y = np.tile(np.repeat(np.arange(C), R), n_patterns)
    return x.astype(np.float32), y


# these two build the test set; they are not pytest tests
test_noise.__test__ = False
test_set.__test__ = False
