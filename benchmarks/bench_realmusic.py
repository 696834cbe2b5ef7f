"""Chord recognisers on sounds they never trained on: the held-out set and real guitar recordings.

For each model given (pretrained names or model files) and a baseline, every file of each
condition is labelled with ``chordscope.predict`` (the baseline: chroma + binary major/minor
templates with the same Viterbi, ``bench_predict._template_baseline``) and scored against its
``.lab`` with ``mir_eval``, duration-weighted over the files (``chordscope.evaluate``, as
``chordscope score`` pools):

evalset
    chordscope's evaluation set (``write_evalset``: training programs, FluidR3; for continuity).
heldout-programs ... isolated
    the held-out conditions of :mod:`chordscope.heldout` (``chordscope evalset --heldout``).
real-guitar-dev
    240 real guitar recordings of ten chords in ``../shared/data/real-guitar-dev/`` (relative to
    the repository root): the INTELSIG chord database, University of Liège. Evaluation only.
    Also prints, per reference chord, the majmin label each system gives most of each file.

A model named ``A+B`` (any number of members) is an ensemble: the mean of the members'
posteriors, frame by frame, decoded by the same Viterbi (the members must share vocabulary
and input). ``NAME@K`` runs ``NAME`` with ``predict(..., shift_average=K)`` (``majmin@0``: the
network once, without the transposition average that ``predict`` does by default).
``ROOTS:QUALITIES`` (``majmin:majmin-fine``) takes each chord's root from the first model and
its quality from the second (``predict(..., qualities=...)``, ``roots_and_qualities``).

The summary gives each majmin score with a 95 % interval: the set's files drawn with
replacement 2000 times, each draw pooled the same way (``chordscope.evaluate.pool_interval``,
seeded with the held-out seed). Ten songs a set left intervals 0.08-0.25 wide, hence 40
by default; two systems whose intervals overlap on a set have not been told apart by it.

Usage::

    python benchmarks/bench_realmusic.py [--models majmin majmin@0 sevenths runs/x/model A+B A:B]
        [--conditions evalset,heldout-programs,...,real-guitar-dev] [--songs 40]
        [--cache DIR] [--json PATH] [--errors]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL_GUITAR = REPO.parent / "shared" / "data" / "real-guitar-dev"
CREDIT = (
    "real-guitar-dev: recordings from the chord database of the INTELSIG laboratory, University "
    "of Liège (J. Osmalsky, J.-J. Embrechts, M. Van Droogenbroeck, S. Piérard, 'Neural networks "
    "for musical chords recognition', JIM 2012); used for evaluation only"
)
METRICS = ("root", "majmin", "sevenths", "mirex", "seg")
AUDIO_SUFFIXES = (".wav", ".mp3", ".flac")
BASELINE = "templates (baseline)"


def _conditions() -> list[str]:
    from chordscope.heldout import CONDITIONS

    return ["evalset", *CONDITIONS, "real-guitar-dev"]


def _prepare(condition: str, root: Path, args) -> tuple[Path | None, str]:
    """The folder of ``condition`` (rendered into ``root`` unless a matching copy is there) and
    a one-line description; ``None`` and the reason when it cannot be had."""
    from chordscope.evalset import EVAL_SEED, EVALSET_FORMAT, write_evalset
    from chordscope.heldout import CONDITIONS, HELDOUT_FORMAT, write_condition
    from chordscope.io import read_json, write_json

    if condition == "real-guitar-dev":
        if not REAL_GUITAR.is_dir():
            return None, f"{REAL_GUITAR} is absent (it is never copied into the repository)"
        return REAL_GUITAR, "real guitar recordings, 10 chords x 24 (INTELSIG, Liège)"
    if condition == "evalset":
        folder = root / f"evalset-{args.evalset_songs}"
        stamp = {"n_songs": args.evalset_songs, "seed": EVAL_SEED, "format": EVALSET_FORMAT}
        if not (folder / "evalset.json").is_file() or read_json(folder / "evalset.json") != stamp:
            write_evalset(folder, n_songs=args.evalset_songs)
            write_json(folder / "evalset.json", stamp)
        return folder, "chordscope's evaluation set: training programs, FluidR3"
    folder = root / "heldout" / condition
    params = {
        "format": HELDOUT_FORMAT,
        "seed": args.seed,
        "n_songs": args.songs,
        "n_bars": 8,
        "chords_per_file": 20,
        "sr": 16000,
    }
    done = folder / "condition.json"
    if not done.is_file() or read_json(done).get("params") != params:
        write_condition(folder, condition, n_songs=args.songs, seed=args.seed)
    return folder, CONDITIONS[condition].description


def _files(folder: Path) -> list[tuple[Path, Path]]:
    """``(audio, reference .lab)`` pairs of a folder, sorted."""
    return [
        (p, p.with_suffix(".lab"))
        for p in sorted(folder.iterdir())
        if p.suffix.lower() in AUDIO_SUFFIXES and p.with_suffix(".lab").is_file()
    ]


def _ensemble(name: str):
    """One recogniser from ``A+B+...``: the mean of the members' posteriors, frame by frame.

    The members must share their vocabulary and input (CQT, context, gain, peak).
    """
    import dataclasses

    import torch

    from chordscope.recognise import load_recogniser

    members = [load_recogniser(m) for m in name.split("+")]
    first = members[0]
    for m in members[1:]:
        if (m.labels, m.config, m.n_context, m.gain, m.peak) != (
            first.labels, first.config, first.n_context, first.gain, first.peak,
        ):  # fmt: skip
            raise SystemExit(f"{name}: {m.name} has another vocabulary or input than {first.name}")

    class Mean(torch.nn.Module):
        def __init__(self, nets):
            super().__init__()
            self.nets = torch.nn.ModuleList(nets)
            self.margin = max(getattr(n, "margin", first.n_context) for n in nets)

        def frame_logits(self, F):
            return torch.log(
                sum(torch.softmax(n.frame_logits(F), -1) for n in self.nets) / len(self.nets)
            )

    return dataclasses.replace(first, model=Mean([m.model for m in members]).eval(), name=name)


def _systems(models: list[str], baseline: bool) -> dict:
    import chordscope
    from chordscope.recognise import load_recogniser

    systems = {}
    for name in models:
        model, _, k = name.partition("@")
        model, _, qualities = model.partition(":")
        rec = _ensemble(model) if "+" in model else load_recogniser(model)
        if qualities:
            rec = load_recogniser(rec, qualities=qualities)
        kwargs = {"shift_average": int(k)} if k else {}
        systems[name] = lambda p, rec=rec, kw=kwargs: chordscope.predict(p, model=rec, **kw)
    if baseline:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_predict import _template_baseline

        systems[BASELINE] = _template_baseline
    return systems


def _majmin(label: str) -> str:
    """A predicted label reduced to majmin (``X`` where the vocabulary holds no such chord)."""
    from chordscope.chords import get_vocabulary

    vocab = get_vocabulary("majmin")
    index = vocab.index(label)
    return "X" if index is None else vocab.labels[index]


def _file_majority(segments, ref_intervals, ref_labels) -> tuple[str, str]:
    """The reference chord of a one-chord file and the majmin label predicted for most of it."""
    chord = [
        (s, e, lab) for (s, e), lab in zip(ref_intervals, ref_labels, strict=True) if lab != "N"
    ]
    if len(chord) != 1:
        raise ValueError(f"expected one chord in the reference, found {len(chord)}")
    start, end, ref = chord[0]
    seconds = {}
    for s, e, lab in segments:
        overlap = min(e, end) - max(s, start)
        if overlap > 0:
            seconds[_majmin(lab)] = seconds.get(_majmin(lab), 0.0) + overlap
    return ref, max(seconds, key=seconds.get) if seconds else "N"


NEAR_CHANGE = 0.25  # seconds each side of a reference chord change: an error there is timing


def _near_change(ref_intervals, ref_labels, near: float = NEAR_CHANGE):
    """Merged windows ``[(a, b), ...]`` within ``near`` s of each change of reference label."""
    windows = []
    for k in range(1, len(ref_labels)):
        if ref_labels[k] != ref_labels[k - 1]:
            t = float(ref_intervals[k][0])
            if windows and t - near <= windows[-1][1]:
                windows[-1][1] = t + near
            else:
                windows.append([t - near, t + near])
    return windows


def _error_kinds(segments, ref_intervals, ref_labels) -> dict:
    """Seconds of a file by kind of majmin outcome: right, wrong quality on the right root,
    wrong root, and chord/N mix-ups (``min7->maj`` style keys name the commonest quality slips).

    A wrong label within ``NEAR_CHANGE`` s of a change of reference chord counts as ``change``
    (the boundary is early or late), whatever its kind; the other kinds are the rest.

    >>> import numpy as np
    >>> ref = np.array([[0.0, 2.0], [2.0, 4.0]]), ["C:maj", "A:min"]
    >>> kinds = _error_kinds([(0.0, 2.1, "C:maj"), (2.1, 3.0, "A:min"), (3.0, 4.0, "A:maj")], *ref)
    >>> {k: round(v, 3) for k, v in sorted(kinds.items())}
    {'change': 0.1, 'quality min->maj': 1.0, 'right': 2.9}
    """
    import mir_eval
    import numpy as np

    est_i = np.array([[s, e] for s, e, _ in segments], dtype=float)
    est_l = [lab for _, _, lab in segments]
    est_i, est_l = mir_eval.util.adjust_intervals(
        est_i, est_l, ref_intervals.min(), ref_intervals.max(), "N", "N"
    )
    iv, ref, est = mir_eval.util.merge_labeled_intervals(ref_intervals, ref_labels, est_i, est_l)
    windows = _near_change(ref_intervals, ref_labels)
    seconds = {}
    for (s, e), r, x, ok in zip(iv, ref, est, mir_eval.chord.majmin(ref, est), strict=True):
        if ok < 0:
            continue  # not compared by majmin (e.g. a diminished reference)
        near = 0.0
        if ok == 1:
            kind = "right"
        else:
            near = float(sum(max(0.0, min(e, b) - max(s, a)) for a, b in windows))
            if r == "N" or x == "N":
                kind = "chord/N"
            elif mir_eval.chord.encode(r)[0] == mir_eval.chord.encode(x)[0]:
                kind = f"quality {_quality(r)}->{_quality(_majmin(x))}"
            else:
                kind = "root"
        for k, v in ((kind, float(e - s) - near), ("change", near)):
            if v > 1e-9:
                seconds[k] = seconds.get(k, 0.0) + v
    return seconds


def _quality(label: str) -> str:
    """The quality part of a Harte label (``maj`` for a bare root, ``other`` for ``X``)."""
    if label == "X":
        return "other"
    return label.split(":", 1)[1].split("/")[0] if ":" in label else "maj"


def _print_errors(kinds: dict) -> None:
    """Shares of the compared time per kind of outcome, per system."""
    for name, seconds in kinds.items():
        total = sum(seconds.values()) or 1.0
        top = sorted(seconds.items(), key=lambda kv: -kv[1])
        cells = ", ".join(f"{k} {v / total:.3f}" for k, v in top[:6])
        print(f"  errors {name[-28:]}: {cells}")


def _with_interval(score, interval) -> str:
    """``0.931 (0.902-0.958)``; ``-`` where nothing was compared."""
    if score is None:
        return "-"
    return f"{score:.3f}" + (f" ({interval[0]:.3f}-{interval[1]:.3f})" if interval else "")


def _table(title: str, rows: dict) -> None:
    print(f"\n{title}")
    print(f"  {'system':28s} " + " ".join(f"{m:>8s}" for m in METRICS) + f" {'label s':>8s}")
    for name, r in rows.items():
        vals = " ".join(
            f"{r['scores'][m]:8.3f}" if r["scores"][m] is not None else f"{'-':>8s}"
            for m in METRICS
        )
        print(f"  {name[-28:]:28s} {vals} {r['seconds']:8.1f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--models",
        nargs="+",
        default=["majmin", "sevenths"],
        help="names or model files; A+B+... averages the models' posteriors (an ensemble)",
    )
    p.add_argument("--conditions", help="comma-separated subset of: " + ", ".join(_conditions()))
    p.add_argument("--songs", type=int, default=40, help="pieces per held-out condition (40)")
    p.add_argument("--evalset-songs", type=int, default=20, help="songs of the evaluation set (20)")
    p.add_argument(
        "--seed", type=int, help="held-out seed (default chordscope.heldout.HELDOUT_SEED)"
    )
    p.add_argument(
        "--cache", help="folder keeping rendered sets between runs (default: a temp folder)"
    )
    p.add_argument("--no-baseline", action="store_true", help="leave the template baseline out")
    p.add_argument(
        "--errors",
        action="store_true",
        help="also print, per system, the share of time by kind of majmin outcome (right, "
        "wrong within 0.25 s of a chord change, wrong quality on the right root such as "
        "min7->maj, wrong root, chord/N)",
    )
    p.add_argument("--json", help="also write the tables as JSON here")
    args = p.parse_args(argv)

    import warnings

    import torch

    import chordscope
    from chordscope.evaluate import CHORD_METRICS, pool, pool_interval, score_segments
    from chordscope.heldout import HELDOUT_SEED
    from chordscope.io import read_chords, write_json

    # librosa warns about its shortest FFT on the shortest real recordings; the result is right
    warnings.filterwarnings("ignore", message="n_fft=.*is too large for input signal")
    args.seed = HELDOUT_SEED if args.seed is None else args.seed
    chosen = _conditions() if not args.conditions else args.conditions.split(",")
    unknown = [c for c in chosen if c not in _conditions()]
    if unknown:
        p.error(
            f"unknown condition(s) {', '.join(unknown)}; choose from {', '.join(_conditions())}"
        )
    t_start = time.perf_counter()
    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    machine = {
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "chordscope": chordscope.__version__,
    }
    print(
        f"machine: {machine['cpus']} CPUs ({machine['platform']}), torch {machine['torch']} "
        f"({machine['torch_threads']} threads), chordscope {machine['chordscope']}; {date}"
    )
    systems = _systems(args.models, not args.no_baseline)
    print(f"systems: {', '.join(systems)}; mir_eval, duration-weighted over each condition's files")
    report = {
        "date": date,
        "machine": machine,
        "systems": list(systems),
        "conditions": {},
        "real_guitar_confusion": {},
    }
    with tempfile.TemporaryDirectory(prefix="chordscope-realmusic-") as tmp:
        root = Path(args.cache) if args.cache else Path(tmp)
        for condition in chosen:
            t0 = time.perf_counter()
            folder, what = _prepare(condition, root, args)
            if folder is None:
                print(f"\n{condition}: skipped: {what}")
                report["conditions"][condition] = {"skipped": what}
                continue
            files = _files(folder)
            render_s = time.perf_counter() - t0
            rows, majority, kinds = {}, {}, {}
            for name, run in systems.items():
                t1 = time.perf_counter()
                results = []
                for audio, lab in files:
                    segs = run(audio)
                    results.append(score_segments(lab, segs))
                    if args.errors:
                        for k, v in _error_kinds(segs, *read_chords(lab)).items():
                            kinds.setdefault(name, {})[k] = kinds.get(name, {}).get(k, 0.0) + v
                    if condition == "real-guitar-dev":
                        ref, got = _file_majority(segs, *read_chords(lab))
                        majority.setdefault(name, {}).setdefault(ref, {})
                        majority[name][ref][got] = majority[name][ref].get(got, 0) + 1
                rows[name] = {
                    "scores": pool(results),
                    "interval": pool_interval(results, "majmin", seed=args.seed),
                    "seconds": sum(w["root"] for _, w in results),
                    "predict_s": round(time.perf_counter() - t1, 2),
                }
            audio_s = rows[next(iter(rows))]["seconds"]
            _table(
                f"{condition}: {what}; {len(files)} files, {audio_s:.0f} s labelled "
                f"(prepared in {render_s:.0f} s)",
                rows,
            )
            report["conditions"][condition] = {
                "description": what,
                "files": len(files),
                "scores": {n: {m: r["scores"][m] for m in CHORD_METRICS} for n, r in rows.items()},
                "seconds_compared": {n: r["seconds"] for n, r in rows.items()},
                "majmin_interval_95": {n: r["interval"] for n, r in rows.items()},
                "predict_seconds": {n: r["predict_s"] for n, r in rows.items()},
            }
            if kinds:
                _print_errors(kinds)
                report["conditions"][condition]["error_seconds"] = kinds
            if majority:
                print(f"  {CREDIT}")
                print("  per chord: the majmin label predicted for most of each file (files)")
                for name, table in majority.items():
                    print(f"  {name}:")
                    for ref in sorted(table):
                        got = sorted(table[ref].items(), key=lambda kv: (-kv[1], kv[0]))
                        n_ok = table[ref].get(_majmin(ref), 0)
                        cells = ", ".join(f"{lab} {k}" for lab, k in got)
                        print(f"    {ref:7s} {n_ok:2d}/{sum(table[ref].values()):2d}  {cells}")
                report["real_guitar_confusion"] = majority
                report["credit"] = CREDIT
    done = [c for c in chosen if "scores" in report["conditions"][c]]
    if done:
        print(
            "\nsummary: majmin (mir_eval, duration-weighted), with a 95 % interval from "
            "resampling each set's files (2000 draws)"
        )
        long = any(len(n) > 20 for n in systems)  # long paths: numbered columns and a legend
        for i, n in enumerate(systems, 1):
            if long:
                print(f"  [{i}] {n}")
        heads = [f"[{i}]" if long else n for i, n in enumerate(systems, 1)]
        print(f"  {'condition':18s} " + " ".join(f"{h:>20s}" for h in heads))
        for c in done:
            s, ci = report["conditions"][c]["scores"], report["conditions"][c]["majmin_interval_95"]
            print(
                f"  {c:18s} "
                + " ".join(f"{_with_interval(s[n]['majmin'], ci[n]):>20s}" for n in systems)
            )
    wall = time.perf_counter() - t_start
    report["wall_seconds"] = round(wall, 1)
    print(f"\nwall time: {wall:.0f} s")
    if args.json:
        write_json(args.json, report)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
