"""The ``chordscope`` command line: parses arguments, then calls one library function.

Every user mistake ends with one line ``chordscope: error: ...`` on stderr and exit status 2.
Heavy modules are imported inside the handlers, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

from . import __version__
from .errors import ChordscopeError, ParameterError
from .features import SR

__all__ = ["main", "Terminated"]

EXIT_USAGE = 2
EXIT_INTERNAL = 3  # a failure chordscope did not expect: a bug to report
EXIT_BROKEN_PIPE = 141  # stdout closed by its reader: 128 + SIGPIPE, as a shell reports it


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, like every other chordscope error."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"chordscope: error: {message}\n")


def _on_terminal() -> bool:
    """Whether stderr is a terminal (progress bars are drawn only there)."""
    return sys.stderr.isatty()


class _Bar:
    """The terminal's view of a long call: a line per set-up phase, then a tqdm bar.

    Library functions report through one callable, ``progress(n, phase=None, **numbers)``:
    ``n`` steps (or files) done, a ``phase`` when a stage without steps begins (rendering,
    writing figures), and numbers measured on the way (``loss``, ``val_accuracy``) for the bar.
    The bar's clock restarts at the first step after a phase, so set-up does not spoil its ETA.
    """

    def __init__(self, total: int | None, desc: str):
        from tqdm import tqdm

        self.desc, self.total, self.restart = desc, total, True
        self.bar = tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)

    def __call__(self, n: int = 1, *, phase: str | None = None, **numbers) -> None:
        if phase is not None:
            self.bar.write(f"{self.desc}: {phase}", file=sys.stderr)
            self.bar.set_description_str(f"{self.desc} ({phase})")
            self.restart = True
        if numbers:
            self.bar.set_postfix(
                {k: f"{v:.3g}" if isinstance(v, float) else v for k, v in numbers.items()},
                refresh=not n,
            )
        if n:
            if self.restart:  # the first step after set-up: the rate counts from here
                done = self.bar.n
                self.bar.reset(total=self.total)
                self.bar.update(done)
                self.bar.set_description_str(self.desc)
                self.restart = False
            self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


def _with_progress(total: int | None, quiet: bool, desc: str, fn, *args, **kwargs):
    """Call ``fn(*args, progress=..., **kwargs)`` with a :class:`_Bar` on a terminal.

    No bar with ``--quiet`` or when stderr is not a TTY.
    """
    if quiet or not _on_terminal():
        return fn(*args, progress=None, **kwargs)
    bar = _Bar(total, desc)
    try:
        return fn(*args, progress=bar, **kwargs)
    finally:
        bar.close()


def _total_steps(args) -> int:
    from .tutorial import get_recipe

    recipe = get_recipe(args.recipe)
    return (args.epochs or recipe.epochs) * (args.steps_per_epoch or recipe.steps_per_epoch)


def _cmd_run(args) -> int:
    from .runs import run_experiment
    from .tutorial import get_recipe

    out = _with_progress(
        _total_steps(args),
        args.quiet,
        f"{args.recipe} seed {args.seed}",
        run_experiment,
        get_recipe(args.recipe),
        args.seed,
        out=args.out,
        force=args.force,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        threads=args.threads,
    )
    if not args.quiet:
        m = json.loads((out / "metrics.json").read_text())
        print(
            f"{out}: test accuracy {m['test_accuracy']:.4f}, loss {m['test_loss']:.4f} "
            f"({m['n_test']} test examples), {m['train_seconds']:.2f} s; see {out / 'report.html'}"
        )
    return 0


def _cmd_sweep(args) -> int:
    from .runs import run_sweep
    from .tutorial import get_recipe

    out = _with_progress(
        _total_steps(args),
        args.quiet,
        f"{args.recipe} × {args.seeds} seeds",
        run_sweep,
        args.seeds,
        get_recipe(args.recipe),
        first_seed=args.first_seed,
        out=args.out,
        force=args.force,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        explain=args.explain,
        threads=args.threads,
    )
    if not args.quiet:
        s = json.loads((out / "sweep.json").read_text())
        n_ok = round(s["success_rate"] * s["n_seeds"])
        print(
            f"{out}: {n_ok}/{s['n_seeds']} seeds reach 100 % test accuracy "
            f"(recipe {s['recipe']}, {s['train_seconds']:.2f} s)"
        )
    return 0


def _cmd_explain(args) -> int:
    from .runs import explain_to

    out = explain_to(args.model, out=args.out)
    if not args.quiet:
        for k in json.loads((out / "explanation.json").read_text())["kernels"]:
            print(k["sentence"])
        print(f"wrote {out / 'explanation.json'} and figures/explain_*.png")
    return 0


def _cmd_synth(args) -> int:
    from .errors import ParameterError
    from .runs import write_synth

    if args.sequence is not None and args.labels:
        raise ParameterError("give chord labels or --sequence, not both")
    if args.durations is not None and args.sequence is None:
        raise ParameterError("--durations needs --sequence")
    if args.synth != "soundfont" and (args.program is not None or args.soundfont is not None):
        raise ParameterError("--program and --soundfont need --synth soundfont")
    labels = args.sequence.split() if args.sequence is not None else args.labels
    durations = None
    if args.durations is not None:
        try:
            durations = [float(d) for d in args.durations.split()]
        except ValueError:
            raise ParameterError(f"--durations {args.durations!r} must be numbers") from None
    paths = write_synth(
        labels,
        out=args.out,
        synth=args.synth,
        seed=args.seed,
        duration=args.duration,
        sr=args.sr,
        program=0 if args.program is None else args.program,
        soundfont=args.soundfont or "fluidr3",
        random_voicing=args.random_voicing,
        snr=args.snr,
        noise=args.noise,
        reverb_rt60=args.reverb,
        sequence=args.sequence is not None,
        durations=durations,
    )
    if not args.quiet:
        for p in paths:
            print(p)
    return 0


def _count(n: int, noun: str) -> str:
    """``"1 file"``, ``"3 files"``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _cmd_evalset(args) -> int:
    from .errors import ParameterError
    from .evalset import EVAL_SEED, EVALSET_FORMAT, write_evalset
    from .heldout import HELDOUT_FORMAT
    from .io import output_folder, write_json

    if args.heldout:
        from .heldout import (
            CONDITIONS,
            HELDOUT_SEED,
            HELDOUT_SONGS,
            condition_pieces,
            write_heldout_set,
        )

        if args.soundfont is not None:
            raise ParameterError(
                "--soundfont does not apply to --heldout: each condition has its own"
            )
        conditions = list(CONDITIONS) if args.conditions is None else args.conditions.split(",")
        n_songs = HELDOUT_SONGS if args.songs is None else args.songs
        total = None
        if isinstance(n_songs, int) and n_songs > 0:
            total = sum(condition_pieces(c, n_songs) for c in conditions)
        write, unit = write_heldout_set, "files"
        settings = {
            "conditions": conditions,
            "seed": HELDOUT_SEED if args.seed is None else args.seed,
        }
    else:
        if args.conditions is not None:
            raise ParameterError("--conditions needs --heldout")
        n_songs = 20 if args.songs is None else args.songs
        total, write, unit = n_songs, write_evalset, "songs"
        settings = {
            "seed": EVAL_SEED if args.seed is None else args.seed,
            "soundfont": args.soundfont or "fluidr3",
        }
    settings = {"n_songs": n_songs, "n_bars": args.bars, **settings}
    # built in a temporary folder, renamed when complete: Ctrl-C leaves no partial set
    with output_folder(args.out, force=args.force) as tmp:
        written = _with_progress(total, args.quiet, unit, write, tmp, **settings)
        kind = "heldout" if args.heldout else "evalset"
        fmt = HELDOUT_FORMAT if args.heldout else EVALSET_FORMAT
        stamp = {"kind": kind, **settings, "format": fmt, "version": __version__}
        write_json(tmp / "evalset.json", stamp)
    if not args.quiet:
        if args.heldout:
            n_files = sum(len(paths) for paths in written.values())
            files, conds = _count(n_files, "file"), _count(len(written), "condition")
            print(f"{args.out}: {files} in {conds} ({', '.join(written)})")
        else:
            print(f"{args.out}: {len(written)} songs (.wav, .lab, .json)")
    return 0


