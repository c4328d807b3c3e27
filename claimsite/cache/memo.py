"""Work kept within one process for inputs seen before: the live preview's rebuilds (and the tests) redo only what changed.

A result is kept pickled, so that every caller (the first one too) gets its own copy to change, and found again by the
digest of its inputs pickled, so that inputs are not kept alive. Only the last results are kept, and none larger than
KEEP_BYTES pickled: memory stays bounded however long the preview runs.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

T = TypeVar("T")
KEEP_BYTES = 512 * 1024
_UNPICKLABLE = (pickle.PicklingError, TypeError, AttributeError)


@dataclass
class _Kept:
    result: bytes | None = None


@functools.lru_cache(maxsize=128)
def _kept(digest: bytes) -> _Kept:
    return _Kept()


def remembered(what: str, inputs: object, make: Callable[[], T], keep: Callable[[], bool] = lambda: True) -> T:
    """``make()``, or a copy of what it returned before for the same ``what`` (the kind of result, e.g. "dataset") and equal
    ``inputs`` in this process; kept only if ``keep()`` says so once it is made (e.g. the file it read did not change
    meanwhile). Inputs or results that cannot be pickled: made anew."""
    try:
        digest = hashlib.sha256(pickle.dumps((what, inputs), protocol=5)).digest()
    except _UNPICKLABLE:
        return make()
    kept = _kept(digest)
    if kept.result is None:
        made = make()
        try:
            result = pickle.dumps(made, protocol=5)
        except _UNPICKLABLE:
            return made
        if len(result) > KEEP_BYTES or not keep():
            return made
        kept.result = result
    return cast(T, pickle.loads(kept.result))


def forget() -> None:
    """Keep nothing made so far (a test that must see every step done anew)."""
    _kept.cache_clear()
