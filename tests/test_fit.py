"""chordscope train: configuration, run folder, resume, and DDP on two local processes."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from conftest import assert_same_weights, train_interrupted
from safetensors.torch import load_file

from chordscope.cli import main
from chordscope.errors import ParameterError
from chordscope.fit import TrainConfig, load_config, train_chords
from chordscope.runs import train_recogniser

SMALL = TrainConfig(steps=12, batch_size=32, n_val=64, n_test=64, eval_every=6, checkpoint_every=6)


def test_train_writes_a_run_folder(tmp_path):
    out = train_recogniser(SMALL, tmp_path / "run").out
    names = {p.name for p in out.iterdir()}
    assert {
        "model.safetensors",
        "model.json",
        "metrics.json",
        "history.csv",
        "report.html",
        "figures",
    } <= names
    m = json.loads((out / "metrics.json").read_text())
    assert m["steps"] == 12 and 0 <= m["test_accuracy"] <= 1 and m["examples_per_second"] > 0
    meta = json.loads((out / "model.json").read_text())
    assert meta["architecture"]["name"] == "ChordCNN" and meta["vocabulary"]["name"] == "majmin"
    assert len(meta["vocabulary"]["labels"]) == 25


def test_resume_gives_the_same_weights_as_one_run(tmp_path):
    straight = train_recogniser(SMALL, tmp_path / "a").out
    train_interrupted(train_recogniser, SMALL, tmp_path / "b", stop_after=7)
    assert json.loads((tmp_path / "b" / "checkpoint" / "checkpoint.json").read_text())["step"] == 7
    assert not (tmp_path / "b" / "model.safetensors").exists()
    train_recogniser(SMALL, tmp_path / "b", resume=True)
    assert_same_weights(straight, tmp_path / "b")


def test_resume_errors(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "--steps", "4", "--out", str(empty), "--resume", "--quiet"]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    train_recogniser(
        TrainConfig(steps=2, batch_size=16, n_val=32, n_test=32, channels=(4, 8, 8)),
        tmp_path / "other",
    )
    before = (tmp_path / "other" / "model.safetensors").read_bytes()
    assert (
        main(["train", "--steps", "4", "--out", str(tmp_path / "other"), "--resume", "--quiet"])
        == 2
    )
    assert "different model" in capsys.readouterr().err
    assert (tmp_path / "other" / "model.safetensors").read_bytes() == before
    assert main(["train", "--steps", "4", "--out", str(tmp_path / "other"), "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err


def test_config_file(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('vocab = "sevenths"\nsteps = 5\nsynths = ["additive", "sine"]\nlr = 1\n')
    c = load_config(good, seed=3)
    assert (
        c.vocab == "sevenths" and c.steps == 5 and c.synths == ("additive", "sine") and c.seed == 3
    )
    for text, match in [
        ("stepz = 5\n", "unknown key 'stepz'"),
        ('steps = "many"\n', "key 'steps' must be int"),
        ("synths = 3\n", "key 'synths' must be a list"),
        ("steps = true\n", "key 'steps' must be int"),
        ('vocab = "jazz"\n', "vocab='jazz'"),
        ("steps = [\n", "not a valid TOML"),
    ]:
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(ParameterError, match=match):
            load_config(bad)


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--vocab", "jazz"], "vocab='jazz'"),
        (["--synth", "fm"], "synth='fm'"),
        (["--steps", "0"], "steps=0"),
        (["--config", "/no/such.toml"], "no such config file"),
        (["--data", "films"], "data='films'"),
        (["--epochs", "2"], "epochs need a fixed training set"),
        (["--data", "songs", "--epochs", "1", "--steps", "5"], "not both"),
    ],
)
def test_train_bad_arguments(tmp_path, capsys, argv, match):
    out = tmp_path / "o"
    assert main(["train", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chordscope: error:") and match in err and err.count("\n") == 1
    assert not out.exists()


def _torchrun(*args, timeout=600):
    """Run ``torchrun --standalone --nproc_per_node 2 ARGS`` on this machine, one thread each."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [*cmd, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_ddp_two_processes_equal_each_other_and_a_sharded_single_process(tmp_path):
    weights = tmp_path / "w"
    weights.mkdir()
    worker = Path(__file__).with_name("ddp_worker.py")
    proc = _torchrun(worker, tmp_path / "run", weights)
    assert proc.returncode == 0, proc.stderr[-2000:]
    r0 = load_file(str(weights / "rank0.safetensors"))
    r1 = load_file(str(weights / "rank1.safetensors"))
    params = [k for k in r0 if "running" not in k and "num_batches" not in k]
    for k in params:
        torch.testing.assert_close(r0[k], r1[k], rtol=0, atol=0)
    config = TrainConfig(steps=4, batch_size=32, n_val=64, n_test=64, eval_every=2, snr_db=())
    single = train_chords(config, tmp_path / "single", shards=2).model
    ref = single.state_dict()
    for k in params:
        torch.testing.assert_close(r0[k], ref[k], rtol=1e-4, atol=1e-5)
    assert (tmp_path / "run" / "model.safetensors").is_file()  # rank 0 wrote the run folder