def _cmd_train(args) -> int:
    from .fit import TrainConfig, load_config
    from .runs import train_recogniser

    programs = None
    if args.programs:
        try:
            programs = tuple(int(p) for p in args.programs.split(","))
        except ValueError:
            raise ParameterError(
                f"--programs {args.programs!r} must be comma-separated integers 0..127"
            ) from None
    overrides = {
        k: v
        for k, v in {
            "vocab": args.vocab,
            "data": args.data,
            "model": args.model,
            "n_songs": args.songs,
            "synths": tuple(args.synth.split(",")) if args.synth else None,
            "programs": programs,
            "steps": args.steps,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "seed": args.seed,
            "device": args.device,
        }.items()
        if v is not None
    }
    config = (
        load_config(args.config, **overrides)
        if args.config
        else replace(TrainConfig(), **overrides)
    )
    if args.steps and args.epochs:
        raise ParameterError("give --steps or --epochs, not both")
    out = _with_progress(
        None if config.epochs else config.steps,  # epochs: steps known once the data is drawn
        args.quiet,
        f"train {config.vocab}",
        train_recogniser,
        config,
        args.out,
        resume=args.resume,
        force=args.force,
        threads=args.threads,
        render_cache=args.render_cache,
    ).out
    if not args.quiet and int(os.environ.get("RANK", 0)) == 0:
        m = json.loads((out / "metrics.json").read_text())
        print(
            f"{out}: test accuracy {m['test_accuracy']:.4f} ({m['n_test']} examples), "
            f"{m['examples_per_second']:.0f} examples/s; see {out / 'report.html'}"
        )
    return 0


