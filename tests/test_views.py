"""SQL views over data of any size: DuckDB runs them, out of core, locked down, and every number keeps its provenance."""

from __future__ import annotations

import html
import shutil
from pathlib import Path
from typing import Any

import pytest

from claimsite.charts.figures import RenderCache
from claimsite.cli.main import main
from claimsite.core.errors import ReportError
from claimsite.core.project import Project
from claimsite.data import large as bigdata
from claimsite.data.load import load_package
from claimsite.site.build import check, generate
from tests.conftest import copy_project, replace_in, shipped, tree

GUIDE = "templates/reports/guide.yaml"
LOG_FIELDS = """\
  - name: eval_log
    path: eval_log.csv
    title: Evaluation log
    description: One row per answer.
    schema:
      primaryKey: [model, benchmark, problem, seed]
      fields:
        - {name: model, type: string, constraints: {required: true}}
        - {name: benchmark, type: string, constraints: {required: true}}
        - {name: problem, type: integer, constraints: {required: true, minimum: 1}}
        - {name: seed, type: integer, constraints: {required: true}}
        - {name: correct, type: integer, constraints: {required: true, minimum: 0, maximum: 1}}
"""


def write_log(path: Path, problems: int, seeds: int = 10) -> int:
    """A per-example log: 4 models × 5 benchmarks × ``problems`` × ``seeds`` rows, correct when a fixed pattern says so."""
    models, benchmarks = ("alpha", "bravo", "charlie", "delta"), ("AIME", "MATH", "GPQA", "HumanEval", "MBPP")
    lines = ["model,benchmark,problem,seed,correct"]
    for m, model in enumerate(models):
        for b, benchmark in enumerate(benchmarks):
            cut = 3 + m + b  # out of 10: a different accuracy per model and benchmark
            lines += [f"{model},{benchmark},{p},{s},{int((p * 7 + s * 3) % 10 < cut)}" for p in range(1, problems + 1) for s in range(1, seeds + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def add_report(project: Path, view_sql: str, extra_views: str = "", claims: str = "") -> None:
    """A report whose view reads the evaluation log, with a bar chart and a claim over the view."""
    (project / "templates" / "reports" / "evals.yaml").write_text(
        f"""slug: evals
title: Evaluations
data:
  sizes: {{dataset: benchmark_sizes, value: problems, label: benchmark}}
views:
  accuracy:
    sql: {view_sql}
    value: accuracy
    label: model
    columns:
      accuracy: {{title: Accuracy, display: {{percent: true}}}}
    uncertainty: {{n: answers}}
{extra_views}charts:
  - id: accuracy
    kind: bar
    title: Accuracy
    data: accuracy
    x: {{field: benchmark}}
    y: {{field: accuracy}}
    series: {{field: model}}
claims:
  - id: best-math
    check: best
    from: accuracy
    where: {{benchmark: MATH}}
    noise: ignore
    text: "{{{{ top.label }}}} leads MATH with {{{{ top }}}}."
{claims}""",
        encoding="utf-8",
    )
    (project / "templates" / "reports" / "evals.md.j2").write_text(
        "---\ntitle: Evals\n---\n# Evals\n\n{{ figure('accuracy') }}\n\n"
        + "".join(f"- {{{{ claim('{c}') }}}}\n" for c in ["best-math", *[line.split("id: ")[1] for line in claims.splitlines() if "- id: " in line]]),
        encoding="utf-8",
    )


AGGREGATE = "SELECT model, benchmark, avg(correct) AS accuracy, count(*) AS answers FROM eval_log GROUP BY model, benchmark ORDER BY model, benchmark"


@pytest.fixture
def logged(project: Path) -> Path:
    """The project with a small evaluation log (2,000 rows) described."""
    write_log(project / "data" / "eval_log.csv", problems=10)
    with (project / "data" / "datapackage.yaml").open("a", encoding="utf-8") as descriptor:
        descriptor.write(LOG_FIELDS)
    return project


def test_views_read_views_and_numbers_say_which_rows_fed_them(logged: Path) -> None:
    extra = """  leaders:
    sql: SELECT benchmark, max(accuracy) AS best FROM accuracy GROUP BY benchmark ORDER BY benchmark
    value: best
    label: benchmark
    columns:
      best: {display: {percent: true}}
"""
    claims = """  - id: best-aime
    check: best
    from: leaders
    noise: ignore
    text: "The best score is {{ top }} on {{ top.label }}."
"""
    add_report(logged, AGGREGATE, extra, claims)
    generated = generate(Project(logged), cache=RenderCache(None), render_charts=False)
    page = html.unescape(generated.pages["evals/index.md"])
    assert "delta leads MATH with" in page
    assert "mean of 100 rows of data/eval_log.csv where model = 'delta' and benchmark = 'MATH' (view accuracy)" in page
    assert "95% interval" in page and "of 100 answers" not in page  # answers has no unit here: '… of 100'
    rendered = next(r for r in generated.reports if r.report.slug == "evals")
    source = rendered.claims["best-math"].values["top"].sources[0].to_dict()
    assert source["sql"] == AGGREGATE and source["aggregate"] == "mean" and source["values"] == 100
    assert source["from"] == [
        {"file": "data/eval_log.csv", "dataset": "eval_log", "rows": 100, "lines": [[1602, 1701]], "where": "model = 'delta' and benchmark = 'MATH'"}
    ]
    leaders = rendered.claims["best-aime"].values["top"]
    assert leaders.provenance().startswith("MBPP: maximum of 4 values, from 400 rows of data/eval_log.csv where benchmark = 'MBPP' (view leaders)")
    assert leaders.sources[0].to_dict()["from"][0]["lines"] == [[402, 501], [902, 1001], [1402, 1501], [1902, 2001]]


def test_a_view_with_an_sql_error_is_located(logged: Path) -> None:
    add_report(logged, "SELECT model, benchmark, avg(corect) AS accuracy, count(*) AS answers FROM eval_log GROUP BY model, benchmark")
    with pytest.raises(ReportError) as caught:
        check(Project(logged))
    problem = caught.value.problems[0]
    assert (problem.file, problem.line) == ("templates/reports/evals.yaml", 7)  # the view's sql:
    assert problem.message.startswith("view 'accuracy' does not run: Binder Error") and "corect" in problem.message


def test_a_view_reading_an_undeclared_table_names_the_tables_there_are(logged: Path) -> None:
    add_report(logged, "SELECT model, benchmark, avg(correct) AS accuracy, count(*) AS answers FROM eval_logs GROUP BY model, benchmark")
    with pytest.raises(ReportError) as caught:
        check(Project(logged))
    problem = caught.value.problems[0]
    assert problem.message == "view 'accuracy' reads a table that does not exist: eval_logs"
    assert "eval_log" in (problem.expected or "") and "benchmark_sizes" in (problem.expected or "")


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("SELECT * FROM read_csv('/etc/hostname')", "view 'accuracy' calls read_csv(), which reads the machine rather than the data"),
        ("SELECT * FROM duckdb_settings()", "calls duckdb_settings()"),
        ("SELECT * FROM duckdb_databases()", "calls duckdb_databases()"),
        ("SELECT current_setting('temp_directory') AS t", "calls current_setting()"),
        ("SELECT getenv('HOME') AS home", "calls getenv()"),
        ("COPY eval_log TO '/tmp/leak.csv'", "a view is one SELECT statement"),
        ("SELECT 1; SELECT 2", "a view is one SELECT statement"),
        ("SET enable_external_access = true", "a view is one SELECT statement"),
    ],
)
def test_a_view_reads_tables_and_nothing_else(logged: Path, sql: str, says: str) -> None:
    add_report(logged, f'"{sql}"')
    with pytest.raises(ReportError) as caught:
        check(Project(logged))
    assert says in str(caught.value)
    assert not Path("/tmp/leak.csv").exists()


