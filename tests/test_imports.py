"""No import cycle anywhere in the package: a static walk (ast) over every import of every mnistlab module.

What counts as "module A imports module B" here:

- every ``import`` and ``from ... import`` of a package module, at module level **and inside functions**.
  A function-level (lazy) import only postpones a cycle to the first call of that function; it still ties
  the two modules together, so it counts the same. This is what catches the old cli <-> commands cycle: the
  commands imported ``cli.positive_int`` at module level while ``cli.build_parser`` imported the commands
  inside a function.
- ``importlib.import_module("prefix" + name)`` (or an f-string) counts as importing every package module
  whose name starts with the constant prefix; that is how ``cli.py`` loads ``mnistlab.commands.*``. A call
  without a constant ``mnistlab.`` prefix fails the test, since nobody could check it.
- not counted: code under ``if TYPE_CHECKING:`` (never runs) or ``if __name__ == "__main__":`` (runs only
  when the file is the script ``__main__``, a module object other than the one other modules import), and
  the implicit import of a parent package's ``__init__`` (a package importing its own submodules is how
  packages work).

The one lazy edge that closes a cycle on purpose is listed in ``ALLOWED_LAZY`` with its reason and when it
can go; the test also fails when an allowed edge no longer exists, so the list cannot go stale.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

from mnistlab import config

PACKAGE = "mnistlab"

# (importer, imported): function-level imports allowed to close a cycle, each with why and until when.
ALLOWED_LAZY = {
    ("mnistlab.images", "mnistlab.inference"): "images.__getattr__ (PEP 562) re-exports inference.read_number "
    "for callers of the old path mnistlab.images.read_number; inference imports images at module level. "
    "Goes with that old path (mnistlab/images/ is the image pipeline's).",
}


@dataclass(frozen=True)
class Edge:
    """One import of a package module: where it is and whether it runs at import time."""

    target: str
    line: int
    lazy: bool  # inside a function: runs at the first call, not when the importer is imported


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` under ``root`` by dotted name (a package by its own name, not ``__init__``)."""
    names = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_guard(node: ast.If) -> bool:
    """``if TYPE_CHECKING:`` or ``if __name__ == "__main__":``, whose bodies never run on import."""
    test = node.test
    if isinstance(test, ast.Name | ast.Attribute):
        return (test.id if isinstance(test, ast.Name) else test.attr) == "TYPE_CHECKING"
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def _constant_prefix(node: ast.expr) -> str | None:
    """The constant start of a string expression: ``"a.b"``, ``f"a.{x}"``, ``"a." + x``; None if it has none."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return node.values[0].value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _constant_prefix(node.left)
    return None


def _is_import_module(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__")


def imports_of(name: str, path: Path, modules: dict[str, Path], package: str) -> list[Edge]:
    """The package modules that module ``name`` (file ``path``) imports, by the rules in this file's docstring."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    edges: list[Edge] = []

    def add(target: str, node: ast.AST, lazy: bool) -> None:
        edges.append(Edge(target, node.lineno, lazy))

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_guard(child):
                for other in child.orelse:
                    visit(other, lazy)
                continue
            child_lazy = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name in modules:
                        add(alias.name, child, lazy)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = here[: len(here) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    if f"{base}.{alias.name}" in modules:  # from pkg import submodule
                        add(f"{base}.{alias.name}", child, lazy)
                    elif base in modules:  # from module import name
                        add(base, child, lazy)
            elif isinstance(child, ast.Call) and _is_import_module(child) and child.args:
                prefix = _constant_prefix(child.args[0])
                if not prefix or not prefix.startswith(f"{package}."):
                    raise AssertionError(
                        f"{path}:{child.lineno}: a dynamic import whose module name has no constant "
                        f"'{package}.' prefix cannot be checked for cycles; spell out the prefix."
                    )
                for target in modules:
                    if target.startswith(prefix) and target != name:
                        add(target, child, lazy)
            visit(child, child_lazy)

    visit(ast.parse(path.read_text(), filename=str(path)), lazy=False)
    return edges


def import_graph(root: Path, package: str) -> dict[str, dict[str, Edge]]:
    """``{module: {imported module: first such import}}`` for every module of ``package``."""
    modules = module_names(root, package)
    graph: dict[str, dict[str, Edge]] = {}
    for name, path in modules.items():
        targets: dict[str, Edge] = {}
        for edge in imports_of(name, path, modules, package):
            # A module-level import of a target outweighs a lazy one: keep the one that runs at import time.
            if edge.target not in targets or (targets[edge.target].lazy and not edge.lazy):
                targets[edge.target] = edge
        graph[name] = targets
    return graph


def _cycle_through(graph: dict[str, dict[str, Edge]], start: str, members: set[str]) -> list[str]:
    """A shortest cycle from ``start`` back to itself inside one strongly connected component."""
    parents = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in graph[node]:
            if target == start:
                path = [node]
                while parents[path[-1]] is not None:
                    path.append(parents[path[-1]])
                return [*reversed(path), start]
            if target in members and target not in parents:
                parents[target] = node
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")  # cannot happen inside a component


def find_cycles(graph: dict[str, dict[str, Edge]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan), as module names."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_cycle_through(graph, min(component), component) for component in components]


def describe(cycle: list[str], graph: dict[str, dict[str, Edge]]) -> str:
    steps = [cycle[0]]
    for importer, imported in zip(cycle, cycle[1:], strict=False):
        edge = graph[importer][imported]
        steps.append(f"{imported} (line {edge.line} of {importer}{', inside a function' if edge.lazy else ''})")
    return " -> ".join(steps)


def without_allowed(graph: dict[str, dict[str, Edge]]) -> dict[str, dict[str, Edge]]:
    return {
        importer: {
            target: edge for target, edge in targets.items() if not (edge.lazy and (importer, target) in ALLOWED_LAZY)
        }
        for importer, targets in graph.items()
    }


# --------------------------------------------------------------------------- the package


@pytest.fixture(scope="module")
def graph():
    return import_graph(config.repo_root(), PACKAGE)


def test_no_import_cycle_in_the_package(graph):
    cycles = find_cycles(without_allowed(graph))
    assert not cycles, "import cycles (a lazy import counts too, see this file's docstring):\n" + "\n".join(
        describe(cycle, graph) for cycle in cycles
    )


def test_allowed_lazy_imports_still_exist(graph):
    for importer, target in ALLOWED_LAZY:
        edge = graph.get(importer, {}).get(target)
        assert edge is not None and edge.lazy, (
            f"ALLOWED_LAZY lists {importer} -> {target}, but {importer} no longer imports {target} inside a "
            f"function: remove the entry from tests/test_imports.py."
        )


def test_the_walk_sees_the_cli_loading_every_command(graph):
    commands = {name for name in graph if name.startswith("mnistlab.commands.")} - {"mnistlab.commands.arguments"}
    assert commands <= set(graph["mnistlab.cli"]), "cli.py's importlib loop must count as importing each command"
    assert {name for name, targets in graph.items() if "mnistlab.cli" in targets} == {"mnistlab.__main__"}, (
        "only the entry point may import the CLI: commands and library modules import from commands.arguments"
    )


# --------------------------------------------------------------------------- the walk itself, on made-up packages


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root


def test_catches_the_old_cli_commands_cycle(tmp_path):
    root = _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/cli.py": "import importlib\nCOMMANDS = ('evaluate',)\n\ndef build():\n"
                      "    for name in COMMANDS:\n        importlib.import_module(f'pkg.commands.{name}')\n",
        "pkg/commands/__init__.py": "",
        "pkg/commands/evaluate.py": "from pkg.cli import positive_int\n",
    })
    graph = import_graph(root, "pkg")
    assert find_cycles(graph) == [["pkg.cli", "pkg.commands.evaluate", "pkg.cli"]]
    assert "pkg.commands.evaluate (line 6 of pkg.cli, inside a function) -> pkg.cli (line 1 of " in describe(
        find_cycles(graph)[0], graph
    )


def test_counts_lazy_and_relative_imports_but_not_guarded_blocks(tmp_path):
    root = _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from . import b\n",
        "pkg/b.py": "def later():\n    from pkg.a import thing\n",
        "pkg/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import d\n"
                    "if __name__ == '__main__':\n    import pkg.d\n",
        "pkg/d.py": "import pkg.c\n",
    })
    graph = import_graph(root, "pkg")
    assert graph["pkg.a"]["pkg.b"] == Edge("pkg.b", 1, lazy=False)
    assert graph["pkg.b"]["pkg.a"] == Edge("pkg.a", 2, lazy=True)
    assert graph["pkg.c"] == {}
    assert find_cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]


def test_an_unresolvable_dynamic_import_is_an_error(tmp_path):
    root = _package(tmp_path, {"pkg/__init__.py": "import importlib\nimportlib.import_module(NAME)\n"})
    with pytest.raises(AssertionError, match="no constant 'pkg.' prefix"):
        import_graph(root, "pkg")
