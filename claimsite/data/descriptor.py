"""The data package descriptor, declared: the Frictionless keys this project reads, and its own (``reading``, ``precision``, ``unit``).

Frictionless checks the descriptor's meaning; these declarations make it strict first: an unknown or
misspelt key, a value of the wrong type, a remote reference (the build never fetches) or a data
file outside ``data/`` is a located error.
"""

from __future__ import annotations

import datetime
import posixpath
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from claimsite.core.schema import Block, Doc, Scalar, Url


def _local_path(path: str) -> str:
    if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", path):
        raise ValueError("a data file is a path inside data/, not a URL: the build reads only local files")
    normal = posixpath.normpath(path.replace("\\", "/"))
    if path.startswith(("/", "\\")) or normal == ".." or normal.startswith("../"):
        raise ValueError("a data file is a path inside data/, relative to the descriptor")
    if not normal.lower().endswith((".csv", ".tsv", ".parquet")):
        raise ValueError("a data file is a .csv, .tsv or .parquet file")
    return path


def _column_name(name: str) -> str:
    if name.startswith("__"):
        raise ValueError("a column's name may not start with '__': the build keeps such names for its own columns")
    return name


DataPath = Annotated[str, AfterValidator(_local_path), Doc("a .csv, .tsv or .parquet file in data/, e.g. results.csv")]
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$"), Doc("lowercase letters, digits, '.', '-' and '_', e.g. team_results")]
FieldType = Literal[
    "string", "number", "integer", "boolean", "date", "datetime", "time", "year", "yearmonth", "duration", "object", "array", "geopoint", "geojson", "any"
]


class Source(Block):
    """Where the values come from."""

    title: str = Field(description="what the source is, as the data page names it")
    path: Url | None = Field(default=None, description="a link to it")
    email: str | None = Field(default=None, description="a contact address")


class License(Block):
    """The terms the data is under."""

    name: str | None = Field(default=None, description="its identifier, e.g. CC-BY-4.0")
    title: str | None = Field(default=None, description="its name in words")
    path: Url | None = Field(default=None, description="a link to its text")


class Contributor(Block):
    """A person or organisation who made the data."""

    title: str = Field(description="the person or organisation")
    role: str | None = Field(default=None, description="their role, e.g. author")
    email: str | None = Field(default=None, description="a contact address")
    path: Url | None = Field(default=None, description="a link to them")
    organization: str | None = Field(default=None, description="where they work")


class Constraints(Block):
    """Rules every value of a column must follow; a value that breaks one is a located error."""

    required: bool | None = Field(default=None, description="every row has a value")
    unique: bool | None = Field(default=None, description="no two rows share a value")
    minimum: Scalar | None = Field(default=None, description="the smallest value allowed")
    maximum: Scalar | None = Field(default=None, description="the largest value allowed")
    exclusiveMinimum: Scalar | None = Field(default=None, description="values must be above this")
    exclusiveMaximum: Scalar | None = Field(default=None, description="values must be below this")
    minLength: int | None = Field(default=None, ge=0, description="the shortest text allowed")
    maxLength: int | None = Field(default=None, ge=0, description="the longest text allowed")
    pattern: str | None = Field(default=None, description="a regular expression every value matches")
    enum: list[Scalar] | None = Field(default=None, min_length=1, description="the only values allowed")


