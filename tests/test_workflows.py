"""The GitHub Actions workflows: valid against GitHub's schema, least privilege, pinned actions."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
ACTIONS = ROOT / ".github" / "actions"
ACTION_FILES = sorted(ACTIONS.glob("*/action.yml"))
PREPARE = "./.github/actions/prepare"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@(v\d+\.\d+\.\d+|[0-9a-f]{40})$")
PAGES_PATHS = {"data/**", "templates/**", "claimsite/**", "mkdocs.yml", "requirements.lock"}


def schema_check(*files: Path, schema: str = "vendor.github-workflows") -> subprocess.CompletedProcess[str]:
    """Run check-jsonschema with a GitHub schema it ships (workflows, or actions): no network."""
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


def load(name: str, folder: Path = WORKFLOWS) -> dict[str, Any]:
    """A workflow (or action) as a dict, with PyYAML's boolean `on` key (YAML 1.1) renamed back to "on"."""
    document = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{name} is not a mapping"
    if True in document:
        document["on"] = document.pop(True)
    return document


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """The `on:` section as a dict, whichever of its short forms is used."""
    on = workflow["on"]
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


def steps(workflow: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every step of every job, and of the local actions the jobs use (as if written in place)."""
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            used = step.get("uses", "")
            if used.startswith("./.github/actions/"):
                yield from load("action.yml", ROOT / used)["runs"]["steps"]
            else:
                yield step


def runs(workflow: dict[str, Any]) -> str:
    """Every `run:` script of the workflow, joined."""
    return "\n".join(step.get("run", "") for step in steps(workflow))


def uses(workflow: dict[str, Any]) -> list[str]:
    """Every action or reusable workflow the workflow uses (inside its local actions too)."""
    jobs = [job["uses"] for job in workflow["jobs"].values() if "uses" in job]
    return jobs + [step["uses"] for step in steps(workflow) if "uses" in step]


def job_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps written in the workflow itself."""
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def step_using(workflow: dict[str, Any], action: str) -> dict[str, Any]:
    """The one step that uses an action, whatever its version."""
    found = [step for step in steps(workflow) if step.get("uses", "").split("@")[0] == action]
    assert len(found) == 1, f"expected one step using {action}, found {len(found)}"
    return found[0]


def test_there_are_workflows() -> None:
    """The test workflow, the Pages workflow and the set-up they share."""
    assert {path.name for path in WORKFLOW_FILES} >= {"test.yml", "pages.yml"}
    assert (ROOT / PREPARE / "action.yml").is_file()


def test_workflows_match_github_schema() -> None:
    """Every workflow validates against GitHub's workflow schema, and every local action against the action schema."""
    result = schema_check(*WORKFLOW_FILES)
    assert result.returncode == 0, f"schema check failed:\n{result.stdout}\n{result.stderr}"
    result = schema_check(*ACTION_FILES, schema="vendor.github-actions")
    assert result.returncode == 0, f"schema check failed:\n{result.stdout}\n{result.stderr}"


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    """The schema check bites: a job with neither `runs-on` nor `steps` is rejected."""
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump({"name": "broken", "on": "push", "jobs": {"build": {"name": "no runner, no steps"}}}), encoding="utf-8")
    result = schema_check(broken)
    assert result.returncode != 0, f"a broken workflow passed the schema check:\n{result.stdout}\n{result.stderr}"


def test_the_shared_set_up_is_written_once() -> None:
    """Python, the caches and Chromium are set up by the local action only: no workflow repeats those steps."""
    for path in WORKFLOW_FILES:
        workflow = load(path.name)
        written = [step.get("uses", "").split("@")[0] for step in job_steps(workflow)]
        assert "actions/setup-python" not in written and "actions/cache" not in written, f"{path.name} sets up Python or a cache itself"
        assert PREPARE in written, f"{path.name} does not use {PREPARE}"
        assert "apt-get" not in "\n".join(step.get("run", "") for step in job_steps(workflow))


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_every_action_is_pinned(path: Path) -> None:
    """Every `uses:` names a full version tag or a commit SHA, never a branch or a major tag."""
    workflow = load(path.name)
    used = uses(workflow)
    assert used, f"{path.name} uses no action"
    unpinned = [ref for ref in used if not ref.startswith("./") and not PINNED.match(ref)]
    assert not unpinned, f"{path.name}: not pinned to vX.Y.Z or a 40-hex SHA: {unpinned}"


