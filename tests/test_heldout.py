import json
import shutil
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

from chordscope import heldout
from chordscope.cli import main
from chordscope.errors import ParameterError
from chordscope.synth import FLUIDR3, OPL3

RENDER_MISSING = (
    "fluidsynth missing (apt-get install fluidsynth)"
    if shutil.which("fluidsynth") is None
    else "FluidR3_GM missing (apt-get install fluid-soundfont-gm)"
    if not Path(FLUIDR3).is_file()
    else "the held-out SoundFont is missing (apt-get install opl3-soundfont; make does it as root)"
    if not Path(OPL3).is_file()
    else None
)
needs_render = pytest.mark.skipif(RENDER_MISSING is not None, reason=str(RENDER_MISSING))
TINY = {"n_songs": 2, "n_bars": 2, "chords_per_file": 6}


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    if RENDER_MISSING:
        pytest.skip(RENDER_MISSING)
    out = tmp_path_factory.mktemp("heldout")
    heldout.write_heldout_set(out, **TINY)
    return out


def _sf2_samples(path) -> np.ndarray:
    """The ``smpl`` chunk of a SoundFont 2 file (16-bit samples)."""
    data = Path(path).read_bytes()

    def chunks(start, end):
        while start + 8 <= end:
            size = int.from_bytes(data[start + 4 : start + 8], "little")
            yield data[start : start + 4], start + 8, size
            start += 8 + size + (size & 1)

    for _, body, size in chunks(12, len(data)):
        for cid, at, n in chunks(body + 4, body + size):
            if cid == b"smpl":
                return np.frombuffer(data[at : at + n], "<i2")
    raise AssertionError(f"{path}: no smpl chunk")


def _contains(sorted_hashes: np.ndarray, probes: np.ndarray) -> np.ndarray:
    at = np.minimum(np.searchsorted(sorted_hashes, probes), len(sorted_hashes) - 1)
    return sorted_hashes[at] == probes


def _window_hashes(x: np.ndarray, width: int = 16) -> np.ndarray:
    v = np.lib.stride_tricks.sliding_window_view(x, width)
    h = np.zeros(len(v), dtype=np.uint64)
    for j in range(width):
        h = h * np.uint64(1_000_003) + v[:, j].astype(np.uint16).astype(np.uint64)
    return h


def test_held_out_programs_and_seed_are_never_used_in_training():
    tomllib = pytest.importorskip("tomllib")
    from chordscope import evalset
    from chordscope.tutorial_data import TEST_SEED

    held = set(heldout.HELD_OUT_CHORD_PROGRAMS) | set(heldout.HELD_OUT_BASS_PROGRAMS)
    held |= set(heldout.HELD_OUT_LEAD_PROGRAMS)
    assert len(held) == 12 + 3 + 6  # the three tuples do not overlap either
    trained = set(evalset.CHORD_PROGRAMS) | set(evalset.BASS_PROGRAMS)
    pretrained = Path(evalset.__file__).with_name("pretrained")
    experiments = Path(__file__).parents[1] / "benchmarks" / "experiments"
    tomls = sorted(pretrained.glob("*.toml")) + sorted(experiments.glob("*.toml"))
    assert len(tomls) > 4 + 10  # the shipped recipes and the README's experiments
    for toml in tomls:
        config = tomllib.loads(toml.read_text())
        trained |= set(config.get("programs", [])) | set(config.get("extra_programs", []))
        assert heldout.HELD_OUT_SOUNDFONT not in config.get("soundfonts", []), toml.name
    try:
        from chordscope import songs
    except ImportError:  # the realistic training songs are optional here
        songs = None
    if songs is not None:
        for name in ("TRAIN_CHORD_PROGRAMS", "TRAIN_BASS_PROGRAMS", "TRAIN_LEAD_PROGRAMS"):
            trained |= set(getattr(songs, name, ()))
    assert len(trained) >= 17 and not held & trained
    assert (
        heldout.HELDOUT_SEED not in (evalset.EVAL_SEED, TEST_SEED) and heldout.HELDOUT_SEED > 10**6
    )
    ids = [c.id for c in heldout.CONDITIONS.values()]
    assert len(set(ids)) == len(ids) and min(ids) > 100  # training streams use tags 20..40


