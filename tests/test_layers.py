"""The package's folders are its architecture: imports go one way, with no cycle.

The rule is read from the code itself (every ``import`` statement of every module,
including those inside functions), so a later change cannot quietly break it:

    show -> analysis -> study -> stats -> base      exchange -> study
    synthetic -> analysis                            the top level -> anything

``base`` is ``qda.errors`` and ``qda.io``; the top level is ``qda/__init__``,
``qda.__main__``, ``qda.cli`` and the stable facades ``qda.agreement`` and ``qda.refi``.
No module imports a module of the package inside a function (such imports hide edges,
and used to hide two cycles).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

BASE = {"qda.errors", "qda.io"}
ALLOWED = {
    "base": {"base"},
    "stats": {"base", "stats"},
    "study": {"base", "stats", "study"},
    "analysis": {"base", "stats", "study", "analysis"},
    "exchange": {"base", "study", "exchange"},
    "show": {"base", "stats", "study", "analysis", "show"},
    "synthetic": {"base", "stats", "study", "analysis", "synthetic"},
    "top": {"base", "stats", "study", "analysis", "exchange", "show", "synthetic", "top"},
}


def layer_of(module: str) -> str:
    if module in BASE:
        return "base"
    parts = module.split(".")
    if len(parts) >= 3 or (len(parts) == 2 and parts[1] in ALLOWED):
        return parts[1] if parts[1] in ALLOWED else "top"
    return "top"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """(imported qda module, line, inside a function) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, in_function) for a in child.names if a.name.split(".")[0] == "qda")
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.split(".")[0] == "qda":
                    found.append((target, child.lineno, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def package_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (``from qda.x import y`` counts as qda.x)."""
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        graph[module_name(path)] = {target for target, _, _ in imports_of(path)}
    return graph


def back_edges(graph: dict[str, set[str]]) -> list[str]:
    """Edges that go against the layers, as 'a (layer) -> b (layer)'."""
    return [
        f"{a} ({layer_of(a)}) -> {b} ({layer_of(b)})"
        for a, targets in sorted(graph.items())
        for b in sorted(targets)
        if b != "qda" and layer_of(b) not in ALLOWED[layer_of(a)] or (b == "qda" and layer_of(a) != "top")
    ]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first search (each reported once, from where it closes)."""
    found, state, stack = [], {}, []

    def dfs(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                dfs(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            dfs(node)
    return found


def test_every_module_has_a_layer():
    graph = package_graph()
    assert {layer_of(m) for m in graph} <= set(ALLOWED)
    assert layer_of("qda.stats.agreement") == "stats" and layer_of("qda.agreement") == "top"


def test_imports_go_one_way():
    assert back_edges(package_graph()) == []


def test_no_import_cycle():
    assert cycles(package_graph()) == []


def test_no_package_import_inside_a_function():
    hidden = [
        f"{module_name(p)}:{line} imports {target}"
        for p in SRC.rglob("*.py")
        for target, line, in_function in imports_of(p)
        if in_function
    ]
    assert hidden == []


@pytest.mark.parametrize(
    "edge",
    [
        ("qda.stats.agreement", "qda.study.units"),  # statistics must not know the study
        ("qda.study.folder", "qda.exchange.read"),  # the old corpus -> refi cycle
        ("qda.analysis.themes", "qda.show.tables"),  # analysis must not draw
        ("qda.exchange.read", "qda.analysis.analysis_set"),  # exchange sits on the study only
        ("qda.study.units", "qda"),  # nothing below the top imports the top
    ],
)
def test_the_check_catches_a_back_edge(edge):
    graph = package_graph()
    a, b = edge
    graph[a] = graph[a] | {b}
    assert back_edges(graph), f"{a} -> {b} should be reported"


def test_the_check_catches_a_cycle():
    graph = package_graph()
    graph["qda.study.schema"] = graph["qda.study.schema"] | {"qda.study.folder"}  # folder imports schema
    assert cycles(graph)
