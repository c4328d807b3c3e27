"""Bounded and inert: every input that would run for ever, fill the disk or the memory, reach another host or read the
machine stops the build with a located message; no traceback, no process left behind, site/ and data/ untouched."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from claimsite.cli.main import main
from tests.conftest import ROOT, copy_project, linked_copy, tree
from tests.test_hardening import DESCRIPTOR, FIGURE6, both, edit, write
from tests.test_views import LOG_FIELDS, write_log

EVALS = "templates/reports/evals.yaml"
PAGE = "templates/reports/table2.md.j2"
GUIDE_VEGA = "color: {field: city, type: nominal, legend: null}"  # the last line of the guide's Vega-Lite example


def with_view(sql: str, claims: str = "") -> Callable[[Path], None]:
    """A report whose one view reads a small per-example log (and the benchmarks' sizes), charted and claimed."""

    def apply(project: Path) -> None:
        write_log(project / "data" / "eval_log.csv", problems=2, seeds=2)
        with (project / "data" / "datapackage.yaml").open("a", encoding="utf-8") as descriptor:
            descriptor.write(LOG_FIELDS)
        (project / EVALS).write_text(
            "slug: evals\ntitle: Evaluations\nviews:\n  scores:\n    sql: >-\n      " + sql + "\n" + claims,
            encoding="utf-8",
        )
        (project / "templates/reports/evals.md.j2").write_text("---\ntitle: Evals\n---\n# Evals\n", encoding="utf-8")

    return apply


def on_page(text: str) -> Callable[[Path], None]:
    """Table 2's page template with ``text`` written under its first heading."""
    return edit(PAGE, "## Overview\n", "## Overview\n\n" + text + "\n")


def vega_lite(spec: str) -> Callable[[Path], None]:
    """The guide's Vega-Lite example with ``spec`` in place of its encoding."""
    return edit("templates/reports/guide.yaml", GUIDE_VEGA, spec)


@dataclass(frozen=True)
class Case:
    setup: Callable[[Path], None]
    file: str
    says: str
    env: dict[str, str] = field(default_factory=dict)
    argv: tuple[str, ...] = ("build",)


CASES: dict[str, Case] = {
    # -- how sure a number is ---------------------------------------------------------------
    "a sample size of zero": Case(edit(FIGURE6, "uncertainty: {n: 500}}\n  prms", "uncertainty: {n: 0}}\n  prms"), FIGURE6, "1 or more, not 0"),
    "a sample size that is negative": Case(edit(FIGURE6, "uncertainty: {n: 500}}\n  prms", "uncertainty: {n: -5}}\n  prms"), FIGURE6, "1 or more, not -5"),
    "an empty sample size in a column": Case(
        with_view(
            "SELECT model, benchmark, avg(correct) AS accuracy, NULLIF(count(*), 4) AS answers FROM eval_log GROUP BY ALL",
            "    value: accuracy\n    columns: {accuracy: {display: {percent: true}}}\n    uncertainty: {n: answers}\n",
        ),
        EVALS,
        "has no sample size",
    ),
    "a sample size of zero in a column": Case(
        with_view(
            "SELECT model, benchmark, avg(correct) AS accuracy, 0 AS answers FROM eval_log GROUP BY ALL",
            "    value: accuracy\n    columns: {accuracy: {display: {percent: true}}}\n    uncertainty: {n: answers}\n",
        ),
        EVALS,
        "a sample size of 0",
    ),
    "a fraction of a trial": Case(
        with_view(
            "SELECT model, benchmark, avg(correct) AS accuracy, 2.5 AS answers FROM eval_log GROUP BY ALL",
            "    value: accuracy\n    columns: {accuracy: {display: {percent: true}}}\n    uncertainty: {n: answers}\n",
        ),
        EVALS,
        "not a whole number",
    ),
    "a negative standard error": Case(
        with_view(
            "SELECT model, benchmark, avg(correct) AS accuracy, -0.1 AS se FROM eval_log GROUP BY ALL",
            "    value: accuracy\n    uncertainty: {se: se}\n",
        ),
        EVALS,
        "a standard error of -0.1",
    ),
    "an interval that leaves out its value": Case(
        with_view(
            "SELECT model, benchmark, avg(correct) AS accuracy, 0.9 AS low, 1.0 AS high FROM eval_log GROUP BY ALL",
            "    value: accuracy\n    uncertainty: {lower: low, upper: high}\n",
        ),
        EVALS,
        "leaving out its value",
    ),
    # -- views read the data, nothing else ----------------------------------------------------
    "a view reading the settings": Case(with_view("SELECT * FROM duckdb_settings()"), EVALS, "calls duckdb_settings()"),
    "a view reading the databases": Case(with_view("SELECT path FROM duckdb_databases()"), EVALS, "calls duckdb_databases()"),
    "a view reading one setting": Case(with_view("SELECT current_setting('temp_directory') AS folder"), EVALS, "calls current_setting()"),
    "a view reading the environment": Case(with_view("SELECT getenv('HOME') AS home"), EVALS, "calls getenv()"),
    "a view reading a file": Case(with_view("SELECT * FROM read_text('/etc/hostname')"), EVALS, "calls read_text()"),
    "a view reading a glob": Case(with_view("SELECT * FROM glob('/etc/*')"), EVALS, "calls glob()"),
    "a view calling a table function inside a subquery": Case(
        with_view("SELECT model FROM eval_log WHERE model IN (SELECT name FROM duckdb_tables())"), EVALS, "calls duckdb_tables()"
    ),
    "views named a and A": Case(
        both(with_view("SELECT model FROM eval_log"), edit(EVALS, "views:\n", "views:\n  Scores:\n    sql: SELECT 1 AS one\n")),
        EVALS,
        "has the name of a table it could read",
    ),
    # -- views that would run for ever or fill the machine --------------------------------------
    "a recursive WITH without end": Case(
        with_view("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) AS n FROM r"),
        EVALS,
        "took longer than 2 s",
        {"REPORT_VIEW_SECONDS": "2"},
    ),
    "a range of a trillion rows": Case(
        with_view("SELECT count(*) AS n FROM range(1000000000000)"), EVALS, "took longer than 2 s", {"REPORT_VIEW_SECONDS": "2"}
    ),
    "a join of every row with every row": Case(
        with_view("SELECT a.model, count(*) AS n FROM eval_log a, eval_log b, eval_log c, eval_log d, eval_log e, eval_log f GROUP BY ALL"),
        EVALS,
        "took longer than 2 s",
        {"REPORT_VIEW_SECONDS": "2"},
    ),
    "a view of long texts": Case(
        with_view("SELECT model, repeat('x', 1000000) AS text FROM eval_log"), EVALS, "more than a report holds in memory", {"REPORT_VIEW_MB": "5"}
    ),
    "an infinity from a view": Case(
        with_view(
            "SELECT model, max(1e308 * 10) AS score FROM eval_log GROUP BY model",
            "    value: score\nclaims:\n  - id: top\n    check: best\n    from: scores\n    noise: ignore\n    text: '{{ top }}'\n",
        ),
        EVALS,
        "a finite number",
    ),
    "an overflowing sum": Case(
        with_view("SELECT model, sum(CAST(9223372036854775807 AS HUGEINT) * 9223372036854775807) AS total FROM eval_log GROUP BY model"), EVALS, "does not run"
    ),
    # -- templates that would run for ever or fill the memory ------------------------------------
    "nested loops in a page template": Case(
        on_page("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
        PAGE,
        "took longer than 1 s",
        {"REPORT_TEMPLATE_SECONDS": "1"},
    ),
    "a text of a billion characters": Case(
        on_page('{{ "x" * 10**9 }}'),
        PAGE,
        "1,000,000,000 characters",
    ),
    "a range of a billion": Case(
        on_page("{% for i in range(10**9) %}{% endfor %}"),
        PAGE,
        "went past a limit",
    ),
    "a macro that calls itself": Case(
        on_page("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"),
        PAGE,
        "calls itself without end",
    ),
    "a loop printing more than a page holds": Case(
        on_page("{% for i in range(1000) %}{{ 'x' * 100000 }}{% endfor %}"),
        PAGE,
        "prints more than 5 MB",
        {"REPORT_PAGE_MB": "5"},
    ),
    "a macro printing more than a page holds": Case(
        on_page("{% macro m() %}{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}{% endmacro %}{{ m() }}"),
        PAGE,
        "REPORT_PAGE_MB=<MB>",
    ),
    "a power of a power": Case(on_page("{{ 10 ** 100000000 }}"), PAGE, "to the power"),
    "a text of a billion characters in a claim": Case(
        edit(FIGURE6, "      With training data selected by", '      {{ "x" * 10**9 }} With training data selected by'), FIGURE6, "1,000,000,000 characters"
    ),
    # -- charts: no other host, no expression, no picture past the limit --------------------------
    "a fill loading another host": Case(vega_lite("color: {value: 'url(http://example.org/x.png)'}"), "templates/reports/guide.yaml", "url(…) in a value"),
    "a background loading another host": Case(
        vega_lite("color: {field: city, type: nominal, legend: null}\n      background: 'URL( https://example.org/x.png )'"),
        "templates/reports/guide.yaml",
        "url(…) in a value",
    ),
    "a stroke loading another host": Case(
        vega_lite("color: {field: city, type: nominal, legend: null}\n      config: {mark: {stroke: 'url(#x) url(//example.org/y)'}}"),
        "templates/reports/guide.yaml",
        "url(…) in a value",
    ),
    "an expression inside an and": Case(
        vega_lite("color: {field: city, type: nominal, legend: null}\n      transform: [{filter: {and: ['datum.temperature_c > 0']}}]"),
        "templates/reports/guide.yaml",
        "filter with an expression",
    ),
    "an expression inside an or of a not": Case(
        vega_lite("color: {field: city, type: nominal, legend: null}\n      transform: [{filter: {or: [{not: 'datum.city'}]}}]"),
        "templates/reports/guide.yaml",
        "filter with an expression",
    ),
    "an expression as a filter": Case(
        vega_lite("color: {field: city, type: nominal, legend: null}\n      transform: [{filter: 'datum.city'}]"),
        "templates/reports/guide.yaml",
        "filter with an expression",
    ),
    "a chart two hundred thousand pixels high": Case(
        vega_lite("color: {field: city, type: nominal, legend: null}\n      height: 200000"), "templates/reports/guide.yaml", "a height of 200000 pixels"
    ),
    "a Vega-Lite chart that is not Vega-Lite": Case(
        vega_lite("color: {field: city, type: nominall, legend: null}"),
        "templates/reports/guide.yaml",
        "not a valid Vega-Lite",
    ),
    "an impute over a hundred million keys": Case(
        vega_lite(
            "color: {field: city, type: nominal, legend: null}\n"
            "      transform: [{impute: temperature_c, key: month, keyvals: {start: 0, stop: 100000000}, groupby: [city]}]"
        ),
        "templates/reports/guide.yaml",
        "could not be drawn",
        {"REPORT_CHART_SECONDS": "5"},
    ),
    # -- specs and names ----------------------------------------------------------------------
    "a misspelt kind": Case(
        edit("templates/reports/guide.yaml", "kind: vega-lite", "knid: vega-lite"), "templates/reports/guide.yaml:147", "did you mean 'kind'?"
    ),
    "a slug of 300 characters": Case(
        edit("templates/reports/table2.yaml", "slug: table2", "slug: " + "t" * 300), "templates/reports/table2.yaml:4", "at most 80"
    ),
    "a field named like the build's own columns": Case(
        edit(DESCRIPTOR, "        - name: table2_source\n", "        - name: __line\n"), DESCRIPTOR, "may not start with '__'"
    ),
    # -- data files -----------------------------------------------------------------------------
    "a Parquet file that is not Parquet": Case(
        both(
            write("data/log.parquet", b"PAR1 not really"),
            edit(DESCRIPTOR, "resources:\n", "resources:\n  - name: log\n    path: log.parquet\n    schema:\n      fields: [{name: a}]\n"),
        ),
        "data/log.parquet",
        "cannot be read",
    ),
    # -- the limits themselves ------------------------------------------------------------------
    "a limit that is not a number": Case(lambda project: None, "REPORT_VIEW_SECONDS", "must be a positive number", {"REPORT_VIEW_SECONDS": "soon"}),
}


def children() -> set[int]:
    """The processes this test's process started that are still there."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            helper = b"resource_tracker" in (entry / "cmdline").read_bytes()  # multiprocessing's own, ends with this process
            if int(fields[1]) == os.getpid() and fields[0] != "Z" and not helper:
                found.add(int(entry.name))
    return found


@pytest.mark.parametrize("name", list(CASES))
def test_a_bound_stops_the_build_located_and_leaves_nothing_behind(
    built_site: Path, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    project = copy_project(tmp_path / "project")
    linked_copy(built_site, project / "site")
    case.setup(project)
    for variable, value in case.env.items():
        monkeypatch.setenv(variable, value)
    before = {part: tree(project / part) for part in ("site", "data")}
    running = children()
    started = time.monotonic()
    code = main(["--root", str(project), *case.argv])
    err = capsys.readouterr().err
    assert code != 0, f"{name}: the command succeeded"
    assert "Traceback" not in err, err
    assert case.file in err and case.says in err, f"{name}: expected {case.file!r} and {case.says!r} in:\n{err}"
    assert time.monotonic() - started < 120, f"{name}: the build took {time.monotonic() - started:.0f} s to stop"
    for part, files in before.items():
        assert tree(project / part) == files, f"{name}: {part}/ changed"
    deadline = time.monotonic() + 10
    while children() - running and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not children() - running, f"{name}: processes left behind"


@pytest.mark.integration
def test_a_killed_build_leaves_no_chart_engine_behind(tmp_path: Path) -> None:
    """A build killed mid-way (the engines drawing) takes its engines with it."""
    project = copy_project(tmp_path / "project")
    shutil.rmtree(project / ".cache", ignore_errors=True)  # every chart to draw: the build starts its engines
    build = subprocess.Popen([sys.executable, str(ROOT / "build_report.py"), "--root", str(project), "build"], env={**os.environ, "REPORT_WORKERS": "2"})
    deadline = time.monotonic() + 60
    engines: set[int] = set()
    while time.monotonic() < deadline and not engines:
        engines = {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == build.pid}
        time.sleep(0.1)
    assert engines, "the build started no chart engine"
    build.kill()
    build.wait()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() and _state(pid) != "Z" for pid in engines) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in engines if Path(f"/proc/{pid}").exists() and _state(pid) != "Z"], "chart engines outlived the build"


def _parent(entry: Path) -> int:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_the_cases_cover_what_the_issue_lists() -> None:
    assert len(CASES) >= 40


@pytest.mark.integration
def test_two_builds_at_once_on_a_new_large_dataset_both_succeed(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    with_view("SELECT model, benchmark, avg(correct) AS accuracy FROM eval_log GROUP BY ALL")(project)
    write_log(project / "data" / "eval_log.csv", problems=300)  # past the size a small dataset is, with the default threshold patched below
    env = {**os.environ, "REPORT_WORKERS": "1", "PYTHONPATH": str(ROOT)}
    script = "import sys; from claimsite.data import large; large.LARGE_BYTES = 10_000; from claimsite.cli.main import main; sys.exit(main(sys.argv[1:]))"
    builds = [
        subprocess.Popen([sys.executable, "-c", script, "--root", str(project), "build", "--site-dir", f"site{n}"], env=env, stderr=subprocess.PIPE, text=True)
        for n in (1, 2)
    ]
    for build in builds:
        _, err = build.communicate(timeout=300)
        assert build.returncode == 0, err
    assert (project / "site1" / "evals" / "index.html").is_file() and (project / "site2" / "evals" / "index.html").is_file()
    assert len(list((project / ".cache" / "data").glob("eval_log-*.duckdb"))) == 1


@pytest.mark.integration
def test_a_version_in_history_that_does_not_build_leaves_the_current_build_alone(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=project, check=True, capture_output=True, timeout=60)

    git("init", "-q")
    edit(FIGURE6, "noise: within\n    a: {from: prms", "noise: within\n    knid: oops\n    a: {from: prms")(project)  # a broken spec, committed
    git("add", ".")
    git("commit", "-qm", "broken")
    edit(FIGURE6, "noise: within\n    knid: oops\n    a: {from: prms", "noise: within\n    a: {from: prms")(project)
    git("commit", "-qam", "fixed")
    edit("data/figure6_prm_size.csv", ",69.9,", ",70.2,")(project)
    git("commit", "-qam", "data")
    assert main(["--root", str(project), "build"]) == 0
    changes = (project / "site" / "changes" / "index.html").read_text(encoding="utf-8")
    assert "could not" in changes or "No earlier version" in changes or "70.2" in changes


@pytest.mark.integration
def test_a_cache_that_cannot_be_written_costs_time_not_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from claimsite.data import large as bigdata

    project = copy_project(tmp_path / "project")
    with_view("SELECT model, benchmark, avg(correct) AS accuracy FROM eval_log GROUP BY ALL")(project)
    monkeypatch.setattr(bigdata, "LARGE_BYTES", 20_000)  # the log is kept in a store
    cache = project / ".cache"
    cache.mkdir(exist_ok=True)
    (cache / "data").write_text("not a folder", encoding="utf-8")  # nothing can be kept under it
    assert main(["--root", str(project), "build"]) == 0
    assert (project / "site" / "evals" / "index.html").is_file()


def test_the_preview_answers_only_at_its_own_address() -> None:
    from claimsite.site.preview import own_host

    assert own_host("127.0.0.1:8000", "127.0.0.1", 8000) and own_host("localhost:8000", "127.0.0.1", 8000)
    assert not own_host("attacker.example:8000", "127.0.0.1", 8000)  # a name pointed at this machine by another site
    assert not own_host("127.0.0.1:9000", "127.0.0.1", 8000) and not own_host("", "127.0.0.1", 8000)


@pytest.mark.integration
def test_a_header_that_reads_as_a_template_is_written_as_text(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    (project / "scores.csv").write_text("model,score {{ 7*7 }}\nalpha,1.5\nbravo,2.5\n", encoding="utf-8")
    assert main(["--root", str(project), "new", "scores", "--csv", str(project / "scores.csv")]) == 0
    assert main(["--root", str(project), "build"]) == 0
    page = (project / "site" / "scores" / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]*>", " ", page.split("<article", 1)[-1].split("</article>", 1)[0])  # what a reader sees
    assert not re.search(r"\b49\b", text)
    assert "{{ 7*7 }}" in page.replace("&#123;", "{").replace("&#125;", "}").replace("&#x7B;", "{").replace("&#x7D;", "}")


def test_the_readme_lists_every_limit_as_the_build_sets_it() -> None:
    from claimsite.core.limits import documented

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for variable, default, unit, what in documented():
        assert f"| `{variable}` | {default} {unit} | {what} |" in readme, f"the README does not list {variable} as the build sets it"
