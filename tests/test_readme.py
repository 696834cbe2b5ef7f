"""README.md's examples: the cheap ones run as written, in order; every command line parses.

The README is read block by block (fenced code, with the heading it sits under). Every block is
in one of two tables below, found by the beginning of a line that occurs in it alone:

- ``RUN``: blocks cheap enough for a test (seconds each). Their text is kept here too, so that a
  change to one in the README fails with the name of the example to re-check (are its inputs,
  its outputs and its cost still what this table says?) instead of silently running something
  else. They run in README order in one temporary folder: shell lines with ``sh -c`` (``bash -c``
  for a ``bash`` block), so globs such as ``*.flac`` expand as in a terminal, with ``chordscope``
  found in this virtual environment's ``bin``; Python blocks with ``exec`` in a fresh namespace.
- ``NOT_RUN``: the others, each with the reason.

A block in neither table (a new example) or an anchor found in no block (a vanished example)
fails the test. Independently, every ``chordscope`` command of every shell block, run or not, is
parsed with the real argument parser (``chordscope.cli._parser``), and every option that an
inline ``chordscope ...`` span of the prose shows (the command table included) must exist.

The audio the README's examples read (``song.mp3``, ``song.wav``, ``*.flac``, ``music/``, ...)
is never written by the README itself: ``setup`` functions write short sine-chord recordings
(C major for 1.5 s, then A minor for 1.5 s) under those names, and references with those chords,
just before the example that first needs them.
"""

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent  # where `chordscope` is installed beside this python

COMMAND_TIMEOUT_S = 300  # one command; the whole run takes well under a minute


# --- the README's blocks ------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    lang: str  # the fence's info string: sh, bash, python, toml, or "" (plain text)
    heading: str  # the title of the closest heading above it
    text: str  # its lines, without the fences
    line: int  # line number of its opening fence in README.md

    @property
    def where(self) -> str:
        return f"README.md line {self.line} (under '{self.heading}')"


def readme_blocks(text: str | None = None) -> list[Block]:
    """Every fenced code block of README.md, in order, with its heading."""
    lines = (README.read_text(encoding="utf-8") if text is None else text).split("\n")
    blocks, heading, start, lang = [], "", None, ""
    for n, line in enumerate(lines, 1):
        if start is None:
            fence = re.match(r"^```\s*([\w+-]*)\s*$", line)
            if fence:
                start, lang = n, fence.group(1)
            elif m := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line):
                heading = m.group(1)
        elif line.strip() == "```":
            blocks.append(Block(lang, heading, "\n".join(lines[start : n - 1]), start))
            start = None
    assert start is None, f"README.md: the code block opened at line {start} is never closed"
    return blocks


def logical_lines(text: str) -> list[str]:
    """The shell lines of a block, continuation lines (ending in a backslash) joined."""
    out, pending = [], ""
    for line in text.split("\n"):
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return [line for line in out if shlex.split(line, comments=True)]


def command_key(line: str) -> str:
    """A shell line without its comment and with single spaces: how tables name a command."""
    return " ".join(shlex.split(line, comments=True))


# --- fixtures the README's examples need but never write ----------------------------------------

SR = 16000
FIXTURE_CHORDS = [  # start, end, label, frequencies of the sine partials
    (0.0, 1.5, "C:maj", (261.63, 329.63, 392.00)),
    (1.5, 3.0, "A:min", (220.0, 261.63, 329.63)),
]


def write_sine_chords(path: Path) -> None:
    """A 3-second recording of sine triads (C major, then A minor) in the format of its suffix."""
    import soundfile as sf

    parts = []
    for start, end, _, freqs in FIXTURE_CHORDS:
        t = np.arange(round((end - start) * SR)) / SR
        parts.append(0.5 * sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs))
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".mp3": "MP3", ".flac": "FLAC", ".wav": "WAV"}[path.suffix]
    if fmt not in sf.available_formats():
        pytest.skip(f"this libsndfile ({sf.__libsndfile_version__}) cannot write {fmt}")
    sf.write(path, np.concatenate(parts).astype(np.float32), SR, format=fmt)


