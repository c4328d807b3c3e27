"""The ``aggregate`` check: a statistic of a group's values lies within ``at_least`` and ``at_most``."""

from __future__ import annotations

import pandas as pd

from claimsite.claims._checking import Checks, Result, limits_text, statistic
from claimsite.core.numbers import Number, NumberFormat
from claimsite.spec import model as spec_model


def check(checks: Checks, claim: spec_model.Aggregate) -> Result:
    """A statistic of a group's values lies within ``at_least`` and ``at_most``."""
    table, rows = checks.group(claim)
    if not rows:
        raise checks.error("an aggregate needs at least one row", found="0 rows", fix="widen where:")
    column = table.column(claim.value or table.value, checks.file, checks.line)
    numbers = [checks.number(table, r, column) for r in rows] if claim.stat not in ("count", "share") else []
    if claim.stat == "count":
        value, fmt = float(len(rows)), NumberFormat(decimals=0)
    elif claim.stat == "share":
        cells = pd.to_numeric(table.frame[column].iloc[rows].astype("Float64"), errors="coerce").dropna()
        value, fmt = 100.0 * float(cells.mean()) if len(cells) else 0.0, NumberFormat("%")
    else:
        value, fmt = statistic(claim.stat, [n.value for n in numbers]), numbers[0].fmt
    sources = tuple(s for n in numbers for s in n.sources) or tuple(s for r in rows for s in table.sources[r])
    result = Number(value, f"{claim.stat} of {len(rows)} rows of {table.name}", sources, fmt, row=f"{claim.stat} of {len(rows)} rows")
    holds = (claim.at_least is None or value >= claim.at_least) and (claim.at_most is None or value <= claim.at_most)
    why = "" if holds else f"the {claim.stat} is {result.text()}, outside {limits_text(claim, fmt)}"
    return Result(holds, {"value": result, "count": len(rows), "values": numbers}, why)
