"""How sure the data lets us be: intervals, honest wording enforced, quantifiers, aggregates and trends that say what fails."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from pydantic import TypeAdapter

from claimsite.claims.check import evaluate
from claimsite.core.errors import ReportError
from claimsite.core.numbers import Number, NumberFormat
from claimsite.core.project import Project
from claimsite.core.uncertainty import mover, wilson
from claimsite.data.load import Dataset, load_package
from claimsite.site.build import check
from claimsite.spec.model import Claim
from claimsite.spec.report import Report, load_report
from tests.conftest import ROOT, replace_in

TABLE2 = ROOT / "templates" / "reports" / "table2.yaml"
GUIDE = ROOT / "templates" / "reports" / "guide.yaml"
CLAIMS = TypeAdapter(Claim)


@pytest.fixture(scope="module")
def datasets() -> dict[str, Dataset]:
    return load_package(ROOT / "data", ROOT)


def report(datasets: dict[str, Dataset], spec: Path = TABLE2, **cells: tuple[str, int, str, float]) -> Report:
    """A shipped report over the shipped data, with cells changed: name=(dataset, row, column, value)."""
    for dataset, row, column, value in cells.values():
        frame = datasets[dataset].frame.copy()
        frame.loc[row, column] = value
        datasets = {**datasets, dataset: dataclasses.replace(datasets[dataset], frame=frame)}
    return load_report(spec, datasets, ROOT)


def claim(data: dict) -> object:
    return CLAIMS.validate_python({"id": "under-test", "kind": "assertion", "text": "x", **data})


AIME24_LEAD = {
    "check": "compare",
    "a": {"from": "table", "where": {"sft_data_source": "ReasonFlux-PRM-7B", "benchmark": "AIME24"}},
    "b": {"from": "table", "where": {"sft_data_source": "Qwen2.5-Math-PRM-72B, on model responses", "benchmark": "AIME24"}},
}


def test_wilson_and_newcombe_give_the_published_intervals() -> None:
    """Newcombe (1998), Statistics in Medicine 17: 873-890, example (a): 56/70 against 48/80, method 10: 0.0524 to 0.3339."""
    low, high = mover(56 / 70, wilson(56, 70), 48 / 80, wilson(48, 80))
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)
    assert tuple(round(end, 4) for end in wilson(12, 30)) == (0.2459, 0.5768)


def test_a_lead_of_one_problem_in_thirty_fails_unless_it_is_worded_as_within_noise(datasets: dict[str, Dataset]) -> None:
    table2 = report(datasets)
    beats = evaluate(table2, claim({**AIME24_LEAD, "text": "ReasonFlux-PRM-7B beats it on AIME24 ({{ a }} against {{ b }})."}))
    assert (beats.values["a"].value, beats.values["b"].value, beats.values["a"].n) == (40.0, 36.7, 30)
    assert not beats.holds
    assert beats.why.startswith(
        "ReasonFlux-PRM-7B against Qwen2.5-Math-PRM-72B, on model responses: a gap of 3.3 points (1 problem of 30) is within the uncertainty"
    )
    assert "the 95% interval of the difference is -20.2 to +26.4 points (Newcombe's score interval for a difference of two proportions)" in beats.why
    within = evaluate(table2, claim({**AIME24_LEAD, "noise": "within", "text": "It leads by {{ gap.of_n }}, within noise."}))
    assert within.holds and within.text == "It leads by 1 problem of 30, within noise."


def test_the_build_names_the_uncertainty_when_an_assertion_overstates(project: Path) -> None:
    replace_in(
        project / "templates" / "reports" / "table2.yaml",
        "    expect: ReasonFlux-PRM-7B\n    noise: within\n    text: >-\n      On AIME24",
        "    expect: ReasonFlux-PRM-7B\n    text: >-\n      On AIME24",
    )
    with pytest.raises(ReportError) as caught:
        check(Project(project))
    problem = caught.value.problems[0]
    assert problem.message.startswith("assertion 'reasonflux-leads-aime24' is not supported by the data")
    assert "is within the uncertainty" in (problem.expected or "") and "1 problem of 30" in (problem.expected or "")
    assert problem.fix and "noise: within" in problem.fix


def test_a_gap_within_noise_claimed_as_such_fails_once_the_data_makes_it_sure(datasets: dict[str, Dataset]) -> None:
    """Mutation: ReasonFlux-PRM-7B's AIME24 score (row 28) raised to 80%: the lead is now beyond noise, and 'within noise' is false."""
    mutated = report(datasets, cell=("table2_offline_selection", 28, "accuracy", 80.0))
    result = evaluate(mutated, claim({**AIME24_LEAD, "noise": "within"}))
    assert not result.holds and "is beyond the uncertainty" in result.why


