"""Musical training songs (chordscope.songs) and their data path (chordscope.musicdata)."""

import shutil
from dataclasses import replace

import numpy as np
import pytest

from chordscope.augment import augment, rotate_classes
from chordscope.chords import PITCH_NAMES, get_vocabulary, parse_label
from chordscope.errors import ParameterError
from chordscope.musicdata import SongPool, excerpts, song_pool
from chordscope.songs import (
    EVAL_SEED,
    MORE_CHORD_PROGRAMS,
    TRAIN_BASS_PROGRAMS,
    TRAIN_CHORD_PROGRAMS,
    TRAIN_LEAD_PROGRAMS,
    music_song,
    progression,
    render_music,
    voice,
)

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None, reason="fluidsynth missing (apt-get install fluidsynth)"
)


def test_progressions_are_valid_harte_and_every_writer_occurs():
    writers = set()
    for s in range(60):
        key, writer, labels = progression(np.random.default_rng(s), 12)
        writers.add(writer)
        assert len(labels) >= 12
        for lab in labels:
            parse_label(lab)  # raises on invalid Harte
    assert writers == {"functional", "loop", "blues", "jazz", "modal"}


def test_blues_is_in_dominant_sevenths():
    for s in range(200):
        key, writer, labels = progression(np.random.default_rng(s), 12)
        if writer == "blues" and key.endswith("maj"):
            assert all(lab.split(":")[1] in ("7", "9", "13") for lab in labels)
            roots = {parse_label(lab)[0] for lab in labels}
            tonic = parse_label(key)[0]
            assert roots == {tonic, (tonic + 5) % 12, (tonic + 7) % 12}
            return
    pytest.fail("no major blues in 200 draws")


@pytest.mark.parametrize(
    "style,label,want",
    [
        ("shell", "G:7", {7, 11, 5}),  # root, third, seventh: no fifth
        ("rootless", "D:min7", {5, 9, 0}),  # third, fifth, seventh (and maybe the ninth), no root
        ("close", "C:maj", {0, 4, 7}),
    ],
)
def test_voicings_hold_the_chord_tones_players_use(style, label, want):
    for s in range(20):
        pcs = {p % 12 for p in voice(label, style, np.random.default_rng(s))}
        assert want <= pcs
        if style == "rootless":
            assert parse_label(label)[0] not in pcs
        if style == "shell":
            assert (parse_label(label)[0] + 7) % 12 not in pcs


def test_guitar_shapes_lie_on_a_guitar():
    for root in range(12):
        p = voice(f"{['C','C#','D','D#','E','F','F#','G','G#','A','A#','B'][root]}:min", "guitar",
                  np.random.default_rng(0))  # fmt: skip
        assert 40 <= min(p) and max(p) <= 40 + 24 + 12 and min(p) % 12 == root
        assert {(root + 3) % 12, (root + 7) % 12} <= {q % 12 for q in p}


def test_songs_are_seeded_and_labelled_with_what_sounds():
    a, b = music_song(3, seed=5), music_song(3, seed=5)
    assert a.chords == b.chords and a.tracks == b.tracks
    assert music_song(4, seed=5).chords != a.chords
    assert a.chords[0][2] == "N" and a.chords[-1][2] == "N"
    starts = [c[0] for c in a.chords]
    assert starts == sorted(starts) and all(c[1] > c[0] for c in a.chords)
    with pytest.raises(ParameterError, match="evaluation"):
        music_song(0, seed=EVAL_SEED)


def test_slash_chords_put_their_bass_in_the_bass_line():
    found = 0
    for i in range(80):
        song = music_song(i, seed=2)
        bass = [t for t in song.tracks if t[0] == "bass"]
        if not bass:
            continue
        for start, _end, lab in song.chords:
            root, _, bass_iv = parse_label(lab)
            if bass_iv > 0:
                first = [p for p, on, _, _ in bass[0][3] if abs(on - start) < 1e-9]
                assert first and first[0] % 12 == (root + bass_iv) % 12
                found += 1
    assert found > 5


