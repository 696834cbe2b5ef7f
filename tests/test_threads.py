"""Threads chosen for the work (chordscope.threads) and passed down every hot path."""

import subprocess
import sys

import pytest
import torch

from chordscope.errors import ParameterError
from chordscope.threads import busy_cores, choose_threads, usable_cores, using_threads

ENV = ("CHORDSCOPE_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "LOCAL_WORLD_SIZE")


@pytest.fixture
def no_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_tiny_work_gets_one_thread_large_work_the_free_cores(no_env):
    assert choose_threads("tutorial") == 1
    assert 1 <= choose_threads("sweep") <= usable_cores()
    assert 1 <= choose_threads("fit") <= usable_cores()
    assert 1 <= choose_threads("predict") <= usable_cores()
    no_env.setenv("LOCAL_WORLD_SIZE", str(usable_cores()))  # one torchrun rank per core
    assert choose_threads("fit") == 1


def test_the_user_decides(no_env):
    assert choose_threads("tutorial", 3) == 3
    no_env.setenv("OMP_NUM_THREADS", "2")
    assert choose_threads("tutorial") == 2 and choose_threads("fit", 5) == 2
    no_env.setenv("CHORDSCOPE_THREADS", "4")  # chordscope's own variable wins
    assert choose_threads("predict") == 4


@pytest.mark.parametrize(
    "work, threads, env",
    [("films", None, None), ("fit", 0, None), ("fit", 1.5, None), ("fit", None, "two"),
     ("fit", None, "0")],
)  # fmt: skip
def test_bad_choices_are_one_line_errors(no_env, work, threads, env):
    if env is not None:
        no_env.setenv("CHORDSCOPE_THREADS", env)
    with pytest.raises(ParameterError):
        choose_threads(work, threads)


def test_a_busy_core_is_seen_and_our_own_work_is_not():
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        assert busy_cores(0.5) >= 0.5
    finally:
        hog.kill()
        hog.wait()
    import threading

    stop = threading.Event()
    spin = threading.Thread(target=lambda: [None for _ in iter(stop.is_set, True)])
    spin.start()  # this process's own spinning thread is not another program
    try:
        own = busy_cores(0.5)
    finally:
        stop.set()
        spin.join()
    assert own < 0.5 + busy_cores(0.5)  # at most what the rest of the machine does anyway


def test_using_threads_restores_the_count():
    before = torch.get_num_threads()
    with using_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_hot_paths_run_with_the_chosen_count(no_env, tmp_path, monkeypatch):
    import chordscope.recognise as recognise
    from chordscope.synth import sine_chord
    from chordscope.tutorial import train_tutorial

    seen = []
    train_tutorial([0], "seed", progress=lambda n, **info: seen.append(torch.get_num_threads()))
    assert seen and set(seen) == {1}

    import soundfile as sf

    sf.write(tmp_path / "a.wav", sine_chord([220.0, 277.2, 329.6], duration=2.0), 16000)
    real = recognise.posteriors

    def spy(rec, F, **kw):
        seen.append(("predict", torch.get_num_threads()))
        return real(rec, F, **kw)

    monkeypatch.setattr(recognise, "posteriors", spy)
    recognise.predict(tmp_path / "a.wav", "majmin", threads=1, tuning=0.0)
    assert seen[-1] == ("predict", 1)
