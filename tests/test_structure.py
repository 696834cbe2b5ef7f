"""Structured training: every frame's bass and chord tones, learnt beside its class."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from test_context import SMALL_MUSIC, needs_fluidsynth

from chordscope.augment import augment, rotate_structure
from chordscope.chords import PITCH_NAMES, get_vocabulary
from chordscope.errors import ParameterError
from chordscope.fit import TrainConfig, _loss, _Sequences
from chordscope.models import ChordTCN, build_model, check_architecture
from chordscope.musicdata import NO_BASS, SongPool, excerpt_structure, excerpts, structure_code
from chordscope.recognise import load_recogniser
from chordscope.runs import train_recogniser

QUALITIES = ["maj", "min", "7", "min7", "maj7", "dim", "sus4", "maj/3", "min/5", "7/b7", "hdim7"]


def tones_and_bass(code):
    return {k for k in range(12) if code >> k & 1}, code // 4096


def test_a_structure_code_holds_the_full_chord_not_its_reduction():
    assert tones_and_bass(structure_code("A:min7")) == ({9, 0, 4, 7}, 9)
    assert tones_and_bass(structure_code("C:maj/3")) == ({0, 4, 7}, 4)  # E in the bass
    assert tones_and_bass(structure_code("G:sus4")) == ({7, 0, 2}, 7)  # no third, still notes
    assert structure_code("N") == NO_BASS * 4096 and structure_code("X") == -1


@pytest.mark.parametrize("shift", [0, 1, 5, 11, -3, 12])
def test_rotating_a_code_is_transposing_its_chord(shift):
    for root in range(12):
        for q in QUALITIES:
            moved = PITCH_NAMES[(root + shift) % 12]
            want = structure_code(f"{moved}:{q}")
            assert (
                rotate_structure(np.array([structure_code(f"{PITCH_NAMES[root]}:{q}")]), shift)[0]
                == want
            ), (root, q, shift)
    assert rotate_structure(np.array([-1, NO_BASS * 4096]), shift).tolist() == [-1, NO_BASS * 4096]


def test_excerpts_and_augmentation_keep_classes_and_structure_in_step():
    v = get_vocabulary("majmin")
    labels = ["N", "C:min7", "E:maj/3", "A:min", "F:sus4", "G:7"]
    y = np.array([v.index(lab) if v.index(lab) is not None else -1 for lab in labels])
    y[1], y[2], y[5] = v.index("C:min"), v.index("E:maj"), v.index("G:maj")  # reductions
    codes = np.array([structure_code(lab) for lab in labels])
    col = np.arange(300) % 6
    pool = SongPool(
        F=np.random.default_rng(0).random((73, 300)).astype(np.float16),
        y=y[col].astype(np.int16),
        s=codes[col].astype(np.int32),
    )
    starts = [3, 40, 100, 200]
    X, Y = excerpts(pool, starts, 16, 7)
    S = excerpt_structure(pool, starts, 16, 7)
    assert S.shape == Y.shape
    np.testing.assert_array_equal(S, codes[(np.asarray(starts)[:, None] + 3 + np.arange(16)) % 6])
    X2, Y2, S2 = augment(X, Y, v, np.random.default_rng(3), pitch_shift=5, structure=S)
    for yc, sc in zip(Y2.ravel(), S2.ravel(), strict=True):
        if yc > 0 and sc >= 0:  # the class's root is the code's lowest chord tone rotated alike
            root = v.labels[yc].split(":")[0]
            assert PITCH_NAMES.index(root) in tones_and_bass(int(sc))[0]
    moved = S2 != S
    assert moved.any() and (X2.shape, Y2.shape) == (X.shape, Y.shape)
    assert len(augment(X, Y, v, np.random.default_rng(3), pitch_shift=5)) == 2
    with pytest.raises(ParameterError, match="without structure"):
        excerpt_structure(SongPool(F=pool.F, y=pool.y), starts, 16, 7)


def test_the_structure_loss_teaches_the_read_out_and_leaves_the_labelling_alone():
    torch.manual_seed(0)
    m = ChordTCN(n_classes=25, dilations=(1, 2), structure=1)
    assert check_architecture(json.loads(json.dumps(m.architecture)))["structure"] == 1
    assert "structure" not in ChordTCN(n_classes=25, dilations=(1,)).architecture
    x = torch.rand(2, 1, 73, 30)
    classes, tones, bass = m.sequence_structure(x)
    torch.testing.assert_close(classes, m.sequence_logits(x))
    assert tones.shape == (2, 24, 12) and bass.shape == (2, 24, 13)
    y = torch.randint(0, 25, (2, 24))
    s = torch.tensor([structure_code("D:min7/b3")] * 24 + [-1] * 24).reshape(2, 24)
    net = _Sequences(m, structured=True)
    plain = _loss(_Sequences(m), x, y)
    torch.testing.assert_close(_loss(net, x, y, s, 0.0), plain)  # weight 0: the class loss
    loss = _loss(net, x, y, s, 1.0)
    assert loss > plain
    loss.backward()
    assert m.structure_head.weight.grad.abs().sum() > 0
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    for _ in range(60):  # it can learn what the code says: D F A C, F in the bass
        opt.zero_grad()
        _, t, b = m.sequence_structure(x[:1])
        (_loss(net, x[:1], y[:1], s[:1], 1.0) - _loss(_Sequences(m), x[:1], y[:1])).backward()
        opt.step()
    _, t, b = m.sequence_structure(x[:1])
    assert set(torch.nonzero(t[0, 0] > 0).ravel().tolist()) == {2, 5, 9, 0}
    assert b[0, 0].argmax().item() == 5
    with pytest.raises(ParameterError, match="no structure read-out"):
        ChordTCN(n_classes=25, dilations=(1,)).sequence_structure(x)


def test_structure_is_checked_with_the_config():
    with pytest.raises(ParameterError, match="structure needs"):
        TrainConfig(data="music", model="ChordCNN", structure=1.0)
    with pytest.raises(ParameterError, match="structure="):
        TrainConfig(data="music", model="ChordTCN", structure=-1.0)
    on = TrainConfig(data="music", model="ChordTCN", structure=0.5)
    assert on.architecture(25)["structure"] == 1
    assert "structure" not in TrainConfig(data="music", model="ChordTCN").architecture(25)
    with pytest.raises(Exception, match="structure=2"):
        check_architecture({"name": "ChordTCN", "structure": 2})


@needs_fluidsynth
def test_a_structured_recogniser_trains_resumes_and_labels(tmp_path):
    from conftest import assert_same_weights, train_interrupted

    config = replace(SMALL_MUSIC, structure=1.0)
    out = train_recogniser(config, tmp_path / "a").out
    rec = load_recogniser(out)
    assert rec.model.architecture["structure"] == 1
    again = build_model(json.loads((out / "model.json").read_text())["architecture"])
    assert hasattr(again, "structure_head")
    F = torch.rand(73, 50)
    with torch.no_grad():
        assert rec.model.frame_logits(F).shape == (50, 25)
    from chordscope.cli import main

    assert main(["explain", str(out), "--out", str(tmp_path / "ex"), "--quiet"]) == 0
    assert (tmp_path / "ex" / "explanation.json").exists()
    train_interrupted(train_recogniser, config, tmp_path / "b", stop_after=5)
    train_recogniser(config, tmp_path / "b", resume=True)
    assert_same_weights(out, tmp_path / "b")
