"""Build the site with MkDocs into a temporary folder, then swap it in: the only module that writes the site."""

from __future__ import annotations

import filecmp
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from report import mkdocs_hooks
from report.build import Generated
from report.errors import ReportError


class _WarningCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def source_date_epoch(root: Path) -> str:
    """The time the build stamps into the site: SOURCE_DATE_EPOCH, else the last commit's time."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return os.environ["SOURCE_DATE_EPOCH"]
    try:
        stamp = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=root, capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        stamp = ""
    return stamp or "0"


def mkdocs_build(root: Path, generated: Generated, site_dir: Path, site_url: str | None = None) -> None:
    """Run a strict MkDocs build of the generated site into ``site_dir``."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    os.environ["SOURCE_DATE_EPOCH"] = source_date_epoch(root)
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    counter = _WarningCounter()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(counter)
    mkdocs_hooks.preloaded = generated
    try:
        overrides = {"site_dir": str(site_dir), "strict": True}
        if site_url is not None:
            overrides["site_url"] = site_url
        config = load_config(config_file=str(root / "mkdocs.yml"), **overrides)
        build(config)
    except (Abort, ConfigurationError) as error:
        raise ReportError.at(
            "mkdocs.yml", f"MkDocs stopped the build: {error}", found="\n    ".join(counter.messages) or None, fix="fix each warning above"
        ) from None
    finally:
        mkdocs_hooks.preloaded = None
        logger.removeHandler(counter)


def publish(root: Path, generated: Generated, site_dir: Path, site_url: str | None = None) -> list[str]:
    """Build into a temporary folder and swap it in; ``site_dir`` is untouched unless every step succeeds.

    Files whose bytes did not change keep the old file (and its timestamp). Returns the changed paths.
    """
    site_dir = site_dir.resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}-new-", dir=site_dir.parent))
    try:
        mkdocs_build(root, generated, staging, site_url)
        changed = _keep_unchanged(site_dir, staging)
        _swap(staging, site_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return changed


def _keep_unchanged(old: Path, new: Path) -> list[str]:
    """Replace each new file that equals the old one by a link to the old one, keeping its timestamp."""
    changed = []
    for path in sorted(p for p in new.rglob("*") if p.is_file()):
        relative = path.relative_to(new)
        previous = old / relative
        if previous.is_file() and filecmp.cmp(previous, path, shallow=False):
            path.unlink()
            try:
                os.link(previous, path)
            except OSError:
                shutil.copy2(previous, path)
        else:
            changed.append(relative.as_posix())
    return changed


def _swap(staging: Path, site_dir: Path) -> None:
    """Put the new site in place with renames, so no reader sees half a site."""
    retired = site_dir.with_name(f".{site_dir.name}-old")
    shutil.rmtree(retired, ignore_errors=True)
    if site_dir.exists():
        site_dir.rename(retired)
    staging.rename(site_dir)
    shutil.rmtree(retired, ignore_errors=True)
