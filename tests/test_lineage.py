"""Which rows fed each value of a SQL view: computed by the view's lineage, checked here against pandas, view by view."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from claimsite.core.errors import ReportError
from claimsite.core.provenance import MAX_TEXT, ViewSource
from claimsite.data.load import load_package
from claimsite.views.sql import ViewResult, session

MODELS = ("Osprey-8B", "Heron-3B", "Kite-14B")
BENCHMARKS = ("Arith", "Logic")
DESCRIPTOR = """resources:
  - name: log
    path: log.csv
    schema:
      fields:
        - {name: model, type: string}
        - {name: benchmark, type: string}
        - {name: problem, type: integer}
        - {name: seed, type: integer}
        - {name: correct, type: integer}
  - name: sizes
    path: sizes.csv
    schema:
      fields:
        - {name: benchmark, type: string}
        - {name: problems, type: integer}
"""


def example_log() -> pd.DataFrame:
    """A per-example log written problem by problem (so a model's rows are not together), with a few empty answers."""
    rows = [
        (model, benchmark, problem, seed, None if (problem * 5 + seed + m) % 17 == 0 else int((problem * 7 + seed * 3 + m + b) % 10 < 4 + m))
        for problem, seed in itertools.product(range(1, 7), range(3))
        for m, model in enumerate(MODELS)
        for b, benchmark in enumerate(BENCHMARKS)
    ]
    frame = pd.DataFrame(rows, columns=["model", "benchmark", "problem", "seed", "correct"]).astype({"correct": "Int64"})
    frame["line"] = range(2, len(frame) + 2)
    return frame


LOG = example_log()
SIZES = pd.DataFrame({"benchmark": ["Arith", "Logic"], "problems": [6, 6], "line": [2, 3]})


@pytest.fixture(scope="module")
def views(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, str], ViewResult]]:
    """A session over the log and the benchmarks' sizes; each call declares one view (after those declared before it)."""
    folder = tmp_path_factory.mktemp("lineage")
    (folder / "data").mkdir()
    (folder / "data" / "datapackage.yaml").write_text(DESCRIPTOR, encoding="utf-8")
    LOG.drop(columns="line").to_csv(folder / "data" / "log.csv", index=False)
    SIZES.drop(columns="line").to_csv(folder / "data" / "sizes.csv", index=False)
    datasets = load_package(folder / "data", folder)
    with session("spec.yaml", datasets) as opened:

        def view(name: str, sql: str) -> ViewResult:
            return opened.view(name, sql, 7)

        yield view


def fed(result: ViewResult, position: int, column: str) -> ViewSource:
    source = (result.column_sources.get(column) or result.sources)[position][0]
    assert isinstance(source, ViewSource)
    return source


def lines_of(source: ViewSource, file: str) -> list[int]:
    return next((rows.lines.tolist() for rows in source.inputs if rows.file == file), [])


def expect(source: ViewSource, log_rows: pd.DataFrame, fed_count: int | None, where: str | None = None) -> None:
    """The value's source names exactly these rows of the log (by line), how many the aggregate read, and the selection."""
    assert source.exact, source.describe()
    assert lines_of(source, "data/log.csv") == sorted(log_rows["line"].tolist())
    assert source.fed == fed_count
    text = source.describe()
    assert len(text) <= MAX_TEXT
    count = len(log_rows)
    assert (f"{count:,} rows of data/log.csv" in text) if count > 1 else ("data/log.csv, line" in text), text
    if where is not None:
        assert f"where {where} (view" in text or f"where {where} and" in text, text


