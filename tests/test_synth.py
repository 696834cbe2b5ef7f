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


import shutil  # noqa: E402

import librosa  # noqa: E402

from chordscope.chords import voicing  # noqa: E402
from chordscope.synth import add_noise, render, reverb, soundfont_path  # noqa: E402

HAVE_FLUIDSYNTH = shutil.which("fluidsynth") is not None
try:
    soundfont_path("fluidr3")
    HAVE_FLUIDR3 = True
except ParameterError:
    HAVE_FLUIDR3 = False
needs_fluidsynth = pytest.mark.skipif(
    not (HAVE_FLUIDSYNTH and HAVE_FLUIDR3),
    reason="fluidsynth or FluidR3_GM missing: make installs them only as root "
    "(apt-get install fluidsynth fluid-soundfont-gm)",
)


def _top_pitch_classes(y, n):
    chroma = librosa.feature.chroma_cqt(y=y, sr=16000, hop_length=512).mean(axis=1)
    return set(np.argsort(chroma)[-n:].tolist())


@pytest.mark.parametrize("synth", ["sine", "additive", "pluck"])
@pytest.mark.parametrize(
    "label, pcs", [("D:min", {2, 5, 9}), ("E:maj", {4, 8, 11}), ("A#:maj", {10, 2, 5})]
)
def test_chroma_peaks_on_chord_tones(synth, label, pcs):
    y = render(voicing(label), synth=synth, duration=1.0, rng=np.random.default_rng(3))
    assert _top_pitch_classes(y, 3) == pcs


@needs_fluidsynth
@pytest.mark.parametrize("soundfont, program", [("fluidr3", 0), ("fluidr3", 24), ("timgm6mb", 48)])
def test_soundfont_chroma_and_determinism(soundfont, program):
    y = render(
        voicing("D:min"), synth="soundfont", program=program, soundfont=soundfont, duration=1.0
    )
    assert _top_pitch_classes(y, 3) == {2, 5, 9}
    y2 = render(
        voicing("D:min"), synth="soundfont", program=program, soundfont=soundfont, duration=1.0
    )
    assert np.array_equal(y, y2)


def test_pluck_is_in_tune():
    for pitch in (45, 57, 69, 81):
        y = render([(pitch, 0.0, 1.0)], synth="pluck", duration=1.0, rng=np.random.default_rng(0))
        f0 = librosa.yin(y, fmin=50, fmax=2000, sr=16000, frame_length=2048)
        cents = 1200 * np.log2(np.median(f0) / (440 * 2 ** ((pitch - 69) / 12)))
        assert abs(cents) < 10


def test_same_seed_same_audio_different_seed_different_audio():
    for synth in ("additive", "pluck"):
        a = render(voicing("C:maj7"), synth=synth, rng=np.random.default_rng(1))
        b = render(voicing("C:maj7"), synth=synth, rng=np.random.default_rng(1))
        c = render(voicing("C:maj7"), synth=synth, rng=np.random.default_rng(2))
        assert np.array_equal(a, b) and not np.allclose(a, c)
    with pytest.raises(ParameterError, match="seeded rng"):
        render(voicing("C:maj"), synth="additive")


@pytest.mark.parametrize("kind", ["white", "pink"])
def test_noise_at_snr(kind):
    y = sine(440.0)
    z = add_noise(y, 10.0, kind=kind, rng=np.random.default_rng(0))
    snr = 10 * np.log10(np.mean(y**2) / np.mean((z - y) ** 2))
    assert snr == pytest.approx(10.0)
    spec = np.abs(np.fft.rfft(z - y)) ** 2
    low, high = spec[100:200].mean(), spec[3200:6400].mean()
    if kind == "pink":
        assert low / high > 10  # about 3 dB per octave over 5 octaves
    else:
        assert 0.5 < low / high < 2


def test_reverb_keeps_length_and_adds_a_tail():
    y = np.zeros(16000)
    y[:800] = sine(440.0, duration=0.05)
    z = reverb(y, rt60=0.5, rng=np.random.default_rng(0))
    assert z.shape == y.shape and np.abs(z[4000:8000]).max() > 1e-3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"synth": "fm"}, "synth='fm'"),
        ({"synth": "soundfont", "program": 200}, "program=200"),
        ({"synth": "soundfont", "soundfont": "/nonexistent.sf2"}, "not found"),
    ],
)
def test_bad_synth_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        render(voicing("C:maj"), rng=np.random.default_rng(0), **kwargs)


def test_not_a_soundfont(tmp_path):
    bad = tmp_path / "fake.sf2"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ")
    with pytest.raises(ParameterError, match="not a SoundFont"):
        soundfont_path(str(bad))


def test_snr_must_be_a_number():
    with pytest.raises(ParameterError, match="snr='loud'"):
        add_noise(np.ones(10), "loud", rng=np.random.default_rng(0))
