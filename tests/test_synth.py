import numpy as np
import pytest

from chordscope.errors import ParameterError
from chordscope.synth import sine, sine_chord


def test_sine_matches_formula_and_frequency():
    y = sine(440.0, duration=1.0, sr=16000, gain=0.5)
    assert y.shape == (16000,)
    t = np.arange(16000)
    np.testing.assert_allclose(y, 0.5 * np.sin(2 * np.pi * 440 * t / 16000))
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) == 440  # 1 Hz bins for a 1 s clip


def test_chord_is_sum_of_notes_and_batches():
    f = np.array([[440.0, 554.37], [440.0, 523.25]])
    y = sine_chord(f, duration=0.5, sr=8000, gain=0.5)
    assert y.shape == (2, 4000)
    np.testing.assert_allclose(
        y[1], sine(440.0, duration=0.5, sr=8000) + sine(523.25, duration=0.5, sr=8000)
    )


def test_bad_duration():
    with pytest.raises(ParameterError, match="duration"):
        sine(440.0, duration=0)