def test_group_by_all_counts_each_groups_rows_and_only_the_answers_an_average_read(views: Callable[[str, str], ViewResult]) -> None:
    result = views("accuracy", "SELECT model, benchmark, avg(correct) AS accuracy, count(*) AS answers FROM log GROUP BY ALL")
    assert result.frame is not None
    for position, row in result.frame.iterrows():
        group = LOG[(LOG.model == row.model) & (LOG.benchmark == row.benchmark)]
        answered = group[group.correct.notna()]
        assert row.answers == len(group) and row.accuracy == pytest.approx(answered.correct.mean())
        selection = f"model = '{row.model}' and benchmark = '{row.benchmark}'"
        expect(fed(result, int(position), "answers"), group, len(group), selection)
        expect(fed(result, int(position), "accuracy"), answered, len(answered), selection + (" and correct IS NOT NULL" if len(answered) < len(group) else ""))
        assert fed(result, int(position), "accuracy").describe().startswith(f"mean of {len(answered)} rows of data/log.csv where {selection}")


def test_a_filter_is_part_of_the_selection(views: Callable[[str, str], ViewResult]) -> None:
    result = views("first_seed", "SELECT model, avg(correct) AS accuracy FROM log WHERE seed = 0 GROUP BY model")
    assert result.frame is not None
    for position, row in result.frame.iterrows():
        rows = LOG[(LOG.model == row.model) & (LOG.seed == 0) & LOG.correct.notna()]
        expect(fed(result, int(position), "accuracy"), rows, len(rows))
        assert "seed = 0" in fed(result, int(position), "accuracy").describe()


def test_an_aggregate_filter_and_distinct_count_only_what_they_read(views: Callable[[str, str], ViewResult]) -> None:
    result = views(
        "early_logic",
        "SELECT model, avg(correct) FILTER (WHERE benchmark = 'Logic' AND problem <= 2) AS early, avg(DISTINCT problem) AS mean_problem "
        "FROM log GROUP BY model",
    )
    assert result.frame is not None
    for position, row in result.frame.iterrows():
        early = LOG[(LOG.model == row.model) & (LOG.benchmark == "Logic") & (LOG.problem <= 2) & LOG.correct.notna()]
        expect(fed(result, int(position), "early"), early, len(early))
        everything = LOG[LOG.model == row.model]
        expect(fed(result, int(position), "mean_problem"), everything, 6)  # the mean of 6 distinct problems, read from every row


def test_a_nested_aggregate_says_how_many_values_it_averaged_and_which_rows_made_them(views: Callable[[str, str], ViewResult]) -> None:
    result = views(
        "per_model",
        "WITH per_problem AS (SELECT model, problem, avg(correct) AS solved FROM log GROUP BY ALL) "
        "SELECT model, avg(solved) AS accuracy FROM per_problem GROUP BY model ORDER BY model",
    )
    assert result.frame is not None
    for position, row in result.frame.iterrows():
        rows = LOG[(LOG.model == row.model) & LOG.correct.notna()]
        expected = rows.groupby("problem").correct.mean().mean()
        assert row.accuracy == pytest.approx(expected)
        source = fed(result, int(position), "accuracy")
        expect(source, rows, 6)
        assert source.describe().startswith(f"mean of 6 values, from {len(rows)} rows of data/log.csv where model = '{row.model}'")


def test_a_view_reading_a_view_keeps_the_rows_of_the_data_file(views: Callable[[str, str], ViewResult]) -> None:
    result = views("leaders", "SELECT benchmark, max(accuracy) AS best FROM accuracy GROUP BY benchmark")
    assert result.frame is not None
    for position, row in result.frame.iterrows():
        rows = LOG[(LOG.benchmark == row.benchmark) & LOG.correct.notna()]
        expect(fed(result, int(position), "best"), rows, len(MODELS), f"benchmark = '{row.benchmark}'")


def test_a_join_names_the_rows_of_each_file_a_value_read(views: Callable[[str, str], ViewResult]) -> None:
    result = views(
        "sized",
        "SELECT l.model, l.benchmark, avg(l.correct) AS accuracy, any_value(s.problems) AS problems "
        "FROM log AS l JOIN sizes AS s USING (benchmark) GROUP BY ALL",
    )
    assert result.frame is not None
    for position, row in result.frame.iterrows():
        rows = LOG[(LOG.model == row.model) & (LOG.benchmark == row.benchmark) & LOG.correct.notna()]
        expect(fed(result, int(position), "accuracy"), rows, len(rows))
        problems = fed(result, int(position), "problems")
        assert lines_of(problems, "data/sizes.csv") == SIZES[SIZES.benchmark == row.benchmark].line.tolist()
        assert lines_of(problems, "data/log.csv") == []  # the size was read from its own file alone
        assert f"data/sizes.csv, line {SIZES[SIZES.benchmark == row.benchmark].line.item()}" in problems.describe()


