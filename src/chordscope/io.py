"""Files: models (safetensors + JSON, never pickle), JSON, CSV, atomic writes.

Conventions
-----------
- A model is two files with one stem: ``NAME.safetensors`` (the weights, loaded without
  executing anything) and ``NAME.json`` (architecture, vocabulary, features, recipe, seed,
  versions). :func:`load_model` checks that the weights fit the architecture.
- Every file is written to a temporary name in its folder and renamed into place, so a reader
  never sees half a file.
- Chord annotations travel as :class:`Segment` s. Each chord file format (``.lab``, JAMS, CSV)
  is one :class:`ChordFormat` in :data:`CHORD_FORMATS` (name, suffix, writer, reader): writing
  (:func:`chord_format`), reading (:func:`read_chords`) and ``chordscope predict --format``
  go through that registry, so a new format is one more entry there.
"""

from __future__ import annotations

import csv
import errno
import io as _io
import json
import numbers
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .errors import InputError, ModelFileError, OutputError, ParameterError, valid_choice

__all__ = [
    "atomic_write_bytes",
    "output_folder",
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
    "Segment",
    "ChordFormat",
    "CHORD_FORMATS",
    "CHORD_SUFFIXES",
    "chord_format",
    "write_jams",
    "write_chords_csv",
    "read_chords",
    "check_replaceable",
    "publish_mode",
]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def publish_mode(path, *, folder: bool = False) -> None:
    """Give a temporary file or folder the mode a plain ``open``/``mkdir`` would have."""
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


#: Files that mark a folder as chordscope's own output (``--force`` may replace it).
OWN_FILES = frozenset(
    {
        "metrics.json",
        "sweep.json",
        "generalisation.json",
        "model.json",
        "report.html",
        "evalset.json",
    }
)


def check_replaceable(out: Path) -> None:
    """Refuse to replace a file, the current folder, a folder above it, or a foreign folder."""
    if not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a folder")
    here = Path.cwd().resolve()
    if out.resolve() == here or out.resolve() in here.parents:
        raise OutputError(f"output folder {out} is the current folder or above it")
    names = {p.name for p in out.iterdir()}
    if names and not names & OWN_FILES:
        raise OutputError(
            f"output folder {out} was not made by chordscope; --force replaces only "
            "chordscope's folders"
        )


def _replace_folder(new: Path, out: Path, attempts: int = 5) -> None:
    """Put folder ``new`` at ``out``, moving an old ``out`` aside first and deleting it after.

    Another process may move or replace ``out`` between the two renames (two ``--force`` runs
    into one folder): then it tries again, so the last to finish wins and neither fails.
    """
    for attempt in range(attempts):
        old = out.with_name(f".{out.name}.old-{os.getpid()}-{attempt}")
        try:
            os.replace(out, old)
        except FileNotFoundError:  # nothing there (or another process moved it first)
            old = None
        try:
            os.replace(new, out)
            return
        except OSError as exc:  # another process put its folder there in between
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or attempt == attempts - 1:
                raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from None
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)


