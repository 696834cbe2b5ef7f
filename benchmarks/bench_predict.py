"""``chordscope predict`` on audio files: speed, peak memory and accuracy, against baselines.

Three measurements, each with a baseline measured in the same run:

speed
    A ``--minutes`` long recording (evaluation songs one after another, 44.1 kHz stereo WAV) is
    labelled end to end: decoding + resampling, CQT, network, Viterbi. Printed per stage, in
    seconds and as times faster than real time, with ``predict``'s defaults and with one
    network pass (``shift_average=0``). Baseline: the straightforward pipeline
    (``librosa.load`` of the whole file, one CQT call, the network on every frame's own
    7-frame window, the same Viterbi).
memory
    Peak resident memory of a fresh process that labels a ``--long-minutes`` recording, for
    chordscope's block processing and for the baseline.
accuracy
    The evaluation set (``--songs`` songs rendered by FluidSynth, never seen in training) is
    labelled by ``predict`` with the pretrained ``majmin`` and ``sevenths`` models (each with
    its default qualities model, and ``majmin`` alone) and scored with mir_eval,
    duration-weighted. Baseline: chroma + binary major/minor templates (the classic
    template-matching recogniser) with the same Viterbi decoding. Then the same songs played
    20 and 40 cents sharp and flat, with the tuning estimated or A440 assumed (the baseline).

Usage: ``python benchmarks/bench_predict.py [--minutes 10] [--long-minutes 60] [--songs 20]
[--model majmin:majmin-fine]`` (``--skip speed,memory,accuracy`` leaves parts out; ``--model``
names the model the speed and memory parts use, a pretrained name or a model file, alone;
``ROOTS:QUALITIES`` names the root by one model and the quality by another: the default,
``majmin:majmin-fine``, is what ``predict`` runs by default).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _long_recording(path: Path, minutes: float, songs_dir: Path, sr: int = 44100) -> float:
    """Write evaluation songs one after another as a stereo 16-bit WAV; return its seconds."""
    import soundfile as sf
    import soxr

    parts = [sf.read(p)[0] for p in sorted(songs_dir.glob("song*.wav"))]
    n_total = int(minutes * 60 * sr)
    with sf.SoundFile(path, "w", samplerate=sr, channels=2, subtype="PCM_16") as f:
        written, i = 0, 0
        while written < n_total:
            y = soxr.resample(parts[i % len(parts)], 16000, sr)[: n_total - written]
            f.write(np.stack([y, 0.8 * y], axis=1) * 0.9)
            written += len(y)
            i += 1
    return n_total / sr


def _baseline_predict(path, rec):
    """The straightforward pipeline: whole-file load and CQT, one window per frame."""
    import librosa
    import torch

    from chordscope.features import context_frames, log_cqt
    from chordscope.recognise import decode

    t = [time.perf_counter()]
    y, _ = librosa.load(str(path), sr=rec.config.sr, mono=True)
    t.append(time.perf_counter())
    F = log_cqt(y / np.max(np.abs(y)) * 0.9, config=rec.config)
    t.append(time.perf_counter())
    W = context_frames(F, rec.n_context)[:, None]
    with torch.inference_mode():
        P = torch.cat(
            [
                torch.softmax(rec.model(torch.from_numpy(W[i : i + 4096])), -1)
                for i in range(0, len(W), 4096)
            ]
        ).numpy()
    t.append(time.perf_counter())
    decode(P)
    t.append(time.perf_counter())
    return dict(zip(("decode_audio", "features", "network", "viterbi"), np.diff(t), strict=True))


def _load(model: str):
    """The recogniser ``model`` names: ``ROOTS:QUALITIES`` pairs two (``predict --qualities``)."""
    from chordscope.recognise import load_recogniser

    roots, _, qualities = model.partition(":")
    return load_recogniser(roots, qualities=qualities or None)


def speed(songs_dir: Path, minutes: float, tmp: Path, model: str = "majmin:majmin-fine") -> None:
    import chordscope

    path = tmp / "long.wav"
    seconds = _long_recording(path, minutes, songs_dir)
    rec = _load(model)
    chordscope.predict(songs_dir / "song000.wav", model=rec)  # warm-up: imports, numba
    _, ours = chordscope.predict(path, model=rec, return_timing=True)
    _, once = chordscope.predict(path, model=rec, return_timing=True, shift_average=0)
    base = _baseline_predict(path, rec)
    print(f"speed: a {seconds / 60:.0f}-minute 44.1 kHz stereo WAV, model {model}")
    print(f"  {'stage':14s} {'chordscope':>12s} {'one pass':>12s} {'baseline':>12s}")
    for k in ours:
        b = f"{base[k]:10.2f} s" if k in base else f"{'-':>12s}"
        print(f"  {k:14s} {ours[k]:10.2f} s {once[k]:10.2f} s {b}")
    a, a1, b = sum(ours.values()), sum(once.values()), sum(base.values())
    print(f"  {'total':14s} {a:10.2f} s {a1:10.2f} s {b:10.2f} s")
    print(
        f"  real-time factor: chordscope {seconds / a:.0f}x (default: the network averaged over "
        f"3 transpositions), one pass (shift_average=0) {seconds / a1:.0f}x, baseline "
        f"{seconds / b:.0f}x (chordscope {b / a:.1f}x faster; target >= 100x real time)"
    )


_CHILD = """
import sys, resource
from pathlib import Path
sys.path.insert(0, {bench!r})
import bench_predict as b
import chordscope
rec = b._load({model!r})
if {baseline}:
    b._baseline_predict(Path({path!r}), rec)
