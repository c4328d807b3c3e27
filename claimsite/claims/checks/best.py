"""The ``best`` check: the row with the highest value in a group is the one ``expect:`` names, beyond the uncertainty."""

from __future__ import annotations

from claimsite.claims._checking import Checks, Noise, Result, magnitude, rows_of
from claimsite.core.numbers import difference
from claimsite.spec import model as spec_model


def extreme(checks: Checks, claim: spec_model.Best | spec_model.Worst, highest: bool) -> Result:
    """The row with the highest (or lowest) value of a group, ranked against the next, and checked against ``expect:``."""
    table, rows = checks.group(claim)
    if len(rows) < 2:
        raise checks.error("best and worst need at least two rows", found=f"{len(rows)} rows", fix="widen where:")
    ranked = sorted((checks.number(table, r) for r in rows), key=lambda n: n.value, reverse=highest)
    top, runner_up = ranked[0], ranked[1]
    margin = magnitude(difference(top, runner_up))
    tied = top.value == runner_up.value
    if claim.expect is not None and not table.label:
        raise checks.error(f"expect: needs table {table.name!r} to name its rows", fix=f"add label: <column> to {table.name} under data:")
    noise = Noise(difference(top, runner_up), claim.noise)
    ties = [number for number in ranked if number.value == top.value]
    values = {"top": top, "runner_up": runner_up, "margin": margin, "ranked": ranked, "tied": tied, "ties": ties, "beyond_noise": noise.beyond}
    named = next((n for n in ranked if n.label == str(claim.expect)), None) if claim.expect is not None else None
    if claim.noise == "within" and named is not None and named is not top:
        # Within noise is symmetric: the named row may stand second, as long as the leader's gap to it is within noise.
        behind = Noise(difference(top, named), claim.noise)
        values = {"top": top, "expected": named, **{k: v for k, v in values.items() if k != "top"}, "beyond_noise": behind.beyond}
        if behind.allows:
            return Result(True, values)
        return behind.fails(values, f"{top.label} against {named.label}")
    if claim.expect is not None and top.label != str(claim.expect):
        values = {"top": top, **({"expected": named} if named else {}), **{k: v for k, v in values.items() if k != "top"}}
        shown = f" ({named.label}: {named.text()})" if named else f" ({claim.expect} is not in this group)"
        return Result(False, values, f"{'the highest' if highest else 'the lowest'} is {top.label} ({top.text()}), not {claim.expect}{shown}")
    if tied and claim.noise != "within":
        return Result(False, values, f"{rows_of(ties)} tie at {top.text()}")
    if not noise.allows:
        return noise.fails(values, f"{top.label} against {runner_up.label}")
    return Result(True, values)


def check(checks: Checks, claim: spec_model.Best) -> Result:
    """The row with the highest value in a group is the one ``expect:`` names, beyond the uncertainty."""
    return extreme(checks, claim, highest=True)
