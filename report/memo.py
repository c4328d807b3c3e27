"""Work kept within one process for inputs seen before: the live preview's rebuilds (and the tests) redo only what changed.

A result is kept pickled, so that each caller gets its own copy to change, and found again by the digest of its inputs
pickled, so that inputs are not kept alive. Only the last results are kept.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

T = TypeVar("T")


@dataclass
class _Kept:
    result: bytes | None = None


@functools.lru_cache(maxsize=256)
def _kept(digest: bytes) -> _Kept:
    return _Kept()


def remembered(inputs: object, make: Callable[[], T]) -> T:
    """``make()``, or a copy of what it returned before for equal ``inputs`` in this process (inputs that cannot be pickled: made anew)."""
    try:
        digest = hashlib.sha256(pickle.dumps(inputs, protocol=5)).digest()
    except (pickle.PicklingError, TypeError, AttributeError):
        return make()
    kept = _kept(digest)
    if kept.result is None:
        made = make()
        kept.result = pickle.dumps(made, protocol=5)
        return made
    return cast(T, pickle.loads(kept.result))