def _cmd_predict(args) -> int:
    from .errors import ParameterError
    from .io import CHORD_FORMATS

    names = list(CHORD_FORMATS)
    if args.format not in CHORD_FORMATS:
        choices = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
        raise ParameterError(f"--format {args.format!r} must be {choices}")
    if not 0 < args.self_transition < 1:
        raise ParameterError(f"--self-transition {args.self_transition} must be in (0, 1)")
    if not 0 <= args.min_duration < float("inf"):
        raise ParameterError(f"--min-duration {args.min_duration} must be seconds >= 0")
    if not 0 <= args.shift_average <= 6:
        raise ParameterError(f"--shift-average {args.shift_average} must be 0 .. 6 semitones")
    tuning = args.tuning
    if tuning != "auto":
        try:
            tuning = float(tuning)
        except ValueError:
            tuning = None
        if tuning is None or not -0.5 <= tuning <= 0.5:
            raise ParameterError(f"--tuning {args.tuning} must be auto or semitones in -0.5..0.5")

    written = []
    bar = None if args.quiet or not _on_terminal() else _Bar(None, "predict")

    def say(line: str, file) -> None:  # above the bar, if there is one
        if bar is None:
            print(line, file=file)
        else:
            bar.bar.write(line, file=file)

    def show(result) -> None:  # as each file is done
        if result.ok:
            written.append(result.destination)
        if result.error is not None:
            say(f"chordscope: error: {result.error}", sys.stderr)
        elif not args.quiet:
            page = f", page {result.page}" if result.page else ""
            say(
                f"{result.source} -> {result.destination} ({len(result.segments)} segments{page})",
                sys.stdout,
            )

    t0 = time.perf_counter()
    try:
        results = _predict_files(args, tuning, show, bar)
    except KeyboardInterrupt as exc:  # each chord file is whole (written, renamed): say which
        if not written:
            print(f"chordscope: {_stopped(exc)}; nothing was written", file=sys.stderr)
        else:
            files = f"{written[0]}" + (f" ... {written[-1]}" if len(written) > 1 else "")
            print(
                f"chordscope: {_stopped(exc)}; {len(written)} chord file(s) written before it "
                f"({files}), none half-written",
                file=sys.stderr,
            )
        return _stop_status(exc)
    finally:
        if bar is not None:
            bar.close()
    failed = sum(not r.ok for r in results)
    if not args.quiet and len(results) > 1:
        print(
            f"{len(results) - failed} of {len(results)} files labelled"
            + (f", {failed} failed" if failed else "")
            + f" in {time.perf_counter() - t0:.1f} s"
        )
    return 1 if failed else 0


