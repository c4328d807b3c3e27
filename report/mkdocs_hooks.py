"""MkDocs hooks: add the generated pages and files in memory, so nothing is written under docs/."""

from __future__ import annotations

import hashlib
import sys
import traceback
from pathlib import Path
from types import MappingProxyType

# MkDocs loads this file by path, anew for every build: make the project's package importable
# from it, and keep all state in the package (report.site.HOOKS), not in this module.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rcssmin
import rjsmin
from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from report.build import generate
from report.errors import ReportError
from report.links import link_problem
from report.offline import offline
from report.project import Project
from report.site import HOOKS


class BuildStopped(SystemExit, Exception):
    """A user mistake found while MkDocs builds: printed without a traceback, the last site kept.

    An Exception too, so that the live preview's rebuild loop prints it and keeps serving.
    """


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Generate the report (or take the preloaded one) and set the navigation from it."""
    for key in ("site_url", "repo_url"):
        problem = site_url_problem(config[key])
        if problem:
            raise BuildStopped(f"\nThe report was not built. error: mkdocs.yml: {key}: {problem}\n")
    if HOOKS.preloaded is not None:
        HOOKS.current = HOOKS.preloaded
    else:
        try:
            with offline():
                HOOKS.current = generate(Project(Path(config.config_file_path).parent), engine=HOOKS.engine)
        except Exception as error:  # the live preview keeps serving the last good site whatever stopped the build
            if not (HOOKS.keep_last_good and HOOKS.current is not None):
                if isinstance(error, ReportError):
                    raise BuildStopped(f"\nThe report was not built. {error}\n") from None
                raise
            if not isinstance(error, ReportError):
                traceback.print_exc()
            print(f"\nThe report was not rebuilt; still showing the last good version. {error}\n", file=sys.stderr, flush=True)
    config.nav = HOOKS.current.nav
    return config


def on_env(env: Environment, config: MkDocsConfig, files: Files) -> Environment:
    """Keep the theme's compiled templates between the live preview's builds, in memory (Jinja checks each against its
    source): compiling them anew took a third of a rebuild's MkDocs time. Never on disk: compiled code is not read back."""
    env.bytecode_cache = HOOKS.compiled
    return env


def site_url_problem(url: str | None) -> str | None:
    """Why the site's address may not be written into its pages, if it may not."""
    return link_problem(url, absolute=True) if url else None


class Kept(File):
    """A generated file the live preview built before with the same content: its rebuild leaves it as it is."""

    def is_modified(self) -> bool:
        return False


class Minified(File):
    """The site's own script or stylesheet, published minified: written only when its bytes change."""

    def is_modified(self) -> bool:
        published = Path(self.abs_dest_path)
        return not published.is_file() or published.read_bytes() != self.content_bytes


# The site's own script and stylesheet are published without their comments and spaces, so that a reader's page loads
# fewer bytes; docs/assets keeps them as written.
MINIFIERS = MappingProxyType({"assets/report.js": rjsmin.jsmin, "assets/report.css": rcssmin.cssmin})


def _minified(files: Files, config: MkDocsConfig) -> None:
    for path, minify in MINIFIERS.items():
        source = files.get_file_from_path(path)
        if source is None or source.abs_src_path is None:
            continue
        files.remove(source)
        text = Path(source.abs_src_path).read_text(encoding="utf-8")
        files.append(Minified.generated(config, path, content=f"/* Minified by the build from docs/{path} */\n{minify(text)}\n"))


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated pages, figures, data downloads and claims.json.

    In the live preview (a dirty build), a page or file whose content did not change since the last build is kept,
    unless the navigation or the site's look (mkdocs.yml, the theme's overrides) changed: only what changed is rebuilt.
    """
    current = HOOKS.current
    assert current is not None
    built = HOOKS.built if HOOKS.built is not None and HOOKS.built.nav == current.nav and HOOKS.built_look == look(config) else None
    before: dict[str, str | bytes] = {**built.pages, **built.files} if built is not None else {}
    generated: list[tuple[str, str | bytes]] = [*current.pages.items(), *current.files.items()]
    for path, content in generated:
        files.append((Kept if before.get(path) == content else File).generated(config, path, content=content))
    for path, source in current.copies.items():
        files.append(File.generated(config, path, abs_src_path=str(source)))
    _minified(files, config)
    return files


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Put each chart's drawing into the page's HTML, after Markdown and the search index have read the page without it."""
    assert HOOKS.current is not None
    return HOOKS.current.drawn(output)


def on_post_build(config: MkDocsConfig) -> None:
    """The live preview's next build compares with what this one built."""
    if HOOKS.keep_last_good:
        HOOKS.built, HOOKS.built_look = HOOKS.current, look(config)


def look(config: MkDocsConfig) -> str:
    """A fingerprint of what, besides the generated pages, shapes every page: mkdocs.yml and the theme's overrides."""
    digest = hashlib.sha256(Path(config.config_file_path).read_bytes())
    folder = config.theme.custom_dir
    for path in sorted(Path(folder).rglob("*")) if folder else []:
        if path.is_file():
            digest.update(path.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
