"""What the build keeps between runs is trusted only if this user's builds wrote it: every entry is sealed.

A cache under ``.cache/`` lives in the project, where anyone who can write the project (a pull request, an
archive, a restored CI cache) can write it too. So each entry is sealed with an HMAC under a key kept outside
the project, readable by this user alone (``$XDG_CACHE_HOME/claimsite/key``, else ``~/.cache/claimsite/key``).
An entry whose seal does not match (written by someone else, changed since, cut short, or from a machine with
another key) is not read: the build makes it again. Nothing executable is ever read from a cache: entries are
data (chart drawings, JSON, DuckDB tables), never pickled objects or compiled code.

Where no key can be kept (a home folder that cannot be written), a key lives for the process only: every cache is
then made anew, which costs time, never truth.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path

MAGIC = b"report-site sealed 1\n"
DIGEST = hashlib.sha256().digest_size


def key_file() -> Path:
    """Where this user's key is kept: outside any project."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claimsite" / "key"


@functools.cache
def _key(path: str) -> bytes:
    """This user's key, made the first time (readable by this user alone); a key for this process if none can be kept."""
    file = Path(path)
    with contextlib.suppress(OSError):
        if file.is_file() and file.stat().st_size == 32 and (file.stat().st_mode & 0o077) == 0 and file.stat().st_uid == os.getuid():
            return file.read_bytes()
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = secrets.token_bytes(32)
        partial = file.with_name(f"key.{os.getpid()}.tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(fresh)
        try:
            os.link(partial, file)  # the first build to make a key wins; the others read it
        except FileExistsError:
            pass
        finally:
            partial.unlink(missing_ok=True)
        kept = file.read_bytes()
        if len(kept) == 32:
            return kept
    return secrets.token_bytes(32)


def key() -> bytes:
    return _key(str(key_file()))


def seal(content: bytes, what: str) -> bytes:
    """``content`` with a seal that binds it to ``what`` (the entry's name), for writing to a cache."""
    return MAGIC + _mac(content, what) + content


def unseal(sealed: bytes, what: str) -> bytes | None:
    """The content of a sealed entry named ``what``, or None if this user's builds did not write it so."""
    if not sealed.startswith(MAGIC) or len(sealed) < len(MAGIC) + DIGEST:
        return None
    mac, content = sealed[len(MAGIC) : len(MAGIC) + DIGEST], sealed[len(MAGIC) + DIGEST :]
    return content if hmac.compare_digest(mac, _mac(content, what)) else None


def file_seal(path: Path, what: str) -> bytes:
    """A seal of a file's bytes (a DuckDB database cannot hold its own), to keep beside it."""
    return MAGIC + _mac(_digest(path), what)


def file_sealed(path: Path, seal_path: Path, what: str) -> bool:
    """Whether the file beside ``seal_path`` is as this user's build wrote it."""
    try:
        kept = seal_path.read_bytes()
        return hmac.compare_digest(kept, file_seal(path, what))
    except OSError:
        return False


def _mac(content: bytes, what: str) -> bytes:
    return hmac.new(key(), what.encode() + b"\0" + content, hashlib.sha256).digest()


def _digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.digest()
