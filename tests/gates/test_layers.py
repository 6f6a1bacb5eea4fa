"""The layers import downward only, and no two modules import each other, directly or round a circle.

    org_config  ◄─ analysis ◄─ cdk_constructs ◄─ stacks ◄─ app.py, tools
    (the bottom)   (no CDK)

Handler code (``lambdas/``, ``flink/``) runs in AWS on its own and imports none of these.
A stack module of one pattern never imports another pattern's stack module; the app
(``stacks/organization_app.py``) is what places the patterns side by side.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("org_config", "analysis", "cdk_constructs", "stacks", "lambdas", "flink", "tools")
# What each layer may import of the project (itself always included).
ALLOWED: dict[str, frozenset[str]] = {
    "org_config": frozenset(),
    "analysis": frozenset({"org_config"}),
    "cdk_constructs": frozenset({"org_config", "analysis"}),
    "stacks": frozenset({"org_config", "analysis", "cdk_constructs"}),
    "lambdas": frozenset(),
    "flink": frozenset(),
    "tools": frozenset({"org_config", "analysis", "cdk_constructs", "stacks"}),
    "app": frozenset({"org_config", "analysis", "cdk_constructs", "stacks"}),
}
# Libraries a layer must not import: the analyses and the config are plain Python.
FORBIDDEN_LIBRARIES: dict[str, tuple[str, ...]] = {
    "org_config": ("aws_cdk", "constructs", "cdk_nag", "boto3"),
    "analysis": ("aws_cdk", "constructs", "cdk_nag", "boto3"),
}
STACK_APP = "stacks.organization_app"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    files = {_module_name(ROOT / "app.py"): ROOT / "app.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            files[_module_name(path)] = path
    return files


SOURCES = _sources()


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every module ``module`` imports (top level or inside a function), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            for alias in node.names:  # ``from analysis import gates`` imports analysis.gates
                if f"{base}.{alias.name}" in SOURCES:
                    yield f"{base}.{alias.name}", node.lineno


def _layer(module: str) -> str:
    return module.split(".")[0]


def _project_imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in SOURCES.items():
        graph[module] = {name for name, _ in _imports(module, path) if name in SOURCES and name != module}
    return graph


def test_every_layer_imports_only_the_layers_below_it() -> None:
    problems = []
    for module, path in SOURCES.items():
        layer = _layer(module)
        for name, line in _imports(module, path):
            top = name.split(".")[0]
            if top in ALLOWED and top != layer and top not in ALLOWED[layer]:
                problems.append(f"{path.relative_to(ROOT)}:{line}: {layer} imports {name}")
            if top in FORBIDDEN_LIBRARIES.get(layer, ()):
                problems.append(f"{path.relative_to(ROOT)}:{line}: {layer} imports the library {name}")
    assert problems == []


def test_no_pattern_imports_another_patterns_stack_module() -> None:
    problems = []
    for module, path in SOURCES.items():
        parts = module.split(".")
        if parts[0] != "stacks" or len(parts) < 3 or module == STACK_APP:
            continue
        for name, line in _imports(module, path):
            other = name.split(".")
            another_pattern = other[0] == "stacks" and len(other) >= 2 and other[1] != parts[1]
            if another_pattern and name in SOURCES and (ROOT / "stacks" / other[1]).is_dir():
                problems.append(f"{path.relative_to(ROOT)}:{line}: stacks.{parts[1]} imports {name}")
    assert problems == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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


def test_no_import_circles() -> None:
    # A package's __init__ importing its own submodules is not a circle of two modules.
    graph = {
        module: {t for t in targets if not (SOURCES[module].name == "__init__.py" and t.startswith(module + "."))}
        for module, targets in _project_imports().items()
    }
    assert _cycles(graph) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_the_circle_finder_finds_circles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert _cycles(graph) == expected


def test_the_layer_check_sees_an_upward_import(tmp_path: Path) -> None:
    source = tmp_path / "model.py"
    source.write_text("def f():\n    from analysis.assembly import read_assembly\n")
    names = [name for name, _ in _imports("org_config.model", source)]
    assert "analysis.assembly" in names
