"""Strict reading of the files an author writes: text without control characters, YAML whose keys are unique and located."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from claimsite.core.errors import CONTROL, Problem, ReportError, yaml_error

# Characters no page, chart or terminal should receive from an author's file (errors.CONTROL): the chart
# renderer aborts the whole process on most of them, so they are stopped where they are read.
FORBIDDEN = CONTROL
MAX_DEPTH = 40
MAX_NODES = 200_000  # values after YAML aliases are expanded: a few aliases must not expand into millions


def describe_char(char: str) -> str:
    """A character as a message names it: ``U+0001``, with its Unicode name when it has one."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name.lower()})" if name else " (a control character)")


def forbidden_char(text: str) -> re.Match[str] | None:
    """The first character of ``text`` that an author's file may not hold, or None."""
    return FORBIDDEN.search(text)


def char_problem(file: str, text: str, match: re.Match[str], line: int | None = None, column: str | int | None = None) -> Problem:
    """A located problem for a forbidden character found in ``text`` (a cell, a value or a whole file)."""
    if line is None:
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
    return Problem(
        file=file,
        message="the text holds a control character",
        line=line,
        column=column,
        expected="printable text (tabs and line breaks are fine)",
        found=f"{describe_char(match.group())} in {safe_repr(text[max(0, match.start() - 20) : match.start() + 20])}",
        fix="delete the character (it is invisible in most editors; search for it by its code)",
    )


def safe_repr(value: object, limit: int = 60) -> str:
    """A value as a message shows it: its repr (so control characters and escapes show as codes), cut to ``limit``."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_text(path: Path, shown: str, what: str) -> str:
    """A UTF-8 text file, with located errors for unreadable files, bytes that are not UTF-8 and control characters."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ReportError.at(shown, f"{what} cannot be read: {error.strerror}", fix="check that the file exists and that you may read it") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise ReportError.at(
            shown,
            f"{what} is not UTF-8 text",
            line=line,
            column=column,
            expected="UTF-8 text",
            found=f"the byte 0x{raw[error.start]:02X}",
            fix="save the file as UTF-8",
        ) from None
    match = forbidden_char(text)
    if match:
        raise ReportError([char_problem(shown, text, match)])
    return text


class Mapping(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers the line it starts on and the line of each key."""

    line: int | None = None
    key_lines: dict[Any, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines = {}


class Sequence(list):  # type: ignore[type-arg]
    """A YAML sequence that remembers the line it starts on and the line of each item."""

    line: int | None = None
    item_lines: list[int]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines = []


# libyaml (PyYAML's C parser) reads and composes the document; the constructor, in Python, builds and checks the values.
_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Parser):  # type: ignore[misc]
    """Safe YAML that refuses duplicate keys and control characters, and records lines (the depth is checked before)."""

    def __init__(self, stream: str, shown: str) -> None:
        super().__init__(stream)
        self.shown = shown

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        value = super().construct_object(node, deep=deep)
        if isinstance(value, str):
            match = forbidden_char(value)
            if match:
                raise ReportError([char_problem(self.shown, value, match, line=node.start_mark.line + 1)])
        return value


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Mapping:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            same = unicodedata.normalize("NFC", key) if isinstance(key, str) else key
            hash(same)
        except TypeError:
            raise ReportError.at(
                loader.shown, "a key must be a plain value", line=key_node.start_mark.line + 1, found=safe_repr(key), fix="write the key as text"
            ) from None
        line = key_node.start_mark.line + 1
        if same in seen:
            written = "" if same == key else " (the same letters once Unicode-normalised)"
            raise ReportError.at(
                loader.shown,
                f"the key {key!r} appears twice in one mapping{written}",
                line=line,
                expected="each key once",
                found=f"{key!r} on line {seen[same]} and on line {line}",
                fix="keep one of them: YAML would silently use the last",
            )
        seen[same] = line
    loader.flatten_mapping(node)
    result = Mapping()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> Sequence:
    result = Sequence(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: Path, shown: str, what: str) -> Any:
    """A YAML (or JSON) file read strictly: located errors for bad text, bad syntax, duplicate keys and deep nesting."""
    text = read_text(path, shown, what)
    loader = _Loader(text, shown)
    try:
        _check_depth(text, shown)
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        raise yaml_error(error, shown, what) from None
    except yaml.YAMLError as error:
        raise ReportError.at(shown, f"{what} is not valid YAML: {error}", fix="correct the YAML syntax") from None
    finally:
        loader.dispose()
    if _size(data, MAX_NODES) > MAX_NODES:
        raise ReportError.at(
            shown,
            f"{what} expands to more than {MAX_NODES:,} values once its YAML aliases (*name) are replaced",
            expected="aliases that repeat a block a few times",
            found="aliases of aliases that multiply",
            fix="write the repeated blocks out, or repeat them fewer times",
        )
    return data


def _check_depth(text: str, shown: str) -> None:
    """Refuse mappings and lists nested more than MAX_DEPTH deep, at the line where they go too deep (before composing them)."""
    depth = 0
    for event in yaml.parse(text, Loader=_Parser):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ReportError.at(
                    shown,
                    f"the YAML nests more than {MAX_DEPTH} levels deep",
                    line=event.start_mark.line + 1 if event.start_mark else None,
                    expected=f"at most {MAX_DEPTH} levels of nested mappings and lists",
                    found="deeper nesting",
                    fix="flatten the structure; no report or descriptor key needs such depth",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _size(value: Any, budget: int) -> int:
    """How many values ``value`` holds once aliases are expanded, counted up to just past ``budget``."""
    count, stack = 0, [value]
    while stack and count <= budget:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def line_of(data: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the value at ``loc`` (keys and indexes) in data read by :func:`load_yaml`; parts it cannot follow are skipped."""
    node, line = data, getattr(data, "line", None)
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            line, node = node.key_lines.get(part, node.line), node[part]
        elif isinstance(node, Sequence) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.item_lines[part], node[part]
    return line