@pytest.mark.skipif(not Path(OPL3).is_file(), reason="apt-get install opl3-soundfont")
def test_the_held_out_soundfont_shares_no_samples_with_timgm6mb():
    from chordscope.synth import soundfont_path

    assert soundfont_path("opl3") not in (soundfont_path("fluidr3"), soundfont_path("timgm6mb"))
    known = np.sort(_window_hashes(_sf2_samples(soundfont_path("timgm6mb"))))
    opl3 = _sf2_samples(OPL3)
    starts = np.linspace(0, len(opl3) - 16, 4000).astype(int)
    probes = np.array([_window_hashes(opl3[s : s + 16])[0] for s in starts])
    probes = probes[[np.abs(opl3[s : s + 16]).max() > 50 for s in starts]]  # not silence
    assert len(probes) > 2000 and not _contains(known, probes).any()
    # the same probe finds a bank's own samples (so a shared sample would be found)
    own = _sf2_samples(soundfont_path("timgm6mb"))
    assert _contains(known, _window_hashes(own[100_000:100_016])).all()


@needs_render
def test_same_seed_same_bytes_and_pieces_do_not_depend_on_the_set_size(tiny_set, tmp_path):
    heldout.write_heldout_set(tmp_path, **{**TINY, "n_songs": 1})
    for cond in heldout.CONDITIONS:
        names = sorted(p.name for p in (tmp_path / cond).iterdir() if p.stem != "condition")
        assert len(names) == 3
        for name in names:
            assert (tmp_path / cond / name).read_bytes() == (tiny_set / cond / name).read_bytes()
    other = tmp_path / "other"
    heldout.write_heldout_set(
        other,
        **{**TINY, "n_songs": 1},
        seed=heldout.HELDOUT_SEED + 1,
        conditions=["isolated", "mp3"],
    )
    for cond, name in (("isolated", "chords000.wav"), ("mp3", "song000.mp3")):
        assert (other / cond / name).read_bytes() != (tiny_set / cond / name).read_bytes()


@needs_render
def test_labels_are_harte_and_tile_the_audio(tiny_set):
    from chordscope.io import read_chords

    for cond in heldout.CONDITIONS:
        meta = json.loads((tiny_set / cond / "condition.json").read_text())
        assert meta["condition"] == cond and len(meta["files"]) == TINY["n_songs"]
        for name in meta["files"]:
            audio = tiny_set / cond / name
            intervals, labels = read_chords(audio.with_suffix(".lab"))  # validates every label
            info = sf.info(audio)
            assert intervals[0, 0] == 0 and labels[0] == labels[-1] == "N"
            np.testing.assert_allclose(intervals[1:, 0], intervals[:-1, 1])
            assert abs(intervals[-1, 1] - info.frames / info.samplerate) < 1e-5
            assert sum(lab != "N" for lab in labels) >= (6 if cond == "isolated" else 2)


