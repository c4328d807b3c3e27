"""Shared fixtures: a copy of the project to change, and a site built once per session."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from claimsite.core.project import Project
    from claimsite.pages.render import Generated

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PARTS = ("data", "templates", "docs", "mkdocs.yml")  # the engine is installed, as in an author's project


def copy_project(destination: Path) -> Path:
    """A copy of the project's inputs (data, templates, docs, mkdocs.yml) to change freely.

    The chart renders the project has cached come along: they are keyed by each chart's spec (and sealed with this
    user's key), so a copy renders only the charts its changes touch, as a real rebuild would.
    """
    destination.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, destination / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / part)
    renders = shipped_renders()
    if renders.is_dir():
        linked_copy(renders, destination / ".cache" / "charts", ignore=shutil.ignore_patterns("*.tmp", ".*"))
    return destination


def linked_copy(source: Path, destination: Path, ignore: Callable[[str, list[str]], set[str]] | None = None) -> None:
    """A copy of a folder whose files are never written in place (the build's caches write a new file and rename it; a
    site is replaced whole): each file a hard link to its original where the file system allows, else a copy."""

    def link(original: str, copy: str) -> None:
        try:
            os.link(original, copy)
        except OSError:
            shutil.copy2(original, copy)

    shutil.copytree(source, destination, ignore=ignore, copy_function=link)


# What the tests keep between runs (drawn charts), outside the repository: one folder per checkout, so that two test
# runs of different checkouts never share it, and the project's own .cache/ is never touched by the tests.
TEST_CACHE = Path(tempfile.gettempdir()) / f"claimsite-tests-{os.getuid()}-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]}"


def shipped() -> Project:
    """The repository's own project, its caches kept in the tests' folder: a test never writes the repository's .cache/."""
    from claimsite.core.project import Project

    return Project(ROOT, caches=TEST_CACHE)


def shipped_renders() -> Path:
    """The renders of the shipped charts as they are now (not those of earlier versions the tests' cache keeps), one
    folder per test worker, filled by ``rendered_once``."""
    return TEST_CACHE / f"charts-shipped-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@pytest.fixture(scope="session", autouse=True)
def one_engine() -> Iterator[None]:
    """Builds draw charts in their own process: the test workers already use every core (the engine tests start workers explicitly)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REPORT_WORKERS", "1")
        yield


@pytest.fixture(scope="session")
def rendered_once(one_engine: None) -> Generated:
    """The shipped site's pages and files, generated once per test worker: its charts are drawn into the tests' cache,
    and the ones in use kept for the copies."""
    from claimsite.charts.figures import RenderCache
    from claimsite.site.build import generate

    renders = RenderCache(shipped_renders())
    shutil.rmtree(shipped_renders(), ignore_errors=True)

    class Recorded(RenderCache):
        def get(self, key: str, suffix: str) -> bytes | None:
            content = super().get(key, suffix)
            if content is not None:
                renders.put(key, suffix, content)
            return content

        def put(self, key: str, suffix: str, content: bytes) -> None:
            super().put(key, suffix, content)
            renders.put(key, suffix, content)

    return generate(shipped(), cache=Recorded(TEST_CACHE / "charts"))


@pytest.fixture(scope="session")
def guide(rendered_once: Generated) -> str:
    """The author's guide as generated for the shipped site: its Markdown, with the examples' claims and figures."""
    return rendered_once.pages["guide/index.md"]


@pytest.fixture
def project(tmp_path: Path, rendered_once: Generated) -> Path:
    """A fresh copy of the project in a temporary folder, with the drawings of its charts as they are now."""
    return copy_project(tmp_path / "project")


def tree(folder: Path) -> dict[str, str]:
    """Every file under a folder with the hash of its bytes and its mode bits, to compare a folder before and after."""
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() + oct(p.stat().st_mode)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def replace_in(path: Path, old: str, new: str) -> None:
    """Edit a file of a copied project, failing loudly if the text to replace is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory, rendered_once: Generated) -> Path:
    """The shipped site, built once with a strict MkDocs build."""
    from claimsite.site.publish import publish

    site = tmp_path_factory.mktemp("built") / "site"
    publish(ROOT, rendered_once, site)
    return site


@pytest.fixture
def edit() -> Callable[[Path, str, str], None]:
    """The replace_in helper, for tests that edit a copied project."""
    return replace_in


# The tiers of the suite. A unit test builds nothing: no site, no page, no drawing (seconds in all). An integration test
# builds small sites in temporary folders; a browser test drives Chromium against one shared build. `make test` runs
# them all; `make test-unit` runs the first tier alone, which a guard keeps honest: there, a build is an error.
BUILDING_FIXTURES = frozenset(
    {
        "project", "rendered_once", "built_site", "guide", "built", "good_site", "heavy", "installed", "pages", "payload_site",
        "report_schema", "site", "tied_site", "zensical_site", "logged", "views", "charts", "datasets",
    }
)  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.get_closest_marker(name) for name in ("browser", "bench", "slow", "integration")):
            continue
        if not set(getattr(item, "fixturenames", ())) & BUILDING_FIXTURES:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def unit_tests_build_nothing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In the unit tier alone, a test that assembles pages or publishes a site fails, naming itself as misplaced."""
    if not (request.node.get_closest_marker("unit") and request.config.getoption("-m") == "unit"):
        return
    import claimsite.site.build
    import claimsite.site.publish

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{request.node.nodeid} builds a site: it is not a unit test (give it a building fixture, or mark it slow)")

    monkeypatch.setattr(claimsite.site.build, "assemble", refuse)
    monkeypatch.setattr(claimsite.site.publish, "_publish", refuse)
