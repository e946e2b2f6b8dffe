"""The package's imports flow one way: no module imports another in a circle, and no inner layer
imports an outer one. Every import counts — at module level, inside a function, or under
`TYPE_CHECKING` — since each is a dependency a reader has to follow."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import qalqan

ROOT = Path(qalqan.__file__).parent

#: Layers, innermost first. A module may import its own layer's packages and inner layers only.
LAYERS: list[set[str]] = [
    {"model"},
    {"names"},
    {"sources"},
    {"matching"},
    {"monitoring"},
    {"exchange", "travel", "content"},
    {"store"},
    {"service", "batch", "distributed"},
    {"api", "cli", "web"},
]
#: Packages that are pure rules, never I/O orchestration: they never import these.
OUTER = {"service", "store", "api", "cli", "web", "batch", "distributed"}
PURE = {"model", "names", "sources", "matching", "monitoring", "exchange", "travel", "content"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in ROOT.rglob("*.py")}


def imported(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The qalqan modules `name` imports (each `from a import b` resolved to a.b if that is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: set(imported(name, path, known)) for name, path in found.items()}


def top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer(name: str) -> int | None:
    for i, packages in enumerate(LAYERS):
        if top(name) in packages:
            return i
    return None


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_walker_sees_imports() -> None:
    edges = graph()
    assert "qalqan.service.context" in edges["qalqan.service.core"]
    assert "qalqan.matching.screener" in edges["qalqan.service.live"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle() -> None:
    assert cycles(graph()) == []


def test_inner_layers_never_import_outer_ones() -> None:
    wrong = []
    for name, targets in graph().items():
        mine = layer(name)
        for target in targets:
            theirs = layer(target)
            if mine is None or theirs is None:
                continue
            if theirs > mine or (top(name) in PURE and top(target) in OUTER):
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_every_package_has_a_layer() -> None:
    packages = {top(n) for n in modules() if top(n)}
    unplaced = packages - set().union(*LAYERS) - {"data"}
    assert unplaced == set(), f"give these packages a layer in LAYERS: {sorted(unplaced)}"


def test_nothing_in_service_imports_the_composition() -> None:
    edges = graph()
    users = sorted(n for n, targets in edges.items() if "qalqan.service.core" in targets and top(n) == "service")
    assert users == []
