"""The engine's shape: subpackages in the order the data flows, imports that go one way and only through what a
subpackage shows, every module importing alone, and no state at module level."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "claimsite"
# The flow: a subpackage may import its own modules and those of the subpackages before it, never after.
LAYERS = ("core", "cache", "data", "views", "spec", "claims", "charts", "pages", "site", "cli")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(module_name(path) for path in PACKAGE.rglob("*.py"))


def imports_of(module: str) -> set[str]:
    """Every engine module that ``module`` imports, at the top or inside a function, for typing or not."""
    path = ROOT.joinpath(*module.split("."))
    tree = ast.parse((path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from claimsite.data import load`
    return (found & set(MODULES)) - {module}


def layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def test_the_imports_walk_finds_what_a_module_imports_inside_functions() -> None:
    # The command line imports the build inside its commands, so `--help` stays fast: the walk must still see it.
    assert "claimsite.site.build" in imports_of("claimsite.cli.main")
    assert "claimsite.data.large" in imports_of("claimsite.data.load")


def test_every_module_lives_in_a_subpackage_of_the_flow_that_says_what_it_owns() -> None:
    for module in MODULES:
        assert module == "claimsite" or layer(module) in LAYERS, f"{module} is outside the flow {LAYERS}"
    for name in LAYERS:
        init = PACKAGE / name / "__init__.py"
        assert init.is_file(), f"claimsite.{name} is not a subpackage"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        owned = [m.rsplit(".", 1)[1] for m in MODULES if layer(m) == name and m.count(".") == 2]
        missing = [m for m in owned if f"``{m}``" not in doc]
        assert not missing, f"claimsite.{name}'s docstring does not say what {', '.join(missing)} own(s)"


def test_imports_follow_the_flow_and_never_reach_another_subpackages_internals() -> None:
    wrong = []
    for module in MODULES:
        for imported in imports_of(module):
            if layer(imported) == layer(module) or imported == "claimsite":
                continue
            if LAYERS.index(layer(imported)) > LAYERS.index(layer(module)):
                wrong.append(f"{module} imports {imported}, which comes later in the flow")
            if any(part.startswith("_") and part != "__init__" for part in imported.split(".")):
                wrong.append(f"{module} imports {imported}, an internal module of claimsite.{layer(imported)}")
    assert not wrong, "\n".join(wrong)


def test_the_module_graph_has_no_cycle() -> None:
    graph = {module: imports_of(module) for module in MODULES}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"import cycle: {' → '.join(error.args[1])}")
    assert set(order) == set(MODULES)


CHUNKS = 4  # the modules split among interpreters, which the test workers run side by side


@pytest.mark.slow  # an interpreter importing every module anew: not in the unit tier
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_every_module_imports_alone(chunk: int) -> None:
    # One interpreter per module would take seconds; one that imports each into a fresh module table is as strict.
    script = (
        "import importlib, sys\n"
        f"for name in {MODULES[chunk::CHUNKS]!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'claimsite' or m.startswith('claimsite.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


MUTABLE = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)


@pytest.mark.parametrize("module", MODULES)
def test_no_mutable_state_at_module_level(module: str) -> None:
    path = ROOT.joinpath(*module.split("."))
    tree = ast.parse((path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text(encoding="utf-8"))
    mutable = []
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, MUTABLE) or (isinstance(value, ast.Call) and getattr(value.func, "id", "") in {"dict", "list", "set", "defaultdict"}):
            mutable.append(f"line {node.lineno}")
    assert not mutable, f"{module} keeps mutable state at module level ({', '.join(mutable)}): use a tuple, frozenset or MappingProxyType"
