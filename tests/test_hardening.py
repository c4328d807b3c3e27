"""Nothing a flag, a file or a typo does can delete data, publish a contradiction, run code or crash the build.

Each bad input of the table runs the command line on a copy of the project whose site/ was built before,
and checks what a user would see: a non-zero exit, no traceback, a message naming the file and the
place (line, or the flag), and site/ and data/ byte for byte as they were.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from claimsite.cli.main import main
from claimsite.core.errors import ReportError
from claimsite.core.offline import offline
from claimsite.site.folder import MARKER
from tests.conftest import ROOT, copy_project, linked_copy, tree

DESCRIPTOR = "data/datapackage.yaml"
PRMS = "data/figure6_prm_size.csv"
SAMPLES = "data/figure6_training_samples.csv"
FIGURE6 = "templates/reports/figure6.yaml"
TABLE2 = "templates/reports/table2.yaml"
PAGE = "templates/reports/table2.md.j2"
EXPLOIT = '{{ cycler.__init__.__globals__.os.popen("id").read() }}'


def edit(file: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(project: Path) -> None:
        path = project / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def edit_bytes(file: str, old: bytes, new: bytes) -> Callable[[Path], None]:
    def apply(project: Path) -> None:
        path = project / file
        content = path.read_bytes()
        assert old in content, f"{old!r} not in {file}"
        path.write_bytes(content.replace(old, new, 1))

    return apply


def write(file: str, content: str | bytes) -> Callable[[Path], None]:
    def apply(project: Path) -> None:
        path = project / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())

    return apply


def both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(project: Path) -> None:
        for step in steps:
            step(project)

    return apply


def link(file: str, target: str) -> Callable[[Path], None]:
    def apply(project: Path) -> None:
        (project / file).symlink_to(target)

    return apply


def nested(depth: int) -> str:
    return "title: x\nslug: deep\ndata: " + "{a: " * depth + "1" + "}" * depth + "\n"


def laughs() -> str:
    lines = ["slug: laughs", "title: x", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    """A bad input: what to do to the project, the command to run, and where the message must point."""

    setup: Callable[[Path], None]
    file: str  # the file (or flag) the message names
    marker: str | None  # a piece of the line it must name (None: no line)
    says: str  # what the message must say
    argv: tuple[str, ...] = ("build",)


CASES: dict[str, Case] = {
    # -- CSV --------------------------------------------------------------------------------
    "control character in a charted cell": Case(edit(PRMS, "Skywork-PRM-7B,Skywork", "Skywork-PRM-7B\x01,Skywork"), PRMS, "Skywork-PRM-7B", "U+0001"),
    "NUL in a cell": Case(edit(SAMPLES, "Raw data (59k)", "Raw\x00data"), SAMPLES, "Raw", "U+0000"),
    "terminal escape sequence in a cell": Case(edit(PRMS, "Skywork-PRM-7B,Skywork", "Sky\x1b[2Jwork,Skywork"), PRMS, "Sky", "\\x1b[2J"),
    "non-character in a cell": Case(edit(PRMS, "Skywork-PRM-7B,Skywork", "Skywork\ufffe,Skywork"), PRMS, "Skywork\ufffe", "U+FFFE"),
    "data file linked to a file outside data/": Case(
        both(
            link("data/pw.csv", "/etc/hostname"),
            edit(DESCRIPTOR, "resources:\n", "resources:\n  - name: pw\n    path: pw.csv\n    schema:\n      fields: [{name: host}]\n"),
        ),
        "data/pw.csv",
        None,
        "link to a file outside data/",
    ),
    # -- the descriptor ---------------------------------------------------------------------
    "misspelt resource key": Case(edit(DESCRIPTOR, "    reading: table\n", "    readng: table\n"), DESCRIPTOR, "readng", "did you mean 'reading'?"),
    "misspelt project key on a field": Case(edit(DESCRIPTOR, "unit: samples", "units: samples"), DESCRIPTOR, "units: samples", "did you mean 'unit'?"),
    "duplicate key in the descriptor": Case(
        edit(DESCRIPTOR, "    reading: table\n", "    reading: table\n    reading: twice\n"), DESCRIPTOR, "reading: twice", "appears twice"
    ),
    "keys equal once Unicode-normalised": Case(
        edit(DESCRIPTOR, "name: reasonflux", "caf\u00e9: 1\ncafe\u0301: 2\nname: reasonflux"), DESCRIPTOR, "cafe\u0301", "Unicode-normalised"
    ),
    "precision that is not a number": Case(edit(DESCRIPTOR, "precision: 0.05", "precision: abc"), DESCRIPTOR, "precision: abc", "must be a number"),
    "schema given as a URL": Case(
        edit(
            DESCRIPTOR,
            "    schema:\n      primaryKey: [sft_data_source",
            "    schema: https://example.org/schema.json\n    x_schema:\n      primaryKey: [sft_data_source",
        ),
        DESCRIPTOR,
        "schema: https",
        "never fetches",
    ),
    "schema given as a list": Case(
        edit(DESCRIPTOR, "    schema:\n      primaryKey: [sft", "    schema: [a]\n    x:\n      primaryKey: [sft"),
        DESCRIPTOR,
        "schema: [a]",
        "must be a mapping",
    ),
    "schema given as a number": Case(
        edit(DESCRIPTOR, "    schema:\n      primaryKey: [sft", "    schema: 5\n    x:\n      primaryKey: [sft"), DESCRIPTOR, "schema: 5", "must be a mapping"
    ),
    "fields given as a number": Case(
        edit(DESCRIPTOR, "      fields:\n        - name: sft_data_source", "      fields: 5\n      x:\n        - name: sft_data_source"),
        DESCRIPTOR,
        "fields: 5",
        "must be a list",
    ),
    "dialect given as a URL": Case(
        edit(DESCRIPTOR, "    reading: table\n", "    reading: table\n    dialect: http://127.0.0.1:9/dialect.json\n"),
        DESCRIPTOR,
        "dialect: http",
        "never fetches",
    ),
    "profile given as a URL": Case(
        edit(DESCRIPTOR, "    reading: table\n", "    reading: table\n    profile: https://example.org/profile.json\n"),
        DESCRIPTOR,
        "profile: https",
        "never fetches",
    ),
    "data path given as a URL": Case(
        edit(DESCRIPTOR, "path: table2_offline_selection.csv", "path: https://example.org/t.csv"),
        DESCRIPTOR,
        "path: https://example.org/t.csv",
        "never fetches",
    ),
    "data path leading out of data/": Case(
        edit(DESCRIPTOR, "path: table2_offline_selection.csv", "path: ../secret.csv"), DESCRIPTOR, "path: ../secret.csv", "inside data/"
    ),
    "javascript: link in a source": Case(
        edit(DESCRIPTOR, "    path: https://arxiv.org/abs/2506.18896\n", "    path: javascript:alert(1)\n"), DESCRIPTOR, "javascript:alert", "not javascript:"
    ),
    "descriptor that is not UTF-8": Case(edit_bytes(DESCRIPTOR, b"Facts reported", b"Facts r\xe9ported"), DESCRIPTOR, "Facts r", "not UTF-8"),
    "control character escaped in a descriptor title": Case(
        edit(DESCRIPTOR, "title: Training data", 'title: "Training\\x01data"'), DESCRIPTOR, "Training", "U+0001"
    ),
    "300-deep nesting in the descriptor": Case(
        edit(DESCRIPTOR, "name: reasonflux-prm-results\n", "name: reasonflux-prm-results\nx: " + "[" * 300 + "]" * 300 + "\n"),
        DESCRIPTOR,
        "x: [",
        "nests more than",
    ),
    # -- report specs -----------------------------------------------------------------------
    "misspelt claim limit": Case(edit(FIGURE6, "at_least: 0.3", "at_leats: 0.3"), FIGURE6, "at_leats", "did you mean 'at_least'?"),
    "a second kind: in a claim": Case(
        edit(
            FIGURE6,
            "  - id: more-selected-samples-help\n    kind: assertion\n",
            "  - id: more-selected-samples-help\n    kind: assertion\n    kind: observation\n",
        ),
        FIGURE6,
        "kind: observation",
        "appears twice",
    ),
    "misspelt chart option": Case(edit(FIGURE6, "domain: [60, 93]", "domian: [60, 93]"), FIGURE6, "domian", "did you mean 'domain'?"),
    "misspelt chart kind": Case(edit(TABLE2, "kind: dots", "kind: dot"), TABLE2, "kind: dot", "did you mean 'dots'?"),
    "domain written high to low": Case(edit(FIGURE6, "domain: [60, 93]", "domain: [93, 60]"), FIGURE6, "domain: [93, 60]", "low below high"),
    "tolerance given as text": Case(edit(FIGURE6, "at_most: 2.5", 'at_most: "2.5"'), FIGURE6, 'at_most: "2.5"', "must be a number"),
    "control character escaped in a spec title": Case(
        edit(TABLE2, "title: Offline data selection across four benchmarks", 'title: "Offline\\x01data selection"'), TABLE2, 'title: "Offline', "U+0001"
    ),
    "control character written in a spec": Case(edit(TABLE2, "nav_title: Table 2", "nav_title: Table\x01 2"), TABLE2, "nav_title", "U+0001"),
    "spec that is not UTF-8": Case(edit_bytes(TABLE2, b"nav_title: Table 2", b"nav_title: T\xe4ble 2"), TABLE2, "nav_title", "not UTF-8"),
    "300-deep nested spec": Case(write("templates/reports/deep.yaml", nested(300)), "templates/reports/deep.yaml", "data:", "nests more than"),
    "aliases that expand into millions": Case(write("templates/reports/laughs.yaml", laughs()), "templates/reports/laughs.yaml", None, "aliases"),
    "javascript: cite url": Case(
        edit(TABLE2, "  url: https://arxiv.org/abs/2506.18896", "  url: javascript:alert(document.domain)"), TABLE2, "url: javascript", "not javascript:"
    ),
    "javascript: cite code": Case(
        edit(TABLE2, "  code: https://github.com", "  code: JavaScript:alert(1)//https://github.com"), TABLE2, "code: JavaScript", "not JavaScript:"
    ),
    "code in a claim's text": Case(
        edit(TABLE2, "On MATH500, data selected by", EXPLOIT + " On MATH500, data selected by"), TABLE2, "- id: reasonflux-leads-math500", "may not use"
    ),
    # -- page templates ---------------------------------------------------------------------
    "code in a page template": Case(edit(PAGE, "## Overview\n", "## Overview\n\n" + EXPLOIT + "\n"), PAGE, "cycler", "may not use"),
    "a DataFrame method in a page template": Case(
        edit(PAGE, "## Overview\n", '## Overview\n\n{{ report.tables["table"].frame.to_csv("/tmp/x.csv") }}\n'), PAGE, "to_csv", "may not use"
    ),
    "include of a missing template": Case(
        edit(PAGE, "## Overview\n", '## Overview\n\n{% include "reports/nothing.md" %}\n'), PAGE, "include", "cannot be read"
    ),
    "include of a file outside templates/": Case(
        edit(PAGE, "## Overview\n", '## Overview\n\n{% include "../data/datapackage.yaml" %}\n'), PAGE, "include", "cannot be read"
    ),
    "include of a link to a file outside templates/": Case(
        both(link("templates/reports/passwd.md", "/etc/passwd"), edit(PAGE, "## Overview\n", '## Overview\n\n{% include "reports/passwd.md" %}\n')),
        PAGE,
        "include",
        "outside templates/",
    ),
    "page template that is not UTF-8": Case(edit_bytes(PAGE, b"## Overview", b"## \xffverview"), PAGE, "verview", "not UTF-8"),
    "control character in a page template": Case(edit(PAGE, "## Overview", "## Over\x07view"), PAGE, "Over", "U+0007"),
    # -- the command line -------------------------------------------------------------------
    "--site-dir data": Case(lambda project: None, "--site-dir data", None, "inside the project's data/ folder", ("build", "--site-dir", "data")),
    "--site-dir .": Case(lambda project: None, "--site-dir .", None, "holds the project itself", ("build", "--site-dir", ".")),
    "--site-dir templates/reports": Case(
        lambda project: None, "--site-dir templates/reports", None, "templates/", ("build", "--site-dir", "templates/reports")
    ),
    "--site-dir a folder of other files": Case(write("notes/todo.txt", "mine"), "--site-dir notes", None, "no build made", ("build", "--site-dir", "notes")),
    "--site-dir a file": Case(lambda project: None, "--site-dir mkdocs.yml", None, "a file, not a folder", ("build", "--site-dir", "mkdocs.yml")),
    "--site-url breaking out of an attribute": Case(
        lambda project: None, "--site-url", None, "quotes", ("build", "--site-url", 'https://x.org/"><script>alert(1)</script>')
    ),
    "--site-url javascript:": Case(lambda project: None, "--site-url", None, "not javascript:", ("build", "--site-url", "javascript:alert(1)")),
    "new with a newline in the slug": Case(
        write("in.csv", "city,rain\nLisbon,1.5\n"), "claimsite new", None, "lowercase words", ("new", "abc\n", "--csv", "{root}/in.csv")
    ),
    "new with a malformed descriptor": Case(
        both(write("in.csv", "city,rain\nLisbon,1.5\n"), edit(DESCRIPTOR, "    reading: table\n", "    reading: table\n    reading: twice\n")),
        DESCRIPTOR,
        "reading: twice",
        "appears twice",
        ("new", "rain", "--csv", "{root}/in.csv"),
    ),
    "diff with a malformed claims.json": Case(
        both(write("old.json", '{"claims": [1]}'), write("new.json", '{"claims": []}')),
        "{root}/old.json",
        None,
        "claims[0]",
        ("diff", "{root}/old.json", "{root}/new.json"),
    ),
    "diff with a file that is not JSON": Case(
        both(write("old.json", "claims: [}"), write("new.json", '{"claims": []}')),
        "{root}/old.json",
        None,
        "not valid JSON",
        ("diff", "{root}/old.json", "{root}/new.json"),
    ),
}


def _line(project: Path, file: str, marker: str) -> int:
    content = (project / file).read_bytes().decode("utf-8", "replace").split("\n")
    found = [number for number, text in enumerate(content, start=1) if marker in text]
    assert found, f"{marker!r} not in {file}"
    return found[0]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_stops_with_a_located_message_and_changes_nothing(built_site: Path, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    project = copy_project(tmp_path / "project")
    linked_copy(built_site, project / "site")
    case.setup(project)
    before = {part: tree(project / part) for part in ("site", "data", "templates")}
    argv = [arg.replace("{root}", str(project)) for arg in case.argv]
    code = main(["--root", str(project), *argv])
    err = capsys.readouterr().err
    assert code != 0, f"{name}: the command succeeded"
    assert "Traceback" not in err, err
    file = case.file.replace("{root}", str(project))
    place = f"{file}:{_line(project, file, case.marker)}" if case.marker is not None else file
    assert f"\n{place}" in err or err.startswith(f"error: 1 problem to fix:\n{place}"), f"{name}: expected {place!r} in:\n{err}"
    assert case.says in err, f"{name}: expected {case.says!r} in:\n{err}"
    assert not any(ord(c) < 32 and c not in "\n\t" for c in err), f"{name}: the message prints a control character"
    for part, files in before.items():
        assert tree(project / part) == files, f"{name}: {part}/ changed"


def test_the_table_covers_every_kind_of_bad_input() -> None:
    assert len(CASES) >= 40
    kinds = {case.file.split("/")[0].split(" ")[0] for case in CASES.values()}
    assert {"data", "templates", "--site-dir", "--site-url", "claimsite", "{root}"} <= kinds


# -- process faults and the site folder ------------------------------------------------------------


def run_cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "build_report.py"), "--root", str(project), *args], capture_output=True, text=True, timeout=300)


@pytest.mark.integration
def test_a_control_character_in_a_charted_cell_never_aborts_the_process(tmp_path: Path) -> None:
    """The chart renderer aborts the whole process on a control character: the build must stop before, with a located error."""
    project = copy_project(tmp_path / "project")
    edit(PRMS, "Skywork-PRM-7B,Skywork", "Skywork-PRM-7B\x01,Skywork")(project)
    result = run_cli(project, "build")
    assert result.returncode == 1, result.stderr
    assert f"{PRMS}:5 (column prm): the text holds a control character" in result.stderr
    assert not (project / "site").exists()


def test_a_failing_swap_leaves_the_site_and_says_why(
    built_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unwritable or immutable site/ (a swap the system refuses) is a located error, and the old site stays whole."""
    project = copy_project(tmp_path / "project")
    shutil.copytree(built_site, project / "site")
    edit(FIGURE6, "title: SFT on Qwen2.5-14B-Instruct\n    data: samples", "title: Changed\n    data: samples")(project)
    before = tree(project / "site")
    import claimsite.site.publish as published

    def refuse(*args: object) -> bool:
        raise PermissionError(1, "Operation not permitted", str(project / "site"))

    monkeypatch.setattr(published, "_exchange", refuse)
    assert main(["--root", str(project), "build"]) == 1
    err = capsys.readouterr().err
    assert "the site could not be written: Operation not permitted" in err and "Traceback" not in err
    assert tree(project / "site") == before
    assert not list(project.glob(".site-new-*"))