def test_each_names_the_groups_that_fail(datasets: dict[str, Dataset]) -> None:
    spec = {
        "check": "compare",
        "each": "benchmark",
        "a": {"from": "table", "where": {"sft_data_source": "ReasonFlux-PRM-7B"}},
        "b": {"from": "table", "where": {"sft_data_source": "Random"}},
        "noise": "ignore",
    }
    table2 = report(datasets)
    every = evaluate(table2, claim(spec))
    assert every.holds and (every.values["held"], every.values["total"]) == (4, 4)
    # Mutation: Random's GPQA-Diamond score (row 7) raised above ReasonFlux-PRM-7B's.
    broken = evaluate(report(datasets, cell=("table2_offline_selection", 7, "accuracy", 60.0)), claim(spec))
    assert not broken.holds and broken.values["failing"] == ["GPQA-Diamond"]
    assert broken.why.startswith(
        "holds in 3 of 4 groups of benchmark, not every group; it fails for GPQA-Diamond: ReasonFlux-PRM-7B (47.5%) is not above Random (60.0%)"
    )
    some = evaluate(table2, claim({**spec, "holds_in": 3, "noise": "beyond"}))
    assert some.holds and some.values["failing"] == ["AIME25"]
    none = evaluate(table2, claim({**spec, "holds_in": "none"}))
    assert not none.holds and none.why.startswith("it holds for AIME24")
    assert set(some.numbers()) >= {"groups.AIME24.a", "groups.GPQA-Diamond.b"}


def test_an_aggregate_holds_within_its_bounds_and_says_its_value_when_not(datasets: dict[str, Dataset]) -> None:
    spec = {"check": "aggregate", "from": "rain", "where": {"city": "Lisbon"}, "stat": "mean", "at_least": 50, "text": "{{ value }} over {{ count }} rows"}
    guide = report(datasets, GUIDE)
    mean = evaluate(guide, claim(spec))
    assert mean.holds and mean.text == "61.9 mm over 12 rows"
    # Mutation: Lisbon's January rainfall (row 0) set to -500 mm drags the mean below 50 mm.
    dragged = evaluate(report(datasets, GUIDE, cell=("example_city_weather", 0, "rainfall_mm", -500.0)), claim(spec))
    assert not dragged.holds and dragged.why == "the mean is 11.9 mm, outside at least 50.0 mm"
    share = evaluate(guide, claim({"check": "aggregate", "from": "weather", "stat": "count", "where": {"city": "Oslo"}, "text": "{{ value }}"}))
    assert share.text == "12"


def test_trends_overall_and_fitted_see_through_seasons_and_name_the_step_that_breaks(datasets: dict[str, Dataset]) -> None:
    guide = report(datasets, GUIDE)
    base = {"check": "trend", "from": "weather", "where": {"city": "Oslo"}, "along": "month", "text": "{{ direction }}"}
    steps = evaluate(guide, claim({**base, "noise": "ignore"}))
    assert not steps.holds and steps.values["direction"] == "mixed"
    assert steps.why == "falls from July 2023 to August 2023: 17.3 °C → 16.0 °C"
    overall = evaluate(guide, claim({**base, "method": "overall"}))
    assert overall.holds and overall.values["overall"].text() == "0.5 °C"
    # Mutation: Oslo's December (row 23) made very cold: the first-to-last change turns negative.
    colder = evaluate(report(datasets, GUIDE, cell=("example_city_weather", 23, "temperature_c", -20.0)), claim({**base, "method": "overall"}))
    assert not colder.holds and colder.why == "from first to last the values change by -16.8 °C, not rising"
    fitted = evaluate(guide, claim({**base, "method": "fitted", "expect": "rising"}))
    assert fitted.values["slope"].unit == "°C a year"
    yearly = evaluate(guide, claim({**base, "per": "month", "method": "overall"}))
    assert [str(at) for at in yearly.values["at"]][:2] == ["January 2023", "February 2023"]


def test_a_claim_reads_any_column_of_the_chosen_row(datasets: dict[str, Dataset]) -> None:
    spec = {"check": "best", "from": "weather", "where": {"city": "Oslo"}, "text": "{{ top.month }}, {{ top['rainy_days'] }} rainy days"}
    assert evaluate(report(datasets, GUIDE), claim(spec)).text == "July 2023, 12 rainy days"


def test_the_shipped_reports_say_which_leads_are_beyond_noise(datasets: dict[str, Dataset]) -> None:
    from claimsite.claims.check import evaluate_all

    claims = evaluate_all(report(datasets))
    assert claims["reasonflux-leads-math500"].values["beyond_noise"] is True
    assert claims["reasonflux-leads-gpqa"].values["beyond_noise"] is False and "within noise" in claims["reasonflux-leads-gpqa"].text
    assert claims["beyond-noise-against-s1k"].values["holding"] == ["MATH500"]


FIGURE6 = ROOT / "templates" / "reports" / "figure6.yaml"
SAMPLES = {"check": "trend", "from": "samples", "where": {"series": "ReasonFlux-PRM-7B"}, "along": "training_samples", "noise": "ignore"}


