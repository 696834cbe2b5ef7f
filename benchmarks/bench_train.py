"""Training speed of the tutorial's experiment: chordscope against straightforward baselines.

Prints, all measured in this one run on this machine:

1. the data set-up (24 sine dyads → CQT inputs, computed once);
2. the seed recipe's full training (15 × 200 steps of 128) with chordscope's batched trainer,
   against the straightforward loop (`train_reference`: each step builds its batch of 128
   example by example as the tutorial's generator does, then autograd + optimiser);
3. a sweep of N seeds trained as one batched model, against the same N seeds trained one
   after another with the same trainer.

Targets (2 CPU cores): 3000 steps < 1 s; sweep of 100 seeds < 10 s and >= 10x faster than
one after another. Usage: ``python benchmarks/bench_train.py [--seeds 100] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from chordscope.tutorial import get_recipe, train_reference, train_tutorial
from chordscope.tutorial_data import tutorial_inputs


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    args = p.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )

    t = time.perf_counter()
    inputs = tutorial_inputs()
    print(f"data set-up (24 CQTs, once): {time.perf_counter() - t:.3f} s")

    recipe = get_recipe("seed")
    train_tutorial([0], recipe, inputs=inputs, eval_every=recipe.steps)  # warm-up
    fast, res = best_of(lambda: train_tutorial([0], recipe, inputs=inputs), args.repeat)
    base, _ = best_of(lambda: train_reference(0, recipe, inputs=inputs), 1)
    print(f"seed recipe, {recipe.steps} steps of {recipe.batch_size}, 1 seed:")
    print(f"  straightforward loop (batches built per step, autograd): {base:7.3f} s")
    print(
        f"  chordscope train_tutorial (incl. {len(res.checkpoints)} test evaluations): "
        f"{fast:7.3f} s   speed-up {base / fast:5.1f}x   target < 1 s: "
        f"{'met' if fast < 1 else 'NOT met'}"
    )

    seeds = list(range(args.seeds))
    batched, sweep = best_of(lambda: train_tutorial(seeds, recipe, inputs=inputs), args.repeat)
    t = time.perf_counter()
    for s in seeds:
        train_tutorial([s], recipe, inputs=inputs)
    sequential = time.perf_counter() - t
    ratio = sequential / batched
    print(f"sweep of {len(seeds)} seeds ({(sweep.test_accuracy >= 1).sum()} reach 100 %):")
    print(f"  one after another: {sequential:7.3f} s")
    print(
        f"  one batched model: {batched:7.3f} s   speed-up {ratio:5.1f}x   "
        f"targets < 10 s and >= 10x: {'met' if batched < 10 and ratio >= 10 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
