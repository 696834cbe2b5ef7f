import librosa
import numpy as np
import pytest

from chordscope.errors import ParameterError
from chordscope.features import TUTORIAL_CQT, cqt, db_normalised, tutorial_features
from chordscope.synth import sine_chord


def _tutorial_one_clip(y):
    """The tutorial's per-clip computation, with librosa."""
    C = librosa.cqt(y, sr=16000, fmin=220, n_bins=36, filter_scale=2)[:, 2:5]
    C = librosa.amplitude_to_db(np.abs(C), ref=np.min)
    return C / np.max(C)


def test_batched_features_equal_the_tutorials_per_clip_librosa_calls():
    f = np.array([[440.0, 554.37], [523.25, 622.25], [830.61, 987.77]])
    y = sine_chord(f)
    X = tutorial_features(y)
    assert X.shape == (3, 36, 3) and X.dtype == np.float32
    for i in range(3):
        np.testing.assert_allclose(X[i], _tutorial_one_clip(y[i]), atol=1e-5)


def test_db_normalised_equals_librosa_on_random_magnitudes(rng):
    S = rng.random((4, 36, 3)) ** 4 + 1e-7
    out = db_normalised(S)
    for i in range(4):
        ref = librosa.amplitude_to_db(S[i], ref=np.min)
        np.testing.assert_allclose(out[i], ref / ref.max(), atol=1e-6)
    assert out.min() >= 0 and np.allclose(out.max(axis=(1, 2)), 1)


def test_peaks_on_chord_tones():
    # A4 + C#5: bins 12 and 16 above A3 (fmin = 220 Hz, one bin per semitone)
    X = tutorial_features(sine_chord([440.0, 440 * 2 ** (4 / 12)]))
    profile = X.mean(axis=1)
    assert set(np.argsort(profile)[-2:]) == {12, 16}


def test_cqt_shape_and_bad_input():
    assert cqt(np.zeros((2, 16000)) + 1e-3).shape == (2, TUTORIAL_CQT.n_bins, 32)
    with pytest.raises(ParameterError, match="finite"):
        cqt(np.full(16000, np.nan))
    with pytest.raises(ParameterError, match="flat"):
        db_normalised(np.ones((36, 3)))


def test_log_cqt_is_batched_librosa_and_spans_c1_to_c7():
    from chordscope.features import CHORD_CQT, log_cqt
    from chordscope.synth import sine

    assert librosa.hz_to_note(CHORD_CQT.fmin) == "C1"
    top = CHORD_CQT.fmin * 2 ** ((CHORD_CQT.n_bins - 1) / CHORD_CQT.bins_per_octave)
    assert librosa.hz_to_note(top) == "C7"
    y = np.stack([sine(261.63), sine(1046.5)])
    F = log_cqt(y)
    assert F.shape == (2, 73, 32) and F.dtype == np.float32
    one = np.abs(librosa.cqt(y[1], sr=16000, fmin=CHORD_CQT.fmin, n_bins=73, filter_scale=1.0))
    np.testing.assert_allclose(F[1], np.log1p(100 * one), rtol=1e-4, atol=1e-5)
    # C4 = 3 octaves above C1 (bin 36), C6 = bin 60
    assert F[0].mean(axis=1).argmax() == 36 and F[1].mean(axis=1).argmax() == 60


def test_context_frames():
    from chordscope.features import context_frames

    F = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5)  # batch, bins, frames
    W = context_frames(F, 1)
    assert W.shape == (2, 5, 3, 3)
    np.testing.assert_array_equal(W[0, 2], F[0][:, 1:4])
    np.testing.assert_array_equal(W[1, 0, :, 0], F[1][:, 0])  # the edge repeats
    with pytest.raises(ParameterError, match="n_context"):
        context_frames(F, -1)
