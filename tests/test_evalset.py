import json
import shutil

import librosa
import mir_eval
import numpy as np
import pytest

from chordscope.chords import parse_label
from chordscope.cli import main
from chordscope.evalset import compose_song, render_song

pytestmark = pytest.mark.skipif(
    shutil.which("fluidsynth") is None,
    reason="fluidsynth missing: make installs it only as root (apt-get install fluidsynth)",
)


def test_same_seed_byte_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert main(["evalset", "--out", str(out), "--songs", "2", "--bars", "2", "--quiet"]) == 0
    names = sorted(p.name for p in a.iterdir())
    assert names == [f"song00{i}.{ext}" for i in range(2) for ext in ("json", "lab", "wav")]
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes()
    c = tmp_path / "c"
    assert (
        main(["evalset", "--out", str(c), "--songs", "1", "--bars", "2", "--seed", "5", "--quiet"])
        == 0
    )
    assert (c / "song000.wav").read_bytes() != (a / "song000.wav").read_bytes()


def test_lab_is_valid_and_covers_the_audio(tmp_path):
    assert main(["evalset", "--out", str(tmp_path), "--songs", "1", "--bars", "3", "--quiet"]) == 0
    intervals, labels = mir_eval.io.load_labeled_intervals(str(tmp_path / "song000.lab"))
    mir_eval.chord.validate(labels, labels)
    assert labels[0] == labels[-1] == "N" and len(labels) >= 5
    np.testing.assert_allclose(intervals[1:, 0], intervals[:-1, 1])  # contiguous
    y, sr = librosa.load(tmp_path / "song000.wav", sr=None)
    assert sr == 16000 and abs(len(y) / sr - intervals[-1, 1]) < 1e-3
    meta = json.loads((tmp_path / "song000.json").read_text())
    assert 60 <= meta["tempo"] <= 160


def test_rendered_chords_sound_like_their_labels():
    hits = total = 0
    for i in range(2):
        song = compose_song(i, n_bars=4)
        y = render_song(song)
        chroma = librosa.feature.chroma_cqt(y=y, sr=16000, hop_length=512)
        for start, end, label in song.chords:
            if label == "N":
                continue
            seg = chroma[:, int(start * 31.25) + 2 : int(end * 31.25) - 1].mean(axis=1)
            root, bitmap, _ = parse_label(label)
            tones = {(root + k) % 12 for k in np.flatnonzero(bitmap)}
            hits += len(set(np.argsort(seg)[-3:].tolist()) & tones) >= 2
            total += 1
    assert hits / total >= 0.75


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--songs", "0"], "songs=0"),
        (["--soundfont", "/no/such.sf2"], "not found"),
        (["--bars", "-1"], "n_bars=-1"),
    ],
)
def test_bad_input(tmp_path, capsys, argv, match):
    out = tmp_path / "o"
    assert main(["evalset", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chordscope: error:") and match in err
    assert not out.exists()
