"""Decoding and the transposition average, compared on development songs no table scores.

The network's posteriors are computed once per file (and once per transposition); then each
way of turning them into chords is scored with ``mir_eval`` (majmin, or ``--metric``),
duration-weighted over each set's files:

- ``librosa``'s Viterbi with a uniform self-transition probability from 0.9 to 0.995
  (``chordscope.recognise.decode``; 0.97 is ``predict``'s default);
- the frame-wise argmax (no decoder);
- a Viterbi whose switching probability rises with each frame's spectral flux in the log-CQT
  (a chord change is cheap at an onset, dear elsewhere), written here because it did not earn
  a place in the package;
- the default Viterbi over the posteriors averaged over the input moved by -K .. K semitones
  (``predict(..., shift_average=K)``, K = 0 .. 3).

The development sets are the evaluation set's generator (``chordscope.evalset``: training GM
programs) with seeds the evaluation set does not use: FluidR3 with seed 4242 and TimGM6mb with
seed 4343, the two training SoundFonts. Settings are chosen on them, never on the held-out sets;
``--heldout DIR`` (a folder written by ``chordscope evalset --heldout``) adds its conditions to
the tables for diagnosis only.

Usage::

    python benchmarks/bench_decode.py [--model majmin] [--songs 24] [--cache DIR]
        [--heldout DIR] [--metric majmin]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_realmusic import _files  # (audio, .lab) pairs of a folder, as bench_realmusic pairs them

DEV_SETS = (("dev-fluidr3", "fluidr3", 4242), ("dev-timgm6mb", "timgm6mb", 4343))
SELF_TRANSITIONS = (0.9, 0.95, 0.97, 0.99, 0.995)
FLUX_SWITCH = ((0.01, 0.1), (0.003, 0.1), (0.01, 0.3), (0.001, 0.3))  # (quiet, onset) share
SHIFTS = (0, 1, 2, 3)


def flux(F: np.ndarray, lag: int = 2) -> np.ndarray:
    """Positive spectral flux of a log-CQT ``F (n_bins, n)`` against ``lag`` frames before.

    Examples
    --------
    >>> F = np.zeros((3, 5)); F[1, 3:] = 1.0
    >>> flux(F, lag=1).tolist()
    [0.0, 0.0, 0.0, 1.0, 0.0]
    """
    D = np.zeros_like(F)
    D[:, lag:] = F[:, lag:] - F[:, :-lag]
    return np.maximum(D, 0).sum(axis=0)


def viterbi_switching(P: np.ndarray, switch: np.ndarray) -> np.ndarray:
    """Best path when frame ``t`` is entered from another class with probability ``switch[t]``.

    The transition is a loop (stay with ``1 - switch[t]``, move to each other class with an
    equal share of ``switch[t]``), so each step costs O(classes): the best predecessor of a
    move is the best class, or the second best for the best class itself.

    Examples
    --------
    >>> P = np.array([[0.9, 0.1], [0.4, 0.6], [0.9, 0.1]])
    >>> viterbi_switching(P, np.full(3, 0.01)).tolist()
    [0, 0, 0]
    >>> viterbi_switching(P, np.full(3, 0.5)).tolist()
    [0, 1, 0]
    """
    n, k = P.shape
    L = np.log(np.clip(P, 1e-10, 1.0))
    stay, move = np.log1p(-switch), np.log(switch / (k - 1))
    delta, back, classes = L[0].copy(), np.empty((n, k), dtype=np.int32), np.arange(k)
    back[0] = classes
    for t in range(1, n):
        order = np.argsort(delta)[-2:]  # second best, best
        source = np.where(classes == order[1], order[0], order[1])
        moved, stayed = delta[source] + move[t], delta + stay[t]
        take = moved > stayed
        back[t] = np.where(take, source, classes)
        delta = np.where(take, moved, stayed) + L[t]
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(np.argmax(delta))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def _outputs(rec, audio: Path, shifts) -> dict:
    """Features, duration and the posteriors averaged over -K..K for every K in ``shifts``."""
    from chordscope import recognise as R

    y = R.load_audio(audio, sr=rec.config.sr, peak=rec.peak)
    F = R.audio_features(y, rec.config, tuning=R.estimate_tuning(y, rec.config.sr), gain=rec.gain)
    out = {"F": F, "duration": len(y) / rec.config.sr}
    for k in shifts:
        P = R.posteriors(rec, F, shift_average=k)
        R.silent_frames(P, F, rec.labels)
        out[k] = P
    return out


def _decoders() -> dict:
    from chordscope.recognise import decode

    d = {
        f"Viterbi, stay {p}": (0, lambda o, p=p: decode(o[0], self_transition=p))
        for p in SELF_TRANSITIONS
    }
    d["argmax, no decoder"] = (0, lambda o: o[0].argmax(axis=1))
    for lo, hi in FLUX_SWITCH:

        def onset(o, lo=lo, hi=hi):
            f = flux(o["F"])
            f = np.clip(f / (np.percentile(f, 95) + 1e-9), 0.0, 1.0)
            return viterbi_switching(o[0], lo + (hi - lo) * f)

        d[f"flux Viterbi, move {lo}..{hi}"] = (0, onset)
    for k in SHIFTS:
        d[f"shift average ±{k}, Viterbi 0.97"] = (k, lambda o, k=k: decode(o[k]))
    return d


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="majmin", help="pretrained name or model file (majmin)")
    p.add_argument("--songs", type=int, default=24, help="songs per development set (24)")
    p.add_argument("--cache", help="folder keeping the rendered development sets")
    p.add_argument("--heldout", help="a chordscope evalset --heldout folder: diagnosis only")
    p.add_argument("--metric", default="majmin", help="mir_eval metric (majmin)")
    args = p.parse_args(argv)

    import torch

    import chordscope
    from chordscope.evalset import write_evalset
    from chordscope.evaluate import pool, score_segments
    from chordscope.recognise import load_recogniser, segments

    t0 = time.perf_counter()
    print(
        f"machine: {platform.platform()}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), chordscope {chordscope.__version__}; "
        f"{datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}"
    )
    rec = load_recogniser(args.model)
    hop_s = rec.config.hop_length / rec.config.sr
    with tempfile.TemporaryDirectory(prefix="chordscope-decode-") as tmp:
        root = Path(args.cache or tmp)
        sets = {}
        for name, soundfont, seed in DEV_SETS:
            folder = root / f"{name}-{args.songs}"
            if not (folder / "evalset.json").exists():
                write_evalset(folder, n_songs=args.songs, seed=seed, soundfont=soundfont)
            sets[name] = folder
        if args.heldout:
            for c in sorted(Path(args.heldout).iterdir()):
                if c.is_dir() and _files(c):
                    sets[f"{c.name} (held out)"] = c
        decoders = _decoders()
        table = {}
        for set_name, folder in sets.items():
            files = [(lab, _outputs(rec, a, SHIFTS)) for a, lab in _files(folder)]
            for dec_name, (_, dec) in decoders.items():
                results = []
                for lab, o in files:
                    segs = segments(
                        dec(o), rec.labels, hop_s=hop_s, duration=o["duration"], min_duration=0.25
                    )
                    results.append(score_segments(lab, segs))
                table.setdefault(dec_name, {})[set_name] = pool(results)[args.metric]
    names = list(sets)
    print(
        f"model {rec.name}, mir_eval {args.metric}, duration-weighted; "
        f"{args.songs} songs per development set"
    )
    print("| decoding | " + " | ".join(names) + " | mean of the dev sets |")
    print("|---" * (len(names) + 2) + "|")
    for dec_name, row in table.items():
        dev = np.mean([row[n] for n, _, _ in DEV_SETS])
        cells = " | ".join(f"{row[n]:.3f}" for n in names)
        print(f"| {dec_name} | {cells} | {dev:.4f} |")
    print(f"wall time: {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