else:
    chordscope.predict(Path({path!r}), model=rec)
# VmHWM: the peak of this program's own memory (ru_maxrss may report the parent's peak, which
# Linux carries over to a child through exec)
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
print(int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def memory(songs_dir: Path, minutes: float, tmp: Path, model: str = "majmin:majmin-fine") -> None:
    path = tmp / "hour.wav"
    seconds = _long_recording(path, minutes, songs_dir)
    print(
        f"memory: peak RSS of a process labelling a {seconds / 60:.0f}-minute 44.1 kHz stereo "
        f"WAV ({path.stat().st_size / 2**20:.0f} MiB); target < 1 GB"
    )
    runs = (
        (f"chordscope, {Path(model).name}", model, False),
        ("chordscope, sevenths:sevenths-fine", "sevenths:sevenths-fine", False),
        (f"baseline, {Path(model).name}", model, True),
    )
    for name, model, baseline in runs:
        code = _CHILD.format(
            bench=str(Path(__file__).parent), path=str(path), baseline=baseline, model=model
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"  {name:22s} failed: {proc.stderr.strip().splitlines()[-1]}")
            continue
        kib = int(proc.stdout.strip().splitlines()[-1])
        print(f"  {name:22s} {kib * 1024 / 1e9:6.2f} GB")
    path.unlink()


def _template_baseline(wav: Path) -> list:
    """Chroma + binary major/minor templates + the same Viterbi: the classic baseline."""
    import librosa

    from chordscope.chords import get_vocabulary
    from chordscope.recognise import PEAK, decode, segments

    vocab = get_vocabulary("majmin")
    y, sr = librosa.load(str(wav), sr=16000)
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=512)
    T = np.zeros((len(vocab.labels), 12))
    for i, ivs in enumerate(vocab.intervals):
        if i == 0:
            continue
        root = (i - 1) // 2  # labels: N, then (maj, min) for each root C..B
        for iv in ivs:
            T[i, (root + iv) % 12] = 1
    T[1:] /= np.linalg.norm(T[1:], axis=1, keepdims=True)
    sim = T[1:] @ (chroma / (np.linalg.norm(chroma, axis=0, keepdims=True) + 1e-9))
    energy = librosa.feature.rms(y=y / max(np.max(np.abs(y)), 1e-9) * PEAK, hop_length=512)[0]
    n_score = np.clip(1 - energy / 0.02, 0, 1)  # quiet frames lean to N
    S = np.vstack([n_score[None, : sim.shape[1]], sim])
    P = np.exp(10 * S)
    P /= P.sum(axis=0, keepdims=True)
    path = decode(P.T)
    return segments(path, vocab.labels, hop_s=512 / sr, duration=len(y) / sr, min_duration=0.25)


