import json
import shutil

import librosa
import mir_eval
import numpy as np
import pytest

from chordscope.chords import parse_label
from chordscope.cli import main
from chordscope.evalset import EVALSET_FORMAT, compose_song, render_song, sounding_chords

pytestmark = pytest.mark.skipif(
    shutil.which("fluidsynth") is None,
    reason="fluidsynth missing: make installs it only as root (apt-get install fluidsynth)",
)


def test_same_seed_byte_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert main(["evalset", "--out", str(out), "--songs", "2", "--bars", "2", "--quiet"]) == 0
    names = sorted(p.name for p in a.iterdir())
    songs = [f"song00{i}.{ext}" for i in range(2) for ext in ("json", "lab", "wav")]
    assert names == ["evalset.json", *songs]  # evalset.json: the settings that made the set
    assert json.loads((a / "evalset.json").read_text())["format"] == EVALSET_FORMAT == 2
    for n in songs:
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
    assert labels[0] == "N" and len(labels) >= 4  # the last chord may ring to the end
    np.testing.assert_allclose(intervals[1:, 0], intervals[:-1, 1])  # contiguous
    y, sr = librosa.load(tmp_path / "song000.wav", sr=None)
    assert sr == 16000 and abs(len(y) / sr - intervals[-1, 1]) < 1e-3
    meta = json.loads((tmp_path / "song000.json").read_text())
    assert 60 <= meta["tempo"] <= 160


@pytest.mark.parametrize("index", [0, 7])  # song 0 has drums, song 7 none
def test_the_last_chord_is_labelled_until_its_chords_and_bass_die_away(index):
    song = compose_song(index, n_bars=2)
    assert song.drums == (index == 0)
    y = render_song(song)
    segments = sounding_chords(song, y, sr=16000, soundfont="fluidr3")
    assert segments[: len(song.chords) - 2] == song.chords[:-2]  # the rest is untouched
    note_off = song.chords[-2][1]
    start, end, label = [s for s in segments if s[2] != "N"][-1]
    assert label == song.chords[-2][2] and end > note_off + 0.1  # it rings past its note-off
    # measured on the chord and bass parts alone: the drums' level says nothing about the chord
    pitched = render_song(song, parts=("chords", "bass"))
    assert not np.allclose(pitched, y) if song.drums else np.array_equal(pitched, y)
    level = librosa.amplitude_to_db(librosa.feature.rms(y=pitched, frame_length=2048)[0])
    peak = level[int(start * 31.25) : int(note_off * 31.25)].max()
    assert end < song.duration - 0.05  # both songs die away before they end
    assert level[int(end * 31.25) + 1 :].max() < peak - 28  # N once 30 dB down
    assert level[int(end * 31.25) - 2] > peak - 32  # and not before


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


def test_training_songs_are_seeded_varied_and_never_the_evaluation_set():
    from chordscope.errors import ParameterError
    from chordscope.songs import EVAL_SEED, training_song

    a, b = training_song(3, seed=5), training_song(3, seed=5)
    assert a.chords == b.chords and a.notes == b.notes
    assert training_song(4, seed=5).chords != a.chords
    labels = [lab for i in range(20) for _, _, lab in training_song(i, seed=5).chords]
    roots = {lab.split(":")[0] for lab in labels if lab != "N"}
    qualities = {lab.split(":")[1] for lab in labels if lab != "N"}
    assert len(roots) == 12 and {"maj", "min", "7", "min7", "maj7"} <= qualities
    for song in (a, training_song(7, seed=5)):
        ends = [c[1] for c in song.chords]
        assert song.chords[0][0] == 0 and ends[-1] == pytest.approx(song.duration)
        assert all(c[1] == d[0] for c, d in zip(song.chords, song.chords[1:], strict=False))
    with pytest.raises(ParameterError, match="evaluation set"):
        training_song(0, seed=EVAL_SEED)


def test_label_frames_reduce_to_the_vocabulary():
    from chordscope.chords import get_vocabulary
    from chordscope.datasets import label_frames

    v = get_vocabulary("majmin")
    y = label_frames(
        [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)], ["A:min7", "G:sus4", "C:maj"], 8, v, hop_s=0.5
    )
    # frames at 0, .5 → A:min; 1, 1.5 → sus4 has no majmin class; 2, 2.5 → C:maj; 3, 3.5 → none
    assert y.tolist() == [v.index("A:min")] * 2 + [-1, -1] + [v.index("C:maj")] * 2 + [-1, -1]


def test_song_frames_windows_are_context_views():
    from chordscope.datasets import song_frames
    from chordscope.features import CHORD_CQT, context_frames, log_cqt
    from chordscope.songs import render_song, training_song

    pool = song_frames("majmin", [0], seed=9, snr_db=None, workers=1)
    song = training_song(0, seed=9, programs=(0, 24, 48))  # song_frames' default programs
    F = log_cqt(render_song(song, sr=CHORD_CQT.sr), config=CHORD_CQT)
    W = context_frames(F, 3)
    k = pool.centres[10] - 3  # the song starts after 3 padding columns
    np.testing.assert_allclose(pool.windows([10])[0, 0], W[k], atol=1e-6)


def test_training_song_octaves_and_roots_are_honoured():
    from chordscope.errors import ParameterError
    from chordscope.songs import training_song

    low = training_song(0, seed=5, octaves=(3,), roots=(0, 2))
    high = training_song(0, seed=5, octaves=(4,), roots=(0, 2))
    pitches = lambda s: [p for p, *_ in s.notes["chords"]]  # noqa: E731
    assert np.mean(pitches(high)) - np.mean(pitches(low)) == pytest.approx(12, abs=3)
    roots = {lab.split(":")[0] for _, _, lab in low.chords if lab != "N"}
    assert roots <= {"C", "D"}
    with pytest.raises(ParameterError, match="consecutive"):
        training_song(0, seed=5, octaves=(3, 5))