def test_training_programs_are_not_the_held_out_ones():
    heldout = pytest.importorskip("chordscope.heldout")
    train = set(TRAIN_CHORD_PROGRAMS) | set(TRAIN_BASS_PROGRAMS) | set(TRAIN_LEAD_PROGRAMS)
    held = (
        set(heldout.HELD_OUT_CHORD_PROGRAMS)
        | set(heldout.HELD_OUT_BASS_PROGRAMS)
        | set(heldout.HELD_OUT_LEAD_PROGRAMS)
    )
    assert not train & held
    for i in range(30):
        assert not {t[1] for t in music_song(i, seed=9).tracks if not t[2]} & held


def test_extra_programs_join_the_chord_instruments_and_nothing_else():
    extra = (107, 108)  # koto, kalimba: struck and plucked, in neither list
    assert not set(extra) & set(TRAIN_CHORD_PROGRAMS) and set(extra) <= set(MORE_CHORD_PROGRAMS)
    seen, isolated = set(), set()
    for i in range(80):
        plain, more = music_song(i, seed=11), music_song(i, seed=11, extra_programs=extra)
        assert [c[2] for c in plain.chords] == [c[2] for c in more.chords]  # same harmony
        for name, prog, drum, _ in more.tracks:
            if name.startswith("chords"):
                assert prog in TRAIN_CHORD_PROGRAMS or prog in extra
                seen.add(prog)
                if more.writer == "isolated":
                    isolated.add(prog)
            elif not drum:  # bass, lead and counter-voice keep their own lists
                assert prog not in extra
        assert music_song(i, seed=11, extra_programs=()).tracks == plain.tracks
    assert set(extra) <= seen and isolated & set(extra)
    with pytest.raises(ParameterError, match="extra_programs="):
        song_pool("majmin", [0], seed=11, extra_programs=(12, 128))


def test_rotate_classes_moves_roots_and_keeps_n():
    v = get_vocabulary("sevenths")
    y = np.array([0, -1, v.index("B:hdim7"), v.index("C:maj")])
    r = rotate_classes(y, 1, v)
    assert r[0] == 0 and r[1] == -1
    assert v.labels[r[2]] == "C:hdim7" and v.labels[r[3]] == "C#:maj"


def test_augment_gain_is_the_log_cqt_of_louder_audio():
    from chordscope.features import CHORD_CQT, log_cqt
    from chordscope.synth import sine_chord

    y = sine_chord([220.0, 277.2, 329.6], duration=0.5, sr=CHORD_CQT.sr)
    F = log_cqt(y)[None]
    X, _ = augment(F, np.zeros((1, 1), np.int64), get_vocabulary("majmin"),
                   np.random.default_rng(0), gain_db=(-6.0, -6.0))  # fmt: skip
    # the ±3 dB ramp makes the gain -6 dB only at the middle frame
    mid = F.shape[-1] // 2
    want = log_cqt(y * 10 ** (-6 / 20))[:, mid]
    np.testing.assert_allclose(X[0, :, mid], want, atol=0.05)


def test_augment_pitch_shift_moves_bins_and_labels_together():
    v = get_vocabulary("majmin")
    X = np.zeros((64, 73, 3), np.float32)
    X[:, 40] = 1.0  # one bin lit
    Y = np.full((64, 1), v.index("A:min"))
    X2, Y2 = augment(X, Y, v, np.random.default_rng(1), pitch_shift=3)
    shifts = X2.argmax(axis=1)[:, 0] - 40
    assert set(shifts) == {-3, -2, -1, 0, 1, 2, 3}
    for s, y in zip(shifts, Y2[:, 0], strict=True):
        assert v.labels[y] == f"{PITCH_NAMES[(9 + s) % 12]}:min"