@needs_render
def test_isolated_chords_sound_like_their_inverted_and_seventh_labels(tiny_set):
    from chordscope.chords import parse_label

    chords = heldout.isolated_chords(0, n_chords=60)
    labels = [c["label"] for c in chords]
    assert {lab.split(":")[1].split("/")[0] for lab in labels} == {
        "maj",
        "min",
        "7",
        "maj7",
        "min7",
    }
    assert 15 <= sum("/" in lab for lab in labels) <= 45
    assert {c["program"] for c in chords} <= set(heldout.HELD_OUT_CHORD_PROGRAMS)
    assert len({c["program"] for c in chords}) >= 8
    y, sr = sf.read(tiny_set / "isolated" / "chords000.wav")
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=512)
    hits = 0
    for c in heldout.isolated_chords(0, n_chords=TINY["chords_per_file"]):
        a = int((c["start"] + 0.1) * sr / 512)
        seg = chroma[:, a : a + int(0.8 * sr / 512)].mean(axis=1)
        root, bitmap, _ = parse_label(c["label"])
        tones = {(root + k) % 12 for k in np.flatnonzero(bitmap)}
        hits += len(set(np.argsort(seg)[-3:].tolist()) & tones) >= 2
    assert hits >= TINY["chords_per_file"] - 1


@needs_render
def test_isolated_chords_are_labelled_while_they_sound(tiny_set):
    import mir_eval

    y, sr = sf.read(tiny_set / "isolated" / "chords000.wav")
    intervals, labels = mir_eval.io.load_labeled_intervals(tiny_set / "isolated" / "chords000.lab")
    assert np.allclose(intervals[1:, 0], intervals[:-1, 1])  # a tiling
    ends = {round(a, 3): b for (a, b), lab in zip(intervals, labels, strict=True) if lab != "N"}
    rms = librosa.feature.rms(y=y, frame_length=2048, hop_length=512)[0]
    level = 20 * np.log10(rms + 1e-12)
    for c in heldout.isolated_chords(0, n_chords=TINY["chords_per_file"]):
        end = ends[round(c["start"], 3)]
        assert end >= c["start"] + heldout.ISOLATED_CHORD_S  # never before its notes end
        peak = level[int(c["start"] * sr / 512) : int((c["start"] + 1) * sr / 512)].max()
        after = level[int(end * sr / 512) + 2 : int(end * sr / 512) + 4]
        if end < c["start"] + heldout.ISOLATED_CHORD_S + heldout.ISOLATED_GAP_S - 0.05:
            assert after.max() < peak - 25, c  # an N follows only once the chord has died away
        else:
            assert level[int((end - 0.1) * sr / 512)] > peak - 35, c  # it rang to the next chord


@needs_render
def test_a_songs_last_chord_is_labelled_while_it_sounds(tiny_set):
    import mir_eval

    for i in range(TINY["n_songs"]):
        song, _ = heldout.heldout_song(i, n_bars=TINY["n_bars"])
        note_off = song.chords[-2][1]
        ends = {}
        for cond in ("heldout-programs", "reverb", "mp3"):
            stem = tiny_set / cond / f"song{i:03d}"
            intervals, labels = mir_eval.io.load_labeled_intervals(stem.with_suffix(".lab"))
            kept = [c[1] for c in song.chords[:-2]]  # every other boundary as composed
            np.testing.assert_allclose(intervals[: len(kept), 1], kept, atol=1e-6)
            chords = [k for k, lab in enumerate(labels) if lab != "N"]
            assert labels[chords[-1]] == song.chords[-2][2]
            ends[cond] = intervals[chords[-1], 1]
            assert ends[cond] > note_off + 0.05, (cond, i, ends[cond], note_off)  # it rang on
            assert json.loads(stem.with_suffix(".json").read_text())["ring_out_db"] == 30.0
        assert ends["reverb"] > ends["heldout-programs"]  # the room's tail is the chord's too


@needs_render
def test_detuned_songs_are_40_cents_off(tiny_set):
    def tuning(cond, name):
        y, sr = sf.read(tiny_set / cond / name)
        return librosa.estimate_tuning(y=y, sr=sr)

    for name, sign in (("song000.wav", 1), ("song001.wav", -1)):
        shift = tuning("detuned", name) - tuning("heldout-programs", name)
        assert abs(shift - sign * 0.40) < 0.07, (name, shift)
        meta = json.loads((tiny_set / "detuned" / name).with_suffix(".json").read_text())
        assert meta["detune_cents"] == sign * 40


