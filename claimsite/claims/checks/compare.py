"""The ``compare`` check: ``a`` is higher than ``b`` (or lower, with ``expect: lower``), by at least/most N, beyond the uncertainty."""

from __future__ import annotations

from claimsite.claims._checking import Checks, Noise, Result, limits_text, magnitude, within_limits
from claimsite.core.numbers import difference
from claimsite.spec import model as spec_model


def check(checks: Checks, claim: spec_model.Compare) -> Result:
    """``a`` is higher than ``b`` (or lower, with ``expect: lower``), by at least/most N, beyond the uncertainty."""
    a, b = checks.pair(claim.a, claim.b)
    diff = difference(a, b)
    higher = a.value > b.value
    noise = Noise(diff, claim.noise)
    # Within noise is symmetric: a gap within the uncertainty says nothing of which value is higher.
    way = claim.noise == "within" or (a.value > b.value if claim.expect == "higher" else a.value < b.value)
    holds = way and within_limits(claim, abs(diff.value)) and noise.allows
    values = {"a": a, "b": b, "diff": diff, "gap": magnitude(diff), "higher": higher, "beyond_noise": noise.beyond}
    if holds:
        return Result(True, values)
    if not way:
        why = f"{a.label or 'a'} ({a.text()}) is {'not above' if claim.expect == 'higher' else 'not below'} {b.label or 'b'} ({b.text()})"
    elif not within_limits(claim, abs(diff.value)):
        why = f"the gap is {magnitude(diff).text()}, outside {limits_text(claim, diff.fmt)}"
    else:
        return noise.fails(values, f"{a.label or 'a'} against {b.label or 'b'}")
    return Result(False, values, why)