def test_augment_harmonics_is_the_log_cqt_of_a_brighter_note():
    from chordscope.features import CHORD_CQT, log_cqt
    from chordscope.synth import sine_chord

    v = get_vocabulary("majmin")
    g2 = 440.0 * 2 ** ((43 - 69) / 12)  # G2
    F = log_cqt(sine_chord([g2], duration=1.0, sr=CHORD_CQT.sr))[None]
    Y = np.full((1, 4), v.index("G:min"))
    X, Y2 = augment(F, Y, v, np.random.default_rng(3), harmonics=1.0)
    assert (Y2 == Y).all()  # the labels stay: the chord is what was played
    mid, g2_bin = F.shape[-1] // 2, 19  # bin 0 is C1
    gains = np.random.default_rng(3).random(6)[1:] ** 2  # the draws add_harmonics makes
    M = np.expm1(F[0, :, mid].astype(np.float64))
    want = M.copy()
    for shift, g in zip((12, 19, 24, 28, 31), gains, strict=True):
        want[shift:] += g * M[:-shift]  # each bin also holds the bins below it, times the gains
    np.testing.assert_allclose(X[0, :, mid], np.log1p(want), rtol=1e-4, atol=1e-5)
    for shift in (12, 19, 24, 28, 31):
        assert want[g2_bin + shift] > 10 * M[g2_bin + shift]  # a sine had nothing there
    assert X[0, g2_bin + 28, mid] > F[0, g2_bin + 28, mid]  # B4 now sounds over a G bass


def test_augment_without_harmonics_draws_what_it_drew_before():
    # harmonics = 0 (every configuration before it existed) makes no draw: old runs repeat
    v = get_vocabulary("majmin")
    X = np.random.default_rng(0).uniform(0, 2, (8, 73, 5)).astype(np.float32)
    Y = np.full((8, 3), 1)
    a = augment(X, Y, v, np.random.default_rng(5), pitch_shift=2, gain_db=(-6, 6), eq_db=3.0)
    b = augment(X, Y, v, np.random.default_rng(5), pitch_shift=2, gain_db=(-6, 6), eq_db=3.0,
                harmonics=0.0)  # fmt: skip
    np.testing.assert_array_equal(a[0], b[0])
    c = augment(X, Y, v, np.random.default_rng(5), pitch_shift=2, gain_db=(-6, 6), eq_db=3.0,
                harmonics=0.5)  # fmt: skip
    assert not np.array_equal(a[0], c[0])
    d = augment(X, Y, v, np.random.default_rng(5), pitch_shift=2, gain_db=(-6, 6), eq_db=3.0,
                harmonics=0.0, smear=0.0)  # fmt: skip
    np.testing.assert_array_equal(a[0], d[0])


def test_freq_mask_silences_one_band_in_a_share_of_excerpts_after_the_shift():
    v = get_vocabulary("majmin")
    X = np.random.default_rng(1).uniform(0.5, 2, (400, 73, 4)).astype(np.float32)
    Y = np.full((400, 2), v.index("D:min"))
    plain = augment(X, Y, v, np.random.default_rng(3), pitch_shift=2, gain_db=(-6, 6))
    masked = augment(X, Y, v, np.random.default_rng(3), pitch_shift=2, gain_db=(-6, 6),
                     freq_mask=0.5)  # fmt: skip
    np.testing.assert_array_equal(plain[1], masked[1])  # the same shifts: labels as before
    changed = [j for j in range(400) if not np.array_equal(plain[0][j], masked[0][j])]
    assert 0.4 < len(changed) / 400 < 0.6
    widths = []
    for j in changed:
        gone = np.flatnonzero((masked[0][j] == 0).all(axis=1) & (plain[0][j] != 0).any(axis=1))
        assert len(gone) and np.all(np.diff(gone) == 1)  # one band, whole excerpt long
        keep = np.ones(73, bool)
        keep[gone] = False
        np.testing.assert_array_equal(masked[0][j][keep], plain[0][j][keep])  # nothing else
        widths.append(len(gone))
    assert min(widths) >= 1 and max(widths) <= 12 and len(set(widths)) > 5


