"""Helpers for the browser tests: find Chromium, serve a built site, watch what a page loads and logs."""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Request, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_CHROMIUM = (
    "no Chromium found for the browser tests: install Chromium (Debian: `apt-get install chromium`) "
    'or set CHROMIUM_PATH to its executable, or deselect these tests with -m "not browser"'
)
LOCAL_HOST = "127.0.0.1"


def find_chromium() -> str | None:
    """The Chromium executable: CHROMIUM_PATH, else ``chromium`` on PATH, else /usr/bin/chromium; None if none exists."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).is_file() else None
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


class QuietHandler(SimpleHTTPRequestHandler):
    """A static file handler that logs nothing."""

    def log_message(self, format: str, *args: Any) -> None:
        """Drop the access log line."""


class QuietServer(ThreadingHTTPServer):
    """A server that says nothing when the browser drops a connection it no longer needs (a page closed mid-load)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) from a daemon thread; yield its base URL, ending in /."""
    server = QuietServer((LOCAL_HOST, 0), functools.partial(QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class Watch:
    """Everything a page requested, logged as an error or threw, and every response that failed."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> Page:
        """Record the page's requests, console errors, uncaught exceptions and failed responses."""
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))
        page.on("response", self._response)
        # A request the browser itself cancelled (net::ERR_ABORTED, e.g. the favicon when the tab goes on to another page) is not a broken
        # link: a missing file shows up as an HTTP error below.
        page.on("requestfailed", lambda request: None if "ERR_ABORTED" in str(request.failure) else self.failed.append(f"{request.url}: {request.failure}"))
        return page

    def clear(self) -> None:
        """Forget what was recorded: the tab goes on to another page."""
        for recorded in (self.requests, self.console_errors, self.page_errors, self.failed):
            recorded.clear()

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.location.get('url', '')}: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url}: HTTP {response.status}")

    def foreign_requests(self) -> list[str]:
        """Requests to any host but the local server (data: and blob: URLs stay in the page)."""
        return [url for url in self.requests if urlsplit(url).scheme not in {"data", "blob", "about"} and urlsplit(url).hostname != LOCAL_HOST]


def luminance(css_color: str) -> float:
    """The relative luminance (WCAG) of a CSS ``rgb()``/``rgba()`` colour, from 0 (black) to 1 (white)."""
    match = re.match(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)", css_color)
    if not match:
        raise ValueError(f"not an rgb() colour: {css_color!r}")

    def linear(channel: str) -> float:
        c = float(channel) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(channel) for channel in match.groups())
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


CHARTS_READY = """() => {
  const charts = [...document.querySelectorAll('.report-chart')];
  return charts.length > 0 && charts.every(c => c.dataset.interactive === 'true' && c.querySelector('svg'));
}"""
CHARTS_STATE = """() => [...document.querySelectorAll('.report-chart')].map(c => (c.closest('figure') || c).id + ': ' +
  (c.dataset.interactive === 'true' ? 'interactive' : 'static') + (c.querySelector('svg') ? ', svg' : ', no svg'))"""


def wait_for_charts(page: Page, timeout: float = 15_000) -> None:
    """Wait until the page's script has made every chart interactive (tooltips, keyboard, legend), the pointer moved first."""
    page.mouse.move(2, 2)
    try:
        page.wait_for_function(CHARTS_READY, timeout=timeout)
    except PlaywrightTimeoutError:
        raise AssertionError(f"{page.url}: charts not interactive within {timeout / 1000:g} s: {page.evaluate(CHARTS_STATE)}") from None
