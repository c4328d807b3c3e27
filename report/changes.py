"""What changed: compare two claims documents, and find the claims of an earlier version in git."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from report.errors import ReportError

INPUTS = ("data", "templates/reports")


@dataclass(frozen=True)
class Moved:
    """A number a claim reads that is not what it was."""

    where: str
    label: str
    old: float
    new: float
    unit: str

    @property
    def delta(self) -> float:
        return round(self.new - self.old, 6)


@dataclass
class Changes:
    """The differences between two claims documents."""

    moved: list[Moved] = field(default_factory=list)
    reworded: list[tuple[str, str, str]] = field(default_factory=list)
    failing: list[dict[str, Any]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.moved, self.reworded, self.failing, self.added, self.removed))


def _cells(document: dict[str, Any]) -> dict[tuple[str, int], tuple[str, float, str]]:
    """Every data cell the claims read, by file and line: its label, value and unit."""
    cells = {}
    for claim in document.get("claims", []):
        for value in claim.get("values", {}).values():
            sources = value.get("sources", [])
            if len(sources) == 1 and value["unit"] != "points":
                cells[(sources[0]["file"], sources[0]["line"])] = (value["label"], value["value"], value["unit"])
    return cells


def compare(old: dict[str, Any], new: dict[str, Any]) -> Changes:
    """Numbers moved, sentences reworded, assertions failing, claims added or removed."""
    before = {c["id"]: c for c in old.get("claims", [])}
    after = {c["id"]: c for c in new.get("claims", [])}
    changes = Changes(added=sorted(set(after) - set(before)), removed=sorted(set(before) - set(after)))
    old_cells, new_cells = _cells(old), _cells(new)
    for key in sorted(set(old_cells) & set(new_cells)):
        (label, was, unit), (_, now, _) = old_cells[key], new_cells[key]
        if was != now:
            changes.moved.append(Moved(f"{key[0]}, line {key[1]}", label, was, now, unit))
    for claim_id, claim in after.items():
        if claim.get("status") == "fails":
            changes.failing.append(claim)
        previous = before.get(claim_id)
        if previous is not None and _wording(previous["sentence"]) != _wording(claim["sentence"]):
            changes.reworded.append((claim_id, previous["sentence"], claim["sentence"]))
    return changes


def _wording(sentence: str) -> str:
    """A sentence with its numbers blanked: what is left is its wording."""
    return re.sub(r"\d[\d,.]*", "#", sentence)


def _number(value: float, unit: str) -> str:
    return f"{value:.1f}%" if unit == "%" else f"{value:.1f} {unit}"


def _table_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(changes: Changes, old_label: str, new_label: str, heading: str = "##", escape: Callable[[str], str] | None = None) -> str:
    """The changes as Markdown, for a page, a pull request summary or a terminal; ``escape`` makes data text inert."""
    _cell = escape or _table_text
    if not changes:
        return f"No claim changed between {old_label} and {new_label}: the same sentences, the same numbers.\n"
    parts = [f"Comparing {old_label} with {new_label}.\n"]
    if changes.failing:
        parts.append(f"{heading} Assertions that now fail\n")
        parts += [f"- **{_cell(c['id'])}**: {_cell(c['sentence'])}" for c in changes.failing]
        parts.append("")
    if changes.moved:
        parts.append(f"{heading} Numbers that moved\n")
        parts.append("| Value | Where | Before | After | Change |\n| --- | --- | ---: | ---: | ---: |")
        for moved in changes.moved:
            sign = "+" if moved.delta > 0 else ""
            before, after = _number(moved.old, moved.unit), _number(moved.new, moved.unit)
            parts.append(f"| {_cell(moved.label)} | {_cell(moved.where)} | {before} | {after} | {sign}{moved.delta:.1f} points |")
        parts.append("")
    if changes.reworded:
        parts.append(f"{heading} Claims that changed wording\n")
        for claim_id, before, after in changes.reworded:
            parts.append(f"- **{_cell(claim_id)}**\n    - before: {_cell(before)}\n    - after: {_cell(after)}")
        parts.append("")
    if changes.added or changes.removed:
        parts.append(f"{heading} Claims added or removed\n")
        parts += [f"- added: **{_cell(c)}**" for c in changes.added]
        parts += [f"- removed: **{_cell(c)}**" for c in changes.removed]
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"


def _git(root: Path, *args: str, binary: bool = False) -> Any:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False, timeout=60)
    if result.returncode != 0:
        return None
    return result.stdout if binary else result.stdout.decode().strip()


def baseline_ref(root: Path) -> str | None:
    """The version the site's 'What changed' page compares with.

    With uncommitted changes to the data or report specs, it is the last commit; otherwise the
    commit before the last one that changed them. None outside a git checkout or without history.
    """
    if _git(root, "rev-parse", "--verify", "-q", "HEAD") is None:
        return None
    dirty = _git(root, "status", "--porcelain", "--", *INPUTS)
    if dirty:
        return _git(root, "rev-parse", "HEAD")
    last = _git(root, "log", "-1", "--format=%H", "--", *INPUTS)
    if not last:
        return None
    return _git(root, "rev-parse", "--verify", "-q", f"{last}^")


def claims_at(root: Path, ref: str, cache: Path | None = None) -> dict[str, Any] | None:
    """The claims document of the data and report specs at a git ref, computed with today's code."""
    from report.build import Project, current_claims

    commit = _git(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
    if not commit:
        raise ReportError.at(".", f"git does not know the version {ref!r}", expected="a commit, branch or tag", found=ref)
    code = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(Path(__file__).parent.glob("*.py")))).hexdigest()[:16]
    cached = cache / f"{commit}-{code}.json" if cache else None
    if cached and cached.is_file():
        return json.loads(cached.read_text(encoding="utf-8"))
    archive = _git(root, "archive", "--format=tar", commit, "--", "data", "templates", binary=True)
    if archive is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        try:
            document = current_claims(Project(Path(folder)))
        except ReportError:
            return None
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(document, sort_keys=True), encoding="utf-8")
    return document


def describe_ref(root: Path, ref: str) -> str:
    """A version in words: its short commit and date."""
    described = _git(root, "show", "-s", "--format=%h of %cs", ref)
    return f"the version {described}" if described else f"version {ref}"