def test_an_unpivot_gives_each_value_the_rows_of_the_column_it_came_from(views: Callable[[str, str], ViewResult]) -> None:
    views(
        "wide",
        "SELECT model, avg(correct) FILTER (WHERE benchmark = 'Arith') AS Arith, avg(correct) FILTER (WHERE benchmark = 'Logic') AS Logic "
        "FROM log GROUP BY model",
    )
    result = views("long", "UNPIVOT wide ON Arith, Logic INTO NAME benchmark VALUE accuracy")
    assert result.frame is not None and len(result.frame) == len(MODELS) * len(BENCHMARKS)
    for position, row in result.frame.iterrows():
        rows = LOG[(LOG.model == row.model) & (LOG.benchmark == row.benchmark) & LOG.correct.notna()]
        expect(fed(result, int(position), "accuracy"), rows, len(rows))


def test_a_window_reads_its_frame(views: Callable[[str, str], ViewResult]) -> None:
    result = views(
        "running",
        "SELECT model, benchmark, problem, seed, avg(correct) OVER (PARTITION BY model, benchmark) AS group_mean, "
        "lag(correct) OVER (PARTITION BY model, benchmark ORDER BY problem, seed) AS previous FROM log",
    )
    assert result.frame is not None
    ordered = LOG.sort_values(["model", "benchmark", "problem", "seed"])
    for position, row in result.frame.iterrows():
        group = LOG[(LOG.model == row.model) & (LOG.benchmark == row.benchmark)]
        expect(fed(result, int(position), "group_mean"), group[group.correct.notna()], None)
        same = ordered[(ordered.model == row.model) & (ordered.benchmark == row.benchmark)]
        at = same.index.get_indexer(
            LOG.index[(LOG.model == row.model) & (LOG.benchmark == row.benchmark) & (LOG.problem == row.problem) & (LOG.seed == row.seed)]
        )[0]
        assert lines_of(fed(result, int(position), "previous"), "data/log.csv") == ([] if at == 0 else [int(same.line.iloc[at - 1])])


def test_rows_a_view_passes_through_name_their_own_line(views: Callable[[str, str], ViewResult]) -> None:
    result = views("first_problem", "SELECT model, benchmark, seed, correct FROM log WHERE problem = 1 AND correct IS NOT NULL")
    assert result.frame is not None
    expected = LOG[(LOG.problem == 1) & LOG.correct.notna()]
    for position, row in result.frame.iterrows():
        line = expected[(expected.model == row.model) & (expected.benchmark == row.benchmark) & (expected.seed == row.seed)].line.item()
        source = fed(result, int(position), "correct")
        assert lines_of(source, "data/log.csv") == [line] and source.cite().startswith(f"data/log.csv line {line}")


def test_what_the_lineage_cannot_follow_is_said_without_a_count(views: Callable[[str, str], ViewResult]) -> None:
    result = views("share", "SELECT model, avg(correct) / (SELECT avg(correct) FROM log) AS relative FROM log GROUP BY model")
    source = fed(result, 0, "relative")
    assert not source.exact and source.describe() == "computed by view share from data/log.csv"
    assert source.cite() == "view share row 1 (model = 'Osprey-8B')"


def test_a_view_over_a_view_that_cannot_be_followed_is_not_followed_either(views: Callable[[str, str], ViewResult]) -> None:
    result = views("share_again", "SELECT model, relative * 100 AS percent FROM share")
    assert not fed(result, 0, "percent").exact


