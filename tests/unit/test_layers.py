"""Dependencies point one way: a module imports only from its own layer or the layers below.

The layers, lowest first (docs/design.md draws them). A module belongs to the most
specific entry naming it or a package above it. Imports are read with :mod:`ast`, both
at the top of a module and inside functions: a lazy import is still an arrow.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "opsgov_hooks"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("leaf", ("opsgov_hooks", "opsgov_hooks.findings", "opsgov_hooks.codes", "opsgov_hooks.term",
              "opsgov_hooks.atomicfile", "opsgov_hooks.resources", "opsgov_hooks.speed.nogc",
              "opsgov_hooks.lazy",
              "opsgov_hooks.linear", "opsgov_hooks.linear_inventory", "opsgov_hooks.identities")),
    # Formats with no knowledge of git or policy: the findings' output formats, the strict YAML loader.
    ("formats", ("opsgov_hooks.output", "opsgov_hooks.records.yamlstrict")),
    ("git", ("opsgov_hooks.git",)),
    ("policy", ("opsgov_hooks.policy",)),
    # The records, and the execution log's format with the command analysis its rules read.
    ("records", ("opsgov_hooks.records", "opsgov_hooks.execution.execlog", "opsgov_hooks.execution.steptext",
                 "opsgov_hooks.execution.procrun", "opsgov_hooks.execution.cmdpolicy",
                 "opsgov_hooks.execution.servicecmds", "opsgov_hooks.execution.shellwords")),
    ("rules", ("opsgov_hooks.rules",)),
    # Caches and parallel work: the runner uses them, the rules never do.
    ("speed", ("opsgov_hooks.speed",)),
    ("workflows", ("opsgov_hooks.check", "opsgov_hooks.lifecycle", "opsgov_hooks.execution",
                   "opsgov_hooks.ledger_io", "opsgov_hooks.audit", "opsgov_hooks.adoption")),
    # The command boundary: the CLI, the fast path, and each command's entry ('opsgov check' is check.run).
    ("commands", ("opsgov_hooks.commands", "opsgov_hooks.cli", "opsgov_hooks.fastpath", "opsgov_hooks.console",
                  "opsgov_hooks.__main__",
                  "opsgov_hooks.check.run")),
]
RANK = {prefix: rank for rank, (_name, prefixes) in enumerate(LAYERS) for prefix in prefixes}
NAMES = [name for name, _prefixes in LAYERS]

# Where an import inside a function is allowed: the command boundary, which keeps start-up
# light by importing only what the chosen command needs, and the doors that pick one of
# several implementations per run (an output format, a ledger backend, the report's format).
BOUNDARY = ("opsgov_hooks.commands", "opsgov_hooks.cli", "opsgov_hooks.fastpath", "opsgov_hooks.console",
            "opsgov_hooks.__main__",
            "opsgov_hooks.check.run")
DOORS = frozenset({"opsgov_hooks.output", "opsgov_hooks.ledger_io", "opsgov_hooks.audit.run"})
# Doors by name (importlib, not an import statement): the rule table names each rule's module, and
# the preparers' table each preparer's, so a family loads only when one of its members first runs.
NAMED_DOORS = {"opsgov_hooks.rules.registry": "opsgov_hooks.rules", "opsgov_hooks.check.preparers": "opsgov_hooks.check"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def layer_of(module: str) -> int:
    probe = module
    while probe not in RANK:
        if "." not in probe:
            raise KeyError(f"{module} is in no layer: add it to LAYERS in {__file__}")
        probe = probe.rsplit(".", 1)[0]
    return RANK[probe]


def imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for every import of an opsgov module."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.ImportFrom) and child.level == 0 and child.module \
                    and child.module.split(".")[0] == "opsgov_hooks":
                for alias in child.names:
                    full = f"{child.module}.{alias.name}"
                    found.append((full if full in MODULES else child.module, child.lineno, nested))
            elif isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, nested) for a in child.names
                             if a.name.split(".")[0] == "opsgov_hooks")
            elif isinstance(child, ast.If) and _type_checking(child):
                continue  # typing only: no arrow at run time
            visit(child, inner)

    visit(tree, False)
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or \
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_no_import_runs_back_up() -> None:
    upward = []
    for module in sorted(MODULES):
        for target, line, _nested in imports(module):
            if layer_of(target) > layer_of(module):
                upward.append(f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}: {module} "
                              f"({NAMES[layer_of(module)]}) imports {target} ({NAMES[layer_of(target)]})")
    assert upward == []


def test_no_import_circle() -> None:
    graph = {m: {t for t, _line, _nested in imports(m) if t in MODULES and t != m} for m in MODULES}
    cycles = _cycles(graph)
    assert cycles == []


def test_lazy_imports_only_at_the_command_boundary() -> None:
    lazy = sorted({f"{MODULES[m].relative_to(PACKAGE.parent)}:{line}: {target}"
                   for m in sorted(MODULES) if not m.startswith(BOUNDARY) and m not in DOORS
                   for target, line, nested in imports(m) if nested})
    assert lazy == []
    by_name = sorted(str(MODULES[m].relative_to(PACKAGE.parent)) for m in MODULES
                     if not m.startswith(BOUNDARY) and m not in DOORS and m not in NAMED_DOORS
                     and 'import_module(f"opsgov_hooks.' in MODULES[m].read_text(encoding="utf-8"))
    assert by_name == []


def test_the_named_doors_open_only_into_their_own_layer() -> None:
    from opsgov_hooks.check.preparers import PREPARERS
    from opsgov_hooks.rules.registry import RULES

    named = {"opsgov_hooks.rules.registry": [f"opsgov_hooks.rules.{r.where.split(':')[0]}" for r in RULES],
             "opsgov_hooks.check.preparers": [f"opsgov_hooks.check.{w.split(':')[0]}" for w in PREPARERS.values()]}
    assert set(named) == set(NAMED_DOORS)
    for door, targets in named.items():
        for target in targets:
            assert target in MODULES, target
            assert target.startswith(NAMED_DOORS[door] + "."), target
            assert layer_of(target) <= layer_of(door), target


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
])
def test_the_circle_finder_finds_circles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert _cycles(graph) == expected


def test_the_layer_check_sees_an_upward_import() -> None:
    assert layer_of("opsgov_hooks.rules.gate") < layer_of("opsgov_hooks.check.judge")
    assert layer_of("opsgov_hooks.execution.cmdpolicy") < layer_of("opsgov_hooks.rules.execution")
    assert ("opsgov_hooks.check.runner", 23, False) not in imports("opsgov_hooks.rules.registry")
    assert any(t == "opsgov_hooks.rules.registry" for t, _l, _n in imports("opsgov_hooks.check.runner"))