def test_a_trend_step_by_step_names_the_step_that_breaks(datasets: dict[str, Dataset]) -> None:
    assert evaluate(report(datasets, FIGURE6), claim(SAMPLES)).holds
    # Mutation: the reading at 10,000 samples (row 2) drops below the one at 5,000.
    broken = evaluate(report(datasets, FIGURE6, cell=("figure6_training_samples", 2, "math500_accuracy", 85.0)), claim(SAMPLES))
    assert not broken.holds and broken.why == "falls from 5,000 to 10,000: 89.6% → 85.0%"
    noisy = evaluate(report(datasets, FIGURE6), claim({**SAMPLES, "noise": "beyond"}))
    assert not noisy.holds and noisy.why.startswith("the step from 5,000 to 10,000: a gap of 1.9 points (10 of 500) is within the uncertainty")


def test_a_fitted_trend_follows_the_sign_of_its_slope(datasets: dict[str, Dataset]) -> None:
    fitted = {**SAMPLES, "method": "fitted"}
    rising = evaluate(report(datasets, FIGURE6), claim(fitted))
    assert rising.holds and rising.values["slope"].value > 0
    # Mutation: the reading at 10,000 samples (row 2) falls to 50%: the least-squares line now falls.
    falling = evaluate(report(datasets, FIGURE6, cell=("figure6_training_samples", 2, "math500_accuracy", 50.0)), claim(fitted))
    assert not falling.holds and falling.why.startswith("by a least-squares line the values change by -")


def test_within_noise_holds_whichever_value_is_higher(datasets: dict[str, Dataset]) -> None:
    """An analyst reads 'within noise' as symmetric: a flipped order within the uncertainty keeps the claim true."""
    text = "{{ 'Above' if higher else 'Below' }}, within noise ({{ a }} against {{ b }})."
    flipped = {**AIME24_LEAD, "a": AIME24_LEAD["b"], "b": AIME24_LEAD["a"], "noise": "within", "text": text}
    held = evaluate(report(datasets), claim(flipped))
    assert held.holds and held.text.startswith("Below, within noise")
    far = report(datasets, lead=("table2_offline_selection", 28, "accuracy", 95.0))  # ReasonFlux-PRM-7B on AIME24, far ahead
    beyond = evaluate(far, claim(flipped))
    assert not beyond.holds and "beyond the uncertainty" in beyond.why


def test_best_within_noise_holds_when_the_named_row_stands_second_within_noise(datasets: dict[str, Dataset]) -> None:
    best = {"check": "best", "from": "table", "where": {"benchmark": "AIME24"}, "expect": "Qwen2.5-Math-PRM-72B, on model responses", "noise": "within"}
    held = evaluate(report(datasets), claim({**best, "text": "{{ top.label }} leads, within noise of {{ expected.label }}."}))
    assert held.holds and held.text == "ReasonFlux-PRM-7B leads, within noise of Qwen2.5-Math-PRM-72B, on model responses."
    far = report(datasets, lead=("table2_offline_selection", 28, "accuracy", 95.0))
    refused = evaluate(far, claim({**best, "text": "x"}))
    assert not refused.holds and refused.why.startswith("ReasonFlux-PRM-7B against Qwen2.5-Math-PRM-72B, on model responses: a gap of")


def test_counts_behind_a_percentage_print_with_thousands() -> None:
    share = Number(0.70768, "A", (), NumberFormat("%", 1, True, 100), n=25_000, n_unit="answers")
    assert share.of_n == "17,692 of 25,000 answers"


def test_a_mean_per_year_refuses_drops_or_names_a_year_the_data_covers_in_part(datasets: dict[str, Dataset]) -> None:
    months = pd.date_range("2022-05-01", "2024-12-01", freq="MS")
    frame = pd.DataFrame({"city": "Lisbon", "month": months, "temperature_c": [10.0 + i / 10 for i in range(len(months))]})
    for column in datasets["example_city_weather"].frame.columns:
        if column not in frame:
            frame[column] = 1.0
    weather = dataclasses.replace(
        datasets["example_city_weather"], frame=frame[datasets["example_city_weather"].frame.columns], lines=tuple(range(2, 2 + len(frame)))
    )
    guide = load_report(GUIDE, {**datasets, "example_city_weather": weather}, ROOT)
    trend = {"check": "trend", "kind": "observation", "from": "weather", "along": "month", "per": "year", "method": "overall", "noise": "ignore"}
    with pytest.raises(ReportError) as caught:
        evaluate(guide, claim({**trend, "text": "x"}))
    problem = caught.value.problems[0]
    assert problem.message.endswith("the data covers only part of 1 year: 2022 (8 of 12 months)") and "partial: drop" in (problem.fix or "")
    kept = evaluate(guide, claim({**trend, "partial": "keep", "text": "{{ at | join(', ') }}: {{ first }}, {{ last }}"}))
    assert kept.text.startswith("2022 (8 of 12 months), 2023, 2024:")
    dropped = evaluate(guide, claim({**trend, "partial": "drop", "text": "{{ at | join(', ') }}"}))
    assert dropped.text == "2023, 2024"
