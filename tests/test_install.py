"""The engine as an author uses it: installed from this repository into a project of their own that holds only
mkdocs.yml, a CSV, its descriptor and a report spec with its page, built by the console command and by MkDocs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

MKDOCS_YML = """\
site_name: Rainfall
theme:
  name: material
plugins:
  - search
  - claimsite
"""
CSV = "city,year,rainfall_mm\nOslo,2023,801.5\nLisbon,2023,612.4\nLima,2023,16.0\n"
DESCRIPTOR = """\
name: weather
resources:
  - name: rain
    path: rain.csv
    title: Rainfall
    description: Rain that fell in each city in 2023.
    sources:
      - title: Example values
    schema:
      primaryKey: [city]
      fields:
        - {name: city, type: string, title: City}
        - {name: year, type: year, title: Year}
        - {name: rainfall_mm, type: number, title: Rainfall, unit: mm}
"""
SPEC = """\
slug: rain
title: Rainfall by city
summary: How much rain fell in each city in 2023.
data:
  rainfall:
    dataset: rain
    value: rainfall_mm
    label: city
charts:
  - id: rainfall
    title: Rainfall by city
    kind: bar
    data: rainfall
    x: {field: city, title: City}
    y: {field: rainfall_mm, title: Rainfall (mm)}
claims:
  - id: wettest
    check: best
    from: rainfall
    text: The wettest city is {{ top.row }}, with {{ top }}.
"""
PAGE = """\
---
title: Rainfall
---

# {{ report.title }}

{{ figure("rainfall") }}

- {{ claim("wettest") }}
"""


def run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new environment with the engine installed from a wheel of this repository, as pip builds and installs it.

    The engine's libraries come from the test environment (a .pth file points at them), so nothing is downloaded.
    """
    work = tmp_path_factory.mktemp("install")
    source = work / "source"  # pip builds in the source folder: a copy, so the repository is left as it is
    shutil.copytree(ROOT / "claimsite", source / "claimsite", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", work / "wheels", source], cwd=work)
    environment = work / "env"
    run([sys.executable, "-m", "venv", "--without-pip", environment], cwd=work)
    python = environment / "bin" / "python"
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=work).stdout.strip())
    (purelib / "libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    wheels = sorted((work / "wheels").glob("claimsite-*.whl"))
    assert len(wheels) == 1, wheels
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheels[0]], cwd=work)
    return environment


@pytest.fixture
def author_project(tmp_path: Path) -> Path:
    """A project of an author's own: no engine code, no Makefile, no docs/ beyond what MkDocs needs."""
    project = tmp_path / "rainfall"
    for path, text in {
        "mkdocs.yml": MKDOCS_YML,
        "data/rain.csv": CSV,
        "data/datapackage.yaml": DESCRIPTOR,
        "templates/reports/rain.yaml": SPEC,
        "templates/reports/rain.md.j2": PAGE,
    }.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text, encoding="utf-8")
    return project


def text_of(page: Path) -> str:
    """What a reader reads on a page: its HTML without tags."""
    return re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))


def clean_env(environment: Path) -> dict[str, str]:
    """The environment a shell in the new environment would have: its bin first, nothing of the repository's."""
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["PATH"] = f"{environment / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_installed_engine_is_the_one_that_runs(installed: Path, tmp_path: Path) -> None:
    located = run([installed / "bin" / "python", "-c", "import claimsite; print(claimsite.__file__)"], cwd=tmp_path, env=clean_env(installed))
    assert Path(located.stdout.strip()).is_relative_to(installed), located.stdout
    version = run([installed / "bin" / "claimsite", "--version"], cwd=tmp_path, env=clean_env(installed))
    assert version.stdout.startswith("claimsite "), version.stdout


def test_an_authors_project_builds_with_the_console_command(installed: Path, author_project: Path) -> None:
    result = run([installed / "bin" / "claimsite", "build"], cwd=author_project, env=clean_env(installed))
    assert "Built site/" in result.stdout, result.stdout
    page = (author_project / "site" / "rain" / "index.html").read_text(encoding="utf-8")
    assert "The wettest city is Oslo, with 801.5 mm." in text_of(author_project / "site" / "rain" / "index.html")
    assert (author_project / "site" / "rain" / "figures" / "rainfall.svg").is_file()
    # The engine's own theme, stylesheet, script and Vega runtime come with it: the author's project has none of them.
    for path in ("assets/report.css", "assets/report.js", "assets/vendor/vega/vega.min.js", "data/index.html", "changes/index.html"):
        assert (author_project / "site" / path).is_file(), path
    assert 'property="og:title"' in page and "assets/report.js" in page
    assert not (author_project / "docs").exists()


def test_an_authors_project_builds_with_mkdocs(installed: Path, author_project: Path) -> None:
    (author_project / "docs").mkdir()  # MkDocs requires its docs_dir to exist before any plugin runs
    run([installed / "bin" / "python", "-m", "mkdocs", "build", "--strict", "--site-dir", "published"], cwd=author_project, env=clean_env(installed))
    assert "The wettest city is Oslo, with 801.5 mm." in text_of(author_project / "published" / "rain" / "index.html")
    assert (author_project / "published" / "assets" / "report.css").is_file()


def test_a_wrong_claim_stops_mkdocs_with_a_located_message_and_no_traceback(installed: Path, author_project: Path) -> None:
    spec = author_project / "templates" / "reports" / "rain.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("kind: bar", "kind: bars"), encoding="utf-8")
    (author_project / "docs").mkdir()
    result = subprocess.run(
        [str(installed / "bin" / "python"), "-m", "mkdocs", "build", "--strict"],
        cwd=author_project,
        env=clean_env(installed),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0
    assert "templates/reports/rain.yaml" in result.stderr and "bars" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
