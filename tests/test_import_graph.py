"""The house's shape, checked from the source: no import circle, the core free of `telegram`, handlers free of
`bot.app`. Every `import` counts, also the ones inside functions (a deferred import hides a circle, it does not
remove it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage")
#: Transport-free parts of the house (DESIGN.md): they never import `telegram`.
CORE = ("bot.exchanges", "bot.diagnosis", "bot.advice", "bot.support", "bot.health", "bot.verdict", "bot.services")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _resolve(module: str, level: int, target: str | None, current: str, is_package: bool) -> str:
    if level == 0:
        return target or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def _imports(name: str, path: Path) -> set[str]:
    """The house's modules `name` imports: `from a import b` is an import of `a.b` when that is a module, else of
    `a` (a package's `__init__` that a submodule runs on the way is Python's doing, not an edge)."""
    tree = ast.parse(path.read_text("utf-8"))
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, node.level, node.module, name, is_package)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _external(name: str) -> set[str]:
    tree = ast.parse(MODULES[name].read_text("utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_walk_sees_the_house() -> None:
    assert {"bot.app", "bot.services", "bot.support.delivery", "handlers.support", "storage.db"} <= set(GRAPH)
    assert "bot.services" in GRAPH["handlers.private"]
    assert "storage.db" in GRAPH["bot.services"]


def test_a_circle_is_found_when_there_is_one() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_bot_handlers_and_storage() -> None:
    assert _cycles(GRAPH) == []


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("handlers")))
def test_handlers_never_import_the_application(name: str) -> None:
    assert "bot.app" not in GRAPH[name] and "bot.lifecycle" not in GRAPH[name]


def test_the_status_page_and_the_application_do_not_import_each_other() -> None:
    assert "bot.app" not in GRAPH["bot.status_page"]
    assert "bot.status_page" not in GRAPH["bot.app"]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith(CORE)))
def test_the_core_never_imports_telegram(name: str) -> None:
    assert "telegram" not in _external(name), name
    assert not {m for m in GRAPH[name] if m.startswith(("handlers", "bot.app", "bot.lifecycle"))}, name
