"""The hostile-input corpus: bad files and values into every command, through the real CLI.

Every row of :data:`CASES` runs ``python -m chordscope ARGV`` in a subprocess, in a fresh working
folder of its own, with a timeout (a timeout is a hang: a failure), and checks:

- the exit status (0 ok, 1 some files failed in predict, 2 a bad input; never 3, a bug);
- stderr: exactly one line matching the row's regex (no line at all on success is fine);
- no ``Traceback`` anywhere, and no traceback file left in the temporary folder;
- the file tree afterwards: a failed command leaves the working folder exactly as it was
  (nothing half-written, no temporary or partial folder, earlier outputs untouched), or the
  row's own check; the shared corpus is never changed.

Adding a case is adding a row: ``Case(id, argv, status, regex, setup=..., check=...)``, where
``{name}`` in the argv is a file of :func:`hostile_corpus.make_corpus` and ``setup`` maps paths
(relative to the working folder) to what is there before: ``None`` a folder, a string a file.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hostile_corpus import make_corpus

TIMEOUT = 60  # seconds: longer is a hang
WORKERS = 3


def unchanged(before, after, work):
    assert after == before, "a failed command changed the files"


def empty_folder(name):
    """Only ``name`` was made, empty (predict makes its output folder before any file fails)."""

    def check(before, after, work):
        assert after == {**before, name: None}, "a failed file left something behind"

    return check


def wrote(*names):
    def check(before, after, work):
        new = set(after) - set(before)
        assert all(n in after for n in names), f"missing {names}: {sorted(after)}"
        assert not [n for n in new if Path(n).name.startswith(".")], f"temporary left: {new}"
        assert all(after[k] == v for k, v in before.items()), "an earlier file changed"

    return check


@dataclass
class Case:
    id: str
    argv: list
    status: int
    regex: str = ""
    setup: dict = field(default_factory=dict)
    check: object = None  # default: unchanged when status != 0


P = ["-o", "out", "--model", "{model}", "--tuning", "0", "--quiet"]  # the tiny model: fast
ERR = r"^chordscope: error: "

CASES = [
    # --- predict: audio ------------------------------------------------------------------
    Case(
        "predict-nan-wav",
        ["predict", "{nan_wav}", *P],
        1,
        "NaN or infinite",
        check=empty_folder("out"),
    ),
    Case(
        "predict-inf-wav",
        ["predict", "{inf_wav}", *P],
        1,
        "NaN or infinite",
        check=empty_folder("out"),
    ),
    Case(
        "predict-huge-wav",
        ["predict", "{huge_wav}", *P],
        0,
        check=wrote("out/huge.lab"),
    ),
    Case(
        "predict-empty-wav", ["predict", "{empty_wav}", *P], 1, "empty", check=empty_folder("out")
    ),
    Case(
        "predict-text-wav",
        ["predict", "{text_wav}", *P],
        1,
        "not an audio file",
        check=empty_folder("out"),
    ),
    Case(
        "predict-no-samples",
        ["predict", "{zero_samples_wav}", *P],
        1,
        "no audio",
        check=empty_folder("out"),
    ),
    Case(
        "predict-silent",
        ["predict", "{silent_wav}", *P],
        0,
        check=wrote("out/silent.lab"),
    ),
    Case(
        "predict-missing",
        ["predict", "nothing.wav", *P],
        1,
        "no such file",
        check=empty_folder("out"),
    ),
    Case(
        "predict-dest-is-dir",
        ["predict", "{good_wav}", *P],
        1,
        r"out/good\.lab.*(folder|directory)",
        setup={"out/good.lab": None, "out/good.lab/keep": "x"},
    ),
    Case(
        "predict-out-is-file",
        ["predict", "{good_wav}", *P],
        2,
        "out",
        setup={"out": "a file"},
    ),  # fmt: skip
    Case(
        "predict-self-transition",
        ["predict", "{good_wav}", *P, "--self-transition", "nan"],
        2,
        "self-transition",
    ),
    Case(
        "predict-shift-average-word",
        ["predict", "{good_wav}", *P, "--shift-average", "one"],
        2,
        "shift-average",
    ),
    Case(
        "predict-min-duration-inf",
        ["predict", "{good_wav}", *P, "--min-duration", "inf"],
        2,
        "min-duration",
    ),
    # --- predict: model files ------------------------------------------------------------
    *[
        Case(
            f"predict-model-{name}",
            ["predict", "{good_wav}", *P, "--model", f"{{model_{name}}}"],
            2,
            regex,
        )
        for name, regex in (
            ("nested", "model.json|JSON"),
            ("nested_meta", "model.json|JSON"),
            ("not_json", "not a valid JSON"),
            ("sr0", "sr=0"),
            ("hop0", "hop_length=0"),
            ("bins1e9", "n_bins=1000000000"),
            ("arch_bins1e9", "n_bins=1000000000"),
            ("fmin_neg", "fmin=-5"),
            ("channels_huge", "channels"),
            ("channels_str", "channels"),
            ("channels_two", "channels"),
            ("labels_foo", "C:foo"),
            ("labels_short", "vocabulary|labels"),
            ("n_classes_neg", "n_classes=-1"),
            ("arch_list", "architecture"),
            ("no_features", "features"),
            ("nan_weights", "NaN|finite"),
            ("truncated", "safetensors"),
        )
    ],
    # --- explain -------------------------------------------------------------------------
    Case("explain-nested", ["explain", "{model_nested}", "--out", "ex"], 2, "model.json|JSON"),
    Case("explain-nan-weights", ["explain", "{model_nan_weights}", "--out", "ex"], 2, "NaN|finite"),
    Case(
        "explain-channels-huge", ["explain", "{model_channels_huge}", "--out", "ex"], 2, "channels"
    ),
    Case("explain-out-is-file", ["explain", "{model}", "--out", "ex"], 2, "ex", setup={"ex": "x"}),
    # --- score ---------------------------------------------------------------------------
    Case("score-unsorted", ["score", "{good_lab}", "{unsorted_lab}"], 2, r"unsorted\.lab.*line 2"),
    Case("score-overlap", ["score", "{good_lab}", "{overlap_lab}"], 2, r"overlap\.lab.*line 2"),
    Case("score-bad-label", ["score", "{badlabel_lab}", "{good_lab}"], 2, "C:foo"),
    Case("score-reversed", ["score", "{good_lab}", "{reversed_lab}"], 2, r"reversed\.lab"),
    Case("score-nan-time", ["score", "{good_lab}", "{nan_lab}"], 2, r"nan\.lab"),
    Case("score-empty-lab", ["score", "{good_lab}", "{empty_lab}"], 2, "no chord segments"),
    Case("score-binary-lab", ["score", "{good_lab}", "{binary_lab}"], 2, r"binary\.lab"),
    Case("score-nested-jams", ["score", "{good_lab}", "{nested_jams}"], 2, r"nested\.jams"),
    Case("score-garbage-jams", ["score", "{good_lab}", "{garbage_jams}"], 2, r"garbage\.jams"),
    Case("score-bad-csv", ["score", "{good_lab}", "{bad_csv}"], 2, r"bad\.csv.*row 3"),
    Case("score-200k-segments", ["score", "{big_lab}", "{big_est_lab}"], 0),
    # --- synth ---------------------------------------------------------------------------
    *[
        Case(f"synth{'-'.join(extra)}", ["synth", "C:maj", "--out", "clips", *extra], 2, regex)
        for extra, regex in (
            (("--duration", "inf"), "duration"),
            (("--duration", "1e9"), "duration"),
            (("--duration", "1e-9"), "duration"),
            (("--duration", "nan"), "duration"),
            (("--sr", "1e9"), "sr"),
            (("--sr", "1000000000"), "sr"),
            (("--sr", "0"), "sr"),
            (("--reverb", "1e6"), "reverb"),
            (("--reverb", "-1"), "reverb"),
            (("--snr", "abc"), "snr"),
            (("--seed", "-1"), "seed"),
        )
    ],
    Case(
        "synth-out-is-file", ["synth", "C:maj", "--out", "clips"], 2, "clips", setup={"clips": "x"}
    ),
    Case(
        "synth-wav-is-dir",
        ["synth", "C:maj", "--out", "clips"],
        2,
        r"00_C_maj\.wav",
        setup={"clips/00_C_maj.wav": None},
    ),  # fmt: skip
    # --- train: refused before any training ------------------------------------------------
    Case(
        "train-batch-1e9",
        ["train", "--batch-size", "1000000000", "--out", "r"],
        2,
        "batch_size.*GB",
    ),
    Case("train-programs-abc", ["train", "--programs", "abc", "--out", "r"], 2, "programs"),
    Case("train-seed-neg", ["train", "--seed", "-1", "--out", "r"], 2, "seed"),
    Case("train-out-is-file", ["train", "--steps", "1", "--out", "r"], 2, "r", setup={"r": "x"}),
    Case(
        "train-resume-no-step",
        ["train", "--resume", "--out", "r"],
        2,
        "checkpoint",
        setup={"r/checkpoint/checkpoint.json": "{}"},
    ),  # fmt: skip
    *[
        Case(
            f"train-toml-{name}", ["train", "--config", f"{{toml_{name}}}", "--out", "r"], 2, regex
        )
        for name, regex in (
            ("n_test_1e9", "n_test.*GB"),
            ("batch_1e9", "batch_size.*GB"),
            ("n_val_1e9", "n_val.*GB"),
            ("channels_str", "channels"),
            ("channels_zero", "channels"),
            ("channels_two", "channels"),
            ("channels_huge", "channels"),
            ("n_context_0", "n_context"),
            ("snr_reversed", "snr_db"),
            ("weight_decay_neg", "weight_decay"),
            ("epochs_inf", "epochs"),
            ("lr_nan", "lr"),
            ("octaves_neg", "octaves"),
            ("no_chord_2", "no_chord"),
            ("reverb_neg", "reverb"),
            ("programs_float", "programs"),
            ("seed_neg", "seed"),
            ("steps_huge", "steps"),
            ("not_toml", "TOML"),
            ("unknown_key", "colour"),
        )
    ],
    # --- run, sweep, report ----------------------------------------------------------------
    Case(
        "run-out-dot-force",
        ["run", "--out", ".", "--force", "--epochs", "1", "--quiet"],
        2,
        r"\.",
        setup={"precious.txt": "keep me"},
    ),  # fmt: skip
    Case(
        "run-force-foreign-folder",
        ["run", "--out", "mine", "--force", "--quiet"],
        2,
        "mine",
        setup={"mine/precious.txt": "keep me"},
    ),  # fmt: skip
    Case("sweep-seeds-2e40", ["sweep", "--seeds", str(2**40), "--out", "s"], 2, "seeds"),
    Case(
        "generalise-out-dot-force",
        ["generalise", "--quick", "--out", ".", "--force", "--quiet"],
        2,
        r"current folder",
        setup={"precious.txt": "keep me"},
    ),  # fmt: skip
    Case(
        "generalise-force-foreign-folder",
        ["generalise", "--quick", "--out", "mine", "--force", "--quiet"],
        2,
        "not made by chordscope",
        setup={"mine/precious.txt": "keep me"},
    ),  # fmt: skip
    Case("report-garbage", ["report", "{report_garbage}"], 2, "generalisation.json"),
    Case("report-empty-json", ["report", "{report_empty}"], 2, "generalisation.json"),
    Case("report-wrong-json", ["report", "{report_wrong}"], 2, "generalisation.json"),
    Case("report-typed-json", ["report", "{report_typed}"], 2, "generalisation.json"),
    Case("report-bad-sweep", ["report", "{report_sweep}"], 2, "sweep.json"),
    Case("report-empty-run", ["report", "{report_empty_run}"], 2, "report_empty_run"),
    Case("report-missing", ["report", "nowhere"], 2, "nowhere"),
    # --- view and sonify -------------------------------------------------------------------
    Case("view-nan-wav", ["view", "{nan_wav}", "{good_lab}", "-o", "p.html"], 2, "NaN"),
    Case("view-unsorted", ["view", "{good_wav}", "{unsorted_lab}", "-o", "p.html"], 2, "line 2"),
    Case(
        "view-out-is-dir",
        ["view", "{good_wav}", "{good_lab}", "-o", "p.html"],
        2,
        r"p\.html",
        setup={"p.html": None},
    ),  # fmt: skip
    Case("sonify-bad-label", ["sonify", "{badlabel_lab}", "-o", "s.wav"], 2, "C:foo"),
    Case("sonify-1e9-seconds", ["sonify", "{long_lab}", "-o", "s.wav"], 2, "duration"),
    Case(
        "sonify-out-is-dir",
        ["sonify", "{good_lab}", "-o", "s.wav"],
        2,
        r"s\.wav",
        setup={"s.wav": None},
    ),  # fmt: skip
    Case("sonify-seed-neg", ["sonify", "{good_lab}", "--seed", "-1"], 2, "seed"),
]


def snapshot(folder: Path) -> dict:
    """Every path under ``folder`` → its content's hash (``None`` for a folder)."""
    tree = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        tree[rel] = None if p.is_dir() else hashlib.sha1(p.read_bytes()).hexdigest()
    return tree


