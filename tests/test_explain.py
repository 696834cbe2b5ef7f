"""explain recovers the meaning of planted kernels, agrees with ablation on a trained model,
and reads feature maps as the layer computes them."""

import json

import numpy as np
import pytest
import scipy.signal
import torch

from chordscope.cli import main
from chordscope.errors import ParameterError
from chordscope.explain import Probes, explain, explain_tutorial, feature_maps, tutorial_probes
from chordscope.io import save_model
from chordscope.models import SeedCNN
from chordscope.tutorial import train_tutorial

# Hand-set kernels, rows = semitones above the kernel's lowest row, same weights in all 3 frames.
MINOR_THIRD = [1, 0.25, 0.25, 1, -0.25]  # root and minor third up, major third down
MAJOR_THIRD = [1, -0.25, -0.25, -0.25, 1]  # root and major third up, the notes between down
ONE_TONE = [0, 0, 1, 0, 0]
DEAD = [-1, -1, -1, -1, -1]  # inputs are >= 0: never above 0


def planted(rows, dense):
    m = SeedCNN()
    w = np.stack([np.repeat(np.array(r, float)[:, None], 3, axis=1) for r in rows])[:, None]
    with torch.no_grad():
        m.conv.weight.copy_(torch.tensor(w, dtype=torch.float32))
        m.dense.weight.copy_(torch.tensor(dense, dtype=torch.float32))
    return m


@pytest.fixture(scope="module")
def model_a():
    # k1 minor-third detector voting min, k2 major-third detector voting maj,
    # k3 dead, k4 a major-third detector wired to a dense column of zeros
    m = planted(
        [MINOR_THIRD, MAJOR_THIRD, DEAD, MAJOR_THIRD], [[-1.7, 2.5, 1, 0], [1.7, -2.5, -1, 0]]
    )
    return m, explain_tutorial(m)


@pytest.fixture(scope="module")
def model_b():
    # k1 = k2: identical single-tone kernels with small votes, then the two detectors
    m = planted(
        [ONE_TONE, ONE_TONE, MINOR_THIRD, MAJOR_THIRD],
        [[-0.02, -0.02, -1.7, 2.5], [0.02, 0.02, 1.7, -2.5]],
    )
    return m, explain_tutorial(m)


def test_planted_detectors_dead_and_unused(model_a):
    _, e = model_a
    k = e["kernels"]
    assert e["baseline"]["accuracy"] == 1.0
    assert [x["role"] for x in k] == ["min detector", "maj detector", "dead", "unused"]
    assert k[0]["tuning"]["preferred_interval"] == 3 and k[1]["tuning"]["preferred_interval"] == 4
    assert k[0]["selectivity"]["prefers"] == "min" and k[0]["selectivity"]["auc"] > 0.99
    assert k[1]["selectivity"]["prefers"] == "maj" and k[1]["selectivity"]["auc"] < 0.01
    assert k[0]["contribution"]["votes_for"] == "min" and k[1]["contribution"]["votes_for"] == "maj"
    assert k[2]["selectivity"]["active_fraction"] == 0
    assert k[3]["duplicates"] == [2] and k[1]["duplicates"] == [4]
    # the kernels' lowest row sits on the root
    assert k[0]["where"]["typical_offset"] == 0 and k[1]["where"]["typical_offset"] == 0


def test_planted_ablation_effects(model_a):
    _, e = model_a
    k = e["kernels"]
    # without either detector the network answers one class for everything
    assert k[0]["ablation"]["accuracy_without"] == 0.5
    assert k[1]["ablation"]["accuracy_without"] == 0.5
    assert k[2]["ablation"]["accuracy_change"] == 0 and k[3]["ablation"]["accuracy_change"] == 0
    assert k[2]["ablation"]["loss_change"] == 0 and k[3]["ablation"]["loss_change"] == 0
    assert "dead" in k[2]["sentence"] and "3-semitone" in k[0]["sentence"]
    assert "drops accuracy to 0.50" in k[0]["sentence"]


