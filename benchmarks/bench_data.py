"""Throughput of realistic training data: synthesis + features, clips per second.

Measures, in one run, for 1-second ``additive`` ``majmin`` chords with noise (no reverb):

- the naive loop: render each clip, then ``librosa.cqt`` clip by clip (the baseline);
- chordscope's audio path: render each clip, one batched CQT per batch;
- chordscope's default path for ``additive``: the CQT computed from the drawn partials with the
  bins' measured responses (``features.sinusoid_cqt``), no audio; the one-time response table
  (about 5 s) is timed separately.
Target (issue): 2000 clips/s on 2 cores. Usage: ``python benchmarks/bench_data.py [--n 400]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from chordscope.chords import get_vocabulary, voicing
from chordscope.datasets import ChordDataConfig, chord_examples, split_rng
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
    from dataclasses import replace

    from chordscope.features import sinusoid_response

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=400)
    args = p.parse_args()
    print(f"machine: {os.cpu_count()} cores; one-second additive majmin clips with noise")
    naive(4)  # warm-up: librosa filter construction
    t = time.perf_counter()
    naive(args.n)
    base = args.n / (time.perf_counter() - t)

    cfg = ChordDataConfig(synths=("additive",), reverb=0.0)
    audio_cfg = replace(cfg, fast_additive=False)
    chord_examples(audio_cfg, 4, split_rng(0, "train"))
    t = time.perf_counter()
    chord_examples(audio_cfg, args.n, split_rng(1, "train"))
    audio = args.n / (time.perf_counter() - t)

    y = np.random.default_rng(0).standard_normal((args.n, 16000))
    t = time.perf_counter()
    log_cqt(y, config=CHORD_CQT)
    feat = args.n / (time.perf_counter() - t)

    t = time.perf_counter()
    sinusoid_response()
    chord_examples(cfg, 4, split_rng(0, "train"))  # builds the noise bank
    table = time.perf_counter() - t
    n_fast = max(args.n, 4000)
    t = time.perf_counter()
    chord_examples(cfg, n_fast, split_rng(1, "train"))
    fast = n_fast / (time.perf_counter() - t)

    print(f"naive loop, render + librosa.cqt per clip ({args.n}):   {base:8.1f} clips/s")
    print(
        f"audio path, render + one batched CQT ({args.n}):        {audio:8.1f} clips/s"
        f"  ({audio / base:.1f}x)"
    )
    print(f"  the batched log-CQT alone:                       {feat:8.1f} clips/s")
    print(
        f"additive path, CQT from the partials ({n_fast}):       {fast:8.1f} clips/s"
        f"  ({fast / base:.1f}x)  target 2000: {'met' if fast >= 2000 else 'NOT met'}"
    )
    print(f"  one-time response table and noise bank:          {table:8.1f} s")


if __name__ == "__main__":
    main()
