"""A cache is never trusted blindly: every kind, altered, is made again, and nothing in it runs."""

from __future__ import annotations

import pickle
import subprocess
from pathlib import Path

import duckdb
import pytest

from claimsite.cache import keeper
from claimsite.cli.main import main
from claimsite.data import large as bigdata
from tests.conftest import copy_project, tree
from tests.test_views import AGGREGATE, LOG_FIELDS, add_report, write_log


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=project, check=True, capture_output=True, timeout=60)


class Planted:
    """A pickle that leaves a file behind if anything unpickles it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (self.marker, "ran"))  # type: ignore[return-value]


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project in git, with a large dataset read through a view, built once: every cache kind has entries."""
    monkeypatch.setattr(bigdata, "LARGE_BYTES", 20_000)
    project = copy_project(tmp_path / "project")
    write_log(project / "data" / "eval_log.csv", problems=10)
    with (project / "data" / "datapackage.yaml").open("a", encoding="utf-8") as descriptor:
        descriptor.write(LOG_FIELDS)
    add_report(project, AGGREGATE)
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-qm", "first")
    (project / "data" / "figure6_prm_size.csv").write_text(
        (project / "data" / "figure6_prm_size.csv").read_text(encoding="utf-8").replace(",69.9,", ",70.2,"), encoding="utf-8"
    )
    git(project, "commit", "-qam", "second")
    assert main(["--root", str(project), "build"]) == 0
    for kind in ("charts", "data", "claims", "builds"):
        assert any((project / ".cache" / kind).iterdir()), f"the build kept nothing under .cache/{kind}"
    return project


def test_every_cache_altered_is_made_again_and_nothing_in_it_runs(built: Path, tmp_path: Path) -> None:
    cache = built / ".cache"
    marker = tmp_path / "ran"
    # Chart drawings: a false label and a script
    for entry in (cache / "charts").glob("*.svg"):
        entry.write_bytes(entry.read_bytes().replace(b"</svg>", b"<script>alert(1)</script><text>999%</text></svg>"))
    # The data store: every answer right, the source file untouched
    store = next((cache / "data").glob("eval_log-*.duckdb"))
    with duckdb.connect(str(store)) as con:
        con.execute("UPDATE data SET correct = 1")
    # The claims of the earlier version: a false history
    for entry in (cache / "claims").glob("*.json"):
        entry.write_bytes(entry.read_bytes().replace(b"69.9", b"12.3"))
    # Compiled templates, as Jinja would read them: code that runs when unpickled
    planted = cache / "templates" / "pages" / "__jinja2_x.cache"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(pickle.dumps(Planted(marker)))
    # The site: a page edited, its size and time put back
    page = built / "site" / "figure6" / "index.html"
    stat, text = page.stat(), page.read_text(encoding="utf-8")
    page.write_text(text.replace("ReasonFlux", "ReasonFlax", 1), encoding="utf-8")
    import os

    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert main(["--root", str(built), "build"]) == 0
    assert not marker.exists()
    tampered = tree(built / "site")
    clean = copy_project(tmp_path / "clean")
    for part in ("data", "templates", ".git"):
        subprocess.run(["rm", "-rf", str(clean / part)], check=True)
        subprocess.run(["cp", "-a", str(built / part), str(clean / part)], check=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bigdata, "LARGE_BYTES", 20_000)
        assert main(["--root", str(clean), "build"]) == 0
    assert tampered == tree(clean / "site")
    assert "999%" not in (built / "site" / "evals" / "index.html").read_text(encoding="utf-8")


def test_a_sealed_entry_opens_only_under_its_own_name_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = keeper.seal(b"<svg/>", "chart abc.svg")
    assert keeper.unseal(sealed, "chart abc.svg") == b"<svg/>"
    assert keeper.unseal(sealed, "chart def.svg") is None  # moved under another name
    assert keeper.unseal(sealed[:-1] + b"!", "chart abc.svg") is None  # changed
    assert keeper.unseal(b"<svg/>", "chart abc.svg") is None  # never sealed
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "another user"))
    assert keeper.unseal(sealed, "chart abc.svg") is None  # another user's key
    assert oct((tmp_path / "another user" / "claimsite" / "key").stat().st_mode & 0o777) == "0o600"


def test_cache_info_names_every_cache_and_clear_empties_them(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--root", str(built), "cache", "info"]) == 0
    said = capsys.readouterr().out
    for kind in ("charts", "claims", "data", "builds"):
        line = next(line for line in said.splitlines() if line.startswith(f".cache/{kind}/"))
        assert int(line.split()[1].replace(",", "")) > 0, f"{kind} holds nothing after a build: {line}"
    assert "REPORT_CACHE_MB" in said
    assert main(["--root", str(built), "cache", "clear"]) == 0
    assert not (built / ".cache").exists()
    assert main(["--root", str(built), "build", "--force"]) == 0
    rebuilt = capsys.readouterr().out
    assert " 0 charts rendered" not in rebuilt and "charts rendered" in rebuilt, rebuilt


def test_the_caches_keep_under_their_limit_what_was_used_last(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from claimsite.cache import folders

    before = {kind.kind: kind.size for kind in folders.info(built)}
    assert before["charts"] > 0 and before["data"] > 0
    monkeypatch.setenv("REPORT_CACHE_MB", "0.5")
    assert main(["--root", str(built), "build", "--force"]) == 0
    after = {kind.kind: kind.size for kind in folders.info(built)}
    assert sum(after[kind] for kind in folders.PRUNED) <= 0.5 * 1024 * 1024
    assert after["builds"] == before["builds"]  # the record of the last build is kept: the next build stops at once


def test_each_ingredient_of_the_engine_changes_the_key_and_the_next_build_runs(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from claimsite.cache import uptodate
    from claimsite.core import fingerprint

    # Every library where the engine runs, the three the key once left out among them, and every file of the engine.
    versions = fingerprint.library_versions()
    for library in ("duckdb-", "pydantic-", "numpy-", "mkdocs-", "altair-", "vl_convert_python-"):
        assert any(line.startswith(library) for line in versions.splitlines()), library
    engine = tmp_path / "engine"
    shutil.copytree(fingerprint.PACKAGE, engine, ignore=shutil.ignore_patterns("__pycache__"))
    digest = fingerprint.digest_of(engine, versions)
    (engine / "site" / "theme" / "assets" / "report.css").write_text("/* edited */", encoding="utf-8")
    assert fingerprint.digest_of(engine, versions) != digest
    assert fingerprint.digest_of(fingerprint.PACKAGE, versions.replace("duckdb-", "duckdb-0.")) != fingerprint.digest_of(fingerprint.PACKAGE, versions)
    # A build with nothing new stops at once; with another engine (code or libraries), it runs.
    capsys.readouterr()
    assert main(["--root", str(built), "build"]) == 0
    assert "is up to date" in capsys.readouterr().out
    monkeypatch.setattr(uptodate, "code_version", lambda: "another engine")
    assert main(["--root", str(built), "build"]) == 0
    assert "Built site/" in capsys.readouterr().out
    assert uptodate.build_key(built, None, "zensical") != uptodate.build_key(built, None, "mkdocs")
