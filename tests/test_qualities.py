"""Roots from one recogniser, qualities from another (``roots_and_qualities``, ``--qualities``)."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import save_tiny_recogniser

import chordscope
from chordscope.chords import get_vocabulary, parse_label
from chordscope.cli import main
from chordscope.errors import ModelFileError, ParameterError
from chordscope.recognise import (
    load_recogniser,
    posteriors,
    pretrained_models,
    roots_and_qualities,
)

needs_fine = pytest.mark.skipif(
    not {"majmin", "majmin-fine"} <= set(pretrained_models()), reason="pretrained models missing"
)
REAL_GUITAR = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-guitar-dev"


def _random_posteriors(rng, n, k):
    P = rng.random((n, k)) ** 4  # peaked rows, as a network's are
    return P / P.sum(1, keepdims=True)


def _roots(labels):
    return np.array([-1 if lab == "N" else parse_label(lab)[0] for lab in labels])


@pytest.mark.parametrize("vocab", ["majmin", "sevenths"])
def test_roots_come_from_the_first_and_qualities_from_the_second(rng, vocab):
    labels = get_vocabulary(vocab).labels
    A, B = _random_posteriors(rng, 50, len(labels)), _random_posteriors(rng, 50, len(labels))
    P = roots_and_qualities(A, B, labels)
    assert P.dtype == np.float32 and P.shape == A.shape
    np.testing.assert_allclose(P.sum(1), 1, atol=1e-6)
    n = labels.index("N")
    np.testing.assert_allclose(P[:, n], (A[:, n] + B[:, n]) / 2, rtol=1e-5)
    roots = _roots(labels)
    for r in range(12):
        cols = roots == r
        # the root's share of the chords is the first model's ...
        np.testing.assert_allclose(
            P[:, cols].sum(1) / (1 - P[:, n]), A[:, cols].sum(1) / (1 - A[:, n]), rtol=1e-4
        )
        # ... and its chords are shared as the second model shares them
        np.testing.assert_allclose(
            P[:, cols] / P[:, cols].sum(1, keepdims=True),
            B[:, cols] / B[:, cols].sum(1, keepdims=True),
            rtol=1e-4,
        )


def test_a_model_naming_its_own_qualities_changes_nothing(rng):
    labels = get_vocabulary("sevenths").labels
    A = _random_posteriors(rng, 30, len(labels))
    np.testing.assert_allclose(roots_and_qualities(A, A, labels), A, rtol=1e-5, atol=1e-7)


def test_posteriors_that_do_not_fit_are_refused(rng):
    labels = get_vocabulary("majmin").labels
    A = _random_posteriors(rng, 10, len(labels))
    with pytest.raises(ParameterError, match="shapes"):
        roots_and_qualities(A, A[:5], labels)
    with pytest.raises(ParameterError, match="labels"):
        roots_and_qualities(A, A, labels[:-1])


def test_a_qualities_model_must_fit_the_roots_model(tmp_path):
    roots = save_tiny_recogniser(tmp_path / "a")
    other_peak = save_tiny_recogniser(tmp_path / "b", peak=0.5)
    rec = load_recogniser(roots, qualities=save_tiny_recogniser(tmp_path / "c", seed=2))
    assert rec.qualities is not None and rec.qualities.labels == rec.labels
    with pytest.raises(
        ModelFileError, match="cannot name the qualities .* sample rate, hop or peak"
    ):
        load_recogniser(roots, qualities=other_peak)
    with pytest.raises(ModelFileError, match="itself takes its qualities"):
        load_recogniser(roots, qualities=rec)
    with pytest.raises(ModelFileError, match="neither a pretrained name"):
        load_recogniser(roots, qualities=tmp_path / "missing")


@needs_fine
def test_sevenths_cannot_name_the_qualities_of_majmin():
    with pytest.raises(
        ModelFileError, match="sevenths cannot name the qualities of majmin: it has other labels"
    ):
        load_recogniser("majmin", qualities="sevenths")


class _AlwaysMinor(torch.nn.Module):
    """A stand-in network that hears every frame as a minor chord, on no root in particular."""

    def __init__(self, labels):
        super().__init__()
        self.minor = torch.tensor([lab.endswith(":min") for lab in labels])

    def frame_logits(self, F):
        logits = torch.zeros(F.shape[-1], len(self.minor))
        logits[:, self.minor] = 8.0
        return logits


@needs_fine
def test_predict_names_the_root_by_one_model_and_the_quality_by_the_other(tmp_path):
    import dataclasses

    sr = 16000
    t = np.arange(4 * sr) / sr
    y = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)) / 4  # C major
    sf.write(tmp_path / "c.wav", y, sr)
    majmin = load_recogniser("majmin")
    alone = chordscope.predict(tmp_path / "c.wav", majmin)
    assert "C:maj" in [s.label for s in alone]
    minor = dataclasses.replace(majmin, model=_AlwaysMinor(majmin.labels), name="minor")
    segs = chordscope.predict(tmp_path / "c.wav", majmin, qualities=minor)
    chords = [s for s in segs if s.label != "N"]
    assert chords and all(s.label.endswith(":min") for s in chords)
    # the roots are majmin's own: where it heard C, the pair hears C minor
    assert "C:min" in [s.label for s in chords]
    # naming its own qualities, a model answers as it does alone
    assert chordscope.predict(tmp_path / "c.wav", majmin, qualities="majmin") == alone


@needs_fine
def test_the_finer_network_is_read_at_its_own_transform(tmp_path, rng):
    """The qualities model hears 219 bins of the same audio, frame for frame."""
    rec = load_recogniser("majmin", qualities="majmin-fine")
    assert rec.qualities.config.n_bins == 219 and rec.config.n_bins == 73
    y = 0.1 * rng.standard_normal(3 * 16000).astype(np.float32)
    F = chordscope.recognise.audio_features(y, rec.config)
    Fq = chordscope.recognise.audio_features(y, rec.qualities.config)
    assert F.shape[1] == Fq.shape[1]
    assert posteriors(rec.qualities, Fq).shape == (F.shape[1], 25)


@needs_fine
def test_progress_follows_both_transforms(tmp_path):
    """A long file's second transform (the qualities model's) reports too, named as such."""
    sr = 16000
    y = np.zeros(3 * sr, dtype=np.float32)
    y[sr:] = 0.1 * np.sin(2 * np.pi * 440.0 * np.arange(2 * sr) / sr)
    sf.write(tmp_path / "a.wav", y, sr)
    told = []
    tell = lambda n=0, **k: told.append(k)  # noqa: E731
    chordscope.predict(tmp_path / "a.wav", "majmin", qualities="majmin-fine", progress=tell)
    audio = [k["audio"] for k in told if "audio" in k]
    assert audio[0] == "3/3 s" and audio[-1] == "qualities 3/3 s", audio
    told.clear()
    chordscope.predict(tmp_path / "a.wav", "majmin", qualities=None, progress=tell)
    assert [k["audio"] for k in told] == ["3/3 s"]


@needs_fine
def test_a_shipped_model_takes_its_qualities_from_its_fine_twin_by_default(tmp_path):
    from chordscope.recognise import default_qualities

    assert default_qualities("majmin") == "majmin-fine"
    assert default_qualities("majmin-fine") is None  # no twin of its own
    assert default_qualities(load_recogniser("majmin")) is None  # a loaded model is as it is
    assert load_recogniser("majmin").qualities is None  # loading alone pairs nothing
    assert load_recogniser("majmin", qualities="auto").qualities.name == "majmin-fine"
    if "sevenths-fine" in pretrained_models():
        assert load_recogniser("sevenths", qualities="auto").qualities.name == "sevenths-fine"
    sr = 16000
    t = np.arange(3 * sr) / sr
    sf.write(tmp_path / "a.wav", sum(np.sin(2 * np.pi * f * t) for f in (220, 262, 330)) / 4, sr)
    rec = load_recogniser("majmin", qualities="majmin-fine")
    assert chordscope.predict(tmp_path / "a.wav") == chordscope.predict(tmp_path / "a.wav", rec)
    alone = chordscope.predict(tmp_path / "a.wav", qualities=None)
    assert alone == chordscope.predict(tmp_path / "a.wav", load_recogniser("majmin"))
    # the command: the pair by default, --qualities none for the model alone
    out = tmp_path / "o"
    argv = ["predict", str(tmp_path / "a.wav"), "-o", str(out), "--format", "jams", "--quiet"]
    assert main(argv) == 0
    sandbox = json.loads((out / "a.jams").read_text())["annotations"][0]["sandbox"]
    assert sandbox["model"] == "majmin" and sandbox["qualities"] == "majmin-fine"
    assert main([*argv, "--qualities", "none"]) == 0
    assert "qualities" not in json.loads((out / "a.jams").read_text())["annotations"][0]["sandbox"]
    # a trained model's file has no twin: it runs alone unless told
    trained = save_tiny_recogniser(tmp_path / "tiny")
    assert load_recogniser(trained, qualities="auto").qualities is None
    assert main([*argv, "--model", str(trained)]) == 0
    assert "qualities" not in json.loads((out / "a.jams").read_text())["annotations"][0]["sandbox"]


@needs_fine
def test_predict_command_with_qualities(tmp_path, capsys):
    sr = 16000
    t = np.arange(3 * sr) / sr
    y = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 261.63, 329.63)) / 4  # A minor
    sf.write(tmp_path / "a.wav", y, sr)
    out = tmp_path / "o"
    argv = ["predict", str(tmp_path / "a.wav"), "-o", str(out), "--format", "jams", "--quiet"]
    assert main([*argv, "--qualities", "majmin-fine"]) == 0
    jam = json.loads((out / "a.jams").read_text())
    sandbox = jam["annotations"][0]["sandbox"]
    assert sandbox["model"] == "majmin" and sandbox["qualities"] == "majmin-fine"
    assert "A:min" in [o["value"] for o in jam["annotations"][0]["data"]]
    (out / "a.jams").unlink()
    assert main([*argv, "--qualities", "sevenths"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot name the qualities" in err[-1]
    assert not (out / "a.jams").exists()


@needs_fine
@pytest.mark.skipif(
    not REAL_GUITAR.is_dir(), reason=f"real recordings absent ({REAL_GUITAR}: see its README)"
)
def test_majmin_with_fine_qualities_on_real_guitar_recordings():
    """Every sixth recording of the INTELSIG (Liège) guitar chords, evaluation only."""
    from chordscope.evaluate import pool, score_segments

    files = sorted(REAL_GUITAR.glob("guitar_*.flac"))[::6]
    rec = load_recogniser("majmin", qualities="majmin-fine")
    total = pool(score_segments(f.with_suffix(".lab"), chordscope.predict(f, rec)) for f in files)
    assert total["majmin"] >= 0.97, total


@pytest.mark.parametrize("vocab", ["majmin", "sevenths"])
def test_each_shipped_fine_model_names_the_qualities_of_its_plain_twin(tmp_path, vocab):
    """Two evaluation songs (training programs, FluidR3), as the single models are tested."""
    import shutil

    from chordscope.evalset import write_evalset
    from chordscope.evaluate import chord_scores
    from chordscope.io import read_chords

    if f"{vocab}-fine" not in pretrained_models():
        pytest.skip(f"{vocab}-fine is not shipped")
    if shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth missing")
    rec = load_recogniser(vocab, qualities=f"{vocab}-fine")
    assert rec.labels == get_vocabulary(vocab).labels
    assert rec.qualities.config.bins_per_octave == 36 and rec.config.bins_per_octave == 12
    write_evalset(tmp_path, n_songs=2)
    right = seconds = 0.0
    for i in range(2):
        segs = chordscope.predict(tmp_path / f"song{i:03d}.wav", rec)
        ref_i, ref_l = read_chords(tmp_path / f"song{i:03d}.lab")
        scores, w = chord_scores(ref_i, ref_l, [s[:2] for s in segs], [s[2] for s in segs])
        right += scores[vocab] * w[vocab]
        seconds += w[vocab]
    assert right / seconds >= {"majmin": 0.80, "sevenths": 0.6}[vocab], right / seconds
