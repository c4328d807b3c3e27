"""The live preview: MkDocs' development server, watching the project's files closely and rebuilding only what changed.

It is MkDocs' own `serve` (its live-reload server, a dirty build into a temporary folder), looking at the watched
files every tenth of a second instead of every half second: a saved file is seen 0.05 s after the save on average,
not 0.25 s. A rebuild starts once a look finds no further change, so that a save that spans two looks is built once,
whole. The server polls, rather than waiting for the system's file events, so that it also follows a project on a
mounted or network folder.
"""

from __future__ import annotations

import ipaddress
import logging
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from claimsite.charts.engine import Engine
from claimsite.site.plugin import Session, load_project_config

POLL_SECONDS = 0.1
QUIET_SECONDS = POLL_SECONDS  # no shorter: changes are seen one look at a time


def serve(root: Path, dev_addr: str) -> None:
    """Serve the project at ``root`` until interrupted, rebuilding what a saved file changes; a mistake keeps the last good site."""
    from mkdocs.commands.build import build
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.livereload import LiveReloadServer

    session = Session(keep_last_good=True)  # one for every rebuild: the last good site, the warm engine
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    logging.getLogger("mkdocs").addHandler(handler)
    logging.getLogger("mkdocs").setLevel(logging.INFO)
    # A rebuild rewrites only the pages and files whose content changed (see on_files in claimsite/site/plugin.py),
    # which MkDocs calls a dirty build; its warning that navigation may go stale does not apply, as a change of
    # navigation rebuilds every page.
    logging.getLogger("mkdocs.commands.build").addFilter(lambda record: not record.getMessage().startswith("A 'dirty' build"))
    site_dir = tempfile.mkdtemp(prefix="report-preview-")

    def configured() -> MkDocsConfig:
        return load_project_config(root, session, site_dir=site_dir, strict=True, dev_addr=dev_addr)

    config = configured()
    config.plugins.on_startup(command="serve", dirty=True)
    host, port = config.dev_addr
    mount_path = urlsplit(config.site_url or "/").path.strip("/")
    url = f"http://{host}:{port}/" + (f"{mount_path}/" if mount_path else "")

    def builder(config: MkDocsConfig | None = None) -> None:
        logging.getLogger("mkdocs").info("Building documentation...")
        config = config or configured()
        config.site_url = url
        build(config, serve_url=url, dirty=True)

    class OwnHostOnly(LiveReloadServer):
        """The preview answers requests for its own address only: a page elsewhere that points a name of its own at this
        machine (DNS rebinding) gets nothing of the drafts."""

        def serve_request(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            if not own_host(environ.get("HTTP_HOST", ""), host, port):
                start_response("421 Misdirected Request", [("Content-Type", "text/plain; charset=utf-8")])
                return [b"This preview answers only at its own address.\n"]
            return super().serve_request(environ, start_response)

    server: LiveReloadServer = OwnHostOnly(builder=builder, host=host, port=port, root=site_dir, mount_path=f"/{mount_path}", polling_interval=POLL_SECONDS)
    server.build_delay = QUIET_SECONDS
    server.error_handler = lambda code: _error_page(Path(site_dir), code)
    try:
        with Engine.started() as engine:  # warm for every rebuild: a changed chart is drawn without starting an engine
            session.engine = engine
            builder(config)
            server.watch(config.docs_dir)
            server.watch(config.config_file_path)
            server = config.plugins.on_serve(server, config=config, builder=builder)
            for item in config.watch:
                server.watch(item)
            try:
                server.serve()  # type: ignore[no-untyped-call]  # MkDocs declares no types for it
            except KeyboardInterrupt:
                logging.getLogger("mkdocs").info("Shutting down...")
            finally:
                server.shutdown()
    finally:
        config.plugins.on_shutdown()
        shutil.rmtree(site_dir, ignore_errors=True)


def own_host(header: str, host: str, port: int) -> bool:
    """Whether a request's Host header names the preview: its own address, a loopback name, or an IP address at its port
    (a page elsewhere reaches it by a name of its own, which it points at this machine: DNS rebinding)."""
    name, _, given = header.lower().rpartition(":")
    if not name or given != str(port):
        return False
    name = name.strip("[]")
    if name in (host.lower().strip("[]"), "localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _error_page(site_dir: Path, code: int) -> bytes | None:
    """The site's own page for a missing page (or a server error), as MkDocs' server shows it."""
    page = site_dir / f"{code}.html"
    return page.read_bytes() if code in (404, 500) and page.is_file() else None
