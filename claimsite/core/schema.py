"""Declarations of what an author may write, and their checks: every key typed and documented once.

Each block of a report spec or of the data package is a pydantic model (a ``Block``): unknown keys,
missing keys and values of the wrong type become located problems (file, line, key, what is
allowed, "did you mean …"); the same declarations give the author's guide its option tables and
editors a JSON Schema.
"""

from __future__ import annotations

import datetime
import difflib
import re
import types
import typing
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, Tag, ValidationError, model_validator
from pydantic.fields import FieldInfo

from claimsite.core.errors import Problem, ReportError
from claimsite.core.links import link_problem
from claimsite.core.strict import line_of, safe_repr


@dataclass(frozen=True)
class Doc:
    """How a type is described to an author: in error messages' "expected" and in the guide's option tables."""

    text: str


class Block(BaseModel):
    """A block an author writes: unknown keys are errors, types are exact, and it remembers its line."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=False, arbitrary_types_allowed=False)
    _line: int | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_line(cls, data: Any, handler: Any) -> Any:
        block = handler(data)
        block._line = getattr(data, "line", None)
        return block

    @property
    def spec_line(self) -> int | None:
        """The line of the spec on which this block starts."""
        return self._line

    def written(self) -> set[str]:
        """The keys the author wrote in this block (as written, e.g. ``from``)."""
        fields = type(self).model_fields
        return {fields[name].alias or name for name in self.model_fields_set}


def _check_url(url: str) -> str:
    problem = link_problem(url)
    if problem:
        raise ValueError(problem)
    return url


SLUG_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"


def is_slug(text: str) -> bool:
    """Whether all of ``text`` is lowercase words joined by hyphens (a trailing newline is not allowed)."""
    return re.fullmatch(SLUG_PATTERN, text) is not None


Url = Annotated[str, AfterValidator(_check_url), Doc("a link: https://…, http://… or a relative path")]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=80), Doc("lowercase words joined by hyphens, at most 80 characters, e.g. team-results")]
Scalar = Annotated[str | int | float | bool | datetime.date, Doc("a value (text, a number, true/false or a date)")]
Where = Annotated[dict[str, Scalar], Doc("a mapping of columns to values, e.g. {city: Lima}")]
Color = Annotated[str, Field(pattern=r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-z]{3,20})$"), Doc('a colour: "#1f5a96" or a CSS name')]

B = TypeVar("B", bound=BaseModel)


def validate(model: type[B], data: Any, shown: str) -> B:
    """``data`` (read by report.strict.load_yaml) as a ``model``, or one ReportError with every problem, located."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ReportError(problems(error, model, data, shown)) from None


def problems(error: ValidationError, model: type[BaseModel], data: Any, shown: str) -> list[Problem]:
    """Each place pydantic rejected, as one located problem (errors of a union's members at one place are one problem)."""
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for item in error.errors(include_url=False):
        grouped.setdefault(_data_path(model, data, item["loc"], item["type"]), []).append(item)
    found = [_problem(path, items, model, data, shown) for path, items in grouped.items()]
    return sorted(found, key=lambda p: p.line or 0)


def _data_path(model: type[BaseModel], data: Any, loc: tuple[Any, ...], kind: str) -> tuple[Any, ...]:
    """The part of an error's location that names places in the data (tags of unions dropped); a missing or extra key is kept."""
    path, node, annotation = [], data, model
    for position, part in enumerate(loc):
        tag = len(_members(annotation)) > 1 and any(_tag(member, part) for member in _members(annotation))
        annotation = _step(annotation, part)[0]
        if tag:
            continue
        if (isinstance(node, dict) and part in node) or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            path.append(part)
            node = node[part]
        elif position == len(loc) - 1 and kind in ("missing", "extra_forbidden"):
            path.append(part)
    return tuple(path)