def write_reference(path: Path) -> None:
    """The reference chords of :func:`write_sine_chords` as a MIREX .lab file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{s:.3f}\t{e:.3f}\t{label}\n" for s, e, label, _ in FIXTURE_CHORDS))


def setup_intro(work: Path) -> None:
    # `chordscope predict song.mp3`, `predict *.flac`, `score references/ labels/`: the flac files
    # get names no later example uses, so that labels/ never holds two annotations of one name
    # (`score` refuses that) when the examples run in order.
    write_sine_chords(work / "song.mp3")
    for name in ("take1", "take2"):
        write_sine_chords(work / f"{name}.flac")
        write_reference(work / "references" / f"{name}.lab")


def setup_predict_section(work: Path) -> None:
    # `predict song.wav other.mp3`, `predict music/`, `predict live.flac`, `score refs/ labels/`
    for name in ("song.wav", "other.mp3", "live.flac", "music/ballad.wav", "music/march.flac"):
        write_sine_chords(work / name)
    for name in ("song", "other"):
        write_reference(work / "refs" / f"{name}.lab")


# --- checks after an example --------------------------------------------------------------------


def check_json_stdout(stdout: str) -> None:
    scores = json.loads(stdout)  # `--json`: "per file and pooled, as JSON"
    assert scores["files"], f"score --json scored no file: {stdout[:500]}"


def check_run_layout(work: Path, block: Block, values: list) -> None:
    # the files that "What a run writes" lists, in the folder `chordscope run` wrote above
    run = work / "runs" / "robust-seed0"
    names = re.findall(r"[\w.-]+\.(?:safetensors|json|csv|png|html)\b", block.text)
    assert len(names) >= 12, f"{block.where}: expected the run folder's files, found {names}"
    missing = [
        name
        for name in names
        if not (run / ("figures" if name.endswith(".png") else "") / name).is_file()
    ]
    assert not missing, f"{block.where} lists files `chordscope run` did not write: {missing}"


def check_python_api(work: Path, block: Block, values: list) -> None:
    (accuracy,) = values  # `res.test_accuracy  # array([1., 1., 1.])`
    np.testing.assert_array_equal(accuracy, [1.0, 1.0, 1.0])


def check_toml(work: Path, block: Block, values: list) -> None:
    # a TOML of TrainConfig keys: `chordscope train --config train.toml` reads it with load_config
    from chordscope.fit import load_config

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    path = work / "train.toml"  # the name its first line gives it
    path.write_text(block.text + "\n", encoding="utf-8")
    config = load_config(path)
    for key, value in tomllib.loads(block.text).items():
        got = getattr(config, key)
        assert (list(got) if isinstance(got, tuple) else got) == value, (key, got, value)


def check_predict_api(work: Path, block: Block, values: list) -> None:
    majmin, sevenths, paired, results = values
    for segments in (majmin, sevenths, paired):  # [(0.0, 0.992, 'N'), (0.992, 3.456, 'C:maj'), ...]
        assert segments and all(isinstance(s, tuple) and len(s) == 3 for s in segments), segments
        assert segments[0][0] == 0.0 and all(isinstance(s[2], str) for s in segments), segments
        assert all(a[1] == b[0] for a, b in zip(segments, segments[1:], strict=False)), segments
    assert [r.ok for r in results] == [True] * 3, results  # song.wav and music/'s two files
    for name in ("song", "ballad", "march"):  # "as the command": labels/NAME.jams
        assert (work / "labels" / f"{name}.jams").is_file(), f"labels/{name}.jams not written"


# --- the tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A README block the test runs."""

    anchor: str  # the beginning of a line found in this block and no other
    heading: str  # the heading it sits under
    lang: str
    text: str  # the block as the README shows it; a change means: re-check this entry
    how: str  # how it is made cheap ("as written", or what is added and why)
    setup: Callable[[Path], None] | None = None  # writes the inputs the README never writes
    # shell: command (without its comment) -> the files the README says it writes (must be new)
    outputs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # shell: command -> arguments appended, only options the README documents (e.g. --steps 4)
    extra_args: dict[str, str] = field(default_factory=dict)
    # shell: command -> a check of its stdout
    stdout_checks: dict[str, Callable[[str], None]] = field(default_factory=dict)
    # after the block (python: with the values of its expression statements, in order)
    check: Callable[[Path, Block, list], None] | None = None


