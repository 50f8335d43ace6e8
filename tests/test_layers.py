"""The packages of window_service stand in layers, and no two import each other in a loop.

Read from the source with ``ast`` (nothing is imported): every ``import`` of a
``window_service`` module, at module level or inside a function, is an arrow from the
top-level package (or module) that holds it to the one it names. A name imported only for
annotations (under ``if TYPE_CHECKING:``) is no arrow: nothing runs it. The layers and the
rule are those of ``docs/architecture.md``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "window_service"

#: Bottom to top. A unit may import its own layer and those below, never one above; within
#: the domains, only the domains listed before it. Every unit is placed: a new package is
#: given its place here, consciously.
LAYERS: dict[str, tuple[str, ...]] = {
    # Knows no domain: settings, clock, database, the hall's ledger tables, the hash chain
    # and its canonical JSON, the unit of work (Tx).
    "core": (
        "config",
        "clock",
        "gc_tuning",
        "db",
        "chain",
        "ledger",
        "queue_changes",
        "transaction",
        "pg_commit",
        "sqlite_writes",
    ),
    # Endpoint declaration, errors, OpenAPI, dates, CSRF, the security headers and allowed
    # hosts: knows no domain either.
    "framework": ("api", "security"),
    # The domains, their pages, the hub, the page machinery, in the order they build on.
    "domains": (
        "halls",
        "auth",
        "accountability",
        "state",
        "audit",
        "queue",
        "realtime",
        "devices",
        "web",
        "notify",
        "cases",
        "feedback",
        "outbox",
        "openness",
        "figures",
        "inspections",
        "evaluation",
        "ratings",
        "efficiency",
        "stats",
        "regions",
        "admin",
        "appointments",
        "privacy",
        "metrics",
    ),
    # Puts the application together: every table, the app factory, the CLI, seed data.
    "top": (
        "models",
        "backup",
        "housekeeping",
        "seed",
        "migrate",
        "app",
        "asgi",
        "cli",
        "__main__",
    ),
}
#: Where each unit stands (unordered within core, framework and top).
PLACE: dict[str, tuple[int, int]] = {
    unit: (level, position if name == "domains" else 0)
    for level, (name, members) in enumerate(LAYERS.items())
    for position, unit in enumerate(members)
}

#: Arrows that still run up or close a loop, each with the work that removes it. The list
#: only shrinks: a new arrow that breaks the rule fails the tests.
KNOWN: dict[tuple[str, str], str] = {}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _type_only(tree: ast.AST) -> set[ast.AST]:
    hidden: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                hidden.update(ast.walk(child))
    return hidden


def _units() -> set[str]:
    """The top-level modules and packages of window_service."""
    return {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}


def arrows() -> dict[tuple[str, str], list[str]]:
    """(importer, imported) → where, for every import between two units."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    units = _units()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        package = list(rel.parts if path.name == "__init__.py" else rel.parts[:-1])
        source = rel.parts[1]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hidden = _type_only(tree)
        for node in ast.walk(tree):
            if node in hidden or not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                names = [module]
                if module == "window_service":
                    names = [f"window_service.{alias.name}" for alias in node.names]
            for name in names:
                if not name.startswith("window_service."):
                    continue
                target = _unit(name)
                if target in units and target != source:
                    found[(source, target)].append(f"{rel}.py:{node.lineno}")
    return found


def test_every_package_has_its_place() -> None:
    assert sorted(_units() - set(PLACE) - {"__init__"}) == []


def test_no_package_imports_a_higher_layer() -> None:
    upward = {
        f"{a} -> {b}: {where[0]}"
        for (a, b), where in arrows().items()
        if PLACE[a] < PLACE[b] and (a, b) not in KNOWN
    }
    assert not upward, "imports that run up a layer:\n" + "\n".join(sorted(upward))


def _loops(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected groups of more than one unit (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_no_two_packages_import_each_other_in_a_loop() -> None:
    found = arrows()
    loops = _loops({pair for pair in found if pair not in KNOWN})
    described = [
        " ".join(group)
        + "\n"
        + "\n".join(
            f"  {a} -> {b}: {found[(a, b)][0]}"
            for a in group
            for b in group
            if (a, b) in found and (a, b) not in KNOWN
        )
        for group in loops
    ]
    assert not loops, "packages in a loop:\n" + "\n".join(described)


def test_every_known_exception_still_exists() -> None:
    """A removed exception is struck from ``KNOWN``, so that it cannot come back unseen."""
    found = arrows()
    assert not [pair for pair in KNOWN if pair not in found]
