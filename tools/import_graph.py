"""Print chordscope's import graph as a Mermaid diagram (for docs/architecture.md).

Every ``from .x import`` / ``from chordscope.x import`` in every module counts, at the top of the
module or inside a function. Usage: ``python tools/import_graph.py`` prints the diagram;
``python tools/import_graph.py --write docs/architecture.md`` replaces the diagram in that page
(``tests/test_package.py`` checks that the page holds the graph of today's code).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "chordscope"


def imports(folder: Path = PACKAGE) -> dict[str, set[str]]:
    """Module name → the package's modules it imports."""
    names = {p.stem for p in folder.glob("*.py")}
    graph = {}
    for path in sorted(folder.glob("*.py")):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level == 1 and node.module:
                deps.add(node.module.split(".")[0])
            elif node.level == 1:
                deps |= {a.name for a in node.names}
            elif (node.module or "").startswith("chordscope."):
                deps.add(node.module.split(".")[1])
        graph[path.stem] = (deps & names) - {path.stem}
    return graph


def mermaid(graph: dict[str, set[str]]) -> str:
    """The graph as ``flowchart TD`` lines; ``errors`` (imported by nearly all) is left out."""
    skip = {"errors", "__init__", "__main__"}
    lines = ["```mermaid", "flowchart TD"]
    for m in sorted(graph):
        if m in skip:
            continue
        for d in sorted(graph[m] - skip):
            lines.append(f"    {m} --> {d}")
    lines.append("```")
    return "\n".join(lines)


def replace_diagram(text: str, diagram: str) -> str:
    """``text`` with its first Mermaid block replaced by ``diagram``."""
    start = text.index("```mermaid")
    end = text.index("```", start + 3) + 3
    return text[:start] + diagram + text[end:]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        page = Path(sys.argv[2])
        page.write_text(replace_diagram(page.read_text(encoding="utf-8"), mermaid(imports())))
    else:
        sys.stdout.write(mermaid(imports()) + "\n")
