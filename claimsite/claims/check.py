"""Claims: sentences backed by a check on the data. Observations adapt; assertions must hold, beyond the data's uncertainty."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError

from claimsite.claims._checking import SHOWN, Checks, Reason, Result, magnitude, rows_of
from claimsite.claims.checks import CHECKS
from claimsite.claims.literals import literal, typed_quantities
from claimsite.core import provenance
from claimsite.core.errors import Problem, ReportError
from claimsite.core.numbers import Cell, Number, finalize, finalize_plain
from claimsite.core.project import GENERATED_BY, Project
from claimsite.core.provenance import Source, ViewSource
from claimsite.core.sandbox import SANDBOX_FIX, ReportSandbox, TemplateLimit, past_limit, sandboxed
from claimsite.data.load import load_package
from claimsite.spec import model as spec_model
from claimsite.spec.report import Report, load_report

LISTED = 20  # numbers of one list (a trend's points, an aggregate's values) claims.json keeps: the first and last ten


@dataclass(frozen=True)
class Claim:
    """A checked sentence: what it says, what it read, whether the data supports it, and why not."""

    id: str
    kind: str
    check: str
    html: str
    text: str
    holds: bool
    values: dict[str, Any]
    line: int | None
    why: str = ""
    reason: Reason = "values"  # why an assertion fails: its values, or the uncertainty of a gap
    short_html: str = ""  # the claim said again in a few words, if the spec gives it
    written: str = ""  # its text (and short text) as the spec writes them

    @property
    def anchor(self) -> str:
        """The permanent fragment of this claim on its page."""
        return f"claim-{self.id}"

    def numbers(self, per_list: int | None = None) -> dict[str, Number]:
        """Every number the check read, flattened: ``a``, ``items.1``, ``groups.<group>.a`` …; of a list longer than
        ``per_list``, its first and last ``per_list // 2`` (claims.json grows with the claims, not with the rows)."""
        return dict(_flatten(self.values, per_list=per_list))

    def omitted(self, per_list: int) -> dict[str, int]:
        """How many numbers of each list ``numbers(per_list)`` leaves out."""
        return {name: len(value) - per_list // 2 * 2 for name, value in self.values.items() if isinstance(value, list | tuple) and len(value) > per_list}


def _flatten(values: dict[str, Any], prefix: str = "", per_list: int | None = None) -> list[tuple[str, Number]]:
    found: list[tuple[str, Number]] = []
    for name, value in values.items():
        if isinstance(value, Number):
            found.append((prefix + name, value))
        elif isinstance(value, list | tuple):
            listed = list(enumerate(value))
            if per_list is not None and len(listed) > per_list:
                listed = listed[: per_list // 2] + listed[-(per_list // 2) :]
            found += [(f"{prefix}{name}.{i}", v) for i, v in listed if isinstance(v, Number)]
        elif isinstance(value, dict) and name == "groups":
            for group, inner in value.items():
                found += _flatten({k: v for k, v in inner.items() if k != "groups"}, f"{prefix}groups.{group}.", per_list)
    return found


def run(checks: Checks) -> Result:
    """The claim's check, once, or once per group of ``each`` with the quantifier ``holds_in``."""
    check = functools.partial(CHECKS[type(checks.claim)], checks)
    if checks.claim.each is None:
        return check(checks.claim)
    return _quantified(checks, check)


def _quantified(checks: Checks, check: Callable[[Any], Result]) -> Result:
    column = str(checks.claim.each)
    tables = [checks.table(name) for name in _tables_read(checks.claim)]
    names: list[Any] = list(dict.fromkeys(v for table in tables for v in table.frame[table.column(column, checks.file, checks.line)].dropna().tolist()))
    if not names:
        raise checks.error(f"each: {column} has no values in the tables read", fix="choose a column with values")
    groups: dict[str, dict[str, Any]] = {}
    held: list[tuple[str, str]] = []
    failing: list[tuple[str, str]] = []
    reasons: set[Reason] = set()
    for name in names:
        result = _once(Checks(checks.report, checks.claim, {**checks.extra, column: name}), name)
        groups[str(name)] = {**result.values, "holds": result.holds, "group": str(name)}
        (held if result.holds else failing).append((str(name), result.why))
        if not result.holds:
            reasons.add(result.reason)
    wanted = checks.claim.holds_in
    holds = {"every": not failing, "any": bool(held), "none": not held}.get(str(wanted), len(held) >= (wanted if isinstance(wanted, int) else 0))
    values = {"groups": groups, "held": len(held), "total": len(names), "holding": [n for n, _ in held], "failing": [n for n, _ in failing]}
    if holds:
        return Result(True, values)
    if wanted == "none":
        return Result(False, values, f"it holds for {', '.join(n for n, _ in held)}")
    listed = "; ".join(f"{n}: {why}" for n, why in failing[:SHOWN]) + (f"; and {len(failing) - SHOWN} more" if len(failing) > SHOWN else "")
    needed = {"every": "every group", "any": "at least one group"}.get(str(wanted), f"at least {wanted} groups")
    reason: Reason = "noise" if reasons == {"noise"} else "values"
    return Result(False, values, f"holds in {len(held)} of {len(names)} groups of {column}, not {needed}; it fails for {listed}", reason)


def _once(checks: Checks, group: Any) -> Result:
    """The check in one group of a quantified claim; an error says which group."""
    check = CHECKS[type(checks.claim)]
    try:
        return check(checks, checks.claim)
    except ReportError as error:
        problem = error.problems[0]
        raise ReportError.at(
            problem.file,
            f"{problem.message} (in the group {checks.claim.each} = {group})",
            line=problem.line,
            expected=problem.expected,
            found=problem.found,
            fix=problem.fix,
        ) from None


def _tables_read(claim: spec_model.ClaimBase) -> list[str]:
    """The tables a claim reads, for the groups of ``each``."""
    if isinstance(claim, spec_model.Group):
        return [claim.from_]
    refs = [claim.a, claim.b] if isinstance(claim, spec_model.Compare | spec_model.Within) else list(getattr(claim, "items", []))
    return list(dict.fromkeys(ref.from_ for ref in refs if isinstance(ref, spec_model.Row)))


def count(number: Any) -> str:
    """A whole number with thousands separators: 10000 as 10,000."""
    return f"{int(number):,}"


@functools.cache
def _environment(plain: bool) -> ReportSandbox:
    """The sandbox a claim's text is rendered in (HTML for pages, or plain text), reading only numbers and their sources."""
    environment = sandboxed(finalize=finalize_plain if plain else finalize, readable=(Number, Source, ViewSource, Cell), keep_trailing_newline=False)
    environment.filters.update(count=count, magnitude=magnitude, rows=rows_of)
    environment.globals["literal"] = literal
    return environment


@functools.lru_cache(maxsize=4096)
def _template(text: str, plain: bool) -> jinja2.Template:
    """A claim's text compiled once: a rebuild in the same process (the live preview) renders it without parsing it again."""
    return _environment(plain).from_string(text)


def _render(text: str, values: dict[str, Any], checks: Checks, plain: bool) -> str:
    try:
        with _environment(plain).bounded():
            return " ".join(_template(text, plain).render(values).split())
    except (TemplateLimit, RecursionError, OverflowError, MemoryError) as error:
        reason, fix = past_limit(error, "print the check's values; build no text piece by piece")
        raise checks.error(f"the claim's text went past a limit: {reason}", fix=fix) from None
    except jinja2.TemplateSyntaxError as error:
        raise checks.error(f"the claim's text is not a valid template: {error.message}", fix="correct the {{ }} expression") from None
    except SecurityError as error:
        raise checks.error(f"the claim's text reaches for something a report may not use: {error}", fix=SANDBOX_FIX) from None
    except jinja2.UndefinedError as error:
        raise checks.error(
            f"the claim's text uses a value its check does not give: {error.message}",
            expected=", ".join(sorted(values)),
            fix="use one of the expected names",
        ) from None
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, ZeroDivisionError) as error:
        raise checks.error(
            f"the claim's text could not be written: {error}",
            fix="print numbers as {{ a }} (not {{ a.value }}), and use only the values the check gives",
        ) from None


def evaluate(report: Report, spec: spec_model.ClaimBase) -> Claim:
    """Run one claim's check and render its sentence, in HTML and as plain text."""
    checks = Checks(report, spec)
    typed = _typed(report, spec)
    if typed is not None:
        raise ReportError([typed])
    result = run(checks)
    limits = {key: f"{value:g}" for key in ("at_least", "at_most", "tolerance") if (value := getattr(spec, key, None)) is not None}
    context = {**result.values, **limits, "holds": result.holds, "where": dict(getattr(spec, "where", {}))}
    return Claim(
        id=spec.id,
        kind=spec.kind,
        check=spec.check,
        html=_render(spec.text, context, checks, plain=False),
        text=_render(spec.text, context, checks, plain=True),
        holds=result.holds,
        values=result.values,
        line=spec.spec_line,
        why=result.why,
        reason=result.reason,
        short_html=_render(spec.short, context, checks, plain=False) if spec.short else "",
        written=spec.text + "\n" + (spec.short or ""),
    )


def _typed(report: Report, spec: spec_model.ClaimBase) -> Problem | None:
    """The problem of a claim whose text types numbers by hand (None when every number comes from the data or is marked)."""
    typed = typed_quantities(spec.text) + typed_quantities(spec.short or "")
    if not typed:
        return None
    return Problem(
        file=report.spec_file,
        line=spec.spec_line,
        message=f"claim {spec.id!r}: its text types {'a number' if len(typed) == 1 else 'numbers'} by hand: {'; '.join(map(str, typed))}",
        expected="every number of a claim printed from the data, or marked as meant as written",
        found=", ".join(t.number for t in typed),
        fix=f"print it from the check's values (see the author's guide), or, if it is meant as written, mark it: {{{{ literal({typed[0].number!r}) }}}}",
    )


def evaluate_all(report: Report, strict: bool = True) -> dict[str, Claim]:
    """Every claim of a report, checked; unless ``strict`` is off, one error listing every assertion the data rejects."""
    typed = [problem for spec in report.claims if (problem := _typed(report, spec)) is not None]
    if typed:
        raise ReportError(typed)
    claims: dict[str, Claim] = {}
    for spec in report.claims:
        claim = evaluate(report, spec)
        if claim.id in claims:
            raise ReportError.at(report.spec_file, f"two claims have the id {claim.id!r}", line=spec.spec_line, fix="give each claim its own id")
        claims[claim.id] = claim
    failures = [failure(report, claim) for claim in claims.values() if claim.kind == "assertion" and not claim.holds]
    if failures and strict:
        raise ReportError(failures)
    return claims


def failure(report: Report, claim: Claim) -> Problem:
    """The problem of an assertion the data no longer supports: the sentence, why, its values and their rows (a handful)."""
    failing = [f"groups.{group}." for group in claim.values.get("failing", [])]
    numbers = sorted(claim.numbers().items(), key=lambda item: not any(item[0].startswith(prefix) for prefix in failing))
    listed = "; ".join(f"{name} = {number.text()} ({provenance.cite(number.sources) or 'stated in the spec'})" for name, number in numbers[:SHOWN])
    more = f"; and {len(numbers) - SHOWN} more values (in claims.json)" if len(numbers) > SHOWN else ""
    noisy = claim.reason == "noise"
    return Problem(
        file=report.spec_file,
        line=claim.line,
        message=f"assertion {claim.id!r} is not supported by the data: “{claim.text}”",
        expected=f"the {claim.check} check to hold" + (f"; it fails: {claim.why}" if claim.why else ""),
        found=listed + more,
        fix=(
            "say that the gap is within noise (noise: within) and word the sentence so, or give the data that makes it sure"
            if noisy
            else "correct the data if a value is wrong; otherwise reword or remove the assertion, or make it an observation"
        ),
    )


def current_claims(project: Project) -> dict[str, Any]:
    """The claims document of a project's data and specs, failing assertions included; renders nothing."""
    root = project.root.resolve()
    datasets = load_package(project.data, root)
    reports = [load_report(path.resolve(), datasets, root) for path in project.report_specs()]
    return claims_document([(report, evaluate_all(report, strict=False)) for report in reports])


def claims_document(reports: list[tuple[Report, dict[str, Claim]]]) -> dict[str, Any]:
    """Every claim of the site, for machines: what it says, whether it holds, and what it read."""
    claims = []
    for report, report_claims in reports:
        for claim in report_claims.values():
            claims.append(
                {
                    "id": claim.id,
                    "report": report.slug,
                    "kind": claim.kind,
                    "check": claim.check,
                    "sentence": claim.text,
                    "status": ("holds" if claim.holds else "fails") if claim.kind == "assertion" else "observed",
                    "holds": claim.holds,
                    "page": f"{report.slug}/",
                    "anchor": claim.anchor,
                    "values": {name: number.to_dict() for name, number in claim.numbers(LISTED).items()},
                    **({"values_omitted": omitted} if (omitted := claim.omitted(LISTED)) else {}),
                }
            )
    return {"generated_by": GENERATED_BY, "claims": claims}
