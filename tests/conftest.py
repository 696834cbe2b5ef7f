import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    return np.random.default_rng(seed=440)


@pytest.fixture(scope="session")
def inputs():
    from chordscope.tutorial_data import tutorial_inputs

    return tutorial_inputs()


def train_interrupted(train, config, out, stop_after: int) -> None:
    """Run ``train(config, out)``; press Ctrl-C (KeyboardInterrupt) after ``stop_after`` steps."""
    calls = []

    def stop(n):
        calls.append(n)
        if len(calls) == stop_after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, out, progress=stop)


def assert_same_weights(run_a, run_b) -> None:
    """The two run folders hold the same ``model.safetensors`` tensors."""
    import torch
    from safetensors.torch import load_file

    a = load_file(str(run_a / "model.safetensors"))
    b = load_file(str(run_b / "model.safetensors"))
    assert set(a) == set(b)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6)
