"""Realistic chord datasets: seeded, split, held out, cached."""

import numpy as np
import pytest

from chordscope.chords import get_vocabulary
from chordscope.datasets import ChordDataConfig, cache_examples, chord_examples, split_rng
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


def test_sinusoid_cqt_equals_librosa_for_steady_sinusoids(rng):
    import librosa

    from chordscope.features import CHORD_CQT, sinusoid_cqt, sinusoid_response

    _, _, _, centre = sinusoid_response(CHORD_CQT)
    sr, hop = 16000, 512
    f = rng.uniform(40, 3000, size=(3, 10))
    a = rng.uniform(0, 1, size=(3, 10))
    ph = rng.uniform(0, 2 * np.pi, size=(3, 10))
    t = np.arange(sr) / sr - centre * hop / sr
    y = (a[..., None] * np.cos(2 * np.pi * f[..., None] * t + ph[..., None])).sum(1)
    ref = librosa.cqt(y, sr=sr, fmin=CHORD_CQT.fmin, n_bins=73, filter_scale=1.0)[
        ..., centre - 1 : centre + 2
    ]
    offsets = np.array([-1, 0, 1])
    phases = ph[..., None] + 2 * np.pi * f[..., None] * offsets * hop / sr
    C = sinusoid_cqt(f, np.repeat(a[..., None], 3, -1), phases)
    assert np.abs(np.abs(C) - np.abs(ref)).max() < 1e-3 * np.abs(ref).max()


def test_fast_additive_path_matches_rendered_audio():
    from dataclasses import replace

    cfg = ChordDataConfig(synths=("additive",), reverb=0.0, snr_db=None, vocab="sevenths")
    xf, yf, lf = chord_examples(cfg, 40, split_rng(2, "train"))
    xa, ya, la = chord_examples(replace(cfg, fast_additive=False), 40, split_rng(2, "train"))
    assert lf == la and np.array_equal(yf, ya)
    d = np.abs(xf - xa)
    assert np.median(d) < 0.005 and np.percentile(d, 99) < 0.15
    # with noise: same SNR draws, different noise samples; the overall level agrees
    noisy = replace(cfg, snr_db=(10.0, 20.0))
    xn, _, _ = chord_examples(noisy, 40, split_rng(2, "train"))
    xr, _, _ = chord_examples(replace(noisy, fast_additive=False), 40, split_rng(2, "train"))
    assert abs(xn.mean() - xr.mean()) < 0.05 * xr.mean()