def test_a_large_dataset_is_read_through_views_and_a_direct_read_is_a_located_error(logged: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bigdata, "LARGE_BYTES", 20_000)  # the 2,000-row log counts as large
    datasets = load_package(logged / "data", logged)
    log = datasets["eval_log"]
    assert log.large and log.rows == 2000 and len(log.frame) == bigdata.HEAD_ROWS
    assert {row["column_name"] for row in log.summary} == {"model", "benchmark", "problem", "seed", "correct"}
    add_report(logged, AGGREGATE)
    generated = generate(Project(logged), cache=RenderCache(None), render_charts=False)
    assert "delta leads MATH" in generated.pages["evals/index.md"]
    assert generated.copies["data/eval_log.csv"] == logged / "data" / "eval_log.csv"
    data_page = generated.pages["data.md"]
    assert "The first 20 rows of 2,000" in data_page and "| <code>correct</code> | integer | 0 | 1 | 2 | 0% |" in data_page
    replace_in(
        logged / "templates" / "reports" / "evals.yaml",
        "  sizes: {dataset: benchmark_sizes",
        "  raw: {dataset: eval_log, value: correct}\n  sizes: {dataset: benchmark_sizes",
    )
    with pytest.raises(ReportError) as caught:
        check(Project(logged))
    assert "dataset 'eval_log' has 2,000 rows: a report reads a dataset this large through a SQL view" in str(caught.value)


