"""Training step of the pretrained recogniser's configuration on the CPU and on a GPU, one run.

Times, for ``ChordTCN`` as ``src/chordscope/pretrained/majmin.toml`` trains it (16 excerpts of
128 labelled frames, channels 16/32/64), the three parts of a step: the batch (excerpts cut from
a song pool and augmented in the CQT domain, on the CPU; the pool here is random log-CQT columns,
so no SoundFont is needed and the cost is the same), the forward pass with the loss, and the
backward pass with the AdamW step, on each device there is (``cpu``, and ``cuda`` where torch sees
one), and prints each device's step time and the GPU's speed-up over the CPU measured in the
same run. ``--batch-size`` multiplies the excerpts per step to show where a GPU pays off.

Usage: ``python benchmarks/bench_device.py [--steps 30] [--batch-size 16 64 256]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from chordscope.augment import augment
from chordscope.chords import get_vocabulary
from chordscope.fit import TrainConfig, _loss, _Sequences
from chordscope.models import build_model, n_params
from chordscope.musicdata import SongPool, excerpts


def _config(batch_size: int) -> TrainConfig:
    return TrainConfig(
        data="music", model="ChordTCN", channels=(16, 32, 64), batch_size=batch_size,
        seq_frames=128, pitch_shift=5, gain_db=(-12.0, 6.0), eq_db=6.0, harmonics=0.5,
    )  # fmt: skip


def _batch(pool: SongPool, config: TrainConfig, rng: np.random.Generator):
    ctx = 2 * config.n_context + 1
    starts = rng.integers(0, len(pool) - config.seq_frames - ctx, size=config.batch_size)
    X, Y = excerpts(pool, starts, config.seq_frames, ctx)
    X, Y = augment(
        X, Y, get_vocabulary(config.vocab), rng, pitch_shift=config.pitch_shift,
        gain_db=config.gain_db, eq_db=config.eq_db, harmonics=config.harmonics,
    )  # fmt: skip
    return torch.from_numpy(X[:, None]), torch.from_numpy(Y)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_steps(config: TrainConfig, device: torch.device, pool: SongPool, steps: int) -> dict:
    """Mean seconds of the batch, forward + loss and backward + AdamW over ``steps`` steps."""
    torch.manual_seed(0)
    model = build_model(config.architecture(25)).to(device)
    net = _Sequences(model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    parts = {"batch": 0.0, "forward": 0.0, "backward": 0.0}
    for t in range(steps + 3):  # three warm-up steps (cuDNN picks its algorithms)
        t0 = time.perf_counter()
        x, y = _batch(pool, config, rng)
        x, y = x.to(device), y.to(device)
        _sync(device)
        t1 = time.perf_counter()
        loss = _loss(net, x, y)
        _sync(device)
        t2 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss.item()
        t3 = time.perf_counter()
        if t >= 3:
            for k, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=False):
                parts[k] += dt / steps
    parts["params"] = n_params(model)
    return parts


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch-size", type=int, nargs="+", default=[16, 64, 256])
    args = p.parse_args()
    rng = np.random.default_rng(1)
    n = 60_000  # about 32 minutes of columns
    pool = SongPool(
        F=rng.uniform(0, 3, (73, n)).astype(np.float16), y=rng.integers(0, 25, n).astype(np.int16)
    )
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"# {platform.node()}: {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, GPU {gpu}")  # fmt: skip
    print("| excerpts/step | device | step (ms) | batch | forward + loss | backward + AdamW "
          "| frames/s | vs CPU |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for b in args.batch_size:
        config = _config(b)
        cpu_step = None
        for device in devices:
            r = time_steps(config, device, pool, args.steps)
            step = r["batch"] + r["forward"] + r["backward"]
            cpu_step = cpu_step or step
            print(f"| {b} | {device.type} | {1000 * step:.1f} | {1000 * r['batch']:.1f} | "
                  f"{1000 * r['forward']:.1f} | {1000 * r['backward']:.1f} | "
                  f"{b * config.seq_frames / step:,.0f} | {cpu_step / step:.1f}x |")  # fmt: skip


if __name__ == "__main__":
    main()
