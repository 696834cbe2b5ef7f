"""The package's surface: every module is reachable as an attribute of ``chordscope``."""

from pathlib import Path

import chordscope


def test_every_module_is_an_attribute_of_the_package():
    folder = Path(chordscope.__file__).parent
    names = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    assert names == set(chordscope._MODULES)
    for name in sorted(names):
        assert getattr(chordscope, name).__name__ == f"chordscope.{name}"