def _predict_files(args, tuning, show, progress):
    from .recognise import predict_files

    return predict_files(
        args.audio,
        model=args.model,
        qualities=None if args.qualities == "none" else args.qualities,
        out_dir=args.output,
        format=args.format,
        self_transition=args.self_transition,
        min_duration=args.min_duration,
        tuning=tuning,
        shift_average=args.shift_average,
        metadata={"tuning": args.tuning},  # JAMS records --tuning as typed
        on_result=show,
        threads=args.threads,
        html=args.html,
        audio_mode=args.audio_mode,
        progress=progress,
    )


def _cmd_generalise(args) -> int:
    from .generalise import TRAINING, summarise
    from .io import read_json
    from .runs import run_generalisation

    out = _with_progress(
        len(TRAINING),
        args.quiet,
        "generalise",
        run_generalisation,
        args.out,
        quick=args.quick,
        seed=args.seed,
        force=args.force,
    )
    if not args.quiet:
        for line in summarise(read_json(out / "generalisation.json")):
            print(line)
        print(f"see {out / 'report.html'}")
    return 0


def _cmd_score(args) -> int:
    from .evaluate import CHORD_METRICS, pair_files, score_files

    result = score_files(pair_files(args.reference, args.estimate))
    for reason in result["errors"].values():  # each pair that could not be read: one line
        print(f"chordscope: error: {reason}", file=sys.stderr)
    # 0: all scored; 1: some pairs could not be read (the others are scored); 2: none could
    status = 0 if not result["errors"] else 1 if result["files"] else EXIT_USAGE
    if args.json:
        print(json.dumps(result, indent=2))
        return status
    if not result["files"]:
        return status
    width = max(len("all (weighted)"), *(len(n) for n in result["files"]))
    print(f"{'file':<{width}} " + " ".join(f"{m:>8}" for m in CHORD_METRICS))
    rows = list(result["files"].items()) + [("all (weighted)", result["total"])]
    ci = result["interval_95"]
    if any(ci.values()):  # two files or more: drawn with replacement
        for side, name in enumerate(("95 % low", "95 % high")):
            rows.append((name, {m: ci[m] and ci[m][side] for m in CHORD_METRICS}))
    for name, scores in rows:
        cells = ("     n/a" if scores[m] is None else f"{scores[m]:8.4f}" for m in CHORD_METRICS)
        print(f"{name:<{width}} " + " ".join(cells))
    return status


def _cmd_view(args) -> int:
    from .evaluate import chord_scores
    from .features import CHORD_CQT, SR
    from .io import Segment, read_chords
    from .page import write_prediction_page
    from .recognise import audio_features, load_audio

    def segments(path):
        intervals, labels = read_chords(path)
        return [
            Segment(float(s), float(e), lab) for (s, e), lab in zip(intervals, labels, strict=True)
        ]

    estimate = segments(args.labels)
    reference = segments(args.ref) if args.ref else None
    y = load_audio(args.audio, sr=SR)
    features = audio_features(y, CHORD_CQT)
    scores = None
    if reference is not None:
        scores, _ = chord_scores(
            [s[:2] for s in reference], [s[2] for s in reference],
            [s[:2] for s in estimate], [s[2] for s in estimate],
        )  # fmt: skip
    out = Path(args.output) if args.output else Path(args.labels).with_suffix(".html")
    write_prediction_page(
        out, args.audio, estimate, features=features, reference=reference, scores=scores,
        duration=len(y) / SR, audio_mode=args.audio_mode,
    )  # fmt: skip
    if args.png:
        from . import plots
        from .page import chroma_picture

        fig = plots.prediction_figure(
            chroma_picture(features), estimate, duration=len(y) / SR, reference=reference,
            title=Path(args.audio).name,
        )  # fmt: skip
        plots.save_figure(fig, args.png)
    if not args.quiet:
        print(out)
    return 0


