"""The Jinja environment that report templates and claim texts run in: sandboxed, and reaching only report values.

A report is declarations, never code. Jinja's sandbox refuses Python internals (``__globals__``,
``__class__`` …) and changes to lists and dicts; on top of it, attributes can be read only on the
values the build hands to templates (text, numbers, claims, datasets, sources), never on a DataFrame,
a module or any other object whose methods could write files or run code.

Compiled templates are kept in the process's memory only, never read from disk.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from jinja2.loaders import split_template_path
from jinja2.runtime import BlockReference, LoopContext, Macro, TemplateReference
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment, safe_range
from jinja2.utils import Cycler, Joiner, Namespace
from markupsafe import Markup

from claimsite.core.fingerprint import code_version
from claimsite.core.limits import Deadline, limits
from claimsite.core.strict import read_text

SANDBOX_FIX = "use only the report's values and helpers (see the author's guide): templates cannot reach Python internals"

# Values whose attributes any template may read; the callers add the build's own value classes.
_PLAIN: tuple[type, ...] = (str, int, float, bool, type(None), dict, list, tuple, Markup, datetime.date)
_JINJA: tuple[type, ...] = (LoopContext, Cycler, Joiner, Namespace, Macro, TemplateReference, BlockReference)


class TemplateLimit(Exception):
    """A template went past a limit (its time, the size of what one expression makes or of all it prints): a located
    error follows, naming ``limit``, the setting that raises it."""

    def __init__(self, reason: str, limit: str | None = "template_seconds") -> None:
        super().__init__(reason)
        self.limit = limit


def past_limit(error: BaseException, fix: str) -> tuple[str, str]:
    """Why a render went past a limit (a TemplateLimit, or Python's own when a template recurses or a number
    overflows), and ``fix`` followed by the setting that raises the limit, if one does."""
    reason = "it calls itself without end" if isinstance(error, RecursionError) else str(error) or type(error).__name__
    limit = error.limit if isinstance(error, TemplateLimit) else "template_seconds"
    return reason, fix + ("; " + limits().raise_fix(limit) if limit else "")


class ReportSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, reading attributes only of plain values and of the build's report values, and bounded:
    a render stops past its time, and an expression may not make a text or a number past a size."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, readable: tuple[type, ...], finalize: Callable[[Any], str], **options: Any) -> None:
        super().__init__(finalize=self._counting(finalize), **options)
        self.readable = _PLAIN + _JINJA + readable
        self.limits = limits()
        self.deadline: Deadline | None = None
        self.printed = 0  # bytes printed by the render under way
        self.globals["range"] = self._range

    def _counting(self, finalize: Callable[[Any], str]) -> Callable[[Any], str]:
        """``finalize``, counting what a render prints: a loop (or a macro) that prints more than a page holds stops at
        the page size limit, before it fills the memory."""

        def printed(value: Any) -> str:
            text = finalize(value)
            if self.deadline is not None:
                self.printed += len(text.encode("utf-8", "replace"))
                if self.printed > self.limits.page_mb * 1_000_000:
                    raise TemplateLimit(f"it prints more than {self.limits.page_mb:g} MB ({self.limits.variable('page_mb')})", "page_mb")
            return text

        return printed

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return isinstance(obj, self.readable) and super().is_safe_attribute(obj, attr, value)

    def is_safe_callable(self, obj: Any) -> bool:
        return super().is_safe_callable(obj) and not isinstance(obj, type)

    @contextlib.contextmanager
    def bounded(self) -> Iterator[None]:
        """Render within the template time limit and the page size limit."""
        outer, self.deadline = (self.deadline, self.printed), Deadline(self.limits.template_seconds)
        self.printed = 0
        try:
            yield
        finally:
            self.deadline, self.printed = outer

    def _check(self) -> None:
        if self.deadline is not None and self.deadline.passed:
            raise TemplateLimit(f"it took longer than {self.limits.template_seconds:g} s ({self.limits.variable('template_seconds')})")

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self._check()
        return super().call(__context, __obj, *args, **kwargs)

    def _range(self, *args: int) -> Iterator[int]:
        """``range()`` as Jinja's sandbox bounds it, checking the time as it goes (nested loops multiply)."""
        try:
            numbers = safe_range(*args)
        except OverflowError:
            raise TemplateLimit(f"range() of more than {MAX_RANGE:,} numbers", None) from None
        for index, value in enumerate(numbers):
            if index % 1000 == 0:
                self._check()
            yield value

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """``*`` and ``**``, refused when they would make a text, a list or a number past the limit."""
        most = self.limits.text_chars
        if operator == "*" and (isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple)):
            sequence, times = (left, right) if isinstance(left, str | list | tuple) else (right, left)
            if isinstance(times, int) and len(sequence) * times > most:
                raise TemplateLimit(f"an expression would make {len(sequence) * times:,} characters ({self.limits.variable('text_chars')})", "text_chars")
        if operator == "**" and isinstance(left, int | float) and isinstance(right, int | float) and abs(right) > 64 and abs(left) > 1:
            raise TemplateLimit(f"an expression raises {left} to the power {right}")
        self._check()
        return super().call_binop(context, operator, left, right)