@needs_render
def test_mp3_is_128_kbps_and_decodes(tiny_set):
    path = tiny_set / "mp3" / "song000.mp3"
    assert set(heldout.mp3_frame_bitrates(path)) == {128}
    y, sr = sf.read(path)
    assert sr == heldout.MP3_SR and np.isfinite(y).all() and 0.5 < np.abs(y).max() <= 1.0
    wav, wav_sr = sf.read(tiny_set / "heldout-programs" / "song000.wav")
    assert abs(len(y) / sr - len(wav) / wav_sr) < 1e-3  # the same song, decoded to its length
    assert heldout.mp3_frame_bitrates(b"no mp3 here") == {}


def _residual_ratio(y, base):
    """RMS of what ``y`` adds to the best-scaled ``base``, over the RMS of that scaled base."""
    a = float(y @ base / (base @ base))
    return np.sqrt(np.mean((y - a * base) ** 2)) / np.sqrt(np.mean((a * base) ** 2))


@needs_render
def test_melody_is_a_louder_line_over_the_same_song(tiny_set):
    for name in ("song000.wav", "song001.wav"):
        m, _ = sf.read(tiny_set / "melody" / name)
        base, _ = sf.read(tiny_set / "heldout-programs" / name)
        meta = json.loads((tiny_set / "melody" / name).with_suffix(".json").read_text())
        assert meta["lead_program"] in heldout.HELD_OUT_LEAD_PROGRAMS
        assert meta["notes"] >= 4
        assert _residual_ratio(m, base) > 1.4  # the lead is 4-8 dB above the accompaniment
    song, _ = heldout.heldout_song(0, "melody", n_bars=8)
    notes, info = heldout._melody(song, heldout.condition_rng("melody", 0))
    assert info["non_chord_tones"] >= 3 and len(notes) >= 30


@needs_render
def test_dynamics_change_the_level_and_reverb_adds_a_tail(tiny_set):
    def frame_db(y):
        return librosa.amplitude_to_db(librosa.feature.rms(y=y, hop_length=800)[0], ref=1.0)

    for name in ("song000.wav", "song001.wav"):
        dyn, _ = sf.read(tiny_set / "dynamics" / name)
        base, sr = sf.read(tiny_set / "heldout-programs" / name)
        meta = json.loads((tiny_set / "dynamics" / name).with_suffix(".json").read_text())
        start, end = meta["duration"] * 0.15, meta["duration"] * 0.7
        sl = slice(int(start * sr / 800), int(end * sr / 800))
        diff = (frame_db(dyn) - frame_db(base))[sl]
        assert np.ptp(diff) > 6, (name, np.ptp(diff))
        rev, _ = sf.read(tiny_set / "reverb" / name)
        assert _residual_ratio(rev, base) > 0.3
    ir = heldout.room_impulse_response(np.random.default_rng(1), sr=16000, rt60=1.0)
    same = heldout.room_impulse_response(np.random.default_rng(1), sr=16000, rt60=1.0)
    assert np.array_equal(ir, same) and np.isclose(np.sum(ir**2), 1.0)
    energy = np.cumsum(ir[::-1] ** 2)[::-1]  # Schroeder decay curve
    t60 = np.argmax(energy < 1e-6) / 16000  # -60 dB: between the high band's and the low band's
    assert 0.4 < t60 < 1.1, t60


