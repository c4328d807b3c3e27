"""What changed: compare two claims documents, and find the claims of an earlier version in git."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from claimsite.cache import keeper
from claimsite.claims.check import current_claims
from claimsite.core.errors import ReportError
from claimsite.core.fingerprint import code_version
from claimsite.core.history import git, git_bytes
from claimsite.core.numbers import NumberFormat
from claimsite.core.project import Project
from claimsite.core.schema import validate


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
    reports_added: list[tuple[str, int]] = field(default_factory=list)  # a whole report, by slug, with its number of claims
    reports_removed: list[tuple[str, int]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.moved, self.reworded, self.failing, self.added, self.removed, self.reports_added, self.reports_removed))


def _cells(document: dict[str, Any]) -> dict[tuple[str, str], tuple[str, float, str, str]]:
    """Every data cell the claims read, by dataset and row key (so that an inserted row moves nothing): label, value, unit, place."""
    cells = {}
    for claim in _claims(document).values():
        for value in claim.get("values", {}).values():
            sources = value.get("sources", [])
            source = sources[0] if len(sources) == 1 else {}
            place = next((f"{unit} {source[unit]}" for unit in ("line", "row") if isinstance(source.get(unit), int)), None)
            if place and "file" in source and value.get("unit") != "points":  # one cell of a data file
                key = (source.get("dataset", source["file"]), source.get("key") or place)
                cells[key] = (value["label"], value["value"], value["unit"], f"{source['file']}, {place}")
    return cells


def _claims(document: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """The claims of a claims.json document by report and id."""
    claims = document.get("claims") if isinstance(document, dict) else None
    if not isinstance(claims, list):
        raise ReportError.at("claims.json", "not a claims document", expected='{"claims": [...]}', found=type(document).__name__)
    return {(str(c.get("report", "")), str(c["id"])): c for c in claims}


class _Record(BaseModel):
    """The part of a claims.json record that a comparison reads (other keys are ignored: files of older builds compare too)."""

    model_config = ConfigDict(extra="ignore")


class _Source(_Record):
    file: str = ""
    line: int | None = None
    dataset: str = ""
    key: str = ""


class _Value(_Record):
    label: str
    value: float
    unit: str
    sources: list[_Source] = []


class _Claim(_Record):
    id: str
    report: str = ""
    sentence: str
    status: str
    values: dict[str, _Value] = {}


class ClaimsFile(_Record):
    """A claims.json document, as the build publishes it."""

    claims: list[_Claim]


def load_json(path: Path) -> Any:
    """A claims.json file, with a located error when it is missing, does not parse or is not a claims document."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ReportError.at(path, f"cannot read the file: {error.strerror}", fix="give the path of a claims.json file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReportError.at(path, f"not valid JSON: {error}", line=getattr(error, "lineno", None), column=getattr(error, "colno", None)) from None
    validate(ClaimsFile, document, str(path))
    return document


def compare(old: dict[str, Any], new: dict[str, Any]) -> Changes:
    """Numbers moved, sentences reworded, assertions failing, claims added or removed."""
    before, after = _claims(old), _claims(new)
    old_reports, new_reports = {r for r, _ in before}, {r for r, _ in after}
    changes = Changes(
        added=[i for r, i in sorted(set(after) - set(before)) if r in old_reports],
        removed=[i for r, i in sorted(set(before) - set(after)) if r in new_reports],
        reports_added=[(r, sum(1 for k in after if k[0] == r)) for r in sorted(new_reports - old_reports)],
        reports_removed=[(r, sum(1 for k in before if k[0] == r)) for r in sorted(old_reports - new_reports)],
    )
    old_cells, new_cells = _cells(old), _cells(new)
    for key in sorted(set(old_cells) & set(new_cells)):
        (label, was, unit, _), (_, now, _, place) = old_cells[key], new_cells[key]
        if was != now:
            changes.moved.append(Moved(place, label, was, now, unit))
    for key, claim in after.items():
        if claim.get("status") == "fails":
            changes.failing.append(claim)
        previous = before.get(key)
        if previous is not None and _wording(previous["sentence"]) != _wording(claim["sentence"]):
            changes.reworded.append((key[1], previous["sentence"], claim["sentence"]))
    return changes


def _wording(sentence: str) -> str:
    """A sentence with its numbers blanked: what is left is its wording."""
    return re.sub(r"\d[\d,.]*", "#", sentence)


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
            fmt = NumberFormat(moved.unit)
            before, after, change = fmt.text(moved.old), fmt.text(moved.new), fmt.difference().text(moved.delta, signed=True)
            parts.append(f"| {_cell(moved.label)} | {_cell(moved.where)} | {before} | {after} | {change} |")
        parts.append("")
    if changes.reworded:
        parts.append(f"{heading} Claims that changed wording\n")
        for claim_id, before, after in changes.reworded:
            parts.append(f"- **{_cell(claim_id)}**\n    - before: {_cell(before)}\n    - after: {_cell(after)}")
        parts.append("")
    if changes.added or changes.removed or changes.reports_added or changes.reports_removed:
        parts.append(f"{heading} Claims added or removed\n")
        parts += [f"- report added: **{_cell(slug)}** ({count} claim{'s' * (count != 1)})" for slug, count in changes.reports_added]
        parts += [f"- report removed: **{_cell(slug)}** ({count} claim{'s' * (count != 1)})" for slug, count in changes.reports_removed]
        parts += [f"- added: **{_cell(c)}**" for c in changes.added]
        parts += [f"- removed: **{_cell(c)}**" for c in changes.removed]
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"


def claims_at(root: Path, ref: str, cache: Path | None = None) -> dict[str, Any] | None:
    """The claims document of the data and report specs at a git ref, computed with today's code."""
    commit = git(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
    if not commit:
        raise ReportError.at(".", f"git does not know the version {ref!r}", expected="a commit, branch or tag", found=ref)
    name = f"{commit}-{code_version()[:16]}.json"  # the claims of that data, computed by this code
    cached = cache / name if cache else None
    kept = _kept(cached, name) if cached else None
    if kept is not None:
        return kept
    archive = git_bytes(root, "archive", "--format=tar", commit, "--", "data", "templates")
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
        with contextlib.suppress(OSError):  # a cache that cannot be written costs the next build this work again
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_name(f".{name}.{os.getpid()}.tmp")
            partial.write_bytes(keeper.seal(json.dumps(document, sort_keys=True).encode(), f"claims {name}"))
            partial.replace(cached)
    return document


def _kept(cached: Path, name: str) -> dict[str, Any] | None:
    """The claims document kept for a version, if this user's build sealed it (else None: computed again)."""
    try:
        content = keeper.unseal(cached.read_bytes(), f"claims {name}")
        document = json.loads(content) if content is not None else None
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None
