"""The ``within`` check: ``a`` and ``b`` differ by at most ``tolerance`` points."""

from __future__ import annotations

from claimsite.claims._checking import Checks, Result, magnitude
from claimsite.core.numbers import difference
from claimsite.core.uncertainty import beyond
from claimsite.spec import model as spec_model


def check(checks: Checks, claim: spec_model.Within) -> Result:
    """``a`` and ``b`` differ by at most ``tolerance`` points."""
    a, b = checks.pair(claim.a, claim.b)
    diff = difference(a, b)
    holds = abs(diff.value) <= claim.tolerance
    why = "" if holds else f"they differ by {magnitude(diff).text()}, more than the tolerance of {claim.tolerance:g}"
    return Result(holds, {"a": a, "b": b, "diff": diff, "gap": magnitude(diff), "beyond_noise": beyond(diff.interval)}, why)