def test_provenance_stays_short_however_many_rows_feed_a_value(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "datapackage.yaml").write_text(DESCRIPTOR, encoding="utf-8")
    rng = np.random.default_rng(1)
    big = pd.DataFrame(
        {
            "model": rng.choice(MODELS, 30_000),
            "benchmark": rng.choice(BENCHMARKS, 30_000),
            "problem": rng.integers(1, 500, 30_000),
            "seed": 0,
            "correct": rng.integers(0, 2, 30_000),
        }
    )
    big.to_csv(tmp_path / "data" / "log.csv", index=False)
    SIZES.drop(columns="line").to_csv(tmp_path / "data" / "sizes.csv", index=False)
    with session("spec.yaml", load_package(tmp_path / "data", tmp_path)) as opened:
        result = opened.view("accuracy", "SELECT model, avg(correct) AS accuracy FROM log WHERE problem % 2 = 0 GROUP BY model", 7, "accuracy")
    for row in result.sources:
        source = row[0]
        assert isinstance(source, ViewSource) and source.exact
        assert len(source.describe()) < 300 and len(source.cite()) < 400  # lines in thousands of runs: a count, a selection and a few runs
        assert len(str(source.to_dict())) < 3000
        assert source.describe().endswith("where model = '" + source.key.split("'")[1] + "' and (problem % 2 = 0) (view accuracy)")


def test_a_claim_over_a_view_that_fails_cites_lines_of_the_data_file(views: Callable[[str, str], ViewResult]) -> None:
    from claimsite.core import provenance

    result = views("by_model", "SELECT model, avg(correct) AS accuracy FROM log GROUP BY model ORDER BY model")
    cited = provenance.cite(result.sources[0])
    assert cited.startswith("data/log.csv lines ") and "rows where model = 'Heron-3B'" in cited and "line 1 " not in cited


def test_two_views_whose_names_differ_in_case_only_clash_with_a_located_error(views: Callable[[str, str], ViewResult]) -> None:
    with pytest.raises(ReportError) as caught:
        views("Accuracy", "SELECT 1 AS one")
    assert caught.value.problems[0].message == "view 'Accuracy' has the name of a table it could read"