def test_test_workflow() -> None:
    """Pull requests and pushes to main: tests, the site as an artifact, a claims summary on pull requests, read-only token."""
    workflow = load("test.yml")
    on = triggers(workflow)
    assert "pull_request" in on
    assert on["push"]["branches"] == ["main"]
    assert set(on["push"]["paths"]) >= PAGES_PATHS, f"missing paths: {PAGES_PATHS - set(on['push']['paths'])}"
    assert workflow["permissions"] == {"contents": "read"}
    for job in workflow["jobs"].values():
        assert job.get("permissions", {"contents": "read"}) == {"contents": "read"}
    prepare = next(step for step in job_steps(workflow) if step.get("uses") == PREPARE)
    assert prepare["with"]["chromium"] == "true"
    scripts = runs(workflow)
    assert "make test" in scripts
    assert "make site" in scripts
    assert "apt-get install" in scripts and "chromium" in scripts
    assert "GITHUB_STEP_SUMMARY" in scripts and "build_report.py diff --against" in scripts
    summary = next(step for step in steps(workflow) if "GITHUB_STEP_SUMMARY" in step.get("run", ""))
    assert "github.event_name == 'pull_request'" in summary["if"]
    uploads = {
        step["with"]["name"]: step["with"]["path"].rstrip("/") for step in steps(workflow) if step.get("uses", "").startswith("actions/upload-artifact@")
    }
    assert uploads == {"site": "site", "screenshots": "test-output/screenshots"}
    python = step_using(workflow, "actions/setup-python")["with"]
    assert str(python["python-version"]) == "3.11"
    assert python["cache"] == "pip"
    assert "requirements-dev.lock" in python["cache-dependency-path"]
    cache_step = step_using(workflow, "actions/cache")
    cache = cache_step["with"]
    assert cache["path"].split() == [".cache/charts", "~/.cache/claimsite"]  # the renders, and the key that sealed them
    assert all(part in cache["key"] for part in ("hashFiles(", "data/**", "templates/**", "claimsite/**", ".lock"))
    assert cache["restore-keys"].strip()
    assert cache_step["if"] == "${{ inputs.chart-cache == 'true' }}"


def test_the_published_build_trusts_no_cache_another_run_wrote() -> None:
    prepare = next(step for step in job_steps(load("pages.yml")) if step.get("uses") == PREPARE)
    assert prepare["with"]["chart-cache"] == "false"


def test_pages_triggers() -> None:
    """Pages: a passed run of the test workflow on main, and manual runs; never a pull request's run."""
    workflow = load("pages.yml")
    on = triggers(workflow)
    assert "workflow_dispatch" in on
    assert "push" not in on, "Pages would test the same commit again"
    run = on["workflow_run"]
    assert run["workflows"] == [load("test.yml")["name"]]
    assert run["types"] == ["completed"] and run["branches"] == ["main"]
    condition = workflow["jobs"]["build"]["if"]
    assert "github.event.workflow_run.conclusion == 'success'" in condition
    assert "github.event.workflow_run.event == 'push'" in condition


def test_pages_permissions_and_concurrency() -> None:
    """Pages: no default permissions, least privilege per job, deployments never cancelled."""
    workflow = load("pages.yml")
    assert workflow["permissions"] == {}
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    jobs = workflow["jobs"]
    assert set(jobs) == {"build", "deploy"}
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_pages_jobs() -> None:
    """Pages: build the tested commit for the published URL, then deploy; the tests are not run again."""
    workflow = load("pages.yml")
    jobs = workflow["jobs"]
    assert "make test" not in runs(workflow)
    assert jobs["deploy"]["needs"] in ("build", ["build"])
    build = {"jobs": {"build": jobs["build"]}}
    checkout = step_using(build, "actions/checkout")["with"]
    assert "github.event.workflow_run.head_sha" in checkout["ref"]
    assert step_using(build, "actions/configure-pages")["id"] == "pages"
    script = runs(build)
    assert "make site" in script
    assert "SOURCE_DATE_EPOCH" in script and "git log -1 --format=%ct" in script
    site_url = [step for step in steps(build) if "SITE_URL=" in step.get("run", "")]
    assert len(site_url) == 1 and "make site" in site_url[0]["run"]
    assert "steps.pages.outputs.base_url" in yaml.safe_dump(site_url[0])
    assert step_using(build, "actions/upload-pages-artifact")["with"]["path"] == "site"
    deploy = jobs["deploy"]
    assert deploy["environment"]["name"] == "github-pages"
    assert "steps.deployment.outputs.page_url" in deploy["environment"]["url"]
    assert step_using({"jobs": {"deploy": deploy}}, "actions/deploy-pages")["id"] == "deployment"