def test_an_unreadable_csv_is_a_located_error(built_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A CSV the build may not read (its permissions; simulated, as tests may run as root) names the file and the cause."""
    project = copy_project(tmp_path / "project")
    shutil.copytree(built_site, project / "site")
    before = tree(project / "site")
    unreadable = project / PRMS
    read_bytes = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if path == unreadable:
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert main(["--root", str(project), "build"]) == 1
    err = capsys.readouterr().err
    assert f"{PRMS}: the CSV cannot be read: Permission denied" in err and "Traceback" not in err
    assert tree(project / "site") == before


@pytest.mark.integration
def test_an_unwritable_parent_folder_is_a_located_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    project = copy_project(tmp_path / "project")
    import claimsite.site.publish as published

    def refuse(*args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", str(project))

    monkeypatch.setattr(published.tempfile, "mkdtemp", refuse)
    assert main(["--root", str(project), "build"]) == 1
    err = capsys.readouterr().err
    assert f"{project}: the site could not be written: Permission denied" in err and "Traceback" not in err


def test_an_interrupted_swap_is_recovered_and_leftovers_are_cleaned(built_site: Path, tmp_path: Path) -> None:
    """Killed between the two renames of a swap: the next build puts the old site back, then replaces it; no leftovers remain."""
    project = copy_project(tmp_path / "project")
    shutil.copytree(built_site, project / ".site-old")  # the site, retired by a swap that was killed before the new one moved in
    shutil.copytree(built_site, project / ".site-new-abc123")  # a build killed half way
    assert main(["--root", str(project), "build", "--force"]) == 0
    assert (project / "site" / "index.html").is_file() and (project / "site" / MARKER).is_file()
    assert not list(project.glob(".site-new-*")) and not (project / ".site-old").exists()


def test_a_recovered_site_is_never_missing_while_a_build_runs(built_site: Path, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    shutil.copytree(built_site, project / ".site-old")
    from claimsite.site.folder import site_lock

    with site_lock(project / "site"):
        assert (project / "site" / "index.html").is_file()


@pytest.mark.integration
def test_two_builds_at_once_both_succeed_and_leave_one_complete_site(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    for part in ("guide.yaml", "guide.md.j2"):  # a smaller site builds faster; what is tested is two builds at once
        (project / "templates" / "reports" / part).unlink()
    command = [sys.executable, str(ROOT / "build_report.py"), "--root", str(project), "build", "--force"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read() if run.stderr else "") for run in runs]
    assert [code for code, _ in results] == [0, 0], results
    assert (project / "site" / "figure6" / "index.html").is_file()
    assert not list(project.glob(".site-new-*")) and not (project / ".site-old").exists()


@pytest.mark.integration
def test_the_site_is_readable_by_a_web_server_whatever_the_umask(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    old = os.umask(0o077)
    try:
        assert main(["--root", str(project), "build"]) == 0
    finally:
        os.umask(old)
    site = project / "site"
    assert stat.S_IMODE(site.stat().st_mode) == 0o755
    for path in site.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644), path


@pytest.mark.integration
def test_a_folder_a_build_made_is_replaced_and_keeps_its_marker(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    out = tmp_path / "published"
    assert main(["--root", str(project), "build", "--site-dir", str(out)]) == 0
    assert (out / MARKER).read_text(encoding="utf-8").startswith("Generated by claimsite")
    (out / "stale.html").write_text("old", encoding="utf-8")
    assert main(["--root", str(project), "build", "--site-dir", str(out), "--force"]) == 0
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()


# -- the network ------------------------------------------------------------------------------------


def test_the_build_opens_no_connection_even_when_something_tries() -> None:
    with offline(), pytest.raises(ReportError, match="never does"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
    with offline(), pytest.raises(ReportError, match="never does"):
        urllib.request.urlopen("http://example.org/", timeout=1)
    with offline():
        socket.getaddrinfo("127.0.0.1", 80)  # a lookup of an address sends nothing


def test_a_remote_dialect_is_refused_without_any_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    requests: list[str] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)

    def listen() -> None:
        try:
            connection, _ = server.accept()
            requests.append(connection.recv(1024).decode(errors="replace"))
            connection.close()
        except OSError:
            pass

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    project = copy_project(tmp_path / "project")
    port = server.getsockname()[1]
    edit(DESCRIPTOR, "    reading: table\n", f"    reading: table\n    dialect: http://127.0.0.1:{port}/dialect.json\n")(project)
    assert main(["--root", str(project), "check"]) == 1
    thread.join()
    server.close()
    assert requests == []
    assert "never fetches" in capsys.readouterr().err


# -- the live preview -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


@pytest.mark.slow
def test_serve_reports_a_spec_mistake_and_keeps_serving_the_last_good_site(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "build_report.py"), "--root", str(project), "serve", "--dev-addr", f"127.0.0.1:{port}"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "REPORT_TEMPLATE_SECONDS": "2"},
        )
    try:
        mount = urllib.parse.urlsplit(yaml.safe_load((project / "mkdocs.yml").read_text(encoding="utf-8"))["site_url"]).path
        page = f"http://127.0.0.1:{port}{mount}table2/"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                assert "Offline data selection" in _get(page)
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("serve did not start:\n" + log.read_text())
        edit(TABLE2, "    expect: ReasonFlux-PRM-7B\n", "    expect: ReasonFlux-PRM-7B\n    at_leats: 3\n")(project)
        deadline = time.monotonic() + 60
        while "still showing the last good version" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.3)
        text = log.read_text()
        assert "still showing the last good version" in text, text
        assert f"{TABLE2}:" in text and "unknown key 'at_leats'" in text
        assert "appear stuck" not in text and "Traceback" not in text
        assert "Offline data selection" in _get(page)
        assert server.poll() is None
        # A rebuild that would never end stops at its limit, and the next save is built
        edit(TABLE2, "    at_leats: 3\n", "")(project)
        page_template = project / "templates/reports/table2.md.j2"
        written = page_template.read_text(encoding="utf-8")
        endless = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
        page_template.write_text(written.replace("## Overview\n", f"## Overview\n\n{endless}\n", 1), encoding="utf-8")
        deadline = time.monotonic() + 60
        while "took longer than 2 s" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "took longer than 2 s (REPORT_TEMPLATE_SECONDS)" in log.read_text(), log.read_text()
        page_template.write_text(written.replace("## Overview\n", "## Overview\n\nBuilt again after the limit.\n", 1), encoding="utf-8")
        deadline = time.monotonic() + 60
        while "Built again after the limit." not in _get(page) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "Built again after the limit." in _get(page)
        assert server.poll() is None and "Traceback" not in log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_claims_json_from_another_tool_is_compared_only_when_it_is_a_claims_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = {"claims": [{"id": "a", "sentence": "A.", "status": "observed", "values": {}}]}
    (tmp_path / "old.json").write_text(json.dumps(good), encoding="utf-8")
    (tmp_path / "new.json").write_text(json.dumps(good), encoding="utf-8")
    assert main(["--root", str(ROOT), "diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 0
    assert "No claim changed" in capsys.readouterr().out


@pytest.mark.integration
def test_a_domain_that_leaves_out_values_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Values outside a declared axis range would be drawn on its edge, looking like other values: the build says so."""
    project = copy_project(tmp_path / "project")
    edit(FIGURE6, "domain: [60, 93]", "domain: [0, 1]")(project)
    assert main(["--root", str(project), "check"]) == 1
    err = capsys.readouterr().err
    assert f"{FIGURE6}:" in err and "the domain [0, 1] leaves out 5 of 5 values of math500_accuracy" in err