@needs_render
def test_cli_writes_the_heldout_set_and_rejects_bad_input(tmp_path, capsys):
    out = tmp_path / "h"
    argv = ["evalset", "--heldout", "--out", str(out), "--songs", "1", "--bars", "2"]
    assert main([*argv, "--conditions", "isolated,detuned", "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["detuned", "evalset.json", "isolated"]
    assert (out / "isolated" / "condition.json").is_file()
    assert (out / "detuned" / "song000.lab").is_file()
    one = tmp_path / "one"
    assert main(["evalset", "--heldout", "--out", str(one), "--songs", "1", "--bars", "2",
                 "--conditions", "detuned"]) == 0  # fmt: skip
    assert capsys.readouterr().out.strip().endswith("1 file in 1 condition (detuned)")
    bad = tmp_path / "bad"
    for extra, match in (
        (["--conditions", "nope"], "condition='nope'"),
        (["--soundfont", "opl3"], "--soundfont does not apply"),
        (["--songs", "0"], "songs=0"),
    ):
        assert main(["evalset", "--heldout", "--out", str(bad), *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("chordscope: error:") and match in err
    assert main(["evalset", "--out", str(bad), "--conditions", "mp3"]) == 2
    assert "--conditions needs --heldout" in capsys.readouterr().err
    assert not bad.exists()


def test_bad_arguments_are_one_line_errors(tmp_path):
    from chordscope.evalset import EVAL_SEED

    with pytest.raises(ParameterError, match="evaluation set's seed"):
        heldout.write_heldout_set(tmp_path, seed=EVAL_SEED)
    with pytest.raises(ParameterError, match="conditions="):
        heldout.write_heldout_set(tmp_path, conditions="isolated")
    with pytest.raises(ParameterError, match="condition='loud'"):
        heldout.condition_rng("loud", 0)
    with pytest.raises(ParameterError, match="no songs"):
        heldout.heldout_song(0, "isolated")
    assert not any(tmp_path.iterdir())


def test_music_pieces_are_training_style_songs_played_by_held_out_programs():
    from chordscope.songs import music_song

    for i in range(6):
        piece = heldout.music_piece(i, n_chords=4)
        assert piece.writer != "isolated"  # songs of single chords are skipped
        assert piece.chords == heldout.music_piece(i, n_chords=4).chords  # same seed, same song
        chord_programs = [p for n, p, _, _ in piece.tracks if n.startswith("chords")]
        assert chord_programs and len(set(chord_programs)) == len(chord_programs)
        assert set(chord_programs) <= set(heldout.HELD_OUT_CHORD_PROGRAMS)
        for name, program, _, _ in piece.tracks:
            if name == "bass":
                assert program in heldout.HELD_OUT_BASS_PROGRAMS
            elif name == "lead":
                assert program in heldout.HELD_OUT_LEAD_PROGRAMS
        # the composer's song, only its instruments changed
        for seed in range(heldout.HELDOUT_SEED, heldout.HELDOUT_SEED + 20):
            song = music_song(i, seed=seed, n_chords=4)
            if song.writer != "isolated":
                break
        assert song.chords == piece.chords
        assert [(n, d, x) for n, _, d, x in song.tracks] == [
            (n, d, x) for n, _, d, x in piece.tracks
        ]
    for condition in heldout.MUSIC_CONDITIONS:
        with pytest.raises(ParameterError, match="music_piece"):
            heldout.heldout_song(0, condition)


@needs_render
def test_the_music_conditions_play_the_same_songs_through_two_soundfonts(tiny_set):
    from chordscope.io import read_chords

    for name in ("song000", "song001"):
        conditions = list(heldout.MUSIC_CONDITIONS)
        metas = [json.loads((tiny_set / c / f"{name}.json").read_text()) for c in conditions]
        assert [m["soundfont"] for m in metas] == list(heldout.MUSIC_CONDITIONS.values())
        assert metas[0]["tracks"] == metas[1]["tracks"]  # same programs, same notes
        (a, la), (b, lb) = (read_chords(tiny_set / c / f"{name}.lab") for c in conditions)
        assert la == lb and np.allclose(a[:-1, 0], b[:-1, 0])  # only the ring-out may differ
        one, other = (sf.read(tiny_set / c / f"{name}.wav")[0] for c in conditions)
        assert not np.allclose(one[: len(other)], other[: len(one)], atol=1e-3)