RUN = [
    Example(
        anchor="chordscope predict *.flac -o labels --format jams --model sevenths",
        heading="chordscope",
        lang="sh",
        text="""\
chordscope predict song.mp3                      # writes song.lab (MIREX): start end label
chordscope predict *.flac -o labels --format jams --model sevenths
chordscope score references/ labels/             # mir_eval: root, majmin, ..., mirex, seg""",
        how="as written, on 3-second recordings (about 4 s a command)",
        setup=setup_intro,
        outputs={
            "chordscope predict song.mp3": ("song.lab",),
            "chordscope predict *.flac -o labels --format jams --model sevenths": (
                "labels/take1.jams",
                "labels/take2.jams",
            ),
            "chordscope score references/ labels/": (),
        },
    ),
    Example(
        anchor="chordscope run           # or: python -m chordscope run",
        heading="With your own environment",
        lang="sh",
        text="""\
pip install .            # Python >= 3.10; add '.[test]' for pytest and ruff
chordscope run           # or: python -m chordscope run""",
        how="`chordscope run` as written (about 12 s: 3000 steps, figures, report); "
        "`pip install .` is not run: this environment has the package installed (editable)",
        outputs={"chordscope run": ("runs/robust-seed0/report.html",)},
    ),
    Example(
        anchor="runs/robust-seed0/",
        heading="What a run writes",
        lang="",
        text="""\
runs/robust-seed0/
  model.safetensors   weights (safetensors: loading never executes code; no pickle anywhere)
  model.json          architecture, vocabulary, CQT parameters, recipe, seed, versions, machine
  metrics.json        test_accuracy, test_loss, n_test, n_params, recipe, seed, steps,
                      steps_to_perfect, train_seconds, ...
  history.csv         per epoch: train and validation loss and accuracy
  explanation.json    per kernel: tuning, where it looks, selectivity, ablation, contribution,
                      role and sentence (see docs/explain.md)
  figures/            inputs.png  curves.png  kernels.png  feature_maps_major.png
                      feature_maps_minor.png  dense.png
                      explain_tuning.png  explain_selectivity.png  explain_kernels.png
  report.html         one self-contained page: figures, metrics, "What the network learned",
                      recipe, configuration, machine and versions""",
        how="not a command: every file it lists must be in the folder `chordscope run` wrote",
        check=check_run_layout,
    ),
    Example(
        anchor='res = train_tutorial([0, 1, 2], "robust")   # three seeds, one batched model',
        heading="What a run writes",
        lang="python",
        text="""\
from chordscope.tutorial import train_tutorial
from chordscope.io import load_model

res = train_tutorial([0, 1, 2], "robust")   # three seeds, one batched model
res.test_accuracy                          # array([1., 1., 1.])
model, meta = load_model("runs/robust-seed0")""",
        how="as written (three tutorial networks, a few seconds); reads the run folder above",
        check=check_python_api,
    ),
    Example(
        anchor="# train.toml",
        heading="Larger recognisers: `chordscope train`",
        lang="toml",
        text="""\
# train.toml
vocab = "sevenths"
synths = ["additive", "pluck", "soundfont"]
programs = [0, 24, 48]
steps = 20000
batch_size = 512""",
        how="written to train.toml and read by chordscope.fit.load_config (what "
        "`train --config` does first); training on it takes hours and is not run",
        check=check_toml,
    ),
    Example(
        anchor="chordscope predict music/ -o labels --format csv ",
        heading="Chords out of recordings: `predict` and `score`",
        lang="sh",
        text="""\
chordscope predict song.wav other.mp3 -o labels            # labels/song.lab, labels/other.lab
chordscope predict music/ -o labels --format csv            # every audio file in music/
chordscope predict live.flac --format jams --model sevenths # live.jams beside the audio
chordscope predict song.wav -o alone --qualities none      # alone/song.lab: majmin alone
chordscope score refs/ labels/ --json                       # per file and pooled, as JSON""",
        how="as written, on 3-second recordings",
        setup=setup_predict_section,
        outputs={
            "chordscope predict song.wav other.mp3 -o labels": (
                "labels/song.lab",
                "labels/other.lab",
            ),
            "chordscope predict music/ -o labels --format csv": (
                "labels/ballad.csv",
                "labels/march.csv",
            ),
            "chordscope predict live.flac --format jams --model sevenths": ("live.jams",),
            "chordscope predict song.wav -o alone --qualities none": ("alone/song.lab",),
            "chordscope score refs/ labels/ --json": (),
        },
        stdout_checks={"chordscope score refs/ labels/ --json": check_json_stdout},
    ),
    Example(
        anchor='chordscope.predict("song.wav", model="sevenths", min_duration=0.5)',
        heading="Chords out of recordings: `predict` and `score`",
        lang="python",
        text="""\
import chordscope
chordscope.predict("song.wav")                 # [(0.0, 0.992, 'N'), (0.992, 3.456, 'C:maj'), ...]
chordscope.predict("song.wav", model="sevenths", min_duration=0.5)
chordscope.predict("song.wav", model="majmin", qualities=None)  # majmin alone
chordscope.predict_files(["song.wav", "music/"], out_dir="labels", format="jams")  # as the command""",  # noqa: E501
        how="as written, on the recordings of the block above",
        check=check_predict_api,
    ),
]

