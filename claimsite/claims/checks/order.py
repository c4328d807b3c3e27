"""The ``order`` check: the listed values stand in this order, highest first (or lowest, ``expect: ascending``), each step beyond noise."""

from __future__ import annotations

import itertools

from claimsite.claims._checking import Checks, Noise, Result
from claimsite.core.numbers import difference
from claimsite.spec import model as spec_model


def check(checks: Checks, claim: spec_model.Order) -> Result:
    """The listed values stand in this order, highest first (or lowest, ``expect: ascending``), each step beyond noise."""
    items = [checks.ref(ref, f"items[{i}]") for i, ref in enumerate(claim.items)]
    ranked = sorted(items, key=lambda n: n.value, reverse=True)
    for x, y in itertools.pairwise(items):
        way = claim.noise == "within" or (x.value < y.value if claim.expect == "ascending" else x.value > y.value)
        noise = Noise(difference(x, y), claim.noise)
        if not way:
            return Result(False, {"items": items, "ranked": ranked}, f"{x.label} ({x.text()}) does not come before {y.label} ({y.text()})")
        if not noise.allows:
            return noise.fails({"items": items, "ranked": ranked}, f"{x.label} against {y.label}")
    return Result(True, {"items": items, "ranked": ranked})
