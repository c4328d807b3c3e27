"""The report language is declared once: every key is documented, every block checks its keys, the guide and schema follow."""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from claimsite.charts.figures import RenderCache
from claimsite.core.errors import ReportError
from claimsite.core.schema import Block, blocks, option_rows, validate
from claimsite.core.strict import load_yaml
from claimsite.data import descriptor as package_model
from claimsite.site.build import generate
from claimsite.spec import model as spec_model
from tests.conftest import ROOT, shipped

SPECS = sorted((ROOT / "templates" / "reports").glob("*.yaml"))
DESCRIPTOR = ROOT / "data" / "datapackage.yaml"


def _declared_keys(block: type[BaseModel]) -> list[str]:
    """A block's keys as an author writes them, without the tag that names its kind (check, kind)."""
    return [key for key, _, _, _ in option_rows(block) if "." not in key and "[]" not in key]


def test_every_declared_key_has_a_one_line_doc() -> None:
    for block in blocks(spec_model.ReportSpec) + blocks(package_model.Package):
        assert block.__doc__ and block.__doc__.strip(), f"{block.__name__} has no docstring"
        for key, takes, _, doc in option_rows(block):
            assert doc and "\n" not in doc, f"{block.__name__}.{key} has no one-line doc"
            assert takes, f"{block.__name__}.{key} says nothing of what it takes"


def test_the_guide_documents_every_key_of_every_chart_and_check_from_the_declaration(guide: str) -> None:
    shown = html.unescape(guide)
    for block in (*spec_model.CHART_KINDS, *spec_model.CHECKS, spec_model.ReportSpec, package_model.FieldSpec, package_model.Resource):
        for key, _, _, doc in option_rows(block):
            assert f"| <code>{html.escape(key)}</code> |" in guide, f"the guide has no row for {block.__name__}.{key}"
            assert f" | {doc} |" in shown, f"the guide lacks the doc of {block.__name__}.{key}"


def test_every_key_the_guide_names_in_prose_is_declared() -> None:
    declared = {
        key.split(".")[-1].removesuffix("[]") for block in blocks(spec_model.ReportSpec) + blocks(package_model.Package) for key, *_ in option_rows(block)
    }
    declared |= {"name", "path", "schema", "fields", "primaryKey", "kind", "check"}
    template = (ROOT / "templates" / "reports" / "guide.md.j2").read_text(encoding="utf-8")
    named = set(re.findall(r"`(\w+):", template)) | set(re.findall(r"`\{(\w+):", template))
    assert named, "the guide names no keys"
    assert named <= declared, f"the guide names keys that are not declared: {sorted(named - declared)}"


# -- a misspelt key in every block ---------------------------------------------------------------


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], type[Block]]]:
    """Every block of a validated spec (or descriptor) and the path of its mapping in the written data."""
    found: list[tuple[tuple[Any, ...], type[Block]]] = []
    if isinstance(value, Block):
        found.append((path, type(value)))
        for name, info in type(value).model_fields.items():
            if name in value.model_fields_set:
                found += _places(getattr(value, name), (*path, info.alias or name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found += _places(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            found += _places(item, (*path, key))
    return found


def _misspelt(key: str) -> str:
    return key + key[-1]


def _cases(model: type[Block], documents: list[tuple[str, Any]]) -> dict[str, tuple[str, Any, tuple[Any, ...], str]]:
    """For each block declared in ``model``, one place it is written in ``documents`` and the key to misspell there."""
    cases: dict[str, tuple[str, Any, tuple[Any, ...], str]] = {}
    for shown, data in documents:
        for path, block in _places(validate(model, data, shown)):
            # the longest key, for an unambiguous misspelling; not the key that tells a view's kind (a view without it has no kind)
            keys = sorted((k for k in _declared_keys(block) if k not in ("match", "difference")), key=len, reverse=True)
            if block.__name__ not in cases and keys:
                cases[block.__name__] = (shown, data, path, keys[0])
    return cases


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _descriptor_with_every_block() -> Any:
    """The shipped descriptor with the blocks it does not use added: contributors, a display, a dialect, a foreign key."""
    data = copy.deepcopy(_plain(load_yaml(DESCRIPTOR, "data/datapackage.yaml", "the descriptor")))
    data["contributors"] = [{"title": "An author", "role": "author"}]
    resource = data["resources"][2]
    resource["dialect"] = {"delimiter": ",", "skipInitialSpace": False}
    resource["schema"]["fields"][2]["display"] = {"decimals": 1}
    resource["schema"]["foreignKeys"] = [{"fields": "benchmark", "reference": {"resource": "", "fields": "benchmark"}}]
    return data


SPEC_CASES = _cases(spec_model.ReportSpec, [(f"templates/reports/{p.name}", _plain(load_yaml(p, p.name, "the spec"))) for p in SPECS])
PACKAGE_CASES = _cases(package_model.Package, [("data/datapackage.yaml", _descriptor_with_every_block())])


def test_the_cases_cover_every_block() -> None:
    assert set(SPEC_CASES) == {block.__name__ for block in blocks(spec_model.ReportSpec)}
    assert set(PACKAGE_CASES) == {block.__name__ for block in blocks(package_model.Package)}


@pytest.mark.parametrize(("model", "name"), [(spec_model.ReportSpec, n) for n in SPEC_CASES] + [(package_model.Package, n) for n in PACKAGE_CASES])
def test_a_misspelt_key_in_any_block_is_located_with_a_did_you_mean(model: type[Block], name: str, tmp_path: Path) -> None:
    shown, data, path, key = (SPEC_CASES if model is spec_model.ReportSpec else PACKAGE_CASES)[name]
    edited = copy.deepcopy(data)
    target = edited
    for part in path:
        target = target[part]
    target[_misspelt(key)] = target.pop(key) if key in target else 1
    written = tmp_path / "edited.yaml"
    written.write_text(yaml.safe_dump(edited, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ReportError) as caught:
        validate(model, load_yaml(written, shown, "the file"), shown)
    problem = next(p for p in caught.value.problems if p.message.startswith(f"unknown key {_misspelt(key)!r}"))
    assert problem.fix == f"did you mean {key!r}?", str(problem)
    lines = written.read_text(encoding="utf-8").splitlines()
    assert problem.line is not None and _misspelt(key) in lines[problem.line - 1], str(problem)


# -- the JSON Schema editors read ----------------------------------------------------------------


@pytest.fixture(scope="module")
def report_schema() -> dict[str, Any]:
    return json.loads(generate(shipped(), cache=RenderCache(None), render_charts=False).files["schema/report.schema.json"])


def test_the_published_schema_accepts_the_shipped_specs_and_rejects_a_misspelt_key(report_schema: dict[str, Any]) -> None:
    assert report_schema["$comment"].startswith("Generated by claimsite")
    for path in SPECS:
        jsonschema.validate(_plain(yaml.safe_load(path.read_text(encoding="utf-8"))), report_schema)
    spec = _plain(yaml.safe_load(SPECS[0].read_text(encoding="utf-8")))
    spec["claims"][0]["at_leats"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(spec, report_schema)


def test_every_shipped_spec_points_editors_at_the_schema() -> None:
    for path in SPECS:
        assert path.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=../../site/schema/report.schema.json\n"), path.name
