"""chordscope generalise: the matrix of training conditions × test conditions."""

import json
import shutil

import numpy as np
import pytest

from chordscope.cli import main
from chordscope.generalise import (
    HELD_OUT_OCTAVES,
    HELD_OUT_PROGRAMS,
    HELD_OUT_ROOTS,
    NOT_HELD_OUT,
    TRAIN_OCTAVES,
    TRAIN_PROGRAMS,
    TRAIN_ROOTS,
    TRAINING,
    summarise,
    test_conditions,
)

test_conditions.__test__ = False  # a function of the module, not a pytest test


def test_held_out_conditions_never_overlap_training():
    assert not set(HELD_OUT_PROGRAMS) & set(TRAIN_PROGRAMS)
    assert not set(HELD_OUT_ROOTS) & set(TRAIN_ROOTS)
    assert not set(HELD_OUT_OCTAVES) & set(TRAIN_OCTAVES)
    for train in TRAINING:
        cols = test_conditions(train)
        assert cols["held-out roots (quality)"][0].roots == HELD_OUT_ROOTS
        assert cols["held-out roots (quality)"][0].synths == TRAINING[train]
        assert cols["other SoundFont"][0].soundfonts == ("timgm6mb",)
        assert [cols[f"noise {d} dB"][1] for d in (20, 10, 0)] == [20.0, 10.0, 0.0]


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth missing (apt-get)")
def test_quick_matrix(tmp_path, capsys):
    out = tmp_path / "gen"
    assert main(["generalise", "--quick", "--out", str(out), "--quiet"]) == 0
    g = json.loads((out / "generalisation.json").read_text())
    assert g["train"] == list(TRAINING) and g["quick"] is True
    assert g["test"][-1] == "evaluation set" and len(g["test"]) == 12
    A = np.array(g["accuracy"], dtype=float)  # None (not held out for that row) -> NaN
    assert A.shape == (7, 12)
    for i, t in enumerate(g["train"]):
        for j, c in enumerate(g["test"]):
            empty = c in NOT_HELD_OUT.get(t, ())
            assert np.isnan(A[i, j]) == empty and (empty or 0 <= A[i, j] <= 1), (t, c)
    assert NOT_HELD_OUT["music"] and g["settings"]["not_held_out"]["music"]
    # the additive model learns its own sound in 60 steps, far above chance (1/25)
    assert A[g["train"].index("additive"), g["test"].index("additive")] > 0.6
    for name in ("figures/generalisation.png", "report.html", "evalset/song000.lab"):
        assert (out / name).is_file()
    for t in TRAINING:
        assert (out / "models" / t / "model.safetensors").is_file()
    html = (out / "report.html").read_text()
    assert "held-out programs" in html and "quick" in html and "<td>—</td>" in html
    music = json.loads((out / "models" / "music" / "model.json").read_text())
    assert music["train_config"]["data"] == "music" and music["architecture"]["name"] == "ChordCNN"
    assert all(s.split(":")[0] in html or s[:20] in html for s in summarise(g))
    (out / "report.html").unlink()
    assert main(["report", str(out), "--quiet"]) == 0
    assert "held-out programs" in (out / "report.html").read_text()
    # an existing output folder is not overwritten
    before = (out / "generalisation.json").read_bytes()
    assert main(["generalise", "--quick", "--out", str(out), "--quiet"]) == 2
    assert "exists" in capsys.readouterr().err
    assert (out / "generalisation.json").read_bytes() == before


def test_summary_reads_the_numbers():
    g = {
        "train": ["sine", "additive"],
        "test": ["sine", "additive", "held-out roots (quality)", "evaluation set"],
        "accuracy": [[0.9, 0.5, 0.3, 0.2], [0.6, 1.0, 0.7, 0.8]],
    }
    lines = summarise(g)
    assert "Trained on sine: 0.90 on its own sound, 0.50" in lines[0]
    assert "trained on additive does best (0.80)" in lines[2]
    assert "hardest test condition over all models is held-out roots" in lines[3]
    assert "chord quality (N, maj or min) is right for 0.50" in lines[4]


def test_summary_reads_a_music_row_with_empty_cells():
    g = {
        "train": ["soundfont", "songs", "music"],
        "test": ["sine", "additive", "pluck", "soundfont", "held-out roots (quality)",
                 "other SoundFont", "evaluation set"],
        "accuracy": [
            [0.5, 1.0, 0.8, 1.0, 0.3, 0.9, 0.7],
            [0.6, 0.9, 0.6, 0.9, 0.2, 0.9, 0.8],
            [0.7, 0.9, 0.9, 0.9, None, 0.95, 0.9],
        ],
    }  # fmt: skip
    lines = summarise(g)
    music = next(s for s in lines if s.startswith("Trained on musical songs"))
    assert "evaluation songs at 0.90 (the songs row: 0.80)" in music
    assert "0.85 over the four sounds, 0.95 on the other SoundFont" in music
    # the empty cell is left out of the column's mean (0.25), not turned into NaN
    assert any("hardest test condition over all models is held-out roots (quality) (mean 0.25)"
               in s for s in lines)  # fmt: skip
