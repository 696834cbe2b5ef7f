"""Three CQT bins a semitone (features.FINE_CQT): transform, network, training, labelling."""

import json
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
import torch
from test_context import SMALL_MUSIC, needs_fluidsynth
from test_recognise import PitchClassNet

from chordscope.augment import augment
from chordscope.chords import get_vocabulary
from chordscope.errors import ModelFileError, ParameterError
from chordscope.features import (
    CHORD_CQT,
    FINE_CQT,
    CQTConfig,
    RecogniserInput,
    bins_per_semitone,
    chord_cqt,
    cqt,
    log_cqt,
)
from chordscope.fit import TrainConfig
from chordscope.models import ChordCNN, ChordTCN, build_model, check_architecture
from chordscope.recognise import Recogniser, audio_features, load_recogniser, posteriors
from chordscope.runs import train_recogniser

SR = FINE_CQT.sr


def _sine(hz, seconds=1.0):
    t = np.arange(int(seconds * SR)) / SR
    return 0.5 * np.sin(2 * np.pi * hz * t)


def test_each_semitone_has_three_bins_and_its_middle_one_is_the_note():
    a4 = 440.0  # 45 semitones above C1
    fine = log_cqt(_sine(a4), config=FINE_CQT).mean(axis=-1)
    coarse = log_cqt(_sine(a4), config=CHORD_CQT).mean(axis=-1)
    assert fine.shape == (219,) and coarse.shape == (73,)
    assert int(coarse.argmax()) == 45 and int(fine.argmax()) == 3 * 45 + 1
    # a third of a semitone sharp: the fine transform moves one bin, the coarse one not at all
    sharp = a4 * 2 ** (1 / 36)
    assert int(log_cqt(_sine(sharp), config=FINE_CQT).mean(axis=-1).argmax()) == 3 * 45 + 2
    assert int(log_cqt(_sine(sharp), config=CHORD_CQT).mean(axis=-1).argmax()) == 45
    assert bins_per_semitone(FINE_CQT) == 3 and bins_per_semitone(CHORD_CQT) == 1
    assert chord_cqt(3) is FINE_CQT and chord_cqt(1) is CHORD_CQT
    with pytest.raises(ParameterError, match="1 or 3"):
        chord_cqt(2)


def test_a_tuning_in_semitones_lands_a_detuned_note_on_its_middle_bin():
    sharp = 440.0 * 2 ** (0.3 / 12)  # A4, 30 cents sharp
    off = audio_features(_sine(sharp, 2.0), FINE_CQT).mean(axis=-1)
    tuned = audio_features(_sine(sharp, 2.0), FINE_CQT, tuning=0.3).mean(axis=-1)
    assert int(off.argmax()) == 3 * 45 + 2 and int(tuned.argmax()) == 3 * 45 + 1
    # log_cqt, which renders the training songs, takes the same semitones
    rendered = log_cqt(_sine(sharp, 2.0), config=FINE_CQT, tuning=0.3).mean(axis=-1)
    assert int(rendered.argmax()) == 3 * 45 + 1


def test_the_first_layer_steps_a_semitone_and_centres_on_its_middle_bin():
    net = ChordCNN(n_classes=25, n_bins=219, bins_per_semitone=3)
    assert net.conv1.weight.shape[2:] == (15, 3) and net.semitones == 73
    with torch.no_grad():
        net.conv1.weight.zero_()
        net.conv1.weight[:, :, 7, 1] = 1.0  # the kernel's centre tap
    x = torch.zeros(1, 1, 219, 7)
    x[0, 0, 3 * 10 + 1] = 1.0  # semitone 10's middle bin
    out = net.conv1(x)[0, 0, :, 0]
    assert out.shape == (73,) and out.nonzero().flatten().tolist() == [10]


def test_a_fine_tcn_labels_whole_spectrograms_and_rebuilds_from_its_dict():
    torch.manual_seed(0)
    net = ChordTCN(n_classes=25, n_bins=219, dilations=(1, 2), bins_per_semitone=3).eval()
    F = torch.rand(219, 40)
    with torch.no_grad():
        logits = net.frame_logits(F)
        again = build_model(net.architecture)
        again.load_state_dict(net.state_dict())
        assert torch.equal(again.eval().frame_logits(F), logits)
    assert logits.shape == (40, 25) and net.architecture["bins_per_semitone"] == 3
    assert "bins_per_semitone" not in ChordTCN(n_classes=25).architecture  # older files unchanged
    with pytest.raises(ValueError, match="multiple"):
        ChordCNN(n_bins=220, bins_per_semitone=3)
    with pytest.raises(ValueError, match="semitone bins"):
        ChordCNN(n_bins=219, bins_per_semitone=3, whiten=13)
    with pytest.raises(ModelFileError, match="bins_per_semitone"):
        check_architecture({"name": "ChordCNN", "bins_per_semitone": 12})


