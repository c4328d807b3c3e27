"""The ``worst`` check: the row with the lowest value in a group is the one ``expect:`` names, beyond the uncertainty."""

from __future__ import annotations

from claimsite.claims._checking import Checks, Result
from claimsite.claims.checks.best import extreme
from claimsite.spec import model as spec_model


def check(checks: Checks, claim: spec_model.Worst) -> Result:
    """The row with the lowest value in a group is the one ``expect:`` names, beyond the uncertainty."""
    return extreme(checks, claim, highest=False)
