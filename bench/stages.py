"""Run inside a fresh child process: time each stage of one build of the project at ROOT, print the timings as JSON.

``stages``: imports, then each call of data loading, spec loading, claims, chart specs, chart rendering, pages
(the rest of report.build.generate) and the MkDocs publish, timed by wrapping the functions generate calls.
``export``: write the generated pages and files into ROOT/docs and a hook-free ROOT/mkdocs-bare.yml, for a bare
``mkdocs build`` of the same pages.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The libraries a build needs, imported first so each one's import time is its own (in this order).
LIBRARIES = ("pandas", "altair", "vl_convert", "jinja2", "frictionless", "mkdocs.commands.build", "mkdocs.config", "report.build", "report.site")
# The functions report.build.generate calls, by the stage they belong to (those the build does not have are left out).
WRAPPED = {
    "load_package": "data",
    "read_descriptor": "data",
    "load_report": "specs",
    "evaluate_all": "claims",
    "build_charts": "chart specs",
    "render": "chart rendering",
    "social_card": "social cards",
}
STAGES = ("imports", "data", "specs", "claims", "chart specs", "chart rendering", "social cards", "pages", "mkdocs")


def _timed(spent: dict[str, float], calls: dict[str, list[float]], stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds = time.perf_counter() - started
            spent[stage] += seconds
            calls[stage].append(seconds)

    return wrapper


def chart_datasets(rendered: Any) -> dict[str, list[str]]:
    """The datasets each chart of a rendered report reads: from the chart if it says, else from its table's row sources."""
    found = {}
    specs = {str(spec.get("id")): spec for spec in getattr(rendered.report, "charts", ())}
    for chart_id, chart in rendered.charts.items():
        if hasattr(chart, "datasets"):
            found[chart_id] = sorted(chart.datasets)
            continue
        table = rendered.report.tables.get(specs.get(chart_id, {}).get("data"))
        rows = getattr(table, "sources", ()) if table is not None else ()
        found[chart_id] = sorted({source.dataset for row in rows for source in row})
    return found


def stages(root: Path, site_dir: Path) -> dict[str, Any]:
    """One timed build of the project at ``root``: seconds per stage and per imported library."""
    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, list[float]] = defaultdict(list)
    libraries = {}
    for name in LIBRARIES:
        started = time.perf_counter()
        importlib.import_module(name)
        libraries[name] = round(time.perf_counter() - started, 4)
    spent["imports"] = sum(libraries.values())
    build = sys.modules["report.build"]
    site = sys.modules["report.site"]
    wrapped = {name: stage for name, stage in WRAPPED.items() if callable(getattr(build, name, None))}
    for name, stage in wrapped.items():
        setattr(build, name, _timed(spent, calls, stage, getattr(build, name)))
    started = time.perf_counter()
    generated = build.generate(sys.modules["report.project"].Project(root))
    generate_s = time.perf_counter() - started
    spent["pages"] = generate_s - sum(spent[stage] for stage in set(wrapped.values()))
    started = time.perf_counter()
    changed = site.publish(root, generated, site_dir)
    spent["mkdocs"] = time.perf_counter() - started
    charts = {f"{r.report.slug}/{chart_id}": datasets for r in generated.reports for chart_id, datasets in chart_datasets(r).items()}
    return {
        "stages_s": {stage: round(spent[stage], 4) for stage in STAGES},
        "libraries_s": libraries,
        "total_s": round(sum(spent[stage] for stage in STAGES), 4),
        "calls": {stage: len(times) for stage, times in calls.items()},
        "first_call_s": {stage: round(times[0], 4) for stage, times in calls.items()},
        "later_calls_median_s": {stage: round(statistics.median(times[1:]), 4) for stage, times in calls.items() if len(times) > 1},
        "renders": generated.renders,
        "changed": len(changed),
        "charts": charts,
    }


def export(root: Path) -> dict[str, Any]:
    """Write the generated site into ``root``/docs and a MkDocs config without the hooks, with the same navigation."""
    import yaml

    from report.build import generate
    from report.project import Project

    generated = generate(Project(root))
    docs = root / "docs"
    for path, text in generated.pages.items():
        (docs / path).parent.mkdir(parents=True, exist_ok=True)
        (docs / path).write_text(text, encoding="utf-8")
    for path, content in generated.files.items():
        (docs / path).parent.mkdir(parents=True, exist_ok=True)
        (docs / path).write_bytes(content)
    lines = (root / "mkdocs.yml").read_text(encoding="utf-8").splitlines()
    kept, skipping = [], False
    for line in lines:
        if line.startswith("hooks:"):
            skipping = True
            continue
        if skipping and (line.startswith((" ", "-")) or not line.strip()):
            continue
        skipping = False
        kept.append(line)
    nav = yaml.safe_dump({"nav": generated.nav}, allow_unicode=True, sort_keys=False)
    (root / "mkdocs-bare.yml").write_text("\n".join(kept) + "\n" + nav, encoding="utf-8")
    return {"pages": len(generated.pages), "files": len(generated.files)}


def main() -> int:
    """Parse the arguments, run the mode, print its JSON on the last line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--mode", choices=("stages", "export"), default="stages")
    parser.add_argument("--site-dir", type=Path, default=None)
    args = parser.parse_args()
    root = args.root.resolve()
    sys.path.insert(0, str(root))
    result = stages(root, (args.site_dir or root / "site").resolve()) if args.mode == "stages" else export(root)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
