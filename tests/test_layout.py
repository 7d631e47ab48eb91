"""The package's shape: no module imports, however indirectly, a module that imports it.

Every import statement counts, wherever it stands: at the top, inside a
function, or under ``TYPE_CHECKING``. A cycle says that two modules are one
concern, or that one of them points the wrong way.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "django_cronjobs"


def module_names(root: Path) -> dict[str, Path]:
    """Each module of the package by dotted name (a package by its ``__init__``)."""
    names = {}
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports (its own parent packages aside)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                base = here[: len(here) - node.level + 1]
                start = ".".join(base + ([node.module] if node.module else []))
            else:
                start = node.module or ""
            targets = [start] + [f"{start}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(f"{target}."):
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for neighbour in sorted(graph[node]):
            if neighbour not in index:
                visit(neighbour)
                low[node] = min(low[node], low[neighbour])
            elif neighbour in on_stack:
                low[node] = min(low[node], index[neighbour])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = module_names(root)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def test_the_package_has_no_import_cycle():
    assert cycles(import_graph(PACKAGE)) == []


def test_a_cycle_is_found_however_its_imports_are_written(tmp_path):
    package = tmp_path / "shop"
    (package / "orders").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "orders" / "__init__.py").write_text("")
    (package / "prices.py").write_text("def total():\n    from .orders import basket\n")
    (package / "orders" / "basket.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..taxes import rate\n"
    )
    (package / "taxes.py").write_text("import shop.prices\n")
    (package / "stock.py").write_text("from . import prices\n")  # uses it, no cycle
    assert cycles(import_graph(package)) == [["shop.orders.basket", "shop.prices", "shop.taxes"]]


@pytest.mark.parametrize("folder", sorted(p.name for p in PACKAGE.iterdir() if p.is_dir()))
def test_each_folder_is_small_enough_to_read_at_a_glance(folder):
    entries = [
        path
        for path in (PACKAGE / folder).iterdir()
        if path.name not in {"__init__.py", "__pycache__"}
    ]
    assert len(entries) <= 13, f"{folder}/ has {len(entries)} entries"
