"""Training throughput of ``chordscope train`` (examples per second) with its breakdown.

Times, in one run, the three parts of a training step of ChordCNN: drawing the batch, the
forward pass with the loss, and the backward pass with the optimiser step, and prints examples
per second for each and for the whole step. ``--data chords`` (default) draws 1-second additive
chords afresh (synthesis + features in the step); ``--data songs`` draws frames from rendered
training songs (rendered once before timing, as ``chordscope train`` does).
Usage: ``python benchmarks/bench_fit.py [--steps 20] [--batch-size 256] [--vocab majmin]
[--data chords|songs] [--songs 40] [--channels 8,16,32]``.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from chordscope.chords import get_vocabulary
from chordscope.fit import TrainConfig, _batch
from chordscope.models import ChordCNN, n_params


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--vocab", default="majmin")
    p.add_argument("--data", default="chords", choices=("chords", "songs"))
    p.add_argument("--songs", type=int, default=40, help="training songs for --data songs")
    p.add_argument("--channels", default="8,16,32")
    args = p.parse_args()
    channels = tuple(int(c) for c in args.channels.split(","))
    config = TrainConfig(
        vocab=args.vocab,
        batch_size=args.batch_size,
        data=args.data,
        n_songs=args.songs,
        channels=channels,
    )
    model = ChordCNN(n_classes=get_vocabulary(args.vocab).n_classes, channels=channels)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr)
    _batch(config, 0, 0, 8)  # one-time: response table and noise bank, or the rendered songs
    t_data = t_fwd = t_bwd = 0.0
    for t in range(args.steps):
        t0 = time.perf_counter()
        x, y = _batch(config, t, 0, args.batch_size)
        t1 = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        t2 = time.perf_counter()
        opt.zero_grad()
        loss.backward()
        opt.step()
        t3 = time.perf_counter()
        t_data, t_fwd, t_bwd = t_data + t1 - t0, t_fwd + t2 - t1, t_bwd + t3 - t2
    n = args.steps * args.batch_size
    total = t_data + t_fwd + t_bwd
    print(
        f"machine: {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads); ChordCNN {n_params(model)} parameters, "
        f"{args.vocab}, data {args.data}, batch {args.batch_size}, {args.steps} steps"
    )
    for name, s in (
        ("data (draw the batch)", t_data),
        ("forward + loss", t_fwd),
        ("backward + optimiser", t_bwd),
        ("whole step", total),
    ):
        print(f"  {name:28s} {s:7.2f} s  {n / s:9.0f} examples/s  ({100 * s / total:4.1f} %)")


if __name__ == "__main__":
    main()
