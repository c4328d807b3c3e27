"""Whether site/ is already the build of the current inputs, decided without importing the build's libraries."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
from pathlib import Path

from claimsite.cache import keeper
from claimsite.core.fingerprint import code_version
from claimsite.core.project import cache_folder

INPUT_FOLDERS = ("data", "templates", "docs")
INPUT_FILES = ("mkdocs.yml",)


def source_date_epoch(root: Path) -> str:
    """The time the build stamps into the site: SOURCE_DATE_EPOCH, else the last commit's time."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return os.environ["SOURCE_DATE_EPOCH"]
    try:
        stamp = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=root, capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        stamp = ""
    return stamp or "0"


def _inputs(root: Path) -> list[Path]:
    files = [root / name for name in INPUT_FILES if (root / name).is_file()]
    for folder in INPUT_FOLDERS:
        files += [p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return sorted(files)


def build_key(root: Path, site_url: str | None, publisher: str = "mkdocs") -> str:
    """A hash of everything a build reads: the project's inputs, the engine's code and libraries, URL, timestamp and compared version."""
    from claimsite.core.history import baseline_ref

    digest = hashlib.sha256()
    for path in _inputs(root):
        try:
            content = path.read_bytes()
        except OSError:
            content = os.urandom(16)  # unreadable: never up to date, and the build says which file and why
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + content + b"\0")
    digest.update(f"code={code_version()}\npublisher={publisher}\nurl={site_url}\nepoch={source_date_epoch(root)}\nbaseline={baseline_ref(root)}\n".encode())
    return digest.hexdigest()


def _manifest(site_dir: Path) -> dict[str, str]:
    """Every file of the site by the digest of its bytes (a file edited with its size and time put back is still seen)."""
    return {p.relative_to(site_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(site_dir.rglob("*")) if p.is_file()}


def _state_file(root: Path, site_dir: Path) -> Path:
    name = hashlib.sha256(str(site_dir.resolve()).encode()).hexdigest()[:16]
    return cache_folder(root, "builds") / f"{name}.json"


def up_to_date(root: Path, site_dir: Path, key: str) -> bool:
    """Whether the last build into ``site_dir`` had this key and the site has not been touched since."""
    state = _state_file(root, site_dir)
    if not site_dir.is_dir() or not state.is_file():
        return False
    try:
        content = keeper.unseal(state.read_bytes(), "build state")
        recorded = json.loads(content) if content is not None else {}
        return bool(isinstance(recorded, dict) and recorded.get("key") == key and recorded.get("site") == _manifest(site_dir))
    except (OSError, ValueError):
        return False


def record(root: Path, site_dir: Path, key: str) -> None:
    """Remember the key of the build just published into ``site_dir``."""
    state = _state_file(root, site_dir)
    with contextlib.suppress(OSError):  # not remembered: the next build runs in full
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_bytes(keeper.seal(json.dumps({"key": key, "site": _manifest(site_dir)}, sort_keys=True).encode(), "build state"))
