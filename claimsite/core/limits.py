"""How far a build may go: time, memory, spill and size, each with a default and an environment variable to change it.

An input that reaches a limit stops the build with a located message naming the limit and how to raise it; a
limit is never a reason for a traceback, a hang or a machine brought down.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import MappingProxyType

from claimsite.core.errors import ReportError

# Each limit: its environment variable, default, unit, and what it bounds
SETTINGS = MappingProxyType(
    {
        "view_seconds": ("REPORT_VIEW_SECONDS", 120.0, "seconds", "the time one SQL view (and its lineage) may take"),
        "chart_seconds": ("REPORT_CHART_SECONDS", 60.0, "seconds", "the time drawing one chart may take"),
        "template_seconds": ("REPORT_TEMPLATE_SECONDS", 30.0, "seconds", "the time one page template or claim text may take to render"),
        "memory_mb": ("REPORT_MEMORY_MB", 400.0, "MB", "the memory DuckDB may use (it spills the rest to disk)"),
        "spill_mb": ("REPORT_SPILL_MB", 20_480.0, "MB", "the disk DuckDB may spill to (a temporary folder, removed after)"),
        "view_mb": ("REPORT_VIEW_MB", 256.0, "MB", "the size of a view's rows held in memory for charts and claims"),
        "page_mb": ("REPORT_PAGE_MB", 20.0, "MB", "the text one page template (or claim) prints"),
        "text_chars": ("REPORT_TEXT_CHARS", 1_000_000.0, "characters", "the text one template expression may make ('x' * n)"),
        "chart_pixels": ("REPORT_CHART_PIXELS", 4000.0, "pixels", "the width or height of a chart"),
        "cache_mb": ("REPORT_CACHE_MB", 1024.0, "MB", "the size of the project's .cache/; past it, the entries used longest ago are removed"),
    }
)


@dataclass(frozen=True)
class Limits:
    """The limits a build runs under."""

    view_seconds: float
    chart_seconds: float
    template_seconds: float
    memory_mb: float
    spill_mb: float
    view_mb: float
    page_mb: float
    text_chars: float
    chart_pixels: float
    cache_mb: float

    def variable(self, name: str) -> str:
        """The environment variable that sets a limit."""
        return SETTINGS[name][0]

    def raise_fix(self, name: str) -> str:
        """How to give a build more room, for a message's fix."""
        variable, _, unit, _ = SETTINGS[name]
        return f"or, if the input is right, raise the limit: {variable}=<{unit}> (now {getattr(self, name):g})"


def limits() -> Limits:
    """The limits of this build: the defaults, or the environment's settings (a malformed one is a located error)."""
    values = {}
    for name, (variable, default, unit, _) in SETTINGS.items():
        setting = os.environ.get(variable)
        if setting is None:
            values[name] = default
            continue
        if not re.fullmatch(r"\d+(\.\d+)?", setting.strip()) or float(setting) <= 0:
            raise ReportError.at(
                variable, f"must be a positive number of {unit}", expected=f"e.g. {default:g}", found=setting, fix=f"set it to a number of {unit}"
            )
        values[name] = float(setting)
    return Limits(**values)


def documented() -> Iterator[tuple[str, str, str, str]]:
    """Each limit as the README lists it: variable, default, unit, what it bounds."""
    for variable, default, unit, what in SETTINGS.values():
        yield variable, f"{int(default):,}" if default == int(default) else f"{default:g}", unit, what


@dataclass
class Deadline:
    """A point in time a piece of work must finish by."""

    seconds: float
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = time.monotonic()

    @property
    def passed(self) -> bool:
        return time.monotonic() - self.started > self.seconds