def test_the_readmes_provenance_examples_are_what_the_build_says(tmp_path: Path) -> None:
    readme = " ".join((Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8").split())
    view_sql = re.search(r'views: \{accuracy: \{sql: "([^"]+)"\}\}`', readme)
    assert view_sql is not None, "the README no longer shows its view"
    quoted = re.findall(r'"((?:mean|computed|data/)[^"]+)"', readme.split("Each number from a view says")[1].split("### ")[0])
    assert len(quoted) == 5, quoted
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "datapackage.yaml").write_text(DESCRIPTOR.replace("name: log\n    path: log.csv", "name: eval_log\n    path: eval_log.csv"), "utf-8")
    pd.DataFrame(
        [(m, b, p, s, (p + s) % 3 == 0) for m in ("A", "B") for b in ("MATH500", "AIME24") for p in range(1, 101) for s in range(5)],
        columns=["model", "benchmark", "problem", "seed", "correct"],
    ).astype({"correct": int}).to_csv(tmp_path / "data" / "eval_log.csv", index=False)
    SIZES.drop(columns="line").to_csv(tmp_path / "data" / "sizes.csv", index=False)
    said: list[str] = []
    with session("spec.yaml", load_package(tmp_path / "data", tmp_path)) as opened:
        sqls = {
            "accuracy": view_sql.group(1),
            "filtered": view_sql.group(1).replace(" GROUP BY ALL", " WHERE seed = 0 GROUP BY ALL"),
            "nested": "WITH per_problem AS (SELECT model, benchmark, problem, avg(correct) AS solved FROM eval_log GROUP BY ALL) "
            "SELECT model, benchmark, avg(solved) AS accuracy FROM per_problem GROUP BY ALL",
        }
        for name, sql in sqls.items():
            result = opened.view(name, sql, 1, "accuracy")
            first = result.sources[int(result.frame.index[(result.frame.model == "A") & (result.frame.benchmark == "MATH500")][0])][0]
            said += [first.describe().replace(f"(view {name})", "(view accuracy)").removesuffix(" (view accuracy)"), first.describe(), first.cite()]
    with session("spec.yaml", load_package(tmp_path / "data", tmp_path)) as opened:
        untraced = opened.view(
            "accuracy", "SELECT model, benchmark, avg(correct) / (SELECT avg(correct) FROM eval_log) AS accuracy FROM eval_log GROUP BY ALL", 1
        )
        said.append(untraced.sources[0][0].describe())
    for quote in quoted:
        assert any(quote == text or text.startswith(quote) for text in said), f"the README says {quote!r}; the build says {said}"


def test_a_window_over_aggregates_is_not_claimed_exact(views: Callable[[str, str], ViewResult]) -> None:
    result = views("shares", "SELECT model, sum(correct) / sum(sum(correct)) OVER () AS share FROM log GROUP BY model")
    assert not fed(result, 0, "share").exact  # the share reads every model's rows, not its own


def test_names_written_in_another_case_keep_their_own_rows(views: Callable[[str, str], ViewResult]) -> None:
    views("tested", "SELECT model, avg(correct) FILTER (WHERE benchmark = 'Logic') AS M FROM log GROUP BY model")
    result = views("tested_again", "SELECT Model, m FROM tested")
    assert result.frame is not None
    for position, row in result.frame.iterrows():
        rows = LOG[(LOG.model == row.iloc[0]) & (LOG.benchmark == "Logic") & LOG.correct.notna()]
        expect(fed(result, int(position), str(result.frame.columns[1])), rows, len(rows))


def test_a_group_key_read_from_a_value_keeps_that_values_rows(views: Callable[[str, str], ViewResult]) -> None:
    views("model_means", "SELECT model, avg(correct) AS mean FROM log GROUP BY model")
    result = views("regrouped", "SELECT model, mean FROM model_means GROUP BY ALL")
    assert result.frame is not None
    for position, row in result.frame.iterrows():
        rows = LOG[(LOG.model == row.model) & LOG.correct.notna()]
        assert lines_of(fed(result, int(position), "mean"), "data/log.csv") == sorted(rows.line.tolist())


def test_a_union_gives_each_side_its_own_columns_rows(views: Callable[[str, str], ViewResult]) -> None:
    result = views(
        "extremes",
        "SELECT model, max(correct) FILTER (WHERE benchmark = 'Arith') AS score FROM log GROUP BY model "
        "UNION ALL SELECT model, min(correct) FILTER (WHERE benchmark = 'Logic') AS other FROM log GROUP BY model",
    )
    assert result.frame is not None and len(result.frame) == 2 * len(MODELS)
    benchmarks = ["Arith"] * len(MODELS) + ["Logic"] * len(MODELS)  # UNION ALL keeps the left side's rows first
    for position, row in result.frame.iterrows():
        rows = LOG[(LOG.model == row.model) & (LOG.benchmark == benchmarks[int(position)]) & LOG.correct.notna()]
        expect(fed(result, int(position), "score"), rows, len(rows))


def test_a_cte_named_like_a_dataset_still_names_the_dataset(views: Callable[[str, str], ViewResult]) -> None:
    result = views(
        "negated", "WITH log AS (SELECT model, -correct AS correct FROM log) SELECT model, avg(correct) AS mean FROM log WHERE correct < 0 GROUP BY model"
    )
    source = fed(result, 0, "mean")
    assert source.files == ("data/log.csv",)
    assert "(correct < 0)" not in source.describe()  # the filter reads the CTE's rows, not the file's


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT model, first_value(correct IGNORE NULLS) OVER (PARTITION BY model ORDER BY problem) AS first FROM log",
        "SELECT model, list(correct ORDER BY problem) AS answers FROM log GROUP BY model",
    ],
    ids=["ignore nulls", "a list"],
)
def test_sql_the_rewrite_does_not_follow_runs_all_the_same(views: Callable[[str, str], ViewResult], sql: str) -> None:
    result = views("unusual_" + str(abs(hash(sql)) % 1000), sql)
    assert result.frame is not None and len(result.sources) == len(result.frame)