def test_the_config_takes_the_fine_transform_and_refuses_what_counts_semitone_bins():
    c = TrainConfig(data="music", model="ChordTCN", bins_per_semitone=3)
    assert c.dataset.cqt == FINE_CQT and c.dataset.features.cqt == FINE_CQT
    arch = c.architecture(25)
    assert arch["n_bins"] == 219 and arch["bins_per_semitone"] == 3
    assert "bins_per_semitone" not in TrainConfig(data="music", model="ChordTCN").architecture(25)
    with pytest.raises(ParameterError, match="1 or 3"):
        TrainConfig(data="music", model="ChordTCN", bins_per_semitone=2)
    for key in ("harmonics", "smear", "bass_harmonics", "freq_mask"):
        with pytest.raises(ParameterError, match="semitone bins"):
            TrainConfig(data="music", model="ChordTCN", bins_per_semitone=3, **{key: 0.5})
    with pytest.raises(ParameterError, match="data = 'music'"):
        TrainConfig(data="songs", bins_per_semitone=3)


def _frames_within(config, hz, semitone, db=20.0):
    """Frames in which a 0.1 s tone burst at ``hz`` stays within ``db`` of its peak, at its bin."""
    y = np.zeros(3 * SR)
    y[SR : SR + SR // 10] = _sine(hz, 0.1)
    b = bins_per_semitone(config)
    row = cqt(y, config=config)[b * semitone + b // 2]
    return int((20 * np.log10(row / row.max() + 1e-12) > -db).sum())


def test_a_variable_q_shortens_the_bass_filters_and_leaves_the_treble():
    vqt = chord_cqt(3, gamma=0.3)
    assert vqt.gamma == 0.3 and replace(vqt, gamma=0.0) == FINE_CQT
    # C2: the constant-Q fine filters smear a short bass note over more frames than the
    # variable-Q ones; C5 is the same either way; the peaks stay on their middle bins
    assert _frames_within(vqt, 65.41, 12) < _frames_within(FINE_CQT, 65.41, 12)
    assert _frames_within(vqt, 523.25, 48) == _frames_within(FINE_CQT, 523.25, 48)
    assert int(log_cqt(_sine(440.0), config=vqt).mean(axis=-1).argmax()) == 3 * 45 + 1
    # the files written before gamma existed keep their JSON; a gamma is recorded and read back
    assert "gamma" not in FINE_CQT.to_json() and "gamma" not in CHORD_CQT.to_json()
    entry = RecogniserInput(vqt).to_json()
    assert entry["gamma"] == 0.3 and RecogniserInput.from_json(entry).cqt == vqt
    for bad in (-1.0, 21.0, "wide", True):
        with pytest.raises(ParameterError, match="gamma"):
            CQTConfig(gamma=bad)
    c = TrainConfig(data="music", model="ChordTCN", bins_per_semitone=3, cqt_gamma=0.3)
    assert c.dataset.cqt == vqt and c.dataset.features.to_json()["gamma"] == 0.3
    assert TrainConfig(data="music", model="ChordTCN", cqt_gamma=1.0).dataset.cqt.gamma == 1.0
    for bad in (-0.5, 25.0, "wide"):
        with pytest.raises(ParameterError, match="cqt_gamma"):
            TrainConfig(data="music", model="ChordTCN", cqt_gamma=bad)
    with pytest.raises(ParameterError, match="cqt_gamma and cqt_filter_scale need data = 'music'"):
        TrainConfig(data="songs", cqt_gamma=0.3)


def test_three_bins_a_semitone_with_the_plain_filters_sample_the_plain_transform():
    dense = chord_cqt(3, filter_scale=1 / 3)  # a third of a semitone apart, a semitone wide
    for hz, semitone in ((65.41, 12), (130.81, 24)):  # as long in time as the plain filters
        assert _frames_within(dense, hz, semitone) == _frames_within(CHORD_CQT, hz, semitone)
    assert _frames_within(dense, 65.41, 12) < _frames_within(FINE_CQT, 65.41, 12)

    def leak(config):  # a pure A4 heard in the next semitone's bin, relative to its own
        b = bins_per_semitone(config)
        row = cqt(_sine(440.0), config=config).mean(axis=-1)
        return row[b * 46 + b // 2] / row[b * 45 + b // 2]

    assert leak(dense) == pytest.approx(leak(CHORD_CQT), rel=1e-3) and leak(dense) > 2 * leak(
        FINE_CQT
    )
    c = TrainConfig(data="music", model="ChordTCN", bins_per_semitone=3, cqt_filter_scale=1 / 3)
    assert c.dataset.cqt == dense and c.dataset.features.to_json()["filter_scale"] == 1 / 3
    for bad in (-1.0, 5.0, "wide"):
        with pytest.raises(ParameterError, match="cqt_filter_scale"):
            TrainConfig(data="music", model="ChordTCN", cqt_filter_scale=bad)
    with pytest.raises(ParameterError, match="need data = 'music'"):
        TrainConfig(data="songs", cqt_filter_scale=0.5)
    with pytest.raises(ParameterError, match="filter_scale"):
        CQTConfig(filter_scale=0)


def test_a_pitch_shift_moves_three_bins_a_semitone():
    vocab = get_vocabulary("majmin")
    X = np.zeros((64, 219, 4), np.float32)
    X[:, 3 * 33 + 1] = 1.0  # an A3's middle bin
    Y = np.full((64, 2), vocab.labels.index("A:maj"))
    X2, Y2 = augment(X, Y, vocab, np.random.default_rng(0), pitch_shift=3, bins_per_semitone=3)
    moved = X2[:, :, 0].argmax(axis=1) - (3 * 33 + 1)
    assert set(moved.tolist()) == {-9, -6, -3, 0, 3, 6, 9}  # whole semitones only
    for bins, label in zip(moved, Y2[:, 0], strict=True):  # the label follows by bins / 3
        root = vocab.labels[label].split(":")[0]
        assert root == "A A# B C C# D D# E F F# G G#".split()[(bins // 3) % 12]


def test_the_shift_average_moves_the_fine_transform_by_whole_semitones():
    rec = Recogniser(PitchClassNet(3), get_vocabulary("majmin").labels, FINE_CQT, 0, "stub")
    F = np.zeros((219, 4), np.float32)
    F[3 * (24 + 9) + 1] = 1.0  # an A3's middle bin
    for k in (1, 3):  # moved by one bin a step, the copies would name A, A or A# and not agree
        P = posteriors(rec, F, shift_average=k)
        np.testing.assert_allclose(P[:, rec.labels.index("A:maj")], 1.0, atol=1e-6)


@needs_fluidsynth
def test_train_a_fine_tcn_then_label_a_file_and_explain_it(tmp_path):
    from chordscope.cli import main

    config = replace(SMALL_MUSIC, bins_per_semitone=3, steps=4, eval_every=2, checkpoint_every=2)
    out = train_recogniser(config, tmp_path / "fine").out
    meta = json.loads((out / "model.json").read_text())
    assert meta["features"]["bins_per_octave"] == 36 and meta["features"]["n_bins"] == 219
    rec = load_recogniser(out)
    assert rec.config == FINE_CQT and rec.model.architecture["bins_per_semitone"] == 3
    wav = tmp_path / "a.wav"
    sf.write(wav, _sine(220.0, 3.0) + _sine(277.18, 3.0) + _sine(329.63, 3.0), SR)
    assert main(["predict", str(wav), "-o", str(tmp_path / "labels"), "--model", str(out)]) == 0
    lab = (tmp_path / "labels" / "a.lab").read_text().split()
    assert float(lab[0]) == 0.0 and abs(float(lab[-2]) - 3.0) < 0.05  # it covers the file
    assert main(["explain", str(out), "--out", str(tmp_path / "ex"), "--quiet"]) == 0
    e = json.loads((tmp_path / "ex" / "explanation.json").read_text())
    assert e["model"]["architecture"]["bins_per_semitone"] == 3 and len(e["kernels"]) == 8
    fired = [k["where"] for k in e["kernels"] if k["where"]["typical_offset"] is not None]
    assert all(len(w["semitones"]) == 5 == len(w["weight_by_semitone"]) for w in fired)
    assert (tmp_path / "ex" / "figures" / "explain_kernels.png").stat().st_size > 0


def test_a_model_file_whose_transform_does_not_fit_its_network_is_refused(tmp_path, capsys):
    from chordscope.cli import main
    from chordscope.io import save_model

    vocab = get_vocabulary("majmin").to_json()
    net = ChordTCN(n_classes=25, n_bins=219, dilations=(1,), bins_per_semitone=3).eval()
    for name, transform in (("coarse", CHORD_CQT), ("fine", FINE_CQT)):
        save_model(
            tmp_path / name,
            net,
            {"vocabulary": vocab, "features": {**transform.to_json(), "n_context": 3}},
        )
    assert load_recogniser(tmp_path / "fine.safetensors").config == FINE_CQT
    vqt = chord_cqt(3, gamma=0.3)  # predict reads the variable-Q transform from the file
    save_model(
        tmp_path / "vqt", net, {"vocabulary": vocab, "features": {**vqt.to_json(), "n_context": 3}}
    )
    assert load_recogniser(tmp_path / "vqt.safetensors").config == vqt
    bad = {**vqt.to_json(), "gamma": -1.0, "n_context": 3}
    save_model(tmp_path / "bad", net, {"vocabulary": vocab, "features": bad})
    with pytest.raises(ModelFileError, match="gamma"):
        load_recogniser(tmp_path / "bad.safetensors")
    with pytest.raises(ModelFileError, match="transform .* does not fit"):
        load_recogniser(tmp_path / "coarse.safetensors")
    wav = tmp_path / "a.wav"
    sf.write(wav, _sine(220.0), SR)
    assert (
        main(["predict", str(wav), "--model", str(tmp_path / "coarse.safetensors"), "--quiet"]) != 0
    )
    err = capsys.readouterr().err.strip()
    assert "does not fit the architecture" in err and len(err.splitlines()) == 1
    assert not wav.with_suffix(".lab").exists()