#: anchor -> why the block is not run (its chordscope commands are still parsed)
NOT_RUN = {
    "make run    # creates .venv, installs everything, runs `chordscope run` (the tutorial's "
    "experiment)": "builds the environment (apt-get, pip) and runs the whole test suite",
    "kernel 1, fires most on 4-semitone intervals, prefers maj (AUC 1.00, d′ -15.6), votes maj "
    "(+26.7), removing it drops accuracy to 0.50: maj detector.": "sample output, not a command",
    "torchrun --standalone --nproc_per_node 2 -m chordscope train --vocab majmin --out runs/ddp": (
        "two DDP processes on the two busy cores: about 30 s even with --steps 4; "
        "tests/test_train.py starts two ranks on localhost"
    ),
    "    --rdzv-id chords1 -m chordscope train --config train.toml --out /shared/runs/sevenths": (
        "needs four nodes of eight GPUs"
    ),
    "chordscope train --config src/chordscope/pretrained/majmin.toml --out runs/majmin": (
        "renders 2400 songs and trains 20 000 steps (more than an hour on 2 cores)"
    ),
    "src/chordscope/   base:   errors  chords  synth  features  models": "layout, not a command",
    ".venv/bin/pytest tests/test_hostile.py   # about 100 cases, 2 minutes": (
        "runs other test files of this suite"
    ),
}


def find(blocks: list[Block], anchor: str) -> Block:
    """The one block with a line that begins with ``anchor``; fails saying what vanished."""
    found = [b for b in blocks if any(x.startswith(anchor) for x in b.text.split("\n"))]
    assert found, (
        f"README example vanished or changed: no line of a code block begins {anchor!r}. "
        "Re-check the example and update its entry in tests/test_readme.py (RUN or NOT_RUN)."
    )
    assert len(found) == 1, f"{anchor!r} is in {len(found)} blocks: choose a line of one only"
    return found[0]


def matching(blocks: list[Block], example: Example) -> Block:
    """The README block of ``example``; fails with a diff when the README changed it."""
    block = find(blocks, example.anchor)
    if (block.lang, block.heading, block.text) != (example.lang, example.heading, example.text):
        import difflib

        diff = "\n".join(
            difflib.unified_diff(
                [f"[{example.lang}] under '{example.heading}'", *example.text.split("\n")],
                [f"[{block.lang}] under '{block.heading}'", *block.text.split("\n")],
                "tests/test_readme.py RUN",
                f"README.md line {block.line}",
                lineterm="",
            )
        )
        pytest.fail(
            f"The README example at {block.where} no longer matches the one this test runs. "
            "Re-check it (inputs, outputs, cost), then update its entry in RUN "
            f"(tests/test_readme.py):\n{diff}"
        )
    return block


def test_every_block_is_in_a_table():
    blocks = readme_blocks()
    assert len(blocks) >= 10, f"only {len(blocks)} code blocks found in README.md"
    owners = {}
    for example in RUN:
        owners.setdefault(matching(blocks, example).line, []).append("RUN")
    for anchor in NOT_RUN:
        owners.setdefault(find(blocks, anchor).line, []).append("NOT_RUN")
    unlisted = [b.where for b in blocks if b.line not in owners]
    assert not unlisted, (
        f"README code blocks in neither RUN nor NOT_RUN of tests/test_readme.py: {unlisted}; "
        "add each (run it if it is cheap, else say why not)"
    )
    twice = {line: tables for line, tables in owners.items() if len(tables) > 1}
    assert not twice, f"README blocks (by line) listed more than once: {twice}"


# --- running the examples -----------------------------------------------------------------------