def _cmd_sonify(args) -> int:
    import io as _io

    from .errors import valid_non_negative_int
    from .features import SR
    from .io import atomic_write_bytes, read_chords, write_wav
    from .synth import chords_midi, sonify

    seed = valid_non_negative_int("seed", args.seed)
    intervals, labels = read_chords(args.labels)
    segs = [(float(s), float(e), lab) for (s, e), lab in zip(intervals, labels, strict=True)]
    if not segs:
        raise ParameterError(f"{args.labels}: no chords to play")
    out = Path(args.output) if args.output else Path(args.labels).with_suffix(".chords.wav")
    y = sonify(segs, synth=args.synth, program=args.program, seed=seed)
    buf = _io.BytesIO()
    chords_midi(segs, program=args.program).write(buf)
    write_wav(out, y, SR)
    atomic_write_bytes(out.with_suffix(".mid"), buf.getvalue())
    if not args.quiet:
        print(f"{out} and {out.with_suffix('.mid')}")
    return 0


def _cmd_report(args) -> int:
    from .report import write_generalisation_report, write_report, write_sweep_report

    folder = Path(args.run_dir)
    if (folder / "sweep.json").exists():
        path = write_sweep_report(folder)
    elif (folder / "generalisation.json").exists():
        path = write_generalisation_report(folder)
    else:
        path = write_report(folder)
    if not args.quiet:
        print(path)
    return 0


DESCRIPTION = (
    "Train small, explainable CNN chord recognisers on synthesised audio, look inside them,\n"
    "and label the chords of recordings."
)
#: One example per subcommand (command, what it does), shown at the end of its --help.
EXAMPLES = {
    "run": ("chordscope run --recipe seed --seed 3", "the tutorial's experiment"),
    "sweep": (
        "chordscope sweep --seeds 100 --recipe seed",
        "how often the tutorial's recipe fails",
    ),
    "explain": ("chordscope explain runs/robust-seed0", "what each kernel learned"),
    "synth": ('chordscope synth --sequence "C:maj A:min F:maj G:7" --out clips', ""),
    "evalset": ("chordscope evalset --out evalset", "20 rendered songs with .lab files"),
    "train": ("chordscope train --config train.toml --out runs/mine", ""),
    "predict": ("chordscope predict song.flac --html", "song.lab and song.html"),
    "view": ("chordscope view song.flac song.lab --ref reference.lab", ""),
    "generalise": ("chordscope generalise --quick --out matrix", ""),
    "score": ("chordscope score references/ labels/", "mir_eval, pooled by duration"),
    "report": ("chordscope report runs/robust-seed0", ""),
    "sonify": ("chordscope sonify song.lab", "song.chords.wav and song.chords.mid"),
}


