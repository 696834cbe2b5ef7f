"""The tutorial notebook runs top to bottom (a failing cell fails the test)."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[1] / "examples" / "tutorial.ipynb"


def test_notebook_is_up_to_date_with_its_source():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_notebook", NOTEBOOK.with_name("make_notebook.py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    built = mod.build()
    stored = nbformat.read(NOTEBOOK, as_version=4)
    assert [c.source for c in stored.cells] == [c.source for c in built.cells]


def test_notebook_executes(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(o.get("text", "") for o in outputs)
    assert "detector" in text and "dead" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 8


def test_notebook_is_stored_with_its_figures():
    """Browsing the repository shows the figures (make_notebook.py executes before it writes)."""
    stored = nbformat.read(NOTEBOOK, as_version=4)
    outputs = [o for c in stored.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 8
