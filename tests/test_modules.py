"""The build package's shape: imports go one way, every module imports alone, and nothing holds state at module level."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "report"
MODULES = sorted(f"report.{path.stem}" for path in PACKAGE.glob("*.py") if path.stem != "__init__")


def imports_of(module: str) -> set[str]:
    """Every module of the package that ``module`` imports, at the top or inside a function, for typing or not."""
    tree = ast.parse((PACKAGE / f"{module.removeprefix('report.')}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("report."))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "report":
                found.update(f"report.{alias.name}" for alias in node.names)
            elif node.module.startswith("report."):
                found.add(node.module)
    return (found & set(MODULES)) - {module}


def test_the_imports_walk_finds_what_a_module_imports_inside_functions() -> None:
    # The command line imports the build inside its commands, so `--help` stays fast: the walk must still see it.
    assert "report.build" in imports_of("report.cli")


def test_the_module_graph_has_no_cycle() -> None:
    graph = {module: imports_of(module) for module in MODULES}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"import cycle: {' → '.join(error.args[1])}")
    assert set(order) == set(MODULES)


def test_every_module_imports_alone() -> None:
    # One interpreter per module would take seconds; one that imports each into a fresh module table is as strict.
    script = (
        "import importlib, sys\n"
        "base = set(sys.modules)\n"
        f"for name in {MODULES!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'report' or m.startswith('report.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


MUTABLE = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)


@pytest.mark.parametrize("module", MODULES)
def test_no_mutable_state_at_module_level(module: str) -> None:
    tree = ast.parse((PACKAGE / f"{module.removeprefix('report.')}.py").read_text(encoding="utf-8"))
    mutable = []
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, MUTABLE) or (isinstance(value, ast.Call) and getattr(value.func, "id", "") in {"dict", "list", "set", "defaultdict"}):
            mutable.append(f"line {node.lineno}")
    assert not mutable, f"{module} keeps mutable state at module level ({', '.join(mutable)}): use a tuple, frozenset or MappingProxyType"
