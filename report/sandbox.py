"""The Jinja environment that report templates and claim texts run in: sandboxed, and reaching only report values.

A report is declarations, never code. Jinja's sandbox refuses Python internals (``__globals__``,
``__class__`` …) and changes to lists and dicts; on top of it, attributes can be read only on the
values the build hands to templates (text, numbers, claims, datasets, sources), never on a DataFrame,
a module or any other object whose methods could write files or run code.

Compiled templates (the pages' and the theme's) are kept under ``.cache/templates``.
"""

from __future__ import annotations

import contextlib
import datetime
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import FileSystemBytecodeCache
from jinja2.bccache import Bucket
from jinja2.loaders import split_template_path
from jinja2.runtime import BlockReference, LoopContext, Macro, TemplateReference
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Cycler, Joiner, Namespace
from markupsafe import Markup

from report.strict import read_text
from report.uptodate import code_version

SANDBOX_FIX = "use only the report's values and helpers (see the author's guide): templates cannot reach Python internals"

# Values whose attributes any template may read; the callers add the build's own value classes.
_PLAIN: tuple[type, ...] = (str, int, float, bool, type(None), dict, list, tuple, Markup, datetime.date)
_JINJA: tuple[type, ...] = (LoopContext, Cycler, Joiner, Namespace, Macro, TemplateReference, BlockReference)


class ReportSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, reading attributes only of plain values and of the build's report values."""

    def __init__(self, readable: tuple[type, ...], **options: Any) -> None:
        super().__init__(**options)
        self.readable = _PLAIN + _JINJA + readable

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return isinstance(obj, self.readable) and super().is_safe_attribute(obj, attr, value)

    def is_safe_callable(self, obj: Any) -> bool:
        return super().is_safe_callable(obj) and not isinstance(obj, type)


def sandboxed(finalize: Callable[[Any], str], loader: jinja2.BaseLoader | None = None, readable: tuple[type, ...] = (), **options: Any) -> ReportSandbox:
    """A sandboxed environment in which undefined values fail and ``finalize`` prints every ``{{ value }}``."""
    return ReportSandbox(readable, loader=loader, undefined=jinja2.StrictUndefined, autoescape=False, finalize=finalize, **options)


class CompiledTemplates(FileSystemBytecodeCache):
    """Compiled templates kept on disk between builds; a folder that cannot be made, read or written only means
    compiling them anew.

    Jinja reuses a template's code while its source's checksum matches: here the checksum also covers what else shapes
    the code (the sandbox, finalize, filters, whitespace and delimiters, extensions), and the build's code and library
    versions (Jinja runs finalize and filters on constants as it compiles), so that code compiled otherwise never runs.
    """

    def __init__(self, folder: Path) -> None:
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
        super().__init__(str(folder))

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None, source: str) -> Bucket:
        checksum = self.get_source_checksum(f"{_settings(environment)}\0{source}")
        bucket = Bucket(environment, self.get_cache_key(name, filename), checksum)
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):  # unreadable or cut short
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


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
    """Templates from one folder, read strictly (UTF-8, no control characters), refusing links to files outside it."""

    def __init__(self, folder: Path, shown: str) -> None:
        self.folder = folder.resolve()
        self.shown = shown

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        path = self.folder.joinpath(*split_template_path(template))
        if not path.is_file():
            raise jinja2.TemplateNotFound(template)
        if not path.resolve().is_relative_to(self.folder):
            raise jinja2.TemplateNotFound(template, f"{template} links to a file outside {self.shown}/, which a report may not read")
        text = read_text(path, f"{self.shown}/{template}", "the template")
        mtime = path.stat().st_mtime_ns
        return text, str(path), lambda: path.is_file() and path.stat().st_mtime_ns == mtime

    def list_templates(self) -> list[str]:
        return sorted(p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*") if p.is_file())
