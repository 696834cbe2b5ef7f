"""Recogniser designs compared on music they never heard: one training set, several networks.

Every design is trained in this one process on the same musical training songs (rendered once,
:mod:`chordscope.musicdata`), with the same steps and seed; then ``bench_realmusic.py`` scores
them — with any extra models given (e.g. the previous pretrained ones) and the chroma-template
baseline — on the old evaluation set, every held-out condition and the real guitar recordings.

Designs (``--designs``, default all):

cnn
    ``ChordCNN``: the first-road recogniser, 7 frames (0.22 s) of context per output frame.
tcn
    ``ChordTCN``: the same front end, then six dilated temporal blocks (2.1 s each side).

Usage::

    python benchmarks/bench_designs.py --config src/chordscope/pretrained/majmin.toml \\
        --out runs/designs [--steps 1500] [--songs 400] [--extra majmin-v1] \\
        [--conditions real-guitar-dev,heldout-both] [--cache runs/bench-cache]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

DESIGNS = {"cnn": {"model": "ChordCNN"}, "tcn": {"model": "ChordTCN"}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True, help="a TrainConfig TOML with data = 'music'")
    p.add_argument("--out", required=True, help="folder for one run folder per design")
    p.add_argument("--designs", default=",".join(DESIGNS), help="comma-separated: cnn,tcn")
    p.add_argument("--steps", type=int, help="override the config's steps")
    p.add_argument("--songs", type=int, help="override the config's n_songs")
    p.add_argument("--extra", nargs="*", default=[], help="more models to score beside them")
    p.add_argument("--conditions", help="passed to bench_realmusic.py")
    p.add_argument("--cache", help="passed to bench_realmusic.py")
    p.add_argument("--json", help="passed to bench_realmusic.py")
    args = p.parse_args(argv)

    import bench_realmusic

    from chordscope.fit import load_config
    from chordscope.runs import train_recogniser

    overrides = {}
    if args.steps:
        overrides["steps"] = args.steps
    if args.songs:
        overrides["n_songs"] = args.songs
    base = load_config(args.config, **overrides)
    out = Path(args.out)
    designs = args.designs.split(",")
    unknown = [d for d in designs if d not in DESIGNS]
    if unknown:  # before any training
        p.error(f"unknown design(s) {', '.join(unknown)}; choose from {', '.join(DESIGNS)}")
    models = []
    for name in designs:
        t0 = time.perf_counter()
        run = train_recogniser(replace(base, **DESIGNS[name]), out / name, force=True).out
        print(f"{name}: trained in {time.perf_counter() - t0:.0f} s -> {run}", flush=True)
        models.append(str(run / "model.safetensors"))
    bench = ["--models", *models, *args.extra]
    for flag in ("conditions", "cache", "json"):
        if getattr(args, flag):
            bench += [f"--{flag}", getattr(args, flag)]
    return bench_realmusic.main(bench)


if __name__ == "__main__":
    raise SystemExit(main())
