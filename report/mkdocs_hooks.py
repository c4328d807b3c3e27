"""MkDocs hooks: add the generated pages and files in memory, so nothing is written under docs/."""

from __future__ import annotations

import sys
from pathlib import Path

# MkDocs loads this file by path: make the project's package importable from it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from report.build import Generated, Project, generate
from report.errors import ReportError

# Set by the command line when it has already generated the site, so it is not generated twice.
preloaded: Generated | None = None
_current: Generated | None = None


class BuildStopped(SystemExit):
    """A user mistake found while MkDocs builds: printed without a traceback, the last site kept."""


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Generate the report (or take the preloaded one) and set the navigation from it."""
    global _current
    if preloaded is not None:
        _current = preloaded
    else:
        try:
            _current = generate(Project(Path(config.config_file_path).parent))
        except ReportError as error:
            raise BuildStopped(f"\nThe report was not built. {error}\n") from None
    config.nav = _current.nav
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated pages, figures, data downloads and claims.json."""
    assert _current is not None
    for path, text in _current.pages.items():
        files.append(File.generated(config, path, content=text))
    for path, content in _current.files.items():
        files.append(File.generated(config, path, content=content))
    return files