def test_augment_smear_spreads_each_note_to_its_neighbours_alike():
    v = get_vocabulary("majmin")
    X = np.zeros((200, 73, 2), np.float32)
    X[:, 40] = 2.0  # one note
    Y = np.full((200, 1), v.index("E:maj"))
    X2, Y2 = augment(X, Y, v, np.random.default_rng(0), smear=0.5)
    assert (Y2 == Y).all()
    below, above = np.expm1(X2[:, 39, 0]), np.expm1(X2[:, 41, 0])
    np.testing.assert_allclose(below, above, rtol=1e-5)  # a blur, not a shift
    ratio = below / np.expm1(2.0)
    assert 0.35 < np.mean(ratio > 0) < 0.65 and ratio.max() <= 0.5 + 1e-6  # half, a <= 0.5
    assert (X2[:, 38] == 0).all() and (X2[:, 40] == X[:, 40]).all()  # nothing else moves


def test_excerpts_align_inputs_and_labels():
    F = np.arange(20, dtype=np.float16)[None].repeat(73, 0)
    pool = SongPool(F=F, y=np.arange(20, dtype=np.int16))
    X, Y = excerpts(pool, [2, 5], 4, 7)
    assert X.shape == (2, 73, 10) and Y.tolist() == [[5, 6, 7, 8], [8, 9, 10, 11]]
    assert X[0, 0, 3] == 5  # the centre of the first labelled frame's window


@needs_fluidsynth
def test_song_pool_is_deterministic_and_labelled():
    from chordscope.musicdata import song_pool

    a = song_pool("majmin", [0, 1], seed=3, reverb_p=1.0, mp3_p=1.0, tuning_cents=20, workers=2)
    b = song_pool("majmin", [0, 1], seed=3, reverb_p=1.0, mp3_p=1.0, tuning_cents=20, workers=1)
    assert a.F.shape[0] == 73 and (a.F == b.F).all() and (a.y == b.y).all()
    assert (a.y >= 0).mean() > 0.8 and a.y.max() < 25
    s = song_pool("sevenths", [0, 1], seed=3, reverb_p=1.0, mp3_p=1.0, tuning_cents=20)
    assert (s.F == a.F).all() and s.y.max() < 133


def test_chords_outside_the_vocabulary_are_learnt_by_root_and_third():
    from chordscope.musicdata import target_label

    mm, sev = get_vocabulary("majmin"), get_vocabulary("sevenths")
    assert target_label("B:dim", mm) == "B:min" and target_label("C#:dim7", mm) == "C#:min"
    assert target_label("E:aug", mm) == "E:maj" and target_label("G:sus4", mm) == "G:sus4"
    assert target_label("G:7", mm) == "G:7"  # in the vocabulary through its reduction
    assert target_label("B:hdim7", sev) == "B:hdim7"  # the sevenths vocabulary holds it


def test_additive_track_plays_the_notes_in_tune_and_stops():
    from chordscope.features import CHORD_CQT, cqt
    from chordscope.songs import additive_track

    for s in range(5):
        y = additive_track([(57, 0.1, 0.8, 1.0), (61, 0.1, 0.8, 0.8), (64, 0.1, 0.8, 0.8)],
                           duration=3.0, sr=16000, rng=np.random.default_rng(s))  # fmt: skip
        C = cqt(y, config=CHORD_CQT)
        frame = C[:, int(0.4 * CHORD_CQT.sr / CHORD_CQT.hop_length)]
        # A3, C#4, E4 are bins 33, 37, 40 above C1 (MIDI 24): nothing sounds below A3
        assert frame[:32].max() < 0.1 * frame.max()
        assert (frame[[33, 37, 40]] > 0.1 * frame.max()).all()
        # the release (at most 0.3 s, cut after five time constants) ends by 0.8 + 1.5 s
        assert not y[int(2.31 * 16000) :].any() and y[int(0.85 * 16000)] != 0


