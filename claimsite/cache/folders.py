"""Every cache a build keeps in the project, in one place: its folder under ``.cache/``, what it holds, its size, and
how to see it (``claimsite cache info``), empty it (``claimsite cache clear``) or keep it under ``REPORT_CACHE_MB``."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from claimsite.core.project import CACHE, cache_folder

KINDS = MappingProxyType(
    {
        "charts": "drawn charts (SVG, PNG and Vega), by the hash of their spec and of the drawing engine",
        "claims": "the claims of earlier versions of the data, by commit and engine",
        "data": "large data files loaded into DuckDB, by the file's content, descriptor and engine",
        "builds": "the record of the last build into each site folder, which lets a build with nothing to do stop at once",
    }
)
PRUNED = ("charts", "claims", "data")  # made again when needed; the record of the last build is tiny and kept


@dataclass(frozen=True)
class Kept:
    """One kind of cache as it is on disk."""

    kind: str
    what: str
    folder: Path
    files: int
    size: int


def info(root: Path) -> list[Kept]:
    """Each kind of cache, then anything else under ``.cache/`` (left by an earlier version of the engine)."""
    kept = [_measure(kind, what, cache_folder(root, kind)) for kind, what in KINDS.items()]
    top = root / CACHE
    others = sorted(p for p in top.iterdir() if p.name not in KINDS) if top.is_dir() and not top.is_symlink() else []
    kept += [_measure(p.name, "not made by this version of the engine", p) for p in others]
    return kept


def clear(root: Path) -> int:
    """Remove the project's ``.cache/`` (a link to elsewhere is removed as a link, never followed); the bytes freed."""
    top = root / CACHE
    freed = sum(k.size for k in info(root))
    if top.is_symlink() or top.is_file():
        top.unlink()
    elif top.is_dir():
        shutil.rmtree(top)
    return freed


def prune(root: Path, limit_bytes: int) -> int:
    """Keep the caches under ``limit_bytes``: remove the entries used longest ago (charts, claims and data stores are made
    again when needed). The bytes freed."""
    entries = [(stat.st_mtime, stat.st_size, path) for kind in PRUNED for path, stat in _entries(cache_folder(root, kind))]
    total = sum(size for _, size, _ in entries)
    freed = 0
    for _, size, path in sorted(entries, key=lambda entry: entry[0]):
        if total - freed <= limit_bytes:
            break
        with contextlib.suppress(OSError):
            path.unlink()
            freed += size
    return freed


def used(path: Path) -> None:
    """Mark a cache entry as used now, so that pruning keeps it longest."""
    with contextlib.suppress(OSError):
        os.utime(path)


def _measure(kind: str, what: str, folder: Path) -> Kept:
    sizes = [stat.st_size for _, stat in _entries(folder)]
    return Kept(kind, what, folder, len(sizes), sum(sizes))


def _entries(folder: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every file under a cache folder, with its size and time; a link is never followed."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_symlink():
                yield path, path.stat()
