"""The context recogniser (ChordTCN) and training on excerpts of musical songs (data = music)."""

import json
import shutil

import numpy as np
import pytest
import torch
from conftest import assert_same_weights, train_interrupted

from chordscope.chords import get_vocabulary
from chordscope.errors import ParameterError
from chordscope.features import CHORD_CQT
from chordscope.fit import TrainConfig
from chordscope.io import save_model
from chordscope.models import ChordCNN, ChordTCN, build_model
from chordscope.recognise import load_recogniser, posteriors
from chordscope.runs import train_recogniser

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None, reason="fluidsynth missing (apt-get install fluidsynth)"
)


def test_tcn_sees_seconds_and_stays_rebuildable():
    m = ChordTCN(n_classes=25, dilations=(1, 2, 4)).eval()
    assert m.margin == 3 + 1 + 2 + 4  # 3 front frames + the sum of the dilations
    F = torch.zeros(73, 200)
    F[:, 100] = 5.0  # one loud frame changes outputs up to `margin` frames away, no further
    base, hit = m.frame_logits(torch.zeros(73, 200)), m.frame_logits(F)
    changed = np.flatnonzero((hit - base).abs().amax(-1).detach().numpy() > 1e-6)
    assert changed.min() == 100 - m.margin and changed.max() == 100 + m.margin
    again = build_model(json.loads(json.dumps(m.architecture)))
    assert isinstance(again, ChordTCN) and again.architecture == m.architecture


@pytest.mark.parametrize("cls", [ChordCNN, ChordTCN])
def test_sequence_logits_equal_frame_logits(cls):
    torch.manual_seed(0)
    m = cls(n_classes=25).eval()
    F = torch.rand(73, 90)
    padded = torch.cat([F[:, :1].expand(-1, 3), F, F[:, -1:].expand(-1, 3)], 1)
    with torch.no_grad():
        torch.testing.assert_close(m.sequence_logits(padded[None, None])[0], m.frame_logits(F))


def test_posteriors_of_a_tcn_in_blocks_equal_the_whole(tmp_path, rng):
    torch.manual_seed(2)
    model = ChordTCN(n_classes=25).eval()
    meta = {
        "vocabulary": get_vocabulary("majmin").to_json(),
        "features": {**CHORD_CQT.to_json(), "n_context": 3},
    }
    save_model(tmp_path, model, meta)
    rec = load_recogniser(tmp_path)
    F = rng.random((73, 700)).astype(np.float32)
    with torch.no_grad():
        whole = torch.softmax(rec.model.frame_logits(torch.from_numpy(F)), -1).numpy()
    np.testing.assert_allclose(posteriors(rec, F, batch_frames=128), whole, atol=1e-5)


def test_music_config_checks():
    with pytest.raises(ParameterError, match="ChordTCN.*music"):
        TrainConfig(model="ChordTCN", data="songs")
    with pytest.raises(ParameterError, match="model="):
        TrainConfig(model="ChordRNN")
    with pytest.raises(ParameterError, match="pitch_shift"):
        TrainConfig(data="music", pitch_shift=9)
    with pytest.raises(ParameterError, match="gain_db"):
        TrainConfig(data="music", gain_db=(6.0, -6.0))


SMALL_MUSIC = TrainConfig(
    data="music",
    model="ChordTCN",
    n_songs=3,
    steps=12,
    batch_size=4,
    seq_frames=64,
    dilations=(1, 2),
    pitch_shift=2,
    gain_db=(-6.0, 6.0),
    eq_db=3.0,
    mp3=0.5,
    reverb=0.5,
    tuning_cents=10.0,
    eval_every=6,
    checkpoint_every=6,
)


