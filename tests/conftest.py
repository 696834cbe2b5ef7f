import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def fixed_threads(monkeypatch):
    """One torch thread count for every test (``CHORDSCOPE_THREADS``, which wins over the
    choice by free cores): two trainings compared weight for weight (cache, resume, DDP) must
    not differ because the machine was busier during one of them (a different count changes the
    float sums in the last bits). ``tests/test_threads.py`` removes it to test the choice."""
    monkeypatch.setenv("CHORDSCOPE_THREADS", str(min(2, os.cpu_count() or 1)))


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

    def stop(n, **info):  # progress(n, phase=..., loss=...): count the steps only
        if not n:
            return
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


def save_tiny_recogniser(folder, *, seed: int = 1, channels=None, **features):
    """Save an untrained majmin ChordCNN as a run folder (``folder`` is created) and return it.

    For the mechanics of loading, predicting and writing, not for accuracy; ``features``
    overrides entries of model.json's "features" (e.g. ``gain``, ``peak``).
    """
    from pathlib import Path

    import torch

    from chordscope.chords import get_vocabulary
    from chordscope.features import CHORD_CQT
    from chordscope.io import save_model
    from chordscope.models import ChordCNN

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    kwargs = {} if channels is None else {"channels": channels}
    save_model(
        folder,
        ChordCNN(n_classes=25, **kwargs).eval(),
        {
            "vocabulary": get_vocabulary("majmin").to_json(),
            "features": {**CHORD_CQT.to_json(), "n_context": 3, **features},
        },
    )
    return folder
