"""Files: models (safetensors + JSON, never pickle), JSON, CSV, atomic writes.

Conventions
-----------
- A model is two files with one stem: ``NAME.safetensors`` (the weights, loaded without
  executing anything) and ``NAME.json`` (architecture, vocabulary, features, recipe, seed,
  versions). :func:`load_model` checks that the weights fit the architecture.
- Every file is written to a temporary name in its folder and renamed into place, so a reader
  never sees half a file.
"""

from __future__ import annotations

import csv
import io as _io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import ModelFileError, OutputError

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "write_json",
    "read_json",
    "write_csv",
    "save_model",
    "load_model",
    "model_paths",
    "write_wav",
    "write_lab",
    "read_lab",
]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def publish_mode(path, *, folder: bool = False) -> None:
    """Give a temporary file or folder the mode a plain ``open``/``mkdir`` would have."""
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        publish_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically; see :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented, key-ordered-as-given JSON, atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def read_json(path) -> dict:
    """Read a JSON object; a missing or malformed file raises :class:`ModelFileError`."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: not a valid JSON file ({exc})") from None
    if not isinstance(obj, dict):
        raise ModelFileError(f"{path}: expected a JSON object")
    return obj


def write_csv(path, rows: list[dict]) -> Path:
    """Write a list of dicts (same keys) as CSV with a header, atomically."""
    buf = _io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(path, buf.getvalue())


def model_paths(path) -> tuple[Path, Path]:
    """``(weights, metadata)`` paths for a run folder, a ``.safetensors`` or a ``.json`` path."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.safetensors"
    return path.with_suffix(".safetensors"), path.with_suffix(".json")


def save_model(path, model, metadata: dict) -> tuple[Path, Path]:
    """Save ``model``'s weights as safetensors and ``metadata`` (+ architecture) as JSON.

    Parameters
    ----------
    path : path-like
        A run folder (writes ``model.safetensors`` and ``model.json`` in it) or a
        ``.safetensors`` path.
    model : torch.nn.Module
        Must carry an ``architecture`` dict (every chordscope model does).
    metadata : dict
        JSON-ready description; ``architecture`` is added from the model.
    """
    from safetensors.torch import save as st_save

    weights, meta = model_paths(path)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(weights, st_save(tensors, metadata={"format": "pt", "chordscope": "1"}))
    write_json(meta, {"architecture": model.architecture, **metadata})
    return weights, meta


def load_model(path):
    """Load a model saved by :func:`save_model`; nothing in the files is executed.

    Parameters
    ----------
    path : path-like
        A run folder, a ``.safetensors`` file or its ``.json`` sibling.

    Returns
    -------
    model : torch.nn.Module  (in eval mode)
    metadata : dict  the JSON file's content

    Raises
    ------
    ModelFileError
        If a file is missing, is not safetensors / JSON, names an unknown architecture, or
        holds weights whose names or shapes do not fit it.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    from .models import build_model

    weights, meta_path = model_paths(path)
    if not weights.is_file():
        raise ModelFileError(f"{weights}: no such model file")
    meta = read_json(meta_path)
    try:
        tensors = st_load(weights.read_bytes())
    except (SafetensorError, ValueError, RuntimeError, OSError) as exc:
        raise ModelFileError(f"{weights}: not a valid safetensors file ({exc})") from None
    model = build_model(meta.get("architecture"))
    expected = model.state_dict()
    if set(tensors) != set(expected):
        raise ModelFileError(
            f"{weights}: tensors {sorted(tensors)} do not match architecture "
            f"{meta['architecture'].get('name')!r} (expects {sorted(expected)})"
        )
    for name, t in tensors.items():
        if tuple(t.shape) != tuple(expected[name].shape):
            raise ModelFileError(
                f"{weights}: {name} has shape {tuple(t.shape)}, "
                f"expected {tuple(expected[name].shape)}"
            )
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})
    return model.eval(), meta


def write_wav(path, y, sr: int) -> Path:
    """Write a mono float waveform as 16-bit PCM WAV, atomically (peaks above 1 are clipped)."""
    from scipy.io import wavfile

    buf = _io.BytesIO()
    pcm = (np.clip(np.asarray(y, dtype=float), -1.0, 1.0) * 32767).round().astype(np.int16)
    wavfile.write(buf, int(sr), pcm)
    return atomic_write_bytes(path, buf.getvalue())


def write_lab(path, intervals, labels) -> Path:
    """Write a MIREX ``.lab`` file: ``start<TAB>end<TAB>label`` per line, seconds, atomically."""
    lines = [f"{s:.6f}\t{e:.6f}\t{lab}\n" for (s, e), lab in zip(intervals, labels, strict=True)]
    return atomic_write_text(path, "".join(lines))


def read_lab(path):
    """Read a ``.lab`` file with ``mir_eval.io.load_labeled_intervals``: (intervals, labels)."""
    import mir_eval.io

    return mir_eval.io.load_labeled_intervals(str(path))
