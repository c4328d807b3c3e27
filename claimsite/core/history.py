"""The project's history in git: which earlier version the site compares with, read without importing the build's libraries."""

from __future__ import annotations

import subprocess
from pathlib import Path

INPUTS = ("data", "templates/reports")


def git_bytes(root: Path, *args: str) -> bytes | None:
    """The output of a git command in the project, as bytes (None when git fails or is missing)."""
    try:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def git(root: Path, *args: str) -> str | None:
    """The output of a git command in the project, as text (None when git fails or is missing)."""
    output = git_bytes(root, *args)
    return output.decode().strip() if output is not None else None


def baseline_ref(root: Path) -> str | None:
    """The version the site's 'What changed' page compares with.

    With uncommitted changes to the data or report specs, it is the last commit; otherwise the
    commit before the last one that changed them. None outside a git checkout or without history.
    """
    if git(root, "rev-parse", "--verify", "-q", "HEAD") is None:
        return None
    dirty = git(root, "status", "--porcelain", "--", *INPUTS)
    if dirty:
        return git(root, "rev-parse", "HEAD")
    last = git(root, "log", "-1", "--format=%H", "--", *INPUTS)
    if not last:
        return None
    return git(root, "rev-parse", "--verify", "-q", f"{last}^")


def describe_ref(root: Path, ref: str) -> str:
    """A version in words: its short commit and date."""
    described = git(root, "show", "-s", "--format=%h of %cs", ref)
    return f"the version {described}" if described else f"version {ref}"
