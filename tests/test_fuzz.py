"""Fuzz the readers of untrusted files: any input loads or raises a ChordscopeError, nothing else.

Deterministic (``derandomize``) and small (``max_examples``), so CI runs the same examples in
a few seconds.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from conftest import save_tiny_recogniser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chordscope.errors import ChordscopeError
from chordscope.io import load_model, read_chords

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

labels = st.sampled_from(["C:maj", "A:min", "N", "X", "G:7", "C:foo", "", "Bb:sus4/5", "H:maj"])
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.sampled_from(["nan", "inf", "-1", "1e999", "abc", "", "0x10"]),
)
lab_lines = st.lists(
    st.one_of(
        st.tuples(numbers, numbers, labels).map(lambda r: f"{r[0]}\t{r[1]}\t{r[2]}"),
        st.text(max_size=30),
    ),
    max_size=12,
)


def _read(path):
    try:
        intervals, labs = read_chords(path)
    except ChordscopeError:
        return
    assert len(intervals) == len(labs) > 0
    assert (intervals[:, 0] < intervals[:, 1]).all()
    assert (intervals[1:, 0] >= intervals[:-1, 1]).all()  # sorted, not overlapping


@FUZZ
@given(lines=lab_lines)
def test_lab_reader(tmp_path, lines):
    path = tmp_path / "f.lab"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    _read(path)


@FUZZ
@given(lines=lab_lines, header=st.sampled_from(["start,end,label", "start,end,label,confidence"]))
def test_csv_reader(tmp_path, lines, header):
    path = tmp_path / "f.csv"
    body = "\n".join(line.replace("\t", ",") for line in lines)
    path.write_text(f"{header}\n{body}", encoding="utf-8", errors="surrogatepass")
    _read(path)


@FUZZ
@given(data=st.binary(max_size=200), suffix=st.sampled_from([".lab", ".csv", ".jams"]))
def test_any_bytes(tmp_path, data, suffix):
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    _read(path)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    return save_tiny_recogniser(tmp_path_factory.mktemp("model"), seed=0, channels=(2, 2, 2))


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)
KEYS = [
    ("architecture", "name"),
    ("architecture", "n_classes"),
    ("architecture", "n_bins"),
    ("architecture", "n_frames"),
    ("architecture", "channels"),
    ("architecture", "kernel_size"),
    ("features", "sr"),
    ("features", "hop_length"),
    ("features", "n_bins"),
    ("features", "fmin"),
    ("features", "n_context"),
    ("vocabulary", "labels"),
    ("architecture",),
    ("features",),
    ("vocabulary",),
]


@FUZZ
@given(changes=st.lists(st.tuples(st.sampled_from(KEYS), json_values), min_size=1, max_size=3))
def test_model_loader(tmp_path, saved_model, changes):
    folder = tmp_path / "m"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(saved_model, folder)
    meta = json.loads((folder / "model.json").read_text())
    for keys, value in changes:
        d = meta
        for k in keys[:-1]:
            d = d[k] if isinstance(d.get(k), dict) else d.setdefault(k, {})
            if not isinstance(d, dict):
                break
        else:
            d[keys[-1]] = value
    (folder / "model.json").write_text(json.dumps(meta))
    try:
        model, _ = load_model(folder)
    except ChordscopeError:
        return
    assert isinstance(model, torch.nn.Module)