def test_planted_identical_kernels_are_redundant_duplicates(model_b):
    m, e = model_b
    k = e["kernels"]
    assert k[0]["duplicates"] == [2] and k[1]["duplicates"] == [1]
    assert k[0]["role"] == k[1]["role"] == "redundant"
    assert k[0]["selectivity"] == k[1]["selectivity"] and k[0]["tuning"] == k[1]["tuning"]
    assert [x["role"] for x in k[2:]] == ["min detector", "maj detector"]
    assert k[0]["tuning"]["intervals"]["0"] > 0  # a single tone is enough to drive it


def test_roles_agree_with_ablation_on_a_trained_model():
    res = train_tutorial([0, 1, 2], "seed")  # the tutorial's recipe: some kernels die
    roles = []
    for i in range(3):
        e = explain_tutorial(res.model(i))
        for k in e["kernels"]:
            change = abs(k["ablation"]["accuracy_change"])
            roles.append(k["role"])
            if k["role"].endswith("detector") or k["role"] == "mixed":
                assert change >= 0.01
            else:
                assert k["role"] in ("dead", "redundant", "unused") and change < 0.01
    assert "dead" in roles and any(r.endswith("detector") or r == "mixed" for r in roles)


def test_feature_maps_are_the_layers_cross_correlation(rng):
    m = planted([MINOR_THIRD, MAJOR_THIRD, DEAD, ONE_TONE], np.zeros((2, 4)))
    with torch.no_grad():
        m.conv.weight.add_(torch.from_numpy(rng.normal(size=(4, 1, 5, 3)).astype(np.float32)))
    x = rng.random((2, 1, 36, 3)).astype(np.float32)
    maps = feature_maps(m, x)
    for i in range(2):
        for k in range(4):
            w = m.conv.weight[k, 0].detach().numpy()
            np.testing.assert_allclose(
                maps[i, k], scipy.signal.correlate2d(x[i, 0], w, "valid"), atol=1e-5
            )
    torch.testing.assert_close(torch.from_numpy(maps), m.conv(torch.from_numpy(x)).detach())


def test_empty_probe_set(model_a):
    m, _ = model_a
    empty = Probes(np.zeros((0, 1, 36, 3), np.float32), np.array([]), np.array([]), np.array([]))
    x = np.zeros((2, 1, 36, 3), np.float32)
    with pytest.raises(ParameterError, match="probe set is empty"):
        explain(
            m, test_x=x, test_y=np.array([0, 1]), test_root_bin=np.array([12, 12]), probes=empty
        )


def test_probes_cover_tones_intervals_and_triads():
    p = tutorial_probes()
    assert p.x.shape == (12 * 13 + 12 * 4, 1, 36, 3)
    assert set(p.name[p.kind == "interval"]) == {str(i) for i in range(13)}
    assert set(p.name[p.kind == "triad"]) == {"maj", "min", "dim", "aug"}


def test_cli_explain_twice_identical(tmp_path, model_a):
    m, _ = model_a
    save_model(tmp_path / "m.safetensors", m, {"vocabulary": {"labels": ["maj", "min"]}})
    out1, out2 = tmp_path / "e1", tmp_path / "e2"
    assert main(["explain", str(tmp_path / "m.safetensors"), "--out", str(out1), "--quiet"]) == 0
    assert main(["explain", str(tmp_path / "m.safetensors"), "--out", str(out2), "--quiet"]) == 0
    a, b = (out1 / "explanation.json").read_bytes(), (out2 / "explanation.json").read_bytes()
    assert a == b
    assert [k["role"] for k in json.loads(a)["kernels"]] == [
        "min detector",
        "maj detector",
        "dead",
        "unused",
    ]
    assert {p.name for p in (out1 / "figures").iterdir()} == {
        "explain_tuning.png",
        "explain_selectivity.png",
        "explain_kernels.png",
    }