def _problem(path: tuple[Any, ...], items: list[dict[str, Any]], model: type[BaseModel], data: Any, shown: str) -> Problem:
    first = items[0]
    kind, loc = first["type"], first["loc"]
    line = line_of(data, path)
    where = _dotted(path)
    inside = f" in {_dotted(path[:-1])}" if path[:-1] else ""
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        allowed = _keys(owner) if owner else []
        return Problem(
            file=shown,
            message=f"unknown key {path[-1]!r}{inside}",
            line=line,
            expected=", ".join(allowed) if allowed else None,
            found=safe_repr(path[-1]),
            fix=_did_you_mean(path[-1], allowed) or "remove the key, or move it to the block it belongs to",
        )
    declared, metadata, info = _declared_at(model, loc, path)
    if kind == "missing":
        doc = f" ({info.description})" if info and info.description else ""
        return Problem(
            file=shown,
            message=f"missing key {path[-1]!r}{inside}",
            line=line,
            expected=f"{path[-1]}: {describe(declared, metadata)}{doc}",
            found="no such key",
            fix=f"add {path[-1]}: to this block",
        )
    context = first.get("ctx") or {}
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = str(context.get("discriminator", "")).strip("'")
        tags = re.findall(r"'([^']*)'", str(context.get("expected_tags", "")))
        tag = context.get("tag")
        line = line_of(data, (*path, key)) if key and not key.endswith("()") else line
        if kind == "union_tag_not_found" or tag is None:
            block = _at(data, path)
            written = [k for k in block if isinstance(k, str)] if isinstance(block, dict) else []
            misspelt = next(iter(difflib.get_close_matches(key, written, n=1, cutoff=0.6)), None)  # knid: for kind:
            if misspelt is not None:
                line = line_of(data, (*path, misspelt)) or line
            return Problem(
                file=shown,
                message=f"{where or 'this block'} needs {key}:" + (f" (it has {misspelt}:)" if misspelt else ""),
                line=line,
                expected=" or ".join(tags) or None,
                found=f"{misspelt}: {safe_repr(block[misspelt])}" if misspelt and isinstance(block, dict) else "no " + key,
                fix=_did_you_mean(misspelt, [key]) if misspelt else f"add {key}:",
            )
        return Problem(
            file=shown,
            message=f"unknown {key} {tag!r}" + (f" in {where}" if where else ""),
            line=line,
            expected=", ".join(tags),
            found=safe_repr(tag),
            fix=_did_you_mean(tag, tags) or f"use one of the {key}s listed",
        )
    value = first.get("input")
    expected = str(context["expected"]) if kind == "kind_of_block" else describe(declared, metadata)
    remote = isinstance(value, str) and re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://", value)
    named = _dotted(path[max((i for i, part in enumerate(path) if isinstance(part, str)), default=0) :]) or "the value"
    if remote:
        message, fix = "a remote reference, which the build never fetches", f"write {named} inline in this file: the build reads only local files"
    else:
        choices = re.findall(r"'([^']*)'", str(context.get("expected", ""))) if kind == "literal_error" else []
        message, fix = _reason(items), _did_you_mean(value, choices) or f"write {named} as {expected}"
    return Problem(file=shown, message=f"{where or 'the file'}: {message}", line=line, expected=expected, found=_found(value), fix=fix)


_REASONS = MappingProxyType(
    {
        "string_type": "must be text",
        "float_type": "must be a number",
        "int_type": "must be a whole number",
        "bool_type": "must be true or false",
        "dict_type": "must be a mapping of keys",
        "model_type": "must be a mapping of keys",
        "model_attributes_type": "must be a mapping of keys",
        "list_type": "must be a list",
        "literal_error": "is not one of the allowed values",
        "too_short": "has too few items",
        "too_long": "has too many items",
        "string_pattern_mismatch": "does not have the form it needs",
        "string_too_short": "is too short",
        "string_too_long": "is too long",
        "greater_than_equal": "is too small",
        "date_type": "must be a date",
    }
)


def _reason(items: list[dict[str, Any]]) -> str:
    """What was wrong, in words (one error's; for a union's several, a wrong type)."""
    if len(items) > 1:
        return "a value of the wrong type"
    item = items[0]
    if item["type"] in _REASONS:
        return _REASONS[item["type"]]
    message = str(item["msg"]).removeprefix("Value error, ")
    return message[:1].lower() + message[1:] if message else "not a valid value"