def test_counter_voice_adds_a_line_with_suspensions_and_leaves_the_rest():
    from chordscope.songs import _tones, music_song

    held_over = sounded = 0
    for i in range(12):
        plain = music_song(i, seed=3)
        assert music_song(i, seed=3, counter=0.0).tracks == plain.tracks  # no draw when off
        song = music_song(i, seed=3, counter=1.0)
        assert song.chords == plain.chords  # the labels stay the chords
        extra = [t for t in song.tracks if t[0] == "counter"]
        assert song.tracks[: len(plain.tracks)] == plain.tracks and len(extra) <= 1
        if not extra:  # the single-chord recordings get no counter-voice
            continue
        for pitch, start, _, _ in extra[0][3]:
            assert 50 <= pitch <= 72
            lab = next(c[2] for c in song.chords if c[0] <= start < c[1])
            root, ivs = _tones(lab)
            sounded += 1
            if any(abs(start - c[0]) < 1e-9 for c in song.chords):  # on a chord change
                held_over += (pitch - root) % 12 not in {i % 12 for i in ivs}
    assert sounded > 50 and held_over > 0  # suspensions: non-chord tones on the downbeat


def test_fm_track_is_seeded_centred_on_the_notes_with_sidebands_under_nyquist():
    from chordscope.features import CHORD_CQT, cqt
    from chordscope.songs import FM_RATIOS, fm_track

    notes = [(45, 0.1, 0.8, 1.0), (64, 0.1, 0.8, 0.7)]  # A2 and E4: bins 21 and 40 above C1
    bright = sounding = 0
    for s in range(8):
        y = fm_track(notes, duration=3.0, sr=16000, rng=np.random.default_rng(s))
        assert (y == fm_track(notes, duration=3.0, sr=16000, rng=np.random.default_rng(s))).all()
        # the release (at most 0.3 s, cut after five time constants) ends by 0.8 + 1.5 s
        assert np.isfinite(y).all() and not y[int(2.31 * 16000) :].any()
        C = cqt(y, config=CHORD_CQT)
        frame = C[:, int(0.3 * CHORD_CQT.sr / CHORD_CQT.hop_length)]
        sounding += (frame[[21, 40]] > 0.05 * frame.max()).all()  # both notes sound
        bright += frame[45:].max() > 0.1 * frame.max()  # sidebands above the upper note
        # no aliasing: the spectrum above 7.9 kHz (sidebands folded back) stays empty
        spectrum = np.abs(np.fft.rfft(y[1600:12800] * np.hanning(11200)))
        assert spectrum[int(7900 * 11200 / 16000) :].max() < 1e-4 * spectrum.max()
    # an index near a zero of the Bessel function J0 silences a carrier: most notes still sound
    assert sounding >= 6 and bright >= 3 and 1.0 in FM_RATIOS


def test_fm_tracks_draw_nothing_when_off_and_name_real_tracks():
    from chordscope.musicdata import fm_tracks
    from chordscope.songs import music_song

    chosen = []
    for i in range(40):
        song = music_song(i, seed=5)
        assert fm_tracks(song, 5, i, 0.0) == ()
        names = fm_tracks(song, 5, i, 1.0)
        assert names and set(names) <= {t[0] for t in song.tracks}
        assert fm_tracks(song, 5, i, 1.0) == names  # its own seeded stream
        chosen += names
    assert {"bass", "chords0"} <= set(chosen)


@needs_fluidsynth
def test_fm_changes_only_the_chosen_songs_of_a_pool():
    from chordscope.musicdata import fm_tracks, song_pool
    from chordscope.songs import music_song

    plain = song_pool("majmin", [0, 1, 2, 3], seed=3, workers=2)
    with_fm = song_pool("majmin", [0, 1, 2, 3], seed=3, fm=0.5, workers=2)
    assert (plain.y == with_fm.y).all()  # the labels are what was played
    chosen = [bool(fm_tracks(music_song(i, seed=3), 3, i, 0.5)) for i in range(4)]
    assert any(chosen) and not all(chosen)
    assert not (plain.F == with_fm.F).all()
    with pytest.raises(ParameterError, match="fm="):
        song_pool("majmin", [0], seed=3, fm=1.5)


