"""Claims: observations word themselves from the data; assertions fail the build, located."""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from claimsite.claims.check import evaluate, evaluate_all
from claimsite.claims.literals import typed_quantities
from claimsite.core.errors import ReportError
from claimsite.core.project import Project
from claimsite.core.strict import load_yaml
from claimsite.data.load import Dataset, load_package
from claimsite.site.build import check
from claimsite.spec.model import Claim
from claimsite.spec.report import Report, load_report
from tests.conftest import ROOT, replace_in

SPEC = ROOT / "templates" / "reports" / "figure6.yaml"


@pytest.fixture(scope="module")
def datasets() -> dict[str, Dataset]:
    return load_package(ROOT / "data", ROOT)


def report_with(datasets: dict[str, Dataset], name: str = "", row: int = 0, column: str = "", value: float = 0.0, spec: Path = SPEC) -> Report:
    """A shipped report over the shipped data, with one cell changed when ``name`` is given."""
    if name:
        frame = datasets[name].frame.copy()
        frame.loc[row, column] = value
        datasets = {**datasets, name: dataclasses.replace(datasets[name], frame=frame)}
    return load_report(spec, datasets, ROOT)


def test_shipped_report_has_every_assertion_holding(datasets: dict[str, Dataset]) -> None:
    claims = evaluate_all(report_with(datasets))
    assertions = [c for c in claims.values() if c.kind == "assertion"]
    assert len(assertions) >= 6
    assert all(c.holds for c in assertions)


def test_observation_adapts_its_wording_when_the_data_turns(datasets: dict[str, Dataset]) -> None:
    before = evaluate_all(report_with(datasets))["selected-beats-human-at-same-size"]
    assert before.text.startswith("With the same number of samples, data selected by ReasonFlux-PRM-7B leads")
    assert "by 5.6 points (83.4% against 77.8%)" in before.text
    # Human-selected s1k (row 3) rises above ReasonFlux-PRM-7B at 1,000 samples (83.4).
    mutated = report_with(datasets, "figure6_training_samples", 3, "math500_accuracy", 85.0)
    after = evaluate(mutated, next(s for s in mutated.claims if s.id == "selected-beats-human-at-same-size"))
    assert "ReasonFlux-PRM-7B trails the human-selected s1k set by 1.6 points (83.4% against 85.0%)" in after.text


def test_trend_observation_computes_steps(datasets: dict[str, Dataset]) -> None:
    claim = evaluate_all(report_with(datasets))["gains-per-step"]
    assert claim.text == "Going from 1,000 to 5,000 samples adds 6.2 points (beyond noise); going on to 10,000 adds 1.9 points, a step within noise."


def test_tie_is_reported_as_a_tie(datasets: dict[str, Dataset]) -> None:
    claim = evaluate_all(report_with(datasets))["table2-aime25-best"]
    assert claim.text == "On AIME25, Human-curated (s1k) and ReasonFlux-PRM-7B tie at 33.3%."


def test_numbers_carry_their_source_on_the_page(datasets: dict[str, Dataset]) -> None:
    claim = evaluate_all(report_with(datasets))["small-prm-beats-large"]
    assert 'title="ReasonFlux-PRM-7B: data/figure6_prm_size.csv, line 3; read off the figure, about ±0.3 points; 95% interval ' in html.unescape(claim.html)
    assert claim.numbers()["a"].sources[0].line == 3


def _breaking_changes(datasets: dict[str, Dataset], spec_path: Path) -> list[tuple[str, str, int, int, str, float]]:
    """For each assertion, a one-cell change to one of the values it reads that makes it false."""
    changes = []
    for claim in evaluate_all(report_with(datasets, spec=spec_path)).values():
        if claim.kind != "assertion":
            continue
        found = None
        for number in claim.numbers().values():
            for source in number.sources:
                dataset = datasets[source.dataset]
                row = dataset.lines.index(source.line)
                column = next(f.name for f in dataset.fields if f.unit == "%")
                for value in (0.0, 100.0):
                    mutated = report_with(datasets, source.dataset, row, column, value, spec=spec_path)
                    spec = next(s for s in mutated.claims if s.id == claim.id)
                    if not evaluate(mutated, spec).holds:
                        found = (claim.id, source.dataset, row, source.line, column, value)
                        break
                if found:
                    break
            if found:
                break
        assert found, f"no one-cell change breaks assertion {claim.id}"
        changes.append(found)
    return changes


@pytest.mark.parametrize("spec_path", Project(ROOT).report_specs(), ids=lambda p: p.stem)
def test_every_assertion_fails_the_build_when_one_cell_breaks_it(datasets: dict[str, Dataset], spec_path: Path) -> None:
    changes = _breaking_changes(datasets, spec_path)
    assert changes  # every report declares assertions
    for claim_id, dataset_name, row, line, column, value in changes:
        with pytest.raises(ReportError) as caught:
            evaluate_all(report_with(datasets, dataset_name, row, column, value, spec=spec_path))
        message = str(caught.value)
        assert f"assertion {claim_id!r} is not supported by the data" in message
        assert f"{datasets[dataset_name].path} line {line}" in message
        assert f"templates/reports/{spec_path.name}:" in message
        assert "fix:" in message


def test_the_seed_statements_are_rejected_by_the_shipped_data(datasets: dict[str, Dataset]) -> None:
    report = report_with(datasets)
    fixture = load_yaml(Path(__file__).parent / "fixtures" / "seed_statements.yaml", "seed_statements.yaml", "the fixture")
    claims = TypeAdapter(list[Claim])
    assert len(fixture["claims"]) >= 10
    for spec, written in zip(claims.validate_python([_without_seed(s) for s in fixture["claims"]]), fixture["claims"], strict=True):
        claim = evaluate(report, spec)
        assert not claim.holds, f"the data should reject the seed's statement: {written['seed']}"
    for spec in claims.validate_python([_without_seed(s) for s in fixture["missing"]]):
        with pytest.raises(ReportError, match="must select exactly one row"):
            evaluate(report, spec)


def _without_seed(spec: dict) -> dict:
    """A seed statement as a claim: the numbers its sentence types marked as meant, so that the data alone judges it."""
    claim = {key: value for key, value in spec.items() if key != "seed"}
    for typed in typed_quantities(claim["text"]):
        claim["text"] = claim["text"].replace(typed.number, f"{{{{ literal({typed.number!r}) }}}}", 1)
    return claim


def test_claim_ids_must_be_slugs(project: Path) -> None:
    replace_in(project / "templates" / "reports" / "figure6.yaml", "  - id: gains-per-step\n", "  - id: Accuracy 83.4%\n")
    with pytest.raises(ReportError) as caught:
        check(Project(project))
    problem = caught.value.problems[0]
    assert problem.message == "claims[1].id: does not have the form it needs"
    assert "lowercase words joined by hyphens" in (problem.expected or "")
    lines = (project / "templates" / "reports" / "figure6.yaml").read_text(encoding="utf-8").splitlines()
    assert problem.line == lines.index("  - id: Accuracy 83.4%") + 1


def test_every_check_a_spec_may_declare_has_one_check_registered() -> None:
    from claimsite.claims.checks import CHECKS as REGISTERED
    from claimsite.spec.model import CHECKS as DECLARED

    assert set(REGISTERED) == set(DECLARED)
    assert all(check.__doc__ for check in REGISTERED.values()), "each check says what it checks"