def test_ddp_existing_output_stops_every_rank(tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    proc = _torchrun(
        "-m", "chordscope", "train", "--steps", 2, "--out", out, "--quiet", timeout=300
    )
    assert proc.returncode != 0
    assert proc.stderr.count("exists; pass --force") == 2  # both ranks, no rendezvous timeout
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.skipif(
    __import__("shutil").which("fluidsynth") is None, reason="fluidsynth missing (apt-get)"
)
def test_train_on_song_frames_labels_audio(tmp_path):
    from chordscope.fit import song_pool
    from chordscope.recognise import load_recogniser

    config = TrainConfig(
        data="songs",
        n_songs=3,
        steps=30,
        batch_size=64,
        n_val=128,
        n_test=128,
        eval_every=10,
        checkpoint_every=30,
    )
    pool = song_pool(config)
    assert len(pool) > 500 and pool.windows([0, 1]).shape == (2, 1, 73, 7)
    assert (pool.y >= 0).all() and (pool.y < 25).all()
    # the splits never share a song: their spectrograms differ
    val = song_pool(config, "validation")
    assert val.F.shape != pool.F.shape or not (val.F == pool.F).all()
    out = train_recogniser(config, tmp_path / "songs").out
    history = [line.split(",") for line in (out / "history.csv").read_text().splitlines()[1:]]
    # step, train_loss, val_accuracy, val_loss: three songs are learnt, unseen ones beat chance
    assert float(history[-1][1]) < 0.5 * float(history[0][1])
    assert float(history[-1][2]) > 3 / 25
    rec = load_recogniser(out)
    assert rec.labels[0] == "N" and rec.n_context == 3


def test_epochs_resolve_to_steps_over_the_pool(tmp_path):
    config = TrainConfig(n_pool=96, epochs=2, batch_size=32, n_val=32, n_test=32, eval_every=2)
    out = train_recogniser(config, tmp_path / "pool").out
    m = json.loads((out / "metrics.json").read_text())
    assert m["steps"] == 6  # 2 passes over 96 clips in batches of 32


def test_songs_config_checks():
    with pytest.raises(ParameterError, match="data="):
        TrainConfig(data="films")
    with pytest.raises(ParameterError, match="n_songs"):
        TrainConfig(data="songs", n_songs=0)


@pytest.mark.parametrize(
    "key",
    ["harmonics", "smear", "counter_voice", "fm", "bass_harmonics", "inversions", "freq_mask"],
)
@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "half", True])
def test_the_music_data_options_are_probabilities(key, value):
    with pytest.raises(ParameterError, match=f"{key}="):
        TrainConfig(data="music", model="ChordTCN", **{key: value})
    TrainConfig(data="music", model="ChordTCN", **{key: 0.25})  # a probability is fine


def test_extra_programs_refuse_held_out_and_non_programs():
    from chordscope.heldout import HELD_OUT_BASS_PROGRAMS, HELD_OUT_CHORD_PROGRAMS

    ok = TrainConfig(data="music", model="ChordTCN", extra_programs=[12, 107], channels=[8, 8, 8])
    assert ok.extra_programs == (12, 107) and hash(ok) == hash(replace(ok))  # lists: tuples
    for held in (HELD_OUT_CHORD_PROGRAMS[0], HELD_OUT_BASS_PROGRAMS[-1]):
        with pytest.raises(ParameterError, match="held out"):
            TrainConfig(data="music", model="ChordTCN", extra_programs=[12, held])
    for bad in ([128], [-1], ["koto"], [1.5]):
        with pytest.raises(ParameterError, match="extra_programs="):
            TrainConfig(data="music", model="ChordTCN", extra_programs=bad)
    with pytest.raises(ParameterError, match="data = 'music'"):
        TrainConfig(data="songs", extra_programs=[12])


@pytest.mark.parametrize("value", [-1.0, 81.0, float("nan"), "loud", True])
def test_ring_out_db_is_a_level_drop_in_decibels(value):
    with pytest.raises(ParameterError, match="ring_out_db="):
        TrainConfig(data="music", model="ChordTCN", ring_out_db=value)
    assert TrainConfig(data="music", model="ChordTCN", ring_out_db=30).ring_out_db == 30


def test_ring_out_songs_is_a_switch_that_needs_a_level():
    with pytest.raises(ParameterError, match="ring_out_songs="):
        TrainConfig(data="music", model="ChordTCN", ring_out_db=30, ring_out_songs="yes")
    with pytest.raises(ParameterError, match="needs ring_out_db"):
        TrainConfig(data="music", model="ChordTCN", ring_out_songs=True)
    assert TrainConfig(data="music", model="ChordTCN", ring_out_db=30, ring_out_songs=True)


def test_a_bad_music_option_in_a_config_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('data = "music"\nmodel = "ChordTCN"\nsmear = 2.0\n')
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "smear=2.0" in err[0] and not (tmp_path / "r").exists()


def test_the_config_holds_its_dataset_and_the_dataset_its_features():
    from dataclasses import fields, replace

    from chordscope.datasets import ChordDataConfig
    from chordscope.features import CHORD_CQT

    c = TrainConfig(vocab="sevenths", programs=(0, 40), roots=(0, 2), snr_db=(), n_context=4)
    d = c.dataset
    assert (d.vocab, d.programs, d.roots, d.snr_db, d.n_context) == (
        "sevenths", (0, 40), (0, 2), None, 4,
    )  # fmt: skip
    assert d.cqt == CHORD_CQT and d.features.n_context == 4
    assert replace(c, octaves=(2,)).dataset.octaves == (2,)  # made again from the new settings
    assert "dataset" not in c.to_json() and TrainConfig(**load_json_keys(c)) == c
    # the shared defaults are written once, in ChordDataConfig (reverb differs on purpose)
    data_defaults = {f.name: f.default for f in fields(ChordDataConfig)}
    for f in fields(TrainConfig):
        if f.init and f.name in data_defaults and f.name != "reverb":
            assert f.default == data_defaults[f.name], f.name
    assert TrainConfig().reverb == 0.0 != data_defaults["reverb"]


def load_json_keys(config):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.to_json().items()}
