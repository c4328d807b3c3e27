"""Every claim check, one module each, registered here by the declaration a spec writes: the one place a check is added.

Each check reads the values its declaration names and returns a ``Result``: whether it holds, the values its sentence
may print, and, when it fails, why and for what reason.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from claimsite.claims._checking import Checks, Result
from claimsite.claims.checks import aggregate, best, compare, every, order, trend, within, worst
from claimsite.spec import model as spec_model

CHECKS: MappingProxyType[type[spec_model.ClaimBase], Callable[[Checks, Any], Result]] = MappingProxyType(
    {
        spec_model.Compare: compare.check,
        spec_model.Within: within.check,
        spec_model.Order: order.check,
        spec_model.Trend: trend.check,
        spec_model.Best: best.check,
        spec_model.Worst: worst.check,
        spec_model.Every: every.check,
        spec_model.Aggregate: aggregate.check,
    }
)