def _example(name: str) -> str:
    command, what = EXAMPLES[name]
    return f"  {command:46} # {what}" if what else f"  {command}"


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="chordscope",
        description=DESCRIPTION,
        epilog="examples:\n"
        + "\n".join(_example(k) for k in ("run", "predict", "score"))
        + "\n\n'chordscope COMMAND --help' describes one command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"chordscope {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def threads(sp, default):
        sp.add_argument(
            "--threads",
            type=int,
            help=f"torch threads (default: {default}; CHORDSCOPE_THREADS or OMP_NUM_THREADS win)",
        )

    def audio_option(sp):
        sp.add_argument(
            "--audio",
            dest="audio_mode",
            default="auto",
            choices=("auto", "embed", "link"),
            help="the page embeds the audio (auto: files up to 20 MB) or links it",
        )

    def common(sp, recipe_default="robust"):
        sp.add_argument("--recipe", default=recipe_default, help="robust (default) or seed")
        sp.add_argument("--out", help="output folder (default under runs/)")
        sp.add_argument("--force", action="store_true", help="replace the output folder")
        sp.add_argument("--epochs", type=int, help="override the recipe's number of epochs")
        sp.add_argument("--steps-per-epoch", type=int, help="override the recipe's steps per epoch")
        sp.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
        threads(sp, "1: the network is too small to share")

    run = sub.add_parser("run", help="train the tutorial's network once and write a run folder")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    common(run)
    run.set_defaults(func=_cmd_run)

    sweep = sub.add_parser("sweep", help="train many seeds at once; write sweep.json")
    sweep.add_argument("--seeds", type=int, required=True, help="number of seeds")
    sweep.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    sweep.add_argument(
        "--explain", action="store_true", help="explain every seed; write census.json"
    )
    common(sweep)
    sweep.set_defaults(func=_cmd_sweep)

    exp = sub.add_parser("explain", help="measure what every kernel learned")
    exp.add_argument("model", help="a run folder or a .safetensors model file")
    exp.add_argument("--out", help="output folder (default: the model's folder)")
    exp.add_argument("--quiet", action="store_true")
    exp.set_defaults(func=_cmd_explain)

    syn = sub.add_parser("synth", help="render chord labels (Harte syntax) to WAV files")
    syn.add_argument("labels", nargs="*", help="chord labels, e.g. C:maj A:min7 G:7/3 N")
    syn.add_argument(
        "--synth", default="additive", help="sine, additive (default), pluck, soundfont"
    )
    syn.add_argument("--program", type=int, help="General-MIDI program 0..127 (soundfont)")
    syn.add_argument("--soundfont", help="fluidr3 (default), timgm6mb or a path to an .sf2 file")
    syn.add_argument("--seed", type=int, default=0)
    syn.add_argument("--duration", type=float, default=2.0, help="seconds per chord (default 2)")
    syn.add_argument("--sr", type=int, default=SR, help=f"sample rate (default {SR})")
    syn.add_argument("--random-voicing", action="store_true", help="draw inversion, spread, ...")
    syn.add_argument("--snr", help="add noise at this signal-to-noise ratio in dB")
    syn.add_argument("--noise", default="white", help="white (default) or pink")
    syn.add_argument("--reverb", type=float, help="add reverb with this RT60 in seconds")
    syn.add_argument("--sequence", help='one file of chords in a row: "C:maj D:min7 G:7"')
    syn.add_argument("--durations", help='seconds per chord of --sequence: "1 1 2"')
    syn.add_argument("--out", required=True, help="output folder")
    syn.add_argument("--quiet", action="store_true")
    syn.set_defaults(func=_cmd_synth)

    ev = sub.add_parser("evalset", help="render chordscope's evaluation songs with FluidSynth")
    ev.add_argument("--out", required=True, help="output folder")
    ev.add_argument(
        "--songs",
        type=int,
        help="number of songs (default 20; with --heldout: per condition, default 40)",
    )
    ev.add_argument("--bars", type=int, default=8, help="bars per song (default 8)")
    ev.add_argument("--seed", type=int, help="seed (default: the evaluation set's own)")
    ev.add_argument("--soundfont", help="fluidr3 (default), timgm6mb or a path")
    ev.add_argument(
        "--heldout",
        action="store_true",
        help="write the held-out set instead: unseen instruments, SoundFont and effects, "
        "one folder per condition (chordscope.heldout)",
    )
    ev.add_argument("--conditions", help="with --heldout: comma-separated conditions (default all)")
    ev.add_argument(
        "--force", action="store_true", help="replace an existing set (only a chordscope folder)"
    )
    ev.add_argument("--quiet", action="store_true")
    ev.set_defaults(func=_cmd_evalset)

    tr = sub.add_parser("train", help="train a recogniser (ChordCNN, ChordTCN) on realistic data")
    tr.add_argument("--vocab", help="majmin (default), triads or sevenths")
    tr.add_argument(
        "--data",
        help="chords (isolated chord clips, default), songs (rendered songs' frames) or music "
        "(excerpts of musical songs: progressions, voicings, bass lines, augmentation)",
    )
    tr.add_argument(
        "--model", help="ChordCNN (7 frames, default) or ChordTCN (2 s of context; --data music)"
    )
    tr.add_argument("--songs", type=int, help="number of training songs for --data songs|music")
    tr.add_argument("--synth", help="comma-separated synthesis kinds (default additive)")
    tr.add_argument("--programs", help="comma-separated GM programs for soundfont")
    tr.add_argument("--steps", type=int, help="optimiser steps")
    tr.add_argument(
        "--epochs", type=float, help="passes over a fixed training set (--data songs or n_pool)"
    )
    tr.add_argument("--batch-size", type=int, help="global batch size")
    tr.add_argument("--seed", type=int)
    tr.add_argument("--config", help="a TOML file of training settings")
    tr.add_argument("--device", help="auto (default), cpu or cuda")
    tr.add_argument("--resume", action="store_true", help="continue from the folder's checkpoint")
    tr.add_argument("--force", action="store_true", help="replace a finished run")
    tr.add_argument("--out", required=True, help="run folder")
    tr.add_argument(
        "--render-cache",
        metavar="DIR",
        help="keep the rendered training songs (--data music) in DIR and reuse them in later "
        "runs of the same data settings; the weights do not depend on it",
    )
    tr.add_argument("--quiet", action="store_true")
    threads(tr, "the cores not busy with other programs")
    tr.set_defaults(func=_cmd_train)

    pr = sub.add_parser("predict", help="label chords in audio files (.lab, JAMS or CSV)")
    pr.add_argument(
        "audio", nargs="+", help="audio files (wav, flac, ogg, mp3, ...) or folders of them"
    )
    pr.add_argument("-o", "--output", help="output folder (default: beside each audio file)")
    pr.add_argument("--format", default="lab", help="lab (MIREX, default), jams or csv")
    pr.add_argument(
        "--model", default="majmin", help="majmin (default), sevenths, or a trained model's path"
    )
    pr.add_argument(
        "--qualities",
        metavar="MODEL",
        default="auto",
        help="take each chord's quality from this model, its root from --model; auto "
        "(default): majmin-fine for majmin, sevenths-fine for sevenths (the finer transform's "
        "thirds, the plain one's roots), none for another model; none: --model alone",
    )
    pr.add_argument(
        "--self-transition",
        type=float,
        default=0.97,
        help="Viterbi probability of staying on a chord from one frame to the next (0.97)",
    )
    pr.add_argument(
        "--min-duration", type=float, default=0.25, help="shortest segment, seconds (0.25)"
    )
    pr.add_argument(
        "--shift-average",
        type=int,
        default=1,
        metavar="K",
        help="average the network over the input moved by -K..K semitones (1: three passes; "
        "0: one, three times faster)",
    )
    pr.add_argument(
        "--tuning",
        default="auto",
        help="auto (estimate, default) or the recording's offset from A440 in semitones",
    )
    pr.add_argument("--quiet", action="store_true")
    pr.add_argument(
        "--html",
        action="store_true",
        help="also write NAME.html: the chords over time under a chromagram, with the audio",
    )
    audio_option(pr)
    threads(pr, "the cores not busy with other programs")
    pr.set_defaults(func=_cmd_predict)

    ge = sub.add_parser(
        "generalise", help="train one model per kind of sound and test each on every kind"
    )
    ge.add_argument("--quick", action="store_true", help="a small matrix in minutes (for tests)")
    ge.add_argument("--seed", type=int, default=0)
    ge.add_argument("--force", action="store_true", help="replace an existing output folder")
    ge.add_argument("--out", required=True, help="output folder")
    ge.add_argument("--quiet", action="store_true")
    ge.set_defaults(func=_cmd_generalise)

    vi = sub.add_parser(
        "view", help="write the page of a recording and its chords (and a reference)"
    )
    vi.add_argument("audio", help="the recording")
    vi.add_argument("labels", help="its chords (.lab, .jams or .csv), e.g. from predict")
    vi.add_argument("--ref", help="reference chords: adds a lane, the errors and the scores")
    vi.add_argument("-o", "--output", help="the page (default: LABELS with .html)")
    vi.add_argument("--png", help="also save the same as a static figure (PNG) here")
    audio_option(vi)
    vi.add_argument("--quiet", action="store_true")
    vi.set_defaults(func=_cmd_view)

    so = sub.add_parser(
        "sonify", help="render chord labels over time to WAV and MIDI, to hear them"
    )
    so.add_argument("labels", help="chords (.lab, .jams or .csv), e.g. from predict")
    so.add_argument("-o", "--output", help="the WAV (default: LABELS with .chords.wav)")
    so.add_argument(
        "--synth", default="additive", help="sine, additive (default), pluck, soundfont"
    )
    so.add_argument("--program", type=int, default=0, help="General-MIDI program (default 0)")
    so.add_argument("--seed", type=int, default=0)
    so.add_argument("--quiet", action="store_true")
    so.set_defaults(func=_cmd_sonify)

    sc = sub.add_parser(
        "score", help="score chord estimates against references with mir_eval (.lab, JAMS, CSV)"
    )
    sc.add_argument("reference", help="a reference file, or a folder of them")
    sc.add_argument("estimate", help="an estimate file, or a folder matched to it by file name")
    sc.add_argument("--json", action="store_true", help="print the scores as JSON")
    sc.set_defaults(func=_cmd_score)

    rep = sub.add_parser("report", help="(re)write report.html of a run, sweep or matrix folder")
    rep.add_argument("run_dir", help="a run, sweep or generalise folder")
    rep.add_argument("--quiet", action="store_true")
    rep.set_defaults(func=_cmd_report)
    for name, sp in sub.choices.items():  # a description, an example, help on every option
        sp.description = next(a.help for a in sub._choices_actions if a.dest == name)
        sp.epilog = f"example:\n{_example(name)}"
        sp.formatter_class = argparse.RawDescriptionHelpFormatter
        for action in sp._actions:
            if action.help is None and action.dest in _OPTION_HELP:
                action.help = _OPTION_HELP[action.dest]
    return p


_OPTION_HELP = {
    "quiet": "no progress bar, no summary",
    "seed": "seed of every random draw (default 0): same seed, same result",
}


def _save_traceback() -> str:
    """Write the current exception's traceback to a file; return its path (or a note)."""
    import tempfile
    import traceback

    text = "".join(traceback.format_exc())
    try:
        fd, path = tempfile.mkstemp(prefix="chordscope-traceback-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"chordscope {__version__}, python {sys.version.split()[0]}\n{text}")
    except OSError:
        return "no traceback file: the temporary folder is not writable"
    return path


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it cleans up as after Ctrl-C."""


_TERMINATED = []  # set by the handler: a Terminated raised inside a callback Python ignores


def _on_sigterm(signum, frame):
    _TERMINATED.append(signum)
    raise Terminated


def _catch_sigterm():
    """Turn SIGTERM into :class:`Terminated` (main thread only); return the old handler."""
    try:
        return signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave the signal alone
        return None


def _stopped(exc: BaseException) -> str:
    return "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"


def _stop_status(exc: BaseException) -> int:
    """128 + the signal's number: 143 for SIGTERM, 130 for Ctrl-C (SIGINT)."""
    return 143 if isinstance(exc, Terminated) else 130


def _left_behind(args) -> str:
    """Say what an interrupted command leaves: a training checkpoint, or nothing."""
    if args.command == "train" and getattr(args, "out", None):
        try:
            from .fit import checkpoint_folder

            step = json.loads((checkpoint_folder(args.out) / "checkpoint.json").read_text())["step"]
        except (OSError, ValueError, KeyError, TypeError):
            step = None
        if isinstance(step, int):
            return f"checkpoint saved at step {step}, --resume continues"
    return "nothing was written"


def main(argv=None) -> int:
    """Run the ``chordscope`` command; return the exit status."""
    parser = _parser()
    if not (sys.argv[1:] if argv is None else argv):  # bare `chordscope`: say what it can do
        parser.print_help()
        return EXIT_USAGE
    args = parser.parse_args(argv)
    # librosa's CQT warns about its shortest internal FFT on 1-second clips; the result is right
    warnings.filterwarnings("ignore", message="n_fft=.*is too large for input signal")
    previous = _catch_sigterm()
    _TERMINATED.clear()  # a signal from an earlier call in this process is not this one's
    try:
        status = args.func(args)
        sys.stdout.flush()  # a reader that has gone shows here, inside the handlers below
        if _TERMINATED:  # raised where Python swallows exceptions (an import lock's callback)
            raise Terminated
        return status
    except ChordscopeError as exc:
        print(f"chordscope: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `chordscope score ... | head`: the reader has all it wanted
        # stdout's buffer still holds lines for the closed pipe: point it at /dev/null so that
        # the interpreter's flush at exit does not fail as well
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001  (a bug: one line, the traceback in a file)
        where = _save_traceback()
        first = (str(exc).splitlines() or [""])[0][:200]
        print(
            f"chordscope: internal error: {type(exc).__name__}: {first} "
            f"(please report it with {where})",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    except KeyboardInterrupt as exc:
        print(f"chordscope: {_stopped(exc)}; {_left_behind(args)}", file=sys.stderr)
        return _stop_status(exc)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