def test_a_long_table_held_in_memory_is_summarized_on_the_data_page_not_listed_whole(logged: Path) -> None:
    log = load_package(logged / "data", logged)["eval_log"]
    assert not log.large and len(log.frame) == 2000  # every row is read: claims and charts may use any
    add_report(logged, AGGREGATE)
    generated = generate(Project(logged), cache=RenderCache(None), render_charts=False)
    data_page = generated.pages["data.md"].split("{ #data-eval-log }")[1]
    assert "A large dataset" not in data_page and "The first 20 rows of 2,000" in data_page
    assert "| <code>problem</code> | integer | 1 | 10 | 10 | 0% |" in data_page
    assert data_page.count("\n| ") < 40  # fields, summary and 20 rows, not 2,000 rows
    assert generated.files["data/eval_log.csv"].decode().count("\n") == 2001  # the download has them all


def test_a_large_file_is_read_once_and_kept(logged: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bigdata, "LARGE_BYTES", 20_000)
    load_package(logged / "data", logged)
    stores = list((logged / ".cache" / "data").glob("eval_log-*.duckdb"))
    assert len(stores) == 1

    def never(*args: object) -> None:
        raise AssertionError("the unchanged file was read again")

    monkeypatch.setattr(bigdata, "_build", never)
    assert load_package(logged / "data", logged)["eval_log"].rows == 2000


