"""Ctrl-C in the middle of every command that writes a folder or several files.

The promise (README, Reliability): an interrupted command exits 130 with one line that says
truthfully what it left, leaves no partial folder under the name asked for and no temporary
folder beside it, and the same command then runs again without ``--force``.
"""

import json

import numpy as np
import pytest

from chordscope import evalset, recognise, runs
from chordscope.cli import main
from chordscope.io import Segment, write_wav


def _ctrl_c_on_call(n: int, result=None):
    """A stand-in that returns ``result`` and presses Ctrl-C on its ``n``-th call."""
    calls = []

    def fake(*args, **kwargs):
        calls.append(args)
        if len(calls) == n:
            raise KeyboardInterrupt
        return result(*args, **kwargs) if callable(result) else result

    return fake


def _left_in(folder):
    return sorted(p.name for p in folder.iterdir())


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def quiet_songs(monkeypatch):
    """Evaluation songs rendered as silence (no FluidSynth needed; the files are written)."""
    monkeypatch.setattr(evalset, "soundfont_path", lambda name: name)

    def silent(song, **kwargs):
        return np.zeros(int(song.chords[-1][1] * 16000) + 1, np.float32)

    monkeypatch.setattr(evalset, "render_song", silent)
    return silent


def test_evalset_interrupted_leaves_nothing_and_reruns(tmp_path, monkeypatch, capsys, quiet_songs):
    monkeypatch.setattr(evalset, "render_song", _ctrl_c_on_call(3, quiet_songs))
    argv = ["evalset", "--out", str(tmp_path / "set"), "--songs", "4", "--bars", "2", "--quiet"]
    assert main(argv) == 130
    assert _one_line(capsys.readouterr().err) == "chordscope: interrupted; nothing was written"
    assert _left_in(tmp_path) == []  # no partial set, no temporary folder
    monkeypatch.setattr(evalset, "render_song", quiet_songs)
    assert main(argv) == 0
    assert len(list((tmp_path / "set").glob("*.lab"))) == 4
    stamp = json.loads((tmp_path / "set" / "evalset.json").read_text())
    assert stamp["kind"] == "evalset" and stamp["n_songs"] == 4 and stamp["n_bars"] == 2


def test_evalset_refuses_to_overwrite_without_force(tmp_path, capsys, quiet_songs):
    out = tmp_path / "set"
    argv = ["evalset", "--out", str(out), "--songs", "1", "--bars", "2", "--quiet"]
    assert main(argv) == 0
    before = (out / "song000.lab").read_bytes()
    assert main([*argv[:4], "2", *argv[5:]]) == 2  # two songs asked, one there
    assert "exists; pass --force" in _one_line(capsys.readouterr().err)
    assert _left_in(out) == ["evalset.json", "song000.json", "song000.lab", "song000.wav"]
    assert (out / "song000.lab").read_bytes() == before
    assert main([*argv[:4], "2", *argv[5:], "--force"]) == 0  # its own folder: replaced
    assert len(list(out.glob("*.wav"))) == 2
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    assert main(["evalset", "--out", str(foreign), "--songs", "1", "--force", "--quiet"]) == 2
    assert "not made by chordscope" in _one_line(capsys.readouterr().err)
    assert _left_in(foreign) == ["notes.txt"]


def test_generalise_interrupted_leaves_nothing_and_reruns(tmp_path, monkeypatch, capsys):
    def songs(out, **kwargs):  # the evaluation songs it would render
        out.mkdir(parents=True)
        (out / "song000.lab").write_text("0.0\t1.0\tN\n")

    monkeypatch.setattr(runs, "write_evalset", songs)
    monkeypatch.setattr(runs, "generalisation_matrix", _ctrl_c_on_call(1))
    out = tmp_path / "gen"
    assert main(["generalise", "--quick", "--out", str(out), "--quiet"]) == 130
    assert _one_line(capsys.readouterr().err) == "chordscope: interrupted; nothing was written"
    assert _left_in(tmp_path) == []
    # the rerun is not blocked by a partial folder: it gets as far as the matrix again
    monkeypatch.setattr(runs, "generalisation_matrix", _ctrl_c_on_call(1))
    assert main(["generalise", "--quick", "--out", str(out), "--quiet"]) == 130
    assert _left_in(tmp_path) == []