@contextmanager
def output_folder(out, *, force: bool = False):
    """Yield a temporary folder that replaces ``out`` only if the block completes.

    Raises :class:`OutputError` at once if ``out`` exists (other than as an empty folder) and
    ``force`` is false, or if its parent cannot be written. Even with ``force``, the current
    folder (or one above it) and a non-empty folder that holds none of the files chordscope
    writes (:data:`OWN_FILES`) are never replaced. Interrupted (Ctrl-C, an error), the block
    leaves ``out`` as it was. If another process creates ``out`` meanwhile (and ``force`` is
    false), nothing is replaced: the result is kept beside it as ``<out>-<pid>`` and
    :class:`OutputError` says so.
    """
    out = Path(out)
    try:
        empty = out.is_dir() and not any(out.iterdir())
    except OSError as exc:
        raise OutputError(f"cannot read {out}: {exc.strerror or exc}") from None
    if out.exists() and not force and not empty:
        raise OutputError(f"output folder {out} exists; pass --force to replace it")
    if out.exists():
        check_replaceable(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
        publish_mode(tmp, folder=True)
    except OSError as exc:
        raise OutputError(f"cannot write to {out.parent}: {exc.strerror or exc}") from None
    try:
        yield tmp
        if out.exists() and not force and not (empty and not any(out.iterdir())):
            # another process wrote ``out`` while this one ran: keep both, replace neither
            alt = out.with_name(f"{out.name}-{os.getpid()}")
            os.replace(tmp, alt)
            raise OutputError(
                f"output folder {out} appeared while this command ran (another process?); "
                f"this result was kept as {alt}"
            )
        _replace_folder(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    Raises :class:`OutputError` if ``path`` is a folder or cannot be written (nothing is left
    behind then).
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder")
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
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically; see :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"))


#: The largest JSON file :func:`read_json` reads (model.json, run results).
MAX_JSON_BYTES = 64 * 2**20
#: The largest chord annotation :func:`read_chords` reads (a 200 000-segment .lab is 4 MB).
MAX_ANNOTATION_BYTES = 64 * 2**20


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented, key-ordered-as-given JSON, atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def read_json(path, *, error: type[Exception] = ModelFileError) -> dict:
    """Read a JSON object; a missing or malformed file raises ``error`` (one line, the path).

    A file larger than :data:`MAX_JSON_BYTES` or nested too deeply for Python's parser is
    malformed too, and so is JSON that is not an object.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise error(f"{path}: larger than {MAX_JSON_BYTES // 2**20} MiB")
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except RecursionError:
        raise error(f"{path}: not a valid JSON file (nested too deeply)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path}: not a valid JSON file ({exc})") from None
    if not isinstance(obj, dict):
        raise error(f"{path}: expected a JSON object, found {type(obj).__name__}")
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
    # one metadata key: safetensors writes its metadata map in a per-process order, so two keys
    # would make identical models differ in their bytes from one run to the next
    atomic_write_bytes(weights, st_save(tensors, metadata={"format": "pt"}))
    write_json(meta, {"architecture": model.architecture, **metadata})
    return weights, meta


_FEATURE_RANGES = {  # model.json "features": key -> (integer?, low, high), both inclusive
    "sr": (True, 1000, 192_000),
    "hop_length": (True, 16, 65_536),
    "n_bins": (True, 1, 1000),
    "bins_per_octave": (True, 1, 120),
    "first_frame": (True, 0, 10**6),
    "n_frames": (True, 0, 10**6),
    "n_context": (True, 0, 1000),
    "fmin": (False, 1e-3, 96_000.0),
    "filter_scale": (False, 1e-3, 10.0),
    "top_db": (False, 1e-3, 1000.0),
    "gain": (False, 1e-12, 1e12),
    "peak": (False, 1e-12, 1.0),
}


def _check_model_metadata(meta: dict, path: Path) -> None:
    """Check ``model.json``'s ``features`` and ``vocabulary`` entries (where present).

    Types and ranges of every feature (sample rate, hop, bins, ...: :data:`_FEATURE_RANGES`),
    the top bin below the Nyquist frequency, and every vocabulary label of a recogniser a valid
    Harte label.
    Raises :class:`ModelFileError` naming the file and the first bad value.
    """
    features = meta.get("features")
    if features is not None:
        if not isinstance(features, dict):
            raise ModelFileError(f"{path}: features must be a JSON object")
        for key, (integer, lo, hi) in _FEATURE_RANGES.items():
            if key not in features:
                continue
            v = features[key]
            kind = int if integer else numbers.Real
            ok = isinstance(v, kind) and not isinstance(v, bool) and lo <= v <= hi
            if not ok:
                want = f"an integer in {lo}..{hi}" if integer else f"a number in {lo:g}..{hi:g}"
                raise ModelFileError(f"{path}: features {key}={v!r} must be {want}")
        f = {"sr": 22050, "fmin": 32.7, "n_bins": 73, "bins_per_octave": 12, **features}
        top = f["fmin"] * 2 ** ((f["n_bins"] - 1) / f["bins_per_octave"])
        if top >= f["sr"] / 2:
            raise ModelFileError(
                f"{path}: features: the top bin ({top:.0f} Hz) must be below half the sample "
                f"rate ({f['sr'] / 2:.0f} Hz)"
            )
    vocabulary = meta.get("vocabulary")
    if vocabulary is not None:
        labels = vocabulary.get("labels") if isinstance(vocabulary, dict) else None
        if not isinstance(labels, list) or not 1 <= len(labels) <= 10_000:
            raise ModelFileError(f"{path}: vocabulary labels must be a list of 1..10000 labels")
        if not all(isinstance(label, str) for label in labels):
            raise ModelFileError(f"{path}: vocabulary labels must be strings")
        from .models import RECOGNISERS  # the tutorial's SeedCNN has classes maj, min

        if meta["architecture"]["name"] in RECOGNISERS:
            for label in dict.fromkeys(labels):
                reason = _harte_error(label)
                if reason:
                    raise ModelFileError(f"{path}: vocabulary: {reason}")


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
        If a file is missing, is not safetensors / JSON (or nests too deeply), names an unknown
        architecture or one out of range (checked before any allocation:
        :func:`chordscope.models.check_architecture`), has features out of range (sample rate
        1000..192000 Hz, hop 16..65536, 1..1000 bins, ...) or invalid vocabulary labels, or holds
        weights whose names or shapes do not fit it, or that are not finite.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    from .models import build_model, check_architecture  # (torch only when a model is read)

    weights, meta_path = model_paths(path)
    if not weights.is_file():
        raise ModelFileError(f"{weights}: no such model file")
    meta = read_json(meta_path)
    check_architecture(meta.get("architecture"))
    _check_model_metadata(meta, meta_path)
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
        if t.is_floating_point() and not bool(t.isfinite().all()):
            raise ModelFileError(f"{weights}: {name} holds NaN or infinite weights")
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
    """Read a ``.lab`` file with ``mir_eval.io.load_labeled_intervals``: (intervals, labels).

    Nothing is checked here; :func:`read_chords` reads and checks any chord file.
    """
    import mir_eval.io

    return mir_eval.io.load_labeled_intervals(str(path))


# --- chord annotations: .lab, JAMS, CSV ---------------------------------------------------


class Segment(tuple):
    """One chord segment: ``(start, end, label)``, or ``(start, end, label, confidence)``.

    A plain tuple of three items, or four when it carries a confidence, with names for them:
    it compares equal to, unpacks and prints like the tuples chordscope used before it
    (``start, end, label = seg`` still works for a segment without confidence).

    Attributes
    ----------
    start, end : float  seconds
    label : str  a Harte label
    confidence : float or None  in [0, 1]; ``None`` (and no fourth item) when not known

    Examples
    --------
    >>> seg = Segment(0.0, 1.5, "C:maj", 0.8)
    >>> seg.label, seg.confidence, seg == (0.0, 1.5, "C:maj", 0.8)
    ('C:maj', 0.8, True)
    >>> Segment(0.0, 1.5, "N")
    (0.0, 1.5, 'N')
    """

    __slots__ = ()

    def __new__(cls, start, end, label, confidence=None):
        """Make a segment of three items, or four when ``confidence`` is not ``None``."""
        items = (start, end, label) if confidence is None else (start, end, label, confidence)
        return super().__new__(cls, items)

    def __getnewargs__(self):  # copy and pickle through __new__
        return tuple(self)

    @property
    def start(self):
        """Start time in seconds."""
        return self[0]

    @property
    def end(self):
        """End time in seconds."""
        return self[1]

    @property
    def label(self):
        """A Harte chord label."""
        return self[2]

    @property
    def confidence(self):
        """Confidence in [0, 1], or ``None`` when not known."""
        return self[3] if len(self) > 3 else None


_JAMS_FILE_FIELDS = ("title", "artist", "release", "identifiers")
_JAMS_ANNOTATION_FIELDS = (
    "curator",
    "annotator",
    "version",
    "corpus",
    "annotation_rules",
    "validation",
    "data_source",
)


def _harte_error(label) -> str | None:
    """``None`` if mir_eval can encode ``label``, else a short reason."""
    import mir_eval.chord

    if not isinstance(label, str):
        return f"chord label {label!r} is not a string"
    try:
        mir_eval.chord.encode(label)
    except (mir_eval.chord.InvalidChordException, ValueError, TypeError, IndexError, KeyError):
        return f"invalid chord label {label!r}"
    return None


def _check_segments(path, segments) -> tuple[list[tuple], bool]:
    """Validate ``(start, end, label[, confidence])`` segments before writing them to ``path``.

    Returns the segments as plain Python values and whether they carry confidences.
    """
    segments = list(segments)
    if not segments:
        raise ParameterError(f"segments for {path} must not be empty")
    sizes = {len(seg) if isinstance(seg, (tuple, list)) else 0 for seg in segments}
    if sizes not in ({3}, {4}):
        raise ParameterError(
            f"segments for {path} must all be (start, end, label) or all "
            "(start, end, label, confidence)"
        )
    clean = []
    for i, seg in enumerate(segments):
        try:
            start, end = float(seg[0]), float(seg[1])
            conf = float(seg[3]) if len(seg) == 4 else None
        except (TypeError, ValueError):
            raise ParameterError(
                f"segments[{i}]={seg!r} for {path}: times and confidence must be numbers"
            ) from None
        if not (np.isfinite(start) and np.isfinite(end) and 0 <= start < end):
            raise ParameterError(f"segments[{i}]={seg!r} for {path} must have 0 <= start < end")
        if conf is not None and not 0 <= conf <= 1:
            raise ParameterError(f"segments[{i}]={seg!r} for {path}: confidence must be in [0, 1]")
        reason = _harte_error(seg[2])
        if reason:
            raise ParameterError(f"segments[{i}] for {path}: {reason}")
        clean.append((start, end, seg[2], conf))
    return clean, sizes == {4}


def write_jams(path, segments, *, duration=None, metadata=None) -> Path:
    """Write chord segments as a JAMS file with one ``chord`` annotation, atomically.

    The JAMS is validated against its schema before anything is written.

    Parameters
    ----------
    path : path-like
    segments : list of ``(start, end, label)`` or ``(start, end, label, confidence)``
        Seconds, Harte labels, confidence in [0, 1]; all segments have the same length.
    duration : float, optional
        Length of the audio in seconds; default: the latest segment end.
    metadata : dict, optional
        JSON-ready values. Keys naming a JAMS ``file_metadata`` field (``title``, ``artist``,
        ``release``, ``identifiers``) or ``annotation_metadata`` field (``annotator``,
        ``curator``, ``version``, ``corpus``, ``annotation_rules``, ``validation``,
        ``data_source``) are stored there; any other key (model name, audio file, settings)
        goes to the annotation's ``sandbox``. ``annotation_tools`` is always
        ``"chordscope <version>"``.

    Returns
    -------
    path : Path

    Raises
    ------
    ParameterError
        If a segment, the duration or the resulting JAMS is invalid (nothing is written).

    Examples
    --------
    >>> write_jams("song.jams", [(0.0, 2.0, "C:maj"), (2.0, 4.0, "A:min")])  # doctest: +SKIP
    PosixPath('song.jams')
    """
    import jams

    path = Path(path)
    segs, _ = _check_segments(path, segments)
    last_end = max(end for _, end, _, _ in segs)
    duration = last_end if duration is None else duration
    ok = isinstance(duration, numbers.Real) and not isinstance(duration, bool)
    if not (ok and np.isfinite(duration) and duration >= last_end):
        raise ParameterError(
            f"duration={duration!r} for {path} must be a number >= the last segment end "
            f"({last_end:g} s)"
        )
    metadata = dict(metadata or {})

    jam = jams.JAMS()
    jam.file_metadata.duration = float(duration)
    ann = jams.Annotation(namespace="chord", time=0.0, duration=float(duration))
    ann.annotation_metadata.annotation_tools = f"chordscope {__version__}"
    for key, value in metadata.items():
        if key in _JAMS_FILE_FIELDS:
            setattr(jam.file_metadata, key, value)
        elif key in _JAMS_ANNOTATION_FIELDS:
            setattr(ann.annotation_metadata, key, value)
        else:
            ann.sandbox.update(**{key: value})
    for start, end, label, conf in segs:
        ann.append(time=start, duration=end - start, value=label, confidence=conf)
    jam.annotations.append(ann)
    try:
        with warnings.catch_warnings():  # jsonschema deprecations raised inside jams
            warnings.simplefilter("ignore", DeprecationWarning)
            jam.validate()
        text = jam.dumps()
    except (jams.JamsError, TypeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = reason.split(" does not match ")[0]  # drop the schema's long regex
        raise ParameterError(f"{path}: not a valid JAMS chord annotation ({reason})") from None
    return atomic_write_text(path, text + "\n")


def write_chords_csv(path, segments) -> Path:
    """Write chord segments as CSV with a header ``start,end,label[,confidence]``, atomically.

    Parameters
    ----------
    path : path-like
    segments : list of ``(start, end, label)`` or ``(start, end, label, confidence)``
        As for :func:`write_jams`; times are written exactly (``repr`` of the float).

    Examples
    --------
    >>> write_chords_csv("song.csv", [(0.0, 2.0, "C:maj", 0.9)])  # doctest: +SKIP
    PosixPath('song.csv')
    """
    path = Path(path)
    segs, has_conf = _check_segments(path, segments)
    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["start", "end", "label"] + (["confidence"] if has_conf else []))
    for start, end, label, conf in segs:
        writer.writerow([start, end, label] + ([conf] if has_conf else []))
    return atomic_write_text(path, buf.getvalue())


def _write_lab_segments(path, segments, *, metadata=None) -> Path:
    """Write segments as ``.lab`` (confidences and ``metadata`` have no place there: dropped)."""
    segs, _ = _check_segments(Path(path), segments)
    return write_lab(path, [s[:2] for s in segs], [s[2] for s in segs])


def _write_csv_segments(path, segments, *, metadata=None) -> Path:
    """:func:`write_chords_csv` (``metadata`` has no place in CSV: dropped)."""
    return write_chords_csv(path, segments)


def _write_jams_segments(path, segments, *, metadata=None) -> Path:
    return write_jams(path, segments, metadata=metadata)


class _Rows(list):
    """Segments as a parser read them, with the file line of each (``lines``) for messages."""

    lines: list


def _parse_lab(path: Path) -> list[Segment]:
    """``start end label`` per line (whitespace-separated, as mir_eval reads ``.lab``); linear.

    Blank lines and lines starting with ``#`` are skipped; each segment keeps its line number.
    """
    segs, lines = _Rows(), []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            if len(fields) != 3:
                raise ValueError(f"line {n} has {len(fields)} fields, expected start end label")
            try:
                start, end = float(fields[0]), float(fields[1])
            except ValueError:
                raise ValueError(
                    f"line {n}: times {fields[0]!r}, {fields[1]!r} are not numbers"
                ) from None
            segs.append(Segment(start, end, fields[2]))
            lines.append(n)
    segs.lines = lines
    return segs


def _number_or_none(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def _parse_csv(path: Path) -> list[Segment]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        numbered = [(reader.line_num, row) for row in reader if row]
    rows = [row for _, row in numbered]
    headers = (["start", "end", "label"], ["start", "end", "label", "confidence"])
    if not rows or rows[0] not in headers:
        raise ValueError("the header must be start,end,label[,confidence]")
    width = len(rows[0])
    segs = _Rows()
    segs.lines = [n for n, _ in numbered[1:]]
    for n, row in numbered[1:]:
        if len(row) != width:
            raise ValueError(f"row {n} has {len(row)} fields, expected {width}")
        try:
            start, end = float(row[0]), float(row[1])
        except ValueError:
            raise ValueError(f"row {n}: times {row[0]!r}, {row[1]!r} are not numbers") from None
        conf = _number_or_none(row[3]) if width == 4 else None
        segs.append(Segment(start, end, row[2], conf))
    return segs


def _parse_jams(path: Path) -> list[Segment]:
    import jams

    jam = jams.load(str(path), validate=False)
    chords = [ann for ann in jam.annotations if ann.namespace == "chord"]
    if not chords:
        found = sorted({ann.namespace for ann in jam.annotations}) or ["none"]
        raise ValueError(f"no annotation in the 'chord' namespace (found: {', '.join(found)})")
    # as Annotation.to_interval_values, keeping the confidences
    return [
        Segment(
            float(obs.time),
            float(obs.time + obs.duration),
            obs.value,
            _number_or_none(obs.confidence),
        )
        for obs in chords[0].data
    ]


@dataclass(frozen=True)
class ChordFormat:
    """A chord annotation file format: how to write and read one file of :class:`Segment` s.

    Attributes
    ----------
    name : str  what ``chordscope predict --format`` and :func:`chord_format` take
    suffix : str  the file extension, with its dot (``".lab"``)
    confidence : bool  whether the format keeps each segment's confidence (``predict_files``
        computes confidences only for such formats)
    writer : callable  ``writer(path, segments, *, metadata=None) -> Path``; writes atomically
        and nothing at all for invalid segments
    parser : callable  ``parser(path) -> list of Segment``; may raise ``ValueError``,
        ``OSError`` and the like, which :meth:`read` turns into :class:`InputError`
    """

    name: str
    suffix: str
    confidence: bool
    writer: Callable
    parser: Callable

    def write(self, path, segments, *, metadata=None) -> Path:
        """Write ``segments`` (``(start, end, label[, confidence])``) to ``path``, atomically.

        ``metadata`` (JSON-ready dict) is stored where the format has room for it (JAMS: see
        :func:`write_jams`) and dropped otherwise. Raises :class:`ParameterError` for invalid
        segments, :class:`OutputError` for a place that cannot be written.
        """
        return self.writer(path, segments, metadata=metadata)

    def read(self, path) -> list[Segment]:
        """Read and check the segments of ``path`` (whatever its extension) as this format.

        Times must satisfy ``0 <= start < end`` and every label must be a Harte label that
        ``mir_eval.chord.encode`` accepts; a confidence that is not a number reads as ``None``.
        Raises :class:`InputError` naming the file, as :func:`read_chords` does.
        """
        return _read_segments(Path(path), self)


#: Every chord file format by name; :func:`read_chords` picks one by the file's suffix.
CHORD_FORMATS: dict[str, ChordFormat] = {
    fmt.name: fmt
    for fmt in (
        ChordFormat("lab", ".lab", False, _write_lab_segments, _parse_lab),
        ChordFormat("jams", ".jams", True, _write_jams_segments, _parse_jams),
        ChordFormat("csv", ".csv", True, _write_csv_segments, _parse_csv),
    )
}
CHORD_SUFFIXES = tuple(fmt.suffix for fmt in CHORD_FORMATS.values())


def chord_format(name) -> ChordFormat:
    """Return the :class:`ChordFormat` called ``name`` (a :class:`ChordFormat` is returned as is).

    Raises
    ------
    ParameterError
        If no format has that name; the message lists the names there are.

    Examples
    --------
    >>> chord_format("jams").suffix
    '.jams'
    """
    if isinstance(name, ChordFormat):
        return name
    return CHORD_FORMATS[valid_choice("format", name, CHORD_FORMATS)]


def _read_segments(path: Path, fmt: ChordFormat) -> list[Segment]:
    """``fmt.parser(path)``, its failures and every bad time or label as :class:`InputError`."""
    import jams
    import mir_eval.util

    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    kind = fmt.suffix.lstrip(".")
    if path.stat().st_size > MAX_ANNOTATION_BYTES:
        raise InputError(
            f"{path}: larger than {MAX_ANNOTATION_BYTES // 2**20} MiB; not a .{kind} chord file"
        )
    try:
        with warnings.catch_warnings():  # bad times are reported below, as an error
            warnings.simplefilter("ignore")
            segs = fmt.parser(path)
    except RecursionError:
        raise InputError(f"{path}: not a valid .{kind} chord file (nested too deeply)") from None
    except (OSError, ValueError, TypeError, KeyError, AttributeError, jams.JamsError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not a valid .{kind} chord file ({reason})") from None
    if len(segs) == 0:
        raise InputError(f"{path}: no chord segments")
    lines = getattr(segs, "lines", None)

    def where(i: int) -> str:
        return f"line {lines[i]}" if lines is not None else f"segment {i + 1}"

    intervals = np.array([seg[:2] for seg in segs], dtype=float).reshape(-1, 2)
    try:
        if not np.isfinite(intervals).all():
            raise ValueError("times must be finite")
        mir_eval.util.validate_intervals(intervals)
    except ValueError as exc:
        raise InputError(f"{path}: bad segment times ({exc})") from None
    # sorted and not overlapping: refused (not repaired), naming the first offending line
    bad = np.flatnonzero(intervals[1:, 0] < intervals[:-1, 1])
    if len(bad):
        i = int(bad[0]) + 1
        raise InputError(
            f"{path}: {where(i)}: the segment starts at {intervals[i, 0]:g} s, before the one "
            f"above ends ({intervals[i - 1, 1]:g} s): segments must be sorted, not overlapping"
        )
    reasons = {}  # each distinct label is checked once: linear in the number of segments
    for i, seg in enumerate(segs):
        key = _hashable(seg)
        if key not in reasons:
            reasons[key] = _harte_error(seg.label)
        reason = reasons[key]
        if reason:
            raise InputError(f"{path}: {where(i)}: {reason}")
    return [Segment(seg.start, seg.end, str(seg.label), seg.confidence) for seg in segs]


def _hashable(seg):
    """Return the label of ``seg`` as a dict key (a JAMS label may be any JSON value)."""
    label = seg.label
    return label if isinstance(label, str) else repr(label)


def read_chords(path):
    """Read chord segments from a file of any format in :data:`CHORD_FORMATS`, by its suffix.

    ``.lab`` is read by :func:`read_lab` (mir_eval); ``.jams`` by ``jams.load`` (the first
    annotation in the ``chord`` namespace); ``.csv`` as written by :func:`write_chords_csv`
    (a ``confidence`` column is ignored). Times must satisfy ``0 <= start < end`` and every label
    must be a Harte label that ``mir_eval.chord.encode`` accepts. Segments must be sorted and
    must not overlap (gaps are fine): an unsorted or overlapping file is refused, not repaired,
    with an :class:`InputError` naming the file and the first offending line (``.lab``, ``.csv``)
    or segment (JAMS). Files over :data:`MAX_ANNOTATION_BYTES` are refused; reading is linear in
    the number of segments. For the segments with their confidences, use
    ``CHORD_FORMATS[name].read(path)``.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    intervals : np.ndarray [shape=(n, 2)], float  seconds
    labels : list of str

    Raises
    ------
    InputError
        Naming the file: missing, unknown extension, too large, unreadable or malformed (JSON
        nested too deeply included), no chord annotation, no segments, bad times, unsorted or
        overlapping segments, or an invalid chord label.

    Examples
    --------
    >>> intervals, labels = read_chords("song.jams")  # doctest: +SKIP
    >>> labels[:2]  # doctest: +SKIP
    ['C:maj', 'A:min']
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    suffix = path.suffix.lower()
    by_suffix = {fmt.suffix: fmt for fmt in CHORD_FORMATS.values()}
    if suffix not in by_suffix:
        raise InputError(
            f"{path}: unknown chord file type {suffix or '(none)'!r} "
            f"(expected {', '.join(by_suffix)})"
        )
    segs = by_suffix[suffix].read(path)
    intervals = np.array([seg[:2] for seg in segs], dtype=float).reshape(-1, 2)
    return intervals, [seg.label for seg in segs]