def sandboxed(finalize: Callable[[Any], str], loader: jinja2.BaseLoader | None = None, readable: tuple[type, ...] = (), **options: Any) -> ReportSandbox:
    """A sandboxed environment in which undefined values fail and ``finalize`` prints every ``{{ value }}``."""
    return ReportSandbox(readable, loader=loader, undefined=jinja2.StrictUndefined, autoescape=False, finalize=finalize, **options)


class CompiledTemplates(BytecodeCache):
    """Compiled templates kept in this process's memory (the live preview's rebuilds compile each template once).

    Never on disk: compiled code read from a file would run whatever that file holds. Jinja reuses a template's code
    while its source's checksum matches: here the checksum also covers what else shapes the code (the sandbox,
    finalize, filters, whitespace and delimiters, extensions), and the build's code and library versions.
    """

    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None, source: str) -> Bucket:
        checksum = self.get_source_checksum(f"{_settings(environment)}\0{source}")
        bucket = Bucket(environment, self.get_cache_key(name, filename), checksum)
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.kept:
            bucket.bytecode_from_string(self.kept[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.kept[bucket.key] = bucket.bytecode_to_string()


def _named(function: Any) -> str:
    return f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', repr(function))}"


def _settings(environment: jinja2.Environment) -> str:
    """What, besides a template's source, decides the code Jinja compiles it to."""
    return repr(
        (
            code_version(),
            _named(type(environment)),
            _named(environment.code_generator_class),
            environment.sandboxed,
            environment.is_async,
            _named(environment.finalize) if environment.finalize is not None else None,
            sorted((name, _named(function)) for name, function in environment.filters.items()),
            sorted((name, _named(function)) for name, function in environment.tests.items()),
            environment.autoescape if isinstance(environment.autoescape, bool) else "by name",
            environment.optimized,
            sorted(environment.extensions),
            *(
                getattr(environment, setting)
                for setting in (
                    "block_start_string",
                    "block_end_string",
                    "variable_start_string",
                    "variable_end_string",
                    "comment_start_string",
                    "comment_end_string",
                    "line_statement_prefix",
                    "line_comment_prefix",
                    "trim_blocks",
                    "lstrip_blocks",
                    "newline_sequence",
                    "keep_trailing_newline",
                )
            ),
        )
    )


class ProjectLoader(jinja2.BaseLoader):
    """Templates from one folder, read strictly (UTF-8, no control characters), refusing links to files outside it;
    a template the folder does not hold is taken from ``defaults`` (the engine's own), if given."""

    def __init__(self, folder: Path, shown: str, defaults: ProjectLoader | None = None) -> None:
        self.folder = folder.resolve()
        self.shown = shown
        self.defaults = defaults

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        path = self.folder.joinpath(*split_template_path(template))
        if not path.is_file():
            if self.defaults is not None:
                return self.defaults.get_source(environment, template)
            raise jinja2.TemplateNotFound(template)
        if not path.resolve().is_relative_to(self.folder):
            raise jinja2.TemplateNotFound(template, f"{template} links to a file outside {self.shown}/, which a report may not read")
        text = read_text(path, f"{self.shown}/{template}", "the template")
        mtime = path.stat().st_mtime_ns
        return text, str(path), lambda: path.is_file() and path.stat().st_mtime_ns == mtime

    def place(self, filename: str) -> str | None:
        """How messages name the template compiled from ``filename``, if it is one of this loader's (or its defaults')."""
        path = Path(filename)
        if path.is_relative_to(self.folder):
            return f"{self.shown}/{path.relative_to(self.folder).as_posix()}"
        return self.defaults.place(filename) if self.defaults is not None else None

    def list_templates(self) -> list[str]:
        return sorted(p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*") if p.is_file())