def accuracy(songs_dir: Path, n_songs: int) -> None:
    import chordscope
    from chordscope.evaluate import CHORD_METRICS, pool, score_segments

    systems = {
        "majmin model": lambda p: chordscope.predict(p, model="majmin"),
        "majmin alone": lambda p: chordscope.predict(p, model="majmin", qualities=None),
        "sevenths model": lambda p: chordscope.predict(p, model="sevenths"),
        "templates (baseline)": _template_baseline,
    }
    print(
        f"accuracy: evaluation set, {n_songs} songs (FluidR3, seed 7770001), "
        "mir_eval, duration-weighted"
    )
    print(f"  {'system':22s} " + " ".join(f"{m:>8s}" for m in CHORD_METRICS))
    for name, run in systems.items():
        total = pool(
            score_segments(songs_dir / f"song{i:03d}.lab", run(songs_dir / f"song{i:03d}.wav"))
            for i in range(n_songs)
        )
        print(f"  {name:22s} " + " ".join(f"{total[m]:8.4f}" for m in CHORD_METRICS))
    print("  targets: majmin >= 0.95 (majmin model), sevenths >= 0.80 (sevenths model)")
    detuned(songs_dir, n_songs)


def detuned(songs_dir: Path, n_songs: int, cents=(-40, -20, 20, 40)) -> None:
    """The evaluation songs played sharp or flat (resampled: also 1-2 % faster or slower),
    labelled by the majmin model assuming A440 (the baseline) and with the estimated tuning."""
    import soundfile as sf
    import soxr

    import chordscope
    from chordscope.evaluate import pool, score_segments

    print("tuning: evaluation songs played sharp or flat, majmin model, mir_eval majmin")
    print(f"  {'cents':>6s} {'A440 assumed':>13s} {'tuning auto':>12s}")
    with tempfile.TemporaryDirectory(prefix="chordscope-tune-") as tmp:
        for c in cents:
            f = 2 ** (c / 1200)
            res = {0.0: [], "auto": []}
            for i in range(n_songs):
                y, sr = sf.read(songs_dir / f"song{i:03d}.wav")
                wav = Path(tmp) / f"song{i:03d}.wav"
                sf.write(wav, soxr.resample(y, sr, sr / f), sr)
                ref = songs_dir / f"song{i:03d}.lab"
                for t in res:
                    segs = chordscope.predict(wav, model="majmin", tuning=t)
                    # the resampled song is shorter by f: scale the estimate back to the reference
                    res[t].append(score_segments(ref, [(a * f, b * f, lab) for a, b, lab in segs]))
            print(f"  {c:+6d} {pool(res[0.0])['majmin']:13.4f} {pool(res['auto'])['majmin']:12.4f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--long-minutes", type=float, default=60.0)
    p.add_argument("--songs", type=int, default=20)
    p.add_argument("--skip", default="", help="comma-separated: speed, memory, accuracy")
    p.add_argument(
        "--model",
        default="majmin:majmin-fine",
        help="the model timed and measured (a name or model file; ROOTS:QUALITIES for a pair; "
        "default majmin:majmin-fine, predict's default)",
    )
    args = p.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    import torch

    from chordscope.evalset import write_evalset

    print(
        f"machine: {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)"
    )
    with tempfile.TemporaryDirectory(prefix="chordscope-bench-") as tmp:
        tmp = Path(tmp)
        songs = tmp / "evalset"
        write_evalset(songs, n_songs=args.songs)
        if "accuracy" not in skip:
            accuracy(songs, args.songs)
        if "speed" not in skip:
            speed(songs, args.minutes, tmp, args.model)
        if "memory" not in skip:
            memory(songs, args.long_minutes, tmp, args.model)


if __name__ == "__main__":
    main()