def test_augment_bass_harmonics_copies_the_bass_alone():
    from chordscope.augment import BASS_BINS

    v = get_vocabulary("majmin")
    X = np.zeros((1, 73, 3), np.float32)
    X[0, 19] = 2.0  # G2, in the bass register
    X[0, 46] = 2.0  # A#4, a chord tone above it
    Y = np.full((1, 2), v.index("G:min"))
    X2, Y2 = augment(X, Y, v, np.random.default_rng(3), bass_harmonics=1.0)
    assert (Y2 == Y).all() and BASS_BINS == 24
    gains = np.random.default_rng(3).random(6)[1:] ** 2  # the draws add_harmonics makes
    got = np.expm1(X2[0, :, 0].astype(np.float64))
    want = np.expm1(X[0, :, 0].astype(np.float64))
    for shift, g in zip((12, 19, 24, 28, 31), gains, strict=True):
        want[19 + shift] += g * np.expm1(2.0)  # the bass's overtones: G3 D4 G4 B4 D5
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)  # A#4 has no copies above it
    # off draws nothing (a run without it repeats); on, it changes the batch
    a = augment(X, Y, v, np.random.default_rng(5), pitch_shift=2)
    b = augment(X, Y, v, np.random.default_rng(5), pitch_shift=2, bass_harmonics=0.0)
    np.testing.assert_array_equal(a[0], b[0])


def _decaying(sr, seconds, per_s):
    t = np.arange(int(seconds * sr)) / sr
    return np.sin(2 * np.pi * 220 * t) * np.exp(-per_s * t)


def test_ring_out_labels_a_chord_until_its_sound_has_fallen_30_db():
    from chordscope.songs import ring_out

    sr = 16000
    y = _decaying(sr, 3.0, 2.0)  # 17.4 dB a second: 30 dB down after about 1.7 s
    chords = [(0.0, 0.5, "A:maj"), (0.5, 3.0, "N")]
    out = ring_out(chords, y, sr)
    assert out[0][0] == 0.0 and out[-1] == (out[0][1], 3.0, "N")  # still a tiling
    assert abs(out[0][1] - 30 / (20 * 2.0 * np.log10(np.e))) < 0.1
    assert ring_out(chords, y, sr, drop_db=10)[0][1] < out[0][1]
    # noise that will cover the tail ends the chord where the tail sinks under it
    floored = ring_out(chords, y, sr, floor=10 ** (-10 / 20) * np.sqrt(0.5))
    assert abs(floored[0][1] - 10 / (20 * 2.0 * np.log10(np.e))) < 0.1


def test_ring_out_fills_a_gap_the_sound_rings_through_and_leaves_chord_changes():
    from chordscope.songs import ring_out

    sr = 16000
    y = _decaying(sr, 3.0, 0.5)  # 4 dB a second: rings through a 0.5 s gap
    chords = [(0.0, 0.2, "N"), (0.2, 1.0, "A:maj"), (1.0, 1.5, "N"), (1.5, 2.0, "C:maj"),
              (2.0, 3.0, "D:min")]  # fmt: skip
    out = ring_out(chords, y, sr)
    assert out == [(0.0, 0.2, "N"), (0.2, 1.5, "A:maj"), (1.5, 2.0, "C:maj"), (2.0, 3.0, "D:min")]
    silent = ring_out(chords, np.zeros_like(y), sr)  # nothing sounds: nothing to extend
    assert silent == chords


@needs_fluidsynth
def test_ring_out_db_relabels_single_chord_songs_and_leaves_their_audio():
    from chordscope.musicdata import RenderSettings, _one_song, song_pool

    i = next(i for i in range(40) if music_song(i, seed=7).writer == "isolated")
    r = RenderSettings(seed=7, soundfonts=("fluidr3",), snr_db=(10.0, 40.0), tuning_cents=15.0)
    F0, c0 = _one_song(i, r)
    F1, c1 = _one_song(i, replace(r, ring_out_db=30.0))
    assert np.array_equal(F0, F1) and c0 == music_song(i, seed=7).chords
    assert c1 != c0 and c1[0][0] == 0.0 and c1[-1][1] == c0[-1][1]
    assert all(a[1] == b[0] for a, b in zip(c1, c1[1:], strict=False))  # a tiling
    ends = {start: end for start, end, lab in c0 if lab != "N"}
    grown = [end - ends[start] for start, end, lab in c1 if lab != "N"]
    assert min(grown) >= 0 and max(grown) > 0.05
    other = next(j for j in range(40) if music_song(j, seed=7).writer != "isolated")
    assert _one_song(other, r)[1] == _one_song(other, replace(r, ring_out_db=30.0))[1]
    with pytest.raises(ParameterError, match="ring_out_db"):
        song_pool("majmin", [i], seed=7, ring_out_db=100.0)


