"""benchmarks/bench_realmusic.py: an ``A+B`` model is the mean of its members' posteriors."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import save_tiny_recogniser

from chordscope.recognise import load_recogniser

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_realmusic import _ensemble  # noqa: E402


def test_an_ensemble_averages_its_members_posteriors(tmp_path):
    a = save_tiny_recogniser(tmp_path / "a", seed=1)
    b = save_tiny_recogniser(tmp_path / "b", seed=2)
    F = torch.from_numpy(np.random.default_rng(0).random((73, 40), dtype=np.float32))
    ens = _ensemble(f"{a}+{b}")
    pa, pb = (torch.softmax(load_recogniser(m).model.frame_logits(F), -1) for m in (a, b))
    with torch.no_grad():
        got = torch.softmax(ens.model.frame_logits(F), -1)
    assert torch.allclose(got, (pa + pb) / 2, atol=1e-6) and not torch.allclose(pa, pb)
    assert ens.name == f"{a}+{b}" and ens.labels == load_recogniser(a).labels


def test_an_ensemble_refuses_members_with_another_input(tmp_path):
    a = save_tiny_recogniser(tmp_path / "a")
    b = save_tiny_recogniser(tmp_path / "b", gain=7.0)
    with pytest.raises(SystemExit, match="another vocabulary or input"):
        _ensemble(f"{a}+{b}")
