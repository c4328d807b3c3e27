"""The one error type for mistakes a maintainer can fix: bad data, templates or specs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Control characters (tab and line breaks aside), lone surrogates and the non-characters U+FFFE and U+FFFF:
# never printed to a terminal as they are (an escape sequence would act on it), never drawn or published.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """Text safe to print on a terminal: each control character shown as its code (``\\x1b``)."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


@dataclass(frozen=True)
class Problem:
    """One located mistake: where it is, what was expected, what was found and how to fix it."""

    file: str
    message: str
    line: int | None = None
    column: str | int | None = None
    expected: str | None = None
    found: str | None = None
    fix: str | None = None

    def location(self) -> str:
        """``file:line`` with the column named, as editors and terminals link it."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.column not in (None, ""):
            where += f" (column {self.column})" if isinstance(self.column, str) else f":{self.column}"
        return where

    def __str__(self) -> str:
        lines = [f"{self.location()}: {self.message}"]
        if self.expected is not None:
            lines.append(f"  expected: {self.expected}")
        if self.found is not None:
            lines.append(f"  found:    {self.found}")
        if self.fix:
            lines.append(f"  fix:      {self.fix}")
        return printable("\n".join(lines))


@dataclass
class ReportError(Exception):
    """A user mistake, with every problem found in one run; printed without a traceback."""

    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def at(cls, file: str | Path, message: str, **where: object) -> ReportError:
        """An error with a single problem."""
        return cls([Problem(file=str(file), message=message, **where)])  # type: ignore[arg-type]

    def __str__(self) -> str:
        count = len(self.problems)
        head = "1 problem" if count == 1 else f"{count} problems"
        return f"{head} to fix:\n" + "\n\n".join(str(p) for p in self.problems)


def yaml_error(error: Any, file: str, what: str) -> ReportError:
    """A YAML parse error (PyYAML's MarkedYAMLError) as a located ReportError: ``what`` says which file it is."""
    mark = getattr(error, "problem_mark", None)
    return ReportError.at(
        file,
        f"{what} is not valid YAML: {error.problem}",
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        fix="correct the YAML syntax at that place",
    )
