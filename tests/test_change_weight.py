"""Loss weights at chord changes (``change_weight``): where the held-out songs lose time."""

import math
from dataclasses import replace

import pytest
import torch
from test_context import SMALL_MUSIC, needs_fluidsynth

from chordscope.errors import ParameterError
from chordscope.fit import TrainConfig, _loss, _Sequences, change_weights
from chordscope.models import ChordTCN


def test_the_weight_decays_with_the_distance_to_the_nearest_change():
    y = torch.tensor([[3] * 6 + [7] * 4 + [-1] * 2, [2] * 12])
    w = change_weights(y, 4.0, 2.0)
    d = [5, 4, 3, 2, 1, 0, 0, 1, 1, 0, 0, 1]  # changes after frames 5 (3 -> 7) and 9 (7 -> -1)
    expected = [1 + 4.0 * math.exp(-k / 2.0) for k in d]
    torch.testing.assert_close(w[0], torch.tensor(expected))
    torch.testing.assert_close(w[1], torch.ones(12))  # no change: plain weights
    assert change_weights(torch.tensor([[4]]), 4.0, 2.0).tolist() == [[1.0]]


def test_the_weighted_loss_counts_the_frames_at_a_change_more():
    torch.manual_seed(0)
    m = ChordTCN(n_classes=25, dilations=(1, 2))
    net = _Sequences(m)
    x = torch.rand(2, 1, 73, 30)
    y = torch.tensor([[1] * 12 + [5] * 12, [9] * 24])
    y[1, :3] = -1  # left out, with or without the weights
    with torch.no_grad():
        logits = m.sequence_logits(x)
    frame = torch.nn.functional.cross_entropy(
        logits.reshape(-1, 25), y.reshape(-1), ignore_index=-1, reduction="none"
    )
    plain = _loss(net, x, y)
    torch.testing.assert_close(plain, frame[y.reshape(-1) >= 0].mean())
    torch.testing.assert_close(_loss(net, x, y, change=(0.0, 3.0)), plain)
    w = change_weights(y, 5.0, 2.0).reshape(-1) * (y.reshape(-1) >= 0)
    weighted = _loss(net, x, y, change=(5.0, 2.0))
    torch.testing.assert_close(weighted, (frame * w).sum() / w.sum())
    # a net wrong only at the change loses more with the weights than without
    wrong = torch.full((2, 24, 25), -5.0)
    wrong[0, :12, 1], wrong[0, 12:, 5], wrong[1, :, 9] = 5.0, 5.0, 5.0
    wrong[0, 11, 1], wrong[0, 11, 5] = -5.0, 5.0  # frame 11 heard as the next chord

    class Fixed(torch.nn.Module):
        def forward(self, x):
            return wrong

    assert _loss(Fixed(), x, y, change=(5.0, 2.0)) > 2 * _loss(Fixed(), x, y)


def test_change_weight_is_checked_with_the_config():
    with pytest.raises(ParameterError, match="change_weight needs"):
        TrainConfig(change_weight=2.0)
    with pytest.raises(ParameterError, match="change_weight="):
        TrainConfig(data="music", model="ChordTCN", change_weight=-1.0)
    with pytest.raises(ParameterError, match="change_frames="):
        TrainConfig(data="music", model="ChordTCN", change_weight=2.0, change_frames=0)
    assert TrainConfig(data="music", model="ChordTCN", change_weight=2.0).change_frames == 3.0


@needs_fluidsynth
def test_training_with_change_weights_moves_the_weights_and_resumes(tmp_path):
    from conftest import assert_same_weights, train_interrupted

    from chordscope.runs import train_recogniser

    config = replace(SMALL_MUSIC, change_weight=4.0, change_frames=2.0)
    out = train_recogniser(config, tmp_path / "a").out
    plain = train_recogniser(SMALL_MUSIC, tmp_path / "p").out
    with pytest.raises(AssertionError):
        assert_same_weights(out, plain)
    train_interrupted(train_recogniser, config, tmp_path / "b", stop_after=5)
    train_recogniser(config, tmp_path / "b", resume=True)
    assert_same_weights(out, tmp_path / "b")