@pytest.mark.slow
def test_a_bad_cell_near_the_end_of_a_million_rows_is_located_and_the_site_is_untouched(built_site: Path, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    rows = write_log(project / "data" / "eval_log.csv", problems=5000)
    assert rows == 1_000_000
    with (project / "data" / "datapackage.yaml").open("a", encoding="utf-8") as descriptor:
        descriptor.write(LOG_FIELDS)
    text = (project / "data" / "eval_log.csv").read_text(encoding="utf-8").splitlines()
    text[-3] = text[-3].rsplit(",", 1)[0] + ",yes"
    text[-10] = text[-10].rsplit(",", 1)[0] + ",7"
    (project / "data" / "eval_log.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    add_report(project, AGGREGATE)
    shutil.copytree(built_site, project / "site")
    before = tree(project / "site")
    assert main(["--root", str(project), "build"]) == 1
    assert tree(project / "site") == before
    with pytest.raises(ReportError) as caught:
        load_package(project / "data", project)
    located = {(p.line, p.column, p.found) for p in caught.value.problems}
    assert located == {(999_992, "correct", "'7'"), (999_999, "correct", "'yes'")}
    assert not list((project / ".cache" / "data").glob("*.duckdb"))  # a file with bad cells is not kept


@pytest.mark.integration
def test_the_guide_shows_sql_views_with_provenance() -> None:
    page = html.unescape(generate(shipped(), cache=RenderCache(None), render_charts=False).pages["guide/index.md"])
    assert "mean of 80 rows of data/example_eval_log.csv where model = 'alpha' and benchmark = 'easy' (view accuracy)" in page
    for view in ("accuracy", "temperature_bounds", "math500", "with_sizes", "yearly_rain"):
        assert f"  {view}:\n    title:" in page, f"the guide does not show the view {view}"


def test_a_reports_views_are_built_once_per_process_and_again_when_a_dataset_they_read_changes(project: Path) -> None:
    """The live preview rebuilds the views a saved CSV reaches, and no other: a report without SQL views keeps its tables
    while a dataset it does not name changes; one with SQL views (which may read any dataset) builds them again."""
    from claimsite.cache import memo
    from claimsite.data.load import read_package
    from claimsite.spec import report as spec

    memo.forget()
    built: list[str] = []
    original = spec._views

    def counted(report: Any, tables: Any, datasets: Any, spec_file: str) -> Any:
        built.append(Path(spec_file).stem)
        return original(report, tables, datasets, spec_file)

    def tables() -> dict[str, dict[str, spec.Table]]:
        datasets, _ = read_package(project / "data", project)
        return {path.stem: spec.load_report(path, datasets, project).tables for path in Project(project).report_specs()}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spec, "_views", counted)
        first = tables()
        assert sorted(built) == ["figure6", "guide", "table2"]
        again = tables()
        assert sorted(built) == ["figure6", "guide", "table2"]  # kept
        assert again["table2"]["gains"].frame.equals(first["table2"]["gains"].frame)
        assert again["table2"]["gains"].frame is not first["table2"]["gains"].frame  # each build its own copy
        replace_in(project / "data" / "example_eval_log.csv", "alpha,easy,1,1,1", "alpha,easy,1,1,0")  # read by the guide's SQL only
        tables()
        assert built[3:] == ["guide"]
        replace_in(project / "data" / "figure6_prm_size.csv", "Skywork-PRM-7B,Skywork-PRM,7B,7,69.9", "Skywork-PRM-7B,Skywork-PRM,7B,7,70.2")
        changed = tables()
        assert sorted(built[4:]) == ["figure6", "guide"]  # named by both; Table 2's report reads it nowhere
    assert 70.2 in changed["figure6"]["prms"].frame["math500_accuracy"].tolist()


def test_check_writes_nothing_in_the_project_nor_leaves_anything_behind(logged: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(bigdata, "LARGE_BYTES", 20_000)  # the log is read by DuckDB, into a store
    add_report(logged, AGGREGATE)
    shutil.rmtree(logged / ".cache", ignore_errors=True)
    before = {p.relative_to(logged) for p in logged.rglob("*")}
    temporary = logged.parent / "temporary"  # the check's own temporary folder, to see what it leaves there
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    assert main(["--root", str(logged), "check"]) == 0
    assert {p.relative_to(logged) for p in logged.rglob("*")} == before
    assert not list(temporary.iterdir())


def test_what_is_remembered_is_kept_by_what_it_is_as_well_as_by_its_inputs() -> None:
    from claimsite.cache.memo import forget, remembered

    forget()
    assert remembered("a sum", (1, 2), lambda: 3) == 3
    assert remembered("a product", (1, 2), lambda: 2) == 2  # the same inputs, another result
    assert remembered("a sum", (1, 2), lambda: -1) == 3  # kept
