"""Build the site with MkDocs into a temporary folder, then swap it in: the only module that writes the site."""

from __future__ import annotations

import ctypes
import errno
import filecmp
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from claimsite.cache.uptodate import source_date_epoch
from claimsite.core.errors import ReportError
from claimsite.pages.render import Generated
from claimsite.site.folder import MARKER, MARKER_TEXT, check_site_dir, retired, site_lock, write_error
from claimsite.site.plugin import Session, load_project_config


class _WarningCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def mkdocs_build(root: Path, generated: Generated, site_dir: Path, site_url: str | None = None) -> None:
    """Run a strict MkDocs build of the generated site into ``site_dir``."""
    from mkdocs.commands.build import build
    from mkdocs.exceptions import Abort, ConfigurationError

    saved = {name: os.environ.get(name) for name in ("SOURCE_DATE_EPOCH", "NO_MKDOCS_2_WARNING")}
    os.environ["SOURCE_DATE_EPOCH"] = source_date_epoch(root)  # MkDocs stamps the sitemap with it
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    counter = _WarningCounter()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(counter)
    try:
        options: dict[str, Any] = {"site_dir": str(site_dir), "strict": True, **({"site_url": site_url} if site_url is not None else {})}
        build(load_project_config(root, Session(preloaded=generated), **options))
    except (Abort, ConfigurationError) as error:
        raise ReportError.at(
            "mkdocs.yml", f"MkDocs stopped the build: {error}", found="\n    ".join(counter.messages) or None, fix="fix each warning above"
        ) from None
    finally:
        logger.removeHandler(counter)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


PUBLISHERS = ("mkdocs", "zensical")


def publish(root: Path, generated: Generated, site_dir: Path, site_url: str | None = None, publisher: str = "mkdocs") -> list[str]:
    """Build into a temporary folder with ``publisher`` (MkDocs, or Zensical) and swap it in; ``site_dir`` is untouched
    unless every step succeeds.

    Files whose bytes did not change keep the old file (and its timestamp). Returns the changed paths.
    """
    site_dir = check_site_dir(root, site_dir)
    with site_lock(site_dir):
        return _publish(root, generated, site_dir, site_url, publisher)


def _publish(root: Path, generated: Generated, site_dir: Path, site_url: str | None, publisher: str) -> list[str]:
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}-new-", dir=site_dir.parent))
    except OSError as error:
        raise write_error(error, site_dir) from None
    try:
        if publisher == "zensical":
            from claimsite.site.zensical import zensical_build

            zensical_build(root, generated, staging, site_url, source_date_epoch(root))
        else:
            mkdocs_build(root, generated, staging, site_url)
        (staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        changed = _keep_unchanged(site_dir, staging)
        _readable(staging)
        _swap(staging, site_dir)
    except OSError as error:
        raise write_error(error, site_dir) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return changed


def _readable(folder: Path) -> None:
    """Folders 0755 and files 0644, whatever the umask: a web server running as another user must read the site."""
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


def _keep_unchanged(old: Path, new: Path) -> list[str]:
    """Replace each new file that equals the old one by a link to the old one, keeping its timestamp."""
    changed = []
    for path in sorted(p for p in new.rglob("*") if p.is_file()):
        relative = path.relative_to(new)
        previous = old / relative
        if previous.is_file() and not previous.is_symlink() and filecmp.cmp(previous, path, shallow=False):
            path.unlink()
            try:
                os.link(previous, path)
            except OSError:
                shutil.copy2(previous, path)
        else:
            changed.append(relative.as_posix())
    return changed


def _exchange(new: Path, old: Path) -> bool:
    """Swap two folders in one step (Linux renameat2 with RENAME_EXCHANGE); False where the system cannot."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(new), at_fdcwd, os.fsencode(old), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(old))


def _swap(staging: Path, site_dir: Path) -> None:
    """Put the new site in place so that the old or the new one is always there: one exchange, or two renames undone by _recover."""
    if not site_dir.exists():
        staging.rename(site_dir)
        return
    if _exchange(staging, site_dir):
        return  # staging now holds the old site, removed by the caller
    old = retired(site_dir)
    shutil.rmtree(old, ignore_errors=True)
    site_dir.rename(old)
    staging.rename(site_dir)
    shutil.rmtree(old, ignore_errors=True)
