import numpy as np
import pytest

from chordscope.chords import chord_frequencies, get_vocabulary, root_frequencies
from chordscope.errors import ParameterError


def test_roots_are_equal_tempered_from_a4():
    r = root_frequencies()
    assert r.shape == (12,)
    assert r[0] == 440.0
    np.testing.assert_allclose(r[1:] / r[:-1], 2 ** (1 / 12))
    np.testing.assert_allclose(r[3], 523.2511306, rtol=1e-9)  # C5


def test_seed_vocabulary_is_major_and_minor_third_dyads():
    v = get_vocabulary("seed")
    assert v.labels == ("maj", "min")
    assert v.intervals == ((0, 4), (0, 3))
    np.testing.assert_allclose(
        chord_frequencies(440.0, v.intervals[0]), [440.0, 440 * 2 ** (4 / 12)]
    )


def test_unknown_vocabulary():
    with pytest.raises(ParameterError, match="vocabulary='jazz'"):
        get_vocabulary("jazz")


@pytest.mark.parametrize("name, size", [("majmin", 25), ("triads", 73), ("sevenths", 133)])
def test_harte_vocabularies_have_documented_sizes_and_round_trip(name, size):
    import mir_eval.chord

    v = get_vocabulary(name)
    assert v.n_classes == size and v.labels[0] == "N"
    for i, label in enumerate(v.labels):
        mir_eval.chord.encode(label)  # valid Harte syntax
        assert v.index(label) == i
        if i:
            root, bitmap, _ = mir_eval.chord.encode(label)
            assert tuple(np.flatnonzero(bitmap)) == v.intervals[i]


@pytest.mark.parametrize(
    "name, label, expected",
    [
        ("majmin", "C:maj7/3", "C:maj"),
        ("majmin", "Bb:min7/b3", "A#:min"),
        ("majmin", "E:9", "E:maj"),
        ("majmin", "C:dim", None),
        ("majmin", "C:sus4", None),
        ("majmin", "C:5", None),
        ("majmin", "X", None),
        ("majmin", "N", "N"),
        ("triads", "C:hdim7", "C:dim"),
        ("triads", "G:sus2(b7)", "G:sus2"),
        ("sevenths", "C:9", "C:7"),
        ("sevenths", "D:min7/5", "D:min7"),
        ("sevenths", "A:maj6", "A:maj"),
        ("sevenths", "F#:dim7", "F#:dim7"),
    ],
)
def test_mirex_style_reduction(name, label, expected):
    v = get_vocabulary(name)
    i = v.index(label)
    assert (None if i is None else v.labels[i]) == expected


@pytest.mark.parametrize(
    "label, match",
    [("C:major", "unknown quality 'major'"), ("H:maj", "unknown root 'H'"), ("", "empty")],
)
def test_bad_labels(label, match):
    from chordscope.chords import parse_label

    with pytest.raises(ParameterError, match=match):
        parse_label(label)


def test_voicings():
    from chordscope.chords import voicing

    assert [p for p, _, _ in voicing("C:maj")] == [60, 64, 67]
    assert [p for p, _, _ in voicing("C:maj/3")] == [64, 67, 72]
    assert voicing("N") == []
    rng = np.random.default_rng(5)
    seen_bass, seen_inv = set(), set()
    for _ in range(40):
        notes = voicing("G:7", rng=rng)
        pcs = {int(p) % 12 for p, _, _ in notes}
        assert pcs <= {7, 11, 2, 5} and {11, 2, 5} <= pcs  # only chord tones, third/fifth/seventh
        onsets = [o for _, o, _ in notes]
        assert min(onsets) >= 0 and max(onsets) <= 0.03
        assert all(0.6 <= v <= 1.0 for _, _, v in notes)
        seen_bass.add(int(min(p for p, _, _ in notes)) % 12)
        seen_inv.add(len(notes))
    assert len(seen_bass) > 1 and len(seen_inv) > 1  # inversions and doublings happen
    a = voicing("G:7", rng=np.random.default_rng(1))
    assert a == voicing("G:7", rng=np.random.default_rng(1))