@needs_fluidsynth
def test_ring_out_songs_labels_every_songs_last_chord_on_its_harmony_after_the_room():
    from chordscope.musicdata import RenderSettings, _one_song, song_pool

    # song 4 of seed 1000: a chord instrument, a bass, a lead and drums that play into the tail
    song = music_song(4, seed=1000)
    assert [t[0] for t in song.tracks] == ["chords0", "bass", "lead", "drums"]
    y, h = render_music(song, rng=np.random.default_rng(0), harmony=True)
    assert np.array_equal(y, render_music(song, rng=np.random.default_rng(0)))  # same audio
    rest = y - h  # lead and drums, on the same scale
    tail = slice(int((song.chords[-1][0] + 0.3) * 16000), int((song.chords[-1][0] + 0.45) * 16000))
    assert np.sqrt(np.mean(rest[tail] ** 2)) > 30 * np.sqrt(np.mean(h[tail] ** 2))
    r = RenderSettings(  # reverb always
        seed=1000,
        soundfonts=("fluidr3",),
        snr_db=(10.0, 40.0),
        reverb=1.0,
        tuning_cents=15.0,
        ring_out_db=30.0,
    )
    F0, c0 = _one_song(4, r)
    F1, c1 = _one_song(4, replace(r, ring_out_songs=True))
    assert np.array_equal(F0, F1) and c0 == song.chords  # audio unchanged, old labels unchanged
    assert c1[:-2] == c0[:-2] and c1[-2][2] == c0[-2][2] and c1[-1][1] == c0[-1][1]
    assert c1[-2][1] > c0[-2][1] + 0.05  # the last chord rings on (through the room) ...
    drums_end = max(n[1] for n in song.tracks[3][3])
    assert c1[-1][2] == "N" and c1[-1][0] < drums_end - 0.3  # ... and dies before the drums stop
    dry = _one_song(4, replace(r, reverb=0.0, ring_out_songs=True))[1]  # no room: a shorter ring
    assert c1[-2][1] > dry[-2][1] > c0[-2][1]
    with pytest.raises(ParameterError, match="ring_out_songs needs"):
        song_pool("majmin", [4], seed=1000, ring_out_songs=True)


def test_inversions_invert_more_chords_and_play_their_bass_lowest():
    from chordscope.chords import PITCH_NAMES as NAMES

    seen_isolated = 0
    for i in range(60):
        plain, more = music_song(i, seed=7), music_song(i, seed=7, inversions=0.5)
        assert (plain.writer, plain.tempo) == (more.writer, more.tempo)
        a, b = [c[2] for c in plain.chords], [c[2] for c in more.chords]
        assert [x.split("/")[0] for x in a] == [y.split("/")[0] for y in b]  # same harmony
        assert all("/" in y for x, y in zip(a, b, strict=True) if "/" in x)  # writers' kept
        if more.writer != "isolated":
            continue
        seen_isolated += 1
        notes = more.tracks[0][3]
        for start, _, lab in more.chords:
            if "/" not in lab:
                continue
            lowest = min(p for p, on, _, _ in notes if abs(on - start) < 0.05)
            root, _, bass = parse_label(lab)
            assert lowest % 12 == (root + int(bass)) % 12, (i, lab, NAMES[lowest % 12])
    assert seen_isolated >= 5
    inverted = [
        sum("/" in c[2] for c in music_song(i, seed=7, inversions=p).chords)
        for p in (0.0, 0.5)
        for i in range(60)
    ]
    assert sum(inverted[60:]) > 2.5 * sum(inverted[:60])
