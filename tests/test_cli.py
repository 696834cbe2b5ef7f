"""End to end: the command line in-process, on short trainings in temporary folders."""

import csv
import json
from pathlib import Path

import numpy as np
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


def test_synth_one_wav_per_label(tmp_path):
    from scipy.io import wavfile

    argv = ["synth", "C:maj", "A:min7", "G:7/3", "N", "--synth", "pluck", "--duration", "0.5"]
    out = tmp_path / "wav"
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["00_C_maj.wav", "01_A_min7.wav", "02_G_7_over_3.wav", "03_N.wav"]
    sr, y = wavfile.read(out / "00_C_maj.wav")
    assert sr == 16000 and len(y) == 8000 and y.dtype.name == "int16" and np.abs(y).max() > 1000
    assert not wavfile.read(out / "03_N.wav")[1].any()  # N is silence
    again = tmp_path / "again"
    assert main([*argv, "--out", str(again), "--quiet"]) == 0
    assert (again / "01_A_min7.wav").read_bytes() == (out / "01_A_min7.wav").read_bytes()


def test_synth_sequence_with_lab(tmp_path):
    from chordscope.io import read_lab

    out = tmp_path / "seq"
    argv = [
        "synth",
        "--sequence",
        "C:maj D:min7 G:7",
        "--durations",
        "1 0.5 2",
        "--synth",
        "sine",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    intervals, labels = read_lab(out / "sequence.lab")
    assert labels == ["C:maj", "D:min7", "G:7"]
    np.testing.assert_allclose(intervals, [[0, 1], [1, 1.5], [1.5, 3.5]])
    from scipy.io import wavfile

    assert len(wavfile.read(out / "sequence.wav")[1]) == 3.5 * 16000


@pytest.mark.parametrize(
    "argv, match",
    [
        (["C:major"], "unknown quality 'major'"),
        (["C:maj", "--synth", "fm"], "synth='fm'"),
        (["C:maj", "--synth", "soundfont", "--program", "200"], "program=200"),
        (["C:maj", "--program", "3"], "need --synth soundfont"),
        (["C:maj", "--snr", "loud"], "snr='loud'"),
        (["C:maj", "--sequence", "D:min"], "not both"),
        (["C:maj", "--durations", "1"], "--durations needs --sequence"),
        (["--sequence", "C:maj D:min", "--durations", "1"], "durations must be 2"),
        (["C:maj", "--synth", "soundfont", "--soundfont", "/no/such.sf2"], "not found"),
        ([], "no chord labels"),
    ],
)
def test_synth_bad_input(tmp_path, capsys, argv, match):
    out = tmp_path / "o"
    assert _exit_code(["synth", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chordscope: error:") and match in err and err.count("\n") == 1
    assert not out.exists()


def test_synth_not_a_soundfont(tmp_path, capsys):
    fake = tmp_path / "fake.sf2"
    fake.write_bytes(b"not a soundfont at all")
    assert (
        main(
            [
                "synth",
                "C:maj",
                "--synth",
                "soundfont",
                "--soundfont",
                str(fake),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "not a SoundFont" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_an_unexpected_failure_is_one_line_and_a_traceback_file(monkeypatch, capsys):
    """A bug (not a ChordscopeError) prints one line naming a file with the traceback; exit 3."""
    import chordscope.runs

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(chordscope.runs, "run_experiment", broken)
    assert main(["run", "--quiet"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("chordscope: internal error: ZeroDivisionError: division by zero (")
    path = Path(err.split("please report it with ")[1].rstrip(")\n"))
    try:
        assert "Traceback" in path.read_text() and "broken" in path.read_text()
    finally:
        path.unlink()


def test_bare_chordscope_prints_usage(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: chordscope") and "chordscope predict" in out


def test_every_subcommand_has_a_description_an_example_and_option_help():
    from chordscope.cli import _parser

    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(getattr(a, "choices", None), dict))
    for name, sp in sub.choices.items():
        text = sp.format_help()
        assert sp.description and f"example:\n  chordscope {name}" in text, name
        assert all(a.help for a in sp._actions), (name, [a.dest for a in sp._actions if not a.help])


# --- the terminal: phases, numbers on the bar, a summary ------------------------------------


@pytest.fixture
def terminal(monkeypatch, capsys):
    """A stderr taken for a terminal, so the commands draw their progress bars."""
    from chordscope import cli

    monkeypatch.setattr(cli, "_on_terminal", lambda: True)
    return capsys


def test_bar_phases_numbers_and_a_clock_that_starts_with_the_steps(terminal):
    from chordscope.cli import _Bar

    bar = _Bar(10, "train")
    bar(0, phase="rendering 3 songs")
    bar.bar.start_t -= 100.0  # a long set-up ...
    bar(1, loss=0.5)
    assert bar.bar.n == 1 and bar.bar.format_dict["elapsed"] < 50  # ... not in the rate
    bar(1, loss=0.25, val_accuracy=0.875)
    assert bar.bar.postfix == "loss=0.25, val_accuracy=0.875"
    bar.close()
    lines = terminal.readouterr().err.replace("\r", "\n").splitlines()
    assert "train: rendering 3 songs" in lines  # a line of its own, kept above the bar


def test_train_on_a_terminal_says_each_phase_and_shows_the_loss(tmp_path, terminal):
    out = tmp_path / "run"
    assert main(["train", "--steps", "4", "--batch-size", "16", "--out", str(out)]) == 0
    captured = terminal.readouterr()
    lines = [ln.strip() for ln in captured.err.replace("\r", "\n").splitlines() if ln.strip()]
    phases = [ln for ln in lines if ln.startswith("train majmin: ") and "|" not in ln]
    assert [p.split(": ", 1)[1].split()[0] for p in phases] == ["the", "testing", "writing"]
    assert any("loss=" in ln for ln in lines)  # the loss rides on the bar
    assert f"{out}: test accuracy" in captured.out  # the closing summary


def test_predict_on_a_terminal_counts_files_and_sums_up(tmp_path, terminal):
    from chordscope.io import write_wav

    for name in ("a", "b"):
        t = np.arange(16000 * 3) / 16000
        write_wav(tmp_path / f"{name}.wav", np.sin(2 * np.pi * 220 * t) * 0.3, 16000)
    argv = ["predict", str(tmp_path / "a.wav"), str(tmp_path / "b.wav"), "-o", str(tmp_path)]
    assert main(argv) == 0
    captured = terminal.readouterr()
    assert "predict: a.wav (1 of 2)" in captured.err and "predict: b.wav (2 of 2)" in captured.err
    assert "audio=" in captured.err  # how far the features of the file have come
    assert captured.out.splitlines()[-1].startswith("2 of 2 files labelled in ")
