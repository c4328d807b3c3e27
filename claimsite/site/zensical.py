"""Zensical as the site's publisher (``build --publisher zensical``), for when MkDocs and Material stop receiving fixes.

Zensical, by the authors of Material for MkDocs, reads ``mkdocs.yml`` but runs no MkDocs plugin. So the generated
pages (with each chart's drawing in place), figures and downloads are written to a folder it reads, beside a
configuration that inherits the project's ``mkdocs.yml`` and adds what the plugin adds under MkDocs: the navigation,
the engine's stylesheet and script, and the Markdown the pages are written in. ``DIFFERENCES`` says what a site built
this way lacks; the README lists it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from claimsite.core.errors import ReportError
from claimsite.pages.render import Generated
from claimsite.site.plugin import MARKDOWN, MINIFIERS, SCRIPT, STYLESHEET, THEME, minified

VERSION = "0.1.2"  # the release the site is tested with
DIFFERENCES = (
    "The engine's overrides of the Material theme are not applied, as Zensical's templates are its own: pages carry no "
    "link-preview (Open Graph) tags, the palette toggle is the theme's, and the theme's scripts are not deferred",
    "A project's own theme overrides (`custom_dir`) and MkDocs hooks are not applied",
    "Each chart's drawing is part of its page's Markdown, so the site search indexes the drawings' text too",
)
TIMEOUT_SECONDS = 600


def zensical_build(root: Path, generated: Generated, site_dir: Path, site_url: str | None, epoch: str) -> None:
    """Build the generated site with Zensical into ``site_dir`` (a new, empty folder), strictly: a warning stops it."""
    if importlib.util.find_spec("zensical") is None:
        raise ReportError.at(
            "--publisher zensical",
            "Zensical is not installed here",
            fix=f'install it beside the engine: pip install "zensical=={VERSION}"',
        )
    work = Path(tempfile.mkdtemp(prefix=".zensical-", dir=site_dir.parent))  # Zensical writes only inside its project
    try:
        _write_sources(root, generated, work / "docs")
        config = work / "mkdocs.yml"
        config.write_text(_config(root, generated, site_url), encoding="utf-8")
        env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
        try:
            done = subprocess.run(
                [sys.executable, "-m", "zensical", "build", "--strict", "--config-file", str(config)],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ReportError.at("--publisher zensical", f"Zensical took longer than {TIMEOUT_SECONDS} s", fix="build with MkDocs") from None
        if done.returncode != 0:
            said = [line for line in (done.stderr + done.stdout).splitlines() if line.strip() and not line.startswith(("Traceback", "  "))]
            raise ReportError.at("mkdocs.yml", "Zensical stopped the build", found="\n    ".join(said[-12:]) or None, fix="fix what Zensical says above")
        site_dir.rmdir()
        (work / "site").rename(site_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_sources(root: Path, generated: Generated, docs: Path) -> None:
    """The folder Zensical reads: the project's own docs/, the engine's assets, then the generated pages and files."""
    if (root / "docs").is_dir():
        shutil.copytree(root / "docs", docs, dirs_exist_ok=True)
    shutil.copytree(THEME / "assets", docs / "assets", dirs_exist_ok=True)
    for path in MINIFIERS:
        (docs / path).write_text(minified(path, (THEME / path).read_text(encoding="utf-8")), encoding="utf-8")
    written: dict[str, str | bytes] = {**{path: generated.drawn(text) for path, text in generated.pages.items()}, **generated.files}
    for path, content in written.items():
        target = docs / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    for path, source in generated.copies.items():
        (docs / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, docs / path)


def _config(root: Path, generated: Generated, site_url: str | None) -> str:
    """A configuration that inherits the project's mkdocs.yml (JSON, which YAML reads): what the plugin adds under MkDocs."""
    written = _project_config(root)
    extensions: list[Any] = list(written.get("markdown_extensions") or [])
    named = {entry if isinstance(entry, str) else next(iter(entry), "") for entry in extensions if isinstance(entry, str | dict)}
    extensions += [{name: options} if options else name for name, options in MARKDOWN.items() if name not in named]
    extra_css = [*(written.get("extra_css") or []), STYLESHEET]
    extra_javascript = [*(written.get("extra_javascript") or []), {"path": SCRIPT, "defer": True}]
    config: dict[str, Any] = {
        "INHERIT": str((root / "mkdocs.yml").resolve()),
        "docs_dir": "docs",
        "site_dir": "site",
        "nav": generated.nav,
        "theme": {"variant": "classic"},  # the look of Material for MkDocs
        "extra_css": extra_css,
        "extra_javascript": extra_javascript,
        "markdown_extensions": extensions,
        "plugins": [name for name in _plugin_names(written.get("plugins")) if name != "claimsite"],
        **({"site_url": site_url} if site_url else {}),
    }
    try:
        return json.dumps(config, indent=2) + "\n"
    except TypeError:
        raise ReportError.at(
            "mkdocs.yml",
            "a Markdown extension or stylesheet is written as Python, which a Zensical build cannot pass on",
            fix="write markdown_extensions, extra_css and extra_javascript as plain values, or build with MkDocs",
        ) from None


def _plugin_names(plugins: Any) -> list[str]:
    if isinstance(plugins, dict):
        return [str(name) for name in plugins]
    return [str(entry if isinstance(entry, str) else next(iter(entry), "")) for entry in plugins or ["search"]]


def _project_config(root: Path) -> dict[str, Any]:
    from mkdocs.utils.yaml import yaml_load

    with (root / "mkdocs.yml").open(encoding="utf-8") as stream:
        written = yaml_load(stream)
    return written if isinstance(written, dict) else {}