def _found(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping with keys " + ", ".join(map(str, value)) if value else "an empty mapping"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' * (len(value) != 1)}"
    if value is None:
        return "nothing (an empty value)"
    return safe_repr(value)


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    """The value at ``path`` in the data as written (None where the path leads nowhere)."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _dotted(path: tuple[Any, ...]) -> str:
    """A location as an author reads it: ``charts[0].x.field``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _did_you_mean(value: Any, choices: list[str]) -> str | None:
    if not isinstance(value, str) or not choices:
        return None
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6) or difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


# -- walking the declarations -----------------------------------------------------------


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _members(annotation: Any) -> list[Any]:
    stripped = _strip(annotation)
    if get_origin(stripped) in (Union, types.UnionType):
        return list(get_args(stripped))
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field(model: type[BaseModel], key: Any) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if (info.alias or name) == key:
            return info
    return None


def _tag(member: Any, key: Any) -> bool:
    """Whether a union member is the one tagged ``key`` (a Tag, or a Literal discriminator field)."""
    if get_origin(member) is Annotated and any(isinstance(m, Tag) and m.tag == key for m in get_args(member)[1:]):
        return True
    stripped = _strip(member)
    if _is_model(stripped):
        tags = [get_args(info.annotation) for info in stripped.model_fields.values() if get_origin(info.annotation) is Literal]
        return any(len(values) == 1 and values[0] == key for values in tags)
    return False


def _split(annotation: Any) -> tuple[Any, list[Any]]:
    """An annotation without its Annotated wrapper, and the wrapper's metadata."""
    metadata: list[Any] = []
    while get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        metadata = [*extra, *metadata]
    return annotation, metadata


def _step(annotation: Any, part: Any) -> tuple[Any, list[Any], FieldInfo | None]:
    """The declaration reached from ``annotation`` by one part of a location (a key, an index or a union's tag)."""
    members = _members(annotation)
    if len(members) > 1:
        for member in members:
            if _tag(member, part):
                return (*_split(member), None)
    for member in _members(annotation):
        stripped = _strip(member)
        if _is_model(stripped):
            info = _field(stripped, part)
            if info is not None:
                inner, metadata = _split(info.annotation)
                return inner, [*info.metadata, *metadata], info
        origin = get_origin(stripped)
        if origin in (list, tuple) and isinstance(part, int):
            return (*_split(get_args(stripped)[0]), None)
        if origin is dict and not _is_model(stripped):
            return (*_split(get_args(stripped)[1]), None)
    for member in _members(annotation):
        if _tag(member, part):
            return (*_split(member), None)
    return annotation, [], None


def _declared_at(model: type[BaseModel], loc: tuple[Any, ...], path: tuple[Any, ...]) -> tuple[Any, list[Any], FieldInfo | None]:
    """The declared type (with its metadata) of the value at the data path ``path``, and the last field on the way."""
    annotation: Any = model
    found: tuple[Any, list[Any]] = (model, [])
    field: FieldInfo | None = None
    remaining = list(path)
    for part in loc:
        annotation, metadata, info = _step(annotation, part)
        field = info or field
        if remaining and part == remaining[0]:
            remaining.pop(0)
            found = (annotation, metadata)
    return found[0], found[1], field


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The block declared at ``loc``, when it is one block (a union narrowed by its tag)."""
    annotation: Any = model
    for part in loc:
        annotation, _, _ = _step(annotation, part)
    models = [_strip(m) for m in _members(annotation) if _is_model(_strip(m))]
    return models[0] if len(models) == 1 else None


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def describe(annotation: Any, metadata: list[Any] | None = None) -> str:
    """A declared type in an author's words: 'a number', 'one of: rising, falling', 'a list of …'."""
    for item in [*(metadata or []), *(get_args(annotation)[1:] if get_origin(annotation) is Annotated else [])]:
        if isinstance(item, Doc):
            return item.text
    stripped = _strip(annotation)
    origin = get_origin(stripped)
    simple = {str: "text", int: "a whole number", float: "a number", bool: "true or false", datetime.date: "a date", type(None): "nothing"}
    named = next((text for kind, text in simple.items() if stripped is kind), None)
    if named is not None:
        return named
    if origin is Literal:
        return "one of: " + ", ".join(str(v) for v in get_args(stripped))
    if origin in (Union, types.UnionType):
        members = [_strip(m) for m in get_args(stripped) if m is not type(None)]
        tagged = _tagged_by(members)
        if tagged:
            return f"a mapping with {tagged}: " + ", ".join(str(get_args(m.model_fields[tagged].annotation)[0]) for m in members)
        parts = [describe(m) for m in get_args(stripped) if m is not type(None)]
        return " or ".join(dict.fromkeys(parts))
    if origin in (list, tuple):
        return _list_of(describe(get_args(stripped)[0]))
    if origin is dict:
        return f"a mapping of names to {_plural(describe(get_args(stripped)[1]))}"
    if _is_model(stripped):
        return f"a mapping ({', '.join(_keys(stripped))})"
    if stripped is typing.Any:
        return "any value"
    return str(stripped)