@pytest.mark.parametrize("damage", ["missing", "corrupt", "architecture"])
def test_cli_explain_bad_model(tmp_path, capsys, damage):
    save_model(tmp_path / "m.safetensors", SeedCNN(), {"vocabulary": {"labels": ["maj", "min"]}})
    target = tmp_path / "m.safetensors"
    if damage == "missing":
        target = tmp_path / "nope.safetensors"
    elif damage == "corrupt":
        target.write_bytes(b"garbage")
    else:
        meta = json.loads((tmp_path / "m.json").read_text())
        meta["architecture"]["name"] = "Mystery"
        (tmp_path / "m.json").write_text(json.dumps(meta))
    out = tmp_path / "out"
    assert main(["explain", str(target), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chordscope: error:") and err.count("\n") == 1
    assert not out.exists()


def test_run_includes_explanation_and_sweep_census(tmp_path):
    run = tmp_path / "run"
    assert main(["run", "--epochs", "2", "--out", str(run), "--quiet"]) == 0
    e = json.loads((run / "explanation.json").read_text())
    assert len(e["kernels"]) == 4 and all(k["sentence"] for k in e["kernels"])
    html = (run / "report.html").read_text()
    assert "What the network learned" in html and e["kernels"][0]["sentence"].split(",")[0] in html
    sw = tmp_path / "sweep"
    assert (
        main(
            [
                "sweep",
                "--seeds",
                "4",
                "--recipe",
                "seed",
                "--epochs",
                "2",
                "--explain",
                "--out",
                str(sw),
                "--quiet",
            ]
        )
        == 0
    )
    c = json.loads((sw / "census.json").read_text())
    assert c["n_seeds"] == 4 and sum(c["roles"].values()) == 16
    assert sum(cl["size"] for cl in c["clusters"]) == 16
    assert c["n_perfect"] + c["n_failed"] == 4
    assert (sw / "figures" / "census.png").is_file()


def test_explain_reads_the_first_layer_of_a_chordcnn(tmp_path):
    from chordscope.cli import main
    from chordscope.explain import chord_probes
    from chordscope.fit import TrainConfig
    from chordscope.runs import train_recogniser

    p = chord_probes()
    assert p.x.shape == (204, 1, 73, 7)
    # a tone's probe peaks at its root bin (log-CQT of C1..C7: bin = semitones above C1)
    tone = (p.kind == "interval") & (p.name == "0")
    peaks = p.x[tone, 0, :, 3].argmax(axis=1)
    np.testing.assert_array_equal(peaks, p.root_bin[tone])
    config = TrainConfig(steps=20, batch_size=64, n_val=64, n_test=64, eval_every=10, snr_db=())
    run = train_recogniser(config, tmp_path / "run").out
    assert main(["explain", str(run), "--out", str(tmp_path / "ex"), "--quiet"]) == 0
    e = json.loads((tmp_path / "ex" / "explanation.json").read_text())
    assert e["model"]["architecture"]["name"] == "ChordCNN" and e["model"]["n_kernels"] == 8
    assert e["labels"] == ["maj", "min"]
    for k in e["kernels"]:
        assert k["role"] in ("dead", "redundant", "mixed", "maj detector", "min detector")
        assert set(k["selectivity"]["mean"]) == {"maj", "min"}
        assert "contribution" not in k  # the dense layer does not read pooled kernels


def test_a_recogniser_is_explained_with_its_own_features(monkeypatch):
    """explain reads the CQT, context and gain of model.json; without them it says so."""
    import chordscope.explain as explain_module
    from chordscope.errors import ChordscopeError
    from chordscope.explain import explain_chordcnn
    from chordscope.features import CHORD_CQT
    from chordscope.models import ChordCNN

    model = ChordCNN(n_classes=25, n_frames=9, channels=(4, 8, 8)).eval()
    with pytest.raises(ChordscopeError, match="features"):
        explain_chordcnn(model, {"vocabulary": {"name": "majmin"}}, n_test=48)
    seen, real = [], explain_module.chord_examples

    def spy(config, n, rng):
        seen.append(config)
        return real(config, n, rng)

    monkeypatch.setattr(explain_module, "chord_examples", spy)
    features = {**CHORD_CQT.to_json(), "n_context": 4, "gain": 20.0}
    e = explain_chordcnn(model, {"vocabulary": {"name": "majmin"}, "features": features}, n_test=48)
    assert e["model"]["n_kernels"] == 4 and e["baseline"]["n_test"] > 0
    assert (seen[0].n_context, seen[0].gain, seen[0].cqt) == (4, 20.0, CHORD_CQT)


def test_a_shipped_model_is_explained_outside_the_package(tmp_path, monkeypatch):
    from pathlib import Path

    import chordscope

    package = Path(chordscope.__file__).parent / "pretrained"
    before = sorted(p.name for p in package.iterdir())
    monkeypatch.chdir(tmp_path)
    assert main(["explain", "majmin-v1", "--quiet"]) == 0
    assert (tmp_path / "runs" / "explain-majmin-v1" / "explanation.json").is_file()
    assert sorted(p.name for p in package.iterdir()) == before


def test_a_kernel_at_chance_is_not_said_to_prefer_a_class():
    from chordscope.explain import _sentence

    entry = {
        "kernel": 2,
        "role": "mixed",
        "selectivity": {"mean": {"maj": 0.3, "min": 0.31}, "auc_preferred": 0.5, "d_prime": 0.0,
                        "prefers": "min", "active_fraction": 0.5},
        "ablation": {"accuracy_change": -0.2, "accuracy_without": 0.8},
        "tuning": {"preferred_interval": 4},
    }  # fmt: skip
    text = _sentence(entry, 100)
    assert "prefers" not in text and "maj from min apart no better than chance (AUC 0.50)" in text
    entry["selectivity"]["auc_preferred"] = 0.9
    assert "prefers min (AUC 0.90" in _sentence(entry, 100)
    entry["selectivity"]["active_fraction"] = 0.0004  # one input in 2400: not dead, nearly
    assert "almost never fires (on 0.04 % of the test inputs)" in _sentence(entry, 100)


@pytest.mark.parametrize("per", [1, 3])
def test_where_a_recogniser_kernel_looks_is_its_lowest_rows_place(per):
    """A ChordCNN's first layer pads its input: the kernel spans 2 semitones each side of its
    map row. A planted root + major-third kernel fires most with its lowest row on a major
    chord's root (on a minor chord's minor third, whose fifth is a major third above it), on the
    transform of one bin a semitone and on the finer one, read a semitone at a time."""
    from chordscope.chords import get_vocabulary
    from chordscope.explain import explain_chordcnn
    from chordscope.features import RecogniserInput, chord_cqt
    from chordscope.models import ChordCNN

    cqt = chord_cqt(per)
    torch.manual_seed(0)
    m = ChordCNN(n_classes=25, n_bins=cqt.n_bins, bins_per_semitone=per).eval()
    with torch.no_grad():
        m.conv1.weight.zero_()
        m.conv1.weight[0, 0, per // 2, :] = 1.0  # the lowest semitone's middle row
        m.conv1.weight[0, 0, 4 * per + per // 2, :] = 1.0  # four semitones up
    meta = {
        "vocabulary": get_vocabulary("majmin").to_json(),
        "features": RecogniserInput(cqt, 3).to_json(),
    }
    where = explain_chordcnn(m, meta, n_test=200)["kernels"][0]["where"]
    assert where["offset_by_class"] == {"maj": 0, "min": 3}
    assert where["semitones"] == [0, 1, 2, 3, 4]
    weights = where["weight_by_semitone"]
    assert weights["0"] == weights["4"] > 0 and weights["1"] == weights["2"] == weights["3"] == 0