def run_shell(example: Example, block: Block, work: Path, env: dict) -> None:
    shell = "bash" if block.lang == "bash" else "sh"
    for line in logical_lines(block.text):
        key = command_key(line)
        if not key.startswith("chordscope "):
            continue  # pip install: see the entry's `how`
        assert key in example.outputs, f"{block.where}: {key!r} has no entry in `outputs`"
        extra = example.extra_args.get(key, "")
        command = f"{re.sub(r'[ ]+#.*$', '', line)} {extra}" if extra else line
        new = [work / p for p in example.outputs[key]]
        already = [str(p.relative_to(work)) for p in new if p.exists()]
        assert not already, f"{key}: its outputs exist before it runs: {already}"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [shell, "-c", command],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
        )
        assert proc.returncode == 0, (
            f"{block.where}: `{command}` exited {proc.returncode} "
            f"after {time.perf_counter() - t0:.1f} s\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr}"
        )
        missing = [str(p.relative_to(work)) for p in new if not p.is_file()]
        assert not missing, (
            f"{block.where}: `{command}` did not write {missing}; it printed:\n{proc.stdout}"
        )
        if key in example.stdout_checks:
            example.stdout_checks[key](proc.stdout)


def run_python(block: Block) -> list:
    """Exec the block in a fresh namespace; return the values of its expression statements."""
    tree = ast.parse(block.text)
    ast.increment_lineno(tree, block.line)  # tracebacks name README.md's own lines
    names = []
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.Expr):  # `res.test_accuracy` -> `__readme_value_3 = ...`
            names.append(f"__readme_value_{i}")
            target = ast.Name(names[-1], ast.Store())
            tree.body[i] = ast.copy_location(ast.Assign([target], node.value), node)
    ast.fix_missing_locations(tree)
    namespace = {"__name__": "__readme__"}
    exec(compile(tree, str(README), "exec"), namespace)
    return [namespace[name] for name in names]


def test_examples_run_in_order(tmp_path, monkeypatch):
    assert (VENV_BIN / "chordscope").is_file(), f"no chordscope in {VENV_BIN}: pip install -e ."
    blocks = readme_blocks()
    chosen = sorted(((matching(blocks, e), e) for e in RUN), key=lambda pair: pair[0].line)
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    monkeypatch.chdir(tmp_path)
    for block, example in chosen:
        for key in (*example.outputs, *example.extra_args, *example.stdout_checks):
            assert key in map(command_key, logical_lines(block.text)), (example.anchor, key)
        if example.setup is not None:
            example.setup(tmp_path)
        values = []
        if block.lang in ("sh", "bash"):
            run_shell(example, block, tmp_path, env)
        elif block.lang == "python":
            values = run_python(block)
        if example.check is not None:
            example.check(tmp_path, block, values)
        assert block.lang in ("sh", "bash") or example.check is not None, example.anchor


# --- every command line of the README parses ----------------------------------------------------

#: upper-case placeholders of the README's commands -> a value of the kind they stand for
PLACEHOLDERS = {
    "FILE.toml": "train.toml",
    "MODEL.safetensors": "runs/mine/model.safetensors",
    "RUN_DIR": "runs/robust-seed0",
    "DIR": "out",
    "AUDIO": "song.wav",
    "FOLDER": "music/",
    "LABELS": "song.lab",
    "LABEL": "C:maj",
    "REF": "references/song.lab",
    "EST": "labels/song.lab",
    "PAGE.html": "song.html",
    "FIG.png": "song.png",
    "OUT.wav": "song.chords.wav",
    "HOST": "localhost",
    "NAME": "majmin",
    "N": "2",
    "S": "0",
    "R": "seed",
}
#: programs of shell lines that are not chordscope commands (repository paths they name are
#: still checked to exist)
OTHER_PROGRAMS = {"make", "pip", "python", ".venv/bin/pytest", "pytest", "torchrun"}
REPO_FOLDERS = ("src/", "tests/", "benchmarks/", "docs/", "examples/", "tools/")


def substitute(token: str) -> str:
    for name in sorted(PLACEHOLDERS, key=len, reverse=True):
        token = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w])", PLACEHOLDERS[name], token)
    unknown = re.findall(r"(?<![\w:])[A-Z][A-Z0-9_]+(?![\w])", token)
    assert not unknown, f"placeholder(s) {unknown} in {token!r}: add them to PLACEHOLDERS"
    return token


