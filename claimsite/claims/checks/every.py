"""The ``every`` check: every value of a group (by size, ignoring sign) lies within ``at_most`` / ``at_least``."""

from __future__ import annotations

from claimsite.claims._checking import Checks, Result, limits_text, listing, magnitude, within_limits
from claimsite.spec import model as spec_model


def check(checks: Checks, claim: spec_model.Every) -> Result:
    """Every value of a group (by size, ignoring sign) lies within ``at_most`` / ``at_least``."""
    table, rows = checks.group(claim)
    if not rows:
        raise checks.error("every needs at least one row", found="0 rows", fix="widen where:")
    numbers = [checks.number(table, r) for r in rows]
    sizes = sorted(numbers, key=lambda n: abs(n.value))
    outside = [n for n in numbers if not within_limits(claim, abs(n.value))]
    signs = {n.value > 0 for n in numbers if n.value}
    values = {"values": numbers, "largest": magnitude(sizes[-1]), "smallest": magnitude(sizes[0]), "count": len(numbers), "both_signs": len(signs) == 2}
    why = f"{listing(outside)} {'lies' if len(outside) == 1 else 'lie'} outside {limits_text(claim, numbers[0].fmt)}" if outside else ""
    return Result(not outside, values, why)