def test_predict_interrupted_says_which_files_were_written(tmp_path, monkeypatch, capsys):
    for name in ("a", "b", "c"):
        write_wav(tmp_path / f"{name}.wav", np.zeros(16000, np.float32), 16000)
    segments = [Segment(0.0, 1.0, "C:maj")]
    monkeypatch.setattr(recognise, "predict", _ctrl_c_on_call(2, segments))
    out = tmp_path / "labels"
    argv = ["predict", *(str(tmp_path / f"{n}.wav") for n in "abc"), "-o", str(out), "--quiet"]
    assert main(argv) == 130
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("chordscope: interrupted; 1 chord file(s) written before it")
    assert str(out / "a.lab") in line
    assert _left_in(out) == ["a.lab"]  # whole, and nothing half-written beside it
    assert (out / "a.lab").read_text().split() == ["0.000000", "1.000000", "C:maj"]
    monkeypatch.setattr(recognise, "predict", _ctrl_c_on_call(1))
    assert main(argv) == 130
    assert _one_line(capsys.readouterr().err) == "chordscope: interrupted; nothing was written"


def test_train_interrupted_says_whether_a_checkpoint_was_saved(tmp_path, monkeypatch, capsys):
    from chordscope import fit

    real_fixed_set, real_batch = fit._fixed_set, fit._batch
    monkeypatch.setattr(fit, "_fixed_set", _ctrl_c_on_call(1))  # before the first step
    out = tmp_path / "run"
    argv = ["train", "--steps", "4", "--batch-size", "16", "--out", str(out), "--quiet"]
    assert main(argv) == 130
    assert _one_line(capsys.readouterr().err) == "chordscope: interrupted; nothing was written"
    assert not (out / "checkpoint" / "checkpoint.json").exists()
    monkeypatch.setattr(fit, "_fixed_set", real_fixed_set)
    monkeypatch.setattr(fit, "_batch", _ctrl_c_on_call(3, real_batch))  # during step 3
    assert main(argv) == 130  # the empty folder left by the first try does not block it
    line = _one_line(capsys.readouterr().err)
    assert line == "chordscope: interrupted; checkpoint saved at step 2, --resume continues"
    assert json.loads((out / "checkpoint" / "checkpoint.json").read_text())["step"] == 2
    monkeypatch.setattr(fit, "_batch", real_batch)
    assert main([*argv, "--resume"]) == 0
    assert (out / "model.safetensors").is_file()


def test_two_runs_into_one_folder_at_once_replace_nothing(tmp_path, capsys):
    """The folder appears while a run works (another process): neither result is lost."""
    from chordscope.errors import OutputError
    from chordscope.io import output_folder

    out = tmp_path / "run"
    with pytest.raises(OutputError) as caught:
        with output_folder(out) as tmp:
            (tmp / "metrics.json").write_text('{"mine": 1}')
            out.mkdir()  # the other process finishes first
            (out / "metrics.json").write_text('{"theirs": 1}')
    assert "appeared while this command ran" in str(caught.value)
    assert json.loads((out / "metrics.json").read_text()) == {"theirs": 1}
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("run-")]
    assert len(kept) == 1 and json.loads((kept[0] / "metrics.json").read_text()) == {"mine": 1}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left
    with output_folder(out, force=True) as tmp:  # --force: the last one wins, as asked
        (tmp / "metrics.json").write_text('{"forced": 1}')
    assert json.loads((out / "metrics.json").read_text()) == {"forced": 1}


# --- through the real command line: SIGTERM, and two processes at once ------------------------


def _chordscope(*args, cwd):
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "chordscope", *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )


def test_sigterm_cleans_up_like_ctrl_c_and_says_so(tmp_path):
    import signal
    import time

    proc = _chordscope("sweep", "--seeds", "8", "--out", "s", cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".s.*.tmp")):  # it is at work in its temporary folder
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert _one_line(err) == "chordscope: terminated (SIGTERM); nothing was written"
    assert _left_in(tmp_path) == []


def test_two_processes_into_one_folder(tmp_path):
    for name in ("a", "b", "c"):
        t = np.arange(16000 * 2) / 16000
        write_wav(tmp_path / f"{name}.wav", 0.3 * np.sin(2 * np.pi * 220 * t), 16000)
    runs_ = [
        _chordscope("run", "--recipe", "seed", "--epochs", "1", "--steps-per-epoch", "20",
                    "--out", "r", "--force", "--quiet", cwd=tmp_path)
        for _ in range(2)
    ]  # fmt: skip
    labels = [
        _chordscope("predict", "a.wav", "b.wav", "-o", "out", "--quiet", cwd=tmp_path),
        _chordscope("predict", "c.wav", "a.wav", "-o", "out", "--quiet", cwd=tmp_path),
    ]
    for proc in runs_ + labels:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    # --force twice at once: the last to finish wins, whole, and nothing is left beside it
    run = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert run["steps"] == 20 and (tmp_path / "r" / "report.html").is_file()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    # two predicts into one folder: every chord file whole (a.lab written twice, alike)
    assert _left_in(tmp_path / "out") == ["a.lab", "b.lab", "c.lab"]
    for lab in (tmp_path / "out").iterdir():
        rows = [line.split() for line in lab.read_text().splitlines()]
        assert rows and all(len(r) == 3 for r in rows)
