"""How sure a number is: 95% intervals for percentages from counts (Wilson), and for a difference of two values (Newcombe, MOVER).

Every method here is named on the page where it is used, and in the author's guide.
"""

from __future__ import annotations

import math

Z = 1.959963984540054  # the 97.5th percentile of the standard normal: a two-sided 95% interval

WILSON = "Wilson score interval"
NEWCOMBE = "Newcombe's score interval for a difference of two proportions"
MOVER = "the two values' 95% intervals combined (MOVER)"


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion ``successes / trials``, as fractions of one."""
    if trials <= 0:
        raise ValueError("a proportion needs at least one trial")
    share = successes / trials
    denominator = 1 + Z**2 / trials
    centre = (share + Z**2 / (2 * trials)) / denominator
    half = Z * math.sqrt(share * (1 - share) / trials + Z**2 / (4 * trials**2)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def mover(a: float, a_interval: tuple[float, float] | None, b: float, b_interval: tuple[float, float] | None) -> tuple[float, float]:
    """The 95% interval of ``a - b`` from the two values' own intervals (a value without one is exact).

    With Wilson intervals this is Newcombe's hybrid score interval for a difference of two
    independent proportions; in general it is the method of variance estimates recovery (MOVER).
    """
    a_low, a_high = a_interval or (a, a)
    b_low, b_high = b_interval or (b, b)
    difference = a - b
    return difference - math.hypot(a - a_low, b_high - b), difference + math.hypot(a_high - a, b - b_low)


def beyond(interval: tuple[float, float] | None) -> bool | None:
    """Whether a difference's interval leaves out zero (None when nothing is known of its uncertainty)."""
    if interval is None:
        return None
    return interval[0] > 0 or interval[1] < 0
