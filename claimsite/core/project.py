"""A project's parts and the paths under ``.cache/``, owned here; a leaf module, so the up-to-date check loads nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claimsite.core.errors import ReportError

GENERATED_BY = "claimsite"
CACHE = ".cache"


def cache_folder(root: Path, what: str) -> Path:
    """The folder under ``.cache/`` for one kind of kept work: charts, claims, data, builds, templates."""
    return root / CACHE / what


@dataclass(frozen=True)
class Project:
    """Where a project keeps its parts, relative to its root folder; its drawn charts and the claims of earlier versions
    under ``caches`` if given (a folder of one's own), else under the project's ``.cache/``."""

    root: Path
    caches: Path | None = None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def cache(self) -> Path:
        """Chart renders, by the hash of their spec."""
        return self.caches / "charts" if self.caches is not None else cache_folder(self.root, "charts")

    @property
    def claims_cache(self) -> Path:
        """The claims of earlier versions of the data, by commit."""
        return self.caches / "claims" if self.caches is not None else cache_folder(self.root, "claims")

    def report_specs(self) -> list[Path]:
        """Every report spec, in a stable order; a spec saved as .yml would be silently skipped, so it is an error."""
        misnamed = sorted((self.templates / "reports").glob("*.yml"))
        if misnamed:
            shown = f"templates/reports/{misnamed[0].name}"
            raise ReportError.at(shown, "a report spec must end in .yaml", expected=shown.removesuffix(".yml") + ".yaml", found=shown, fix="rename the file")
        return sorted((self.templates / "reports").glob("*.yaml"))
