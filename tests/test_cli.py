"""End to end: the command line in-process, on short trainings in temporary folders."""

import csv
import json

import pytest

from chordscope.cli import main
from chordscope.io import load_model

FIGURES = {"inputs", "curves", "kernels", "feature_maps_major", "feature_maps_minor", "dense"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert (
        main(
            [
                "run",
                "--seed",
                "3",
                "--epochs",
                "2",
                "--steps-per-epoch",
                "50",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    return out


def test_run_writes_every_artefact(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    assert {
        "model.safetensors",
        "model.json",
        "metrics.json",
        "history.csv",
        "figures",
        "report.html",
    } <= names
    assert {p.stem for p in (run_dir / "figures").glob("*.png")} >= FIGURES
    for p in (run_dir / "figures").glob("*.png"):
        assert p.read_bytes()[:4] == b"\x89PNG"
    m = json.loads((run_dir / "metrics.json").read_text())
    for key in (
        "test_accuracy",
        "test_loss",
        "n_params",
        "recipe",
        "seed",
        "steps",
        "train_seconds",
    ):
        assert key in m
    assert m["n_params"] == 68 and m["recipe"] == "robust" and m["seed"] == 3 and m["steps"] == 100
    assert 0.5 <= m["test_accuracy"] <= 1.0
    rows = list(csv.DictReader((run_dir / "history.csv").open()))
    assert len(rows) == 2 and {"train_loss", "train_accuracy", "val_loss", "val_accuracy"} <= set(
        rows[0]
    )
    model, meta = load_model(run_dir)
    assert (
        meta["seed"] == 3 and meta["recipe"]["name"] == "robust" and meta["recipe"]["epochs"] == 2
    )
    assert meta["vocabulary"]["labels"] == ["maj", "min"]
    assert meta["features"]["fmin"] == 220.0 and "torch" in meta["versions"]
    html = (run_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= len(FIGURES) and 'src="http' not in html
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".")]


def test_existing_folder_needs_force(run_dir, capsys):
    before = (run_dir / "metrics.json").read_text()
    assert (
        main(["run", "--out", str(run_dir), "--epochs", "1", "--steps-per-epoch", "10", "--quiet"])
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("chordscope: error:") and "--force" in err and err.count("\n") == 1
    assert (run_dir / "metrics.json").read_text() == before


def test_force_replaces(tmp_path):
    out = tmp_path / "r"
    args = [
        "run",
        "--recipe",
        "seed",
        "--epochs",
        "1",
        "--steps-per-epoch",
        "20",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    assert main(args + ["--force", "--seed", "4"]) == 0
    assert json.loads((out / "metrics.json").read_text())["seed"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_sweep(tmp_path):
    out = tmp_path / "sw"
    assert (
        main(
            [
                "sweep",
                "--seeds",
                "3",
                "--recipe",
                "robust",
                "--epochs",
                "2",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    s = json.loads((out / "sweep.json").read_text())
    assert s["recipe"] == "robust" and s["n_seeds"] == 3 and len(s["per_seed"]) == 3
    assert [p["seed"] for p in s["per_seed"]] == [0, 1, 2]
    assert set(s["per_seed"][0]) == {"seed", "test_accuracy", "test_loss", "steps_to_perfect"}
    assert s["success_rate"] == sum(p["test_accuracy"] == 1.0 for p in s["per_seed"]) / 3
    assert (out / "figures" / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert "data:image/png;base64," in (out / "report.html").read_text()


@pytest.mark.parametrize(
    "argv, match",
    [
        (["run", "--epochs", "0"], "epochs=0"),
        (["run", "--epochs", "-3"], "epochs=-3"),
        (["run", "--steps-per-epoch", "0"], "steps_per_epoch=0"),
        (["run", "--seed", "-1"], "seed=-1"),
        (["run", "--seed", "abc"], "invalid int value"),
        (["run", "--recipe", "turbo"], "recipe='turbo'"),
        (["sweep", "--seeds", "0"], "seeds=0"),
        (["sweep"], "--seeds"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_one_line_exit_2_nothing_written(tmp_path, capsys, argv, match):
    out = tmp_path / "out"
    assert _exit_code(argv + ["--out", str(out)] if argv[0] in ("run", "sweep") else argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("chordscope: error:") and match in err and err.count("\n") == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["run", "--out", str(blocker / "run"), "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chordscope: error: cannot write") and err.count("\n") == 1


def test_report_of_missing_folder(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.startswith("chordscope: error:")


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code