def chordscope_argv(tokens: list[str]) -> list[str] | None:
    """The arguments after `chordscope` or `-m chordscope`; None for another program."""
    if tokens[0] == "chordscope":
        return tokens[1:]
    for i in range(len(tokens) - 1):
        if tokens[i : i + 2] == ["-m", "chordscope"]:
            return tokens[i + 2 :]
    return None


def parse_error(argv: list[str], capsys) -> str | None:
    """What the real parser says about ``argv`` (None: accepted). Nothing is run."""
    from chordscope.cli import _parser

    capsys.readouterr()
    try:
        _parser().parse_args(argv)
    except SystemExit as exc:
        said = capsys.readouterr()
        return f"exit {exc.code}: {(said.err or said.out).strip()}"
    return None


def test_every_shell_command_parses(capsys):
    parsed, problems = [], []
    for block in readme_blocks():
        if block.lang not in ("sh", "bash"):
            continue
        for line in logical_lines(block.text):
            tokens = shlex.split(line, comments=True)
            for token in tokens:  # a path into the repository must exist
                if token.startswith(REPO_FOLDERS) and not any(c in token for c in "*?"):
                    if not (ROOT / token).exists():
                        problems.append(f"{block.where}: `{line.strip()}`: no {token} here")
            argv = chordscope_argv(tokens)
            if argv is None:
                if tokens[0] not in OTHER_PROGRAMS:
                    problems.append(f"{block.where}: unknown program {tokens[0]!r}: `{line}`")
                continue
            argv = [substitute(t) for t in argv]
            error = parse_error(argv, capsys)
            if error is not None:
                problems.append(f"{block.where}: `{line.strip()}` is refused ({error})")
            parsed.append(argv)
    assert not problems, (
        "README shell commands that are refused or name missing files:\n" + "\n".join(problems)
    )
    assert len(parsed) >= 10, f"only {len(parsed)} chordscope commands found: {parsed}"


def inline_commands(text: str) -> list[tuple[int, str]]:
    """The ``chordscope ...`` code spans of the prose (outside code blocks), with their line."""
    spans, in_block = [], False
    for n, line in enumerate(text.split("\n"), 1):
        if line.startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            spans += [(n, m) for m in re.findall(r"`(chordscope [^`]+)`", line)]
    return spans


def test_inline_commands_show_real_options():
    # the command table's usage lines and the prose's examples: `chordscope SUB ... --opt ...`
    import argparse

    from chordscope.cli import _parser

    parser = _parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    checked, problems = 0, []
    for n, span in inline_commands(README.read_text(encoding="utf-8")):
        words = span.replace("\\|", " ").split()
        if words[1] not in sub.choices:
            problems.append(f"README.md line {n}: `{span}`: no subcommand {words[1]!r}")
            continue
        options = sub.choices[words[1]]._option_string_actions
        for word in words[2:]:
            option = word.strip("[]")
            if re.fullmatch(r"--?[A-Za-z][\w-]*", option):
                checked += 1
                if option not in options:
                    problems.append(f"README.md line {n}: `{span}`: {words[1]} has no {option}")
    assert not problems, "README shows options that do not exist:\n" + "\n".join(problems)
    assert checked >= 50, f"only {checked} options found in the README's inline commands"


def test_readme_blocks_parser():
    text = "# Title\n\n```sh\na \\\n  b  # c\n```\n\n## Two\n```\nplain\n```\n"
    blocks = readme_blocks(text)
    assert [(b.lang, b.heading, b.line) for b in blocks] == [("sh", "Title", 3), ("", "Two", 9)]
    assert logical_lines(blocks[0].text) == ["a    b  # c"]
    assert command_key("a    b  # c") == "a b"
    assert substitute("HOST:29500") == "localhost:29500" and substitute("FILE.toml") == "train.toml"
    with pytest.raises(AssertionError, match="PLACEHOLDERS"):
        substitute("SOMETHING")


def test_every_experiment_the_readme_names_is_a_valid_recipe():
    from chordscope.fit import load_config

    text = (ROOT / "README.md").read_text()
    folder = ROOT / "benchmarks" / "experiments"
    named = set(re.findall(r"benchmarks/experiments/([\w-]+)\.toml", text))
    assert named, "the README names no experiment recipe"
    for name in sorted(named | {p.stem for p in folder.glob("*.toml")}):
        path = folder / f"{name}.toml"
        assert path.is_file(), f"README names {path.relative_to(ROOT)}, which is missing"
        config = load_config(path)
        assert config.data == "music" and f"runs/{name}" in path.read_text(), name
