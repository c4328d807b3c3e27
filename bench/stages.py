"""Run inside a fresh child process: time each stage of one build of the project at ROOT, print the timings as JSON.

``stages``: imports, then the seconds of each stage of the build as the build's own clock (claimsite.site.build.Clock)
measures them, and the MkDocs publish; the chart engines start as the command line starts them.
``export``: write the generated pages and files into ROOT/docs and a hook-free ROOT/mkdocs-bare.yml, for a bare
``mkdocs build`` of the same pages.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

# The libraries a build needs, imported first so each one's import time is its own (in this order).
LIBRARIES = (
    "pandas",
    "altair",
    "vl_convert",
    "jinja2",
    "frictionless",
    "mkdocs.commands.build",
    "mkdocs.config",
    "claimsite.site.build",
    "claimsite.site.publish",
)


def chart_datasets(rendered: Any) -> dict[str, list[str]]:
    """The datasets each chart of a rendered report reads: from the chart if it says, else from its table's row sources."""
    found = {}
    tables = {spec.id: spec.data for spec in rendered.report.charts}
    for chart_id in rendered.charts:
        table = rendered.report.tables.get(tables.get(chart_id, ""))
        rows = getattr(table, "sources", ()) if table is not None else ()
        found[chart_id] = sorted({name for row in rows for source in row for name in getattr(source, "datasets", (getattr(source, "dataset", ""),)) if name})
    return found


def stages(root: Path, site_dir: Path) -> dict[str, Any]:
    """One timed build of the project at ``root``: seconds per stage and per imported library."""
    from claimsite.charts.engine import engine_for
    from claimsite.core.project import Project

    project = Project(root)
    with engine_for(project.cache) as engine:
        libraries = {}
        for name in LIBRARIES:
            started = time.perf_counter()
            importlib.import_module(name)
            libraries[name] = round(time.perf_counter() - started, 4)
        build = sys.modules["claimsite.site.build"]
        site = sys.modules["claimsite.site.publish"]
        clock = build.Clock(seconds={"imports": sum(libraries.values())})
        order = ("imports", *build.STAGES, "mkdocs")  # the build's own stages, between its imports and MkDocs
        generated = build.generate(project, engine=engine, clock=clock)
        workers = engine.workers
    with clock.stage("mkdocs"):
        changed = site.publish(root, generated, site_dir)
    charts = {f"{r.report.slug}/{chart_id}": datasets for r in generated.reports for chart_id, datasets in chart_datasets(r).items()}
    return {
        "stages_s": {stage: round(clock.seconds.get(stage, 0.0), 4) for stage in order},
        "libraries_s": libraries,
        "total_s": round(sum(clock.seconds.get(stage, 0.0) for stage in order), 4),
        "units": {stage: clock.units[stage] for stage in order if stage in clock.units},
        "engines": workers,
        "renders": generated.renders,
        "changed": len(changed),
        "charts": charts,
    }


def export(root: Path) -> dict[str, Any]:
    """Write the generated site into ``root``/docs and a MkDocs config without the report's plugin, with the same
    navigation, theme overrides and assets: what MkDocs alone does with the same pages."""
    import shutil

    import yaml

    from claimsite.core.project import Project
    from claimsite.site.build import generate
    from claimsite.site.plugin import SCRIPT, STYLESHEET, THEME

    generated = generate(Project(root))
    docs = root / "docs"
    for path, text in generated.pages.items():
        (docs / path).parent.mkdir(parents=True, exist_ok=True)
        (docs / path).write_text(generated.drawn(text), encoding="utf-8")  # the drawings in the Markdown: no plugin puts them in
    for path, content in generated.files.items():
        (docs / path).parent.mkdir(parents=True, exist_ok=True)
        (docs / path).write_bytes(content)
    shutil.copytree(THEME / "assets", docs / "assets", dirs_exist_ok=True)
    kept = []
    for line in (root / "mkdocs.yml").read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("- claimsite"):
            continue
        kept.append(line)
        if line == "theme:":
            kept.append(f"  custom_dir: {THEME}")
    extra = yaml.safe_dump(
        {"nav": generated.nav, "extra_css": [STYLESHEET], "extra_javascript": [{"path": SCRIPT, "defer": True}]}, allow_unicode=True, sort_keys=False
    )
    (root / "mkdocs-bare.yml").write_text("\n".join(kept) + "\n" + extra, encoding="utf-8")
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
