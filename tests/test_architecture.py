"""The package layout DESIGN.md describes: engines without Dagster, and no import circles anywhere."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "apiops_pipelines"
DAGSTER_LAYER = ("assets", "jobs", "sensors", "resources", "definitions", "commands", "cli", "demo", "lineage")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every apiops_pipelines module each module imports, wherever the import stands (a function body or a
    TYPE_CHECKING block included: a circle hidden there is still a circle for a reader)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    found: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                base = node.module
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    targets.add(candidate if candidate in modules else base)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        found[name] = {t for t in targets if t in modules and t != name}
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index, low, on_stack, stack, result, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
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
                        result.append(sorted(component))
    return result


def test_no_module_imports_itself_through_others():
    graph = _imports()
    # a package's __init__ re-exporting its modules is no circle of concerns: leave the package nodes out
    packages = {name for name in graph if (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists()}
    graph = {name: targets - packages for name, targets in graph.items() if name not in packages}
    assert _cycles(graph) == []


def test_engines_import_no_dagster():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        top = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if top in DAGSTER_LAYER or top == "dagster_graphql":
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])  # fmt: skip
            if any(n == "dagster" or n.startswith(("dagster.", "dagster_")) for n in names):
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_the_package_root_keeps_only_the_entry_points_and_cross_cutting_helpers():
    loose = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__", "artifacts", "cli", "dagster_graphql", "definitions", "findings", "processes",
                     "settings"]


def test_every_package_imports_first_in_a_fresh_interpreter():
    """A circle through a package's __init__ (left out above) shows only in the order Python runs them:
    `platform.programs` importing `fuzz.secrets` ran fuzz/__init__, which reached `platform.runtime`
    half-loaded, and `import apiops_pipelines.platform` failed while every test importing load first passed."""
    packages = sorted(_module_name(p) for p in PACKAGE.rglob("__init__.py"))
    failed = []
    for name in packages:
        done = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, timeout=120)
        if done.returncode:
            failed.append(f"{name}: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    assert len(packages) > 20 and failed == []
