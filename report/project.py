"""A project's parts and the paths under ``.cache/`` (owned here), and the claims its data and specs make now."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from report.errors import ReportError

if TYPE_CHECKING:
    from report.claims import Claim
    from report.spec import Report

GENERATED_BY = "build_report.py"
CACHE = ".cache"


def cache_folder(root: Path, what: str) -> Path:
    """The folder under ``.cache/`` for one kind of kept work: charts, claims, data, builds, duckdb-spill."""
    return root / CACHE / what


@dataclass(frozen=True)
class Project:
    """Where a project keeps its parts, relative to its root folder."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def cache(self) -> Path:
        """Chart renders, by the hash of their spec."""
        return cache_folder(self.root, "charts")

    @property
    def claims_cache(self) -> Path:
        """The claims of earlier versions of the data, by commit."""
        return cache_folder(self.root, "claims")

    def report_specs(self) -> list[Path]:
        """Every report spec, in a stable order; a spec saved as .yml would be silently skipped, so it is an error."""
        misnamed = sorted((self.templates / "reports").glob("*.yml"))
        if misnamed:
            shown = f"templates/reports/{misnamed[0].name}"
            raise ReportError.at(shown, "a report spec must end in .yaml", expected=shown.removesuffix(".yml") + ".yaml", found=shown, fix="rename the file")
        return sorted((self.templates / "reports").glob("*.yaml"))


def current_claims(project: Project) -> dict[str, Any]:
    """The claims document of a project's data and specs, failing assertions included; renders nothing."""
    # The build's libraries load only when claims are computed: the paths above serve the up-to-date check too.
    from report.claims import evaluate_all
    from report.data import load_package
    from report.spec import load_report

    root = project.root.resolve()
    datasets = load_package(project.data, root)
    reports = [load_report(path.resolve(), datasets, root) for path in project.report_specs()]
    return claims_document([(report, evaluate_all(report, strict=False)) for report in reports])


def claims_document(reports: list[tuple[Report, dict[str, Claim]]]) -> dict[str, Any]:
    """Every claim of the site, for machines: what it says, whether it holds, and what it read."""
    claims = []
    for report, report_claims in reports:
        for claim in report_claims.values():
            claims.append(
                {
                    "id": claim.id,
                    "report": report.slug,
                    "kind": claim.kind,
                    "check": claim.check,
                    "sentence": claim.text,
                    "status": ("holds" if claim.holds else "fails") if claim.kind == "assertion" else "observed",
                    "holds": claim.holds,
                    "page": f"{report.slug}/",
                    "anchor": claim.anchor,
                    "values": {name: number.to_dict() for name, number in claim.numbers().items()},
                }
            )
    return {"generated_by": GENERATED_BY, "claims": claims}
