"""Bad input files for tests/test_hostile.py: ``make_corpus(folder)`` writes them all.

Every file is small (the 200 000-segment ``.lab`` is 4 MB) and made from scratch, except the
model folders, which are a real tiny ChordCNN saved by ``chordscope.io.save_model`` whose
``model.json`` or weights are then made to lie.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf
from conftest import save_tiny_recogniser

SR = 22050


def _wav(path: Path, y, sr: int = SR, subtype: str = "FLOAT") -> None:
    sf.write(path, np.asarray(y, dtype=np.float32), sr, subtype=subtype)


def _tone(seconds: float = 1.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def _lab(path: Path, rows) -> None:
    path.write_text("".join(f"{s}\t{e}\t{lab}\n" for s, e, lab in rows))


def _toml(path: Path, text: str) -> None:
    path.write_text(text + "\n")


def _model(folder: Path) -> Path:
    folder.mkdir()
    return save_tiny_recogniser(folder)


def _lying_model(good: Path, folder: Path, change) -> Path:
    """A copy of the model folder ``good`` whose model.json is ``change(meta)`` (or a string)."""
    shutil.copytree(good, folder)
    meta = json.loads((folder / "model.json").read_text())
    new = change(meta)
    text = new if isinstance(new, str) else json.dumps(meta if new is None else new)
    (folder / "model.json").write_text(text)
    return folder


def _set(*keys_value):
    *keys, value = keys_value

    def change(meta):
        d = meta
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value

    return change


def make_corpus(root) -> dict[str, str]:
    """Write every hostile file under ``root``; return placeholder name → path (as str)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    p: dict[str, Path] = {}

    # --- audio ---------------------------------------------------------------------------
    p["good_wav"] = root / "good.wav"
    _wav(p["good_wav"], _tone(), subtype="PCM_16")
    for name, value in (("nan", np.nan), ("inf", np.inf)):
        y = _tone()
        y[100] = value
        p[f"{name}_wav"] = root / f"{name}.wav"
        _wav(p[f"{name}_wav"], y)
    p["huge_wav"] = root / "huge.wav"
    _wav(p["huge_wav"], np.stack([_tone() * 1e38, _tone() * 1e38], axis=1))  # mean overflows
    p["empty_wav"] = root / "empty.wav"
    p["empty_wav"].write_bytes(b"")
    p["text_wav"] = root / "text.wav"
    p["text_wav"].write_text("this is not audio\n" * 10)
    p["zero_samples_wav"] = root / "zero_samples.wav"
    _wav(p["zero_samples_wav"], np.zeros(0), subtype="PCM_16")
    p["silent_wav"] = root / "silent.wav"
    _wav(p["silent_wav"], np.zeros(SR), subtype="PCM_16")

    # --- annotations ---------------------------------------------------------------------
    _lab(p.setdefault("good_lab", root / "good.lab"), [(0, 0.5, "C:maj"), (0.5, 1.0, "A:min")])
    _lab(
        p.setdefault("unsorted_lab", root / "unsorted.lab"),
        [(0.5, 1.0, "A:min"), (0, 0.5, "C:maj")],
    )
    _lab(
        p.setdefault("overlap_lab", root / "overlap.lab"),
        [(0, 0.7, "C:maj"), (0.5, 1.0, "A:min")],
    )
    _lab(p.setdefault("badlabel_lab", root / "badlabel.lab"), [(0, 1.0, "C:foo")])
    _lab(p.setdefault("reversed_lab", root / "reversed.lab"), [(1.0, 0.5, "C:maj")])
    _lab(p.setdefault("nan_lab", root / "nan.lab"), [(0, "nan", "C:maj")])
    _lab(p.setdefault("long_lab", root / "long.lab"), [(0, 1e9, "C:maj")])
    p["empty_lab"] = root / "empty.lab"
    p["empty_lab"].write_text("")
    p["binary_lab"] = root / "binary.lab"
    p["binary_lab"].write_bytes(bytes(range(256)) * 8)
    n = 200_000
    starts = np.arange(n) * 0.1
    labels = np.array(["C:maj", "A:min", "F:maj", "G:7"])[np.arange(n) % 4]
    big = "".join(f"{s:.1f}\t{s + 0.1:.1f}\t{lab}\n" for s, lab in zip(starts, labels, strict=True))
    p["big_lab"] = root / "big.lab"
    p["big_lab"].write_text(big)
    p["big_est_lab"] = root / "big_est" / "big.lab"
    p["big_est_lab"].parent.mkdir()
    p["big_est_lab"].write_text(big.replace("G:7", "G:maj"))
    p["nested_jams"] = root / "nested.jams"
    p["nested_jams"].write_text("[" * 100_000 + "]" * 100_000)
    p["garbage_jams"] = root / "garbage.jams"
    p["garbage_jams"].write_text('{"annotations": 5}')
    p["bad_csv"] = root / "bad.csv"
    p["bad_csv"].write_text("start,end,label\n0,1,C:maj\n1,x,A:min\n")

    # --- models --------------------------------------------------------------------------
    good = _model(root / "model")
    p["model"] = good
    lies = {
        "nested": lambda m: "[" * 100_000 + "]" * 100_000,
        "nested_meta": lambda m: '{"architecture": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "not_json": lambda m: "{not json",
        "sr0": _set("features", "sr", 0),
        "hop0": _set("features", "hop_length", 0),
        "bins1e9": _set("features", "n_bins", 10**9),
        "arch_bins1e9": _set("architecture", "n_bins", 10**9),
        "fmin_neg": _set("features", "fmin", -5.0),
        "channels_huge": _set("architecture", "channels", [100_000, 100_000, 100_000]),
        "channels_str": _set("architecture", "channels", ["a", "b", "c"]),
        "channels_two": _set("architecture", "channels", [8, 16]),
        "labels_foo": lambda m: m["vocabulary"].update(labels=["C:foo"] * 25),
        "labels_short": lambda m: m["vocabulary"].update(labels=["N"]),
        "n_classes_neg": _set("architecture", "n_classes", -1),
        "arch_list": _set("architecture", [1, 2, 3]),
        "no_features": lambda m: m.pop("features") and None,
    }
    for name, change in lies.items():
        p[f"model_{name}"] = _lying_model(good, root / f"model_{name}", change)
    p["model_nan_weights"] = root / "model_nan_weights"
    shutil.copytree(good, p["model_nan_weights"])
    from safetensors.torch import load_file, save_file

    tensors = load_file(p["model_nan_weights"] / "model.safetensors")
    tensors["conv1.weight"][0, 0, 0, 0] = float("nan")
    save_file(tensors, p["model_nan_weights"] / "model.safetensors", metadata={"format": "pt"})
    p["model_truncated"] = root / "model_truncated"
    shutil.copytree(good, p["model_truncated"])
    w = p["model_truncated"] / "model.safetensors"
    w.write_bytes(w.read_bytes()[:200])

    # --- training configs ----------------------------------------------------------------
    configs = {
        "n_test_1e9": "n_test = 1000000000",
        "batch_1e9": "batch_size = 1000000000",
        "n_val_1e9": "n_val = 1000000000",
        "channels_str": 'channels = ["a", "b", "c"]',
        "channels_zero": "channels = [0, 16, 32]",
        "channels_two": "channels = [8, 16]",
        "channels_huge": "channels = [100000, 100000, 100000]",
        "n_context_0": "n_context = 0",
        "snr_reversed": "snr_db = [40.0, 10.0]",
        "weight_decay_neg": "weight_decay = -1.0",
        "epochs_inf": "epochs = inf\ndata = 'songs'",
        "lr_nan": "lr = nan",
        "octaves_neg": "octaves = [-3]",
        "no_chord_2": "no_chord = 2.0",
        "reverb_neg": "reverb = -1.0",
        "programs_float": "programs = [1.5]",
        "seed_neg": "seed = -1",
        "steps_huge": "steps = 100000000000000000",
        "not_toml": "this is = = not toml",
        "unknown_key": "colour = 'blue'",
    }
    for name, text in configs.items():
        p[f"toml_{name}"] = root / f"{name}.toml"
        _toml(p[f"toml_{name}"], text)
    p["checkpoint_run"] = root / "checkpoint_run"
    (p["checkpoint_run"] / "checkpoint").mkdir(parents=True)
    (p["checkpoint_run"] / "checkpoint" / "checkpoint.json").write_text("{}")

    # --- report folders ------------------------------------------------------------------
    for name, text in (("garbage", "not json at all"), ("empty", "{}"), ("wrong", "[1, 2]")):
        folder = root / f"report_{name}"
        folder.mkdir()
        (folder / "generalisation.json").write_text(text)
        p[f"report_{name}"] = folder
    folder = root / "report_typed"
    folder.mkdir()
    (folder / "generalisation.json").write_text('{"conditions": 5, "matrix": "x"}')
    p["report_typed"] = folder
    folder = root / "report_sweep"
    folder.mkdir()
    (folder / "sweep.json").write_text('{"n_seeds": "many"}')
    p["report_sweep"] = folder
    p["report_empty_run"] = root / "report_empty_run"
    p["report_empty_run"].mkdir()
    return {k: str(v) for k, v in p.items()}