@needs_fluidsynth
def test_train_a_tcn_on_music_then_label_and_explain(tmp_path):
    from chordscope.cli import main

    out = train_recogniser(SMALL_MUSIC, tmp_path / "tcn").out
    rec = load_recogniser(out)
    assert type(rec.model).__name__ == "ChordTCN" and rec.labels[0] == "N"
    history = (out / "history.csv").read_text().splitlines()
    assert len(history) == 3  # header + steps 6 and 12
    assert main(["explain", str(out), "--out", str(tmp_path / "ex"), "--quiet"]) == 0
    e = json.loads((tmp_path / "ex" / "explanation.json").read_text())
    assert e["model"]["architecture"]["name"] == "ChordTCN" and e["model"]["n_kernels"] == 8


@needs_fluidsynth
def test_music_training_resumes_to_the_same_weights(tmp_path):
    straight = train_recogniser(SMALL_MUSIC, tmp_path / "a").out
    train_interrupted(train_recogniser, SMALL_MUSIC, tmp_path / "b", stop_after=5)
    train_recogniser(SMALL_MUSIC, tmp_path / "b", resume=True)
    assert_same_weights(straight, tmp_path / "b")


def test_train_command_takes_the_model(tmp_path, capsys):
    from chordscope.cli import main

    argv = ["train", "--data", "songs", "--model", "ChordTCN", "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    assert "use data = 'music'" in capsys.readouterr().err
    assert main(["train", "--model", "LSTM", "--out", str(tmp_path / "y")]) == 2
    assert "model=" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


@needs_fluidsynth
def test_an_additive_chord_track_joins_the_fluidsynth_mix():
    from chordscope.songs import music_song, render_music

    song = music_song(1, seed=4, n_chords=3)
    plain = render_music(song)
    a = render_music(song, additive=("chords0",), rng=np.random.default_rng(0))
    b = render_music(song, additive=("chords0",), rng=np.random.default_rng(0))
    assert a.shape == plain.shape and (a == b).all() and not np.allclose(a, plain)
    assert np.abs(a).max() == pytest.approx(0.9)


@needs_fluidsynth
def test_a_render_cache_gives_the_same_weights_without_rendering_again(tmp_path, monkeypatch):
    import chordscope.fit as fit
    import chordscope.musicdata as musicdata

    cache = tmp_path / "cache"
    fresh = train_recogniser(SMALL_MUSIC, tmp_path / "a", render_cache=cache).out
    folders = [f for f in cache.iterdir() if f.is_dir()]
    # one folder per split's settings (training songs are degraded, the others are not)
    assert len(folders) == 2 and all((f / "settings.json").is_file() for f in folders)
    assert sorted(p.name for p in cache.glob("*/*.npz"))[:3] == ["0.npz", "1.npz", "1000000.npz"]

    fit.song_pool.cache_clear()
    musicdata._rendered.cache_clear()

    def no_render(*args, **kwargs):
        raise AssertionError("a cached song was rendered again")

    monkeypatch.setattr(musicdata, "_one_song", no_render)
    again = train_recogniser(SMALL_MUSIC, tmp_path / "b", render_cache=cache).out
    assert_same_weights(fresh, again)


@needs_fluidsynth
def test_a_render_cache_renders_again_what_it_cannot_read_or_what_changed(tmp_path, monkeypatch):
    import chordscope.musicdata as musicdata

    cache = tmp_path / "cache"
    a = musicdata.song_pool("majmin", [0, 1], seed=3, cache=cache, workers=1)
    (folder,) = cache.iterdir()
    (folder / "1.npz").write_bytes(b"not a zip file")  # a torn or foreign file
    rendered = []
    real = musicdata._one_song
    monkeypatch.setattr(musicdata, "_one_song", lambda i, *a: rendered.append(i) or real(i, *a))
    musicdata._rendered.cache_clear()
    b = musicdata.song_pool("majmin", [0, 1], seed=3, cache=cache, workers=1)
    assert rendered == [1] and (a.F == b.F).all() and (a.y == b.y).all()
    musicdata.song_pool("majmin", [0], seed=3, reverb_p=1.0, cache=cache, workers=1)
    assert rendered == [1, 0] and len(list(cache.iterdir())) == 2  # other settings, other folder


def test_a_render_cache_keeps_its_songs_through_prose_edits_but_not_through_code_edits():
    from pathlib import Path

    import chordscope.songs
    from chordscope.musicdata import code_digest

    source = Path(chordscope.songs.__file__).read_text(encoding="utf-8")
    assert '"""' in source and "#" in source
    prose = source.replace('"""', '"""An edited docstring. ', 1)  # the module's docstring
    prose = prose.replace("\ndef ", "\n# a new comment\ndef ", 3)  # comments and layout
    assert prose != source and code_digest(prose) == code_digest(source)
    code = source.replace("TRAIN_BASS_PROGRAMS = (32,", "TRAIN_BASS_PROGRAMS = (31,", 1)
    assert code != source and code_digest(code) != code_digest(source)
    renamed = source.replace("def ring_out(", "def ring_out_(", 1)
    assert renamed != source and code_digest(renamed) != code_digest(source)


def test_a_render_cache_that_is_a_file_is_refused_before_anything_is_written(tmp_path, capsys):
    from chordscope.cli import main

    (tmp_path / "cache").write_text("a file")
    argv = ["train", "--data", "music", "--model", "ChordTCN", "--songs", "2", "--steps", "1",
            "--render-cache", str(tmp_path / "cache"), "--out", str(tmp_path / "run")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "render cache" in err and "not a folder" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_whitening_removes_the_envelope_keeps_the_partials_and_stays_in_the_file():
    from chordscope.models import whiten_frequency

    torch.manual_seed(0)
    partials = torch.zeros(73, 20)
    partials[[24, 28, 31, 36]] = 2.0  # a C major chord's notes (and the octave)
    floor = 1.5 * (torch.arange(73)[:, None] >= 40)  # a step in the envelope, far above them
    a = whiten_frequency((partials + 0.5)[None, None], 13)[0, 0]
    b = whiten_frequency((partials + 2.0 + floor)[None, None], 13)[0, 0]
    torch.testing.assert_close(a[:30], b[:30], atol=1e-5, rtol=1e-5)  # a level offset is gone
    tilt = torch.linspace(3.0, 0.0, 73)[:, None]  # a dark instrument's sloping envelope
    c = whiten_frequency((partials + tilt)[None, None], 13)[0, 0]
    for w in (a, c):  # the chord's notes stand out of their neighbours either way
        assert (w[[24, 28, 31, 36]] > 1.0).all() and w[[22, 26, 33]].abs().max() < 0.6
    quiet = whiten_frequency(torch.full((1, 1, 73, 4), 0.01) + 0.001 * torch.rand(1, 1, 73, 4), 13)
    assert quiet.abs().max() < 0.05  # near-silence is not blown up into noise

    m = ChordTCN(n_classes=25, dilations=(1, 2), whiten=13).eval()
    again = build_model(json.loads(json.dumps(m.architecture)))
    again.load_state_dict(m.state_dict())  # no weights of its own: the same state dict
    again.eval()
    F = torch.rand(73, 50)
    with torch.no_grad():
        torch.testing.assert_close(again.frame_logits(F), m.frame_logits(F))
        plain = ChordTCN(n_classes=25, dilations=(1, 2)).eval()
        plain.load_state_dict(m.state_dict())
        assert not torch.allclose(plain.frame_logits(F), m.frame_logits(F))
    assert "whiten" not in plain.architecture  # models without it keep their old files
    with pytest.raises(ParameterError, match="whiten=12 must be 0"):
        TrainConfig(data="music", model="ChordTCN", whiten=12)
    assert TrainConfig(data="music", model="ChordTCN", whiten=13).architecture(25)["whiten"] == 13


def test_song_seed_keeps_the_songs_while_seed_changes_weights_and_batches(monkeypatch):
    import chordscope.fit as fit
    from chordscope.musicdata import SongPool

    asked = []

    def fake_music_pool(vocab, indices, *, seed, **kwargs):  # the songs a seed would render
        asked.append(seed)
        rng = np.random.default_rng(seed)
        return SongPool(rng.random((73, 400)).astype(np.float16), rng.integers(0, 25, 400))

    monkeypatch.setattr(fit, "music_pool", fake_music_pool)
    fit.song_pool.cache_clear()
    a = TrainConfig(data="music", model="ChordTCN", n_songs=2, seed=0)
    b = TrainConfig(data="music", model="ChordTCN", n_songs=2, seed=5, song_seed=0)
    c = TrainConfig(data="music", model="ChordTCN", n_songs=2, seed=5)
    assert (a.songs_seed, b.songs_seed, c.songs_seed) == (0, 0, 5)
    xa, xb, xc = (fit._batch(config, 0, 0, 4)[0] for config in (a, b, c))
    fit.song_pool.cache_clear()
    assert asked == [1000, 1000, 1005]  # a and b share their songs, c has others
    assert not torch.equal(xa, xb)  # but b's batches follow its own seed, as c's do
    assert xb.shape == xc.shape
    with pytest.raises(ParameterError, match="song_seed=-2"):
        TrainConfig(song_seed=-2)


def test_a_harmonic_stack_lines_up_partials_and_is_read_by_explain():
    from chordscope.explain import feature_maps, first_kernels
    from chordscope.models import harmonic_stack

    x = torch.zeros(1, 1, 73, 2)
    x[0, 0, [24, 36, 43, 48, 52]] = 1.0  # C3 and its 2nd to 5th harmonics
    h = harmonic_stack(x, [0, 12, 19, 24, 28, -12])
    assert h.shape == (1, 6, 73, 2)
    assert (h[0, :5, 24] == 1.0).all()  # every harmonic lines up on the fundamental's bin
    assert h[0, 5, 36].eq(1.0).all() and h[0, 5, :12].eq(0).all()  # an octave below; zeros in
    assert h[0, 4, 45:].eq(0).all()  # nothing from beyond the top edge
    with pytest.raises(ValueError, match="begin with 0"):
        ChordCNN(harmonic_shifts=(12, 0))
    with pytest.raises(ParameterError, match="harmonic_shifts"):
        TrainConfig(data="music", model="ChordTCN", harmonic_shifts=[0, 0])

    torch.manual_seed(1)
    m = ChordTCN(n_classes=25, dilations=(1,), whiten=13, harmonic_shifts=(0, 12, 19)).eval()
    assert m.conv1.weight.shape == (m.conv1.out_channels, 3, 5, 3)
    again = build_model(json.loads(json.dumps(m.architecture)))
    again.load_state_dict(m.state_dict())
    F = torch.rand(73, 30)
    with torch.no_grad():
        torch.testing.assert_close(again.eval().frame_logits(F), m.frame_logits(F))
    assert first_kernels(m).shape == (m.conv1.out_channels, 1, 5, 3)  # the unshifted channel
    maps = feature_maps(m, F[None, None, :, :7].numpy())  # explain applies the fixed steps
    with torch.no_grad():
        want = m.conv1(m.first_layer_input(F[None, None, :, :7]))
    np.testing.assert_allclose(maps, want.numpy(), atol=1e-6)


@needs_fluidsynth
def test_a_recogniser_with_fixed_input_steps_trains_labels_and_explains(tmp_path):
    from dataclasses import replace

    from chordscope.cli import main

    config = replace(SMALL_MUSIC, whiten=13, harmonic_shifts=(0, 12, 19, 24))
    out = train_recogniser(config, tmp_path / "h").out
    rec = load_recogniser(out)
    assert rec.model.architecture["harmonic_shifts"] == [0, 12, 19, 24]
    assert rec.model.architecture["whiten"] == 13
    assert main(["explain", str(out), "--out", str(tmp_path / "ex"), "--quiet"]) == 0
    e = json.loads((tmp_path / "ex" / "explanation.json").read_text())
    assert e["model"]["n_kernels"] == 8 and len(e["kernels"]) == 8