def run_case(case: Case, corpus: dict, root: Path) -> dict:
    work, tmp = root / "work" / case.id, root / "tmp" / case.id
    work.mkdir(parents=True)
    tmp.mkdir(parents=True)
    for rel, content in case.setup.items():
        path = work / rel
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    before = snapshot(work)
    argv = [a.format(**corpus) for a in case.argv]
    env = {**os.environ, "TMPDIR": str(tmp), "CHORDSCOPE_THREADS": "1", "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1] / "src")])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "chordscope", *argv],
            cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"timeout": True, "argv": argv}
    return {
        "timeout": False,
        "argv": argv,
        "status": proc.returncode,
        "stdout": proc.stdout,
        "stderr": proc.stderr,
        "before": before,
        "after": snapshot(work),
        "work": work,
        "tracebacks": sorted(p.name for p in tmp.glob("chordscope-traceback-*")),
        "seconds": time.perf_counter() - t0,
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    paths = make_corpus(root / "corpus")
    return root, paths, snapshot(root / "corpus")


@pytest.fixture(scope="module")
def results(corpus):
    """Run every case, a few at a time (each is mostly the start of Python and torch)."""
    root, paths, _ = corpus
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {c.id: pool.submit(run_case, c, paths, root) for c in CASES}
        return {k: f.result() for k, f in futures.items()}


def test_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile(case, results):
    r = results[case.id]
    assert not r["timeout"], f"hang: no answer in {TIMEOUT} s to chordscope {r['argv']}"
    out = f"argv {r['argv']}\nstatus {r['status']}\nstderr {r['stderr']!r}"
    assert "Traceback" not in r["stderr"] + r["stdout"], out
    assert not r["tracebacks"], out
    assert r["status"] == case.status, out
    lines = r["stderr"].splitlines()
    if case.status == 0:
        assert len(lines) <= 1, out
    else:
        assert len(lines) == 1, out
        assert re.search(ERR, lines[0]), out
        assert re.search(case.regex, lines[0]), out
    check = case.check or (unchanged if case.status != 0 else None)
    if check is not None:
        check(r["before"], r["after"], r["work"])


def test_corpus_unchanged(corpus, results):
    root, _, before = corpus
    assert snapshot(root / "corpus") == before


def test_a_reader_that_stops_early_is_no_internal_error(tmp_path):
    """`chordscope score A B | head -1`: the closed pipe ends the command quietly."""
    import subprocess
    import sys

    ref, est = tmp_path / "ref", tmp_path / "est"
    for folder in (ref, est):
        folder.mkdir()
        for i in range(1500):  # more lines than a pipe holds (64 KiB)
            (folder / f"song{i:03d}_with_a_long_name_to_fill_the_pipe.lab").write_text(
                "0.0\t1.0\tC:maj\n1.0\t2.0\tA:min\n"
            )
    proc = subprocess.Popen(
        [sys.executable, "-m", "chordscope", "score", str(ref), str(est)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    proc.stdout.readline()  # the header, then the reader goes away
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""
    assert not list(tmp_path.glob("chordscope-traceback*"))
