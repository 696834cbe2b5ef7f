"""Realistic chord datasets: seeded, split, held out, cached."""

import numpy as np
import pytest

from chordscope.chords import get_vocabulary
from chordscope.data import ChordDataConfig, cache_examples, chord_examples, split_rng
from chordscope.errors import ParameterError

FAST = ChordDataConfig(synths=("additive", "pluck", "sine"), n_context=2)


def test_examples_shapes_labels_and_classes():
    x, y, labels = chord_examples(FAST, 40, split_rng(0, "train"))
    assert x.shape == (40, 1, 73, 5) and x.dtype == np.float32 and np.isfinite(x).all()
    v = get_vocabulary("majmin")
    assert [v.labels[i] for i in y] == labels
    assert len(set(labels)) > 10


def test_same_seed_same_data_splits_differ():
    a = chord_examples(FAST, 12, split_rng(3, "train"))
    b = chord_examples(FAST, 12, split_rng(3, "train"))
    c = chord_examples(FAST, 12, split_rng(3, "test"))
    assert np.array_equal(a[0], b[0]) and a[2] == b[2]
    assert not np.array_equal(a[0], c[0])


def test_held_out_roots_and_vocabulary():
    cfg = ChordDataConfig(
        synths=("sine",), roots=(10, 11), vocab="sevenths", no_chord=0.0, snr_db=None
    )
    _, y, labels = chord_examples(cfg, 30, split_rng(0, "test"))
    assert all(lab.split(":")[0] in ("A#", "B") for lab in labels)
    assert any(lab.split(":")[1] in ("7", "maj7", "min7", "hdim7", "dim7") for lab in labels)
    assert y.max() < 133


@pytest.mark.parametrize("synth", ["sine", "additive", "pluck"])
def test_centre_frame_is_loudest_on_a_chord_tone(synth):
    from chordscope.chords import parse_label

    cfg = ChordDataConfig(synths=(synth,), no_chord=0.0, snr_db=None, reverb=0.0, octaves=(4,))
    x, _, labels = chord_examples(cfg, 20, split_rng(1, "train"))
    ratios = []
    for xi, lab in zip(x, labels, strict=True):
        root, bitmap, _ = parse_label(lab)
        tones = [(root + k) % 12 for k in np.flatnonzero(bitmap)]
        mag = np.expm1(xi[0, :, xi.shape[-1] // 2])  # undo log(1 + x); bin 0 = C1
        chroma = np.array([mag[pc::12].sum() for pc in range(12)])
        assert chroma.argmax() in tones, lab
        others = [chroma[p] for p in range(12) if p not in tones]
        ratios.append(chroma[tones].mean() / np.mean(others))
    assert np.median(ratios) > 2


def test_cache_equals_direct_generation(tmp_path):
    X, Y = cache_examples(FAST, 10, tmp_path / "train", seed=4, chunk=4)
    x, y, _ = chord_examples(FAST, 10, split_rng(4, "train"))
    assert (
        isinstance(X, np.memmap)
        and np.array_equal(np.asarray(X), x)
        and np.array_equal(np.asarray(Y), y)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.x.npy", "train.y.npy"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"vocab": "jazz"}, "vocabulary='jazz'"),
        ({"synths": ("fm",)}, "synth='fm'"),
        ({"programs": (200,)}, "program=200"),
        ({"roots": (12,)}, "roots="),
        ({"vocab": "seed"}, "tutorial"),
    ],
)
def test_bad_config(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        ChordDataConfig(**kwargs)


def test_unknown_split():
    with pytest.raises(ParameterError, match="split='dev'"):
        split_rng(0, "dev")
