"""The package's surface: every module is reachable as an attribute of ``chordscope``."""

import sys
from pathlib import Path

import chordscope


def test_every_module_is_an_attribute_of_the_package():
    folder = Path(chordscope.__file__).parent
    names = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    assert names <= set(dir(chordscope))
    for name in sorted(names):
        assert getattr(chordscope, name).__name__ == f"chordscope.{name}"
    assert chordscope.predict is chordscope.recognise.predict
    for missing in ("data", "train", "nothing"):  # old and unknown names
        try:
            getattr(chordscope, missing)
        except AttributeError as exc:
            assert missing in str(exc)
        else:
            raise AssertionError(f"chordscope.{missing} should not exist")


def test_every_module_lists_exactly_its_public_functions_and_classes_in_all():
    """``__all__`` is the module's public surface: what it defines without a leading underscore."""
    import importlib
    import inspect

    folder = Path(chordscope.__file__).parent
    for stem in sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")):
        mod = importlib.import_module(f"chordscope.{stem}")
        listed = getattr(mod, "__all__", None)
        assert listed is not None, f"chordscope.{stem} has no __all__"
        assert len(listed) == len(set(listed)), f"chordscope.{stem}.__all__ repeats a name"
        assert not set(listed) - set(vars(mod)), (
            f"chordscope.{stem}.__all__ names what is not there"
        )
        defined = {
            name
            for name, obj in vars(mod).items()
            if not name.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == mod.__name__
        }
        assert defined <= set(listed), (
            f"chordscope.{stem}: public but not in __all__: {defined - set(listed)}"
        )


def test_saved_models_are_byte_identical_across_processes(tmp_path):
    """safetensors orders its metadata map per process: the same model must give the same bytes."""
    import subprocess
    import sys

    code = (
        "import sys, torch; from chordscope.models import ChordCNN; "
        "from chordscope.io import save_model; torch.manual_seed(0); "
        "save_model(sys.argv[1], ChordCNN(), {'b': 1, 'a': 2})"
    )
    for i in range(3):
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / f"m{i}.safetensors")], check=True
        )
    blobs = {(tmp_path / f"m{i}.safetensors").read_bytes() for i in range(3)}
    jsons = {(tmp_path / f"m{i}.json").read_bytes() for i in range(3)}
    assert len(blobs) == 1 and len(jsons) == 1


def test_no_import_cycles():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from import_graph import imports

    graph = imports()
    state = {}  # 1: on the current path, 2: done

    def visit(m, path):
        state[m] = 1
        for d in sorted(graph[m]):
            assert state.get(d) != 1, "import cycle: " + " -> ".join(path + [m, d])
            if d not in state:
                visit(d, path + [m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    # the trainers never import the presentation layer upward through a cycle; and report
    # renders from files only
    assert "generalise" not in graph["report"] and "fit" not in graph["report"]


def test_trainers_do_not_reach_the_presentation_layer():
    """Trainers return results; only ``runs`` (and the CLI above it) writes figures and reports."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from import_graph import imports

    graph = imports()

    def reach(m, seen=None):
        seen = set() if seen is None else seen
        for d in graph[m]:
            if d not in seen:
                seen.add(d)
                reach(d, seen)
        return seen

    for trainer in ("tutorial", "fit", "generalise"):
        assert not reach(trainer) & {"plots", "report", "runs", "cli"}, trainer
    assert reach("report") <= {"io", "errors", "models"}  # renders from files only


def test_the_architecture_page_draws_todays_imports():
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "tools"))
    from import_graph import imports, mermaid, replace_diagram

    page = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert replace_diagram(page, mermaid(imports())) == page, (
        "docs/architecture.md is out of date: run python tools/import_graph.py --write "
        "docs/architecture.md"
    )
