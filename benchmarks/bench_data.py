"""Throughput of realistic training data: synthesis + features, clips per second.

Measures, in one run: chordscope's ``chord_examples`` (per-clip synthesis, one batched CQT per
batch) against the naive loop (per-clip synthesis, then ``librosa.cqt`` clip by clip), for
``additive`` synthesis of 1-second ``majmin`` chords, and prints both and the ratio.
Target (issue): 2000 clips/s on 2 cores. Usage: ``python benchmarks/bench_data.py [--n 400]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from chordscope.chords import get_vocabulary, voicing
from chordscope.data import ChordDataConfig, chord_examples, split_rng
from chordscope.features import CHORD_CQT, log_cqt
from chordscope.synth import add_noise, render


def naive(n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    vocab = get_vocabulary("majmin")
    for _ in range(n):
        label = vocab.labels[1 + int(rng.integers(24))]
        y = render(voicing(label, rng=rng), synth="additive", rng=rng)
        y = add_noise(y, 20.0, rng=rng)
        log_cqt(y, config=CHORD_CQT)  # one librosa.cqt per clip


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=400)
    args = p.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.n} one-second additive majmin clips")
    naive(4)  # warm-up: librosa filter construction
    t = time.perf_counter()
    naive(args.n)
    base = args.n / (time.perf_counter() - t)
    cfg = ChordDataConfig(synths=("additive",))
    chord_examples(cfg, 4, split_rng(0, "train"))
    t = time.perf_counter()
    chord_examples(cfg, args.n, split_rng(1, "train"))
    fast = args.n / (time.perf_counter() - t)
    t = time.perf_counter()
    y = np.random.default_rng(0).standard_normal((args.n, 16000))
    t = time.perf_counter()
    log_cqt(y, config=CHORD_CQT)
    feat = args.n / (time.perf_counter() - t)
    print(f"naive per-clip loop (synthesis + librosa.cqt per clip): {base:8.1f} clips/s")
    print(
        f"chordscope chord_examples (batched CQT):                 {fast:8.1f} clips/s  "
        f"({fast / base:.1f}x)  target 2000: {'met' if fast >= 2000 else 'NOT met'}"
    )
    print(f"  of which features alone (batched log-CQT):             {feat:8.1f} clips/s")


if __name__ == "__main__":
    main()
