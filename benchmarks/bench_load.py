"""Hot paths quiet and beside one busy program: torch's default threads against chordscope's.

Each hot path runs in a fresh process, timed after its warm-up (imports, inputs, model, and one
small run of the same path, so that first-call costs are not counted):

- ``tutorial``: ``train_tutorial([0], "seed")`` (``chordscope run --recipe seed``)
- ``sweep``: ``train_tutorial(range(20), "robust")`` (``chordscope sweep --seeds 20``)
- ``fit``: 20 steps of a ChordCNN on 256 chord clips a step (``chordscope train``)
- ``predict``: a 10-minute recording labelled by the pretrained ``majmin`` (ChordTCN)

four times: quiet and beside one busy process (a Python loop that holds one core), each with
torch's default thread count (forced through ``CHORDSCOPE_THREADS`` = the usable cores) and with
chordscope's own choice (:mod:`chordscope.threads`). The target: with a core taken no hot path
slows by more than 2.5x against its quiet time, and chordscope's choice is not slower than the
default when quiet. Usage: ``python benchmarks/bench_load.py [--paths tutorial,sweep,fit,predict]
[--repeat 3]`` (the median of ``--repeat`` runs is shown).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PATHS = ("tutorial", "sweep", "fit", "predict")


def _child(path: str) -> float:
    """Run one hot path after its warm-up; return its seconds."""
    import torch  # noqa: F401  (imported before timing, as in a real command)

    if path in ("tutorial", "sweep"):
        from chordscope.tutorial import get_recipe, train_tutorial
        from chordscope.tutorial_data import tutorial_inputs

        inputs = tutorial_inputs()
        seeds, recipe = ([0], "seed") if path == "tutorial" else (list(range(20)), "robust")
        train_tutorial(seeds, get_recipe(recipe, epochs=1), inputs=inputs)  # warm-up
        t0 = time.perf_counter()
        train_tutorial(seeds, recipe, inputs=inputs)
        return time.perf_counter() - t0
    if path == "fit":
        from chordscope.fit import TrainConfig, _batch, train_chords

        config = TrainConfig(
            steps=20, batch_size=256, n_val=256, n_test=256, eval_every=20,
            checkpoint_every=20, snr_db=(), device="cpu",
        )  # fmt: skip
        _batch(config, 0, 0, 8)  # response table and noise bank, once per process
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            train_chords(config, Path(tmp) / "run")
            return time.perf_counter() - t0
    import numpy as np
    import soundfile as sf

    from chordscope.recognise import load_recogniser, predict
    from chordscope.synth import SR, render

    rng = np.random.default_rng(0)
    chords = [[57, 60, 64], [53, 57, 60], [48, 52, 55], [55, 59, 62]]
    clips = [
        render([(p, 0.0, 0.8) for p in chords[k]], synth="additive", duration=2.0, sr=SR, rng=rng)
        for k in range(4)
    ]
    y = np.concatenate([clips[k % 4] for k in range(300)])  # ten minutes
    rec = load_recogniser("majmin")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "a.wav"
        sf.write(wav, 0.5 * y / np.abs(y).max(), SR)
        sf.write(Path(tmp) / "warm.wav", 0.5 * y[: 4 * SR] / np.abs(y).max(), SR)
        predict(Path(tmp) / "warm.wav", rec, tuning=0.0)  # warm-up: first-call costs
        t0 = time.perf_counter()
        predict(wav, rec, tuning=0.0)
        return time.perf_counter() - t0


def _run(path: str, mode: str, busy: bool) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.pop("CHORDSCOPE_THREADS", None)
    if mode == "default":
        from chordscope.threads import usable_cores

        env["CHORDSCOPE_THREADS"] = str(usable_cores())  # what torch takes by default
    hog = None
    if busy:
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", path],
            env=env, capture_output=True, text=True, check=True, timeout=1800,
        )  # fmt: skip
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--paths", default=",".join(PATHS))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps({"seconds": _child(args.child)}))
        return 0
    paths = args.paths.split(",")
    unknown = [x for x in paths if x not in PATHS]
    if unknown:
        p.error(f"unknown path(s) {', '.join(unknown)}; choose from {', '.join(PATHS)}")
    import torch

    from chordscope.threads import choose_threads, usable_cores

    print(
        f"machine: {os.cpu_count()} cores ({usable_cores()} usable), torch {torch.__version__} "
        f"(default {torch.get_num_threads()} threads); median of {args.repeat} runs, seconds"
    )
    print(
        f"{'path':9} {'chosen':>6} {'default quiet':>13} {'default busy':>12} {'x':>6} "
        f"{'chosen quiet':>12} {'chosen busy':>11} {'x':>6} {'quiet vs default':>16}"
    )
    worst = 0.0
    for path in paths:
        t = {}
        for mode in ("default", "chosen"):
            for busy in (False, True):
                t[mode, busy] = statistics.median(
                    _run(path, mode, busy) for _ in range(args.repeat)
                )
        slow_default = t["default", True] / t["default", False]
        slow_chosen = t["chosen", True] / t["chosen", False]
        worst = max(worst, slow_chosen)
        work = "sweep" if path == "sweep" else path
        print(
            f"{path:9} {choose_threads(work):>6} {t['default', False]:13.2f} "
            f"{t['default', True]:12.2f} {slow_default:6.2f} {t['chosen', False]:12.2f} "
            f"{t['chosen', True]:11.2f} {slow_chosen:6.2f} "
            f"{t['chosen', False] / t['default', False]:16.2f}",
            flush=True,
        )
    print(f"worst slow-down beside a busy core with chordscope's threads: {worst:.2f}x "
          f"(target <= 2.5x)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
