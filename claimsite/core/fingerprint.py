"""What this engine is: its own code and the versions of the libraries it runs, the ingredient of every cache key.

A leaf module: the up-to-date check reads it without importing the build's libraries.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # the engine's package folder, every subpackage included


@functools.cache
def library_versions() -> str:
    """Python's version and every library installed where the engine runs, by name and version, one per line (looked
    up once per process, from the names of their metadata folders: no library's metadata is read). A new release of
    any library the engine requires, directly or through another, changes every cache key; so, to be safe, does any
    other library installed or upgraded beside it."""
    names: set[str] = set()
    for folder in sys.path:
        with contextlib.suppress(OSError):
            names.update(entry.name for entry in os.scandir(folder or ".") if entry.name.endswith((".dist-info", ".egg-info")))
    return "".join(f"{name}\n" for name in sorted(names)) + f"python={sys.version}\n"


def digest_of(folder: Path, versions: str) -> str:
    """A digest of every file under ``folder`` (but compiled bytecode) and of ``versions``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(versions.encode())
    return digest.hexdigest()


@functools.cache
def code_version() -> str:
    """A digest of the engine this process builds with: every file of the package (its code, theme, assets and default
    templates; read once per process) and its libraries' versions."""
    return digest_of(PACKAGE, library_versions())
