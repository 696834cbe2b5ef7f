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