def _tagged_by(members: list[Any]) -> str | None:
    """The key whose one literal value tells a union's blocks apart (check, kind), if they all have one."""
    if len(members) < 2 or not all(_is_model(m) for m in members):
        return None
    for key in list(members[0].model_fields):
        annotations = [m.model_fields[key].annotation if key in m.model_fields else None for m in members]
        if all(get_origin(a) is Literal and len(get_args(a)) == 1 for a in annotations):
            return str(key)
    return None


def _plural(text: str) -> str:
    """'a colour: "#1f5a96" …' as 'colours: "#1f5a96" …', for a list or a mapping of them."""
    text = re.sub(r"^an? ", "", text)
    match = re.match(r"([A-Za-z][\w ]*?\w)(\W.*|)$", text, re.DOTALL)
    if match is None:
        return f"items, each {text}"
    word, rest = match.groups()
    return (word if word.endswith("s") else word + "s") + rest


def _list_of(item: str) -> str:
    return f"a list, each {item}" if item.startswith("one of") else f"a list of {_plural(item)}"


def _nested(annotation: Any) -> tuple[type[BaseModel], str] | None:
    """The one block a key holds (alone, in a list or under names), and how its keys are written below it."""
    members = [m for m in _members(annotation) if _strip(m) is not type(None)]
    if len(members) != 1:
        return None
    stripped = _strip(members[0])
    if _is_model(stripped):
        return stripped, "."
    origin, args = get_origin(stripped), get_args(stripped)
    if origin is list and args and _is_model(_strip(args[0])):
        return _strip(args[0]), "[]."
    if origin is dict and len(args) == 2 and _is_model(_strip(args[1])):
        return _strip(args[1]), ".<name>."
    return None


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value in (None, [], {}, (), ""):
        return "none"
    if isinstance(value, BaseModel):
        return "see below"
    return str(value).lower() if isinstance(value, bool) else str(value)


def option_rows(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str, str]]:
    """The declared keys of a block and of the blocks inside it, for the guide: key, what it takes, default, one-line doc."""
    rows = []
    for name, info in model.model_fields.items():
        if get_origin(info.annotation) is Literal and len(get_args(info.annotation)) == 1:
            continue  # the tag that names the block's kind: the block's heading says it
        key = prefix + (info.alias or name)
        nested = _nested(info.annotation)
        takes = "a mapping" if nested and nested[1] == "." else describe(info.annotation, info.metadata)
        rows.append((key, takes, _default(info), info.description or ""))
        if nested is not None and nested[0] is not model:
            rows += option_rows(nested[0], key + nested[1])
    return rows


def blocks(model: type[BaseModel]) -> list[type[BaseModel]]:
    """Every block declared inside ``model`` (itself included), each once: for checks that every key is documented."""
    found: list[type[BaseModel]] = []
    stack: list[Any] = [model]
    while stack:
        annotation = stack.pop()
        stripped = _strip(annotation)
        if _is_model(stripped):
            if stripped in found:
                continue
            found.append(stripped)
            stack.extend(info.annotation for info in stripped.model_fields.values())
        else:
            stack.extend(get_args(stripped))
    return found


def json_schema(model: type[BaseModel], title: str, source: str) -> dict[str, Any]:
    """The JSON Schema of a declared block, for editors: the same keys, types and docs the build checks."""
    schema = model.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": f"Generated by claimsite from {source}; do not edit.",
        "title": title,
        **schema,
    }
