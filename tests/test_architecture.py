"""The tree's boundaries, read from the source: who may import whom, no cycles, short functions.

Every import statement counts, at module level or inside a function or a
``TYPE_CHECKING`` block, so a cycle cannot hide inside a function.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"engine": "optsim.engine", "tui": "optsim.tui"}
MAX_FUNCTION_LINES = 60
UI_LIBRARIES = ("textual", "rich", "plotext")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("").parts
    name = ".".join((PACKAGES[rel[0]],) + rel[1:])
    return name.removesuffix(".__init__")


def source_files() -> dict[str, Path]:
    return {module_name(p): p for top in PACKAGES for p in sorted((ROOT / top).rglob("*.py"))}


MODULES = source_files()


def imported_names(name: str, path: Path) -> set[str]:
    """Absolute names of everything `path` imports (for `from pkg import mod`, also pkg.mod)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def project_edges() -> dict[str, set[str]]:
    return {name: {t for t in imported_names(name, path) if t in MODULES and t != name}
            for name, path in MODULES.items()}


def test_the_tree_is_read_as_expected():
    assert "optsim.engine.core.simulation" in MODULES and "optsim.tui.render.contour_grid" in MODULES
    edges = project_edges()
    assert "optsim.engine.core.history" in edges["optsim.engine.core.simulation"]
    assert "optsim.engine.analysis.diagnosis" in edges["optsim.engine.watch.session"]


def test_the_engine_imports_nothing_from_the_app_or_a_ui_library():
    bad = {name: sorted(t for t in imported_names(name, path)
                        if t.startswith("optsim.tui") or t.split(".")[0] in UI_LIBRARIES)
           for name, path in MODULES.items() if name.startswith("optsim.engine")}
    assert {k: v for k, v in bad.items() if v} == {}


def test_the_drawing_package_imports_no_textual():
    bad = {name: sorted(t for t in imported_names(name, path)
                        if t.split(".")[0] == "textual" or t.startswith(("optsim.tui.widgets", "optsim.tui.screens")))
           for name, path in MODULES.items() if name.startswith("optsim.tui.render")}
    assert len(bad) >= 4 and {k: v for k, v in bad.items() if v} == {}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None (iterative DFS, three colours)."""
    state: dict[str, int] = {}
    for root in sorted(edges):
        if state.get(root):
            continue
        stack = [(root, iter(sorted(edges[root])))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(sorted(edges[child]))))
                path.append(child)
    return None


def test_find_cycle_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    assert find_cycle(project_edges()) is None


def long_functions() -> list[str]:
    out = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    out.append(f"{name}.{node.name}: {lines} lines")
    return out


def test_no_production_function_is_over_60_lines():
    assert long_functions() == []


@pytest.mark.parametrize("folder", ["engine", "tui"])
def test_every_sub_package_says_what_it_is_for(folder):
    inits = sorted((ROOT / folder).rglob("__init__.py"))
    assert len(inits) >= 4
    assert [str(p) for p in inits if not ast.get_docstring(ast.parse(p.read_text()))] == []
