"""What this engine is: its own code and the versions of the libraries it runs, the ingredient of every cache key.

A leaf module: the up-to-date check reads it without importing the build's libraries.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # the engine's package folder, every subpackage included
PACKAGES = (
    "mkdocs",
    "mkdocs-material",
    "markdown",
    "pymdown-extensions",
    "altair",
    "vl-convert-python",
    "rjsmin",
    "rcssmin",
    "pandas",
    "frictionless",
    "jinja2",
    "markupsafe",
    "pyyaml",
    "duckdb",
    "pydantic",
    "numpy",
    "sqlglot",
)


@functools.cache
def library_versions() -> str:
    """The versions of Python and of the libraries a build runs, one per line (looked up once per process)."""
    lines = []
    for package in PACKAGES:
        try:
            lines.append(f"{package}={metadata.version(package)}\n")
        except metadata.PackageNotFoundError:
            lines.append(f"{package}=none\n")
    return "".join(lines) + f"python={sys.version}\n"


@functools.cache
def code_version() -> str:
    """A digest of the engine this process builds with: every file of the package (its code, theme, assets and default
    templates; read once per process) and its libraries' versions."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(library_versions().encode())
    return digest.hexdigest()
