import numpy as np
import pytest
import scipy.signal
import torch

from chordscope.errors import ModelFileError
from chordscope.models import SeedCNN, build_model, n_params


def test_the_tutorials_network_has_68_parameters():
    m = SeedCNN()
    assert n_params(m) == 68
    assert m.conv.weight.shape == (4, 1, 5, 3) and m.conv.bias is None
    assert m.dense.weight.shape == (2, 4) and m.dense.bias is None


def test_feature_maps_are_cross_correlation_not_convolution(rng):
    m = SeedCNN()
    x = rng.random((36, 3)).astype(np.float32)
    maps = m.feature_maps(torch.from_numpy(x)[None, None])[0].detach().numpy()
    assert maps.shape == (4, 32, 1)
    for k in range(4):
        w = m.conv.weight[k, 0].detach().numpy()
        np.testing.assert_allclose(maps[k], scipy.signal.correlate2d(x, w, mode="valid"), atol=1e-5)
        assert not np.allclose(maps[k], scipy.signal.convolve2d(x, w, mode="valid"), atol=1e-3)


def test_forward_is_max_relu_dense_softmax(rng):
    m = SeedCNN()
    x = torch.from_numpy(rng.random((5, 1, 36, 3)).astype(np.float32))
    pooled = torch.relu(m.conv(x).flatten(2).max(-1).values)
    torch.testing.assert_close(m(x), pooled @ m.dense.weight.T)
    torch.testing.assert_close(m.probabilities(x).sum(-1), torch.ones(5))


def test_build_model_round_trip_and_unknown():
    m = build_model(SeedCNN(n_kernels=3).architecture)
    assert m.conv.weight.shape[0] == 3
    with pytest.raises(ModelFileError, match="unknown architecture 'Transformer'"):
        build_model({"name": "Transformer"})
    with pytest.raises(ModelFileError, match="invalid architecture"):
        build_model({"name": "SeedCNN", "n_kernels": 4, "colour": "red"})


def test_chordcnn_frame_logits_equal_windowed_forward(rng):
    from chordscope.features import context_frames
    from chordscope.models import ChordCNN

    torch.manual_seed(0)
    model = ChordCNN(n_classes=25).eval()
    with torch.no_grad():  # non-trivial batch-norm statistics
        for bn in (model.bn1, model.bn2, model.bn3):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
    F = rng.random((73, 40)).astype(np.float32)
    with torch.no_grad():
        whole = model.frame_logits(torch.from_numpy(F))
        windows = model(torch.from_numpy(context_frames(F, 3)[:, None]))
    assert whole.shape == (40, 25)
    torch.testing.assert_close(whole, windows, rtol=1e-4, atol=1e-5)


def test_chordcnn_context_is_consumed_by_the_convolutions():
    from chordscope.models import ChordCNN

    model = ChordCNN(n_classes=25)
    assert model.context == 7
    with pytest.raises(ValueError, match="at least 7"):
        ChordCNN(n_classes=25, n_frames=5)
