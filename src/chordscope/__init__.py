"""chordscope: small, explainable CNN chord recognisers trained on synthesised audio.

The package is a flat set of modules, one per stage of the data flow::

    chords -> synth -> features -> data -> models <- train
    explain -> plots -> report;  fit (larger recognisers) -> recognise (audio files)
    songs -> musicdata -> fit (training on music);  evalset, heldout (evaluation sets)
    io for files;  cli for the command line

Importing ``chordscope`` is cheap: the modules load when first used.
"""

import importlib

__version__ = "0.1.0"

_MODULES = {
    "chords",
    "synth",
    "features",
    "data",
    "models",
    "train",
    "evaluate",
    "explain",
    "io",
    "plots",
    "report",
    "cli",
    "errors",
    "runs",
    "evalset",
    "fit",
    "recognise",
    "generalise",
    "heldout",
    "songs",
    "musicdata",
}


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "predict":  # chordscope.predict(path): chords of an audio file
        return importlib.import_module(f"{__name__}.recognise").predict
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
