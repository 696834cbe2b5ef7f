import json

import numpy as np
import pytest
import torch

from chordscope.errors import ModelFileError, OutputError
from chordscope.io import atomic_write_text, load_model, save_model
from chordscope.models import SeedCNN


@pytest.fixture
def saved(tmp_path):
    m = SeedCNN()
    save_model(tmp_path, m, {"seed": 1, "vocabulary": {"labels": ["maj", "min"]}})
    return tmp_path, m


def test_round_trip(saved, rng):
    folder, m = saved
    loaded, meta = load_model(folder)
    assert meta["seed"] == 1 and meta["architecture"]["name"] == "SeedCNN"
    x = torch.from_numpy(rng.random((3, 1, 36, 3)).astype(np.float32))
    torch.testing.assert_close(loaded(x), m(x))
    loaded2, _ = load_model(folder / "model.safetensors")
    torch.testing.assert_close(loaded2.conv.weight, m.conv.weight)
    assert not list(folder.glob("*.tmp"))


def test_never_pickles(saved):
    folder, _ = saved
    head = (folder / "model.safetensors").read_bytes()[:8]
    header_len = int.from_bytes(head, "little")
    header = json.loads((folder / "model.safetensors").read_bytes()[8 : 8 + header_len])
    assert set(header) - {"__metadata__"} == {"conv.weight", "dense.weight"}


def test_missing_model(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "nothing.safetensors")


def test_truncated_model(saved):
    folder, _ = saved
    p = folder / "model.safetensors"
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        load_model(folder)


def test_not_safetensors(saved):
    folder, _ = saved
    (folder / "model.safetensors").write_bytes(b"\x80\x04\x95 this is a pickle, not weights")
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        load_model(folder)


def test_wrong_shapes(saved):
    folder, _ = saved
    save_model(folder / "other.safetensors", SeedCNN(n_kernels=3), {})
    (folder / "other.safetensors").replace(folder / "model.safetensors")
    with pytest.raises(ModelFileError, match="shape"):
        load_model(folder)


def test_missing_or_bad_metadata(saved):
    folder, _ = saved
    (folder / "model.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="not a valid JSON file"):
        load_model(folder)
    (folder / "model.json").unlink()
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(folder)


def test_unknown_architecture(saved):
    folder, _ = saved
    meta = json.loads((folder / "model.json").read_text())
    meta["architecture"]["name"] = "ResNet50"
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="unknown architecture 'ResNet50'"):
        load_model(folder)


def test_atomic_write_to_unwritable_place(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write"):
        atomic_write_text(blocker / "sub" / "a.txt", "hello")