class Display(Block):
    """How a column's values print on the site: in sentences, tables, tooltips and on axes."""

    decimals: int | None = Field(default=None, ge=0, le=10, description="digits after the decimal point (default: 1; 0 for integers; 2 for money)")
    thousands: bool = Field(default=True, description="group thousands with commas: 12,345")
    percent: bool = Field(default=False, description="the values are fractions of one, printed as percentages: 0.834 as 83.4%")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="the values are money in this ISO currency, e.g. EUR: €1,234.50")
    duration: Literal["seconds", "minutes", "hours", "days"] | None = Field(
        default=None, description="the values are durations in this unit, printed as 1 h 05 min"
    )
    date: str | None = Field(
        default=None, pattern=r"^[%A-Za-z0-9 ,.:/'-]{1,30}$", description="how dates print, a strftime pattern such as %B %Y (default: from the data)"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Display:
        kinds = [name for name in ("percent", "currency", "duration") if getattr(self, name)]
        if len(kinds) > 1:
            raise ValueError(f"a column is one of percent, currency or duration, not {' and '.join(kinds)}")
        return self


class FieldSpec(Block):
    """One column of a CSV: its name, type, unit, how it prints and its constraints."""

    name: Annotated[str, AfterValidator(_column_name)] = Field(min_length=1, description="the column's name, exactly as the CSV header writes it")
    type: FieldType = Field(default="string", description="the column's type")
    format: str | None = Field(default=None, description="the Frictionless format of the type, e.g. %d/%m/%Y for a date")
    title: str | None = Field(default=None, description="the column's name in tables, charts and tooltips")
    description: str | None = Field(default=None, description="what the column holds")
    unit: str | None = Field(default=None, description='the unit of its numbers, e.g. "%", mm, °C, samples; differences of "%" are in points')
    display: Display | None = Field(default=None, description="how its values print: decimals, thousands, percent, currency, duration, date")
    constraints: Constraints | None = Field(default=None, description="rules every value must follow")
    groupChar: str | None = Field(default=None, max_length=1, description="the thousands separator numbers are written with")
    decimalChar: str | None = Field(default=None, min_length=1, max_length=1, description="the character before decimals (default '.')")
    bareNumber: bool | None = Field(default=None, description="false: numbers may carry text around them, such as a % sign")
    trueValues: list[str] | None = Field(default=None, description="how true is written in a boolean column")
    falseValues: list[str] | None = Field(default=None, description="how false is written in a boolean column")
    missingValues: list[str] | None = Field(default=None, description="cells that mean 'no value' in this column")
    example: Scalar | None = Field(default=None, description="an example value")
    rdfType: Url | None = Field(default=None, description="the RDF type of the values")


class Reference(Block):
    """The rows a foreign key must name."""

    resource: str = Field(description="the resource referred to ('' for this one)")
    fields: str | list[str] = Field(description="its key columns")


class ForeignKey(Block):
    """Columns whose values must be the key of a row of another table."""

    fields: str | list[str] = Field(description="this table's columns")
    reference: Reference = Field(description="the rows they must name")


class Schema(Block):
    """The columns of a CSV, its key and its missing values."""

    fields: list[FieldSpec] = Field(min_length=1, description="each column of the CSV, in order")
    primaryKey: str | list[str] | None = Field(default=None, description="the columns that name each row (each combination once)")
    missingValues: list[str] | None = Field(default=None, description="cells that mean 'no value' (default: an empty cell)")
    foreignKeys: list[ForeignKey] | None = Field(default=None, description="columns whose values must be keys of another table")


class Dialect(Block):
    """How a CSV is written, when it is not comma-separated with a header."""

    delimiter: str | None = Field(default=None, min_length=1, max_length=1, description="the character between cells (default ',')")
    quoteChar: str | None = Field(default=None, min_length=1, max_length=1, description='the character around quoted cells (default ")')
    doubleQuote: bool | None = Field(default=None, description='a quote inside a quoted cell is written twice ("")')
    escapeChar: str | None = Field(default=None, min_length=1, max_length=1, description="the character that escapes the next one")
    skipInitialSpace: bool | None = Field(default=None, description="ignore spaces after each delimiter")
    header: Literal[True] | None = Field(default=None, description="the first line is the header (it must be)")
    lineTerminator: str | None = Field(default=None, description="the line ending (read either way)")
    commentChar: str | None = Field(default=None, min_length=1, max_length=1, description="lines starting with it are comments")
    caseSensitiveHeader: bool | None = Field(default=None, description="header names match field names case-sensitively")


class Resource(Block):
    """One CSV of data/: its file, title, source, how it was read and its columns."""

    name: Name = Field(description="the dataset's name, as report specs refer to it")
    path: DataPath = Field(description="the CSV file, relative to data/")
    title: str | None = Field(default=None, description="the dataset's title on the data page")
    description: str | None = Field(default=None, description="what the table holds and how it was made")
    format: Literal["csv", "tsv", "parquet"] | None = Field(default=None, description="csv, tsv or parquet (default: from the file name)")
    mediatype: Literal["text/csv", "text/tab-separated-values"] | None = Field(default=None, description="the file's media type")
    encoding: str | None = Field(default=None, description="the file's text encoding (default utf-8)")
    sources: list[Source] | None = Field(default=None, description="where the values come from")
    licenses: list[License] | None = Field(default=None, description="the terms the data is under")
    reading: Literal["table", "figure"] = Field(default="table", description="table: published numbers; figure: values read off a figure")
    precision: float = Field(default=0, ge=0, description="how far a value read off a figure may be off, in points")
    schema_: Schema = Field(alias="schema", description="the columns of the CSV, inline")
    dialect: Dialect | None = Field(default=None, description="how the CSV is written, inline (default: comma-separated, UTF-8)")
    profile: Literal["tabular-data-resource", "data-resource"] | None = Field(default=None, description="the resource's profile")
    bytes: int | None = Field(default=None, ge=0, description="the file's size")
    hash: str | None = Field(default=None, description="the file's hash")


class Package(Block):
    """``data/datapackage.yaml``: the datasets, and what each column of each CSV holds."""

    name: Name | None = Field(default=None, description="the package's name")
    id: str | None = Field(default=None, description="a global identifier, e.g. a DOI")
    title: str | None = Field(default=None, description="the package's title")
    description: str | None = Field(default=None, description="what the data is")
    version: str | None = Field(default=None, description="the data's version")
    homepage: Url | None = Field(default=None, description="a link to the data's home")
    created: str | datetime.date | datetime.datetime | None = Field(default=None, description="when it was made")
    keywords: list[str] | None = Field(default=None, description="words to find it by")
    image: Url | None = Field(default=None, description="an image for it")
    licenses: list[License] | None = Field(default=None, description="the terms the data is under")
    sources: list[Source] | None = Field(default=None, description="where the data comes from")
    contributors: list[Contributor] | None = Field(default=None, description="who made it")
    profile: Literal["tabular-data-package", "data-package"] | None = Field(default=None, description="the package's profile")
    resources: list[Resource] = Field(description="one entry per CSV in data/")

    def by_name(self) -> dict[str, Any]:
        """The resources by name."""
        return {resource.name: resource for resource in self.resources}
