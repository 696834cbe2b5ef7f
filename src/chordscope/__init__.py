"""chordscope: small, explainable CNN chord recognisers trained on synthesised audio.

The package is a flat set of modules, one per stage of the data flow (``docs/architecture.md``
draws the rooms and the import arrows)::

    chords -> synth -> features -> tutorial_data -> tutorial (the tutorial's trainer)
    songs -> datasets, musicdata -> fit (the recogniser trainer) -> runs (run folders)
    recognise (audio files -> chords), evaluate (mir_eval), explain, plots, report
    evalset, heldout (evaluation sets);  io for files;  cli for the command line

Importing ``chordscope`` is cheap: every module loads when first used, as
``chordscope.NAME``; ``chordscope.predict`` and ``chordscope.predict_files`` are
:func:`chordscope.recognise.predict` and :func:`chordscope.recognise.predict_files`.
"""

import importlib
import pkgutil

__version__ = "0.1.0"

_SHORTCUTS = {"predict": "recognise", "predict_files": "recognise"}


def _modules() -> set[str]:
    """Names of the package's modules (found on disk, so the list never drifts)."""
    return {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}


def __getattr__(name):
    if name in _SHORTCUTS:
        return getattr(importlib.import_module(f"{__name__}.{_SHORTCUTS[name]}"), name)
    if name in _modules():
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_modules(), *_SHORTCUTS})
