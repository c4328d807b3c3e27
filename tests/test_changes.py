"""What changed: numbers moved, sentences reworded and assertions failing, between two versions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from claimsite.claims.changes import compare, to_markdown
from claimsite.claims.check import current_claims
from claimsite.core.project import Project
from claimsite.site.build import generate
from tests.conftest import ROOT, replace_in

PRM_SIZE = "data/figure6_prm_size.csv"


def test_a_changed_cell_is_reported_as_moved_with_its_file_and_line(project: Path) -> None:
    before = current_claims(Project(project))
    replace_in(project / PRM_SIZE, "Skywork-PRM-7B,Skywork-PRM,7B,7,69.9", "Skywork-PRM-7B,Skywork-PRM,7B,7,71.4")
    changes = compare(before, current_claims(Project(project)))
    assert [(m.label, m.where, m.old, m.new, m.delta) for m in changes.moved] == [("Skywork-PRM-7B", f"{PRM_SIZE}, line 5", 69.9, 71.4, 1.5)]
    assert not changes.reworded and not changes.failing
    text = to_markdown(changes, "before", "after")
    assert "| Skywork-PRM-7B | data/figure6_prm_size.csv, line 5 | 69.9% | 71.4% | +1.5 points |" in text


def test_a_turned_observation_is_reworded_and_a_broken_assertion_is_failing(project: Path) -> None:
    before = current_claims(Project(project))
    replace_in(project / PRM_SIZE, "ReasonFlux-PRM-1.5B,ReasonFlux-PRM,1.5B,1.5,77.4", "ReasonFlux-PRM-1.5B,ReasonFlux-PRM,1.5B,1.5,95.0")
    changes = compare(before, current_claims(Project(project)))
    assert "small-reasonflux-vs-large-qwen" in [claim_id for claim_id, _, _ in changes.reworded]
    assert {c["id"] for c in changes.failing} >= {"reasonflux-best-prm"}
    text = to_markdown(changes, "before", "after")
    assert text.index("Assertions that now fail") < text.index("Numbers that moved")


def test_no_change_says_so() -> None:
    document = current_claims(Project(ROOT))
    assert to_markdown(compare(document, document), "a", "b").startswith("No claim changed between a and b")


def test_diff_command_compares_two_claims_files(tmp_path: Path) -> None:
    document = current_claims(Project(ROOT))
    old = tmp_path / "old.json"
    old.write_text(json.dumps(document), encoding="utf-8")
    document["claims"][0]["sentence"] = "A different sentence altogether."
    new = tmp_path / "new.json"
    new.write_text(json.dumps(document), encoding="utf-8")
    result = subprocess.run([sys.executable, str(ROOT / "build_report.py"), "diff", str(old), str(new)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "### Claims that changed wording" in result.stdout and "A different sentence altogether." in result.stdout


def test_the_site_has_a_what_changed_page(project: Path) -> None:
    generated = generate(Project(project), render_charts=False)
    assert {"What changed": "changes.md"} in generated.nav
    assert "No earlier version of the data could be found" in generated.pages["changes.md"]  # a copy outside git


def test_the_what_changed_page_compares_with_the_previous_data_version(project: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, timeout=60)

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "first data")
    replace_in(project / PRM_SIZE, "Skywork-PRM-7B,Skywork-PRM,7B,7,69.9", "Skywork-PRM-7B,Skywork-PRM,7B,7,70.6")
    page = generate(Project(project), render_charts=False).pages["changes.md"]
    assert "| Skywork-PRM-7B | data/figure6&#95;prm&#95;size.csv, line 5 | 69.9% | 70.6% | +0.7 points |" in page
